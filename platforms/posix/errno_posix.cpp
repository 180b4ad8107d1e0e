#include "platforms/posix/errno_posix.h"

#include <errno.h>

namespace tinyimapd::posix {

Status status_from_errno(int err) {
    switch (err) {
        case EAGAIN: return Status::WouldBlock;
        case ENOENT: return Status::NotFound;
        case EEXIST: return Status::Exists;
        case ENOTEMPTY: return Status::NotEmpty;
        case ENOTDIR: return Status::NotDir;
        case EISDIR: return Status::IsDir;
        // EFBIG: the file reached the filesystem's size limit (4 GiB on FAT32),
        // which for a mailbox is the same as a full disk.
        case ENOSPC:
        case EDQUOT:
        case EFBIG: return Status::NoSpace;
        case EIO: return Status::Io;
        // A read-only mount and a symbolic link refused by O_NOFOLLOW (ELOOP)
        // are both "you may not do this here".
        case EACCES:
        case EPERM:
        case EROFS:
        case ELOOP: return Status::Permission;
        case EBUSY: return Status::Busy;
        case EADDRINUSE: return Status::AddrInUse;
        case ECONNRESET:
        case ECONNABORTED:
        case EPIPE:
        case ENOTCONN:
        case ETIMEDOUT:
        case EHOSTUNREACH:
        case ENETUNREACH:
        case ENETDOWN: return Status::Closed;
        case EINVAL:
        case EBADF:
        case ENOTSOCK:
        case EFAULT:
        case EADDRNOTAVAIL: return Status::Invalid;
        case ENAMETOOLONG: return Status::TooLong;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM: return Status::Exhausted;
        case ENOSYS:
        case EOPNOTSUPP:
        case EAFNOSUPPORT:
        case EPROTONOSUPPORT:
        case EXDEV: return Status::Unsupported;
        case EINTR: return Status::Interrupted;
        default: return Status::Error;
    }
}

}  // namespace tinyimapd::posix
