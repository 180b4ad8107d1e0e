// deliver, import, export, check: see cmd_tools.h and docs/TOOLS.md.
//
// Shared shape: options -> Config (as `serve`), passwd file -> user check,
// drop root to the configured `user` (files must belong to the server's
// user), a Registry over a malloc'd Arena, UserStore on <mail_dir>/<user>.
// A message is first spooled (converted to CRLF) into an unlinked temporary
// file in the user's directory, because Mailbox::begin_append needs its size
// up front; then it is streamed into the store in 64 KiB chunks, so that the
// mailbox lock is held only for the copy, and memory does not grow with the
// message (only with its longest line, for the line-based formats).
#include "platforms/posix/cmd_tools.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/passwd.h"
#include "core/base/arena.h"
#include "core/base/text.h"
#include "core/mail/flags.h"
#include "core/server/config.h"
#include "core/store/acl.h"
#include "core/store/metadata.h"
#include "core/store/registry.h"
#include "core/store/user_store.h"
#include "platforms/posix/clock_posix.h"
#include "platforms/posix/entropy_posix.h"
#include "platforms/posix/fs_posix.h"
#include "platforms/posix/import/mail_formats.h"
#include "platforms/posix/privileges.h"

namespace tinyimapd::posix {
namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kConfigMax = 64 * 1024;
constexpr int kBusyRetryMs = 10000;  // deliver/import: how long a locked mailbox is retried
constexpr int kBusySleepMs = 50;

void errs(std::string_view s) {
    (void)!::write(2, s.data(), s.size());
}

void outs(std::string_view s) {
    (void)!::write(1, s.data(), s.size());
}

void fail(std::string_view tool, std::string_view what, std::string_view detail = {}) {
    std::string m = "tinyimapd ";
    m.append(tool).append(": ").append(what);
    if (!detail.empty()) m.append(": ").append(detail);
    m.push_back('\n');
    errs(m);
}

// ---- options, configuration, environment -----------------------------------

struct Options {
    std::string user;
    std::string mailbox = "INBOX";
    bool mailbox_given = false;
    bool create = false;
    bool all = false;
    std::string mbox;
    std::string maildir;
    std::vector<std::string> args;  // positional arguments, where "args" is allowed
};

struct Env {
    const char* tool = "";
    Config cfg;
    PosixFs fs;
    PosixClock clock;
    PosixEntropy entropy;
    std::vector<char> pw_a, pw_b;
    std::unique_ptr<PasswdDb> passwd;
    store::StoreLimits limits;
    std::vector<std::uint8_t> arena_block;
    std::unique_ptr<store::Registry> registry;
};

// Parses argv: tool flags listed in `allowed` ("u", "m", "create", "all",
// "mbox", "maildir"), --config, and --key=value config options. Returns 0 or
// an exit code.
int parse(Env& env, int argc, char** argv, std::string_view allowed, Options* o,
          std::string_view usage) {
    auto allows = [&](std::string_view flag) {
        std::size_t p = 0;
        while (p < allowed.size()) {
            std::size_t e = allowed.find(',', p);
            if (e == std::string_view::npos) e = allowed.size();
            if (allowed.substr(p, e - p) == flag) return true;
            p = e + 1;
        }
        return false;
    };
    std::vector<std::string_view> config_files, options;
    for (int i = 0; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&](std::string* out) {
            if (i + 1 >= argc || std::string_view(argv[i + 1]).substr(0, 2) == "--") return false;
            *out = argv[++i];
            return true;
        };
        bool ok = true;
        if (a == "-h" || a == "--help") {
            outs(usage);
            return -1;
        } else if (a == "--config") {
            if (i + 1 >= argc) {
                ok = false;
            } else {
                config_files.push_back(argv[++i]);
            }
        } else if (a.substr(0, 9) == "--config=") {
            config_files.push_back(a.substr(9));
        } else if (a == "-u" && allows("u")) {
            ok = value(&o->user);
        } else if (a == "-m" && allows("m")) {
            ok = value(&o->mailbox);
            o->mailbox_given = true;
        } else if (a == "--create" && allows("create")) {
            o->create = true;
        } else if (a == "--all" && allows("all")) {
            o->all = true;
        } else if (a == "--mbox" && allows("mbox")) {
            ok = value(&o->mbox);
        } else if (a.substr(0, 7) == "--mbox=" && allows("mbox")) {
            o->mbox = a.substr(7);
        } else if (a == "--maildir" && allows("maildir")) {
            ok = value(&o->maildir);
        } else if (a.substr(0, 10) == "--maildir=" && allows("maildir")) {
            o->maildir = a.substr(10);
        } else if (a == "--delete" && allows("args")) {
            o->args.emplace_back(a);
        } else if (a.substr(0, 2) == "--") {
            options.push_back(a);
        } else if (allows("args")) {
            o->args.emplace_back(a);
        } else {
            fail(env.tool, "unknown argument", a);
            errs(usage);
            return EX_USAGE;
        }
        if (!ok) {
            fail(env.tool, "option needs a value", a);
            errs(usage);
            return EX_USAGE;
        }
    }
    static char scratch[kConfigMax];
    ConfigError e{};
    for (std::string_view path : config_files) {
        if (!config_load_file(env.cfg, env.fs, path, scratch, sizeof scratch, &e)) {
            FixedText<600> w;
            config_error_write(e, w);
            fail(env.tool, w.view());
            port::FileInfo info;
            return env.fs.stat(path, &info) == Status::NotFound ? EX_NOINPUT : EX_CONFIG;
        }
    }
    for (std::string_view a : options) {
        if (!config_apply_option(env.cfg, a, &e)) {
            FixedText<600> w;
            config_error_write(e, w);
            fail(env.tool, w.view());
            return EX_USAGE;
        }
    }
    return 0;
}

bool valid_user_name(std::string_view u) {
    if (u.empty() || u == "." || u == "..") return false;
    for (char c : u) {
        if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == ':') return false;
    }
    return true;
}

