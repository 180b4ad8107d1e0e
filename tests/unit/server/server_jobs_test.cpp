// Long commands as resumable jobs on the simulated platform (DESIGN.md: no
// work that grows with the mailbox in one turn of the loop): COPY/MOVE
// (RFC 3501 §6.4.7, RFC 6851), STORE (§6.4.6) and SEARCH (§6.4.4) run in
// bounded steps while other clients are answered, stay all-or-nothing, and
// wait for a mailbox another session holds instead of failing.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

void append(World& w, port::Handle c, const std::string& message,
            const std::string& box = "INBOX") {
    w.net.client_send(
        c, "p APPEND " + box + " {" + std::to_string(message.size()) + "+}\r\n" + message + "\r\n");
    std::string r;
    for (int i = 0;
         i < 100000 && r.find("p OK") == std::string::npos && r.find("p NO") == std::string::npos;
         ++i) {
        w.run(1);
        r += w.net.client_receive(c);
    }
    INFO(r);
    REQUIRE(r.find("p OK") != std::string::npos);
}

bool tagged_in(const std::string& all, const std::string& tag) {
    for (const char* status : {" OK", " NO", " BAD"}) {
        const std::string line = tag + status;
        if (all.compare(0, line.size(), line) == 0 || all.find("\n" + line) != std::string::npos) {
            return true;
        }
    }
    return false;
}

// Runs the loop one turn at a time until `tag` is answered on `c`; returns
// what `c` received and sets *turns to the number of turns it took.
std::string run_until_tagged(World& w, port::Handle c, const std::string& tag, int* turns,
                             std::string all = {}) {
    *turns = 0;
    while (!tagged_in(all, tag) && *turns < 100000) {
        w.run(1);
        ++*turns;
        all += w.net.client_receive(c);
    }
    return all;
}

// Sends `command` (tagged `tag`) on `a`, runs one loop turn, then a NOOP on
// `b`: the NOOP is answered while `a`'s command is still running. Returns
// `a`'s whole answer; *turns counts the loop turns it took after the NOOP.
std::string noop_served_meanwhile(World& w, port::Handle a, port::Handle b,
                                  const std::string& command, const std::string& tag, int* turns) {
    w.net.client_send(a, command);
    w.run(1);
    std::string got = w.net.client_receive(a);
    CHECK(got.find(tag + " OK") == std::string::npos);  // still running
    w.net.client_send(b, "n NOOP\r\n");
    w.run(1);
    CHECK(w.net.client_receive(b) == "n OK NOOP completed\r\n");
    got += w.net.client_receive(a);
    CHECK(got.find(tag + " OK") == std::string::npos);  // the NOOP's answer came first
    return run_until_tagged(w, a, tag, turns, got);
}

// INBOX with `count` messages of about `size` bytes, by COPY doubling.
void fill_inbox(World& w, port::Handle c, std::uint32_t count, std::size_t size) {
    append(w, c, "Subject: filler\r\n\r\n" + std::string(size, 'f') + "\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    std::uint32_t have = 1;
    while (have < count) {
        const std::uint32_t take = have * 2 <= count ? have : count - have;
        const std::string r =
            w.say_until_tagged(c, "f COPY 1:" + std::to_string(take) + " INBOX\r\n", "f");
        REQUIRE(r.find("f OK") != std::string::npos);
        have += take;
    }
    const std::string r = w.say(c, "n STATUS INBOX (MESSAGES)\r\n");
    REQUIRE(r.find("(MESSAGES " + std::to_string(count) + ")") != std::string::npos);
}

}  // namespace

TEST_CASE(
    "RFC 3501 §6.4.7: a 1000-message COPY runs in steps; another client is answered "
    "meanwhile, and the copy is whole when OK comes",
    "[server][jobs]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    fill_inbox(w, a, 1000, 10000);  // 10 MB: a few turns' work
    REQUIRE(create_ok(w.say(a, "c CREATE Dest\r\n"), "c"));
    w.net.client_send(a, "c COPY 1:1000 Dest\r\n");
    w.run(1);
    std::string got = w.net.client_receive(a);
    CHECK(got.find("c OK") == std::string::npos);  // still copying
    // Nothing is visible before the commit (all or nothing).
    w.net.client_send(b, "t STATUS Dest (MESSAGES)\r\n");
    w.run(1);
    CHECK(w.net.client_receive(b) == "* STATUS Dest (MESSAGES 0)\r\nt OK STATUS completed\r\n");
    w.net.client_send(b, "n NOOP\r\n");
    w.run(1);
    CHECK(w.net.client_receive(b) == "n OK NOOP completed\r\n");
    got += w.net.client_receive(a);
    CHECK(got.find("c OK") == std::string::npos);  // the NOOP's answer came first
    int turns = 0;
    got = run_until_tagged(w, a, "c", &turns, got);
    INFO("loop turns after the NOOP: " << turns);
    CHECK(turns >= 1);
    CHECK(got.find("c OK [COPYUID ") != std::string::npos);
    CHECK(got.find(" 1:1000 1:1000] COPY completed\r\n") != std::string::npos);
    CHECK(w.say(b, "t STATUS Dest (MESSAGES)\r\n") ==
          "* STATUS Dest (MESSAGES 1000)\r\nt OK STATUS completed\r\n");
}

