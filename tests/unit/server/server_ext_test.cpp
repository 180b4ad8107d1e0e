// Whole-server tests of IDLE (RFC 2177), ENABLE (RFC 5161), ID (RFC 2971) and
// NAMESPACE (RFC 2342) on the simulated platform, byte for byte.
#include <catch2/catch.hpp>

#include <string>

#include "core/base/version.h"
#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

TEST_CASE("RFC 2177 §3: IDLE reports new mail from another session, DONE ends it",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "i IDLE\r\n") == "+ idling\r\n");
    port::Handle d = login(w);
    CHECK(w.say(d, "b APPEND INBOX {3+}\r\nabc\r\n").find("b OK [APPENDUID") == 0);
    // Within the one-second beat, without any command from the client.
    w.clock.advance(1000);
    w.run();
    CHECK(w.net.client_receive(c) == "* 1 EXISTS\r\n* 1 RECENT\r\n");
    w.clock.advance(5000);
    w.run();
    CHECK(w.net.client_receive(c).empty());  // nothing new: nothing said
    CHECK(w.say(d, "e SELECT INBOX\r\ne2 STORE 1 +FLAGS.SILENT (\\Flagged)\r\n").find("e2 OK") !=
          std::string::npos);
    w.clock.advance(1000);
    w.run();
    CHECK(w.net.client_receive(c) == "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))\r\n");
    CHECK(w.say(c, "DONE\r\n") == "i OK IDLE terminated\r\n");
    CHECK(w.say(c, "n NOOP\r\n") == "n OK NOOP completed\r\n");
}

TEST_CASE("RFC 2177 §3: IDLE without a mailbox, a wrong continuation, autologout",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "i IDLE\r\n") == "+ idling\r\n");
    CHECK(w.say(c, "done\r\n") == "i OK IDLE terminated\r\n");
    CHECK(w.say(c, "j IDLE\r\n") == "+ idling\r\n");
    CHECK(w.say(c, "k NOOP\r\n") == "j BAD Expected DONE to end IDLE\r\n");
    CHECK(w.say(c, "l IDLE\r\n") == "+ idling\r\n");
    // §3: the server may log out a client idle past its timer (RFC 3501 §5.4).
    w.clock.advance(w.cfg.idle_timeout * 1000u);
    w.run();
    CHECK(w.net.client_receive(c) == "* BYE Autologout; idle for too long\r\n");
}

TEST_CASE("RFC 5161 §3.1, RFC 7162 §3.2.3: ENABLE lists what it newly enabled", "[server][ext]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "e ENABLE CONDSTORE X-UNKNOWN\r\n") ==
          "* ENABLED CONDSTORE\r\ne OK ENABLE completed\r\n");
    CHECK(w.say(c, "f ENABLE QRESYNC CONDSTORE\r\n") ==
          "* ENABLED QRESYNC\r\nf OK ENABLE completed\r\n");
    CHECK(w.say(c, "g ENABLE\r\n") == "g BAD Syntax: ENABLE capability ...\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "h ENABLE QRESYNC\r\n") ==
          "h BAD ENABLE is not valid in the selected state\r\n");
}

TEST_CASE("RFC 2971 §3.1: ID in any state; RFC 2342 §5: NAMESPACE", "[server][ext]") {
    World w;
    port::Handle c = w.connect();
    w.net.client_receive(c);
    CHECK(w.say(c, "i ID (\"name\" \"sodr\" \"version\" \"19.34\")\r\n") ==
          "* ID (\"name\" \"tinyimapd\" \"version\" \"" TINYIMAPD_VERSION
          "\")\r\ni OK ID completed\r\n");
    CHECK(w.log.contains("client id: sodr 19.34"));
    CHECK(w.say(c, "j ID NIL\r\n").find("j OK ID completed") != std::string::npos);
    CHECK(w.say(c, "k ID (\"name\")\r\n").find("k BAD") == 0);
    CHECK(w.say(c, "n NAMESPACE\r\n") ==
          "n BAD NAMESPACE is not valid in the not authenticated state\r\n");
    w.say(c, "a LOGIN alice wonderland\r\n");
    CHECK(w.say(c, "n NAMESPACE\r\n") ==
          "* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) NIL\r\nn OK NAMESPACE completed\r\n");
}

TEST_CASE("RFC 7162 §3.1.2.1, §3.2.11: SELECT (CONDSTORE) gives HIGHESTMODSEQ; [CLOSED]",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "p APPEND INBOX {3+}\r\nabc\r\n");
    std::string sel = w.say(c, "s SELECT INBOX\r\n");
    CHECK(sel.find("HIGHESTMODSEQ") == std::string::npos);  // not enabled yet
    sel = w.say(c, "t EXAMINE INBOX (CONDSTORE)\r\n");
    CHECK(sel.find("* OK [CLOSED] Previous mailbox closed\r\n* FLAGS") == 0);
    CHECK(sel.find("* OK [HIGHESTMODSEQ ") != std::string::npos);
    CHECK(sel.find("t OK [READ-ONLY] EXAMINE completed\r\n") != std::string::npos);
    CHECK(w.say(c, "u UNSELECT\r\n") == "u OK UNSELECT completed\r\n");
    // CONDSTORE stays on: the next SELECT reports HIGHESTMODSEQ unasked.
    sel = w.say(c, "v SELECT INBOX\r\n");
    CHECK(sel.find("* FLAGS") == 0);
    CHECK(sel.find("* OK [HIGHESTMODSEQ ") != std::string::npos);
}

