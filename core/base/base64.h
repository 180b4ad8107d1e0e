// Base64 (RFC 4648 §4, the alphabet IMAP's base64 uses: RFC 3501 §9) into
// caller buffers: AUTHENTICATE exchanges (RFC 3501 §6.2.2, RFC 4616) and,
// later, BINARY and MIME decoding.
#pragma once

#include <cstddef>
#include <string_view>

namespace tinyimapd {

// Decodes padded base64 into `out` (capacity bytes). Returns the decoded
// length, or SIZE_MAX if `in` is not valid padded base64 or does not fit.
std::size_t base64_decode(std::string_view in, char* out, std::size_t capacity);

// Encodes `in` with padding; returns the length, or SIZE_MAX if it does not fit.
std::size_t base64_encode(std::string_view in, char* out, std::size_t capacity);

// The value of one base64 alphabet character (RFC 4648 Table 1), or -1.
int base64_value(char c);

}  // namespace tinyimapd
