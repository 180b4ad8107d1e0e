// Tests of the simulated file system and its crash model (platforms/sim/sim_fs.h).
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "platforms/sim/sim_fs.h"

using tinyimapd::Status;
using tinyimapd::port::DirVisitor;
using tinyimapd::port::File;
using tinyimapd::port::FileInfo;
using tinyimapd::port::FileType;
using tinyimapd::port::kNoFile;
using tinyimapd::port::kOpenCreate;
using tinyimapd::port::kOpenExclusive;
using tinyimapd::port::kOpenRead;
using tinyimapd::port::kOpenTruncate;
using tinyimapd::port::kOpenWrite;
using tinyimapd::port::LockMode;
using tinyimapd::sim::SimClock;
using tinyimapd::sim::SimFs;
using Op = SimFs::Op;

namespace {

constexpr std::uint32_t kRw = kOpenRead | kOpenWrite;
constexpr std::uint32_t kCreate = kOpenRead | kOpenWrite | kOpenCreate;

File open_ok(SimFs& fs, std::string_view path, std::uint32_t flags) {
    auto r = fs.open(path, flags);
    REQUIRE(r.status == Status::Ok);
    return r.value;
}

Status put(SimFs& fs, File f, std::string_view s) {
    auto r = fs.write(f, s.data(), s.size());
    if (r.status == Status::Ok) CHECK(r.bytes == s.size());
    return r.status;
}

std::string pread_all(SimFs& fs, File f) {
    char buf[256];
    auto r = fs.pread(f, buf, sizeof buf, 0);
    REQUIRE(r.status == Status::Ok);
    return std::string(buf, r.bytes);
}

struct Names final : DirVisitor {
    std::vector<std::string> names;
    std::vector<FileType> types;
    std::size_t stop_after = 1000;
    bool entry(std::string_view name, FileType type) override {
        names.emplace_back(name);
        types.push_back(type);
        return names.size() < stop_after;
    }
};

// Writes `content` to `path` the safe way: temp file, fsync, rename, sync_dir.
// Returns the first failing status.
Status safe_replace(SimFs& fs, std::string_view content) {
    auto o = fs.open("/mail/box.tmp", kOpenWrite | kOpenCreate | kOpenTruncate);
    if (o.status != Status::Ok) return o.status;
    Status s = fs.write(o.value, content.data(), content.size()).status;
    if (s == Status::Ok) s = fs.fsync(o.value);
    const Status c = fs.close(o.value);
    if (s == Status::Ok) s = c;
    if (s == Status::Ok) s = fs.rename("/mail/box.tmp", "/mail/box");
    if (s == Status::Ok) s = fs.sync_dir("/mail");
    return s;
}

}  // namespace

TEST_CASE("SimFs open: flags and errors", "[sim][fs]") {
    SimFs fs;
    CHECK(fs.open("/a", kOpenRead).status == Status::NotFound);
    CHECK(fs.open("/nodir/a", kCreate).status == Status::NotFound);
    CHECK(fs.open("", kCreate).status == Status::Invalid);
    CHECK(fs.open("/a", kOpenCreate).status == Status::Invalid);  // neither read nor write
    CHECK(fs.open("/a", kOpenRead | kOpenCreate | kOpenTruncate).status == Status::Invalid);
    CHECK(fs.open(std::string(tinyimapd::port::kMaxPath + 1, 'a'), kCreate).status ==
          Status::TooLong);
    CHECK(fs.open("/" + std::string(tinyimapd::port::kMaxName + 1, 'n'), kCreate).status ==
          Status::TooLong);
    CHECK(fs.open(std::string("/a\0b", 4), kCreate).status == Status::Invalid);

    File f = open_ok(fs, "/a", kCreate | kOpenExclusive);
    CHECK(fs.open("/a", kCreate | kOpenExclusive).status == Status::Exists);
    CHECK(fs.open("/a/b", kCreate).status == Status::NotDir);
    CHECK(fs.mkdir("/d") == Status::Ok);
    CHECK(fs.open("/d", kOpenRead).status == Status::IsDir);
    CHECK(fs.open("/", kOpenRead).status == Status::IsDir);
    CHECK(fs.open("a", kOpenRead).ok());  // relative to the root
    CHECK(fs.open("/d/../a", kOpenRead).ok());
    CHECK(fs.open("//d/./..//a", kOpenRead).ok());

    CHECK(put(fs, f, "hello") == Status::Ok);
    File t = open_ok(fs, "/a", kOpenWrite | kOpenTruncate);
    FileInfo info;
    CHECK(fs.fstat(f, &info) == Status::Ok);
    CHECK(info.size == 0);
    CHECK(info.type == FileType::Regular);
    CHECK(fs.close(t) == Status::Ok);
    CHECK(fs.close(t) == Status::Invalid);
    CHECK(fs.fsync(t) == Status::Invalid);
    char b[1];
    CHECK(fs.read(t, b, 1).status == Status::Invalid);
    CHECK(fs.open_files() > 0);
}

