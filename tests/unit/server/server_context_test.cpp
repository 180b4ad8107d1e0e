// Whole-server CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4) on the
// simulated platform: the CONTEXT hint (§4.2), UPDATE's ADDTO and
// REMOVEFROM for changes by another session and by this one (§4.3,
// §4.3.3, §4.3.4: ADDTO after the FETCH or EXISTS, REMOVEFROM before the
// EXPUNGE), tag reuse (BAD), NOUPDATE (§4.3.1: too many contexts, keys on
// the message text, SORT), CANCELUPDATE (§4.3.5), the errata note on
// sequence numbers (§4.3), and the end of updates with the selection.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

// Four messages behind an expunged one: sequence numbers 1..4 are UIDs
// 2..5. Message 2 (UID 3) is \Deleted and $Junk, message 4 (UID 5) \Seen.
struct Two {
    World w;
    port::Handle a = 0, b = 0;
    Two() {
        a = login(w);
        for (int i = 0; i < 5; ++i) {
            append_to_inbox(w, a, "Subject: m" + std::to_string(i) + "\r\n\r\nbody\r\n");
        }
        w.say(a, "s SELECT INBOX\r\n");
        REQUIRE(w.say(a, "s STORE 1 +FLAGS (\\Deleted)\r\n").find("s OK") != std::string::npos);
        REQUIRE(w.say(a, "s EXPUNGE\r\n").find("s OK") != std::string::npos);
        REQUIRE(w.say(a, "s STORE 2 +FLAGS (\\Deleted $Junk)\r\n").find("s OK") !=
                std::string::npos);
        REQUIRE(w.say(a, "s STORE 4 +FLAGS (\\Seen)\r\n").find("s OK") != std::string::npos);
        b = login(w);
        REQUIRE(w.say(b, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    }
    std::string a_says(const std::string& cmd) { return w.say(a, cmd); }
    std::string b_says(const std::string& cmd) { return w.say(b, cmd); }
};

bool ends_with(const std::string& r, const std::string& s) {
    return r.size() >= s.size() && r.compare(r.size() - s.size(), s.size(), s) == 0;
}

// Position of `s` in `r` (npos fails the comparison it is used in).
std::size_t at(const std::string& r, const std::string& s) {
    const std::size_t p = r.find(s);
    INFO(r);
    REQUIRE(p != std::string::npos);
    return p;
}

}  // namespace

TEST_CASE("RFC 5267 §4.2: CONTEXT is a hint; the other options are answered", "[server][context]") {
    Two t;
    // §4.2's example: RETURN (CONTEXT COUNT).
    CHECK(t.a_says("A01 SEARCH RETURN (CONTEXT COUNT) UNDELETED UNKEYWORD $Junk\r\n") ==
          "* ESEARCH (TAG \"A01\") COUNT 3\r\nA01 OK SEARCH completed\r\n");
    // UPDATE alone asks for no data of its own: the answer is ALL's.
    CHECK(t.a_says("A02 UID SEARCH RETURN (UPDATE) UNDELETED\r\n") ==
          "* ESEARCH (TAG \"A02\") UID ALL 2,4:5\r\nA02 OK SEARCH completed\r\n");
    CHECK(t.a_says("A03 SEARCH RETURN (UPDATE BOGUS) ALL\r\n").compare(0, 8, "A03 BAD ") == 0);
}

TEST_CASE("RFC 5267 §4.3: tag reuse with UPDATE is BAD and has no effect", "[server][context]") {
    Two t;
    // §4.3's example B01.
    CHECK(t.a_says("B01 UID SEARCH RETURN (UPDATE COUNT) DELETED KEYWORD $Junk\r\n") ==
          "* ESEARCH (TAG \"B01\") UID COUNT 1\r\nB01 OK SEARCH completed\r\n");
    const std::string r = t.a_says("B01 SORT RETURN (UPDATE) (ARRIVAL) UTF-8 FLAGGED\r\n");
    CHECK(r.compare(0, 8, "B01 BAD ") == 0);
    CHECK(!has(r, "ESEARCH"));
    CHECK(t.a_says("B01 UID SEARCH RETURN (UPDATE) ALL\r\n").compare(0, 8, "B01 BAD ") == 0);
    // Without UPDATE the tag may be used again (only UPDATE is refused).
    CHECK(t.a_says("B01 UID SEARCH RETURN (COUNT) ALL\r\n") ==
          "* ESEARCH (TAG \"B01\") UID COUNT 4\r\nB01 OK SEARCH completed\r\n");
}

TEST_CASE("RFC 5267 §4.3.3: ADDTO after the FETCH that carries the change", "[server][context]") {
    Two t;
    t.a_says("B01 UID SEARCH RETURN (UPDATE COUNT) DELETED KEYWORD $Junk\r\n");
    // Another session marks messages 3 and 4 (UIDs 4 and 5), as §4.3.3's
    // example: "UID ADDTO (0 32768:32769)" after their FETCH.
    REQUIRE(has(t.b_says("x STORE 3:4 +FLAGS (\\Deleted $Junk)\r\n"), "x OK"));
    const std::string r = t.a_says("n NOOP\r\n");
    INFO(r);
    const std::size_t fetch3 = at(r, "* 3 FETCH (");
    const std::size_t fetch4 = at(r, "* 4 FETCH (");
    const std::size_t addto = at(r, "* ESEARCH (TAG \"B01\") UID ADDTO (0 4:5)\r\n");
    CHECK(fetch3 < addto);
    CHECK(fetch4 < addto);
    CHECK(ends_with(r, "\r\nn OK NOOP completed\r\n"));
    CHECK(!has(r, "COUNT"));  // §4.3.3: only the ADDTO, not the changed COUNT
    // Nothing more until something changes.
    CHECK(t.a_says("n NOOP\r\n") == "n OK NOOP completed\r\n");
    // A change out of the result: REMOVEFROM.
    REQUIRE(has(t.b_says("x STORE 1:2 -FLAGS ($Junk)\r\n"), "x OK"));
    const std::string r2 = t.a_says("n NOOP\r\n");
    INFO(r2);
    CHECK(at(r2, "* 2 FETCH (") < at(r2, "* ESEARCH (TAG \"B01\") UID REMOVEFROM (0 3)\r\n"));
    // A change that leaves the result as it is says nothing of it.
    REQUIRE(has(t.b_says("x STORE 3 +FLAGS (\\Flagged)\r\n"), "x OK"));
    CHECK(!has(t.a_says("n NOOP\r\n"), "ESEARCH"));
}

TEST_CASE("RFC 5267 §4.3.4: REMOVEFROM before the EXPUNGE, numbers still valid",
          "[server][context]") {
    Two t;
    // Sequence numbers: UNDELETED is messages 1, 3, 4.
    CHECK(t.a_says("C01 SEARCH RETURN (UPDATE) UNDELETED\r\n") ==
          "* ESEARCH (TAG \"C01\") ALL 1,3:4\r\nC01 OK SEARCH completed\r\n");
    CHECK(t.a_says("U01 UID SEARCH RETURN (UPDATE MIN) UNDELETED\r\n") ==
          "* ESEARCH (TAG \"U01\") UID MIN 2\r\nU01 OK SEARCH completed\r\n");
    // Another session deletes and expunges message 3 (UID 4): it leaves the
    // result when \Deleted is set, so no REMOVEFROM comes with the EXPUNGE.
    REQUIRE(has(t.b_says("x STORE 3 +FLAGS (\\Deleted)\r\n"), "x OK"));
    REQUIRE(has(t.b_says("x EXPUNGE\r\n"), "x OK"));
    const std::string r = t.a_says("n NOOP\r\n");
    INFO(r);
    // Expunges are reported before flag changes, highest first: message 3
    // (UID 4) is still in both results when its EXPUNGE comes (its \Deleted
    // was never reported), so both contexts remove it first; message 2
    // (UID 3) never was in them.
    const std::size_t rm_seq = at(r, "* ESEARCH (TAG \"C01\") REMOVEFROM (0 3)\r\n");
    const std::size_t rm_uid = at(r, "* ESEARCH (TAG \"U01\") UID REMOVEFROM (0 4)\r\n");
    const std::size_t expunge = at(r, "* 3 EXPUNGE\r\n");
    CHECK(rm_seq < expunge);
    CHECK(rm_uid < expunge);
    CHECK(at(r, "* 2 EXPUNGE\r\n") > expunge);
    CHECK(!has(r, "REMOVEFROM (0 2)"));
    // UPDATE with MIN: every change is notified, not only the minimum (§4.3).
    REQUIRE(has(t.b_says("x STORE 1 +FLAGS (\\Deleted)\r\n"), "x OK"));
    const std::string r2 = t.a_says("n NOOP\r\n");
    INFO(r2);
    CHECK(has(r2, "* ESEARCH (TAG \"U01\") UID REMOVEFROM (0 2)\r\n"));
    CHECK(has(r2, "* ESEARCH (TAG \"C01\") REMOVEFROM (0 1)\r\n"));
}

TEST_CASE("RFC 5267 §4.3.3: ADDTO with sequence numbers comes after EXISTS", "[server][context]") {
    Two t;
    CHECK(t.a_says("C01 SEARCH RETURN (UPDATE COUNT) UNSEEN\r\n") ==
          "* ESEARCH (TAG \"C01\") COUNT 3\r\nC01 OK SEARCH completed\r\n");
    append_to_inbox(t.w, t.b, "Subject: new\r\n\r\nnew\r\n");
    const std::string r = t.a_says("n NOOP\r\n");
    INFO(r);
    CHECK(at(r, "* 5 EXISTS\r\n") < at(r, "* ESEARCH (TAG \"C01\") ADDTO (0 5)\r\n"));
    // This session's own APPEND too: with its answer.
    const std::string own = "Subject: own\r\n\r\nown\r\n";
    const std::string r2 =
        t.a_says("p APPEND INBOX {" + std::to_string(own.size()) + "+}\r\n" + own + "\r\n");
    INFO(r2);
    CHECK(!has(r2, "ADDTO (0 5)"));
    CHECK(at(r2, "* 6 EXISTS\r\n") < at(r2, "* ESEARCH (TAG \"C01\") ADDTO (0 6)\r\n"));
    CHECK(at(r2, "ADDTO (0 6)") < at(r2, "p OK "));
}

TEST_CASE("RFC 5267 §4.3: this session's own STORE updates its contexts", "[server][context]") {
    Two t;
    t.a_says("C01 SEARCH RETURN (UPDATE) UNSEEN\r\n");
    const std::string r = t.a_says("s STORE 1 +FLAGS (\\Seen)\r\n");
    INFO(r);
    CHECK(at(r, "* 1 FETCH (FLAGS (\\Seen \\Recent))\r\n") <
          at(r, "* ESEARCH (TAG \"C01\") REMOVEFROM (0 1)\r\n"));
    CHECK(at(r, "REMOVEFROM") < at(r, "s OK STORE completed\r\n"));
    // .SILENT: no FETCH, the context is told all the same.
    CHECK(t.a_says("s STORE 1,4 -FLAGS.SILENT (\\Seen)\r\n") ==
          "* ESEARCH (TAG \"C01\") ADDTO (0 1,4)\r\ns OK STORE completed\r\n");
    // Reported once: the next NOOP has nothing for it.
    CHECK(t.a_says("n NOOP\r\n") == "n OK NOOP completed\r\n");
}

TEST_CASE("RFC 5267 §4.3 errata: sequence numbers are those of the command's time",
          "[server][context]") {
    Two t;
    // Messages 1:2 are UIDs 2 and 3; UNSEEN among them: both.
    CHECK(t.a_says("C01 UID SEARCH RETURN (UPDATE) 1:2 UNSEEN\r\n") ==
          "* ESEARCH (TAG \"C01\") UID ALL 2:3\r\nC01 OK SEARCH completed\r\n");
    // Message 1 goes; message 3 (UID 4) becomes message 2 and changes:
    // it was not among "1:2" when the command ran, so no ADDTO for it.
    REQUIRE(has(t.b_says("x STORE 1 +FLAGS (\\Deleted)\r\n"), "x OK"));
    REQUIRE(has(t.b_says("x UID EXPUNGE 2\r\n"), "x OK"));
    REQUIRE(has(t.b_says("x STORE 2 +FLAGS (\\Flagged)\r\n"), "x OK"));
    REQUIRE(has(t.b_says("x STORE 2 -FLAGS (\\Seen)\r\n"), "x OK"));
    const std::string r = t.a_says("n NOOP\r\n");
    INFO(r);
    CHECK(at(r, "* ESEARCH (TAG \"C01\") UID REMOVEFROM (0 2)\r\n") < at(r, "* 1 EXPUNGE\r\n"));
    CHECK(!has(r, "ADDTO"));
    // UID 3 (now message 1) leaves when it is seen.
    REQUIRE(has(t.b_says("x STORE 1 +FLAGS (\\Seen)\r\n"), "x OK"));
    CHECK(has(t.a_says("n NOOP\r\n"), "* ESEARCH (TAG \"C01\") UID REMOVEFROM (0 3)\r\n"));
}

TEST_CASE("RFC 5267 §4.3.1: NOUPDATE, the other options still answered", "[server][context]") {
    Two t;
    // SORT contexts are refused (§4.3.1's example B02).
    CHECK(t.a_says("B02 UID SORT RETURN (UPDATE COUNT) (ARRIVAL) UTF-8 KEYWORD $Junk\r\n") ==
          "* ESEARCH (TAG \"B02\") UID COUNT 1\r\n"
          "* NO [NOUPDATE \"B02\"] Sorted results are not followed; UID SEARCH can be\r\n"
          "B02 OK SORT completed\r\n");
    // BODY and TEXT (the whole text of each changed message) are not
    // followed, nor OLDER/YOUNGER (the clock).
    CHECK(t.a_says("T01 SEARCH RETURN (UPDATE COUNT) OR SEEN BODY body\r\n") ==
          "* ESEARCH (TAG \"T01\") COUNT 4\r\n"
          "* NO [NOUPDATE \"T01\"] BODY and TEXT are not followed\r\nT01 OK SEARCH completed\r\n");
    CHECK(has(t.a_says("T02 SEARCH RETURN (UPDATE) TEXT x\r\n"), "[NOUPDATE \"T02\"]"));
    CHECK(has(t.a_says("T03 SEARCH RETURN (UPDATE) YOUNGER 60\r\n"),
              "* NO [NOUPDATE \"T03\"] OLDER and YOUNGER are not followed\r\n"));
    // Two contexts per session; a third is refused.
    CHECK(t.a_says("C01 SEARCH RETURN (UPDATE) SEEN\r\n") ==
          "* ESEARCH (TAG \"C01\") ALL 4\r\nC01 OK SEARCH completed\r\n");
    CHECK(t.a_says("C02 SEARCH RETURN (UPDATE) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"C02\")\r\nC02 OK SEARCH completed\r\n");
    CHECK(t.a_says("C03 SEARCH RETURN (UPDATE COUNT) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"C03\") COUNT 0\r\n"
          "* NO [NOUPDATE \"C03\"] Too many updating contexts\r\nC03 OK SEARCH completed\r\n");
    // The refused ones are not followed; C01 and C02 are.
    REQUIRE(has(t.b_says("x STORE 1 +FLAGS (\\Seen \\Flagged)\r\n"), "x OK"));
    const std::string r = t.a_says("n NOOP\r\n");
    INFO(r);
    CHECK(has(r, "* ESEARCH (TAG \"C01\") ADDTO (0 1)\r\n"));
    CHECK(has(r, "* ESEARCH (TAG \"C02\") ADDTO (0 1)\r\n"));
    CHECK(!has(r, "C03\") ADDTO"));
    CHECK(!has(r, "T01\") ADDTO"));
}

TEST_CASE("RFC 5267 §4.3.5: CANCELUPDATE ends the updates", "[server][context]") {
    Two t;
    t.a_says("B01 UID SEARCH RETURN (UPDATE COUNT) UNSEEN\r\n");
    t.a_says("B02 UID SEARCH RETURN (UPDATE COUNT) SEEN\r\n");
    CHECK(t.a_says("B04 CANCELUPDATE \"B01\"\r\n") == "B04 OK No further updates\r\n");
    REQUIRE(has(t.b_says("x STORE 1 +FLAGS (\\Seen)\r\n"), "x OK"));
    const std::string r = t.a_says("n NOOP\r\n");
    INFO(r);
    CHECK(!has(r, "B01"));
    CHECK(has(r, "* ESEARCH (TAG \"B02\") UID ADDTO (0 2)\r\n"));
    // The tag is free again; a slot too.
    CHECK(t.a_says("B01 UID SEARCH RETURN (UPDATE COUNT) UNSEEN\r\n") ==
          "* ESEARCH (TAG \"B01\") UID COUNT 2\r\nB01 OK SEARCH completed\r\n");
    CHECK(t.a_says("c CANCELUPDATE \"B01\" \"B02\" \"none\"\r\n") == "c OK No further updates\r\n");
    REQUIRE(has(t.b_says("x STORE 1:4 -FLAGS (\\Seen)\r\n"), "x OK"));
    CHECK(!has(t.a_says("n NOOP\r\n"), "ESEARCH"));
    // §5: 1*(SP quoted).
    CHECK(t.a_says("c CANCELUPDATE\r\n").compare(0, 6, "c BAD ") == 0);
    CHECK(t.a_says("c CANCELUPDATE B01\r\n").compare(0, 6, "c BAD ") == 0);
    t.a_says("u UNSELECT\r\n");
    CHECK(t.a_says("c CANCELUPDATE \"B01\"\r\n").compare(0, 6, "c BAD ") == 0);
}

TEST_CASE("RFC 5267 §4.3: updates cease when the mailbox is no longer selected",
          "[server][context]") {
    Two t;
    t.a_says("B01 UID SEARCH RETURN (UPDATE) UNSEEN\r\n");
    REQUIRE(has(t.a_says("s SELECT INBOX\r\n"), "s OK"));
    REQUIRE(has(t.b_says("x STORE 1 +FLAGS (\\Seen)\r\n"), "x OK"));
    CHECK(!has(t.a_says("n NOOP\r\n"), "ESEARCH"));
    // The tag is no longer in use.
    CHECK(has(t.a_says("B01 UID SEARCH RETURN (UPDATE) UNSEEN\r\n"), "B01 OK"));
}

TEST_CASE("RFC 5267 §4.1: CONTEXT=SEARCH and CONTEXT=SORT are advertised", "[server][context]") {
    World w;
    port::Handle c = login(w);
    const std::string caps = w.say(c, "a CAPABILITY\r\n");
    CHECK(has(caps, " CONTEXT=SEARCH "));
    CHECK(has(caps, " ESORT CONTEXT=SORT "));
}

namespace {

// 130 messages, UIDs 1..130; `odd` is "1,3,...,129" (65 single numbers).
struct Many {
    World w;
    port::Handle a = 0, b = 0;
    std::string odd;
    Many() {
        a = login(w);
        for (int i = 0; i < 130; ++i) append_to_inbox(w, a, "Subject: x\r\n\r\nx\r\n");
        REQUIRE(has(w.say(a, "s SELECT INBOX\r\n"), "s OK"));
        b = login(w);
        REQUIRE(has(w.say(b, "s SELECT INBOX\r\n"), "s OK"));
        for (int i = 1; i <= 129; i += 2) odd += (odd.empty() ? "" : ",") + std::to_string(i);
    }
};

}  // namespace

TEST_CASE("RFC 5267 §4.3.1: a result over 64 ranges is not followed (NOUPDATE)",
          "[server][context]") {
    Many t;
    REQUIRE(has(t.w.say(t.a, "s STORE " + t.odd + " +FLAGS.SILENT (\\Flagged)\r\n"), "s OK"));
    const std::string r =
        t.w.say_until_tagged(t.a, "F01 UID SEARCH RETURN (UPDATE COUNT) FLAGGED\r\n", "F01");
    CHECK(r ==
          "* ESEARCH (TAG \"F01\") UID COUNT 65\r\n"
          "* NO [NOUPDATE \"F01\"] Search result too fragmented to follow\r\n"
          "F01 OK SEARCH completed\r\n");
    // The slot was given back: two more contexts can be had.
    CHECK(has(t.w.say(t.a, "G01 UID SEARCH RETURN (UPDATE COUNT) UNFLAGGED\r\n"), "G01 OK"));
    CHECK(!has(t.w.say(t.a, "G02 UID SEARCH RETURN (UPDATE COUNT) SEEN\r\n"), "NOUPDATE"));
}

TEST_CASE("RFC 5267 §4.3.1: additions beyond 64 ranges end the context after the ADDTO of the rest",
          "[server][context]") {
    Many t;
    CHECK(t.w.say(t.a, "F01 UID SEARCH RETURN (UPDATE) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"F01\") UID\r\nF01 OK SEARCH completed\r\n");
    REQUIRE(has(t.w.say(t.b, "s STORE " + t.odd + " +FLAGS.SILENT (\\Flagged)\r\n"), "s OK"));
    const std::string r = t.w.say_until_tagged(t.a, "n NOOP\r\n", "n");
    INFO(r);
    // 65 single UIDs: the first 64 fit the result and are announced after
    // their FETCH; the 65th does not, and the context ends.
    std::string first = "* ESEARCH (TAG \"F01\") UID ADDTO (0 ";
    for (int i = 1; i <= 127; i += 2) first += std::to_string(i) + (i < 127 ? "," : ")\r\n");
    const std::size_t added = at(r, first);
    CHECK(at(r, "* 129 FETCH (") < added);
    CHECK(added < at(r, "* NO [NOUPDATE \"F01\"] Too many changes to follow\r\n"));
    CHECK(!has(r, "129)"));
    CHECK(ends_with(r, "\r\nn OK NOOP completed\r\n"));
    REQUIRE(has(t.w.say(t.b, "s STORE 2 +FLAGS (\\Flagged)\r\n"), "s OK"));
    CHECK(!has(t.w.say(t.a, "n NOOP\r\n"), "ESEARCH"));
}

TEST_CASE("RFC 5267 §4.3.1: a result outgrowing its ranges later ends the context",
          "[server][context]") {
    Many t;
    CHECK(t.w.say(t.a, "U01 UID SEARCH RETURN (UPDATE COUNT) UNFLAGGED\r\n") ==
          "* ESEARCH (TAG \"U01\") UID COUNT 130\r\nU01 OK SEARCH completed\r\n");
    // Taking 65 single messages out of 1:130 leaves 65 ranges: one too many.
    REQUIRE(has(t.w.say(t.b, "s STORE " + t.odd + " +FLAGS.SILENT (\\Flagged)\r\n"), "s OK"));
    const std::string r = t.w.say_until_tagged(t.a, "n NOOP\r\n", "n");
    INFO(r);
    CHECK(has(r, "* NO [NOUPDATE \"U01\"] Too many changes to follow\r\n"));
    // What was sent before it removed the first 64 (UIDs 1..127).
    CHECK(has(r, "* ESEARCH (TAG \"U01\") UID REMOVEFROM (0 1,3,5,"));
    CHECK(!has(r, "REMOVEFROM (0 129)"));
    // No more updates; the tag is free.
    REQUIRE(has(t.w.say(t.b, "s STORE 2 +FLAGS (\\Flagged)\r\n"), "s OK"));
    CHECK(!has(t.w.say(t.a, "n NOOP\r\n"), "ESEARCH"));
    CHECK(has(t.w.say(t.a, "U01 UID SEARCH RETURN (UPDATE COUNT) UNFLAGGED\r\n"), "U01 OK"));
}

TEST_CASE("RFC 5267 §4.3.2: updates reach a client in IDLE", "[server][context]") {
    Two t;
    t.a_says("B01 UID SEARCH RETURN (UPDATE) UNSEEN\r\n");
    CHECK(t.a_says("i IDLE\r\n") == "+ idling\r\n");
    REQUIRE(has(t.b_says("x STORE 1 +FLAGS (\\Seen)\r\n"), "x OK"));
    t.w.run(8, 1000);  // the idle beat
    const std::string r = t.w.net.client_receive(t.a);
    INFO(r);
    CHECK(at(r, "* 1 FETCH (") < at(r, "* ESEARCH (TAG \"B01\") UID REMOVEFROM (0 2)\r\n"));
    CHECK(t.a_says("DONE\r\n") == "i OK IDLE terminated\r\n");
}

TEST_CASE("RFC 5267 §4.3.4: a report longer than the output buffer, then the REMOVEFROM",
          "[server][context]") {
    Many t;
    CHECK(t.w.say(t.a, "U01 SEARCH RETURN (UPDATE COUNT) UNFLAGGED\r\n") ==
          "* ESEARCH (TAG \"U01\") COUNT 130\r\nU01 OK SEARCH completed\r\n");
    REQUIRE(has(t.w.say_until_tagged(t.b, "s STORE 1:130 +FLAGS (\\Flagged)\r\n", "s"), "s OK"));
    const std::string r = t.w.say_until_tagged(t.a, "n NOOP\r\n", "n");
    INFO(r);
    const std::size_t removed = at(r, "* ESEARCH (TAG \"U01\") REMOVEFROM (0 1:130)\r\n");
    CHECK(at(r, "* 130 FETCH (") < removed);
    CHECK(ends_with(r, "\r\nn OK NOOP completed\r\n"));
    CHECK(t.w.say(t.a, "n NOOP\r\n") == "n OK NOOP completed\r\n");
}

TEST_CASE("RFC 5267 §4.3.3: a large mailbox is walked over several turns", "[server][context]") {
    World w;
    port::Handle a = login(w);
    // More than one walk batch (4096 messages).
    for (int i = 0; i < 4200; ++i) append_to_inbox(w, a, "Subject: y\r\n\r\ny\r\n");
    REQUIRE(has(w.say(a, "s SELECT INBOX\r\n"), "s OK"));
    CHECK(w.say_until_tagged(a, "F01 UID SEARCH RETURN (UPDATE) FLAGGED\r\n", "F01") ==
          "* ESEARCH (TAG \"F01\") UID\r\nF01 OK SEARCH completed\r\n");
    port::Handle b = login(w);
    REQUIRE(has(w.say(b, "s SELECT INBOX\r\n"), "s OK"));
    REQUIRE(has(w.say(b, "s STORE 1,4200 +FLAGS.SILENT (\\Flagged)\r\n"), "s OK"));
    const std::string r = w.say_until_tagged(a, "n NOOP\r\n", "n");
    INFO(r);
    // The first batch finds 1, the second 4200: two lines, then the OK.
    CHECK(r ==
          "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))\r\n"
          "* 4200 FETCH (UID 4200 FLAGS (\\Flagged \\Recent))\r\n"
          "* ESEARCH (TAG \"F01\") UID ADDTO (0 1)\r\n"
          "* ESEARCH (TAG \"F01\") UID ADDTO (0 4200)\r\nn OK NOOP completed\r\n");
}

TEST_CASE("RFC 5267 §4.3.4 with QRESYNC: REMOVEFROM before the VANISHED", "[server][context]") {
    Two t;
    t.a_says("u UNSELECT\r\n");
    REQUIRE(has(t.a_says("e ENABLE QRESYNC\r\n"), "e OK"));
    REQUIRE(has(t.a_says("s SELECT INBOX\r\n"), "s OK"));
    t.a_says("B01 UID SEARCH RETURN (UPDATE) UNDELETED\r\n");
    REQUIRE(has(t.b_says("x STORE 1,3 +FLAGS (\\Deleted)\r\n"), "x OK"));
    REQUIRE(has(t.b_says("x EXPUNGE\r\n"), "x OK"));
    const std::string r = t.a_says("n NOOP\r\n");
    INFO(r);
    // UIDs 2 and 4 were in the result (their \Deleted never reported);
    // UID 3 (\Deleted before the search) was not.
    const std::size_t vanished = at(r, "* VANISHED ");
    CHECK(at(r, "* ESEARCH (TAG \"B01\") UID REMOVEFROM (0 4)\r\n") < vanished);
    CHECK(at(r, "* ESEARCH (TAG \"B01\") UID REMOVEFROM (0 2)\r\n") < vanished);
    CHECK(!has(r, "REMOVEFROM (0 3)"));
}

TEST_CASE("RFC 5267 §4.3.4: this session's own MOVE and EXPUNGE", "[server][context]") {
    Two t;
    REQUIRE(has(t.a_says("c CREATE Other\r\n"), "c OK"));
    t.a_says("C01 SEARCH RETURN (UPDATE) UNSEEN\r\n");  // messages 1, 2, 3
    const std::string r = t.a_says("m MOVE 1 Other\r\n");
    INFO(r);
    CHECK(at(r, "* ESEARCH (TAG \"C01\") REMOVEFROM (0 1)\r\n") < at(r, "* 1 EXPUNGE\r\n"));
    CHECK(at(r, "* 1 EXPUNGE\r\n") < at(r, "m OK "));
    // Now messages 1 (UID 3, \Deleted) and 2 (UID 4) are unseen, 3 is seen.
    const std::string e = t.a_says("e EXPUNGE\r\n");
    INFO(e);
    CHECK(e ==
          "* ESEARCH (TAG \"C01\") REMOVEFROM (0 1)\r\n* 1 EXPUNGE\r\ne OK EXPUNGE completed\r\n");
    CHECK(t.a_says("f SEARCH RETURN (ALL) UNSEEN\r\n") ==
          "* ESEARCH (TAG \"f\") ALL 1\r\nf OK SEARCH completed\r\n");
}

TEST_CASE("RFC 5267 §4.3: header keys are followed (the header read again)", "[server][context]") {
    Two t;
    // Subjects m0..m4: the four left are m1..m4 (UIDs 2..5).
    CHECK(t.a_says("H01 UID SEARCH RETURN (UPDATE) OR SUBJECT m2 HEADER X-Tag blue UNSEEN\r\n") ==
          "* ESEARCH (TAG \"H01\") UID ALL 3\r\nH01 OK SEARCH completed\r\n");
    // No Date: field: the internal date (now) counts, as in SEARCH.
    CHECK(t.a_says("H02 SEARCH RETURN (UPDATE) SENTSINCE 1-Jan-2021 NOT FROM carol\r\n") ==
          "* ESEARCH (TAG \"H02\") ALL 1:4\r\nH02 OK SEARCH completed\r\n");
    // New mail: one with the header, one without, one sent in 2020, one
    // from carol.
    append_to_inbox(t.w, t.b, "X-Tag: Blue sky\r\nDate: 2 Feb 2022 10:00:00 +0000\r\n\r\nx\r\n");
    append_to_inbox(t.w, t.b, "X-Tag: red\r\nDate: 2 Feb 2020 10:00:00 +0000\r\n\r\nx\r\n");
    append_to_inbox(t.w, t.b,
                    "From: Carol <carol@x.org>\r\nDate: 3 Mar 2023 00:00:00 +0000\r\n\r\nx\r\n");
    const std::string r = t.a_says("n NOOP\r\n");
    INFO(r);
    CHECK(at(r, "* 7 EXISTS\r\n") < at(r, "* ESEARCH (TAG \"H01\") UID ADDTO (0 6)\r\n"));
    CHECK(has(r, "* ESEARCH (TAG \"H02\") ADDTO (0 5)\r\n"));
    CHECK(!has(r, "ADDTO (0 7)"));
    // A flag change re-evaluates the whole program, header keys included.
    REQUIRE(has(t.b_says("x STORE 2,5 +FLAGS (\\Seen)\r\n"), "x OK"));
    CHECK(has(t.a_says("n NOOP\r\n"), "* ESEARCH (TAG \"H01\") UID REMOVEFROM (0 3,6)\r\n"));
}

TEST_CASE(
    "RFC 5267 §4.3 in an IMAP4rev2 session (RFC 9051 §6.4.4, Appendix E.12): UPDATE with "
    "ESEARCH answers, ADDTO/REMOVEFROM without RECENT or \\Recent",
    "[server][context][rev2]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    for (int i = 0; i < 3; ++i) {
        append_to_inbox(w, b, "Subject: r" + std::to_string(i) + "\r\n\r\nx\r\n");
    }
    REQUIRE(w.say(a, "e ENABLE IMAP4rev2\r\n") ==
            "* ENABLED IMAP4rev2\r\ne OK ENABLE completed\r\n");
    REQUIRE(has(w.say(a, "s SELECT INBOX\r\n"), "s OK [READ-WRITE]"));
    REQUIRE(has(w.say(b, "s SELECT INBOX\r\n"), "s OK"));
    // §6.4.4: a SEARCH with no result option is answered as ALL by
    // ESEARCH, and keeps no context (no UPDATE).
    CHECK(w.say(a, "P01 SEARCH UNSEEN\r\n") ==
          "* ESEARCH (TAG \"P01\") ALL 1:3\r\nP01 OK SEARCH completed\r\n");
    CHECK(w.say(a, "C01 SEARCH RETURN (UPDATE) UNSEEN\r\n") ==
          "* ESEARCH (TAG \"C01\") ALL 1:3\r\nC01 OK SEARCH completed\r\n");
    CHECK(w.say(a, "U01 UID SEARCH RETURN (UPDATE COUNT) UNSEEN\r\n") ==
          "* ESEARCH (TAG \"U01\") UID COUNT 3\r\nU01 OK SEARCH completed\r\n");
    // §4.3's tag rule holds in rev2 too.
    CHECK(w.say(a, "C01 SEARCH RETURN (UPDATE) ALL\r\n").compare(0, 8, "C01 BAD ") == 0);
    // A flag change by another session: the FETCH (with UID, no \Recent,
    // Appendix E.12/E.21), then the REMOVEFROM (§4.3.4).
    REQUIRE(has(w.say(b, "x STORE 2 +FLAGS (\\Seen)\r\n"), "x OK"));
    const std::string r = w.say(a, "n NOOP\r\n");
    INFO(r);
    const std::size_t fetch = at(r, "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n");
    CHECK(fetch < at(r, "* ESEARCH (TAG \"C01\") REMOVEFROM (0 2)\r\n"));
    CHECK(fetch < at(r, "* ESEARCH (TAG \"U01\") UID REMOVEFROM (0 2)\r\n"));
    CHECK(!has(r, "P01"));
    // New mail: EXISTS without RECENT, then ADDTO (§4.3.3).
    append_to_inbox(w, b, "Subject: r3\r\n\r\nx\r\n");
    const std::string r2 = w.say(a, "n NOOP\r\n");
    INFO(r2);
    CHECK(at(r2, "* 4 EXISTS\r\n") < at(r2, "* ESEARCH (TAG \"C01\") ADDTO (0 4)\r\n"));
    CHECK(at(r2, "* 4 EXISTS\r\n") < at(r2, "* ESEARCH (TAG \"U01\") UID ADDTO (0 4)\r\n"));
    CHECK(!has(r2, "RECENT"));
    CHECK(!has(r2, "P01"));
    // An expunge: REMOVEFROM while message 1's number is still valid.
    REQUIRE(has(w.say(b, "x STORE 1 +FLAGS.SILENT (\\Deleted)\r\nx EXPUNGE\r\n"), "x OK EXPUNGE"));
    const std::string r3 = w.say(a, "n NOOP\r\n");
    INFO(r3);
    const std::size_t expunge = at(r3, "* 1 EXPUNGE\r\n");
    CHECK(at(r3, "* ESEARCH (TAG \"C01\") REMOVEFROM (0 1)\r\n") < expunge);
    CHECK(at(r3, "* ESEARCH (TAG \"U01\") UID REMOVEFROM (0 1)\r\n") < expunge);
    CHECK(ends_with(r3, "\r\nn OK NOOP completed\r\n"));
    // CANCELUPDATE (§4.3.5), then rev2's plain SEARCH sees what is left.
    CHECK(w.say(a, "c CANCELUPDATE \"C01\" \"U01\"\r\n") == "c OK No further updates\r\n");
    REQUIRE(has(w.say(b, "x STORE 1:* -FLAGS (\\Seen)\r\n"), "x OK"));
    CHECK(!has(w.say(a, "n NOOP\r\n"), "ESEARCH"));
    CHECK(w.say(a, "P02 SEARCH UNSEEN\r\n") ==
          "* ESEARCH (TAG \"P02\") ALL 1:3\r\nP02 OK SEARCH completed\r\n");
}

TEST_CASE(
    "RFC 5465 §5.1-§5.3 with RFC 5267 §4.3: NOTIFY SET (SELECTED) carries the contexts' "
    "updates between commands, in the RFCs' order",
    "[server][context][notify]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    for (int i = 0; i < 2; ++i) {
        append_to_inbox(w, b, "Subject: n" + std::to_string(i) + "\r\n\r\nx\r\n");
    }
    REQUIRE(has(w.say(b, "s SELECT INBOX\r\n"), "s OK"));
    REQUIRE(has(w.say(a, "s SELECT INBOX\r\n"), "s OK"));
    CHECK(w.say(a, "C01 UID SEARCH RETURN (UPDATE) UNSEEN\r\n") ==
          "* ESEARCH (TAG \"C01\") UID ALL 1:2\r\nC01 OK SEARCH completed\r\n");
    CHECK(w.say(a, "b NOTIFY SET (selected (MessageNew (UID) MessageExpunge FlagChange))\r\n") ==
          "b OK NOTIFY completed\r\n");
    // §7's UPDATE with fetch-atts is not built: BAD, not taken as UPDATE.
    CHECK(w.say(a, "C02 SEARCH RETURN (UPDATE (UID)) ALL\r\n").compare(0, 8, "C02 BAD ") == 0);
    // §5.2: "the EXISTS response MUST precede the ESEARCH response ... The
    // FETCH response(s) MUST follow any ESEARCH ADDTO responses".
    append_to_inbox(w, b, "Subject: n2\r\n\r\nx\r\n");
    CHECK(beats(w, a) ==
          "* 3 EXISTS\r\n* 0 RECENT\r\n* ESEARCH (TAG \"C01\") UID ADDTO (0 3)\r\n"
          "* 3 FETCH (UID 3)\r\n");
    // §5.1: "the FETCH response MUST precede the ESEARCH response".
    REQUIRE(has(w.say(b, "x STORE 1 +FLAGS (\\Seen)\r\n"), "x OK"));
    CHECK(beats(w, a) ==
          "* 1 FETCH (UID 1 FLAGS (\\Seen))\r\n* ESEARCH (TAG \"C01\") UID REMOVEFROM (0 1)\r\n");
    // §5.3 with RFC 5267 §4.3.4: the REMOVEFROM before the EXPUNGE.
    REQUIRE(has(w.say(b, "x STORE 2 +FLAGS.SILENT (\\Deleted)\r\nx EXPUNGE\r\n"), "x OK EXPUNGE"));
    const std::string r = beats(w, a);
    INFO(r);
    CHECK(ends_with(r, "* ESEARCH (TAG \"C01\") UID REMOVEFROM (0 2)\r\n* 2 EXPUNGE\r\n"));
    CHECK(beats(w, a, 2).empty());
}

TEST_CASE(
    "RFC 5465 §6.1.2 with RFC 5267 §4.3.4: SELECTED-DELAYED holds the REMOVEFROM with the "
    "EXPUNGE until a command; without SELECTED, updates wait with the rest",
    "[server][context][notify]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    for (int i = 0; i < 3; ++i) {
        append_to_inbox(w, b, "Subject: d" + std::to_string(i) + "\r\n\r\nx\r\n");
    }
    REQUIRE(has(w.say(b, "s SELECT INBOX\r\n"), "s OK"));
    REQUIRE(has(w.say(a, "s SELECT INBOX\r\n"), "s OK"));
    // Sequence numbers: the delay keeps them valid for the client.
    CHECK(w.say(a, "D01 SEARCH RETURN (UPDATE) ALL\r\n") ==
          "* ESEARCH (TAG \"D01\") ALL 1:3\r\nD01 OK SEARCH completed\r\n");
    CHECK(w.say(a, "b NOTIFY SET (selected-delayed (MessageNew MessageExpunge))\r\n") ==
          "b OK NOTIFY completed\r\n");
    REQUIRE(has(w.say(b, "x STORE 2 +FLAGS.SILENT (\\Deleted)\r\nx EXPUNGE\r\n"), "x OK EXPUNGE"));
    CHECK(beats(w, a, 2).empty());  // neither the EXPUNGE nor its REMOVEFROM
    CHECK(w.say(a, "n NOOP\r\n") ==
          "* ESEARCH (TAG \"D01\") REMOVEFROM (0 2)\r\n* 2 EXPUNGE\r\nn OK NOOP completed\r\n");
    // No SELECTED group (§3.1: as SELECTED NONE): nothing of the selected
    // mailbox in IDLE, the ADDTO comes after the EXISTS when IDLE ends.
    CHECK(w.say(a, "b NOTIFY SET (personal (MailboxName))\r\n") == "b OK NOTIFY completed\r\n");
    CHECK(w.say(a, "i IDLE\r\n") == "+ idling\r\n");
    append_to_inbox(w, b, "Subject: d3\r\n\r\nx\r\n");
    CHECK(beats(w, a, 2).empty());
    const std::string r = w.say(a, "DONE\r\n");
    INFO(r);
    CHECK(at(r, "* 3 EXISTS\r\n") < at(r, "* ESEARCH (TAG \"D01\") ADDTO (0 3)\r\n"));
    CHECK(ends_with(r, "\r\ni OK IDLE terminated\r\n"));
}
