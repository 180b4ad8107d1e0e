// Mailbox: object ids (RFC 8474) and the upgrade of a version 1 index to
// version 2 (docs/STORAGE.md "Upgrading a version 1 index").
//
// Version 2 only adds fields: the records' fixed part grows from 32 to 48
// bytes (save date, EMAILID) and the state slot's reserved bytes hold the
// MAILBOXID. So the upgrade is a translation that keeps every meaning: the
// same state slots (re-encoded with a new MAILBOXID), intent, journal and
// keyword table, the redo records re-sealed around their re-encoded state,
// every record at the same position with its two slots byte for byte.
// Recovery then runs on the new index exactly as it would have on the old
// one (an uncommitted transaction is scrubbed, a redo record replayed, a
// journal redone). Crash safety: the new index is written as m.index.new,
// fsynced and renamed over m.index (the commit); before the rename the old
// index is intact and the leftover m.index.new is removed by the next open
// (recovery step 3), which upgrades again.

#include "core/store/mailbox.h"

#include <cstring>

#include "core/store/mailbox_detail.h"

namespace tinyimapd::store {

using namespace detail;  // the helpers of mailbox_detail.h

namespace {

// splitmix64's finaliser: a bijection of the 64-bit numbers.
std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Records translated per pread/pwrite pair.
constexpr std::size_t kUpgradeBatch = 16;

}  // namespace

std::uint64_t Mailbox::next_email_id() {
    // A random base per open mailbox, then a counter through a bijection:
    // distinct within the process; across processes and restarts, ids of
    // two bases collide only if the bases fall within the counts of each
    // other (2^-64 per pair of bases and id).
    if (id_base_ == 0) id_base_ = mix64(fresh_id(*s_));
    for (;;) {
        const std::uint64_t id = mix64(id_base_ + ++id_count_);
        if (id != 0) return id;
    }
}

Status Mailbox::upgrade_index() {
    Path np, ip;
    Status st = path(kIndexNew, &np);
    if (st == Status::Ok) st = path(kIndexFile, &ip);
    if (st != Status::Ok) return st;
    port::FileInfo info;
    if ((st = s_->fs.fstat(index_, &info)) != Status::Ok) return st;
    auto nf = s_->fs.open(np.view(), kCreateNew | port::kOpenNoFollow);
    if (!nf.ok()) return nf.status;
    const port::File out = nf.value;
    const std::uint64_t mailbox_id = fresh_id(*s_);

    // The state slots: every valid one re-encoded (version 2, the new id);
    // an invalid one (torn, or zero) stays as it is, still invalid.
    std::uint8_t head[kRedoOffset];
    st = pread_full(s_->fs, index_, head, sizeof head, 0);
    for (int i = 0; st == Status::Ok && i < 2; ++i) {
        State s;
        if (!decode(head + kStateSlotOffset[i], &s)) continue;
        s.mailbox_id = mailbox_id;
        encode(s, head + kStateSlotOffset[i]);
    }
    // The intent and the journal follow as they are.
    if (st == Status::Ok) st = pwrite_all(s_->fs, out, head, sizeof head, 0);
    // The redo areas: a valid record is sealed again around its state in
    // version 2 (its entries are record slots, the same in both versions);
    // anything else is copied (stale or zero: ignored either way).
    for (std::uint64_t g = 0; st == Status::Ok && g < 2; ++g) {
        std::uint8_t area[kRedoAreaSize];
        st = pread_full(s_->fs, index_, area, sizeof area, redo_area_offset(g));
        if (st != Status::Ok) break;
        RedoHeader h;
        State s;
        if (redo_decode(area, &h) && decode(h.state, &s)) {
            s.mailbox_id = mailbox_id;
            (void)redo_seal(area, h.count, s, h.state_slot);
        }
        st = pwrite_all(s_->fs, out, area, sizeof area, redo_area_offset(g));
    }
    // The keyword table, unchanged.
    for (std::uint64_t at = kKeywordTableOffset; st == Status::Ok && at < kRecordsOffset;) {
        std::uint8_t kb[kKeywordEntrySize * 8];
        st = pread_full(s_->fs, index_, kb, sizeof kb, at);
        if (st == Status::Ok) st = pwrite_all(s_->fs, out, kb, sizeof kb, at);
        at += sizeof kb;
    }
    if (st == Status::Ok) st = upgrade_records(out, info.size);
    if (st == Status::Ok) st = s_->fs.fsync(out);
    (void)s_->fs.close(out);
    if (st == Status::Ok) st = s_->fs.rename(np.view(), ip.view());  // the commit
    if (st != Status::Ok) {
        (void)s_->fs.unlink(np.view());  // else the next open removes it
        return st;
    }
    if ((st = s_->fs.sync_dir(dir_.view())) != Status::Ok) return st;
    (void)s_->fs.close(index_);
    index_ = port::kNoFile;
    auto x = s_->fs.open(ip.view(), kRw | port::kOpenNoFollow);
    if (!x.ok()) return x.status;
    index_ = x.value;
    cache_clear();
    return Status::Ok;
}

// Every whole record of the version 1 index (up to `file_size`) into `out`.
Status Mailbox::upgrade_records(port::File out, std::uint64_t file_size) {
    // Every whole record in the file (committed or not: positions and
    // slots keep their meaning), with no save date (RFC 8514 §4.2: NIL) and
    // a new EMAILID. A fixed part that does not check stays one that does
    // not (zero), so recovery treats it as it would have.
    const std::uint64_t records =
        file_size > kRecordsOffset ? (file_size - kRecordsOffset) / kRecordSize1 : 0;
    Status st = Status::Ok;
    for (std::uint64_t pos = 0; st == Status::Ok && pos < records;) {
        std::uint64_t n = records - pos;
        if (n > kUpgradeBatch) n = kUpgradeBatch;
        std::uint8_t in[kUpgradeBatch * kRecordSize1];
        std::uint8_t o[kUpgradeBatch * kRecordSize] = {};
        st = pread_full(s_->fs, index_, in, static_cast<std::size_t>(n * kRecordSize1),
                        kRecordsOffset + pos * kRecordSize1);
        if (st != Status::Ok) break;
        for (std::size_t i = 0; i < n; ++i) {
            const std::uint8_t* a = in + i * kRecordSize1;
            std::uint8_t* b = o + i * kRecordSize;
            Record r;
            if (decode_fixed1(a, &r)) {
                r.save_date = kNoSaveDate;
                r.email_id = next_email_id();
                encode_fixed(r, b);
            }
            for (int k = 0; k < 2; ++k)
                std::memcpy(b + kRecordSlotOffset[k], a + kRecordSlotOffset1[k], kRecordSlotSize);
        }
        st = pwrite_all(s_->fs, out, o, static_cast<std::size_t>(n * kRecordSize),
                        record_offset(static_cast<std::uint32_t>(pos)));
        pos += n;
    }
    return st;
}

Status Mailbox::reissue_mailbox_id(Services& s, std::string_view index_path) {
    auto f = s.fs.open(index_path, kRw | port::kOpenNoFollow);
    if (!f.ok()) return f.status;
    Status st = reissue_mailbox_id(s, f.value);
    if (st == Status::Ok) st = s.fs.fsync(f.value);
    const Status c = s.fs.close(f.value);
    return st == Status::Ok ? c : st;
}

Status Mailbox::reissue_mailbox_id(Services& s, port::File f) {
    const std::uint64_t mailbox_id = fresh_id(s);
    // An index never committed to since it was made ends before the redo
    // areas (an empty mailbox: its header alone); bytes past the end read
    // as zero (docs/STORAGE.md "The redo log") and are not written.
    std::uint8_t head[kRedoOffset] = {};
    const port::FsResult got = s.fs.pread(f, head, sizeof head, 0);
    Status st = got.status;
    for (int i = 0; st == Status::Ok && i < 2; ++i) {
        State state;
        if (!decode(head + kStateSlotOffset[i], &state)) continue;
        state.mailbox_id = mailbox_id;
        encode(state, head + kStateSlotOffset[i]);
    }
    if (st == Status::Ok) st = pwrite_all(s.fs, f, head, got.bytes, 0);
    // A redo record's state names the old id; the copy holds its writes in
    // place already (made under the lock, read back from the copy), so it
    // is dropped rather than re-sealed.
    const std::uint8_t zero[16] = {};
    for (std::uint64_t g = 0; st == Status::Ok && got.bytes == sizeof head && g < 2; ++g)
        st = pwrite_all(s.fs, f, zero, sizeof zero, redo_area_offset(g));
    return st;
}

}  // namespace tinyimapd::store
