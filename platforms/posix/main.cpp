// tinyimapd: the program. One multi-call binary (BusyBox-style) to keep flash
// use small; the first argument picks the subcommand:
//
//   tinyimapd [serve] [--config FILE] [--key=value ...]   the IMAP server
//   tinyimapd demo [--key=value ...]                      a demo server on
//       127.0.0.1:1143 with a demo user whose password is printed at start
//   tinyimapd passwd [-s SCHEME] [-u USER]                a passwd-file line
//   tinyimapd deliver | import | export | check           the store's tools
//       (platforms/posix/cmd_tools.h, docs/TOOLS.md)
//
// Exit codes (sysexits.h): 0 ok, 64 bad command line, 66 config file missing,
// 69 address in use, 77 no permission, 78 bad configuration, 71 other OS
// errors. See README.md for the configuration keys.
//
// This file owns everything process-wide: signals, daemonizing, the one
// memory reservation made at startup.
#include <fcntl.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string_view>

#include "core/base/assert.h"
#include "core/base/text.h"
#include "core/base/version.h"
#include "core/server/config.h"
#include "core/server/server.h"
#include "platforms/posix/clock_posix.h"
#include "platforms/posix/cmd_passwd.h"
#include "platforms/posix/cmd_tools.h"
#include "platforms/posix/entropy_posix.h"
#include "platforms/posix/fs_posix.h"
#include "platforms/posix/log_posix.h"
#include "platforms/posix/net_posix.h"
#include "platforms/posix/privileges.h"
#include "platforms/posix/signals_posix.h"
#if defined(TINYIMAPD_TLS) && TINYIMAPD_TLS
#include "platforms/posix/mbedtls_compat.h"
#include "platforms/posix/password_mbedtls.h"
#include "platforms/posix/tls_mbedtls.h"
#endif
#if defined(TINYIMAPD_COMPRESS) && TINYIMAPD_COMPRESS
#include "platforms/posix/compress_zlib.h"
#endif

