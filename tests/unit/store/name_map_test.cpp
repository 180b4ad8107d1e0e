// core/store/name_map: the LIST/LSUB wildcard matcher (RFC 3501 §6.3.8) —
// its semantics, its time on hostile patterns (issue 20, item 1), and a
// randomized cross-check against the old backtracking matcher.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/mail/mailbox_name.h"
#include "core/store/name_map.h"
#include "tests/fuzz/pattern_reference.h"

using tinyimapd::store::match_pattern;
using tinyimapd::test::reference_match;

namespace {

// A second reference for long inputs: the table of "pattern[i..] matches
// name[j..]", filled from the ends.
bool table_match(std::string_view p, std::string_view n) {
    std::vector<std::vector<char>> t(p.size() + 1, std::vector<char>(n.size() + 1, 0));
    for (std::size_t i = p.size() + 1; i-- > 0;) {
        for (std::size_t j = n.size() + 1; j-- > 0;) {
            bool m = false;
            if (i == p.size()) {
                m = j == n.size();
            } else if (p[i] == '*') {
                m = t[i + 1][j] || (j < n.size() && t[i][j + 1]);
            } else if (p[i] == '%') {
                m = t[i + 1][j] || (j < n.size() && n[j] != '/' && t[i][j + 1]);
            } else {
                m = j < n.size() && n[j] == p[i] && t[i + 1][j + 1];
            }
            t[i][j] = m;
        }
    }
    return t[0][0];
}

double seconds_of(bool (*f)(std::string_view, std::string_view), std::string_view p,
                  std::string_view n, bool* result) {
    const auto t0 = std::chrono::steady_clock::now();
    *result = f(p, n);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("LIST wildcards: '*' matches anything, '%' anything but the delimiter rfc3501_6_3_8",
          "[name_map]") {
    CHECK(match_pattern("*", ""));
    CHECK(match_pattern("*", "a/b/c"));
    CHECK(match_pattern("%", "abc"));
    CHECK_FALSE(match_pattern("%", "a/b"));
    CHECK(match_pattern("a/%", "a/b"));
    CHECK_FALSE(match_pattern("a/%", "a/b/c"));
    CHECK(match_pattern("a/*", "a/b/c"));
    CHECK(match_pattern("%/%", "a/b"));
    CHECK_FALSE(match_pattern("%/%", "a/b/c"));
    CHECK(match_pattern("%b%", "abc"));
    CHECK(match_pattern("%%", "abc"));
    CHECK_FALSE(match_pattern("%%", "a/c"));
    CHECK(match_pattern("%*", "a/c"));
    CHECK(match_pattern("*%", "a/c"));
    CHECK(match_pattern("a%*%b", "a/x/b"));
    CHECK_FALSE(match_pattern("a%%%b", "a/x/b"));
    CHECK(match_pattern("INBOX", "INBOX"));
    CHECK_FALSE(match_pattern("INBOX", "INBOX/x"));
    CHECK_FALSE(match_pattern("inbox", "INBOX"));  // the store folds INBOX's case first
    CHECK(match_pattern("", ""));
    CHECK_FALSE(match_pattern("", "a"));
    CHECK_FALSE(match_pattern("a", ""));
    // Wildcards in the name are ordinary bytes there.
    CHECK(match_pattern("a%", "a*"));
    CHECK_FALSE(match_pattern("a*", "b*"));
    CHECK(match_pattern("%/*", "x/"));
}

TEST_CASE("LIST wildcards: hostile patterns take linear time, not exponential", "[name_map]") {
    const std::string as(120, 'a');
    bool matched = true;
    // Issue 20: 29-39 s with six "*a", more than 571 s with seven.
    CHECK(seconds_of(match_pattern, "*a*a*a*a*a*a*a*b", as, &matched) < 0.5);
    CHECK_FALSE(matched);
    CHECK(seconds_of(match_pattern, "%a%a%a%a%a%a%a%b", as, &matched) < 0.5);
    CHECK_FALSE(matched);
    // The longest name and the longest pattern that can still match.
    const std::string longest(tinyimapd::mail::kMaxMailboxName, 'a');
    std::string pat;
    for (std::size_t i = 0; i + 1 < tinyimapd::mail::kMaxMailboxName; ++i) pat += "*a%";
    pat += "b";
    CHECK(seconds_of(match_pattern, pat, longest, &matched) < 0.5);
    CHECK_FALSE(matched);
    pat.back() = 'a';
    CHECK(seconds_of(match_pattern, pat, longest, &matched) < 0.5);
    CHECK(matched);
    // Patterns longer than any name, made of wildcards only.
    CHECK(match_pattern(std::string(5000, '%') + "*", "a/b"));
    CHECK_FALSE(match_pattern(std::string(5000, '%'), "a/b"));
    CHECK_FALSE(match_pattern(std::string(5000, 'a'), longest));
    // Longer than any mailbox name: never a match.
    CHECK_FALSE(match_pattern("*", std::string(tinyimapd::mail::kMaxMailboxName + 1, 'a')));
}

TEST_CASE("LIST wildcards: the linear matcher agrees with the backtracking one (randomized)",
          "[name_map]") {
    std::mt19937 rng(20);
    const char pattern_bytes[] = {'a', 'b', '/', '*', '%'};
    const char name_bytes[] = {'a', 'b', '/', '*', '%'};
    for (int round = 0; round < 200000; ++round) {
        std::string p, n;
        const std::size_t pl = rng() % 9, nl = rng() % 10;
        for (std::size_t i = 0; i < pl; ++i) p += pattern_bytes[rng() % 5];
        for (std::size_t i = 0; i < nl; ++i) n += name_bytes[rng() % 5];
        INFO("pattern \"" << p << "\" name \"" << n << "\"");
        REQUIRE(match_pattern(p, n) == reference_match(p, n));
    }
}

TEST_CASE("LIST wildcards: long patterns across many state words agree with a table (randomized)",
          "[name_map]") {
    std::mt19937 rng(2020);
    int matches = 0;
    for (int round = 0; round < 3000; ++round) {
        // Names of a few repeated bytes, patterns mostly literals: many
        // states live at once, across 64-bit word boundaries.
        std::string n, p;
        const std::size_t nl = rng() % 300;
        for (std::size_t i = 0; i < nl; ++i) n += "ab/\xe9"[rng() % (rng() % 2 ? 1 : 4)];
        const std::size_t pl = rng() % 400;
        for (std::size_t i = 0; i < pl; ++i) {
            const unsigned r = rng() % 16;
            p += r == 0 ? '*' : r == 1 ? '%' : "ab/\xe9"[rng() % (rng() % 2 ? 1 : 4)];
        }
        if (rng() % 2) {
            // Or the name with some runs replaced by wildcards: mostly matches.
            p.clear();
            for (std::size_t i = 0; i < n.size();) {
                const std::size_t run = 1 + rng() % 8;
                const unsigned r = rng() % 8;
                if (r == 0) {
                    p += '*';
                } else if (r == 1) {
                    p += '%';
                } else {
                    p += n.substr(i, run);
                }
                i += run;
            }
        }
        INFO("pattern \"" << p << "\" name \"" << n << "\"");
        const bool expected = table_match(p, n);
        matches += expected ? 1 : 0;
        REQUIRE(match_pattern(p, n) == expected);
    }
    CHECK(matches > 500);
}
