// Whole-server IMAP4rev2 (RFC 9051) beside IMAP4rev1 on the simulated
// platform: both advertised (Appendix A), ENABLE IMAP4rev2 (§6.3.1) switches
// one session to rev2's answers, by Appendix E item: SEARCH answers ESEARCH
// (E.4, §6.4.4), substring and exact search keys (E.5, §6.4.4), SELECT's
// untagged LIST (E.10, §6.3.2), no [UNSEEN] (E.11), no RECENT or \Recent
// (E.12), number64 parameters (E.14), UTF-8 names (E.16), unsolicited FETCH
// with UID (E.21). A session that does not enable it keeps IMAP4rev1's.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

port::Handle login_rev2(World& w) {
    port::Handle c = login(w);
    REQUIRE(w.say(c, "e ENABLE IMAP4rev2\r\n") ==
            "* ENABLED IMAP4rev2\r\ne OK ENABLE completed\r\n");
    return c;
}

const std::string kMessage1 =
    "From: Alice Example <alice@example.org>\r\n"
    "To: Bob <bob@example.net>\r\n"
    "Cc: Carol <carol@example.com>\r\n"
    "Bcc: Dave <dave@example.com>\r\n"
    "Subject: Quarterly Report\r\n"
    "X-Project: Falcon\r\n"
    "\r\n"
    "The numbers are in.\r\n";
const std::string kMessage2 =
    "From: Eve <eve@example.org>\r\n"
    "To: Frank <frank@example.net>\r\n"
    "Subject: lunch\r\n"
    "\r\n"
    "Pizza?\r\n";

// RFC 9051 §6.3.2: the SELECT answer, everything but the tagged line and
// MAILBOXID (random).
std::string without_mailboxid(const std::string& r) {
    const std::size_t at = r.find("* OK [MAILBOXID (");
    if (at == std::string::npos) return r;
    return r.substr(0, at) + r.substr(r.find("\r\n", at) + 2);
}

}  // namespace

TEST_CASE(
    "RFC 9051 Appendix A, §6.3.1: IMAP4rev1 and IMAP4rev2 are both advertised; ENABLE "
    "lists IMAP4rev2 once and never changes CAPABILITY",
    "[server][rev2]") {
    World w;
    port::Handle c = login(w);
    const std::string before = w.say(c, "c CAPABILITY\r\n");
    CHECK(before.find("* CAPABILITY IMAP4rev1 IMAP4rev2 ") == 0);
    CHECK(w.say(c, "e ENABLE IMAP4rev2\r\n") == "* ENABLED IMAP4rev2\r\ne OK ENABLE completed\r\n");
    // §6.3.1: "each corresponding ENABLED response SHOULD only contain
    // extensions enabled by the corresponding ENABLE command".
    CHECK(w.say(c, "f ENABLE imap4rev2 CONDSTORE\r\n") ==
          "* ENABLED CONDSTORE\r\nf OK ENABLE completed\r\n");
    // §6.3.1: "The server MUST NOT change the CAPABILITY list as a result of
    // executing ENABLE".
    CHECK(w.say(c, "c CAPABILITY\r\n") == before);
}

TEST_CASE(
    "RFC 9051 §6.3.1: ENABLE IMAP4rev2 is valid in the authenticated state only; "
    "UNAUTHENTICATE ends it",
    "[server][rev2]") {
    World w;
    port::Handle c = w.connect();
    w.net.client_receive(c);
    CHECK(w.say(c, "e ENABLE IMAP4rev2\r\n").find("e BAD") == 0);
    CHECK(w.say(c, "a LOGIN alice wonderland\r\n").find("a OK") == 0);
    CHECK(w.say(c, "e ENABLE IMAP4rev2\r\n") == "* ENABLED IMAP4rev2\r\ne OK ENABLE completed\r\n");
    CHECK(w.say(c, "u UNAUTHENTICATE\r\n") == "u OK UNAUTHENTICATE completed\r\n");
    CHECK(w.say(c, "a LOGIN alice wonderland\r\n").find("a OK") == 0);
    // IMAP4rev1 again (RFC 8437 §4.1: ENABLEd extensions are reset).
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "s SEARCH ALL\r\n") == "* SEARCH\r\ns OK SEARCH completed\r\n");
    CHECK(w.say(c, "u UNSELECT\r\n") == "u OK UNSELECT completed\r\n");
    CHECK(w.say(c, "e ENABLE IMAP4rev2\r\n") == "* ENABLED IMAP4rev2\r\ne OK ENABLE completed\r\n");
}

