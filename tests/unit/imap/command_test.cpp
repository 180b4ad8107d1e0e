// Tests for core/imap/command: the command table and every command's
// argument syntax (RFC 3501 §6 and §9, and the extensions' grammars).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/imap/command.h"
#include "core/imap/parser.h"

using namespace tinyimapd;
using namespace tinyimapd::imap;

namespace {

struct Checked {
    SyntaxVerdict verdict;
    std::string why;
    std::string culprit;
};

// Parses one command line (literals accepted) and runs parse_command on it;
// `inspect` sees the result while the parser's views are valid.
template <class F>
Checked check(const std::string& line, F inspect) {
    std::vector<char> arena(16384);
    std::vector<Arg> args(256);
    ParserLimits limits;
    Parser parser(arena.data(), arena.size(), args.data(), args.size(), limits);
    std::vector<FetchItem> items(32);
    std::vector<SearchNode> nodes(64);
    CommandScratch scratch{items.data(), items.size(), nodes.data(), nodes.size(), 100};
    std::size_t pos = 0;
    while (pos < line.size()) {
        Fed fed = parser.feed(reinterpret_cast<const std::uint8_t*>(line.data()) + pos,
                              line.size() - pos);
        pos += fed.consumed;
        if (fed.event == ParseEvent::LiteralRequest) {
            if (!parser.accept_literal()) parser.stream_literal();
            continue;
        }
        if (fed.event == ParseEvent::Error) return {SyntaxVerdict::Bad, "lexer", ""};
        if (fed.event != ParseEvent::Command) continue;
        ParsedCommand cmd{ArgReader(parser)};
        SyntaxResult r = parse_command(parser, scratch, &cmd);
        if (r.verdict == SyntaxVerdict::Ok) inspect(cmd);
        return {r.verdict, r.why, std::string(r.culprit)};
    }
    return {SyntaxVerdict::Bad, "incomplete", ""};
}

Checked check(const std::string& line) {
    return check(line, [](const ParsedCommand&) {});
}

bool ok(const std::string& line) {
    return check(line).verdict == SyntaxVerdict::Ok;
}
bool bad(const std::string& line) {
    return check(line).verdict == SyntaxVerdict::Bad;
}

}  // namespace

TEST_CASE("RFC 3501 §6.1: CAPABILITY, NOOP, LOGOUT take no arguments", "[command]") {
    CHECK(ok("a CAPABILITY\r\n"));
    CHECK(ok("a noop\r\n"));
    CHECK(ok("a LogOut\r\n"));
    CHECK(bad("a NOOP x\r\n"));
    CHECK(check("a FROB\r\n").verdict == SyntaxVerdict::Unknown);
}

TEST_CASE("RFC 3501 §6.2.3: LOGIN userid password (astrings)", "[command]") {
    check("a LOGIN SMITH SESAME\r\n", [](const ParsedCommand& c) {
        CHECK(c.id == CommandId::Login);
        CHECK(c.user == "SMITH");
        CHECK(c.password == "SESAME");
    });
    CHECK(ok("a LOGIN \"fred\" {6}\r\nsecret\r\n"));
    CHECK(ok("a LOGIN fred] x\r\n"));  // "]" is an ASTRING-CHAR
    CHECK(bad("a LOGIN fred\r\n"));
    CHECK(bad("a LOGIN fr*d x\r\n"));
    CHECK(bad("a LOGIN (fred) x\r\n"));
    CHECK(bad("a LOGIN a b c\r\n"));
}

TEST_CASE("RFC 3501 §6.2.2, RFC 4959: AUTHENTICATE mechanism [initial response]", "[command]") {
    check("a AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=\r\n", [](const ParsedCommand& c) {
        CHECK(c.mechanism == "PLAIN");
        CHECK(c.has_initial_response);
        CHECK(c.initial_response == "dGVzdAB0ZXN0AHRlc3Q=");
    });
    check("a AUTHENTICATE PLAIN =\r\n", [](const ParsedCommand& c) {
        CHECK(c.has_initial_response);
        CHECK(c.initial_response.empty());
    });
    CHECK(ok("a AUTHENTICATE GSSAPI\r\n"));
    CHECK(bad("a AUTHENTICATE PLAIN abc\r\n"));  // not base64
    CHECK(bad("a AUTHENTICATE\r\n"));
}

