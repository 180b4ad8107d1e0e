// The "sent date" of RFC 5256 §2.2, which SORT (DATE) and THREAD order by:
// the Date header's date and time adjusted to UTC.
//
// parse_sent_date() reads an RFC 2822 §3.3 date-time (with the obsolete
// forms of §4.3: two- and three-digit years, alphabetic zones, comments and
// folding anywhere) and gives the instant in UTC seconds:
//   - no valid date (day, month, year) → false: RFC 5256 says to use the
//     INTERNALDATE instead, which is the caller's;
//   - a valid date but no valid time → 00:00:00 of that day (§2.2 "If the
//     time is also invalid, the time SHOULD be treated as 00:00:00");
//   - a valid time but an invalid or missing zone → taken as UTC (§2.2);
//     "UT"/"GMT"/"Z" and the military letters are +0000, the North American
//     zones their offsets (RFC 2822 §4.3).
// The day of the week is optional and not checked against the date.
#pragma once

#include <cstdint>
#include <string_view>

namespace tinyimapd::imap {

bool parse_sent_date(std::string_view value, std::int64_t* utc_seconds);

}  // namespace tinyimapd::imap
