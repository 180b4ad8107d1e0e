// Tests of the per-user mailbox tree (core/store/user_store.h, name_map.h):
// the FAT-safe name mapping, CREATE/DELETE/RENAME (RFC 3501 §6.3.3-§6.3.5),
// LIST/LSUB patterns (§6.3.8, §6.3.9) and subscriptions (§6.3.6, §6.3.7).
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "core/mail/flags.h"
#include "core/store/name_map.h"
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
    Env() : StoreEnv(3) {}
};

struct Collect final : ListVisitor {
    std::vector<std::pair<std::string, int>> got;
    bool mailbox(std::string_view name, std::uint8_t attrs) override {
        got.emplace_back(std::string(name), attrs);
        return true;
    }
    std::vector<std::string> names() const {
        std::vector<std::string> n;
        for (const auto& g : got) n.push_back(g.first);
        return n;
    }
    int attrs_of(const std::string& name) const {
        for (const auto& g : got)
            if (g.first == name) return g.second;
        return -1;
    }
};

std::vector<std::string> list(Env& env, std::string_view ref, std::string_view pattern) {
    Collect c;
    REQUIRE(env.user.list(ref, pattern, c) == Status::Ok);
    return c.names();
}

std::string path_of(std::string_view root, std::string_view name) {
    FixedText<1200> t;
    const Status st = mailbox_path(root, name, t);
    return st == Status::Ok ? std::string(t.view())
                            : "<" + std::to_string(static_cast<int>(st)) + ">";
}

Status append(Mailbox* m, std::string_view text) {
    Appender a;
    Status st = m->begin_append(a, static_cast<std::uint32_t>(text.size()), 0, 0, 0, 0);
    if (st == Status::Ok) st = m->append_chunk(a, text.data(), text.size());
    std::uint32_t uid = 0;
    if (st == Status::Ok) st = m->commit_append(a, &uid);
    return st;
}

}  // namespace

TEST_CASE("store names: FAT-safe, case-distinct, never escaping the root", "[store]") {
    CHECK(path_of("/r", "INBOX") == "/r/^i^n^b^o^x");
    CHECK(path_of("/r", "inbox/Sub") == "/r/^i^n^b^o^x/^sub");
    CHECK(path_of("/r", "Work") != path_of("/r", "work"));
    CHECK(path_of("/r", "a b/c.d") == "/r/a%20b/c%2ed");
    CHECK(path_of("/r", "Q&AOk-r") == "/r/^q&^a^ok-r");
    CHECK(path_of("/r", "x:y*z?") == "/r/x%3ay%2az%3f");
    CHECK(path_of("/r", "..") == "<15>");  // Invalid
    CHECK(path_of("/r", "a/../b") == "<15>");
    CHECK(path_of("/r", "/abs") == "<15>");
    CHECK(path_of("/r", std::string("a\0b", 3)) == "<15>");
    CHECK(path_of("/r", "") == "<15>");
    // Encoded names never contain characters FAT forbids, upper case or '.'.
    const std::string nasty = "A.\"*:<>?\\|%^ ~!";
    FixedText<300> enc;
    REQUIRE(encode_level(nasty, enc));
    for (char c : enc.view()) {
        CHECK(std::string_view("\"*/:<>?\\|.").find(c) == std::string_view::npos);
        CHECK_FALSE((c >= 'A' && c <= 'Z'));
    }
    FixedText<300> dec;
    REQUIRE(decode_level(enc.view(), dec));
    CHECK(dec.view() == nasty);
    FixedText<300> bad;
    CHECK_FALSE(decode_level("m.data", bad));
    CHECK_FALSE(decode_level("%41", bad));  // not canonical ('A' is ^a)
    CHECK(match_pattern("a/%", "a/b"));
    CHECK_FALSE(match_pattern("a/%", "a/b/c"));
    CHECK(match_pattern("a/*", "a/b/c"));
    CHECK(match_pattern("*", "x"));
    CHECK(match_pattern("%b%", "abc"));
}

