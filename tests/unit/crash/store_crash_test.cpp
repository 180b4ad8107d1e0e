// The crash matrix of the mail store (DESIGN.md "Storage": mail answered OK
// survives a crash at any point). For each operation: run it once to count
// its crash points (every write, fsync, rename, ... of SimFs), then, on a
// fresh SimFs each time, crash it at every one of them — with the unsynced
// writes all dropped, and applied/dropped/torn at random with a few seeds —
// restart (a new process: a new Registry), reopen and check:
//   - acknowledged (the operation returned Ok before the crash): the state
//     after the operation, exactly;
//   - not acknowledged: the state before it or after it, never anything in
//     between (no partial message, no duplicate, no lost message);
//   - UIDVALIDITY never changes, UIDNEXT never goes back, UIDs stay;
//   - the header's counts agree with the messages; the mailbox keeps working
//     (a follow-up APPEND gets a UID above every one seen).
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/mail/flags.h"
#include "core/mail/mailbox_name.h"
#include "core/store/acl.h"
#include "core/store/registry.h"
#include "core/store/staged_append.h"
#include "core/store/user_store.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"

using namespace tinyimapd;
using namespace tinyimapd::store;
using sim::SimFs;

namespace {

constexpr std::string_view kRoot = "/mail/u";
constexpr std::string_view kBox = "/mail/u/box";
constexpr std::string_view kDest = "/mail/u/dest";

struct Env {
    sim::SimClock clock;
    SimFs fs{&clock};
    sim::SimEntropy entropy{7};
    StoreLimits limits;
    std::vector<unsigned char> mem;
    alignas(Registry) unsigned char reg_storage[sizeof(Registry)];
    Registry* reg = nullptr;

