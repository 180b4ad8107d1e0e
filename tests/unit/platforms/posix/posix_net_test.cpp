// platforms/posix/net_posix: real sockets on loopback, driven by plain client
// sockets. IPv6 cases are skipped (with a warning) where the machine or the
// emulator has no IPv6 loopback.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "platforms/posix/net_posix.h"
#include "platforms/posix/signals_posix.h"

using namespace tinyimapd;
using tinyimapd::posix::PosixNet;

namespace {

constexpr std::int32_t kPatienceMs = 5000;

std::uint64_t now_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000u +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000000u;
}

bool ipv6_loopback_available() {
    int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return false;
    struct sockaddr_in6 a = {};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bool ok = ::bind(fd, reinterpret_cast<struct sockaddr*>(&a), sizeof(a)) == 0;
    ::close(fd);
    return ok;
}

// A blocking client connected to the loopback address of `family`.
int connect_client(int family, std::uint16_t port) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    int rc;
    if (family == AF_INET) {
        struct sockaddr_in a = {};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&a), sizeof(a));
    } else {
        struct sockaddr_in6 a = {};
        a.sin6_family = AF_INET6;
        a.sin6_port = htons(port);
        a.sin6_addr = in6addr_loopback;
        rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&a), sizeof(a));
    }
    REQUIRE(rc == 0);
    return fd;
}

// Waits for the listener to become readable, then accepts.
port::Handle accept_one(PosixNet& net, port::Handle listener, port::PeerAddress* peer) {
    port::WaitItem item{listener, port::kWaitRead, 0};
    REQUIRE(net.wait(&item, 1, kPatienceMs) == Status::Ok);
    REQUIRE((item.got & port::kWaitRead) != 0);
    Result<port::Handle> conn = net.accept(listener, peer);
    REQUIRE(conn.status == Status::Ok);
    REQUIRE(conn.value >= 0);
    return conn.value;
}

// Waits until `h` is readable, then reads once.
port::IoResult wait_and_read(PosixNet& net, port::Handle h, std::uint8_t* out, std::size_t cap) {
    port::WaitItem item{h, port::kWaitRead, 0};
    REQUIRE(net.wait(&item, 1, kPatienceMs) == Status::Ok);
    REQUIRE(item.got != 0);
    return net.read(h, out, cap);
}

std::string client_read(int fd, std::size_t n) {
    std::string s(n, '\0');
    std::size_t done = 0;
    while (done < n) {
        ssize_t r = ::recv(fd, &s[done], n - done, 0);
        REQUIRE(r > 0);
        done += static_cast<std::size_t>(r);
    }
    return s;
}

// The whole conversation of one connection: both directions, WouldBlock when
// idle, readability from wait(), Eof after the client closes.
void exchange_bytes(PosixNet& net, port::Handle listener, int family, std::string_view peer_text) {
    Result<std::uint16_t> port_number = net.local_port(listener);
    REQUIRE(port_number.status == Status::Ok);
    REQUIRE(port_number.value != 0);

    int client = connect_client(family, port_number.value);
    port::PeerAddress peer;
    port::Handle conn = accept_one(net, listener, &peer);
    CHECK(peer.view() == peer_text);

    std::uint8_t buf[64];
    port::IoResult r = net.read(conn, buf, sizeof(buf));
    CHECK(r.status == Status::WouldBlock);

    // wait() with nothing to read times out with got == 0.
    port::WaitItem idle{conn, port::kWaitRead, 0xff};
    REQUIRE(net.wait(&idle, 1, 20) == Status::Ok);
    CHECK(idle.got == 0);

    const char hello[] = "a001 CAPABILITY\r\n";
    REQUIRE(::send(client, hello, sizeof(hello) - 1, 0) == static_cast<ssize_t>(sizeof(hello) - 1));
    std::string received;
    while (received.size() < sizeof(hello) - 1) {
        r = wait_and_read(net, conn, buf, sizeof(buf));
        if (r.status == Status::WouldBlock) continue;
        REQUIRE(r.status == Status::Ok);
        received.append(reinterpret_cast<const char*>(buf), r.bytes);
    }
    CHECK(received == "a001 CAPABILITY\r\n");

    const std::string reply = "* CAPABILITY IMAP4rev1\r\na001 OK done\r\n";
    r = net.write(conn, reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size());
    REQUIRE(r.status == Status::Ok);
    REQUIRE(r.bytes == reply.size());
    CHECK(client_read(client, reply.size()) == reply);

    ::close(client);
    r = wait_and_read(net, conn, buf, sizeof(buf));
    CHECK(r.status == Status::Eof);
    net.close(conn);
}

}  // namespace

