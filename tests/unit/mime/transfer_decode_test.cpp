// core/mime/transfer_decode: RFC 2045 §6.7 quoted-printable and §6.8 base64,
// every input fed split at every byte and drained through outputs of
// several sizes.
#include "core/mime/transfer_decode.h"

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/base/base64.h"

using tinyimapd::mime::DecodeStep;
using tinyimapd::mime::transfer_encoding;
using tinyimapd::mime::TransferDecoder;
using tinyimapd::mime::TransferEncoding;

namespace {

// Decodes `in` given in two chunks split at `split`, writing through an
// output window of `cap` bytes; checks that nothing is written past it.
std::string decode_split(TransferEncoding e, const std::string& in, std::size_t split,
                         std::size_t cap) {
    TransferDecoder d(e);
    std::string out;
    char buf[64];
    const std::size_t chunks[2][2] = {{0, split}, {split, in.size()}};
    for (const auto& c : chunks) {
        std::size_t pos = c[0];
        int guard = 0;
        while (pos < c[1] || (pos == c[1] && guard == 0)) {
            std::memset(buf, '#', sizeof buf);
            const DecodeStep s = d.decode(in.data() + pos, c[1] - pos, buf, cap);
            REQUIRE(s.produced <= cap);
            REQUIRE(buf[cap] == '#');
            out.append(buf, s.produced);
            pos += s.consumed;
            // Progress: either input is taken or output is produced.
            if (s.consumed == 0 && s.produced == 0) ++guard;
            REQUIRE(guard < 2);
            if (pos == c[1]) break;
        }
    }
    int rounds = 0;
    while (d.held()) {
        const std::size_t k = d.finish(buf, cap);
        REQUIRE(k <= cap);
        out.append(buf, k);
        REQUIRE(++rounds < 200);
    }
    return out;
}

// Checks the decoding of `in` at every split point and several output sizes.
void check(TransferEncoding e, const std::string& in, const std::string& expected) {
    for (std::size_t cap : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{63}}) {
        for (std::size_t split = 0; split <= in.size(); ++split) {
            INFO("input \"" << in << "\" split " << split << " cap " << cap);
            CHECK(decode_split(e, in, split, cap) == expected);
        }
    }
    // One byte at a time.
    TransferDecoder d(e);
    std::string out;
    char buf[8];
    for (char c : in) {
        std::size_t used = 0;
        while (used == 0) {
            const DecodeStep s = d.decode(&c, 1, buf, sizeof buf);
            out.append(buf, s.produced);
            used = s.consumed;
        }
    }
    while (d.held()) out.append(buf, d.finish(buf, sizeof buf));
    CHECK(out == expected);
}

void qp(const std::string& in, const std::string& expected) {
    check(TransferEncoding::QuotedPrintable, in, expected);
}
void b64(const std::string& in, const std::string& expected) {
    check(TransferEncoding::Base64, in, expected);
}

}  // namespace

TEST_CASE("RFC 2045 §6.1: Content-Transfer-Encoding names, case-insensitive") {
    CHECK(transfer_encoding("") == TransferEncoding::Identity);
    CHECK(transfer_encoding("7bit") == TransferEncoding::Identity);
    CHECK(transfer_encoding("8BIT") == TransferEncoding::Identity);
    CHECK(transfer_encoding("Binary") == TransferEncoding::Identity);
    CHECK(transfer_encoding("base64") == TransferEncoding::Base64);
    CHECK(transfer_encoding("  BASE64 ") == TransferEncoding::Base64);
    CHECK(transfer_encoding("Base64 (from the mailer)") == TransferEncoding::Base64);
    CHECK(transfer_encoding("(comment (nested)) base64") == TransferEncoding::Base64);
    CHECK(transfer_encoding("Quoted-Printable") == TransferEncoding::QuotedPrintable);
    CHECK(transfer_encoding("quoted-printable\r\n") == TransferEncoding::QuotedPrintable);
    CHECK(transfer_encoding("x-uuencode") == TransferEncoding::Unknown);
    CHECK(transfer_encoding("base64x") == TransferEncoding::Unknown);
    CHECK(transfer_encoding("quoted") == TransferEncoding::Unknown);
}

TEST_CASE("RFC 2045 §6.7 rule 1, 2: quoted-printable escapes and literal bytes") {
    qp("", "");
    qp("Hello", "Hello");
    qp("=48=65llo", "Hello");
    qp("caf=C3=A9", "caf\xC3\xA9");
    qp("=3D=3d", "==");  // note 2: lower-case hex accepted
    qp("=4a=4A", "JJ");
    qp("8-bit \xC3\xA9 passes", "8-bit \xC3\xA9 passes");
}

TEST_CASE("RFC 2045 §6.7 rule 4: hard line breaks are kept") {
    qp("one\r\ntwo\r\n", "one\r\ntwo\r\n");
    qp("one\ntwo", "one\ntwo");
    qp("\r\n\r\n", "\r\n\r\n");
}

