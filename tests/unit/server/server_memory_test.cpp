// Issue 13 item 3: memory reserved per client slot, and the pools that
// replace per-session state (NOTIFY's, RFC 5465; updating search contexts,
// RFC 5267 §4.3): their size in the block, the answer when one is empty,
// and their return.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/base/arena.h"
#include "core/server/server.h"
#include "core/store/registry.h"
#include "core/store/user_store.h"
#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

constexpr std::size_t kSlotBudget = 32 * 1024;

const std::string kSet = "NOTIFY SET (personal (MailboxName))\r\n";

// One message put into INBOX through a store of its own, as `tinyimapd
// deliver` (another process) does.
void deliver(World& w, const std::string& body) {
    store::StoreLimits l;
    std::vector<unsigned char> mem(store::Registry::bytes_needed(l));
    store::Registry reg(w.fs, w.clock, w.entropy, l);
    Arena arena(mem.data(), mem.size());
    REQUIRE(reg.init(arena) == Status::Ok);
    store::UserStore user(reg, "mail/alice");
    auto m = user.open("INBOX");
    REQUIRE(m.status == Status::Ok);
    store::Appender a;
    REQUIRE(m.value->begin_append(a, static_cast<std::uint32_t>(body.size()), 0, 0, 1700000000,
                                  0) == Status::Ok);
    REQUIRE(m.value->append_chunk(a, body.data(), body.size()) == Status::Ok);
    std::uint32_t uid = 0;
    REQUIRE(m.value->commit_append(a, &uid) == Status::Ok);
    user.close(m.value);
}

}  // namespace

TEST_CASE("Issue 13: a client slot reserves at most 32 KiB with the default configuration",
          "[server][memory]") {
    const Config c;  // the defaults: 64 slots
    const std::size_t per_slot = Server::bytes_per_slot(c);
    INFO(per_slot);
    CHECK(per_slot <= kSlotBudget);
    // The block the startup line counts (memory_needed) grows by that much
    // per slot: 1000 slots more cost 1000 slots' reservations, no more.
    Config big = c;
    big.max_clients = c.max_clients + 1000;
    const std::size_t grown = Server::memory_needed(big) - Server::memory_needed(c);
    CHECK(grown <= 1000 * kSlotBudget);
    CHECK(grown >= 1000 * per_slot);
    CHECK(grown - 1000 * per_slot < 64);  // alignment at most
}

TEST_CASE("Issue 13: the NOTIFY and context pools are in the block the startup line counts",
          "[server][memory]") {
    const Config c;
    Config more = c;
    more.notify_sessions = c.notify_sessions + 1;
    CHECK(Server::memory_needed(more) - Server::memory_needed(c) >= sizeof(session::NotifyState));
    more = c;
    more.search_contexts = c.search_contexts + 1;
    CHECK(Server::memory_needed(more) - Server::memory_needed(c) >=
          sizeof(session::SearchContext));
    // Never more than the slots can use.
    Config few = c;
    few.max_clients = 2;
    few.notify_sessions = 100;
    few.search_contexts = 100;
    CHECK(Server::notify_states(few) == 2);
    CHECK(Server::search_contexts(few) == 2 * session::kSearchContexts);
}

TEST_CASE("RFC 5465 §3.1 with RFC 5530: NOTIFY SET with no NOTIFY state free is NO [LIMIT]",
          "[server][memory][notify]") {
    World w(4, true, false, [](Config& c) { c.notify_sessions = 1; });
    port::Handle a = login(w);
    port::Handle b = login(w);
    CHECK(has(w.say(a, "n1 " + kSet), "n1 OK NOTIFY completed"));
    CHECK(w.say(b, "n2 " + kSet) == "n2 NO [LIMIT] Too many sessions use NOTIFY; try again later\r\n");
    CHECK(has(w.say(b, "x NOOP\r\n"), "x OK"));  // the session goes on
    // a still hears of b's changes; b, refused, hears nothing of a's.
    CHECK(has(w.say(b, "c CREATE one\r\n"), "c OK"));
    w.run();
    CHECK(has(w.say(a, "y NOOP\r\n"), "one"));
    // NOTIFY NONE gives the state back: b's SET is served, and b hears.
    CHECK(has(w.say(a, "n3 NOTIFY NONE\r\n"), "n3 OK"));
    CHECK(has(w.say(b, "n4 " + kSet), "n4 OK NOTIFY completed"));
    CHECK(has(w.say(a, "n5 " + kSet), "n5 NO [LIMIT]"));
    CHECK(has(w.say(a, "c CREATE two\r\n"), "c OK"));
    w.run();
    CHECK(has(w.say(b, "z NOOP\r\n"), "two"));
    // LOGOUT gives it back too.
    CHECK(has(w.say(b, "l LOGOUT\r\n"), "l OK"));
    CHECK(has(w.say(a, "n6 " + kSet), "n6 OK NOTIFY completed"));
    // So does a connection that just goes away.
    w.net.client_close(a);
    w.run();
    port::Handle c = login(w);
    CHECK(has(w.say(c, "n7 " + kSet), "n7 OK NOTIFY completed"));
}

