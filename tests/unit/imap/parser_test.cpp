// Tests for core/imap/parser: RFC 3501 §9 lexical grammar, RFC 7888
// literals, limits, error recovery, and incremental feeding at every split.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/imap/parser.h"

using namespace tinyimapd::imap;
using namespace std::string_literals;

namespace {

struct Harness {
    std::vector<char> arena;
    std::vector<Arg> args;
    Parser parser;
    bool refuse_literals = false;
    bool stream_literals = false;
    std::string streamed;  // data of streamed literals, as received

    explicit Harness(ParserLimits limits = {}, std::size_t arena_size = 16384,
                     std::size_t max_args = 64)
        : arena(arena_size),
          args(max_args),
          parser(arena.data(), arena.size(), args.data(), args.size(), limits) {}

    std::string render_args(std::size_t from, std::size_t to) {
        std::string out;
        for (std::size_t i = from; i < to;) {
            if (!out.empty()) out += ' ';
            const Arg& a = parser.arg(i);
            switch (a.type) {
                case ArgType::Atom: out += "A:" + std::string(parser.arg_text(i)); break;
                case ArgType::Quoted: out += "Q:" + std::string(parser.arg_text(i)); break;
                case ArgType::Literal: out += "L:" + std::string(parser.arg_text(i)); break;
                case ArgType::Streamed: out += "S:" + std::to_string(a.length); break;
                case ArgType::List:
                    out += "(" + render_args(i + 1, a.end) + ")";
                    i = a.end;
                    continue;
            }
            ++i;
        }
        return out;
    }

    // Feeds `input` in the given chunks; returns one line per event.
    std::vector<std::string> run(const std::string& input, std::vector<std::size_t> cuts = {}) {
        std::vector<std::string> events;
        cuts.push_back(input.size());
        std::size_t pos = 0;
        for (std::size_t cut : cuts) {
            while (pos < cut) {
                auto* p = reinterpret_cast<const std::uint8_t*>(input.data()) + pos;
                Fed fed = parser.feed(p, cut - pos);
                pos += fed.consumed;
                switch (fed.event) {
                    case ParseEvent::NeedMore: break;
                    case ParseEvent::Command:
                        events.push_back("CMD " + std::string(parser.tag()) + " " +
                                         std::string(parser.name()) + " [" +
                                         render_args(0, parser.arg_count()) + "]");
                        break;
                    case ParseEvent::LiteralRequest:
                        // The session's policy: keep what fits, else refuse
                        // with BAD [TOOBIG]; "+" only for what is taken.
                        if (refuse_literals) {
                            parser.refuse_literal();
                            events.push_back("LIT " + std::to_string(parser.literal_size()));
                        } else if (stream_literals) {
                            parser.stream_literal();
                            events.push_back("STREAM " + std::to_string(parser.literal_size()));
                        } else if (parser.accept_literal()) {
                            if (parser.literal_sync()) {
                                events.push_back("LIT " + std::to_string(parser.literal_size()));
                            }
                        } else {
                            events.push_back("ERR " + std::string(parser.tag()) +
                                             " Literal too large [TOOBIG]");
                            parser.refuse_literal();
                        }
                        break;
                    case ParseEvent::LiteralChunk: streamed += std::string(parser.chunk()); break;
                    case ParseEvent::Line:
                        events.push_back("LINE " + std::string(parser.line()));
                        break;
                    case ParseEvent::Error:
                        events.push_back(
                            "ERR " + std::string(parser.tag()) + " " + parser.error_text() +
                            (*parser.error_code() ? std::string(" [") + parser.error_code() + "]"
                                                  : std::string()));
                        break;
                }
            }
        }
        return events;
    }
};

std::vector<std::string> whole(const std::string& input, ParserLimits limits = {}) {
    Harness h(limits);
    return h.run(input);
}

// Feeds the input split at every possible point, and one byte at a time,
// and checks each gives the same events as feeding it whole.
void check_every_split(const std::string& input, ParserLimits limits = {}) {
    const auto expected = whole(input, limits);
    for (std::size_t k = 0; k <= input.size(); ++k) {
        Harness h(limits);
        INFO("split at " << k);
        CHECK(h.run(input, {k}) == expected);
    }
    std::vector<std::size_t> bytewise;
    for (std::size_t k = 1; k < input.size(); ++k) bytewise.push_back(k);
    Harness h(limits);
    CHECK(h.run(input, bytewise) == expected);
}

}  // namespace