TEST_CASE("RFC 3501 §6.3.1-2, RFC 7162 §3.1.8, §3.2.5: SELECT/EXAMINE and parameters",
          "[command]") {
    check("a SELECT inbox\r\n", [](const ParsedCommand& c) {
        CHECK(c.id == CommandId::Select);
        CHECK(c.mailbox == "inbox");
        CHECK(!c.condstore);
    });
    check("a EXAMINE \"Sent Items\" (CONDSTORE)\r\n", [](const ParsedCommand& c) {
        CHECK(c.mailbox == "Sent Items");
        CHECK(c.condstore);
    });
    check("A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n",
          [](const ParsedCommand& c) {
              CHECK(c.qresync);
              CHECK(c.qresync_params.uidvalidity == 67890007u);
              CHECK(c.qresync_params.modseq == 20050715194045000ull);
              CHECK(c.qresync_params.known_uids.text() == "41,43:211,214:541");
          });
    CHECK(
        ok("B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,"
           "9990:9999 15000,22500,27000,29970,29973,29976:29979)))\r\n"));
    CHECK(bad("a SELECT INBOX ()\r\n"));
    CHECK(bad("a SELECT INBOX (FOO)\r\n"));
    CHECK(bad("a SELECT INBOX (QRESYNC (0 1))\r\n"));  // uidvalidity is nz-number
    CHECK(bad("a SELECT\r\n"));
    // §5.1.3: unterminated modified UTF-7: a name this server cannot use (NO).
    CHECK(check("a SELECT &Jjo\r\n").verdict == SyntaxVerdict::No);
}

TEST_CASE("RFC 3501 §6.3.3-7, RFC 6154 §3: CREATE DELETE RENAME SUBSCRIBE UNSUBSCRIBE",
          "[command]") {
    CHECK(ok("A003 CREATE owatagusiam/\r\n"));
    check("a CREATE Stuff (USE (\\Archive \\Sent))\r\n", [](const ParsedCommand& c) {
        CHECK(c.create_use == (mail::kUseArchive | mail::kUseSent));
    });
    CHECK(ok("a CREATE x (USE (\\Bogus))\r\n"));  // use-attr-ext; NO [USEATTR] later
    CHECK(bad("a CREATE x (USE (Bogus))\r\n"));
    CHECK(ok("A683 RENAME blurdybloop sarasoop\r\n"));
    check("a RENAME a b\r\n", [](const ParsedCommand& c) {
        CHECK(c.mailbox == "a");
        CHECK(c.mailbox2 == "b");
    });
    CHECK(bad("a RENAME a\r\n"));
    CHECK(ok("A002 SUBSCRIBE #news.comp.mail.mime\r\n"));
    CHECK(ok("A002 UNSUBSCRIBE #news.comp.mail.mime\r\n"));
    CHECK(ok("a DELETE \"~peter/mail/&U,BTFw-/&ZeVnLIqe-\"\r\n"));
    // 8-bit is not modified UTF-7: NO (as Dovecot), so syncing clients go on.
    CHECK(check("a DELETE \"caf\xc3\xa9\"\r\n").verdict == SyntaxVerdict::No);
    // Names the store could never hold are refused before any storage access.
    CHECK(check("a CREATE ../etc\r\n").verdict == SyntaxVerdict::No);
    CHECK(check("a CREATE \"a//b\"\r\n").verdict == SyntaxVerdict::No);
    CHECK(check("a RENAME x /abs\r\n").verdict == SyntaxVerdict::No);
    CHECK(check("a SELECT \"\"\r\n").verdict == SyntaxVerdict::No);
    CHECK(check("a SELECT &AC4ALg-\r\n").verdict == SyntaxVerdict::No);  // encoded ".."
    CHECK(ok("a CREATE owatagusiam/\r\n"));  // RFC 3501 §6.3.3: trailing delimiter
}

TEST_CASE("RFC 3501 §6.3.8-9, RFC 5258, RFC 5819: LIST and LSUB", "[command]") {
    CHECK(ok("A101 LIST \"\" \"\"\r\n"));
    CHECK(ok("A102 LIST #news.comp.mail.misc \"\"\r\n"));
    CHECK(ok("A202 LIST ~/Mail/ %\r\n"));
    CHECK(ok("a LIST \"\" *\r\n"));
    CHECK(ok("a LIST \"\" foo/%/bar*\r\n"));
    check(
        "A01 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"%\" \"Other/*\") RETURN (CHILDREN "
        "STATUS (MESSAGES UNSEEN))\r\n",
        [](const ParsedCommand& c) {
            CHECK(c.pattern_count == 2);
            CHECK((c.list_options & kListSubscribed) != 0);
            CHECK((c.list_options & kListReturnChildren) != 0);
            CHECK((c.list_options & kListReturnStatus) != 0);
            CHECK(c.list_status.count == 2);
        });
    CHECK(bad("a LIST (RECURSIVEMATCH) \"\" *\r\n"));
    CHECK(bad("a LIST (BOGUS) \"\" *\r\n"));
    CHECK(bad("a LIST \"\" * RETURN (BOGUS)\r\n"));
    CHECK(bad("a LIST \"\"\r\n"));
    CHECK(ok("A002 LSUB #news. \"comp.mail.*\"\r\n"));
    CHECK(bad("a LSUB \"\" * x\r\n"));
}

