// platforms/posix/cmd_passwd: `tinyimapd passwd`, its options and its
// non-interactive core (the terminal prompts are left to the e2e tests).
#include "platforms/posix/cmd_passwd.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#if defined(TINYIMAPD_TLS) && TINYIMAPD_TLS
#include "platforms/posix/password_mbedtls.h"
#endif

using namespace tinyimapd;

namespace {

// A hasher that writes "{SCHEME}<password reversed>" or fails as told.
class FakeHasher final : public port::Password {
public:
    Status result = Status::Ok;
    std::string last_scheme;
    port::PasswordCheck verify(std::string_view, std::string_view, std::string_view) override {
        return port::PasswordCheck::Unsupported;
    }
    Status hash(std::string_view scheme, std::string_view password, TextWriter& out) override {
        last_scheme = scheme;
        if (result != Status::Ok) return result;
        out.put('{').put(scheme).put('}');
        for (std::size_t i = password.size(); i > 0; --i) out.put(password[i - 1]);
        return out.ok() ? Status::Ok : Status::TooLong;
    }
};

struct Run {
    int code = -2;
    std::string out, err;
    posix::PasswdCommand cmd;
};

Run parse(std::vector<std::string> args) {
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    Run r;
    FixedText<4096> out, err;
    r.code = posix::parse_passwd_args(static_cast<int>(argv.size()), argv.data(), &r.cmd, out, err);
    r.out = out.view();
    r.err = err.view();
    return r;
}

Run format(posix::PasswdCommand cmd, std::string_view password, port::Password* hasher) {
    Run r;
    FixedText<4096> out, err;
    r.code = posix::passwd_format(cmd, password, hasher, out, err);
    r.out = out.view();
    r.err = err.view();
    return r;
}

}  // namespace

TEST_CASE("tinyimapd passwd: options", "[passwd][cmd]") {
    Run r = parse({});
    CHECK(r.code == 0);
    CHECK(r.cmd.scheme.empty());
    CHECK(r.cmd.user.empty());

    std::vector<std::string> args = {"-s", "PBKDF2", "-u", "alice"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    posix::PasswdCommand cmd;
    FixedText<4096> out, err;
    REQUIRE(posix::parse_passwd_args(4, argv.data(), &cmd, out, err) == 0);
    CHECK(cmd.scheme == "PBKDF2");
    CHECK(cmd.user == "alice");

    args = {"-sSSHA512", "-ubob@example.org"};
    argv.clear();
    for (std::string& a : args) argv.push_back(a.data());
    REQUIRE(posix::parse_passwd_args(2, argv.data(), &cmd, out, err) == 0);
    CHECK(cmd.scheme == "SSHA512");
    CHECK(cmd.user == "bob@example.org");

    r = parse({"--help"});
    CHECK(r.code == -1);
    CHECK(r.out.rfind("usage: tinyimapd passwd", 0) == 0);

    for (const std::vector<std::string>& bad :
         std::vector<std::vector<std::string>>{{"-s"},
                                               {"-u"},
                                               {"-x"},
                                               {"secret"},
                                               {"-s", ""},
                                               {"-u", "a:b"},
                                               {"-u", "a/b"},
                                               {"-u", ".."},
                                               {"-u", "a\tb"}}) {
        r = parse(bad);
        INFO(bad[0]);
        CHECK(r.code == 64);
        CHECK(r.err.find("usage: tinyimapd passwd") != std::string::npos);
    }
}

TEST_CASE("tinyimapd passwd: output lines and exit codes", "[passwd][cmd]") {
    FakeHasher hasher;
    posix::PasswdCommand cmd;
    Run r = format(cmd, "secret", &hasher);
    CHECK(r.code == 0);
    CHECK(hasher.last_scheme == "SHA512-CRYPT");  // the default
    CHECK(r.out == "{SHA512-CRYPT}terces\n");

    cmd.user = "alice";
    cmd.scheme = "PBKDF2";
    r = format(cmd, "secret", &hasher);
    CHECK(r.code == 0);
    CHECK(r.out == "alice:{PBKDF2}terces\n");

    // PLAIN needs no hasher; the scheme name is written in capitals.
    cmd.scheme = "plain";
    r = format(cmd, "secret", nullptr);
    CHECK(r.code == 0);
    CHECK(r.out == "alice:{PLAIN}secret\n");
    r = format(cmd, "a:b", nullptr);
    CHECK(r.code == 65);
    CHECK(r.out.empty());

    cmd.scheme = "SHA512-CRYPT";
    r = format(cmd, "secret", nullptr);  // a build without mbedTLS
    CHECK(r.code == 64);
    CHECK(r.err.find("not available in this build") != std::string::npos);

    r = format(cmd, "", &hasher);
    CHECK(r.code == 65);
    CHECK(r.err == "empty password\n");
    r = format(cmd, std::string_view("a\0b", 3), &hasher);
    CHECK(r.code == 65);
    r = format(cmd, std::string(posix::kPasswdCommandMaxPassword + 1, 'x'), &hasher);
    CHECK(r.code == 65);

    hasher.result = Status::Unsupported;
    r = format(cmd, "secret", &hasher);
    CHECK(r.code == 64);
    CHECK(r.err.rfind("unknown scheme 'SHA512-CRYPT'", 0) == 0);
    hasher.result = Status::Invalid;
    CHECK(format(cmd, "secret", &hasher).code == 65);
    hasher.result = Status::Io;
    r = format(cmd, "secret", &hasher);
    CHECK(r.code == 71);
    CHECK(r.out.empty());
}

#if defined(TINYIMAPD_TLS) && TINYIMAPD_TLS
TEST_CASE("tinyimapd passwd: real hashes verify", "[passwd][cmd]") {
    struct ZeroEntropy final : port::Entropy {
        Status fill(void* out, std::size_t length) override {
            auto* p = static_cast<std::uint8_t*>(out);
            for (std::size_t i = 0; i < length; ++i) p[i] = 0;
            return Status::Ok;
        }
    } entropy;
    posix::MbedPassword hasher(entropy);
    posix::PasswdCommand cmd;
    cmd.user = "alice";
    for (const char* scheme : {"SHA512-CRYPT", "SHA256-CRYPT", "PBKDF2", "SSHA512", "sha256"}) {
        INFO(scheme);
        cmd.scheme = scheme;
        Run r = format(cmd, "correct horse", &hasher);
        REQUIRE(r.code == 0);
        REQUIRE(r.out.rfind("alice:{", 0) == 0);
        REQUIRE(r.out.back() == '\n');
        const std::size_t close = r.out.find('}');
        const std::string scheme_out = r.out.substr(7, close - 7);
        const std::string stored = r.out.substr(close + 1, r.out.size() - close - 2);
        CHECK(hasher.verify(scheme_out, stored, "correct horse") == port::PasswordCheck::Match);
    }
    // Zero bytes make the salt "................" (crypt's alphabet starts with '.').
    cmd.scheme = "SHA512-CRYPT";
    const std::string line = format(cmd, "secret", &hasher).out;
    CHECK(line.rfind("alice:{SHA512-CRYPT}$6$................$", 0) == 0);
    CHECK(line.size() == 40 + 86 + 1);
    cmd.scheme = "BLF-CRYPT";
    CHECK(format(cmd, "secret", &hasher).code == 64);
}
#endif
