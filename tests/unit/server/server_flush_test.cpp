// Issue 13, "no client waits for another client's flush" (docs/STORAGE.md
// "Flushes leave the loop"): with an fs port that flushes asynchronously
// (SimFs::set_async_flush, each flush taking a few turns of the loop:
// set_flush_delay, in simulated milliseconds), a write command's tagged OK waits for its flushes
// while the loop serves everyone else; the OK still comes only once the change is durable (RFC 3501
// §6.4.6 STORE, §6.3.11 APPEND, §6.4.7 COPY), and other sessions see nothing of it before.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

bool tagged(const std::string& all, const std::string& tag) {
    return all.rfind(tag + " OK", 0) == 0 || all.find("\n" + tag + " OK") != std::string::npos ||
           all.find(tag + " NO") != std::string::npos ||
           all.find(tag + " BAD") != std::string::npos;
}

// A slow disk: every flush takes `delay` ms; each turn of the loop in these
// tests is 1 ms (World::run alone does not move the clock while a session
// has work).
void slow_disk(World& w, unsigned delay) {
    w.fs.set_async_flush(true);
    w.fs.set_flush_delay(delay);
}

void tick(World& w) {
    w.clock.advance(1);
    w.run(1);
}

}  // namespace

TEST_CASE(
    "Issue 13: a STORE waiting for its flushes does not hold up another client's NOOP "
    "(RFC 3501 §6.4.6)",
    "[server][flush]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    w.say(a, "p APPEND INBOX {1+}\r\nx\r\np APPEND INBOX {1+}\r\ny\r\ns SELECT INBOX\r\n");
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    slow_disk(w, 5);
    w.fs.reset_counters();
    w.net.client_send(a, "t STORE 1:2 +FLAGS (\\Flagged)\r\n");
    tick(w);
    std::string got_a = w.net.client_receive(a);
    CHECK_FALSE(tagged(got_a, "t"));  // its redo record is being flushed
    // b is answered at once, and sees nothing of the uncommitted change.
    CHECK(w.say(b, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    CHECK(w.say(b, "f FETCH 1:2 FLAGS\r\n") ==
          "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\nf OK FETCH completed\r\n");
    int turns = 0;
    while (!tagged(got_a, "t") && turns < 200) {
        tick(w);
        ++turns;
        got_a += w.net.client_receive(a);
    }
    CHECK(got_a.find("t OK STORE completed") != std::string::npos);
    CHECK(got_a.find("* 1 FETCH (FLAGS (\\Flagged \\Recent))") != std::string::npos);
    CHECK(turns >= 3);  // one flush (the redo record, docs/STORAGE.md) of 5 polls
    CHECK(w.fs.calls(sim::SimFs::Op::Fsync) == 1);  // before the OK
    // Now b learns of it.
    CHECK(w.say(b, "n NOOP\r\n") ==
          "* 1 FETCH (UID 1 FLAGS (\\Flagged))\r\n* 2 FETCH (UID 2 FLAGS (\\Flagged))\r\n"
          "n OK NOOP completed\r\n");
}

TEST_CASE(
    "Issue 13: APPEND and COPY answer OK once their flushes are done (RFC 3501 §6.3.11, "
    "§6.4.7)",
    "[server][flush]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    REQUIRE(create_ok(w.say(a, "c CREATE Dest\r\n"), "c"));
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    slow_disk(w, 3);
    w.fs.reset_counters();
    w.net.client_send(a, "p APPEND INBOX {5+}\r\nhello\r\n");
    tick(w);
    std::string got = w.net.client_receive(a);
    CHECK_FALSE(tagged(got, "p"));
    CHECK(w.say(b, "n NOOP\r\n") == "n OK NOOP completed\r\n");  // no EXISTS yet
    for (int i = 0; i < 50 && !tagged(got, "p"); ++i) {
        tick(w);
        got += w.net.client_receive(a);
    }
    CHECK(got.find("p OK [APPENDUID") != std::string::npos);
    CHECK(w.fs.calls(sim::SimFs::Op::Fsync) == 2);  // m.data, then m.index
    CHECK(w.say(b, "n NOOP\r\n").find("* 1 EXISTS") != std::string::npos);
    REQUIRE(w.say(a, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    w.fs.reset_counters();
    w.net.client_send(a, "c COPY 1 Dest\r\n");
    got.clear();
    for (int i = 0; i < 50 && !tagged(got, "c"); ++i) {
        tick(w);
        got += w.net.client_receive(a);
    }
    CHECK(got.find("c OK [COPYUID") != std::string::npos);
    CHECK(w.fs.calls(sim::SimFs::Op::Fsync) == 2);
    CHECK(w.say(a, "t STATUS Dest (MESSAGES)\r\n").find("(MESSAGES 1)") != std::string::npos);
}

TEST_CASE(
    "Issue 13: a client gone while its STORE waits for a flush: nothing is acknowledged, "
    "the mailbox stays usable",
    "[server][flush]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    w.say(a, "p APPEND INBOX {1+}\r\nx\r\ns SELECT INBOX\r\n");
    slow_disk(w, 4);
    w.net.client_send(a, "t STORE 1 +FLAGS (\\Answered)\r\n");
    tick(w);
    tick(w);
    CHECK_FALSE(tagged(w.net.client_receive(a), "t"));
    w.net.client_close(a);
    for (int i = 0; i < 20; ++i) tick(w);  // the late completion finds nobody waiting for it
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    w.net.client_send(b, "u STORE 1 +FLAGS (\\Seen)\r\n");
    std::string got;
    for (int i = 0; i < 50 && !tagged(got, "u"); ++i) {
        tick(w);
        got += w.net.client_receive(b);
    }
    CHECK(got.find("u OK STORE completed") != std::string::npos);
    CHECK(w.say(b, "f FETCH 1 FLAGS\r\n").find("\\Seen") != std::string::npos);
}

TEST_CASE(
    "Issue 13: an EXPUNGE waiting for its flushes does not hold up another client "
    "(RFC 3501 §6.4.3)",
    "[server][flush]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    w.say(a,
          "p APPEND INBOX (\\Deleted) {1+}\r\nx\r\np APPEND INBOX {1+}\r\ny\r\ns SELECT INBOX\r\n");
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    slow_disk(w, 5);
    w.fs.reset_counters();
    w.net.client_send(a, "e EXPUNGE\r\n");
    tick(w);
    std::string got = w.net.client_receive(a);
    CHECK_FALSE(tagged(got, "e"));
    CHECK(w.say(b, "n NOOP\r\n") == "n OK NOOP completed\r\n");  // nothing expunged yet
    for (int i = 0; i < 50 && !tagged(got, "e"); ++i) {
        tick(w);
        got += w.net.client_receive(a);
    }
    CHECK(got == "* 1 EXPUNGE\r\ne OK EXPUNGE completed\r\n");
    CHECK(w.fs.calls(sim::SimFs::Op::Fsync) == 3);  // intent, slots, state
    CHECK(w.say(b, "n NOOP\r\n") == "* 1 EXPUNGE\r\nn OK NOOP completed\r\n");
}

// RFC 3501 §6.4.5: FETCH BODY[] sets \Seen; its one flush (the redo
// record, docs/STORAGE.md "The redo log") runs on the I/O threads like a
// STORE's: another client is answered meanwhile, and the FETCH response
// (with the new FLAGS) follows the flush.
TEST_CASE(
    "Issue 13: FETCH's implicit \\Seen waits for its flush without holding up another "
    "client (RFC 3501 §6.4.5)",
    "[server][flush][redo]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    w.say(a, "p APPEND INBOX {7+}\r\n\r\nhello\r\ns SELECT INBOX\r\n");
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    slow_disk(w, 5);
    w.fs.reset_counters();
    w.net.client_send(a, "f FETCH 1 BODY[]\r\n");
    tick(w);
    std::string got_a = w.net.client_receive(a);
    CHECK_FALSE(tagged(got_a, "f"));
    CHECK(got_a.find("FETCH") == std::string::npos);  // nothing before the flush
    CHECK(w.say(b, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    int turns = 0;
    while (!tagged(got_a, "f") && turns < 200) {
        tick(w);
        ++turns;
        got_a += w.net.client_receive(a);
    }
    CHECK(got_a.find("* 1 FETCH (BODY[] {7}\r\n\r\nhello FLAGS (\\Seen \\Recent))\r\n") !=
          std::string::npos);
    CHECK(got_a.find("f OK FETCH completed") != std::string::npos);
    CHECK(turns >= 3);
    CHECK(w.fs.calls(sim::SimFs::Op::Fsync) == 1);
    CHECK(w.say(b, "n NOOP\r\n") == "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\nn OK NOOP completed\r\n");
}

// The client leaves while its \Seen waits for the flush: the transaction is
// given up (the late completion ignored) and the mailbox is free for others.
TEST_CASE("Issue 13: a FETCH that leaves while its \\Seen is flushed frees the mailbox",
          "[server][flush][redo]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    w.say(a, "p APPEND INBOX {7+}\r\n\r\nhello\r\ns SELECT INBOX\r\n");
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    slow_disk(w, 5);
    w.net.client_send(a, "f FETCH 1 BODY[]\r\n");
    tick(w);
    w.net.client_close(a);
    for (int i = 0; i < 20; ++i) tick(w);
    std::string got = w.say(b, "t STORE 1 +FLAGS (\\Flagged)\r\n");
    for (int i = 0; i < 200 && !tagged(got, "t"); ++i) {
        tick(w);
        got += w.net.client_receive(b);
    }
    CHECK(got.find("t OK STORE completed") != std::string::npos);
}

// Group commit (docs/STORAGE.md "Group commit"): STOREs of several clients
// on one mailbox that are done while a flush is under way join the next one,
// and all their OKs follow that one flush; each client hears of the
// others' changes, never of its own again (RFC 3501 §6.4.6, §7.4.1).
TEST_CASE(
    "Issue 13: STOREs of clients on one mailbox that wait for a flush share the next one "
    "(RFC 3501 §6.4.6)",
    "[server][flush][group]") {
    World w;
    port::Handle c[4];
    for (port::Handle& h : c) h = login(w);
    w.say(c[0],
          "p APPEND INBOX {1+}\r\na\r\np APPEND INBOX {1+}\r\nb\r\np APPEND INBOX {1+}\r\nc\r\n");
    for (port::Handle h : c)
        REQUIRE(w.say(h, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    slow_disk(w, 5);
    w.fs.reset_counters();
    // The first STORE's flush is under way when the others come.
    w.net.client_send(c[0], "t0 STORE 1 +FLAGS (\\Flagged)\r\n");
    tick(w);
    CHECK(w.fs.flushes_pending() == 1);
    w.net.client_send(c[1], "t1 STORE 2 +FLAGS (\\Seen)\r\n");
    w.net.client_send(c[2], "t2 STORE 3 +FLAGS (\\Seen)\r\n");
    w.net.client_send(c[3], "t3 STORE 1 +FLAGS (\\Answered)\r\n");
    std::string got[4];
    const auto all_done = [&] {
        for (int i = 0; i < 4; ++i)
            if (!tagged(got[i], "t" + std::to_string(i))) return false;
        return true;
    };
    for (int turn = 0; turn < 200 && !all_done(); ++turn) {
        tick(w);
        for (int i = 0; i < 4; ++i) got[i] += w.net.client_receive(c[i]);
        // Not one OK before the flush that covers it.
        if (w.fs.calls(sim::SimFs::Op::Fsync) == 0) CHECK(got[0].empty());
        if (w.fs.calls(sim::SimFs::Op::Fsync) < 2) {
            for (int i = 1; i < 4; ++i) CHECK(got[i].empty());
        }
    }
    for (int i = 0; i < 4; ++i)
        CHECK(got[i].find("t" + std::to_string(i) + " OK STORE completed") != std::string::npos);
    CHECK(w.fs.calls(sim::SimFs::Op::Fsync) == 2);  // the first one's, then one for three
    // The fourth built on the first's change of the same message.
    CHECK(got[3].find("* 1 FETCH (FLAGS (\\Answered \\Flagged") != std::string::npos);
    // The second hears of the others' changes (after its STORE, or at the
    // NOOP), and not of its own again.
    const std::string n1 = w.say(c[1], "n NOOP\r\n");
    const std::string heard = got[1] + n1;
    CHECK(heard.find("* 1 FETCH (UID 1 FLAGS (\\Answered \\Flagged") != std::string::npos);
    CHECK(heard.find("* 3 FETCH (UID 3 FLAGS (\\Seen") != std::string::npos);
    CHECK(heard.find("* 2 FETCH (UID") == std::string::npos);
    CHECK(n1.find("n OK") != std::string::npos);
}

// Two clients' STOREs read in the same turn of the loop: one flush for both.
TEST_CASE("Issue 13: STOREs of two clients in one turn of the loop take one flush",
          "[server][flush][group]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    w.say(a, "p APPEND INBOX {1+}\r\na\r\np APPEND INBOX {1+}\r\nb\r\n");
    REQUIRE(w.say(a, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    slow_disk(w, 3);
    w.fs.reset_counters();
    w.net.client_send(a, "t STORE 1 +FLAGS (\\Flagged)\r\n");
    w.net.client_send(b, "u STORE 2 +FLAGS (\\Deleted)\r\n");
    std::string got_a, got_b;
    for (int turn = 0; turn < 100 && !(tagged(got_a, "t") && tagged(got_b, "u")); ++turn) {
        tick(w);
        got_a += w.net.client_receive(a);
        got_b += w.net.client_receive(b);
    }
    CHECK(got_a.find("t OK STORE completed") != std::string::npos);
    CHECK(got_b.find("u OK STORE completed") != std::string::npos);
    CHECK(w.fs.calls(sim::SimFs::Op::Fsync) == 1);
}

namespace {

// Sends `command` and ticks the loop until `tag` is answered.
std::string until_tagged(World& w, port::Handle c, const std::string& command,
                         const std::string& tag) {
    w.net.client_send(c, command);
    std::string got;
    for (int turn = 0; turn < 300 && !tagged(got, tag); ++turn) {
        tick(w);
        got += w.net.client_receive(c);
    }
    return got;
}

}  // namespace

// With I/O threads, the loop's own thread never waits for the disk during
// these write commands: every fsync they need goes through flush_start
// (SimFs::loop_syncs counts the fsyncs and directory syncs made otherwise).
TEST_CASE(
    "Issue 13: STORE (a group, a new keyword), FETCH's \\Seen, APPEND, COPY, MOVE and EXPUNGE "
    "never flush on the loop's thread",
    "[server][flush][group]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    REQUIRE(create_ok(w.say(a, "c CREATE Dest\r\n"), "c"));
    w.say(a,
          "p APPEND INBOX {7+}\r\n\r\nhello\r\np APPEND INBOX {1+}\r\nb\r\n"
          "p APPEND INBOX {1+}\r\nc\r\n");
    REQUIRE(w.say(a, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    slow_disk(w, 2);
    w.fs.reset_counters();
    w.net.client_send(b, "u STORE 2 +FLAGS (\\Deleted)\r\n");
    // A new keyword too: its entry is made durable by the group's flush.
    CHECK(until_tagged(w, a, "t STORE 3 +FLAGS (\\Flagged $Later)\r\n", "t").find("t OK") !=
          std::string::npos);
    std::string got_b;
    for (int turn = 0; turn < 50 && !tagged(got_b, "u"); ++turn) {
        tick(w);
        got_b += w.net.client_receive(b);
    }
    CHECK(got_b.find("u OK") != std::string::npos);
    const std::string flags = until_tagged(w, a, "g FETCH 1:3 FLAGS\r\n", "g");
    const std::string fetched = until_tagged(w, a, "f FETCH 1 BODY[]\r\n", "f");
    INFO(flags << fetched);
    CHECK(fetched.find("\\Seen") != std::string::npos);
    CHECK(until_tagged(w, a, "p APPEND INBOX {1+}\r\nz\r\n", "p").find("p OK") !=
          std::string::npos);
    CHECK(until_tagged(w, a, "c COPY 1 Dest\r\n", "c").find("c OK") != std::string::npos);
    CHECK(until_tagged(w, a, "m MOVE 3 Dest\r\n", "m").find("m OK") != std::string::npos);
    CHECK(until_tagged(w, b, "e EXPUNGE\r\n", "e").find("e OK") != std::string::npos);
    CHECK(w.fs.calls(sim::SimFs::Op::Fsync) >= 9);
    CHECK(w.fs.loop_syncs() == 0);
}

TEST_CASE(
    "Issue 13: an APPEND's new keywords are registered by a group commit on the I/O threads "
    "while another client is answered (RFC 3501 §6.3.11, §2.3.2)",
    "[server][flush][group]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    REQUIRE(create_ok(w.say(a, "c CREATE Other\r\n"), "c"));
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    slow_disk(w, 3);
    w.fs.reset_counters();
    // Into the mailbox b has selected, then into one nobody has, then a
    // MULTIAPPEND whose second message brings another new name.
    w.net.client_send(a, "p APPEND INBOX ($Work \\Seen) {1+}\r\nx\r\n");
    tick(w);
    CHECK(w.say(b, "n NOOP\r\n").find("n OK NOOP completed") != std::string::npos);
    std::string got;
    for (int turn = 0; turn < 300 && !tagged(got, "p"); ++turn) {
        tick(w);
        got += w.net.client_receive(a);
    }
    CHECK(got.find("p OK [APPENDUID ") != std::string::npos);
    CHECK(until_tagged(w, a, "q APPEND Other ($Later) {1+}\r\ny\r\n", "q").find("q OK") !=
          std::string::npos);
    CHECK(until_tagged(w, a,
                       "r APPEND Other ($Later) {1+}\r\nz ($Later $Home) {1+}\r\nw\r\n",
                       "r")
              .find("r OK") != std::string::npos);
    CHECK(w.fs.loop_syncs() == 0);
    CHECK(until_tagged(w, b, "n NOOP\r\n", "n").find("* 1 EXISTS") != std::string::npos);
    const std::string inbox = until_tagged(w, b, "f FETCH 1 FLAGS\r\n", "f");
    CHECK(inbox.find("* 1 FETCH (FLAGS (\\Seen \\Recent $Work))") != std::string::npos);
    REQUIRE(w.say(a, "e EXAMINE Other\r\n").find("e OK") != std::string::npos);
    const std::string other = until_tagged(w, a, "g FETCH 1:* FLAGS\r\n", "g");
    CHECK(other.find("* 1 FETCH (FLAGS (\\Recent $Later))") != std::string::npos);
    CHECK(other.find("* 2 FETCH (FLAGS (\\Recent $Later))") != std::string::npos);
    CHECK(other.find("* 3 FETCH (FLAGS (\\Recent $Later $Home))") != std::string::npos);
}

// A group's changes share one redo record (56 messages): a STORE that does
// not fit gives its changes back and is done once the group has committed,
// alone (the intent's way); both are acknowledged, nothing is lost.
TEST_CASE("Issue 13: a STORE that does not fit its group's redo record is done after it",
          "[server][flush][group]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    std::string appends;
    for (int i = 0; i < 60; ++i) appends += "p APPEND INBOX {1+}\r\nx\r\n";
    w.say_until_tagged(a, appends, "p");
    for (int i = 0; i < 20; ++i) w.run();
    REQUIRE(w.say(a, "s SELECT INBOX\r\n").find("* 60 EXISTS") != std::string::npos);
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    slow_disk(w, 2);
    w.net.client_send(a, "t STORE 1 +FLAGS (\\Flagged)\r\n");
    w.net.client_send(b, "u STORE 1:60 +FLAGS.SILENT (\\Seen)\r\n");
    std::string got_a, got_b;
    for (int turn = 0; turn < 300 && !(tagged(got_a, "t") && tagged(got_b, "u")); ++turn) {
        tick(w);
        got_a += w.net.client_receive(a);
        got_b += w.net.client_receive(b);
    }
    CHECK(got_a.find("t OK STORE completed") != std::string::npos);
    CHECK(got_b.find("u OK STORE completed") != std::string::npos);
    CHECK(until_tagged(w, a, "f FETCH 1,60 FLAGS\r\n", "f")
              .find("* 1 FETCH (FLAGS (\\Flagged \\Seen \\Recent))") != std::string::npos);
    CHECK(until_tagged(w, b, "f FETCH 56:60 FLAGS\r\n", "f").find("* 60 FETCH (FLAGS (\\Seen))") !=
          std::string::npos);
}

// RFC 3501 §2.3.2: the \Recent claims of a session that leaves the mailbox
// are committed so that later sessions do not see those messages \Recent
// again: by the Registry's group commit, its flush on an I/O thread (a group
// of no member), never on the loop's thread.
TEST_CASE(
    "Issue 13: the \\Recent claims of a session that leaves a mailbox are committed off the "
    "loop's thread (RFC 3501 §2.3.2)",
    "[server][flush][group]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    REQUIRE(w.say(a, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    w.say(b, "p APPEND INBOX {1+}\r\nx\r\np APPEND INBOX {1+}\r\ny\r\n");
    CHECK(w.say(a, "n NOOP\r\n").find("* 2 RECENT") != std::string::npos);  // a claims them
    slow_disk(w, 3);
    w.fs.reset_counters();
    CHECK(until_tagged(w, a, "l LOGOUT\r\n", "l").find("l OK") != std::string::npos);
    for (int turn = 0; turn < 20; ++turn) tick(w);
    CHECK(w.fs.calls(sim::SimFs::Op::Fsync) == 1);  // the claims' commit
    CHECK(w.fs.loop_syncs() == 0);
    // The mailbox was closed after the commit: b opens it again from the
    // files, and the claims are there.
    const std::string sel = until_tagged(w, b, "s SELECT INBOX\r\n", "s");
    CHECK(sel.find("* 2 EXISTS") != std::string::npos);
    CHECK(sel.find("* 0 RECENT") != std::string::npos);
    CHECK(w.fs.loop_syncs() == 0);
}

// RFC 3501 §6.4.2: CLOSE expunges. While another session's STORE group is
// being flushed (the mailbox is held), CLOSE waits for its turn instead of
// failing, and then expunges.
TEST_CASE("Issue 13: CLOSE waits for another session's STORE flush, then expunges (RFC 3501 §6.4.2)",
          "[server][flush][group]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    w.say(a, "p APPEND INBOX (\\Deleted) {1+}\r\nx\r\np APPEND INBOX {1+}\r\ny\r\n");
    REQUIRE(w.say(a, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    slow_disk(w, 5);
    w.net.client_send(b, "t STORE 2 +FLAGS (\\Flagged)\r\n");
    tick(w);  // b's group is flushing: the mailbox is held
    w.net.client_send(a, "c CLOSE\r\n");
    std::string got_a, got_b;
    for (int turn = 0; turn < 100 && !(tagged(got_a, "c") && tagged(got_b, "t")); ++turn) {
        tick(w);
        got_a += w.net.client_receive(a);
        got_b += w.net.client_receive(b);
    }
    CHECK(got_a == "c OK CLOSE completed\r\n");
    CHECK(got_b.find("t OK STORE completed") != std::string::npos);
    const std::string status = until_tagged(w, a, "m STATUS INBOX (MESSAGES)\r\n", "m");
    CHECK(status.find("* STATUS INBOX (MESSAGES 1)") != std::string::npos);
}
