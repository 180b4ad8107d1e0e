// EXPUNGE (RFC 3501 §6.4.3, RFC 4315 UID EXPUNGE), COPY (§6.4.7) and MOVE
// (RFC 6851): the commands that remove or copy messages. COPY/MOVE's copy is
// a job (run_copy_job): one transaction on the destination held across turns
// of the loop, bounded work per step, committed before the tagged OK; MOVE's
// removal is EXPUNGE's (MovedFilter). While a mailbox is held elsewhere
// (Busy) they wait on a timer (retry_later).
#include "core/base/text.h"
#include "core/session/command_support.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

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

// REPLACE's removal step (RFC 8508 §3.4): "the EXPUNGE portion of the
// sequence only applies to the specified message", \Deleted or not.
class ReplacedFilter final : public store::Mailbox::UidFilter {
public:
    explicit ReplacedFilter(std::uint32_t uid) : uid_(uid) {}
    bool accept(std::uint32_t uid) override { return uid == uid_; }
    bool ignores_deleted() const override { return true; }

private:
    std::uint32_t uid_;
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
    if ((selected_rights_ & store::kRightExpunge) == 0) {  // RFC 4314 §4
        tagged("NO", "NOPERM", "You may not expunge messages in this mailbox");
        return;
    }
    SetWalk walk;
    (void)check_set(cmd, &walk);  // for largest_uid
    job_.start<ExpungeJob>(JobKind::Expunge).walk = walk;
    run_expunge_job();
}

// Gives back an EXPUNGE transaction left open at a barrier (nothing of it
// was acknowledged).
void Session::end_expunge_txn() {
    if (job_.kind() != JobKind::Expunge || !job_.get<ExpungeJob>().expunge_txn) return;
    job_.get<ExpungeJob>().expunge_txn = false;
    forget_flush();
    if (selected_ != nullptr) selected_->abort_expunge();
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
    ExpungeJob& job = job_.get<ExpungeJob>();
    // One commit (3 fsyncs) per turn of the loop: the loop runs a job's
    // steps several times a turn, and fsyncs are what other clients would
    // wait for.
    if (job.commit_turn == turn_ && turn_ != 0) return;
    // MOVE by sequence numbers takes its originals by the numbers the client
    // gave, so its view is not brought up to date until the end.
    const bool by_number = job.move && !job.walk.uid;
    for (int call = 0; call < kExpungeCalls; ++call) {
        if (!by_number) {
            if (!sync_selected()) return;                    // the report goes on as output drains
            if (out_.room() < 2 * kResponseReserve) return;  // let it drain first
        }
        if (state_ == SessionState::Logout) {
            job_.end();
            return;
        }
        SetFilter filter(job.walk.set, job.walk.largest_uid);
        MovedFilter moved(job.walk.set, job.walk.uid, job.walk.largest_uid, job.move_lo,
                          job.move_hi, *selected_, view_);
        ReplacedFilter replaced(job.replace_uid);
        store::Mailbox::UidFilter* which = nullptr;
        if (job.replace_uid != 0) {
            which = &replaced;
        } else if (job.move) {
            which = &moved;
        } else if (job.walk.uid) {
            which = &filter;
        }
        std::size_t count = 0;
        Status st = Status::WouldBlock;
        // Its write turn first: behind another session's transaction (a
        // STORE group, an APPEND, a commit of the group commit) it waits,
        // woken when the mailbox is let go (the timer below is a fallback).
        if (!selected_->expunge_open()) {
            if (store_turn(true) != store::Mailbox::Turn::Ready) st = Status::Busy;
            else leave_store_turn();
        }
        while (st == Status::WouldBlock) {  // its flushes: start_flush
            st = selected_->expunge(view_, which, nullptr, kExpungeBatch, &count,
                                    &job.expunge_from_uid, true);
            job.expunge_txn = st == Status::WouldBlock;
            if (job.expunge_txn && start_flush(*selected_)) return;
        }
        if (count > 0) job.expunged_any = true;
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
            fail_expunge_job(st);
            return;
        }
        if (job.expunge_from_uid == 0) break;
        if (count > 0) {  // one commit per step and per turn; more next time
            job.commit_turn = turn_;
            return;
        }
    }
    if (job.expunge_from_uid != 0) return;  // more in the next step
    finish_expunge_job();
}

