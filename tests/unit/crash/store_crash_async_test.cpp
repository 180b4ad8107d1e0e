// The crash matrix of the store's write path with asynchronous flushes
// (issue 13, docs/STORAGE.md "Flushes leave the loop"): a transaction begun
// with async_flush stops at each durability barrier (WouldBlock), the
// caller starts the flush (SimFs::flush_start) and does other work — here
// a second transaction on another mailbox, whose writes land between the
// first one's writes and its flush — then reports the outcome (flushed())
// and resumes. Crashed at every write, fsync, ... (the flushes' fsyncs
// included) with unsynced writes dropped or applied/dropped/torn: an
// acknowledged change is there exactly; an unacknowledged one is there
// wholly or not at all; UIDVALIDITY stays, UIDNEXT never goes back, counts
// agree; the mailboxes keep working. And while a transaction waits at a
// barrier, a reader of the same process sees nothing of it (flags, counts,
// HIGHESTMODSEQ, changed_externally()) — not even once its state is
// written but not yet flushed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/mail/flags.h"
#include "core/store/registry.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"

using namespace tinyimapd;
using namespace tinyimapd::store;
using sim::SimFs;

namespace {

constexpr std::string_view kA = "/mail/u/a";
constexpr std::string_view kB = "/mail/u/b";

struct Env {
    sim::SimClock clock;
    SimFs fs{&clock};
    sim::SimEntropy entropy{7};
    StoreLimits limits;
    std::vector<unsigned char> mem;
    alignas(Registry) unsigned char reg_storage[sizeof(Registry)];
    Registry* reg = nullptr;
    std::map<std::string, bool> acked;  // the op's verdict per mailbox

