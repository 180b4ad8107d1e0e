// SimEntropy: deterministic "random" bytes for tests (splitmix64 from a seed).
//
// The same seed yields the same byte stream on every run and architecture
// (bytes are taken from each 64-bit word least significant first), so
// UIDVALIDITY, salts and session ids in a simulated run are reproducible.
// Never use it outside tests: it is the opposite of cryptographically strong.
// fail_next() makes the next fill() fail once, to test the callers' error path.
#pragma once

#include <cstddef>
#include <cstdint>

#include "port/entropy.h"

namespace tinyimapd::sim {

// One step of splitmix64 (Steele, Lea, Flood 2014): advances *state and
// returns a well-mixed 64-bit value. Shared by the sim platform's PRNG users.
inline std::uint64_t splitmix64_next(std::uint64_t* state) {
    std::uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

class SimEntropy final : public port::Entropy {
public:
    explicit SimEntropy(std::uint64_t seed = 1) : state_(seed) {}

    Status fill(void* out, std::size_t length) override;

    std::uint64_t next_u64() { return splitmix64_next(&state_); }
    void reseed(std::uint64_t seed) { state_ = seed; }
    // The next fill() returns `status` without touching the buffer, once.
    void fail_next(Status status) { fail_next_ = status; }

private:
    std::uint64_t state_;
    Status fail_next_ = Status::Ok;
};

}  // namespace tinyimapd::sim
