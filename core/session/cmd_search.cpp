// SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8): the compiled program of
// core/imap/search_program.h evaluated message by message as a resumable
// job (DESIGN.md: a SEARCH over 100k messages never builds its answer in
// memory and yields to other clients between batches). A batch ends after
// kSearchBatch messages or once kSearchWorkBudget bytes of headers and
// bodies have been read for text keys; a BODY or TEXT walk through a large
// message stops there too and goes on in the next batch (mime::TextWalk,
// body_contains), so one very large message is read in bounded steps.
//
// Matching: flags, keywords, sizes, sequence and UID sets, the internal date
// (BEFORE ON SINCE, by its date in its own zone; SAVED*, as the store keeps
// no save date: RFC 8514 §4.3), the Date: header's date
// (SENTBEFORE SENTON SENTSINCE, time and zone disregarded; the internal date
// when it cannot be read), MODSEQ (RFC 7162 §3.1.5: mod-sequence >= n; the
// entry name and type are ignored, as there are no per-flag mod-sequences).
// Text keys compare substrings under i;unicode-casemap (RFC 5051, as
// I18NLEVEL=1 makes SEARCH do: RFC 5255 §4.2) of decoded text
// (core/mime/text_search.h): FROM TO CC BCC SUBJECT
// HEADER against every field of that name, unfolded and RFC 2047-decoded;
// BODY against the leaf parts' bodies decoded by their Content-Transfer-
// Encoding (and charset) and the headers of encapsulated messages; TEXT
// against those and all headers. A string longer than kMaxSearchString
// is refused with NO [LIMIT] (its matcher table would not fit).
//
// Answers: "* SEARCH n..." streamed as matches are found, with
// " (MODSEQ n)" appended when a MODSEQ key was used and something matched
// (RFC 7162 §3.1.6); with RETURN (RFC 4731 §3.1, RFC 4466 §2.6.2) one
// "* ESEARCH (TAG "t") [UID] MIN a MAX b COUNT c ALL set [MODSEQ m]",
// options given only when requested (COUNT always when requested, the others
// only when something matched); ALL is a sequence-set of ascending ranges.
// PARTIAL a:b (RFC 5267 §4.4) answers "PARTIAL (a:b set)" with the a-th to
// b-th matches in mailbox order, "PARTIAL (a:b NIL)" when there are none.
// Up to kHeldRanges ranges are held so that MIN MAX COUNT come before ALL;
// a longer ALL is streamed as it is found and MAX and COUNT follow it (the
// ABNF allows any order). MODSEQ follows RFC 4731 §3.2.
//
// Memory: the shared stream scratch holds the matcher's failure table
// (kMaxSearchString 16-bit entries) and, after it, the window the header and
// MIME walk use; nothing else.
#include "core/base/text.h"
#include "core/imap/datetime.h"
#include "core/mime/encoded_word.h"
#include "core/mime/header.h"
#include "core/mime/text_search.h"
#include "core/mime/unicase.h"
#include "core/session/session.h"

