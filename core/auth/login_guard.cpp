#include "core/auth/login_guard.h"

#include <cstring>

namespace tinyimapd {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Parses the groups of one side of "::" (RFC 4291 §2.2) into `out`; a
// trailing dotted IPv4 part counts as two groups. False if malformed.
bool parse_groups(std::string_view text, std::uint16_t* out, std::size_t* count) {
    *count = 0;
    if (text.empty()) return true;
    std::size_t start = 0;
    for (;;) {
        const std::size_t colon = text.find(':', start);
        const std::string_view group =
            text.substr(start, colon == std::string_view::npos ? colon : colon - start);
        if (colon == std::string_view::npos && group.find('.') != std::string_view::npos) {
            // The last 32 bits as a dotted quad: zero them, only /64 matters.
            if (*count + 2 > 8) return false;
            out[(*count)++] = 0;
            out[(*count)++] = 0;
            return true;
        }
        if (group.empty() || group.size() > 4 || *count == 8) return false;
        std::uint32_t v = 0;
        for (char c : group) {
            const int h = hex_value(c);
            if (h < 0) return false;
            v = v * 16 + static_cast<std::uint32_t>(h);
        }
        out[(*count)++] = static_cast<std::uint16_t>(v);
        if (colon == std::string_view::npos) return true;
        start = colon + 1;
    }
}

}  // namespace

std::string_view LoginGuard::key_of(std::string_view address, char* out) {
    const std::size_t cap = port::PeerAddress::kCapacity;
    const std::size_t n = address.size() < cap ? address.size() : cap;
    std::memcpy(out, address.data(), n);
    const std::string_view as_is(out, n);
    if (address.find(':') == std::string_view::npos) return as_is;
    std::string_view text = address.substr(0, address.find('%'));  // no zone
    std::uint16_t groups[8] = {};
    std::uint16_t tail[8] = {};
    std::size_t head_count = 0, tail_count = 0;
    const std::size_t gap = text.find("::");
    if (gap == std::string_view::npos) {
        if (!parse_groups(text, groups, &head_count) || head_count != 8) return as_is;
    } else {
        if (!parse_groups(text.substr(0, gap), groups, &head_count) ||
            !parse_groups(text.substr(gap + 2), tail, &tail_count) || head_count + tail_count > 7) {
            return as_is;
        }
        for (std::size_t i = 0; i < tail_count; ++i) groups[8 - tail_count + i] = tail[i];
    }
    // "xxxx:xxxx:xxxx:xxxx::/64": at most 4 * 5 + 5 = 25 bytes.
    std::size_t len = 0;
    for (std::size_t g = 0; g < 4; ++g) {
        bool digit = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            const unsigned nibble = (groups[g] >> shift) & 0xf;
            if (nibble == 0 && !digit && shift != 0) continue;
            digit = true;
            out[len++] = "0123456789abcdef"[nibble];
        }
        out[len++] = ':';
    }
    std::memcpy(out + len, ":/64", 4);
    return {out, len + 4};
}

LoginGuard::LoginGuard(Entry* table, std::size_t capacity, std::uint32_t base_delay_ms,
                       std::uint32_t max_delay_ms, std::uint64_t forget_ms)
    : table_(table),
      capacity_(capacity),
      base_delay_ms_(base_delay_ms),
      max_delay_ms_(max_delay_ms),
      forget_ms_(forget_ms) {
    for (std::size_t i = 0; i < capacity_; ++i) table_[i] = Entry{};
}

LoginGuard::Entry* LoginGuard::find(std::string_view key) const {
    for (std::size_t i = 0; i < capacity_; ++i) {
        Entry& e = table_[i];
        if (e.failures != 0 && e.length == key.size() &&
            std::memcmp(e.address, key.data(), key.size()) == 0) {
            return &e;
        }
    }
    return nullptr;
}

std::uint32_t LoginGuard::recent_failures(std::string_view address, std::uint64_t now_ms) const {
    char buffer[port::PeerAddress::kCapacity];
    const Entry* e = find(key_of(address, buffer));
    if (e == nullptr || now_ms - e->last_ms > forget_ms_) return 0;
    return e->failures;
}

std::uint32_t LoginGuard::failure(std::string_view address, std::uint32_t connection_failures,
                                  std::uint64_t now_ms) {
    char buffer[port::PeerAddress::kCapacity];
    const std::string_view key = key_of(address, buffer);
    Entry* e = find(key);
    if (e != nullptr && now_ms - e->last_ms > forget_ms_) e->failures = 0;
    if (e == nullptr || e->failures == 0) {
        // A free or forgotten entry, else the one with the fewest failures
        // (the least recent among equals).
        auto forgotten = [&](const Entry& c) {
            return c.failures == 0 || now_ms - c.last_ms > forget_ms_;
        };
        Entry* victim = nullptr;
        for (std::size_t i = 0; i < capacity_; ++i) {
            Entry& c = table_[i];
            if (forgotten(c)) {
                victim = &c;
                break;
            }
            if (victim == nullptr || c.failures < victim->failures ||
                (c.failures == victim->failures && c.last_ms < victim->last_ms)) {
                victim = &c;
            }
        }
        if (e == nullptr) e = victim;
        if (e != nullptr) {
            std::memcpy(e->address, key.data(), key.size());
            e->length = static_cast<std::uint8_t>(key.size());
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

}  // namespace tinyimapd
