// SortTable (core/imap/sort_table.h): SORT's records in a fixed work area,
// ordered in bounded steps (RFC 5256 §BASE.6.4.SORT), and first_address()
// (core/imap/address.h), which gives the FROM/TO/CC and DISPLAY keys.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "core/imap/address.h"
#include "core/imap/sort_table.h"

using namespace tinyimapd;
using namespace tinyimapd::imap;

namespace {

SortProgram program(std::initializer_list<SortCriterion> criteria) {
    SortProgram p;
    for (const SortCriterion& c : criteria) p.criteria[p.count++] = c;
    return p;
}

std::vector<std::uint32_t> order(SortTable& t, std::uint32_t budget) {
    int calls = 0;
    while (!t.sort_step(budget)) ++calls;
    if (t.size() > 64 && budget == 1) CHECK(calls > 64);  // really in steps
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = 0; i < t.size(); ++i) out.push_back(t.number(i));
    return out;
}

}  // namespace

TEST_CASE("RFC 5256 BASE.6.4.SORT: criteria in priority order, ties by sequence number, in steps",
          "[sort]") {
    std::mt19937 rng(5256);
    struct Row {
        std::uint32_t seq;
        std::int64_t n;
        std::string s;
    };
    std::vector<Row> rows;
    for (std::uint32_t i = 1; i <= 500; ++i) {
        rows.push_back(
            {i, static_cast<std::int64_t>(rng() % 7) - 3, std::string(rng() % 3, 'a' + rng() % 3)});
    }
    // 20 KiB: no room for a copy of the records, the heap sort; 64 KiB: the
    // merge sort.
    for (std::size_t area_size : {std::size_t{20 * 1024}, std::size_t{64 * 1024}})
    for (bool reverse_text : {false, true}) {
        std::vector<char> area(area_size);
        for (std::uint32_t budget : {1u, 7u, 100000u}) {
            SortTable t;
            REQUIRE(t.init(area.data(), area.size(),
                           program({{SortKey::Subject, reverse_text}, {SortKey::Size, true}})));
            for (const Row& r : rows) {
                SortValue v[2];
                v[0].text = r.s;
                v[1].number = r.n;
                REQUIRE(t.add(r.seq, r.seq + 1000, v));
            }
            std::vector<Row> want = rows;
            std::stable_sort(want.begin(), want.end(), [&](const Row& a, const Row& b) {
                if (a.s != b.s) return reverse_text ? a.s > b.s : a.s < b.s;
                return a.n > b.n;  // REVERSE SIZE; equal: sequence order kept
            });
            std::vector<std::uint32_t> expect;
            for (const Row& r : want) expect.push_back(r.seq + 1000);
            CHECK(order(t, budget) == expect);
        }
    }
}

TEST_CASE("SortTable: a full area refuses the record whole; long texts are cut", "[sort]") {
    std::vector<char> area(100);
    SortTable t;
    REQUIRE(t.init(area.data(), area.size(), program({{SortKey::From, false}})));
    SortValue v;
    v.text = "abcdefghijklmnopqrstuvwxyz";
    CHECK(t.add(1, 1, &v));   // a record of 24 (8 + a text slot of 16) + 26
    CHECK(t.add(2, 2, &v));   // 100
    CHECK(!t.add(3, 3, &v));  // 150 > 100
    CHECK(t.size() == 2);
    std::vector<char> big(4096);
    REQUIRE(t.init(big.data(), big.size(), program({{SortKey::From, false}})));
    const std::string long_text(kSortTextMax + 50, 'x');
    v.text = long_text;
    REQUIRE(t.add(1, 1, &v));
    CHECK(t.text(0, 0).size() == kSortTextMax);
    CHECK(t.sort_step(1));
}

TEST_CASE("RFC 5256 §3 addr-mailbox, RFC 5957 §3: the first address of a list", "[sort]") {
    char work[512];
    FirstAddress a = first_address("\"Smith, J\" <js@example.org>, b@c", work, sizeof work);
    CHECK(a.found);
    CHECK(a.name == "Smith, J");
    CHECK(a.mailbox == "js");
    CHECK(a.host == "example.org");
    a = first_address("team: x@y, z@w;, q@r", work, sizeof work);  // a group's first member
    CHECK(a.mailbox == "x");
    CHECK(a.name.empty());
    a = first_address("bob@example.org (Bob B)", work, sizeof work);
    CHECK(a.name == "Bob B");
    CHECK(!first_address("", work, sizeof work).found);
    CHECK(!first_address("undisclosed-recipients:;", work, sizeof work).found);
}

// The slot's 8-byte number and the strings kept once (an area of 256 KiB
// or more) must give memcmp's order exactly (RFC 5256 §BASE.6.4.SORT:
// i;unicode-casemap's prepared bytes compare as octets): strings equal in
// their first 8 bytes, shorter than 8, with NUL and 0xff bytes, prefixes
// of each other, the same string many times, near and far apart.
TEST_CASE("RFC 5256 BASE.6.4.SORT: strings order as octets, repeated ones kept once",
          "[sort]") {
    std::mt19937 rng(5051);
    const std::vector<std::string> pool = {
        "",          "a",         std::string("a\0", 2), std::string("a\0b", 3), "ab",
        "abcdefgh",  "abcdefghi", "abcdefgh\xff",        "abcdefgg\xff\xff",     "\xff",
        "quarterly report 12",    "quarterly report 1",  "quarterly report 2",
        "the long subject line that goes on well past eight bytes, twice over",
        "the long subject line that goes on well past eight bytes, twice ovex",
        std::string(300, 'z')};
    for (bool reverse : {false, true}) {
        std::vector<char> area(512 * 1024);
        SortTable t;
        REQUIRE(t.init(area.data(), area.size(), program({{SortKey::Subject, reverse}})));
        std::vector<std::string> texts;
        for (std::uint32_t seq = 1; seq <= 3000; ++seq) {
            texts.push_back(pool[rng() % pool.size()]);
            SortValue v;
            v.text = texts.back();
            REQUIRE(t.add(seq, seq, &v));
        }
        // Most strings are repeats: kept once (records of 24 bytes).
        std::size_t text_bytes = 0;
        for (const std::string& s : texts) text_bytes += std::min(s.size(), kSortTextMax);
        CHECK(t.used() < 3000 * 24 + text_bytes / 4);
        std::vector<std::uint32_t> want;
        for (std::uint32_t seq = 1; seq <= 3000; ++seq) want.push_back(seq);
        std::stable_sort(want.begin(), want.end(), [&](std::uint32_t a, std::uint32_t b) {
            const std::string x = texts[a - 1].substr(0, kSortTextMax);
            const std::string y = texts[b - 1].substr(0, kSortTextMax);
            return reverse ? x > y : x < y;
        });
        CHECK(order(t, 7) == want);
        for (std::uint32_t i = 0; i < t.size(); ++i) {
            CHECK(t.text(i, 0) == texts[t.seq(i) - 1].substr(0, kSortTextMax));
        }
    }
}
