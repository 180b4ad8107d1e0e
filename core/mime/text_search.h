// Substring search over the decoded text of a stored message: what SEARCH
// BODY, TEXT and the header keys compare against (RFC 3501 §6.4.4: "case-
// insensitive substring" of the header field, body, or both).
//
// TextMatcher is a streaming Knuth-Morris-Pratt matcher: text arrives in
// pieces of any size (it is a ByteSink) and a match straddling two pieces is
// found, with no window kept — only its state, the needle's prepared form
// and a failure table of one 16-bit entry per prepared byte, which the
// caller provides. Comparison is i;unicode-casemap's substring operation
// (RFC 5051 §2, core/mime/unicase.h), as I18NLEVEL=1 requires of SEARCH
// (RFC 5255 §4.2, §4.6): the needle's prepared form is looked for in the
// text's, prepared code point by code point as it streams (a sequence split
// between pieces is held until complete). Bytes that are not well-formed
// UTF-8 (text in a charset that could not be converted) compare as
// themselves, i;octet, as §4.6 (c) says for text that failed conversion;
// unlike RFC 5051 §2 (1)(b) this is decided per sequence, not for the whole
// text, which a stream cannot know in advance.
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

#include "core/mime/charset.h"
#include "core/mime/encoded_word.h"
#include "core/mime/message_reader.h"
#include "core/mime/part.h"
#include "core/mime/transfer_decode.h"
#include "core/mime/unicase.h"

namespace tinyimapd::mime {

// What a TextWalk feeds: decoded text until the sink has what it wants
// (a match, a preview long enough). begin_text() announces each leaf the
// walk is about to feed (TextScope::Preview: text/plain or text/html).
class TextSink : public ByteSink {
public:
    virtual bool satisfied() const = 0;
    virtual void begin_text(bool /*html*/) {}

protected:
    ~TextSink() = default;
};

// Text turned into its prepared form (RFC 5051 §2) byte by byte, as it
// streams: ASCII by its titlecase (the capitals of its letters), a complete
// well-formed sequence by its code point's prepared form
// (unicase_map_code_point), anything else (a stray byte, a sequence cut
// short) as it is. The needle and the text go through the same steps.
class UnicaseStream {
public:
    // Room put() and flush() may need at `out`.
    static constexpr std::size_t kMaxOut = kUnicaseMaxCodePointBytes + 4;
    // What byte `c` completes; returns the bytes written to out.
    std::size_t put(char c, char* out);
    // A sequence left incomplete, as it is (the end of the text).
    std::size_t flush(char* out);
    void reset() { pending_ = need_ = 0; }

private:
    char seq_[4] = {};
    std::uint8_t pending_ = 0, need_ = 0;  // bytes held, bytes still needed
    std::uint32_t cp_ = 0;                 // the code point's bits so far
};

class TextMatcher final : public TextSink {
public:
    // Prepares `needle` (it must outlive the matcher's use) into buf and
    // its failure table into table, each of `cap` entries; false (and no
    // match possible) when the prepared form is longer than cap or than
    // 65535 bytes.
    bool prepare(std::string_view needle, char* buf, std::uint16_t* table, std::size_t cap);
    // Forgets the text seen so far (a new field or message).
    void restart() {
        state_ = 0;
        stream_.reset();
        found_ = prepared_.empty() && ready_;
    }
    void write(const char* data, std::size_t n) override;
    bool found() const { return found_; }
    bool satisfied() const override { return found_; }
    // Points the matcher at a new copy of its buffers (the caller's were
    // reused in between), keeping how far the text matched: a search that
    // goes on later (TextWalk). The same needle as prepare() was given.
    void rebind(char* buf, std::uint16_t* table, std::size_t cap) {
        const std::size_t state = state_;
        const UnicaseStream stream = stream_;
        const bool found = found_;
        prepare(needle_, buf, table, cap);
        state_ = state;
        stream_ = stream;
        found_ = found;
    }

private:
    void match(const char* p, std::size_t n);  // prepared text

