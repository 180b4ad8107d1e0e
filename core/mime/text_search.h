// Substring search over the decoded text of a stored message: what SEARCH
// BODY, TEXT and the header keys compare against (RFC 3501 §6.4.4: "case-
// insensitive substring" of the header field, body, or both).
//
// TextMatcher is a streaming Knuth-Morris-Pratt matcher: text arrives in
// pieces of any size (it is a ByteSink) and a match straddling two pieces is
// found, with no window kept — only its state and a failure table of one
// 16-bit entry per needle byte, which the caller provides. Comparison is
// UTF-8 needle against UTF-8 text, byte by byte, folding ASCII letters and
// the Latin-1 Supplement capitals (À..Þ, not ×) to small letters; other
// characters compare exactly (RFC 3501 §6.4.4 leaves case-insensitivity
// beyond ASCII to the server).
//
// message_text_contains() walks the MIME structure with part.h's rules (the
// ones BODYSTRUCTURE shows) and feeds the matcher:
//   - the header of every encapsulated message (a message/rfc822 part's
//     body is text of the outer message's body), decoded as below;
//   - every leaf part's body, decoded by its Content-Transfer-Encoding
//     (transfer_decode.h; an unknown encoding is searched as stored) and,
//     for text/* parts in ISO-8859-1, ISO-8859-15 or Windows-1252, converted
//     to UTF-8 (charset.h); the preamble and epilogue of multiparts are not
//     text of any part and are skipped;
//   - TextScope::Text also feeds each header it meets (the message's, the
//     MIME headers of its parts, those of encapsulated messages) field by
//     field as "Name: value\n", the value unfolded and RFC 2047-decoded
//     (encoded_word.h). A header longer than the window is searched as far
//     as it fits (header.h).
// It stops at the first match. The scratch buffer holds the walk's stack of
// multipart cursors (kMaxMimeDepth + 1 frames), their boundaries, a read
// window and a decode window; it must have kMinTextScratch bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/mime/encoded_word.h"
#include "core/mime/message_reader.h"

namespace tinyimapd::mime {

class TextMatcher final : public ByteSink {
public:
    // `table` has room for `table_size` entries; false (and no match
    // possible) when the needle is longer than that or than 65535 bytes.
    bool prepare(std::string_view needle, std::uint16_t* table, std::size_t table_size);
    // Forgets the text seen so far (a new field or message).
    void restart() {
        state_ = 0;
        prev_ = 0;
        found_ = needle_.empty() && ready_;
    }
    void write(const char* data, std::size_t n) override;
    bool found() const { return found_; }

private:
    char folded(std::size_t i) const;  // needle byte i, folded

    std::string_view needle_;
    std::uint16_t* fail_ = nullptr;
    std::size_t state_ = 0;
    char prev_ = 0;  // the last byte of text seen (folding context)
    bool found_ = false;
    bool ready_ = false;
};

enum class TextScope : std::uint8_t {
    Body,  // SEARCH BODY: leaf bodies and encapsulated messages' headers
    Text,  // SEARCH TEXT: those and every header, decoded
};

inline constexpr std::size_t kMinTextScratch = 8192;

// True when the decoded text of the message (per `scope`) contains the
// matcher's needle. False also when scratch_size < kMinTextScratch.
bool message_text_contains(MessageReader& r, TextScope scope, TextMatcher& m, char* scratch,
                           std::size_t scratch_size);

// Feeds one loaded header (HeaderBlock::fields) field by field, decoded as
// described above, stopping early once the matcher has found its needle.
void feed_header_fields(std::string_view fields, TextMatcher& m);

}  // namespace tinyimapd::mime
