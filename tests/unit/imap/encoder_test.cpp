// Tests for core/imap/encoder: string forms (RFC 3501 §4.3, §9), lists,
// response codes and status lines (§7.1), continuation requests (§7.5),
// literal streaming (DESIGN.md "resumable jobs"), and the round trip of
// every encoded string through our own parser.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "core/imap/encoder.h"
#include "core/imap/parser.h"

using namespace tinyimapd;
using namespace tinyimapd::imap;
using namespace std::string_literals;

namespace {

struct Line {
    FixedText<4096> text;
    ResponseWriter w{text};
    std::string str() const { return std::string(w.view()); }
};

std::string encode_string(const std::string& s) {
    Line l;
    l.w.string(s);
    REQUIRE(l.w.ok());
    return l.str();
}

std::string encode_astring(const std::string& s) {
    Line l;
    l.w.astring(s);
    REQUIRE(l.w.ok());
    return l.str();
}

// Parses "a X <encoded>\r\n" and returns the single argument's bytes and type.
struct Parsed {
    bool ok = false;
    ArgType type = ArgType::Atom;
    std::string bytes;
};

Parsed parse_back(const std::string& encoded) {
    std::vector<char> arena(70000);
    std::vector<Arg> args(8);
    ParserLimits limits;
    limits.max_literal_size = 65536;
    Parser parser(arena.data(), arena.size(), args.data(), args.size(), limits);
    const std::string input = "a X " + encoded + "\r\n";
    const auto* p = reinterpret_cast<const std::uint8_t*>(input.data());
    std::size_t pos = 0;
    Parsed result;
    while (pos < input.size()) {
        Fed fed = parser.feed(p + pos, input.size() - pos);
        pos += fed.consumed;
        if (fed.event == ParseEvent::LiteralRequest) {
            if (!parser.accept_literal()) return result;
        } else if (fed.event == ParseEvent::Error || fed.event == ParseEvent::LiteralChunk ||
                   fed.event == ParseEvent::Line) {
            return result;
        } else if (fed.event == ParseEvent::Command) {
            if (pos != input.size() || parser.arg_count() != 1) return result;
            result.ok = true;
            result.type = parser.arg(0).type;
            result.bytes = std::string(parser.arg_text(0));
        }
    }
    return result;
}

// A source over a string that can fail at a given offset or return short.
class FakeSource final : public ByteSource {
public:
    explicit FakeSource(std::string data) : data_(std::move(data)) {}
    std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) override {
        ++calls;
        CHECK(offset == expected_offset_);
        if (offset >= fail_at || offset >= data_.size()) return 0;
        std::size_t n = std::min<std::size_t>(capacity, data_.size() - offset);
        if (max_read != 0 && n > max_read) n = max_read;
        if (offset + n > fail_at) n = static_cast<std::size_t>(fail_at - offset);
        data_.copy(out, n, offset);
        expected_offset_ = offset + n;
        return n;
    }
    std::uint64_t size() const override { return data_.size(); }
    std::uint64_t fail_at = UINT64_MAX;
    std::size_t max_read = 0;
    int calls = 0;

private:
    std::string data_;
    std::uint64_t expected_offset_ = 0;
};

}  // namespace

TEST_CASE("RFC 3501 §4.3: string() chooses quoted or literal by content", "[encoder]") {
    CHECK(encode_string("") == "\"\"");
    CHECK(encode_string("hello world") == "\"hello world\"");
    CHECK(encode_string("NIL") == "\"NIL\"");
    CHECK(encode_string("tab\there ~(){}%*]") == "\"tab\there ~(){}%*]\"");
    // quote and backslash: literal, not escapes (see encoder.h)
    CHECK(encode_string("say \"hi\"") == "{8}\r\nsay \"hi\"");
    CHECK(encode_string("a\\b") == "{3}\r\na\\b");
    // CR, LF, NUL, 8-bit: only a literal can carry them
    CHECK(encode_string("a\rb") == "{3}\r\na\rb");
    CHECK(encode_string("a\nb") == "{3}\r\na\nb");
    CHECK(encode_string("a\0b"s) == "{3}\r\na\0b"s);
    CHECK(encode_string("caf\xc3\xa9") == "{5}\r\ncaf\xc3\xa9");
    CHECK(encode_string("\x7f") == "\"\x7f\"");
    CHECK(string_form("\x80") == StringForm::Literal);
    CHECK(string_form("\x01") == StringForm::Quoted);
}