TEST_CASE("PosixNet: 127.0.0.1:0 listens, accepts, exchanges bytes both ways, then Eof",
          "[posix][net]") {
    PosixNet net;
    Result<port::Handle> l = net.listen("127.0.0.1:0");
    REQUIRE(l.status == Status::Ok);
    exchange_bytes(net, l.value, AF_INET, "127.0.0.1");
    net.close(l.value);
}

TEST_CASE("PosixNet: [::1]:0 listens, accepts, exchanges bytes both ways, then Eof",
          "[posix][net]") {
    if (!ipv6_loopback_available()) {
        WARN("no IPv6 loopback here: skipped");
        return;
    }
    PosixNet net;
    Result<port::Handle> l = net.listen("[::1]:0");
    REQUIRE(l.status == Status::Ok);
    exchange_bytes(net, l.value, AF_INET6, "::1");
    net.close(l.value);
}

TEST_CASE("PosixNet: '*:0' accepts IPv4 clients and shows them as plain IPv4, not ::ffff:",
          "[posix][net]") {
    PosixNet net;
    Result<port::Handle> l = net.listen("*:0");
    REQUIRE(l.status == Status::Ok);
    exchange_bytes(net, l.value, AF_INET, "127.0.0.1");
    if (ipv6_loopback_available()) exchange_bytes(net, l.value, AF_INET6, "::1");
    net.close(l.value);
}

TEST_CASE("PosixNet: 'localhost:0' is accepted as 127.0.0.1", "[posix][net]") {
    PosixNet net;
    Result<port::Handle> l = net.listen("localhost:0");
    REQUIRE(l.status == Status::Ok);
    exchange_bytes(net, l.value, AF_INET, "127.0.0.1");
    net.close(l.value);
}

TEST_CASE("PosixNet: binding a port that is already listening gives AddrInUse", "[posix][net]") {
    PosixNet net;
    Result<port::Handle> first = net.listen("127.0.0.1:0");
    REQUIRE(first.status == Status::Ok);
    Result<std::uint16_t> p = net.local_port(first.value);
    REQUIRE(p.status == Status::Ok);
    std::string again = "127.0.0.1:" + std::to_string(p.value);
    Result<port::Handle> second = net.listen(again);
    CHECK(second.status == Status::AddrInUse);
    net.close(first.value);
}

TEST_CASE("PosixNet: malformed listen addresses give Invalid", "[posix][net]") {
    PosixNet net;
    const char* bad[] = {"nonsense",
                         "",
                         "127.0.0.1",
                         "127.0.0.1:",
                         ":143",
                         "1.2.3:143",
                         "256.1.1.1:143",
                         "127.0.0.1:65536",
                         "127.0.0.1:-1",
                         "::1:143",
                         "[::1]143",
                         "[::1",
                         "[::1]:",
                         "[]:143",
                         "[127.0.0.1]:143",
                         "[::1%]:143",
                         "[::1%nosuchif0]:143",
                         "example.com:143",
                         "127.0.0.1:14 3"};
    for (const char* text : bad) {
        INFO("address: '" << text << "'");
        Result<port::Handle> l = net.listen(text);
        CHECK(l.status == Status::Invalid);
        if (l.ok()) net.close(l.value);
    }
}

TEST_CASE("PosixNet: accept with no pending connection gives WouldBlock", "[posix][net]") {
    PosixNet net;
    Result<port::Handle> l = net.listen("127.0.0.1:0");
    REQUIRE(l.status == Status::Ok);
    port::PeerAddress peer;
    CHECK(net.accept(l.value, &peer).status == Status::WouldBlock);
    net.close(l.value);
}

TEST_CASE("PosixNet: wait() times out after timeout_ms with nothing ready", "[posix][net]") {
    PosixNet net;
    Result<port::Handle> l = net.listen("127.0.0.1:0");
    REQUIRE(l.status == Status::Ok);
    port::WaitItem items[2] = {{l.value, port::kWaitRead, 0xff},
                               {port::kNoHandle, port::kWaitRead, 0xff}};
    std::uint64_t start = now_ms();
    REQUIRE(net.wait(items, 2, 100) == Status::Ok);
    CHECK(now_ms() - start >= 90);
    CHECK(items[0].got == 0);
    CHECK(items[1].got == 0);  // kNoHandle is never ready
    net.close(l.value);
}

