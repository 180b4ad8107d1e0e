// Tests for core/imap/store_spec: RFC 3501 §6.4.6 STORE and §9
// store-att-flags; RFC 4466 §2.5 store-modifiers; RFC 7162 §3.1.3
// UNCHANGEDSINCE.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/imap/store_spec.h"

using namespace tinyimapd::imap;

namespace {

struct Command {
    std::vector<char> arena = std::vector<char>(8192);
    std::vector<Arg> args = std::vector<Arg>(128);
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
};

struct Stored {
    std::unique_ptr<Command> cmd;
    std::unique_ptr<StoreSpec> spec;
    bool ok = false;
    bool at_end = false;
    std::string why;
    std::string reader_error;

    // The flags as the reader sees them: "(a b)" for a list, "a b" for atoms.
    std::string flags() const {
        ArgReader r = spec->flags;
        std::string out;
        if (spec->flags_in_list) {
            ArgReader inner = r;
            REQUIRE(r.list(&inner));
            CHECK(r.at_end());
            std::string_view a;
            while (inner.atom(&a)) out += (out.empty() ? "" : " ") + std::string(a);
            CHECK(inner.at_end());
            return "(" + out + ")";
        }
        std::string_view a;
        while (r.atom(&a)) out += (out.empty() ? "" : " ") + std::string(a);
        CHECK(r.at_end());
        return out;
    }
};

// Parses a whole STORE or UID STORE command line (without CRLF).
Stored store(const std::string& line) {
    Stored s;
    s.cmd = std::make_unique<Command>(line + "\r\n");
    REQUIRE(s.cmd->ok);
    // Skip the sequence set (and, for UID STORE, the word STORE before it).
    ArgReader r(s.cmd->parser);
    if (s.cmd->parser.name() == "UID") REQUIRE(r.word("STORE"));
    REQUIRE(r.skip());
    s.spec = std::make_unique<StoreSpec>(r);
    const char* why = "";
    s.ok = parse_store_spec(r, s.spec.get(), &why);
    s.why = why;
    s.reader_error = r.error();
    s.at_end = r.at_end();
    return s;
}

std::string error_of(const std::string& line) {
    const Stored s = store(line);
    if (s.ok) return "OK";
    CHECK(s.reader_error == s.why);
    return s.why;
}

}  // namespace

TEST_CASE("RFC 3501 §6.4.6: STORE +FLAGS with a flag list", "[store]") {
    // The example of §6.4.6.
    const Stored s = store("A003 STORE 2:4 +FLAGS (\\Deleted)");
    REQUIRE(s.ok);
    CHECK(s.at_end);
    CHECK(s.spec->op == StoreOp::Add);
    CHECK_FALSE(s.spec->silent);
    CHECK_FALSE(s.spec->has_unchangedsince);
    CHECK(s.spec->flags_in_list);
    CHECK(s.flags() == "(\\Deleted)");
}

TEST_CASE("RFC 3501 §6.4.6: FLAGS, +FLAGS, -FLAGS and .SILENT", "[store]") {
    struct Case {
        const char* att;
        StoreOp op;
        bool silent;
    };
    const Case cases[] = {
        {"FLAGS", StoreOp::Replace, false},       {"FLAGS.SILENT", StoreOp::Replace, true},
        {"+FLAGS", StoreOp::Add, false},          {"+FLAGS.SILENT", StoreOp::Add, true},
        {"-FLAGS", StoreOp::Remove, false},       {"-FLAGS.SILENT", StoreOp::Remove, true},
        {"flags", StoreOp::Replace, false},       {"+Flags.Silent", StoreOp::Add, true},
        {"-flags.silent", StoreOp::Remove, true},
    };
    for (const Case& c : cases) {
        INFO(c.att);
        const Stored s = store(std::string("a STORE 1 ") + c.att + " (\\Seen $Junk)");
        REQUIRE(s.ok);
        CHECK(s.spec->op == c.op);
        CHECK(s.spec->silent == c.silent);
        CHECK(s.flags() == "(\\Seen $Junk)");
    }
}

TEST_CASE("RFC 3501 §9 store-att-flags: flags without parentheses", "[store]") {
    Stored s = store("a STORE 1 -FLAGS \\Seen");
    REQUIRE(s.ok);
    CHECK(s.at_end);
    CHECK(s.spec->op == StoreOp::Remove);
    CHECK_FALSE(s.spec->flags_in_list);
    CHECK(s.flags() == "\\Seen");

    s = store("a STORE 1:* FLAGS.SILENT \\Seen \\Deleted $Forwarded");
    REQUIRE(s.ok);
    CHECK(s.spec->silent);
    CHECK(s.spec->flags.remaining() == 3);
    CHECK(s.flags() == "\\Seen \\Deleted $Forwarded");

    // An empty flag-list is valid: FLAGS () clears every flag.
    s = store("a STORE 1 FLAGS ()");
    REQUIRE(s.ok);
    CHECK(s.spec->flags_in_list);
    CHECK(s.flags() == "()");

    s = store("a UID STORE 4:7 +FLAGS ($MDNSent)");
    REQUIRE(s.ok);
    CHECK(s.flags() == "($MDNSent)");
}

