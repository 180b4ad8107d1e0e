// NOTIFY (RFC 5465 §6) over the other users' and shared namespaces (RFC
// 2342, RFC 4314): SUBSCRIBED, SUBTREE and MAILBOXES may name
// "Other Users/<user>/<name>" and "Shared/<name>" (PERSONAL and INBOXES
// never do, §6.3, §6.4). Such a mailbox is watched only while this user has
// both `l` and `r` on it (checked at every look at it, so a right taken away
// stops the STATUS lines at once), and its tree events, posted under the
// owner's names, are told under this user's names.
#include "core/base/text.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

namespace {

constexpr std::size_t kViewName = mail::kMaxMailboxName + store::kMaxAclIdentifier + 16;

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// True if `top` (a SUBTREE or MAILBOXES name) is one of the namespaces'
// parents: "Other Users", "Shared" (or a name inside them).
bool names_namespace(std::string_view top, std::string_view prefix) {
    return starts_with(prefix, top) || starts_with(top, prefix);
}

}  // namespace

bool Session::notify_foreign(std::string_view name) const {
    return starts_with(name, kOtherUsersPrefix) ||
           (!config_.public_owner.empty() && starts_with(name, kSharedPrefix));
}

// True when a group may name another user's or a shared mailbox: the walk
// over the other trees is skipped otherwise (most sessions).
bool Session::notify_reaches_others() {
    for (std::size_t i = 0; i < notify_->group_count; ++i) {
        const NotifyState::Group& g = notify_->groups[i];
        const std::uint8_t message =
            imap::kNotifyMessageNew | imap::kNotifyMessageExpunge | imap::kNotifyFlagChange;
        if ((g.events & message) == 0) continue;
        if (g.filter == imap::NotifyFilter::Subscribed) return true;
        if (g.filter != imap::NotifyFilter::Subtree && g.filter != imap::NotifyFilter::Mailboxes) {
            continue;
        }
        const char* at = notify_->text + g.names;
        for (std::size_t k = 0; k < g.name_count; ++k) {
            const std::string_view top(at);
            at += top.size() + 1;
            if (names_namespace(top, kOtherUsersPrefix) ||
                (!config_.public_owner.empty() && names_namespace(top, kSharedPrefix))) {
                return true;
            }
        }
    }
    return false;
}

// RFC 4314 §4, §6: a mailbox of another tree is watched when this user may
// look it up (l) and read it (r), as STATUS needs.
bool Session::notify_may_read(std::string_view name) {
    MailboxRef ref;
    return check_access(name, store::kRightRead, &ref) == Status::Ok && ref.exists &&
           (ref.rights & store::kRightLookup) != 0;
}

// The directory of a watched mailbox; false when it is not one this user
// may read now (the rights are read again each time).
bool Session::notify_dir(std::string_view name, store::Path* dir) {
    if (!notify_foreign(name)) {
        return store::UserStore(*services_.registry, user_root_.view()).mailbox_dir(name, dir) ==
               Status::Ok;
    }
    MailboxRef ref;
    if (check_access(name, store::kRightRead, &ref) != Status::Ok ||
        (ref.rights & store::kRightLookup) == 0) {
        return false;
    }
    return store::UserStore(*services_.registry, ref.root.view()).mailbox_dir(ref.name, dir) ==
           Status::Ok;
}

bool Session::notify_watching(std::string_view name) const {
    for (std::size_t i = 0; i < notify_->watch_count; ++i) {
        if (notify_->watch_name(notify_->watch[i]) == name) return true;
    }
    return false;
}

// Another user's CREATE, DELETE or RENAME (§5.4), told under this user's
// names when a MailboxName filter covers them and this user may see the
// mailbox: `l` on it now (CREATE, RENAME's new name), or, for a DELETE,
// it was in the watched set (its rights cannot be read any more). A
// matching name also has the watched set worked out again. False when
// the output has no room now.
bool Session::notify_foreign_event(const NotifyEvents::Event& e) {
    using Kind = NotifyEvents::Kind;
    const std::string_view owner = e.owner.view();
    if (e.kind == Kind::Subscribed || e.kind == Kind::Unsubscribed || owner.empty() ||
        owner == user() || notify_->group_count == 0) {
        return true;
    }
    const bool shared = owner == config_.public_owner;
    auto view = [&](FixedText<kViewName>& out, std::string_view in) {
        if (shared) {
            out.put(kSharedPrefix);
        } else {
            out.put(kOtherUsersPrefix).put(owner).put('/');
        }
        out.put(in);
        return out.ok();
    };
    FixedText<kViewName> name, old;
    const bool renamed = e.kind == Kind::Renamed;
    if (!view(name, e.name.view()) || (renamed && !view(old, e.old_name.view()))) return true;
    if (notify_matches(name.view(), 0xFF) || (renamed && notify_matches(old.view(), 0xFF))) {
        notify_->rescan = true;
    }
    if (!notify_matches(name.view(), imap::kNotifyMailboxName) &&
        !(renamed && notify_matches(old.view(), imap::kNotifyMailboxName))) {
        return true;
    }
    MailboxRef ref;
    const bool visible = e.kind == Kind::Deleted
                             ? notify_watching(name.view())
                             : check_access(name.view(), store::kRightLookup, &ref) == Status::Ok;
    if (!visible) return true;
    if (out_.room() < 2 * (2 * kWireName + 96) + kResponseReserve) return false;
    store::UserStore mine(*services_.registry, user_root_.view());
    auto attrs = [&](std::uint8_t a, std::string_view full) {
        a = static_cast<std::uint8_t>(a & ~store::kSubscribed);
        return static_cast<std::uint8_t>(a | (mine.is_subscribed(full) ? store::kSubscribed : 0));
    };
    if (renamed) return notify_list_line(name.view(), attrs(e.attrs, name.view()), old.view());
    (void)notify_list_line(name.view(), attrs(e.attrs, name.view()), {});
    const std::string_view in_owner = e.name.view();
    const std::size_t slash = in_owner.rfind(mail::kHierarchyDelimiter);
    FixedText<kViewName> parent;
    if (slash != std::string_view::npos && slash != 0 &&
        view(parent, ascii::head(in_owner, slash)) &&
        check_access(parent.view(), store::kRightLookup, &ref) == Status::Ok) {
        (void)notify_list_line(parent.view(), attrs(e.parent_attrs, parent.view()), {});
    }
    return true;
}

}  // namespace tinyimapd::session