// The user names of the passwd file, in file order (PasswdDb has no
// iteration; each is confirmed through lookup()).
std::vector<std::string> passwd_users(Env& env) {
    std::vector<std::string> users;
    FILE* f = fopen(std::string(env.cfg.passwd_file.view()).c_str(), "rb");
    if (f == nullptr) return users;
    char* raw = nullptr;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&raw, &cap, f)) > 0) {
        std::string_view l(raw, static_cast<std::size_t>(n));
        const std::size_t colon = l.find(':');
        if (l.empty() || l[0] == '#' || colon == std::string_view::npos) continue;
        const std::string u(l.substr(0, colon));
        PasswdEntry e;
        if (!env.passwd->lookup(u, &e)) continue;
        if (std::find(users.begin(), users.end(), u) == users.end()) users.push_back(u);
    }
    free(raw);
    fclose(f);
    return users;
}

// Loads the passwd file, drops root, sets up the Registry.
int setup(Env& env, std::vector<std::string>* all_users = nullptr) {
    env.pw_a.resize(env.cfg.passwd_max_size);
    env.pw_b.resize(env.cfg.passwd_max_size);
    env.passwd = std::make_unique<PasswdDb>(env.pw_a.data(), env.pw_b.data(), env.pw_a.size());
    const Status ps = env.passwd->load(env.fs, env.cfg.passwd_file.view());
    if (ps != Status::Ok) {
        std::string d = std::string(env.cfg.passwd_file.view());
        if (env.passwd->last_error_line() != 0) {
            d += ":" + std::to_string(env.passwd->last_error_line());
        }
        d += ": ";
        d += status_text(ps);
        fail(env.tool, "cannot load the passwd file", d);
        return EX_CONFIG;
    }
    if (all_users != nullptr) *all_users = passwd_users(env);
    if (running_as_root()) {
        if (env.cfg.user.empty()) {
            fail(env.tool,
                 "warning: running as root with no 'user' configured; new files will belong "
                 "to root");
        } else {
            FixedText<300> perr;
            if (drop_privileges(env.cfg.user.view(), env.cfg.group.view(), env.cfg.chroot.view(),
                                perr) != Status::Ok) {
                fail(env.tool, perr.view());
                return EX_CONFIG;
            }
        }
    }
    // As the server: no symbolic link is followed beneath mail_dir.
    if (env.fs.confine(env.cfg.mail_dir.view()) != Status::Ok) {
        fail(env.tool, "mail_dir is not a usable path");
        return EX_CONFIG;
    }
    env.limits.max_open_mailboxes = 2;
    env.limits.scratch_bytes = kChunk;
    const std::size_t need = store::Registry::bytes_needed(env.limits);
    env.arena_block.assign(need + 64, 0);
    env.registry = std::make_unique<store::Registry>(env.fs, env.clock, env.entropy, env.limits);
    Arena arena(env.arena_block.data(), env.arena_block.size());
    if (env.registry->init(arena) != Status::Ok) {
        fail(env.tool, "cannot set up the store");
        return EX_SOFTWARE;
    }
    return 0;
}

std::string user_root(const Env& env, std::string_view user) {
    std::string r(env.cfg.mail_dir.view());
    while (r.size() > 1 && r.back() == '/') r.pop_back();
    r.push_back('/');
    r.append(user);
    return r;
}

void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, static_cast<long>(ms % 1000) * 1000000L};
    nanosleep(&ts, nullptr);
}

// Serialises CREATE (and the first ensure()) among the tools: the store
// builds a new mailbox in a fixed "c.tmp" beside it, which two processes
// creating at once would share. flock() on <mail_dir>/.tinyimapd-create.lock,
// held for the few milliseconds of the create.
class CreateLock {
public:
    explicit CreateLock(const Env& env) {
        std::string p(env.cfg.mail_dir.view());
        p += "/.tinyimapd-create.lock";
        fd_ = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd_ >= 0) {
            while (flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
            }
        }
    }
    ~CreateLock() {
        if (fd_ >= 0) ::close(fd_);
    }
    CreateLock(const CreateLock&) = delete;
    CreateLock& operator=(const CreateLock&) = delete;

private:
    int fd_ = -1;
};

// ---- spooling a message -------------------------------------------------------

// An unlinked temporary file in `dir` holding one message (CRLF) at a time.
class Spool {
public:
    ~Spool() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool open(const std::string& dir) {
        fd_ = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd_ >= 0) return true;
        std::string tmpl = dir + "/spool.XXXXXX";
        fd_ = mkostemp(tmpl.data(), O_CLOEXEC);
        if (fd_ < 0) return false;
        ::unlink(tmpl.c_str());
        return true;
    }
    int error() const { return errno_; }
    void reset() {
        used_ = 0;
        size_ = 0;
        errno_ = 0;
        if (ftruncate(fd_, 0) != 0) errno_ = errno;
    }
    void put(const char* p, std::size_t n) {
        while (n > 0) {
            const std::size_t k = std::min(n, sizeof buf_ - used_);
            memcpy(buf_ + used_, p, k);
            used_ += k;
            p += k;
            n -= k;
            if (used_ == sizeof buf_) flush();
        }
    }
    void put(std::string_view s) { put(s.data(), s.size()); }
    bool finish() {
        flush();
        return errno_ == 0;
    }
    std::uint64_t size() const { return size_ + used_; }
    ssize_t pread_at(void* out, std::size_t n, std::uint64_t off) const {
        return ::pread(fd_, out, n, static_cast<off_t>(off));
    }

private:
    void flush() {
        std::size_t done = 0;
        while (done < used_ && errno_ == 0) {
            const ssize_t w =
                ::pwrite(fd_, buf_ + done, used_ - done, static_cast<off_t>(size_ + done));
            if (w < 0) {
                if (errno != EINTR) errno_ = errno;
            } else {
                done += static_cast<std::size_t>(w);
            }
        }
        size_ += used_;
        used_ = 0;
    }
    int fd_ = -1;
    int errno_ = 0;
    std::uint64_t size_ = 0;
    std::size_t used_ = 0;
    char buf_[kChunk];
};

// LF or CRLF text -> CRLF. A bare CR is kept as it is.
class CrlfWriter {
public:
    explicit CrlfWriter(Spool& s) : s_(s) {}
    void put(const char* p, std::size_t n) {
        std::size_t start = 0;
        for (std::size_t i = 0; i < n; ++i) {
            if (p[i] == '\n' && !prev_cr_) {
                s_.put(p + start, i - start);
                s_.put("\r\n", 2);
                start = i + 1;
            }
            prev_cr_ = p[i] == '\r';
        }
        s_.put(p + start, n - start);
    }
    void put(std::string_view v) { put(v.data(), v.size()); }

private:
    Spool& s_;
    bool prev_cr_ = false;
};

