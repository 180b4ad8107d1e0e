// A plain reference for core/mime/unicase (RFC 5051 §2), with the heap:
// decode the whole string (its own UTF-8 decoder, written from RFC 3629's
// definition rather than its byte table), prepare it into one std::string
// code point by code point (unicase_map_code_point, the table under test
// elsewhere), then compare the prepared strings as i;octet. The reference
// for unicase_test.cpp's property tests and for fuzz_unicase.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/mime/unicase.h"

namespace tinyimapd::test {

// RFC 3629: a lead byte says the length; the code point must need exactly
// that length, not be a surrogate, and not exceed U+10FFFF.
inline bool reference_decode(std::string_view s, std::vector<std::uint32_t>* out) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            len = 1, cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07;
        } else {
            return false;
        }
        if (s.size() - i < len) return false;
        for (std::size_t k = 1; k < len; ++k) {
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xC0) != 0x80) return false;
            cp = cp << 6 | (d & 0x3F);
        }
        const std::size_t needed = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (needed != len || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) return false;
        out->push_back(cp);
        i += len;
    }
    return true;
}

// The "titlecased canonicalized UTF-8" string, or s itself when invalid.
inline std::string reference_prepare(std::string_view s) {
    std::vector<std::uint32_t> cps;
    if (!reference_decode(s, &cps)) return std::string(s);
    std::string out;
    char buf[mime::kUnicaseMaxCodePointBytes];
    for (const std::uint32_t cp : cps) out.append(buf, mime::unicase_map_code_point(cp, buf));
    return out;
}

inline int reference_compare(std::string_view a, std::string_view b) {
    const int c = reference_prepare(a).compare(reference_prepare(b));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
}

inline bool reference_contains(std::string_view haystack, std::string_view needle) {
    return reference_prepare(haystack).find(reference_prepare(needle)) != std::string::npos;
}

}  // namespace tinyimapd::test
