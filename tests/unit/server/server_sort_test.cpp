// Whole-server SORT and THREAD (RFC 5256, RFC 5957 SORT=DISPLAY) on the
// simulated platform, byte for byte: every sort key, REVERSE, the implicit
// sequence-number criterion, charsets, the search criteria, UID forms, the
// work area's limit (NO [LIMIT], RFC 5530) and its pool (a SORT that finds
// no free area waits; other clients are answered during a long SORT).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

void append(World& w, port::Handle c, const std::string& date, const std::string& message) {
    w.net.client_send(c, "p APPEND INBOX \"" + date + "\" {" + std::to_string(message.size()) +
                             "+}\r\n" + message + "\r\n");
    w.run(8 + static_cast<int>(message.size() / 4096));
    const std::string r = w.net.client_receive(c);
    INFO(r);
    REQUIRE(r.find("p OK") != std::string::npos);
}

// Four messages whose keys disagree with each other, appended behind one
// that is expunged, so that UIDs (2..5) differ from sequence numbers (1..4).
const std::string kMessages[] = {
    "From: Zed <bob@x.org>\r\nTo: carol@x.org\r\nCc: Dan <dan@x.org>\r\nSubject: Re: apple\r\n"
    "Date: Sun, 2 Feb 2020 10:00:00 +0000\r\n\r\nbody one\r\n",
    "From: alice@x.org\r\nTo: \"Alpha\" <zoe@x.org>\r\nSubject: Banana\r\n"
    "Date: Sat, 1 Feb 2020 23:00:00 -0200\r\n\r\nbody two, a little longer than the others\r\n",
    "From: Bob <BOB@x.org>\r\nSubject: [Fwd: APPLE]\r\n\r\nb\r\n",
    "From: =?utf-8?q?=C3=89mile?= <emile@x.org>\r\nTo: bob@x.org\r\nSubject: cherry\r\n"
    "Date: Mon, 3 Feb 2020 00:00:00 +0000\r\n\r\nbody four is longest of all of these\r\n",
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

std::string sorted(const std::string& numbers) {
    return "* SORT" + numbers + "\r\ns OK SORT completed\r\n";
}

}  // namespace

TEST_CASE("RFC 5256 BASE.6.4.SORT: every sort key, ascending, ties by sequence number",
          "[server][sort]") {
    World w;
    port::Handle c = four_messages(w);
    auto sort = [&](const std::string& keys) {
        return w.say(c, "s SORT (" + keys + ") UTF-8 ALL\r\n");
    };
    CHECK(sort("ARRIVAL") == sorted(" 3 4 2 1"));
    // The sent date in UTC (§2.2): 2 Feb 01:00Z before 2 Feb 10:00Z; no
    // Date header: the internal date.
    CHECK(sort("DATE") == sorted(" 3 2 1 4"));
    // SIZE: ascending octets.
    std::vector<std::pair<std::size_t, int>> sizes;
    for (int i = 0; i < 4; ++i) sizes.emplace_back(kMessages[i].size(), i + 1);
    std::sort(sizes.begin(), sizes.end());
    std::string by_size;
    for (const auto& s : sizes) by_size += " " + std::to_string(s.second);
    CHECK(sort("SIZE") == sorted(by_size));
    // Base subjects (§2.1) under i;unicode-casemap: "apple" = "APPLE".
    CHECK(sort("SUBJECT") == sorted(" 1 3 2 4"));
    // The first address's mailbox: "bob" = "BOB"; no To: the empty string first.
    CHECK(sort("FROM") == sorted(" 2 1 3 4"));
    CHECK(sort("TO") == sorted(" 3 4 1 2"));
    CHECK(sort("CC") == sorted(" 2 3 4 1"));
}