    Env() {
        limits.max_open_mailboxes = 4;
        limits.cache_records = 4;
        limits.scratch_bytes = 128;
        fs.set_async_flush(true);
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
        reg->close_all();
        reg->~Registry();
        start();
    }
};

std::string body(int i) {
    return "Subject: m" + std::to_string(i) + "\r\n\r\n" + std::string(40 + i * 7, 'a' + i) +
           "\r\n";
}

void setup(Env& env) {
    for (std::string_view dir : {kA, kB}) {
        env.fs.make_dirs(dir);
        REQUIRE(Mailbox::create_files(env.reg->services(), dir, 77, 1, 1) == Status::Ok);
        auto r = env.reg->acquire(dir);
        REQUIRE(r.status == Status::Ok);
        for (int i = 0; i < 3; ++i) {
            Appender a;
            const std::string text = body(i);
            const auto size = static_cast<std::uint32_t>(text.size());
            REQUIRE(r.value->begin_append(a, size, i == 0 ? mail::kSeen : 0, 0, 1700000000, 0) ==
                    Status::Ok);
            REQUIRE(r.value->append_chunk(a, text.data(), text.size()) == Status::Ok);
            std::uint32_t uid = 0;
            REQUIRE(r.value->commit_append(a, &uid) == Status::Ok);
        }
        env.reg->release(r.value);
    }
    env.fs.sync_all();
}

// What a mailbox holds, read back after a restart: "uid/flags/keywords/size".
struct Content {
    std::uint32_t validity = 0, uid_next = 0;
    std::vector<std::string> msgs;
    std::vector<std::string> keywords;  // the mailbox's keyword table, in bit order
    bool operator==(const Content& o) const { return same_messages(o) && keywords == o.keywords; }
    // The messages alone: a keyword registered outside a transaction is a
    // commit of its own (run_async_matrix's STORE registers one first).
    bool same_messages(const Content& o) const { return validity == o.validity && msgs == o.msgs; }
};

Content read_back(Env& env, std::string_view dir) {
    Content c;
    auto r = env.reg->acquire(dir);
    REQUIRE(r.status == Status::Ok);
    Mailbox* m = r.value;
    c.validity = m->uid_validity();
    c.uid_next = m->uid_next();
    for (std::size_t bit = 0; bit < m->keyword_count(); ++bit)
        c.keywords.emplace_back(m->keyword_name(bit));
    View v;
    m->attach(v, true);
    std::uint32_t unseen = 0;
    for (std::uint32_t seq = 1; seq <= v.exists; ++seq) {
        MessageInfo info;
        REQUIRE(m->message(v, seq, &info) == Status::Ok);
        std::string text(info.size, '\0');
        std::size_t got = 0;
        REQUIRE(m->read(info, 0, text.data(), info.size, &got) == Status::Ok);
        REQUIRE(got == info.size);
        std::string line = std::to_string(info.uid) + "/" +
                           std::to_string(info.flags & ~mail::kRecent) + "/" + text;
        for (unsigned bit = 0; bit < 64; ++bit)
            if (info.keywords & (1ull << bit)) line += "/" + std::string(m->keyword_name(bit));
        if ((info.flags & mail::kSeen) == 0) ++unseen;
        c.msgs.push_back(line);
    }
    StatusInfo si;
    REQUIRE(m->status(&si) == Status::Ok);
    CHECK(si.messages == c.msgs.size());
    CHECK(si.unseen == unseen);
    m->detach(v);
    env.reg->release(m);
    return c;
}

std::map<std::string, Content> snapshot(Env& env) {
    env.restart();
    return {{std::string(kA), read_back(env, kA)}, {std::string(kB), read_back(env, kB)}};
}

// A transaction in steps: each call goes on from its last barrier.
using Step = std::function<Status()>;

// What a reader of this process sees of mailbox A: flags of every message,
// HIGHESTMODSEQ, MESSAGES.
std::string reader_view(Mailbox* m) {
    View v;
    m->attach(v, true);
    std::string out = std::to_string(m->highest_modseq()) + ":" + std::to_string(v.exists);
    for (std::uint32_t seq = 1; seq <= v.exists; ++seq) {
        MessageInfo info;
        if (m->message(v, seq, &info) == Status::Ok) {
            out += " " + std::to_string(info.flags & ~mail::kRecent) + "/" +
                   std::to_string(info.keywords);
        }
    }
    m->detach(v);
    return out;
}

// Runs two transactions, on A and on B, side by side: whenever one stops at
// a barrier its flush is started and the other goes on; flushes finish
// later, all at once (coalesced per file). While A waits, its reader sees
// nothing of it.
void run_side_by_side(Env& env, Mailbox* a, Step step_a, Mailbox* b, Step step_b) {
    struct Txn {
        Mailbox* box;
        Step step;
        std::string dir;
        bool waiting = false, done = false;
        std::uint64_t token;
    } txns[2] = {{a, std::move(step_a), std::string(kA), false, false, 1},
                 {b, std::move(step_b), std::string(kB), false, false, 2}};
    const std::string before = reader_view(a);
    for (int rounds = 0; rounds < 100 && !(txns[0].done && txns[1].done); ++rounds) {
        for (Txn& t : txns) {
            if (t.done || t.waiting) continue;
            const Status st = t.step();
            if (st == Status::WouldBlock) {
                CHECK(t.box->awaiting_flush());
                const Status started = env.fs.flush_start(t.box->flush_file(), t.token);
                if (started != Status::Ok) {
                    t.box->flushed(started);  // the step gives up
                    continue;
                }
                t.waiting = true;
                continue;
            }
            t.done = true;
            env.acked[t.dir] = st == Status::Ok;
        }
        if (!env.fs.crashed() && !txns[0].done) {
            CHECK(reader_view(a) == before);  // nothing of A before its last flush
            CHECK_FALSE(a->changed_externally());
        }
        port::FlushDone done[4];
        const std::size_t n = env.fs.flush_done(done, 4);
        for (std::size_t i = 0; i < n; ++i) {
            Txn& t = txns[done[i].token - 1];
            t.box->flushed(done[i].status);
            t.waiting = false;
        }
        if (n == 0 && env.fs.crashed()) {  // the flushes went with the power
            for (Txn& t : txns) {
                if (t.waiting) t.box->flushed(Status::Io);
                t.waiting = false;
            }
        }
    }
    CHECK(txns[0].done);
    CHECK(txns[1].done);
}

// Runs `body` with mailboxes A and B acquired and a read-write view of A
// attached, and gives them back after; nothing when either cannot be opened.
void with_a_and_b(Env& env, const std::function<void(Mailbox*, Mailbox*, View&)>& body) {
    auto ra = env.reg->acquire(kA);
    auto rb = env.reg->acquire(kB);
    if (ra.status == Status::Ok && rb.status == Status::Ok) {
        View v;
        ra.value->attach(v, false);
        body(ra.value, rb.value, v);
        ra.value->detach(v);
    }
    if (ra.status == Status::Ok) env.reg->release(ra.value);
    if (rb.status == Status::Ok) env.reg->release(rb.value);
}

// STORE on A (flags of two messages and a keyword registered before) side
// by side with a two-message APPEND batch on B.
void op_store_and_append(Env& env) {
    with_a_and_b(env, [&](Mailbox* a, Mailbox* b, View& v) {
        unsigned bit = 0;
        Status kw = a->keyword_bit("$Done", true, &bit);
        int store_phase = kw == Status::Ok ? 0 : 9;
        Step store = [&]() -> Status {
            Status st = Status::Ok;
            MessageInfo info;
            bool skipped = false;
            if (store_phase == 9) return kw;
            if (store_phase == 0) {
                if ((st = a->begin_store(true)) != Status::Ok) return st;
                store_phase = 1;
            }
            if (store_phase == 1) {
                st = a->store(v, 1, FlagOp::Remove, mail::kSeen, 0, 0, &info, &skipped);
                if (st == Status::WouldBlock) return st;
                if (st == Status::Ok) store_phase = 2;
            }
            if (st == Status::Ok && store_phase == 2) {
                st = a->store(v, 3, FlagOp::Add, mail::kFlagged, 1ull << bit, 0, &info, &skipped);
                if (st == Status::WouldBlock) return st;
                if (st == Status::Ok) store_phase = 3;
            }
            if (st == Status::Ok) {
                st = a->commit_store();
                if (st == Status::WouldBlock) return st;
                return st;
            }
            a->abort_store();
            return st;
        };
        Appender app;
        Record batch[2];
        app.batch = batch;
        app.batch_capacity = 2;
        int append_phase = 0;
        Step append = [&]() -> Status {
            Status st = Status::Ok;
            for (; append_phase < 2; ++append_phase) {
                const std::string text = body(10 + append_phase);
                st = b->begin_append(app, static_cast<std::uint32_t>(text.size()), 0, 0, 1700000000,
                                     0);
                if (st == Status::Ok) st = b->append_chunk(app, text.data(), text.size());
                std::uint32_t uid = 0;
                if (st == Status::Ok) st = b->commit_append(app, &uid);
                if (st != Status::Ok) {
                    b->abort_append(app);
                    return st;
                }
            }
            app.async_flush = true;
            std::uint32_t first = 0;
            return b->commit_batch(app, &first);  // WouldBlock at its barriers
        };
        run_side_by_side(env, a, store, b, append);
    });
}

// COPY of A's messages 2 and 3 into B with the copy's flushes async, side
// by side with a STORE on A.
void op_copy_and_store(Env& env) {
    with_a_and_b(env, [&](Mailbox* a, Mailbox* b, View& v) {
        int copy_phase = 0;
        Step copy = [&]() -> Status {
            Status st = Status::Ok;
            if (copy_phase == 0) {
                if ((st = a->begin_copy(*b, true)) != Status::Ok) return st;
                std::uint32_t uid = 0;
                st = a->copy(v, 2, *b, &uid);
                if (st == Status::Ok) st = a->copy(v, 3, *b, &uid);
                if (st != Status::Ok) {
                    a->abort_copy(*b);
                    return st;
                }
                copy_phase = 1;
            }
            return a->commit_copy(*b);  // WouldBlock at its barriers; aborts itself on errors
        };
        int store_phase = 0;
        Step store = [&]() -> Status {
            Status st = Status::Ok;
            MessageInfo info;
            bool skipped = false;
            if (store_phase == 0) {
                // The copy reads A but writes only B: A's own transaction is free.
                if ((st = a->begin_store(true)) != Status::Ok) return st;
                store_phase = 1;
            }
            if (store_phase == 1) {
                st = a->store(v, 2, FlagOp::Add, mail::kAnswered, 0, 0, &info, &skipped);
                if (st == Status::WouldBlock) return st;
                if (st == Status::Ok) store_phase = 2;
            }
            if (st == Status::Ok) return a->commit_store();
            a->abort_store();
            return st;
        };
        run_side_by_side(env, a, store, b, copy);
    });
}

// EXPUNGE of A's \Deleted messages (marked before, synchronously) beside a
// a one-message APPEND on B.
void op_expunge_and_append(Env& env) {
    with_a_and_b(env, [&](Mailbox* a, Mailbox* b, View& v) {
        Step expunge = [&]() -> Status {
            std::size_t count = 0;
            std::uint32_t from = 1;
            return a->expunge(v, nullptr, nullptr, 16, &count, &from, true);
        };
        Appender app;
        Record batch[1];
        app.batch = batch;
        app.batch_capacity = 1;
        bool begun = false;
        Step append = [&]() -> Status {
            if (!begun) {
                begun = true;
                const std::string text = body(12);
                Status st = b->begin_append(app, static_cast<std::uint32_t>(text.size()), 0, 0,
                                            1700000000, 0);
                if (st == Status::Ok) st = b->append_chunk(app, text.data(), text.size());
                std::uint32_t uid = 0;
                if (st == Status::Ok) st = b->commit_append(app, &uid);
                if (st != Status::Ok) {
                    b->abort_append(app);
                    return st;
                }
            }
            app.async_flush = true;
            std::uint32_t first = 0;
            return b->commit_batch(app, &first);
        };
        run_side_by_side(env, a, expunge, b, append);
    });
}

// Marks A's messages 1 and 3 \Deleted (setup, synchronous).
void mark_deleted(Env& env) {
    auto r = env.reg->acquire(kA);
    REQUIRE(r.status == Status::Ok);
    View v;
    r.value->attach(v, false);
    REQUIRE(r.value->begin_store() == Status::Ok);
    MessageInfo info;
    bool skipped = false;
    for (std::uint32_t seq : {1u, 3u})
        REQUIRE(r.value->store(v, seq, FlagOp::Add, mail::kDeleted, 0, 0, &info, &skipped) ==
                Status::Ok);
    REQUIRE(r.value->commit_store() == Status::Ok);
    r.value->detach(v);
    env.reg->release(r.value);
    env.fs.sync_all();
}

void run_async_matrix(const char* name, const std::function<void(Env&)>& op,
                      const std::function<void(Env&)>& prepare = {}) {
    std::map<std::string, Content> before, after;
    std::uint64_t points = 0;
    {
        Env env;
        setup(env);
        if (prepare) prepare(env);
        before = snapshot(env);
    }
    {
        Env env;
        setup(env);
        if (prepare) prepare(env);
        env.restart();
        env.fs.reset_counters();
        op(env);
        REQUIRE(env.acked[std::string(kA)]);
        REQUIRE(env.acked[std::string(kB)]);
        points = env.fs.crash_points();
        after = snapshot(env);
    }
    INFO("scenario " << name << ", " << points << " crash points");
    REQUIRE(points > 0);
    REQUIRE_FALSE(before == after);
    const std::pair<SimFs::CrashMode, std::uint64_t> modes[] = {{SimFs::CrashMode::DropAll, 0},
                                                                {SimFs::CrashMode::ApplyRandom, 1},
                                                                {SimFs::CrashMode::ApplyRandom, 2},
                                                                {SimFs::CrashMode::ApplyRandom, 3}};
    for (const auto& [mode, seed] : modes) {
        for (unsigned n = 1; n <= points; ++n) {
            Env env;
            setup(env);
            if (prepare) prepare(env);
            env.restart();
            env.fs.set_crash_mode(mode);
            env.fs.set_seed(seed);
            env.fs.crash_at_write(n);
            op(env);
            REQUIRE(env.fs.crashed());
            env.fs.restart();
            const auto got = snapshot(env);
            INFO("crash at point " << n << " mode " << static_cast<int>(mode) << " seed " << seed);
            for (const auto& [dir, content] : got) {
                INFO(dir << (env.acked[dir] ? " (acknowledged)" : ""));
                const bool is_before = content.same_messages(before.at(dir));
                const bool is_after = content.same_messages(after.at(dir));
                if (env.acked[dir]) {
                    CHECK(is_after);
                } else {
                    CHECK((is_before || is_after));
                }
                CHECK(content.validity == before.at(dir).validity);
                CHECK(content.uid_next >= before.at(dir).uid_next);
            }
            // The mailboxes keep working: an APPEND gets a UID above all.
            for (std::string_view dir : {kA, kB}) {
                auto r = env.reg->acquire(dir);
                REQUIRE(r.status == Status::Ok);
                Appender a;
                const std::string text = body(20);
                REQUIRE(r.value->begin_append(a, static_cast<std::uint32_t>(text.size()), 0, 0,
                                              1700000000, 0) == Status::Ok);
                REQUIRE(r.value->append_chunk(a, text.data(), text.size()) == Status::Ok);
                std::uint32_t uid = 0;
                REQUIRE(r.value->commit_append(a, &uid) == Status::Ok);
                CHECK(uid >= got.at(std::string(dir)).uid_next);
                env.reg->release(r.value);
            }
        }
    }
}

}  // namespace

