// NOTIFY (RFC 5465): the command (§3.1), the events of §5 as the client
// hears of them between commands and while idling (§4), and the watched
// set of mailboxes of §6 (core/session/notify.h says what is kept and how
// changes are found).
#include "core/base/text.h"
#include "core/imap/encoder.h"
#include "core/session/command_support.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

namespace {

using imap::NotifyFilter;

// §3.1: BADEVENT lists every event this server supports.
constexpr std::string_view kBadEvent =
    "BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange "
    "MailboxMetadataChange ServerMetadataChange)";
// A LIST line with two names (RENAME's OLDNAME), each up to kWireName bytes.
constexpr std::size_t kNotifyLine = 2 * kWireName + 96;

bool same_name(std::string_view a, std::string_view b) {
    return a == b || (mail::is_inbox(a) && mail::is_inbox(b));
}

// §6.5: the mailbox itself and everything below it.
bool in_subtree(std::string_view name, std::string_view top) {
    if (same_name(name, top)) return true;
    return name.size() > top.size() && name.compare(0, top.size(), top) == 0 &&
           name[top.size()] == mail::kHierarchyDelimiter;
}

bool selected_filter(NotifyFilter f) {
    return f == NotifyFilter::Selected || f == NotifyFilter::SelectedDelayed;
}

// STATUS items as bits of imap::status_bit.
constexpr std::uint16_t bit(imap::StatusItem item) {
    return imap::status_bit(item);
}

}  // namespace

// ---- NOTIFY (§3.1) ------------------------------------------------------------

void Session::cmd_notify(const ParsedCommand& cmd) {
    const imap::NotifySpec& spec = cmd.notify;
    if (spec.none) {
        notify_release();
        tagged("OK", "", "NOTIFY completed");
        return;
    }
    if (spec.bad_event) {
        tagged("NO", kBadEvent, "Unsupported NOTIFY event");
        return;
    }
    // The state is lent from the shared pool (notify_sessions) while
    // notifications are on; none free: a clear NO, the session goes on
    // without NOTIFY (RFC 5530 LIMIT).
    if (notify_ == nullptr && services_.notify_pool != nullptr) {
        notify_ = services_.notify_pool->take();
    }
    if (notify_ == nullptr) {
        tagged("NO", "LIMIT", "Too many sessions use NOTIFY; try again later");
        return;
    }
    notify_->active = false;
    if (!notify_copy_fetch(cmd) || !notify_copy_groups(cmd)) {
        notify_release();
        return;
    }
    notify_->event_seq = services_.notify_events != nullptr ? services_.notify_events->next() : 0;
    notify_->watch_count = 0;
    notify_->names_used = 0;
    notify_->next_peek = 0;
    if (!notify_expand()) {
        notify_release();
        tagged("NO", "NOTIFICATIONOVERFLOW", "Too many mailboxes to watch; name fewer");
        return;
    }
    notify_->active = true;
    notify_->rescan = false;
    notify_->fetched_box = nullptr;  // the selected mailbox's messages so far are known
    // §3.1: with STATUS, a STATUS for each watched mailbox (not the
    // selected one) before the tagged OK; the counters start here anyway.
    for (std::size_t i = 0; spec.status && i < notify_->watch_count; ++i) {
        notify_->watch[i].pending_status = true;
        (void)notify_peek(notify_->watch[i], false);
    }
    notify_->next_beat_ms = idle_beat();
    // §3.1: NOTIFY SET is also an implicit NOOP.
    finish_after_sync("OK", "", "NOTIFY completed");
}

// NOTIFY is off: the state goes back to the pool.
void Session::notify_release() {
    if (notify_ == nullptr) return;
    notify_->active = false;
    if (services_.notify_pool != nullptr) services_.notify_pool->give(notify_);
    notify_ = nullptr;
}

