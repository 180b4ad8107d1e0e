// port/net.h — the network porting interface.
//
// Everything core knows about sockets. All handles are non-blocking by
// contract: read and write never block, they return Status::WouldBlock.
// wait() is the only call that sleeps; it owns the readiness mechanism
// (poll() on POSIX, simulated time on the sim platform), like Redis's ae.c.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/status.h"

namespace tinyimapd::port {

using Handle = std::int32_t;
inline constexpr Handle kNoHandle = -1;

// Peer address as text, "192.0.2.1" or "2001:db8::1", for logs and limits.
struct PeerAddress {
    static constexpr std::size_t kCapacity = 48;
    char text[kCapacity] = {};
    std::size_t length = 0;
    std::string_view view() const { return {text, length}; }
};

struct IoResult {
    Status status;      // Ok, WouldBlock, Eof (peer closed), Closed/Error
    std::size_t bytes;  // bytes moved when status is Ok
};

enum WaitFlags : std::uint8_t {
    kWaitRead = 1,    // in `want`: wake when readable / acceptable
    kWaitWrite = 2,   // in `want`: wake when writable
    kWaitHangup = 4,  // only in `got`: peer hung up or the handle is in error
};

struct WaitItem {
    Handle handle = kNoHandle;
    std::uint8_t want = 0;
    std::uint8_t got = 0;  // set by wait()
};

class Net {
public:
    // Listen on "ipv4:port", "[ipv6]:port" or "*:port" (all IPv4 and IPv6
    // addresses) with SO_REUSEADDR. Status::AddrInUse, Permission or Invalid
    // on failure.
    virtual Result<Handle> listen(std::string_view address_port) = 0;
    // Accept one pending connection; WouldBlock if there is none.
    virtual Result<Handle> accept(Handle listener, PeerAddress* peer) = 0;
    // Read up to `capacity` bytes; WouldBlock if none are ready; Eof when the
    // peer closed. Never blocks.
    virtual IoResult read(Handle h, std::uint8_t* out, std::size_t capacity) = 0;
    // Write up to `length` bytes (may be fewer); WouldBlock if none fit now.
    virtual IoResult write(Handle h, const std::uint8_t* data, std::size_t length) = 0;
    virtual void close(Handle h) = 0;
    // Half close: no more bytes will be written (the peer reads end of
    // stream once it has everything sent before); reading goes on. For a
    // lingering close (core/server.cpp).
    virtual void shutdown_write(Handle h) = 0;
    // Acknowledge what was read now instead of delaying the acknowledgement.
    // Called when a command is known to be incomplete and nothing is sent
    // back meanwhile: a client that writes a literal and its closing CRLF
    // in two sends (Python's imaplib, many others) holds the CRLF back
    // (Nagle's algorithm) until the literal is acknowledged, and a delayed
    // acknowledgement costs it 40 ms per APPEND. A hint: no-op where the
    // transport has no such thing.
    virtual void acknowledge(Handle h) = 0;
    // The local port a listening handle is bound to (for port 0 listeners).
    virtual Result<std::uint16_t> local_port(Handle listener) = 0;
    // Sleep until one item is ready or timeout_ms passes (-1: no timeout).
    // Sets `got` on every item. Returns Ok (possibly with nothing ready on
    // timeout) or Interrupted when a signal cut the wait short.
    virtual Status wait(WaitItem* items, std::size_t count, std::int32_t timeout_ms) = 0;

protected:
    ~Net() = default;
};

}  // namespace tinyimapd::port
