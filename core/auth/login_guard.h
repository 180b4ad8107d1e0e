// LoginGuard: the brake on password guessing (DESIGN.md, issue "hardening").
//
// Remembers recent failed logins per client address in a fixed table (the
// oldest entry makes room for another address) and computes the delay before
// the NO of a failed LOGIN/AUTHENTICATE: it doubles with every failure of
// the connection or of the address, up to a cap, so a guesser that opens a
// fresh connection for each try is slowed as much as one that does not. The
// delay is served by the session's timer: it never blocks the loop.
// Failures older than `forget_ms` no longer count; a successful login from
// an address clears it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "port/net.h"

namespace tinyimapd {

class LoginGuard {
public:
    struct Entry {
        char address[port::PeerAddress::kCapacity];
        std::uint8_t length;
        std::uint32_t failures;
        std::uint64_t last_ms;
    };

    LoginGuard(Entry* table, std::size_t capacity, std::uint32_t base_delay_ms,
               std::uint32_t max_delay_ms, std::uint64_t forget_ms);

    // Records a failure from `address`, whose connection has now failed
    // `connection_failures` times; returns the delay before answering.
    std::uint32_t failure(std::string_view address, std::uint32_t connection_failures,
                          std::uint64_t now_ms);
    void success(std::string_view address);
    // Recent failures of `address` (0 if none or forgotten).
    std::uint32_t recent_failures(std::string_view address, std::uint64_t now_ms) const;

private:
    Entry* find(std::string_view address) const;

    Entry* table_;
    std::size_t capacity_;
    std::uint32_t base_delay_ms_;
    std::uint32_t max_delay_ms_;
    std::uint64_t forget_ms_;
};

}  // namespace tinyimapd
