// port/tls.h — TLS for connections (STARTTLS, RFC 3501 §6.2.1 and RFC 2595;
// implicit TLS, RFC 8314).
//
// A Tls object owns a fixed set of TLS sessions (engines), all set up at
// startup (mbedTLS on POSIX: one SSL context each, reused with a session
// reset), so that serving TLS never grows memory beyond what was reserved.
// The server lends them to connections from a pool (core/session/tls_pool.h,
// `tls_sessions`, fewer than the slots).
// A TlsSession runs over a net port handle that is already connected and
// non-blocking: read() and write() move application bytes and drive the
// handshake as a side effect; they never block, and report WouldBlock when
// the socket must become readable or writable first (wants_write() says
// which direction the engine waits for).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/status.h"
#include "port/net.h"

namespace tinyimapd::port {

class TlsSession {
public:
    // Starts a server-side handshake on `handle` (after STARTTLS's tagged OK
    // has been flushed, or right after accept on an implicit-TLS listener).
    virtual Status start(Handle handle) = 0;
    // Decrypted bytes, as Net::read: Ok with bytes, WouldBlock, Eof (close
    // notify or peer closed), Closed/Error (handshake or record failure).
    virtual IoResult read(std::uint8_t* out, std::size_t capacity) = 0;
    // Encrypts and sends, as Net::write (may take fewer bytes).
    virtual IoResult write(const std::uint8_t* data, std::size_t length) = 0;
    // True while the engine needs the socket writable to make progress
    // (handshake messages or a record not yet fully sent).
    virtual bool wants_write() const = 0;
    // Decrypted bytes already buffered inside the engine: the loop must not
    // sleep in wait() while this is non-zero.
    virtual std::size_t pending() const = 0;
    virtual bool handshake_done() const = 0;
    // Sends close_notify if possible and makes the session reusable.
    virtual void finish() = 0;
    // The protocol and cipher suite, for logs ("TLSv1.2 ECDHE-...").
    virtual std::string_view description() const = 0;

protected:
    ~TlsSession() = default;
};

class Tls {
public:
    // Engine number `slot` (0 <= slot < the count set up at startup), or
    // nullptr past the last one or if TLS is not available.
    virtual TlsSession* session(std::size_t slot) = 0;

protected:
    ~Tls() = default;
};

}  // namespace tinyimapd::port