TEST_CASE(
    "RFC 9051 §6.4.4 (Appendix E.4): a rev2 SEARCH without RETURN answers ESEARCH as "
    "RETURN (ALL); UID SEARCH with UID; IMAP4rev1 sessions keep SEARCH",
    "[server][rev2]") {
    World w;
    port::Handle c = login_rev2(w);
    port::Handle old = login(w);
    append_to_inbox(w, c, kMessage1);
    append_to_inbox(w, c, kMessage2);
    append_to_inbox(w, c, kMessage2);
    w.say(c, "s SELECT INBOX\r\n");
    w.say(old, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "s1 SEARCH ALL\r\n") ==
          "* ESEARCH (TAG \"s1\") ALL 1:3\r\ns1 OK SEARCH completed\r\n");
    CHECK(w.say(c, "s2 SEARCH SUBJECT lunch\r\n") ==
          "* ESEARCH (TAG \"s2\") ALL 2:3\r\ns2 OK SEARCH completed\r\n");
    CHECK(w.say(c, "s3 UID SEARCH SUBJECT lunch\r\n") ==
          "* ESEARCH (TAG \"s3\") UID ALL 2:3\r\ns3 OK SEARCH completed\r\n");
    // "If the SEARCH results in no matches, the server MUST NOT include the
    // ALL result option in the ESEARCH response; however, it still MUST send
    // the ESEARCH response."
    CHECK(w.say(c, "s4 SEARCH SUBJECT nothing-like-it\r\n") ==
          "* ESEARCH (TAG \"s4\")\r\ns4 OK SEARCH completed\r\n");
    // "If no result option is specified or empty list of options is
    // specified as "()", ALL is assumed."
    CHECK(w.say(c, "s5 SEARCH RETURN () 1\r\n") ==
          "* ESEARCH (TAG \"s5\") ALL 1\r\ns5 OK SEARCH completed\r\n");
    CHECK(w.say(c, "s6 SEARCH RETURN (COUNT) ALL\r\n") ==
          "* ESEARCH (TAG \"s6\") COUNT 3\r\ns6 OK SEARCH completed\r\n");
    // SAVE alone suppresses the ESEARCH response (§6.4.4 SAVE).
    CHECK(w.say(c, "s7 SEARCH RETURN (SAVE) 2\r\n") == "s7 OK SEARCH completed\r\n");
    CHECK(w.say(c, "s8 SEARCH $\r\n") ==
          "* ESEARCH (TAG \"s8\") ALL 2\r\ns8 OK SEARCH completed\r\n");
    // The IMAP4rev1 session on the same mailbox: unchanged.
    CHECK(w.say(old, "s1 SEARCH SUBJECT lunch\r\n") ==
          "* SEARCH 2 3\r\ns1 OK SEARCH completed\r\n");
    CHECK(w.say(old, "s2 UID SEARCH SUBJECT lunch\r\n") ==
          "* SEARCH 2 3\r\ns2 OK SEARCH completed\r\n");
}

TEST_CASE(
    "RFC 9051 §6.4.4: a rev2 session's SEARCH takes CHARSET UTF-8 and US-ASCII; others get "
    "NO [BADCHARSET]",
    "[server][rev2]") {
    World w;
    port::Handle c = login_rev2(w);
    append_to_inbox(w, c, kMessage1);
    w.say(c, "s SELECT INBOX\r\n");
    // "Servers MUST support US-ASCII and UTF-8 charsets" (the example A285).
    CHECK(w.say(c, "a SEARCH CHARSET UTF-8 SUBJECT Report\r\n") ==
          "* ESEARCH (TAG \"a\") ALL 1\r\na OK SEARCH completed\r\n");
    CHECK(w.say(c, "b SEARCH CHARSET US-ASCII SUBJECT Report\r\n") ==
          "* ESEARCH (TAG \"b\") ALL 1\r\nb OK SEARCH completed\r\n");
    CHECK(w.say(c, "c SEARCH CHARSET KOI8-R SUBJECT Report\r\n").find("c NO [BADCHARSET") == 0);
}

