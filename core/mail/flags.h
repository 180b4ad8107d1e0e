// Message flags as the store keeps them and the protocol names them
// (RFC 3501 §2.3.2; §9 "flag", "flag-keyword", "flag-extension",
// "flag-fetch").
//
// What it does: the system-flag bits (one byte per message on disk),
// classify_flag() telling a system flag (\Answered \Flagged \Deleted \Seen
// \Draft, case-insensitive), \Recent, a keyword (an atom, exactly: the
// lexer's atom is wider and lets '\', '%', '*', ']' through) and a
// flag-extension ("\" atom), and the longest keyword name the store keeps.
// Reading a flag list from a command is protocol work: core/imap/flag_list.h.
//
// Owns nothing; pure functions over the caller's views.
//
// Decisions where the RFC leaves room:
// - classify_flag() recognises flag-extensions ("\Foo") because a client must
//   accept them in server responses; core/imap/flag_list.h refuses to set them.
// - "\*" is only ever sent by a server (flag-perm); it is no flag here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd::mail {

// System flags as bits (the store keeps them in one byte per message).
enum SystemFlag : std::uint8_t {
    kAnswered = 1,
    kFlagged = 2,
    kDeleted = 4,
    kSeen = 8,
    kDraft = 16,
    kRecent = 32,  // session state, never set by a client (RFC 3501 §2.3.2)
};

enum class FlagKind : std::uint8_t {
    System,     // \Answered \Flagged \Deleted \Seen \Draft
    Keyword,    // flag-keyword = atom
    Extension,  // flag-extension = "\" atom, none of the above
    Recent,     // \Recent (flag-fetch)
};

// The longest keyword name the store keeps (docs/STORAGE.md); the store's
// record layout (core/store/format.h) has room for exactly this many bytes.
inline constexpr std::size_t kMaxKeywordLength = 59;

// RFC 3501 §9 ATOM-CHAR: a keyword is made of these (flag-keyword = atom),
// and so is the lexer's atom (core/imap/args.h).
bool is_atom_char(char c);
// True if every byte is ATOM-CHAR and there is at least one.
bool is_atom(std::string_view s);

// Classifies one flag as it arrives from the lexer (an atom). On success
// sets *kind and *system_bit (a SystemFlag for System and Recent, else 0).
// False if `atom` is no flag at all: "", "\", "\*", "a%b", "x]", ...
bool classify_flag(std::string_view atom, FlagKind* kind, std::uint8_t* system_bit);

}  // namespace tinyimapd::mail
