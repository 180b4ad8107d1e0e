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
#include "core/store/acl.h"
#include "port/fs.h"

namespace tinyimapd::session {

inline constexpr std::string_view kOtherUsersPrefix = "Other Users/";
inline constexpr std::string_view kSharedPrefix = "Shared/";

struct MailboxRef {
    FixedString<port::kMaxPath> root;  // the owner's root directory
    std::string_view name;             // the name in the owner's tree (a view of the given name)
    FixedString<255> owner;
    bool own = true;            // the session's user's own tree
    bool exists = false;        // the name is a mailbox or a \Noselect parent
    store::Rights rights = 0;   // the session user's rights on it
    store::Rights visible() const {  // RFC 4314 §6: l or r, else "no such mailbox"
        return rights & (store::kRightLookup | store::kRightRead);
    }
};

}  // namespace tinyimapd::session
