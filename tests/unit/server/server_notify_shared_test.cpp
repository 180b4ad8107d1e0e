// Whole-server tests of NOTIFY (RFC 5465 §6) over the other users' and
// shared namespaces (RFC 2342, RFC 4314): bob watches alice's shared
// "Family" under the name he uses for it.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

const std::string kMail = "From: alice@example.org\r\nSubject: Dinner\r\n\r\nAt eight.\r\n";

// alice makes "Family" with one message and gives bob `rights` on it.
void share_family(Household& w, port::Handle a, const std::string& rights) {
    REQUIRE(create_ok(w.say(a, "c CREATE Family\r\n"), "c"));
    append_to(w, a, "Family", kMail);
    REQUIRE(w.say(a, "s SETACL Family bob " + rights + "\r\n") == "s OK SETACL completed\r\n");
}

}  // namespace

TEST_CASE(
    "RFC 5465 §6.6, §6.5, §5.2, RFC 4314: bob watches alice's shared Family by his name for it; "
    "alice's APPEND is told as STATUS",
    "[server][notify][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lrs");
    port::Handle b = login(w, "bob", "builder");
    const std::string set = w.say(
        b, "n NOTIFY SET STATUS (mailboxes \"Other Users/alice/Family\" (MessageNew "
           "MessageExpunge))\r\n");
    INFO(set);
    CHECK(has(set, "* STATUS \"Other Users/alice/Family\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY "));
    CHECK(has(set, "n OK NOTIFY completed\r\n"));
    append_to(w, a, "Family", kMail);
    CHECK(beats(w, b) == "* STATUS \"Other Users/alice/Family\" (MESSAGES 2 UIDNEXT 3)\r\n");
    // alice's own INBOX is not bob's to hear of.
    append_to(w, a, "INBOX", kMail);
    CHECK(beats(w, b, 2).empty());
    // §6.5 SUBTREE over the namespace, and an expunge (§5.3).
    CHECK(w.say(b, "n NOTIFY SET (subtree \"Other Users\" (MessageNew MessageExpunge))\r\n") ==
          "n OK NOTIFY completed\r\n");
    CHECK(w.say(a, "s SELECT Family\r\n").find("s OK") != std::string::npos);
    CHECK(w.say(a, "x STORE 1 +FLAGS (\\Deleted)\r\n").find("x OK") != std::string::npos);
    CHECK(w.say(a, "e EXPUNGE\r\n").find("e OK") != std::string::npos);
    CHECK(beats(w, b) == "* STATUS \"Other Users/alice/Family\" (MESSAGES 1 UIDNEXT 3)\r\n");
}

TEST_CASE(
    "RFC 4314 §4, §6 with RFC 5465 §6, §5.9: without r nothing is told; r given starts the "
    "watching, taken away stops it",
    "[server][notify][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "l");
    port::Handle b = login(w, "bob", "builder");
    CHECK(w.say(b,
                "n NOTIFY SET STATUS (mailboxes \"Other Users/alice/Family\" (MessageNew "
                "MessageExpunge))\r\n") == "n OK NOTIFY completed\r\n");
    append_to(w, a, "Family", kMail);
    CHECK(beats(w, b, 2).empty());
    // §5.9: r given: watched again from bob's next turn (SETACL's event).
    REQUIRE(w.say(a, "s SETACL Family bob lr\r\n") == "s OK SETACL completed\r\n");
    CHECK(beats(w, b).empty());
    append_to(w, a, "Family", kMail);
    CHECK(beats(w, b) == "* STATUS \"Other Users/alice/Family\" (MESSAGES 3 UIDNEXT 4)\r\n");
    // r taken away: not another word, though the set is not worked out yet.
    REQUIRE(w.say(a, "s SETACL Family bob l\r\n") == "s OK SETACL completed\r\n");
    append_to(w, a, "Family", kMail);
    CHECK(beats(w, b, 2).empty());
}

TEST_CASE(
    "RFC 5465 §6.2: personal does not include shared mailboxes; SUBSCRIBED does (§6.4); "
    "SubscriptionChange of a shared name (§5.5)",
    "[server][notify][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lr");
    port::Handle b = login(w, "bob", "builder");
    CHECK(w.say(b, "n NOTIFY SET (personal (MessageNew MessageExpunge))\r\n") ==
          "n OK NOTIFY completed\r\n");
    append_to(w, a, "Family", kMail);
    CHECK(beats(w, b, 2).empty());
    port::Handle b2 = login(w, "bob", "builder");
    CHECK(w.say(b2, "n NOTIFY SET (subtree \"Other Users\" (SubscriptionChange))\r\n") ==
          "n OK NOTIFY completed\r\n");
    CHECK(w.say(b, "u SUBSCRIBE \"Other Users/alice/Family\"\r\n").find("u OK") == 0);
    // §5.5: its attributes as alice's tree has them, \Subscribed as bob's.
    CHECK(beats(w, b2) ==
          "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Other Users/alice/Family\"\r\n");
    CHECK(w.say(b, "n NOTIFY SET (subscribed (MessageNew MessageExpunge))\r\n") ==
          "n OK NOTIFY completed\r\n");
    append_to(w, a, "Family", kMail);
    CHECK(beats(w, b) == "* STATUS \"Other Users/alice/Family\" (MESSAGES 3 UIDNEXT 4)\r\n");
}

