// store_bench: the mail store's cost at scale on the real file system
// (docs/STORAGE.md "Benchmark"). Not a test.
//
//   build-dir/tests/bench/store_bench [messages=100000] [dir=$TMPDIR]
//
// Appends N messages to one mailbox on PosixFs in a fresh temporary
// directory, then measures: opening it in a new registry (as a restarted
// server would), appending one more message, changing the flags of one
// message, and the bytes written and fsyncs per flag change (counted by a
// wrapping Fs). Prints one line per figure and removes its directory.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/mail/flags.h"
#include "core/store/registry.h"
#include "core/store/user_store.h"
#include "platforms/posix/clock_posix.h"
#include "platforms/posix/entropy_posix.h"
#include "platforms/posix/fs_posix.h"

using namespace tinyimapd;
using namespace tinyimapd::store;

namespace {

// Forwards to PosixFs, counting what reaches the disk.
class CountingFs final : public port::Fs {
public:
    std::uint64_t bytes_written = 0, fsyncs = 0, reads = 0, bytes_read = 0;
    void reset() { bytes_written = fsyncs = reads = bytes_read = 0; }

    Result<port::File> open(std::string_view p, std::uint32_t f) override { return fs_.open(p, f); }
    Status close(port::File f) override { return fs_.close(f); }
    port::FsResult read(port::File f, void* o, std::size_t c) override {
        return count(fs_.read(f, o, c));
    }
    port::FsResult pread(port::File f, void* o, std::size_t c, std::uint64_t off) override {
        return count(fs_.pread(f, o, c, off));
    }
    port::FsResult write(port::File f, const void* d, std::size_t n) override {
        bytes_written += n;
        return fs_.write(f, d, n);
    }
    port::FsResult pwrite(port::File f, const void* d, std::size_t n, std::uint64_t off) override {
        bytes_written += n;
        return fs_.pwrite(f, d, n, off);
    }
    port::FsResult append(port::File f, const void* d, std::size_t n) override {
        bytes_written += n;
        return fs_.append(f, d, n);
    }
    Status truncate(port::File f, std::uint64_t s) override { return fs_.truncate(f, s); }
    Status fsync(port::File f) override {
        ++fsyncs;
        return fs_.fsync(f);
    }
    Status fstat(port::File f, port::FileInfo* i) override { return fs_.fstat(f, i); }
    Status lock(port::File f, port::LockMode m) override { return fs_.lock(f, m); }
    Status unlock(port::File f) override { return fs_.unlock(f); }
    Status stat(std::string_view p, port::FileInfo* i) override { return fs_.stat(p, i); }
    Status rename(std::string_view a, std::string_view b) override { return fs_.rename(a, b); }
    Status unlink(std::string_view p) override { return fs_.unlink(p); }
    Status mkdir(std::string_view p) override { return fs_.mkdir(p); }
    Status rmdir(std::string_view p) override { return fs_.rmdir(p); }
    Status list(std::string_view p, port::DirVisitor& v) override { return fs_.list(p, v); }
    Status sync_dir(std::string_view p) override {
        ++fsyncs;
        return fs_.sync_dir(p);
    }
    Status confine(std::string_view d) override { return fs_.confine(d); }

private:
    port::FsResult count(port::FsResult r) {
        ++reads;
        bytes_read += r.bytes;
        return r;
    }
    posix::PosixFs fs_;
};

double now_us() {
    using namespace std::chrono;
    return static_cast<double>(
               duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count()) /
           1e3;
}

struct Store {
    StoreLimits limits;
    std::vector<unsigned char> mem;
    Registry reg;
    Store(CountingFs& fs, posix::PosixClock& clock, posix::PosixEntropy& entropy)
        : mem(Registry::bytes_needed(limits)), reg(fs, clock, entropy, limits) {
        Arena a(mem.data(), mem.size());
        if (reg.init(a) != Status::Ok) std::abort();
    }
};

bool append(Mailbox* m, const std::string& msg) {
    Appender a;
    std::uint32_t uid = 0;
    return m->begin_append(a, static_cast<std::uint32_t>(msg.size()), 0, 0, 1700000000, 0) ==
               Status::Ok &&
           m->append_chunk(a, msg.data(), msg.size()) == Status::Ok &&
           m->commit_append(a, &uid) == Status::Ok;
}

}  // namespace

