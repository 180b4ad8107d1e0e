// Whole-server SAVEDATE (RFC 8514) on the simulated platform. Every record
// of an index of version 2 keeps the time its message was saved into its
// mailbox (APPEND, COPY, MOVE): FETCH SAVEDATE returns it (§4.2),
// SAVEDATESUPPORTED matches every message and SAVEDBEFORE/SAVEDON/SAVEDSINCE
// use it (§4.3). A message saved before the index had save dates (upgraded
// from version 1, docs/STORAGE.md) answers NIL and is searched by its
// internal date, as §4.2 and §4.3 say for storage without save dates.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"
#include "tests/unit/store/index_v1.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

constexpr const char* kInboxIndex = "mail/alice/^i^n^b^o^x/m.index";

// The simulated clock starts at 14-Nov-2023 22:13:20 UTC.
constexpr const char* kSavedFirst = "14-Nov-2023 22:13:20 +0000";

void append_dated(World& w, port::Handle c, const char* mailbox, const char* date) {
    const std::string msg = "Subject: s\r\n\r\nb\r\n";
    const std::string r = w.say(c, std::string("p APPEND ") + mailbox + " \"" + date + "\" {" +
                                       std::to_string(msg.size()) + "+}\r\n" + msg + "\r\n");
    REQUIRE(r.find("p OK") != std::string::npos);
}

// Moves the clock past midnight in steps a session does not time out in.
void next_day(World& w, port::Handle c) {
    for (int i = 0; i < 12; ++i) {
        w.clock.advance(10 * 60 * 1000);
        REQUIRE(w.say(c, "n NOOP\r\n").find("n OK") != std::string::npos);
    }
}

// Messages 1..4 saved on 14 Nov 2023 (internal dates in Dec 2014), then
// 5 and 6 (copies of 3 and 4) on 15 Nov 2023.
port::Handle with_saves(World& w) {
    port::Handle c = login(w);
    for (const char* d : {"27-Dec-2014 23:59:59 +0000", "28-Dec-2014 00:00:00 +0000",
                          "28-Dec-2014 18:50:53 +0100", "29-Dec-2014 08:00:00 -0800"})
        append_dated(w, c, "INBOX", d);
    REQUIRE(w.say(c, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    next_day(w, c);
    std::string r = w.say(c, "k COPY 3:4 INBOX\r\n");
    REQUIRE(r.find("k OK") != std::string::npos);
    r += w.say(c, "n NOOP\r\n");
    REQUIRE(r.find("* 6 EXISTS") != std::string::npos);
    return c;
}

}  // namespace

TEST_CASE("RFC 8514 §4.1: SAVEDATE is advertised", "[server][savedate]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "c CAPABILITY\r\n").find(" SAVEDATE ") != std::string::npos);
}

TEST_CASE("RFC 8514 §4.2: FETCH SAVEDATE is when the message was saved into the mailbox",
          "[server][savedate]") {
    World w;
    port::Handle c = with_saves(w);
    CHECK(w.say(c, "A101 FETCH 3 (SAVEDATE)\r\n") == std::string("* 3 FETCH (SAVEDATE \"") +
                                                         kSavedFirst +
                                                         "\")\r\nA101 OK FETCH completed\r\n");
    // The copy was saved the next day; its internal date is the original's.
    CHECK(w.say(c, "A102 UID FETCH 5 (SAVEDATE INTERNALDATE)\r\n") ==
          "* 5 FETCH (UID 5 SAVEDATE \"15-Nov-2023 00:13:20 +0000\" INTERNALDATE "
          "\"28-Dec-2014 18:50:53 +0100\")\r\n"
          "A102 OK FETCH completed\r\n");
}

TEST_CASE(
    "RFC 8514 §4.3: SAVEDBEFORE SAVEDON SAVEDSINCE use the save date, "
    "SAVEDATESUPPORTED matches every message",
    "[server][savedate]") {
    World w;
    port::Handle c = with_saves(w);
    CHECK(w.say(c, "A102 SEARCH SAVEDON 14-Nov-2023\r\n") ==
          "* SEARCH 1 2 3 4\r\nA102 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A103 SEARCH SAVEDSINCE 15-Nov-2023\r\n") ==
          "* SEARCH 5 6\r\nA103 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A104 SEARCH SAVEDBEFORE 15-Nov-2023\r\n") ==
          "* SEARCH 1 2 3 4\r\nA104 OK SEARCH completed\r\n");
    // Not the internal date: nothing was saved in 2014.
    CHECK(w.say(c, "A105 SEARCH SAVEDON 28-Dec-2014\r\n") ==
          "* SEARCH\r\nA105 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A106 SEARCH SAVEDATESUPPORTED\r\n") ==
          "* SEARCH 1 2 3 4 5 6\r\nA106 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A107 SEARCH NOT SAVEDATESUPPORTED\r\n") ==
          "* SEARCH\r\nA107 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A108 SEARCH SAVEDON 31-Feb-2014\r\n").find("A108 BAD") == 0);
}

TEST_CASE(
    "RFC 8514 §4.2, §4.3: a message saved before the index kept save dates is NIL and "
    "searched by its internal date",
    "[server][savedate][upgrade]") {
    World w;
    port::Handle c = login(w);
    append_dated(w, c, "INBOX", "27-Dec-2014 23:59:59 +0000");
    append_dated(w, c, "INBOX", "28-Dec-2014 00:00:00 +0000");
    REQUIRE(w.say(c, "z LOGOUT\r\n").find("z OK") != std::string::npos);
    // An index an older tinyimapd wrote; SELECT upgrades it.
    downgrade_to_v1(w.fs, kInboxIndex);
    c = login(w);
    REQUIRE(w.say(c, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    append_dated(w, c, "INBOX", "28-Dec-2014 12:00:00 +0000");
    (void)w.say(c, "n NOOP\r\n");
    CHECK(w.say(c, "A101 FETCH 1:* (SAVEDATE)\r\n") ==
          std::string("* 1 FETCH (SAVEDATE NIL)\r\n* 2 FETCH (SAVEDATE NIL)\r\n") +
              "* 3 FETCH (SAVEDATE \"" + kSavedFirst + "\")\r\nA101 OK FETCH completed\r\n");
    CHECK(w.say(c, "A102 SEARCH SAVEDON 28-Dec-2014\r\n") ==
          "* SEARCH 2\r\nA102 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A103 SEARCH SAVEDSINCE 14-Nov-2023\r\n") ==
          "* SEARCH 3\r\nA103 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A104 SEARCH SAVEDATESUPPORTED\r\n") ==
          "* SEARCH 1 2 3\r\nA104 OK SEARCH completed\r\n");
}