TEST_CASE("store crash matrix, async flushes: STORE beside an APPEND batch",
          "[store][crash][flush]") {
    run_async_matrix("store+append", op_store_and_append);
}

TEST_CASE("store crash matrix, async flushes: COPY beside a STORE", "[store][crash][flush]") {
    run_async_matrix("copy+store", op_copy_and_store);
}

TEST_CASE("store crash matrix, async flushes: EXPUNGE beside an APPEND", "[store][crash][flush]") {
    run_async_matrix("expunge+append", op_expunge_and_append, mark_deleted);
}

// The synchronous API is the same steps with the flush done in place: one
// flush per STORE (its redo record, docs/STORAGE.md "The redo log").
TEST_CASE("store: async flushes use as many flushes as the synchronous path", "[store][flush]") {
    Env env;
    setup(env);
    env.restart();
    auto r = env.reg->acquire(kA);
    REQUIRE(r.status == Status::Ok);
    Mailbox* m = r.value;
    View v;
    m->attach(v, false);
    env.fs.reset_counters();
    REQUIRE(m->begin_store(true) == Status::Ok);
    MessageInfo info;
    bool skipped = false;
    int barriers = 0;
    auto flush = [&] {
        ++barriers;
        REQUIRE(env.fs.flush_start(m->flush_file(), 5) == Status::Ok);
        port::FlushDone d;
        REQUIRE(env.fs.flush_done(&d, 1) == 1);
        m->flushed(d.status);
    };
    Status st;
    while ((st = m->store(v, 2, FlagOp::Add, mail::kFlagged, 0, 0, &info, &skipped)) ==
           Status::WouldBlock)
        flush();
    REQUIRE(st == Status::Ok);
    while ((st = m->commit_store()) == Status::WouldBlock) flush();
    REQUIRE(st == Status::Ok);
    CHECK(barriers == 1);  // the redo record
    CHECK(env.fs.calls(SimFs::Op::Fsync) == 1);
    const std::uint64_t written = env.fs.bytes_written();
    CHECK(written == redo_length(1) + 24 + 96);  // the record, then one slot and the state
    m->detach(v);
    env.reg->release(m);
}

