#include "core/store/mailbox.h"

#include <cstring>

#include "core/base/text.h"
#include "core/mail/flags.h"
#include "core/store/user_store.h"

namespace tinyimapd::store {
namespace {

// The index record of the frame at `offset`, as appended (its flags and
// keywords are the append-time ones).
Record record_of(const FrameHeader& h, std::uint64_t offset) {
    Record r;
    r.uid = h.uid;
    r.size = h.size;
    r.offset = offset;
    r.internal_date = h.internal_date;
    r.zone_minutes = h.zone_minutes;
    r.flags = h.flags;
    r.keywords = h.keywords;
    return r;
}

constexpr std::uint32_t kRw = port::kOpenRead | port::kOpenWrite;
constexpr std::uint32_t kCreateNew =
    port::kOpenRead | port::kOpenWrite | port::kOpenCreate | port::kOpenTruncate;
constexpr std::uint32_t kMaxUid = 0xfffffff0u;

Status pread_full(port::Fs& fs, port::File f, void* out, std::size_t n, std::uint64_t off) {
    port::FsResult r = fs.pread(f, out, n, off);
    if (r.status != Status::Ok) return r.status;
    return r.bytes == n ? Status::Ok : Status::Eof;
}

Status pwrite_all(port::Fs& fs, port::File f, const void* in, std::size_t n, std::uint64_t off) {
    return fs.pwrite(f, in, n, off).status;
}

Status join(std::string_view dir, std::string_view name, Path* out) {
    FixedText<port::kMaxPath + 1> t;
    t.put(dir).put('/').put(name);
    if (!t.ok() || !out->assign(t.view())) return Status::TooLong;
    return Status::Ok;
}

std::uint64_t fresh_id(Services& s) {
    std::uint64_t id = 0;
    if (s.entropy.fill(&id, sizeof id) != Status::Ok || id == 0)
        id = static_cast<std::uint64_t>(s.clock.wall_seconds()) * 1000003u + s.clock.monotonic_ms();
    return id == 0 ? 1 : id;
}

std::uint8_t apply(FlagOp op, std::uint8_t old_flags, std::uint8_t f) {
    f = static_cast<std::uint8_t>(f & ~imap::kRecent);
    switch (op) {
        case FlagOp::Add: return static_cast<std::uint8_t>(old_flags | f);
        case FlagOp::Remove: return static_cast<std::uint8_t>(old_flags & ~f);
        case FlagOp::Replace: return f;
    }
    return old_flags;
}
std::uint64_t apply64(FlagOp op, std::uint64_t old_bits, std::uint64_t b) {
    switch (op) {
        case FlagOp::Add: return old_bits | b;
        case FlagOp::Remove: return old_bits & ~b;
        case FlagOp::Replace: return b;
    }
    return old_bits;
}

bool seen(std::uint8_t flags) {
    return (flags & imap::kSeen) != 0;
}

}  // namespace

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
            st = recover();
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
    compact_failed_at_ = ~std::uint64_t{0};
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
    views_ = nullptr;
    gone_count_ = 0;
    in_txn_ = appending_ = false;
    cache_clear();
}

Status Mailbox::lock() {
    if (retired_) return Status::NotFound;
    if (compacting()) return Status::Busy;  // it holds the mailbox until it commits
    if (lock_depth_ > 0) {
        ++lock_depth_;
        return Status::Ok;
    }
    Status st = s_->fs.lock(data_, port::LockMode::Exclusive);
    if (st != Status::Ok) return st;
    lock_depth_ = 1;
    bool changed = false;
    st = reload_if_changed(&changed);
    // A transaction of ours or another process's failed before its commit.
    if (st == Status::Ok && read_intent_ > state_.highest_modseq) st = scrub_orphans();
    if (st != Status::Ok) unlock();
    return st;
}

void Mailbox::unlock() {
    if (lock_depth_ == 0) return;
    if (--lock_depth_ == 0 && data_ != port::kNoFile) (void)s_->fs.unlock(data_);
    // The write turn is free: the first in line goes next (Server runs it).
    if (lock_depth_ == 0 && waiters_ != nullptr) waiters_->woken = true;
}

// ---- write turns --------------------------------------------------------------

