// Unit tests for core/config: every key, every error path, the file syntax,
// the command-line form and the precedence of sources.
#include "core/server/config.h"

#include "tests/unit/one_file_fs.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

using namespace tinyimapd;

namespace {

using testing::OneFileFs;

struct Outcome {
    bool ok;
    ConfigError err;
};

Outcome apply_text(Config& cfg, std::string_view text, std::string_view file = "test.conf") {
    Outcome o{false, {}};
    o.ok = config_apply_text(cfg, text, file, &o.err);
    return o;
}

Outcome option(Config& cfg, std::string_view arg) {
    Outcome o{false, {}};
    o.ok = config_apply_option(cfg, arg, &o.err);
    return o;
}

std::string msg(const Outcome& o) {
    return std::string(o.err.message.view());
}

std::string list_of(const AddressList& l) {
    std::string s;
    for (std::size_t i = 0; i < l.size(); ++i) {
        if (i != 0) s += ",";
        s += std::string(l[i]);
    }
    return s;
}

std::string written(const Config& cfg) {
    static char buf[16384];
    TextWriter w(buf, sizeof buf);
    config_write(cfg, w);
    CHECK(w.ok());
    return std::string(w.view());
}

bool same(const Config& a, const Config& b) {
    return written(a) == written(b);
}

}  // namespace

TEST_CASE("FixedString holds at most N bytes, no NUL", "[config]") {
    FixedString<4> s;
    CHECK(s.empty());
    CHECK(s.c_str()[0] == '\0');
    CHECK(s.assign("abcd"));
    CHECK(s.view() == "abcd");
    CHECK(std::strcmp(s.c_str(), "abcd") == 0);
    CHECK_FALSE(s.assign("abcde"));
    CHECK(s.view() == "abcd");
    CHECK_FALSE(s.assign(std::string_view("a\0b", 3)));
    s.assign_truncated("xyzzy");
    CHECK(s.view() == "xyzz");
    s.clear();
    CHECK(s.size() == 0);
}

TEST_CASE("Defaults are the documented ones", "[config]") {
    Config c;
    CHECK(list_of(c.listen) == "127.0.0.1:1143");
    CHECK(c.tls_listen.empty());
    CHECK(c.mail_dir.view() == "mail");
    CHECK(c.passwd_file.view() == "passwd");
    CHECK_FALSE(c.plaintext_auth);
    CHECK(c.max_clients == 64);
    CHECK_FALSE(c.foreground);
    CHECK(c.log == LogTarget::Stderr);
    CHECK(c.log_level == port::LogLevel::Info);
    CHECK(c.login_fail_delay_ms == 2000);
    CHECK(c.login_timeout == 60);
    CHECK(c.idle_timeout == 1800);
    CHECK(c.max_line_length == 8192);
    CHECK(c.max_literal_size == 8192);
    CHECK(c.max_append_size == 67108864);
    CHECK(c.input_buffer == 4096);
    CHECK(c.output_buffer == 8192);
    CHECK(c.passwd_max_size == 65536);
    CHECK(c.tls_cert.empty());
    CHECK(c.tls_key.empty());
    CHECK(c.user.empty());
    CHECK(c.group.empty());
    CHECK(c.chroot.empty());
    ConfigError err{};
    CHECK(config_validate(c, &err));
}

TEST_CASE("config: max_clients_per_address defaults to a quarter of max_clients", "[config]") {
    Config c;
    CHECK(c.clients_per_address() == 16);  // the default 64 slots
    REQUIRE(apply_text(c, "max_clients = 16").ok);
    CHECK(c.clients_per_address() == 4);  // one address cannot take all 16
    REQUIRE(apply_text(c, "max_clients = 3").ok);
    CHECK(c.clients_per_address() == 1);
    CHECK(written(c).find("\nmax_clients_per_address = 1\n") != std::string::npos);
    // Set, it is taken as it is, whatever max_clients is.
    REQUIRE(apply_text(c, "max_clients_per_address = 16").ok);
    CHECK(c.clients_per_address() == 16);
    REQUIRE(apply_text(c, "max_clients = 1000").ok);
    CHECK(c.clients_per_address() == 16);
    CHECK_FALSE(apply_text(c, "max_clients_per_address = 0").ok);
}