TEST_CASE("SimFs read, pread, write, pwrite, append, truncate", "[sim][fs]") {
    SimFs fs;
    File f = open_ok(fs, "/f", kCreate);
    CHECK(put(fs, f, "abc") == Status::Ok);
    CHECK(put(fs, f, "def") == Status::Ok);
    CHECK(pread_all(fs, f) == "abcdef");

    // Sequential read starts at the handle's own position (0 for a new one).
    File r = open_ok(fs, "/f", kOpenRead);
    char buf[16];
    auto rr = fs.read(r, buf, 4);
    CHECK(rr.status == Status::Ok);
    CHECK(std::string(buf, rr.bytes) == "abcd");
    rr = fs.read(r, buf, 4);
    CHECK(std::string(buf, rr.bytes) == "ef");  // short only at EOF
    rr = fs.read(r, buf, 4);
    CHECK(rr.status == Status::Ok);
    CHECK(rr.bytes == 0);
    CHECK(fs.pread(r, buf, 4, 100).bytes == 0);
    rr = fs.pread(r, buf, 3, 2);
    CHECK(std::string(buf, rr.bytes) == "cde");

    // pwrite does not move the position; past the end it leaves a hole of zeros.
    CHECK(fs.pwrite(f, "XY", 2, 1).status == Status::Ok);
    CHECK(fs.pwrite(f, "Z", 1, 8).status == Status::Ok);
    CHECK(pread_all(fs, f) == std::string("aXYdef\0\0Z", 9));
    CHECK(put(fs, f, "!") == Status::Ok);  // position was 6
    CHECK(pread_all(fs, f) == std::string("aXYdef!\0Z", 9));

    auto a = fs.append(f, "++", 2);
    CHECK(a.status == Status::Ok);
    CHECK(a.bytes == 2);
    CHECK(pread_all(fs, f) == std::string("aXYdef!\0Z++", 11));
    CHECK(put(fs, f, "7") == Status::Ok);  // append did not move the position
    CHECK(pread_all(fs, f) == std::string("aXYdef!7Z++", 11));

    CHECK(fs.truncate(f, 3) == Status::Ok);
    CHECK(pread_all(fs, f) == "aXY");
    CHECK(fs.truncate(f, 5) == Status::Ok);
    CHECK(pread_all(fs, f) == std::string("aXY\0\0", 5));

    // A read-only handle cannot write and a write-only one cannot read (EBADF).
    CHECK(fs.write(r, "x", 1).status == Status::Invalid);
    CHECK(fs.append(r, "x", 1).status == Status::Invalid);
    CHECK(fs.truncate(r, 0) == Status::Invalid);
    File w = open_ok(fs, "/f", kOpenWrite);
    CHECK(fs.read(w, buf, 1).status == Status::Invalid);
    CHECK(fs.pread(w, buf, 1, 0).status == Status::Invalid);
}

TEST_CASE("SimFs stat, fstat and mtime from the clock", "[sim][fs]") {
    SimClock clock(1000);
    SimFs fs(&clock);
    FileInfo info;
    CHECK(fs.stat("/x", &info) == Status::NotFound);
    CHECK(fs.stat("/", &info) == Status::Ok);
    CHECK(info.type == FileType::Directory);
    File f = open_ok(fs, "/x", kCreate);
    clock.advance(5000);
    CHECK(put(fs, f, "12345") == Status::Ok);
    CHECK(fs.stat("/x", &info) == Status::Ok);
    CHECK(info.type == FileType::Regular);
    CHECK(info.size == 5);
    CHECK(info.mtime_seconds == 1005);
    FileInfo finfo;
    CHECK(fs.fstat(f, &finfo) == Status::Ok);
    CHECK(finfo.size == 5);
    CHECK(fs.stat("/x/y", &info) == Status::NotDir);
}

