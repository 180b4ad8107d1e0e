// UidRanges: numbers gathered into ranges and written as a sequence-set
// ("1:3,7,9:12", RFC 3501 §9), for VANISHED (RFC 7162 §3.2.10), ESEARCH ALL
// and the like.
//
// Numbers come strictly ascending or strictly descending (one direction per
// batch); the set is always written ascending. A batch holds at most
// kCapacity ranges: add() returns false when a number would need one more,
// and the caller writes what it has (write(), clear()) and adds again.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/base/text.h"

namespace tinyimapd::imap {

class UidRanges {
public:
    static constexpr std::size_t kCapacity = 64;

    [[nodiscard]] bool add(std::uint32_t n) {
        if (count_ > 0) {
            Range& last = ranges_[count_ - 1];
            if (n == last.hi + 1) {
                last.hi = n;
                return true;
            }
            if (n + 1 == last.lo) {
                last.lo = n;
                return true;
            }
        }
        if (count_ == kCapacity) return false;
        ranges_[count_++] = {n, n};
        return true;
    }
    bool empty() const { return count_ == 0; }
    void clear() { count_ = 0; }

    void write(TextWriter& w) const {
        const bool descending = count_ > 1 && ranges_[0].lo > ranges_[1].lo;
        for (std::size_t k = 0; k < count_; ++k) {
            const Range& r = ranges_[descending ? count_ - 1 - k : k];
            if (k != 0) w.put(',');
            w.put_uint(r.lo);
            if (r.hi != r.lo) w.put(':').put_uint(r.hi);
        }
    }

private:
    struct Range {
        std::uint32_t lo, hi;
    };
    Range ranges_[kCapacity] = {};
    std::size_t count_ = 0;
};

}  // namespace tinyimapd::imap
