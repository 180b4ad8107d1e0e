// core/mime/preview: RFC 8970 §3.3 preview text from a message's first
// readable part (TextWalk with TextScope::Preview), decoded, HTML reduced to
// its text, white space collapsed, at most 200 preview characters.
#include "core/mime/preview.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "tests/unit/mime_test_support.h"

using tinyimapd::MemorySource;
using tinyimapd::mime::PreviewText;
using tinyimapd::mime::TextScope;
using tinyimapd::mime::TextWalk;
using tinyimapd::mime::WalkStep;
using tinyimapd::testing::crlf;

namespace {

// The preview of `text` fed as one part, at every split point (the same
// answer whatever the pieces).
std::string of_text(const std::string& text, bool html) {
    std::string first;
    for (std::size_t split = 0; split <= text.size(); ++split) {
        PreviewText p;
        p.begin_text(html);
        p.write(text.data(), split);
        p.write(text.data() + split, text.size() - split);
        const std::string got(p.text());
        if (split == 0) first = got;
        REQUIRE(got == first);
    }
    return first;
}

// UTF-8 characters in `s` (bytes that are not continuation bytes).
std::size_t chars_of(const std::string& s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

// The preview of a whole message through the walk, `budget` bytes per step.
std::string of_message(const std::string& message, std::uint64_t budget = UINT64_MAX) {
    MemorySource src(message);
    TextWalk walk;
    PreviewText p;
    walk.start(TextScope::Preview, message.size());
    std::vector<char> scratch(TextWalk::kMinWalkScratch + 4096);
    for (int i = 0; i < 100000; ++i) {
        std::uint64_t b = budget;
        if (walk.step(src, p, scratch.data(), scratch.size(), &b) != WalkStep::More) break;
    }
    return std::string(p.text());
}

}  // namespace

TEST_CASE("RFC 8970 §3.3: white space is collapsed, none leading or trailing", "[preview]") {
    CHECK(of_text("  Hello,\r\n\r\n  world!\t \r\n", false) == "Hello, world!");
    CHECK(of_text("a\x01\x7f"
                  "b\xC2\xA0"
                  "c",
                  false) == "a b c");  // controls, NBSP
    CHECK(of_text(" \r\n\t", false).empty());
    CHECK(of_text("", false).empty());
}

TEST_CASE("RFC 8970 §3.3: at most 200 preview characters, cut at a character boundary",
          "[preview]") {
    std::string words;
    for (int i = 0; i < 100; ++i) words += "word ";
    const std::string ascii = of_text(words, false);
    CHECK(chars_of(ascii) <= PreviewText::kMaxChars);
    CHECK(ascii.size() >= 195);
    std::string euros;
    for (int i = 0; i < 300; ++i) euros += "\xE2\x82\xAC";  // U+20AC, 3 bytes
    PreviewText p;
    p.begin_text(false);
    p.write(euros.data(), euros.size());
    CHECK(p.satisfied());
    CHECK(p.text().size() <= PreviewText::kMaxBytes);
    CHECK(p.text().size() % 3 == 0);  // whole characters only
    CHECK(p.chars() == p.text().size() / 3);
    CHECK(p.chars() <= 256);
}

TEST_CASE("RFC 8970 §3.3: invalid UTF-8 becomes U+FFFD", "[preview]") {
    CHECK(of_text("a\xFF"
                  "b",
                  false) ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK(of_text("a\xC3"
                  "b",
                  false) ==
          "a\xEF\xBF\xBD"
          "b");                                                       // cut short
    CHECK(of_text("\xC0\xAF", false) == "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
    CHECK(of_text("\xED\xA0\x80", false) == "\xEF\xBF\xBD");          // a surrogate
    CHECK(of_text("K\xC3\xB6ln \xF0\x9F\x98\x80", false) == "K\xC3\xB6ln \xF0\x9F\x98\x80");
}

TEST_CASE("RFC 8970 §3.3: HTML is reduced to its text", "[preview]") {
    CHECK(of_text("<html><head><title>Title</title><style>p { x: 1 }</style></head>"
                  "<body><p>Hello&nbsp;<b>big</b> world&amp;co&#33; &#x263A;</p><p>Next</p>"
                  "<script>if (a<b) x();</script>end</body></html>",
                  true) == "Hello big world&co! \xE2\x98\xBA Next end");
    CHECK(of_text("a<br>b<BR/>c<span>d</span>e", true) == "a b cde");
    CHECK(of_text("AT&T &foo; &#xZZ; 1 < 2", true) == "AT&T &foo; &#xZZ; 1");
    CHECK(of_text("<!-- a comment --><p>x</p>", true) == "x");
    CHECK(of_text("&#0; &#1114112;", true) == "\xEF\xBF\xBD \xEF\xBF\xBD");
}

TEST_CASE("RFC 8970 §3.3: the first text part, decoded, is the preview", "[preview]") {
    const std::string alternative = crlf(
        "From: a@example.com\nSubject: s\n"
        "Content-Type: multipart/alternative; boundary=b\n\n"
        "--b\nContent-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n\n"
        "Gr=FC=DFe aus\nK=F6ln =\nsoft\n"
        "--b\nContent-Type: text/html\n\n<p>HTML version</p>\n--b--\n");
    CHECK(of_message(alternative) ==
          "Gr\xC3\xBC\xC3\x9F"
          "e aus K\xC3\xB6ln soft");
    const std::string html_only = crlf(
        "Content-Type: multipart/mixed; boundary=b\n\n"
        "--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n"
        "--b\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        "PGgxPkhlbGxvPC9oMT48cD5Xb3JsZDwvcD4=\n--b--\n");
    CHECK(of_message(html_only) == "Hello World");
    CHECK(of_message(crlf("Subject: no type\n\nJust text.\n")) == "Just text.");
    const std::string attachment =
        crlf("Content-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n");
    CHECK(of_message(attachment).empty());
    // The walk in small steps gives the same preview.
    CHECK(of_message(alternative, 16) == of_message(alternative));
    CHECK(of_message(html_only, 7) == "Hello World");
}
