// Whole-server OBJECTID (RFC 8474) on the simulated platform: MAILBOXID on
// CREATE, SELECT/EXAMINE and STATUS (§4), EMAILID and THREADID in FETCH
// (§5), EMAILID and THREADID in SEARCH (§6). THREADID is NIL and matches
// nothing (§5.2 permits it: docs/STATUS.md).
#include <catch2/catch.hpp>

#include <cctype>
#include <regex>
#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

// The objectid inside "<item> (...)" in `text`, or "" if none.
std::string id_after(const std::string& text, const std::string& item) {
    const std::size_t at = text.find(item + " (");
    if (at == std::string::npos) return {};
    const std::size_t from = at + item.size() + 2;
    const std::size_t end = text.find(')', from);
    return end == std::string::npos ? std::string() : text.substr(from, end - from);
}

// RFC 8474 §7 objectid, and §8.1's advice: a letter first, never "NIL".
bool good_id(const std::string& id) {
    return std::regex_match(id, std::regex("[A-Za-z][A-Za-z0-9_-]{0,254}")) && id != "NIL";
}

std::string append(World& w, port::Handle c, const char* mailbox, const std::string& msg) {
    return w.say(c, std::string("p APPEND ") + mailbox + " {" + std::to_string(msg.size()) +
                        "+}\r\n" + msg + "\r\n");
}

}  // namespace

TEST_CASE("RFC 8474 §3: OBJECTID is advertised", "[server][objectid]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "c CAPABILITY\r\n").find(" OBJECTID ") != std::string::npos);
}

TEST_CASE("RFC 8474 §4.1-§4.3: CREATE, SELECT, EXAMINE and STATUS name one MAILBOXID per mailbox",
          "[server][objectid]") {
    World w;
    port::Handle c = login(w);
    const std::string foo = w.say(c, "3 CREATE foo\r\n");
    REQUIRE(foo.rfind("3 OK [MAILBOXID (", 0) == 0);
    const std::string foo_id = id_after(foo, "MAILBOXID");
    CHECK(good_id(foo_id));
    const std::string bar_id = id_after(w.say(c, "4 CREATE bar\r\n"), "MAILBOXID");
    CHECK(good_id(bar_id));
    CHECK(bar_id != foo_id);
    CHECK(w.say(c, "5 CREATE foo\r\n").find("5 NO") == 0);
    const std::string sel = w.say(c, "6 SELECT foo\r\n");
    CHECK(sel.find("* OK [MAILBOXID (" + foo_id + ")] ") != std::string::npos);
    const std::string ex = w.say(c, "7 EXAMINE bar\r\n");
    CHECK(ex.find("* OK [MAILBOXID (" + bar_id + ")] ") != std::string::npos);
    CHECK(w.say(c, "8 STATUS foo (MAILBOXID)\r\n") ==
          "* STATUS foo (MAILBOXID (" + foo_id + "))\r\n8 OK STATUS completed\r\n");
    CHECK(w.say(c, "9 STATUS bar (MESSAGES MAILBOXID)\r\n") ==
          "* STATUS bar (MESSAGES 0 MAILBOXID (" + bar_id + "))\r\n9 OK STATUS completed\r\n");
    // INBOX has one too.
    const std::string inbox_id = id_after(w.say(c, "a STATUS INBOX (MAILBOXID)\r\n"), "MAILBOXID");
    CHECK(good_id(inbox_id));
    CHECK(inbox_id != foo_id);
    CHECK(inbox_id != bar_id);
    // RFC 5819 LIST-STATUS names it as STATUS does (§4.3's last example).
    const std::string list = w.say(c, "b LIST \"\" \"*\" RETURN (STATUS (MAILBOXID))\r\n");
    CHECK(list.find("* STATUS foo (MAILBOXID (" + foo_id + "))") != std::string::npos);
    CHECK(list.find("* STATUS INBOX (MAILBOXID (" + inbox_id + "))") != std::string::npos);
    CHECK(list.find("b OK") != std::string::npos);
}

TEST_CASE(
    "RFC 8474 §4: RENAME keeps the MAILBOXID; a mailbox made again gets a new one; "
    "RENAME INBOX makes a new mailbox",
    "[server][objectid]") {
    World w;
    port::Handle c = login(w);
    const std::string foo_id = id_after(w.say(c, "1 CREATE foo\r\n"), "MAILBOXID");
    REQUIRE(w.say(c, "2 RENAME foo renamed\r\n").find("2 OK") != std::string::npos);
    CHECK(id_after(w.say(c, "3 STATUS renamed (MAILBOXID)\r\n"), "MAILBOXID") == foo_id);
    REQUIRE(w.say(c, "4 DELETE renamed\r\n").find("4 OK") != std::string::npos);
    const std::string again = id_after(w.say(c, "5 CREATE renamed\r\n"), "MAILBOXID");
    CHECK(good_id(again));
    CHECK(again != foo_id);
    // RFC 3501 §6.3.5: INBOX's messages move to a new mailbox; INBOX stays
    // (same name, same UIDVALIDITY: the same MAILBOXID).
    REQUIRE(append(w, c, "INBOX", "Subject: x\r\n\r\nx\r\n").find("p OK") != std::string::npos);
    const std::string inbox_id = id_after(w.say(c, "6 STATUS INBOX (MAILBOXID)\r\n"), "MAILBOXID");
    REQUIRE(w.say(c, "7 RENAME INBOX old\r\n").find("7 OK") != std::string::npos);
    CHECK(id_after(w.say(c, "8 STATUS INBOX (MAILBOXID)\r\n"), "MAILBOXID") == inbox_id);
    const std::string old_id = id_after(w.say(c, "9 STATUS old (MAILBOXID)\r\n"), "MAILBOXID");
    CHECK(good_id(old_id));
    CHECK(old_id != inbox_id);
    CHECK(w.say(c, "a STATUS old (MESSAGES)\r\n").find("(MESSAGES 1)") != std::string::npos);
}

