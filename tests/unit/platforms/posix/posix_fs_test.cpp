// platforms/posix/fs_posix: every port::Fs operation against a real
// directory under /tmp (mkdtemp), removed afterwards.
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "platforms/posix/fs_posix.h"

using namespace tinyimapd;
using tinyimapd::posix::PosixFs;

namespace {

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
    return ::remove(path);
}

class TempDir {
public:
    TempDir() {
        char pattern[] = "/tmp/tinyimapd-fs-XXXXXX";
        REQUIRE(::mkdtemp(pattern) != nullptr);
        path_ = pattern;
    }
    ~TempDir() { ::nftw(path_.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS); }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

port::File open_ok(PosixFs& fs, const std::string& path, std::uint32_t flags) {
    Result<port::File> f = fs.open(path, flags);
    REQUIRE(f.status == Status::Ok);
    REQUIRE(f.value >= 0);
    return f.value;
}

void write_file(PosixFs& fs, const std::string& path, const std::string& content) {
    port::File f = open_ok(fs, path, port::kOpenWrite | port::kOpenCreate | port::kOpenTruncate);
    port::FsResult w = fs.write(f, content.data(), content.size());
    REQUIRE(w.status == Status::Ok);
    REQUIRE(w.bytes == content.size());
    REQUIRE(fs.close(f) == Status::Ok);
}

std::string read_file(PosixFs& fs, const std::string& path) {
    port::File f = open_ok(fs, path, port::kOpenRead);
    std::string out(4096, '\0');
    port::FsResult r = fs.read(f, out.data(), out.size());
    REQUIRE(r.status == Status::Ok);
    out.resize(r.bytes);
    REQUIRE(fs.close(f) == Status::Ok);
    return out;
}

constexpr std::uint32_t kReadWriteCreate = port::kOpenRead | port::kOpenWrite | port::kOpenCreate;

class Collector final : public port::DirVisitor {
public:
    explicit Collector(std::size_t stop_after = SIZE_MAX) : stop_after_(stop_after) {}
    bool entry(std::string_view name, port::FileType type) override {
        entries.emplace_back(std::string(name), type);
        return entries.size() < stop_after_;
    }
    std::vector<std::pair<std::string, port::FileType>> entries;

private:
    std::size_t stop_after_;
};

}  // namespace

