// SORT, UID SORT, THREAD and UID THREAD (RFC 5256 §BASE.6.4.SORT and
// §BASE.6.4.THREAD; RFC 5957 DISPLAYFROM/DISPLAYTO) as resumable jobs.
//
// A SortJob goes through phases, each in bounded steps per turn of the loop
// so that other clients are answered meanwhile:
//   Area    borrow a work area from the pool (services_.work_areas); none
//           free: wait on a timer until one is given back (never a NO);
//   Gather  SEARCH's walk (the same batches and byte budget, search_match)
//           and, for each match, its header's keys into the area;
//   Order   SORT: the SortTable's heap sort, kSortSifts sift-downs a step;
//   Rank    THREAD: the base subjects sorted the same way and ranked;
//   Link    THREAD=REFERENCES step 1, kLinkBatch messages a step;
//   Build   THREAD: the rest of the algorithm (one call: O(n log n) over
//           the tree, no I/O; 15-65 ms for 100 000 messages on the
//           benchmark machine, docs/BENCHMARKS.md "SORT and THREAD");
//   Answer  "* SORT n ..." or "* THREAD (...)..." as the output drains.
// A mailbox whose matches and keys do not fit one area is answered
// NO [LIMIT] (RFC 5530), nothing else.
//
// ESORT (RFC 5267 §3): SORT RETURN (...) answers one ESEARCH response in
// sort order: MIN and MAX the first and last sorted message, COUNT as
// ESEARCH's, ALL every number in sort order, a range only where numbers
// ascend by one (§3.2: "4:5,3,2", never "5:3"); PARTIAL a:b (§4.4) the
// a-th to b-th in sort order. SAVE (RFC 5182, RFC 9394 §3.2) keeps what
// SEARCH's would: every match (gathered in mailbox order), or what MIN, MAX
// and PARTIAL return (added in sort order: SavedResult::insert).
//
// Keys (RFC 5256 §BASE.6.4.SORT): ARRIVAL the internal date; DATE the sent
// date (§2.2, core/imap/sent_date.h, the internal date when unreadable);
// SIZE RFC822.SIZE; SUBJECT the base subject (§2.1, mime/base_subject.h);
// FROM TO CC the first address's mailbox as ENVELOPE shows it; RFC 5957
// DISPLAYFROM DISPLAYTO its display name decoded (RFC 2047), else
// mailbox@host, else the mailbox. Strings collate with i;unicode-casemap
// (§7, RFC 5051), a missing header as the empty string, which comes first.
// THREAD's message IDs are compared as 64-bit hashes of their normalised
// form (core/imap/thread.h says what that costs).
#include "core/base/text.h"
#include "core/imap/address.h"
#include "core/imap/sent_date.h"
#include "core/mime/base_subject.h"
#include "core/mime/encoded_word.h"
#include "core/mime/header.h"
#include "core/mime/message_id.h"
#include "core/mime/unicase.h"
#include "core/session/session.h"