TEST_CASE("RFC 5256 BASE.6.4.SORT: REVERSE turns one criterion, never the sequence number",
          "[server][sort]") {
    World w;
    port::Handle c = four_messages(w);
    auto sort = [&](const std::string& keys) {
        return w.say(c, "s SORT (" + keys + ") US-ASCII ALL\r\n");
    };
    CHECK(sort("REVERSE ARRIVAL") == sorted(" 1 2 4 3"));
    CHECK(sort("REVERSE SUBJECT") == sorted(" 4 2 1 3"));
    // Priority order: FROM, then DATE among bob and BOB.
    CHECK(sort("FROM DATE") == sorted(" 2 3 1 4"));
    CHECK(sort("REVERSE FROM DATE") == sorted(" 4 3 1 2"));
    CHECK(sort("FROM REVERSE DATE") == sorted(" 2 1 3 4"));
    CHECK(sort("subject reverse size") == sorted(" 1 3 2 4"));
}

TEST_CASE("RFC 5957 §3, §4: DISPLAYFROM and DISPLAYTO sort on the decoded display name",
          "[server][sort]") {
    World w;
    port::Handle c = four_messages(w);
    // "Zed", alice@x.org (no name), "Bob", "Émile" (RFC 2047).
    CHECK(w.say(c, "s SORT (DISPLAYFROM) UTF-8 ALL\r\n") == sorted(" 2 3 4 1"));
    // carol@x.org, "Alpha", none, bob@x.org.
    CHECK(w.say(c, "s SORT (DISPLAYTO) UTF-8 ALL\r\n") == sorted(" 3 2 4 1"));
    CHECK(w.say(c, "s SORT (REVERSE DISPLAYFROM) UTF-8 ALL\r\n") == sorted(" 1 4 3 2"));
}

TEST_CASE("RFC 5256 BASE.6.4.SORT: search criteria, UID SORT, charsets and errors",
          "[server][sort]") {
    World w;
    port::Handle c = four_messages(w);
    CHECK(w.say(c, "s SORT (SUBJECT) UTF-8 NOT FROM alice\r\n") == sorted(" 1 3 4"));
    CHECK(w.say(c, "s SORT (SUBJECT) UTF-8 SUBJECT apple\r\n") == sorted(" 1 3"));
    CHECK(w.say(c, "s SORT (ARRIVAL) UTF-8 2:3\r\n") == sorted(" 3 2"));
    // UID SORT answers UIDs (the first message, UID 1, was expunged).
    CHECK(w.say(c, "s UID SORT (ARRIVAL) UTF-8 ALL\r\n") ==
          "* SORT 4 5 3 2\r\ns OK SORT completed\r\n");
    CHECK(w.say(c, "s UID SORT (ARRIVAL) UTF-8 UID 3:4\r\n") ==
          "* SORT 4 3\r\ns OK SORT completed\r\n");
    CHECK(w.say(c, "s SORT (DATE) UTF-8 DELETED\r\n") == sorted(""));
    // §BASE.6.4.SORT: US-ASCII and UTF-8 must be implemented; others NO.
    CHECK(w.say(c, "s SORT (DATE) KOI8-R ALL\r\n") ==
          "s NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset: KOI8-R\r\n");
    CHECK(w.say(c, "s SORT (DATE) \"utf-8\" ALL\r\n") == sorted(" 3 2 1 4"));
    // Malformed: BAD, with what was wrong.
    CHECK(w.say(c, "s SORT DATE UTF-8 ALL\r\n").rfind("s BAD ", 0) == 0);
    CHECK(w.say(c, "s SORT (COLOUR) UTF-8 ALL\r\n") == "s BAD Unknown sort key: COLOUR\r\n");
    CHECK(w.say(c, "s SORT () UTF-8 ALL\r\n") == "s BAD Missing sort criteria\r\n");
    CHECK(w.say(c, "s SORT (DATE) UTF-8\r\n").rfind("s BAD ", 0) == 0);
    CHECK(w.say(c, "s SORT (DATE)\r\n").rfind("s BAD ", 0) == 0);
    CHECK(w.say(c, "s SORT (DATE) UTF-8 CHARSET UTF-8 ALL\r\n").rfind("s BAD ", 0) == 0);
    CHECK(w.say(c, "s SORT (DATE) UTF-8 RETURN (ALL) ALL\r\n").rfind("s BAD ", 0) == 0);
    w.say(c, "s CLOSE\r\n");
    CHECK(w.say(c, "s SORT (DATE) UTF-8 ALL\r\n") == "s BAD No mailbox selected\r\n");
}