TEST_CASE(
    "RFC 9051 §6.4.4 (Appendix E.5): each substring key matches a substring, ignoring "
    "case; KEYWORD is exact",
    "[server][rev2]") {
    World w;
    port::Handle c = login_rev2(w);
    append_to_inbox(w, c, kMessage1);
    append_to_inbox(w, c, kMessage2);
    w.say(c, "s SELECT INBOX\r\n");
    auto search = [&](const std::string& keys) {
        const std::string r = w.say(c, "k SEARCH " + keys + "\r\n");
        const std::string head = "* ESEARCH (TAG \"k\")";
        REQUIRE(r.find(head) == 0);
        return r.substr(head.size(), r.find("\r\n") - head.size());
    };
    // "In all search keys that use strings, and unless otherwise specified,
    // a message matches the key if the string is a substring of the
    // associated text. The matching SHOULD be case insensitive."
    CHECK(search("BCC AVE@EXAMPLE") == " ALL 1");       // Dave <dave@example.com>
    CHECK(search("BODY \"numbers ARE\"") == " ALL 1");  // in the body
    CHECK(search("BODY Quarterly") == "");              // header text is not BODY
    CHECK(search("CC arol") == " ALL 1");
    CHECK(search("FROM EXAMPLE.ORG") == " ALL 1:2");
    CHECK(search("FROM \"alice example\"") == " ALL 1");  // the display name too
    CHECK(search("SUBJECT ARTERLY") == " ALL 1");
    CHECK(search("SUBJECT unc") == " ALL 2");
    CHECK(search("TEXT falcon") == " ALL 1");  // TEXT: header and body
    CHECK(search("TEXT pizza") == " ALL 2");
    CHECK(search("TO frank") == " ALL 2");
    CHECK(search("HEADER X-Project alco") == " ALL 1");
    // "HEADER ... If the string to search is zero-length, this matches all
    // messages that have a header line with the specified field-name".
    CHECK(search("HEADER X-Project \"\"") == " ALL 1");
    CHECK(search("HEADER Cc \"\"") == " ALL 1");
    // KEYWORD compares the flag exactly (flags are atoms, not text).
    CHECK(w.say(c, "f STORE 1 +FLAGS ($Junk)\r\n").find("f OK") != std::string::npos);
    CHECK(search("KEYWORD $Junk") == " ALL 1");
    CHECK(search("KEYWORD $Jun") == "");
    CHECK(search("KEYWORD $JunkMail") == "");
    CHECK(search("UNKEYWORD $Jun") == " ALL 1:2");
}

TEST_CASE(
    "RFC 9051 §6.3.2 (Appendix E.10-12): a rev2 SELECT sends the mailbox's LIST, no RECENT "
    "and no [UNSEEN]; IMAP4rev1's SELECT is unchanged",
    "[server][rev2]") {
    World w;
    port::Handle c = login_rev2(w);
    port::Handle old = login(w);
    append_to_inbox(w, c, kMessage1);
    append_to_inbox(w, c, kMessage2);
    const std::string rev2 = without_mailboxid(w.say(c, "s SELECT inbox\r\n"));
    CHECK(rev2 ==
          "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
          "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags "
          "permitted\r\n"
          "* 2 EXISTS\r\n"
          "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
          "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
          "* OK [UIDNEXT 3] Predicted next UID\r\n"
          "s OK [READ-WRITE] SELECT completed\r\n");
    const std::string rev1 = without_mailboxid(w.say(old, "s EXAMINE INBOX\r\n"));
    CHECK(rev1 ==
          "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
          "* OK [PERMANENTFLAGS ()] No permanent flags in read-only mode\r\n"
          "* 2 EXISTS\r\n"
          "* 0 RECENT\r\n"
          "* OK [UNSEEN 1] First unseen message\r\n"
          "* OK [UIDVALIDITY 1700000000] UIDs valid\r\n"
          "* OK [UIDNEXT 3] Predicted next UID\r\n"
          "s OK [READ-ONLY] EXAMINE completed\r\n");
    // The attributes are accurate (§6.3.2 "MUST be accurate"): a child.
    REQUIRE(create_ok(w.say(c, "m CREATE Projects\r\n"), "m"));
    REQUIRE(create_ok(w.say(c, "m CREATE Projects/Falcon\r\n"), "m"));
    const std::string parent = w.say(c, "x EXAMINE Projects\r\n");
    CHECK(parent.find("* OK [CLOSED] Previous mailbox closed\r\n") == 0);
    CHECK(parent.find("* LIST (\\HasChildren) \"/\" Projects\r\n") != std::string::npos);
    CHECK(parent.find("RECENT") == std::string::npos);
    CHECK(parent.find("x OK [READ-ONLY] EXAMINE completed\r\n") != std::string::npos);
    // INBOX's children are named as LIST names them, in any case of INBOX.
    REQUIRE(create_ok(w.say(c, "m CREATE INBOX/Sub\r\n"), "m"));
    CHECK(
        w.say(c, "z EXAMINE inbox/Sub\r\n").find("* LIST (\\HasNoChildren) \"/\" INBOX/Sub\r\n") !=
        std::string::npos);
    CHECK(w.say(c, "y SELECT Projects/Falcon\r\n")
              .find("* LIST (\\HasNoChildren) \"/\" "
                    "Projects/Falcon\r\n") != std::string::npos);
}