namespace tinyimapd::posix {
namespace {

// Config files are small; a larger one is an error, not a reason to grow.
constexpr std::size_t kConfigFileMax = 64 * 1024;
// How long a shutdown waits for clients to take their "* BYE": short enough
// that SIGTERM is honoured within a second even when a client reads nothing
// (a client that reads gets its BYE within milliseconds).
constexpr std::uint64_t kShutdownGraceMs = 500;

char g_config_scratch[kConfigFileMax];

void out(std::string_view s) {
    (void)!::write(1, s.data(), s.size());
}
void err(std::string_view s) {
    (void)!::write(2, s.data(), s.size());
}

// A failed TINYIMAPD_ASSERT (core/base/assert.h, checked builds only): say
// which, then abort for a core dump.
void report_assert(const char* expression, const char* file, int line) {
    FixedText<512> w;
    w.put("tinyimapd: assertion failed: ").put(expression).put(" (").put(file).put(':');
    w.put_uint(static_cast<std::uint64_t>(line)).put(")\n");
    err(w.view());
    abort();
}

constexpr std::string_view kUsage =
    "usage: tinyimapd [serve] [--config FILE] [--key=value ...]\n"
    "       tinyimapd demo [--key=value ...]\n"
    "       tinyimapd passwd [-s SCHEME] [-u USER] < password\n"
    "       tinyimapd deliver -u USER [-m MAILBOX] [--create] < message\n"
    "       tinyimapd import|export -u USER [-m MAILBOX] (--mbox FILE | --maildir DIR)\n"
    "       tinyimapd check (-u USER | --all)\n"
    "       tinyimapd acl -u USER [-m MAILBOX] [IDENTIFIER [[+|-]RIGHTS | --delete]]\n"
    "       tinyimapd --check-config [--config FILE] [--key=value ...]\n"
    "       tinyimapd --print-layout [--config FILE] [--key=value ...]\n"
    "       tinyimapd --version | --help\n"
    "\n"
    "Subcommands:\n"
    "  serve   run the IMAP server (the default)\n"
    "  demo    run a demo server: user 'demo' with a random password printed\n"
    "          at start, mail in ./demo/mail, on 127.0.0.1:1143, in the foreground\n"
    "  passwd  read a password on stdin, print it hashed for the passwd file\n"
    "          (default scheme SHA512-CRYPT)\n"
    "  deliver deliver one message from stdin (an MDA for Postfix, Exim, fetchmail)\n"
    "  import  copy an mbox file or a Maildir folder into a mailbox\n"
    "  export  write a mailbox out as mbox or Maildir\n"
    "  check   verify and repair a user's mailboxes\n"
    "  acl     list or set who may do what with a mailbox (RFC 4314 rights)\n"
    "The tools take --config FILE and --key=value like serve. See docs/TOOLS.md.\n"
    "\n"
    "Every configuration key is also an option: --mail-dir=DIR is mail_dir = DIR.\n"
    "Keys: listen, mail_dir, passwd_file, plaintext_auth, literal_plus, max_clients,\n"
    "foreground, "
    "log, log_level, login_fail_delay_ms, login_timeout, idle_timeout,\n"
    "max_line_length, max_literal_size, max_append_size, input_buffer,\n"
    "output_buffer, passwd_max_size, tls_listen, tls_cert, tls_key, user, group,\n"
    "chroot. See README.md.\n"
    "\n"
    "Exit codes: 0 ok, 64 usage, 66 config file missing, 69 address in use,\n"
    "77 permission denied, 78 bad configuration, 71 other system error.\n";

int exit_code_for(Status s) {
    switch (s) {
        case Status::AddrInUse: return EX_UNAVAILABLE;
        case Status::Permission: return EX_NOPERM;
        case Status::Invalid: return EX_CONFIG;
        default: return EX_OSERR;
    }
}

void report_config_error(const ConfigError& e) {
    FixedText<600> w;
    w.put("tinyimapd: ");
    config_error_write(e, w);
    w.put('\n');
    err(w.view());
}

bool user_ids(const char* name, uid_t* uid, gid_t* gid) {
    struct passwd pw;
    struct passwd* found = nullptr;
    char buf[1024];
    if (getpwnam_r(name, &pw, buf, sizeof buf, &found) != 0 || found == nullptr) return false;
    *uid = pw.pw_uid;
    *gid = pw.pw_gid;
    return true;
}

// A missing mail_dir is made for the user the server will run as (the
// store writes there after privileges are dropped).
void prepare_mail_dir(const Config& cfg, PosixFs& fs) {
    if (fs.mkdir(cfg.mail_dir.view()) != Status::Ok) return;
    uid_t uid;
    gid_t gid;
    if (running_as_root() && !cfg.user.empty() && user_ids(cfg.user.c_str(), &uid, &gid)) {
        (void)chown(cfg.mail_dir.c_str(), uid, gid);
    }
}

// Writes demo/passwd with user "demo" and a fresh random password (unless
// one exists) and points the configuration at it.
bool prepare_demo(Config& cfg, PosixFs& fs, PosixEntropy& entropy) {
    (void)fs.mkdir("demo");
    (void)fs.mkdir("demo/mail");
    if (!cfg.passwd_file.assign("demo/passwd") || !cfg.mail_dir.assign("demo/mail")) return false;
    cfg.plaintext_auth = true;  // loopback only, see below
    cfg.foreground = true;
    cfg.listen.items[0].assign("127.0.0.1:1143");
    cfg.listen.count = 1;
    // Not as root, even for a demo: its files go to the unprivileged user.
    if (running_as_root() && cfg.user.empty()) cfg.user.assign("nobody");

    port::FileInfo info;
    if (fs.stat("demo/passwd", &info) != Status::Ok) {
        static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
        std::uint8_t random[12];
        if (entropy.fill(random, sizeof random) != Status::Ok) return false;
        FixedText<128> line;
        line.put("demo:{PLAIN}");
        for (std::uint8_t r : random) line.put(kAlphabet[r % 32]);
        line.put("\n");
        Result<port::File> f =
            fs.open("demo/passwd", port::kOpenWrite | port::kOpenCreate | port::kOpenTruncate);
        if (!f.ok()) return false;
        const bool ok = fs.write(f.value, line.view().data(), line.size()).status == Status::Ok &&
                        fs.fsync(f.value) == Status::Ok;
        (void)fs.close(f.value);
        if (!ok) return false;
    }
    if (running_as_root()) {
        uid_t uid;
        gid_t gid;
        if (!user_ids(cfg.user.c_str(), &uid, &gid)) return false;
        for (const char* path : {"demo", "demo/mail", "demo/passwd"}) {
            if (chown(path, uid, gid) != 0) return false;
        }
    }
    return true;
}

void print_demo_banner(PosixFs& fs) {
    char buf[256];
    Result<port::File> f = fs.open("demo/passwd", port::kOpenRead);
    if (!f.ok()) return;
    port::FsResult r = fs.read(f.value, buf, sizeof buf);
    (void)fs.close(f.value);
    std::string_view line(buf, r.status == Status::Ok ? r.bytes : 0);
    const std::size_t brace = line.find('}');
    const std::size_t end = line.find_first_of(":\n", brace == std::string_view::npos ? 0 : brace);
    if (brace == std::string_view::npos) return;
    FixedText<512> w;
    w.put("tinyimapd demo: imap://127.0.0.1:1143  user: demo  password: ")
        .put(line.substr(brace + 1, end - brace - 1))
        .put("  (mail in demo/mail)\n");
    out(w.view());
}

bool daemonize() {
    const pid_t pid = fork();
    if (pid < 0) return false;
    if (pid > 0) _exit(0);
    if (setsid() < 0) return false;
    const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd >= 0) {
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        close(null_fd);
    }
    return true;
}

#if defined(TINYIMAPD_TLS) && TINYIMAPD_TLS
// The TLS engine and the block its sessions live in, which must outlive it.
struct TlsSetup {
    struct Reservation {
        void* block = nullptr;
        ~Reservation() { free(block); }
    };
    Reservation reservation;  // declared first: destroyed after `tls`
    MbedTls tls;
    explicit TlsSetup(PosixLog& log) : tls(log) {}
};

// STARTTLS on every plain listener, implicit TLS on tls_listen (RFC 8314).
// Without tls_cert/tls_key, a self-signed pair is made at first start under
// mail_dir/.tls/ (mode 0600) and kept. 0, or the exit code.
int start_tls(const Config& cfg, TlsSetup& setup, port::Platform& platform) {
    // A pool of engines lent to connections (tls_sessions), not one per slot.
    const std::size_t engines = Server::tls_engines(cfg);
    const std::size_t tls_size = MbedTls::memory_needed(engines);
    setup.reservation.block = malloc(tls_size);
    MbedTls& tls = setup.tls;
    FixedText<port::kMaxPath> cert_path, key_path;
    const bool generated = cfg.tls_cert.empty() && cfg.tls_key.empty();
    if (generated) {
        cert_path.put(cfg.mail_dir.view()).put("/.tls/cert.pem");
        key_path.put(cfg.mail_dir.view()).put("/.tls/key.pem");
    } else {
        cert_path.put(cfg.tls_cert.view());
        key_path.put(cfg.tls_key.view());
    }
    char hostname[256] = "tinyimapd";
    (void)gethostname(hostname, sizeof hostname - 1);
    if (!cert_path.ok() || !key_path.ok() ||
        tls.load_credentials({cert_path.view(), key_path.view(), generated, hostname}) !=
            Status::Ok) {
        FixedText<512> m;
        m.put("tinyimapd: TLS: ").put(tls.error_text()).put('\n');
        err(m.view());
        return EX_CONFIG;
    }
    if (setup.reservation.block == nullptr ||
        tls.init(setup.reservation.block, tls_size, engines) != Status::Ok) {
        err("tinyimapd: TLS: cannot set up tls_sessions engines; lower it\n");
        return EX_OSERR;
    }
    platform.tls = &tls;
    if (!cfg.prefault) {
        // Reserved, not resident until an engine is lent (docs/DESIGN.md
        // "Memory reserved, touched on use"); the heap that loading the
        // credentials used and freed goes back too.
        (void)tls.release_record_pages();
#if defined(__GLIBC__)
        (void)malloc_trim(0);
#endif
    }
    return 0;
}
#endif

#if defined(TINYIMAPD_COMPRESS) && TINYIMAPD_COMPRESS
// The COMPRESS engines and the block they live in, which must outlive them.
struct ZlibSetup {
    struct Reservation {
        void* block = nullptr;
        ~Reservation() { free(block); }
    };
    Reservation reservation;  // declared first: destroyed after `zlib`
    ZlibCompress zlib;
};

// COMPRESS=DEFLATE (RFC 4978): compress_sessions zlib engines, each with
// its own arena, in one block reserved now (malloc maps a block this large
// untouched: its pages become resident when an engine is first lent; with
// prefault = yes now). 0, or the exit code.
int start_compress(const Config& cfg, ZlibSetup& setup, port::Platform& platform) {
    const std::size_t engines = Server::compress_engines(cfg);
    if (engines == 0) return 0;
    const std::size_t size = ZlibCompress::memory_needed(engines);
    setup.reservation.block = malloc(size);
    if (setup.reservation.block != nullptr && cfg.prefault)
        memset(setup.reservation.block, 0, size);
    if (setup.reservation.block == nullptr ||
        setup.zlib.init(setup.reservation.block, size, engines) != Status::Ok) {
        err("tinyimapd: cannot reserve memory for compress_sessions; lower it\n");
        return EX_OSERR;
    }
    platform.compress = &setup.zlib;
    return 0;
}

// The engines' bytes, for the startup line's total, and " (COMPRESS: n
// engines, k KiB)" after `w`.
std::size_t note_compress(const ZlibSetup& setup, TextWriter& w) {
    const std::size_t engines = setup.zlib.count();
    const std::size_t bytes = ZlibCompress::memory_needed(engines);
    if (engines > 0) {
        w.put(" (COMPRESS: ").put_uint(engines).put(" engines, ").put_uint(bytes / 1024);
        w.put(" KiB)");
    }
    return bytes;
}
#endif

// Loads the users and binds the listeners. 0, or the exit code.
int open_server(Server& server, const Config& cfg) {
    FixedText<512> w;
    const Status passwd_status = server.load_passwd();
    if (passwd_status != Status::Ok) {
        w.put("tinyimapd: ").put(cfg.passwd_file.view());
        if (server.passwd_error_line() != 0) w.put(':').put_uint(server.passwd_error_line());
        w.put(": ").put(status_text(passwd_status)).put('\n');
        err(w.view());
        return passwd_status == Status::NotFound ? EX_NOINPUT : EX_CONFIG;
    }
    const Status listen_status = server.open_listeners();
    if (listen_status != Status::Ok) {
        w.put("tinyimapd: cannot listen on ")
            .put(server.failed_address())
            .put(": ")
            .put(status_text(listen_status))
            .put('\n');
        err(w.view());
        return exit_code_for(listen_status);
    }
    return 0;
}

// Ports are bound: now give up root (DESIGN.md "Users, authentication,
// TLS"). A server left running as root is refused outright. 0, or the exit
// code.
int give_up_root(const Config& cfg) {
    if (running_as_root() && cfg.user.empty()) {
        err("tinyimapd: refusing to serve as root; set 'user' (and 'group') in the "
            "configuration\n");
        return EX_CONFIG;
    }
    FixedText<300> privilege_error;
    const Status dropped =
        drop_privileges(cfg.user.view(), cfg.group.view(), cfg.chroot.view(), privilege_error);
    if (dropped == Status::Ok) return 0;
    FixedText<512> w;
    w.put("tinyimapd: ").put(privilege_error.view()).put('\n');
    err(w.view());
    return dropped == Status::NotFound || dropped == Status::Invalid ? EX_CONFIG
                                                                     : exit_code_for(dropped);
}

// The loop, until SIGTERM; SIGHUP reloads the passwd file.
void run_until_terminated(Server& server, const Config& cfg, PosixLog& log) {
    FixedText<512> w;
    for (;;) {
        (void)server.run_once();
        if (PosixSignals::take_reload()) {
            const Status s = server.load_passwd();
            w.clear();
            w.put("SIGHUP: passwd file ").put(cfg.passwd_file.view());
            if (s == Status::Ok) {
                w.put(" reloaded, ").put_uint(server.user_count()).put(" users");
            } else {
                w.put(" not reloaded (").put(status_text(s)).put("), keeping the old users");
            }
            log.write(s == Status::Ok ? port::LogLevel::Info : port::LogLevel::Error, w.view());
        }
        if (PosixSignals::take_terminate()) break;
    }
}

// RFC 3501 §7.1.5: tell every client why it is being disconnected.
void shut_down(Server& server, PosixClock& clock, PosixLog& log) {
    log.write(port::LogLevel::Info, "shutting down");
    server.begin_shutdown("Server shutting down");
    const std::uint64_t give_up = clock.monotonic_ms() + kShutdownGraceMs;
    while (server.connection_count() > 0 && clock.monotonic_ms() < give_up) {
        (void)server.run_once(100);
    }
    server.close_all();
}

// Checks what can be checked before anything is opened. 0, or the exit code.
int prepare(Config& cfg, bool demo, PosixFs& fs, PosixEntropy& entropy) {
    if (demo && !prepare_demo(cfg, fs, entropy)) {
        err("tinyimapd: cannot create the demo files under ./demo\n");
        return EX_CANTCREAT;
    }
    ConfigError e{};
    if (!config_validate(cfg, &e)) {
        report_config_error(e);
        return EX_CONFIG;
    }
    if (PosixSignals::install() != Status::Ok) {
        err("tinyimapd: cannot install signal handlers\n");
        return EX_OSERR;
    }
    prepare_mail_dir(cfg, fs);
    return 0;
}

// The I/O threads of the store's flushes: after fork() (which keeps only
// the calling thread). Without them the loop flushes itself. How many run.
std::size_t start_io_threads(const Config& cfg, PosixFs& fs, PosixLog& log) {
    if (cfg.io_threads > 0 && fs.start_flush_threads(cfg.io_threads) != Status::Ok) {
        log.write(port::LogLevel::Warning, "no I/O threads could be started: flushing in the loop");
        return 0;
    }
    return cfg.io_threads;
}

// The one reservation: every buffer and slot the server will ever use,
// committed now (a private writable mapping: the kernel refuses it here, not
// later, when it cannot promise the memory). Its pages become resident as
// they are first used, up to `size` and never beyond; with prefault = yes all
// of them now. `block` is MAP_FAILED if the kernel refused.
struct Reservation {
    void* block;
    std::size_t size;
    Reservation(std::size_t bytes, bool prefault)
        : block(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)),
          size(bytes) {
        if (!prefault || block == MAP_FAILED) return;
        // Through a volatile pointer, which no compiler may drop.
        volatile unsigned char* page = static_cast<volatile unsigned char*>(block);
        for (std::size_t at = 0; at < size; at += 4096) page[at] = 0;
    }
    ~Reservation() {
        if (block != MAP_FAILED) munmap(block, size);
    }
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
};