TEST_CASE("RFC 5256 BASE.6.4.THREAD: ORDEREDSUBJECT groups base subjects by sent date",
          "[server][sort][thread]") {
    World w;
    port::Handle c = four_messages(w);
    // apple: 3 (1 Jan, internal date) then 1 (2 Feb); banana 2; cherry 4.
    CHECK(w.say(c, "s THREAD ORDEREDSUBJECT UTF-8 ALL\r\n") ==
          "* THREAD (3 1)(2)(4)\r\ns OK THREAD completed\r\n");
    CHECK(w.say(c, "s UID THREAD ORDEREDSUBJECT UTF-8 ALL\r\n") ==
          "* THREAD (4 2)(3)(5)\r\ns OK THREAD completed\r\n");
    CHECK(w.say(c, "s THREAD ORDEREDSUBJECT UTF-8 DELETED\r\n") ==
          "* THREAD\r\ns OK THREAD completed\r\n");
    CHECK(w.say(c, "s THREAD ORDEREDSUBJECT KOI8-R ALL\r\n") ==
          "s NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset: KOI8-R\r\n");
    CHECK(w.say(c, "s THREAD SMARTNESS UTF-8 ALL\r\n") ==
          "s NO [CANNOT] Unknown threading algorithm: SMARTNESS\r\n");
    CHECK(w.say(c, "s THREAD SMARTNESS UTF-8\r\n").rfind("s BAD ", 0) == 0);
}

TEST_CASE("RFC 5256 BASE.6.4.THREAD: REFERENCES links by References and In-Reply-To",
          "[server][sort][thread]") {
    World w;
    port::Handle c = login(w);
    append(w, c, "01-Jan-2020 00:00:00 +0000",
           "Message-ID: <a@x>\r\nSubject: topic\r\nDate: 1 Jan 2020 00:00 +0000\r\n\r\n1\r\n");
    append(w, c, "01-Jan-2020 00:00:00 +0000",
           "Message-ID: <b@x>\r\nReferences: <a@x>\r\nSubject: Re: topic\r\n"
           "Date: 2 Jan 2020 00:00 +0000\r\n\r\n2\r\n");
    append(w, c, "01-Jan-2020 00:00:00 +0000",
           "Message-ID: <c@x>\r\nIn-Reply-To: <a@x> (sent by someone)\r\nSubject: Re: topic\r\n"
           "Date: 3 Jan 2020 00:00 +0000\r\n\r\n3\r\n");
    append(w, c, "01-Jan-2020 00:00:00 +0000",
           "Message-ID: <d@x>\r\nSubject: other\r\nDate: 1 Dec 2019 00:00 +0000\r\n\r\n4\r\n");
    append(w, c, "01-Jan-2020 00:00:00 +0000",
           "Message-ID: <e@x>\r\nReferences: <a@x> <\"b\"@x>\r\nSubject: Re: topic\r\n"
           "Date: 4 Jan 2020 00:00 +0000\r\n\r\n5\r\n");
    // Two messages with one subject and no links: step 5 gathers them.
    append(w, c, "01-Jan-2020 00:00:00 +0000",
           "Subject: lone\r\nDate: 5 Jan 2020 00:00 +0000\r\n\r\n6\r\n");
    append(w, c, "01-Jan-2020 00:00:00 +0000",
           "Subject: Re: lone\r\nDate: 6 Jan 2020 00:00 +0000\r\n\r\n7\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "s THREAD REFERENCES UTF-8 ALL\r\n") ==
          "* THREAD (4)(1 (2 5)(3))(6 7)\r\ns OK THREAD completed\r\n");
    // Without 1, its ID is a dummy holding 2 and 3 (not promoted to the
    // root: it has two children, step 4).
    CHECK(w.say(c, "s THREAD REFERENCES US-ASCII 2:5\r\n") ==
          "* THREAD (4)((2 5)(3))\r\ns OK THREAD completed\r\n");
    CHECK(w.say(c, "s UID THREAD REFERENCES UTF-8 UID 1:3\r\n") ==
          "* THREAD (1 (2)(3))\r\ns OK THREAD completed\r\n");
}