// ---- keywords and flags -----------------------------------------------------

bool valid_keyword(std::string_view k) {
    if (k.empty() || k.size() > store::kMaxKeywordLength || k[0] == '\\') return false;
    for (char c : k) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f) return false;
        if (strchr("(){%*\"\\]", c) != nullptr) return false;
    }
    return true;
}

// ---- appending through the store ----------------------------------------------

int exit_for(Status s) {
    switch (s) {
        case Status::Busy:
        case Status::NoSpace:
        case Status::Exhausted: return EX_TEMPFAIL;
        default: return EX_IOERR;
    }
}

std::int64_t deadline_ms(Env& env) {
    return static_cast<std::int64_t>(env.clock.monotonic_ms()) + kBusyRetryMs;
}

// Opens `name`, retrying while it is Busy. NotFound is returned as is.
Status open_mailbox(Env& env, store::UserStore& us, std::string_view name, store::Mailbox** out) {
    const std::int64_t until = deadline_ms(env);
    for (;;) {
        Result<store::Mailbox*> r = us.open(name);
        if (r.status != Status::Busy ||
            static_cast<std::int64_t>(env.clock.monotonic_ms()) > until) {
            *out = r.value;
            return r.status;
        }
        sleep_ms(kBusySleepMs);
    }
}

Status keyword_bits(Env& env, store::Mailbox& mb, const std::vector<std::string>& names,
                    std::uint64_t* bits) {
    *bits = 0;
    for (const std::string& k : names) {
        if (!valid_keyword(k)) continue;
        unsigned bit = 0;
        const std::int64_t until = deadline_ms(env);
        Status st;
        while ((st = mb.keyword_bit(k, true, &bit)) == Status::Busy &&
               static_cast<std::int64_t>(env.clock.monotonic_ms()) <= until) {
            sleep_ms(kBusySleepMs);
        }
        if (st == Status::Exhausted || st == Status::TooLong) continue;  // dropped
        if (st != Status::Ok) return st;
        *bits |= std::uint64_t{1} << bit;
    }
    return Status::Ok;
}

// Appends the spooled message; retries while the mailbox is locked.
Status append_spool(Env& env, store::Mailbox& mb, const Spool& spool, std::uint8_t flags,
                    std::uint64_t keywords, std::int64_t date, std::uint32_t* uid) {
    if (spool.size() > 0xFFFFFFFFu) return Status::TooLong;
    const auto size = static_cast<std::uint32_t>(spool.size());
    const auto zone = static_cast<std::int16_t>(env.clock.utc_offset_minutes(date));
    const std::int64_t until = deadline_ms(env);
    store::Appender a;
    Status st;
    while ((st = mb.begin_append(a, size, flags, keywords, date, zone)) == Status::Busy &&
           static_cast<std::int64_t>(env.clock.monotonic_ms()) <= until) {
        sleep_ms(kBusySleepMs);
    }
    if (st != Status::Ok) return st;
    static char buf[kChunk];
    std::uint64_t off = 0;
    while (off < size) {
        const ssize_t n = spool.pread_at(buf, std::min<std::uint64_t>(sizeof buf, size - off), off);
        if (n <= 0) {
            mb.abort_append(a);
            return Status::Io;
        }
        st = mb.append_chunk(a, buf, static_cast<std::size_t>(n));
        if (st != Status::Ok) {
            mb.abort_append(a);
            return st;
        }
        off += static_cast<std::uint64_t>(n);
    }
    st = mb.commit_append(a, uid);
    if (st != Status::Ok) mb.abort_append(a);
    return st;
}

// Opens (creating if asked) the target mailbox of import/deliver.
int target_mailbox(Env& env, store::UserStore& us, const std::string& user, Options& o, bool create,
                   bool fallback_inbox, store::Mailbox** mb) {
    store::Path dir;
    Status st = us.mailbox_dir(o.mailbox, &dir);
    if (st != Status::Ok) {
        fail(env.tool, "bad mailbox name (IMAP modified UTF-7, '/' separated)", o.mailbox);
        return EX_USAGE;
    }
    st = open_mailbox(env, us, o.mailbox, mb);
    if (st == Status::NotFound && create) {
        {
            CreateLock lock(env);
            st = us.create(o.mailbox);
        }
        if (st != Status::Ok && st != Status::Exists) {
            fail(env.tool, "cannot create mailbox " + o.mailbox, status_text(st));
            return exit_for(st);
        }
        st = open_mailbox(env, us, o.mailbox, mb);
    } else if (st == Status::NotFound && fallback_inbox) {
        fail(env.tool, "no mailbox " + o.mailbox + " for " + user + ", delivering to INBOX");
        o.mailbox = "INBOX";
        st = open_mailbox(env, us, o.mailbox, mb);
    }
    if (st != Status::Ok) {
        fail(env.tool, "cannot open mailbox " + o.mailbox, status_text(st));
        return st == Status::NotFound ? EX_IOERR : exit_for(st);
    }
    return 0;
}

// Shared start of deliver/import/export: options, setup, user, its store.
int start_user(Env& env, Options& o, std::unique_ptr<store::UserStore>* us, std::string* root) {
    if (o.user.empty()) {
        fail(env.tool, "-u USER is required");
        return EX_USAGE;
    }
    int rc = setup(env);
    if (rc != 0) return rc;
    PasswdEntry e;
    if (!valid_user_name(o.user) || !env.passwd->lookup(o.user, &e)) {
        fail(env.tool, "unknown user", o.user);
        return EX_NOUSER;
    }
    *root = user_root(env, o.user);
    (void)env.fs.mkdir(env.cfg.mail_dir.view());
    *us = std::make_unique<store::UserStore>(*env.registry, *root);
    Status st;
    // The server may be making this user's root and INBOX right now (a first
    // login holds the user's tree lock): wait for it like for a mailbox.
    const std::int64_t until = deadline_ms(env);
    for (;;) {
        {
            CreateLock lock(env);
            st = (*us)->ensure();
        }
        if (st != Status::Busy || static_cast<std::int64_t>(env.clock.monotonic_ms()) > until) {
            break;
        }
        sleep_ms(kBusySleepMs);
    }
    if (st != Status::Ok) {
        fail(env.tool, "cannot set up the mail directory " + *root, status_text(st));
        return exit_for(st);
    }
    return 0;
}

