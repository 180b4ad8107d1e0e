// RFC 2047 encoded words in header text ("=?charset?B|Q?text?="), decoded
// to UTF-8 without allocation: SEARCH FROM/TO/CC/BCC/SUBJECT/HEADER/TEXT
// compare against the decoded form.
//
// decode_header_text() takes one unfolded header value (header.h) and
// writes it with every well-formed encoded word replaced by its text:
//   - §4.1 "B" (base64) and §4.2 "Q" ("_" is a space, "=XX" a byte; a bad
//     escape is kept as written), either case;
//   - the charset converted by charset.h (UTF-8, US-ASCII, ISO-8859-1,
//     ISO-8859-15, Windows-1252); an unknown charset's bytes are written
//     as decoded, unconverted; an RFC 2231 §5 language suffix
//     ("utf-8*en") is ignored;
//   - §6.2: blanks between two adjacent encoded words are dropped, so a
//     word split over several encoded words (even in the middle of a UTF-8
//     sequence) comes out whole; other blanks and text are kept as written;
//   - leniency as in common readers: an encoded word is recognised even
//     when text touches it ("Re:=?utf-8?q?x?="), and its encoded text is
//     not held to the 75-character limit of §2. Anything that is not a
//     well-formed encoded word (no closing "?=", an unknown encoding letter,
//     blanks inside) is ordinary text.
// Output goes to a ByteSink in pieces (the decoder keeps a small buffer on
// the stack), so any value length works with constant memory; the
// buffer form writes at most `cap` bytes and never cuts a character of a
// converted charset in half.
#pragma once

#include <cstddef>
#include <string_view>

namespace tinyimapd::mime {

class ByteSink {
public:
    virtual void write(const char* data, std::size_t n) = 0;

protected:
    ~ByteSink() = default;
};

// Writes the decoded form of `value` to `sink`.
void decode_header_text(std::string_view value, ByteSink& sink);

// Decodes into out[0..cap); returns the bytes written (the decoded text,
// cut at `cap` if longer).
std::size_t decode_header_text(std::string_view value, char* out, std::size_t cap);

}  // namespace tinyimapd::mime