namespace tinyimapd::session {

namespace {

// Messages evaluated per run_job() call before yielding to the loop, and the
// message bytes (headers, bodies) read for text keys after which it yields
// sooner: one search through large mail must not hold up other clients.
constexpr std::uint32_t kSearchBatch = 64;
constexpr std::uint64_t kSearchWorkBudget = 256 * 1024;

// Longest string a text key may search for, and its prepared form
// (i;unicode-casemap, RFC 5051 §2, may be longer than the string): the
// prepared form, then its matcher table (two bytes per byte), sit at the
// start of the stream scratch.
constexpr std::size_t kMaxSearchString = 1024;
constexpr std::size_t kMaxPreparedNeedle = 2 * kMaxSearchString;
constexpr std::size_t kNeedleTableBytes = kMaxPreparedNeedle * 3 + 2;  // + alignment

}  // namespace

// RFC 5182 §2.4 and RFC 9394 §3.2: with ALL or COUNT, or with none of MIN,
// MAX and PARTIAL, "$" is every match; otherwise what MIN, MAX and PARTIAL
// return.
bool saves_every_match(std::uint8_t mask) {
    return (mask & (kReturnAll | kReturnCount)) != 0 ||
           (mask & (kReturnMin | kReturnMax | kReturnPartial)) == 0;
}

// The ESEARCH state of a SEARCH or SORT from its RETURN options.
void start_search_result(SearchResult* r, const SearchOptions& o) {
    r->esearch = o.esearch;
    r->mask = o.return_mask;
    r->modseq = o.uses_modseq;
    r->partial_first = o.partial_first;
    r->partial_last = o.partial_last;
    r->partial_lo = o.partial_first < o.partial_last ? o.partial_first : o.partial_last;
    r->partial_hi = o.partial_first < o.partial_last ? o.partial_last : o.partial_first;
    r->update = o.update;
}

// " PARTIAL (a:b " as the client wrote the range (RFC 5267 §5 ret-data-partial).
void append_partial_head(OutBuffer& out, const SearchResult& r) {
    FixedText<48> w;
    w.put(" PARTIAL (").put_uint(r.partial_first).put(':').put_uint(r.partial_last).put(' ');
    out.append(w.view());
}

// One range of an ESEARCH ALL sequence-set (RFC 3501 §9 seq-range).
void append_range(OutBuffer& out, std::uint32_t lo, std::uint32_t hi, bool first) {
    FixedText<32> w;
    if (!first) w.put(',');
    w.put_uint(lo);
    if (hi != lo) w.put(':').put_uint(hi);
    out.append(w.view());
}

// The day (since 1970-01-01) of a time in a zone.
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
    // RFC 2822 §4.3 obs-year: two digits are 1950-2049, three are 1900+.
    std::size_t year = n;
    while (year > 0 && buf[year - 1] != '-') --year;
    const std::size_t digits = n - year;
    if (year > 0 && (digits == 2 || digits == 3)) {
        std::uint64_t y = 0;
        if (!ascii::parse_uint({buf + year, digits}, &y)) return false;
        y += digits == 3 || y >= 50 ? 1900 : 2000;
        FixedText<sizeof buf> w;
        w.put({buf, year}).put_uint(y);
        n = w.size();
        for (std::size_t i = 0; i < n; ++i) buf[i] = w.view()[i];
    }
    Date d;
    if (!parse_date({buf, n}, &d)) return false;
    *day = days_from_civil(d.year, d.month, d.day);
    return true;
}

namespace {

bool is_text_key(SearchKey k) {
    switch (k) {
        case SearchKey::Bcc:
        case SearchKey::Body:
        case SearchKey::Cc:
        case SearchKey::From:
        case SearchKey::Header:
        case SearchKey::Subject:
        case SearchKey::Text:
        case SearchKey::To: return true;
        default: return false;
    }
}

}  // namespace

// RFC 5182 §2.1: "$" is the saved result. Replaced before the command
// runs by a copy in the command's numbers (dollar_), so that a SAVE search
// may rewrite saved_result_ while it reads "$": UIDs for a UID command and
// for SEARCH's keys (a "$" key matches by UID, as "UID $" does), sequence
// numbers of this session's view otherwise (each UID range is two binary
// searches; UIDs no longer in the mailbox drop out, so the copy never needs
// more ranges than the result).
void Session::substitute_saved_result(ParsedCommand* cmd) {
    bool search_uses_it = false;
    // SORT and THREAD take SEARCH's criteria (RFC 5256 §3), "$" included.
    if (cmd->id == CommandId::Search || cmd->id == CommandId::Sort ||
        cmd->id == CommandId::Thread) {
        for (std::size_t i = 0; i < cmd->search_node_count; ++i) {
            search_uses_it = search_uses_it || scratch_.search_nodes[i].set.is_last_command();
        }
    }
    if (!cmd->set.is_last_command() && !search_uses_it) return;
    dollar_.clear();
    if (cmd->uid || search_uses_it || selected_ == nullptr) {
        dollar_ = saved_result_;
    } else {
        for (std::size_t i = 0; i < saved_result_.range_count(); ++i) {
            const SeqRange& r = saved_result_.range(i);
            const std::uint32_t first = first_seq_at_or_above(r.lo);
            if (first == 0) break;
            const std::uint32_t after = r.hi == UINT32_MAX ? 0 : first_seq_at_or_above(r.hi + 1);
            const std::uint32_t last = after == 0 ? view_.exists : after - 1;
            if (first <= last) (void)dollar_.add_range(first, last);
        }
    }
    if (cmd->set.is_last_command()) cmd->set = dollar_.as_set();
    for (std::size_t i = 0; search_uses_it && i < cmd->search_node_count; ++i) {
        SearchNode& n = scratch_.search_nodes[i];
        if (!n.set.is_last_command()) continue;
        n.key = SearchKey::Uid;
        n.set = dollar_.as_set();
    }
}

