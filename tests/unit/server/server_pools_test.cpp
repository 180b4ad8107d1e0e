// Issue 13's shared pools, on the simulated server: what a session borrows
// from memory shared by all connections, and the answer when none is left
// (docs/STATUS.md "Known limits", docs/CONFIG.md).
#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;


TEST_CASE("Sessions on one mailbox share its open entry; one mailbox too many gets NO [LIMIT]",
          "[server][pools]") {
    World w(4, true, false, [](Config& c) { c.open_mailboxes = 2; });
    port::Handle a = login(w);
    port::Handle b = login(w);
    port::Handle c = login(w);
    CHECK(has(w.say(a, "c1 CREATE one\r\nc2 CREATE two\r\n"), "c2 OK"));
    CHECK(has(w.say(a, "s SELECT INBOX\r\n"), "s OK [READ-WRITE]"));
    CHECK(has(w.say(b, "s SELECT INBOX\r\n"), "s OK [READ-WRITE]"));  // the same entry
    CHECK(has(w.say(c, "s SELECT one\r\n"), "s OK [READ-WRITE]"));
    // Both entries are taken: a third mailbox is refused, clearly, and the
    // connection stays usable (RFC 5530 LIMIT).
    CHECK(has(w.say(b, "t SELECT two\r\n"), "t NO [LIMIT] Too many mailboxes open"));
    CHECK(has(w.say(b, "n NOOP\r\n"), "n OK"));
    // c gives its entry back: the mailbox can be opened now.
    CHECK(has(w.say(c, "u CLOSE\r\n"), "u OK"));
    CHECK(has(w.say(b, "v SELECT two\r\n"), "v OK [READ-WRITE]"));
    CHECK(has(w.say(a, "f FETCH 1:* FLAGS\r\nx NOOP\r\n"), "x OK"));
}

TEST_CASE("With every command block lent, a command waits whole and is answered once one is back",
          "[server][pools]") {
    World w(4, true, false, [](Config& c) { c.command_buffers = 1; });
    port::Handle a = login(w);
    port::Handle b = login(w);
    // a's STATUS, stopped inside its literal, holds the only block (its
    // bytes are parsed into it).
    CHECK(w.say(a, "s STATUS {5}\r\n") == "+ Ready for literal data\r\n");
    // b's pipelined commands wait in its input buffer: nothing is answered
    // yet, nothing is executed in part.
    CHECK(w.say(b, "n1 NOOP\r\nn2 CAPABILITY\r\nn3 NOOP\r\n").empty());
    w.run(8, 100);
    CHECK(w.net.client_receive(b).empty());
    // a's command ends: the block goes back and b's commands run, in order.
    CHECK(has(w.say(a, "INBOX (MESSAGES)\r\n"), "s OK"));
    w.run();
    const std::string got = w.net.client_receive(b);
    CHECK(got.find("n1 OK") < got.find("* CAPABILITY"));
    CHECK(got.find("n2 OK") < got.find("n3 OK"));
    CHECK(has(got, "n3 OK"));
}

TEST_CASE("A client in IDLE or trickling a partial line holds no command block",
          "[server][pools]") {
    World w(4, true, false, [](Config& c) { c.command_buffers = 1; });
    port::Handle a = login(w);
    port::Handle b = login(w);
    port::Handle c = login(w);
    CHECK(has(w.say(a, "s SELECT INBOX\r\n"), "s OK"));
    CHECK(has(w.say(a, "i IDLE\r\n"), "+ idling"));
    CHECK(w.say(c, "t1 NO").empty());  // a slow client: no end of line yet
    CHECK(has(w.say(b, "n NOOP\r\n"), "n OK"));
    CHECK(has(w.say(a, "DONE\r\n"), "i OK"));
    CHECK(has(w.say(c, "OP\r\n"), "t1 OK"));
}

TEST_CASE("A long FETCH answer holds its block until its last line; others wait, nothing is cut",
          "[server][pools]") {
    World w(4, true, false, [](Config& c) { c.command_buffers = 1; });
    port::Handle a = login(w);
    port::Handle b = login(w);
    const std::string body = "Subject: big\r\n\r\n" + std::string(200000, 'x') + "\r\n";
    CHECK(has(
        w.say_until_tagged(
            a, "p APPEND INBOX {" + std::to_string(body.size()) + "+}\r\n" + body + "\r\n", "p"),
        "p OK"));
    CHECK(has(w.say(a, "s SELECT INBOX\r\n"), "s OK"));
    // a asks for the message and reads slowly: its answer stays a job.
    w.net.faults(a).send_buffer = 4096;
    w.net.client_send(a, "f FETCH 1 BODY[]\r\n");
    w.run();
    CHECK(w.say(b, "n NOOP\r\n").empty());  // waits for the block
    std::string fetched;
    for (int i = 0; i < 400 && !has(fetched, "f OK"); ++i) {
        fetched += w.net.client_receive(a);
        w.run(1);
    }
    CHECK(has(fetched, "{" + std::to_string(body.size()) + "}\r\n" + body));
    CHECK(has(fetched, "\r\nf OK"));
    w.run();
    CHECK(has(w.net.client_receive(b), "n OK"));
}
