// libFuzzer target: the mailbox index reader and recovery (core/store) on
// arbitrary m.index and m.data bytes, on the simulated file system.
//
// Input layout: byte 0 chooses what is fuzzed:
//   0: the rest is m.index; m.data is a real mailbox's (below),
//   1: the rest is m.data; m.index is the real one,
//   2: a 4-byte little-endian length n, then n bytes of m.index, then m.data.
// The real mailbox is written through the store at startup (a few messages
// with flags and keywords, one expunged), so mutations of its files start
// from valid structure; tests/fuzz/corpus/fuzz_index holds the same files in
// this layout (make_index_corpus below writes them when FUZZ_INDEX_CORPUS is
// set in the environment).
//
// For every input the mailbox is opened (which recovers it), its STATUS
// read, a view attached and synchronised, and every message's info and
// bytes read (the first 256 messages). Whatever the files hold, this must
// neither crash (ASan/UBSan) nor loop; a read must never report more bytes
// than asked for.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "core/base/arena.h"
#include "core/store/mailbox.h"
#include "core/store/registry.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"

using namespace tinyimapd;
using namespace tinyimapd::store;

namespace {

constexpr std::string_view kBox = "/mail/u/box";
constexpr std::uint32_t kMaxMessages = 256;  // messages read per input
constexpr int kMaxSyncs = 64;                // sync() calls per input

void check(bool ok) {
    if (!ok) std::abort();
}

// A store over its own simulated disk (one per input: nothing carries over).
struct Env {
    sim::SimClock clock;
    sim::SimFs fs{&clock};
    sim::SimEntropy entropy{7};
    StoreLimits limits;
    std::vector<unsigned char> mem;
    alignas(Registry) unsigned char reg_storage[sizeof(Registry)];
    Registry* reg = nullptr;

