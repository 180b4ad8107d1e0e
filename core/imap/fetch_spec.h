// FetchSpec: the data items and modifiers of FETCH / UID FETCH, parsed.
//
// parse_fetch_spec() reads what follows the sequence set: one fetch-att, a
// parenthesised list of them, or a macro (ALL, FAST, FULL), then optional
// fetch-modifiers (RFC 3501 §6.4.5 and §9 "fetch"; RFC 4466 §2.4; RFC 3516 §4
// BINARY; RFC 7162 §3.1.4 MODSEQ and CHANGEDSINCE, §3.2.6 VANISHED; RFC 8474
// §5.3 EMAILID and THREADID). Macros expand to their items in place; they are
// not allowed inside a list.
//
// Ownership: the caller gives the array of items and its size (its limit on
// attributes per command). A FetchItem holds views into the parser's arena
// (the section's part numbers and header-field list, as the client sent
// them), so items are valid only as long as that command is: a job that
// outlives the command must not feed the parser meanwhile, or must copy.
//
// Size: a FetchItem is 56 bytes on 64-bit targets and 36 bytes on 32-bit
// ones (two string_views, two 32-bit partial numbers, five bytes of tags:
// PREVIEW's LAZY took the fifth, which the 64-bit layout had as padding).
// Section part numbers are kept as their validated text ("4.2.1") and read
// with SectionPartIterator, so the depth of a section costs nothing.
//
// Invariants after a successful parse: every number in a section is an
// nz-number without leading zeros (RFC 3501 §9), so `parts` echoes exactly;
// `fields` is a well-formed header-list; MIME has at least one part number;
// BINARY sections hold part numbers only; a partial has a non-zero count.
//
// Lexer limits (documented, not RFC): the parser ends a section at its first
// ']', so a quoted header-field name cannot contain ']'; literals inside a
// section are not supported ("{5}" in a header list is refused).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/text.h"
#include "core/imap/args.h"