// ---- the redo log (docs/STORAGE.md "The redo log") --------------------------

namespace {

// Starts the flush the mailbox waits for and reports it at once (a crash:
// the flush fails, or never comes back).
void flush_now(Env& env, Mailbox* m) {
    const Status started = env.fs.flush_start(m->flush_file(), 9);
    if (started != Status::Ok) {
        m->flushed(started);
        return;
    }
    port::FlushDone d;
    m->flushed(env.fs.flush_done(&d, 1) == 1 ? d.status : Status::Io);
}

struct Change {
    std::uint32_t seq;
    FlagOp op;
    std::uint8_t flags;
    const char* keyword;  // or nullptr
};

// One STORE transaction on A (async flushes unless `sync`): every change,
// then the commit; Ok means acknowledged.
Status store_txn(Env& env, Mailbox* m, View& v, const std::vector<Change>& changes,
                 bool sync = false) {
    Status st = m->begin_store(!sync);
    for (const Change& c : changes) {
        if (st != Status::Ok) break;
        std::uint64_t kw = 0;
        if (c.keyword != nullptr) {
            unsigned bit = 0;
            if ((st = m->keyword_bit(c.keyword, true, &bit)) != Status::Ok) break;
            kw = 1ull << bit;
        }
        MessageInfo info;
        bool skipped = false;
        while ((st = m->store(v, c.seq, c.op, c.flags, kw, 0, &info, &skipped)) ==
               Status::WouldBlock)
            flush_now(env, m);
    }
    if (st != Status::Ok) {
        m->abort_store();
        return st;
    }
    while ((st = m->commit_store()) == Status::WouldBlock) flush_now(env, m);
    return st;
}

Status expunge_txn(Env& env, Mailbox* m, View& v) {
    std::size_t n = 0;
    Status st;
    while ((st = m->expunge(v, nullptr, nullptr, 64, &n, nullptr, true)) == Status::WouldBlock)
        flush_now(env, m);
    return st;
}

using SeqStep = std::function<Status(Env&, Mailbox*, View&)>;

// Runs the steps on A, one after the other, with A open and a read-write
// view attached; returns how many were acknowledged before one failed.
std::size_t run_steps(Env& env, const std::vector<SeqStep>& steps) {
    auto r = env.reg->acquire(kA);
    if (r.status != Status::Ok) return 0;
    View v;
    r.value->attach(v, false);
    std::size_t acked = 0;
    for (const SeqStep& s : steps) {
        if (s(env, r.value, v) != Status::Ok) break;
        ++acked;
    }
    r.value->detach(v);
    env.reg->release(r.value);
    return acked;
}

// A sequence of transactions on A, crashed at every point: A is then the
// state after the last acknowledged one or after the one in flight, never
// anything else (an acknowledged STORE is never lost, an unacknowledged one
// is there wholly or not at all).
void run_sequence_matrix(const char* name, const std::function<void(Env&)>& prepare,
                         const std::vector<SeqStep>& steps) {
    std::vector<Content> states;
    {
        Env env;
        setup(env);
        if (prepare) prepare(env);
        env.fs.sync_all();
        env.restart();
        states.push_back(read_back(env, kA));
        for (const SeqStep& s : steps) {
            REQUIRE(run_steps(env, {s}) == 1);
            env.restart();
            states.push_back(read_back(env, kA));
        }
    }
    std::uint64_t points = 0;
    {
        Env env;
        setup(env);
        if (prepare) prepare(env);
        env.fs.sync_all();
        env.restart();
        env.fs.reset_counters();
        REQUIRE(run_steps(env, steps) == steps.size());
        points = env.fs.crash_points();
    }
    INFO("scenario " << name << ", " << points << " crash points");
    REQUIRE(points > 0);
    const std::pair<SimFs::CrashMode, std::uint64_t> modes[] = {{SimFs::CrashMode::DropAll, 0},
                                                                {SimFs::CrashMode::ApplyRandom, 1},
                                                                {SimFs::CrashMode::ApplyRandom, 2},
                                                                {SimFs::CrashMode::ApplyRandom, 3}};
    for (const auto& [mode, seed] : modes) {
        for (unsigned n = 1; n <= points; ++n) {
            Env env;
            setup(env);
            if (prepare) prepare(env);
            env.fs.sync_all();
            env.restart();
            env.fs.set_crash_mode(mode);
            env.fs.set_seed(seed);
            env.fs.crash_at_write(n);
            const std::size_t acked = run_steps(env, steps);
            REQUIRE(env.fs.crashed());
            env.fs.restart();
            env.restart();
            const Content got = read_back(env, kA);
            INFO("crash at point " << n << " mode " << static_cast<int>(mode) << " seed " << seed
                                   << ", " << acked << " acknowledged");
            const bool last = got == states[acked];
            const bool next = acked + 1 < states.size() && got == states[acked + 1];
            CHECK((last || next));
            CHECK(got.uid_next >= states[0].uid_next);
        }
    }
}

}  // namespace

