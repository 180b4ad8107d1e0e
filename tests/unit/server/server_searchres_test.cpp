// Whole-server SEARCHRES (RFC 5182) on the simulated platform, byte for
// byte: SEARCH RETURN (SAVE), "$" wherever a sequence set may be, the
// variable's life (§2.1), its interaction with ESEARCH (§2.4), NOTSAVED
// (§2.5) and the RFC's examples 1-10 (§2.2-§2.4).
#include <catch2/catch.hpp>

#include <string>

#include "core/imap/saved_result.h"
#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

void append(World& w, port::Handle c, const std::string& message, const std::string& flags = "") {
    w.net.client_send(c, "p APPEND INBOX " + (flags.empty() ? "" : "(" + flags + ") ") + "{" +
                             std::to_string(message.size()) + "+}\r\n" + message + "\r\n");
    w.run(8 + static_cast<int>(message.size() / 4096));
    const std::string r = w.net.client_receive(c);
    INFO(r);
    REQUIRE(r.find("p OK") != std::string::npos);
}

// Twelve messages, UIDs 1..12; then message 1 expunged, so messages 1..11
// have UIDs 2..12. Flagged: seq 1 2 5 8 9 (UIDs 2 3 6 9 10). From Smith: 2.
port::Handle twelve(World& w) {
    port::Handle c = login(w);
    for (int i = 1; i <= 12; ++i) {
        const bool flagged = i <= 3 || i == 6 || i == 9 || i == 10;
        const std::string from = i == 3 ? "Smith <smith@example.com>" : "eric@example.com";
        append(w, c,
               "From: " + from + "\r\nSubject: m" + std::to_string(i) + "\r\n\r\n" +
                   std::string(static_cast<std::size_t>(i) * 100, 'x') + "\r\n",
               flagged ? "\\Flagged" : "");
    }
    w.say(c, "s SELECT INBOX\r\n");
    REQUIRE(w.say(c, "x STORE 1 +FLAGS.SILENT (\\Deleted)\r\ny EXPUNGE\r\n") ==
            "x OK STORE completed\r\n* 1 EXPUNGE\r\ny OK EXPUNGE completed\r\n");
    return c;
}

// What "$" holds now, as message numbers (ESEARCH ALL of "SEARCH $").
std::string dollar(World& w, port::Handle c) {
    const std::string r = w.say(c, "d SEARCH RETURN (ALL) $\r\n");
    const std::string head = "* ESEARCH (TAG \"d\")";
    REQUIRE(r.compare(0, head.size(), head) == 0);
    const std::size_t end = r.find("\r\n");
    std::string all = r.substr(head.size(), end - head.size());
    if (all.compare(0, 5, " ALL ") == 0) all = all.substr(5);
    CHECK(r.substr(end + 2) == "d OK SEARCH completed\r\n");
    return all;
}

}  // namespace

TEST_CASE("RFC 5182 §3: SEARCHRES is advertised", "[server][searchres]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "c CAPABILITY\r\n").find(" SEARCHRES ") != std::string::npos);
}

TEST_CASE("RFC 5182 §2.2 examples 1 and 2: SEARCH RETURN (SAVE), then FETCH $, pipelined too",
          "[server][searchres]") {
    World w;
    port::Handle c = twelve(w);
    // SAVE alone: no ESEARCH response (§1), only the tagged OK.
    CHECK(w.say(c, "A282 SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n") ==
          "A282 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A283 FETCH $ (UID FLAGS)\r\n") ==
          "* 1 FETCH (UID 2 FLAGS (\\Flagged \\Recent))\r\n"
          "* 5 FETCH (UID 6 FLAGS (\\Flagged \\Recent))\r\n"
          "* 8 FETCH (UID 9 FLAGS (\\Flagged \\Recent))\r\n"
          "* 9 FETCH (UID 10 FLAGS (\\Flagged \\Recent))\r\n"
          "A283 OK FETCH completed\r\n");
    // Example 2: the two commands in one write; executed in order (§2.3).
    CHECK(w.say(c,
                "B282 SEARCH RETURN (SAVE) FLAGGED FROM \"Smith\"\r\n"
                "B283 FETCH $ (UID)\r\n") ==
          "B282 OK SEARCH completed\r\n"
          "* 2 FETCH (UID 3)\r\n"
          "B283 OK FETCH completed\r\n");
}

