// libFuzzer target: the i;unicode-casemap collation (core/mime/unicase.h,
// RFC 5051 §2) — strings a client or a message chose (SORT/THREAD keys,
// I18NLEVEL=1 SEARCH).
//
// Input: byte 0 says where to split the rest into two strings a and b.
// Checked for every input (any violation aborts):
//   - UTF-8 validity agrees with an independent decoder (unicase_reference.h);
//   - the prepared forms (sink and buffer) are the reference's;
//   - compare(a, a) == 0, and compare(a, b) == -compare(b, a) == the
//     reference's i;octet comparison of the prepared strings;
//   - equal(a, b) exactly when the prepared strings are equal;
//   - contains(a, a); contains(a, b) and contains(b, a) as the reference's;
//   - SEARCH's streaming matcher (text_search.h TextMatcher, I18NLEVEL=1),
//     fed the haystack in two pieces cut anywhere, agrees with contains()
//     when both strings are well-formed UTF-8.
// The collation itself allocates nothing; the reference and checks may.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/mime/text_search.h"
#include "core/mime/unicase.h"
#include "tests/fuzz/unicase_reference.h"

namespace {

namespace mime = tinyimapd::mime;
namespace test = tinyimapd::test;

constexpr std::size_t kMaxInput = 4096;
// A code point's prepared form is at most 11 times its UTF-8 (U+FDFA:
// 3 bytes to 33).
constexpr std::size_t kMaxPrepared = 11 * kMaxInput + 64;

char g_needle[kMaxPrepared];
std::uint16_t g_fail[kMaxPrepared];
char g_out[kMaxPrepared];
char g_stream_needle[kMaxPrepared];
std::uint16_t g_stream_fail[kMaxPrepared];

void check(bool ok) {
    if (!ok) std::abort();
}

class StringSink final : public mime::ByteSink {
public:
    void write(const char* data, std::size_t n) override { text.append(data, n); }
    std::string text;
};

bool contains(std::string_view haystack, std::string_view needle) {
    const mime::UnicaseMatch m =
        mime::unicase_contains(haystack, needle, g_needle, g_fail, kMaxPrepared);
    check(m != mime::UnicaseMatch::NeedleTooLong);
    return m == mime::UnicaseMatch::Found;
}

void check_one(std::string_view s) {
    std::vector<std::uint32_t> cps;
    const bool valid = test::reference_decode(s, &cps);
    check(mime::utf8_valid(s) == valid);
    const std::string expected = test::reference_prepare(s);
    StringSink sink;
    check(mime::unicase_prepare(s, sink) == valid);
    check(sink.text == expected);
    const mime::UnicasePrepared p = mime::unicase_prepare(s, g_out, kMaxPrepared);
    check(p.valid == valid && p.size == expected.size());
    check(std::string_view(g_out, p.size) == expected);
    check(mime::unicase_compare(s, s) == 0);
    check(contains(s, s));
}

bool streamed_contains(std::string_view haystack, std::string_view needle, std::size_t cut) {
    mime::TextMatcher m;
    check(m.prepare(needle, g_stream_needle, g_stream_fail, kMaxPrepared));
    cut = haystack.empty() ? 0 : cut % (haystack.size() + 1);
    m.write(haystack.data(), cut);
    m.write(haystack.data() + cut, haystack.size() - cut);
    return m.found();
}

int sign(int v) {
    return v < 0 ? -1 : v > 0 ? 1 : 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1 || size > kMaxInput) return 0;
    const std::size_t split = data[0] % size;
    const auto* text = reinterpret_cast<const char*>(data + 1);
    const std::string_view a(text, split), b(text + split, size - 1 - split);
    check_one(a);
    check_one(b);
    const int ab = mime::unicase_compare(a, b), ba = mime::unicase_compare(b, a);
    check(sign(ab) == ab && ba == -ab);
    check(ab == test::reference_compare(a, b));
    check(mime::unicase_equal(a, b) == (test::reference_prepare(a) == test::reference_prepare(b)));
    check(contains(a, b) == test::reference_contains(a, b));
    check(contains(b, a) == test::reference_contains(b, a));
    if (mime::utf8_valid(a) && mime::utf8_valid(b)) {
        check(streamed_contains(a, b, data[0]) == contains(a, b));
        check(streamed_contains(b, a, size) == contains(b, a));
    }
    return 0;
}
