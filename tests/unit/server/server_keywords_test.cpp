// Keywords on the simulated server: long flag lists go out whole (every
// line a client receives is checked by World's framing check), new keywords
// are announced with FLAGS and PERMANENTFLAGS before a FETCH names them
// (RFC 3501 §7.2.6, §7.1), and the per-mailbox limit (store::kMaxKeywords,
// docs/STORAGE.md) is answered NO [LIMIT] (RFC 5530 §3) with nothing stored.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/store/format.h"
#include "tests/fuzz/keywords_conversation.h"
#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

const std::string kSystem = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

// `count` distinct keywords of exactly `length` bytes, from number `first`.
std::string keywords(int first, int count, std::size_t length) {
    std::string out;
    for (int i = first; i < first + count; ++i) {
        std::string k = "$K" + std::to_string(i) + "_";
        k.append(length - k.size(), 'x');
        out += (out.empty() ? "" : " ") + k;
    }
    return out;
}

std::size_t count_of(const std::string& all, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = all.find(what); at != std::string::npos; at = all.find(what, at + 1)) {
        ++n;
    }
    return n;
}

}  // namespace

TEST_CASE("RFC 3501 §7.2.6, §6.4.6: 60 keywords of 45 bytes reach two sessions whole, after FLAGS",
          "[server][keywords]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    w.say(a, "p APPEND INBOX {1+}\r\nx\r\n");
    w.say(a, "s SELECT INBOX\r\n");
    w.say(b, "s SELECT INBOX\r\n");
    const std::string kws = keywords(0, 60, 45);
    const std::string list = "(" + kSystem + " " + kws + ")";
    const std::string flags_line = "* FLAGS " + list + "\r\n";
    const std::string permanent =
        "* OK [PERMANENTFLAGS (" + kSystem + " " + kws + " \\*)] Flags permitted\r\n";
    // The session that made them: FLAGS and PERMANENTFLAGS, then the answer.
    std::string got = w.say_until_tagged(a, "t STORE 1 +FLAGS (" + kws + ")\r\n", "t");
    CHECK(got == flags_line + permanent + "* 1 FETCH (FLAGS (\\Recent " + kws +
                     "))\r\nt OK STORE completed\r\n");
    // The other one learns of them in its change report, in that order.
    got = w.say_until_tagged(b, "n NOOP\r\n", "n");
    CHECK(got == flags_line + permanent + "* 1 FETCH (UID 1 FLAGS (" + kws +
                     "))\r\nn OK NOOP completed\r\n");
    // FETCH and SELECT again: the lists are whole, the counts right.
    got = w.say_until_tagged(b, "f FETCH 1 (FLAGS UID)\r\n", "f");
    CHECK(got == "* 1 FETCH (FLAGS (" + kws + ") UID 1)\r\nf OK FETCH completed\r\n");
    got = w.say_until_tagged(b, "s SELECT INBOX\r\n", "s");
    CHECK(got.find("* OK [CLOSED] Previous mailbox closed\r\n" + flags_line + permanent +
                   "* 1 EXISTS\r\n* 0 RECENT\r\n") == 0);
    CHECK(got.find("s OK [READ-WRITE] SELECT completed\r\n") != std::string::npos);
    // A STORE that adds nothing new announces nothing.
    got = w.say_until_tagged(a, "u STORE 1 -FLAGS ($K0_" + std::string(41, 'x') + ")\r\n", "u");
    CHECK(count_of(got, "* FLAGS") == 0);
    CHECK(got.find("u OK STORE completed\r\n") != std::string::npos);
}

TEST_CASE("RFC 3501 §7.4.2: 64 keywords of 59 bytes fit the smallest output buffer",
          "[server][keywords]") {
    World w(4, true, false, [](Config& cfg) { cfg.output_buffer = kMinOutputBuffer; });
    port::Handle a = login(w);
    port::Handle b = login(w);
    for (int i = 0; i < 3; ++i) w.say(a, "p APPEND INBOX {1+}\r\nx\r\n");
    w.say(a, "s SELECT INBOX\r\n");
    w.say(b, "s CONDSTORE\r\ns SELECT INBOX (CONDSTORE)\r\n");
    const std::string kws =
        keywords(0, static_cast<int>(store::kMaxKeywords), store::kMaxKeywordLength);
    std::string got = w.say_until_tagged(a, "t STORE 1:3 FLAGS (\\Seen " + kws + ")\r\n", "t");
    CHECK(count_of(got, "* FLAGS (" + kSystem + " " + kws + ")\r\n") == 1);
    // §7.1: no "\*" once no new keyword can be created.
    CHECK(count_of(got, "* OK [PERMANENTFLAGS (" + kSystem + " " + kws +
                            ")] No more keywords in this mailbox\r\n") == 1);
    CHECK(count_of(got, " FETCH (FLAGS (\\Seen \\Recent " + kws + "))\r\n") +
              count_of(got, " FETCH (FLAGS (\\Seen " + kws + "))\r\n") ==
          3);
    CHECK(got.find("t OK STORE completed\r\n") != std::string::npos);
    got = w.say_until_tagged(b, "n NOOP\r\n", "n");
    CHECK(count_of(got, " FETCH (UID ") == 3);
    CHECK(got.find("n OK NOOP completed\r\n") != std::string::npos);
    got = w.say_until_tagged(b, "s SELECT INBOX\r\n", "s");
    CHECK(got.find("* 3 EXISTS\r\n") != std::string::npos);
    CHECK(got.find(")] No more keywords in this mailbox\r\n") != std::string::npos);
    CHECK(got.find("s OK [READ-WRITE] SELECT completed\r\n") != std::string::npos);
}

