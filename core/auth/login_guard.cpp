#include "core/auth/login_guard.h"

#include <cstring>

namespace tinyimapd {

LoginGuard::LoginGuard(Entry* table, std::size_t capacity, std::uint32_t base_delay_ms,
                       std::uint32_t max_delay_ms, std::uint64_t forget_ms)
    : table_(table),
      capacity_(capacity),
      base_delay_ms_(base_delay_ms),
      max_delay_ms_(max_delay_ms),
      forget_ms_(forget_ms) {
    for (std::size_t i = 0; i < capacity_; ++i) table_[i] = Entry{};
}

LoginGuard::Entry* LoginGuard::find(std::string_view address) const {
    for (std::size_t i = 0; i < capacity_; ++i) {
        Entry& e = table_[i];
        if (e.failures != 0 && e.length == address.size() &&
            std::memcmp(e.address, address.data(), address.size()) == 0) {
            return &e;
        }
    }
    return nullptr;
}

std::uint32_t LoginGuard::recent_failures(std::string_view address, std::uint64_t now_ms) const {
    const Entry* e = find(address);
    if (e == nullptr || now_ms - e->last_ms > forget_ms_) return 0;
    return e->failures;
}

std::uint32_t LoginGuard::failure(std::string_view address, std::uint32_t connection_failures,
                                  std::uint64_t now_ms) {
    if (address.size() > sizeof(Entry::address)) address = {};  // cannot happen: PeerAddress
    Entry* e = find(address);
    if (e != nullptr && now_ms - e->last_ms > forget_ms_) e->failures = 0;
    if (e == nullptr || e->failures == 0) {
        // A free entry, or else the one that failed longest ago.
        Entry* victim = nullptr;
        for (std::size_t i = 0; i < capacity_ && capacity_ > 0; ++i) {
            Entry& c = table_[i];
            if (c.failures == 0) {
                victim = &c;
                break;
            }
            if (victim == nullptr || c.last_ms < victim->last_ms) victim = &c;
        }
        if (e == nullptr) e = victim;
        if (e != nullptr) {
            std::memcpy(e->address, address.data(), address.size());
            e->length = static_cast<std::uint8_t>(address.size());
            e->failures = 0;
        }
    }
    std::uint32_t n = connection_failures;
    if (e != nullptr) {
        e->failures += 1;
        e->last_ms = now_ms;
        if (e->failures > n) n = e->failures;
    }
    // base * 2^(n-1), capped; n >= 1 here.
    std::uint64_t delay = base_delay_ms_;
    for (std::uint32_t i = 1; i < n && delay < max_delay_ms_; ++i) delay *= 2;
    return static_cast<std::uint32_t>(delay < max_delay_ms_ ? delay : max_delay_ms_);
}

void LoginGuard::success(std::string_view address) {
    Entry* e = find(address);
    if (e != nullptr) e->failures = 0;
}

}  // namespace tinyimapd
