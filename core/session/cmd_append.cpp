// APPEND (RFC 3501 §6.3.11), streamed to storage: the literal's bytes go to
// a staged file as they arrive (core/store/staged_append.h), the message is
// committed to the mailbox as a job that waits on a timer while the mailbox
// is busy, and the tagged OK (with APPENDUID, RFC 4315) goes out only once
// it is durable. RFC 9208 quota is reserved while the message is staged.
// [UID] REPLACE (RFC 8508) is the same APPEND of one message, followed, once
// it is durable, by the expunge of the message it replaces (cmd_copy.cpp
// finish_replace).
#include "core/base/text.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

// ---- APPEND, streamed ----------------------------------------------------

namespace {

// Bytes an Append job copies from its staging file into the mailbox per turn
// of the loop (under the mailbox lock): about a millisecond of local I/O.
constexpr std::size_t kAppendCopyPerTurn = 64 * 1024;
// How long an APPEND waits for its mailbox's write turn before it is
// answered NO [INUSE] (a holder stuck that long is reported in the log).
constexpr std::uint64_t kAppendWaitMs = 30000;
// Retry delays while another process holds the mailbox's lock.
constexpr std::uint64_t kAppendRetryFirstMs = 5;
constexpr std::uint64_t kAppendRetryMaxMs = 500;
// Staging file names tried per slot: a<slot>.tmp, a<slot+65536>.tmp, ...
constexpr std::uint32_t kStageNames = 4;
constexpr std::uint32_t kStageNameStride = 65536;

}  // namespace

// Called when APPEND's message literal is announced (RFC 3501 §6.3.11): the
// arguments so far are checked, the mailbox opened and the literal taken as
// a stream into the session's staging file (store::StagedAppend), so the
// message is never held in memory and the mailbox is not locked while the
// client sends it. The copy into the mailbox happens at the end of the
// command (append_finish, run_append_job).
// The size checks of one message literal (RFC 3502 §6.3.11, RFC 7889 §4,
// RFC 9208 §4.3.1); false when it is refused (answered, nothing kept).
bool Session::append_size_allowed(std::uint32_t size, std::string_view owner) {
    if (size == 0) {
        // RFC 3502 §6.3.11: "A zero-length message literal argument is an
        // error, and MUST return a NO"; nothing of the command is kept.
        parser_.refuse_literal();
        abort_append();
        tagged("NO", "", "Empty message");
        return false;
    }
    if (size > config_.max_append_size) {
        parser_.refuse_literal();
        abort_append();
        tagged("NO", "TOOBIG", "Message larger than APPENDLIMIT");  // RFC 7889 §4
        return false;
    }
    // RFC 9208 §4.3.1: the committed usage plus every reservation of this
    // user's APPENDs in flight (this command's earlier messages included).
    // RFC 8508 §3.4: a REPLACE counts "only the net quota consumption".
    const bool fits = replace_uid_ == 0
                          ? quota_allows(size, 1, owner)
                          : quota_allows(size > replace_size_ ? size - replace_size_ : 0, 0);
    if (!fits) {
        parser_.refuse_literal();
        abort_append();
        tagged("NO", "OVERQUOTA", "The mailbox quota would be exceeded");
        return false;
    }
    return true;
}