namespace tinyimapd::session {

namespace {

// Per step (the loop runs up to 8 steps of a job per turn): messages
// searched (as SEARCH), sift-downs of the sort (each about 2 log2(n)
// comparisons: some 35 000 comparisons for 100 000 messages, under 1 ms on
// average on the benchmark machine), messages linked by REFERENCES' step 1.
constexpr std::uint32_t kSortBatch = 64;
constexpr std::uint64_t kSortWorkBudget = 256 * 1024;
constexpr std::uint32_t kSortSifts = 1024;
constexpr std::uint32_t kLinkBatch = 4096;
// A busy pool: look again after this long.
constexpr std::uint64_t kAreaRetryMs = 20;
// References kept per message (the last ones: the nearest ancestors); the
// algorithm tolerates a shortened References header (RFC 5256 step 1).
constexpr std::size_t kMaxReferences = 32;
// Work space for one address's parts (first_address: a quarter each).
constexpr std::size_t kAddressWork = 4 * imap::kSortTextMax;

// The sort cache's buffer, from the end of an area at least kCacheMinArea
// large (smaller areas sort without the cache).
constexpr std::size_t kSortCacheBuffer = 32 * 1024;
constexpr std::size_t kCacheMinArea = 256 * 1024;
static_assert(store::SortCacheEntry::kMaxSubject == imap::kSortTextMax);
static_assert(store::SortCacheEntry::kMaxRefs == kMaxReferences);

constexpr std::string_view kSortFields[] = {"Subject", "From",       "To",         "Cc",
                                            "Date",    "Message-ID", "References", "In-Reply-To"};

std::uint64_t id_hash(std::string_view id) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
    return h == 0 ? 1 : h;
}

std::size_t align8(std::size_t n) {
    return (n + 7) & ~std::size_t{7};
}

// The prepared (i;unicode-casemap) form of `s`, cut to kSortTextMax.
std::string_view prepared(std::string_view s, char* out) {
    const mime::UnicasePrepared p = mime::unicase_prepare(s, out, imap::kSortTextMax);
    return {out, p.size < imap::kSortTextMax ? p.size : imap::kSortTextMax};
}

// A text sink into a fixed buffer (decoded display names), cut at its end.
struct FixedSink final : mime::ByteSink {
    char* buf;
    std::size_t cap, len = 0;
    FixedSink(char* b, std::size_t c) : buf(b), cap(c) {}
    void write(const char* data, std::size_t n) override {
        for (std::size_t i = 0; i < n && len < cap; ++i) buf[len++] = data[i];
    }
};

// RFC 5957 §3 for the first address of `value`; RFC 5256's addr-mailbox
// when !display.
std::string_view address_key(std::string_view value, bool display, char* out) {
    char work[kAddressWork];
    const imap::FirstAddress a = imap::first_address(value, work, sizeof work);
    if (!a.found) return {};
    char text[imap::kSortTextMax];
    FixedSink sink(text, sizeof text);
    if (!display) {
        sink.write(a.mailbox.data(), a.mailbox.size());
    } else if (!a.name.empty()) {
        mime::decode_header_text(a.name, sink);
    }
    if (display && sink.len == 0) {
        sink.write(a.mailbox.data(), a.mailbox.size());
        if (!a.host.empty()) {
            sink.write("@", 1);
            sink.write(a.host.data(), a.host.size());
        }
    }
    return prepared({text, sink.len}, out);
}

// Whether every key of `p` is in a SortCacheEntry or the index.
bool cacheable(const SortProgram& p) {
    for (std::size_t k = 0; k < p.count; ++k) {
        const SortKey key = p.criteria[k].key;
        if (key != SortKey::Arrival && key != SortKey::Size && key != SortKey::Date &&
            key != SortKey::Subject) {
            return false;
        }
    }
    return true;
}

// The message's keys from its header, as the cache keeps them: the sent
// date (RFC 5256 §2.2: the internal date when none can be read), the base
// subject (§2.1) prepared and cut to kSortTextMax, the reply mark, the
// Message-ID's hash and the last kMaxReferences references (REFERENCES
// step 1: References, else In-Reply-To's first ID), oldest first.
void header_entry(const store::MessageInfo& m, const mime::HeaderBlock& block,
                  store::SortCacheEntry* e) {
    std::string_view v;
    e->uid = m.uid;
    e->sent = m.internal_date;
    if (mime::find_field(block.fields, "Date", &v)) (void)parse_sent_date(v, &e->sent);
    e->reply = false;
    char base[mime::kBaseSubjectMax];
    std::size_t n = 0;
    if (mime::find_field(block.fields, "Subject", &v)) {
        n = mime::base_subject(v, base, sizeof base, &e->reply);
    }
    e->subject_size = static_cast<std::uint16_t>(prepared({base, n}, e->subject).size());
    char id[mime::kMessageIdMax];
    std::size_t len = 0;
    e->message_id = 0;
    if (mime::find_field(block.fields, "Message-ID", &v) &&
        (len = mime::first_message_id(v, id)) != 0) {
        e->message_id = id_hash({id, len});
    }
    std::uint64_t refs[kMaxReferences];
    std::size_t seen = 0;
    if (mime::find_field(block.fields, "References", &v)) {
        mime::MessageIdIterator it(v);
        while (it.next(id, &len)) refs[seen++ % kMaxReferences] = id_hash({id, len});
    }
    if (seen == 0 && mime::find_field(block.fields, "In-Reply-To", &v) &&
        (len = mime::first_message_id(v, id)) != 0) {
        refs[seen++] = id_hash({id, len});
    }
    const std::size_t count = seen < kMaxReferences ? seen : kMaxReferences;
    // Oldest first: the ring's order from where the next write would go.
    for (std::size_t r = 0; r < count; ++r) {
        e->refs[r] = refs[(seen - count + r) % kMaxReferences];
    }
    e->ref_count = static_cast<std::uint8_t>(count);
}

}  // namespace