// RFC 5182 §2.5: a result that does not fit is not saved; "$" is empty.
void Session::search_refused_save() {
    saved_result_.clear();
    FixedText<64> w;
    w.put("Search result too fragmented to save (over ")
        .put_uint(SavedResult::kCapacity)
        .put(" ranges)");
    tagged("NO", "NOTSAVED", w.view());
}

// What SEARCH, SORT and THREAD refuse before they start (answered).
bool Session::search_limits_ok(const ParsedCommand& cmd) {
    for (std::size_t i = 0; i < cmd.search_node_count; ++i) {
        const SearchNode& n = scratch_.search_nodes[i];
        if (is_text_key(n.key) &&
            (n.text.size() > kMaxSearchString ||
             mime::unicase_prepare(n.text, nullptr, 0).size > kMaxPreparedNeedle)) {
            tagged("NO", "LIMIT", "Search string too long");
            return false;
        }
    }
    if (services_.stream_scratch_size < kNeedleTableBytes + mime::kMinTextScratch) {
        tagged("NO", "SERVERBUG", "SEARCH has no room to work");
        return false;
    }
    return true;
}

void Session::cmd_search(const ParsedCommand& cmd) {
    if (cmd.search.update && context_tag_in_use()) {
        tagged("BAD", "", "Tag reuse: an updating context has this tag");  // RFC 5267 §4.3
        return;
    }
    // RFC 5182 §2.1: a SAVE search answered NO leaves "$" empty; an OK one
    // sets it (filled as matches are found, "$" having been copied).
    if ((cmd.search.return_mask & kReturnSave) != 0) saved_result_.clear();
    if (!search_limits_ok(cmd)) return;
    // RFC 7162 §3.1: MODSEQ enables CONDSTORE, before any of our responses.
    if (cmd.search.uses_modseq) enable_condstore();
    SetWalk walk;
    (void)check_set(cmd, &walk);  // for largest_uid and the UID flag
    SearchJob& job = job_.start<SearchJob>(JobKind::Search);
    job.walk = walk;
    job.search_count = static_cast<std::uint32_t>(cmd.search_node_count);
    start_search_result(&job.result, cmd.search);
    if (rev2_ && !job.result.esearch) {
        // RFC 9051 §6.4.4: no result option means ALL, answered by ESEARCH
        // (the SEARCH response is IMAP4rev1's).
        job.result.esearch = true;
        job.result.mask = kReturnAll;
    }
    start_context(job.result, cmd, walk.largest_uid);
    if (job.result.esearch && (job.result.mask & ~kReturnSave) == 0) {
        // RFC 5182 §1: SAVE alone suppresses the ESEARCH response.
    } else if (job.result.esearch) {
        // RFC 4466 §2.6.2 search-correlator; a tag holds no '"' or '\\'.
        FixedText<kMaxTagLength + 32> w;
        w.put("* ESEARCH (TAG \"").put({tag_, tag_length_}).put("\")");
        if (cmd.uid) w.put(" UID");
        out_.append(w.view());
    } else {
        out_.append("* SEARCH");
    }
    run_job();
}