// The first message of the command: opens the mailbox and the slot's
// staging file (append_box_, stage_).
Session::AppendStep Session::append_open(store::UserStore& store, std::string_view mailbox) {
    Result<store::Mailbox*> opened = store.open(mailbox);
    // Busy: another process holds it; WouldBlock: another session's CREATE
    // of it is being made durable (Registry::hold_commit).
    if ((opened.status == Status::Busy || opened.status == Status::WouldBlock) &&
        append_retry_later()) {
        return AppendStep::Wait;
    }
    if (!opened.ok()) {
        parser_.refuse_literal();
        if (opened.status == Status::NotFound) {
            tagged("NO", "TRYCREATE", "No such mailbox");  // §6.3.11
        } else {
            answer_store(opened.status, "");
        }
        return AppendStep::Refused;
    }
    store::Mailbox* box = opened.value;
    // The slot's staging file; one held by another process (a second
    // server on the same mail_dir, same slot) is left to it: try others.
    Status st = Status::Busy;
    std::uint32_t number = slot_;
    for (std::uint32_t k = 0; k < kStageNames && st == Status::Busy; ++k) {
        number = slot_ + k * kStageNameStride;
        st = stage_.open(services_.registry->services(), user_root_.view(), number, box);
    }
    if (st != Status::Ok) {
        parser_.refuse_literal();
        store.close(box);
        FixedText<32> name;
        name.put(" (a").put_uint(number).put(".tmp)");
        log_line(port::LogLevel::Error, "cannot open the APPEND staging file in ",
                 user_root_.view(), name.view());
        answer_store(st, "");
        return AppendStep::Refused;
    }
    stage_.set_async_flush(true);  // the commit's flushes: start_flush
    append_box_ = box;
    return AppendStep::Go;
}

// Every keyword is stored, or the APPEND is refused (RFC 3501 §6.3.11: NO,
// nothing appended); never a keyword silently dropped. New names are
// registered first (append_new_keywords), then the announcement goes on.
Session::AppendStep Session::append_keywords(store::Mailbox& box, const FlagList& flags,
                                             std::uint64_t* keywords) {
    *keywords = 0;
    Status kw = keywords_fit(box, flags) ? Status::Ok : Status::Exhausted;
    bool known = true;
    for (std::size_t i = 0; kw == Status::Ok && i < flags.keyword_count; ++i) {
        unsigned bit = 0;
        if (box.keyword_bit(flags.keywords[i], false, &bit) != Status::Ok) known = false;
    }
    if (kw == Status::Ok && (!known || append_kw_txn_)) {
        const AppendStep step = append_new_keywords(box, flags, &kw);
        if (step == AppendStep::Wait) return step;
    }
    for (std::size_t i = 0; kw == Status::Ok && i < flags.keyword_count; ++i) {
        unsigned bit = 0;
        kw = box.keyword_bit(flags.keywords[i], false, &bit);
        if (kw == Status::Ok) *keywords |= std::uint64_t{1} << bit;
    }
    if (kw != Status::Ok) {
        parser_.refuse_literal();
        abort_append();
        if (kw == Status::NotFound) {
            tagged("NO", "TRYCREATE", "The mailbox was deleted");  // §6.3.11, DELETEd meanwhile
        } else {
            answer_keyword_error(kw);  // Busy: NO [INUSE], as for the mailbox itself
        }
        return AppendStep::Refused;
    }
    return AppendStep::Go;
}

// An APPEND's new keywords are registered in a transaction of their own,
// begun in the mailbox's write turn and committed with its group
// (Mailbox::commit_store), so that its flush, like a STORE's, runs on an
// I/O thread while the loop serves the others (docs/STORAGE.md "Group
// commit"); the job waits for the commit, then takes the literal's
// announcement again (append_begin), which finds the names. *st: why not.
Session::AppendStep Session::append_new_keywords(store::Mailbox& box, const FlagList& flags,
                                                 Status* st) {
    if (!append_kw_txn_) {
        store_turn_.joins = true;
        *st = Status::Busy;
        if (box.write_turn(store_turn_) == store::Mailbox::Turn::Ready) *st = box.begin_store(true);
        if (*st == Status::Busy && append_retry_later()) return AppendStep::Wait;
        leave_store_turn();
        if (*st != Status::Ok) return AppendStep::Refused;
        append_kw_txn_ = true;
        for (std::size_t i = 0; *st == Status::Ok && i < flags.keyword_count; ++i) {
            unsigned bit = 0;
            *st = box.keyword_bit(flags.keywords[i], true, &bit);
        }
        if (*st != Status::Ok) {
            box.abort_store(&store_commit_);
            append_kw_txn_ = false;
            return AppendStep::Refused;
        }
    }
    *st = box.commit_store(store_commit_);
    if (*st == Status::WouldBlock) {  // job_waiting() until the group has committed
        job_.start<AppendJob>(JobKind::Append);
        append_opening_ = true;
        append_wait_ = AppendWait::None;
        return AppendStep::Wait;
    }
    append_kw_txn_ = false;
    return *st == Status::Ok ? AppendStep::Go : AppendStep::Refused;
}

