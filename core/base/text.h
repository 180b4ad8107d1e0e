// Bounded text building and small ASCII helpers.
//
// TextWriter appends into a caller-owned fixed buffer and never overflows it:
// once something does not fit, it stops writing and remembers the overflow,
// so callers check ok() once at the end instead of after every append.
//
// For an answer written in pieces over several turns (resume_after(): the
// BODYSTRUCTURE writer, core/imap/bodystructure.h) a writer can instead
// drop the first n bytes put into it and fill its buffer to the last byte
// before it overflows, so that rendering the same text again continues
// exactly where the bytes already sent end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd {

class TextWriter {
public:
    TextWriter(char* buffer, std::size_t capacity) : buf_(buffer), cap_(capacity) {}

    TextWriter& put(std::string_view s);
    TextWriter& put(char c);
    TextWriter& put_uint(std::uint64_t v);
    TextWriter& put_int(std::int64_t v);

    std::string_view view() const { return {buf_, len_}; }
    std::size_t size() const { return len_; }
    bool ok() const { return !overflow_; }
    void clear() {
        len_ = 0;
        overflow_ = false;
    }

    // From now on: the next `n` bytes put are dropped, and a put that does
    // not fit writes what fits, then overflows (see the header paragraph).
    void resume_after(std::size_t n) {
        skip_ = n;
        fill_ = true;
    }
    // Bytes still to drop.
    std::size_t skip_left() const { return skip_; }

private:
    char* buf_;
    std::size_t cap_;
    std::size_t len_ = 0;
    std::size_t skip_ = 0;
    bool overflow_ = false;
    bool fill_ = false;
};

// A TextWriter with its own storage, for log lines and short replies.
template <std::size_t N>
class FixedText : public TextWriter {
public:
    FixedText() : TextWriter(storage_, N) {}
    FixedText(const FixedText&) = delete;
    FixedText& operator=(const FixedText&) = delete;

private:
    char storage_[N];
};

namespace ascii {

constexpr char to_upper(char c) {
    return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}
constexpr char to_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
constexpr bool is_space(char c) {
    return c == ' ' || c == '\t';
}

// ASCII case-insensitive equality (IMAP keywords, RFC 3501 §9 note 3).
bool iequals(std::string_view a, std::string_view b);
// Leading/trailing blanks (space, tab, CR, LF) removed.
std::string_view trim(std::string_view s);
// Prefix/suffix views that never throw (std::string_view::substr can, and
// core is built without exceptions).
constexpr std::string_view head(std::string_view s, std::size_t n) {
    return s.size() < n ? s : std::string_view(s.data(), n);
}
constexpr std::string_view tail(std::string_view s, std::size_t from) {
    return from >= s.size() ? std::string_view()
                            : std::string_view(s.data() + from, s.size() - from);
}
// Parses a whole decimal number without sign; false on junk or overflow.
bool parse_uint(std::string_view s, std::uint64_t* out);

}  // namespace ascii
}  // namespace tinyimapd
