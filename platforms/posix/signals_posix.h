// PosixSignals: SIGTERM/SIGINT (terminate) and SIGHUP (reload) as flags the
// event loop polls, delivered race-free through ppoll().
//
// install() blocks the three signals with sigprocmask, installs handlers that
// only set a volatile sig_atomic_t flag, ignores SIGPIPE (writes use
// MSG_NOSIGNAL anyway; this covers any other descriptor), and remembers the
// pre-install mask with the three unblocked. PosixNet::wait() hands that mask
// to ppoll(), so the signals can only be delivered while the loop sleeps:
// one arriving between the loop's take_*() check and its wait() stays pending
// and ends the wait at once with Status::Interrupted (the pselect pattern).
// Call install() once, from the single loop thread, before the first wait();
// without it wait() keeps the current mask and signals behave as usual.
// take_terminate()/take_reload() read and clear their flag; that is not
// atomic, but with the signals blocked outside ppoll() no handler can run in
// between.
#pragma once

#include <signal.h>

#include "core/base/status.h"

namespace tinyimapd::posix {

class PosixSignals {
public:
    // Ok, or Error if the mask or a handler could not be set (nothing changed).
    // A second call while installed does nothing and returns Ok.
    static Status install();
    // Restores the handlers and the signal mask install() found, and forgets
    // pending flags. For tests, and for a child process before exec.
    static void uninstall();
    // True once per SIGTERM/SIGINT received since the last call.
    static bool take_terminate();
    // True once per SIGHUP received since the last call.
    static bool take_reload();
    // The mask ppoll() sleeps with: nullptr before install() (keep the current).
    static const sigset_t* wait_mask();
};

}  // namespace tinyimapd::posix
