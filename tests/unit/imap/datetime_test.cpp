// Tests for core/imap/datetime: RFC 3501 §9 date, date-text, date-time,
// time, zone; §2.3.3 INTERNALDATE; calendar arithmetic and leap years.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "core/imap/datetime.h"

using namespace tinyimapd;
using namespace tinyimapd::imap;

namespace {

std::string date_text(std::string_view s) {
    Date d;
    if (!parse_date(s, &d)) return "invalid";
    return std::to_string(d.year) + "-" + std::to_string(d.month) + "-" + std::to_string(d.day);
}

std::string formatted(std::int64_t utc, std::int32_t zone) {
    FixedText<64> w;
    format_date_time(utc, zone, w);
    REQUIRE(w.ok());
    return std::string(w.view());
}

bool date_time_ok(std::string_view s) {
    DateTime dt;
    return parse_date_time(s, &dt);
}

DateTime must_date_time(std::string_view s) {
    DateTime dt;
    INFO(s);
    REQUIRE(parse_date_time(s, &dt));
    return dt;
}

constexpr std::int64_t kDay = 86400;

}  // namespace

TEST_CASE("days_from_civil: proleptic Gregorian days since 1970-01-01", "[datetime]") {
    CHECK(days_from_civil(1970, 1, 1) == 0);
    CHECK(days_from_civil(1970, 1, 2) == 1);
    CHECK(days_from_civil(1969, 12, 31) == -1);
    CHECK(days_from_civil(2000, 3, 1) == 11017);
    CHECK(days_from_civil(2038, 1, 19) == 24855);  // past 32-bit time_t
    CHECK(days_from_civil(1, 1, 1) == -719162);
    CHECK(days_from_civil(9999, 12, 31) == 2932896);
    // Leap days: 2000 (÷400) has one, 1900 and 2100 (÷100) do not.
    CHECK(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28) == 2);
    CHECK(days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28) == 1);
    CHECK(days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 28) == 1);
    CHECK(days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 28) == 2);
    CHECK(days_from_civil(2001, 1, 1) - days_from_civil(2000, 1, 1) == 366);
}

TEST_CASE("RFC 3501 §9 date-text: date-day \"-\" date-month \"-\" date-year", "[datetime]") {
    CHECK(date_text("1-Feb-1994") == "1994-2-1");  // RFC 3501 §6.4.4 example
    CHECK(date_text("01-Feb-1994") == "1994-2-1");
    CHECK(date_text("17-Jul-1996") == "1996-7-17");
    CHECK(date_text("31-Dec-9999") == "9999-12-31");
    CHECK(date_text("1-Jan-0001") == "1-1-1");
    // date-month is case-insensitive (RFC 3501 §9 note on literal strings).
    CHECK(date_text("1-feb-1994") == "1994-2-1");
    CHECK(date_text("1-FEB-1994") == "1994-2-1");
    const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int m = 0; m < 12; ++m) {
        CHECK(date_text("2-" + std::string(months[m]) + "-2003") ==
              "2003-" + std::to_string(m + 1) + "-2");
    }
}

TEST_CASE("RFC 3501 §9 date-text: calendar validity and leap years", "[datetime]") {
    CHECK(date_text("29-Feb-2024") == "2024-2-29");
    CHECK(date_text("29-Feb-2000") == "2000-2-29");
    CHECK(date_text("29-Feb-1900") == "invalid");
    CHECK(date_text("29-Feb-2023") == "invalid");
    CHECK(date_text("30-Feb-2024") == "invalid");
    CHECK(date_text("31-Apr-2024") == "invalid");
    CHECK(date_text("30-Apr-2024") == "2024-4-30");
    CHECK(date_text("31-Jun-2024") == "invalid");
    CHECK(date_text("31-Sep-2024") == "invalid");
    CHECK(date_text("31-Nov-2024") == "invalid");
    CHECK(date_text("31-Aug-2024") == "2024-8-31");
    CHECK(date_text("0-Jan-2024") == "invalid");
    CHECK(date_text("00-Jan-2024") == "invalid");
    CHECK(date_text("32-Jan-2024") == "invalid");
    CHECK(date_text("1-Jan-0000") == "invalid");
}

