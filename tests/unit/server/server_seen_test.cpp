// Whole-server tests of per-user \Seen on shared mailboxes (RFC 4314 §4 "s -
// keep seen/unseen information across sessions", §5.2): alice shares
// "Family" with bob; what bob reads stays unread for alice, and the reverse.
// A non-owner's \Seen is a hidden keyword of the mailbox ("%seen/<user>",
// docs/STATUS.md) that no response ever names.
#include <catch2/catch.hpp>

#include <string>

#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

struct SeenWorld : Household {
    // Power loss, then a new server over what the disk kept.
    void restart() {
        fs.crash();
        fs.restart();
        server->close_all();
        server.reset();
        server = std::make_unique<Server>(platform, cfg, block.data(), block.size());
        REQUIRE(server->load_passwd() == Status::Ok);
        REQUIRE(server->open_listeners() == Status::Ok);
    }
};

const std::string kMail = "From: alice@example.org\r\nSubject: Dinner\r\n\r\nAt eight.\r\n";
const std::string kFamily = "\"Other Users/alice/Family\"";

std::string ok(World& w, port::Handle c, const std::string& tag, const std::string& cmd) {
    const std::string r = w.say(c, tag + " " + cmd + "\r\n");
    INFO(cmd << " -> " << r);
    REQUIRE(has(r, tag + " OK"));
    return r;
}

void append(World& w, port::Handle c, const std::string& mailbox, const std::string& flags = "") {
    const std::string r = w.say(c, "p APPEND " + mailbox + " " + flags + "{" +
                                       std::to_string(kMail.size()) + "+}\r\n" + kMail + "\r\n");
    INFO(r);
    REQUIRE(has(r, "p OK"));
}

// alice's "Family" with two messages, shared with bob (`rights`).
void share_family(World& w, port::Handle a, const std::string& rights = "lrs") {
    REQUIRE(create_ok(w.say(a, "c CREATE Family\r\n"), "c"));
    append(w, a, "Family");
    append(w, a, "Family");
    ok(w, a, "s", "SETACL Family bob " + rights);
    ok(w, a, "r", "SELECT Family");  // \Recent is alice's (RFC 3501 §2.3.2)
    ok(w, a, "r2", "UNSELECT");
}

// No response names a hidden keyword (RFC 3501 §9: '%' is no ATOM-CHAR).
void no_hidden(const std::string& r) {
    INFO(r);
    CHECK_FALSE(has(r, "%seen"));
    CHECK_FALSE(has(r, "%"));
}

}  // namespace

TEST_CASE("RFC 4314 §4, §5.2: bob's reading marks the message seen for bob only",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a);
    port::Handle b = login(w, "bob", "builder");
    no_hidden(ok(w, b, "x", "SELECT " + kFamily));
    // FETCH BODY[] sets \Seen (RFC 3501 §6.4.5): bob's.
    const std::string body = ok(w, b, "f", "FETCH 1 BODY[]");
    INFO(body);
    CHECK(has(body, "FLAGS (\\Seen)"));
    no_hidden(body);
    CHECK(has(ok(w, b, "g", "FETCH 1:2 FLAGS"),
              "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS ())\r\n"));
    ok(w, a, "y", "SELECT Family");
    const std::string af = ok(w, a, "g", "FETCH 1:2 FLAGS");
    CHECK(has(af, "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\n"));
    no_hidden(af);
    // SEARCH reads the user's \Seen.
    CHECK(has(ok(w, a, "s1", "SEARCH UNSEEN"), "* SEARCH 1 2\r\n"));
    CHECK(has(ok(w, b, "s1", "SEARCH UNSEEN"), "* SEARCH 2\r\n"));
    CHECK(has(ok(w, b, "s2", "SEARCH SEEN"), "* SEARCH 1\r\n"));
    CHECK(has(ok(w, a, "s2", "SEARCH SEEN"), "* SEARCH\r\n"));
    CHECK(has(ok(w, b, "s3", "SEARCH NOT NEW"), "* SEARCH 1"));
    // STATUS UNSEEN differs per user (RFC 3501 §6.3.10).
    ok(w, a, "u", "UNSELECT");
    ok(w, b, "u", "UNSELECT");
    CHECK(has(ok(w, a, "t", "STATUS Family (UNSEEN MESSAGES)"), "(UNSEEN 2 MESSAGES 2)"));
    CHECK(has(ok(w, b, "t", "STATUS " + kFamily + " (UNSEEN)"), "(UNSEEN 1)"));
    // SELECT's [UNSEEN] is the first unseen message of the user.
    CHECK(has(ok(w, b, "x2", "SELECT " + kFamily), "[UNSEEN 2]"));
    CHECK(has(ok(w, a, "y2", "SELECT Family"), "[UNSEEN 1]"));
}

