// Issue 13's idle memory: the block is reserved at startup but a slot (its
// Session and buffers) and an open-mailbox entry are constructed the first
// time they are needed (docs/DESIGN.md "Memory reserved, touched on use").
// A slot a client left is reused exactly as before.
#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

std::size_t written_bytes(const World& w) {
    std::size_t n = 0;
    for (std::uint8_t b : w.block) n += b != 0 ? 1 : 0;
    return n;
}

}  // namespace

TEST_CASE("An idle server writes less of its block than one connection's slot needs",
          "[server][pools][memory]") {
    // The World's block starts as zeros (as the posix mmap gives it): a byte
    // not zero was written by the server.
    World w(8, true, false, [](Config& c) { c.open_mailboxes = 8; });
    const std::size_t at_start = written_bytes(w);
    port::Handle a = login(w);
    CHECK(has(w.say(a, "s SELECT INBOX\r\n"), "s OK [READ-WRITE]"));
    const std::size_t one_client = written_bytes(w) - at_start;
    // Were the 8 slots and 8 mailbox entries constructed at start, the
    // idle server would have written 8 times what one client adds.
    CHECK(one_client > 0);
    CHECK(at_start < one_client);
    for (int i = 0; i < 7; ++i) {
        port::Handle c = login(w);
        CHECK(has(w.say(c, "s SELECT INBOX\r\n"), "s OK [READ-WRITE]"));
    }
    CHECK(written_bytes(w) > at_start + 2 * one_client);
}

TEST_CASE(
    "Slots come into use one by one up to max_clients; one more is refused, a freed slot "
    "serves the next client as new",
    "[server][pools][memory]") {
    World w(3, true, false, [](Config& c) { c.open_mailboxes = 3; });
    port::Handle a = login(w);
    port::Handle b = login(w);
    port::Handle c = login(w);
    CHECK(has(w.say(a, "s SELECT INBOX\r\n"), "s OK"));
    CHECK(has(w.say(b, "s EXAMINE INBOX\r\n"), "s OK [READ-ONLY]"));
    CHECK(has(w.say(c, "s SELECT INBOX\r\n"), "s OK"));
    // RFC 3501 §7.1.5: a fourth connection is told why it is closed.
    port::Handle d = w.connect();
    CHECK(w.net.client_receive(d) == "* BYE Too many connections, try again later\r\n");
    CHECK(w.net.client_closed_by_server(d));
    CHECK(w.server->connection_count() == 3);
    // b leaves (with a mailbox selected); its slot serves e from the start:
    // the greeting, not authenticated (RFC 3501 §3.1), nothing selected.
    CHECK(has(w.say(b, "l LOGOUT\r\n"), "l OK"));
    w.net.client_close(b);
    w.run();
    port::Handle e = w.connect();
    CHECK(w.net.client_receive(e) == kGreeting);
    CHECK(has(w.say(e, "f FETCH 1 FLAGS\r\n"), "f BAD"));
    CHECK(has(w.say(e, "x LOGIN alice wonderland\r\n"), "x OK"));
    CHECK(has(w.say(e, "g FETCH 1 FLAGS\r\n"), "g BAD"));  // authenticated, nothing selected
    CHECK(has(w.say(e, "s SELECT INBOX\r\n"), "s OK [READ-WRITE]"));
    CHECK(w.server->connection_count() == 3);
}
