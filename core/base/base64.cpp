#include "core/base/base64.h"

#include <cstdint>

namespace tinyimapd {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

std::size_t base64_decode(std::string_view in, char* out, std::size_t capacity) {
    if (in.size() % 4 != 0) return SIZE_MAX;
    std::size_t n = 0;
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        int v[4];
        std::size_t pad = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            const char c = in[i + j];
            if (c == '=' && last && j >= 2) {
                v[j] = 0;
                ++pad;
                continue;
            }
            if (pad != 0) return SIZE_MAX;  // data after padding
            v[j] = base64_value(c);
            if (v[j] < 0) return SIZE_MAX;
        }
        const std::uint32_t triple =
            (static_cast<std::uint32_t>(v[0]) << 18) | (static_cast<std::uint32_t>(v[1]) << 12) |
            (static_cast<std::uint32_t>(v[2]) << 6) | static_cast<std::uint32_t>(v[3]);
        const std::size_t bytes = 3 - pad;
        // Canonical encoding: the bits dropped by padding must be zero.
        if ((pad == 1 && (triple & 0xff) != 0) || (pad == 2 && (triple & 0xffff) != 0)) {
            return SIZE_MAX;
        }
        if (capacity - n < bytes) return SIZE_MAX;
        out[n++] = static_cast<char>(triple >> 16);
        if (bytes > 1) out[n++] = static_cast<char>((triple >> 8) & 0xff);
        if (bytes > 2) out[n++] = static_cast<char>(triple & 0xff);
    }
    return n;
}

std::size_t base64_encode(std::string_view in, char* out, std::size_t capacity) {
    const std::size_t need = (in.size() + 2) / 3 * 4;
    if (need > capacity) return SIZE_MAX;
    std::size_t n = 0;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const std::size_t left = in.size() - i;
        std::uint32_t triple = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
        if (left > 1)
            triple |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
        if (left > 2) triple |= static_cast<unsigned char>(in[i + 2]);
        out[n++] = kAlphabet[(triple >> 18) & 63];
        out[n++] = kAlphabet[(triple >> 12) & 63];
        out[n++] = left > 1 ? kAlphabet[(triple >> 6) & 63] : '=';
        out[n++] = left > 2 ? kAlphabet[triple & 63] : '=';
    }
    return n;
}

}  // namespace tinyimapd
