// SortTable: the matched messages of a SORT with their sort keys, ordered in
// bounded steps inside a caller's fixed work area (RFC 5256 §BASE.6.4.SORT).
//
// What it holds: one fixed-size record per message, from the start of the
// area: the sequence number, the number the answer shows (sequence number
// or UID) and one slot per criterion of the SortProgram: 8 bytes, a number
// (ARRIVAL and DATE: UTC seconds; SIZE: octets), or 16 bytes, a string's
// first 8 bytes (as a big-endian number: most comparisons end there) and a
// reference to the whole string kept in the area's other end (CC FROM TO
// SUBJECT DISPLAYFROM DISPLAYTO: the i;unicode-casemap prepared form,
// unicase.h, so that strings compare as bytes). Records grow up, strings grow down; add() says when they would
// meet, and the command answers NO [LIMIT]. Strings longer than
// kSortTextMax are kept cut: such keys compare on their first kSortTextMax
// prepared bytes (a tie past that point falls through to the next criterion
// and the sequence number).
//
// Order (RFC 5256): ascending, criteria in the order given, REVERSE turning
// one criterion only; the empty string first; ties broken by the sequence
// number ("an implicit sort criterion of sequence number"), which REVERSE
// never turns. The order is total, so any sort gives the one answer: a
// bottom-up merge sort when the free space between records and strings can
// hold a copy of the records (sequential: fewer cache misses), else an
// in-place heap sort. sort_step() does at most `budget` sift-downs per call
// (each O(log n) comparisons), so a 100 000-message sort runs over many
// turns of the loop.
//
// Owns nothing; no allocation. The area must stay put while the table is
// used. blob() stores other bytes in the strings' end (THREAD's
// references), under the same limit. An area of 256 KiB or more keeps 3 KiB
// at its top for a small table of the strings added lately: a string equal
// to one of them is kept once (a thread's replies share their base
// subject), and two records pointing at one copy compare without reading
// it. That only saves room and time: the order is the same.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/imap/sort_spec.h"

namespace tinyimapd::imap {

inline constexpr std::size_t kSortTextMax = 256;

// One criterion's value for add(): `number` for ARRIVAL DATE SIZE, `text`
// (already prepared, at most kSortTextMax bytes kept) for the others.
struct SortValue {
    std::int64_t number = 0;
    std::string_view text;
};

// Whether a key compares strings.
bool sort_key_is_text(SortKey key);

class SortTable {
public:
    // Bytes of one record for `program`.
    static std::size_t record_bytes(const SortProgram& program);

    // False if the area cannot hold even the bookkeeping.
    bool init(void* area, std::size_t bytes, const SortProgram& program);

    // Adds a message with program.count values; false (nothing added) when
    // the area is full.
    [[nodiscard]] bool add(std::uint32_t seq, std::uint32_t number, const SortValue* values);
    // Copies `bytes` into the strings' end; nullptr when the area is full.
    const char* blob(std::string_view bytes);

    std::uint32_t size() const { return count_; }
    // One step of the sort: at most `budget` sift-downs; true once sorted.
    bool sort_step(std::uint32_t budget);
    bool sorted() const { return phase_ == Phase::Done; }

    // The i-th record (in order once sorted).
    std::uint32_t seq(std::uint32_t i) const;
    std::uint32_t number(std::uint32_t i) const;
    std::string_view text(std::uint32_t i, std::size_t criterion) const;

    // Records and strings in use, and what is left between them.
    std::size_t used() const { return records_end_ + (size_ - heap_low_); }
    // The free bytes between the records and the strings, and the first of
    // them (THREAD builds its tree there once the records are no longer
    // needed: from records_begin() instead).
    char* records_begin() const { return base_; }
    std::size_t heap_low() const { return heap_low_; }

private:
    enum class Phase : std::uint8_t { Build, Extract, Merge, Done };
    char* record(std::uint32_t i) const { return base_ + std::size_t{i} * record_; }
    int compare(const char* ra, const char* rb) const;
    int compare_text(const char* a, const char* b) const;
    void copy(char* to, const char* from) const;
    void sift_down(std::uint32_t root, std::uint32_t end);
    void extract(std::uint32_t end);
    void next_pair(std::uint32_t lo);
    bool merge_step(std::uint64_t ops);
    const char* intern(std::string_view t);

    struct Intern {
        std::uint32_t hash = 0, offset = 0, size = 0;
    };

    char* base_ = nullptr;
    std::size_t size_ = 0;
    std::size_t record_ = 0;
    std::size_t records_end_ = 0;
    std::size_t heap_low_ = 0;  // strings live in [heap_low_, size_)
    std::uint32_t count_ = 0;
    SortProgram program_;
    bool text_[kSortKeyCount] = {};
    std::uint8_t slot_[kSortKeyCount] = {};  // each criterion's offset in a record
    Intern* intern_ = nullptr;  // strings met lately (an area's top), or none
    Phase phase_ = Phase::Build;
    std::uint32_t build_ = 0, end_ = 0;
    // Merge: runs of width_ records merged pairwise from the records into
    // their copy (right after them), or back when in_copy_; the pair
    // [lo_, mid_) [mid_, hi_), next records left_ and right_.
    bool in_copy_ = false;
    std::uint32_t width_ = 0, lo_ = 0, mid_ = 0, hi_ = 0, left_ = 0, right_ = 0;
};

}  // namespace tinyimapd::imap
