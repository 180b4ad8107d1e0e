// Tests of the mailbox store (core/store/mailbox.h, registry.h, format.h):
// append/read, flags and keywords, expunge with per-session numbering,
// compaction, copy, \Recent, status counts, recovery of damaged indexes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/base/endian.h"
#include "core/mail/flags.h"
#include "core/store/format.h"
#include "core/store/registry.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"

using namespace tinyimapd;
using namespace tinyimapd::store;
using sim::SimFs;

namespace {

constexpr std::string_view kBox = "/mail/u/box";

struct Env {
    sim::SimClock clock;
    SimFs fs{&clock};
    sim::SimEntropy entropy{7};
    StoreLimits limits;
    std::vector<unsigned char> mem;
    Registry* reg = nullptr;
    alignas(Registry) unsigned char reg_storage[sizeof(Registry)];

    explicit Env(StoreLimits l = small_limits()) : limits(l) { start(); }
    ~Env() { reg->~Registry(); }
    static StoreLimits small_limits() {
        StoreLimits l;
        l.max_open_mailboxes = 4;
        l.cache_records = 8;
        l.max_pending_expunges = 16;
        l.change_ring = 8;
        l.scratch_bytes = 64;  // small, to cross chunk boundaries
        l.compact_min_waste = 1;
        l.compact_step_bytes = 100;  // compactions in many small steps
        return l;
    }
    void start() {
        mem.assign(Registry::bytes_needed(limits), 0);
        reg = new (reg_storage) Registry(fs, clock, entropy, limits);
        Arena a(mem.data(), mem.size());
        REQUIRE(reg->init(a) == Status::Ok);
    }
    // The loop's background work until none is left (a compaction runs in
    // bounded steps, Registry::background_step, not inside sync()).
    void background() {
        for (int i = 0; i < 100000 && reg->background_pending(); ++i) reg->background_step();
        REQUIRE(!reg->background_pending());
    }
    // A new process on the same disk.
    void restart() {
        reg->close_all();  // a compaction kept open is abandoned, as by an exit
        reg->~Registry();
        start();
    }
    void create(std::string_view dir = kBox, std::uint32_t validity = 1234) {
        fs.make_dirs(dir);
        REQUIRE(Mailbox::create_files(reg->services(), dir, validity, 1, 1) == Status::Ok);
    }
    Mailbox* open(std::string_view dir = kBox) {
        auto r = reg->acquire(dir);
        REQUIRE(r.status == Status::Ok);
        return r.value;
    }
};

Status append(Mailbox* m, std::string_view text, std::uint8_t flags = 0,
              std::uint32_t* uid = nullptr, std::uint64_t keywords = 0) {
    Appender a;
    Status st = m->begin_append(a, static_cast<std::uint32_t>(text.size()), flags, keywords,
                                1700000000, 120);
    if (st != Status::Ok) return st;
    // In chunks of 5, like a literal arriving in pieces.
    for (std::size_t i = 0; i < text.size(); i += 5) {
        st = m->append_chunk(a, text.data() + i, std::min<std::size_t>(5, text.size() - i));
        if (st != Status::Ok) {
            m->abort_append(a);
            return st;
        }
    }
    std::uint32_t u = 0;
    st = m->commit_append(a, &u);
    if (uid != nullptr) *uid = u;
    return st;
}

std::string body(Mailbox* m, const MessageInfo& info) {
    std::string out;
    char buf[7];
    std::uint64_t off = 0;
    for (;;) {
        std::size_t got = 0;
        REQUIRE(m->read(info, off, buf, sizeof buf, &got) == Status::Ok);
        if (got == 0) break;
        out.append(buf, got);
        off += got;
    }
    return out;
}

struct Recorder final : SyncVisitor {
    std::vector<std::uint32_t> expunged_seqs;
    std::vector<std::uint32_t> changed_uids;
    std::uint32_t exists_count = 0, recent = 0;
    bool unknown = false, got_exists = false;
    std::size_t budget = SIZE_MAX;  // reports it takes before saying "no room"
    bool expunged(std::uint32_t seq, std::uint32_t) override {
        if (budget == 0) return false;
        --budget;
        expunged_seqs.push_back(seq);
        return true;
    }
    void exists(std::uint32_t c, std::uint32_t r) override {
        exists_count = c;
        recent = r;
        got_exists = true;
    }
    bool flags_changed(std::uint32_t, std::uint32_t uid) override {
        if (budget == 0) return false;
        --budget;
        changed_uids.push_back(uid);
        return true;
    }
    void flags_unknown(std::uint64_t) override { unknown = true; }
};

Status set_flags(Mailbox* m, View& v, std::uint32_t seq, FlagOp op, std::uint8_t flags,
                 std::uint64_t kw = 0) {
    Status st = m->begin_store();
    if (st != Status::Ok) return st;
    MessageInfo info;
    bool skipped = false;
    st = m->store(v, seq, op, flags, kw, 0, &info, &skipped);
    if (st != Status::Ok) {
        m->abort_store();
        return st;
    }
    return m->commit_store();
}

}  // namespace

