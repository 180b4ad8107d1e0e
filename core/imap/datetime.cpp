#include "core/imap/datetime.h"

#include <cstddef>

namespace tinyimapd::imap {
namespace {

constexpr std::int64_t kSecondsPerMinute = 60;
constexpr std::int64_t kSecondsPerDay = 86400;
constexpr unsigned kMaxHour = 23;
constexpr unsigned kMaxMinute = 59;
constexpr unsigned kMaxSecond = 60;  // leap second (RFC 5322 §3.3)
constexpr std::size_t kMonthNameLength = 3;

constexpr std::string_view kMonthNames[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_leap_year(std::int32_t y) {
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

unsigned days_in_month(std::int32_t y, unsigned m) {
    constexpr std::uint8_t kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return (m == 2 && is_leap_year(y)) ? 29u : kDays[m - 1];
}

// Reads exactly `n` digits at text[*pos].
bool digits(std::string_view text, std::size_t* pos, std::size_t n, unsigned* out) {
    if (*pos > text.size() || text.size() - *pos < n) return false;
    unsigned v = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = text[*pos + i];
        if (!ascii::is_digit(c)) return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    *pos += n;
    *out = v;
    return true;
}

bool expect(std::string_view text, std::size_t* pos, char c) {
    if (*pos >= text.size() || text[*pos] != c) return false;
    ++*pos;
    return true;
}

// date-month, case-insensitive; returns 1..12.
bool month(std::string_view text, std::size_t* pos, unsigned* out) {
    const std::string_view name = ascii::head(ascii::tail(text, *pos), kMonthNameLength);
    for (unsigned i = 0; i < 12; ++i) {
        if (ascii::iequals(name, kMonthNames[i])) {
            *pos += kMonthNameLength;
            *out = i + 1;
            return true;
        }
    }
    return false;
}

// "-" date-month "-" date-year, then checks the day against the month.
bool month_year(std::string_view text, std::size_t* pos, unsigned day, Date* out) {
    unsigned m = 0;
    unsigned y = 0;
    if (!expect(text, pos, '-') || !month(text, pos, &m) || !expect(text, pos, '-') ||
        !digits(text, pos, 4, &y)) {
        return false;
    }
    const auto year = static_cast<std::int32_t>(y);
    if (year < kMinYear || day < 1 || day > days_in_month(year, m)) return false;
    out->year = year;
    out->month = static_cast<std::uint8_t>(m);
    out->day = static_cast<std::uint8_t>(day);
    return true;
}

struct Civil {
    std::int32_t year;
    unsigned month;
    unsigned day;
};

// Inverse of days_from_civil (Hinnant's civil_from_days).
Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
    return {static_cast<std::int32_t>(y), m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

void put_2digits(char* p, unsigned v) {
    p[0] = static_cast<char>('0' + v / 10 % 10);
    p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

std::int64_t days_from_civil(std::int32_t y, unsigned m, unsigned d) {
    const std::int64_t yy = static_cast<std::int64_t>(y) - (m <= 2 ? 1 : 0);
    const std::int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    const auto yoe = static_cast<unsigned>(yy - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool parse_date(std::string_view text, Date* out) {
    // date-day = 1*2DIGIT
    std::size_t pos = 0;
    unsigned day = 0;
    if (!digits(text, &pos, 2, &day)) {
        pos = 0;
        if (!digits(text, &pos, 1, &day)) return false;
    }
    Date d;
    if (!month_year(text, &pos, day, &d) || pos != text.size()) return false;
    *out = d;
    return true;
}

bool parse_date_time(std::string_view text, DateTime* out) {
    // date-day-fixed = (SP DIGIT) / 2DIGIT; also a bare DIGIT (see header).
    const bool padded = !text.empty() && text[0] == ' ';
    std::size_t pos = padded ? 1 : 0;
    unsigned day = 0;
    if (padded || !digits(text, &pos, 2, &day)) {
        if (!digits(text, &pos, 1, &day)) return false;
    }
    Date d;
    unsigned hh = 0;
    unsigned mm = 0;
    unsigned ss = 0;
    unsigned zone = 0;
    if (!month_year(text, &pos, day, &d) || !expect(text, &pos, ' ') ||
        !digits(text, &pos, 2, &hh) || !expect(text, &pos, ':') || !digits(text, &pos, 2, &mm) ||
        !expect(text, &pos, ':') || !digits(text, &pos, 2, &ss) || !expect(text, &pos, ' ')) {
        return false;
    }
    if (pos >= text.size() || (text[pos] != '+' && text[pos] != '-')) return false;
    const bool west = text[pos] == '-';
    ++pos;
    if (!digits(text, &pos, 4, &zone) || pos != text.size()) return false;
    if (hh > kMaxHour || mm > kMaxMinute || ss > kMaxSecond) return false;
    const unsigned zh = zone / 100;
    const unsigned zm = zone % 100;
    if (zh > kMaxHour || zm > kMaxMinute) return false;
    const auto zone_minutes = static_cast<std::int32_t>(zh * 60 + zm) * (west ? -1 : 1);
    const std::int64_t local = days_from_civil(d.year, d.month, d.day) * kSecondsPerDay +
                               static_cast<std::int64_t>(hh) * 3600 +
                               static_cast<std::int64_t>(mm) * kSecondsPerMinute +
                               static_cast<std::int64_t>(ss);
    out->utc_seconds = local - static_cast<std::int64_t>(zone_minutes) * kSecondsPerMinute;
    out->zone_minutes = zone_minutes;
    return true;
}

void format_date_time(std::int64_t utc_seconds, std::int32_t zone_minutes, TextWriter& w) {
    if (zone_minutes > kMaxZoneMinutes) zone_minutes = kMaxZoneMinutes;
    if (zone_minutes < -kMaxZoneMinutes) zone_minutes = -kMaxZoneMinutes;
    const std::int64_t first = days_from_civil(kMinYear, 1, 1) * kSecondsPerDay;
    const std::int64_t last =
        days_from_civil(kMaxYear, 12, 31) * kSecondsPerDay + kSecondsPerDay - 1;
    // Clamp before adding the zone so the sum cannot overflow.
    if (utc_seconds < first - kSecondsPerDay) utc_seconds = first - kSecondsPerDay;
    if (utc_seconds > last + kSecondsPerDay) utc_seconds = last + kSecondsPerDay;
    std::int64_t local = utc_seconds + static_cast<std::int64_t>(zone_minutes) * kSecondsPerMinute;
    if (local < first) local = first;
    if (local > last) local = last;

    const std::int64_t days = floor_div(local, kSecondsPerDay);
    const auto secs = static_cast<unsigned>(local - days * kSecondsPerDay);
    const Civil c = civil_from_days(days);
    const auto year = static_cast<unsigned>(c.year);

    char buf[kDateTimeLength];
    // date-day-fixed: " 7" or "17".
    buf[0] = c.day < 10 ? ' ' : static_cast<char>('0' + c.day / 10);
    buf[1] = static_cast<char>('0' + c.day % 10);
    buf[2] = '-';
    const std::string_view mon = kMonthNames[c.month - 1];
    buf[3] = mon[0];
    buf[4] = mon[1];
    buf[5] = mon[2];
    buf[6] = '-';
    put_2digits(buf + 7, year / 100);
    put_2digits(buf + 9, year % 100);
    buf[11] = ' ';
    put_2digits(buf + 12, secs / 3600);
    buf[14] = ':';
    put_2digits(buf + 15, secs / 60 % 60);
    buf[17] = ':';
    put_2digits(buf + 18, secs % 60);
    buf[20] = ' ';
    buf[21] = zone_minutes < 0 ? '-' : '+';
    const auto z = static_cast<unsigned>(zone_minutes < 0 ? -zone_minutes : zone_minutes);
    put_2digits(buf + 22, z / 60);
    put_2digits(buf + 24, z % 60);
    w.put(std::string_view(buf, kDateTimeLength));
}

std::int64_t date_start_utc(const Date& date, std::int32_t zone_minutes) {
    return days_from_civil(date.year, date.month, date.day) * kSecondsPerDay -
           static_cast<std::int64_t>(zone_minutes) * kSecondsPerMinute;
}

}  // namespace tinyimapd::imap
