#include "platforms/posix/fs_posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>  // rename()
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(SYS_openat2) && __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define TINYIMAPD_HAVE_OPENAT2 1
#else
#define TINYIMAPD_HAVE_OPENAT2 0
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "platforms/posix/errno_posix.h"

namespace tinyimapd::posix {
namespace {

static_assert(sizeof(off_t) == 8, "PosixFs needs 64-bit file offsets");

constexpr std::uint64_t kMaxOffset = static_cast<std::uint64_t>(INT64_MAX);
constexpr mode_t kFileMode = 0600;
constexpr mode_t kDirMode = 0700;
// getdents64 buffer: a record is at most ~280 bytes (a 255-byte name), so
// this holds a dozen or more entries per system call.
constexpr std::size_t kDirBufferSize = 4096;

constexpr std::uint32_t kKnownOpenFlags = port::kOpenRead | port::kOpenWrite | port::kOpenCreate |
                                          port::kOpenExclusive | port::kOpenTruncate |
                                          port::kOpenNoFollow;

// A path as the C string the system calls need.
struct PathBuffer {
    char text[port::kMaxPath + 1];
};

Status copy_path(std::string_view path, PathBuffer* out) {
    if (path.size() > port::kMaxPath) return Status::TooLong;
    if (path.empty() || std::memchr(path.data(), '\0', path.size()) != nullptr) {
        return Status::Invalid;
    }
    std::memcpy(out->text, path.data(), path.size());
    out->text[path.size()] = '\0';
    return Status::Ok;
}

Status errno_status() {
    return status_from_errno(errno);
}

port::FileType type_from_mode(mode_t mode) {
    if (S_ISREG(mode)) return port::FileType::Regular;
    if (S_ISDIR(mode)) return port::FileType::Directory;
    return port::FileType::Other;
}

void fill_info(const struct stat& st, port::FileInfo* info) {
    info->type = type_from_mode(st.st_mode);
    info->size = static_cast<std::uint64_t>(st.st_size);
    info->mtime_seconds = static_cast<std::int64_t>(st.st_mtim.tv_sec);
}

port::FileType type_from_dirent(unsigned char d_type) {
    switch (d_type) {
        case DT_REG: return port::FileType::Regular;
        case DT_DIR: return port::FileType::Directory;
        default: return port::FileType::Other;
    }
}

// Reads until `capacity` bytes or end of file. offset < 0: sequential.
port::FsResult read_all(int fd, void* out, std::size_t capacity, off_t offset) {
    auto* bytes = static_cast<std::uint8_t*>(out);
    std::size_t done = 0;
    while (done < capacity) {
        ssize_t n = offset < 0 ? ::read(fd, bytes + done, capacity - done)
                               : ::pread(fd, bytes + done, capacity - done,
                                         offset + static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return {errno_status(), done};
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    return {Status::Ok, done};
}

// Writes all `length` bytes or fails. offset < 0: at the file position.
port::FsResult write_all(int fd, const void* data, std::size_t length, off_t offset) {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    std::size_t done = 0;
    while (done < length) {
        ssize_t n = offset < 0 ? ::write(fd, bytes + done, length - done)
                               : ::pwrite(fd, bytes + done, length - done,
                                          offset + static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) continue;
            return {errno_status(), done};
        }
        // A regular file that accepts nothing without an error is out of
        // room; looping would never end.
        if (n == 0) return {Status::NoSpace, done};
        done += static_cast<std::size_t>(n);
    }
    return {Status::Ok, done};
}

bool range_fits(std::size_t length, std::uint64_t offset) {
    return offset <= kMaxOffset && static_cast<std::uint64_t>(length) <= kMaxOffset - offset;
}

bool is_symlink_at(int dir, const char* name) {
    struct stat st;
    return ::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

// openat(dir, name, O_DIRECTORY | O_NOFOLLOW | extra): the kernel checks
// O_DIRECTORY before O_NOFOLLOW, so a link shows as ENOTDIR; it is told
// apart here and reported as ELOOP (Permission), as openat2() reports it.
int open_dir_nofollow(int dir, const char* name, int extra) {
    for (;;) {
        const int fd = ::openat(dir, name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | extra);
        if (fd >= 0) return fd;
        if (errno == EINTR) continue;
        if (errno == ENOTDIR && is_symlink_at(dir, name)) errno = ELOOP;
        return -1;
    }
}

// Errors of a walk beneath the confined directory: a link (ELOOP) and an
// escape (EXDEV, from openat2's RESOLVE_BENEATH) are both refusals.
Status walk_status(int err) {
    if (err == ELOOP || err == EXDEV) return Status::Permission;
    return status_from_errno(err);
}

// Where a path operation acts: a directory descriptor and a name in it, for
// the *at() system calls. Outside the confined directory the descriptor is
// AT_FDCWD and the name the whole path (the OS resolves it as open() would).
struct Target {
    int dir = AT_FDCWD;
    const char* name = nullptr;  // inside the caller's PathBuffer
    bool confined = false;       // beneath the confined directory: no link followed
    Target() = default;
    Target(const Target&) = delete;
    Target& operator=(const Target&) = delete;
    ~Target() {
        if (dir >= 0) ::close(dir);
    }
};

// Opens the directory `rel` (components separated by '/', no "..") beneath
// `base` without following any link; takes `base` (closes it). openat2()
// with RESOLVE_NO_SYMLINKS does it in one call where the kernel has it
// (Linux 5.6); elsewhere (ENOSYS or EPERM: older kernels, seccomp filters,
// qemu-user) one openat(O_NOFOLLOW | O_DIRECTORY) per component.
int open_beneath(int base, char* rel, bool* use_openat2) {
#if TINYIMAPD_HAVE_OPENAT2
    if (*use_openat2) {
        struct open_how how;
        std::memset(&how, 0, sizeof how);
        how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
        // EAGAIN: a concurrent rename raced the lookup; retried a few times.
        for (int tries = 0; tries < 8; ++tries) {
            const long fd = ::syscall(SYS_openat2, base, rel, &how, sizeof how);
            if (fd >= 0) {
                ::close(base);
                return static_cast<int>(fd);
            }
            if (errno == EINTR || errno == EAGAIN) continue;
            // ENOSYS: no openat2 here. EPERM: a seccomp filter that refuses
            // system calls it does not know (older container runtimes); the
            // walk gives the same answer if it really was a refusal.
            if (errno == ENOSYS || errno == EPERM) {
                *use_openat2 = false;
                break;
            }
            const int err = errno;
            ::close(base);
            errno = err;
            return -1;
        }
        // Still EAGAIN (renames keep racing the lookup): walk instead.
    }
#else
    (void)use_openat2;  // no <linux/openat2.h> (e.g. a musl sysroot): always walk
#endif
    int fd = base;
    for (char* part = rel; *part != '\0';) {
        char* end = std::strchr(part, '/');
        if (end != nullptr) *end = '\0';
        if (part[0] != '\0' && std::strcmp(part, ".") != 0) {
            const int next = open_dir_nofollow(fd, part, O_PATH);
            const int err = errno;
            ::close(fd);
            if (next < 0) {
                errno = err;
                return -1;
            }
            fd = next;
        }
        if (end == nullptr) break;
        *end = '/';
        part = end + 1;
    }
    return fd;
}

// Copies `path` into `buffer` and finds where it is acted on. Beneath the
// confined directory: the confined directory is opened as the OS resolves
// it, the components between it and the last one without following links,
// and the last one is left to the operation (which must not follow it).
Status resolve(const char* confined, std::size_t confined_length, bool* use_openat2,
               std::string_view path, PathBuffer* buffer, Target* out) {
    Status s = copy_path(path, buffer);
    if (s != Status::Ok) return s;
    out->name = buffer->text;
    if (confined_length == 0) return Status::Ok;
    const std::string_view anchor(confined, confined_length);
    std::size_t rest = 0;
    if (anchor == "/") {
        if (path[0] != '/') return Status::Ok;
        rest = 1;
    } else {
        if (path.size() <= anchor.size() || path.substr(0, anchor.size()) != anchor ||
            path[anchor.size()] != '/') {
            return Status::Ok;
        }
        rest = anchor.size() + 1;
    }
    char* text = buffer->text;
    std::size_t end = path.size();
    while (end > rest && text[end - 1] == '/') text[--end] = '\0';
    while (rest < end && text[rest] == '/') ++rest;
    if (rest == end) return Status::Ok;  // the confined directory itself
    // ".." could climb out; "." as the last component names a directory
    // that has a name of its own.
    for (std::size_t i = rest; i < end;) {
        std::size_t j = i;
        while (j < end && text[j] != '/') ++j;
        const std::string_view part(text + i, j - i);
        if (part == ".." || (part == "." && j == end)) return Status::Invalid;
        i = j + 1;
    }
    out->confined = true;
    std::size_t last = end;
    while (last > rest && text[last - 1] != '/') --last;
    out->name = text + last;
    int base = -1;
    for (;;) {
        base = ::open(confined, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (base >= 0 || errno != EINTR) break;
    }
    if (base < 0) return errno_status();
    if (last == rest) {
        out->dir = base;
        return Status::Ok;
    }
    text[last - 1] = '\0';  // the parent part ends here
    const int dir = open_beneath(base, text + rest, use_openat2);
    if (dir < 0) return walk_status(errno);
    out->dir = dir;
    return Status::Ok;
}

}  // namespace

Status PosixFs::confine(std::string_view dir) {
    while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
    if (dir.size() > port::kMaxPath) return Status::TooLong;
    if (dir.empty() || std::memchr(dir.data(), '\0', dir.size()) != nullptr) return Status::Invalid;
    std::memcpy(confined_, dir.data(), dir.size());
    confined_[dir.size()] = '\0';
    confined_length_ = dir.size();
    return Status::Ok;
}

// A directory to read or sync; beneath the confined directory not through
// a link, not even as the last component.
Status PosixFs::open_dir(std::string_view path, int* fd) {
    PathBuffer buffer;
    Target at;
    Status s = resolve(confined_, confined_length_, &use_openat2_, path, &buffer, &at);
    if (s != Status::Ok) return s;
    if (at.confined) {
        *fd = open_dir_nofollow(at.dir, at.name, O_RDONLY);
    } else {
        do {
            *fd = ::openat(at.dir, at.name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        } while (*fd < 0 && errno == EINTR);
    }
    return *fd >= 0 ? Status::Ok : walk_status(errno);
}

Result<port::File> PosixFs::open(std::string_view path, std::uint32_t flags) {
    using R = Result<port::File>;
    if ((flags & ~kKnownOpenFlags) != 0) return R::failure(Status::Invalid);
    bool want_read = (flags & port::kOpenRead) != 0;
    bool want_write = (flags & port::kOpenWrite) != 0;
    if (!want_read && !want_write) return R::failure(Status::Invalid);
    if ((flags & port::kOpenTruncate) != 0 && !want_write) return R::failure(Status::Invalid);

    PathBuffer buffer;
    Target at;
    Status s = resolve(confined_, confined_length_, &use_openat2_, path, &buffer, &at);
    if (s != Status::Ok) return R::failure(s);

    int os_flags = O_CLOEXEC | O_NOCTTY;
    os_flags |= want_read && want_write ? O_RDWR : (want_write ? O_WRONLY : O_RDONLY);
    if ((flags & port::kOpenCreate) != 0) {
        os_flags |= O_CREAT;
        if ((flags & port::kOpenExclusive) != 0) os_flags |= O_EXCL;
    }
    if ((flags & port::kOpenTruncate) != 0) os_flags |= O_TRUNC;
    if ((flags & port::kOpenNoFollow) != 0 || at.confined) os_flags |= O_NOFOLLOW;

    for (;;) {
        int fd = ::openat(at.dir, at.name, os_flags, kFileMode);
        if (fd >= 0) return R::success(fd);
        if (errno != EINTR) return R::failure(errno_status());
    }
}

Status PosixFs::close(port::File f) {
    if (::close(f) == 0) return Status::Ok;
    // After EINTR Linux has released the descriptor; retrying could close
    // one that was just reused.
    if (errno == EINTR) return Status::Ok;
    return errno_status();
}

port::FsResult PosixFs::read(port::File f, void* out, std::size_t capacity) {
    return read_all(f, out, capacity, -1);
}

port::FsResult PosixFs::pread(port::File f, void* out, std::size_t capacity, std::uint64_t offset) {
    if (!range_fits(capacity, offset)) return {Status::Invalid, 0};
    return read_all(f, out, capacity, static_cast<off_t>(offset));
}

port::FsResult PosixFs::write(port::File f, const void* data, std::size_t length) {
    return write_all(f, data, length, -1);
}

port::FsResult PosixFs::pwrite(port::File f, const void* data, std::size_t length,
                               std::uint64_t offset) {
    if (!range_fits(length, offset)) return {Status::Invalid, 0};
    return write_all(f, data, length, static_cast<off_t>(offset));
}

port::FsResult PosixFs::append(port::File f, const void* data, std::size_t length) {
    struct stat st;
    if (::fstat(f, &st) != 0) return {errno_status(), 0};
    if (!range_fits(length, static_cast<std::uint64_t>(st.st_size))) return {Status::NoSpace, 0};
    return write_all(f, data, length, st.st_size);
}

Status PosixFs::truncate(port::File f, std::uint64_t size) {
    if (size > kMaxOffset) return Status::Invalid;
    for (;;) {
        if (::ftruncate(f, static_cast<off_t>(size)) == 0) return Status::Ok;
        if (errno != EINTR) return errno_status();
    }
}

Status PosixFs::fsync(port::File f) {
    for (;;) {
        if (::fdatasync(f) == 0) return Status::Ok;
        if (errno != EINTR) return errno_status();
    }
}

Status PosixFs::fstat(port::File f, port::FileInfo* info) {
    struct stat st;
    if (::fstat(f, &st) != 0) return errno_status();
    fill_info(st, info);
    return Status::Ok;
}

Status PosixFs::lock(port::File f, port::LockMode mode) {
    struct flock request;
    std::memset(&request, 0, sizeof(request));
    request.l_type = mode == port::LockMode::Exclusive ? F_WRLCK : F_RDLCK;
    request.l_whence = SEEK_SET;
    request.l_start = 0;
    request.l_len = 0;  // to the end of the file, however it grows
    request.l_pid = 0;  // required for OFD locks
    for (;;) {
        if (::fcntl(f, F_OFD_SETLK, &request) == 0) return Status::Ok;
        int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EACCES) return Status::Busy;
        // Kernels before 3.15 do not know F_OFD_SETLK.
        if (err == EINVAL) return Status::Unsupported;
        return status_from_errno(err);
    }
}

Status PosixFs::unlock(port::File f) {
    struct flock request;
    std::memset(&request, 0, sizeof(request));
    request.l_type = F_UNLCK;
    request.l_whence = SEEK_SET;
    for (;;) {
        if (::fcntl(f, F_OFD_SETLK, &request) == 0) return Status::Ok;
        if (errno != EINTR) return errno_status();
    }
}

Status PosixFs::stat(std::string_view path, port::FileInfo* info) {
    PathBuffer buffer;
    Target at;
    Status s = resolve(confined_, confined_length_, &use_openat2_, path, &buffer, &at);
    if (s != Status::Ok) return s;
    struct stat st;
    if (::fstatat(at.dir, at.name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno_status();
    fill_info(st, info);
    return Status::Ok;
}

Status PosixFs::rename(std::string_view from, std::string_view to) {
    PathBuffer from_buffer;
    PathBuffer to_buffer;
    Target from_at;
    Target to_at;
    Status s = resolve(confined_, confined_length_, &use_openat2_, from, &from_buffer, &from_at);
    if (s == Status::Ok)
        s = resolve(confined_, confined_length_, &use_openat2_, to, &to_buffer, &to_at);
    if (s != Status::Ok) return s;
    if (::renameat(from_at.dir, from_at.name, to_at.dir, to_at.name) != 0) {
        // Renaming a directory onto a non-empty one.
        if (errno == EEXIST) return Status::NotEmpty;
        return errno_status();
    }
    return Status::Ok;
}

Status PosixFs::unlink(std::string_view path) {
    PathBuffer buffer;
    Target at;
    Status s = resolve(confined_, confined_length_, &use_openat2_, path, &buffer, &at);
    if (s != Status::Ok) return s;
    if (::unlinkat(at.dir, at.name, 0) != 0) return errno_status();
    return Status::Ok;
}

Status PosixFs::mkdir(std::string_view path) {
    PathBuffer buffer;
    Target at;
    Status s = resolve(confined_, confined_length_, &use_openat2_, path, &buffer, &at);
    if (s != Status::Ok) return s;
    if (::mkdirat(at.dir, at.name, kDirMode) != 0) return errno_status();
    return Status::Ok;
}

Status PosixFs::rmdir(std::string_view path) {
    PathBuffer buffer;
    Target at;
    Status s = resolve(confined_, confined_length_, &use_openat2_, path, &buffer, &at);
    if (s != Status::Ok) return s;
    if (::unlinkat(at.dir, at.name, AT_REMOVEDIR) != 0) {
        // POSIX allows EEXIST for a directory that still has entries.
        if (errno == EEXIST) return Status::NotEmpty;
        return errno_status();
    }
    return Status::Ok;
}

Status PosixFs::list(std::string_view path, port::DirVisitor& visitor) {
    int dir = -1;
    const Status opened = open_dir(path, &dir);
    if (opened != Status::Ok) return opened;

    alignas(8) unsigned char records[kDirBufferSize];
    constexpr std::size_t kNameOffset = offsetof(struct dirent64, d_name);
    Status result = Status::Ok;
    bool more = true;
    while (more) {
        // The system call, not libc's wrapper: glibc declares getdents64()
        // with a void buffer, musl only as a macro for getdents(struct dirent*).
        const long n = ::syscall(SYS_getdents64, dir, records, sizeof(records));
        if (n < 0) {
            if (errno == EINTR) continue;
            result = errno_status();
            break;
        }
        if (n == 0) break;
        std::size_t used = static_cast<std::size_t>(n);
        // Fields are copied out with memcpy: records are packed, and their
        // alignment is the kernel's business.
        for (std::size_t at = 0; at + kNameOffset <= used && more;) {
            unsigned short record_length = 0;
            unsigned char d_type = DT_UNKNOWN;
            std::memcpy(&record_length, records + at + offsetof(struct dirent64, d_reclen),
                        sizeof(record_length));
            std::memcpy(&d_type, records + at + offsetof(struct dirent64, d_type), sizeof(d_type));
            if (record_length <= kNameOffset || at + record_length > used) {
                result = Status::Io;
                more = false;
                break;
            }
            const char* name = reinterpret_cast<const char*>(records + at + kNameOffset);
            std::size_t name_length = strnlen(name, record_length - kNameOffset);
            at += record_length;

            std::string_view entry(name, name_length);
            if (entry == "." || entry == "..") continue;
            port::FileType type = type_from_dirent(d_type);
            if (d_type == DT_UNKNOWN) {
                // Some filesystems do not fill d_type; ask the inode.
                struct stat st;
                if (::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                    if (errno == ENOENT) continue;  // removed since the read
                } else {
                    type = type_from_mode(st.st_mode);
                }
            }
            more = visitor.entry(entry, type);
        }
    }
    ::close(dir);
    return result;
}

// The directory is opened here (a name lookup, no wait for the disk) and
// its fsync() done by an I/O thread, which closes it afterwards.
Status PosixFs::sync_dir_start(std::string_view path, std::uint64_t token) {
    if (!pool_.running()) return Status::Unsupported;
    int dir = -1;
    const Status opened = open_dir(path, &dir);
    if (opened != Status::Ok) return opened;
    const Status st = pool_.flush_start(dir, token, true);
    if (st != Status::Ok) ::close(dir);
    return st;
}

Status PosixFs::sync_dir(std::string_view path) {
    int dir = -1;
    const Status opened = open_dir(path, &dir);
    if (opened != Status::Ok) return opened;
    Status result = Status::Ok;
    while (::fsync(dir) != 0) {
        if (errno == EINTR) continue;
        if (errno != EINVAL) result = errno_status();
        break;
    }
    ::close(dir);
    return result;
}

}  // namespace tinyimapd::posix
