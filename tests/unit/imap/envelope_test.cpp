// Tests for core/mime/header and core/imap/address and envelope: header location and
// unfolding (RFC 2822 §2.2.3), field lookup, address lists (RFC 2822 §3.4:
// display names, quoted strings, comments, route addresses, groups) and
// ENVELOPE (RFC 3501 §7.4.2, including its example and the Sender/Reply-To
// defaults).
#include <catch2/catch.hpp>

#include <string>

#include "core/base/text.h"
#include "core/imap/address.h"
#include "core/imap/encoder.h"
#include "core/imap/envelope.h"
#include "core/mime/header.h"
#include "tests/unit/mime_test_support.h"

using namespace tinyimapd;
using namespace tinyimapd::mime;
using namespace tinyimapd::imap;

namespace {

using testing::crlf;
using testing::TrickleReader;

char g_scratch[16384];
char g_out[1 << 16];

std::string envelope(ByteSource& r, std::size_t scratch = 8192) {
    TextWriter tw(g_out, sizeof g_out);
    imap::ResponseWriter w(tw);
    REQUIRE(write_envelope(r, g_scratch, scratch, w));
    REQUIRE(w.ok());
    return std::string(w.view());
}

std::string envelope(const std::string& msg, std::size_t scratch = 8192) {
    MemorySource r(msg);
    std::string a = envelope(r, scratch);
    TrickleReader t(msg, 7);
    CHECK(envelope(t, scratch) == a);
    return a;
}

std::string addresses(const std::string& value) {
    TextWriter tw(g_out, sizeof g_out);
    imap::ResponseWriter w(tw);
    write_address_list(value, g_scratch, kAddressWork, w);
    REQUIRE(w.ok());
    return std::string(w.view());
}

const std::string kRfcExample = crlf(
    "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n"
    "From: Terry Gray <gray@cac.washington.edu>\n"
    "Subject: IMAP4rev1 WG mtg summary and minutes\n"
    "To: imap@cac.washington.edu\n"
    "cc: minutes@CNRI.Reston.VA.US,\n"
    " John Klensin <KLENSIN@MIT.EDU>\n"
    "Message-Id: <B27397-0100000@cac.washington.edu>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n"
    "\n"
    "body\n");

const char kRfcEnvelope[] =
    "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
    "((NIL NIL \"imap\" \"cac.washington.edu\")) "
    "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) "
    "NIL NIL \"<B27397-0100000@cac.washington.edu>\")";

}  // namespace

TEST_CASE("mime header: end of header with CRLF, LF, none, and at the start", "[mime]") {
    char buf[4096];
    HeaderBlock h;
    std::string m = crlf("A: 1\nB: 2\n\nbody");
    MemorySource r(m);
    load_header(r, 0, m.size(), buf, sizeof buf, &h);
    CHECK(h.fields_end == 12);
    CHECK(h.body_start == 14);
    CHECK(h.fields == "A: 1\nB: 2\n");

    std::string lf = "A: 1\nB: 2\n\nbody";
    MemorySource rl(lf);
    load_header(rl, 0, lf.size(), buf, sizeof buf, &h);
    CHECK(h.fields_end == 10);
    CHECK(h.body_start == 11);

    std::string none = "A: 1\r\nB: 2";
    MemorySource rn(none);
    load_header(rn, 0, none.size(), buf, sizeof buf, &h);
    CHECK(h.body_start == none.size());
    CHECK(h.fields == "A: 1\nB: 2");

    std::string empty = "\r\nbody";
    MemorySource re(empty);
    load_header(re, 0, empty.size(), buf, sizeof buf, &h);
    CHECK(h.fields_end == 0);
    CHECK(h.body_start == 2);
    CHECK(h.fields.empty());
}

