// Whole-server METADATA and METADATA-SERVER (RFC 5464) on the simulated
// platform: the examples of §4, entries on mailboxes and on the server,
// DEPTH and MAXSIZE (§4.2.1, §4.2.2), NIL removals and the limits (§4.3),
// entry names (§3.2), and where entries go with the mailbox (§4.1: RENAME,
// DELETE) and across sessions and restarts.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

void ok(World& w, port::Handle c, const std::string& cmd, const std::string& tag) {
    const std::string r = w.say(c, tag + " " + cmd + "\r\n");
    INFO(r);
    REQUIRE(r.find(tag + " OK") != std::string::npos);
}

void restart(World& w) {
    w.server->close_all();
    w.server.reset();
    w.server = std::make_unique<Server>(w.platform, w.cfg, w.block.data(), w.block.size());
    REQUIRE(w.server->load_passwd() == Status::Ok);
    REQUIRE(w.server->open_listeners() == Status::Ok);
}

void add_bob(World& w) {
    w.fs.write_file("passwd",
                    "alice:{PLAIN}wonderland:1000:1000::/home/alice::\n"
                    "bob:{PLAIN}builder:1000:1000::/home/bob::\n");
    REQUIRE(w.server->load_passwd() == Status::Ok);
}

}  // namespace

TEST_CASE("RFC 5464 §1, §5: METADATA and METADATA-SERVER are advertised", "[server][metadata]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "c CAPABILITY\r\n").find(" METADATA METADATA-SERVER ") != std::string::npos);
}

TEST_CASE("RFC 5464 §4.2, §4.3: mailbox entries set, read and removed", "[server][metadata]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c,
                "a SETMETADATA INBOX (/private/comment \"My own comment\" "
                "/shared/comment \"Shared comment\")\r\n") == "a OK SETMETADATA completed\r\n");
    CHECK(w.say(c, "a GETMETADATA \"INBOX\" /private/comment\r\n") ==
          "* METADATA INBOX (/private/comment \"My own comment\")\r\n"
          "a OK GETMETADATA completed\r\n");
    // §4.4.1: one response per entry is allowed.
    CHECK(w.say(c, "a GETMETADATA \"INBOX\" (/shared/comment /private/comment)\r\n") ==
          "* METADATA INBOX (/private/comment \"My own comment\")\r\n"
          "* METADATA INBOX (/shared/comment \"Shared comment\")\r\n"
          "a OK GETMETADATA complete"
          "d\r\n");
    // §4.3: NIL removes; an entry that does not exist is simply not returned.
    CHECK(w.say(c, "a SETMETADATA INBOX (/private/comment NIL)\r\n") ==
          "a OK SETMETADATA completed\r\n");
    CHECK(w.say(c, "a GETMETADATA INBOX (/shared/comment /private/comment)\r\n") ==
          "* METADATA INBOX (/shared/comment \"Shared comment\")\r\n"
          "a OK GETMETADATA completed\r\n");
    // §3.2: names are case-insensitive.
    CHECK(w.say(c, "a GETMETADATA INBOX /SHARED/Comment\r\n") ==
          "* METADATA INBOX (/shared/comment \"Shared comment\")\r\n"
          "a OK GETMETADATA completed\r\n");
}

TEST_CASE("RFC 5464 §4.3: a multi-line value in a literal comes back as a literal",
          "[server][metadata]") {
    World w;
    port::Handle c = login(w);
    const std::string v = "My new comment across\r\ntwo lines.\r\n";
    REQUIRE(v.size() == 35);
    CHECK(w.say(c, "a SETMETADATA INBOX (/private/comment {35}\r\n") ==
          "+ Ready for literal data\r\n");
    CHECK(w.say(c, v + ")\r\n") == "a OK SETMETADATA completed\r\n");
    CHECK(w.say(c, "b GETMETADATA INBOX /private/comment\r\n") ==
          "* METADATA INBOX (/private/comment {35}\r\n" + v +
              ")\r\nb OK GETMETADATA completed\r\n");
    // §5: value = nstring / literal8: binary data with a NUL goes both ways.
    static const char kSet[] =
        "c SETMETADATA INBOX (/private/vendor/tinyimapd/bin ~{3+}\r\na\0b)\r\n";
    static const char kGot[] = "* METADATA INBOX (/private/vendor/tinyimapd/bin ~{3}\r\na\0b)\r\n";
    CHECK(w.say(c, std::string(kSet, sizeof kSet - 1)) == "c OK SETMETADATA completed\r\n");
    CHECK(w.say(c, "d GETMETADATA INBOX /private/vendor/tinyimapd/bin\r\n") ==
          std::string(kGot, sizeof kGot - 1) + "d OK GETMETADATA completed\r\n");
}