    explicit Env(std::uint64_t min_waste) {
        limits.max_open_mailboxes = 4;
        limits.cache_records = 4;
        limits.max_pending_expunges = 8;
        limits.change_ring = 4;
        limits.scratch_bytes = 128;
        limits.compact_min_waste = min_waste;
        limits.compact_step_bytes = 64;  // a compaction takes many steps
        start();
    }
    ~Env() { reg->~Registry(); }
    void start() {
        mem.assign(Registry::bytes_needed(limits), 0);
        reg = new (reg_storage) Registry(fs, clock, entropy, limits);
        Arena a(mem.data(), mem.size());
        REQUIRE(reg->init(a) == Status::Ok);
    }
    void restart() {
        reg->close_all();  // a compaction kept open is abandoned, as by an exit
        reg->~Registry();
        start();
    }
    void create(std::string_view dir, std::uint32_t validity) {
        fs.make_dirs(dir);
        REQUIRE(Mailbox::create_files(reg->services(), dir, validity, 1, 1) == Status::Ok);
    }
};

// Test doubles that core calls back use CHECK, never REQUIRE (STYLE.md).
Status append(Mailbox* m, std::string_view text, std::uint8_t flags, std::uint64_t kw = 0,
              std::uint32_t* uid = nullptr) {
    Appender a;
    Status st =
        m->begin_append(a, static_cast<std::uint32_t>(text.size()), flags, kw, 1700000000, 60);
    if (st != Status::Ok) return st;
    for (std::size_t i = 0; i < text.size() && st == Status::Ok; i += 37)
        st = m->append_chunk(a, text.data() + i, std::min<std::size_t>(37, text.size() - i));
    if (st != Status::Ok) {
        m->abort_append(a);
        return st;
    }
    std::uint32_t u = 0;
    st = m->commit_append(a, &u);
    if (uid != nullptr) *uid = u;
    return st;
}

struct Msg {
    std::uint32_t uid;
    std::uint8_t flags;
    std::vector<std::string> keywords;
    std::string body;
    bool operator==(const Msg& o) const {
        return uid == o.uid && flags == o.flags && keywords == o.keywords && body == o.body;
    }
};

struct Box {
    bool exists = false;
    std::uint32_t validity = 0;
    std::uint32_t uid_next = 0;
    std::uint64_t highest_modseq = 0;
    std::vector<Msg> msgs;
    bool same_content(const Box& o) const {
        return exists == o.exists && validity == o.validity && msgs == o.msgs;
    }
};

using Snap = std::map<std::string, Box>;

std::string describe(const Snap& s) {
    std::string out;
    for (const auto& [dir, b] : s) {
        out += dir + (b.exists ? "" : " (none)") + " v=" + std::to_string(b.validity) +
               " next=" + std::to_string(b.uid_next) + ":";
        for (const Msg& m : b.msgs) {
            out += " " + std::to_string(m.uid) + "/" + std::to_string(m.flags);
            for (const auto& k : m.keywords) out += "/" + k;
            out += "[" + std::to_string(m.body.size()) + "]";
        }
        out += "\n";
    }
    return out;
}

Box read_box(Env& env, std::string_view dir) {
    Box b;
    auto r = env.reg->acquire(dir);
    if (r.status == Status::NotFound) return b;
    REQUIRE(r.status == Status::Ok);
    Mailbox* m = r.value;
    b.exists = true;
    b.validity = m->uid_validity();
    b.uid_next = m->uid_next();
    b.highest_modseq = m->highest_modseq();
    View v;
    m->attach(v, true);
    std::uint64_t bytes = 0;
    std::uint32_t unseen = 0;
    for (std::uint32_t seq = 1; seq <= v.exists; ++seq) {
        MessageInfo info;
        REQUIRE(m->message(v, seq, &info) == Status::Ok);
        REQUIRE_FALSE(info.expunged);
        Msg msg{info.uid, static_cast<std::uint8_t>(info.flags & ~mail::kRecent), {}, {}};
        for (unsigned bit = 0; bit < 64; ++bit)
            if (info.keywords & (1ull << bit)) msg.keywords.emplace_back(m->keyword_name(bit));
        std::sort(msg.keywords.begin(), msg.keywords.end());
        msg.body.resize(info.size);
        std::size_t got = 0;
        REQUIRE(m->read(info, 0, msg.body.data(), info.size, &got) == Status::Ok);
        REQUIRE(got == info.size);
        REQUIRE(info.uid < b.uid_next);
        if (!b.msgs.empty()) REQUIRE(info.uid > b.msgs.back().uid);
        bytes += info.size;
        if ((info.flags & mail::kSeen) == 0) ++unseen;
        b.msgs.push_back(std::move(msg));
    }
    StatusInfo si;
    REQUIRE(m->status(&si) == Status::Ok);
    CHECK(si.messages == b.msgs.size());
    CHECK(si.unseen == unseen);
    CHECK(si.size == bytes);
    m->detach(v);
    env.reg->release(m);
    return b;
}

Snap snapshot(Env& env, const std::vector<std::string>& dirs) {
    env.restart();
    Snap s;
    for (const auto& d : dirs) s[d] = read_box(env, d);
    return s;
}

struct Scenario {
    const char* name;
    std::vector<std::string> dirs;
    std::function<void(Env&)> setup;
    std::function<Status(Env&)> op;
    std::uint64_t min_waste = 1ull << 40;  // no compaction unless the scenario wants it
    // The operation changes no message (an in-place slide): every outcome
    // has the same HIGHESTMODSEQ, so recovery never fell back to a rebuild.
    bool same_modseq = false;
};

// After recovery the mailbox must accept mail again, with a fresh UID.
void follow_up(Env& env, const Snap& s) {
    for (const auto& [dir, b] : s) {
        if (!b.exists) continue;
        env.restart();
        auto r = env.reg->acquire(dir);
        REQUIRE(r.status == Status::Ok);
        std::uint32_t uid = 0;
        REQUIRE(append(r.value, "follow-up\r\n", 0, 0, &uid) == Status::Ok);
        if (!b.msgs.empty()) CHECK(uid > b.msgs.back().uid);
        CHECK(uid >= b.uid_next);
        env.reg->release(r.value);
        Box after = snapshot(env, {dir})[dir];
        REQUIRE(after.msgs.size() == b.msgs.size() + 1);
        CHECK(after.msgs.back().uid == uid);
        CHECK(after.validity == b.validity);
    }
}

void run_matrix(const Scenario& sc) {
    Snap before, after;
    std::uint64_t points = 0;
    {
        Env env(sc.min_waste);
        sc.setup(env);
        env.fs.sync_all();
        before = snapshot(env, sc.dirs);
    }
    {
        Env env(sc.min_waste);
        sc.setup(env);
        env.fs.sync_all();
        env.restart();
        env.fs.reset_counters();
        REQUIRE(sc.op(env) == Status::Ok);
        points = env.fs.crash_points();
        after = snapshot(env, sc.dirs);
    }
    INFO("scenario " << sc.name << ", " << points << " crash points");
    INFO("before:\n" << describe(before) << "after:\n" << describe(after));
    REQUIRE(points > 0);
    struct Mode {
        SimFs::CrashMode mode;
        std::uint64_t seed;
    };
    const Mode modes[] = {{SimFs::CrashMode::DropAll, 0},
                          {SimFs::CrashMode::ApplyRandom, 1},
                          {SimFs::CrashMode::ApplyRandom, 2},
                          {SimFs::CrashMode::ApplyRandom, 3}};
    bool saw_before = false, saw_after = false;
    for (const Mode& mode : modes) {
        for (unsigned n = 1; n <= points; ++n) {
            Env env(sc.min_waste);
            sc.setup(env);
            env.fs.sync_all();
            env.restart();
            env.fs.set_crash_mode(mode.mode);
            env.fs.set_seed(mode.seed);
            env.fs.crash_at_write(n);
            const bool acked = sc.op(env) == Status::Ok;
            REQUIRE(env.fs.crashed());
            env.fs.restart();
            const Snap got = snapshot(env, sc.dirs);
            INFO("crash at point " << n << " mode " << static_cast<int>(mode.mode) << " seed "
                                   << mode.seed << (acked ? " (acknowledged)" : ""));
            INFO("got:\n" << describe(got));
            bool is_before = true, is_after = true;
            for (const auto& d : sc.dirs) {
                is_before = is_before && got.at(d).same_content(before.at(d));
                is_after = is_after && got.at(d).same_content(after.at(d));
                if (got.at(d).exists && before.at(d).exists)
                    CHECK(got.at(d).uid_next >= before.at(d).uid_next);
                if (got.at(d).exists && before.at(d).exists)
                    CHECK(got.at(d).highest_modseq >= before.at(d).highest_modseq);
                if (sc.same_modseq && got.at(d).exists)
                    CHECK(got.at(d).highest_modseq == before.at(d).highest_modseq);
            }
            if (acked) {
                REQUIRE(is_after);
            } else {
                REQUIRE((is_before || is_after));
            }
            saw_before = saw_before || is_before;
            saw_after = saw_after || is_after;
            follow_up(env, got);
        }
    }
    CHECK(saw_before);
}

void setup_box(Env& env, int count) {
    env.create(kBox, 1234);
    auto r = env.reg->acquire(kBox);
    REQUIRE(r.status == Status::Ok);
    for (int i = 1; i <= count; ++i) {
        const std::uint8_t flags = (i % 2) ? mail::kSeen : 0;
        REQUIRE(append(r.value,
                       "Subject: " + std::to_string(i) + "\r\n\r\n" +
                           std::string(30 + i * 7, 'a' + i) + "\r\n",
                       flags) == Status::Ok);
    }
    env.reg->release(r.value);
}

Status mark_deleted(Env& env, std::initializer_list<std::uint32_t> seqs) {
    auto r = env.reg->acquire(kBox);
    if (r.status != Status::Ok) return r.status;
    Mailbox* m = r.value;
    View v;
    m->attach(v, false);
    Status st = m->begin_store();
    for (std::uint32_t seq : seqs) {
        MessageInfo info;
        bool skipped = false;
        if (st == Status::Ok)
            st = m->store(v, seq, FlagOp::Add, mail::kDeleted, 0, 0, &info, &skipped);
    }
    if (st == Status::Ok) {
        st = m->commit_store();
    } else {
        m->abort_store();
    }
    m->detach(v);
    env.reg->release(m);
    return st;
}

Status do_expunge(Env& env) {
    auto r = env.reg->acquire(kBox);
    if (r.status != Status::Ok) return r.status;
    Mailbox* m = r.value;
    View v;
    m->attach(v, false);
    std::uint32_t uids[8];
    std::size_t n = 0;
    Status st = m->expunge(v, nullptr, uids, 8, &n);
    struct Null final : SyncVisitor {
        bool expunged(std::uint32_t, std::uint32_t) override { return true; }
        void exists(std::uint32_t, std::uint32_t) override {}
        bool flags_changed(std::uint32_t, std::uint32_t) override { return true; }
        void flags_unknown(std::uint64_t) override {}
    } null;
    if (st == Status::Ok) st = m->sync(v, null);  // may start a compaction
    m->detach(v);
    env.reg->release(m);
    // The loop's background steps run it (each a crash point or several).
    for (int i = 0; st == Status::Ok && i < 100000 && env.reg->background_pending(); ++i)
        env.reg->background_step();
    return st;
}

// EXPUNGE, then the compaction it starts run one step at a time while a
// reader keeps reading every message from the old file and a writer begins
// (and gives up) between the steps. Ok only when the compaction committed.
Status do_expunge_stepped(Env& env) {
    auto r = env.reg->acquire(kBox);
    if (r.status != Status::Ok) return r.status;
    Mailbox* m = r.value;
    View v, reader;
    m->attach(v, false);
    m->attach(reader, true);
    std::uint32_t uids[8];
    std::size_t n = 0;
    Status st = m->expunge(v, nullptr, uids, 8, &n);
    struct Null final : SyncVisitor {
        bool expunged(std::uint32_t, std::uint32_t) override { return true; }
        void exists(std::uint32_t, std::uint32_t) override {}
        bool flags_changed(std::uint32_t, std::uint32_t) override { return true; }
        void flags_unknown(std::uint64_t) override {}
    } null;
    if (st == Status::Ok) st = m->sync(reader, null);
    if (st == Status::Ok) st = m->sync(v, null);  // starts the compaction
    if (st == Status::Ok && !m->compacting()) st = Status::Invalid;
    std::vector<std::string> bodies;
    for (std::uint32_t seq = 1; st == Status::Ok && seq <= reader.exists; ++seq) {
        MessageInfo info;
        st = m->message(reader, seq, &info);
        std::string b(info.size, '\0');
        std::size_t got = 0;
        if (st == Status::Ok) st = m->read(info, 0, b.data(), b.size(), &got);
        bodies.push_back(b);
    }
    int steps = 0;
    while (st == Status::Ok && m->compacting()) {
        std::uint64_t budget = env.limits.compact_step_bytes;
        st = m->compact_step(&budget);
        ++steps;
        // A writer of this process is not held off (it goes between the
        // steps); one that gives up changes nothing.
        Appender a;
        if (m->compacting()) {
            const Status began = m->begin_append(a, 5, 0, 0, 1700000000, 0);
            if (began == Status::Ok) m->abort_append(a);
            CHECK((began == Status::Ok || env.fs.crashed()));
        }
        for (std::uint32_t seq = 1; st == Status::Ok && seq <= reader.exists; ++seq) {
            MessageInfo info;
            if (m->message(reader, seq, &info) != Status::Ok) break;  // after a failed step
            std::string b(info.size, '\0');
            std::size_t got = 0;
            if (m->read(info, 0, b.data(), b.size(), &got) != Status::Ok) break;
            CHECK(b == bodies[seq - 1]);
        }
    }
    if (st == Status::Ok) CHECK(steps > 4);  // copied in pieces, synced in steps
    m->detach(reader);
    m->detach(v);
    env.reg->release(m);
    return st;
}

// The operation run once without a crash: what the mailbox holds after it
// (restarted), to check against what the operation must have done.
Box run_once(const Scenario& sc) {
    Env env(sc.min_waste);
    sc.setup(env);
    env.fs.sync_all();
    env.restart();
    REQUIRE(sc.op(env) == Status::Ok);
    CHECK(!env.fs.exists(std::string(kBox) + "/m.data.new"));
    return snapshot(env, sc.dirs)[std::string(kBox)];
}

std::string uids_and_flags(const Box& b) {
    std::string out;
    for (const Msg& m : b.msgs) out += std::to_string(m.uid) + "/" + std::to_string(m.flags) + " ";
    return out;
}

// Setup: messages 2 and 3 of 6 expunged, not compacted yet (a compaction
// that started is abandoned by the restart before the operation).
void setup_expunged(Env& env) {
    setup_box(env, 6);
    REQUIRE(mark_deleted(env, {2, 3}) == Status::Ok);
    auto r = env.reg->acquire(kBox);
    REQUIRE(r.status == Status::Ok);
    View v;
    r.value->attach(v, false);
    std::size_t n = 0;
    REQUIRE(r.value->expunge(v, nullptr, nullptr, 8, &n) == Status::Ok);
    REQUIRE(n == 2);
    r.value->detach(v);
    env.reg->release(r.value);
}

// A compaction started and run `before` steps; then `writer` goes between
// its steps (it must not have to wait); then the compaction runs to its
// end. Ok only when it committed.
Status compaction_with_writer(Env& env, int before,
                              const std::function<Status(Env&, Mailbox*, View&)>& writer) {
    auto r = env.reg->acquire(kBox);
    if (r.status != Status::Ok) return r.status;
    Mailbox* m = r.value;
    View v;
    m->attach(v, false);
    Status st = m->maybe_compact();
    if (st == Status::Ok && !m->compacting()) st = Status::Invalid;
    for (int i = 0; st == Status::Ok && i < before && m->compacting(); ++i) {
        std::uint64_t budget = env.limits.compact_step_bytes;
        st = m->compact_step(&budget);
    }
    if (st == Status::Ok && !m->compacting()) st = Status::Invalid;  // a crash abandoned it
    if (st == Status::Ok) st = writer(env, m, v);
    const std::uint64_t renames = env.fs.calls(SimFs::Op::Rename);
    while (st == Status::Ok && m->compacting()) {
        std::uint64_t budget = env.limits.compact_step_bytes;
        st = m->compact_step(&budget);
    }
    if (st == Status::Ok && env.fs.calls(SimFs::Op::Rename) == renames) st = Status::Invalid;
    m->detach(v);
    env.reg->release(m);
    return st;
}

// One STORE between the steps: +\Flagged on the first message (copied
// already) and on the last (not yet), committed while the compaction is
// under way.
Status store_between_steps(Env&, Mailbox* m, View& v) {
    Status st = m->begin_store();
    for (std::uint32_t seq : {1u, v.exists}) {
        MessageInfo info;
        bool skipped = false;
        if (st == Status::Ok)
            st = m->store(v, seq, FlagOp::Add, mail::kFlagged, 0, 0, &info, &skipped);
    }
    if (st == Status::Ok) {
        st = m->commit_store();
    } else {
        m->abort_store();
    }
    if (st == Status::Ok && !m->compacting()) st = Status::Invalid;
    return st;
}

// A STORE that does not commit (it wrote a slot: the compaction that
// mirrored it is abandoned), then an APPEND; the compaction starts again
// from the beginning.
Status abandon_then_append(Env& env, Mailbox* m, View& v) {
    // An EXPUNGE (of message 1, \Deleted by the setup) given up at its
    // commit's flush: its slot was mirrored into the new index. (A STORE's
    // redo record writes in place only after its flush: a STORE given up
    // leaves the compaction alone.)
    Status st = Status::Ok;
    std::size_t n = 0;
    if (st == Status::Ok) st = m->expunge(v, nullptr, nullptr, 8, &n, nullptr, true);
    if (st == Status::WouldBlock) {  // the intent's flush
        m->flushed(env.fs.fsync(m->flush_file()));
        st = m->expunge(v, nullptr, nullptr, 8, &n, nullptr, true);
    }
    if (st == Status::WouldBlock) {  // the slot's flush: given up here
        m->abort_expunge();
        st = Status::Ok;
    } else if (st == Status::Ok) {
        st = Status::Invalid;
    }
    if (st == Status::Ok && m->compacting()) st = Status::Invalid;
    if (st == Status::Ok) st = append(m, "Subject: late\r\n\r\nafter the abandon\r\n", 0);
    if (st == Status::Ok) st = m->maybe_compact();
    if (st == Status::Ok && !m->compacting()) st = Status::Invalid;
    (void)env;
    return st;
}

// A mailbox of messages of the given body sizes (seq i+1 has sizes[i]
// bytes), then the listed sequence numbers \Deleted and expunged (no view
// shows them any more; nothing compacted: min_waste is huge).
void setup_sized(Env& env, const std::vector<std::size_t>& sizes,
                 std::initializer_list<std::uint32_t> deleted) {
    env.create(kBox, 1234);
    auto r = env.reg->acquire(kBox);
    REQUIRE(r.status == Status::Ok);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        std::string body = "S: " + std::to_string(i + 1) + "\r\n\r\n";
        body += std::string(sizes[i] - body.size(), static_cast<char>('a' + i % 26));
        REQUIRE(append(r.value, body, i % 3 == 0 ? mail::kSeen : 0) == Status::Ok);
    }
    env.reg->release(r.value);
    REQUIRE(mark_deleted(env, deleted) == Status::Ok);
    r = env.reg->acquire(kBox);
    REQUIRE(r.status == Status::Ok);
    View v;
    r.value->attach(v, false);
    std::size_t n = 0;
    REQUIRE(r.value->expunge(v, nullptr, nullptr, 8, &n) == Status::Ok);
    REQUIRE(n == deleted.size());
    r.value->detach(v);
    env.reg->release(r.value);
}