TEST_CASE("store crash matrix, redo log: STOREs in a row, a sync one, then an EXPUNGE",
          "[store][crash][flush][redo]") {
    run_sequence_matrix(
        "redo: stores in a row", {},
        {[](Env& env, Mailbox* m, View& v) {
             return store_txn(env, m, v,
                              {{1, FlagOp::Add, mail::kFlagged, nullptr},
                               {3, FlagOp::Add, mail::kFlagged, nullptr}});
         },
         // The next record's flush makes the first one's writes in place
         // durable; the same message twice in one transaction.
         [](Env& env, Mailbox* m, View& v) {
             return store_txn(env, m, v,
                              {{1, FlagOp::Remove, mail::kSeen, nullptr},
                               {2, FlagOp::Add, mail::kAnswered, nullptr},
                               {2, FlagOp::Add, mail::kDraft, nullptr}});
         },
         // FETCH's implicit \Seen takes this path: flushed in place.
         [](Env& env, Mailbox* m, View& v) {
             return store_txn(env, m, v,
                              {{3, FlagOp::Add, mail::kSeen, "$Done"},
                               {2, FlagOp::Add, mail::kDeleted, nullptr}},
                              true);
         },
         // A commit of the intent's way after the records.
         [](Env& env, Mailbox* m, View& v) { return expunge_txn(env, m, v); },
         [](Env& env, Mailbox* m, View& v) {
             return store_txn(env, m, v, {{1, FlagOp::Replace, mail::kAnswered, "$Done"}});
         }});
}

TEST_CASE("store crash matrix, redo log: a STORE that outgrows its record goes the intent's way",
          "[store][crash][flush][redo]") {
    constexpr std::uint32_t kMessages = kRedoMaxEntries + 4;
    run_sequence_matrix(
        "redo: spill",
        [](Env& env) {
            auto r = env.reg->acquire(kA);
            REQUIRE(r.status == Status::Ok);
            for (std::uint32_t i = 3; i < kMessages; ++i) {
                Appender a;
                const std::string text = "Subject: " + std::to_string(i) + "\r\n\r\nx\r\n";
                REQUIRE(r.value->begin_append(a, static_cast<std::uint32_t>(text.size()), 0, 0,
                                              1700000000, 0) == Status::Ok);
                REQUIRE(r.value->append_chunk(a, text.data(), text.size()) == Status::Ok);
                std::uint32_t uid = 0;
                REQUIRE(r.value->commit_append(a, &uid) == Status::Ok);
            }
            env.reg->release(r.value);
        },
        {[](Env& env, Mailbox* m, View& v) {
             std::vector<Change> all;
             for (std::uint32_t seq = 1; seq <= kMessages; ++seq)
                 all.push_back({seq, FlagOp::Add, mail::kFlagged, nullptr});
             return store_txn(env, m, v, all);
         },
         [](Env& env, Mailbox* m, View& v) {
             return store_txn(env, m, v,
                              {{1, FlagOp::Remove, mail::kFlagged, nullptr},
                               {kMessages, FlagOp::Remove, mail::kFlagged, nullptr}});
         }});
}

// A flag change costs one flush: the redo record. Its slots and state are
// written in place after it, without a flush of their own.
TEST_CASE("store: a STORE is durable after one flush, its writes in place follow",
          "[store][flush][redo]") {
    Env env;
    setup(env);
    env.restart();
    const Content before = read_back(env, kA);
    std::uint64_t flushes = 0;
    {
        auto r = env.reg->acquire(kA);
        REQUIRE(r.status == Status::Ok);
        View v;
        r.value->attach(v, false);
        env.fs.reset_counters();
        REQUIRE(store_txn(env, r.value, v, {{2, FlagOp::Add, mail::kFlagged, nullptr}}) ==
                Status::Ok);
        flushes = env.fs.calls(SimFs::Op::Fsync);
        r.value->detach(v);
        env.reg->release(r.value);
    }
    CHECK(flushes == 1);
    // Power lost right after the OK: the writes in place are gone, the record
    // is not; opening writes it again.
    env.fs.crash_at_write(1);
    CHECK(env.fs.fsync(port::kNoFile) != Status::Ok);
    REQUIRE(env.fs.crashed());
    env.fs.restart();
    env.restart();
    const Content got = read_back(env, kA);
    CHECK_FALSE(got == before);
    CHECK(got.msgs[1].substr(0, 4) == "2/2/");  // uid 2, \Flagged
}

// Given up while its record is being flushed (the client left): nothing of
// it counts, even if the record was written (it is made invalid).
TEST_CASE("store: a STORE given up at its flush leaves the mailbox as it was",
          "[store][flush][redo]") {
    Env env;
    setup(env);
    env.restart();
    const Content before = read_back(env, kA);
    {
        auto r = env.reg->acquire(kA);
        REQUIRE(r.status == Status::Ok);
        Mailbox* m = r.value;
        View v;
        m->attach(v, false);
        REQUIRE(m->begin_store(true) == Status::Ok);
        MessageInfo info;
        bool skipped = false;
        REQUIRE(m->store(v, 2, FlagOp::Add, mail::kFlagged, 0, 0, &info, &skipped) == Status::Ok);
        REQUIRE(m->commit_store() == Status::WouldBlock);
        m->abort_store();
        m->detach(v);
        env.reg->release(m);
    }
    env.fs.sync_all();
    env.restart();
    CHECK(read_back(env, kA) == before);
    // And the next STORE (the same generation) commits normally.
    REQUIRE(run_steps(env, {[](Env& e, Mailbox* m, View& v) {
                          return store_txn(e, m, v, {{3, FlagOp::Add, mail::kAnswered, nullptr}});
                      }}) == 1);
    env.restart();
    const Content got = read_back(env, kA);
    CHECK(got.msgs[1] == before.msgs[1]);
    CHECK(got.msgs[2].substr(0, 4) == "3/1/");
}

