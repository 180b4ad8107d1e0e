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

// The matcher's buffers for `needle` (its prepared form may be longer).
struct NeedleBuffers {
    explicit NeedleBuffers(const std::string& needle)
        : cap(needle.size() * tinyimapd::mime::UnicaseStream::kMaxOut + 1), buf(cap), table(cap) {}
    std::size_t cap;
    std::vector<char> buf;
    std::vector<std::uint16_t> table;
};

bool matches_split(const std::string& hay, const std::string& needle) {
    NeedleBuffers nb(needle);
    bool all = true, any = false;
    for (std::size_t split = 0; split <= hay.size(); ++split) {
        TextMatcher m;
        REQUIRE(m.prepare(needle, nb.buf.data(), nb.table.data(), nb.cap));
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
    NeedleBuffers nb(needle);
    TextMatcher m;
    REQUIRE(m.prepare(needle, nb.buf.data(), nb.table.data(), nb.cap));
    std::vector<char> scratch(scratch_size);
    auto w = std::make_unique<TextWalk>();
    MemorySource r(message);
    w->start(scope, message.size(), m);
    for (std::size_t steps = 0; steps <= message.size() + 64; ++steps) {
        std::uint64_t left = budget;
        const WalkStep st = w->step(r, m, scratch.data(), scratch.size(), &left);
        if (st != WalkStep::More) return st == WalkStep::Found;
        std::fill(scratch.begin(), scratch.end(), '-');
        std::fill(nb.table.begin(), nb.table.end(), std::uint16_t{0xABCD});
        std::fill(nb.buf.begin(), nb.buf.end(), '?');
        m.rebind(nb.buf.data(), nb.table.data(), nb.cap);
    }
    FAIL("the walk never ended");
    return false;
}

bool search(const std::string& message, const std::string& needle, TextScope scope,
            std::size_t scratch_size = 16384, std::size_t step = 0) {
    NeedleBuffers nb(needle);
    TextMatcher m;
    REQUIRE(m.prepare(needle, nb.buf.data(), nb.table.data(), nb.cap));
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

TEST_CASE(
    "RFC 5051 §2, RFC 5255 §4.6: TextMatcher compares i;unicode-casemap forms, split "
    "anywhere") {
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
    CHECK_FALSE(matches_split("\xC4\x89", "\xC4\xA9"));  // c and i with circumflex, tilde
    // Beyond Latin-1: Greek and Cyrillic capitals and small letters, final sigma.
    CHECK(matches_split("\xCE\x91", "\xCE\xB1"));
    CHECK(matches_split("\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x99\xCE\x91",
                        "\xCF\x83\xCE\xBF\xCF\x86\xCE\xB9\xCE\xB1"));
    CHECK(matches_split("\xCF\x82", "\xCE\xA3"));
    CHECK(matches_split("\xD0\x9C\xD0\x9E\xD0\xA1\xD0\x9A\xD0\x92\xD0\x90",
                        "\xD0\xBC\xD0\xBE\xD1\x81\xD0\xBA"));
    // Decomposition: e + COMBINING ACUTE ACCENT is the same text as U+00E9.
    CHECK(matches_split("cafe\xCC\x81 noir", "CAF\xC3\x89"));
    CHECK(matches_split("caf\xC3\xA9", "E\xCC\x81"));
    // Not UTF-8: compared as octets, in the needle and the text alike.
    CHECK(
        matches_split("a\xFF"
                      "b",
                      "A\xFF"
                      "B"));
    CHECK(matches_split("x\xC3z", "\xC3Z"));
    CHECK_FALSE(matches_split("\xC0\xAF", "/"));           // an overlong "/" is not "/"
    CHECK(matches_split("\xED\xA0\x80", "\xED\xA0\x80"));  // a surrogate: bytes as they are
    CHECK(matches_split("anything", ""));
    CHECK(matches_split("", ""));
    CHECK_FALSE(matches_split("", "a"));
}

TEST_CASE("TextMatcher: a needle longer than its table never matches") {
    std::uint16_t table[2];
    char buf[2];
    TextMatcher m;
    CHECK_FALSE(m.prepare("abc", buf, table, 2));
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
    NeedleBuffers nb(needle);
    TextMatcher m;
    REQUIRE(m.prepare(needle, nb.buf.data(), nb.table.data(), nb.cap));
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