TEST_CASE("SimFs directories: mkdir, rmdir, list, unlink", "[sim][fs]") {
    SimFs fs;
    CHECK(fs.mkdir("/m") == Status::Ok);
    CHECK(fs.mkdir("/m") == Status::Exists);
    CHECK(fs.mkdir("/") == Status::Exists);
    CHECK(fs.mkdir("/no/sub") == Status::NotFound);
    CHECK(fs.mkdir("/m/sub") == Status::Ok);
    CHECK(fs.close(open_ok(fs, "/m/b", kCreate)) == Status::Ok);
    CHECK(fs.close(open_ok(fs, "/m/a", kCreate)) == Status::Ok);
    CHECK(fs.mkdir("/m/a") == Status::Exists);
    CHECK(fs.mkdir("/m/a/x") == Status::NotDir);

    Names names;
    CHECK(fs.list("/m", names) == Status::Ok);
    CHECK(names.names == std::vector<std::string>{"a", "b", "sub"});
    CHECK(names.types ==
          std::vector<FileType>{FileType::Regular, FileType::Regular, FileType::Directory});
    Names first;
    first.stop_after = 1;
    CHECK(fs.list("/m", first) == Status::Ok);
    CHECK(first.names.size() == 1);
    CHECK(fs.list("/nope", names) == Status::NotFound);
    CHECK(fs.list("/m/a", names) == Status::NotDir);

    CHECK(fs.rmdir("/m") == Status::NotEmpty);
    CHECK(fs.rmdir("/m/a") == Status::NotDir);
    CHECK(fs.rmdir("/m/zz") == Status::NotFound);
    CHECK(fs.rmdir("/") == Status::Invalid);
    CHECK(fs.unlink("/m/sub") == Status::IsDir);
    CHECK(fs.unlink("/m/zz") == Status::NotFound);
    CHECK(fs.unlink("/m/a/x") == Status::NotDir);
    CHECK(fs.unlink("/m/a") == Status::Ok);
    CHECK(fs.unlink("/m/b") == Status::Ok);
    CHECK(fs.rmdir("/m/sub") == Status::Ok);
    CHECK(fs.rmdir("/m") == Status::Ok);
    CHECK_FALSE(fs.exists("/m"));
    CHECK(fs.sync_dir("/m") == Status::NotFound);
    CHECK(fs.close(open_ok(fs, "/f", kCreate)) == Status::Ok);
    CHECK(fs.sync_dir("/f") == Status::NotDir);
}

TEST_CASE("SimFs an unlinked file stays usable through its open handle", "[sim][fs]") {
    SimFs fs;
    File f = open_ok(fs, "/f", kCreate);
    CHECK(put(fs, f, "data") == Status::Ok);
    CHECK(fs.unlink("/f") == Status::Ok);
    CHECK_FALSE(fs.exists("/f"));
    CHECK(pread_all(fs, f) == "data");
    CHECK(put(fs, f, "more") == Status::Ok);
    CHECK(pread_all(fs, f) == "datamore");
    CHECK(fs.close(f) == Status::Ok);
}

TEST_CASE("SimFs rename", "[sim][fs]") {
    SimFs fs;
    fs.write_file("/d/a", "A");
    fs.write_file("/d/b", "B");
    fs.make_dirs("/d/sub/inner");
    fs.make_dirs("/e");
    File held = open_ok(fs, "/d/b", kOpenRead);

    CHECK(fs.rename("/d/none", "/d/x") == Status::NotFound);
    CHECK(fs.rename("/d/a", "/missing/x") == Status::NotFound);
    CHECK(fs.rename("/d/a", "/d/sub") == Status::IsDir);
    CHECK(fs.rename("/d/sub", "/d/a") == Status::NotDir);
    CHECK(fs.rename("/e", "/d") == Status::NotEmpty);
    CHECK(fs.rename("/d", "/d/sub/moved") == Status::Invalid);
    CHECK(fs.rename("/", "/x") == Status::Invalid);
    CHECK(fs.rename("/d/a", "/d/a") == Status::Ok);
    CHECK(fs.read_file("/d/a") == "A");

    // Atomically replaces the target; a handle on the old target keeps its data.
    CHECK(fs.rename("/d/a", "/d/b") == Status::Ok);
    CHECK_FALSE(fs.exists("/d/a"));
    CHECK(fs.read_file("/d/b") == "A");
    CHECK(pread_all(fs, held) == "B");

    CHECK(fs.rename("/d/b", "/e/c") == Status::Ok);
    CHECK(fs.read_file("/e/c") == "A");
    CHECK(fs.rename("/d/sub", "/e/sub2") == Status::Ok);
    CHECK(fs.exists("/e/sub2/inner"));
    CHECK(fs.rmdir("/e/sub2/inner") == Status::Ok);
    CHECK(fs.mkdir("/f") == Status::Ok);
    CHECK(fs.rename("/e/sub2", "/f") == Status::Ok);  // over an empty directory
    CHECK_FALSE(fs.exists("/e/sub2"));
}