int serve(Config& cfg, bool demo) {
    PosixNet net;
    PosixFs fs;
    PosixClock clock;
    PosixEntropy entropy;
    PosixLog log(cfg.log == tinyimapd::LogTarget::Syslog ? LogTarget::Syslog : LogTarget::Stderr,
                 cfg.log_level);
    port::Platform platform{net, fs, clock, entropy, log};
#if defined(TINYIMAPD_TLS) && TINYIMAPD_TLS
    MbedPassword password_hasher(entropy);
    platform.password = &password_hasher;
#endif
    if (const int code = prepare(cfg, demo, fs, entropy); code != 0) return code;
#if defined(TINYIMAPD_TLS) && TINYIMAPD_TLS
    TlsSetup tls(log);  // the sessions live in its block; it outlives the server
    if (const int code = start_tls(cfg, tls, platform); code != 0) return code;
#endif
#if defined(TINYIMAPD_COMPRESS) && TINYIMAPD_COMPRESS
    ZlibSetup zlib;  // the engines live in its block; it outlives the server
    if (const int code = start_compress(cfg, zlib, platform); code != 0) return code;
#endif

    const std::size_t size = Server::memory_needed(cfg);
    const Reservation reservation(size, cfg.prefault);
    if (reservation.block == MAP_FAILED) {
        err("tinyimapd: cannot reserve memory for max_clients; lower it\n");
        return EX_OSERR;
    }
    void* block = reservation.block;  // zeros, as mmap gives them
    Server server(platform, cfg, block, size);
    if (const int code = open_server(server, cfg); code != 0) return code;
    if (const int code = give_up_root(cfg); code != 0) return code;
    if (demo) print_demo_banner(fs);
    if (!cfg.foreground && !daemonize()) {
        err("tinyimapd: cannot detach from the terminal\n");
        return EX_OSERR;
    }
    const std::size_t io_threads = start_io_threads(cfg, fs, log);
    // M counts everything reserved: the server's block, the I/O threads'
    // stacks, and with TLS the engines' block and the heap mbedTLS took for
    // them at init().
    std::size_t reserved = size + io_threads * FlushPool::kStackBytes;
    FixedText<192> tls_part;
#if defined(TINYIMAPD_TLS) && TINYIMAPD_TLS
    const std::size_t tls_bytes =
        MbedTls::memory_needed(tls.tls.slot_count()) + tls.tls.heap_bytes();
    reserved += tls_bytes;
    tls_part.put(" (TLS: ").put_uint(tls.tls.slot_count()).put(" engines, ");
    tls_part.put_uint(tls_bytes / 1024).put(" KiB");
    tls_part.put(tls.tls.heap_measured() ? ")" : ", heap estimated)");
#endif
#if defined(TINYIMAPD_COMPRESS) && TINYIMAPD_COMPRESS
    reserved += note_compress(zlib, tls_part);
#endif
    FixedText<512> w;
    w.put("tinyimapd " TINYIMAPD_VERSION " started: ").put_uint(server.user_count());
    w.put(" users, ").put_uint(cfg.max_clients).put(" client slots, ");
    w.put_uint(reserved / 1024).put(" KiB reserved").put(tls_part.view());
    if (io_threads > 0) {
        w.put(" (I/O: ").put_uint(io_threads).put(" threads, ");
        w.put_uint(io_threads * FlushPool::kStackBytes / 1024).put(" KiB of stacks)");
    }
    log.write(port::LogLevel::Info, w.view());
    run_until_terminated(server, cfg, log);
    shut_down(server, clock, log);
    fs.stop_flush_threads();
    return 0;
}

