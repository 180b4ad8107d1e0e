// errno → Status, in one place (STYLE.md: "errno is translated once, in
// platforms/").
//
// status_from_errno() gives the meaning an errno value has for any call;
// callers handle the few values whose meaning depends on the call first
// (EAGAIN is WouldBlock on a socket but Busy on a lock, EEXIST from rmdir
// means "not empty"). Never returns Status::Ok.
#pragma once

#include "core/base/status.h"

namespace tinyimapd::posix {

Status status_from_errno(int err);

}  // namespace tinyimapd::posix