// Another process (its own Registry on the same files) sees a flag change
// committed by its record whose writes in place failed: taking the lock
// writes the record again; this process's next lock reads it back.
TEST_CASE(
    "store: a committed redo record is written in place by the next lock of another "
    "process",
    "[store][flush][redo]") {
    Env env;
    setup(env);
    env.restart();
    std::vector<unsigned char> mem(Registry::bytes_needed(env.limits));
    Registry other(env.fs, env.clock, env.entropy, env.limits);
    Arena arena(mem.data(), mem.size());
    REQUIRE(other.init(arena) == Status::Ok);
    auto ro = other.acquire(kA);
    REQUIRE(ro.status == Status::Ok);
    View vo;
    ro.value->attach(vo, false);
    const std::uint64_t modseq = ro.value->highest_modseq();

    auto r = env.reg->acquire(kA);
    REQUIRE(r.status == Status::Ok);
    Mailbox* m = r.value;
    View v;
    m->attach(v, false);
    REQUIRE(m->begin_store(true) == Status::Ok);
    MessageInfo info;
    bool skipped = false;
    REQUIRE(m->store(v, 2, FlagOp::Add, mail::kFlagged, 0, 0, &info, &skipped) == Status::Ok);
    REQUIRE(m->commit_store() == Status::WouldBlock);
    flush_now(env, m);
    env.fs.fail_nth(SimFs::Op::Write, 1, Status::Io);  // the first write in place
    CHECK(m->commit_store() == Status::Io);
    env.fs.clear_faults();
    CHECK(m->highest_modseq() == modseq);

    REQUIRE(ro.value->begin_store() == Status::Ok);
    ro.value->abort_store();
    CHECK(ro.value->highest_modseq() == modseq + 1);
    REQUIRE(ro.value->message(vo, 2, &info) == Status::Ok);
    CHECK((info.flags & mail::kFlagged) != 0);
    ro.value->detach(vo);
    other.release(ro.value);

    REQUIRE(m->begin_store() == Status::Ok);
    m->abort_store();
    CHECK(m->highest_modseq() == modseq + 1);
    REQUIRE(m->message(v, 2, &info) == Status::Ok);
    CHECK((info.flags & mail::kFlagged) != 0);
    m->detach(v);
    env.reg->release(m);
    env.restart();
    CHECK(read_back(env, kA).msgs[1].substr(0, 4) == "2/2/");
}

// A record of the committed generation counts only if its state is the
// committed one byte for byte: a record given up whose voiding was lost,
// followed by another commit of the same generation (a keyword's), is not
// written over that commit at the next open.
TEST_CASE("store: a stale redo record of the committed generation is not replayed",
          "[store][flush][redo]") {
    Env env;
    setup(env);
    env.restart();
    const std::string index = std::string(kA) + "/m.index";
    std::string record;
    {
        auto r = env.reg->acquire(kA);
        REQUIRE(r.status == Status::Ok);
        Mailbox* m = r.value;
        View v;
        m->attach(v, false);
        REQUIRE(m->begin_store(true) == Status::Ok);
        MessageInfo info;
        bool skipped = false;
        REQUIRE(m->store(v, 2, FlagOp::Add, mail::kFlagged, 0, 0, &info, &skipped) == Status::Ok);
        REQUIRE(m->commit_store() == Status::WouldBlock);
        record = env.fs.read_file(index).substr(kRedoOffset, 2 * kRedoAreaSize);
        m->abort_store();
        // A keyword registered outside a transaction commits a state of its
        // own: the same generation and modseq, the same record count.
        unsigned bit = 0;
        REQUIRE(m->keyword_bit("$Later", true, &bit) == Status::Ok);
        m->detach(v);
        env.reg->release(m);
    }
    env.restart();
    const Content want = read_back(env, kA);
    REQUIRE(want.msgs.size() == 3);
    // The voiding lost: the record is back, valid, of the committed generation.
    std::string bytes = env.fs.read_file(index);
    bytes.replace(kRedoOffset, record.size(), record);
    env.fs.write_file(index, bytes);
    env.restart();
    CHECK(read_back(env, kA) == want);
}

// ---- group commit (docs/STORAGE.md "Group commit") ---------------------------

namespace {

// One member of a group: begin_store (a new transaction, or joining the one
// open), its changes, then commit_store with its waiter (WouldBlock: it
// waits for the group's commit).
Status group_member(Env& env, Mailbox* m, View& v, const std::vector<Change>& changes,
                    CommitWaiter& w) {
    Status st = m->begin_store(true);
    for (const Change& c : changes) {
        if (st != Status::Ok) break;
        std::uint64_t kw = 0;
        if (c.keyword != nullptr) {
            unsigned bit = 0;
            if ((st = m->keyword_bit(c.keyword, true, &bit)) != Status::Ok) break;
            kw = 1ull << bit;
        }
        MessageInfo info;
        bool skipped = false;
        while ((st = m->store(v, c.seq, c.op, c.flags, kw, 0, &info, &skipped)) ==
               Status::WouldBlock)
            flush_now(env, m);
    }
    if (st != Status::Ok) {
        m->abort_store(&w);
        return st;
    }
    return m->commit_store(w);
}

// What the Registry does at the end of a turn: the group's commit, its
// flushes started and reported.
Status commit_group_now(Env& env, Mailbox* m) {
    Status st;
    while ((st = m->commit_group()) == Status::WouldBlock) flush_now(env, m);
    return st;
}

// Two sessions' STOREs (two views of A) committed as one group: Ok when both
// were acknowledged.
Status group_txn(Env& env, Mailbox* m, View& v, const std::vector<Change>& first,
                 const std::vector<Change>& second) {
    View v2;
    m->attach(v2, false);
    CommitWaiter w1, w2;
    Status st = group_member(env, m, v, first, w1);
    if (st == Status::WouldBlock) {
        const Status joined = group_member(env, m, v2, second, w2);
        if (joined != Status::WouldBlock) st = joined;
    }
    if (st == Status::WouldBlock) {
        CHECK(m->group_due());
        (void)commit_group_now(env, m);
        st = w1.done && w2.done ? m->commit_store(w1) : Status::Io;
        if (st == Status::Ok) st = m->commit_store(w2);
    } else {
        // A member failed (the power went): it gave its changes back; the
        // first one stops waiting. Nothing more is written (a crashed fs).
        m->abort_store(&w1);
        if (st == Status::Ok) st = Status::Io;
    }
    m->detach(v2);
    return st;
}

}  // namespace

