// Unit tests for core/auth/passwd: Dovecot passwd-file lines, verification,
// double-buffered reload.
#include "core/auth/passwd.h"

#include "tests/unit/one_file_fs.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

using namespace tinyimapd;

namespace {

using testing::OneFileFs;
constexpr const char* kPasswdPath = "/etc/tinyimapd/passwd";

constexpr std::size_t kCap = 512;

// A PasswdDb with its two buffers, poisoned so stale bytes would show.
struct Db {
    char a[kCap];
    char b[kCap];
    PasswdDb db{a, b, kCap};
    OneFileFs fs{kPasswdPath};
    Db() {
        std::memset(a, 0x5A, sizeof a);
        std::memset(b, 0x5A, sizeof b);
    }
    Status load(const std::string& text) {
        fs.content = text;
        return db.load(fs, fs.path);
    }
};

const char* kDovecotFile =
    "# users of the NAS\n"
    "alice:{PLAIN}secret:1000:1000::/home/alice::userdb_mail=maildir:~/Maildir\n"
    "\n"
    "bob:{CLEARTEXT}hunter2:1001:1001:Bob B.:/home/bob:/bin/false:\n"
    "carol:{plain}pw\n"
    "dave:{SHA512-CRYPT}$6$salt$hash:1003:1003::/home/dave::\n"
    "erin:$6$rounds=5000$salt$hash:::\n"
    "frank:\n"
    "grace:{PLAIN}\n"
    "heidi:{PLAIN}a:7\n"
    "ivan:{PLAIN}x{y}z\n";

}  // namespace

TEST_CASE("Parses real Dovecot passwd-file lines", "[passwd]") {
    Db d;
    REQUIRE(d.load(kDovecotFile) == Status::Ok);
    CHECK(d.db.user_count() == 9);
    CHECK(d.fs.opens == d.fs.closes);

    PasswdEntry e;
    REQUIRE(d.db.lookup("alice", &e));
    CHECK(e.user == "alice");
    CHECK(e.scheme == "PLAIN");
    CHECK(e.data == "secret");
    CHECK(e.uid == "1000");
    CHECK(e.gid == "1000");
    CHECK(e.home == "/home/alice");
    CHECK(e.extra == "userdb_mail=maildir:~/Maildir");

    REQUIRE(d.db.lookup("bob", &e));
    CHECK(e.scheme == "CLEARTEXT");
    CHECK(e.data == "hunter2");
    CHECK(e.home == "/home/bob");
    CHECK(e.extra.empty());

    REQUIRE(d.db.lookup("carol", &e));  // user:password only
    CHECK(e.scheme == "plain");
    CHECK(e.uid.empty());
    CHECK(e.home.empty());

    REQUIRE(d.db.lookup("dave", &e));
    CHECK(e.scheme == "SHA512-CRYPT");
    CHECK(e.data == "$6$salt$hash");

    REQUIRE(d.db.lookup("erin", &e));  // no {SCHEME}: Dovecot's default, CRYPT
    CHECK(e.scheme == "CRYPT");
    CHECK(e.data == "$6$rounds=5000$salt$hash");

    REQUIRE(d.db.lookup("heidi", &e));  // ':' ends the password field
    CHECK(e.data == "a");
    CHECK(e.uid == "7");
    REQUIRE(d.db.lookup("ivan", &e));
    CHECK(e.data == "x{y}z");

    CHECK_FALSE(d.db.lookup("Alice", &e));  // exact, case-sensitive
    CHECK_FALSE(d.db.lookup("alic", &e));
    CHECK_FALSE(d.db.lookup("", &e));
    CHECK_FALSE(d.db.lookup("# users of the NAS", &e));
}