TEST_CASE("store tree: CREATE, LIST with * and %, \\Noselect parents (RFC 3501 §6.3.3, §6.3.8)",
          "[store]") {
    Env env;
    REQUIRE(env.user.create("Work/2024/Q1") == Status::Ok);
    REQUIRE(env.user.create("Archive") == Status::Ok);
    CHECK(env.user.create("Archive") == Status::Exists);
    CHECK(env.user.create("inbox") == Status::Exists);
    CHECK(env.user.create("bad/../x") == Status::Invalid);
    CHECK(list(env, "", "*") ==
          std::vector<std::string>{"Archive", "INBOX", "Work", "Work/2024", "Work/2024/Q1"});
    CHECK(list(env, "", "%") == std::vector<std::string>{"Archive", "INBOX", "Work"});
    CHECK(list(env, "Work/", "%") == std::vector<std::string>{"Work/2024"});
    CHECK(list(env, "", "inbox") == std::vector<std::string>{"INBOX"});
    Collect c;
    REQUIRE(env.user.list("", "*", c) == Status::Ok);
    CHECK(c.attrs_of("Work") == (kNoselect | kHasChildren));
    CHECK(c.attrs_of("Work/2024/Q1") == kHasNoChildren);
    CHECK(env.user.open("Work").status == Status::NotFound);
    // CREATE of a \Noselect name makes it selectable.
    REQUIRE(env.user.create("Work") == Status::Ok);
    auto w = env.user.open("Work");
    REQUIRE(w.status == Status::Ok);
    env.user.close(w.value);
    // No temporary directories left behind.
    for (const auto& [path, content] : env.fs.snapshot())
        CHECK(path.find(".tmp") == std::string::npos);
}

TEST_CASE("store tree: DELETE (RFC 3501 §6.3.4)", "[store]") {
    Env env;
    REQUIRE(env.user.create("a/b") == Status::Ok);
    REQUIRE(env.user.create("a") == Status::Ok);
    CHECK(env.user.remove("INBOX") == Status::Permission);
    CHECK(env.user.remove("nope") == Status::NotFound);
    // With children: only its messages go; it stays as \Noselect.
    REQUIRE(env.user.remove("a") == Status::Ok);
    Collect c;
    REQUIRE(env.user.list("", "*", c) == Status::Ok);
    CHECK(c.attrs_of("a") == (kNoselect | kHasChildren));
    CHECK(env.user.remove("a") == Status::NotEmpty);
    // RFC 2180 §3.3: open (selected) is no obstacle; the open mailbox is
    // retired, so nothing more is acknowledged into it.
    auto b = env.user.open("a/b");
    REQUIRE(b.status == Status::Ok);
    View bv;
    b.value->attach(bv, false);
    REQUIRE(env.user.remove("a/b") == Status::Ok);
    CHECK(b.value->retired());
    CHECK(bv.invalidated);
    CHECK(bv.deleted);
    CHECK(append(b.value, "late\r\n") == Status::NotFound);
    CHECK(env.user.open("a/b").status == Status::NotFound);
    b.value->detach(bv);
    env.user.close(b.value);
    REQUIRE(env.user.remove("a") == Status::Ok);
    CHECK(list(env, "", "*") == std::vector<std::string>{"INBOX"});
    // A new mailbox under an old name gets a new UIDVALIDITY (§2.3.1.1).
    REQUIRE(env.user.create("x") == Status::Ok);
    StatusInfo s1, s2;
    REQUIRE(env.user.status("x", &s1) == Status::Ok);
    REQUIRE(env.user.remove("x") == Status::Ok);
    REQUIRE(env.user.create("x") == Status::Ok);
    REQUIRE(env.user.status("x", &s2) == Status::Ok);
    CHECK(s1.uid_validity != s2.uid_validity);
}