TEST_CASE("Every key can be set from a file", "[config]") {
    Config c;
    auto o = apply_text(c,
                        "listen = 0.0.0.0:143\n"
                        "listen = [::]:143\n"
                        "tls_listen = 0.0.0.0:993\n"
                        "mail_dir = /srv/mail\n"
                        "passwd_file = /etc/tinyimapd/passwd\n"
                        "plaintext_auth = yes\n"
                        "max_clients = 100000\n"
                        "foreground = yes\n"
                        "log = syslog\n"
                        "log_level = debug\n"
                        "login_fail_delay_ms = 0\n"
                        "login_timeout = 30\n"
                        "idle_timeout = 3600\n"
                        "max_line_length = 1048576\n"
                        "max_literal_size = 1024\n"
                        "max_append_size = 4294967295\n"
                        "input_buffer = 8k\n"
                        "output_buffer = 8192\n"
                        "passwd_max_size = 1M\n"
                        "tls_cert = /etc/ssl/cert.pem\n"
                        "tls_key = /etc/ssl/key.pem\n"
                        "user = imap\n"
                        "group = mail\n"
                        "chroot = /var/empty\n");
    INFO(msg(o));
    REQUIRE(o.ok);
    CHECK(list_of(c.listen) == "0.0.0.0:143,[::]:143");
    CHECK(list_of(c.tls_listen) == "0.0.0.0:993");
    CHECK(c.mail_dir.view() == "/srv/mail");
    CHECK(c.passwd_file.view() == "/etc/tinyimapd/passwd");
    CHECK(c.plaintext_auth);
    CHECK(c.max_clients == 100000);
    CHECK(c.foreground);
    CHECK(c.log == LogTarget::Syslog);
    CHECK(c.log_level == port::LogLevel::Debug);
    CHECK(c.login_fail_delay_ms == 0);
    CHECK(c.login_timeout == 30);
    CHECK(c.idle_timeout == 3600);
    CHECK(c.max_line_length == 1048576);
    CHECK(c.max_literal_size == 1024);
    CHECK(c.max_append_size == 4294967295u);
    CHECK(c.input_buffer == 8192);
    CHECK(c.output_buffer == 8192);
    CHECK(c.passwd_max_size == 1048576);
    CHECK(c.tls_cert.view() == "/etc/ssl/cert.pem");
    CHECK(c.tls_key.view() == "/etc/ssl/key.pem");
    CHECK(c.user.view() == "imap");
    CHECK(c.group.view() == "mail");
    CHECK(c.chroot.view() == "/var/empty");
    ConfigError err{};
    CHECK(config_validate(c, &err));
}

TEST_CASE("Log levels and targets", "[config]") {
    Config c;
    CHECK(apply_text(c, "log_level = error").ok);
    CHECK(c.log_level == port::LogLevel::Error);
    CHECK(apply_text(c, "log_level = WARNING").ok);
    CHECK(c.log_level == port::LogLevel::Warning);
    CHECK(apply_text(c, "log_level = info").ok);
    CHECK(c.log_level == port::LogLevel::Info);
    CHECK(apply_text(c, "log = syslog\nlog = stderr").ok);
    CHECK(c.log == LogTarget::Stderr);
    auto o = apply_text(c, "log_level = verbose");
    CHECK_FALSE(o.ok);
    CHECK(msg(o) == "log_level: expected error, warning, info or debug, got 'verbose'");
    o = apply_text(c, "log = file");
    CHECK_FALSE(o.ok);
    CHECK(msg(o) == "log: expected stderr or syslog, got 'file'");
}

