// Whole-server tests of the FETCH extensions on the simulated platform:
// MOVE (RFC 6851), CONDSTORE in FETCH and STORE (RFC 7162 §3.1), the
// ENVELOPE/BODYSTRUCTURE cache, and BINARY (RFC 3516). Exact bytes.
#include "tests/unit/server_world.h"

namespace tinyimapd::test {
namespace {

// Logs in and appends `messages` to INBOX (literal+), then selects it.
port::Handle login_with(World& w, const std::vector<std::string>& messages,
                        const char* select = "s SELECT INBOX\r\n") {
    port::Handle c = w.connect();
    w.net.client_receive(c);
    w.say(c, "a LOGIN alice wonderland\r\n");
    for (const std::string& m : messages) {
        w.say(c, "b APPEND INBOX {" + std::to_string(m.size()) + "+}\r\n" + m + "\r\n");
    }
    w.say(c, select);
    return c;
}

const std::vector<std::string> kThree = {"Subject: one\r\n\r\nbody one\r\n",
                                         "Subject: two\r\n\r\nbody two\r\n",
                                         "Subject: three\r\n\r\nbody three\r\n"};

}  // namespace

TEST_CASE("RFC 6851 §3.3, §4.3: MOVE sends COPYUID untagged, then EXPUNGE, then OK",
          "[server][store][move]") {
    World w;
    port::Handle c = login_with(w, kThree);
    w.say(c, "c CREATE Archive\r\n");
    CHECK(w.say(c, "d MOVE 1:2 Archive\r\n") ==
          "* OK [COPYUID 1700000001 1:2 1:2] Moved\r\n"
          "* 2 EXPUNGE\r\n* 1 EXPUNGE\r\n"
          "d OK MOVE completed\r\n");
    CHECK(w.say(c, "e FETCH 1 (UID FLAGS)\r\n") ==
          "* 1 FETCH (UID 3 FLAGS (\\Recent))\r\ne OK FETCH completed\r\n");
    // §3.3: no \Deleted anywhere; the target has the messages.
    CHECK(w.say(c, "f STATUS Archive (MESSAGES UIDNEXT)\r\n") ==
          "* STATUS Archive (MESSAGES 2 UIDNEXT 3)\r\nf OK STATUS completed\r\n");
    w.say(c, "g EXAMINE Archive\r\n");
    CHECK(w.say(c, "h FETCH 1:2 (FLAGS BODY.PEEK[HEADER])\r\n") ==
          // RFC 3501 §2.3.2: new to the target, so \Recent (EXAMINE sees it
          // without taking it).
          "* 1 FETCH (FLAGS (\\Recent) BODY[HEADER] {16}\r\nSubject: one\r\n\r\n)\r\n"
          "* 2 FETCH (FLAGS (\\Recent) BODY[HEADER] {16}\r\nSubject: two\r\n\r\n)\r\n"
          "h OK FETCH completed\r\n");
}

TEST_CASE("RFC 6851 §3.2: UID MOVE moves only the set, leaving other \\Deleted messages",
          "[server][store][move]") {
    World w;
    port::Handle c = login_with(w, kThree);
    w.say(c, "c CREATE Archive\r\n");
    w.say(c, "d STORE 1 +FLAGS.SILENT (\\Deleted)\r\n");
    CHECK(w.say(c, "e UID MOVE 2:* Archive\r\n") ==
          "* OK [COPYUID 1700000001 2:3 1:2] Moved\r\n"
          "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n"
          "e OK MOVE completed\r\n");
    CHECK(w.say(c, "f FETCH 1:* (UID FLAGS)\r\n") ==
          "* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))\r\nf OK FETCH completed\r\n");
    // A UID set that matches nothing moves nothing.
    CHECK(w.say(c, "g UID MOVE 7:9 Archive\r\n") == "g OK MOVE completed\r\n");
}

TEST_CASE("RFC 6851 §3.3: MOVE to a missing mailbox is NO [TRYCREATE]; read-only is NO",
          "[server][store][move]") {
    World w;
    port::Handle c = login_with(w, kThree);
    CHECK(w.say(c, "c MOVE 1 Nope\r\n") == "c NO [TRYCREATE] No such mailbox\r\n");
    CHECK(w.say(c, "d MOVE 4 Nope\r\n") == "d BAD Invalid message sequence number\r\n");
    w.say(c, "e EXAMINE INBOX\r\n");
    CHECK(w.say(c, "f MOVE 1 INBOX\r\n") ==
          "f NO [READ-ONLY] The mailbox is selected read-only\r\n");
    CHECK(w.say(c, "g STATUS INBOX (MESSAGES)\r\n") ==
          "* STATUS INBOX (MESSAGES 3)\r\ng OK STATUS completed\r\n");
}

TEST_CASE("RFC 6851 §3.3: MOVE into the selected mailbox gives the messages new UIDs",
          "[server][store][move]") {
    World w;
    port::Handle c = login_with(w, kThree);
    CHECK(w.say(c, "c MOVE 1 INBOX\r\n") ==
          "* OK [COPYUID 1700000000 1 4] Moved\r\n"
          "* 1 EXPUNGE\r\n* 3 EXISTS\r\n* 3 RECENT\r\n"
          "c OK MOVE completed\r\n");
    CHECK(
        w.say(c, "d FETCH 1:* UID\r\n") ==
        "* 1 FETCH (UID 2)\r\n* 2 FETCH (UID 3)\r\n* 3 FETCH (UID 4)\r\nd OK FETCH completed\r\n");
    CHECK(w.say(c, "e UID FETCH 4 BODY.PEEK[TEXT]\r\n") ==
          "* 3 FETCH (UID 4 BODY[TEXT] {10}\r\nbody one\r\n)\r\ne OK FETCH completed\r\n");
}

TEST_CASE("RFC 6851 §3.3: another session sees the MOVE as EXPUNGE and EXISTS",
          "[server][store][move]") {
    World w;
    port::Handle c = login_with(w, kThree);
    w.say(c, "c CREATE Archive\r\n");
    port::Handle d = w.connect();
    w.net.client_receive(d);
    w.say(d, "a LOGIN alice wonderland\r\n");
    w.say(d, "b SELECT INBOX\r\n");
    CHECK(w.say(c, "d MOVE 2 Archive\r\n") ==
          "* OK [COPYUID 1700000001 2 1] Moved\r\n* 2 EXPUNGE\r\nd OK MOVE completed\r\n");
    CHECK(w.say(d, "c NOOP\r\n") == "* 2 EXPUNGE\r\nc OK NOOP completed\r\n");
}

}  // namespace tinyimapd::test

