// Mailbox: compaction in steps, and cutting expunged messages off the end
// (docs/STORAGE.md "Compaction").

#include "core/store/mailbox.h"

#include <cstring>

#include "core/base/assert.h"
#include "core/store/mailbox_detail.h"

namespace tinyimapd::store {

using namespace detail;  // the helpers of mailbox_detail.h

// The list of expunges not yet seen by every view is full. Other views
// that still show some of them are invalidated (their sessions end with BYE
// at their next command: RFC 3501 lets a server close a connection), so
// that a compaction can drop the list; the caller's own view `keep` must
// have seen them (the session reports its own expunges between batches).
void Mailbox::make_gone_room(const View& keep) {
    for (View* v = views_; v != nullptr; v = v->next) {
        if (v == &keep || v->invalidated) continue;
        for (std::size_t i = 0; i < gone_count_; ++i) {
            if (!fully_hidden(*v, gone_[i])) {
                v->invalidated = true;
                break;
            }
        }
    }
    (void)maybe_compact(true);
}

Status Mailbox::maybe_compact(bool force) {
    if (!is_open() || appending_ || in_txn_ || compacting() || retired_ ||
        state_.expunged_count == 0)
        return Status::Ok;
    // Someone of this process holds the mailbox (a tree operation) or a
    // writer waits for its turn: it goes first; a later sync tries again.
    if (lock_depth_ > 0 || waiters_ != nullptr) return Status::Ok;
    for (View* v = views_; v != nullptr; v = v->next) {
        if (v->invalidated) continue;  // ends at its next command
        for (std::size_t i = 0; i < gone_count_; ++i)
            if (!fully_hidden(*v, gone_[i])) return Status::Ok;  // still shown somewhere
    }
    // Expunged messages at the end of m.data are cut off in place first: no
    // copy, no free space needed (a full file system, issue 20.11).
    Status st = trim_tail(force);
    if (st == Status::Busy) return Status::Ok;  // another process: later
    if (st != Status::Ok || state_.expunged_count == 0) return st;
    const std::uint64_t payload =
        kDataHeaderSize + state_.live_bytes + std::uint64_t{state_.live_count} * kFrameOverhead;
    const std::uint64_t waste = state_.data_length - payload;
    const bool worth =
        waste >= s_->limits.compact_min_waste &&
        waste * 100 >= std::uint64_t{s_->limits.compact_waste_percent} * state_.data_length;
    if (!force && !worth && gone_count_ < s_->limits.max_pending_expunges) return Status::Ok;
    if (!force && state_.generation == compact_failed_at_) return Status::Ok;
    st = start_compaction();
    if (st != Status::Ok && st != Status::Busy) compact_failed_at_ = state_.generation;
    if (st == Status::Busy) return Status::Ok;  // another process: later
    // No room for a second copy: slide the live frames down in place.
    if (st == Status::NoSpace) st = start_slide(state_.highest_modseq);
    return st == Status::Busy ? Status::Ok : st;
}

// The runs of expunged records that end the index (nobody shows them: the
// caller checked) are dropped by one state commit (record_count and
// data_length lowered), then m.data is truncated. A crash after the commit
// leaves a longer m.data, which recovery truncates (step 4); before it,
// nothing changed. Bounded: two fsyncs, no copy.
Status Mailbox::trim_tail(bool force) {
    std::uint32_t count = state_.record_count;
    std::uint32_t removed = 0;
    std::size_t runs = gone_count_;
    while (runs > 0 && gone_[runs - 1].position + gone_[runs - 1].count == count) {
        count = gone_[runs - 1].position;
        removed += gone_[runs - 1].count;
        --runs;
    }
    if (removed == 0) return Status::Ok;
    // m.data ends with the record before the cut (a live one: an expunged
    // one would be in a run that ends at `count`). Not the cut record's
    // offset: after a slide (mailbox_slide.cpp) a dropped record's offset
    // is where its frame was, not where the next frame is.
    std::uint64_t length = kDataHeaderSize;
    Status st = Status::Ok;
    if (count > 0) {
        Record last;
        if ((st = read_record(count - 1, &last)) != Status::Ok) return st;
        length = last.offset + kFrameOverhead + last.size;
    }
    if (!force && state_.data_length - length < s_->limits.compact_min_waste) return Status::Ok;
    if ((st = lock()) != Status::Ok) return st;
    begin_txn();
    next_.highest_modseq = state_.highest_modseq;  // no message changed
    next_.record_count = count;
    next_.data_length = length;
    next_.expunged_count -= removed;
    if (s_->limits.loop_commits) {  // committed by the Registry, then finish_trim
        trim_ = TrimCommit{true, count, runs, length};
        open_bare_group();
        return Status::Busy;  // nothing more now (maybe_compact: later)
    }
    st = commit_txn();
    if (st == Status::Ok) finish_trim(count, runs, length);
    unlock();
    return st;
}

// The cut is committed: the dropped runs leave the gone list and the views,
// and m.data is truncated. No flush: a crash leaves the longer m.data, which
// recovery truncates (step 4).
void Mailbox::finish_trim(std::uint32_t count, std::size_t runs, std::uint64_t length) {
    gone_count_ = runs;
    for (View* v = views_; v != nullptr; v = v->next)
        if (v->positions > count) v->positions = count;  // hidden in every view
    (void)s_->fs.truncate(data_, length);
}

// Compaction (docs/STORAGE.md "Compaction"): live messages are copied to
// m.data.new with a fresh index m.index.new over many turns of the loop
// (compact_step); both are synced, then m.data.new is renamed over m.data
// (the commit point) and m.index.new over m.index. The fs lock is held
// throughout against other processes (compact_hold_); writers of this
// process go between the steps and are taken in. recover() finishes or
// discards an interrupted one.
Status Mailbox::start_compaction() {
    Path dn, in;
    Status st = path(kDataNew, &dn);
    if (st == Status::Ok) st = path(kIndexNew, &in);
    if (st != Status::Ok) return st;
    if ((st = lock()) != Status::Ok) return st;
    // Left by a compaction abandoned in a way that could not remove them.
    port::FileInfo info;
    if (s_->fs.stat(dn.view(), &info) == Status::Ok) (void)s_->fs.unlink(dn.view());
    if (s_->fs.stat(in.view(), &info) == Status::Ok) (void)s_->fs.unlink(in.view());
    auto d = s_->fs.open(dn.view(), kCreateNew | port::kOpenNoFollow);
    if (!d.ok()) {
        unlock();
        return d.status;
    }
    auto x = s_->fs.open(in.view(), kCreateNew | port::kOpenNoFollow);
    if (!x.ok()) {
        (void)s_->fs.close(d.value);
        (void)s_->fs.unlink(dn.view());
        unlock();
        return x.status;
    }
    CompactJob& c = compact_;
    c = CompactJob{};
    c.phase = CompactPhase::Copy;
    c.nd = d.value;
    c.nx = x.value;
    c.source_file_id = data_header_.file_id;
    c.start_modseq = state_.highest_modseq;
    DataHeader dh;
    dh.uid_validity = state_.uid_validity;
    dh.uid_floor = state_.uid_next;
    dh.file_id = fresh_id(*s_);
    if (dh.file_id == data_header_.file_id) ++dh.file_id;
    c.file_id = dh.file_id;
    std::uint8_t hb[kDataHeaderSize];
    encode(dh, hb);
    st = pwrite_all(s_->fs, c.nd, hb, sizeof hb, 0);
    c.at = kDataHeaderSize;
    // The hold passes to the compaction: the fs lock stays taken, but
    // writers of this process no longer count it (they go between steps).
    compact_hold_ = true;
    --lock_depth_;
    if (st != Status::Ok) abandon_compaction();
    return st;
}

// The compaction lets go of the fs lock (unless a writer of this process
// holds it now); the first writer in line, if any, goes next.
void Mailbox::compact_release() {
    if (!compact_hold_) return;
    compact_hold_ = false;
    if (lock_depth_ == 0 && data_ != port::kNoFile) (void)s_->fs.unlock(data_);
    if (lock_depth_ == 0 && waiters_ != nullptr) waiters_->woken = true;
}

void Mailbox::abandon_compaction() {
    CompactJob& c = compact_;
    if (c.phase == CompactPhase::Idle) return;
    if (c.phase == CompactPhase::Settle) {  // committed: only its directory sync is left
        compact_settle(Status::WouldBlock);
        return;
    }
    if (c.nd != port::kNoFile) (void)s_->fs.close(c.nd);
    if (c.nx != port::kNoFile) (void)s_->fs.close(c.nx);
    c = CompactJob{};
    Path p;
    if (path(kDataNew, &p) == Status::Ok) (void)s_->fs.unlink(p.view());
    if (path(kIndexNew, &p) == Status::Ok) (void)s_->fs.unlink(p.view());
    compact_release();
}

// m.data.new is fsynced (a step of its own) after this many bytes copied.
constexpr std::uint64_t kCompactSyncBytes = 8 * 1024 * 1024;

Status Mailbox::compact_step(std::uint64_t* budget, bool async) {
    // A writer of this process is in the middle of a change: it goes first,
    // the compaction goes on once it is done (nothing waits for it).
    if (!compaction_runnable()) return Status::Ok;
    compact_.async = async;
    return compact_advance(budget);
}

// A flush of the compaction: done in place, or (async) asked for: WouldBlock,
// and the phase goes on when compact_flush_result() finds it done.
Status Mailbox::compact_flush(port::File f, bool dir) {
    CompactJob& c = compact_;
    if (!c.async) return dir ? s_->fs.sync_dir(dir_.view()) : s_->fs.fsync(f);
    c.flush = CompactFlush::Wanted;
    c.flush_phase = c.phase;
    c.flush_file = f;
    c.flush_dir = dir;
    return Status::WouldBlock;
}

// The flush a phase asked for has finished: that phase's step is over (as if
// it had flushed in place). *done: there was one.
Status Mailbox::compact_flush_result(bool* done) {
    CompactJob& c = compact_;
    *done = c.flush == CompactFlush::Done;
    if (!*done) return Status::Ok;
    c.flush = CompactFlush::None;
    c.flush_file = port::kNoFile;
    if (c.flush_status != Status::Ok) return c.flush_status;
    switch (c.flush_phase) {
        case CompactPhase::Copy: c.unsynced = 0; break;
        case CompactPhase::SyncData:
            c.unsynced = 0;
            c.phase = CompactPhase::SyncIndex;
            break;
        case CompactPhase::SyncIndex: c.phase = CompactPhase::SyncDir; break;
        case CompactPhase::SyncDir: c.phase = CompactPhase::Commit; break;
        case CompactPhase::Commit:
        case CompactPhase::Settle:
        case CompactPhase::Idle: break;
    }
    return Status::Ok;
}

Status Mailbox::compact_advance(std::uint64_t* budget) {
    if (slide_.phase != SlidePhase::Idle) return slide_advance(budget);
    CompactJob& c = compact_;
    if (c.phase == CompactPhase::Idle) return Status::Ok;
    if (c.phase == CompactPhase::Settle) {
        // Its directory sync is done (or, called synchronously, done here).
        *budget = 0;
        compact_settle(c.flush == CompactFlush::Done ? c.flush_status : Status::WouldBlock);
        return Status::Ok;
    }
    TINYIMAPD_ASSERT(!in_txn_ && !appending_);
    Status st = Status::Ok;
    if (data_ == port::kNoFile || data_header_.file_id != c.source_file_id) {
        st = Status::Invalid;  // cannot happen: the fs lock is ours throughout
    } else if (bool flushed = false; (st = compact_flush_result(&flushed)) != Status::Ok || flushed) {
        *budget = 0;  // a flush was this step (the next one looks at the writers)
    } else {
        // Writers went between the steps: records appended since are still
        // to copy; a commit since the new index's state was written means
        // that state must be written (and synced) again.
        if (c.phase != CompactPhase::Copy && c.position < state_.record_count) {
            c.phase = CompactPhase::Copy;
        } else if ((c.phase == CompactPhase::SyncDir || c.phase == CompactPhase::Commit) &&
                   state_.generation != c.sealed_generation) {
            c.phase = CompactPhase::SyncIndex;
        }
        switch (c.phase) {
            case CompactPhase::Copy:
                // The dirty pages of m.data.new are flushed every
                // kCompactSyncBytes, so no single fsync (a turn of its own)
                // has much to write, the last one included.
                if (c.unsynced >= kCompactSyncBytes) {
                    st = compact_flush(c.nd, false);
                    if (st == Status::Ok) c.unsynced = 0;
                    *budget = 0;
                    break;
                }
                st = compact_copy(budget);
                break;
            case CompactPhase::SyncData:
                st = compact_flush(c.nd, false);
                if (st == Status::Ok) {
                    c.unsynced = 0;
                    c.phase = CompactPhase::SyncIndex;
                }
                *budget = 0;
                break;
            case CompactPhase::SyncIndex:
                st = compact_seal();
                if (st == Status::Ok) c.phase = CompactPhase::SyncDir;
                *budget = 0;
                break;
            case CompactPhase::SyncDir:
                st = compact_flush(port::kNoFile, true);
                if (st == Status::Ok) c.phase = CompactPhase::Commit;
                *budget = 0;
                break;
            case CompactPhase::Commit: *budget = 0; return compact_commit();
            case CompactPhase::Settle:  // handled above
            case CompactPhase::Idle: break;
        }
    }
    if (st == Status::WouldBlock) return Status::Ok;  // its flush: compact_flush_wanted()
    if (st != Status::Ok) {
        const std::uint64_t start_modseq = c.start_modseq;
        compact_failed_at_ = state_.generation;
        abandon_compaction();
        // The file system filled up during the copy: slide in place instead
        // (what was expunged when the compaction started is hidden everywhere).
        // Not for the compaction opening started: only a compaction makes
        // the list of expunged runs short again.
        if (st == Status::NoSpace && !gone_overflow_ && start_slide(start_modseq) == Status::Ok)
            return Status::Ok;
    }
    return st;
}

// Copies frames until the budget is spent or every record is copied.
Status Mailbox::compact_copy(std::uint64_t* budget) {
    CompactJob& c = compact_;
    Status st = Status::Ok;
    while (c.position < state_.record_count) {
        if (*budget == 0) return Status::Ok;
        if (!c.in_frame) {
            bool skipped = false;
            if ((st = compact_begin_frame(budget, &skipped)) != Status::Ok) return st;
            if (skipped) continue;
        }
        const Record& r = c.record;
        while (*budget > 0 && c.done < r.size) {
            std::size_t n = s_->limits.scratch_bytes;
            if (r.size - c.done < n) n = static_cast<std::size_t>(r.size - c.done);
            st = pread_full(s_->fs, data_, s_->scratch, n, r.offset + kFrameHeaderSize + c.done);
            if (st == Status::Eof) st = Status::Io;
            if (st != Status::Ok) return st;
            c.crc = crc32c(s_->scratch, n, c.crc);
            st = pwrite_all(s_->fs, c.nd, s_->scratch, n, c.at + kFrameHeaderSize + c.done);
            if (st != Status::Ok) return st;
            c.done += n;
            c.unsynced += n;
            *budget = *budget > n ? *budget - n : 0;
        }
        if (c.done < r.size) return Status::Ok;  // the rest next turn
        if ((st = compact_end_frame()) != Status::Ok) return st;
    }
    c.phase = CompactPhase::SyncData;
    return Status::Ok;
}

// The next record of the old index: dropped if it was expunged when the
// compaction started, else its frame header goes to m.data.new.
Status Mailbox::compact_begin_frame(std::uint64_t* budget, bool* skipped) {
    CompactJob& c = compact_;
    // A record read costs about a small pread: charge it, so a long run of
    // expunged records is skipped in bounded pieces too.
    constexpr std::uint64_t kRecordCost = 256;
    *budget = *budget > kRecordCost ? *budget - kRecordCost : 0;
    Record& r = c.record;
    Status st = read_record(c.position, &r);
    if (st != Status::Ok) return st;
    if (r.expunged && r.modseq <= c.start_modseq) {
        ++c.position;
        ++c.dropped;
        *skipped = true;
        return Status::Ok;
    }
    const FrameHeader h = frame_header_of(r);
    std::uint8_t fb[kFrameHeaderSize];
    encode(h, fb);
    if ((st = pwrite_all(s_->fs, c.nd, fb, sizeof fb, c.at)) != Status::Ok) return st;
    c.in_frame = true;
    c.done = 0;
    c.crc = 0;
    return Status::Ok;
}

// The frame is whole: its trailer, then its record in m.index.new with
// the record's state as it is now (a writer may have changed it while the
// frame was copied), in both slots, so that a later slot write mirrored
// from the old index (compact_mirror) is right whichever slot it takes.
Status Mailbox::compact_end_frame() {
    CompactJob& c = compact_;
    std::uint8_t t[kFrameTrailerSize];
    encode_trailer(c.crc, t);
    Status st = pwrite_all(s_->fs, c.nd, t, sizeof t, c.at + kFrameHeaderSize + c.record.size);
    if (st != Status::Ok) return st;
    Record nr;
    if ((st = read_record(c.position, &nr)) != Status::Ok) return st;
    TINYIMAPD_ASSERT(nr.uid == c.record.uid && nr.offset == c.record.offset);
    nr.offset = c.at;
    std::uint8_t rb[kRecordSize] = {};
    encode_fixed(nr, rb);
    encode_slot(nr, rb + kRecordSlotOffset[0]);
    encode_slot(nr, rb + kRecordSlotOffset[1]);
    st = pwrite_all(s_->fs, c.nx, rb, sizeof rb, record_offset(c.records));
    if (st != Status::Ok) return st;
    c.records += 1;
    c.at += kFrameOverhead + c.record.size;
    c.in_frame = false;
    ++c.position;
    return Status::Ok;
}

// Every record is copied: the keyword table and the new index's state (the
// mailbox's state as it is now, without the dropped records), then fsync.
// Written again if a writer commits before the rename (compact_advance).
Status Mailbox::compact_seal() {
    CompactJob& c = compact_;
    TINYIMAPD_ASSERT(c.position == state_.record_count && !c.in_frame);
    TINYIMAPD_ASSERT(c.dropped <= state_.expunged_count);
    Status st = Status::Ok;
    for (std::uint32_t i = 0; i < kw_count_; ++i) {
        std::uint8_t kb[kKeywordEntrySize];
        encode_keyword(keyword_name(i), kb);
        st = pwrite_all(s_->fs, c.nx, kb, sizeof kb, kKeywordTableOffset + i * kKeywordEntrySize);
        if (st != Status::Ok) return st;
    }
    State& ns = c.sealed;
    ns = state_;
    ns.generation = state_.generation + 1;
    ns.record_count = c.records;
    ns.expunged_count = state_.expunged_count - c.dropped;
    ns.data_length = c.at;
    ns.data_file_id = c.file_id;
    ns.keyword_count = kw_count_;
    ns.first_recent_uid = first_recent_uid_;
    std::uint8_t sb[kStateSlotSize];
    encode(ns, sb);
    st = pwrite_all(s_->fs, c.nx, sb, sizeof sb, kStateSlotOffset[0]);
    if (st == Status::Ok) st = compact_flush(c.nx, false);
    c.sealed_generation = state_.generation;
    return st;
}

// Records of the old index below `position` that the compaction drops (the
// runs of the gone list that were there when it started).
std::uint32_t Mailbox::compact_dropped_below(std::uint32_t position) const {
    std::uint32_t below = 0;
    for (std::size_t i = 0; i < gone_count_; ++i) {
        const Gone& g = gone_[i];
        if (g.modseq > compact_.start_modseq || g.position >= position) continue;
        below += position - g.position < g.count ? position - g.position : g.count;
    }
    return below;
}

// A writer rewrote a slot of the record at `position` (STORE, EXPUNGE): if
// the compaction has copied that record already, the same slot of its copy
// in m.index.new is rewritten (synced by compact_seal before the rename; a
// transaction that does not commit abandons the compaction). A record not
// copied yet is read as it is when its turn comes.
void Mailbox::compact_mirror(std::uint32_t position, const Record& r) {
    const CompactJob& c = compact_;
    if (c.phase == CompactPhase::Idle || c.nx == port::kNoFile || position >= c.position) return;
    const std::uint32_t to = position - compact_dropped_below(position);
    TINYIMAPD_ASSERT(to < c.records);
    std::uint8_t buf[kRecordSlotSize];
    encode_slot(r, buf);
    if (pwrite_all(s_->fs, c.nx, buf, sizeof buf, record_offset(to) + kRecordSlotOffset[r.slot]) !=
        Status::Ok)
        abandon_compaction();  // the writer goes on; the compaction is tried again later
}

// The dropped records leave every view and the gone list: positions above
// them move down by as many. Each was hidden in every view (maybe_compact
// started only then; views attached since hide them too), so no view's
// numbering changes.
void Mailbox::compact_remap() {
    for (View* v = views_; v != nullptr; v = v->next) {
        v->positions -= compact_dropped_below(v->positions);
        v->partial_position -= compact_dropped_below(v->partial_position);
    }
    std::uint32_t below = 0;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < gone_count_; ++i) {
        Gone g = gone_[i];
        if (g.modseq <= compact_.start_modseq) {
            below += g.count;
            continue;
        }
        g.position -= below;
        gone_[kept++] = g;
    }
    gone_count_ = kept;
}

