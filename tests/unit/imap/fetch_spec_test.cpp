// Tests for core/imap/fetch_spec: RFC 3501 §6.4.5 fetch-att and macros,
// §9 section/partial syntax, §7.4.2 response names; RFC 3516 BINARY; RFC 4466
// §2.4 fetch-modifiers; RFC 7162 MODSEQ, CHANGEDSINCE and VANISHED; RFC 8474
// EMAILID and THREADID.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/base/text.h"
#include "core/imap/fetch_spec.h"

using namespace tinyimapd;
using namespace tinyimapd::imap;

namespace {

// One command line run through the real lexer.
struct Command {
    std::vector<char> arena = std::vector<char>(16384);
    std::vector<Arg> args = std::vector<Arg>(256);
    Parser parser{arena.data(), arena.size(), args.data(), args.size(), ParserLimits{}};
    bool ok = false;

    explicit Command(const std::string& line) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(line.data());
        std::size_t pos = 0;
        while (pos < line.size()) {
            const Fed fed = parser.feed(p + pos, line.size() - pos);
            pos += fed.consumed;
            if (fed.event == ParseEvent::LiteralRequest) (void)parser.accept_literal();
            if (fed.event == ParseEvent::Error) return;
            if (fed.event == ParseEvent::Command) ok = true;
        }
    }

    // A reader after the first `skip` arguments (the sequence set, "FETCH").
    ArgReader after(std::size_t skip) const {
        ArgReader r(parser);
        for (std::size_t i = 0; i < skip; ++i) r.skip();
        return r;
    }
};

struct Fetched {
    std::unique_ptr<Command> cmd;  // owns the bytes the items point into
    std::vector<FetchItem> items;
    FetchSpec spec;
    bool ok = false;
    std::string why;
    std::string error_at;
    std::string reader_error;
    bool at_end = false;

    const FetchItem& item(std::size_t i) const { return items.at(i); }

    // The response names of all items, separated by spaces.
    std::string names() const {
        std::string out;
        for (std::size_t i = 0; i < spec.count; ++i) {
            FixedText<512> w;
            write_item_name(items[i], w);
            if (!out.empty()) out += ' ';
            out += std::string(w.view());
        }
        return out;
    }
};

// Parses "a FETCH 1 <rest>" (or "a UID FETCH 1 <rest>").
Fetched fetch(const std::string& rest, std::size_t max_items = 32, bool uid = false) {
    Fetched f;
    f.cmd = std::make_unique<Command>(std::string(uid ? "a UID FETCH 1" : "a FETCH 1") +
                                      (rest.empty() ? "" : " ") + rest + "\r\n");
    REQUIRE(f.cmd->ok);
    f.items.resize(max_items + 1);  // one spare: overruns would show
    ArgReader r = f.cmd->after(uid ? 2 : 1);
    const char* why = "";
    f.ok = parse_fetch_spec(r, f.items.data(), max_items, &f.spec, &why);
    f.why = why;
    f.error_at = std::string(f.spec.error_at);
    f.reader_error = r.error();
    f.at_end = r.at_end();
    return f;
}

std::string error_of(const std::string& rest, std::size_t max_items = 32) {
    const Fetched f = fetch(rest, max_items);
    if (f.ok) return "OK";
    CHECK(f.reader_error == f.why);
    return f.why;
}

// The echo name of one attribute given alone.
std::string echo(const std::string& att) {
    const Fetched f = fetch(att);
    if (!f.ok) return "ERROR " + f.why;
    REQUIRE(f.spec.count == 1);
    return f.names();
}

std::vector<std::uint32_t> parts_of(const FetchItem& item) {
    std::vector<std::uint32_t> out;
    SectionPartIterator it(item.section);
    std::uint32_t part = 0;
    while (it.next(&part)) out.push_back(part);
    return out;
}

std::vector<std::string> fields_of(const FetchItem& item) {
    std::vector<std::string> out;
    HeaderFieldIterator it(item.section);
    std::string_view name;
    while (it.next(&name)) out.emplace_back(name);
    return out;
}

}  // namespace

