// Whole-server tests of ACL (RFC 4314) and the other users' and shared
// namespaces (RFC 2342): issue 19's check — alice shares "Family" with bob.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

// alice and bob; "carol" owns the public namespace when `shared`.
struct Household : World {
    explicit Household(bool shared = false)
        : World(6, true, false, [shared](Config& c) {
              if (shared) c.public_owner.assign("carol");
          }) {
        fs.write_file("passwd",
                      "alice:{PLAIN}wonderland:1000:1000::/home/alice::\n"
                      "bob:{PLAIN}builder:1000:1000::/home/bob::\n"
                      "carol:{PLAIN}singer:1000:1000::/home/carol::\n");
        REQUIRE(server->load_passwd() == Status::Ok);
    }
};

bool has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("RFC 4314 §3.5, §3.8: MYRIGHTS of the owner is every right, with c and d",
          "[server][acl]") {
    Household w;
    port::Handle a = login(w);
    CHECK(w.say(a, "m MYRIGHTS INBOX\r\n") ==
          "* MYRIGHTS INBOX lrswipkxteacd\r\nm OK MYRIGHTS completed\r\n");
    CHECK(w.say(a, "n MYRIGHTS Nothing\r\n") == "n NO [NONEXISTENT] No such mailbox\r\n");
}

TEST_CASE("RFC 4314 §3.3, §3.6: GETACL lists the owner by default", "[server][acl]") {
    Household w;
    port::Handle a = login(w);
    REQUIRE(create_ok(w.say(a, "c CREATE Family\r\n"), "c"));
    CHECK(w.say(a, "g GETACL Family\r\n") ==
          "* ACL Family alice lrswipkxteacd\r\ng OK GETACL completed\r\n");
}

TEST_CASE("RFC 4314 §3.1: SETACL replaces, adds with +, removes with -; c and d expand (§2.1.1)",
          "[server][acl]") {
    Household w;
    port::Handle a = login(w);
    REQUIRE(create_ok(w.say(a, "c CREATE Family\r\n"), "c"));
    CHECK(w.say(a, "s1 SETACL Family bob lrs\r\n") == "s1 OK SETACL completed\r\n");
    CHECK(w.say(a, "g1 GETACL Family\r\n") ==
          "* ACL Family alice lrswipkxteacd bob lrs\r\ng1 OK GETACL completed\r\n");
    CHECK(w.say(a, "s2 SETACL Family bob +id\r\n") == "s2 OK SETACL completed\r\n");
    CHECK(has(w.say(a, "g2 GETACL Family\r\n"), " bob lrsited\r\n"));
    CHECK(w.say(a, "s3 SETACL Family bob -sd\r\n") == "s3 OK SETACL completed\r\n");
    CHECK(has(w.say(a, "g3 GETACL Family\r\n"), " bob lri\r\n"));
    CHECK(w.say(a, "s4 SETACL Family bob c\r\n") == "s4 OK SETACL completed\r\n");
    CHECK(has(w.say(a, "g4 GETACL Family\r\n"), " bob kxc\r\n"));
    // §3.1: an unrecognized right is BAD, never silently ignored.
    CHECK(w.say(a, "b1 SETACL Family bob lrQ\r\n") == "b1 BAD The Q right is not supported\r\n");
    CHECK(w.say(a, "b2 SETACL Family bob lrq\r\n") == "b2 BAD The q right is not supported\r\n");
    // §2: negative rights are an option this server does not take.
    CHECK(w.say(a, "n1 SETACL Family -bob w\r\n") ==
          "n1 NO [CANNOT] Negative rights are not supported\r\n");
    // §3.2: DELETEACL removes the identifier's entry.
    CHECK(w.say(a, "d1 DELETEACL Family bob\r\n") == "d1 OK DELETEACL completed\r\n");
    CHECK(w.say(a, "g5 GETACL Family\r\n") ==
          "* ACL Family alice lrswipkxteacd\r\ng5 OK GETACL completed\r\n");
    // "anyone" is an identifier like the others.
    CHECK(w.say(a, "s5 SETACL Family anyone l\r\n") == "s5 OK SETACL completed\r\n");
    CHECK(has(w.say(a, "g6 GETACL Family\r\n"), " anyone l\r\n"));
}

TEST_CASE("RFC 4314 §2: the owner cannot take l and a from themselves; LISTRIGHTS says so (§3.7)",
          "[server][acl]") {
    Household w;
    port::Handle a = login(w);
    CHECK(w.say(a, "s SETACL INBOX alice r\r\n") == "s OK SETACL completed\r\n");
    CHECK(w.say(a, "m MYRIGHTS INBOX\r\n") ==
          "* MYRIGHTS INBOX lra\r\nm OK MYRIGHTS completed\r\n");
    CHECK(w.say(a, "d DELETEACL INBOX alice\r\n") == "d OK DELETEACL completed\r\n");
    CHECK(w.say(a, "g GETACL INBOX\r\n") == "* ACL INBOX alice la\r\ng OK GETACL completed\r\n");
    CHECK(w.say(a, "l1 LISTRIGHTS INBOX alice\r\n") ==
          "* LISTRIGHTS INBOX alice la r s w i p k x t e c d\r\nl1 OK LISTRIGHTS completed\r\n");
    CHECK(w.say(a, "l2 LISTRIGHTS INBOX bob\r\n") ==
          "* LISTRIGHTS INBOX bob \"\" l r s w i p k x t e a c d\r\n"
          "l2 OK LISTRIGHTS completed\r\n");
    // And it is enforced: without w, t, s, i, e on INBOX.
    CHECK(w.say(a, "s2 SETACL INBOX alice lrswipkxtea\r\n") == "s2 OK SETACL completed\r\n");
}

TEST_CASE("RFC 4314 §9: the ACL commands' syntax", "[server][acl]") {
    Household w;
    port::Handle a = login(w);
    CHECK(has(w.say(a, "b1 SETACL INBOX bob\r\n"), "b1 BAD"));
    CHECK(has(w.say(a, "b2 GETACL\r\n"), "b2 BAD"));
    CHECK(has(w.say(a, "b3 MYRIGHTS INBOX extra\r\n"), "b3 BAD"));
    CHECK(has(w.say(a, "b4 LISTRIGHTS INBOX\r\n"), "b4 BAD"));
    CHECK(has(w.say(a, "b5 DELETEACL INBOX\r\n"), "b5 BAD"));
    // §3: an identifier that is empty after preparation is BAD.
    CHECK(w.say(a, "b6 SETACL INBOX \"\" lr\r\n") == "b6 BAD Invalid identifier\r\n");
}
