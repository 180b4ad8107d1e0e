// Whole-server tests of what a hostile or careless client sends outside the
// ordinary command grammar (issue 20): over-long raw lines inside IDLE and
// AUTHENTICATE, long ID commands, a forced BYE to a client still sending.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

port::Handle login(World& w) {
    port::Handle c = w.connect();
    w.net.client_receive(c);
    w.say(c, "a LOGIN alice wonderland\r\n");
    return c;
}

}  // namespace

TEST_CASE("RFC 2177 §3: an over-long line instead of DONE ends IDLE with a tagged BAD",
          "[server][guard]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "i IDLE\r\n") == "+ idling\r\n");
    // Longer than max_line_length (8192), sent in pieces, with what would
    // be a literal announcement in a command line: none of it is a command.
    const std::string part(5000, 'x');
    CHECK(w.say(c, part) == "");
    CHECK(w.say(c, part) == "i BAD [TOOBIG] Line too long while waiting for DONE; IDLE ended\r\n");
    CHECK(w.say(c, part + " {5+}\r\n") == "");
    // The next line is a new command; IDLE is over.
    CHECK(w.say(c, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    CHECK(w.say(c, "j IDLE\r\n") == "+ idling\r\n");
    CHECK(w.say(c, "DONE\r\n") == "j OK IDLE terminated\r\n");
}

TEST_CASE("RFC 3501 §6.2.2: an over-long AUTHENTICATE response cancels with a tagged BAD",
          "[server][guard]") {
    World w;
    port::Handle c = w.connect();
    w.net.client_receive(c);
    CHECK(w.say(c, "a AUTHENTICATE PLAIN\r\n") == "+ \r\n");
    const std::string big(10000, 'A');
    CHECK(w.say(c, big + "\r\n") ==
          "a BAD [TOOBIG] Authentication response too long; authentication cancelled\r\n");
    CHECK(w.say(c, "b NOOP\r\n") == "b OK NOOP completed\r\n");
    // The exchange is over: a valid response now is not taken as one.
    CHECK(w.say(c, "c AUTHENTICATE PLAIN\r\n") == "+ \r\n");
    CHECK(w.say(c, "AGFsaWNlAHdvbmRlcmxhbmQ=\r\n").find("c OK [CAPABILITY") == 0);
}
