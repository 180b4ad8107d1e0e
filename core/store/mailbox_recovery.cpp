// Mailbox: recovery on open and the reload after another process's commit
// (docs/STORAGE.md "Recovery").

#include "core/store/mailbox.h"

#include <cstring>

#include "core/store/mailbox_detail.h"

namespace tinyimapd::store {

using namespace detail;  // the helpers of mailbox_detail.h

// ---- recovery ---------------------------------------------------------------

Status Mailbox::recover() {
    std::uint8_t hb[kDataHeaderSize];
    Status st = pread_full(s_->fs, data_, hb, sizeof hb, 0);
    if (st != Status::Ok || !decode(hb, &data_header_)) return Status::Io;
    cache_clear();
    gone_count_ = 0;

    State st_index;
    int slot = 0;
    // Version 1 states count here (an index not upgraded yet, or a
    // compaction of an older binary to roll forward): upgraded below.
    bool have = index_ != port::kNoFile && read_state(index_, &st_index, &slot, true) == Status::Ok;
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
            const bool match = read_state(x.value, &ns, &nslot, true) == Status::Ok &&
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
                have = read_state(index_, &st_index, &slot, true) == Status::Ok;
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

    if (have && st_index.version != kIndexVersion) {
        // A version 1 index: rewritten as version 2 (m.index.new, renamed
        // over m.index), then recovered as any index.
        if ((st = upgrade_index()) != Status::Ok) return st;
        have = read_state(index_, &st_index, &slot) == Status::Ok;
    }
    if (!have) return rebuild_index();
    state_ = st_index;
    state_slot_ = slot;
    // A slide's move whose state commit did not land (mailbox_slide.cpp);
    // frames that do not match its journal: rebuild from m.data.
    if (redo_journal() != Status::Ok) return rebuild_index();
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
    if ((st = replay_redo(true)) != Status::Ok) return st;
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
        // Its commit is the last one, moments before the crash.
        n.save_date = s_->clock.wall_seconds();
        n.email_id = next_email_id();
        Status st = write_record(pos, n, true);
        if (st != Status::Ok) return st;
        last_uid = h.uid;
        at += kFrameOverhead + h.size;
    }
    if (at != state_.data_length) return rebuild_index();
    cache_clear();
    return s_->fs.fsync(index_);
}

// The records of the complete frames of m.data (up to `file_size`), into
// the new index `out`; flags, keywords and expunge marks from the old index
// where it has the same UID at the same offset. Counts go to *ns; *at is
// where the last complete frame ends.
Status Mailbox::rebuild_records(port::File out, bool have_old, std::uint64_t file_size, State* ns,
                                std::uint64_t* at) {
    Status st = Status::Ok;
    std::uint32_t pos = 0, last_uid = 0;
    // `walk` goes over padding frames too; *at is the end of the last
    // message, so padding at the end is cut off with a torn tail.
    std::uint64_t walk = *at;
    while (st == Status::Ok) {
        std::uint8_t pb[kFrameHeaderSize];
        std::uint32_t pad = 0;
        if (walk + kFrameOverhead <= file_size &&
            pread_full(s_->fs, data_, pb, sizeof pb, walk) == Status::Ok &&
            decode_padding(pb, &pad) && walk + kFrameOverhead + pad <= file_size) {
            walk += kFrameOverhead + pad;
            continue;
        }
        FrameHeader h;
        if (read_frame(walk, file_size, &h, true) != Status::Ok) {
            // A header torn by a crash inside a slide's move, or a frame gone
            // bad: the walk goes on at the next complete frame with a higher
            // UID, if there is one (else what follows is a torn tail).
            std::uint64_t next = 0;
            if (find_frame_after(walk + 1, file_size, last_uid, &next) != Status::Ok) break;
            walk = next;
            continue;
        }
        if (h.uid <= last_uid) {  // a stale copy a slide left behind its move
            walk += kFrameOverhead + h.size;
            continue;
        }
        Record r = record_of(h, walk);
        Record o;
        // By UID: records of messages a slide overwrote are still in the old index.
        const std::uint32_t op = have_old ? find_position(h.uid) : 0;
        if (have_old && read_record(op, &o) == Status::Ok && o.uid == h.uid && o.offset == walk) {
            r.flags = o.flags;
            r.keywords = o.keywords;
            r.expunged = o.expunged;
            r.save_date = o.save_date;
            r.email_id = o.email_id;
        }
        // Not known from m.data alone: a new EMAILID, no save date (NIL).
        if (r.email_id == 0) r.email_id = next_email_id();
        if (!have_old || ns->keyword_count == 0) r.keywords = 0;
        r.modseq = ns->highest_modseq;
        std::uint8_t buf[kRecordSize] = {};
        encode_fixed(r, buf);
        encode_slot(r, buf + kRecordSlotOffset[0]);
        st = pwrite_all(s_->fs, out, buf, sizeof buf, record_offset(pos));
        ++pos;
        if (r.expunged) {
            ++ns->expunged_count;
        } else {
            ++ns->live_count;
            ns->live_bytes += r.size;
            if (seen(r.flags)) ++ns->seen_count;
        }
        last_uid = h.uid;
        walk += kFrameOverhead + h.size;
        *at = walk;
    }
    ns->record_count = pos;
    ns->data_length = *at;
    ns->uid_next = last_uid + 1;
    return st;
}