TEST_CASE("store format: little-endian layout pinned byte for byte", "[store]") {
    std::uint8_t b[8];
    le::store32(b, 0x11223344u);
    CHECK(b[0] == 0x44);
    CHECK(b[3] == 0x11);
    CHECK(le::load32(b) == 0x11223344u);
    le::store64(b, 0x0102030405060708ull);
    CHECK(b[0] == 8);
    CHECK(le::load64(b) == 0x0102030405060708ull);
    // CRC-32C check value ("123456789" -> 0xE3069283).
    CHECK(crc32c("123456789", 9) == 0xE3069283u);
    // The sliced implementation agrees with the bit-by-bit definition at
    // every length and alignment, also when chained in pieces.
    {
        auto bitwise = [](const std::uint8_t* p, std::size_t n) {
            std::uint32_t c = ~0u;
            for (std::size_t i = 0; i < n; ++i) {
                c ^= p[i];
                for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
            }
            return ~c;
        };
        std::uint8_t data[80];
        for (std::size_t i = 0; i < sizeof data; ++i)
            data[i] = static_cast<std::uint8_t>(i * 37 + 11);
        for (std::size_t off = 0; off < 8; ++off) {
            for (std::size_t n = 0; off + n <= sizeof data; ++n) {
                CHECK(crc32c(data + off, n) == bitwise(data + off, n));
                const std::size_t cut = n / 3;
                CHECK(crc32c(data + off + cut, n - cut, crc32c(data + off, cut)) ==
                      bitwise(data + off, n));
            }
        }
    }

    FrameHeader h;
    h.uid = 7;
    h.size = 300;
    h.internal_date = -5;
    h.zone_minutes = -120;
    h.flags = 9;
    h.keywords = 1ull << 40;
    std::uint8_t fb[kFrameHeaderSize];
    encode(h, fb);
    CHECK(std::memcmp(fb, "TIMF", 4) == 0);
    CHECK(fb[8] == 7);
    CHECK(fb[12] == 0x2c);
    CHECK(fb[13] == 0x01);
    FrameHeader d;
    REQUIRE(decode(fb, &d));
    CHECK(d.internal_date == -5);
    CHECK(d.zone_minutes == -120);
    CHECK(d.keywords == 1ull << 40);
    fb[20] ^= 1;  // any flipped bit is caught
    CHECK_FALSE(decode(fb, &d));

    State s;
    s.generation = 3;
    s.uid_next = 10;
    std::uint8_t sb[kStateSlotSize];
    encode(s, sb);
    CHECK(std::memcmp(sb, "TIMX", 4) == 0);
    State t;
    REQUIRE(decode(sb, &t));
    CHECK(t.uid_next == 10);

    // A record slot above the committed modseq never took effect.
    Record r;
    r.uid = 5;
    r.size = 1;
    r.modseq = 4;
    r.flags = mail::kSeen;
    std::uint8_t rb[kRecordSize] = {};
    encode_fixed(r, rb);
    encode_slot(r, rb + kRecordSlotOffset[0]);
    r.modseq = 6;
    r.flags = mail::kFlagged;
    encode_slot(r, rb + kRecordSlotOffset[1]);
    Record x;
    REQUIRE(decode_record(rb, 5, &x));
    CHECK(x.flags == mail::kSeen);
    REQUIRE(decode_record(rb, 6, &x));
    CHECK(x.flags == mail::kFlagged);
    CHECK(x.slot == 1);
}

TEST_CASE("store: append streams bytes back exactly, UIDs ascend (RFC 3501 §2.3.1.1)", "[store]") {
    Env env;
    env.create();
    Mailbox* m = env.open();
    std::uint32_t u1 = 0, u2 = 0;
    const std::string a = "Subject: one\r\n\r\nHello\r\n";
    const std::string b(1000, 'x');
    REQUIRE(append(m, a, mail::kSeen, &u1) == Status::Ok);
    REQUIRE(append(m, b, 0, &u2) == Status::Ok);
    CHECK(u1 == 1);
    CHECK(u2 == 2);
    View v;
    m->attach(v, false);
    CHECK(v.exists == 2);
    MessageInfo info;
    REQUIRE(m->message(v, 1, &info) == Status::Ok);
    CHECK(info.uid == 1);
    CHECK(info.size == a.size());
    CHECK((info.flags & mail::kSeen) != 0);
    CHECK((info.flags & mail::kRecent) != 0);
    CHECK(info.zone_minutes == 120);
    CHECK(body(m, info) == a);
    REQUIRE(m->message(v, 2, &info) == Status::Ok);
    CHECK(body(m, info) == b);
    CHECK(m->message(v, 3, &info) == Status::NotFound);
    CHECK(m->seq_of_uid(v, 2) == 2);
    CHECK(m->seq_of_uid(v, 9) == 0);

    StatusInfo si;
    REQUIRE(m->status(&si) == Status::Ok);
    CHECK(si.messages == 2);
    CHECK(si.unseen == 1);
    CHECK(si.uid_next == 3);
    CHECK(si.uid_validity == 1234);
    CHECK(si.size == a.size() + b.size());
    m->detach(v);
    env.reg->release(m);

    // A new process sees the same.
    env.restart();
    m = env.open();
    CHECK(m->uid_next() == 3);
    m->attach(v, true);
    REQUIRE(m->message(v, 2, &info) == Status::Ok);
    CHECK(body(m, info) == b);
    m->detach(v);
    env.reg->release(m);
}