TEST_CASE("RFC 4314 §4, §5.2: STORE \\Seen by each user changes only that user's \\Seen",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a);
    port::Handle b = login(w, "bob", "builder");
    ok(w, b, "x", "SELECT " + kFamily);
    ok(w, a, "y", "SELECT Family");
    const std::string st = ok(w, b, "s", "STORE 1:2 +FLAGS (\\Seen)");
    CHECK(has(st, "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS (\\Seen))\r\n"));
    no_hidden(st);
    // alice is told of no \Seen (an unsolicited FETCH may come, without it).
    const std::string an = ok(w, a, "n", "NOOP");
    CHECK_FALSE(has(an, "\\Seen"));
    no_hidden(an);
    CHECK(has(ok(w, a, "g", "FETCH 1:2 FLAGS"), "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())"));
    // alice reads message 2: her \Seen is the real one, bob's stays his.
    ok(w, a, "s", "STORE 2 +FLAGS (\\Seen)");
    ok(w, b, "s2", "STORE 1 -FLAGS (\\Seen)");
    CHECK(has(ok(w, b, "g", "FETCH 1:2 FLAGS"),
              "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS (\\Seen))\r\n"));
    CHECK(has(ok(w, a, "g2", "FETCH 1:2 FLAGS"),
              "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS (\\Seen))\r\n"));
    ok(w, b, "s3", "STORE 2 -FLAGS (\\Seen)");
    CHECK(has(ok(w, b, "g2", "FETCH 2 FLAGS"), "* 2 FETCH (FLAGS ())\r\n"));
    CHECK(has(ok(w, a, "g3", "FETCH 2 FLAGS"), "* 2 FETCH (FLAGS (\\Seen))\r\n"));
    // A replacing STORE by bob sets his \Seen and keeps alice's.
    ok(w, b, "s4", "STORE 1 FLAGS (\\Seen)");
    ok(w, b, "s5", "STORE 2 FLAGS ()");
    CHECK(has(ok(w, b, "g3", "FETCH 1:2 FLAGS"),
              "* 1 FETCH (FLAGS (\\Seen))\r\n* 2 FETCH (FLAGS ())\r\n"));
    CHECK(has(ok(w, a, "g4", "FETCH 1:2 FLAGS"),
              "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS (\\Seen))\r\n"));
    // The owner's replacing STORE keeps bob's \Seen.
    ok(w, a, "s6", "STORE 1:2 FLAGS ($Dinner)");
    CHECK(has(ok(w, b, "g4", "FETCH 1:2 FLAGS"),
              "* 1 FETCH (FLAGS (\\Seen $Dinner))\r\n* 2 FETCH (FLAGS ($Dinner))\r\n"));
}

TEST_CASE("RFC 4314 §5.2: no hidden name in FLAGS, PERMANENTFLAGS or FETCH, owner included",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a, "lrsw");
    port::Handle b = login(w, "bob", "builder");
    ok(w, b, "x", "SELECT " + kFamily);
    ok(w, b, "s", "STORE 1 +FLAGS (\\Seen $Dinner)");
    const std::string sel = ok(w, a, "y", "SELECT Family");
    no_hidden(sel);
    CHECK(has(sel, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Dinner)\r\n"));
    CHECK(has(sel, "[PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Dinner \\*)]"));
    CHECK(has(ok(w, a, "g", "FETCH 1 FLAGS"), "* 1 FETCH (FLAGS ($Dinner))\r\n"));
    no_hidden(ok(w, b, "n", "NOOP"));
    const std::string bsel = ok(w, b, "x2", "EXAMINE " + kFamily);
    no_hidden(bsel);
    CHECK(has(bsel, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Dinner)\r\n"));
    CHECK(has(ok(w, b, "g", "FETCH 1 FLAGS"), "* 1 FETCH (FLAGS (\\Seen $Dinner))\r\n"));
    // No client can name it (RFC 3501 §9: not an atom).
    CHECK(has(w.say(b, "k SEARCH KEYWORD %seen/bob\r\n"), "k BAD"));
}

TEST_CASE("RFC 4314 §4: bob's other session sees his \\Seen change, alice's does not",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a);
    port::Handle b = login(w, "bob", "builder");
    port::Handle b2 = login(w, "bob", "builder");
    ok(w, b, "x", "SELECT " + kFamily);
    ok(w, b2, "x", "SELECT " + kFamily);
    ok(w, a, "y", "SELECT Family");
    ok(w, b, "f", "FETCH 2 BODY.PEEK[]");
    ok(w, b, "s", "STORE 2 +FLAGS.SILENT (\\Seen)");
    const std::string other = ok(w, b2, "n", "NOOP");
    INFO(other);
    CHECK(has(other, "* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n"));
    const std::string an = ok(w, a, "n", "NOOP");
    CHECK_FALSE(has(an, "\\Seen"));
    no_hidden(an);
}