TEST_CASE("SimFs locks: shared vs exclusive between handles", "[sim][fs]") {
    SimFs fs;
    File a = open_ok(fs, "/lock", kCreate);
    File b = open_ok(fs, "/lock", kRw);
    File c = open_ok(fs, "/lock", kRw);
    File other = open_ok(fs, "/other", kCreate);
    File read_only = open_ok(fs, "/lock", kOpenRead);
    File write_only = open_ok(fs, "/lock", kOpenWrite);

    // Like PosixFs: Exclusive needs write access, Shared read access.
    CHECK(fs.lock(read_only, LockMode::Exclusive) == Status::Invalid);
    CHECK(fs.lock(write_only, LockMode::Shared) == Status::Invalid);

    CHECK(fs.lock(a, LockMode::Shared) == Status::Ok);
    CHECK(fs.lock(b, LockMode::Shared) == Status::Ok);
    CHECK(fs.lock(c, LockMode::Exclusive) == Status::Busy);
    CHECK(fs.lock(other, LockMode::Exclusive) == Status::Ok);  // another file
    CHECK(fs.unlock(b) == Status::Ok);
    CHECK(fs.lock(a, LockMode::Exclusive) == Status::Ok);  // upgrade own lock
    CHECK(fs.lock(b, LockMode::Shared) == Status::Busy);
    CHECK(fs.lock(c, LockMode::Exclusive) == Status::Busy);
    CHECK(fs.close(a) == Status::Ok);  // close releases
    CHECK(fs.lock(c, LockMode::Exclusive) == Status::Ok);
    CHECK(fs.lock(b, LockMode::Shared) == Status::Busy);
    CHECK(fs.unlock(c) == Status::Ok);
    CHECK(fs.unlock(c) == Status::Ok);
    CHECK(fs.lock(b, LockMode::Shared) == Status::Ok);
    CHECK(fs.lock(a, LockMode::Shared) == Status::Invalid);

    // A crash drops every lock with every handle.
    fs.sync_all();
    fs.crash();
    File d = open_ok(fs, "/lock", kRw);
    CHECK(fs.lock(d, LockMode::Exclusive) == Status::Ok);
}

TEST_CASE("SimFs crash DropAll: only fsynced data and synced entries survive", "[sim][fs]") {
    SimFs fs;
    fs.make_dirs("/mail");

    SECTION("unsynced data is gone, fsynced data survives") {
        File f = open_ok(fs, "/mail/data", kCreate);
        CHECK(fs.sync_dir("/mail") == Status::Ok);
        CHECK(put(fs, f, "durable") == Status::Ok);
        CHECK(fs.fsync(f) == Status::Ok);
        CHECK(put(fs, f, "+volatile") == Status::Ok);
        CHECK(fs.truncate(f, 2) == Status::Ok);
        CHECK(fs.unsynced() == 2);
        fs.crash();
        CHECK(fs.read_file("/mail/data") == "durable");
        CHECK(fs.unsynced() == 0);
        CHECK(fs.open_files() == 0);
        CHECK(fs.write(f, "x", 1).status == Status::Invalid);  // handles are gone
    }
    SECTION("a created file without sync_dir is gone even if fsynced") {
        File f = open_ok(fs, "/mail/new", kCreate);
        CHECK(put(fs, f, "x") == Status::Ok);
        CHECK(fs.fsync(f) == Status::Ok);
        CHECK(fs.mkdir("/mail/dir") == Status::Ok);
        fs.crash();
        CHECK_FALSE(fs.exists("/mail/new"));
        CHECK_FALSE(fs.exists("/mail/dir"));
        CHECK(fs.exists("/mail"));
    }
    SECTION("sync_dir makes the entry durable, not the data") {
        File f = open_ok(fs, "/mail/new", kCreate);
        CHECK(put(fs, f, "x") == Status::Ok);
        CHECK(fs.sync_dir("/mail") == Status::Ok);
        fs.crash();
        CHECK(fs.read_file("/mail/new").empty());
    }
    SECTION("rename without sync_dir reverts; with sync_dir it stays") {
        fs.write_file("/mail/box", "old");
        fs.write_file("/mail/box.tmp", "new");
        CHECK(fs.rename("/mail/box.tmp", "/mail/box") == Status::Ok);
        fs.crash();
        CHECK(fs.read_file("/mail/box") == "old");
        CHECK(fs.read_file("/mail/box.tmp") == "new");
        CHECK(fs.rename("/mail/box.tmp", "/mail/box") == Status::Ok);
        CHECK(fs.sync_dir("/mail") == Status::Ok);
        fs.crash();
        CHECK(fs.read_file("/mail/box") == "new");
        CHECK_FALSE(fs.exists("/mail/box.tmp"));
    }
    SECTION("unlink and rmdir without sync_dir revert") {
        fs.write_file("/mail/gone", "still here");
        fs.make_dirs("/mail/empty");
        CHECK(fs.unlink("/mail/gone") == Status::Ok);
        CHECK(fs.rmdir("/mail/empty") == Status::Ok);
        fs.crash();
        CHECK(fs.read_file("/mail/gone") == "still here");
        CHECK(fs.exists("/mail/empty"));
    }
    SECTION("a directory's entries need its own sync_dir, not its parent's") {
        CHECK(fs.mkdir("/mail/sub") == Status::Ok);
        CHECK(fs.close(open_ok(fs, "/mail/sub/f", kCreate)) == Status::Ok);
        CHECK(fs.sync_dir("/mail") == Status::Ok);
        fs.crash();
        CHECK(fs.exists("/mail/sub"));
        CHECK_FALSE(fs.exists("/mail/sub/f"));
    }
    SECTION("sync_all makes everything durable") {
        File f = open_ok(fs, "/mail/x", kCreate);
        CHECK(put(fs, f, "abc") == Status::Ok);
        fs.sync_all();
        fs.crash();
        CHECK(fs.read_file("/mail/x") == "abc");
    }
}

