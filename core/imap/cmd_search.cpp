// SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8): the compiled program of
// core/imap/search_program.h evaluated message by message as a resumable
// job, "* SEARCH" numbers written as they are found (DESIGN.md: a SEARCH
// over 100k messages never builds its answer in memory and yields to other
// clients between batches).
//
// Matching: flags, keywords, sizes, sequence and UID sets, the internal date
// (BEFORE ON SINCE, by its date in its own zone), the Date: header's date
// (SENTBEFORE SENTON SENTSINCE; the internal date when it cannot be read),
// header fields and bodies by ASCII case-insensitive substring. Bytes are
// compared as stored: RFC 2047 words, quoted-printable and base64 are not
// decoded yet (docs/STATUS.md).
#include "core/base/text.h"
#include "core/imap/datetime.h"
#include "core/imap/session.h"
#include "core/mime/header.h"

namespace tinyimapd::imap {

namespace {

// Messages evaluated per run_job() call before yielding to the loop.
constexpr std::uint32_t kSearchBatch = 64;

char fold(char c) {
    return ascii::to_lower(c);
}

// ASCII case-insensitive substring test.
bool contains_folded(std::string_view hay, std::string_view needle) {
    if (needle.empty()) return true;
    if (needle.size() > hay.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        std::size_t k = 0;
        while (k < needle.size() && fold(hay[i + k]) == fold(needle[k])) ++k;
        if (k == needle.size()) return true;
    }
    return false;
}

std::int64_t day_of(std::int64_t utc_seconds, std::int32_t zone_minutes) {
    const std::int64_t local = utc_seconds + std::int64_t{zone_minutes} * 60;
    return local >= 0 ? local / 86400 : (local - 86399) / 86400;
}

// The date of an RFC 2822 Date: value ("[Day,] DD Mon YYYY ..."), as days
// since 1970-01-01; false if it cannot be read.
bool date_header_day(std::string_view v, std::int64_t* day) {
    const std::size_t comma = v.find(',');
    if (comma != std::string_view::npos) v = ascii::tail(v, comma + 1);
    v = ascii::trim(v);
    // "7 Feb 1994" -> "7-Feb-1994" for parse_date.
    char buf[16];
    std::size_t n = 0, fields = 0;
    for (std::size_t i = 0; i < v.size() && n < sizeof buf; ++i) {
        const char c = v[i];
        if (c == ' ' || c == '\t') {
            if (n > 0 && buf[n - 1] != '-') {
                if (++fields == 3) break;
                buf[n++] = '-';
            }
            continue;
        }
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '-') --n;
    Date d;
    if (!parse_date({buf, n}, &d)) return false;
    *day = days_from_civil(d.year, d.month, d.day);
    return true;
}

}  // namespace

void Session::cmd_search(const ParsedCommand& cmd) {
    if (cmd.search.esearch || cmd.search.uses_modseq) {
        tagged("BAD", "", "ESEARCH and CONDSTORE are not enabled on this server");
        return;
    }
    (void)check_set(cmd);  // for job_.largest_uid and the UID flag
    job_.kind = JobKind::Search;
    job_.uid = cmd.uid;
    job_.next_position = 1;
    job_.search_count = cmd.search_node_count;
    out_.append("* SEARCH");
    run_job();
}

// One batch of the SEARCH job; called from run_job().
void Session::run_search() {
    for (std::uint32_t batch = 0; batch < kSearchBatch; ++batch) {
        if (job_.next_position > view_.exists) {
            job_.kind = JobKind::None;
            out_.append("\r\n");
            tagged("OK", "", "SEARCH completed");
            return;
        }
        if (out_.room() < kResponseReserve) return;
        const std::uint32_t seq = job_.next_position++;
        if (selected_->message(view_, seq, &job_.message) != Status::Ok) continue;
        job_.header_size = UINT64_MAX;
        bool all = true;
        for (std::uint32_t i = 0; i < job_.search_count && all; i = scratch_.search_nodes[i].end) {
            all = search_match(seq, i);
        }
        if (all) {
            FixedText<16> w;
            w.put(' ').put_uint(job_.uid ? job_.message.uid : seq);
            out_.append(w.view());
        }
    }
}

bool Session::search_match(std::uint32_t seq, std::uint32_t index) {
    const SearchNode& n = scratch_.search_nodes[index];
    const store::MessageInfo& m = job_.message;
    switch (n.key) {
        case SearchKey::All: return true;
        case SearchKey::SequenceSet: return n.set.contains(seq, view_.exists);
        case SearchKey::Uid: return n.set.contains(m.uid, job_.largest_uid);
        case SearchKey::Answered:
        case SearchKey::Deleted:
        case SearchKey::Draft:
        case SearchKey::Flagged:
        case SearchKey::Seen:
        case SearchKey::Recent: return (m.flags & n.flag_bit) != 0;
        case SearchKey::Unanswered:
        case SearchKey::Undeleted:
        case SearchKey::Undraft:
        case SearchKey::Unflagged:
        case SearchKey::Unseen: return (m.flags & n.flag_bit) == 0;
        case SearchKey::New: return (m.flags & kRecent) != 0 && (m.flags & kSeen) == 0;
        case SearchKey::Old: return (m.flags & kRecent) == 0;
        case SearchKey::Keyword:
        case SearchKey::Unkeyword: {
            unsigned bit = 0;
            const bool has = selected_->keyword_bit(n.text, false, &bit) == Status::Ok &&
                             (m.keywords & (std::uint64_t{1} << bit)) != 0;
            return n.key == SearchKey::Keyword ? has : !has;
        }
        case SearchKey::Larger: return m.size > n.number;
        case SearchKey::Smaller: return m.size < n.number;
        case SearchKey::Before:
        case SearchKey::On:
        case SearchKey::Since:
        case SearchKey::SentBefore:
        case SearchKey::SentOn:
        case SearchKey::SentSince: {
            // RFC 3501 §6.4.4: dates compare disregarding time and zone.
            std::int64_t day = day_of(m.internal_date, m.zone_minutes);
            const bool sent = n.key == SearchKey::SentBefore || n.key == SearchKey::SentOn ||
                              n.key == SearchKey::SentSince;
            std::string_view value;
            if (sent && header_value("Date", &value)) (void)date_header_day(value, &day);
            const std::int64_t want = days_from_civil(n.date.year, n.date.month, n.date.day);
            if (n.key == SearchKey::Before || n.key == SearchKey::SentBefore) return day < want;
            if (n.key == SearchKey::On || n.key == SearchKey::SentOn) return day == want;
            return day >= want;
        }
        case SearchKey::From:
        case SearchKey::To:
        case SearchKey::Cc:
        case SearchKey::Bcc:
        case SearchKey::Subject:
        case SearchKey::Header: {
            const char* name = n.key == SearchKey::From  ? "From"
                               : n.key == SearchKey::To  ? "To"
                               : n.key == SearchKey::Cc  ? "Cc"
                               : n.key == SearchKey::Bcc ? "Bcc"
                                                         : "Subject";
            std::string_view value;
            if (!header_value(n.key == SearchKey::Header ? n.field : name, &value)) return false;
            return contains_folded(value, n.text);
        }
        case SearchKey::Body: return body_contains(n.text, false);
        case SearchKey::Text: return body_contains(n.text, true);
        case SearchKey::Not: return !search_match(seq, index + 1);
        case SearchKey::Or:
            return search_match(seq, index + 1) ||
                   search_match(seq, scratch_.search_nodes[index + 1].end);
        case SearchKey::And:
            for (std::uint32_t i = index + 1; i < n.end; i = scratch_.search_nodes[i].end) {
                if (!search_match(seq, i)) return false;
            }
            return true;
        case SearchKey::ModSeq: return false;  // refused before the job starts
    }
    return false;
}

// The first header field `name` of the current message (loaded into the
// shared scratch buffer, valid until the next store read).
bool Session::header_value(std::string_view name, std::string_view* value) {
    mime_source_.box = selected_;
    mime_source_.message = &job_.message;
    mime::HeaderBlock block;
    mime::load_header(mime_source_, 0, job_.message.size, services_.stream_scratch,
                      services_.stream_scratch_size, &block);
    job_.header_size = block.body_start;
    return mime::find_field(block.fields, name, value);
}

// BODY (after the header) or TEXT (the whole message) contains `needle`,
// scanned in windows that overlap by the needle's length.
bool Session::body_contains(std::string_view needle, bool whole) {
    if (needle.empty()) return true;
    char* buf = services_.stream_scratch;
    const std::size_t cap = services_.stream_scratch_size;
    if (needle.size() * 2 > cap) return false;  // longer than half a window
    std::uint64_t pos = 0;
    if (!whole) {
        std::string_view ignored;
        if (job_.header_size == UINT64_MAX) (void)header_value("", &ignored);
        pos = job_.header_size;
    }
    std::size_t carry = 0;
    while (pos < job_.message.size) {
        std::size_t got = 0;
        if (selected_->read(job_.message, pos, buf + carry, cap - carry, &got) != Status::Ok ||
            got == 0) {
            return false;
        }
        const std::size_t have = carry + got;
        if (contains_folded({buf, have}, needle)) return true;
        carry = needle.size() - 1 < have ? needle.size() - 1 : have;
        for (std::size_t i = 0; i < carry; ++i) buf[i] = buf[have - carry + i];
        pos += got;
    }
    return false;
}

}  // namespace tinyimapd::imap
