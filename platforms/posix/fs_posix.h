// PosixFs: port::Fs over POSIX file descriptors, for Linux.
//
// File handles are the int descriptors, always opened O_CLOEXEC; created
// files get mode 0600, directories 0700 (one system user owns all mail).
// Paths are copied into a kMaxPath + 1 byte stack buffer: TooLong beyond
// kMaxPath bytes, Invalid if empty or if they contain a NUL byte. No
// operation allocates memory; list() reads entries with getdents64 into a
// stack buffer because opendir() mallocs its DIR.
//
// Choices the port contract leaves open:
// - open() needs kOpenRead and/or kOpenWrite (Invalid otherwise), and
//   kOpenTruncate needs kOpenWrite. kOpenNoFollow refuses a symbolic link in
//   the last component (O_NOFOLLOW), with Status::Permission; beneath the
//   confined directory that is implied and no other component is followed.
// - read/pread loop over EINTR and short reads; write/pwrite/append loop
//   over short writes and either write everything or fail (NoSpace for
//   ENOSPC/EDQUOT/EFBIG, Io, Permission). A failed write may have written a
//   prefix: the caller's recovery (truncate or index repair) handles that.
// - append() is fstat() for the size, then pwrite() there: it does not move
//   the file position, and it is only atomic against other writers that hold
//   the file's lock (the mailbox lock serialises all appenders anyway).
// - fsync() is fdatasync(): data and the size needed to read it back become
//   durable without an extra mtime write (flash wear).
// - lock() takes an open-file-description lock (F_OFD_SETLK): it belongs to
//   the handle, not the process, so two handles of one process conflict like
//   two processes would; it conflicts with other processes' fcntl()/OFD
//   locks (not with flock()). Exclusive needs a handle opened for writing and
//   Shared one opened for reading (Invalid otherwise); closing the handle
//   releases the lock.
// - stat() does not follow a final symbolic link (lstat), like list(): a
//   link shows as FileType::Other, so core can refuse it (no symlink escape).
// - confine(dir) (port/fs.h "Symbolic links"): beneath dir, every operation
//   opens dir as the OS resolves it (O_PATH; again at each call, so a
//   remounted disk is found), then the directory holding the last component
//   with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) — or, where that is
//   missing (ENOSYS/EPERM: Linux < 5.6, seccomp filters), one
//   openat(O_PATH | O_DIRECTORY | O_NOFOLLOW) per component — and acts on
//   the last component with the *at() call that does not follow it
//   (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, renameat, unlinkat, mkdirat). Outside
//   dir: the plain path, as before.
// - flush_start() (port/fs.h "Asynchronous flush") hands the fdatasync()
//   to a FlushPool (flush_pool.h) once start_flush_threads() has run (main,
//   after daemonizing: `io_threads`); before that, or with 0 threads, it is
//   Unsupported and core calls fsync() in the loop, as it always did.
// - sync_dir() accepts EINVAL from fsync() as success: some filesystems
//   cannot sync a directory and write their entries synchronously or never.
#pragma once

#include "platforms/posix/flush_pool.h"
#include "port/fs.h"

namespace tinyimapd::posix {

class PosixFs final : public port::Fs {
public:
    Result<port::File> open(std::string_view path, std::uint32_t flags) override;
    Status close(port::File f) override;
    port::FsResult read(port::File f, void* out, std::size_t capacity) override;
    port::FsResult pread(port::File f, void* out, std::size_t capacity,
                         std::uint64_t offset) override;
    port::FsResult write(port::File f, const void* data, std::size_t length) override;
    port::FsResult pwrite(port::File f, const void* data, std::size_t length,
                          std::uint64_t offset) override;
    port::FsResult append(port::File f, const void* data, std::size_t length) override;
    Status truncate(port::File f, std::uint64_t size) override;
    Status fsync(port::File f) override;
    Status fstat(port::File f, port::FileInfo* info) override;
    Status lock(port::File f, port::LockMode mode) override;
    Status unlock(port::File f) override;

    Status stat(std::string_view path, port::FileInfo* info) override;
    Status rename(std::string_view from, std::string_view to) override;
    Status unlink(std::string_view path) override;
    Status mkdir(std::string_view path) override;
    Status rmdir(std::string_view path) override;
    Status list(std::string_view path, port::DirVisitor& visitor) override;
    Status sync_dir(std::string_view path) override;
    Status confine(std::string_view dir) override;
    Status flush_start(port::File f, std::uint64_t token) override {
        return pool_.flush_start(f, token);
    }
    Status sync_dir_start(std::string_view path, std::uint64_t token) override;
    std::size_t flush_done(port::FlushDone* out, std::size_t capacity) override {
        return pool_.flush_done(out, capacity);
    }
    port::File flush_events() override { return pool_.events(); }

    // Starts the I/O threads of flush_start() (0: none, flushes stay in the
    // caller's thread). Error: none could be started.
    Status start_flush_threads(unsigned threads) { return pool_.start(threads); }
    void stop_flush_threads() { pool_.stop(); }
    const FlushPool& flush_pool() const { return pool_; }

    // Tests: false walks component by component, as on kernels without
    // openat2() (which is also chosen after its first ENOSYS or EPERM).
    void set_openat2(bool on) { use_openat2_ = on; }

private:
    Status open_dir(std::string_view path, int* fd);

    char confined_[port::kMaxPath + 1] = {};
    std::size_t confined_length_ = 0;  // 0: nothing confined yet
    bool use_openat2_ = true;
    FlushPool pool_;
};

}  // namespace tinyimapd::posix