TEST_CASE("store: an append that is not committed leaves nothing behind", "[store]") {
    Env env;
    env.create();
    Mailbox* m = env.open();
    REQUIRE(append(m, "first\r\n") == Status::Ok);
    Appender a;
    REQUIRE(m->begin_append(a, 10, 0, 0, 0, 0) == Status::Ok);
    Appender b;
    CHECK(m->begin_append(b, 3, 0, 0, 0, 0) == Status::Busy);
    REQUIRE(m->append_chunk(a, "12345", 5) == Status::Ok);
    std::uint32_t uid = 0;
    CHECK(m->commit_append(a, &uid) == Status::Invalid);  // short: aborted
    CHECK(env.fs.read_file(std::string(kBox) + "/m.data").size() == m->state().data_length);
    std::uint32_t u = 0;
    REQUIRE(append(m, "second\r\n", 0, &u) == Status::Ok);
    CHECK(u == 2);
    env.reg->release(m);
}

TEST_CASE("store: STORE flags and keywords, modseq, notifications (RFC 3501 §6.4.6, RFC 7162)",
          "[store]") {
    Env env;
    env.create();
    Mailbox* m = env.open();
    for (int i = 0; i < 3; ++i) REQUIRE(append(m, "msg\r\n") == Status::Ok);
    View v1, v2;
    m->attach(v1, false);
    m->attach(v2, false);
    const std::uint64_t before = m->highest_modseq();
    unsigned junk = 0;
    REQUIRE(m->begin_store() == Status::Ok);
    REQUIRE(m->keyword_bit("$Junk", true, &junk) == Status::Ok);
    MessageInfo info;
    bool skipped = false;
    REQUIRE(m->store(v1, 2, FlagOp::Add, mail::kSeen | mail::kFlagged, 1ull << junk, 0, &info,
                     &skipped) == Status::Ok);
    CHECK(info.flags == (mail::kSeen | mail::kFlagged | mail::kRecent));
    CHECK(info.modseq == before + 1);
    REQUIRE(m->store(v1, 3, FlagOp::Replace, mail::kDraft, 0, 0, &info, &skipped) == Status::Ok);
    REQUIRE(m->commit_store() == Status::Ok);
    CHECK(m->highest_modseq() == before + 1);
    unsigned again = 99;
    REQUIRE(m->keyword_bit("$junk", false, &again) == Status::Ok);
    CHECK(again == junk);
    CHECK(m->keyword_name(junk) == "$Junk");

    // CONDSTORE UNCHANGEDSINCE: message 2 changed after `before`.
    REQUIRE(m->begin_store() == Status::Ok);
    REQUIRE(m->store(v1, 2, FlagOp::Remove, mail::kSeen, 0, before, &info, &skipped) == Status::Ok);
    CHECK(skipped);
    m->abort_store();

    Recorder r;
    REQUIRE(m->sync(v2, r) == Status::Ok);
    CHECK(r.changed_uids == std::vector<std::uint32_t>{2, 3});
    CHECK_FALSE(r.unknown);

    // Only a few bytes of the index change per flag change.
    env.fs.reset_counters();
    REQUIRE(set_flags(m, v1, 1, FlagOp::Add, mail::kAnswered) == Status::Ok);
    // One redo record (one entry) flushed, then the slot and the state in
    // place without a flush (docs/STORAGE.md "The redo log").
    CHECK(env.fs.bytes_written() == redo_length(1) + kRecordSlotSize + kStateSlotSize);
    CHECK(env.fs.calls(SimFs::Op::Fsync) == 1);

    m->detach(v1);
    m->detach(v2);
    env.reg->release(m);
    env.restart();
    m = env.open();
    m->attach(v1, true);
    REQUIRE(m->message(v1, 2, &info) == Status::Ok);
    CHECK(info.flags == (mail::kSeen | mail::kFlagged));
    CHECK(info.keywords == 1ull << junk);
    REQUIRE(m->message(v1, 3, &info) == Status::Ok);
    CHECK(info.flags == mail::kDraft);
    StatusInfo si;
    REQUIRE(m->status(&si) == Status::Ok);
    CHECK(si.unseen == 2);
    m->detach(v1);
    env.reg->release(m);
}