// Two sessions' changes in one redo record, one flush: crashed between the
// writes and the flush (and everywhere else), the mailbox is the state
// before the group or after it, never one session's changes without the
// other's; the next STORE's flush makes the group's writes in place durable.
TEST_CASE("store crash matrix, redo log: a group of two sessions' STOREs, one flush",
          "[store][crash][flush][redo][group]") {
    run_sequence_matrix(
        "redo: group of two", {},
        {[](Env& env, Mailbox* m, View& v) {
             return group_txn(env, m, v,
                              {{1, FlagOp::Add, mail::kFlagged, nullptr},
                               {3, FlagOp::Remove, mail::kSeen, nullptr}},
                              {{2, FlagOp::Add, mail::kAnswered, "$Group"},
                               {1, FlagOp::Add, mail::kDraft, nullptr}});
         },
         // The same message changed by both members: the second builds on
         // the first's change.
         [](Env& env, Mailbox* m, View& v) {
             return group_txn(env, m, v, {{2, FlagOp::Remove, mail::kAnswered, nullptr}},
                              {{2, FlagOp::Add, mail::kSeen, nullptr},
                               {3, FlagOp::Replace, mail::kFlagged, "$Group"}});
         },
         [](Env& env, Mailbox* m, View& v) {
             return store_txn(env, m, v, {{1, FlagOp::Remove, mail::kDraft, nullptr}});
         }});
}

// An APPEND's new keywords (core/session/cmd_append.cpp,
// append_new_keywords): a member of a group that registers names and
// changes no message; the group's one flush makes them durable. Then a
// STORE that uses one, and a group where a STORE joins the registration.
TEST_CASE("store crash matrix, group commit: keywords registered alone, as APPEND does",
          "[store][crash][flush][group]") {
    const auto register_only = [](Env& env, Mailbox* m, const std::vector<const char*>& names,
                                  CommitWaiter& w) {
        Status st = m->begin_store(true);
        for (const char* name : names) {
            unsigned bit = 0;
            if (st == Status::Ok) st = m->keyword_bit(name, true, &bit);
        }
        if (st != Status::Ok) {
            m->abort_store(&w);
            return st;
        }
        st = m->commit_store(w);
        if (st != Status::WouldBlock) return st;
        (void)commit_group_now(env, m);
        return w.done ? m->commit_store(w) : Status::Io;
    };
    run_sequence_matrix(
        "group: keywords alone", {},
        {[&](Env& env, Mailbox* m, View&) {
             CommitWaiter w;
             return register_only(env, m, {"$Work", "$Home"}, w);
         },
         [](Env& env, Mailbox* m, View& v) {
             return store_txn(env, m, v, {{1, FlagOp::Add, mail::kFlagged, "$Home"}});
         },
         [&](Env& env, Mailbox* m, View& v) {
             // A STORE joins the registration's group: one flush for both.
             CommitWaiter w1, w2;
             Status st = m->begin_store(true);
             unsigned bit = 0;
             if (st == Status::Ok) st = m->keyword_bit("$Later", true, &bit);
             if (st == Status::Ok) st = m->commit_store(w1);
             if (st != Status::WouldBlock) {
                 m->abort_store(&w1);
                 return st == Status::Ok ? Status::Io : st;
             }
             st = group_member(env, m, v, {{2, FlagOp::Add, mail::kSeen, "$Work"}}, w2);
             if (st != Status::WouldBlock) {
                 m->abort_store(&w1);
                 return st == Status::Ok ? Status::Io : st;
             }
             (void)commit_group_now(env, m);
             st = w1.done && w2.done ? m->commit_store(w1) : Status::Io;
             return st == Status::Ok ? m->commit_store(w2) : st;
         }});
}

TEST_CASE("store: a group commits two sessions' STOREs with one flush, each with its modseq",
          "[store][flush][redo][group]") {
    Env env;
    setup(env);
    env.restart();
    auto r = env.reg->acquire(kA);
    REQUIRE(r.status == Status::Ok);
    Mailbox* m = r.value;
    View v1, v2, reader;
    m->attach(v1, false);
    m->attach(v2, false);
    m->attach(reader, true);
    const std::uint64_t before = m->highest_modseq();
    env.fs.reset_counters();
    CommitWaiter w1, w2;
    REQUIRE(group_member(env, m, v1, {{1, FlagOp::Add, mail::kFlagged, nullptr}}, w1) ==
            Status::WouldBlock);
    CHECK(m->group_due());
    // The second joins before the group is sealed (same message, another flag).
    REQUIRE(group_member(env, m, v2,
                         {{1, FlagOp::Add, mail::kAnswered, nullptr},
                          {2, FlagOp::Add, mail::kSeen, nullptr}},
                         w2) == Status::WouldBlock);
    // Nothing of either is visible before the commit.
    MessageInfo info;
    REQUIRE(m->message(reader, 1, &info) == Status::Ok);
    CHECK((info.flags & (mail::kFlagged | mail::kAnswered)) == 0);
    CHECK(m->highest_modseq() == before);
    // Sealed: a third STORE waits for the next group.
    REQUIRE(m->commit_group() == Status::WouldBlock);
    CHECK(m->begin_store(true) == Status::Busy);
    flush_now(env, m);
    REQUIRE(m->commit_group() == Status::Ok);
    CHECK(w1.done);
    CHECK(w2.done);
    CHECK(m->commit_store(w1) == Status::Ok);
    CHECK(m->commit_store(w2) == Status::Ok);
    CHECK(env.fs.calls(SimFs::Op::Fsync) == 1);
    CHECK(w1.modseq == before + 1);
    CHECK(w2.modseq == before + 2);
    CHECK(m->highest_modseq() == before + 2);
    REQUIRE(m->message(reader, 1, &info) == Status::Ok);
    CHECK((info.flags & (mail::kFlagged | mail::kAnswered)) == (mail::kFlagged | mail::kAnswered));
    CHECK(info.modseq == before + 2);
    REQUIRE(m->message(reader, 2, &info) == Status::Ok);
    CHECK((info.flags & mail::kSeen) != 0);
    CHECK(info.modseq == before + 2);
    m->detach(reader);
    m->detach(v2);
    m->detach(v1);
    env.reg->release(m);
    env.restart();
    const Content got = read_back(env, kA);
    CHECK(got.msgs[0].substr(0, 5) == "1/11/");  // \Answered \Flagged \Seen
    CHECK(got.msgs[1].substr(0, 4) == "2/8/");
}

