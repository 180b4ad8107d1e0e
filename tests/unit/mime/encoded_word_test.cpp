// core/mime/encoded_word and core/mime/charset: RFC 2047 §4 (B and Q), §6.2
// (adjacent encoded words), §8's examples, charsets converted to UTF-8.
#include "core/mime/encoded_word.h"

#include <catch2/catch.hpp>
#include <string>

#include "core/base/text.h"
#include "core/mime/charset.h"

using tinyimapd::mime::Charset;
using tinyimapd::mime::charset_from_name;
using tinyimapd::mime::charset_to_utf8;
using tinyimapd::mime::decode_header_text;

namespace {

std::string dec(const std::string& in) {
    char out[512];
    return std::string(out, decode_header_text(in, out, sizeof out));
}

std::string utf8_of(Charset cs, unsigned char c) {
    char out[3];
    return std::string(out, charset_to_utf8(cs, c, out));
}

}  // namespace

TEST_CASE("RFC 2047 §8: the examples of the RFC") {
    CHECK(dec("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>") ==
          "Keld J\xC3\xB8rn Simonsen <keld@dkuug.dk>");
    CHECK(dec("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>") == "Keith Moore <moore@cs.utk.edu>");
    CHECK(dec("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>") ==
          "Andr\xC3\xA9 Pirard <PIRARD@vm1.ulg.ac.be>");
    CHECK(dec("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?= "
              "=?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=") ==
          "If you can read this you understand the example.");
    // §8 shows these inside comments, where they display as "(a)", "(a b)".
    CHECK(dec("(=?ISO-8859-1?Q?a?=)") == "(a)");
    CHECK(dec("(=?ISO-8859-1?Q?a?= b)") == "(a b)");
    CHECK(dec("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)") == "(ab)");
}

TEST_CASE("RFC 2047 §6.2: blanks between adjacent encoded words are dropped") {
    CHECK(dec("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=") == "ab");
    CHECK(dec("=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=") == "ab");
    CHECK(dec("=?ISO-8859-1?Q?a?=\r\n =?ISO-8859-1?Q?b?=") == "ab");
    CHECK(dec("=?ISO-8859-1?Q?a_b?=") == "a b");
    CHECK(dec("=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=") == "a b");
    CHECK(dec("=?ISO-8859-1?Q?a?= b") == "a b");
    CHECK(dec("a =?ISO-8859-1?Q?b?=") == "a b");
    CHECK(dec("=?utf-8?q?x?= trailing ") == "x trailing ");
    // A UTF-8 character split over two words comes out whole.
    CHECK(dec("=?UTF-8?B?w6k=?= =?UTF-8?B?w6k=?=") == "\xC3\xA9\xC3\xA9");
    CHECK(dec("=?UTF-8?Q?=C3?= =?UTF-8?Q?=A9t=C3=A9?=") == "\xC3\xA9t\xC3\xA9");
}

TEST_CASE("RFC 2047 §4.1, §4.2: B and Q encodings, either case") {
    CHECK(dec("=?utf-8?b?SGVsbG8=?=") == "Hello");
    CHECK(dec("=?UTF-8?B?SGVsbG8?=") == "Hello");  // unpadded, tolerated
    CHECK(dec("=?utf-8?q?caf=c3=a9?=") == "caf\xC3\xA9");
    CHECK(dec("=?utf-8?Q?100=?=") == "100=");  // bad escape kept
    CHECK(dec("=?utf-8?Q?=4?=") == "=4");
    CHECK(dec("=?utf-8?Q?"
              "?=") == "");                   // empty encoded text
    CHECK(dec("=?utf-8*en?Q?hi?=") == "hi");  // RFC 2231 §5 language
}

TEST_CASE("RFC 2047 §2, §5: what is not an encoded word stays text") {
    CHECK(dec("") == "");
    CHECK(dec("plain text") == "plain text");
    CHECK(dec("=?utf-8?x?abc?=") == "=?utf-8?x?abc?=");  // unknown encoding
    CHECK(dec("=?utf-8?q?no end") == "=?utf-8?q?no end");
    CHECK(dec("=?utf-8?q?a b?=") == "=?utf-8?q?a b?=");  // blank inside
    CHECK(dec("=??q?abc?=") == "=??q?abc?=");            // no charset
    CHECK(dec("a = b =? c") == "a = b =? c");
    CHECK(dec("Re:=?utf-8?q?x?=") == "Re:x");  // lenient: text touching a word
    CHECK(dec("=?utf-8?q?a?=b") == "ab");
}

TEST_CASE("RFC 2047 §1: charsets converted to UTF-8; unknown ones kept as bytes") {
    CHECK(dec("=?iso-8859-15?q?=A4?=") == "\xE2\x82\xAC");
    CHECK(dec("=?windows-1252?q?=80=96?=") == "\xE2\x82\xAC\xE2\x80\x93");
    CHECK(dec("=?ISO-8859-1?q?=A4?=") == "\xC2\xA4");
    CHECK(dec("=?koi8-r?q?=F0=D2?=") == "\xF0\xD2");
    CHECK(dec("=?us-ascii?q?a=80?=") == "a\x80");
}