TEST_CASE("store tree: RENAME moves children; RENAME INBOX moves its messages (§6.3.5)",
          "[store]") {
    Env env;
    REQUIRE(env.user.create("a/b") == Status::Ok);
    REQUIRE(env.user.create("a") == Status::Ok);
    REQUIRE(env.user.create("c") == Status::Ok);
    CHECK(env.user.rename("a", "c") == Status::Exists);
    CHECK(env.user.rename("a", "a/x") == Status::Invalid);
    CHECK(env.user.rename("zz", "y") == Status::NotFound);
    REQUIRE(env.user.rename("a", "n/m") == Status::Ok);
    CHECK(list(env, "", "*") == std::vector<std::string>{"INBOX", "c", "n", "n/m", "n/m/b"});

    auto in = env.user.open("INBOX");
    REQUIRE(in.status == Status::Ok);
    REQUIRE(append(in.value, "one\r\n") == Status::Ok);
    REQUIRE(append(in.value, "two\r\n") == Status::Ok);
    const std::uint32_t validity = in.value->uid_validity();
    // Selected elsewhere is no obstacle: the open INBOX is retired (its
    // sessions told), the next open gets the empty INBOX.
    REQUIRE(env.user.rename("INBOX", "old") == Status::Ok);
    CHECK(in.value->retired());
    CHECK(append(in.value, "late\r\n") == Status::NotFound);
    env.user.close(in.value);
    StatusInfo si;
    REQUIRE(env.user.status("INBOX", &si) == Status::Ok);
    CHECK(si.messages == 0);
    CHECK(si.uid_next == 3);  // UIDs are not reused
    CHECK(si.uid_validity == validity);
    REQUIRE(env.user.status("old", &si) == Status::Ok);
    CHECK(si.messages == 2);
    auto o = env.user.open("old");
    REQUIRE(o.status == Status::Ok);
    View v;
    o.value->attach(v, true);
    MessageInfo m;
    REQUIRE(o.value->message(v, 2, &m) == Status::Ok);
    char buf[16];
    std::size_t got = 0;
    REQUIRE(o.value->read(m, 0, buf, sizeof buf, &got) == Status::Ok);
    CHECK(std::string(buf, got) == "two\r\n");
    o.value->detach(v);
    env.user.close(o.value);
}

