// A mailbox name as a session resolves it (RFC 2342 namespaces, RFC 4314
// rights; cmd_acl.cpp Session::resolve_mailbox): whose tree it is in, its
// name there, and what this session's user may do with it.
//
//   <name>                          the user's own mailbox
//   Other Users/<user>/<name>       <user>'s mailbox
//   Shared/<name>                   the public owner's mailbox (`public_owner`)
#pragma once

#include <string_view>

#include "core/base/fixed_string.h"
#include "core/mail/flags.h"
#include "core/store/acl.h"
#include "port/fs.h"

namespace tinyimapd::session {

inline constexpr std::string_view kOtherUsersPrefix = "Other Users/";
inline constexpr std::string_view kSharedPrefix = "Shared/";

struct MailboxRef {
    FixedString<port::kMaxPath> root;  // the owner's root directory
    std::string_view name;             // the name in the owner's tree (a view of the given name)
    FixedString<255> owner;
    std::string_view owner_name;     // the same, a view of the name, configuration or user
    bool own = true;                 // the session's user's own tree
    bool exists = false;             // the name is a mailbox or a \Noselect parent
    store::Rights rights = 0;        // the session user's rights on it
    store::Rights visible() const {  // RFC 4314 §6: l or r, else "no such mailbox"
        return rights & (store::kRightLookup | store::kRightRead);
    }
    // SELECT opens it read-write when any message may be changed (§4).
    bool writable() const { return writable_with(rights); }
    static bool writable_with(store::Rights r) {
        return (r & (store::kRightSeen | store::kRightWrite | store::kRightDeleted |
                     store::kRightExpunge | store::kRightInsert)) != 0;
    }
    // The system flags these rights may set (§4: s \Seen, t \Deleted, w the
    // others; keywords need w too).
    std::uint8_t flag_mask() const { return flag_mask_of(rights); }
    static std::uint8_t flag_mask_of(store::Rights r) {
        std::uint8_t m = 0;
        if ((r & store::kRightSeen) != 0) m |= mail::kSeen;
        if ((r & store::kRightDeleted) != 0) m |= mail::kDeleted;
        if ((r & store::kRightWrite) != 0) m |= mail::kAnswered | mail::kFlagged | mail::kDraft;
        return m;
    }
};

}  // namespace tinyimapd::session
