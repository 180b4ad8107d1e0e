// Whole-server tests on the simulated platform: the loop (core/server) and
// the session (core/imap/session) driven by scripted clients over SimNet,
// with simulated time, short reads/writes and slow readers.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/server.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"
#include "platforms/sim/sim_log.h"
#include "platforms/sim/sim_net.h"

using namespace tinyimapd;

namespace {

constexpr const char* kAddress = "127.0.0.1:143";

struct World {
    sim::SimClock clock;
    sim::SimNet net{clock};
    sim::SimFs fs{&clock};
    sim::SimEntropy entropy{1};
    sim::SimLog log;
    port::Platform platform{net, fs, clock, entropy, log};
    Config cfg;
    std::vector<std::uint8_t> block;
    std::unique_ptr<Server> server;

    explicit World(std::uint32_t max_clients = 4, bool plaintext = true) {
        fs.write_file("passwd", "# users\nalice:{PLAIN}wonderland:1000:1000::/home/alice::\n");
        cfg.listen.items[0].assign(kAddress);
        cfg.listen.count = 1;
        cfg.passwd_file.assign("passwd");
        cfg.plaintext_auth = plaintext;
        cfg.max_clients = max_clients;
        cfg.login_fail_delay_ms = 2000;
        block.resize(Server::memory_needed(cfg));
        server = std::make_unique<Server>(platform, cfg, block.data(), block.size());
        REQUIRE(server->load_passwd() == Status::Ok);
        REQUIRE(server->open_listeners() == Status::Ok);
    }

    // Runs the loop until nothing is ready (each wait then advances time by
    // at most `step_ms`).
    void run(int turns = 8, std::int32_t step_ms = 0) {
        for (int i = 0; i < turns; ++i) (void)server->run_once(step_ms);
    }

    port::Handle connect() {
        port::Handle c = net.connect(kAddress);
        run();
        return c;
    }

    std::string say(port::Handle c, const std::string& bytes) {
        net.client_send(c, bytes);
        run();
        return net.client_receive(c);
    }
};

const std::string kGreeting = "* OK [CAPABILITY IMAP4rev1 LITERAL+] tinyimapd ready\r\n";

}  // namespace

TEST_CASE("RFC 3501 §7.1.1, §6.1: greeting, CAPABILITY, NOOP, LOGIN, LOGOUT byte for byte",
          "[server]") {
    World w;
    port::Handle c = w.connect();
    CHECK(w.net.client_receive(c) == kGreeting);
    CHECK(w.say(c, "a1 CAPABILITY\r\n") ==
          "* CAPABILITY IMAP4rev1 LITERAL+\r\na1 OK CAPABILITY completed\r\n");
    CHECK(w.say(c, "a2 NOOP\r\n") == "a2 OK NOOP completed\r\n");
    CHECK(w.say(c, "a3 LOGIN alice wonderland\r\n") ==
          "a3 OK [CAPABILITY IMAP4rev1 LITERAL+] Logged in\r\n");
    CHECK(w.say(c, "a4 LOGIN alice wonderland\r\n") ==
          "a4 BAD LOGIN is not valid in the authenticated state\r\n");
    CHECK(w.say(c, "a5 LOGOUT\r\n") == "* BYE tinyimapd logging out\r\na5 OK LOGOUT completed\r\n");
    CHECK(w.net.client_closed_by_server(c));
    CHECK(w.server->connection_count() == 0);
    CHECK(w.log.contains("login: user=alice address=192.0.2.1"));
}

TEST_CASE("RFC 3501 §6.2.3: LOGINDISABLED and LOGIN refused without plaintext_auth", "[server]") {
    World w(4, false);
    port::Handle c = w.connect();
    CHECK(w.net.client_receive(c) ==
          "* OK [CAPABILITY IMAP4rev1 LITERAL+ LOGINDISABLED] tinyimapd ready\r\n");
    CHECK(w.say(c, "a LOGIN alice wonderland\r\n") ==
          "a NO [PRIVACYREQUIRED] Plaintext authentication is disabled on this connection\r\n");
}