TEST_CASE("PosixNet: wait() reports a fresh connection writable and rejects too many items",
          "[posix][net]") {
    PosixNet net;
    Result<port::Handle> l = net.listen("127.0.0.1:0");
    REQUIRE(l.status == Status::Ok);
    int client = connect_client(AF_INET, net.local_port(l.value).value);
    port::PeerAddress peer;
    port::Handle conn = accept_one(net, l.value, &peer);

    port::WaitItem item{conn, port::kWaitRead | port::kWaitWrite, 0};
    REQUIRE(net.wait(&item, 1, kPatienceMs) == Status::Ok);
    CHECK(item.got == port::kWaitWrite);

    static port::WaitItem many[PosixNet::kMaxWaitItems + 1];
    CHECK(net.wait(many, PosixNet::kMaxWaitItems + 1, 0) == Status::Exhausted);

    ::close(client);
    net.close(conn);
    net.close(l.value);
}

TEST_CASE("PosixNet: write gives WouldBlock, not a blocked process, when the peer stops reading",
          "[posix][net]") {
    PosixNet net;
    Result<port::Handle> l = net.listen("127.0.0.1:0");
    REQUIRE(l.status == Status::Ok);
    int client = connect_client(AF_INET, net.local_port(l.value).value);
    int small = 4096;
    ::setsockopt(client, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    port::PeerAddress peer;
    port::Handle conn = accept_one(net, l.value, &peer);

    static std::uint8_t chunk[65536];
    std::size_t total = 0;
    port::IoResult r{Status::Ok, 0};
    // Bounded: socket buffers on loopback are a few MiB at most.
    for (int i = 0; i < 10000 && r.status == Status::Ok; ++i) {
        r = net.write(conn, chunk, sizeof(chunk));
        total += r.bytes;
    }
    CHECK(r.status == Status::WouldBlock);
    CHECK(total > 0);
    ::close(client);
    net.close(conn);
    net.close(l.value);
}

TEST_CASE("PosixNet: a reset peer gives Closed on read and write, and no SIGPIPE", "[posix][net]") {
    PosixNet net;
    Result<port::Handle> l = net.listen("127.0.0.1:0");
    REQUIRE(l.status == Status::Ok);
    int client = connect_client(AF_INET, net.local_port(l.value).value);
    port::PeerAddress peer;
    port::Handle conn = accept_one(net, l.value, &peer);

    // SO_LINGER with a zero timeout makes close() send RST.
    struct linger reset = {1, 0};
    REQUIRE(::setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset)) == 0);
    ::close(client);

    port::WaitItem item{conn, port::kWaitRead, 0};
    REQUIRE(net.wait(&item, 1, kPatienceMs) == Status::Ok);
    CHECK((item.got & (port::kWaitRead | port::kWaitHangup)) != 0);
    std::uint8_t buf[16];
    CHECK(net.read(conn, buf, sizeof(buf)).status == Status::Closed);
    // The error was consumed by the read; writing now hits EPIPE, which
    // would kill the test binary without MSG_NOSIGNAL.
    const std::uint8_t data[] = {'x'};
    port::IoResult w = net.write(conn, data, sizeof(data));
    CHECK(w.status == Status::Closed);
    net.close(conn);
    net.close(l.value);
}

TEST_CASE("PosixNet: a signal pending before wait() ends it with Interrupted (race-free)",
          "[posix][net][signals]") {
    REQUIRE(posix::PosixSignals::install() == Status::Ok);
    PosixNet net;
    Result<port::Handle> l = net.listen("127.0.0.1:0");
    REQUIRE(l.status == Status::Ok);
    port::WaitItem item{l.value, port::kWaitRead, 0};

    CHECK_FALSE(posix::PosixSignals::take_reload());
    CHECK_FALSE(posix::PosixSignals::take_terminate());

    // Blocked by install(): the signal stays pending until ppoll unblocks it.
    REQUIRE(::raise(SIGHUP) == 0);
    CHECK_FALSE(posix::PosixSignals::take_reload());
    std::uint64_t start = now_ms();
    CHECK(net.wait(&item, 1, kPatienceMs) == Status::Interrupted);
    CHECK(now_ms() - start < static_cast<std::uint64_t>(kPatienceMs));
    CHECK(posix::PosixSignals::take_reload());
    CHECK_FALSE(posix::PosixSignals::take_reload());
    CHECK_FALSE(posix::PosixSignals::take_terminate());

    REQUIRE(::raise(SIGTERM) == 0);
    CHECK(net.wait(&item, 1, kPatienceMs) == Status::Interrupted);
    CHECK(posix::PosixSignals::take_terminate());

    REQUIRE(::raise(SIGINT) == 0);
    CHECK(net.wait(&item, 1, kPatienceMs) == Status::Interrupted);
    CHECK(posix::PosixSignals::take_terminate());
    CHECK_FALSE(posix::PosixSignals::take_terminate());

    // With nothing pending the wait runs its course.
    CHECK(net.wait(&item, 1, 10) == Status::Ok);

    net.close(l.value);
    posix::PosixSignals::uninstall();
    CHECK(posix::PosixSignals::wait_mask() == nullptr);
}