namespace tinyimapd::imap {

// Deepest section part number we accept (BODY[1.2.3....]); deeper than any
// MIME structure a server sensibly parses, small enough for a uint8_t count.
inline constexpr std::size_t kMaxSectionDepth = 32;
// Longest header-field name in HEADER.FIELDS (after unquoting); bounds the
// buffer HeaderFieldIterator needs for names with backslash escapes. Real
// field names are a few dozen bytes.
inline constexpr std::size_t kMaxHeaderFieldName = 128;

enum class FetchKind : std::uint8_t {
    Envelope,
    Flags,
    InternalDate,
    Rfc822,        // = BODY[] (sets \Seen)
    Rfc822Header,  // = BODY.PEEK[HEADER]
    Rfc822Size,
    Rfc822Text,  // = BODY[TEXT] (sets \Seen)
    Body,        // non-extensible BODYSTRUCTURE
    BodyStructure,
    Uid,
    BodySection,    // BODY[...] / BODY.PEEK[...]: section, peek, partial
    BinarySection,  // BINARY[...] / BINARY.PEEK[...] (RFC 3516): parts, peek, partial
    BinarySize,     // BINARY.SIZE[...] (RFC 3516): parts
    ModSeq,         // RFC 7162 §3.1.4.2
    EmailId,        // RFC 8474 §5.3
    ThreadId,       // RFC 8474 §5.3
    SaveDate,       // RFC 8514 §4.2
    Preview,        // RFC 8970 §3: lazy when "PREVIEW (LAZY)"
};

// What follows the part numbers of a section (RFC 3501 §9 "section-text").
enum class SectionText : std::uint8_t {
    None,  // the whole message or part
    Header,
    HeaderFields,     // fields holds the header-list
    HeaderFieldsNot,  // fields holds the header-list
    Text,
    Mime,  // only after a part number
};

struct SectionSpec {
    std::string_view parts;   // "" or "1.2.3": nz-numbers joined by '.'
    std::string_view fields;  // HeaderFields[Not]: "(From \"To\")" as sent; else ""
    std::uint8_t part_count = 0;
    SectionText text = SectionText::None;
};

enum class ObsoleteName : std::uint8_t { None, Rfc822, Rfc822Text };

struct FetchItem {
    SectionSpec section;  // BodySection, BinarySection (parts only), BinarySize
    std::uint32_t partial_offset = 0;
    std::uint32_t partial_count = 0;  // non-zero when has_partial
    FetchKind kind = FetchKind::Flags;
    bool peek = false;  // BODY.PEEK / BINARY.PEEK
    bool has_partial = false;
    bool lazy = false;  // RFC 8970 §4.1 preview-mod LAZY
    // RFC 2062 §6.4.5.OBS.1: RFC822.PEEK and RFC822.TEXT.PEEK are BODY
    // sections answered as RFC822 and RFC822.TEXT.
    ObsoleteName obsolete = ObsoleteName::None;
};

struct FetchSpec {
    FetchItem* items = nullptr;  // the caller's array
    std::size_t count = 0;
    bool changedsince = false;  // RFC 7162 §3.1.4.1 modifier given
    std::uint64_t changedsince_value = 0;
    // RFC 7162 §3.2.6: only valid in UID FETCH (and after ENABLE QRESYNC);
    // the caller checks both. VANISHED without CHANGEDSINCE is refused here.
    bool vanished = false;
    bool wants_uid = false;     // a UID item was asked for (UID FETCH adds it anyway)
    bool wants_modseq = false;  // MODSEQ asked for, or implied by CHANGEDSINCE
    bool sets_seen = false;     // some item sets \Seen (see fetch_sets_seen)
    // After a failure: the text of the offending argument or item, if any,
    // for a reply such as "BAD Unknown fetch attribute: FOO".
    std::string_view error_at;
};

// Parses the rest of a FETCH / UID FETCH command: r is positioned after the
// sequence set and must be at its end afterwards. On failure returns false,
// sets *why to a static English text (also recorded with r.fail) and
// out->error_at; out->items[0..count) may then hold partial results.
[[nodiscard]] bool parse_fetch_spec(ArgReader& r, FetchItem* items, std::size_t max_items,
                                    FetchSpec* out, const char** why);

// Parses one fetch-att (no macros) from its atom text, e.g.
// "BODY.PEEK[HEADER.FIELDS (From To)]<0.100>". Used by parse_fetch_spec.
[[nodiscard]] bool parse_fetch_att(std::string_view text, FetchItem* out, const char** why);

// RFC 3501 §6.4.5: BODY[...] (not PEEK), RFC822 and RFC822.TEXT set \Seen;
// so does BINARY[...] without PEEK (RFC 3516 §4.2).
bool fetch_sets_seen(const FetchItem& item);

// The item's name as the response echoes it (RFC 3501 §7.4.2): BODY.PEEK is
// echoed as BODY, a partial as "<offset>" only, a header list as sent;
// keywords in upper case. E.g. "BODY[1.2.HEADER.FIELDS (From To)]<0>".
void write_item_name(const FetchItem& item, TextWriter& w);

// Walks the part numbers of a validated section ("4.2.1" yields 4, 2, 1).
class SectionPartIterator {
public:
    explicit SectionPartIterator(const SectionSpec& section) : rest_(section.parts) {}
    bool next(std::uint32_t* part);

private:
    std::string_view rest_;
};

// Walks the field names of a validated HEADER.FIELDS[.NOT] list, quotes
// removed and backslash escapes resolved. A view it yields is valid until
// the next call (an unescaped name lives in the iterator).
class HeaderFieldIterator {
public:
    explicit HeaderFieldIterator(const SectionSpec& section);
    bool next(std::string_view* name);

private:
    std::string_view rest_;  // inside the parentheses, from the next name on
    char unescaped_[kMaxHeaderFieldName];
};

}  // namespace tinyimapd::imap
