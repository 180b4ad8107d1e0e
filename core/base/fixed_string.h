// FixedString<N>: a string of at most N bytes stored inline, no heap.
//
// Holds configuration values (paths, addresses, names) and short error texts.
// The bytes are always followed by a NUL so platforms/ can hand c_str() to an
// OS call; the string itself may not contain NUL (assign() refuses it), so
// c_str() and view() always agree.
#pragma once

#include <cstddef>
#include <string_view>

namespace tinyimapd {

template <std::size_t N>
class FixedString {
public:
    static constexpr std::size_t kCapacity = N;

    constexpr FixedString() = default;
    // For compile-time defaults; a too-long literal is cut at N bytes.
    constexpr explicit FixedString(std::string_view s) { assign_truncated(s); }

    // Replaces the contents; false (contents unchanged) if `s` is longer than
    // N bytes or contains a NUL.
    constexpr bool assign(std::string_view s) {
        if (s.size() > N || s.find('\0') != std::string_view::npos) return false;
        copy(s);
        return true;
    }
    // Replaces the contents with as much of `s` as fits, stopping at a NUL.
    constexpr void assign_truncated(std::string_view s) {
        std::size_t n = s.find('\0');  // npos if none
        if (n > s.size()) n = s.size();
        if (n > N) n = N;
        copy(std::string_view(s.data(), n));  // not substr(): it may throw
    }
    constexpr void clear() { copy({}); }

    constexpr std::string_view view() const { return {data_, size_}; }
    constexpr const char* c_str() const { return data_; }
    constexpr std::size_t size() const { return size_; }
    constexpr bool empty() const { return size_ == 0; }

    friend constexpr bool operator==(const FixedString& a, const FixedString& b) {
        return a.view() == b.view();
    }

private:
    constexpr void copy(std::string_view s) {
        for (std::size_t i = 0; i < s.size(); ++i) data_[i] = s[i];
        data_[s.size()] = '\0';
        size_ = s.size();
    }

    char data_[N + 1] = {};
    std::size_t size_ = 0;
};

}  // namespace tinyimapd
