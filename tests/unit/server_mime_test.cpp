// Whole-server tests of the MIME-facing FETCH items and the listing rule
// they were filed with (issue 12 item 6, issue 20 items 4-6) on the
// simulated platform: exact bytes where the answer is short.
#include "tests/unit/server_world.h"

namespace tinyimapd::test {
namespace {

port::Handle login(World& w) {
    port::Handle c = w.connect();
    w.net.client_receive(c);
    w.say(c, "a LOGIN alice wonderland\r\n");
    return c;
}

}  // namespace

TEST_CASE(
    "LSUB % returns an unsubscribed parent of a subscribed child as \\Noselect, "
    "rfc3501_6_3_9",
    "[server][lsub]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "b CREATE foo/bar\r\n") == "b OK CREATE completed\r\n");
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
