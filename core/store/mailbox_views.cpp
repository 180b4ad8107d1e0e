// Mailbox: sessions' views, sequence numbers, \Recent, reading messages,
// STATUS, and sync() (docs/STORAGE.md "Sessions, \Recent, notifications").

#include "core/store/mailbox.h"

#include <cstring>

#include "core/base/assert.h"
#include "core/store/mailbox_detail.h"

namespace tinyimapd::store {

using namespace detail;  // the helpers of mailbox_detail.h

// ---- views ------------------------------------------------------------------

void Mailbox::attach(View& v, bool read_only) {
    // A caller that did not wait for ready(): the compaction ends now.
    if (gone_overflow_ && compacting()) (void)compact_to_end();
    v = View{};
    v.mailbox = this;
    v.read_only = read_only;
    v.positions = state_.record_count;
    v.expunge_modseq = state_.highest_modseq;
    v.flags_modseq = state_.highest_modseq;
    v.next = views_;
    views_ = &v;
    claim_recent(v);
    v.exists = count_visible(v);
}

void Mailbox::detach(View& v) {
    for (View** p = &views_; *p != nullptr; p = &(*p)->next) {
        if (*p == &v) {
            *p = v.next;
            break;
        }
    }
    v.mailbox = nullptr;
    v.next = nullptr;
    if (!v.read_only) persist_recent();
    (void)maybe_compact();
}

// RFC 3501 §2.3.2: once a read-write session has been told of \Recent
// messages, later sessions must not see them so. The claim is made durable
// when the session lets go of the mailbox (one state write; no mod-sequence
// change: no message changed). A crash before that only shows \Recent again.
// Every commit carries the claims made so far, so there is nothing to do
// while a transaction is open (its commit) or an APPEND is (its batch's).
// In the server (limits.loop_commits) a group of no member
// (open_bare_group) commits them at the end of this turn of the loop.
void Mailbox::persist_recent() {
    if (first_recent_uid_ <= state_.first_recent_uid || in_txn_ || appending_) return;
    if (lock() != Status::Ok) return;  // Busy: another process; next time
    begin_txn();
    next_.highest_modseq = state_.highest_modseq;  // no message changed
    if (s_->limits.loop_commits) {
        open_bare_group();
        return;
    }
    if (commit_txn() != Status::Ok) in_txn_ = false;
    unlock();
}

// RFC 3501 §2.3.2: a read-write view takes the messages nobody was told of
// yet; a read-only one (EXAMINE) sees them \Recent too, without taking them.
void Mailbox::claim_recent(View& v) {
    std::size_t i = 0;
    while (i < View::kRecentRanges && v.recent_hi[i] != 0) ++i;
    std::uint32_t lo = first_recent_uid_;
    if (i > 0 && v.recent_hi[i - 1] > lo) lo = v.recent_hi[i - 1];
    const std::uint32_t hi = state_.uid_next;
    if (lo >= hi) return;
    if (!v.read_only) first_recent_uid_ = hi;
    if (i > 0 && v.recent_hi[i - 1] == lo) {
        v.recent_hi[i - 1] = hi;
        return;
    }
    if (i == View::kRecentRanges) {  // full: forget the oldest claim
        for (std::size_t k = 1; k < View::kRecentRanges; ++k) {
            v.recent_lo[k - 1] = v.recent_lo[k];
            v.recent_hi[k - 1] = v.recent_hi[k];
        }
        i = View::kRecentRanges - 1;
    }
    v.recent_lo[i] = lo;
    v.recent_hi[i] = hi;
}

bool Mailbox::is_recent(const View& v, std::uint32_t uid) const {
    for (std::size_t i = 0; i < View::kRecentRanges; ++i)
        if (uid >= v.recent_lo[i] && uid < v.recent_hi[i]) return true;
    return false;
}

std::uint32_t Mailbox::position_of(const View& v, std::uint32_t seq) const {
    std::uint32_t pos = seq - 1;
    for (std::size_t i = 0; i < gone_count_; ++i) {
        if (gone_[i].position > pos) break;
        std::uint32_t f = 0, e = 0;
        hidden_range(v, gone_[i], &f, &e);
        if (f == e) continue;
        if (f > pos) break;  // the visible part of this run holds it
        pos += e - f;        // the hidden ones are skipped, all at or below it
    }
    return pos;
}

std::uint32_t Mailbox::hidden_below(const View& v, std::uint32_t pos) const {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < gone_count_ && gone_[i].position < pos; ++i) {
        std::uint32_t f = 0, e = 0;
        hidden_range(v, gone_[i], &f, &e);
        if (e > pos) e = pos;
        if (f < e) n += e - f;
    }
    return n;
}