TEST_CASE("RFC 5464 §3.1, §4.2: server entries with the empty mailbox name", "[server][metadata]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c,
                "a SETMETADATA \"\" (/shared/comment \"Shared comment\" /private/comment "
                "\"Mine\")\r\n") == "a OK SETMETADATA completed\r\n");
    CHECK(w.say(c, "a GETMETADATA \"\" /shared/comment\r\n") ==
          "* METADATA \"\" (/shared/comment \"Shared comment\")\r\n"
          "a OK GETMETADATA completed\r\n");
    CHECK(w.fs.exists("mail/server.meta"));
    CHECK(w.fs.exists("mail/alice/user.meta"));
    // §3.3: another user sees the shared entry, not alice's private one.
    add_bob(w);
    port::Handle b = login(w, "bob", "builder");
    CHECK(w.say(b, "b GETMETADATA \"\" (/shared/comment /private/comment)\r\n") ==
          "* METADATA \"\" (/shared/comment \"Shared comment\")\r\n"
          "b OK GETMETADATA completed\r\n");
    // A second session of the same user sees what the first set.
    port::Handle c2 = login(w);
    CHECK(w.say(c2, "e GETMETADATA \"\" /private/comment\r\n") ==
          "* METADATA \"\" (/private/comment \"Mine\")\r\n"
          "e OK GETMETADATA completed\r\n");
}

TEST_CASE("RFC 5464 §3.2.1.1: /shared/admin comes from the configuration and is read-only",
          "[server][metadata]") {
    World w(4, true, false, [](Config& cfg) { cfg.metadata_admin.assign("mailto:root@nas"); });
    port::Handle c = login(w);
    CHECK(w.say(c, "a GETMETADATA \"\" /shared/admin\r\n") ==
          "* METADATA \"\" (/shared/admin \"mailto:root@nas\")\r\n"
          "a OK GETMETADATA completed\r\n");
    CHECK(w.say(c, "b SETMETADATA \"\" (/shared/admin \"mailto:me@nas\")\r\n").rfind("b NO ", 0) ==
          0);
    CHECK(w.say(c, "a GETMETADATA \"\" /shared/admin\r\n").find("mailto:root@nas") !=
          std::string::npos);
}

TEST_CASE("RFC 6154 §3: /private/specialuse tells the mailbox's special use",
          "[server][metadata]") {
    World w;
    port::Handle c = login(w);
    REQUIRE(w.say(c, "c CREATE Sent (USE (\\Sent))\r\n").find("c OK") != std::string::npos);
    CHECK(w.say(c, "a GETMETADATA Sent /private/specialuse\r\n") ==
          "* METADATA Sent (/private/specialuse {5}\r\n\\Sent)\r\n"
          "a OK GETMETADATA completed\r\n");
    CHECK(w.say(c, "a GETMETADATA INBOX /private/specialuse\r\n") ==
          "a OK GETMETADATA completed\r\n");
    CHECK(
        w.say(c, "b SETMETADATA Sent (/private/specialuse \"\\\\Trash\")\r\n").rfind("b NO ", 0) ==
        0);
}

