// core/mime/text_search: the streaming matcher and SEARCH BODY/TEXT over
// decoded MIME parts (RFC 3501 §6.4.4; RFC 2045 §6.7, §6.8; RFC 2046 §5.1;
// RFC 2047).
#include "core/mime/text_search.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/unit/mime_test_support.h"

using tinyimapd::MemorySource;
using tinyimapd::mime::message_text_contains;
using tinyimapd::mime::TextMatcher;
using tinyimapd::mime::TextScope;
using tinyimapd::mime::TextWalk;
using tinyimapd::mime::WalkStep;
using tinyimapd::testing::crlf;
using tinyimapd::testing::TrickleReader;

namespace {

bool matches_split(const std::string& hay, const std::string& needle) {
    std::vector<std::uint16_t> table(needle.size() + 1);
    bool all = true, any = false;
    for (std::size_t split = 0; split <= hay.size(); ++split) {
        TextMatcher m;
        REQUIRE(m.prepare(needle, table.data(), table.size()));
        m.write(hay.data(), split);
        m.write(hay.data() + split, hay.size() - split);
        all = all && m.found();
        any = any || m.found();
    }
    REQUIRE(all == any);  // the split never changes the answer
    return all;
}

// The same search as a TextWalk in steps of `budget` bytes, with its
// scratch and the matcher's table overwritten between steps (as other
// sessions do with the shared buffer): the answer must not change.
bool walk(const std::string& message, const std::string& needle, TextScope scope,
          std::size_t scratch_size, std::uint64_t budget) {
    std::vector<std::uint16_t> table(needle.size() + 1);
    TextMatcher m;
    REQUIRE(m.prepare(needle, table.data(), table.size()));
    std::vector<char> scratch(scratch_size);
    auto w = std::make_unique<TextWalk>();
    MemorySource r(message);
    w->start(scope, message.size(), m);
    for (std::size_t steps = 0; steps <= message.size() + 64; ++steps) {
        std::uint64_t left = budget;
        const WalkStep st = w->step(r, m, scratch.data(), scratch.size(), &left);
        if (st != WalkStep::More) return st == WalkStep::Found;
        std::fill(scratch.begin(), scratch.end(), '-');
        std::fill(table.begin(), table.end(), std::uint16_t{0xABCD});
        m.rebind(table.data(), table.size());
    }
    FAIL("the walk never ended");
    return false;
}

bool search(const std::string& message, const std::string& needle, TextScope scope,
            std::size_t scratch_size = 16384, std::size_t step = 0) {
    std::vector<std::uint16_t> table(needle.size() + 1);
    TextMatcher m;
    REQUIRE(m.prepare(needle, table.data(), table.size()));
    std::vector<char> scratch(scratch_size);
    bool found = false;
    if (step > 0) {
        TrickleReader r(message, step);
        found = message_text_contains(r, scope, m, scratch.data(), scratch.size());
    } else {
        MemorySource r(message);
        found = message_text_contains(r, scope, m, scratch.data(), scratch.size());
    }
    if (scratch_size >= 16384) {
        for (std::uint64_t budget : {1, 5, 64, 4096}) {
            INFO("TextWalk with a budget of " << budget);
            CHECK(walk(message, needle, scope, scratch_size - 4096, budget) == found);
        }
    }
    return found;
}

bool body(const std::string& message, const std::string& needle) {
    return search(message, needle, TextScope::Body);
}
bool text(const std::string& message, const std::string& needle) {
    return search(message, needle, TextScope::Text);
}

const std::string kMultipart = crlf(
    "From: =?ISO-8859-1?Q?Andr=E9?= <andre@example.org>\n"
    "Subject: =?utf-8?B?R3LDvMOfZQ==?= aus =?utf-8?q?K=C3=B6ln?=\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\n"
    "\n"
    "preamble words\n"
    "--outer\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "Caf=C3=A9 au lait, a soft=\n"
    "break and =3D signs.\n"
    "--outer\n"
    "Content-Type: multipart/alternative; boundary=inner\n"
    "\n"
    "--inner\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "SGVsbG8g\n"
    "d29ybGQg6WzodmU=\n"
    "--inner\n"
    "Content-Type: text/html; charset=windows-1252\n"
    "\n"
    "<p>\x93quoted\x94 \x80 5</p>\n"
    "--inner--\n"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: =?iso-8859-15?q?inner_=A4_subject?=\n"
    "Content-Type: text/plain\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "ZW5jYXBzdWxhdGVkIGJvZHk=\n"
    "--outer--\n"
    "epilogue words\n");

}  // namespace

TEST_CASE("TextMatcher: KMP over pieces split anywhere, ASCII and Latin-1 case folded") {
    CHECK(matches_split("hello world", "O W"));
    CHECK(matches_split("aaab", "aab"));
    CHECK(matches_split("abababc", "ababc"));
    CHECK(matches_split("xxabcabcabd", "ABCABD"));
    CHECK_FALSE(matches_split("abcab", "abcabc"));
    CHECK(matches_split("caf\xC3\xA9", "\xC3\xA9"));
    CHECK(matches_split("CAF\xC3\x89", "caf\xC3\xA9"));  // U+00C9 and U+00E9
    CHECK(
        matches_split("GR\xC3\x9C\xC3\x9F"
                      "E",
                      "gr\xC3\xBC\xC3\x9F"
                      "e"));
    CHECK_FALSE(matches_split("\xC3\x97", "\xC3\xB7"));  // multiplication and division signs
    CHECK_FALSE(matches_split("\xC3\x89", "\xC3\xA8"));
    CHECK_FALSE(matches_split("\xC4\x89", "\xC4\xA9"));  // only after a C3 lead byte
    CHECK_FALSE(matches_split("\xCE\x91", "\xCE\xB1"));  // Greek: exact
    CHECK(matches_split("anything", ""));
    CHECK(matches_split("", ""));
    CHECK_FALSE(matches_split("", "a"));
}

