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

namespace tinyimapd::session {

// ---- STORE -----------------------------------------------------------------

void Session::cmd_store(const ParsedCommand& cmd) {
    if (view_.read_only) {
        tagged("NO", "READ-ONLY", "The mailbox is selected read-only");
        return;
    }
    // RFC 4314 §4: s, t or w to change any flag; flags the rights do not
    // cover are left as they are (acl_store_flags).
    if (MailboxRef::flag_mask_of(selected_rights_) == 0) {
        tagged("NO", "NOPERM", "You may not change flags in this mailbox");
        return;
    }
    SetWalk walk;
    if (!check_set(cmd, &walk)) return;
    // RFC 7162 §3.1: UNCHANGEDSINCE enables CONDSTORE.
    if (cmd.store.has_unchangedsince) enable_condstore();
    if (cmd.store.op != StoreOp::Remove && !keywords_fit(*selected_, cmd.flags)) {
        answer_keyword_error(Status::Exhausted);  // nothing stored
        return;
    }
    StoreJob& job = job_.start<StoreJob>(JobKind::StoreApply, cmd.store);
    job.walk = walk;
    job.op = cmd.store.op == StoreOp::Add      ? store::FlagOp::Add
             : cmd.store.op == StoreOp::Remove ? store::FlagOp::Remove
                                               : store::FlagOp::Replace;
    job.flags = cmd.flags.system;
    job.conditional = cmd.store.has_unchangedsince;
    job.silent = cmd.store.silent;
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

store::Mailbox::Turn Session::store_turn(bool alone) {
    store_turn_.joins = !alone;
    return selected_->write_turn(store_turn_);
}

void Session::leave_store_turn() {
    if (store_turn_.mailbox != nullptr) store_turn_.mailbox->leave_turn_queue(store_turn_);
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
    if (token != flush_token_ || flush_token_ == 0) return;
    if (flush_box_ == nullptr) {  // a tree operation's (cmd_mailbox.cpp)
        forget_flush();
        if (job_.kind() == JobKind::Tree) job_.get<TreeJob>().op.flushed(status);
        return;
    }
    store::Mailbox* box = flush_box_;
    forget_flush();
    box->flushed(status);
}

// The transaction, then the keywords (registered if new: inside it, so that
// its commit's flush makes them durable too); false when the job waits for
// the store or has ended.
bool Session::store_start() {
    StoreJob& job = job_.get<StoreJob>();
    // Its write turn: it joins the group commit that is open, or waits for
    // the holder to let go (woken then; docs/STORAGE.md "Group commit").
    Status st = Status::Busy;
    if (store_turn(job.alone) == store::Mailbox::Turn::Ready) {
        st = selected_->begin_store(true);  // its intent's flush: start_flush
    }
    if (st == Status::Busy && retry_later()) return false;
    leave_store_turn();
    if (st != Status::Ok) {
        store_finish(st);
        return false;
    }
    job_.waiting_since_ms = 0;
    job.txn = true;
    ArgReader r = job.spec.flags;
    FlagList flags;
    (void)parse_flag_list(r, false, !job.spec.flags_in_list, &flags);
    std::uint64_t keywords = 0;
    for (std::size_t i = 0; i < flags.keyword_count && st == Status::Ok; ++i) {
        unsigned bit = 0;
        st = selected_->keyword_bit(flags.keywords[i], job.op != store::FlagOp::Remove, &bit);
        if (st == Status::Ok) keywords |= std::uint64_t{1} << bit;
        if (st == Status::NotFound) st = Status::Ok;
    }
    // RFC 4314 §4: a non-owner's \Seen is their keyword, registered here
    // (inside the transaction) when set.
    if (st == Status::Ok && (flags.system & mail::kSeen) != 0) {
        const bool may = (selected_rights_ & store::kRightSeen) != 0;
        st = seen_bit(may && job.op != store::FlagOp::Remove, &job.seen);
    } else if (st == Status::Ok && job.op == store::FlagOp::Replace) {
        st = seen_bit(false, &job.seen);
    }
    if (st != Status::Ok) {
        end_store_txn();
        job_.end();
        answer_keyword_error(st);
        return false;
    }
    job.keywords = keywords;
    return true;
}

// Gives back the STORE transaction if it is still open (nothing committed),
// or stops waiting for its group's commit (which goes on without it).
void Session::end_store_txn() {
    leave_store_turn();
    if (job_.kind() != JobKind::StoreApply || !job_.get<StoreJob>().txn) return;
    job_.get<StoreJob>().txn = false;
    job_.get<StoreJob>().committing = false;
    forget_flush();  // a flush still under way is nobody's now
    if (selected_ != nullptr) selected_->abort_store(&store_commit_);
}

// The redo record of the group it joined had no room for its changes: they
// are given back, and the STORE starts again once the group has committed,
// alone (then it may outgrow the record: the intent's way).
void Session::restart_store_alone() {
    StoreJob& job = job_.get<StoreJob>();
    end_store_txn();
    job.alone = true;
    job.walk.cursor = SeqSet::Cursor{};
    job.walk.range_next = 1;
    job.walk.range_hi = 0;
    job.walk.next_position = 1;
    job.seq_scan = 0;
    job.intent_seq = 0;
    job.failed = AscendingRun{};
    job.modified_text.clear();
    job_.retry_at_ms = 0;  // queues for its turn at its next step, at once
}

// One step of STORE: at most kStoreStep messages changed, inside the one
// transaction that commits them all (all or nothing, one modseq).
void Session::run_store_job() {
    constexpr std::uint32_t kStoreStep = 128;
    if (job_waiting()) return;
    job_.retry_at_ms = 0;
    if (state_ == SessionState::Logout || selected_ == nullptr) {
        end_job();
        return;
    }
    if (job_.get<StoreJob>().committing) {  // its flush is done: the commit goes on
        store_finish(Status::Ok);
        return;
    }
    if (!job_.get<StoreJob>().txn && !store_start()) return;
    if (view_invalidated()) {
        end_job();
        bye_invalidated();
        return;
    }
    StoreJob& job = job_.get<StoreJob>();
    const StoreSpec& spec = job.spec;
    // RFC 7162 §3.1.3: the messages that fail UNCHANGEDSINCE, gathered in
    // ascending order (a sequence set is walked in order for that, which
    // also applies a message named twice once).
    AscendingSet failed(job.modified_text, job.failed);
    Status st = Status::Ok;
    for (std::uint32_t n = 0; n < kStoreStep && st == Status::Ok; ++n) {
        std::uint32_t seq = job.intent_seq;  // stopped at the intent's flush
        job.intent_seq = 0;
        if (seq == 0 && (!job.conditional || job.walk.uid)) {
            seq = next_in_set(job.walk);
        } else if (seq == 0 && job.seq_scan < view_.exists) {
            seq = lowest_member_from(job.walk.set, job.seq_scan + 1, view_.exists);
            if (seq > view_.exists) seq = 0;
            job.seq_scan = seq == 0 ? view_.exists : seq;
        }
        if (seq == 0) {
            if (!failed.finish()) st = Status::TooLong;
            store_finish(st);
            return;
        }
        store::MessageInfo result;
        bool skipped = false;
        if (job.conditional && spec.unchangedsince == 0) {
            // "UNCHANGEDSINCE 0" always fails: a system flag always exists.
            st = selected_->message(view_, seq, &result);
            skipped = true;
        } else {
            std::uint8_t flags = job.flags;
            std::uint64_t keywords = job.keywords;
            acl_store_flags(seq, job.op, &flags, &keywords);
            seen_store_flags(seq, job.op, job.seen, &flags, &keywords);
            st = selected_->store(view_, seq, job.op, flags, keywords,
                                  job.conditional ? spec.unchangedsince : 0, &result, &skipped);
            if (st == Status::WouldBlock) {  // the intent must be durable first
                job.intent_seq = seq;
                if (start_flush(*selected_)) return;
                st = Status::Ok;  // flushed here: the same message again
                continue;
            }
            if (st == Status::Busy) {  // the group's record is full
                restart_store_alone();
                return;
            }
            // RFC 2180 §4.2.1: a message another session expunged (not yet
            // reported here) is left alone; the others are stored.
            if (st == Status::NotFound && result.expunged) {
                st = Status::Ok;
                continue;
            }
        }
        if (st == Status::Ok && skipped && !failed.add(job.walk.uid ? result.uid : seq)) {
            st = Status::TooLong;
        }
    }
    if (st != Status::Ok) store_finish(st);
}

// The end of STORE's changes: commit (durable) and the answers, or NO.
void Session::store_finish(Status st) {
    StoreJob& job = job_.get<StoreJob>();
    if (st == Status::Ok && job.txn) {
        // Its group's commit: one flush on an I/O thread for every STORE
        // that joined (the Registry's); run_store_job goes on once done.
        const Status committed = selected_->commit_store(store_commit_);
        if (committed == Status::WouldBlock) {
            job.committing = true;
            return;
        }
        job.txn = false;
        job.committing = false;
        st = committed;
    }
    end_store_txn();
    if (st != Status::Ok) job_.end();
    if (st == Status::TooLong) {
        tagged("NO", "LIMIT", "Too many messages fail UNCHANGEDSINCE to list; use a smaller set");
        return;
    }
    if (st != Status::Ok) {
        answer_store(st, "");
        return;
    }
    own_flag_change(store_commit_.modseq);
    if (!job.modified_text.view().empty()) {
        const char* why = "";
        (void)SeqSet::parse(job.modified_text.view(), kModifiedText, &job.modified, &why);
    }
    // RFC 7162 §3.1.3, §3.1.4.2 example 14: with CONDSTORE on, a FETCH with
    // MODSEQ is sent even with .SILENT.
    if (job.silent && !job.conditional && !condstore_) {
        job_.end();
        (void)update_contexts();  // RFC 5267 §4.3: this session's own changes
        tagged("OK", "", "STORE completed");
        return;
    }
    // RFC 3501 §6.4.6: the new flags of each message, as untagged FETCH
    // (the same context, now answering).
    job.walk.cursor = SeqSet::Cursor{};
    job.walk.range_next = 1;
    job.walk.range_hi = 0;
    job.walk.next_position = 1;
    job.item_count = 0;
    job.seq = 0;
    job_.set_kind(JobKind::Store);
    job_.retry_at_ms = job_.waiting_since_ms = 0;
    run_job();
}

// One message's answer to STORE (RFC 3501 §6.4.6): its flags, its UID for
// UID STORE (§6.4.8), and with CONDSTORE its MODSEQ (RFC 7162 §3.1.3,
// §3.1.4.1). A message that failed UNCHANGEDSINCE gets its flags even after
// .SILENT, so the client need not ask why (§3.1.3, example 10).
bool Session::write_store_answer() {
    const StoreJob& job = job_.get<StoreJob>();
    const store::MessageInfo& m = job.message;
    const bool failed =
        job.conditional && job.modified.contains(job.walk.uid ? m.uid : job.seq, UINT32_MAX);
    FlagLine w;
    const char* sep = "";
    if (!job.silent || failed) {
        w.put("FLAGS ");
        write_flag_list(w, wire_flags(m.flags), m.keywords, *selected_);
        sep = " ";
    }
    // RFC 7162 §3.2.4: with CONDSTORE on, UID and MODSEQ in every answer.
    if (job.walk.uid || condstore_) {
        w.put(sep).put("UID ").put_uint(m.uid);
        sep = " ";
    }
    if (condstore_) w.put(sep).put("MODSEQ (").put_uint(m.modseq).put(')');
    w.put(")\r\n");
    // Whole or not yet: the job waits for the output to drain.
    return out_.append(w.view());
}

}  // namespace tinyimapd::session
