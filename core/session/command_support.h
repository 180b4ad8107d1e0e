// What the session's command files share and nobody else needs: the room
// one short FETCH item needs, and the ascending walk over a sequence set that
// FETCH and STORE use and the text of the numbers STORE reports (RFC 7162
// §3.1.3 MODIFIED). Internal to core/session.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/base/text.h"
#include "core/imap/seqset.h"
#include "core/session/session.h"
#include "core/session/protocol_names.h"

namespace tinyimapd::session {

inline constexpr std::size_t kItemReserve = 512;  // room needed to write one short item

// FETCH answers this item (cmd_fetch.cpp); NOTIFY's MessageNew uses it too.
bool fetch_served(const FetchItem& item);

// Numbers added in ascending order, written as a sequence-set ("2:4,7")
// into a bounded text; add() is false once it would not fit.
// The run being extended lives in `run`, so a job can go on with it later.
class AscendingSet {
public:
    AscendingSet(TextWriter& out, AscendingRun& run) : out_(out), run_(run) {}
    [[nodiscard]] bool add(std::uint32_t n) {
        if (run_.any && n == run_.hi + 1) {
            run_.hi = n;
            return true;
        }
        if (run_.any && n <= run_.hi) return true;  // already in
        if (!finish()) return false;
        run_.lo = run_.hi = n;
        run_.any = true;
        return true;
    }
    // Writes the pending run; false if the text is full.
    bool finish() {
        if (!run_.any) return true;
        if (out_.size() > 0) out_.put(',');
        out_.put_uint(run_.lo);
        if (run_.hi != run_.lo) out_.put(':').put_uint(run_.hi);
        run_.any = false;
        return out_.ok();
    }

private:
    TextWriter& out_;
    AscendingRun& run_;
};

// The smallest member of `set` at or above `n` ("*" is `largest`), or 0:
// O(ranges), so walking a set in ascending order never visits the numbers
// between its ranges.
inline std::uint32_t lowest_member_from(const SeqSet& set, std::uint32_t n, std::uint32_t largest) {
    SeqSet::Cursor c;
    std::uint32_t lo = 0, hi = 0, best = 0;
    while (set.next(c, largest, &lo, &hi)) {
        if (hi < n) continue;
        const std::uint32_t candidate = lo > n ? lo : n;
        if (best == 0 || candidate < best) best = candidate;
    }
    return best;
}

}  // namespace tinyimapd::session
