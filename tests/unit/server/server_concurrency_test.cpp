// Whole-server tests of sessions that work on the same mailbox at once, on
// the simulated platform: APPEND waits its turn instead of failing (issue
// 12.1; RFC 3501 §6.3.11, RFC 3502), DELETE and RENAME while sessions have
// the mailbox selected (issue 12.2; RFC 2180 §3.3, §3.4), and the quota
// counted with APPENDs in flight (issue 20.7; RFC 9208 §4.3.1).
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

constexpr const char* kInboxData = "mail/alice/^i^n^b^o^x/m.data";

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++n;
    return n;
}

}  // namespace

TEST_CASE("RFC 3501 §6.3.11: two sessions APPEND to one mailbox at once; both succeed",
          "[server][append]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    // Both literals are open at the same time (the old code held the lock
    // from the first one's "+" and answered the second NO [INUSE]).
    CHECK(w.say(a, "a1 APPEND INBOX {5}\r\n") == "+ Ready for the message\r\n");
    CHECK(w.say(b, "b1 APPEND INBOX {5}\r\n") == "+ Ready for the message\r\n");
    CHECK(w.say(b, "bbbbb\r\n").find("b1 OK [APPENDUID 1700000000 1]") == 0);
    CHECK(w.say(a, "aaaaa\r\n").find("a1 OK [APPENDUID 1700000000 2]") == 0);
    CHECK(w.say(a, "s STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 2)\r\ns OK STATUS completed\r\n");
}

TEST_CASE("RFC 3502: an APPEND waits for another session's commit and is woken, not polled",
          "[server][append]") {
    World w;
    // b in the first slot: the loop serves it before a in each turn, so it
    // can only learn that a let go from the wake-up (or a timer).
    port::Handle b = login(w);
    port::Handle a = login(w);
    // a's message is 2 MiB: its copy into the mailbox takes several turns
    // of the loop, during which a holds the mailbox's write turn.
    const std::size_t big = 2u << 20;
    w.net.client_send(
        a, "a1 APPEND INBOX {" + std::to_string(big) + "+}\r\n" + std::string(big - 10, 'x'));
    for (int i = 0; i < 2000; ++i) w.run(1);
    const std::uint64_t t0 = w.clock.monotonic_ms();
    // a's last bytes: a starts copying (for several turns); then all of b's
    // MULTIAPPEND: b finds the mailbox taken and waits in line.
    w.net.client_send(a, std::string(10, 'y') + "\r\n");
    w.run(1, 0);
    w.net.client_send(b, "b1 APPEND INBOX {3+}\r\none {3+}\r\ntwo\r\n");
    std::string got_a, got_b;
    // Each turn may sleep up to a minute when nobody is ready (the sim clock
    // then jumps): b must be ready at once when a lets go, not at a timer.
    for (int i = 0; i < 200 && got_b.find("b1 ") == std::string::npos; ++i) {
        w.run(1, 60000);
        got_a += w.net.client_receive(a);
        got_b += w.net.client_receive(b);
    }
    CHECK(got_a.find("a1 OK [APPENDUID 1700000000 1]") == 0);
    CHECK(got_b == "b1 OK [APPENDUID 1700000000 2:3] APPEND completed\r\n");
    CHECK(w.clock.monotonic_ms() == t0);
}

namespace {

// `tinyimapd deliver` (another process) holds INBOX's lock; INBOX is open
// in this process (selected by a session) or not (opened for the APPEND).
void append_against_other_process(bool selected) {
    World w;
    port::Handle c = login(w);
    if (selected) {
        port::Handle d = login(w);
        CHECK(w.say(d, "d SELECT INBOX\r\n").find("d OK") != std::string::npos);
    }
    auto other = w.fs.open(kInboxData, port::kOpenRead | port::kOpenWrite);
    REQUIRE(other.ok());
    REQUIRE(w.fs.lock(other.value, port::LockMode::Exclusive) == Status::Ok);
    std::string got = w.say(c, "a APPEND INBOX (\\Seen $Label1) {5+}\r\nhello\r\n");
    for (int i = 0; i < 20; ++i) {
        w.clock.advance(100);
        got += w.say(c, "");
    }
    INFO(got);
    CHECK(got.empty());  // waiting: no NO [INUSE]
    REQUIRE(w.fs.unlock(other.value) == Status::Ok);
    for (int i = 0; i < 20 && got.empty(); ++i) {
        w.run(1, 100);  // the retry timer (at most 500 ms after the release)
        got += w.net.client_receive(c);
    }
    CHECK(got.find("a OK [APPENDUID 1700000000 1]") == 0);

    // A holder that never lets go: after 30 s, NO [INUSE] and a log line.
    REQUIRE(w.fs.lock(other.value, port::LockMode::Exclusive) == Status::Ok);
    got = w.say(c, "b APPEND INBOX {5+}\r\nworld\r\n");
    for (int i = 0; i < 400 && got.find("b NO") == std::string::npos; ++i) {
        w.run(1, 100);
        got += w.net.client_receive(c);
    }
    CHECK(got == "b NO [INUSE] Mailbox is busy, try again\r\n");
    CHECK(w.log.contains("APPEND gave up after 30 s"));
    CHECK(w.log.contains("another process"));
    (void)w.fs.close(other.value);
    CHECK(w.say(c, "s STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 1)\r\ns OK STATUS completed\r\n");
    w.say(c, "f EXAMINE INBOX\r\n");
    CHECK(w.say(c, "g FETCH 1 FLAGS\r\n").find("* 1 FETCH (FLAGS (\\Seen \\Recent $Label1))") !=
          std::string::npos);
}

}  // namespace

TEST_CASE("RFC 3501 §6.3.11: APPEND waits while another process holds the mailbox (open here)",
          "[server][append]") {
    append_against_other_process(true);
}

TEST_CASE("RFC 3501 §6.3.11: APPEND waits while another process holds the mailbox (not open)",
          "[server][append]") {
    append_against_other_process(false);
}

TEST_CASE("RFC 2180 §3.3: DELETE while another session has the mailbox selected",
          "[server][delete]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    port::Handle c = login(w);
    w.say(a, "a1 CREATE Work\r\na2 APPEND Work {3+}\r\nabc\r\n");
    CHECK(w.say(b, "b1 SELECT Work\r\n").find("b1 OK [READ-WRITE]") != std::string::npos);
    CHECK(w.say(c, "c1 SELECT Work\r\nc2 IDLE\r\n").find("+ idling") != std::string::npos);
    CHECK(w.say(a, "a3 DELETE Work\r\n") == "a3 OK DELETE completed\r\n");
    // The idling session hears it at its next beat, the other at its next command.
    w.clock.advance(60000);
    w.run();
    CHECK(w.net.client_receive(c) == "* BYE Selected mailbox was deleted, have to disconnect\r\n");
    CHECK(w.say(b, "b2 NOOP\r\n") == "* BYE Selected mailbox was deleted, have to disconnect\r\n");
    // The name is free again: a new, empty mailbox.
    CHECK(create_ok(w.say(a, "a4 CREATE Work\r\n"), "a4"));
    CHECK(w.say(a, "a5 STATUS Work (MESSAGES)\r\n") ==
          "* STATUS Work (MESSAGES 0)\r\na5 OK STATUS completed\r\n");
}

TEST_CASE("RFC 3501 §3: DELETE of the session's own selected mailbox leaves it authenticated",
          "[server][delete]") {
    World w;
    port::Handle a = login(w);
    w.say(a, "a1 CREATE Work\r\na2 SELECT Work\r\n");
    CHECK(w.say(a, "a3 DELETE Work\r\n") ==
          "* OK [CLOSED] The selected mailbox was deleted\r\na3 OK DELETE completed\r\n");
    CHECK(w.say(a, "a4 FETCH 1 FLAGS\r\n") == "a4 BAD No mailbox selected\r\n");
    CHECK(w.say(a, "a5 SELECT INBOX\r\n").find("a5 OK [READ-WRITE]") != std::string::npos);
}

TEST_CASE("RFC 3501 §6.3.4: an APPEND into a mailbox deleted meanwhile is not acknowledged",
          "[server][delete][append]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    w.say(a, "a1 CREATE Work\r\n");
    CHECK(w.say(b, "b1 APPEND Work {5}\r\n") == "+ Ready for the message\r\n");
    CHECK(w.say(a, "a2 DELETE Work\r\n") == "a2 OK DELETE completed\r\n");
    CHECK(w.say(b, "hello\r\n") == "b1 NO [TRYCREATE] The mailbox was deleted\r\n");
    w.say(a, "a3 CREATE Work\r\n");
    CHECK(w.say(a, "a4 STATUS Work (MESSAGES)\r\n") ==
          "* STATUS Work (MESSAGES 0)\r\na4 OK STATUS completed\r\n");
}

TEST_CASE("RFC 3501 §6.3.11: a MULTIAPPEND's keyword into a mailbox deleted meanwhile is TRYCREATE",
          "[server][delete][append]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    w.say(a, "a1 CREATE Work\r\n");
    CHECK(w.say(b, "b1 APPEND Work {5}\r\n") == "+ Ready for the message\r\n");
    CHECK(w.say(b, "hello") == "");
    CHECK(w.say(a, "a2 DELETE Work\r\n") == "a2 OK DELETE completed\r\n");
    // The second message names a keyword new to the (gone) mailbox.
    CHECK(w.say(b, " ($Label1) {5}\r\n") == "b1 NO [TRYCREATE] The mailbox was deleted\r\n");
    CHECK(w.say(b, "b2 NOOP\r\n") == "b2 OK NOOP completed\r\n");
}

TEST_CASE("RFC 2180 §3.4: RENAME while sessions have the mailbox or a child selected",
          "[server][rename]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    port::Handle c = login(w);
    w.say(a, "a1 CREATE Work/Sub\r\na2 CREATE Work\r\na3 APPEND Work {3+}\r\none\r\n");
    CHECK(w.say(b, "b1 SELECT Work\r\n").find("b1 OK") != std::string::npos);
    CHECK(w.say(c, "c1 SELECT Work/Sub\r\n").find("c1 OK") != std::string::npos);
    CHECK(w.say(a, "a4 RENAME Work Projects\r\n") == "a4 OK RENAME completed\r\n");
    // The selected sessions go on, on the renamed mailboxes.
    CHECK(w.say(a, "a5 APPEND Projects {3+}\r\ntwo\r\n").find("a5 OK") == 0);
    CHECK(w.say(b, "b2 NOOP\r\n") == "* 2 EXISTS\r\n* 2 RECENT\r\nb2 OK NOOP completed\r\n");
    CHECK(w.say(b, "b3 FETCH 2 BODY.PEEK[]\r\n") ==
          "* 2 FETCH (BODY[] {3}\r\ntwo)\r\nb3 OK FETCH completed\r\n");
    CHECK(w.say(b, "b4 STORE 1 +FLAGS (\\Seen)\r\n").find("b4 OK") != std::string::npos);
    CHECK(w.say(c, "c2 APPEND Projects/Sub {3+}\r\nsub\r\n") ==
          "* 1 EXISTS\r\n* 1 RECENT\r\nc2 OK [APPENDUID 1700000001 1] APPEND completed\r\n");
    CHECK(w.say(a, "a6 STATUS Projects (MESSAGES UNSEEN)\r\n") ==
          "* STATUS Projects (MESSAGES 2 UNSEEN 1)\r\na6 OK STATUS completed\r\n");
    CHECK(w.say(a, "a7 STATUS Work (MESSAGES)\r\n").find("a7 NO [NONEXISTENT]") == 0);
}

TEST_CASE("RFC 3501 §6.3.5: RENAME INBOX while INBOX is selected elsewhere", "[server][rename]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    w.say(a, "a1 APPEND INBOX {3+}\r\none\r\n");
    CHECK(w.say(b, "b1 SELECT INBOX\r\n").find("b1 OK") != std::string::npos);
    CHECK(w.say(a, "a2 SELECT INBOX\r\n").find("a2 OK") != std::string::npos);
    CHECK(w.say(a, "a3 RENAME INBOX Old\r\n") ==
          "* OK [CLOSED] INBOX was emptied into the new mailbox\r\na3 OK RENAME completed\r\n");
    CHECK(w.say(b, "b2 NOOP\r\n") == "* BYE The mailbox was rewritten; please reconnect\r\n");
    // New mail goes to the new, empty INBOX; the old messages are in Old.
    CHECK(w.say(a, "a4 APPEND INBOX {3+}\r\ntwo\r\n").find("a4 OK [APPENDUID 1700000000 2]") == 0);
    CHECK(w.say(a, "a5 STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 1)\r\na5 OK STATUS completed\r\n");
    CHECK(w.say(a, "a6 STATUS Old (MESSAGES)\r\n") ==
          "* STATUS Old (MESSAGES 1)\r\na6 OK STATUS completed\r\n");
}

// RFC 3501 §6.3.5: "Renaming INBOX is permitted" whatever it holds; an INBOX
// that never had a message (its m.index the header alone) moves as well, and
// so does one emptied by an earlier RENAME.
TEST_CASE("RFC 3501 §6.3.5: RENAME of an empty INBOX makes an empty mailbox", "[server][rename]") {
    World w;
    port::Handle a = login(w);
    CHECK(w.say(a, "a1 RENAME INBOX Old\r\n") == "a1 OK RENAME completed\r\n");
    CHECK(w.say(a, "a2 STATUS Old (MESSAGES)\r\n") ==
          "* STATUS Old (MESSAGES 0)\r\na2 OK STATUS completed\r\n");
    w.say(a, "a3 APPEND INBOX {3+}\r\none\r\n");
    CHECK(w.say(a, "a4 RENAME INBOX Older\r\n") == "a4 OK RENAME completed\r\n");
    CHECK(w.say(a, "a5 RENAME INBOX Oldest\r\n") == "a5 OK RENAME completed\r\n");
    CHECK(w.say(a, "a6 STATUS Older (MESSAGES)\r\n") ==
          "* STATUS Older (MESSAGES 1)\r\na6 OK STATUS completed\r\n");
    CHECK(w.say(a, "a7 STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 0)\r\na7 OK STATUS completed\r\n");
    // Each copy is a mailbox of its own (RFC 8474 §4): it takes new mail.
    CHECK(w.say(a, "a8 APPEND Old {3+}\r\ntwo\r\n").find("a8 OK [APPENDUID") == 0);
}

TEST_CASE("RFC 9208 §4.3.1: concurrent APPENDs reserve their size before committing (20.7 b)",
          "[server][quota][append]") {
    World w(8, true, false, [](Config& cfg) { cfg.quota_storage_mb = 1; });
    port::Handle s[6];
    for (port::Handle& h : s) h = login(w);
    // Six APPENDs of 700 KB under 1 MiB: only one fits; the others are refused
    // before their data is sent, however they interleave.
    const std::size_t size = 700 * 1024;
    std::string answers;
    for (port::Handle h : s)
        answers += w.say(h, "p APPEND INBOX {" + std::to_string(size) + "}\r\n");
    CHECK(count_of(answers, "+ Ready") == 1);
    CHECK(count_of(answers, "p NO [OVERQUOTA]") == 5);
    std::string done;
    for (port::Handle h : s) {
        if (w.say(h, "").empty() && answers.find("+ Ready") == 0) {
            done = w.say_until_tagged(h, std::string(size, 'm') + "\r\n", "p");
            break;
        }
        answers.erase(0, answers.find("\r\n") + 2);
    }
    CHECK(done.find("p OK [APPENDUID") == 0);
    CHECK(w.say(s[1], "q GETQUOTA \"\"\r\n") ==
          "* QUOTA \"\" (STORAGE 700 1024)\r\nq OK GETQUOTA completed\r\n");
}

TEST_CASE("RFC 9208 §4.3.1: an earlier APPEND's size does not count again (20.7 c)",
          "[server][quota][append]") {
    World w(1, true, false, [](Config& cfg) { cfg.quota_storage_mb = 1; });
    const std::string msg = std::string(600 * 1024, 'z') + "\r\n";
    const std::string lit = "{" + std::to_string(msg.size() - 2) + "+}\r\n";
    {
        port::Handle c = login(w);
        CHECK(w.say_until_tagged(c, "p APPEND INBOX " + lit + msg, "p").find("p OK") == 0);
        w.say(c, "s SELECT INBOX\r\nt STORE 1 +FLAGS (\\Deleted)\r\n");
        CHECK(w.say(c, "e EXPUNGE\r\n").find("e OK") != std::string::npos);
        // Usage is 0 again: the same size fits.
        const std::string q = w.say_until_tagged(c, "q APPEND INBOX " + lit + msg, "q");
        INFO(q.substr(0, 200));
        CHECK(q.find("q OK [APPENDUID") != std::string::npos);
        w.say(c, "u STORE 1 +FLAGS (\\Deleted)\r\nv EXPUNGE\r\nl LOGOUT\r\n");
        w.net.client_close(c);  // the slot is free once the client has gone
        w.run();
    }
    // The next connection in the same slot starts from nothing as well.
    port::Handle d = login(w);
    CHECK(w.say_until_tagged(d, "r APPEND INBOX " + lit + msg, "r").find("r OK") == 0);
}

TEST_CASE("RENAME refuses to push a child past the name limits (20.7 a)", "[server][quota]") {
    World w;
    port::Handle c = login(w);
    const std::string child =
        "Box/" + std::string(200, 'x') + "/" + std::string(200, 'y') + "/" + std::string(100, 'z');
    CHECK(create_ok(w.say(c, "a CREATE " + child + "\r\n"), "a"));
    CHECK(w.say(c, "b RENAME Box Renamed123\r\n") == "b NO [CANNOT] Mailbox name too long\r\n");
    CHECK(w.say(c, "d LIST \"\" Box/*/*/*\r\n").find(std::string(100, 'z')) != std::string::npos);
}
