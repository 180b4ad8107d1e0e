// ACL (RFC 4314): SETACL DELETEACL GETACL LISTRIGHTS MYRIGHTS (§3), and the
// resolution of a mailbox name to its owner's tree and this user's rights
// (RFC 2342 namespaces: "Other Users/<user>/", "Shared/").
//
// The rights live in the mailbox's m.acl (core/store/acl.h). A user who has
// neither "l" nor "r" on a mailbox is told it does not exist, whatever the
// command (RFC 4314 §6: no leak of existence); one who may look it up but
// lacks the right a command needs gets NO [NOPERM] (RFC 5530 §3).
#include "core/base/text.h"
#include "core/imap/encoder.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

namespace {

constexpr std::size_t kLine = kMaxUntaggedLine;

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

// A user name as a directory under mail_dir: one plain path component.
bool plain_component(std::string_view s) {
    return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
           s.find('\0') == std::string_view::npos;
}

constexpr store::Rights kAnyRight = store::kRightLookup | store::kRightRead | store::kRightInsert |
                                    store::kRightCreate | store::kRightDelete | store::kRightAdmin;

}  // namespace

// The owner and the name in their tree; then the m.acl of the mailbox's
// directory (or the default: the owner has every right). NotFound for an
// unknown user or a name outside every namespace; Invalid/TooLong for a
// bad name.
Status Session::resolve_mailbox(std::string_view name, MailboxRef* out) {
    out->name = name;
    out->own = true;
    out->exists = false;
    out->rights = 0;
    if (services_.registry == nullptr) return Status::NotFound;
    std::string_view owner = user();
    if (starts_with(name, kOtherUsersPrefix)) {
        const std::string_view rest = name.substr(kOtherUsersPrefix.size());
        const std::size_t cut = rest.find('/');
        if (cut == std::string_view::npos) return Status::NotFound;
        owner = rest.substr(0, cut);
        out->name = rest.substr(cut + 1);
        out->own = owner == user();
        PasswdEntry entry;
        if (!plain_component(owner) || !services_.passwd.lookup(owner, &entry)) {
            return Status::NotFound;
        }
    } else if (!config_.public_owner.empty() && starts_with(name, kSharedPrefix)) {
        owner = config_.public_owner;
        out->name = name.substr(kSharedPrefix.size());
        out->own = owner == user();
        if (!plain_component(owner)) return Status::NotFound;
    }
    if (out->name.empty()) return Status::NotFound;
    if (!out->owner.assign(owner)) return Status::TooLong;
    out->owner_name = owner;
    if (out->own) {
        if (!out->root.assign(user_root_.view())) return Status::TooLong;
    } else {
        FixedText<port::kMaxPath> root;
        root.put(services_.mail_dir).put('/').put(owner);
        if (!root.ok() || !out->root.assign(root.view())) return Status::TooLong;
    }
    port::Fs& fs = services_.registry->services().fs;
    store::UserStore store(*services_.registry, out->root.view());
    store::Path dir;
    const Status st = store.mailbox_dir(out->name, &dir);
    if (st != Status::Ok) return st;
    port::FileInfo info;
    out->exists =
        fs.stat(dir.view(), &info) == Status::Ok && info.type == port::FileType::Directory;
    store::Acl acl;
    (void)store::read_acl(fs, dir.view(), owner, &acl);  // a bad file: the default
    out->rights = acl.rights_of(user(), owner);
    return Status::Ok;
}

FixedString<port::kMaxPath> Session::root_of(std::string_view owner) const {
    FixedString<port::kMaxPath> root;
    if (owner.empty() || owner == user()) {
        root = user_root_;
    } else {
        FixedText<port::kMaxPath> t;
        t.put(services_.mail_dir).put('/').put(owner);
        if (t.ok()) (void)root.assign(t.view());
    }
    return root;
}

