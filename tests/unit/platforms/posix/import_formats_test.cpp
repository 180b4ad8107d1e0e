// The mbox and Maildir formats of `tinyimapd import` / `export`
// (platforms/posix/import/mail_formats.h): RFC 4155 (the application/mbox
// media type: "From " separator lines with an asctime date, the blank line
// before a separator, the mboxrd ">From " quoting it describes in §2) and
// the Maildir conventions (https://cr.yp.to/proto/maildir.html "info
// semantics": ":2," then flag letters in ASCII order; Dovecot's lower-case
// keyword letters and its dovecot-keywords file).
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "core/mail/flags.h"
#include "platforms/posix/import/mail_formats.h"

using namespace tinyimapd;
using namespace tinyimapd::posix::mailfmt;

namespace {

std::int64_t from_date(std::string_view line) {
    std::int64_t t = -1;
    return parse_from_date(line, &t) ? t : -1;
}

}  // namespace

TEST_CASE("mbox: the From line's asctime date is read as UTC (RFC 4155 §2)", "[import]") {
    // RFC 4155 §2's example separator.
    CHECK(from_date("From MAILER-DAEMON Fri Jul  8 12:08:34 2011") == 1310126914);
    CHECK(from_date("From user@example.com Wed Jan  3 01:05:34 1996") == 820631134);
    // A zone name before the year, a numeric zone after it (ignored: UTC).
    CHECK(from_date("From user Wed Jan  3 01:05:34 PST 1996") == 820631134);
    CHECK(from_date("From user Wed Jan 3 01:05:34 1996 +0100") == 820631134);
    // Seconds may be left out; the day of the week is not checked.
    CHECK(from_date("From user Mon Jan  3 01:05 1996") == 820631100);
    // Case of the month, tabs between the words.
    CHECK(from_date("From user\tWed\tJAN\t3\t01:05:34\t1996") == 820631134);
    CHECK(from_date("From user Thu Feb 29 23:59:60 2024") == 1709251200);  // leap second
}

TEST_CASE("mbox: a From line without a valid date has none (RFC 4155 §2)", "[import]") {
    for (const char* line : {
             "From user",
             "From ",
             "From user Wed Jxn  3 01:05:34 1996",
             "From user Wed Jan  0 01:05:34 1996",
             "From user Wed Jan 32 01:05:34 1996",
             "From user Wed Feb 30 01:05:34 2011",
             "From user Wed Feb 29 01:05:34 2011",  // not a leap year
             "From user Wed Jan  3 24:05:34 1996",
             "From user Wed Jan  3 01:60:34 1996",
             "From user Wed Jan  3 01:05:61 1996",
             "From user Wed Jan  3 1:5:34:9 1996",
             "From user Wed Jan  3 01:05:34 1969",
             "From user Wed Jan  3 01:05:34 19960",
             "From user Wed Jan 3x 01:05:34 1996",
             "From user Wed Jan +3 01:05:34 1996",
             "From user Wed Jan -3 01:05:34 1996",
             "From user Wed Jan  3 01:05:34",
             "From here on, the body goes on",
             "Subject: Wed Jan  3 01:05:34 1996",
         }) {
        INFO(line);
        CHECK(from_date(line) == -1);
    }
}

TEST_CASE("mbox: export's date is the one import reads back", "[import]") {
    CHECK(format_from_date(0) == "Thu Jan  1 00:00:00 1970");
    CHECK(format_from_date(820631134) == "Wed Jan  3 01:05:34 1996");
    CHECK(format_from_date(1310126914) == "Fri Jul  8 12:08:34 2011");
    CHECK(format_from_date(-5) == "Thu Jan  1 00:00:00 1970");  // before 1970: the epoch
    std::uint64_t x = 12345;
    for (int i = 0; i < 2000; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const auto t = static_cast<std::int64_t>(x % 253402300800ull);  // up to 9999-12-31
        INFO(t);
        CHECK(from_date("From MAILER-DAEMON " + format_from_date(t)) == t);
    }
}

