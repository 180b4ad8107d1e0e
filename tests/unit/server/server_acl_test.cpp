// Whole-server tests of ACL (RFC 4314) and the other users' and shared
// namespaces (RFC 2342): issue 19's check — alice shares "Family" with bob.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

// alice and bob; "carol" owns the public namespace when `shared`.
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

namespace {

const std::string kFamilyMail = "From: alice@example.org\r\nSubject: Dinner\r\n\r\nAt eight.\r\n";

// alice makes "Family" with one message and shares it with bob: `rights`.
void share_family(Household& w, port::Handle a, const std::string& rights) {
    REQUIRE(create_ok(w.say(a, "c CREATE Family\r\n"), "c"));
    REQUIRE(has(w.say(a, "p APPEND Family {" + std::to_string(kFamilyMail.size()) + "+}\r\n" +
                             kFamilyMail + "\r\n"),
                "p OK"));
    REQUIRE(w.say(a, "s SETACL Family bob " + rights + "\r\n") == "s OK SETACL completed\r\n");
}

}  // namespace

TEST_CASE("RFC 2342 §5: NAMESPACE names the other users' namespace, and Shared/ when configured",
          "[server][acl]") {
    Household plain;
    port::Handle a = login(plain);
    CHECK(plain.say(a, "n NAMESPACE\r\n") ==
          "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) NIL\r\nn OK NAMESPACE "
          "completed\r\n");
    Household shared(true);
    port::Handle b = login(shared, "bob", "builder");
    CHECK(shared.say(b, "n NAMESPACE\r\n") ==
          "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) ((\"Shared/\" \"/\"))\r\n"
          "n OK NAMESPACE completed\r\n");
}

