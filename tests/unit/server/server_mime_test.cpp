// Whole-server tests of the MIME-facing FETCH items and the listing rule
// they were filed with (issue 12 item 6, issue 20 items 4-6) on the
// simulated platform: exact bytes where the answer is short.
#include "tests/unit/server_world.h"

namespace tinyimapd::test {
TEST_CASE(
    "LSUB % returns an unsubscribed parent of a subscribed child as \\Noselect, "
    "rfc3501_6_3_9",
    "[server][lsub]") {
    World w;
    port::Handle c = login(w);
    CHECK(create_ok(w.say(c, "b CREATE foo/bar\r\n"), "b"));
    CHECK(w.say(c, "c SUBSCRIBE foo/bar\r\n") == "c OK SUBSCRIBE completed\r\n");
    CHECK(w.say(c, "d SUBSCRIBE foo/baz\r\n") == "d OK SUBSCRIBE completed\r\n");
    // RFC 3501 §6.3.9: "A "%" wildcard to LSUB must return foo, not foo/bar,
    // in the LSUB response, and it MUST be flagged with the \Noselect
    // attribute." Once, though two children are subscribed.
    CHECK(w.say(c, "e LSUB \"\" %\r\n") ==
          "* LSUB (\\Noselect) \"/\" foo\r\ne OK LSUB completed\r\n");
    CHECK(w.say(c, "f LSUB \"\" *\r\n") ==
          "* LSUB () \"/\" foo/bar\r\n* LSUB (\\Noselect) \"/\" foo/baz\r\n"
          "f OK LSUB completed\r\n");
    // Subscribed itself: listed once, as it is (here a directory made by
    // CREATE foo/bar, so \Noselect still).
    CHECK(w.say(c, "g SUBSCRIBE foo\r\n") == "g OK SUBSCRIBE completed\r\n");
    CHECK(w.say(c, "h LSUB \"\" %\r\n") ==
          "* LSUB (\\Noselect) \"/\" foo\r\nh OK LSUB completed\r\n");
    CHECK(w.say(c, "i LSUB \"\" foo/%\r\n") ==
          "* LSUB () \"/\" foo/bar\r\n* LSUB (\\Noselect) \"/\" foo/baz\r\n"
          "i OK LSUB completed\r\n");
}

}  // namespace tinyimapd::test

namespace tinyimapd::test {

TEST_CASE("BINARY of a multipart part stays refused, rfc9051_6_4_5", "[server][binary]") {
    World w;
    port::Handle c = login(w);
    const std::string m =
        "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
        "Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\n\r\nx\r\n--i--\r\n"
        "--o--\r\n";
    w.say(c, "b APPEND INBOX {" + std::to_string(m.size()) + "+}\r\n" + m + "\r\n");
    w.say(c, "c EXAMINE INBOX\r\n");
    // RFC 9051 §6.4.5: "only ... for leaf body parts"; a multipart is not
    // one (and its children are not decoded into one stream here).
    CHECK(w.say(c, "d FETCH 1 BINARY.SIZE[1]\r\n") ==
          "d NO [CANNOT] BINARY.SIZE[1]: BINARY is only for leaf body parts\r\n");
    CHECK(w.say(c, "e FETCH 1 BINARY.PEEK[1.1]\r\n") ==
          "* 1 FETCH (BINARY[1.1] {1}\r\nx)\r\ne OK FETCH completed\r\n");
}

}  // namespace tinyimapd::test

namespace tinyimapd::test {

TEST_CASE(
    "BODY[1.MIME] of a non-multipart message is the message header, as Dovecot, "
    "rfc3501_6_4_5",
    "[server][mime]") {
    World w;
    port::Handle c = login(w);
    const std::string m = "Subject: s\r\nContent-Type: text/plain\r\n\r\nbody\r\n";
    w.say(c, "b APPEND INBOX {" + std::to_string(m.size()) + "+}\r\n" + m + "\r\n");
    w.say(c, "c EXAMINE INBOX\r\n");
    // RFC 3501 §6.4.5: "Every message has at least one part number. Non-
    // [MIME-IMB] messages, and non-multipart [MIME-IMB] messages with no
    // encapsulated message, only have a part 1." Part 1 is the body; its
    // MIME header is the header that describes it, the message's own.
    // Dovecot (imap-msgpart.c: part 1 of a non-multipart is the root part)
    // answers the whole message header; so does tinyimapd.
    CHECK(w.say(c, "d FETCH 1 (BODY.PEEK[1.MIME] BODY.PEEK[1])\r\n") ==
          "* 1 FETCH (BODY[1.MIME] {40}\r\nSubject: s\r\nContent-Type: text/plain\r\n\r\n "
          "BODY[1] {6}\r\nbody\r\n)\r\nd OK FETCH completed\r\n");
}

}  // namespace tinyimapd::test