TEST_CASE("RFC 3501 §9: astring is an atom only when unambiguous", "[encoder]") {
    CHECK(encode_astring("fred") == "fred");
    CHECK(encode_astring("a]b") == "a]b");  // resp-specials are ASTRING-CHARs
    CHECK(encode_astring("") == "\"\"");
    CHECK(encode_astring("two words") == "\"two words\"");
    CHECK(encode_astring("NIL") == "\"NIL\"");
    CHECK(encode_astring("nil") == "\"nil\"");
    CHECK(encode_astring("NILS") == "NILS");
    for (std::string special : {"a(b", "a)b", "a{b", "a%b", "a*b", "a[b", "a\x01"}) {
        INFO(special);
        CHECK(encode_astring(special) == "\"" + special + "\"");
    }
    CHECK(encode_astring("a\"b") == "{3}\r\na\"b");
    CHECK(encode_astring("a\\b") == "{3}\r\na\\b");
    CHECK(encode_astring("\xc3\xa9") == "{2}\r\n\xc3\xa9");
}

TEST_CASE("RFC 3501 §9: nstring is NIL or a string, never an atom", "[encoder]") {
    Line l;
    l.w.nstring("NIL", false).nstring("", true).nstring("", false).nstring("x", false);
    CHECK(l.str() == "\"NIL\" NIL \"\" \"x\"");
}

TEST_CASE("RFC 3501 §5.1: mailbox writes any case of INBOX as INBOX", "[encoder]") {
    Line l;
    l.w.mailbox("inbox")
        .mailbox("InBoX")
        .mailbox("inbox/x")
        .mailbox("Sent Items")
        .mailbox("&U,BTFw-");
    CHECK(l.str() == "INBOX INBOX inbox/x \"Sent Items\" &U,BTFw-");
}

TEST_CASE("RFC 3501 §7: lists, numbers and spacing", "[encoder]") {
    Line l;
    l.w.star().number(12).atom("FETCH").open_list();
    l.w.atom("FLAGS").open_list().atom("\\Seen").atom("\\Answered").close_list();
    l.w.atom("UID").number(4294967295u).atom("ENVELOPE").open_list().nil().string("x").close_list();
    l.w.atom("X").open_list().close_list();
    l.w.close_list().crlf();
    CHECK(l.w.ok());
    CHECK(l.str() ==
          "* 12 FETCH (FLAGS (\\Seen \\Answered) UID 4294967295 ENVELOPE (NIL \"x\") X ())\r\n");

    Line nested;
    nested.w.open_list().open_list().open_list().close_list().close_list().number(0).close_list();
    CHECK(nested.str() == "((()) 0)");
}

TEST_CASE("RFC 3501 §7.1, RFC 5530: response codes", "[encoder]") {
    Line l;
    l.w.star().atom("OK").code("ALERT").text("Look");
    l.w.crlf();
    l.w.tag("a1").atom("OK").open_code("APPENDUID").number(38505).number(3955).close_code();
    l.w.text("APPEND completed").crlf();
    l.w.star().atom("OK").open_code("PERMANENTFLAGS").open_list().atom("\\Deleted").atom("\\*");
    l.w.close_list().close_code().text("Limited").crlf();
    CHECK(l.w.ok());
    CHECK(l.str() ==
          "* OK [ALERT] Look\r\n"
          "a1 OK [APPENDUID 38505 3955] APPEND completed\r\n"
          "* OK [PERMANENTFLAGS (\\Deleted \\*)] Limited\r\n");

    Line bad;
    bad.w.code("A]B");
    CHECK(bad.w.invalid());
    Line bad2;
    bad2.w.code("TWO WORDS");
    CHECK_FALSE(bad2.w.ok());
}

TEST_CASE("RFC 3501 §7.1: tagged and untagged status lines", "[encoder]") {
    Line l;
    l.w.tagged("a001", "OK", "", "LOGIN completed");
    l.w.tagged("a002", "NO", "TRYCREATE", "No such mailbox");
    l.w.untagged("OK", "UIDVALIDITY 3857529045", "UIDs valid");
    l.w.untagged("BYE", "", "Logging out");
    l.w.tagged("", "BAD", "", "Missing tag");
    CHECK(l.w.ok());
    CHECK(l.str() ==
          "a001 OK LOGIN completed\r\n"
          "a002 NO [TRYCREATE] No such mailbox\r\n"
          "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
          "* BYE Logging out\r\n"
          "* BAD Missing tag\r\n");
}