TEST_CASE("RFC 5465 §6.6, RFC 2342: Shared/ names the public owner's mailboxes in NOTIFY",
          "[server][notify][acl]") {
    Household w(true);
    port::Handle c = login(w, "carol", "singer");
    REQUIRE(create_ok(w.say(c, "c CREATE Invoices\r\n"), "c"));
    REQUIRE(w.say(c, "s SETACL Invoices anyone lrsi\r\n") == "s OK SETACL completed\r\n");
    port::Handle b = login(w, "bob", "builder");
    CHECK(w.say(b, "n NOTIFY SET (mailboxes Shared/Invoices (MessageNew MessageExpunge))\r\n") ==
          "n OK NOTIFY completed\r\n");
    port::Handle a = login(w);
    append_to(w, a, "Shared/Invoices", kMail);
    CHECK(beats(w, b) == "* STATUS Shared/Invoices (MESSAGES 1 UIDNEXT 2)\r\n");
}

TEST_CASE(
    "RFC 5465 §5.4, RFC 4314 §6: alice's CREATE, RENAME and DELETE under her shared "
    "Family reach bob under his names; a mailbox he may not see is not told",
    "[server][notify][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lr");
    port::Handle b = login(w, "bob", "builder");
    CHECK(w.say(b,
                "n NOTIFY SET (subtree \"Other Users/alice\" (MessageNew MessageExpunge "
                "MailboxName))\r\n") == "n OK NOTIFY completed\r\n");
    // The child inherits Family's ACL (RFC 4314 §4 CREATE).
    REQUIRE(create_ok(w.say(a, "c CREATE Family/Kids\r\n"), "c"));
    CHECK(beats(w, b) ==
          "* LIST (\\HasNoChildren) \"/\" \"Other Users/alice/Family/Kids\"\r\n"
          "* LIST (\\HasChildren) \"/\" \"Other Users/alice/Family\"\r\n");
    append_to(w, a, "Family/Kids", kMail);
    CHECK(beats(w, b) == "* STATUS \"Other Users/alice/Family/Kids\" (MESSAGES 1 UIDNEXT 2)\r\n");
    CHECK(w.say(a, "r RENAME Family/Kids Family/Teens\r\n").find("r OK") == 0);
    CHECK(beats(w, b) ==
          "* LIST (\\HasNoChildren) \"/\" \"Other Users/alice/Family/Teens\" (\"OLDNAME\" "
          "(\"Other Users/alice/Family/Kids\"))\r\n");
    CHECK(w.say(a, "x DELETE Family/Teens\r\n").find("x OK") == 0);
    CHECK(beats(w, b) ==
          "* LIST (\\NonExistent) \"/\" \"Other Users/alice/Family/Teens\"\r\n"
          "* LIST (\\HasNoChildren) \"/\" \"Other Users/alice/Family\"\r\n");
    // Not shared with bob: not a word (§6 of RFC 4314: no leak of existence).
    REQUIRE(create_ok(w.say(a, "c CREATE Secret\r\n"), "c"));
    CHECK(w.say(a, "x DELETE Secret\r\n").find("x OK") == 0);
    CHECK(beats(w, b, 2).empty());
}

TEST_CASE(
    "RFC 5465 §5.4, RFC 4314: bob's RENAME of alice's mailbox reaches alice's sessions under "
    "her names",
    "[server][notify][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lrxk");
    REQUIRE(create_ok(w.say(a, "c CREATE Family/Kids\r\n"), "c"));
    port::Handle b = login(w, "bob", "builder");
    CHECK(w.say(a, "n NOTIFY SET (personal (MailboxName))\r\n") == "n OK NOTIFY completed\r\n");
    CHECK(w.say(b, "r RENAME \"Other Users/alice/Family/Kids\" \"Other Users/alice/Family/Teens\"\r\n")
              .find("r OK") == 0);
    CHECK(beats(w, a) ==
          "* LIST (\\HasNoChildren) \"/\" Family/Teens (\"OLDNAME\" (Family/Kids))\r\n");
}

