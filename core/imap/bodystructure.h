// BODYSTRUCTURE and BODY (RFC 3501 §6.4.5, §7.4.2; §9 "body",
// "body-type-1part", "body-type-mpart", "body-ext-1part", "body-ext-mpart")
// of a stored message, walked through a bounded scratch buffer.
//
// Structure rules are those of core/mime/part.h (leaf / multipart / message/rfc822,
// defaults, depth limit, broken boundaries). Per part:
//   - type and subtype, parameter names and values, encoding, id,
//     description, MD5, disposition, language and location are written as
//     given in the message (case kept, like Dovecot); only defaults are
//     ours, upper case as in RFC 3501's examples: "TEXT" "PLAIN"
//     ("CHARSET" "US-ASCII") without a valid Content-Type, encoding "7BIT"
//     without Content-Transfer-Encoding, and a text/* part without a
//     charset parameter gets ("CHARSET" "US-ASCII") appended (RFC 2045 §5.2);
//   - octets: the size of the part's body (after its header's empty line,
//     before the line break that belongs to the next delimiter), bytes as
//     stored;
//   - lines (text/* and message/rfc822): LFs in the body (a last line
//     without one is not counted; the CRLF before a delimiter is the
//     delimiter's, RFC 2046 §5.1.1: as c-client and Dovecot count);
//   - message/rfc822: envelope, body structure and lines of the
//     encapsulated message;
//   - extension data (BODYSTRUCTURE only): md5, disposition ("(" type
//     params ")" or NIL), language (NIL, one string, or a list), location;
//     multiparts give params, disposition, language, location.
// The output is balanced and syntactically valid for any input. Depth is
// bounded by mime::kMaxMimeDepth and the parts opened by mime::kMaxMimeParts.
//
// StructureWriter writes ENVELOPE, BODY or BODYSTRUCTURE answers of any size
// in pieces, over as many turns of the loop as the output needs (DESIGN.md:
// large responses are resumable jobs): the walk keeps an explicit stack of
// offsets (no recursion, nothing pointing into the message or the scratch
// buffer between calls) and each step() reads a bounded number of message
// bytes (delimiter searches and line counts pause and go on). An answer is
// a sequence of pieces (a part's opening fields, an envelope, a line
// count, a part's closing fields); a piece that does not fit the output is
// written as far as it fits and rendered again on the next step, dropping
// the bytes already sent (TextWriter::resume_after), so the output is the
// same bytes however it is split. Headers are read again from the message
// for each piece, so one scratch buffer (shared by all sessions) serves.
// Memory: kMaxFrames frames of a few offsets, per writer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/base/text.h"
#include "core/mime/message_reader.h"
#include "core/mime/part.h"

namespace tinyimapd::imap {

enum class StructureItem : std::uint8_t { Envelope, Body, BodyStructure };

class StructureWriter {
public:
    enum class Progress : std::uint8_t {
        Done,    // the whole answer is written
        Full,    // the output is full: step() again once it drained
        Budget,  // the step read its share of the message: step() again
    };

    // Begins the answer of `item`; its first `delivered` bytes were already
    // sent (by an earlier writer or from the cache) and are not written.
    // With `join_rfc2231`, RFC 2231 continued parameter values are joined
    // (RFC 9051 §7.5.2, an IMAP4rev2 session's answers; mime::join_rfc2231).
    // With `downgrade`, strings holding UTF-8 are written as RFC 2047
    // encoded words and UTF-8 addresses as RFC 6858 §2.1 placeholders (a
    // session without UTF8=ACCEPT or IMAP4rev2: ResponseWriter::downgrade,
    // RFC 6855 §7).
    void start(StructureItem item, std::uint64_t delivered = 0, bool join_rfc2231 = false,
               bool downgrade = false);
    // Writes more of the answer at the end of `out`, reading about `budget`
    // bytes of the message at most. `scratch` is at least mime::kMinScratch bytes
    // and holds nothing between calls.
    Progress step(ByteSource& r, char* scratch, std::size_t scratch_size, TextWriter& out,
                  std::uint64_t budget);
    // Bytes of the answer written so far (with the ones `start` skipped).
    std::uint64_t delivered() const { return delivered_; }

private:
    enum class Phase : std::uint8_t { Children, Tail, Envelope, Lines, Ext };
    struct Frame {
        std::uint64_t start;  // the part
        std::uint64_t end;
        std::uint64_t body_start;     // after its header
        mime::ChildCursor::State at;  // Children: the cursor; Lines: pos = where
                                      // counting goes on, scan = lines so far
        Phase phase;
        std::uint8_t depth;
        bool is_digest;
    };
    struct Pending {  // a part to open
        std::uint64_t start;
        std::uint64_t end;
        std::uint8_t depth;
        bool in_digest;
        bool lead_sp;  // written after an element (the envelope)
    };
    static constexpr std::size_t kMaxFrames = mime::kMaxMimeDepth + 2;
    // Work per step besides bytes read: header loads are bounded by the
    // scratch buffer, their count by this.
    static constexpr std::size_t kMaxActions = 256;

    bool act(ByteSource& r, char* scratch, std::size_t cap, TextWriter& out, std::uint64_t budget);
    // act's steps for the innermost frame, by phase; false: the output is full.
    void children_step(ByteSource& r, Frame& f, char* scratch, std::size_t cap,
                       std::uint64_t budget);
    bool envelope_step(ByteSource& r, Frame& f, char* scratch, std::size_t cap, TextWriter& out);
    bool lines_step(ByteSource& r, Frame& f, char* scratch, std::size_t cap, TextWriter& out,
                    std::uint64_t budget);
    bool open_part(ByteSource& r, char* scratch, std::size_t cap, TextWriter& out);
    template <class Render>
    bool emit(TextWriter& out, Render render);

    Frame frames_[kMaxFrames];
    std::size_t top_ = 0;
    Pending pending_{};
    bool has_pending_ = false;
    bool root_opened_ = false;
    bool done_ = true;
    StructureItem item_ = StructureItem::BodyStructure;
    bool rfc2231_ = false;
    bool downgrade_ = false;
    std::uint64_t produced_ = 0;   // answer bytes of the pieces completed
    std::uint64_t delivered_ = 0;  // answer bytes written (>= produced_)
    std::size_t parts_ = 0;        // parts opened
    // The boundary of the innermost open multipart, so that its header is
    // not read again for each child.
    mime::HeldBoundary boundary_;
};

// The whole answer at once (tests, fuzzing): BODYSTRUCTURE (`extensible`)
// or BODY into `out`, which shows overflow as !out.ok(). False only when
// the scratch buffer is smaller than mime::kMinScratch. `downgrade`: as
// StructureWriter::start's.
[[nodiscard]] bool write_bodystructure(ByteSource& r, char* scratch, std::size_t scratch_size,
                                       bool extensible, TextWriter& out, bool downgrade = false);

}  // namespace tinyimapd::imap
