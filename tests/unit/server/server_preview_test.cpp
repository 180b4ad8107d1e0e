// Whole-server PREVIEW (RFC 8970) on the simulated platform: FETCH PREVIEW
// and PREVIEW (LAZY), quoted when 7-bit and a literal otherwise (§3.3, §6),
// the empty string when there is no readable text (§3.2), the first text
// part decoded, a large message walked in bounded steps, and the RFC's
// example 3 with SEARCHRES.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

const std::string kPlain =
    "From: foo@example.com\r\nSubject: a\r\n\r\nPreview   text!\r\n\r\nMore.\r\n";
const std::string kHtml =
    "From: bar@example.com\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    "<html><head><title>x</title></head><body><p>Gr=FC=DFe &amp; "
    "<b>hallo</b></p></body></html>\r\n";
const std::string kImage =
    "From: foo@example.com\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "iVBORw0KGgo=\r\n";
const std::string kQuote = "Subject: q\r\n\r\nSay \"hi\" \\ bye\r\n";

}  // namespace

TEST_CASE("RFC 8970 §3.2, §3.3, §6: FETCH PREVIEW, quoted or a literal, \"\" without text",
          "[server][preview]") {
    World w;
    port::Handle c = login(w);
    for (const std::string& m : {kPlain, kHtml, kImage, kQuote}) append_to_inbox(w, c, m);
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "A1 FETCH 1 (PREVIEW)\r\n") ==
          "* 1 FETCH (PREVIEW \"Preview text! More.\")\r\nA1 OK FETCH completed\r\n");
    // 8-bit UTF-8: a literal (§3.3: UTF-8, not transfer-encoded).
    CHECK(w.say(c, "A2 FETCH 2 (RFC822.SIZE PREVIEW)\r\n") ==
          "* 2 FETCH (RFC822.SIZE " + std::to_string(kHtml.size()) +
              " PREVIEW {15}\r\nGr\xC3\xBC\xC3\x9F"
              "e & hallo)\r\nA2 OK FETCH completed\r\n");
    // No readable text: the empty string, never NIL (§3.2).
    CHECK(w.say(c, "A3 FETCH 3 PREVIEW\r\n") ==
          "* 3 FETCH (PREVIEW \"\")\r\nA3 OK FETCH completed\r\n");
    // Quoted-specials: the encoder sends a literal (core/imap/encoder.h).
    CHECK(w.say(c, "A4 FETCH 4 PREVIEW (LAZY)\r\n") ==
          "* 4 FETCH (PREVIEW {14}\r\nSay \"hi\" \\ bye)\r\nA4 OK FETCH completed\r\n");
    // Example 2's form; LAZY is answered in full here (§4.1 allows NIL, never requires it).
    CHECK(w.say(c, "B1 FETCH 1:4 (UID PREVIEW (LAZY))\r\n") ==
          "* 1 FETCH (UID 1 PREVIEW \"Preview text! More.\")\r\n"
          "* 2 FETCH (UID 2 PREVIEW {15}\r\nGr\xC3\xBC\xC3\x9F"
          "e & hallo)\r\n"
          "* 3 FETCH (UID 3 PREVIEW \"\")\r\n"
          "* 4 FETCH (UID 4 PREVIEW {14}\r\nSay \"hi\" \\ bye)\r\n"
          "B1 OK FETCH completed\r\n");
    // Asked again: the same answer (§3.2 SHOULD), from the FETCH cache.
    CHECK(w.say(c, "B2 FETCH 2 PREVIEW\r\n") ==
          "* 2 FETCH (PREVIEW {15}\r\nGr\xC3\xBC\xC3\x9F"
          "e & hallo)\r\nB2 OK FETCH completed\r\n");
    CHECK(w.say(c, "B3 FETCH 1 PREVIEW (FAST)\r\n").find("B3 BAD") == 0);
}

TEST_CASE("RFC 8970 §5 example 3: SEARCH RETURN (SAVE) then FETCH $ (UID PREVIEW (LAZY))",
          "[server][preview][searchres]") {
    World w;
    port::Handle c = login(w);
    for (const std::string& m : {kPlain, kHtml, kImage, kQuote}) append_to_inbox(w, c, m);
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "C2 SEARCH RETURN (SAVE) FROM \"FOO\"\r\nC3 FETCH $ (UID PREVIEW (LAZY))\r\n") ==
          "C2 OK SEARCH completed\r\n"
          "* 1 FETCH (UID 1 PREVIEW \"Preview text! More.\")\r\n"
          "* 3 FETCH (UID 3 PREVIEW \"\")\r\n"
          "C3 OK FETCH completed\r\n");
}

TEST_CASE(
    "RFC 8970 §8: the preview of a large message is found in bounded steps, at most 200 "
    "characters",
    "[server][preview]") {
    World w;
    port::Handle c = login(w);
    // A 5 MB attachment before the text: the walk (256 KiB per call, 8 calls
    // per turn of the loop) goes over several turns.
    std::string big =
        "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        "Content-Type: application/octet-stream\r\n\r\n";
    for (int i = 0; i < 66000; ++i) big += std::string(76, 'A') + "\r\n";
    big += "--b\r\nContent-Type: text/plain\r\n\r\n";
    for (int i = 0; i < 100; ++i) big += "word" + std::to_string(i) + " ";
    big += "\r\n--b--\r\n";
    const std::string appended = w.say_until_tagged(
        c, "p APPEND INBOX {" + std::to_string(big.size()) + "+}\r\n" + big + "\r\n", "p");
    REQUIRE(appended.find("p OK") != std::string::npos);
    w.say(c, "s SELECT INBOX\r\n");
    port::Handle other = login(w);
    w.net.client_send(c, "A1 FETCH 1 PREVIEW\r\n");
    w.run(2);
    std::string r = w.net.client_receive(c);
    CHECK(r.find("A1 OK") == std::string::npos);  // not done in two turns
    // Another client is answered meanwhile.
    w.net.client_send(other, "n NOOP\r\n");
    w.run(1);
    CHECK(w.net.client_receive(other) == "n OK NOOP completed\r\n");
    r += w.say_until_tagged(c, "", "A1");
    const std::string head = "* 1 FETCH (PREVIEW \"word0 word1 word2 ";
    REQUIRE(r.compare(0, head.size(), head) == 0);
    const std::size_t end = r.find("\")\r\n");
    REQUIRE(end != std::string::npos);
    const std::string text = r.substr(std::string("* 1 FETCH (PREVIEW \"").size(),
                                      end - std::string("* 1 FETCH (PREVIEW \"").size());
    CHECK(text.size() <= 200);
    CHECK(text.size() >= 190);
    CHECK(text.back() != ' ');
    CHECK(r.substr(end) == "\")\r\nA1 OK FETCH completed\r\n");
}
