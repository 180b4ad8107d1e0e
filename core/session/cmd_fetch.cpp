// FETCH and STORE (RFC 3501 §6.4.5, §6.4.6, §6.4.8 UID forms), EXPUNGE
// (§6.4.3, RFC 4315 UID EXPUNGE), COPY (§6.4.7) and MOVE (RFC 6851) over
// the store, with CONDSTORE's MODSEQ, CHANGEDSINCE, UNCHANGEDSINCE and
// QRESYNC's VANISHED modifier (RFC 7162 §3.1.3, §3.1.4, §3.2.6).
//
// STORE's changes and COPY/MOVE's copy are jobs too (run_store_job,
// run_copy_job): one store transaction held across turns of the loop,
// bounded work per step, committed before the tagged OK; while the
// mailbox is held elsewhere (Busy) they wait on a timer (retry_later).
//
// FETCH and STORE answer message by message as a resumable job (DESIGN.md:
// "Large responses are resumable jobs"): the session keeps a cursor, writes
// what fits in the output buffer, and continues when the socket has taken
// it; message bodies stream from the store as literals. While a job runs the
// session reads no further commands, so the parsed command (and its views)
// stay valid.
//
// Items served: UID FLAGS INTERNALDATE RFC822.SIZE RFC822 RFC822.HEADER
// RFC822.TEXT ENVELOPE BODY BODYSTRUCTURE, BODY[section] of every form
// (part numbers, HEADER, HEADER.FIELDS(.NOT), TEXT, MIME) with .PEEK and
// partials, through the MIME parser (core/mime); MODSEQ; BINARY[section],
// BINARY.PEEK and BINARY.SIZE (RFC 3516) decoded through
// core/mime/transfer_decode.h. ENVELOPE, BODY and BODYSTRUCTURE answers of
// any size are written in pieces as the output drains
// (core/imap/bodystructure.h) and kept in the shared FetchCache
// (core/imap/fetch_cache.h) when they fit there. EMAILID and THREADID (RFC
// 8474) are refused with NO before any output.
//
// Bounds: ENVELOPE/BODY/BODYSTRUCTURE and finding the part of a
// BODY[section] or BINARY[section] read at most kStructureBudget bytes of
// the message per call. BINARY decodes its section once to learn its size
// (and whether it holds a NUL) before the literal starts, in one step of
// the job, then again while streaming: work proportional to the part, not
// bounded per call.
#include "core/base/text.h"
#include "core/imap/bodystructure.h"
#include "core/imap/datetime.h"
#include "core/imap/encoder.h"
#include "core/imap/envelope.h"
#include "core/imap/section.h"
#include "core/mime/header.h"
#include "core/mime/part.h"
#include "core/mime/transfer_decode.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

#include <new>

