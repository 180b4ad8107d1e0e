// Tests for core/imap/bodystructure and section, core/mime/part: BODY and
// BODYSTRUCTURE (RFC 3501 §7.4.2, §9 body-type-*, body-ext-*), multipart
// walking (RFC 2046 §5.1), message/rfc822 (§5.2.1), and BODY[section]
// ranges with HEADER.FIELDS filtering (RFC 3501 §6.4.5) — on a corpus of
// real-world-shaped messages and broken ones.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "core/base/text.h"
#include "core/imap/bodystructure.h"
#include "core/imap/encoder.h"
#include "core/imap/fetch_spec.h"
#include "core/imap/section.h"
#include "tests/unit/mime_test_support.h"

using namespace tinyimapd;
using namespace tinyimapd::mime;
using namespace tinyimapd::imap;

namespace {

using testing::crlf;
using testing::TrickleReader;

char g_scratch[16384];
char g_out[1 << 18];

std::string structure(ByteSource& r, bool ext, std::size_t scratch) {
    TextWriter tw(g_out, sizeof g_out);
    REQUIRE(write_bodystructure(r, g_scratch, scratch, ext, tw));
    REQUIRE(tw.ok());
    return std::string(tw.view());
}

// BODYSTRUCTURE (ext) or BODY; checked to be the same with short reads and
// the smallest scratch buffer.
std::string structure(const std::string& msg, bool ext = true) {
    MemorySource r(msg);
    std::string a = structure(r, ext, 8192);
    TrickleReader t(msg, 5);
    CHECK(structure(t, ext, kMinScratch) == a);
    return a;
}

bool balanced(const std::string& s) {
    // Parentheses balance outside quoted strings and literals.
    int depth = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '"') {
            for (++i; i < s.size() && s[i] != '"'; ++i) {
                if (s[i] == '\\') ++i;
            }
        } else if (c == '{') {
            std::size_t close = s.find('}', i);
            std::size_t n = std::stoul(s.substr(i + 1, close - i - 1));
            i = close + 2 + n;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')') {
            if (--depth < 0) return false;
        }
    }
    return depth == 0;
}

imap::SectionSpec spec(const char* att) {
    static imap::FetchItem item;
    const char* why = nullptr;
    REQUIRE(imap::parse_fetch_att(att, &item, &why));
    return item.section;
}

// SectionFinder run in steps of `budget` message bytes (the smallest
// scratch buffer); *steps counts them, *most is the most bytes one step read.
bool find_in_steps(const std::string& msg, const imap::SectionSpec& s, std::uint64_t budget,
                   SectionRange* out, std::size_t* steps = nullptr, std::uint64_t* most = nullptr) {
    MemorySource inner(msg);
    SectionFinder f;
    f.start(s);
    for (std::size_t n = 1;; ++n) {
        CountingSource r(inner);
        const SectionFinder::Progress p = f.step(r, g_scratch, kMinScratch, budget, out);
        if (steps != nullptr) *steps = n;
        if (most != nullptr && r.count > *most) *most = r.count;
        if (p != SectionFinder::Progress::Budget) return p == SectionFinder::Progress::Found;
        REQUIRE(n < 100000000);
    }
}

bool same_range(bool found, const SectionRange& a, bool found2, const SectionRange& b) {
    if (found != found2) return false;
    return !found || (a.offset == b.offset && a.length == b.length && a.filtered == b.filtered);
}

// The bytes of a section, or "<none>" when it does not exist. The lookup
// gives the same range however it is split into steps.
std::string section(const std::string& msg, const char* att) {
    MemorySource r(msg);
    imap::SectionSpec s = spec(att);
    SectionRange range;
    const bool found = find_section(r, s, g_scratch, 8192, &range);
    for (std::uint64_t budget : {1, 5, 64, 4096}) {
        SectionRange stepped;
        const bool found2 = find_in_steps(msg, s, budget, &stepped);
        CHECK(same_range(found, range, found2, stepped));
    }
    if (!found) return "<none>";
    if (!range.filtered) return msg.substr(range.offset, range.length);
    static char window[kMinScratch];
    HeaderFieldsFilter f(r, range, s, window, sizeof window);
    std::uint64_t size = f.total_size();
    std::string out;
    char chunk[7];
    while (out.size() < size) {
        std::size_t k = f.read(out.size(), chunk, sizeof chunk);
        REQUIRE(k > 0);
        out.append(chunk, k);
    }
    CHECK(f.read(out.size(), chunk, sizeof chunk) == 0);
    // A restart at an earlier offset (BODY[...]<partial>) gives the same bytes.
    if (size > 3) {
        std::size_t k = f.read(3, chunk, sizeof chunk);
        CHECK(std::string(chunk, k) == out.substr(3, k));
    }
    return out;
}

