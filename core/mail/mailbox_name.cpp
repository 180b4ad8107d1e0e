#include "core/mail/mailbox_name.h"

#include <cstdint>

namespace tinyimapd::mail {
namespace {

constexpr std::string_view kInbox = "INBOX";

// RFC 3501 §5.1.3: RFC 2045 base64 with ',' in place of '/'.
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

constexpr int base64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == ',') return 63;
    return -1;
}

constexpr bool is_control(std::uint32_t c) {
    return c < 0x20 || c == 0x7f;
}
// RFC 6855 §3: besides the C0 controls and DEL, a mailbox name MUST NOT hold
// the C1 controls, LINE SEPARATOR or PARAGRAPH SEPARATOR.
constexpr bool is_forbidden_in_name(std::uint32_t c) {
    return is_control(c) || (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029;
}
constexpr bool is_high_surrogate(std::uint32_t u) {
    return u >= 0xd800 && u <= 0xdbff;
}
constexpr bool is_low_surrogate(std::uint32_t u) {
    return u >= 0xdc00 && u <= 0xdfff;
}

void put_utf8(std::uint32_t cp, TextWriter* out) {
    if (out == nullptr) return;
    if (cp < 0x80) {
        out->put(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out->put(static_cast<char>(0xc0 | (cp >> 6)));
        out->put(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        out->put(static_cast<char>(0xe0 | (cp >> 12)));
        out->put(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out->put(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
        out->put(static_cast<char>(0xf0 | (cp >> 18)));
        out->put(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
        out->put(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
        out->put(static_cast<char>(0x80 | (cp & 0x3f)));
    }
}

// Decodes canonical modified UTF-7 into UTF-8 (when `out` is given).
// Returns nullptr on success, else the reason.
const char* decode_mutf7(std::string_view s, TextWriter* out) {
    std::size_t i = 0;
    bool after_run = false;  // the previous token was an encoded sequence
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i++]);
        if (c >= 0x80) return "8-bit byte in modified UTF-7";
        if (is_control(c)) return "control character in mailbox name";
        if (c != '&') {
            put_utf8(c, out);
            after_run = false;
            continue;
        }
        if (i < s.size() && s[i] == '-') {
            ++i;
            put_utf8('&', out);
            after_run = false;
            continue;
        }
        if (after_run) return "adjacent encoded sequences in modified UTF-7";
        std::uint32_t bits = 0;  // the low `nbits` bits are pending
        unsigned nbits = 0;
        std::uint32_t high = 0;  // a high surrogate waiting for its pair
        for (;;) {
            if (i >= s.size()) return "'&' not closed by '-' in modified UTF-7";
            const auto b = static_cast<unsigned char>(s[i++]);
            if (b == '-') break;
            const int v = base64_value(b);
            if (v < 0) return "invalid character in modified base64";
            bits = (bits << 6) | static_cast<std::uint32_t>(v);
            nbits += 6;
            if (nbits < 16) continue;
            nbits -= 16;
            const std::uint32_t unit = bits >> nbits;
            bits &= (1u << nbits) - 1;
            if (high != 0) {
                if (!is_low_surrogate(unit)) return "unpaired surrogate in modified UTF-7";
                put_utf8(0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00), out);
                high = 0;
            } else if (is_high_surrogate(unit)) {
                high = unit;
            } else if (is_low_surrogate(unit)) {
                return "unpaired surrogate in modified UTF-7";
            } else if (is_forbidden_in_name(unit)) {
                return "control character in mailbox name";
            } else if (unit < 0x80) {
                return "printable ASCII encoded in modified base64";
            } else {
                put_utf8(unit, out);
            }
        }
        if (high != 0) return "unpaired surrogate in modified UTF-7";
        // Canonical base64 of n UTF-16 units leaves fewer than 6 bits, all 0;
        // this also rejects an encoded sequence with no whole character.
        if (nbits >= 6) return "incomplete character in modified base64";
        if (bits != 0) return "non-zero trailing bits in modified base64";
        after_run = true;
    }
    return nullptr;
}

// Decodes one UTF-8 sequence at s[i]; advances i. Returns false on any
// malformation (RFC 3629 §3-4: no overlongs, no surrogates, <= U+10FFFF).
bool next_code_point(std::string_view s, std::size_t& i, std::uint32_t& cp) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra;
    std::uint32_t min;
    if (c < 0x80) {
        cp = c;
        ++i;
        return true;
    } else if (c >= 0xc2 && c <= 0xdf) {
        extra = 1;
        min = 0x80;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        extra = 2;
        min = 0x800;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        extra = 3;
        min = 0x10000;
        cp = c & 0x07;
    } else {
        return false;
    }
    if (s.size() - i - 1 < extra) return false;
    for (std::size_t k = 1; k <= extra; ++k) {
        const auto t = static_cast<unsigned char>(s[i + k]);
        if ((t & 0xc0) != 0x80) return false;
        cp = (cp << 6) | (t & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += 1 + extra;
    return true;
}

class Base64Run {
public:
    explicit Base64Run(TextWriter& out) : out_(out) {}

    void unit(std::uint32_t u) {
        if (!open_) {
            out_.put('&');
            open_ = true;
        }
        bits_ = (bits_ << 16) | u;
        nbits_ += 16;
        while (nbits_ >= 6) {
            nbits_ -= 6;
            out_.put(kBase64[(bits_ >> nbits_) & 0x3f]);
        }
        bits_ &= (1u << nbits_) - 1;
    }

    void close() {
        if (!open_) return;
        if (nbits_ > 0) out_.put(kBase64[(bits_ << (6 - nbits_)) & 0x3f]);
        out_.put('-');
        open_ = false;
        bits_ = 0;
        nbits_ = 0;
    }

private:
    TextWriter& out_;
    bool open_ = false;
    std::uint32_t bits_ = 0;
    unsigned nbits_ = 0;
};

}  // namespace

bool is_inbox(std::string_view name) {
    return ascii::iequals(name, kInbox);
}

void normalize_mailbox(std::string_view name, TextWriter& out, char delimiter) {
    const std::size_t end = name.find(delimiter);
    const std::string_view first = ascii::head(name, end);
    if (is_inbox(first)) {
        out.put(kInbox).put(ascii::tail(name, first.size()));
    } else {
        out.put(name);
    }
}

bool validate_mutf7(std::string_view name, const char** why) {
    const char* reason = decode_mutf7(name, nullptr);
    if (why != nullptr && reason != nullptr) *why = reason;
    return reason == nullptr;
}

bool mutf7_to_utf8(std::string_view mutf7, TextWriter& out) {
    return decode_mutf7(mutf7, &out) == nullptr && out.ok();
}

bool utf8_to_mutf7(std::string_view utf8, TextWriter& out) {
    Base64Run run(out);
    std::size_t i = 0;
    while (i < utf8.size()) {
        std::uint32_t cp;
        if (!next_code_point(utf8, i, cp)) return false;
        if (is_forbidden_in_name(cp)) return false;
        if (cp < 0x80) {
            run.close();
            out.put(static_cast<char>(cp));
            if (cp == '&') out.put('-');
        } else if (cp < 0x10000) {
            run.unit(cp);
        } else {
            run.unit(0xd800 + ((cp - 0x10000) >> 10));
            run.unit(0xdc00 + ((cp - 0x10000) & 0x3ff));
        }
    }
    run.close();
    return out.ok();
}

bool is_valid_mailbox_name(std::string_view name, char delimiter, const char** why) {
    auto fail = [why](const char* reason) {
        if (why != nullptr) *why = reason;
        return false;
    };
    if (name.empty()) return fail("empty mailbox name");
    if (name.size() > kMaxMailboxName) return fail("mailbox name too long");
    for (char ch : name) {
        if (is_control(static_cast<unsigned char>(ch))) {
            return fail("control character in mailbox name");
        }
    }
    std::size_t levels = 0;
    std::string_view rest = name;
    for (;;) {
        const std::size_t end = rest.find(delimiter);
        const std::string_view level = ascii::head(rest, end);
        if (level.empty()) return fail("empty hierarchy level in mailbox name");
        if (level == "." || level == "..") {
            return fail("'.' and '..' are not allowed as mailbox name levels");
        }
        if (++levels > kMaxMailboxDepth) return fail("mailbox hierarchy too deep");
        if (end == std::string_view::npos) break;
        rest = ascii::tail(rest, end + 1);
        if (rest.empty()) return fail("empty hierarchy level in mailbox name");
    }
    return validate_mutf7(name, why);
}

namespace {

struct Use {
    const char* name;
    std::uint8_t bit;
};
constexpr Use kUses[] = {{"\\All", kUseAll},       {"\\Archive", kUseArchive},
                         {"\\Drafts", kUseDrafts}, {"\\Flagged", kUseFlagged},
                         {"\\Junk", kUseJunk},     {"\\Sent", kUseSent},
                         {"\\Trash", kUseTrash}};

}  // namespace

std::uint8_t special_use_bit(std::string_view attr) {
    for (const Use& u : kUses) {
        if (ascii::iequals(attr, u.name)) return u.bit;
    }
    return 0;
}

std::string_view special_use_name(std::uint8_t bit) {
    for (const Use& u : kUses) {
        if (u.bit == bit) return u.name;
    }
    return {};
}

}  // namespace tinyimapd::mail
