// STORE and UID STORE (RFC 3501 §6.4.6, §6.4.8), with CONDSTORE's
// UNCHANGEDSINCE and MODIFIED (RFC 7162 §3.1.3): the changes are a job (one
// store transaction held across turns of the loop, a bounded number of
// messages per step, committed before the answers), and while the mailbox is
// held elsewhere (Busy) it waits on a timer (retry_later). The FETCH
// responses follow as the message job of cmd_fetch.cpp.
#include "core/base/text.h"
#include "core/session/command_support.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

namespace tinyimapd::imap {

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
    store_job_.committing = false;
    store_job_.held_seq = 0;
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
    // (now_ms_ may be 0 on a clock that starts there: waiting_since_ms is then 1.)
    if (now_ms_ >= job_.waiting_since_ms && now_ms_ - job_.waiting_since_ms >= kStoreWaitMs) {
        job_.waiting_since_ms = 0;
        return false;
    }
    job_.retry_at_ms = now_ms_ + kStoreRetryMs;
    return true;
}

bool Session::start_flush(store::Mailbox& box) {
    port::Fs& fs = services_.registry->services().fs;
    const std::uint64_t token = (std::uint64_t{slot_} << 32) | ++flush_count_;
    if (fs.flush_start(box.flush_file(), token) == Status::Ok) {
        flush_token_ = token;
        flush_box_ = &box;
        return true;
    }
    box.flushed(fs.fsync(box.flush_file()));  // no I/O threads (or all busy)
    return false;
}

void Session::flush_completed(std::uint64_t token, Status status) {
    if (token != flush_token_ || flush_box_ == nullptr) return;
    store::Mailbox* box = flush_box_;
    forget_flush();
    box->flushed(status);
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
    st = selected_->begin_store(true);  // its flushes: start_flush
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
    store_job_.committing = false;
    forget_flush();  // a flush still under way is nobody's now
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
    if (store_job_.committing) {  // its flush is done: the commit goes on
        store_finish(Status::Ok);
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
        std::uint32_t seq = store_job_.held_seq;  // stopped at the intent's flush
        store_job_.held_seq = 0;
        if (seq == 0 && (!store_conditional_ || job_.uid)) {
            seq = next_in_set();
        } else if (seq == 0 && store_job_.seq_scan < view_.exists) {
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
            if (st == Status::WouldBlock) {  // the intent must be durable first
                store_job_.held_seq = seq;
                if (start_flush(*selected_)) return;
                st = Status::Ok;  // flushed here: the same message again
                continue;
            }
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
    while (st == Status::Ok && store_job_.txn) {
        const Status committed = selected_->commit_store();
        if (committed == Status::WouldBlock) {  // a barrier: slots, then state
            store_job_.committing = true;
            if (start_flush(*selected_)) return;  // run_store_job goes on once done
            continue;
        }
        store_job_.txn = false;
        store_job_.committing = false;
        st = committed;
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

}  // namespace tinyimapd::imap
