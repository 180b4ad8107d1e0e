#include "platforms/posix/import/mail_formats.h"

#include "core/base/text.h"
#include "core/mail/flags.h"

namespace tinyimapd::posix::mailfmt {
namespace {

const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

bool iequals_prefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (ascii::to_lower(s[i]) != ascii::to_lower(prefix[i])) return false;
    }
    return true;
}

// A number of 1..max_digits decimal digits and nothing else.
bool parse_digits(std::string_view s, std::size_t max_digits, int* out) {
    if (s.empty() || s.size() > max_digits) return false;
    int v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return true;
}

bool leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {  // m 0..11
    static const int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 1 && leap(y) ? 29 : kDaysIn[m];
}

// Days since 1970-01-01 of a proleptic Gregorian date (m 1..12), and back
// (H. Hinnant's civil calendar algorithms).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t* y, unsigned* m, unsigned* d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = static_cast<std::int64_t>(yoe) + era * 400 + (*m <= 2);
}

// "HH:MM" or "HH:MM:SS" in range (a leap second allowed).
bool parse_time(std::string_view t, int* hh, int* mm, int* ss) {
    const std::size_t c1 = t.find(':');
    if (c1 == std::string_view::npos) return false;
    const std::size_t c2 = t.find(':', c1 + 1);
    *ss = 0;
    if (!parse_digits(t.substr(0, c1), 2, hh)) return false;
    if (c2 == std::string_view::npos) {
        if (!parse_digits(t.substr(c1 + 1), 2, mm)) return false;
    } else if (!parse_digits(t.substr(c1 + 1, c2 - c1 - 1), 2, mm) ||
               !parse_digits(t.substr(c2 + 1), 2, ss)) {
        return false;
    }
    return *hh <= 23 && *mm <= 59 && *ss <= 60;
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

}  // namespace

// ---- mbox ---------------------------------------------------------------------

bool parse_from_date(std::string_view line, std::int64_t* out) {
    if (line.substr(0, 5) != "From ") return false;
    constexpr std::size_t kMaxTokens = 32;  // sender, date words, zones: a few
    std::string_view tok[kMaxTokens];
    std::size_t n = 0;
    std::size_t p = 5;
    while (p < line.size() && n < kMaxTokens) {
        while (p < line.size() && (line[p] == ' ' || line[p] == '\t')) ++p;
        std::size_t e = p;
        while (e < line.size() && line[e] != ' ' && line[e] != '\t' && line[e] != '\r') ++e;
        if (e > p) tok[n++] = line.substr(p, e - p);
        p = e + 1;
    }
    for (std::size_t i = 0; i + 3 < n; ++i) {
        int mon = -1;
        for (int m = 0; m < 12; ++m) {
            if (tok[i].size() == 3 && iequals_prefix(tok[i], kMonths[m])) mon = m;
        }
        if (mon < 0) continue;
        int day = 0, hh = 0, mm = 0, ss = 0, year = 0;
        if (!parse_digits(tok[i + 1], 2, &day)) continue;
        if (!parse_time(tok[i + 2], &hh, &mm, &ss)) continue;
        std::size_t yi = i + 3;
        // A zone name ("PST", "+0100" is after the year) between time and year.
        if (!tok[yi].empty() && !is_digit(tok[yi][0]) && yi + 1 < n) ++yi;
        if (!parse_digits(tok[yi], 4, &year) || year < 1970) continue;
        if (day < 1 || day > days_in_month(year, mon)) continue;
        *out = days_from_civil(year, static_cast<unsigned>(mon + 1), static_cast<unsigned>(day)) *
                   86400 +
               hh * 3600 + mm * 60 + ss;
        return true;
    }
    return false;
}

std::string format_from_date(std::int64_t t) {
    if (t < 0) t = 0;  // before 1970: the epoch (export writes a valid date)
    const std::int64_t days = t / 86400;
    const auto secs = static_cast<int>(t % 86400);
    std::int64_t y = 0;
    unsigned m = 0, d = 0;
    civil_from_days(days, &y, &m, &d);
    if (y > 9999) return "Fri Dec 31 23:59:59 9999";
    FixedText<64> s;
    s.put(kDays[(days + 4) % 7]).put(' ').put(kMonths[m - 1]).put(' ');
    if (d < 10) s.put(' ');
    s.put_uint(d).put(' ');
    const int hms[] = {secs / 3600, secs / 60 % 60, secs % 60};
    for (int i = 0; i < 3; ++i) {
        if (hms[i] < 10) s.put('0');
        s.put_uint(static_cast<std::uint64_t>(hms[i]));
        s.put(i < 2 ? ':' : ' ');
    }
    s.put_uint(static_cast<std::uint64_t>(y));
    return std::string(s.view());
}