TEST_CASE("RFC 5530 LIMIT: a SORT whose keys do not fit the work area is refused, not cut",
          "[server][sort]") {
    World w(4, true, false, [](Config& cfg) { cfg.sort_buffer_kib = 1; });
    port::Handle c = login(w);
    for (int i = 0; i < 40; ++i) {
        append(w, c, "01-Jan-2020 00:00:00 +0000",
               "Subject: a subject line long enough to fill it " + std::to_string(i) +
                   "\r\n\r\nx\r\n");
    }
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say_until_tagged(c, "s SORT (SUBJECT) UTF-8 ALL\r\n", "s") ==
          "s NO [LIMIT] Too many messages to sort in the work area (sort_buffer_kib)\r\n");
    // 40 records of 16 bytes fit; the area was given back.
    std::string all;
    for (int i = 1; i <= 40; ++i) all += " " + std::to_string(i);
    CHECK(w.say_until_tagged(c, "s SORT (ARRIVAL) UTF-8 ALL\r\n", "s") == sorted(all));
    CHECK(w.say_until_tagged(c, "s THREAD REFERENCES UTF-8 ALL\r\n", "s") ==
          "s NO [LIMIT] Too many messages to thread in the work area (sort_buffer_kib)\r\n");
}

TEST_CASE("Work area pool: a SORT that finds none free waits; others are answered meanwhile",
          "[server][sort]") {
    World w(4, true, false, [](Config& cfg) { cfg.sort_buffers = 1; });
    port::Handle a = login(w);
    // Headers of 8 KB: a turn of the loop gathers the keys of about 290
    // (eight steps of 256 KiB of header bytes), not all 400.
    const std::string pad = "X-Pad: " + std::string(8000, 'p') + "\r\n";
    for (int i = 0; i < 400; ++i) {
        append(w, a, "01-Jan-2020 00:00:00 +0000",
               pad + "Subject: s" + std::to_string(2000 - i) + "\r\n\r\nx\r\n");
    }
    w.say(a, "s SELECT INBOX\r\n");
    port::Handle b = login(w);
    w.say(b, "s SELECT INBOX\r\n");
    port::Handle d = login(w);
    // A's SORT walks 400 messages in batches: it holds the area over turns,
    // B's SORT waits for it and D's NOOP is answered at once.
    w.net.client_send(a, "s SORT (SUBJECT) UTF-8 ALL\r\n");
    w.net.client_send(b, "t SORT (REVERSE SUBJECT) UTF-8 ALL\r\n");
    w.net.client_send(d, "n NOOP\r\n");
    w.run(1);
    CHECK(w.net.client_receive(d) == "n OK NOOP completed\r\n");
    std::string ra = w.net.client_receive(a), rb = w.net.client_receive(b);
    CHECK(ra.find("s OK") == std::string::npos);
    CHECK(rb.empty());
    for (int i = 0;
         i < 100 && (ra.find("s OK") == std::string::npos || rb.find("t OK") == std::string::npos);
         ++i) {
        w.run(1, 20);
        ra += w.net.client_receive(a);
        rb += w.net.client_receive(b);
    }
    std::string up, down;
    for (int i = 400; i >= 1; --i) up += " " + std::to_string(i);
    for (int i = 1; i <= 400; ++i) down += " " + std::to_string(i);
    CHECK(ra == "* SORT" + up + "\r\ns OK SORT completed\r\n");
    CHECK(rb == "* SORT" + down + "\r\nt OK SORT completed\r\n");
}