TEST_CASE("store: EXPUNGE numbering per session, then compaction (RFC 3501 §6.4.3, §7.4.1)",
          "[store]") {
    Env env;
    env.create();
    Mailbox* m = env.open();
    for (int i = 1; i <= 5; ++i)
        REQUIRE(append(m, "message " + std::to_string(i) + "\r\n") == Status::Ok);
    View v1, v2;
    m->attach(v1, false);
    m->attach(v2, true);
    REQUIRE(set_flags(m, v1, 2, FlagOp::Add, mail::kDeleted) == Status::Ok);
    REQUIRE(set_flags(m, v1, 4, FlagOp::Add, mail::kDeleted) == Status::Ok);
    std::uint32_t uids[8];
    std::size_t n = 0;
    REQUIRE(m->expunge(v1, nullptr, uids, 8, &n) == Status::Ok);
    REQUIRE(n == 2);
    CHECK(uids[0] == 2);
    CHECK(uids[1] == 4);
    // v2 has not been told: its numbers still hold, message 4 reads as expunged.
    MessageInfo info;
    REQUIRE(m->message(v2, 4, &info) == Status::Ok);
    CHECK(info.uid == 4);
    CHECK(info.expunged);
    CHECK(v2.exists == 5);
    Recorder r1;
    REQUIRE(m->sync(v1, r1) == Status::Ok);
    CHECK(r1.expunged_seqs == std::vector<std::uint32_t>{4, 2});
    CHECK(r1.exists_count == 3);
    REQUIRE(m->message(v1, 3, &info) == Status::Ok);
    CHECK(info.uid == 5);
    CHECK(m->state().expunged_count == 2);  // v2 still shows them: no compaction yet
    // A new message arrives before v2 syncs.
    std::uint32_t u6 = 0;
    REQUIRE(append(m, "six\r\n", 0, &u6) == Status::Ok);
    CHECK(u6 == 6);
    Recorder r2;
    REQUIRE(m->sync(v2, r2) == Status::Ok);
    CHECK(r2.expunged_seqs == std::vector<std::uint32_t>{4, 2});
    CHECK(r2.exists_count == 4);
    // Now nobody shows the expunged ones: a compaction starts, and runs in
    // the loop's background steps.
    CHECK(m->compacting());
    env.background();
    CHECK(m->state().expunged_count == 0);
    CHECK(m->gone_count() == 0);
    const std::string data = env.fs.read_file(std::string(kBox) + "/m.data");
    CHECK(data.find("message 2") == std::string::npos);
    for (std::uint32_t seq = 1; seq <= 4; ++seq) {
        REQUIRE(m->message(v2, seq, &info) == Status::Ok);
        const std::uint32_t want[] = {1, 3, 5, 6};
        CHECK(info.uid == want[seq - 1]);
    }
    REQUIRE(m->message(v1, 2, &info) == Status::Ok);
    CHECK(body(m, info) == "message 3\r\n");
    Recorder r3;
    REQUIRE(m->sync(v1, r3) == Status::Ok);
    CHECK(r3.exists_count == 4);
    CHECK(r3.recent == 4);  // v1 (read-write, first) holds \Recent; v2 is EXAMINE
    m->detach(v1);
    m->detach(v2);
    env.reg->release(m);
    env.restart();
    m = env.open();
    CHECK(m->uid_next() == 7);
    CHECK(m->state().live_count == 4);
    env.reg->release(m);
}

TEST_CASE(
    "store: a compaction waits for a transaction of this process, never the other way "
    "round",
    "[store][compact]") {
    Env env;
    env.create();
    Mailbox* m = env.open();
    for (int i = 1; i <= 8; ++i)
        REQUIRE(append(m, "message " + std::to_string(i) + " " + std::string(200, 'x') + "\r\n") ==
                Status::Ok);
    View v;
    m->attach(v, false);
    for (std::uint32_t seq : {2u, 3u, 4u})
        REQUIRE(set_flags(m, v, seq, FlagOp::Add, mail::kDeleted) == Status::Ok);
    std::size_t n = 0;
    REQUIRE(m->expunge(v, nullptr, nullptr, 8, &n) == Status::Ok);
    Recorder r;
    REQUIRE(m->sync(v, r) == Status::Ok);
    REQUIRE(m->compacting());
    env.reg->background_step();  // under way, not finished
    REQUIRE(m->compacting());
    // A STORE begins at once (no Busy, no queue) and holds its transaction
    // across turns: meanwhile the compaction does not step, and the loop
    // is not kept awake for it.
    CHECK(!m->busy());
    TurnWaiter w;
    CHECK(m->write_turn(w) == Mailbox::Turn::Ready);
    REQUIRE(m->begin_store() == Status::Ok);
    CHECK(!env.reg->background_pending());
    const std::uint64_t written = env.fs.bytes_written();
    for (int i = 0; i < 5; ++i) env.reg->background_step();
    CHECK(env.fs.bytes_written() == written);
    MessageInfo info;
    bool skipped = false;
    REQUIRE(m->store(v, 1, FlagOp::Add, mail::kFlagged, 0, 0, &info, &skipped) == Status::Ok);
    REQUIRE(m->commit_store() == Status::Ok);
    // Done: the compaction goes on and takes the change in.
    CHECK(env.reg->background_pending());
    env.background();
    CHECK(!m->compacting());
    CHECK(m->state().expunged_count == 0);
    REQUIRE(m->message(v, 1, &info) == Status::Ok);
    CHECK((info.flags & ~mail::kRecent) == mail::kFlagged);
    CHECK(v.exists == 5);
    m->detach(v);
    env.reg->release(m);
    env.restart();
    m = env.open();
    View fresh;
    m->attach(fresh, true);
    CHECK(fresh.exists == 5);
    REQUIRE(m->message(fresh, 1, &info) == Status::Ok);
    CHECK((info.flags & mail::kFlagged) != 0);
    m->detach(fresh);
    env.reg->release(m);
}

TEST_CASE("store: \\Recent goes to exactly one session (RFC 3501 §2.3.2)", "[store]") {
    Env env;
    env.create();
    Mailbox* m = env.open();
    REQUIRE(append(m, "a\r\n") == Status::Ok);
    View v1, v2;
    m->attach(v1, false);
    m->attach(v2, false);
    CHECK(m->recent_count(v1) == 1);
    CHECK(m->recent_count(v2) == 0);
    REQUIRE(append(m, "b\r\n") == Status::Ok);
    Recorder r2, r1;
    REQUIRE(m->sync(v2, r2) == Status::Ok);
    REQUIRE(m->sync(v1, r1) == Status::Ok);
    CHECK(r2.recent == 1);
    CHECK(r1.recent == 1);
    CHECK(m->is_recent(v2, 2));
    CHECK_FALSE(m->is_recent(v1, 2));
    m->detach(v1);
    m->detach(v2);
    env.reg->release(m);
}

