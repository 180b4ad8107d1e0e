// Reading a flag list from a command's arguments (RFC 3501 §9 "flag-list";
// "store-att-flags" of §6.4.6 STORE and "append" of §6.3.11 APPEND): the
// flags a client asks to set, as system-flag bits plus keyword names. What a
// flag is (bits, keyword rules) is core/mail/flags.h.
//
// Owns nothing: keyword names are views into the parser's arena, valid as
// long as the command is. A FlagList is a plain struct the caller places
// (about 1 KiB on 64-bit targets: kMaxKeywordsInList views).
//
// Decisions where the RFC leaves room:
// - Flag-extensions ("\Foo"): RFC 3501 allows them in the syntax for future
//   standards, but no standard defines one that a client may set, so a flag
//   list refuses them with BAD, as Dovecot does.
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
#include "core/mail/flags.h"

namespace tinyimapd::imap {

// The most keywords one STORE or APPEND may name. 64 is far above what
// clients send (Thunderbird's $label1..5, $Junk/$NotJunk, $Forwarded,
// $MDNSent: about a dozen) and bounds the caller's FlagList.
inline constexpr std::size_t kMaxKeywordsInList = 64;

struct FlagList {
    std::uint8_t system = 0;  // mail::SystemFlag bits
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