TEST_CASE("RFC 5256 §1: SORT and THREAD are advertised only with work areas to sort in",
          "[server][sort]") {
    World w(4, true, false, [](Config& cfg) { cfg.sort_buffers = 0; });
    port::Handle c = login(w);
    const std::string caps = w.say(c, "a CAPABILITY\r\n");
    CHECK(caps.find(" SORT") == std::string::npos);
    CHECK(caps.find(" THREAD=") == std::string::npos);
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "s SORT (DATE) UTF-8 ALL\r\n") ==
          "s NO [CANNOT] SORT is not configured (sort_buffers = 0)\r\n");
    World on;
    port::Handle d = login(on);
    CHECK(on.say(d, "a CAPABILITY\r\n")
              .find(" SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT "
                    "THREAD=REFERENCES ") != std::string::npos);
}

namespace {

// Message `i` of a threaded mailbox: subjects from a few, half of them
// replies ("Re:", "Fwd:", "[list]" marks: RFC 5256 §2.1) carrying
// References or In-Reply-To (REFERENCES step 1) to an earlier one, dates in
// zones, some missing or unreadable (§2.2: the internal date then).
std::string threaded_message(int i) {
    static const char* const kSubjects[] = {"Budget for the new warehouse roof", "lunch",
                                            "Quarterly report", "The long subject line that "
                                            "goes on well past eight bytes, twice over",
                                            "=?utf-8?q?=C3=89t=C3=A9?= plans"};
    std::string subject = kSubjects[(i * 7) % 5];
    std::string links;
    if (i > 3 && i % 2 == 0) {
        const int parent = i - 1 - (i * 13) % 3;
        subject = std::string(i % 4 == 0 ? "Re: " : "[list] Fwd: ") + kSubjects[(parent * 7) % 5];
        links = i % 8 == 0 ? "In-Reply-To: <m" + std::to_string(parent) + "@x.org>\r\n"
                           : "References: <m0@x.org> <m" + std::to_string(parent) + "@x.org>\r\n";
    }
    std::string date = "Date: " + std::to_string(1 + (i * 5) % 28) + " Mar 2021 " +
                       std::to_string(10 + i % 12) + ":00:00 " + (i % 3 == 0 ? "-0500" : "+0100") +
                       "\r\n";
    if (i % 9 == 0) date = "";
    if (i % 11 == 0) date = "Date: sometime\r\n";
    return "From: u" + std::to_string(i % 6) + "@x.org\r\nSubject: " + subject + "\r\n" + date +
           "Message-ID: <m" + std::to_string(i) + "@x.org>\r\n" + links + "\r\nbody " +
           std::to_string(i) + "\r\n";
}

const char* const kCachedCommands[] = {
    "s SORT (DATE) UTF-8 ALL\r\n",          "s SORT (SUBJECT) UTF-8 ALL\r\n",
    "s SORT (REVERSE SUBJECT DATE) UTF-8 ALL\r\n", "s SORT (ARRIVAL SIZE) UTF-8 ALL\r\n",
    "s UID SORT (SUBJECT REVERSE ARRIVAL) UTF-8 UNDELETED\r\n",
    "s THREAD REFERENCES UTF-8 ALL\r\n",    "s THREAD ORDEREDSUBJECT UTF-8 ALL\r\n",
    "s SORT (FROM DATE) UTF-8 ALL\r\n",
};

std::string all_answers(World& w, port::Handle c) {
    std::string out;
    for (const char* cmd : kCachedCommands) out += w.say_until_tagged(c, cmd, "s");
    return out;
}

void add_messages(World& w, port::Handle c, int from, int to) {
    for (int i = from; i < to; ++i) {
        append(w, c, "0" + std::to_string(1 + i % 9) + "-Feb-2021 00:00:00 +0000",
               threaded_message(i));
    }
}

void restart_server(World& w) {
    w.server->close_all();
    w.server.reset();
    w.server = std::make_unique<Server>(w.platform, w.cfg, w.block.data(), w.block.size());
    REQUIRE(w.server->load_passwd() == Status::Ok);
    REQUIRE(w.server->open_listeners() == Status::Ok);
}

}  // namespace