// ---- dates --------------------------------------------------------------------

// ---- reading stored messages (export, check) ----------------------------------

// Calls `sink(bytes, n)` for the message's bytes, 64 KiB at a time.
template <class Sink>
Status read_message(store::Mailbox& mb, const store::MessageInfo& m, Sink&& sink) {
    static char buf[kChunk];
    std::uint64_t off = 0;
    while (off < m.size) {
        std::size_t got = 0;
        const Status st = mb.read(m, off, buf, sizeof buf, &got);
        if (st != Status::Ok) return st;
        if (got == 0) return Status::Io;  // shorter than its size
        sink(buf, got);
        off += got;
    }
    return Status::Ok;
}

// ---- deliver --------------------------------------------------------------------

constexpr std::string_view kDeliverUsage =
    "usage: tinyimapd deliver -u USER [-m MAILBOX] [--create] [--config FILE] [--key=value ...]"
    " < message\n";

}  // namespace

int run_deliver(int argc, char** argv) {
    Env env;
    env.tool = "deliver";
    Options o;
    int rc = parse(env, argc, argv, "u,m,create", &o, kDeliverUsage);
    if (rc != 0) return rc < 0 ? 0 : rc;
    std::unique_ptr<store::UserStore> us;
    std::string root;
    if ((rc = start_user(env, o, &us, &root)) != 0) return rc;

    Spool spool;
    if (!spool.open(root)) {
        fail(env.tool, "cannot create a spool file in " + root, strerror(errno));
        return errno == ENOSPC || errno == EDQUOT ? EX_TEMPFAIL : EX_IOERR;
    }
    spool.reset();
    CrlfWriter w(spool);
    // Reads stdin; drops a leading mbox "From " envelope line.
    static char buf[kChunk];
    std::string head;  // the first line until we know whether it is "From "
    bool head_done = false;
    for (;;) {
        const ssize_t n = ::read(0, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail(env.tool, "cannot read the message", strerror(errno));
            return EX_IOERR;
        }
        if (n == 0) break;
        std::string_view chunk(buf, static_cast<std::size_t>(n));
        if (!head_done) {
            const std::size_t nl = chunk.find('\n');
            head.append(chunk.substr(0, nl == std::string_view::npos ? chunk.size() : nl + 1));
            chunk = nl == std::string_view::npos ? std::string_view{} : chunk.substr(nl + 1);
            if (nl != std::string_view::npos || head.size() >= 5) {
                if (head.compare(0, 5, "From ") != 0) {
                    w.put(head);
                    head_done = true;
                } else if (nl != std::string_view::npos) {
                    head_done = true;  // the envelope line: dropped
                }
            }
        }
        if (head_done) w.put(chunk.data(), chunk.size());
    }
    if (!head_done && head.compare(0, 5, "From ") != 0) w.put(head);
    if (!spool.finish()) {
        const int e = spool.error();
        fail(env.tool, "cannot spool the message", strerror(e));
        return e == ENOSPC || e == EDQUOT ? EX_TEMPFAIL : EX_IOERR;
    }
    if (spool.size() == 0) {
        fail(env.tool, "empty message");
        return EX_DATAERR;
    }
    if (spool.size() > 0xFFFFFFFFu) {
        fail(env.tool, "message too large (4 GiB or more)");
        return EX_DATAERR;
    }

    store::Mailbox* mb = nullptr;
    if ((rc = target_mailbox(env, *us, o.user, o, o.create, true, &mb)) != 0) return rc;
    std::uint32_t uid = 0;
    const Status st = append_spool(env, *mb, spool, 0, 0, env.clock.wall_seconds(), &uid);
    us->close(mb);
    if (st != Status::Ok) {
        fail(env.tool, "cannot deliver to " + o.user + "/" + o.mailbox, status_text(st));
        return st == Status::TooLong ? EX_DATAERR : exit_for(st);
    }
    return 0;
}

namespace {

// ---- import -----------------------------------------------------------------------

constexpr std::string_view kImportUsage =
    "usage: tinyimapd import -u USER [-m MAILBOX] (--mbox FILE | --maildir DIR)"
    " [--config FILE] [--key=value ...]\n";

struct Importer {
    Env& env;
    store::Mailbox& mb;
    Spool& spool;
    std::size_t count = 0;

