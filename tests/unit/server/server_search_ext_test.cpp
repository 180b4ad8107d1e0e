// Whole-server SEARCH extensions on the simulated platform, byte for byte:
// decoded header and body matching (RFC 3501 §6.4.4 with RFC 2045 §6.7,
// §6.8 and RFC 2047), ESEARCH (RFC 4731 §3.1, RFC 4466 §2.6.2) and the
// CONDSTORE MODSEQ search key (RFC 7162 §3.1.5, §3.1.6, §3.1.10; RFC 4731
// §3.2).
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

void append(World& w, port::Handle c, const std::string& message, const std::string& flags = "") {
    w.net.client_send(c, "p APPEND INBOX " + (flags.empty() ? "" : "(" + flags + ") ") + "{" +
                             std::to_string(message.size()) + "+}\r\n" + message + "\r\n");
    w.run(8 + static_cast<int>(message.size() / 4096));
    const std::string r = w.net.client_receive(c);
    INFO(r << (w.log.lines().empty() ? "" : w.log.lines().back()));
    REQUIRE(r.find("p OK") != std::string::npos);
}

// The number in "[HIGHESTMODSEQ n]" of a response, or 0.
std::uint64_t highest_modseq(const std::string& r) {
    const std::size_t at = r.find("[HIGHESTMODSEQ ");
    if (at == std::string::npos) return 0;
    return std::stoull(r.substr(at + 15));
}

const std::string kDecoded[] = {
    // 1: encoded words in From and Subject, a quoted-printable body.
    "From: =?ISO-8859-1?Q?Andr=E9_Pirard?= <pirard@example.org>\r\n"
    "Subject: =?utf-8?B?R3LDvMOfZQ==?= =?utf-8?q?_aus_K=C3=B6ln?=\r\n"
    "Date: Tue, 1 Feb 1994 23:59:59 -1200\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Caf=C3=A9 au lait, a soft=\r\nbreak.\r\n",
    // 2: multipart with a base64 ISO-8859-1 part and a base64 attachment.
    "From: bob@example.com\r\n"
    "To: =?utf-8?q?J=C3=B6rg?= <joerg@example.com>, carol@example.com\r\n"
    "Cc: =?koi8-r?b?8NLJ18XU?= <ivan@example.ru>\r\n"
    "Subject: report\r\n"
    "Date: 2 Feb 1994 00:00:01 +1400\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "SGVsbG8gd29ybGQg6WzodmU=\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "c2VjcmV0IHBheWxvYWQ=\r\n"
    "--b1--\r\n",
    // 3: nothing encoded; no Date: header.
    "From: Smith <smith@example.com>\r\nSubject: plain\r\nX-Note: =41 stays\r\n"
    "\r\nNothing to decode =41 here.\r\n",
};

}  // namespace

TEST_CASE("RFC 3501 §6.4.4, RFC 2047: header keys match decoded, unfolded field values",
          "[server][search]") {
    World w;
    port::Handle c = login(w);
    for (const std::string& m : kDecoded) append(w, c, m);
    w.say(c, "s SELECT INBOX\r\n");
    auto search = [&](const std::string& keys) { return w.say(c, "s " + keys + "\r\n"); };
    CHECK(search("SEARCH FROM \"Andr\xC3\xA9 pirard\"") ==
          "* SEARCH 1\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH CHARSET UTF-8 SUBJECT {17+}\r\nGr\xC3\xBC\xC3\x9F"
                 "e aus K\xC3\xB6ln") == "* SEARCH 1\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH SUBJECT =?utf-8?") == "* SEARCH\r\ns OK SEARCH completed\r\n");
    // Latin-1 letters fold too: "KÖLN" finds "Köln".
    CHECK(search("SEARCH CHARSET UTF-8 SUBJECT \"K\xC3\x96LN\"") ==
          "* SEARCH 1\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH TO \"J\xC3\xB6rg <joerg\"") == "* SEARCH 2\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH TO carol") == "* SEARCH 2\r\ns OK SEARCH completed\r\n");
    // Unknown charset: the decoded bytes as they are.
    CHECK(search("SEARCH CC ivan@example.ru") == "* SEARCH 2\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH HEADER X-Note \"=41 stays\"") ==
          "* SEARCH 3\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH HEADER Date \"\"") == "* SEARCH 1 2\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH BCC x") == "* SEARCH\r\ns OK SEARCH completed\r\n");
}

