// SimNet: an in-memory, deterministic port::Net for whole-server tests.
//
// The server side sees the ordinary port::Net contract (non-blocking read and
// write, accept, wait); the test plays every client through connect(),
// client_send(), client_receive() and client_close(). No sockets, no threads,
// no real time: each connection is two byte queues (client->server and
// server->client), and wait() computes readiness from them.
//
// Contract details a test relies on:
// - Handles are small positive integers, never reused within one SimNet, shared
//   by listeners, server ends and client ends (so a stale handle never aliases).
// - listen() accepts "host:port", "[v6]:port" and "*:port"; listening twice on
//   the same port (or "*" and any host on that port) is AddrInUse; port 0 gets
//   an ephemeral port (local_port() tells which). connect("h:p") reaches an
//   exact "h:p" listener, else a "*:p" one.
// - Server read: WouldBlock while the client has sent nothing, Eof after
//   client_close() once every sent byte has been read, Closed after reset() or
//   on a handle the server has closed. Server write: Closed once the client has
//   closed or the connection was reset.
// - wait(): if some item is ready it returns Ok at once without moving time.
//   If none is ready and timeout_ms >= 0 it advances the SimClock by
//   timeout_ms and returns Ok with nothing ready. If none is ready and
//   timeout_ms is -1 it returns Ok at once with nothing ready: a real wait
//   would sleep forever, which in a single-threaded test is a hang, so the
//   loop under test gets control back and the test decides what happens next.
//   Readiness: a listener is readable with a pending connection; a server end
//   is readable with unread bytes or after client_close() (the read says Eof),
//   writable when the send buffer has room (always when the client has closed:
//   the write then says Closed); a reset connection or an unknown/closed handle
//   reports kWaitHangup (plus the wanted bits, like poll()'s POLLERR).
// - Like Linux, close() with bytes the server has not read resets the
//   connection: what the client had not received yet is lost
//   (client_was_reset()). shutdown_write() is a half close: the
//   client sees the end of the stream (client_closed_by_server()) and the
//   server can still read; its writes say Closed.
// Fault injection per connection (faults(client)): short reads and writes,
// WouldBlock on the next N reads/writes, a send-buffer capacity for slow
// readers; reset(); interrupt_next_wait(); fail_next_accept().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "platforms/sim/sim_clock.h"
#include "port/net.h"

namespace tinyimapd::sim {

// Faults of one connection, as seen by the server's end. Zero means "off".
struct ConnFaults {
    std::size_t max_read = 0;         // a server read returns at most this many bytes
    std::size_t max_write = 0;        // a server write accepts at most this many bytes
    unsigned would_block_reads = 0;   // the next N server reads return WouldBlock
    unsigned would_block_writes = 0;  // the next N server writes return WouldBlock
    std::size_t send_buffer = 0;      // max bytes written by the server and not yet
                                      // taken by client_receive(); full: WouldBlock
};

class SimNet final : public port::Net {
public:
    static constexpr std::string_view kDefaultPeer = "192.0.2.1";

    explicit SimNet(SimClock& clock) : clock_(clock) {}
    SimNet(const SimNet&) = delete;
    SimNet& operator=(const SimNet&) = delete;
    ~SimNet() = default;

    // port::Net
    Result<port::Handle> listen(std::string_view address_port) override;
    Result<port::Handle> accept(port::Handle listener, port::PeerAddress* peer) override;
    port::IoResult read(port::Handle h, std::uint8_t* out, std::size_t capacity) override;
    port::IoResult write(port::Handle h, const std::uint8_t* data, std::size_t length) override;
    void close(port::Handle h) override;
    void shutdown_write(port::Handle h) override;
    void acknowledge(port::Handle h) override;
    Result<std::uint16_t> local_port(port::Handle listener) override;
    Status wait(port::WaitItem* items, std::size_t count, std::int32_t timeout_ms) override;

    // The client side. A client handle is only valid with these calls; using an
    // unknown client handle throws std::invalid_argument (a bug in the test).
    //
    // Queues a connection on the listener of `address`; returns the client's
    // handle, or kNoHandle if nobody listens there. `peer` is what accept()
    // reports as the peer address.
    port::Handle connect(std::string_view address, std::string_view peer = kDefaultPeer);
    // Bytes for the server to read. Dropped once the server closed or on reset.
    void client_send(port::Handle client, std::string_view bytes);
    // Returns and removes everything the server has written so far.
    std::string client_receive(port::Handle client);
    // True once the server closed its end or shut down its sending side (or
    // closed its listener before accepting): the client reads end of stream.
    bool client_closed_by_server(port::Handle client) const;
    // True once the connection was reset (reset(), or the server closed it
    // with input unread).
    bool client_was_reset(port::Handle client) const;
    // The client hangs up: the server reads what is queued, then Eof.
    void client_close(port::Handle client);

    // Fault injection.
    ConnFaults& faults(port::Handle client);
    // The connection is reset (an RST): both queues are dropped, every later
    // server read/write returns Closed and wait() reports kWaitHangup.
    void reset(port::Handle client);
    // The next wait() returns Interrupted (as if a signal arrived), once.
    void interrupt_next_wait() { interrupt_next_wait_ = true; }
    // The next accept() fails with `status` (e.g. Exhausted for EMFILE), once.
    void fail_next_accept(Status status) { fail_next_accept_ = status; }

    // Inspection.
    // The server's handle for this client; kNoHandle until accepted and after
    // the server closed it.
    port::Handle server_handle(port::Handle client) const;
    // Bytes sent by the client that the server has not read yet.
    std::size_t unread_by_server(port::Handle client) const;
    // Bytes written by the server that the client has not received yet.
    std::size_t unread_by_client(port::Handle client) const;
    // Server ends accepted and not yet closed (a leak check for tests).
    std::size_t open_server_handles() const { return server_ends_.size(); }
    std::uint64_t wait_calls() const { return wait_calls_; }
    // acknowledge() calls for this client's connection.
    std::size_t acknowledgements(port::Handle client) const { return client_conn(client).acks; }
    // Called with the bytes of every server write, by the client's handle
    // (tests check what clients would receive, e.g. its framing).
    std::function<void(port::Handle client, std::string_view bytes)> on_write;

private:
    struct Listener {
        std::string host;
        std::uint16_t port = 0;
        std::vector<std::size_t> pending;  // indices into conns_, oldest first
    };
    struct Conn {
        port::Handle client = port::kNoHandle;
        port::Handle server = port::kNoHandle;
        std::string peer;
        std::string to_server;
        std::string to_client;
        bool client_closed = false;
        bool server_closed = false;
        bool write_shut = false;  // shutdown_write(): half closed
        bool reset = false;
        std::size_t acks = 0;  // acknowledge() calls
        ConnFaults faults;
    };

    Conn& client_conn(port::Handle client);
    const Conn& client_conn(port::Handle client) const;
    Conn* server_conn(port::Handle h);
    std::uint8_t readiness(const port::WaitItem& item);
    static void lose_to_reset(Conn& c);

    SimClock& clock_;
    port::Handle next_handle_ = 3;
    std::uint16_t next_ephemeral_port_ = 49152;
    std::map<port::Handle, Listener> listeners_;
    std::map<port::Handle, std::size_t> server_ends_;  // server handle -> conns_ index
    std::map<port::Handle, std::size_t> client_ends_;  // client handle -> conns_ index
    std::vector<Conn> conns_;
    bool interrupt_next_wait_ = false;
    Status fail_next_accept_ = Status::Ok;
    std::uint64_t wait_calls_ = 0;
};

}  // namespace tinyimapd::sim