TEST_CASE("Booleans accept yes/no/true/false/on/off/1/0", "[config]") {
    const char* yes[] = {"yes", "YES", "true", "True", "on", "ON", "1"};
    const char* no[] = {"no", "No", "false", "FALSE", "off", "Off", "0"};
    for (const char* v : yes) {
        Config c;
        CHECK(apply_text(c, std::string("plaintext_auth = ") + v).ok);
        CHECK(c.plaintext_auth);
    }
    for (const char* v : no) {
        Config c;
        c.foreground = true;
        CHECK(apply_text(c, std::string("foreground = ") + v).ok);
        CHECK_FALSE(c.foreground);
    }
    Config c;
    auto o = apply_text(c, "plaintext_auth = maybe");
    CHECK_FALSE(o.ok);
    CHECK(o.err.line == 1);
    CHECK(msg(o) == "plaintext_auth: expected yes or no (true/false, on/off, 1/0), got 'maybe'");
    CHECK_FALSE(apply_text(c, "foreground = ").ok);
    CHECK_FALSE(apply_text(c, "foreground = 2").ok);
    CHECK_FALSE(c.plaintext_auth);
}

TEST_CASE("Sizes take k/K and m/M suffixes; plain numbers do not", "[config]") {
    Config c;
    CHECK(apply_text(c, "max_append_size = 10m").ok);
    CHECK(c.max_append_size == 10u * 1024 * 1024);
    CHECK(apply_text(c, "max_append_size = 10M").ok);
    CHECK(c.max_append_size == 10u * 1024 * 1024);
    CHECK(apply_text(c, "max_literal_size = 2k").ok);
    CHECK(c.max_literal_size == 2048);
    CHECK(apply_text(c, "max_literal_size = 3K").ok);
    CHECK(c.max_literal_size == 3072);
    CHECK(apply_text(c, "max_line_length = 16k").ok);
    CHECK(c.max_line_length == 16384);
    CHECK(apply_text(c, "output_buffer = 1m").ok);
    CHECK(c.output_buffer == 1048576);
    CHECK(apply_text(c, "input_buffer = 1024").ok);
    CHECK(c.input_buffer == 1024);

    auto o = apply_text(c, "max_clients = 1k");
    CHECK_FALSE(o.ok);
    CHECK(msg(o) == "max_clients: expected a decimal number, got '1k'");
    o = apply_text(c, "login_timeout = 1m");
    CHECK_FALSE(o.ok);
    o = apply_text(c, "input_buffer = 4g");
    CHECK_FALSE(o.ok);
    CHECK(msg(o) == "input_buffer: expected a size in bytes (suffix k or m allowed), got '4g'");
    CHECK_FALSE(apply_text(c, "input_buffer = 4kk").ok);
    CHECK_FALSE(apply_text(c, "input_buffer = k").ok);
    CHECK_FALSE(apply_text(c, "input_buffer = -4096").ok);
    CHECK_FALSE(apply_text(c, "input_buffer = +4096").ok);
    CHECK_FALSE(apply_text(c, "input_buffer = 4 096").ok);
    CHECK_FALSE(apply_text(c, "input_buffer = 0x1000").ok);
    // 2^64 and a suffix that overflows 64 bits are errors, not wrap-arounds.
    CHECK_FALSE(apply_text(c, "max_append_size = 18446744073709551616").ok);
    o = apply_text(c, "max_append_size = 18446744073709551615m");
    CHECK_FALSE(o.ok);
    o = apply_text(c, "max_append_size = 4096m");
    CHECK_FALSE(o.ok);
    CHECK(msg(o) == "max_append_size: 4294967296 is out of range 1024..4294967295");
    CHECK(c.max_append_size == 10u * 1024 * 1024);
    CHECK(c.input_buffer == 1024);
}

TEST_CASE("Number limits, at and beyond each end", "[config]") {
    struct Limit {
        const char* key;
        std::uint64_t min, max;
    };
    const Limit limits[] = {
        {"max_clients", 1, 100000},
        {"login_fail_delay_ms", 0, 60000},
        {"login_timeout", 1, 3600},
        {"idle_timeout", 1800, 86400},
        {"max_line_length", 1024, 1048576},
        {"max_literal_size", 1024, 16777216},
        {"max_append_size", 1024, 4294967295u},
        {"input_buffer", 1024, 1048576},
        {"output_buffer", 8192, 1048576},
        {"passwd_max_size", 1024, 67108864},
    };
    for (const Limit& l : limits) {
        INFO(l.key);
        std::string k = std::string(l.key) + " = ";
        Config c;
        CHECK(apply_text(c, k + std::to_string(l.min)).ok);
        CHECK(apply_text(c, k + std::to_string(l.max)).ok);
        auto o = apply_text(c, k + std::to_string(l.max + 1));
        CHECK_FALSE(o.ok);
        CHECK(msg(o) == std::string(l.key) + ": " + std::to_string(l.max + 1) +
                            " is out of range " + std::to_string(l.min) + ".." +
                            std::to_string(l.max));
        if (l.min > 0) {
            o = apply_text(c, k + std::to_string(l.min - 1));
            CHECK_FALSE(o.ok);
            CHECK(msg(o).find("is out of range") != std::string::npos);
        }
        CHECK_FALSE(apply_text(c, k).ok);
        CHECK_FALSE(apply_text(c, k + "ten").ok);
    }
}

