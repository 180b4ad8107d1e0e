#include "core/imap/flags.h"

#include "core/base/text.h"
#include "core/store/format.h"

namespace tinyimapd::imap {
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

// Adds one flag; false (with the reason in *why) if it may not be set.
bool add_flag(std::string_view atom, bool allow_recent, FlagList* list, const char** why) {
    FlagKind kind = FlagKind::Keyword;
    std::uint8_t bit = 0;
    if (!classify_flag(atom, &kind, &bit)) {
        *why = "Invalid flag";
        return false;
    }
    switch (kind) {
        case FlagKind::Recent:
            if (!allow_recent) {
                *why = "\\Recent cannot be set by the client";
                return false;
            }
            list->system |= bit;
            return true;
        case FlagKind::System: list->system |= bit; return true;
        case FlagKind::Extension:
            *why =
                "Unknown system flag: only \\Answered \\Flagged \\Deleted \\Seen \\Draft and "
                "keywords may be set";
            return false;
        case FlagKind::Keyword: break;
    }
    // The store keeps names of up to kMaxKeywordLength bytes (docs/STORAGE.md).
    static_assert(store::kMaxKeywordLength == 59, "update the text below");
    if (atom.size() > store::kMaxKeywordLength) {
        *why = "Keyword too long: at most 59 bytes";
        return false;
    }
    for (std::size_t i = 0; i < list->keyword_count; ++i) {
        if (ascii::iequals(list->keywords[i], atom)) return true;
    }
    if (list->keyword_count == kMaxKeywordsInList) {
        *why = "Too many keywords in flag list";
        return false;
    }
    list->keywords[list->keyword_count++] = atom;
    return true;
}

// Reads flags until `r` is exhausted.
bool add_flags(ArgReader& r, bool allow_recent, FlagList* list, const char** why) {
    while (!r.at_end()) {
        std::string_view atom;
        if (!r.atom(&atom)) {
            *why = "Flags must be atoms";
            return false;
        }
        if (!add_flag(atom, allow_recent, list, why)) return false;
    }
    return true;
}

}  // namespace

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

bool parse_flag_list(ArgReader& r, bool allow_recent, bool allow_bare, FlagList* out) {
    const ArgReader saved = r;
    out->system = 0;
    out->keyword_count = 0;
    const char* why = "";
    ArgReader inner = r;
    bool ok = false;
    if (r.list(&inner)) {
        ok = add_flags(inner, allow_recent, out, &why);
    } else if (allow_bare && !r.at_end()) {
        ok = add_flags(r, allow_recent, out, &why);
    } else {
        why = allow_bare ? "Flag or flag list expected" : "Flag list expected";
    }
    if (ok) return true;
    r = saved;
    return r.fail(why);
}

}  // namespace tinyimapd::imap
