// Whole-server tests of IDLE (RFC 2177), ENABLE (RFC 5161), ID (RFC 2971) and
// NAMESPACE (RFC 2342) on the simulated platform, byte for byte.
#include <catch2/catch.hpp>

#include <string>

#include "core/version.h"
#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

port::Handle login(World& w) {
    port::Handle c = w.connect();
    w.net.client_receive(c);
    w.say(c, "a LOGIN alice wonderland\r\n");
    return c;
}

}  // namespace

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
          "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\nn OK NAMESPACE completed\r\n");
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
