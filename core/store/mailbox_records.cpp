// Mailbox: the index's state slots, records and the record cache, frames
// of m.data (docs/STORAGE.md "m.index", "m.data").

#include "core/store/mailbox.h"

#include <cstring>

#include "core/base/assert.h"
#include "core/store/mailbox_detail.h"

namespace tinyimapd::store {

using namespace detail;  // the helpers of mailbox_detail.h

// ---- index state ------------------------------------------------------------

Status Mailbox::read_state(port::File index, State* out, int* slot, bool any_version) {
    std::uint8_t buf[kJournalOffset + kJournalSize];
    port::FsResult r = s_->fs.pread(index, buf, sizeof buf, 0);
    if (r.status != Status::Ok) return r.status;
    read_intent_ = r.bytes >= kIntentOffset + kIntentSize ? decode_intent(buf + kIntentOffset) : 0;
    Journal jn;
    read_journal_ = r.bytes == sizeof buf && decode(buf + kJournalOffset, &jn) ? jn.generation : 0;
    bool found = false;
    for (int i = 0; i < 2; ++i) {
        if (r.bytes < (i + 1) * kStateSlotSize) break;
        State s;
        if (!decode(buf + kStateSlotOffset[i], &s)) continue;
        if (s.version != kIndexVersion && !any_version) continue;
        if (found && s.generation <= out->generation) continue;
        *out = s;
        *slot = i;
        found = true;
    }
    // A slide's move (ours or another process's) that did not commit.
    if (found && read_journal_ != out->generation) read_journal_ = 0;
    return found ? Status::Ok : Status::Invalid;
}

Status Mailbox::peek_status(Services& s, std::string_view dir, StatusInfo* out) {
    Path p;
    Status st = join(dir, kIndexFile, &p);
    if (st != Status::Ok) return st;
    Result<port::File> f = s.fs.open(p.view(), port::kOpenRead | port::kOpenNoFollow);
    if (!f.ok()) return f.status;
    std::uint8_t buf[2 * kStateSlotSize];
    const port::FsResult r = s.fs.pread(f.value, buf, sizeof buf, 0);
    (void)s.fs.close(f.value);
    if (r.status != Status::Ok) return r.status;
    bool found = false;
    State best;
    for (int i = 0; i < 2; ++i) {
        if (r.bytes < (i + 1) * kStateSlotSize) break;
        State one;
        if (!decode(buf + kStateSlotOffset[i], &one)) continue;
        if (found && one.generation <= best.generation) continue;
        best = one;
        found = true;
    }
    if (!found) return Status::Invalid;
    *out = StatusInfo{};
    out->messages = best.live_count;
    out->uid_next = best.uid_next;
    out->uid_validity = best.uid_validity;
    out->unseen = best.live_count - best.seen_count;
    out->highest_modseq = best.highest_modseq;
    out->size = best.live_bytes;
    out->mailbox_id = best.mailbox_id;
    return Status::Ok;
}

Status Mailbox::write_state(const State& s) {
    std::uint8_t buf[kStateSlotSize];
    encode(s, buf);
    return pwrite_all(s_->fs, index_, buf, sizeof buf, kStateSlotOffset[1 - state_slot_]);
}

Status Mailbox::write_record(std::uint32_t position, const Record& r, bool fixed_part) {
    // Every mutation holds the mailbox lock from its first write on.
    TINYIMAPD_ASSERT(lock_depth_ > 0);
    // Slots of existing records change only inside a STORE/EXPUNGE whose
    // intent is durable (docs/STORAGE.md "Write order").
    TINYIMAPD_ASSERT(fixed_part || (in_txn_ && txn_slots_));
    std::uint8_t buf[kRecordSize];
    if (fixed_part) {
        std::memset(buf, 0, sizeof buf);
        encode_fixed(r, buf);
        encode_slot(r, buf + kRecordSlotOffset[0]);
        return pwrite_all(s_->fs, index_, buf, kRecordSize, record_offset(position));
    }
    encode_slot(r, buf);
    return pwrite_all(s_->fs, index_, buf, kRecordSlotSize,
                      record_offset(position) + kRecordSlotOffset[r.slot]);
}

// ---- records ------------------------------------------------------------------

void Mailbox::cache_clear() {
    if (cache_ == nullptr) return;
    for (std::size_t i = 0; i < s_->limits.cache_records; ++i) cache_[i].position_plus_one = 0;
}

void Mailbox::cache_put(std::uint32_t position, const Record& r) {
    if (s_->limits.cache_records == 0) return;
    CacheEntry& e = cache_[position % s_->limits.cache_records];
    e.position_plus_one = position + 1;
    e.record = r;
}

Status Mailbox::read_record(std::uint32_t position, Record* out) {
    if (position >= state_.record_count) return Status::NotFound;
    if (s_->limits.cache_records != 0) {
        const CacheEntry& e = cache_[position % s_->limits.cache_records];
        if (e.position_plus_one == position + 1) {
            *out = e.record;
            return Status::Ok;
        }
    }
    // Read ahead: the records that follow fill the rest of the cache (they
    // map to distinct entries), so a FETCH or SEARCH walking the mailbox
    // makes one pread per kReadAhead messages instead of one each.
    constexpr std::size_t kReadAhead = 64;
    std::size_t n = s_->limits.cache_records < kReadAhead ? s_->limits.cache_records : kReadAhead;
    // Not inside a transaction: the cache holds its uncommitted records,
    // which a read of the committed ones must not replace.
    if (n == 0 || in_txn_) n = 1;
    if (n > state_.record_count - position) n = state_.record_count - position;
    std::uint8_t buf[kReadAhead * kRecordSize];
    Status st = pread_full(s_->fs, index_, buf, n * kRecordSize, record_offset(position));
    if (st != Status::Ok) return st == Status::Eof ? Status::Io : st;
    if (!decode_record(buf, state_.highest_modseq, out)) return Status::Io;
    cache_put(position, *out);
    for (std::size_t i = 1; i < n; ++i) {
        Record r;
        if (!decode_record(buf + i * kRecordSize, state_.highest_modseq, &r)) break;
        cache_put(position + static_cast<std::uint32_t>(i), r);
    }
    return Status::Ok;
}

Status Mailbox::read_frame(std::uint64_t offset, std::uint64_t limit, FrameHeader* h,
                           bool verify_body) {
    if (offset + kFrameOverhead > limit) return Status::Eof;
    std::uint8_t buf[kFrameHeaderSize];
    Status st = pread_full(s_->fs, data_, buf, sizeof buf, offset);
    if (st != Status::Ok) return st;
    if (!decode(buf, h)) return Status::Invalid;
    if (offset + kFrameOverhead + h->size > limit) return Status::Eof;
    if (!verify_body) return Status::Ok;
    std::uint32_t crc = 0;
    std::uint64_t at = offset + kFrameHeaderSize;
    std::uint64_t left = h->size;
    while (left > 0) {
        const std::size_t n = left < s_->limits.scratch_bytes ? static_cast<std::size_t>(left)
                                                              : s_->limits.scratch_bytes;
        st = pread_full(s_->fs, data_, s_->scratch, n, at);
        if (st != Status::Ok) return st;
        crc = crc32c(s_->scratch, n, crc);
        at += n;
        left -= n;
    }
    std::uint8_t t[kFrameTrailerSize];
    st = pread_full(s_->fs, data_, t, sizeof t, at);
    if (st != Status::Ok) return st;
    std::uint32_t want = 0;
    if (!decode_trailer(t, &want) || want != crc) return Status::Invalid;
    return Status::Ok;
}

}  // namespace tinyimapd::store