TEST_CASE("Issue 19: alice shares Family with bob (lrs); bob lists, reads, cannot append until i",
          "[server][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lrs");
    port::Handle b = login(w, "bob", "builder");
    // RFC 4314 §4 LIST: l is needed; the parents show as \Noselect.
    const std::string list = w.say(b, "l LIST \"\" *\r\n");
    CHECK(has(list, "* LIST (\\Noselect \\HasChildren) \"/\" \"Other Users\"\r\n"));
    CHECK(has(list, "* LIST (\\Noselect \\HasChildren) \"/\" \"Other Users/alice\"\r\n"));
    CHECK(has(list, "\"/\" \"Other Users/alice/Family\"\r\n"));
    CHECK_FALSE(has(list, "Other Users/alice/INBOX"));
    CHECK(has(list, "l OK LIST completed"));
    CHECK(has(w.say(b, "l2 LIST \"Other Users/\" %\r\n"), "\"Other Users/alice\"\r\n"));
    const std::string top = w.say(b, "l3 LIST \"\" %\r\n");
    CHECK(has(top, "\"/\" \"Other Users\"\r\n"));
    CHECK_FALSE(has(top, "Other Users/"));
    CHECK(w.say(b, "l4 LIST \"\" INBOX\r\n") ==
          "* LIST (\\HasNoChildren) \"/\" INBOX\r\nl4 OK LIST completed\r\n");
    // §3.5: what bob may do.
    CHECK(w.say(b, "m MYRIGHTS \"Other Users/alice/Family\"\r\n") ==
          "* MYRIGHTS \"Other Users/alice/Family\" lrs\r\nm OK MYRIGHTS completed\r\n");
    // §4 STATUS and SELECT: r.
    CHECK(w.say(b, "t STATUS \"Other Users/alice/Family\" (MESSAGES)\r\n") ==
          "* STATUS \"Other Users/alice/Family\" (MESSAGES 1)\r\nt OK STATUS completed\r\n");
    const std::string sel = w.say(b, "x SELECT \"Other Users/alice/Family\"\r\n");
    CHECK(has(sel, "* 1 EXISTS\r\n"));
    // §5.1.1: PERMANENTFLAGS reflects the rights: \Seen alone, no keywords.
    CHECK(has(sel, "* OK [PERMANENTFLAGS (\\Seen)] Flags permitted\r\n"));
    CHECK(has(sel, "x OK [READ-WRITE] SELECT completed"));
    CHECK(has(w.say(b, "f FETCH 1 BODY[TEXT]\r\n"), "At eight."));
    // The s right: FETCH set \Seen.
    CHECK(has(w.say(b, "g FETCH 1 FLAGS\r\n"), "\\Seen"));
    // §4 STORE: w is missing: \Flagged is silently dropped, \Seen is kept.
    CHECK(has(w.say(b, "h STORE 1 +FLAGS (\\Flagged)\r\n"), "h OK"));
    CHECK_FALSE(has(w.say(b, "i FETCH 1 FLAGS\r\n"), "\\Flagged"));
    CHECK(has(w.say(b, "j STORE 1 -FLAGS (\\Seen)\r\n"), "j OK"));
    CHECK_FALSE(has(w.say(b, "k FETCH 1 FLAGS\r\n"), "\\Seen"));
    // §4 EXPUNGE: e.
    CHECK(w.say(b, "e EXPUNGE\r\n") ==
          "e NO [NOPERM] You may not expunge messages in this mailbox\r\n");
    // §4 APPEND: i, refused before the literal is taken.
    CHECK(w.say(b, "p1 APPEND \"Other Users/alice/Family\" {3}\r\n") ==
          "p1 NO [NOPERM] You do not have the rights for this on that mailbox\r\n");
    // §4 COPY: i on the target.
    CHECK(w.say(b, "y COPY 1 \"Other Users/alice/Family\"\r\n") ==
          "y NO [NOPERM] You do not have the rights for this on that mailbox\r\n");
    // §6: alice's INBOX is answered as nonexistent, whatever the command.
    REQUIRE(w.say(b, "z0 UNSELECT\r\n") == "z0 OK UNSELECT completed\r\n");
    CHECK(w.say(b, "z1 SELECT \"Other Users/alice/INBOX\"\r\n") ==
          "z1 NO [NONEXISTENT] No such mailbox\r\n");
    CHECK(w.say(b, "z2 STATUS \"Other Users/alice/INBOX\" (MESSAGES)\r\n") ==
          "z2 NO [NONEXISTENT] No such mailbox\r\n");
    CHECK(w.say(b, "z3 MYRIGHTS \"Other Users/alice/INBOX\"\r\n") ==
          "z3 NO [NONEXISTENT] No such mailbox\r\n");
    CHECK(w.say(b, "z4 GETACL \"Other Users/alice/Nothing\"\r\n") ==
          "z4 NO [NONEXISTENT] No such mailbox\r\n");
    CHECK(w.say(b, "z5 SELECT \"Other Users/nobody/INBOX\"\r\n") ==
          "z5 NO [NONEXISTENT] No such mailbox\r\n");
    // §4 GETACL needs a: bob may look it up, so NOPERM (RFC 5530).
    CHECK(w.say(b, "z6 GETACL \"Other Users/alice/Family\"\r\n") ==
          "z6 NO [NOPERM] You may not read or change the rights of this mailbox\r\n");
    // Given i, bob appends; his \Flagged is dropped (no w), his \Seen kept
    // (s) as his own: alice's \Seen is not set (§4, server_seen_test.cpp).
    REQUIRE(w.say(a, "s2 SETACL Family bob +i\r\n") == "s2 OK SETACL completed\r\n");
    CHECK(
        has(w.say(b, "p2 APPEND \"Other Users/alice/Family\" (\\Seen \\Flagged) {5+}\r\nhello\r\n"),
            "p2 OK [APPENDUID"));
    const std::string flags = w.say(a, "a1 SELECT Family\r\n");
    CHECK(has(flags, "* 2 EXISTS"));
    const std::string f2 = w.say(a, "a2 FETCH 2 FLAGS\r\n");
    CHECK_FALSE(has(f2, "\\Seen"));
    CHECK_FALSE(has(f2, "\\Flagged"));
    CHECK(has(w.say(b, "p3 STATUS \"Other Users/alice/Family\" (UNSEEN)\r\n"), "(UNSEEN 1)"));
    // Copied by bob from his INBOX: i is enough.
    CHECK(has(w.say(b, "q SELECT INBOX\r\n"), "q OK"));
    REQUIRE(has(w.say(b, "r APPEND INBOX (\\Deleted) {3+}\r\nabc\r\n"), "r OK"));
    CHECK(has(w.say(b, "u COPY 1 \"Other Users/alice/Family\"\r\n"), "u OK [COPYUID"));
    REQUIRE(has(w.say(a, "a4 NOOP\r\n"), "* 3 EXISTS"));
    const std::string f3 = w.say(a, "a3 FETCH 3 FLAGS\r\n");
    CHECK(has(f3, "* 3 FETCH"));
    CHECK_FALSE(has(f3, "\\Deleted"));  // no t on Family: dropped (§4 example)
    // MOVE needs t and e on the source.
    CHECK(has(w.say(b, "v SELECT \"Other Users/alice/Family\"\r\n"), "v OK"));
    CHECK(w.say(b, "v2 MOVE 1 INBOX\r\n") ==
          "v2 NO [NOPERM] You may not remove messages from this mailbox\r\n");
    // RFC 8508 REPLACE expunges the replaced message: e.
    CHECK(w.say(b, "v3 REPLACE 1 \"Other Users/alice/Family\" {3}\r\n") ==
          "v3 NO [NOPERM] You may not expunge messages in this mailbox\r\n");
}

