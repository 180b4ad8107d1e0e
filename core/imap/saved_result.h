// SavedResult: RFC 5182's "search result variable" (SEARCHRES), held as
// ranges of UIDs in a fixed array, and the same shape for the substituted
// "$" of one command (in that command's numbers: UIDs, or message sequence
// numbers for a command without UID).
//
// What it keeps: up to kCapacity ascending, disjoint ranges. Numbers are
// added strictly ascending (a SEARCH visits messages in order, and UIDs
// ascend with sequence numbers); a number adjacent to the last range
// extends it; insert() takes a number in any order (ESORT). add() and
// insert() return false, and the result is marked overflowed, when a
// number would need one range more: RFC 5182 §2.5 lets a server refuse to
// save a result (tagged NO [NOTSAVED], the variable empty), which is what
// the session does then.
//
// Why UIDs: a message expunged later simply stops matching (§2.1: "it is
// automatically removed from the list"), with no renumbering, and "$" means
// the same messages in FETCH and UID FETCH (§2.1's implementation note).
//
// Memory: kCapacity * 8 + 8 bytes; owns nothing else.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/imap/seqset.h"

namespace tinyimapd::imap {

class SavedResult {
public:
    // Ranges kept. A session holds two of these (the variable and the
    // command's "$"): 2 * 520 bytes per connection.
    static constexpr std::size_t kCapacity = 64;

    void clear() {
        count_ = 0;
        overflowed_ = false;
    }

    // Adds `n` above every number held; false (overflowed) if that needs a
    // range beyond kCapacity. Numbers at or below the last one are ignored.
    [[nodiscard]] bool add(std::uint32_t n) { return add_range(n, n); }

    // Adds [lo, hi] (lo <= hi) above every number held, merging with the
    // last range when adjacent or overlapping.
    [[nodiscard]] bool add_range(std::uint32_t lo, std::uint32_t hi) {
        if (overflowed_) return false;
        if (count_ > 0) {
            SeqRange& last = ranges_[count_ - 1];
            if (hi <= last.hi) return true;
            if (lo <= last.hi || lo - last.hi == 1) {
                last.hi = hi;
                return true;
            }
        }
        if (count_ == kCapacity) {
            overflowed_ = true;
            return false;
        }
        ranges_[count_++] = {lo, hi};
        return true;
    }

    // Adds `n` wherever it falls (ESORT's MIN, MAX and PARTIAL come in sort
    // order, RFC 5267 §3), joining the ranges it touches; false
    // (overflowed) if that needs a range beyond kCapacity.
    [[nodiscard]] bool insert(std::uint32_t n) {
        if (overflowed_) return false;
        const std::size_t i = first_ending_at_or_above(n);
        if (i < count_ && ranges_[i].lo <= n) return true;
        // ranges_[i - 1].hi < n < ranges_[i].lo: neither n - 1 nor n + 1 wraps.
        const bool joins_prev = i > 0 && ranges_[i - 1].hi == n - 1;
        const bool joins_next = i < count_ && ranges_[i].lo == n + 1;
        if (joins_prev && joins_next) {
            ranges_[i - 1].hi = ranges_[i].hi;
            for (std::size_t k = i; k + 1 < count_; ++k) ranges_[k] = ranges_[k + 1];
            --count_;
        } else if (joins_prev) {
            ranges_[i - 1].hi = n;
        } else if (joins_next) {
            ranges_[i].lo = n;
        } else if (count_ == kCapacity) {
            overflowed_ = true;
            return false;
        } else {
            for (std::size_t k = count_; k > i; --k) ranges_[k] = ranges_[k - 1];
            ranges_[i] = {n, n};
            ++count_;
        }
        return true;
    }

    // Takes `n` out (RFC 5267 §4.3 REMOVEFROM), splitting its range if it
    // is inside one; false (overflowed) if that needs a range beyond
    // kCapacity. A number not held is no change.
    [[nodiscard]] bool remove(std::uint32_t n) {
        if (overflowed_) return false;
        const std::size_t i = first_ending_at_or_above(n);
        if (i == count_ || ranges_[i].lo > n) return true;
        SeqRange& r = ranges_[i];
        if (r.lo == n && r.hi == n) {
            for (std::size_t k = i; k + 1 < count_; ++k) ranges_[k] = ranges_[k + 1];
            --count_;
        } else if (r.lo == n) {
            r.lo = n + 1;
        } else if (r.hi == n) {
            r.hi = n - 1;
        } else if (count_ == kCapacity) {
            overflowed_ = true;
            return false;
        } else {
            for (std::size_t k = count_; k > i + 1; --k) ranges_[k] = ranges_[k - 1];
            ranges_[i + 1] = {n + 1, r.hi};
            ranges_[i].hi = n - 1;
            ++count_;
        }
        return true;
    }

    // Binary search over the ranges.
    bool contains(std::uint32_t n) const {
        const std::size_t i = first_ending_at_or_above(n);
        return i < count_ && ranges_[i].lo <= n;
    }

    bool empty() const { return count_ == 0; }
    bool overflowed() const { return overflowed_; }
    std::size_t range_count() const { return count_; }
    const SeqRange& range(std::size_t i) const { return ranges_[i]; }
    // A set over these ranges (valid while this object is unchanged).
    SeqSet as_set() const { return SeqSet::of_ranges(ranges_, count_); }

private:
    // The first range whose hi is at least n (count_ if none).
    std::size_t first_ending_at_or_above(std::uint32_t n) const {
        std::size_t lo = 0, hi = count_;
        while (lo < hi) {
            const std::size_t mid = lo + (hi - lo) / 2;
            if (ranges_[mid].hi < n) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    SeqRange ranges_[kCapacity] = {};
    std::uint32_t count_ = 0;
    bool overflowed_ = false;
};

}  // namespace tinyimapd::imap