TEST_CASE("RFC 3501 §6.3.10, RFC 7162, RFC 8438: STATUS", "[command]") {
    check("A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n", [](const ParsedCommand& c) {
        CHECK(c.status.count == 2);
        CHECK(c.status.has(StatusItem::UidNext));
    });
    CHECK(ok("a STATUS INBOX (HIGHESTMODSEQ SIZE)\r\n"));
    CHECK(bad("a STATUS INBOX ()\r\n"));
    CHECK(bad("a STATUS INBOX (BOGUS)\r\n"));
    CHECK(bad("a STATUS INBOX MESSAGES\r\n"));
}

TEST_CASE("RFC 3501 §6.3.11, RFC 3502: APPEND with flags, date-time and several messages",
          "[command]") {
    check("A003 APPEND saved-messages (\\Seen) {5}\r\nhello\r\n", [](const ParsedCommand& c) {
        CHECK(c.id == CommandId::Append);
        CHECK(c.mailbox == "saved-messages");
        CHECK(c.append_count == 1);
    });
    CHECK(ok("a APPEND INBOX \" 7-Feb-1994 21:52:25 -0800\" {5}\r\nhello\r\n"));
    check("A003 APPEND saved-messages (\\Seen) {3}\r\nabc (\\Seen) {3}\r\ndef\r\n",
          [](const ParsedCommand& c) { CHECK(c.append_count == 2); });
    CHECK(bad("a APPEND INBOX (\\Recent) {1}\r\nx\r\n"));  // \Recent cannot be set
    CHECK(bad("a APPEND INBOX \"31-Feb-1994 21:52:25 -0800\" {1}\r\nx\r\n"));
    CHECK(bad("a APPEND INBOX hello\r\n"));
    CHECK(bad("a APPEND INBOX\r\n"));
}

TEST_CASE("APPEND: each message is checked before its literal is taken", "[command]") {
    std::vector<char> arena(4096);
    std::vector<Arg> args(64);
    Parser parser(arena.data(), arena.size(), args.data(), args.size(), ParserLimits{});
    const std::string line = "a APPEND INBOX (\\Seen) {3}\r\n";
    Fed fed = parser.feed(reinterpret_cast<const std::uint8_t*>(line.data()), line.size());
    REQUIRE(fed.event == ParseEvent::LiteralRequest);
    AppendMessage m;
    CHECK(append_message_ready(parser, &m).verdict == SyntaxVerdict::Ok);
    CHECK(m.has_flags);
    CHECK(m.flags.system == mail::kSeen);

    Parser p2(arena.data(), arena.size(), args.data(), args.size(), ParserLimits{});
    const std::string bad_line = "a APPEND INBOX (\\Bogus) {3}\r\n";
    fed = p2.feed(reinterpret_cast<const std::uint8_t*>(bad_line.data()), bad_line.size());
    REQUIRE(fed.event == ParseEvent::LiteralRequest);
    CHECK(append_message_ready(p2, &m).verdict == SyntaxVerdict::Bad);
}

TEST_CASE("RFC 3501 §6.4: CHECK CLOSE EXPUNGE, RFC 3691 UNSELECT, RFC 4315 UID EXPUNGE",
          "[command]") {
    CHECK(ok("a CHECK\r\n"));
    CHECK(ok("a CLOSE\r\n"));
    CHECK(ok("a UNSELECT\r\n"));
    CHECK(ok("a EXPUNGE\r\n"));
    CHECK(bad("a EXPUNGE 1:3\r\n"));
    check("A003 UID EXPUNGE 3000:3002\r\n", [](const ParsedCommand& c) {
        CHECK(c.uid);
        CHECK(c.id == CommandId::Expunge);
        CHECK(c.set.text() == "3000:3002");
    });
    CHECK(bad("a UID EXPUNGE\r\n"));
}