    std::string_view needle_;    // as given
    std::string_view prepared_;  // its prepared form, in the caller's buffer
    std::uint16_t* fail_ = nullptr;
    std::size_t state_ = 0;
    UnicaseStream stream_;
    bool found_ = false;
    bool ready_ = false;
};

enum class TextScope : std::uint8_t {
    Body,     // SEARCH BODY: leaf bodies and encapsulated messages' headers
    Text,     // SEARCH TEXT: those and every header, decoded
    Preview,  // FETCH PREVIEW (RFC 8970): text/plain and text/html leaves only
};

inline constexpr std::size_t kMinTextScratch = 8192;

// True when the decoded text of the message (per `scope`) contains the
// matcher's needle. False also when scratch_size < kMinTextScratch.
bool message_text_contains(ByteSource& r, TextScope scope, TextMatcher& m, char* scratch,
                           std::size_t scratch_size);

enum class WalkStep : std::uint8_t { Found, NotFound, More };

// The same search in steps (or, over any TextSink, the same walk: a
// preview), so that one very large message does not hold
// the caller for long: step() reads about `budget` message bytes at most,
// then says More and keeps where it was (the multiparts open, the part
// being decoded) in this object; the scratch (window and decode buffer)
// may be reused by others between steps, and the matcher must be rebound
// to its table if that was reused too (TextMatcher::rebind). Placed by the
// caller: about 4 KiB, most of it the open multiparts' cursors and
// boundaries. The scratch must have kMinWalkScratch bytes.
class TextWalk {
public:
    static constexpr std::size_t kFrames = kMaxMimeDepth + 1;
    static constexpr std::size_t kBoundaryPool = 1024;
    static constexpr std::size_t kDecodeWindow = 1024;
    static constexpr std::size_t kMinWalkScratch = kDecodeWindow + kMinScratch;

    // A new walk over a message of `size` bytes; the matcher is restarted.
    void start(TextScope scope, std::uint64_t size, TextMatcher& m) {
        m.restart();
        start(scope, size);
    }
    // A new walk (the sink is the caller's to reset).
    void start(TextScope scope, std::uint64_t size);
    // Reads about *budget bytes at most, and takes what it read off *budget.
    // Found: the sink is satisfied.
    WalkStep step(ByteSource& r, TextSink& m, char* scratch, std::size_t scratch_size,
                  std::uint64_t* budget);

private:
    struct Frame {
        ChildCursor::State cursor;  // the multipart's ChildCursor, between steps
        std::uint64_t end = 0;      // the multipart's end
        std::size_t depth = 0;
        std::size_t pool_mark = 0;  // pool bytes in use before this frame's boundary
        std::size_t boundary_len = 0;
        bool digest = false;
    };
    enum class Phase : std::uint8_t { Entity, Children, Leaf, LeafEnd, Done };
    // The steps of step(), one per phase; `Window` is the read buffer.
    struct Window {
        char* data;
        std::size_t size;
    };
    void entity_step(ByteSource& r, TextSink& m, const Window& w, std::uint64_t& budget);
    bool children_step(ByteSource& r, const Window& w, std::uint64_t& budget);
    void leaf_step(ByteSource& r, TextSink& m, char* decoded, const Window& w,
                   std::uint64_t& budget);
    void begin_leaf(const HeaderBlock& h, const PartInfo& info, std::uint64_t end, TextSink& m);
    void emit(TextSink& m, const char* p, std::size_t n);

    Frame frames_[kFrames];
    char pool_[kBoundaryPool] = {};
    TextScope scope_ = TextScope::Body;
    Phase phase_ = Phase::Done;
    std::size_t top_ = 0, pool_used_ = 0, depth_ = 0;
    std::uint64_t start_ = 0, end_ = 0;  // the entity still to search (Phase::Entity)
    bool in_digest_ = false;
    bool encapsulated_ = false;  // it is the message inside a message/rfc822 part
    // The leaf being decoded: [pos_, leaf_end_) still to read.
    std::uint64_t pos_ = 0, leaf_end_ = 0;
    TransferDecoder decoder_;
    Charset charset_ = Charset::UsAscii;
};

// Feeds one loaded header (HeaderBlock::fields) field by field, decoded as
// described above, stopping early once the matcher has found its needle.
void feed_header_fields(std::string_view fields, TextSink& m);

}  // namespace tinyimapd::mime