TEST_CASE("SimFs crash ApplyRandom: reproducible per seed, writes torn", "[sim][fs]") {
    // Eight unsynced writes to one durable file, four unsynced creations.
    auto run = [](std::uint64_t seed) {
        SimFs fs;
        fs.set_crash_mode(SimFs::CrashMode::ApplyRandom);
        fs.set_seed(seed);
        fs.write_file("/d/f", "");
        File f = open_ok(fs, "/d/f", kRw);
        for (int i = 0; i < 8; ++i) {
            const std::string chunk(10, static_cast<char>('a' + i));
            CHECK(fs.pwrite(f, chunk.data(), chunk.size(), static_cast<std::uint64_t>(i) * 10)
                      .status == Status::Ok);
        }
        for (int i = 0; i < 4; ++i) {
            CHECK(fs.close(open_ok(fs, "/d/n" + std::to_string(i), kCreate)) == Status::Ok);
        }
        fs.crash();
        return fs.snapshot();
    };
    const auto first = run(42);
    CHECK(run(42) == first);

    bool torn = false;
    bool differs = false;
    std::set<std::size_t> created_counts;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        const auto state = run(seed);
        differs = differs || state != first;
        const std::string& data = state.at("/d/f");
        // Each 10-byte chunk is all its letter, all zeros/absent, or a torn prefix.
        for (std::size_t i = 0; i < 8; ++i) {
            const char letter = static_cast<char>('a' + i);
            std::size_t n = 0;
            while (i * 10 + n < data.size() && n < 10 && data[i * 10 + n] == letter) ++n;
            for (std::size_t k = n; k < 10 && i * 10 + k < data.size(); ++k) {
                CHECK(data[i * 10 + k] == '\0');
            }
            if (n > 0 && n < 10) torn = true;
        }
        // Directory changes survive as a prefix: n0..n(k-1).
        std::size_t created = 0;
        while (state.count("/d/n" + std::to_string(created)) != 0) ++created;
        for (std::size_t k = created; k < 4; ++k) {
            CHECK(state.count("/d/n" + std::to_string(k)) == 0);
        }
        created_counts.insert(created);
    }
    CHECK(torn);
    CHECK(differs);
    CHECK(created_counts.size() > 1);
}

TEST_CASE("SimFs fail_nth fails exactly the n-th call, without effect", "[sim][fs]") {
    SimFs fs;
    File f = open_ok(fs, "/f", kCreate);
    fs.fail_nth(Op::Write, 3, Status::NoSpace);
    CHECK(put(fs, f, "1") == Status::Ok);
    CHECK(fs.pwrite(f, "2", 1, 1).status == Status::Ok);
    auto r = fs.append(f, "3", 1);
    CHECK(r.status == Status::NoSpace);
    CHECK(r.bytes == 0);
    CHECK(fs.append(f, "4", 1).status == Status::Ok);
    CHECK(pread_all(fs, f) == "124");

    fs.fail_nth(Op::Fsync, 1, Status::Io);
    CHECK(fs.fsync(f) == Status::Io);
    CHECK(fs.fsync(f) == Status::Ok);

    fs.fail_nth(Op::Open, 2, Status::Permission);
    CHECK(fs.open("/f", kOpenRead).ok());
    CHECK(fs.open("/f", kOpenRead).status == Status::Permission);
    CHECK(fs.open("/f", kOpenRead).ok());

    fs.fail_nth(Op::Rename, 1, Status::Io);
    CHECK(fs.rename("/f", "/g") == Status::Io);
    CHECK(fs.exists("/f"));
    fs.fail_nth(Op::Mkdir, 1, Status::NoSpace);
    CHECK(fs.mkdir("/d") == Status::NoSpace);
    CHECK_FALSE(fs.exists("/d"));
    fs.fail_nth(Op::Unlink, 1, Status::Io);
    CHECK(fs.unlink("/f") == Status::Io);
    CHECK(fs.exists("/f"));
    fs.fail_nth(Op::SyncDir, 1, Status::Io);
    CHECK(fs.sync_dir("/") == Status::Io);
    fs.fail_nth(Op::Truncate, 1, Status::Io);
    CHECK(fs.truncate(f, 0) == Status::Io);
    CHECK(pread_all(fs, f) == "124");
    fs.fail_nth(Op::Read, 1, Status::Io);
    char b[4];
    CHECK(fs.read(f, b, 4).status == Status::Io);
    fs.fail_nth(Op::Stat, 1, Status::Io);
    FileInfo info;
    CHECK(fs.stat("/f", &info) == Status::Io);
    fs.fail_nth(Op::Lock, 1, Status::Io);
    CHECK(fs.lock(f, LockMode::Shared) == Status::Io);

    // Close reports the error but releases the handle, like POSIX.
    fs.fail_nth(Op::Close, 1, Status::Io);
    const std::size_t open_before = fs.open_files();
    CHECK(fs.close(f) == Status::Io);
    CHECK(fs.open_files() == open_before - 1);

    fs.fail_from(Op::Mkdir, 2, Status::NoSpace);
    CHECK(fs.mkdir("/m1") == Status::Ok);
    CHECK(fs.mkdir("/m2") == Status::NoSpace);
    CHECK(fs.mkdir("/m3") == Status::NoSpace);
    fs.clear_faults();
    CHECK(fs.mkdir("/m3") == Status::Ok);
}

