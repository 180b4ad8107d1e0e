// Tests of the access control lists' storage (core/store/acl.h): the rights
// letters (RFC 4314 §2.1, §2.1.1), the m.acl file, and that the file lives
// in the mailbox's directory (RENAME keeps it, DELETE removes it, §4).
#include <catch2/catch.hpp>

#include <string>

#include "core/store/acl.h"
#include "core/store/user_store.h"
#include "tests/unit/store_env.h"

using namespace tinyimapd;
using namespace tinyimapd::store;

namespace {

std::string letters(Rights r, bool virtuals) {
    FixedText<32> t;
    write_rights(t, r, virtuals);
    return std::string(t.view());
}

std::string dir_of(test::StoreEnv& env, std::string_view name) {
    Path p;
    REQUIRE(env.user.mailbox_dir(name, &p) == Status::Ok);
    return std::string(p.view());
}

}  // namespace

TEST_CASE("RFC 4314 §2.1.1: c and d expand to their members, and come back on output",
          "[store][acl]") {
    Rights r = 0;
    REQUIRE(parse_rights("lrswida", &r));
    CHECK(letters(r, false) == "lrswitea");
    CHECK(letters(r, true) == "lrswitead");
    REQUIRE(parse_rights("c", &r));
    CHECK(letters(r, false) == "kx");
    CHECK(letters(r, true) == "kxc");
    REQUIRE(parse_rights("", &r));
    CHECK(r == 0);
    char bad = 0;
    CHECK_FALSE(parse_rights("lrQ", &r, &bad));  // §3.1: uppercase is BAD
    CHECK(bad == 'Q');
    CHECK_FALSE(parse_rights("lrq", &r, &bad));
    CHECK(bad == 'q');
}

TEST_CASE("RFC 4314 §2: the owner keeps l and a; anyone's rights add to a user's", "[store][acl]") {
    Acl acl;
    acl.set_default("alice");
    CHECK(acl.rights_of("alice", "alice") == kAllRights);
    CHECK(acl.rights_of("bob", "alice") == 0);
    REQUIRE(acl.set("alice", kRightRead));
    CHECK(acl.rights_of("alice", "alice") == (kRightRead | kOwnerKeeps));
    REQUIRE(acl.set("anyone", kRightLookup));
    REQUIRE(acl.set("bob", kRightRead | kRightSeen));
    CHECK(acl.rights_of("bob", "alice") == (kRightLookup | kRightRead | kRightSeen));
    CHECK(acl.rights_of("carol", "alice") == kRightLookup);
    REQUIRE(acl.set("bob", 0));
    CHECK(acl.find("bob") == nullptr);
}

TEST_CASE("m.acl: written durably, read back, moved by RENAME, removed by DELETE (RFC 4314 §4)",
          "[store][acl]") {
    test::StoreEnv env(7);
    REQUIRE(env.user.create("Family") == Status::Ok);
    const std::string dir = dir_of(env, "Family");
    Acl acl;
    CHECK(read_acl(env.fs, dir, "alice", &acl) == Status::NotFound);
    CHECK(acl.rights_of("alice", "alice") == kAllRights);
    REQUIRE(acl.set("bob", kRightLookup | kRightRead | kRightSeen));
    REQUIRE(write_acl(env.fs, dir, acl) == Status::Ok);
    CHECK(env.fs.unsynced() == 0);
    CHECK(env.fs.read_file(dir + "/m.acl") == "tinyimapd-acl 1\nlrswipkxtea alice\nlrs bob\n");
    Acl back;
    REQUIRE(read_acl(env.fs, dir, "alice", &back) == Status::Ok);
    CHECK(back.rights_of("bob", "alice") == (kRightLookup | kRightRead | kRightSeen));

    REQUIRE(env.user.rename("Family", "Home") == Status::Ok);
    const std::string moved = dir_of(env, "Home");
    REQUIRE(read_acl(env.fs, moved, "alice", &back) == Status::Ok);
    CHECK(back.find("bob") != nullptr);

    REQUIRE(env.user.remove("Home") == Status::Ok);
    CHECK_FALSE(env.fs.exists(moved));
    // A new mailbox of the same name starts from the default list.
    REQUIRE(env.user.create("Home") == Status::Ok);
    CHECK(read_acl(env.fs, moved, "alice", &back) == Status::NotFound);
    CHECK(back.find("bob") == nullptr);
}

TEST_CASE("m.acl: a corrupt file shares nothing and is reported Invalid", "[store][acl]") {
    test::StoreEnv env(8);
    REQUIRE(env.user.create("Family") == Status::Ok);
    const std::string dir = dir_of(env, "Family");
    const char* bad[] = {
        "tinyimapd-acl 2\nlrs bob\n",          // unknown version
        "tinyimapd-acl 1\nlrs bob",            // cut short
        "tinyimapd-acl 1\nlrQ bob\n",          // unknown right
        "tinyimapd-acl 1\nlrs bob\nlr bob\n",  // duplicate
        "tinyimapd-acl 1\nlrs\n",              // no identifier
        "tinyimapd-acl 1\ncd bob\n",           // virtual rights are never stored
        "garbage",
        "",
    };
    for (const char* text : bad) {
        INFO(text);
        env.fs.write_file(dir + "/m.acl", text);
        Acl acl;
        CHECK(read_acl(env.fs, dir, "alice", &acl) == Status::Invalid);
        CHECK(acl.rights_of("bob", "alice") == 0);
        CHECK(acl.rights_of("alice", "alice") == kAllRights);
    }
    std::string big = "tinyimapd-acl 1\n";
    for (int i = 0; i < 11; ++i) big += "lr user" + std::to_string(i) + "\n";
    env.fs.write_file(dir + "/m.acl", big);
    Acl acl;
    CHECK(read_acl(env.fs, dir, "alice", &acl) == Status::Invalid);
}

TEST_CASE("RFC 4314 §3: identifiers we store", "[store][acl]") {
    CHECK(valid_identifier("bob"));
    CHECK(valid_identifier("anyone"));
    CHECK_FALSE(valid_identifier(""));
    CHECK_FALSE(valid_identifier("-bob"));  // negative rights: not supported
    CHECK_FALSE(valid_identifier("a b"));
    CHECK_FALSE(valid_identifier(std::string(49, 'x')));
}

TEST_CASE(
    "m.acl: a crash at any write of SETACL leaves the old list or the new, never a broken one",
    "[store][acl][crash]") {
    for (unsigned n = 1; n <= 8; ++n) {
        INFO("crash at write " << n);
        test::StoreEnv env(9);
        REQUIRE(env.user.create("Family") == Status::Ok);
        const std::string dir = dir_of(env, "Family");
        Acl acl;
        acl.set_default("alice");
        REQUIRE(acl.set("bob", kRightLookup));
        REQUIRE(write_acl(env.fs, dir, acl) == Status::Ok);
        REQUIRE(acl.set("bob", kRightLookup | kRightRead));
        env.fs.crash_at_write(n);
        const Status st = write_acl(env.fs, dir, acl);
        const bool crashed = env.fs.crashed();
        env.fs.restart();
        Acl back;
        REQUIRE(read_acl(env.fs, dir, "alice", &back) == Status::Ok);
        const Rights bob = back.rights_of("bob", "alice");
        if (!crashed) {
            CHECK(st == Status::Ok);
            CHECK(bob == (kRightLookup | kRightRead));
        } else {
            CHECK((bob == kRightLookup || bob == (kRightLookup | kRightRead)));
        }
    }
}