TEST_CASE("RFC 4314 §4: per-user \\Seen survives a power loss after its OK",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a);
    w.fs.sync_all();
    port::Handle b = login(w, "bob", "builder");
    ok(w, b, "x", "SELECT " + kFamily);
    ok(w, b, "f", "FETCH 1 BODY[TEXT]");
    ok(w, b, "s", "STORE 2 +FLAGS (\\Seen)");
    ok(w, b, "s2", "STORE 1 -FLAGS (\\Seen)");
    w.restart();
    port::Handle b2 = login(w, "bob", "builder");
    ok(w, b2, "x", "SELECT " + kFamily);
    CHECK(has(ok(w, b2, "g", "FETCH 1:2 FLAGS"),
              "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS (\\Seen))\r\n"));
    port::Handle a2 = login(w);
    ok(w, a2, "y", "SELECT Family");
    CHECK(has(ok(w, a2, "g", "FETCH 1:2 FLAGS"), "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())"));
}

TEST_CASE("RFC 4314 §4: APPEND with \\Seen into a shared mailbox sets the appender's \\Seen",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a, "lrsi");
    port::Handle b = login(w, "bob", "builder");
    append(w, b, kFamily, "(\\Seen) ");
    ok(w, b, "x", "SELECT " + kFamily);
    CHECK(has(ok(w, b, "g", "FETCH 3 FLAGS"), "* 3 FETCH (FLAGS (\\Seen \\Recent))\r\n"));
    ok(w, a, "y", "SELECT Family");
    CHECK(has(ok(w, a, "g", "FETCH 3 FLAGS"), "* 3 FETCH (FLAGS ())\r\n"));
}

TEST_CASE("RFC 4314 §4: COPY by bob makes his \\Seen a real \\Seen in his own mailbox",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a, "lrsw");
    ok(w, a, "y", "SELECT Family");
    ok(w, a, "s", "STORE 2 +FLAGS (\\Seen)");  // alice's, not bob's
    port::Handle b = login(w, "bob", "builder");
    ok(w, b, "x", "SELECT " + kFamily);
    ok(w, b, "s", "STORE 1 +FLAGS (\\Seen $Dinner)");
    REQUIRE(create_ok(w.say(b, "c CREATE Kept\r\n"), "c"));
    ok(w, b, "k", "COPY 1:2 Kept");
    const std::string sel = ok(w, b, "x2", "SELECT Kept");
    no_hidden(sel);
    const std::string kept = ok(w, b, "g", "FETCH 1:2 FLAGS");
    INFO(kept);
    CHECK(has(kept,
              "* 1 FETCH (FLAGS (\\Seen \\Recent $Dinner))\r\n"
              "* 2 FETCH (FLAGS (\\Recent))\r\n"));
    no_hidden(kept);
    // Kept is bob's own: its \Seen is the real flag, his other reading too.
    CHECK(has(ok(w, b, "t", "STATUS Kept (UNSEEN)"), "(UNSEEN 1)"));
}

namespace {

// The MODSEQ of "* n FETCH (... MODSEQ (m))" in `r`.
std::uint64_t modseq_in(const std::string& r) {
    const std::size_t at = r.find("MODSEQ (");
    REQUIRE(at != std::string::npos);
    return std::stoull(r.substr(at + 8));
}

}  // namespace

TEST_CASE("RFC 4314 §4, RFC 7162 §3.1: a change of bob's \\Seen gets a mod-sequence",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a);
    port::Handle b = login(w, "bob", "builder");
    ok(w, b, "x", "SELECT " + kFamily + " (CONDSTORE)");
    const std::uint64_t before = modseq_in(ok(w, b, "m", "FETCH 1 (MODSEQ)"));
    const std::string st = ok(w, b, "s", "STORE 1 +FLAGS (\\Seen)");
    CHECK(has(st, "FLAGS (\\Seen)"));
    const std::uint64_t after = modseq_in(st);
    CHECK(after > before);
    // UNCHANGEDSINCE sees it (§3.1.3): the old modseq fails.
    CHECK(has(
        ok(w, b, "u", "STORE 1 (UNCHANGEDSINCE " + std::to_string(before) + ") -FLAGS (\\Seen)"),
        "[MODIFIED 1]"));
    CHECK(has(ok(w, b, "g", "FETCH 1 FLAGS"), "FLAGS (\\Seen)"));
    // alice: the modseq moved, her \Seen did not.
    ok(w, a, "y", "SELECT Family (CONDSTORE)");
    const std::string af = ok(w, a, "g", "FETCH 1 (FLAGS MODSEQ)");
    CHECK(has(af, "FLAGS ()"));
    CHECK(modseq_in(af) == after);
    // CHANGEDSINCE finds it for bob (§3.1.4.1) with his \Seen.
    const std::string changed =
        ok(w, b, "c", "FETCH 1:* (FLAGS) (CHANGEDSINCE " + std::to_string(before) + ")");
    INFO(changed);
    CHECK(has(changed, "* 1 FETCH (MODSEQ (" + std::to_string(after) + ") FLAGS (\\Seen))\r\n"));
}

