#include "core/imap/sent_date.h"

#include <cstddef>

#include "core/base/text.h"
#include "core/imap/datetime.h"

namespace tinyimapd::imap {
namespace {

// The date-time's words with comments and folding removed: letters and
// digits runs, and the single characters ',', ':', '+', '-'.
class Words {
public:
    explicit Words(std::string_view s) : s_(s) {}

    std::string_view next() {
        skip_cfws();
        const std::size_t start = i_;
        if (i_ >= s_.size()) return {};
        const char c = s_[i_];
        if (c == ',' || c == ':' || c == '+' || c == '-') return s_.substr(i_++, 1);
        while (i_ < s_.size() && alnum(s_[i_]) == alnum(c) && alnum(c) != 0) ++i_;
        if (i_ == start) ++i_;  // anything else is a word of its own
        return s_.substr(start, i_ - start);
    }

private:
    // 1 for a letter, 2 for a digit, 0 otherwise.
    static int alnum(char c) {
        if (ascii::is_digit(c)) return 2;
        const char l = ascii::to_lower(c);
        return l >= 'a' && l <= 'z' ? 1 : 0;
    }
    void skip_cfws() {
        int depth = 0;
        for (; i_ < s_.size(); ++i_) {
            const char c = s_[i_];
            if (c == '\\' && depth > 0) {
                ++i_;
            } else if (c == '(') {
                ++depth;
            } else if (c == ')' && depth > 0) {
                --depth;
            } else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
                return;
            }
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

bool number(std::string_view w, std::size_t min_digits, std::size_t max_digits,
            std::uint64_t* out) {
    return w.size() >= min_digits && w.size() <= max_digits && ascii::parse_uint(w, out);
}

unsigned month_number(std::string_view w) {
    static constexpr std::string_view kNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"};
    for (unsigned m = 0; m < 12; ++m) {
        if (ascii::iequals(w, kNames[m])) return m + 1;
    }
    return 0;
}

// obs-zone (RFC 2822 §4.3), in minutes east of UTC; false if unknown.
bool named_zone(std::string_view w, std::int32_t* minutes) {
    struct Zone {
        std::string_view name;
        std::int32_t hours;
    };
    static constexpr Zone kZones[] = {{"ut", 0},   {"gmt", 0},  {"est", -5}, {"edt", -4},
                                      {"cst", -6}, {"cdt", -5}, {"mst", -7}, {"mdt", -6},
                                      {"pst", -8}, {"pdt", -7}};
    for (const Zone& z : kZones) {
        if (ascii::iequals(w, z.name)) {
            *minutes = z.hours * 60;
            return true;
        }
    }
    // Military zones: §4.3 says their meaning is unreliable and they SHOULD
    // be taken as "-0000".
    const char l = w.size() == 1 ? ascii::to_lower(w[0]) : '\0';
    *minutes = 0;
    return l >= 'a' && l <= 'z' && l != 'j';
}

// [day-of-week ","] day month year: the day number since 1970; false if
// there is no valid date.
bool read_date(Words& words, std::string_view* w, std::int64_t* days) {
    if (!w->empty() && !ascii::is_digit((*w)[0])) {  // day-of-week
        *w = words.next();
        if (*w == ",") *w = words.next();
    }
    std::uint64_t day = 0, year = 0;
    if (!number(*w, 1, 2, &day)) return false;
    const unsigned month = month_number(words.next());
    if (!number(words.next(), 2, 4, &year) || month == 0) return false;
    if (year < 100)
        year += year < 50 ? 2000 : 1900;  // §4.3 obs-year
    else if (year < 1000)
        year += 1900;
    Date d{static_cast<std::int32_t>(year), static_cast<std::uint8_t>(month),
           static_cast<std::uint8_t>(day)};
    Date check;
    FixedText<16> text;  // the calendar check of parse_date()
    text.put_uint(d.day).put('-').put(
        std::string_view("JanFebMarAprMayJunJulAugSepOctNovDec").substr((month - 1) * 3, 3));
    text.put('-').put_uint(year);
    if (!parse_date(text.view(), &check)) return false;
    *days = days_from_civil(d.year, d.month, d.day);
    *w = words.next();
    return true;
}

// hour ":" minute [":" second]: seconds into the day; false if invalid.
bool read_time(Words& words, std::string_view* w, std::int64_t* seconds) {
    std::uint64_t h = 0, m = 0, s = 0;
    if (!number(*w, 1, 2, &h) || words.next() != ":" || !number(words.next(), 1, 2, &m)) {
        return false;
    }
    *w = words.next();
    if (*w == ":") {
        if (!number(words.next(), 1, 2, &s)) return false;
        *w = words.next();
    }
    if (h > 23 || m > 59 || s > 60) return false;
    *seconds = static_cast<std::int64_t>(h * 3600 + m * 60 + s);
    return true;
}

// zone = ("+" / "-") 4DIGIT / obs-zone; minutes east of UTC.
bool read_zone(Words& words, std::string_view w, std::int32_t* minutes) {
    if (w == "+" || w == "-") {
        std::uint64_t hhmm = 0;
        const std::string_view digits = words.next();
        if (digits.size() != 4 || !ascii::parse_uint(digits, &hhmm) || hhmm % 100 > 59) {
            return false;
        }
        const auto m = static_cast<std::int32_t>(hhmm / 100 * 60 + hhmm % 100);
        *minutes = w == "-" ? -m : m;
        return true;
    }
    return named_zone(w, minutes);
}

}  // namespace

bool parse_sent_date(std::string_view value, std::int64_t* utc_seconds) {
    Words words(value);
    std::string_view w = words.next();
    std::int64_t days = 0, seconds = 0;
    std::int32_t zone = 0;
    if (!read_date(words, &w, &days)) return false;
    if (read_time(words, &w, &seconds) && !read_zone(words, w, &zone)) zone = 0;
    *utc_seconds = days * 86400 + seconds - std::int64_t{zone} * 60;
    return true;
}

}  // namespace tinyimapd::imap