// The nearest existing parent of ref.name in the owner's tree (its name as
// the client wrote it: `full_name` cut), and whether the user has `needed`
// there; Permission when there is none (another user's top level).
Status Session::parent_rights(std::string_view full_name, const MailboxRef& ref,
                              store::Rights needed) {
    const std::size_t prefix = full_name.size() - ref.name.size();
    std::string_view name = ref.name;
    for (std::size_t cut = name.rfind('/'); cut != std::string_view::npos && cut > 0;
         cut = name.rfind('/')) {
        name = name.substr(0, cut);
        MailboxRef parent;
        if (resolve_mailbox(full_name.substr(0, prefix + cut), &parent) != Status::Ok) break;
        if (parent.exists) return (parent.rights & needed) != 0 ? Status::Ok : Status::Permission;
    }
    return Status::Permission;
}

Status Session::check_access(std::string_view name, store::Rights needed, MailboxRef* out) {
    const Status st = resolve_mailbox(name, out);
    if (st != Status::Ok) return st;
    if (out->visible() == 0) return Status::NotFound;  // §6: no leak of existence
    return (out->rights & needed) != 0 ? Status::Ok : Status::Permission;
}

void Session::answer_access(Status st) {
    if (st == Status::Permission) {
        tagged("NO", "NOPERM", "You do not have the rights for this on that mailbox");
    } else {
        answer_store(st, "");
    }
}

bool Session::resolve_for(std::string_view name, store::Rights needed, MailboxRef* out) {
    const Status st = check_access(name, needed, out);
    if (st != Status::Ok) answer_access(st);
    return st == Status::Ok;
}

// RFC 4314 §4 "Changing flags": s for \Seen, t for \Deleted, w for the
// others and keywords. Add and Remove drop what is not allowed; Replace
// keeps the message's own value of those.
void Session::acl_store_flags(std::uint32_t seq, store::FlagOp op, std::uint8_t* flags,
                              std::uint64_t* keywords) {
    const std::uint8_t mask = MailboxRef::flag_mask_of(selected_rights_);
    const bool write = (selected_rights_ & store::kRightWrite) != 0;
    constexpr std::uint8_t kAll =
        mail::kSeen | mail::kDeleted | mail::kAnswered | mail::kFlagged | mail::kDraft;
    if (mask == kAll && write) return;
    if (op != store::FlagOp::Replace) {
        *flags = static_cast<std::uint8_t>(*flags & mask);
        if (!write) *keywords = 0;
        return;
    }
    store::MessageInfo m;
    if (selected_->message(view_, seq, &m) != Status::Ok) return;
    *flags = static_cast<std::uint8_t>((m.flags & ~mask & ~mail::kRecent) | (*flags & mask));
    if (!write) *keywords = m.keywords;
}

void Session::cmd_acl(const ParsedCommand& cmd) {
    MailboxRef ref;
    const Status st = resolve_mailbox(cmd.mailbox, &ref);
    if (st != Status::Ok && st != Status::NotFound) {
        answer_store(st, "");
        return;
    }
    // §4: MYRIGHTS needs any of l r i k x a; the others need a.
    const store::Rights needed =
        cmd.id == CommandId::MyRights ? kAnyRight : store::Rights{store::kRightAdmin};
    if (st == Status::NotFound || !ref.exists || ref.visible() == 0) {
        answer_store(Status::NotFound, "");  // §6: as if it did not exist
        return;
    }
    if ((ref.rights & needed) == 0) {
        tagged("NO", "NOPERM", "You may not read or change the rights of this mailbox");
        return;
    }
    if (cmd.id == CommandId::SetAcl || cmd.id == CommandId::DeleteAcl) {
        acl_change(cmd, ref);
    } else {
        acl_answer(cmd, ref);
    }
}

