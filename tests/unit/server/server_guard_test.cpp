// Whole-server tests of what a hostile or careless client sends outside the
// ordinary command grammar (issue 20): over-long raw lines inside IDLE and
// AUTHENTICATE, long ID commands, a forced BYE to a client still sending.
#include <catch2/catch.hpp>

#include <string>

#include "core/base/version.h"
#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

TEST_CASE("RFC 2177 §3: an over-long line instead of DONE ends IDLE with a tagged BAD",
          "[server][guard]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "i IDLE\r\n") == "+ idling\r\n");
    // Longer than max_line_length (8192), sent in pieces, with what would
    // be a literal announcement in a command line: none of it is a command.
    const std::string part(5000, 'x');
    CHECK(w.say(c, part) == "");
    CHECK(w.say(c, part) == "i BAD [TOOBIG] Line too long while waiting for DONE; IDLE ended\r\n");
    CHECK(w.say(c, part + " {5+}\r\n") == "");
    // The next line is a new command; IDLE is over.
    CHECK(w.say(c, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    CHECK(w.say(c, "j IDLE\r\n") == "+ idling\r\n");
    CHECK(w.say(c, "DONE\r\n") == "j OK IDLE terminated\r\n");
}

TEST_CASE("RFC 3501 §6.2.2: an over-long AUTHENTICATE response cancels with a tagged BAD",
          "[server][guard]") {
    World w;
    port::Handle c = w.connect();
    w.net.client_receive(c);
    CHECK(w.say(c, "a AUTHENTICATE PLAIN\r\n") == "+ \r\n");
    const std::string big(10000, 'A');
    CHECK(w.say(c, big + "\r\n") ==
          "a BAD [TOOBIG] Authentication response too long; authentication cancelled\r\n");
    CHECK(w.say(c, "b NOOP\r\n") == "b OK NOOP completed\r\n");
    // The exchange is over: a valid response now is not taken as one.
    CHECK(w.say(c, "c AUTHENTICATE PLAIN\r\n") == "+ \r\n");
    CHECK(w.say(c, "AGFsaWNlAHdvbmRlcmxhbmQ=\r\n").find("c OK [CAPABILITY") == 0);
}

namespace {

enum class IdForm { Quoted, Literal, LiteralPlus };

// RFC 2971 §3.3's largest ID: 30 pairs, 30-octet fields, 1024-octet values
// (the first pair is "name").
std::string largest_id(const std::string& tag, IdForm form = IdForm::Quoted, std::size_t pairs = 30,
                       std::size_t value = 1024) {
    std::string cmd = tag + " ID (";
    for (std::size_t i = 0; i < pairs; ++i) {
        std::string field = i == 0 ? "name" : "field" + std::to_string(i);
        if (i != 0) field.resize(30, 'f');
        std::string text = (i == 0 ? "client" : "") + std::string(value, 'v');
        text.resize(value);
        if (i != 0) cmd += ' ';
        cmd += '"' + field + "\" ";
        if (form == IdForm::Quoted) {
            cmd += '"' + text + '"';
        } else {
            cmd += "{" + std::to_string(value) + (form == IdForm::LiteralPlus ? "+" : "") +
                   "}\r\n" + text;
        }
    }
    return cmd + ")\r\n";
}

const std::string kIdAnswer =
    "* ID (\"name\" \"tinyimapd\" \"version\" \"" + std::string(kServerVersion) + "\")\r\n";

std::string count_of(const std::string& all, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = all.find(what); at != std::string::npos; at = all.find(what, at + 1)) {
        ++n;
    }
    return std::to_string(n);
}

}  // namespace

TEST_CASE("RFC 2971 §3.3: the largest ID, quoted, is answered", "[server][guard]") {
    World w;
    port::Handle c = w.connect();
    w.net.client_receive(c);
    const std::string id = largest_id("t");
    REQUIRE(id.size() > w.cfg.max_line_length);
    CHECK(w.say(c, id) == kIdAnswer + "t OK ID completed\r\n");
    // In pieces too (the parser resumes anywhere).
    for (std::size_t i = 0; i < id.size(); i += 997) w.net.client_send(c, id.substr(i, 997));
    CHECK(w.say(c, "n NOOP\r\n") == kIdAnswer + "t OK ID completed\r\nn OK NOOP completed\r\n");
    // Logged: the head of the client's name.
    CHECK(w.log.contains("client id: clientvvv"));
}

TEST_CASE("RFC 2971 §3.3, RFC 7888: the largest ID with literals of either kind",
          "[server][guard]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, largest_id("t", IdForm::LiteralPlus)) == kIdAnswer + "t OK ID completed\r\n");
    // Synchronizing: a "+" for each literal (the sim client sends without
    // waiting, which the server cannot tell apart), then the answer.
    const std::string out = w.say_until_tagged(c, largest_id("u", IdForm::Literal), "u");
    CHECK(count_of(out, "+ Ready for literal data\r\n") == "30");
    CHECK(out.find(kIdAnswer + "u OK ID completed\r\n") != std::string::npos);
    CHECK(w.say_until_tagged(c, "n NOOP\r\n", "n") == "n OK NOOP completed\r\n");
}

TEST_CASE("RFC 2971 §3.3: an ID past the limits gets a tagged BAD; the connection goes on",
          "[server][guard]") {
    World w;
    port::Handle c = login(w);
    SECTION("31 pairs") {
        CHECK(w.say_until_tagged(c, largest_id("t", IdForm::Quoted, 31), "t") ==
              "t BAD ID field or value too long, or too many pairs\r\n");
    }
    SECTION("a quoted value of 1025 octets") {
        CHECK(w.say(c, largest_id("t", IdForm::Quoted, 2, 1025)) ==
              "t BAD ID string longer than 1024 octets\r\n");
    }
    SECTION("a literal value of 1025 octets") {
        CHECK(w.say(c, largest_id("t", IdForm::LiteralPlus, 2, 1025)) ==
              "t BAD [TOOBIG] Literal too large\r\n");
    }
    SECTION("a line over 64 KiB") {
        std::string id = "t ID (\"name\" \"x\"";
        while (id.size() <= imap::kIdMaxLine) id += " \"f\" \"" + std::string(1000, 'v') + '"';
        CHECK(w.say_until_tagged(c, id + ")\r\n", "t") ==
              "t BAD [TOOBIG] Command line too long\r\n");
    }
    SECTION("another command's line stays at max_line_length") {
        CHECK(w.say(c, "t NOOP \"" + std::string(9000, 'v') + "\"\r\n") ==
              "t BAD [TOOBIG] Command line too long\r\n");
    }
    CHECK(w.say_until_tagged(c, "n NOOP\r\n", "n") == "n OK NOOP completed\r\n");
}

TEST_CASE("RFC 3501 §7.1.5: a forced BYE reaches a client that keeps sending (lingering close)",
          "[server][guard]") {
    World w(1);
    port::Handle c = w.connect();
    w.net.client_receive(c);
    // The third failure ends the session; the client has pipelined more.
    std::string got = w.say(c,
                            "a LOGIN alice x\r\nb LOGIN alice x\r\nc LOGIN alice x\r\n"
                            "d NOOP\r\ne NOOP\r\n");
    for (int i = 0; i < 20 && got.find("* BYE") == std::string::npos; ++i) {
        w.clock.advance(1000);
        w.run();
        got += w.net.client_receive(c);
    }
    CHECK(got.find("c NO [AUTHENTICATIONFAILED] Authentication failed\r\n"
                   "* BYE Too many failed login attempts\r\n") != std::string::npos);
    CHECK(w.net.client_closed_by_server(c));  // end of stream: our side is shut down
    // The client, not yet reading, goes on sending: the server reads and
    // discards it instead of closing with unread input (a reset that would
    // destroy the BYE in flight).
    for (int i = 0; i < 5; ++i) {
        w.net.client_send(c, "f NOOP\r\n");
        w.clock.advance(300);
        w.run();
        CHECK_FALSE(w.net.client_was_reset(c));
        CHECK(w.net.unread_by_server(c) == 0);
    }
    // The lingering slot still counts as used.
    CHECK(w.server->connection_count() == 1);
    port::Handle d = w.connect();
    CHECK(w.net.client_receive(d) == "* BYE Too many connections, try again later\r\n");
    // Bounded: 2 s after the BYE the connection is closed, sending or not.
    w.net.client_send(c, "g NOOP\r\n");
    w.clock.advance(1000);
    w.run();
    CHECK(w.server->connection_count() == 0);
    CHECK(w.net.server_handle(c) == port::kNoHandle);
}

TEST_CASE("Lingering close ends as soon as the client closes its end", "[server][guard]") {
    World w(1);
    port::Handle c = w.connect();
    w.net.client_receive(c);
    CHECK(w.say(c, "a LOGOUT\r\nb NOOP\r\n") ==
          "* BYE tinyimapd logging out\r\na OK LOGOUT completed\r\n");
    CHECK(w.server->connection_count() == 1);
    w.net.client_close(c);
    w.run();
    CHECK(w.server->connection_count() == 0);
    CHECK_FALSE(w.net.client_was_reset(c));
    port::Handle d = w.connect();
    CHECK(w.net.client_receive(d) == kGreeting);
}

TEST_CASE("Without a lingering close the simulated network resets (the test can fail)",
          "[server][guard]") {
    World w(1);
    port::Handle c = w.connect();
    w.net.client_receive(c);
    w.net.client_send(c, "unread");
    w.net.close(w.net.server_handle(c));
    CHECK(w.net.client_was_reset(c));
    CHECK(w.net.client_receive(c).empty());
}

TEST_CASE("RFC 3501 §7.1.5: at shutdown a lingering close lasts 300 ms at most",
          "[server][guard]") {
    World w(2);
    port::Handle a = w.connect();
    port::Handle b = w.connect();
    w.net.client_receive(a);
    w.net.client_receive(b);
    w.say(a, "x LOGOUT\r\n");  // lingering already
    w.server->begin_shutdown("Server shutting down");
    w.run();
    CHECK(w.net.client_receive(b) == "* BYE Server shutting down\r\n");
    CHECK(w.server->connection_count() == 2);
    w.clock.advance(300);
    w.run();
    CHECK(w.server->connection_count() == 0);
}

TEST_CASE(
    "An idling session outrun by this server's own mass expunge is told of "
    "every expunge as it happens (RFC 2177), not ended",
    "[server][guard]") {
    World w;
    port::Handle c = login(w);
    port::Handle x = login(w);
    std::string appends;
    for (int i = 0; i < 1100; ++i) appends += "p APPEND INBOX (\\Deleted) {1+}\r\nx\r\n";
    w.say_until_tagged(c, appends + "q NOOP\r\n", "q");
    CHECK(w.say(x, "s SELECT INBOX\r\n").find("* 1100 EXISTS") != std::string::npos);
    CHECK(w.say(x, "i IDLE\r\n") == "+ idling\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say_until_tagged(c, "e EXPUNGE\r\n", "e").find("e OK EXPUNGE completed") !=
          std::string::npos);
    std::string told;
    for (int i = 0; i < 20; ++i) {
        w.clock.advance(1000);
        w.run();
        told += w.net.client_receive(x);
    }
    std::size_t lines = 0;
    for (std::size_t p = told.find(" EXPUNGE\r\n"); p != std::string::npos;
         p = told.find(" EXPUNGE\r\n", p + 1)) {
        ++lines;
    }
    CHECK(lines == 1100);
    CHECK(told.find("BYE") == std::string::npos);
    CHECK(w.say(x, "DONE\r\n") == "i OK IDLE terminated\r\n");
}

TEST_CASE("RFC 3501 §7.1.5, §4.3: shutdown in the middle of a FETCH literal puts no BYE inside it",
          "[server][guard]") {
    World w;
    port::Handle c = login(w);
    const std::string body(1000000, 'x');
    CHECK(
        w.say_until_tagged(c, "p APPEND INBOX {1000000+}\r\n" + body + "\r\n", "p").find("p OK") ==
        0);
    w.say(c, "s SELECT INBOX\r\n");
    // A client that reads fast: the output buffer is empty between turns
    // while the literal is far from done.
    w.net.client_send(c, "f FETCH 1 BODY[]\r\n");
    (void)w.server->run_once(0);
    (void)w.server->run_once(0);
    std::string got = w.net.client_receive(c);
    REQUIRE(got.find("{1000000}\r\n") != std::string::npos);
    REQUIRE(got.size() < body.size());
    w.server->begin_shutdown("Server shutting down");
    for (int i = 0; i < 50; ++i) {
        w.clock.advance(100);
        w.run();
        got += w.net.client_receive(c);
    }
    // The literal's bytes are never interrupted; the connection just ends.
    CHECK(got.find("* BYE") == std::string::npos);
    const std::size_t start = got.find("{1000000}\r\n") + 11;
    CHECK(got.find_first_not_of('x', start) == std::string::npos);
    CHECK(w.server->connection_count() == 0);
}
