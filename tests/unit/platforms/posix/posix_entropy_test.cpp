// platforms/posix/entropy_posix: getrandom() fills every byte.
#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "platforms/posix/entropy_posix.h"

using namespace tinyimapd;

TEST_CASE("PosixEntropy: fills all bytes, differently each time, even 1 MiB at once",
          "[posix][entropy]") {
    posix::PosixEntropy entropy;
    std::uint8_t a[32] = {};
    std::uint8_t b[32] = {};
    REQUIRE(entropy.fill(a, sizeof(a)) == Status::Ok);
    REQUIRE(entropy.fill(b, sizeof(b)) == Status::Ok);
    CHECK(std::memcmp(a, b, sizeof(a)) != 0);  // 2^-256 chance of a false alarm

    CHECK(entropy.fill(a, 0) == Status::Ok);

    // Above 256 bytes getrandom() may return short; the whole buffer must
    // still be covered: no 4 KiB run of zeros is left anywhere.
    std::vector<std::uint8_t> big(1 << 20, 0);
    REQUIRE(entropy.fill(big.data(), big.size()) == Status::Ok);
    std::vector<std::uint8_t> zeros(4096, 0);
    for (std::size_t at = 0; at < big.size(); at += zeros.size()) {
        REQUIRE(std::memcmp(big.data() + at, zeros.data(), zeros.size()) != 0);
    }
}
