// Tests for core/imap/seqset: RFC 3501 §9 sequence-set, seq-range,
// seq-number, and the examples of §6.4.5-§6.4.8 and §9.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "core/imap/seqset.h"

using namespace tinyimapd::imap;

namespace {

constexpr std::size_t kRanges = 16;

SeqSet must_parse(std::string_view text, std::size_t max_ranges = kRanges) {
    SeqSet s;
    const char* why = "";
    INFO(text);
    REQUIRE(SeqSet::parse(text, max_ranges, &s, &why));
    return s;
}

std::string parse_error(std::string_view text, std::size_t max_ranges = kRanges) {
    SeqSet s;
    const char* why = "";
    if (SeqSet::parse(text, max_ranges, &s, &why)) return "(accepted)";
    CHECK(s.empty());  // *out untouched
    for (const char* p = why; *p != 0; ++p) {
        CHECK(static_cast<unsigned char>(*p) >= 0x20);  // RFC 3501 §9 TEXT-CHAR
        CHECK(static_cast<unsigned char>(*p) <= 0x7e);
    }
    return why;
}

// "lo:hi,lo:hi" in the client's order with * resolved.
std::string ranges(const SeqSet& s, std::uint32_t largest) {
    std::string out;
    SeqSet::Cursor c;
    std::uint32_t lo = 0;
    std::uint32_t hi = 0;
    while (s.next(c, largest, &lo, &hi)) {
        if (!out.empty()) out += ',';
        out += std::to_string(lo) + ':' + std::to_string(hi);
    }
    return out;
}

std::string members(const SeqSet& s, std::uint32_t largest, std::uint32_t upto) {
    std::string out;
    for (std::uint32_t n = 0; n <= upto; ++n) {
        if (!s.contains(n, largest)) continue;
        if (!out.empty()) out += ',';
        out += std::to_string(n);
    }
    return out;
}

}  // namespace

TEST_CASE("RFC 3501 §9 seq-number: nz-number or *", "[seqset]") {
    SeqSet one = must_parse("1");
    CHECK(one.range_count() == 1);
    CHECK_FALSE(one.uses_star());
    CHECK(one.text() == "1");
    CHECK(ranges(one, 10) == "1:1");

    SeqSet star = must_parse("*");
    CHECK(star.uses_star());
    CHECK(ranges(star, 10) == "10:10");
    CHECK(members(star, 10, 12) == "10");

    SeqSet big = must_parse("4294967295");
    CHECK(ranges(big, 1) == "4294967295:4294967295");
    CHECK(big.contains(4294967295u, 1));
}

TEST_CASE("RFC 3501 §9 seq-range: either order, 2:4 == 4:2", "[seqset]") {
    CHECK(ranges(must_parse("2:4"), 10) == "2:4");
    CHECK(ranges(must_parse("4:2"), 10) == "2:4");
    CHECK(members(must_parse("4:2"), 10, 10) == "2,3,4");
    CHECK(ranges(must_parse("3:3"), 10) == "3:3");
}

TEST_CASE("RFC 3501 §9 sequence-set example: 2,4:7,9,12:* in 15 messages", "[seqset]") {
    SeqSet s = must_parse("2,4:7,9,12:*");
    CHECK(s.range_count() == 4);
    CHECK(s.uses_star());
    CHECK(ranges(s, 15) == "2:2,4:7,9:9,12:15");
    CHECK(members(s, 15, 20) == "2,4,5,6,7,9,12,13,14,15");
}

TEST_CASE("RFC 3501 §9 sequence-set example: *:4,5:7 in 10 messages", "[seqset]") {
    SeqSet s = must_parse("*:4,5:7");
    CHECK(ranges(s, 10) == "4:10,5:7");
    CHECK(members(s, 10, 12) == "4,5,6,7,8,9,10");
}

TEST_CASE("RFC 3501 §9 seq-range example: UID 3291:* includes a smaller last UID", "[seqset]") {
    SeqSet s = must_parse("3291:*");
    CHECK(ranges(s, 17) == "17:3291");
    CHECK(s.contains(17, 17));
    CHECK_FALSE(s.contains(16, 17));
    // RFC 3501 §6.4.4 style 5:* in a mailbox of 3 messages covers 3:5.
    CHECK(ranges(must_parse("5:*"), 3) == "3:5");
}

TEST_CASE("RFC 3501 §6.4.5-§6.4.8 command examples", "[seqset]") {
    CHECK(ranges(must_parse("2:4"), 10) == "2:4");  // §6.4.5 FETCH, STORE, COPY
    CHECK(ranges(must_parse("4827313:4828442"), 1) == "4827313:4828442");  // §6.4.8 UID FETCH
    CHECK(ranges(must_parse("1:2"), 5) == "1:2");                          // §7.1.1
    CHECK(ranges(must_parse("3:200"), 5) == "3:200");
    CHECK(ranges(must_parse("*:4"), 10) == "4:10");
    SeqSet s = must_parse("1:*,7");
    CHECK(s.range_count() == 2);
    CHECK(ranges(s, 9) == "1:9,7:7");
    CHECK(members(s, 9, 10) == "1,2,3,4,5,6,7,8,9");
    CHECK(ranges(must_parse("*:*"), 4) == "4:4");
}