TEST_CASE("RFC 4314 §4: EXAMINE-only without change rights; l without r is NOPERM",
          "[server][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lr");
    port::Handle b = login(w, "bob", "builder");
    const std::string sel = w.say(b, "x SELECT \"Other Users/alice/Family\"\r\n");
    INFO(sel);
    CHECK(has(sel, "x OK [READ-ONLY] SELECT completed"));
    CHECK(w.say(a, "s SETACL Family bob l\r\n") == "s OK SETACL completed\r\n");
    CHECK(w.say(b, "y SELECT \"Other Users/alice/Family\"\r\n") ==
          "* OK [CLOSED] Previous mailbox closed\r\n"
          "y NO [NOPERM] You do not have the rights for this on that mailbox\r\n");
    CHECK(w.say(a, "d DELETEACL Family bob\r\n") == "d OK DELETEACL completed\r\n");
    CHECK(w.say(b, "z SELECT \"Other Users/alice/Family\"\r\n") ==
          "z NO [NONEXISTENT] No such mailbox\r\n");
    CHECK_FALSE(has(w.say(b, "l LIST \"\" *\r\n"), "Other Users"));
}

TEST_CASE("RFC 4314 §4: CREATE needs k on the parent (and inherits its ACL), DELETE x, RENAME x+k",
          "[server][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lr");
    port::Handle b = login(w, "bob", "builder");
    CHECK(w.say(b, "c1 CREATE \"Other Users/alice/Family/Kids\"\r\n") ==
          "c1 NO [NOPERM] You do not have the rights for this on that mailbox\r\n");
    CHECK(w.say(b, "c2 CREATE \"Other Users/alice/Top\"\r\n") ==
          "c2 NO [NOPERM] You do not have the rights for this on that mailbox\r\n");
    REQUIRE(w.say(a, "s SETACL Family bob +kx\r\n") == "s OK SETACL completed\r\n");
    CHECK(create_ok(w.say(b, "c3 CREATE \"Other Users/alice/Family/Kids\"\r\n"), "c3"));
    // It is alice's, and bob has there what he had on Family.
    CHECK(has(w.say(a, "l LIST \"\" Family/*\r\n"), "\"/\" Family/Kids\r\n"));
    CHECK(w.say(b, "m MYRIGHTS \"Other Users/alice/Family/Kids\"\r\n") ==
          "* MYRIGHTS \"Other Users/alice/Family/Kids\" lrkxc\r\nm OK MYRIGHTS completed\r\n");
    CHECK(w.say(b,
                "r1 RENAME \"Other Users/alice/Family/Kids\" \"Other "
                "Users/alice/Family/Children\"\r\n") == "r1 OK RENAME completed\r\n");
    CHECK(w.say(b, "r2 RENAME \"Other Users/alice/Family/Children\" Mine\r\n") ==
          "r2 NO [CANNOT] Mailboxes cannot move between users\r\n");
    CHECK(w.say(b, "d1 DELETE \"Other Users/alice/Family/Children\"\r\n") ==
          "d1 OK DELETE completed\r\n");
    CHECK_FALSE(has(w.say(a, "l2 LIST \"\" Family/*\r\n"), "Children"));
    CHECK(w.say(b, "d2 DELETE \"Other Users/alice/INBOX\"\r\n") ==
          "d2 NO [NONEXISTENT] No such mailbox\r\n");
}

