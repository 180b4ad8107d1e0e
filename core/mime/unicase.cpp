#include "core/mime/unicase.h"

#include <cstring>

namespace tinyimapd::mime {

namespace {

#include "core/mime/unicase_table.inc"

static_assert(kMaxMappedBytes <= kUnicaseMaxCodePointBytes,
              "table outgrew the per-code-point room");
static_assert(kUnicaseMaxCodePointBytes <= kUnicaseChunk, "a chunk must hold any code point");
static_assert(sizeof(kBlock) / sizeof(kBlock[0]) == kBlocks + 1, "one start per block, plus one");
static_assert(sizeof(kRangeAt) / sizeof(kRangeAt[0]) == kBlocks, "one range start per block");
constexpr std::size_t kEntries = sizeof(kEntry) / sizeof(kEntry[0]);
static_assert(sizeof(kPoolAt) / sizeof(kPoolAt[0]) == (kEntries + kPoolStep - 1) / kPoolStep,
              "one pool start per kPoolStep entries");

// Unicode §3.12, Hangul syllable decomposition.
constexpr std::uint32_t kHangulS = 0xAC00, kHangulL = 0x1100, kHangulV = 0x1161, kHangulT = 0x11A7;
constexpr std::uint32_t kHangulVCount = 21, kHangulTCount = 28,
                        kHangulNCount = kHangulVCount * kHangulTCount, kHangulCount = 11172;

constexpr unsigned kRangeFirstShift = 35, kRangeCountShift = 23, kRangeStrideShift = 22;
constexpr std::uint64_t kRangeCountMask = 0xFFF, kRangeDeltaMask = (1u << 22) - 1;
constexpr std::int64_t kRangeDeltaBias = 1 << 21;

bool continuation(unsigned char c, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return c >= lo && c <= hi;
}

// Decodes one well-formed UTF-8 sequence (RFC 3629 §4's table: the second
// byte's narrower bounds after E0, ED, F0 and F4 exclude overlong forms,
// surrogates and code points above U+10FFFF); 0 when p does not start one.
std::size_t decode_utf8(const unsigned char* p, std::size_t avail, std::uint32_t* cp) {
    const unsigned char c0 = p[0];
    if (c0 < 0x80) {
        *cp = c0;
        return 1;
    }
    if (c0 < 0xC2) return 0;
    if (c0 < 0xE0) {
        if (avail < 2 || !continuation(p[1])) return 0;
        *cp = (std::uint32_t{c0} & 0x1F) << 6 | (p[1] & 0x3F);
        return 2;
    }
    if (c0 < 0xF0) {
        const unsigned char lo = c0 == 0xE0 ? 0xA0 : 0x80, hi = c0 == 0xED ? 0x9F : 0xBF;
        if (avail < 3 || !continuation(p[1], lo, hi) || !continuation(p[2])) return 0;
        *cp = (std::uint32_t{c0} & 0x0F) << 12 | (std::uint32_t{p[1]} & 0x3F) << 6 | (p[2] & 0x3F);
        return 3;
    }
    if (c0 < 0xF5) {
        const unsigned char lo = c0 == 0xF0 ? 0x90 : 0x80, hi = c0 == 0xF4 ? 0x8F : 0xBF;
        if (avail < 4 || !continuation(p[1], lo, hi) || !continuation(p[2]) ||
            !continuation(p[3])) {
            return 0;
        }
        *cp = (std::uint32_t{c0} & 0x07) << 18 | (std::uint32_t{p[1]} & 0x3F) << 12 |
              (std::uint32_t{p[2]} & 0x3F) << 6 | (p[3] & 0x3F);
        return 4;
    }
    return 0;
}

// The entry of `cp` (in a block < kBlocks) in kEntry, or -1.
long find_entry(std::uint32_t cp) {
    const std::uint32_t block = cp >> 8;  // < kBlocks
    std::size_t lo = kBlock[block], hi = kBlock[block + 1];
    const std::uint8_t low = static_cast<std::uint8_t>(cp & 0xFF);
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if ((kEntry[mid] & 0xFF) < low) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo < kBlock[block + 1] && (kEntry[lo] & 0xFF) == low) return static_cast<long>(lo);
    return -1;
}

// The single code point `cp` maps to through kRanges, or cp itself.
// Spans never overlap, so the only candidate is the first range ending at
// or after cp; kRangeAt skips to the ranges of cp's block.
std::uint32_t map_by_range(std::uint32_t cp) {
    constexpr std::size_t n = sizeof(kRanges) / sizeof(kRanges[0]);
    std::size_t i = kRangeAt[cp >> 8];
    for (; i < n; ++i) {
        const std::uint64_t r = kRanges[i];
        const auto first = static_cast<std::uint32_t>(r >> kRangeFirstShift);
        if (first > cp) return cp;
        const auto count = static_cast<std::uint32_t>((r >> kRangeCountShift) & kRangeCountMask);
        const bool stride_two = ((r >> kRangeStrideShift) & 1) != 0;  // stride 2
        const std::uint32_t offset = cp - first;
        if (offset > (count - 1) << (stride_two ? 1 : 0)) continue;  // the span ends before cp
        if (stride_two && (offset & 1) != 0) return cp;
        const std::int64_t delta = static_cast<std::int64_t>(r & kRangeDeltaMask) - kRangeDeltaBias;
        return static_cast<std::uint32_t>(static_cast<std::int64_t>(cp) + delta);
    }
    return cp;
}

std::size_t decompose_hangul(std::uint32_t s, char* out) {
    const std::uint32_t t = s % kHangulTCount;
    std::size_t n = encode_utf8(kHangulL + s / kHangulNCount, out);
    n += encode_utf8(kHangulV + (s % kHangulNCount) / kHangulTCount, out + n);
    if (t != 0) n += encode_utf8(kHangulT + t, out + n);
    return n;
}

constexpr std::uint64_t kHighBits = 0x8080808080808080ull;
constexpr std::uint64_t kEachByte = 0x0101010101010101ull;

// Eight ASCII bytes at once, small letters made capitals (each byte below
// 0x80, so adding up to 0x7F per byte never carries into the next byte);
// false, nothing written, when a byte is not ASCII.
bool upcase_ascii8(const unsigned char* in, char* out) {
    std::uint64_t w;
    std::memcpy(&w, in, 8);
    if ((w & kHighBits) != 0) return false;
    const std::uint64_t from_a = w + kEachByte * (0x80 - 'a');      // high bit: >= 'a'
    const std::uint64_t past_z = w + kEachByte * (0x80 - 'z' - 1);  // high bit: > 'z'
    const std::uint64_t small = from_a & ~past_z & kHighBits;
    w -= small >> 2;  // 0x80 >> 2 is 'a' - 'A'
    std::memcpy(out, &w, 8);
    return true;
}

}  // namespace