TEST_CASE("SimFs short write: a prefix lands, then NoSpace", "[sim][fs]") {
    SimFs fs;
    fs.write_file("/f", "");
    File f = open_ok(fs, "/f", kRw);
    fs.short_write_nth(2, 3);
    CHECK(put(fs, f, "ab") == Status::Ok);
    auto r = fs.write(f, "cdefgh", 6);
    CHECK(r.status == Status::NoSpace);
    CHECK(r.bytes == 3);
    CHECK(pread_all(fs, f) == "abcde");
    CHECK(put(fs, f, "Z") == Status::Ok);  // the position moved past the prefix
    CHECK(pread_all(fs, f) == "abcdeZ");
    fs.crash();  // the prefix was never fsynced
    CHECK(fs.read_file("/f").empty());
}

TEST_CASE("SimFs space limit and open-file limit", "[sim][fs]") {
    SimFs fs;
    fs.write_file("/a", "12345");
    fs.set_space_limit(8);
    File f = open_ok(fs, "/b", kCreate);
    CHECK(put(fs, f, "123") == Status::Ok);
    CHECK(fs.write(f, "4", 1).status == Status::NoSpace);
    CHECK(fs.truncate(f, 4) == Status::NoSpace);
    CHECK(fs.pwrite(f, "x", 1, 0).status == Status::Ok);  // overwrite needs no space
    CHECK(fs.truncate(f, 1) == Status::Ok);
    CHECK(fs.pwrite(f, "x", 1, std::uint64_t{1} << 60).status == Status::NoSpace);

    fs.set_max_open_files(2);
    File g = open_ok(fs, "/a", kOpenRead);
    CHECK(fs.open("/a", kOpenRead).status == Status::Exhausted);
    CHECK(fs.close(g) == Status::Ok);
    CHECK(fs.open("/a", kOpenRead).ok());
}

TEST_CASE("SimFs crash_at_write crashes at the n-th mutating call", "[sim][fs]") {
    SimFs fs;
    fs.make_dirs("/mail");
    File f = open_ok(fs, "/mail/f", kCreate);   // crash point 1
    CHECK(fs.sync_dir("/mail") == Status::Ok);  // 2
    fs.crash_at_write(3);
    CHECK(put(fs, f, "one") == Status::Ok);  // 1st from now
    CHECK(fs.fsync(f) == Status::Ok);        // 2nd
    FileInfo info;
    CHECK(fs.fstat(f, &info) == Status::Ok);  // not a crash point
    CHECK(put(fs, f, "two") == Status::Io);   // 3rd: the crash
    CHECK(fs.crashed());
    CHECK(fs.stat("/mail/f", &info) == Status::Io);
    CHECK(fs.open("/mail/f", kOpenRead).status == Status::Io);
    fs.restart();
    CHECK_FALSE(fs.crashed());
    CHECK(fs.read_file("/mail/f") == "one");
    CHECK(fs.fsync(f) == Status::Invalid);  // pre-crash handles are gone
    // open, sync_dir, write, fsync, the crashing write, the fsync after restart;
    // calls refused while crashed are not crash points.
    CHECK(fs.crash_points() == 6);
}

TEST_CASE("SimFs crash at every point of a safe replace: old or new, never torn", "[sim][fs]") {
    const std::string old_content(100, 'o');
    const std::string new_content(150, 'n');
    // Count the crash points of the scenario once.
    SimFs probe;
    probe.write_file("/mail/box", old_content);
    probe.reset_counters();
    REQUIRE(safe_replace(probe, new_content) == Status::Ok);
    const std::uint64_t points = probe.crash_points();
    REQUIRE(points == 5);  // open (create, truncate), write, fsync, rename, sync_dir

    for (const auto mode : {SimFs::CrashMode::DropAll, SimFs::CrashMode::ApplyRandom}) {
        for (unsigned n = 1; n <= points + 1; ++n) {
            for (std::uint64_t seed = 0; seed < 4; ++seed) {
                SimFs fs;
                fs.set_crash_mode(mode);
                fs.set_seed(seed);
                fs.write_file("/mail/box", old_content);
                fs.crash_at_write(n);
                const Status s = safe_replace(fs, new_content);
                if (n > points) {
                    CHECK(s == Status::Ok);
                    fs.crash();  // after the last sync point: must be durable
                    CHECK(fs.read_file("/mail/box") == new_content);
                    continue;
                }
                CHECK(s == Status::Io);
                fs.restart();
                const std::string after = fs.read_file("/mail/box");
                INFO("crash point " << n << " seed " << seed);
                CHECK((after == old_content || after == new_content));
            }
        }
    }
}

