// Dropping root after the listening sockets are bound (DESIGN.md "Users,
// authentication, TLS": the server binds its ports as root, then runs as its
// own unprivileged user).
//
// Order, as it must be: resolve the names (needs /etc/passwd, /etc/group and
// the NSS modules, so before any chroot) -> chdir(dir) + chroot(".") +
// chdir("/") -> setgroups(1, {gid}) -> setgid -> setuid. Then it checks that
// root cannot be regained (setuid(0) and setgid(0) must fail).
//
// After a chroot every path is resolved inside it: relative paths against
// "/" of the new root. mail_dir and passwd_file must therefore name places
// inside the chroot as seen from within (a SIGHUP reload reads passwd_file
// again), or be relative to it.
//
// The policy "do not serve as root" is the caller's: running_as_root() tells
// it, so that `demo` and tests that run as root in CI can decide otherwise.
// Name lookups use fixed static buffers (getpwnam_r/getgrnam_r); no heap.
#pragma once

#include <string_view>

#include "core/base/status.h"
#include "core/base/text.h"

namespace tinyimapd::posix {

// The effective user is root.
bool running_as_root();

// As root: chroot to `chroot_dir` if not empty, then become `user` (required
// if `group` or `chroot_dir` is given) with `group` (empty: the user's
// primary group) as its only group. Not as root: Ok if nothing is asked, or
// if `user`/`group` are the ones the process already runs as; Permission for
// a chroot or a switch it cannot make. Other errors: NotFound (no such user
// or group), Invalid (bad arguments), TooLong (a name or an NSS entry over the
// fixed buffers), or the OS error; `error` then holds one line saying what
// failed (no trailing newline).
Status drop_privileges(std::string_view user, std::string_view group, std::string_view chroot_dir,
                       TextWriter& error);

}  // namespace tinyimapd::posix