TEST_CASE(
    "RFC 9051 §6.3.2: the SELECT LIST of a special-use mailbox carries its attribute, as "
    "LIST does",
    "[server][rev2]") {
    World w(4, true, true);  // Sent, Drafts, Trash, Junk, Archive made at first login
    port::Handle c = login_rev2(w);
    const std::string list = w.say(c, "l LIST \"\" Sent\r\n");
    CHECK(list == "* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\nl OK LIST completed\r\n");
    const std::string r = w.say(c, "s SELECT Sent\r\n");
    CHECK(r.find("* LIST (\\HasNoChildren \\Sent) \"/\" Sent\r\n") != std::string::npos);
}

TEST_CASE(
    "RFC 9051 §5.1, §6.3.2 (Appendix E.16): a rev2 session names mailboxes in UTF-8, "
    "SELECT's LIST too",
    "[server][rev2]") {
    World w;
    port::Handle c = login_rev2(w);
    port::Handle old = login(w);
    const std::string ete = "\xc3\xa9t\xc3\xa9";  // "été"
    REQUIRE(create_ok(w.say(c, "m CREATE \"" + ete + "\"\r\n"), "m"));
    // 8-bit names are written as literals (RFC 9051 §4.3 string).
    const std::string wire = "\"/\" {5}\r\n" + ete + "\r\n";
    CHECK(w.say(c, "l LIST \"\" %\r\n") == "* LIST (\\HasNoChildren) " + wire +
                                               "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
                                               "l OK LIST completed\r\n");
    CHECK(w.say(c, "s SELECT \"" + ete + "\"\r\n").find("* LIST (\\HasNoChildren) " + wire) !=
          std::string::npos);
    // Appendix E.16: "message headers now allow for UTF-8": a rev2 session
    // APPENDs them (an IMAP4rev1 one gets RFC 6855 §4's NO) and searches
    // them with a UTF-8 quoted string and no CHARSET (§6.4.4: "if CHARSET is
    // not provided, IMAP4rev2 servers MUST assume UTF-8").
    const std::string header8 = "Subject: caf\xc3\xa9 " + ete + "\r\n\r\nbody\r\n";
    const std::string append =
        "a APPEND INBOX {" + std::to_string(header8.size()) + "+}\r\n" + header8 + "\r\n";
    CHECK(w.say(c, append).find("a OK [APPENDUID ") == 0);
    CHECK(w.say(old, append).find("a NO 8-bit characters") == 0);
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "f SEARCH SUBJECT \"CAF\xc3\x89\"\r\n") ==
          "* ESEARCH (TAG \"f\") ALL 1\r\nf OK SEARCH completed\r\n");
    // Appendix A: "MUST NOT generate UTF-8-quoted strings unless the client
    // has issued ENABLE IMAP4rev2": modified UTF-7 for IMAP4rev1.
    CHECK(w.say(old, "l LIST \"\" %\r\n").find("\"/\" &AOk-t&AOk-\r\n") != std::string::npos);
}