TEST_CASE("RFC 3501 §6.4.4, RFC 2045 §6.7, §6.8: BODY and TEXT match decoded parts",
          "[server][search]") {
    World w;
    port::Handle c = login(w);
    for (const std::string& m : kDecoded) append(w, c, m);
    w.say(c, "s SELECT INBOX\r\n");
    auto search = [&](const std::string& keys) { return w.say(c, "s " + keys + "\r\n"); };
    CHECK(search("SEARCH BODY \"caf\xC3\xA9 AU LAIT\"") ==
          "* SEARCH 1\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH BODY softbreak") == "* SEARCH 1\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH BODY \"world \xC3\xA9l\xC3\xA8ve\"") ==
          "* SEARCH 2\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH BODY \"secret payload\"") == "* SEARCH 2\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH BODY SGVsbG8") == "* SEARCH\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH BODY \"=41 here\"") == "* SEARCH 3\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH BODY pirard") == "* SEARCH\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH TEXT pirard") == "* SEARCH 1\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH TEXT \"K\xC3\xB6ln\"") == "* SEARCH 1\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH TEXT payload") == "* SEARCH 2\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH OR BODY payload TEXT smith") ==
          "* SEARCH 2 3\r\ns OK SEARCH completed\r\n");
    const std::string long_needle(1025, 'x');
    CHECK(search("SEARCH BODY {1025+}\r\n" + long_needle) ==
          "s NO [LIMIT] Search string too long\r\n");
}

TEST_CASE("RFC 3501 §6.4.4: SENT* compare the Date: header's date, time and zone disregarded",
          "[server][search]") {
    World w;
    port::Handle c = login(w);
    for (const std::string& m : kDecoded) append(w, c, m);
    w.say(c, "s SELECT INBOX\r\n");
    auto search = [&](const std::string& keys) { return w.say(c, "s " + keys + "\r\n"); };
    // Message 1 was sent on 1-Feb-1994 in its zone (2-Feb in UTC), message 2
    // on 2-Feb-1994 (1-Feb in UTC); message 3 has no Date: (internal date).
    CHECK(search("SEARCH SENTON 1-Feb-1994") == "* SEARCH 1\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH SENTON 2-Feb-1994") == "* SEARCH 2\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH SENTBEFORE 2-Feb-1994") == "* SEARCH 1\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH SENTSINCE 2-Feb-1994") == "* SEARCH 2 3\r\ns OK SEARCH completed\r\n");
    // RFC 2822 §4.3 obs-year: "94" is 1994, "03" is 2003.
    append(w, c, "Date: 3 Mar 94 10:00 EST\r\nSubject: old\r\n\r\nx\r\n");
    append(w, c, "Date: Mon,03 Mar 03 10:00:00 +0000 (UTC)\r\nSubject: old\r\n\r\nx\r\n");
    w.say(c, "n NOOP\r\n");
    CHECK(search("SEARCH SENTON 3-Mar-1994") == "* SEARCH 4\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH SENTON 3-Mar-2003") == "* SEARCH 5\r\ns OK SEARCH completed\r\n");
}

TEST_CASE("RFC 4731 §3.1: SEARCH RETURN (MIN MAX COUNT ALL) and UID SEARCH RETURN",
          "[server][search]") {
    World w;
    port::Handle c = login(w);
    for (int i = 1; i <= 12; ++i) {
        const bool flagged = i <= 3 || i == 6 || i == 9 || i == 10;
        append(w, c, "Subject: m" + std::to_string(i) + "\r\n\r\nbody\r\n",
               flagged ? "\\Flagged" : "");
    }
    w.say(c, "s SELECT INBOX\r\n");
    w.say(c, "x STORE 1 +FLAGS.SILENT (\\Deleted)\r\ny EXPUNGE\r\n");
    // Now messages 1..11 have UIDs 2..12; flagged: seq 1 2 5 8 9 (UIDs 2 3 6 9 10).
    auto search = [&](const std::string& tag, const std::string& keys) {
        return w.say(c, tag + " " + keys + "\r\n");
    };
    CHECK(search("A282", "SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED") ==
          "* ESEARCH (TAG \"A282\") MIN 1 MAX 9 COUNT 5 ALL 1:2,5,8:9\r\n"
          "A282 OK SEARCH completed\r\n");
    CHECK(search("A283", "UID SEARCH RETURN (ALL MIN COUNT MAX) FLAGGED") ==
          "* ESEARCH (TAG \"A283\") UID MIN 2 MAX 10 COUNT 5 ALL 2:3,6,9:10\r\n"
          "A283 OK SEARCH completed\r\n");
    CHECK(search("t1", "SEARCH RETURN () FLAGGED") ==
          "* ESEARCH (TAG \"t1\") ALL 1:2,5,8:9\r\nt1 OK SEARCH completed\r\n");
    CHECK(search("t2", "SEARCH RETURN (MIN) UNFLAGGED") ==
          "* ESEARCH (TAG \"t2\") MIN 3\r\nt2 OK SEARCH completed\r\n");
    CHECK(search("t3", "UID SEARCH RETURN (MIN MAX) 1:5000") ==
          "* ESEARCH (TAG \"t3\") UID MIN 2 MAX 12\r\nt3 OK SEARCH completed\r\n");
    CHECK(search("t4", "SEARCH RETURN (COUNT) ALL") ==
          "* ESEARCH (TAG \"t4\") COUNT 11\r\nt4 OK SEARCH completed\r\n");
    CHECK(search("t5", "SEARCH RETURN (ALL) ALL") ==
          "* ESEARCH (TAG \"t5\") ALL 1:11\r\nt5 OK SEARCH completed\r\n");
    // No match: the correlator (and UID) only; COUNT is always given (§3.1).
    CHECK(search("x", "SEARCH RETURN (MIN MAX ALL) DELETED") ==
          "* ESEARCH (TAG \"x\")\r\nx OK SEARCH completed\r\n");
    CHECK(search("y", "UID SEARCH RETURN () DELETED") ==
          "* ESEARCH (TAG \"y\") UID\r\ny OK SEARCH completed\r\n");
    CHECK(search("z", "SEARCH RETURN (COUNT MIN) DELETED") ==
          "* ESEARCH (TAG \"z\") COUNT 0\r\nz OK SEARCH completed\r\n");
    CHECK(search("b", "SEARCH RETURN (NOTIFY) ALL").find("b BAD") == 0);  // UPDATE: RFC 5267
}