std::size_t encode_utf8(std::uint32_t cp, char* out) {
    if (cp < 0x80) {
        out[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        out[0] = static_cast<char>(0xC0 | (cp >> 6));
        out[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = static_cast<char>(0xE0 | (cp >> 12));
        out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out[2] = static_cast<char>(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = static_cast<char>(0xF0 | (cp >> 18));
    out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
}

bool utf8_valid(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const unsigned char* const end = p + s.size();
    while (p < end) {
        std::uint64_t word;
        if (end - p >= 8 && (std::memcpy(&word, p, 8), (word & kHighBits) == 0)) {
            p += 8;
            continue;
        }
        std::uint32_t cp;
        const std::size_t n = decode_utf8(p, static_cast<std::size_t>(end - p), &cp);
        if (n == 0) return false;
        p += n;
    }
    return true;
}

std::size_t unicase_map_code_point(std::uint32_t cp, char* out) {
    if (cp - kHangulS < kHangulCount) return decompose_hangul(cp - kHangulS, out);
    if ((cp >> 8) >= kBlocks) return encode_utf8(cp, out);
    const long e = find_entry(cp);
    if (e >= 0) {
        const auto i = static_cast<std::size_t>(e);
        std::size_t start = kPoolAt[i / kPoolStep];
        for (std::size_t j = i - i % kPoolStep; j < i; ++j) start += kEntry[j] >> 8;
        const std::size_t len = kEntry[i] >> 8;
        std::memcpy(out, kPool + start, len);
        return len;
    }
    return encode_utf8(map_by_range(cp), out);
}

std::string_view UnicaseReader::next() {
    if (!valid_) {
        const std::string_view rest(in_.data() + pos_, in_.size() - pos_);
        pos_ = in_.size();
        return rest;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(in_.data());
    std::size_t n = 0;
    while (pos_ < in_.size()) {
        if (kUnicaseChunk - n >= 8 && in_.size() - pos_ >= 8 && upcase_ascii8(p + pos_, buf_ + n)) {
            n += 8;
            pos_ += 8;
            continue;
        }
        const unsigned char c = p[pos_];
        if (c < 0x80) {
            // ASCII: only the small letters have a mapping (to the capitals).
            if (n == kUnicaseChunk) break;
            buf_[n++] = static_cast<char>(c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c);
            ++pos_;
            continue;
        }
        if (kUnicaseChunk - n < kUnicaseMaxCodePointBytes) break;
        std::uint32_t cp = 0;
        pos_ += decode_utf8(p + pos_, in_.size() - pos_, &cp);  // valid_: never 0
        n += unicase_map_code_point(cp, buf_ + n);
    }
    return std::string_view(buf_, n);
}

bool unicase_prepare(std::string_view s, ByteSink& sink) {
    UnicaseReader r(s);
    for (std::string_view piece = r.next(); !piece.empty(); piece = r.next()) {
        sink.write(piece.data(), piece.size());
    }
    return r.valid();
}

UnicasePrepared unicase_prepare(std::string_view s, char* out, std::size_t cap) {
    UnicaseReader r(s);
    UnicasePrepared result;
    result.valid = r.valid();
    for (std::string_view piece = r.next(); !piece.empty(); piece = r.next()) {
        if (result.size < cap) {
            const std::size_t room = cap - result.size;
            std::memcpy(out + result.size, piece.data(), piece.size() < room ? piece.size() : room);
        }
        result.size += piece.size();
    }
    return result;
}

int unicase_compare(std::string_view a, std::string_view b) {
    if (a == b) return 0;  // same bytes, same validity, same prepared form
    UnicaseReader ra(a), rb(b);
    std::string_view pa = ra.next(), pb = rb.next();
    while (!pa.empty() && !pb.empty()) {
        const std::size_t n = pa.size() < pb.size() ? pa.size() : pb.size();
        const int c = std::memcmp(pa.data(), pb.data(), n);
        if (c != 0) return c < 0 ? -1 : 1;
        pa.remove_prefix(n);
        pb.remove_prefix(n);
        if (pa.empty()) pa = ra.next();
        if (pb.empty()) pb = rb.next();
    }
    if (pa.empty() && pb.empty()) return 0;
    return pa.empty() ? -1 : 1;
}

bool UnicaseMatcher::prepare(std::string_view needle, char* buf, std::uint16_t* fail,
                             std::size_t cap) {
    constexpr std::size_t kMaxNeedle = 65535;  // the table's entries are 16-bit
    ready_ = false;
    found_ = false;
    state_ = 0;
    const UnicasePrepared p = unicase_prepare(needle, buf, cap);
    if (p.size > cap || p.size > kMaxNeedle) return false;
    needle_ = std::string_view(buf, p.size);
    // fail[i]: the longest proper border of needle_[0..i] (Knuth-Morris-Pratt).
    std::size_t k = 0;
    for (std::size_t i = 1; i < p.size; ++i) {
        while (k > 0 && buf[i] != buf[k]) k = fail[k - 1];
        if (buf[i] == buf[k]) ++k;
        fail[i] = static_cast<std::uint16_t>(k);
    }
    if (p.size != 0) fail[0] = 0;
    fail_ = fail;
    ready_ = true;
    restart();
    return true;
}

void UnicaseMatcher::write(const char* data, std::size_t n) {
    if (found_ || !ready_) return;
    const std::size_t len = needle_.size();
    std::size_t state = state_;
    for (std::size_t i = 0; i < n; ++i) {
        while (state > 0 && needle_[state] != data[i]) state = fail_[state - 1];
        if (needle_[state] == data[i]) ++state;
        if (state == len) {
            found_ = true;
            return;
        }
    }
    state_ = state;
}

bool UnicaseMatcher::found_in(std::string_view haystack) {
    restart();
    if (found_ || !ready_) return found_;
    UnicaseReader r(haystack);
    for (std::string_view piece = r.next(); !piece.empty() && !found_; piece = r.next()) {
        write(piece.data(), piece.size());
    }
    return found_;
}

UnicaseMatch unicase_contains(std::string_view haystack, std::string_view needle, char* buf,
                              std::uint16_t* fail, std::size_t cap) {
    UnicaseMatcher m;
    if (!m.prepare(needle, buf, fail, cap)) return UnicaseMatch::NeedleTooLong;
    return m.found_in(haystack) ? UnicaseMatch::Found : UnicaseMatch::NotFound;
}

}  // namespace tinyimapd::mime