TEST_CASE("RFC 3501 §6.2.3: LOGIN syntax is two astrings", "[server]") {
    World w;
    port::Handle c = w.connect();
    w.net.client_receive(c);
    CHECK(w.say(c, "a LOGIN alice\r\n") == "a BAD Syntax: LOGIN userid password\r\n");
    CHECK(w.say(c, "a LOGIN alice (x)\r\n") == "a BAD Syntax: LOGIN userid password\r\n");
    CHECK(w.say(c, "a LOGIN al*ce x\r\n") == "a BAD Syntax: LOGIN userid password\r\n");
    CHECK(w.say(c, "a LOGIN \"alice\" {10}\r\n") == "+ Ready for literal data\r\n");
    CHECK(w.say(c, "wonderland\r\n") == "a OK [CAPABILITY IMAP4rev1 LITERAL+] Logged in\r\n");
}

TEST_CASE("Failed LOGIN: NO after the delay, other clients served meanwhile", "[server]") {
    World w;
    port::Handle slow = w.connect();
    port::Handle fast = w.connect();
    w.net.client_receive(slow);
    w.net.client_receive(fast);
    CHECK(w.say(slow, "x LOGIN alice queen\r\nx2 NOOP\r\n").empty());
    // Pipelined commands wait behind the delayed reply, in order.
    CHECK(w.say(fast, "y NOOP\r\n") == "y OK NOOP completed\r\n");
    w.clock.advance(1999);
    w.run();
    CHECK(w.net.client_receive(slow).empty());
    w.clock.advance(1);
    w.run();
    CHECK(w.net.client_receive(slow) ==
          "x NO [AUTHENTICATIONFAILED] Authentication failed\r\nx2 OK NOOP completed\r\n");
    CHECK(w.log.contains("login failed: user=alice address=192.0.2.1"));
}

TEST_CASE("Unknown commands get BAD; commands not built yet get NO, never OK", "[server]") {
    World w;
    port::Handle c = w.connect();
    w.net.client_receive(c);
    CHECK(w.say(c, "a FROB\r\n") == "a BAD Unknown command FROB\r\n");
    CHECK(w.say(c, "a SELECT INBOX\r\n") ==
          "a BAD SELECT is not valid in the not authenticated state\r\n");
    w.say(c, "b LOGIN alice wonderland\r\n");
    CHECK(w.say(c, "c select INBOX\r\n") ==
          "c NO [CANNOT] SELECT is not implemented in this version of tinyimapd\r\n");
    CHECK(w.say(c, "d NOOP extra\r\n") == "d BAD Unexpected extra arguments: extra\r\n");
    CHECK(w.say(c, "e FETCH 1 FLAGS\r\n") == "e BAD No mailbox selected\r\n");
}

TEST_CASE("Parse errors: tagged BAD when the tag is known, untagged otherwise", "[server]") {
    World w;
    port::Handle c = w.connect();
    w.net.client_receive(c);
    CHECK(w.say(c, "a+ NOOP\r\n") == "* BAD Invalid character in tag\r\n");
    CHECK(w.say(c, "a LOGIN {99999999}\r\n") == "a BAD [TOOBIG] Literal too large\r\n");
    CHECK(w.say(c, "b NOOP\r\n") == "b OK NOOP completed\r\n");
}

TEST_CASE("RFC 3501 §5.4: autologout before and after authentication", "[server]") {
    World w;
    port::Handle c = w.connect();
    w.net.client_receive(c);
    w.clock.advance(w.cfg.login_timeout * 1000u - 1);
    w.run();
    CHECK(w.net.client_receive(c).empty());
    w.clock.advance(1);
    w.run();
    CHECK(w.net.client_receive(c) == "* BYE Autologout; idle for too long\r\n");
    CHECK(w.net.client_closed_by_server(c));

    port::Handle d = w.connect();
    w.net.client_receive(d);
    w.say(d, "a LOGIN alice wonderland\r\n");
    w.clock.advance(1799 * 1000);
    w.run();
    CHECK(w.say(d, "b NOOP\r\n") == "b OK NOOP completed\r\n");  // activity resets the timer
    w.clock.advance(1800 * 1000);
    w.run();
    CHECK(w.net.client_receive(d) == "* BYE Autologout; idle for too long\r\n");
}

TEST_CASE("One connection over max_clients gets * BYE and is closed", "[server]") {
    World w(2);
    port::Handle a = w.connect();
    port::Handle b = w.connect();
    port::Handle c = w.connect();
    CHECK(w.net.client_receive(a) == kGreeting);
    CHECK(w.net.client_receive(b) == kGreeting);
    CHECK(w.net.client_receive(c) == "* BYE Too many connections, try again later\r\n");
    CHECK(w.net.client_closed_by_server(c));
    CHECK(w.server->connection_count() == 2);
    // A freed slot is reused.
    w.say(a, "x LOGOUT\r\n");
    port::Handle d = w.connect();
    CHECK(w.net.client_receive(d) == kGreeting);
}

