// The dispatcher of the session's jobs (jobs.h; DESIGN.md: "Large responses
// are resumable jobs"): run_job() is called after a command starts one and
// again whenever the socket took output, a timer fired or the store changed,
// and hands the turn to the step of the job's kind (kSteps). Jobs that hold
// a store transaction, and APPEND, need no view: they end it themselves,
// whatever happens. The others stop when the selected mailbox's view no
// longer holds (bye_invalidated) and wait behind a pending VANISHED
// (EARLIER).
#include "core/session/session.h"

namespace tinyimapd::session {

const Session::StepRow Session::kSteps[] = {
    {JobKind::Fetch, &Session::run_message_job, true},
    {JobKind::Store, &Session::run_message_job, true},
    {JobKind::Search, &Session::run_search, true},
    {JobKind::Sync, &Session::run_sync_job, true},
    {JobKind::Resync, &Session::run_resync_job, true},
    {JobKind::List, &Session::run_list_job, true},
    {JobKind::Expunge, &Session::run_expunge_job, true},
    {JobKind::StoreApply, &Session::run_store_job, false},
    {JobKind::Copy, &Session::run_copy_job, false},
    {JobKind::Append, &Session::run_append_job, false},
    {JobKind::Select, &Session::run_select_job, false},  // no view yet
    {JobKind::Close, &Session::run_close_job, false},    // ends the view itself
    {JobKind::Sort, &Session::run_sort, true},
    {JobKind::Thread, &Session::run_sort, true},
    {JobKind::Tree, &Session::run_tree_job, false},  // DELETE may retire the view
    {JobKind::Metadata, &Session::run_metadata_job, false},
};

FetchJob& Session::fetch_job() {
    if (job_.kind() == JobKind::Store) return job_.get<StoreJob>();
    return job_.get<FetchJob>();
}

bool Session::between_responses() {
    if (streamer_.active()) return false;
    const JobKind kind = job_.kind();
    return (kind != JobKind::Fetch && kind != JobKind::Store) || fetch_job().seq == 0;
}

void Session::release_job_store() {
    if (job_.kind() == JobKind::StoreApply) end_store_txn();
    if (job_.kind() == JobKind::Fetch || job_.kind() == JobKind::Close) leave_store_turn();
    if (job_.kind() == JobKind::Fetch && fetch_job().seen_txn) {  // \Seen waits for its commit
        fetch_job().seen_txn = false;
        forget_flush();  // a flush still under way is nobody's now
        if (selected_ != nullptr) selected_->abort_store(&store_commit_);
    }
    if (job_.kind() == JobKind::Copy) end_copy_job(Status::Closed);  // ends the job
    if (job_.kind() == JobKind::Tree) {  // written stays written, as after a crash
        forget_flush();
        store::UserStore(*services_.registry, root_of(job_.get<TreeJob>().owner).view())
            .abort(job_.get<TreeJob>().op);
    }
    if (job_.kind() == JobKind::Expunge) {
        leave_store_turn();
        end_expunge_txn();
    }
}

void Session::end_job() {
    release_job_store();
    job_.end();
}

// Moves the job as far as the output buffer allows.
JobProgress Session::run_job() {
    const StepRow* row = nullptr;
    for (const StepRow& r : kSteps) {
        if (r.kind == job_.kind()) row = &r;
    }
    if (row == nullptr) return JobProgress::Done;
    if (row->needs_view) {
        if (view_invalidated() && between_responses()) {
            // Between messages: the view's numbers no longer hold (see
            // Mailbox::make_gone_room); the session ends rather than guess.
            // A SEARCH answer is a line still open: it is ended first.
            if (job_.kind() == JobKind::Search || sort_answering()) (void)out_.append("\r\n");
            end_job();
            bye_invalidated();
            return JobProgress::Done;
        }
        if (vanished_.pending && !run_vanished_earlier()) return JobProgress::Again;
    }
    (this->*row->step)();
    if (!job_.active()) return JobProgress::Done;
    return job_waiting() ? JobProgress::Wait : JobProgress::Again;
}

}  // namespace tinyimapd::session
