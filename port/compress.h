// port/compress.h — COMPRESS=DEFLATE (RFC 4978) for connections.
//
// A Compress object owns a fixed set of compression engines, all set up at
// startup (zlib on POSIX: one raw-DEFLATE stream pair each, its memory
// from a fixed arena per engine), so that compressing never grows memory
// beyond what was reserved. The server lends them to connections from a
// pool (core/session/compress_pool.h, `compress_sessions`).
//
// An engine does no I/O (BearSSL's shape): the loop reads the client's
// compressed bytes (from the socket, or from TLS: RFC 4978 §3 puts the
// deflate stream inside TLS) into input_space() and pulls inflated bytes out
// with inflate(); it pushes the session's output in with deflate() and sends
// output(). Memory stays bounded however the streams behave: inflate() never
// produces more than its caller's room (a decompression bomb waits inside
// the engine, at most one window), deflate() takes only what its output
// buffer has room for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/status.h"
#include "port/net.h"

namespace tinyimapd::port {

class CompressSession {
public:
    // A fresh pair of raw DEFLATE streams (RFC 1951, no zlib header: RFC
    // 4978 §4). Exhausted if the engine's memory cannot hold them.
    virtual Status start() = 0;
    // Where the client's next compressed bytes go (*room of them), and how
    // many were put there.
    virtual std::uint8_t* input_space(std::size_t* room) = 0;
    virtual void input_added(std::size_t n) = 0;
    // Inflated client bytes, at most `capacity`: Ok with bytes (> 0),
    // WouldBlock when it needs more input, Invalid for a corrupt stream
    // (sticky until start()).
    virtual IoResult inflate(std::uint8_t* out, std::size_t capacity) = 0;
    // Input not yet inflated, or inflated bytes that found no room: the loop
    // must not sleep on the socket while this is true.
    virtual bool input_pending() const = 0;
    // Compresses a prefix of `data` (IoResult.bytes: how much it took, as
    // much as its output has room for) and, once all of it is taken, ends
    // with a sync flush (Z_SYNC_FLUSH), so that the client can decode every
    // byte given so far: nothing is held back at the end of a burst. Call
    // with length 0 while deflate_pending() to finish a flush.
    virtual IoResult deflate(const std::uint8_t* data, std::size_t length) = 0;
    // The flush did not fit the output: call deflate() again once sent.
    virtual bool deflate_pending() const = 0;
    // Compressed bytes waiting to be sent, and how many were.
    virtual std::string_view output() const = 0;
    virtual void output_sent(std::size_t n) = 0;
    // Ends both streams; the engine is reusable (start() again).
    virtual void finish() = 0;

protected:
    ~CompressSession() = default;
};

class Compress {
public:
    // Engine number `slot` (0 <= slot < the count set up at startup), or
    // nullptr past the last one.
    virtual CompressSession* session(std::size_t slot) = 0;

protected:
    ~Compress() = default;
};

}  // namespace tinyimapd::port