// The slide in place (docs/STORAGE.md "Reclaiming from the middle in
// place"), started directly and stepped to its end, a reader checking every
// body between the steps. Ok once it ended with m.data shorter. `async`:
// stepped as the server does (compact_step async): each move's data flush
// is asked for and made by the caller, as by an I/O thread.
Status slide_steps(Env& env, bool async) {
    auto r = env.reg->acquire(kBox);
    if (r.status != Status::Ok) return r.status;
    Mailbox* m = r.value;
    View reader;
    m->attach(reader, true);
    const std::uint64_t length = m->state().data_length;
    std::vector<std::string> bodies;
    Status st = Status::Ok;
    auto read_all = [&](bool compare) {
        for (std::uint32_t seq = 1; st == Status::Ok && seq <= reader.exists; ++seq) {
            MessageInfo info;
            if (m->message(reader, seq, &info) != Status::Ok) return;  // after a failed step
            std::string b(info.size, '\0');
            std::size_t got = 0;
            if (m->read(info, 0, b.data(), b.size(), &got) != Status::Ok) return;
            if (compare) {
                CHECK(b == bodies[seq - 1]);
            } else {
                bodies.push_back(b);
            }
        }
    };
    read_all(false);
    st = m->start_slide(m->highest_modseq());
    if (st == Status::Ok && !m->sliding()) st = Status::Invalid;
    int asked = 0;
    while (st == Status::Ok && m->sliding()) {
        std::uint64_t budget = env.limits.compact_step_bytes;
        st = m->compact_step(&budget, async);
        read_all(true);
        if (st == Status::Ok && m->compact_flush_wanted()) {
            CHECK_FALSE(m->compaction_runnable());  // not stepped until it is done
            m->compact_flushed(env.fs.fsync(m->compact_flush_file()));
            ++asked;
        }
    }
    if (st == Status::Ok && async && asked == 0) st = Status::Invalid;  // none went out
    if (st == Status::Ok && m->state().data_length >= length) st = Status::Invalid;
    m->detach(reader);
    env.reg->release(m);
    return st;
}

// Frames (body + 48): 1 [200] and 4 [80] and 9 [90] expunged. Moves: 2
// alone (2+3 do not fit the hole of 1), 3 alone; 5 would leave 28 bytes
// (no room for a padding frame) and 5+6 do not fit: 5 stays; 6, 7, 8 are
// in place then; 9 is cut off the end.
const std::vector<std::size_t> kSlideSizes = {200, 60, 100, 80, 300, 50, 40, 120, 90};

}  // namespace