TEST_CASE("RFC 3501 §6.4.7: a COPY cut short by a server shutdown keeps nothing",
          "[server][jobs]") {
    World w;
    port::Handle a = login(w);
    fill_inbox(w, a, 256, 20000);
    REQUIRE(create_ok(w.say(a, "c CREATE Dest\r\n"), "c"));
    w.net.client_send(a, "c COPY 1:* Dest\r\n");
    w.run(1);
    CHECK(w.net.client_receive(a).find("c OK") == std::string::npos);
    w.server->begin_shutdown("Server shutting down");
    for (int i = 0; i < 100 && w.server->connection_count() > 0; ++i) {
        w.clock.advance(100);  // the closing connection lingers (issue 20.11)
        w.run(1);
    }
    CHECK(w.server->connection_count() == 0);
    const std::string last = w.net.client_receive(a);
    CHECK(last.find("* BYE Server shutting down") != std::string::npos);
    CHECK(last.find("c OK") == std::string::npos);
    // A new server on the same files: the copy never happened, Dest is free.
    w.server->close_all();
    w.server = std::make_unique<Server>(w.platform, w.cfg, w.block.data(), w.block.size());
    REQUIRE(w.server->load_passwd() == Status::Ok);
    REQUIRE(w.server->open_listeners() == Status::Ok);
    port::Handle b = login(w);
    CHECK(w.say(b, "t STATUS Dest (MESSAGES UIDNEXT)\r\n") ==
          "* STATUS Dest (MESSAGES 0 UIDNEXT 1)\r\nt OK STATUS completed\r\n");
    append(w, b, "Subject: after\r\n\r\nok\r\n", "Dest");
}

TEST_CASE(
    "RFC 3501 §6.4.6: a STORE over 3000 messages runs in steps, another client answered "
    "meanwhile",
    "[server][jobs]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    fill_inbox(w, a, 3000, 10);
    int turns = 0;
    const std::string got =
        noop_served_meanwhile(w, a, b, "s STORE 1:* +FLAGS.SILENT (\\Deleted)\r\n", "s", &turns);
    CHECK(got == "s OK STORE completed\r\n");
    CHECK(w.say(a, "x SEARCH UNDELETED\r\n") == "* SEARCH\r\nx OK SEARCH completed\r\n");
}

TEST_CASE(
    "RFC 3501 §6.4.6: a STORE waits while another session's COPY holds the mailbox, "
    "then succeeds",
    "[server][jobs]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    fill_inbox(w, a, 128, 30000);
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    // a copies INBOX into INBOX: its transaction holds INBOX for many turns.
    w.net.client_send(a, "c COPY 1:* INBOX\r\n");
    w.run(1);
    CHECK(w.net.client_receive(a).find("c OK") == std::string::npos);
    w.net.client_send(b, "t STORE 1 +FLAGS (\\Flagged)\r\n");
    int turns = 0;
    const std::string got = run_until_tagged(w, b, "t", &turns);
    CHECK(got.find("t OK STORE completed\r\n") != std::string::npos);
    CHECK(got.find("* 1 FETCH (FLAGS (\\Flagged))") != std::string::npos);
    std::string copied = run_until_tagged(w, a, "c", &turns);
    CHECK(copied.find("c OK [COPYUID") != std::string::npos);
}

TEST_CASE(
    "RFC 3501 §6.4.8: UID STORE and UID FETCH over a sparse UID set find each range by "
    "binary search",
    "[server][jobs]") {
    World w;
    port::Handle a = login(w);
    fill_inbox(w, a, 2048, 10);
    // UIDs 1..2048; the set reaches far past them and has holes.
    const std::string r =
        w.say_until_tagged(a, "u UID STORE 5,2000:2002,100000:* +FLAGS (\\Seen)\r\n", "u");
    CHECK(r ==
          "* 5 FETCH (FLAGS (\\Seen \\Recent) UID 5)\r\n"
          "* 2000 FETCH (FLAGS (\\Seen \\Recent) UID 2000)\r\n"
          "* 2001 FETCH (FLAGS (\\Seen \\Recent) UID 2001)\r\n"
          "* 2002 FETCH (FLAGS (\\Seen \\Recent) UID 2002)\r\n"
          "* 2048 FETCH (FLAGS (\\Seen \\Recent) UID 2048)\r\n"
          "u OK STORE completed\r\n");
    CHECK(w.say(a, "f UID FETCH 3:6,3000 (FLAGS)\r\n") ==
          "* 3 FETCH (UID 3 FLAGS (\\Recent))\r\n* 4 FETCH (UID 4 FLAGS (\\Recent))\r\n"
          "* 5 FETCH (UID 5 FLAGS (\\Seen \\Recent))\r\n"
          "* 6 FETCH (UID 6 FLAGS (\\Recent))\r\n"
          "f OK FETCH completed\r\n");
}