TEST_CASE("RFC 3501 §6.4.5: every simple fetch attribute", "[fetch]") {
    struct Case {
        const char* text;
        FetchKind kind;
    };
    const Case cases[] = {
        {"ENVELOPE", FetchKind::Envelope},
        {"FLAGS", FetchKind::Flags},
        {"INTERNALDATE", FetchKind::InternalDate},
        {"RFC822", FetchKind::Rfc822},
        {"RFC822.HEADER", FetchKind::Rfc822Header},
        {"RFC822.SIZE", FetchKind::Rfc822Size},
        {"RFC822.TEXT", FetchKind::Rfc822Text},
        {"BODY", FetchKind::Body},
        {"BODYSTRUCTURE", FetchKind::BodyStructure},
        {"UID", FetchKind::Uid},
        {"MODSEQ", FetchKind::ModSeq},      // RFC 7162 §3.1.4.2
        {"EMAILID", FetchKind::EmailId},    // RFC 8474 §5.3
        {"THREADID", FetchKind::ThreadId},  // RFC 8474 §5.3
        {"SAVEDATE", FetchKind::SaveDate},  // RFC 8514 §4.2
        {"PREVIEW", FetchKind::Preview},    // RFC 8970 §3.1
    };
    for (const Case& c : cases) {
        INFO(c.text);
        for (const std::string& text : {std::string(c.text), Catch::toLower(c.text)}) {
            const Fetched f = fetch(text);
            REQUIRE(f.ok);
            CHECK(f.at_end);
            REQUIRE(f.spec.count == 1);
            CHECK(f.item(0).kind == c.kind);
            CHECK_FALSE(f.item(0).peek);
            CHECK_FALSE(f.item(0).has_partial);
            CHECK(f.names() == c.text);  // echoed in upper case
        }
    }
    CHECK(fetch("UID").spec.wants_uid);
    CHECK_FALSE(fetch("FLAGS").spec.wants_uid);
    CHECK(fetch("MODSEQ").spec.wants_modseq);
    CHECK_FALSE(fetch("FLAGS").spec.wants_modseq);
}

TEST_CASE("RFC 3501 §6.4.5: the ALL, FAST and FULL macros", "[fetch]") {
    CHECK(fetch("ALL").names() == "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE");
    CHECK(fetch("fast").names() == "FLAGS INTERNALDATE RFC822.SIZE");
    CHECK(fetch("Full").names() == "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY");
    CHECK(fetch("FULL").item(4).kind == FetchKind::Body);
    // "macros are not allowed inside a list" (§9 "fetch").
    CHECK(error_of("(ALL)") == "ALL, FAST and FULL are not allowed in a list");
    CHECK(error_of("(FLAGS fast)") == "ALL, FAST and FULL are not allowed in a list");
    CHECK(fetch("(FLAGS full)").error_at == "full");
    // The limit counts the expanded items.
    CHECK(error_of("FULL", 4) == "Too many fetch attributes");
    CHECK(fetch("FULL", 5).ok);
}