    Status add(std::uint8_t flags, const std::vector<std::string>& keywords, std::int64_t date) {
        if (!spool.finish()) return spool.error() == ENOSPC ? Status::NoSpace : Status::Io;
        std::uint64_t kw = 0;
        Status st = keyword_bits(env, mb, keywords, &kw);
        if (st != Status::Ok) return st;
        std::uint32_t uid = 0;
        st = append_spool(env, mb, spool, flags, kw, date, &uid);
        if (st == Status::Ok) ++count;
        return st;
    }
};

int import_mbox(Env& env, Importer& imp, const std::string& path) {
    FILE* f = fopen(path.c_str(), "rb");
    if (f == nullptr) {
        fail(env.tool, "cannot open " + path, strerror(errno));
        return errno == ENOENT ? EX_NOINPUT : EX_IOERR;
    }
    char* raw = nullptr;
    size_t cap = 0;
    ssize_t n;
    mailfmt::MboxParser parser;
    std::string bytes;
    int rc = 0;
    // Only the first message can have a From line without a valid date
    // (a later one starts only at a line with one): it gets the time now.
    auto store = [&](const mailfmt::MboxState& m) -> bool {
        const std::int64_t date = m.date_known ? m.date : env.clock.wall_seconds();
        const Status st = imp.add(m.flags, m.keywords, date);
        if (st != Status::Ok) {
            fail(env.tool, "cannot store message " + std::to_string(imp.count + 1),
                 status_text(st));
            rc = exit_for(st);
            return false;
        }
        return true;
    };
    while ((n = getline(&raw, &cap, f)) > 0) {
        std::string_view line(raw, static_cast<std::size_t>(n));
        const bool has_nl = !line.empty() && line.back() == '\n';
        if (has_nl) line.remove_suffix(1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        bytes.clear();
        const mailfmt::MboxParser::Line what = parser.feed(line, has_nl, &bytes);
        if (what == mailfmt::MboxParser::Line::NotMbox) {
            fail(env.tool, path + " is not an mbox file (no \"From \" line first)");
            rc = EX_DATAERR;
            break;
        }
        if (what == mailfmt::MboxParser::Line::Start) {
            if (parser.ended_one() && !store(parser.ended())) break;
            imp.spool.reset();
            continue;
        }
        imp.spool.put(bytes);
    }
    if (rc == 0 && ferror(f)) {
        fail(env.tool, "cannot read " + path, strerror(errno));
        rc = EX_IOERR;
    }
    if (rc == 0 && parser.active()) (void)store(parser.state());
    free(raw);
    fclose(f);
    return rc;
}

struct MaildirFile {
    std::string path;
    std::string name;
    std::uint64_t stamp;
};

// Dovecot's "dovecot-keywords" (its first 64 KiB: 26 short lines at most).
std::vector<std::string> read_maildir_keywords(const std::string& dir) {
    std::string text;
    FILE* f = fopen((dir + "/dovecot-keywords").c_str(), "rb");
    if (f != nullptr) {
        text.resize(64 * 1024);
        text.resize(fread(text.data(), 1, text.size(), f));
        fclose(f);
    }
    return mailfmt::parse_dovecot_keywords(text);
}

int import_maildir(Env& env, Importer& imp, const std::string& dir) {
    std::vector<MaildirFile> files;
    bool any = false;
    for (const char* sub : {"cur", "new"}) {
        const std::string d = dir + "/" + sub;
        DIR* dp = opendir(d.c_str());
        if (dp == nullptr) continue;
        any = true;
        while (struct dirent* de = readdir(dp)) {
            if (de->d_name[0] == '.') continue;
            MaildirFile mf{d + "/" + de->d_name, de->d_name, 0};
            mf.stamp = strtoull(de->d_name, nullptr, 10);
            files.push_back(std::move(mf));
        }
        closedir(dp);
    }
    if (!any) {
        fail(env.tool, dir + " is not a Maildir (no cur/ or new/)");
        return EX_NOINPUT;
    }
    std::sort(files.begin(), files.end(), [](const MaildirFile& a, const MaildirFile& b) {
        return a.stamp != b.stamp ? a.stamp < b.stamp : a.name < b.name;
    });
    const std::vector<std::string> kwnames = read_maildir_keywords(dir);
    static char buf[kChunk];
    for (const MaildirFile& mf : files) {
        const int fd = ::open(mf.path.c_str(), O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            if (fd >= 0) ::close(fd);
            fail(env.tool, "skipping " + mf.path, strerror(errno));
            continue;
        }
        std::uint8_t flags = 0;
        std::vector<std::string> keywords;
        mailfmt::maildir_info(mf.name, kwnames, &flags, &keywords);
        imp.spool.reset();
        CrlfWriter w(imp.spool);
        ssize_t n;
        while ((n = ::read(fd, buf, sizeof buf)) > 0) w.put(buf, static_cast<std::size_t>(n));
        const int read_errno = n < 0 ? errno : 0;
        ::close(fd);
        if (read_errno != 0) {
            fail(env.tool, "cannot read " + mf.path, strerror(read_errno));
            return EX_IOERR;
        }
        const Status s = imp.add(flags, keywords, static_cast<std::int64_t>(st.st_mtime));
        if (s != Status::Ok) {
            fail(env.tool, "cannot store " + mf.path, status_text(s));
            return exit_for(s);
        }
    }
    return 0;
}

// import and export: options, exactly one of --mbox/--maildir, the user's
// store. Returns parse()'s convention: 0 to go on, <0 done (help), >0 exit.
int start_transfer(Env& env, const char* tool, int argc, char** argv, std::string_view usage,
                   Options* o, std::unique_ptr<store::UserStore>* us, std::string* root) {
    env.tool = tool;
    int rc = parse(env, argc, argv, "u,m,mbox,maildir", o, usage);
    if (rc != 0) return rc;
    if (o->mbox.empty() == o->maildir.empty()) {
        fail(env.tool, "give one of --mbox FILE or --maildir DIR");
        errs(usage);
        return EX_USAGE;
    }
    return start_user(env, *o, us, root);
}

}  // namespace

int run_import(int argc, char** argv) {
    Env env;
    Options o;
    std::unique_ptr<store::UserStore> us;
    std::string root;
    int rc = start_transfer(env, "import", argc, argv, kImportUsage, &o, &us, &root);
    if (rc != 0) return rc < 0 ? 0 : rc;
    Spool spool;
    if (!spool.open(root)) {
        fail(env.tool, "cannot create a spool file in " + root, strerror(errno));
        return EX_IOERR;
    }
    store::Mailbox* mb = nullptr;
    if ((rc = target_mailbox(env, *us, o.user, o, true, false, &mb)) != 0) return rc;
    Importer imp{env, *mb, spool};
    rc = o.mbox.empty() ? import_maildir(env, imp, o.maildir) : import_mbox(env, imp, o.mbox);
    us->close(mb);
    outs("imported " + std::to_string(imp.count) + " messages into " + o.mailbox + "\n");
    return rc;
}

namespace {

// ---- export -----------------------------------------------------------------------

constexpr std::string_view kExportUsage =
    "usage: tinyimapd export -u USER [-m MAILBOX] (--mbox FILE | --maildir DIR)"
    " [--config FILE] [--key=value ...]\n";

// CRLF -> LF; for mbox also mboxrd quoting and the Status/X-Status/X-Keywords
// headers in place of any the message has.
class LfWriter {
public:
    LfWriter(FILE* f, bool mbox, std::string state_headers)
        : f_(f), mbox_(mbox), state_(std::move(state_headers)) {}
    void put(const char* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            line_.push_back(p[i]);
            if (p[i] == '\n') emit_line();
        }
    }
    // Writes what is left; the output then ends with LF.
    void finish() {
        if (!line_.empty()) {
            line_.push_back('\n');
            emit_line();
        }
        if (in_header_ && mbox_) fwrite(state_.data(), 1, state_.size(), f_);
        in_header_ = false;
    }

private:
    void emit_line() {
        std::string_view l(line_);
        l.remove_suffix(1);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        if (mbox_) {
            if (in_header_) {
                if (skipping_ && !l.empty() && (l[0] == ' ' || l[0] == '\t')) {
                    line_.clear();
                    return;
                }
                skipping_ = false;
                if (l.empty()) {
                    fwrite(state_.data(), 1, state_.size(), f_);
                    in_header_ = false;
                } else if (mailfmt::is_state_header(l)) {
                    skipping_ = true;
                    line_.clear();
                    return;
                }
            }
            if (mailfmt::needs_from_quote(l)) fputc('>', f_);
        }
        fwrite(l.data(), 1, l.size(), f_);
        fputc('\n', f_);
        line_.clear();
    }
    FILE* f_;
    bool mbox_;
    std::string state_;
    std::string line_;
    bool in_header_ = true;
    bool skipping_ = false;
};

std::string mbox_state_headers(const store::Mailbox& mb, const store::MessageInfo& m) {
    std::vector<std::string> names;
    for (std::size_t b = 0; b < mb.keyword_count() && b < 64; ++b) {
        if (m.keywords & (std::uint64_t{1} << b)) names.emplace_back(mb.keyword_name(b));
    }
    return mailfmt::mbox_state_headers(m.flags, names);
}

bool make_dir(const std::string& d) {
    return ::mkdir(d.c_str(), 0700) == 0 || errno == EEXIST;
}

}  // namespace