// MessageNew's fetch-atts, kept as the session's own copies of their texts
// (the parser's arena is the next command's).
bool Session::notify_copy_fetch(const ParsedCommand& cmd) {
    const imap::NotifySpec& spec = cmd.notify;
    notify_->text_used = 0;
    notify_->item_count = 0;
    if (spec.fetch_count > NotifyState::kFetchItems) {
        tagged("NO", "NOTIFICATIONOVERFLOW", "Too many fetch attributes for MessageNew");
        return false;
    }
    // §5.2: the attributes are for new messages of the selected mailbox;
    // given for another group, they have nothing to apply to.
    if (spec.fetch_count == 0 || !selected_filter(spec.groups[spec.fetch_group].filter)) {
        return true;
    }
    ArgReader atts = spec.fetch_atts;
    std::string_view text;
    for (std::size_t i = 0; i < spec.fetch_count && atts.atom(&text); ++i) {
        if (notify_->text_used + text.size() > NotifyState::kText) {
            tagged("NO", "NOTIFICATIONOVERFLOW", "MessageNew's fetch attributes are too long");
            return false;
        }
        char* copy = notify_->text + notify_->text_used;
        for (std::size_t k = 0; k < text.size(); ++k) copy[k] = text[k];
        notify_->text_used += text.size();
        imap::FetchItem& item = notify_->items[notify_->item_count];
        const char* why = "";
        FixedText<kItemReserve - 16> name;
        if (!imap::parse_fetch_att({copy, text.size()}, &item, &why) || !fetch_served(item) ||
            (write_item_name(item, name), !name.ok())) {
            tagged("NO", "CANNOT", "This fetch attribute cannot be sent with MessageNew");
            return false;
        }
        ++notify_->item_count;
    }
    return true;
}

// The event groups, their names in the session's own text (converted to
// the store's modified UTF-7 for a UTF8=ACCEPT session; a name that cannot
// be a mailbox is dropped: §3.1 ignores names that do not exist).
bool Session::notify_copy_groups(const ParsedCommand& cmd) {
    const imap::NotifySpec& spec = cmd.notify;
    notify_->group_count = 0;
    notify_->selected_given = false;
    notify_->selected_delayed = false;
    notify_->selected_events = 0;
    for (std::size_t i = 0; i < spec.group_count; ++i) {
        const imap::NotifyGroup& g = spec.groups[i];
        if (selected_filter(g.filter)) {
            notify_->selected_given = g.events != 0;  // SELECTED NONE: nothing
            notify_->selected_delayed = g.filter == NotifyFilter::SelectedDelayed;
            notify_->selected_events = g.events;
            continue;
        }
        NotifyState::Group& mine = notify_->groups[notify_->group_count++];
        mine.filter = g.filter;
        mine.events = g.events;
        mine.names = static_cast<std::uint16_t>(notify_->text_used);
        mine.name_count = 0;
        ArgReader names = g.names;
        for (std::size_t k = 0; k < g.name_count; ++k) {
            std::string_view name;
            if (!names.astring(&name)) break;
            FixedText<mail::kMaxMailboxName + 1> converted;
            const char* why = "";
            if (!store_pattern(name, converted, &name) ||
                !mail::is_valid_mailbox_name(name, mail::kHierarchyDelimiter, &why)) {
                continue;
            }
            if (notify_->text_used + name.size() + 1 > NotifyState::kText) {
                tagged("NO", "NOTIFICATIONOVERFLOW", "Too many mailbox names; name fewer");
                return false;
            }
            char* at = notify_->text + notify_->text_used;
            for (std::size_t c = 0; c < name.size(); ++c) at[c] = name[c];
            at[name.size()] = '\0';
            notify_->text_used += name.size() + 1;
            ++mine.name_count;
        }
    }
    return true;
}

// ---- which mailboxes (§6) -----------------------------------------------------------