std::string rfc_body() {
    // 92 lines, 3028 octets: the size of RFC 3501 §7.4.2's example.
    std::string b;
    for (int i = 0; i < 92; ++i) b += std::string(i < 84 ? 31 : 30, 'a') + "\r\n";
    return b;
}

const std::string kAlternative = crlf(
    "From: a@example.com\n"
    "To: b@example.com\n"
    "Subject: alt\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=\"XX\"\n"
    "\n"
    "preamble\n"
    "--XX\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "Hello\n"
    "--XX\n"
    "Content-Type: text/html; charset=utf-8\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "<p>Hello</p>\n"
    "--XX--\n"
    "epilogue\n");

const std::string kMixed = crlf(
    "From: a@example.com\n"
    "Subject: report\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"=_b1\" (a comment)\n"
    "\n"
    "--=_b1\n"
    "Content-Type: text/plain\n"
    "\n"
    "See attached.\n"
    "--=_b1\n"
    "Content-Type: application/pdf; name=\"report.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "Content-Disposition: attachment;\n"
    "\tfilename=\"report.pdf\"\n"
    "Content-ID: <pdf1@example.com>\n"
    "Content-Description: The report\n"
    "Content-Language: en, de\n"
    "Content-Location: http://example.com/r.pdf\n"
    "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
    "\n"
    "JVBERi0xLjQK\n"
    "JVBERi0xLjQK\n"
    "--=_b1--\n");

const std::string kNested = crlf(
    "From: outer@example.com\n"
    "Subject: fwd\n"
    "Content-Type: multipart/mixed; boundary=outer\n"
    "\n"
    "--outer\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "Forwarded below.\n"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: inner@example.com\n"
    "Subject: inner\n"
    "Content-Type: multipart/alternative; boundary=inner\n"
    "\n"
    "--inner\n"
    "Content-Type: text/plain\n"
    "\n"
    "Hi\n"
    "--inner\n"
    "Content-Type: text/html\n"
    "\n"
    "<b>Hi</b>\n"
    "--inner--\n"
    "--outer--\n");

const char kTextDefault[] = "\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\"";

}  // namespace

TEST_CASE("mime bodystructure: RFC 3501 §7.4.2 example BODY", "[mime]") {
    std::string m = crlf(
                        "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n"
                        "From: Terry Gray <gray@cac.washington.edu>\n"
                        "MIME-Version: 1.0\n"
                        "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n"
                        "\n") +
                    rfc_body();
    CHECK(structure(m, false) ==
          "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92)");
    CHECK(structure(m, true) ==
          "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92 NIL NIL NIL "
          "NIL)");
}

TEST_CASE("mime bodystructure: plain message without MIME headers", "[mime]") {
    std::string m = crlf("From: a@b\nSubject: x\n\nHello\nWorld\n");
    CHECK(structure(m) == std::string("(") + kTextDefault + " 14 2 NIL NIL NIL NIL)");
    CHECK(structure(m, false) == std::string("(") + kTextDefault + " 14 2)");
    CHECK(structure("") == std::string("(") + kTextDefault + " 0 0 NIL NIL NIL NIL)");
    // body-fld-lines counts line breaks: a last line without one is not
    // counted (as c-client and Dovecot count; see the multipart case).
    CHECK(structure("S: x\r\n\r\nab\r\ncd") ==
          std::string("(") + kTextDefault + " 6 1 NIL NIL NIL NIL)");
}

TEST_CASE("mime bodystructure: multipart/alternative (RFC 2046 §5.1.4)", "[mime]") {
    const char* want =
        "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 5 0 NIL NIL NIL NIL)"
        "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 12 0 NIL NIL NIL "
        "NIL) \"alternative\" (\"boundary\" \"XX\") NIL NIL NIL)";
    CHECK(structure(kAlternative) == want);
    CHECK(structure(kAlternative, false) ==
          "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 5 0)"
          "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 12 0) "
          "\"alternative\")");
    // Bare LF line ends: the same structure (the sizes here do not change).
    std::string lf;
    for (char c : kAlternative) {
        if (c != '\r') lf += c;
    }
    CHECK(structure(lf) == want);
}