TEST_CASE("store: COPY keeps bytes, flags and keywords by name (RFC 3501 §6.4.7)", "[store]") {
    Env env;
    env.create();
    env.create("/mail/u/dest", 99);
    Mailbox* m = env.open();
    Mailbox* d = env.open("/mail/u/dest");
    REQUIRE(append(d, "already\r\n") == Status::Ok);
    unsigned bit = 0;
    REQUIRE(m->keyword_bit("Work", true, &bit) == Status::Ok);
    REQUIRE(append(m, "one\r\n", mail::kFlagged, nullptr, 1ull << bit) == Status::Ok);
    REQUIRE(append(m, std::string(200, 'z')) == Status::Ok);
    View v;
    m->attach(v, false);
    REQUIRE(m->begin_copy(*d) == Status::Ok);
    std::uint32_t u1 = 0, u2 = 0;
    REQUIRE(m->copy(v, 1, *d, &u1) == Status::Ok);
    REQUIRE(m->copy(v, 2, *d, &u2) == Status::Ok);
    REQUIRE(m->commit_copy(*d) == Status::Ok);
    CHECK(u1 == 2);
    CHECK(u2 == 3);
    View dv;
    d->attach(dv, true);
    CHECK(dv.exists == 3);
    MessageInfo info;
    REQUIRE(d->message(dv, 2, &info) == Status::Ok);
    CHECK(body(d, info) == "one\r\n");
    CHECK((info.flags & mail::kFlagged) != 0);
    unsigned dbit = 0;
    REQUIRE(d->keyword_bit("work", false, &dbit) == Status::Ok);
    CHECK(info.keywords == 1ull << dbit);
    REQUIRE(d->message(dv, 3, &info) == Status::Ok);
    CHECK(body(d, info) == std::string(200, 'z'));
    d->detach(dv);
    m->detach(v);
    env.reg->release(m);
    env.reg->release(d);
}

TEST_CASE("store: another process's changes are seen; its lock means Busy, never a wait",
          "[store]") {
    Env env;
    env.create();
    Mailbox* m = env.open();
    REQUIRE(append(m, "a\r\n") == Status::Ok);
    View v;
    m->attach(v, false);
    // A second "process": its own registry on the same fs.
    Env::small_limits();
    std::vector<unsigned char> mem(Registry::bytes_needed(env.limits));
    Registry other(env.fs, env.clock, env.entropy, env.limits);
    Arena arena(mem.data(), mem.size());
    REQUIRE(other.init(arena) == Status::Ok);
    auto o = other.acquire(kBox);
    REQUIRE(o.status == Status::Ok);
    REQUIRE(append(o.value, "from the delivery agent\r\n") == Status::Ok);
    CHECK(m->changed_externally());
    Recorder r;
    REQUIRE(m->sync(v, r) == Status::Ok);
    CHECK(r.exists_count == 2);
    // The other process holds the lock (mid-append): we get Busy at once.
    Appender a;
    REQUIRE(o.value->begin_append(a, 3, 0, 0, 0, 0) == Status::Ok);
    Appender b;
    CHECK(m->begin_append(b, 3, 0, 0, 0, 0) == Status::Busy);
    CHECK(m->begin_store() == Status::Busy);
    o.value->abort_append(a);
    REQUIRE(append(m, "b\r\n") == Status::Ok);
    other.release(o.value);
    m->detach(v);
    env.reg->release(m);
}

TEST_CASE("store: a missing or corrupt index is rebuilt from the data file, keeping UIDs",
          "[store]") {
    for (int damage = 0; damage < 4; ++damage) {
        Env env;
        env.create();
        Mailbox* m = env.open();
        for (int i = 0; i < 4; ++i)
            REQUIRE(append(m, "m" + std::to_string(i) + "\r\n") == Status::Ok);
        View v;
        m->attach(v, false);
        REQUIRE(set_flags(m, v, 3, FlagOp::Add, mail::kSeen) == Status::Ok);
        m->detach(v);
        env.reg->release(m);
        const std::string index_path = std::string(kBox) + "/m.index";
        std::string idx = env.fs.read_file(index_path);
        if (damage == 0) {
            REQUIRE(env.fs.unlink(index_path) == Status::Ok);
        } else if (damage == 1) {
            idx[10] ^= 0x55;  // both state slots
            idx[kStateSlotSize + 10] ^= 0x55;
            env.fs.write_file(index_path, idx);
        } else if (damage == 2) {
            idx[kRecordsOffset + 3 * kRecordSize + 2] ^= 1;  // the last record
            env.fs.write_file(index_path, idx);
        } else {
            idx.resize(kRecordsOffset + 2 * kRecordSize);  // lost records
            env.fs.write_file(index_path, idx);
        }
        env.restart();
        m = env.open();
        CHECK(m->uid_validity() == 1234);
        CHECK(m->uid_next() == 5);
        m->attach(v, true);
        REQUIRE(v.exists == 4);
        for (std::uint32_t seq = 1; seq <= 4; ++seq) {
            MessageInfo info;
            REQUIRE(m->message(v, seq, &info) == Status::Ok);
            CHECK(info.uid == seq);
            CHECK(body(m, info) == "m" + std::to_string(seq - 1) + "\r\n");
            if (seq == 3 && damage == 2) CHECK((info.flags & mail::kSeen) != 0);
        }
        std::uint32_t u = 0;
        m->detach(v);
        REQUIRE(append(m, "after\r\n", 0, &u) == Status::Ok);
        CHECK(u == 5);
        env.reg->release(m);
    }
}