void Session::cmd_sort(const ParsedCommand& cmd, bool thread) {
    if (cmd.search.update && context_tag_in_use()) {
        tagged("BAD", "", "Tag reuse: an updating context has this tag");  // RFC 5267 §4.3
        return;
    }
    // RFC 5182 §2.1: a SAVE answered NO leaves "$" empty.
    if ((cmd.search.return_mask & kReturnSave) != 0) saved_result_.clear();
    if (!search_limits_ok(cmd)) return;
    WorkAreaPool* pool = services_.work_areas;
    if (pool == nullptr || pool->size() == 0) {
        tagged("NO", "CANNOT",
               thread ? "THREAD is not configured (sort_buffers = 0)"
                      : "SORT is not configured (sort_buffers = 0)");
        return;
    }
    SetWalk walk;
    (void)check_set(cmd, &walk);  // for largest_uid and the UID flag
    SortJob& job = job_.start<SortJob>(thread ? JobKind::Thread : JobKind::Sort, pool);
    job.walk = walk;
    job.search_count = static_cast<std::uint32_t>(cmd.search_node_count);
    job.program = cmd.sort;
    job.algorithm = cmd.thread;
    if (!thread) start_search_result(&job.result, cmd.search);
    // RFC 5267 §4.3.1: sorted contexts are refused (NOUPDATE at the end),
    // unsorted ones served: keeping insertion positions would need every
    // result's sort keys held for as long as the context lives.
    job.result.noupdate = "Sorted results are not followed; UID SEARCH can be";
    if (thread) {
        // The base subjects' ranks are a SUBJECT sort (RFC 5256 §2.1, §7).
        job.program = SortProgram{};
        job.program.count = 1;
        job.program.criteria[0] = {SortKey::Subject, false};
    }
    run_job();
}

bool Session::sort_answering() const {
    const JobKind k = job_.kind();
    return (k == JobKind::Sort || k == JobKind::Thread) && job_.get<SortJob>().answering;
}

// One turn of the SORT/THREAD job; called from run_job().
void Session::run_sort() {
    SortJob& job = job_.get<SortJob>();
    switch (job.phase) {
        case SortJob::Phase::Area:
            if (sort_take_area(job)) sort_gather(job);
            return;
        case SortJob::Phase::Gather: sort_gather(job); return;
        case SortJob::Phase::Order:
            if (job.table.sort_step(kSortSifts)) sort_ordered(job);
            return;
        case SortJob::Phase::Rank:
            if (job.table.sort_step(kSortSifts) && thread_ranked(job)) thread_link(job);
            return;
        case SortJob::Phase::Link:
        case SortJob::Phase::Build: thread_link(job); return;
        case SortJob::Phase::Answer:
            if (job_.kind() == JobKind::Sort) {
                sort_answer(job);
            } else {
                thread_answer(job);
            }
            return;
    }
}