TEST_CASE("store crash matrix: APPEND", "[store][crash]") {
    run_matrix({"append",
                {std::string(kBox)},
                [](Env& env) { setup_box(env, 2); },
                [](Env& env) {
                    auto r = env.reg->acquire(kBox);
                    if (r.status != Status::Ok) return r.status;
                    unsigned bit = 0;
                    Status st = r.value->keyword_bit("$Forwarded", true, &bit);
                    if (st == Status::Ok)
                        st = append(r.value, std::string(300, 'm') + "\r\n", mail::kFlagged,
                                    1ull << bit);
                    env.reg->release(r.value);
                    return st;
                }});
}

TEST_CASE("store crash matrix: COPY", "[store][crash]") {
    run_matrix({"copy",
                {std::string(kBox), std::string(kDest)},
                [](Env& env) {
                    setup_box(env, 3);
                    env.create(kDest, 77);
                    auto d = env.reg->acquire(kDest);
                    REQUIRE(d.status == Status::Ok);
                    REQUIRE(append(d.value, "existing\r\n", 0) == Status::Ok);
                    env.reg->release(d.value);
                },
                [](Env& env) {
                    auto s = env.reg->acquire(kBox);
                    if (s.status != Status::Ok) return s.status;
                    auto d = env.reg->acquire(kDest);
                    if (d.status != Status::Ok) return d.status;
                    View v;
                    s.value->attach(v, true);
                    Status st = s.value->begin_copy(*d.value);
                    std::uint32_t uid = 0;
                    if (st == Status::Ok) st = s.value->copy(v, 1, *d.value, &uid);
                    if (st == Status::Ok) st = s.value->copy(v, 3, *d.value, &uid);
                    if (st == Status::Ok) {
                        st = s.value->commit_copy(*d.value);
                    } else {
                        s.value->abort_copy(*d.value);
                    }
                    s.value->detach(v);
                    env.reg->release(s.value);
                    env.reg->release(d.value);
                    return st;
                }});
}

TEST_CASE("store crash matrix: COPY in steps (copy_step, one scratch buffer per call)",
          "[store][crash]") {
    run_matrix({"copy-steps",
                {std::string(kBox), std::string(kDest)},
                [](Env& env) {
                    setup_box(env, 3);
                    auto r = env.reg->acquire(kBox);
                    REQUIRE(r.status == Status::Ok);
                    // Several scratch buffers (128 bytes) long.
                    REQUIRE(append(r.value, "Subject: big\r\n\r\n" + std::string(600, 'z') + "\r\n",
                                   0) == Status::Ok);
                    env.reg->release(r.value);
                    env.create(kDest, 77);
                },
                [](Env& env) {
                    auto s = env.reg->acquire(kBox);
                    if (s.status != Status::Ok) return s.status;
                    auto d = env.reg->acquire(kDest);
                    if (d.status != Status::Ok) return d.status;
                    View v;
                    s.value->attach(v, true);
                    Status st = s.value->begin_copy(*d.value);
                    for (std::uint32_t seq : {4u, 1u}) {
                        CopyCursor c;
                        bool finished = false;
                        while (st == Status::Ok && !finished) {
                            std::uint64_t budget = 1;
                            std::uint32_t uid = 0;
                            st = s.value->copy_step(v, seq, *d.value, c, &budget, &finished, &uid);
                        }
                    }
                    if (st == Status::Ok) {
                        st = s.value->commit_copy(*d.value);
                    } else {
                        s.value->abort_copy(*d.value);
                    }
                    s.value->detach(v);
                    env.reg->release(s.value);
                    env.reg->release(d.value);
                    return st;
                }});
}

TEST_CASE("store crash matrix: STORE flags and a new keyword", "[store][crash]") {
    run_matrix({"store",
                {std::string(kBox)},
                [](Env& env) { setup_box(env, 3); },
                [](Env& env) {
                    auto r = env.reg->acquire(kBox);
                    if (r.status != Status::Ok) return r.status;
                    Mailbox* m = r.value;
                    View v;
                    m->attach(v, false);
                    Status st = m->begin_store();
                    unsigned bit = 0;
                    MessageInfo info;
                    bool skipped = false;
                    if (st == Status::Ok) st = m->keyword_bit("$Junk", true, &bit);
                    if (st == Status::Ok)
                        st = m->store(v, 1, FlagOp::Remove, mail::kSeen, 0, 0, &info, &skipped);
                    if (st == Status::Ok)
                        st = m->store(v, 2, FlagOp::Replace, mail::kFlagged | mail::kSeen,
                                      1ull << bit, 0, &info, &skipped);
                    if (st == Status::Ok) {
                        st = m->commit_store();
                    } else {
                        m->abort_store();
                    }
                    m->detach(v);
                    env.reg->release(m);
                    return st;
                }});
}

TEST_CASE("store crash matrix: EXPUNGE (marks only)", "[store][crash]") {
    run_matrix({"expunge",
                {std::string(kBox)},
                [](Env& env) {
                    setup_box(env, 4);
                    REQUIRE(mark_deleted(env, {1, 3}) == Status::Ok);
                },
                do_expunge});
}

TEST_CASE("store crash matrix: EXPUNGE with compaction", "[store][crash]") {
    Scenario sc{"expunge+compact",
                {std::string(kBox)},
                [](Env& env) {
                    setup_box(env, 4);
                    REQUIRE(mark_deleted(env, {2, 3}) == Status::Ok);
                },
                do_expunge};
    sc.min_waste = 1;
    run_matrix(sc);
}

TEST_CASE("store crash matrix: EXPUNGE of the last messages cut off in place", "[store][crash]") {
    Scenario sc{"expunge+trim tail",
                {std::string(kBox)},
                [](Env& env) {
                    setup_box(env, 5);
                    REQUIRE(mark_deleted(env, {4, 5}) == Status::Ok);
                },
                do_expunge};
    sc.min_waste = 1;
    run_matrix(sc);
}

TEST_CASE("store crash matrix: compaction in bounded steps, read meanwhile", "[store][crash]") {
    Scenario sc{"expunge+stepped compaction",
                {std::string(kBox)},
                [](Env& env) {
                    setup_box(env, 5);
                    REQUIRE(mark_deleted(env, {1, 4}) == Status::Ok);
                },
                do_expunge_stepped};
    sc.min_waste = 1;
    run_matrix(sc);
}

TEST_CASE("store crash matrix: STORE between the steps of a compaction", "[store][crash]") {
    Scenario sc{
        "compaction+store between steps", {std::string(kBox)}, setup_expunged, [](Env& env) {
            return compaction_with_writer(env, 2, store_between_steps);
        }};
    sc.min_waste = 1;
    run_matrix(sc);
    // 2 and 3 gone; 1 (copied before the STORE) and 6 (after) \Flagged.
    CHECK(uids_and_flags(run_once(sc)) == "1/10 4/0 5/8 6/2 ");
}

TEST_CASE("store crash matrix: EXPUNGE between the steps of a compaction", "[store][crash]") {
    Scenario sc{"compaction+expunge between steps",
                {std::string(kBox)},
                [](Env& env) {
                    setup_expunged(env);
                    REQUIRE(mark_deleted(env, {1}) == Status::Ok);
                },
                [](Env& env) {
                    return compaction_with_writer(env, 3, [](Env&, Mailbox* m, View& v) {
                        std::size_t n = 0;
                        Status st = m->expunge(v, nullptr, nullptr, 8, &n);
                        if (st == Status::Ok && (n != 1 || !m->compacting())) st = Status::Invalid;
                        return st;
                    });
                }};
    sc.min_waste = 1;
    run_matrix(sc);
    CHECK(uids_and_flags(run_once(sc)) == "4/0 5/8 6/0 ");
}