TEST_CASE("store: a torn data tail is cut off", "[store]") {
    Env env;
    env.create();
    Mailbox* m = env.open();
    REQUIRE(append(m, "keep\r\n") == Status::Ok);
    env.reg->release(m);
    const std::string data_path = std::string(kBox) + "/m.data";
    std::string data = env.fs.read_file(data_path);
    const std::size_t good = data.size();
    data += std::string("TIMF\x01garbage", 12);
    env.fs.write_file(data_path, data);
    env.restart();
    m = env.open();
    CHECK(env.fs.read_file(data_path).size() == good);
    CHECK(m->state().live_count == 1);
    env.reg->release(m);
}

// Padding frames (docs/STORAGE.md "m.data"): a rebuild walks over one instead
// of cutting off every message after it; one at the end is cut off.
TEST_CASE("store: a rebuild walks over padding frames; one at the end is cut off", "[store]") {
    for (int where = 0; where < 2; ++where) {  // 0: message 2 padded, 1: message 3 padded
        INFO("padded message " << where + 2);
        Env env;
        env.create();
        Mailbox* m = env.open();
        const std::string texts[3] = {"first\r\n", std::string(300, 's') + "\r\n", "third\r\n"};
        std::uint64_t offsets[4] = {};
        for (const std::string& t : texts) REQUIRE(append(m, t) == Status::Ok);
        View v;
        m->attach(v, true);
        for (std::uint32_t seq = 1; seq <= 3; ++seq) {
            MessageInfo info;
            REQUIRE(m->message(v, seq, &info) == Status::Ok);
            offsets[seq - 1] = info.data_offset - kFrameHeaderSize;
        }
        offsets[3] = m->state().data_length;
        m->detach(v);
        env.reg->release(m);
        const std::string data_path = std::string(kBox) + "/m.data";
        std::string data = env.fs.read_file(data_path);
        const std::size_t padded = static_cast<std::size_t>(where) + 1;
        std::uint8_t pad[kFrameHeaderSize];
        const std::uint64_t span = offsets[padded + 1] - offsets[padded];
        encode_padding(static_cast<std::uint32_t>(span - kFrameOverhead), pad);
        std::uint32_t size = 0;
        CHECK((decode_padding(pad, &size) && size == span - kFrameOverhead));
        FrameHeader h;
        CHECK(!decode(pad, &h));  // never read as a message
        data.replace(offsets[padded], kFrameHeaderSize, reinterpret_cast<const char*>(pad),
                     kFrameHeaderSize);
        env.fs.write_file(data_path, data);
        REQUIRE(env.fs.unlink(std::string(kBox) + "/m.index") == Status::Ok);
        env.restart();
        m = env.open();  // rebuilds the index from m.data
        m->attach(v, true);
        REQUIRE(v.exists == 2);
        std::uint32_t seq = 1;
        for (std::size_t i = 0; i < 3; ++i) {
            if (i == padded) continue;
            MessageInfo info;
            REQUIRE(m->message(v, seq++, &info) == Status::Ok);
            CHECK(info.uid == i + 1);
            CHECK(body(m, info) == texts[i]);
        }
        m->detach(v);
        // A padding frame at the end is not part of the mailbox.
        CHECK(env.fs.read_file(data_path).size() == (where == 1 ? offsets[2] : offsets[3]));
        std::uint32_t uid = 0;
        REQUIRE(append(m, "after\r\n", 0, &uid) == Status::Ok);
        CHECK(uid >= (where == 0 ? 4u : 3u));  // STORAGE.md "Known limits": UIDNEXT
        env.reg->release(m);
        // Opened again: the index is right, no second rebuild.
        env.restart();
        env.fs.reset_counters();
        m = env.open();
        CHECK(env.fs.calls(SimFs::Op::Rename) == 0);
        CHECK(m->state().live_count == 3);
        env.reg->release(m);
    }
}

TEST_CASE("store: 1000 messages need no memory per message", "[store]") {
    Env env;
    env.create();
    Mailbox* m = env.open();
    for (int i = 0; i < 1000; ++i)
        REQUIRE(append(m, "x" + std::to_string(i) + "\r\n") == Status::Ok);
    env.reg->release(m);
    env.restart();
    env.fs.reset_counters();
    m = env.open();
    // Opening reads headers and the last record, not the data file's messages.
    CHECK(env.fs.bytes_read() < 1024);
    View v;
    m->attach(v, true);
    CHECK(v.exists == 1000);
    CHECK(m->seq_of_uid(v, 777) == 777);
    MessageInfo info;
    REQUIRE(m->message(v, 500, &info) == Status::Ok);
    CHECK(body(m, info) == "x499\r\n");
    m->detach(v);
    env.reg->release(m);
}

