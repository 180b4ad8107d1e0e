// libFuzzer target: one user's mailbox tree (core/store/user_store) on the
// simulated file system with symbolic links planted in it (issue 20, item
// 2; port/fs.h "Symbolic links"), driven by CREATE, DELETE, RENAME, SELECT
// (open + APPEND + close), STATUS, LIST, SUBSCRIBE, LSUB and special-use
// changes from the input.
//
// The world: /mail is confined; /mail/bob holds bob's INBOX (one message)
// and "Private"; /outside/secret lies outside every root; alice's root
// /mail/alice holds INBOX and Work, and links to bob's tree, to outside and
// to nowhere, at the top, inside Work, and — as chosen by the first input
// byte — in place of tree.lock, subs.txt, c.tmp, d.tmp, i.tmp and her
// INBOX's m.data.
//
// Input: byte 0 chooses the extra links; then operations, each an opcode
// byte and names. A name is one byte: its top bit picks a raw name (next
// byte = length, then that many bytes), otherwise 1-3 levels from a
// vocabulary of mailbox names and link names. Checked after every
// operation (any violation aborts): every file, directory and link outside
// /mail/alice/ is exactly as it was (nothing escapes alice's root), and
// bob's message is still readable through his own UserStore.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/arena.h"
#include "core/store/registry.h"
#include "core/store/user_store.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"

using namespace tinyimapd;
using namespace tinyimapd::store;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

constexpr std::string_view kVocabulary[] = {
    "INBOX", "Work", "evil", "evildir", "outside", "nowhere", "New", "Private",
};
constexpr std::size_t kMaxOps = 48;

class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
    bool more() const { return p_ < end_; }
    std::uint8_t byte() { return p_ < end_ ? *p_++ : 0; }
    std::string name() {
        const std::uint8_t b = byte();
        std::string out;
        if ((b & 0x80) != 0) {
            const std::size_t n = byte();
            for (std::size_t i = 0; i < n && more(); ++i) out += static_cast<char>(byte());
            return out;
        }
        const std::size_t levels = 1 + (b >> 5) % 3;
        std::uint8_t bits = b;
        for (std::size_t i = 0; i < levels; ++i) {
            if (i != 0) {
                out += '/';
                bits = byte();
            }
            out += kVocabulary[bits % 8];
        }
        return out;
    }

private:
    const std::uint8_t* p_;
    const std::uint8_t* end_;
};

struct Collect final : ListVisitor {
    std::size_t count = 0;
    bool mailbox(std::string_view, std::uint8_t) override { return ++count < 1000; }
};

std::map<std::string, std::string> outside_alice(const sim::SimFs& fs) {
    std::map<std::string, std::string> out;
    for (auto& [path, data] : fs.snapshot()) {
        if (path.rfind("/mail/alice/", 0) != 0) out.emplace(path, data);
    }
    return out;
}

struct World {
    sim::SimClock clock;
    sim::SimFs fs{&clock};
    sim::SimEntropy entropy{7};
    StoreLimits limits = make_limits();
    std::vector<unsigned char> mem;
    Registry reg{fs, clock, entropy, limits};
    UserStore alice{reg, "/mail/alice"};
    UserStore bob{reg, "/mail/bob"};

    static StoreLimits make_limits() {
        StoreLimits l;
        l.max_open_mailboxes = 4;
        l.scratch_bytes = 4096;
        return l;
    }
    World() {
        mem.assign(Registry::bytes_needed(limits), 0);
        Arena a(mem.data(), mem.size());
        check(reg.init(a) == Status::Ok);
        fs.make_dirs("/mail");
        fs.write_file("/outside/secret", "secret");
        check(fs.confine("/mail") == Status::Ok);
        check(bob.ensure() == Status::Ok);
        check(bob.create("Private") == Status::Ok);
        check(append(bob, "INBOX", "Hi, Bob!\r\n") == Status::Ok);
        check(alice.ensure() == Status::Ok);
        check(alice.create("Work") == Status::Ok);
    }

    Status append(UserStore& user, std::string_view name, std::string_view text) {
        auto r = user.open(name);
        if (!r.ok()) return r.status;
        Appender a;
        Status st = r.value->begin_append(a, static_cast<std::uint32_t>(text.size()), 0, 0, 0, 0);
        if (st == Status::Ok) st = r.value->append_chunk(a, text.data(), text.size());
        std::uint32_t uid = 0;
        if (st == Status::Ok) {
            st = r.value->commit_append(a, &uid);
        } else {
            r.value->abort_append(a);
        }
        user.close(r.value);
        return st;
    }

    void plant(std::uint8_t choice) {
        fs.make_symlink("/mail/alice/evil", "/mail/bob/^i^n^b^o^x");
        fs.make_symlink("/mail/alice/evildir", "../bob");
        fs.make_symlink("/mail/alice/outside", "/outside");
        fs.make_symlink("/mail/alice/nowhere", "/mail/bob/^nothing");
        fs.make_symlink("/mail/alice/^work/evil", "/mail/bob/^private");
        const char* files[] = {"tree.lock", "subs.txt", "c.tmp", "d.tmp", "i.tmp"};
        for (std::size_t i = 0; i < 5; ++i) {
            if ((choice & (1u << i)) == 0) continue;
            const std::string at = std::string("/mail/alice/") + files[i];
            if (fs.exists(at)) (void)fs.unlink(at);
            fs.make_symlink(at, i < 2 ? "/mail/bob/^i^n^b^o^x/m.data" : "/mail/bob");
        }
        if ((choice & 0x20) != 0) {
            (void)fs.unlink("/mail/alice/^i^n^b^o^x/m.data");
            fs.make_symlink("/mail/alice/^i^n^b^o^x/m.data", "/mail/bob/^i^n^b^o^x/m.data");
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Input in(data, size);
    World w;
    w.plant(in.byte());
    const auto before = outside_alice(w.fs);
    for (std::size_t op = 0; op < kMaxOps && in.more(); ++op) {
        const std::uint8_t code = in.byte();
        const std::string name = in.name();
        switch (code % 10) {
            case 0: (void)w.alice.create(name); break;
            case 1: (void)w.alice.remove(name); break;
            case 2: (void)w.alice.rename(name, in.name()); break;
            case 3: (void)w.append(w.alice, name, "Hi, me.\r\n"); break;
            case 4: {
                StatusInfo info;
                (void)w.alice.status(name, &info);
                break;
            }
            case 5: {
                Collect c;
                (void)w.alice.list("", name + ((code & 0x10) != 0 ? "*" : "%"), c);
                break;
            }
            case 6: (void)w.alice.subscribe(name, (code & 0x10) != 0); break;
            case 7: {
                Collect c;
                (void)w.alice.list_subscribed("", name + "*", c);
                break;
            }
            case 8: (void)w.alice.set_special_use(name, code >> 4); break;
            default: {
                auto r = w.alice.open(name);
                if (r.ok()) w.alice.close(r.value);
                break;
            }
        }
        check(outside_alice(w.fs) == before);
    }
    StatusInfo info;
    check(w.bob.status("INBOX", &info) == Status::Ok);
    return 0;
}