namespace {

// A compaction stepped as the server steps it (compact_step with async: its
// flushes asked for, done here as an I/O thread would, in place), with
// `writer` going between once its renames are done and their directory
// sync is asked for (Settle: docs/STORAGE.md "Compaction's flushes"). With
// `finish` false it stops right after the writer, that sync not done.
Status async_compaction_with_writer(Env& env, bool finish,
                                    const std::function<Status(Env&, Mailbox*, View&)>& writer) {
    auto r = env.reg->acquire(kBox);
    if (r.status != Status::Ok) return r.status;
    Mailbox* m = r.value;
    View v;
    m->attach(v, false);
    Status st = m->maybe_compact();
    if (st == Status::Ok && !m->compacting()) st = Status::Invalid;
    const std::uint64_t renames = env.fs.calls(SimFs::Op::Rename);
    bool wrote = false;
    while (st == Status::Ok && m->compacting()) {
        std::uint64_t budget = env.limits.compact_step_bytes;
        st = m->compact_step(&budget, true);
        if (st != Status::Ok || !m->compact_flush_wanted()) continue;
        const bool settle = m->compact_flush_dir() && env.fs.calls(SimFs::Op::Rename) > renames;
        if (settle && !wrote) {
            wrote = true;
            st = writer(env, m, v);
            if (!finish) break;
        }
        m->compact_flushed(m->compact_flush_dir() ? env.fs.sync_dir(m->compact_dir())
                                                  : env.fs.fsync(m->compact_flush_file()));
    }
    if (st == Status::Ok && !wrote) st = Status::Invalid;
    m->detach(v);
    if (finish || st != Status::Ok) env.reg->release(m);
    return st;
}

Status do_slide(Env& env) {
    return slide_steps(env, false);
}

Status append_between(Env&, Mailbox* m, View&) {
    return append(m, "between the renames and their sync\r\n", 0);
}

}  // namespace

// Issue 13: the directory sync after a compaction's renames runs on an I/O
// thread; a writer of this process that commits meanwhile (to the new
// files) syncs the directory first, so a crash at any point leaves the
// mailbox before or after, the writer's message wholly there or not.
TEST_CASE("store crash matrix: an APPEND while a compaction's renames are being synced",
          "[store][crash][flush]") {
    Scenario sc{"async compaction+append in its settle",
                {std::string(kBox)},
                [](Env& env) {
                    setup_expunged(env);
                    REQUIRE(mark_deleted(env, {1}) == Status::Ok);
                },
                [](Env& env) { return async_compaction_with_writer(env, true, append_between); }};
    sc.min_waste = 1;
    run_matrix(sc);
    CHECK(uids_and_flags(run_once(sc)) == "1/12 4/0 5/8 6/0 7/0 ");
}

// The same APPEND acknowledged, then a power cut before the compaction's
// own sync of the renames: the message is there (without the writer's sync
// the old m.data and m.index would come back without it).
TEST_CASE("store: an APPEND acknowledged between a compaction's renames and their sync survives "
          "a power cut",
          "[store][crash][flush]") {
    Env env(1);
    setup_expunged(env);
    REQUIRE(mark_deleted(env, {1}) == Status::Ok);
    env.fs.sync_all();
    env.restart();
    REQUIRE(async_compaction_with_writer(env, false, append_between) == Status::Ok);
    env.fs.set_crash_mode(SimFs::CrashMode::DropAll);
    env.fs.crash();
    const Snap got = snapshot(env, {std::string(kBox)});
    CHECK(uids_and_flags(got.at(std::string(kBox))) == "1/12 4/0 5/8 6/0 7/0 ");
}

TEST_CASE("store crash matrix: a compaction abandoned by a writer, then run again",
          "[store][crash]") {
    Scenario sc{"compaction abandoned, append, compaction",
                {std::string(kBox)},
                [](Env& env) {
                    setup_expunged(env);
                    REQUIRE(mark_deleted(env, {1}) == Status::Ok);
                },
                [](Env& env) { return compaction_with_writer(env, 3, abandon_then_append); }};
    sc.min_waste = 1;
    run_matrix(sc);
    CHECK(uids_and_flags(run_once(sc)) == "1/12 4/0 5/8 6/0 7/0 ");
}

TEST_CASE("store crash matrix: index rebuild on open", "[store][crash]") {
    run_matrix({"rebuild",
                {std::string(kBox)},
                [](Env& env) {
                    setup_box(env, 3);
                    REQUIRE(mark_deleted(env, {2}) == Status::Ok);
                    REQUIRE(env.fs.unlink(std::string(kBox) + "/m.index") == Status::Ok);
                    REQUIRE(env.fs.sync_dir(kBox) == Status::Ok);
                },
                [](Env& env) {
                    auto r = env.reg->acquire(kBox);
                    if (r.status != Status::Ok) return r.status;
                    env.reg->release(r.value);
                    return Status::Ok;
                }});
}

// Padding frames: the rebuild walks over them and cuts the one at the end off.
TEST_CASE("store crash matrix: index rebuild over padding frames", "[store][crash]") {
    run_matrix({"rebuild over padding",
                {std::string(kBox)},
                [](Env& env) {
                    setup_box(env, 4);
                    const std::string path = std::string(kBox) + "/m.data";
                    std::string data = env.fs.read_file(path);
                    for (std::size_t i = 1, at = kDataHeaderSize; i <= 4; ++i) {
                        FrameHeader h;
                        REQUIRE(
                            decode(reinterpret_cast<const std::uint8_t*>(data.data() + at), &h));
                        std::uint8_t pad[kFrameHeaderSize];
                        encode_padding(h.size, pad);
                        if (i % 2 == 0)  // a gap in the middle, one at the end
                            data.replace(at, sizeof pad, reinterpret_cast<char*>(pad), sizeof pad);
                        at += kFrameOverhead + h.size;
                    }
                    env.fs.write_file(path, data);
                    REQUIRE(env.fs.unlink(std::string(kBox) + "/m.index") == Status::Ok);
                },
                [](Env& env) {
                    auto r = env.reg->acquire(kBox);
                    if (r.status != Status::Ok) return r.status;
                    const std::uint32_t live = r.value->state().live_count;
                    env.reg->release(r.value);
                    return live == 2 ? Status::Ok : Status::Invalid;
                }});
}