TEST_CASE("store: many sessions on one mailbox stay consistent (random operations)", "[store]") {
    int total_compacting_steps = 0, total_writes_while_compacting = 0;
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        StoreLimits l = Env::small_limits();
        l.compact_min_waste = 200;
        Env env(l);
        env.create();
        Mailbox* m = env.open();
        constexpr int kViews = 4;
        View views[kViews];
        // What each session believes: the UIDs in sequence order.
        std::vector<std::uint32_t> seen_by[kViews];
        for (int i = 0; i < kViews; ++i) m->attach(views[i], i == 3);
        std::vector<std::uint32_t> truth;  // UIDs live in the mailbox
        int compacting_steps = 0, writes_while_compacting = 0;
        std::uint64_t rng = seed;
        auto next = [&rng](std::uint64_t n) { return sim::splitmix64_next(&rng) % n; };
        struct Apply final : SyncVisitor {
            std::vector<std::uint32_t>* list;
            std::uint32_t exists_count = 0;
            std::size_t budget = SIZE_MAX;  // a small one makes partial syncs
            bool expunged(std::uint32_t seq, std::uint32_t uid) override {
                if (budget == 0) return false;
                --budget;
                REQUIRE(seq >= 1);
                REQUIRE(seq <= list->size());
                CHECK((*list)[seq - 1] == uid);
                list->erase(list->begin() + (seq - 1));
                return true;
            }
            void exists(std::uint32_t count, std::uint32_t) override { exists_count = count; }
            bool flags_changed(std::uint32_t, std::uint32_t) override {
                if (budget == 0) return false;
                --budget;
                return true;
            }
            void flags_unknown(std::uint64_t) override {}
        };
        for (int step = 0; step < 300; ++step) {
            const int v = static_cast<int>(next(kViews));
            // A compaction under way is stepped by the loop (a few frames
            // per step here); writers and readers go between its steps and
            // never wait for it (docs/STORAGE.md "Compaction").
            if (m->compacting()) {
                ++compacting_steps;
                if (next(2) == 0) {
                    env.reg->background_step();
                    continue;
                }
            }
            if (views[v].invalidated) {
                // Left behind when the pending-expunge list filled
                // (make_gone_room): the session reconnects and starts over.
                const bool ro = views[v].read_only;
                m->detach(views[v]);
                m->attach(views[v], ro);
                seen_by[v] = truth;
                CHECK(views[v].exists == truth.size());
                continue;
            }
            const int op = static_cast<int>(next(5));
            if (m->compacting() && op != 3) ++writes_while_compacting;
            switch (op) {
                case 0: {
                    std::uint32_t uid = 0;
                    REQUIRE(append(m, "m" + std::to_string(step) + "\r\n", 0, &uid) == Status::Ok);
                    truth.push_back(uid);
                    break;
                }
                case 4:
                    // A run of consecutive messages \Deleted (they are then
                    // expunged together: runs in the gone list).
                    if (!seen_by[v].empty() && !views[v].read_only) {
                        const auto first = static_cast<std::uint32_t>(1 + next(seen_by[v].size()));
                        for (std::uint32_t seq = first;
                             seq <= seen_by[v].size() && seq < first + 12; ++seq) {
                            MessageInfo info;
                            REQUIRE(m->message(views[v], seq, &info) == Status::Ok);
                            if (!info.expunged)
                                REQUIRE(set_flags(m, views[v], seq, FlagOp::Add, mail::kDeleted) ==
                                        Status::Ok);
                        }
                    }
                    break;
                case 1:
                    if (!seen_by[v].empty() && !views[v].read_only) {
                        const auto seq = static_cast<std::uint32_t>(1 + next(seen_by[v].size()));
                        MessageInfo info;
                        REQUIRE(m->message(views[v], seq, &info) == Status::Ok);
                        CHECK(info.uid == seen_by[v][seq - 1]);
                        if (!info.expunged)
                            REQUIRE(set_flags(m, views[v], seq, FlagOp::Add, mail::kDeleted) ==
                                    Status::Ok);
                    }
                    break;
                case 2:
                    if (!views[v].read_only) {
                        std::uint32_t uids[32];
                        std::size_t n = 0;
                        // Half the time from a UID cursor, a few records per call.
                        const std::uint32_t start = 1 + static_cast<std::uint32_t>(next(8));
                        std::uint32_t from = start;
                        const bool cursor = next(2) == 0;
                        const Status st = m->expunge(views[v], nullptr, uids, 1 + next(32), &n,
                                                     cursor ? &from : nullptr);
                        // Busy: the list of expunges was full, a compaction
                        // started to make room (it runs in the background).
                        REQUIRE((st == Status::Ok || st == Status::Exhausted ||
                                 (st == Status::Busy && m->compacting())));
                        for (std::size_t i = 0; i < n; ++i) {
                            CHECK((!cursor || uids[i] >= start));
                            truth.erase(std::find(truth.begin(), truth.end(), uids[i]));
                        }
                    }
                    break;
                default: {
                    Apply a;
                    a.list = &seen_by[v];
                    // Half the time a sync with room for a few reports only:
                    // the view must then match exactly what was reported.
                    if (next(2) == 0) a.budget = next(4);
                    bool complete = true;
                    REQUIRE(m->sync(views[v], a, &complete) == Status::Ok);
                    if (!complete) {
                        CHECK(views[v].exists == seen_by[v].size());
                        for (std::uint32_t seq = 1; seq <= views[v].exists; ++seq) {
                            MessageInfo info;
                            REQUIRE(m->message(views[v], seq, &info) == Status::Ok);
                            CHECK(info.uid == seen_by[v][seq - 1]);
                            CHECK(m->seq_of_uid(views[v], info.uid) == seq);
                        }
                        break;
                    }
                    // New messages are the ones above what the session knew.
                    for (std::uint32_t uid : truth)
                        if (seen_by[v].empty() || uid > seen_by[v].back())
                            seen_by[v].push_back(uid);
                    CHECK(seen_by[v] == truth);
                    CHECK(views[v].exists == truth.size());
                    for (std::uint32_t seq = 1; seq <= views[v].exists; ++seq) {
                        MessageInfo info;
                        REQUIRE(m->message(views[v], seq, &info) == Status::Ok);
                        CHECK(info.uid == truth[seq - 1]);
                        CHECK(m->seq_of_uid(views[v], info.uid) == seq);
                        CHECK(body(m, info).size() == info.size);
                    }
                }
            }
        }
        env.background();
        for (auto& view : views) m->detach(view);
        env.background();
        CHECK(env.fs.calls(SimFs::Op::Rename) > 0);  // compactions happened on the way
        total_compacting_steps += compacting_steps;
        total_writes_while_compacting += writes_while_compacting;
        env.reg->release(m);
        env.restart();
        m = env.open();
        View fresh;
        m->attach(fresh, true);
        CHECK(fresh.exists == truth.size());
        m->detach(fresh);
        env.reg->release(m);
    }
    // Writers went between compaction steps, not only readers.
    INFO(total_compacting_steps << " steps with a compaction under way");
    CHECK(total_writes_while_compacting > 20);
}

