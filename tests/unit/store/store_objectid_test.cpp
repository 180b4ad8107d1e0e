// Tests of index version 2 (core/store/format.h, mailbox_upgrade.cpp): the
// save date (RFC 8514) and EMAILID (RFC 8474 §5.1) of every record, the
// MAILBOXID (RFC 8474 §4) of every mailbox, and the upgrade of a version 1
// index when a mailbox is opened (docs/STORAGE.md "Upgrading a version 1
// index"), crash-safe at every point.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "core/base/arena.h"
#include "core/base/endian.h"
#include "core/mail/flags.h"
#include "core/store/format.h"
#include "core/store/registry.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"
#include "tests/unit/store/index_v1.h"

using namespace tinyimapd;
using namespace tinyimapd::store;
using sim::SimFs;
using tinyimapd::test::downgrade_to_v1;
using tinyimapd::test::state_to_v1;

namespace {

constexpr std::string_view kBox = "/mail/u/box";
const std::string kIndexPath = std::string(kBox) + "/m.index";

struct Env {
    sim::SimClock clock;
    SimFs fs{&clock};
    sim::SimEntropy entropy{7};
    StoreLimits limits;
    std::vector<unsigned char> mem;
    Registry* reg = nullptr;
    alignas(Registry) unsigned char reg_storage[sizeof(Registry)];