TEST_CASE(
    "RFC 3501 §6.4.4: SEARCH BODY through a 20 MB message reads it in steps; another "
    "client is answered before the SEARCH's OK",
    "[server][jobs][search]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    append(w, a, "Subject: small\r\n\r\nnothing here\r\n");
    std::string body;
    body.reserve(20u << 20);
    const std::string line(998, 'x');
    while (body.size() < (20u << 20)) body += line + "\r\n";
    append(w, a,
           "Subject: big\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
           "Content-Type: text/plain\r\n\r\n" +
               body + "needle\r\n--zz--\r\n");
    append(w, a, "Subject: after\r\n\r\nneedle too\r\n");
    w.say(a, "s SELECT INBOX\r\n");
    int turns = 0;
    const std::string got = noop_served_meanwhile(w, a, b, "s SEARCH BODY needle\r\n", "s", &turns);
    INFO("loop turns after the NOOP: " << turns);
    // 40 MB read (the boundary scan, then the decoding), 8 steps of 256 KiB
    // per turn: about 20 turns.
    CHECK(turns >= 10);
    CHECK(got == "* SEARCH 2 3\r\ns OK SEARCH completed\r\n");
}

TEST_CASE(
    "RFC 3501 §6.4.3: EXPUNGE of 65536 messages in steps; a bystander's NOOP is answered "
    "meanwhile, and a session 65536 expunges behind learns them all without BYE",
    "[server][jobs][expunge]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    port::Handle lag = login(w);
    fill_inbox(w, a, 65536, 10);
    int turns = 0;
    std::string got =
        run_until_tagged(w, a, "d", &turns, w.say(a, "d STORE 1:* +FLAGS.SILENT (\\Deleted)\r\n"));
    REQUIRE(got.find("d OK STORE completed") != std::string::npos);
    REQUIRE(w.say(lag, "s SELECT INBOX\r\n").find("* 65536 EXISTS") != std::string::npos);
    got = noop_served_meanwhile(w, a, b, "e EXPUNGE\r\n", "e", &turns);
    INFO("loop turns after the NOOP: " << turns);
    CHECK(turns >= 8);
    std::size_t reported = 0;
    for (std::size_t p = got.find(" EXPUNGE\r\n"); p != std::string::npos;
         p = got.find(" EXPUNGE\r\n", p + 1)) {
        ++reported;
    }
    CHECK(reported == 65536);  // each batch from its highest number down
    CHECK(got.find("* 1 EXPUNGE\r\ne OK EXPUNGE completed\r\n") != std::string::npos);
    CHECK(w.say(a, "f STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 0)\r\nf OK STATUS completed\r\n");
    // The lagging session: every number, highest first, then its OK.
    w.net.client_send(lag, "n NOOP\r\n");
    const std::string lagged = run_until_tagged(w, lag, "n", &turns);
    CHECK(lagged.find("* 65536 EXPUNGE\r\n") == 0);
    std::size_t lines = 0;
    for (std::size_t p = lagged.find(" EXPUNGE\r\n"); p != std::string::npos;
         p = lagged.find(" EXPUNGE\r\n", p + 1)) {
        ++lines;
    }
    CHECK(lines == 65536);
    CHECK(lagged.find("* 1 EXPUNGE\r\nn OK NOOP completed\r\n") != std::string::npos);
    CHECK(lagged.find("BYE") == std::string::npos);
    // Both go on working on the emptied mailbox.
    append(w, b, "Subject: new\r\n\r\nnew\r\n");
    CHECK(w.say(lag, "y NOOP\r\n") == "* 1 EXISTS\r\n* 1 RECENT\r\ny OK NOOP completed\r\n");
    CHECK(w.say(lag, "x FETCH 1:* (UID)\r\n") ==
          "* 1 FETCH (UID 65537)\r\nx OK FETCH completed\r\n");
}

TEST_CASE(
    "RFC 3501 §7.4.1: a session 5000 expunges behind, across several EXPUNGE commands, "
    "learns them all with the right numbers",
    "[server][jobs][expunge]") {
    World w;
    port::Handle a = login(w);
    port::Handle lag = login(w);
    fill_inbox(w, a, 6000, 10);
    REQUIRE(w.say(lag, "s SELECT INBOX\r\n").find("* 6000 EXISTS") != std::string::npos);
    // Five EXPUNGEs of 1000 each, at different places: even thousands first.
    for (const char* set : {"1001:2000", "3001:4000", "5001:6000", "1:1000", "2001:3000"}) {
        int turns = 0;
        const std::string r = run_until_tagged(
            w, a, "x", &turns,
            w.say(a, std::string("u UID STORE ") + set + " +FLAGS.SILENT (\\Deleted)\r\n" +
                         "x UID EXPUNGE " + set + "\r\n"));
        REQUIRE(r.find("x OK") != std::string::npos);
    }
    int turns = 0;
    w.net.client_send(lag, "n NOOP\r\n");
    const std::string lagged = run_until_tagged(w, lag, "n", &turns);
    // Highest first, each number as the client knew it just before.
    std::string expect;
    for (int seq = 6000; seq > 1000; --seq) {
        if ((seq > 4000 && seq <= 5000)) continue;  // 4001:5000 stays
        expect += "* " + std::to_string(seq) + " EXPUNGE\r\n";
    }
    for (int seq = 1000; seq >= 1; --seq) expect += "* " + std::to_string(seq) + " EXPUNGE\r\n";
    CHECK(lagged.size() > expect.size());
    CHECK(lagged.compare(0, expect.size(), expect) == 0);
    CHECK(lagged.find("BYE") == std::string::npos);
    CHECK(w.say(lag, "f FETCH 1,1000 (UID)\r\n") ==
          "* 1 FETCH (UID 4001)\r\n* 1000 FETCH (UID 5000)\r\nf OK FETCH completed\r\n");
}

TEST_CASE(
    "RFC 3501 §6.4.5: a FETCH BODY[] waits while another session's COPY holds the mailbox, "
    "then sets \\Seen",
    "[server][jobs]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    fill_inbox(w, a, 128, 30000);
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    w.net.client_send(a, "c COPY 1:* INBOX\r\n");
    w.run(1);
    CHECK(w.net.client_receive(a).find("c OK") == std::string::npos);
    w.net.client_send(b, "f FETCH 1 (BODY[HEADER.FIELDS (SUBJECT)])\r\n");
    int turns = 0;
    std::string got;
    while (!tagged_in(got, "f") && turns < 10000) {
        w.clock.advance(5);
        w.run(1);
        ++turns;
        got += w.net.client_receive(b);
    }
    CHECK(got ==
          "* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {19}\r\nSubject: filler\r\n\r\n "
          "FLAGS (\\Seen))\r\nf OK FETCH completed\r\n");
    CHECK(run_until_tagged(w, a, "c", &turns).find("c OK [COPYUID") != std::string::npos);
    CHECK(w.say(b, "g FETCH 1 (FLAGS)\r\n").find("* 1 FETCH (FLAGS (\\Seen))") !=
          std::string::npos);
}

TEST_CASE(
    "RFC 3501 §7.1.5: a UID MOVE whose source another session DELETEs meanwhile ends "
    "with the deleted-mailbox BYE",
    "[server][jobs]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    REQUIRE(create_ok(w.say(a, "c CREATE Work\r\n"), "c"));
    REQUIRE(create_ok(w.say(a, "c CREATE Dest\r\n"), "c"));
    w.say(a, "s SELECT Work\r\n");
    for (int i = 0; i < 200; ++i) {
        append(w, a, "Subject: m\r\n\r\n" + std::string(20000, 'x') + "\r\n", "Work");
    }
    w.say(a, "n NOOP\r\n");
    w.net.client_send(a, "m UID MOVE 1:200 Dest\r\n");
    w.run(1);
    std::string got = w.net.client_receive(a);
    REQUIRE(got.find("m OK") == std::string::npos);  // still copying: 4 MB
    w.net.client_send(b, "d DELETE Work\r\n");
    w.run(1);
    CHECK(w.net.client_receive(b) == "d OK DELETE completed\r\n");
    w.net.client_send(a, "n NOOP\r\n");
    int turns = 0;
    while (got.find("* BYE") == std::string::npos && turns++ < 1000) {
        w.run(1);
        got += w.net.client_receive(a);
    }
    INFO(got.substr(0, 300));
    CHECK(got.find("* BYE Selected mailbox was deleted, have to disconnect\r\n") !=
          std::string::npos);
    CHECK(got.find("rewritten") == std::string::npos);
}
