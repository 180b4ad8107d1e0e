// SimFs: an in-memory port::Fs with a power-loss model and fault injection,
// for the crash-safety tests of the mail store (after SQLite's test6.c).
//
// The tree: one root directory "/"; relative paths are taken from the root;
// "." is skipped and ".." goes up (never above the root); empty components
// ("a//b", a trailing '/') are ignored. Paths over port::kMaxPath or names
// over port::kMaxName are TooLong; an empty path or a NUL byte is Invalid.
// Files, directories and symbolic links are inodes; there are no hard links,
// and directories cannot be open()ed (IsDir): use list() and sync_dir().
// Symbolic links (made by tests with make_symlink(), port/fs.h "Symbolic
// links") are never followed, anywhere — beneath the confined directory that
// is the contract, above it stricter than PosixFs, which tests do not need: a
// link in the middle of a path is Permission; as the last component open(),
// list() and sync_dir() refuse it (Permission), stat() and list() show it
// as FileType::Other, unlink() and rename() act on the link itself, mkdir()
// is Exists and rmdir() NotDir. After confine(), ".." in a path beneath the
// confined directory is Invalid.
// A file unlinked while open stays readable and writable through its
// handle, as on POSIX. Handles are
// never reused; a handle that was closed or predates a crash is Invalid (as
// EBADF is on PosixFs). Locks belong to a handle (like OFD locks, as PosixFs):
// Exclusive needs a handle opened for writing and Shared one opened for
// reading (Invalid otherwise); Exclusive is Busy while another handle holds
// any lock on the file, Shared is Busy while another handle holds Exclusive;
// re-locking one's own handle changes its mode; close() unlocks.
// append() writes at the end and does not move the position (like pwrite).
// list() gives entries in byte order of their names. Errors: NotFound (a
// missing file or path component), NotDir (a component or rmdir target is a
// file), IsDir (open/unlink a directory, rename a file over one), Exists
// (mkdir, create+exclusive), NotEmpty (rmdir, rename over a non-empty
// directory), Invalid (a bad handle, read/write on a handle not opened for
// it, no read/write flag, truncate without write, rmdir/rename of the root,
// renaming a directory into itself).
//
// Crash model. The fs holds a CURRENT state (what calls see) and a DURABLE one:
// - File data: every write/pwrite/append/truncate (also open with
//   kOpenTruncate) of a file goes on that file's ordered list of unsynced
//   writes. fsync(f) makes the file's current data durable and empties the list.
// - Directory entries: every create (open with kOpenCreate), mkdir, rmdir,
//   unlink and rename goes on the ordered change log of the directory it
//   changes (a rename within one directory is one atomic change; a rename
//   between two directories is one change in each). sync_dir(d) makes d's
//   current entries durable and empties its log. Nothing else is durable:
//   neither fsync of a file nor sync_dir of a parent syncs a directory's entries.
// - crash() is a power cut: every handle becomes Invalid, locks go,
//   and each file/directory restarts from its durable state plus its unsynced
//   changes as chosen by the CrashMode:
//     DropAll      every unsynced write and directory change is lost;
//     ApplyRandom  per file, each unsynced write in order is applied fully,
//                  dropped, or torn (a random prefix of its bytes lands; a
//                  truncate is applied or dropped); per directory, a random
//                  prefix of its change log survives (a journal commits in
//                  order). Choices come from a splitmix64 PRNG seeded by
//                  set_seed(): the same seed and the same calls give the same
//                  state. What no durable entry reaches afterwards is gone.
//   The result becomes both the current and the durable state.
// Crash points. "Mutating" calls are write, pwrite, append, truncate, fsync,
// sync_dir, rename, unlink, mkdir, rmdir and open with kOpenCreate or
// kOpenTruncate; crash_points() counts them. crash_at_write(n) arms a crash at
// the n-th mutating call from now: that call does not happen (the power goes
// just before it), it returns Io, the crash above is computed at once, and
// every later call returns Io until restart(). Looping n over 1..crash_points()
// of a scenario crashes it at every point.
// Faults. fail_nth(op, n, s): the n-th call of op from now returns s and has no
// effect (n >= 1; 0 counts as 1; close() is the exception: like POSIX close()
// it releases the handle even when it reports an error). fail_from(op, n, s):
// the n-th and every later call (a full disk stays full until clear_faults()).
// short_write_nth(n, k): the n-th write-like call applies only its first k
// bytes (as unsynced data) and returns NoSpace with bytes = k — how a torn
// write looks under an all-or-error contract. set_space_limit(): writes that
// would make the total size of all files exceed it fail with NoSpace. Faults
// are checked after crash points, before any argument is looked at.
// Asynchronous flush (port/fs.h), once set_async_flush(true) (before:
// Unsupported, so core flushes in place as always): flush_start() queues
// the request (at most kMaxFlushes; Exhausted beyond);
// nothing happens until flush_done(), which finishes every request whose
// delay (set_flush_delay, in milliseconds of the SimClock; 0, or no clock:
// at the next call) has passed by one
// fsync() per file (coalesced; a counted call and a crash point like any
// fsync, so a crash can fall between a batch's writes and its flush, and
// writes made after flush_start() but before the flush are made durable by
// it too, as on a real disk). A request of a handle closed meanwhile gets
// Invalid. flush_events() is kNoFile: the caller polls flush_done().
// Helpers (read_file, write_file, make_dirs, exists, snapshot, sync_all) do not
// count as calls and ignore faults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "platforms/sim/sim_clock.h"
#include "port/fs.h"

