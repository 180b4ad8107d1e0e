// Tests for core/mail/mailbox_name: INBOX (RFC 3501 §5.1), modified UTF-7
// (RFC 3501 §5.1.3) and the name rules the store relies on.
#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "core/mail/mailbox_name.h"

using namespace tinyimapd;
using namespace tinyimapd::mail;
using namespace std::string_literals;

namespace {

std::string to_utf8(const std::string& m, bool* ok) {
    FixedText<2048> out;
    *ok = mutf7_to_utf8(m, out);
    return std::string(out.view());
}

std::string to_mutf7(const std::string& u, bool* ok) {
    FixedText<4096> out;
    *ok = utf8_to_mutf7(u, out);
    return std::string(out.view());
}

std::string normalized(const std::string& name) {
    FixedText<256> out;
    normalize_mailbox(name, out);
    return std::string(out.view());
}

const char* why_invalid(const std::string& name) {
    const char* why = nullptr;
    CHECK_FALSE(validate_mutf7(name, &why));
    CHECK(why != nullptr);
    return why;
}

}  // namespace

TEST_CASE("RFC 3501 §5.1: INBOX is case-insensitive", "[mailbox]") {
    CHECK(is_inbox("INBOX"));
    CHECK(is_inbox("inbox"));
    CHECK(is_inbox("iNbOx"));
    CHECK_FALSE(is_inbox("INBOX/x"));
    CHECK_FALSE(is_inbox("INBOXES"));
    CHECK_FALSE(is_inbox("INBO"));
    CHECK_FALSE(is_inbox(""));

    CHECK(normalized("inbox") == "INBOX");
    CHECK(normalized("Inbox/Work/inbox") == "INBOX/Work/inbox");
    CHECK(normalized("inboxes/x") == "inboxes/x");
    CHECK(normalized("Archive/INBOX") == "Archive/INBOX");
    CHECK(normalized("") == "");
    CHECK(normalized("/inbox") == "/inbox");
}