TEST_CASE("RFC 7162 §3.2.10.2, §3.1.4: with QRESYNC, expunges are VANISHED and FETCH has MODSEQ",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    for (int i = 0; i < 6; ++i) w.say(d, "p APPEND INBOX {3+}\r\nabc\r\n");
    CHECK(w.say(c, "e ENABLE QRESYNC\r\n") == "* ENABLED QRESYNC\r\ne OK ENABLE completed\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    w.say(d, "s SELECT INBOX\r\n");
    w.say(d, "t STORE 2,4:6 +FLAGS.SILENT (\\Deleted)\r\nx EXPUNGE\r\n");
    w.say(d, "y STORE 1 +FLAGS.SILENT (\\Seen)\r\n");
    const std::string n = w.say(c, "n NOOP\r\n");
    CHECK(n.find("* VANISHED 2,4:6\r\n") == 0);
    CHECK(n.find("* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent) MODSEQ (") != std::string::npos);
    CHECK(n.find("n OK NOOP completed\r\n") != std::string::npos);
    CHECK(n.find("EXPUNGE") == std::string::npos);
}

TEST_CASE("RFC 7162 §3.2.5: SELECT (QRESYNC ...) reports VANISHED (EARLIER) and changed flags",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    for (int i = 0; i < 6; ++i) w.say(c, "p APPEND INBOX {3+}\r\nabc\r\n");
    std::string sel = w.say(c, "s SELECT INBOX (QRESYNC (1 1))\r\n");
    CHECK(sel == "s BAD SELECT (QRESYNC ...) needs ENABLE QRESYNC first\r\n");
    w.say(c, "e ENABLE QRESYNC\r\n");
    sel = w.say(c, "s SELECT INBOX\r\n");
    const std::size_t at = sel.find("[HIGHESTMODSEQ ");
    REQUIRE(at != std::string::npos);
    const std::string modseq = sel.substr(at + 15, sel.find(']', at) - at - 15);
    const std::string validity =
        sel.substr(sel.find("[UIDVALIDITY ") + 13,
                   sel.find(']', sel.find("[UIDVALIDITY ")) - sel.find("[UIDVALIDITY ") - 13);
    w.say(c, "t STORE 3 +FLAGS.SILENT (\\Deleted)\r\nx EXPUNGE\r\n");
    w.say(c, "y STORE 5 +FLAGS.SILENT (\\Flagged)\r\n");
    // UIDs now 1 2 4 5 6; UID 6 (seq 5) changed after `modseq`.
    sel = w.say(c, "r SELECT INBOX (QRESYNC (" + validity + " " + modseq + " 1:7))\r\n");
    CHECK(sel.find("* OK [CLOSED]") == 0);
    CHECK(sel.find("* VANISHED (EARLIER) 3\r\n* 5 FETCH (UID 6 FLAGS (\\Flagged) MODSEQ (") !=
          std::string::npos);
    CHECK(sel.find("r OK [READ-WRITE] SELECT completed\r\n") != std::string::npos);
    // Without known UIDs: every UID below UIDNEXT that is gone.
    sel = w.say(c, "q EXAMINE INBOX (QRESYNC (" + validity + " " + modseq + "))\r\n");
    CHECK(sel.find("* VANISHED (EARLIER) 3\r\n") != std::string::npos);
    // A UIDVALIDITY mismatch: nothing beyond the plain SELECT responses.
    sel = w.say(c, "m EXAMINE INBOX (QRESYNC (42 " + modseq + "))\r\n");
    CHECK(sel.find("VANISHED") == std::string::npos);
    CHECK(sel.find(" FETCH ") == std::string::npos);
    // Up to date: nothing to report.
    sel = w.say(c, "k EXAMINE INBOX (QRESYNC (" + validity + " 999999))\r\n");
    CHECK(sel.find("VANISHED") == std::string::npos);
}

TEST_CASE("RFC 6154 §2, §3: default special-use mailboxes, CREATE USE, LIST (SPECIAL-USE)",
          "[server][ext]") {
    World w(4, true, true);
    port::Handle c = login(w);
    const std::string all = w.say(c, "l LIST \"\" *\r\n");
    CHECK(all.find("* LIST (\\HasNoChildren) \"/\" INBOX\r\n") != std::string::npos);
    CHECK(all.find("* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n") != std::string::npos);
    CHECK(all.find("* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts\r\n") != std::string::npos);
    CHECK(all.find("* LIST (\\HasNoChildren \\Trash) \"/\" Trash\r\n") != std::string::npos);
    CHECK(all.find("* LIST (\\HasNoChildren \\Junk) \"/\" Junk\r\n") != std::string::npos);
    CHECK(all.find("* LIST (\\HasNoChildren \\Archive) \"/\" Archive\r\n") != std::string::npos);
    // §3: CREATE with USE; \All and \Flagged would be virtual: NO [USEATTR].
    CHECK(create_ok(w.say(c, "c CREATE MySpam (USE (\\Junk))\r\n"), "c"));
    CHECK(w.say(c, "d CREATE Everything (USE (\\All))\r\n") ==
          "d NO [USEATTR] \\All and \\Flagged mailboxes are not supported\r\n");
    // use-attr-ext: valid syntax, but not an attribute this server knows.
    CHECK(w.say(c, "e CREATE Bad (USE (\\Frob))\r\n") ==
          "e NO [USEATTR] Unknown special-use attribute\r\n");
    // §5: the selection option returns only special-use mailboxes.
    const std::string special = w.say(c, "f LIST (SPECIAL-USE) \"\" *\r\n");
    CHECK(special.find("INBOX") == std::string::npos);
    CHECK(special.find("* LIST (\\HasNoChildren \\Junk) \"/\" MySpam\r\n") != std::string::npos);
    CHECK(special.find("f OK LIST completed\r\n") != std::string::npos);
    // The attribute moves with RENAME and goes with DELETE.
    CHECK(w.say(c, "g RENAME MySpam Spam\r\n") == "g OK RENAME completed\r\n");
    CHECK(w.say(c, "h LIST \"\" Spam RETURN (SPECIAL-USE)\r\n") ==
          "* LIST (\\HasNoChildren \\Junk) \"/\" Spam\r\nh OK LIST completed\r\n");
    CHECK(w.say(c, "i DELETE Spam\r\n") == "i OK DELETE completed\r\n");
    CHECK(create_ok(w.say(c, "j CREATE Spam\r\n"), "j"));
    CHECK(w.say(c, "k LIST \"\" Spam\r\n") ==
          "* LIST (\\HasNoChildren) \"/\" Spam\r\nk OK LIST completed\r\n");
}

TEST_CASE("RFC 5258 §3: LIST-EXTENDED selection and return options, several patterns",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "a CREATE Fruit/Apple\r\na CREATE Fruit/Banana\r\na CREATE Tofu\r\n");
    w.say(c, "b SUBSCRIBE Fruit/Banana\r\nb SUBSCRIBE Fruit/Peach\r\nb SUBSCRIBE Tofu\r\n");
    // §5 example 2-like: SUBSCRIBED selection; \NonExistent for a name not there.
    std::string r = w.say(c, "c LIST (SUBSCRIBED) \"\" *\r\n");
    CHECK(r.find("* LIST (\\Subscribed) \"/\" Fruit/Banana\r\n") != std::string::npos);
    CHECK(r.find("* LIST (\\NonExistent \\Subscribed) \"/\" Fruit/Peach\r\n") != std::string::npos);
    CHECK(r.find("* LIST (\\Subscribed) \"/\" Tofu\r\n") != std::string::npos);
    CHECK(r.find("Apple") == std::string::npos);
    // RETURN (SUBSCRIBED) on a plain listing marks the subscribed ones.
    r = w.say(c, "d LIST \"\" \"Fruit/%\" RETURN (SUBSCRIBED CHILDREN)\r\n");
    CHECK(r ==
          "* LIST (\\HasNoChildren) \"/\" Fruit/Apple\r\n"
          "* LIST (\\HasNoChildren \\Subscribed) \"/\" Fruit/Banana\r\n"
          "d OK LIST completed\r\n");
    // §3.5 RECURSIVEMATCH: Fruit is not subscribed but has subscribed children.
    r = w.say(c, "e LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\n");
    CHECK(r.find("* LIST (\\Noselect) \"/\" Fruit (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n") !=
          std::string::npos);
    CHECK(r.find("* LIST (\\Subscribed) \"/\" Tofu\r\n") != std::string::npos);
    CHECK(w.say(c, "f LIST (RECURSIVEMATCH) \"\" %\r\n").find("f BAD") == 0);
    // §3.5 table, "yes yes yes": subscribed itself and a subscribed child
    // the pattern does not show: (\Subscribed) + CHILDINFO; with "*" the
    // child is shown, so no CHILDINFO (redundant).
    w.say(c, "h SUBSCRIBE Fruit\r\n");
    r = w.say(c, "i LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\n");
    CHECK(
        r.find(
            "* LIST (\\Noselect \\Subscribed) \"/\" Fruit (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n") !=
        std::string::npos);
    r = w.say(c, "j LIST (SUBSCRIBED RECURSIVEMATCH) \"\" *\r\n");
    CHECK(r.find("CHILDINFO") == std::string::npos);
    w.say(c, "k UNSUBSCRIBE Fruit\r\n");
    // Several patterns: each mailbox once.
    r = w.say(c, "g LIST \"\" (Tofu T* INBOX)\r\n");
    CHECK(r ==
          "* LIST (\\HasNoChildren) \"/\" Tofu\r\n"
          "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
          "g OK LIST completed\r\n");
}