TEST_CASE("RFC 5182 §2.2 examples 3 and 4: \"$\" as a SEARCH key, UID $, OR $ n",
          "[server][searchres]") {
    World w;
    port::Handle c = twelve(w);
    REQUIRE(w.say(c, "A300 SEARCH RETURN (SAVE) FLAGGED NOT FROM \"Smith\"\r\n") ==
            "A300 OK SEARCH completed\r\n");
    // Saved: seq 1 5 8 9 = UIDs 2 6 9 10; sizes grow with the UID.
    CHECK(w.say(c, "A301 UID SEARCH UID $ SMALLER 700\r\n") ==
          "* SEARCH 2 6\r\nA301 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A302 UID SEARCH $ SMALLER 700\r\n") ==
          "* SEARCH 2 6\r\nA302 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A303 SEARCH $\r\n") == "* SEARCH 1 5 8 9\r\nA303 OK SEARCH completed\r\n");
    CHECK(w.say(c, "P283 SEARCH CHARSET UTF-8 (OR $ 1,10:11) TEXT {1+}\r\nx\r\n") ==
          "* SEARCH 1 5 8 9 10 11\r\nP283 OK SEARCH completed\r\n");
    CHECK(w.say(c, "A304 SEARCH NOT $\r\n") ==
          "* SEARCH 2 3 4 6 7 10 11\r\nA304 OK SEARCH completed\r\n");
    // A search that reads "$" and saves: "$" is read as it was (§2.1).
    CHECK(w.say(c, "A305 SEARCH RETURN (SAVE) OR $ 2\r\n") == "A305 OK SEARCH completed\r\n");
    CHECK(dollar(w, c) == "1:2,5,8:9");
}

TEST_CASE("RFC 5182 §2.1, §2.2 example 5: a SEARCH answered NO empties $ only with SAVE",
          "[server][searchres]") {
    World w;
    port::Handle c = twelve(w);
    REQUIRE(w.say(c, "B282 SEARCH RETURN (SAVE) FLAGGED\r\n") == "B282 OK SEARCH completed\r\n");
    // Example 5's B283 has no SAVE: §2.1 says such a NO MUST NOT change the
    // variable (the example's comment says otherwise; the normative text wins).
    CHECK(w.say(c, "B283 SEARCH CHARSET KOI8-R (OR $ 1,3000:3021) TEXT {4+}\r\nXXXX\r\n") ==
          "B283 NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset: KOI8-R\r\n");
    CHECK(dollar(w, c) == "1:2,5,8:9");
    // A SEARCH answered BAD changes nothing, even with SAVE.
    CHECK(w.say(c, "B284 SEARCH RETURN (SAVE) FLAGGED 1,$\r\n").find("B284 BAD") == 0);
    CHECK(dollar(w, c) == "1:2,5,8:9");
    // The same NO with SAVE empties it.
    CHECK(w.say(c, "B285 SEARCH RETURN (SAVE) CHARSET KOI8-R (OR $ 1) TEXT {4+}\r\nXXXX\r\n") ==
          "B285 NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset: KOI8-R\r\n");
    CHECK(dollar(w, c).empty());
    REQUIRE(w.say(c, "B286 SEARCH RETURN (SAVE) FLAGGED\r\n") == "B286 OK SEARCH completed\r\n");
    CHECK(w.say(c, "B287 SEARCH RETURN (SAVE) BODY {1025+}\r\n" + std::string(1025, 'y') +
                       "\r\n") == "B287 NO [LIMIT] Search string too long\r\n");
    CHECK(dollar(w, c).empty());
}

TEST_CASE("RFC 5182 §2.1, §2.2 example 6: an empty $ is a valid set that matches nothing",
          "[server][searchres]") {
    World w;
    port::Handle c = twelve(w);
    REQUIRE(create_ok(w.say(c, "c CREATE \"Other Messages\"\r\n"), "c"));
    // Before any SAVE, "$" is empty.
    CHECK(w.say(c, "f FETCH $ FLAGS\r\n") == "f OK FETCH completed\r\n");
    CHECK(w.say(c,
                "E282 SEARCH RETURN (SAVE) SINCE 28-Oct-2006 DELETED\r\n"
                "E283 COPY $ \"Other Messages\"\r\n") ==
          "E282 OK SEARCH completed\r\nE283 OK COPY completed\r\n");
    CHECK(w.say(c, "u UID FETCH $ FLAGS\r\n") == "u OK FETCH completed\r\n");
    CHECK(w.say(c, "s STORE $ +FLAGS (\\Seen)\r\n") == "s OK STORE completed\r\n");
    CHECK(w.say(c, "e UID EXPUNGE $\r\n") == "e OK EXPUNGE completed\r\n");
    CHECK(w.say(c, "t SEARCH $\r\n") == "* SEARCH\r\nt OK SEARCH completed\r\n");
    CHECK(w.say(c, "v STATUS \"Other Messages\" (MESSAGES)\r\n") ==
          "* STATUS \"Other Messages\" (MESSAGES 0)\r\nv OK STATUS completed\r\n");
}

