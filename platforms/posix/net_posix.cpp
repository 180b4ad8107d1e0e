#include "platforms/posix/net_posix.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "core/base/text.h"
#include "platforms/posix/errno_posix.h"
#include "platforms/posix/signals_posix.h"

namespace tinyimapd::posix {
namespace {

// One storage for every address family we handle; the union keeps the
// casts to sockaddr_in/sockaddr_in6 aligned on strict-alignment targets.
union SocketAddress {
    struct sockaddr any;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    struct sockaddr_storage storage;
};

struct ListenAddress {
    SocketAddress address;
    socklen_t length = 0;
    bool dual_stack = false;  // "*": all IPv4 and IPv6 addresses
};

// Longest host text between the brackets: an IPv6 address plus "%" and an
// interface name.
constexpr std::size_t kMaxHostText = INET6_ADDRSTRLEN + 1 + IF_NAMESIZE;

bool parse_port(std::string_view text, std::uint16_t* port) {
    std::uint64_t value = 0;
    if (!ascii::parse_uint(text, &value) || value > 65535) return false;
    *port = static_cast<std::uint16_t>(value);
    return true;
}

void set_ipv4(ListenAddress* out, const struct in_addr& host, std::uint16_t port) {
    out->address.v4.sin_family = AF_INET;
    out->address.v4.sin_port = htons(port);
    out->address.v4.sin_addr = host;
    out->length = sizeof(out->address.v4);
}

// Host text inside "[...]": an IPv6 address, optionally "%scope" where scope
// is an interface name or index (needed for link-local addresses).
bool parse_ipv6_host(std::string_view host, std::uint16_t port, ListenAddress* out) {
    std::string_view scope;
    std::size_t percent = host.find('%');
    if (percent != std::string_view::npos) {
        scope = host.substr(percent + 1);
        host = host.substr(0, percent);
        if (scope.empty()) return false;
    }
    char text[kMaxHostText + 1];
    if (host.size() > INET6_ADDRSTRLEN || scope.size() >= IF_NAMESIZE) return false;
    std::memcpy(text, host.data(), host.size());
    text[host.size()] = '\0';

    out->address.v6.sin6_family = AF_INET6;
    out->address.v6.sin6_port = htons(port);
    if (inet_pton(AF_INET6, text, &out->address.v6.sin6_addr) != 1) return false;
    if (!scope.empty()) {
        std::uint64_t index = 0;
        if (ascii::parse_uint(scope, &index)) {
            if (index == 0 || index > UINT32_MAX) return false;
            out->address.v6.sin6_scope_id = static_cast<std::uint32_t>(index);
        } else {
            std::memcpy(text, scope.data(), scope.size());
            text[scope.size()] = '\0';
            unsigned int found = if_nametoindex(text);
            if (found == 0) return false;
            out->address.v6.sin6_scope_id = found;
        }
    }
    out->length = sizeof(out->address.v6);
    return true;
}

bool parse_listen_address(std::string_view text, ListenAddress* out) {
    *out = ListenAddress{};
    std::uint16_t port = 0;
    if (!text.empty() && text.front() == '[') {
        std::size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
            return false;
        }
        if (!parse_port(text.substr(close + 2), &port)) return false;
        return parse_ipv6_host(text.substr(1, close - 1), port, out);
    }

    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    std::string_view host = text.substr(0, colon);
    if (!parse_port(text.substr(colon + 1), &port)) return false;
    if (host.find(':') != std::string_view::npos) return false;  // IPv6 needs brackets