// One batch of the SEARCH job; called from run_job().
void Session::run_search() {
    SearchJob& job = job_.get<SearchJob>();
    job.result.work = 0;
    for (std::uint32_t batch = 0; batch < kSearchBatch; ++batch) {
        if (out_.room() < kResponseReserve || job.result.work >= kSearchWorkBudget) return;
        if (job.walk.next_position > view_.exists) {
            finish_search();
            return;
        }
        const std::uint32_t seq = job.walk.next_position;
        const SearchStep step = search_next(job);
        if (step == SearchStep::Suspended) return;  // this message again, in the next batch
        if (step == SearchStep::Match) search_found(job.walk.uid ? job.message.uid : seq);
    }
}

// The message at job.walk.next_position against the program: a match or
// not (and the walk moves on), or suspended (a BODY/TEXT walk ran out of
// the batch's budget: the same message next time). SEARCH, SORT, THREAD.
Session::SearchStep Session::search_next(SearchJob& job) {
    const std::uint32_t seq = job.walk.next_position;
    bool all = selected_->message(view_, seq, &job.message) == Status::Ok;
    job.header_size = UINT64_MAX;
    job.result.suspended = false;
    job.result.text_ordinal = 0;
    for (std::uint32_t i = 0; i < job.search_count && all && !job.result.suspended;
         i = scratch_.search_nodes[i].end) {
        all = search_match(seq, i);
    }
    if (job.result.suspended) return SearchStep::Suspended;
    ++job.walk.next_position;
    job.result.text_done = 0;
    job.result.text_results = 0;
    job.result.walking = false;
    return all ? SearchStep::Match : SearchStep::NoMatch;
}

// BEFORE ON SINCE and SENTBEFORE SENTON SENTSINCE (RFC 3501 §6.4.4), and
// SAVEDBEFORE SAVEDON SAVEDSINCE (RFC 8514 §4.3): dates compare disregarding
// time and zone; the SENT* keys use the Date header.
bool Session::search_date_matches(const SearchNode& n) {
    SearchJob& job = job_.get<SearchJob>();
    const store::MessageInfo& m = job.message;
    std::int64_t day = day_of(m.internal_date, m.zone_minutes);
    const bool saved = n.key == SearchKey::SavedBefore || n.key == SearchKey::SavedOn ||
                       n.key == SearchKey::SavedSince;
    // RFC 8514 §4.3: the save date's day in UTC (FETCH SAVEDATE's zone;
    // every mailbox keeps save dates, so SAVEDATESUPPORTED matches all); a
    // message that has none (docs/STORAGE.md) falls back on the internal
    // date, as a mailbox without save dates does.
    if (saved && m.save_date != store::kNoSaveDate) day = day_of(m.save_date, 0);
    const bool sent = n.key == SearchKey::SentBefore || n.key == SearchKey::SentOn ||
                      n.key == SearchKey::SentSince;
    std::string_view value;
    if (sent && header_value("Date", &value)) (void)date_header_day(value, &day);
    const std::int64_t want = days_from_civil(n.date.year, n.date.month, n.date.day);
    if (n.key == SearchKey::Before || n.key == SearchKey::SentBefore ||
        n.key == SearchKey::SavedBefore) {
        return day < want;
    }
    if (n.key == SearchKey::On || n.key == SearchKey::SentOn || n.key == SearchKey::SavedOn) {
        return day == want;
    }
    return day >= want;
}