TEST_CASE("RFC 3501 §9: resp-text is sanitised; text is never empty", "[encoder]") {
    Line l;
    l.w.tagged("t", "NO", "", "bad\r\n* OK injected\0x\xff"s);
    CHECK(l.str() == "t NO bad  * OK injected x?\r\n");
    Line lead;
    lead.w.tagged("t", "BAD", "", "[ALERT] not a code");
    CHECK(lead.str() == "t BAD (ALERT] not a code\r\n");
    Line empty;
    empty.w.tagged("t", "OK", "", "").tagged("t", "NO", "", "").untagged("BAD", "", "");
    CHECK(empty.str() == "t OK completed\r\nt NO failed\r\n* BAD invalid\r\n");

    Line bad_code;
    bad_code.w.tagged("t", "NO", "X\r\nY", "z");
    CHECK(bad_code.w.invalid());
    Line bad_tag;
    bad_tag.w.tagged("a b", "OK", "", "z");
    CHECK(bad_tag.w.invalid());
    Line bad_atom;
    bad_atom.w.atom("FL\rAGS");
    CHECK(bad_atom.w.invalid());
    Line empty_atom;
    empty_atom.w.atom("");
    CHECK(empty_atom.w.invalid());
}

TEST_CASE("RFC 3501 §7.5: continuation requests", "[encoder]") {
    Line l;
    l.w.continuation("Ready for literal data").continuation("").continuation("dGVzdA==");
    CHECK(l.str() == "+ Ready for literal data\r\n+ \r\n+ dGVzdA==\r\n");
}

TEST_CASE("Overflow is sticky and append_to is all-or-nothing", "[encoder]") {
    FixedText<10> small;
    ResponseWriter w(small);
    w.tagged("a", "OK", "", "this does not fit");
    CHECK(w.overflowed());
    CHECK_FALSE(w.ok());
    char storage[64];
    OutBuffer out(storage, sizeof storage);
    CHECK_FALSE(w.append_to(out));
    CHECK(out.empty());

    FixedText<64> text;
    ResponseWriter ok(text);
    ok.tagged("a", "OK", "", "done");
    char tiny_storage[8];
    OutBuffer tiny(tiny_storage, sizeof tiny_storage);
    CHECK_FALSE(ok.append_to(tiny));
    CHECK(tiny.empty());
    CHECK(ok.append_to(out));
    CHECK(out.pending() == "a OK done\r\n");

    // view() covers only what this writer wrote.
    ResponseWriter second(text);
    second.star().atom("OK");
    CHECK(second.view() == "* OK");
}

TEST_CASE("Round trip: string() and astring() parse back to the same bytes", "[encoder]") {
    const std::vector<std::string> cases = {
        "",
        "x",
        "NIL",
        " ",
        "\"",
        "\\",
        "\"\\",
        "a b",
        "\r",
        "\n",
        "\r\n",
        "\0"s,
        "\x80",
        "\xff\xfe",
        "{3}",
        "{3}\r\nabc",
        "(",
        ")",
        "]",
        "[",
        "BODY[",
        "%*",
        "\x01\x7f",
        std::string(300, 'q'),
        std::string(1000, '\n'),
    };
    for (const auto& s : cases) {
        INFO("bytes: " << s);
        const Parsed p = parse_back(encode_string(s));
        CHECK(p.ok);
        CHECK(p.type != ArgType::Atom);
        CHECK(p.bytes == s);
        const Parsed a = parse_back(encode_astring(s));
        CHECK(a.ok);
        CHECK(a.bytes == s);
    }

    std::mt19937 rng(3501);
    const std::string alphabet = "aZ09 \"\\\r\n\0\x80\xff(){}[]%*+-&,~\x01\x7f"s;
    for (int round = 0; round < 2000; ++round) {
        std::string s(rng() % 40, ' ');
        for (char& c : s) {
            c = (rng() % 4 == 0) ? static_cast<char>(rng() % 256)
                                 : alphabet[rng() % alphabet.size()];
        }
        INFO("round " << round);
        const Parsed p = parse_back(encode_string(s));
        REQUIRE(p.ok);
        CHECK(p.bytes == s);
        const Parsed a = parse_back(encode_astring(s));
        REQUIRE(a.ok);
        CHECK(a.bytes == s);
    }
}