TEST_CASE("RFC 3501 §6.4.5: a parenthesised list of attributes", "[fetch]") {
    // The example of §6.4.5.
    const Fetched f = fetch("(FLAGS BODY[HEADER.FIELDS (DATE FROM)])");
    REQUIRE(f.ok);
    CHECK(f.at_end);
    CHECK(f.names() == "FLAGS BODY[HEADER.FIELDS (DATE FROM)]");
    CHECK(f.spec.items == f.items.data());
    CHECK(f.item(1).kind == FetchKind::BodySection);
    CHECK(f.item(1).section.text == SectionText::HeaderFields);
    CHECK(fields_of(f.item(1)) == std::vector<std::string>{"DATE", "FROM"});

    CHECK(fetch("(uid rfc822.size flags)").names() == "UID RFC822.SIZE FLAGS");
    CHECK(fetch("(UID)").names() == "UID");
    // Repeats are kept: what to answer for them is the command's decision.
    CHECK(fetch("(FLAGS FLAGS)").spec.count == 2);

    CHECK(error_of("()") == "Empty fetch attribute list");
    CHECK(error_of("(FLAGS (UID))") == "Invalid fetch attribute");
    CHECK(error_of("(FLAGS \"UID\")") == "Invalid fetch attribute");
    CHECK(fetch("(FLAGS \"UID\")").error_at == "UID");
    CHECK(error_of("\"FLAGS\"") == "Invalid fetch attribute");
    CHECK(error_of("{5}\r\nFLAGS") == "Invalid fetch attribute");
    CHECK(error_of("(FLAGS FOO)") == "Unknown fetch attribute");
    CHECK(fetch("(FLAGS FOO)").error_at == "FOO");
    CHECK(error_of("RFC822.FOO") == "Unknown fetch attribute");
    CHECK(error_of("BODYSTRUCTURE[]") == "Unknown fetch attribute");
    CHECK(error_of("RFC822.SIZE<0.1>") == "Unknown fetch attribute");
    CHECK(error_of("FLAGS UID") == "Unexpected argument after fetch attributes");
    CHECK(fetch("FLAGS UID").error_at == "UID");
}

TEST_CASE("RFC 3501 §6.4.5: missing attributes and the item limit", "[fetch]") {
    CHECK(error_of("") == "Missing fetch attributes");
    CHECK(fetch("(FLAGS UID ENVELOPE)", 3).ok);
    CHECK(error_of("(FLAGS UID ENVELOPE)", 2) == "Too many fetch attributes");
    CHECK(fetch("(FLAGS UID ENVELOPE)", 2).error_at == "ENVELOPE");
    CHECK(error_of("FLAGS", 0) == "Too many fetch attributes");
    // The caller's array is not written past max_items.
    const Fetched f = fetch("(FLAGS UID ENVELOPE)", 2);
    CHECK(f.items[2].kind == FetchItem{}.kind);
    CHECK(f.spec.count == 2);
}

TEST_CASE("RFC 3501 §9 section: the whole message, HEADER, TEXT", "[fetch]") {
    const Fetched f = fetch("BODY[]");
    REQUIRE(f.ok);
    CHECK(f.item(0).kind == FetchKind::BodySection);
    CHECK(f.item(0).section.part_count == 0);
    CHECK(f.item(0).section.parts.empty());
    CHECK(f.item(0).section.text == SectionText::None);
    CHECK(f.names() == "BODY[]");

    CHECK(fetch("BODY[HEADER]").item(0).section.text == SectionText::Header);
    CHECK(fetch("BODY[TEXT]").item(0).section.text == SectionText::Text);
    CHECK(echo("body[header]") == "BODY[HEADER]");
    CHECK(echo("body[text]") == "BODY[TEXT]");
    CHECK(echo("BODY.PEEK[]") == "BODY[]");  // §7.4.2: PEEK is not echoed
    CHECK(fetch("BODY.PEEK[]").item(0).peek);
    CHECK(fetch("body.peek[TEXT]").item(0).peek);
    CHECK_FALSE(fetch("BODY[]").item(0).peek);
}