    Env() {
        limits.max_open_mailboxes = 4;
        limits.cache_records = 8;
        limits.scratch_bytes = 64;
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
    void create(std::string_view dir = kBox) {
        fs.make_dirs(dir);
        REQUIRE(Mailbox::create_files(reg->services(), dir, 1234, 1, 1) == Status::Ok);
    }
    Mailbox* open(std::string_view dir = kBox) {
        auto r = reg->acquire(dir);
        REQUIRE(r.status == Status::Ok);
        return r.value;
    }
};

Status append(Mailbox* m, std::string_view text, std::uint8_t flags = 0) {
    Appender a;
    Status st =
        m->begin_append(a, static_cast<std::uint32_t>(text.size()), flags, 0, 1400000000, 0);
    if (st == Status::Ok) st = m->append_chunk(a, text.data(), text.size());
    if (st != Status::Ok) {
        m->abort_append(a);
        return st;
    }
    std::uint32_t uid = 0;
    return m->commit_append(a, &uid);
}

Status set_flags(Mailbox* m, View& v, std::uint32_t seq, std::uint8_t flags) {
    Status st = m->begin_store();
    if (st != Status::Ok) return st;
    MessageInfo info;
    bool skipped = false;
    st = m->store(v, seq, FlagOp::Add, flags, 0, 0, &info, &skipped);
    if (st != Status::Ok) {
        m->abort_store();
        return st;
    }
    return m->commit_store();
}

std::uint16_t index_version(SimFs& fs) {
    const std::string idx = fs.read_file(kIndexPath);
    return le::load16(reinterpret_cast<const std::uint8_t*>(idx.data()) + 4);
}

// Four messages, the second \Seen, the third \Flagged, then expunged.
void setup_v1(Env& env) {
    env.create();
    Mailbox* m = env.open();
    for (int i = 0; i < 4; ++i) REQUIRE(append(m, "m" + std::to_string(i) + "\r\n") == Status::Ok);
    View v;
    m->attach(v, false);
    REQUIRE(set_flags(m, v, 2, mail::kSeen) == Status::Ok);
    REQUIRE(set_flags(m, v, 3, mail::kFlagged | mail::kDeleted) == Status::Ok);
    std::size_t n = 0;
    REQUIRE(m->expunge(v, nullptr, nullptr, 8, &n) == Status::Ok);
    CHECK(n == 1);
    m->detach(v);
    env.reg->release(m);
    env.restart();
    downgrade_to_v1(env.fs, kIndexPath);
    env.fs.sync_all();
    env.restart();
}

struct Seen {
    std::vector<std::uint32_t> uids;
    std::vector<std::uint8_t> flags;
    std::vector<std::uint64_t> email_ids;
    std::vector<std::int64_t> save_dates;
    std::uint64_t mailbox_id = 0;
};

Seen look(Env& env) {
    Seen s;
    Mailbox* m = env.open();
    s.mailbox_id = m->mailbox_id();
    View v;
    m->attach(v, true);
    for (std::uint32_t seq = 1; seq <= v.exists; ++seq) {
        MessageInfo info;
        REQUIRE(m->message(v, seq, &info) == Status::Ok);
        s.uids.push_back(info.uid);
        s.flags.push_back(static_cast<std::uint8_t>(info.flags & ~mail::kRecent));
        s.email_ids.push_back(info.email_id);
        s.save_dates.push_back(info.save_date);
    }
    m->detach(v);
    env.reg->release(m);
    return s;
}

}  // namespace

TEST_CASE("store format: index version 2 pins the save date, EMAILID and MAILBOXID bytes",
          "[store][objectid]") {
    Record r;
    r.uid = 5;
    r.size = 7;
    r.save_date = -2;
    r.email_id = 0x1122334455667788ull;
    std::uint8_t rb[kRecordSize] = {};
    encode_fixed(r, rb);
    CHECK(le::load64(rb + 28) == static_cast<std::uint64_t>(-2));
    CHECK(le::load64(rb + 36) == 0x1122334455667788ull);
    CHECK(le::load32(rb + 44) == crc32c(rb, 44));
    Record d;
    REQUIRE(decode_fixed(rb, &d));
    CHECK(d.save_date == -2);
    CHECK(d.email_id == r.email_id);
    rb[40] ^= 1;  // any flipped bit of the new fields is caught
    CHECK_FALSE(decode_fixed(rb, &d));

    State s;
    s.generation = 2;
    s.mailbox_id = 0xa1b2c3d4e5f60718ull;
    std::uint8_t sb[kStateSlotSize];
    encode(s, sb);
    CHECK(le::load16(sb + 4) == 2);
    CHECK(le::load16(sb + 6) == 96);
    CHECK(le::load64(sb + 84) == s.mailbox_id);
    State t;
    REQUIRE(decode(sb, &t));
    CHECK(t.version == kIndexVersion);
    CHECK(t.mailbox_id == s.mailbox_id);
    // A version 1 slot (record size 80, reserved bytes) is read, for the
    // upgrade; the sizes must go with their version.
    state_to_v1(sb);
    REQUIRE(decode(sb, &t));
    CHECK(t.version == kIndexVersion1);
    CHECK(t.mailbox_id == 0);
    le::store16(sb + 6, 96);
    le::store32(sb + 92, crc32c(sb, 92));
    CHECK_FALSE(decode(sb, &t));

    // docs/STORAGE.md "Memory": a record in the cache (and in a MULTIAPPEND
    // batch) is 72 bytes, 16 more than before, on 64-bit and on the 32-bit
    // targets alike (ARM EABI and MIPS o32 align 64-bit fields to 8).
    CHECK(sizeof(Record) == 72);
}

TEST_CASE(
    "store: APPEND records the save date and a new EMAILID; COPY keeps the EMAILID "
    "(RFC 8514 §4.2, RFC 8474 §5.1)",
    "[store][objectid]") {
    Env env;
    env.create();
    env.create("/mail/u/dest");
    Mailbox* m = env.open();
    Mailbox* dst = env.open("/mail/u/dest");
    CHECK(m->mailbox_id() != 0);
    CHECK(dst->mailbox_id() != 0);
    CHECK(m->mailbox_id() != dst->mailbox_id());
    REQUIRE(append(m, "one\r\n") == Status::Ok);
    env.clock.advance(5000);
    REQUIRE(append(m, "two\r\n") == Status::Ok);
    View v;
    m->attach(v, false);
    MessageInfo a, b;
    REQUIRE(m->message(v, 1, &a) == Status::Ok);
    REQUIRE(m->message(v, 2, &b) == Status::Ok);
    CHECK(a.save_date == 1700000000);
    CHECK(b.save_date == 1700000005);
    CHECK(a.internal_date == 1400000000);
    CHECK(a.email_id != 0);
    CHECK(b.email_id != 0);
    CHECK(a.email_id != b.email_id);
    env.clock.advance(60000);
    REQUIRE(m->begin_copy(*dst) == Status::Ok);
    std::uint32_t u = 0;
    REQUIRE(m->copy(v, 2, *dst, &u) == Status::Ok);
    REQUIRE(m->commit_copy(*dst) == Status::Ok);
    View dv;
    dst->attach(dv, true);
    MessageInfo c;
    REQUIRE(dst->message(dv, 1, &c) == Status::Ok);
    CHECK(c.email_id == b.email_id);
    CHECK(c.save_date == 1700000065);  // saved into dest when copied
    dst->detach(dv);
    m->detach(v);
    const std::uint64_t id = m->mailbox_id();
    env.reg->release(m);
    env.reg->release(dst);
    // Stable across restarts and compaction (RFC 8474 §4, §5.1).
    env.restart();
    Seen s = look(env);
    CHECK(s.mailbox_id == id);
    REQUIRE(s.email_ids.size() == 2);
    CHECK(s.email_ids[0] == a.email_id);
    CHECK(s.email_ids[1] == b.email_id);
    CHECK(s.save_dates[1] == 1700000005);
}

TEST_CASE("store: a version 1 index is upgraded when opened; UIDs, flags and expunges stay",
          "[store][objectid][upgrade]") {
    Env env;
    setup_v1(env);
    REQUIRE(index_version(env.fs) == kIndexVersion1);
    const Seen s = look(env);
    CHECK(index_version(env.fs) == kIndexVersion);
    CHECK_FALSE(env.fs.exists(std::string(kBox) + "/m.index.new"));
    CHECK(s.uids == std::vector<std::uint32_t>{1, 2, 4});
    CHECK(s.flags == std::vector<std::uint8_t>{0, mail::kSeen, 0});
    CHECK(s.mailbox_id != 0);
    // RFC 8514 §4.2: saved before the store kept save dates: NIL.
    for (std::int64_t d : s.save_dates) CHECK(d == kNoSaveDate);
    const std::set<std::uint64_t> ids(s.email_ids.begin(), s.email_ids.end());
    CHECK(ids.size() == 3);
    CHECK(ids.count(0) == 0);
    // The ids the upgrade gave are kept from then on (RFC 8474 §4, §5.1).
    env.restart();
    const Seen again = look(env);
    CHECK(again.mailbox_id == s.mailbox_id);
    CHECK(again.email_ids == s.email_ids);
    // And the mailbox goes on: a new message has a save date.
    Mailbox* m = env.open();
    REQUIRE(append(m, "new\r\n") == Status::Ok);
    CHECK(m->uid_next() == 6);
    env.reg->release(m);
    const Seen after = look(env);
    REQUIRE(after.save_dates.size() == 4);
    CHECK(after.save_dates[3] == env.clock.wall_seconds());
}

TEST_CASE(
    "store: a crash at any point of the upgrade leaves the version 1 index or the "
    "version 2 one, never a mailbox that lost anything",
    "[store][objectid][upgrade][crash]") {
    std::uint64_t points = 0;
    Seen want;
    {
        Env env;
        setup_v1(env);
        env.fs.reset_counters();
        {
            auto r = env.reg->acquire(kBox);  // the open that upgrades
            REQUIRE(r.ok());
            env.reg->release(r.value);
        }
        points = env.fs.crash_points();
        want = look(env);
    }
    REQUIRE(points > 0);
    for (const SimFs::CrashMode mode : {SimFs::CrashMode::DropAll, SimFs::CrashMode::ApplyRandom}) {
        for (unsigned n = 1; n <= points; ++n) {
            INFO("crash at point " << n << " of " << points << " mode " << static_cast<int>(mode));
            Env env;
            setup_v1(env);
            env.fs.set_crash_mode(mode);
            env.fs.set_seed(n);
            env.fs.crash_at_write(n);
            {
                auto r = env.reg->acquire(kBox);
                if (r.ok()) env.reg->release(r.value);
            }
            REQUIRE(env.fs.crashed());
            env.fs.restart();
            env.restart();
            const Seen got = look(env);
            CHECK(index_version(env.fs) == kIndexVersion);
            CHECK(got.uids == want.uids);
            CHECK(got.flags == want.flags);
            CHECK(got.mailbox_id != 0);
        }
    }
}