// The keys a message's flags, keywords and size decide (RFC 3501 §6.4.4),
// for SEARCH and for the programs CONTEXT keeps (RFC 5267 §4).
bool Session::is_flag_key(SearchKey key) {
    switch (key) {
        case SearchKey::Answered:
        case SearchKey::Deleted:
        case SearchKey::Draft:
        case SearchKey::Flagged:
        case SearchKey::Seen:
        case SearchKey::Recent:
        case SearchKey::Unanswered:
        case SearchKey::Undeleted:
        case SearchKey::Undraft:
        case SearchKey::Unflagged:
        case SearchKey::Unseen:
        case SearchKey::New:
        case SearchKey::Old:
        case SearchKey::Larger:
        case SearchKey::Smaller: return true;
        default: return false;
    }
}

bool Session::flags_match(SearchKey key, std::uint8_t flag_bit, std::string_view keyword,
                          std::uint64_t number, const store::MessageInfo& message) {
    store::MessageInfo m = message;
    user_flags(&m);  // RFC 4314 §4: this user's \Seen
    switch (key) {
        case SearchKey::Unanswered:
        case SearchKey::Undeleted:
        case SearchKey::Undraft:
        case SearchKey::Unflagged:
        case SearchKey::Unseen: return (m.flags & flag_bit) == 0;
        case SearchKey::New: return (m.flags & mail::kRecent) != 0 && (m.flags & mail::kSeen) == 0;
        case SearchKey::Old: return (m.flags & mail::kRecent) == 0;
        case SearchKey::Keyword:
        case SearchKey::Unkeyword: {
            unsigned bit = 0;
            const bool has = selected_->keyword_bit(keyword, false, &bit) == Status::Ok &&
                             (m.keywords & (std::uint64_t{1} << bit)) != 0;
            return key == SearchKey::Keyword ? has : !has;
        }
        case SearchKey::Larger: return m.size > number;
        case SearchKey::Smaller: return m.size < number;
        default: return (m.flags & flag_bit) != 0;  // ANSWERED ... RECENT
    }
}

bool Session::search_match(std::uint32_t seq, std::uint32_t index) {
    SearchJob& job = job_.get<SearchJob>();
    const SearchNode& n = scratch_.search_nodes[index];
    const store::MessageInfo& m = job.message;
    switch (n.key) {
        case SearchKey::All: return true;
        case SearchKey::SequenceSet: return n.set.contains(seq, view_.exists);
        case SearchKey::Uid: return n.set.contains(m.uid, job.walk.largest_uid);
        case SearchKey::Answered:
        case SearchKey::Deleted:
        case SearchKey::Draft:
        case SearchKey::Flagged:
        case SearchKey::Seen:
        case SearchKey::Recent:
        case SearchKey::Unanswered:
        case SearchKey::Undeleted:
        case SearchKey::Undraft:
        case SearchKey::Unflagged:
        case SearchKey::Unseen:
        case SearchKey::New:
        case SearchKey::Old:
        case SearchKey::Larger:
        case SearchKey::Smaller:
        case SearchKey::Keyword:
        case SearchKey::Unkeyword: return flags_match(n.key, n.flag_bit, n.text, n.number, m);
        case SearchKey::Older:
        case SearchKey::Younger: {
            // RFC 5032 §2: the target is now minus the interval; OLDER
            // matches at or before it, YOUNGER at or after it.
            const std::int64_t target =
                services_.clock->wall_seconds() - static_cast<std::int64_t>(n.number);
            return n.key == SearchKey::Older ? m.internal_date <= target
                                             : m.internal_date >= target;
        }
        case SearchKey::Before:
        case SearchKey::On:
        case SearchKey::Since:
        case SearchKey::SentBefore:
        case SearchKey::SentOn:
        case SearchKey::SentSince:
        case SearchKey::SavedBefore:
        case SearchKey::SavedOn:
        case SearchKey::SavedSince: return search_date_matches(n);
        case SearchKey::SaveDateSupported: return true;
        // RFC 8474 §6: not one of our ids (0): nothing; THREADID is NIL (§5.2).
        case SearchKey::EmailId: return n.number != 0 && m.email_id == n.number;
        case SearchKey::ThreadId: return false;
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
            return header_contains(n.key == SearchKey::Header ? n.field : name, n.text);
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
        case SearchKey::ModSeq: return m.modseq >= n.number;
    }
    return false;
}