TEST_CASE("RFC 3501 §9: tag, command name and atom arguments", "[parser]") {
    CHECK(whole("a001 NOOP\r\n") == std::vector<std::string>{"CMD a001 NOOP []"});
    CHECK(whole("A1 LOGIN fred secret\r\n") ==
          std::vector<std::string>{"CMD A1 LOGIN [A:fred A:secret]"});
    CHECK(whole("x UID FETCH 1:*,4 (FLAGS)\r\n") ==
          std::vector<std::string>{"CMD x UID [A:FETCH A:1:*,4 (A:FLAGS)]"});
}

TEST_CASE("RFC 3501 §4.3: quoted strings with escapes", "[parser]") {
    CHECK(whole("a LOGIN \"fred\" \"a \\\"b\\\" \\\\c\"\r\n") ==
          std::vector<std::string>{"CMD a LOGIN [Q:fred Q:a \"b\" \\c]"});
    CHECK(whole("a LOGIN \"\" \"\"\r\n") == std::vector<std::string>{"CMD a LOGIN [Q: Q:]"});
    CHECK(whole("a LOGIN \"a\\b\" x\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a Invalid escape in quoted string", "CMD b NOOP []"});
    CHECK(whole("a LOGIN \"abc\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a Unterminated quoted string", "CMD b NOOP []"});
}

TEST_CASE("RFC 6855 §3: with UTF-8 on, 8-bit bytes in quoted strings must be UTF-8", "[parser]") {
    auto run_utf8 = [](const std::string& input, std::vector<std::size_t> cuts = {}) {
        Harness h;
        h.parser.set_utf8(true);
        return h.run(input, std::move(cuts));
    };
    const std::string good =
        "a CREATE \"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"\r\n";
    const std::vector<std::string> parsed = {
        "CMD a CREATE [Q:caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf]"};
    CHECK(run_utf8(good) == parsed);
    std::vector<std::size_t> bytewise;
    for (std::size_t k = 1; k < good.size(); ++k) bytewise.push_back(k);
    CHECK(run_utf8(good, bytewise) == parsed);
    // Each malformation (RFC 3629 §4) ends the command; the next one parses.
    for (const std::string& bad :
         {"\xff"s, "\x80"s, "\xc3"s, "\xc3\\\""s, "\xc1\xbf"s, "\xe0\x9f\xbf"s, "\xed\xa0\x80"s,
          "\xf0\x8f\xbf\xbf"s, "\xf4\x90\x80\x80"s, "\xf5\x80\x80\x80"s, "\xe2\x82"s}) {
        INFO("bad bytes: " << bad.size());
        CHECK(run_utf8("a CREATE \"x" + bad + "\"\r\nb NOOP\r\n") ==
              std::vector<std::string>{"ERR a Invalid UTF-8 in quoted string", "CMD b NOOP []"});
    }
    // Off (the default), 8-bit bytes pass as they are; literals are never checked.
    CHECK(whole("a CREATE \"x\xff\"\r\n") == std::vector<std::string>{"CMD a CREATE [Q:x\xff]"});
    CHECK(run_utf8("a CREATE {2}\r\nx\xff\r\n") ==
          std::vector<std::string>{"LIT 2", "CMD a CREATE [L:x\xff]"});
}