TEST_CASE(
    "RFC 5465 §5.6, §5.7, RFC 5464 §4.4.2: another session's SETMETADATA is told as METADATA "
    "with the entries' names, removed ones too; not to the session that made it",
    "[server][notify][metadata]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    REQUIRE(create_ok(w.say(d, "c CREATE misc\r\n"), "c"));
    CHECK(w.say(c, "n NOTIFY SET (personal (MailboxMetadataChange ServerMetadataChange))\r\n") ==
          "n OK NOTIFY completed\r\n");
    CHECK(w.say(d, "n NOTIFY SET (personal (MailboxMetadataChange))\r\n") ==
          "n OK NOTIFY completed\r\n");
    CHECK(w.say(d,
                "m SETMETADATA INBOX (/private/comment \"mine\" /shared/comment \"ours\" "
                "/shared/vendor/x/y \"z\")\r\n") == "m OK SETMETADATA completed\r\n");
    CHECK(beats(w, c) ==
          "* METADATA INBOX /private/comment\r\n"
          "* METADATA INBOX /shared/comment /shared/vendor/x/y\r\n");
    CHECK(beats(w, d).empty());  // §5: not told of its own change
    CHECK(w.say(d, "m SETMETADATA INBOX (/shared/comment NIL)\r\n") ==
          "m OK SETMETADATA completed\r\n");
    CHECK(beats(w, c) == "* METADATA INBOX /shared/comment\r\n");
    // §5.7: the server's entries, for ServerMetadataChange only.
    CHECK(w.say(d, "m SETMETADATA \"\" (/shared/comment \"hello\")\r\n") ==
          "m OK SETMETADATA completed\r\n");
    CHECK(beats(w, c) == "* METADATA \"\" /shared/comment\r\n");
    CHECK(w.say(c, "n NOTIFY SET (mailboxes misc (MailboxMetadataChange))\r\n") ==
          "n OK NOTIFY completed\r\n");
    CHECK(w.say(d, "m SETMETADATA \"\" (/shared/comment \"again\")\r\n") ==
          "m OK SETMETADATA completed\r\n");
    CHECK(w.say(d, "m SETMETADATA INBOX (/shared/comment \"x\")\r\n") ==
          "m OK SETMETADATA completed\r\n");
    CHECK(beats(w, c, 2).empty());  // neither asked for
    CHECK(w.say(d, "m SETMETADATA misc (/private/comment \"x\")\r\n") ==
          "m OK SETMETADATA completed\r\n");
    CHECK(beats(w, c) == "* METADATA misc /private/comment\r\n");
}

TEST_CASE(
    "RFC 5465 §5.6, RFC 5464 §3.3, RFC 4314: alice's /shared annotations of her shared "
    "Family reach bob under his name; her /private ones and what he may not see do not",
    "[server][notify][metadata][acl]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lr");
    REQUIRE(create_ok(w.say(a, "c CREATE Secret\r\n"), "c"));
    port::Handle b = login(w, "bob", "builder");
    CHECK(w.say(b,
                "n NOTIFY SET (subtree \"Other Users\" (MailboxMetadataChange)) (personal "
                "(ServerMetadataChange))\r\n") == "n OK NOTIFY completed\r\n");
    CHECK(w.say(a, "m SETMETADATA Family (/private/comment \"mine\" /shared/comment \"ours\")\r\n") ==
          "m OK SETMETADATA completed\r\n");
    CHECK(beats(w, b) == "* METADATA \"Other Users/alice/Family\" /shared/comment\r\n");
    CHECK(w.say(a, "m SETMETADATA Secret (/shared/comment \"hidden\")\r\n") ==
          "m OK SETMETADATA completed\r\n");
    CHECK(w.say(a, "m SETMETADATA \"\" (/private/comment \"hers\")\r\n") ==
          "m OK SETMETADATA completed\r\n");
    CHECK(beats(w, b, 2).empty());
    CHECK(w.say(a, "m SETMETADATA \"\" (/shared/comment \"everyone's\")\r\n") ==
          "m OK SETMETADATA completed\r\n");
    CHECK(beats(w, b) == "* METADATA \"\" /shared/comment\r\n");
}

TEST_CASE(
    "RFC 5465 §5.1 with RFC 4314 §4: FlagChange's UNSEEN of a shared mailbox is the viewer's "
    "own (per-user \\Seen), not the owner's",
    "[server][notify][acl][seen]") {
    Household w;
    port::Handle a = login(w);
    share_family(w, a, "lrs");
    append_to(w, a, "Family", kMail);
    port::Handle b = login(w, "bob", "builder");
    const std::string set = w.say(
        b, "n NOTIFY SET STATUS (mailboxes \"Other Users/alice/Family\" (MessageNew "
           "MessageExpunge FlagChange))\r\n");
    INFO(set);
    CHECK(has(set, "* STATUS \"Other Users/alice/Family\" (MESSAGES 2 UIDNEXT 3 UIDVALIDITY "));
    CHECK(has(set, " UNSEEN 2)\r\n"));
    // alice reads one: her \Seen, not bob's; bob hears nothing of it.
    CHECK(w.say(a, "s SELECT Family\r\n").find("s OK") != std::string::npos);
    CHECK(w.say(a, "f STORE 1 +FLAGS (\\Seen)\r\n").find("f OK") != std::string::npos);
    CHECK(beats(w, b, 2).empty());
    // bob reads one in another session: his UNSEEN drops to 1.
    port::Handle b2 = login(w, "bob", "builder");
    CHECK(w.say(b2, "s SELECT \"Other Users/alice/Family\"\r\n").find("s OK") !=
          std::string::npos);
    CHECK(w.say(b2, "f STORE 2 +FLAGS (\\Seen)\r\n").find("f OK") != std::string::npos);
    CHECK(beats(w, b, 2) == "* STATUS \"Other Users/alice/Family\" (UNSEEN 1)\r\n");
}
