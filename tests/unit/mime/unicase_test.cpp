// core/mime/unicase: the i;unicode-casemap collation (RFC 5051 §2; RFC 4790
// for equality, ordering and substring), what SORT/THREAD (RFC 5256 §7) and
// I18NLEVEL=1 (RFC 5255) compare with.
#include "core/mime/unicase.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/unicase_reference.h"

using tinyimapd::mime::ByteSink;
using tinyimapd::mime::kUnicaseMaxCodePointBytes;
using tinyimapd::mime::unicase_compare;
using tinyimapd::mime::unicase_contains;
using tinyimapd::mime::unicase_equal;
using tinyimapd::mime::unicase_map_code_point;
using tinyimapd::mime::unicase_prepare;
using tinyimapd::mime::UnicaseMatch;
using tinyimapd::mime::UnicaseMatcher;
using tinyimapd::mime::UnicaseReader;
using tinyimapd::mime::utf8_valid;
using tinyimapd::test::reference_compare;
using tinyimapd::test::reference_contains;
using tinyimapd::test::reference_decode;
using tinyimapd::test::reference_prepare;

namespace {

class StringSink final : public ByteSink {
public:
    void write(const char* data, std::size_t n) override { text.append(data, n); }
    std::string text;
};

std::string utf8(std::initializer_list<std::uint32_t> cps) {
    std::string out;
    for (const std::uint32_t cp : cps) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    return out;
}

std::string prepared(std::string_view s) {
    StringSink sink;
    const bool valid = unicase_prepare(s, sink);
    CHECK(valid == utf8_valid(s));
    return sink.text;
}

std::string map_one(std::uint32_t cp) {
    char buf[kUnicaseMaxCodePointBytes];
    return std::string(buf, unicase_map_code_point(cp, buf));
}

bool contains(std::string_view haystack, std::string_view needle) {
    std::vector<char> buf(4 * needle.size() + 64);
    std::vector<std::uint16_t> fail(buf.size());
    const UnicaseMatch m = unicase_contains(haystack, needle, buf.data(), fail.data(), buf.size());
    REQUIRE(m != UnicaseMatch::NeedleTooLong);
    return m == UnicaseMatch::Found;
}

}  // namespace

TEST_CASE("RFC 5051 §2 (2): the example, U+01C4 becomes U+0044 U+007A U+030C") {
    const std::string expected = utf8({0x44, 0x7A, 0x30C});
    CHECK(prepared(utf8({0x1C4})) == expected);
    // U+01C5 and U+01C6 share the titlecase property U+01C5.
    CHECK(prepared(utf8({0x1C5})) == expected);
    CHECK(prepared(utf8({0x1C6})) == expected);
    CHECK(unicase_equal(utf8({0x1C4}), utf8({0x1C6})));
    // What the decomposition yields is not titlecased again: U+017E (ž)
    // stays small inside it, while a ž typed as such is titlecased first.
    CHECK(prepared(utf8({0x17E})) == utf8({0x5A, 0x30C}));
    CHECK_FALSE(unicase_equal(utf8({0x1C4}), "D" + utf8({0x17D})));
}