TEST_CASE("RFC 3501 §9 date-text: syntax errors", "[datetime]") {
    CHECK(date_text("") == "invalid");
    CHECK(date_text("001-Feb-1994") == "invalid");
    CHECK(date_text(" 1-Feb-1994") == "invalid");
    CHECK(date_text("1-Feb-94") == "invalid");
    CHECK(date_text("1-Feb-19944") == "invalid");
    CHECK(date_text("1-February-1994") == "invalid");
    CHECK(date_text("1-Fe-1994") == "invalid");
    CHECK(date_text("1 Feb 1994") == "invalid");
    CHECK(date_text("1-Feb-1994 ") == "invalid");
    CHECK(date_text("1-Feb-") == "invalid");
    CHECK(date_text("1-Feb") == "invalid");
    CHECK(date_text("1") == "invalid");
    CHECK(date_text("a-Feb-1994") == "invalid");
    CHECK(date_text("1-Feb-199x") == "invalid");
    CHECK(date_text("1994-02-01") == "invalid");
}

TEST_CASE("RFC 3501 §9 date-time and zone: the UT form subtracts the zone", "[datetime]") {
    // RFC 3501 §7.4.2 example INTERNALDATE "17-Jul-1996 02:44:25 -0700".
    DateTime dt = must_date_time("17-Jul-1996 02:44:25 -0700");
    CHECK(dt.zone_minutes == -420);
    CHECK(dt.utc_seconds == days_from_civil(1996, 7, 17) * kDay + 9 * 3600 + 44 * 60 + 25);
    CHECK(dt.utc_seconds == 837596665);

    DateTime east = must_date_time("01-Jan-2000 00:30:00 +0100");
    CHECK(east.zone_minutes == 60);
    CHECK(east.utc_seconds == days_from_civil(1999, 12, 31) * kDay + 23 * 3600 + 30 * 60);

    CHECK(must_date_time("01-Jan-1970 00:00:00 +0000").utc_seconds == 0);
    CHECK(must_date_time("31-Dec-1969 23:59:59 +0000").utc_seconds == -1);
    CHECK(must_date_time("01-Jan-1970 05:30:00 +0530").utc_seconds == 0);
    CHECK(must_date_time("01-Jan-1970 05:30:00 +0530").zone_minutes == 330);
    CHECK(must_date_time("31-Dec-1969 14:15:00 -0945").utc_seconds == 0);
    CHECK(must_date_time("19-Jan-2038 03:14:08 +0000").utc_seconds == 2147483648LL);
    CHECK(must_date_time("29-Feb-2024 12:00:00 +2359").zone_minutes == 1439);
    CHECK(must_date_time("29-Feb-2024 12:00:00 -2359").zone_minutes == -1439);
    // Leap second counted as the next minute's first second.
    CHECK(must_date_time("31-Dec-2016 23:59:60 +0000").utc_seconds ==
          days_from_civil(2017, 1, 1) * kDay);
}

TEST_CASE("RFC 3501 §9 date-day-fixed: \" d\" or \"dd\" (and lenient \"d\")", "[datetime]") {
    const std::int64_t want = must_date_time("07-Jul-1996 02:44:25 -0700").utc_seconds;
    CHECK(must_date_time(" 7-Jul-1996 02:44:25 -0700").utc_seconds == want);
    CHECK(must_date_time("7-Jul-1996 02:44:25 -0700").utc_seconds == want);
    CHECK_FALSE(date_time_ok(" 07-Jul-1996 02:44:25 -0700"));
    CHECK_FALSE(date_time_ok("  7-Jul-1996 02:44:25 -0700"));
    CHECK_FALSE(date_time_ok("007-Jul-1996 02:44:25 -0700"));
    CHECK_FALSE(date_time_ok(" 0-Jul-1996 02:44:25 -0700"));
}

