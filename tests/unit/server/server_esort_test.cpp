// Whole-server ESORT (RFC 5267 §3) and PARTIAL (RFC 5267 §4.4) on the
// simulated platform, byte for byte: SORT RETURN answered with one ESEARCH
// response in sort order (MIN MAX COUNT ALL, ranges only where numbers
// ascend), PARTIAL for SEARCH and SORT, their syntax errors, and SAVE with
// both (RFC 5182 §2.4, RFC 9394 §3.2).
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

void append(World& w, port::Handle c, const std::string& date, const std::string& message,
            const std::string& flags = "") {
    w.net.client_send(c, "p APPEND INBOX " + (flags.empty() ? "" : "(" + flags + ") ") + "\"" +
                             date + "\" {" + std::to_string(message.size()) + "+}\r\n" + message +
                             "\r\n");
    w.run(8 + static_cast<int>(message.size() / 4096));
    const std::string r = w.net.client_receive(c);
    INFO(r);
    REQUIRE(r.find("p OK") != std::string::npos);
}

// server_sort_test.cpp's four messages behind an expunged one: sequence
// numbers 1..4 are UIDs 2..5. ARRIVAL orders them 3 4 2 1 (UIDs 4 5 3 2),
// DATE 3 2 1 4, SUBJECT 1 3 2 4 (1 and 3 are "apple").
const std::string kMessages[] = {
    "From: Zed <bob@x.org>\r\nSubject: Re: apple\r\n"
    "Date: Sun, 2 Feb 2020 10:00:00 +0000\r\n\r\nbody one\r\n",
    "From: alice@x.org\r\nSubject: Banana\r\n"
    "Date: Sat, 1 Feb 2020 23:00:00 -0200\r\n\r\nbody two\r\n",
    "From: Bob <BOB@x.org>\r\nSubject: [Fwd: APPLE]\r\n\r\nb\r\n",
    "From: emile@x.org\r\nSubject: cherry\r\n"
    "Date: Mon, 3 Feb 2020 00:00:00 +0000\r\n\r\nbody four\r\n",
};
const std::string kArrival[] = {"05-Jan-2020 00:00:00 +0000", "04-Jan-2020 00:00:00 +0000",
                                "01-Jan-2020 00:00:00 +0000", "03-Jan-2020 00:00:00 +0000"};

port::Handle four_messages(World& w) {
    port::Handle c = login(w);
    append(w, c, "01-Jan-2019 00:00:00 +0000", "Subject: gone\r\n\r\nx\r\n");
    for (int i = 0; i < 4; ++i) append(w, c, kArrival[i], kMessages[i]);
    w.say(c, "s SELECT INBOX\r\n");
    REQUIRE(w.say(c, "s STORE 1 +FLAGS (\\Deleted)\r\n").find("s OK") != std::string::npos);
    REQUIRE(w.say(c, "s EXPUNGE\r\n").find("s OK") != std::string::npos);
    return c;
}

std::string esorted(const std::string& data, const std::string& tag = "s") {
    return "* ESEARCH (TAG \"" + tag + "\")" + data + "\r\n" + tag + " OK SORT completed\r\n";
}

std::string esearched(const std::string& data) {
    return "* ESEARCH (TAG \"s\")" + data + "\r\ns OK SEARCH completed\r\n";
}

bool is_bad(const std::string& r) {
    return r.compare(0, 6, "s BAD ") == 0 && r.find("\r\n") == r.size() - 2;
}

// What "$" holds now, as message numbers.
std::string dollar(World& w, port::Handle c) {
    const std::string r = w.say(c, "d SEARCH RETURN (ALL) $\r\n");
    const std::string head = "* ESEARCH (TAG \"d\")";
    REQUIRE(r.compare(0, head.size(), head) == 0);
    const std::size_t end = r.find("\r\n");
    std::string all = r.substr(head.size(), end - head.size());
    if (all.compare(0, 5, " ALL ") == 0) all = all.substr(5);
    CHECK(r.substr(end + 2) == "d OK SEARCH completed\r\n");
    return all;
}

}  // namespace