TEST_CASE("RFC 3501 §6.4.5: FETCH sequence set and attributes", "[command]") {
    check("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n", [](const ParsedCommand& c) {
        CHECK(c.set.text() == "2:4");
        CHECK(c.fetch.count == 2);
    });
    CHECK(ok("a FETCH 1:* ALL\r\n"));
    CHECK(ok("a FETCH * FAST\r\n"));
    CHECK(ok("a UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n"));
    CHECK(bad("a FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n"));  // RFC 7162 §3.2.6
    CHECK(bad("a FETCH 0 FLAGS\r\n"));
    CHECK(bad("a FETCH 1:x FLAGS\r\n"));
    CHECK(bad("a FETCH 1 BOGUS\r\n"));
    CHECK(bad("a FETCH 1\r\n"));
    CHECK(
        bad("a FETCH 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,"
            "27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,"
            "53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,"
            "79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101 FLAGS\r\n"));
}

TEST_CASE("RFC 3501 §6.4.6, RFC 7162 §3.1.3: STORE", "[command]") {
    check("A003 STORE 2:4 +FLAGS (\\Deleted)\r\n", [](const ParsedCommand& c) {
        CHECK(c.store.op == StoreOp::Add);
        CHECK(c.flags.system == mail::kDeleted);
    });
    check("a STORE 1 -FLAGS.SILENT \\Seen $Junk\r\n", [](const ParsedCommand& c) {
        CHECK(c.store.op == StoreOp::Remove);
        CHECK(c.store.silent);
        CHECK(c.flags.system == mail::kSeen);
        CHECK(c.flags.keyword_count == 1);
    });
    CHECK(ok("a UID STORE 7 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)\r\n"));
    CHECK(ok("a STORE 1 FLAGS ()\r\n"));
    CHECK(bad("a STORE 1 +FLAGS (\\Recent)\r\n"));
    CHECK(bad("a STORE 1 FLAGZ (\\Seen)\r\n"));
    CHECK(bad("a STORE 1\r\n"));
}

TEST_CASE("RFC 3501 §6.4.4, RFC 4731: SEARCH and BADCHARSET", "[command]") {
    CHECK(ok("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n"));
    CHECK(ok("A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n"));
    CHECK(ok("a UID SEARCH RETURN (MIN MAX COUNT) 1:* UNDELETED\r\n"));
    CHECK(check("A283 SEARCH CHARSET KOI8-R TEXT x\r\n").verdict == SyntaxVerdict::BadCharset);
    CHECK(bad("a SEARCH\r\n"));
    CHECK(bad("a SEARCH BOGUS\r\n"));
    CHECK(bad("a SEARCH SINCE 31-Feb-1994\r\n"));
}

TEST_CASE("RFC 3501 §6.4.7, RFC 6851: COPY and MOVE, with UID forms", "[command]") {
    check("A003 COPY 2:4 MEETING\r\n", [](const ParsedCommand& c) {
        CHECK(c.id == CommandId::Copy);
        CHECK(c.mailbox == "MEETING");
    });
    check("a UID MOVE 42:69 foo\r\n", [](const ParsedCommand& c) {
        CHECK(c.id == CommandId::Move);
        CHECK(c.uid);
    });
    CHECK(bad("a COPY 2:4\r\n"));
    CHECK(bad("a UID NOOP\r\n"));
    CHECK(bad("a UID LOGIN x y\r\n"));
}

