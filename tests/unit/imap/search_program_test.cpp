// Tests for core/imap/search_program: RFC 3501 §6.4.4 SEARCH and §9
// search-key; RFC 4466 §2.6 / RFC 4731 §3.1 RETURN; RFC 7162 §3.1.5 MODSEQ.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/imap/parser.h"
#include "core/imap/search_program.h"
#include "core/mail/flags.h"

using namespace tinyimapd;
using namespace tinyimapd::imap;

namespace {

constexpr std::size_t kNodes = 64;
constexpr std::size_t kRanges = 32;

// One command line run through the real parser.
struct Line {
    std::vector<char> arena = std::vector<char>(16384);
    std::vector<Arg> args = std::vector<Arg>(512);
    Parser parser{arena.data(), arena.size(), args.data(), args.size(), ParserLimits{}};

    explicit Line(const std::string& input) {
        std::size_t pos = 0;
        for (;;) {
            REQUIRE(pos < input.size());
            const Fed fed = parser.feed(reinterpret_cast<const std::uint8_t*>(input.data()) + pos,
                                        input.size() - pos);
            pos += fed.consumed;
            if (fed.event == ParseEvent::LiteralRequest) parser.accept_literal();
            INFO(input);
            REQUIRE(fed.event != ParseEvent::Error);
            if (fed.event == ParseEvent::Command) break;
        }
    }
};

// RFC 3501 §9 text = 1*TEXT-CHAR (7-bit, no CR LF): what a BAD may carry.
bool is_response_text(std::string_view s) {
    if (s.empty()) return false;
    for (char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (u < 0x20 || u > 0x7e) return false;
    }
    return true;
}

const char* key_name(SearchKey k) {
    switch (k) {
        case SearchKey::SequenceSet: return "SET";
        case SearchKey::All: return "ALL";
        case SearchKey::Answered: return "ANSWERED";
        case SearchKey::Bcc: return "BCC";
        case SearchKey::Before: return "BEFORE";
        case SearchKey::Body: return "BODY";
        case SearchKey::Cc: return "CC";
        case SearchKey::Deleted: return "DELETED";
        case SearchKey::Draft: return "DRAFT";
        case SearchKey::Flagged: return "FLAGGED";
        case SearchKey::From: return "FROM";
        case SearchKey::Header: return "HEADER";
        case SearchKey::Keyword: return "KEYWORD";
        case SearchKey::Larger: return "LARGER";
        case SearchKey::New: return "NEW";
        case SearchKey::Not: return "NOT";
        case SearchKey::Old: return "OLD";
        case SearchKey::On: return "ON";
        case SearchKey::Or: return "OR";
        case SearchKey::Recent: return "RECENT";
        case SearchKey::Seen: return "SEEN";
        case SearchKey::SentBefore: return "SENTBEFORE";
        case SearchKey::SentOn: return "SENTON";
        case SearchKey::SentSince: return "SENTSINCE";
        case SearchKey::Since: return "SINCE";
        case SearchKey::Smaller: return "SMALLER";
        case SearchKey::Subject: return "SUBJECT";
        case SearchKey::Text: return "TEXT";
        case SearchKey::To: return "TO";
        case SearchKey::Uid: return "UID";
        case SearchKey::Unanswered: return "UNANSWERED";
        case SearchKey::Undeleted: return "UNDELETED";
        case SearchKey::Undraft: return "UNDRAFT";
        case SearchKey::Unflagged: return "UNFLAGGED";
        case SearchKey::Unkeyword: return "UNKEYWORD";
        case SearchKey::Unseen: return "UNSEEN";
        case SearchKey::And: return "AND";
        case SearchKey::ModSeq: return "MODSEQ";
        case SearchKey::Older: return "OLDER";
        case SearchKey::Younger: return "YOUNGER";
        case SearchKey::SavedBefore: return "SAVEDBEFORE";
        case SearchKey::SavedOn: return "SAVEDON";
        case SearchKey::SavedSince: return "SAVEDSINCE";
        case SearchKey::SaveDateSupported: return "SAVEDATESUPPORTED";
        case SearchKey::EmailId: return "EMAILID";
        case SearchKey::ThreadId: return "THREADID";
    }
    return "?";
}

std::string render_date(const Date& d) {
    return std::to_string(d.year) + "-" + std::to_string(d.month) + "-" + std::to_string(d.day);
}

// Renders nodes[i] and its descendants; checks the pre-order extents.
std::string render(const SearchNode* nodes, std::size_t i) {
    const SearchNode& n = nodes[i];
    std::string out = key_name(n.key);
    std::string inner;
    bool has_args = false;
    auto arg = [&inner, &has_args](const std::string& s) {
        if (has_args) inner += ',';
        inner += s;
        has_args = true;
    };
    switch (n.key) {
        case SearchKey::And:
        case SearchKey::Not:
        case SearchKey::Or: {
            std::size_t children = 0;
            for (std::size_t c = i + 1; c < n.end; c = nodes[c].end) {
                CHECK(nodes[c].end > c);
                CHECK(nodes[c].end <= n.end);
                arg(render(nodes, c));
                ++children;
            }
            if (n.key == SearchKey::Not) CHECK(children == 1);
            if (n.key == SearchKey::Or) CHECK(children == 2);
            if (n.key == SearchKey::And) CHECK(children >= 1);
            break;
        }
        case SearchKey::Bcc:
        case SearchKey::Body:
        case SearchKey::Cc:
        case SearchKey::From:
        case SearchKey::Subject:
        case SearchKey::Text:
        case SearchKey::To:
        case SearchKey::Keyword:
        case SearchKey::EmailId:
        case SearchKey::ThreadId:
        case SearchKey::Unkeyword: arg(std::string(n.text)); break;
        case SearchKey::Header:
            arg(std::string(n.field));
            arg(std::string(n.text));
            break;
        case SearchKey::Before:
        case SearchKey::On:
        case SearchKey::Since:
        case SearchKey::SentBefore:
        case SearchKey::SentOn:
        case SearchKey::SentSince:
        case SearchKey::SavedBefore:
        case SearchKey::SavedOn:
        case SearchKey::SavedSince: arg(render_date(n.date)); break;
        case SearchKey::Older:
        case SearchKey::Younger:
        case SearchKey::Larger:
        case SearchKey::Smaller: arg(std::to_string(n.number)); break;
        case SearchKey::SequenceSet:
        case SearchKey::Uid: arg(std::string(n.set.text())); break;
        case SearchKey::ModSeq:
            if (n.entry_type != ModSeqEntry::None) {
                arg(std::string(n.field));
                arg(n.entry_type == ModSeqEntry::Priv     ? "priv"
                    : n.entry_type == ModSeqEntry::Shared ? "shared"
                                                          : "all");
            }
            arg(std::to_string(n.number));
            break;
        default: CHECK(n.end == i + 1); break;
    }
    if (n.key != SearchKey::And && n.key != SearchKey::Not && n.key != SearchKey::Or) {
        CHECK(n.end == i + 1);
    }
    return has_args ? out + "(" + inner + ")" : out;
}

struct Compiled {
    bool ok = false;
    std::string program;  // top-level keys separated by spaces
    SearchOptions opts;
    SearchError error;    // error.culprit is cleared: see culprit
    std::string culprit;  // a copy, as the parser's arena goes away
    std::string reader_error;
    std::vector<SearchNode> nodes;
    std::size_t count = 0;
};

// Parses the line "A1 SEARCH <criteria>"; `skip` arguments are skipped
// first (1 for "UID SEARCH").
Compiled compile(const std::string& criteria, std::size_t max_nodes = kNodes,
                 std::size_t max_ranges = kRanges, const std::string& command = "SEARCH") {
    Line line("A1 " + command + (criteria.empty() ? "" : " " + criteria) + "\r\n");
    ArgReader r(line.parser);
    if (command == "UID SEARCH") REQUIRE(r.skip());
    Compiled c;
    c.nodes.resize(max_nodes);
    c.ok = parse_search(r, c.nodes.data(), max_nodes, max_ranges, &c.opts, &c.count, &c.error);
    c.reader_error = r.error();
    c.culprit = std::string(c.error.culprit);
    c.error.culprit = {};
    if (!c.ok) {
        CHECK(c.count == 0);
        CHECK(is_response_text(c.error.why));
        CHECK(c.reader_error == c.error.why);
        return c;
    }
    CHECK(r.at_end());
    REQUIRE(c.count <= max_nodes);
    for (std::size_t i = 0; i < c.count; i = c.nodes[i].end) {
        if (!c.program.empty()) c.program += ' ';
        c.program += render(c.nodes.data(), i);
        REQUIRE(c.nodes[i].end > i);
    }
    // Copies the views' contents before the line goes away.
    c.nodes.clear();
    c.opts.charset = {};
    return c;
}

std::string program(const std::string& criteria) {
    Compiled c = compile(criteria);
    INFO(criteria);
    if (!c.ok) return std::string("ERR ") + c.error.why + " [" + c.culprit + "]";
    return c.program;
}

std::string error(const std::string& criteria, std::size_t max_nodes = kNodes,
                  std::size_t max_ranges = kRanges) {
    Compiled c = compile(criteria, max_nodes, max_ranges);
    if (c.ok) return "(accepted) " + c.program;
    return std::string(c.error.why) + " [" + c.culprit + "]";
}

}  // namespace