TEST_CASE("SimFs counters: calls per op and bytes written", "[sim][fs]") {
    SimFs fs;
    File f = open_ok(fs, "/f", kCreate);
    CHECK(put(fs, f, "abcd") == Status::Ok);
    CHECK(fs.pwrite(f, "xy", 2, 0).status == Status::Ok);
    CHECK(fs.append(f, "z", 1).status == Status::Ok);
    char b[8];
    CHECK(fs.pread(f, b, 8, 0).bytes == 5);
    CHECK(fs.fsync(f) == Status::Ok);
    CHECK(fs.calls(Op::Open) == 1);
    CHECK(fs.calls(Op::Write) == 3);
    CHECK(fs.calls(Op::Read) == 1);
    CHECK(fs.calls(Op::Fsync) == 1);
    CHECK(fs.calls(Op::Rename) == 0);
    CHECK(fs.bytes_written() == 7);
    CHECK(fs.bytes_read() == 5);
    CHECK(fs.crash_points() == 5);
    fs.reset_counters();
    CHECK(fs.calls(Op::Write) == 0);
    CHECK(fs.bytes_written() == 0);
}

TEST_CASE("SimFs test helpers", "[sim][fs]") {
    SimFs fs;
    fs.write_file("/a/b/c", "xyz");
    CHECK(fs.exists("/a"));
    CHECK(fs.exists("/a/b/c"));
    CHECK_FALSE(fs.exists("/a/b/d"));
    CHECK(fs.read_file("/a/b/c") == "xyz");
    CHECK_THROWS(fs.read_file("/a/b"));
    CHECK_THROWS(fs.read_file("/nope"));
    fs.crash();  // write_file is durable
    CHECK(fs.read_file("/a/b/c") == "xyz");
    const std::map<std::string, std::string> expect{{"/a/", ""}, {"/a/b/", ""}, {"/a/b/c", "xyz"}};
    CHECK(fs.snapshot() == expect);
    CHECK(fs.calls(Op::Open) == 0);
    CHECK(fs.bytes_written() == 0);
}

TEST_CASE("SimFs symbolic links: never followed; refused or acted on as the link (port/fs.h)",
          "[sim][fs]") {
    SimFs fs;
    fs.write_file("/mail/bob/INBOX/m.data", "bob's");
    fs.make_dirs("/mail/bob/Empty");
    fs.make_dirs("/mail/alice");
    fs.make_symlink("/mail/alice/evil", "../bob/INBOX");
    fs.make_symlink("/mail/alice/evildir", "/mail/bob");
    REQUIRE(fs.confine("mail") == Status::Ok);
    const auto before = fs.snapshot();
    CHECK(before.at("/mail/alice/evil") == "-> ../bob/INBOX");
    FileInfo info;
    struct Count final : DirVisitor {
        std::map<std::string, FileType> seen;
        bool entry(std::string_view n, FileType t) override {
            seen[std::string(n)] = t;
            return true;
        }
    } v;
    // In the middle of a path.
    CHECK(fs.open("mail/alice/evil/m.data", kOpenRead).status == Status::Permission);
    CHECK(fs.open("mail/alice/evil/x", kCreate).status == Status::Permission);
    CHECK(fs.stat("mail/alice/evil/m.data", &info) == Status::Permission);
    CHECK(fs.unlink("mail/alice/evil/m.data") == Status::Permission);
    CHECK(fs.mkdir("mail/alice/evildir/New") == Status::Permission);
    CHECK(fs.rmdir("mail/alice/evildir/Empty") == Status::Permission);
    CHECK(fs.rename("mail/alice/evildir/INBOX", "mail/alice/x") == Status::Permission);
    CHECK(fs.list("mail/alice/evildir/INBOX", v) == Status::Permission);
    CHECK(fs.sync_dir("mail/alice/evildir/INBOX") == Status::Permission);
    // As the last component.
    CHECK(fs.open("mail/alice/evil", kCreate).status == Status::Permission);
    CHECK(fs.list("mail/alice/evil", v) == Status::Permission);
    CHECK(fs.sync_dir("mail/alice/evil") == Status::Permission);
    CHECK(fs.mkdir("mail/alice/evil") == Status::Exists);
    CHECK(fs.rmdir("mail/alice/evil") == Status::NotDir);
    REQUIRE(fs.stat("mail/alice/evil", &info) == Status::Ok);
    CHECK(info.type == FileType::Other);
    REQUIRE(fs.list("mail/alice", v) == Status::Ok);
    CHECK(v.seen.at("evil") == FileType::Other);
    CHECK(fs.stat("mail/alice/../bob/INBOX/m.data", &info) == Status::Invalid);
    CHECK(fs.snapshot() == before);
    // unlink and rename act on the link itself.
    CHECK(fs.rename("mail/alice/evil", "mail/alice/moved") == Status::Ok);
    CHECK(fs.unlink("mail/alice/moved") == Status::Ok);
    CHECK(fs.read_file("mail/bob/INBOX/m.data") == "bob's");
    CHECK_FALSE(fs.exists("mail/alice/moved"));
}