TEST_CASE("RFC 5267 §3.1: SORT RETURN answers one ESEARCH in sort order", "[server][esort]") {
    World w;
    port::Handle c = four_messages(w);
    CHECK(w.say(c, "s SORT RETURN (MIN MAX COUNT ALL) (ARRIVAL) UTF-8 ALL\r\n") ==
          esorted(" MIN 3 MAX 1 COUNT 4 ALL 3:4,2,1"));
    CHECK(w.say(c, "s UID SORT RETURN (MIN MAX COUNT ALL) (ARRIVAL) UTF-8 ALL\r\n") ==
          esorted(" UID MIN 4 MAX 2 COUNT 4 ALL 4:5,3,2"));
    // Options in any case and order; MIN is the first in sort order.
    CHECK(w.say(c, "s SORT RETURN (count min) (SUBJECT) UTF-8 SUBJECT apple\r\n") ==
          esorted(" MIN 1 COUNT 2"));
    CHECK(w.say(c, "s SORT RETURN (MAX) (REVERSE ARRIVAL) US-ASCII ALL\r\n") == esorted(" MAX 3"));
    // Without RETURN: RFC 5256's answer, unchanged.
    CHECK(w.say(c, "s SORT (ARRIVAL) UTF-8 ALL\r\n") ==
          "* SORT 3 4 2 1\r\ns OK SORT completed\r\n");
}

TEST_CASE("RFC 5267 §3.2: ranges in ALL only where the numbers ascend in sort order",
          "[server][esort]") {
    World w;
    port::Handle c = four_messages(w);
    CHECK(w.say(c, "s SORT RETURN (ALL) (REVERSE ARRIVAL) UTF-8 ALL\r\n") ==
          esorted(" ALL 1:2,4,3"));
    // §3.3: RETURN () is ALL. REVERSE DATE: 4 1 2 3, UIDs 5 2 3 4.
    CHECK(w.say(c, "s UID SORT RETURN () (REVERSE DATE) UTF-8 ALL\r\n") ==
          esorted(" UID ALL 5,2:4"));
    CHECK(w.say(c, "s SORT RETURN () (SUBJECT) UTF-8 ALL\r\n") == esorted(" ALL 1,3,2,4"));
}

TEST_CASE("RFC 4731 §3.1 as RFC 5267 §3 adapts it: no match gives COUNT 0 and nothing else",
          "[server][esort]") {
    World w;
    port::Handle c = four_messages(w);
    CHECK(w.say(c, "s SORT RETURN (MIN MAX COUNT ALL) (ARRIVAL) UTF-8 SUBJECT nothing\r\n") ==
          esorted(" COUNT 0"));
    CHECK(w.say(c, "s UID SORT RETURN (MIN MAX) (ARRIVAL) UTF-8 SUBJECT nothing\r\n") ==
          esorted(" UID"));
}

TEST_CASE("RFC 5267 §4.4: PARTIAL gives the a-th to b-th results in sort order",
          "[server][esort]") {
    World w;
    port::Handle c = four_messages(w);
    CHECK(w.say(c, "s SORT RETURN (PARTIAL 2:3) (ARRIVAL) UTF-8 ALL\r\n") ==
          esorted(" PARTIAL (2:3 4,2)"));
    // "500:400 is the same as 400:500"; the range is echoed as written.
    CHECK(w.say(c, "s SORT RETURN (PARTIAL 3:1) (ARRIVAL) UTF-8 ALL\r\n") ==
          esorted(" PARTIAL (3:1 3:4,2)"));
    // Past the end: what there is, or NIL.
    CHECK(w.say(c, "s UID SORT RETURN (COUNT PARTIAL 3:9) (ARRIVAL) UTF-8 ALL\r\n") ==
          esorted(" UID COUNT 4 PARTIAL (3:9 3,2)"));
    CHECK(w.say(c, "s SORT RETURN (PARTIAL 5:9) (ARRIVAL) UTF-8 ALL\r\n") ==
          esorted(" PARTIAL (5:9 NIL)"));
    CHECK(w.say(c, "s SORT RETURN (MIN PARTIAL 1:2) (ARRIVAL) UTF-8 SUBJECT nothing\r\n") ==
          esorted(" PARTIAL (1:2 NIL)"));
}

TEST_CASE("RFC 5267 §4.4: SEARCH RETURN (PARTIAL) in mailbox order", "[server][esort]") {
    World w;
    port::Handle c = four_messages(w);
    CHECK(w.say(c, "s SEARCH RETURN (PARTIAL 2:3) ALL\r\n") == esearched(" PARTIAL (2:3 2:3)"));
    CHECK(w.say(c, "s UID SEARCH RETURN (MIN COUNT PARTIAL 4:2) ALL\r\n") ==
          esearched(" UID MIN 2 COUNT 4 PARTIAL (4:2 3:5)"));
    CHECK(w.say(c, "s SEARCH RETURN (PARTIAL 1:10) SUBJECT apple\r\n") ==
          esearched(" PARTIAL (1:10 1,3)"));
    CHECK(w.say(c, "s SEARCH RETURN (PARTIAL 1:10 COUNT) SUBJECT nothing\r\n") ==
          esearched(" COUNT 0 PARTIAL (1:10 NIL)"));
    CHECK(w.say(c, "s SEARCH RETURN (PARTIAL 3:3) SUBJECT apple\r\n") ==
          esearched(" PARTIAL (3:3 NIL)"));
}