TEST_CASE(
    "mbox: messages split at From lines, the blank line before one is the format's "
    "(RFC 4155 §2)",
    "[import]") {
    const std::string mbox =
        "From a@example.com Wed Jan  3 01:05:34 1996\n"
        "Subject: one\n"
        "\n"
        "body of one\n"
        "\n"
        "\n"
        "From b@example.com Fri Jul  8 12:08:34 2011\r\n"
        "Subject: two\r\n"
        "\r\n"
        "last line without LF";
    std::vector<MboxMessage> got;
    REQUIRE(split_mbox(mbox, &got));
    REQUIRE(got.size() == 2);
    CHECK(got[0].state.date == 820631134);
    CHECK(got[0].state.date_known);
    // One of the two blank lines is the message's, the last is the format's.
    CHECK(got[0].body == "Subject: one\r\n\r\nbody of one\r\n\r\n");
    CHECK(got[1].state.date == 1310126914);
    CHECK(got[1].body == "Subject: two\r\n\r\nlast line without LF");
}

TEST_CASE("mbox: From lines inside a message (RFC 4155 §2, mboxrd quoting)", "[import]") {
    const std::string mbox =
        "From a Wed Jan  3 01:05:34 1996\n"
        "Subject: quoting\n"
        "\n"
        ">From the start, quoted by the writer\n"
        ">>From twice quoted\n"
        ">not a From line\n"
        "From here, after a text line: not a separator\n"
        "\n"
        "From there, after a blank line but with no date: not one either\n"
        "\n"
        "From b Wed Jan  3 01:05:35 1996\n"
        "\n"
        "two\n";
    std::vector<MboxMessage> got;
    REQUIRE(split_mbox(mbox, &got));
    REQUIRE(got.size() == 2);
    CHECK(got[0].body ==
          "Subject: quoting\r\n\r\n"
          "From the start, quoted by the writer\r\n"
          ">From twice quoted\r\n"
          ">not a From line\r\n"
          "From here, after a text line: not a separator\r\n"
          "\r\n"
          "From there, after a blank line but with no date: not one either\r\n");
    CHECK(got[1].body == "\r\ntwo\r\n");
    // What export writes is quoted so that import reads it back.
    CHECK(needs_from_quote("From x"));
    CHECK(needs_from_quote(">From x"));
    CHECK(needs_from_quote(">>>From x"));
    CHECK_FALSE(needs_from_quote("> From x"));
    CHECK_FALSE(needs_from_quote("From"));
    CHECK_FALSE(needs_from_quote("from x"));
}

TEST_CASE("mbox: the state headers give the flags and are consumed; only in the header",
          "[import]") {
    const std::string mbox =
        "From a Wed Jan  3 01:05:34 1996\n"
        "Status: RO\n"
        "Subject: flags\n"
        "X-Status: AFTD\n"
        "X-Keywords: $Forwarded, Junk\n"
        "  NonJunk\n"
        "X-UID: 17\n"
        "x-imapbase: 1 2\n"
        "\n"
        "Status: not a header here\n"
        "\n"
        "From b Wed Jan  3 01:05:35 1996\n"
        "Status: O\n"
        "\n"
        "new\n";
    std::vector<MboxMessage> got;
    REQUIRE(split_mbox(mbox, &got));
    REQUIRE(got.size() == 2);
    CHECK(got[0].state.flags ==
          (mail::kSeen | mail::kAnswered | mail::kFlagged | mail::kDraft | mail::kDeleted));
    CHECK(got[0].state.keywords == std::vector<std::string>{"$Forwarded", "Junk"});
    CHECK(got[0].body == "Subject: flags\r\n\r\nStatus: not a header here\r\n");
    CHECK(got[1].state.flags == 0);
    CHECK(got[1].body == "\r\nnew\r\n");
    // export's headers read back the same.
    std::uint8_t flags = 0;
    std::vector<std::string> kw;
    const std::string h = mbox_state_headers(mail::kSeen | mail::kFlagged, {"a", "b"});
    CHECK(h == "Status: RO\nX-Status: F\nX-Keywords: a b\n");
    std::size_t at = 0;
    while (at < h.size()) {
        const std::size_t e = h.find('\n', at);
        const std::string_view line(h.data() + at, e - at);
        CHECK(is_state_header(line));
        apply_state_header(line, &flags, &kw);
        at = e + 1;
    }
    CHECK(flags == (mail::kSeen | mail::kFlagged));
    CHECK(kw == std::vector<std::string>{"a", "b"});
    CHECK(mbox_state_headers(0, {}) == "Status: O\n");
}