bool is_state_header(std::string_view line) {
    return iequals_prefix(line, "Status:") || iequals_prefix(line, "X-Status:") ||
           iequals_prefix(line, "X-Keywords:") || iequals_prefix(line, "X-UID:") ||
           iequals_prefix(line, "X-IMAP:") || iequals_prefix(line, "X-IMAPbase:");
}

void split_words(std::string_view s, std::vector<std::string>* out) {
    std::size_t p = 0;
    while (p < s.size()) {
        while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == ',')) ++p;
        std::size_t e = p;
        while (e < s.size() && s[e] != ' ' && s[e] != '\t' && s[e] != ',') ++e;
        if (e > p) out->emplace_back(s.substr(p, e - p));
        p = e;
    }
}

void apply_state_header(std::string_view line, std::uint8_t* flags,
                        std::vector<std::string>* keywords) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    const std::string_view v = line.substr(colon + 1);
    auto has = [v](char c) { return v.find(c) != std::string_view::npos; };
    if (iequals_prefix(line, "Status:")) {
        if (has('R')) *flags |= mail::kSeen;
    } else if (iequals_prefix(line, "X-Status:")) {
        if (has('A')) *flags |= mail::kAnswered;
        if (has('F')) *flags |= mail::kFlagged;
        if (has('T')) *flags |= mail::kDraft;
        if (has('D')) *flags |= mail::kDeleted;
    } else if (iequals_prefix(line, "X-Keywords:")) {
        split_words(v, keywords);
    }
}

std::string mbox_state_headers(std::uint8_t flags, const std::vector<std::string>& keywords) {
    std::string h = (flags & mail::kSeen) ? "Status: RO\n" : "Status: O\n";
    std::string x;
    if (flags & mail::kAnswered) x += 'A';
    if (flags & mail::kFlagged) x += 'F';
    if (flags & mail::kDraft) x += 'T';
    if (flags & mail::kDeleted) x += 'D';
    if (!x.empty()) h += "X-Status: " + x + "\n";
    std::string k;
    for (const std::string& name : keywords) {
        if (!k.empty()) k += ' ';
        k += name;
    }
    if (!k.empty()) h += "X-Keywords: " + k + "\n";
    return h;
}

bool needs_from_quote(std::string_view line) {
    std::size_t q = 0;
    while (q < line.size() && line[q] == '>') ++q;
    return line.substr(q, 5) == "From ";
}

MboxParser::Line MboxParser::feed(std::string_view line, bool has_lf, std::string* out) {
    ended_one_ = false;
    // RFC 4155 §2: a separator is a "From " line at the start or after a
    // blank line; inside a message, only one with a valid date counts (a
    // body line "From here on..." that escaped quoting stays in the body).
    std::int64_t date = 0;
    const bool from = line.substr(0, 5) == "From ";
    if (from && (first_ || (prev_blank_ && parse_from_date(line, &date)))) {
        ended_one_ = active_;
        if (active_) ended_ = std::move(state_);
        state_ = MboxState{};
        state_.date_known = parse_from_date(line, &date);
        state_.date = state_.date_known ? date : 0;
        active_ = true;
        first_ = false;
        prev_blank_ = false;
        in_header_ = true;
        skipping_ = false;
        pending_blank_ = false;
        return Line::Start;
    }
    if (first_) return Line::NotMbox;
    prev_blank_ = line.empty();
    if (in_header_) {
        if (skipping_ && !line.empty() && (line[0] == ' ' || line[0] == '\t')) return Line::Part;
        skipping_ = false;
        if (line.empty()) {
            in_header_ = false;
        } else if (is_state_header(line)) {
            skipping_ = true;
            apply_state_header(line, &state_.flags, &state_.keywords);
            return Line::Part;
        }
    }
    // mboxrd: ">From ", ">>From ", ... lose one '>'.
    std::size_t q = 0;
    while (q < line.size() && line[q] == '>') ++q;
    if (q > 0 && line.substr(q, 5) == "From ") line.remove_prefix(1);
    if (!in_header_ && line.empty() && has_lf) {
        // The blank line before the next "From " belongs to the mbox.
        if (pending_blank_) out->append("\r\n");
        pending_blank_ = true;
        return Line::Part;
    }
    if (pending_blank_) {
        out->append("\r\n");
        pending_blank_ = false;
    }
    out->append(line);
    if (has_lf) out->append("\r\n");
    return Line::Part;
}

