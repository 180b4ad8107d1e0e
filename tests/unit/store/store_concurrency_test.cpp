// Store-level tests of who waits for whom (docs/STORAGE.md "Concurrency: who
// waits for whom"): the mailbox's write turn (Mailbox::write_turn), staged
// APPENDs (core/store/staged_append.h) against writers of this process and
// of another, the staging files' clean-up, and open mailboxes that follow a
// RENAME or are retired by a DELETE (RFC 2180 §3.3, §3.4), and RENAME's
// check of its children's new names (issue 20.7 a).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/mail/flags.h"
#include "core/store/staged_append.h"
#include "core/store/user_store.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"
#include "tests/unit/store_env.h"

using namespace tinyimapd;
using namespace tinyimapd::store;

namespace {

constexpr std::string_view kRoot = test::kStoreRoot;

struct Env : test::StoreEnv {
    Env() : StoreEnv(5, 256) {}
    std::string stage(std::uint32_t slot) {
        Path p;
        REQUIRE(stage_path(kRoot, slot, &p) == Status::Ok);
        return std::string(p.view());
    }
};

// Stages `bodies` as one command.
void stage_all(Env& env, StagedAppend& sa, Mailbox* box, std::uint32_t slot,
               const std::vector<std::string>& bodies) {
    REQUIRE(sa.open(env.reg.services(), kRoot, slot, box) == Status::Ok);
    for (const std::string& b : bodies) {
        REQUIRE(sa.add(static_cast<std::uint32_t>(b.size()), 0, 0, 1700000000, 0) == Status::Ok);
        REQUIRE(sa.write(b.data(), b.size()) == Status::Ok);
    }
    REQUIRE(sa.complete());
}

StagedAppend::Step step(StagedAppend& sa, std::size_t budget, std::uint32_t* uid = nullptr,
                        Status* error = nullptr) {
    std::uint32_t first = 0;
    Status e = Status::Ok;
    const StagedAppend::Step s = sa.commit_step(budget, &first, &e);
    if (uid != nullptr) *uid = first;
    if (error != nullptr) *error = e;
    return s;
}

std::uint32_t messages(Env& env, std::string_view name) {
    StatusInfo si;
    REQUIRE(env.user.status(name, &si) == Status::Ok);
    return si.messages;
}

}  // namespace

TEST_CASE("write turn: FIFO queue, woken by the holder's release, no polling", "[store][append]") {
    Env env;
    auto r = env.user.open("INBOX");
    REQUIRE(r.ok());
    Mailbox* box = r.value;
    TurnWaiter holder, w1, w2;
    REQUIRE(box->write_turn(holder) == Mailbox::Turn::Ready);
    Appender a;
    REQUIRE(box->begin_append(a, 3, 0, 0, 0, 0) == Status::Ok);
    CHECK(box->writer() == "APPEND");
    CHECK(box->write_turn(w1) == Mailbox::Turn::Queued);
    CHECK(box->write_turn(w2) == Mailbox::Turn::Queued);
    CHECK_FALSE(w1.woken);
    REQUIRE(box->append_chunk(a, "abc", 3) == Status::Ok);
    std::uint32_t uid = 0;
    REQUIRE(box->commit_append(a, &uid) == Status::Ok);
    // The release woke the first in line only; the second still waits.
    CHECK(w1.woken);
    CHECK_FALSE(w2.woken);
    CHECK(box->write_turn(w2) == Mailbox::Turn::Queued);  // not its turn yet
    CHECK(box->write_turn(w1) == Mailbox::Turn::Ready);
    // w1 took it and did nothing: leaving passes the wake-up on.
    CHECK(w2.woken);
    CHECK(box->write_turn(w2) == Mailbox::Turn::Ready);
    // A waiter that gives up while first in line passes its wake-up on.
    Appender b;
    REQUIRE(box->begin_append(b, 1, 0, 0, 0, 0) == Status::Ok);
    CHECK(box->write_turn(w1) == Mailbox::Turn::Queued);
    CHECK(box->write_turn(w2) == Mailbox::Turn::Queued);
    box->abort_append(b);
    CHECK(w1.woken);
    box->leave_turn_queue(w1);
    CHECK(w2.woken);
    CHECK(box->write_turn(w2) == Mailbox::Turn::Ready);
    env.user.close(box);
}