TEST_CASE("verify: right, wrong, unknown, unsupported", "[passwd]") {
    Db d;
    REQUIRE(d.load(kDovecotFile) == Status::Ok);
    CHECK(d.db.verify("alice", "secret") == PasswdVerdict::Ok);
    CHECK(d.db.verify("alice", "Secret") == PasswdVerdict::WrongPassword);
    CHECK(d.db.verify("alice", "secre") == PasswdVerdict::WrongPassword);
    CHECK(d.db.verify("alice", "secrets") == PasswdVerdict::WrongPassword);
    CHECK(d.db.verify("alice", "") == PasswdVerdict::WrongPassword);
    CHECK(d.db.verify("alice", std::string_view("secret\0", 7)) == PasswdVerdict::WrongPassword);
    CHECK(d.db.verify("bob", "hunter2") == PasswdVerdict::Ok);  // {CLEARTEXT}
    CHECK(d.db.verify("bob", "hunter3") == PasswdVerdict::WrongPassword);
    CHECK(d.db.verify("carol", "pw") == PasswdVerdict::Ok);  // scheme case-insensitive
    CHECK(d.db.verify("heidi", "a") == PasswdVerdict::Ok);
    CHECK(d.db.verify("heidi", "a:7") == PasswdVerdict::WrongPassword);
    CHECK(d.db.verify("mallory", "secret") == PasswdVerdict::NoSuchUser);
    CHECK(d.db.verify("ALICE", "secret") == PasswdVerdict::NoSuchUser);
    CHECK(d.db.verify("dave", "anything") == PasswdVerdict::UnsupportedScheme);
    CHECK(d.db.verify("erin", "anything") == PasswdVerdict::UnsupportedScheme);
    // An empty password field never matches, with or without a scheme.
    CHECK(d.db.verify("frank", "") == PasswdVerdict::UnsupportedScheme);  // CRYPT
    CHECK(d.db.verify("grace", "") == PasswdVerdict::WrongPassword);
    CHECK(d.db.verify("grace", "x") == PasswdVerdict::WrongPassword);
}

TEST_CASE("verify_scheme dispatches on the scheme name", "[passwd]") {
    CHECK(verify_scheme("PLAIN", "pw", "pw") == PasswdVerdict::Ok);
    CHECK(verify_scheme("Plain", "pw", "pw") == PasswdVerdict::Ok);
    CHECK(verify_scheme("cleartext", "pw", "pw") == PasswdVerdict::Ok);
    CHECK(verify_scheme("CLEARTEXT", "pw", "pW") == PasswdVerdict::WrongPassword);
    CHECK(verify_scheme("PLAIN", "", "") == PasswdVerdict::Ok);  // PasswdDb refuses this case
    CHECK(verify_scheme("PLAIN", "\xff\x80", "\xff\x80") == PasswdVerdict::Ok);
    CHECK(verify_scheme("PLAIN", "\xff\x80", "\xff\x81") == PasswdVerdict::WrongPassword);
    CHECK(verify_scheme("CRYPT", "x", "x") == PasswdVerdict::UnsupportedScheme);
    CHECK(verify_scheme("SHA512-CRYPT", "x", "x") == PasswdVerdict::UnsupportedScheme);
    CHECK(verify_scheme("PLAIN-MD5", "x", "x") == PasswdVerdict::UnsupportedScheme);
    CHECK(verify_scheme("", "x", "x") == PasswdVerdict::UnsupportedScheme);
}

TEST_CASE("Comments, blank lines and CRLF", "[passwd]") {
    Db d;
    REQUIRE(d.load("#alice:{PLAIN}x\r\n\r\n  \r\nbob:{PLAIN}pw\r\ncarol:{PLAIN}c:1:2\r\n") ==
            Status::Ok);
    CHECK(d.db.user_count() == 2);
    CHECK(d.db.verify("alice", "x") == PasswdVerdict::NoSuchUser);
    CHECK(d.db.verify("bob", "pw") == PasswdVerdict::Ok);  // no "\r" in the password
    PasswdEntry e;
    REQUIRE(d.db.lookup("carol", &e));
    CHECK(e.gid == "2");
    // No newline at the end of the file.
    REQUIRE(d.load("bob:{PLAIN}pw2") == Status::Ok);
    CHECK(d.db.verify("bob", "pw2") == PasswdVerdict::Ok);
    // An empty file is valid and has no users.
    REQUIRE(d.load("") == Status::Ok);
    CHECK(d.db.user_count() == 0);
    CHECK(d.db.verify("bob", "pw2") == PasswdVerdict::NoSuchUser);
}