// True if a group other than SELECTED asks for `event` on mailbox `name`.
bool Session::notify_matches(std::string_view name, std::uint8_t event) {
    store::UserStore store(*services_.registry, user_root_.view());
    for (std::size_t i = 0; i < notify_->group_count; ++i) {
        const NotifyState::Group& g = notify_->groups[i];
        if ((g.events & event) == 0) continue;
        switch (g.filter) {
            case NotifyFilter::Personal:
            case NotifyFilter::Inboxes:  // §6.3: the same as personal here
                // §6.2: the personal namespace only, not "Other Users/" or "Shared/".
                if (!notify_foreign(name)) return true;
                break;
            case NotifyFilter::Subscribed:
                if (store.is_subscribed(name)) return true;
                break;
            case NotifyFilter::Subtree:
            case NotifyFilter::Mailboxes: {
                const char* at = notify_->text + g.names;
                for (std::size_t k = 0; k < g.name_count; ++k) {
                    const std::string_view top(at);
                    at += top.size() + 1;
                    const bool hit = g.filter == NotifyFilter::Subtree ? in_subtree(name, top)
                                                                       : same_name(name, top);
                    if (hit) return true;
                }
                break;
            }
            default: break;
        }
    }
    return false;
}

std::uint8_t Session::notify_message_events(std::string_view name) {
    std::uint8_t events = 0;
    const std::uint8_t kinds[] = {imap::kNotifyMessageNew, imap::kNotifyMessageExpunge,
                                  imap::kNotifyFlagChange};
    for (std::uint8_t k : kinds) {
        if (notify_matches(name, k)) events |= k;
    }
    return events;
}

// Works the watched set out again (after SET, and after the tree or the
// subscriptions changed), keeping the counters of mailboxes that stay; the
// other users' and shared mailboxes this user may look up and read (RFC
// 4314 l and r) when a filter can name them. With `announce` (the periodic
// rescan), mailboxes that joined or left the set are told (§5.4). False
// when it does not fit (NOTIFICATIONOVERFLOW).
bool Session::notify_expand(bool announce) {
    NotifyOld old;
    old.count = notify_->watch_count;
    for (std::size_t i = 0; i < old.count; ++i) old.watch[i] = notify_->watch[i];
    for (std::size_t i = 0; i < notify_->names_used; ++i) old.names[i] = notify_->names[i];
    notify_->watch_count = 0;
    notify_->names_used = 0;
    bool fits = true;
    bool joined[NotifyState::kWatch] = {};
    auto each = [&](std::string_view name, std::uint8_t attrs) {
        if ((attrs & store::kNoselect) != 0) return true;
        const std::uint8_t events = notify_message_events(name);
        if (events == 0) return true;
        if (notify_foreign(name) && !notify_may_read(name)) return true;
        if (!notify_watch(name, events)) return fits = false;
        NotifyState::Watch& now = notify_->watch[notify_->watch_count - 1];
        joined[notify_->watch_count - 1] = true;
        for (std::size_t i = 0; i < old.count; ++i) {
            if (old.name(i) != name) continue;
            const NotifyState::Watch& was = old.watch[i];
            joined[notify_->watch_count - 1] = false;
            old.stays[i] = true;
            // The counters carry over; the name and events are the new set's.
            const NotifyState::Watch fresh = now;
            now = was;
            now.name = fresh.name;
            now.length = fresh.length;
            now.events = fresh.events;
        }
        return true;
    };
    store::ListFn<decltype(each)> v(each);
    store::UserStore store(*services_.registry, user_root_.view());
    (void)store.list("", "*", v);
    if (fits && notify_reaches_others()) (void)list_others("*", v);
    if (notify_->next_peek >= notify_->watch_count) notify_->next_peek = 0;
    // A mailbox new to the set is counted now: what arrives from here on
    // is news (§5.2), what was there before is not.
    for (std::size_t i = 0; i < notify_->watch_count; ++i) {
        if (!notify_->watch[i].known) (void)notify_peek(notify_->watch[i], false);
    }
    if (fits && announce) notify_announce(old, joined);
    return fits;
}

// §5.4 for the mailboxes other processes made or removed (`tinyimapd
// deliver --create`, the tools), found by the periodic rescan: a new
// mailbox as its LIST line, one that is gone as \NonExistent. A line the
// output has no room for now is not told.
void Session::notify_announce(const NotifyOld& old, const bool* joined) {
    for (std::size_t i = 0; i < notify_->watch_count; ++i) {
        const std::string_view name = notify_->watch_name(notify_->watch[i]);
        if (joined[i] && notify_matches(name, imap::kNotifyMailboxName)) {
            (void)notify_list_line(name, notify_attrs(name), {});
        }
    }
    for (std::size_t i = 0; i < old.count; ++i) {
        if (old.stays[i] || !notify_matches(old.name(i), imap::kNotifyMailboxName)) continue;
        const std::uint8_t attrs = notify_attrs(old.name(i));
        if ((attrs & store::kNonExistent) != 0) (void)notify_list_line(old.name(i), attrs, {});
    }
}

