// LoginGuard: growing delays per connection and per address, bounded table.
#include <catch2/catch.hpp>

#include <vector>

#include "core/auth/login_guard.h"

using tinyimapd::LoginGuard;

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

TEST_CASE("Failed logins are forgotten after a while and after a success", "[login_guard]") {
    std::vector<LoginGuard::Entry> table(4);
    LoginGuard g(table.data(), table.size(), 1000, 30000, 60000);
    g.failure("a", 1, 0);
    g.failure("a", 1, 0);
    CHECK(g.recent_failures("a", 60000) == 2);
    CHECK(g.recent_failures("a", 60001) == 0);
    CHECK(g.failure("a", 1, 60001) == 1000);
    g.success("a");
    CHECK(g.recent_failures("a", 60002) == 0);
}

TEST_CASE("The address table is bounded: the oldest entry makes room", "[login_guard]") {
    std::vector<LoginGuard::Entry> table(2);
    LoginGuard g(table.data(), table.size(), 100, 10000, 1000000);
    g.failure("a", 1, 1);
    g.failure("a", 1, 2);
    g.failure("b", 1, 3);
    g.failure("c", 1, 4);  // evicts "a", the least recent
    CHECK(g.recent_failures("a", 5) == 0);
    CHECK(g.recent_failures("b", 5) == 1);
    CHECK(g.recent_failures("c", 5) == 1);
}
