// Dates and date-times of IMAP: parsing date-text (SEARCH BEFORE/ON/SINCE/
// SENT*) and date-time (APPEND), formatting INTERNALDATE, and the calendar
// arithmetic behind them (RFC 3501 §9 "date", "date-text", "date-time",
// "time", "zone"; §2.3.3 INTERNALDATE; §6.4.4 date comparisons).
//
// Owns nothing and keeps no state; no OS time functions (core includes no
// <ctime>): the calendar is the proleptic Gregorian one computed with Howard
// Hinnant's days_from_civil algorithm.
//
// Invariants and ranges: years are 1..9999 (date-year is 4DIGIT; year 0000
// is refused), months 1..12, days valid for their month including 29 Feb of
// leap years. Times are 00:00:00..23:59:60 (60 is a leap second, counted as
// the next minute's first second, as RFC 5322 §3.3 allows). Zones are
// -2359..+2359 east of UTC; "Subtracting the timezone from the given time
// will give the UT form" (RFC 3501 §9 zone). Seconds are 64-bit so dates
// after 2038 work on 32-bit targets.
//
// Leniency (decided here, as Dovecot does): date-time accepts a one-digit day
// without its padding space ("7-Jul-1996 ..."), which some clients send;
// everything else is exact. Month names are case-insensitive (RFC 3501 §9
// note 3: literal strings in the grammar are case-insensitive).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/base/text.h"

namespace tinyimapd::imap {

inline constexpr std::int32_t kMinYear = 1;
inline constexpr std::int32_t kMaxYear = 9999;
// Largest |zone| in minutes: "+2359" (zone = ("+" / "-") 4DIGIT as hhmm).
inline constexpr std::int32_t kMaxZoneMinutes = 23 * 60 + 59;
// Length of the INTERNALDATE form "17-Jul-1996 02:44:25 -0700" (no quotes).
inline constexpr std::size_t kDateTimeLength = 26;

struct Date {
    std::int32_t year = 0;
    std::uint8_t month = 0;  // 1..12
    std::uint8_t day = 0;    // 1..31
};

struct DateTime {
    std::int64_t utc_seconds = 0;   // since 1970-01-01T00:00:00Z
    std::int32_t zone_minutes = 0;  // the zone the client wrote, east of UTC
};

// date-text = date-day "-" date-month "-" date-year (e.g. "1-Feb-1994",
// "01-feb-1994"); the whole text must match.
bool parse_date(std::string_view text, Date* out);

// The contents of a date-time, without its DQUOTEs:
// date-day-fixed "-" date-month "-" date-year SP time SP zone.
bool parse_date_time(std::string_view text, DateTime* out);

// Days since 1970-01-01 of a proleptic Gregorian date (negative before it).
// Valid for years kMinYear..kMaxYear with a valid month and day.
std::int64_t days_from_civil(std::int32_t y, unsigned m, unsigned d);

// Writes "dd-Mon-yyyy hh:mm:ss +hhmm" (kDateTimeLength bytes, day padded with
// a space per date-day-fixed) for the instant `utc_seconds` seen in the zone
// `zone_minutes`. Out-of-range input is clamped: the zone to
// ±kMaxZoneMinutes, the local time to years kMinYear..kMaxYear.
void format_date_time(std::int64_t utc_seconds, std::int32_t zone_minutes, TextWriter& w);

// The first second of `date` in the zone `zone_minutes`, in UTC seconds.
// SEARCH compares dates "disregarding time and timezone" (RFC 3501 §6.4.4):
// the caller picks the zone in which a message's day is taken.
std::int64_t date_start_utc(const Date& date, std::int32_t zone_minutes);

}  // namespace tinyimapd::imap