int run_export(int argc, char** argv) {
    Env env;
    Options o;
    std::unique_ptr<store::UserStore> us;
    std::string root;
    int rc = start_transfer(env, "export", argc, argv, kExportUsage, &o, &us, &root);
    if (rc != 0) return rc < 0 ? 0 : rc;
    store::Mailbox* mb = nullptr;
    const Status ost = open_mailbox(env, *us, o.mailbox, &mb);
    if (ost != Status::Ok) {
        fail(env.tool, "cannot open mailbox " + o.mailbox, status_text(ost));
        return ost == Status::NotFound ? EX_NOINPUT : exit_for(ost);
    }
    FILE* mbox = nullptr;
    if (!o.mbox.empty()) {
        mbox = o.mbox == "-" ? stdout : fopen(o.mbox.c_str(), "wb");
        if (mbox == nullptr) {
            fail(env.tool, "cannot create " + o.mbox, strerror(errno));
            us->close(mb);
            return EX_CANTCREAT;
        }
    } else if (!make_dir(o.maildir) || !make_dir(o.maildir + "/cur") ||
               !make_dir(o.maildir + "/new") || !make_dir(o.maildir + "/tmp")) {
        fail(env.tool, "cannot create the Maildir " + o.maildir, strerror(errno));
        us->close(mb);
        return EX_CANTCREAT;
    }
    store::View view;
    mb->attach(view, true);
    char host[256] = "localhost";
    (void)gethostname(host, sizeof host - 1);
    for (char* h = host; *h != '\0'; ++h) {
        if (*h == '/' || *h == ':') *h = '_';
    }
    std::uint32_t written = 0;
    std::uint32_t keyword_mask = 0;
    // Hidden keywords (other users' \Seen, RFC 4314 §4) are not exported.
    std::uint64_t hidden = 0;
    for (std::size_t b = 0; b < mb->keyword_count() && b < 64; ++b) {
        if (store::hidden_keyword(mb->keyword_name(b))) hidden |= std::uint64_t{1} << b;
    }
    for (std::uint32_t seq = 1; seq <= view.exists && rc == 0; ++seq) {
        store::MessageInfo m;
        Status st = mb->message(view, seq, &m);
        if (st != Status::Ok) {
            fail(env.tool, "cannot read message " + std::to_string(seq), status_text(st));
            rc = EX_IOERR;
            break;
        }
        m.keywords &= ~hidden;
        if (mbox != nullptr) {
            fprintf(mbox, "From MAILER-DAEMON %s\n",
                    mailfmt::format_from_date(m.internal_date).c_str());
            LfWriter w(mbox, true, mbox_state_headers(*mb, m));
            st = read_message(*mb, m, [&](const char* p, std::size_t n) { w.put(p, n); });
            w.finish();
            fputc('\n', mbox);
            if (ferror(mbox)) {
                fail(env.tool, "cannot write " + o.mbox, strerror(errno));
                rc = errno == ENOSPC ? EX_CANTCREAT : EX_IOERR;
                break;
            }
        } else {
            keyword_mask |= static_cast<std::uint32_t>(m.keywords & 0x3FFFFFF);
            const std::string base = std::to_string(m.internal_date) + ".M" +
                                     std::to_string(m.uid) + "P" + std::to_string(getpid()) + "." +
                                     host;
            const std::string tmp = o.maildir + "/tmp/" + base;
            const std::string dst =
                o.maildir + "/cur/" + base + ":2," + mailfmt::maildir_flags(m.flags, m.keywords);
            FILE* f = fopen(tmp.c_str(), "wb");
            if (f == nullptr) {
                fail(env.tool, "cannot create " + tmp, strerror(errno));
                rc = EX_CANTCREAT;
                break;
            }
            LfWriter w(f, false, {});
            st = read_message(*mb, m, [&](const char* p, std::size_t n) { w.put(p, n); });
            w.finish();
            const bool bad = ferror(f) != 0;
            fclose(f);
            struct timespec times[2] = {{static_cast<time_t>(m.internal_date), 0},
                                        {static_cast<time_t>(m.internal_date), 0}};
            if (bad || utimensat(AT_FDCWD, tmp.c_str(), times, 0) != 0 ||
                ::rename(tmp.c_str(), dst.c_str()) != 0) {
                fail(env.tool, "cannot write " + dst, strerror(errno));
                rc = EX_IOERR;
                break;
            }
        }
        if (st != Status::Ok) {
            fail(env.tool, "cannot read message " + std::to_string(seq), status_text(st));
            rc = EX_IOERR;
            break;
        }
        ++written;
    }
    if (rc == 0 && o.mbox.empty() && keyword_mask != 0) {
        FILE* f = fopen((o.maildir + "/dovecot-keywords").c_str(), "wb");
        if (f != nullptr) {
            for (unsigned b = 0; b < 26 && b < mb->keyword_count(); ++b) {
                const std::string_view k = mb->keyword_name(b);
                if (store::hidden_keyword(k)) continue;
                fprintf(f, "%u %.*s\n", b, static_cast<int>(k.size()), k.data());
            }
            fclose(f);
        }
    }
    mb->detach(view);
    us->close(mb);
    if (mbox == stdout) fflush(stdout);
    if (mbox != nullptr && mbox != stdout && fclose(mbox) != 0 && rc == 0) {
        fail(env.tool, "cannot write " + o.mbox, strerror(errno));
        rc = EX_IOERR;
    }
    if (rc == 0 && mbox != stdout) {
        outs("exported " + std::to_string(written) + " messages from " + o.mailbox + "\n");
    }
    return rc;
}