TEST_CASE("RFC 3501 §4.3 and §7.5: synchronizing literals", "[parser]") {
    CHECK(whole("a LOGIN {4}\r\nfred {6}\r\nsecret\r\n") ==
          std::vector<std::string>{"LIT 4", "LIT 6", "CMD a LOGIN [L:fred L:secret]"});
    // Literal bytes are data: CRLF, quotes and NUL inside are kept as is.
    CHECK(whole("a LOGIN {5}\r\n\"\r\n\0x pw\r\n"s) ==
          std::vector<std::string>{"LIT 5", "CMD a LOGIN [L:\"\r\n\0x A:pw]"s});
    CHECK(whole("a LOGIN {0}\r\n x\r\n") ==
          std::vector<std::string>{"LIT 0", "CMD a LOGIN [L: A:x]"});
}

TEST_CASE("RFC 3501 §7.5: a refused literal is not sent; the next line is a new command",
          "[parser]") {
    Harness h;
    h.refuse_literals = true;
    CHECK(h.run("a LOGIN {4}\r\nb NOOP\r\n") == std::vector<std::string>{"LIT 4", "CMD b NOOP []"});
}

TEST_CASE("RFC 7888 §3: non-synchronizing literals", "[parser]") {
    CHECK(whole("A001 LOGIN {11+}\r\nFRED FOOBAR {7+}\r\nfat man\r\n") ==
          std::vector<std::string>{"CMD A001 LOGIN [L:FRED FOOBAR L:fat man]"});
}

TEST_CASE("RFC 3501 §9: parenthesised lists, nesting and empty lists", "[parser]") {
    CHECK(whole("a STORE 1 +FLAGS (\\Seen \\Deleted)\r\n") ==
          std::vector<std::string>{"CMD a STORE [A:1 A:+FLAGS (A:\\Seen A:\\Deleted)]"});
    CHECK(whole("a X (() (a (b)) \"q\")\r\n") ==
          std::vector<std::string>{"CMD a X [(() (A:a (A:b)) Q:q)]"});
    CHECK(whole("a X (a\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a Unclosed parenthesis", "CMD b NOOP []"});
    CHECK(whole("a X a)\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a Unexpected ')'", "CMD b NOOP []"});
}

TEST_CASE("RFC 3501 §6.4.5: BODY sections keep spaces and parentheses", "[parser]") {
    CHECK(whole("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> UID)\r\n") ==
          std::vector<std::string>{
              "CMD a FETCH [A:1 (A:BODY.PEEK[HEADER.FIELDS (From To)]<0.100> A:UID)]"});
    CHECK(whole("a FETCH 1 BODY[1.2.MIME]\r\n") ==
          std::vector<std::string>{"CMD a FETCH [A:1 A:BODY[1.2.MIME]]"});
    // Elsewhere '[' is an ordinary ATOM-CHAR.
    CHECK(whole("a LOGIN us[er pw\r\n") == std::vector<std::string>{"CMD a LOGIN [A:us[er A:pw]"});
    CHECK(whole("a FETCH 1 body.peek[TEXT\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a Unterminated '['", "CMD b NOOP []"});
}

TEST_CASE("RFC 3501 §9: malformed input gets an error and the stream stays in sync", "[parser]") {
    CHECK(whole("a NO\0OP\r\nb NOOP\r\n"s) ==
          std::vector<std::string>{"ERR a NUL byte in command", "CMD b NOOP []"});
    CHECK(whole("a LOGIN fr\xc3\xa9 x\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a 8-bit byte outside a quoted string or literal",
                                   "CMD b NOOP []"});
    CHECK(whole("a LOGIN {5\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a Invalid literal size", "CMD b NOOP []"});
    CHECK(whole("a LOGIN {x}\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a Invalid literal size", "CMD b NOOP []"});
    CHECK(whole("a  NOOP\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a Missing command name", "CMD b NOOP []"});
    CHECK(whole("a NOOP \r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a Missing argument after space", "CMD b NOOP []"});
    CHECK(whole("a\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a Missing command name", "CMD b NOOP []"});
    CHECK(whole("a+b NOOP\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR  Invalid character in tag", "CMD b NOOP []"});
    CHECK(whole(std::string(129, 't') + " NOOP\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR  Tag too long", "CMD b NOOP []"});
    CHECK(whole(std::string(128, 't') + " NOOP\r\n") ==
          std::vector<std::string>{"CMD " + std::string(128, 't') + " NOOP []"});
    CHECK(whole(" NOOP\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR  Missing tag", "CMD b NOOP []"});
    CHECK(whole("a NOOP\rb NOOP\r\nc NOOP\r\n") ==
          std::vector<std::string>{"ERR a CR not followed by LF", "CMD c NOOP []"});
}

