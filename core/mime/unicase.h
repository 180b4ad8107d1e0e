// The i;unicode-casemap collation (RFC 5051), without allocation: what
// SORT and THREAD collate strings with (RFC 5256 §7), and what I18NLEVEL=1
// (RFC 5255) makes SEARCH compare with.
//
// RFC 5051 §2 prepares each string into its "titlecased canonicalized
// UTF-8" form, code point by code point: (2)(a) the titlecase property of
// UnicodeData.txt, then (2)(b) the decomposition of any type, recursively
// ("effectively NFKD", compatibility mappings included, no canonical
// reordering); the equality, ordering and substring operations are then
// i;octet's on the prepared forms. Read literally, as here:
//   - (a) is applied once, to the input code point; what (b) yields is not
//     titlecased again ("ﬁ" U+FB01 has no titlecase property and prepares to
//     the small letters "fi", unlike "fi", which prepares to "FI");
//   - (1)(b): a string that is not well-formed UTF-8 (RFC 3629: an overlong
//     form, a surrogate, a code point above U+10FFFF, a truncated or stray
//     sequence) is not prepared at all: the whole string, unchanged, is what
//     is compared (i;octet). This is decided per string, so an invalid string
//     is compared with the prepared form of a valid one;
//   - Hangul syllables, which UnicodeData.txt lists as a range with no
//     decomposition field, are decomposed algorithmically (Unicode §3.12),
//     as NFKD does and as Dovecot does.
// Strings in other charsets are converted to UTF-8 by the caller first.
//
// The per-code-point mappings are a constant table generated from
// UnicodeData.txt by gen_unicase.py (unicase_table.inc, Unicode 15.0).
// Every operation streams: UnicaseReader yields the prepared form in chunks
// from a buffer of kUnicaseChunk bytes inside it, so strings of any length
// are compared with constant memory and no copy of either prepared form.
// unicase_contains() prepares the needle into a caller buffer (with a KMP
// failure table, as text_search.h's TextMatcher) and streams the haystack.
//
// For callers that sort: unicase_compare(a, b) is memcmp order (shorter
// first on a common prefix) of unicase_prepare(a) and unicase_prepare(b)
// (an invalid string's being itself), so sort keys may be prepared once into a
// pool and compared as bytes; a key cut to a fixed length keeps the order
// of its prefix (ties must then be broken on the full strings).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/mime/encoded_word.h"

namespace tinyimapd::mime {

// Room for the prepared form of any one code point (the longest, U+FDFA,
// is 33 bytes) and then some; unicase.cpp checks it against the table.
inline constexpr std::size_t kUnicaseChunk = 64;
inline constexpr std::size_t kUnicaseMaxCodePointBytes = 40;

// Well-formed UTF-8 per RFC 3629 §4 (RFC 5051 §2 (1)(a)).
bool utf8_valid(std::string_view s);

// Writes the UTF-8 form of code point cp (at most U+10FFFF) to out, which has
// room for 4 bytes; returns how many it wrote.
std::size_t encode_utf8(std::uint32_t cp, char* out);

// RFC 5051 §2 step (2) for one code point (<= U+10FFFF, not a surrogate):
// writes its prepared form, UTF-8, to out (kUnicaseMaxCodePointBytes of
// room) and returns the number of bytes written.
std::size_t unicase_map_code_point(std::uint32_t cp, char* out);

// The prepared form of one string, in pieces.
class UnicaseReader {
public:
    explicit UnicaseReader(std::string_view s) : in_(s), valid_(utf8_valid(s)) {}
    // False when the string is compared as it is (RFC 5051 §2 (1)(b)).
    bool valid() const { return valid_; }
    // The next piece of the prepared form (of an invalid string: the string
    // itself, in one piece); empty only at the end. It stays valid until the
    // next call (it may point into this object).
    std::string_view next();

private:
    std::string_view in_;
    std::size_t pos_ = 0;
    bool valid_;
    char buf_[kUnicaseChunk];
};

// Writes the prepared form of `s` to `sink` (`s` itself when invalid);
// returns whether `s` was valid UTF-8.
bool unicase_prepare(std::string_view s, ByteSink& sink);

struct UnicasePrepared {
    std::size_t size = 0;  // bytes of the whole prepared form
    bool valid = false;    // false: the prepared form is the input itself
};

// Writes the first min(size, cap) bytes of the prepared form to out; the
// form is complete when the returned size <= cap.
UnicasePrepared unicase_prepare(std::string_view s, char* out, std::size_t cap);

// RFC 5051 ordering: <0, 0 or >0 as the prepared form of a sorts before,
// equal to or after that of b (i;octet: bytes unsigned, a proper prefix
// first).
int unicase_compare(std::string_view a, std::string_view b);

// RFC 5051 equality.
inline bool unicase_equal(std::string_view a, std::string_view b) {
    return unicase_compare(a, b) == 0;
}

// RFC 5051 substring: whether the prepared needle occurs in the prepared
// haystack (an empty needle occurs in every string). Placed by the caller;
// the needle's prepared form and its failure table live in caller buffers.
class UnicaseMatcher final : public ByteSink {
public:
    // Prepares `needle` into buf[0..cap) and its table into fail[0..cap);
    // false (and nothing found after) when its prepared form is longer than
    // cap or than 65535 bytes.
    bool prepare(std::string_view needle, char* buf, std::uint16_t* fail, std::size_t cap);
    // Whether the prepared needle occurs in the prepared form of `haystack`.
    bool found_in(std::string_view haystack);

    // Streaming use: restart(), then write() the PREPARED haystack in pieces
    // (unicase_prepare(haystack, matcher)); found() after. A text too long
    // to hold is prepared piece by piece, cut at character boundaries, and
    // each piece is then judged valid or not on its own.
    void restart() {
        state_ = 0;
        found_ = ready_ && needle_.empty();
    }
    void write(const char* data, std::size_t n) override;
    bool found() const { return found_; }

private:
    std::string_view needle_;  // prepared, in the caller's buffer
    const std::uint16_t* fail_ = nullptr;
    std::size_t state_ = 0;
    bool found_ = false;
    bool ready_ = false;
};

enum class UnicaseMatch : std::uint8_t { Found, NotFound, NeedleTooLong };

// One-shot substring test with caller buffers of `cap` entries each.
UnicaseMatch unicase_contains(std::string_view haystack, std::string_view needle, char* buf,
                              std::uint16_t* fail, std::size_t cap);

}  // namespace tinyimapd::mime
