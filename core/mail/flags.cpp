#include "core/mail/flags.h"

#include "core/base/text.h"

namespace tinyimapd::mail {
namespace {

struct SystemFlagName {
    std::string_view name;  // without the backslash
    std::uint8_t bit;
};

constexpr SystemFlagName kSystemFlags[] = {
    {"Answered", kAnswered}, {"Flagged", kFlagged}, {"Deleted", kDeleted},
    {"Seen", kSeen},         {"Draft", kDraft},
};

constexpr std::string_view kRecentName = "Recent";

}  // namespace

bool is_atom_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;  // CTL, SP, 8-bit
    switch (c) {
        case '(':
        case ')':
        case '{':
        case '%':
        case '*':
        case '"':
        case '\\':
        case ']': return false;
        default: return true;
    }
}

bool is_atom(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_atom_char(c)) return false;
    }
    return true;
}

bool classify_flag(std::string_view atom, FlagKind* kind, std::uint8_t* system_bit) {
    if (atom.empty() || atom[0] != '\\') {
        if (!is_atom(atom)) return false;
        *kind = FlagKind::Keyword;
        *system_bit = 0;
        return true;
    }
    const std::string_view name = ascii::tail(atom, 1);
    if (!is_atom(name)) return false;  // "\", "\*", "\\x"
    for (const SystemFlagName& f : kSystemFlags) {
        if (ascii::iequals(name, f.name)) {
            *kind = FlagKind::System;
            *system_bit = f.bit;
            return true;
        }
    }
    if (ascii::iequals(name, kRecentName)) {
        *kind = FlagKind::Recent;
        *system_bit = kRecent;
        return true;
    }
    *kind = FlagKind::Extension;
    *system_bit = 0;
    return true;
}

}  // namespace tinyimapd::mail
