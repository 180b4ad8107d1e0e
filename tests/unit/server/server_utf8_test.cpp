// Whole-server UTF8=ACCEPT (RFC 6855) on the simulated platform: ENABLE,
// UTF-8 in quoted strings (§3), mailbox names in UTF-8 both ways for a
// session that enabled it and in modified UTF-7 for one that did not (§3),
// SEARCH CHARSET refused (§3), APPEND's UTF8 data extension (§4) and the NO
// for 8-bit headers from a session that did not enable it (§4).
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

// "Entwürfe" in UTF-8 (9 bytes) and in modified UTF-7.
const std::string kEntwuerfe =
    "Entw\xc3\xbc"
    "rfe";
const std::string kEntwuerfeUtf7 = "Entw&APw-rfe";
// "été" in UTF-8 (5 bytes) and in modified UTF-7 (RFC 3501 §5.1.3).
const std::string kEte = "\xc3\xa9t\xc3\xa9";
const std::string kEteUtf7 = "&AOk-t&AOk-";

port::Handle login_utf8(World& w) {
    port::Handle c = login(w);
    REQUIRE(w.say(c, "e ENABLE UTF8=ACCEPT\r\n") ==
            "* ENABLED UTF8=ACCEPT\r\ne OK ENABLE completed\r\n");
    return c;
}

std::string append_literal(const std::string& tag, const std::string& message,
                           const std::string& before = "APPEND INBOX") {
    return tag + " " + before + " {" + std::to_string(message.size()) + "+}\r\n" + message + "\r\n";
}

std::string append_utf8(const std::string& tag, const std::string& message,
                        const std::string& before = "APPEND INBOX") {
    return tag + " " + before + " UTF8 (~{" + std::to_string(message.size()) + "+}\r\n" + message +
           ")\r\n";
}

std::string messages_in_inbox(World& w, port::Handle c) {
    return w.say(c, "m STATUS INBOX (MESSAGES)\r\n");
}

}  // namespace

TEST_CASE("RFC 6855 §3: UTF8=ACCEPT is advertised; ENABLE lists it the first time only",
          "[server][utf8]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "c CAPABILITY\r\n").find(" UTF8=ACCEPT ") != std::string::npos);
    CHECK(w.say(c, "e ENABLE UTF8=ACCEPT\r\n") ==
          "* ENABLED UTF8=ACCEPT\r\ne OK ENABLE completed\r\n");
    CHECK(w.say(c, "f ENABLE utf8=accept CONDSTORE\r\n") ==
          "* ENABLED CONDSTORE\r\nf OK ENABLE completed\r\n");
    // RFC 6855 §3: UTF8=ONLY is not offered; a client never enables it.
    CHECK(w.say(c, "g ENABLE UTF8=ONLY\r\n") == "* ENABLED\r\ng OK ENABLE completed\r\n");
}

