// FramingCheck (core/imap/framing.h): what a well-framed server stream is
// (RFC 3501 §2.2.2, §4.3, §7, §9), fed whole and at every split point.
#include <catch2/catch.hpp>

#include <string>

#include "core/imap/framing.h"

using tinyimapd::imap::FramingCheck;

namespace {

// "" when `stream` is well framed however it is cut in two; else the error.
std::string verdict(const std::string& stream) {
    std::string first;
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        FramingCheck f;
        const bool ok = f.feed(stream.substr(0, cut)) && f.feed(stream.substr(cut));
        const std::string got = ok ? "" : f.error();
        if (cut == 0) {
            first = got;
        } else {
            CHECK(got == first);  // the same verdict at every split
        }
    }
    return first;
}

}  // namespace

TEST_CASE("FramingCheck: server responses of RFC 3501 §7 pass at every split", "[framing]") {
    CHECK(verdict("* OK [CAPABILITY IMAP4rev1 LITERAL+] tinyimapd ready\r\n") == "");
    CHECK(verdict("* FLAGS (\\Answered \\Seen $Junk)\r\n"
                  "* OK [PERMANENTFLAGS (\\Answered \\Seen $Junk \\*)] Flags permitted\r\n"
                  "* 3 EXISTS\r\n* 0 RECENT\r\na1 OK [READ-WRITE] SELECT completed\r\n") == "");
    // §7.4.2 with a literal holding CR, LF, parentheses and quotes.
    CHECK(verdict("* 1 FETCH (UID 1 BODY[HEADER.FIELDS (From)] {13}\r\n(\"a\r\nb)]{3}\r\n"
                  " FLAGS (\\Seen))\r\nf OK FETCH completed\r\n") == "");
    CHECK(verdict("* 1 FETCH (BODY[]<0> {0}\r\n)\r\n") == "");
    // A quoted string with escapes; an astring atom with "]" (§9 ASTRING-CHAR).
    CHECK(verdict("* LIST (\\HasNoChildren) \"/\" \"a\\\"(b\"\r\n* LIST () \"/\" x]\r\n") == "");
    // resp-text is free text, parentheses included (§7.1).
    CHECK(verdict("a BAD Unknown command (oops\r\n+ Ready for literal data\r\n+ \r\n") == "");
    CHECK(verdict("* NO [BADCHARSET (US-ASCII UTF-8)] unknown charset\r\n") == "");
    CHECK(verdict("* SEARCH 1 2 (MODSEQ 5)\r\n* SEARCH\r\n* BYE bye\r\n") == "");
    // A stream may end anywhere (a connection closed mid-line is not a framing error).
    CHECK(verdict("* 1 FETCH (BODY[] {100}\r\npartial") == "");
}

TEST_CASE("FramingCheck: answers cut short or run together are refused", "[framing]") {
    // The STORE answer of issue 12.3: cut before ")" CRLF, then the next line.
    CHECK(verdict("* 1 FETCH (FLAGS (\\Seen $a\r\n") ==
          "unbalanced parentheses or brackets at the end of a line");
    CHECK(verdict("* 1 FETCH (FLAGS (\\Seen $a* 2 EXISTS\r\n") ==
          "unbalanced parentheses or brackets at the end of a line");
    CHECK(verdict("* * * 1 EXISTS\r\n") == "an untagged line without a response name");
    CHECK(verdict("a OK done\n") == "LF without CR");
    CHECK(verdict("a OK done\rb OK\r\n") == "CR without LF");
    CHECK(verdict("a FETCH done\r\n") == "a tagged line that is not OK, NO or BAD");
    CHECK(verdict("(oops)\r\n") == "a line that starts with neither '*', '+' nor a tag");
    CHECK(verdict("*OK\r\n") == "'*' or '+' not followed by SP");
    CHECK(verdict("* OK [ALERT oops\r\n") == "a response code not closed on its line");
    CHECK(verdict("* LIST () \"/\" \"a\r\nb\"\r\n") == "CR or LF inside a quoted string");
    // Fewer bytes than announced: the literal swallows the rest of its line.
    CHECK(verdict("* 1 FETCH (BODY[] {3}\r\nab)\r\na OK\r\n") ==
          "unbalanced parentheses or brackets at the end of a line");
    CHECK(verdict("* 1 FETCH (BODY[] {3} x\r\n") ==
          "a literal announcement not at the end of its line");
    CHECK(verdict("* 1 FETCH (X {a}\r\n") == "'{' that does not announce a literal");
    CHECK(verdict(std::string("* OK a\0b\r\n", 10)) == "NUL outside a literal");
}