// The EXPUNGE (MOVE's or REPLACE's removal) has done its work: the answer.
void Session::finish_expunge_job() {
    leave_store_turn();
    const ExpungeJob& job = job_.get<ExpungeJob>();
    const bool move = job.move;
    const bool replace = job.replace_uid != 0;
    const bool expunged_any = job.expunged_any;
    job_.end();
    // RFC 7162 §3.2.7, RFC 6851 §4.4, RFC 8508 §4.5: with QRESYNC, the new
    // HIGHESTMODSEQ when something went.
    FixedText<64> code;
    if (qresync_ && (expunged_any || move || replace)) {
        code.put("HIGHESTMODSEQ ").put_uint(selected_->highest_modseq());
    }
    const char* done = "EXPUNGE completed";
    if (move) done = "MOVE completed";
    if (replace) done = "REPLACE completed";
    finish_after_sync("OK", code.view(), done);
}

// The EXPUNGE (or MOVE's removal) ends on a store error.
void Session::fail_expunge_job(Status st) {
    leave_store_turn();
    const bool move = job_.get<ExpungeJob>().move;
    const bool replace = job_.get<ExpungeJob>().replace_uid != 0;
    job_.end();
    if (replace) {
        // The new message is durable, the old one still there: the
        // selected mailbox is as it was (RFC 8508 §3.4), nothing is lost.
        finish_after_sync("NO", "SERVERBUG", "Appended, but the replaced message is still there");
    } else if (move) {
        // The copies are durable and some originals remain: nothing is lost
        // (RFC 6851 §3.3 "at least one of the source or target mailboxes").
        finish_after_sync("NO", "SERVERBUG", "Copied, but the originals could not all be removed");
    } else if (st == Status::Exhausted) {
        finish_after_sync("NO", "INUSE", "Too many expunges pending; try again");
    } else {
        answer_store(st, "");
    }
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
    SetWalk walk;
    if (!check_set(cmd, &walk)) return;
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
    // RFC 4314 §4: i on the target; MOVE also t and e on the source.
    constexpr store::Rights kMoveRights = store::kRightDeleted | store::kRightExpunge;
    if (move && (selected_rights_ & kMoveRights) != kMoveRights) {
        tagged("NO", "NOPERM", "You may not remove messages from this mailbox");
        return;
    }
    MailboxRef ref;
    if (!resolve_for(cmd.mailbox, store::kRightInsert, &ref)) return;
    // RFC 9208 §4.3.1: a COPY adds to the owner's usage (a MOVE within one's
    // own mailboxes does not); checked message by message as the job copies
    // (all or nothing).
    const bool quota = (!move || !ref.own) &&
                       (config_.quota_storage_kib != 0 || config_.quota_messages != 0);
    std::uint64_t quota_bytes = 0, quota_messages = 0;
    if (quota) {
        const QuotaUsage u = quota_usage(ref.owner.view());
        const std::uint64_t max_bytes =
            config_.quota_storage_kib != 0 ? config_.quota_storage_kib * 1024 : UINT64_MAX;
        const std::uint64_t max_messages =
            config_.quota_messages != 0 ? config_.quota_messages : UINT64_MAX;
        quota_bytes = max_bytes > u.bytes ? max_bytes - u.bytes : 0;
        quota_messages = max_messages > u.messages ? max_messages - u.messages : 0;
    }
    store::UserStore store(*services_.registry, ref.root.view());
    Result<store::Mailbox*> dest = store.open(ref.name);
    if (!dest.ok()) {
        if (dest.status == Status::NotFound) {
            tagged("NO", "TRYCREATE", "No such mailbox");
        } else {
            answer_store(dest.status, "");
        }
        return;
    }
    CopyJob& job = job_.start<CopyJob>(JobKind::Copy);
    job.walk = walk;
    job.dest = dest.value;
    job.move = move;
    job.quota = quota;
    job.quota_bytes = quota_bytes;
    job.quota_messages = quota_messages;
    job.cursor.keep_flags = ref.flag_mask();
    job.cursor.keep_keywords = (ref.rights & store::kRightWrite) != 0;
    // RFC 4314 §4: the copy's \Seen is the copier's: their bit here, and
    // their bit there when they do not own the target (cmd_seen.cpp).
    job.cursor.seen_from_bits = seen_view().per_user;
    job.cursor.seen_bits = seen_view().bit;
    job.cursor.seen_dest = ref.own ? std::string_view{} : seen_keyword();
    run_job();
}