// A member still changing messages when it gives up takes back only its own
// changes; one that gives up while waiting is committed without being told.
TEST_CASE("store: a member of a group that gives up takes back only its own changes",
          "[store][flush][redo][group]") {
    Env env;
    setup(env);
    env.restart();
    {
        auto r = env.reg->acquire(kA);
        REQUIRE(r.status == Status::Ok);
        Mailbox* m = r.value;
        View v1, v2, v3;
        m->attach(v1, false);
        m->attach(v2, false);
        m->attach(v3, false);
        CommitWaiter w1, w2, w3;
        REQUIRE(group_member(env, m, v1, {{2, FlagOp::Add, mail::kFlagged, nullptr}}, w1) ==
                Status::WouldBlock);
        // The second changes the same message, then gives up before its commit.
        REQUIRE(m->begin_store(true) == Status::Ok);
        MessageInfo info;
        bool skipped = false;
        REQUIRE(m->store(v2, 2, FlagOp::Add, mail::kDraft, 0, 0, &info, &skipped) == Status::Ok);
        REQUIRE(m->store(v2, 3, FlagOp::Add, mail::kDraft, 0, 0, &info, &skipped) == Status::Ok);
        m->abort_store(&w2);
        CHECK(m->group_due());
        // The third joins, then leaves while waiting.
        REQUIRE(group_member(env, m, v3, {{3, FlagOp::Add, mail::kAnswered, nullptr}}, w3) ==
                Status::WouldBlock);
        m->abort_store(&w3);
        CHECK_FALSE(w3.done);
        REQUIRE(commit_group_now(env, m) == Status::Ok);
        CHECK(w1.done);
        CHECK(m->commit_store(w1) == Status::Ok);
        CHECK_FALSE(w3.done);
        m->detach(v3);
        m->detach(v2);
        m->detach(v1);
        env.reg->release(m);
    }
    env.restart();
    const Content got = read_back(env, kA);
    CHECK(got.msgs[1].substr(0, 4) == "2/2/");  // \Flagged, not \Draft
    CHECK(got.msgs[2].substr(0, 4) == "3/1/");  // \Answered (the one that left), not \Draft
}

// A group's redo record holds kRedoMaxEntries changes: a member that does
// not fit while others wait is refused (Busy), gives back its changes, and
// the others commit without it.
TEST_CASE("store: a member that does not fit the group's redo record is refused",
          "[store][flush][redo][group]") {
    Env env;
    setup(env);
    {
        auto r = env.reg->acquire(kA);
        REQUIRE(r.status == Status::Ok);
        for (std::uint32_t i = 3; i < kRedoMaxEntries + 2; ++i) {
            Appender a;
            const std::string text = "Subject: " + std::to_string(i) + "\r\n\r\nx\r\n";
            REQUIRE(r.value->begin_append(a, static_cast<std::uint32_t>(text.size()), 0, 0,
                                          1700000000, 0) == Status::Ok);
            REQUIRE(r.value->append_chunk(a, text.data(), text.size()) == Status::Ok);
            std::uint32_t uid = 0;
            REQUIRE(r.value->commit_append(a, &uid) == Status::Ok);
        }
        env.reg->release(r.value);
    }
    env.restart();
    auto r = env.reg->acquire(kA);
    REQUIRE(r.status == Status::Ok);
    Mailbox* m = r.value;
    View v1, v2;
    m->attach(v1, false);
    m->attach(v2, false);
    CommitWaiter w1, w2;
    std::vector<Change> many;
    for (std::uint32_t seq = 1; seq < kRedoMaxEntries; ++seq)
        many.push_back({seq, FlagOp::Add, mail::kFlagged, nullptr});
    REQUIRE(group_member(env, m, v1, many, w1) == Status::WouldBlock);
    REQUIRE(m->begin_store(true) == Status::Ok);
    MessageInfo info;
    bool skipped = false;
    REQUIRE(m->store(v2, kRedoMaxEntries, FlagOp::Add, mail::kSeen, 0, 0, &info, &skipped) ==
            Status::Ok);
    CHECK(m->store(v2, kRedoMaxEntries + 1, FlagOp::Add, mail::kSeen, 0, 0, &info, &skipped) ==
          Status::Busy);
    m->abort_store(&w2);
    env.fs.reset_counters();
    REQUIRE(commit_group_now(env, m) == Status::Ok);
    CHECK(m->commit_store(w1) == Status::Ok);
    CHECK(env.fs.calls(SimFs::Op::Fsync) == 1);
    REQUIRE(m->message(v1, kRedoMaxEntries, &info) == Status::Ok);
    CHECK((info.flags & mail::kSeen) == 0);
    REQUIRE(m->message(v1, 1, &info) == Status::Ok);
    CHECK((info.flags & mail::kFlagged) != 0);
    m->detach(v2);
    m->detach(v1);
    env.reg->release(m);
}