TEST_CASE("passwd file: a leading UTF-8 byte order mark is skipped", "[passwd]") {
    Db d;
    REQUIRE(d.load("\xEF\xBB\xBF"
                   "alice:{PLAIN}secret\nbob:{PLAIN}pw\n") == Status::Ok);
    CHECK(d.db.user_count() == 2);
    CHECK(d.db.verify("alice", "secret") == PasswdVerdict::Ok);
    CHECK(d.db.verify("\xEF\xBB\xBF"
                      "alice",
                      "secret") == PasswdVerdict::NoSuchUser);
    // Only at the start of the file, and a BOM alone is an empty file.
    REQUIRE(d.load("\xEF\xBB\xBF") == Status::Ok);
    CHECK(d.db.user_count() == 0);
    REQUIRE(d.load("\xEF\xBB\xBF#comment\n\xEF\xBB\xBF"
                   "carol:{PLAIN}c\n") == Status::Ok);
    CHECK(d.db.verify("carol", "c") == PasswdVerdict::NoSuchUser);
}

TEST_CASE("The first line of a repeated user wins, as in Dovecot", "[passwd]") {
    Db d;
    REQUIRE(d.load("u:{PLAIN}one\nu:{PLAIN}two\n") == Status::Ok);
    CHECK(d.db.verify("u", "one") == PasswdVerdict::Ok);
    CHECK(d.db.verify("u", "two") == PasswdVerdict::WrongPassword);
}

TEST_CASE("A starting PasswdDb has no users", "[passwd]") {
    char a[8], b[8];
    PasswdDb db(a, b, sizeof a);
    CHECK(db.user_count() == 0);
    CHECK(db.capacity() == 8);
    CHECK(db.verify("", "") == PasswdVerdict::NoSuchUser);
    PasswdEntry e;
    CHECK_FALSE(db.lookup("root", &e));
}

TEST_CASE("Bad lines and unsafe user names are refused with their line number", "[passwd]") {
    struct Case {
        const char* line;
        const char* why;
    };
    const Case cases[] = {
        {"nocolon", "no ':'"},
        {":{PLAIN}x", "empty user"},
        {".:{PLAIN}x", "user '.'"},
        {"..:{PLAIN}x", "user '..'"},
        {"a/b:{PLAIN}x", "'/' in user"},
        {"../etc:{PLAIN}x", "'/' in user"},
        {"a\tb:{PLAIN}x", "control byte in user"},
        {"a\x7f:{PLAIN}x", "DEL in user"},
        {"a\rb:{PLAIN}x", "CR inside the line"},
        {"x:{PLAIN}x:10o0", "uid not decimal"},
        {"x:{PLAIN}x:1000:-1", "gid not decimal"},
    };
    for (const Case& c : cases) {
        INFO(c.why);
        Db d;
        REQUIRE(d.load("good:{PLAIN}pw\n# comment\n") == Status::Ok);
        CHECK(d.load("ok1:{PLAIN}a\n\nok2:{PLAIN}b\n" + std::string(c.line) + "\nok3:{PLAIN}c\n") ==
              Status::Invalid);
        CHECK(d.db.last_error_line() == 4);
        // The previous file stays active.
        CHECK(d.db.user_count() == 1);
        CHECK(d.db.verify("good", "pw") == PasswdVerdict::Ok);
        CHECK(d.db.verify("ok1", "a") == PasswdVerdict::NoSuchUser);
    }
    Db d;
    CHECK(d.load(std::string("a\0b:{PLAIN}x\n", 12)) == Status::Invalid);
    CHECK(d.db.last_error_line() == 1);
    CHECK(d.load(std::string("a:{PLAIN}x\0y\n", 13)) == Status::Invalid);
    // Names that are fine: dots inside, '@', UTF-8, digits.
    REQUIRE(
        d.load("a.b:{PLAIN}1\nuser@example.org:{PLAIN}2\nj\xc3\xb6rg:{PLAIN}3\n...:{PLAIN}4\n") ==
        Status::Ok);
    CHECK(d.db.user_count() == 4);
    CHECK(d.db.last_error_line() == 0);
    CHECK(d.db.verify("user@example.org", "2") == PasswdVerdict::Ok);
    CHECK(d.db.verify("j\xc3\xb6rg", "3") == PasswdVerdict::Ok);
}

