#include "core/imap/fetch_cache.h"

#include <cstring>

namespace tinyimapd::imap {

namespace {

std::uint64_t mix(std::uint64_t h) {
    // splitmix64's finaliser: spreads the key over the set index.
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

bool same_key(const FetchCacheKey& key, std::uint64_t mailbox, std::uint32_t uid_validity,
              std::uint32_t uid, CachedItem item, std::uint64_t stamp) {
    return key.mailbox == mailbox && key.uid_validity == uid_validity && key.uid == uid &&
           key.item == item && key.stamp == stamp;
}

}  // namespace

void FetchCache::init(void* block, std::size_t size, std::uint64_t seed) {
    *this = FetchCache{};
    seed_ = seed;
    if (block == nullptr) return;
    // The block is split between the index and the ring; both must be
    // usable for the cache to be on.
    std::size_t sets = (size / 1024) * kEntriesPerKib / kWays;
    const std::size_t index_bytes = sets * kWays * sizeof(Entry);
    if (sets == 0 || index_bytes >= size) return;
    entries_ = static_cast<Entry*>(block);
    for (std::size_t i = 0; i < sets * kWays; ++i) entries_[i] = Entry{};
    sets_ = sets;
    ring_ = static_cast<char*>(block) + index_bytes;
    ring_size_ = size - index_bytes;
}

std::uint64_t FetchCache::identity(std::string_view mailbox_dir) const {
    // FNV-1a, 64-bit, from a seeded basis.
    std::uint64_t h = 0xcbf29ce484222325ull ^ mix(seed_);
    for (const char c : mailbox_dir) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

FetchCache::Entry* FetchCache::set_of(const FetchCacheKey& key) {
    const std::uint64_t h = mix(key.mailbox ^ (std::uint64_t{key.uid_validity} << 32) ^
                                (std::uint64_t{key.uid} * 4 + static_cast<unsigned>(key.item)));
    return entries_ + (h % sets_) * kWays;
}

// The ring holds the bytes written in [head_ - ring_size_, head_).
bool FetchCache::live(const Entry& e) const {
    if (e.position == 0) return false;
    const std::uint64_t start = e.position - 1;
    return head_ <= ring_size_ || start >= head_ - ring_size_;
}

FetchCache::Entry* FetchCache::find(const FetchCacheKey& key) {
    Entry* set = set_of(key);
    for (std::size_t w = 0; w < kWays; ++w) {
        Entry& e = set[w];
        if (live(e) && same_key(key, e.mailbox, e.uid_validity, e.uid, e.item, e.stamp)) return &e;
    }
    return nullptr;
}

bool FetchCache::get(const FetchCacheKey& key, std::string_view* answer) {
    if (!enabled()) return false;
    const Entry* e = find(key);
    if (e == nullptr) {
        ++misses_;
        return false;
    }
    ++hits_;
    *answer = std::string_view(ring_ + (e->position - 1) % ring_size_, e->length);
    return true;
}

// The entry for `key`: its own, a dead way, else the oldest of its set.
FetchCache::Entry* FetchCache::slot_for(const FetchCacheKey& key) {
    Entry* slot = find(key);
    if (slot != nullptr) return slot;
    Entry* set = set_of(key);
    slot = &set[0];
    for (std::size_t w = 0; w < kWays; ++w) {
        if (!live(set[w])) return &set[w];
        if (set[w].position < slot->position) slot = &set[w];
    }
    return slot;
}

void FetchCache::remember(Entry* slot, const FetchCacheKey& key, std::uint64_t at,
                          std::size_t length) {
    slot->mailbox = key.mailbox;
    slot->uid_validity = key.uid_validity;
    slot->uid = key.uid;
    slot->item = key.item;
    slot->stamp = key.stamp;
    slot->length = static_cast<std::uint32_t>(length);
    slot->position = at + 1;
    ++stores_;
}

void FetchCache::put(const FetchCacheKey& key, std::string_view answer) {
    if (!enabled() || answer.empty() || answer.size() > max_answer()) return;
    Entry* slot = slot_for(key);
    // Answers are contiguous: skip the ring's tail when this one would wrap.
    std::uint64_t at = head_;
    const std::size_t offset = static_cast<std::size_t>(at % ring_size_);
    if (offset + answer.size() > ring_size_) at += ring_size_ - offset;
    std::memcpy(ring_ + at % ring_size_, answer.data(), answer.size());
    head_ = at + answer.size();
    remember(slot, key, at, answer.size());
}

void FetchCache::begin_put(PendingPut* p) {
    *p = PendingPut{};
    if (!enabled()) return;
    // Room for the longest answer before the ring's end: it never wraps.
    std::uint64_t at = head_;
    const std::size_t offset = static_cast<std::size_t>(at % ring_size_);
    if (offset + max_answer() > ring_size_) at += ring_size_ - offset;
    head_ = at;
    p->at = at;
    p->ok = true;
}

void FetchCache::append(PendingPut* p, std::string_view bytes) {
    if (!p->ok || bytes.empty()) return;
    if (head_ != p->at + p->length || bytes.size() > max_answer() - p->length) {
        p->ok = false;  // another put came in between, or too long
        return;
    }
    std::memcpy(ring_ + (p->at + p->length) % ring_size_, bytes.data(), bytes.size());
    p->length += static_cast<std::uint32_t>(bytes.size());
    head_ += bytes.size();
}

void FetchCache::finish_put(PendingPut* p, const FetchCacheKey& key) {
    if (p->ok && p->length > 0 && head_ == p->at + p->length) {
        remember(slot_for(key), key, p->at, p->length);
    }
    p->ok = false;
}

}  // namespace tinyimapd::imap
