// Issue 13's shared pools, on the simulated server: what a session borrows
// from memory shared by all connections, and the answer when none is left
// (docs/STATUS.md "Known limits", docs/CONFIG.md).
#include <catch2/catch.hpp>
#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("Sessions on one mailbox share its open entry; one mailbox too many gets NO [LIMIT]",
          "[server][pools]") {
    World w(4, true, false, [](Config& c) { c.open_mailboxes = 2; });
    port::Handle a = login(w);
    port::Handle b = login(w);
    port::Handle c = login(w);
    CHECK(has(w.say(a, "c1 CREATE one\r\nc2 CREATE two\r\n"), "c2 OK"));
    CHECK(has(w.say(a, "s SELECT INBOX\r\n"), "s OK [READ-WRITE]"));
    CHECK(has(w.say(b, "s SELECT INBOX\r\n"), "s OK [READ-WRITE]"));  // the same entry
    CHECK(has(w.say(c, "s SELECT one\r\n"), "s OK [READ-WRITE]"));
    // Both entries are taken: a third mailbox is refused, clearly, and the
    // connection stays usable (RFC 5530 LIMIT).
    CHECK(has(w.say(b, "t SELECT two\r\n"), "t NO [LIMIT] Too many mailboxes open"));
    CHECK(has(w.say(b, "n NOOP\r\n"), "n OK"));
    // c gives its entry back: the mailbox can be opened now.
    CHECK(has(w.say(c, "u CLOSE\r\n"), "u OK"));
    CHECK(has(w.say(b, "v SELECT two\r\n"), "v OK [READ-WRITE]"));
    CHECK(has(w.say(a, "f FETCH 1:* FLAGS\r\nx NOOP\r\n"), "x OK"));
}