TEST_CASE(
    "RFC 9051 Appendix E.12: a rev2 session sees no \\Recent and no RECENT; the search keys "
    "and STATUS RECENT are still accepted",
    "[server][rev2]") {
    World w;
    port::Handle c = login_rev2(w);
    port::Handle old = login(w);
    port::Handle writer = login(w);
    append_to_inbox(w, writer, kMessage1);
    // The rev1 session takes \Recent (it selects first): its FETCH shows it.
    w.say(old, "s SELECT INBOX\r\n");
    CHECK(w.say(old, "f FETCH 1 FLAGS\r\n") ==
          "* 1 FETCH (FLAGS (\\Recent))\r\nf OK FETCH completed\r\n");
    w.say(old, "u UNSELECT\r\n");
    // The rev2 session: the message is \Recent to it too (the rev1 session
    // gave its claim up without a word), but never shown.
    append_to_inbox(w, writer, kMessage2);
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "f FETCH 1:2 FLAGS\r\n") ==
          "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\nf OK FETCH completed\r\n");
    CHECK(w.say(c, "g FETCH 2 (FLAGS) (CHANGEDSINCE 0)\r\n").find("\\Recent") == std::string::npos);
    // The keys are kept (deprecated, not removed): RECENT, NEW, OLD.
    CHECK(w.say(c, "r SEARCH RECENT\r\n") ==
          "* ESEARCH (TAG \"r\") ALL 2\r\nr OK SEARCH completed\r\n");
    CHECK(w.say(c, "n SEARCH NEW\r\n") ==
          "* ESEARCH (TAG \"n\") ALL 2\r\nn OK SEARCH completed\r\n");
    CHECK(w.say(c, "o SEARCH OLD\r\n") ==
          "* ESEARCH (TAG \"o\") ALL 1\r\no OK SEARCH completed\r\n");
    // New mail: EXISTS alone (rev1 gets RECENT with it).
    w.say(old, "s SELECT INBOX\r\n");
    append_to_inbox(w, writer, kMessage2);
    CHECK(w.say(c, "n NOOP\r\n") == "* 3 EXISTS\r\nn OK NOOP completed\r\n");
    CHECK(w.say(old, "n NOOP\r\n") == "* 3 EXISTS\r\n* 0 RECENT\r\nn OK NOOP completed\r\n");
    // A STORE's answer shows no \Recent either.
    CHECK(w.say(c, "t STORE 3 +FLAGS (\\Seen)\r\n") ==
          "* 3 FETCH (FLAGS (\\Seen))\r\nt OK STORE completed\r\n");
    // STATUS RECENT: asked for by name, still answered.
    CHECK(w.say(c, "a STATUS Projects (RECENT)\r\n").find("a NO") == 0);
    CHECK(w.say(c, "a STATUS INBOX (MESSAGES RECENT)\r\n")
              .find("* STATUS INBOX (MESSAGES 3 "
                    "RECENT ") == 0);
}

TEST_CASE("RFC 9051 Appendix E.21: flag changes by others reach a rev2 session as FETCH with UID",
          "[server][rev2]") {
    World w;
    port::Handle c = login_rev2(w);
    port::Handle other = login(w);
    append_to_inbox(w, other, kMessage1);
    append_to_inbox(w, other, kMessage2);
    w.say(c, "s SELECT INBOX\r\n");
    w.say(other, "s SELECT INBOX\r\n");
    // §7.5.2: "If the server chooses to send unsolicited FETCH responses,
    // they MUST include UID FETCH item."
    CHECK(w.say(other, "t STORE 2 +FLAGS.SILENT (\\Flagged)\r\n") == "t OK STORE completed\r\n");
    CHECK(w.say(c, "n NOOP\r\n") ==
          "* 2 FETCH (UID 2 FLAGS (\\Flagged))\r\nn OK NOOP completed\r\n");
}