bool Session::notify_watch(std::string_view name, std::uint8_t events) {
    if (notify_->watch_count == NotifyState::kWatch ||
        notify_->names_used + name.size() > NotifyState::kNames) {
        return false;
    }
    NotifyState::Watch& w = notify_->watch[notify_->watch_count++];
    w = NotifyState::Watch{};
    w.name = static_cast<std::uint16_t>(notify_->names_used);
    w.length = static_cast<std::uint16_t>(name.size());
    w.events = events;
    for (std::size_t i = 0; i < name.size(); ++i) notify_->names[notify_->names_used + i] = name[i];
    notify_->names_used += name.size();
    return true;
}

// ---- the beat (§4: between commands and while idling) ----------------------------

bool Session::notify_between_commands() const {
    return notifying() &&
           (state_ == SessionState::Authenticated || state_ == SessionState::Selected) &&
           !job_.active() && !awaiting_sasl_ && delayed_until_ms_ == kNoDeadline &&
           (idling_ || parser_.at_command_start());
}

// Every turn between commands: tree events and the selected mailbox; once
// a beat: up to kPeeksPerBeat watched mailboxes, in round robin.
void Session::notify_beat() {
    // The next beat is set first, so that a turn that cannot write (the
    // output full) does not make the loop spin on a past deadline.
    const bool due = now_ms_ >= notify_->next_beat_ms;
    if (due) notify_->next_beat_ms = idle_beat();
    if (due && ++notify_->beats >= NotifyState::kRescanBeats) {
        notify_->beats = 0;
        notify_->rescan = true;
        notify_->periodic = true;
    }
    if (!notify_tree_events()) return;
    notify_selected();
    if (!due || !notifying() || job_.active() || state_ == SessionState::Logout) return;
    const std::size_t n = notify_->watch_count;
    const std::size_t budget = n < NotifyState::kPeeksPerBeat ? n : NotifyState::kPeeksPerBeat;
    for (std::size_t i = 0; i < budget; ++i) {
        if (notify_->next_peek >= n) notify_->next_peek = 0;
        if (!notify_peek(notify_->watch[notify_->next_peek], true)) return;  // no room: later
        ++notify_->next_peek;
    }
}

// §5.8: the client is told, and NOTIFY is off (as after NOTIFY NONE): its
// state goes back to the pool (the callers return at once).
void Session::notify_overflow() {
    notify_release();
    untagged("OK [NOTIFICATIONOVERFLOW] Too many changes to follow; NOTIFY is off");
}

// The selected mailbox (§6.1): its changes at once with SELECTED, while
// idling (or at the next command) with SELECTED-DELAYED; then MessageNew's
// FETCH of the new messages (§5.2).
void Session::notify_selected() {
    if (selected_ == nullptr || !notify_->selected_given) return;
    if (notify_->selected_delayed && !idling_) return;
    finish_after_sync({}, {}, {});
    if (job_.active() || selected_ == nullptr || state_ == SessionState::Logout) return;
    store::MessageInfo last;
    const std::uint32_t last_uid =
        view_.exists != 0 && selected_->message(view_, view_.exists, &last) == Status::Ok ? last.uid
                                                                                          : 0;
    if (notify_->fetched_box != selected_ || notify_->fetched_validity != selected_->uid_validity()) {
        notify_->fetched_box = selected_;
        notify_->fetched_validity = selected_->uid_validity();
        notify_->fetched_uid = last_uid;
        return;
    }
    if (last_uid <= notify_->fetched_uid || notify_->item_count == 0) {
        notify_->fetched_uid = last_uid;
        return;
    }
    // The FETCH job's state lives in a command block (command_work.h):
    // none free, the new messages are told of at a later beat.
    if (!borrow_block()) return;
    const std::uint32_t first = first_seq_at_or_above(notify_->fetched_uid + 1);
    notify_->fetched_uid = last_uid;
    if (first == 0) return;
    FixedText<32> range;
    range.put_uint(first).put(':').put_uint(view_.exists);
    (void)notify_->fetch_range.assign(range.view());
    SetWalk walk;
    const char* why = "";
    if (!SeqSet::parse(notify_->fetch_range.view(), 1, &walk.set, &why)) return;
    walk.largest_uid = last_uid;
    FetchJob& job = job_.start<FetchJob>(JobKind::Fetch);
    job.walk = walk;
    job.items = notify_->items;
    job.item_count = notify_->item_count;
    job.notify = true;
    for (std::size_t i = 0; i < notify_->item_count; ++i) {
        if (notify_->items[i].kind == imap::FetchKind::ModSeq) job.modseq_asked = true;
    }
    binary_source_.measuring = false;
    deferred_.clear();
    run_job();
}