TEST_CASE("mime bodystructure: multipart/mixed with a base64 attachment", "[mime]") {
    CHECK(structure(kMixed) ==
          "((\"text\" \"plain\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 13 0 NIL NIL NIL NIL)"
          "(\"application\" \"pdf\" (\"name\" \"report.pdf\") \"<pdf1@example.com>\" "
          "\"The report\" \"base64\" 26 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" "
          "(\"attachment\" (\"filename\" \"report.pdf\")) (\"en\" \"de\") "
          "\"http://example.com/r.pdf\") \"mixed\" (\"boundary\" \"=_b1\") NIL NIL NIL)");
}

TEST_CASE("mime bodystructure: nested message/rfc822 (RFC 3501 body-type-msg)", "[mime]") {
    const char* inner_env =
        "(NIL \"inner\" ((NIL NIL \"inner\" \"example.com\")) ((NIL NIL \"inner\" "
        "\"example.com\")) ((NIL NIL \"inner\" \"example.com\")) NIL NIL NIL NIL NIL)";
    std::string inner_body =
        "((\"text\" \"plain\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 2 0 NIL NIL NIL NIL)"
        "(\"text\" \"html\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 9 0 NIL NIL NIL NIL) "
        "\"alternative\" (\"boundary\" \"inner\") NIL NIL NIL)";
    std::string want =
        "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 16 0 NIL NIL NIL NIL)"
        "(\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 193 " +
        std::string(inner_env) + " " + inner_body +
        " 12 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"outer\") NIL NIL NIL)";
    CHECK(structure(kNested) == want);
}

TEST_CASE("mime bodystructure: multipart/digest defaults to message/rfc822 (RFC 2046 §5.1.5)",
          "[mime]") {
    std::string m = crlf(
        "Content-Type: multipart/digest; boundary=d\n\n--d\n\nFrom: x@y\nSubject: s\n\nbody\n"
        "--d--\n");
    const char* a = "((NIL NIL \"x\" \"y\"))";
    std::string want = std::string("((\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 29 (NIL \"s\" ") +
                       a + " " + a + " " + a + " NIL NIL NIL NIL NIL) (" + kTextDefault +
                       " 4 0 NIL NIL NIL NIL) 3 NIL NIL NIL NIL) \"digest\" (\"boundary\" \"d\") "
                       "NIL NIL NIL)";
    CHECK(structure(m) == want);
}

TEST_CASE("mime bodystructure: broken multiparts degrade", "[mime]") {
    // No boundary parameter: an invalid Content-Type, so text/plain.
    CHECK(structure(crlf("Content-Type: multipart/mixed\n\n--x\nhello\n")) ==
          std::string("(") + kTextDefault + " 12 2 NIL NIL NIL NIL)");
    // A boundary that never occurs: one (empty-bodied) part.
    CHECK(structure(crlf("Content-Type: multipart/mixed; boundary=zz\n\nhello\n")) ==
          std::string("((") + kTextDefault +
              " 0 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"zz\") NIL NIL NIL)");
    // No close delimiter: the last part runs to the end.
    CHECK(structure(crlf("Content-Type: multipart/mixed; boundary=zz\n\n--zz\n"
                         "Content-Type: text/plain\n\nabc\n")) ==
          "((\"text\" \"plain\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL NIL) "
          "\"mixed\" (\"boundary\" \"zz\") NIL NIL NIL)");
    // A boundary that is a prefix of a line is not a delimiter.
    CHECK(
        structure(crlf("Content-Type: multipart/mixed; boundary=zz\n\n--zz\n\n--zzz\n--zz--\n")) ==
        std::string("((") + kTextDefault +
            " 5 0 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"zz\") NIL NIL NIL)");
    // message/rfc822 in base64 is not parsed as a message (RFC 2046 §5.2.1).
    CHECK(structure(crlf("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
                         "AAAA\n")) ==
          "(\"message\" \"rfc822\" NIL NIL NIL \"base64\" 6 NIL NIL NIL NIL)");
    // Invalid Content-Type value.
    CHECK(structure(crlf("Content-Type: garbage\n\nx")) ==
          std::string("(") + kTextDefault + " 1 0 NIL NIL NIL NIL)");
}