TEST_CASE("RFC 9051 §9 (Appendix E.14): number64 parameter values are read whole",
          "[server][rev2]") {
    World w;
    port::Handle c = login_rev2(w);
    append_to_inbox(w, c, kMessage1);
    w.say(c, "s SELECT INBOX\r\n");
    // tagged-ext-simple = sequence-set / number / number64: a value past
    // 2^32 (here UNCHANGEDSINCE, RFC 7162's mod-sequence, a number64).
    CHECK(w.say(c, "t STORE 1 (UNCHANGEDSINCE 9223372036854775807) +FLAGS.SILENT (\\Seen)\r\n")
              .find("t OK") != std::string::npos);
    CHECK(w.say(c, "f FETCH 1 (FLAGS) (CHANGEDSINCE 4294967296)\r\n") ==
          "f OK FETCH completed\r\n");
    CHECK(w.say(c, "g FETCH 1 (FLAGS) (CHANGEDSINCE 9223372036854775808)\r\n").find("g BAD") == 0);
}

TEST_CASE(
    "RFC 9051 §7.5.2 (Appendix E.6): a rev2 BODYSTRUCTURE joins RFC 2231 continued "
    "parameters; IMAP4rev1's passes them through",
    "[server][rev2]") {
    World w;
    port::Handle c = login_rev2(w);
    port::Handle old = login(w);
    append_to_inbox(w, c,
                    "From: a@example.org\r\n"
                    "MIME-Version: 1.0\r\n"
                    "Content-Type: application/octet-stream;\r\n"
                    " name*0=\"quarterly-\"; name*1=\"report.pdf\"\r\n"
                    "Content-Disposition: attachment;\r\n"
                    " filename*0*=utf-8''%E2%82%AC; filename*1=\" 100.txt\"\r\n"
                    "\r\n"
                    "data\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    w.say(old, "s SELECT INBOX\r\n");
    const std::string rev2_params = "(\"name\" \"quarterly-report.pdf\")";
    const std::string rev2_dsp = "(\"attachment\" (\"filename*\" \"utf-8''%E2%82%AC%20100.txt\"))";
    for (int round = 0; round < 2; ++round) {  // the second from the fetch cache
        const std::string r = w.say(c, "f FETCH 1 (BODYSTRUCTURE BODY)\r\n");
        CHECK(r == "* 1 FETCH (BODYSTRUCTURE (\"application\" \"octet-stream\" " + rev2_params +
                       " NIL NIL \"7BIT\" 6 NIL " + rev2_dsp +
                       " NIL NIL) BODY (\"application\" \"octet-stream\" " + rev2_params +
                       " NIL NIL \"7BIT\" 6))\r\nf OK FETCH completed\r\n");
        const std::string r1 = w.say(old, "f FETCH 1 (BODYSTRUCTURE)\r\n");
        CHECK(r1 ==
              "* 1 FETCH (BODYSTRUCTURE (\"application\" \"octet-stream\" "
              "(\"name*0\" \"quarterly-\" \"name*1\" \"report.pdf\") NIL NIL \"7BIT\" 6 NIL "
              "(\"attachment\" (\"filename*0*\" \"utf-8''%E2%82%AC\" \"filename*1\" "
              "\" 100.txt\")) NIL NIL))\r\nf OK FETCH completed\r\n");
    }
}

TEST_CASE(
    "RFC 9051 §7.5.2: RFC 2231 joining is bounded: a section without section 0 is left out; "
    "a list of more than four continued values is written as it is",
    "[server][rev2]") {
    World w;
    port::Handle c = login_rev2(w);
    std::string many;
    for (int i = 0; i < 5; ++i) many += "; p" + std::to_string(i) + "*0=v";
    append_to_inbox(w, c, "Content-Type: text/plain; a*1=orphan; b*0=x; b*1=y\r\n\r\nx\r\n");
    append_to_inbox(w, c, "Content-Type: text/plain" + many + "\r\n\r\nx\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "f FETCH 1:2 BODY\r\n") ==
          "* 1 FETCH (BODY (\"text\" \"plain\" (\"b\" \"xy\" \"CHARSET\" \"US-ASCII\") NIL NIL "
          "\"7BIT\" 3 1))\r\n"
          "* 2 FETCH (BODY (\"text\" \"plain\" (\"p0*0\" \"v\" \"p1*0\" \"v\" \"p2*0\" \"v\" "
          "\"p3*0\" \"v\" \"p4*0\" \"v\" \"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3 1))\r\n"
          "f OK FETCH completed\r\n");
}