// Borrows an area and lays it out; false while none is free (the job
// waits) or when it is answered.
bool Session::sort_take_area(SortJob& job) {
    job.area = job.pool->take();
    if (job.area == nullptr) {
        job_.retry_at_ms = now_ms_ + kAreaRetryMs;
        return false;
    }
    job_.retry_at_ms = 0;
    char* area = job.area;
    std::size_t size = job.pool->area_size();
    job.cached_keys = cacheable(job.program);
    if (job.cached_keys && size >= kCacheMinArea) {
        size -= kSortCacheBuffer;
        (void)job.cache.open(*selected_, area + size, kSortCacheBuffer);
    }
    if (job_.kind() == JobKind::Thread) {
        // One ThreadMessage and one ThreadExtra per message of the mailbox.
        job.capacity = view_.exists;
        const std::size_t arrays = align8(sizeof(ThreadMessage) * job.capacity) +
                                   align8(sizeof(ThreadExtra) * job.capacity);
        if (arrays > size) {
            job.full = true;
            sort_end(job);
            return false;
        }
        job.messages = static_cast<ThreadMessage*>(static_cast<void*>(area));
        job.extras = static_cast<ThreadExtra*>(
            static_cast<void*>(area + align8(sizeof(ThreadMessage) * job.capacity)));
        area += arrays;
        size -= arrays;
    }
    (void)job.table.init(area, size, job.program);
    job.phase = SortJob::Phase::Gather;
    return true;
}

// SEARCH's walk (cmd_search.cpp run_search), each match's keys gathered.
void Session::sort_gather(SortJob& job) {
    job.result.work = 0;
    for (std::uint32_t batch = 0; batch < kSortBatch; ++batch) {
        if (job.result.work >= kSortWorkBudget) return;
        if (job.walk.next_position > view_.exists) {
            sort_gathered(job);
            return;
        }
        const std::uint32_t seq = job.walk.next_position;
        const SearchStep step = search_next(job);
        if (step == SearchStep::Suspended) return;  // this message again, in the next batch
        if (step == SearchStep::NoMatch) job.cache.skip(job.message.uid);
        if (step == SearchStep::Match && !sort_collect(job, seq)) {
            job.full = true;
            sort_end(job);
            return;
        }
    }
}

// Every match gathered: the cache's last entries written (an expunge-worn
// cache emptied, to be built again by the next SORT), then the order.
void Session::sort_gathered(SortJob& job) {
    if (job.cache.is_open()) {
        (void)job.cache.flush();
        if (job.cache.stale()) job.cache.reset();
        job.cache.close();
    }
    job.phase = job_.kind() == JobKind::Sort ? SortJob::Phase::Order : SortJob::Phase::Rank;
}

// The keys of one match into the area; false when it is full.
bool Session::sort_collect(SortJob& job, std::uint32_t seq) {
    const std::uint32_t number = job.walk.uid ? job.message.uid : seq;
    if (job.cached_keys) return sort_collect_entry(job, seq, number);
    const mime::HeaderBlock block = load_search_header(
        mime::FieldNames{kSortFields, sizeof kSortFields / sizeof kSortFields[0]});
    SortValue values[kSortKeyCount];
    char texts[kSortKeyCount][kSortTextMax];
    (void)sort_values(block, values, texts);
    if (!job.table.add(seq, number, values)) return false;
    return sort_added(job);
}

// A match whose keys are a SortCacheEntry's: the cache's, or read from the
// header (and added to the cache when the header was read whole).
bool Session::sort_collect_entry(SortJob& job, std::uint32_t seq, std::uint32_t number) {
    store::SortCacheEntry e;
    if (!job.cache.find(job.message.uid, &e)) {
        mime_source_.failed = false;
        const mime::HeaderBlock block = load_search_header(
            mime::FieldNames{kSortFields, sizeof kSortFields / sizeof kSortFields[0]});
        header_entry(job.message, block, &e);
        if (mime_source_.failed || block.truncated || job.message.expunged) {
            job.cache.skip(e.uid);
        } else {
            (void)job.cache.add(e);
        }
    }
    if (job_.kind() == JobKind::Thread) {
        if (job.matched == job.capacity) return false;  // cannot happen: one per message
        job.messages[job.matched].number = number;
        return thread_collect(job, e);
    }
    SortValue values[kSortKeyCount];
    for (std::size_t k = 0; k < job.program.count; ++k) {
        switch (job.program.criteria[k].key) {
            case SortKey::Arrival: values[k].number = job.message.internal_date; break;
            case SortKey::Size: values[k].number = job.message.size; break;
            case SortKey::Date: values[k].number = e.sent; break;
            default: values[k].text = {e.subject, e.subject_size}; break;  // SUBJECT
        }
    }
    if (!job.table.add(seq, number, values)) return false;
    return sort_added(job);
}