TEST_CASE("idle_timeout below 30 minutes is refused citing RFC 3501 5.4", "[config]") {
    Config c;
    auto o = apply_text(c, "# autologout\nidle_timeout = 600\n");
    CHECK_FALSE(o.ok);
    CHECK(o.err.line == 2);
    CHECK(msg(o) ==
          "idle_timeout: 600 is out of range 1800..86400 (RFC 3501 section 5.4 requires an "
          "autologout timer of at least 30 minutes)");
    CHECK(c.idle_timeout == 1800);
    CHECK(apply_text(c, "idle_timeout = 1800").ok);
    // The reason is only for values that are too small.
    o = apply_text(c, "idle_timeout = 86401");
    CHECK(msg(o) == "idle_timeout: 86401 is out of range 1800..86400");
}

TEST_CASE("Strings: paths, names, lengths, chroot must be absolute", "[config]") {
    Config c;
    auto o = apply_text(c, "mail_dir =");
    CHECK_FALSE(o.ok);
    CHECK(msg(o) == "mail_dir: must not be empty");
    o = apply_text(c, "passwd_file = \"\"");
    CHECK(msg(o) == "passwd_file: must not be empty");
    CHECK(apply_text(c, "tls_cert = \"\"\ntls_key =\nuser=\ngroup = \nchroot=").ok);
    o = apply_text(c, "chroot = var/empty");
    CHECK(msg(o) == "chroot: must be an absolute path, got 'var/empty'");
    o = apply_text(c, "user = a:b");
    CHECK(msg(o) == "user: not a user or group name: 'a:b'");
    CHECK_FALSE(apply_text(c, "group = ../x").ok);
    CHECK(apply_text(c, "group = 1000").ok);
    CHECK(c.group.view() == "1000");

    std::string longest(port::kMaxPath, 'p');
    CHECK(apply_text(c, "mail_dir = " + longest).ok);
    CHECK(c.mail_dir.size() == port::kMaxPath);
    o = apply_text(c, "mail_dir = " + longest + "p");
    CHECK(msg(o) == "mail_dir: longer than 1024 bytes");
    o = apply_text(c, "mail_dir = \"" + longest + "p\"");
    CHECK(msg(o) == "mail_dir: value longer than 1024 bytes");
    CHECK(apply_text(c, "user = " + std::string(kConfigNameMax, 'u')).ok);
    o = apply_text(c, "user = " + std::string(kConfigNameMax + 1, 'u'));
    CHECK(msg(o) == "user: longer than 64 bytes");
    // Spaces inside a bare value are kept.
    CHECK(apply_text(c, "mail_dir = /media/USB stick/mail  ").ok);
    CHECK(c.mail_dir.view() == "/media/USB stick/mail");
}