TEST_CASE("RFC 2045 §6.7 rule 3: trailing blanks of a line are deleted") {
    qp("end  \r\nnext", "end\r\nnext");
    qp("end \t \nnext", "end\nnext");
    qp("a  b\tc", "a  b\tc");
    qp("last line  ", "last line");
    qp("  \r\n", "\r\n");
    qp("a =41", "a A");
    // A run longer than the decoder holds is written out, not lost.
    const std::string spaces(200, ' ');
    qp(spaces + "x", spaces + "x");
}

TEST_CASE("RFC 2045 §6.7 rule 5: soft line breaks, with transport padding") {
    qp("foo=\r\nbar", "foobar");
    qp("foo=\nbar", "foobar");
    qp("foo= \t \r\nbar", "foobar");
    qp("foo=", "foo");
    qp("foo=  ", "foo");
    qp("a=\r\n=\r\nb", "ab");
    qp("trail  =\r\nx", "trail  x");  // blanks before "=" are not trailing
    qp("a=\rb", "ab");                // a lone CR after "=" ends the soft break
}

TEST_CASE("RFC 2045 §6.7 note 1: bad escapes are kept as written") {
    qp("=G1", "=G1");
    qp("=4G", "=4G");
    qp("a==41", "a=A");
    qp("=4", "=4");
    qp("100% = sure", "100% = sure");
    qp("= x", "= x");
    qp("=\t=41", "=\tA");
    qp("=4\r\n", "=4\r\n");
}

TEST_CASE("RFC 2045 §6.8: base64, alphabet and padding") {
    b64("", "");
    b64("TWFu", "Man");
    b64("TWE=", "Ma");
    b64("TQ==", "M");
    b64("SGVsbG8sIHdvcmxkIQ==", "Hello, world!");
}

TEST_CASE("RFC 2045 §6.8: characters outside the alphabet are ignored") {
    b64("SGVs\r\nbG8=\r\n", "Hello");
    b64(" S G V s b G 8 = ", "Hello");
    b64("SG!!Vs*bG8=", "Hello");
    b64("SGVsbG8", "Hello");  // unpadded: whole bytes of the last quantum
    b64("SGVsbG", "Hell");
    b64("SGVsb", "Hel");      // a lone character gives nothing
    b64("SGk=SGk=", "HiHi");  // concatenated bodies decode whole
    b64("TQ==\r\n", "M");
}

TEST_CASE("RFC 2045 §6.8: every byte value survives base64") {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    char enc[400];
    const std::size_t n = tinyimapd::base64_encode(all, enc, sizeof enc);
    REQUIRE(n != SIZE_MAX);
    std::string wrapped;
    for (std::size_t i = 0; i < n; ++i) {
        wrapped += enc[i];
        if (i % 76 == 75) wrapped += "\r\n";
    }
    CHECK(decode_split(TransferEncoding::Base64, wrapped, wrapped.size() / 3, 63) == all);
    CHECK(decode_split(TransferEncoding::Base64, wrapped, 1, 1) == all);
}

TEST_CASE("RFC 2045 §6.2: identity encodings and unknown ones copy bytes") {
    check(TransferEncoding::Identity, "a=41 \r\n", "a=41 \r\n");
    check(TransferEncoding::Unknown, "begin 644\r\n", "begin 644\r\n");
}

TEST_CASE("TransferDecoder: reset starts over") {
    TransferDecoder d(TransferEncoding::Base64);
    char buf[8];
    (void)d.decode("SG", 2, buf, sizeof buf);
    CHECK(d.held());
    d.reset(TransferEncoding::QuotedPrintable);
    CHECK_FALSE(d.held());
    const DecodeStep s = d.decode("=41", 3, buf, sizeof buf);
    CHECK(s.consumed == 3);
    CHECK(std::string(buf, s.produced) == "A");
}

// The fuzz_decode seed corpus (tests/fuzz/fuzz_decode.cpp) replayed: each
// file decoded as quoted-printable and base64, whole and split anywhere.
TEST_CASE("RFC 2045 §6.7, §6.8: the fuzz_decode corpus decodes the same split anywhere",
          "[corpus]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(TINYIMAPD_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_decode";
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::ifstream f(entry.path(), std::ios::binary);
        const std::string data((std::istreambuf_iterator<char>(f)),
                               std::istreambuf_iterator<char>());
        ++files;
        for (TransferEncoding e : {TransferEncoding::QuotedPrintable, TransferEncoding::Base64}) {
            const std::string whole = decode_split(e, data, data.size(), 63);
            for (std::size_t split = 0; split <= data.size(); ++split) {
                INFO(entry.path().filename().string() << " split " << split);
                CHECK(decode_split(e, data, split, 1 + split % 5) == whole);
            }
        }
    }
    CHECK(files >= 3);
}
