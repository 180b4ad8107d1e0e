// The sort cache file (core/store/sort_cache.h, docs/STORAGE.md "The sort
// cache"): entries written and found again (after a restart too), a stamp
// of another mailbox emptied, a torn or damaged entry ending what is
// trusted and rebuilt over, expunged messages' entries passed over, a
// second writer kept from interleaving, a gap that stops appending. RFC
// 3501 §2.3.1.1 is what makes UID-keyed entries safe: a UID names one
// message for as long as the UIDVALIDITY holds.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "core/base/arena.h"
#include "core/store/registry.h"
#include "core/store/sort_cache.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"

using namespace tinyimapd;
using namespace tinyimapd::store;

namespace {

constexpr std::string_view kBox = "/mail/u/box";
constexpr std::string_view kOther = "/mail/u/other";
const std::string kFile = std::string(kBox) + "/m.sort";

struct Env {
    sim::SimClock clock;
    sim::SimFs fs{&clock};
    sim::SimEntropy entropy{7};
    StoreLimits limits;
    std::vector<unsigned char> mem;
    Registry* reg = nullptr;
    alignas(Registry) unsigned char reg_storage[sizeof(Registry)];
    std::vector<char> buffer = std::vector<char>(2 * SortCache::kMaxEntryBytes + 100);