TEST_CASE("RFC 6855 §3: ENABLE UTF8=ACCEPT is valid in the authenticated state only",
          "[server][utf8]") {
    World w;
    port::Handle c = w.connect();
    w.net.client_receive(c);
    CHECK(w.say(c, "e ENABLE UTF8=ACCEPT\r\n").find("e BAD") == 0);
    port::Handle d = login(w);
    REQUIRE(w.say(d, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    CHECK(w.say(d, "e ENABLE UTF8=ACCEPT\r\n").find("e BAD") == 0);
    // Not enabled: a UTF-8 name is still refused as modified UTF-7.
    CHECK(w.say(d, "c CREATE \"" + kEte + "\"\r\n").find("c NO [CANNOT]") == 0);
}

TEST_CASE("RFC 6855 §3: after ENABLE, mailbox names are UTF-8 in commands and responses",
          "[server][utf8]") {
    World w;
    port::Handle u = login_utf8(w);
    port::Handle legacy = login(w);
    CHECK(create_ok(w.say(u, "c CREATE \"" + kEntwuerfe + "\"\r\n"), "c"));
    // The same mailbox, as each session names it.
    CHECK(w.say(u, "l LIST \"\" \"Entw*\"\r\n") ==
          "* LIST (\\HasNoChildren) \"/\" {9}\r\n" + kEntwuerfe + "\r\nl OK LIST completed\r\n");
    CHECK(w.say(legacy, "l LIST \"\" \"Entw*\"\r\n") ==
          "* LIST (\\HasNoChildren) \"/\" " + kEntwuerfeUtf7 + "\r\nl OK LIST completed\r\n");
    // A name made in modified UTF-7 reads as UTF-8 in the UTF-8 session.
    CHECK(create_ok(w.say(legacy, "c CREATE " + kEteUtf7 + "\r\n"), "c"));
    CHECK(w.say(u, "l LIST \"\" \"\xc3\xa9*\"\r\n") ==
          "* LIST (\\HasNoChildren) \"/\" {5}\r\n" + kEte + "\r\nl OK LIST completed\r\n");
    CHECK(w.say(u, "s STATUS \"" + kEte + "\" (MESSAGES)\r\n") ==
          "* STATUS {5}\r\n" + kEte + " (MESSAGES 0)\r\ns OK STATUS completed\r\n");
    CHECK(w.say(u, "s SELECT \"" + kEte + "\"\r\n").find("s OK [READ-WRITE]") != std::string::npos);
    CHECK(w.say(u, "s SUBSCRIBE \"" + kEntwuerfe + "\"\r\n") == "s OK SUBSCRIBE completed\r\n");
    CHECK(w.say(u, "l LSUB \"\" *\r\n").find("\"/\" {9}\r\n" + kEntwuerfe + "\r\nl OK") !=
          std::string::npos);
    CHECK(w.say(legacy, "l LSUB \"\" *\r\n").find("\"/\" " + kEntwuerfeUtf7 + "\r\nl OK") !=
          std::string::npos);
    CHECK(w.say(u, "r RENAME \"" + kEte + "\" \"" + kEte + "2\"\r\n") ==
          "r OK RENAME completed\r\n");
    CHECK(w.say(legacy, "l LIST \"\" \"&AOk-*\"\r\n") ==
          "* LIST (\\HasNoChildren) \"/\" " + kEteUtf7 + "2\r\nl OK LIST completed\r\n");
}

TEST_CASE("RFC 6855 §3: no modified UTF-7 after ENABLE: '&' is an ampersand", "[server][utf8]") {
    World w;
    port::Handle u = login_utf8(w);
    port::Handle legacy = login(w);
    CHECK(create_ok(w.say(u, "c CREATE \"A&B\"\r\n"), "c"));
    CHECK(create_ok(w.say(u, "d CREATE " + kEteUtf7 + "\r\n"), "d"));
    const std::string all = w.say(legacy, "l LIST \"\" *\r\n");
    CHECK(all.find("\"/\" A&-B\r\n") != std::string::npos);
    CHECK(all.find("\"/\" &-AOk-t&-AOk-\r\n") != std::string::npos);
    CHECK(w.say(u, "l LIST \"\" \"A&*\"\r\n") ==
          "* LIST (\\HasNoChildren) \"/\" A&B\r\nl OK LIST completed\r\n");
}

TEST_CASE("RFC 6855 §3: 8-bit bytes in a quoted string must be UTF-8 after ENABLE (BAD)",
          "[server][utf8]") {
    World w;
    port::Handle u = login_utf8(w);
    for (const std::string& bad : {std::string("a\xff"), std::string("a\xc3"),
                                   std::string("\xc0\xaf"),          // overlong '/'
                                   std::string("\xed\xa0\x80"),      // a surrogate
                                   std::string("\xf4\x90\x80\x80"),  // past U+10FFFF
                                   std::string("\x80x")}) {
        INFO("quoted " << bad.size() << " bytes");
        CHECK(w.say(u, "b CREATE \"" + bad + "\"\r\n") ==
              "b BAD Invalid UTF-8 in quoted string\r\n");
    }
    // The connection goes on.
    CHECK(w.say(u, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    // A literal is not a quoted string: a bad name there is NO, as ever.
    CHECK(w.say(u, "c CREATE {2+}\r\na\xff\r\n").find("c NO [CANNOT]") == 0);
}

TEST_CASE("RFC 6855 §3: control characters are refused in UTF-8 mailbox names", "[server][utf8]") {
    World w;
    port::Handle u = login_utf8(w);
    // U+0085 (C1), U+2028 LINE SEPARATOR, U+2029 PARAGRAPH SEPARATOR.
    for (const std::string& bad :
         {std::string("a\xc2\x85"), std::string("a\xe2\x80\xa8"), std::string("a\xe2\x80\xa9")}) {
        CHECK(w.say(u, "c CREATE \"" + bad + "\"\r\n").find("c NO [CANNOT]") == 0);
    }
    CHECK(w.say(u, "l LIST \"\" *\r\n") ==
          "* LIST (\\HasNoChildren) \"/\" INBOX\r\nl OK LIST completed\r\n");
}

TEST_CASE("RFC 6855 §3: SEARCH with a CHARSET is BAD after ENABLE UTF8=ACCEPT", "[server][utf8]") {
    World w;
    port::Handle u = login_utf8(w);
    const std::string msg = "Subject: caf\xc3\xa9\r\n\r\nbody\r\n";
    REQUIRE(w.say(u, append_utf8("a", msg)).find("a OK") != std::string::npos);
    REQUIRE(w.say(u, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    CHECK(w.say(u, "t SEARCH CHARSET UTF-8 SUBJECT caf\r\n") ==
          "t BAD SEARCH with CHARSET after ENABLE UTF8=ACCEPT\r\n");
    CHECK(w.say(u, "t SEARCH CHARSET KOI8-R SUBJECT caf\r\n") ==
          "t BAD SEARCH with CHARSET after ENABLE UTF8=ACCEPT\r\n");
    // Without one, UTF-8 in a quoted string is the search text.
    CHECK(w.say(u, "t SEARCH SUBJECT \"caf\xc3\xa9\"\r\n") ==
          "* SEARCH 1\r\nt OK SEARCH completed\r\n");
    // A session that did not enable it still names its charset.
    port::Handle legacy = login(w);
    REQUIRE(w.say(legacy, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    CHECK(w.say(legacy, "t SEARCH CHARSET UTF-8 SUBJECT {5+}\r\ncaf\xc3\xa9\r\n") ==
          "* SEARCH 1\r\nt OK SEARCH completed\r\n");
}

TEST_CASE("RFC 6855 §4: APPEND with the UTF8 data extension stores the message as sent",
          "[server][utf8]") {
    World w;
    port::Handle u = login_utf8(w);
    const std::string msg =
        "From: J\xc3\xb6rg <j\xc3\xb6rg@example.org>\r\n"
        "Subject: Gr\xc3\xbc\xc3\x9f"
        "e\r\n\r\nHallo\r\n";
    CHECK(w.say(u, append_utf8("a", msg)).find("a OK [APPENDUID ") == 0);
    CHECK(w.say(u, append_utf8("b", msg, "APPEND INBOX (\\Seen) \"01-Jan-2024 10:00:00 +0000\""))
              .find("b OK [APPENDUID ") == 0);
    // A synchronizing literal8 gets its continuation request.
    CHECK(w.say(u, "c APPEND INBOX UTF8 (~{" + std::to_string(msg.size()) + "}\r\n") ==
          "+ Ready for the message\r\n");
    CHECK(w.say(u, msg + ")\r\n").find("c OK [APPENDUID ") == 0);
    // MULTIAPPEND (RFC 3502) with UTF8 messages and a plain one.
    CHECK(w.say(u, "d APPEND INBOX UTF8 (~{" + std::to_string(msg.size()) + "+}\r\n" + msg +
                       ") {8+}\r\nX: y\r\n\r\n UTF8 (~{" + std::to_string(msg.size()) + "+}\r\n" +
                       msg + ")\r\n")
              .find("d OK [APPENDUID ") == 0);
    REQUIRE(w.say(u, "s SELECT INBOX\r\n").find("* 6 EXISTS") != std::string::npos);
    CHECK(w.say(u, "f FETCH 2 (FLAGS BODY.PEEK[])\r\n") ==
          "* 2 FETCH (FLAGS (\\Seen \\Recent) BODY[] {" + std::to_string(msg.size()) + "}\r\n" +
              msg + ")\r\nf OK FETCH completed\r\n");
    // The UTF-8 header data goes out as it is (RFC 6855 §3: the session
    // accepts UTF-8), in literals.
    auto lit = [](const std::string& t) { return "{" + std::to_string(t.size()) + "}\r\n" + t; };
    const std::string addr =
        "((" + lit("J\xc3\xb6rg") + " NIL " + lit("j\xc3\xb6rg") + " \"example.org\"))";
    CHECK(w.say(u, "f FETCH 1 (ENVELOPE)\r\n") ==
          "* 1 FETCH (ENVELOPE (NIL " +
              lit("Gr\xc3\xbc\xc3\x9f"
                  "e") +
              " " + addr + " " + addr + " " + addr +
              " NIL NIL NIL NIL NIL))\r\nf OK FETCH completed\r\n");
}

TEST_CASE("RFC 6855 §4: malformed UTF8 data extensions are BAD, nothing stored", "[server][utf8]") {
    World w;
    port::Handle u = login_utf8(w);
    CHECK(w.say(u, "a APPEND INBOX UTF8 {8+}\r\nX: y\r\n\r\n\r\n").find("a BAD") == 0);
    CHECK(w.say(u, "b APPEND INBOX UTF8 (\"X: y\")\r\n").find("b BAD") == 0);
    CHECK(w.say(u, "c APPEND INBOX UTF8 ()\r\n").find("c BAD") == 0);
    CHECK(w.say(u, "d APPEND INBOX UTF8 () {8+}\r\nX: y\r\n\r\n\r\n").find("d BAD") == 0);
    CHECK(messages_in_inbox(w, u) == "* STATUS INBOX (MESSAGES 0)\r\nm OK STATUS completed\r\n");
}

TEST_CASE("RFC 6855 §4: without ENABLE, an APPEND with 8-bit header bytes is NO",
          "[server][utf8]") {
    World w;
    port::Handle legacy = login(w);
    const std::string header8 = "Subject: caf\xc3\xa9\r\n\r\nbody\r\n";
    const std::string body8 =
        "Subject: cafe\r\n\r\nbo\xc3\xa9"
        "dy\r\n";
    const std::string bare_lf =
        "Subject: cafe\n\nbo\xc3\xa9"
        "dy\n";
    CHECK(w.say(legacy, append_literal("a", header8)) ==
          "a NO 8-bit characters in a message header need ENABLE UTF8=ACCEPT (RFC 6855)\r\n");
    CHECK(w.say(legacy, append_utf8("b", header8)).find("b NO 8-bit") == 0);
    // MULTIAPPEND: all or nothing (RFC 3502 §6.3.11).
    CHECK(w.say(legacy, "c APPEND INBOX {" + std::to_string(body8.size()) + "+}\r\n" + body8 +
                            " {" + std::to_string(header8.size()) + "+}\r\n" + header8 + "\r\n")
              .find("c NO 8-bit") == 0);
    CHECK(messages_in_inbox(w, legacy) ==
          "* STATUS INBOX (MESSAGES 0)\r\nm OK STATUS completed\r\n");
    // 8-bit in the body only is not in a header field.
    CHECK(w.say(legacy, append_literal("d", body8)).find("d OK") == 0);
    CHECK(w.say(legacy, append_literal("e", bare_lf)).find("e OK") == 0);
    // Split across chunks: the header's 8-bit byte in a later piece.
    CHECK(w.say(legacy, "f APPEND INBOX {" + std::to_string(header8.size()) + "+}\r\nSubject: caf")
              .empty());
    CHECK(w.say(legacy, header8.substr(12) + "\r\n").find("f NO 8-bit") == 0);
    // The session that enabled UTF8=ACCEPT may append it (either form).
    port::Handle u = login_utf8(w);
    CHECK(w.say(u, append_literal("g", header8)).find("g OK") == 0);
    CHECK(messages_in_inbox(w, u) == "* STATUS INBOX (MESSAGES 3)\r\nm OK STATUS completed\r\n");
}

TEST_CASE("RFC 6855 §3, RFC 8437 §3: UNAUTHENTICATE ends UTF8=ACCEPT", "[server][utf8]") {
    World w;
    port::Handle u = login_utf8(w);
    REQUIRE(w.say(u, "u UNAUTHENTICATE\r\n") == "u OK UNAUTHENTICATE completed\r\n");
    REQUIRE(w.say(u, "a LOGIN alice wonderland\r\n").find("a OK") == 0);
    CHECK(w.say(u, "c CREATE \"" + kEte + "\"\r\n").find("c NO [CANNOT]") == 0);
    CHECK(w.say(u, "d CREATE \"a\xff\"\r\n").find("d NO [CANNOT]") == 0);
}

TEST_CASE("RFC 6855 §7: a session without UTF-8 gets ENVELOPE/BODYSTRUCTURE strings as RFC 2047 "
          "encoded words, the message bytes unchanged",
          "[server][utf8][downgrade]") {
    World w;
    port::Handle u = login_utf8(w);
    const std::string msg =
        "From: J\xc3\xb6rg <jorg@example.org>\r\n"
        "To: j\xc3\xb6rg@example.org\r\n"
        "Subject: Gr\xc3\xbc\xc3\x9f"
        "e\r\n"
        "Content-Type: text/plain; charset=utf-8; name=\"\xc3\xa4.txt\"\r\n\r\nHallo\r\n";
    const std::string plain = "From: a@example.org\r\nSubject: hello\r\n\r\nHallo\r\n";
    REQUIRE(w.say(u, append_utf8("a", msg)).find("a OK") == 0);
    REQUIRE(w.say(u, append_literal("b", plain)).find("b OK") == 0);
    REQUIRE(w.say(u, "s SELECT INBOX\r\n").find("* 2 EXISTS") != std::string::npos);
    port::Handle legacy = login(w);
    REQUIRE(w.say(legacy, "s SELECT INBOX\r\n").find("* 2 EXISTS") != std::string::npos);

    auto lit = [](const std::string& t) { return "{" + std::to_string(t.size()) + "}\r\n" + t; };
    const std::string from = "(" + lit("J\xc3\xb6rg") + " NIL \"jorg\" \"example.org\")";
    const std::string raw_env =
        "ENVELOPE (NIL " + lit("Gr\xc3\xbc\xc3\x9f" "e") + " (" + from + ") (" + from + ") (" +
        from + ") ((NIL NIL " + lit("j\xc3\xb6rg") + " \"example.org\")) NIL NIL NIL NIL)";
    const std::string from_ew = "(\"=?UTF-8?B?SsO2cmc=?=\" NIL \"jorg\" \"example.org\")";
    // RFC 6858 §2.1: the UTF-8 address is named in the display name.
    const std::string ew_env =
        "ENVELOPE (NIL \"=?UTF-8?B?R3LDvMOfZQ==?=\" (" + from_ew + ") (" + from_ew + ") (" +
        from_ew +
        ") ((\"=?UTF-8?B?asO2cmdAZXhhbXBsZS5vcmc=?=\" NIL \"invalid\" "
        "\"internationalized-address.invalid\")) NIL NIL NIL NIL)";
    const std::string raw_body =
        "BODY (\"text\" \"plain\" (\"charset\" \"utf-8\" \"name\" " + lit("\xc3\xa4.txt") +
        ") NIL NIL \"7BIT\" 7 1)";
    const std::string ew_body =
        "BODY (\"text\" \"plain\" (\"charset\" \"utf-8\" \"name\" \"=?UTF-8?B?w6QudHh0?=\") NIL "
        "NIL \"7BIT\" 7 1)";
    // Each twice and in both orders: the FETCH cache keeps the two kinds
    // apart.
    for (int round = 0; round < 2; ++round) {
        CHECK(w.say(u, "f FETCH 1 (ENVELOPE BODY)\r\n") ==
              "* 1 FETCH (" + raw_env + " " + raw_body + ")\r\nf OK FETCH completed\r\n");
        CHECK(w.say(legacy, "f FETCH 1 (ENVELOPE BODY)\r\n") ==
              "* 1 FETCH (" + ew_env + " " + ew_body + ")\r\nf OK FETCH completed\r\n");
    }
    // The message itself is not changed (sizes, BODY[] and BODY[HEADER] as
    // stored), so caches and signatures stay valid.
    const std::string header = msg.substr(0, msg.find("\r\n\r\n") + 4);
    CHECK(w.say(legacy, "g FETCH 1 (RFC822.SIZE BODY.PEEK[HEADER])\r\n") ==
          "* 1 FETCH (RFC822.SIZE " + std::to_string(msg.size()) + " BODY[HEADER] " + lit(header) +
              ")\r\ng OK FETCH completed\r\n");
    // A 7-bit message: the same bytes for both.
    const std::string a = w.say(u, "h FETCH 2 (ENVELOPE BODYSTRUCTURE)\r\n");
    CHECK(a.find("\"hello\"") != std::string::npos);
    CHECK(w.say(legacy, "h FETCH 2 (ENVELOPE BODYSTRUCTURE)\r\n") == a);
    // IMAP4rev2 sets the same mode (RFC 9051 Appendix A): raw UTF-8.
    port::Handle rev2 = login(w);
    REQUIRE(w.say(rev2, "e ENABLE IMAP4rev2\r\n").find("e OK") != std::string::npos);
    REQUIRE(w.say(rev2, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    CHECK(w.say(rev2, "f FETCH 1 (ENVELOPE)\r\n") ==
          "* 1 FETCH (" + raw_env + ")\r\nf OK FETCH completed\r\n");
}
