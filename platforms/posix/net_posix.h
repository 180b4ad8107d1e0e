// PosixNet: port::Net over BSD sockets and ppoll(), for Linux.
//
// Handles are socket descriptors, all non-blocking and close-on-exec.
// listen() takes "1.2.3.4:143", "[::1]:143" (also "[fe80::1%eth0]:143"),
// "*:143" or "localhost:143" (= 127.0.0.1); port 0 picks a free port (see
// local_port()). Names are never resolved: no getaddrinfo, which would
// allocate and may block on DNS. "*" is one dual-stack IPv6 socket
// (IPV6_V6ONLY=0 on ::) or, where the kernel has no IPv6, IPv4 0.0.0.0;
// an explicit IPv6 address is IPv6-only, so "[::]:143" and "0.0.0.0:143" can
// be configured side by side. Errors: AddrInUse, Permission (a port below
// 1024 without the privilege), Invalid (bad syntax, or an address this host
// does not have), Unsupported (no IPv6), Exhausted (out of descriptors).
//
// read/write never block: WouldBlock when nothing can move, Eof when the peer
// closed its side, Closed when the connection was reset (ECONNRESET, EPIPE).
// write() uses MSG_NOSIGNAL, so a dead peer never raises SIGPIPE. Accepted
// connections have TCP_NODELAY: the loop writes whole responses, and a
// response's last segment must not wait for the client's delayed ACK.
//
// wait() is ppoll() over the items with PosixSignals::wait_mask() (see
// signals_posix.h); it returns Interrupted when a signal ended it. It takes at
// most kMaxWaitItems items (Exhausted beyond): the pollfd array lives inside
// this object, so the server must configure max clients + listeners within it.
// No operation allocates memory.
#pragma once

#include <poll.h>

#include <cstddef>
#include <cstdint>

#include "port/net.h"

namespace tinyimapd::posix {

class PosixNet final : public port::Net {
public:
    // Listeners plus connections one wait() can watch. 8 bytes each.
    static constexpr std::size_t kMaxWaitItems = 1024;
    // Pending connections the kernel queues per listener.
    static constexpr int kListenBacklog = 128;

    Result<port::Handle> listen(std::string_view address_port) override;
    Result<port::Handle> accept(port::Handle listener, port::PeerAddress* peer) override;
    port::IoResult read(port::Handle h, std::uint8_t* out, std::size_t capacity) override;
    port::IoResult write(port::Handle h, const std::uint8_t* data, std::size_t length) override;
    void close(port::Handle h) override;
    void shutdown_write(port::Handle h) override;
    void acknowledge(port::Handle h) override;
    Result<std::uint16_t> local_port(port::Handle listener) override;
    Status wait(port::WaitItem* items, std::size_t count, std::int32_t timeout_ms) override;

private:
    struct pollfd poll_fds_[kMaxWaitItems];
};

}  // namespace tinyimapd::posix
