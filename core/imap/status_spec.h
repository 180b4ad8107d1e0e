// StatusAtts: the data items a STATUS command asks for, in the order asked.
//
// parse_status_atts() reads the inside of STATUS's parenthesised list,
// status-att *(SP status-att) (RFC 3501 §6.3.10 and §9): MESSAGES, RECENT,
// UIDNEXT, UIDVALIDITY, UNSEEN; HIGHESTMODSEQ (RFC 7162 §3.1.7); SIZE (RFC
// 8438 §3); MAILBOXID (RFC 8474 §4.3); APPENDLIMIT (RFC 7889 §3.1); DELETED and DELETED-STORAGE
// (RFC 9208 §4.1.4). Whether an extension's item is allowed in this session (CONDSTORE enabled,
// ...) is the caller's check.
//
// Invariants: `order` holds each requested item once, in the order of its
// first mention (a repeated item is answered once), so it never holds more
// than kStatusItemCount entries; `mask` has the same items as bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/imap/args.h"

namespace tinyimapd::imap {

enum class StatusItem : std::uint8_t {
    Messages,
    Recent,
    UidNext,
    UidValidity,
    Unseen,
    HighestModSeq,   // RFC 7162
    Size,            // RFC 8438
    MailboxId,       // RFC 8474
    AppendLimit,     // RFC 7889 §3.1
    Deleted,         // RFC 9208 §4.1.4
    DeletedStorage,  // RFC 9208 §4.1.4
};

inline constexpr std::size_t kStatusItemCount = 11;

constexpr std::uint16_t status_bit(StatusItem item) {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(item));
}

struct StatusAtts {
    std::uint16_t mask = 0;  // status_bit() of each item asked for
    std::uint8_t count = 0;
    StatusItem order[kStatusItemCount] = {};
    // After a failure: the offending argument's text, if any.
    std::string_view error_at;

    bool has(StatusItem item) const { return (mask & status_bit(item)) != 0; }
};

// Parses the items of the list (the caller has read the mailbox name and
// entered the list). On failure returns false and sets *why to a static
// English text (also recorded with list.fail) and out->error_at.
[[nodiscard]] bool parse_status_atts(ArgReader& list, StatusAtts* out, const char** why);

// The item's name in the STATUS response ("UIDNEXT", "HIGHESTMODSEQ", ...).
std::string_view status_item_name(StatusItem item);

}  // namespace tinyimapd::imap