TEST_CASE("PosixFs: open creates with mode 0600, reads back, NotFound without kOpenCreate",
          "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    CHECK(fs.open(dir / "missing", port::kOpenRead).status == Status::NotFound);

    write_file(fs, dir / "a", "hello");
    struct stat st;
    REQUIRE(::stat((dir / "a").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(read_file(fs, dir / "a") == "hello");
}

TEST_CASE("PosixFs: kOpenCreate|kOpenExclusive on an existing file gives Exists", "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    write_file(fs, dir / "a", "x");
    Result<port::File> f = fs.open(dir / "a", kReadWriteCreate | port::kOpenExclusive);
    CHECK(f.status == Status::Exists);
    f = fs.open(dir / "b", kReadWriteCreate | port::kOpenExclusive);
    CHECK(f.status == Status::Ok);
    if (f.ok()) CHECK(fs.close(f.value) == Status::Ok);
}

TEST_CASE("PosixFs: open without read or write, or truncating read-only, gives Invalid",
          "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    CHECK(fs.open(dir / "a", port::kOpenCreate).status == Status::Invalid);
    CHECK(fs.open(dir / "a", port::kOpenRead | port::kOpenTruncate).status == Status::Invalid);
    CHECK(fs.open(dir / "a", port::kOpenRead | (1u << 20)).status == Status::Invalid);
}

TEST_CASE("PosixFs: kOpenTruncate empties an existing file", "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    write_file(fs, dir / "a", "long content");
    port::File f = open_ok(fs, dir / "a", port::kOpenWrite | port::kOpenTruncate);
    port::FileInfo info;
    REQUIRE(fs.fstat(f, &info) == Status::Ok);
    CHECK(info.size == 0);
    CHECK(fs.close(f) == Status::Ok);
}

TEST_CASE("PosixFs: kOpenNoFollow refuses a symbolic link with Permission", "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    write_file(fs, dir / "target", "secret");
    REQUIRE(::symlink((dir / "target").c_str(), (dir / "link").c_str()) == 0);
    CHECK(fs.open(dir / "link", port::kOpenRead | port::kOpenNoFollow).status ==
          Status::Permission);
    CHECK(read_file(fs, dir / "link") == "secret");  // followed without the flag
}

TEST_CASE("PosixFs: read is sequential and returns fewer bytes only at end of file",
          "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    write_file(fs, dir / "a", "0123456789");
    port::File f = open_ok(fs, dir / "a", port::kOpenRead);
    char buf[16];
    port::FsResult r = fs.read(f, buf, 4);
    REQUIRE(r.status == Status::Ok);
    CHECK(std::string(buf, r.bytes) == "0123");
    r = fs.read(f, buf, sizeof(buf));
    REQUIRE(r.status == Status::Ok);
    CHECK(std::string(buf, r.bytes) == "456789");
    r = fs.read(f, buf, sizeof(buf));
    CHECK(r.status == Status::Ok);
    CHECK(r.bytes == 0);
    CHECK(fs.close(f) == Status::Ok);
}

TEST_CASE("PosixFs: 1 MiB written and read back in one call each", "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    std::vector<std::uint8_t> data(1 << 20);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 3);
    port::File f = open_ok(fs, dir / "big", kReadWriteCreate);
    port::FsResult w = fs.write(f, data.data(), data.size());
    REQUIRE(w.status == Status::Ok);
    CHECK(w.bytes == data.size());
    std::vector<std::uint8_t> back(data.size() + 100);
    port::FsResult r = fs.pread(f, back.data(), back.size(), 0);
    REQUIRE(r.status == Status::Ok);
    REQUIRE(r.bytes == data.size());
    back.resize(r.bytes);
    CHECK(back == data);
    CHECK(fs.close(f) == Status::Ok);
}

TEST_CASE("PosixFs: pread beyond end of file returns fewer bytes and does not move the position",
          "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    write_file(fs, dir / "a", "abcdef");
    port::File f = open_ok(fs, dir / "a", port::kOpenRead);
    char buf[16];
    port::FsResult r = fs.pread(f, buf, 10, 2);
    REQUIRE(r.status == Status::Ok);
    CHECK(std::string(buf, r.bytes) == "cdef");
    r = fs.pread(f, buf, 10, 100);
    CHECK(r.status == Status::Ok);
    CHECK(r.bytes == 0);
    r = fs.read(f, buf, 3);  // position still at 0
    REQUIRE(r.status == Status::Ok);
    CHECK(std::string(buf, r.bytes) == "abc");
    CHECK(fs.pread(f, buf, 1, UINT64_MAX).status == Status::Invalid);
    CHECK(fs.close(f) == Status::Ok);
}

TEST_CASE(
    "PosixFs: pwrite writes at an offset without moving the position; append goes to the "
    "end after pwrite",
    "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    port::File f = open_ok(fs, dir / "a", kReadWriteCreate);
    port::FsResult w = fs.pwrite(f, "WORLD", 5, 6);  // a hole of 6 NULs first
    REQUIRE(w.status == Status::Ok);
    CHECK(w.bytes == 5);
    w = fs.write(f, "hello ", 6);  // the position was left at 0
    REQUIRE(w.status == Status::Ok);
    w = fs.append(f, "!!", 2);
    REQUIRE(w.status == Status::Ok);
    CHECK(w.bytes == 2);
    port::FileInfo info;
    REQUIRE(fs.fstat(f, &info) == Status::Ok);
    CHECK(info.size == 13);
    CHECK(fs.close(f) == Status::Ok);
    CHECK(read_file(fs, dir / "a") == "hello WORLD!!");
}

TEST_CASE("PosixFs: truncate shrinks and extends with zeros", "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    write_file(fs, dir / "a", "0123456789");
    port::File f = open_ok(fs, dir / "a", port::kOpenRead | port::kOpenWrite);
    REQUIRE(fs.truncate(f, 4) == Status::Ok);
    port::FileInfo info;
    REQUIRE(fs.fstat(f, &info) == Status::Ok);
    CHECK(info.size == 4);
    REQUIRE(fs.truncate(f, 6) == Status::Ok);
    CHECK(fs.fsync(f) == Status::Ok);
    CHECK(fs.close(f) == Status::Ok);
    CHECK(read_file(fs, dir / "a") == std::string("0123\0\0", 6));
}

TEST_CASE("PosixFs: writing to a full device gives NoSpace", "[posix][fs]") {
    PosixFs fs;
    Result<port::File> f = fs.open("/dev/full", port::kOpenWrite);
    if (!f.ok()) {
        WARN("no /dev/full here: skipped");
        return;
    }
    CHECK(fs.write(f.value, "x", 1).status == Status::NoSpace);
    CHECK(fs.pwrite(f.value, "x", 1, 0).status == Status::NoSpace);
    CHECK(fs.close(f.value) == Status::Ok);
}

TEST_CASE("PosixFs: fstat and stat report type, size and mtime; a symlink is Other",
          "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    write_file(fs, dir / "a", "12345");
    port::FileInfo info;
    REQUIRE(fs.stat(dir / "a", &info) == Status::Ok);
    CHECK(info.type == port::FileType::Regular);
    CHECK(info.size == 5);
    CHECK(info.mtime_seconds > 1600000000);
    REQUIRE(fs.stat(dir.path(), &info) == Status::Ok);
    CHECK(info.type == port::FileType::Directory);
    REQUIRE(::symlink("a", (dir / "link").c_str()) == 0);
    REQUIRE(fs.stat(dir / "link", &info) == Status::Ok);
    CHECK(info.type == port::FileType::Other);
    CHECK(fs.stat(dir / "missing", &info) == Status::NotFound);
    CHECK(fs.stat(dir / "a/below", &info) == Status::NotDir);

    port::File f = open_ok(fs, dir / "a", port::kOpenRead);
    REQUIRE(fs.fstat(f, &info) == Status::Ok);
    CHECK(info.type == port::FileType::Regular);
    CHECK(info.size == 5);
    CHECK(fs.close(f) == Status::Ok);
}

TEST_CASE("PosixFs: a second handle taking an exclusive lock gets Busy until the first unlocks",
          "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    port::File a = open_ok(fs, dir / "lock", kReadWriteCreate);
    port::File b = open_ok(fs, dir / "lock", port::kOpenRead | port::kOpenWrite);

    REQUIRE(fs.lock(a, port::LockMode::Exclusive) == Status::Ok);
    CHECK(fs.lock(b, port::LockMode::Exclusive) == Status::Busy);
    CHECK(fs.lock(b, port::LockMode::Shared) == Status::Busy);
    REQUIRE(fs.unlock(a) == Status::Ok);

    // Shared locks coexist, and keep an exclusive one out.
    REQUIRE(fs.lock(a, port::LockMode::Shared) == Status::Ok);
    REQUIRE(fs.lock(b, port::LockMode::Shared) == Status::Ok);
    CHECK(fs.lock(b, port::LockMode::Exclusive) == Status::Busy);
    REQUIRE(fs.unlock(a) == Status::Ok);
    CHECK(fs.lock(b, port::LockMode::Exclusive) == Status::Ok);  // upgrade, alone now

    // Closing a handle releases its lock.
    CHECK(fs.close(b) == Status::Ok);
    CHECK(fs.lock(a, port::LockMode::Exclusive) == Status::Ok);
    CHECK(fs.close(a) == Status::Ok);
}

TEST_CASE("PosixFs: mkdir gives Exists the second time; rmdir gives NotEmpty, then succeeds",
          "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    REQUIRE(fs.mkdir(dir / "box") == Status::Ok);
    struct stat st;
    REQUIRE(::stat((dir / "box").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(fs.mkdir(dir / "box") == Status::Exists);
    CHECK(fs.mkdir(dir / "no/such/parent") == Status::NotFound);
    write_file(fs, dir / "box/file", "x");
    CHECK(fs.rmdir(dir / "box") == Status::NotEmpty);
    REQUIRE(fs.unlink(dir / "box/file") == Status::Ok);
    CHECK(fs.rmdir(dir / "box") == Status::Ok);
    CHECK(fs.rmdir(dir / "box") == Status::NotFound);
}

TEST_CASE("PosixFs: unlink removes a file; NotFound when missing", "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    write_file(fs, dir / "a", "x");
    REQUIRE(fs.unlink(dir / "a") == Status::Ok);
    port::FileInfo info;
    CHECK(fs.stat(dir / "a", &info) == Status::NotFound);
    CHECK(fs.unlink(dir / "a") == Status::NotFound);
}

TEST_CASE("PosixFs: rename replaces an existing file; NotFound when the source is missing",
          "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    write_file(fs, dir / "new", "new content");
    write_file(fs, dir / "old", "old");
    REQUIRE(fs.rename(dir / "new", dir / "old") == Status::Ok);
    CHECK(read_file(fs, dir / "old") == "new content");
    port::FileInfo info;
    CHECK(fs.stat(dir / "new", &info) == Status::NotFound);
    CHECK(fs.rename(dir / "new", dir / "other") == Status::NotFound);
    CHECK(fs.sync_dir(dir.path()) == Status::Ok);
}

TEST_CASE("PosixFs: list passes every entry with its type, never '.' or '..', and stops early",
          "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    write_file(fs, dir / "INBOX.data", "x");
    write_file(fs, dir / "INBOX.index", "y");
    REQUIRE(fs.mkdir(dir / "Archive") == Status::Ok);

    Collector all;
    REQUIRE(fs.list(dir.path(), all) == Status::Ok);
    std::set<std::pair<std::string, port::FileType>> got(all.entries.begin(), all.entries.end());
    std::set<std::pair<std::string, port::FileType>> want = {
        {"INBOX.data", port::FileType::Regular},
        {"INBOX.index", port::FileType::Regular},
        {"Archive", port::FileType::Directory}};
    CHECK(got == want);
    CHECK(all.entries.size() == 3);

    Collector first(1);
    REQUIRE(fs.list(dir.path(), first) == Status::Ok);
    CHECK(first.entries.size() == 1);

    Collector none;
    CHECK(fs.list(dir / "missing", none) == Status::NotFound);
    CHECK(fs.list(dir / "INBOX.data", none) == Status::NotDir);
    CHECK(none.entries.empty());
}

TEST_CASE("PosixFs: list of a directory larger than one read buffer returns every entry",
          "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    std::set<std::string> want;
    for (int i = 0; i < 200; ++i) {
        std::string name = std::string(200, 'm') + std::to_string(i);
        write_file(fs, dir / name, "");
        want.insert(name);
    }
    Collector all;
    REQUIRE(fs.list(dir.path(), all) == Status::Ok);
    std::set<std::string> got;
    for (auto& e : all.entries) got.insert(e.first);
    CHECK(got == want);
    CHECK(all.entries.size() == want.size());
}

TEST_CASE("PosixFs: sync_dir succeeds on a directory, NotFound when missing", "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    CHECK(fs.sync_dir(dir.path()) == Status::Ok);
    CHECK(fs.sync_dir(dir / "missing") == Status::NotFound);
}

TEST_CASE("PosixFs: a path longer than kMaxPath gives TooLong; a NUL byte or empty gives Invalid",
          "[posix][fs]") {
    TempDir dir;
    PosixFs fs;
    std::string too_long = dir.path() + "/" + std::string(port::kMaxPath, 'x');
    REQUIRE(too_long.size() > port::kMaxPath);
    port::FileInfo info;
    Collector visitor;
    CHECK(fs.open(too_long, kReadWriteCreate).status == Status::TooLong);
    CHECK(fs.stat(too_long, &info) == Status::TooLong);
    CHECK(fs.mkdir(too_long) == Status::TooLong);
    CHECK(fs.rmdir(too_long) == Status::TooLong);
    CHECK(fs.unlink(too_long) == Status::TooLong);
    CHECK(fs.rename(too_long, dir / "a") == Status::TooLong);
    CHECK(fs.rename(dir / "a", too_long) == Status::TooLong);
    CHECK(fs.list(too_long, visitor) == Status::TooLong);
    CHECK(fs.sync_dir(too_long) == Status::TooLong);

    // Exactly kMaxPath bytes is still passed to the system.
    std::string at_limit = dir.path() + "/";
    while (at_limit.size() + 201 <= port::kMaxPath) at_limit += std::string(200, 'd') + "/";
    at_limit += std::string(port::kMaxPath - at_limit.size(), 'f');
    REQUIRE(at_limit.size() == port::kMaxPath);
    CHECK(fs.stat(at_limit, &info) == Status::NotFound);

    std::string with_nul = dir / "a";
    with_nul += '\0';
    with_nul += "b";
    CHECK(fs.open(with_nul, kReadWriteCreate).status == Status::Invalid);
    CHECK(fs.stat(with_nul, &info) == Status::Invalid);
    CHECK(fs.stat("", &info) == Status::Invalid);
}

// ---- confine(): no symbolic link followed beneath the mail directory
// (port/fs.h "Symbolic links"; issue 20, item 2), with openat2() and with
// the per-component walk of kernels without it.

namespace {

// mail/alice/Work, mail/bob/INBOX/m.data, mail/bob/Empty, and links planted
// in alice's tree: evil -> bob/INBOX, evildir -> bob, file -> bob's m.data.
struct PlantedTree {
    TempDir dir;
    PosixFs fs;
    std::string mail = dir / "mail";
    std::string alice = mail + "/alice";
    std::string bob = mail + "/bob";
    std::string bob_data = bob + "/INBOX/m.data";

    explicit PlantedTree(bool openat2) {
        fs.set_openat2(openat2);
        for (const std::string& d :
             {mail, alice, alice + "/Work", bob, bob + "/INBOX", bob + "/Empty"}) {
            REQUIRE(fs.mkdir(d) == Status::Ok);
        }
        write_file(fs, bob_data, "bob's mail");
        REQUIRE(::symlink((bob + "/INBOX").c_str(), (alice + "/evil").c_str()) == 0);
        REQUIRE(::symlink("../bob", (alice + "/evildir").c_str()) == 0);
        REQUIRE(::symlink(bob_data.c_str(), (alice + "/file").c_str()) == 0);
        REQUIRE(fs.confine(mail) == Status::Ok);
    }
    bool bob_intact() {
        port::FileInfo info;
        return read_file(fs, bob_data) == "bob's mail" &&
               fs.stat(bob + "/Empty", &info) == Status::Ok &&
               fs.stat(bob + "/INBOX", &info) == Status::Ok;
    }
};

}  // namespace

TEST_CASE("PosixFs confine: a link in the middle of a path is never followed", "[posix][fs]") {
    const bool openat2 = GENERATE(true, false);
    INFO("openat2: " << openat2);
    PlantedTree t(openat2);
    port::FileInfo info;
    Collector visitor;
    const std::string via = t.alice + "/evil/m.data";
    CHECK(t.fs.open(via, port::kOpenRead).status == Status::Permission);
    CHECK(t.fs.open(via, kReadWriteCreate).status == Status::Permission);
    CHECK(t.fs.open(t.alice + "/evil/new", kReadWriteCreate).status == Status::Permission);
    CHECK(t.fs.open(t.alice + "/evildir/INBOX/m.data", port::kOpenRead).status ==
          Status::Permission);
    CHECK(t.fs.stat(via, &info) == Status::Permission);
    CHECK(t.fs.unlink(via) == Status::Permission);
    CHECK(t.fs.mkdir(t.alice + "/evildir/New") == Status::Permission);
    CHECK(t.fs.rmdir(t.alice + "/evildir/Empty") == Status::Permission);
    CHECK(t.fs.rename(t.alice + "/evildir/INBOX", t.alice + "/Stolen") == Status::Permission);
    CHECK(t.fs.rename(t.alice + "/Work", t.alice + "/evildir/Work") == Status::Permission);
    CHECK(t.fs.list(t.alice + "/evildir/INBOX", visitor) == Status::Permission);
    CHECK(t.fs.sync_dir(t.alice + "/evildir/INBOX") == Status::Permission);
    CHECK(visitor.entries.empty());
    CHECK(t.bob_intact());
    CHECK(t.fs.stat(t.bob + "/New", &info) == Status::NotFound);
    CHECK(t.fs.stat(t.bob + "/Work", &info) == Status::NotFound);
    CHECK(t.fs.stat(t.alice + "/Work", &info) == Status::Ok);
    CHECK(t.fs.stat(t.bob + "/INBOX/new", &info) == Status::NotFound);
}

TEST_CASE("PosixFs confine: a link as the last component is refused or acted on itself",
          "[posix][fs]") {
    const bool openat2 = GENERATE(true, false);
    INFO("openat2: " << openat2);
    PlantedTree t(openat2);
    port::FileInfo info;
    Collector visitor;
    // Opened without kOpenNoFollow, created through (tree.lock), listed, synced.
    CHECK(t.fs.open(t.alice + "/file", port::kOpenRead).status == Status::Permission);
    CHECK(t.fs.open(t.alice + "/file", kReadWriteCreate | port::kOpenTruncate).status ==
          Status::Permission);
    CHECK(t.fs.list(t.alice + "/evil", visitor) == Status::Permission);
    CHECK(t.fs.list(t.alice + "/evildir", visitor) == Status::Permission);
    CHECK(t.fs.sync_dir(t.alice + "/evil") == Status::Permission);
    // stat shows the link; mkdir and rmdir do not go through it.
    REQUIRE(t.fs.stat(t.alice + "/evil", &info) == Status::Ok);
    CHECK(info.type == port::FileType::Other);
    CHECK(t.fs.mkdir(t.alice + "/evil") == Status::Exists);
    CHECK(t.fs.rmdir(t.alice + "/evil") == Status::NotDir);
    // list shows links as Other.
    REQUIRE(t.fs.list(t.alice, visitor) == Status::Ok);
    for (const auto& [name, type] : visitor.entries) {
        if (name != "Work") CHECK(type == port::FileType::Other);
    }
    // rename and unlink act on the link, never its target.
    CHECK(t.fs.rename(t.alice + "/evil", t.alice + "/moved") == Status::Ok);
    CHECK(t.fs.unlink(t.alice + "/moved") == Status::Ok);
    CHECK(t.fs.unlink(t.alice + "/file") == Status::Ok);
    CHECK(t.bob_intact());
}

TEST_CASE("PosixFs confine: '..' beneath the directory is Invalid; the user root is beneath",
          "[posix][fs]") {
    const bool openat2 = GENERATE(true, false);
    PlantedTree t(openat2);
    port::FileInfo info;
    CHECK(t.fs.stat(t.alice + "/../bob/INBOX/m.data", &info) == Status::Invalid);
    CHECK(t.fs.open(t.alice + "/Work/..", port::kOpenRead).status == Status::Invalid);
    // A user's root that is itself a link (mail/carol -> bob) is not followed.
    REQUIRE(::symlink(t.bob.c_str(), (t.mail + "/carol").c_str()) == 0);
    CHECK(t.fs.stat(t.mail + "/carol/INBOX/m.data", &info) == Status::Permission);
    CHECK(t.fs.open(t.mail + "/carol/INBOX/m.data", port::kOpenRead).status == Status::Permission);
    // Extra slashes change nothing.
    CHECK(t.fs.stat(t.mail + "//alice//evil//m.data", &info) == Status::Permission);
    CHECK(t.fs.stat(t.mail + "//alice//Work/", &info) == Status::Ok);
}

TEST_CASE("PosixFs confine: links at and above the mail directory are the admin's: followed",
          "[posix][fs]") {
    const bool openat2 = GENERATE(true, false);
    TempDir dir;
    PosixFs fs;
    fs.set_openat2(openat2);
    REQUIRE(fs.mkdir(dir / "disk") == Status::Ok);
    REQUIRE(fs.mkdir(dir / "disk/mail") == Status::Ok);
    REQUIRE(::symlink((dir / "disk").c_str(), (dir / "usb").c_str()) == 0);
    REQUIRE(::symlink((dir / "disk/mail").c_str(), (dir / "srv-mail").c_str()) == 0);
    for (const std::string& mail : {dir / "usb/mail", dir / "srv-mail", dir / "srv-mail/"}) {
        INFO(mail);
        REQUIRE(fs.confine(mail) == Status::Ok);
        const std::string root = mail.back() == '/' ? mail + "alice" : mail + "/alice";
        REQUIRE(fs.mkdir(root) == Status::Ok);
        REQUIRE(fs.mkdir(root + "/INBOX") == Status::Ok);
        write_file(fs, root + "/INBOX/m.data", "hello");
        CHECK(read_file(fs, root + "/INBOX/m.data") == "hello");
        REQUIRE(fs.sync_dir(root + "/INBOX") == Status::Ok);
        REQUIRE(fs.rename(root + "/INBOX", root + "/Old") == Status::Ok);
        REQUIRE(fs.unlink(root + "/Old/m.data") == Status::Ok);
        REQUIRE(fs.rmdir(root + "/Old") == Status::Ok);
        REQUIRE(fs.rmdir(root) == Status::Ok);
    }
    // Outside the confined directory links are followed as before.
    write_file(fs, dir / "target", "secret");
    REQUIRE(::symlink((dir / "target").c_str(), (dir / "usb/link").c_str()) == 0);
    CHECK(read_file(fs, dir / "usb/link") == "secret");
}

// port/fs.h "Asynchronous flush" on the I/O threads (flush_pool.h): the
// event handle becomes readable, every token comes back once, and before
// start_flush_threads() it is Unsupported (core then calls fsync()).
TEST_CASE("PosixFs: flush_start runs fdatasync on the I/O threads and reports every token",
          "[posix][fs][flush]") {
    TempDir dir;
    PosixFs fs;
    port::File f =
        open_ok(fs, dir / "data", port::kOpenRead | port::kOpenWrite | port::kOpenCreate);
    CHECK(fs.flush_start(f, 1) == Status::Unsupported);
    CHECK(fs.flush_events() == port::kNoFile);
    REQUIRE(fs.start_flush_threads(3) == Status::Ok);
    REQUIRE(fs.flush_events() != port::kNoFile);
    std::set<std::uint64_t> tokens;
    for (std::uint64_t t = 1; t <= 40; ++t) {
        REQUIRE(fs.pwrite(f, "x", 1, t).status == Status::Ok);
        REQUIRE(fs.flush_start(f, t) == Status::Ok);
    }
    port::FlushDone done[16];
    for (int spins = 0; tokens.size() < 40 && spins < 5000; ++spins) {
        struct pollfd p = {fs.flush_events(), POLLIN, 0};
        (void)::poll(&p, 1, 10);
        const std::size_t n = fs.flush_done(done, 16);
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(done[i].status == Status::Ok);
            CHECK(tokens.insert(done[i].token).second);
        }
    }
    CHECK(tokens.size() == 40);
    // Requests of one file still queued together share an fdatasync.
    CHECK(fs.flush_pool().syncs() <= 40);
    CHECK(fs.flush_pool().finished() == 40);
    // A closed descriptor: the error comes back with the token.
    port::File g =
        open_ok(fs, dir / "gone", port::kOpenRead | port::kOpenWrite | port::kOpenCreate);
    REQUIRE(fs.close(g) == Status::Ok);
    REQUIRE(fs.flush_start(g, 99) == Status::Ok);
    std::size_t n = 0;
    for (int spins = 0; n == 0 && spins < 500; ++spins) {
        struct pollfd p = {fs.flush_events(), POLLIN, 0};
        (void)::poll(&p, 1, 10);
        n = fs.flush_done(done, 16);
    }
    REQUIRE(n == 1);
    CHECK(done[0].token == 99);
    CHECK(done[0].status != Status::Ok);
    fs.stop_flush_threads();
    CHECK(fs.flush_start(f, 1) == Status::Unsupported);
    REQUIRE(fs.close(f) == Status::Ok);
}

namespace {

std::size_t open_descriptors() {
    std::size_t n = 0;
    for (int fd = 0; fd < 4096; ++fd)
        if (::fcntl(fd, F_GETFD) != -1) ++n;
    return n;
}

}  // namespace

// Issue 13 (docs/STORAGE.md "Compaction's flushes"): a directory's sync on
// an I/O thread; the directory is opened for the request and closed by the
// thread once synced, whatever the outcome.
TEST_CASE("PosixFs: sync_dir_start syncs a directory on an I/O thread and closes it",
          "[posix][fs][flush]") {
    TempDir dir;
    PosixFs fs;
    CHECK(fs.sync_dir_start(dir.path(), 1) == Status::Unsupported);  // no threads
    REQUIRE(fs.start_flush_threads(2) == Status::Ok);
    const std::size_t before = open_descriptors();
    CHECK(fs.sync_dir_start(dir / "missing", 2) == Status::NotFound);
    for (std::uint64_t t = 10; t < 20; ++t) REQUIRE(fs.sync_dir_start(dir.path(), t) == Status::Ok);
    std::set<std::uint64_t> tokens;
    port::FlushDone done[16];
    for (int spins = 0; tokens.size() < 10 && spins < 5000; ++spins) {
        struct pollfd p = {fs.flush_events(), POLLIN, 0};
        (void)::poll(&p, 1, 10);
        const std::size_t n = fs.flush_done(done, 16);
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(done[i].status == Status::Ok);
            CHECK(tokens.insert(done[i].token).second);
        }
    }
    CHECK(tokens.size() == 10);
    CHECK(fs.flush_pool().syncs() == 10);  // never coalesced: one descriptor each
    CHECK(open_descriptors() == before);   // every one closed by its thread
    fs.stop_flush_threads();
}
