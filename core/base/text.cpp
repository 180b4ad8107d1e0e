#include "core/base/text.h"

#include <cstring>

namespace tinyimapd {

TextWriter& TextWriter::put(std::string_view s) {
    if (overflow_) return *this;
    if (skip_ > 0) {
        const std::size_t k = s.size() < skip_ ? s.size() : skip_;
        skip_ -= k;
        s.remove_prefix(k);
    }
    if (s.size() > cap_ - len_) {
        if (fill_ && cap_ > len_) {
            std::memcpy(buf_ + len_, s.data(), cap_ - len_);
            len_ = cap_;
        }
        overflow_ = true;
        return *this;
    }
    if (s.empty()) return *this;  // memcpy's pointers must be valid even for 0 bytes
    std::memcpy(buf_ + len_, s.data(), s.size());
    len_ += s.size();
    return *this;
}

TextWriter& TextWriter::put(char c) {
    return put(std::string_view(&c, 1));
}

TextWriter& TextWriter::put_uint(std::uint64_t v) {
    char digits[20];
    std::size_t n = 0;
    do {
        digits[sizeof digits - 1 - n] = static_cast<char>('0' + v % 10);
        v /= 10;
        ++n;
    } while (v != 0);
    return put(std::string_view(digits + sizeof digits - n, n));
}

TextWriter& TextWriter::put_int(std::int64_t v) {
    if (v < 0) {
        put('-');
        // Negate in unsigned arithmetic so INT64_MIN is handled.
        return put_uint(~static_cast<std::uint64_t>(v) + 1);
    }
    return put_uint(static_cast<std::uint64_t>(v));
}

namespace ascii {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (to_upper(a[i]) != to_upper(b[i])) return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

bool parse_uint(std::string_view s, std::uint64_t* out) {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return false;
        std::uint64_t d = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

}  // namespace ascii
}  // namespace tinyimapd