TEST_CASE("RFC 5182 §2.3 examples 7 and 9: pipelined COPY $ and STORE $; the last SAVE wins",
          "[server][searchres]") {
    World w;
    port::Handle c = twelve(w);
    REQUIRE(create_ok(w.say(c, "c CREATE Junk\r\n"), "c"));
    REQUIRE(w.say(c, "k STORE 3,4 +FLAGS.SILENT ($Junk)\r\n").find("k OK") != std::string::npos);
    const std::string r = w.say(c,
                                "F282 SEARCH RETURN (SAVE) KEYWORD $Junk\r\n"
                                "F283 COPY $ \"Junk\"\r\n"
                                "F284 STORE $ +FLAGS.Silent (\\Deleted)\r\n");
    CHECK(r.find("F282 OK SEARCH completed\r\n") == 0);
    CHECK(r.find("F283 OK [COPYUID ") != std::string::npos);
    CHECK(r.find(" 4:5 1:2] COPY completed\r\n") != std::string::npos);
    CHECK(r.find("F284 OK STORE completed\r\n") != std::string::npos);
    CHECK(w.say(c, "q SEARCH DELETED\r\n") == "* SEARCH 3 4\r\nq OK SEARCH completed\r\n");
    // Example 9: H283 replaces H282's result.
    CHECK(w.say(c,
                "H282 SEARCH RETURN (SAVE) KEYWORD $Junk\r\n"
                "H283 SEARCH RETURN (SAVE) FLAGGED FROM \"Smith\"\r\n") ==
          "H282 OK SEARCH completed\r\nH283 OK SEARCH completed\r\n");
    CHECK(dollar(w, c) == "2");
}

