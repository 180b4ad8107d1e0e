// Tests of the simulated network (platforms/sim/sim_net.h).
#include <catch2/catch.hpp>

#include <string>

#include "platforms/sim/sim_net.h"

using tinyimapd::Status;
using tinyimapd::port::Handle;
using tinyimapd::port::kNoHandle;
using tinyimapd::port::kWaitHangup;
using tinyimapd::port::kWaitRead;
using tinyimapd::port::kWaitWrite;
using tinyimapd::port::PeerAddress;
using tinyimapd::port::WaitItem;
using tinyimapd::sim::SimClock;
using tinyimapd::sim::SimNet;

namespace {

struct Fixture {
    SimClock clock;
    SimNet net{clock};
    Handle listener = kNoHandle;
    Handle client = kNoHandle;
    Handle server = kNoHandle;

    Fixture() {
        auto l = net.listen("127.0.0.1:143");
        REQUIRE(l.ok());
        listener = l.value;
        client = net.connect("127.0.0.1:143");
        REQUIRE(client != kNoHandle);
        PeerAddress peer;
        auto a = net.accept(listener, &peer);
        REQUIRE(a.ok());
        server = a.value;
    }

    // Reads until WouldBlock/Eof/error; returns the bytes and the last status.
    std::string drain(Status* last, std::size_t chunk = 4096) {
        std::string got;
        std::uint8_t buf[4096];
        for (;;) {
            auto r = net.read(server, buf, chunk);
            if (r.status != Status::Ok) {
                *last = r.status;
                return got;
            }
            got.append(reinterpret_cast<const char*>(buf), r.bytes);
        }
    }