TEST_CASE("A file over capacity keeps the old users", "[passwd]") {
    Db d;
    REQUIRE(d.load("alice:{PLAIN}secret\n") == Status::Ok);
    std::string big = "bob:{PLAIN}pw\n";
    big += std::string(kCap - big.size(), '\n');  // exactly capacity: fits
    REQUIRE(d.load(big) == Status::Ok);
    CHECK(d.db.verify("bob", "pw") == PasswdVerdict::Ok);
    CHECK(d.db.verify("alice", "secret") == PasswdVerdict::NoSuchUser);

    big += "carol:{PLAIN}c\n";  // over capacity
    CHECK(d.load(big) == Status::TooLong);
    CHECK(d.db.last_error_line() == 0);
    CHECK(d.db.verify("bob", "pw") == PasswdVerdict::Ok);
    CHECK(d.db.verify("carol", "c") == PasswdVerdict::NoSuchUser);
    CHECK(d.db.user_count() == 1);
    CHECK(d.fs.opens == d.fs.closes);
}

TEST_CASE("Open and read errors keep the old users", "[passwd]") {
    Db d;
    REQUIRE(d.load("alice:{PLAIN}secret\n") == Status::Ok);
    d.fs.exists = false;
    CHECK(d.db.load(d.fs, d.fs.path) == Status::NotFound);
    CHECK(d.db.verify("alice", "secret") == PasswdVerdict::Ok);
    d.fs.exists = true;
    d.fs.read_error = Status::Io;
    CHECK(d.load("bob:{PLAIN}pw\n") == Status::Io);
    CHECK(d.db.verify("alice", "secret") == PasswdVerdict::Ok);
    CHECK(d.db.verify("bob", "pw") == PasswdVerdict::NoSuchUser);
    CHECK(d.fs.opens == d.fs.closes);
}

TEST_CASE("Reload replaces the users; the buffers alternate", "[passwd]") {
    Db d;
    REQUIRE(d.load("alice:{PLAIN}one\n") == Status::Ok);
    PasswdEntry first;
    REQUIRE(d.db.lookup("alice", &first));
    REQUIRE(d.load("alice:{PLAIN}two\nbob:{PLAIN}b\n") == Status::Ok);
    CHECK(d.db.user_count() == 2);
    CHECK(d.db.verify("alice", "one") == PasswdVerdict::WrongPassword);
    CHECK(d.db.verify("alice", "two") == PasswdVerdict::Ok);
    PasswdEntry second;
    REQUIRE(d.db.lookup("alice", &second));
    CHECK(first.data.data() != second.data.data());  // the other buffer
    // A failed load in between does not disturb the active one.
    CHECK(d.load("broken\n") == Status::Invalid);
    CHECK(d.db.verify("bob", "b") == PasswdVerdict::Ok);
    REQUIRE(d.load("carol:{PLAIN}c\n") == Status::Ok);
    CHECK(d.db.user_count() == 1);
    CHECK(d.db.verify("alice", "two") == PasswdVerdict::NoSuchUser);
    CHECK(d.db.verify("bob", "b") == PasswdVerdict::NoSuchUser);
    CHECK(d.db.verify("carol", "c") == PasswdVerdict::Ok);
    // Reloading a shorter file over a longer one leaves no stale tail behind.
    REQUIRE(d.load("dan:{PLAIN}d\n") == Status::Ok);
    REQUIRE(d.load("e:{PLAIN}e") == Status::Ok);
    CHECK(d.db.user_count() == 1);
    CHECK(d.db.verify("alice", "two") == PasswdVerdict::NoSuchUser);
}

namespace {

// A port::Password that answers what it is told and records the call. core
// calls it, so CHECK only (no REQUIRE).
class FakePassword final : public port::Password {
public:
    port::PasswordCheck answer = port::PasswordCheck::Match;
    int calls = 0;
    std::string scheme, stored, password;

    port::PasswordCheck verify(std::string_view s, std::string_view d,
                               std::string_view p) override {
        ++calls;
        scheme = s;
        stored = d;
        password = p;
        return answer;
    }
    Status hash(std::string_view, std::string_view, TextWriter&) override {
        CHECK(false);  // PasswdDb never hashes
        return Status::Unsupported;
    }
};

}  // namespace