TEST_CASE("mime bodystructure: 100 levels of nesting stop at kMaxMimeDepth", "[mime]") {
    std::string m = "Content-Type: text/plain\r\n\r\nx";
    for (int i = 99; i >= 0; --i) {
        std::string b = "b" + std::to_string(i);
        m = "Content-Type: multipart/mixed; boundary=" + b + "\r\n\r\n--" + b + "\r\n" + m +
            "\r\n--" + b + "--\r\n";
    }
    std::string s = structure(m);
    CHECK(balanced(s));
    std::size_t mixed = 0;
    for (std::size_t p = s.find("\"mixed\""); p != std::string::npos;
         p = s.find("\"mixed\"", p + 1)) {
        ++mixed;
    }
    CHECK(mixed == kMaxMimeDepth);
    CHECK(s.find("\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\"") != std::string::npos);

    std::string msg = "Subject: leaf\r\n\r\nx";
    for (int i = 0; i < 100; ++i) {
        msg = "Subject: " + std::to_string(i) + "\r\nContent-Type: message/rfc822\r\n\r\n" + msg;
    }
    std::string t = structure(msg);
    CHECK(balanced(t));
    CHECK(t.find("\"OCTET-STREAM\"") != std::string::npos);
}

TEST_CASE("mime bodystructure: huge header lines and 8-bit headers", "[mime]") {
    std::string m = "Content-Type: text/plain; charset=\"" + std::string(30000, 'x') +
                    "\"\r\nContent-Description: caf\xC3\xA9\r\n\r\nbody\r\n";
    // The cut of the huge field depends on the buffer; the field after it
    // is found with any buffer (issue 20.6).
    for (std::size_t scratch : {kMinScratch, std::size_t{8192}}) {
        MemorySource r(m);
        std::string s = structure(r, true, scratch);
        CHECK(balanced(s));
        CHECK(s.find("{5}\r\ncaf\xC3\xA9 \"7BIT\" 6 1 NIL NIL NIL NIL)") != std::string::npos);
    }
    std::string m2 = "Content-Type: text/plain\r\nContent-Description: caf\xC3\xA9\r\n\r\nbody\r\n";
    CHECK(structure(m2) ==
          "(\"text\" \"plain\" (\"CHARSET\" \"US-ASCII\") NIL {5}\r\ncaf\xC3\xA9 \"7BIT\" 6 1 NIL "
          "NIL NIL NIL)");
}

TEST_CASE("mime section: RFC 3501 §6.4.5 part numbers, HEADER, TEXT, MIME", "[mime]") {
    std::string plain = crlf("From: a@b\nSubject: x\n\nHello\n");
    CHECK(section(plain, "BODY[]") == plain);
    CHECK(section(plain, "BODY[HEADER]") == crlf("From: a@b\nSubject: x\n\n"));
    CHECK(section(plain, "BODY[TEXT]") == crlf("Hello\n"));
    CHECK(section(plain, "BODY[1]") == crlf("Hello\n"));  // part 1 of a non-multipart
    CHECK(section(plain, "BODY[2]") == "<none>");
    CHECK(section(plain, "BODY[1.1]") == "<none>");
    CHECK(section(plain, "BODY[1.HEADER]") == "<none>");

    CHECK(section(kNested, "BODY[1]") == "Forwarded below.");
    CHECK(section(kNested, "BODY[1.MIME]") ==
          crlf("Content-Type: text/plain; charset=us-ascii\n\n"));
    std::string inner = section(kNested, "BODY[2]");
    CHECK(inner.size() == 193);
    CHECK(inner.rfind("From: inner@example.com\r\n", 0) == 0);
    CHECK(section(kNested, "BODY[2.HEADER]") ==
          crlf("From: inner@example.com\nSubject: inner\n"
               "Content-Type: multipart/alternative; boundary=inner\n\n"));
    CHECK(section(kNested, "BODY[2.TEXT]").rfind("--inner\r\n", 0) == 0);
    CHECK(section(kNested, "BODY[2.MIME]") == crlf("Content-Type: message/rfc822\n\n"));
    CHECK(section(kNested, "BODY[2.1]") == "Hi");
    CHECK(section(kNested, "BODY[2.2]") == "<b>Hi</b>");
    CHECK(section(kNested, "BODY[2.2.MIME]") == crlf("Content-Type: text/html\n\n"));
    CHECK(section(kNested, "BODY[2.3]") == "<none>");
    CHECK(section(kNested, "BODY[3]") == "<none>");
    CHECK(section(kMixed, "BODY[2]") == "JVBERi0xLjQK\r\nJVBERi0xLjQK");
    CHECK(section(kAlternative, "BODY[TEXT]").rfind("preamble\r\n", 0) == 0);

    // A non-multipart message/rfc822 part: 1.1 is the encapsulated body.
    std::string fwd = crlf("Content-Type: message/rfc822\n\nSubject: in\n\nthe body\n");
    CHECK(section(fwd, "BODY[1]") == crlf("Subject: in\n\nthe body\n"));
    CHECK(section(fwd, "BODY[1.1]") == crlf("the body\n"));
    CHECK(section(fwd, "BODY[1.HEADER]") == crlf("Subject: in\n\n"));
    CHECK(section(fwd, "BODY[1.TEXT]") == crlf("the body\n"));
}