    if (host == "*") {
        out->dual_stack = true;
        out->address.v6.sin6_family = AF_INET6;
        out->address.v6.sin6_port = htons(port);
        out->address.v6.sin6_addr = in6addr_any;
        out->length = sizeof(out->address.v6);
        return true;
    }
    struct in_addr v4 = {};
    if (ascii::iequals(host, "localhost")) {
        v4.s_addr = htonl(INADDR_LOOPBACK);
        set_ipv4(out, v4, port);
        return true;
    }
    char buffer[INET_ADDRSTRLEN];
    if (host.empty() || host.size() >= sizeof(buffer)) return false;
    std::memcpy(buffer, host.data(), host.size());
    buffer[host.size()] = '\0';
    if (inet_pton(AF_INET, buffer, &v4) != 1) return false;
    set_ipv4(out, v4, port);
    return true;
}

// v6only: 1 for an explicit IPv6 address, 0 for the dual-stack "*".
Result<port::Handle> open_listener(const ListenAddress& address, int v6only) {
    int family = address.address.any.sa_family;
    int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Result<port::Handle>::failure(status_from_errno(errno));

    int one = 1;
    // A restarted server must be able to bind while old connections linger
    // in TIME_WAIT.
    bool ok = ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0;
    if (ok && family == AF_INET6) {
        ok = ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) == 0;
    }
    ok = ok && ::bind(fd, &address.address.any, address.length) == 0;
    ok = ok && ::listen(fd, PosixNet::kListenBacklog) == 0;
    if (!ok) {
        int err = errno;
        ::close(fd);
        return Result<port::Handle>::failure(status_from_errno(err));
    }
    return Result<port::Handle>::success(fd);
}

void set_peer_text(const SocketAddress& address, port::PeerAddress* peer) {
    peer->length = 0;
    peer->text[0] = '\0';
    const char* written = nullptr;
    if (address.any.sa_family == AF_INET) {
        written =
            inet_ntop(AF_INET, &address.v4.sin_addr, peer->text, port::PeerAddress::kCapacity);
    } else if (address.any.sa_family == AF_INET6) {
        // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; logs and
        // per-address limits want the plain IPv4 form.
        if (IN6_IS_ADDR_V4MAPPED(&address.v6.sin6_addr)) {
            struct in_addr v4;
            std::memcpy(&v4, &address.v6.sin6_addr.s6_addr[12], sizeof(v4));
            written = inet_ntop(AF_INET, &v4, peer->text, port::PeerAddress::kCapacity);
        } else {
            written = inet_ntop(AF_INET6, &address.v6.sin6_addr, peer->text,
                                port::PeerAddress::kCapacity);
        }
    }
    if (written != nullptr) peer->length = std::strlen(peer->text);
}

std::uint8_t got_from_revents(short revents) {
    std::uint8_t got = 0;
    if ((revents & (POLLIN | POLLPRI)) != 0) got |= port::kWaitRead;
    if ((revents & POLLOUT) != 0) got |= port::kWaitWrite;
    if ((revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) got |= port::kWaitHangup;
    return got;
}

}  // namespace

Result<port::Handle> PosixNet::listen(std::string_view address_port) {
    ListenAddress address;
    if (!parse_listen_address(address_port, &address)) {
        return Result<port::Handle>::failure(Status::Invalid);
    }
    if (!address.dual_stack) return open_listener(address, 1);

    Result<port::Handle> dual = open_listener(address, 0);
    // Whatever keeps IPv6 from working here (no address family, IPv6 disabled,
    // no dual-stack option) falls back to IPv4 alone; a port in use or a
    // missing privilege would fail the same way there and is reported as is.
    if (dual.ok() || dual.status == Status::AddrInUse || dual.status == Status::Permission) {
        return dual;
    }
    ListenAddress v4;
    struct in_addr any = {};
    any.s_addr = htonl(INADDR_ANY);
    set_ipv4(&v4, any, ntohs(address.address.v6.sin6_port));
    return open_listener(v4, 1);
}

Result<port::Handle> PosixNet::accept(port::Handle listener, port::PeerAddress* peer) {
    for (;;) {
        SocketAddress address;
        std::memset(&address, 0, sizeof(address));
        socklen_t length = sizeof(address);
        int fd = ::accept4(listener, &address.any, &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            // A connection that was reset while queued, or a signal: try the
            // next one rather than report an error for a listener that is fine.
            if (err == EINTR || err == ECONNABORTED) continue;
            if (err == EAGAIN) return Result<port::Handle>::failure(Status::WouldBlock);
            return Result<port::Handle>::failure(status_from_errno(err));
        }
        int one = 1;
        // Best effort: a failure only costs latency.
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (peer != nullptr) set_peer_text(address, peer);
        return Result<port::Handle>::success(fd);
    }
}