TEST_CASE("RFC 2683 §3.2.1.1: empty lines are ignored; bare LF ends a line", "[parser]") {
    CHECK(whole("\r\n\r\na NOOP\nb NOOP\r\n") ==
          std::vector<std::string>{"CMD a NOOP []", "CMD b NOOP []"});
}

TEST_CASE("Limits: line length", "[parser][limits]") {
    ParserLimits limits;
    limits.max_line_length = 64;
    const std::string long_line = "a LOGIN " + std::string(200, 'x') + " y\r\nb NOOP\r\n";
    CHECK(whole(long_line, limits) ==
          std::vector<std::string>{"ERR a Command line too long [TOOBIG]", "CMD b NOOP []"});
    // Literal data does not count toward the line length.
    const std::string lit = "a LOGIN {100}\r\n" + std::string(100, 'x') + " y\r\n";
    CHECK(whole(lit, limits) ==
          std::vector<std::string>{"LIT 100", "CMD a LOGIN [L:" + std::string(100, 'x') + " A:y]"});
}

TEST_CASE("Limits: literal size, synchronizing and not (RFC 7888 §4)", "[parser][limits]") {
    ParserLimits limits;
    limits.max_literal_size = 10;
    // Refused before any data is sent: the next line is a new command.
    CHECK(whole("a LOGIN {11}\r\nb NOOP\r\n", limits) ==
          std::vector<std::string>{"ERR a Literal too large [TOOBIG]", "CMD b NOOP []"});
    CHECK(whole("a LOGIN {4294967295}\r\nb NOOP\r\n", limits) ==
          std::vector<std::string>{"ERR a Literal too large [TOOBIG]", "CMD b NOOP []"});
    CHECK(whole("a LOGIN {4294967296}\r\nb NOOP\r\n", limits) ==
          std::vector<std::string>{"ERR a Literal size out of range [TOOBIG]", "CMD b NOOP []"});
    // Non-synchronizing: the data arrives anyway and is discarded, including
    // further literals of the same command.
    const std::string plus =
        "a LOGIN {20+}\r\n" + std::string(20, 'z') + " {3+}\r\nabc\r\nb NOOP\r\n";
    CHECK(whole(plus, limits) ==
          std::vector<std::string>{"ERR a Literal too large [TOOBIG]", "CMD b NOOP []"});
}

TEST_CASE("Limits: nesting depth and argument count", "[parser][limits]") {
    ParserLimits limits;
    limits.max_depth = 8;
    const std::string deep =
        "a X " + std::string(5000, '(') + std::string(5000, ')') + "\r\nb NOOP\r\n";
    ParserLimits roomy = limits;
    roomy.max_line_length = 20000;
    CHECK(whole(deep, roomy) ==
          std::vector<std::string>{"ERR a Lists nested too deeply", "CMD b NOOP []"});
    Harness h({}, 16384, 4);
    CHECK(h.run("a X 1 2 3 4 5\r\nb NOOP 1\r\n") ==
          std::vector<std::string>{"ERR a Too many arguments", "CMD b NOOP [A:1]"});
}

TEST_CASE("RFC 3502 / DESIGN: APPEND's literal streams to the caller in chunks", "[parser]") {
    Harness h;
    h.stream_literals = true;
    const std::string message(100000, 'm');
    CHECK(h.run("a APPEND INBOX (\\Seen) {100000}\r\n" + message + " {3+}\r\nxyz\r\n",
                {40, 5000, 70000}) ==
          std::vector<std::string>{"STREAM 100000", "STREAM 3",
                                   "CMD a APPEND [A:INBOX (A:\\Seen) S:100000 S:3]"});
    CHECK(h.streamed == message + "xyz");
}

