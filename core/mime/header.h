// Header access: locating an entity's header, loading it into a bounded
// buffer unfolded, and iterating / looking up its fields.
//
// load_header() finds where the header of the entity at [start, end) ends
// (the first empty line, CRLF CRLF or LF LF; RFC 2822 §2.1, RFC 2045 §3),
// then copies the header into the caller's buffer and unfolds it in place
// (RFC 2822 §2.2.3: a line break followed by WSP is removed, the WSP kept),
// so that every field becomes one line "Name:value\n". The header's end is
// found however long the header is (by streaming through the buffer); only
// what fits in the buffer is kept, cut at the last complete line, and
// `truncated` records it. Nothing points into the message afterwards.
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

// Finds the empty line ending the header of [start, end) using `buf` as a
// window. Without an empty line the whole entity is header and the body is
// empty (fields_end == body_start == end).
void locate_header(MessageReader& r, std::uint64_t start, std::uint64_t end, char* buf,
                   std::size_t cap, std::uint64_t* fields_end, std::uint64_t* body_start,
                   std::size_t* first_read = nullptr);

// Locates and loads the header of [start, end) into buf (see above).
void load_header(MessageReader& r, std::uint64_t start, std::uint64_t end, char* buf,
                 std::size_t cap, HeaderBlock* out);

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