TEST_CASE("RFC 3501 §9 date-time: ranges and syntax errors", "[datetime]") {
    CHECK(date_time_ok("17-jul-1996 02:44:25 -0700"));
    CHECK_FALSE(date_time_ok(""));
    CHECK_FALSE(date_time_ok("\"17-Jul-1996 02:44:25 -0700\""));  // DQUOTEs are the caller's
    CHECK_FALSE(date_time_ok("17-Jul-1996 24:00:00 -0700"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 23:60:00 -0700"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 23:59:61 -0700"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 02:44:25 -2400"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 02:44:25 +0060"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 02:44:25 0700"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 02:44:25 -070"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 02:44:25 -07000"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 02:44:25 PDT"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 02:44:25"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 2:44:25 -0700"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 02:44 -0700"));
    CHECK_FALSE(date_time_ok("17-Jul-1996  02:44:25 -0700"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 02:44:25  -0700"));
    CHECK_FALSE(date_time_ok("17-Jul-96 02:44:25 -0700"));
    CHECK_FALSE(date_time_ok("29-Feb-2023 02:44:25 -0700"));
    CHECK_FALSE(date_time_ok("17-Jul-1996 02:44:25 -0700 "));
    CHECK_FALSE(date_time_ok("17-Jul-1996T02:44:25-0700"));
}

TEST_CASE("RFC 3501 §2.3.3 INTERNALDATE format: \"17-Jul-1996 02:44:25 -0700\"", "[datetime]") {
    CHECK(formatted(837596665, -420) == "17-Jul-1996 02:44:25 -0700");
    CHECK(formatted(0, 0) == " 1-Jan-1970 00:00:00 +0000");
    CHECK(formatted(-1, 0) == "31-Dec-1969 23:59:59 +0000");
    CHECK(formatted(0, 330) == " 1-Jan-1970 05:30:00 +0530");
    CHECK(formatted(0, -585) == "31-Dec-1969 14:15:00 -0945");
    CHECK(formatted(2147483648LL, 0) == "19-Jan-2038 03:14:08 +0000");
    CHECK(formatted(days_from_civil(2024, 2, 29) * kDay, 0) == "29-Feb-2024 00:00:00 +0000");
    CHECK(formatted(days_from_civil(1, 1, 1) * kDay, 0) == " 1-Jan-0001 00:00:00 +0000");
    CHECK(formatted(days_from_civil(9999, 12, 31) * kDay + kDay - 1, 0) ==
          "31-Dec-9999 23:59:59 +0000");
    CHECK(formatted(0, 0).size() == kDateTimeLength);
}

TEST_CASE("INTERNALDATE format clamps out-of-range input", "[datetime]") {
    CHECK(formatted(INT64_MIN, 0) == " 1-Jan-0001 00:00:00 +0000");
    CHECK(formatted(INT64_MAX, 0) == "31-Dec-9999 23:59:59 +0000");
    CHECK(formatted(0, 100000) == " 1-Jan-1970 23:59:00 +2359");
    CHECK(formatted(0, -100000) == "31-Dec-1969 00:01:00 -2359");
}

TEST_CASE("INTERNALDATE format into a full buffer reports overflow", "[datetime]") {
    FixedText<10> w;
    format_date_time(0, 0, w);
    CHECK_FALSE(w.ok());
}

TEST_CASE("RFC 3501 §9 date-time round trip: format then parse", "[datetime]") {
    const std::int64_t instants[] = {0,
                                     -1,
                                     837596665,
                                     951782400,
                                     2147483647,
                                     4102444800,
                                     -2208988800LL,
                                     253402300799LL,
                                     -62135596800LL,
                                     1709164800,
                                     1234567890};
    const std::int32_t zones[] = {0, 60, -60, 330, -420, 345, -585, 1439, -1439, 840, -720};
    for (std::int64_t t : instants) {
        for (std::int32_t z : zones) {
            const std::string s = formatted(t, z);
            INFO(s);
            DateTime dt;
            // Instants at the ends of the range may be clamped by the zone.
            if (!parse_date_time(s, &dt)) {
                FAIL("format produced unparsable text");
            }
            CHECK(dt.zone_minutes == z);
            const std::int64_t first = days_from_civil(1, 1, 1) * kDay;
            const std::int64_t last = days_from_civil(9999, 12, 31) * kDay + kDay - 1;
            const std::int64_t local = t + z * 60;
            if (local >= first && local <= last) CHECK(dt.utc_seconds == t);
        }
    }
}

TEST_CASE("RFC 3501 §6.4.4 date comparison: date_start_utc", "[datetime]") {
    Date d;
    REQUIRE(parse_date("1-Feb-1994", &d));
    CHECK(date_start_utc(d, 0) == days_from_civil(1994, 2, 1) * kDay);
    CHECK(date_start_utc(d, 0) == 760060800);
    // The day starts earlier in UTC east of Greenwich, later west of it.
    CHECK(date_start_utc(d, 120) == 760060800 - 7200);
    CHECK(date_start_utc(d, -420) == 760060800 + 25200);
    Date leap{2024, 2, 29};
    CHECK(date_start_utc(leap, 0) + kDay == date_start_utc(Date{2024, 3, 1}, 0));
}
