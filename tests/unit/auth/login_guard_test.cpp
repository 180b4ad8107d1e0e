// LoginGuard: growing delays per connection and per address, bounded table.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/auth/login_guard.h"
#include "tests/unit/server_world.h"

using tinyimapd::Config;
using tinyimapd::LoginGuard;
using tinyimapd::Status;
using tinyimapd::port::Handle;
using tinyimapd::test::World;

TEST_CASE("Failed logins: the delay doubles per failure of the address, up to a cap",
          "[login_guard]") {
    std::vector<LoginGuard::Entry> table(4);
    LoginGuard g(table.data(), table.size(), 1000, 8000, 60000);
    // A new connection per try: the address still counts.
    CHECK(g.failure("192.0.2.1", 1, 0) == 1000);
    CHECK(g.failure("192.0.2.1", 1, 10) == 2000);
    CHECK(g.failure("192.0.2.1", 1, 20) == 4000);
    CHECK(g.failure("192.0.2.1", 1, 30) == 8000);
    CHECK(g.failure("192.0.2.1", 1, 40) == 8000);
    CHECK(g.recent_failures("192.0.2.1", 50) == 5);
    // Another address is not slowed by the first.
    CHECK(g.failure("192.0.2.2", 1, 50) == 1000);
    // The connection's own count wins when it is higher.
    CHECK(g.failure("192.0.2.3", 3, 60) == 4000);
}

TEST_CASE("Failed logins are forgotten after a while, not after a success", "[login_guard]") {
    std::vector<LoginGuard::Entry> table(4);
    LoginGuard g(table.data(), table.size(), 1000, 30000, 60000);
    g.failure("a", 1, 0);
    g.failure("a", 1, 0);
    CHECK(g.recent_failures("a", 60000) == 2);
    CHECK(g.recent_failures("a", 60001) == 0);
    CHECK(g.failure("a", 1, 60001) == 1000);
}

TEST_CASE("login guard: an attacker's own successful logins do not reset the delay",
          "[login_guard][server][guard]") {
    // The whole server: the attacker logs in to their own account between
    // guesses at alice's password, from the same address.
    World w(4, true, false, [](Config& c) { c.max_login_attempts = 100; });
    w.fs.write_file("passwd",
                    "alice:{PLAIN}wonderland:1000:1000::/home/alice::\n"
                    "mallory:{PLAIN}mine:1000:1000::/home/mallory::\n");
    REQUIRE(w.server->load_passwd() == Status::Ok);
    Handle c = w.connect();
    w.net.client_receive(c);
    std::uint64_t delay = 2000;
    for (int i = 0; i < 4; ++i) {
        Handle m = w.connect();
        w.net.client_receive(m);
        CHECK(w.say(m, "m LOGIN mallory mine\r\n").find("m OK") == 0);
        // The guess is answered only after the grown delay.
        CHECK(w.say(c, "g LOGIN alice guess\r\n").empty());
        w.clock.advance(delay - 1);
        w.run();
        CHECK(w.net.client_receive(c).empty());
        w.clock.advance(1);
        w.run();
        CHECK(w.net.client_receive(c) == "g NO [AUTHENTICATIONFAILED] Authentication failed\r\n");
        delay *= 2;
        w.say(m, "x LOGOUT\r\n");
        w.net.client_close(m);
        w.run();
    }
}

TEST_CASE("login guard: IPv6 addresses count by their /64", "[login_guard]") {
    char buffer[tinyimapd::port::PeerAddress::kCapacity];
    CHECK(LoginGuard::key_of("2001:db8:1:2::1", buffer) == "2001:db8:1:2::/64");
    CHECK(LoginGuard::key_of("2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd", buffer) ==
          "2001:db8:1:2::/64");
    CHECK(LoginGuard::key_of("2001:db8::1", buffer) == "2001:db8:0:0::/64");
    CHECK(LoginGuard::key_of("::1", buffer) == "0:0:0:0::/64");
    CHECK(LoginGuard::key_of("64:ff9b::192.0.2.1", buffer) == "64:ff9b:0:0::/64");
    CHECK(LoginGuard::key_of("fe80::1%eth0", buffer) == "fe80:0:0:0::/64");
    CHECK(LoginGuard::key_of("192.0.2.1", buffer) == "192.0.2.1");
    CHECK(LoginGuard::key_of("1:2:3:4:5:6:7:8:9", buffer) == "1:2:3:4:5:6:7:8:9");  // as is

    std::vector<LoginGuard::Entry> table(4);
    LoginGuard g(table.data(), table.size(), 1000, 60000, 900000);
    CHECK(g.failure("2001:db8:1:2::1", 1, 0) == 1000);
    CHECK(g.failure("2001:db8:1:2::2", 1, 1) == 2000);
    CHECK(g.failure("2001:db8:1:2:ffff:ffff:ffff:ffff", 1, 2) == 4000);
    CHECK(g.recent_failures("2001:db8:1:2::99", 3) == 3);
    // The next /64 is another network.
    CHECK(g.failure("2001:db8:1:3::1", 1, 3) == 1000);
}

TEST_CASE("login guard: a full table evicts the entry with the fewest failures", "[login_guard]") {
    std::vector<LoginGuard::Entry> table(2);
    LoginGuard g(table.data(), table.size(), 100, 10000, 1000000);
    g.failure("a", 1, 1);
    g.failure("a", 1, 2);
    g.failure("a", 1, 3);
    g.failure("b", 1, 4);
    // Rotating addresses push each other out, never the persistent guesser.
    for (int i = 0; i < 50; ++i) g.failure("rotating" + std::to_string(i), 1, 5 + i);
    CHECK(g.recent_failures("a", 100) == 3);
    CHECK(g.failure("a", 1, 100) == 800);
    CHECK(g.recent_failures("b", 100) == 0);
    // Among equals, the least recent goes; a forgotten entry goes first.
    LoginGuard h(table.data(), table.size(), 100, 10000, 1000);
    h.failure("x", 1, 0);
    h.failure("x", 1, 0);
    h.failure("y", 1, 500);
    h.failure("z", 1, 1500);  // "x" is forgotten (1500 ms > 1000 ms ago)
    CHECK(h.recent_failures("x", 1500) == 0);
    CHECK(h.recent_failures("y", 1500) == 1);
    CHECK(h.recent_failures("z", 1500) == 1);
}
