// The fuzz_index seed corpus (tests/fuzz/fuzz_index.cpp) replayed as an
// ordinary test on every target: the real mailbox's files, written on a
// little-endian host, open with the same contents everywhere (docs/STORAGE.md:
// the format is the same on every architecture), and damaged variants
// (a halved index, a torn data file) are recovered or refused, never more.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <new>
#include <string>
#include <vector>

#include "core/base/arena.h"
#include "core/mail/flags.h"
#include "core/store/mailbox.h"
#include "core/store/registry.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"

using namespace tinyimapd;
using namespace tinyimapd::store;

namespace {

constexpr std::string_view kBox = "/mail/u/box";

std::string seed(const char* name) {
    const auto path =
        std::filesystem::path(TINYIMAPD_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_index" / name;
    std::ifstream f(path, std::ios::binary);
    REQUIRE(f.good());
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct Opened {
    Status status = Status::Ok;
    std::uint32_t uid_validity = 0;
    std::vector<std::string> bodies;
    std::vector<std::uint8_t> flags;
};

struct Accept final : SyncVisitor {
    bool expunged(std::uint32_t, std::uint32_t) override { return true; }
    void exists(std::uint32_t, std::uint32_t) override {}
    bool flags_changed(std::uint32_t, std::uint32_t) override { return true; }
    void flags_unknown(std::uint64_t) override {}
};

Opened open_files(const std::string& index, const std::string& data) {
    sim::SimClock clock;
    sim::SimFs fs{&clock};
    sim::SimEntropy entropy{7};
    StoreLimits limits;
    limits.max_open_mailboxes = 2;
    std::vector<unsigned char> mem(Registry::bytes_needed(limits));
    Registry reg(fs, clock, entropy, limits);
    Arena arena(mem.data(), mem.size());
    REQUIRE(reg.init(arena) == Status::Ok);
    fs.make_dirs(kBox);
    fs.write_file(std::string(kBox) + "/m.index", index);
    fs.write_file(std::string(kBox) + "/m.data", data);
    Opened out;
    Result<Mailbox*> r = reg.acquire(kBox);
    out.status = r.status;
    if (r.status != Status::Ok) return out;
    Mailbox* m = r.value;
    out.uid_validity = m->uid_validity();
    View v;
    m->attach(v, true);
    Accept visitor;
    bool complete = false;
    for (int i = 0; i < 8 && !complete; ++i) REQUIRE(m->sync(v, visitor, &complete) == Status::Ok);
    for (std::uint32_t seq = 1; seq <= v.exists; ++seq) {
        MessageInfo info;
        REQUIRE(m->message(v, seq, &info) == Status::Ok);
        std::string body(info.size, '\0');
        std::size_t got = 0;
        if (info.size > 0) REQUIRE(m->read(info, 0, body.data(), body.size(), &got) == Status::Ok);
        CHECK(got == info.size);
        out.bodies.push_back(body);
        out.flags.push_back(static_cast<std::uint8_t>(info.flags & ~mail::kRecent));
    }
    m->detach(v);
    reg.release(m);
    return out;
}

}  // namespace

TEST_CASE("The fuzz_index seeds: a real mailbox opens alike on every target", "[corpus][store]") {
    const std::string both = seed("both");
    REQUIRE(both.size() > 5);
    REQUIRE(both[0] == 2);
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i)
        n |= std::uint32_t{static_cast<unsigned char>(both[1 + i])} << (8 * i);
    const std::string index = both.substr(5, n), data = both.substr(5 + n);
    CHECK(seed("index").substr(1) == index);
    CHECK(seed("data").substr(1) == data);

    const Opened real = open_files(index, data);
    REQUIRE(real.status == Status::Ok);
    CHECK(real.uid_validity == 1234);
    // Four appended, the \Deleted third expunged.
    REQUIRE(real.bodies.size() == 3);
    CHECK(real.bodies[0] == "From: a@example.org\r\nSubject: one\r\n\r\nbody one\r\n");
    CHECK(real.bodies[1] == "Subject: two\r\n\r\nsecond\r\n");
    CHECK(real.bodies[2] == "Subject: four\r\n\r\nfourth body\r\n");

    // Damaged: recovered from the other file or refused, never garbage. A
    // rebuilt index brings back the expunged message (docs/STORAGE.md "Known
    // limits": the expunge mark lived only in the index).
    const std::string expunged = "Subject: three\r\n\r\n";
    for (const Opened& o : {open_files(seed("index-short").substr(1), data),
                            open_files(index, seed("data-torn").substr(1))}) {
        if (o.status != Status::Ok) continue;
        for (const std::string& body : o.bodies) {
            INFO(body);
            CHECK((body == real.bodies[0] || body == real.bodies[1] || body == real.bodies[2] ||
                   body == expunged));
        }
    }
}

// A redo record written on a little-endian host (a STORE +\Flagged on
// message 1, flushed, never written in place: docs/STORAGE.md "The redo
// log") is replayed at open on every target.
TEST_CASE("The fuzz_index seeds: a pending redo record is replayed alike on every target",
          "[corpus][store][redo]") {
    const std::string data = seed("data").substr(1);
    const Opened before = open_files(seed("index").substr(1), data);
    const Opened after = open_files(seed("index-redo").substr(1), data);
    REQUIRE(before.status == Status::Ok);
    REQUIRE(after.status == Status::Ok);
    REQUIRE(before.flags.size() == 3);
    REQUIRE(after.flags.size() == 3);
    CHECK(before.flags[0] == 0);
    CHECK(after.flags[0] == mail::kFlagged);
    CHECK(after.flags[1] == before.flags[1]);
    CHECK(after.flags[2] == before.flags[2]);
    CHECK(after.bodies == before.bodies);
}