TEST_CASE("RFC 3501 §5.1.3: the example name decodes and re-encodes", "[mailbox]") {
    const std::string name = "~peter/mail/&U,BTFw-/&ZeVnLIqe-";
    const char* why = nullptr;
    CHECK(validate_mutf7(name, &why));
    CHECK(is_valid_mailbox_name(name, '/', &why));
    bool ok = false;
    const std::string utf8 = to_utf8(name, &ok);
    CHECK(ok);
    CHECK(utf8 == "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    CHECK(to_mutf7(utf8, &ok) == name);
    CHECK(ok);
}

TEST_CASE("RFC 3501 §5.1.3: valid modified UTF-7", "[mailbox]") {
    for (std::string name :
         {"", "INBOX", "&-", "a&-b", "&-&-", "&AMk-", "&AMkAyQ-", "&AMk-&-", "&-&AMk-", "&AMk--",
          "caf&AOk-", "&2D3eAA-", "-", "a-b", "~!\"#$%'()*+,-./:;<=>?@[\\]^_`{|}"}) {
        INFO(name);
        CHECK(validate_mutf7(name));
        bool ok = false;
        const std::string utf8 = to_utf8(name, &ok);
        CHECK(ok);
        CHECK(to_mutf7(utf8, &ok) == name);
        CHECK(ok);
    }
    bool ok = false;
    CHECK(to_utf8("&AMk-", &ok) == "\xc3\x89");             // U+00C9
    CHECK(to_utf8("&2D3eAA-", &ok) == "\xf0\x9f\x98\x80");  // U+1F600, a surrogate pair
    CHECK(to_mutf7("a&b", &ok) == "a&-b");
    CHECK(to_mutf7("\xc3\xa9\xc3\xa9", &ok) == "&AOkA6Q-");
}

TEST_CASE("RFC 3501 §5.1.3: invalid modified UTF-7 is rejected", "[mailbox]") {
    CHECK(std::string(why_invalid("caf\xc3\xa9")).find("8-bit") != std::string::npos);
    why_invalid("&");           // not closed
    why_invalid("a&AMk");       // not closed
    why_invalid("&AGE-");       // "a" encoded: not minimal
    why_invalid("&ACY-");       // "&" encoded
    why_invalid("&AC8-");       // "/" encoded
    why_invalid("&AC4ALg-");    // ".." encoded
    why_invalid("&AMk/-");      // '/' is not modified base64
    why_invalid("&AMk=-");      // no padding
    why_invalid("&A-");         // no whole character
    why_invalid("&AA-");        // no whole character
    why_invalid("&AMj-");       // trailing bits not zero
    why_invalid("&AMkA-");      // partial second character
    why_invalid("&2D0-");       // lone high surrogate
    why_invalid("&3gA-");       // lone low surrogate
    why_invalid("&2D3YPQ-");    // high followed by high
    why_invalid("&2D0-&3gA-");  // a pair split over two runs
    why_invalid("&AMk-&AMk-");  // adjacent runs must be one
    why_invalid("a\tb");        // control characters, raw
    why_invalid("a\x7f");
    why_invalid("a\0b"s);
    why_invalid("a\r\nb");
    why_invalid("&AAk-");  // ... and encoded (U+0009)
    why_invalid("&AH8-");  // U+007F

    bool ok = true;
    to_utf8("&AGE-", &ok);
    CHECK_FALSE(ok);
}

TEST_CASE("UTF-8 input to utf8_to_mutf7 must be well formed", "[mailbox]") {
    bool ok = true;
    for (std::string bad : {"\x80"s, "\xc3"s, "\xc0\x80"s, "\xe0\x80\xaf"s, "\xed\xa0\x80"s,
                            "\xf4\x90\x80\x80"s, "\xf8\x88\x80\x80\x80"s, "a\tb"s, "\0"s}) {
        to_mutf7(bad, &ok);
        CHECK_FALSE(ok);
    }
}

TEST_CASE("RFC 6855 §3: C1 controls, U+2028 and U+2029 are refused in names, both ways",
          "[mailbox]") {
    bool ok = true;
    for (std::string bad : {"a\xc2\x80"s, "\xc2\x9f"s, "x\xe2\x80\xa8"s, "\xe2\x80\xa9y"s}) {
        to_mutf7(bad, &ok);
        CHECK_FALSE(ok);
    }
    // The same characters written in modified UTF-7 by hand: U+0085, U+2028, U+2029.
    for (std::string bad : {"&AIU-"s, "a&ICg-"s, "&ICk-"s}) {
        CHECK_FALSE(validate_mutf7(bad));
        to_utf8(bad, &ok);
        CHECK_FALSE(ok);
    }
    // Their neighbours are fine.
    CHECK(to_mutf7("\xc2\xa0\xe2\x80\xa7\xe2\x80\xaa", &ok) == "&AKAgJyAq-");
    CHECK(ok);
}

TEST_CASE("Conversions report overflow", "[mailbox]") {
    FixedText<4> small;
    CHECK_FALSE(utf8_to_mutf7("\xc3\xa9\xc3\xa9", small));
    FixedText<2> tiny;
    CHECK_FALSE(mutf7_to_utf8("&U,BTFw-", tiny));
}

TEST_CASE("Property: UTF-8 -> mUTF-7 -> UTF-8 is the identity, output is canonical", "[mailbox]") {
    std::mt19937 rng(51);
    // (0xa0, not the C1 control 0x80: RFC 6855 §3 keeps C1 out of names.)
    const char32_t picks[] = {U'a',  U'&',  U'-',   U'/',   U' ',   U'~',    0xe9,    0xa0,
                              0x7ff, 0x800, 0x53f0, 0xfffd, 0xffff, 0x10000, 0x1f600, 0x10ffff};
    for (int round = 0; round < 2000; ++round) {
        std::string utf8;
        const int n = static_cast<int>(rng() % 12);
        for (int i = 0; i < n; ++i) {
            char32_t cp = picks[rng() % (sizeof picks / sizeof picks[0])];
            if (cp < 0x80) {
                utf8 += static_cast<char>(cp);
            } else if (cp < 0x800) {
                utf8 += static_cast<char>(0xc0 | (cp >> 6));
                utf8 += static_cast<char>(0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                utf8 += static_cast<char>(0xe0 | (cp >> 12));
                utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
                utf8 += static_cast<char>(0x80 | (cp & 0x3f));
            } else {
                utf8 += static_cast<char>(0xf0 | (cp >> 18));
                utf8 += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
                utf8 += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
                utf8 += static_cast<char>(0x80 | (cp & 0x3f));
            }
        }
        INFO("round " << round);
        bool ok = false;
        const std::string m = to_mutf7(utf8, &ok);
        REQUIRE(ok);
        CHECK(validate_mutf7(m));
        CHECK(to_utf8(m, &ok) == utf8);
        CHECK(ok);
    }
}

TEST_CASE("Store names: levels, '.' and '..', length, depth, controls", "[mailbox]") {
    const char* why = nullptr;
    CHECK(is_valid_mailbox_name("INBOX", '/', &why));
    CHECK(is_valid_mailbox_name("Archive/2024/Q1", '/', &why));
    CHECK(is_valid_mailbox_name("a.b/..c/.d", '/', &why));
    CHECK(is_valid_mailbox_name("&U,BTFw-/x", '/', &why));

    for (std::string bad : {"", "/", "a//b", "/a", "a/", ".", "..", "a/./b", "a/..", "../etc",
                            "a\nb", "a\rb", "a\x01", "a&b", "caf\xc3\xa9", "&AC8-", "&AMk-&AMk-"}) {
        INFO(bad);
        why = nullptr;
        CHECK_FALSE(is_valid_mailbox_name(bad, '/', &why));
        CHECK(why != nullptr);
    }
    CHECK_FALSE(is_valid_mailbox_name("a\0b"s, '/', &why));

    CHECK(is_valid_mailbox_name(std::string(kMaxMailboxName, 'x')));
    CHECK_FALSE(is_valid_mailbox_name(std::string(kMaxMailboxName + 1, 'x')));

    std::string deep = "a";
    for (std::size_t i = 1; i < kMaxMailboxDepth; ++i) deep += "/a";
    CHECK(is_valid_mailbox_name(deep));
    CHECK_FALSE(is_valid_mailbox_name(deep + "/a", '/', &why));
    CHECK(std::string(why).find("deep") != std::string::npos);

    // Another delimiter.
    CHECK(is_valid_mailbox_name("a/b.c", '.'));
    CHECK_FALSE(is_valid_mailbox_name("a..c", '.'));
}