TEST_CASE("RFC 5819 §2: LIST RETURN (STATUS ...) follows each selectable mailbox",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "a CREATE Fruit/Apple\r\n");
    w.say(c, "p APPEND INBOX {3+}\r\nabc\r\n");
    const std::string r = w.say(c, "l LIST \"\" * RETURN (STATUS (MESSAGES UNSEEN))\r\n");
    CHECK(r.find(
              "* LIST (\\HasNoChildren) \"/\" INBOX\r\n* STATUS INBOX (MESSAGES 1 UNSEEN 1)\r\n") !=
          std::string::npos);
    CHECK(r.find("* LIST (\\Noselect \\HasChildren) \"/\" Fruit\r\n* LIST") != std::string::npos);
    CHECK(r.find("* STATUS Fruit/Apple (MESSAGES 0 UNSEEN 0)\r\n") != std::string::npos);
    CHECK(r.find("* STATUS Fruit (") == std::string::npos);
}

TEST_CASE("RFC 9208 §4.1, §4.3.1: GETQUOTAROOT, GETQUOTA, SETQUOTA; OVERQUOTA on APPEND",
          "[server][ext]") {
    World w(4, true, false, [](Config& cfg) {
        cfg.quota_messages = 2;
        cfg.quota_storage_mb = 1;
    });
    port::Handle c = login(w);
    CHECK(w.say(c, "p APPEND INBOX {3+}\r\nabc\r\n").find("p OK [APPENDUID") == 0);
    CHECK(w.say(c, "q GETQUOTAROOT INBOX\r\n") ==
          "* QUOTAROOT INBOX \"\"\r\n* QUOTA \"\" (STORAGE 1 1024 MESSAGE 1 2)\r\n"
          "q OK GETQUOTAROOT completed\r\n");
    CHECK(w.say(c, "r GETQUOTA \"\"\r\n") ==
          "* QUOTA \"\" (STORAGE 1 1024 MESSAGE 1 2)\r\nr OK GETQUOTA completed\r\n");
    CHECK(w.say(c, "s GETQUOTA \"#user/bob\"\r\n") ==
          "s NO [NONEXISTENT] No such quota root; the user's root is \"\"\r\n");
    CHECK(w.say(c, "t SETQUOTA \"\" (STORAGE 512)\r\n") ==
          "t NO [CANNOT] Quotas are set in the server configuration\r\n");
    CHECK(w.say(c, "u CREATE Other\r\nu2 APPEND Other {3+}\r\nxyz\r\n").find("u2 OK") !=
          std::string::npos);
    // Two messages in the user's mailboxes: a third is over the MESSAGE limit.
    CHECK(w.say(c, "v APPEND INBOX {3}\r\n") ==
          "v NO [OVERQUOTA] The mailbox quota would be exceeded\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "w COPY 1 Other\r\n") ==
          "w NO [OVERQUOTA] The mailbox quota would be exceeded\r\n");
    // A MOVE adds nothing to the usage.
    CHECK(w.say(c, "x MOVE 1 Other\r\n").find("x OK") != std::string::npos);
}

TEST_CASE("RFC 9208 §4.2.2, §7: no limits configured: no quota root", "[server][ext]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "q GETQUOTAROOT Nowhere\r\n") ==
          "* QUOTAROOT Nowhere\r\nq OK GETQUOTAROOT completed\r\n");
    CHECK(w.say(c, "r GETQUOTA \"\"\r\n") ==
          "r NO [NONEXISTENT] No quota is configured on this server\r\n");
}