namespace tinyimapd::imap {

namespace {

constexpr std::size_t kItemReserve = 512;  // room needed to write one short item
constexpr std::size_t kScanChunk = 1024;   // header scan window
// Message bytes an ENVELOPE/BODY/BODYSTRUCTURE walk reads per call (about a
// millisecond of work): write_structure.
constexpr std::uint64_t kStructureBudget = 256 * 1024;

// Numbers added in ascending order, written as a sequence-set ("2:4,7")
// into a bounded text; add() is false once it would not fit.
// The run being extended lives in `run`, so a job can go on with it later.
class AscendingSet {
public:
    AscendingSet(TextWriter& out, AscendingRun& run) : out_(out), run_(run) {}
    [[nodiscard]] bool add(std::uint32_t n) {
        if (run_.any && n == run_.hi + 1) {
            run_.hi = n;
            return true;
        }
        if (run_.any && n <= run_.hi) return true;  // already in
        if (!finish()) return false;
        run_.lo = run_.hi = n;
        run_.any = true;
        return true;
    }
    // Writes the pending run; false if the text is full.
    bool finish() {
        if (!run_.any) return true;
        if (out_.size() > 0) out_.put(',');
        out_.put_uint(run_.lo);
        if (run_.hi != run_.lo) out_.put(':').put_uint(run_.hi);
        run_.any = false;
        return out_.ok();
    }

private:
    TextWriter& out_;
    AscendingRun& run_;
};

// The smallest member of `set` at or above `n` ("*" is `largest`), or 0:
// O(ranges), so walking a set in ascending order never visits the numbers
// between its ranges.
std::uint32_t lowest_member_from(const SeqSet& set, std::uint32_t n, std::uint32_t largest) {
    SeqSet::Cursor c;
    std::uint32_t lo = 0, hi = 0, best = 0;
    while (set.next(c, largest, &lo, &hi)) {
        if (hi < n) continue;
        const std::uint32_t candidate = lo > n ? lo : n;
        if (best == 0 || candidate < best) best = candidate;
    }
    return best;
}

bool served(const FetchItem& item) {
    switch (item.kind) {
        case FetchKind::Uid:
        case FetchKind::Flags:
        case FetchKind::InternalDate:
        case FetchKind::Rfc822Size:
        case FetchKind::Rfc822:
        case FetchKind::Rfc822Header:
        case FetchKind::Rfc822Text:
        case FetchKind::Envelope:
        case FetchKind::Body:
        case FetchKind::BodyStructure:
        case FetchKind::BodySection:
        case FetchKind::BinarySection:
        case FetchKind::BinarySize:
        case FetchKind::ModSeq: return true;
        default: return false;
    }
}

// Whole-message sections that need no MIME parsing.
bool plain_section(const FetchItem& item) {
    return item.kind != FetchKind::BodySection ||
           (item.section.part_count == 0 &&
            (item.section.text == SectionText::None || item.section.text == SectionText::Header ||
             item.section.text == SectionText::Text));
}

}  // namespace

// ---- the message-set iterator shared by FETCH and STORE ---------------------

// Next sequence number of the command's set, in ascending order for UID sets
// and in the client's order for sequence sets. 0 at the end.
std::uint32_t Session::next_in_set() {
    if (job_.uid) return next_uid_in_set();
    for (;;) {
        if (job_.range_next <= job_.range_hi) return job_.range_next++;
        std::uint32_t lo = 0, hi = 0;
        if (!job_.set.next(job_.cursor, view_.exists, &lo, &hi)) return 0;
        job_.range_next = lo;
        job_.range_hi = hi;
    }
}

// A UID set in ascending order: the messages of each range are found by a
// binary search for its first UID (first_seq_at_or_above), never by a walk
// over the messages between ranges (RFC 3501 §6.4.8: UIDs not in the
// mailbox are ignored).
std::uint32_t Session::next_uid_in_set() {
    while (job_.next_position != 0 && job_.next_position <= view_.exists) {
        store::MessageInfo m;
        if (selected_->message(view_, job_.next_position, &m) != Status::Ok) break;
        if (job_.set.contains(m.uid, job_.largest_uid)) return job_.next_position++;
        const std::uint32_t want =
            m.uid == UINT32_MAX ? 0 : lowest_member_from(job_.set, m.uid + 1, job_.largest_uid);
        // The first message at or above it: always further on, as want > m.uid.
        job_.next_position = want == 0 ? 0 : first_seq_at_or_above(want);
    }
    job_.next_position = 0;
    return 0;
}

bool Session::check_set(const ParsedCommand& cmd) {
    job_.set = cmd.set;
    job_.uid = cmd.uid;
    job_.cursor = SeqSet::Cursor{};
    job_.range_next = 1;
    job_.range_hi = 0;
    job_.next_position = 1;
    // "*" in a UID set is the largest UID in use (RFC 3501 §6.4.8, §9).
    store::MessageInfo last;
    job_.largest_uid =
        view_.exists != 0 && selected_->message(view_, view_.exists, &last) == Status::Ok ? last.uid
                                                                                          : 0;
    if (cmd.uid) return true;
    // RFC 3501 §6.4.5/§9: sequence numbers must exist ("*" in an empty
    // mailbox too).
    SeqSet::Cursor c;
    std::uint32_t lo = 0, hi = 0;
    while (cmd.set.next(c, view_.exists, &lo, &hi)) {
        if (lo == 0 || hi > view_.exists) {
            tagged("BAD", "", "Invalid message sequence number");
            return false;
        }
    }
    return true;
}

// ---- FETCH -----------------------------------------------------------------

void Session::cmd_fetch(const ParsedCommand& cmd) {
    for (std::size_t i = 0; i < cmd.fetch.count; ++i) {
        if (!served(cmd.fetch.items[i])) {
            FixedText<256> w;
            w.put("FETCH ");
            write_item_name(cmd.fetch.items[i], w);
            w.put(" is not implemented in this version of tinyimapd");
            tagged("NO", "CANNOT", w.view());
            return;
        }
        // The item's name is echoed in every answer (BODY[HEADER.FIELDS
        // (...)]): it must fit the buffer each item is written in, with
        // room for what follows it, or an answer would be cut.
        FixedText<kItemReserve - 16> name;
        write_item_name(cmd.fetch.items[i], name);
        if (!name.ok()) {
            tagged("NO", "LIMIT", "FETCH item name too long (a shorter header field list?)");
            return;
        }
    }
    if (cmd.fetch.vanished) {
        // RFC 7162 §3.2.6: UID FETCH only, after ENABLE QRESYNC.
        if (!cmd.uid) {
            tagged("BAD", "", "VANISHED is only allowed in UID FETCH");
            return;
        }
        if (!qresync_) {
            tagged("BAD", "", "VANISHED needs ENABLE QRESYNC first");
            return;
        }
        // Expunges may be reported during a UID command (RFC 3501 §7.4.1):
        // once the view has every message, a UID below UIDNEXT that is not
        // in it is gone.
        sync_selected();
        if (state_ == SessionState::Logout) return;
    }
    if (!check_set(cmd)) return;
    if (cmd.fetch.changedsince || cmd.fetch.wants_modseq) enable_condstore();
    if (cmd.fetch.vanished) {
        // Any VANISHED (EARLIER) before any FETCH (§3.2.6). The store keeps
        // no mod-sequence for an expunge once its record is compacted away,
        // so every UID of the set below UIDNEXT that is not in the mailbox
        // is reported, whatever CHANGEDSINCE says: §3.2.6 asks exactly that
        // when the client's mod-sequence predates what the server remembers.
        start_vanished_earlier(cmd.set, 0);
        if (state_ == SessionState::Logout) return;
    }
    fetch_changedsince_ = cmd.fetch.changedsince ? cmd.fetch.changedsince_value : 0;
    fetch_modseq_implied_ = false;
    bool asks_modseq = false;
    for (std::size_t i = 0; i < cmd.fetch.count; ++i) {
        if (cmd.fetch.items[i].kind == FetchKind::ModSeq) asks_modseq = true;
    }
    // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ.
    if (cmd.fetch.changedsince && !asks_modseq) fetch_modseq_implied_ = true;
    fetch_modseq_asked_ = asks_modseq;
    job_.kind = JobKind::Fetch;
    job_.items = cmd.fetch.items;
    job_.item_count = cmd.fetch.count;
    job_.sets_seen = cmd.fetch.sets_seen && !view_.read_only;
    job_.seq = 0;
    job_.held_seq = 0;
    job_.checking = false;
    job_.item = 0;
    job_.retry_at_ms = job_.waiting_since_ms = 0;
    run_job();
}

// Moves the job as far as the output buffer allows.
void Session::run_job() {
    // These hold a store transaction: they end it themselves, whatever happens.
    if (job_.kind == JobKind::StoreApply) {
        run_store_job();
        return;
    }
    if (job_.kind == JobKind::Copy) {
        run_copy_job();
        return;
    }
    if (job_.kind == JobKind::Append) {  // needs no view (cmd_mailbox.cpp)
        run_append_job();
        return;
    }
    if (view_invalidated() && !streamer_.active() &&
        (job_.seq == 0 || job_.kind == JobKind::Search || job_.kind == JobKind::Resync)) {
        // Between messages: the view's numbers no longer hold (see
        // Mailbox::make_gone_room); the session ends rather than guess. A
        // SEARCH answer is a line still open: it is ended first.
        if (job_.kind == JobKind::Search) (void)out_.append("\r\n");
        job_.kind = JobKind::None;
        bye_invalidated();
        return;
    }
    if (vanished_.pending && !run_vanished_earlier()) return;  // ahead of the job
    if (job_.kind == JobKind::Search) {
        run_search();
        return;
    }
    if (job_.kind == JobKind::Sync) {
        run_sync_job();
        return;
    }
    if (job_.kind == JobKind::Resync) {
        run_resync_job();
        return;
    }
    if (job_.kind == JobKind::List) {
        run_list_job();
        return;
    }
    if (job_.kind == JobKind::Expunge) {
        run_expunge_job();
        return;
    }
    if (job_waiting()) return;  // a FETCH that sets \Seen waits for the mailbox
    job_.retry_at_ms = 0;
    while (job_.kind != JobKind::None) {
        if (streamer_.active()) {
            const StreamStatus st = streamer_.pump(out_);
            if (st == StreamStatus::Blocked) return;
            if (st == StreamStatus::Failed) {
                // The literal's length is promised: nothing else may follow.
                job_.kind = JobKind::None;
                state_ = SessionState::Logout;
                out_.clear();
                log_line(port::LogLevel::Error,
                         "message read failed during FETCH, user=", {user_, user_length_});
                return;
            }
            ++job_.item;
            continue;
        }
        // Room for one short item, or for the tagged line that may end the job.
        if (out_.room() < kItemReserve || out_.room() < kResponseLine) return;
        if (job_.seq == 0) {
            // RFC 3501 §7.2.6: FLAGS before a FETCH that may name a new keyword.
            if (!announce_keywords()) return;
            job_.seq = job_.held_seq != 0 ? job_.held_seq : next_in_set();
            job_.held_seq = 0;
            if (job_.seq == 0) {
                const JobKind done = job_.kind;
                job_.kind = JobKind::None;
                if (done == JobKind::Store && !modified_.empty()) {
                    // RFC 7162 §3.1.3: the messages that failed the test.
                    FixedText<kModifiedText + 16> code;
                    code.put("MODIFIED ").put(modified_text_.view());
                    tagged("OK", code.view(), "Conditional STORE failed");
                    return;
                }
                tagged("OK", "", done == JobKind::Fetch ? "FETCH completed" : "STORE completed");
                return;
            }
            if (!start_message()) {
                if (job_waiting() || job_.checking) return;
                continue;
            }
        }
        if (job_.kind == JobKind::Store) {
            if (!write_store_answer()) return;  // waits for room
            job_.seq = 0;
            continue;
        }
        if (job_.item >= job_.item_count) {
            if (job_.add_flags) {
                FlagLine w;
                w.put(job_.first_item ? "" : " ").put("FLAGS ");
                write_flag_list(w, job_.message.flags, job_.message.keywords, *selected_);
                if (job_.kind == JobKind::Store && job_.uid && job_.first_item) {
                    w.put(" UID ").put_uint(job_.message.uid);
                }
                w.put(")\r\n");
                if (out_.room() < w.size()) return;  // the rest of the line goes whole
                (void)out_.append(w.view());
            } else {
                (void)out_.append(")\r\n");  // within kItemReserve
            }
            job_.seq = 0;
            continue;
        }
        const std::size_t item_before = job_.item;
        write_item(job_.items[job_.item]);
        // No progress and nothing streaming: wait for the output to drain.
        if (job_.item == item_before && !streamer_.active() && job_.kind != JobKind::None) return;
    }
}

// Opens message job_.seq: reads it, sets \Seen if the FETCH does, and writes
// "* n FETCH (". False to skip it (gone).
bool Session::start_message() {
    if (selected_->message(view_, job_.seq, &job_.message) != Status::Ok) {
        job_.seq = 0;
        job_.checking = false;
        return false;
    }
    job_.item = 0;
    job_.first_item = true;
    job_.add_flags = false;
    structure_job_.open = false;
    if (!job_.checking) {
        section_job_.open = false;
        job_.binary_check = 0;
    }
    job_.checking = false;
    job_.header_size = UINT64_MAX;
    // RFC 7162 §3.1.4.1: CHANGEDSINCE keeps only messages changed since.
    if (job_.kind == JobKind::Fetch && fetch_changedsince_ != 0 &&
        job_.message.modseq <= fetch_changedsince_) {
        job_.seq = 0;
        return false;
    }
    // RFC 3516 §4.2 / RFC 9051 §6.4.5: BINARY that cannot be answered for
    // this message fails the command, before its response is begun.
    // Finding the part may span turns: the message is put back meanwhile.
    for (std::size_t i = job_.binary_check; job_.kind == JobKind::Fetch && i < job_.item_count;
         ++i) {
        const FetchItem& item = job_.items[i];
        if (item.kind != FetchKind::BinarySection && item.kind != FetchKind::BinarySize) continue;
        if (!binary_lookup_step(item)) {
            job_.binary_check = i;
            job_.checking = true;
            job_.held_seq = job_.seq;
            job_.seq = 0;
            return false;
        }
        BinaryRange range;
        const BinaryLookup found = find_binary(item, &range);
        if (found != BinaryLookup::NotLeaf && found != BinaryLookup::UnknownCte) continue;
        job_.kind = JobKind::None;
        job_.seq = 0;
        FixedText<256> w;
        write_item_name(item, w);
        if (found == BinaryLookup::UnknownCte) {
            w.put(": unknown Content-Transfer-Encoding");
            tagged("NO", "UNKNOWN-CTE", w.view());
        } else {
            w.put(": BINARY is only for leaf body parts");
            tagged("NO", "CANNOT", w.view());
        }
        return false;
    }
    if (job_.kind == JobKind::Fetch && job_.sets_seen && (job_.message.flags & kSeen) == 0) {
        // RFC 3501 §6.4.5: BODY[...] sets \Seen, and the change is reported.
        store::MessageInfo result;
        bool skipped = false;
        const Status held = selected_->begin_store();
        if (held == Status::Busy && retry_later()) {
            // Another session's STORE or COPY job holds the mailbox: this
            // message again once it is free (RFC 3501 §6.4.5: \Seen is set).
            job_.held_seq = job_.seq;
            job_.seq = 0;
            return false;
        }
        job_.waiting_since_ms = 0;
        if (held == Status::Ok) {
            if (selected_->store(view_, job_.seq, store::FlagOp::Add, kSeen, 0, 0, &result,
                                 &skipped) == Status::Ok &&
                selected_->commit_store() == Status::Ok) {
                job_.message.flags = result.flags | (job_.message.flags & kRecent);
                job_.message.modseq = result.modseq;
                own_flag_change();
            } else {
                selected_->abort_store();
            }
        }
        bool asked = false;
        for (std::size_t i = 0; i < job_.item_count; ++i) {
            if (job_.items[i].kind == FetchKind::Flags) asked = true;
        }
        job_.add_flags = !asked;
    }
    FixedText<64> w;
    w.put("* ").put_uint(job_.seq).put(" FETCH (");
    out_.append(w.view());
    if (job_.kind == JobKind::Fetch && (job_.uid || (condstore_ && job_.add_flags))) {
        // RFC 3501 §6.4.8: UID FETCH always includes UID; RFC 7162 §3.2.4:
        // so does a FETCH that set \Seen once CONDSTORE is on.
        bool asked = false;
        for (std::size_t i = 0; i < job_.item_count; ++i) {
            if (job_.items[i].kind == FetchKind::Uid) asked = true;
        }
        if (!asked) {
            w.clear();
            w.put("UID ").put_uint(job_.message.uid);
            out_.append(w.view());
            job_.first_item = false;
        }
    }
    if (job_.kind == JobKind::Fetch && !fetch_modseq_asked_ &&
        (fetch_modseq_implied_ || (condstore_ && fetch_has_flags()))) {
        // RFC 7162 §3.1.4.1 (CHANGEDSINCE), §3.1.4.2 / §3.1 (with CONDSTORE
        // on, FLAGS always come with MODSEQ).
        w.clear();
        if (!job_.first_item) w.put(' ');
        w.put("MODSEQ (").put_uint(job_.message.modseq).put(')');
        out_.append(w.view());
        job_.first_item = false;
    }
    return true;
}

// The response for job_.message carries FLAGS (asked, or added after \Seen
// was set).
bool Session::fetch_has_flags() const {
    if (job_.add_flags) return true;
    for (std::size_t i = 0; i < job_.item_count; ++i) {
        if (job_.items[i].kind == FetchKind::Flags) return true;
    }
    return false;
}

std::size_t Session::MimeSource::read(std::uint64_t offset, char* out, std::size_t capacity) {
    std::size_t got = 0;
    if (box->read(*message, offset, out, capacity, &got) != Status::Ok) return 0;
    return got;
}

// ENVELOPE, BODY, BODYSTRUCTURE of any size: the item's name, then its
// value in pieces as the output drains (StructureWriter), or copied
// from the shared cache (core/imap/fetch_cache.h) when this message's
// answer is there, without reading the message. A walked answer is stored
// in the cache as it goes out, if it fits there. Each call reads a bounded
// share of the message (kStructureBudget), so a message of a million parts
// does not hold up the loop. True when the item is complete; false: call
// again (the output is full, or this turn's share is used).
bool Session::write_structure(const FetchItem& item) {
    mime_source_.box = selected_;
    mime_source_.message = &job_.message;
    StructureJob& sj = structure_job_;
    FetchCache* cache = services_.fetch_cache;
    FetchCacheKey key;
    if (cache != nullptr) {
        key.mailbox = cache->identity(selected_->dir());
        key.uid_validity = selected_->uid_validity();
        key.uid = job_.message.uid;
        key.stamp = FetchCache::stamp_of(job_.message.size, job_.message.internal_date);
        key.item = item.kind == FetchKind::Envelope ? CachedItem::Envelope
                   : item.kind == FetchKind::Body   ? CachedItem::Body
                                                    : CachedItem::BodyStructure;
    }
    const StructureItem what = item.kind == FetchKind::Envelope ? StructureItem::Envelope
                               : item.kind == FetchKind::Body   ? StructureItem::Body
                                                                : StructureItem::BodyStructure;
    std::string_view cached;
    if (!sj.open) {
        const std::string_view name = item.kind == FetchKind::Envelope ? "ENVELOPE "
                                      : item.kind == FetchKind::Body   ? "BODY "
                                                                       : "BODYSTRUCTURE ";
        if (out_.room() < kItemReserve) return false;  // wait for the socket to drain
        if (!job_.first_item) out_.append(" ");
        out_.append(name);
        sj = StructureJob{};
        sj.open = true;
        sj.from_cache = cache != nullptr && cache->get(key, &cached);
        if (!sj.from_cache) {
            structure_.start(what);
            if (cache != nullptr) cache->begin_put(&sj.put);
        }
    } else if (sj.from_cache && !cache->get(key, &cached)) {
        // Evicted between turns: walk the message, past what was sent.
        sj.from_cache = false;
        structure_.start(what, sj.sent);
    }
    if (sj.from_cache) {
        const std::size_t n = out_.room() < cached.size() - sj.sent
                                  ? out_.room()
                                  : static_cast<std::size_t>(cached.size() - sj.sent);
        out_.append(ascii::head(ascii::tail(cached, static_cast<std::size_t>(sj.sent)), n));
        sj.sent += n;
        if (sj.sent < cached.size()) return false;
        sj.open = false;
        return true;
    }
    std::size_t room = 0;
    char* space = out_.free_space(&room);
    TextWriter w(space, room);
    const StructureWriter::Progress p = structure_.step(
        mime_source_, services_.stream_scratch, services_.stream_scratch_size, w, kStructureBudget);
    out_.commit(w.size());
    sj.sent = structure_.delivered();
    if (cache != nullptr) cache->append(&sj.put, w.view());
    if (p != StructureWriter::Progress::Done) return false;
    if (cache != nullptr) cache->finish_put(&sj.put, key);
    sj.open = false;
    return true;
}

// Offset just past the header's blank line (the whole message if none).
std::uint64_t Session::header_size() {
    if (job_.header_size != UINT64_MAX) return job_.header_size;
    char buf[kScanChunk];
    std::uint64_t offset = 0;
    std::uint32_t state = 0;  // bytes of "\r\n\r\n" / "\n\n" matched
    job_.header_size = job_.message.size;
    while (offset < job_.message.size) {
        std::size_t got = 0;
        if (selected_->read(job_.message, offset, buf, sizeof buf, &got) != Status::Ok ||
            got == 0) {
            break;
        }
        for (std::size_t i = 0; i < got; ++i) {
            const char c = buf[i];
            if (c == '\n') {
                if (state >= 1) {
                    job_.header_size = offset + i + 1;
                    return job_.header_size;
                }
                state = 1;
            } else if (c != '\r') {
                state = 0;
            }
        }
        offset += got;
    }
    return job_.header_size;
}

void Session::write_item(const FetchItem& item) {
    if (item.kind == FetchKind::Envelope || item.kind == FetchKind::Body ||
        item.kind == FetchKind::BodyStructure) {
        if (write_structure(item)) {
            job_.first_item = false;
            ++job_.item;
        }
        return;
    }
    // A section inside the structure: found first, before anything of the
    // item is written (the lookup may span turns of the loop).
    if (!plain_section(item) && !find_section_step(item.section)) return;
    if ((item.kind == FetchKind::BinarySection || item.kind == FetchKind::BinarySize) &&
        !binary_lookup_step(item)) {
        return;
    }
    FixedText<kItemReserve> w;
    if (!job_.first_item) w.put(' ');
    job_.first_item = false;
    if (item.kind == FetchKind::BinarySection || item.kind == FetchKind::BinarySize) {
        write_binary(item, w);
        return;
    }
    if (!plain_section(item)) {
        stream_section(item, w);
        return;
    }
    const store::MessageInfo& m = job_.message;
    std::uint64_t begin = 0, end = m.size;
    switch (item.kind) {
        case FetchKind::Uid: w.put("UID ").put_uint(m.uid); break;
        case FetchKind::Flags: {
            // Up to kMaxFlagList bytes: its own buffer, written whole once
            // the output has room (else the job waits: no progress).
            FlagLine flags;
            flags.put(w.view()).put("FLAGS ");
            write_flag_list(flags, m.flags, m.keywords, *selected_);
            if (out_.room() < flags.size()) {
                job_.first_item = w.view().empty();
                return;
            }
            (void)out_.append(flags.view());
            ++job_.item;
            return;
        }
        case FetchKind::InternalDate:
            w.put("INTERNALDATE \"");
            format_date_time(m.internal_date, m.zone_minutes, w);
            w.put('"');
            break;
        case FetchKind::Rfc822Size: w.put("RFC822.SIZE ").put_uint(m.size); break;
        case FetchKind::ModSeq: w.put("MODSEQ (").put_uint(m.modseq).put(')'); break;
        default: {
            // A body item: its name, then the bytes as a streamed literal.
            const bool header =
                item.kind == FetchKind::Rfc822Header ||
                (item.kind == FetchKind::BodySection && item.section.text == SectionText::Header);
            const bool text =
                item.kind == FetchKind::Rfc822Text ||
                (item.kind == FetchKind::BodySection && item.section.text == SectionText::Text);
            if (header) end = header_size();
            if (text) begin = header_size();
            if (item.has_partial) {
                // RFC 3501 §6.4.5: <offset.count> within the section.
                const std::uint64_t len = end - begin;
                const std::uint64_t off = item.partial_offset < len ? item.partial_offset : len;
                const std::uint64_t cnt =
                    item.partial_count < len - off ? item.partial_count : len - off;
                begin += off;
                end = begin + cnt;
            }
            write_item_name(item, w);
            w.put(' ');
            out_.append(w.view());
            mime_source_.box = selected_;
            mime_source_.message = &job_.message;
            literal_slice_ = SliceSource(mime_source_, begin, end - begin);
            const StreamStatus st = streamer_.start(out_, literal_slice_, end - begin);
            if (st == StreamStatus::Failed) {
                job_.kind = JobKind::None;
                state_ = SessionState::Logout;
                out_.clear();
                return;
            }
            // The item counter advances when the streamer is done.
            if (!streamer_.active()) ++job_.item;
            return;
        }
    }
    out_.append(w.view());
    ++job_.item;
}

// This session's own flag changes are answered by its FETCH/STORE (or not,
// with .SILENT, RFC 3501 §6.4.6); the next report of changes leaves exactly
// those out (by their modseq), while other sessions' changes still come.
void Session::own_flag_change() {
    selected_->note_own_change(view_);
}

// Looks up the BODY[section] of a structure item (SectionFinder),
// reading a bounded share of the message per call (kStructureBudget), so
// finding part 1500000 of a message of 1.7 million parts does not hold up
// the loop. True when the result is in section_job_; false: call again.
bool Session::find_section_step(const SectionSpec& section) {
    mime_source_.box = selected_;
    mime_source_.message = &job_.message;
    if (!section_job_.open) {
        section_finder_.start(section);
        section_job_.open = true;
    }
    const SectionFinder::Progress p =
        section_finder_.step(mime_source_, services_.stream_scratch, services_.stream_scratch_size,
                             kStructureBudget, &section_job_.range);
    if (p == SectionFinder::Progress::Budget) return false;
    section_job_.open = false;
    section_job_.found = p == SectionFinder::Progress::Found;
    section_job_.part_end = section_finder_.part_end();
    return true;
}

// BINARY[section] of a part: its MIME header found in steps (find_section_step),
// for find_binary. True when found or not there; false: call again.
bool Session::binary_lookup_step(const FetchItem& item) {
    if (item.section.part_count == 0) return true;  // the message itself
    SectionSpec part = item.section;
    part.text = SectionText::Mime;
    return find_section_step(part);
}

// BODY[section] that needs the message's structure: part numbers, MIME,
// HEADER.FIELDS(.NOT) (RFC 3501 §6.4.5), once find_section_step found it.
void Session::stream_section(const FetchItem& item, FixedText<512>& w) {
    mime_source_.box = selected_;
    mime_source_.message = &job_.message;
    write_item_name(item, w);
    w.put(' ');
    const SectionRange range = section_job_.range;
    if (!section_job_.found) {
        // A section the message does not have (RFC 9051 §6.4.5: NIL).
        w.put("NIL");
        out_.append(w.view());
        ++job_.item;
        return;
    }
    std::uint64_t begin = range.offset, end = range.offset + range.length;
    if (range.filtered) {
        fields_filter_ = new (fields_filter_space_) HeaderFieldsFilter(
            mime_source_, range, item.section, fields_window_, sizeof fields_window_);
        begin = 0;
        end = fields_filter_->size();
    }
    if (item.has_partial) {
        const std::uint64_t len = end - begin;
        const std::uint64_t off = item.partial_offset < len ? item.partial_offset : len;
        const std::uint64_t cnt = item.partial_count < len - off ? item.partial_count : len - off;
        begin += off;
        end = begin + cnt;
    }
    out_.append(w.view());
    if (range.filtered) {
        literal_slice_ = SliceSource(*fields_filter_, begin, end - begin);
    } else {
        literal_slice_ = SliceSource(mime_source_, begin, end - begin);
    }
    if (streamer_.start(out_, literal_slice_, end - begin) == StreamStatus::Failed) {
        job_.kind = JobKind::None;
        state_ = SessionState::Logout;
        out_.clear();
        return;
    }
    if (!streamer_.active()) ++job_.item;
}

// ---- BINARY (RFC 3516) -----------------------------------------------------

// Where BINARY[section]'s bytes lie and how they are encoded. A part's
// encoding comes from its MIME header (RFC 2045 §6.1; absent: 7bit). BINARY[]
// is the whole message: its header as is, then its body decoded (identity
// for a multipart, RFC 2045 §6.4). A message/rfc822 part is its
// encapsulated message as it is (its encoding can only be an identity one,
// RFC 2046 §5.2.1): RFC 3516 does not restrict BINARY to leaves and
// Dovecot answers it so, while RFC 9051 §6.4.5's "leaf body parts" note is
// kept for multipart parts, which are refused. Parts of a
// multipart/digest without a Content-Type are taken as text/plain leaves
// here (the digest default, message/rfc822, is not looked up).
Session::BinaryLookup Session::find_binary(const FetchItem& item, BinaryRange* out) {
    mime_source_.box = selected_;
    mime_source_.message = &job_.message;
    char* scratch = services_.stream_scratch;
    const std::size_t cap = services_.stream_scratch_size;
    mime::HeaderBlock header;
    mime::PartInfo info;
    const SectionRange range = section_job_.range;
    const bool top = item.section.part_count == 0;
    if (top) {
        mime::load_header(mime_source_, 0, job_.message.size, scratch, cap, &header);
    } else if (section_job_.found) {
        mime::load_header(mime_source_, range.offset, range.offset + range.length, scratch, cap,
                          &header);
    } else {
        return BinaryLookup::Missing;
    }
    mime::classify_part(header, item.section.part_count, false, &info);
    if (!top && info.kind == mime::PartKind::Multipart) return BinaryLookup::NotLeaf;
    out->encoding = mime::TransferEncoding::Identity;
    std::string_view cte;
    if (info.kind == mime::PartKind::Leaf &&
        mime::find_field(header.fields, "Content-Transfer-Encoding", &cte)) {
        out->encoding = mime::transfer_encoding(cte);
        if (out->encoding == mime::TransferEncoding::Unknown) return BinaryLookup::UnknownCte;
    }
    if (top) {
        out->begin = 0;
        out->end = job_.message.size;
        out->raw = header.body_start;
        return BinaryLookup::Found;
    }
    out->begin = range.offset + range.length;  // after the MIME header: the body
    out->end = section_job_.part_end;
    out->raw = 0;
    return BinaryLookup::Found;
}

void Session::BinarySource::start(const BinaryRange& r) {
    range = r;
    rewind();
}

void Session::BinarySource::rewind() {
    decoder.reset(range.encoding);
    in_pos = range.begin;
    win_base = range.begin;
    win_len = 0;
    win_off = 0;
    produced = 0;
    ended = false;
    failed = false;
}

// The next decoded bytes, in order; 0 at the end (or on a read error: failed).
std::size_t Session::BinarySource::next(char* out, std::size_t capacity) {
    std::size_t n = 0;
    while (n < capacity && !ended) {
        if (win_off == win_len) {
            if (in_pos >= range.end) {
                // RFC 2045 §6.7/§6.8: what the encoding's tail decides.
                while (decoder.held() && n < capacity) {
                    const std::size_t f = decoder.finish(out + n, capacity - n);
                    n += f;
                    if (f == 0) break;
                }
                if (!decoder.held()) ended = true;
                break;
            }
            std::size_t want = window_size;
            if (want > range.end - in_pos) want = static_cast<std::size_t>(range.end - in_pos);
            std::size_t got = 0;
            if (box->read(*message, in_pos, window, want, &got) != Status::Ok || got == 0) {
                failed = true;
                ended = true;
                break;
            }
            win_base = in_pos;
            win_len = got;
            win_off = 0;
            in_pos += got;
        }
        const std::uint64_t pos = win_base + win_off;
        if (pos < range.begin + range.raw) {
            // BINARY[]: the header goes as it is.
            std::size_t k = win_len - win_off;
            if (k > range.begin + range.raw - pos) {
                k = static_cast<std::size_t>(range.begin + range.raw - pos);
            }
            if (k > capacity - n) k = capacity - n;
            for (std::size_t i = 0; i < k; ++i) out[n + i] = window[win_off + i];
            win_off += k;
            n += k;
            continue;
        }
        const mime::DecodeStep step =
            decoder.decode(window + win_off, win_len - win_off, out + n, capacity - n);
        win_off += step.consumed;
        n += step.produced;
        if (step.consumed == 0 && step.produced == 0) break;
    }
    produced += n;
    return n;
}

std::size_t Session::BinarySource::read(std::uint64_t offset, char* out, std::size_t capacity) {
    const std::uint64_t target = skip + offset;
    if (target < produced) rewind();
    while (produced < target) {
        // Decoded bytes before a partial's offset: into `out`, then dropped.
        std::size_t want = capacity;
        if (want > target - produced) want = static_cast<std::size_t>(target - produced);
        if (next(out, want) == 0) return 0;
    }
    return next(out, capacity);
}

// Decodes the whole range once: its decoded size, and whether the decoded
// bytes [from, from + count) hold a NUL (RFC 3516 §4.3: then literal8).
void Session::measure_binary(std::uint64_t from, std::uint64_t count, std::uint64_t* size,
                             bool* nul) {
    binary_source_.rewind();
    *nul = false;
    char* buf = services_.stream_scratch;
    for (;;) {
        const std::uint64_t at = binary_source_.produced;
        const std::size_t got = binary_source_.next(buf, services_.stream_scratch_size);
        if (got == 0) break;
        for (std::size_t i = 0; i < got && !*nul; ++i) {
            if (buf[i] == '\0' && at + i >= from && at + i - from < count) *nul = true;
        }
    }
    *size = binary_source_.produced;
    binary_source_.decoded_size = binary_source_.produced;
    binary_source_.rewind();
}

// BINARY[section]<partial> as a literal (literal8 when the bytes hold a NUL),
// NIL for a section the message does not have; BINARY.SIZE[section] as the
// number of decoded bytes (RFC 3516 §4.2, §4.3). Both decode the section
// once to know the size before the first byte is sent.
void Session::write_binary(const FetchItem& item, FixedText<512>& w) {
    write_item_name(item, w);
    w.put(' ');
    BinaryRange range;
    if (find_binary(item, &range) != BinaryLookup::Found) {
        w.put(item.kind == FetchKind::BinarySize ? "0" : "NIL");
        out_.append(w.view());
        ++job_.item;
        return;
    }
    binary_source_.box = selected_;
    binary_source_.message = &job_.message;
    binary_source_.window = fields_window_;
    binary_source_.window_size = sizeof fields_window_;
    binary_source_.skip = 0;
    binary_source_.start(range);
    std::uint64_t size = 0;
    bool nul = false;
    const std::uint64_t from = item.has_partial ? item.partial_offset : 0;
    const std::uint64_t want = item.has_partial ? item.partial_count : UINT64_MAX;
    measure_binary(from, want, &size, &nul);
    if (binary_source_.failed) {
        job_.kind = JobKind::None;
        state_ = SessionState::Logout;
        out_.clear();
        log_line(port::LogLevel::Error,
                 "message read failed during FETCH BINARY, user=", {user_, user_length_});
        return;
    }
    if (item.kind == FetchKind::BinarySize) {
        w.put_uint(size);
        out_.append(w.view());
        ++job_.item;
        return;
    }
    // RFC 3501 §6.4.5 partial semantics, on the decoded bytes.
    const std::uint64_t off = from < size ? from : size;
    const std::uint64_t count = want < size - off ? want : size - off;
    if (nul) w.put('~');
    out_.append(w.view());
    binary_source_.skip = off;
    if (streamer_.start(out_, binary_source_, count) == StreamStatus::Failed) {
        job_.kind = JobKind::None;
        state_ = SessionState::Logout;
        out_.clear();
        return;
    }
    if (!streamer_.active()) ++job_.item;
}

// ---- STORE -----------------------------------------------------------------

void Session::cmd_store(const ParsedCommand& cmd) {
    if (view_.read_only) {
        tagged("NO", "READ-ONLY", "The mailbox is selected read-only");
        return;
    }
    if (!check_set(cmd)) return;
    // RFC 7162 §3.1: UNCHANGEDSINCE enables CONDSTORE.
    if (cmd.store.has_unchangedsince) enable_condstore();
    if (cmd.store.op != StoreOp::Remove && !keywords_fit(*selected_, cmd.flags)) {
        answer_keyword_error(Status::Exhausted);  // nothing stored
        return;
    }
    store_job_.spec = cmd.store;
    store_job_.op = cmd.store.op == StoreOp::Add      ? store::FlagOp::Add
                    : cmd.store.op == StoreOp::Remove ? store::FlagOp::Remove
                                                      : store::FlagOp::Replace;
    store_job_.flags = cmd.flags.system;
    store_job_.keywords = 0;
    store_job_.txn = false;
    store_job_.seq_scan = 0;
    store_job_.failed = AscendingRun{};
    store_conditional_ = cmd.store.has_unchangedsince;
    store_silent_ = cmd.store.silent;
    modified_text_.clear();
    modified_ = SeqSet{};
    job_.kind = JobKind::StoreApply;
    job_.retry_at_ms = job_.waiting_since_ms = 0;
    run_job();
}

// The store is held by another session's transaction or another process:
// try again in kStoreRetryMs (a timer: the loop sleeps, nobody spins).
// False once the job has waited kStoreWaitMs: the caller answers NO [INUSE].
bool Session::retry_later() {
    constexpr std::uint64_t kStoreRetryMs = 20;
    constexpr std::uint64_t kStoreWaitMs = 30000;
    if (job_.waiting_since_ms == 0) job_.waiting_since_ms = now_ms_ == 0 ? 1 : now_ms_;
    if (now_ms_ - job_.waiting_since_ms >= kStoreWaitMs) {
        job_.waiting_since_ms = 0;
        return false;
    }
    job_.retry_at_ms = now_ms_ + kStoreRetryMs;
    return true;
}

// The keywords (registered if new) and the transaction; false when the job
// waits for the store or has ended.
bool Session::store_start() {
    ArgReader r = store_job_.spec.flags;
    FlagList flags;
    (void)parse_flag_list(r, false, !store_job_.spec.flags_in_list, &flags);
    std::uint64_t keywords = 0;
    Status st = Status::Ok;
    for (std::size_t i = 0; i < flags.keyword_count && st == Status::Ok; ++i) {
        unsigned bit = 0;
        st =
            selected_->keyword_bit(flags.keywords[i], store_job_.op != store::FlagOp::Remove, &bit);
        if (st == Status::Ok) keywords |= std::uint64_t{1} << bit;
        if (st == Status::NotFound) st = Status::Ok;
    }
    if (st == Status::Busy && retry_later()) return false;
    if (st != Status::Ok) {
        job_.kind = JobKind::None;
        answer_keyword_error(st);
        return false;
    }
    st = selected_->begin_store();
    if (st == Status::Busy && retry_later()) return false;
    if (st != Status::Ok) {
        store_finish(st);
        return false;
    }
    job_.waiting_since_ms = 0;
    store_job_.keywords = keywords;
    store_job_.txn = true;
    return true;
}

// Gives back the STORE transaction if it is still open (nothing committed).
void Session::end_store_txn() {
    if (!store_job_.txn) return;
    store_job_.txn = false;
    if (selected_ != nullptr) selected_->abort_store();
}

// One step of STORE: at most kStoreStep messages changed, inside the one
// transaction that commits them all (all or nothing, one modseq).
void Session::run_store_job() {
    constexpr std::uint32_t kStoreStep = 128;
    if (job_waiting()) return;
    job_.retry_at_ms = 0;
    if (state_ == SessionState::Logout || selected_ == nullptr) {
        end_store_txn();
        job_.kind = JobKind::None;
        return;
    }
    if (!store_job_.txn && !store_start()) return;
    if (view_invalidated()) {
        end_store_txn();
        job_.kind = JobKind::None;
        bye_invalidated();
        return;
    }
    const StoreSpec& spec = store_job_.spec;
    // RFC 7162 §3.1.3: the messages that fail UNCHANGEDSINCE, gathered in
    // ascending order (a sequence set is walked in order for that, which
    // also applies a message named twice once).
    AscendingSet failed(modified_text_, store_job_.failed);
    Status st = Status::Ok;
    for (std::uint32_t n = 0; n < kStoreStep && st == Status::Ok; ++n) {
        std::uint32_t seq = 0;
        if (!store_conditional_ || job_.uid) {
            seq = next_in_set();
        } else if (store_job_.seq_scan < view_.exists) {
            seq = lowest_member_from(job_.set, store_job_.seq_scan + 1, view_.exists);
            if (seq > view_.exists) seq = 0;
            store_job_.seq_scan = seq == 0 ? view_.exists : seq;
        }
        if (seq == 0) {
            if (!failed.finish()) st = Status::TooLong;
            store_finish(st);
            return;
        }
        store::MessageInfo result;
        bool skipped = false;
        if (store_conditional_ && spec.unchangedsince == 0) {
            // "UNCHANGEDSINCE 0" always fails: a system flag always exists.
            st = selected_->message(view_, seq, &result);
            skipped = true;
        } else {
            st = selected_->store(view_, seq, store_job_.op, store_job_.flags, store_job_.keywords,
                                  store_conditional_ ? spec.unchangedsince : 0, &result, &skipped);
            // RFC 2180 §4.2.1: a message another session expunged (not yet
            // reported here) is left alone; the others are stored.
            if (st == Status::NotFound && result.expunged) {
                st = Status::Ok;
                continue;
            }
        }
        if (st == Status::Ok && skipped && !failed.add(job_.uid ? result.uid : seq)) {
            st = Status::TooLong;
        }
    }
    if (st != Status::Ok) store_finish(st);
}

// The end of STORE's changes: commit (durable) and the answers, or NO.
void Session::store_finish(Status st) {
    if (st == Status::Ok && store_job_.txn) {
        store_job_.txn = false;
        st = selected_->commit_store();
    }
    end_store_txn();
    job_.kind = JobKind::None;
    if (st == Status::TooLong) {
        tagged("NO", "LIMIT", "Too many messages fail UNCHANGEDSINCE to list; use a smaller set");
        return;
    }
    if (st != Status::Ok) {
        answer_store(st, "");
        return;
    }
    own_flag_change();
    if (!modified_text_.view().empty()) {
        const char* why = "";
        (void)SeqSet::parse(modified_text_.view(), kModifiedText, &modified_, &why);
    }
    // RFC 7162 §3.1.3, §3.1.4.2 example 14: with CONDSTORE on, a FETCH with
    // MODSEQ is sent even with .SILENT.
    if (store_silent_ && !store_conditional_ && !condstore_) {
        tagged("OK", "", "STORE completed");
        return;
    }
    // RFC 3501 §6.4.6: the new flags of each message, as untagged FETCH.
    job_.cursor = SeqSet::Cursor{};
    job_.range_next = 1;
    job_.range_hi = 0;
    job_.next_position = 1;
    job_.kind = JobKind::Store;
    job_.item_count = 0;
    job_.seq = 0;
    run_job();
}

// One message's answer to STORE (RFC 3501 §6.4.6): its flags, its UID for
// UID STORE (§6.4.8), and with CONDSTORE its MODSEQ (RFC 7162 §3.1.3,
// §3.1.4.1). A message that failed UNCHANGEDSINCE gets its flags even after
// .SILENT, so the client need not ask why (§3.1.3, example 10).
bool Session::write_store_answer() {
    const store::MessageInfo& m = job_.message;
    const bool failed =
        store_conditional_ && modified_.contains(job_.uid ? m.uid : job_.seq, UINT32_MAX);
    FlagLine w;
    const char* sep = "";
    if (!store_silent_ || failed) {
        w.put("FLAGS ");
        write_flag_list(w, m.flags, m.keywords, *selected_);
        sep = " ";
    }
    // RFC 7162 §3.2.4: with CONDSTORE on, UID and MODSEQ in every answer.
    if (job_.uid || condstore_) {
        w.put(sep).put("UID ").put_uint(m.uid);
        sep = " ";
    }
    if (condstore_) w.put(sep).put("MODSEQ (").put_uint(m.modseq).put(')');
    w.put(")\r\n");
    // Whole or not yet: the job waits for the output to drain.
    return out_.append(w.view());
}

// ---- EXPUNGE / COPY -------------------------------------------------------------

namespace {

class SetFilter final : public store::Mailbox::UidFilter {
public:
    SetFilter(const SeqSet& set, std::uint32_t largest) : set_(set), largest_(largest) {}
    bool accept(std::uint32_t uid) override { return set_.contains(uid, largest_); }

private:
    const SeqSet& set_;
    std::uint32_t largest_;
};

// MOVE's removal step (RFC 6851 §3.3): the messages just copied, \Deleted
// or not. UID MOVE takes the UIDs in the set, MOVE the UIDs whose sequence
// number is; both only within the UIDs the copy saw, so the messages a MOVE
// into the selected mailbox itself has just added are never taken.
class MovedFilter final : public store::Mailbox::UidFilter {
public:
    MovedFilter(const SeqSet& set, bool uid, std::uint32_t largest, std::uint32_t lowest_uid,
                std::uint32_t highest_uid, store::Mailbox& box, const store::View& view)
        : set_(set),
          uid_(uid),
          largest_(largest),
          lo_(lowest_uid),
          hi_(highest_uid),
          box_(box),
          view_(view) {}
    bool accept(std::uint32_t uid) override {
        if (uid < lo_ || uid > hi_) return false;
        if (uid_) return set_.contains(uid, largest_);
        const std::uint32_t seq = box_.seq_of_uid(view_, uid);
        return seq != 0 && set_.contains(seq, view_.exists);
    }
    bool ignores_deleted() const override { return true; }

private:
    const SeqSet& set_;
    bool uid_;
    std::uint32_t largest_, lo_, hi_;
    store::Mailbox& box_;
    const store::View& view_;
};

}  // namespace

// RFC 3501 §6.4.3: removes \Deleted messages (RFC 4315 §2.1 UID EXPUNGE:
// those of the set); the untagged EXPUNGEs come from the same report as
// other sessions' changes. A job: batches of kExpungeBatch, each reported
// to the client (and so to this session's view) before the next is made,
// which keeps the store's list of not-yet-reported expunges short however
// many messages go.
void Session::cmd_expunge(const ParsedCommand& cmd) {
    if (view_.read_only) {
        tagged("NO", "READ-ONLY", "The mailbox is selected read-only");
        return;
    }
    (void)check_set(cmd);  // for job_.largest_uid
    job_.kind = JobKind::Expunge;
    job_.uid = cmd.uid;
    job_.set = cmd.set;
    job_.expunged_any = false;
    job_.move = false;
    job_.expunge_from_uid = 1;
    job_.retry_at_ms = job_.waiting_since_ms = 0;
    run_expunge_job();
}

void Session::run_expunge_job() {
    // Messages expunged per store commit, and store calls per step (each
    // looks at Mailbox::kExpungeScan records at most; a step ends after one
    // that committed something).
    constexpr std::size_t kExpungeBatch = 1024;
    constexpr int kExpungeCalls = 4;
    // The store's pending-expunge list is full and cannot be emptied yet
    // (another session's APPEND holds the mailbox): wait a little, then retry;
    // give up after kExpungeWaitMs.
    constexpr std::uint64_t kExpungeRetryMs = 20;
    constexpr std::uint64_t kExpungeWaitMs = 30000;
    if (job_waiting()) return;
    job_.retry_at_ms = 0;
    // One commit (3 fsyncs) per turn of the loop: the loop runs a job's
    // steps several times a turn, and fsyncs are what other clients would
    // wait for.
    if (job_.commit_turn == turn_ && turn_ != 0) return;
    // MOVE by sequence numbers takes its originals by the numbers the client
    // gave, so its view is not brought up to date until the end.
    const bool by_number = job_.move && !job_.uid;
    for (int call = 0; call < kExpungeCalls; ++call) {
        if (!by_number) {
            if (!sync_selected()) return;                    // the report goes on as output drains
            if (out_.room() < 2 * kResponseReserve) return;  // let it drain first
        }
        if (state_ == SessionState::Logout) {
            job_.kind = JobKind::None;
            return;
        }
        SetFilter filter(job_.set, job_.largest_uid);
        MovedFilter moved(job_.set, job_.uid, job_.largest_uid, job_.move_lo, job_.move_hi,
                          *selected_, view_);
        store::Mailbox::UidFilter* which = nullptr;
        if (job_.move) {
            which = &moved;
        } else if (job_.uid) {
            which = &filter;
        }
        std::size_t count = 0;
        const Status st = selected_->expunge(view_, which, nullptr, kExpungeBatch, &count,
                                             &job_.expunge_from_uid);
        if (count > 0) job_.expunged_any = true;
        if (st == Status::Exhausted && count > 0) continue;  // report these, then more
        if (st == Status::Exhausted || st == Status::Busy) {
            if (job_.waiting_since_ms == 0) job_.waiting_since_ms = now_ms_;
            if (now_ms_ - job_.waiting_since_ms < kExpungeWaitMs) {
                job_.retry_at_ms = now_ms_ + kExpungeRetryMs;
                return;
            }
        }
        job_.waiting_since_ms = 0;
        if (st != Status::Ok) {
            job_.kind = JobKind::None;
            if (job_.move) {
                // The copies are durable and some originals remain: nothing
                // is lost (RFC 6851 §3.3 "at least one of the source or
                // target mailboxes").
                finish_after_sync("NO", "SERVERBUG",
                                  "Copied, but the originals could not all be removed");
            } else if (st == Status::Exhausted) {
                finish_after_sync("NO", "INUSE", "Too many expunges pending; try again");
            } else {
                answer_store(st, "");
            }
            return;
        }
        if (job_.expunge_from_uid == 0) break;
        if (count > 0) {  // one commit per step and per turn; more next time
            job_.commit_turn = turn_;
            return;
        }
    }
    if (job_.expunge_from_uid != 0) return;  // more in the next step
    job_.kind = JobKind::None;
    // RFC 7162 §3.2.7, RFC 6851 §4.4: with QRESYNC, the new HIGHESTMODSEQ
    // when something went.
    FixedText<64> code;
    if (qresync_ && (job_.expunged_any || job_.move)) {
        code.put("HIGHESTMODSEQ ").put_uint(selected_->highest_modseq());
    }
    finish_after_sync("OK", code.view(), job_.move ? "MOVE completed" : "EXPUNGE completed");
}

// RFC 3501 §6.4.7: all or nothing; TRYCREATE when the target is missing.
//
// MOVE (RFC 6851 §3.3) is the same copy, committed (durable) first, then a
// removal of exactly the copied messages from the source: a crash between
// the two leaves a message in both mailboxes, never in neither. COPYUID
// goes in an untagged OK before the EXPUNGE (or VANISHED) responses (§4.3),
// which come from the same report as other changes (sync_selected). A MOVE
// into the selected mailbox itself is a copy (new UIDs, at the end) and the
// removal of the originals, as §3.3 allows.
void Session::cmd_copy(const ParsedCommand& cmd) {
    const bool move = cmd.id == CommandId::Move;
    if (move && view_.read_only) {
        tagged("NO", "READ-ONLY", "The mailbox is selected read-only");
        return;
    }
    if (!check_set(cmd)) return;
    if (move && !cmd.uid) {
        // MOVE removes its originals by the client's sequence numbers, so its
        // view is not brought up to date until they are all gone, and the
        // store keeps them as runs of expunged positions (max_pending_expunges
        // runs): a set so scattered that it might not fit is refused before
        // any copy, as a MOVE that could not remove all its originals would
        // leave them in both mailboxes (RFC 6851 §3.3 says it SHOULD NOT).
        // New runs: one per range, one more per run already kept (it may
        // split one), one more per commit of the removal (1024 messages or
        // Mailbox::kExpungeScan positions each).
        std::uint64_t count = 0;
        SeqSet::Cursor c;
        std::uint32_t lo = 0, hi = 0;
        while (cmd.set.next(c, view_.exists, &lo, &hi)) count += std::uint64_t{hi} - lo + 1;
        if (count > view_.exists) count = view_.exists;
        const std::uint64_t limit = services_.registry->limits().max_pending_expunges;
        const std::uint64_t need = cmd.set.range_count() + 2 * selected_->gone_count() +
                                   count / 1024 + count / store::Mailbox::kExpungeScan + 2;
        if (need > limit) {
            tagged("NO", "LIMIT", "Too many separate ranges to move at once; use UID MOVE");
            return;
        }
    }
    copy_.quota = !move && (config_.quota_storage_kib != 0 || config_.quota_messages != 0);
    if (copy_.quota) {
        // RFC 9208 §4.3.1: a COPY adds to the user's usage (a MOVE does not);
        // checked message by message as the job copies (all or nothing).
        const QuotaUsage u = quota_usage();
        const std::uint64_t max_bytes =
            config_.quota_storage_kib != 0 ? config_.quota_storage_kib * 1024 : UINT64_MAX;
        const std::uint64_t max_messages =
            config_.quota_messages != 0 ? config_.quota_messages : UINT64_MAX;
        copy_.quota_bytes = max_bytes > u.bytes ? max_bytes - u.bytes : 0;
        copy_.quota_messages = max_messages > u.messages ? max_messages - u.messages : 0;
    }
    store::UserStore store(*services_.registry, user_root_.view());
    Result<store::Mailbox*> dest = store.open(cmd.mailbox);
    if (!dest.ok()) {
        if (dest.status == Status::NotFound) {
            tagged("NO", "TRYCREATE", "No such mailbox");
        } else {
            answer_store(dest.status, "");
        }
        return;
    }
    copy_.dest = dest.value;
    copy_.move = move;
    copy_.txn = false;
    copy_.seq = 0;
    copy_.lowest_uid = UINT32_MAX;
    copy_.highest_uid = 0;
    copy_.cursor = store::CopyCursor{};
    copy_.over_quota = false;
    copy_.pairs.clear();
    job_.kind = JobKind::Copy;
    job_.retry_at_ms = job_.waiting_since_ms = 0;
    run_job();
}

// One step of COPY/MOVE's copy: at most kCopyStepBytes of message bytes and
// kCopyStepMessages messages into the destination's open transaction; the
// commit (fsync of both files) once the set is done.
void Session::run_copy_job() {
    constexpr std::uint64_t kCopyStepBytes = 256 * 1024;
    constexpr std::uint32_t kCopyStepMessages = 64;
    if (job_waiting()) return;
    job_.retry_at_ms = 0;
    if (state_ == SessionState::Logout || selected_ == nullptr) {
        end_copy_job(Status::Closed);
        return;
    }
    if (view_invalidated()) {
        // The source's numbers no longer hold: nothing is committed.
        end_copy_job(Status::Closed);
        bye_invalidated();
        return;
    }
    if (!copy_.txn) {
        const Status st = selected_->begin_copy(*copy_.dest);
        if (st == Status::Busy && retry_later()) return;
        if (st != Status::Ok) {
            end_copy_job(st);
            return;
        }
        job_.waiting_since_ms = 0;
        copy_.txn = true;
    }
    std::uint64_t budget = kCopyStepBytes;
    for (std::uint32_t n = 0; n < kCopyStepMessages && budget > 0; ++n) {
        if (copy_.seq == 0) {
            copy_.seq = next_in_set();
            if (copy_.seq == 0) {
                end_copy_job(Status::Ok);
                return;
            }
            store::MessageInfo m;
            if (copy_.quota && selected_->message(view_, copy_.seq, &m) == Status::Ok) {
                if (m.size > copy_.quota_bytes || copy_.quota_messages == 0) {
                    copy_.over_quota = true;
                    end_copy_job(Status::Exhausted);
                    return;
                }
                copy_.quota_bytes -= m.size;
                copy_.quota_messages -= 1;
            }
        }
        bool finished = false;
        std::uint32_t uid = 0;
        const Status st = selected_->copy_step(view_, copy_.seq, *copy_.dest, copy_.cursor, &budget,
                                               &finished, &uid);
        if (st != Status::Ok) {
            end_copy_job(st);
            return;
        }
        if (!finished) return;  // the rest of this message next time
        const std::uint32_t source = copy_.cursor.source.uid;
        copy_.pairs.add(source, uid);
        if (source < copy_.lowest_uid) copy_.lowest_uid = source;
        if (source > copy_.highest_uid) copy_.highest_uid = source;
        copy_.seq = 0;
    }
}

// The end of the copy: Ok commits it (durable) and answers (MOVE goes on
// to remove the originals); otherwise nothing of it is kept and the
// answer is NO (Closed: none, the session is ending).
void Session::end_copy_job(Status st) {
    store::Mailbox* const dest = copy_.dest;
    if (dest == nullptr) return;
    if (copy_.txn) {
        copy_.txn = false;
        if (st == Status::Ok) {
            st = selected_->commit_copy(*dest);
        } else {
            selected_->abort_copy(*dest);
        }
    }
    const std::uint32_t validity = dest->uid_validity();
    // Exhausted with the target's keyword table full: a keyword that did not fit.
    const bool keyword_limit =
        st == Status::Exhausted && dest->keyword_count() >= store::kMaxKeywords;
    store::UserStore(*services_.registry, user_root_.view()).close(dest);
    copy_.dest = nullptr;
    job_.kind = JobKind::None;
    if (st == Status::Closed) return;
    if (copy_.over_quota) {
        tagged("NO", "OVERQUOTA", "The mailbox quota would be exceeded");
        return;
    }
    if (keyword_limit) {
        answer_keyword_error(st);
        return;
    }
    if (st == Status::Exhausted) {
        tagged("NO", "LIMIT", "The destination mailbox has no UIDs left");
        return;
    }
    if (st != Status::Ok) {
        answer_store(st, "");
        return;
    }
    // RFC 4315 §3: COPYUID when the two sets fit in a response line (it is
    // a SHOULD; a huge scattered copy goes without).
    FixedText<kItemReserve> code;
    code.put("COPYUID ").put_uint(validity).put(' ');
    const bool has_copyuid = copy_.pairs.write(code);
    if (copy_.move) {
        finish_move(job_.uid, job_.set, has_copyuid ? code.view() : std::string_view{},
                    copy_.lowest_uid, copy_.highest_uid);
        return;
    }
    finish_after_sync("OK", has_copyuid ? code.view() : std::string_view{}, "COPY completed");
}

// MOVE once its copy is durable: COPYUID, the removal, the report.
void Session::finish_move(bool uid, const SeqSet& set, std::string_view copyuid,
                          std::uint32_t lowest_uid, std::uint32_t highest_uid) {
    if (!copyuid.empty()) {
        FixedText<kItemReserve + 16> w;
        w.put("OK [").put(copyuid).put("] Moved");
        untagged(w.view());
    }
    if (highest_uid != 0) {
        // RFC 6851 §3.3: the originals go, in batches (run_expunge_job).
        job_.kind = JobKind::Expunge;
        job_.uid = uid;
        job_.set = set;
        job_.expunged_any = false;
        job_.move = true;
        job_.move_lo = lowest_uid;
        job_.move_hi = highest_uid;
        job_.expunge_from_uid = 1;
        job_.retry_at_ms = job_.waiting_since_ms = 0;
        run_expunge_job();
        return;
    }
    // RFC 6851 §4.4: with QRESYNC, the new HIGHESTMODSEQ.
    FixedText<64> code;
    if (qresync_) code.put("HIGHESTMODSEQ ").put_uint(selected_->highest_modseq());
    finish_after_sync("OK", code.view(), "MOVE completed");
}

}  // namespace tinyimapd::imap