TEST_CASE("mime section: HEADER.FIELDS and HEADER.FIELDS.NOT", "[mime]") {
    CHECK(section(kNested, "BODY[HEADER.FIELDS (Subject FROM)]") ==
          crlf("From: outer@example.com\nSubject: fwd\n\n"));
    CHECK(section(kNested, "BODY[HEADER.FIELDS.NOT (Subject)]") ==
          crlf("From: outer@example.com\n"
               "Content-Type: multipart/mixed; boundary=outer\n\n"));
    CHECK(section(kNested, "BODY[2.HEADER.FIELDS (SUBJECT)]") == crlf("Subject: inner\n\n"));
    CHECK(section(kNested, "BODY[HEADER.FIELDS (X-None)]") == "\r\n");
    // Folded fields keep their folds, bytes as stored.
    std::string folded = crlf("Subject: a\n b\nTo: x@y\nSubject : again\n\nbody\n");
    CHECK(section(folded, "BODY[HEADER.FIELDS (subject)]") ==
          crlf("Subject: a\n b\nSubject : again\n\n"));
    CHECK(section(folded, "BODY[HEADER.FIELDS.NOT (subject)]") == crlf("To: x@y\n\n"));
    // A field line longer than the filter's window.
    std::string big = "X-Big: " + std::string(9000, 'y') + "\r\nSubject: s\r\n\r\n";
    CHECK(section(big, "BODY[HEADER.FIELDS (X-Big)]") ==
          "X-Big: " + std::string(9000, 'y') + "\r\n\r\n");
    CHECK(section(big, "BODY[HEADER.FIELDS.NOT (X-Big)]") == "Subject: s\r\n\r\n");
}

TEST_CASE("mime bodystructure: delimiters at every position around the window edge", "[mime]") {
    // Parts sized so that delimiter lines cross the edge of a kMinScratch
    // window at every offset; sizes must not depend on where it falls.
    for (std::size_t pad = kMinScratch - 90; pad < kMinScratch + 10; ++pad) {
        std::string body(pad, 'x');
        std::string m =
            "Content-Type: multipart/mixed; boundary=edge-of-the-window\r\n\r\n"
            "--edge-of-the-window\r\n"
            "Content-Type: application/octet-stream\r\n\r\n" +
            body +
            "\r\n--edge-of-the-window\r\n"
            "Content-Type: application/octet-stream\r\n\r\n" +
            body + "\r\n--edge-of-the-window--\r\n";
        std::string one = "(\"application\" \"octet-stream\" NIL NIL NIL \"7BIT\" " +
                          std::to_string(pad) + " NIL NIL NIL NIL)";
        INFO("pad " << pad);
        CHECK(structure(m) ==
              "(" + one + one + " \"mixed\" (\"boundary\" \"edge-of-the-window\") NIL NIL NIL)");
    }
}

TEST_CASE("mime: the fuzz seed corpus gives balanced output", "[mime]") {
    const char* const names[] = {"plain",     "alternative", "nested",
                                 "addresses", "attachment",  "digest_lf"};
    for (const char* name : names) {
        std::string path =
            std::string(TINYIMAPD_SOURCE_DIR) + "/tests/fuzz/corpus/fuzz_mime/" + name;
        FILE* f = std::fopen(path.c_str(), "rb");
        REQUIRE(f != nullptr);
        std::string msg;
        char buf[4096];
        std::size_t k;
        while ((k = std::fread(buf, 1, sizeof buf, f)) > 0) msg.append(buf, k);
        std::fclose(f);
        INFO(name);
        CHECK(balanced(structure(msg)));
        CHECK(balanced(structure(msg, false)));
    }
}

TEST_CASE("mime section: non-field lines are never selected", "[mime]") {
    std::string m = crlf("From foo@bar Mon Jan  1 00:00:00 2024\nno colon here\nTo: x@y\n\nb\n");
    CHECK(section(m, "BODY[HEADER.FIELDS.NOT (Subject)]") == crlf("To: x@y\n\n"));
    CHECK(section(m, "BODY[HEADER.FIELDS (To)]") == crlf("To: x@y\n\n"));
}

