// Mailbox: the group commit of STOREs (docs/STORAGE.md "Group commit"):
// members wait for one commit of the mailbox's open STORE transaction, which
// the Registry drives at the end of a turn of the loop (commit_group), its
// flushes on the I/O threads.

#include "core/store/mailbox.h"

#include "core/base/assert.h"
#include "core/store/mailbox_detail.h"

namespace tinyimapd::store {

using namespace detail;  // the helpers of mailbox_detail.h

Status Mailbox::commit_store(CommitWaiter& w) {
    if (w.done) {  // its group has ended
        w.done = false;
        return w.status;
    }
    w.modseq = 0;
    if (!in_txn_ || !group_open_ || !group_active_) return Status::Invalid;
    // A member that changed nothing takes no modseq.
    if (!member_changed_) next_.highest_modseq = member_base_.highest_modseq;
    // Nobody changed anything (nor registered a keyword): nothing to make durable.
    if (!group_ready_ && redo_count_ == 0 && !txn_slots_ && !intent_written_ &&
        kw_count_ == state_.keyword_count) {
        in_txn_ = false;
        end_barriers();
        unlock();
        return Status::Ok;
    }
    group_active_ = false;
    group_ready_ = true;
    w.modseq = member_changed_ ? next_.highest_modseq : 0;
    w.done = false;
    w.status = Status::Ok;
    w.mailbox = this;
    w.next = nullptr;
    CommitWaiter** p = &committers_;
    while (*p != nullptr) p = &(*p)->next;
    *p = &w;
    wake_joiners();  // the group takes another member until it is sealed
    return Status::WouldBlock;
}

// A transaction that no client waits for (a \Recent claim, a trimmed tail:
// limits.loop_commits), opened under the lock as a group of no member: the
// Registry commits it at the end of this turn of the loop, its flush on an
// I/O thread. STOREs may join it (not a trim's).
void Mailbox::open_bare_group() {
    TINYIMAPD_ASSERT(in_txn_ && lock_depth_ > 0);
    async_flush_ = group_open_ = group_ready_ = true;
    group_active_ = member_changed_ = false;
    member_first_ = 0;
    member_base_ = next_;
}

Status Mailbox::commit_group() {
    if (!in_txn_ || !group_open_ || group_active_) return Status::Invalid;
    Status st = Status::Ok;
    const TrimCommit trim = trim_;
    if (redo_count_ > 0) {
        st = commit_redo();
    } else if (txn_slots_ || trim.pending ||
               (!intent_written_ && (first_recent_uid_ > state_.first_recent_uid ||
                                     kw_count_ != state_.keyword_count))) {
        // A member alone spilled (the intent's way); \Recent claims or a
        // keyword registered by members that changed nothing.
        st = commit_txn();
    } else {  // the members changed nothing (or an intent never flushed)
        if (intent_written_) st = Status::Invalid;
        end_barriers();
        in_txn_ = false;
        cache_clear();
    }
    if (st == Status::WouldBlock) return st;
    trim_ = TrimCommit{};
    if (trim.pending && st == Status::Ok) finish_trim(trim.count, trim.runs, trim.length);
    finish_group(st);
    return st;
}

void Mailbox::finish_group(Status st) {
    CommitWaiter* w = committers_;
    committers_ = nullptr;
    group_token_ = 0;
    while (w != nullptr) {
        CommitWaiter* next = w->next;
        w->done = true;
        w->status = st;
        w->mailbox = nullptr;
        w->next = nullptr;
        w = next;
    }
    unlock();
}

// Keywords registered for a redo record were written before it without a
// flush of their own: a record whose flush did not finish may have landed
// without them, and then does not count.
bool Mailbox::keywords_intact(std::uint32_t from, std::uint32_t to) {
    for (std::uint32_t k = from; k < to; ++k) {
        std::uint8_t kb[kKeywordEntrySize];
        std::string_view name;
        if (k >= kMaxKeywords ||
            pread_full(s_->fs, index_, kb, sizeof kb,
                       kKeywordTableOffset + k * kKeywordEntrySize) != Status::Ok ||
            !decode_keyword(kb, &name))
            return false;
    }
    return true;
}

}  // namespace tinyimapd::store
