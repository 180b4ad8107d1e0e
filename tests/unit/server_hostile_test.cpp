// Whole-server tests of hostile mailbox names and trees (issue 20): names
// with LIST wildcards, symbolic links planted in a user's tree.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

port::Handle login(World& w, const char* user = "alice", const char* password = "wonderland") {
    port::Handle c = w.connect();
    w.net.client_receive(c);
    const std::string r = w.say(c, std::string("a LOGIN ") + user + " " + password + "\r\n");
    REQUIRE(r.find("a OK") != std::string::npos);
    return c;
}

}  // namespace

TEST_CASE("CREATE and RENAME refuse names with * or % rfc3501_6_3_3", "[server][hostile]") {
    World w;
    port::Handle c = login(w);
    const std::string no = " NO [CANNOT] Mailbox names may not contain * or %\r\n";
    CHECK(w.say(c, "b CREATE \"a*b\"\r\n") == "b" + no);
    CHECK(w.say(c, "c CREATE \"Work/%\"\r\n") == "c" + no);
    CHECK(w.say(c, "d CREATE Work\r\n") == "d OK CREATE completed\r\n");
    CHECK(w.say(c, "e RENAME Work \"W*\"\r\n") == "e" + no);
    CHECK(w.say(c, "f RENAME Work Play\r\n") == "f OK RENAME completed\r\n");
    const std::string all = w.say(c, "g LIST \"\" *\r\n");
    CHECK(all.find("a*b") == std::string::npos);
    CHECK(all.find("W*") == std::string::npos);
    CHECK(all.find("\"/\" Play\r\n") != std::string::npos);
}