TEST_CASE("Comments, blank lines, quotes and CRLF", "[config]") {
    Config c;
    auto o = apply_text(c,
                        "# full-line comment\r\n"
                        "\r\n"
                        "   \t\r\n"
                        "   # indented comment\r\n"
                        "mail_dir = /srv/mail # trailing comment\r\n"
                        "passwd_file=/etc/pw#not-a-comment\r\n"
                        "tls_cert = \"/etc/ssl/a # b.pem\"   # comment after quotes\r\n"
                        "tls_key\t=\t\"/k \\\"q\\\" \\\\ x\"\r\n"
                        "user = #only a comment\r\n"
                        "\tmax_clients\t=\t7\t\r\n"
                        "group=\"\"#c");
    INFO(msg(o));
    REQUIRE(o.ok);
    CHECK(c.mail_dir.view() == "/srv/mail");
    CHECK(c.passwd_file.view() == "/etc/pw#not-a-comment");
    CHECK(c.tls_cert.view() == "/etc/ssl/a # b.pem");
    CHECK(c.tls_key.view() == "/k \"q\" \\ x");
    CHECK(c.user.empty());
    CHECK(c.group.empty());
    CHECK(c.max_clients == 7);
    // A backslash before anything else is kept in quotes, and always when bare.
    CHECK(apply_text(c, "mail_dir = \"a\\b\"\npasswd_file = c\\\"d").ok);
    CHECK(c.mail_dir.view() == "a\\b");
    CHECK(c.passwd_file.view() == "c\\\"d");
    // No newline at the end, and an empty file, are fine.
    CHECK(apply_text(c, "max_clients = 8").ok);
    CHECK(c.max_clients == 8);
    CHECK(apply_text(c, "").ok);
}

TEST_CASE("Syntax errors name the file, the line and the key", "[config]") {
    Config c;
    auto o = apply_text(c, "max_clients = 5\n\n# x\nmaxclients = 5\n", "/etc/tinyimapd.conf");
    CHECK_FALSE(o.ok);
    CHECK(o.err.file.view() == "/etc/tinyimapd.conf");
    CHECK(o.err.line == 4);
    CHECK(msg(o) == "unknown key 'maxclients'");
    CHECK(c.max_clients == 5);  // lines before the error were applied

    char buf[300];
    TextWriter w(buf, sizeof buf);
    config_error_write(o.err, w);
    CHECK(w.view() == "/etc/tinyimapd.conf:4: unknown key 'maxclients'");

    o = apply_text(c, "mail_dir /srv/mail\r\n");
    CHECK(o.err.line == 1);
    CHECK(msg(o) == "missing '=' in 'mail_dir /srv/mail' (expected key = value)");
    o = apply_text(c, "\n = x");
    CHECK(o.err.line == 2);
    CHECK(msg(o) == "missing key before '='");
    o = apply_text(c, "tls_cert = \"/a\n");
    CHECK(msg(o) == "tls_cert: missing closing '\"'");
    o = apply_text(c, "tls_cert = \"/a\" b");
    CHECK(msg(o) == "tls_cert: unexpected text after the closing quote: 'b'");
    o = apply_text(c, "tls_cert = /a\x01");
    CHECK(msg(o) == "tls_cert: control character in value");
    o = apply_text(c, "tls_cert = /a\rb\n");
    CHECK(msg(o) == "tls_cert: control character in value");
    o = apply_text(c, "Mail_Dir = x");
    CHECK(msg(o) == "unknown key 'Mail_Dir'");  // keys are exact
    // Keys and values repeated back are bounded and sanitised.
    o = apply_text(c, std::string(100, 'k') + "\x02 = 1");
    CHECK(msg(o) == "unknown key '" + std::string(60, 'k') + "...'");
    o = apply_text(c, "log = s\x7fs");
    CHECK(msg(o) == "log: control character in value");
    // A file name longer than the error's field is cut, not refused.
    o = apply_text(c, "x=1", std::string(300, 'f'));
    CHECK(o.err.file.size() == 256);
}

