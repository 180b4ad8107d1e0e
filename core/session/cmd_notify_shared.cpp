// NOTIFY (RFC 5465 §6) over the other users' and shared namespaces (RFC
// 2342, RFC 4314): SUBSCRIBED, SUBTREE and MAILBOXES may name
// "Other Users/<user>/<name>" and "Shared/<name>" (PERSONAL and INBOXES
// never do, §6.2, §6.3). Such a mailbox is watched only while this user has
// both `l` and `r` on it (checked at every look at it, so a right taken away
// stops the STATUS lines at once), and its tree events, posted under the
// owner's names, are told under this user's names.
#include "core/base/text.h"
#include "core/imap/encoder.h"
#include "core/mail/metadata_name.h"
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

// `in`, a name in `owner`'s tree, as another user names it: under
// "Shared/" for the public owner, else "Other Users/<owner>/".
bool view_name(TextWriter& out, std::string_view owner, bool shared, std::string_view in) {
    if (shared) {
        out.put(kSharedPrefix);
    } else {
        out.put(kOtherUsersPrefix).put(owner).put('/');
    }
    out.put(in);
    return out.ok();
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

// RFC 4314 §4: a shared mailbox's UNSEEN for FlagChange (§5.1) is this
// user's own (per-user \Seen, cmd_seen.cpp), counted by a walk when the
// mailbox's HIGHESTMODSEQ moved (every \Seen change moves it); the peek's
// count is the owner's.
void Session::notify_user_unseen(std::string_view name, const NotifyState::Watch& w,
                                 store::StatusInfo* info) {
    if (w.known && !w.pending_status && info->highest_modseq == w.highest_modseq) {
        info->unseen = w.unseen;
        return;
    }
    MailboxRef ref;
    if (check_access(name, store::kRightRead, &ref) != Status::Ok || ref.own) return;
    store::UserStore store(*services_.registry, ref.root.view());
    std::uint32_t unseen = 0;
    if (user_unseen(store, ref, &unseen) == Status::Ok) {
        info->unseen = unseen;
    } else if (w.known) {
        info->unseen = w.unseen;  // no slot to open it now: as it was
    }
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
        return view_name(out, owner, shared, in);
    };
    FixedText<kViewName> name, old;
    const bool renamed = e.kind == Kind::Renamed;
    if (!view(name, e.name.view()) || (renamed && !view(old, e.old_name.view()))) return true;
    if (notify_matches(name.view(), 0xFF) || (renamed && notify_matches(old.view(), 0xFF))) {
        notify_->rescan = true;
    }
    // §5.9: access lost or granted: the set is worked out again (above);
    // no \NoAccess LIST.
    if (e.kind == Kind::AclChanged) return true;
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

// RFC 5465 §5.9: after SETACL/DELETEACL, sessions of the other users that
// watch the mailbox stop or start watching it at their next turn (the
// rights are also read at every look, and at the periodic rescan for the
// `acl` tool's changes).
void Session::notify_post_acl(const MailboxRef& ref) {
    if (services_.notify_events == nullptr) return;
    (void)services_.notify_events->post(NotifyEvents::Kind::AclChanged,
                                        NotifyEvents::user_hash(ref.root.view()), ref.owner.view(),
                                        this, ref.name);
    services_.notify_events->commit();
}

// ---- METADATA events (RFC 5465 §5.6, §5.7) ------------------------------------

// After a SETMETADATA: one event for its /private entries (heard of by
// this user's sessions only) and one for its /shared ones (by everyone
// who may see the mailbox, or every user for the server's), each naming
// the entries that changed, removed ones too (§5.6: "MUST always be
// included"); more events only when the names do not fit one.
void Session::notify_post_metadata(const ParsedCommand& cmd) {
    NotifyEvents* events = services_.notify_events;
    if (events == nullptr) return;
    const bool server = cmd.mailbox.empty();
    MailboxRef ref;
    if (!server && resolve_mailbox(cmd.mailbox, &ref) != Status::Ok) return;
    const std::uint64_t owner = server ? 0 : NotifyEvents::user_hash(ref.root.view());
    const std::uint64_t me = NotifyEvents::user_hash(user_root_.view());
    const auto kind = server ? NotifyEvents::Kind::ServerMetadata : NotifyEvents::Kind::MailboxMetadata;
    for (int pass = 0; pass < 2; ++pass) {
        const bool mine = pass == 0;
        FixedText<mail::kMaxMailboxName> list;
        auto post = [&] {
            NotifyEvents::Event& e = events->post(kind, owner, server ? std::string_view() : ref.owner_name,
                                                  this, server ? std::string_view() : ref.name,
                                                  list.view());
            e.viewer = mine ? me : 0;
            events->commit();
            list.clear();
        };
        ArgReader items = cmd.metadata.items;
        for (std::size_t i = 0; i < cmd.metadata.count; ++i) {
            std::string_view entry, value;
            bool remove = false;
            if (!items.astring(&entry) || !items.nstring(&value, &remove)) break;
            const char* why = "";
            mail::EntryScope scope = mail::EntryScope::Shared;
            (void)mail::is_valid_entry_name(entry, true, &why, &scope);
            if ((scope == mail::EntryScope::Private) != mine) continue;
            if (list.size() > 0 && list.size() + 1 + entry.size() > mail::kMaxMailboxName) post();
            if (list.size() > 0) list.put('\t');  // no entry name holds a control
            list.put(entry);
        }
        if (list.size() > 0) post();
    }
}

// One METADATA event from another session: told as `* METADATA mailbox
// entries` (RFC 5464 §4.4.2) when a group asks for it, under this user's
// name of the mailbox, and only when this user may see the mailbox's
// annotations (RFC 5464 §3.3: l and one of r s w i p). False when the
// output has no room now.
bool Session::notify_metadata_event(const NotifyEvents::Event& e, std::uint64_t me) {
    if (e.viewer != 0 && e.viewer != me) return true;
    if (e.kind == NotifyEvents::Kind::ServerMetadata) {
        for (std::size_t i = 0; i < notify_->group_count; ++i) {
            if ((notify_->groups[i].events & imap::kNotifyServerMetadataChange) != 0) {
                return notify_metadata_line({}, e.old_name.view());
            }
        }
        return true;
    }
    FixedText<kViewName> name;
    if (e.user == me) {
        name.put(e.name.view());
    } else {
        const std::string_view owner = e.owner.view();
        if (owner.empty() || !view_name(name, owner, owner == config_.public_owner, e.name.view())) {
            return true;
        }
        constexpr store::Rights kAny = store::kRightRead | store::kRightSeen | store::kRightWrite |
                                       store::kRightInsert | store::kRightPost;
        MailboxRef ref;
        if (check_access(name.view(), kAny, &ref) != Status::Ok ||
            (ref.rights & store::kRightLookup) == 0) {
            return true;
        }
    }
    if (!name.ok() || !notify_matches(name.view(), imap::kNotifyMailboxMetadataChange)) return true;
    return notify_metadata_line(name.view(), e.old_name.view());
}

bool Session::notify_metadata_line(std::string_view name, std::string_view entries) {
    FixedText<kWireName + mail::kMaxMailboxName + 64> line;
    ResponseWriter r(line);
    FixedText<kWireName> wire;
    r.star().atom("METADATA").mailbox(wire_name(name, wire));
    while (!entries.empty()) {
        const std::size_t cut = entries.find('\t');
        r.astring(entries.substr(0, cut));
        entries = cut == std::string_view::npos ? std::string_view() : entries.substr(cut + 1);
    }
    r.crlf();
    if (!r.ok()) return true;  // cannot happen (the sizes above)
    if (out_.room() < line.size() + kResponseReserve) return false;
    (void)r.append_to(out_);
    return true;
}

}  // namespace tinyimapd::session