TEST_CASE(
    "mime bodystructure: the line break before a delimiter is not a line of the part, "
    "rfc2046_5_1_1",
    "[mime]") {
    // RFC 2046 §5.1.1: "the CRLF preceding the boundary delimiter line is
    // conceptually attached to the boundary". "one" has no line break of
    // its own: 0 lines (c-client and Dovecot); "two" CRLF has one.
    std::string m = crlf(
        "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\none\n"
        "--b\nContent-Type: text/plain\n\ntwo\n\n--b--\n");
    CHECK(structure(m, false) ==
          "((\"text\" \"plain\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3 0)"
          "(\"text\" \"plain\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 5 1) \"mixed\")");
}

namespace {

// The answer of `item` written by StructureWriter through an output of
// `window` bytes drained after every step, with `budget` bytes per step.
std::string in_pieces(const std::string& msg, StructureItem item, std::size_t window,
                      std::uint64_t budget, std::size_t* steps = nullptr) {
    MemorySource r(msg);
    StructureWriter sw;
    sw.start(item);
    std::string all;
    std::vector<char> buf(window);
    for (std::size_t n = 1;; ++n) {
        TextWriter piece(buf.data(), buf.size());
        const StructureWriter::Progress p = sw.step(r, g_scratch, sizeof g_scratch, piece, budget);
        all.append(piece.view());
        REQUIRE(sw.delivered() == all.size());
        if (steps != nullptr) *steps = n;
        if (p == StructureWriter::Progress::Done) break;
        REQUIRE(n < 10000000);
    }
    return all;
}

std::string digest(int messages) {
    std::string m =
        "From: list@example.org\r\nSubject: digest\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/digest; boundary=\"d\"\r\n\r\nPreamble.\r\n";
    for (int i = 0; i < messages; ++i) {
        const std::string n = std::to_string(i);
        m += "\r\n--d\r\n\r\nFrom: Poster " + n + " <p" + n +
             "@example.org>\r\nTo: list@example.org\r\n" +
             "Cc: Someone Else <else@example.org>\r\nReply-To: list@example.org\r\n" +
             "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nSubject: Re: the discussion of topic " + n +
             "\r\nMessage-ID: <" + n + "@example.org>\r\n\r\nA short message, number " + n +
             ".\r\n";
    }
    return m + "\r\n--d--\r\n";
}

}  // namespace

TEST_CASE("mime StructureWriter: the answer is the same bytes however it is split",
          "[mime][structure]") {
    const std::string d = digest(40);
    for (const std::string* msg : {&kNested, &kMixed, &kAlternative, &d}) {
        for (StructureItem item :
             {StructureItem::Envelope, StructureItem::Body, StructureItem::BodyStructure}) {
            const std::string whole = in_pieces(*msg, item, 1 << 20, UINT64_MAX);
            CHECK(whole.size() > 20);
            CHECK(balanced(whole));
            if (item == StructureItem::BodyStructure) CHECK(whole == structure(*msg));
            if (item == StructureItem::Body) CHECK(whole == structure(*msg, false));
            for (std::size_t window : {1, 2, 7, 64, 1000}) {
                for (std::uint64_t budget : {1, 13, 4096}) {
                    CHECK(in_pieces(*msg, item, window, budget) == whole);
                }
            }
        }
    }
    // RFC 2046 §5.1.5: the 40 messages of an ordinary digest are
    // message/rfc822 parts, each with its envelope, in an answer larger
    // than a 16 KiB output buffer.
    const std::string s = in_pieces(d, StructureItem::BodyStructure, 16384, 256 * 1024);
    CHECK(s.size() > 16384);
    std::size_t rfc822 = 0;
    for (std::size_t at = 0; (at = s.find("(\"MESSAGE\" \"RFC822\" ", at)) != std::string::npos;
         ++at) {
        ++rfc822;
    }
    CHECK(rfc822 == 40);
    CHECK(s.find("\"Re: the discussion of topic 39\"") != std::string::npos);
    CHECK(s.find("OCTET-STREAM") == std::string::npos);
}