TEST_CASE("RFC 7889 §3.1, §4; RFC 9208 §4.1.4; RFC 8438: STATUS APPENDLIMIT DELETED SIZE",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "p APPEND INBOX (\\Deleted) {3+}\r\nabc\r\np APPEND INBOX {2048+}\r\n" +
                 std::string(2046, 'x') + "\r\n\r\n");
    CHECK(w.say(c, "s STATUS INBOX (APPENDLIMIT DELETED DELETED-STORAGE SIZE MESSAGES)\r\n") ==
          "* STATUS INBOX (APPENDLIMIT 67108864 DELETED 1 DELETED-STORAGE 1 SIZE 2051 "
          "MESSAGES 2)\r\ns OK STATUS completed\r\n");
    CHECK(w.say(c, "t APPEND INBOX {67108865}\r\n") ==
          "t NO [TOOBIG] Message larger than APPENDLIMIT\r\n");
}

TEST_CASE("RFC 3502 §6.3.11: MULTIAPPEND stores all messages with one commit, or none",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "a APPEND INBOX (\\Seen) {3}\r\n") == "+ Ready for the message\r\n");
    CHECK(w.say(c, "one {3}\r\n") == "+ Ready for the message\r\n");
    CHECK(w.say(c, "two \"1-Jan-2024 00:00:00 +0000\" {5+}\r\nthree\r\n") ==
          "a OK [APPENDUID 1700000000 1:3] APPEND completed\r\n");
    CHECK(w.say(c, "s STATUS INBOX (MESSAGES UIDNEXT UNSEEN)\r\n") ==
          "* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UNSEEN 2)\r\ns OK STATUS completed\r\n");
    // A bad second message: nothing of the command is kept.
    CHECK(w.say(c, "b APPEND INBOX {3+}\r\nabc (\\Bogus\r\n").find("b BAD") == 0);
    CHECK(w.say(c, "c APPEND INBOX {3+}\r\nabc {99999999999}\r\n").find("c BAD") == 0);
    CHECK(w.say(c, "d APPEND INBOX {3+}\r\nabc {3}\r\nxyz (\\Seen) {1+}\r\nq\r\n") ==
          "+ Ready for the message\r\nd OK [APPENDUID 1700000000 4:6] APPEND completed\r\n");
    CHECK(w.say(c, "s STATUS INBOX (MESSAGES UIDNEXT)\r\n") ==
          "* STATUS INBOX (MESSAGES 6 UIDNEXT 7)\r\ns OK STATUS completed\r\n");
    const std::string f = w.say(c, "e SELECT INBOX\r\nf FETCH 1:* (UID BODY.PEEK[])\r\n");
    CHECK(f.find("* 3 FETCH (UID 3 BODY[] {5}\r\nthree)") != std::string::npos);
    CHECK(f.find("* 6 FETCH (UID 6 BODY[] {1}\r\nq)") != std::string::npos);
}

TEST_CASE("RFC 3501 §7.4.1, RFC 2180 §4.1: a report larger than the output buffer goes out whole",
          "[server][ext]") {
    World w(4, true, false, [](Config& cfg) { cfg.output_buffer = 4096; });
    port::Handle c = login(w);
    port::Handle d = login(w);
    std::string appends;
    for (int i = 0; i < 600; ++i) appends += "p APPEND INBOX {1+}\r\nx\r\n";
    w.say(d, appends);
    CHECK(w.say(c, "s SELECT INBOX\r\n").find("* 600 EXISTS") != std::string::npos);
    w.say(d, "s SELECT INBOX\r\nu STORE 151:600 +FLAGS.SILENT (\\Deleted)\r\nv EXPUNGE\r\n");
    w.say(d, "p APPEND INBOX {1+}\r\ny\r\n");
    // 450 EXPUNGE lines (7.6 KiB) through a 4 KiB buffer, in order, then
    // EXISTS and the OK.
    std::string all = w.say_until_tagged(c, "n NOOP\r\n", "n");
    std::string expected;
    for (int seq = 600; seq > 150; --seq) expected += "* " + std::to_string(seq) + " EXPUNGE\r\n";
    // The new message is \Recent for the session that appended it (§2.3.2).
    expected += "* 151 EXISTS\r\n* 150 RECENT\r\nn OK NOOP completed\r\n";
    CHECK(all == expected);
    // 120 flag changes with keywords (about 9 KiB).
    w.say(d, "t STORE 1:120 +FLAGS.SILENT (\\Flagged $Important $Work $Later)\r\n");
    all = w.say_until_tagged(c, "m NOOP\r\n", "m");
    // RFC 3501 §7.2.6: the new keywords are announced before a FETCH names them.
    const std::string system = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";
    expected = "* FLAGS (" + system + " $Important $Work $Later)\r\n* OK [PERMANENTFLAGS (" +
               system + " $Important $Work $Later \\*)] Flags permitted\r\n";
    for (int seq = 1; seq <= 120; ++seq) {
        expected += "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(seq) +
                    " FLAGS (\\Flagged \\Recent $Important $Work $Later))\r\n";
    }
    CHECK(all == expected + "m OK NOOP completed\r\n");
    // 150 changes: more than the store's ring of 128 remembers; a scan of
    // the mailbox by modseq reports every changed message all the same.
    w.say(d, "t STORE 1:150 +FLAGS.SILENT ($New)\r\n");
    all = w.say_until_tagged(c, "k NOOP\r\n", "k");
    expected = "* FLAGS (" + system + " $Important $Work $Later $New)\r\n* OK [PERMANENTFLAGS (" +
               system + " $Important $Work $Later $New \\*)] Flags permitted\r\n";
    for (int seq = 1; seq <= 150; ++seq) {
        expected +=
            "* " + std::to_string(seq) + " FETCH (UID " + std::to_string(seq) + " FLAGS (" +
            (seq <= 120 ? "\\Flagged \\Recent $Important $Work $Later $New" : "\\Recent $New") +
            "))\r\n";
    }
    CHECK(all == expected + "k OK NOOP completed\r\n");
    // The view is the client's: message 151 is the new one.
    CHECK(w.say(c, "f FETCH 151 (UID)\r\n") == "* 151 FETCH (UID 601)\r\nf OK FETCH completed\r\n");
}