namespace {

// ---- check ----------------------------------------------------------------------

constexpr std::string_view kCheckUsage =
    "usage: tinyimapd check (-u USER | --all) [--config FILE] [--key=value ...]\n";

struct Names final : store::ListVisitor {
    std::vector<std::pair<std::string, std::uint8_t>> names;
    bool mailbox(std::string_view name, std::uint8_t attributes) override {
        names.emplace_back(std::string(name), attributes);
        return true;
    }
};

struct FileState {
    bool exists = false;
    ino_t inode = 0;
    off_t size = 0;
};

FileState file_state(const std::string& path) {
    struct stat st;
    FileState s;
    if (::lstat(path.c_str(), &st) == 0) {
        s.exists = true;
        s.inode = st.st_ino;
        s.size = st.st_size;
    }
    return s;
}

// The version of the index at `path` as its first state slot says (0 if
// unreadable): opening upgrades version 1 (docs/STORAGE.md).
unsigned index_version(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return 0;
    unsigned char b[6] = {};
    const bool ok = ::pread(fd, b, sizeof b, 0) == static_cast<ssize_t>(sizeof b);
    ::close(fd);
    return ok ? static_cast<unsigned>(b[4] | (b[5] << 8)) : 0;
}

// RFC 5464 annotations (docs/STORAGE.md "Metadata"): every record of the
// metadata file at `path` read and its CRC checked; *note says how many (or
// what is wrong) when there is a file. Returns an exit code.
int check_meta(Env& env, const std::string& path, std::string* note) {
    std::size_t records = 0;
    const Status st = store::meta_check(env.registry->services().fs, path, &records);
    note->clear();
    if (st == Status::Ok) {
        if (records > 0) *note = std::to_string(records) + " annotations";
        return 0;
    }
    *note = "PROBLEM: annotations unreadable (" + std::string(status_text(st)) + ")";
    return st == Status::Invalid ? EX_DATAERR : EX_IOERR;
}

// Checks one user; returns the worst exit code (0 if all is well or repaired).
int check_user(Env& env, const std::string& user) {
    const std::string root = user_root(env, user);
    struct stat rs;
    if (::stat(root.c_str(), &rs) != 0) {
        outs(user + ": no mail directory yet\n");
        return 0;
    }
    store::UserStore us(*env.registry, root);
    Names names;
    Status st = us.list("", "*", names);
    if (st != Status::Ok) {
        fail(env.tool, user + ": cannot list mailboxes", status_text(st));
        return EX_IOERR;
    }
    int worst = 0;
    for (const auto& [name, attrs] : names.names) {
        store::Path dir;
        if (us.mailbox_dir(name, &dir) != Status::Ok) continue;
        // RFC 4314: m.acl (STORAGE.md "m.acl"); a bad one is read as the
        // owner's alone, so it shares nothing until it is set again.
        store::Acl acl;
        if (store::read_acl(env.fs, dir.view(), user, &acl) == Status::Invalid) {
            outs(user + "/" + name +
                 ": PROBLEM: m.acl is not valid (shared with nobody until set again with "
                 "tinyimapd acl)\n");
            worst = std::max(worst, EX_DATAERR);
        }
        if (attrs & store::kNoselect) continue;
        const std::string d(dir.view());
        const FileState index0 = file_state(d + "/m.index");
        const FileState data0 = file_state(d + "/m.data");
        const bool old_index = index_version(d + "/m.index") == store::kIndexVersion1;
        const bool leftovers = file_state(d + "/m.data.new").exists ||
                               file_state(d + "/m.index.new").exists ||
                               file_state(d + "/m.reset").exists;
        store::Mailbox* mb = nullptr;
        st = open_mailbox(env, us, name, &mb);
        std::string line = user + "/" + name + ": ";
        if (st != Status::Ok) {
            line += "PROBLEM: cannot open (" + std::string(status_text(st)) + ")";
            if (st == Status::Io) line += "; the data file's header is damaged or unreadable";
            outs(line + "\n");
            const int code = st == Status::Busy ? EX_TEMPFAIL
                             : st == Status::Io ? EX_DATAERR
                                                : EX_IOERR;
            worst = std::max(worst, code);
            continue;
        }
        store::StatusInfo info;
        (void)mb->status(&info);
        // Read every message back (catches unreadable or short data).
        store::View view;
        mb->attach(view, true);
        std::uint32_t unreadable = 0;
        std::uint64_t bytes = 0;
        for (std::uint32_t seq = 1; seq <= view.exists; ++seq) {
            store::MessageInfo m;
            if (mb->message(view, seq, &m) != Status::Ok ||
                read_message(*mb, m, [&](const char*, std::size_t n) { bytes += n; }) !=
                    Status::Ok) {
                ++unreadable;
            }
        }
        mb->detach(view);
        us.close(mb);
        const FileState index1 = file_state(d + "/m.index");
        const FileState data1 = file_state(d + "/m.data");
        std::vector<std::string> repairs;
        if (!index0.exists) {
            repairs.push_back("index was missing: rebuilt from the data file");
        } else if (index1.inode != index0.inode && old_index &&
                   index_version(d + "/m.index") == store::kIndexVersion) {
            repairs.push_back("index upgraded to version 2 (save dates, object ids)");
        } else if (index1.inode != index0.inode) {
            repairs.push_back("index rebuilt");
        }
        if (data0.exists && data1.size < data0.size) {
            repairs.push_back("uncommitted tail of " + std::to_string(data0.size - data1.size) +
                              " bytes removed");
        }
        if (leftovers) repairs.push_back("interrupted operation finished or cleaned up");
        line += std::to_string(info.messages) + " messages, UIDVALIDITY " +
                std::to_string(info.uid_validity) + ", UIDNEXT " + std::to_string(info.uid_next);
        if (unreadable > 0) {
            line += "; PROBLEM: " + std::to_string(unreadable) + " messages unreadable";
            worst = std::max(worst, EX_IOERR);
        } else if (bytes != info.size) {
            line += "; PROBLEM: message sizes add up to " + std::to_string(bytes) + ", not " +
                    std::to_string(info.size);
            worst = std::max(worst, EX_DATAERR);
        }
        std::string note;
        worst = std::max(worst, check_meta(env, d + "/" + std::string(store::kMetaFile), &note));
        if (!note.empty()) line += "; " + note;
        if (repairs.empty()) {
            line += "; ok";
        } else {
            line += "; repaired:";
            for (std::size_t i = 0; i < repairs.size(); ++i) {
                line += (i == 0 ? " " : ", ") + repairs[i];
            }
        }
        outs(line + "\n");
    }
    std::string note;
    worst = std::max(worst, check_meta(env, root + "/" + std::string(store::kUserMetaFile), &note));
    if (!note.empty()) outs(user + " (server annotations): " + note + "\n");
    return worst;
}

}  // namespace

