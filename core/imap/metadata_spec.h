// The arguments of GETMETADATA and SETMETADATA (RFC 5464 §4.2, §4.3, §5):
// GETMETADATA's options (MAXSIZE, DEPTH), its entry specifiers, and
// SETMETADATA's entry-value pairs, checked here so that a handler only
// walks well-formed lists. Entry names follow mail::is_valid_entry_name;
// a bad one is BAD (§3.2: "Invalid entry names result in a BAD response").
//
// Views into the parser's arena, as ParsedCommand's; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/imap/args.h"

namespace tinyimapd::imap {

// The most entries one GETMETADATA asks for or one SETMETADATA sets (a
// larger list is BAD: the session keeps a SETMETADATA's changes in an
// array of this size).
inline constexpr std::size_t kMaxMetadataItems = 32;

struct MetadataSpec {
    ArgReader items;                     // GET: the entries; SET: the entry-value pairs
    std::size_t count = 0;               // entries, or pairs
    std::uint32_t maxsize = UINT32_MAX;  // MAXSIZE (§4.2.1); UINT32_MAX: none
    bool has_maxsize = false;
    std::uint8_t depth = 0;  // DEPTH (§4.2.2): 0, 1 or mail::kDepthInfinity
};

// getmetadata-options, if the next argument is a list (§5, RFC 4466
// tagged-ext); false with *why for a bad or repeated option.
bool parse_getmetadata_options(ArgReader& r, MetadataSpec* out, const char** why);
// entries = entry / "(" entry *(SP entry) ")".
bool parse_metadata_entries(ArgReader& r, MetadataSpec* out, const char** why);
// entry-values = "(" entry-value *(SP entry-value) ")"; value = nstring /
// literal8.
bool parse_metadata_values(ArgReader& r, MetadataSpec* out, const char** why);

}  // namespace tinyimapd::imap
