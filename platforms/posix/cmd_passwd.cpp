#include "platforms/posix/cmd_passwd.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <unistd.h>

#include "platforms/posix/entropy_posix.h"

// Built with mbedTLS: the hashed schemes. Without it (TINYIMAPD_TLS=OFF,
// password_mbedtls.cpp left out) only PLAIN/CLEARTEXT can be written.
#if defined(TINYIMAPD_TLS) && TINYIMAPD_TLS
#include "platforms/posix/password_mbedtls.h"
#define TINYIMAPD_HAVE_HASHER 1
#else
#define TINYIMAPD_HAVE_HASHER 0
#endif

namespace tinyimapd::posix {
namespace {

constexpr std::string_view kDefaultScheme = "SHA512-CRYPT";
// "{SCHEME}" plus the longest hash any scheme writes, with room to spare.
constexpr std::size_t kHashMax = 512;

constexpr std::string_view kUsage =
    "usage: tinyimapd passwd [-s SCHEME] [-u USER]\n"
    "\n"
    "Reads a password (one line) from stdin and prints its hash for the\n"
    "passwd file: \"{SCHEME}hash\", or with -u the line \"USER:{SCHEME}hash\".\n"
    "On a terminal it asks twice, without echo.\n"
    "\n"
    "  -s SCHEME  SHA512-CRYPT (default), SHA256-CRYPT, PBKDF2, SSHA512,\n"
    "             SSHA256, SHA512, SHA256, or PLAIN\n"
    "  -u USER    print a whole passwd-file line for USER\n"
    "\n"
    "Exit codes: 0 ok, 64 usage, 65 bad password (empty, entries differ).\n";

// Names a passwd-file line and a directory under mail_dir can hold (the
// rules of core/auth/passwd.h, plus no ':' which would end the field).
bool valid_user(std::string_view user) {
    if (user.empty() || user == "." || user == "..") return false;
    for (char c : user) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '/' || c == ':' || u < 0x20 || u == 0x7F) return false;
    }
    return true;
}

int usage_error(TextWriter& err, std::string_view what, std::string_view arg) {
    err.put(what);
    if (!arg.empty()) err.put(" '").put(arg).put('\'');
    err.put('\n').put(kUsage);
    return EX_USAGE;
}

int data_error(TextWriter& err, std::string_view what) {
    err.put(what).put('\n');
    return EX_DATAERR;
}

// ---------------------------------------------------------------------------
// Reading the password.

// The terminal's settings while echo is off, for the signal handler.
struct termios g_saved_tty;
volatile sig_atomic_t g_tty_changed = 0;

constexpr int kCaughtSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP};

// Ctrl-C at the prompt must not leave the terminal without echo.
extern "C" void restore_tty_and_exit(int sig) {
    if (g_tty_changed != 0) (void)tcsetattr(0, TCSAFLUSH, &g_saved_tty);
    (void)!write(2, "\n", 1);
    _exit(128 + sig);
}

enum class ReadResult : std::uint8_t { Ok, TooLong, Error };

// One line from fd 0 without its LF or CRLF; reads byte by byte so that
// nothing after the line is consumed. EOF ends the line too.
ReadResult read_line(char* buf, std::size_t capacity, std::size_t* length) {
    std::size_t n = 0;
    bool too_long = false;
    for (;;) {
        char c;
        const ssize_t r = read(0, &c, 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            return ReadResult::Error;
        }
        if (r == 0 || c == '\n') break;
        if (n < capacity) {
            buf[n++] = c;
        } else {
            too_long = true;
        }
    }
    if (n > 0 && buf[n - 1] == '\r') --n;
    *length = n;
    return too_long ? ReadResult::TooLong : ReadResult::Ok;
}

ReadResult prompt_line(std::string_view prompt, char* buf, std::size_t capacity,
                       std::size_t* length) {
    (void)!write(2, prompt.data(), prompt.size());
    return read_line(buf, capacity, length);
}

// Asks twice with echo off; 0 and the password in `buf`, or an exit code.
int read_from_terminal(char* buf, std::size_t capacity, std::size_t* length, TextWriter& err) {
    static char again[kPasswdCommandMaxPassword];
    struct termios quiet;
    if (tcgetattr(0, &g_saved_tty) != 0) {
        err.put("cannot read the terminal's settings\n");
        return EX_IOERR;
    }
    quiet = g_saved_tty;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = restore_tty_and_exit;
    sigemptyset(&action.sa_mask);
    struct sigaction previous[sizeof kCaughtSignals / sizeof kCaughtSignals[0]];
    for (std::size_t i = 0; i < sizeof kCaughtSignals / sizeof kCaughtSignals[0]; ++i) {
        (void)sigaction(kCaughtSignals[i], &action, &previous[i]);
    }
    g_tty_changed = 1;
    int code = 0;
    if (tcsetattr(0, TCSAFLUSH, &quiet) != 0) {
        err.put("cannot turn off the terminal's echo\n");
        code = EX_IOERR;
    }
    std::size_t again_length = 0;
    ReadResult r1 = ReadResult::Error;
    ReadResult r2 = ReadResult::Error;
    if (code == 0) r1 = prompt_line("New password: ", buf, capacity, length);
    if (code == 0 && r1 == ReadResult::Ok && *length > 0) {
        r2 = prompt_line("Retype new password: ", again, sizeof again, &again_length);
    }
    (void)tcsetattr(0, TCSAFLUSH, &g_saved_tty);
    g_tty_changed = 0;
    for (std::size_t i = 0; i < sizeof kCaughtSignals / sizeof kCaughtSignals[0]; ++i) {
        (void)sigaction(kCaughtSignals[i], &previous[i], nullptr);
    }
    if (code == 0) {
        if (r1 == ReadResult::Error) {
            err.put("cannot read the password\n");
            code = EX_IOERR;
        } else if (r1 == ReadResult::TooLong) {
            code = data_error(err, "password too long");
        } else if (*length == 0) {
            code = data_error(err, "empty password");
        } else if (r2 != ReadResult::Ok || again_length != *length ||
                   memcmp(buf, again, *length) != 0) {
            code = data_error(err, "the passwords do not match");
        }
    }
    explicit_bzero(again, sizeof again);
    return code;
}

