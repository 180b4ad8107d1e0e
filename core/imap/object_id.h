// RFC 8474 object identifiers on the wire: MAILBOXID, EMAILID (THREADID is
// NIL: core/session/cmd_fetch.cpp).
//
// The store keeps each id as a u64 (State::mailbox_id, Record::email_id);
// the wire form is one letter naming the kind ('F' for a mailbox, 'M' for a
// message, as in the RFC's examples) and the number as 16 lower-case hex
// digits: 17 characters of the objectid grammar (RFC 8474 §7, 1*255 of
// ALPHA / DIGIT / "_" / "-"), never starting with a digit or a dash, never
// "NIL", never two ids that differ only in case (§8.1). The letter keeps
// EMAILIDs and MAILBOXIDs apart (§5.2 asks that of EMAILID and THREADID).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/base/text.h"

namespace tinyimapd::imap {

inline constexpr char kMailboxIdPrefix = 'F';
inline constexpr char kEmailIdPrefix = 'M';
inline constexpr std::size_t kObjectIdLength = 17;

inline void put_object_id(TextWriter& w, char prefix, std::uint64_t id) {
    w.put(prefix);
    for (int shift = 60; shift >= 0; shift -= 4) w.put("0123456789abcdef"[(id >> shift) & 15]);
}

// RFC 8474 §7 objectid: 1 to 255 of ALPHA / DIGIT / "_" / "-".
inline bool is_object_id(std::string_view s) {
    if (s.empty() || s.size() > 255) return false;
    for (char c : s) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

// The number of an id this server made with `prefix`; 0 for any other
// objectid (ids are case-sensitive, §7: upper-case hex is not ours). No id
// this server makes is 0.
inline std::uint64_t parse_object_id(std::string_view s, char prefix) {
    if (s.size() != kObjectIdLength || s[0] != prefix) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        unsigned d = 0;
        if (c >= '0' && c <= '9') {
            d = static_cast<unsigned>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            d = static_cast<unsigned>(c - 'a' + 10);
        } else {
            return 0;
        }
        v = (v << 4) | d;
    }
    return v;
}

}  // namespace tinyimapd::imap