TEST_CASE("RFC 3501 §9 section-part: nested part numbers and MIME", "[fetch]") {
    const Fetched f = fetch("BODY[1.2.3.MIME]");
    REQUIRE(f.ok);
    CHECK(f.item(0).section.part_count == 3);
    CHECK(f.item(0).section.parts == "1.2.3");
    CHECK(f.item(0).section.text == SectionText::Mime);
    CHECK(parts_of(f.item(0)) == std::vector<std::uint32_t>{1, 2, 3});
    CHECK(f.names() == "BODY[1.2.3.MIME]");

    // The part specifiers of the §6.4.5 example.
    for (const char* s : {"1", "3", "3.HEADER", "3.TEXT", "3.1", "4.1.MIME", "4.2.HEADER",
                          "4.2.TEXT", "4.2.2.1", "4.2.2.2"}) {
        INFO(s);
        CHECK(echo(std::string("BODY[") + s + "]") == std::string("BODY[") + s + "]");
    }
    CHECK(echo("body[4.2.header]") == "BODY[4.2.HEADER]");
    CHECK(echo("body.peek[1.mime]") == "BODY[1.MIME]");
    CHECK(parts_of(fetch("BODY[4294967295.10.7]").item(0)) ==
          std::vector<std::uint32_t>{4294967295u, 10, 7});
    CHECK(parts_of(fetch("BODY[TEXT]").item(0)).empty());

    // §6.4.5: "The MIME part specifier MUST be prefixed by one or more
    // numeric part specifiers."
    CHECK(error_of("BODY[MIME]") == "MIME requires a part number");
    CHECK(error_of("BODY.PEEK[mime]") == "MIME requires a part number");
    // nz-number: no zero, no leading zero, 32 bits.
    CHECK(error_of("BODY[0]") == "Invalid section");
    CHECK(error_of("BODY[1.0]") == "Invalid section");
    CHECK(error_of("BODY[01]") == "Invalid section");
    CHECK(error_of("BODY[4294967296]") == "Invalid section");
    CHECK(error_of("BODY[1.]") == "Invalid section");
    CHECK(error_of("BODY[.1]") == "Invalid section");
    CHECK(error_of("BODY[1..2]") == "Invalid section");
    CHECK(error_of("BODY[1.2.]") == "Invalid section");
    CHECK(error_of("BODY[1HEADER]") == "Invalid section");
    CHECK(error_of("BODY[1.FOO]") == "Invalid section");
    CHECK(error_of("BODY[TEXTX]") == "Invalid section");
    CHECK(error_of("BODY[HEADER.]") == "Invalid section");
    CHECK(error_of("BODY[ HEADER]") == "Invalid section");
    CHECK(error_of("BODY[HEADER ]") == "Invalid section");
    CHECK(error_of("BODY[-1]") == "Invalid section");
    CHECK(error_of("(BODY[1] FLAGS)") == "OK");
}

TEST_CASE("RFC 3501 §9 section: depth limit kMaxSectionDepth", "[fetch]") {
    std::string deepest = "1";
    for (std::size_t i = 1; i < kMaxSectionDepth; ++i) deepest += "." + std::to_string(i + 1);
    const Fetched f = fetch("BODY[" + deepest + ".MIME]");
    REQUIRE(f.ok);
    CHECK(f.item(0).section.part_count == kMaxSectionDepth);
    CHECK(parts_of(f.item(0)).size() == kMaxSectionDepth);
    CHECK(parts_of(f.item(0)).back() == kMaxSectionDepth);
    CHECK(error_of("BODY[" + deepest + ".1]") == "Section too deep");
}