    Env() {
        start();
        for (std::string_view dir : {kBox, kOther}) {
            fs.make_dirs(dir);
            REQUIRE(Mailbox::create_files(reg->services(), dir, dir == kBox ? 1234 : 99, 1, 1) ==
                    Status::Ok);
        }
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
    Mailbox* open(std::string_view dir = kBox) {
        auto r = reg->acquire(dir);
        REQUIRE(r.status == Status::Ok);
        return r.value;
    }
};

// An entry whose every field depends on its UID (some with no references,
// some with the most, subjects of every size up to the most).
SortCacheEntry entry(std::uint32_t uid) {
    SortCacheEntry e;
    e.uid = uid;
    e.sent = 1600000000 + std::int64_t{uid} * 3600 - (uid % 2 == 0 ? 0 : 7200000000);
    e.message_id = uid % 5 == 0 ? 0 : 0x1234567800000000ull + uid;
    e.reply = uid % 3 == 0;
    e.ref_count = static_cast<std::uint8_t>(uid % 7 == 0 ? SortCacheEntry::kMaxRefs : uid % 4);
    for (std::size_t i = 0; i < e.ref_count; ++i) e.refs[i] = 1000 * uid + i;
    e.subject_size = static_cast<std::uint16_t>(uid % 11 == 0 ? SortCacheEntry::kMaxSubject : uid % 40);
    for (std::size_t i = 0; i < e.subject_size; ++i) e.subject[i] = static_cast<char>('a' + (uid + i) % 26);
    return e;
}

bool same(const SortCacheEntry& a, const SortCacheEntry& b) {
    return a.uid == b.uid && a.sent == b.sent && a.message_id == b.message_id &&
           a.reply == b.reply && a.ref_count == b.ref_count &&
           std::memcmp(a.refs, b.refs, sizeof a.refs[0] * a.ref_count) == 0 &&
           a.subject_size == b.subject_size &&
           std::memcmp(a.subject, b.subject, a.subject_size) == 0;
}

// Writes entries for `from`..`to` at the end of the file.
void fill(Env& env, std::uint32_t from, std::uint32_t to) {
    SortCache c;
    REQUIRE(c.open(*env.open(), env.buffer.data(), env.buffer.size()));
    for (std::uint32_t u = 1; u < from; ++u) REQUIRE(c.find(u, nullptr));
    for (std::uint32_t u = from; u <= to; ++u) {
        REQUIRE(!c.find(u, nullptr));
        REQUIRE(c.add(entry(u)));
    }
    REQUIRE(c.flush());
}

// How many of 1..to are found, each equal to what was written.
std::uint32_t found(Env& env, std::uint32_t to) {
    SortCache c;
    REQUIRE(c.open(*env.open(), env.buffer.data(), env.buffer.size()));
    std::uint32_t n = 0;
    for (std::uint32_t u = 1; u <= to; ++u) {
        SortCacheEntry e;
        if (!c.find(u, &e)) continue;
        INFO("uid " << u);
        CHECK(same(e, entry(u)));
        ++n;
    }
    return n;
}

// The file offset where entry `uid` starts (entries 1..uid-1 before it).
std::size_t offset_of(const std::string& file, std::uint32_t uid) {
    std::size_t at = SortCache::kHeaderBytes;
    for (std::uint32_t u = 1; u < uid; ++u) {
        // The length is stored little-endian whatever the host (mips, s390x).
        const auto* b = reinterpret_cast<const unsigned char*>(file.data() + at + 4);
        at += 8 + (b[0] | b[1] << 8 | b[2] << 16 | std::uint32_t{b[3]} << 24);
    }
    return at;
}

}  // namespace

TEST_CASE("Sort cache: entries are found again, in another process too", "[store][sortcache]") {
    Env env;
    fill(env, 1, 120);  // more than the buffer holds: written and read in pieces
    CHECK(found(env, 120) == 120);
    env.restart();
    CHECK(found(env, 120) == 120);
    // New mail: its entries go after the others.
    fill(env, 121, 130);
    CHECK(found(env, 130) == 130);
}

TEST_CASE("Sort cache: a stamp of another mailbox or UIDVALIDITY empties the file",
          "[store][sortcache]") {
    Env env;
    fill(env, 1, 10);
    // The file moved next to another mailbox's index (another UIDVALIDITY
    // and MAILBOXID): nothing in it is trusted.
    env.fs.write_file(std::string(kOther) + "/m.sort", env.fs.read_file(kFile));
    SortCache c;
    REQUIRE(c.open(*env.open(kOther), env.buffer.data(), env.buffer.size()));
    CHECK(env.fs.read_file(std::string(kOther) + "/m.sort").size() == SortCache::kHeaderBytes);
    CHECK(!c.find(1, nullptr));
    // A stamp whose bytes do not check (its CRC).
    std::string bytes = env.fs.read_file(kFile);
    bytes[12] ^= 1;
    env.fs.write_file(kFile, bytes);
    CHECK(found(env, 10) == 0);
    CHECK(env.fs.read_file(kFile).size() == SortCache::kHeaderBytes);
}

TEST_CASE("Sort cache: a torn or damaged entry ends what is trusted; the rest is rebuilt",
          "[store][sortcache]") {
    Env env;
    fill(env, 1, 10);
    const std::string whole = env.fs.read_file(kFile);
    SECTION("a write cut short") {
        env.fs.write_file(kFile, whole.substr(0, whole.size() - 3));
        CHECK(found(env, 10) == 9);
    }
    SECTION("a byte changed in the fifth entry") {
        std::string bytes = whole;
        bytes[offset_of(whole, 5) + 20] ^= 0x40;
        env.fs.write_file(kFile, bytes);
        CHECK(found(env, 10) == 4);
    }
    SECTION("a length out of bounds") {
        std::string bytes = whole;
        bytes[offset_of(whole, 7) + 5] = 0x7f;
        env.fs.write_file(kFile, bytes);
        CHECK(found(env, 10) == 6);
    }
    SECTION("zeros where a crash left a hole") {
        std::string bytes = whole;
        for (std::size_t i = offset_of(whole, 3); i < offset_of(whole, 4); ++i) bytes[i] = 0;
        env.fs.write_file(kFile, bytes);
        CHECK(found(env, 10) == 2);
    }
    // The next writer cuts the bad tail and writes the entries again.
    SortCache c;
    REQUIRE(c.open(*env.open(), env.buffer.data(), env.buffer.size()));
    for (std::uint32_t u = 1; u <= 10; ++u) {
        if (!c.find(u, nullptr)) REQUIRE(c.add(entry(u)));
    }
    REQUIRE(c.flush());
    CHECK(found(env, 10) == 10);
    CHECK(env.fs.read_file(kFile) == whole);
}

TEST_CASE("Sort cache: expunged messages' entries are passed over; stale() once they dominate",
          "[store][sortcache]") {
    Env env;
    fill(env, 1, 20);
    SortCache c;
    REQUIRE(c.open(*env.open(), env.buffer.data(), env.buffer.size()));
    SortCacheEntry e;
    // Messages 1..15 were expunged: the walk asks for 16.. only.
    REQUIRE(c.find(16, &e));
    CHECK(same(e, entry(16)));
    CHECK(c.hits() == 1);
    CHECK(!c.stale());  // 15 dead: not many
    // An entry below the last one read cannot be added (UIDs only rise).
    CHECK(!c.add(entry(3)));
    c.reset();
    CHECK(env.fs.read_file(kFile).size() == SortCache::kHeaderBytes);
    CHECK(!c.add(entry(21)));  // reset: this job adds nothing more
}

TEST_CASE("Sort cache: a message walked past without its keys stops the appending",
          "[store][sortcache]") {
    Env env;
    fill(env, 1, 5);
    SortCache c;
    REQUIRE(c.open(*env.open(), env.buffer.data(), env.buffer.size()));
    for (std::uint32_t u = 1; u <= 5; ++u) REQUIRE(c.find(u, nullptr));
    // UID 6 did not match the search: no entry for it, so none after it
    // (the cached part stays a prefix of the mailbox's UIDs).
    c.skip(6);
    CHECK(!c.add(entry(7)));
    CHECK(!c.flush());
    CHECK(found(env, 7) == 5);
}

TEST_CASE("Sort cache: of two writers at the same end, the second gives up",
          "[store][sortcache]") {
    Env env;
    fill(env, 1, 3);
    std::vector<char> other(env.buffer.size());
    SortCache a, b;
    REQUIRE(a.open(*env.open(), env.buffer.data(), env.buffer.size()));
    REQUIRE(b.open(*env.open(), other.data(), other.size()));
    for (SortCache* c : {&a, &b}) {
        for (std::uint32_t u = 1; u <= 3; ++u) REQUIRE(c->find(u, nullptr));
        REQUIRE(!c->find(4, nullptr));
        REQUIRE(c->add(entry(4)));
    }
    CHECK(a.flush());
    CHECK(!b.flush());
    CHECK(found(env, 4) == 4);
    CHECK(env.fs.read_file(kFile).size() == offset_of(env.fs.read_file(kFile), 5));
}

TEST_CASE("Sort cache: whatever bytes the file holds, an entry found is the one written",
          "[store][sortcache]") {
    Env env;
    fill(env, 1, 40);
    const std::string whole = env.fs.read_file(kFile);
    std::uint32_t state = 17;
    auto next = [&state] { return state = state * 1103515245u + 12345u; };
    for (int round = 0; round < 300; ++round) {
        std::string bytes = whole;
        const int changes = 1 + static_cast<int>(next() % 4);
        for (int k = 0; k < changes; ++k) {
            const std::size_t at = SortCache::kHeaderBytes + next() % (bytes.size() - 32);
            switch (next() % 3) {
                case 0: bytes[at] = static_cast<char>(bytes[at] ^ (1 + next() % 255)); break;
                case 1: bytes.resize(at); break;
                default: bytes.insert(at, std::string(1 + next() % 9, static_cast<char>(next())));
            }
            if (bytes.size() <= 40) break;
        }
        env.fs.write_file(kFile, bytes);
        INFO("round " << round);
        found(env, 40);  // CHECKs every entry found against what was written
    }
}
