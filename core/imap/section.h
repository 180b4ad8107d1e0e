// BODY[section] lookup (RFC 3501 §6.4.5 "BODY[<section>]<<partial>>"):
// where a section's bytes lie in the stored message, and the streaming
// filter for HEADER.FIELDS / HEADER.FIELDS.NOT.
//
// Part numbering (RFC 3501 §6.4.5): the parts of a multipart are numbered
// from 1; a message that is not multipart has exactly one part, 1, its body;
// the parts of a message/rfc822 part are numbered within the encapsulated
// message (so 2.1 of a message/rfc822 part 2 holding a non-multipart
// message is that message's body). The structure rules (defaults, depth
// limit, broken boundaries) are core/mime/part.h's, the same BODYSTRUCTURE uses, and
// so is its part limit: parts are counted in the order BODYSTRUCTURE opens
// them (every earlier part's own parts included), and past mime::kMaxMimeParts a
// part runs to the end of its multipart and cannot have parts inside, as in
// StructureWriter. So numbers always agree with what BODYSTRUCTURE showed
// the client: a number it does not show is a missing section.
//
// SectionFinder does the lookup as a resumable walk: each step() reads
// about `budget` bytes of the message (delimiter searches pause and go on,
// mime::ChildCursor::State) and loads a bounded number of headers, keeping only
// offsets between steps, so finding part 1500000 of a message of 1.7
// million parts spans turns of the loop. The result does not depend on how
// the walk is split. Memory: kFrames frames of a few offsets, one boundary.
//
// Ranges: [] the whole message; HEADER the header including its empty line;
// TEXT the body after it; n the body of part n (without its MIME header; for
// a message/rfc822 part: the whole encapsulated message); n.MIME the MIME
// header of part n including its empty line; n.HEADER, n.TEXT and
// n.HEADER.FIELDS refer to the message encapsulated in part n, which must be
// message/rfc822 (else not found).
//
// HEADER.FIELDS[.NOT]: the header's field lines (folds included, bytes as
// stored) whose names are (not) in the list, compared ASCII
// case-insensitively, in message order, followed by CRLF (the empty line
// that ends the returned header). HeaderFieldsFilter produces them as a
// ByteSource through a window of the caller's buffer, so it can stream a
// literal whose size total_size() computed first (two passes over the
// header). Lines that are not fields are left out.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/imap/encoder.h"
#include "core/imap/fetch_spec.h"
#include "core/mime/message_reader.h"
#include "core/mime/part.h"

namespace tinyimapd::imap {

struct SectionRange {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    // HEADER.FIELDS[.NOT]: [offset, offset + length) is the header without
    // its empty line, to be read through HeaderFieldsFilter; otherwise the
    // section's bytes themselves.
    bool filtered = false;
};

// False when the section does not exist in this message (a part number
// beyond the parts, a number into a leaf, HEADER/TEXT of a part that is not
// message/rfc822) or the scratch buffer is smaller than mime::kMinScratch.
[[nodiscard]] bool find_section(ByteSource& r, const imap::SectionSpec& section, char* scratch,
                                std::size_t scratch_size, SectionRange* out);

class SectionFinder {
public:
    enum class Progress : std::uint8_t {
        Found,    // *out is the section's range
        Missing,  // no such section (as find_section's false)
        Budget,   // the step read its share of the message: step() again
    };