namespace {

// The whole user tree: LIST "*" with attributes, every selectable mailbox's
// messages, and the subscriptions.
struct Tree {
    std::vector<std::pair<std::string, int>> names;
    std::map<std::string, Box> boxes;
    std::vector<std::string> subs;
    std::map<std::string, int> uses;  // RFC 6154 special use, by name
    std::map<std::string, std::string> acls;  // RFC 4314 m.acl's bytes, by name
    bool same(const Tree& o) const {
        if (names != o.names || subs != o.subs || uses != o.uses || acls != o.acls ||
            boxes.size() != o.boxes.size()) {
            return false;
        }
        for (const auto& [n, b] : boxes) {
            auto it = o.boxes.find(n);
            if (it == o.boxes.end() || !b.same_content(it->second)) return false;
        }
        return true;
    }
    std::string describe() const {
        std::string out;
        for (const auto& [n, a] : names) out += n + "(" + std::to_string(a) + ") ";
        out += "| subs:";
        for (const auto& n : subs) out += " " + n;
        out += " | uses:";
        for (const auto& [n, u] : uses) out += " " + n + "=" + std::to_string(u);
        out += " | acls:";
        for (const auto& [n, a] : acls) out += " " + n + "=" + std::to_string(a.size()) + "B";
        out += "\n";
        for (const auto& [n, b] : boxes) out += describe_box(n, b);
        return out;
    }
    static std::string describe_box(const std::string& n, const Box& b) {
        Snap one{{n, b}};
        return ::describe(one);
    }
};

struct Names final : ListVisitor {
    std::vector<std::pair<std::string, int>> got;
    bool mailbox(std::string_view name, std::uint8_t attrs) override {
        got.emplace_back(std::string(name), attrs);
        return true;
    }
};

Tree read_tree(Env& env) {
    env.restart();
    UserStore user(*env.reg, kRoot);
    Tree t;
    Names all;
    REQUIRE(user.list("", "*", all) == Status::Ok);
    t.names = all.got;
    for (const auto& [name, attrs] : all.got) {
        if (const int use = user.special_use(name)) t.uses[name] = use;
        Path dir;
        REQUIRE(user.mailbox_dir(name, &dir) == Status::Ok);
        const std::string acl = std::string(dir.view()) + "/m.acl";
        if (env.fs.exists(acl)) t.acls[name] = env.fs.read_file(acl);
        if (attrs & kNoselect) continue;
        t.boxes[name] = read_box(env, dir.view());
    }
    Names subs;
    REQUIRE(user.list_subscribed("", "*", subs) == Status::Ok);
    for (const auto& [name, attrs] : subs.got) t.subs.push_back(name);
    return t;
}

struct TreeScenario {
    const char* name;
    std::function<void(Env&, UserStore&)> setup;
    std::function<Status(Env&, UserStore&)> op;
};

void tree_setup(Env& env, const TreeScenario& sc) {
    env.fs.make_dirs("/mail");
    UserStore user(*env.reg, kRoot);
    REQUIRE(user.ensure() == Status::Ok);
    sc.setup(env, user);
    env.fs.sync_all();
    env.restart();
}

void run_tree_matrix(const TreeScenario& sc) {
    Tree before, after;
    std::uint64_t points = 0;
    {
        Env env(1ull << 40);
        tree_setup(env, sc);
        before = read_tree(env);
    }
    {
        Env env(1ull << 40);
        tree_setup(env, sc);
        env.fs.reset_counters();
        UserStore user(*env.reg, kRoot);
        REQUIRE(sc.op(env, user) == Status::Ok);
        points = env.fs.crash_points();
        after = read_tree(env);
    }
    INFO("scenario " << sc.name << ", " << points << " crash points");
    INFO("before:\n" << before.describe() << "after:\n" << after.describe());
    REQUIRE(points > 0);
    REQUIRE_FALSE(before.same(after));
    const SimFs::CrashMode modes[] = {SimFs::CrashMode::DropAll, SimFs::CrashMode::ApplyRandom,
                                      SimFs::CrashMode::ApplyRandom, SimFs::CrashMode::ApplyRandom};
    for (std::size_t mi = 0; mi < 4; ++mi) {
        for (unsigned n = 1; n <= points; ++n) {
            Env env(1ull << 40);
            tree_setup(env, sc);
            env.fs.set_crash_mode(modes[mi]);
            env.fs.set_seed(mi);
            env.fs.crash_at_write(n);
            bool acked = false;
            {
                UserStore user(*env.reg, kRoot);
                acked = sc.op(env, user) == Status::Ok;
            }
            REQUIRE(env.fs.crashed());
            env.fs.restart();
            const Tree got = read_tree(env);
            INFO("crash at point " << n << " mode " << mi << (acked ? " (acknowledged)" : ""));
            INFO("got:\n" << got.describe());
            if (acked) {
                REQUIRE(got.same(after));
            } else {
                REQUIRE((got.same(before) || got.same(after)));
            }
            // The tree keeps working: leftovers never block the next operation.
            UserStore user(*env.reg, kRoot);
            REQUIRE(user.create("later/one") == Status::Ok);
            REQUIRE(user.create("box2") == Status::Ok);
            auto in = user.open("INBOX");
            REQUIRE(in.status == Status::Ok);
            REQUIRE(append(in.value, "x\r\n", 0) == Status::Ok);
            user.close(in.value);
        }
    }
}

void fill(UserStore& user, std::string_view name, int count) {
    auto r = user.open(name);
    REQUIRE(r.status == Status::Ok);
    for (int i = 0; i < count; ++i)
        REQUIRE(append(r.value, std::string(name) + " message " + std::to_string(i) + "\r\n", 0) ==
                Status::Ok);
    user.close(r.value);
}

}  // namespace

TEST_CASE("store crash matrix: CREATE (with a missing superior)", "[store][crash]") {
    run_tree_matrix({"create", [](Env&, UserStore& u) { REQUIRE(u.create("a") == Status::Ok); },
                     [](Env&, UserStore& u) { return u.create("a/b/c"); }});
}

TEST_CASE("store crash matrix: CREATE over a \\Noselect name", "[store][crash]") {
    run_tree_matrix({"create-noselect",
                     [](Env&, UserStore& u) { REQUIRE(u.create("p/q") == Status::Ok); },
                     [](Env&, UserStore& u) { return u.create("p"); }});
}

TEST_CASE("store crash matrix: DELETE a leaf with messages", "[store][crash]") {
    run_tree_matrix({"delete",
                     [](Env&, UserStore& u) {
                         REQUIRE(u.create("box") == Status::Ok);
                         fill(u, "box", 2);
                     },
                     [](Env&, UserStore& u) { return u.remove("box"); }});
}

TEST_CASE("store crash matrix: DELETE a mailbox with children", "[store][crash]") {
    run_tree_matrix({"delete-parent",
                     [](Env&, UserStore& u) {
                         REQUIRE(u.create("a/b") == Status::Ok);
                         REQUIRE(u.create("a") == Status::Ok);
                         fill(u, "a", 2);
                     },
                     [](Env&, UserStore& u) { return u.remove("a"); }});
}

TEST_CASE("store crash matrix: RENAME", "[store][crash]") {
    run_tree_matrix({"rename",
                     [](Env&, UserStore& u) {
                         REQUIRE(u.create("box/sub") == Status::Ok);
                         REQUIRE(u.create("box") == Status::Ok);
                         fill(u, "box", 2);
                     },
                     [](Env&, UserStore& u) { return u.rename("box", "moved"); }});
}

TEST_CASE("store crash matrix: RENAME INBOX", "[store][crash]") {
    run_tree_matrix({"rename-inbox", [](Env&, UserStore& u) { fill(u, "INBOX", 3); },
                     [](Env&, UserStore& u) { return u.rename("INBOX", "old"); }});
}

TEST_CASE("store crash matrix: SUBSCRIBE", "[store][crash]") {
    run_tree_matrix({"subscribe",
                     [](Env&, UserStore& u) {
                         REQUIRE(u.subscribe("INBOX", true) == Status::Ok);
                         REQUIRE(u.create("box") == Status::Ok);
                     },
                     [](Env&, UserStore& u) { return u.subscribe("box", true); }});
}

namespace {

// A tree operation run in steps with its flushes asynchronous, as the
// server runs it (UserStore::step with TreeOp::async; docs/STORAGE.md
// "Flushes leave the loop"): each barrier's flush is done by flush_done(),
// as by an I/O thread, so that crashes fall between every write and its
// flush.
Status run_async(Env& env, UserStore& user, TreeOp op) {
    env.fs.set_async_flush(true);
    op.async = true;
    Status st = user.step(op);
    while (st == Status::WouldBlock) {
        if (!op.pending) {  // a bounded step (RENAME INBOX's copy): the next
            st = user.step(op);
            continue;
        }
        port::FlushDone done;
        if (env.fs.flush_done(&done, 1) != 1) {  // crashed: the I/O threads are gone
            user.abort(op);
            st = Status::Io;
            break;
        }
        op.flushed(done.status);
        st = user.step(op);
    }
    env.fs.set_async_flush(false);
    return st;
}

}  // namespace

TEST_CASE("store crash matrix, async flushes: CREATE in steps", "[store][crash][flush]") {
    run_tree_matrix({"create async",
                     [](Env&, UserStore& u) { REQUIRE(u.create("a") == Status::Ok); },
                     [](Env& env, UserStore& u) {
                         return run_async(env, u, TreeOp(TreeOp::Kind::Create, "a/b/c"));
                     }});
    run_tree_matrix({"create-noselect async",
                     [](Env&, UserStore& u) { REQUIRE(u.create("p/q") == Status::Ok); },
                     [](Env& env, UserStore& u) {
                         return run_async(env, u, TreeOp(TreeOp::Kind::Create, "p"));
                     }});
}

TEST_CASE("store crash matrix: CREATE with USE, in place and in steps (RFC 6154 §3)",
          "[store][crash][flush]") {
    auto with_use = [](const char* name, std::uint8_t use) {
        TreeOp op(TreeOp::Kind::Create, name);
        op.use = use;
        return op;
    };
    run_tree_matrix({"create-use",
                     [](Env&, UserStore& u) { REQUIRE(u.create("a") == Status::Ok); },
                     [](Env&, UserStore& u) {
                         return u.create("a/b/c", nullptr, mail::kUseSent);
                     }});
    run_tree_matrix({"create-use async",
                     [](Env&, UserStore& u) { REQUIRE(u.create("a") == Status::Ok); },
                     [&](Env& env, UserStore& u) {
                         return run_async(env, u, with_use("a/b/c", mail::kUseJunk));
                     }});
    run_tree_matrix({"create-use-noselect async",
                     [](Env&, UserStore& u) { REQUIRE(u.create("p/q") == Status::Ok); },
                     [&](Env& env, UserStore& u) {
                         return run_async(env, u, with_use("p", mail::kUseArchive));
                     }});
}