// The window after the matcher's table in the shared stream scratch.
char* Session::search_window(std::size_t* size) {
    *size = services_.stream_scratch_size - kNeedleTableBytes;
    return services_.stream_scratch + kNeedleTableBytes;
}

// The matcher's buffers at the start of the stream scratch: the prepared
// needle, then its table (2-aligned).
Session::NeedleBuffers Session::needle_buffers() {
    char* base = services_.stream_scratch;
    char* table_at = base + kMaxPreparedNeedle;
    table_at += reinterpret_cast<std::uintptr_t>(table_at) % 2;
    // Aligned; through void* so no target warns about the cast.
    return {base, static_cast<std::uint16_t*>(static_cast<void*>(table_at))};
}

bool Session::prepare_needle(std::string_view needle) {
    const NeedleBuffers b = needle_buffers();
    return matcher_.prepare(needle, b.prepared, b.table, kMaxPreparedNeedle);
}

// The first header field `name` of the current message (loaded into the
// search window, valid until the next store read).
bool Session::header_value(std::string_view name, std::string_view* value) {
    const mime::HeaderBlock block = load_search_header(name);
    return mime::find_field(block.fields, name, value);
}

// The current message's header, loaded into the search window (of a header
// larger than the window, the fields called `name`: core/mime/header.h).
mime::HeaderBlock Session::load_search_header(std::string_view name) {
    return load_search_header(mime::FieldNames{&name, 1});
}

// Of a header larger than the window, the fields named in `keep` (SORT's keys).
mime::HeaderBlock Session::load_search_header(mime::FieldNames keep) {
    SearchJob& job = job_.get<SearchJob>();
    mime_source_.box = selected_;
    mime_source_.message = &job.message;
    std::size_t size = 0;
    char* buf = search_window(&size);
    mime::HeaderBlock block;
    mime::load_header(mime_source_, 0, job.message.size, buf, size, &block, keep);
    job.header_size = block.body_start;
    job.result.work += block.body_start;
    return block;
}

// RFC 3501 §6.4.4: a field called `name` contains `needle` "in the text of
// the header (what comes after the colon)"; every such field counts, and an
// empty needle matches any message that has one.
bool Session::header_contains(std::string_view name, std::string_view needle) {
    if (!prepare_needle(needle)) return false;
    return block_contains(load_search_header(name), name);
}

// A field called `name` of `block` contains the prepared needle (matcher_).
bool Session::block_contains(const mime::HeaderBlock& block, std::string_view name) {
    mime::FieldIterator it(block.fields);
    mime::HeaderField f;
    while (it.next(&f)) {
        if (!ascii::iequals(f.name, name)) continue;
        matcher_.restart();
        mime::decode_header_text(f.value, matcher_);
        if (matcher_.found()) return true;
    }
    return false;
}