TEST_CASE("RFC 7162 §3.2.5.1: SELECT (QRESYNC) reports many changed flags through a small buffer",
          "[server][ext]") {
    World w(4, true, false, [](Config& cfg) { cfg.output_buffer = 4096; });
    port::Handle c = login(w);
    std::string appends;
    for (int i = 0; i < 300; ++i) appends += "p APPEND INBOX {1+}\r\nx\r\n";
    w.say(c, appends);
    w.say(c, "e ENABLE QRESYNC\r\n");
    std::string sel = w.say(c, "s SELECT INBOX\r\n");
    const std::size_t at = sel.find("[HIGHESTMODSEQ ");
    REQUIRE(at != std::string::npos);
    const std::string modseq = sel.substr(at + 15, sel.find(']', at) - at - 15);
    w.say(c, "t STORE 1:300 +FLAGS.SILENT (\\Seen)\r\n");
    std::string all =
        w.say_until_tagged(c, "r SELECT INBOX (QRESYNC (1700000000 " + modseq + "))\r\n", "r");
    std::size_t lines = 0;
    for (std::size_t p = all.find(" FETCH (UID "); p != std::string::npos;
         p = all.find(" FETCH (UID ", p + 1)) {
        ++lines;
    }
    CHECK(lines == 300);
    CHECK(all.find("* 300 FETCH (UID 300 FLAGS (\\Seen) MODSEQ (") != std::string::npos);
    CHECK(all.find("r OK [READ-WRITE] SELECT completed\r\n") == all.size() - 36);
}

TEST_CASE("RFC 3501 §6.3.8: a LIST longer than the output buffer streams whole", "[server][ext]") {
    World w(4, true, false, [](Config& cfg) { cfg.output_buffer = 4096; });
    port::Handle c = login(w);
    std::string creates;
    for (int i = 0; i < 200; ++i) creates += "c CREATE Folder" + std::to_string(i) + "/Sub\r\n";
    w.say(c, creates);
    w.say(c, "s SUBSCRIBE Folder7/Sub\r\n");
    const std::string all =
        w.say_until_tagged(c, "l LIST \"\" * RETURN (STATUS (MESSAGES))\r\n", "l");
    std::size_t lists = 0, statuses = 0;
    for (std::size_t p = all.find("* LIST "); p != std::string::npos;
         p = all.find("* LIST ", p + 1))
        ++lists;
    for (std::size_t p = all.find("* STATUS "); p != std::string::npos;
         p = all.find("* STATUS ", p + 1))
        ++statuses;
    CHECK(lists == 401);     // INBOX, 200 parents, 200 children: each once
    CHECK(statuses == 201);  // the selectable ones
    CHECK(all.find("* LIST (\\Noselect \\HasChildren) \"/\" Folder199\r\n") != std::string::npos);
    CHECK(all.find("* LIST (\\HasNoChildren) \"/\" Folder199/Sub\r\n* STATUS Folder199/Sub "
                   "(MESSAGES 0)\r\n") != std::string::npos);
    CHECK(all.find("l OK LIST completed\r\n") == all.size() - 21);
    const std::string sub =
        w.say_until_tagged(c, "r LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\n", "r");
    CHECK(sub ==
          "* LIST (\\Noselect) \"/\" Folder7 (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
          "r OK LIST completed\r\n");
}

TEST_CASE("RFC 2062: FIND [ALL.]MAILBOXES, SUBSCRIBE MAILBOX, RFC822.PEEK, RFC822.TEXT.PEEK",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "c CREATE Work\r\n");
    // §6.3.OBS.3: SUBSCRIBE MAILBOX name, and a mailbox named MAILBOX.
    CHECK(w.say(c, "s SUBSCRIBE MAILBOX Work\r\n") == "s OK SUBSCRIBE completed\r\n");
    CHECK(w.say(c, "t SUBSCRIBE MAILBOX\r\n") == "t OK SUBSCRIBE completed\r\n");
    CHECK(w.say(c, "f FIND MAILBOXES *\r\n") ==
          "* MAILBOX Work\r\n* MAILBOX MAILBOX\r\nf OK FIND completed\r\n");
    CHECK(w.say(c, "u UNSUBSCRIBE MAILBOX Work\r\n") == "u OK UNSUBSCRIBE completed\r\n");
    const std::string all = w.say(c, "g FIND ALL.MAILBOXES *\r\n");
    CHECK(all.find("* MAILBOX INBOX\r\n") != std::string::npos);
    CHECK(all.find("* MAILBOX Work\r\n") != std::string::npos);
    CHECK(all.find("g OK FIND completed\r\n") != std::string::npos);
    CHECK(w.say(c, "h FIND STUFF *\r\n") == "h BAD Syntax: FIND [ALL.]MAILBOXES pattern\r\n");
    // §6.4.5.OBS.1: the .PEEK forms answer under the RFC822 names, no \Seen.
    w.say(c, "p APPEND INBOX {18+}\r\nSubject: x\r\n\r\nbody\r\n");
    w.say(c, "e SELECT INBOX\r\n");
    CHECK(w.say(c, "i FETCH 1 (RFC822.PEEK RFC822.TEXT.PEEK FLAGS)\r\n") ==
          "* 1 FETCH (RFC822 {18}\r\nSubject: x\r\n\r\nbody RFC822.TEXT {4}\r\nbody "
          "FLAGS (\\Recent))\r\ni OK FETCH completed\r\n");
}