// port/fs.h "Asynchronous flush": nothing is durable before flush_done()
// reports it; a delay lets a test put other work between the two.
TEST_CASE("SimFs flush_start: durable only once flush_done reports it", "[sim][fs][flush]") {
    SimClock clock;
    SimFs fs(&clock);
    CHECK(fs.flush_start(0, 1) == Status::Unsupported);  // until asked for
    fs.set_async_flush(true);
    fs.make_dirs("/mail");
    File f = open_ok(fs, "/mail/data", kCreate);
    REQUIRE(fs.sync_dir("/mail") == Status::Ok);
    REQUIRE(put(fs, f, "first") == Status::Ok);
    fs.set_flush_delay(10);
    REQUIRE(fs.flush_start(f, 7) == Status::Ok);
    tinyimapd::port::FlushDone done[4];
    CHECK(fs.flush_done(done, 4) == 0);
    REQUIRE(put(fs, f, "+second") == Status::Ok);  // before the flush: covered too
    clock.advance(9);
    CHECK(fs.flush_done(done, 4) == 0);
    clock.advance(1);
    CHECK(fs.unsynced() == 2);
    CHECK(fs.calls(Op::Fsync) == 0);
    REQUIRE(fs.flush_done(done, 4) == 1);
    CHECK(done[0].token == 7);
    CHECK(done[0].status == Status::Ok);
    CHECK(fs.unsynced() == 0);
    fs.crash();
    CHECK(fs.read_file("/mail/data") == "first+second");
}

TEST_CASE("SimFs flush_start: flushes of one file asked together are one fsync",
          "[sim][fs][flush]") {
    SimFs fs;
    fs.set_async_flush(true);
    File a = open_ok(fs, "/a", kCreate);
    File b = open_ok(fs, "/b", kCreate);
    REQUIRE(fs.flush_start(a, 1) == Status::Ok);
    REQUIRE(fs.flush_start(b, 2) == Status::Ok);
    REQUIRE(fs.flush_start(a, 3) == Status::Ok);
    tinyimapd::port::FlushDone done[2];
    REQUIRE(fs.flush_done(done, 2) == 2);  // capacity: the rest stays queued
    CHECK(done[0].token == 1);
    CHECK(done[1].token == 2);
    REQUIRE(fs.flush_done(done, 2) == 1);
    CHECK(done[0].token == 3);
    CHECK(fs.calls(Op::Fsync) == 3);  // the third was no longer together with the first
    fs.reset_counters();
    for (std::uint64_t t = 0; t < 5; ++t) REQUIRE(fs.flush_start(a, t) == Status::Ok);
    tinyimapd::port::FlushDone many[8];
    CHECK(fs.flush_done(many, 8) == 5);
    CHECK(fs.calls(Op::Fsync) == 1);
}

TEST_CASE("SimFs flush_start: a crash before the flush drops it; errors and limits",
          "[sim][fs][flush]") {
    SimFs fs;
    fs.set_async_flush(true);
    fs.make_dirs("/mail");
    File f = open_ok(fs, "/mail/data", kCreate);
    REQUIRE(fs.sync_dir("/mail") == Status::Ok);
    REQUIRE(put(fs, f, "lost") == Status::Ok);
    REQUIRE(fs.flush_start(f, 1) == Status::Ok);
    fs.crash();  // the I/O thread never got to it
    CHECK(fs.flushes_pending() == 0);
    CHECK(fs.read_file("/mail/data").empty());
    f = open_ok(fs, "/mail/data", kRw);
    fs.fail_nth(Op::Fsync, 1, Status::Io);
    REQUIRE(fs.flush_start(f, 2) == Status::Ok);
    tinyimapd::port::FlushDone done[1];
    REQUIRE(fs.flush_done(done, 1) == 1);
    CHECK(done[0].status == Status::Io);
    for (std::size_t i = 0; i < SimFs::kMaxFlushes; ++i)
        REQUIRE(fs.flush_start(f, i) == Status::Ok);
    CHECK(fs.flush_start(f, 99) == Status::Exhausted);
    fs.set_async_flush(false);
    CHECK(fs.flush_start(f, 100) == Status::Unsupported);
    CHECK(fs.flush_events() == kNoFile);
}