// RENAME INBOX in steps (TreeOp::step_bytes, async flushes as the server
// runs it): while it runs, INBOX is the operation's alone in this process —
// a writer's write turn is queued (and woken at the end), a lock (a COPY
// into INBOX, a \Recent claim, an APPEND begun without the turn) says
// Busy — while readers go on; then RFC 3501 §6.3.5: INBOX empty with its
// UIDVALIDITY and UIDNEXT, the new mailbox with its messages.
TEST_CASE("store tree: RENAME INBOX in steps keeps INBOX's other writers out (§6.3.5)",
          "[store][rename]") {
    Env env;
    auto in = env.user.open("INBOX");
    REQUIRE(in.status == Status::Ok);
    for (int i = 0; i < 20; ++i)
        REQUIRE(append(in.value, "message " + std::to_string(i) + "\r\n") == Status::Ok);
    const std::uint32_t validity = in.value->uid_validity();
    REQUIRE(env.user.create("other") == Status::Ok);
    auto other = env.user.open("other");
    REQUIRE(other.status == Status::Ok);
    REQUIRE(append(other.value, "elsewhere\r\n") == Status::Ok);
    View reader;
    in.value->attach(reader, true);

    env.fs.set_async_flush(true);
    TreeOp op(TreeOp::Kind::Rename, "INBOX", "old");
    op.async = true;
    op.step_bytes = 64;
    TurnWaiter writer;
    int steps = 0, flushes = 0;
    // Another process (a Registry of its own on the same files, as
    // `tinyimapd deliver`): INBOX is locked for it throughout; its open
    // neither finishes nor undoes the operation under way.
    StoreLimits other_limits;
    std::vector<unsigned char> other_memory(Registry::bytes_needed(other_limits));
    Arena other_arena(other_memory.data(), other_memory.size());
    Registry other_process(env.fs, env.clock, env.entropy, other_limits);
    REQUIRE(other_process.init(other_arena) == Status::Ok);
    Path inbox_dir;
    REQUIRE(env.user.mailbox_dir("INBOX", &inbox_dir) == Status::Ok);
    Status st = env.user.step(op);
    while (st == Status::WouldBlock) {
        ++steps;
        if (op.box != nullptr && !op.box->retired()) {
            // Readers go on; writers wait.
            MessageInfo m;
            CHECK(in.value->message(reader, 20, &m) == Status::Ok);
            CHECK(in.value->write_turn(writer) == Mailbox::Turn::Queued);
            CHECK_FALSE(writer.woken);
            CHECK(other.value->begin_copy(*in.value) == Status::Busy);
            CHECK(append(in.value, "sneaked in\r\n") == Status::Busy);
        }
        if (op.box != nullptr) CHECK(other_process.acquire(inbox_dir.view()).status == Status::Busy);
        if (op.pending) {
            port::FlushDone done;
            REQUIRE(env.fs.flush_done(&done, 1) == 1);
            op.flushed(done.status);
            ++flushes;
        }
        st = env.user.step(op);
    }
    env.fs.set_async_flush(false);
    REQUIRE(st == Status::Ok);
    CHECK(steps > flushes);  // the copy took steps of its own
    CHECK(flushes == 10);    // 5 fsyncs and 5 directory syncs
    CHECK(writer.woken);     // let go: the writer's turn came
    CHECK(in.value->retired());
    in.value->leave_turn_queue(writer);
    in.value->detach(reader);
    env.user.close(in.value);
    env.user.close(other.value);
    StatusInfo si;
    REQUIRE(env.user.status("INBOX", &si) == Status::Ok);
    CHECK(si.messages == 0);
    CHECK(si.uid_next == 21);
    CHECK(si.uid_validity == validity);
    REQUIRE(env.user.status("old", &si) == Status::Ok);
    CHECK(si.messages == 20);
    CHECK(si.uid_next == 21);
    CHECK(si.uid_validity == validity);
    auto later = other_process.acquire(inbox_dir.view());  // done: it opens the empty INBOX
    REQUIRE(later.status == Status::Ok);
    CHECK(later.value->state().live_count == 0);
    other_process.release(later.value);
    port::FileInfo fi;
    CHECK(env.fs.stat(std::string(kRoot) + "/i.tmp", &fi) == Status::NotFound);
}

TEST_CASE("store tree: SUBSCRIBE, UNSUBSCRIBE, LSUB (RFC 3501 §6.3.6, §6.3.7, §6.3.9)", "[store]") {
    Env env;
    REQUIRE(env.user.create("Lists/dev") == Status::Ok);
    REQUIRE(env.user.subscribe("inbox", true) == Status::Ok);
    REQUIRE(env.user.subscribe("Lists/dev", true) == Status::Ok);
    REQUIRE(env.user.subscribe("Gone", true) == Status::Ok);
    REQUIRE(env.user.subscribe("Lists/dev", true) == Status::Ok);  // once only
    Collect c;
    REQUIRE(env.user.list_subscribed("", "*", c) == Status::Ok);
    CHECK(c.names() == std::vector<std::string>{"INBOX", "Lists/dev", "Gone"});
    CHECK(c.attrs_of("Gone") == (kSubscribed | kNoselect | kNonExistent));
    REQUIRE(env.user.subscribe("Lists/dev", false) == Status::Ok);
    Collect d;
    REQUIRE(env.user.list_subscribed("", "%", d) == Status::Ok);
    CHECK(d.names() == std::vector<std::string>{"INBOX", "Gone"});
    CHECK(env.fs.read_file(std::string(kRoot) + "/subs.txt") == "INBOX\nGone\n");
}