    // Begins looking for `section` (copied; the views it holds, in the
    // command's arena, must stay valid until the lookup ends).
    void start(const imap::SectionSpec& section);
    // Goes on with the lookup, reading about `budget` bytes of the message.
    // `scratch` (>= mime::kMinScratch bytes) holds nothing between calls. Once
    // Found or Missing, later calls answer the same.
    Progress step(ByteSource& r, char* scratch, std::size_t scratch_size, std::uint64_t budget,
                  SectionRange* out);
    // Once Found with part numbers: the end of the part they name (its
    // MIME header starts the range of n.MIME, its body ends here).
    std::uint64_t part_end() const { return cur_.end; }

private:
    enum class Phase : std::uint8_t { Root, Resolve, Children, Count, Found, Missing };
    // The entity on the section's path being looked into.
    struct Node {
        std::uint64_t start = 0;
        std::uint64_t fields_end = 0;
        std::uint64_t body_start = 0;
        std::uint64_t end = 0;
        mime::PartInfo info;
    };
    // A multipart inside an earlier sibling, whose parts are being counted.
    struct Frame {
        std::uint64_t end;
        std::uint64_t start;
        mime::ChildCursor::State at;
        std::uint8_t depth;
        bool is_digest;
    };
    struct Pending {  // a part to count
        std::uint64_t start;
        std::uint64_t end;
        std::uint8_t depth;
        bool in_digest;
    };
    static constexpr std::size_t kFrames = mime::kMaxMimeDepth + 2;
    // Header loads per step besides bytes read (each bounded by the scratch).
    static constexpr std::size_t kMaxActions = 256;

    void act(ByteSource& r, char* scratch, std::size_t cap, std::uint64_t budget);
    // act's steps, by phase.
    void resolve_step(ByteSource& r, char* scratch, std::size_t cap);
    void children_step(ByteSource& r, char* scratch, std::size_t cap, std::uint64_t budget);
    void count_step(ByteSource& r, char* scratch, std::size_t cap, std::uint64_t budget);
    void open_path(ByteSource& r, std::uint64_t start, std::uint64_t end, bool in_digest,
                   char* scratch, std::size_t cap);
    void count_part(ByteSource& r, char* scratch, std::size_t cap);
    void finish(ByteSource& r, char* scratch, std::size_t cap);

    imap::SectionSpec section_;
    Phase phase_ = Phase::Missing;
    SectionRange range_;
    Node cur_;
    std::size_t depth_ = 0;        // of cur_
    std::size_t level_ = 0;        // path numbers resolved
    std::uint32_t want_ = 0;       // the number being resolved
    std::uint32_t index_ = 0;      // children of cur_ met so far
    mime::ChildCursor::State at_;  // cur_'s children
    std::size_t parts_ = 0;        // parts opened, in BODYSTRUCTURE's order
    Frame frames_[kFrames];
    std::size_t top_ = 0;
    Pending pending_{};
    bool has_pending_ = false;
    bool first_ = true;
    // The boundary of the innermost open multipart.
    mime::HeldBoundary boundary_;
};

class HeaderFieldsFilter final : public ByteSource {
public:
    // `range` from find_section (filtered); `section` gives the field list
    // (copied; the names it views, in the command's arena, must stay valid)
    // and whether it is .NOT; `window` (>= mime::kMinScratch bytes) is used on
    // every read and must stay untouched while the filter is in use.
    HeaderFieldsFilter(ByteSource& r, const SectionRange& range, const imap::SectionSpec& section,
                       char* window, std::size_t window_size);

    // Size of the filtered header, trailing CRLF included.
    std::uint64_t total_size();
    // ByteSource: the same, as measured when the filter was made.
    std::uint64_t size() const override { return size_; }

    // ByteSource: the filtered bytes from `offset`; sequential reads are
    // cheap, any other offset restarts from the beginning of the header.
    std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) override;

private:
    void rewind();
    // Produces up to `capacity` bytes into out (nullptr: count only).
    std::size_t produce(char* out, std::size_t capacity);
    bool selected_name(std::string_view name) const;
    bool ensure(std::uint64_t pos, std::size_t want);

    ByteSource& r_;
    imap::SectionSpec section_;  // a copy; its views point where the caller's did
    char* window_;
    std::size_t window_size_;
    std::uint64_t begin_;
    std::uint64_t end_;
    std::uint64_t win_start_ = 0;
    std::size_t win_len_ = 0;
    std::uint64_t in_pos_ = 0;
    std::uint64_t out_pos_ = 0;
    std::uint8_t crlf_sent_ = 0;
    bool at_line_start_ = true;
    bool selected_ = false;
    std::uint64_t size_ = 0;
    bool is_not_ = false;
};

}  // namespace tinyimapd::imap