void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        const ssize_t n = write(fd, s.data(), s.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

int parse_passwd_args(int argc, char** argv, PasswdCommand* cmd, TextWriter& out, TextWriter& err) {
    *cmd = PasswdCommand{};
    for (int i = 0; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            out.put(kUsage);
            return -1;
        }
        std::string_view* target = nullptr;
        if (ascii::head(a, 2) == "-s") target = &cmd->scheme;
        if (ascii::head(a, 2) == "-u") target = &cmd->user;
        if (target == nullptr) return usage_error(err, "unknown argument", a);
        std::string_view value = ascii::tail(a, 2);  // "-sSCHEME" works too
        if (value.empty()) {
            if (i + 1 >= argc) return usage_error(err, "missing value after", a);
            value = argv[++i];
        }
        if (value.empty()) return usage_error(err, "empty value after", ascii::head(a, 2));
        *target = value;
    }
    if (!cmd->user.empty() && !valid_user(cmd->user)) {
        return usage_error(err, "invalid user name", cmd->user);
    }
    return 0;
}

int passwd_format(const PasswdCommand& cmd, std::string_view password, port::Password* hasher,
                  TextWriter& out, TextWriter& err) {
    const std::string_view scheme = cmd.scheme.empty() ? kDefaultScheme : cmd.scheme;
    if (password.empty()) return data_error(err, "empty password");
    if (password.size() > kPasswdCommandMaxPassword) return data_error(err, "password too long");
    if (password.find('\0') != std::string_view::npos) {
        return data_error(err, "the password contains a NUL byte");
    }
    char hash_buffer[kHashMax];
    TextWriter hash(hash_buffer, sizeof hash_buffer);
    if (ascii::iequals(scheme, "PLAIN") || ascii::iequals(scheme, "CLEARTEXT")) {
        // Stored as is: a ':' would end the password field.
        if (password.find(':') != std::string_view::npos) {
            return data_error(err, "a {PLAIN} password cannot contain ':'");
        }
        hash.put('{');
        for (char c : scheme) hash.put(ascii::to_upper(c));
        hash.put('}').put(password);
    } else if (hasher == nullptr) {
        return usage_error(
            err, "scheme not available in this build (no mbedTLS); try -s PLAIN:", scheme);
    } else {
        const Status st = hasher->hash(scheme, password, hash);
        if (st == Status::Unsupported) return usage_error(err, "unknown scheme", scheme);
        if (st == Status::Invalid) return data_error(err, "password not accepted by the scheme");
        if (st != Status::Ok) {
            err.put("cannot hash the password: ").put(status_text(st)).put('\n');
            return EX_OSERR;
        }
    }
    if (!hash.ok()) {
        err.put("hash too long\n");
        return EX_SOFTWARE;
    }
    if (!cmd.user.empty()) out.put(cmd.user).put(':');
    out.put(hash.view()).put('\n');
    explicit_bzero(hash_buffer, sizeof hash_buffer);
    if (!out.ok()) {
        err.put("output too long\n");
        return EX_SOFTWARE;
    }
    return 0;
}

int run_passwd(int argc, char** argv) {
    static char password[kPasswdCommandMaxPassword];
    FixedText<2048> out;
    FixedText<2048> err;
    err.put("tinyimapd passwd: ");
    const std::size_t prefix = err.size();
    PasswdCommand cmd;
    int code = parse_passwd_args(argc, argv, &cmd, out, err);
    if (code == -1) {
        write_all(1, out.view());
        return 0;
    }
    std::size_t length = 0;
    if (code == 0) {
        if (isatty(0) == 1) {
            code = read_from_terminal(password, sizeof password, &length, err);
        } else {
            const ReadResult r = read_line(password, sizeof password, &length);
            if (r == ReadResult::TooLong) code = data_error(err, "password too long");
            if (r == ReadResult::Error) {
                err.put("cannot read the password from stdin\n");
                code = EX_IOERR;
            }
        }
    }
    if (code == 0) {
        port::Password* hasher = nullptr;
#if TINYIMAPD_HAVE_HASHER
        PosixEntropy entropy;
        MbedPassword mbed(entropy);
        hasher = &mbed;
#endif
        code = passwd_format(cmd, std::string_view(password, length), hasher, out, err);
    }
    explicit_bzero(password, sizeof password);
    if (code == 0) {
        write_all(1, out.view());
    } else if (err.size() > prefix) {
        write_all(2, err.view());
    }
    out.clear();
    return code;
}

}  // namespace tinyimapd::posix