// BODY (the decoded bodies of the parts) or TEXT (those and the headers)
// contains `needle`.
// A walk through a large message stops when the batch's budget is spent
// (job.result.suspended) and goes on in the next batch from where it was: the
// message's keys are evaluated again, the text keys already answered from
// job.result.text_results (kTextResults of them; a message with more text
// keys than that is searched whole).
bool Session::body_contains(std::string_view needle, bool whole) {
    SearchJob& job = job_.get<SearchJob>();
    constexpr std::uint32_t kTextResults = 64;
    if (job.result.suspended) return false;  // the answer is not used
    const std::uint32_t k = job.result.text_ordinal++;
    if (k < job.result.text_done) return ((job.result.text_results >> k) & 1) != 0;
    // The matcher's buffers live in the shared scratch: made again each time.
    const NeedleBuffers b = needle_buffers();
    mime_source_.box = selected_;
    mime_source_.message = &job.message;
    if (!job.result.walking) {
        if (!work().walk_matcher.prepare(needle, b.prepared, b.table, kMaxPreparedNeedle))
            return false;
        work().text_walk.start(whole ? mime::TextScope::Text : mime::TextScope::Body,
                               job.message.size, work().walk_matcher);
        job.result.walking = true;
    } else {
        work().walk_matcher.rebind(b.prepared, b.table, kMaxPreparedNeedle);
    }
    std::size_t size = 0;
    char* buf = search_window(&size);
    std::uint64_t budget =
        kSearchWorkBudget > job.result.work ? kSearchWorkBudget - job.result.work : 0;
    if (k >= kTextResults) budget = UINT64_MAX;                  // no room to remember its answer
    if (budget < mime::kMinScratch) budget = mime::kMinScratch;  // some progress each batch
    const std::uint64_t given = budget;
    const mime::WalkStep st =
        work().text_walk.step(mime_source_, work().walk_matcher, buf, size, &budget);
    job.result.work += given - budget;
    if (st == mime::WalkStep::More) {
        job.result.suspended = true;
        job.result.text_ordinal = k;
        return false;
    }
    job.result.walking = false;
    const bool found = st == mime::WalkStep::Found;
    if (k < kTextResults) {
        if (found) job.result.text_results |= std::uint64_t{1} << k;
        job.result.text_done = k + 1;
    }
    return found;
}

// A match: written at once (SEARCH) or gathered (ESEARCH).
void Session::search_found(std::uint32_t number) {
    SearchJob& job = job_.get<SearchJob>();
    SearchResult& r = job.result;
    const std::uint64_t modseq = job.message.modseq;
    context_found(r, job.walk.next_position - 1, job.message.uid);
    if (++r.count == 1) {
        r.min = number;
        r.min_uid = job.message.uid;
        r.min_modseq = modseq;
    }
    r.max = number;
    r.max_uid = job.message.uid;
    r.max_modseq = modseq;
    const bool partial = (r.mask & kReturnPartial) != 0;
    const bool in_partial = partial && r.count >= r.partial_lo && r.count <= r.partial_hi;
    // RFC 5182 §2.4, RFC 9394 §3.2: every match, or MIN and PARTIAL's
    // (ascending: MAX is added at the end); an overflow is answered at the
    // end: NOTSAVED.
    if ((r.mask & kReturnSave) != 0 &&
        (saves_every_match(r.mask) || in_partial || (r.count == 1 && (r.mask & kReturnMin) != 0))) {
        (void)saved_result_.add(job.message.uid);
    }
    if (modseq > r.highest_modseq) r.highest_modseq = modseq;
    if (!r.esearch) {
        FixedText<16> w;
        w.put(' ').put_uint(number);
        out_.append(w.view());
        return;
    }
    if ((r.mask & kReturnAll) == 0 && !in_partial) return;
    if (++r.listed > 1 && number == r.run_hi + 1) {
        r.run_hi = number;
        return;
    }
    if (r.listed > 1) esearch_range(r.run_lo, r.run_hi, false);
    r.run_lo = r.run_hi = number;
}

// A finished ALL range: held, or written once ALL streams.
void Session::esearch_range(std::uint32_t lo, std::uint32_t hi, bool first) {
    SearchResult& r = job_.get<SearchJob>().result;
    if (!r.streaming && r.held < kHeldRanges) {
        r.lo[r.held] = lo;
        r.hi[r.held] = hi;
        ++r.held;
        return;
    }
    if (!r.streaming) esearch_spill();
    append_range(out_, lo, hi, first);
}

// ALL outgrew the held ranges: MIN (known since the first match), then ALL
// with what is held; the rest of ALL streams, MAX and COUNT come after it.
void Session::esearch_spill() {
    SearchResult& r = job_.get<SearchJob>().result;
    r.streaming = true;
    if ((r.mask & kReturnMin) != 0) {
        FixedText<24> w;
        w.put(" MIN ").put_uint(r.min);
        out_.append(w.view());
    }
    if ((r.mask & kReturnPartial) != 0) {
        append_partial_head(out_, r);
    } else {
        out_.append(" ALL ");
    }
    for (std::uint32_t i = 0; i < r.held; ++i) append_range(out_, r.lo[i], r.hi[i], i == 0);
    r.held = 0;
}