TEST_CASE("staged APPEND: two commands into one mailbox both succeed, in turn", "[store][append]") {
    Env env;
    auto r1 = env.user.open("INBOX");
    auto r2 = env.user.open("INBOX");
    REQUIRE(r1.ok());
    REQUIRE(r2.ok());
    StagedAppend a, b;
    // Both stage at once: staging takes no mailbox lock.
    stage_all(env, a, r1.value, 0, {std::string(1000, 'a') + "\r\n", "second\r\n"});
    stage_all(env, b, r2.value, 1, {"from b\r\n"});
    CHECK(env.fs.exists(env.stage(0)));
    CHECK(env.fs.exists(env.stage(1)));
    // a copies in bounded steps (100 bytes each) and holds the turn meanwhile.
    const std::uint64_t before = env.fs.bytes_written();
    CHECK(step(a, 100) == StagedAppend::Step::More);
    CHECK(env.fs.bytes_written() - before <= 100 + 64);  // the bytes and one frame header
    CHECK(a.holding());
    CHECK(step(b, 100) == StagedAppend::Step::Queued);
    CHECK_FALSE(b.waiter().woken);
    std::uint32_t uid = 0;
    StagedAppend::Step s = StagedAppend::Step::More;
    for (int i = 0; i < 100 && s == StagedAppend::Step::More; ++i) s = step(a, 100, &uid);
    REQUIRE(s == StagedAppend::Step::Done);
    CHECK(uid == 1);
    CHECK(b.waiter().woken);  // woken by a's commit
    REQUIRE(step(b, 100, &uid) == StagedAppend::Step::Done);
    CHECK(uid == 3);
    a.end_command();
    b.close();
    CHECK(env.fs.exists(env.stage(0)));  // kept for the next command
    CHECK_FALSE(env.fs.exists(env.stage(1)));
    a.close();
    CHECK_FALSE(env.fs.exists(env.stage(0)));  // gone with the connection
    CHECK(messages(env, "INBOX") == 3);
    env.user.close(r1.value);
    env.user.close(r2.value);
}

TEST_CASE("staged APPEND: another process's lock is Locked (retry), never a failure",
          "[store][append]") {
    Env env;
    auto r = env.user.open("INBOX");
    REQUIRE(r.ok());
    Path dir;
    REQUIRE(env.user.mailbox_dir("INBOX", &dir) == Status::Ok);
    // `tinyimapd deliver` in another process: its own handle and lock.
    auto other =
        env.fs.open(std::string(dir.view()) + "/m.data", port::kOpenRead | port::kOpenWrite);
    REQUIRE(other.ok());
    REQUIRE(env.fs.lock(other.value, port::LockMode::Exclusive) == Status::Ok);
    StagedAppend sa;
    stage_all(env, sa, r.value, 0, {"hello\r\n"});
    CHECK(step(sa, 1000) == StagedAppend::Step::Locked);
    CHECK(step(sa, 1000) == StagedAppend::Step::Locked);
    REQUIRE(env.fs.unlock(other.value) == Status::Ok);
    std::uint32_t uid = 0;
    CHECK(step(sa, 1000, &uid) == StagedAppend::Step::Done);
    CHECK(uid == 1);
    sa.close();
    (void)env.fs.close(other.value);
    env.user.close(r.value);
}

TEST_CASE("staged APPEND: the stage is locked while in use; stale stages go at login",
          "[store][append]") {
    Env env;
    auto r = env.user.open("INBOX");
    REQUIRE(r.ok());
    StagedAppend sa;
    stage_all(env, sa, r.value, 3, {"x\r\n"});
    // Another process (or a second server) cannot take the same stage.
    StagedAppend other;
    CHECK(other.open(env.reg.services(), kRoot, 3, r.value) == Status::Busy);
    // A stage left by a crash (nobody holds it) is removed; one in use stays.
    env.fs.write_file(env.stage(7), "half a message");
    remove_stale_stages(env.reg.services(), kRoot);
    CHECK_FALSE(env.fs.exists(env.stage(7)));
    CHECK(env.fs.exists(env.stage(3)));
    sa.close();
    CHECK(messages(env, "INBOX") == 0);  // never committed: nothing visible
    env.user.close(r.value);
}

