// The MIME structure walk shared by BODYSTRUCTURE and section lookup: what a
// part is (leaf, multipart, encapsulated message) and where a multipart's
// children lie.
//
// A part is [start, end) of the message: its MIME header, the empty line,
// its body. classify_part() decides from the loaded header (RFC 2045 §5,
// RFC 2046 §5.1.1, §5.1.5, §5.2.1):
//   - multipart/* with a usable boundary → Multipart;
//   - message/rfc822 with an identity encoding → Message (the body is
//     another message, header and all);
//   - anything else → Leaf. The type written for a leaf is the one given,
//     except: no or invalid Content-Type → text/plain (in a multipart/digest
//     → message/rfc822); a multipart without a usable boundary → text/plain
//     (RFC 2045 §5.2: an invalid Content-Type defaults to it); a multipart
//     or message/rfc822 deeper than kMaxMimeDepth → application/octet-stream.
//
// ChildCursor walks the body parts of a multipart per RFC 2046 §5.1.1: a
// delimiter is a line starting "--" boundary, followed by "--" (the close
// delimiter), blanks or the line end; the line break before a delimiter
// belongs to it, not to the part. Missing pieces degrade: no delimiter at
// all → one part covering the whole body (parsed like any part, so its
// first lines may be read as a header); no close delimiter → the last
// part runs to the end of the multipart. A child's range never leaves its
// parent's, so a broken inner multipart cannot disturb the outer one. It
// keeps only offsets, so the scratch buffer may be reused between calls;
// step() scans a bounded number of bytes per call and its state() can be
// kept and the cursor built again later (a walk that spans turns of the
// loop). last_child() makes the child being looked for run to the end of
// the multipart without looking for more delimiters: the way a walk stops
// at kMaxMimeParts, as Dovecot does at its message_max_mime_parts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/mime/header.h"
#include "core/mime/message_reader.h"

namespace tinyimapd::mime {

enum class PartKind : std::uint8_t { Leaf, Multipart, Message };

// How a leaf's media type is written when it differs from the header's.
enum class TypeOverride : std::uint8_t {
    None,           // as given in Content-Type
    TextPlain,      // "TEXT" "PLAIN" ("CHARSET" "US-ASCII")
    MessageRfc822,  // digest default: "MESSAGE" "RFC822"
    OctetStream,    // "APPLICATION" "OCTET-STREAM", too deep to parse
};

struct PartInfo {
    PartKind kind = PartKind::Leaf;
    TypeOverride override_type = TypeOverride::None;
    bool is_text = false;    // a text/* leaf: BODYSTRUCTURE gives its lines
    bool is_digest = false;  // multipart/digest: children default to message/rfc822
    std::uint8_t boundary_len = 0;
    char boundary[kMaxBoundary];
    std::string_view boundary_view() const { return {boundary, boundary_len}; }
};

// `depth` is the nesting level of the part (the message itself is 0);
// `in_digest` says the parent is a multipart/digest.
void classify_part(const HeaderBlock& h, std::size_t depth, bool in_digest, PartInfo* out);

// The boundary of one open multipart of a walker over nested parts (which
// keeps its frames' positions only): held for the frame that set it last, and
// read again from a multipart's header when another frame asks.
class HeldBoundary {
public:
    // Frame `frame`'s multipart (its part at [start, end), at `depth`) opened
    // with this boundary.
    void hold(const PartInfo& info, std::size_t frame);
    // No frame's boundary is held (a walk starts).
    void forget() { frame_ = SIZE_MAX; }
    // Frame `frame`'s boundary: the one held, or its header's (read through
    // scratch[0..cap)).
    std::string_view of(ByteSource& r, std::uint64_t start, std::uint64_t end, std::size_t depth,
                        std::size_t frame, char* scratch, std::size_t cap);

private:
    char text_[kMaxBoundary];
    std::uint8_t length_ = 0;
    std::size_t frame_ = SIZE_MAX;
};

class ChildCursor {
public:
    // Where a cursor is, to build it again (plain data).
    struct State {
        std::uint64_t pos = 0;   // start of the next child
        std::uint64_t scan = 0;  // where the delimiter search goes on
        bool started = false;    // the first delimiter was found
        bool done = false;
        bool mid_line = false;  // scan is inside a line
        bool last = false;      // last_child() was called
    };
    enum class Step : std::uint8_t { Child, Done, More };

    // The multipart's body is [body_start, end).
    ChildCursor(std::uint64_t body_start, std::uint64_t end, std::string_view boundary)
        : end_(end), boundary_(boundary) {
        s_.pos = s_.scan = body_start;
    }
    ChildCursor(const State& state, std::uint64_t end, std::string_view boundary)
        : s_(state), end_(end), boundary_(boundary) {}

    // The next child's [start, end); false when there are no more.
    bool next(ByteSource& r, char* buf, std::size_t cap, std::uint64_t* start, std::uint64_t* end);
    // The same, scanning about `limit` bytes at most: More when the search
    // must go on in another call.
    Step step(ByteSource& r, char* buf, std::size_t cap, std::uint64_t limit, std::uint64_t* start,
              std::uint64_t* end);
    // The next child is the last: it runs to the end of the multipart.
    void last_child() { s_.last = true; }
    const State& state() const { return s_; }

private:
    State s_;
    std::uint64_t end_;
    std::string_view boundary_;
};

}  // namespace tinyimapd::mime