TEST_CASE(
    "RFC 3501 §6.4.3, §6.4.2: EXPUNGE and CLOSE of more messages than the store's "
    "pending-expunge list holds",
    "[server][ext]") {
    World w;
    port::Handle c = login(w);
    port::Handle x = login(w);
    std::string appends;
    for (int i = 0; i < 1500; ++i) appends += "p APPEND INBOX (\\Deleted) {1+}\r\nx\r\n";
    w.say(c, appends);
    w.say(c, "p APPEND INBOX {4+}\r\nkeep\r\n");
    CHECK(w.say(x, "s SELECT INBOX\r\n").find("* 1501 EXISTS") != std::string::npos);
    w.say(c, "s SELECT INBOX\r\n");
    // 1500 expunges, more than max_pending_expunges (1024) while x lags.
    const std::string all = w.say_until_tagged(c, "e EXPUNGE\r\n", "e");
    std::size_t lines = 0;
    for (std::size_t p = all.find(" EXPUNGE\r\n"); p != std::string::npos;
         p = all.find(" EXPUNGE\r\n", p + 1)) {
        ++lines;
    }
    CHECK(lines == 1500);
    CHECK(all.find("e OK EXPUNGE completed\r\n") == all.size() - 24);
    CHECK(w.say(c, "f FETCH 1:* (UID BODY.PEEK[])\r\n") ==
          "* 1 FETCH (UID 1501 BODY[] {4}\r\nkeep)\r\nf OK FETCH completed\r\n");
    // The session that lagged behind learns every one of them (RFC 3501
    // §7.4.1), highest first, and keeps its connection.
    const std::string lagged = w.say_until_tagged(x, "n NOOP\r\n", "n");
    CHECK(lagged.find("* 1500 EXPUNGE\r\n") == 0);
    CHECK(lagged.find("* BYE") == std::string::npos);
    lines = 0;
    for (std::size_t p = lagged.find(" EXPUNGE\r\n"); p != std::string::npos;
         p = lagged.find(" EXPUNGE\r\n", p + 1)) {
        ++lines;
    }
    CHECK(lines == 1500);
    CHECK(lagged.size() - lagged.find("* 1 EXPUNGE\r\n") ==
          std::string("* 1 EXPUNGE\r\nn OK NOOP completed\r\n").size());
    CHECK(w.say(x, "f FETCH 1:* (UID)\r\n") == "* 1 FETCH (UID 1501)\r\nf OK FETCH completed\r\n");

    // CLOSE expunges silently, however many.
    std::string more;
    for (int i = 0; i < 1200; ++i) more += "p APPEND INBOX (\\Deleted) {1+}\r\nx\r\n";
    w.say(c, more);
    const std::string close = w.say_until_tagged(c, "g SELECT INBOX\r\nh CLOSE\r\n", "h");
    CHECK(close.find("h OK CLOSE completed\r\n") != std::string::npos);
    CHECK(w.say(c, "i STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 1)\r\ni OK STATUS completed\r\n");
}

TEST_CASE("RFC 3501 §2.3.2: \\Recent is seen by one read-write session only, also after it ends",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "p APPEND INBOX {1+}\r\nx\r\n");
    // EXAMINE sees \Recent without taking it; SELECT takes it.
    CHECK(w.say(c, "e EXAMINE INBOX\r\n").find("* 1 RECENT") != std::string::npos);
    CHECK(w.say(c, "f EXAMINE INBOX\r\n").find("* 1 RECENT") != std::string::npos);
    CHECK(w.say(c, "s SELECT INBOX\r\n").find("* 1 RECENT") != std::string::npos);
    CHECK(w.say(c, "l LOGOUT\r\n").find("l OK") != std::string::npos);
    port::Handle d = login(w);
    CHECK(w.say(d, "s SELECT INBOX\r\n").find("* 0 RECENT") != std::string::npos);
}

TEST_CASE("RFC 2180 §4.2.1: STORE on a message another session expunged stores the others",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    w.say(c, "p APPEND INBOX {1+}\r\nx\r\np APPEND INBOX {1+}\r\ny\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    w.say(d, "s SELECT INBOX\r\nt UID STORE 2 +FLAGS.SILENT (\\Deleted)\r\nu UID EXPUNGE 2\r\n");
    // c has not been told: message 2 still exists for it.
    CHECK(w.say(c, "a STORE 1:2 +FLAGS.SILENT (\\Answered)\r\n") == "a OK STORE completed\r\n");
    CHECK(w.say(c, "n NOOP\r\n") == "* 2 EXPUNGE\r\nn OK NOOP completed\r\n");
    CHECK(w.say(c, "f FETCH 1 FLAGS\r\n") ==
          "* 1 FETCH (FLAGS (\\Answered \\Recent))\r\nf OK FETCH completed\r\n");
}

TEST_CASE("RFC 3502 §6.3.11: a zero-length message is an error; RFC 3516 §4.4: literal8 APPEND",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "a APPEND INBOX {3+}\r\nabc {0+}\r\n\r\n") == "a NO Empty message\r\n");
    CHECK(w.say(c, "b APPEND INBOX {0}\r\n") == "b NO Empty message\r\n");
    CHECK(w.say(c, "s STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 0)\r\ns OK STATUS completed\r\n");
    const char append8[] = "c APPEND INBOX ~{5+}\r\nab\0cd\r\n";
    CHECK(w.say(c, std::string(append8, sizeof append8 - 1)) ==
          "c OK [APPENDUID 1700000000 1] APPEND completed\r\n");
    CHECK(w.say(c, "d APPEND INBOX ~{2}\r\n") == "+ Ready for the message\r\n");
    CHECK(w.say(c, "ok\r\n") == "d OK [APPENDUID 1700000000 2] APPEND completed\r\n");
    w.say(c, "e SELECT INBOX\r\n");
    const char answer8[] = "* 1 FETCH (BINARY[] ~{5}\r\nab\0cd)\r\nf OK FETCH completed\r\n";
    CHECK(w.say(c, "f FETCH 1 BINARY.PEEK[]\r\n") == std::string(answer8, sizeof answer8 - 1));
}