// RFC 5182 §2.4's table, RFC 9394 §3.2's: SAVE with MIN, MAX or PARTIAL
// (and neither ALL nor COUNT) keeps only what they return; MIN and
// PARTIAL's were kept as they were found, MAX is the last match.
void Session::finish_save() {
    const SearchResult& r = job_.get<SearchJob>().result;
    if ((r.mask & kReturnSave) == 0 || saves_every_match(r.mask) || r.count == 0) return;
    if ((r.mask & kReturnMax) != 0) (void)saved_result_.add(r.max_uid);
}

// The tagged line of a search whose responses are all written.
void Session::search_completed() {
    const bool refused =
        (job_.get<SearchJob>().result.mask & kReturnSave) != 0 && saved_result_.overflowed();
    finish_context(job_.get<SearchJob>().result);
    job_.end();
    if (refused) {
        search_refused_save();
        return;
    }
    tagged("OK", "", "SEARCH completed");
}

void Session::finish_search() {
    SearchResult& r = job_.get<SearchJob>().result;
    finish_save();
    if (r.esearch && (r.mask & ~kReturnSave) == 0) {
        search_completed();  // RFC 5182 §1: nothing but the tagged line
        return;
    }
    FixedText<96> w;
    if (!r.esearch) {
        // RFC 7162 §3.1.6: the highest mod-sequence of what was returned.
        if (r.modseq && r.count > 0) w.put(" (MODSEQ ").put_uint(r.highest_modseq).put(')');
        w.put("\r\n");
        out_.append(w.view());
        job_.end();
        tagged("OK", "", "SEARCH completed");
        return;
    }
    const bool partial = (r.mask & kReturnPartial) != 0;
    const bool listing = r.listed > 0;
    if (listing) esearch_range(r.run_lo, r.run_hi, false);
    if (!r.streaming) {
        if ((r.mask & kReturnMin) != 0 && r.count > 0) w.put(" MIN ").put_uint(r.min);
        if ((r.mask & kReturnMax) != 0 && r.count > 0) w.put(" MAX ").put_uint(r.max);
        if ((r.mask & kReturnCount) != 0) w.put(" COUNT ").put_uint(r.count);
        out_.append(w.view());
        w.clear();
        if (partial) {
            append_partial_head(out_, r);
            if (!listing) out_.append("NIL");  // RFC 5267 §5 partial-results
        } else if (listing) {
            out_.append(" ALL ");
        }
        for (std::uint32_t i = 0; i < r.held; ++i) append_range(out_, r.lo[i], r.hi[i], i == 0);
        if (partial) out_.append(")");
    } else {
        if (partial) w.put(')');
        if ((r.mask & kReturnMax) != 0) w.put(" MAX ").put_uint(r.max);
        if ((r.mask & kReturnCount) != 0) w.put(" COUNT ").put_uint(r.count);
    }
    if (r.modseq && r.count > 0) {
        // RFC 4731 §3.2: a lone MIN or MAX gives that message's mod-sequence,
        // MIN and MAX alone the higher of the two, anything else the highest.
        std::uint64_t m = r.highest_modseq;
        if ((r.mask & (kReturnAll | kReturnCount)) == 0) {
            const bool mn = (r.mask & kReturnMin) != 0, mx = (r.mask & kReturnMax) != 0;
            if (mn && mx) {
                m = r.min_modseq > r.max_modseq ? r.min_modseq : r.max_modseq;
            } else if (mn) {
                m = r.min_modseq;
            } else if (mx) {
                m = r.max_modseq;
            }
        }
        w.put(" MODSEQ ").put_uint(m);
    }
    w.put("\r\n");
    out_.append(w.view());
    search_completed();
}

}  // namespace tinyimapd::session