TEST_CASE("RFC 3501 §9 header-list: HEADER.FIELDS and HEADER.FIELDS.NOT", "[fetch]") {
    Fetched f = fetch("BODY.PEEK[HEADER.FIELDS (From To Cc)]");
    REQUIRE(f.ok);
    CHECK(f.item(0).section.text == SectionText::HeaderFields);
    CHECK(f.item(0).section.fields == "(From To Cc)");
    CHECK(fields_of(f.item(0)) == std::vector<std::string>{"From", "To", "Cc"});
    CHECK(f.names() == "BODY[HEADER.FIELDS (From To Cc)]");

    f = fetch("BODY[header.fields.not (Subject)]");
    REQUIRE(f.ok);
    CHECK(f.item(0).section.text == SectionText::HeaderFieldsNot);
    CHECK(fields_of(f.item(0)) == std::vector<std::string>{"Subject"});
    // Keywords in upper case, the list as the client sent it (§7.4.2).
    CHECK(f.names() == "BODY[HEADER.FIELDS.NOT (Subject)]");

    // header-fld-name = astring: quoted strings too, unquoted by the iterator.
    f = fetch(R"(BODY.PEEK[1.2.HEADER.FIELDS ("From" "To" X-Mailer)]<0.2048>)");
    REQUIRE(f.ok);
    CHECK(parts_of(f.item(0)) == std::vector<std::uint32_t>{1, 2});
    CHECK(fields_of(f.item(0)) == std::vector<std::string>{"From", "To", "X-Mailer"});
    CHECK(f.names() == R"(BODY[1.2.HEADER.FIELDS ("From" "To" X-Mailer)]<0>)");

    // Escapes of quoted-specials are resolved; the echo keeps them.
    f = fetch(R"(BODY[HEADER.FIELDS ("X-\"q\"" "a\\b" "" Date)])");
    REQUIRE(f.ok);
    CHECK(fields_of(f.item(0)) == std::vector<std::string>{"X-\"q\"", "a\\b", "", "Date"});
    CHECK(f.names() == R"(BODY[HEADER.FIELDS ("X-\"q\"" "a\\b" "" Date)])");

    // Names up to kMaxHeaderFieldName bytes, unescaped.
    const std::string longest(kMaxHeaderFieldName, 'x');
    CHECK(fields_of(fetch("BODY[HEADER.FIELDS (" + longest + ")]").item(0)) ==
          std::vector<std::string>{longest});
    const std::string escaped = "\"" + std::string(kMaxHeaderFieldName - 1, 'y') + "\\\"\"";
    CHECK(fields_of(fetch("BODY[HEADER.FIELDS (" + escaped + ")]").item(0)) ==
          std::vector<std::string>{std::string(kMaxHeaderFieldName - 1, 'y') + "\""});
    CHECK(error_of("BODY[HEADER.FIELDS (" + longest + "x)]") == "Header field name too long");
    CHECK(error_of("BODY[HEADER.FIELDS (\"" + longest + "x\")]") == "Header field name too long");

    CHECK(error_of("BODY[HEADER.FIELDS]") == "Missing header list");
    CHECK(error_of("BODY[1.HEADER.FIELDS.NOT]") == "Missing header list");
    CHECK(error_of("BODY[HEADER.FIELDS ()]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDS (From  To)]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDS ( From)]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDS (From )]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDS From]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDS (From) ]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDS ((From))]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDS (\"From)]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDS (\"Fr\\om\")]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDS (\"From\"To)]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDS (Fr%om)]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDS(From)]") == "Invalid section");
    CHECK(error_of("BODY[HEADER.FIELDS  (From)]") == "Invalid header list");
    CHECK(error_of("BODY[HEADER.FIELDSX (From)]") == "Invalid section");
    CHECK(error_of("BODY[HEADER.FIELDS.NOTX (From)]") == "Invalid section");
    CHECK(error_of("BODY[TEXT (From)]") == "Invalid section");
    // Our lexer keeps no literal inside a section (fetch_spec.h).
    CHECK(error_of("BODY[HEADER.FIELDS ({4} From)]") ==
          "Literals are not supported in a header list");
    // The lexer ends the section at the first ']', inside quotes too.
    CHECK(error_of("(BODY[HEADER.FIELDS (\"a]b FLAGS)") == "Invalid header list");
}