// The first offset at or after `from` where a complete frame (header,
// body and trailer check) with a UID above `last_uid` starts; NotFound if
// none. A byte-by-byte search: only a rebuild over a damaged m.data runs it.
Status Mailbox::find_frame_after(std::uint64_t from, std::uint64_t file_size,
                                 std::uint32_t last_uid, std::uint64_t* found) {
    std::uint8_t buf[1024];
    static_assert(sizeof buf > kFrameHeaderSize);
    for (std::uint64_t pos = from; pos + kFrameOverhead <= file_size;) {
        std::size_t n = sizeof buf;
        if (file_size - pos < n) n = static_cast<std::size_t>(file_size - pos);
        Status st = pread_full(s_->fs, data_, buf, n, pos);
        if (st != Status::Ok) return st;
        for (std::size_t i = 0; i + kFrameHeaderSize <= n; ++i) {
            FrameHeader h;
            if (buf[i] != 0x54 || !decode(buf + i, &h) || h.uid <= last_uid) continue;  // "TIMF"
            if (read_frame(pos + i, file_size, &h, true) == Status::Ok) {
                *found = pos + i;
                return Status::Ok;
            }
        }
        if (n < sizeof buf) break;
        pos += n - kFrameHeaderSize + 1;
    }
    return Status::NotFound;
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
    // RFC 8474 §4: the same mailbox keeps its MAILBOXID; a new one only when
    // the old index is unreadable (docs/STORAGE.md "Known limits").
    ns.mailbox_id = have_old && old.mailbox_id != 0 ? old.mailbox_id : fresh_id(*s_);
    std::uint32_t uid_next = data_header_.uid_floor;
    if (have_old && old.uid_next > uid_next) uid_next = old.uid_next;

    state_.highest_modseq = have_old ? old.highest_modseq : 0;  // for reading old records
    state_.record_count = have_old ? old.record_count : 0;
    cache_clear();
    port::FileInfo info;
    st = s_->fs.fstat(data_, &info);
    std::uint64_t at = kDataHeaderSize;
    if (st == Status::Ok) st = rebuild_records(out, have_old, info.size, &ns, &at);
    if (uid_next > ns.uid_next) ns.uid_next = uid_next;
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
    if (!overflow) return Status::Ok;
    // Opening: the compaction runs in steps (Registry::background_step);
    // views wait for it (ready()). Elsewhere: in this call.
    if (!opening_) return compact();
    const Status st = start_compaction();
    if (st == Status::Ok) gone_overflow_ = true;
    return st;
}

Status Mailbox::reload_if_changed(bool* changed) {
    *changed = false;
    // Our own commit, written and not yet durable: nobody else can have
    // committed (we hold the lock), and ours counts only after its flush.
    if (committing_) return Status::Ok;
    State st;
    int slot = 0;
    if (read_state(index_, &st, &slot) != Status::Ok) return Status::Ok;  // torn read: later
    if (st.generation == state_.generation && st.data_file_id == state_.data_file_id)
        return Status::Ok;
    *changed = true;
    const bool held = lock_depth_ > 0 || compact_hold_;
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
        // positions past its record_count are gone; or it slid frames over
        // expunged messages our views may still show (mailbox_slide.cpp).
        if (st.record_count < state_.record_count || st.relocations != state_.relocations)
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
    if (committing_) return false;  // our own commit, not durable yet
    State st;
    int slot = 0;
    if (read_state(index_, &st, &slot) != Status::Ok) return false;
    return st.generation != state_.generation;
}

}  // namespace tinyimapd::store