TEST_CASE("RFC 2342 §5: Shared/ names the public owner's mailboxes, with its ACL",
          "[server][acl]") {
    Household w(true);
    port::Handle c = login(w, "carol", "singer");
    REQUIRE(create_ok(w.say(c, "c CREATE Invoices\r\n"), "c"));
    REQUIRE(w.say(c, "s SETACL Invoices anyone lrsi\r\n") == "s OK SETACL completed\r\n");
    port::Handle a = login(w);
    CHECK(has(w.say(a, "l LIST \"\" *\r\n"), "\"/\" Shared/Invoices\r\n"));
    CHECK(has(w.say(a, "p APPEND Shared/Invoices {3+}\r\nabc\r\n"), "p OK [APPENDUID"));
    CHECK(w.say(a, "t STATUS Shared/Invoices (MESSAGES)\r\n") ==
          "* STATUS Shared/Invoices (MESSAGES 1)\r\nt OK STATUS completed\r\n");
    CHECK(w.say(a, "u STATUS Shared/INBOX (MESSAGES)\r\n") ==
          "u NO [NONEXISTENT] No such mailbox\r\n");
}

TEST_CASE("RFC 4314 §4, RFC 9208: what bob puts in alice's mailbox counts against alice's quota",
          "[server][acl]") {
    Household w(false, 2);
    port::Handle a = login(w);
    share_family(w, a, "lrsi");  // alice has 1 message of 2
    port::Handle b = login(w, "bob", "builder");
    REQUIRE(has(w.say(b, "p1 APPEND INBOX {3+}\r\nabc\r\n"), "p1 OK"));
    REQUIRE(has(w.say(b, "p2 APPEND INBOX {3+}\r\nabc\r\n"), "p2 OK"));  // bob is full
    CHECK(has(w.say(b, "p3 APPEND \"Other Users/alice/Family\" {3+}\r\nabc\r\n"), "p3 OK"));
    CHECK(w.say(b, "p4 APPEND \"Other Users/alice/Family\" {3}\r\n") ==
          "p4 NO [OVERQUOTA] The mailbox quota would be exceeded\r\n");
    CHECK(w.say(a, "q GETQUOTAROOT INBOX\r\n").find("(MESSAGE 2 2)") != std::string::npos);
    // bob is not shown alice's quota (RFC 9208 §4.1.2: no quota root for it).
    CHECK(w.say(b, "r GETQUOTAROOT \"Other Users/alice/Family\"\r\n") ==
          "* QUOTAROOT \"Other Users/alice/Family\"\r\nr OK GETQUOTAROOT completed\r\n");
}

TEST_CASE("Issue 19: sessions of two users on one mailbox see each other's changes (IDLE)",
          "[server][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lrswi");
    port::Handle b = login(w, "bob", "builder");
    REQUIRE(has(w.say(b, "x SELECT \"Other Users/alice/Family\"\r\n"), "x OK [READ-WRITE]"));
    REQUIRE(has(w.say(b, "i IDLE\r\n"), "+ idling"));
    REQUIRE(has(w.say(a, "p APPEND Family {3+}\r\nabc\r\n"), "p OK"));
    w.run(8, 1000);
    CHECK(has(w.net.client_receive(b), "* 2 EXISTS\r\n"));
    CHECK(has(w.say(b, "DONE\r\n"), "i OK"));
    // bob's flag change reaches alice's session.
    REQUIRE(has(w.say(a, "y SELECT Family\r\n"), "y OK"));
    REQUIRE(has(w.say(b, "s STORE 2 +FLAGS (\\Flagged)\r\n"), "s OK"));
    const std::string noop = w.say(a, "n NOOP\r\n");
    INFO(noop);
    CHECK(has(noop, "* 2 FETCH ("));
    CHECK(has(noop, "\\Flagged"));
}