// SETACL (§3.1) and DELETEACL (§3.2). The owner keeps "l" and "a" on their
// own mailbox whatever is asked (§2; LISTRIGHTS shows them as required).
void Session::acl_change(const ParsedCommand& cmd, MailboxRef& ref) {
    const std::string_view id = cmd.acl_identifier;
    if (!id.empty() && id[0] == '-') {
        tagged("NO", "CANNOT", "Negative rights are not supported");
        return;
    }
    if (!store::valid_identifier(id)) {
        tagged("BAD", "", "Invalid identifier");
        return;
    }
    store::Rights given = 0;
    std::string_view letters = cmd.acl_rights;
    const char mod = letters.empty() ? '\0' : letters[0];
    if (mod == '+' || mod == '-') letters.remove_prefix(1);
    char bad = 0;
    if (cmd.id == CommandId::SetAcl && !store::parse_rights(letters, &given, &bad)) {
        FixedText<64> why;
        why.put("The ").put(bad).put(" right is not supported");
        tagged("BAD", "", why.view());
        return;
    }
    port::Fs& fs = services_.registry->services().fs;
    store::UserStore store(*services_.registry, ref.root.view());
    store::Path dir;
    Status st = store.mailbox_dir(ref.name, &dir);
    store::Acl acl;
    if (st == Status::Ok) {
        st = store::read_acl(fs, dir.view(), ref.owner.view(), &acl);
        if (st == Status::NotFound || st == Status::Invalid) st = Status::Ok;
    }
    if (st != Status::Ok) {
        answer_store(st, "");
        return;
    }
    if (!acl.change(id, ref.owner.view(), mod, given, cmd.id == CommandId::DeleteAcl)) {
        tagged("NO", "LIMIT", "Too many identifiers in this mailbox's ACL");
        return;
    }
    // The selected mailbox's rights are those of its SELECT (§5.1.1).
    st = store::write_acl(fs, dir.view(), acl);
    if (st == Status::Ok) notify_post_acl(ref);  // RFC 5465 §5.9
    answer_store(st, cmd.id == CommandId::SetAcl ? "SETACL completed" : "DELETEACL completed");
}

// GETACL (§3.3, §3.6), LISTRIGHTS (§3.4, §3.7), MYRIGHTS (§3.5, §3.8).
void Session::acl_answer(const ParsedCommand& cmd, const MailboxRef& ref) {
    FixedText<kLine> line;
    ResponseWriter r(line);
    FixedText<kWireName> name;
    FixedText<32> rights;
    r.star();
    if (cmd.id == CommandId::MyRights) {
        store::write_rights(rights, ref.rights, true);
        r.atom("MYRIGHTS").mailbox(wire_name(cmd.mailbox, name)).astring(rights.view());
    } else if (cmd.id == CommandId::GetAcl) {
        port::Fs& fs = services_.registry->services().fs;
        store::UserStore store(*services_.registry, ref.root.view());
        store::Path dir;
        store::Acl acl;
        if (store.mailbox_dir(ref.name, &dir) == Status::Ok) {
            (void)store::read_acl(fs, dir.view(), ref.owner.view(), &acl);
        }
        r.atom("ACL").mailbox(wire_name(cmd.mailbox, name));
        for (std::size_t i = 0; i < acl.count; ++i) {
            rights.clear();
            store::write_rights(rights, acl.entries[i].rights, true);
            r.astring(acl.entries[i].id.view()).astring(rights.view());
        }
    } else {
        // The owner always has l and a (§2); no rights are tied together
        // beyond c and d (RIGHTS=texk, §2.1.1).
        const bool owner = cmd.acl_identifier == ref.owner.view();
        r.atom("LISTRIGHTS").mailbox(wire_name(cmd.mailbox, name)).astring(cmd.acl_identifier);
        r.astring(owner ? "la" : "");
        for (char c : store::kRightLetters) {
            if (owner && (c == 'l' || c == 'a')) continue;
            r.atom(std::string_view(&c, 1));
        }
        r.atom("c").atom("d");
    }
    r.crlf();
    if (!r.append_to(out_)) {
        tagged("NO", "LIMIT", "The answer is too long");
        return;
    }
    tagged("OK", "",
           cmd.id == CommandId::MyRights ? "MYRIGHTS completed"
           : cmd.id == CommandId::GetAcl ? "GETACL completed"
                                         : "LISTRIGHTS completed");
}

}  // namespace tinyimapd::session
