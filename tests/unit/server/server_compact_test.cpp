// The server loop and compaction (docs/STORAGE.md "Compaction"; issue 20.3):
// a compaction of a large mailbox runs in bounded steps between the
// sessions' turns, so another client is answered meanwhile.
#include <catch2/catch.hpp>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/base/arena.h"
#include "core/store/registry.h"
#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

constexpr const char* kInbox = "mail/alice/^i^n^b^o^x";

std::string make_body(std::size_t size) {
    std::string body = "Subject: big\r\n\r\n";
    while (body.size() + 80 < size) body += std::string(76, 'x') + "\r\n";
    body.resize(size - 2, 'y');
    return body + "\r\n";
}

// `count` messages of `size` bytes put in INBOX directly through the store
// (as `tinyimapd deliver` would), every other one \Deleted.
void fill_inbox(World& w, int count, std::size_t size) {
    store::StoreLimits l;
    l.scratch_bytes = 64 * 1024;
    std::vector<unsigned char> mem(store::Registry::bytes_needed(l));
    store::Registry reg(w.fs, w.clock, w.entropy, l);
    Arena arena(mem.data(), mem.size());
    REQUIRE(reg.init(arena) == Status::Ok);
    auto m = reg.acquire(kInbox);
    REQUIRE(m.status == Status::Ok);
    const std::string body = make_body(size);
    for (int i = 0; i < count; ++i) {
        store::Appender a;
        REQUIRE(m.value->begin_append(a, static_cast<std::uint32_t>(body.size()),
                                      i % 2 == 0 ? mail::kDeleted : 0, 0, 1700000000,
                                      0) == Status::Ok);
        REQUIRE(m.value->append_chunk(a, body.data(), body.size()) == Status::Ok);
        std::uint32_t uid = 0;
        REQUIRE(m.value->commit_append(a, &uid) == Status::Ok);
    }
    reg.release(m.value);
}

// No byte more fits: the file system's limit set to what is used now.
void fill_disk(World& w) {
    std::uint64_t used = 0;
    for (const auto& [path, bytes] : w.fs.snapshot()) used += bytes.size();
    w.fs.set_space_limit(used);
}

// Messages `uids` of INBOX (numbers 1, 2, ... in session `a`) are whole
// bodies of `size` bytes as fill_inbox made them.
void check_bodies(World& w, port::Handle a, std::initializer_list<int> uids, std::size_t size) {
    const std::string f = w.say_until_tagged(
        a, "f FETCH 1:" + std::to_string(uids.size()) + " (UID BODY.PEEK[])\r\n", "f");
    const std::string body = make_body(size);
    for (int uid : uids) {
        const std::string want = "(UID " + std::to_string(uid) + " BODY[] {" +
                                 std::to_string(size) + "}\r\n" + body + ")";
        CHECK(f.find(want) != std::string::npos);
    }
}

}  // namespace

