// LIST over the other users' and the shared namespaces (RFC 2342, RFC 4314
// §4 "LIST - l right is required"): the mailboxes of other users' trees
// that this user may look up, named "Other Users/<user>/<name>" and
// "Shared/<name>", with "Other Users", "Other Users/<user>" and "Shared"
// as \Noselect parents when something below them is visible.
#include "core/base/text.h"
#include "core/session/session.h"
#include "core/store/name_map.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

namespace {

constexpr std::size_t kFullName = mail::kMaxMailboxName + 2 * store::kMaxAclIdentifier + 64;

template <class F>
class DirFn final : public port::DirVisitor {
public:
    explicit DirFn(F f) : f_(f) {}
    bool entry(std::string_view name, port::FileType type) override { return f_(name, type); }

private:
    F f_;
};

// False when no name under `prefix` (nor its parents) can match `pattern`:
// the pattern's head before its first wildcard disagrees with the prefix
// (LIST "" INBOX walks no other tree).
bool could_match(std::string_view pattern, std::string_view prefix) {
    const std::string_view head = pattern.substr(0, pattern.find_first_of("*%"));
    const std::size_t n = head.size() < prefix.size() ? head.size() : prefix.size();
    return head.substr(0, n) == prefix.substr(0, n);
}

}  // namespace

bool Session::may_look_up(store::UserStore& store, std::string_view owner, std::string_view name) {
    store::Path dir;
    if (store.mailbox_dir(name, &dir) != Status::Ok) return false;
    store::Acl acl;
    (void)store::read_acl(services_.registry->services().fs, dir.view(), owner, &acl);
    return (acl.rights_of(user(), owner) & store::kRightLookup) != 0;
}

// One owner's visible mailboxes under `prefix` ("Other Users/<owner>/" or
// "Shared/"); false when `out` stopped the walk.
bool Session::list_owner(std::string_view owner, std::string_view prefix, std::string_view pattern,
                         store::ListVisitor& out, bool* top_sent) {
    const FixedString<port::kMaxPath> root = root_of(owner);
    store::UserStore store(*services_.registry, root.view());
    bool any = false;
    auto probe = [&](std::string_view name, std::uint8_t) {
        any = may_look_up(store, owner, name);
        return !any;
    };
    store::ListFn<decltype(probe)> pv(probe);
    if (store.list("", "*", pv) != Status::Ok || !any) return true;
    constexpr std::uint8_t kParent = store::kNoselect | store::kHasChildren;
    // The parents: "Other Users" once, then "Other Users/<owner>"; "Shared".
    const std::string_view top = prefix.substr(0, prefix.find('/'));
    if (!*top_sent && store::match_pattern(pattern, top)) {
        *top_sent = true;
        if (!out.mailbox(top, kParent)) return false;
    }
    *top_sent = true;
    if (top.size() + 1 < prefix.size()) {
        const std::string_view mid = prefix.substr(0, prefix.size() - 1);
        if (store::match_pattern(pattern, mid) && !out.mailbox(mid, kParent)) return false;
    }
    bool go = true;
    auto each = [&](std::string_view name, std::uint8_t attrs) {
        FixedText<kFullName> full;
        full.put(prefix).put(name);
        if (!full.ok() || !store::match_pattern(pattern, full.view())) return true;
        if (!may_look_up(store, owner, name)) return true;
        go = out.mailbox(full.view(), attrs);
        return go;
    };
    store::ListFn<decltype(each)> ev(each);
    (void)store.list("", "*", ev);
    return go;
}

// A subscribed name in the other users' or shared namespace (LSUB, LIST
// (SUBSCRIBED)): its attributes from its owner's tree and this user's
// rights (\NonExistent when they may not look it up: RFC 4314 §4 LSUB, §6).
std::uint8_t Session::subscribed_attrs(std::string_view name, std::uint8_t attrs) {
    const bool other =
        name.substr(0, kOtherUsersPrefix.size()) == kOtherUsersPrefix ||
        (!config_.public_owner.empty() && name.substr(0, kSharedPrefix.size()) == kSharedPrefix);
    if (!other) return attrs;
    attrs = static_cast<std::uint8_t>(attrs & ~(store::kNoselect | store::kNonExistent));
    MailboxRef ref;
    if (resolve_mailbox(name, &ref) != Status::Ok || !ref.exists ||
        (ref.rights & store::kRightLookup) == 0) {
        return attrs | store::kNoselect | store::kNonExistent;
    }
    store::UserStore store(*services_.registry, ref.root.view());
    store::Path dir;
    FixedText<port::kMaxPath + 8> data;
    if (store.mailbox_dir(ref.name, &dir) == Status::Ok) {
        data.put(dir.view()).put('/').put(store::kDataFile);
    }
    port::FileInfo info;
    const bool selectable =
        data.ok() && data.size() > 0 &&
        services_.registry->services().fs.stat(data.view(), &info) == Status::Ok;
    return selectable ? attrs : static_cast<std::uint8_t>(attrs | store::kNoselect);
}

// LIST's walk beyond the user's own tree, for one joined pattern.
Status Session::list_others(std::string_view pattern, store::ListVisitor& out) {
    if (services_.registry == nullptr) return Status::Ok;
    port::Fs& fs = services_.registry->services().fs;
    bool go = true, top_sent = false;
    auto user_dir = [&](std::string_view name, port::FileType type) {
        PasswdEntry entry;
        if (type != port::FileType::Directory || name == user() ||
            name.size() > store::kMaxAclIdentifier || !services_.passwd.lookup(name, &entry)) {
            return true;
        }
        FixedText<kFullName> prefix;
        prefix.put(kOtherUsersPrefix).put(name).put('/');
        go = prefix.ok() && list_owner(name, prefix.view(), pattern, out, &top_sent);
        return go;
    };
    DirFn<decltype(user_dir)> dv(user_dir);
    if (could_match(pattern, kOtherUsersPrefix)) (void)fs.list(services_.mail_dir, dv);
    const std::string_view shared = config_.public_owner;
    if (go && !shared.empty() && shared != user() && could_match(pattern, kSharedPrefix)) {
        bool shared_top = false;
        (void)list_owner(shared, kSharedPrefix, pattern, out, &shared_top);
    }
    return Status::Ok;
}

}  // namespace tinyimapd::session
