// The few 8-bit charsets mail still uses, converted to UTF-8 byte by byte,
// for SEARCH (RFC 3501 §6.4.4: strings are compared in the client's charset,
// UTF-8 here) over RFC 2047 encoded words and text/* bodies.
//
// Supported: UTF-8 and US-ASCII (bytes kept), ISO-8859-1, ISO-8859-15 and
// Windows-1252 (each byte one code point; Windows-1252's five unassigned
// bytes map to the C1 controls of the same value, as the WHATWG Encoding
// standard does). Any other charset is Unknown and its bytes are kept as
// they are: ASCII text in it still matches. Names are compared ASCII
// case-insensitively, with the usual aliases (RFC 1345, the IANA registry).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd::mime {

enum class Charset : std::uint8_t { Utf8, UsAscii, Latin1, Latin9, Windows1252, Unknown };

// Longest UTF-8 form of one byte of a supported charset (U+20AC: 3 bytes).
inline constexpr std::size_t kMaxUtf8PerByte = 3;

Charset charset_from_name(std::string_view name);

// True when bytes of `cs` are passed through unchanged (UTF-8, US-ASCII,
// Unknown).
constexpr bool charset_is_identity(Charset cs) {
    return cs == Charset::Utf8 || cs == Charset::UsAscii || cs == Charset::Unknown;
}

// Writes the UTF-8 form of byte `c` of charset `cs` into out (room for
// kMaxUtf8PerByte); returns its length (1..3).
std::size_t charset_to_utf8(Charset cs, unsigned char c, char* out);

}  // namespace tinyimapd::mime