// What a step of run() returns when the program goes on.
constexpr int kGoOn = -1;

// The subcommands other than serve/demo run here; *first is the first
// option's index.
int run_subcommand(int argc, char** argv, bool* demo, int* first) {
    if (argc <= 1 || argv[1][0] == '-') return kGoOn;
    const std::string_view sub = argv[1];
    if (sub == "passwd") return run_passwd(argc - 2, argv + 2);
    if (sub == "deliver") return run_deliver(argc - 2, argv + 2);
    if (sub == "import") return run_import(argc - 2, argv + 2);
    if (sub == "export") return run_export(argc - 2, argv + 2);
    if (sub == "check") return run_check(argc - 2, argv + 2);
    if (sub == "acl") return run_acl(argc - 2, argv + 2);
    if (sub == "demo") {
        *demo = true;
    } else if (sub != "serve") {
        err("tinyimapd: unknown subcommand '");
        err(sub);
        err("'\n");
        err(kUsage);
        return EX_USAGE;
    }
    *first = 2;
    return kGoOn;
}

// The --config files, before the other options (command line wins).
int load_config_files(Config& cfg, PosixFs& fs, int argc, char** argv, int first) {
    ConfigError e{};
    for (int i = first; i < argc; ++i) {
        const std::string_view a = argv[i];
        std::string_view path;
        if (a == "--config") {
            if (i + 1 >= argc) {
                err("tinyimapd: --config needs a file name\n");
                return EX_USAGE;
            }
            path = argv[i + 1];
        } else if (a.substr(0, 9) == "--config=") {
            path = a.substr(9);
        } else {
            continue;
        }
        if (!config_load_file(cfg, fs, path, g_config_scratch, sizeof g_config_scratch, &e)) {
            report_config_error(e);
            port::FileInfo info;
            return fs.stat(path, &info) == Status::NotFound ? EX_NOINPUT : EX_CONFIG;
        }
    }
    return kGoOn;
}