TEST_CASE("RFC 5051 §2: ASCII letters are equal across case, other ASCII is kept") {
    for (int c = 0; c < 0x80; ++c) {
        const std::string one(1, static_cast<char>(c));
        const bool small = c >= 'a' && c <= 'z';
        const std::string expected(1, static_cast<char>(small ? c - 32 : c));
        CHECK(prepared(one) == expected);
        CHECK(map_one(static_cast<std::uint32_t>(c)) == expected);  // the table agrees
    }
    // The same in runs (eight bytes at a time), at every alignment.
    std::string all, expected_all;
    for (int c = 0; c < 0x80; ++c) {
        all += static_cast<char>(c);
        expected_all += static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    for (std::size_t skip = 0; skip < 8; ++skip) {
        CHECK(prepared(all.substr(skip) + all) == expected_all.substr(skip) + expected_all);
    }
    CHECK(unicase_equal("Hello, World!", "hELLO, wORLD!"));
    CHECK_FALSE(unicase_equal("[", "{"));
}

TEST_CASE("RFC 5051 §2 (2)(a): German sharp s as UnicodeData.txt has it") {
    // U+00DF has no titlecase property (field 14 is empty): it stays ß, so it
    // is not "SS" and not the capital U+1E9E either (which has none as well).
    CHECK(prepared(utf8({0xDF})) == utf8({0xDF}));
    CHECK(prepared(utf8({0x1E9E})) == utf8({0x1E9E}));
    CHECK_FALSE(unicase_equal(utf8({0xDF}), "SS"));
    CHECK_FALSE(unicase_equal(utf8({0xDF}), utf8({0x1E9E})));
    CHECK(unicase_equal("Stra" + utf8({0xDF}) + "e", "STRA" + utf8({0xDF}) + "E"));
}

TEST_CASE("RFC 5051 §2 (2)(a): the Greek sigmas are one letter") {
    const std::string sigma = utf8({0x3A3});
    CHECK(prepared(utf8({0x3C3})) == sigma);  // σ
    CHECK(prepared(utf8({0x3C2})) == sigma);  // ς, final
    CHECK(prepared(sigma) == sigma);
    CHECK(unicase_equal(utf8({0x3BF, 0x3B4, 0x3CC, 0x3C2}), utf8({0x39F, 0x394, 0x38C, 0x3A3})));
}

TEST_CASE("RFC 5051 §2 (2)(b): precomposed and decomposed letters are equal") {
    const std::string a_ring = utf8({0x41, 0x30A});
    CHECK(prepared(utf8({0xC5})) == a_ring);    // Å
    CHECK(prepared(utf8({0xE5})) == a_ring);    // å, titlecased to Å first
    CHECK(prepared(utf8({0x212B})) == a_ring);  // ANGSTROM SIGN, via U+00C5
    CHECK(unicase_equal(utf8({0xC5}), utf8({0x61, 0x30A})));
    CHECK(unicase_equal(utf8({0xE9}), "E" + utf8({0x301})));  // é
    // U+1E9B (long s with dot above): titlecase U+1E60, then S U+0307.
    CHECK(prepared(utf8({0x1E9B})) == utf8({0x53, 0x307}));
}

TEST_CASE("RFC 5051 §2 (2)(b): compatibility decompositions, fullwidth and ligatures") {
    CHECK(unicase_equal(utf8({0xFF21}), "A"));  // FULLWIDTH A
    CHECK(unicase_equal(utf8({0xFF41}), "a"));  // fullwidth a: titlecase U+FF21, then A
    CHECK(prepared(utf8({0x1D400})) == "A");    // MATHEMATICAL BOLD CAPITAL A
    CHECK(prepared(utf8({0x2460})) == "1");     // CIRCLED DIGIT ONE
    CHECK(prepared(utf8({0xBD})) == utf8({0x31, 0x2044, 0x32}));  // ½
    // ﬁ (U+FB01) has no titlecase property; its decomposition "fi" is not
    // titlecased afterwards (step (a) comes first), so it equals neither
    // "fi" nor "FI" — RFC 5051 read literally.
    CHECK(prepared(utf8({0xFB01})) == "fi");
    CHECK_FALSE(unicase_equal(utf8({0xFB01}), "fi"));
    CHECK_FALSE(unicase_equal(utf8({0xFB01}), "FI"));
    // Nor is it found by "f", which prepares to "F"; only an "fi" it holds.
    CHECK_FALSE(contains("o" + utf8({0xFB01}) + "ce", "f"));
    CHECK(contains("o" + utf8({0xFB01}) + "ce", "O" + utf8({0xFB01})));
    // The longest mapping in the table: U+FDFA, 18 code points.
    CHECK(prepared(utf8({0xFDFA})).size() == 33);
}

TEST_CASE("RFC 5051 §2 (2)(b): Hangul syllables decompose (Unicode §3.12)") {
    CHECK(prepared(utf8({0xAC00})) == utf8({0x1100, 0x1161}));          // 가, LV
    CHECK(prepared(utf8({0xAC01})) == utf8({0x1100, 0x1161, 0x11A8}));  // 각, LVT
    CHECK(prepared(utf8({0xD7A3})) == utf8({0x1112, 0x1175, 0x11C2}));  // 힣, the last
    CHECK(prepared(utf8({0xD7A4})) == utf8({0xD7A4}));                  // past the block
    CHECK(prepared(utf8({0xABFF})) == utf8({0xABFF}));
    CHECK(unicase_equal(utf8({0xD55C, 0xAE00}),
                        utf8({0x1112, 0x1161, 0x11AB, 0x1100, 0x1173, 0x11AF})));  // 한글
}

TEST_CASE("RFC 5051 §2 (1)(b): invalid UTF-8 is compared as octets, unprepared") {
    const char* const invalid[] = {
        "\xC0\x80",          // overlong NUL
        "\xC1\xBF",          // overlong
        "\xE0\x80\xAF",      // overlong '/'
        "\xF0\x80\x80\x80",  // overlong
        "\xED\xA0\x80",      // surrogate U+D800
        "\xED\xBF\xBF",      // surrogate U+DFFF
        "\xF4\x90\x80\x80",  // U+110000
        "\xF5\x80\x80\x80",  // beyond
        "\xC3",              // truncated
        "a\xE2\x82",         // truncated
        "\x80",              // stray continuation
        "\xFF",
    };
    for (const char* s : invalid) {
        INFO(s);
        CHECK_FALSE(utf8_valid(s));
        CHECK_FALSE(UnicaseReader(s).valid());
        CHECK(prepared(s) == s);
    }
    for (const std::string& s :
         {utf8({0x7F}), utf8({0x80}), utf8({0x7FF}), utf8({0xD7FF}), utf8({0xE000}), utf8({0xFFFF}),
          utf8({0x10000}), utf8({0x10FFFF})}) {
        CHECK(utf8_valid(s));
    }
    CHECK(unicase_compare(std::string_view("\xC0\x80", 2), std::string_view("\0", 1)) > 0);
    CHECK_FALSE(unicase_equal("\xC0\x80", ""));
    // The whole string is kept, its ASCII letters too: no case folding.
    CHECK_FALSE(unicase_equal("a\xFF", "A\xFF"));
    CHECK(unicase_equal("a\xFF", "a\xFF"));
    // Per string: an invalid one against the prepared form of a valid one.
    CHECK(unicase_compare("A\xFF", "a") > 0);   // "A\xFF" against "A"
    CHECK(unicase_compare("a\xFF", "B") > 0);   // 0x61 against 0x42
    CHECK(unicase_compare("B\xFF", "bb") > 0);  // "B\xFF" against "BB"
    CHECK_FALSE(contains("abc\xFF", "b"));      // "B" is not in "abc\xFF"
    CHECK(contains("aBc\xFF", "b"));            // "B" is in "aBc\xFF"
    CHECK(contains("abc\xFF", "c\xFF"));
    CHECK(contains("xABCy", "b\xFF") == false);
}

TEST_CASE("RFC 5051 §2 / RFC 4790 §4.2.2: ordering is i;octet on the prepared forms") {
    CHECK(unicase_compare("", "") == 0);
    CHECK(unicase_compare("", "a") < 0);
    CHECK(unicase_compare("a", "") > 0);
    CHECK(unicase_compare("a", "B") < 0);  // "A" < "B"
    CHECK(unicase_compare("B", "a") > 0);
    CHECK(unicase_compare("Z", "a") > 0);  // "Z" > "A"
    CHECK(unicase_compare("ab", "ABC") < 0);
    CHECK(unicase_compare("[", "a") > 0);  // 0x5B after "A" (0x41): titlecase, not lowercase
    // "German umlaut letters will sort correctly": Ä is A U+0308, before B.
    CHECK(unicase_compare(utf8({0xE4}), "b") < 0);
    CHECK(unicase_compare(utf8({0xE4}), "a") > 0);
    // Bytes are unsigned: any non-ASCII character sorts after ASCII.
    CHECK(unicase_compare(utf8({0x3A3}), "~") > 0);
    CHECK(unicase_compare(utf8({0x10000}), utf8({0xFFFD})) > 0);
}

TEST_CASE("RFC 5051 §2 (3): a prepared form into a buffer says its full size") {
    char out[8];
    auto r = unicase_prepare(utf8({0xFDFA}), out, sizeof out);
    CHECK(r.valid);
    CHECK(r.size == 33);
    CHECK(std::string(out, sizeof out) == prepared(utf8({0xFDFA})).substr(0, sizeof out));
    r = unicase_prepare("abc", out, sizeof out);
    CHECK(r.size == 3);
    CHECK(std::string(out, 3) == "ABC");
    r = unicase_prepare("ab\xFF", out, sizeof out);
    CHECK_FALSE(r.valid);
    CHECK(std::string(out, r.size) == "ab\xFF");
}

TEST_CASE("RFC 5051 §2 / RFC 4790 §4.2.3: substring on the prepared forms") {
    CHECK(contains("anything", ""));
    CHECK(contains("", ""));
    CHECK_FALSE(contains("", "a"));
    CHECK(contains("aaab", "AAB"));  // KMP: a partial match restarts inside itself
    CHECK(contains("Re: Stra" + utf8({0xDF}) + "e", "STRASSE") == false);
    CHECK(contains("K" + utf8({0xF6}) + "ln", "O" + utf8({0x308})));  // ö holds O U+0308
    CHECK(contains(utf8({0xD55C, 0xAE00}), utf8({0x1100})));
    // The needle does not fit: refused, not guessed.
    char buf[4];
    std::uint16_t fail[4];
    CHECK(unicase_contains("hello", "hello", buf, fail, sizeof buf) == UnicaseMatch::NeedleTooLong);
    CHECK(unicase_contains("hell", "hell", buf, fail, sizeof buf) == UnicaseMatch::Found);
    UnicaseMatcher m;
    CHECK_FALSE(m.prepare(utf8({0xFDFA}), buf, fail, sizeof buf));
    CHECK_FALSE(m.found_in(utf8({0xFDFA})));
}

TEST_CASE("UnicaseMatcher: the prepared haystack streamed in pieces through a ByteSink") {
    const std::string needle = utf8({0xC5, 0x3C3});
    std::vector<char> buf(64);
    std::vector<std::uint16_t> fail(64);
    UnicaseMatcher m;
    REQUIRE(m.prepare(needle, buf.data(), fail.data(), buf.size()));
    const std::string hay = std::string(200, 'x') + utf8({0x61, 0x30A, 0x3C2}) + "y";
    m.restart();
    CHECK(unicase_prepare(hay, m));
    CHECK(m.found());
    CHECK(m.found_in(hay));
    CHECK_FALSE(m.found_in(std::string(200, 'x')));
}

namespace {

// Code points where mappings begin, end or misbehave, and bytes that break
// UTF-8; random strings of them stress chunk boundaries (> kUnicaseChunk).
const std::vector<std::string>& pieces() {
    static const std::vector<std::string> all = [] {
        std::vector<std::string> v;
        for (const std::uint32_t cp :
             {0x41u,   0x61u,   0x5Au,    0x7Au,     0x5Bu,   0x60u,   0x7Bu,   0x20u,
              0x31u,   0x7Fu,   0x80u,    0xDFu,     0x1E9Eu, 0x3A3u,  0x3C3u,  0x3C2u,
              0xC5u,   0xE5u,   0x30Au,   0x212Bu,   0xFB01u, 0xFF21u, 0xFF41u, 0x1C4u,
              0x1C5u,  0x1C6u,  0x17Eu,   0x30Cu,    0xAC00u, 0xAC01u, 0xD7A3u, 0x1100u,
              0x1161u, 0x11A8u, 0xFDFAu,  0x1D400u,  0x2460u, 0xBDu,   0xE9u,   0x301u,
              0xFFFFu, 0xE000u, 0x10000u, 0x10FFFFu, 0x345u,  0x390u,  0x1E9Bu, 0x0130u,
              0x0131u, 0x2126u, 0x3A9u,   0x4E00u,   0xF900u, 0x2F800u}) {
            v.push_back(utf8({cp}));
        }
        for (const char* bad : {"\xC0\x80", "\xED\xA0\x80", "\xFF", "\xC3", "\xF4\x90\x80\x80"}) {
            v.emplace_back(bad);
        }
        return v;
    }();
    return all;
}

std::string random_string(std::mt19937& rng, std::size_t max_pieces, bool allow_invalid) {
    const auto& all = pieces();
    const std::size_t valid_pieces = all.size() - 5;
    std::string s;
    const std::size_t n = rng() % (max_pieces + 1);
    for (std::size_t i = 0; i < n; ++i) {
        const bool bad = allow_invalid && rng() % 200 == 0;
        s += bad ? all[valid_pieces + rng() % 5] : all[rng() % valid_pieces];
    }
    return s;
}

// A variant of s likely to compare equal or nearly: ASCII case flipped, a
// piece changed or cut.
std::string variant(std::mt19937& rng, std::string s) {
    for (char& c : s) {
        if (rng() % 2 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) c ^= 0x20;
    }
    if (!s.empty() && rng() % 3 == 0) s.resize(rng() % s.size());
    if (rng() % 4 == 0) s += pieces()[rng() % (pieces().size() - 5)];
    return s;
}

}  // namespace

TEST_CASE("RFC 5051 §2: streaming compare, equality and substring match a plain reference") {
    std::mt19937 rng(5051);
    for (int round = 0; round < 4000; ++round) {
        const std::string a = random_string(rng, round % 7 == 0 ? 120 : 12, true);
        const std::string b = rng() % 2 ? variant(rng, a) : random_string(rng, 12, true);
        INFO("round " << round);
        std::vector<std::uint32_t> ignored;
        CHECK(utf8_valid(a) == reference_decode(a, &ignored));
        CHECK(prepared(a) == reference_prepare(a));
        CHECK(unicase_compare(a, b) == reference_compare(a, b));
        CHECK(unicase_compare(b, a) == -reference_compare(a, b));
        CHECK(unicase_equal(a, b) == (reference_prepare(a) == reference_prepare(b)));
        CHECK(contains(a, b) == reference_contains(a, b));
        const std::size_t from = a.empty() ? 0 : rng() % a.size();
        const std::string part = a.substr(from, rng() % 40);
        CHECK(contains(a, part) == reference_contains(a, part));
        const std::string other = variant(rng, a);
        CHECK(contains(other, part) == reference_contains(other, part));
    }
}

// Every code point against UnicodeData.txt read here, independently of the
// generator (same RFC 5051 §2 (2) rules), when the file is installed
// (Debian: unicode-data). The table's Unicode version must match it.
TEST_CASE("RFC 5051 §2 (2): the table agrees with UnicodeData.txt for every code point") {
    std::ifstream f("/usr/share/unicode/UnicodeData.txt");
    if (!f) {
        WARN("UnicodeData.txt not installed: table cross-check skipped");
        return;
    }
    std::map<std::uint32_t, std::vector<std::uint32_t>> decomp;
    std::map<std::uint32_t, std::uint32_t> title;
    for (std::string line; std::getline(f, line);) {
        std::vector<std::string> field;
        std::stringstream ss(line);
        for (std::string x; std::getline(ss, x, ';');) field.push_back(x);
        field.resize(15);
        const auto cp = static_cast<std::uint32_t>(std::stoul(field[0], nullptr, 16));
        if (!field[14].empty())
            title[cp] = static_cast<std::uint32_t>(std::stoul(field[14], nullptr, 16));
        std::stringstream d(field[5]);
        for (std::string x; d >> x;) {
            if (x[0] != '<')
                decomp[cp].push_back(static_cast<std::uint32_t>(std::stoul(x, nullptr, 16)));
        }
    }
    std::function<void(std::uint32_t, std::vector<std::uint32_t>&)> full =
        [&](std::uint32_t cp, std::vector<std::uint32_t>& out) {
            if (cp >= 0xAC00 && cp <= 0xD7A3) {
                const std::uint32_t s = cp - 0xAC00;
                out.push_back(0x1100 + s / 588);
                out.push_back(0x1161 + s % 588 / 28);
                if (s % 28 != 0) out.push_back(0x11A7 + s % 28);
                return;
            }
            const auto it = decomp.find(cp);
            if (it == decomp.end()) {
                out.push_back(cp);
                return;
            }
            for (const std::uint32_t d : it->second) full(d, out);
        };
    std::size_t mismatches = 0, mapped = 0;
    for (std::uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        std::vector<std::uint32_t> seq;
        const auto t = title.find(cp);
        full(t == title.end() ? cp : t->second, seq);
        std::string expected;
        for (const std::uint32_t x : seq) expected += utf8({x});
        const std::string got = map_one(cp);
        if (got != expected && ++mismatches < 10) FAIL_CHECK("U+" << std::hex << cp);
        mapped += seq.size() != 1 || seq[0] != cp;
    }
    CHECK(mismatches == 0);
    CHECK(mapped > 6000);
}

namespace {

// Megabytes of input per processor second (not wall time: the machine may
// be shared) for compare (both sides counted) and for a substring search.
void bench(const char* what, const std::string& a) {
    std::string b = a;
    for (char& c : b) {
        if (c >= 'a' && c <= 'z') c ^= 0x20;
    }
    const int rounds = 50;
    int sum = 0;
    std::clock_t t0 = std::clock();
    for (int i = 0; i < rounds; ++i) sum += unicase_compare(a, b);
    double secs = static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
    CHECK(sum == 0);
    std::printf("%s, %zu bytes: unicase_compare %.0f MB/s", what, a.size(),
                2.0 * rounds * static_cast<double>(a.size()) / secs / 1e6);
    std::vector<char> buf(64);
    std::vector<std::uint16_t> fail(64);
    UnicaseMatcher m;
    REQUIRE(m.prepare("not there at all", buf.data(), fail.data(), buf.size()));
    t0 = std::clock();
    for (int i = 0; i < rounds; ++i) sum += m.found_in(a);
    secs = static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC;
    CHECK(sum == 0);
    std::printf(", found_in %.0f MB/s\n", rounds * static_cast<double>(a.size()) / secs / 1e6);
}

}  // namespace

TEST_CASE("unicase_compare throughput on long ASCII and mixed strings", "[.bench]") {
    const std::string mixed = "The quick brown Fox " +
                              utf8({0xDF, 0xE9, 0x20, 0x3A3, 0x3B5, 0x3BB, 0x3B7, 0x20, 0x65E5,
                                    0x672C, 0x20, 0xD55C, 0xAE00, 0x20, 0xFF21}) +
                              " caf" + utf8({0xE9}) + " ";
    const std::string ascii = "Re: [list] The quick brown fox jumps over the lazy dog. ";
    std::string a, m;
    while (a.size() < (1u << 20)) a += ascii;
    while (m.size() < (1u << 20)) m += mixed;
    bench("ASCII", a);
    bench("mixed (half the bytes non-ASCII)", m);
}
