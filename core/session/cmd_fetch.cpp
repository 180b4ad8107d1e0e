// FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8) with CONDSTORE's MODSEQ
// and CHANGEDSINCE and QRESYNC's VANISHED modifier (RFC 7162 §3.1.4,
// §3.2.6), and the message job that also writes STORE's answers.
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
// partials, through the MIME parser (core/mime); MODSEQ; SAVEDATE (RFC
// 8514 §4.2; NIL for a message saved before the store kept save dates);
// EMAILID and THREADID (RFC 8474 §5.3; THREADID is NIL); PREVIEW (RFC 8970,
// write_preview); BINARY[section],
// BINARY.PEEK and BINARY.SIZE (RFC 3516, cmd_binary.cpp). ENVELOPE, BODY
// and BODYSTRUCTURE answers of any size are written in pieces as the output
// drains (core/imap/bodystructure.h) and kept in the shared FetchCache
// (core/imap/fetch_cache.h) when they fit there.
//
// Bounds: ENVELOPE/BODY/BODYSTRUCTURE and finding the part of a
// BODY[section] or BINARY[section] read at most kStructureBudget bytes of
// the message per call.
#include "core/base/text.h"
#include "core/imap/bodystructure.h"
#include "core/imap/datetime.h"
#include "core/imap/encoder.h"
#include "core/imap/envelope.h"
#include "core/imap/object_id.h"
#include "core/imap/section.h"
#include "core/mime/header.h"
#include "core/mime/part.h"
#include "core/mime/transfer_decode.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

#include <new>
#include "core/session/command_support.h"