TEST_CASE("RFC 5530 §3 LIMIT: a keyword past the mailbox's limit is refused, nothing stored",
          "[server][keywords]") {
    World w;
    port::Handle a = login(w);
    w.say(a, "p APPEND INBOX {1+}\r\nx\r\n");
    w.say(a, "c CREATE Other\r\n");
    w.say(a, "p APPEND Other (new1) {1+}\r\ny\r\n");
    w.say(a, "s SELECT INBOX\r\n");
    const int max = static_cast<int>(store::kMaxKeywords);
    std::string got =
        w.say_until_tagged(a, "t STORE 1 +FLAGS (" + keywords(0, max - 1, 8) + ")\r\n", "t");
    CHECK(got.find("Flags permitted") != std::string::npos);  // one left: "\*" still offered
    CHECK(got.find("t OK STORE completed\r\n") != std::string::npos);
    // Two new ones where one fits: neither is stored.
    CHECK(w.say(a, "u STORE 1 +FLAGS (\\Flagged extra1 extra2)\r\n") ==
          "u NO [LIMIT] Too many keywords in this mailbox\r\n");
    CHECK(w.say(a, "f FETCH 1 FLAGS\r\n").find("FLAGS (\\Recent $K0_") != std::string::npos);
    // The last one fits; then PERMANENTFLAGS withdraws "\*".
    got = w.say(a, "v STORE 1 +FLAGS (last)\r\n");
    CHECK(got.find(")] No more keywords in this mailbox\r\n") != std::string::npos);
    CHECK(got.find("v OK STORE completed\r\n") != std::string::npos);
    CHECK(w.say(a, "x STORE 1 +FLAGS (one-more)\r\n") ==
          "x NO [LIMIT] Too many keywords in this mailbox\r\n");
    // Known keywords (any case) still work.
    CHECK(w.say(a, "y STORE 1 -FLAGS.SILENT (LAST)\r\n") == "y OK STORE completed\r\n");
    // APPEND: refused whole, never a keyword silently dropped (§6.3.11).
    CHECK(w.say(a, "q APPEND INBOX (new) {1+}\r\nz\r\n") ==
          "q NO [LIMIT] Too many keywords in this mailbox\r\n");
    CHECK(w.say(a, "r STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 1)\r\nr OK STATUS completed\r\n");
    CHECK(w.say(a, "q APPEND INBOX (last) {1+}\r\nz\r\n").find("q OK [APPENDUID") !=
          std::string::npos);
    // COPY of a message whose keyword the full mailbox lacks (RFC 3501 §6.4.7:
    // nothing copied).
    w.say(a, "s SELECT Other\r\n");
    CHECK(w.say(a, "k COPY 1 INBOX\r\n") == "k NO [LIMIT] Too many keywords in this mailbox\r\n");
    w.say(a, "s SELECT INBOX\r\n");
    CHECK(w.say(a, "n NOOP\r\n").find("EXISTS") == std::string::npos);
}

TEST_CASE("RFC 3501 §6.4.6, §6.3.11: an over-long keyword gets a keyword-specific BAD",
          "[server][keywords]") {
    World w;
    port::Handle a = login(w);
    w.say(a, "p APPEND INBOX {1+}\r\nx\r\n");
    w.say(a, "s SELECT INBOX\r\n");
    const std::string longest(store::kMaxKeywordLength, 'k');
    CHECK(w.say(a, "t STORE 1 +FLAGS.SILENT (" + longest + ")\r\n") == "t OK STORE completed\r\n");
    CHECK(w.say(a, "u STORE 1 +FLAGS (" + longest + "k)\r\n") ==
          "u BAD Keyword too long: at most 59 bytes\r\n");
    CHECK(w.say(a, "v STORE 1 +FLAGS (" + std::string(300, 'k') + ")\r\n") ==
          "v BAD Keyword too long: at most 59 bytes\r\n");
    CHECK(w.say(a, "q APPEND INBOX (" + std::string(300, 'k') + ") {1+}\r\nz\r\n") ==
          "q BAD Keyword too long: at most 59 bytes\r\n");
}

TEST_CASE("RFC 3501 §6.4.5: a HEADER.FIELDS list too long to echo is refused, not cut",
          "[server][keywords]") {
    World w;
    port::Handle a = login(w);
    w.say(a, "p APPEND INBOX {19+}\r\nFrom: a@b\r\n\r\nbody\r\n\r\n");
    w.say(a, "s SELECT INBOX\r\n");
    std::string fields;
    for (int i = 0; i < 60; ++i) fields += " X-Field-" + std::to_string(i);
    CHECK(w.say(a, "f FETCH 1 BODY.PEEK[HEADER.FIELDS (From" + fields + ")]\r\n") ==
          "f NO [LIMIT] FETCH item name too long (a shorter header field list?)\r\n");
    CHECK(w.say(a, "g FETCH 1 BODY.PEEK[HEADER.FIELDS (From)]\r\n") ==
          "* 1 FETCH (BODY[HEADER.FIELDS (From)] {13}\r\nFrom: a@b\r\n\r\n)\r\ng OK FETCH "
          "completed\r\n");
}

TEST_CASE("RFC 3501 §7.1.5: a shutdown during a FETCH answer puts no BYE inside it; the job stops",
          "[server][keywords]") {
    World w;
    port::Handle a = login(w);
    std::string appends;
    for (int i = 0; i < 400; ++i) appends += "p APPEND INBOX (\\Seen) {1+}\r\nx\r\n";
    w.say(a, appends);
    w.say(a, "s SELECT INBOX\r\n");
    // A slow reader: the FETCH answer stays open in the output buffer.
    w.net.faults(a).send_buffer = 100;
    w.net.client_send(a, "f FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE)\r\n");
    w.run();
    std::string got = w.net.client_receive(a);
    w.run();
    got += w.net.client_receive(a);
    w.server->begin_shutdown("Server shutting down");
    w.net.faults(a).send_buffer = 0;
    for (int i = 0; i < 20; ++i) {
        w.run();
        got += w.net.client_receive(a);
    }
    // World's framing check has seen every byte; a BYE, if any, is a line of
    // its own (Session::shutdown closes mid-message without one).
    const std::size_t bye = got.find("* BYE");
    CHECK((bye == std::string::npos || got.compare(bye - 2, 2, "\r\n") == 0));
    CHECK(got.find("f OK") == std::string::npos);
    CHECK(got.find("* 1 FETCH (UID 1 ") == 0);
}

TEST_CASE("RFC 3501 §5.4: autologout during a BODY[] literal closes without a BYE inside it",
          "[server][keywords]") {
    World w;
    port::Handle a = login(w);
    const std::string big(200000, 'x');
    CHECK(w.say_until_tagged(
               a, "p APPEND INBOX {" + std::to_string(big.size()) + "+}\r\n" + big + "\r\n", "p")
              .find("p OK") != std::string::npos);
    w.say_until_tagged(a, "s SELECT INBOX\r\n", "s");
    w.net.faults(a).send_buffer = 1000;
    w.net.client_send(a, "f FETCH 1 BODY.PEEK[]\r\n");
    w.run();
    std::string got = w.net.client_receive(a);
    w.clock.advance(2 * 1800 * 1000);  // the client reads nothing for an hour
    for (int i = 0; i < 20; ++i) {
        w.run(4, 1000);
        got += w.net.client_receive(a);
    }
    CHECK(got.find("* 1 FETCH (BODY[] {200000}\r\n") == 0);
    CHECK(got.find("* BYE") == std::string::npos);  // it would be read as literal data
}

// The seeds of tests/fuzz/fuzz_keywords (two sessions, up to 64 keywords of
// 47 bytes, slow readers) on every target the unit tests run on.
TEST_CASE("The fuzz_keywords corpus replays with every byte well-framed", "[server][keywords]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(TINYIMAPD_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_keywords";
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::ifstream f(entry.path(), std::ios::binary);
        const std::string data((std::istreambuf_iterator<char>(f)),
                               std::istreambuf_iterator<char>());
        INFO(entry.path().filename().string());
        CHECK(fuzz::run_keywords_conversation(reinterpret_cast<const std::uint8_t*>(data.data()),
                                              data.size()));
        ++files;
    }
    CHECK(files >= 4);
}