bool Session::sort_added(SortJob& job) {
    ++job.matched;
    // Every match, in mailbox order (SavedResult::add's).
    if ((job.result.mask & kReturnSave) != 0 && saves_every_match(job.result.mask)) {
        (void)saved_result_.add(job.message.uid);
    }
    return true;
}

// The values of the SORT program's criteria for the current message.
bool Session::sort_values(const mime::HeaderBlock& block, SortValue* values,
                          char (*texts)[kSortTextMax]) {
    SortJob& job = job_.get<SortJob>();
    const store::MessageInfo& m = job.message;
    for (std::size_t k = 0; k < job.program.count; ++k) {
        const SortKey key = job.program.criteria[k].key;
        std::string_view v;
        SortValue& out = values[k];
        out = SortValue{};
        switch (key) {
            case SortKey::Arrival: out.number = m.internal_date; break;
            case SortKey::Size: out.number = m.size; break;
            case SortKey::Date:
                if (!mime::find_field(block.fields, "Date", &v) ||
                    !parse_sent_date(v, &out.number)) {
                    out.number = m.internal_date;  // RFC 5256 §2.2
                }
                break;
            case SortKey::Subject: {
                if (!mime::find_field(block.fields, "Subject", &v)) break;
                char base[mime::kBaseSubjectMax];
                const std::size_t n = mime::base_subject(v, base, sizeof base, nullptr);
                out.text = prepared({base, n}, texts[k]);
                break;
            }
            case SortKey::From:
            case SortKey::To:
            case SortKey::Cc:
            case SortKey::DisplayFrom:
            case SortKey::DisplayTo: {
                const bool display = key == SortKey::DisplayFrom || key == SortKey::DisplayTo;
                const char* name = key == SortKey::Cc                                ? "Cc"
                                   : key == SortKey::To || key == SortKey::DisplayTo ? "To"
                                                                                     : "From";
                if (mime::find_field(block.fields, name, &v)) {
                    out.text = address_key(v, display, texts[k]);
                }
                break;
            }
        }
    }
    return true;
}

// THREAD: the message's sent date, base subject (into the table, to be
// ranked), reply mark, Message-ID and references (header_entry).
bool Session::thread_collect(SortJob& job, const store::SortCacheEntry& e) {
    const std::uint32_t i = job.matched;
    ThreadMessage& t = job.messages[i];
    ThreadExtra& x = job.extras[i];
    x = ThreadExtra{};
    t.sent = e.sent;
    t.subject = 0;
    t.reply = e.reply;
    SortValue value;
    value.text = {e.subject, e.subject_size};
    if (!job.table.add(i, t.number, &value)) return false;
    if (job.algorithm == ThreadAlgorithm::References) {
        x.id = e.message_id;
        const char* kept = job.table.blob(
            {static_cast<const char*>(static_cast<const void*>(e.refs)), e.ref_count * 8u});
        if (kept == nullptr) return false;
        x.refs = static_cast<std::uint32_t>(kept - job.table.records_begin());
        x.ref_count = e.ref_count;
        job.references += e.ref_count;
    }
    ++job.matched;
    return true;
}

void Session::sort_ordered(SortJob& job) {
    job.phase = SortJob::Phase::Answer;
    job.next = 0;
    sort_answer(job);
}

