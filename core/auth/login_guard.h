// LoginGuard: the brake on password guessing (DESIGN.md, issue "hardening").
//
// Remembers recent failed logins per client network in a fixed table and
// computes the delay before the NO of a failed LOGIN/AUTHENTICATE: it
// doubles with every failure of the connection or of the network, up to a
// cap, so a guesser that opens a fresh connection for each try is slowed as
// much as one that does not. The delay is served by the session's timer: it
// never blocks the loop, and it only ever delays a failure's answer.
//
// Invariants (issue 20 item 8):
// - A network is an IPv4 address, or an IPv6 /64 (one subscriber's LAN, RFC
//   6177: whoever holds it has 2^64 addresses to rotate through).
// - Failures count for `forget_ms` after the network's last failure, whatever
//   else happens: a successful login (say, the attacker's own account) does
//   not clear them. A legitimate user is not hurt by that: successes are
//   never delayed.
// - When the table is full, a new network takes the entry of a forgotten one,
//   else of the one with the fewest failures (the least recent among equals),
//   so rotating through addresses cannot push out a persistent guesser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "port/net.h"

namespace tinyimapd {

class LoginGuard {
public:
    struct Entry {
        char address[port::PeerAddress::kCapacity];  // the network's key (key_of)
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
    // Recent failures of `address`'s network (0 if none or forgotten).
    std::uint32_t recent_failures(std::string_view address, std::uint64_t now_ms) const;

    // The key failures of `address` count under: an IPv4 address (or any
    // text that is not IPv6) as it is, an IPv6 address as its /64 prefix
    // ("2001:db8:0:1::/64"). `out` holds PeerAddress::kCapacity bytes.
    static std::string_view key_of(std::string_view address, char* out);

private:
    Entry* find(std::string_view key) const;

    Entry* table_;
    std::size_t capacity_;
    std::uint32_t base_delay_ms_;
    std::uint32_t max_delay_ms_;
    std::uint64_t forget_ms_;
};

}  // namespace tinyimapd