namespace tinyimapd::session {

namespace {

constexpr std::size_t kScanChunk = 1024;  // header scan window
// Message bytes an ENVELOPE/BODY/BODYSTRUCTURE walk reads per call (about a
// millisecond of work): write_structure.
constexpr std::uint64_t kStructureBudget = 256 * 1024;

bool served(const FetchItem& item) {
    switch (item.kind) {
        case FetchKind::Uid:
        case FetchKind::Flags:
        case FetchKind::InternalDate:
        case FetchKind::SaveDate:
        case FetchKind::EmailId:
        case FetchKind::ThreadId:
        case FetchKind::Preview:
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
std::uint32_t Session::next_in_set(SetWalk& walk) {
    if (walk.uid) return next_uid_in_set(walk);
    for (;;) {
        if (walk.range_next <= walk.range_hi) return walk.range_next++;
        std::uint32_t lo = 0, hi = 0;
        if (!walk.set.next(walk.cursor, view_.exists, &lo, &hi)) return 0;
        walk.range_next = lo;
        walk.range_hi = hi;
    }
}

// A UID set in ascending order: the messages of each range are found by a
// binary search for its first UID (first_seq_at_or_above), never by a walk
// over the messages between ranges (RFC 3501 §6.4.8: UIDs not in the
// mailbox are ignored).
std::uint32_t Session::next_uid_in_set(SetWalk& walk) {
    while (walk.next_position != 0 && walk.next_position <= view_.exists) {
        store::MessageInfo m;
        if (selected_->message(view_, walk.next_position, &m) != Status::Ok) break;
        if (walk.set.contains(m.uid, walk.largest_uid)) return walk.next_position++;
        const std::uint32_t want =
            m.uid == UINT32_MAX ? 0 : lowest_member_from(walk.set, m.uid + 1, walk.largest_uid);
        // The first message at or above it: always further on, as want > m.uid.
        walk.next_position = want == 0 ? 0 : first_seq_at_or_above(want);
    }
    walk.next_position = 0;
    return 0;
}

// The walk over the command's set, from its start; false (answered BAD)
// when a sequence number does not exist.
bool Session::check_set(const ParsedCommand& cmd, SetWalk* walk) {
    *walk = SetWalk{};
    walk->set = cmd.set;
    walk->uid = cmd.uid;
    // "*" in a UID set is the largest UID in use (RFC 3501 §6.4.8, §9).
    store::MessageInfo last;
    walk->largest_uid =
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

bool fetch_served(const FetchItem& item) {
    return served(item);
}

// PREVIEW (RFC 8970 §3): the message's first readable part as preview text
// (mime::PreviewText), found by a TextWalk that reads at most
// kStructureBudget message bytes per call (false: not yet; the job comes
// back), kept in the shared FetchCache like ENVELOPE. Always computed, LAZY
// or not: §4.1 lets a server answer NIL to LAZY, never obliges it to. The
// string is quoted when it is 7-bit, a literal otherwise (UTF-8, §3.3).
bool Session::write_preview() {
    FetchJob& job = fetch_job();
    if (out_.room() < kItemReserve) return false;  // wait for the socket to drain
    FetchCache* cache = services_.fetch_cache;
    FetchCacheKey key;
    std::string_view cached;
    if (cache != nullptr) {
        key.mailbox = cache->identity(selected_->dir());
        key.uid_validity = selected_->uid_validity();
        key.uid = job.message.uid;
        key.stamp = FetchCache::stamp_of(job.message.size, job.message.internal_date);
        key.item = CachedItem::Preview;
    }
    FixedText<kItemReserve> w;
    if (!job.first_item) w.put(' ');
    w.put("PREVIEW ");
    if (!job.previewing && cache != nullptr && cache->get(key, &cached)) {
        w.put(cached);
        out_.append(w.view());
        return true;
    }
    mime_source_.box = selected_;
    mime_source_.message = &job.message;
    if (!job.previewing) {
        work().preview.reset();
        work().text_walk.start(mime::TextScope::Preview, job.message.size);
        job.previewing = true;
    }
    std::uint64_t budget = kStructureBudget;
    if (work().text_walk.step(mime_source_, work().preview, services_.stream_scratch,
                              services_.stream_scratch_size, &budget) == mime::WalkStep::More) {
        return false;
    }
    job.previewing = false;
    const std::size_t at = w.size();
    ResponseWriter r(w);
    r.string(work().preview.text());
    if (cache != nullptr) cache->put(key, ascii::tail(w.view(), at));
    out_.append(w.view());
    return true;
}

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
    SetWalk walk;
    if (!check_set(cmd, &walk)) return;
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
    FetchJob& job = job_.start<FetchJob>(JobKind::Fetch);
    job.walk = walk;
    job.changedsince = cmd.fetch.changedsince ? cmd.fetch.changedsince_value : 0;
    bool asks_modseq = false;
    for (std::size_t i = 0; i < cmd.fetch.count; ++i) {
        if (cmd.fetch.items[i].kind == FetchKind::ModSeq) asks_modseq = true;
    }
    // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ.
    job.modseq_implied = cmd.fetch.changedsince && !asks_modseq;
    job.modseq_asked = asks_modseq;
    job.items = cmd.fetch.items;
    job.item_count = cmd.fetch.count;
    // RFC 4314 §4: FETCH sets \Seen only with the s right.
    job.sets_seen = cmd.fetch.sets_seen && !view_.read_only &&
                    (selected_rights_ & store::kRightSeen) != 0;
    binary_source_.measuring = false;
    run_job();
}

// The answers of a FETCH, or of a STORE once it has committed, message by
// message as far as the output buffer allows (run_job's last case).
void Session::run_message_job() {
    if (job_waiting()) return;  // a FETCH that sets \Seen waits for the mailbox
    job_.retry_at_ms = 0;
    FetchJob& job = fetch_job();  // for Store: StoreJob's answering part
    while (job_.active()) {
        if (streamer_.active()) {
            const StreamStatus st = streamer_.pump(out_);
            if (st == StreamStatus::Blocked) return;
            if (st == StreamStatus::Failed) {
                // The literal's length is promised: nothing else may follow.
                job_.end();
                state_ = SessionState::Logout;
                out_.clear();
                log_line(port::LogLevel::Error,
                         "message read failed during FETCH, user=", {user_, user_length_});
                return;
            }
            ++job.item;
            continue;
        }
        // Room for one short item, or for the tagged line that may end the job.
        if (out_.room() < kItemReserve || out_.room() < kResponseLine) return;
        if (job.seq == 0) {
            // RFC 3501 §7.2.6: FLAGS before a FETCH that may name a new keyword.
            if (!announce_keywords()) return;
            job.seq = job.held_seq != 0 ? job.held_seq : next_in_set(job.walk);
            job.held_seq = 0;
            if (job.seq == 0) {
                finish_message_job();
                return;
            }
            if (!start_message()) {
                if (!job_.active() || job_waiting() || job.checking) return;
                continue;
            }
        }
        if (job_.kind() == JobKind::Store) {
            if (!write_store_answer()) return;  // waits for room
            job.seq = 0;
            continue;
        }
        if (job.item >= job.item_count) {
            if (job.add_flags) {
                FlagLine w;
                w.put(job.first_item ? "" : " ").put("FLAGS ");
                write_flag_list(w, wire_flags(job.message.flags), job.message.keywords, *selected_);
                if (job_.kind() == JobKind::Store && job.walk.uid && job.first_item) {
                    w.put(" UID ").put_uint(job.message.uid);
                }
                w.put(")\r\n");
                if (out_.room() < w.size()) return;  // the rest of the line goes whole
                (void)out_.append(w.view());
            } else {
                out_.append_reserved(")\r\n");  // within kItemReserve
            }
            job.seq = 0;
            continue;
        }
        const std::size_t item_before = job.item;
        write_item(job.items[job.item]);
        if (!job_.active()) return;  // ended (a failed read): nothing follows
        // No progress and nothing streaming: wait for the output to drain.
        if (job.item == item_before && !streamer_.active()) return;
    }
}

// The tagged line once every message is answered; the job ends.
void Session::finish_message_job() {
    if (job_.kind() == JobKind::Store && !job_.get<StoreJob>().modified.empty()) {
        // RFC 7162 §3.1.3: the messages that failed the test.
        FixedText<kModifiedText + 16> code;
        code.put("MODIFIED ").put(job_.get<StoreJob>().modified_text.view());
        job_.end();
        (void)update_contexts();
        tagged("OK", code.view(), "Conditional STORE failed");
        return;
    }
    const bool fetch = job_.kind() == JobKind::Fetch;
    const bool notify = fetch && job_.get<FetchJob>().notify;
    job_.end();
    // RFC 5465 §5.2's unsolicited FETCH: no tagged line. The contexts were
    // brought up to date before it (its ADDTO precedes it, §5.2); what
    // changed while it ran comes at the next round between commands, the
    // FETCH of a flag change before its ESEARCH (§5.1).
    if (notify) return;
    (void)update_contexts();  // RFC 5267 §4.3: this session's own changes (the rest later)
    tagged("OK", "", fetch ? "FETCH completed" : "STORE completed");
}

// Opens message seq of the job: reads it, sets \Seen if the FETCH does, and writes
// "* n FETCH (". False to skip it (gone).
bool Session::start_message() {
    FetchJob& job = fetch_job();
    if (selected_->message(view_, job.seq, &job.message) != Status::Ok) {
        job.seq = 0;
        job.checking = false;
        return false;
    }
    user_flags(&job.message);  // RFC 4314 §4: this user's \Seen, no hidden names
    job.item = 0;
    job.first_item = true;
    job.add_flags = false;
    structure_job_.open = false;
    if (!job.checking) {
        section_job_.open = false;
        job.binary_check = 0;
    }
    job.checking = false;
    job.header_size = UINT64_MAX;
    // RFC 7162 §3.1.4.1: CHANGEDSINCE keeps only messages changed since.
    if (job_.kind() == JobKind::Fetch && job.changedsince != 0 &&
        job.message.modseq <= job.changedsince) {
        job.seq = 0;
        return false;
    }
    if (!check_binary_items()) return false;
    // (Its \Seen waiting for its group's commit: the commit may already
    // show it; the answer still goes through set_seen.)
    if (job_.kind() == JobKind::Fetch && job.sets_seen &&
        (job.seen_txn || (job.message.flags & mail::kSeen) == 0) && !set_seen()) {
        return false;
    }
    open_fetch_response();
    return true;
}

// RFC 3516 §4.2 / RFC 9051 §6.4.5: BINARY that cannot be answered for this
// message fails the command, before its response is begun. Finding the part
// may span turns: the message is put back meanwhile. False: stop here (the
// job waits, or has ended with NO).
bool Session::check_binary_items() {
    FetchJob& job = fetch_job();
    for (std::size_t i = job.binary_check; job_.kind() == JobKind::Fetch && i < job.item_count;
         ++i) {
        const FetchItem& item = job.items[i];
        if (item.kind != FetchKind::BinarySection && item.kind != FetchKind::BinarySize) continue;
        if (!binary_lookup_step(item)) {
            job.binary_check = i;
            job.checking = true;
            job.held_seq = job.seq;
            job.seq = 0;
            return false;
        }
        BinaryRange range;
        const BinaryLookup found = find_binary(item, &range);
        if (found != BinaryLookup::NotLeaf && found != BinaryLookup::UnknownCte) continue;
        job_.end();
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
    return true;
}

// RFC 3501 §6.4.5: BODY[...] sets \Seen, and the change is reported (FLAGS
// added to the response unless asked). False: the mailbox is held by another
// session's job, or the change waits for its flush (on the I/O threads, so
// the loop serves the others); this message again once it is free or done.
bool Session::set_seen() {
    FetchJob& job = fetch_job();
    if (!job.seen_txn) {
        // A STORE of one message: it joins the group commit that is open.
        Status held = Status::Busy;
        if (store_turn(false) == store::Mailbox::Turn::Ready) held = selected_->begin_store(true);
        if (held == Status::Busy && retry_later()) {
            // Another session's STORE or COPY job holds the mailbox: this
            // message again once it is free (RFC 3501 §6.4.5: \Seen is set).
            job.held_seq = job.seq;
            job.seq = 0;
            return false;
        }
        job_.waiting_since_ms = 0;
        leave_store_turn();  // waited 30 s: answered without it
        if (held == Status::Ok) {
            store::MessageInfo result;
            bool skipped = false;
            // RFC 4314 §4: a non-owner's \Seen is their keyword (cmd_seen.cpp).
            std::uint64_t mine = 0;
            Status st = seen_bit(true, &mine);
            const std::uint8_t flags = seen_.per_user ? 0 : mail::kSeen;
            if (st == Status::Ok) {
                st = selected_->store(view_, job.seq, store::FlagOp::Add, flags, mine, 0, &result,
                                      &skipped);
            }
            if (st == Status::Ok) {
                job.seen_txn = true;
                job.seen_flags = result.flags;
                job.seen_keywords = result.keywords;
                job.seen_modseq = result.modseq;
            } else {
                selected_->abort_store(&store_commit_);
                // The group's redo record is full: after its commit.
                if (st == Status::Busy && retry_later()) {
                    job.held_seq = job.seq;
                    job.seq = 0;
                    return false;
                }
            }
        }
    }
    while (job.seen_txn) {
        // The group's commit (one flush on an I/O thread for every STORE
        // that joined it): this message again once it is done.
        const Status committed = selected_->commit_store(store_commit_);
        if (committed == Status::WouldBlock) {
            job.held_seq = job.seq;
            job.seq = 0;
            return false;
        }
        job.seen_txn = false;
        if (committed == Status::Ok) {
            job.message.flags = job.seen_flags | (job.message.flags & mail::kRecent);
            job.message.keywords = job.seen_keywords;
            user_flags(&job.message);
            job.message.modseq = job.seen_modseq;
            own_flag_change(store_commit_.modseq);
        }
    }
    bool asked = false;
    for (std::size_t i = 0; i < job.item_count; ++i) {
        if (job.items[i].kind == FetchKind::Flags) asked = true;
    }
    job.add_flags = !asked;
    return true;
}

// "* n FETCH (", with UID and MODSEQ where they are implied.
void Session::open_fetch_response() {
    FetchJob& job = fetch_job();
    FixedText<64> w;
    w.put("* ").put_uint(job.seq).put(" FETCH (");
    out_.append(w.view());
    if (job_.kind() == JobKind::Fetch && (job.walk.uid || (condstore_ && job.add_flags))) {
        // RFC 3501 §6.4.8: UID FETCH always includes UID; RFC 7162 §3.2.4:
        // so does a FETCH that set \Seen once CONDSTORE is on.
        bool asked = false;
        for (std::size_t i = 0; i < job.item_count; ++i) {
            if (job.items[i].kind == FetchKind::Uid) asked = true;
        }
        if (!asked) {
            w.clear();
            w.put("UID ").put_uint(job.message.uid);
            out_.append(w.view());
            job.first_item = false;
        }
    }
    if (job_.kind() == JobKind::Fetch && !job.modseq_asked &&
        (job.modseq_implied || (condstore_ && fetch_has_flags()))) {
        // RFC 7162 §3.1.4.1 (CHANGEDSINCE), §3.1.4.2 / §3.1 (with CONDSTORE
        // on, FLAGS always come with MODSEQ).
        w.clear();
        if (!job.first_item) w.put(' ');
        w.put("MODSEQ (").put_uint(job.message.modseq).put(')');
        out_.append(w.view());
        job.first_item = false;
    }
}

// The response for the job's message carries FLAGS (asked, or added after \Seen
// was set).
bool Session::fetch_has_flags() {
    FetchJob& job = fetch_job();
    if (job.add_flags) return true;
    for (std::size_t i = 0; i < job.item_count; ++i) {
        if (job.items[i].kind == FetchKind::Flags) return true;
    }
    return false;
}

std::size_t Session::MimeSource::read(std::uint64_t offset, char* out, std::size_t capacity) {
    std::size_t got = 0;
    if (box->read(*message, offset, out, capacity, &got) != Status::Ok) {
        failed = true;
        return 0;
    }
    return got;
}

// The cache's name for this session's kind of answer: a rev2 session's
// BODY/BODYSTRUCTURE join RFC 2231 values, a session without UTF-8 gets
// encoded words (RFC 6855 §7), so none of them is shared with the others.
CachedItem Session::structure_cache_item(FetchKind kind) const {
    if (kind == FetchKind::Envelope) {
        return utf8_ ? CachedItem::Envelope : CachedItem::EnvelopeDowngraded;
    }
    if (kind == FetchKind::Body) {
        return rev2_ ? CachedItem::BodyRev2 : utf8_ ? CachedItem::Body : CachedItem::BodyDowngraded;
    }
    return rev2_   ? CachedItem::BodyStructureRev2
           : utf8_ ? CachedItem::BodyStructure
                   : CachedItem::BodyStructureDowngraded;
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
    FetchJob& job = fetch_job();
    mime_source_.box = selected_;
    mime_source_.message = &job.message;
    StructureJob& sj = structure_job_;
    FetchCache* cache = services_.fetch_cache;
    FetchCacheKey key;
    if (cache != nullptr) {
        key.mailbox = cache->identity(selected_->dir());
        key.uid_validity = selected_->uid_validity();
        key.uid = job.message.uid;
        key.stamp = FetchCache::stamp_of(job.message.size, job.message.internal_date);
        key.item = structure_cache_item(item.kind);
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
        if (!job.first_item) out_.append(" ");
        out_.append(name);
        sj = StructureJob{};
        sj.open = true;
        sj.from_cache = cache != nullptr && cache->get(key, &cached);
        if (!sj.from_cache) {
            work().structure.start(what, 0, rev2_, !utf8_);
            if (cache != nullptr) cache->begin_put(&sj.put);
        }
    } else if (sj.from_cache && !cache->get(key, &cached)) {
        // Evicted between turns: walk the message, past what was sent.
        sj.from_cache = false;
        work().structure.start(what, sj.sent, rev2_, !utf8_);
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
    const StructureWriter::Progress p = work().structure.step(
        mime_source_, services_.stream_scratch, services_.stream_scratch_size, w, kStructureBudget);
    out_.commit(w.size());
    sj.sent = work().structure.delivered();
    if (cache != nullptr) cache->append(&sj.put, w.view());
    if (p != StructureWriter::Progress::Done) return false;
    if (cache != nullptr) cache->finish_put(&sj.put, key);
    sj.open = false;
    return true;
}

// Offset just past the header's blank line (the whole message if none).
std::uint64_t Session::header_size() {
    FetchJob& job = fetch_job();
    if (job.header_size != UINT64_MAX) return job.header_size;
    char buf[kScanChunk];
    std::uint64_t offset = 0;
    std::uint32_t state = 0;  // bytes of "\r\n\r\n" / "\n\n" matched
    job.header_size = job.message.size;
    while (offset < job.message.size) {
        std::size_t got = 0;
        if (selected_->read(job.message, offset, buf, sizeof buf, &got) != Status::Ok || got == 0) {
            break;
        }
        for (std::size_t i = 0; i < got; ++i) {
            const char c = buf[i];
            if (c == '\n') {
                if (state >= 1) {
                    job.header_size = offset + i + 1;
                    return job.header_size;
                }
                state = 1;
            } else if (c != '\r') {
                state = 0;
            }
        }
        offset += got;
    }
    return job.header_size;
}

void Session::stream_item(ByteSource& source, std::uint64_t count) {
    FetchJob& job = fetch_job();
    if (streamer_.start(out_, source, count) == StreamStatus::Failed) {
        job_.end();
        state_ = SessionState::Logout;
        out_.clear();
        return;
    }
    // The item counter advances when the streamer is done.
    if (!streamer_.active()) ++job.item;
}

void Session::write_item(const FetchItem& item) {
    FetchJob& job = fetch_job();
    if (item.kind == FetchKind::Preview) {
        if (write_preview()) {
            job.first_item = false;
            ++job.item;
        }
        return;
    }
    if (item.kind == FetchKind::Envelope || item.kind == FetchKind::Body ||
        item.kind == FetchKind::BodyStructure) {
        if (write_structure(item)) {
            job.first_item = false;
            ++job.item;
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
    if (!job.first_item) w.put(' ');
    job.first_item = false;
    if (item.kind == FetchKind::BinarySection || item.kind == FetchKind::BinarySize) {
        write_binary(item, w);
        return;
    }
    if (!plain_section(item)) {
        stream_section(item, w);
        return;
    }
    const store::MessageInfo& m = job.message;
    switch (item.kind) {
        case FetchKind::Uid: w.put("UID ").put_uint(m.uid); break;
        case FetchKind::Flags: write_flags_item(w); return;
        case FetchKind::InternalDate:
            w.put("INTERNALDATE \"");
            format_date_time(m.internal_date, m.zone_minutes, w);
            w.put('"');
            break;
        case FetchKind::Rfc822Size: w.put("RFC822.SIZE ").put_uint(m.size); break;
        // RFC 8514 §4.2: the save date, in UTC; NIL for a message whose
        // record has none (saved before the index's version 2, or rebuilt
        // from m.data alone: docs/STORAGE.md).
        case FetchKind::SaveDate:
            if (m.save_date == store::kNoSaveDate) {
                w.put("SAVEDATE NIL");
            } else {
                w.put("SAVEDATE \"");
                format_date_time(m.save_date, 0, w);
                w.put('"');
            }
            break;
        // RFC 8474 §5.3. THREADID is NIL (§5.2: the server computes no
        // threads it could keep stable across mailboxes and restarts).
        case FetchKind::EmailId:
            w.put("EMAILID (");
            imap::put_object_id(w, imap::kEmailIdPrefix, m.email_id);
            w.put(')');
            break;
        case FetchKind::ThreadId: w.put("THREADID NIL"); break;
        case FetchKind::ModSeq: w.put("MODSEQ (").put_uint(m.modseq).put(')'); break;
        default: stream_plain_section(item, w); return;
    }
    out_.append(w.view());
    ++job.item;
}

// FLAGS: up to kMaxFlagList bytes, so its own buffer, written whole once the
// output has room (else the job waits: no progress). `w` holds the
// separator.
void Session::write_flags_item(FixedText<kItemReserve>& w) {
    FetchJob& job = fetch_job();
    const store::MessageInfo& m = job.message;
    FlagLine flags;
    flags.put(w.view()).put("FLAGS ");
    write_flag_list(flags, wire_flags(m.flags), m.keywords, *selected_);
    if (out_.room() < flags.size()) {
        job.first_item = w.view().empty();
        return;
    }
    (void)out_.append(flags.view());
    ++job.item;
}

// A body item that needs no MIME parsing (RFC822, RFC822.HEADER,
// RFC822.TEXT, BODY[], BODY[HEADER], BODY[TEXT], with partials): its name,
// then the bytes as a streamed literal.
void Session::stream_plain_section(const FetchItem& item, FixedText<kItemReserve>& w) {
    FetchJob& job = fetch_job();
    std::uint64_t begin = 0, end = job.message.size;
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
        const std::uint64_t cnt = item.partial_count < len - off ? item.partial_count : len - off;
        begin += off;
        end = begin + cnt;
    }
    write_item_name(item, w);
    w.put(' ');
    out_.append(w.view());
    mime_source_.box = selected_;
    mime_source_.message = &job.message;
    literal_slice_ = SliceSource(mime_source_, begin, end - begin);
    stream_item(literal_slice_, end - begin);
}

// This session's own flag changes are answered by its FETCH/STORE (or not,
// with .SILENT, RFC 3501 §6.4.6); the next report of changes leaves exactly
// those out (by their modseq), while other sessions' changes still come.
void Session::own_flag_change(std::uint64_t modseq) {
    if (modseq != 0) selected_->note_own_change(view_, modseq);
}

// Looks up the BODY[section] of a structure item (SectionFinder),
// reading a bounded share of the message per call (kStructureBudget), so
// finding part 1500000 of a message of 1.7 million parts does not hold up
// the loop. True when the result is in section_job_; false: call again.
bool Session::find_section_step(const SectionSpec& section) {
    FetchJob& job = fetch_job();
    mime_source_.box = selected_;
    mime_source_.message = &job.message;
    if (!section_job_.open) {
        work().section_finder.start(section);
        section_job_.open = true;
    }
    const SectionFinder::Progress p = work().section_finder.step(
        mime_source_, services_.stream_scratch, services_.stream_scratch_size, kStructureBudget,
        &section_job_.range);
    if (p == SectionFinder::Progress::Budget) return false;
    section_job_.open = false;
    section_job_.found = p == SectionFinder::Progress::Found;
    section_job_.part_end = work().section_finder.part_end();
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
    FetchJob& job = fetch_job();
    mime_source_.box = selected_;
    mime_source_.message = &job.message;
    write_item_name(item, w);
    w.put(' ');
    const SectionRange range = section_job_.range;
    if (!section_job_.found) {
        // A section the message does not have (RFC 9051 §6.4.5: NIL).
        w.put("NIL");
        out_.append(w.view());
        ++job.item;
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
    stream_item(literal_slice_, end - begin);
}

}  // namespace tinyimapd::session
