// Whole-server SAVEDATE (RFC 8514) on the simulated platform. The store's
// index records keep no save date (docs/STATUS.md), so this server is the
// RFC's "underlying storage does not support the save date attribute":
// FETCH SAVEDATE is NIL (§4.2), SAVEDATESUPPORTED matches nothing and
// SAVEDBEFORE/SAVEDON/SAVEDSINCE use the internal date (§4.3).
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

port::Handle with_dates(World& w) {
    port::Handle c = login(w);
    // RFC 8514 §4.3's example: 993..1001 in the RFC; here 1..4, saved on
    // 27, 28, 28 and 29 Dec 2014 (the internal dates stand in).
    const char* dates[] = {"27-Dec-2014 23:59:59 +0000", "28-Dec-2014 00:00:00 +0000",
                           "28-Dec-2014 18:50:53 +0100", "29-Dec-2014 08:00:00 -0800"};
    for (const char* d : dates) {
        const std::string msg = "Subject: s\r\n\r\nb\r\n";
        const std::string r = w.say(c, std::string("p APPEND INBOX \"") + d + "\" {" +
                                           std::to_string(msg.size()) + "+}\r\n" + msg + "\r\n");
        REQUIRE(r.find("p OK") != std::string::npos);
    }
    REQUIRE(w.say(c, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    return c;
}

}  // namespace

TEST_CASE("RFC 8514 §4.1: SAVEDATE is advertised", "[server][savedate]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "c CAPABILITY\r\n").find(" SAVEDATE ") != std::string::npos);
}

TEST_CASE("RFC 8514 §4.2: FETCH SAVEDATE is NIL where the store keeps no save date",
          "[server][savedate]") {
    World w;
    port::Handle c = with_dates(w);
    CHECK(w.say(c, "A101 FETCH 3 (SAVEDATE)\r\n") ==
          "* 3 FETCH (SAVEDATE NIL)\r\nA101 OK FETCH completed\r\n");
    CHECK(w.say(c, "A102 UID FETCH 1:2 (SAVEDATE INTERNALDATE)\r\n") ==
          "* 1 FETCH (UID 1 SAVEDATE NIL INTERNALDATE \"27-Dec-2014 23:59:59 +0000\")\r\n"
          "* 2 FETCH (UID 2 SAVEDATE NIL INTERNALDATE \"28-Dec-2014 00:00:00 +0000\")\r\n"
          "A102 OK FETCH completed\r\n");
}

TEST_CASE(
    "RFC 8514 §4.3: SAVED* keys fall back on the internal date, SAVEDATESUPPORTED matches "
    "nothing",
    "[server][savedate]") {
    World w;
    port::Handle c = with_dates(w);
    CHECK(w.say(c, "A102 SEARCH SAVEDON 28-Dec-2014\r\n") ==
          "* SEARCH 2 3\r\nA102 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A103 SEARCH SAVEDSINCE 28-Dec-2014\r\n") ==
          "* SEARCH 2 3 4\r\nA103 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A104 SEARCH SAVEDBEFORE 28-Dec-2014\r\n") ==
          "* SEARCH 1\r\nA104 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A105 SEARCH SAVEDATESUPPORTED\r\n") ==
          "* SEARCH\r\nA105 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A106 SEARCH NOT SAVEDATESUPPORTED\r\n") ==
          "* SEARCH 1 2 3 4\r\nA106 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A107 SEARCH SAVEDON 31-Feb-2014\r\n").find("A107 BAD") == 0);
}