    tinyimapd::port::IoResult write(std::string_view s) {
        return net.write(server, reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    }
};

}  // namespace

TEST_CASE("SimNet listen: address syntax, AddrInUse, port 0", "[sim][net]") {
    SimClock clock;
    SimNet net(clock);
    CHECK(net.listen("127.0.0.1:143").ok());
    CHECK(net.listen("127.0.0.1:143").status == Status::AddrInUse);
    CHECK(net.listen("*:143").status == Status::AddrInUse);
    CHECK(net.listen("127.0.0.2:143").ok());
    CHECK(net.listen("[::1]:993").ok());
    CHECK(net.listen("*:110").ok());
    CHECK(net.listen("10.0.0.1:110").status == Status::AddrInUse);
    CHECK(net.listen("nocolon").status == Status::Invalid);
    CHECK(net.listen("host:").status == Status::Invalid);
    CHECK(net.listen(":143").status == Status::Invalid);
    CHECK(net.listen("host:65536").status == Status::Invalid);
    CHECK(net.listen("host:12a").status == Status::Invalid);
    CHECK(net.listen("::1:143").status == Status::Invalid);

    auto a = net.listen("127.0.0.1:0");
    auto b = net.listen("127.0.0.1:0");
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    auto pa = net.local_port(a.value);
    auto pb = net.local_port(b.value);
    REQUIRE(pa.ok());
    REQUIRE(pb.ok());
    CHECK(pa.value != 0);
    CHECK(pa.value != pb.value);
    CHECK(net.connect("127.0.0.1:" + std::to_string(pa.value)) != kNoHandle);
    CHECK(net.local_port(9999).status == Status::Invalid);
}

TEST_CASE("SimNet connect and accept, peer address, wildcard listener", "[sim][net]") {
    SimClock clock;
    SimNet net(clock);
    CHECK(net.connect("127.0.0.1:143") == kNoHandle);  // nobody listens
    auto l = net.listen("*:143");
    REQUIRE(l.ok());
    PeerAddress peer;
    CHECK(net.accept(l.value, &peer).status == Status::WouldBlock);

    Handle c1 = net.connect("127.0.0.1:143");
    Handle c2 = net.connect("10.1.2.3:143", "2001:db8::7");
    REQUIRE(c1 != kNoHandle);
    REQUIRE(c2 != kNoHandle);
    CHECK(net.server_handle(c1) == kNoHandle);

    auto s1 = net.accept(l.value, &peer);
    REQUIRE(s1.ok());
    CHECK(peer.view() == "192.0.2.1");
    CHECK(net.server_handle(c1) == s1.value);
    auto s2 = net.accept(l.value, &peer);
    REQUIRE(s2.ok());
    CHECK(peer.view() == "2001:db8::7");
    CHECK(s1.value != s2.value);
    CHECK(net.accept(l.value, &peer).status == Status::WouldBlock);
    CHECK(net.open_server_handles() == 2);

    net.fail_next_accept(Status::Exhausted);
    Handle c3 = net.connect("127.0.0.1:143");
    CHECK(net.accept(l.value, &peer).status == Status::Exhausted);
    CHECK(net.accept(l.value, &peer).ok());  // once only

    // Closing the listener refuses connections nobody accepted.
    Handle c4 = net.connect("127.0.0.1:143");
    net.close(l.value);
    CHECK(net.client_closed_by_server(c4));
    CHECK_FALSE(net.client_closed_by_server(c3));
    CHECK(net.accept(l.value, &peer).status == Status::Closed);
}

TEST_CASE("SimNet bytes flow both ways; Eof after client_close", "[sim][net]") {
    Fixture f;
    Status last = Status::Ok;
    CHECK(f.drain(&last).empty());
    CHECK(last == Status::WouldBlock);

    f.net.client_send(f.client, "a1 NOOP\r\n");
    f.net.client_send(f.client, "a2 LOGOUT\r\n");
    CHECK(f.net.unread_by_server(f.client) == 20);
    CHECK(f.drain(&last) == "a1 NOOP\r\na2 LOGOUT\r\n");
    CHECK(last == Status::WouldBlock);

    auto w = f.write("* OK hi\r\n");
    CHECK(w.status == Status::Ok);
    CHECK(w.bytes == 9);
    CHECK(f.net.unread_by_client(f.client) == 9);
    CHECK(f.net.client_receive(f.client) == "* OK hi\r\n");
    CHECK(f.net.client_receive(f.client).empty());

    f.net.client_send(f.client, "tail");
    f.net.client_close(f.client);
    CHECK(f.drain(&last) == "tail");  // queued bytes first
    CHECK(last == Status::Eof);
    std::uint8_t b[4];
    CHECK(f.net.read(f.server, b, 4).status == Status::Eof);
    CHECK(f.write("x").status == Status::Closed);

    CHECK_FALSE(f.net.client_closed_by_server(f.client));
    f.net.close(f.server);
    CHECK(f.net.client_closed_by_server(f.client));
    CHECK(f.net.server_handle(f.client) == kNoHandle);
    CHECK(f.net.read(f.server, b, 4).status == Status::Closed);
    CHECK(f.net.open_server_handles() == 0);
}

TEST_CASE("SimNet server close keeps written bytes for the client", "[sim][net]") {
    Fixture f;
    CHECK(f.write("* BYE\r\n").bytes == 7);
    f.net.close(f.server);
    CHECK(f.net.client_closed_by_server(f.client));
    CHECK(f.net.client_receive(f.client) == "* BYE\r\n");
    f.net.client_send(f.client, "dropped");
    CHECK(f.net.unread_by_server(f.client) == 0);
}

TEST_CASE("SimNet short reads and short writes", "[sim][net]") {
    Fixture f;
    f.net.faults(f.client).max_read = 3;
    f.net.faults(f.client).max_write = 4;
    f.net.client_send(f.client, "abcdefgh");
    std::uint8_t buf[16];
    auto r = f.net.read(f.server, buf, sizeof buf);
    CHECK(r.status == Status::Ok);
    CHECK(r.bytes == 3);
    CHECK(std::string(reinterpret_cast<char*>(buf), 3) == "abc");
    r = f.net.read(f.server, buf, 2);  // the caller's capacity is smaller
    CHECK(r.bytes == 2);
    r = f.net.read(f.server, buf, sizeof buf);
    CHECK(r.bytes == 3);
    CHECK(std::string(reinterpret_cast<char*>(buf), 3) == "fgh");

    auto w = f.write("0123456789");
    CHECK(w.status == Status::Ok);
    CHECK(w.bytes == 4);
    CHECK(f.net.client_receive(f.client) == "0123");
}

TEST_CASE("SimNet injected WouldBlock on the next N reads and writes", "[sim][net]") {
    Fixture f;
    f.net.client_send(f.client, "x");
    f.net.faults(f.client).would_block_reads = 2;
    f.net.faults(f.client).would_block_writes = 1;
    std::uint8_t buf[4];
    CHECK(f.net.read(f.server, buf, 4).status == Status::WouldBlock);
    CHECK(f.net.read(f.server, buf, 4).status == Status::WouldBlock);
    auto r = f.net.read(f.server, buf, 4);
    CHECK(r.status == Status::Ok);
    CHECK(r.bytes == 1);
    CHECK(f.write("y").status == Status::WouldBlock);
    CHECK(f.write("y").bytes == 1);
}

TEST_CASE("SimNet slow reader: a full send buffer pushes back", "[sim][net]") {
    Fixture f;
    f.net.faults(f.client).send_buffer = 10;
    auto w = f.write("0123456789abc");
    CHECK(w.status == Status::Ok);
    CHECK(w.bytes == 10);
    CHECK(f.write("abc").status == Status::WouldBlock);

    WaitItem item{f.server, kWaitWrite, 0};
    CHECK(f.net.wait(&item, 1, 0) == Status::Ok);
    CHECK(item.got == 0);

    CHECK(f.net.client_receive(f.client) == "0123456789");
    CHECK(f.net.wait(&item, 1, 0) == Status::Ok);
    CHECK(item.got == kWaitWrite);
    CHECK(f.write("abc").bytes == 3);
    CHECK(f.net.unread_by_client(f.client) == 3);
}

TEST_CASE("SimNet reset: Closed on every later op and hangup in wait", "[sim][net]") {
    Fixture f;
    f.net.client_send(f.client, "lost");
    f.net.reset(f.client);
    std::uint8_t buf[8];
    CHECK(f.net.read(f.server, buf, 8).status == Status::Closed);
    CHECK(f.write("x").status == Status::Closed);
    CHECK(f.net.read(f.server, buf, 8).status == Status::Closed);
    WaitItem item{f.server, kWaitRead, 0};
    CHECK(f.net.wait(&item, 1, 1000) == Status::Ok);
    CHECK((item.got & kWaitHangup) != 0);
    CHECK(f.clock.monotonic_ms() == 0);  // something was ready: no time passed
}

TEST_CASE("SimNet wait: readiness, clock on timeout, -1, Interrupted", "[sim][net]") {
    Fixture f;
    WaitItem items[3] = {{f.listener, kWaitRead, 0},
                         {f.server, kWaitRead | kWaitWrite, 0},
                         {kNoHandle, kWaitRead, 0}};

    SECTION("nothing to read: a timeout advances the clock") {
        items[1].want = kWaitRead;
        CHECK(f.net.wait(items, 3, 1500) == Status::Ok);
        CHECK(items[0].got == 0);
        CHECK(items[1].got == 0);
        CHECK(items[2].got == 0);
        CHECK(f.clock.monotonic_ms() == 1500);
        CHECK(f.net.wait(items, 3, 0) == Status::Ok);
        CHECK(f.clock.monotonic_ms() == 1500);
        // -1 returns at once with nothing ready instead of hanging.
        CHECK(f.net.wait(items, 3, -1) == Status::Ok);
        CHECK(items[1].got == 0);
        CHECK(f.clock.monotonic_ms() == 1500);
    }
    SECTION("ready items are reported and time does not move") {
        CHECK(f.net.wait(items, 3, 1000) == Status::Ok);
        CHECK(items[1].got == kWaitWrite);
        f.net.client_send(f.client, "x");
        CHECK(f.net.connect("127.0.0.1:143") != kNoHandle);
        CHECK(f.net.wait(items, 3, 1000) == Status::Ok);
        CHECK(items[0].got == kWaitRead);
        CHECK(items[1].got == (kWaitRead | kWaitWrite));
        CHECK(items[2].got == 0);
        CHECK(f.clock.monotonic_ms() == 0);
    }
    SECTION("client_close makes the server end readable (Eof)") {
        items[1].want = kWaitRead;
        f.net.client_close(f.client);
        CHECK(f.net.wait(items, 3, 1000) == Status::Ok);
        CHECK(items[1].got == kWaitRead);
    }
    SECTION("a closed handle reports hangup") {
        f.net.close(f.server);
        CHECK(f.net.wait(items, 3, 1000) == Status::Ok);
        CHECK((items[1].got & kWaitHangup) != 0);
    }
    SECTION("interrupt_next_wait: Interrupted once, nothing set, no time") {
        f.net.client_send(f.client, "x");
        f.net.interrupt_next_wait();
        CHECK(f.net.wait(items, 3, 1000) == Status::Interrupted);
        CHECK(items[1].got == 0);
        CHECK(f.clock.monotonic_ms() == 0);
        CHECK(f.net.wait(items, 3, 1000) == Status::Ok);
        CHECK((items[1].got & kWaitRead) != 0);
    }
    CHECK(f.net.wait_calls() >= 1);
}

TEST_CASE("SimNet client calls on unknown handles throw", "[sim][net]") {
    SimClock clock;
    SimNet net(clock);
    CHECK_THROWS(net.client_send(42, "x"));
    CHECK_THROWS(net.client_receive(42));
    CHECK_THROWS(net.faults(42));
}