TEST_CASE("RFC 5267 §4.4: a long PARTIAL streams, then MAX and COUNT follow it",
          "[server][esort]") {
    World w;
    port::Handle c = login(w);
    // Every other message flagged: 40 single-message ranges, more than a
    // SEARCH holds before it streams.
    for (int i = 1; i <= 90; ++i) {
        append(w, c, "01-Jan-2020 00:00:00 +0000",
               "Subject: m" + std::to_string(i) + "\r\n\r\nx\r\n", i % 2 == 1 ? "\\Flagged" : "");
    }
    w.say(c, "s SELECT INBOX\r\n");
    std::string part;
    for (int k = 2; k <= 42; ++k) part += (part.empty() ? "" : ",") + std::to_string(2 * k - 1);
    CHECK(w.say_until_tagged(c, "s SEARCH RETURN (MIN MAX COUNT PARTIAL 2:42) FLAGGED\r\n", "s") ==
          "* ESEARCH (TAG \"s\") MIN 1 PARTIAL (2:42 " + part +
              ") MAX 89 COUNT 45\r\ns OK SEARCH completed\r\n");
    // Equal arrival dates: ties go by sequence number (RFC 5256), even
    // reversed, so ALL is one ascending range.
    CHECK(w.say_until_tagged(c, "s SORT RETURN (ALL) (REVERSE ARRIVAL) UTF-8 ALL\r\n", "s") ==
          esorted(" ALL 1:90"));
    CHECK(w.say_until_tagged(c, "s SORT RETURN (COUNT ALL) (ARRIVAL) UTF-8 ALL\r\n", "s") ==
          esorted(" COUNT 90 ALL 1:90"));
}

TEST_CASE("RFC 5267 §5: ESORT's and PARTIAL's syntax errors are BAD", "[server][esort]") {
    World w;
    port::Handle c = four_messages(w);
    CHECK(is_bad(w.say(c, "s SORT RETURN (BOGUS) (ARRIVAL) UTF-8 ALL\r\n")));
    CHECK(is_bad(w.say(c, "s SORT RETURN MIN (ARRIVAL) UTF-8 ALL\r\n")));
    // §4.4: "either one PARTIAL, one ALL, or neither".
    CHECK(is_bad(w.say(c, "s SORT RETURN (ALL PARTIAL 1:2) (ARRIVAL) UTF-8 ALL\r\n")));
    CHECK(is_bad(w.say(c, "s SEARCH RETURN (PARTIAL 1:2 ALL) ALL\r\n")));
    CHECK(is_bad(w.say(c, "s SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL\r\n")));
    // partial-range = nz-number ":" nz-number.
    CHECK(is_bad(w.say(c, "s SEARCH RETURN (PARTIAL 0:2) ALL\r\n")));
    CHECK(is_bad(w.say(c, "s SEARCH RETURN (PARTIAL 1:*) ALL\r\n")));
    CHECK(is_bad(w.say(c, "s SEARCH RETURN (PARTIAL 5) ALL\r\n")));
    CHECK(is_bad(w.say(c, "s SEARCH RETURN (PARTIAL) ALL\r\n")));
    CHECK(is_bad(w.say(c, "s SEARCH RETURN (PARTIAL 1:4294967296) ALL\r\n")));
    // RETURN comes before the sort criteria, once; THREAD has none.
    CHECK(is_bad(w.say(c, "s SORT (ARRIVAL) RETURN (ALL) UTF-8 ALL\r\n")));
    CHECK(is_bad(w.say(c, "s SORT RETURN (MIN) (ARRIVAL) UTF-8 RETURN (ALL) ALL\r\n")));
    CHECK(is_bad(w.say(c, "s THREAD RETURN (ALL) REFERENCES UTF-8 ALL\r\n")));
    // The session goes on.
    CHECK(w.say(c, "s SORT RETURN (COUNT) (ARRIVAL) UTF-8 ALL\r\n") == esorted(" COUNT 4"));
}

