// Whole-server tests of hostile mailbox names and trees (issue 20): names
// with LIST wildcards, symbolic links planted in a user's tree.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

TEST_CASE("CREATE and RENAME refuse names with * or % rfc3501_6_3_3", "[server][hostile]") {
    World w;
    port::Handle c = login(w);
    const std::string no = " NO [CANNOT] Mailbox names may not contain * or %\r\n";
    CHECK(w.say(c, "b CREATE \"a*b\"\r\n") == "b" + no);
    CHECK(w.say(c, "c CREATE \"Work/%\"\r\n") == "c" + no);
    CHECK(create_ok(w.say(c, "d CREATE Work\r\n"), "d"));
    CHECK(w.say(c, "e RENAME Work \"W*\"\r\n") == "e" + no);
    CHECK(w.say(c, "f RENAME Work Play\r\n") == "f OK RENAME completed\r\n");
    const std::string all = w.say(c, "g LIST \"\" *\r\n");
    CHECK(all.find("a*b") == std::string::npos);
    CHECK(all.find("W*") == std::string::npos);
    CHECK(all.find("\"/\" Play\r\n") != std::string::npos);
}

namespace {

// Bob's files, for "nothing of his changed".
std::map<std::string, std::string> tree_of(World& w, const std::string& prefix) {
    std::map<std::string, std::string> out;
    for (const auto& [path, data] : w.fs.snapshot()) {
        if (path.rfind(prefix, 0) == 0) out[path] = data;
    }
    return out;
}

bool refused(const std::string& answer, const std::string& tag) {
    return answer.rfind(tag + " NO [", 0) == 0 && answer.find("SERVERBUG") == std::string::npos &&
           answer.find("\r\n") == answer.size() - 2;
}

}  // namespace

TEST_CASE("A symbolic link planted in a user's tree does not lead into another's",
          "[server][hostile]") {
    World w;
    w.fs.write_file("passwd",
                    "alice:{PLAIN}wonderland:1000:1000::/home/alice::\n"
                    "bob:{PLAIN}builder:1000:1000::/home/bob::\n");
    REQUIRE(w.server->load_passwd() == Status::Ok);
    port::Handle b = login(w, "bob", "builder");
    REQUIRE(w.say(b, "b1 APPEND INBOX {11+}\r\nHi, Bob!\r\n\r\n").find("b1 OK") !=
            std::string::npos);
    REQUIRE(create_ok(w.say(b, "b2 CREATE Private\r\n"), "b2"));
    port::Handle c = login(w);
    REQUIRE(create_ok(w.say(c, "c1 CREATE Work\r\n"), "c1"));
    // Planted by whoever else can write in alice's directory.
    w.fs.make_symlink("mail/alice/evil", "../bob/^i^n^b^o^x");
    w.fs.make_symlink("mail/alice/evildir", "../bob");
    const auto before = tree_of(w, "/mail/bob/");
    REQUIRE(before.size() > 3);

    CHECK(refused(w.say(c, "s1 SELECT evil\r\n"), "s1"));
    CHECK(refused(w.say(c, "s2 EXAMINE evildir/INBOX\r\n"), "s2"));
    CHECK(refused(w.say(c, "s3 STATUS evildir/Private (MESSAGES)\r\n"), "s3"));
    CHECK(refused(w.say(c, "s4 APPEND evil {4+}\r\nHi!!\r\n"), "s4"));
    CHECK(refused(w.say(c, "s5 APPEND evildir/INBOX {4+}\r\nHi!!\r\n"), "s5"));
    CHECK(w.say(c, "r1 RENAME evil Mine\r\n") == "r1 NO [NONEXISTENT] No such mailbox\r\n");
    CHECK(refused(w.say(c, "r2 RENAME evildir/Private Mine\r\n"), "r2"));
    CHECK(refused(w.say(c, "r3 RENAME Work evildir/Work\r\n"), "r3"));
    CHECK(refused(w.say(c, "r4 RENAME Work evil\r\n"), "r4"));
    CHECK(w.say(c, "d1 DELETE evil\r\n") == "d1 NO [NONEXISTENT] No such mailbox\r\n");
    CHECK(refused(w.say(c, "d2 DELETE evildir/Private\r\n"), "d2"));
    // CREATE through a link: a clear NO, never [SERVERBUG] (issue 20, item 11).
    CHECK(w.say(c, "k1 CREATE evil\r\n") == "k1 NO [CANNOT] Not allowed on this mailbox\r\n");
    CHECK(w.say(c, "k2 CREATE evildir/New\r\n") ==
          "k2 NO [CANNOT] Not allowed on this mailbox\r\n");
    CHECK(refused(w.say(c, "k3 CREATE evil/Sub\r\n"), "k3"));
    const std::string all = w.say(c, "l1 LIST \"\" *\r\n");
    CHECK(all.find("evil") == std::string::npos);
    CHECK(all.find("Work") != std::string::npos);
    CHECK(w.say(c, "l2 LIST \"\" evildir/*\r\n") == "l2 OK LIST completed\r\n");

    CHECK(tree_of(w, "/mail/bob/") == before);
    // Alice's own tree still works.
    CHECK(w.say(c, "x1 RENAME Work Play\r\n") == "x1 OK RENAME completed\r\n");
    CHECK(w.say(c, "x2 SELECT Play\r\n").find("x2 OK") != std::string::npos);
}