TEST_CASE("RFC 7162 §3.1.3: the UNCHANGEDSINCE store modifier", "[store]") {
    // Example 3.
    Stored s = store("a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted)");
    REQUIRE(s.ok);
    CHECK(s.at_end);
    CHECK(s.spec->has_unchangedsince);
    CHECK(s.spec->unchangedsince == 12121230045u);
    CHECK(s.spec->op == StoreOp::Add);
    CHECK(s.spec->silent);
    CHECK(s.flags() == "(\\Deleted)");

    // Example 4.
    s = store("a104 STORE * (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted $Processed)");
    REQUIRE(s.ok);
    CHECK(s.flags() == "(\\Deleted $Processed)");

    // Example 5.
    s = store("c101 STORE 50 (UNCHANGEDSINCE 12121230045) -FLAGS.SILENT (\\Deleted)");
    REQUIRE(s.ok);
    CHECK(s.spec->op == StoreOp::Remove);

    // Example 7: mod-sequence-valzer allows 0 (the test then always fails).
    s = store("a102 STORE 12 (UNCHANGEDSINCE 0) +FLAGS.SILENT ($MDNSent)");
    REQUIRE(s.ok);
    CHECK(s.spec->has_unchangedsince);
    CHECK(s.spec->unchangedsince == 0);

    s = store("a STORE 1 (unchangedsince 9223372036854775807) FLAGS \\Seen");
    REQUIRE(s.ok);
    CHECK(s.spec->unchangedsince == 9223372036854775807u);
    CHECK(s.flags() == "\\Seen");

    CHECK_FALSE(store("a STORE 1 FLAGS \\Seen").spec->has_unchangedsince);

    CHECK(error_of("a STORE 1 (UNCHANGEDSINCE 9223372036854775808) FLAGS \\Seen") ==
          "Invalid UNCHANGEDSINCE value");
    CHECK(error_of("a STORE 1 (UNCHANGEDSINCE) FLAGS \\Seen") == "Invalid UNCHANGEDSINCE value");
    CHECK(error_of("a STORE 1 (UNCHANGEDSINCE -1) FLAGS \\Seen") == "Invalid UNCHANGEDSINCE value");
    CHECK(error_of("a STORE 1 (UNCHANGEDSINCE \"5\") FLAGS \\Seen") ==
          "Invalid UNCHANGEDSINCE value");
    // "Only a single UNCHANGEDSINCE may be specified in a STORE operation."
    CHECK(error_of("a STORE 1 (UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS \\Seen") ==
          "Duplicate UNCHANGEDSINCE");
    CHECK(error_of("a STORE 1 () FLAGS \\Seen") == "Empty store modifier list");
    CHECK(error_of("a STORE 1 (FOO 1) FLAGS \\Seen") == "Unknown store modifier");
    CHECK(error_of("a STORE 1 ((UNCHANGEDSINCE 1)) FLAGS \\Seen") == "Unknown store modifier");
    CHECK(error_of("a STORE 1 (UNCHANGEDSINCE 1)") == "Missing FLAGS, +FLAGS or -FLAGS");
    CHECK(error_of("a STORE 1 (UNCHANGEDSINCE 1) (UNCHANGEDSINCE 2) FLAGS \\Seen") ==
          "Expected FLAGS, +FLAGS or -FLAGS");
    // The modifiers come before the operation, not after.
    CHECK(error_of("a STORE 1 FLAGS (\\Seen) (UNCHANGEDSINCE 1)") ==
          "Unexpected argument after flag list");
}

TEST_CASE("RFC 3501 §9 store-att-flags: malformed operations and flags", "[store]") {
    CHECK(error_of("a STORE 1") == "Missing FLAGS, +FLAGS or -FLAGS");
    CHECK(error_of("a STORE 1 FLAGS") == "Missing flags");
    CHECK(error_of("a STORE 1 +FLAGS.SILENT") == "Missing flags");
    CHECK(error_of("a STORE 1 \"FLAGS\" \\Seen") == "Expected FLAGS, +FLAGS or -FLAGS");
    CHECK(error_of("a STORE 1 (\\Seen) FLAGS") == "Unknown store modifier");
    for (const char* att : {"*FLAGS", "+-FLAGS", "++FLAGS", "+FLAGSX", "FLAGS.SILENTX", "FLAGS.",
                            "+", "-", "FLAG", "+FLAGS.NOISY", "SILENT"}) {
        INFO(att);
        CHECK(error_of(std::string("a STORE 1 ") + att + " \\Seen") ==
              "Expected FLAGS, +FLAGS or -FLAGS");
    }
    CHECK(error_of("a STORE 1 FLAGS (\\Seen) (\\Deleted)") ==
          "Unexpected argument after flag list");
    CHECK(error_of("a STORE 1 FLAGS (\\Seen) \\Deleted") == "Unexpected argument after flag list");
    CHECK(error_of("a STORE 1 FLAGS \\Seen (\\Deleted)") == "Invalid flag");
    CHECK(error_of("a STORE 1 FLAGS \\Seen \"$Junk\"") == "Invalid flag");
    CHECK(error_of("a STORE 1 FLAGS \"\\\\Seen\"") == "Invalid flag");
    CHECK(error_of("a STORE 1 FLAGS {5}\r\n\\Seen") == "Invalid flag");
}