// RFC 8508 §3.2, §3.3: the message a REPLACE replaces, looked up in the
// session's view before the literal is taken (a REPLACE that cannot remove
// it costs the client no upload); false when refused (answered).
bool Session::replace_target(const AppendTarget& target) {
    std::uint32_t seq = 0;
    if (target.star) {
        seq = view_.exists;  // RFC 3501 §9 seq-number: "*" is the last one
    } else if (target.uid) {
        seq = selected_->seq_of_uid(view_, target.number);
    } else if (target.number <= view_.exists) {
        seq = target.number;
    }
    store::MessageInfo m;
    const Status st = seq == 0 ? Status::NotFound : selected_->message(view_, seq, &m);
    if ((selected_rights_ & store::kRightExpunge) == 0) {  // RFC 4314 §4: it is expunged
        parser_.refuse_literal();
        tagged("NO", "NOPERM", "You may not expunge messages in this mailbox");
        return false;
    }
    if (!view_.read_only && st == Status::Ok && !m.expunged) {
        replace_uid_ = m.uid;
        replace_size_ = m.size;
        return true;
    }
    parser_.refuse_literal();
    if (view_.read_only) {
        tagged("NO", "READ-ONLY", "The mailbox is selected read-only");
    } else if (seq == 0 && (target.star || !target.uid)) {
        tagged("BAD", "", "Invalid message sequence number");  // RFC 3501 §9
    } else if (seq == 0) {
        tagged("NO", "", "No message with that UID");
    } else if (st != Status::Ok) {
        answer_store(st, "");
    } else {
        tagged("NO", "EXPUNGEISSUED", "The message was expunged by another session");
    }
    return false;
}

void Session::append_begin() {
    AppendMessage message;
    AppendTarget target;
    const SyntaxResult r = append_message_ready(parser_, &message, &target);
    if (r.verdict != SyntaxVerdict::Ok) {
        parser_.refuse_literal();
        abort_append();
        report_syntax(r);
        return;
    }
    if (target.replace && append_box_ == nullptr && !replace_target(target)) return;
    const std::uint32_t size = parser_.literal_size();
    // RFC 6855 §3: a UTF8=ACCEPT session's name is UTF-8 (checked by
    // append_message_ready); the store's is modified UTF-7.
    FixedText<mail::kMaxMailboxName + 1> converted;
    std::string_view mailbox = target.mailbox;
    if (utf8_ && mail::utf8_to_mutf7(mailbox, converted)) mailbox = converted.view();
    // RFC 4314 §4: i on the target (for each message: its rights say which
    // of its flags are kept); the owner's quota pays.
    MailboxRef ref;
    const Status access = check_access(mailbox, store::kRightInsert, &ref);
    if (access != Status::Ok) {
        parser_.refuse_literal();
        abort_append();
        answer_access(access);
        return;
    }
    if (!append_size_allowed(size, ref.owner.view())) return;
    store::UserStore store(*services_.registry, ref.root.view());
    if (append_box_ == nullptr) {
        const AppendStep opened = append_open(store, ref.name);
        if (opened != AppendStep::Go) return;
        header_8bit_ = false;
    }
    // RFC 4314 §4: only the flags the rights allow are kept (never a NO).
    std::uint64_t keywords = 0;
    message.flags.system = static_cast<std::uint8_t>(message.flags.system & ref.flag_mask());
    if ((ref.rights & store::kRightWrite) == 0) message.flags.keyword_count = 0;
    seen_append_flags(ref, &message.flags);  // a non-owner's \Seen is their keyword
    if (append_keywords(*append_box_, message.flags, &keywords) != AppendStep::Go) return;
    const std::int64_t date =
        message.has_date ? message.date.utc_seconds : services_.clock->wall_seconds();
    const auto zone = static_cast<std::int16_t>(
        message.has_date ? message.date.zone_minutes : services_.clock->utc_offset_minutes(date));
    const Status st = stage_.add(size, message.flags.system, keywords, date, zone);
    if (st != Status::Ok) {
        parser_.refuse_literal();
        abort_append();
        if (st == Status::Exhausted) {
            tagged("NO", "LIMIT", "Too many messages in one APPEND");
        } else {
            answer_store(st, "");
        }
        return;
    }
    if (services_.reservations != nullptr) {
        services_.reservations->reserve(slot_, ref.owner.view(), size, 1);
    }
    append_status_ = Status::Ok;
    header_scan_ = utf8_ ? HeaderScan::Done : HeaderScan::LineStart;
    parser_.stream_literal();
    if (parser_.literal_sync()) out_.append("+ Ready for the message\r\n");
}

