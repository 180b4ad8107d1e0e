// Whole-server I18NLEVEL=1 (RFC 5255 §4.2, §4.3, §4.6) on the simulated
// platform: SEARCH's text keys compare with i;unicode-casemap (RFC 5051)
// beyond ASCII and Latin-1, in headers (RFC 2047-decoded) and bodies
// (transfer-decoded, converted to UTF-8), and SORT's string keys collate
// with it; the capability is advertised.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

// UTF-8 for the tests: Greek, Cyrillic, decomposed and composed forms.
const std::string kSophia = "\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x99\xCE\x91";  // ΣΟΦΙΑ
const std::string kSophiaSmall = "\xCF\x83\xCE\xBF\xCF\x86\xCE\xB9\xCE\xB1";
const std::string kMoskva = "\xD0\x9C\xD0\x9E\xD0\xA1\xD0\x9A\xD0\x92\xD0\x90";  // МОСКВА
const std::string kMoskSmall = "\xD0\xBC\xD0\xBE\xD1\x81\xD0\xBA";               // моск

const std::string kMessages[] = {
    // 1: Greek capitals in an encoded-word Subject (base64 of ΣΟΦΙΑ).
    "From: a@x.org\r\nSubject: =?utf-8?b?zqPOn86mzpnOkQ==?= notes\r\n\r\nplain body\r\n",
    // 2: Cyrillic capitals in a quoted-printable body.
    "From: b@x.org\r\nSubject: trip\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    "to =D0=9C=D0=9E=D0=A1=D0=9A=D0=92=D0=90 soon\r\n",
    // 3: "cafe" with a combining acute accent (decomposed) in the body.
    "From: c@x.org\r\nSubject: menu\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "cafe\xCC\x81 au lait\r\n",
};

std::string searched(const std::string& numbers) {
    return "* SEARCH" + numbers + "\r\ns OK SEARCH completed\r\n";
}

std::string literal(const std::string& s) {
    return "{" + std::to_string(s.size()) + "+}\r\n" + s;
}

}  // namespace

TEST_CASE("RFC 5255 §4.3: I18NLEVEL=1 is advertised", "[server][i18n]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "a CAPABILITY\r\n").find(" I18NLEVEL=1 ") != std::string::npos);
}

TEST_CASE("RFC 5255 §4.2, §4.6: SEARCH text keys compare with i;unicode-casemap",
          "[server][i18n]") {
    World w;
    port::Handle c = login(w);
    for (const std::string& m : kMessages) append_to_inbox(w, c, m);
    w.say(c, "s SELECT INBOX\r\n");
    auto search = [&](const std::string& keys) { return w.say(c, "s " + keys + "\r\n"); };
    // Greek small letters find the capitals of a decoded header.
    CHECK(search("SEARCH CHARSET UTF-8 SUBJECT " + literal(kSophiaSmall)) == searched(" 1"));
    CHECK(search("SEARCH CHARSET UTF-8 TEXT " + literal(kSophiaSmall + " NOTES")) ==
          searched(" 1"));
    CHECK(search("SEARCH CHARSET UTF-8 HEADER Subject " + literal(kSophia)) == searched(" 1"));
    // Cyrillic, in a transfer-decoded body.
    CHECK(search("SEARCH CHARSET UTF-8 BODY " + literal(kMoskSmall)) == searched(" 2"));
    CHECK(search("SEARCH CHARSET UTF-8 BODY " + literal(kMoskva)) == searched(" 2"));
    // A composed É finds e + COMBINING ACUTE ACCENT (RFC 5051 §2 (2)(b)).
    CHECK(search("SEARCH CHARSET UTF-8 BODY " + literal("CAF\xC3\x89 AU")) == searched(" 3"));
    CHECK(search("SEARCH CHARSET UTF-8 NOT BODY " + literal("caf\xC3\xA9")) == searched(" 1 2"));
    // ASCII as before.
    CHECK(search("SEARCH BODY PLAIN") == searched(" 1"));
}

TEST_CASE("RFC 5255 §4.2: SORT's SUBJECT collates with i;unicode-casemap", "[server][i18n]") {
    World w;
    port::Handle c = login(w);
    // Raw UTF-8 headers need a session that enabled UTF8=ACCEPT (RFC 6855
    // §4); the SORT runs in a session that did not.
    port::Handle u = login(w);
    REQUIRE(w.say(u, "e ENABLE UTF8=ACCEPT\r\n") ==
            "* ENABLED UTF8=ACCEPT\r\ne OK ENABLE completed\r\n");
    append_to_inbox(w, u, "Subject: " + kSophiaSmall + "\r\n\r\nx\r\n");
    append_to_inbox(w, u, "Subject: " + kMoskva + "\r\n\r\nx\r\n");
    append_to_inbox(w, u, "Subject: " + kSophia + "\r\n\r\nx\r\n");
    append_to_inbox(w, u, "Subject: zebra\r\n\r\nx\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    // Latin before Greek before Cyrillic; the two Greek subjects are equal
    // and keep their sequence order.
    CHECK(w.say(c, "s SORT (SUBJECT) UTF-8 ALL\r\n") ==
          "* SORT 4 1 3 2\r\ns OK SORT completed\r\n");
}

TEST_CASE("RFC 5530 LIMIT: a string whose prepared form is too long is refused", "[server][i18n]") {
    World w;
    port::Handle c = login(w);
    append_to_inbox(w, c, "Subject: x\r\n\r\nx\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    // 1020 bytes, under the 1024-byte limit, but U+FDFA prepares to 33 bytes.
    std::string wide;
    for (int i = 0; i < 340; ++i) wide += "\xEF\xB7\xBA";
    CHECK(w.say(c, "s SEARCH CHARSET UTF-8 BODY " + literal(wide) + "\r\n") ==
          "s NO [LIMIT] Search string too long\r\n");
}