TEST_CASE("listen: addresses, replacement by source, append, clear", "[config]") {
    Config c;
    CHECK(apply_text(c, "listen = 192.0.2.1:143\nlisten = [2001:db8::1]:143\n").ok);
    CHECK(list_of(c.listen) == "192.0.2.1:143,[2001:db8::1]:143");
    CHECK(c.listen.origin == ConfigOrigin::File);
    // The first --listen replaces the file's list; later ones append.
    CHECK(option(c, "--listen=127.0.0.1:1143").ok);
    CHECK(list_of(c.listen) == "127.0.0.1:1143");
    CHECK(option(c, "--listen=[::1]:1143").ok);
    CHECK(list_of(c.listen) == "127.0.0.1:1143,[::1]:1143");
    // A file applied after the command line cannot override it.
    CHECK(apply_text(c, "listen = 10.0.0.1:143").ok);
    CHECK(list_of(c.listen) == "127.0.0.1:1143,[::1]:1143");
    // ... but its values are still checked.
    CHECK_FALSE(apply_text(c, "listen = nonsense").ok);
    // An empty value clears the list.
    CHECK(option(c, "--listen=").ok);
    CHECK(c.listen.empty());
    ConfigError err{};
    CHECK_FALSE(config_validate(c, &err));
    CHECK(err.message.view() == "nothing to listen on: listen and tls_listen are both empty");

    Config d;
    auto o = apply_text(d, "listen = 0.0.0.0:143\nlisten = 0.0.0.0:143");
    CHECK(o.err.line == 2);
    CHECK(msg(o) == "listen: 0.0.0.0:143 is given twice");
    std::string eight;
    for (int i = 1; i <= 8; ++i) eight += "listen = 10.0.0." + std::to_string(i) + ":143\n";
    Config e;
    CHECK(apply_text(e, eight).ok);
    CHECK(e.listen.size() == 8);
    o = apply_text(e, "listen = 10.0.0.9:143");  // same source: appends, and is one too many
    CHECK(msg(o) == "listen: more than 8 addresses");
    CHECK(e.listen.size() == 8);

    // tls_listen behaves the same and starts empty.
    Config t;
    CHECK(apply_text(t, "tls_listen = 0.0.0.0:993\ntls_listen = [::]:993").ok);
    CHECK(list_of(t.tls_listen) == "0.0.0.0:993,[::]:993");
    CHECK(list_of(t.listen) == "127.0.0.1:1143");
    CHECK(option(t, "--tls-listen=127.0.0.1:993").ok);
    CHECK(list_of(t.tls_listen) == "127.0.0.1:993");
}

TEST_CASE("listen: address syntax", "[config]") {
    const char* good[] = {"0.0.0.0:1", "255.255.255.255:65535", "[::]:143",
                          "[::1]:993", "[2001:DB8::a]:143",     "[::ffff:192.0.2.1]:143"};
    const char* bad[] = {"127.0.0.1",      "127.0.0.1:",    "127.0.0.1:0", "127.0.0.1:65536",
                         "127.0.0.1:1x",   "127.0.0.256:1", "127.0.0:1",   "1.2.3.4.5:1",
                         "localhost:143",  "::1:143",       "[::1:143",    "[]:143",
                         "[g::1]:143",     "[1.2.3.4]:143", ":143",        "*:143",
                         "127.0.0.1:0143", "01.2.3.4:1"};
    for (const char* a : good) {
        INFO(a);
        Config c;
        CHECK(apply_text(c, std::string("listen = ") + a).ok);
    }
    for (const char* a : bad) {
        INFO(a);
        Config c;
        auto o = apply_text(c, std::string("listen = ") + a);
        CHECK_FALSE(o.ok);
        CHECK(msg(o) == std::string("listen: expected address:port such as 127.0.0.1:143 or "
                                    "[::1]:143, got '") +
                            a + "'");
        CHECK(list_of(c.listen) == "127.0.0.1:1143");
    }
    std::string_view host;
    std::uint16_t port = 0;
    CHECK(config_split_address("[::1]:993", &host, &port));
    CHECK(host == "::1");
    CHECK(port == 993);
    CHECK(config_split_address("192.0.2.7:143", &host, &port));
    CHECK(host == "192.0.2.7");
    CHECK(port == 143);
}