void Session::append_chunk(std::string_view chunk) {
    if (append_box_ == nullptr || append_status_ != Status::Ok) return;
    scan_append_header(chunk);
    append_status_ = stage_.write(chunk.data(), chunk.size());
}

// RFC 6855 §4: "If an IMAP server supports UTF8=ACCEPT and the IMAP client
// has not issued the ENABLE UTF8=ACCEPT command, the server MUST reject,
// with a NO response, an APPEND command that includes any 8-bit character
// in message header fields." The header ends at the first empty line (RFC
// 5322 §2.1; a bare LF counts as a line end, as the MIME parser reads it).
void Session::scan_append_header(std::string_view chunk) {
    for (std::size_t i = 0; i < chunk.size() && header_scan_ != HeaderScan::Done; ++i) {
        const auto c = static_cast<unsigned char>(chunk[i]);
        if (c >= 0x80) {
            header_8bit_ = true;
            header_scan_ = HeaderScan::Done;
            return;
        }
        switch (header_scan_) {
            case HeaderScan::LineStart:
                header_scan_ = c == '\n'   ? HeaderScan::Done
                               : c == '\r' ? HeaderScan::Cr
                                           : HeaderScan::Text;
                break;
            case HeaderScan::Cr:
                header_scan_ = c == '\n' ? HeaderScan::Done : HeaderScan::Text;
                break;
            case HeaderScan::Text:
                if (c == '\n') header_scan_ = HeaderScan::LineStart;
                break;
            case HeaderScan::Done: break;
        }
    }
}

// The APPEND command line is complete: the Append job takes the mailbox's
// write turn and copies the staged messages in (RFC 3502 §6.3.11: all of
// them or none); the OK goes out once they are durable.
void Session::append_finish() {
    if (append_box_ == nullptr) return;
    if (header_8bit_) {
        abort_append();
        tagged("NO", "", "8-bit characters in a message header need ENABLE UTF8=ACCEPT (RFC 6855)");
        return;
    }
    Status st = append_status_;
    if (st == Status::Ok && !stage_.complete()) st = Status::Invalid;
    if (st != Status::Ok) {
        abort_append();
        answer_store(st, "");
        return;
    }
    job_.start<AppendJob>(JobKind::Append);
    job_.waiting_since_ms = now_ms_;
    append_wait_ = AppendWait::None;
    append_backoff_ms_ = kAppendRetryFirstMs;
    run_append_job();
}

bool Session::append_waiting() const {
    switch (append_wait_) {
        case AppendWait::None: return false;
        case AppendWait::Queued: return !stage_.waiter_woken() && now_ms_ < job_.retry_at_ms;
        case AppendWait::Timer: return now_ms_ < job_.retry_at_ms;
    }
    return false;
}