TEST_CASE("RFC 5182 §2.4 with RFC 5267 §3: SORT RETURN (SAVE ...) keeps what SEARCH's would",
          "[server][esort][searchres]") {
    World w;
    port::Handle c = four_messages(w);
    // SAVE alone: no ESEARCH response, every match kept.
    CHECK(w.say(c, "s SORT RETURN (SAVE) (ARRIVAL) UTF-8 SUBJECT apple\r\n") ==
          "s OK SORT completed\r\n");
    CHECK(dollar(w, c) == "1,3");
    // MIN and MAX are the first and last in sort order: those are kept.
    CHECK(w.say(c, "s SORT RETURN (SAVE MIN) (ARRIVAL) UTF-8 ALL\r\n") == esorted(" MIN 3"));
    CHECK(dollar(w, c) == "3");
    CHECK(w.say(c, "s UID SORT RETURN (SAVE MIN MAX) (ARRIVAL) UTF-8 ALL\r\n") ==
          esorted(" UID MIN 4 MAX 2"));
    CHECK(dollar(w, c) == "1,3");
    // RFC 9394 §3.2: PARTIAL's messages (with MIN/MAX), all with COUNT or ALL.
    CHECK(w.say(c, "s SORT RETURN (SAVE PARTIAL 2:3) (ARRIVAL) UTF-8 ALL\r\n") ==
          esorted(" PARTIAL (2:3 4,2)"));
    CHECK(dollar(w, c) == "2,4");
    CHECK(w.say(c, "s SORT RETURN (SAVE MAX PARTIAL 1:1) (ARRIVAL) UTF-8 ALL\r\n") ==
          esorted(" MAX 1 PARTIAL (1:1 3)"));
    CHECK(dollar(w, c) == "1,3");
    CHECK(w.say(c, "s SORT RETURN (SAVE COUNT PARTIAL 1:1) (ARRIVAL) UTF-8 NOT 2\r\n") ==
          esorted(" COUNT 3 PARTIAL (1:1 3)"));
    CHECK(dollar(w, c) == "1,3:4");
    CHECK(w.say(c, "s SORT RETURN (SAVE ALL) (REVERSE ARRIVAL) UTF-8 ALL\r\n") ==
          esorted(" ALL 1:2,4,3"));
    CHECK(dollar(w, c) == "1:4");
    // "$" in SORT's criteria, then SAVE over it.
    CHECK(w.say(c, "s SORT RETURN (SAVE ALL) (REVERSE ARRIVAL) UTF-8 $ SUBJECT apple\r\n") ==
          esorted(" ALL 1,3"));
    CHECK(dollar(w, c) == "1,3");
}

TEST_CASE("RFC 9394 §3.2: SEARCH RETURN (SAVE PARTIAL) keeps PARTIAL's messages",
          "[server][esort][searchres]") {
    World w;
    port::Handle c = four_messages(w);
    CHECK(w.say(c, "s SEARCH RETURN (SAVE PARTIAL 2:3) ALL\r\n") ==
          esearched(" PARTIAL (2:3 2:3)"));
    CHECK(dollar(w, c) == "2:3");
    CHECK(w.say(c, "s SEARCH RETURN (SAVE MIN PARTIAL 3:4) ALL\r\n") ==
          esearched(" MIN 1 PARTIAL (3:4 3:4)"));
    CHECK(dollar(w, c) == "1,3:4");
    CHECK(w.say(c, "s SEARCH RETURN (SAVE MAX PARTIAL 1:1) ALL\r\n") ==
          esearched(" MAX 4 PARTIAL (1:1 1)"));
    CHECK(dollar(w, c) == "1,4");
    CHECK(w.say(c, "s SEARCH RETURN (SAVE COUNT PARTIAL 1:1) ALL\r\n") ==
          esearched(" COUNT 4 PARTIAL (1:1 1)"));
    CHECK(dollar(w, c) == "1:4");
}

TEST_CASE("RFC 5182 §2.1: a SORT RETURN (SAVE) answered NO [LIMIT] leaves $ empty",
          "[server][esort][searchres]") {
    World w(4, true, false, [](Config& cfg) { cfg.sort_buffer_kib = 1; });
    port::Handle c = login(w);
    for (int i = 0; i < 40; ++i) {
        append(w, c, "01-Jan-2020 00:00:00 +0000",
               "Subject: a subject line long enough to fill it " + std::to_string(i) +
                   "\r\n\r\nx\r\n");
    }
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "s SEARCH RETURN (SAVE) 1:5\r\n") == "s OK SEARCH completed\r\n");
    CHECK(w.say_until_tagged(c, "s SORT RETURN (SAVE COUNT) (SUBJECT) UTF-8 ALL\r\n", "s") ==
          "s NO [LIMIT] Too many messages to sort in the work area (sort_buffer_kib)\r\n");
    CHECK(dollar(w, c).empty());
}

TEST_CASE("RFC 5267 §3.1: ESORT is advertised with SORT", "[server][esort]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "a CAPABILITY\r\n").find(" THREAD=REFERENCES ESORT ") != std::string::npos);
    World off(4, true, false, [](Config& cfg) { cfg.sort_buffers = 0; });
    port::Handle d = login(off);
    CHECK(off.say(d, "a CAPABILITY\r\n").find("ESORT") == std::string::npos);
}
