#include "core/mime/charset.h"

#include "core/base/text.h"

namespace tinyimapd::mime {
namespace {

struct CharsetName {
    std::string_view name;
    Charset charset;
};

constexpr CharsetName kNames[] = {
    {"UTF-8", Charset::Utf8},
    {"UTF8", Charset::Utf8},
    {"US-ASCII", Charset::UsAscii},
    {"ASCII", Charset::UsAscii},
    {"ANSI_X3.4-1968", Charset::UsAscii},
    {"ISO-8859-1", Charset::Latin1},
    {"ISO8859-1", Charset::Latin1},
    {"ISO_8859-1", Charset::Latin1},
    {"LATIN1", Charset::Latin1},
    {"L1", Charset::Latin1},
    {"ISO-8859-15", Charset::Latin9},
    {"ISO8859-15", Charset::Latin9},
    {"ISO_8859-15", Charset::Latin9},
    {"LATIN-9", Charset::Latin9},
    {"LATIN9", Charset::Latin9},
    {"WINDOWS-1252", Charset::Windows1252},
    {"CP1252", Charset::Windows1252},
};

// Windows-1252 0x80..0x9F (the rest is ISO-8859-1).
constexpr std::uint16_t kCp1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,  // 80
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,  // 88
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,  // 90
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,  // 98
};

// ISO-8859-15's eight differences from ISO-8859-1.
std::uint16_t latin9(unsigned char c) {
    switch (c) {
        case 0xA4: return 0x20AC;
        case 0xA6: return 0x0160;
        case 0xA8: return 0x0161;
        case 0xB4: return 0x017D;
        case 0xB8: return 0x017E;
        case 0xBC: return 0x0152;
        case 0xBD: return 0x0153;
        case 0xBE: return 0x0178;
        default: return c;
    }
}

}  // namespace

Charset charset_from_name(std::string_view name) {
    name = ascii::trim(name);
    for (const CharsetName& n : kNames) {
        if (ascii::iequals(name, n.name)) return n.charset;
    }
    return Charset::Unknown;
}

std::size_t charset_to_utf8(Charset cs, unsigned char c, char* out) {
    if (c < 0x80 || charset_is_identity(cs)) {
        out[0] = static_cast<char>(c);
        return 1;
    }
    std::uint16_t cp = c;
    if (cs == Charset::Latin9) cp = latin9(c);
    if (cs == Charset::Windows1252 && c < 0xA0) cp = kCp1252High[c - 0x80];
    if (cp < 0x800) {
        out[0] = static_cast<char>(0xC0 | (cp >> 6));
        out[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
}

}  // namespace tinyimapd::mime