TEST_CASE("RFC 5464 §4.2.2: DEPTH 0, 1 and infinity", "[server][metadata]") {
    World w;
    port::Handle c = login(w);
    ok(w, c,
       "SETMETADATA INBOX (/private/filters/values/small \"SMALLER 5000\" "
       "/private/filters/values/boss \"FROM boss\" /private/filters/values/boss/x \"deep\")",
       "s");
    CHECK(w.say(c, "a GETMETADATA INBOX (DEPTH 1) (/private/filters/values)\r\n") ==
          "* METADATA INBOX (/private/filters/values/small \"SMALLER 5000\")\r\n"
          "* METADATA INBOX (/private/filters/values/boss \"FROM boss\")\r\n"
          "a OK GETMETADATA completed\r\n");
    CHECK(w.say(c, "a GETMETADATA INBOX (DEPTH 0) /private/filters/values\r\n") ==
          "a OK GETMETADATA completed\r\n");
    CHECK(w.say(c, "a GETMETADATA INBOX /private/filters/values/boss\r\n") ==
          "* METADATA INBOX (/private/filters/values/boss \"FROM boss\")\r\n"
          "a OK GETMETADATA completed\r\n");
    CHECK(w.say(c, "a GETMETADATA INBOX (DEPTH infinity) /private\r\n") ==
          "* METADATA INBOX (/private/filters/values/small \"SMALLER 5000\")\r\n"
          "* METADATA INBOX (/private/filters/values/boss \"FROM boss\")\r\n"
          "* METADATA INBOX (/private/filters/values/boss/x \"deep\")\r\n"
          "a OK GETMETADATA completed\r\n");
    CHECK(w.say(c, "a GETMETADATA INBOX (DEPTH 2) /private\r\n").rfind("a BAD ", 0) == 0);
}

TEST_CASE("RFC 5464 §4.2.1: MAXSIZE leaves longer values out and says LONGENTRIES",
          "[server][metadata]") {
    World w(4, true, false, [](Config& cfg) { cfg.metadata_max_size = 4096; });
    port::Handle c = login(w);
    const std::string big(2199, 'x');
    CHECK(w.say(c, "a SETMETADATA INBOX (/shared/comment {2199+}\r\n" + big +
                       " /private/comment \"My own comment\")\r\n") ==
          "a OK SETMETADATA completed\r\n");
    CHECK(w.say(c, "a GETMETADATA INBOX (MAXSIZE 1024) (/shared/comment /private/comment)\r\n") ==
          "* METADATA INBOX (/private/comment \"My own comment\")\r\n"
          "a OK [METADATA LONGENTRIES 2199] GETMETADATA completed\r\n");
    const std::string all = w.say_until_tagged(c, "b GETMETADATA INBOX /shared/comment\r\n", "b");
    CHECK(all ==
          "* METADATA INBOX (/shared/comment \"" + big + "\")\r\nb OK GETMETADATA completed\r\n");
}

TEST_CASE("RFC 5464 §4.3: MAXSIZE and TOOMANY, and a NO changes nothing", "[server][metadata]") {
    World w(4, true, false, [](Config& cfg) { cfg.metadata_max_entries = 10; });
    port::Handle c = login(w);
    const std::string big(1025, 'x');
    CHECK(w.say(c, "a SETMETADATA INBOX (/shared/comment \"ok\" /private/comment {1025+}\r\n" +
                       big + ")\r\n") == "a NO [METADATA MAXSIZE 1024] Value too large\r\n");
    CHECK(w.say(c, "a GETMETADATA INBOX /shared/comment\r\n") == "a OK GETMETADATA completed\r\n");
    // A synchronizing literal over the limit is refused before it is sent.
    CHECK(w.say(c, "b SETMETADATA INBOX (/private/comment {5000}\r\n") ==
          "b NO [METADATA MAXSIZE 1024] Value too large\r\n");
    CHECK(w.say(c, "n NOOP\r\n") == "n OK NOOP completed\r\n");
    std::string cmd = "SETMETADATA INBOX (";
    for (int i = 0; i < 10; ++i) cmd += "/shared/e" + std::to_string(i) + " \"v\" ";
    cmd.back() = ')';
    ok(w, c, cmd, "s");
    CHECK(w.say(c, "b SETMETADATA INBOX (/shared/e1 \"changed\" /private/comment \"new\")\r\n") ==
          "b NO [METADATA TOOMANY] Too many annotations\r\n");
    CHECK(w.say(c, "c GETMETADATA INBOX /shared/e1\r\n") ==
          "* METADATA INBOX (/shared/e1 \"v\")\r\nc OK GETMETADATA completed\r\n");
    // Replacing and removing stay possible at the limit.
    ok(w, c, "SETMETADATA INBOX (/shared/e1 \"changed\")", "d");
    ok(w, c, "SETMETADATA INBOX (/shared/e2 NIL /private/comment \"new\")", "e");
}