// ---- STATUS for the other mailboxes (§5.1-§5.3) -----------------------------------

// Looks at one watched mailbox; with `report`, a STATUS when it changed.
// False when the output has no room for it (the counters stay: next beat).
bool Session::notify_peek(NotifyState::Watch& w, bool report) {
    const std::string_view name = notify_->watch_name(w);
    store::Path dir;
    store::StatusInfo info;
    if (!notify_dir(name, &dir) ||
        store::Mailbox::peek_status(services_.registry->services(), dir.view(), &info) !=
            Status::Ok) {
        w.known = false;  // gone (its MailboxName event says so) or not a mailbox now
        return true;
    }
    // §3.1: message events of the selected mailbox come from SELECTED only.
    const bool selected = selected_ != nullptr && selected_->dir() == dir.view();
    std::uint16_t items = 0;
    const bool flags = (w.events & imap::kNotifyFlagChange) != 0;
    if (flags && notify_foreign(name)) notify_user_unseen(name, w, &info);
    if (w.pending_status && !selected) {
        // §3.1: MessageNew: MESSAGES UIDNEXT UIDVALIDITY; FlagChange with
        // CONDSTORE: UIDVALIDITY HIGHESTMODSEQ.
        items = bit(imap::StatusItem::Messages) | bit(imap::StatusItem::UidNext) |
                bit(imap::StatusItem::UidValidity);
        if (flags) items |= bit(imap::StatusItem::Unseen);
        if (flags && condstore_) items |= bit(imap::StatusItem::HighestModSeq);
    } else if (report && w.known && !selected) {
        const bool counts = info.messages != w.messages || info.uid_next != w.uid_next ||
                            info.uid_validity != w.uid_validity;
        if (counts) items |= bit(imap::StatusItem::Messages) | bit(imap::StatusItem::UidNext);
        if (info.uid_validity != w.uid_validity) items |= bit(imap::StatusItem::UidValidity);
        if (flags && info.unseen != w.unseen) items |= bit(imap::StatusItem::Unseen);
        // §5.2/§5.3 with CONDSTORE; §5.1: FlagChange with CONDSTORE.
        if (condstore_ && info.highest_modseq != w.highest_modseq && (counts || flags)) {
            items |= bit(imap::StatusItem::HighestModSeq);
            if (flags) items |= bit(imap::StatusItem::UidValidity);
        }
    }
    if (items != 0 && !notify_status_line(name, info, items)) return false;
    w.pending_status = false;
    w.known = true;
    w.messages = info.messages;
    w.uid_next = info.uid_next;
    w.uid_validity = info.uid_validity;
    w.unseen = info.unseen;
    w.highest_modseq = info.highest_modseq;
    return true;
}

