// The dispatcher of the session's jobs (DESIGN.md: "Large responses are
// resumable jobs"): run_job() is called after a command starts one and again
// whenever the socket took output, a timer fired or the store changed, and
// hands the turn to the job's own step (run_store_job, run_copy_job, ...).
// Jobs that hold a store transaction run first: they end it themselves,
// whatever happens. The others stop when the selected mailbox's view no
// longer holds (bye_invalidated) and wait behind a pending VANISHED
// (EARLIER).
#include "core/session/session.h"

namespace tinyimapd::imap {

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
    if (job_.kind == JobKind::Append) {  // needs no view (cmd_append.cpp)
        run_append_job();
        return;
    }
    if (job_.kind == JobKind::Select) {  // no view yet (cmd_select.cpp)
        run_select_job();
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
    run_message_job();
}

}  // namespace tinyimapd::imap