TEST_CASE("RFC 4314 §4: without s, bob's \\Seen is neither set nor registered",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a, "lrw");
    port::Handle b = login(w, "bob", "builder");
    ok(w, b, "x", "SELECT " + kFamily);
    ok(w, b, "s", "STORE 1 +FLAGS (\\Seen $Dinner)");
    CHECK(has(ok(w, b, "g", "FETCH 1 FLAGS"), "* 1 FETCH (FLAGS ($Dinner))\r\n"));
    ok(w, b, "f", "FETCH 1 BODY[TEXT]");
    CHECK(has(ok(w, b, "g2", "FETCH 1 FLAGS"), "* 1 FETCH (FLAGS ($Dinner))\r\n"));
    CHECK(has(ok(w, a, "t", "STATUS Family (UNSEEN)"), "(UNSEEN 2)"));
}

TEST_CASE("RFC 4314 §4: COPY by bob into alice's mailbox sets his \\Seen there, not hers",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a, "lrsi");
    port::Handle b = login(w, "bob", "builder");
    append(w, b, "INBOX", "(\\Seen \\Flagged) ");
    append(w, b, "INBOX");
    ok(w, b, "x", "SELECT INBOX");
    ok(w, b, "k", "COPY 1:2 " + kFamily);
    ok(w, a, "y", "SELECT Family");
    const std::string af = ok(w, a, "g", "FETCH 3:4 FLAGS");
    INFO(af);
    CHECK(has(af, "* 3 FETCH (FLAGS (\\Recent))\r\n* 4 FETCH (FLAGS (\\Recent))\r\n"));
    no_hidden(af);
    ok(w, b, "x2", "SELECT " + kFamily);
    const std::string bf = ok(w, b, "g", "FETCH 3:4 FLAGS");
    INFO(bf);
    CHECK(has(bf, "* 3 FETCH (FLAGS (\\Seen))\r\n* 4 FETCH (FLAGS ())\r\n"));
}

TEST_CASE("RFC 4314 §4, RFC 6851: MOVE by bob out of alice's mailbox takes his \\Seen along",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a, "lrste");
    ok(w, a, "y", "SELECT Family");
    ok(w, a, "s", "STORE 1 +FLAGS (\\Seen)");  // alice's
    port::Handle b = login(w, "bob", "builder");
    ok(w, b, "x", "SELECT " + kFamily);
    ok(w, b, "s", "STORE 2 +FLAGS (\\Seen)");  // bob's
    REQUIRE(create_ok(w.say(b, "c CREATE Kept\r\n"), "c"));
    const std::string moved = ok(w, b, "m", "MOVE 1:2 Kept");
    no_hidden(moved);
    CHECK(has(ok(w, a, "n", "NOOP"), "EXPUNGE"));
    ok(w, b, "x2", "SELECT Kept");
    const std::string kept = ok(w, b, "g", "FETCH 1:2 FLAGS");
    INFO(kept);
    CHECK(has(kept, "* 1 FETCH (FLAGS (\\Recent))\r\n* 2 FETCH (FLAGS (\\Seen \\Recent))\r\n"));
}