TEST_CASE("RFC 5465 §3.1, §5.8: a NOTIFY SET refused for its size gives the state back",
          "[server][memory][notify]") {
    World w(4, true, false, [](Config& c) { c.notify_sessions = 1; });
    port::Handle a = login(w);
    port::Handle b = login(w);
    std::string creates;
    for (int i = 0; i < 30; ++i) creates += "c CREATE box" + std::to_string(i) + "\r\n";
    w.say_until_tagged(a, creates, "c");
    w.run();
    w.net.client_receive(a);
    CHECK(has(w.say(a, "n1 NOTIFY SET (personal (MessageNew MessageExpunge))\r\n"),
              "n1 NO [NOTIFICATIONOVERFLOW]"));
    CHECK(has(w.say(b, "n2 " + kSet), "n2 OK NOTIFY completed"));
    // UNAUTHENTICATE ends it as well (RFC 8437: back to the not-authenticated state).
    CHECK(has(w.say(b, "u UNAUTHENTICATE\r\n"), "u OK"));
    CHECK(has(w.say(a, "n3 " + kSet), "n3 OK NOTIFY completed"));
}

TEST_CASE("RFC 5267 §4.3.1: with no updating context free, the search is answered with NOUPDATE",
          "[server][memory][context]") {
    World w(4, true, false, [](Config& c) { c.search_contexts = 1; });
    port::Handle a = login(w);
    append_to_inbox(w, a, "Subject: one\r\n\r\nbody\r\n");
    append_to_inbox(w, a, "Subject: two\r\n\r\nbody\r\n");
    port::Handle b = login(w);
    REQUIRE(has(w.say(a, "s SELECT INBOX\r\n"), "s OK"));
    REQUIRE(has(w.say(b, "s SELECT INBOX\r\n"), "s OK"));
    CHECK(w.say(a, "C01 SEARCH RETURN (UPDATE) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"C01\")\r\nC01 OK SEARCH completed\r\n");
    CHECK(w.say(b, "D01 SEARCH RETURN (UPDATE COUNT) ALL\r\n") ==
          "* ESEARCH (TAG \"D01\") COUNT 2\r\n"
          "* NO [NOUPDATE \"D01\"] Too many updating contexts in use on this server; try "
          "again later\r\nD01 OK SEARCH completed\r\n");
    // a's context is followed all the same.
    REQUIRE(has(w.say(b, "x STORE 1 +FLAGS (\\Flagged)\r\n"), "x OK"));
    CHECK(has(w.say(a, "n NOOP\r\n"), "* ESEARCH (TAG \"C01\") ADDTO (0 1)\r\n"));
    // CANCELUPDATE gives it back: b's context is taken and followed.
    CHECK(has(w.say(a, "c CANCELUPDATE \"C01\"\r\n"), "c OK"));
    CHECK(w.say(b, "D02 SEARCH RETURN (UPDATE) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"D02\") ALL 1\r\nD02 OK SEARCH completed\r\n");
    REQUIRE(has(w.say(a, "y STORE 2 +FLAGS (\\Flagged)\r\n"), "y OK"));
    CHECK(has(w.say(b, "n NOOP\r\n"), "* ESEARCH (TAG \"D02\") ADDTO (0 2)\r\n"));
    CHECK(has(w.say(a, "C02 SEARCH RETURN (UPDATE) ALL\r\n"), "[NOUPDATE \"C02\"]"));
    // Closing the mailbox ends b's context (§4.3) and gives it back.
    CHECK(has(w.say(b, "u UNSELECT\r\n"), "u OK"));
    CHECK(w.say(a, "C03 SEARCH RETURN (UPDATE) FLAGGED\r\n") ==
          "* ESEARCH (TAG \"C03\") ALL 1:2\r\nC03 OK SEARCH completed\r\n");
}

TEST_CASE("RFC 5465 §5.2: MessageNew's FETCH waits for a command block, then is sent whole",
          "[server][memory][notify]") {
    World w(4, true, false, [](Config& c) { c.command_buffers = 1; });
    port::Handle a = login(w);
    port::Handle b = login(w);
    REQUIRE(has(w.say(a, "s SELECT INBOX\r\n"), "s OK"));
    REQUIRE(has(w.say(a, "n NOTIFY SET (selected (MessageNew (uid envelope) MessageExpunge))\r\n"),
                "n OK"));
    REQUIRE(has(w.say(a, "i IDLE\r\n"), "+ idling"));
    // b holds the only block, stopped inside its literal.
    REQUIRE(w.say(b, "s STATUS {5}\r\n") == "+ Ready for literal data\r\n");
    deliver(w, "Subject: hello\r\n\r\nbody\r\n");
    std::string got;
    for (int i = 0; i < 3; ++i) {
        w.clock.advance(1000);
        w.run();
        got += w.net.client_receive(a);
    }
    CHECK(got == "* 1 EXISTS\r\n* 1 RECENT\r\n");  // the FETCH waits, nothing is cut
    CHECK(has(w.say(b, "INBOX (MESSAGES)\r\n"), "s OK"));
    got.clear();
    for (int i = 0; i < 2; ++i) {
        w.clock.advance(1000);
        w.run();
        got += w.net.client_receive(a);
    }
    INFO(got);
    CHECK(got.find("* 1 FETCH (UID 1 ENVELOPE (") == 0);
    CHECK(has(got, "\"hello\""));
    CHECK(has(w.say(a, "DONE\r\n"), "i OK"));
    CHECK(has(w.say(b, "x NOOP\r\n"), "x OK"));  // the block went back
}