TEST_CASE("RFC 2180 §3.3: DELETE of an open mailbox retires it; a staged APPEND fails",
          "[store][append]") {
    Env env;
    REQUIRE(env.user.create("Work") == Status::Ok);
    auto r = env.user.open("Work");
    REQUIRE(r.ok());
    StagedAppend sa;
    stage_all(env, sa, r.value, 0, {std::string(500, 'w') + "\r\n"});
    CHECK(step(sa, 100) == StagedAppend::Step::More);  // copying, under the lock
    REQUIRE(env.user.remove("Work") == Status::Ok);
    Status error = Status::Ok;
    StagedAppend::Step s = StagedAppend::Step::More;
    for (int i = 0; i < 100 && s == StagedAppend::Step::More; ++i)
        s = step(sa, 100, nullptr, &error);
    CHECK(s == StagedAppend::Step::Failed);
    CHECK(error == Status::NotFound);
    sa.close();
    env.user.close(r.value);
    // A new mailbox under the name is a new one, empty.
    REQUIRE(env.user.create("Work") == Status::Ok);
    CHECK(messages(env, "Work") == 0);
}

TEST_CASE("RFC 2180 §3.4: RENAME moves open mailboxes and their children with it",
          "[store][append]") {
    Env env;
    REQUIRE(env.user.create("Work/Sub") == Status::Ok);
    REQUIRE(env.user.create("Work") == Status::Ok);
    auto w = env.user.open("Work");
    auto sub = env.user.open("Work/Sub");
    REQUIRE(w.ok());
    REQUIRE(sub.ok());
    REQUIRE(env.user.rename("Work", "Old/Projects") == Status::Ok);
    Path p;
    REQUIRE(env.user.mailbox_dir("Old/Projects/Sub", &p) == Status::Ok);
    CHECK(sub.value->dir() == p.view());
    REQUIRE(env.user.mailbox_dir("Old/Projects", &p) == Status::Ok);
    CHECK(w.value->dir() == p.view());
    // Appends through the open objects land in the renamed mailboxes.
    StagedAppend sa;
    stage_all(env, sa, sub.value, 0, {"moved\r\n"});
    CHECK(step(sa, 1000) == StagedAppend::Step::Done);
    sa.close();
    CHECK(messages(env, "Old/Projects/Sub") == 1);
    // Compaction (by path) works on the new directory.
    CHECK(sub.value->maybe_compact(true) == Status::Ok);
    CHECK(sub.value->compact_to_end() == Status::Ok);
    env.user.close(w.value);
    env.user.close(sub.value);
    CHECK(messages(env, "Old/Projects/Sub") == 1);
}

TEST_CASE("RENAME refuses when a child's new name would pass the limits", "[store]") {
    Env env;
    // A child of 3 + 1 + 200 + 1 + 200 + 1 + 100 = 506 bytes: within 512.
    const std::string child =
        "Box/" + std::string(200, 'x') + "/" + std::string(200, 'y') + "/" + std::string(100, 'z');
    REQUIRE(env.user.create(child) == Status::Ok);
    // "Box" -> 10 bytes: the child would be 513 bytes long.
    CHECK(env.user.rename("Box", "Renamed123") == Status::TooLong);
    CHECK(messages(env, child) == 0);  // still there, still listed
    // Depth: 31 levels under "D" fit now, 33 would not.
    std::string deep = "D";
    for (int i = 0; i < 30; ++i) deep += "/l";
    REQUIRE(env.user.create(deep) == Status::Ok);
    CHECK(env.user.rename("D", "E/F/G") == Status::TooLong);
    REQUIRE(env.user.rename("D", "E") == Status::Ok);     // same depth: fine
    REQUIRE(env.user.rename("Box", "Bx") == Status::Ok);  // shorter: fine
}
