#include "core/store/sort_cache.h"

#include <cstring>

#include "core/base/endian.h"
#include "core/base/text.h"
#include "core/store/format.h"

namespace tinyimapd::store {
namespace {

// The stamp: magic, format version, UIDVALIDITY, MAILBOXID, 0, CRC32C of
// the 28 bytes before it. A new version whenever an entry's meaning changes
// (how a key is derived included): older files are then emptied.
constexpr char kMagic[8] = {'T', 'I', 'M', 'S', 'O', 'R', 'T', 0};
constexpr std::uint32_t kCacheVersion = 1;
// An entry: its check (entry_crc, of the length and the payload), payload length, then
// uid(4) sent(8) message_id(8) reply(1) ref_count(1) subject_size(2),
// the references (8 each) and the subject's bytes.
constexpr std::size_t kEntryHead = 8;
constexpr std::size_t kFixed = 24;

std::uint8_t* bytes(char* p) {
    return static_cast<std::uint8_t*>(static_cast<void*>(p));
}
const std::uint8_t* bytes(const char* p) {
    return static_cast<const std::uint8_t*>(static_cast<const void*>(p));
}

// An entry's check: a 64-bit multiply-xorshift hash of its length and
// payload, eight bytes at a time (faster than CRC32C here, where every
// SORT reads every entry; a torn or foreign entry passes with a chance of
// one in 2^32).
std::uint32_t entry_crc(const char* entry, std::size_t payload) {
    const std::uint8_t* p = bytes(entry + 4);
    std::size_t n = 4 + payload;
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
    for (; n >= 8; n -= 8, p += 8) {
        h = (h ^ le::load64(p)) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    for (; n > 0; --n, ++p) h = (h ^ *p) * 0x100000001B3ull;
    h = (h ^ (h >> 29)) * 0xC4CEB9FE1A85EC53ull;
    return static_cast<std::uint32_t>(h >> 32);
}

}  // namespace

bool SortCache::open(Mailbox& box, char* buffer, std::size_t capacity) {
    close();
    if (capacity < 2 * kMaxEntryBytes || capacity > UINT32_MAX) return false;
    FixedText<port::kMaxPath + 1> path;
    path.put(box.dir()).put('/').put(kSortCacheFile);
    if (!path.ok()) return false;
    fs_ = &box.fs();
    const Result<port::File> f = fs_->open(
        path.view(), port::kOpenRead | port::kOpenWrite | port::kOpenCreate | port::kOpenNoFollow);
    if (!f.ok()) return false;
    file_ = f.value;
    buf_ = buffer;
    cap_ = static_cast<std::uint32_t>(capacity);
    buf_offset_ = end_ = kHeaderBytes;
    buf_len_ = pos_ = 0;
    last_uid_ = live_ = dead_ = 0;
    at_end_ = torn_ = writing_ = false;
    writable_ = true;
    if (read_stamp(box.uid_validity(), box.mailbox_id())) return true;
    if (fs_->truncate(file_, 0) != Status::Ok ||
        !write_stamp(box.uid_validity(), box.mailbox_id())) {
        close();
        return false;
    }
    return true;
}

void SortCache::close() {
    if (file_ != port::kNoFile) (void)fs_->close(file_);
    file_ = port::kNoFile;
}

bool SortCache::read_stamp(std::uint32_t uid_validity, std::uint64_t mailbox_id) {
    std::uint8_t h[kHeaderBytes];
    const port::FsResult r = fs_->pread(file_, h, sizeof h, 0);
    if (r.status != Status::Ok || r.bytes != sizeof h) return false;
    return std::memcmp(h, kMagic, 8) == 0 && le::load32(h + 8) == kCacheVersion &&
           le::load32(h + 12) == uid_validity && le::load64(h + 16) == mailbox_id &&
           le::load32(h + 28) == crc32c(h, 28);
}

bool SortCache::write_stamp(std::uint32_t uid_validity, std::uint64_t mailbox_id) {
    std::uint8_t h[kHeaderBytes] = {};
    std::memcpy(h, kMagic, 8);
    le::store32(h + 8, kCacheVersion);
    le::store32(h + 12, uid_validity);
    le::store64(h + 16, mailbox_id);
    le::store32(h + 28, crc32c(h, 28));
    const port::FsResult r = fs_->pwrite(file_, h, sizeof h, 0);
    return r.status == Status::Ok;
}

// At least `need` bytes from pos_ in the buffer (reading on from the file).
bool SortCache::fill(std::size_t need) {
    if (buf_len_ - pos_ >= need) return true;
    std::memmove(buf_, buf_ + pos_, buf_len_ - pos_);
    buf_offset_ += pos_;
    buf_len_ -= pos_;
    pos_ = 0;
    while (buf_len_ < need) {
        const port::FsResult r =
            fs_->pread(file_, buf_ + buf_len_, cap_ - buf_len_, buf_offset_ + buf_len_);
        if (r.status != Status::Ok || r.bytes == 0) return false;
        buf_len_ += static_cast<std::uint32_t>(r.bytes);
    }
    return true;
}

bool SortCache::peek(std::uint32_t* uid) {
    if (at_end_) return false;
    const char* e = buf_ + pos_;
    bool ok = fill(kEntryHead);
    std::size_t payload = 0;
    if (ok) {
        e = buf_ + pos_;
        payload = le::load32(bytes(e) + 4);
        ok = payload >= kFixed && payload <= kMaxEntryBytes - kEntryHead &&
             fill(kEntryHead + payload);
    }
    if (ok) {
        e = buf_ + pos_;
        const std::uint8_t* p = bytes(e) + kEntryHead;
        ok = le::load32(bytes(e)) == entry_crc(e, payload) &&
             p[21] <= SortCacheEntry::kMaxRefs && le::load16(p + 22) <= SortCacheEntry::kMaxSubject &&
             payload == kFixed + 8 * std::size_t{p[21]} + le::load16(p + 22);
    }
    if (!ok) {
        // The end of what checks: the file's end, or a torn/foreign tail.
        at_end_ = true;
        end_ = buf_offset_ + pos_;
        torn_ = buf_len_ > pos_;
        return false;
    }
    *uid = le::load32(bytes(e) + kEntryHead);
    return true;
}

void SortCache::decode(SortCacheEntry* out) const {
    const std::uint8_t* p = bytes(buf_ + pos_) + kEntryHead;
    out->uid = le::load32(p);
    out->sent = static_cast<std::int64_t>(le::load64(p + 4));
    out->message_id = le::load64(p + 12);
    out->reply = p[20] != 0;
    out->ref_count = p[21];
    out->subject_size = le::load16(p + 22);
    p += kFixed;
    for (std::size_t i = 0; i < out->ref_count; ++i, p += 8) out->refs[i] = le::load64(p);
    std::memcpy(out->subject, p, out->subject_size);
}

bool SortCache::find(std::uint32_t uid, SortCacheEntry* out) {
    if (file_ == port::kNoFile || writing_) return false;
    std::uint32_t u = 0;
    while (peek(&u)) {
        if (u > uid) return false;  // a gap: not cached
        const bool hit = u == uid && u > last_uid_;
        if (hit && out != nullptr) decode(out);
        if (u > last_uid_) last_uid_ = u;
        pos_ += static_cast<std::uint32_t>(kEntryHead) + le::load32(bytes(buf_ + pos_) + 4);
        if (hit) {
            ++live_;
            return true;
        }
        ++dead_;  // an expunged message's (or a repeated UID)
    }
    return false;
}

void SortCache::skip(std::uint32_t uid) {
    if (!find(uid, nullptr) && (at_end_ || writing_)) writable_ = false;
}

bool SortCache::add(const SortCacheEntry& e) {
    if (file_ == port::kNoFile || !writable_ || !at_end_ || e.uid <= last_uid_) return false;
    if (!writing_) {
        // The buffer now gathers entries to write at end_.
        if (torn_ && fs_->truncate(file_, end_) != Status::Ok) writable_ = false;
        torn_ = false;
        writing_ = true;
        buf_len_ = pos_ = 0;
        if (!writable_) return false;
    }
    const std::size_t payload = kFixed + 8 * std::size_t{e.ref_count} + e.subject_size;
    if (buf_len_ + kEntryHead + payload > cap_ && !flush()) return false;
    char* out = buf_ + buf_len_;
    std::uint8_t* p = bytes(out) + kEntryHead;
    le::store32(bytes(out) + 4, static_cast<std::uint32_t>(payload));
    le::store32(p, e.uid);
    le::store64(p + 4, static_cast<std::uint64_t>(e.sent));
    le::store64(p + 12, e.message_id);
    p[20] = e.reply ? 1 : 0;
    p[21] = e.ref_count;
    le::store16(p + 22, e.subject_size);
    p += kFixed;
    for (std::size_t i = 0; i < e.ref_count; ++i, p += 8) le::store64(p, e.refs[i]);
    std::memcpy(p, e.subject, e.subject_size);
    le::store32(bytes(out), entry_crc(out, payload));
    buf_len_ += static_cast<std::uint32_t>(kEntryHead + payload);
    last_uid_ = e.uid;
    return true;
}

bool SortCache::flush() {
    if (file_ == port::kNoFile || !writing_ || !writable_) return false;
    if (buf_len_ == 0) return true;
    // Another writer (a SORT of another session) appended meanwhile: stop.
    port::FileInfo info;
    bool ok = fs_->fstat(file_, &info) == Status::Ok && info.size == end_;
    ok = ok && fs_->pwrite(file_, buf_, buf_len_, end_).status == Status::Ok;
    if (ok) end_ += buf_len_;
    buf_len_ = 0;
    writable_ = ok;
    return ok;
}

void SortCache::reset() {
    if (file_ == port::kNoFile) return;
    (void)fs_->truncate(file_, kHeaderBytes);
    writable_ = false;
    live_ = dead_ = 0;
}

}  // namespace tinyimapd::store
