// Mailbox names: INBOX, modified UTF-7, and the rules a name must meet before
// the store turns it into files.
//
// Pure functions over caller-owned views; output goes to a caller's
// TextWriter (false when it overflows). Nothing is kept.
//
// INBOX (RFC 3501 §5.1, §9 "mailbox"): any case of "INBOX" is INBOX. The RFC
// says so only of the whole name; we extend it to the first hierarchy level
// ("inbox/Work" is "INBOX/Work"), as Dovecot does, because "inbox" already
// names INBOX and its children must not form a second tree that differs
// only in case. Every other level is case-sensitive.
//
// Modified UTF-7 (RFC 3501 §5.1.3): printable US-ASCII stands for itself
// except '&', written "&-"; anything else is "&" + modified base64 (',' for
// '/', no padding) of UTF-16 + "-". We accept only the canonical form, so
// that one name has exactly one spelling and names compare bytewise:
// rejected are 8-bit bytes, control characters (raw or encoded), a '&' not
// closed by '-', characters outside the modified base64 alphabet, encoded
// printable ASCII ("&AGE-" for "a" — which would also smuggle "/" or ".."
// past the checks below), an encoded sequence holding no whole character or
// ending in non-zero bits, unpaired surrogates, and two encoded sequences
// in a row ("&AMk-&AMk-" must be "&AMkAyQ-"). The converters check the same
// rules, so for every name N: validate_mutf7(N) implies
// utf8_to_mutf7(mutf7_to_utf8(N)) == N.
//
// Store names (is_valid_mailbox_name): canonical mUTF-7 as above, at most
// kMaxMailboxName bytes and kMaxMailboxDepth levels, no empty level (leading,
// trailing or doubled delimiter) and no "." or ".." level, so a name can be
// mapped to a path below the user's directory without escaping it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/text.h"

namespace tinyimapd::mail {

// Our hierarchy delimiter (LIST's reply). It must not be '&', '-' or a
// modified base64 character, so it never occurs inside an encoded sequence.
inline constexpr char kHierarchyDelimiter = '/';
// Bytes of a mailbox name in modified UTF-7: room for 32 levels of
// reasonable names, small enough to keep on the stack.
inline constexpr std::size_t kMaxMailboxName = 512;
// Hierarchy levels ("a/b/c" has 3).
inline constexpr std::size_t kMaxMailboxDepth = 32;

// True for INBOX in any case (the name itself, not its children).
bool is_inbox(std::string_view name);

// Writes `name` with a first level that is any case of INBOX written
// "INBOX"; everything else unchanged.
void normalize_mailbox(std::string_view name, TextWriter& out,
                       char delimiter = kHierarchyDelimiter);

// True when `name` is canonical modified UTF-7; otherwise false and, if
// `why` is given, a short English reason.
bool validate_mutf7(std::string_view name, const char** why = nullptr);

// Conversions; false when the input is invalid (as validate_mutf7, or
// malformed/overlong UTF-8, surrogates, code points past U+10FFFF, control
// characters: C0, DEL, and, as RFC 6855 §3 adds for UTF-8 names, C1, U+2028
// and U+2029) or `out` overflowed. On false `out` holds a partial result.
// A session that enabled UTF8=ACCEPT (RFC 6855) names mailboxes in UTF-8:
// its names go through these both ways (the store keeps modified UTF-7).
bool mutf7_to_utf8(std::string_view mutf7, TextWriter& out);
bool utf8_to_mutf7(std::string_view utf8, TextWriter& out);

// The checks the store needs before it creates or opens a mailbox (see the
// header paragraph). `delimiter` separates hierarchy levels.
bool is_valid_mailbox_name(std::string_view name, char delimiter = kHierarchyDelimiter,
                           const char** why = nullptr);

// RFC 6154 use-attr, as bits (CREATE ... USE (...), LIST attributes).
enum SpecialUse : std::uint8_t {
    kUseAll = 1,
    kUseArchive = 2,
    kUseDrafts = 4,
    kUseFlagged = 8,
    kUseJunk = 16,
    kUseSent = 32,
    kUseTrash = 64,
};
// The bit of a special-use attribute name like "\\Sent" (any case), or 0.
std::uint8_t special_use_bit(std::string_view attr);
// The attribute name of one bit ("\\Sent"), or "" for none.
std::string_view special_use_name(std::uint8_t bit);

}  // namespace tinyimapd::mail
