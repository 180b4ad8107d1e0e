// A small file replaced whole and durably (m.use, m.acl): `bytes` written
// to `next`, fsynced, renamed over `file`, and the directory `dir` synced,
// so that a crash leaves the old file or the new one, and Ok means the new
// one is durable (docs/STORAGE.md "Write order").
#pragma once

#include <string_view>

#include "core/base/status.h"
#include "port/fs.h"

namespace tinyimapd::store {

inline Status replace_file(port::Fs& fs, std::string_view dir, std::string_view next,
                           std::string_view file, std::string_view bytes) {
    auto out = fs.open(next, port::kOpenWrite | port::kOpenCreate | port::kOpenTruncate |
                                 port::kOpenNoFollow);
    if (!out.ok()) return out.status;
    Status st = fs.pwrite(out.value, bytes.data(), bytes.size(), 0).status;
    if (st == Status::Ok) st = fs.fsync(out.value);
    const Status c = fs.close(out.value);
    if (st == Status::Ok) st = c;
    if (st == Status::Ok) st = fs.rename(next, file);
    if (st == Status::Ok) st = fs.sync_dir(dir);
    return st;
}

}  // namespace tinyimapd::store
