// RFC 2231 parameter names and continued values (core/mime/params.h), as
// RFC 9051 §7.5.2 asks an IMAP4rev2 BODYSTRUCTURE to give them.
#include <catch2/catch.hpp>

#include <string>

#include "core/mime/params.h"

using namespace tinyimapd;

namespace {

std::string joined(std::string_view params, std::string_view base, bool* encoded) {
    char out[mime::kMaxParamValue];
    std::size_t n = 0;
    mime::join_rfc2231(params, base, out, sizeof out, &n, encoded);
    return std::string(out, n);
}

}  // namespace

TEST_CASE("RFC 2231 §3-4: parameter names split into base, section and encoding",
          "[mime][rfc2231]") {
    auto check = [](std::string_view name, std::string_view base, int section, bool encoded) {
        const mime::Rfc2231Name n = mime::split_rfc2231_name(name);
        INFO(std::string(name));
        CHECK(n.base == base);
        CHECK(n.section == section);
        CHECK(n.encoded == encoded);
    };
    check("charset", "charset", -1, false);
    check("title*", "title", -1, true);
    check("URL*0", "URL", 0, false);
    check("title*1*", "title", 1, true);
    check("title*12", "title", 12, false);
    check("title*01", "title*01", -1, false);  // §7: no leading zero
    check("a*b", "a*b", -1, false);
    check("*0", "*0", -1, false);
}

TEST_CASE("RFC 2231 §3: continuations joined in section order (the RFC's URL example)",
          "[mime][rfc2231]") {
    bool encoded = true;
    CHECK(joined(" access-type=URL; URL*0=\"ftp://\"; URL*1=\"cs.utk.edu/pub/moore/"
                 "bulk-mailer/bulk-mailer.tar\"",
                 "URL", &encoded) == "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar");
    CHECK_FALSE(encoded);
    // Out of order, and a gap ends the value (section 3 without 2 is not taken).
    CHECK(joined("a*1=b; a*0=a; a*3=d", "a", &encoded) == "ab");
    // RFC 9051 §7.5.2's example: baz*0, baz*1, baz*2.
    CHECK(joined("baz*2=ree; baz*0=o; baz*1=ne-two-th", "BAZ", &encoded) == "one-two-three");
}

TEST_CASE(
    "RFC 2231 §4.1: encoded sections keep one charset'language' prefix; plain ones are "
    "%-encoded into it",
    "[mime][rfc2231]") {
    bool encoded = false;
    // The RFC's example.
    CHECK(joined(" title*0*=us-ascii'en'This%20is%20even%20more%20; "
                 "title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*2=\"isn't it!\"",
                 "title", &encoded) ==
          "us-ascii'en'This%20is%20even%20more%20%2A%2A%2Afun%2A%2A%2A%20isn%27t%20it!");
    // (the space and "'" are %-encoded; "!" is an attribute-char, §7)
    CHECK(encoded);
}

TEST_CASE("RFC 2231: a joined value is cut at kMaxParamValue; sweeps are bounded",
          "[mime][rfc2231]") {
    std::string params;
    for (int i = 0; i < 200; ++i) params += "; x*" + std::to_string(i) + "=abcdefgh";
    bool encoded = false;
    CHECK(joined(params, "x", &encoded).size() == mime::kMaxParamValue);
    // Sections in reverse order: one is found per sweep, so at most
    // kMaxRfc2231Sweeps of them.
    std::string reversed;
    for (int i = 40; i >= 0; --i) reversed += "; y*" + std::to_string(i) + "=z";
    CHECK(joined(reversed, "y", &encoded).size() == mime::kMaxRfc2231Sweeps);
}
