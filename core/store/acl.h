// Access control lists of mailboxes (RFC 4314): the rights, their letters,
// and the file m.acl that keeps a mailbox's list in its directory (so it
// moves with RENAME and goes with DELETE, RFC 4314 §4).
//
// Rights are bits (Rights); the eleven of RFC 4314 §2.1 and the virtual
// "c" (= k x) and "d" (= e t) of §2.1.1, which are only ever expanded on
// input and added on output.
//
// The file (docs/STORAGE.md "m.acl"): text, LF line ends,
//     tinyimapd-acl 1
//     <rights> <identifier>
//     ...
// rights in the canonical order "lrswipkxtea" (possibly empty), one space,
// the identifier (no control characters, no space) up to the line's end.
// At most kMaxAclEntries entries, identifiers up to kMaxAclIdentifier
// bytes; anything else (a bad header, an unknown letter, a duplicate, too
// long) makes the whole file Invalid. It is replaced whole: m.acl.new is
// written, fsynced, renamed over m.acl and the directory fsynced.
//
// No file means the default list: the owner has every right, nobody else
// has any. Whatever the list says, the owner keeps "l" and "a" on their own
// mailboxes (RFC 4314 §2: so that a mistake can always be undone).
//
// No allocation: an Acl is a fixed array (about 0.5 KiB), read through a
// bounded buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/fixed_string.h"
#include "core/base/status.h"
#include "core/base/text.h"
#include "port/fs.h"

namespace tinyimapd::store {

inline constexpr std::string_view kAclFile = "m.acl";
inline constexpr std::string_view kAclNew = "m.acl.new";
inline constexpr std::string_view kAclHeader = "tinyimapd-acl 1";

using Rights = std::uint16_t;
enum Right : Rights {
    kRightLookup = 1u << 0,   // l
    kRightRead = 1u << 1,     // r
    kRightSeen = 1u << 2,     // s
    kRightWrite = 1u << 3,    // w
    kRightInsert = 1u << 4,   // i
    kRightPost = 1u << 5,     // p
    kRightCreate = 1u << 6,   // k
    kRightDelete = 1u << 7,   // x
    kRightDeleted = 1u << 8,  // t
    kRightExpunge = 1u << 9,  // e
    kRightAdmin = 1u << 10,   // a
};
inline constexpr std::string_view kRightLetters = "lrswipkxtea";
inline constexpr Rights kAllRights = (1u << 11) - 1;
// RFC 4314 §2.1.1 (RIGHTS=texk): "c" is k and x, "d" is e and t.
inline constexpr Rights kVirtualC = kRightCreate | kRightDelete;
inline constexpr Rights kVirtualD = kRightExpunge | kRightDeleted;
// What the owner always keeps on their own mailboxes.
inline constexpr Rights kOwnerKeeps = kRightLookup | kRightAdmin;

inline constexpr std::size_t kMaxAclEntries = 10;
inline constexpr std::size_t kMaxAclIdentifier = 48;
inline constexpr std::string_view kAnyone = "anyone";

// Parses rights letters (c and d expanded); false for any other character
// (RFC 4314 §3.1: an unknown right is BAD), `*bad` then says which.
bool parse_rights(std::string_view letters, Rights* out, char* bad = nullptr);
// Writes the letters of `r`, with "c"/"d" added when any of their members
// is there (§2.1.1: in ACL and MYRIGHTS responses) if `virtuals`.
void write_rights(TextWriter& w, Rights r, bool virtuals);
// True for an identifier we store: 1..kMaxAclIdentifier bytes, no control
// character, no space, not starting with '-' (negative rights, RFC 4314
// §2, are not supported).
bool valid_identifier(std::string_view id);

struct AclEntry {
    FixedString<kMaxAclIdentifier> id;
    Rights rights = 0;
};

struct Acl {
    AclEntry entries[kMaxAclEntries];
    std::size_t count = 0;

    // The default list: `owner` with every right.
    void set_default(std::string_view owner);
    AclEntry* find(std::string_view id);
    const AclEntry* find(std::string_view id) const;
    // Sets (replaces) id's rights; rights 0 removes the entry. False when
    // the list is full.
    bool set(std::string_view id, Rights rights);
    // SETACL's rule (RFC 4314 §3.1): `mod` '+' adds `given` to id's rights,
    // '-' takes them away, else they replace them; DELETEACL (`remove`)
    // clears them; the owner keeps kOwnerKeeps (§2). False when full.
    bool change(std::string_view id, std::string_view owner, char mod, Rights given, bool remove);
    void remove(std::string_view id);
    // What `user` may do: the union of its entry and "anyone"'s, plus
    // kOwnerKeeps when `user` is the owner.
    Rights rights_of(std::string_view user, std::string_view owner) const;
};

// Reads the list of the mailbox whose directory is `dir`: Ok (*out filled),
// NotFound (no file: *out is the default for `owner`), Invalid (a corrupt
// file: *out is the default too, so a broken file shares nothing), or an
// I/O error.
Status read_acl(port::Fs& fs, std::string_view dir, std::string_view owner, Acl* out);
// Replaces the file durably (see above).
Status write_acl(port::Fs& fs, std::string_view dir, const Acl& acl);
// Parses a file's bytes (exposed for `tinyimapd check` and the tests).
Status parse_acl(std::string_view text, Acl* out);
// The longest file write_acl makes.
inline constexpr std::size_t kMaxAclFile =
    kAclHeader.size() + 1 + kMaxAclEntries * (11 + 1 + kMaxAclIdentifier + 1);

}  // namespace tinyimapd::store