TEST_CASE("RFC 6851 §3.3: UID MOVE of more messages than the pending-expunge list holds",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    port::Handle x = login(w);
    std::string appends;
    for (int i = 0; i < 1300; ++i) appends += "p APPEND INBOX {1+}\r\nx\r\n";
    w.say(c, appends + "q CREATE Archive\r\n");
    w.say(x, "s SELECT INBOX\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    std::string all = w.say_until_tagged(c, "m UID MOVE 1:* Archive\r\n", "m");
    CHECK(all.find("* OK [COPYUID 1700000001 1:1300 1:1300] Moved\r\n") == 0);
    std::size_t lines = 0;
    for (std::size_t p = all.find(" EXPUNGE\r\n"); p != std::string::npos;
         p = all.find(" EXPUNGE\r\n", p + 1)) {
        ++lines;
    }
    CHECK(lines == 1300);
    CHECK(all.find("m OK MOVE completed\r\n") == all.size() - 21);
    CHECK(w.say(c, "t STATUS Archive (MESSAGES)\r\n") ==
          "* STATUS Archive (MESSAGES 1300)\r\nt OK STATUS completed\r\n");
    // The session that lagged learns all 1300 expunges, not BYE.
    const std::string lagged = w.say_until_tagged(x, "n NOOP\r\n", "n");
    CHECK(lagged.find("* 1300 EXPUNGE\r\n") == 0);
    CHECK(lagged.find("* 1 EXPUNGE\r\nn OK NOOP completed\r\n") != std::string::npos);
    CHECK(lagged.find("* BYE") == std::string::npos);
}

TEST_CASE("RFC 7162 §3.2.5.2: seq-match-data shortens VANISHED (EARLIER); long ones stream",
          "[server][ext]") {
    World w(4, true, false, [](Config& cfg) { cfg.output_buffer = 4096; });
    port::Handle c = login(w);
    std::string appends;
    for (int i = 0; i < 3000; ++i) appends += "p APPEND INBOX {1+}\r\nx\r\n";
    w.say(c, appends);
    w.say(c, "e ENABLE QRESYNC\r\ns SELECT INBOX\r\n");
    // Only UIDs divisible by three stay (the RFC's example, smaller).
    std::string keep;
    for (int uid = 3; uid <= 3000; uid += 3)
        keep += (keep.empty() ? "" : ",") + std::to_string(uid);
    (void)w.say_until_tagged(c, "d UID STORE 1:3000 +FLAGS.SILENT (\\Deleted)\r\n", "d");
    (void)w.say_until_tagged(c, "u UID STORE " + keep + " -FLAGS.SILENT (\\Deleted)\r\n", "u");
    std::string all = w.say_until_tagged(c, "x EXPUNGE\r\n", "x");
    REQUIRE(all.find("x OK") != std::string::npos);
    // 2000 holes: about 13 KiB of VANISHED (EARLIER) through a 4 KiB buffer.
    all = w.say_until_tagged(c, "a EXAMINE INBOX (QRESYNC (1700000000 1 1:3000))\r\n", "a");
    std::size_t vanished = 0;
    for (std::size_t p = all.find("* VANISHED (EARLIER) "); p != std::string::npos;
         p = all.find("* VANISHED (EARLIER) ", p + 1)) {
        ++vanished;
    }
    CHECK(vanished >= 1000 / 64);  // 1000 ranges, at most 64 a line
    CHECK(all.find("* VANISHED (EARLIER) 1:2,4:5,7:8,") != std::string::npos);
    CHECK(all.find("BYE") == std::string::npos);
    CHECK(all.find("a OK [READ-ONLY] EXAMINE completed\r\n") != std::string::npos);
    // With a sample of (seq, uid) pairs: seq 5 is UID 15 and seq 8 is UID 24
    // still, so nothing at or below 24 is reported; seq 9 is not UID 99.
    all = w.say_until_tagged(
        c, "b EXAMINE INBOX (QRESYNC (1700000000 1 1:30 (5,8,9 15,24,99)))\r\n", "b");
    CHECK(all.find("* VANISHED (EARLIER) 25:26,28:29\r\n") != std::string::npos);
}

TEST_CASE("RFC 7162 §3.1.3: no spurious [MODIFIED] for a change that changes nothing",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "p APPEND INBOX {1+}\r\nx\r\np APPEND INBOX {1+}\r\ny\r\ns SELECT INBOX\r\n");
    w.say(c, "t STORE 1:2 +FLAGS.SILENT (\\Flagged)\r\n");  // both above modseq 1 now
    const std::string r = w.say(c, "u STORE 1:2 (UNCHANGEDSINCE 1) -FLAGS.SILENT (\\Seen)\r\n");
    CHECK(r.find("u OK STORE completed\r\n") != std::string::npos);
    CHECK(r.find("MODIFIED") == std::string::npos);
    CHECK(w.say(c, "v STORE 1 (UNCHANGEDSINCE 1) +FLAGS.SILENT (\\Seen)\r\n")
              .find("v OK [MODIFIED 1] Conditional STORE failed") != std::string::npos);
}

TEST_CASE("RFC 3501 §7.4.2: the session's own STORE does not hide other sessions' changes",
          "[server][ext]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    std::string appends;
    for (int i = 0; i < 10; ++i) appends += "p APPEND INBOX {1+}\r\nx\r\n";
    w.say(a, appends + "s SELECT INBOX\r\n");
    w.say(b, "s SELECT INBOX\r\nt STORE 1:3 FLAGS.SILENT (\\Answered)\r\n");
    CHECK(w.say(a, "u UID STORE 5,7 +FLAGS (\\Deleted)\r\n") ==
          "* 5 FETCH (FLAGS (\\Deleted \\Recent) UID 5)\r\n"
          "* 7 FETCH (FLAGS (\\Deleted \\Recent) UID 7)\r\nu OK STORE completed\r\n");
    CHECK(w.say(a, "n NOOP\r\n") ==
          "* 1 FETCH (UID 1 FLAGS (\\Answered \\Recent))\r\n"
          "* 2 FETCH (UID 2 FLAGS (\\Answered \\Recent))\r\n"
          "* 3 FETCH (UID 3 FLAGS (\\Answered \\Recent))\r\nn OK NOOP completed\r\n");
}