void print_version() {
    out("tinyimapd " TINYIMAPD_VERSION "\n");
    // The TLS library and the protocol versions offered (tests and
    // packagers read this line).
#if defined(TINYIMAPD_TLS) && TINYIMAPD_TLS
    out("TLS: ");
    out(mbedtls_compat::kLibraryText);
    out("\n");
#else
    out("TLS: none\n");
#endif
}

// The options other than --config, over what the files set.
int apply_options(Config& cfg, int argc, char** argv, int first, bool* check_only,
                  bool* print_layout) {
    ConfigError e{};
    for (int i = first; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--config") {
            ++i;
            continue;
        }
        if (a.substr(0, 9) == "--config=") continue;
        if (a == "--help" || a == "-h") {
            out(kUsage);
            return 0;
        }
        if (a == "--version" || a == "-V") {
            print_version();
            return 0;
        }
        if (a == "--check-config") {
            *check_only = true;
            continue;
        }
        if (a == "--print-layout") {
            *print_layout = true;
            continue;
        }
        if (!config_apply_option(cfg, a, &e)) {
            report_config_error(e);
            return a.substr(0, 2) == "--" ? EX_CONFIG : EX_USAGE;
        }
    }
    return kGoOn;
}

// --print-layout: the memory a server of this configuration reserves, item
// by item (Server::write_layout, the code that lays the block out).
int print_layout(const Config& cfg) {
    static char text[16 * 1024];
    TextWriter w(text, sizeof text);
    Server::write_layout(cfg, w);
#if defined(TINYIMAPD_TLS) && TINYIMAPD_TLS
    // Outside the block: the TLS engines (tls_sessions), their own block and
    // the heap mbedTLS takes for each at startup.
    const std::size_t engines = Server::tls_engines(cfg);
    w.put("TLS, outside the block: ").put_uint(engines).put(" engines (tls_sessions), ");
    w.put_uint(MbedTls::memory_needed(engines)).put(" bytes of MbedTlsSession and about ");
    w.put_uint(engines * 37).put(" KiB of mbedTLS heap (measured at start, in the startup ");
    w.put("line's total)\n");
#endif
#if defined(TINYIMAPD_COMPRESS) && TINYIMAPD_COMPRESS
    // Outside the block too: the COMPRESS engines (zlib, fixed arenas).
    const std::size_t z_engines = Server::compress_engines(cfg);
    w.put("COMPRESS, outside the block: ").put_uint(z_engines);
    w.put(" engines (compress_sessions), ").put_uint(ZlibCompress::memory_needed(z_engines));
    w.put(" bytes (").put_uint(sizeof(ZlibSession)).put(" each: zlib's arena, input and output)\n");
#endif
    out(w.view());
    return 0;
}