// THREAD: ranks from the sorted subjects (equal base subjects, equal
// ranks; 0 the empty one), then the tree's space: from the table's
// records, no longer needed, up to its blobs (the references).
bool Session::thread_ranked(SortJob& job) {
    std::uint32_t rank = 0;
    std::string_view prev;
    for (std::uint32_t i = 0; i < job.table.size(); ++i) {
        const std::string_view s = job.table.text(i, 0);
        if (!s.empty() && (rank == 0 || s != prev)) ++rank;
        prev = s;
        job.messages[job.table.seq(i)].subject = s.empty() ? 0 : rank;
    }
    const std::size_t room = job.table.heap_low();
    const std::uint32_t n = job.matched;
    std::uint64_t most = job.algorithm == ThreadAlgorithm::References ? n + job.references : 0;
    if (most > UINT32_MAX / 4) most = UINT32_MAX / 4;
    auto ids = static_cast<std::uint32_t>(most);
    if (ThreadWork::bytes(n, ids) > room) {
        // Fewer IDs than references: the rest are dropped (thread.h).
        std::uint32_t lo = 0, hi = ids;
        while (lo < hi) {
            const std::uint32_t mid = lo + (hi - lo + 1) / 2;
            if (ThreadWork::bytes(n, mid) <= room) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        ids = lo;
    }
    if (!job.tree.init(job.table.records_begin(), room, job.messages, n, ids)) {
        job.full = true;
        sort_end(job);
        return false;
    }
    job.next = 0;
    job.phase =
        job.algorithm == ThreadAlgorithm::References ? SortJob::Phase::Link : SortJob::Phase::Build;
    return true;
}

// REFERENCES step 1 in batches, then the rest of the algorithm.
void Session::thread_link(SortJob& job) {
    if (job.phase == SortJob::Phase::Link) {
        for (std::uint32_t b = 0; b < kLinkBatch && job.next < job.matched; ++b, ++job.next) {
            const ThreadExtra& x = job.extras[job.next];
            job.tree.begin_message(job.next, x.id);
            const char* refs = job.table.records_begin() + x.refs;
            for (std::uint32_t r = 0; r < x.ref_count; ++r) {
                std::uint64_t h;
                std::memcpy(&h, refs + 8 * r, sizeof h);
                job.tree.add_reference(h);
            }
            job.tree.end_message();
        }
        if (job.next < job.matched) return;
        job.phase = SortJob::Phase::Build;
        return;  // the rest in the next turn
    }
    if (job.algorithm == ThreadAlgorithm::References) {
        job.tree.finish_references();
    } else {
        job.tree.ordered_subject();
    }
    job.phase = SortJob::Phase::Answer;
    thread_answer(job);
}

// "* SORT" and the numbers, as the output drains (RFC 5256 §4).
void Session::sort_answer(SortJob& job) {
    if (job.result.esearch) {
        esort_answer(job);
        return;
    }
    if (!job.answering) {
        if (out_.room() < kResponseReserve) return;
        out_.append("* SORT");
        job.answering = true;
    }
    while (job.next < job.table.size()) {
        if (out_.room() < kResponseReserve) return;
        FixedText<16> w;
        w.put(' ').put_uint(job.table.number(job.next++));
        out_.append(w.view());
    }
    sort_end(job);
}

// ESORT's ESEARCH response (RFC 5267 §3), ALL or PARTIAL as the output
// drains; with SAVE alone, nothing but the tagged line (RFC 5182 §1).
void Session::esort_answer(SortJob& job) {
    const SearchResult& r = job.result;
    if (!job.answering) {
        if ((r.mask & ~kReturnSave) == 0) {
            sort_end(job);
            return;
        }
        if (out_.room() < kResponseReserve) return;
        esort_start(job);
    }
    const bool partial = (r.mask & kReturnPartial) != 0;
    const bool save = (r.mask & kReturnSave) != 0 && partial && !saves_every_match(r.mask);
    const std::uint32_t first = partial ? r.partial_lo - 1 : 0;
    while (job.next < job.list_end) {
        if (out_.room() < kResponseReserve) return;
        // §3.2: a range only where the numbers ascend by one.
        const bool is_first = job.next == first;
        const std::uint32_t lo = job.table.number(job.next);
        std::uint32_t hi = lo;
        if (save) esort_save(job, job.next);
        while (++job.next < job.list_end && job.table.number(job.next) == hi + 1) {
            if (save) esort_save(job, job.next);
            ++hi;
        }
        append_range(out_, lo, hi, is_first);
    }
    if (partial) out_.append(")");
    sort_end(job);
}

// The response's start: MIN MAX COUNT, then " ALL " or " PARTIAL (a:b "
// (NIL when no result falls in it), and the records to list.
void Session::esort_start(SortJob& job) {
    const SearchResult& r = job.result;
    const std::uint32_t n = job.table.size();
    job.answering = true;
    job.next = job.list_end = 0;
    if ((r.mask & kReturnSave) != 0 && !saves_every_match(r.mask) && n > 0) {
        if ((r.mask & kReturnMin) != 0) esort_save(job, 0);
        if ((r.mask & kReturnMax) != 0) esort_save(job, n - 1);
    }
    FixedText<kMaxTagLength + 96> w;
    w.put("* ESEARCH (TAG \"").put({tag_, tag_length_}).put("\")");
    if (job.walk.uid) w.put(" UID");
    if ((r.mask & kReturnMin) != 0 && n > 0) w.put(" MIN ").put_uint(job.table.number(0));
    if ((r.mask & kReturnMax) != 0 && n > 0) w.put(" MAX ").put_uint(job.table.number(n - 1));
    if ((r.mask & kReturnCount) != 0) w.put(" COUNT ").put_uint(n);
    if ((r.mask & kReturnAll) != 0 && n > 0) {
        w.put(" ALL ");
        job.list_end = n;
    }
    out_.append(w.view());
    if ((r.mask & kReturnPartial) != 0) {
        append_partial_head(out_, r);
        job.next = r.partial_lo - 1 < n ? r.partial_lo - 1 : n;
        job.list_end = r.partial_hi < n ? r.partial_hi : n;
        if (job.next >= job.list_end) out_.append("NIL");  // RFC 5267 §5 partial-results
    }
}

// Record `record`'s message into "$" (by UID, in any order).
void Session::esort_save(SortJob& job, std::uint32_t record) {
    std::uint32_t uid = job.table.number(record);
    if (!job.walk.uid) {
        store::MessageInfo m;
        if (selected_->message(view_, job.table.seq(record), &m) != Status::Ok) return;
        uid = m.uid;
    }
    (void)saved_result_.insert(uid);
}

// "* THREAD" and the thread list in pieces (ThreadWork::render).
void Session::thread_answer(SortJob& job) {
    if (!job.answering) {
        if (out_.room() < kResponseReserve) return;
        out_.append(job.matched == 0 ? "* THREAD" : "* THREAD ");
        job.answering = true;
    }
    bool done = job.matched == 0;
    while (!done) {
        if (out_.room() < kResponseReserve + 512) return;
        char piece[512];
        const std::size_t n = job.tree.render(piece, sizeof piece, &done);
        out_.append({piece, n});
    }
    sort_end(job);
}

// The end: the answer's line ended and the tagged line, or NO [LIMIT].
void Session::sort_end(SortJob& job) {
    const bool thread = job_.kind() == JobKind::Thread;
    const bool full = job.full;
    const bool save = (job.result.mask & kReturnSave) != 0;
    if (job.answering) out_.append("\r\n");
    if (!full) finish_context(job.result);    // RFC 5267 §4.3.1 NOUPDATE
    job_.end();                               // gives the area back
    if (save && full) saved_result_.clear();  // RFC 5182 §2.1: NO leaves "$" empty
    if (save && !full && saved_result_.overflowed()) {
        search_refused_save();  // RFC 5182 §2.5
        return;
    }
    if (full) {
        tagged("NO", "LIMIT",
               thread ? "Too many messages to thread in the work area (sort_buffer_kib)"
                      : "Too many messages to sort in the work area (sort_buffer_kib)");
        return;
    }
    tagged("OK", "", thread ? "THREAD completed" : "SORT completed");
}

}  // namespace tinyimapd::session
