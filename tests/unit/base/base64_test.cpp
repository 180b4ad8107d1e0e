// RFC 4648 §10 test vectors and IMAP's strictness (RFC 3501 §9 base64).
#include <catch2/catch.hpp>

#include <string>

#include "core/base/base64.h"

using tinyimapd::base64_decode;
using tinyimapd::base64_encode;

namespace {
std::string enc(const std::string& s) {
    char out[128];
    const std::size_t n = base64_encode(s, out, sizeof out);
    return n == SIZE_MAX ? "<error>" : std::string(out, n);
}
std::string dec(const std::string& s) {
    char out[128];
    const std::size_t n = base64_decode(s, out, sizeof out);
    return n == SIZE_MAX ? "<error>" : std::string(out, n);
}
}  // namespace

TEST_CASE("RFC 4648 §10: base64 test vectors both ways", "[base64]") {
    const char* pairs[][2] = {{"", ""},
                              {"f", "Zg=="},
                              {"fo", "Zm8="},
                              {"foo", "Zm9v"},
                              {"foob", "Zm9vYg=="},
                              {"fooba", "Zm9vYmE="},
                              {"foobar", "Zm9vYmFy"}};
    for (auto& p : pairs) {
        CHECK(enc(p[0]) == p[1]);
        CHECK(dec(p[1]) == p[0]);
    }
    // RFC 4616 §4 example: "\0tim\0tanstaaftanstaaf"
    CHECK(dec("AHRpbQB0YW5zdGFhZnRhbnN0YWFm") == std::string("\0tim\0tanstaaftanstaaf", 21));
}

TEST_CASE("base64: malformed input is refused", "[base64]") {
    CHECK(dec("Zg=") == "<error>");       // not a multiple of 4
    CHECK(dec("Z===") == "<error>");      // too much padding
    CHECK(dec("Zg==Zg==") == "<error>");  // padding in the middle
    CHECK(dec("Zm9v YmFy") == "<error>");
    CHECK(dec("Zh==") == "<error>");  // non-zero bits under the padding
    CHECK(dec("Zm9*") == "<error>");
    char small[2];
    CHECK(base64_decode("Zm9v", small, sizeof small) == SIZE_MAX);
    CHECK(base64_encode("foo", small, sizeof small) == SIZE_MAX);
}