TEST_CASE("RFC 5464 §3.2: invalid entry names are BAD", "[server][metadata]") {
    World w;
    port::Handle c = login(w);
    for (const char* name : {"/comment", "/private//comment", "/private/comment/", "/private/a*",
                             "/shared/a%", "/shared/vendor/acme", "private/comment"}) {
        INFO(name);
        CHECK(w.say(c, std::string("a SETMETADATA INBOX (") + name + " \"x\")\r\n")
                  .rfind("a BAD ", 0) == 0);
    }
    CHECK(w.say(c, "a SETMETADATA INBOX (/shared/{4+}\r\na\tb \"x\")\r\n").rfind("a BAD ", 0) == 0);
    CHECK(w.say(c, "a GETMETADATA INBOX /private/a*\r\n").rfind("a BAD ", 0) == 0);
    CHECK(w.say(c, "a GETMETADATA (FOO 1) INBOX /private/a\r\n").rfind("a BAD ", 0) == 0);
    CHECK(w.say(c, "a SETMETADATA INBOX /private/a \"x\"\r\n").rfind("a BAD ", 0) == 0);
    CHECK(w.fs.read_file("mail/alice/^i^n^b^o^x/m.data").size() > 0);
    CHECK_FALSE(w.fs.exists("mail/alice/^i^n^b^o^x/m.meta"));
}

TEST_CASE("RFC 5464 §3.3: no annotations on a mailbox that does not exist", "[server][metadata]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "a GETMETADATA Nope /shared/comment\r\n") ==
          "a NO [NONEXISTENT] No such mailbox\r\n");
    CHECK(w.say(c, "a SETMETADATA Nope (/shared/comment \"x\")\r\n") ==
          "a NO [NONEXISTENT] No such mailbox\r\n");
}

TEST_CASE("RFC 5464 §4.1: entries follow RENAME, go with DELETE and survive a restart",
          "[server][metadata]") {
    World w;
    port::Handle c = login(w);
    REQUIRE(create_ok(w.say(c, "c CREATE Work\r\n"), "c"));
    ok(w, c, "SETMETADATA Work (/shared/comment \"work\")", "s");
    ok(w, c, "RENAME Work Play", "r");
    CHECK(w.say(c, "a GETMETADATA Play /shared/comment\r\n") ==
          "* METADATA Play (/shared/comment \"work\")\r\n"
          "a OK GETMETADATA completed\r\n");
    CHECK(w.say(c, "a GETMETADATA Work /shared/comment\r\n") ==
          "a NO [NONEXISTENT] No such mailbox\r\n");
    // A RENAME of INBOX copies its annotations and INBOX keeps them.
    ok(w, c, "SETMETADATA INBOX (/private/comment \"inbox\")", "s");
    ok(w, c, "RENAME INBOX Old", "r");
    for (const char* box : {"INBOX", "Old"}) {
        CHECK(w.say(c, std::string("a GETMETADATA ") + box + " /private/comment\r\n") ==
              std::string("* METADATA ") + box + " (/private/comment \"inbox\")\r\n" +
                  "a OK GETMETADATA completed\r\n");
    }
    ok(w, c, "SETMETADATA \"\" (/shared/comment \"server\")", "s");
    restart(w);
    c = login(w);
    CHECK(w.say(c, "a GETMETADATA Play /shared/comment\r\n") ==
          "* METADATA Play (/shared/comment \"work\")\r\n"
          "a OK GETMETADATA completed\r\n");
    CHECK(w.say(c, "a GETMETADATA \"\" /shared/comment\r\n") ==
          "* METADATA \"\" (/shared/comment \"server\")\r\n"
          "a OK GETMETADATA completed\r\n");
    // DELETE takes them along: a new mailbox of the name starts without.
    ok(w, c, "DELETE Play", "d");
    REQUIRE(create_ok(w.say(c, "c CREATE Play\r\n"), "c"));
    CHECK(w.say(c, "a GETMETADATA Play /shared/comment\r\n") == "a OK GETMETADATA completed\r\n");
}