TEST_CASE("RFC 3501 §9 partial: <offset.count>, echoed as <offset>", "[fetch]") {
    Fetched f = fetch("BODY[]<0.2048>");
    REQUIRE(f.ok);
    CHECK(f.item(0).has_partial);
    CHECK(f.item(0).partial_offset == 0);
    CHECK(f.item(0).partial_count == 2048);
    CHECK(f.names() == "BODY[]<0>");  // §6.4.5 note: BODY[]<0.2048> returns BODY[]<0>

    f = fetch("BODY.PEEK[HEADER.FIELDS (From To)]<100.50>");
    REQUIRE(f.ok);
    CHECK(f.item(0).peek);
    CHECK(f.item(0).partial_offset == 100);
    CHECK(f.item(0).partial_count == 50);
    CHECK(f.names() == "BODY[HEADER.FIELDS (From To)]<100>");

    f = fetch("BODY[1]<4294967295.4294967295>");
    REQUIRE(f.ok);
    CHECK(f.item(0).partial_offset == 4294967295u);
    CHECK(f.item(0).partial_count == 4294967295u);
    CHECK(echo("BODY[]<007.1>") == "BODY[]<7>");  // number = 1*DIGIT

    // RFC 2062's "<offset>" without a count is not RFC 3501 syntax.
    CHECK(error_of("BODY[]<0>") == "Invalid partial");
    CHECK(error_of("BODY[]<0.0>") == "Invalid partial");  // nz-number
    CHECK(error_of("BODY[]<.1>") == "Invalid partial");
    CHECK(error_of("BODY[]<1.>") == "Invalid partial");
    CHECK(error_of("BODY[]<a.1>") == "Invalid partial");
    CHECK(error_of("BODY[]<1.2.3>") == "Invalid partial");
    CHECK(error_of("BODY[]<-1.2>") == "Invalid partial");
    CHECK(error_of("BODY[]<4294967296.1>") == "Invalid partial");
    CHECK(error_of("BODY[]<0.4294967296>") == "Invalid partial");
    CHECK(error_of("BODY[]<0.1") == "Invalid partial");
    CHECK(error_of("BODY[]<") == "Invalid partial");
    CHECK(error_of("BODY[]<>") == "Invalid partial");
    CHECK(error_of("BODY[]<0.1><0.1>") == "Invalid partial");
    CHECK(error_of("BODY[]x") == "Unexpected text after section");
    CHECK(error_of("BODY[]0.1>") == "Unexpected text after section");
    CHECK(fetch("BODY[]x").error_at == "BODY[]x");
}

TEST_CASE("RFC 3516 §4: BINARY, BINARY.PEEK and BINARY.SIZE", "[fetch]") {
    Fetched f = fetch("BINARY[1.2]");
    REQUIRE(f.ok);
    CHECK(f.item(0).kind == FetchKind::BinarySection);
    CHECK_FALSE(f.item(0).peek);
    CHECK(parts_of(f.item(0)) == std::vector<std::uint32_t>{1, 2});
    CHECK(f.names() == "BINARY[1.2]");

    f = fetch("binary.peek[3]<0.100>");
    REQUIRE(f.ok);
    CHECK(f.item(0).kind == FetchKind::BinarySection);
    CHECK(f.item(0).peek);
    CHECK(f.item(0).partial_count == 100);
    CHECK(f.names() == "BINARY[3]<0>");

    f = fetch("BINARY.SIZE[4.1]");
    REQUIRE(f.ok);
    CHECK(f.item(0).kind == FetchKind::BinarySize);
    CHECK(f.names() == "BINARY.SIZE[4.1]");

    // section-binary = "[" [section-part] "]"
    CHECK(echo("BINARY[]") == "BINARY[]");
    CHECK(echo("BINARY.SIZE[]") == "BINARY.SIZE[]");
    CHECK(error_of("BINARY[1.MIME]") == "BINARY takes only part numbers in its section");
    CHECK(error_of("BINARY[HEADER]") == "BINARY takes only part numbers in its section");
    CHECK(error_of("BINARY.PEEK[TEXT]") == "BINARY takes only part numbers in its section");
    CHECK(error_of("BINARY[0]") == "Invalid section");
    CHECK(error_of("BINARY.SIZE[1]<0.10>") == "BINARY.SIZE takes no partial");
    CHECK(error_of("BINARY[1]<0>") == "Invalid partial");
    CHECK(error_of("BINARY.FOO[1]") == "Unknown fetch attribute");
    CHECK(error_of("BINARY") == "Unknown fetch attribute");
}

