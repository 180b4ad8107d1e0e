// SortCache: a mailbox's sort keys kept between SORT/THREAD commands in a
// file next to its index (m.sort; docs/STORAGE.md "The sort cache").
//
// What it holds: one entry per message, keyed by UID, in ascending UID
// order: the keys SORT (DATE), SORT (SUBJECT) and THREAD read from the
// message's header (RFC 5256 §2.1, §2.2, REFERENCES step 1), already in the
// form the SortJob uses (cmd_sort.cpp fills a SortCacheEntry exactly as it
// would from the header). A message's keys never change: IMAP's messages are
// immutable and a UID names one message for as long as the UIDVALIDITY
// holds (RFC 3501 §2.3.1.1), so an entry stays true until its message is
// expunged, and then it is simply never asked for again.
//
// Derived data, never trusted: the file starts with a stamp (magic, format
// version, UIDVALIDITY, MAILBOXID, CRC32C); a stamp that does not match the
// mailbox empties the file. Every entry carries its length and a 32-bit
// check of its bytes (a multiply-xorshift hash, sort_cache.cpp): reading stops at the first entry that does not check (a torn
// write, a crash, anything), and what follows is rebuilt from the headers.
// Entries whose UID does not rise are skipped. Nothing is ever fsynced: a
// lost tail is rebuilt the same way.
//
// Use (one SortJob at a time per instance; several jobs may share a file):
// open(); then, for each message the walk reaches, in ascending UID order,
// find() (the cached entry) or, for a message past the file's end, add()
// its entry (buffered); flush() writes the buffer. add() appends only
// while every message so far had an entry (the cached part stays a prefix
// of the mailbox's UIDs), and flush() gives up when another writer changed
// the file meanwhile. Expunged messages' entries stay in the file (dead);
// stale() says when they outnumber the live ones, and reset() empties it.
//
// The buffer is the caller's (a piece of the SORT work area): no memory of
// its own, one file handle while open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/status.h"
#include "core/store/mailbox.h"
#include "port/fs.h"

namespace tinyimapd::store {

inline constexpr std::string_view kSortCacheFile = "m.sort";

struct SortCacheEntry {
    static constexpr std::size_t kMaxRefs = 32;
    static constexpr std::size_t kMaxSubject = 256;
    std::uint32_t uid = 0;
    std::int64_t sent = 0;         // RFC 5256 §2.2 sent date (the internal date if none)
    std::uint64_t message_id = 0;  // hash of the Message-ID, 0: none
    bool reply = false;            // the subject had a reply/forward mark (§2.1)
    std::uint8_t ref_count = 0;
    std::uint16_t subject_size = 0;
    std::uint64_t refs[kMaxRefs] = {};  // reference hashes, oldest first
    char subject[kMaxSubject] = {};     // base subject, i;unicode-casemap prepared
};

class SortCache {
public:
    // An entry's largest size in the file.
    static constexpr std::size_t kMaxEntryBytes =
        8 + 24 + 8 * SortCacheEntry::kMaxRefs + SortCacheEntry::kMaxSubject;
    static constexpr std::size_t kHeaderBytes = 32;

    SortCache() = default;
    ~SortCache() { close(); }
    SortCache(const SortCache&) = delete;
    SortCache& operator=(const SortCache&) = delete;

    // Opens (creates) the mailbox's m.sort with `buffer` (at least
    // 2 * kMaxEntryBytes); false (and the cache unused) on any failure.
    bool open(Mailbox& box, char* buffer, std::size_t capacity);
    void close();
    bool is_open() const { return file_ != port::kNoFile; }

    // The entry of `uid` if the file has one. UIDs asked must rise.
    bool find(std::uint32_t uid, SortCacheEntry* out);
    // `uid` was walked past without an entry being computed: no add() after it.
    void skip(std::uint32_t uid);
    // Appends `e` (its UID above every earlier one) when the cached part
    // can grow; false when it was not kept.
    bool add(const SortCacheEntry& e);
    // Writes what add() buffered; false when nothing more will be written.
    bool flush();

    // More dead entries (of expunged messages) seen than live ones, many.
    bool stale() const { return dead_ > 4096 && dead_ > live_; }
    // Empties the file to its stamp (the next SORT rebuilds it).
    void reset();

    std::uint32_t hits() const { return live_; }

private:
    bool read_stamp(std::uint32_t uid_validity, std::uint64_t mailbox_id);
    bool write_stamp(std::uint32_t uid_validity, std::uint64_t mailbox_id);
    // The next entry at pos_ is in the buffer: true with *uid set; false
    // at the end of the valid part (end_ set).
    bool peek(std::uint32_t* uid);
    bool fill(std::size_t need);
    void decode(SortCacheEntry* out) const;

    port::Fs* fs_ = nullptr;
    port::File file_ = port::kNoFile;
    char* buf_ = nullptr;
    std::uint32_t cap_ = 0;
    std::uint32_t buf_len_ = 0;     // bytes in the buffer
    std::uint32_t pos_ = 0;         // next entry, in the buffer
    std::uint64_t buf_offset_ = 0;  // file offset of buf_[0] (reading)
    std::uint64_t end_ = 0;         // end of the valid part (once reached)
    std::uint32_t last_uid_ = 0;    // highest UID read or added
    std::uint32_t live_ = 0, dead_ = 0;
    bool at_end_ = false;     // reading reached the end of the valid part
    bool torn_ = false;       // bytes past end_ that do not check
    bool writable_ = true;    // add() may still append
    bool writing_ = false;    // the buffer holds entries to write at end_
};

}  // namespace tinyimapd::store