TEST_CASE("LiteralStreamer: byte-exact output over many pumps into a tiny buffer", "[encoder]") {
    std::string data;
    for (int i = 0; i < 5000; ++i) data += static_cast<char>(i * 7 % 256);
    for (std::size_t cap : {16u, 17u, 31u, 64u, 4096u}) {
        for (std::size_t max_read : {0u, 1u, 3u}) {
            INFO("out capacity " << cap << ", max read " << max_read);
            FakeSource source(data);
            source.max_read = max_read;
            std::vector<char> storage(cap);
            OutBuffer out(storage.data(), storage.size());
            char scratch[13];
            LiteralStreamer streamer(scratch, sizeof scratch);
            std::string wire;
            StreamStatus st = streamer.start(out, source, data.size());
            int pumps = 0;
            while (st == StreamStatus::Blocked) {
                // The socket takes a few bytes at a time.
                const std::size_t take = std::min<std::size_t>(out.pending_size(), 5);
                wire += out.pending().substr(0, take);
                out.consume(take);
                st = streamer.pump(out);
                REQUIRE(++pumps < 100000);
            }
            CHECK(st == StreamStatus::Done);
            CHECK_FALSE(streamer.active());
            CHECK(streamer.sent() == data.size());
            wire += out.pending();
            CHECK(wire == "{5000}\r\n" + data);
            CHECK(streamer.pump(out) == StreamStatus::Done);
        }
    }
}

TEST_CASE("LiteralStreamer: header waits for room; empty literal", "[encoder]") {
    char storage[8];
    OutBuffer out(storage, sizeof storage);
    CHECK(out.append("12345"));
    FakeSource source("");
    char scratch[4];
    LiteralStreamer streamer(scratch, sizeof scratch);
    CHECK(streamer.start(out, source, 0) == StreamStatus::Blocked);
    CHECK(out.pending() == "12345");  // "{0}\r\n" is 5 bytes: not split
    out.consume(5);
    CHECK(streamer.pump(out) == StreamStatus::Done);
    CHECK(out.pending() == "{0}\r\n");
    CHECK(source.calls == 0);
}

TEST_CASE("LiteralStreamer: a failing or short source is reported, never padded", "[encoder]") {
    const std::string data(100, 'm');
    char storage[32];
    char scratch[8];
    for (std::uint64_t fail_at : {0u, 1u, 50u, 99u}) {
        INFO("fails at " << fail_at);
        FakeSource source(data);
        source.fail_at = fail_at;
        OutBuffer out(storage, sizeof storage);
        LiteralStreamer streamer(scratch, sizeof scratch);
        std::string wire;
        StreamStatus st = streamer.start(out, source, data.size());
        while (st == StreamStatus::Blocked) {
            wire += out.pending();
            out.clear();
            st = streamer.pump(out);
        }
        wire += out.pending();
        CHECK(st == StreamStatus::Failed);
        CHECK(streamer.sent() == fail_at);
        CHECK(wire == "{100}\r\n" + data.substr(0, fail_at));
        // Sticky: the session must close the connection.
        out.clear();
        CHECK(streamer.pump(out) == StreamStatus::Failed);
        CHECK(out.empty());
    }
    // The data is shorter than announced.
    FakeSource shorter("abc");
    OutBuffer out(storage, sizeof storage);
    LiteralStreamer streamer(scratch, sizeof scratch);
    CHECK(streamer.start(out, shorter, 10) == StreamStatus::Failed);
    CHECK(out.pending() == "{10}\r\nabc");
}

TEST_CASE("LiteralStreamer inside a FETCH response", "[encoder]") {
    char storage[256];
    OutBuffer out(storage, sizeof storage);
    FixedText<128> line;
    ResponseWriter w(line);
    w.star().number(1).atom("FETCH").open_list().atom("UID").number(7).atom("BODY[]").sp();
    REQUIRE(w.append_to(out));
    FakeSource source("Subject: x\r\n\r\nhi\r\n");
    char scratch[16];
    LiteralStreamer streamer(scratch, sizeof scratch);
    CHECK(streamer.start(out, source, 18) == StreamStatus::Done);
    FixedText<16> rest_text;
    ResponseWriter rest(rest_text);
    rest.element_written().atom("FLAGS").open_list().close_list().close_list().crlf();
    REQUIRE(rest.append_to(out));
    CHECK(out.pending() ==
          "* 1 FETCH (UID 7 BODY[] {18}\r\nSubject: x\r\n\r\nhi\r\n FLAGS ())\r\n");
}