// Another process holds the mailbox just as a literal is announced: wait
// (reading nothing more: TCP holds the client back) and try again on a timer
// with backoff. False once kAppendWaitMs have passed (the caller refuses).
bool Session::append_retry_later() {
    if (!append_open_waiting_) {
        append_open_waiting_ = true;
        append_open_since_ = now_ms_;
        append_backoff_ms_ = kAppendRetryFirstMs;
    }
    if (now_ms_ - append_open_since_ >= kAppendWaitMs) {
        append_open_waiting_ = false;
        log_line(port::LogLevel::Warning, "APPEND gave up after 30 s: mailbox held by ",
                 "another process");
        return false;
    }
    job_.start<AppendJob>(JobKind::Append);
    append_opening_ = true;
    append_wait_ = AppendWait::Timer;
    job_.retry_at_ms = now_ms_ + append_backoff_ms_;
    append_backoff_ms_ =
        append_backoff_ms_ * 2 < kAppendRetryMaxMs ? append_backoff_ms_ * 2 : kAppendRetryMaxMs;
    return true;
}

// One step of the copy into the mailbox; at a durability barrier the flush
// goes to the I/O threads (Flush: the job waits for it) or is done here and
// the step goes on.
store::StagedAppend::Step Session::append_commit_step(store::Mailbox& box, std::uint32_t* first,
                                                      Status* error) {
    for (;;) {
        const store::StagedAppend::Step step = stage_.commit_step(kAppendCopyPerTurn, first, error);
        if (step != store::StagedAppend::Step::Flush || start_flush(box)) return step;
    }
}

// RENAME INBOX replaced INBOX's files while this APPEND waited for INBOX's
// write turn (RFC 3501 §6.3.5: INBOX stays, emptied): the APPEND goes into
// the INBOX opened again, never "deleted". False: it waits (the new INBOX is
// being finished: Registry::hold_commit) or was answered.
bool Session::append_follow() {
    store::Mailbox* old = append_box_;
    store::Path dir;
    (void)dir.assign(old->dir());
    Result<store::Mailbox*> opened = services_.registry->acquire(dir.view());
    if (opened.status == Status::Busy || opened.status == Status::WouldBlock) {
        if (job_.waiting_since_ms == 0) job_.waiting_since_ms = now_ms_;
        if (now_ms_ - job_.waiting_since_ms < kAppendWaitMs) {
            append_wait_ = AppendWait::Timer;
            job_.retry_at_ms = now_ms_ + kAppendRetryFirstMs;
            return false;
        }
    }
    if (opened.ok() && stage_.retarget(opened.value) == Status::Ok) {
        services_.registry->release(old);
        append_box_ = opened.value;
        return true;
    }
    if (opened.ok()) services_.registry->release(opened.value);
    job_.end();
    append_wait_ = AppendWait::None;
    abort_append();
    tagged("NO", "INUSE", "Mailbox is busy, try again");
    return false;
}

