// Per-user \Seen on shared mailboxes (RFC 4314 §4 "s - keep seen/unseen
// information across sessions", §5.2; docs/STATUS.md "Per-user \Seen"): a
// user who does not own a mailbox keeps their \Seen as the mailbox's hidden
// keyword "%seen/<user>" (core/session/seen_view.h). Registered at their
// first write of it (STORE, FETCH's implicit \Seen, APPEND, COPY into it),
// inside that write's transaction like any new keyword; until then nothing
// is seen by them. Reading goes through SeenView::apply; writing maps \Seen
// to the keyword's bit (seen_store_flags), and keeps the bits nobody named.
#include "core/base/text.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

void Session::selected_access(const MailboxRef& ref) {
    selected_rights_ = ref.rights;
    seen_ = SeenView{};
    seen_.per_user = !ref.own;
}

std::string_view Session::seen_keyword() {
    seen_name_.clear();
    seen_name_.put("%seen/").put(user());
    return seen_name_.ok() ? seen_name_.view() : std::string_view{};
}

// The keyword table only grows while a mailbox is open: bit and hidden are
// taken again when it has.
const SeenView& Session::seen_view() {
    if (selected_ == nullptr) return seen_;
    const std::size_t count = selected_->keyword_count();
    if (seen_.known == count) return seen_;
    const std::string_view mine = seen_keyword();
    seen_.bit = seen_.hidden = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const std::string_view name = selected_->keyword_name(i);
        if (!store::hidden_keyword(name)) continue;
        seen_.hidden |= std::uint64_t{1} << i;
        if (!mine.empty() && ascii::iequals(name, mine)) seen_.bit = std::uint64_t{1} << i;
    }
    seen_.known = count;
    return seen_;
}

void Session::user_flags(store::MessageInfo* m) {
    seen_view().apply(&m->flags, &m->keywords);
}

// The bit of this user's \Seen in the selected mailbox, registered (inside
// the open transaction) with `create`; *mask 0 when there is none.
Status Session::seen_bit(bool create, std::uint64_t* mask) {
    *mask = 0;
    if (!seen_.per_user) return Status::Ok;
    const std::string_view name = seen_keyword();
    if (name.empty()) return Status::TooLong;
    unsigned bit = 0;
    const Status st = selected_->keyword_bit(name, create, &bit);
    if (st == Status::NotFound) return Status::Ok;
    if (st == Status::Ok) *mask = std::uint64_t{1} << bit;
    return st;
}

// STORE's flags for message `seq` after acl_store_flags: a non-owner's
// \Seen is their bit (`mine`), never the flag; a replacing STORE keeps the
// hidden bits the client could not name (the owner's too).
void Session::seen_store_flags(std::uint32_t seq, store::FlagOp op, std::uint64_t mine,
                               std::uint8_t* flags, std::uint64_t* keywords) {
    const SeenView& v = seen_view();
    if (!v.per_user && (op != store::FlagOp::Replace || v.hidden == 0)) return;
    *keywords &= ~v.hidden;
    const bool s = (selected_rights_ & store::kRightSeen) != 0;
    const bool want = s && (*flags & mail::kSeen) != 0;
    if (v.per_user) *flags = static_cast<std::uint8_t>(*flags & ~mail::kSeen);
    if (op != store::FlagOp::Replace) {
        if (want) *keywords |= mine;
        return;
    }
    store::MessageInfo m;
    if (selected_->message(view_, seq, &m) != Status::Ok) return;
    std::uint64_t keep = m.keywords & v.hidden;
    if (v.per_user) {
        *flags = static_cast<std::uint8_t>(*flags | (m.flags & mail::kSeen));
        if (s) keep = (keep & ~mine) | (want ? mine : 0);
    }
    *keywords |= keep;
}

// APPEND into a mailbox the user does not own: \Seen as their keyword.
void Session::seen_append_flags(const MailboxRef& ref, FlagList* flags) {
    if (ref.own || (flags->system & mail::kSeen) == 0) return;
    flags->system = static_cast<std::uint8_t>(flags->system & ~mail::kSeen);
    const std::string_view name = seen_keyword();
    if (name.empty() || flags->keyword_count >= imap::kMaxKeywordsInList) return;
    flags->keywords[flags->keyword_count++] = name;
}

// SELECT's [UNSEEN] for a non-owner: the first message without their bit.
std::uint32_t Session::user_first_unseen() {
    if (!seen_.per_user) return selected_->first_unseen(view_);
    for (std::uint32_t seq = 1; seq <= view_.exists; ++seq) {
        store::MessageInfo m;
        if (selected_->message(view_, seq, &m) != Status::Ok) return 0;
        user_flags(&m);
        if ((m.flags & mail::kSeen) == 0) return seq;
    }
    return 0;
}

// STATUS UNSEEN for a non-owner (the state's count is the owner's): the
// messages without their bit, on a read-only view.
Status Session::user_unseen(store::UserStore& store, const MailboxRef& ref, std::uint32_t* unseen) {
    Result<store::Mailbox*> box = store.open(ref.name);
    if (!box.ok()) return box.status;
    const std::string_view mine = seen_keyword();
    unsigned bit = 0;
    const bool any = !mine.empty() && box.value->keyword_bit(mine, false, &bit) == Status::Ok;
    store::View view;
    box.value->attach(view, true);
    std::uint32_t count = view.exists;
    for (std::uint32_t seq = 1; any && seq <= view.exists; ++seq) {
        store::MessageInfo m;
        if (box.value->message(view, seq, &m) != Status::Ok) break;
        if ((m.keywords & (std::uint64_t{1} << bit)) != 0) --count;
    }
    box.value->detach(view);
    store.close(box.value);
    *unseen = count;
    return Status::Ok;
}

}  // namespace tinyimapd::session