// --check-config: the configuration in effect, or why it is invalid.
int check_config(const Config& cfg) {
    ConfigError e{};
    if (!config_validate(cfg, &e)) {
        report_config_error(e);
        return EX_CONFIG;
    }
    static char text[32 * 1024];
    TextWriter w(text, sizeof text);
    config_write(cfg, w);
    out(w.view());
    return 0;
}

int run(int argc, char** argv) {
    int first = 1;
    bool demo = false;
    if (const int code = run_subcommand(argc, argv, &demo, &first); code != kGoOn) return code;
    Config cfg;
    // `log` stays "not given" unless a source sets it; then a detached server
    // logs to syslog, one in the foreground to stderr (resolved below).
    constexpr auto kLogNotGiven = static_cast<tinyimapd::LogTarget>(0xFF);
    cfg.log = kLogNotGiven;
    PosixFs fs;
    if (const int code = load_config_files(cfg, fs, argc, argv, first); code != kGoOn) {
        return code;
    }
    bool check_only = false, layout = false;
    if (const int code = apply_options(cfg, argc, argv, first, &check_only, &layout);
        code != kGoOn) {
        return code;
    }
    if (cfg.log == kLogNotGiven) {
        cfg.log =
            cfg.foreground || demo ? tinyimapd::LogTarget::Stderr : tinyimapd::LogTarget::Syslog;
    }
    if (layout) return print_layout(cfg);
    if (check_only) return check_config(cfg);
    return serve(cfg, demo);
}

}  // namespace
}  // namespace tinyimapd::posix

int main(int argc, char** argv) {
    tinyimapd::set_assert_handler(tinyimapd::posix::report_assert);
    return tinyimapd::posix::run(argc, argv);
}