TEST_CASE("Command line: --key=value, dashes for underscores, bare booleans", "[config]") {
    Config c;
    CHECK(option(c, "--mail-dir=/x").ok);
    CHECK(c.mail_dir.view() == "/x");
    CHECK(option(c, "--mail_dir=/y=z").ok);  // underscores work too; value may hold '='
    CHECK(c.mail_dir.view() == "/y=z");
    CHECK(option(c, "--plaintext-auth=yes").ok);
    CHECK(c.plaintext_auth);
    CHECK(option(c, "--foreground").ok);
    CHECK(c.foreground);
    CHECK(option(c, "--foreground=off").ok);
    CHECK_FALSE(c.foreground);
    CHECK(option(c, "--max-append-size=1m").ok);
    CHECK(c.max_append_size == 1048576);
    CHECK(option(c, "--log-level=debug").ok);
    CHECK(c.log_level == port::LogLevel::Debug);
    CHECK(option(c, "--login-fail-delay-ms=500").ok);
    CHECK(c.login_fail_delay_ms == 500);
    // Values are taken literally: no quotes or comments on the command line.
    CHECK(option(c, "--tls-cert=\"a # b\"").ok);
    CHECK(c.tls_cert.view() == "\"a # b\"");

    auto o = option(c, "--max-clients");
    CHECK_FALSE(o.ok);
    CHECK(o.err.file.view() == "command line");
    CHECK(o.err.line == 0);
    CHECK(msg(o) == "--max-clients needs a value (--max-clients=VALUE)");
    o = option(c, "--no-such-thing=1");
    CHECK(msg(o) == "unknown option '--no-such-thing'");
    o = option(c, "--" + std::string(40, 'a') + "=1");
    CHECK(msg(o).rfind("unknown option '--aaa", 0) == 0);
    o = option(c, "mail-dir=/x");
    CHECK(msg(o) == "expected --key=value, got 'mail-dir=/x'");
    CHECK_FALSE(option(c, "--").ok);
    CHECK_FALSE(option(c, "-f").ok);
    o = option(c, "--idle-timeout=60");
    CHECK(msg(o).rfind("--idle-timeout: 60 is out of range 1800..86400 (RFC 3501", 0) == 0);
    o = option(c, "--plaintext-auth=maybe");
    CHECK(msg(o).rfind("--plaintext-auth: expected yes or no", 0) == 0);

    char buf[300];
    TextWriter w(buf, sizeof buf);
    config_error_write(o.err, w);
    CHECK(std::string(w.view()).rfind("command line: --plaintext-auth: ", 0) == 0);
}

TEST_CASE("config_load_file reads through the fs port", "[config]") {
    OneFileFs fs;
    fs.path = "/etc/tinyimapd.conf";
    fs.content = "max_clients = 12\nmail_dir = /m\n";
    char scratch[64];
    Config c;
    ConfigError err{};
    CHECK(config_load_file(c, fs, "/etc/tinyimapd.conf", scratch, sizeof scratch, &err));
    CHECK(c.max_clients == 12);
    CHECK(c.mail_dir.view() == "/m");
    CHECK(fs.closes == fs.opens);

    SECTION("short reads are continued") {
        fs.max_chunk = 3;
        fs.content = "max_clients = 13\n";
        CHECK(config_load_file(c, fs, "/etc/tinyimapd.conf", scratch, sizeof scratch, &err));
        CHECK(c.max_clients == 13);
    }
    SECTION("missing file") {
        fs.exists = false;
        CHECK_FALSE(config_load_file(c, fs, "/etc/tinyimapd.conf", scratch, sizeof scratch, &err));
        CHECK(err.file.view() == "/etc/tinyimapd.conf");
        CHECK(err.line == 0);
        CHECK(err.message.view() == "cannot open: not found");
    }
    SECTION("read error") {
        fs.read_error = Status::Io;
        CHECK_FALSE(config_load_file(c, fs, "/etc/tinyimapd.conf", scratch, sizeof scratch, &err));
        CHECK(err.message.view() == "cannot read: i/o error");
        CHECK(fs.closes == fs.opens);
    }
    SECTION("exactly the scratch size fits, one byte more does not") {
        std::string line = "max_clients = 99\n";
        fs.content = line + std::string(sizeof scratch - line.size(), '\n');
        CHECK(config_load_file(c, fs, "/etc/tinyimapd.conf", scratch, sizeof scratch, &err));
        CHECK(c.max_clients == 99);
        fs.content += "\n";
        CHECK_FALSE(config_load_file(c, fs, "/etc/tinyimapd.conf", scratch, sizeof scratch, &err));
        CHECK(err.message.view() == "file is larger than 64 bytes");
        CHECK(fs.closes == fs.opens);
    }
    SECTION("errors inside the file carry its path and line") {
        fs.content = "\nlog = journald\n";
        CHECK_FALSE(config_load_file(c, fs, "/etc/tinyimapd.conf", scratch, sizeof scratch, &err));
        CHECK(err.file.view() == "/etc/tinyimapd.conf");
        CHECK(err.line == 2);
        CHECK(err.message.view() == "log: expected stderr or syslog, got 'journald'");
    }
}