// RFC 4314 §4: a new mailbox inherits its nearest existing parent's ACL,
// copied and flushed before the mailbox exists.
TEST_CASE("store crash matrix: CREATE inherits the parent's m.acl, in place and in steps",
          "[store][crash][flush][acl]") {
    const auto shared_parent = [](Env& env, UserStore& u) {
        REQUIRE(u.create("a") == Status::Ok);
        Path dir;
        REQUIRE(u.mailbox_dir("a", &dir) == Status::Ok);
        Acl acl;
        acl.set_default("u");
        REQUIRE(acl.set("bob", kRightLookup | kRightRead | kRightSeen));
        REQUIRE(write_acl(env.fs, dir.view(), acl) == Status::Ok);
    };
    run_tree_matrix({"create-acl", shared_parent,
                     [](Env&, UserStore& u) { return u.create("a/b/c"); }});
    run_tree_matrix({"create-acl async", shared_parent, [](Env& env, UserStore& u) {
                         return run_async(env, u, TreeOp(TreeOp::Kind::Create, "a/b"));
                     }});
}

TEST_CASE("store crash matrix, async flushes: DELETE in steps", "[store][crash][flush]") {
    run_tree_matrix({"delete async",
                     [](Env&, UserStore& u) {
                         REQUIRE(u.create("box") == Status::Ok);
                         fill(u, "box", 2);
                     },
                     [](Env& env, UserStore& u) {
                         return run_async(env, u, TreeOp(TreeOp::Kind::Remove, "box"));
                     }});
    run_tree_matrix({"delete-parent async",
                     [](Env&, UserStore& u) {
                         REQUIRE(u.create("a/b") == Status::Ok);
                         REQUIRE(u.create("a") == Status::Ok);
                         fill(u, "a", 2);
                     },
                     [](Env& env, UserStore& u) {
                         return run_async(env, u, TreeOp(TreeOp::Kind::Remove, "a"));
                     }});
}

TEST_CASE("store crash matrix, async flushes: RENAME and SUBSCRIBE in steps",
          "[store][crash][flush]") {
    run_tree_matrix({"rename async",
                     [](Env&, UserStore& u) {
                         REQUIRE(u.create("box/sub") == Status::Ok);
                         REQUIRE(u.create("box") == Status::Ok);
                         fill(u, "box", 2);
                     },
                     [](Env& env, UserStore& u) {
                         // (Into a new superior, a crash may leave that superior as a
                         // \Noselect name: user_store.h; the count test below makes some.)
                         return run_async(env, u, TreeOp(TreeOp::Kind::Rename, "box", "moved"));
                     }});
    run_tree_matrix({"subscribe async",
                     [](Env&, UserStore& u) {
                         REQUIRE(u.subscribe("INBOX", true) == Status::Ok);
                         REQUIRE(u.create("box") == Status::Ok);
                     },
                     [](Env& env, UserStore& u) {
                         return run_async(env, u, TreeOp(TreeOp::Kind::Subscribe, "box"));
                     }});
    run_tree_matrix({"unsubscribe async",
                     [](Env&, UserStore& u) {
                         REQUIRE(u.subscribe("INBOX", true) == Status::Ok);
                         REQUIRE(u.subscribe("box", true) == Status::Ok);
                     },
                     [](Env& env, UserStore& u) {
                         return run_async(env, u, TreeOp(TreeOp::Kind::Unsubscribe, "INBOX"));
                     }});
}

// RFC 3501 §6.3.5 RENAME INBOX in steps: INBOX's files copied a few bytes
// per step (TreeOp::step_bytes), every flush by flush_done(); a crash at
// any write or flush leaves INBOX's messages in exactly one place (INBOX
// before the commit, the new mailbox after), none lost, none twice.
TEST_CASE("store crash matrix, async flushes: RENAME INBOX copied in steps",
          "[store][crash][flush][rename]") {
    auto stepped = [](const char* to) {
        TreeOp op(TreeOp::Kind::Rename, "INBOX", to);
        op.step_bytes = 200;  // several steps per file
        return op;
    };
    run_tree_matrix({"rename-inbox async",
                     [](Env&, UserStore& u) { fill(u, "INBOX", 4); },
                     [&](Env& env, UserStore& u) { return run_async(env, u, stepped("old")); }});
    // (Into a new superior, a crash may leave that superior as a \Noselect
    // name: user_store.h.) INBOX's child stays where it is.
    run_tree_matrix({"rename-inbox async, INBOX with a child",
                     [](Env&, UserStore& u) {
                         fill(u, "INBOX", 2);
                         REQUIRE(u.create("INBOX/kid") == Status::Ok);
                         fill(u, "INBOX/kid", 1);
                     },
                     [&](Env& env, UserStore& u) {
                         return run_async(env, u, stepped("older"));
                     }});
}

TEST_CASE("store: RENAME INBOX in steps writes and flushes as the synchronous call",
          "[store][flush][rename]") {
    auto count = [](bool async) {
        Env env(1ull << 40);
        env.fs.make_dirs("/mail");
        UserStore user(*env.reg, kRoot);
        REQUIRE(user.ensure() == Status::Ok);
        fill(user, "INBOX", 5);
        env.fs.reset_counters();
        TreeOp op(TreeOp::Kind::Rename, "INBOX", "old");
        op.step_bytes = 100;
        REQUIRE((async ? run_async(env, user, op) : user.step(op)) == Status::Ok);
        return std::vector<std::uint64_t>{env.fs.calls(SimFs::Op::Fsync),
                                          env.fs.calls(SimFs::Op::SyncDir)};
    };
    const auto in_place = count(false);
    CHECK(count(true) == in_place);
    // The copies of m.data and m.index, the empty pair, the marker; the
    // syncs of i.tmp, INBOX (marked), the new parent, INBOX twice.
    CHECK(in_place == std::vector<std::uint64_t>{5, 5});
}

// The steps make the same writes and flushes whether the flushes are done
// in place or asynchronously (docs/STORAGE.md "Write order").
TEST_CASE("store: a tree operation in steps writes and flushes as the synchronous call",
          "[store][flush]") {
    auto count = [](bool async) {
        Env env(1ull << 40);
        env.fs.make_dirs("/mail");
        UserStore user(*env.reg, kRoot);
        REQUIRE(user.ensure() == Status::Ok);
        env.fs.reset_counters();
        TreeOp op(TreeOp::Kind::Create, "x/y/z");
        REQUIRE((async ? run_async(env, user, op) : user.step(op)) == Status::Ok);
        REQUIRE((async ? run_async(env, user, TreeOp(TreeOp::Kind::Rename, "x", "w/v"))
                       : user.rename("x", "w/v")) == Status::Ok);
        REQUIRE((async ? run_async(env, user, TreeOp(TreeOp::Kind::Remove, "w/v/y/z"))
                       : user.remove("w/v/y/z")) == Status::Ok);
        return std::vector<std::uint64_t>{env.fs.crash_points(),
                                          env.fs.calls(SimFs::Op::Fsync),
                                          env.fs.calls(SimFs::Op::SyncDir)};
    };
    CHECK(count(true) == count(false));
}

// Issue 12.1: an APPEND staged in a file of its own and copied into the
// mailbox in bounded steps (MULTIAPPEND of three, the copy split over many
// steps). Crashes while staging, while copying and at the commit: the
// command is acknowledged only when every message is durable, and a crash
// never leaves part of it (RFC 3502 §6.3.11: all or none).
TEST_CASE("store crash matrix: staged MULTIAPPEND copied in steps", "[store][crash][append]") {
    run_matrix({"staged append",
                {std::string(kBox)},
                [](Env& env) { setup_box(env, 2); },
                [](Env& env) {
                    auto r = env.reg->acquire(kBox);
                    if (r.status != Status::Ok) return r.status;
                    StagedAppend sa;
                    Status st = sa.open(env.reg->services(), kRoot, 0, r.value);
                    const std::string bodies[] = {std::string(300, 'p') + "\r\n", "short\r\n",
                                                  std::string(200, 'q') + "\r\n"};
                    for (const std::string& b : bodies) {
                        if (st == Status::Ok)
                            st = sa.add(static_cast<std::uint32_t>(b.size()), mail::kSeen, 0,
                                        1700000000, 0);
                        for (std::size_t i = 0; i < b.size() && st == Status::Ok; i += 64)
                            st = sa.write(b.data() + i, std::min<std::size_t>(64, b.size() - i));
                    }
                    std::uint32_t first = 0;
                    for (int steps = 0; st == Status::Ok; ++steps) {
                        Status error = Status::Ok;
                        const StagedAppend::Step step = sa.commit_step(100, &first, &error);
                        if (step == StagedAppend::Step::Done) break;
                        if (step == StagedAppend::Step::Failed) st = error;
                        if (step == StagedAppend::Step::Queued ||
                            step == StagedAppend::Step::Locked || steps > 1000) {
                            st = Status::Busy;  // nobody else writes here
                        }
                    }
                    sa.close();
                    env.reg->release(r.value);
                    return st;
                }});
}