port::IoResult PosixNet::read(port::Handle h, std::uint8_t* out, std::size_t capacity) {
    if (capacity == 0) return {Status::Ok, 0};
    for (;;) {
        ssize_t n = ::recv(h, out, capacity, MSG_DONTWAIT);
        if (n > 0) return {Status::Ok, static_cast<std::size_t>(n)};
        if (n == 0) return {Status::Eof, 0};
        int err = errno;
        if (err == EINTR) continue;
        return {status_from_errno(err), 0};
    }
}

port::IoResult PosixNet::write(port::Handle h, const std::uint8_t* data, std::size_t length) {
    if (length == 0) return {Status::Ok, 0};
    for (;;) {
        // MSG_DONTWAIT keeps the contract even on a descriptor someone made
        // blocking; MSG_NOSIGNAL turns SIGPIPE into EPIPE.
        ssize_t n = ::send(h, data, length, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) return {Status::Ok, static_cast<std::size_t>(n)};
        int err = errno;
        if (err == EINTR) continue;
        return {status_from_errno(err), 0};
    }
}

void PosixNet::close(port::Handle h) {
    // No retry on EINTR: Linux has released the descriptor by then, and a
    // second close could hit a descriptor just reused by someone else.
    if (h >= 0) (void)::close(h);
}

void PosixNet::shutdown_write(port::Handle h) {
    // ENOTCONN (the peer already reset) leaves nothing to do; the read that
    // follows reports it.
    if (h >= 0) (void)::shutdown(h, SHUT_WR);
}

void PosixNet::acknowledge(port::Handle h) {
#ifdef TCP_QUICKACK
    // Linux: an acknowledgement the kernel has scheduled (delayed) goes out
    // now; none is sent if none is due. The option is not sticky.
    int one = 1;
    if (h >= 0) (void)::setsockopt(h, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
#else
    (void)h;
#endif
}

Result<std::uint16_t> PosixNet::local_port(port::Handle listener) {
    SocketAddress address;
    std::memset(&address, 0, sizeof(address));
    socklen_t length = sizeof(address);
    if (::getsockname(listener, &address.any, &length) != 0) {
        return Result<std::uint16_t>::failure(status_from_errno(errno));
    }
    if (address.any.sa_family == AF_INET) {
        return Result<std::uint16_t>::success(ntohs(address.v4.sin_port));
    }
    if (address.any.sa_family == AF_INET6) {
        return Result<std::uint16_t>::success(ntohs(address.v6.sin6_port));
    }
    return Result<std::uint16_t>::failure(Status::Invalid);
}

Status PosixNet::wait(port::WaitItem* items, std::size_t count, std::int32_t timeout_ms) {
    if (count > kMaxWaitItems) return Status::Exhausted;
    for (std::size_t i = 0; i < count; ++i) {
        short events = 0;
        if ((items[i].want & port::kWaitRead) != 0) events |= POLLIN;
        if ((items[i].want & port::kWaitWrite) != 0) events |= POLLOUT;
        // poll() skips negative descriptors, so kNoHandle items are inert.
        poll_fds_[i].fd = items[i].handle;
        poll_fds_[i].events = events;
        poll_fds_[i].revents = 0;
        items[i].got = 0;
    }

    struct timespec timeout;
    struct timespec* timeout_ptr = nullptr;
    if (timeout_ms >= 0) {
        timeout.tv_sec = timeout_ms / 1000;
        timeout.tv_nsec = static_cast<long>(timeout_ms % 1000) * 1000000L;
        timeout_ptr = &timeout;
    }
    int n = ::ppoll(poll_fds_, static_cast<nfds_t>(count), timeout_ptr, PosixSignals::wait_mask());
    if (n < 0) {
        int err = errno;
        if (err == EINTR) return Status::Interrupted;
        return status_from_errno(err);
    }
    for (std::size_t i = 0; i < count && n > 0; ++i) {
        if (poll_fds_[i].revents != 0) {
            items[i].got = got_from_revents(poll_fds_[i].revents);
            --n;
        }
    }
    return Status::Ok;
}

}  // namespace tinyimapd::posix