TEST_CASE("config_write prints a file that reads back to the same Config", "[config]") {
    Config defaults;
    std::string text = written(defaults);
    CHECK(text.rfind("# tinyimapd effective configuration\n", 0) == 0);
    CHECK(text.find("\nlisten = 127.0.0.1:1143\n") != std::string::npos);
    CHECK(text.find("\ntls_listen = \"\"\n") != std::string::npos);
    CHECK(text.find("\nplaintext_auth = no\n") != std::string::npos);
    CHECK(text.find("\nlog_level = info\n") != std::string::npos);
    CHECK(text.find("\nidle_timeout = 1800\n") != std::string::npos);
    CHECK(text.find("\nmax_append_size = 67108864\n") != std::string::npos);
    CHECK(text.find("\nchroot = \"\"\n") != std::string::npos);
    Config back;
    REQUIRE(apply_text(back, text).ok);
    CHECK(same(defaults, back));

    Config odd;
    REQUIRE(apply_text(odd,
                       "listen = [::1]:143\nlisten = 127.0.0.1:143\ntls_listen = 0.0.0.0:993\n"
                       "mail_dir = \" /lead and trail \"\npasswd_file = \"has # hash\"\n"
                       "tls_cert = \"\\\"quoted\\\" \\\\ back\"\ntls_key = a\\b\n"
                       "plaintext_auth = on\nforeground = 1\nlog = syslog\nlog_level = warning\n"
                       "max_clients = 3\nuser = nobody\n")
                .ok);
    text = written(odd);
    CHECK(text.find("\nmail_dir = \" /lead and trail \"\n") != std::string::npos);
    CHECK(text.find("\ntls_key = a\\b\n") != std::string::npos);
    Config odd_back;
    auto o = apply_text(odd_back, text);
    INFO(text);
    INFO(msg(o));
    REQUIRE(o.ok);
    CHECK(same(odd, odd_back));
    CHECK(odd_back.mail_dir.view() == " /lead and trail ");
    CHECK(odd_back.tls_cert.view() == "\"quoted\" \\ back");
    CHECK(list_of(odd_back.listen) == "[::1]:143,127.0.0.1:143");

    // Every key appears, once per line.
    const char* keys[] = {"listen",
                          "tls_listen",
                          "mail_dir",
                          "passwd_file",
                          "plaintext_auth",
                          "max_clients",
                          "foreground",
                          "log",
                          "log_level",
                          "login_fail_delay_ms",
                          "login_timeout",
                          "idle_timeout",
                          "max_line_length",
                          "max_literal_size",
                          "max_append_size",
                          "input_buffer",
                          "output_buffer",
                          "passwd_max_size",
                          "tls_cert",
                          "tls_key",
                          "user",
                          "group",
                          "chroot"};
    for (const char* k : keys) {
        INFO(k);
        CHECK(text.find(std::string("\n") + k + " = ") != std::string::npos);
    }

    // A writer that is too small reports it.
    char small[32];
    TextWriter w(small, sizeof small);
    config_write(defaults, w);
    CHECK_FALSE(w.ok());
}

TEST_CASE("config_validate checks keys against each other", "[config]") {
    ConfigError err{};
    Config c;
    c.tls_cert.assign("/c.pem");
    CHECK_FALSE(config_validate(c, &err));
    CHECK(err.message.view() == "tls_cert and tls_key must be given together");
    c.tls_key.assign("/k.pem");
    CHECK(config_validate(c, &err));

    Config t;
    CHECK(apply_text(t, "tls_listen = 0.0.0.0:993").ok);
    CHECK(config_validate(t, &err));  // a self-signed pair is made at start
    CHECK(apply_text(t, "listen =\ntls_cert = /c\ntls_key = /k").ok);
    CHECK(t.listen.empty());
    CHECK(config_validate(t, &err));  // implicit TLS only is fine
    CHECK(config_validate(t, nullptr));
    CHECK(config_apply_text(t, "bogus", "f", nullptr) == false);
    CHECK(config_apply_option(t, "--bogus", nullptr) == false);
}