TEST_CASE("store crash matrix: a slide in place over holes in the middle",
          "[store][crash][slide]") {
    Scenario sc{"slide in place",
                {std::string(kBox)},
                [](Env& env) {
                    setup_sized(env, kSlideSizes, {1, 4, 9});
                },
                do_slide};
    sc.same_modseq = true;
    run_matrix(sc);
    const Box b = run_once(sc);
    CHECK(uids_and_flags(b) == "2/0 3/0 5/0 6/0 7/8 8/0 ");
}

TEST_CASE("store crash matrix: a slide in place, its data flushes asked for (issue 13)",
          "[store][crash][slide][flush]") {
    Scenario sc{"slide in place, async",
                {std::string(kBox)},
                [](Env& env) {
                    setup_sized(env, kSlideSizes, {1, 4, 9});
                },
                [](Env& env) { return slide_steps(env, true); }};
    sc.same_modseq = true;
    run_matrix(sc);
    CHECK(uids_and_flags(run_once(sc)) == "2/0 3/0 5/0 6/0 7/8 8/0 ");
}

TEST_CASE("store crash matrix: a slide whose one run of frames ends the index",
          "[store][crash][slide]") {
    Scenario sc{"slide, last run",
                {std::string(kBox)},
                [](Env& env) {
                    setup_sized(env, {300, 300, 40, 50, 60}, {1, 2});
                },
                do_slide};
    sc.same_modseq = true;
    run_matrix(sc);
    CHECK(uids_and_flags(run_once(sc)) == "3/0 4/8 5/0 ");
}

// m.data stays walkable: crashed at every point of the slide (unsynced
// writes dropped, or applied, dropped or torn at random) and the index lost
// as well, the rebuild finds every live message, once, whole (it may bring
// back expunged messages whose frames the slide had not overwritten yet:
// their marks lived only in the index, docs/STORAGE.md "Known limits").
TEST_CASE("store: a rebuild after a crash at any point of a slide finds every message once",
          "[store][crash][slide]") {
    const auto setup = [](Env& env) { setup_sized(env, kSlideSizes, {1, 4, 9}); };
    Box after;
    std::uint64_t points = 0;
    {
        Env env(1ull << 40);
        setup(env);
        env.fs.sync_all();
        env.restart();
        env.fs.reset_counters();
        REQUIRE(do_slide(env) == Status::Ok);
        points = env.fs.crash_points();
        after = snapshot(env, {std::string(kBox)})[std::string(kBox)];
    }
    REQUIRE(after.msgs.size() == 6);
    for (const SimFs::CrashMode mode : {SimFs::CrashMode::DropAll, SimFs::CrashMode::ApplyRandom}) {
        for (unsigned n = 1; n <= points; ++n) {
            Env env(1ull << 40);
            setup(env);
            env.fs.sync_all();
            env.restart();
            env.fs.set_crash_mode(mode);
            env.fs.set_seed(n);
            env.fs.crash_at_write(n);
            (void)do_slide(env);
            REQUIRE(env.fs.crashed());
            env.fs.restart();
            REQUIRE(env.fs.unlink(std::string(kBox) + "/m.index") == Status::Ok);
            const Box got = snapshot(env, {std::string(kBox)})[std::string(kBox)];
            INFO("crash at point " << n << " of " << points << " mode " << static_cast<int>(mode)
                                   << ", got " << got.msgs.size());
            std::size_t found = 0;
            for (const Msg& want : after.msgs)
                for (const Msg& m : got.msgs)
                    if (m.uid == want.uid && m.body == want.body) ++found;
            CHECK(found == after.msgs.size());
            CHECK(got.msgs.size() <= 9);  // read_box checked: UIDs ascending, none twice
        }
    }
}

// A move whose state commit failed (the journal and the records written, the
// state not): the next lock in any process finishes it from the journal —
// here in another process (a second Registry on the same files), whose views
// are then invalidated — and the mailbox reads right everywhere.
TEST_CASE("store: a move left by a failed commit is finished by the next lock of another process",
          "[store][slide]") {
    Env env(1ull << 40);
    setup_sized(env, kSlideSizes, {1, 4, 9});
    env.fs.sync_all();
    env.restart();
    const Box want = snapshot(env, {std::string(kBox)})[std::string(kBox)];
    REQUIRE(want.msgs.size() == 6);
    // The other process: its own Registry, the mailbox open, a view on it.
    std::vector<unsigned char> mem(Registry::bytes_needed(env.limits));
    Registry other(env.fs, env.clock, env.entropy, env.limits);
    Arena arena(mem.data(), mem.size());
    REQUIRE(other.init(arena) == Status::Ok);
    auto ra = other.acquire(kBox);
    REQUIRE(ra.status == Status::Ok);
    View va;
    ra.value->attach(va, false);
    // This process slides until m.data was synced (the copy of the first
    // run is durable), then the commit's state write fails.
    auto rb = env.reg->acquire(kBox);
    REQUIRE(rb.status == Status::Ok);
    Mailbox* m = rb.value;
    REQUIRE(m->start_slide(m->highest_modseq()) == Status::Ok);
    const std::uint64_t syncs = env.fs.calls(SimFs::Op::Fsync);
    while (env.fs.calls(SimFs::Op::Fsync) == syncs) {
        std::uint64_t budget = env.limits.compact_step_bytes;
        REQUIRE(m->compact_step(&budget) == Status::Ok);
    }
    const std::uint64_t generation = m->state().generation;
    env.fs.fail_nth(SimFs::Op::Write, 3, Status::Io);  // journal, one record, the state
    std::uint64_t budget = env.limits.compact_step_bytes;
    CHECK(m->compact_step(&budget) == Status::Io);
    CHECK_FALSE(m->sliding());  // abandoned; the fs lock is free
    CHECK(m->state().generation == generation);
    // The other process takes the lock (a STORE): the move is finished.
    REQUIRE(ra.value->begin_store() == Status::Ok);
    ra.value->abort_store();
    CHECK(va.invalidated);
    CHECK(ra.value->state().generation == generation + 1);
    CHECK(ra.value->state().relocations == 1);
    ra.value->detach(va);
    other.release(ra.value);
    env.reg->release(m);
    // Everyone reads the same messages, bodies intact, without a rebuild.
    const Box got = snapshot(env, {std::string(kBox)})[std::string(kBox)];
    CHECK(got.same_content(want));
    CHECK(got.highest_modseq == want.highest_modseq);
}

TEST_CASE(
    "RFC 6154 §3: an m.use a crashed CREATE left in a \\Noselect name is no special use, "
    "now or after a CREATE without USE",
    "[store][crash]") {
    Env env(1ull << 40);
    env.fs.make_dirs("/mail");
    UserStore user(*env.reg, kRoot);
    REQUIRE(user.ensure() == Status::Ok);
    REQUIRE(user.create("p/q") == Status::Ok);
    Path dir;
    REQUIRE(user.mailbox_dir("p", &dir) == Status::Ok);
    env.fs.write_file(std::string(dir.view()) + "/m.use", "\\Sent\n");
    CHECK(user.special_use("p") == 0);
    REQUIRE(user.create("p") == Status::Ok);
    CHECK(user.special_use("p") == 0);
    CHECK_FALSE(env.fs.exists(std::string(dir.view()) + "/m.use"));
}