TEST_CASE("verify_scheme hands hashed schemes to the port::Password", "[passwd]") {
    FakePassword fake;
    CHECK(verify_scheme("SHA512-CRYPT", "$6$salt$hash", "pw", &fake) == PasswdVerdict::Ok);
    CHECK(fake.calls == 1);
    CHECK(fake.scheme == "SHA512-CRYPT");
    CHECK(fake.stored == "$6$salt$hash");
    CHECK(fake.password == "pw");
    fake.answer = port::PasswordCheck::Mismatch;
    CHECK(verify_scheme("pbkdf2", "x", "pw", &fake) == PasswdVerdict::WrongPassword);
    CHECK(fake.scheme == "pbkdf2");  // as written; the port matches case-insensitively
    fake.answer = port::PasswordCheck::Unsupported;
    CHECK(verify_scheme("ARGON2ID", "x", "pw", &fake) == PasswdVerdict::UnsupportedScheme);
    fake.answer = port::PasswordCheck::Malformed;
    CHECK(verify_scheme("SSHA512", "!", "pw", &fake) == PasswdVerdict::MalformedHash);
    CHECK(fake.calls == 4);
    // PLAIN and CLEARTEXT stay in core, whatever the port would say.
    fake.answer = port::PasswordCheck::Match;
    CHECK(verify_scheme("PLAIN", "pw", "other", &fake) == PasswdVerdict::WrongPassword);
    CHECK(verify_scheme("cleartext", "pw", "pw", &fake) == PasswdVerdict::Ok);
    CHECK(fake.calls == 4);
    // Without a port: unsupported, as in a build without mbedTLS.
    CHECK(verify_scheme("SHA512-CRYPT", "x", "x", nullptr) == PasswdVerdict::UnsupportedScheme);
}

TEST_CASE("PasswdDb verifies hashed lines through its hasher", "[passwd]") {
    Db d;
    REQUIRE(d.load(kDovecotFile) == Status::Ok);
    FakePassword fake;
    d.db.set_hasher(&fake);
    CHECK(d.db.verify("dave", "secret") == PasswdVerdict::Ok);
    CHECK(fake.scheme == "SHA512-CRYPT");
    CHECK(fake.stored == "$6$salt$hash");
    CHECK(fake.password == "secret");
    // No "{...}": Dovecot's default scheme, CRYPT, goes to the port too.
    CHECK(d.db.verify("erin", "pw") == PasswdVerdict::Ok);
    CHECK(fake.scheme == "CRYPT");
    CHECK(fake.stored == "$6$rounds=5000$salt$hash");
    fake.answer = port::PasswordCheck::Mismatch;
    CHECK(d.db.verify("dave", "wrong") == PasswdVerdict::WrongPassword);
    fake.answer = port::PasswordCheck::Malformed;
    CHECK(d.db.verify("dave", "x") == PasswdVerdict::MalformedHash);
    // An empty stored password never matches, even if the port said so.
    fake.answer = port::PasswordCheck::Match;
    CHECK(d.db.verify("frank", "") == PasswdVerdict::WrongPassword);
    CHECK(d.db.verify("frank", "x") == PasswdVerdict::WrongPassword);
    // PLAIN users and unknown users do not reach the port.
    const int calls = fake.calls;
    CHECK(d.db.verify("alice", "secret") == PasswdVerdict::Ok);
    CHECK(d.db.verify("alice", "nope") == PasswdVerdict::WrongPassword);
    CHECK(d.db.verify("mallory", "secret") == PasswdVerdict::NoSuchUser);
    CHECK(fake.calls == calls);
    // Taking the hasher away: back to PLAIN/CLEARTEXT only.
    d.db.set_hasher(nullptr);
    CHECK(d.db.verify("dave", "secret") == PasswdVerdict::UnsupportedScheme);
}

TEST_CASE("PasswdDb takes its hasher at construction too", "[passwd]") {
    char a[kCap], b[kCap];
    FakePassword fake;
    PasswdDb db(a, b, kCap, &fake);
    OneFileFs fs{kPasswdPath};
    fs.content = "u:{SSHA512}c2FsdA==\n";
    REQUIRE(db.load(fs, fs.path) == Status::Ok);
    CHECK(db.verify("u", "pw") == PasswdVerdict::Ok);
    CHECK(fake.calls == 1);
    CHECK(fake.scheme == "SSHA512");
}