TEST_CASE(
    "RFC 8474 §5.1, §5.3: FETCH EMAILID is one per message, kept by COPY and MOVE; "
    "THREADID is NIL",
    "[server][objectid]") {
    World w;
    port::Handle c = login(w);
    for (const char* s : {"A", "Re: A", "C"})
        REQUIRE(
            append(w, c, "INBOX", std::string("Subject: ") + s + "\r\n\r\nbody\r\n").find("p OK") !=
            std::string::npos);
    REQUIRE(w.say(c, "f CREATE foo\r\n").find("f OK") != std::string::npos);
    REQUIRE(w.say(c, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    const std::string all = w.say(c, "22 FETCH 1:* (EMAILID THREADID)\r\n");
    const std::regex line(R"(\* (\d) FETCH \(EMAILID \(([^)]*)\) THREADID NIL\)\r\n)");
    std::string ids[4];
    int lines = 0;
    for (auto it = std::sregex_iterator(all.begin(), all.end(), line); it != std::sregex_iterator();
         ++it, ++lines)
        ids[std::stoi((*it)[1])] = (*it)[2];
    REQUIRE(lines == 3);
    CHECK(all.find("22 OK FETCH completed") != std::string::npos);
    for (int i = 1; i <= 3; ++i) CHECK(good_id(ids[i]));
    CHECK(ids[1] != ids[2]);
    CHECK(ids[2] != ids[3]);
    CHECK(ids[1] != ids[3]);
    // §5.1: the COPYUID pairing's destination has its source's EMAILID.
    REQUIRE(w.say(c, "23 COPY 1 foo\r\n").find("23 OK [COPYUID ") != std::string::npos);
    REQUIRE(w.say(c, "24 MOVE 2 foo\r\n").find("24 OK") != std::string::npos);
    CHECK(w.say(c, "25 FETCH 1:* (EMAILID)\r\n") == "* 1 FETCH (EMAILID (" + ids[1] +
                                                        "))\r\n* 2 FETCH (EMAILID (" + ids[3] +
                                                        "))\r\n25 OK FETCH completed\r\n");
    REQUIRE(w.say(c, "26 SELECT foo\r\n").find("26 OK") != std::string::npos);
    CHECK(w.say(c, "27 UID FETCH 1:* (EMAILID THREADID)\r\n") ==
          "* 1 FETCH (UID 1 EMAILID (" + ids[1] + ") THREADID NIL)\r\n* 2 FETCH (UID 2 EMAILID (" +
              ids[2] + ") THREADID NIL)\r\n27 OK FETCH completed\r\n");
}

TEST_CASE("RFC 8474 §6: SEARCH EMAILID finds the message; THREADID matches nothing",
          "[server][objectid]") {
    World w;
    port::Handle c = login(w);
    for (const char* s : {"A", "B", "C"})
        REQUIRE(
            append(w, c, "INBOX", std::string("Subject: ") + s + "\r\n\r\nbody\r\n").find("p OK") !=
            std::string::npos);
    REQUIRE(w.say(c, "s SELECT INBOX\r\n").find("s OK") != std::string::npos);
    const std::string id2 = id_after(w.say(c, "f FETCH 2 EMAILID\r\n"), "EMAILID");
    const std::string id3 = id_after(w.say(c, "f FETCH 3 EMAILID\r\n"), "EMAILID");
    REQUIRE(good_id(id2));
    CHECK(w.say(c, "27 SEARCH EMAILID " + id2 + "\r\n") ==
          "* SEARCH 2\r\n27 OK SEARCH completed\r\n");
    CHECK(w.say(c, "28 UID SEARCH OR EMAILID " + id2 + " EMAILID " + id3 + "\r\n") ==
          "* SEARCH 2 3\r\n28 OK SEARCH completed\r\n");
    // Object ids are case-sensitive (§7); an id that is not one of ours
    // matches nothing.
    std::string upper = id2;
    for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (upper != id2) {
        CHECK(w.say(c, "29 SEARCH EMAILID " + upper + "\r\n") ==
              "* SEARCH\r\n29 OK SEARCH completed\r\n");
    }
    CHECK(w.say(c, "30 SEARCH EMAILID M00000001\r\n") == "* SEARCH\r\n30 OK SEARCH completed\r\n");
    CHECK(w.say(c, "31 SEARCH THREADID T64b478a75b7ea9\r\n") ==
          "* SEARCH\r\n31 OK SEARCH completed\r\n");
    CHECK(w.say(c, "32 SEARCH NOT THREADID T1\r\n") ==
          "* SEARCH 1 2 3\r\n32 OK SEARCH completed\r\n");
    CHECK(w.say(c, "33 SEARCH EMAILID M.1\r\n").find("33 BAD") == 0);
}