TEST_CASE("Short reads and writes of one byte give the same conversation", "[server]") {
    World w;
    port::Handle c = w.net.connect(kAddress);
    w.net.faults(c).max_read = 1;
    w.net.faults(c).max_write = 1;
    w.run(200);
    CHECK(w.net.client_receive(c) == kGreeting);
    w.net.client_send(c, "a1 LOGIN {5+}\r\nalice \"wonderland\"\r\na2 LOGOUT\r\n");
    w.run(400);
    CHECK(w.net.client_receive(c) ==
          "a1 OK [CAPABILITY IMAP4rev1 LITERAL+] Logged in\r\n"
          "* BYE tinyimapd logging out\r\na2 OK LOGOUT completed\r\n");
}

TEST_CASE("A client that does not read: output stays bounded, input is not read", "[server]") {
    World w;
    port::Handle c = w.net.connect(kAddress);
    w.net.faults(c).send_buffer = 64;
    std::string pipelined;
    for (int i = 0; i < 2000; ++i) pipelined += "t" + std::to_string(i) + " NOOP\r\n";
    w.net.client_send(c, pipelined);
    w.run(50);
    // The session stopped taking input once its output buffer filled up.
    CHECK(w.net.unread_by_server(c) > 0);
    std::string all;
    for (int i = 0; i < 5000 && all.find("t1999 OK") == std::string::npos; ++i) {
        all += w.net.client_receive(c);
        w.run(1);
    }
    CHECK(all.find(kGreeting + "t0 OK") == 0);
    CHECK(all.find("t1999 OK NOOP completed\r\n") != std::string::npos);
}

TEST_CASE("Client reset and close free the slot", "[server]") {
    World w;
    port::Handle c = w.connect();
    w.net.client_send(c, "a LOGIN alice");
    w.run();
    w.net.reset(c);
    w.run();
    CHECK(w.server->connection_count() == 0);
    port::Handle d = w.connect();
    w.net.client_send(d, "a NOOP\r\n");
    w.net.client_close(d);  // a full close: the server's reply cannot be delivered
    w.run();
    CHECK(w.server->connection_count() == 0);
}

TEST_CASE("RFC 3501 §7.1.5: shutdown says BYE to every client", "[server]") {
    World w;
    port::Handle a = w.connect();
    port::Handle b = w.connect();
    w.net.client_receive(a);
    w.net.client_receive(b);
    w.say(b, "x LOGIN alice wonderland\r\n");
    w.server->begin_shutdown("Server shutting down");
    w.run();
    CHECK(w.net.client_receive(a) == "* BYE Server shutting down\r\n");
    CHECK(w.net.client_receive(b) == "* BYE Server shutting down\r\n");
    CHECK(w.server->connection_count() == 0);
    CHECK(w.net.connect(kAddress) == port::kNoHandle);  // no longer listening
}

TEST_CASE("A signal cuts the wait short", "[server]") {
    World w;
    w.net.interrupt_next_wait();
    CHECK(w.server->run_once(1000) == Status::Interrupted);
}

TEST_CASE("Reloading the passwd file (SIGHUP) swaps users; a bad file keeps the old ones",
          "[server]") {
    World w;
    w.fs.write_file("passwd", "bob:{PLAIN}builder\n");
    REQUIRE(w.server->load_passwd() == Status::Ok);
    port::Handle c = w.connect();
    w.net.client_receive(c);
    CHECK(w.say(c, "a LOGIN bob builder\r\n") ==
          "a OK [CAPABILITY IMAP4rev1 LITERAL+] Logged in\r\n");
    w.fs.write_file("passwd", "carol {PLAIN}no colon\n");
    CHECK(w.server->load_passwd() == Status::Invalid);
    port::Handle d = w.connect();
    w.net.client_receive(d);
    CHECK(w.say(d, "a LOGIN bob builder\r\n") ==
          "a OK [CAPABILITY IMAP4rev1 LITERAL+] Logged in\r\n");
}

TEST_CASE("Listening twice on one address reports AddrInUse and names it", "[server]") {
    World w;
    Config cfg2 = w.cfg;
    std::vector<std::uint8_t> block(Server::memory_needed(cfg2));
    Server second(w.platform, cfg2, block.data(), block.size());
    CHECK(second.open_listeners() == Status::AddrInUse);
    CHECK(second.failed_address() == kAddress);
}