bool Session::notify_status_line(std::string_view name, const store::StatusInfo& info,
                                 std::uint16_t items) {
    FixedText<kWireName + 160> line;
    ResponseWriter r(line);
    FixedText<kWireName> wire;
    r.star().atom("STATUS").mailbox(wire_name(name, wire)).open_list();
    auto item = [&](imap::StatusItem which, const char* text, std::uint64_t value) {
        if ((items & bit(which)) != 0) r.atom(text).number(value);
    };
    item(imap::StatusItem::Messages, "MESSAGES", info.messages);
    item(imap::StatusItem::UidNext, "UIDNEXT", info.uid_next);
    item(imap::StatusItem::UidValidity, "UIDVALIDITY", info.uid_validity);
    item(imap::StatusItem::Unseen, "UNSEEN", info.unseen);
    item(imap::StatusItem::HighestModSeq, "HIGHESTMODSEQ", info.highest_modseq);
    r.close_list().crlf();
    if (!r.ok() || out_.room() < line.size() + kResponseReserve) return false;
    (void)r.append_to(out_);
    return true;
}

// ---- MailboxName and SubscriptionChange (§5.4, §5.5) -------------------------------

void Session::notify_post(NotifyEvents::Kind kind, std::string_view name, std::string_view old,
                          std::string_view owner) {
    // §6: the watched set may change; this session's own change counts
    // at once (a mailbox it just made is watched from its first message).
    if (notifying() && !notify_expand()) notify_overflow();
    if (services_.notify_events == nullptr) return;
    // Under the owner's names (RFC 4314: a change to another user's
    // mailbox): the owner's sessions hear of it as theirs, the others
    // under "Other Users/<owner>/" or "Shared/".
    const FixedString<port::kMaxPath> root = root_of(owner);
    NotifyEvents::Event& e = services_.notify_events->post(
        kind, NotifyEvents::user_hash(root.view()), owner.empty() ? user() : owner, this, name,
        old);
    // A name in this user's tree, or one of theirs for another namespace
    // (SUBSCRIBE "Other Users/..."): notify_attrs resolves it.
    auto attrs = [&](std::string_view n) {
        return owner.empty() ? notify_attrs(n) : notify_tree_attrs(root.view(), n);
    };
    e.attrs = attrs(name);
    const std::size_t slash = name.rfind(mail::kHierarchyDelimiter);
    if (slash != std::string_view::npos && slash != 0) {
        e.parent_attrs = attrs(ascii::head(name, slash));
    }
    services_.notify_events->commit();
}

// The events other sessions of this user posted since the last look; false
// when the output has no room (or NOTIFY just ended).
bool Session::notify_tree_events() {
    NotifyEvents* events = services_.notify_events;
    if (events != nullptr) {
        const std::uint64_t user = NotifyEvents::user_hash(user_root_.view());
        while (notify_->event_seq < events->next()) {
            const NotifyEvents::Event* e = events->at(notify_->event_seq);
            if (e == nullptr) {
                notify_overflow();
                return false;
            }
            if (e->origin != this && NotifyEvents::metadata(e->kind)) {
                if (!notify_metadata_event(*e, user)) return false;
            } else if (e->user == user && e->origin != this) {
                if (!notify_tree_event(*e)) return false;
                notify_->rescan = true;
                notify_->periodic = false;  // its names are told by the event
            } else if (e->origin != this && !notify_foreign_event(*e)) {
                return false;
            }
            ++notify_->event_seq;
        }
    }
    if (!notify_->rescan) return true;
    const bool announce = notify_->periodic;
    notify_->rescan = false;
    notify_->periodic = false;
    if (notify_expand(announce)) return true;
    notify_overflow();
    return false;
}

// One event as LIST lines: the mailbox and, for CREATE and DELETE, its
// parent (§5.4); false when they do not fit now.
bool Session::notify_tree_event(const NotifyEvents::Event& e) {
    using Kind = NotifyEvents::Kind;
    const std::string_view name = e.name.view();
    if (e.kind == Kind::AclChanged) return true;  // the owner keeps every right
    if (e.kind == Kind::Subscribed || e.kind == Kind::Unsubscribed) {
        if (!notify_matches(name, imap::kNotifySubscriptionChange)) return true;
        return notify_list_line(name, e.attrs, {});
    }
    const bool renamed = e.kind == Kind::Renamed;
    if (!notify_matches(name, imap::kNotifyMailboxName) &&
        !(renamed && notify_matches(e.old_name.view(), imap::kNotifyMailboxName))) {
        return true;
    }
    if (out_.room() < 2 * kNotifyLine + kResponseReserve) return false;
    if (renamed) return notify_list_line(name, e.attrs, e.old_name.view());
    (void)notify_list_line(name, e.attrs, {});
    const std::size_t slash = name.rfind(mail::kHierarchyDelimiter);
    if (slash != std::string_view::npos && slash != 0) {
        (void)notify_list_line(ascii::head(name, slash), e.parent_attrs, {});
    }
    return true;
}