int run_check(int argc, char** argv) {
    Env env;
    env.tool = "check";
    Options o;
    int rc = parse(env, argc, argv, "u,all", &o, kCheckUsage);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (o.user.empty() == !o.all) {
        fail(env.tool, "give one of -u USER or --all");
        errs(kCheckUsage);
        return EX_USAGE;
    }
    std::vector<std::string> users;
    if (o.all) {
        // The user list is read before setup() may chroot away from it.
        if ((rc = setup(env, &users)) != 0) return rc;
    } else {
        if ((rc = setup(env)) != 0) return rc;
        PasswdEntry e;
        if (!valid_user_name(o.user) || !env.passwd->lookup(o.user, &e)) {
            fail(env.tool, "unknown user", o.user);
            return EX_NOUSER;
        }
        users.push_back(o.user);
    }
    int worst = 0;
    for (const std::string& u : users) worst = std::max(worst, check_user(env, u));
    std::string note, server = user_root(env, store::kServerMetaFile);
    worst = std::max(worst, check_meta(env, server, &note));
    if (!note.empty()) outs("shared server annotations: " + note + "\n");
    return worst;
}

namespace {

constexpr std::string_view kAclUsage =
    "usage: tinyimapd acl -u USER [-m MAILBOX] [IDENTIFIER [[+|-]RIGHTS | --delete]]\n"
    "       [--config FILE] [--key=value ...]\n";

void print_acl(const store::Acl& acl) {
    for (std::size_t i = 0; i < acl.count; ++i) {
        FixedText<32> rights;
        store::write_rights(rights, acl.entries[i].rights, false);
        outs(std::string(acl.entries[i].id.view()) + " " + std::string(rights.view()) + "\n");
    }
}

// SETACL's rule (RFC 4314 §3.1): "+" adds, "-" removes, else replaces; the
// owner keeps l and a (§2). False for an unknown right.
bool apply_rights(store::Acl& acl, const std::string& owner, const std::string& id,
                  std::string_view change, bool remove) {
    const char mod = change.empty() ? '\0' : change[0];
    if (mod == '+' || mod == '-') change.remove_prefix(1);
    store::Rights given = 0;
    if (!remove && !store::parse_rights(change, &given)) return false;
    return acl.change(id, owner, mod, given, remove);
}

}  // namespace

int run_acl(int argc, char** argv) {
    Env env;
    env.tool = "acl";
    Options o;
    int rc = parse(env, argc, argv, "u,m,args", &o, kAclUsage);
    if (rc != 0) return rc < 0 ? 0 : rc;
    const bool remove = !o.args.empty() && o.args.back() == "--delete";
    if (remove) o.args.pop_back();
    if (o.user.empty() || o.args.size() > 2 || (remove && o.args.size() != 1)) {
        errs(kAclUsage);
        return EX_USAGE;
    }
    if ((rc = setup(env)) != 0) return rc;
    PasswdEntry pe;
    if (!valid_user_name(o.user) || !env.passwd->lookup(o.user, &pe)) {
        fail(env.tool, "unknown user", o.user);
        return EX_NOUSER;
    }
    const std::string root = user_root(env, o.user);  // UserStore keeps a view of it
    store::UserStore us(*env.registry, root);
    store::Path dir;
    port::FileInfo info;
    if (us.mailbox_dir(o.mailbox, &dir) != Status::Ok ||
        env.fs.stat(dir.view(), &info) != Status::Ok) {
        fail(env.tool, "no such mailbox", o.mailbox);
        return EX_DATAERR;
    }
    store::Acl acl;
    const Status st = store::read_acl(env.fs, dir.view(), o.user, &acl);
    if (st != Status::Ok && st != Status::NotFound && st != Status::Invalid) {
        fail(env.tool, "cannot read the ACL", status_text(st));
        return EX_IOERR;
    }
    if (o.args.empty()) {
        print_acl(acl);
        return 0;
    }
    const std::string& id = o.args[0];
    if (!store::valid_identifier(id)) {
        fail(env.tool, "not a valid identifier (negative rights are not supported)", id);
        return EX_USAGE;
    }
    if (o.args.size() == 1 && !remove) {
        const store::Rights r = acl.rights_of(id, o.user);
        FixedText<32> letters;
        store::write_rights(letters, r, false);
        outs(id + " " + std::string(letters.view()) + "\n");
        return 0;
    }
    if (!apply_rights(acl, o.user, id, remove ? std::string_view() : o.args[1], remove)) {
        fail(env.tool, "unknown right or too many identifiers", remove ? id : o.args[1]);
        return EX_USAGE;
    }
    const Status w = store::write_acl(env.fs, dir.view(), acl);
    if (w != Status::Ok) {
        fail(env.tool, "cannot write the ACL", status_text(w));
        return EX_IOERR;
    }
    print_acl(acl);
    return 0;
}

}  // namespace tinyimapd::posix
