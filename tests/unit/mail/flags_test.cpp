// Tests for core/mail/flags and core/imap/flag_list: RFC 3501 §2.3.2 flags and §9 flag, flag-list,
// flag-keyword, flag-extension, flag-fetch, flag-perm, store-att-flags.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/imap/flag_list.h"
#include "core/imap/parser.h"
#include "core/mail/flags.h"

using namespace tinyimapd::imap;
using namespace tinyimapd::mail;

namespace {

// One command line run through the real parser.
struct Line {
    std::vector<char> arena = std::vector<char>(16384);
    std::vector<Arg> args = std::vector<Arg>(256);
    Parser parser{arena.data(), arena.size(), args.data(), args.size(), ParserLimits{}};

    explicit Line(const std::string& input) {
        std::size_t pos = 0;
        for (;;) {
            REQUIRE(pos < input.size());
            const Fed fed = parser.feed(reinterpret_cast<const std::uint8_t*>(input.data()) + pos,
                                        input.size() - pos);
            pos += fed.consumed;
            if (fed.event == ParseEvent::LiteralRequest) parser.accept_literal();
            REQUIRE(fed.event != ParseEvent::Error);
            if (fed.event == ParseEvent::Command) break;
        }
    }
    // A reader after the first `skip` arguments.
    ArgReader reader(std::size_t skip) const {
        ArgReader r(parser);
        for (std::size_t i = 0; i < skip; ++i) REQUIRE(r.skip());
        return r;
    }
};

std::string kind_of(std::string_view atom) {
    FlagKind kind = FlagKind::Keyword;
    std::uint8_t bit = 0xff;
    if (!classify_flag(atom, &kind, &bit)) return "invalid";
    switch (kind) {
        case FlagKind::System: return "system " + std::to_string(bit);
        case FlagKind::Recent: return "recent " + std::to_string(bit);
        case FlagKind::Keyword: return bit == 0 ? "keyword" : "keyword with bit";
        case FlagKind::Extension: return bit == 0 ? "extension" : "extension with bit";
    }
    return "?";
}

// STORE's flags: the line's arguments after "<set> <item>"; renders the
// result as "bits [kw kw]" or "ERR <reason>" (reader restored on failure).
std::string store_flags(const std::string& flags, bool allow_recent = false,
                        bool allow_bare = true) {
    Line line("A1 STORE 1 FLAGS " + flags + "\r\n");
    ArgReader r = line.reader(2);
    const std::size_t before = r.remaining();
    FlagList list;
    if (!parse_flag_list(r, allow_recent, allow_bare, &list)) {
        CHECK(r.remaining() == before);
        for (const char* p = r.error(); *p != 0; ++p) {
            CHECK(static_cast<unsigned char>(*p) >= 0x20);  // RFC 3501 §9 TEXT-CHAR
            CHECK(static_cast<unsigned char>(*p) <= 0x7e);
        }
        return std::string("ERR ") + r.error();
    }
    CHECK(r.at_end());
    std::string out = std::to_string(list.system) + " [";
    for (std::size_t i = 0; i < list.keyword_count; ++i) {
        if (i) out += ' ';
        out += std::string(list.keywords[i]);
    }
    return out + "]";
}

}  // namespace

TEST_CASE("RFC 3501 §2.3.2 system flags: case-insensitive, one bit each", "[flags]") {
    CHECK(kind_of("\\Answered") == "system 1");
    CHECK(kind_of("\\Flagged") == "system 2");
    CHECK(kind_of("\\Deleted") == "system 4");
    CHECK(kind_of("\\Seen") == "system 8");
    CHECK(kind_of("\\Draft") == "system 16");
    CHECK(kind_of("\\SEEN") == "system 8");
    CHECK(kind_of("\\seen") == "system 8");
    CHECK(kind_of("\\dRaFt") == "system 16");
}

TEST_CASE("RFC 3501 §9 flag-fetch: \\Recent is recognised", "[flags]") {
    CHECK(kind_of("\\Recent") == "recent 32");
    CHECK(kind_of("\\RECENT") == "recent 32");
}

TEST_CASE("RFC 3501 §9 flag-keyword = atom", "[flags]") {
    CHECK(kind_of("$Forwarded") == "keyword");
    CHECK(kind_of("$MDNSent") == "keyword");
    CHECK(kind_of("NonJunk") == "keyword");
    CHECK(kind_of("a") == "keyword");
    CHECK(kind_of("Seen") == "keyword");  // no backslash: a keyword, not \Seen
    CHECK(kind_of("x[y") == "keyword");   // "[" is an ATOM-CHAR
    // The lexer's atom lets these through; an atom does not.
    CHECK(kind_of("") == "invalid");
    CHECK(kind_of("a%b") == "invalid");
    CHECK(kind_of("a*") == "invalid");
    CHECK(kind_of("x]") == "invalid");
    CHECK(kind_of("a\\b") == "invalid");
    CHECK(kind_of("a b") == "invalid");
    CHECK(kind_of("a\"b") == "invalid");
    CHECK(kind_of("caf\xc3\xa9") == "invalid");
}

TEST_CASE("RFC 3501 §9 flag-extension = \"\\\" atom; flag-perm \"\\*\" is not a flag", "[flags]") {
    CHECK(kind_of("\\Foo") == "extension");
    CHECK(kind_of("\\Answered2") == "extension");
    CHECK(kind_of("\\") == "invalid");
    CHECK(kind_of("\\*") == "invalid");
    CHECK(kind_of("\\\\Seen") == "invalid");
    CHECK(kind_of("\\Se%en") == "invalid");
    CHECK(kind_of("\\Seen]") == "invalid");
}