namespace tinyimapd::test {

TEST_CASE("RFC 7162 §3.1.4.2, §3.1.2.1: MODSEQ item enables CONDSTORE; FLAGS then carry MODSEQ",
          "[server][store][condstore]") {
    World w;
    port::Handle c = login_with(w, kThree);
    CHECK(w.say(c, "c FETCH 1 (UID MODSEQ)\r\n") ==
          "* OK [HIGHESTMODSEQ 4] CONDSTORE enabled\r\n"
          "* 1 FETCH (UID 1 MODSEQ (2))\r\nc OK FETCH completed\r\n");
    // §3.1.4.1 / §3.1: once on, every FETCH with FLAGS has MODSEQ too.
    CHECK(w.say(c, "d FETCH 2 FLAGS\r\n") ==
          "* 2 FETCH (MODSEQ (3) FLAGS (\\Recent))\r\nd OK FETCH completed\r\n");
    // Setting \Seen by BODY[] gives the new mod-sequence with the flags.
    CHECK(
        w.say(c, "e FETCH 3 BODY[TEXT]\r\n") ==
        "* 3 FETCH (UID 3 MODSEQ (5) BODY[TEXT] {12}\r\nbody three\r\n FLAGS (\\Seen \\Recent))\r\n"
        "e OK FETCH completed\r\n");
    // STORE answers carry MODSEQ.
    CHECK(w.say(c, "f STORE 1 +FLAGS (\\Answered)\r\n") ==
          "* 1 FETCH (FLAGS (\\Answered \\Recent) UID 1 MODSEQ (6))\r\nf OK STORE completed\r\n");
    CHECK(w.say(c, "g UID STORE 2 +FLAGS (\\Flagged)\r\n") ==
          "* 2 FETCH (FLAGS (\\Flagged \\Recent) UID 2 MODSEQ (7))\r\ng OK STORE completed\r\n");
    // Example 14, with §3.2.4's UID: even .SILENT answers with the MODSEQ.
    CHECK(w.say(c, "h STORE 2 +FLAGS.SILENT (\\Draft)\r\n") ==
          "* 2 FETCH (UID 2 MODSEQ (8))\r\nh OK STORE completed\r\n");
}

TEST_CASE("RFC 7162 §3.1.4.1: FETCH (CHANGEDSINCE n) returns only messages changed since",
          "[server][store][condstore]") {
    World w;
    port::Handle c = login_with(w, kThree);
    w.say(c, "c STORE 2 +FLAGS.SILENT (\\Flagged)\r\n");
    CHECK(w.say(c, "d FETCH 1:* (FLAGS) (CHANGEDSINCE 3)\r\n") ==
          "* OK [HIGHESTMODSEQ 5] CONDSTORE enabled\r\n"
          "* 2 FETCH (MODSEQ (5) FLAGS (\\Flagged \\Recent))\r\n"
          "* 3 FETCH (MODSEQ (4) FLAGS (\\Recent))\r\nd OK FETCH completed\r\n");
    CHECK(w.say(c, "e UID FETCH 1:* (FLAGS) (CHANGEDSINCE 4)\r\n") ==
          "* 2 FETCH (UID 2 MODSEQ (5) FLAGS (\\Flagged \\Recent))\r\ne OK FETCH completed\r\n");
    CHECK(w.say(c, "f FETCH 1:* (MODSEQ) (CHANGEDSINCE 5)\r\n") == "f OK FETCH completed\r\n");
}

TEST_CASE("RFC 7162 §3.1.3: STORE (UNCHANGEDSINCE n) and [MODIFIED set]",
          "[server][store][condstore]") {
    World w;
    port::Handle c = login_with(w, kThree);
    w.say(c, "c STORE 2 +FLAGS.SILENT (\\Flagged)\r\n");  // message 2 now at modseq 5
    // Example 6: 7,5,9 style; the failing message is reported with its flags.
    CHECK(w.say(c, "d STORE 3,2,1 (UNCHANGEDSINCE 4) +FLAGS.SILENT (\\Deleted)\r\n") ==
          "* OK [HIGHESTMODSEQ 5] CONDSTORE enabled\r\n"
          "* 3 FETCH (UID 3 MODSEQ (6))\r\n"
          "* 2 FETCH (FLAGS (\\Flagged \\Recent) UID 2 MODSEQ (5))\r\n"
          "* 1 FETCH (UID 1 MODSEQ (6))\r\n"
          "d OK [MODIFIED 2] Conditional STORE failed\r\n");
    // UID STORE names UIDs; without .SILENT the flags of every message.
    CHECK(w.say(c, "e UID STORE 1:3 (UNCHANGEDSINCE 5) -FLAGS (\\Deleted)\r\n") ==
          "* 1 FETCH (FLAGS (\\Deleted \\Recent) UID 1 MODSEQ (6))\r\n"
          "* 2 FETCH (FLAGS (\\Flagged \\Recent) UID 2 MODSEQ (5))\r\n"
          "* 3 FETCH (FLAGS (\\Deleted \\Recent) UID 3 MODSEQ (6))\r\n"
          "e OK [MODIFIED 1,3] Conditional STORE failed\r\n");
    // Example 8: UNCHANGEDSINCE 0 always fails; a message named twice once.
    CHECK(w.say(c, "f STORE 1,1:2 (UNCHANGEDSINCE 0) +FLAGS.SILENT ($MDNSent)\r\n") ==
          "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $MDNSent)\r\n"
          "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $MDNSent \\*)] "
          "Flags permitted\r\n"
          "* 1 FETCH (FLAGS (\\Deleted \\Recent) UID 1 MODSEQ (6))\r\n"
          "* 1 FETCH (FLAGS (\\Deleted \\Recent) UID 1 MODSEQ (6))\r\n"
          "* 2 FETCH (FLAGS (\\Flagged \\Recent) UID 2 MODSEQ (5))\r\n"
          "f OK [MODIFIED 1:2] Conditional STORE failed\r\n");
    // Example 11's note: a message named twice does not fail the second time
    // (registering $MDNSent above took modseq 7).
    CHECK(w.say(c, "g STORE 2,1:2 (UNCHANGEDSINCE 6) +FLAGS.SILENT (\\Seen)\r\n") ==
          "* 2 FETCH (UID 2 MODSEQ (8))\r\n* 1 FETCH (UID 1 MODSEQ (8))\r\n"
          "* 2 FETCH (UID 2 MODSEQ (8))\r\n"
          "g OK STORE completed\r\n");
}

TEST_CASE("RFC 7162 §3.2.6: UID FETCH (CHANGEDSINCE n VANISHED) needs UID and ENABLE QRESYNC",
          "[server][store][condstore]") {
    World w;
    port::Handle c = login_with(w, kThree);
    CHECK(w.say(c, "c UID FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)\r\n") ==
          "c BAD VANISHED needs ENABLE QRESYNC first\r\n");
    w.say(c, "d UNSELECT\r\nd ENABLE QRESYNC\r\nd SELECT INBOX\r\n");
    CHECK(w.say(c, "e FETCH 1:* FLAGS (CHANGEDSINCE 1 VANISHED)\r\n") ==
          "e BAD VANISHED needs UID FETCH and CHANGEDSINCE\r\n");
    w.say(c, "f STORE 2 +FLAGS.SILENT (\\Deleted)\r\n");
    // RFC 7162 §3.2.7: with QRESYNC, the tagged OK carries HIGHESTMODSEQ.
    CHECK(w.say(c, "g EXPUNGE\r\n") ==
          "* VANISHED 2\r\ng OK [HIGHESTMODSEQ 6] EXPUNGE completed\r\n");
    CHECK(w.say(c, "h UID FETCH 1:5 FLAGS (CHANGEDSINCE 4 VANISHED)\r\n") ==
          "* VANISHED (EARLIER) 2\r\n"
          "h OK FETCH completed\r\n");
    CHECK(w.say(c, "i UID FETCH 1:5 FLAGS (CHANGEDSINCE 1 VANISHED)\r\n") ==
          "* VANISHED (EARLIER) 2\r\n"
          // RFC 3501 §2.3.2: the first SELECT (read-write) took \Recent.
          "* 1 FETCH (UID 1 MODSEQ (2) FLAGS ())\r\n"
          "* 2 FETCH (UID 3 MODSEQ (4) FLAGS ())\r\n"
          "i OK FETCH completed\r\n");
}

TEST_CASE("RFC 6851 §4.4: MOVE with QRESYNC reports VANISHED and HIGHESTMODSEQ",
          "[server][store][move]") {
    World w;
    port::Handle c = login_with(w, kThree);
    w.say(c, "c CREATE Archive\r\n");
    w.say(c, "d UNSELECT\r\nd ENABLE QRESYNC\r\nd SELECT INBOX\r\n");
    CHECK(w.say(c, "e UID MOVE 1,3 Archive\r\n") ==
          "* OK [COPYUID 1700000001 1,3 1,2] Moved\r\n"
          "* VANISHED 1,3\r\n"
          "e OK [HIGHESTMODSEQ 5] MOVE completed\r\n");
}

}  // namespace tinyimapd::test