int main(int argc, char** argv) {
    const unsigned n =
        argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 100000;
    std::string base =
        argc > 2 ? argv[2] : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    std::string root = base + "/store_bench.XXXXXX";
    if (mkdtemp(root.data()) == nullptr) {
        std::perror("mkdtemp");
        return 1;
    }
    CountingFs fs;
    posix::PosixClock clock;
    posix::PosixEntropy entropy;
    // A typical small mail: headers and a short body, CRLF as on the wire.
    std::string msg =
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: benchmark\r\n"
        "Date: Tue, 1 Jul 2025 10:00:00 +0000\r\nMessage-ID: <x@example.org>\r\n\r\n";
    while (msg.size() < 2000) msg += "The quick brown fox jumps over the lazy dog.\r\n";

    std::printf(
        "store_bench: %u messages of %zu bytes in %s (%zu bytes of pool per open mailbox"
        " with default limits)\n",
        n, msg.size(), root.c_str(),
        Registry::bytes_needed(StoreLimits{}) / StoreLimits{}.max_open_mailboxes);
    {
        Store s(fs, clock, entropy);
        UserStore user(s.reg, root);
        if (user.ensure() != Status::Ok) return 1;
        auto r = user.open("INBOX");
        if (!r.ok()) return 1;
        const double t0 = now_us();
        fs.reset();
        for (unsigned i = 0; i < n; ++i)
            if (!append(r.value, msg)) return 1;
        const double t1 = now_us();
        std::printf(
            "append x%u: %.1f us/message, %.0f bytes written/message, %.1f fsyncs/message\n", n,
            (t1 - t0) / n, static_cast<double>(fs.bytes_written) / n,
            static_cast<double>(fs.fsyncs) / n);
        user.close(r.value);
    }
    // A restarted server: a new registry opens the big mailbox.
    Store s(fs, clock, entropy);
    UserStore user(s.reg, root);
    fs.reset();
    double t0 = now_us();
    auto r = user.open("INBOX");
    double t1 = now_us();
    if (!r.ok()) return 1;
    Mailbox* m = r.value;
    std::printf("open (%u messages): %.1f us, %llu preads, %llu bytes read\n",
                m->state().live_count, t1 - t0, static_cast<unsigned long long>(fs.reads),
                static_cast<unsigned long long>(fs.bytes_read));
    View v;
    fs.reset();
    t0 = now_us();
    m->attach(v, false);
    t1 = now_us();
    std::printf("select (attach a session view): %.1f us, %llu bytes read; view is %zu bytes\n",
                t1 - t0, static_cast<unsigned long long>(fs.bytes_read), sizeof(View));

    const unsigned rounds = 200;
    fs.reset();
    t0 = now_us();
    for (unsigned i = 0; i < rounds; ++i)
        if (!append(m, msg)) return 1;
    t1 = now_us();
    std::printf(
        "append into the %u-message mailbox: %.1f us/message, %.0f bytes written, %.1f fsyncs\n", n,
        (t1 - t0) / rounds, static_cast<double>(fs.bytes_written) / rounds,
        static_cast<double>(fs.fsyncs) / rounds);

    fs.reset();
    t0 = now_us();
    for (unsigned i = 0; i < rounds; ++i) {
        const std::uint32_t seq = 1 + (i / 4 * 7919u) % v.exists;
        MessageInfo info;
        bool skipped = false;
        if (m->begin_store() != Status::Ok ||
            m->store(v, seq, (i / 2 % 2) ? FlagOp::Remove : FlagOp::Add,
                     (i & 1) ? mail::kFlagged : mail::kSeen, 0, 0, &info, &skipped) != Status::Ok ||
            m->commit_store() != Status::Ok)
            return 1;
    }
    t1 = now_us();
    std::printf(
        "flag change (STORE +FLAGS \\Seen, one message): %.1f us, %.0f bytes written, "
        "%.1f fsyncs\n",
        (t1 - t0) / rounds, static_cast<double>(fs.bytes_written) / rounds,
        static_cast<double>(fs.fsyncs) / rounds);

    // Ten sessions' flag changes (one message each) committed as one group
    // (docs/STORAGE.md "Group commit"): the record's header and state, the
    // state in place and the flush are shared.
    constexpr unsigned kGroup = 10;
    View group_views[kGroup];
    for (View& gv : group_views) m->attach(gv, false);
    fs.reset();
    t0 = now_us();
    for (unsigned i = 0; i < rounds / kGroup; ++i) {
        CommitWaiter waiters[kGroup];
        for (unsigned k = 0; k < kGroup; ++k) {
            const std::uint32_t seq = 1 + ((i * kGroup + k) * 7919u) % v.exists;
            MessageInfo info;
            bool skipped = false;
            if (m->begin_store(true) != Status::Ok ||
                m->store(group_views[k], seq, FlagOp::Replace,
                         (i & 1) ? mail::kFlagged : mail::kAnswered, 0, 0, &info,
                         &skipped) != Status::Ok)
                return 1;
            const Status c = m->commit_store(waiters[k]);
            if (c != Status::WouldBlock && c != Status::Ok) return 1;
        }
        Status st = Status::Ok;
        while ((st = m->commit_group()) == Status::WouldBlock)
            m->flushed(fs.fsync(m->flush_file()));
        if (st != Status::Ok && st != Status::Invalid) return 1;
    }
    t1 = now_us();
    std::printf(
        "flag change in a group of %u sessions (one message each): %.1f us, %.0f bytes written, "
        "%.2f fsyncs\n",
        kGroup, (t1 - t0) / rounds, static_cast<double>(fs.bytes_written) / rounds,
        static_cast<double>(fs.fsyncs) / rounds);
    for (View& gv : group_views) m->detach(gv);

    fs.reset();
    t0 = now_us();
    std::uint64_t total = 0;
    char buf[4096];
    for (unsigned i = 0; i < rounds; ++i) {
        MessageInfo info;
        if (m->message(v, 1 + (i * 104729u) % v.exists, &info) != Status::Ok) return 1;
        std::size_t got = 0;
        if (m->read(info, 0, buf, sizeof buf, &got) != Status::Ok) return 1;
        total += got;
    }
    t1 = now_us();
    std::printf("random FETCH BODY[] (lookup + pread): %.1f us/message\n", (t1 - t0) / rounds);
    m->detach(v);
    user.close(m);
    std::string cmd = "rm -rf '" + root + "'";
    return std::system(cmd.c_str()) == 0 && total > 0 ? 0 : 1;
}