namespace {

// One crash matrix step: alice's shared Family on disk, then bob's first
// `command` (his \Seen's registration and bit) cut by a power loss at write
// `n` (0: none; returns the writes it made). After the restart bob's \Seen
// of message 1 is there if the command reported it with its OK, alice's never.
std::uint64_t seen_crash_step(const std::string& command, std::uint64_t n,
                              sim::SimFs::CrashMode mode) {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a);
    port::Handle b = login(w, "bob", "builder");
    ok(w, b, "x", "SELECT " + kFamily);
    w.fs.sync_all();
    const std::uint64_t before = w.fs.crash_points();
    if (n != 0) {
        w.fs.set_crash_mode(mode);
        w.fs.set_seed(n);
        w.fs.crash_at_write(static_cast<unsigned>(n));
    }
    // Acknowledged: OK, and \Seen reported (a FETCH whose \Seen could not be
    // made durable answers without it, RFC 3501 §6.4.5 notwithstanding).
    const std::string r = w.say(b, "s " + command + "\r\n");
    const bool acked = has(r, "s OK") && has(r, "\\Seen");
    if (n == 0) {
        REQUIRE(acked);
        return w.fs.crash_points() - before;
    }
    INFO("crash at point " << n << (acked ? " (acknowledged)" : ""));
    REQUIRE(w.fs.crashed());
    w.fs.restart();
    w.server->close_all();
    w.server.reset();
    w.server = std::make_unique<Server>(w.platform, w.cfg, w.block.data(), w.block.size());
    REQUIRE(w.server->load_passwd() == Status::Ok);
    REQUIRE(w.server->open_listeners() == Status::Ok);
    port::Handle b2 = login(w, "bob", "builder");
    ok(w, b2, "x", "SELECT " + kFamily);
    const std::string bf = ok(w, b2, "g", "FETCH 1:2 FLAGS");
    INFO(bf);
    no_hidden(bf);
    if (acked) CHECK(has(bf, "* 1 FETCH (FLAGS (\\Seen"));
    CHECK(has(bf, "* 2 FETCH (FLAGS ())"));
    port::Handle a2 = login(w);
    ok(w, a2, "y", "SELECT Family");
    const std::string af = ok(w, a2, "g", "FETCH 1:2 FLAGS");
    INFO(af);
    CHECK(has(af, "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\n"));
    return 0;
}

}  // namespace

TEST_CASE("RFC 4314 §4: bob's first \\Seen (its registration and bit) is durable once OK",
          "[server][acl][seen][crash]") {
    for (const std::string command : {"STORE 1 +FLAGS (\\Seen)", "FETCH 1 BODY[]"}) {
        const std::uint64_t points = seen_crash_step(command, 0, sim::SimFs::CrashMode::DropAll);
        INFO(command);
        REQUIRE(points >= 1);
        for (const sim::SimFs::CrashMode mode :
             {sim::SimFs::CrashMode::DropAll, sim::SimFs::CrashMode::ApplyRandom}) {
            for (std::uint64_t n = 1; n <= points; ++n) (void)seen_crash_step(command, n, mode);
        }
    }
}

TEST_CASE("RFC 4314 §4: SORT, ESEARCH, LIST-STATUS and QRESYNC take bob's own \\Seen",
          "[server][acl][seen]") {
    SeenWorld w;
    port::Handle a = login(w);
    share_family(w, a);
    ok(w, a, "y", "SELECT Family");
    ok(w, a, "s", "STORE 1 +FLAGS (\\Seen)");  // alice's
    port::Handle b = login(w, "bob", "builder");
    ok(w, b, "e", "ENABLE QRESYNC");
    const std::string sel = ok(w, b, "x", "SELECT " + kFamily);
    const std::size_t at = sel.find("[UIDVALIDITY ");
    REQUIRE(at != std::string::npos);
    const std::string validity = std::to_string(std::stoull(sel.substr(at + 13)));
    const std::string st = ok(w, b, "s", "STORE 2 +FLAGS (\\Seen)");
    const std::size_t ms = st.find("MODSEQ (");
    REQUIRE(ms != std::string::npos);
    const std::uint64_t modseq = std::stoull(st.substr(ms + 8));
    CHECK(has(ok(w, b, "o", "SORT (ARRIVAL) US-ASCII UNSEEN"), "* SORT 1\r\n"));
    CHECK(has(ok(w, b, "q", "SEARCH RETURN (COUNT) SEEN"), "COUNT 1"));
    CHECK(has(ok(w, a, "q", "SEARCH RETURN (ALL) SEEN"), "ALL 1\r\n"));
    ok(w, b, "u", "UNSELECT");
    const std::string ls =
        ok(w, b, "l", "LIST \"\" \"Other Users/alice/*\" RETURN (STATUS (UNSEEN))");
    INFO(ls);
    CHECK(has(ls, "* STATUS \"Other Users/alice/Family\" (UNSEEN 1)"));
    const std::string rs = ok(
        w, b, "r",
        "SELECT " + kFamily + " (QRESYNC (" + validity + " " + std::to_string(modseq - 1) + "))");
    INFO(rs);
    CHECK(has(rs, "* 2 FETCH (UID 2 FLAGS (\\Seen) MODSEQ (" + std::to_string(modseq) + "))"));
    no_hidden(rs);
}
