#include "platforms/posix/entropy_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cstdint>

#include "platforms/posix/errno_posix.h"

namespace tinyimapd::posix {
namespace {

Status fill_from_urandom(std::uint8_t* out, std::size_t length) {
    int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return status_from_errno(errno);
    Status result = Status::Ok;
    std::size_t done = 0;
    while (done < length) {
        ssize_t n = ::read(fd, out + done, length - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            result = status_from_errno(errno);
            break;
        }
        if (n == 0) {
            result = Status::Io;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return result;
}

}  // namespace

Status PosixEntropy::fill(void* out, std::size_t length) {
    auto* bytes = static_cast<std::uint8_t*>(out);
    std::size_t done = 0;
    while (done < length) {
        // Requests above 256 bytes may return short (and above 32 MiB always
        // do); the loop takes what came and asks for the rest.
        ssize_t n = ::getrandom(bytes + done, length - done, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOSYS) return fill_from_urandom(bytes + done, length - done);
            return status_from_errno(errno);
        }
        done += static_cast<std::size_t>(n);
    }
    return Status::Ok;
}

}  // namespace tinyimapd::posix