void Session::run_append_job() {
    // Not before the wake-up or the timer: the loop may call in earlier.
    if (flush_waiting() || append_waiting()) return;  // flush_waiting: a group's commit too
    if (append_opening_) {
        // The literal's announcement again (the parser has not moved on).
        job_.end();
        append_opening_ = false;
        append_wait_ = AppendWait::None;
        append_begin();
        if (!append_opening_) append_open_waiting_ = false;
        return;
    }
    store::Mailbox* box = append_box_;
    if (box == nullptr) {
        job_.end();
        return;
    }
    if (box->replaced() && !stage_.holding()) {
        if (!append_follow()) return;
        box = append_box_;
    }
    std::uint32_t first = 0;
    Status error = Status::Ok;
    using Step = store::StagedAppend::Step;
    const Step step = append_commit_step(*box, &first, &error);
    const std::uint64_t give_up_at = job_.waiting_since_ms + kAppendWaitMs;
    switch (step) {
        case Step::More: append_wait_ = AppendWait::None; return;  // again next turn
        case Step::Queued:
        case Step::Locked:
            if (now_ms_ < give_up_at) {
                if (step == Step::Queued) {
                    // Woken when the holder lets go; the deadline bounds it.
                    append_wait_ = AppendWait::Queued;
                    job_.retry_at_ms = give_up_at;
                } else {
                    append_wait_ = AppendWait::Timer;
                    job_.retry_at_ms = now_ms_ + append_backoff_ms_;
                    if (job_.retry_at_ms > give_up_at) job_.retry_at_ms = give_up_at;
                    append_backoff_ms_ = append_backoff_ms_ * 2 < kAppendRetryMaxMs
                                             ? append_backoff_ms_ * 2
                                             : kAppendRetryMaxMs;
                }
                return;
            }
            {
                const std::string_view holder = box->writer();
                log_line(port::LogLevel::Warning, "APPEND gave up after 30 s: mailbox ", box->dir(),
                         " held by ",
                         holder.empty() ? std::string_view("another process") : holder);
            }
            job_.end();
            append_wait_ = AppendWait::None;
            abort_append();
            tagged("NO", "INUSE", "Mailbox is busy, try again");
            return;
        case Step::Failed:
            job_.end();
            append_wait_ = AppendWait::None;
            abort_append();
            if (error == Status::NotFound) {
                tagged("NO", "TRYCREATE", "The mailbox was deleted");  // §6.3.11
            } else {
                answer_store(error, "");
            }
            return;
        case Step::Flush: append_wait_ = AppendWait::None; return;  // flush_completed goes on
        case Step::Done: break;
    }
    append_committed(*box, first);
}

// The staged messages are durable in `box` (the first has UID `first`):
// the answer, or REPLACE's removal of the message it replaces.
void Session::append_committed(store::Mailbox& box, std::uint32_t first) {
    job_.end();
    append_wait_ = AppendWait::None;
    const std::size_t count = stage_.count();
    const std::uint32_t validity = box.uid_validity();
    const std::uint32_t replaced = replace_uid_;
    // RFC 5465 §5.2: no MessageNew FETCH for this session's own messages.
    if (notify_ != nullptr && &box == notify_->fetched_box && first == notify_->fetched_uid + 1) {
        notify_->fetched_uid = first + static_cast<std::uint32_t>(count) - 1;
    }
    abort_append();  // the messages are committed: only the stage and the box go
    // RFC 4315 §3: where the messages went (RFC 3502: a range for several).
    FixedText<64> code;
    code.put("APPENDUID ").put_uint(validity).put(' ').put_uint(first);
    if (count > 1) code.put(':').put_uint(first + count - 1);
    if (replaced != 0) {
        finish_replace(code.view(), replaced);  // RFC 8508: the old one goes
        return;
    }
    finish_after_sync("OK", code.view(), "APPEND completed");
}

void Session::release_reservation() {
    if (services_.reservations != nullptr) services_.reservations->release(slot_);
}

// Ends an APPEND command: the stage is dropped (a copy not yet committed is
// cut from the mailbox), the mailbox and the quota reservation given back.
void Session::abort_append() {
    replace_uid_ = 0;
    release_reservation();
    if (flush_box_ != nullptr && flush_box_ == append_box_) forget_flush();
    if (append_box_ == nullptr) return;
    if (append_kw_txn_) {  // its keywords' commit is left to the group, or dropped
        append_box_->abort_store(&store_commit_);
        append_kw_txn_ = false;
    }
    if (store_turn_.mailbox == append_box_) leave_store_turn();
    stage_.end_command();
    store::UserStore(*services_.registry, user_root_.view()).close(append_box_);
    append_box_ = nullptr;
}

}  // namespace tinyimapd::session
