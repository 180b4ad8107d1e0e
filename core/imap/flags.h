// Message flags: classifying a flag name and reading a flag list from a
// command's arguments (RFC 3501 §2.3.2; §9 "flag", "flag-list",
// "flag-keyword", "flag-extension", "flag-fetch", "flag-perm";
// "store-att-flags" of §6.4.6 STORE and "append" of §6.3.11 APPEND).
//
// What it does: classify_flag() tells a system flag (\Answered \Flagged
// \Deleted \Seen \Draft, case-insensitive), \Recent, a keyword (an atom,
// exactly: the lexer's atom is wider and lets '\', '%', '*', ']' through) and
// a flag-extension ("\" atom). parse_flag_list() reads the flags a client
// asks to set and turns them into system-flag bits plus keyword names.
//
// Owns nothing: keyword names are views into the parser's arena, valid as
// long as the command is. A FlagList is a plain struct the caller places
// (about 1 KiB on 64-bit targets: kMaxKeywordsInList views).
//
// Decisions where the RFC leaves room:
// - Flag-extensions ("\Foo"): RFC 3501 allows them in the syntax for future
//   standards, but no standard defines one that a client may set, so a flag
//   list refuses them with BAD, as Dovecot does; classify_flag() still
//   recognises them (a client must accept them in server responses).
// - \Recent cannot be set or cleared by a client (RFC 3501 §2.3.2); in STORE
//   and APPEND it is refused with BAD ("flag" does not include it).
// - "\*" is only ever sent by a server (flag-perm); from a client it is an
//   invalid flag.
// - Keywords are compared case-insensitively (as Dovecot does) and a repeated
//   keyword or system flag is kept once; kMaxKeywordsInList counts distinct
//   keywords.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/imap/args.h"

namespace tinyimapd::imap {

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

// The most keywords one STORE or APPEND may name. 64 is far above what
// clients send (Thunderbird's $label1..5, $Junk/$NotJunk, $Forwarded,
// $MDNSent: about a dozen) and bounds the caller's FlagList.
inline constexpr std::size_t kMaxKeywordsInList = 64;

// Classifies one flag as it arrives from the lexer (an atom). On success
// sets *kind and *system_bit (a SystemFlag for System and Recent, else 0).
// False if `atom` is no flag at all: "", "\", "\*", "a%b", "x]", ...
bool classify_flag(std::string_view atom, FlagKind* kind, std::uint8_t* system_bit);

struct FlagList {
    std::uint8_t system = 0;  // SystemFlag bits
    std::size_t keyword_count = 0;
    std::string_view keywords[kMaxKeywordsInList];  // distinct, in the client's order
};

// Reads a flag-list "(" [flag *(SP flag)] ")" at the reader's position; with
// `allow_bare`, also the unparenthesised form of store-att-flags,
// flag *(SP flag), which takes every remaining argument at this level.
// `allow_recent` accepts \Recent (setting kRecent); commands from clients
// pass false. On failure the reader is left where it was, its error()
// explains (RFC 3501 says BAD for all of these) and *out is unspecified.
bool parse_flag_list(ArgReader& r, bool allow_recent, bool allow_bare, FlagList* out);

}  // namespace tinyimapd::imap