bool split_mbox(std::string_view text, std::vector<MboxMessage>* out) {
    MboxParser p;
    std::string bytes;
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t e = text.find('\n', at);
        const bool has_lf = e != std::string_view::npos;
        if (!has_lf) e = text.size();
        std::string_view line = text.substr(at, e - at);
        at = has_lf ? e + 1 : e;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        bytes.clear();
        switch (p.feed(line, has_lf, &bytes)) {
            case MboxParser::Line::NotMbox: return false;
            case MboxParser::Line::Start:
                if (p.ended_one()) out->back().state = p.ended();
                out->push_back(MboxMessage{});
                break;
            case MboxParser::Line::Part: out->back().body += bytes; break;
        }
    }
    if (p.active()) out->back().state = p.state();
    return !out->empty() || text.empty();
}

// ---- Maildir -------------------------------------------------------------------

std::vector<std::string> parse_dovecot_keywords(std::string_view text) {
    std::vector<std::string> names(26);
    std::size_t at = 0;
    while (at < text.size()) {
        std::size_t e = text.find('\n', at);
        if (e == std::string_view::npos) e = text.size();
        std::string_view line = text.substr(at, e - at);
        at = e + 1;
        // "<index> <name>": the index in decimal, one space, the name.
        const std::size_t sp = line.find(' ');
        int idx = 0;
        if (sp == std::string_view::npos || !parse_digits(line.substr(0, sp), 2, &idx) || idx >= 26)
            continue;
        // The name ends at a space or any other control byte (a CR inside a
        // line included: a keyword is an atom, RFC 3501 §9 flag-keyword).
        std::string_view name = line.substr(sp + 1);
        std::size_t end = 0;
        while (end < name.size() && static_cast<unsigned char>(name[end]) > 0x20) ++end;
        name = name.substr(0, end);
        if (!name.empty()) names[static_cast<std::size_t>(idx)] = std::string(name);
    }
    return names;
}

void maildir_info(std::string_view file_name, const std::vector<std::string>& keyword_names,
                  std::uint8_t* flags, std::vector<std::string>* keywords) {
    // The info is what follows the last separator ("unique:2,flags").
    std::size_t info = std::string_view::npos;
    for (const char* sep : {":2,", ";2,", "!2,"}) {
        const std::size_t at = file_name.rfind(sep);
        if (at != std::string_view::npos && (info == std::string_view::npos || at > info))
            info = at;
    }
    if (info == std::string_view::npos) return;
    for (char c : file_name.substr(info + 3)) {
        switch (c) {
            case 'D': *flags |= mail::kDraft; break;
            case 'F': *flags |= mail::kFlagged; break;
            case 'R': *flags |= mail::kAnswered; break;
            case 'S': *flags |= mail::kSeen; break;
            case 'T': *flags |= mail::kDeleted; break;
            default:
                if (c >= 'a' && c <= 'z') {
                    const auto i = static_cast<std::size_t>(c - 'a');
                    if (i >= keyword_names.size() || keyword_names[i].empty()) break;
                    bool have = false;
                    for (const std::string& k : *keywords) have = have || k == keyword_names[i];
                    if (!have) keywords->push_back(keyword_names[i]);
                }
        }
    }
}

std::string maildir_flags(std::uint8_t flags, std::uint64_t keywords) {
    std::string f;  // in ASCII order, as the Maildir spec asks
    if (flags & mail::kDraft) f += 'D';
    if (flags & mail::kFlagged) f += 'F';
    if (flags & mail::kAnswered) f += 'R';
    if (flags & mail::kSeen) f += 'S';
    if (flags & mail::kDeleted) f += 'T';
    for (unsigned b = 0; b < 26; ++b) {
        if (keywords & (std::uint64_t{1} << b)) f += static_cast<char>('a' + b);
    }
    return f;
}

}  // namespace tinyimapd::posix::mailfmt