TEST_CASE("RFC 3501 §6.4.5: which items set \\Seen", "[fetch]") {
    struct Case {
        const char* att;
        bool seen;
    };
    const Case cases[] = {
        {"BODY[]", true},
        {"BODY[1.MIME]", true},
        {"BODY[]<0.10>", true},
        {"BODY.PEEK[]", false},
        {"RFC822", true},
        {"RFC822.TEXT", true},
        {"RFC822.HEADER", false},
        {"RFC822.SIZE", false},
        {"BINARY[1]", true},
        {"BINARY.PEEK[1]", false},
        {"BINARY.SIZE[1]", false},
        {"BODY", false},
        {"BODYSTRUCTURE", false},
        {"ENVELOPE", false},
        {"FLAGS", false},
        {"INTERNALDATE", false},
        {"UID", false},
        {"MODSEQ", false},
        {"EMAILID", false},
        {"THREADID", false},
    };
    for (const Case& c : cases) {
        INFO(c.att);
        const Fetched f = fetch(c.att);
        REQUIRE(f.ok);
        CHECK(fetch_sets_seen(f.item(0)) == c.seen);
        CHECK(f.spec.sets_seen == c.seen);
    }
    CHECK(fetch("(FLAGS BODY.PEEK[] RFC822.TEXT)").spec.sets_seen);
    CHECK_FALSE(fetch("ALL").spec.sets_seen);
}

TEST_CASE("RFC 7162 §3.1.4.1: the CHANGEDSINCE fetch modifier", "[fetch]") {
    // Example 12.
    Fetched f = fetch("(FLAGS) (CHANGEDSINCE 12345)", 32, true);
    REQUIRE(f.ok);
    CHECK(f.at_end);
    CHECK(f.names() == "FLAGS");
    CHECK(f.spec.changedsince);
    CHECK(f.spec.changedsince_value == 12345);
    CHECK(f.spec.wants_modseq);  // "implicitly adds the MODSEQ FETCH data item"
    CHECK_FALSE(f.spec.vanished);

    // fetch-modifiers follow a single attribute or a macro too (RFC 4466 §2.4).
    CHECK(fetch("FLAGS (changedsince 1)").spec.changedsince_value == 1);
    CHECK(fetch("ALL (CHANGEDSINCE 9223372036854775807)").spec.changedsince_value ==
          9223372036854775807u);
    CHECK_FALSE(fetch("FLAGS").spec.changedsince);

    // mod-sequence-value is 1..2^63-1.
    CHECK(error_of("(FLAGS) (CHANGEDSINCE 0)") == "Invalid CHANGEDSINCE value");
    CHECK(error_of("(FLAGS) (CHANGEDSINCE 9223372036854775808)") == "Invalid CHANGEDSINCE value");
    CHECK(fetch("(FLAGS) (CHANGEDSINCE 9223372036854775808)").error_at == "9223372036854775808");
    CHECK(error_of("(FLAGS) (CHANGEDSINCE)") == "Invalid CHANGEDSINCE value");
    CHECK(error_of("(FLAGS) (CHANGEDSINCE x)") == "Invalid CHANGEDSINCE value");
    CHECK(error_of("(FLAGS) (CHANGEDSINCE \"5\")") == "Invalid CHANGEDSINCE value");
    CHECK(error_of("(FLAGS) (CHANGEDSINCE 1 CHANGEDSINCE 2)") == "Duplicate CHANGEDSINCE");
    CHECK(error_of("(FLAGS) ()") == "Empty fetch modifier list");
    CHECK(error_of("(FLAGS) (FOO)") == "Unknown fetch modifier");
    CHECK(fetch("(FLAGS) (FOO 1)").error_at == "FOO");
    CHECK(error_of("(FLAGS) ((CHANGEDSINCE 1))") == "Unknown fetch modifier");
    CHECK(error_of("(FLAGS) (CHANGEDSINCE 1) UID") == "Unexpected argument after fetch modifiers");
    CHECK(error_of("(FLAGS) (CHANGEDSINCE 1) (VANISHED)") ==
          "Unexpected argument after fetch modifiers");
}

