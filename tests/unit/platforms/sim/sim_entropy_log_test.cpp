// Tests of the simulated entropy and log (platforms/sim/sim_entropy.h, sim_log.h).
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>

#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_log.h"

using tinyimapd::Status;
using tinyimapd::port::LogLevel;
using tinyimapd::sim::SimEntropy;
using tinyimapd::sim::SimLog;

TEST_CASE("SimEntropy is deterministic per seed", "[sim][entropy]") {
    SimEntropy a(7);
    SimEntropy b(7);
    SimEntropy c(8);
    std::array<std::uint8_t, 37> x{};
    std::array<std::uint8_t, 37> y{};
    std::array<std::uint8_t, 37> z{};
    CHECK(a.fill(x.data(), x.size()) == Status::Ok);
    CHECK(b.fill(y.data(), y.size()) == Status::Ok);
    CHECK(c.fill(z.data(), z.size()) == Status::Ok);
    CHECK(x == y);
    CHECK(x != z);
    // The stream is fixed across platforms: splitmix64(seed 7), low byte first.
    SimEntropy d(7);
    const std::uint64_t word = d.next_u64();
    for (int i = 0; i < 8; ++i) CHECK(x[i] == static_cast<std::uint8_t>(word >> (8 * i)));

    a.fail_next(Status::Io);
    std::uint8_t one = 0xAA;
    CHECK(a.fill(&one, 1) == Status::Io);
    CHECK(one == 0xAA);
    CHECK(a.fill(&one, 1) == Status::Ok);
    a.reseed(7);
    CHECK(a.fill(y.data(), y.size()) == Status::Ok);
    CHECK(x == y);
}

TEST_CASE("SimLog keeps lines and levels", "[sim][log]") {
    SimLog log;
    log.write(LogLevel::Info, "login ok user=alice");
    log.write(LogLevel::Warning, "login failed user=bob");
    REQUIRE(log.lines().size() == 2);
    CHECK(log.lines()[1] == "login failed user=bob");
    CHECK(log.levels()[1] == LogLevel::Warning);
    CHECK(log.contains("user=alice"));
    CHECK_FALSE(log.contains("carol"));
    CHECK(log.count("login") == 2);
    log.clear();
    CHECK(log.lines().empty());
    CHECK_FALSE(log.contains("login"));
}
