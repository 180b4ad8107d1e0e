// Tests for core/imap/status_spec: RFC 3501 §6.3.10 STATUS and §9
// status-att; RFC 7162 HIGHESTMODSEQ; RFC 8438 SIZE; RFC 8474 MAILBOXID.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/imap/status_spec.h"

using namespace tinyimapd::imap;

namespace {

struct Result {
    bool ok = false;
    std::string why;
    std::string error_at;
    StatusAtts atts;

    std::string order() const {
        std::string out;
        for (std::size_t i = 0; i < atts.count; ++i) {
            if (!out.empty()) out += ' ';
            out += std::string(status_item_name(atts.order[i]));
        }
        return out;
    }
};

// Parses "a STATUS <mailbox> <list>" and reads the list as STATUS would.
Result status(const std::string& list_text) {
    std::vector<char> arena(4096);
    std::vector<Arg> args(64);
    Parser parser(arena.data(), arena.size(), args.data(), args.size(), ParserLimits{});
    const std::string line = "a STATUS INBOX " + list_text + "\r\n";
    bool done = false;
    std::size_t pos = 0;
    while (pos < line.size()) {
        const Fed fed = parser.feed(reinterpret_cast<const std::uint8_t*>(line.data()) + pos,
                                    line.size() - pos);
        pos += fed.consumed;
        REQUIRE(fed.event != ParseEvent::Error);
        if (fed.event == ParseEvent::LiteralRequest) (void)parser.accept_literal();
        if (fed.event == ParseEvent::Command) done = true;
    }
    REQUIRE(done);
    ArgReader r(parser);
    std::string_view mailbox;
    REQUIRE(r.astring(&mailbox));
    ArgReader list = r;
    REQUIRE(r.list(&list));
    Result out;
    const char* why = "";
    out.ok = parse_status_atts(list, &out.atts, &why);
    out.why = why;
    out.error_at = std::string(out.atts.error_at);
    if (!out.ok) CHECK(std::string(list.error()) == out.why);
    return out;
}

}  // namespace

TEST_CASE("RFC 3501 §6.3.10: STATUS items in the order requested", "[status]") {
    // The example of §6.3.10.
    Result r = status("(UIDNEXT MESSAGES)");
    REQUIRE(r.ok);
    CHECK(r.order() == "UIDNEXT MESSAGES");
    CHECK(r.atts.has(StatusItem::UidNext));
    CHECK(r.atts.has(StatusItem::Messages));
    CHECK_FALSE(r.atts.has(StatusItem::Unseen));
    CHECK(r.atts.mask == (status_bit(StatusItem::UidNext) | status_bit(StatusItem::Messages)));

    r = status("(messages recent uidnext uidvalidity unseen)");
    REQUIRE(r.ok);
    CHECK(r.order() == "MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN");
    CHECK(r.atts.count == 5);
}

TEST_CASE("RFC 7162 §3.1.7, RFC 8438 §3, RFC 8474 §4.3: extension items", "[status]") {
    // RFC 7162 §3.1.7 example.
    Result r = status("(UIDNEXT MESSAGES HIGHESTMODSEQ)");
    REQUIRE(r.ok);
    CHECK(r.order() == "UIDNEXT MESSAGES HIGHESTMODSEQ");
    CHECK(r.atts.has(StatusItem::HighestModSeq));
    // RFC 8438 §3 example.
    r = status("(MESSAGES SIZE UIDNEXT)");
    REQUIRE(r.ok);
    CHECK(r.order() == "MESSAGES SIZE UIDNEXT");
    r = status("(MailboxId)");
    REQUIRE(r.ok);
    CHECK(r.order() == "MAILBOXID");
}

TEST_CASE("RFC 3501 §6.3.10: every item once, repeats answered once", "[status]") {
    Result r = status(
        "(MAILBOXID SIZE HIGHESTMODSEQ UNSEEN UIDVALIDITY UIDNEXT RECENT MESSAGES DELETED "
        "deleted-storage APPENDLIMIT MESSAGES size Unseen MAILBOXID MESSAGES MESSAGES MESSAGES "
        "MESSAGES MESSAGES MESSAGES)");
    REQUIRE(r.ok);
    CHECK(r.atts.count == kStatusItemCount);
    CHECK(r.order() ==
          "MAILBOXID SIZE HIGHESTMODSEQ UNSEEN UIDVALIDITY UIDNEXT RECENT MESSAGES DELETED "
          "DELETED-STORAGE APPENDLIMIT");
    CHECK(r.atts.mask == 0x7ff);
    r = status("(UNSEEN UNSEEN)");
    REQUIRE(r.ok);
    CHECK(r.order() == "UNSEEN");
}

TEST_CASE("RFC 3501 §9 status-att: errors", "[status]") {
    // status-att *(SP status-att): at least one.
    CHECK(status("()").why == "Missing status attributes");
    CHECK(status("(MESSAGES FOO)").why == "Unknown status attribute");
    CHECK(status("(MESSAGES FOO)").error_at == "FOO");
    CHECK(status("(MESSAGE)").why == "Unknown status attribute");
    CHECK(status("(DELETED-MESSAGES)").why == "Unknown status attribute");
    CHECK(status("(\"MESSAGES\")").why == "Invalid status attribute");
    CHECK(status("(\"MESSAGES\")").error_at == "MESSAGES");
    CHECK(status("(MESSAGES (UNSEEN))").why == "Invalid status attribute");
    CHECK(status("({8}\r\nMESSAGES)").why == "Invalid status attribute");
    CHECK_FALSE(status("(1)").ok);
}

TEST_CASE("status_spec.h: item names", "[status]") {
    CHECK(status_item_name(StatusItem::Messages) == "MESSAGES");
    CHECK(status_item_name(StatusItem::Recent) == "RECENT");
    CHECK(status_item_name(StatusItem::UidNext) == "UIDNEXT");
    CHECK(status_item_name(StatusItem::UidValidity) == "UIDVALIDITY");
    CHECK(status_item_name(StatusItem::Unseen) == "UNSEEN");
    CHECK(status_item_name(StatusItem::HighestModSeq) == "HIGHESTMODSEQ");
    CHECK(status_item_name(StatusItem::Size) == "SIZE");
    CHECK(status_item_name(StatusItem::MailboxId) == "MAILBOXID");
}
