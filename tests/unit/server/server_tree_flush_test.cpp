// Issue 13, "no client waits for another client's flush", for the tree
// operations (docs/STORAGE.md "Flushes leave the loop"): CREATE, DELETE,
// RENAME (RFC 3501 §6.3.3-§6.3.5), SUBSCRIBE and UNSUBSCRIBE (§6.3.6-§6.3.7)
// wait for their flushes on the I/O threads (SimFs::set_async_flush, each
// flush taking a few turns of the loop) while another client is answered;
// none of their flushes is made on the loop's thread (SimFs::loop_syncs),
// and the tagged OK comes only once the last one is done.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

bool tagged(const std::string& all, const std::string& tag) {
    return all.rfind(tag + " ", 0) == 0 || all.find("\n" + tag + " ") != std::string::npos;
}

// From here on, every flush goes to the (simulated) I/O threads and takes
// `ms` turns of the loop; the counters start at 0.
void slow_flushes(World& w, int ms) {
    w.fs.set_async_flush(true);
    w.fs.set_flush_delay(ms);
    w.fs.reset_counters();
}

void tick(World& w) {
    w.clock.advance(1);
    w.run(1);
}

// Sends `command` on `a` and runs the loop a turn at a time until it is
// answered; after the first turn, `b`'s NOOP must be answered at once while
// `a` still waits. Returns a's answer; *flushes: the flushes it took.
std::string while_b_is_served(World& w, port::Handle a, port::Handle b, const std::string& tag,
                              const std::string& command, int* turns) {
    const std::uint64_t before = w.fs.calls(sim::SimFs::Op::Fsync) +
                                 w.fs.calls(sim::SimFs::Op::SyncDir);
    w.net.client_send(a, tag + " " + command + "\r\n");
    tick(w);
    std::string got = w.net.client_receive(a);
    CHECK_FALSE(tagged(got, tag));  // its first flush is under way
    CHECK(w.say(b, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    *turns = 1;
    while (!tagged(got, tag) && *turns < 400) {
        tick(w);
        ++*turns;
        got += w.net.client_receive(a);
    }
    CHECK(w.fs.calls(sim::SimFs::Op::Fsync) + w.fs.calls(sim::SimFs::Op::SyncDir) > before);
    return got;
}

}  // namespace

TEST_CASE(
    "Issue 13: CREATE, RENAME, DELETE, SUBSCRIBE and UNSUBSCRIBE flush on the I/O threads "
    "while another client is answered (RFC 3501 §6.3.3-§6.3.7)",
    "[server][flush][tree]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    slow_flushes(w, 3);
    int turns = 0;
    std::string got = while_b_is_served(w, a, b, "c", "CREATE Work/Projects", &turns);
    CHECK(create_ok(got, "c"));
    // Four flushes at least (a level's entry, m.index, m.data.new, the
    // rename's directory, the commit's directory) of 3 ms each.
    CHECK(turns >= 12);
    got = while_b_is_served(w, a, b, "p", "CREATE Plain", &turns);
    CHECK(create_ok(got, "p"));
    got = while_b_is_served(w, a, b, "s", "SUBSCRIBE Work/Projects", &turns);
    CHECK(got == "s OK SUBSCRIBE completed\r\n");
    CHECK(turns >= 6);  // subs.new, then the root's entries
    got = while_b_is_served(w, a, b, "r", "RENAME Work/Projects Archive/2026/Projects", &turns);
    CHECK(got == "r OK RENAME completed\r\n");
    got = while_b_is_served(w, a, b, "d", "DELETE Plain", &turns);
    CHECK(got == "d OK DELETE completed\r\n");
    got = while_b_is_served(w, a, b, "u", "UNSUBSCRIBE Work/Projects", &turns);
    CHECK(got == "u OK UNSUBSCRIBE completed\r\n");
    CHECK(w.fs.loop_syncs() == 0);
    // Each is done: the tree as the commands left it.
    const std::string list = w.say(b, "l LIST \"\" *\r\n");
    CHECK(list.find("Archive/2026/Projects\r\n") != std::string::npos);
    CHECK(list.find(" Work\r\n") != std::string::npos);
    CHECK(list.find("Plain") == std::string::npos);
    CHECK(list.find(" Work/Projects") == std::string::npos);
    CHECK(w.say(b, "l LSUB \"\" *\r\n") == "l OK LSUB completed\r\n");
}

TEST_CASE(
    "Issue 13: a DELETE of a parent, a CREATE over a \\Noselect name and CREATE with USE flush "
    "on the I/O threads (RFC 3501 §6.3.3, §6.3.4, RFC 6154 §3)",
    "[server][flush][tree]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    REQUIRE(create_ok(w.say(a, "c CREATE Top/Child\r\n"), "c"));
    REQUIRE(create_ok(w.say(a, "c CREATE Old/Child\r\n"), "c"));
    slow_flushes(w, 2);
    int turns = 0;
    std::string got = while_b_is_served(w, a, b, "t", "CREATE Top", &turns);
    CHECK(create_ok(got, "t"));
    got = while_b_is_served(w, a, b, "d", "DELETE Top", &turns);
    CHECK(got == "d OK DELETE completed\r\n");
    // The special use is written with the mailbox: in a new branch (built
    // in c.tmp), then over a \Noselect name.
    got = while_b_is_served(w, a, b, "u", "CREATE Mail/Sent2 (USE (\\Sent))", &turns);
    CHECK(create_ok(got, "u"));
    CHECK(turns >= 10);  // m.use is flushed before m.index, m.data and the commit
    got = while_b_is_served(w, a, b, "v", "CREATE Old (USE (\\Archive \\Junk))", &turns);
    CHECK(create_ok(got, "v"));
    CHECK(w.fs.loop_syncs() == 0);
    CHECK(w.say(b, "s LIST (SPECIAL-USE) \"\" *\r\n") ==
          "* LIST (\\HasNoChildren \\Sent) \"/\" Mail/Sent2\r\n"
          "* LIST (\\HasChildren \\Archive \\Junk) \"/\" Old\r\n"
          "s OK LIST completed\r\n");
    CHECK(w.say(b, "l LIST \"\" Top*\r\n") ==
          "* LIST (\\Noselect \\HasChildren) \"/\" Top\r\n"
          "* LIST (\\HasNoChildren) \"/\" Top/Child\r\n"
          "l OK LIST completed\r\n");
}

TEST_CASE(
    "Issue 13: a SELECT or APPEND of a mailbox whose CREATE is not yet durable waits for it "
    "(RFC 3501 §6.3.1, §6.3.11)",
    "[server][flush][tree]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    port::Handle c = login(w);
    w.fs.set_async_flush(true);
    w.fs.set_flush_delay(4);
    w.fs.reset_counters();
    w.net.client_send(a, "c CREATE fresh\r\n");
    // Until the new directory has its name, the mailbox does not exist; from
    // then until its parent's entry is flushed, it is held back.
    std::string got;
    int turns = 0;
    port::FileInfo fi;
    while (w.fs.stat("mail/alice/fresh/m.data", &fi) != Status::Ok && turns < 200) {
        tick(w);
        ++turns;
        got += w.net.client_receive(a);
    }
    REQUIRE(w.fs.stat("mail/alice/fresh/m.data", &fi) == Status::Ok);
    REQUIRE_FALSE(tagged(got, "c"));  // the commit's flush is under way
    w.net.client_send(b, "s SELECT fresh\r\n");
    w.net.client_send(c, "p APPEND fresh {5+}\r\nhello\r\n");
    tick(w);
    std::string got_b = w.net.client_receive(b);
    std::string got_c = w.net.client_receive(c);
    CHECK_FALSE(tagged(got_b, "s"));  // they wait for the commit
    CHECK_FALSE(tagged(got_c, "p"));
    for (int i = 0; i < 200 && !(tagged(got, "c") && tagged(got_b, "s") && tagged(got_c, "p"));
         ++i) {
        tick(w);
        got += w.net.client_receive(a);
        got_b += w.net.client_receive(b);
        got_c += w.net.client_receive(c);
    }
    CHECK(create_ok(got, "c"));
    CHECK(got_b.find("s OK [READ-WRITE] SELECT completed") != std::string::npos);
    CHECK(got_c.find("p OK [APPENDUID ") != std::string::npos);
    CHECK(w.fs.loop_syncs() == 0);
}

TEST_CASE(
    "Issue 13: a first login's directory and default mailboxes are made on the I/O threads "
    "before LOGIN's OK, while another client is answered (RFC 6154 §2, RFC 3501 §6.2.3)",
    "[server][flush][tree]") {
    World w(4, true, true);
    w.fs.write_file("passwd",
                    "alice:{PLAIN}wonderland:1000:1000::/home/alice::\n"
                    "bob:{PLAIN}builder:1001:1001::/home/bob::\n");
    REQUIRE(w.server->load_passwd() == Status::Ok);
    port::Handle a = login(w);  // alice's defaults made, in place
    port::Handle b = w.connect();
    w.net.client_receive(b);
    slow_flushes(w, 2);
    int turns = 0;
    const std::string got = while_b_is_served(w, b, a, "l", "LOGIN bob builder", &turns);
    CHECK(got == logged_in("l"));
    CHECK(turns >= 30);  // six mailboxes (INBOX first) of several flushes each
    // The user's directory's own entry too: its parent's sync, a TreeJob
    // before INBOX's.
    CHECK(w.fs.loop_syncs() == 0);
    const std::string all = w.say(b, "s LIST \"\" *\r\n");
    for (const char* line :
         {"(\\HasNoChildren) \"/\" INBOX", "(\\HasNoChildren \\Sent) \"/\" Sent",
          "(\\HasNoChildren \\Drafts) \"/\" Drafts", "(\\HasNoChildren \\Trash) \"/\" Trash",
          "(\\HasNoChildren \\Junk) \"/\" Junk", "(\\HasNoChildren \\Archive) \"/\" Archive"}) {
        CHECK(all.find(std::string("* LIST ") + line + "\r\n") != std::string::npos);
    }
    CHECK(w.say(b, "i SELECT INBOX\r\n").find("i OK [READ-WRITE]") != std::string::npos);
}

TEST_CASE(
    "Issue 13: a CREATE under a mailbox with an ACL inherits it, flushed on the I/O threads "
    "before the mailbox exists (RFC 4314 §4)",
    "[server][flush][tree][acl]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    REQUIRE(create_ok(w.say(a, "c CREATE Family\r\n"), "c"));
    REQUIRE(w.say(a, "s SETACL Family anyone lr\r\n") == "s OK SETACL completed\r\n");
    slow_flushes(w, 2);
    int turns = 0;
    const std::string got = while_b_is_served(w, a, b, "k", "CREATE Family/Kids", &turns);
    CHECK(create_ok(got, "k"));
    CHECK(w.fs.loop_syncs() == 0);
    CHECK(w.say(b, "g GETACL Family/Kids\r\n") ==
          "* ACL Family/Kids alice lrswipkxteacd anyone lr\r\ng OK GETACL completed\r\n");
}

// RENAME INBOX (RFC 3501 §6.3.5) copies INBOX's files in bounded steps
// (TreeOp::step_bytes) with its flushes on the I/O threads: a large INBOX
// does not stall the loop. Meanwhile another client is answered, a third
// client's APPEND to INBOX and a fourth's COPY into it wait for INBOX and
// land in the emptied INBOX after it, and nothing syncs on the loop's thread.
TEST_CASE(
    "Issue 13: RENAME INBOX of a large INBOX copies in steps and flushes on the I/O threads "
    "while another client is answered (RFC 3501 §6.3.5)",
    "[server][flush][tree][rename]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    port::Handle c = login(w);
    port::Handle d = login(w);
    REQUIRE(create_ok(w.say(d, "c CREATE Other\r\n"), "c"));
    w.net.client_send(d, "p APPEND Other {6+}\r\nother\r\n");
    w.run(8);
    REQUIRE(w.net.client_receive(d).find("p OK") != std::string::npos);
    REQUIRE(w.say(d, "s SELECT Other\r\n").find("s OK") != std::string::npos);
    const std::string body = "Subject: big\r\n\r\n" + std::string(40000, 'x') + "\r\n";
    constexpr int kMessages = 50;  // about 2 MB
    for (int i = 0; i < kMessages; ++i) append_to_inbox(w, a, body);
    const std::string before = w.say(b, "s STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY)\r\n");
    REQUIRE(before.find("MESSAGES 50 UIDNEXT 51 ") != std::string::npos);
    slow_flushes(w, 2);
    std::uint64_t most = 0;  // bytes written in one turn
    auto measured_tick = [&] {
        const std::uint64_t written = w.fs.bytes_written();
        tick(w);
        most = std::max(most, w.fs.bytes_written() - written);
    };
    w.net.client_send(a, "r RENAME INBOX Old\r\n");
    measured_tick();
    std::string got = w.net.client_receive(a);
    REQUIRE_FALSE(tagged(got, "r"));
    // The copy is under way, not done in one turn.
    port::FileInfo copy, inbox;
    REQUIRE(w.fs.stat("mail/alice/i.tmp/m.data", &copy) == Status::Ok);
    REQUIRE(w.fs.stat("mail/alice/^i^n^b^o^x/m.data", &inbox) == Status::Ok);
    CHECK(copy.size < inbox.size);
    // Another client is answered at once; an APPEND to INBOX waits.
    CHECK(w.say(b, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    w.net.client_send(c, "p APPEND INBOX {7+}\r\nlater\r\n\r\n");
    w.net.client_send(d, "k COPY 1 INBOX\r\n");
    measured_tick();
    std::string got_c = w.net.client_receive(c);
    std::string got_d = w.net.client_receive(d);
    CHECK_FALSE(tagged(got_c, "p"));
    CHECK_FALSE(tagged(got_d, "k"));
    int turns = 2, noops = 0;
    for (; turns < 2000 && !tagged(got, "r"); ++turns) {
        w.net.client_send(b, "n NOOP\r\n");
        measured_tick();
        got += w.net.client_receive(a);
        got_c += w.net.client_receive(c);
        if (w.net.client_receive(b) == "n OK NOOP completed\r\n") ++noops;
    }
    CHECK(noops == turns - 2);  // each answered in the turn it arrived
    CHECK(got == "r OK RENAME completed\r\n");
    CHECK(turns >= 10);  // ten flushes of 2 ms at least
    // At most 9 steps of 128 KiB a turn (the command's first, then the
    // loop's 8 job turns), about a compaction's 1 MiB; the copy of 2 MB
    // took several turns.
    INFO("turns " << turns << ", most bytes written in a turn " << most);
    CHECK(most <= 9 * 128 * 1024 + 16384);
    CHECK(most >= 128 * 1024);  // (the copy is measured)
    for (int i = 0; i < 200 && !(tagged(got_c, "p") && tagged(got_d, "k")); ++i) {
        tick(w);
        got_c += w.net.client_receive(c);
        got_d += w.net.client_receive(d);
    }
    INFO(got_c << got_d);
    CHECK(got_c.find("p OK [APPENDUID ") != std::string::npos);
    CHECK(got_d.find("k OK [COPYUID ") != std::string::npos);
    CHECK(w.fs.loop_syncs() == 0);
    // RFC 3501 §6.3.5: the messages moved; INBOX stays with the same
    // UIDVALIDITY and UIDNEXT (no UID reused), holding only the later one.
    const std::string old = w.say(b, "s STATUS Old (MESSAGES UIDNEXT)\r\n");
    CHECK(old.find("MESSAGES 50 UIDNEXT 51)") != std::string::npos);
    const std::string after = w.say(b, "s STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY)\r\n");
    const std::string validity = before.substr(before.find("UIDVALIDITY"));
    CHECK(after.find("MESSAGES 2 UIDNEXT 53 " + validity.substr(0, validity.find(')'))) !=
          std::string::npos);
}
