#include "core/imap/sort_table.h"

#include <bit>
#include <cstring>

namespace tinyimapd::imap {
namespace {

constexpr std::size_t kHead = 8;  // seq, number
constexpr std::size_t kSlot = 8;
// A string's slot: its first 8 bytes as a big-endian number (zeros past its
// end), then its offset and size: most comparisons end on the number,
// without touching the string.
constexpr std::size_t kTextSlot = 16;
constexpr std::size_t kMaxRecord = kHead + kTextSlot * kSortKeyCount;

std::uint32_t load32(const char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

void store32(char* p, std::uint32_t v) {
    std::memcpy(p, &v, sizeof v);
}

}  // namespace

bool sort_key_is_text(SortKey key) {
    return key != SortKey::Arrival && key != SortKey::Date && key != SortKey::Size;
}

// Strings met lately, to keep one copy of a string met again (a thread's
// replies share their base subject): kInternSlots slots at the top of an
// area of kInternMinArea or more, direct-mapped by a hash of the string.
constexpr std::size_t kInternSlots = 256;
constexpr std::size_t kInternMinArea = 256 * 1024;
// Strings of 8 bytes or less are whole in their slot's number.
constexpr std::size_t kInternMinText = 9;
// Records merged per unit of sort_step's budget (a sift-down does about
// 2 log2(n) comparisons: some 34 for 100 000 records).
constexpr std::uint64_t kMergesPerSift = 16;

namespace {

std::uint32_t text_hash(std::string_view t) {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ t.size();
    std::size_t i = 0;
    for (; i + 8 <= t.size(); i += 8) {
        std::uint64_t w;
        std::memcpy(&w, t.data() + i, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    }
    for (; i < t.size(); ++i) h = (h ^ static_cast<unsigned char>(t[i])) * 0x100000001B3ull;
    return static_cast<std::uint32_t>(h >> 32);
}

}  // namespace

std::size_t SortTable::record_bytes(const SortProgram& program) {
    std::size_t n = kHead;
    for (std::size_t i = 0; i < program.count; ++i)
        n += sort_key_is_text(program.criteria[i].key) ? kTextSlot : kSlot;
    return n;
}

bool SortTable::init(void* area, std::size_t bytes, const SortProgram& program) {
    base_ = static_cast<char*>(area);
    size_ = bytes;
    program_ = program;
    record_ = record_bytes(program);
    std::size_t at = kHead;
    for (std::size_t i = 0; i < program.count; ++i) {
        text_[i] = sort_key_is_text(program.criteria[i].key);
        slot_[i] = static_cast<std::uint8_t>(at);
        at += text_[i] ? kTextSlot : kSlot;
    }
    intern_ = nullptr;
    if (base_ != nullptr && bytes >= kInternMinArea) {
        size_ = (bytes - kInternSlots * sizeof(Intern)) & ~std::size_t{7};
        intern_ = static_cast<Intern*>(static_cast<void*>(base_ + size_));
        for (std::size_t i = 0; i < kInternSlots; ++i) intern_[i] = Intern{};
    }
    records_end_ = 0;
    heap_low_ = size_;
    count_ = 0;
    phase_ = Phase::Build;
    build_ = end_ = 0;
    return base_ != nullptr && record_ <= kMaxRecord;
}

const char* SortTable::blob(std::string_view bytes) {
    if (heap_low_ - records_end_ < bytes.size()) return nullptr;
    heap_low_ -= bytes.size();
    if (!bytes.empty()) std::memcpy(base_ + heap_low_, bytes.data(), bytes.size());
    return base_ + heap_low_;
}

bool SortTable::add(std::uint32_t seq, std::uint32_t number, const SortValue* values) {
    std::size_t text_bytes = 0;
    for (std::size_t k = 0; k < program_.count; ++k) {
        if (text_[k])
            text_bytes +=
                values[k].text.size() < kSortTextMax ? values[k].text.size() : kSortTextMax;
    }
    if (heap_low_ - records_end_ < record_ + text_bytes || count_ == UINT32_MAX) return false;
    char* r = base_ + records_end_;
    store32(r, seq);
    store32(r + 4, number);
    for (std::size_t k = 0; k < program_.count; ++k) {
        char* slot = r + slot_[k];
        if (!text_[k]) {
            std::memcpy(slot, &values[k].number, kSlot);
            continue;
        }
        const std::string_view t = values[k].text.substr(0, kSortTextMax);
        std::uint64_t prefix = 0;
        for (std::size_t i = 0; i < 8; ++i) {
            prefix = (prefix << 8) | (i < t.size() ? static_cast<unsigned char>(t[i]) : 0u);
        }
        const char* at = intern(t);  // fits: checked above
        std::memcpy(slot, &prefix, sizeof prefix);
        store32(slot + 8, static_cast<std::uint32_t>(at - base_));
        store32(slot + 12, static_cast<std::uint32_t>(t.size()));
    }
    records_end_ += record_;
    ++count_;
    return true;
}

// `t` kept in the strings' end, or the copy of it met lately.
const char* SortTable::intern(std::string_view t) {
    if (intern_ == nullptr || t.size() < kInternMinText) return blob(t);
    const std::uint32_t h = text_hash(t);
    Intern& slot = intern_[h % kInternSlots];
    if (slot.size == t.size() && slot.hash == h &&
        std::memcmp(base_ + slot.offset, t.data(), t.size()) == 0) {
        return base_ + slot.offset;
    }
    const char* at = blob(t);
    slot = Intern{h, static_cast<std::uint32_t>(at - base_), static_cast<std::uint32_t>(t.size())};
    return at;
}

std::uint32_t SortTable::seq(std::uint32_t i) const {
    return load32(record(i));
}

std::uint32_t SortTable::number(std::uint32_t i) const {
    return load32(record(i) + 4);
}

std::string_view SortTable::text(std::uint32_t i, std::size_t criterion) const {
    const char* slot = record(i) + slot_[criterion];
    return {base_ + load32(slot + 8), load32(slot + 12)};
}

// Two strings as memcmp and then their sizes would order them, from their
// slots: the 8-byte numbers first. Equal numbers: the shorter string, if
// 8 bytes or less, is the other's start (its padding zeros matched the
// other's bytes), so the sizes decide; else the bytes from the ninth on
// (none to compare when both are the one copy: intern()).
int SortTable::compare_text(const char* a, const char* b) const {
    std::uint64_t pa, pb;
    std::memcpy(&pa, a, sizeof pa);
    std::memcpy(&pb, b, sizeof pb);
    if (pa != pb) return pa < pb ? -1 : 1;
    const std::uint32_t na = load32(a + 12), nb = load32(b + 12);
    const std::uint32_t n = na < nb ? na : nb;
    int c = 0;
    const std::uint32_t oa = load32(a + 8), ob = load32(b + 8);
    if (n > 8 && oa != ob) c = std::memcmp(base_ + oa + 8, base_ + ob + 8, n - 8);
    if (c != 0) return c;
    return na < nb ? -1 : na > nb ? 1 : 0;
}

// RFC 5256: the criteria in order, REVERSE turning one; then the sequence
// number, ascending whatever REVERSE said.
int SortTable::compare(const char* ra, const char* rb) const {
    for (std::size_t k = 0; k < program_.count; ++k) {
        int c = 0;
        if (text_[k]) {
            c = compare_text(ra + slot_[k], rb + slot_[k]);
        } else {
            std::int64_t x, y;
            std::memcpy(&x, ra + slot_[k], kSlot);
            std::memcpy(&y, rb + slot_[k], kSlot);
            c = x < y ? -1 : x > y ? 1 : 0;
        }
        if (c != 0) return program_.criteria[k].reverse ? -c : c;
    }
    const std::uint32_t sa = load32(ra), sb = load32(rb);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
}

// Records are whole 8-byte words: copied a word at a time, inline.
void SortTable::copy(char* to, const char* from) const {
    for (std::size_t i = 0; i < record_; i += 8) std::memcpy(to + i, from + i, 8);
}

// Max-heap over [0, end): the record at `root` goes down to its place,
// the larger children moving up into the hole it leaves.
void SortTable::sift_down(std::uint32_t root, std::uint32_t end) {
    char value[kMaxRecord];
    copy(value, record(root));
    for (;;) {
        const std::uint64_t left = 2 * std::uint64_t{root} + 1;
        if (left >= end) break;
        auto child = static_cast<std::uint32_t>(left);
        if (child + 1 < end && compare(record(child), record(child + 1)) < 0) ++child;
        if (compare(value, record(child)) >= 0) break;
        copy(record(root), record(child));
        root = child;
    }
    copy(record(root), value);
}

// The largest record (the root) to `end`, and the one that was there into
// the heap [0, end), bottom-up (Floyd): down the path of larger children to
// a leaf (one comparison a level), back up to where the record belongs
// (few: it came from the bottom), the path above it moved up one level.
void SortTable::extract(std::uint32_t end) {
    char value[kMaxRecord];
    copy(value, record(end));
    copy(record(end), record(0));
    std::uint32_t j = 0;
    for (;;) {
        const std::uint64_t left = 2 * std::uint64_t{j} + 1;
        if (left >= end) break;
        j = static_cast<std::uint32_t>(left);
        if (j + 1 < end && compare(record(j), record(j + 1)) < 0) ++j;
    }
    while (j > 0 && compare(value, record(j)) > 0) j = (j - 1) / 2;
    // The path from the root to j: j's ancestors, top down.
    const unsigned depth = static_cast<unsigned>(std::bit_width(std::uint64_t{j} + 1)) - 1;
    std::uint32_t up = 0;
    for (unsigned d = 1; d <= depth; ++d) {
        const auto node = static_cast<std::uint32_t>(((std::uint64_t{j} + 1) >> (depth - d)) - 1);
        copy(record(up), record(node));
        up = node;
    }
    copy(record(j), value);
}

bool SortTable::sort_step(std::uint32_t budget) {
    if (phase_ == Phase::Build && build_ == 0 && end_ == 0) {
        build_ = count_ / 2;
        end_ = count_;
        // Room for a copy of the records: merge sort (sequential, fewer
        // cache misses); else the heap sort in place.
        if (count_ > 1 && heap_low_ - records_end_ >= std::size_t{count_} * record_) {
            phase_ = Phase::Merge;
            in_copy_ = false;
            width_ = 1;
            next_pair(0);
        }
    }
    if (phase_ == Phase::Merge) return merge_step(std::uint64_t{budget} * kMergesPerSift);
    while (budget > 0 && phase_ != Phase::Done) {
        --budget;
        if (phase_ == Phase::Build) {
            if (build_ == 0) {
                phase_ = Phase::Extract;
                continue;
            }
            sift_down(--build_, count_);
            continue;
        }
        if (end_ <= 1) {
            phase_ = Phase::Done;
            break;
        }
        --end_;
        extract(end_);
    }
    if (phase_ != Phase::Done && count_ <= 1) phase_ = Phase::Done;
    return phase_ == Phase::Done;
}

// The merge of the runs [lo, lo + width) and [lo + width, lo + 2 width)
// begins.
void SortTable::next_pair(std::uint32_t lo) {
    const std::uint64_t mid = std::uint64_t{lo} + width_;
    const std::uint64_t hi = mid + width_;
    lo_ = lo;
    left_ = lo;
    mid_ = static_cast<std::uint32_t>(mid < count_ ? mid : count_);
    right_ = mid_;
    hi_ = static_cast<std::uint32_t>(hi < count_ ? hi : count_);
}

// Bottom-up merge sort between the records and their copy, `ops` records
// merged at most; the sorted records end where they started.
bool SortTable::merge_step(std::uint64_t ops) {
    char* const copy_area = base_ + records_end_;
    while (ops > 0) {
        if (lo_ >= count_) {
            // A pass is done: the next one merges runs twice as long.
            in_copy_ = !in_copy_;
            if (std::uint64_t{width_} * 2 >= count_) {
                if (in_copy_) std::memcpy(base_, copy_area, std::size_t{count_} * record_);
                phase_ = Phase::Done;
                return true;
            }
            width_ *= 2;
            next_pair(0);
        }
        const char* from = in_copy_ ? copy_area : base_;
        char* out = (in_copy_ ? base_ : copy_area) + std::size_t{left_ + (right_ - mid_)} * record_;
        for (; ops > 0 && (left_ < mid_ || right_ < hi_); --ops, out += record_) {
            const char* l = from + std::size_t{left_} * record_;
            const char* r = from + std::size_t{right_} * record_;
            if (right_ >= hi_ || (left_ < mid_ && compare(l, r) <= 0)) {
                copy(out, l);
                ++left_;
            } else {
                copy(out, r);
                ++right_;
            }
        }
        if (left_ >= mid_ && right_ >= hi_) next_pair(hi_);
    }
    return false;
}

}  // namespace tinyimapd::imap