Mailbox::Turn Mailbox::write_turn(TurnWaiter& w) {
    const bool busy = lock_depth_ > 0 || appending_ || in_txn_;
    if (!busy && (waiters_ == nullptr || waiters_ == &w)) {
        if (waiters_ == &w) leave_turn_queue(w);
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
    if (compacting()) return "compaction";
    if (appending_) return in_txn_ ? "COPY" : "APPEND";
    if (in_txn_) return "transaction";
    if (lock_depth_ > 0) return "tree operation";
    return {};
}

void Mailbox::retire(bool deleted) {
    abandon_compaction();
    retired_ = true;
    for (View* v = views_; v != nullptr; v = v->next) {
        v->invalidated = true;
        v->deleted = deleted;
    }
}

// ---- index state ------------------------------------------------------------

Status Mailbox::read_state(port::File index, State* out, int* slot) {
    std::uint8_t buf[kIntentOffset + kIntentSize];
    port::FsResult r = s_->fs.pread(index, buf, sizeof buf, 0);
    if (r.status != Status::Ok) return r.status;
    read_intent_ = r.bytes == sizeof buf ? decode_intent(buf + kIntentOffset) : 0;
    bool found = false;
    for (int i = 0; i < 2; ++i) {
        if (r.bytes < (i + 1) * kStateSlotSize) break;
        State s;
        if (!decode(buf + kStateSlotOffset[i], &s)) continue;
        if (found && s.generation <= out->generation) continue;
        *out = s;
        *slot = i;
        found = true;
    }
    return found ? Status::Ok : Status::Invalid;
}

Status Mailbox::write_state(const State& s) {
    std::uint8_t buf[kStateSlotSize];
    encode(s, buf);
    return pwrite_all(s_->fs, index_, buf, sizeof buf, kStateSlotOffset[1 - state_slot_]);
}

void Mailbox::begin_txn() {
    next_ = state_;
    next_.generation = state_.generation + 1;
    next_.highest_modseq = state_.highest_modseq + 1;
    txn_slots_ = false;
    in_txn_ = true;
}

// Before the first slot of a transaction is rewritten: the intent, durable.
Status Mailbox::declare_intent() {
    if (txn_slots_) return Status::Ok;
    std::uint8_t buf[kIntentSize];
    encode_intent(next_.highest_modseq, buf);
    Status st = pwrite_all(s_->fs, index_, buf, sizeof buf, kIntentOffset);
    if (st == Status::Ok) st = s_->fs.fsync(index_);
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

Status Mailbox::write_record(std::uint32_t position, const Record& r, bool fixed_part) {
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

// ---- recovery ---------------------------------------------------------------

Status Mailbox::recover() {
    std::uint8_t hb[kDataHeaderSize];
    Status st = pread_full(s_->fs, data_, hb, sizeof hb, 0);
    if (st != Status::Ok || !decode(hb, &data_header_)) return Status::Io;
    cache_clear();
    gone_count_ = 0;

    State st_index;
    int slot = 0;
    bool have = index_ != port::kNoFile && read_state(index_, &st_index, &slot) == Status::Ok;
    Path p, q;
    if ((st = path(kIndexNew, &p)) != Status::Ok) return st;
    if (have && st_index.data_file_id != data_header_.file_id) {
        // A compaction committed (m.data renamed) but did not rename its
        // index: roll forward with m.index.new if it matches.
        have = false;
        auto x = s_->fs.open(p.view(), port::kOpenRead | port::kOpenNoFollow);
        if (x.ok()) {
            State ns;
            int nslot = 0;
            const bool match = read_state(x.value, &ns, &nslot) == Status::Ok &&
                               ns.data_file_id == data_header_.file_id;
            (void)s_->fs.close(x.value);
            if (match) {
                if ((st = path(kIndexFile, &q)) != Status::Ok) return st;
                if ((st = s_->fs.rename(p.view(), q.view())) != Status::Ok) return st;
                if ((st = s_->fs.sync_dir(dir_.view())) != Status::Ok) return st;
                if (index_ != port::kNoFile) (void)s_->fs.close(index_);
                index_ = port::kNoFile;
                auto y = s_->fs.open(q.view(), kRw | port::kOpenNoFollow);
                if (!y.ok()) return y.status;
                index_ = y.value;
                have = read_state(index_, &st_index, &slot) == Status::Ok;
            }
        }
    }
    // Leftovers of an interrupted compaction or rebuild: never committed.
    port::FileInfo info;
    if (s_->fs.stat(p.view(), &info) == Status::Ok) {
        if ((st = s_->fs.unlink(p.view())) != Status::Ok) return st;
    }
    if ((st = path(kDataNew, &q)) != Status::Ok) return st;
    if (s_->fs.stat(q.view(), &info) == Status::Ok) {
        if ((st = s_->fs.unlink(q.view())) != Status::Ok) return st;
    }

    if (!have) return rebuild_index();
    state_ = st_index;
    state_slot_ = slot;
    if ((st = s_->fs.fstat(data_, &info)) != Status::Ok) return st;
    if (info.size < state_.data_length || state_.data_length < kDataHeaderSize)
        return rebuild_index();
    if (info.size > state_.data_length) {
        // An uncommitted tail (APPEND/COPY that crashed before its commit).
        if ((st = s_->fs.truncate(data_, state_.data_length)) != Status::Ok) return st;
        if ((st = s_->fs.fsync(data_)) != Status::Ok) return st;
    }
    if ((st = load_keywords()) != Status::Ok) return st;
    if ((st = repair_tail()) != Status::Ok) return st;
    if (read_intent_ > state_.highest_modseq && (st = scrub_orphans()) != Status::Ok) return st;
    return load_gone();
}

Status Mailbox::load_keywords() {
    kw_count_ = 0;
    if (state_.keyword_count == 0) return Status::Ok;
    std::uint8_t buf[kKeywordEntrySize];
    for (std::uint32_t i = 0; i < state_.keyword_count; ++i) {
        Status st = pread_full(s_->fs, index_, buf, sizeof buf,
                               kKeywordTableOffset + i * kKeywordEntrySize);
        std::string_view name;
        if (st != Status::Ok || !decode_keyword(buf, &name)) name = "$lost";
        std::memcpy(keywords_[i], name.data(), name.size());
        keyword_len_[i] = static_cast<std::uint8_t>(name.size());
    }
    kw_count_ = state_.keyword_count;
    return Status::Ok;
}

// The committed state may count records whose bytes never landed (the state
// slot reached the disk, a record did not): re-add them from m.data, whose
// frames are durable before any state refers to them.
Status Mailbox::repair_tail() {
    const std::uint32_t count = state_.record_count;
    if (count == 0) return state_.data_length == kDataHeaderSize ? Status::Ok : rebuild_index();
    // Walk back over the last transaction's records (modseq == highest)
    // to the first record of an older, fully synced one.
    std::uint32_t good = count;  // records [0, good) are intact
    std::uint32_t pos = count;
    Record r;
    while (pos > 0) {
        Record x;
        if (read_record(pos - 1, &x) != Status::Ok) {
            good = pos - 1;
        } else if (x.modseq < state_.highest_modseq) {
            break;
        }
        --pos;
    }
    if (good == count) {
        // All intact: check that the last one ends where m.data does.
        if (read_record(count - 1, &r) != Status::Ok) return rebuild_index();
        const std::uint64_t at = r.offset + kFrameOverhead + r.size;
        FrameHeader h;
        if (at == state_.data_length && read_frame(r.offset, at, &h, false) == Status::Ok &&
            h.uid == r.uid && h.size == r.size)
            return Status::Ok;
        return rebuild_index();
    }
    std::uint64_t at = kDataHeaderSize;
    std::uint32_t last_uid = 0;
    if (good > 0) {
        if (read_record(good - 1, &r) != Status::Ok) return rebuild_index();
        at = r.offset + kFrameOverhead + r.size;
        last_uid = r.uid;
    }
    for (pos = good; pos < count; ++pos) {
        FrameHeader h;
        if (read_frame(at, state_.data_length, &h, true) != Status::Ok || h.uid <= last_uid)
            return rebuild_index();
        Record n = record_of(h, at);
        n.modseq = state_.highest_modseq;
        Status st = write_record(pos, n, true);
        if (st != Status::Ok) return st;
        last_uid = h.uid;
        at += kFrameOverhead + h.size;
    }
    if (at != state_.data_length) return rebuild_index();
    cache_clear();
    return s_->fs.fsync(index_);
}

// Writes a new index from m.data (keeping what the old index still knows:
// flags, keywords, expunge marks, UIDNEXT), then renames it into place.
Status Mailbox::rebuild_index() {
    State old;
    int old_slot = 0;
    const bool have_old = index_ != port::kNoFile &&
                          read_state(index_, &old, &old_slot) == Status::Ok &&
                          old.data_file_id == data_header_.file_id;
    Path np, ip;
    Status st = path(kIndexNew, &np);
    if (st == Status::Ok) st = path(kIndexFile, &ip);
    if (st != Status::Ok) return st;
    auto nf = s_->fs.open(np.view(), kCreateNew | port::kOpenNoFollow);
    if (!nf.ok()) return nf.status;
    const port::File out = nf.value;

    State ns;
    ns.generation = have_old ? old.generation + 1 : 1;
    ns.uid_validity = data_header_.uid_validity;
    ns.highest_modseq = (have_old ? old.highest_modseq : 0) + 1;
    ns.data_file_id = data_header_.file_id;
    ns.keyword_count = have_old ? old.keyword_count : 0;
    ns.first_recent_uid = have_old ? old.first_recent_uid : 1;
    std::uint32_t uid_next = data_header_.uid_floor;
    if (have_old && old.uid_next > uid_next) uid_next = old.uid_next;

    state_.highest_modseq = have_old ? old.highest_modseq : 0;  // for reading old records
    state_.record_count = have_old ? old.record_count : 0;
    cache_clear();
    port::FileInfo info;
    st = s_->fs.fstat(data_, &info);
    std::uint64_t at = kDataHeaderSize;
    std::uint32_t pos = 0, last_uid = 0;
    while (st == Status::Ok) {
        FrameHeader h;
        if (read_frame(at, info.size, &h, true) != Status::Ok || h.uid <= last_uid) break;
        Record r = record_of(h, at);
        Record o;
        if (have_old && read_record(pos, &o) == Status::Ok && o.uid == h.uid && o.offset == at) {
            r.flags = o.flags;
            r.keywords = o.keywords;
            r.expunged = o.expunged;
        }
        if (!have_old || ns.keyword_count == 0) r.keywords = 0;
        r.modseq = ns.highest_modseq;
        std::uint8_t buf[kRecordSize] = {};
        encode_fixed(r, buf);
        encode_slot(r, buf + kRecordSlotOffset[0]);
        st = pwrite_all(s_->fs, out, buf, sizeof buf, record_offset(pos));
        ++pos;
        if (r.expunged) {
            ++ns.expunged_count;
        } else {
            ++ns.live_count;
            ns.live_bytes += r.size;
            if (seen(r.flags)) ++ns.seen_count;
        }
        last_uid = h.uid;
        at += kFrameOverhead + h.size;
    }
    ns.record_count = pos;
    ns.data_length = at;
    ns.uid_next = last_uid + 1 > uid_next ? last_uid + 1 : uid_next;
    for (std::uint32_t i = 0; st == Status::Ok && i < ns.keyword_count; ++i) {
        std::uint8_t kb[kKeywordEntrySize];
        if (pread_full(s_->fs, index_, kb, sizeof kb,
                       kKeywordTableOffset + i * kKeywordEntrySize) != Status::Ok)
            std::memset(kb, 0, sizeof kb);
        st = pwrite_all(s_->fs, out, kb, sizeof kb, kKeywordTableOffset + i * kKeywordEntrySize);
    }
    std::uint8_t sb[kStateSlotSize];
    encode(ns, sb);
    if (st == Status::Ok) st = pwrite_all(s_->fs, out, sb, sizeof sb, kStateSlotOffset[0]);
    if (st == Status::Ok) st = s_->fs.fsync(out);
    (void)s_->fs.close(out);
    if (st == Status::Ok && info.size > at) {
        // A torn tail: an incomplete frame no committed state refers to.
        st = s_->fs.truncate(data_, at);
        if (st == Status::Ok) st = s_->fs.fsync(data_);
    }
    if (st == Status::Ok) st = s_->fs.rename(np.view(), ip.view());
    if (st == Status::Ok) st = s_->fs.sync_dir(dir_.view());
    if (st != Status::Ok) return st;
    if (index_ != port::kNoFile) (void)s_->fs.close(index_);
    index_ = port::kNoFile;
    auto x = s_->fs.open(ip.view(), kRw | port::kOpenNoFollow);
    if (!x.ok()) return x.status;
    index_ = x.value;
    state_ = ns;
    state_slot_ = 0;
    cache_clear();
    if ((st = load_keywords()) != Status::Ok) return st;
    return load_gone();
}

Status Mailbox::load_gone() {
    gone_count_ = 0;
    if (state_.expunged_count == 0) return Status::Ok;
    bool overflow = false;
    for (std::uint32_t pos = 0; pos < state_.record_count; ++pos) {
        Record r;
        Status st = read_record(pos, &r);
        if (st != Status::Ok) return st;
        if (!r.expunged) continue;
        if (gone_count_ > 0) {
            Gone& last = gone_[gone_count_ - 1];
            if (last.position + last.count == pos && last.modseq == r.modseq) {
                ++last.count;
                continue;
            }
        }
        if (gone_count_ == s_->limits.max_pending_expunges) {
            overflow = true;
            break;
        }
        gone_[gone_count_++] = Gone{pos, 1, r.modseq};
    }
    if (overflow) return compact();
    return Status::Ok;
}

Status Mailbox::reload_if_changed(bool* changed) {
    *changed = false;
    State st;
    int slot = 0;
    if (read_state(index_, &st, &slot) != Status::Ok) return Status::Ok;  // torn read: later
    if (st.generation == state_.generation && st.data_file_id == state_.data_file_id)
        return Status::Ok;
    *changed = true;
    const bool held = lock_depth_ > 0;
    if (!held) {
        Status ls = s_->fs.lock(data_, port::LockMode::Exclusive);
        if (ls != Status::Ok) return ls;
        lock_depth_ = 1;
    }
    Status r = Status::Ok;
    if (st.data_file_id != data_header_.file_id) {
        // Another process compacted: our handles are on the old files, and
        // the views' positions no longer mean anything.
        for (View* v = views_; v != nullptr; v = v->next) v->invalidated = true;
        const int depth = lock_depth_;
        close_files();
        r = open_files();
        if (r == Status::Ok) r = s_->fs.lock(data_, port::LockMode::Exclusive);
        if (r == Status::Ok) {
            lock_depth_ = depth;
            r = recover();
        }
    } else {
        const std::uint32_t old_expunged = state_.expunged_count;
        // Another process cut expunged records off the end (trim_tail):
        // positions past its record_count are gone.
        if (st.record_count < state_.record_count)
            for (View* v = views_; v != nullptr; v = v->next) v->invalidated = true;
        state_ = st;
        state_slot_ = slot;
        cache_clear();
        r = load_keywords();
        if (r == Status::Ok && st.expunged_count != old_expunged) r = load_gone();
    }
    ring_size_ = 0;
    ring_floor_ = state_.highest_modseq;
    ++changes_;
    if (!held) unlock();
    return r;
}

bool Mailbox::changed_externally() {
    State st;
    int slot = 0;
    if (read_state(index_, &st, &slot) != Status::Ok) return false;
    return st.generation != state_.generation;
}

// ---- creation -----------------------------------------------------------------

Status Mailbox::write_empty(Services& s, std::string_view dir, std::string_view data_name,
                            std::string_view index_name, std::uint32_t uid_validity,
                            std::uint32_t uid_next, std::uint64_t highest_modseq) {
    Path ip, dp;
    Status st = join(dir, index_name, &ip);
    if (st == Status::Ok) st = join(dir, data_name, &dp);
    if (st != Status::Ok) return st;
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
    std::uint8_t sb[kStateSlotSize];
    encode(ns, sb);
    std::uint8_t hb[kDataHeaderSize];
    encode(dh, hb);
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
                             std::uint32_t uid_next, std::uint64_t highest_modseq) {
    // m.index first, then m.data under a temporary name: the rename to
    // m.data is what makes the directory a selectable mailbox.
    Status st = write_empty(s, dir, kDataNew, kIndexFile, uid_validity, uid_next, highest_modseq);
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
    return lock();
}
void Mailbox::release_hold() {
    unlock();
}

// ---- views ------------------------------------------------------------------

void Mailbox::attach(View& v, bool read_only) {
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
void Mailbox::persist_recent() {
    if (first_recent_uid_ <= state_.first_recent_uid || in_txn_ || appending_) return;
    if (lock() != Status::Ok) return;  // Busy: another process; next time
    begin_txn();
    next_.generation = state_.generation + 1;
    next_.highest_modseq = state_.highest_modseq;
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
    if (is_recent(v, r.uid)) out->flags |= imap::kRecent;
    out->keywords = r.keywords;
    out->internal_date = r.internal_date;
    out->zone_minutes = r.zone_minutes;
    out->modseq = r.modseq;
    out->expunged = r.expunged;
    out->data_offset = r.offset + kFrameHeaderSize;
    out->file_id = data_header_.file_id;
    return Status::Ok;
}

Status Mailbox::read(const MessageInfo& m, std::uint64_t offset, void* out, std::size_t capacity,
                     std::size_t* got) {
    *got = 0;
    std::uint64_t base = m.data_offset;
    if (m.file_id != data_header_.file_id) {  // compacted since: find it again
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
    if (v.own_count == View::kOwnChanges) {
        for (std::size_t i = 1; i < View::kOwnChanges; ++i) v.own_modseq[i - 1] = v.own_modseq[i];
        --v.own_count;
    }
    v.own_modseq[v.own_count++] = state_.highest_modseq;
}

Status Mailbox::sync(View& v, SyncVisitor& out, bool* complete) {
    if (complete != nullptr) *complete = true;
    bool changed = false;
    Status st = reload_if_changed(&changed);
    if (st != Status::Ok) return st;
    if (v.invalidated) return Status::Closed;
    // Expunges, highest position first: numbers computed on the view as the
    // client knows it. A partial round finishes its own modseq window first.
    bool expunged_any = false;
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
                st = read_record(p, &r);
                if (st != Status::Ok) return st;
                if (!out.expunged(p + 1 - below, r.uid)) {
                    if (complete != nullptr) *complete = false;
                    return Status::Ok;
                }
                v.partial_modseq = target;
                v.partial_position = p;
                if (v.exists > 0) --v.exists;  // as the client now counts
                expunged_any = true;
            }
        }
        v.expunge_modseq = target;
        v.partial_modseq = 0;
        v.partial_position = 0;
    }
    const std::uint32_t old_positions = v.positions;
    if (v.flags_modseq < state_.highest_modseq) {
        if (v.flags_modseq < ring_floor_) {
            out.flags_unknown(v.flags_modseq);
        } else {
            // Ring order is commit order (modseq never decreases); a STORE
            // of many messages is a group sharing one modseq.
            std::uint32_t in_group = 0;
            for (std::size_t k = 0; k < ring_size_; ++k) {
                const Change& c = ring_[(ring_head_ + s_->limits.change_ring - ring_size_ + k) %
                                        s_->limits.change_ring];
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
                    if (complete != nullptr) *complete = false;
                    return Status::Ok;
                }
                v.flags_group_done = ++in_group;
            }
        }
    }
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
    return maybe_compact();
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
    // Durable before any committed state counts it (the next commit does).
    std::uint8_t buf[kKeywordEntrySize];
    encode_keyword(name, buf);
    st = pwrite_all(s_->fs, index_, buf, sizeof buf,
                    kKeywordTableOffset + kw_count_ * kKeywordEntrySize);
    if (st == Status::Ok) st = s_->fs.fsync(index_);
    if (st == Status::Ok) {
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
Status Mailbox::commit_txn() {
    if (retired_) {  // DELETE came first: nothing is acknowledged into it
        in_txn_ = false;
        cache_clear();
        return Status::NotFound;
    }
    next_.keyword_count = kw_count_;
    next_.first_recent_uid = first_recent_uid_;
    Status st = txn_slots_ ? s_->fs.fsync(index_) : Status::Ok;
    if (st == Status::Ok) st = write_state(next_);
    if (st == Status::Ok) st = s_->fs.fsync(index_);
    in_txn_ = false;
    if (st != Status::Ok) {
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
    a.flags = static_cast<std::uint8_t>(flags & ~imap::kRecent);
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
    Status st = s_->fs.fsync(data_);
    if (st == Status::Ok) {
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
        if (st == Status::Ok) {
            st = commit_txn();
        } else {
            in_txn_ = false;
        }
    }
    if (st != Status::Ok) {
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
    (void)s_->fs.truncate(data_, state_.data_length);
    appending_ = false;
    a.mailbox = nullptr;
    a.batch_count = 0;
    unlock();
}

// ---- STORE ------------------------------------------------------------------

Status Mailbox::begin_store() {
    if (in_txn_) return Status::Busy;
    Status st = lock();
    if (st != Status::Ok) return st;
    begin_txn();
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
    const std::uint8_t nf = apply(op, r.flags, flags);
    const std::uint64_t nk = apply64(op, r.keywords, keywords);
    // RFC 7162 §3.1.3: a change that changes nothing passes UNCHANGEDSINCE
    // (no spurious [MODIFIED]).
    if (nf == r.flags && nk == r.keywords) return Status::Ok;
    if (unchanged_since != 0 && r.modseq > unchanged_since) {
        *skipped = true;
        return Status::Ok;
    }
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
    r.slot = static_cast<std::uint8_t>(1 - r.slot);
    if ((st = declare_intent()) != Status::Ok) return st;
    if ((st = write_record(pos, r, false)) != Status::Ok) return st;
    // The cache must keep the committed state until the commit.
    if (s_->limits.cache_records != 0) cache_[pos % s_->limits.cache_records].position_plus_one = 0;
    note_change(r.uid, r.modseq);
    result->flags = static_cast<std::uint8_t>(nf | (result->flags & imap::kRecent));
    result->keywords = nk;
    result->modseq = r.modseq;
    return Status::Ok;
}

Status Mailbox::commit_store() {
    if (!in_txn_) return Status::Invalid;
    if (!txn_slots_) {  // nothing changed: no write at all
        in_txn_ = false;
        unlock();
        return Status::Ok;
    }
    Status st = commit_txn();
    unlock();
    return st;
}

void Mailbox::abort_store() {
    if (!in_txn_) return;
    in_txn_ = false;
    cache_clear();
    unlock();
}

// ---- COPY -------------------------------------------------------------------

Status Mailbox::begin_copy(Mailbox& dest) {
    if (dest.appending_ || dest.in_txn_) return Status::Busy;
    Status st = dest.lock();
    if (st != Status::Ok) return st;
    dest.begin_txn();
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
        for (unsigned b = 0; b < kMaxKeywords; ++b) {
            if ((m.keywords & (std::uint64_t{1} << b)) == 0) continue;
            unsigned db = 0;
            if (keyword_name(b).empty()) continue;
            if ((st = dest.keyword_bit(keyword_name(b), true, &db)) != Status::Ok) return st;
            kw |= std::uint64_t{1} << db;
        }
        r = Record{};
        r.uid = dest.next_.uid_next;
        r.size = m.size;
        r.offset = dest.txn_data_end_;
        r.internal_date = m.internal_date;
        r.zone_minutes = m.zone_minutes;
        r.flags = static_cast<std::uint8_t>(m.flags & ~imap::kRecent);
        r.keywords = kw;
        r.modseq = dest.next_.highest_modseq;
        FrameHeader h;
        h.uid = r.uid;
        h.size = r.size;
        h.internal_date = r.internal_date;
        h.zone_minutes = r.zone_minutes;
        h.flags = r.flags;
        h.keywords = kw;
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
    Status st = s_->fs.fsync(dest.data_);
    if (st == Status::Ok) {
        dest.next_.data_length = dest.txn_data_end_;
        st = dest.commit_txn();
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
    dest.in_txn_ = false;
    dest.appending_ = false;
    (void)s_->fs.truncate(dest.data_, dest.state_.data_length);
    dest.cache_clear();
    dest.unlock();
}

// ---- EXPUNGE ------------------------------------------------------------------

Status Mailbox::expunge(const View& v, UidFilter* uid_filter, std::uint32_t* uids,
                        std::size_t capacity, std::size_t* count, std::uint32_t* from_uid) {
    *count = 0;
    if (in_txn_) return Status::Busy;
    if (gone_count_ >= s_->limits.max_pending_expunges) make_gone_room(v);
    Status st = lock();
    if (st != Status::Ok) return st;
    begin_txn();
    const std::size_t room = s_->limits.max_pending_expunges - gone_count_;
    std::size_t n = 0, runs = 0;
    bool full = false;
    const std::uint32_t start = from_uid != nullptr ? find_position(*from_uid) : 0;
    std::uint32_t pos = start;
    for (; pos < v.positions && n < capacity; ++pos) {
        if (from_uid != nullptr && pos - start >= kExpungeScan) break;
        Record r;
        if ((st = read_record(pos, &r)) != Status::Ok) break;
        if (r.expunged) continue;
        if ((r.flags & imap::kDeleted) == 0 &&
            (uid_filter == nullptr || !uid_filter->ignores_deleted())) {
            continue;
        }
        if (uid_filter != nullptr && !uid_filter->accept(r.uid)) continue;
        Gone* last = runs > 0 ? &gone_[gone_count_ + runs - 1] : nullptr;
        const bool extends = last != nullptr && last->position + last->count == pos;
        if (!extends && runs == room) {
            full = true;
            break;
        }
        r.expunged = true;
        r.modseq = next_.highest_modseq;
        r.slot = static_cast<std::uint8_t>(1 - r.slot);
        if ((st = declare_intent()) != Status::Ok) break;
        if ((st = write_record(pos, r, false)) != Status::Ok) break;
        next_.live_count -= 1;
        next_.live_bytes -= r.size;
        if (seen(r.flags)) next_.seen_count -= 1;
        next_.expunged_count += 1;
        if (extends) {
            ++last->count;
        } else {
            gone_[gone_count_ + runs++] = Gone{pos, 1, r.modseq};
        }
        if (uids != nullptr) uids[n] = r.uid;
        ++n;
    }
    if (st == Status::Ok && n > 0) {
        st = commit_txn();
    } else {
        in_txn_ = false;
        cache_clear();
    }
    unlock();
    if (st != Status::Ok) return st;
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
    return st;
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
    Record first;
    Status st = read_record(count, &first);
    if (st != Status::Ok) return st;
    const std::uint64_t length = first.offset;
    if (!force && state_.data_length - length < s_->limits.compact_min_waste) return Status::Ok;
    if ((st = lock()) != Status::Ok) return st;
    begin_txn();
    next_.highest_modseq = state_.highest_modseq;  // no message changed
    next_.record_count = count;
    next_.data_length = length;
    next_.expunged_count -= removed;
    st = commit_txn();
    if (st == Status::Ok) {
        gone_count_ = runs;
        for (View* v = views_; v != nullptr; v = v->next)
            if (v->positions > count) v->positions = count;  // hidden in every view
        if (s_->fs.truncate(data_, length) == Status::Ok) (void)s_->fs.fsync(data_);
    }
    unlock();
    return st;
}

// Compaction (docs/STORAGE.md "Compaction"): live messages are copied to
// m.data.new with a fresh index m.index.new over many turns of the loop
// (compact_step), the mailbox lock held throughout; both are synced, then
// m.data.new is renamed over m.data (the commit point) and m.index.new over
// m.index. recover() finishes or discards an interrupted one.
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
    c.generation = state_.generation;
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
    if (st != Status::Ok) abandon_compaction();
    return st;
}

void Mailbox::abandon_compaction() {
    CompactJob& c = compact_;
    if (c.phase == CompactPhase::Idle) return;
    if (c.nd != port::kNoFile) (void)s_->fs.close(c.nd);
    if (c.nx != port::kNoFile) (void)s_->fs.close(c.nx);
    c = CompactJob{};
    Path p;
    if (path(kDataNew, &p) == Status::Ok) (void)s_->fs.unlink(p.view());
    if (path(kIndexNew, &p) == Status::Ok) (void)s_->fs.unlink(p.view());
    unlock();
}

// m.data.new is fsynced (a step of its own) after this many bytes copied.
constexpr std::uint64_t kCompactSyncBytes = 8 * 1024 * 1024;

Status Mailbox::compact_step(std::uint64_t* budget) {
    CompactJob& c = compact_;
    if (c.phase == CompactPhase::Idle) return Status::Ok;
    Status st = Status::Ok;
    if (state_.generation != c.generation || data_ == port::kNoFile) {
        st = Status::Invalid;  // cannot happen: the lock is ours throughout
    } else {
        switch (c.phase) {
            case CompactPhase::Copy:
                // The dirty pages of m.data.new are flushed every
                // kCompactSyncBytes, so no single fsync (a turn of its own)
                // has much to write, the last one included.
                if (c.unsynced >= kCompactSyncBytes) {
                    st = s_->fs.fsync(c.nd);
                    c.unsynced = 0;
                    *budget = 0;
                    break;
                }
                st = compact_copy(budget);
                break;
            case CompactPhase::SyncData:
                st = s_->fs.fsync(c.nd);
                c.phase = CompactPhase::SyncIndex;
                *budget = 0;
                break;
            case CompactPhase::SyncIndex:
                st = s_->fs.fsync(c.nx);
                (void)s_->fs.close(c.nd);
                (void)s_->fs.close(c.nx);
                c.nd = c.nx = port::kNoFile;
                c.phase = CompactPhase::SyncDir;
                *budget = 0;
                break;
            case CompactPhase::SyncDir:
                st = s_->fs.sync_dir(dir_.view());
                c.phase = CompactPhase::Commit;
                *budget = 0;
                break;
            case CompactPhase::Commit: *budget = 0; return compact_commit();
            case CompactPhase::Idle: break;
        }
    }
    if (st != Status::Ok) {
        compact_failed_at_ = state_.generation;
        abandon_compaction();
    }
    return st;
}

// Copies frames until the budget is spent; the last piece of the copy
// writes the keyword table and the new index's state.
Status Mailbox::compact_copy(std::uint64_t* budget) {
    CompactJob& c = compact_;
    Status st = Status::Ok;
    while (c.position < state_.record_count) {
        if (*budget == 0) return Status::Ok;
        Record& r = c.record;
        if (!c.in_frame) {
            // A record read costs about a small pread: charge it, so a long
            // run of expunged records is skipped in bounded pieces too.
            constexpr std::uint64_t kRecordCost = 256;
            *budget = *budget > kRecordCost ? *budget - kRecordCost : 0;
            if ((st = read_record(c.position, &r)) != Status::Ok) return st;
            if (r.expunged) {
                ++c.position;
                continue;
            }
            FrameHeader h;
            h.uid = r.uid;
            h.size = r.size;
            h.internal_date = r.internal_date;
            h.zone_minutes = r.zone_minutes;
            h.flags = r.flags;
            h.keywords = r.keywords;
            std::uint8_t fb[kFrameHeaderSize];
            encode(h, fb);
            if ((st = pwrite_all(s_->fs, c.nd, fb, sizeof fb, c.at)) != Status::Ok) return st;
            c.in_frame = true;
            c.done = 0;
            c.crc = 0;
        }
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
        std::uint8_t t[kFrameTrailerSize];
        encode_trailer(c.crc, t);
        st = pwrite_all(s_->fs, c.nd, t, sizeof t, c.at + kFrameHeaderSize + r.size);
        if (st != Status::Ok) return st;
        Record nr = r;
        nr.offset = c.at;
        std::uint8_t rb[kRecordSize] = {};
        encode_fixed(nr, rb);
        encode_slot(nr, rb + kRecordSlotOffset[0]);
        st = pwrite_all(s_->fs, c.nx, rb, sizeof rb, record_offset(c.records));
        if (st != Status::Ok) return st;
        c.records += 1;
        c.at += kFrameOverhead + r.size;
        c.in_frame = false;
        ++c.position;
    }
    for (std::uint32_t i = 0; i < kw_count_; ++i) {
        std::uint8_t kb[kKeywordEntrySize];
        encode_keyword(keyword_name(i), kb);
        st = pwrite_all(s_->fs, c.nx, kb, sizeof kb, kKeywordTableOffset + i * kKeywordEntrySize);
        if (st != Status::Ok) return st;
    }
    State ns = state_;
    ns.generation = state_.generation + 1;
    ns.record_count = c.records;
    ns.expunged_count = 0;
    ns.data_length = c.at;
    ns.data_file_id = c.file_id;
    ns.keyword_count = kw_count_;
    ns.first_recent_uid = first_recent_uid_;
    std::uint8_t sb[kStateSlotSize];
    encode(ns, sb);
    st = pwrite_all(s_->fs, c.nx, sb, sizeof sb, kStateSlotOffset[0]);
    if (st == Status::Ok) c.phase = CompactPhase::SyncData;
    return st;
}

// The new files are durable: rename m.data.new over m.data (the commit
// point), m.index.new over m.index, and go on with the new files.
Status Mailbox::compact_commit() {
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
    const std::uint64_t file_id = compact_.file_id;
    compact_ = CompactJob{};
    st = s_->fs.rename(in.view(), ip.view());
    if (st == Status::Ok) st = s_->fs.sync_dir(dir_.view());
    // Tell other processes still on the old files to reopen (they read this
    // through their handle of the old, now unlinked, index when they take
    // the lock). Only once the new index is in place: otherwise the old
    // index is still m.index and must keep describing the old m.data.
    if (st == Status::Ok) {
        State marker = state_;
        marker.generation = state_.generation + 2;
        marker.data_file_id = file_id;
        (void)write_state(marker);
    }
    // Every expunged record was hidden in every view: drop them from the
    // views' positions before the list goes.
    for (View* v = views_; v != nullptr; v = v->next) {
        std::uint32_t below = 0;
        for (std::size_t i = 0; i < gone_count_; ++i) {
            const Gone& g = gone_[i];
            if (g.position >= v->positions) continue;
            const std::uint32_t e = g.position + g.count;
            below += (e < v->positions ? e : v->positions) - g.position;
        }
        v->positions -= below;
    }
    gone_count_ = 0;

    const int depth = lock_depth_;
    close_files();
    if (st == Status::Ok) st = open_files();
    if (st == Status::Ok) st = s_->fs.lock(data_, port::LockMode::Exclusive);
    if (st == Status::Ok) {
        lock_depth_ = depth;
        st = recover();  // cheap: reads the new headers
    }
    ring_size_ = 0;
    ring_floor_ = state_.highest_modseq;
    ++changes_;
    unlock();  // the compaction's hold: the first writer in line goes next
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
        st = compact_step(&budget);
    }
    return st;
}

}  // namespace tinyimapd::store
