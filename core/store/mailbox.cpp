// Mailbox: the pool it is carved from, open/close, the lock and the write
// turns, retirement, creating a mailbox's files (docs/STORAGE.md).
// The rest of Mailbox: mailbox_records.cpp (index and frame I/O, the record
// cache), mailbox_recovery.cpp, mailbox_views.cpp (views, sync, reading),
// mailbox_txn.cpp (transactions: APPEND, STORE, COPY, EXPUNGE) and
// mailbox_compact.cpp.

#include "core/store/mailbox.h"

#include <cstring>

#include "core/base/assert.h"
#include "core/store/mailbox_detail.h"
#include "core/store/user_store.h"

namespace tinyimapd::store {

using namespace detail;  // the helpers of mailbox_detail.h

// ---- pool -------------------------------------------------------------------

std::size_t Mailbox::cache_bytes(const StoreLimits& l) {
    return l.cache_records * sizeof(CacheEntry);
}
std::size_t Mailbox::gone_bytes(const StoreLimits& l) {
    return l.max_pending_expunges * sizeof(Gone);
}
std::size_t Mailbox::ring_bytes(const StoreLimits& l) {
    return l.change_ring * sizeof(Change);
}

void Mailbox::init(Services* services, void* cache_memory, void* gone_memory, void* ring_memory) {
    s_ = services;
    cache_ = static_cast<CacheEntry*>(cache_memory);
    gone_ = static_cast<Gone*>(gone_memory);
    ring_ = static_cast<Change*>(ring_memory);
    cache_clear();
}

Status Mailbox::path(std::string_view name, Path* out) const {
    return join(dir_.view(), name, out);
}

// ---- open / close -----------------------------------------------------------

Status Mailbox::open_files() {
    Path p;
    Status st = path(kDataFile, &p);
    if (st != Status::Ok) return st;
    auto d = s_->fs.open(p.view(), kRw | port::kOpenNoFollow);
    if (!d.ok()) return d.status;
    data_ = d.value;
    st = path(kIndexFile, &p);
    if (st != Status::Ok) return st;
    auto x = s_->fs.open(p.view(), kRw | port::kOpenNoFollow);
    if (x.ok()) {
        index_ = x.value;
    } else if (x.status != Status::NotFound) {
        return x.status;
    }
    return Status::Ok;
}

void Mailbox::close_files() {
    if (data_ != port::kNoFile) (void)s_->fs.close(data_);
    if (index_ != port::kNoFile) (void)s_->fs.close(index_);
    data_ = index_ = port::kNoFile;
    lock_depth_ = 0;
    tree_held_ = false;
    compact_hold_ = false;  // closing m.data let go of its lock
}

Status Mailbox::open(std::string_view dir) {
    close();
    if (!dir_.assign(dir)) return Status::TooLong;
    Status st = finish_inbox_reset(*s_, dir);
    if (st == Status::Ok) st = open_files();
    if (st == Status::Ok) {
        st = s_->fs.lock(data_, port::LockMode::Exclusive);
        if (st == Status::Ok) {
            lock_depth_ = 1;
            opening_ = true;
            st = recover();
            opening_ = false;
            unlock();
        }
    }
    if (st != Status::Ok) {
        close_files();
        return st;
    }
    ring_size_ = 0;
    ring_floor_ = state_.highest_modseq;
    first_recent_uid_ = state_.first_recent_uid;
    return Status::Ok;
}

void Mailbox::close() {
    abandon_compaction();
    abandon_slide();
    compact_failed_at_ = ~std::uint64_t{0};
    slide_done_key_ = ~std::uint64_t{0};
    if (in_txn_) redo_void();  // a group's record written, its flush not done
    close_files();
    for (View* v = views_; v != nullptr; v = v->next) v->mailbox = nullptr;
    while (waiters_ != nullptr) {
        TurnWaiter* w = waiters_;
        waiters_ = w->next;
        w->mailbox = nullptr;
        w->next = nullptr;
        w->woken = true;
    }
    retired_ = false;
    replaced_ = false;
    gone_overflow_ = false;
    views_ = nullptr;
    gone_count_ = 0;
    in_txn_ = appending_ = false;
    redo_count_ = 0;
    end_barriers();
    // Members of a group still waiting: not committed (the files are closed).
    for (CommitWaiter* w = committers_; w != nullptr;) {
        CommitWaiter* next = w->next;
        w->done = true;
        w->status = Status::Closed;
        w->mailbox = nullptr;
        w->next = nullptr;
        w = next;
    }
    committers_ = nullptr;
    group_token_ = 0;
    kw_unsynced_ = false;
    cache_clear();
}

// The fs lock is held while lock_depth_ > 0 (writers of this process,
// counted) or a compaction holds it (compact_hold_, against other processes
// only: writers of this process go between its steps, docs/STORAGE.md
// "Compaction").
Status Mailbox::lock() {
    if (retired_) return Status::NotFound;
    if (tree_held_) return Status::Busy;  // a tree operation's, across turns (hold)
    if (lock_depth_ > 0) {
        ++lock_depth_;
        return Status::Ok;
    }
    if (!compact_hold_) {
        Status ls = s_->fs.lock(data_, port::LockMode::Exclusive);
        if (ls != Status::Ok) return ls;
    }
    lock_depth_ = 1;
    bool changed = false;
    Status st = reload_if_changed(&changed);
    // A transaction of ours or another process's failed before its commit.
    if (st == Status::Ok && read_intent_ > state_.highest_modseq) st = scrub_orphans();
    // A flag change committed by its redo record and not written in place
    // (the writer, of this process or another, died or failed in between).
    if (st == Status::Ok) st = replay_redo(false);
    // So did another process's slide, inside a move's commit.
    if (st == Status::Ok && read_journal_ != 0 && read_journal_ == state_.generation) {
        read_journal_ = 0;
        st = redo_journal();
        if (st == Status::Ok) {
            for (View* v = views_; v != nullptr; v = v->next) v->invalidated = true;
            ring_size_ = 0;
            ring_floor_ = state_.highest_modseq;
            ++changes_;
        }
    }
    if (st != Status::Ok) unlock();
    return st;
}

void Mailbox::unlock() {
    TINYIMAPD_ASSERT(lock_depth_ >= 0);
    if (lock_depth_ == 0) return;
    if (--lock_depth_ == 0 && data_ != port::kNoFile && !compact_hold_) (void)s_->fs.unlock(data_);
    // The write turn is free: the first in line goes next (Server runs it),
    // with the STOREs right behind it when it is one (they form a group).
    if (lock_depth_ == 0 && waiters_ != nullptr) {
        waiters_->woken = true;
        if (waiters_->joins) wake_joiners();
    }
}

void Mailbox::wake_joiners() {
    for (TurnWaiter* w = waiters_; w != nullptr && w->joins; w = w->next) w->woken = true;
}

// ---- write turns --------------------------------------------------------------

Mailbox::Turn Mailbox::write_turn(TurnWaiter& w) {
    const bool busy = lock_depth_ > 0 || appending_ || in_txn_;
    // A STORE may go before the waiters ahead of it when they are STOREs
    // too (they join the same group), and join a group that is open.
    bool joiners_ahead = w.joins;
    for (TurnWaiter* p = waiters_; p != nullptr && p != &w; p = p->next) joiners_ahead &= p->joins;
    const bool first = waiters_ == nullptr || waiters_ == &w || joiners_ahead;
    if ((!busy || (w.joins && group_joinable())) && first) {
        if (w.mailbox == this) leave_turn_queue(w);
        w.woken = false;
        return Turn::Ready;
    }
    w.woken = false;
    if (w.mailbox != this) {
        w.mailbox = this;
        w.next = nullptr;
        TurnWaiter** p = &waiters_;
        while (*p != nullptr) p = &(*p)->next;
        *p = &w;
    }
    // Free, but others are ahead: make sure the first of them runs.
    if (!busy && waiters_ != nullptr) waiters_->woken = true;
    return Turn::Queued;
}

void Mailbox::leave_turn_queue(TurnWaiter& w) {
    if (w.mailbox != this) return;
    const bool was_first = waiters_ == &w;
    for (TurnWaiter** p = &waiters_; *p != nullptr; p = &(*p)->next) {
        if (*p == &w) {
            *p = w.next;
            break;
        }
    }
    w.mailbox = nullptr;
    w.next = nullptr;
    const bool busy = lock_depth_ > 0 || appending_ || in_txn_;
    if (was_first && !busy && waiters_ != nullptr) waiters_->woken = true;
}

std::string_view Mailbox::writer() const {
    if (appending_) return in_txn_ ? "COPY" : "APPEND";
    if (in_txn_) return "transaction";
    if (lock_depth_ > 0) return "tree operation";
    return {};
}

void Mailbox::retire(bool deleted) {
    abandon_compaction();
    abandon_slide();
    retired_ = true;
    replaced_ = !deleted;
    for (View* v = views_; v != nullptr; v = v->next) {
        v->invalidated = true;
        v->deleted = deleted;
    }
}

// ---- creation -----------------------------------------------------------------

void Mailbox::encode_empty(Services& s, std::uint32_t uid_validity, std::uint32_t uid_next,
                           std::uint64_t highest_modseq, std::uint64_t mailbox_id,
                           std::uint8_t* index_bytes, std::uint8_t* data_bytes,
                           std::uint64_t* made) {
    DataHeader dh;
    dh.uid_validity = uid_validity;
    dh.uid_floor = uid_next;
    dh.file_id = fresh_id(s);
    State ns;
    ns.generation = 1;
    ns.uid_validity = uid_validity;
    ns.uid_next = uid_next;
    ns.highest_modseq = highest_modseq;
    ns.data_length = kDataHeaderSize;
    ns.data_file_id = dh.file_id;
    ns.first_recent_uid = uid_next;
    ns.mailbox_id = mailbox_id != 0 ? mailbox_id : fresh_id(s);
    if (made != nullptr) *made = ns.mailbox_id;
    encode(ns, index_bytes);
    encode(dh, data_bytes);
}

Status Mailbox::write_empty(Services& s, std::string_view dir, std::string_view data_name,
                            std::string_view index_name, std::uint32_t uid_validity,
                            std::uint32_t uid_next, std::uint64_t highest_modseq,
                            std::uint64_t mailbox_id, std::uint64_t* made) {
    Path ip, dp;
    Status st = join(dir, index_name, &ip);
    if (st == Status::Ok) st = join(dir, data_name, &dp);
    if (st != Status::Ok) return st;
    std::uint8_t sb[kStateSlotSize];
    std::uint8_t hb[kDataHeaderSize];
    encode_empty(s, uid_validity, uid_next, highest_modseq, mailbox_id, sb, hb, made);
    const struct {
        const Path* path;
        const std::uint8_t* bytes;
        std::size_t size;
    } files[] = {{&ip, sb, sizeof sb}, {&dp, hb, sizeof hb}};
    for (const auto& f : files) {
        auto h = s.fs.open(f.path->view(), kCreateNew | port::kOpenNoFollow);
        if (!h.ok()) return h.status;
        st = pwrite_all(s.fs, h.value, f.bytes, f.size, 0);
        if (st == Status::Ok) st = s.fs.fsync(h.value);
        const Status c = s.fs.close(h.value);
        if (st == Status::Ok) st = c;
        if (st != Status::Ok) return st;
    }
    return Status::Ok;
}

Status Mailbox::create_files(Services& s, std::string_view dir, std::uint32_t uid_validity,
                             std::uint32_t uid_next, std::uint64_t highest_modseq,
                             std::uint64_t* mailbox_id) {
    // m.index first, then m.data under a temporary name: the rename to
    // m.data is what makes the directory a selectable mailbox.
    Status st = write_empty(s, dir, kDataNew, kIndexFile, uid_validity, uid_next, highest_modseq, 0,
                            mailbox_id);
    Path np, dp;
    if (st == Status::Ok) st = join(dir, kDataNew, &np);
    if (st == Status::Ok) st = join(dir, kDataFile, &dp);
    if (st == Status::Ok) st = s.fs.rename(np.view(), dp.view());
    if (st == Status::Ok) st = s.fs.sync_dir(dir);
    return st;
}

Status Mailbox::hold() {
    if (!is_open()) return Status::Invalid;
    abandon_compaction();  // RENAME INBOX replaces the files it would rename over
    abandon_slide();
    if (tree_held_) return Status::Busy;
    const Status st = lock();
    tree_held_ = st == Status::Ok;
    return st;
}
void Mailbox::release_hold() {
    if (!tree_held_) return;
    tree_held_ = false;
    unlock();
}

}  // namespace tinyimapd::store
