// Status and Result: errors as values.
//
// Every fallible operation in core and in the porting layer returns a Status
// (or a Result<T> that carries one). There are no exceptions and no errno:
// platforms/ translate OS errors into these values exactly once.
#pragma once

#include <cstdint>

namespace tinyimapd {

enum class [[nodiscard]] Status : std::uint8_t{
    Ok = 0,
    WouldBlock,   // non-blocking operation cannot progress now; retry later
    Eof,          // end of file / peer closed its sending side
    Closed,       // connection reset or handle no longer usable
    Interrupted,  // a wait was cut short by a signal
    NotFound,    Exists, NotEmpty, NotDir, IsDir,
    NoSpace,     // ENOSPC / EDQUOT
    Io,          // EIO and other hard storage errors
    Permission,  // EACCES / EPERM
    Busy,        // lock held by someone else
    AddrInUse,   // EADDRINUSE
    Invalid,     // bad argument (address syntax, path, ...)
    TooLong,     // a name or value exceeds a fixed limit
    Exhausted,   // a fixed pool (handles, slots) is full
    Unsupported,
    Error,  // anything else
};

// A short, stable, human-readable name ("no space", "not found", ...).
const char* status_text(Status s);

template <class T>
struct [[nodiscard]] Result {
    Status status;
    T value;

    static Result success(T v) { return Result{Status::Ok, v}; }
    static Result failure(Status s) { return Result{s, T{}}; }
    bool ok() const { return status == Status::Ok; }
};

}  // namespace tinyimapd