TEST_CASE("RFC 3501 §9 seq-number: * resolves to largest, also 0", "[seqset]") {
    // With largest 0 (a caller that did not reject * in an empty mailbox)
    // the result stays ordered and never contains a real message.
    SeqSet s = must_parse("1:*");
    CHECK(ranges(s, 0) == "0:1");
    CHECK_FALSE(must_parse("*").contains(1, 0));
    CHECK_FALSE(must_parse("1:5").contains(0, 10));
}

TEST_CASE("RFC 3501 §9 nz-number: errors", "[seqset]") {
    CHECK(parse_error("") == "Invalid sequence set: empty");
    CHECK(parse_error("0") == "Invalid sequence set: 0 is not a message number");
    CHECK(parse_error("1:0") == "Invalid sequence set: 0 is not a message number");
    CHECK(parse_error("0:*") == "Invalid sequence set: 0 is not a message number");
    CHECK(parse_error("01") == "Invalid sequence set: number with a leading zero");
    CHECK(parse_error("4294967296") == "Invalid sequence set: number too large");
    CHECK(parse_error("99999999999999999999") == "Invalid sequence set: number too large");
    CHECK(parse_error("1:") == "Invalid sequence set: a number or * was expected");
    CHECK(parse_error(":1") == "Invalid sequence set: a number or * was expected");
    CHECK(parse_error("1,") == "Invalid sequence set: a number or * was expected");
    CHECK(parse_error(",1") == "Invalid sequence set: a number or * was expected");
    CHECK(parse_error("1,,2") == "Invalid sequence set: a number or * was expected");
    CHECK(parse_error("1:2:3") == "Invalid sequence set: unexpected character");
    CHECK(parse_error("1-3") == "Invalid sequence set: unexpected character");
    CHECK(parse_error("1 2") == "Invalid sequence set: unexpected character");
    CHECK(parse_error("**") == "Invalid sequence set: unexpected character");
    CHECK(parse_error("-1") == "Invalid sequence set: a number or * was expected");
    CHECK(parse_error("+1") == "Invalid sequence set: a number or * was expected");
    CHECK(parse_error("ALL") == "Invalid sequence set: a number or * was expected");
}

TEST_CASE("SeqSet: the range limit counts numbers and ranges", "[seqset]") {
    CHECK(must_parse("1,2,3", 3).range_count() == 3);
    CHECK(parse_error("1,2,3", 2) == "Too many ranges in sequence set");
    CHECK(parse_error("1:5,7:9,11:*", 2) == "Too many ranges in sequence set");
    CHECK(parse_error("1", 0) == "Too many ranges in sequence set");
}

TEST_CASE("SeqSet: a default-constructed set is empty", "[seqset]") {
    SeqSet s;
    CHECK(s.empty());
    CHECK(s.range_count() == 0);
    CHECK(s.text().empty());
    CHECK(ranges(s, 10).empty());
    CHECK_FALSE(s.contains(1, 10));
}

TEST_CASE("SeqSet: the text is a view, not a copy", "[seqset]") {
    const std::string text = "1:3,5";
    SeqSet s = must_parse(text);
    CHECK(s.text().data() == text.data());
    CHECK(s.text().size() == text.size());
    // Parsing a prefix of a longer buffer stays inside the prefix.
    const std::string longer = "7,8 junk";
    CHECK(ranges(must_parse(std::string_view(longer).substr(0, 3)), 10) == "7:7,8:8");
}

TEST_CASE("RFC 5182 §3: \"$\" is a sequence-set of its own (seq-last-command)", "[seqset]") {
    const SeqSet dollar = must_parse("$");
    CHECK(dollar.is_last_command());
    CHECK(dollar.empty());  // no ranges until the session substitutes the saved result
    CHECK(ranges(dollar, 10).empty());
    CHECK(!must_parse("1:3").is_last_command());
    CHECK(parse_error("$,1") == "Invalid sequence set: $ must stand alone");
    CHECK(parse_error("1,$") == "Invalid sequence set: $ must stand alone");
    CHECK(parse_error("1:$") == "Invalid sequence set: $ must stand alone");
    CHECK(parse_error("$$") == "Invalid sequence set: $ must stand alone");
}

TEST_CASE("SeqSet::of_ranges walks a held array of ranges like a parsed set", "[seqset]") {
    const SeqRange held[] = {{2, 4}, {7, 7}, {10, 12}};
    const SeqSet s = SeqSet::of_ranges(held, 3);
    CHECK(!s.is_last_command());
    CHECK(s.range_count() == 3);
    CHECK(s.text().empty());
    CHECK(ranges(s, 99) == "2:4,7:7,10:12");
    CHECK(members(s, 99, 20) == "2,3,4,7,10,11,12");
    const SeqSet none = SeqSet::of_ranges(held, 0);
    CHECK(none.empty());
    CHECK(ranges(none, 99).empty());
    CHECK(members(none, 99, 20).empty());
}