// The new files are durable: rename m.data.new over m.data (the commit
// point), m.index.new over m.index, and go on with the new files.
Status Mailbox::compact_commit() {
    CompactJob& c = compact_;
    Path dn, in, dp, ip;
    Status st = path(kDataNew, &dn);
    if (st == Status::Ok) st = path(kIndexNew, &in);
    if (st == Status::Ok) st = path(kDataFile, &dp);
    if (st == Status::Ok) st = path(kIndexFile, &ip);
    if (st == Status::Ok) st = s_->fs.rename(dn.view(), dp.view());  // commit point
    if (st != Status::Ok) {
        compact_failed_at_ = state_.generation;
        abandon_compaction();
        return st;
    }
    (void)s_->fs.close(c.nd);
    (void)s_->fs.close(c.nx);
    c.nd = c.nx = port::kNoFile;
    const State sealed = c.sealed;
    const bool settle = c.async;  // the directory's sync on an I/O thread
    compact_remap();
    compact_ = CompactJob{};
    st = s_->fs.rename(in.view(), ip.view());
    if (st == Status::Ok && !settle) st = s_->fs.sync_dir(dir_.view());
    // Tell other processes still on the old files to reopen (they read this
    // through their handle of the old, now unlinked, index when they take
    // the lock). Only once the new index is in place: otherwise the old
    // index is still m.index and must keep describing the old m.data.
    State marker = state_;
    marker.generation = state_.generation + 2;
    marker.data_file_id = sealed.data_file_id;
    if (st == Status::Ok && !settle) (void)write_state(marker);
    const int depth = lock_depth_;
    const bool renamed = st == Status::Ok;
    if (renamed && settle) {
        compact_keep_old(marker);  // until the renames are durable
    } else {
        close_files();  // lets go of the fs lock (the compaction's hold)
    }
    st = open_files();
    if (st == Status::Ok && (depth > 0 || !renamed)) {
        st = s_->fs.lock(data_, port::LockMode::Exclusive);
        if (st == Status::Ok) lock_depth_ = depth > 0 ? depth : 1;
    }
    if (st == Status::Ok && renamed) {
        // The new files are the ones written: their state is `sealed`.
        std::uint8_t hb[kDataHeaderSize];
        st = pread_full(s_->fs, data_, hb, sizeof hb, 0);
        if (st != Status::Ok || !decode(hb, &data_header_) ||
            data_header_.file_id != sealed.data_file_id)
            st = Status::Io;
        state_ = sealed;
        state_slot_ = 0;
        read_intent_ = 0;
        cache_clear();
    } else if (st == Status::Ok) {
        st = recover();  // the index was not renamed: recovery rolls it forward
        if (depth == 0) unlock();
    }
    ring_size_ = 0;
    ring_floor_ = state_.highest_modseq;
    ++changes_;
    if (lock_depth_ == 0 && waiters_ != nullptr) waiters_->woken = true;
    // The compaction opening started: the expunged records are gone, the
    // list is complete again (views may attach).
    if (st == Status::Ok && gone_overflow_) {
        gone_overflow_ = false;
        st = load_gone();
    }
    return st;
}

