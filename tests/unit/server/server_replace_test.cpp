// Whole-server tests of REPLACE and UID REPLACE (RFC 8508) on the simulated
// platform: an APPEND to the named mailbox and the expunge of the replaced
// message, seen by the client as one action.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

// The RFC's example message (§3.2), 312 bytes as the client sends it.
const std::string kDraft =
    "Date: Thu, 1 Jan 2015 00:05:00 -0500 (EST)\r\n"
    "From: Fritz Schmidt <fritz.ze@example.org>\r\n"
    "Subject: happy new year !!\r\n"
    "To: miss.mitzy@example.org\r\n"
    "Message-Id: <B238822388-0100000@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
    "\r\n"
    "Just saw the best fireworks show. Wish you were here.\r\n"
    "\r\n";

std::string literal(const std::string& body, bool plus = true) {
    return "{" + std::to_string(body.size()) + (plus ? "+" : "") + "}\r\n" + body;
}

// Drafts with four messages (UIDs 1..4), selected (after `enable`).
port::Handle drafts(World& w, const std::string& enable = "") {
    port::Handle c = login(w);
    if (!enable.empty())
        REQUIRE(w.say(c, "e ENABLE " + enable + "\r\n").find("e OK") != std::string::npos);
    REQUIRE(w.say(c, "c CREATE Drafts\r\n").find("c OK") == 0);
    for (int i = 1; i <= 4; ++i) {
        const std::string r =
            w.say(c, "a APPEND Drafts (\\Draft) " + literal("draft " + std::to_string(i)) + "\r\n");
        REQUIRE(r.find("a OK") == 0);
    }
    REQUIRE(w.say(c, "s SELECT Drafts\r\n").find("s OK [READ-WRITE]") != std::string::npos);
    return c;
}

}  // namespace

TEST_CASE("RFC 8508 §3.2: REPLACE appends, then expunges the replaced message",
          "[server][replace]") {
    World w;
    port::Handle c = drafts(w);
    CHECK(w.say(c, "A003 REPLACE 4 Drafts (\\Seen \\Draft) {" + std::to_string(kDraft.size()) +
                       "}\r\n") == "+ Ready for the message\r\n");
    // §4.3: APPENDUID in an untagged OK before the EXPUNGE; the new
    // message's EXISTS before the old one's EXPUNGE (the RFC's example).
    CHECK(w.say(c, kDraft + "\r\n") ==
          "* OK [APPENDUID 1700000001 5] Replacement Message ready\r\n"
          "* 5 EXISTS\r\n* 5 RECENT\r\n"
          "* 4 EXPUNGE\r\n"
          "A003 OK REPLACE completed\r\n");
    CHECK(w.say(c, "f FETCH 4 (UID FLAGS RFC822.SIZE)\r\n") ==
          "* 4 FETCH (UID 5 FLAGS (\\Seen \\Draft \\Recent) RFC822.SIZE " +
              std::to_string(kDraft.size()) + ")\r\nf OK FETCH completed\r\n");
    CHECK(w.say(c, "g FETCH 5 UID\r\n").find("g BAD") == 0);
}

TEST_CASE("RFC 8508 §3.3: UID REPLACE takes a UID; into another mailbox", "[server][replace]") {
    World w;
    port::Handle c = drafts(w);
    REQUIRE(w.say(c, "c CREATE Sent\r\n").find("c OK") == 0);
    // §3.4: the named mailbox need not be the selected one (Drafts -> Sent).
    CHECK(w.say(c, "A004 UID REPLACE 2 Sent (\\Seen) " + literal(kDraft) + "\r\n") ==
          "* OK [APPENDUID 1700000002 1] Replacement Message ready\r\n"
          "* 2 EXPUNGE\r\n"
          "A004 OK REPLACE completed\r\n");
    CHECK(w.say(c, "s STATUS Sent (MESSAGES)\r\n") ==
          "* STATUS Sent (MESSAGES 1)\r\ns OK STATUS completed\r\n");
    CHECK(
        w.say(c, "f UID FETCH 1:* UID\r\n") ==
        "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 3)\r\n* 3 FETCH (UID 4)\r\nf OK FETCH completed\r\n");
    // "*" is the last message (RFC 3501 §9 seq-number).
    CHECK(w.say(c, "A005 UID REPLACE * Drafts " + literal("new") + "\r\n") ==
          "* OK [APPENDUID 1700000001 5] Replacement Message ready\r\n"
          "* 4 EXISTS\r\n* 4 RECENT\r\n* 3 EXPUNGE\r\n"
          "A005 OK REPLACE completed\r\n");
}