TEST_CASE(
    "A compaction of a large mailbox runs in bounded steps; another client is answered "
    "meanwhile",
    "[server][store][compact]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    constexpr int kMessages = 48;
    constexpr std::size_t kSize = 1u << 20;  // 24 MiB live, 24 MiB expunged
    fill_inbox(w, kMessages, kSize);
    const std::string data_new = std::string(kInbox) + "/m.data.new";
    CHECK(w.say(a, "s SELECT INBOX\r\n").find("* 48 EXISTS") != std::string::npos);
    w.net.client_send(a, "e EXPUNGE\r\n");
    // Turn by turn until a's answer and the compaction it started.
    std::string got_a;
    int turns = 0;
    for (; turns < 100 && got_a.find("e OK") == std::string::npos; ++turns) {
        (void)w.server->run_once(0);
        got_a += w.net.client_receive(a);
    }
    REQUIRE(got_a.find("e OK EXPUNGE completed") != std::string::npos);
    REQUIRE(w.fs.exists(data_new));  // under way, not done inside the EXPUNGE
    // Each turn: at most one compaction step (<= 1 MiB copied, <= 1 fsync).
    int compaction_turns = 0, noops = 0, noop_turns_max = 0;
    std::uint64_t max_written = 0, max_syncs = 0;
    while (w.fs.exists(data_new) && compaction_turns < 1000) {
        w.net.client_send(b, "n NOOP\r\n");
        std::string got_b;
        int waited = 0;
        while (got_b.find("n OK") == std::string::npos && waited < 10) {
            const std::uint64_t written = w.fs.bytes_written();
            const std::uint64_t syncs =
                w.fs.calls(sim::SimFs::Op::Fsync) + w.fs.calls(sim::SimFs::Op::SyncDir);
            (void)w.server->run_once(0);
            ++waited;
            ++compaction_turns;
            if (w.fs.bytes_written() - written > max_written)
                max_written = w.fs.bytes_written() - written;
            if (w.fs.calls(sim::SimFs::Op::Fsync) + w.fs.calls(sim::SimFs::Op::SyncDir) - syncs >
                max_syncs)
                max_syncs =
                    w.fs.calls(sim::SimFs::Op::Fsync) + w.fs.calls(sim::SimFs::Op::SyncDir) - syncs;
            got_b += w.net.client_receive(b);
        }
        CHECK(got_b == "n OK NOOP completed\r\n");
        if (waited > noop_turns_max) noop_turns_max = waited;
        ++noops;
    }
    INFO("compaction turns " << compaction_turns << ", NOOPs " << noops << ", most bytes written "
                             << max_written << " in a turn");
    CHECK(!w.fs.exists(data_new));
    CHECK(compaction_turns >= 24);  // 24 MiB copied at most 1 MiB per turn
    CHECK(noops >= 12);             // answered while it ran
    CHECK(noop_turns_max == 1);     // each in the turn it arrived
    CHECK(max_written <= (1u << 20) + 64 * 1024 + 4096);
    CHECK(max_syncs <= 1);
    // The result: 24 messages, the file shrunk, bodies intact.
    CHECK(w.fs.read_file(std::string(kInbox) + "/m.data").size() < 25u * kSize);
    CHECK(w.say(b, "t STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 24)\r\nt OK STATUS completed\r\n");
    const std::string f = w.say_until_tagged(a, "f FETCH 24 (BODY.PEEK[]<1048000.1000>)\r\n", "f");
    CHECK(f == "* 24 FETCH (BODY[]<1048000> {576}\r\n" + make_body(kSize).substr(1048000) +
                   ")\r\nf OK FETCH completed\r\n");
}

TEST_CASE(
    "On a full file system, EXPUNGE of the last messages frees their space at once; a "
    "compaction that cannot write fails cleanly",
    "[server][store][compact]") {
    World w;
    port::Handle a = login(w);
    constexpr std::size_t kSize = 256 * 1024;
    fill_inbox(w, 8, kSize);  // UIDs 1, 3, 5, 7 \Deleted
    const std::string data = std::string(kInbox) + "/m.data";
    const std::string data_new = std::string(kInbox) + "/m.data.new";
    CHECK(w.say(a, "s SELECT INBOX\r\n").find("* 8 EXISTS") != std::string::npos);
    // The disk is full: not one more byte fits.
    fill_disk(w);
    const std::size_t before = w.fs.read_file(data).size();
    // \Deleted messages in the middle: the compaction cannot write its copy
    // (NoSpace); it is abandoned, its file removed, nothing lost; the slide
    // in place takes over (the test below).
    CHECK(w.say_until_tagged(a, "e EXPUNGE\r\n", "e").find("e OK") != std::string::npos);
    for (int i = 0; i < 50; ++i) (void)w.server->run_once(0);
    CHECK(!w.fs.exists(data_new));
    CHECK(w.fs.read_file(data).size() == before - 4 * (kSize + 48));
    // Not tried again at every command while nothing changed (flash wear).
    const std::uint64_t opens = w.fs.calls(sim::SimFs::Op::Open);
    for (int i = 0; i < 5; ++i) CHECK(w.say(a, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    CHECK(w.fs.calls(sim::SimFs::Op::Open) == opens);
    // The last two messages expunged: cut off the end of m.data in place.
    CHECK(w.say(a, "d STORE 3:4 +FLAGS.SILENT (\\Deleted)\r\n") == "d OK STORE completed\r\n");
    const std::string e = w.say_until_tagged(a, "e EXPUNGE\r\n", "e");
    CHECK(e == "* 4 EXPUNGE\r\n* 3 EXPUNGE\r\ne OK EXPUNGE completed\r\n");
    for (int i = 0; i < 50; ++i) (void)w.server->run_once(0);
    CHECK(w.fs.read_file(data).size() < before - 6 * kSize);
    CHECK(w.say(a, "t STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 2)\r\nt OK STATUS completed\r\n");
    // The space is there again: a new message fits.
    const std::string msg = "Subject: fits\r\n\r\n" + std::string(100000, 'z') + "\r\n";
    const std::string ap = w.say_until_tagged(
        a, "p APPEND INBOX {" + std::to_string(msg.size()) + "+}\r\n" + msg + "\r\n", "p");
    CHECK(ap.find("p OK [APPENDUID") != std::string::npos);
    const std::string f = w.say_until_tagged(a, "f UID FETCH 1:* (UID RFC822.SIZE)\r\n", "f");
    CHECK(f.find("(UID 2 RFC822.SIZE 262144)") != std::string::npos);
    CHECK(f.find("(UID 4 RFC822.SIZE 262144)") != std::string::npos);
    CHECK(f.find("(UID 9 RFC822.SIZE 100019)") != std::string::npos);
}

// Issue 20.11: messages expunged in the MIDDLE of m.data on a full file
// system give their space back: the compaction cannot write its copy
// (NoSpace), so the live frames slide down in place (docs/STORAGE.md
// "Reclaiming from the middle in place").
TEST_CASE(
    "A full disk: EXPUNGE of messages in the middle gives their space back, bodies intact "
    "in place",
    "[server][store][compact]") {
    World w;
    port::Handle a = login(w);
    constexpr std::size_t kSize = 256 * 1024;
    fill_inbox(w, 8, kSize);  // UIDs 1, 3, 5, 7 \Deleted; UID 8, the last, is kept
    const std::string data = std::string(kInbox) + "/m.data";
    CHECK(w.say(a, "s SELECT INBOX\r\n").find("* 8 EXISTS") != std::string::npos);
    fill_disk(w);
    const std::size_t before = w.fs.read_file(data).size();
    CHECK(w.say_until_tagged(a, "e EXPUNGE\r\n", "e").find("e OK") != std::string::npos);
    for (int i = 0; i < 200; ++i) (void)w.server->run_once(0);
    // Four holes of 256 KiB before the last live message: reclaimed in place.
    CHECK(w.fs.read_file(data).size() < before - 3 * kSize);
    check_bodies(w, a, {2, 4, 6, 8}, kSize);
    const std::string msg = "Subject: fits\r\n\r\n" + std::string(100000, 'z') + "\r\n";
    const std::string ap = w.say_until_tagged(
        a, "p APPEND INBOX {" + std::to_string(msg.size()) + "+}\r\n" + msg + "\r\n", "p");
    CHECK(ap.find("p OK [APPENDUID") != std::string::npos);
}

// Issue 13: the slide's flush of each move's copy (the one with the moved
// bytes to write) runs on an I/O thread like a compaction's; only each
// move's commit (3 small fsyncs of m.index) and the cut still sync in the loop.
TEST_CASE("A full disk: the slide's data flushes run on the I/O threads, bodies intact",
          "[server][store][compact][slide][flush]") {
    World w;
    port::Handle a = login(w);
    constexpr std::size_t kSize = 256 * 1024;
    fill_inbox(w, 8, kSize);  // UIDs 1, 3, 5, 7 \Deleted; UID 8, the last, is kept
    const std::string data = std::string(kInbox) + "/m.data";
    CHECK(w.say(a, "s SELECT INBOX\r\n").find("* 8 EXISTS") != std::string::npos);
    fill_disk(w);
    const std::size_t before = w.fs.read_file(data).size();
    w.fs.set_async_flush(true);
    w.fs.reset_counters();
    CHECK(w.say_until_tagged(a, "e EXPUNGE\r\n", "e").find("e OK") != std::string::npos);
    for (int i = 0; i < 400; ++i) (void)w.server->run_once(0);
    CHECK(w.fs.read_file(data).size() < before - 3 * kSize);
    const std::uint64_t all =
        w.fs.calls(sim::SimFs::Op::Fsync) + w.fs.calls(sim::SimFs::Op::SyncDir);
    INFO("syncs " << all << ", in the loop " << w.fs.loop_syncs());
    CHECK(all - w.fs.loop_syncs() >= 4 + 3);  // 4 moves' data, EXPUNGE's 3
    check_bodies(w, a, {2, 4, 6, 8}, kSize);
}

// The slide in steps: at most compact_step_bytes (1 MiB) copied per turn of
// the loop, or one move's commit (3 small fsyncs of m.index); the other
// client is answered in the turn its command arrives; SIGTERM in the middle
// leaves every message whole.
TEST_CASE(
    "A slide in place runs in bounded steps, another client answered meanwhile; SIGTERM in "
    "the middle loses nothing (issue 20.11)",
    "[server][store][compact][slide]") {
    for (const bool sigterm : {false, true}) {
        INFO((sigterm ? "SIGTERM in the middle" : "to the end"));
        World w;
        port::Handle a = login(w);
        port::Handle b = login(w);
        constexpr std::size_t kSize = 3u << 19;  // 1.5 MiB: a move takes two turns
        fill_inbox(w, 12, kSize);                // UIDs 1, 3, ..., 11 \Deleted
        const std::string data = std::string(kInbox) + "/m.data";
        CHECK(w.say(a, "s SELECT INBOX\r\n").find("* 12 EXISTS") != std::string::npos);
        fill_disk(w);
        const std::size_t before = w.fs.read_file(data).size();
        CHECK(w.say_until_tagged(a, "e EXPUNGE\r\n", "e").find("e OK") != std::string::npos);
        int turns = 0, noops = 0;
        std::uint64_t max_written = 0, max_syncs = 0;
        while (w.fs.read_file(data).size() == before && turns < 400) {
            if (sigterm && turns == 7) break;  // mid-slide
            w.net.client_send(b, "n NOOP\r\n");
            const std::uint64_t written = w.fs.bytes_written();
            const std::uint64_t syncs = w.fs.calls(sim::SimFs::Op::Fsync);
            (void)w.server->run_once(0);
            ++turns;
            max_written = std::max(max_written, w.fs.bytes_written() - written);
            max_syncs = std::max(max_syncs, w.fs.calls(sim::SimFs::Op::Fsync) - syncs);
            if (w.net.client_receive(b) == "n OK NOOP completed\r\n") ++noops;
        }
        INFO("turns " << turns << ", most bytes written in a turn " << max_written
                      << ", most fsyncs " << max_syncs);
        CHECK(noops == turns);  // each NOOP answered in the turn it arrived
        CHECK(max_written <= (1u << 20) + 16384 + 4096);
        CHECK(max_syncs <= 3);
        if (sigterm) {
            CHECK(w.fs.read_file(data).size() == before);  // not done yet
            w.server->begin_shutdown("test");
            w.server->close_all();
        } else {
            CHECK(turns >= 12);  // 6 moves of 1.5 MiB, at most 1 MiB per turn
            CHECK(w.fs.read_file(data).size() == before - 6 * (kSize + 48));
        }
        // Every message whole, after a restart on what is on disk.
        store::StoreLimits l;
        std::vector<unsigned char> mem(store::Registry::bytes_needed(l));
        Arena arena(mem.data(), mem.size());
        store::Registry reg(w.fs, w.clock, w.entropy, l);
        REQUIRE(reg.init(arena) == Status::Ok);
        auto m = reg.acquire(kInbox);
        REQUIRE(m.status == Status::Ok);
        CHECK(m.value->state().live_count == 6);
        store::View v;
        m.value->attach(v, true);
        const std::string body = make_body(kSize);
        for (std::uint32_t seq = 1; seq <= v.exists; ++seq) {
            store::MessageInfo info;
            REQUIRE(m.value->message(v, seq, &info) == Status::Ok);
            CHECK(info.uid == 2 * seq);
            std::string got(info.size, '\0');
            std::size_t n = 0;
            REQUIRE(m.value->read(info, 0, got.data(), got.size(), &n) == Status::Ok);
            CHECK(got == body);
        }
        m.value->detach(v);
        reg.release(m.value);
    }
}

// Issue 20: a mailbox whose expunges were scattered one by one (more runs
// than the store's list holds, max_pending_expunges = 1024) while it was
// closed is compacted when it is opened, before anyone can have sequence
// numbers in it: in steps now, with SELECT waiting for it as a job, and
// another client answered in every turn meanwhile.
TEST_CASE(
    "SELECT of a mailbox with too many runs of expunges waits for its compaction, in steps; "
    "another client is answered meanwhile (issue 20)",
    "[server][store][compact]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    constexpr int kMessages = 2100;          // 1050 runs of one expunged message
    constexpr std::size_t kSize = 8 * 1024;  // 8.4 MiB live: several turns of 1 MiB
    {
        store::StoreLimits l;
        l.max_pending_expunges = 4096;
        l.compact_min_waste = std::uint64_t{1} << 40;  // no compaction here
        std::vector<unsigned char> mem(store::Registry::bytes_needed(l));
        store::Registry reg(w.fs, w.clock, w.entropy, l);
        Arena arena(mem.data(), mem.size());
        REQUIRE(reg.init(arena) == Status::Ok);
        auto m = reg.acquire(kInbox);
        REQUIRE(m.status == Status::Ok);
        const std::string body = make_body(kSize);
        for (int i = 0; i < kMessages; ++i) {
            store::Appender ap;
            REQUIRE(m.value->begin_append(ap, static_cast<std::uint32_t>(body.size()),
                                          i % 2 == 0 ? mail::kDeleted : 0, 0, 1700000000,
                                          0) == Status::Ok);
            REQUIRE(m.value->append_chunk(ap, body.data(), body.size()) == Status::Ok);
            std::uint32_t uid = 0;
            REQUIRE(m.value->commit_append(ap, &uid) == Status::Ok);
        }
        store::View v;
        m.value->attach(v, false);
        std::size_t n = 1;
        while (n > 0) REQUIRE(m.value->expunge(v, nullptr, nullptr, 4096, &n) == Status::Ok);
        m.value->detach(v);
        REQUIRE(m.value->gone_count() == kMessages / 2);
        reg.release(m.value);
    }
    w.net.client_send(a, "s SELECT INBOX\r\n");
    std::string got_a;
    int turns = 0, noops = 0;
    for (; turns < 200 && got_a.find("s OK") == std::string::npos; ++turns) {
        w.net.client_send(b, "n NOOP\r\n");
        (void)w.server->run_once(0);
        w.clock.advance(20);  // SELECT retries on its 20 ms timer
        got_a += w.net.client_receive(a);
        if (w.net.client_receive(b) == "n OK NOOP completed\r\n") ++noops;
    }
    INFO("turns " << turns << "; SELECT answered " << got_a.substr(0, 200));
    CHECK(got_a.find("* 1050 EXISTS\r\n") != std::string::npos);
    CHECK(got_a.find("s OK [READ-WRITE] SELECT completed") != std::string::npos);
    CHECK(turns >= 8);      // 8.4 MiB copied at most 1 MiB per turn
    CHECK(noops == turns);  // the other client answered in every turn
    CHECK(!w.fs.exists(std::string(kInbox) + "/m.data.new"));
    const std::string f = w.say_until_tagged(a, "f FETCH 1050 (UID RFC822.SIZE)\r\n", "f");
    CHECK(f.find("* 1050 FETCH (UID 2100 RFC822.SIZE 8192)") != std::string::npos);
}

namespace {

// Sends `command` and runs the loop turn by turn until the answer tagged
// `tag` arrives (at most 400 turns); *turns is how many it took.
std::string answered_in(World& w, port::Handle c, const std::string& command,
                        const std::string& tag, int* turns) {
    w.net.client_send(c, command);
    std::string got;
    *turns = 0;
    while (*turns < 400 && got.find("\r\n" + tag + " ") == std::string::npos &&
           got.rfind(tag + " ", 0) != 0) {
        (void)w.server->run_once(0);
        ++*turns;
        got += w.net.client_receive(c);
    }
    return got;
}

}  // namespace

TEST_CASE(
    "Writers go between the steps of a compaction: STORE, APPEND, COPY and EXPUNGE from "
    "another session answered in the turn they arrive while it runs",
    "[server][store][compact]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    constexpr int kMessages = 48;
    constexpr std::size_t kSize = 1u << 20;  // 24 MiB to copy: at least 24 turns
    fill_inbox(w, kMessages, kSize);
    const std::string data_new = std::string(kInbox) + "/m.data.new";
    CHECK(w.say(a, "s SELECT INBOX\r\n").find("* 48 EXISTS") != std::string::npos);
    CHECK(w.say(b, "s SELECT INBOX\r\n").find("* 48 EXISTS") != std::string::npos);
    int turns = 0;
    CHECK(answered_in(w, a, "e EXPUNGE\r\n", "e", &turns).find("e OK EXPUNGE") !=
          std::string::npos);
    // b learns of the expunges; then nobody shows them and the compaction starts.
    CHECK(answered_in(w, b, "n NOOP\r\n", "n", &turns).find("* 1 EXPUNGE") != std::string::npos);
    (void)w.server->run_once(0);
    REQUIRE(w.fs.exists(data_new));
    // Each writer is answered at once, the compaction still under way.
    struct Case {
        const char* command;
        const char* tag;
        const char* expect;
    };
    const std::string msg = "Subject: meanwhile\r\n\r\nwritten during a compaction\r\n";
    const std::string append =
        "p APPEND INBOX {" + std::to_string(msg.size()) + "+}\r\n" + msg + "\r\n";
    const Case cases[] = {
        {"f STORE 1 +FLAGS (\\Flagged)\r\n", "f", "f OK STORE completed"},
        {"g STORE 24 +FLAGS (\\Answered)\r\n", "g", "g OK STORE completed"},
        {append.c_str(), "p", "p OK [APPENDUID"},
        {"c COPY 2 INBOX\r\n", "c", "c OK [COPYUID"},
        {"d STORE 3 +FLAGS.SILENT (\\Deleted)\r\n", "d", "d OK STORE completed"},
        {"x EXPUNGE\r\n", "x", "x OK EXPUNGE completed"},
    };
    int most = 0;
    for (const Case& c : cases) {
        INFO(c.command);
        const std::string got = answered_in(w, b, c.command, c.tag, &turns);
        CHECK(got.find(c.expect) != std::string::npos);
        CHECK(w.fs.exists(data_new));  // it did not wait for the compaction
        if (turns > most) most = turns;
        (void)w.server->run_once(0);  // a compaction step between the commands
    }
    CHECK(most <= 2);
    // The compaction finishes and has taken every change in.
    for (int i = 0; i < 1000 && w.fs.exists(data_new); ++i) (void)w.server->run_once(0);
    CHECK(!w.fs.exists(data_new));
    CHECK(w.fs.read_file(std::string(kInbox) + "/m.data").size() < 26u * kSize);
    const std::string sa = w.say_until_tagged(a, "n NOOP\r\n", "n");
    CHECK(sa.find("* 3 EXPUNGE") != std::string::npos);
    CHECK(sa.find("* 25 EXISTS") != std::string::npos);
    const std::string fl = w.say_until_tagged(a, "h FETCH 1:* (UID FLAGS RFC822.SIZE)\r\n", "h");
    CHECK(fl.find("* 1 FETCH (UID 2 FLAGS (\\Flagged \\Recent) RFC822.SIZE 1048576)") !=
          std::string::npos);
    CHECK(fl.find("* 23 FETCH (UID 48 FLAGS (\\Answered \\Recent) RFC822.SIZE 1048576)") !=
          std::string::npos);
    CHECK(fl.find("* 24 FETCH (UID 49 FLAGS () RFC822.SIZE " + std::to_string(msg.size()) + ")") !=
          std::string::npos);
    CHECK(fl.find("* 25 FETCH (UID 50 FLAGS () RFC822.SIZE 1048576)") != std::string::npos);
    CHECK(fl.find("* 26 FETCH") == std::string::npos);
    // Bodies intact: the copy's last bytes, from the compacted file.
    const std::string f = w.say_until_tagged(a, "b FETCH 25 (BODY.PEEK[]<1048000.1000>)\r\n", "b");
    CHECK(f == "* 25 FETCH (BODY[]<1048000> {576}\r\n" + make_body(kSize).substr(1048000) +
                   ")\r\nb OK FETCH completed\r\n");
    CHECK(w.say(b, "t STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 25)\r\nt OK STATUS completed\r\n");
}

// Issue 13 (docs/STORAGE.md "Compaction's flushes"): with I/O threads, the
// compaction's flushes (m.data.new, m.index.new, the directory before the
// renames and the one after them) are done on them, never on the loop's
// thread (a writer of this process committing before the renames are
// durable would sync the directory itself: store_crash_test).
TEST_CASE("A compaction's flushes leave the loop's thread, the one after its renames too",
          "[server][store][compact][flush]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    fill_inbox(w, 16, 1u << 20);  // 8 MiB live, 8 MiB expunged
    const std::string data_new = std::string(kInbox) + "/m.data.new";
    CHECK(w.say(a, "s SELECT INBOX\r\n").find("* 16 EXISTS") != std::string::npos);
    w.fs.set_async_flush(true);
    w.fs.set_flush_delay(3);
    w.fs.reset_counters();
    w.net.client_send(a, "e EXPUNGE\r\n");
    std::string got_a;
    int turns = 0;
    for (; turns < 3000 && (got_a.find("e OK") == std::string::npos || turns < 5 ||
                            w.fs.exists(data_new));
         ++turns) {
        w.clock.advance(1);
        (void)w.server->run_once(0);
        got_a += w.net.client_receive(a);
        if (turns % 7 == 0) {  // another client is answered meanwhile
            CHECK(w.say(b, "n NOOP\r\n") == "n OK NOOP completed\r\n");
        }
    }
    REQUIRE(got_a.find("e OK EXPUNGE completed") != std::string::npos);
    CHECK(!w.fs.exists(data_new));
    CHECK(w.fs.read_file(std::string(kInbox) + "/m.data").size() < 9u * (1u << 20));
    CHECK(w.fs.calls(sim::SimFs::Op::Fsync) >= 2);  // m.data.new, m.index.new (and EXPUNGE's)
    CHECK(w.fs.loop_syncs() == 0);  // the directory after the renames too
    CHECK(w.say(b, "t STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 8)\r\nt OK STATUS completed\r\n");
}

// Issue 13: expunged messages at the end of m.data are cut off by one state
// commit, the group commit's (a group of no member), its flush on an I/O
// thread: the loop's thread never waits for it.
TEST_CASE("Cutting expunged messages off the end of m.data never flushes on the loop's thread",
          "[server][store][compact][flush]") {
    World w;
    port::Handle a = login(w);
    fill_inbox(w, 4, 128 * 1024);  // 1 and 3 \Deleted
    CHECK(w.say(a, "s SELECT INBOX\r\n").find("* 4 EXISTS") != std::string::npos);
    CHECK(w.say(a, "d STORE 4 +FLAGS.SILENT (\\Deleted)\r\n") == "d OK STORE completed\r\n");
    const std::size_t before = w.fs.read_file(std::string(kInbox) + "/m.data").size();
    w.fs.set_async_flush(true);
    w.fs.set_flush_delay(3);
    w.fs.reset_counters();
    w.net.client_send(a, "e EXPUNGE\r\nn NOOP\r\n");
    std::string got;
    for (int turn = 0; turn < 200 && got.find("n OK") == std::string::npos; ++turn) {
        w.clock.advance(1);
        (void)w.server->run_once(0);
        got += w.net.client_receive(a);
    }
    for (int turn = 0; turn < 50; ++turn) {  // the cut's commit
        w.clock.advance(1);
        (void)w.server->run_once(0);
    }
    CHECK(got.find("e OK EXPUNGE completed") != std::string::npos);
    CHECK(w.fs.read_file(std::string(kInbox) + "/m.data").size() < before - 200 * 1024);
    CHECK(w.fs.loop_syncs() == 0);
    CHECK(w.say(a, "f FETCH 1 (BODY.PEEK[]<131000.20>)\r\n") ==
          "* 1 FETCH (BODY[]<131000> {20}\r\n" + make_body(128 * 1024).substr(131000, 20) +
              ")\r\nf OK FETCH completed\r\n");
    CHECK(w.say(a, "t STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 1)\r\nt OK STATUS completed\r\n");
}