// One step of COPY/MOVE's copy: at most kCopyStepBytes of message bytes and
// kCopyStepMessages messages into the destination's open transaction; the
// commit (fsync of both files) once the set is done.
// RENAME INBOX replaced INBOX's files while the COPY waited for it (RFC 3501
// §6.3.5: INBOX stays, emptied): the copy goes into INBOX opened again.
// False: it waits (the new INBOX is being finished) or has ended.
bool Session::copy_follow(CopyJob& copy) {
    store::Path dir;
    (void)dir.assign(copy.dest->dir());
    const Result<store::Mailbox*> again = services_.registry->acquire(dir.view());
    if ((again.status == Status::Busy || again.status == Status::WouldBlock) && retry_later()) {
        return false;
    }
    if (!again.ok()) {
        end_copy_job(again.status);
        return false;
    }
    services_.registry->release(copy.dest);
    copy.dest = again.value;
    return true;
}

void Session::run_copy_job() {
    constexpr std::uint64_t kCopyStepBytes = 256 * 1024;
    constexpr std::uint32_t kCopyStepMessages = 64;
    if (job_waiting()) return;
    job_.retry_at_ms = 0;
    CopyJob& copy = job_.get<CopyJob>();
    if (state_ == SessionState::Logout || selected_ == nullptr) {
        end_copy_job(Status::Closed);
        return;
    }
    if (copy.committing) {  // its flush is done: the commit goes on
        end_copy_job(Status::Ok);
        return;
    }
    if (view_invalidated()) {
        // The source's numbers no longer hold: nothing is committed.
        end_copy_job(Status::Closed);
        bye_invalidated();
        return;
    }
    if (!copy.txn && copy.dest->replaced() && !copy_follow(copy)) return;
    if (!copy.txn) {
        const Status st = selected_->begin_copy(*copy.dest, true);  // flushes: start_flush
        if (st == Status::Busy && retry_later()) return;
        if (st != Status::Ok) {
            end_copy_job(st);
            return;
        }
        job_.waiting_since_ms = 0;
        copy.txn = true;
    }
    std::uint64_t budget = kCopyStepBytes;
    for (std::uint32_t n = 0; n < kCopyStepMessages && budget > 0; ++n) {
        if (copy.seq == 0) {
            copy.seq = next_in_set(copy.walk);
            if (copy.seq == 0) {
                end_copy_job(Status::Ok);
                return;
            }
            store::MessageInfo m;
            if (copy.quota && selected_->message(view_, copy.seq, &m) == Status::Ok) {
                if (m.size > copy.quota_bytes || copy.quota_messages == 0) {
                    copy.over_quota = true;
                    end_copy_job(Status::Exhausted);
                    return;
                }
                copy.quota_bytes -= m.size;
                copy.quota_messages -= 1;
            }
        }
        bool finished = false;
        std::uint32_t uid = 0;
        const Status st = selected_->copy_step(view_, copy.seq, *copy.dest, copy.cursor, &budget,
                                               &finished, &uid);
        if (st != Status::Ok) {
            end_copy_job(st);
            return;
        }
        if (!finished) return;  // the rest of this message next time
        const std::uint32_t source = copy.cursor.source.uid;
        copy.pairs.add(source, uid);
        if (source < copy.lowest_uid) copy.lowest_uid = source;
        if (source > copy.highest_uid) copy.highest_uid = source;
        copy.seq = 0;
    }
}

