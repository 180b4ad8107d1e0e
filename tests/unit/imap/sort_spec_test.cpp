// Tests for core/imap/sort_spec: RFC 5256 §5 sort-criteria and thread-alg,
// RFC 5957 §5 DISPLAYFROM/DISPLAYTO.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/imap/sort_spec.h"

using namespace tinyimapd::imap;

namespace {

// Parses "a SORT <text> UTF-8 ALL" and reads the criteria as SORT would;
// the program as "REVERSE-SUBJECT DATE", or "error: <why> [<at>]".
std::string sort(const std::string& text) {
    std::vector<char> arena(4096);
    std::vector<Arg> args(64);
    Parser parser(arena.data(), arena.size(), args.data(), args.size(), ParserLimits{});
    const std::string line = "a SORT " + text + " UTF-8 ALL\r\n";
    const Fed fed = parser.feed(reinterpret_cast<const std::uint8_t*>(line.data()), line.size());
    REQUIRE(fed.event == ParseEvent::Command);
    ArgReader r(parser);
    SortProgram p;
    const char* why = "";
    if (!parse_sort_criteria(r, &p, &why)) {
        return "error: " + std::string(why) + " [" + std::string(p.error_at) + "]";
    }
    std::string_view cs;
    REQUIRE(r.astring(&cs));  // the reader stands after the criteria
    CHECK(cs == "UTF-8");
    std::string out;
    for (std::size_t i = 0; i < p.count; ++i) {
        if (!out.empty()) out += ' ';
        if (p.criteria[i].reverse) out += "REVERSE-";
        out += std::string(sort_key_name(p.criteria[i].key));
    }
    return out;
}

ThreadAlgorithm thread(const std::string& alg) {
    std::vector<char> arena(4096);
    std::vector<Arg> args(64);
    Parser parser(arena.data(), arena.size(), args.data(), args.size(), ParserLimits{});
    const std::string line = "a THREAD " + alg + " UTF-8 ALL\r\n";
    REQUIRE(parser.feed(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()).event ==
            ParseEvent::Command);
    ArgReader r(parser);
    ThreadAlgorithm a{};
    REQUIRE(parse_thread_algorithm(r, &a));
    return a;
}

}  // namespace

TEST_CASE("RFC 5256 §5 sort-criteria: keys, REVERSE, any case", "[sort]") {
    CHECK(sort("(SUBJECT)") == "SUBJECT");
    CHECK(sort("(SUBJECT REVERSE DATE)") == "SUBJECT REVERSE-DATE");  // §BASE.6.4.SORT example
    CHECK(sort("(arrival cc date from size subject to)") == "ARRIVAL CC DATE FROM SIZE SUBJECT TO");
    CHECK(sort("(Reverse Size)") == "REVERSE-SIZE");
    CHECK(sort("(DISPLAYFROM REVERSE DISPLAYTO)") == "DISPLAYFROM REVERSE-DISPLAYTO");  // RFC 5957
    // A key named again can never change the order: kept once.
    CHECK(sort("(SUBJECT DATE REVERSE SUBJECT)") == "SUBJECT DATE");
}

TEST_CASE("RFC 5256 §5 sort-criteria: what is not one", "[sort]") {
    CHECK(sort("()") == "error: Missing sort criteria []");
    CHECK(sort("SUBJECT") == "error: Sort criteria must be a parenthesised list [SUBJECT]");
    CHECK(sort("(SUBJECT BOGUS)") == "error: Unknown sort key [BOGUS]");
    CHECK(sort("(REVERSE)") == "error: REVERSE needs a sort key []");
    CHECK(sort("(REVERSE REVERSE DATE)") == "error: REVERSE needs a sort key [REVERSE]");
    CHECK(sort("(\"SUBJECT\")") == "error: Unknown sort key [SUBJECT]");
}

TEST_CASE("RFC 5256 §5 thread-alg", "[sort]") {
    CHECK(thread("ORDEREDSUBJECT") == ThreadAlgorithm::OrderedSubject);
    CHECK(thread("references") == ThreadAlgorithm::References);
    CHECK(thread("REFS") == ThreadAlgorithm::Unknown);
}