TEST_CASE(
    "mime StructureWriter: at most kMaxMimeParts parts, the rest in the last one, "
    "bounded reads per step",
    "[mime][structure]") {
    const std::size_t parts = kMaxMimeParts + 500;
    std::string m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
    for (std::size_t i = 0; i < parts; ++i) m += "--b\r\n\r\nx\r\n";
    m += "--b--\r\n";
    std::size_t steps = 0;
    const std::string s = in_pieces(m, StructureItem::Body, 16384, 4096, &steps);
    CHECK(balanced(s));
    std::size_t leaves = 0;
    for (std::size_t at = 0; (at = s.find("(\"TEXT\" \"PLAIN\"", at)) != std::string::npos; ++at) {
        ++leaves;
    }
    // The multipart is part 1 of kMaxMimeParts: its first kMaxMimeParts - 2
    // children are one part each, the next runs to the end of the multipart.
    CHECK(leaves == kMaxMimeParts - 1);
    // The last: "x" CRLF, then 501 more "--b" CRLF CRLF "x" CRLF and the
    // close delimiter, as its body.
    CHECK(s.find("\"7BIT\" 5020 1505)") != std::string::npos);
    // Each step read about 4 KiB: many steps, none doing it all.
    CHECK(steps > m.size() / 4096);
    CHECK(in_pieces(m, StructureItem::Body, 1 << 22, UINT64_MAX) == s);
}

TEST_CASE(
    "mime StructureWriter: started after bytes already sent, it writes the rest "
    "(an evicted cache answer)",
    "[mime][structure]") {
    const std::string d = digest(5);
    for (StructureItem item : {StructureItem::Envelope, StructureItem::BodyStructure}) {
        const std::string whole = in_pieces(d, item, 1 << 20, UINT64_MAX);
        for (std::size_t sent :
             {std::size_t{0}, std::size_t{1}, whole.size() / 3, whole.size() - 1, whole.size()}) {
            MemorySource r(d);
            StructureWriter sw;
            sw.start(item, sent);
            std::string rest;
            std::vector<char> buf(97);
            for (int n = 0; n < 100000; ++n) {
                TextWriter piece(buf.data(), buf.size());
                const StructureWriter::Progress p =
                    sw.step(r, g_scratch, sizeof g_scratch, piece, 512);
                rest.append(piece.view());
                if (p == StructureWriter::Progress::Done) break;
            }
            CHECK(sw.delivered() == whole.size());
            CHECK(rest == whole.substr(sent));
        }
    }
}

namespace {

// The octets of every leaf of a BODY answer made of text/plain leaves, in
// order.
std::vector<std::uint64_t> leaf_octets(const std::string& body) {
    const std::string leaf = "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" ";
    std::vector<std::uint64_t> out;
    for (std::size_t at = 0; (at = body.find(leaf, at)) != std::string::npos;) {
        at += leaf.size();
        out.push_back(std::stoull(body.substr(at, 20)));
    }
    return out;
}

}  // namespace

TEST_CASE(
    "mime section: past kMaxMimeParts BODY[n] addresses exactly the parts BODYSTRUCTURE "
    "shows, counted in its order (RFC 3501 §6.4.5)",
    "[mime][section]") {
    // 1 = the message, 1.x = 6000 leaves, 2 = a multipart of 6000 leaves,
    // 3 and 4 leaves. BODYSTRUCTURE opens 1 + 1 + 6000 + 1 parts before 2.1,
    // so part 2 shows kMaxMimeParts - 6003 children, the last running to
    // its end, and the message's part 3 runs to the end of the message.
    const std::size_t inner = 6000;
    std::string m = "Content-Type: multipart/mixed; boundary=o\r\n\r\n";
    for (const char* b : {"a", "c"}) {
        m += std::string("--o\r\nContent-Type: multipart/mixed; boundary=") + b + "\r\n\r\n";
        for (std::size_t i = 0; i < inner; ++i) m += std::string("--") + b + "\r\n\r\nx\r\n";
        m += std::string("--") + b + "--\r\n";
    }
    m += "--o\r\n\r\nthird\r\n--o\r\n\r\nfourth\r\n--o--\r\n";
    MemorySource r(m);
    std::vector<char> out(1 << 22);
    TextWriter tw(out.data(), out.size());
    REQUIRE(write_bodystructure(r, g_scratch, sizeof g_scratch, false, tw));
    REQUIRE(tw.ok());
    const std::vector<std::uint64_t> leaves = leaf_octets(std::string(tw.view()));
    const std::size_t shown = kMaxMimeParts - 6003;
    REQUIRE(leaves.size() == inner + shown + 1);

    auto length = [&](const std::string& att, std::uint64_t budget) -> long long {
        SectionRange range;
        if (!find_in_steps(m, spec(att.c_str()), budget, &range)) return -1;
        return static_cast<long long>(range.length);
    };
    for (std::uint64_t budget : {std::uint64_t{4096}, std::uint64_t{UINT64_MAX}}) {
        CHECK(length("BODY[1.6000]", budget) == 1);
        CHECK(length("BODY[1.6001]", budget) == -1);
        CHECK(length("BODY[2.1]", budget) == 1);
        CHECK(length("BODY[2." + std::to_string(shown - 1) + "]", budget) == 1);
        // The last part shown holds the rest of part 2, as BODYSTRUCTURE says.
        CHECK(length("BODY[2." + std::to_string(shown) + "]", budget) ==
              static_cast<long long>(leaves[inner + shown - 1]));
        CHECK(leaves[inner + shown - 1] > 1);
        CHECK(length("BODY[2." + std::to_string(shown + 1) + "]", budget) == -1);
        CHECK(length("BODY[3]", budget) == static_cast<long long>(leaves.back()));
        CHECK(length("BODY[4]", budget) == -1);
    }
    // Each step read about its budget, so finding 2.n took many steps.
    SectionRange range;
    std::size_t steps = 0;
    std::uint64_t most = 0;
    REQUIRE(find_in_steps(m, spec("BODY[3]"), 4096, &range, &steps, &most));
    CHECK(steps > m.size() / 4096);
    CHECK(most <= 4096 + 3 * kMinScratch);
}