TEST_CASE("decode_header_text: long values stream, buffers cut whole characters") {
    std::string in, expected;
    for (int i = 0; i < 100; ++i) {
        in += "=?iso-8859-1?q?=E9t=E9?= ";
        expected += "\xC3\xA9t\xC3\xA9";
    }
    expected += " ";
    char big[1024];
    CHECK(std::string(big, decode_header_text(in, big, sizeof big)) == expected);
    char small[4];
    CHECK(std::string(small, decode_header_text("=?iso-8859-1?q?a=E9=E9?=", small, 4)) ==
          "a\xC3\xA9");
}

TEST_CASE("charset: names, aliases and tables (ISO-8859-1, -15, Windows-1252)") {
    CHECK(charset_from_name("utf-8") == Charset::Utf8);
    CHECK(charset_from_name("UTF8") == Charset::Utf8);
    CHECK(charset_from_name("us-ascii") == Charset::UsAscii);
    CHECK(charset_from_name("Latin1") == Charset::Latin1);
    CHECK(charset_from_name("iso-8859-15") == Charset::Latin9);
    CHECK(charset_from_name("CP1252") == Charset::Windows1252);
    CHECK(charset_from_name("koi8-r") == Charset::Unknown);
    CHECK(utf8_of(Charset::Latin1, 'a') == "a");
    CHECK(utf8_of(Charset::Latin1, 0xE9) == "\xC3\xA9");
    CHECK(utf8_of(Charset::Latin1, 0x80) == "\xC2\x80");
    CHECK(utf8_of(Charset::Latin9, 0xBD) == "\xC5\x93");  // oe ligature
    CHECK(utf8_of(Charset::Latin9, 0xE9) == "\xC3\xA9");
    CHECK(utf8_of(Charset::Windows1252, 0x99) == "\xE2\x84\xA2");  // trade mark
    CHECK(utf8_of(Charset::Windows1252, 0x81) == "\xC2\x81");      // unassigned
    CHECK(utf8_of(Charset::Windows1252, 0xFF) == "\xC3\xBF");
    CHECK(utf8_of(Charset::Utf8, 0xC3) == "\xC3");
}

namespace {

std::string enc(const std::string& utf8, std::size_t piece = std::string::npos) {
    char buf[4096];
    tinyimapd::TextWriter out(buf, sizeof buf);
    tinyimapd::mime::EncodedWordWriter w(out);
    for (std::size_t i = 0; i < utf8.size(); i += piece) w.add(utf8.substr(i, piece));
    w.finish();
    REQUIRE(out.ok());
    return std::string(out.view());
}

}  // namespace

TEST_CASE("RFC 2047 §4.1: UTF-8 text as B encoded words, decoded back", "[utf8][downgrade]") {
    CHECK(enc("Gr\xc3\xbc\xc3\x9f"
              "e") == "=?UTF-8?B?R3LDvMOfZQ==?=");
    CHECK(enc("") == "");
    CHECK(dec(enc("Gr\xc3\xbc\xc3\x9f"
                  "e \xe6\x97\xa5\xe6\x9c\xac")) ==
          "Gr\xc3\xbc\xc3\x9f"
          "e \xe6\x97\xa5\xe6\x9c\xac");
}

TEST_CASE("RFC 2047 §2, §5: encoded words of at most 75 characters, whole characters each",
          "[utf8][downgrade]") {
    // 2-, 3- and 4-byte characters, so that word ends fall inside characters
    // at every offset; given at once and in pieces of 1 and 7 bytes.
    std::string text;
    for (int i = 0; i < 40; ++i) {
        text += "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    }
    const std::string whole = enc(text);
    CHECK(enc(text, 1) == whole);
    CHECK(enc(text, 7) == whole);
    std::size_t words = 0;
    std::size_t start = 0;
    while (start < whole.size()) {
        std::size_t end = whole.find(' ', start);
        if (end == std::string::npos) end = whole.size();
        const std::string word = whole.substr(start, end - start);
        CHECK(word.size() <= 75);
        REQUIRE(word.rfind("=?UTF-8?B?", 0) == 0);
        // Each word alone decodes to well-formed UTF-8 (§5: an integral
        // number of characters).
        const std::string one = dec(word);
        CHECK(tinyimapd::mime::wants_encoded_words(one + "\xc3\xa9"));
        ++words;
        start = end + 1;
    }
    CHECK(words >= text.size() / 45);
    // §6.2: the SP between adjacent encoded words is not text.
    char out[4096];
    CHECK(std::string(out, decode_header_text(whole, out, sizeof out)) == text);
}

TEST_CASE("RFC 6855 §7: only 8-bit UTF-8 text wants encoded words", "[utf8][downgrade]") {
    using tinyimapd::mime::wants_encoded_words;
    CHECK_FALSE(wants_encoded_words("plain ascii =?utf-8?q?x?="));
    CHECK_FALSE(wants_encoded_words(""));
    CHECK(wants_encoded_words("caf\xc3\xa9"));
    CHECK_FALSE(wants_encoded_words("caf\xe9"));          // Latin-1: not UTF-8
    CHECK_FALSE(wants_encoded_words("\xed\xa0\x80"));     // a surrogate (RFC 3629 §3)
}