TEST_CASE("RFC 4731 §3.1: a long ALL streams, MAX and COUNT follow it", "[server][search]") {
    World w;
    port::Handle c = login(w);
    for (int i = 1; i <= 80; ++i) append(w, c, "Subject: x\r\n\r\nb\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    std::string all;
    for (int i = 1; i <= 80; i += 2) all += (i == 1 ? "" : ",") + std::to_string(i);
    REQUIRE(w.say(c, "f STORE " + all + " +FLAGS.SILENT (\\Flagged)\r\n") ==
            "f OK STORE completed\r\n");
    CHECK(w.say(c, "e SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"e\") MIN 1 ALL " + all +
              " MAX 79 COUNT 40\r\n"
              "e OK SEARCH completed\r\n");
    // Exactly as many ranges as are held: still in MIN MAX COUNT ALL order.
    std::string held;
    for (int i = 1; i <= 63; i += 2) held += (i == 1 ? "" : ",") + std::to_string(i);
    CHECK(w.say(c, "g SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED 1:63\r\n") ==
          "* ESEARCH (TAG \"g\") MIN 1 MAX 63 COUNT 32 ALL " + held +
              "\r\n"
              "g OK SEARCH completed\r\n");
    // Plain SEARCH over many matches streams too.
    std::string plain = "* SEARCH";
    for (int i = 1; i <= 80; ++i) plain += " " + std::to_string(i);
    CHECK(w.say(c, "h SEARCH ALL\r\n") == plain + "\r\nh OK SEARCH completed\r\n");
}

TEST_CASE("RFC 7162 §3.1.5, §3.1.6: SEARCH MODSEQ enables CONDSTORE and reports MODSEQ",
          "[server][search]") {
    World w;
    port::Handle c = login(w);
    for (int i = 1; i <= 5; ++i) append(w, c, "Subject: m\r\n\r\nb\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    w.say(c, "f STORE 2,4 +FLAGS.SILENT (\\Draft)\r\n");
    const std::string r = w.say(c, "a SEARCH MODSEQ \"/flags/\\\\draft\" all 1\r\n");
    const std::uint64_t h = highest_modseq(r);
    REQUIRE(h > 0);
    // The CONDSTORE-enabling command announces HIGHESTMODSEQ first (§3.1.2.1).
    CHECK(r == "* OK [HIGHESTMODSEQ " + std::to_string(h) +
                   "] CONDSTORE enabled\r\n* SEARCH 1 2 3 4 5 (MODSEQ " + std::to_string(h) +
                   ")\r\na OK SEARCH completed\r\n");
    // Messages 2 and 4 changed last, together.
    CHECK(w.say(c, "b SEARCH MODSEQ " + std::to_string(h) + "\r\n") ==
          "* SEARCH 2 4 (MODSEQ " + std::to_string(h) + ")\r\nb OK SEARCH completed\r\n");
    CHECK(w.say(c, "c SEARCH MODSEQ " + std::to_string(h + 1) + "\r\n") ==
          "* SEARCH\r\nc OK SEARCH completed\r\n");
    CHECK(w.say(c, "d SEARCH OR NOT MODSEQ 1 LARGER 50000\r\n") ==
          "* SEARCH\r\nd OK SEARCH completed\r\n");
    // RFC 7162 §3.1.10, RFC 4731 §3.2.
    CHECK(w.say(c, "e SEARCH RETURN (ALL) MODSEQ 1\r\n") ==
          "* ESEARCH (TAG \"e\") ALL 1:5 MODSEQ " + std::to_string(h) +
              "\r\ne OK SEARCH completed\r\n");
    const std::string m1 = w.say(c, "m FETCH 1 (MODSEQ)\r\n");
    const std::uint64_t first = std::stoull(m1.substr(m1.find("MODSEQ (") + 8));
    const std::string m5 = w.say(c, "m FETCH 5 (MODSEQ)\r\n");
    const std::uint64_t last = std::stoull(m5.substr(m5.find("MODSEQ (") + 8));
    REQUIRE(first < last);
    REQUIRE(last < h);
    CHECK(w.say(c, "g UID SEARCH RETURN (MIN) MODSEQ 1\r\n") ==
          "* ESEARCH (TAG \"g\") UID MIN 1 MODSEQ " + std::to_string(first) +
              "\r\ng OK SEARCH completed\r\n");
    CHECK(w.say(c, "i SEARCH RETURN (MIN MAX) MODSEQ 1\r\n") ==
          "* ESEARCH (TAG \"i\") MIN 1 MAX 5 MODSEQ " + std::to_string(last) +
              "\r\ni OK SEARCH completed\r\n");
    CHECK(w.say(c, "j SEARCH RETURN (COUNT) MODSEQ " + std::to_string(h + 1) + "\r\n") ==
          "* ESEARCH (TAG \"j\") COUNT 0\r\nj OK SEARCH completed\r\n");
}

TEST_CASE("DESIGN.md: a SEARCH through large bodies yields to other clients and resumes",
          "[server][search]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    const std::string filler(300 * 1024, 'x');
    for (int i = 1; i <= 24; ++i) {
        append(w, a, "Subject: big\r\n\r\n" + filler + (i == 17 ? " needle" : "") + "\r\n");
    }
    w.say(a, "s SELECT INBOX\r\n");
    w.net.client_send(a, "s SEARCH BODY needle\r\n");
    w.run(1);
    std::string got = w.net.client_receive(a);
    CHECK(got.find("s OK") == std::string::npos);  // still searching
    w.net.client_send(b, "n NOOP\r\n");
    w.run(1);
    CHECK(w.net.client_receive(b) == "n OK NOOP completed\r\n");
    got += w.net.client_receive(a);
    CHECK(got.find("s OK") == std::string::npos);
    w.run(16);
    got += w.net.client_receive(a);
    CHECK(got == "* SEARCH 17\r\ns OK SEARCH completed\r\n");
}

TEST_CASE("RFC 5032 §2: OLDER and YOUNGER compare INTERNALDATE with now minus the interval",
          "[server][search]") {
    World w;
    port::Handle c = login(w);
    // Messages appended 0, 100 and 200 seconds into the test (the simulated
    // clock's time is their INTERNALDATE).
    for (int i = 0; i < 3; ++i) {
        if (i > 0) w.clock.advance(100 * 1000);
        append(w, c, "Subject: m" + std::to_string(i + 1) + "\r\n\r\nx\r\n");
    }
    w.clock.advance(50 * 1000);  // now: 250 s after the first
    w.say(c, "s SELECT INBOX\r\n");
    auto search = [&](const std::string& keys) { return w.say(c, "s " + keys + "\r\n"); };
    CHECK(search("SEARCH YOUNGER 150") == "* SEARCH 2 3\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH OLDER 150") == "* SEARCH 1 2\r\ns OK SEARCH completed\r\n");  // 150: equal
    CHECK(search("SEARCH OLDER 151") == "* SEARCH 1\r\ns OK SEARCH completed\r\n");
    CHECK(search("SEARCH YOUNGER 10") == "* SEARCH\r\ns OK SEARCH completed\r\n");
    CHECK(search("UID SEARCH NOT OLDER 100000") == "* SEARCH 1 2 3\r\ns OK SEARCH completed\r\n");
    // §3: the interval is an nz-number.
    CHECK(search("SEARCH YOUNGER 0").rfind("s BAD", 0) == 0);
    CHECK(search("SEARCH OLDER").rfind("s BAD", 0) == 0);
    CHECK(w.say(c, "c CAPABILITY\r\n").find(" WITHIN") != std::string::npos);
}