    Env() {
        limits.max_open_mailboxes = 2;
        limits.cache_records = 8;
        limits.max_pending_expunges = 16;
        limits.change_ring = 8;
        limits.scratch_bytes = 512;
        mem.assign(Registry::bytes_needed(limits), 0);
        reg = new (reg_storage) Registry(fs, clock, entropy, limits);
        Arena a(mem.data(), mem.size());
        check(reg->init(a) == Status::Ok);
    }
    ~Env() { reg->~Registry(); }
    std::string path(std::string_view name) const {
        return std::string(kBox) + "/" + std::string(name);
    }
};

struct Accept final : SyncVisitor {
    bool expunged(std::uint32_t, std::uint32_t) override { return true; }
    void exists(std::uint32_t, std::uint32_t) override {}
    bool flags_changed(std::uint32_t, std::uint32_t) override { return true; }
    void flags_unknown(std::uint64_t) override {}
};

Status append(Mailbox* m, std::string_view text, std::uint8_t flags, std::uint64_t keywords) {
    Appender a;
    Status st = m->begin_append(a, static_cast<std::uint32_t>(text.size()), flags, keywords,
                                1700000000, 60);
    if (st != Status::Ok) return st;
    st = m->append_chunk(a, text.data(), text.size());
    if (st != Status::Ok) {
        m->abort_append(a);
        return st;
    }
    std::uint32_t uid = 0;
    return m->commit_append(a, &uid);
}

class NoFilter final : public Mailbox::UidFilter {
public:
    bool accept(std::uint32_t) override { return true; }
};

// The real mailbox: its m.index and m.data as the store writes them.
struct RealBox {
    std::string index, data;
    // `index` with the redo record of a later STORE (+\Flagged on message 1)
    // that was flushed and never written in place (docs/STORAGE.md "The redo
    // log"): opening writes it in place.
    std::string redo_index;
    RealBox() {
        Env env;
        env.fs.make_dirs(kBox);
        check(Mailbox::create_files(env.reg->services(), kBox, 1234, 1, 1) == Status::Ok);
        Result<Mailbox*> r = env.reg->acquire(kBox);
        check(r.status == Status::Ok);
        Mailbox* m = r.value;
        unsigned junk = 0;
        check(m->keyword_bit("$Junk", true, &junk) == Status::Ok);
        check(append(m, "From: a@example.org\r\nSubject: one\r\n\r\nbody one\r\n", 0, 0) ==
              Status::Ok);
        check(append(m, "Subject: two\r\n\r\nsecond\r\n", 0x01 | 0x08, 0) == Status::Ok);
        check(append(m, "Subject: three\r\n\r\n", 0x04, std::uint64_t{1} << junk) == Status::Ok);
        check(append(m, "Subject: four\r\n\r\nfourth body\r\n", 0, 0) == Status::Ok);
        // Expunge the \Deleted one (message three): a gap in the index and
        // waste in m.data.
        View v;
        m->attach(v, false);
        Accept visitor;
        (void)m->sync(v, visitor);
        NoFilter all;
        std::uint32_t uids[8];
        std::size_t count = 0;
        (void)m->expunge(v, &all, uids, 8, &count);
        index = env.fs.read_file(env.path(kIndexFile));
        data = env.fs.read_file(env.path(kDataFile));
        check(m->begin_store() == Status::Ok);
        MessageInfo info;
        bool skipped = false;
        check(m->store(v, 1, FlagOp::Add, 0x02, 0, 0, &info, &skipped) == Status::Ok);
        check(m->commit_store() == Status::Ok);
        const std::string stored = env.fs.read_file(env.path(kIndexFile));
        redo_index = index;
        redo_index.replace(kRedoOffset, 2 * kRedoAreaSize, stored, kRedoOffset, 2 * kRedoAreaSize);
        m->detach(v);
        env.reg->release(m);
    }
};

const RealBox& real_box() {
    static const RealBox box;
    return box;
}

void run(std::string_view index, std::string_view data) {
    Env env;
    env.fs.make_dirs(kBox);
    env.fs.write_file(env.path(kIndexFile), index);
    env.fs.write_file(env.path(kDataFile), data);
    Result<Mailbox*> r = env.reg->acquire(kBox);
    if (r.status != Status::Ok) return;  // refusing damaged files is fine
    Mailbox* m = r.value;
    StatusInfo info;
    (void)m->status(&info);
    View v;
    m->attach(v, true);
    Accept visitor;
    bool complete = false;
    for (int i = 0; i < kMaxSyncs && !complete; ++i) {
        if (m->sync(v, visitor, &complete) != Status::Ok) break;
    }
    const std::uint32_t n = v.exists < kMaxMessages ? v.exists : kMaxMessages;
    char buf[64];
    for (std::uint32_t seq = 1; seq <= n; ++seq) {
        MessageInfo msg;
        if (m->message(v, seq, &msg) != Status::Ok) continue;
        for (std::uint64_t at : {std::uint64_t{0}, std::uint64_t{msg.size} / 2,
                                 msg.size > 0 ? std::uint64_t{msg.size} - 1 : 0}) {
            std::size_t got = 0;
            if (m->read(msg, at, buf, sizeof buf, &got) == Status::Ok) check(got <= sizeof buf);
        }
    }
    m->detach(v);
    env.reg->release(m);
}

void write_seed(const char* dir, const char* name, std::string_view bytes) {
    const std::string path = std::string(dir) + "/" + name;
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) return;
    (void)std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
}

std::string layout(char mode, std::string_view a, std::string_view b = {}) {
    std::string s(1, mode);
    if (mode == 2) {
        const std::uint32_t n = static_cast<std::uint32_t>(a.size());
        for (int i = 0; i < 4; ++i) s += static_cast<char>((n >> (8 * i)) & 0xff);
    }
    return s + std::string(a) + std::string(b);
}

// With FUZZ_INDEX_CORPUS=<dir>: writes the seed corpus there and exits.
void make_index_corpus() {
    const char* dir = std::getenv("FUZZ_INDEX_CORPUS");
    if (dir == nullptr) return;
    const RealBox& box = real_box();
    write_seed(dir, "index", layout(0, box.index));
    write_seed(dir, "data", layout(1, box.data));
    write_seed(dir, "both", layout(2, box.index, box.data));
    write_seed(dir, "index-short", layout(0, box.index.substr(0, box.index.size() / 2)));
    write_seed(dir, "data-torn", layout(1, box.data.substr(0, box.data.size() - 7)));
    write_seed(dir, "index-redo", layout(0, box.redo_index));
    std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    make_index_corpus();
    (void)real_box();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const RealBox& box = real_box();
    switch (data[0] % 3) {
        case 0: run(rest, box.data); break;
        case 1: run(box.index, rest); break;
        default: {
            if (rest.size() < 4) return 0;
            std::uint32_t n = 0;
            for (int i = 0; i < 4; ++i)
                n |= std::uint32_t{static_cast<std::uint8_t>(rest[i])} << (8 * i);
            const std::string_view files = rest.substr(4);
            if (n > files.size()) n = static_cast<std::uint32_t>(files.size());
            run(files.substr(0, n), files.substr(n));
            break;
        }
    }
    return 0;
}
