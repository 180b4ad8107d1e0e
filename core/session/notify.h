// NOTIFY (RFC 5465): what a session asked to hear of (NotifyState, lent from
// the server's `notify_sessions` pool while NOTIFY is on: object_pool.h) and the process's ring of mailbox-tree events (NotifyEvents, one
// per server) through which a session hears of another's CREATE, DELETE,
// RENAME, SUBSCRIBE and UNSUBSCRIBE, SETMETADATA (§5.6, §5.7) and SETACL
// (§5.9). Events carry the tree owner's names; a session of another user
// hears of them under its own ("Other Users/<owner>/...", "Shared/...":
// cmd_notify_shared.cpp).
//
// Memory: both are fixed. A session watches at most NotifyState::kWatch
// mailboxes outside the selected one, their names in one kNames-byte pool;
// a NOTIFY SET that would watch more is refused with NO
// [NOTIFICATIONOVERFLOW] (§3.1), and a later change that makes the set
// outgrow it ends the notifications with an untagged OK
// [NOTIFICATIONOVERFLOW] (§5.8). The ring keeps the last kCapacity events;
// a session that falls further behind is told the same way.
//
// How changes are seen (cmd_notify.cpp): every beat (the IDLE beat, one a
// second), a session with NOTIFY on reads the ring, syncs the selected
// mailbox (SELECTED) and peeks at up to kPeeksPerBeat watched mailboxes in
// round robin (Mailbox::peek_status: one pread of the index's state slots,
// so a `tinyimapd deliver` by another process is seen the same way as an
// APPEND by another session), and reports what changed as STATUS (§5.1-5.3).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/fixed_string.h"
#include "core/imap/command.h"
#include "core/imap/fetch_spec.h"
#include "core/mail/mailbox_name.h"
#include "core/store/acl.h"

