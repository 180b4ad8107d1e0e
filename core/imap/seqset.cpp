#include "core/imap/seqset.h"

#include "core/base/text.h"

namespace tinyimapd::imap {
namespace {

// The longest set text a SeqSet can describe (its length is kept in 32 bits;
// the parser's line limit is far below this anyway).
constexpr std::size_t kMaxSeqSetText = 0x1fffffffu;
constexpr std::uint32_t kMaxNzNumber = 0xffffffffu;  // RFC 3501 §9 nz-number: 32 bits

// Sentinel for "*" while scanning; real numbers are 1..kMaxNzNumber.
constexpr std::uint64_t kStar = 0;

// Reads one seq-number at text[*pos]. Returns nullptr on success (and the
// value, kStar for "*"), or the reason it is not a seq-number.
const char* scan_seq_number(std::string_view text, std::size_t* pos, std::uint64_t* value) {
    std::size_t p = *pos;
    if (p < text.size() && text[p] == '*') {
        *pos = p + 1;
        *value = kStar;
        return nullptr;
    }
    if (p < text.size() && text[p] == '$') return "Invalid sequence set: $ must stand alone";
    if (p >= text.size() || !ascii::is_digit(text[p])) {
        return "Invalid sequence set: a number or * was expected";
    }
    if (text[p] == '0') {
        // nz-number = digit-nz *DIGIT: neither 0 nor a leading zero.
        if (p + 1 < text.size() && ascii::is_digit(text[p + 1])) {
            return "Invalid sequence set: number with a leading zero";
        }
        return "Invalid sequence set: 0 is not a message number";
    }
    std::uint64_t v = 0;
    while (p < text.size() && ascii::is_digit(text[p])) {
        v = v * 10 + static_cast<std::uint64_t>(text[p] - '0');
        if (v > kMaxNzNumber) return "Invalid sequence set: number too large";
        ++p;
    }
    *pos = p;
    *value = v;
    return nullptr;
}

std::uint32_t resolve(std::uint64_t v, std::uint32_t largest) {
    return v == kStar ? largest : static_cast<std::uint32_t>(v);
}

}  // namespace

bool SeqSet::parse(std::string_view text, std::size_t max_ranges, SeqSet* out, const char** why) {
    if (text.empty()) {
        *why = "Invalid sequence set: empty";
        return false;
    }
    if (text.size() > kMaxSeqSetText) {
        *why = "Sequence set too long";
        return false;
    }
    if (text == "$") {
        // RFC 5182 §3: sequence-set =/ seq-last-command.
        *out = SeqSet{};
        out->data_ = text.data();
        out->size_ = 1;
        out->last_ = 1;
        return true;
    }
    std::size_t pos = 0;
    std::size_t ranges = 0;
    bool star = false;
    for (;;) {
        std::uint64_t a = 0;
        if (const char* e = scan_seq_number(text, &pos, &a)) {
            *why = e;
            return false;
        }
        star = star || a == kStar;
        if (pos < text.size() && text[pos] == ':') {
            ++pos;
            std::uint64_t b = 0;
            if (const char* e = scan_seq_number(text, &pos, &b)) {
                *why = e;
                return false;
            }
            star = star || b == kStar;
        }
        if (++ranges > max_ranges) {
            *why = "Too many ranges in sequence set";
            return false;
        }
        if (pos == text.size()) break;
        if (text[pos] != ',') {
            *why = "Invalid sequence set: unexpected character";
            return false;
        }
        ++pos;
    }
    out->data_ = text.data();
    out->size_ = static_cast<std::uint32_t>(text.size());
    out->range_count_ = static_cast<std::uint32_t>(ranges);
    out->star_ = star ? 1 : 0;
    return true;
}

SeqSet SeqSet::of_ranges(const SeqRange* ranges, std::size_t count) {
    SeqSet s;
    s.data_ = static_cast<const char*>(static_cast<const void*>(ranges));
    s.size_ = static_cast<std::uint32_t>(count);
    s.range_count_ = static_cast<std::uint32_t>(count);
    s.held_ = 1;
    return s;
}

bool SeqSet::next(Cursor& cursor, std::uint32_t largest, std::uint32_t* lo,
                  std::uint32_t* hi) const {
    if (held_ != 0) {
        if (cursor.pos >= size_) return false;
        *lo = held_ranges()[cursor.pos].lo;
        *hi = held_ranges()[cursor.pos].hi;
        ++cursor.pos;
        return true;
    }
    const std::string_view t = text();
    if (cursor.pos >= t.size()) return false;
    // The text was validated by parse(), so the scans cannot fail here.
    std::size_t pos = cursor.pos;
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    if (scan_seq_number(t, &pos, &a) != nullptr) return false;
    b = a;
    if (pos < t.size() && t[pos] == ':') {
        ++pos;
        if (scan_seq_number(t, &pos, &b) != nullptr) return false;
    }
    if (pos < t.size()) ++pos;  // the ','
    cursor.pos = pos;
    const std::uint32_t x = resolve(a, largest);
    const std::uint32_t y = resolve(b, largest);
    *lo = x < y ? x : y;
    *hi = x < y ? y : x;
    return true;
}

bool SeqSet::contains(std::uint32_t n, std::uint32_t largest) const {
    Cursor c;
    std::uint32_t lo = 0;
    std::uint32_t hi = 0;
    while (next(c, largest, &lo, &hi)) {
        if (n >= lo && n <= hi) return true;
    }
    return false;
}

}  // namespace tinyimapd::imap
