#include "platforms/posix/signals_posix.h"

#include <signal.h>

namespace tinyimapd::posix {
namespace {

constexpr int kHandled[] = {SIGTERM, SIGINT, SIGHUP};
constexpr int kHandledCount = sizeof(kHandled) / sizeof(kHandled[0]);

volatile sig_atomic_t g_terminate = 0;
volatile sig_atomic_t g_reload = 0;

bool g_installed = false;
sigset_t g_saved_mask;
sigset_t g_wait_mask;
struct sigaction g_saved_actions[kHandledCount];
struct sigaction g_saved_pipe_action;

void on_signal(int signo) {
    if (signo == SIGHUP) {
        g_reload = 1;
    } else {
        g_terminate = 1;
    }
}

bool take(volatile sig_atomic_t* flag) {
    if (*flag == 0) return false;
    *flag = 0;
    return true;
}

}  // namespace

Status PosixSignals::install() {
    if (g_installed) return Status::Ok;

    sigset_t handled;
    sigemptyset(&handled);
    for (int signo : kHandled) sigaddset(&handled, signo);

    // Block first, so that no signal is delivered while the handlers are only
    // partly installed.
    if (sigprocmask(SIG_BLOCK, &handled, &g_saved_mask) != 0) return Status::Error;
    g_wait_mask = g_saved_mask;
    for (int signo : kHandled) sigdelset(&g_wait_mask, signo);

    struct sigaction action = {};
    action.sa_handler = on_signal;
    // While one handler runs the others wait; SA_RESTART is deliberately not
    // set (ppoll is never restarted anyway, and nothing else sees them).
    action.sa_mask = handled;
    action.sa_flags = 0;

    int done = 0;
    for (; done < kHandledCount; ++done) {
        if (sigaction(kHandled[done], &action, &g_saved_actions[done]) != 0) break;
    }
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (done < kHandledCount || sigaction(SIGPIPE, &ignore, &g_saved_pipe_action) != 0) {
        for (int i = 0; i < done; ++i) sigaction(kHandled[i], &g_saved_actions[i], nullptr);
        sigprocmask(SIG_SETMASK, &g_saved_mask, nullptr);
        return Status::Error;
    }

    g_terminate = 0;
    g_reload = 0;
    g_installed = true;
    return Status::Ok;
}

void PosixSignals::uninstall() {
    if (!g_installed) return;
    // Restore the dispositions while the signals are still blocked, so a
    // pending one is handled by the restored disposition, not by ours.
    for (int i = 0; i < kHandledCount; ++i) sigaction(kHandled[i], &g_saved_actions[i], nullptr);
    sigaction(SIGPIPE, &g_saved_pipe_action, nullptr);
    sigprocmask(SIG_SETMASK, &g_saved_mask, nullptr);
    g_terminate = 0;
    g_reload = 0;
    g_installed = false;
}

bool PosixSignals::take_terminate() {
    return take(&g_terminate);
}

bool PosixSignals::take_reload() {
    return take(&g_reload);
}

const sigset_t* PosixSignals::wait_mask() {
    return g_installed ? &g_wait_mask : nullptr;
}

}  // namespace tinyimapd::posix