TEST_CASE("RFC 3501 §6.4.4 SEARCH examples", "[search]") {
    CHECK(program("FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"") ==
          "FLAGGED SINCE(1994-2-1) NOT(FROM(Smith))");
    CHECK(program("TEXT \"string not in mailbox\"") == "TEXT(string not in mailbox)");
    CHECK(program("CHARSET UTF-8 TEXT {6}\r\nXXXXXX") == "TEXT(XXXXXX)");
    CHECK(program("DELETED FROM \"SMITH\" SINCE 1-Feb-1994") ==
          "DELETED FROM(SMITH) SINCE(1994-2-1)");
}

TEST_CASE("RFC 3501 §6.4.4 search keys without arguments", "[search]") {
    CHECK(program("ALL") == "ALL");
    CHECK(program("ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN") ==
          "ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN");
    CHECK(program("UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN") ==
          "UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN");
    CHECK(program("all Seen unSEEN") == "ALL SEEN UNSEEN");  // case-insensitive
}

TEST_CASE("RFC 3501 §6.4.4 flag keys carry their system flag bit", "[search]") {
    Line line(
        "A1 SEARCH ANSWERED UNANSWERED DELETED UNDELETED DRAFT UNDRAFT FLAGGED "
        "UNFLAGGED SEEN UNSEEN RECENT ALL NEW\r\n");
    ArgReader r(line.parser);
    SearchNode nodes[kNodes];
    SearchOptions opts;
    SearchError err;
    std::size_t count = 0;
    REQUIRE(parse_search(r, nodes, kNodes, kRanges, &opts, &count, &err));
    REQUIRE(count == 13);
    const std::uint8_t want[] = {mail::kAnswered,
                                 mail::kAnswered,
                                 mail::kDeleted,
                                 mail::kDeleted,
                                 mail::kDraft,
                                 mail::kDraft,
                                 mail::kFlagged,
                                 mail::kFlagged,
                                 mail::kSeen,
                                 mail::kSeen,
                                 mail::kRecent,
                                 0,
                                 0};
    for (std::size_t i = 0; i < count; ++i) {
        INFO(i);
        CHECK(nodes[i].flag_bit == want[i]);
    }
}

TEST_CASE("RFC 3501 §9 search-key: astring arguments", "[search]") {
    CHECK(program("BCC joe CC \"a b\" BODY {3}\r\nx y FROM Smith SUBJECT \"\" TEXT t TO "
                  "you@example.org") ==
          "BCC(joe) CC(a b) BODY(x y) FROM(Smith) SUBJECT() TEXT(t) TO(you@example.org)");
    // ASTRING-CHAR includes "]".
    CHECK(program("SUBJECT [list]") == "SUBJECT([list])");
    CHECK(error("FROM") == "Search key needs a string [FROM]");
    CHECK(error("FROM (Smith)") == "Search key needs a string [FROM]");
    CHECK(error("SUBJECT a%b") == "Search key needs a string [SUBJECT]");
    CHECK(error("TO *") == "Search key needs a string [TO]");
}

TEST_CASE("RFC 3501 §9 search-key: HEADER header-fld-name astring", "[search]") {
    CHECK(program("HEADER Message-ID \"<1@example.org>\"") == "HEADER(Message-ID,<1@example.org>)");
    CHECK(program("HEADER \"X-Spam-Flag\" YES") == "HEADER(X-Spam-Flag,YES)");
    CHECK(program("HEADER List-Id \"\"") == "HEADER(List-Id,)");
    CHECK(error("HEADER Subject") == "HEADER needs a field name and a string [HEADER]");
    CHECK(error("HEADER") == "HEADER needs a field name and a string [HEADER]");
}

TEST_CASE("RFC 3501 §9 search-key: KEYWORD and UNKEYWORD take flag-keyword", "[search]") {
    CHECK(program("KEYWORD $Forwarded UNKEYWORD $Junk") == "KEYWORD($Forwarded) UNKEYWORD($Junk)");
    CHECK(error("KEYWORD \\Seen") ==
          "Search key needs a keyword (an atom, not a system flag) [\\Seen]");
    CHECK(error("KEYWORD \"$Junk\"") ==
          "Search key needs a keyword (an atom, not a system flag) [$Junk]");
    CHECK(error("UNKEYWORD a]") == "Search key needs a keyword (an atom, not a system flag) [a]]");
    CHECK(error("KEYWORD") == "Search key needs a keyword (an atom, not a system flag) [KEYWORD]");
}

TEST_CASE("RFC 5032 §3 search-key: OLDER and YOUNGER take an nz-number", "[search]") {
    CHECK(program("OLDER 1 YOUNGER 259200") == "OLDER(1) YOUNGER(259200)");
    CHECK(error("OLDER 0") == "Search key needs a nonzero number [OLDER]");
    CHECK(error("YOUNGER") == "Search key needs a number [YOUNGER]");
    CHECK(error("YOUNGER x") == "Search key needs a number [YOUNGER]");
}

TEST_CASE("RFC 3501 §9 search-key: LARGER and SMALLER take a number", "[search]") {
    CHECK(program("LARGER 1024 SMALLER 4294967295") == "LARGER(1024) SMALLER(4294967295)");
    CHECK(program("LARGER 0") == "LARGER(0)");
    CHECK(error("LARGER 4294967296") == "Search key needs a number [LARGER]");
    CHECK(error("SMALLER -1") == "Search key needs a number [SMALLER]");
    CHECK(error("SMALLER \"10\"") == "Search key needs a number [SMALLER]");
    CHECK(error("LARGER") == "Search key needs a number [LARGER]");
}

TEST_CASE("RFC 3501 §9 date = date-text / DQUOTE date-text DQUOTE", "[search]") {
    CHECK(program("BEFORE 1-Feb-1994 ON \"01-Feb-1994\" SINCE 29-feb-2024") ==
          "BEFORE(1994-2-1) ON(1994-2-1) SINCE(2024-2-29)");
    CHECK(program("SENTBEFORE 1-Jan-2000 SENTON 31-Dec-1999 SENTSINCE \"2-Mar-2001\"") ==
          "SENTBEFORE(2000-1-1) SENTON(1999-12-31) SENTSINCE(2001-3-2)");
    CHECK(error("SINCE 29-Feb-2023") == "Invalid date: expected d-Mon-yyyy [29-Feb-2023]");
    CHECK(error("SINCE 2023-02-01") == "Invalid date: expected d-Mon-yyyy [2023-02-01]");
    CHECK(error("ON \"17-Jul-1996 02:44:25 -0700\"") ==
          "Invalid date: expected d-Mon-yyyy [17-Jul-1996 02:44:25 -0700]");
    CHECK(error("BEFORE {11}\r\n1-Feb-1994") == "Search key needs a date (d-Mon-yyyy) [BEFORE]");
    CHECK(error("SENTON") == "Search key needs a date (d-Mon-yyyy) [SENTON]");
}

TEST_CASE("RFC 3501 §9 search-key: sequence-set and UID sequence-set", "[search]") {
    CHECK(program("2:4") == "SET(2:4)");
    CHECK(program("1:*,7 UID 2,4:7,9,12:*") == "SET(1:*,7) UID(2,4:7,9,12:*)");
    CHECK(program("* UNSEEN") == "SET(*) UNSEEN");
    CHECK(program("UID 4827313:4828442") == "UID(4827313:4828442)");
    CHECK(error("0") == "Invalid sequence set: 0 is not a message number [0]");
    CHECK(error("1:0") == "Invalid sequence set: 0 is not a message number [1:0]");
    CHECK(error("UID 1,,2") == "Invalid sequence set: a number or * was expected [1,,2]");
    CHECK(error("UID ALL") == "Invalid sequence set: a number or * was expected [ALL]");
    CHECK(error("UID") == "UID needs a sequence set [UID]");
    CHECK(error("UID \"1:5\"") == "UID needs a sequence set [UID]");
    CHECK(error("1,2,3", kNodes, 2) == "Too many ranges in sequence set [1,2,3]");
    CHECK(error("UID 1:2,5:6", kNodes, 1) == "Too many ranges in sequence set [1:2,5:6]");
    CHECK(error("$x") == "Invalid sequence set: $ must stand alone [$x]");  // RFC 5182 §3
}

TEST_CASE("RFC 3501 §6.4.8 UID SEARCH: the same program after UID", "[search]") {
    Compiled c = compile("1:100 UID 443:557", kNodes, kRanges, "UID SEARCH");
    REQUIRE(c.ok);
    CHECK(c.program == "SET(1:100) UID(443:557)");
}

TEST_CASE("RFC 3501 §9 search-key: NOT, OR and parenthesised lists", "[search]") {
    CHECK(program("NOT SEEN") == "NOT(SEEN)");
    CHECK(program("NOT NOT SEEN") == "NOT(NOT(SEEN))");
    CHECK(program("OR SEEN FLAGGED") == "OR(SEEN,FLAGGED)");
    CHECK(program("OR (SEEN FLAGGED) NOT DELETED ALL") == "OR(AND(SEEN,FLAGGED),NOT(DELETED)) ALL");
    CHECK(program("OR OR FROM a FROM b FROM c") == "OR(OR(FROM(a),FROM(b)),FROM(c))");
    CHECK(program("(SEEN)") == "AND(SEEN)");
    CHECK(program("((SEEN) (UID 1:* (LARGER 5)))") ==
          "AND(AND(SEEN),AND(UID(1:*),AND(LARGER(5))))");
    CHECK(program("NOT (OR HEADER X-A b SUBJECT c 1:3)") ==
          "NOT(AND(OR(HEADER(X-A,b),SUBJECT(c)),SET(1:3)))");
    CHECK(error("NOT") == "NOT needs a search key [NOT]");
    CHECK(error("OR SEEN") == "OR needs two search keys [OR]");
    CHECK(error("OR") == "OR needs two search keys [OR]");
    CHECK(error("(SEEN OR FLAGGED)") == "OR needs two search keys [OR]");
    CHECK(error("()") == "Empty search key list [()]");
    CHECK(error("NOT ()") == "Empty search key list [()]");
    CHECK(error("NOT FOO") == "Unknown search key [FOO]");
}

TEST_CASE("RFC 3501 §6.4.4: unknown keys and non-keys", "[search]") {
    CHECK(error("FOO") == "Unknown search key [FOO]");
    CHECK(error("SEEN FOO") == "Unknown search key [FOO]");
    CHECK(error("\"SEEN\"") == "Search key expected [SEEN]");
    CHECK(error("{4}\r\nSEEN") == "Search key expected [SEEN]");
    CHECK(error("SEEN NIL") == "Unknown search key [NIL]");
    CHECK(error("\\Seen") == "Unknown search key [\\Seen]");
    CHECK(error("CHARSET") == "CHARSET needs a charset name [CHARSET]");
    CHECK(error("SEEN CHARSET UTF-8") == "Unknown search key [CHARSET]");
    CHECK(error("SEEN RETURN (MIN)") == "Unknown search key [RETURN]");
    CHECK(error("") == "Missing search key []");
}

TEST_CASE("RFC 3501 §6.4.4 CHARSET: US-ASCII and UTF-8, anything else is BADCHARSET", "[search]") {
    {
        Line line("A1 SEARCH CHARSET us-ascii SEEN\r\n");
        ArgReader r(line.parser);
        SearchNode nodes[kNodes];
        SearchOptions opts;
        SearchError err;
        std::size_t count = 0;
        REQUIRE(parse_search(r, nodes, kNodes, kRanges, &opts, &count, &err));
        CHECK(opts.charset == "us-ascii");
        CHECK(count == 1);
    }
    CHECK(program("CHARSET \"UTF-8\" SUBJECT {4}\r\n\xc3\xa9t\xc3") == "SUBJECT(\xc3\xa9t\xc3)");
    CHECK(program("CHARSET utf-8 ALL") == "ALL");
    Compiled bad = compile("CHARSET ISO-8859-1 SUBJECT x");
    CHECK_FALSE(bad.ok);
    CHECK(bad.error.bad_charset);
    CHECK(std::string(bad.error.why) == "Unsupported charset");
    CHECK(bad.culprit == "ISO-8859-1");
    // A syntax error is BAD even with an unknown charset.
    Compiled both = compile("CHARSET KOI8-R FOO");
    CHECK_FALSE(both.ok);
    CHECK_FALSE(both.error.bad_charset);
    CHECK(std::string(both.error.why) == "Unknown search key");
    CHECK(error("CHARSET (UTF-8) ALL") == "CHARSET needs a charset name [CHARSET]");
    CHECK(error("CHARSET UTF-8") == "Missing search key []");
    Compiled plain = compile("ALL");
    CHECK(plain.ok);
    CHECK_FALSE(plain.error.bad_charset);
}

TEST_CASE("RFC 4731 §3.1 / RFC 4466 §2.6 RETURN comes before CHARSET", "[search]") {
    Compiled c = compile("RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"");
    REQUIRE(c.ok);
    CHECK(c.opts.esearch);
    CHECK(c.opts.return_mask == (kReturnMin | kReturnCount));
    CHECK(c.program == "FLAGGED SINCE(1994-2-1) NOT(FROM(Smith))");

    Compiled empty = compile("RETURN () FLAGGED");  // RFC 4731: same as (ALL)
    REQUIRE(empty.ok);
    CHECK(empty.opts.esearch);
    CHECK(empty.opts.return_mask == kReturnAll);

    Compiled all = compile("RETURN (min MAX all Count) CHARSET UTF-8 UNSEEN");
    REQUIRE(all.ok);
    CHECK(all.opts.return_mask == (kReturnMin | kReturnMax | kReturnAll | kReturnCount));

    Compiled uid = compile("RETURN (MIN MAX) 1:5000", kNodes, kRanges, "UID SEARCH");
    REQUIRE(uid.ok);
    CHECK(uid.opts.return_mask == (kReturnMin | kReturnMax));
    CHECK(uid.program == "SET(1:5000)");

    Compiled twice = compile("RETURN (COUNT COUNT) DELETED");
    REQUIRE(twice.ok);
    CHECK(twice.opts.return_mask == kReturnCount);

    Compiled none = compile("UNSEEN");
    CHECK_FALSE(none.opts.esearch);
    CHECK(none.opts.return_mask == 0);

    CHECK(error("RETURN (NOTIFY) ALL") == "Unknown search return option [NOTIFY]");
    CHECK(error("RETURN (MIN (X)) ALL") == "Unknown search return option []");
    CHECK(error("RETURN (\"MIN\") ALL") == "Unknown search return option [MIN]");
    CHECK(error("RETURN MIN ALL") == "RETURN needs a list of options [RETURN]");
    CHECK(error("RETURN") == "RETURN needs a list of options [RETURN]");
    CHECK(error("RETURN (MIN)") == "Missing search key []");
    CHECK(error("CHARSET UTF-8 RETURN (MIN) ALL") == "Unknown search key [RETURN]");
}

TEST_CASE("RFC 5267 §4.4, §5: RETURN (PARTIAL partial-range)", "[search]") {
    Compiled c = compile("RETURN (PARTIAL 1:500 COUNT) UNDELETED");
    REQUIRE(c.ok);
    CHECK(c.opts.return_mask == (kReturnPartial | kReturnCount));
    CHECK(c.opts.partial_first == 1);
    CHECK(c.opts.partial_last == 500);
    // "A range 500:400 is the same as 400:500": kept as written.
    Compiled down = compile("RETURN (partial 500:400) ALL");
    REQUIRE(down.ok);
    CHECK(down.opts.partial_first == 500);
    CHECK(down.opts.partial_last == 400);
    Compiled top = compile("RETURN (SAVE PARTIAL 4294967295:1) ALL");
    REQUIRE(top.ok);
    CHECK(top.opts.return_mask == (kReturnPartial | kReturnSave));
    CHECK(top.opts.partial_first == 4294967295u);
    const std::string bad_range = "PARTIAL needs a range of two non-zero numbers [PARTIAL]";
    CHECK(error("RETURN (PARTIAL) ALL") == bad_range);
    CHECK(error("RETURN (PARTIAL 5) ALL") == bad_range);
    CHECK(error("RETURN (PARTIAL 0:5) ALL") == bad_range);
    CHECK(error("RETURN (PARTIAL 1:*) ALL") == bad_range);
    CHECK(error("RETURN (PARTIAL 01:5) ALL") == bad_range);
    CHECK(error("RETURN (PARTIAL 1:4294967296) ALL") == bad_range);
    CHECK(error("RETURN (PARTIAL 1:2:3) ALL") == bad_range);
    CHECK(error("RETURN (PARTIAL (1:2)) ALL") == bad_range);
    // "either one PARTIAL, one ALL, or neither".
    CHECK(error("RETURN (ALL PARTIAL 1:2) ALL") == "PARTIAL and ALL cannot be combined [PARTIAL]");
    CHECK(error("RETURN (PARTIAL 1:2 ALL) ALL") == "PARTIAL and ALL cannot be combined [PARTIAL]");
    CHECK(error("RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL") == "PARTIAL may be given once [PARTIAL]");
}

TEST_CASE("RFC 5267 §4.2, §4.3, §5: CONTEXT and UPDATE are return options of their own",
          "[search]") {
    // §4.2's example A01.
    Compiled hint = compile("RETURN (CONTEXT COUNT) UNDELETED UNKEYWORD $Junk");
    REQUIRE(hint.ok);
    CHECK(hint.opts.context);
    CHECK_FALSE(hint.opts.update);
    CHECK(hint.opts.return_mask == kReturnCount);
    // §4.3's example B01.
    Compiled b01 = compile("RETURN (UPDATE COUNT) DELETED KEYWORD $Junk");
    REQUIRE(b01.ok);
    CHECK(b01.opts.update);
    CHECK(b01.opts.return_mask == kReturnCount);
    // Alone they ask for no data: ALL, as RETURN () (RFC 4731 §3.1).
    Compiled alone = compile("RETURN (update context) ALL");
    REQUIRE(alone.ok);
    CHECK(alone.opts.update);
    CHECK(alone.opts.context);
    CHECK(alone.opts.return_mask == kReturnAll);
    Compiled save = compile("RETURN (SAVE UPDATE) ALL");
    REQUIRE(save.ok);
    CHECK(save.opts.return_mask == kReturnSave);  // SAVE alone: no ESEARCH
    CHECK(error("RETURN (UPDATE 1) ALL") == "Unknown search return option [1]");
}

TEST_CASE("RFC 5267 §3: SORT's RETURN options read on their own", "[search]") {
    Line line("a SORT RETURN (MIN PARTIAL 3:4) (DATE) UTF-8 ALL\r\n");
    ArgReader r(line.parser);
    REQUIRE(r.word("RETURN"));
    SearchOptions opts;
    SearchError e;
    REQUIRE(parse_search_return(r, &opts, &e));
    CHECK(opts.esearch);
    CHECK(opts.return_mask == (kReturnMin | kReturnPartial));
    CHECK(opts.partial_first == 3);
    CHECK(opts.partial_last == 4);
    ArgReader criteria = r;
    CHECK(r.list(&criteria));  // the sort criteria are next
    std::string_view key;
    CHECK(criteria.atom(&key));
    CHECK(key == "DATE");
}

TEST_CASE("RFC 7162 §3.1.5 MODSEQ search criterion", "[search]") {
    Compiled c = compile("MODSEQ \"/flags/\\\\draft\" all 620162338");  // the RFC's example
    REQUIRE(c.ok);
    CHECK(c.opts.uses_modseq);
    CHECK(c.program == "MODSEQ(\\draft,all,620162338)");
    CHECK(program("MODSEQ 0") == "MODSEQ(0)");
    CHECK(program("MODSEQ 9223372036854775807") == "MODSEQ(9223372036854775807)");
    CHECK(program("MODSEQ \"/flags/$mdnsent\" priv 5") == "MODSEQ($mdnsent,priv,5)");
    CHECK(program("MODSEQ \"/FLAGS/\\\\Seen\" SHARED 5") == "MODSEQ(\\Seen,shared,5)");
    CHECK(program("OR MODSEQ 7 (NOT MODSEQ 9)") == "OR(MODSEQ(7),AND(NOT(MODSEQ(9))))");
    CHECK_FALSE(compile("SEEN").opts.uses_modseq);

    CHECK(error("MODSEQ") == "MODSEQ needs a mod-sequence value [MODSEQ]");
    CHECK(error("MODSEQ 9223372036854775808") == "MODSEQ needs a mod-sequence value [MODSEQ]");
    CHECK(error("MODSEQ -1") == "MODSEQ needs a mod-sequence value [MODSEQ]");
    CHECK(error("MODSEQ \"/flags/\\\\Seen\" all") == "MODSEQ needs a mod-sequence value [MODSEQ]");
    CHECK(error("MODSEQ \"/flags/\\\\Seen\" 5") ==
          "Invalid MODSEQ entry type: expected priv, shared or all [5]");
    CHECK(error("MODSEQ \"/flags/\\\\Seen\" both 5") ==
          "Invalid MODSEQ entry type: expected priv, shared or all [both]");
    CHECK(error("MODSEQ \"/flags/\\\\Recent\" all 5") ==
          "Invalid MODSEQ entry name: expected \"/flags/<flag>\" [/flags/\\Recent]");
    CHECK(error("MODSEQ \"/flags/\" all 5") ==
          "Invalid MODSEQ entry name: expected \"/flags/<flag>\" [/flags/]");
    CHECK(error("MODSEQ \"/vendor/x\" all 5") ==
          "Invalid MODSEQ entry name: expected \"/flags/<flag>\" [/vendor/x]");
    CHECK(error("MODSEQ \"/flags/a b\" all 5") ==
          "Invalid MODSEQ entry name: expected \"/flags/<flag>\" [/flags/a b]");
}

TEST_CASE("MODSEQ entry names a system flag's bit", "[search]") {
    Line line("A1 SEARCH MODSEQ \"/flags/\\\\Flagged\" priv 3\r\n");
    ArgReader r(line.parser);
    SearchNode nodes[4];
    SearchOptions opts;
    SearchError err;
    std::size_t count = 0;
    REQUIRE(parse_search(r, nodes, 4, kRanges, &opts, &count, &err));
    REQUIRE(count == 1);
    CHECK(nodes[0].flag_bit == mail::kFlagged);
    CHECK(nodes[0].entry_type == ModSeqEntry::Priv);
    CHECK(nodes[0].number == 3);
}

TEST_CASE("Search program limit: max_nodes counts keys, lists, NOT and OR", "[search]") {
    CHECK(compile("SEEN FLAGGED DELETED", 3).ok);
    CHECK(error("SEEN FLAGGED DELETED", 2) == "Search program too large [DELETED]");
    CHECK(compile("NOT (SEEN)", 3).ok);
    CHECK(error("NOT (SEEN)", 2) == "Search program too large [SEEN]");
    CHECK(error("OR SEEN (FLAGGED)", 2) == "Search program too large [(]");
    CHECK(error("1:3", 0) == "Search program too large [1:3]");
    CHECK(error("ALL", 0) == "Search program too large [ALL]");
}

TEST_CASE("Search program limit: kMaxSearchDepth nesting", "[search]") {
    auto nots = [](std::size_t n) {
        std::string s;
        for (std::size_t i = 0; i < n; ++i) s += "NOT ";
        return s + "SEEN";
    };
    CHECK(compile(nots(kMaxSearchDepth)).ok);
    CHECK(error(nots(kMaxSearchDepth + 1)) == "Search keys nested too deeply [NOT]");

    auto ors = [](std::size_t n) {
        std::string s;
        for (std::size_t i = 0; i < n; ++i) s += "OR SEEN ";
        return s + "SEEN";
    };
    constexpr std::size_t kEnough = 2 * kMaxSearchDepth + 3;
    CHECK(compile(ors(kMaxSearchDepth), kEnough).ok);
    CHECK(error(ors(kMaxSearchDepth + 1), kEnough) == "Search keys nested too deeply [OR]");

    // Parentheses count too (the parser allows 32 levels of lists).
    auto parens = [](std::size_t n) { return std::string(n, '(') + "SEEN" + std::string(n, ')'); };
    CHECK(compile(parens(kMaxSearchDepth)).ok);
    CHECK(error("NOT " + parens(kMaxSearchDepth)) == "Search keys nested too deeply [(]");
    // A long flat program is not deep.
    std::string flat;
    for (int i = 0; i < 60; ++i) flat += "SEEN ";
    CHECK(compile(flat + "ALL").ok);
}

TEST_CASE("Search program: parenthesised AND extents are exact", "[search]") {
    Line line("A1 SEARCH (SEEN (FLAGGED DELETED)) ALL\r\n");
    ArgReader r(line.parser);
    SearchNode nodes[kNodes];
    SearchOptions opts;
    SearchError err;
    std::size_t count = 0;
    REQUIRE(parse_search(r, nodes, kNodes, kRanges, &opts, &count, &err));
    REQUIRE(count == 6);
    CHECK(nodes[0].key == SearchKey::And);
    CHECK(nodes[0].end == 5);
    CHECK(nodes[1].key == SearchKey::Seen);
    CHECK(nodes[1].end == 2);
    CHECK(nodes[2].key == SearchKey::And);
    CHECK(nodes[2].end == 5);
    CHECK(nodes[3].key == SearchKey::Flagged);
    CHECK(nodes[4].key == SearchKey::Deleted);
    CHECK(nodes[5].key == SearchKey::All);
    CHECK(nodes[5].end == 6);
}

TEST_CASE("RFC 5182 §2.4, §3: RETURN (SAVE) and the \"$\" key", "[search]") {
    // Example 1: SAVE alone asks for no ESEARCH item.
    Compiled save = compile("RETURN (SAVE) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"");
    REQUIRE(save.ok);
    CHECK(save.opts.esearch);
    CHECK(save.opts.return_mask == kReturnSave);
    // Example 10's combinations keep their other options.
    Compiled mix = compile("RETURN (MAX save MIN) SINCE 12-Feb-2006");
    REQUIRE(mix.ok);
    CHECK(mix.opts.return_mask == (kReturnMax | kReturnSave | kReturnMin));
    // Example 3 and 4: "$" where a sequence set may be, UID $ too.
    CHECK(program("UID $ SMALLER 4096") == "UID($) SMALLER(4096)");
    CHECK(program("$ SMALLER 4096") == "SET($) SMALLER(4096)");
    CHECK(program("(OR $ 1,3000:3021) TEXT x") == "AND(OR(SET($),SET(1,3000:3021))) TEXT(x)");
    Compiled dollar = compile("$");
    REQUIRE(dollar.ok);
    CHECK(error("1,$") == "Invalid sequence set: $ must stand alone [1,$]");
    CHECK(error("UID $:4") == "Invalid sequence set: $ must stand alone [$:4]");
}

TEST_CASE("RFC 8514 §4.3, §5: SAVEDBEFORE SAVEDON SAVEDSINCE take a date, SAVEDATESUPPORTED none",
          "[search]") {
    CHECK(program("SAVEDON 28-Dec-2014") == "SAVEDON(2014-12-28)");
    CHECK(program("savedsince \"28-Dec-2014\"") == "SAVEDSINCE(2014-12-28)");
    CHECK(program("SAVEDBEFORE 1-Jan-2015 SAVEDATESUPPORTED") ==
          "SAVEDBEFORE(2015-1-1) SAVEDATESUPPORTED");
    CHECK(program("OR SAVEDATESUPPORTED NOT SAVEDON 1-Feb-1994") ==
          "OR(SAVEDATESUPPORTED,NOT(SAVEDON(1994-2-1)))");
    CHECK(error("SAVEDON").find("date") != std::string::npos);
    CHECK(error("SAVEDSINCE 32-Dec-2014").find("[32-Dec-2014]") != std::string::npos);
    // SAVEDATESUPPORTED takes no argument: the date is read as the next key.
    CHECK(error("SAVEDATESUPPORTED 1-Jan-2015").find("Invalid sequence set") == 0);
}

TEST_CASE("RFC 8474 §6, §7: EMAILID and THREADID take an objectid", "[search][objectid]") {
    CHECK(program("EMAILID M6d99ac3275bb4e") == "EMAILID(M6d99ac3275bb4e)");
    CHECK(program("threadid T64b478a75b7ea9 UNSEEN") == "THREADID(T64b478a75b7ea9) UNSEEN");
    CHECK(program("OR EMAILID Ma EMAILID Mb") == "OR(EMAILID(Ma),EMAILID(Mb))");
    // objectid = 1*255(ALPHA / DIGIT / "_" / "-"): nothing else, not empty.
    CHECK(error("EMAILID").find("object id") != std::string::npos);
    CHECK(error("EMAILID M.1").find("object id") != std::string::npos);
    CHECK(error("THREADID \"\"").find("object id") != std::string::npos);
    CHECK(error(std::string("EMAILID M") + std::string(255, 'a')).find("object id") !=
          std::string::npos);
    CHECK(program(std::string("EMAILID M") + std::string(254, 'a')).rfind("EMAILID(", 0) == 0);
}
