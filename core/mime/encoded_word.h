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
//
// The other way (RFC 6855 §7, RFC 6858: the strings of ENVELOPE and
// BODYSTRUCTURE shown to a session that did not enable UTF-8):
// EncodedWordWriter writes UTF-8 text as "B" encoded words
// "=?UTF-8?B?...?=" (§4.1) separated by one SP, each at most 75
// characters (§2: 10 + 60 + 2 = 72), each holding whole characters only
// (§5: "Each 'encoded-word' MUST represent an integral number of
// characters"); a decoder drops the SP between them (§6.2). The text is
// given in pieces; 45 bytes are held on the writer.
#pragma once

#include <cstddef>
#include <string_view>

namespace tinyimapd {
class TextWriter;
}

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

// True when `s` holds an 8-bit byte and is well-formed UTF-8 (RFC 3629):
// the strings a legacy session is sent as encoded words. Other 8-bit text
// (Latin-1 of old mail) is not UTF-8, so it is not labelled as such.
bool wants_encoded_words(std::string_view s);

class EncodedWordWriter {
public:
    // Input bytes per encoded word: 45 bytes are 60 base64 characters.
    static constexpr std::size_t kWordInput = 45;

    explicit EncodedWordWriter(TextWriter& out) : out_(out) {}
    // Adds UTF-8 text (a character may span two calls).
    void add(std::string_view utf8);
    // Writes what is held; nothing at all when no byte was added.
    void finish();

private:
    void add_byte(char c);
    void flush(std::size_t n);

    TextWriter& out_;
    char held_[kWordInput] = {};
    std::size_t len_ = 0;
    bool wrote_ = false;
};

}  // namespace tinyimapd::mime
