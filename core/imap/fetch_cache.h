// FetchCache: the encoded ENVELOPE, BODY, BODYSTRUCTURE and PREVIEW answers of
// recently fetched messages, so that fetching them again does not re-read
// and re-parse the message (RFC 3501 §7.4.2; clients fetch the same
// structures over and over: a message list, then the message, then again
// after a reconnect).
//
// What it owns: nothing; the caller gives it one block of memory at startup
// (Server, `fetch_cache_kib`), shared by all sessions (single-threaded). The
// block holds an index of fixed-size entries (4-way set-associative over a
// hash of the key) and a data ring written as a log: a new answer goes at
// the ring's head, wrapping to the start when it does not fit before the
// end, and overwrites the oldest answers. No allocation, no eviction list.
//
// Key: (mailbox identity, UIDVALIDITY, UID, item), plus the message's size
// and internal date as a stamp. The mailbox identity is a 64-bit hash of its
// directory path, which includes the user's directory (identity()), seeded
// at startup so that colliding names cannot be prepared in advance. A
// message's bytes never change under a given (mailbox, UIDVALIDITY, UID)
// (RFC 3501 §2.3.1.1), so entries are never stale; a path reused for a new
// mailbox gets a new UIDVALIDITY (the registry hands them out increasing),
// and should a clock step back make one repeat, the stamp still differs.
// Two paths sharing entries would need the same 64-bit hash, UIDVALIDITY,
// UID, size and internal date.
//
// Invariants: an index entry is valid iff its bytes are still in the ring
// (its position is within the last `ring size` bytes written); lookups
// check the whole key. Answers longer than max_answer() are not cached.
// An answer written in pieces over several turns (core/imap/bodystructure.h)
// is stored as it goes out (begin_put/append/finish_put): its bytes go at
// the ring's head, which advances with them (so the entries they overwrite
// die as with put()); another put in between, or an answer growing past
// max_answer(), abandons it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd::imap {

// BodyRev2, BodyStructureRev2: an IMAP4rev2 session's, RFC 2231 values
// joined (StructureWriter::start). *Downgraded: a session's without
// UTF8=ACCEPT or IMAP4rev2, UTF-8 strings as encoded words (RFC 6855 §7);
// the plain Envelope, Body, BodyStructure are a UTF-8 session's.
enum class CachedItem : std::uint8_t {
    Envelope = 1,
    Body = 2,
    BodyStructure = 3,
    Preview = 4,
    BodyRev2 = 5,
    BodyStructureRev2 = 6,
    EnvelopeDowngraded = 7,
    BodyDowngraded = 8,
    BodyStructureDowngraded = 9,
};

struct FetchCacheKey {
    std::uint64_t mailbox = 0;  // identity(directory path)
    std::uint32_t uid_validity = 0;
    std::uint32_t uid = 0;
    CachedItem item = CachedItem::Envelope;
    std::uint64_t stamp = 0;  // stamp_of(size, internal date)
};

class FetchCache {
public:
    // Index entries per KiB of the block: answers average a few hundred bytes.
    static constexpr std::size_t kEntriesPerKib = 2;
    static constexpr std::size_t kWays = 4;

    // Usable with any block (nullptr or too small: disabled, every lookup misses).
    FetchCache() = default;
    // `seed`: a random value (the hash basis of identity()).
    void init(void* block, std::size_t size, std::uint64_t seed = 0);
    bool enabled() const { return sets_ != 0; }

    std::uint64_t identity(std::string_view mailbox_dir) const;
    static std::uint64_t stamp_of(std::uint32_t size, std::int64_t internal_date) {
        return (static_cast<std::uint64_t>(internal_date) << 32) ^ size;
    }

    // The cached answer (the item's value, without its name), or false.
    // The view is valid until the next put().
    bool get(const FetchCacheKey& key, std::string_view* answer);
    // Remembers `answer` for `key` (replacing an older one), if it fits.
    void put(const FetchCacheKey& key, std::string_view answer);
    // An answer stored in pieces (see the header paragraph).
    struct PendingPut {
        std::uint64_t at = 0;  // absolute ring position of its first byte
        std::uint32_t length = 0;
        bool ok = false;
    };
    void begin_put(PendingPut* p);
    void append(PendingPut* p, std::string_view bytes);
    void finish_put(PendingPut* p, const FetchCacheKey& key);
    std::size_t max_answer() const { return ring_size_ / 8; }

    // Counters, for tests and statistics.
    std::uint64_t hits() const { return hits_; }
    std::uint64_t misses() const { return misses_; }
    std::uint64_t stores() const { return stores_; }

private:
    struct Entry {
        std::uint64_t mailbox;
        std::uint64_t position;  // absolute ring position of the answer + 1; 0: empty
        std::uint64_t stamp;
        std::uint32_t uid_validity;
        std::uint32_t uid;
        std::uint32_t length;
        CachedItem item;
    };
    Entry* find(const FetchCacheKey& key);
    Entry* slot_for(const FetchCacheKey& key);
    void remember(Entry* slot, const FetchCacheKey& key, std::uint64_t at, std::size_t length);
    Entry* set_of(const FetchCacheKey& key);
    bool live(const Entry& e) const;

    Entry* entries_ = nullptr;
    std::size_t sets_ = 0;
    char* ring_ = nullptr;
    std::size_t ring_size_ = 0;
    std::uint64_t head_ = 0;  // absolute position of the next byte written
    std::uint64_t seed_ = 0;
    std::uint64_t hits_ = 0, misses_ = 0, stores_ = 0;
};

}  // namespace tinyimapd::imap
