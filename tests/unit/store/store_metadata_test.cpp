// The metadata files of RFC 5464 annotations (core/store/metadata.h): the
// format byte for byte, changes applied whole through a temporary file, the
// limits (§4.3 TOOMANY), and a corrupt file refused, never half read.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/base/endian.h"
#include "core/store/metadata.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_fs.h"

using namespace tinyimapd;
using namespace tinyimapd::store;

namespace {

struct Entry {
    std::string owner, name, value;
};

struct Env {
    sim::SimClock clock;
    sim::SimFs fs{&clock};
    Env() { fs.make_dirs("box"); }

    Status update(std::vector<MetaChange> changes, MetaLimits limits = {}) {
        char buf[64];
        return meta_update(fs, "box", kMetaFile, kMetaNew, changes.data(), changes.size(), limits,
                           buf, sizeof buf);
    }
    std::vector<Entry> read(Status* status = nullptr) {
        std::vector<Entry> out;
        auto f = fs.open("box/m.meta", port::kOpenRead);
        if (!f.ok()) {
            if (status != nullptr) *status = f.status;
            return out;
        }
        MetaReader r(fs, f.value);
        Status st = r.start();
        MetaRecord rec;
        while (st == Status::Ok && (st = r.next(&rec)) == Status::Ok) {
            std::string v(rec.value_size, '\0');
            st = r.value(rec, v.data());
            out.push_back({std::string(rec.owner), std::string(rec.name), v});
        }
        (void)fs.close(f.value);
        if (status != nullptr) *status = st;
        return out;
    }
};

MetaChange set(std::string_view owner, std::string_view name, std::string_view value) {
    return {owner, name, value, false};
}
MetaChange remove(std::string_view owner, std::string_view name) {
    return {owner, name, {}, true};
}

}  // namespace

TEST_CASE("RFC 5464 §4.3: entries set, replaced and removed; names kept in lower case",
          "[store][metadata]") {
    Env e;
    REQUIRE(e.update({set("", "/shared/Comment", "Shared comment"),
                      set("alice", "/private/comment", "My own comment")}) == Status::Ok);
    Status st = Status::Ok;
    std::vector<Entry> got = e.read(&st);
    CHECK(st == Status::Eof);
    REQUIRE(got.size() == 2);
    CHECK(got[0].owner.empty());
    CHECK(got[0].name == "/shared/comment");
    CHECK(got[0].value == "Shared comment");
    CHECK(got[1].owner == "alice");
    CHECK(got[1].value == "My own comment");
    // Another owner's private entry of the same name is a different entry.
    REQUIRE(e.update({set("bob", "/private/comment", "Bob's"),
                      set("", "/SHARED/comment", "new")}) == Status::Ok);
    got = e.read();
    REQUIRE(got.size() == 3);
    CHECK(got[0].owner == "alice");
    CHECK(got[1].owner == "bob");
    CHECK(got[2].value == "new");
    // A later change of the same entry in one command wins.
    REQUIRE(e.update({set("", "/shared/comment", "a"), set("", "/shared/comment", "b")}) ==
            Status::Ok);
    got = e.read();
    REQUIRE(got.size() == 3);
    CHECK(got[2].value == "b");
    // Removing every entry removes the file; its temporary is gone too.
    REQUIRE(e.update({remove("alice", "/private/comment"), remove("bob", "/private/comment"),
                      remove("", "/shared/comment")}) == Status::Ok);
    CHECK_FALSE(e.fs.exists("box/m.meta"));
    CHECK_FALSE(e.fs.exists("box/m.meta.new"));
    // Removing what is not there is not an error.
    CHECK(e.update({remove("", "/shared/comment")}) == Status::Ok);
    // What a reader would refuse is never written.
    CHECK(e.update({set("", "/private/comment", "no owner")}) == Status::Error);
    CHECK(e.update({set("alice", "/shared/comment", "an owner")}) == Status::Error);
    CHECK(e.update({set("", "", "x")}) == Status::Error);
    CHECK_FALSE(e.fs.exists("box/m.meta"));
}

TEST_CASE("docs/STORAGE.md Metadata: the file's bytes", "[store][metadata]") {
    Env e;
    REQUIRE(e.update({set("al", "/private/c", std::string_view("v\0x", 3))}) == Status::Ok);
    const std::string b = e.fs.read_file("box/m.meta");
    REQUIRE(b.size() == 8 + 12 + 2 + 10 + 3);
    CHECK(b.substr(0, 4) == "TIMM");
    CHECK(le::load32(reinterpret_cast<const std::uint8_t*>(b.data()) + 4) == 1);
    CHECK(b[8] == 2);
    CHECK(b[9] == 10);
    CHECK(b.substr(20, 12) == "al/private/c");
    CHECK(b.substr(32) == std::string("v\0x", 3));
}