namespace tinyimapd::session {

class NotifyEvents {
public:
    static constexpr std::size_t kCapacity = 16;
    enum class Kind : std::uint8_t {
        Created,
        Deleted,
        Renamed,
        Subscribed,
        Unsubscribed,
        // RFC 5465 §5.6, §5.7: SETMETADATA; `name` the mailbox in the
        // owner's tree (ServerMetadata: none), `old_name` the entries'
        // names, tab-separated (RFC 5464 §3.2: no controls in a name).
        MailboxMetadata,
        ServerMetadata,
        // RFC 5465 §5.9: SETACL/DELETEACL on `name`: the other users'
        // sessions work their watched sets out again.
        AclChanged,
    };
    static bool metadata(Kind k) { return k == Kind::MailboxMetadata || k == Kind::ServerMetadata; }
    struct Event {
        Kind kind = Kind::Created;
        std::uint64_t user = 0;        // hash of the owner's root (user_hash)
        // The tree's owner (RFC 4314): another user's sessions hear of a
        // change to a mailbox they may see under "Other Users/<owner>/" or
        // "Shared/" (cmd_notify_shared.cpp).
        FixedString<store::kMaxAclIdentifier> owner;
        // Non-zero: only the sessions of this user (user_hash of the root)
        // hear of it (RFC 5464 /private entries are the setter's own).
        std::uint64_t viewer = 0;
        const void* origin = nullptr;  // the session that made it (§5: not told of its own)
        FixedString<mail::kMaxMailboxName> name;
        FixedString<mail::kMaxMailboxName> old_name;  // Renamed: the name before
        // LIST attributes (store::ListAttribute) of the name and of its
        // parent right after the change (§5.4: "after the event").
        std::uint8_t attrs = 0, parent_attrs = 0;
    };
    static std::uint64_t user_hash(std::string_view root) {
        std::uint64_t h = 14695981039346656037ull;  // FNV-1a
        for (char c : root) {
            h ^= static_cast<unsigned char>(c);
            h *= 1099511628211ull;
        }
        return h;
    }
    // The event's slot, filled in by the caller (name, attributes), which
    // then calls commit().
    Event& post(Kind kind, std::uint64_t user, std::string_view owner, const void* origin,
                std::string_view name, std::string_view old_name = {}) {
        Event& e = events_[next_ % kCapacity];
        e.kind = kind;
        e.user = user;
        (void)e.owner.assign(owner);
        e.viewer = 0;
        e.origin = origin;
        (void)e.name.assign(name);
        (void)e.old_name.assign(old_name);
        e.attrs = e.parent_attrs = 0;
        return e;
    }
    void commit() { ++next_; }
    // The sequence number the next event will have.
    std::uint64_t next() const { return next_; }
    // Event `seq` (< next()), or nullptr when the ring has overwritten it.
    const Event* at(std::uint64_t seq) const {
        if (seq >= next_ || next_ - seq > kCapacity) return nullptr;
        return &events_[seq % kCapacity];
    }

private:
    Event events_[kCapacity];
    std::uint64_t next_ = 0;
};

struct NotifyState {
    static constexpr std::size_t kGroups = imap::NotifySpec::kMaxGroups;
    static constexpr std::size_t kWatch = 24;        // watched mailboxes
    static constexpr std::size_t kNames = 1536;      // their names
    static constexpr std::size_t kText = 512;        // groups' names, fetch-att texts
    static constexpr std::size_t kFetchItems = 8;    // MessageNew's fetch-atts
    static constexpr std::size_t kPeeksPerBeat = 4;  // mailboxes looked at per beat
    // Mailboxes made by other processes (`tinyimapd deliver --create`) post
    // no event: the watched set is worked out again every kRescanBeats.
    static constexpr std::uint32_t kRescanBeats = 60;
    struct Group {
        imap::NotifyFilter filter = imap::NotifyFilter::Personal;
        std::uint8_t events = 0;
        std::uint16_t names = 0;  // offset in text: name_count names, each NUL-ended
        std::uint8_t name_count = 0;
    };
    struct Watch {
        std::uint16_t name = 0, length = 0;  // in names
        std::uint8_t events = 0;             // message events wanted
        bool known = false;                  // the counters below hold
        bool pending_status = false;         // STATUS still owed (SET STATUS)
        std::uint32_t messages = 0, uid_next = 0, uid_validity = 0, unseen = 0;
        std::uint64_t highest_modseq = 0;
    };
    bool active = false;
    bool selected_given = false;  // a SELECTED or SELECTED-DELAYED group
    bool selected_delayed = false;
    std::uint8_t selected_events = 0;
    Group groups[kGroups];
    std::size_t group_count = 0;
    char text[kText] = {};
    std::size_t text_used = 0;
    imap::FetchItem items[kFetchItems];
    std::size_t item_count = 0;
    Watch watch[kWatch];
    std::size_t watch_count = 0;
    char names[kNames] = {};
    std::size_t names_used = 0;
    std::size_t next_peek = 0;       // round robin over watch
    std::uint64_t event_seq = 0;     // the next NotifyEvents entry to read
    std::uint64_t next_beat_ms = 0;  // when the beat runs next
    bool rescan = false;             // the watched set must be worked out again
    // The rescan is the kRescanBeats one: mailboxes that joined or left the
    // set are told as MailboxName (§5.4; other processes' CREATE/DELETE).
    bool periodic = false;
    std::uint32_t beats = 0;         // beats since the last rescan
    // MessageNew's FETCH in the selected mailbox: messages up to fetched_uid
    // of fetched_box (at fetched_validity) were told of.
    const void* fetched_box = nullptr;
    std::uint32_t fetched_validity = 0;
    std::uint32_t fetched_uid = 0;
    FixedString<32> fetch_range;  // "a:b", the FETCH job's set

    std::string_view watch_name(const Watch& w) const { return {names + w.name, w.length}; }
};

// The watched set as it was before Session::notify_expand works it out
// again (on the stack of that call, not kept).
struct NotifyOld {
    NotifyState::Watch watch[NotifyState::kWatch];
    char names[NotifyState::kNames];
    std::size_t count = 0;
    bool stays[NotifyState::kWatch] = {};  // still in the set after
    std::string_view name(std::size_t i) const { return {names + watch[i].name, watch[i].length}; }
};

}  // namespace tinyimapd::session