// The end of the copy: Ok commits it (durable) and answers (MOVE goes on
// to remove the originals); otherwise nothing of it is kept and the
// answer is NO (Closed: none, the session is ending).
void Session::end_copy_job(Status st) {
    CopyJob& copy = job_.get<CopyJob>();
    store::Mailbox* const dest = copy.dest;
    while (copy.txn && st == Status::Ok) {
        const Status committed = selected_->commit_copy(*dest);
        if (committed == Status::WouldBlock) {  // a barrier: data, then index
            copy.committing = true;
            if (start_flush(*dest)) return;  // run_copy_job goes on once done
            continue;
        }
        copy.txn = false;
        st = committed;
    }
    copy.committing = false;
    if (copy.txn) {
        copy.txn = false;
        forget_flush();  // a flush still under way is nobody's now
        selected_->abort_copy(*dest);
    }
    const std::uint32_t validity = dest->uid_validity();
    // Exhausted with the target's keyword table full: a keyword that did not fit.
    const bool keyword_limit =
        st == Status::Exhausted && dest->keyword_count() >= store::kMaxKeywords;
    store::UserStore(*services_.registry, user_root_.view()).close(dest);
    copy.dest = nullptr;
    // What the answer needs, before the job ends (MOVE starts another).
    const bool over_quota = copy.over_quota, move = copy.move;
    const std::uint32_t lowest_uid = copy.lowest_uid, highest_uid = copy.highest_uid;
    const SetWalk walk = copy.walk;
    // RFC 4315 §3: COPYUID when the two sets fit in a response line (it is
    // a SHOULD; a huge scattered copy goes without).
    FixedText<kItemReserve> code;
    bool has_copyuid = false;
    if (st == Status::Ok) {
        code.put("COPYUID ").put_uint(validity).put(' ');
        has_copyuid = copy.pairs.write(code);
    }
    job_.end();
    if (st == Status::Closed) return;
    if (over_quota) {
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
    if (move) {
        finish_move(walk, has_copyuid ? code.view() : std::string_view{}, lowest_uid, highest_uid);
        return;
    }
    finish_after_sync("OK", has_copyuid ? code.view() : std::string_view{}, "COPY completed");
}

// MOVE once its copy is durable: COPYUID, the removal, the report.
void Session::finish_move(const SetWalk& walk, std::string_view copyuid, std::uint32_t lowest_uid,
                          std::uint32_t highest_uid) {
    if (!copyuid.empty()) {
        FixedText<kItemReserve + 16> w;
        w.put("OK [").put(copyuid).put("] Moved");
        untagged(w.view());
    }
    if (highest_uid != 0) {
        // RFC 6851 §3.3: the originals go, in batches (run_expunge_job).
        ExpungeJob& job = job_.start<ExpungeJob>(JobKind::Expunge);
        job.walk = walk;
        job.move = true;
        job.move_lo = lowest_uid;
        job.move_hi = highest_uid;
        run_expunge_job();
        return;
    }
    // RFC 6851 §4.4: with QRESYNC, the new HIGHESTMODSEQ.
    FixedText<64> code;
    if (qresync_) code.put("HIGHESTMODSEQ ").put_uint(selected_->highest_modseq());
    finish_after_sync("OK", code.view(), "MOVE completed");
}

// REPLACE once its APPEND is durable (RFC 8508 §3.4, §4.3): APPENDUID in an
// untagged OK, then the replaced message goes as by UID EXPUNGE (§4.5), its
// EXPUNGE (or VANISHED) after the new message's EXISTS, the tagged OK last.
void Session::finish_replace(std::string_view appenduid, std::uint32_t replaced) {
    FixedText<96> w;
    w.put("OK [").put(appenduid).put("] Replacement Message ready");
    untagged(w.view());
    if (view_invalidated()) {  // the view's numbers no longer hold
        bye_invalidated();
        return;
    }
    ExpungeJob& job = job_.start<ExpungeJob>(JobKind::Expunge);
    job.walk.uid = true;
    job.replace_uid = replaced;
    job.expunge_from_uid = replaced;
    run_expunge_job();
}

}  // namespace tinyimapd::session