TEST_CASE("mime header: RFC 2822 §2.2.3 unfolding and case-insensitive lookup", "[mime]") {
    char buf[4096];
    HeaderBlock h;
    std::string m = crlf(
        "From foo@bar Mon Jan  1 00:00:00 2024\n"
        "Subject: a very\n"
        " long subject\n"
        "X-Empty:\n"
        "Bad Name: x\n"
        "To : someone@example.com\n"
        "subject: second\n"
        "\n");
    MemorySource r(m);
    load_header(r, 0, m.size(), buf, sizeof buf, &h);
    std::string_view v;
    REQUIRE(find_field(h.fields, "SUBJECT", &v));
    CHECK(v == "a very long subject");
    REQUIRE(find_field(h.fields, "x-empty", &v));
    CHECK(v.empty());
    REQUIRE(find_field(h.fields, "To", &v));
    CHECK(v == "someone@example.com");
    CHECK_FALSE(find_field(h.fields, "Bad Name", &v));
    CHECK_FALSE(find_field(h.fields, "Cc", &v));

    FieldIterator it(h.fields);
    HeaderField f;
    int n = 0;
    while (it.next(&f)) ++n;
    CHECK(n == 4);  // the mbox From_ line and "Bad Name" are not fields

    char small[5];
    CHECK(copy_value("a very long subject", small, sizeof small) == "a ver");
}

TEST_CASE("mime header: of a header longer than the buffer the named fields are kept", "[mime]") {
    std::string m = "A: 1\r\nSubject: s\r\nB: " + std::string(5000, 'x') +
                    "\r\nTo: x@y,\r\n z@w\r\nC: 3\r\nsubject: again\r\n\r\nbody";
    char buf[2048];
    HeaderBlock h;
    MemorySource r(m);
    load_header(r, 0, m.size(), buf, sizeof buf, &h);
    CHECK(h.truncated);
    CHECK(h.fields == "Subject: s\nTo: x@y, z@w\nsubject: again\n");
    CHECK(h.body_start == m.size() - 4);
    // The caller names the fields (SEARCH HEADER C "3").
    const std::string_view c[] = {"c"};
    TrickleReader t(m, 3);
    load_header(t, 0, m.size(), buf, sizeof buf, &h, FieldNames{c, 1});
    CHECK(h.fields == "C: 3\n");
    // A named field longer than the buffer is cut; later ones keep room.
    std::string big = "To: " + std::string(5000, 'a') + "\r\nSubject: late\r\n\r\n";
    MemorySource rb(big);
    load_header(rb, 0, big.size(), buf, sizeof buf, &h);
    std::string_view subject, to;
    CHECK(find_field(h.fields, "Subject", &subject));
    CHECK(subject == "late");
    CHECK(find_field(h.fields, "To", &to));
    CHECK(to.size() > 500);
    CHECK(to.find_first_not_of('a') == std::string_view::npos);
}

TEST_CASE("mime envelope: RFC 3501 §7.4.2 example", "[mime]") {
    CHECK(envelope(kRfcExample) == kRfcEnvelope);
    // Bare LF line ends give the same envelope.
    std::string lf;
    for (char c : kRfcExample) {
        if (c != '\r') lf += c;
    }
    CHECK(envelope(lf) == kRfcEnvelope);
    // So does the smallest scratch buffer.
    CHECK(envelope(kRfcExample, kMinScratch) == kRfcEnvelope);
}