namespace tinyimapd::sim {

class SimFs final : public port::Fs {
public:
    // Operations for fault injection and counters. Read covers read and pread;
    // Write covers write, pwrite and append.
    enum class Op : std::uint8_t {
        Open,
        Close,
        Read,
        Write,
        Truncate,
        Fsync,
        Fstat,
        Lock,
        Unlock,
        Stat,
        Rename,
        Unlink,
        Mkdir,
        Rmdir,
        List,
        SyncDir,
    };
    static constexpr std::size_t kOpCount = static_cast<std::size_t>(Op::SyncDir) + 1;

    enum class CrashMode : std::uint8_t { DropAll, ApplyRandom };

    // With a clock, mtimes are its wall time; without one they are 0.
    explicit SimFs(SimClock* clock = nullptr);
    SimFs(const SimFs&) = delete;
    SimFs& operator=(const SimFs&) = delete;
    ~SimFs() = default;

    // port::Fs
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
    Status flush_start(port::File f, std::uint64_t token) override;
    Status sync_dir_start(std::string_view path, std::uint64_t token) override;
    std::size_t flush_done(port::FlushDone* out, std::size_t capacity) override;

    // Asynchronous flush (see the header comment).
    static constexpr std::size_t kMaxFlushes = 64;
    void set_async_flush(bool on) { async_flush_ = on; }
    void set_flush_delay(std::uint64_t ms) { flush_delay_ms_ = ms; }
    std::size_t flushes_pending() const { return flushes_.size(); }

    // Crash model (see the header comment).
    void set_crash_mode(CrashMode mode) { crash_mode_ = mode; }
    void set_seed(std::uint64_t seed) { rng_ = seed; }
    // Power loss now; the fs is usable again at once. Disarms crash_at_write.
    void crash();
    // Crash at the n-th mutating call from now (n >= 1; 0 disarms).
    void crash_at_write(unsigned n) { crash_countdown_ = n; }
    bool crashed() const { return crashed_; }
    // After a crash_at_write crash: calls work again, on the post-crash state.
    void restart() { crashed_ = false; }
    // Everything current becomes durable (test setup).
    void sync_all();
    // Unsynced file writes plus unsynced directory changes.
    std::size_t unsynced() const;

    // Fault injection (see the header comment).
    void fail_nth(Op op, unsigned n, Status status);
    void fail_from(Op op, unsigned n, Status status);
    void short_write_nth(unsigned n, std::size_t applied_bytes);
    void set_space_limit(std::uint64_t bytes) { space_limit_ = bytes; }  // 0: none
    void set_max_open_files(std::size_t n) { max_open_ = n; }            // 0: none
    void clear_faults();

    // Counters (for assertions and flash-wear measurements).
    std::uint64_t calls(Op op) const { return calls_[static_cast<std::size_t>(op)]; }
    std::uint64_t bytes_written() const { return bytes_written_; }
    std::uint64_t bytes_read() const { return bytes_read_; }
    std::uint64_t crash_points() const { return crash_points_; }
    // fsync() and sync_dir() called by the caller itself (in the server: on
    // the loop's thread), not by flush_done() for a flush_start() (an I/O
    // thread's): what a slow disk would hold the whole loop up for.
    std::uint64_t loop_syncs() const { return loop_syncs_; }
    void reset_counters();
    std::size_t open_files() const { return files_.size(); }