TEST_CASE("RFC 3501 §9 flag-list: \"(\" [flag *(SP flag)] \")\"", "[flags]") {
    CHECK(store_flags("(\\Deleted)") == "4 []");  // RFC 3501 §6.4.6 example
    CHECK(store_flags("()") == "0 []");
    CHECK(store_flags("(\\Seen \\Answered \\Flagged \\Deleted \\Draft)") == "31 []");
    CHECK(store_flags("(\\Seen $Forwarded NonJunk)") == "8 [$Forwarded NonJunk]");
    CHECK(store_flags("(\\seen \\SEEN)") == "8 []");
}

TEST_CASE("Flag lists keep each keyword once, compared case-insensitively", "[flags]") {
    CHECK(store_flags("($Junk $junk $JUNK $NotJunk)") == "0 [$Junk $NotJunk]");
}

TEST_CASE("RFC 3501 §9 store-att-flags: flag *(SP flag) without parentheses", "[flags]") {
    CHECK(store_flags("\\Deleted") == "4 []");
    CHECK(store_flags("\\Seen $Label1 \\Flagged") == "10 [$Label1]");
    // APPEND takes only the parenthesised flag-list.
    CHECK(store_flags("\\Deleted", false, false) == "ERR Flag list expected");
}

TEST_CASE("RFC 3501 §2.3.2: \\Recent cannot be set by the client", "[flags]") {
    CHECK(store_flags("(\\Recent)") == "ERR \\Recent cannot be set by the client");
    CHECK(store_flags("\\recent") == "ERR \\Recent cannot be set by the client");
    CHECK(store_flags("(\\Recent \\Seen)", true) == "40 []");
}

TEST_CASE("Flag lists refuse flag-extensions like Dovecot", "[flags]") {
    CHECK(store_flags("(\\Foo)") ==
          "ERR Unknown system flag: only \\Answered \\Flagged \\Deleted \\Seen \\Draft and "
          "keywords may be set");
    CHECK(store_flags("\\Seen \\Important") ==
          "ERR Unknown system flag: only \\Answered \\Flagged \\Deleted \\Seen \\Draft and "
          "keywords may be set");
}

TEST_CASE("RFC 3501 §9 flag-list: invalid flags and elements", "[flags]") {
    CHECK(store_flags("(\\*)") == "ERR Invalid flag");
    CHECK(store_flags("(\\)") == "ERR Invalid flag");
    CHECK(store_flags("(a%b)") == "ERR Invalid flag");
    CHECK(store_flags("(x])") == "ERR Invalid flag");
    CHECK(store_flags("(\"$Junk\")") == "ERR Flags must be atoms");
    CHECK(store_flags("({5}\r\n$Junk)") == "ERR Flags must be atoms");
    CHECK(store_flags("((\\Seen))") == "ERR Flags must be atoms");
    CHECK(store_flags("\\Seen (\\Deleted)") == "ERR Flags must be atoms");
    CHECK(store_flags("\"\\\\Seen\"") == "ERR Flags must be atoms");
}

TEST_CASE("Flag lists: nothing there", "[flags]") {
    Line line("A1 STORE 1 FLAGS\r\n");
    ArgReader r = line.reader(2);
    FlagList list;
    CHECK_FALSE(parse_flag_list(r, false, true, &list));
    CHECK(std::string(r.error()) == "Flag or flag list expected");
    ArgReader r2 = line.reader(2);
    CHECK_FALSE(parse_flag_list(r2, false, false, &list));
    CHECK(std::string(r2.error()) == "Flag list expected");
}

TEST_CASE("Flag lists: kMaxKeywordsInList distinct keywords", "[flags]") {
    std::string flags = "(\\Seen";
    for (std::size_t i = 0; i < kMaxKeywordsInList; ++i) flags += " k" + std::to_string(i);
    CHECK(store_flags(flags + ")").rfind("8 [k0 k1 ", 0) == 0);
    CHECK(store_flags(flags + " k0 K1)").rfind("8 [k0 k1 ", 0) == 0);  // repeats are free
    CHECK(store_flags(flags + " one-more)") == "ERR Too many keywords in flag list");
}

TEST_CASE("Flag lists: a keyword longer than the store keeps is refused by name", "[flags]") {
    // docs/STORAGE.md: keyword names of at most 59 bytes (store::kMaxKeywordLength).
    CHECK(store_flags("(" + std::string(59, 'k') + ")") == "0 [" + std::string(59, 'k') + "]");
    CHECK(store_flags("(" + std::string(60, 'k') + ")") ==
          "ERR Keyword too long: at most 59 bytes");
    CHECK(store_flags("(\\Seen " + std::string(300, 'k') + ")") ==
          "ERR Keyword too long: at most 59 bytes");
}

TEST_CASE("Flag lists: a failed read leaves the reader where it was", "[flags]") {
    Line line("A1 APPEND INBOX (\\Bogus) {3}\r\nabc\r\n");
    ArgReader r = line.reader(1);
    FlagList list;
    CHECK_FALSE(parse_flag_list(r, false, false, &list));
    CHECK(r.remaining() == 2);
    ArgType t = ArgType::Atom;
    REQUIRE(r.peek_type(&t));
    CHECK(t == ArgType::List);
}

TEST_CASE("RFC 3501 §6.3.11 APPEND: the flag list comes before the message", "[flags]") {
    Line line("A003 APPEND saved-messages (\\Seen $MDNSent) {3}\r\nabc\r\n");
    ArgReader r = line.reader(1);
    FlagList list;
    REQUIRE(parse_flag_list(r, false, false, &list));
    CHECK(list.system == kSeen);
    REQUIRE(list.keyword_count == 1);
    CHECK(list.keywords[0] == "$MDNSent");
    std::string_view msg;
    CHECK(r.string(&msg));
    CHECK(msg == "abc");
}