// Settle: the old files (and the fs lock on the old m.data, which other
// processes on them wait for) are kept until the renames are durable; the
// new ones are opened by the caller. The sync is asked for
// (compact_flush_wanted: the Registry starts it on an I/O thread).
void Mailbox::compact_keep_old(const State& marker) {
    CompactJob& c = compact_;
    c.phase = CompactPhase::Settle;
    c.async = true;
    c.old_data = data_;
    c.old_index = index_;
    c.old_slot = state_slot_;
    c.marker = marker;
    c.flush = CompactFlush::Wanted;
    c.flush_phase = CompactPhase::Settle;
    c.flush_dir = true;
    data_ = index_ = port::kNoFile;
    lock_depth_ = 0;
    compact_hold_ = false;
}

// The renames are durable (`synced` Ok; else the directory is synced here,
// unless a writer did it already): the marker goes to the old index, and
// the old files are let go, their lock with them.
void Mailbox::compact_settle(Status synced) {
    CompactJob& c = compact_;
    if (synced != Status::Ok && !c.dir_synced) synced = s_->fs.sync_dir(dir_.view());
    if ((synced == Status::Ok || c.dir_synced) && c.old_index != port::kNoFile) {
        std::uint8_t buf[kStateSlotSize];
        encode(c.marker, buf);
        (void)pwrite_all(s_->fs, c.old_index, buf, sizeof buf, kStateSlotOffset[1 - c.old_slot]);
    }
    if (c.old_index != port::kNoFile) (void)s_->fs.close(c.old_index);
    if (c.old_data != port::kNoFile) (void)s_->fs.close(c.old_data);
    c = CompactJob{};
}

// A writer of this process is about to make a commit durable on the new
// files while the renames' sync runs on an I/O thread: the directory is
// synced first, here (rare: only a commit that comes within that flush).
Status Mailbox::compact_settle_dir() {
    CompactJob& c = compact_;
    if (c.phase != CompactPhase::Settle || c.dir_synced) return Status::Ok;
    const Status st = s_->fs.sync_dir(dir_.view());
    if (st == Status::Ok) c.dir_synced = true;
    return st;
}

// In one call, for recovery (the list of expunges overflowed while the
// mailbox was closed; the lock is held by open()).
Status Mailbox::compact() {
    Status st = start_compaction();
    return st == Status::Ok ? compact_to_end() : st;
}

Status Mailbox::compact_to_end() {
    Status st = Status::Ok;
    while (st == Status::Ok && compacting()) {
        std::uint64_t budget = ~std::uint64_t{0};
        st = compact_advance(&budget);
    }
    return st;
}

}  // namespace tinyimapd::store