    // Test helpers: no counters, no faults. read_file throws std::runtime_error
    // if `path` is not a file. write_file and make_dirs create what is missing
    // and make it durable at once.
    std::string read_file(std::string_view path) const;
    void write_file(std::string_view path, std::string_view bytes);
    void make_dirs(std::string_view path);
    // A durable symbolic link at `path` (its parent must exist) to `target`;
    // throws std::runtime_error if `path` exists.
    void make_symlink(std::string_view path, std::string_view target);
    bool exists(std::string_view path) const;
    // Every file ("/a/b" -> contents), directory ("/a/" -> "") and link
    // ("/a/l" -> "-> target") of the current state, for comparing states.
    std::map<std::string, std::string> snapshot() const;

private:
    using Ino = std::uint64_t;
    static constexpr Ino kNoIno = 0;
    static constexpr Ino kRoot = 1;

    struct PendingWrite {
        bool truncate = false;
        std::uint64_t offset = 0;  // the new size for a truncate
        std::string bytes;
    };
    // One atomic change of a directory: names set to an inode (kNoIno: removed).
    using DirChange = std::vector<std::pair<std::string, Ino>>;

    struct Node {
        port::FileType type = port::FileType::Regular;
        std::int64_t mtime = 0;
        std::string data;  // regular files
        std::string link;  // symbolic links (type Other): the target, never followed
        std::string durable_data;
        std::vector<PendingWrite> pending;
        std::map<std::string, Ino> entries;  // directories
        std::map<std::string, Ino> durable_entries;
        std::vector<DirChange> log;
    };
    struct OpenFile {
        Ino ino = kNoIno;
        std::uint32_t flags = 0;
        std::uint64_t pos = 0;
        bool locked = false;
        port::LockMode mode = port::LockMode::Shared;
    };
    struct Fault {
        Op op;
        unsigned remaining;
        Status status;
        bool persistent;
        bool short_write;
        std::size_t keep;
    };
    struct Gate {
        Status status = Status::Ok;
        bool short_write = false;
        std::size_t keep = 0;
    };
    struct Lookup {
        Status status = Status::Ok;
        Ino parent = kNoIno;  // kNoIno for the root itself
        std::string name;
        Ino ino = kNoIno;  // kNoIno when the last component does not exist
        std::vector<std::string> components;
    };

    Gate enter(Op op, bool mutating);
    Lookup lookup(std::string_view path) const;
    OpenFile* handle(port::File f);
    Ino new_node(port::FileType type);
    void change_dir(Ino dir, DirChange change);
    Status check_space(const Node& node, std::uint64_t new_size) const;
    port::FsResult write_at(port::File f, const void* data, std::size_t length,
                            std::uint64_t offset, bool at_position, bool at_end);
    void apply_write(Node& node, std::uint64_t offset, std::string_view bytes);
    void apply_truncate(Node& node, std::uint64_t size);
    void do_crash();
    void collect_garbage();
    std::int64_t now() const { return clock_ != nullptr ? clock_->wall_seconds() : 0; }

    SimClock* clock_;
    std::map<Ino, Node> nodes_;
    Ino next_ino_ = kRoot + 1;
    std::map<port::File, OpenFile> files_;
    port::File next_file_ = 3;

    CrashMode crash_mode_ = CrashMode::DropAll;
    std::uint64_t rng_ = 0;
    unsigned crash_countdown_ = 0;
    bool crashed_ = false;

    std::vector<Fault> faults_;
    std::uint64_t space_limit_ = 0;
    std::size_t max_open_ = 0;

    std::uint64_t calls_[kOpCount] = {};
    std::uint64_t bytes_written_ = 0;
    std::uint64_t loop_syncs_ = 0;
    bool in_flush_done_ = false;
    std::uint64_t bytes_read_ = 0;
    std::uint64_t crash_points_ = 0;

    struct PendingFlush {
        port::File file;
        std::uint64_t token;
        std::uint64_t due_ms;  // done by the first flush_done() from then on
        std::string dir;       // sync_dir_start: the directory (file unused)
    };
    std::vector<PendingFlush> flushes_;
    bool async_flush_ = false;
    std::uint64_t flush_delay_ms_ = 0;

    std::vector<std::string> confined_;  // components of the confined directory
    bool confined_set_ = false;
};

}  // namespace tinyimapd::sim
