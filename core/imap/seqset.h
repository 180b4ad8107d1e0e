// SeqSet: a validated sequence-set (RFC 3501 §9 "sequence-set"), kept as a
// view of the client's text and walked range by range without storage.
//
// What it does: parse() checks the exact production
//     sequence-set = (seq-number / seq-range) *("," sequence-set)
//     seq-range    = seq-number ":" seq-number      ; either order: 4:2 == 2:4
//     seq-number   = nz-number / "*"                ; nz-number has no leading 0
// (the lexer's atom is wider, so this is where "1:*", "0", "1,,2" are told
// apart) and counts the ranges against a caller-given limit. next() yields
// each range with "*" replaced by the largest number in use and lo <= hi;
// contains() answers membership. The same type serves message sequence
// numbers and UIDs (RFC 3501 §6.4.8): only the caller's `largest` differs.
//
// Owns nothing: the text stays in the caller's buffer (the parser's arena)
// and must outlive the SeqSet. A default-constructed SeqSet is empty (no
// ranges); a parsed one has at least one range.
//
// "*" and `largest` (RFC 3501 §9 seq-number): for message numbers `largest`
// is the number of messages; "*" in an empty mailbox deserves BAD, which the
// caller decides with uses_star() (a SeqSet never refuses a number as too big:
// that, too, depends on the mailbox). For UIDs `largest` is the last UID, or
// UIDNEXT if the mailbox is empty. So "3291:*" with largest 17 is 17:3291,
// which includes the last message (RFC 3501 §9 seq-range example). If a
// caller passes largest 0 anyway, "*" resolves to 0 and lo may be 0.
//
// "$" (RFC 5182 §3 seq-last-command, SEARCHRES): parse() accepts a set that
// is exactly "$" and marks it is_last_command(); such a set has no ranges
// until the session replaces it with the saved search result, held as
// ranges in the session's own buffer (of_ranges(): the same walk over a
// caller's array of ascending ranges instead of text). "$" mixed with
// numbers ("1,$") is refused: RFC 5182's examples combine "$" with other
// numbers through OR, and so does this server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd::imap {

// One range of a set held as numbers (lo <= hi).
struct SeqRange {
    std::uint32_t lo = 0, hi = 0;
};

class SeqSet {
public:
    // Iteration state: a byte offset into text(). Zero-initialised = start.
    struct Cursor {
        std::size_t pos = 0;
    };

    // Validates `text` as a sequence-set of at most `max_ranges` ranges (a
    // single number counts as one range). On success fills *out and returns
    // true; otherwise leaves *out alone, sets *why to a static English text
    // and returns false.
    static bool parse(std::string_view text, std::size_t max_ranges, SeqSet* out, const char** why);

    // The set of `count` ranges of `ranges` (ascending, disjoint, no "*"),
    // which must outlive the SeqSet; count 0 is the empty set.
    static SeqSet of_ranges(const SeqRange* ranges, std::size_t count);

    // The next range in the client's order (not sorted, not coalesced), with
    // "*" resolved to `largest` and *lo <= *hi. False at the end.
    bool next(Cursor& cursor, std::uint32_t largest, std::uint32_t* lo, std::uint32_t* hi) const;

    // True if some range covers `n` ("*" resolved to `largest`). O(ranges).
    bool contains(std::uint32_t n, std::uint32_t largest) const;

    // The client's text ("" for a set made by of_ranges()).
    std::string_view text() const {
        return held_ != 0 ? std::string_view{} : std::string_view{data_, size_};
    }
    std::size_t range_count() const { return range_count_; }
    bool uses_star() const { return star_ != 0; }
    bool empty() const { return range_count_ == 0; }
    // "$": the saved search result, not yet substituted (RFC 5182).
    bool is_last_command() const { return last_ != 0; }

private:
    const char* data_ = nullptr;  // the text, or the SeqRange array (held_)
    std::uint32_t size_ = 0;
    // A set has at most (size_ + 1) / 2 ranges, so 29 bits always suffice
    // (the parser's line limit is far below 2^29 bytes).
    std::uint32_t range_count_ : 29 = 0;
    std::uint32_t star_ : 1 = 0;
    std::uint32_t last_ : 1 = 0;
    std::uint32_t held_ : 1 = 0;
    const SeqRange* held_ranges() const {
        return static_cast<const SeqRange*>(static_cast<const void*>(data_));
    }
};

}  // namespace tinyimapd::imap