// The sort cache (docs/STORAGE.md "The sort cache") changes no answer: a
// server with it (the default work area) and one without (an area under
// 256 KiB sorts without it) answer every SORT and THREAD the same, byte for
// byte, on the same mail: first (the cache written), again (read), after
// APPEND (grown), EXPUNGE (entries left dead), a torn or damaged file and a
// restart (RFC 5256 §BASE.6.4.SORT, §BASE.6.4.THREAD).
TEST_CASE("Sort cache: SORT and THREAD answer as without it, whatever became of the file",
          "[server][sort][sortcache]") {
    const std::string file = "mail/alice/^i^n^b^o^x/m.sort";
    World cached;
    World plain(4, true, false, [](Config& cfg) { cfg.sort_buffer_kib = 128; });
    std::vector<port::Handle> c = {login(cached), login(plain)};
    for (int k = 0; k < 2; ++k) {
        World& w = k == 0 ? cached : plain;
        add_messages(w, c[k], 0, 40);
        w.say(c[k], "s SELECT INBOX\r\n");
    }
    const std::string want = all_answers(plain, c[1]);
    CHECK(want.find("* THREAD (") != std::string::npos);
    CHECK(!plain.fs.exists(file));
    CHECK(all_answers(cached, c[0]) == want);
    const std::size_t full = cached.fs.read_file(file).size();
    CHECK(full > 32 + 40 * 32);  // the stamp and forty entries
    CHECK(all_answers(cached, c[0]) == want);  // from the file
    CHECK(cached.fs.read_file(file).size() == full);

    // New mail, and expunges (which leave their entries in the file).
    for (int k = 0; k < 2; ++k) {
        World& w = k == 0 ? cached : plain;
        add_messages(w, c[k], 40, 50);
        w.say(c[k], "s NOOP\r\n");
        REQUIRE(w.say(c[k], "s STORE 2:6,30 +FLAGS (\\Deleted)\r\n").find("s OK") !=
                std::string::npos);
        REQUIRE(w.say(c[k], "s EXPUNGE\r\n").find("s OK") != std::string::npos);
    }
    const std::string after = all_answers(plain, c[1]);
    CHECK(after != want);
    CHECK(all_answers(cached, c[0]) == after);
    const std::string grown = cached.fs.read_file(file);
    CHECK(grown.size() > full);

    SECTION("a torn tail") {
        cached.fs.write_file(file, grown.substr(0, grown.size() - 5));
    }
    SECTION("a damaged entry in the middle") {
        std::string bytes = grown;
        bytes[bytes.size() / 2] ^= 0x20;
        cached.fs.write_file(file, bytes);
    }
    SECTION("another mailbox's stamp") {
        std::string bytes = grown;
        bytes[12] ^= 1;  // UIDVALIDITY (and the stamp's CRC no longer checks)
        cached.fs.write_file(file, bytes);
    }
    SECTION("a restart") {
        restart_server(cached);
        c[0] = login(cached);
        cached.say(c[0], "s SELECT INBOX\r\n");
    }
    CHECK(all_answers(cached, c[0]) == after);
    // Rebuilt: an entry for each of the 44 messages (those of expunged
    // messages are not written again); the next commands find them all.
    const std::string rebuilt = cached.fs.read_file(file);
    CHECK(rebuilt.size() > 32 + 44 * 32);
    CHECK(all_answers(cached, c[0]) == after);
    CHECK(cached.fs.read_file(file) == rebuilt);
}