TEST_CASE("RFC 5182 §2.4 example 10: what $ holds with MIN, MAX, ALL and COUNT",
          "[server][searchres]") {
    World w;
    port::Handle c = twelve(w);
    // Flagged: 1:2,5,8:9.
    CHECK(w.say(c, "C282 SEARCH RETURN (ALL) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"C282\") ALL 1:2,5,8:9\r\nC282 OK SEARCH completed\r\n");
    CHECK(dollar(w, c).empty());  // without SAVE, $ has not changed
    CHECK(w.say(c, "C283 SEARCH RETURN (ALL SAVE) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"C283\") ALL 1:2,5,8:9\r\nC283 OK SEARCH completed\r\n");
    CHECK(dollar(w, c) == "1:2,5,8:9");
    CHECK(w.say(c, "C284 SEARCH RETURN (SAVE MIN) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"C284\") MIN 1\r\nC284 OK SEARCH completed\r\n");
    CHECK(dollar(w, c) == "1");
    CHECK(w.say(c, "C285 SEARCH RETURN (MAX SAVE MIN) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"C285\") MIN 1 MAX 9\r\nC285 OK SEARCH completed\r\n");
    CHECK(dollar(w, c) == "1,9");
    CHECK(w.say(c, "C286 SEARCH RETURN (SAVE MAX) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"C286\") MAX 9\r\nC286 OK SEARCH completed\r\n");
    CHECK(dollar(w, c) == "9");
    CHECK(w.say(c, "C287 SEARCH RETURN (MAX SAVE MIN COUNT) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"C287\") MIN 1 MAX 9 COUNT 5\r\nC287 OK SEARCH completed\r\n");
    CHECK(dollar(w, c) == "1:2,5,8:9");
    CHECK(w.say(c, "C288 SEARCH RETURN (ALL SAVE MIN) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"C288\") MIN 1 ALL 1:2,5,8:9\r\nC288 OK SEARCH completed\r\n");
    CHECK(dollar(w, c) == "1:2,5,8:9");
    // UID SEARCH: the same messages; a MIN/MAX with nothing found saves nothing.
    CHECK(w.say(c, "C289 UID SEARCH RETURN (SAVE MIN MAX) DELETED\r\n") ==
          "* ESEARCH (TAG \"C289\") UID\r\nC289 OK SEARCH completed\r\n");
    CHECK(dollar(w, c).empty());
    CHECK(w.say(c, "C290 UID SEARCH RETURN (SAVE) UID 6:10\r\n") == "C290 OK SEARCH completed\r\n");
    CHECK(dollar(w, c) == "5:9");
}

TEST_CASE(
    "RFC 5182 §2.1: \"$\" holds the same messages for FETCH and UID FETCH, and an "
    "expunged one leaves it",
    "[server][searchres]") {
    World w;
    port::Handle c = twelve(w);
    REQUIRE(w.say(c, "a UID SEARCH RETURN (SAVE) FLAGGED\r\n") == "a OK SEARCH completed\r\n");
    CHECK(w.say(c, "b UID FETCH $ (FLAGS)\r\n") ==
          "* 1 FETCH (UID 2 FLAGS (\\Flagged \\Recent))\r\n"
          "* 2 FETCH (UID 3 FLAGS (\\Flagged \\Recent))\r\n"
          "* 5 FETCH (UID 6 FLAGS (\\Flagged \\Recent))\r\n"
          "* 8 FETCH (UID 9 FLAGS (\\Flagged \\Recent))\r\n"
          "* 9 FETCH (UID 10 FLAGS (\\Flagged \\Recent))\r\nb OK FETCH completed\r\n");
    // Another session expunges UID 3 (message 2): this one learns of it
    // with its next command, and "$" follows (§2.1, RFC 3501 §7.4.1).
    port::Handle other = login(w);
    w.say(other, "s SELECT INBOX\r\n");
    REQUIRE(w.say(other, "e UID STORE 3 +FLAGS.SILENT (\\Deleted)\r\nx EXPUNGE\r\n").find("x OK") !=
            std::string::npos);
    CHECK(w.say(c, "n NOOP\r\n") == "* 2 EXPUNGE\r\nn OK NOOP completed\r\n");
    CHECK(w.say(c, "f FETCH $ (UID)\r\n") ==
          "* 1 FETCH (UID 2)\r\n* 4 FETCH (UID 6)\r\n* 7 FETCH (UID 9)\r\n* 8 FETCH (UID 10)\r\n"
          "f OK FETCH completed\r\n");
    CHECK(dollar(w, c) == "1,4,7:8");
    // An expunge this session makes itself.
    REQUIRE(w.say(c, "s STORE 4 +FLAGS.SILENT (\\Deleted)\r\n") == "s OK STORE completed\r\n");
    CHECK(w.say(c, "g UID EXPUNGE $\r\n") == "* 4 EXPUNGE\r\ng OK EXPUNGE completed\r\n");
    CHECK(
        w.say(c, "h UID FETCH $ (UID)\r\n") ==
        "* 1 FETCH (UID 2)\r\n* 6 FETCH (UID 9)\r\n* 7 FETCH (UID 10)\r\nh OK FETCH completed\r\n");
}

TEST_CASE("RFC 5182 §2.1: $ in STORE, COPY, MOVE and their UID forms", "[server][searchres]") {
    World w;
    port::Handle c = twelve(w);
    REQUIRE(create_ok(w.say(c, "c CREATE Dest\r\n"), "c"));
    REQUIRE(w.say(c, "a SEARCH RETURN (SAVE) FLAGGED FROM \"Smith\"\r\n") ==
            "a OK SEARCH completed\r\n");
    CHECK(w.say(c, "s STORE $ +FLAGS (\\Seen)\r\n") ==
          "* 2 FETCH (FLAGS (\\Flagged \\Seen \\Recent))\r\ns OK STORE completed\r\n");
    CHECK(w.say(c, "t UID STORE $ -FLAGS (\\Seen)\r\n") ==
          "* 2 FETCH (FLAGS (\\Flagged \\Recent) UID 3)\r\nt OK STORE completed\r\n");
    CHECK(w.say(c, "u UID COPY $ Dest\r\n").find("u OK [COPYUID ") == 0);
    CHECK(w.say(c, "m MOVE $ Dest\r\n").find("* 2 EXPUNGE\r\nm OK") != std::string::npos);
    CHECK(w.say(c, "v STATUS Dest (MESSAGES)\r\n") ==
          "* STATUS Dest (MESSAGES 2)\r\nv OK STATUS completed\r\n");
    // The moved message is gone from "$".
    CHECK(w.say(c, "f FETCH $ (UID)\r\n") == "f OK FETCH completed\r\n");
    REQUIRE(w.say(c, "b SEARCH RETURN (SAVE) 1:2\r\n") == "b OK SEARCH completed\r\n");
    CHECK(w.say(c, "n UID MOVE $ Dest\r\n").find("n OK") != std::string::npos);
    CHECK(w.say(c, "v STATUS Dest (MESSAGES)\r\n") ==
          "* STATUS Dest (MESSAGES 4)\r\nv OK STATUS completed\r\n");
}

TEST_CASE("RFC 5182 §2.1: SELECT, EXAMINE, CLOSE and UNSELECT reset $ to empty",
          "[server][searchres]") {
    World w;
    port::Handle c = twelve(w);
    auto save = [&] {
        REQUIRE(w.say(c, "a SEARCH RETURN (SAVE) FLAGGED\r\n") == "a OK SEARCH completed\r\n");
        REQUIRE(dollar(w, c) == "1:2,5,8:9");
    };
    save();
    REQUIRE(w.say(c, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    CHECK(dollar(w, c).empty());
    save();
    REQUIRE(w.say(c, "e EXAMINE INBOX\r\n").find("e OK") != std::string::npos);
    CHECK(dollar(w, c).empty());
    save();
    REQUIRE(w.say(c, "u UNSELECT\r\n") == "u OK UNSELECT completed\r\n");
    REQUIRE(w.say(c, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    CHECK(dollar(w, c).empty());
    save();
    REQUIRE(w.say(c, "x CLOSE\r\n") == "x OK CLOSE completed\r\n");
    REQUIRE(w.say(c, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    CHECK(dollar(w, c).empty());
    save();
    // A SELECT that fails leaves no mailbox and no result either.
    CHECK(w.say(c, "n SELECT Nowhere\r\n").find("n NO") != std::string::npos);
    REQUIRE(w.say(c, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    CHECK(dollar(w, c).empty());
    // "$" in QRESYNC's parameters is refused: the result belongs to the
    // mailbox being left.
    REQUIRE(w.say(c, "u UNSELECT\r\n") == "u OK UNSELECT completed\r\n");
    REQUIRE(w.say(c, "q ENABLE QRESYNC\r\n").find("q OK") != std::string::npos);
    CHECK(w.say(c, "r SELECT INBOX (QRESYNC (1 1 $))\r\n") ==
          "r BAD $ is not allowed in QRESYNC parameters: $\r\n");
}

TEST_CASE("RFC 5182 §2.5: a result of too many ranges is refused with NO [NOTSAVED], $ empty",
          "[server][searchres]") {
    World w;
    port::Handle c = login(w);
    const int messages = static_cast<int>(imap::SavedResult::kCapacity) * 2 + 2;
    for (int i = 1; i <= messages; ++i) {
        append(w, c, "Subject: n\r\n\r\nb\r\n", i % 2 == 1 ? "\\Flagged" : "");
    }
    w.say(c, "s SELECT INBOX\r\n");
    // kCapacity separate ranges fit.
    const std::string fits = "1:" + std::to_string(2 * imap::SavedResult::kCapacity);
    CHECK(w.say(c, "a SEARCH RETURN (SAVE) FLAGGED " + fits + "\r\n") ==
          "a OK SEARCH completed\r\n");
    CHECK(w.say(c, "f SEARCH RETURN (COUNT) $\r\n") ==
          "* ESEARCH (TAG \"f\") COUNT " + std::to_string(imap::SavedResult::kCapacity) +
              "\r\nf OK SEARCH completed\r\n");
    // One more is refused; the ESEARCH answer itself is still given.
    CHECK(w.say_until_tagged(c, "b SEARCH RETURN (SAVE COUNT) FLAGGED\r\n", "b") ==
          "* ESEARCH (TAG \"b\") COUNT " + std::to_string(imap::SavedResult::kCapacity + 1) +
              "\r\nb NO [NOTSAVED] Search result too fragmented to save (over 64 ranges)\r\n");
    CHECK(dollar(w, c).empty());
    // MIN/MAX alone never overflows.
    CHECK(w.say(c, "m SEARCH RETURN (SAVE MIN MAX) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"m\") MIN 1 MAX " + std::to_string(messages - 1) +
              "\r\nm OK SEARCH completed\r\n");
    CHECK(dollar(w, c) == "1," + std::to_string(messages - 1));
}

TEST_CASE("RFC 5182 §3: \"$\" must stand alone as a sequence set", "[server][searchres]") {
    World w;
    port::Handle c = twelve(w);
    CHECK(w.say(c, "a FETCH 1,$ FLAGS\r\n") ==
          "a BAD Invalid sequence set: $ must stand alone: 1,$\r\n");
    CHECK(w.say(c, "b FETCH $:3 FLAGS\r\n") ==
          "b BAD Invalid sequence set: $ must stand alone: $:3\r\n");
    CHECK(w.say(c, "c FETCH \"$\" FLAGS\r\n").find("c BAD") == 0);
}
