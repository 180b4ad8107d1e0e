// Mailbox: transactions and their commit: keywords, APPEND, STORE, COPY,
// EXPUNGE (docs/STORAGE.md "Write order", "Locking").

#include "core/store/mailbox.h"

#include <cstring>

#include "core/base/assert.h"
#include "core/base/endian.h"
#include "core/store/mailbox_detail.h"

namespace tinyimapd::store {

using namespace detail;  // the helpers of mailbox_detail.h

void Mailbox::begin_txn() {
    // One transaction at a time, under the lock (mailbox.h "Invariants").
    TINYIMAPD_ASSERT(!in_txn_ && lock_depth_ > 0);
    next_ = state_;
    next_.generation = state_.generation + 1;
    next_.highest_modseq = state_.highest_modseq + 1;
    txn_slots_ = false;
    in_txn_ = true;
}

Status Mailbox::barrier(port::File f) {
    // A commit on the new files of a compaction whose renames are not yet
    // durable: the directory first (docs/STORAGE.md "Compaction's flushes").
    if (const Status st = compact_settle_dir(); st != Status::Ok) return st;
    if (!async_flush_) return s_->fs.fsync(f);
    if (barrier_done_ && barrier_ == f) {
        barrier_done_ = false;
        barrier_ = port::kNoFile;
        return barrier_status_;
    }
    barrier_ = f;
    barrier_done_ = false;
    return Status::WouldBlock;
}

// The transaction is over (committed or given up): its barriers with it.
void Mailbox::end_barriers() {
    group_open_ = group_active_ = group_ready_ = member_changed_ = false;
    member_first_ = 0;
    async_flush_ = false;
    barrier_ = port::kNoFile;
    barrier_done_ = false;
    intent_written_ = false;
    data_synced_ = false;
    commit_phase_ = 0;
    committing_ = false;
}

// Before the first slot of a transaction is rewritten: the intent, durable.
Status Mailbox::declare_intent() {
    TINYIMAPD_ASSERT(in_txn_ && lock_depth_ > 0);
    if (txn_slots_) return Status::Ok;
    if (!intent_written_) {
        std::uint8_t buf[kIntentSize];
        encode_intent(next_.highest_modseq, buf);
        const Status st = pwrite_all(s_->fs, index_, buf, sizeof buf, kIntentOffset);
        if (st != Status::Ok) return st;
        intent_written_ = true;
    }
    const Status st = barrier(index_);
    if (st == Status::WouldBlock) return st;
    intent_written_ = false;
    if (st == Status::Ok) txn_slots_ = true;
    return st;
}

// An uncommitted STORE/EXPUNGE (crash or I/O error) may have left slots with
// a modseq above the committed one: invalidate them, then clear the intent.
Status Mailbox::scrub_orphans() {
    static constexpr std::uint8_t kZero[kRecordSlotSize] = {};
    bool wrote = false;
    Status st = Status::Ok;
    for (std::uint32_t pos = 0; st == Status::Ok && pos < state_.record_count; ++pos) {
        std::uint8_t buf[kRecordSize];
        st = pread_full(s_->fs, index_, buf, sizeof buf, record_offset(pos));
        if (st != Status::Ok) break;
        for (int i = 0; i < 2 && st == Status::Ok; ++i) {
            Record probe;
            std::uint8_t one[kRecordSize];
            std::memcpy(one, buf, kRecordSize);
            std::memset(one + kRecordSlotOffset[1 - i], 0, kRecordSlotSize);
            // A valid slot above the committed modseq is an orphan.
            if (decode_record(one, ~std::uint64_t{0}, &probe) &&
                probe.modseq > state_.highest_modseq) {
                st = pwrite_all(s_->fs, index_, kZero, sizeof kZero,
                                record_offset(pos) + kRecordSlotOffset[i]);
                wrote = true;
            }
        }
    }
    std::uint8_t ib[kIntentSize];
    encode_intent(0, ib);
    if (st == Status::Ok && wrote) st = s_->fs.fsync(index_);
    if (st == Status::Ok) st = pwrite_all(s_->fs, index_, ib, sizeof ib, kIntentOffset);
    if (st == Status::Ok) st = s_->fs.fsync(index_);
    if (st == Status::Ok) read_intent_ = 0;
    cache_clear();
    return st;
}

// ---- keywords ---------------------------------------------------------------

std::string_view Mailbox::keyword_name(std::size_t bit) const {
    if (bit >= kw_count_) return {};
    return std::string_view(keywords_[bit], keyword_len_[bit]);
}

Status Mailbox::keyword_bit(std::string_view name, bool create, unsigned* bit) {
    for (unsigned i = 0; i < kw_count_; ++i) {
        if (ascii::iequals(keyword_name(i), name)) {
            *bit = i;
            return Status::Ok;
        }
    }
    if (!create) return Status::NotFound;
    if (name.empty() || name.size() > kMaxKeywordLength) return Status::TooLong;
    if (kw_count_ == kMaxKeywords) return Status::Exhausted;
    Status st = lock();
    if (st != Status::Ok) return st;
    // Durable before any committed state counts it. Inside a transaction
    // its commit's flush makes it so, and no flush of its own is needed:
    // a redo record counts only if the keyword entries its state adds are
    // intact (replay_redo); commit_txn flushes m.index before it writes a
    // state (kw_unsynced_). Outside one, a flush here.
    bool by_record = in_txn_ && !redo_written_ && commit_phase_ == 0;
    std::uint8_t buf[kKeywordEntrySize];
    const std::uint64_t at = kKeywordTableOffset + kw_count_ * kKeywordEntrySize;
    if (by_record) {
        // A valid entry there (a registration never committed) would pass
        // for this one if the write did not land: then a flush of its own.
        std::string_view stale;
        const Status old = pread_full(s_->fs, index_, buf, sizeof buf, at);
        if ((old != Status::Ok && old != Status::Eof) ||
            (old == Status::Ok && decode_keyword(buf, &stale)))
            by_record = false;
    }
    encode_keyword(name, buf);
    st = pwrite_all(s_->fs, index_, buf, sizeof buf, at);
    if (st == Status::Ok && !by_record) st = s_->fs.fsync(index_);
    if (st == Status::Ok) {
        if (by_record) kw_unsynced_ = true;
        std::memcpy(keywords_[kw_count_], name.data(), name.size());
        keyword_len_[kw_count_] = static_cast<std::uint8_t>(name.size());
        *bit = kw_count_++;
        // Outside a transaction, commit the name now: once we let go of the
        // lock, another process could take the same table entry.
        if (!in_txn_) {
            begin_txn();
            st = commit_txn();
            if (st != Status::Ok) --kw_count_;
        }
    }
    unlock();
    return st;
}

// Writes next_ and makes it durable; on success it becomes the state.
// Record slots changed in place (STORE, EXPUNGE) are synced first: a state
// must never land while a slot it covers is torn. New records (APPEND, COPY)
// need no extra sync: repair_tail() rebuilds them from their durable frames.
//
// In steps (commit_phase_) when the flushes are the caller's: the slots'
// flush (1), the state written (2), its flush (3); WouldBlock at 1 and 3.
Status Mailbox::commit_txn() {
    if (retired_) {  // DELETE came first: nothing is acknowledged into it
        in_txn_ = false;
        end_barriers();
        cache_clear();
        return Status::NotFound;
    }
    // The committed state is the only commit point: one generation further,
    // written under the lock that covered every write it stands for.
    TINYIMAPD_ASSERT(in_txn_ && lock_depth_ > 0);
    TINYIMAPD_ASSERT(next_.generation == state_.generation + 1);
    TINYIMAPD_ASSERT(next_.highest_modseq >= state_.highest_modseq);
    TINYIMAPD_ASSERT(next_.uid_next >= state_.uid_next);
    Status st = Status::Ok;
    if (commit_phase_ == 0) {
        next_.keyword_count = kw_count_;
        next_.first_recent_uid = first_recent_uid_;
        commit_phase_ = txn_slots_ || kw_unsynced_ ? 1 : 2;
    }
    if (commit_phase_ == 1) {  // the slots (and keywords) durable before a state covers them
        st = barrier(index_);
        if (st == Status::WouldBlock) return st;
        if (st == Status::Ok) kw_unsynced_ = false;
        commit_phase_ = 2;
    }
    if (st == Status::Ok && commit_phase_ == 2) {
        st = write_state(next_);
        committing_ = true;
        commit_phase_ = 3;
    }
    if (st == Status::Ok && commit_phase_ == 3) {
        st = barrier(index_);
        if (st == Status::WouldBlock) return st;
    }
    end_barriers();
    in_txn_ = false;
    if (st != Status::Ok) {
        if (txn_slots_) abandon_compaction();  // it mirrored slots that never commit
        cache_clear();
        return st;
    }
    state_ = next_;
    state_slot_ = 1 - state_slot_;
    cache_clear();
    ++changes_;
    return Status::Ok;
}

// ---- APPEND -------------------------------------------------------------------

Status Mailbox::begin_append(Appender& a, std::uint32_t size, std::uint8_t flags,
                             std::uint64_t keywords, std::int64_t internal_date,
                             std::int16_t zone_minutes) {
    Record* const batch = a.batch;
    const std::size_t capacity = a.batch_capacity;
    const std::size_t count = batch != nullptr ? a.batch_count : 0;
    const bool continuing = count > 0 && a.mailbox == this && appending_;
    if (!continuing) {
        if (appending_ || in_txn_) return Status::Busy;
        Status st = lock();
        if (st != Status::Ok) return st;
    }
    const std::uint64_t offset = continuing ? a.batch_end : state_.data_length;
    if (state_.uid_next + count >= kMaxUid || (batch != nullptr && count == capacity)) {
        if (!continuing) unlock();
        return Status::Exhausted;
    }
    a = Appender{};
    a.batch = batch;
    a.batch_capacity = capacity;
    a.batch_count = count;
    a.mailbox = this;
    a.uid = static_cast<std::uint32_t>(state_.uid_next + count);
    a.size = size;
    a.flags = static_cast<std::uint8_t>(flags & ~mail::kRecent);
    a.keywords = keywords;
    a.frame_offset = offset;
    a.batch_end = offset;
    FrameHeader h;
    h.uid = a.uid;
    h.size = size;
    h.internal_date = internal_date;
    h.zone_minutes = zone_minutes;
    h.flags = a.flags;
    h.keywords = keywords;
    std::uint8_t buf[kFrameHeaderSize];
    encode(h, buf);
    const Status st = pwrite_all(s_->fs, data_, buf, sizeof buf, a.frame_offset);
    if (st != Status::Ok) {
        if (continuing) {
            abort_append(a);
        } else {
            unlock();
        }
        return st;
    }
    a.internal_date = internal_date;
    a.zone_minutes = zone_minutes;
    appending_ = true;
    return Status::Ok;
}

Status Mailbox::append_chunk(Appender& a, const void* bytes, std::size_t length) {
    if (a.mailbox != this || !appending_) return Status::Invalid;
    if (length > a.size - a.written) return Status::Invalid;
    Status st =
        pwrite_all(s_->fs, data_, bytes, length, a.frame_offset + kFrameHeaderSize + a.written);
    if (st != Status::Ok) return st;
    a.crc = crc32c(bytes, length, a.crc);
    a.written += static_cast<std::uint32_t>(length);
    TINYIMAPD_ASSERT(a.written <= a.size);
    return Status::Ok;
}

Status Mailbox::commit_append(Appender& a, std::uint32_t* uid) {
    if (a.mailbox != this || !appending_) return Status::Invalid;
    if (a.written != a.size) {
        abort_append(a);
        return Status::Invalid;
    }
    std::uint8_t t[kFrameTrailerSize];
    encode_trailer(a.crc, t);
    const std::uint64_t end = a.frame_offset + kFrameOverhead + a.size;
    const Status st = pwrite_all(s_->fs, data_, t, sizeof t, end - kFrameTrailerSize);
    if (st != Status::Ok) {
        abort_append(a);
        return st;
    }
    // The record waits for commit_batch(); a single APPEND is a batch of one.
    Record one;
    const bool single = a.batch == nullptr;
    if (single) {
        a.batch = &one;
        a.batch_capacity = 1;
        a.batch_count = 0;
    }
    Record& r = a.batch[a.batch_count++];
    r = Record{};
    r.uid = a.uid;
    r.size = a.size;
    r.offset = a.frame_offset;
    r.internal_date = a.internal_date;
    r.zone_minutes = a.zone_minutes;
    r.flags = a.flags;
    r.keywords = a.keywords;
    r.save_date = s_->clock.wall_seconds();  // RFC 8514: saved now
    r.email_id = next_email_id();            // RFC 8474 §5.1: a new message
    a.batch_end = end;
    *uid = a.uid;
    if (!single) return Status::Ok;
    const Status committed = commit_batch(a, uid);
    a.batch = nullptr;
    a.batch_capacity = 0;
    return committed;
}

Status Mailbox::commit_batch(Appender& a, std::uint32_t* first_uid) {
    if (a.mailbox != this || !appending_ || a.batch == nullptr || a.batch_count == 0) {
        return Status::Invalid;
    }
    // Data first (every frame), then one index commit that covers them all.
    // With async flushes this is called again after each barrier: before
    // the records are written (!in_txn_) and during commit_txn.
    Status st = Status::Ok;
    if (!in_txn_) {
        async_flush_ = a.async_flush;
        st = barrier(data_);
        if (st == Status::WouldBlock) return st;
    }
    if (st == Status::Ok && !in_txn_) {
        begin_txn();
        for (std::size_t i = 0; i < a.batch_count && st == Status::Ok; ++i) {
            Record r = a.batch[i];
            r.modseq = next_.highest_modseq;
            st = write_record(next_.record_count, r, true);
            next_.record_count += 1;
            next_.live_count += 1;
            next_.uid_next = r.uid + 1;
            next_.live_bytes += r.size;
            if (seen(r.flags)) next_.seen_count += 1;
        }
        next_.data_length = a.batch_end;
        if (st != Status::Ok) in_txn_ = false;
    }
    if (st == Status::Ok) {
        st = commit_txn();
        if (st == Status::WouldBlock) return st;
    }
    if (st != Status::Ok) {
        end_barriers();
        in_txn_ = false;
        abort_append(a);
        return st;
    }
    *first_uid = a.batch[0].uid;
    a.batch_count = 0;
    appending_ = false;
    a.mailbox = nullptr;
    unlock();
    return Status::Ok;
}

void Mailbox::abort_append(Appender& a) {
    if (a.mailbox != this || !appending_) return;
    if (in_txn_) {  // given up between commit_batch's barriers
        if (txn_slots_) abandon_compaction();
        in_txn_ = false;
        cache_clear();
    }
    // Given up after its state was written (its flush not reported): that
    // state may yet be the committed one (the next lock() reads it back), so
    // the frames it covers stay.
    const bool state_written = committing_;
    end_barriers();
    if (!state_written) (void)s_->fs.truncate(data_, state_.data_length);
    appending_ = false;
    a.mailbox = nullptr;
    a.batch_count = 0;
    unlock();
}

// ---- STORE ------------------------------------------------------------------

Status Mailbox::begin_store(bool async_flush) {
    if (in_txn_) {
        if (!async_flush || !group_joinable()) return Status::Busy;
        // Joins the group: its changes get the next modseq; giving up takes
        // back only those (abort_store).
        member_base_ = next_;
        member_first_ = redo_count_;
        next_.highest_modseq += 1;
        group_active_ = true;
        member_changed_ = false;
        return Status::Ok;
    }
    Status st = lock();
    if (st != Status::Ok) return st;
    begin_txn();
    async_flush_ = async_flush;
    group_open_ = async_flush;
    group_active_ = async_flush;
    member_changed_ = false;
    member_first_ = 0;
    member_base_ = next_;
    return Status::Ok;
}

Status Mailbox::store(const View& v, std::uint32_t seq, FlagOp op, std::uint8_t flags,
                      std::uint64_t keywords, std::uint64_t unchanged_since, MessageInfo* result,
                      bool* skipped) {
    *skipped = false;
    if (!in_txn_) return Status::Invalid;
    Status st = message(v, seq, result);
    if (st != Status::Ok) return st;
    const std::uint32_t pos = position_of(v, seq);
    Record r;
    if ((st = read_record(pos, &r)) != Status::Ok) return st;
    if (r.expunged) return Status::NotFound;
    // Changed before in this transaction: its gathered value is the current
    // one (the last entry for it: a later member of a group adds its own
    // entry, to the same slot, rather than change an earlier member's).
    int held = -1;
    for (std::size_t i = 0; i < redo_count_; ++i) {
        std::uint32_t at = 0;
        std::uint8_t slot = 0;
        const std::uint8_t* bytes = nullptr;
        redo_entry(redo_, i, &at, &slot, &bytes);
        if (at == pos && decode_slot(bytes, &r)) {
            r.slot = slot;
            held = static_cast<int>(i);
        }
    }
    const bool own = held >= static_cast<int>(member_first_);
    const std::uint8_t nf = apply(op, r.flags, flags);
    const std::uint64_t nk = apply64(op, r.keywords, keywords);
    // RFC 7162 §3.1.3: a change that changes nothing passes UNCHANGEDSINCE
    // (no spurious [MODIFIED]).
    if (nf == r.flags && nk == r.keywords) return Status::Ok;
    if (unchanged_since != 0 && r.modseq > unchanged_since) {
        *skipped = true;
        return Status::Ok;
    }
    // Gathered in the redo record while it has room (docs/STORAGE.md "The
    // redo log"); past that, the intent's way: before anything of this
    // message changes, the intent durable and the gathered slots written
    // (WouldBlock: the caller flushes and calls again for the same message).
    const bool redo = !txn_slots_ && !intent_written_ && (own || redo_count_ < kRedoMaxEntries);
    // Spilling writes every member's slots in place, which this member
    // could no longer take back alone: with others waiting, it goes again
    // after their commit (docs/STORAGE.md "Group commit").
    if (!redo && group_ready_) return Status::Busy;
    if (!redo && (st = redo_spill()) != Status::Ok) return st;
    if (seen(nf) != seen(r.flags)) {
        if (seen(nf)) {
            ++next_.seen_count;
        } else {
            --next_.seen_count;
        }
    }
    r.flags = nf;
    r.keywords = nk;
    r.modseq = next_.highest_modseq;
    if (held < 0) r.slot = static_cast<std::uint8_t>(1 - r.slot);
    if (redo) {
        std::uint8_t bytes[kRecordSlotSize];
        encode_slot(r, bytes);
        const std::size_t i = own ? static_cast<std::size_t>(held) : redo_count_++;
        redo_put(redo_, i, pos, bytes, r.slot);
    } else {
        if ((st = write_record(pos, r, false)) != Status::Ok) return st;
        compact_mirror(pos, r);
    }
    // The cache must keep the committed state until the commit.
    if (s_->limits.cache_records != 0) cache_[pos % s_->limits.cache_records].position_plus_one = 0;
    note_change(r.uid, r.modseq);
    member_changed_ = true;
    result->flags = static_cast<std::uint8_t>(nf | (result->flags & mail::kRecent));
    result->keywords = nk;
    result->modseq = r.modseq;
    return Status::Ok;
}

Status Mailbox::commit_store() {
    if (!in_txn_) return Status::Invalid;
    group_active_ = false;
    if (redo_count_ > 0) {
        const Status st = commit_redo();
        if (st == Status::WouldBlock) return st;
        finish_group(st);
        return st;
    }
    // Nothing changed (and no keyword registered): no write at all.
    if (!txn_slots_ && !intent_written_ && kw_count_ == state_.keyword_count) {
        in_txn_ = false;
        end_barriers();
        finish_group(Status::Ok);
        return Status::Ok;
    }
    if (!txn_slots_ && intent_written_) {  // an intent whose flush was never done: give it up
        abort_store();
        return Status::Invalid;
    }
    Status st = commit_txn();
    if (st == Status::WouldBlock) return st;
    finish_group(st);
    return st;
}

void Mailbox::abort_store(CommitWaiter* w) {
    if (w != nullptr && w->done) {  // its group has ended already
        w->done = false;
        return;
    }
    if (w != nullptr && w->mailbox == this) {  // waiting: the group goes on without it
        for (CommitWaiter** p = &committers_; *p != nullptr; p = &(*p)->next) {
            if (*p == w) {
                *p = w->next;
                break;
            }
        }
        w->mailbox = nullptr;
        w->next = nullptr;
        w->done = false;
        return;
    }
    if (!in_txn_) return;
    if (group_active_ && group_ready_) {
        // Others wait for the group: only this member's changes go. It never
        // spilled (store() refuses that with others waiting), so they are
        // all in the redo buffer after member_first_.
        redo_count_ = member_first_;
        next_ = member_base_;
        group_active_ = false;
        member_changed_ = false;
        cache_clear();
        wake_joiners();
        return;
    }
    if (txn_slots_) abandon_compaction();  // it mirrored slots that never commit
    redo_void();
    redo_count_ = 0;
    end_barriers();
    in_txn_ = false;
    cache_clear();
    finish_group(Status::Closed);  // a member that waited is told: not committed
}

// ---- the redo log (docs/STORAGE.md "The redo log") ----------------------------

// A STORE whose changes outgrow its redo record goes the intent's way: the
// intent durable, then the slots gathered so far written in place.
Status Mailbox::redo_spill() {
    Status st = declare_intent();
    if (st == Status::Ok) st = write_redo_slots();
    if (st == Status::Ok) redo_count_ = 0;
    return st;
}

// The record slots gathered in redo_ written in place (and mirrored for the
// compaction), without a flush.
Status Mailbox::write_redo_slots() {
    Status st = Status::Ok;
    for (std::size_t i = 0; st == Status::Ok && i < redo_count_; ++i) {
        std::uint32_t pos = 0;
        std::uint8_t slot = 0;
        const std::uint8_t* bytes = nullptr;
        redo_entry(redo_, i, &pos, &slot, &bytes);
        st = pwrite_all(s_->fs, index_, bytes, kRecordSlotSize,
                        record_offset(pos) + kRecordSlotOffset[slot]);
        Record m;
        if (st == Status::Ok && decode_slot(bytes, &m)) {
            m.slot = slot;
            compact_mirror(pos, m);
        }
    }
    return st;
}

// The commit of a STORE by its redo record: the record written, ONE flush
// (the commit point; WouldBlock while it is the caller's), then its slots
// and its state written in place without a flush of their own: the next
// flush of m.index makes them durable, and until then recovery has the
// record (replay_redo).
Status Mailbox::commit_redo() {
    Status st = retired_ ? Status::NotFound : Status::Ok;  // DELETE came first
    if (st == Status::Ok && !redo_written_) {
        TINYIMAPD_ASSERT(in_txn_ && lock_depth_ > 0);
        TINYIMAPD_ASSERT(next_.generation == state_.generation + 1);
        next_.keyword_count = kw_count_;
        next_.first_recent_uid = first_recent_uid_;
        const std::size_t n =
            redo_seal(redo_, redo_count_, next_, static_cast<std::uint8_t>(1 - state_slot_));
        redo_written_ = true;  // even if the write failed: some of it may be there
        st = pwrite_all(s_->fs, index_, redo_, n, redo_area_offset(next_.generation));
    }
    if (st == Status::Ok) {
        st = barrier(index_);
        if (st == Status::WouldBlock) return st;
    }
    if (st == Status::Ok) {
        redo_written_ = false;  // durable: committed, whatever happens next
        kw_unsynced_ = false;   // its keyword entries were written before it
        st = write_redo_slots();
        if (st == Status::Ok) st = write_state(next_);
        // A failed write in place: the record stays, and the next lock()
        // (ours or another process's) writes it again before anything else.
    } else {
        redo_void();
    }
    end_barriers();
    in_txn_ = false;
    redo_count_ = 0;
    cache_clear();
    if (st != Status::Ok) return st;
    state_ = next_;
    state_slot_ = 1 - state_slot_;
    ++changes_;
    return Status::Ok;
}

// A record written and not committed (its flush failed, or the STORE was
// given up while waiting for it): made invalid, so no recovery replays it
// over a later commit of the same generation (whose flush makes this write
// durable first).
void Mailbox::redo_void() {
    if (!redo_written_) return;
    redo_written_ = false;
    static constexpr std::uint8_t kZero[16] = {};
    (void)pwrite_all(s_->fs, index_, kZero, sizeof kZero, redo_area_offset(next_.generation));
}

// The redo record of the next generation (its state never written in
// place, or lost with the power) is written in place now: its slots, then
// its state. At open also the committed generation's own record (its state
// landed, some slots may not have): slots that differ are written again.
// No flush: the record stays valid until a later commit, whose flush makes
// these writes durable first.
Status Mailbox::replay_redo(bool at_open) {
    Status st = Status::Ok;
    bool applied = false;
    const std::uint32_t keywords = state_.keyword_count;
    for (std::uint64_t pass = at_open ? 0 : 1; pass < 2; ++pass) {
        const std::uint64_t want = state_.generation + pass;
        // Its first 16 bytes say whether a record of that generation is
        // there (most of the time none is: one small read).
        std::uint8_t area[kRedoAreaSize];
        st = pread_full(s_->fs, index_, area, 16, redo_area_offset(want));
        if (st == Status::Eof) return Status::Ok;  // a short index: no record
        if (st != Status::Ok) return st;
        const std::size_t count = le::load16(area + 6);
        if (le::load32(area) != kRedoMagic || le::load64(area + 8) != want || count == 0 ||
            count > kRedoMaxEntries)
            continue;
        st = pread_full(s_->fs, index_, area + 16, redo_length(count) - 16,
                        redo_area_offset(want) + 16);
        if (st == Status::Eof) continue;
        if (st != Status::Ok) return st;
        RedoHeader h;
        if (!redo_decode(area, &h) || h.generation != want) continue;
        if (pass == 0) {
            // Only if it is this generation's commit, byte for byte.
            std::uint8_t cur[kStateSlotSize];
            if (h.state_slot != state_slot_) continue;
            st = pread_full(s_->fs, index_, cur, sizeof cur, kStateSlotOffset[state_slot_]);
            if (st != Status::Ok) return st;
            if (std::memcmp(cur, h.state, kStateSlotSize) != 0) continue;
        } else if (h.state_slot == state_slot_) {
            continue;
        }
        State ns;
        if (!decode(h.state, &ns) || ns.record_count != state_.record_count ||
            ns.data_file_id != state_.data_file_id)
            continue;
        if (!keywords_intact(state_.keyword_count, ns.keyword_count)) continue;
        bool fits = true;
        for (std::size_t i = 0; i < h.count; ++i) {
            std::uint32_t pos = 0;
            std::uint8_t slot = 0;
            const std::uint8_t* bytes = nullptr;
            redo_entry(area, i, &pos, &slot, &bytes);
            if (pos >= state_.record_count) fits = false;
        }
        if (!fits) continue;
        for (std::size_t i = 0; i < h.count; ++i) {
            std::uint32_t pos = 0;
            std::uint8_t slot = 0;
            const std::uint8_t* bytes = nullptr;
            redo_entry(area, i, &pos, &slot, &bytes);
            const std::uint64_t at = record_offset(pos) + kRecordSlotOffset[slot];
            if (pass == 0) {
                std::uint8_t cur[kRecordSlotSize];
                st = pread_full(s_->fs, index_, cur, sizeof cur, at);
                if (st != Status::Ok && st != Status::Eof) return st;
                if (st == Status::Ok && std::memcmp(cur, bytes, kRecordSlotSize) == 0) continue;
            }
            if ((st = pwrite_all(s_->fs, index_, bytes, kRecordSlotSize, at)) != Status::Ok)
                return st;
        }
        if (pass == 1) {
            st =
                pwrite_all(s_->fs, index_, h.state, kStateSlotSize, kStateSlotOffset[h.state_slot]);
            if (st != Status::Ok) return st;
            state_ = ns;
            state_slot_ = h.state_slot;
            applied = true;
        }
    }
    cache_clear();
    if (!applied) return Status::Ok;
    // What another process committed (or we, before a failed write): the
    // views learn of it as of any external change.
    ring_size_ = 0;
    ring_floor_ = state_.highest_modseq;
    ++changes_;
    return state_.keyword_count != keywords ? load_keywords() : Status::Ok;
}

// ---- COPY -------------------------------------------------------------------

Status Mailbox::begin_copy(Mailbox& dest, bool async_flush) {
    if (dest.appending_ || dest.in_txn_) return Status::Busy;
    Status st = dest.lock();
    if (st != Status::Ok) return st;
    dest.begin_txn();
    dest.async_flush_ = async_flush;
    dest.appending_ = true;
    dest.txn_data_end_ = dest.state_.data_length;
    return Status::Ok;
}

Status Mailbox::copy(const View& v, std::uint32_t seq, Mailbox& dest, std::uint32_t* new_uid) {
    CopyCursor c;
    std::uint64_t budget = UINT64_MAX;
    bool finished = false;
    Status st = copy_step(v, seq, dest, c, &budget, &finished, new_uid);
    if (st == Status::Ok && !finished) st = Status::Io;
    return st;
}

Status Mailbox::copy_step(const View& v, std::uint32_t seq, Mailbox& dest, CopyCursor& c,
                          std::uint64_t* budget, bool* finished, std::uint32_t* new_uid) {
    *finished = false;
    if (!dest.in_txn_ || !dest.appending_) return Status::Invalid;
    Status st = Status::Ok;
    Record& r = c.record;
    if (!c.active) {
        MessageInfo& m = c.source;
        st = message(v, seq, &m);
        if (st != Status::Ok) return st;
        if (dest.next_.uid_next >= kMaxUid) return Status::Exhausted;
        std::uint64_t kw = 0;
        for (unsigned b = 0; c.keep_keywords && b < kMaxKeywords; ++b) {
            if ((m.keywords & (std::uint64_t{1} << b)) == 0) continue;
            unsigned db = 0;
            if (keyword_name(b).empty() || hidden_keyword(keyword_name(b))) continue;
            if ((st = dest.keyword_bit(keyword_name(b), true, &db)) != Status::Ok) return st;
            kw |= std::uint64_t{1} << db;
        }
        r = Record{};
        r.uid = dest.next_.uid_next;
        r.size = m.size;
        r.offset = dest.txn_data_end_;
        r.internal_date = m.internal_date;
        r.zone_minutes = m.zone_minutes;
        // RFC 8514: saved into dest now; RFC 8474 §5.1: the copy (and the
        // message MOVE takes along) keeps its source's EMAILID.
        r.save_date = s_->clock.wall_seconds();
        r.email_id = m.email_id != 0 ? m.email_id : dest.next_email_id();
        std::uint8_t flags = m.flags;
        if (c.seen_from_bits) {
            flags = static_cast<std::uint8_t>((flags & ~mail::kSeen) |
                                              ((m.keywords & c.seen_bits) != 0 ? mail::kSeen : 0));
        }
        r.flags = static_cast<std::uint8_t>(flags & ~mail::kRecent & c.keep_flags);
        if (!c.seen_dest.empty() && (r.flags & mail::kSeen) != 0) {
            unsigned db = 0;
            if ((st = dest.keyword_bit(c.seen_dest, true, &db)) != Status::Ok) return st;
            kw |= std::uint64_t{1} << db;
            r.flags = static_cast<std::uint8_t>(r.flags & ~mail::kSeen);
        }
        r.keywords = kw;
        r.modseq = dest.next_.highest_modseq;
        const FrameHeader h = frame_header_of(r);
        std::uint8_t hb[kFrameHeaderSize];
        encode(h, hb);
        if ((st = pwrite_all(s_->fs, dest.data_, hb, sizeof hb, r.offset)) != Status::Ok) return st;
        c.crc = 0;
        c.done = 0;
        c.active = true;
    }
    // The frame lies beyond dest's committed length until commit_copy:
    // nobody reads it, so it may be written over many turns.
    for (;;) {
        if (c.done >= r.size) break;
        if (*budget == 0) return Status::Ok;  // more on the next call
        std::size_t got = 0;
        st = read(c.source, c.done, s_->scratch, s_->limits.scratch_bytes, &got);
        if (st == Status::Ok && got == 0) st = Status::Io;
        if (st == Status::Ok) {
            c.crc = crc32c(s_->scratch, got, c.crc);
            st = pwrite_all(s_->fs, dest.data_, s_->scratch, got,
                            r.offset + kFrameHeaderSize + c.done);
        }
        if (st != Status::Ok) {
            c.active = false;
            return st;
        }
        c.done += got;
        *budget = *budget > got ? *budget - got : 0;
    }
    c.active = false;
    std::uint8_t t[kFrameTrailerSize];
    encode_trailer(c.crc, t);
    const std::uint64_t end = r.offset + kFrameOverhead + r.size;
    if ((st = pwrite_all(s_->fs, dest.data_, t, sizeof t, end - kFrameTrailerSize)) != Status::Ok)
        return st;
    if ((st = dest.write_record(dest.next_.record_count, r, true)) != Status::Ok) return st;
    dest.txn_data_end_ = end;
    dest.next_.record_count += 1;
    dest.next_.live_count += 1;
    dest.next_.uid_next = r.uid + 1;
    dest.next_.live_bytes += r.size;
    if (seen(r.flags)) dest.next_.seen_count += 1;
    *new_uid = r.uid;
    *finished = true;
    return Status::Ok;
}

Status Mailbox::commit_copy(Mailbox& dest) {
    if (!dest.in_txn_ || !dest.appending_) return Status::Invalid;
    Status st = Status::Ok;
    if (!dest.data_synced_) {  // every frame durable before the records count
        st = dest.barrier(dest.data_);
        if (st == Status::WouldBlock) return st;
        dest.data_synced_ = true;
        dest.next_.data_length = dest.txn_data_end_;
    }
    if (st == Status::Ok) {
        st = dest.commit_txn();
        if (st == Status::WouldBlock) return st;
    }
    if (st != Status::Ok) {
        dest.in_txn_ = true;
        abort_copy(dest);
        return st;
    }
    dest.appending_ = false;
    dest.unlock();
    return Status::Ok;
}

void Mailbox::abort_copy(Mailbox& dest) {
    if (!dest.in_txn_) return;
    const bool state_written = dest.committing_;  // as in abort_append
    dest.end_barriers();
    dest.in_txn_ = false;
    dest.appending_ = false;
    if (!state_written) (void)s_->fs.truncate(dest.data_, dest.state_.data_length);
    dest.cache_clear();
    dest.unlock();
}

// ---- EXPUNGE ------------------------------------------------------------------

Status Mailbox::expunge(const View& v, UidFilter* uid_filter, std::uint32_t* uids,
                        std::size_t capacity, std::size_t* count, std::uint32_t* from_uid,
                        bool async_flush) {
    *count = 0;
    ExpungeScan& x = expunge_;
    if (!x.open) {
        if (in_txn_) return Status::Busy;
        if (gone_count_ >= s_->limits.max_pending_expunges) make_gone_room(v);
        if (in_txn_) return Status::Busy;  // it left a trim to the group commit
        const Status locked = lock();
        if (locked != Status::Ok) return locked;
        begin_txn();
        async_flush_ = async_flush;
        x = ExpungeScan{};
        x.open = true;
        x.start = from_uid != nullptr ? find_position(*from_uid) : 0;
        x.pos = x.start;
    }
    // Called again after a barrier (async_flush): the scan goes on at the
    // record that waited for the intent, or the commit at its barrier.
    Status st = Status::Ok;
    const std::size_t room = s_->limits.max_pending_expunges - gone_count_;
    for (; !x.scanned && x.pos < v.positions && x.n < capacity; ++x.pos) {
        if (from_uid != nullptr && x.pos - x.start >= kExpungeScan) break;
        Record r;
        if ((st = read_record(x.pos, &r)) != Status::Ok) break;
        if (r.expunged) continue;
        if ((r.flags & mail::kDeleted) == 0 &&
            (uid_filter == nullptr || !uid_filter->ignores_deleted())) {
            continue;
        }
        if (uid_filter != nullptr && !uid_filter->accept(r.uid)) continue;
        Gone* last = x.runs > 0 ? &gone_[gone_count_ + x.runs - 1] : nullptr;
        const bool extends = last != nullptr && last->position + last->count == x.pos;
        if (!extends && x.runs == room) {
            x.full = true;
            break;
        }
        // Before anything of this record changes (WouldBlock: again here).
        if ((st = declare_intent()) != Status::Ok) break;
        r.expunged = true;
        r.modseq = next_.highest_modseq;
        r.slot = static_cast<std::uint8_t>(1 - r.slot);
        if ((st = write_record(x.pos, r, false)) != Status::Ok) break;
        compact_mirror(x.pos, r);
        next_.live_count -= 1;
        next_.live_bytes -= r.size;
        if (seen(r.flags)) next_.seen_count -= 1;
        next_.expunged_count += 1;
        if (extends) {
            ++last->count;
        } else {
            gone_[gone_count_ + x.runs++] = Gone{x.pos, 1, r.modseq};
        }
        if (uids != nullptr) uids[x.n] = r.uid;
        ++x.n;
    }
    if (st == Status::WouldBlock) return st;
    x.scanned = true;
    if (st == Status::Ok && x.n > 0) {
        st = commit_txn();
        if (st == Status::WouldBlock) return st;
    } else {
        if (txn_slots_) abandon_compaction();  // it mirrored slots that never commit
        end_barriers();
        in_txn_ = false;
        cache_clear();
    }
    x.open = false;
    unlock();
    if (st != Status::Ok) return st;
    const std::size_t runs = x.runs, n = x.n;
    const std::uint32_t pos = x.pos;
    const bool full = x.full;
    return expunge_done(v, runs, n, pos, full, count, from_uid);
}

void Mailbox::abort_expunge() {
    if (!expunge_.open) return;
    expunge_.open = false;
    if (txn_slots_) abandon_compaction();  // it mirrored slots that never commit
    end_barriers();
    in_txn_ = false;
    cache_clear();
    unlock();
}

// The runs of a committed EXPUNGE join the gone list.
Status Mailbox::expunge_done(const View& v, std::size_t runs, std::size_t n, std::uint32_t pos,
                             bool full, std::size_t* count, std::uint32_t* from_uid) {
    // Merge the new runs (ascending among themselves) into the sorted list.
    for (std::size_t i = gone_count_; i < gone_count_ + runs; ++i) {
        const Gone g = gone_[i];
        std::size_t j = i;
        while (j > 0 && gone_[j - 1].position > g.position) {
            gone_[j] = gone_[j - 1];
            --j;
        }
        gone_[j] = g;
    }
    gone_count_ += runs;
    // The gone list: runs sorted by position, never overlapping, bounded.
    TINYIMAPD_ASSERT(gone_count_ <= s_->limits.max_pending_expunges);
    for (std::size_t i = 1; i < gone_count_; ++i)
        TINYIMAPD_ASSERT(gone_[i - 1].position + gone_[i - 1].count <= gone_[i].position);
    *count = n;
    if (from_uid != nullptr) {
        Record next;
        *from_uid = pos < v.positions && read_record(pos, &next) == Status::Ok ? next.uid : 0;
    }
    // The list ran out before the batch did: the caller lets its view catch
    // up (sync) and calls again.
    if (full) return Status::Exhausted;
    return Status::Ok;
}

}  // namespace tinyimapd::store