TEST_CASE("RFC 7162 §3.2.6: the VANISHED UID FETCH modifier", "[fetch]") {
    // The example of §3.2.6.
    Fetched f = fetch("(FLAGS) (CHANGEDSINCE 12345 VANISHED)", 32, true);
    REQUIRE(f.ok);
    CHECK(f.spec.vanished);
    CHECK(f.spec.changedsince_value == 12345);
    CHECK(fetch("(FLAGS) (vanished CHANGEDSINCE 7)", 32, true).spec.vanished);
    // Only UID FETCH may carry it: reported, and the command checks.
    CHECK(fetch("(FLAGS) (CHANGEDSINCE 1 VANISHED)").spec.vanished);
    // "MUST only be specified together with the CHANGEDSINCE modifier".
    CHECK(error_of("(FLAGS) (VANISHED)") == "VANISHED requires CHANGEDSINCE");
    CHECK(error_of("(FLAGS) (CHANGEDSINCE 1 VANISHED VANISHED)") == "Duplicate VANISHED");
}

TEST_CASE("RFC 3501 §7.4.2: write_item_name stops cleanly on a full writer", "[fetch]") {
    const Fetched f = fetch("BODY[HEADER.FIELDS (From To)]<0.10>");
    REQUIRE(f.ok);
    FixedText<8> small;
    write_item_name(f.item(0), small);
    CHECK_FALSE(small.ok());
    FixedText<64> big;
    write_item_name(f.item(0), big);
    CHECK(big.ok());
    CHECK(big.view() == "BODY[HEADER.FIELDS (From To)]<0>");
}

TEST_CASE("fetch_spec.h: parse_fetch_att on its own and the size of an item", "[fetch]") {
    FetchItem item;
    const char* why = "";
    REQUIRE(parse_fetch_att("BODY.PEEK[2.TEXT]<5.6>", &item, &why));
    CHECK(item.kind == FetchKind::BodySection);
    CHECK(item.section.text == SectionText::Text);
    CHECK(item.partial_offset == 5);
    CHECK_FALSE(parse_fetch_att("", &item, &why));
    CHECK(std::string(why) == "Unknown fetch attribute");
    CHECK_FALSE(parse_fetch_att("BODY[", &item, &why));
    CHECK(std::string(why) == "Invalid section");
    CHECK_FALSE(parse_fetch_att("BODY[1", &item, &why));
    CHECK(std::string(why) == "Invalid section");
    // As documented in fetch_spec.h.
    CHECK(sizeof(FetchItem) == (sizeof(void*) == 8 ? 56u : 36u));
}

TEST_CASE("RFC 8970 §6: PREVIEW [SP \"(\" preview-mod *(SP preview-mod) \")\"]", "[fetch]") {
    const Fetched single = fetch("PREVIEW (LAZY)");
    REQUIRE(single.ok);
    CHECK(single.at_end);
    REQUIRE(single.spec.count == 1);
    CHECK(single.item(0).kind == FetchKind::Preview);
    CHECK(single.item(0).lazy);
    CHECK(single.names() == "PREVIEW");  // the response names no modifier
    // Example 2 and 3: in a list, before and after other items.
    const Fetched list = fetch("(ENVELOPE PREVIEW (lazy) UID PREVIEW)");
    REQUIRE(list.ok);
    REQUIRE(list.spec.count == 4);
    CHECK(list.item(1).kind == FetchKind::Preview);
    CHECK(list.item(1).lazy);
    CHECK(list.item(2).kind == FetchKind::Uid);
    CHECK_FALSE(list.item(3).lazy);
    CHECK(list.names() == "ENVELOPE PREVIEW UID PREVIEW");
    CHECK(fetch("(RFC822.SIZE PREVIEW)").ok);
    // A list after a lone PREVIEW that holds fetch-modifiers stays theirs.
    const Fetched mods = fetch("PREVIEW (CHANGEDSINCE 5)");
    REQUIRE(mods.ok);
    CHECK(mods.spec.changedsince);
    CHECK_FALSE(mods.item(0).lazy);
    CHECK(error_of("PREVIEW ()") == "Empty PREVIEW modifier list");
    CHECK(error_of("(PREVIEW (FAST))") == "Unknown PREVIEW modifier");
    CHECK(error_of("(PREVIEW (LAZY X))") == "Unknown PREVIEW modifier");
    CHECK(error_of("(UID (LAZY))") == "Invalid fetch attribute");
}