// The attributes LIST would show now (§5.5: accurately computed), with
// \Subscribed (RFC 5258) and \NonExistent for a name that is no mailbox.
std::uint8_t Session::notify_attrs(std::string_view name) {
    if (!notify_foreign(name)) return notify_tree_attrs(user_root_.view(), name);
    // RFC 4314 §6: a mailbox this user may not look up does not exist for
    // them; \Subscribed is this user's subscription, not the owner's.
    store::UserStore mine(*services_.registry, user_root_.view());
    const std::uint8_t subscribed = mine.is_subscribed(name) ? store::kSubscribed : 0;
    MailboxRef ref;
    if (check_access(name, store::kRightLookup, &ref) != Status::Ok || !ref.exists) {
        return store::kNonExistent | subscribed;
    }
    const std::uint8_t attrs = notify_tree_attrs(ref.root.view(), ref.name);
    return static_cast<std::uint8_t>((attrs & ~store::kSubscribed) | subscribed);
}

// The attributes in the tree at `root` (its owner's \Subscribed).
std::uint8_t Session::notify_tree_attrs(std::string_view root, std::string_view name) {
    store::UserStore store(*services_.registry, root);
    std::uint8_t attrs = store::kNonExistent;
    auto one = [&](std::string_view, std::uint8_t a) {
        attrs = a;
        return false;
    };
    store::ListFn<decltype(one)> v(one);
    if (name.find_first_of("*%") == std::string_view::npos) (void)store.list("", name, v);
    if ((attrs & store::kNonExistent) == 0 &&
        (attrs & (store::kHasChildren | store::kHasNoChildren)) == 0) {
        attrs |= store.mailbox_has_children(name) ? store::kHasChildren : store::kHasNoChildren;
    }
    if (store.is_subscribed(name)) attrs |= store::kSubscribed;
    return attrs;
}

bool Session::notify_list_line(std::string_view name, std::uint8_t attrs,
                               std::string_view old_name) {
    FixedText<kNotifyLine> line;
    ResponseWriter r(line);
    FixedText<kWireName> wire;
    r.star().atom("LIST").open_list();
    if ((attrs & store::kNonExistent) != 0) {
        r.atom("\\NonExistent");
    } else {
        if ((attrs & store::kNoselect) != 0) r.atom("\\Noselect");
        if ((attrs & store::kHasChildren) != 0) r.atom("\\HasChildren");
        if ((attrs & store::kHasNoChildren) != 0) r.atom("\\HasNoChildren");
        // RFC 6154 §2: its special use as it is now (in its owner's tree).
        MailboxRef ref;
        if ((attrs & store::kNoselect) == 0 && resolve_mailbox(name, &ref) == Status::Ok) {
            special_use_atoms(r, store::UserStore(*services_.registry, ref.root.view())
                                     .special_use(ref.name));
        }
    }
    if ((attrs & store::kSubscribed) != 0) r.atom("\\Subscribed");
    r.close_list().string("/").mailbox(wire_name(name, wire));
    if (!old_name.empty()) {
        // RFC 5258 §6 extended data: ("OLDNAME" ("old")).
        FixedText<kWireName> old_wire;
        r.open_list().string("OLDNAME").open_list().mailbox(wire_name(old_name, old_wire));
        r.close_list().close_list();
    }
    r.crlf();
    if (!r.ok() || out_.room() < line.size() + kResponseReserve) return false;
    (void)r.append_to(out_);
    return true;
}

}  // namespace tinyimapd::session
