// Header access: locating an entity's header, loading it into a bounded
// buffer unfolded, and iterating / looking up its fields.
//
// load_header() finds where the header of the entity at [start, end) ends
// (the first empty line, CRLF CRLF or LF LF; RFC 2822 §2.1, RFC 2045 §3;
// at most kMaxHeaderBytes),
// then copies the header into the caller's buffer and unfolds it in place
// (RFC 2822 §2.2.3: a line break followed by WSP is removed, the WSP kept),
// so that every field becomes one line "Name:value\n". The header's end is
// found by streaming through the buffer, up to kMaxHeaderBytes. A
// header larger than the buffer (a mail to 400 recipients has an 18 KB To:)
// is read again in windows and only the fields the caller names are kept
// (by default those of ENVELOPE and BODYSTRUCTURE), every occurrence, in
// order, each cut so that every named field not yet seen keeps room for
// kFieldReserve bytes, and a field cut ends at its last ',' (whole
// addresses); `truncated` records it. So a field after a huge one is still
// found, and only a field longer than the buffer is cut. Nothing
// points into the message afterwards.
//
// Invariants: HeaderBlock::fields holds no CRLF pairs and no folds; each
// field is one '\n'-terminated line (the last may lack the '\n'). Lines that
// are not fields (no ':', a name with blanks or control bytes, the mbox
// "From " line) are skipped by FieldIterator. Bytes are not decoded: 8-bit
// and encoded words (RFC 2047) are passed through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/mime/message_reader.h"

namespace tinyimapd::mime {

struct HeaderBlock {
    std::string_view fields;       // unfolded field lines, in the caller's buffer
    std::uint64_t start = 0;       // first byte of the header
    std::uint64_t fields_end = 0;  // first byte of the empty line (or end)
    std::uint64_t body_start = 0;  // first byte after the empty line (or end)
    std::uint64_t end = 0;         // end of the entity
    bool truncated = false;        // the header did not fit in the buffer
};

// Longest header read (Dovecot bounds headers too): without an empty line
// within it, the header ends at the last line begun before it and the rest
// is body, so that no header costs more than this much reading.
inline constexpr std::uint64_t kMaxHeaderBytes = 1024 * 1024;

// Finds the empty line ending the header of [start, end) using `buf` as a
// window. Without an empty line the whole entity is header and the body is
// empty (fields_end == body_start == end), up to kMaxHeaderBytes.
void locate_header(ByteSource& r, std::uint64_t start, std::uint64_t end, char* buf,
                   std::size_t cap, std::uint64_t* fields_end, std::uint64_t* body_start,
                   std::size_t* first_read = nullptr);

// The fields load_header keeps of a header that does not fit its buffer.
struct FieldNames {
    const std::string_view* names = nullptr;
    std::size_t count = 0;  // at most kMaxFieldNames
};
inline constexpr std::size_t kMaxFieldNames = 32;
// Room kept for each named field not yet seen while a large header is read.
inline constexpr std::size_t kFieldReserve = 160;
// ENVELOPE's fields (RFC 3501 §7.4.2) and the MIME header fields
// BODYSTRUCTURE and BINARY read (RFC 2045, RFC 2183, RFC 3066, RFC 2557).
inline constexpr std::string_view kStructureFieldNames[] = {"Date",
                                                            "Subject",
                                                            "From",
                                                            "Sender",
                                                            "Reply-To",
                                                            "To",
                                                            "Cc",
                                                            "Bcc",
                                                            "In-Reply-To",
                                                            "Message-ID",
                                                            "Content-Type",
                                                            "Content-Transfer-Encoding",
                                                            "Content-ID",
                                                            "Content-Description",
                                                            "Content-MD5",
                                                            "Content-Disposition",
                                                            "Content-Language",
                                                            "Content-Location"};
inline constexpr FieldNames kStructureFields{
    kStructureFieldNames, sizeof kStructureFieldNames / sizeof kStructureFieldNames[0]};

// Locates and loads the header of [start, end) into buf (see above); of a
// header larger than buf, the fields named in `keep`.
void load_header(ByteSource& r, std::uint64_t start, std::uint64_t end, char* buf, std::size_t cap,
                 HeaderBlock* out, FieldNames keep = kStructureFields);

struct HeaderField {
    std::string_view name;   // as written, blanks before ':' removed
    std::string_view value;  // unfolded, leading and trailing blanks removed
};

class FieldIterator {
public:
    explicit FieldIterator(std::string_view fields) : rest_(fields) {}
    bool next(HeaderField* field);

private:
    std::string_view rest_;
};

// The value of the first field called `name` (ASCII case-insensitive).
bool find_field(std::string_view fields, std::string_view name, std::string_view* value);

// Copies at most `cap` bytes of `value` into `out`; returns the copy.
std::string_view copy_value(std::string_view value, char* out, std::size_t cap);

}  // namespace tinyimapd::mime
