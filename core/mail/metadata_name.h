// Entry names of RFC 5464 METADATA annotations: what a name may hold, how
// names compare, and the DEPTH rule of GETMETADATA.
//
// Pure functions over views; nothing is kept. Names are case-insensitive
// (RFC 5464 §3.2): the store keeps them in lower case (metadata_lower), so
// stored names compare bytewise and the requests are compared with
// ascii::iequals.
//
// The rules (RFC 5464 §3.2): a name starts with "/private/" or "/shared/"
// (its scope), has at least two components ("/shared/vendor/<token>/..."
// at least four), no "//", no trailing "/", no '*' or '%', and only
// printable US-ASCII (we refuse every control byte below SP, not only
// 0x00-0x19, as the same paragraph discourages them; DEL as well). A
// request of GETMETADATA may also name a scope alone ("/shared" with DEPTH
// infinity: every shared entry), and a vendor prefix shorter than four
// components. Longer than kMaxEntryName bytes is refused (the store's
// record keeps the length in one byte).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd::mail {

inline constexpr std::size_t kMaxEntryName = 255;
// The largest value the configuration may allow (metadata_max_size): a
// GETMETADATA answer line, written whole, must fit the smallest output
// buffer with the session's reserve (core/session/cmd_metadata.cpp).
inline constexpr std::uint32_t kMaxMetadataValue = 4096;

enum class EntryScope : std::uint8_t { Private, Shared };

// Valid as SETMETADATA's entry (`for_set`) or as GETMETADATA's; *why says
// what is wrong. *scope (if given) tells /private from /shared.
bool is_valid_entry_name(std::string_view name, bool for_set, const char** why,
                         EntryScope* scope = nullptr);

// RFC 5464 §4.2.2: does the stored entry `name` answer the request `asked`
// with DEPTH `depth` (0, 1, or kDepthInfinity)? Case-insensitive.
inline constexpr std::uint8_t kDepthInfinity = 255;
bool entry_matches(std::string_view name, std::string_view asked, std::uint8_t depth);

// Lower-cases `name` (ASCII) into `out` (at least name.size() bytes).
void metadata_lower(std::string_view name, char* out);

}  // namespace tinyimapd::mail