TEST_CASE("RFC 5464 §4.3: a change past the limits is refused and changes nothing",
          "[store][metadata]") {
    Env e;
    const MetaLimits two{2, 0};
    REQUIRE(e.update({set("", "/shared/a", "1"), set("", "/shared/b", "2")}, two) == Status::Ok);
    CHECK(e.update({set("", "/shared/a", "x"), set("", "/shared/c", "3")}, two) ==
          Status::Exhausted);
    std::vector<Entry> got = e.read();
    REQUIRE(got.size() == 2);
    CHECK(got[0].value == "1");
    // Replacing within the limit is fine.
    CHECK(e.update({set("", "/shared/a", "x")}, two) == Status::Ok);
    const MetaLimits bytes{0, 4};
    CHECK(e.update({set("", "/shared/a", "12345")}, bytes) == Status::Exhausted);
    CHECK(e.update({set("", "/shared/a", "123")}, bytes) == Status::Ok);
    // meta_fits answers the same without writing.
    const MetaChange more[] = {set("", "/shared/z", "1")};
    CHECK(meta_fits(e.fs, "box/m.meta", more, 1, two) == Status::Exhausted);
    CHECK(meta_fits(e.fs, "box/m.meta", more, 1, MetaLimits{3, 0}) == Status::Ok);
}

TEST_CASE("docs/STORAGE.md Metadata: a corrupt file is refused", "[store][metadata]") {
    Env e;
    REQUIRE(e.update({set("", "/shared/a", "hello"), set("", "/shared/b", "world")}) == Status::Ok);
    const std::string good = e.fs.read_file("box/m.meta");
    std::size_t n = 0;
    REQUIRE(meta_check(e.fs, "box/m.meta", &n) == Status::Ok);
    CHECK(n == 2);
    SECTION("bad magic") {
        std::string b = good;
        b[0] = 'X';
        e.fs.write_file("box/m.meta", b);
    }
    SECTION("unknown version") {
        std::string b = good;
        b[4] = 2;
        e.fs.write_file("box/m.meta", b);
    }
    SECTION("cut inside a record") {
        e.fs.write_file("box/m.meta", good.substr(0, good.size() - 2));
    }
    SECTION("a value byte changed (CRC)") {
        std::string b = good;
        b[b.size() - 1] ^= 1;
        e.fs.write_file("box/m.meta", b);
    }
    SECTION("a name that is not an entry name") {
        std::string b = good;
        b[8 + 12] = 'x';  // "xshared/a"
        e.fs.write_file("box/m.meta", b);
    }
    SECTION("a length past the end") {
        std::string b = good;
        b[8 + 4] = '\x7f';
        e.fs.write_file("box/m.meta", b);
    }
    CHECK(meta_check(e.fs, "box/m.meta", &n) == Status::Invalid);
    // No change is made on top of a corrupt file.
    const std::string before = e.fs.read_file("box/m.meta");
    CHECK(e.update({set("", "/shared/c", "x")}) == Status::Invalid);
    CHECK(e.fs.read_file("box/m.meta") == before);
    CHECK_FALSE(e.fs.exists("box/m.meta.new"));
}

TEST_CASE("docs/STORAGE.md Metadata: a crash at any point leaves the old file or the new one",
          "[store][metadata][crash]") {
    const std::vector<MetaChange> change = {set("", "/shared/a", "changed"),
                                            set("alice", "/private/b", "new")};
    // The number of crash points of one update.
    unsigned points = 0;
    {
        Env e;
        REQUIRE(e.update({set("", "/shared/a", "old")}) == Status::Ok);
        e.fs.sync_all();
        const std::uint64_t before = e.fs.crash_points();
        REQUIRE(e.update(change) == Status::Ok);
        points = static_cast<unsigned>(e.fs.crash_points() - before);
    }
    REQUIRE(points >= 4);
    for (auto mode : {sim::SimFs::CrashMode::DropAll, sim::SimFs::CrashMode::ApplyRandom}) {
        for (unsigned n = 1; n <= points + 1; ++n) {
            INFO("crash at point " << n);
            Env e;
            e.fs.set_crash_mode(mode);
            e.fs.set_seed(n);
            REQUIRE(e.update({set("", "/shared/a", "old")}) == Status::Ok);
            e.fs.sync_all();
            e.fs.crash_at_write(n);
            const Status st = e.update(change);
            if (e.fs.crashed()) {
                e.fs.restart();
            } else {
                REQUIRE(st == Status::Ok);  // past the last point: done, durable
                e.fs.crash();
            }
            Status read = Status::Ok;
            std::vector<Entry> got = e.read(&read);
            CHECK(read == Status::Eof);
            const bool old_file = got.size() == 1 && got[0].value == "old";
            const bool new_file =
                got.size() == 2 && got[0].value == "changed" && got[1].value == "new";
            CHECK((old_file || new_file));
            if (st == Status::Ok) CHECK(new_file);  // acknowledged: durable
        }
    }
}
