// port/fs.h — the storage porting interface (after SQLite's VFS).
//
// A small table of file operations. Paths are '/'-separated byte strings,
// absolute or relative to the process's working directory; implementations
// copy them into a bounded buffer (Status::TooLong beyond kMaxPath).
// Nothing written is durable until fsync() (file data) and sync_dir()
// (directory entries: create, rename, unlink) return Ok. The sim platform
// holds unsynced writes aside and drops or tears them at a simulated crash.
//
// Asynchronous flush (issue 13; docs/STORAGE.md "Flushes leave the loop").
// flush_start() asks for fsync() of a file to be done away from the
// caller's thread, so that the event loop never waits for the disk; the
// outcome comes back with the caller's token from flush_done(). An Fs that
// cannot (the default, and every Fs that does not override these three)
// answers Unsupported and the caller uses fsync().
//
// Symbolic links (docs/STORAGE.md "Symbolic links"). confine(dir) names the
// directory whose contents are users' trees (the mail directory). In a path
// beginning with dir + "/", no component after dir is followed if it is a
// symbolic link, in every operation: a link in the middle of such a path
// fails with Permission; as the last component it is refused by open(),
// list() and sync_dir() (Permission), shown by stat() as FileType::Other,
// and acted on as the link itself — never its target — by unlink(),
// rename(), mkdir() (Exists) and rmdir() (NotDir). ".." beneath dir is
// Invalid. dir itself and the components above it resolve as the OS
// resolves them (an admin may link /srv/mail -> /mnt/usb/mail). Paths
// outside dir (configuration, passwd file) follow links, except a last
// component opened with kOpenNoFollow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/status.h"

namespace tinyimapd::port {

using File = std::int32_t;
inline constexpr File kNoFile = -1;
inline constexpr std::size_t kMaxPath = 1024;
inline constexpr std::size_t kMaxName = 255;

enum OpenFlags : std::uint32_t {
    kOpenRead = 1u << 0,
    kOpenWrite = 1u << 1,
    kOpenCreate = 1u << 2,     // create if missing (mode 0600)
    kOpenExclusive = 1u << 3,  // with kOpenCreate: fail with Exists if present
    kOpenTruncate = 1u << 4,
    kOpenNoFollow = 1u << 5,  // refuse a symbolic link as the last component
};

struct FsResult {
    Status status;
    std::size_t bytes;  // bytes moved when Ok; fewer than asked only at end of file
};

enum class FileType : std::uint8_t { Regular, Directory, Other };

struct FileInfo {
    FileType type = FileType::Other;
    std::uint64_t size = 0;
    std::int64_t mtime_seconds = 0;
};

enum class LockMode : std::uint8_t { Shared, Exclusive };

// One finished asynchronous flush (Fs::flush_done).
struct FlushDone {
    std::uint64_t token = 0;  // as given to flush_start
    Status status = Status::Ok;
};

// Receives one directory entry at a time ("." and ".." are never passed).
// Return false to stop the listing early.
class DirVisitor {
public:
    virtual bool entry(std::string_view name, FileType type) = 0;

protected:
    ~DirVisitor() = default;
};

class Fs {
public:
    virtual Result<File> open(std::string_view path, std::uint32_t flags) = 0;
    virtual Status close(File f) = 0;
    // Sequential read from the file position; bytes < capacity only at EOF.
    virtual FsResult read(File f, void* out, std::size_t capacity) = 0;
    // Positional read; bytes < capacity only at EOF. Does not move the position.
    virtual FsResult pread(File f, void* out, std::size_t capacity, std::uint64_t offset) = 0;
    // Write all `length` bytes at the file position, or fail (NoSpace, Io).
    virtual FsResult write(File f, const void* data, std::size_t length) = 0;
    // Write all bytes at `offset`, or fail. Does not move the position.
    virtual FsResult pwrite(File f, const void* data, std::size_t length, std::uint64_t offset) = 0;
    // Write all bytes at the current end of the file, or fail.
    virtual FsResult append(File f, const void* data, std::size_t length) = 0;
    virtual Status truncate(File f, std::uint64_t size) = 0;
    // Make the file's data durable.
    virtual Status fsync(File f) = 0;
    virtual Status fstat(File f, FileInfo* info) = 0;
    // Advisory whole-file lock. Never blocks: Busy when another holder has it.
    virtual Status lock(File f, LockMode mode) = 0;
    virtual Status unlock(File f) = 0;

    virtual Status stat(std::string_view path, FileInfo* info) = 0;
    virtual Status rename(std::string_view from, std::string_view to) = 0;
    virtual Status unlink(std::string_view path) = 0;
    virtual Status mkdir(std::string_view path) = 0;  // mode 0700; Exists if present
    virtual Status rmdir(std::string_view path) = 0;  // NotEmpty if it has entries
    virtual Status list(std::string_view path, DirVisitor& visitor) = 0;
    // Make a directory's entries (creations, renames, unlinks) durable.
    virtual Status sync_dir(std::string_view path) = 0;
    // No symbolic link is followed beneath `dir` from now on (see above);
    // one directory at a time, the last call wins. TooLong/Invalid as paths.
    virtual Status confine(std::string_view dir) = 0;

    // Asynchronous flush (see above). Ok: fsync(f) is under way; it makes
    // durable at least every write to f that returned before this call
    // (several flushes of one file asked for together may be done as one).
    // Unsupported: only fsync() (call it). Exhausted: too many under way
    // (call fsync(), or try later). `f` must stay open until it is done.
    virtual Status flush_start(File f, std::uint64_t token) {
        (void)f;
        (void)token;
        return Status::Unsupported;
    }
    // The same for sync_dir(path): Ok when it is under way (its outcome
    // comes back from flush_done() with `token`), Unsupported or Exhausted
    // as above (then call sync_dir()). It makes durable at least every entry
    // change in the directory that returned before this call.
    virtual Status sync_dir_start(std::string_view path, std::uint64_t token) {
        (void)path;
        (void)token;
        return Status::Unsupported;
    }
    // Flushes that have finished since the last call, at most `capacity`
    // (the rest on the next call); never blocks.
    virtual std::size_t flush_done(FlushDone* out, std::size_t capacity) {
        (void)out;
        (void)capacity;
        return 0;
    }
    // A handle Net::wait() can wait on, readable while flush_done() has
    // something to give; kNoFile when there is none (then call flush_done()
    // every turn of the loop and do not sleep while a flush is under way).
    virtual File flush_events() { return kNoFile; }

protected:
    ~Fs() = default;
};

}  // namespace tinyimapd::port