TEST_CASE("RFC 4314 §4 LSUB: a subscribed shared mailbox is listed as its owner has it",
          "[server][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lr");
    port::Handle b = login(w, "bob", "builder");
    REQUIRE(has(w.say(b, "s SUBSCRIBE \"Other Users/alice/Family\"\r\n"), "s OK"));
    CHECK(has(w.say(b, "l LSUB \"\" *\r\n"), "* LSUB () \"/\" \"Other Users/alice/Family\"\r\n"));
    CHECK(has(w.say(b, "m LIST (SUBSCRIBED) \"\" *\r\n"),
              "* LIST (\\Subscribed) \"/\" \"Other Users/alice/Family\"\r\n"));
    // Taken back: no longer there (§6), and LSUB does not fail.
    REQUIRE(w.say(a, "d DELETEACL Family bob\r\n") == "d OK DELETEACL completed\r\n");
    CHECK(has(w.say(b, "n LIST (SUBSCRIBED) \"\" *\r\n"),
              "* LIST (\\NonExistent \\Subscribed) \"/\" \"Other Users/alice/Family\"\r\n"));
}

TEST_CASE(
    "RFC 5464 §3.3 with RFC 4314: METADATA of a shared mailbox needs l and one of r s w i p, "
    "w to set /shared entries; /private ones are each user's own",
    "[server][acl][metadata]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "l");
    REQUIRE(has(w.say(a, "m SETMETADATA Family (/shared/comment \"dinners\" /private/comment "
                         "\"alice's\")\r\n"),
                "m OK"));
    port::Handle b = login(w, "bob", "builder");
    // l alone: it may be listed, not annotated.
    CHECK(w.say(b, "g0 GETMETADATA \"Other Users/alice/Family\" /shared/comment\r\n") ==
          "g0 NO [NOPERM] You do not have the rights for this on that mailbox\r\n");
    REQUIRE(w.say(a, "r SETACL Family bob lr\r\n") == "r OK SETACL completed\r\n");
    CHECK(has(w.say(b, "g GETMETADATA \"Other Users/alice/Family\" /shared/comment\r\n"),
              "(/shared/comment \"dinners\")"));
    CHECK(w.say(b, "s SETMETADATA \"Other Users/alice/Family\" (/shared/comment \"x\")\r\n") ==
          "s NO [NOPERM] You do not have the rights for this on that mailbox\r\n");
    CHECK(
        has(w.say(b, "p SETMETADATA \"Other Users/alice/Family\" (/private/comment \"mine\")\r\n"),
            "p OK"));
    CHECK(w.say(b, "q GETMETADATA \"Other Users/alice/Family\" /private/comment\r\n") ==
          "* METADATA \"Other Users/alice/Family\" (/private/comment \"mine\")\r\n"
          "q OK GETMETADATA completed\r\n");
    CHECK(w.say(a, "v GETMETADATA Family /private/comment\r\n") ==
          "* METADATA Family (/private/comment \"alice's\")\r\nv OK GETMETADATA completed\r\n");
    CHECK(w.say(b, "n GETMETADATA \"Other Users/alice/INBOX\" /shared/comment\r\n") ==
          "n NO [NONEXISTENT] No such mailbox\r\n");
    REQUIRE(w.say(a, "t SETACL Family bob +w\r\n") == "t OK SETACL completed\r\n");
    CHECK(has(w.say(b, "u SETMETADATA \"Other Users/alice/Family\" (/shared/comment \"x\")\r\n"),
              "u OK"));
}

TEST_CASE("RFC 9051 §6.3.2: an IMAP4rev2 SELECT of a shared mailbox lists it as its owner has it",
          "[server][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lr");
    REQUIRE(create_ok(w.say(a, "k CREATE Family/Kids\r\n"), "k"));
    port::Handle b = login(w, "bob", "builder");
    REQUIRE(has(w.say(b, "e ENABLE IMAP4rev2\r\n"), "e OK"));
    CHECK(has(w.say(b, "x SELECT \"Other Users/alice/Family\"\r\n"),
              "* LIST (\\HasChildren) \"/\" \"Other Users/alice/Family\"\r\n"));
}