TEST_CASE(
    "mime section: a message/rfc822 or multipart opened past kMaxMimeParts has no parts "
    "(BODYSTRUCTURE shows APPLICATION/OCTET-STREAM)",
    "[mime][section]") {
    std::string m = "Content-Type: multipart/mixed; boundary=o\r\n\r\n";
    for (std::size_t i = 0; i < kMaxMimeParts - 2; ++i) m += "--o\r\n\r\nx\r\n";
    // Part kMaxMimeParts - 1, opened as the kMaxMimeParts-th (the message
    // is the first): a leaf, running to the end.
    m += "--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody\r\n--o--\r\n";
    const std::string last = std::to_string(kMaxMimeParts - 1);
    MemorySource r(m);
    std::vector<char> out(1 << 22);
    TextWriter tw(out.data(), out.size());
    REQUIRE(write_bodystructure(r, g_scratch, sizeof g_scratch, false, tw));
    REQUIRE(tw.ok());
    CHECK(std::string(tw.view()).find("\"APPLICATION\" \"OCTET-STREAM\"") != std::string::npos);
    CHECK(section(m, ("BODY[" + last + "]").c_str()) == "Subject: in\r\n\r\nbody\r\n--o--\r\n");
    CHECK(section(m, ("BODY[" + last + ".1]").c_str()) == "<none>");
    CHECK(section(m, ("BODY[" + last + ".HEADER]").c_str()) == "<none>");
    CHECK(section(m, ("BODY[" + last + ".MIME]").c_str()) ==
          "Content-Type: message/rfc822\r\n\r\n");
}

TEST_CASE("RFC 6855 §7, RFC 2047 §5: a legacy session's BODYSTRUCTURE of UTF-8 header values",
          "[bodystructure][utf8][downgrade]") {
    const std::string msg = crlf(
        "Content-Type: application/pdf; name=\"r\xc3\xa9sum\xc3\xa9.pdf\"\n"
        "Content-Description: Beschreibung \xc3\xbc\n"
        "Content-Disposition: attachment; filename=\"r\xc3\xa9sum\xc3\xa9.pdf\"\n"
        "Content-Transfer-Encoding: base64\n"
        "\n"
        "QUJD\n");
    auto downgraded = [&](bool ext) {
        MemorySource r(msg);
        TextWriter tw(g_out, sizeof g_out);
        REQUIRE(write_bodystructure(r, g_scratch, sizeof g_scratch, ext, tw, true));
        REQUIRE(tw.ok());
        return std::string(tw.view());
    };
    const std::string name = "\"=?UTF-8?B?csOpc3Vtw6kucGRm?=\"";
    CHECK(downgraded(true) ==
          "(\"application\" \"pdf\" (\"name\" " + name +
              ") NIL \"=?UTF-8?B?QmVzY2hyZWlidW5nIMO8?=\" \"base64\" 6 NIL "
              "(\"attachment\" (\"filename\" " +
              name + ")) NIL NIL)");
    CHECK(downgraded(false) == "(\"application\" \"pdf\" (\"name\" " + name +
                                   ") NIL \"=?UTF-8?B?QmVzY2hyZWlidW5nIMO8?=\" \"base64\" 6)");
    // A UTF-8 session gets the bytes as they are.
    CHECK(structure(msg).find("{12}\r\nr\xc3\xa9sum\xc3\xa9.pdf") != std::string::npos);
}