TEST_CASE("mbox: a file that does not start with a From line is not an mbox (RFC 4155 §2)",
          "[import]") {
    std::vector<MboxMessage> got;
    CHECK_FALSE(split_mbox("Subject: x\n\nbody\n", &got));
    CHECK_FALSE(split_mbox("\nFrom a Wed Jan  3 01:05:34 1996\n", &got));
    // The first separator needs no date (the tool uses the time of import).
    got.clear();
    REQUIRE(split_mbox("From someone\nSubject: x\n", &got));
    REQUIRE(got.size() == 1);
    CHECK_FALSE(got[0].state.date_known);
    got.clear();
    CHECK(split_mbox("", &got));
    CHECK(got.empty());
}

TEST_CASE("Maildir: flags from the info after ':2,' (maildir.html 'info semantics')", "[import]") {
    const std::vector<std::string> none(26);
    auto flags_of = [&](std::string_view name) {
        std::uint8_t f = 0;
        std::vector<std::string> kw;
        maildir_info(name, none, &f, &kw);
        CHECK(kw.empty());
        return f;
    };
    CHECK(flags_of("1234.M1P2.host:2,FRS") == (mail::kFlagged | mail::kAnswered | mail::kSeen));
    CHECK(flags_of("1234.M1P2.host:2,DT") == (mail::kDraft | mail::kDeleted));
    CHECK(flags_of("1234.M1P2.host:2,P") == 0);  // Passed: no IMAP flag
    CHECK(flags_of("1234.M1P2.host:2,") == 0);
    CHECK(flags_of("1234.M1P2.host") == 0);      // new/: no info yet
    CHECK(flags_of("1234.M1P2.host:1,S") == 0);  // experimental semantics: not flags
    // ';' and '!' stand for ':' where a file system has no ':'.
    CHECK(flags_of("1234.host;2,S") == mail::kSeen);
    CHECK(flags_of("1234.host!2,F") == mail::kFlagged);
    // The info is the last one in the name.
    CHECK(flags_of("1234.x:2,S.host:2,F") == mail::kFlagged);
}

TEST_CASE("Maildir: Dovecot's keyword letters and dovecot-keywords", "[import]") {
    const std::vector<std::string> names = parse_dovecot_keywords(
        "0 $Forwarded\n1 Junk\r\n25 last\n26 too-far\nx bad\n3\n4  \n07 padded\n2 two words\n"
        "5 cr\rinside\n6 \x01ctl\n");
    REQUIRE(names.size() == 26);
    CHECK(names[0] == "$Forwarded");
    CHECK(names[1] == "Junk");
    CHECK(names[2] == "two");
    CHECK(names[3].empty());
    CHECK(names[4].empty());
    CHECK(names[5] == "cr");  // a keyword is an atom: no CR, no control byte
    CHECK(names[6].empty());
    CHECK(names[7] == "padded");
    CHECK(names[25] == "last");
    std::uint8_t f = 0;
    std::vector<std::string> kw;
    maildir_info("1.host:2,Sabdzaq", names, &f, &kw);  // d and q: not defined
    CHECK(f == mail::kSeen);
    CHECK(kw == std::vector<std::string>{"$Forwarded", "Junk", "last"});
    CHECK(parse_dovecot_keywords("").size() == 26);
    // export's letters: flags in ASCII order, then keywords 0..25.
    CHECK(maildir_flags(
              mail::kSeen | mail::kDraft | mail::kDeleted | mail::kAnswered | mail::kFlagged,
              0b101 | (std::uint64_t{1} << 25) | (std::uint64_t{1} << 40)) == "DFRSTacz");
    std::uint8_t back = 0;
    std::vector<std::string> kw2;
    maildir_info("1.host:2," + maildir_flags(mail::kFlagged | mail::kSeen, 0b11), names, &back,
                 &kw2);
    CHECK(back == (mail::kFlagged | mail::kSeen));
    CHECK(kw2 == std::vector<std::string>{"$Forwarded", "Junk"});
}