TEST_CASE("RFC 5464 §4.4.1: an answer larger than the output buffer goes out line by line",
          "[server][metadata]") {
    World w(4, true, false, [](Config& cfg) { cfg.metadata_max_size = 4096; });
    port::Handle c = login(w);
    std::string expect;
    for (int i = 0; i < 6; ++i) {
        const std::string v(4000, static_cast<char>('a' + i));
        const std::string name = "/shared/e" + std::to_string(i);
        ok(w, c, "SETMETADATA INBOX (" + name + " \"" + v + "\")", "s" + std::to_string(i));
        expect += "* METADATA INBOX (" + name + " \"" + v + "\")\r\n";
    }
    // 24 KB of answers through an 8 KiB output buffer: the job waits for
    // room and goes on from the record it stopped at.
    std::string got = w.say(c, "g GETMETADATA INBOX (DEPTH 1) /shared\r\n");
    for (int i = 0; i < 200 && got.find("g OK") == std::string::npos; ++i) got += w.say(c, "");
    CHECK(got == expect + "g OK GETMETADATA completed\r\n");
}

TEST_CASE("RFC 5464 §4.3: a server SETMETADATA over the limit changes neither file",
          "[server][metadata]") {
    World w(4, true, false, [](Config& cfg) { cfg.metadata_max_entries = 10; });
    port::Handle c = login(w);
    std::string cmd = "SETMETADATA \"\" (";
    for (int i = 0; i < 10; ++i) cmd += "/shared/e" + std::to_string(i) + " \"v\" ";
    cmd.back() = ')';
    ok(w, c, cmd, "s");
    const std::string shared = w.fs.read_file("mail/server.meta");
    CHECK(w.say(c, "b SETMETADATA \"\" (/private/comment \"mine\" /shared/new \"x\")\r\n") ==
          "b NO [METADATA TOOMANY] Too many annotations\r\n");
    CHECK_FALSE(w.fs.exists("mail/alice/user.meta"));
    CHECK(w.fs.read_file("mail/server.meta") == shared);
    // The private file has a limit of its own.
    ok(w, c, "SETMETADATA \"\" (/private/comment \"mine\")", "p");
    CHECK(w.say(c, "a GETMETADATA \"\" (/private/comment /shared/e9)\r\n") ==
          "* METADATA \"\" (/private/comment \"mine\")\r\n"
          "* METADATA \"\" (/shared/e9 \"v\")\r\n"
          "a OK GETMETADATA completed\r\n");
}

TEST_CASE("RFC 5464 §4.2, §4.3: a corrupt metadata file is NO and is not rewritten",
          "[server][metadata]") {
    World w;
    port::Handle c = login(w);
    ok(w, c, "SETMETADATA INBOX (/shared/a \"1\" /shared/b \"2\")", "s");
    const std::string path = "mail/alice/^i^n^b^o^x/m.meta";
    std::string b = w.fs.read_file(path);
    b[b.size() - 1] ^= 1;  // the last value's CRC no longer matches
    w.fs.write_file(path, b);
    const std::string r = w.say(c, "a GETMETADATA INBOX (/shared/a /shared/b)\r\n");
    CHECK(r.find("a NO [CORRUPTION] ") != std::string::npos);
    CHECK(w.say(c, "b SETMETADATA INBOX (/shared/c \"3\")\r\n").rfind("b NO [CORRUPTION] ", 0) ==
          0);
    CHECK(w.fs.read_file(path) == b);
}

TEST_CASE("RFC 5464 §4.1, §4.4.2: ENABLE METADATA is not enabled, so no unsolicited METADATA",
          "[server][metadata]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    CHECK(w.say(a, "e ENABLE METADATA METADATA-SERVER\r\n") ==
          "* ENABLED\r\ne OK ENABLE completed\r\n");
    ok(w, b, "SETMETADATA \"\" (/shared/comment \"changed\")", "s");
    CHECK(w.say(a, "n NOOP\r\n") == "n OK NOOP completed\r\n");
}