TEST_CASE("RFC 8508 §3.4: only the replaced message goes, \\Deleted or not, no STORE responses",
          "[server][replace]") {
    World w;
    port::Handle c = drafts(w);
    CHECK(w.say(c, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n") == "d OK STORE completed\r\n");
    const std::string r = w.say(c, "r REPLACE 3 Drafts " + literal("x") + "\r\n");
    CHECK(r.find("FETCH") == std::string::npos);
    CHECK(r.find("* 3 EXPUNGE\r\n") != std::string::npos);
    CHECK(r.find("* 1 EXPUNGE") == std::string::npos);
    CHECK(r.find("r OK REPLACE completed\r\n") != std::string::npos);
    CHECK(w.say(c, "f FETCH 1:* UID\r\n") ==
          "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 4)\r\n* 4 FETCH (UID 5)\r\n"
          "f OK FETCH completed\r\n");
}

TEST_CASE("RFC 8508 §3.4: a REPLACE that cannot append leaves the selected mailbox unchanged",
          "[server][replace]") {
    World w;
    port::Handle c = drafts(w);
    // RFC 3501 §6.3.11: TRYCREATE, refused before the literal is sent.
    CHECK(w.say(c, "a REPLACE 1 Nowhere {3}\r\n") == "a NO [TRYCREATE] No such mailbox\r\n");
    // A non-synchronizing literal is read and discarded with its command.
    CHECK(w.say(c, "b REPLACE 1 Nowhere {3+}\r\nabc\r\n") ==
          "b NO [TRYCREATE] No such mailbox\r\n");
    CHECK(w.say(c, "c REPLACE 1 Drafts {0}\r\n") == "c NO Empty message\r\n");
    CHECK(w.say(c, "d REPLACE 9 Drafts {3}\r\n") == "d BAD Invalid message sequence number\r\n");
    CHECK(w.say(c, "e UID REPLACE 99 Drafts {3}\r\n") == "e NO No message with that UID\r\n");
    CHECK(w.say(c, "f REPLACE 1 Drafts (\\Bogus) {3}\r\n").find("f BAD") == 0);
    CHECK(w.say(c, "g REPLACE 0 Drafts {3}\r\n").find("g BAD") == 0);
    // §4.7: one message only.
    CHECK(w.say(c, "h REPLACE 1 Drafts {3+}\r\nabc {3+}\r\ndef\r\n").find("h BAD") == 0);
    CHECK(w.say(c, "i REPLACE 1 Drafts\r\n").find("i BAD") == 0);
    CHECK(w.say(c, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    CHECK(w.say(c, "s STATUS Drafts (MESSAGES UIDNEXT)\r\n") ==
          "* STATUS Drafts (MESSAGES 4 UIDNEXT 5)\r\ns OK STATUS completed\r\n");
}

TEST_CASE("RFC 8508 §3.5: REPLACE only in the selected state, read-write", "[server][replace]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "a REPLACE 1 INBOX {3}\r\n") == "a BAD No mailbox selected\r\n");
    CHECK(w.say(c, "b UID REPLACE 1 INBOX {3+}\r\nabc\r\n") == "b BAD No mailbox selected\r\n");
    CHECK(w.say(c, "p APPEND INBOX " + literal("abc") + "\r\n").find("p OK") == 0);
    CHECK(w.say(c, "e EXAMINE INBOX\r\n").find("e OK [READ-ONLY]") != std::string::npos);
    CHECK(w.say(c, "r REPLACE 1 INBOX {3}\r\n") ==
          "r NO [READ-ONLY] The mailbox is selected read-only\r\n");
    port::Handle d = w.connect();
    w.net.client_receive(d);
    CHECK(w.say(d, "x REPLACE 1 INBOX {3}\r\n") ==
          "x BAD REPLACE is not valid in the "
          "not authenticated state\r\n");
}

TEST_CASE("RFC 8508 §4.5: with QRESYNC the replaced message is VANISHED, HIGHESTMODSEQ in the OK",
          "[server][replace]") {
    World w;
    port::Handle c = drafts(w, "QRESYNC");
    const std::string r = w.say(c, "r UID REPLACE 1 Drafts " + literal("new") + "\r\n");
    CHECK(r.find("* OK [APPENDUID 1700000001 5] Replacement Message ready\r\n* 5 EXISTS\r\n") == 0);
    CHECK(r.find("* VANISHED 1\r\n") != std::string::npos);
    CHECK(r.find("r OK [HIGHESTMODSEQ ") != std::string::npos);
    CHECK(r.find("EXPUNGE") == std::string::npos);
}

TEST_CASE("RFC 8508 §3.4: quota counts the net change of a REPLACE", "[server][replace]") {
    World w(4, true, false, [](Config& cfg) { cfg.quota_messages = 4; });
    port::Handle c = drafts(w);
    // Four messages at the limit: an APPEND is over it, a REPLACE is not.
    CHECK(w.say(c, "a APPEND Drafts {3}\r\n") ==
          "a NO [OVERQUOTA] The mailbox quota would be exceeded\r\n");
    CHECK(w.say(c, "r REPLACE 1 Drafts " + literal("abc") + "\r\n").find("r OK REPLACE") !=
          std::string::npos);
}

TEST_CASE("RFC 8508 §3.4: another session sees the new message and the expunge",
          "[server][replace]") {
    World w;
    port::Handle c = drafts(w);
    port::Handle o = login(w);
    REQUIRE(w.say(o, "s SELECT Drafts\r\n").find("s OK") != std::string::npos);
    CHECK(w.say(c, "r REPLACE 2 Drafts " + literal("abc") + "\r\n").find("r OK REPLACE") !=
          std::string::npos);
    CHECK(w.say(o, "n NOOP\r\n") ==
          "* 2 EXPUNGE\r\n* 4 EXISTS\r\n* 0 RECENT\r\nn OK NOOP completed\r\n");
}

TEST_CASE("RFC 8508 §3.4: a failed append keeps the replaced message; no EXPUNGE is sent",
          "[server][replace]") {
    World w;
    port::Handle c = drafts(w);
    w.fs.fail_from(sim::SimFs::Op::Fsync, 1, Status::Io);
    const std::string r =
        w.say_until_tagged(c, "r REPLACE 2 Drafts " + literal("abc") + "\r\n", "r");
    CHECK(r.find("r NO") != std::string::npos);
    CHECK(r.find("EXPUNGE") == std::string::npos);
    CHECK(r.find("APPENDUID") == std::string::npos);
    w.fs.clear_faults();
    CHECK(w.say(c, "f FETCH 1:* UID\r\n") ==
          "* 1 FETCH (UID 1)\r\n* 2 FETCH (UID 2)\r\n* 3 FETCH (UID 3)\r\n* 4 FETCH (UID 4)\r\n"
          "f OK FETCH completed\r\n");
}