TEST_CASE("mime envelope: empty message and message without fields", "[mime]") {
    CHECK(envelope("") == "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    CHECK(envelope("\r\nbody only\r\n") == "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    CHECK(envelope("garbage without colon") == "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
}

TEST_CASE("mime envelope: groups, route addresses, quoted names, defaults", "[mime]") {
    std::string m = crlf(
        "From: \"Doe, John\" <john.doe@example.com>\n"
        "To: Friends: alice@example.com, Bob <bob@example.org>;, carol@example.net\n"
        "Cc: undisclosed-recipients:;\n"
        "Bcc: <@relay1.example,@relay2.example:joe@example.com>\n"
        "Reply-To:\n"
        "Subject: test\n"
        "\n");
    const char* from = "((\"Doe, John\" NIL \"john.doe\" \"example.com\"))";
    std::string want = std::string("(NIL \"test\" ") + from + " " + from + " " + from +
                       " ((NIL NIL \"Friends\" NIL)(NIL NIL \"alice\" \"example.com\")"
                       "(\"Bob\" NIL \"bob\" \"example.org\")(NIL NIL NIL NIL)"
                       "(NIL NIL \"carol\" \"example.net\"))"
                       " ((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL))"
                       " ((NIL \"@relay1.example,@relay2.example\" \"joe\" \"example.com\"))"
                       " NIL NIL)";
    CHECK(envelope(m) == want);
}

TEST_CASE("mime envelope: encoded words pass through, comments are dropped but a legacy name",
          "[mime]") {
    std::string m = crlf(
        "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
        "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Berlin\n"
        "From: =?ISO-8859-1?Q?J=F6rg?= Schmidt <joerg@example.de> (work)\n"
        "Sender: secretary@example.de\n"
        "To: john@example.com (John Smith), \"Quoted \\\"Name\\\"\" <q@example.com>\n"
        "In-Reply-To: <abc@example.com>\n"
        "Message-ID: <def@example.com>\n"
        "\n");
    const char* from = "((\"=?ISO-8859-1?Q?J=F6rg?= Schmidt\" NIL \"joerg\" \"example.de\"))";
    std::string want = std::string(
                           "(\"Mon, 1 Jan 2024 10:00:00 +0000\" "
                           "\"=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Berlin\" ") +
                       from + " ((NIL NIL \"secretary\" \"example.de\")) " + from +
                       " ((\"John Smith\" NIL \"john\" \"example.com\")"
                       "({13}\r\nQuoted \"Name\" NIL \"q\" \"example.com\"))"
                       " NIL NIL \"<abc@example.com>\" \"<def@example.com>\")";
    CHECK(envelope(m) == want);
}

TEST_CASE("mime envelope: 8-bit header bytes are sent as literals", "[mime]") {
    std::string m =
        "Subject: Gr\xC3\xBC\xC3\x9F"
        "e\r\nFrom: J\xC3\xB6rg <j@example.de>\r\n\r\n";
    std::string from = "(({5}\r\nJ\xC3\xB6rg NIL \"j\" \"example.de\"))";
    std::string want =
        "(NIL {7}\r\nGr\xC3\xBC\xC3\x9F"
        "e " +
        from + " " + from + " " + from + " NIL NIL NIL NIL NIL)";
    CHECK(envelope(m) == want);
}

TEST_CASE("mime envelope: fields after a header line longer than the scratch buffer", "[mime]") {
    std::string m =
        "From: a@b\r\nSubject: " + std::string(20000, 'x') + "\r\nTo: c@d\r\n\r\nhi\r\n";
    std::string from = "((NIL NIL \"a\" \"b\"))";
    const std::string e = envelope(m);
    // The subject is cut to what the buffer holds; To after it is found.
    CHECK(e.rfind("(NIL \"xxxxxxxx", 0) == 0);
    CHECK(e.find("\" " + from + " " + from + " " + from +
                 " ((NIL NIL \"c\" \"d\")) NIL NIL NIL NIL)") != std::string::npos);
}

TEST_CASE("mime envelope: a mail to 400 recipients keeps its date and subject", "[mime]") {
    std::string to = "To: ";
    for (int i = 0; i < 400; ++i) {
        const std::string n = std::to_string(i);
        to += (i ? ",\r\n " : "") + ("Recipient Number " + n + " <user" + n + "@example.org>");
    }
    std::string m = "From: a@b\r\n" + to + "\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n" +
                    "Subject: late\r\nMessage-ID: <m@x>\r\n\r\nhi\r\n";
    REQUIRE(m.size() > 16384);
    const std::string e = envelope(m, sizeof g_scratch);
    CHECK(e.rfind("(\"Mon, 1 Jan 2024 10:00:00 +0000\" \"late\" ", 0) == 0);
    CHECK(
        e.find("((\"Recipient Number 0\" NIL \"user0\" \"example.org\")(\"Recipient Number 1\" ") !=
        std::string::npos);
    CHECK(e.find(" NIL NIL NIL \"<m@x>\")") != std::string::npos);
    // The To: field is cut for room at a ',': whole addresses only.
    auto count = [&](const std::string& what) {
        std::size_t n = 0;
        for (std::size_t at = 0; (at = e.find(what, at)) != std::string::npos; ++at) ++n;
        return n;
    };
    CHECK(count("(\"Recipient Number ") > 200);
    CHECK(count("(\"Recipient Number ") == count(" \"example.org\")"));
}

TEST_CASE("mime address: the comment after a bare addr-spec is its display name, rfc5322_3_4",
          "[mime]") {
    // RFC 5322 §3.4: legacy mail puts "the name of the recipient in
    // parentheses as a comment following the addr-spec"; c-client and
    // Dovecot show it as the name.
    CHECK(addresses("user@example.org (Full Name)") ==
          "((\"Full Name\" NIL \"user\" \"example.org\"))");
    CHECK(addresses("a@b (A  One), c@d, e@f ( E )") ==
          "((\"A  One\" NIL \"a\" \"b\")(NIL NIL \"c\" \"d\")(\"E\" NIL \"e\" \"f\"))");
    // A phrase wins; a comment before the address or empty is no name.
    CHECK(addresses("Real <r@s> (note)") == "((\"Real\" NIL \"r\" \"s\"))");
    CHECK(addresses("(lead) x@y") == "((NIL NIL \"x\" \"y\"))");
    CHECK(addresses("x@y ()") == "((NIL NIL \"x\" \"y\"))");
    CHECK(addresses("x@y (a (nested) one)") == "((\"a (nested) one\" NIL \"x\" \"y\"))");
}

TEST_CASE("mime address: malformed lists stay well-formed", "[mime]") {
    CHECK(addresses("") == "NIL");
    CHECK(addresses(" , ,") == "NIL");
    CHECK(addresses("(only a comment)") == "NIL");
    CHECK(addresses("user") == "((NIL NIL \"user\" \"\"))");
    CHECK(addresses("<>") == "((NIL NIL \"\" \"\"))");
    CHECK(addresses("a@b,") == "((NIL NIL \"a\" \"b\"))");
    CHECK(addresses("Name <a@b") == "((\"Name\" NIL \"a\" \"b\"))");
    CHECK(addresses("group: a@b") ==
          "((NIL NIL \"group\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL NIL NIL))");
    CHECK(addresses("\"unterminated <a@b>") == "((NIL NIL {19}\r\n\"unterminated <a@b> \"\"))");
    CHECK(addresses("\"quoted local\"@example.com") ==
          "((NIL NIL {14}\r\n\"quoted local\" \"example.com\"))");
    CHECK(addresses("a@[192.168.0.1]") == "((NIL NIL \"a\" \"[192.168.0.1]\"))");
    CHECK(addresses("John (comment) Smith <js@example.com>") ==
          "((\"John Smith\" NIL \"js\" \"example.com\"))");
    CHECK(has_address("a@b"));
    CHECK_FALSE(has_address("  "));
}

TEST_CASE("mime header: reading stops at kMaxHeaderBytes, at a line start", "[mime]") {
    // A message without an empty line, far longer than kMaxHeaderBytes:
    // the header ends at the last line begun within the limit.
    std::string line = "X-Filler: " + std::string(90, 'f') + "\r\n";
    std::string m = "Subject: s\r\n";
    while (m.size() < 3 * kMaxHeaderBytes) m += line;
    TrickleReader r(m, 4096);
    char buf[4096];
    HeaderBlock h;
    load_header(r, 0, m.size(), buf, sizeof buf, &h);
    CHECK(h.fields_end <= kMaxHeaderBytes);
    CHECK(h.fields_end > kMaxHeaderBytes - line.size());
    CHECK(h.body_start == h.fields_end);
    CHECK((h.fields_end - 12) % line.size() == 0);
    std::string_view subject;
    CHECK(find_field(h.fields, "Subject", &subject));
    CHECK(subject == "s");
    // Within the limit, no empty line: all header, as before.
    std::string small = "Subject: s\r\nTo: a@b\r\n";
    MemorySource rs(small);
    load_header(rs, 0, small.size(), buf, sizeof buf, &h);
    CHECK(h.fields_end == small.size());
    CHECK(h.body_start == small.size());
}

namespace {

std::string envelope_downgraded(const std::string& msg) {
    MemorySource r(msg);
    TextWriter tw(g_out, sizeof g_out);
    imap::ResponseWriter w(tw);
    w.downgrade(true);
    REQUIRE(write_envelope(r, g_scratch, 8192, w));
    REQUIRE(w.ok());
    return std::string(w.view());
}

}  // namespace

TEST_CASE("RFC 6855 §7, RFC 2047 §5, RFC 6858 §2.1: a legacy session's ENVELOPE of UTF-8 fields",
          "[envelope][utf8][downgrade]") {
    const std::string msg = crlf(
        "Subject: Gr\xc3\xbc\xc3\x9f"
        "e\n"
        "From: J\xc3\xb6rg <j\xc3\xb6rg@example.org>\n"
        "To: \xc3\x84rger <a@example.org>, B\xc3\xbc <x@b\xc3\xbc"
        "cher.example>, j\xc3\xb6rg@b\xc3\xbc"
        "cher.example\n"
        "Cc: Gruppe \xc3\xa4: c@example.org;\n"
        "Message-ID: <\xc3\xbc@example.org>\n"
        "\n"
        "body\n");
    const std::string jorg =
        "(\"=?UTF-8?B?SsO2cmcgPGrDtnJnQGV4YW1wbGUub3JnPg==?=\" NIL \"invalid\" "
        "\"internationalized-address.invalid\")";
    // §2.3: an unstructured field as encoded words; §2.1: a UTF-8 mailbox
    // becomes the display name, the address a placeholder; an ASCII address
    // with a UTF-8 display name keeps its address, its name encoded (§5 (3):
    // an encoded word is a phrase's word); a group's name likewise.
    const std::string want =
        "(NIL \"=?UTF-8?B?R3LDvMOfZQ==?=\" (" + jorg + ") (" + jorg + ") (" + jorg +
        ") ((\"=?UTF-8?B?w4RyZ2Vy?=\" NIL \"a\" \"example.org\")"
        "(\"=?UTF-8?B?QsO8IDx4QGLDvGNoZXIuZXhhbXBsZT4=?=\" NIL \"invalid\" "
        "\"internationalized-address.invalid\")"
        "(\"=?UTF-8?B?asO2cmdAYsO8Y2hlci5leGFtcGxl?=\" NIL \"invalid\" "
        "\"internationalized-address.invalid\")) "
        "((NIL NIL \"=?UTF-8?B?R3J1cHBlIMOk?=\" NIL)(NIL NIL \"c\" \"example.org\")"
        "(NIL NIL NIL NIL)) NIL NIL \"=?UTF-8?B?PMO8QGV4YW1wbGUub3JnPg==?=\")";
    CHECK(envelope_downgraded(msg) == want);
    // A session with UTF-8 gets the same message as it is (RFC 6855 §3).
    const std::string raw = envelope(msg);
    CHECK(raw.find("{7}\r\nGr\xc3\xbc\xc3\x9f"
                   "e") != std::string::npos);
    CHECK(raw.find("=?UTF-8?") == std::string::npos);
}

TEST_CASE("RFC 6855 §7: 7-bit and non-UTF-8 8-bit headers are the same downgraded or not",
          "[envelope][utf8][downgrade]") {
    CHECK(envelope_downgraded(kRfcExample) == envelope(kRfcExample));
    // Latin-1 bytes of old mail are not UTF-8: not labelled as such.
    const std::string latin1 = crlf(
        "Subject: caf\xe9\n"
        "From: J\xf6rg <j\xf6rg@example.org>\n\nx\n");
    CHECK(envelope_downgraded(latin1) == envelope(latin1));
    CHECK(envelope(latin1).find("{4}\r\ncaf\xe9") != std::string::npos);
}
