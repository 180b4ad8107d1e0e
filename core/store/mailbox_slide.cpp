// Mailbox: reclaiming the space of expunged messages in place, without a
// second copy (docs/STORAGE.md "Reclaiming from the middle in place"; issue
// 20.11: on a full file system the compaction cannot write its copy).
//
// Live frames slide down over the holes left by dropped (expunged, hidden
// everywhere) frames, in m.data order, so m.data stays in UID order. A move
// takes a run of frames that lie back to back and fit in the hole before
// them (the copy never overlaps its source, nothing live is overwritten),
// copies it in bounded pieces, syncs m.data, then commits in one step: the
// move journal (fsync), the records' offsets (fsync), a state commit with
// relocations + 1 (fsync). Recovery redoes a journaled move whose state
// commit did not land. Every step leaves m.data walkable from offset 32 by a
// rebuild (padding frames over the holes; a stale copy of a moved frame has
// a UID not above the one before it and is skipped).

#include <cstring>

#include "core/base/assert.h"
#include "core/store/mailbox.h"
#include "core/store/mailbox_detail.h"

namespace tinyimapd::store {

using namespace detail;  // the helpers of mailbox_detail.h

namespace {
// Records moved by one commit at most: the commit step rewrites this many
// 32-byte fixed parts.
constexpr std::uint32_t kMaxRun = 128;
// A record looked at costs about a small pread (as in the compaction).
constexpr std::uint64_t kRecordCost = 256;

void charge(std::uint64_t* budget, std::uint64_t n) {
    *budget = *budget > n ? *budget - n : 0;
}
}  // namespace

Status Mailbox::start_slide(std::uint64_t drop_modseq) {
    if (!is_open() || compacting() || retired_ || in_txn_ || appending_) return Status::Busy;
    if (state_.expunged_count == 0 || slide_done_key_ == slide_key()) return Status::Ok;
    Status st = lock();
    if (st != Status::Ok) return st;
    slide_ = SlideJob{};
    slide_.phase = SlidePhase::Scan;
    slide_.drop_modseq = drop_modseq;
    slide_.at = kDataHeaderSize;
    // The hold passes to the slide (as to a compaction): the fs lock stays
    // taken against other processes, writers of this process go between
    // its steps.
    compact_hold_ = true;
    --lock_depth_;
    return Status::Ok;
}

void Mailbox::abandon_slide() {
    if (slide_.phase == SlidePhase::Idle) return;
    slide_ = SlideJob{};
    slide_forget_flush();
    compact_release();
}

// A move's copy made durable (fsync of m.data) before its commit. In the
// server (`async`, Registry::background_step) the flush is asked for like
// a compaction's (compact_flush_wanted: started on an I/O thread, the slide
// not stepped until it is done), then the commit follows at the next step.
Status Mailbox::slide_sync_data() {
    CompactJob& c = compact_;
    if (!c.async) {
        const Status st = s_->fs.fsync(data_);
        if (st == Status::Ok) slide_.phase = SlidePhase::Commit;
        return st;
    }
    if (c.flush != CompactFlush::Done) {
        c.flush = CompactFlush::Wanted;
        c.flush_phase = CompactPhase::Idle;  // the slide's (compact_flush_result is not used)
        c.flush_file = data_;
        c.flush_dir = false;
        return Status::Ok;
    }
    const Status st = c.flush_status;
    slide_forget_flush();
    if (st == Status::Ok) slide_.phase = SlidePhase::Commit;
    return st;
}

// The compaction's flush fields, which the slide borrows, back to none (a
// late completion no longer matches the token).
void Mailbox::slide_forget_flush() {
    compact_.flush = CompactFlush::None;
    compact_.flush_file = port::kNoFile;
    compact_.flush_token = 0;
}

// The slide is over: no compaction or slide is tried again until something
// commits (what could be reclaimed in place was).
void Mailbox::slide_finish() {
    slide_ = SlideJob{};
    slide_forget_flush();
    compact_failed_at_ = state_.generation;
    slide_done_key_ = slide_key();
    compact_release();
}

Status Mailbox::slide_advance(std::uint64_t* budget) {
    SlideJob& j = slide_;
    TINYIMAPD_ASSERT(!in_txn_ && !appending_);
    Status st = Status::Ok;
    // Records appended since the scan ended are still to look at.
    if (j.phase == SlidePhase::Cut && j.position < state_.record_count) j.phase = SlidePhase::Scan;
    switch (j.phase) {
        case SlidePhase::Scan: st = slide_scan(budget); break;
        case SlidePhase::Copy: st = slide_copy(budget); break;
        case SlidePhase::SyncData: st = slide_sync_data(); *budget = 0; break;
        case SlidePhase::Commit:
            st = slide_commit();
            *budget = 0;
            break;
        case SlidePhase::Cut:
            st = slide_cut();
            *budget = 0;
            if (st == Status::Ok) slide_finish();
            break;
        case SlidePhase::Idle: break;
    }
    if (st != Status::Ok) {
        abandon_slide();
        compact_failed_at_ = state_.generation;
    }
    return st;
}

// Walks the records from j.position: dropped ones are passed over, a kept
// frame already in place moves `at` on, a kept frame after a hole starts a
// move (slide_pick_run), or is left where it is when it cannot move.
Status Mailbox::slide_scan(std::uint64_t* budget) {
    SlideJob& j = slide_;
    while (j.position < state_.record_count) {
        if (*budget == 0) return Status::Ok;
        charge(budget, kRecordCost);
        Record r;
        Status st = read_record(j.position, &r);
        if (st != Status::Ok) return st;
        if (r.expunged && r.modseq <= j.drop_modseq) {
            ++j.position;
            continue;
        }
        if (r.offset < j.at) return Status::Io;  // frames out of order: cannot happen
        j.kept_end = j.position + 1;
        if (r.offset > j.at) {
            if ((st = slide_pick_run(r, budget)) != Status::Ok) return st;
            if (j.phase == SlidePhase::Copy) return Status::Ok;
        }
        j.at = r.offset + kFrameOverhead + r.size;  // stays where it is
        ++j.position;
    }
    j.phase = SlidePhase::Cut;
    return Status::Ok;
}

// The kept frame of `r` follows a hole [at, r.offset). The run is the
// longest series of kept frames from it, back to back, that fits in the
// hole and leaves either nothing or room for a padding frame (48 bytes)
// after it. None fits: nothing moves (the phase stays Scan).
Status Mailbox::slide_pick_run(const Record& r, std::uint64_t* budget) {
    SlideJob& j = slide_;
    std::uint64_t hole = r.offset - j.at;
    // A padding frame covers at most 4 GiB: a larger hole keeps a chain of
    // 2 GiB padding frames at its start (not reclaimed by this slide).
    constexpr std::uint64_t kPiece = std::uint64_t{1} << 31;
    while (hole - kFrameOverhead > 0xffffffffu) {
        std::uint8_t pad[kFrameHeaderSize];
        encode_padding(static_cast<std::uint32_t>(kPiece - kFrameOverhead), pad);
        Status st = pwrite_all(s_->fs, data_, pad, sizeof pad, j.at);
        if (st != Status::Ok) return st;
        j.at += kPiece;
        hole -= kPiece;
    }
    std::uint64_t length = 0, best = 0;
    std::uint32_t count = 0, best_count = 0;
    Record n = r;
    for (;;) {
        length += kFrameOverhead + n.size;
        ++count;
        if (length > hole) break;
        const std::uint64_t left = hole - length;
        if (left == 0 || left >= kFrameOverhead) {
            best = length;
            best_count = count;
        }
        if (count == kMaxRun || j.position + count >= state_.record_count || *budget == 0) break;
        charge(budget, kRecordCost);
        Status st = read_record(j.position + count, &n);
        if (st != Status::Ok) return st;
        if ((n.expunged && n.modseq <= j.drop_modseq) || n.offset != r.offset + length) break;
    }
    if (best_count == 0) return Status::Ok;
    j.phase = SlidePhase::Copy;
    j.first = j.position;
    j.count = best_count;
    j.from = r.offset;
    j.length = best;
    j.done = 0;
    // The hole becomes one padding frame first: whatever the copy writes
    // inside it, a rebuild walks from `at` straight to the run.
    std::uint8_t pad[kFrameHeaderSize];
    encode_padding(static_cast<std::uint32_t>(hole - kFrameOverhead), pad);
    return pwrite_all(s_->fs, data_, pad, sizeof pad, j.at);
}

// Copies the run to `at` in scratch-buffer pieces, everything but its first
// frame header first; then the padding frame after the copy (over the rest
// of the hole and the run's old place) and last the first header, which
// makes the copy part of the walk.
Status Mailbox::slide_copy(std::uint64_t* budget) {
    SlideJob& j = slide_;
    Status st = Status::Ok;
    const std::uint64_t body = j.length - kFrameHeaderSize;
    while (j.done < body) {
        if (*budget == 0) return Status::Ok;  // the rest next turn
        std::size_t n = s_->limits.scratch_bytes;
        if (body - j.done < n) n = static_cast<std::size_t>(body - j.done);
        st = pread_full(s_->fs, data_, s_->scratch, n, j.from + kFrameHeaderSize + j.done);
        if (st == Status::Eof) st = Status::Io;
        if (st == Status::Ok)
            st = pwrite_all(s_->fs, data_, s_->scratch, n, j.at + kFrameHeaderSize + j.done);
        if (st != Status::Ok) return st;
        j.done += n;
        charge(budget, n);
    }
    if (j.from > j.at + j.length) {
        std::uint8_t pad[kFrameHeaderSize];
        encode_padding(static_cast<std::uint32_t>(j.from - j.at - kFrameOverhead), pad);
        if ((st = pwrite_all(s_->fs, data_, pad, sizeof pad, j.at + j.length)) != Status::Ok)
            return st;
    }
    std::uint8_t hb[kFrameHeaderSize];
    st = pread_full(s_->fs, data_, hb, sizeof hb, j.from);
    if (st == Status::Eof) st = Status::Io;
    if (st == Status::Ok) st = pwrite_all(s_->fs, data_, hb, sizeof hb, j.at);
    if (st == Status::Ok) j.phase = SlidePhase::SyncData;
    return st;
}

Status Mailbox::relocate_records(std::uint32_t position, std::uint32_t count, std::uint64_t offset,
                                 std::uint32_t first_uid) {
    port::FileInfo info;
    Status st = s_->fs.fstat(data_, &info);
    std::uint32_t last_uid = 0;
    for (std::uint32_t i = 0; st == Status::Ok && i < count; ++i) {
        FrameHeader h;
        if ((st = read_frame(offset, info.size, &h, false)) != Status::Ok) break;
        if (i == 0 ? h.uid != first_uid : h.uid <= last_uid) {
            st = Status::Io;
            break;
        }
        // Only the offset changes: the save date and the EMAILID stay
        // (read from the record as it is; a torn one gets a new EMAILID).
        std::uint8_t fb[kRecordFixedSize];
        Record r = record_of(h, offset);
        Record old;
        if (pread_full(s_->fs, index_, fb, sizeof fb, record_offset(position + i)) == Status::Ok &&
            decode_fixed(fb, &old) && old.uid == h.uid) {
            r.save_date = old.save_date;
            r.email_id = old.email_id;
        } else {
            r.email_id = next_email_id();
        }
        encode_fixed(r, fb);
        st = pwrite_all(s_->fs, index_, fb, sizeof fb, record_offset(position + i));
        last_uid = h.uid;
        offset += kFrameOverhead + h.size;
    }
    if (st == Status::Ok) st = s_->fs.fsync(index_);
    cache_clear();
    return st;
}

// The run is durable at its new place: journal, records, state (one step:
// no other commit may come between the journal and its state commit, or
// recovery could not tell whether to redo it).
Status Mailbox::slide_commit() {
    SlideJob& j = slide_;
    Record r;
    Status st = read_record(j.first, &r);
    if (st != Status::Ok) return st;
    if (r.offset != j.from) return Status::Io;  // cannot happen: offsets change only here
    if ((st = lock()) != Status::Ok) return st;
    Journal jn;
    jn.position = j.first;
    jn.count = j.count;
    jn.first_uid = r.uid;
    jn.new_offset = j.at;
    jn.generation = state_.generation;
    // The run ends the index: m.data ends with it (the frames after it are
    // a stale copy and padding, cut off below).
    if (j.first + j.count == state_.record_count) jn.new_length = j.at + j.length;
    std::uint8_t jb[kJournalSize];
    encode(jn, jb);
    st = pwrite_all(s_->fs, index_, jb, sizeof jb, kJournalOffset);
    if (st == Status::Ok) st = s_->fs.fsync(index_);  // the commit point
    if (st == Status::Ok) st = relocate_records(j.first, j.count, j.at, r.uid);
    if (st == Status::Ok) {
        begin_txn();
        next_.highest_modseq = state_.highest_modseq;  // no message changed
        next_.relocations += 1;
        if (jn.new_length != 0) next_.data_length = jn.new_length;
        st = commit_txn();
    }
    if (st == Status::Ok) {
        std::memset(jb, 0, sizeof jb);  // durable with the next fsync of the index
        (void)pwrite_all(s_->fs, index_, jb, sizeof jb, kJournalOffset);
        j.at += j.length;
        j.position = j.first + j.count;
        j.kept_end = j.position;
        j.moved += j.length;
        j.phase = SlidePhase::Scan;
    }
    unlock();
    return st;
}

// Every record was looked at: the dropped records after the last kept one
// leave the index with m.data's end (one state commit, as trim_tail), then
// m.data is truncated.
Status Mailbox::slide_cut() {
    SlideJob& j = slide_;
    Status st = Status::Ok;
    if (j.kept_end < state_.record_count || j.at < state_.data_length) {
        const std::uint32_t removed = state_.record_count - j.kept_end;
        if ((st = lock()) != Status::Ok) return st;
        begin_txn();
        next_.highest_modseq = state_.highest_modseq;  // no message changed
        next_.record_count = j.kept_end;
        next_.data_length = j.at;
        next_.expunged_count -= removed;
        st = commit_txn();
        unlock();
        if (st != Status::Ok) return st;
        while (gone_count_ > 0 && gone_[gone_count_ - 1].position >= j.kept_end) --gone_count_;
        for (View* v = views_; v != nullptr; v = v->next)
            if (v->positions > j.kept_end) v->positions = j.kept_end;  // hidden in every view
    }
    port::FileInfo info;
    if ((st = s_->fs.fstat(data_, &info)) != Status::Ok) return st;
    if (info.size > state_.data_length) {
        st = s_->fs.truncate(data_, state_.data_length);
        if (st == Status::Ok) st = s_->fs.fsync(data_);
    }
    return st;
}

// Recovery: a move whose journal is durable but whose state commit is not
// (the committed generation is still the journal's) is finished from the
// frames at the new place, which were durable before the journal.
Status Mailbox::redo_journal() {
    std::uint8_t jb[kJournalSize];
    if (pread_full(s_->fs, index_, jb, sizeof jb, kJournalOffset) != Status::Ok) return Status::Ok;
    Journal jn;
    if (!decode(jb, &jn)) return Status::Ok;
    Status st = Status::Ok;
    if (jn.generation == state_.generation && jn.position + jn.count <= state_.record_count) {
        st = relocate_records(jn.position, jn.count, jn.new_offset, jn.first_uid);
        if (st != Status::Ok) return st;
        State ns = state_;
        ns.generation += 1;
        ns.relocations += 1;
        if (jn.new_length != 0) ns.data_length = jn.new_length;
        if ((st = write_state(ns)) != Status::Ok) return st;
        if ((st = s_->fs.fsync(index_)) != Status::Ok) return st;
        state_ = ns;
        state_slot_ = 1 - state_slot_;
    }
    std::memset(jb, 0, sizeof jb);
    st = pwrite_all(s_->fs, index_, jb, sizeof jb, kJournalOffset);
    if (st == Status::Ok) st = s_->fs.fsync(index_);
    return st;
}

}  // namespace tinyimapd::store
