// FETCH and STORE (RFC 3501 §6.4.5, §6.4.6, §6.4.8 UID forms), EXPUNGE
// (§6.4.3, RFC 4315 UID EXPUNGE) and COPY (§6.4.7) over the store.
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
// partials, through the MIME parser (core/mime). BINARY (RFC 3516) and
// MODSEQ are refused with NO/BAD before any output, never answered wrongly.
#include "core/base/text.h"
#include "core/imap/datetime.h"
#include "core/imap/encoder.h"
#include "core/imap/session.h"
#include "core/mime/bodystructure.h"
#include "core/mime/envelope.h"
#include "core/store/user_store.h"

#include <new>

namespace tinyimapd::imap {

namespace {

constexpr std::size_t kItemReserve = 512;  // room needed to write one short item
constexpr std::size_t kScanChunk = 1024;   // header scan window

void write_flag_list(TextWriter& w, std::uint8_t flags, std::uint64_t keywords,
                     const store::Mailbox& box) {
    struct Name {
        std::uint8_t bit;
        const char* text;
    };
    static constexpr Name kNames[] = {{kAnswered, "\\Answered"}, {kFlagged, "\\Flagged"},
                                      {kDeleted, "\\Deleted"},   {kSeen, "\\Seen"},
                                      {kDraft, "\\Draft"},       {kRecent, "\\Recent"}};
    w.put('(');
    bool first = true;
    auto item = [&](std::string_view t) {
        if (!first) w.put(' ');
        w.put(t);
        first = false;
    };
    for (const Name& n : kNames) {
        if ((flags & n.bit) != 0) item(n.text);
    }
    for (std::size_t i = 0; i < box.keyword_count(); ++i) {
        if ((keywords & (std::uint64_t{1} << i)) != 0) item(box.keyword_name(i));
    }
    w.put(')');
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
        case FetchKind::BodySection: return true;
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
    if (job_.uid) {
        while (job_.next_position <= view_.exists) {
            const std::uint32_t seq = job_.next_position++;
            store::MessageInfo m;
            if (selected_->message(view_, seq, &m) != Status::Ok) continue;
            if (job_.set.contains(m.uid, job_.largest_uid)) return seq;
        }
        return 0;
    }
    for (;;) {
        if (job_.range_next <= job_.range_hi) return job_.range_next++;
        std::uint32_t lo = 0, hi = 0;
        if (!job_.set.next(job_.cursor, view_.exists, &lo, &hi)) return 0;
        job_.range_next = lo;
        job_.range_hi = hi;
    }
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
    }
    if (cmd.fetch.changedsince || cmd.fetch.wants_modseq) {
        tagged("BAD", "", "CONDSTORE is not enabled on this server");
        return;
    }
    if (!check_set(cmd)) return;
    job_.kind = JobKind::Fetch;
    job_.items = cmd.fetch.items;
    job_.item_count = cmd.fetch.count;
    job_.sets_seen = cmd.fetch.sets_seen && !view_.read_only;
    job_.seq = 0;
    job_.item = 0;
    run_job();
}

// Moves the job as far as the output buffer allows.
void Session::run_job() {
    if (job_.kind == JobKind::Search) {
        run_search();
        return;
    }
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
        if (out_.room() < kItemReserve) return;
        if (job_.seq == 0) {
            job_.seq = next_in_set();
            if (job_.seq == 0) {
                const JobKind done = job_.kind;
                job_.kind = JobKind::None;
                tagged("OK", "", done == JobKind::Fetch ? "FETCH completed" : "STORE completed");
                return;
            }
            if (!start_message()) continue;
        }
        if (job_.kind == JobKind::Store || job_.item >= job_.item_count) {
            if (job_.kind == JobKind::Store || job_.add_flags) {
                FixedText<kItemReserve> w;
                w.put(job_.first_item ? "" : " ").put("FLAGS ");
                write_flag_list(w, job_.message.flags, job_.message.keywords, *selected_);
                if (job_.kind == JobKind::Store && job_.uid && job_.first_item) {
                    w.put(" UID ").put_uint(job_.message.uid);
                }
                out_.append(w.view());
            }
            out_.append(")\r\n");
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
        return false;
    }
    job_.item = 0;
    job_.first_item = true;
    job_.add_flags = false;
    job_.header_size = UINT64_MAX;
    if (job_.kind == JobKind::Fetch && job_.sets_seen && (job_.message.flags & kSeen) == 0) {
        // RFC 3501 §6.4.5: BODY[...] sets \Seen, and the change is reported.
        store::MessageInfo result;
        bool skipped = false;
        if (selected_->begin_store() == Status::Ok) {
            if (selected_->store(view_, job_.seq, store::FlagOp::Add, kSeen, 0, 0, &result,
                                 &skipped) == Status::Ok &&
                selected_->commit_store() == Status::Ok) {
                job_.message.flags = result.flags | (job_.message.flags & kRecent);
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
    if (job_.kind == JobKind::Fetch && job_.uid) {
        // RFC 3501 §6.4.8: UID FETCH always includes UID.
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
    return true;
}

std::size_t Session::MimeSource::read(std::uint64_t offset, char* out, std::size_t capacity) {
    std::size_t got = 0;
    if (box->read(*message, offset, out, capacity, &got) != Status::Ok) return 0;
    return got;
}

// ENVELOPE, BODY, BODYSTRUCTURE: written in place into the output buffer.
// False: not enough room yet (the caller waits for the socket to drain).
bool Session::write_structure(const FetchItem& item) {
    mime_source_.box = selected_;
    mime_source_.message = &job_.message;
    const bool was_empty = out_.empty();
    std::size_t room = 0;
    char* space = out_.free_space(&room);
    TextWriter w(space, room);
    if (!job_.first_item) w.put(' ');
    ResponseWriter r(w);
    bool ok = false;
    if (item.kind == FetchKind::Envelope) {
        w.put("ENVELOPE ");
        ok = mime::write_envelope(mime_source_, services_.stream_scratch,
                                  services_.stream_scratch_size, r);
    } else {
        w.put(item.kind == FetchKind::Body ? "BODY " : "BODYSTRUCTURE ");
        ok = mime::write_bodystructure(mime_source_, services_.stream_scratch,
                                       services_.stream_scratch_size,
                                       item.kind == FetchKind::BodyStructure, r);
    }
    if (ok && r.ok() && w.ok()) {
        out_.commit(w.size());
        return true;
    }
    if (!was_empty) return false;  // retry with the whole buffer
    // Larger than the whole output buffer (a hostile message): a minimal
    // answer that is still valid syntax.
    w.clear();
    if (!job_.first_item) w.put(' ');
    if (item.kind == FetchKind::Envelope) {
        w.put("ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    } else {
        w.put(item.kind == FetchKind::Body ? "BODY " : "BODYSTRUCTURE ");
        w.put("(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\" ");
        w.put_uint(job_.message.size).put(')');
    }
    out_.commit(w.size());
    return true;
}

std::size_t Session::StoreSource::read(std::uint64_t offset, char* out, std::size_t capacity) {
    std::size_t got = 0;
    if (box->read(*message, base + offset, out, capacity, &got) != Status::Ok) return 0;
    return got;
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
    FixedText<kItemReserve> w;
    if (!job_.first_item) w.put(' ');
    job_.first_item = false;
    if (!plain_section(item)) {
        stream_section(item, w);
        return;
    }
    const store::MessageInfo& m = job_.message;
    std::uint64_t begin = 0, end = m.size;
    switch (item.kind) {
        case FetchKind::Uid: w.put("UID ").put_uint(m.uid); break;
        case FetchKind::Flags:
            w.put("FLAGS ");
            write_flag_list(w, m.flags, m.keywords, *selected_);
            break;
        case FetchKind::InternalDate:
            w.put("INTERNALDATE \"");
            format_date_time(m.internal_date, m.zone_minutes, w);
            w.put('"');
            break;
        case FetchKind::Rfc822Size: w.put("RFC822.SIZE ").put_uint(m.size); break;
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
            source_.box = selected_;
            source_.message = &job_.message;
            source_.base = begin;
            const StreamStatus st = streamer_.start(out_, source_, end - begin);
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
// with .SILENT, RFC 3501 §6.4.6); the next report of changes must not
// repeat them.
void Session::own_flag_change() {
    view_.flags_modseq = selected_->highest_modseq();
}

// BODY[section] that needs the message's structure: part numbers, MIME,
// HEADER.FIELDS(.NOT) (RFC 3501 §6.4.5).
void Session::stream_section(const FetchItem& item, FixedText<512>& w) {
    mime_source_.box = selected_;
    mime_source_.message = &job_.message;
    write_item_name(item, w);
    w.put(' ');
    mime::SectionRange range;
    if (!mime::find_section(mime_source_, item.section, services_.stream_scratch,
                            services_.stream_scratch_size, &range)) {
        // A section the message does not have (RFC 9051 §6.4.5: NIL).
        w.put("NIL");
        out_.append(w.view());
        ++job_.item;
        return;
    }
    std::uint64_t begin = range.offset, end = range.offset + range.length;
    if (range.filtered) {
        fields_filter_ = new (fields_filter_space_) mime::HeaderFieldsFilter(
            mime_source_, range, item.section, fields_window_, sizeof fields_window_);
        begin = 0;
        end = fields_filter_->total_size();
    }
    if (item.has_partial) {
        const std::uint64_t len = end - begin;
        const std::uint64_t off = item.partial_offset < len ? item.partial_offset : len;
        const std::uint64_t cnt = item.partial_count < len - off ? item.partial_count : len - off;
        begin += off;
        end = begin + cnt;
    }
    out_.append(w.view());
    LiteralSource* source = &source_;
    if (range.filtered) {
        filter_base_.filter = fields_filter_;
        filter_base_.base = begin;
        source = &filter_base_;
    } else {
        source_.box = selected_;
        source_.message = &job_.message;
        source_.base = begin;
    }
    if (streamer_.start(out_, *source, end - begin) == StreamStatus::Failed) {
        job_.kind = JobKind::None;
        state_ = SessionState::Logout;
        out_.clear();
        return;
    }
    if (!streamer_.active()) ++job_.item;
}

std::size_t Session::FilterSource::read(std::uint64_t offset, char* out, std::size_t capacity) {
    return filter->read(base + offset, out, capacity);
}

// ---- STORE -----------------------------------------------------------------

void Session::cmd_store(const ParsedCommand& cmd) {
    if (view_.read_only) {
        tagged("NO", "READ-ONLY", "The mailbox is selected read-only");
        return;
    }
    if (cmd.store.has_unchangedsince) {
        tagged("BAD", "", "CONDSTORE is not enabled on this server");
        return;
    }
    if (!check_set(cmd)) return;
    std::uint64_t keywords = 0;
    for (std::size_t i = 0; i < cmd.flags.keyword_count; ++i) {
        unsigned bit = 0;
        const Status st =
            selected_->keyword_bit(cmd.flags.keywords[i], cmd.store.op != StoreOp::Remove, &bit);
        if (st == Status::Ok) {
            keywords |= std::uint64_t{1} << bit;
        } else if (st != Status::NotFound) {
            answer_store(st, "");
            return;
        }
    }
    const store::FlagOp op = cmd.store.op == StoreOp::Add      ? store::FlagOp::Add
                             : cmd.store.op == StoreOp::Remove ? store::FlagOp::Remove
                                                               : store::FlagOp::Replace;
    // All changes in one transaction (one fsync), then the answers.
    Status st = selected_->begin_store();
    for (std::uint32_t seq = next_in_set(); st == Status::Ok && seq != 0; seq = next_in_set()) {
        store::MessageInfo result;
        bool skipped = false;
        st = selected_->store(view_, seq, op, cmd.flags.system, keywords, 0, &result, &skipped);
    }
    if (st == Status::Ok) st = selected_->commit_store();
    if (st != Status::Ok) {
        selected_->abort_store();
        answer_store(st, "");
        return;
    }
    own_flag_change();
    if (cmd.store.silent) {
        tagged("OK", "", "STORE completed");
        return;
    }
    // RFC 3501 §6.4.6: the new flags of each message, as untagged FETCH.
    (void)check_set(cmd);
    job_.kind = JobKind::Store;
    job_.item_count = 0;
    job_.seq = 0;
    run_job();
}

// ---- EXPUNGE / COPY -------------------------------------------------------------

namespace {

// The source and destination UID sets of a COPY, as runs of consecutive
// UIDs in both ("4:6" and "21:23"), bounded.
class UidPairs {
public:
    void add(std::uint32_t src, std::uint32_t dst) {
        if (count_ > 0 && src == src_hi_ + 1 && dst == dst_hi_ + 1) {
            ++src_hi_;
            ++dst_hi_;
            return;
        }
        flush();
        src_lo_ = src_hi_ = src;
        dst_lo_ = dst_hi_ = dst;
        ++count_;
    }
    // "src-set dst-set"; false if they did not fit.
    bool write(TextWriter& w) {
        flush();
        if (count_ == 0 || !src_.ok() || !dst_.ok()) return false;
        w.put(src_.view()).put(' ').put(dst_.view());
        return w.ok();
    }

private:
    void flush() {
        if (count_ == 0 || flushed_ == count_) return;
        run(src_, src_lo_, src_hi_);
        run(dst_, dst_lo_, dst_hi_);
        flushed_ = count_;
    }
    static void run(TextWriter& w, std::uint32_t lo, std::uint32_t hi) {
        if (w.size() > 0) w.put(',');
        w.put_uint(lo);
        if (hi != lo) w.put(':').put_uint(hi);
    }
    FixedText<200> src_, dst_;
    std::uint32_t src_lo_ = 0, src_hi_ = 0, dst_lo_ = 0, dst_hi_ = 0;
    std::size_t count_ = 0, flushed_ = 0;
};

class SetFilter final : public store::Mailbox::UidFilter {
public:
    SetFilter(const SeqSet& set, std::uint32_t largest) : set_(set), largest_(largest) {}
    bool accept(std::uint32_t uid) override { return set_.contains(uid, largest_); }

private:
    const SeqSet& set_;
    std::uint32_t largest_;
};

}  // namespace

// RFC 3501 §6.4.3: removes \Deleted messages; the untagged EXPUNGEs come
// from the same report as other sessions' changes (sync_selected).
void Session::cmd_expunge(const ParsedCommand& cmd) {
    if (view_.read_only) {
        tagged("NO", "READ-ONLY", "The mailbox is selected read-only");
        return;
    }
    (void)check_set(cmd);  // for job_.largest_uid
    SetFilter filter(cmd.set, job_.largest_uid);
    std::uint32_t uids[64];
    std::size_t count = 64;
    while (count == 64) {
        const Status st = selected_->expunge(view_, cmd.uid ? &filter : nullptr, uids, 64, &count);
        if (st != Status::Ok) {
            answer_store(st, "");
            return;
        }
    }
    sync_selected();
    if (state_ != SessionState::Logout) tagged("OK", "", "EXPUNGE completed");
}

// RFC 3501 §6.4.7: all or nothing; TRYCREATE when the target is missing.
void Session::cmd_copy(const ParsedCommand& cmd) {
    if (cmd.id == CommandId::Move) {
        tagged("NO", "CANNOT", "MOVE is not implemented in this version of tinyimapd");
        return;
    }
    if (!check_set(cmd)) return;
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
    UidPairs pairs;
    Status st = selected_->begin_copy(*dest.value);
    for (std::uint32_t seq = next_in_set(); st == Status::Ok && seq != 0; seq = next_in_set()) {
        std::uint32_t uid = 0;
        store::MessageInfo source;
        st = selected_->message(view_, seq, &source);
        if (st == Status::Ok) st = selected_->copy(view_, seq, *dest.value, &uid);
        if (st == Status::Ok) pairs.add(source.uid, uid);
    }
    const std::uint32_t validity = dest.value->uid_validity();
    if (st == Status::Ok) {
        st = selected_->commit_copy(*dest.value);
    } else {
        selected_->abort_copy(*dest.value);
    }
    store.close(dest.value);
    if (st != Status::Ok) {
        answer_store(st, "");
        return;
    }
    sync_selected();
    if (state_ == SessionState::Logout) return;
    // RFC 4315 §3: COPYUID when the two sets fit in a response line (it is
    // a SHOULD; a huge scattered copy goes without).
    FixedText<kItemReserve> code;
    code.put("COPYUID ").put_uint(validity).put(' ');
    if (pairs.write(code)) {
        tagged("OK", code.view(), "COPY completed");
    } else {
        tagged("OK", "", "COPY completed");
    }
}

}  // namespace tinyimapd::imap