TEST_CASE("RFC 3501 §6.2.2, RFC 2177: raw lines after AUTHENTICATE and IDLE", "[parser]") {
    Harness h;
    CHECK(h.run("a IDLE\r\n") == std::vector<std::string>{"CMD a IDLE []"});
    h.parser.expect_line();
    CHECK(h.run("DONE\r\nb NOOP\r\n", {2}) ==
          std::vector<std::string>{"LINE DONE", "CMD b NOOP []"});
    h.parser.expect_line();
    CHECK(h.run("dGVzdAB0ZXN0AHRlc3Q=\n") == std::vector<std::string>{"LINE dGVzdAB0ZXN0AHRlc3Q="});
}

TEST_CASE("Limits: the command arena", "[parser][limits]") {
    Harness h({}, 32);
    CHECK(h.run("a LOGIN " + std::string(40, 'x') + "\r\nb NOOP\r\n") ==
          std::vector<std::string>{"ERR a Command too large", "CMD b NOOP []"});
}

TEST_CASE("Pipelined commands come out in order", "[parser]") {
    std::string input;
    std::vector<std::string> expected;
    for (int i = 0; i < 50; ++i) {
        input += "t" + std::to_string(i) + " NOOP\r\n";
        expected.push_back("CMD t" + std::to_string(i) + " NOOP []");
    }
    CHECK(whole(input) == expected);
}

TEST_CASE("Incremental: every split point gives the same result", "[parser][split]") {
    const char* corpus[] = {
        "a001 CAPABILITY\r\n",
        "A1 LOGIN {4}\r\nfred {6}\r\nsecret\r\nA2 NOOP\r\n",
        "A001 LOGIN {11+}\r\nFRED FOOBAR {7+}\r\nfat man\r\n",
        "a FETCH 1:*,7 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> FLAGS)\r\n",
        "a STORE 2:4 +FLAGS.SILENT (\\Deleted \\Seen)\r\n",
        "a SEARCH OR (FROM \"x\\\"y\" SINCE 1-Feb-1994) NOT (TO {3}\r\nabc)\r\n",
        "a LOGIN \"abc\r\nb NOOP\r\n",
        "a LOGIN {20+}\r\nzzzzzzzzzzzzzzzzzzzz {3+}\r\nabc\r\nb NOOP\r\n",
        "\r\nx NOOP\nbad+tag X\r\nc LOGOUT\r\n",
    };
    ParserLimits limits;
    limits.max_literal_size = 12;
    for (const char* c : corpus) {
        INFO(c);
        check_every_split(c, limits);
    }
}

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/imap/command.h"

namespace {

// The whole result of feeding `input` in the given chunks, down to the
// command layer's verdict on each command.
std::vector<std::string> run_with_commands(const std::string& input, std::size_t cut) {
    std::vector<char> arena(16384);
    std::vector<Arg> args(512);
    std::vector<FetchItem> items(32);
    std::vector<SearchNode> nodes(64);
    CommandScratch scratch{items.data(), items.size(), nodes.data(), nodes.size(), 4096};
    Parser parser(arena.data(), arena.size(), args.data(), args.size(), ParserLimits{});
    std::vector<std::string> events;
    std::size_t pos = 0;
    const std::size_t ends[2] = {cut, input.size()};
    for (std::size_t end : ends) {
        while (pos < end) {
            Fed fed =
                parser.feed(reinterpret_cast<const std::uint8_t*>(input.data()) + pos, end - pos);
            pos += fed.consumed;
            if (fed.event == ParseEvent::LiteralRequest) {
                if (!parser.accept_literal()) parser.refuse_literal();
                events.push_back("LIT");
            } else if (fed.event == ParseEvent::Error) {
                events.push_back(std::string("ERR ") + parser.error_text());
            } else if (fed.event == ParseEvent::Command) {
                ParsedCommand cmd{ArgReader(parser)};
                const SyntaxResult r = parse_command(parser, scratch, &cmd);
                events.push_back("CMD " + std::string(parser.tag()) + " " +
                                 std::to_string(static_cast<int>(r.verdict)) + " " + r.why);
            }
        }
    }
    return events;
}

}  // namespace