#include "core/imap/fetch_cache.h"

namespace tinyimapd::test {

namespace {

const std::string kMixed =
    "From: Fred Foobar <foobar@Blurdybloop.example>\r\n"
    "Subject: afternoon meeting\r\n"
    "To: mooch@owatagu.example\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"XX\"\r\n"
    "\r\n"
    "--XX\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "hello\r\n"
    "--XX\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAEC\r\n"
    "--XX--\r\n";

}  // namespace

TEST_CASE(
    "RFC 3501 §7.4.2: a cached ENVELOPE/BODY/BODYSTRUCTURE is byte-identical and reads "
    "nothing of the message",
    "[server][store][fetch_cache]") {
    World w;
    port::Handle c = login_with(w, {kMixed, kMixed});
    const std::string ask = "c FETCH 1 (ENVELOPE BODY BODYSTRUCTURE)\r\n";
    const std::string envelope =
        "ENVELOPE (NIL \"afternoon meeting\" ((\"Fred Foobar\" NIL \"foobar\" "
        "\"Blurdybloop.example\")) ((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) "
        "((\"Fred Foobar\" NIL \"foobar\" \"Blurdybloop.example\")) ((NIL NIL \"mooch\" "
        "\"owatagu.example\")) NIL NIL NIL NIL)";
    const std::string first = w.say(c, ask);
    CHECK(first.find("* 1 FETCH (" + envelope + " BODY ((\"text\" \"plain\" (\"charset\" ") == 0);
    CHECK(first.find(" BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" ") != std::string::npos);
    w.fs.reset_counters();
    const std::string second = w.say(c, ask);
    CHECK(second == first);
    // The message's bytes were not read again: no parse.
    CHECK(w.fs.calls(sim::SimFs::Op::Read) == 0);
    // Message 2 has the same bytes but its own entry (another UID).
    CHECK(w.say(c, "d FETCH 2 ENVELOPE\r\n") ==
          "* 2 FETCH (" + envelope + ")\r\nd OK FETCH completed\r\n");
    CHECK(w.fs.calls(sim::SimFs::Op::Read) > 0);
    // A copy in another mailbox is another key, and answers the same.
    w.say(c, "e CREATE Other\r\ne COPY 1 Other\r\ne EXAMINE Other\r\n");
    CHECK(w.say(c, ask) == first);
}

TEST_CASE("FetchCache: a ring that overwrites the oldest answers, never stale, bounded",
          "[fetch_cache]") {
    std::vector<unsigned char> block(8 * 1024);
    imap::FetchCache cache;
    cache.init(block.data(), block.size());
    REQUIRE(cache.enabled());
    imap::FetchCacheKey k;
    k.mailbox = cache.identity("mail/alice/INBOX");
    k.uid_validity = 7;
    k.uid = 1;
    std::string_view got;
    CHECK_FALSE(cache.get(k, &got));
    cache.put(k, "(NIL \"one\")");
    REQUIRE(cache.get(k, &got));
    CHECK(got == "(NIL \"one\")");
    // Another item, UIDVALIDITY or mailbox is another key.
    imap::FetchCacheKey other = k;
    other.item = imap::CachedItem::BodyStructure;
    CHECK_FALSE(cache.get(other, &got));
    other = k;
    other.uid_validity = 8;
    CHECK_FALSE(cache.get(other, &got));
    other = k;
    other.mailbox = cache.identity("mail/alice/Other");
    CHECK_FALSE(cache.get(other, &got));
    // Too large for an entry: not kept.
    other = k;
    other.uid = 2;
    cache.put(other, std::string(cache.max_answer() + 1, 'x'));
    CHECK_FALSE(cache.get(other, &got));
    // Many answers later the first is overwritten, and the latest are intact.
    for (std::uint32_t uid = 10; uid < 200; ++uid) {
        other.uid = uid;
        cache.put(other, std::string(100, static_cast<char>('a' + uid % 26)));
    }
    CHECK_FALSE(cache.get(k, &got));
    other.uid = 199;
    REQUIRE(cache.get(other, &got));
    CHECK(got == std::string(100, static_cast<char>('a' + 199 % 26)));
    for (std::uint32_t uid = 10; uid < 200; ++uid) {
        other.uid = uid;
        if (cache.get(other, &got))
            CHECK(got == std::string(100, static_cast<char>('a' + uid % 26)));
    }
    // Disabled: nothing is kept.
    imap::FetchCache off;
    off.init(nullptr, 0);
    off.put(k, "x");
    CHECK_FALSE(off.get(k, &got));
}

}  // namespace tinyimapd::test

namespace tinyimapd::test {

namespace {

// Part 1 quoted-printable text, part 2 base64 with a NUL, part 3 an unknown
// encoding, part 4 a message/rfc822, part 5 7bit.
const std::string kEncoded =
    "Subject: parts\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"B\"\r\n"
    "\r\n"
    "--B\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=C3=A9 soft=\r\nbreak\r\n"
    "--B\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: BASE64\r\n"
    "\r\n"
    "AAEC\r\nAw==\r\n"
    "--B\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: x-uuencode\r\n"
    "\r\n"
    "begin 644 x\r\n"
    "--B\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "Subject: inner\r\n\r\ninner body\r\n"
    "--B\r\n"
    "\r\n"
    "plain 7bit\r\n"
    "--B--\r\n";

}  // namespace

TEST_CASE("RFC 3516 §4.2, §4.3: BINARY decodes quoted-printable and base64; literal8 for NUL",
          "[server][store][binary]") {
    World w;
    port::Handle c = login_with(w, {kEncoded,
                                    "Subject: x\r\nContent-Transfer-Encoding: "
                                    "base64\r\n\r\naGVsbG8=\r\n"});
    CHECK(w.say(c, "c FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])\r\n") ==
          "* 1 FETCH (BINARY[1] {15}\r\ncaf\xC3\xA9 softbreak BINARY.SIZE[1] 15)\r\n"
          "c OK FETCH completed\r\n");
    // §4.3: decoded data with a NUL goes as literal8.
    CHECK(w.say(c, "d FETCH 1 BINARY.PEEK[2]\r\n") == "* 1 FETCH (BINARY[2] ~{4}\r\n" +
                                                          std::string("\x00\x01\x02\x03", 4) +
                                                          ")\r\nd OK FETCH completed\r\n");
    CHECK(w.say(c, "e FETCH 1 BINARY.SIZE[2]\r\n") ==
          "* 1 FETCH (BINARY.SIZE[2] 4)\r\ne OK FETCH completed\r\n");
    // A partial counts decoded bytes; a part without NUL is a plain literal.
    CHECK(w.say(c, "f FETCH 1 BINARY.PEEK[2]<1.2>\r\n") ==
          "* 1 FETCH (BINARY[2]<1> {2}\r\n\x01\x02)\r\nf OK FETCH completed\r\n");
    CHECK(w.say(c, "g FETCH 1 BINARY.PEEK[1]<3.100>\r\n") ==
          "* 1 FETCH (BINARY[1]<3> {12}\r\n\xC3\xA9 softbreak)\r\ng OK FETCH completed\r\n");
    CHECK(w.say(c, "h FETCH 1 BINARY.PEEK[2]<9.2>\r\n") ==
          "* 1 FETCH (BINARY[2]<9> {0}\r\n)\r\nh OK FETCH completed\r\n");
    // 7bit (no Content-Transfer-Encoding) is sent as it is.
    CHECK(w.say(c, "i FETCH 1 BINARY.PEEK[5]\r\n") ==
          "* 1 FETCH (BINARY[5] {10}\r\nplain 7bit)\r\ni OK FETCH completed\r\n");
    // A part the message does not have: NIL (size 0).
    CHECK(w.say(c, "j FETCH 1 (BINARY.PEEK[9] BINARY.SIZE[9])\r\n") ==
          "* 1 FETCH (BINARY[9] NIL BINARY.SIZE[9] 0)\r\nj OK FETCH completed\r\n");
    // A single-part message: BINARY[1] is its decoded body; BINARY[] the
    // header as it is and the body decoded.
    CHECK(w.say(c, "k FETCH 2 (BINARY.PEEK[1] BINARY.SIZE[])\r\n") ==
          "* 2 FETCH (BINARY[1] {5}\r\nhello BINARY.SIZE[] 54)\r\nk OK FETCH completed\r\n");
    CHECK(w.say(c, "l FETCH 2 BINARY.PEEK[]\r\n") ==
          "* 2 FETCH (BINARY[] {54}\r\nSubject: x\r\nContent-Transfer-Encoding: "
          "base64\r\n\r\nhello)\r\nl OK FETCH completed\r\n");
    // BINARY without .PEEK sets \Seen (RFC 3516 §4.2, as BODY[]).
    CHECK(w.say(c, "m FETCH 2 BINARY[1]\r\n") ==
          "* 2 FETCH (BINARY[1] {5}\r\nhello FLAGS (\\Seen \\Recent))\r\nm OK FETCH completed\r\n");
}

TEST_CASE(
    "RFC 3516 §4.2: unknown CTE is NO [UNKNOWN-CTE]; a message/rfc822 part is its "
    "message, rfc3516_4_2",
    "[server][store][binary]") {
    World w;
    port::Handle c = login_with(w, {kEncoded});
    CHECK(w.say(c, "c FETCH 1 BINARY.PEEK[3]\r\n") ==
          "c NO [UNKNOWN-CTE] BINARY[3]: unknown Content-Transfer-Encoding\r\n");
    CHECK(w.say(c, "d FETCH 1 BINARY.SIZE[3]\r\n") ==
          "d NO [UNKNOWN-CTE] BINARY.SIZE[3]: unknown Content-Transfer-Encoding\r\n");
    // RFC 3516 does not restrict BINARY to leaves: a message/rfc822 part
    // (identity encoding, RFC 2046 §5.2.1) is its message as it is, as
    // Dovecot answers.
    CHECK(w.say(c, "e FETCH 1 (BINARY.PEEK[4] BINARY.SIZE[4])\r\n") ==
          "* 1 FETCH (BINARY[4] {28}\r\nSubject: inner\r\n\r\ninner body BINARY.SIZE[4] 28)\r\n"
          "e OK FETCH completed\r\n");
    // A leaf inside the encapsulated message of part 4 (RFC 3501 §6.4.5 numbering).
    CHECK(w.say(c, "e2 FETCH 1 (BINARY.PEEK[4.1] BINARY.SIZE[4.1])\r\n") ==
          "* 1 FETCH (BINARY[4.1] {10}\r\ninner body BINARY.SIZE[4.1] 10)\r\n"
          "e2 OK FETCH completed\r\n");
    // Nothing was set \Seen by the failed commands.
    CHECK(w.say(c, "f FETCH 1 FLAGS\r\n") ==
          "* 1 FETCH (FLAGS (\\Recent))\r\nf OK FETCH completed\r\n");
    // BINARY[] of a multipart is the message as it is (RFC 2045 §6.4).
    const std::string all = w.say(c, "g FETCH 1 BINARY.PEEK[]\r\n");
    CHECK(all == "* 1 FETCH (BINARY[] {" + std::to_string(kEncoded.size()) + "}\r\n" + kEncoded +
                     ")\r\ng OK FETCH completed\r\n");
}

}  // namespace tinyimapd::test

namespace tinyimapd::test {

namespace {

// The Subject of every message of `mailbox`, in order ("one two").
std::string subjects(World& w, port::Handle c, const std::string& mailbox) {
    w.say(c, "x EXAMINE " + mailbox + "\r\n");
    const std::string out = w.say(c, "y FETCH 1:* BODY.PEEK[HEADER.FIELDS (Subject)]\r\n");
    std::string all;
    for (std::size_t at = out.find("Subject: "); at != std::string::npos;
         at = out.find("Subject: ", at + 1)) {
        if (!all.empty()) all += ' ';
        all += out.substr(at + 9, out.find('\r', at) - at - 9);
    }
    return all;
}

}  // namespace

TEST_CASE(
    "RFC 6851 §3.3: a crash at any write of a MOVE leaves every message in at least one "
    "mailbox",
    "[server][store][move][crash]") {
    std::uint64_t points = 0;
    {
        World w;
        port::Handle c = login_with(w, kThree);
        w.say(c, "c CREATE Archive\r\n");
        w.fs.sync_all();
        const std::uint64_t before = w.fs.crash_points();
        CHECK(w.say(c, "d UID MOVE 1:2 Archive\r\n").find("d OK MOVE completed") !=
              std::string::npos);
        points = w.fs.crash_points() - before;
    }
    REQUIRE(points > 2);
    const sim::SimFs::CrashMode modes[] = {sim::SimFs::CrashMode::DropAll,
                                           sim::SimFs::CrashMode::ApplyRandom};
    for (const sim::SimFs::CrashMode mode : modes) {
        for (std::uint64_t n = 1; n <= points; ++n) {
            World w;
            port::Handle c = login_with(w, kThree);
            w.say(c, "c CREATE Archive\r\n");
            w.fs.sync_all();
            w.fs.set_crash_mode(mode);
            w.fs.set_seed(n);
            w.fs.crash_at_write(static_cast<unsigned>(n));
            const bool acked =
                w.say(c, "d UID MOVE 1:2 Archive\r\n").find("d OK") != std::string::npos;
            INFO("crash at point " << n << (acked ? " (acknowledged)" : ""));
            REQUIRE(w.fs.crashed());
            // Power back: a new server over what the disk kept.
            w.fs.restart();
            w.server->close_all();
            w.server.reset();
            w.server = std::make_unique<Server>(w.platform, w.cfg, w.block.data(), w.block.size());
            REQUIRE(w.server->load_passwd() == Status::Ok);
            REQUIRE(w.server->open_listeners() == Status::Ok);
            port::Handle d = w.connect();
            w.net.client_receive(d);
            w.say(d, "a LOGIN alice wonderland\r\n");
            const std::string inbox = subjects(w, d, "INBOX");
            const std::string archive = subjects(w, d, "Archive");
            INFO("INBOX: " << inbox << "; Archive: " << archive);
            for (const char* s : {"one", "two", "three"}) {
                const bool in_inbox =
                    (" " + inbox + " ").find(std::string(" ") + s + " ") != std::string::npos;
                const bool in_archive =
                    (" " + archive + " ").find(std::string(" ") + s + " ") != std::string::npos;
                CHECK((in_inbox || in_archive));
            }
            CHECK(inbox.find("three") != std::string::npos);
            if (acked) {
                CHECK(inbox == "three");
                CHECK(archive == "one two");
            }
        }
    }
}

}  // namespace tinyimapd::test

namespace tinyimapd::test {

TEST_CASE(
    "RFC 6851 §3.3: MOVE by sequence numbers of more messages than the store's "
    "pending-expunge list holds moves them all; a scattered one is refused whole",
    "[server][store][move]") {
    World w;
    port::Handle c = login_with(w, {});
    port::Handle x = login_with(w, {});
    const std::string m = "Subject: n\r\n\r\nx\r\n";
    for (int batch = 0; batch < 30; ++batch) {
        std::string appends;
        for (int i = 0; i < 100; ++i) {
            appends += "b APPEND INBOX {" + std::to_string(m.size()) + "+}\r\n" + m + "\r\n";
        }
        w.say(c, appends);
    }
    w.say(c, "c CREATE Archive\r\nc SELECT INBOX\r\n");
    w.say(x, "s SELECT INBOX\r\n");
    // More ranges than the store could keep as runs: refused before any copy.
    std::string scattered;
    for (int n = 1; n <= 2100; n += 2) {
        scattered += (scattered.empty() ? "" : ",") + std::to_string(n);
    }
    CHECK(w.say(c, "d MOVE " + scattered + " Archive\r\n") ==
          "d NO [LIMIT] Too many separate ranges to move at once; use UID MOVE\r\n");
    CHECK(w.say(c, "e STATUS Archive (MESSAGES)\r\n") ==
          "* STATUS Archive (MESSAGES 0)\r\ne OK STATUS completed\r\n");
    // 2500 of 3000: every original goes, reported highest first.
    const std::string moved = w.say_until_tagged(c, "f MOVE 1:2500 Archive\r\n", "f");
    CHECK(moved.find("* OK [COPYUID ") == 0);
    CHECK(moved.find("* 2500 EXPUNGE\r\n") != std::string::npos);
    CHECK(moved.find("* 1 EXPUNGE\r\nf OK MOVE completed\r\n") != std::string::npos);
    CHECK(w.say(c, "g STATUS Archive (MESSAGES)\r\n") ==
          "* STATUS Archive (MESSAGES 2500)\r\ng OK STATUS completed\r\n");
    CHECK(w.say(c, "h FETCH 1 (UID)\r\n") == "* 1 FETCH (UID 2501)\r\nh OK FETCH completed\r\n");
    // The other session lagged: it learns all 2500, no BYE.
    const std::string lagged = w.say_until_tagged(x, "n NOOP\r\n", "n");
    CHECK(lagged.find("* 2500 EXPUNGE\r\n") == 0);
    CHECK(lagged.find("* 1 EXPUNGE\r\nn OK NOOP completed\r\n") != std::string::npos);
}

}  // namespace tinyimapd::test