TEST_CASE("RFC 2971 ID, RFC 5161 ENABLE, RFC 2342 NAMESPACE, RFC 2177 IDLE, RFC 9208 QUOTA",
          "[command]") {
    CHECK(ok("a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" NIL)\r\n"));
    CHECK(ok("a ID NIL\r\n"));
    CHECK(bad("a ID (\"name\")\r\n"));
    CHECK(bad("a ID\r\n"));
    CHECK(ok("t2 ENABLE CONDSTORE QRESYNC\r\n"));
    CHECK(bad("a ENABLE\r\n"));
    CHECK(ok("A001 NAMESPACE\r\n"));
    CHECK(ok("a IDLE\r\n"));
    CHECK(bad("a IDLE now\r\n"));
    CHECK(ok("G0001 GETQUOTA \"!partition/sda4\"\r\n"));
    CHECK(ok("G0002 GETQUOTAROOT INBOX\r\n"));
    CHECK(ok("S0000 SETQUOTA \"#user/alice\" (STORAGE 510)\r\n"));
    CHECK(bad("a SETQUOTA x (STORAGE)\r\n"));
}

TEST_CASE("Command names are case-insensitive; the table knows every command's states",
          "[command]") {
    CHECK(find_command("select") != nullptr);
    CHECK(find_command("SeLeCt")->states == kStateAuthOrSelected);
    CHECK(find_command("FETCH")->states == kStateSelected);
    CHECK(find_command("LOGIN")->states == kStateNotAuth);
    CHECK(find_command("CAPABILITY")->states == kStateAny);
    CHECK(find_command("ENABLE")->states == kStateAuth);
    CHECK(find_command("UID") == nullptr);
    for (std::size_t i = 0; i < kCommandCount; ++i) {
        const CommandInfo& info = command_info(static_cast<CommandId>(i));
        CHECK(static_cast<std::size_t>(info.id) == i);
        CHECK(find_command(info.name) == &info);
    }
}

TEST_CASE("RFC 8508 §5: REPLACE and UID REPLACE take a message, a mailbox and one message",
          "[command][replace]") {
    check("A003 REPLACE 4 Drafts (\\Seen \\Draft) {3}\r\nabc\r\n", [](const ParsedCommand& c) {
        CHECK(c.id == CommandId::Replace);
        CHECK(!c.uid);
        CHECK(c.replace.number == 4);
        CHECK(c.mailbox == "Drafts");
    });
    check("A004 UID REPLACE * Drafts \"1-Jan-2015 00:06:00 -0500\" {3}\r\nabc\r\n",
          [](const ParsedCommand& c) {
              CHECK(c.uid);
              CHECK(c.replace.star);
          });
    CHECK(bad("a REPLACE 0 Drafts {1}\r\nx\r\n"));
    CHECK(bad("a REPLACE 01 Drafts {1}\r\nx\r\n"));
    CHECK(bad("a REPLACE 1:2 Drafts {1}\r\nx\r\n"));
    CHECK(bad("a REPLACE 1 Drafts\r\n"));
    CHECK(bad("a REPLACE 1 Drafts {1}\r\nx {1}\r\ny\r\n"));  // §4.7: one message
    CHECK(bad("a UID REPLACE Drafts {1}\r\nx\r\n"));
}

TEST_CASE("RFC 8508 §3.2: REPLACE's message is checked before its literal is taken",
          "[command][replace]") {
    std::vector<char> arena(4096);
    std::vector<Arg> args(64);
    Parser parser(arena.data(), arena.size(), args.data(), args.size(), ParserLimits{});
    const std::string line = "a UID REPLACE 7 Sent (\\Seen) {3}\r\n";
    Fed fed = parser.feed(reinterpret_cast<const std::uint8_t*>(line.data()), line.size());
    REQUIRE(fed.event == ParseEvent::LiteralRequest);
    AppendMessage m;
    AppendTarget t;
    CHECK(append_message_ready(parser, &m, &t).verdict == SyntaxVerdict::Ok);
    CHECK(t.replace);
    CHECK(t.uid);
    CHECK(t.number == 7);
    CHECK(t.mailbox == "Sent");
    CHECK(m.flags.system == mail::kSeen);
    bool uid = false;
    REQUIRE(literal_command(parser, &uid) != nullptr);
    CHECK(literal_command(parser, &uid)->id == CommandId::Replace);
}

TEST_CASE("RFC 4314 §9: SETACL DELETEACL GETACL LISTRIGHTS MYRIGHTS arguments", "[command][acl]") {
    check("A SETACL INBOX/Drafts Chris +cda\r\n", [](const ParsedCommand& c) {
        CHECK(c.id == CommandId::SetAcl);
        CHECK(c.mailbox == "INBOX/Drafts");
        CHECK(c.acl_identifier == "Chris");
        CHECK(c.acl_rights == "+cda");
    });
    check("B DeleteAcl INBOX \"-Fred\"\r\n", [](const ParsedCommand& c) {
        CHECK(c.id == CommandId::DeleteAcl);
        CHECK(c.acl_identifier == "-Fred");
    });
    check("C LISTRIGHTS ~/Mail/saved smith\r\n", [](const ParsedCommand& c) {
        CHECK(c.id == CommandId::ListRights);
        CHECK(c.acl_identifier == "smith");
    });
    check("D getacl INBOX\r\n", [](const ParsedCommand& c) { CHECK(c.id == CommandId::GetAcl); });
    check("E MYRIGHTS INBOX\r\n", [](const ParsedCommand& c) { CHECK(c.id == CommandId::MyRights); });
    CHECK(bad("a SETACL INBOX Chris\r\n"));
    CHECK(bad("a SETACL INBOX Chris lr extra\r\n"));
    CHECK(bad("a GETACL INBOX x\r\n"));
    CHECK(bad("a LISTRIGHTS INBOX\r\n"));
}