#include "core/imap/bodystructure.h"
#include "core/imap/fetch_cache.h"

namespace tinyimapd::test {
namespace {

std::string append_and_select(World& w, port::Handle c, const std::vector<std::string>& msgs) {
    for (const std::string& m : msgs) {
        w.say_until_tagged(c, "b APPEND INBOX {" + std::to_string(m.size()) + "+}\r\n" + m + "\r\n",
                           "b");
    }
    return w.say_until_tagged(c, "s SELECT INBOX\r\n", "s");
}

// BODYSTRUCTURE (or BODY) of `m` written at once by core/mime.
std::string structure_of(const std::string& m, bool extensible = true) {
    static char scratch[16384];
    std::vector<char> out(1 << 22);
    TextWriter tw(out.data(), out.size());
    MemorySource r(m);
    REQUIRE(imap::write_bodystructure(r, scratch, sizeof scratch, extensible, tw));
    REQUIRE(tw.ok());
    return std::string(tw.view());
}

std::string digest40() {
    std::string m =
        "From: list@example.org\r\nSubject: digest\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/digest; boundary=\"d\"\r\n\r\n";
    for (int i = 0; i < 40; ++i) {
        const std::string n = std::to_string(i);
        m += "--d\r\n\r\nFrom: Poster " + n + " <p" + n +
             "@example.org>\r\nTo: list@example.org\r\nCc: Someone Else <else@example.org>\r\n"
             "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nSubject: Re: the discussion of topic " +
             n + "\r\nMessage-ID: <" + n + "@example.org>\r\n\r\nA short message.\r\n\r\n";
    }
    return m + "--d--\r\n";
}

}  // namespace

TEST_CASE(
    "FETCH BODYSTRUCTURE of a 40-message digest larger than the output buffer streams "
    "whole and is cached, rfc3501_7_4_2",
    "[server][structure]") {
    World w;
    port::Handle c = login(w);
    const std::string d = digest40();
    append_and_select(w, c, {d});
    const std::string want = structure_of(d);
    REQUIRE(want.size() > w.cfg.output_buffer);
    const std::string first = w.say_until_tagged(c, "c FETCH 1 (UID BODYSTRUCTURE BODY)\r\n", "c");
    CHECK(first == "* 1 FETCH (UID 1 BODYSTRUCTURE " + want + " BODY " + structure_of(d, false) +
                       ")\r\nc OK FETCH completed\r\n");
    CHECK(first.find("OCTET-STREAM") == std::string::npos);
    // Stored as it went out: the second answer reads nothing of the message.
    w.fs.reset_counters();
    CHECK(w.say_until_tagged(c, "c FETCH 1 (UID BODYSTRUCTURE BODY)\r\n", "c") == first);
    CHECK(w.fs.calls(sim::SimFs::Op::Read) == 0);
}

TEST_CASE(
    "A mail to 400 recipients: ENVELOPE has its date and subject, SEARCH SUBJECT finds "
    "it, rfc3501_6_4_4",
    "[server][structure]") {
    World w;
    port::Handle c = login(w);
    std::string to = "To: ";
    for (int i = 0; i < 400; ++i) {
        const std::string n = std::to_string(i);
        to += (i ? ",\r\n " : "") + ("Recipient Number " + n + " <user" + n + "@example.org>");
    }
    const std::string m = "From: a@example.org\r\n" + to +
                          "\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nSubject: late subject\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n";
    REQUIRE(m.size() > 18000);
    append_and_select(w, c, {m, "Subject: other\r\n\r\nx\r\n"});
    const std::string env = w.say_until_tagged(c, "c FETCH 1 ENVELOPE\r\n", "c");
    CHECK(env.rfind("* 1 FETCH (ENVELOPE (\"Mon, 1 Jan 2024 10:00:00 +0000\" \"late subject\" "
                    "((NIL NIL \"a\" \"example.org\")) ",
                    0) == 0);
    CHECK(env.find("(\"Recipient Number 0\" NIL \"user0\" \"example.org\")") != std::string::npos);
    CHECK(env.find(" NIL NIL NIL NIL))\r\nc OK FETCH completed\r\n") != std::string::npos);
    CHECK(w.say(c, "d SEARCH SUBJECT \"late subject\"\r\n") ==
          "* SEARCH 1\r\nd OK SEARCH completed\r\n");
    CHECK(w.say(c, "e SEARCH HEADER Content-Type utf-8\r\n") ==
          "* SEARCH 1\r\ne OK SEARCH completed\r\n");
    // The late Content-Type is the part's type.
    CHECK(w.say(c, "f FETCH 1 BODY\r\n") ==
          "* 1 FETCH (BODY (\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 4 1))\r\n"
          "f OK FETCH completed\r\n");
}

TEST_CASE(
    "FETCH BODYSTRUCTURE of a message of many sibling parts: kMaxMimeParts parts, the "
    "same answer twice, other clients served meanwhile",
    "[server][structure]") {
    World w;
    port::Handle c = login(w);
    std::string m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
    for (std::size_t i = 0; i < mime::kMaxMimeParts + 2000; ++i) m += "--b\r\n\r\nx\r\n";
    m += "--b--\r\n";
    append_and_select(w, c, {m});
    port::Handle other = login(w);
    const std::string want =
        "* 1 FETCH (BODYSTRUCTURE " + structure_of(m) + ")\r\nc OK FETCH completed\r\n";
    w.net.client_send(c, "c FETCH 1 BODYSTRUCTURE\r\n");
    // One turn of the loop does a bounded share of the walk.
    w.run(1);
    std::string first = w.net.client_receive(c);
    CHECK(first.rfind("* 1 FETCH (BODYSTRUCTURE ((", 0) == 0);
    CHECK(first.size() < want.size() / 4);
    // The other client is answered while the answer is being written.
    CHECK(w.say(other, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    first += w.say_until_tagged(c, "", "c");
    CHECK(first == want);
    CHECK(w.say_until_tagged(c, "d FETCH 1 BODYSTRUCTURE\r\n", "d") ==
          "* 1 FETCH (BODYSTRUCTURE " + structure_of(m) + ")\r\nd OK FETCH completed\r\n");
}

TEST_CASE(
    "FETCH BODY[9000] of a message of many parts: found over several turns, another "
    "client's NOOP answered meanwhile; past what BODYSTRUCTURE shows NIL, rfc3501_6_4_5",
    "[server][section]") {
    World w;
    port::Handle c = login(w);
    std::string m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
    const std::string filler(120, 'x');
    for (std::size_t i = 1; i <= mime::kMaxMimeParts + 2000; ++i) {
        m += "--b\r\n\r\np" + std::to_string(i) + filler + "\r\n";
    }
    m += "--b--\r\n";
    append_and_select(w, c, {m});
    port::Handle other = login(w);
    const std::string part = "p9000" + filler;
    const std::string want = "* 1 FETCH (BODY[9000] {" + std::to_string(part.size()) + "}\r\n" +
                             part + ")\r\nc OK FETCH completed\r\n";
    w.net.client_send(c, "c FETCH 1 BODY.PEEK[9000]\r\n");
    // The parts before 9000 are more than a turn's share (256 KiB): a NOOP
    // from the other client, sent after the first turn, is answered in the
    // next one, before the FETCH is.
    w.run(1);
    std::string got = w.net.client_receive(c);
    CHECK(got.find("c OK") == std::string::npos);
    w.net.client_send(other, "n NOOP\r\n");
    w.run(1);
    CHECK(w.net.client_receive(other) == "n OK NOOP completed\r\n");
    int turns = 2;
    for (; turns < 1000 && got.find("c OK") == std::string::npos; ++turns) {
        w.run(1);
        got += w.net.client_receive(c);
    }
    CHECK(got == want);
    CHECK(turns >= static_cast<int>(m.size() * 9000 / (mime::kMaxMimeParts + 2000) / (256 * 1024)));
    // BODYSTRUCTURE shows kMaxMimeParts - 1 parts (the message is one): the
    // last holds the rest of the message, and the next number is NIL.
    const std::string last = std::to_string(mime::kMaxMimeParts - 1);
    const std::string after = std::to_string(mime::kMaxMimeParts);
    CHECK(w.say_until_tagged(c, "d FETCH 1 BODY.PEEK[" + after + "]\r\n", "d") ==
          "* 1 FETCH (BODY[" + after + "] NIL)\r\nd OK FETCH completed\r\n");
    const std::string rest = w.say_until_tagged(c, "e FETCH 1 BODY.PEEK[" + last + "]\r\n", "e");
    const std::string tail = "p" + last + filler + "\r\n--b\r\n\r\np" + after + filler;
    CHECK(rest.rfind("* 1 FETCH (BODY[" + last + "] {", 0) == 0);
    CHECK(rest.find("}\r\n" + tail) != std::string::npos);
    CHECK(rest.find("p" + std::to_string(mime::kMaxMimeParts + 2000) + filler + "\r\n--b--\r\n)") !=
          std::string::npos);
}

TEST_CASE(
    "FETCH BINARY[9000] of a message of many parts: its part found over several turns, "
    "before the response and while answering; an unknown encoding there refused with "
    "nothing sent, rfc3516_4_2",
    "[server][section][binary]") {
    World w;
    port::Handle c = login(w);
    std::string m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
    const std::string filler(120, 'x');
    for (std::size_t i = 1; i <= 12000; ++i) {
        if (i == 9000) {
            m += "--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n";
        } else if (i == 9001) {
            m += "--b\r\nContent-Transfer-Encoding: x-unknown\r\n\r\nzz\r\n";
        } else {
            m += "--b\r\n\r\np" + std::to_string(i) + filler + "\r\n";
        }
    }
    m += "--b--\r\n";
    append_and_select(w, c, {m});
    port::Handle other = login(w);
    w.net.client_send(c, "c FETCH 1 (BINARY.SIZE[9000] BINARY.PEEK[9000])\r\n");
    w.run(1);
    std::string got = w.net.client_receive(c);
    CHECK(got.find("c OK") == std::string::npos);
    w.net.client_send(other, "n NOOP\r\n");
    w.run(1);
    CHECK(w.net.client_receive(other) == "n OK NOOP completed\r\n");
    int turns = 2;
    for (; turns < 1000 && got.find("c OK") == std::string::npos; ++turns) {
        w.run(1);
        got += w.net.client_receive(c);
    }
    CHECK(got ==
          "* 1 FETCH (BINARY.SIZE[9000] 5 BINARY[9000] {5}\r\nhello)\r\nc OK FETCH completed\r\n");
    // Found before the response and again while answering, for each item,
    // each time in steps (about 70 turns a lookup).
    CHECK(turns > 3 * 9000 * 2 / 256);
    w.net.client_send(c, "d FETCH 1 BINARY.PEEK[9001]\r\n");
    std::string refused;
    for (int i = 0; i < 1000 && refused.find("d NO") == std::string::npos; ++i) {
        w.run(1);
        refused += w.net.client_receive(c);
    }
    CHECK(refused.rfind("d NO [UNKNOWN-CTE] BINARY[9001]", 0) == 0);
}

TEST_CASE("FetchCache: an answer stored in pieces, abandoned when another comes between",
          "[fetch_cache]") {
    std::vector<unsigned char> block(64 * 1024);
    imap::FetchCache cache;
    cache.init(block.data(), block.size());
    REQUIRE(cache.enabled());
    imap::FetchCacheKey k;
    k.mailbox = cache.identity("mail/alice/INBOX");
    k.uid_validity = 7;
    k.uid = 1;
    k.item = imap::CachedItem::BodyStructure;
    imap::FetchCache::PendingPut p;
    cache.begin_put(&p);
    cache.append(&p, "(\"TEXT\" ");
    cache.append(&p, "\"PLAIN\")");
    std::string_view got;
    CHECK_FALSE(cache.get(k, &got));  // not before it is finished
    cache.finish_put(&p, k);
    REQUIRE(cache.get(k, &got));
    CHECK(got == "(\"TEXT\" \"PLAIN\")");
    // Another put between two pieces: the streamed answer is dropped.
    imap::FetchCacheKey k2 = k;
    k2.uid = 2;
    cache.begin_put(&p);
    cache.append(&p, "(one");
    imap::FetchCacheKey k3 = k;
    k3.uid = 3;
    cache.put(k3, "other");
    cache.append(&p, " two)");
    cache.finish_put(&p, k2);
    CHECK_FALSE(cache.get(k2, &got));
    REQUIRE(cache.get(k3, &got));
    CHECK(got == "other");
    // Longer than max_answer(): dropped.
    cache.begin_put(&p);
    cache.append(&p, std::string(cache.max_answer(), 'x'));
    cache.append(&p, "y");
    cache.finish_put(&p, k2);
    CHECK_FALSE(cache.get(k2, &got));
    CHECK(cache.get(k, &got));
}

}  // namespace tinyimapd::test
