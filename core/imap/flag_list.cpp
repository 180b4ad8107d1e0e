#include "core/imap/flag_list.h"

#include "core/base/text.h"
#include "core/mail/flags.h"

namespace tinyimapd::imap {
namespace {

// Adds one flag; false (with the reason in *why) if it may not be set.
bool add_flag(std::string_view atom, bool allow_recent, FlagList* list, const char** why) {
    mail::FlagKind kind = mail::FlagKind::Keyword;
    std::uint8_t bit = 0;
    if (!mail::classify_flag(atom, &kind, &bit)) {
        *why = "Invalid flag";
        return false;
    }
    switch (kind) {
        case mail::FlagKind::Recent:
            if (!allow_recent) {
                *why = "\\Recent cannot be set by the client";
                return false;
            }
            list->system |= bit;
            return true;
        case mail::FlagKind::System: list->system |= bit; return true;
        case mail::FlagKind::Extension:
            *why =
                "Unknown system flag: only \\Answered \\Flagged \\Deleted \\Seen \\Draft and "
                "keywords may be set";
            return false;
        case mail::FlagKind::Keyword: break;
    }
    // The store keeps names of up to kMaxKeywordLength bytes (docs/STORAGE.md).
    static_assert(mail::kMaxKeywordLength == 59, "update the text below");
    if (atom.size() > mail::kMaxKeywordLength) {
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