TEST_CASE("store: a full disk fails the operation cleanly and the mailbox goes on", "[store]") {
    Env env;
    env.create();
    Mailbox* m = env.open();
    REQUIRE(append(m, "first\r\n") == Status::Ok);
    for (unsigned nth = 1; nth <= 4; ++nth) {
        env.fs.short_write_nth(nth, 3);
        CHECK(append(m, std::string(100, 'q')) == Status::NoSpace);
        env.fs.clear_faults();
    }
    env.fs.fail_nth(SimFs::Op::Fsync, 1, Status::Io);  // the redo record's flush
    View v;
    m->attach(v, false);
    CHECK(set_flags(m, v, 1, FlagOp::Add, mail::kSeen) == Status::Io);
    env.fs.clear_faults();
    MessageInfo info;
    REQUIRE(m->message(v, 1, &info) == Status::Ok);
    CHECK((info.flags & mail::kSeen) == 0);
    REQUIRE(set_flags(m, v, 1, FlagOp::Add, mail::kFlagged) == Status::Ok);
    std::uint32_t uid = 0;
    REQUIRE(append(m, "second\r\n", 0, &uid) == Status::Ok);
    CHECK(uid == 2);
    m->detach(v);
    env.reg->release(m);
    env.restart();
    m = env.open();
    m->attach(v, true);
    REQUIRE(v.exists == 2);
    REQUIRE(m->message(v, 1, &info) == Status::Ok);
    CHECK((info.flags & ~mail::kRecent) == mail::kFlagged);
    REQUIRE(m->message(v, 2, &info) == Status::Ok);
    CHECK(body(m, info) == "second\r\n");
    m->detach(v);
    env.reg->release(m);
}

TEST_CASE("store: a compaction by another process is noticed (views end, data stays right)",
          "[store]") {
    Env env;  // compact_min_waste = 1: every expunge compacts
    env.create();
    Mailbox* m = env.open();
    for (int i = 1; i <= 3; ++i)
        REQUIRE(append(m, "msg " + std::to_string(i) + "\r\n") == Status::Ok);
    View v;
    m->attach(v, false);
    std::vector<unsigned char> mem(Registry::bytes_needed(env.limits));
    Registry other(env.fs, env.clock, env.entropy, env.limits);
    Arena arena(mem.data(), mem.size());
    REQUIRE(other.init(arena) == Status::Ok);
    auto o = other.acquire(kBox);
    REQUIRE(o.status == Status::Ok);
    View ov;
    o.value->attach(ov, false);
    REQUIRE(set_flags(o.value, ov, 2, FlagOp::Add, mail::kDeleted) == Status::Ok);
    std::uint32_t uids[4];
    std::size_t n = 0;
    REQUIRE(o.value->expunge(ov, nullptr, uids, 4, &n) == Status::Ok);
    Recorder r;
    REQUIRE(o.value->sync(ov, r) == Status::Ok);  // compacts: nobody there shows UID 2
    while (other.background_pending()) other.background_step();
    CHECK(o.value->state().expunged_count == 0);
    // Our process: the next sync sees new files; the session must end.
    Recorder mine;
    CHECK(m->sync(v, mine) == Status::Closed);
    m->detach(v);
    // The mailbox object itself is right again (new files, new positions).
    View fresh;
    m->attach(fresh, true);
    REQUIRE(fresh.exists == 2);
    MessageInfo info;
    REQUIRE(m->message(fresh, 2, &info) == Status::Ok);
    CHECK(info.uid == 3);
    CHECK(body(m, info) == "msg 3\r\n");
    std::uint32_t uid = 0;
    REQUIRE(append(m, "msg 4\r\n", 0, &uid) == Status::Ok);
    CHECK(uid == 4);
    m->detach(fresh);
    o.value->detach(ov);
    other.release(o.value);
    env.reg->release(m);
    env.restart();
    m = env.open();
    CHECK(m->state().live_count == 3);
    env.reg->release(m);
}