TEST_CASE("A SEARCH cut short by a forced reconnect ends its line before * BYE", "[server][ext]") {
    World w(4, true, false, [](Config& cfg) { cfg.output_buffer = 4096; });
    port::Handle a = login(w);
    port::Handle b = login(w);
    // Every other message \Deleted: each expunge is a run of its own, and
    // 3000 of them overflow the store's list of runs (1024).
    std::string appends;
    for (int i = 0; i < 6000; ++i) {
        appends += i % 2 == 0 ? "p APPEND INBOX {1+}\r\nx\r\n"
                              : "p APPEND INBOX (\\Deleted) {1+}\r\nx\r\n";
    }
    std::string setup = w.say(b, appends + "s SELECT INBOX\r\n");
    for (int i = 0; i < 2000 && setup.find("s OK") == std::string::npos; ++i) setup += w.say(b, "");
    REQUIRE(setup.find("s OK") != std::string::npos);
    REQUIRE(w.say(a, "s SELECT INBOX\r\n").find("* 6000 EXISTS") != std::string::npos);
    // a's SEARCH runs as a job over many loop turns; b's EXPUNGE meanwhile
    // overflows the pending-expunge list, which ends a's view (the last
    // resort, for expunges too scattered to keep).
    w.net.client_send(a, "q SEARCH ALL\r\n");
    w.net.client_send(b, "x EXPUNGE\r\n");
    std::string all;
    for (int i = 0; i < 400; ++i) {
        w.run(1);
        all += w.net.client_receive(a);
        (void)w.net.client_receive(b);
    }
    const std::size_t bye = all.find("* BYE ");
    REQUIRE(bye != std::string::npos);
    CHECK(all.compare(bye - 2, 2, "\r\n") == 0);  // a line of its own
    CHECK(all.find("* SEARCH 1 2 3 ") == 0);
    CHECK(all.find("q OK") == std::string::npos);
}

TEST_CASE("A mass EXPUNGE is not held up by another session's APPEND still streaming",
          "[server][ext][append]") {
    World w;
    port::Handle c = login(w);
    port::Handle b = login(w);
    std::string appends;
    // Every other message \Deleted: 1200 runs, more than the list holds, so
    // the EXPUNGE needs a compaction, which the APPEND holds up.
    for (int i = 0; i < 2400; ++i) {
        appends += i % 2 == 1 ? "p APPEND INBOX {1+}\r\nx\r\n"
                              : "p APPEND INBOX (\\Deleted) {1+}\r\nx\r\n";
    }
    std::string setup = w.say(c, appends + "s SELECT INBOX\r\n");
    for (int i = 0; i < 200 && setup.find("s OK") == std::string::npos; ++i) setup += w.say(c, "");
    REQUIRE(setup.find("s OK") != std::string::npos);
    // b's APPEND streams into its staging file: the mailbox is not locked.
    CHECK(w.say(b, "a APPEND INBOX {5}\r\n") == "+ Ready for the message\r\n");
    std::string all = w.say(c, "e EXPUNGE\r\n");
    // The compaction runs in the loop's background steps; the EXPUNGE waits
    // for it on its retry timer (20 ms): let simulated time pass.
    for (int i = 0; i < 100 && all.find("e OK") == std::string::npos; ++i) {
        w.run(8, 20);
        all += w.net.client_receive(c);
    }
    CHECK(all.find("e OK EXPUNGE completed\r\n") != std::string::npos);
    CHECK(w.say(b, "hello\r\n").find("a OK [APPENDUID") == 0);
    CHECK(w.say(c, "f STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 1201)\r\nf OK STATUS completed\r\n");
}

TEST_CASE("RFC 8437 §3, §4.1: UNAUTHENTICATE leaves the mailbox unexpunged and resets ENABLE",
          "[server][ext]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "b APPEND INBOX (\\Deleted) {3+}\r\nabc\r\n").find("b OK [APPENDUID") == 0);
    w.say(c, "e ENABLE CONDSTORE\r\n");
    CHECK(w.say(c, "s SELECT INBOX\r\n").find("HIGHESTMODSEQ") != std::string::npos);
    // §3: OK and nothing else (no EXPUNGE, no [CLOSED]); now not authenticated.
    CHECK(w.say(c, "u UNAUTHENTICATE\r\n") == "u OK UNAUTHENTICATE completed\r\n");
    CHECK(w.say(c, "l LIST \"\" *\r\n") ==
          "l BAD LIST is not valid in the not authenticated state\r\n");
    CHECK(w.say(c, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    CHECK(w.say(c, "v UNAUTHENTICATE\r\n") ==
          "v BAD UNAUTHENTICATE is not valid in the not authenticated state\r\n");
    // §3: pipelined with the next authentication (SASL-IR, RFC 4959).
    CHECK(w.say(c, "a2 AUTHENTICATE PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n").find("a2 OK") == 0);
    // §4.1: CONDSTORE as if never enabled; the message was not expunged.
    const std::string sel = w.say(c, "t SELECT INBOX\r\n");
    CHECK(sel.find("* 1 EXISTS") != std::string::npos);
    CHECK(sel.find("HIGHESTMODSEQ") == std::string::npos);
    CHECK(w.say(c, "f FETCH 1 (FLAGS)\r\n") ==
          "* 1 FETCH (FLAGS (\\Deleted))\r\nf OK FETCH completed\r\n");
    CHECK(w.say(c, "u2 UNAUTHENTICATE\r\nl2 LOGIN alice wonderland\r\n")
              .find("u2 OK UNAUTHENTICATE completed\r\nl2 OK [CAPABILITY") == 0);
    CHECK(w.say(c, "x UNAUTHENTICATE now\r\n").find("x BAD") == 0);
}

TEST_CASE("RFC 7888 §5: with literal_plus = no, LITERAL- is announced and enforced",
          "[server][ext]") {
    World w(4, true, false, [](Config& c) { c.literal_plus = false; });
    port::Handle c = w.connect();
    const std::string greeting = w.net.client_receive(c);
    CHECK(greeting.find(" LITERAL- ") != std::string::npos);
    CHECK(greeting.find("LITERAL+") == std::string::npos);  // never both
    CHECK(w.say(c, "a LOGIN {5+}\r\nalice {10+}\r\nwonderland\r\n").find("a OK") == 0);
    const std::string big(4097, 'x');
    // Over 4096 bytes: BAD [TOOBIG], for APPEND too; the data is skipped.
    CHECK(w.say(c, "b APPEND INBOX {4097+}\r\n" + big + "\r\n") ==
          "b BAD [TOOBIG] Non-synchronizing literal over 4096 bytes (LITERAL-)\r\n");
    CHECK(w.say(c, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    CHECK(w.say(c, "c APPEND INBOX {4096+}\r\n" + big.substr(1) + "\r\n").find("c OK [APPENDUID") ==
          0);
    // A synchronizing literal of any size is still fine.
    CHECK(w.say(c, "d APPEND INBOX {4097}\r\n") == "+ Ready for the message\r\n");
    CHECK(w.say(c, big + "\r\n").find("d OK [APPENDUID") == 0);
}