TEST_CASE("TextMatcher: a needle longer than its table never matches") {
    std::uint16_t table[2];
    TextMatcher m;
    CHECK_FALSE(m.prepare("abc", table, 2));
    m.write("abc", 3);
    CHECK_FALSE(m.found());
}

TEST_CASE("RFC 3501 §6.4.4 BODY: decoded bodies of every part (RFC 2045 §6.7, §6.8)") {
    CHECK(body(kMultipart, "caf\xC3\xA9 AU LAIT"));              // quoted-printable
    CHECK(body(kMultipart, "softbreak and = signs"));            // soft line break, =3D
    CHECK(body(kMultipart, "hello world \xC3\xA9l\xC3\xA8ve"));  // base64, ISO-8859-1
    CHECK(body(kMultipart, "\xE2\x80\x9Cquoted\xE2\x80\x9D \xE2\x82\xAC 5"));  // Windows-1252
    CHECK(body(kMultipart, "encapsulated body"));  // message/rfc822, base64
    CHECK_FALSE(body(kMultipart, "Caf=C3=A9"));    // not the encoded form
    CHECK_FALSE(body(kMultipart, "SGVsbG8"));
    CHECK_FALSE(body(kMultipart, "preamble"));
    CHECK_FALSE(body(kMultipart, "epilogue"));
    CHECK_FALSE(body(kMultipart, "Andr"));  // headers are not BODY
    // The encapsulated message's header is in the outer body (RFC 2046 §5.2.1).
    CHECK(body(kMultipart, "inner \xE2\x82\xAC subject"));
    CHECK_FALSE(body(kMultipart, "multipart/alternative"));  // MIME headers are not
}

TEST_CASE("RFC 3501 §6.4.4 TEXT: headers decoded (RFC 2047) and bodies") {
    CHECK(text(kMultipart, "from: Andr\xC3\xA9 <andre@"));
    CHECK(text(kMultipart,
               "Gr\xC3\xBC\xC3\x9F"
               "e aus K\xC3\xB6ln"));
    CHECK(text(kMultipart, "inner \xE2\x82\xAC subject"));  // encapsulated header, ISO-8859-15
    CHECK(text(kMultipart, "caf\xC3\xA9 au lait"));
    CHECK(text(kMultipart, "charset=iso-8859-1"));  // MIME headers are text too
    CHECK_FALSE(text(kMultipart, "=?utf-8?"));
    CHECK_FALSE(text(kMultipart, "epilogue"));
}

TEST_CASE("RFC 3501 §6.4.4: a match straddling read windows is found") {
    std::string big = crlf("Subject: big\nContent-Transfer-Encoding: quoted-printable\n\n");
    std::string line;
    for (int i = 0; i < 2000; ++i) line += "filler text =3D ";
    big += line + "ne=\r\nedle" + line;
    for (std::size_t scratch : {std::size_t{8192}, std::size_t{16384}}) {
        CHECK(search(big, "NEEDLE", TextScope::Body, scratch));
        CHECK(search(big, "needle", TextScope::Body, scratch, 7));
        CHECK_FALSE(search(big, "needles", TextScope::Body, scratch));
    }
}

TEST_CASE("message_text_contains: plain messages, broken structure, small scratch") {
    const std::string plain = crlf("Subject: hi\n\nJust text.\n");
    CHECK(body(plain, "just TEXT"));
    CHECK_FALSE(body(plain, "subject"));
    CHECK(text(plain, "subject: hi"));
    const std::string no_close = crlf(
        "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
        "Content-Transfer-Encoding: base64\n\nYWJj\n");
    CHECK(body(no_close, "abc"));
    const std::string unknown_cte = crlf("Content-Transfer-Encoding: x-uuencode\n\nbegin 644 f\n");
    CHECK(body(unknown_cte, "begin 644"));
    CHECK_FALSE(search(plain, "text", TextScope::Body, 4096));
}

TEST_CASE(
    "TextWalk: a large part is read in steps of about the budget, the match found at its "
    "end") {
    const std::string big = crlf(
                                "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                                "Content-Type: text/plain\n"
                                "Content-Transfer-Encoding: base64\n\n") +
                            std::string(1 << 20, 'A') +
                            crlf("\nbmVlZGxl\n--b\nContent-Type: text/plain\n\nend\n--b--\n");
    const std::string needle = "needle";
    std::vector<std::uint16_t> table(needle.size() + 1);
    TextMatcher m;
    REQUIRE(m.prepare(needle, table.data(), table.size()));
    std::vector<char> scratch(12288);
    auto w = std::make_unique<TextWalk>();
    MemorySource r(big);
    w->start(TextScope::Body, big.size(), m);
    int steps = 0;
    WalkStep st = WalkStep::More;
    while (st == WalkStep::More && steps < 10000) {
        std::uint64_t left = 64 * 1024;
        st = w->step(r, m, scratch.data(), scratch.size(), &left);
        ++steps;
    }
    CHECK(st == WalkStep::Found);
    // The boundary scan and the decoding each read the megabyte once.
    CHECK(steps >= 2 * (1 << 20) / (64 * 1024));
    CHECK(steps <= 2 * (1 << 20) / (64 * 1024) + 4);
}
