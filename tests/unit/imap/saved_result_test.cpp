// Tests for core/imap/saved_result.h: RFC 5182's search result variable
// kept as ascending UID ranges in a fixed array (§2.1, §2.5).
#include <catch2/catch.hpp>

#include <string>

#include "core/imap/saved_result.h"

using namespace tinyimapd::imap;

namespace {

std::string text(const SavedResult& r) {
    std::string out;
    for (std::size_t i = 0; i < r.range_count(); ++i) {
        if (!out.empty()) out += ',';
        out += std::to_string(r.range(i).lo);
        if (r.range(i).hi != r.range(i).lo) out += ':' + std::to_string(r.range(i).hi);
    }
    return out;
}

}  // namespace

TEST_CASE("SavedResult gathers ascending numbers into ranges", "[saved_result]") {
    SavedResult r;
    CHECK(r.empty());
    for (std::uint32_t n : {2u, 3u, 4u, 7u, 9u, 10u}) CHECK(r.add(n));
    CHECK(text(r) == "2:4,7,9:10");
    CHECK(r.add(10));  // at or below the last number: ignored
    CHECK(r.add(1));
    CHECK(text(r) == "2:4,7,9:10");
    CHECK(r.add_range(11, 20));
    CHECK(r.add_range(15, 30));
    CHECK(r.add_range(32, 32));
    CHECK(text(r) == "2:4,7,9:30,32");
    CHECK(r.add(UINT32_MAX));
    CHECK(text(r) == "2:4,7,9:30,32,4294967295");
    for (std::uint32_t n :
         {1u, 2u, 4u, 5u, 7u, 8u, 9u, 30u, 31u, 32u, 33u, UINT32_MAX - 1, UINT32_MAX}) {
        INFO(n);
        const bool in = n != 1 && n != 5 && n != 8 && n != 31 && n != 33 && n != UINT32_MAX - 1;
        CHECK(r.contains(n) == in);
        CHECK(r.as_set().contains(n, 0) == in);
    }
    r.clear();
    CHECK(r.empty());
    CHECK(!r.contains(2));
}

TEST_CASE("RFC 5182 §2.5: SavedResult refuses a range beyond its capacity", "[saved_result]") {
    SavedResult r;
    for (std::uint32_t i = 0; i < SavedResult::kCapacity; ++i) CHECK(r.add(2 * i + 1));
    CHECK(!r.overflowed());
    CHECK(r.add(2 * SavedResult::kCapacity - 1 + 1));  // extends the last range: fits
    CHECK(!r.add(2 * SavedResult::kCapacity + 5));
    CHECK(r.overflowed());
    CHECK(!r.add(2 * SavedResult::kCapacity + 6));  // stays refused until cleared
    r.clear();
    CHECK(!r.overflowed());
    CHECK(r.add(1));
}

TEST_CASE("SavedResult::insert takes numbers in any order (ESORT's SAVE, RFC 5267 §3)",
          "[saved_result]") {
    SavedResult r;
    for (std::uint32_t n : {5u, 3u, 9u, 4u, 1u, 7u, 8u, 5u, UINT32_MAX, 6u}) CHECK(r.insert(n));
    CHECK(text(r) == "1,3:9,4294967295");
    CHECK(r.insert(2));  // joins both neighbours
    CHECK(text(r) == "1:9,4294967295");
    CHECK(r.insert(UINT32_MAX - 1));
    CHECK(text(r) == "1:9,4294967294:4294967295");
    CHECK(r.contains(5));
    CHECK_FALSE(r.contains(10));
    // Overflow: a range beyond kCapacity is refused and sticks.
    SavedResult full;
    for (std::uint32_t i = 0; i < SavedResult::kCapacity; ++i) CHECK(full.insert(1000 - 2 * i));
    CHECK_FALSE(full.overflowed());
    CHECK(full.insert(999));  // joins two ranges: one fewer
    CHECK(full.insert(10));
    CHECK_FALSE(full.insert(12));
    CHECK(full.overflowed());
}

TEST_CASE("SavedResult::remove takes a number out (RFC 5267 §4.3.4 REMOVEFROM)", "[saved_result]") {
    SavedResult r;
    CHECK(r.add_range(1, 9));
    CHECK(r.add(20));
    CHECK(r.remove(20));  // a range of one goes
    CHECK(text(r) == "1:9");
    CHECK(r.remove(1));  // an end moves
    CHECK(r.remove(9));
    CHECK(text(r) == "2:8");
    CHECK(r.remove(5));  // the middle splits it
    CHECK(text(r) == "2:4,6:8");
    CHECK(r.remove(5));  // not held: no change
    CHECK(r.remove(100));
    CHECK(text(r) == "2:4,6:8");
    CHECK_FALSE(r.contains(5));
    // A split beyond kCapacity is refused and sticks.
    SavedResult full;
    for (std::uint32_t i = 0; i < SavedResult::kCapacity; ++i)
        CHECK(full.add_range(10 * i, 10 * i + 2));
    CHECK(full.remove(10));  // an end: still kCapacity ranges
    CHECK_FALSE(full.remove(21));
    CHECK(full.overflowed());
    CHECK_FALSE(full.remove(0));
}