// Every example client line of the RFCs in tests/fuzz/corpus/fuzz_parser
// (made by tests/fuzz/make_parser_corpus.py), split at every byte.
TEST_CASE("Incremental: the RFC example corpus, split at every byte, parses the same",
          "[parser][split][corpus]") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(TINYIMAPD_SOURCE_DIR) / "tests/fuzz/corpus/fuzz_parser";
    std::size_t files = 0, commands_ok = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::ifstream f(entry.path(), std::ios::binary);
        std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (data.size() < 2 || data[0] != 0) continue;  // one copy of each example
        data.erase(0, 1);
        ++files;
        const auto expected = run_with_commands(data, data.size());
        for (const auto& e : expected)
            commands_ok += e.rfind("CMD ", 0) == 0 && e[e.find(' ', 4) + 1] == '0';
        for (std::size_t k = 0; k < data.size(); ++k) {
            if (run_with_commands(data, k) != expected) {
                FAIL_CHECK(entry.path().filename().string() << " differs when split at " << k);
                break;
            }
        }
    }
    INFO(files << " examples, " << commands_ok << " valid commands");
    CHECK(files > 500);
    // Most RFC examples are valid commands of the grammar we speak.
    CHECK(commands_ok > 300);
}

TEST_CASE("RFC 2971 §3.3: within ID, strings keep their head and the line may be 64 KiB",
          "[parser][split]") {
    const std::string v1(1024, 'a'), v2(100, 'b');
    const std::string id =
        "t ID (\"name\" \"" + v1 + "\" \"os\" {100}\r\n" + v2 + ")\r\nn NOOP\r\n";
    ParserLimits small;
    small.max_line_length = 1024;  // the ID line is longer; other lines are held to it
    Harness h(small, 1024);
    const std::vector<std::string> expected = {"LIT 100",
                                               "CMD t ID [(Q:name Q:" + v1.substr(0, kIdKeptBytes) +
                                                   " Q:os L:" + v2.substr(0, kIdKeptBytes) + ")]",
                                               "CMD n NOOP []"};
    CHECK(h.run(id) == expected);
    for (std::size_t k = 0; k <= id.size(); k += 7) {
        Harness split(small, 1024);
        INFO("split at " << k);
        CHECK(split.run(id, {k}) == expected);
    }
    // Past the RFC's 1024 octets, and past 64 KiB: errors, then resync.
    CHECK(whole("t ID (\"name\" \"" + v1 + "x\")\r\nn NOOP\r\n") ==
          std::vector<std::string>{"ERR t ID string longer than 1024 octets", "CMD n NOOP []"});
    std::string huge = "t ID (";
    while (huge.size() <= kIdMaxLine) huge += "\"f\" \"" + std::string(1000, 'v') + "\" ";
    Harness many(ParserLimits{}, 16384, 512);
    CHECK(many.run(huge + ")\r\nn NOOP\r\n") ==
          std::vector<std::string>{"ERR t Command line too long [TOOBIG]", "CMD n NOOP []"});
    // Not ID: the configured line length holds.
    Harness other(small, 1024);
    CHECK(other.run("t IDX \"" + v1 + "\"\r\nn NOOP\r\n") ==
          std::vector<std::string>{"ERR t Command line too long [TOOBIG]", "CMD n NOOP []"});
}

TEST_CASE("RFC 2177, RFC 3501 §6.2.2: an over-long raw line is skipped as plain bytes",
          "[parser]") {
    ParserLimits small;
    small.max_line_length = 1024;
    Harness h(small);
    h.parser.expect_line();
    CHECK(h.run(std::string(2000, 'x') + " {5+}\r\nn NOOP\r\n") ==
          std::vector<std::string>{"ERR  Line too long [TOOBIG]", "CMD n NOOP []"});
}
