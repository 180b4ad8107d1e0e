// The server loop and compaction (docs/STORAGE.md "Compaction"; issue 20.3):
// a compaction of a large mailbox runs in bounded steps between the
// sessions' turns, so another client is answered meanwhile.
#include <catch2/catch.hpp>

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
                                      i % 2 == 0 ? imap::kDeleted : 0, 0, 1700000000,
                                      0) == Status::Ok);
        REQUIRE(m.value->append_chunk(a, body.data(), body.size()) == Status::Ok);
        std::uint32_t uid = 0;
        REQUIRE(m.value->commit_append(a, &uid) == Status::Ok);
    }
    reg.release(m.value);
}

}  // namespace

TEST_CASE(
    "A compaction of a large mailbox runs in bounded steps; another client is answered "
    "meanwhile (issue 20.3)",
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
    "compaction that cannot write fails cleanly (issue 20.11)",
    "[server][store][compact]") {
    World w;
    port::Handle a = login(w);
    constexpr std::size_t kSize = 256 * 1024;
    fill_inbox(w, 8, kSize);  // UIDs 1, 3, 5, 7 \Deleted
    const std::string data = std::string(kInbox) + "/m.data";
    const std::string data_new = std::string(kInbox) + "/m.data.new";
    CHECK(w.say(a, "s SELECT INBOX\r\n").find("* 8 EXISTS") != std::string::npos);
    // The disk is full: not one more byte fits.
    std::uint64_t used = 0;
    for (const auto& [path, bytes] : w.fs.snapshot()) used += bytes.size();
    w.fs.set_space_limit(used);
    const std::size_t before = w.fs.read_file(data).size();
    // A \Deleted message in the middle: the compaction cannot write its copy
    // (NoSpace); it is abandoned, its file removed, nothing lost.
    CHECK(w.say_until_tagged(a, "e EXPUNGE\r\n", "e").find("e OK") != std::string::npos);
    for (int i = 0; i < 50; ++i) (void)w.server->run_once(0);
    CHECK(!w.fs.exists(data_new));
    CHECK(w.fs.read_file(data).size() == before);
    // Not tried again at every command while nothing changed (flash wear).
    const std::uint64_t opens = w.fs.calls(sim::SimFs::Op::Open);
    for (int i = 0; i < 5; ++i) CHECK(w.say(a, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    CHECK(w.fs.calls(sim::SimFs::Op::Open) == opens);
    // The last two messages expunged: cut off the end of m.data in place.
    CHECK(w.say(a, "d STORE 3:4 +FLAGS.SILENT (\\Deleted)\r\n") == "d OK STORE completed\r\n");
    const std::string e = w.say_until_tagged(a, "e EXPUNGE\r\n", "e");
    CHECK(e == "* 4 EXPUNGE\r\n* 3 EXPUNGE\r\ne OK EXPUNGE completed\r\n");
    for (int i = 0; i < 50; ++i) (void)w.server->run_once(0);
    CHECK(w.fs.read_file(data).size() < before - 2 * kSize);
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