std::uint32_t Mailbox::count_visible(const View& v) const {
    return v.positions - hidden_below(v, v.positions);
}

std::uint32_t Mailbox::find_position(std::uint32_t uid) {
    std::uint32_t lo = 0, hi = state_.record_count;
    while (lo < hi) {
        const std::uint32_t mid = lo + (hi - lo) / 2;
        Record r;
        if (read_record(mid, &r) != Status::Ok) return state_.record_count;
        if (r.uid < uid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

std::uint32_t Mailbox::seq_of_uid(const View& v, std::uint32_t uid) {
    const std::uint32_t pos = find_position(uid);
    if (pos >= v.positions) return 0;
    Record r;
    if (read_record(pos, &r) != Status::Ok || r.uid != uid) return 0;
    for (std::size_t i = 0; i < gone_count_ && gone_[i].position <= pos; ++i) {
        std::uint32_t f = 0, e = 0;
        hidden_range(v, gone_[i], &f, &e);
        if (pos >= f && pos < e) return 0;  // expunged, and the view was told
    }
    return pos + 1 - hidden_below(v, pos);
}

std::uint32_t Mailbox::recent_count(const View& v) {
    std::uint32_t n = 0;
    for (std::size_t i = 0; i < View::kRecentRanges; ++i) {
        if (v.recent_hi[i] == 0) continue;
        std::uint32_t a = find_position(v.recent_lo[i]), b = find_position(v.recent_hi[i]);
        if (b > v.positions) b = v.positions;
        if (a >= b) continue;
        n += b - a;
        for (std::size_t k = 0; k < gone_count_; ++k) {
            std::uint32_t f = 0, e = 0;
            hidden_range(v, gone_[k], &f, &e);
            if (f < a) f = a;
            if (e > b) e = b;
            if (f < e) n -= e - f;
        }
    }
    return n;
}

Status Mailbox::message(const View& v, std::uint32_t seq, MessageInfo* out) {
    if (seq == 0) return Status::NotFound;
    const std::uint32_t pos = position_of(v, seq);
    if (pos >= v.positions) return Status::NotFound;
    Record r;
    Status st = read_record(pos, &r);
    if (st != Status::Ok) return st;
    out->uid = r.uid;
    out->size = r.size;
    out->flags = r.flags;
    if (is_recent(v, r.uid)) out->flags |= mail::kRecent;
    out->keywords = r.keywords;
    out->internal_date = r.internal_date;
    out->zone_minutes = r.zone_minutes;
    out->save_date = r.save_date;
    out->email_id = r.email_id;
    out->modseq = r.modseq;
    out->expunged = r.expunged;
    out->data_offset = r.offset + kFrameHeaderSize;
    out->file_id = data_header_.file_id;
    out->relocations = state_.relocations;
    return Status::Ok;
}

Status Mailbox::read(const MessageInfo& m, std::uint64_t offset, void* out, std::size_t capacity,
                     std::size_t* got) {
    *got = 0;
    std::uint64_t base = m.data_offset;
    // Compacted or slid in place since: find it again.
    if (m.file_id != data_header_.file_id || m.relocations != state_.relocations) {
        const std::uint32_t pos = find_position(m.uid);
        Record r;
        if (read_record(pos, &r) != Status::Ok || r.uid != m.uid) return Status::NotFound;
        base = r.offset + kFrameHeaderSize;
    }
    if (offset >= m.size) return Status::Ok;
    std::size_t n = capacity;
    if (m.size - offset < n) n = static_cast<std::size_t>(m.size - offset);
    port::FsResult r = s_->fs.pread(data_, out, n, base + offset);
    if (r.status != Status::Ok) return r.status;
    if (r.bytes != n) return Status::Io;
    *got = n;
    return Status::Ok;
}

std::uint32_t Mailbox::first_unseen(const View& v) {
    const std::uint32_t n = count_visible(v);
    for (std::uint32_t seq = 1; seq <= n; ++seq) {
        Record r;
        if (read_record(position_of(v, seq), &r) != Status::Ok) return 0;
        if (!seen(r.flags)) return seq;
    }
    return 0;
}

Status Mailbox::status(StatusInfo* out) {
    bool changed = false;
    Status st = reload_if_changed(&changed);
    if (st != Status::Ok) return st;
    out->messages = state_.live_count;
    out->uid_next = state_.uid_next;
    out->uid_validity = state_.uid_validity;
    out->unseen = state_.live_count - state_.seen_count;
    out->highest_modseq = state_.highest_modseq;
    out->size = state_.live_bytes;
    out->mailbox_id = state_.mailbox_id;
    const std::uint32_t a = find_position(first_recent_uid_);
    std::uint32_t recent = state_.record_count - a;
    for (std::size_t i = 0; i < gone_count_; ++i) {
        const Gone& g = gone_[i];
        const std::uint32_t f = g.position > a ? g.position : a;
        if (g.position + g.count > f) recent -= g.position + g.count - f;
    }
    out->recent = recent;
    return Status::Ok;
}

// ---- sync -------------------------------------------------------------------

void Mailbox::note_change(std::uint32_t uid, std::uint64_t modseq) {
    if (s_->limits.change_ring == 0) {
        ring_floor_ = modseq;
        return;
    }
    if (ring_size_ == s_->limits.change_ring) {
        // The oldest entry falls out: the ring no longer knows its modseq.
        const Change& old = ring_[ring_head_];
        if (old.modseq > ring_floor_) ring_floor_ = old.modseq;
    } else {
        ++ring_size_;
    }
    ring_[ring_head_] = Change{uid, 0, modseq};
    ring_head_ = (ring_head_ + 1) % s_->limits.change_ring;
}

void Mailbox::note_own_change(View& v) const {
    note_own_change(v, state_.highest_modseq);
}

void Mailbox::note_own_change(View& v, std::uint64_t modseq) const {
    if (v.own_count == View::kOwnChanges) {
        for (std::size_t i = 1; i < View::kOwnChanges; ++i) v.own_modseq[i - 1] = v.own_modseq[i];
        --v.own_count;
    }
    v.own_modseq[v.own_count++] = modseq;
}

// Reports the expunges the view was not told of, highest position first:
// numbers computed on the view as the client knows it. A partial round
// finishes its own modseq window first. *stopped: the visitor had no room.
Status Mailbox::sync_expunges(View& v, SyncVisitor& out, bool* expunged_any, bool* stopped) {
    while (v.expunge_modseq < state_.highest_modseq) {
        const std::uint64_t target =
            v.partial_modseq != 0 ? v.partial_modseq : state_.highest_modseq;
        for (std::size_t i = gone_count_; i-- > 0;) {
            const Gone& g = gone_[i];
            if (g.modseq <= v.expunge_modseq || g.modseq > target || g.position >= v.positions) {
                continue;
            }
            // The run's positions the view knows and was not told of yet:
            // below a partial round's last report, if this round has one.
            std::uint32_t top = g.position + g.count;
            if (top > v.positions) top = v.positions;
            if (v.partial_modseq != 0 && v.partial_position < top) top = v.partial_position;
            if (top <= g.position) continue;
            // Numbers as the client knows them: the positions it was told of
            // below this run are not counted (none of this run's are).
            const std::uint32_t below = hidden_below(v, g.position);
            for (std::uint32_t p = top; p-- > g.position;) {
                Record r;
                const Status st = read_record(p, &r);
                if (st != Status::Ok) return st;
                if (!out.expunged(p + 1 - below, r.uid)) {
                    *stopped = true;
                    return Status::Ok;
                }
                v.partial_modseq = target;
                v.partial_position = p;
                if (v.exists > 0) --v.exists;  // as the client now counts
                *expunged_any = true;
            }
        }
        v.expunge_modseq = target;
        v.partial_modseq = 0;
        v.partial_position = 0;
    }
    return Status::Ok;
}

// Reports the flag changes of the ring the view was not told of (or that
// it must rescan, when the ring lost them). *stopped as for sync_expunges.
void Mailbox::sync_flags(View& v, SyncVisitor& out, bool* stopped) {
    if (v.flags_modseq >= state_.highest_modseq) return;
    if (v.flags_modseq < ring_floor_) {
        out.flags_unknown(v.flags_modseq);
        return;
    }
    // Ring order is commit order (modseq never decreases); a STORE of many
    // messages is a group sharing one modseq.
    std::uint32_t in_group = 0;
    for (std::size_t k = 0; k < ring_size_; ++k) {
        const Change& c =
            ring_[(ring_head_ + s_->limits.change_ring - ring_size_ + k) % s_->limits.change_ring];
        if (c.modseq <= v.flags_modseq) continue;
        // A transaction still open (a STORE job between steps): its
        // changes are reported once committed.
        if (c.modseq > state_.highest_modseq) break;
        if (c.modseq != v.flags_group_modseq) {
            // Every change before this group has been reported.
            v.flags_modseq = c.modseq - 1;
            v.flags_group_modseq = c.modseq;
            v.flags_group_done = 0;
            in_group = 0;
        }
        if (in_group < v.flags_group_done) {
            ++in_group;  // reported by an earlier, partial round
            continue;
        }
        bool own = false;
        for (std::size_t o = 0; o < v.own_count; ++o) own |= v.own_modseq[o] == c.modseq;
        if (own) {  // answered already by the session's own command
            v.flags_group_done = ++in_group;
            continue;
        }
        const std::uint32_t seq = seq_of_uid(v, c.uid);
        if (seq != 0 && !out.flags_changed(seq, c.uid)) {
            *stopped = true;
            return;
        }
        v.flags_group_done = ++in_group;
    }
}

Status Mailbox::sync(View& v, SyncVisitor& out, bool* complete) {
    if (complete != nullptr) *complete = true;
    bool changed = false;
    Status st = reload_if_changed(&changed);
    if (st != Status::Ok) return st;
    if (v.invalidated) return Status::Closed;
    bool expunged_any = false, stopped = false;
    st = sync_expunges(v, out, &expunged_any, &stopped);
    if (st == Status::Ok && !stopped) sync_flags(v, out, &stopped);
    if (st != Status::Ok || stopped) {
        if (stopped && complete != nullptr) *complete = false;
        return st;
    }
    const std::uint32_t old_positions = v.positions;
    v.flags_modseq = state_.highest_modseq;
    v.flags_group_modseq = 0;
    v.flags_group_done = 0;
    v.own_count = 0;
    v.positions = state_.record_count;
    const std::uint32_t exists = count_visible(v);
    if (exists != v.exists || v.positions != old_positions || expunged_any) {
        claim_recent(v);
        v.exists = exists;
        out.exists(exists, recent_count(v));
    }
    v.exists = exists;
    // A view never knows of more records than the index has.
    TINYIMAPD_ASSERT(v.positions <= state_.record_count && v.exists <= v.positions);
    return maybe_compact();
}

}  // namespace tinyimapd::store
