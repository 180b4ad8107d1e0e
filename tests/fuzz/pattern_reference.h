// The LIST/LSUB matcher that core/store/name_map.cpp replaced: exact
// (RFC 3501 §6.3.8: '*' matches anything, '%' anything but the hierarchy
// delimiter '/'), but exponential on "*a*a*a...b". The reference for short
// inputs in name_map_test.cpp and fuzz_pattern.cpp.
#pragma once

#include <cstddef>
#include <string_view>

namespace tinyimapd::test {

inline bool reference_match(std::string_view p, std::string_view n) {
    while (!p.empty()) {
        const char c = p[0];
        if (c == '*' || c == '%') {
            p.remove_prefix(1);
            for (std::size_t i = 0; i <= n.size(); ++i) {
                if (reference_match(p, n.substr(i))) return true;
                if (i < n.size() && c == '%' && n[i] == '/') return false;
            }
            return false;
        }
        if (n.empty() || n[0] != c) return false;
        p.remove_prefix(1);
        n.remove_prefix(1);
    }
    return n.empty();
}

}  // namespace tinyimapd::test
