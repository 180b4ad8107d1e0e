// Whole-server tests of NOTIFY (RFC 5465) on the simulated platform: the
// command (§3.1), IDLE (§4), each event of §5, the mailbox filters of §6,
// with changes by another session and by another process.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/base/arena.h"
#include "core/store/registry.h"
#include "core/store/user_store.h"
#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

// `count` mailboxes prefix0, prefix1, ... made by session `d`, then `turns`
// turns of the loop; d's answers are dropped.
void create_mailboxes(World& w, port::Handle d, const std::string& prefix, int count, int turns) {
    std::string creates;
    for (int i = 0; i < count; ++i) creates += "c CREATE " + prefix + std::to_string(i) + "\r\n";
    w.say_until_tagged(d, creates, "c");
    w.run(turns);
    w.net.client_receive(d);
}


// One message put into mailbox `name` through a store of its own, as
// `tinyimapd deliver` (another process) does.
void deliver(World& w, const std::string& name, const std::string& body) {
    store::StoreLimits l;
    std::vector<unsigned char> mem(store::Registry::bytes_needed(l));
    store::Registry reg(w.fs, w.clock, w.entropy, l);
    Arena arena(mem.data(), mem.size());
    REQUIRE(reg.init(arena) == Status::Ok);
    store::UserStore user(reg, "mail/alice");
    auto m = user.open(name);
    REQUIRE(m.status == Status::Ok);
    store::Appender a;
    REQUIRE(m.value->begin_append(a, static_cast<std::uint32_t>(body.size()), 0, 0, 1700000000,
                                  0) == Status::Ok);
    REQUIRE(m.value->append_chunk(a, body.data(), body.size()) == Status::Ok);
    std::uint32_t uid = 0;
    REQUIRE(m.value->commit_append(a, &uid) == Status::Ok);
    user.close(m.value);
}

const std::string kMorning =
    "Subject: Re: good morning\r\nFrom: alice@example.org\r\nTo: bob@example.org\r\n\r\nhi\r\n";

}  // namespace

TEST_CASE("RFC 5465 §3.1 example: SET STATUS, STATUS of a watched subtree, then its new mail",
          "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    w.say(d, "c1 CREATE Lists/Lemonade\r\nc2 CREATE Lists/Im2000\r\nc3 CREATE misc\r\n");
    append_to(w, d, "Lists/Lemonade", "Subject: x\r\n\r\nabc\r\n");
    // The RFC's own example writes "(subtree Lists MessageNew)": §8 wants
    // the events in parentheses, and §5 MessageExpunge with MessageNew.
    CHECK(w.say(c,
                "b notify set status (selected (MessageNew (uid "
                "body.peek[header.fields (from to subject)]) MessageExpunge)) "
                "(subtree Lists MessageNew)\r\n")
              .find("b BAD") == 0);
    CHECK(w.say(c,
                "b notify set status (selected (MessageNew (uid "
                "body.peek[header.fields (from to subject)]) MessageExpunge)) "
                "(subtree Lists (MessageNew))\r\n")
              .find("b BAD") == 0);
    const std::string set = w.say(c,
                                  "b notify set status (selected (MessageNew (uid "
                                  "body.peek[header.fields (from to subject)]) MessageExpunge)) "
                                  "(subtree Lists (MessageNew MessageExpunge))\r\n");
    INFO(set);
    CHECK(set.find("* STATUS Lists/Lemonade (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 1700000001)\r\n") !=
          std::string::npos);
    CHECK(set.find("* STATUS Lists/Im2000 (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 1700000002)\r\n") !=
          std::string::npos);
    CHECK(set.find("misc") == std::string::npos);                     // not watched: no STATUS
    CHECK(set.size() - set.find("b OK NOTIFY completed\r\n") == 23);  // the OK comes last
    CHECK(w.say(c, "c select inbox\r\n").find("c OK [READ-WRITE]") != std::string::npos);
    // A new message is delivered to Lists/Lemonade (§5.2, another mailbox).
    append_to(w, d, "Lists/Lemonade", "Subject: y\r\n\r\ndef\r\n");
    CHECK(beats(w, c) == "* STATUS Lists/Lemonade (MESSAGES 2 UIDNEXT 3)\r\n");
    // A new message is delivered to INBOX (§5.2, the selected mailbox):
    // EXISTS, then the FETCH the client asked for.
    append_to(w, d, "INBOX", kMorning);
    CHECK(beats(w, c) ==
          "* 1 EXISTS\r\n* 1 RECENT\r\n* 1 FETCH (UID 1 BODY[HEADER.FIELDS (from to subject)] "
          "{75}\r\nSubject: Re: good morning\r\nFrom: alice@example.org\r\n"
          "To: bob@example.org\r\n\r\n)\r\n");
    CHECK(beats(w, c, 3).empty());  // nothing more changed: nothing said
    // e: without STATUS, no STATUS answers (the client asked STATUS itself).
    CHECK(w.say(c,
                "e notify set (selected (MessageNew (uid) MessageExpunge)) (subtree Lists "
                "(MessageNew MessageExpunge)) (mailboxes misc (MessageNew MessageExpunge))\r\n") ==
          "e OK NOTIFY completed\r\n");
    append_to(w, d, "misc", "Subject: z\r\n\r\nghi\r\n");
    append_to(w, d, "INBOX", "Subject: w\r\n\r\njkl\r\n");
    CHECK(beats(w, c) ==
          "* 2 EXISTS\r\n* 2 RECENT\r\n* 2 FETCH (UID 2)\r\n"
          "* STATUS misc (MESSAGES 1 UIDNEXT 2)\r\n");
}

TEST_CASE(
    "RFC 5465 §4, §5.2: a delivery by another process to a watched mailbox is reported "
    "while idling",
    "[server][notify]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "a CREATE Lists\r\n");
    CHECK(w.say(c, "b NOTIFY SET (mailboxes Lists (MessageNew MessageExpunge))\r\n") ==
          "b OK NOTIFY completed\r\n");
    CHECK(w.say(c, "i IDLE\r\n") == "+ idling\r\n");
    deliver(w, "Lists", "Subject: hi\r\n\r\nbody\r\n");
    CHECK(beats(w, c) == "* STATUS Lists (MESSAGES 1 UIDNEXT 2)\r\n");
    deliver(w, "INBOX", "Subject: hi\r\n\r\nbody\r\n");  // not watched
    CHECK(beats(w, c, 2).empty());
    CHECK(w.say(c, "DONE\r\n") == "i OK IDLE terminated\r\n");
    // Between commands too, without IDLE (§3.1: "all the time").
    deliver(w, "Lists", "Subject: again\r\n\r\nbody\r\n");
    CHECK(beats(w, c) == "* STATUS Lists (MESSAGES 2 UIDNEXT 3)\r\n");
}

TEST_CASE("RFC 5465 §5.3, §5.1: expunges and flag changes in another mailbox, with CONDSTORE",
          "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    w.say(d, "a CREATE misc\r\n");
    append_to(w, d, "misc", "Subject: 1\r\n\r\none\r\n");
    append_to(w, d, "misc", "Subject: 2\r\n\r\ntwo\r\n");
    CHECK(w.say(c, "e ENABLE CONDSTORE\r\n") == "* ENABLED CONDSTORE\r\ne OK ENABLE completed\r\n");
    const std::string set =
        w.say(c, "b NOTIFY SET STATUS (personal (MessageNew MessageExpunge FlagChange))\r\n");
    CHECK(set.find("* STATUS misc (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 1700000001 UNSEEN 2 "
                   "HIGHESTMODSEQ ") != std::string::npos);
    CHECK(w.say(d, "s SELECT misc\r\nf STORE 1 +FLAGS.SILENT (\\Seen)\r\n").find("f OK") !=
          std::string::npos);
    const std::string flags = beats(w, c);
    INFO(flags);
    CHECK(flags.find("* STATUS misc (UIDVALIDITY 1700000001 UNSEEN 1 HIGHESTMODSEQ ") == 0);
    CHECK(w.say(d, "g STORE 2 +FLAGS.SILENT (\\Deleted)\r\nh EXPUNGE\r\n").find("h OK") !=
          std::string::npos);
    const std::string gone = beats(w, c);
    INFO(gone);
    CHECK(gone.find("* STATUS misc (MESSAGES 1 UIDNEXT 3 UIDVALIDITY 1700000001 UNSEEN 0 "
                    "HIGHESTMODSEQ ") == 0);
    CHECK(w.say(c, "n NOTIFY NONE\r\n") == "n OK NOTIFY completed\r\n");
    append_to(w, d, "misc", "Subject: 3\r\n\r\nthree\r\n");
    CHECK(beats(w, c, 2).empty());  // NOTIFY NONE: nothing any more
}

TEST_CASE("RFC 5465 §5.1: without CONDSTORE a flag change is told by UNSEEN only",
          "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    w.say(d, "a CREATE misc\r\n");
    append_to(w, d, "misc", "Subject: 1\r\n\r\none\r\n");
    CHECK(w.say(c, "b NOTIFY SET (personal (MessageNew MessageExpunge FlagChange))\r\n") ==
          "b OK NOTIFY completed\r\n");
    w.say(d, "s SELECT misc\r\n");
    CHECK(w.say(d, "f STORE 1 +FLAGS.SILENT (\\Flagged)\r\n").find("f OK") != std::string::npos);
    CHECK(beats(w, c).empty());  // UNSEEN did not change
    CHECK(w.say(d, "f STORE 1 +FLAGS.SILENT (\\Seen)\r\n").find("f OK") != std::string::npos);
    CHECK(beats(w, c) == "* STATUS misc (UNSEEN 0)\r\n");
}

TEST_CASE(
    "RFC 5465 §5.4 with RFC 6154 §2: a MailboxName LIST carries the mailbox's special use, "
    "after CREATE (USE) and RENAME",
    "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    CHECK(w.say(c, "b NOTIFY SET (personal (MailboxName))\r\n") == "b OK NOTIFY completed\r\n");
    CHECK(w.say(d, "c CREATE Old (USE (\\Archive))\r\n").find("c OK") != std::string::npos);
    CHECK(beats(w, c) == "* LIST (\\HasNoChildren \\Archive) \"/\" Old\r\n");
    CHECK(w.say(d, "r RENAME Old Kept\r\n").find("r OK") == 0);
    CHECK(beats(w, c) ==
          "* LIST (\\HasNoChildren \\Archive) \"/\" Kept (\"OLDNAME\" (Old))\r\n");
}

TEST_CASE("RFC 5465 §5.4: MailboxName: CREATE, DELETE, RENAME by another session as LIST",
          "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    w.say(d, "a CREATE Lists\r\n");
    CHECK(w.say(c, "b NOTIFY SET (personal (MailboxName))\r\n") == "b OK NOTIFY completed\r\n");
    CHECK(w.say(d, "c CREATE Lists/New\r\n").find("c OK") == 0);
    CHECK(beats(w, c) ==
          "* LIST (\\HasNoChildren) \"/\" Lists/New\r\n* LIST (\\HasChildren) \"/\" Lists\r\n");
    CHECK(w.say(d, "r RENAME Lists/New Lists/Old\r\n").find("r OK") == 0);
    CHECK(beats(w, c) == "* LIST (\\HasNoChildren) \"/\" Lists/Old (\"OLDNAME\" (Lists/New))\r\n");
    CHECK(w.say(d, "x DELETE Lists/Old\r\n").find("x OK") == 0);
    CHECK(beats(w, c) ==
          "* LIST (\\NonExistent) \"/\" Lists/Old\r\n* LIST (\\HasNoChildren) \"/\" Lists\r\n");
    // §5: not told of its own CREATE.
    CHECK(w.say(c, "o CREATE Mine\r\n").find("o OK") == 0);
    CHECK(beats(w, c).empty());
    // A filter that does not cover the name: nothing.
    CHECK(w.say(c, "b NOTIFY SET (subtree Lists (MailboxName))\r\n") ==
          "b OK NOTIFY completed\r\n");
    CHECK(w.say(d, "c CREATE Other\r\n").find("c OK") == 0);
    CHECK(beats(w, c).empty());
    CHECK(w.say(d, "c CREATE Lists/A\r\n").find("c OK") == 0);
    CHECK(beats(w, c) ==
          "* LIST (\\HasNoChildren) \"/\" Lists/A\r\n* LIST (\\HasChildren) \"/\" Lists\r\n");
}

TEST_CASE("RFC 5465 §5.5, §6.4: SubscriptionChange; a mailbox subscribed later is watched",
          "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    w.say(d, "a CREATE news\r\n");
    CHECK(w.say(c,
                "b NOTIFY SET (personal (SubscriptionChange)) (subscribed (MessageNew "
                "MessageExpunge))\r\n") == "b OK NOTIFY completed\r\n");
    append_to(w, d, "news", "Subject: 1\r\n\r\none\r\n");
    CHECK(beats(w, c, 2).empty());  // not subscribed: not watched
    CHECK(w.say(d, "s SUBSCRIBE news\r\n").find("s OK") == 0);
    CHECK(beats(w, c) == "* LIST (\\HasNoChildren \\Subscribed) \"/\" news\r\n");
    append_to(w, d, "news", "Subject: 2\r\n\r\ntwo\r\n");
    CHECK(beats(w, c) == "* STATUS news (MESSAGES 2 UIDNEXT 3)\r\n");
    CHECK(w.say(d, "u UNSUBSCRIBE news\r\n").find("u OK") == 0);
    CHECK(beats(w, c) == "* LIST (\\HasNoChildren) \"/\" news\r\n");
    append_to(w, d, "news", "Subject: 3\r\n\r\nthree\r\n");
    CHECK(beats(w, c, 2).empty());
}

TEST_CASE("RFC 5465 §3.1, §5, §6.1: BAD and NO [BADEVENT] answers", "[server][notify]") {
    World w;
    port::Handle c = login(w);
    const std::string badevent =
        "x NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange "
        "MailboxMetadataChange ServerMetadataChange)] Unsupported NOTIFY event\r\n";
    CHECK(w.say(c, "x NOTIFY SET (personal (MailboxMetadataChange ServerMetadataChange))\r\n") ==
          "x OK NOTIFY completed\r\n");
    CHECK(w.say(c, "x NOTIFY SET (selected (MailboxMetadataChange))\r\n").find("x BAD") == 0);
    CHECK(w.say(c, "x NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))\r\n") ==
          badevent);
    CHECK(w.say(c, "x NOTIFY SET (personal (Frobnicate))\r\n") == badevent);
    // §5: FlagChange needs both; MessageNew and MessageExpunge go together.
    CHECK(w.say(c, "x NOTIFY SET (personal (FlagChange))\r\n").find("x BAD") == 0);
    CHECK(w.say(c, "x NOTIFY SET (personal (MessageExpunge))\r\n").find("x BAD") == 0);
    CHECK(w.say(c, "x NOTIFY SET (personal (AnnotationChange))\r\n").find("x BAD") == 0);
    // §6.1: SELECTED takes message events only, and once.
    CHECK(w.say(c, "x NOTIFY SET (selected (MailboxName))\r\n").find("x BAD") == 0);
    CHECK(w.say(c,
                "x NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed "
                "(MessageNew MessageExpunge))\r\n")
              .find("x BAD") == 0);
    CHECK(w.say(c, "x NOTIFY SET\r\n").find("x BAD") == 0);
    CHECK(w.say(c, "x NOTIFY SET (nowhere (MailboxName))\r\n").find("x BAD") == 0);
    CHECK(w.say(c, "x NOTIFY SET (subtree (MailboxName))\r\n").find("x BAD") == 0);
    CHECK(w.say(c, "x NOTIFY\r\n").find("x BAD") == 0);
    CHECK(w.say(c, "x NOTIFY NONE extra\r\n").find("x BAD") == 0);
    // NONE events and names that do not exist are fine (§3.1: ignored).
    CHECK(w.say(c, "x NOTIFY SET (mailboxes (nosuch \"also not\") NONE) (inboxes NONE)\r\n") ==
          "x OK NOTIFY completed\r\n");
    // Before authentication: not allowed.
    port::Handle e = w.connect();
    w.net.client_receive(e);
    CHECK(w.say(e, "x NOTIFY NONE\r\n").find("x BAD") == 0);
}

TEST_CASE(
    "RFC 5465 §3.1, §5.8: NOTIFICATIONOVERFLOW when the watched set or the events outgrow "
    "the session's memory",
    "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    create_mailboxes(w, d, "box", 30, 40);
    // 31 mailboxes with INBOX: more than a session watches (24).
    CHECK(w.say(c, "b NOTIFY SET (personal (MessageNew MessageExpunge))\r\n") ==
          "b NO [NOTIFICATIONOVERFLOW] Too many mailboxes to watch; name fewer\r\n");
    CHECK(w.say(c,
                "b NOTIFY SET (subtree box1 (MessageNew MessageExpunge)) (personal "
                "(SubscriptionChange))\r\n") == "b OK NOTIFY completed\r\n");
    // While this session is in the middle of a command line, another makes
    // more events than the ring keeps (16): told, and NOTIFY is off.
    w.net.client_send(c, "n NOO");
    w.run();
    std::string subs;
    for (int i = 0; i < 20; ++i) subs += "s SUBSCRIBE box" + std::to_string(i) + "\r\n";
    w.say_until_tagged(d, subs, "s");
    w.run(40);
    std::string got = w.say(c, "P\r\n") + beats(w, c);
    // §5.8: the untagged OK may come before or after the NOOP's tagged OK
    // (whichever turn finds the ring overrun first; it differs on 32-bit).
    const std::string overflow =
        "* OK [NOTIFICATIONOVERFLOW] Too many changes to follow; NOTIFY is off\r\n";
    CHECK((got == "n OK NOOP completed\r\n" + overflow ||
           got == overflow + "n OK NOOP completed\r\n"));
    CHECK(w.say(d, "s SUBSCRIBE box25\r\n").find("s OK") != std::string::npos);
    CHECK(beats(w, c, 2).empty());
}

TEST_CASE(
    "RFC 5465 §6.1.2, §4: SELECTED-DELAYED holds expunges until a command; without "
    "SELECTED the selected mailbox is silent even in IDLE",
    "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    append_to(w, d, "INBOX", "Subject: 1\r\n\r\none\r\n");
    append_to(w, d, "INBOX", "Subject: 2\r\n\r\ntwo\r\n");
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "b NOTIFY SET (selected-delayed (MessageNew MessageExpunge))\r\n") ==
          "b OK NOTIFY completed\r\n");
    w.say(d, "s SELECT INBOX\r\n");
    CHECK(w.say(d, "f STORE 1 +FLAGS.SILENT (\\Deleted)\r\ne EXPUNGE\r\n").find("e OK") !=
          std::string::npos);
    CHECK(beats(w, c, 2).empty());
    CHECK(w.say(c, "n NOOP\r\n") == "* 1 EXPUNGE\r\nn OK NOOP completed\r\n");
    // SELECTED: at once, between commands.
    CHECK(w.say(c, "b NOTIFY SET (selected (MessageNew MessageExpunge))\r\n") ==
          "b OK NOTIFY completed\r\n");
    append_to(w, d, "INBOX", "Subject: 3\r\n\r\nthree\r\n");
    CHECK(beats(w, c) == "* 2 EXISTS\r\n* 1 RECENT\r\n");
    // No SELECTED group: nothing of the selected mailbox, in IDLE either.
    CHECK(w.say(c, "b NOTIFY SET (personal (MailboxName))\r\n") == "b OK NOTIFY completed\r\n");
    CHECK(w.say(c, "i IDLE\r\n") == "+ idling\r\n");
    append_to(w, d, "INBOX", "Subject: 4\r\n\r\nfour\r\n");
    CHECK(beats(w, c, 2).empty());
    CHECK(w.say(c, "DONE\r\n") == "* 3 EXISTS\r\n* 1 RECENT\r\ni OK IDLE terminated\r\n");
}

TEST_CASE("RFC 5465 §6.2: a mailbox created after NOTIFY SET is watched from its first message",
          "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    CHECK(w.say(c, "b NOTIFY SET (personal (MessageNew MessageExpunge))\r\n") ==
          "b OK NOTIFY completed\r\n");
    // Made by another session (the ring tells this one at its next turn)
    // and by this one (counted at once).
    CHECK(w.say(d, "c CREATE fresh\r\n").find("c OK") == 0);
    CHECK(beats(w, c).empty());
    CHECK(w.say(c, "o CREATE mine\r\n").find("o OK") == 0);
    append_to(w, d, "fresh", "Subject: 1\r\n\r\none\r\n");
    deliver(w, "mine", "Subject: 1\r\n\r\none\r\n");
    const std::string got = beats(w, c);
    CHECK(got.find("* STATUS fresh (MESSAGES 1 UIDNEXT 2)\r\n") != std::string::npos);
    CHECK(got.find("* STATUS mine (MESSAGES 1 UIDNEXT 2)\r\n") != std::string::npos);
    // Deleted by another session: no longer looked at, nothing said.
    CHECK(w.say(d, "x DELETE fresh\r\n").find("x OK") == 0);
    CHECK(beats(w, c, 2).empty());
}

TEST_CASE(
    "RFC 5465 §6.2: a mailbox made by another process joins the watched set within "
    "a minute",
    "[server][notify]") {
    World w;
    port::Handle c = login(w);
    CHECK(w.say(c, "b NOTIFY SET (personal (MessageNew MessageExpunge))\r\n") ==
          "b OK NOTIFY completed\r\n");
    {
        store::StoreLimits l;
        std::vector<unsigned char> mem(store::Registry::bytes_needed(l));
        store::Registry reg(w.fs, w.clock, w.entropy, l);
        Arena arena(mem.data(), mem.size());
        REQUIRE(reg.init(arena) == Status::Ok);
        REQUIRE(store::UserStore(reg, "mail/alice").create("far") == Status::Ok);
    }
    deliver(w, "far", "Subject: 1\r\n\r\none\r\n");
    CHECK(beats(w, c, 61).empty());  // counted when it joined
    deliver(w, "far", "Subject: 2\r\n\r\ntwo\r\n");
    CHECK(beats(w, c) == "* STATUS far (MESSAGES 2 UIDNEXT 3)\r\n");
}

TEST_CASE(
    "RFC 5465 §5.4: mailboxes another process made or removed are told as LIST at the "
    "periodic rescan, when MailboxName is asked for",
    "[server][notify]") {
    World w;
    port::Handle c = login(w);
    w.say(c, "a CREATE gone\r\n");
    w.say(c, "a CREATE kept\r\n");
    CHECK(w.say(c, "b NOTIFY SET (personal (MessageNew MessageExpunge MailboxName))\r\n") ==
          "b OK NOTIFY completed\r\n");
    auto other_process = [&](auto change) {
        store::StoreLimits l;
        std::vector<unsigned char> mem(store::Registry::bytes_needed(l));
        store::Registry reg(w.fs, w.clock, w.entropy, l);
        Arena arena(mem.data(), mem.size());
        REQUIRE(reg.init(arena) == Status::Ok);
        store::UserStore user(reg, "mail/alice");
        change(user);
    };
    other_process([](store::UserStore& u) {
        REQUIRE(u.create("far") == Status::Ok);
        REQUIRE(u.remove("gone") == Status::Ok);
    });
    CHECK(beats(w, c, 59).empty());  // not seen before the rescan
    CHECK(beats(w, c, 2) ==
          "* LIST (\\HasNoChildren) \"/\" far\r\n* LIST (\\NonExistent) \"/\" gone\r\n");
    deliver(w, "far", "Subject: 1\r\n\r\none\r\n");
    CHECK(beats(w, c) == "* STATUS far (MESSAGES 1 UIDNEXT 2)\r\n");
    // Without MailboxName: joined and left silently.
    CHECK(w.say(c, "b NOTIFY SET (personal (MessageNew MessageExpunge))\r\n") ==
          "b OK NOTIFY completed\r\n");
    other_process([](store::UserStore& u) { REQUIRE(u.remove("far") == Status::Ok); });
    CHECK(beats(w, c, 61).empty());
}

TEST_CASE(
    "RFC 5465 §3.1, §6.1: a watched mailbox, once selected, is told of by SELECTED only; "
    "after UNSELECT by STATUS again; no FETCH for this session's own APPEND",
    "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    w.say(d, "a CREATE misc\r\n");
    CHECK(w.say(c,
                "b NOTIFY SET (selected (MessageNew (UID) MessageExpunge)) (personal "
                "(MessageNew MessageExpunge))\r\n") == "b OK NOTIFY completed\r\n");
    CHECK(w.say(c, "s SELECT misc\r\n").find("s OK") != std::string::npos);
    beats(w, c);
    append_to(w, d, "misc", "Subject: 1\r\n\r\none\r\n");
    CHECK(beats(w, c, 2) == "* 1 EXISTS\r\n* 1 RECENT\r\n* 1 FETCH (UID 1)\r\n");
    // §5.2: "SHOULD NOT" for a message this client APPENDed itself.
    const std::string own = w.say(c, "p APPEND misc {16+}\r\nSubject: 2\r\n\r\nx\r\n");
    CHECK(own.find("p OK [APPENDUID ") != std::string::npos);
    CHECK(beats(w, c, 2).find("FETCH") == std::string::npos);
    CHECK(w.say(c, "u UNSELECT\r\n") == "u OK UNSELECT completed\r\n");
    append_to(w, d, "misc", "Subject: 3\r\n\r\nthree\r\n");
    CHECK(beats(w, c) == "* STATUS misc (MESSAGES 3 UIDNEXT 4)\r\n");
}

TEST_CASE(
    "RFC 5465 §4: with NOTIFY on, IDLE starts without the selected mailbox's news when "
    "no SELECTED group asks for them",
    "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "b NOTIFY SET (personal (MailboxName))\r\n") == "b OK NOTIFY completed\r\n");
    append_to(w, d, "INBOX", "Subject: 1\r\n\r\none\r\n");
    CHECK(w.say(c, "i IDLE\r\n") == "+ idling\r\n");
    CHECK(beats(w, c).empty());
    CHECK(w.say(c, "DONE\r\n") == "* 1 EXISTS\r\n* 1 RECENT\r\ni OK IDLE terminated\r\n");
}

TEST_CASE(
    "RFC 5465 §5.2, §6.1: SELECTED NONE tells nothing of the selected mailbox; fetch "
    "attributes of another group are not the selected mailbox's",
    "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    w.say(c, "s SELECT INBOX\r\n");
    CHECK(w.say(c, "b NOTIFY SET (selected NONE) (personal (MailboxName))\r\n") ==
          "b OK NOTIFY completed\r\n");
    append_to(w, d, "INBOX", "Subject: 1\r\n\r\none\r\n");
    CHECK(beats(w, c, 2).empty());
    CHECK(w.say(c,
                "b NOTIFY SET (selected (MessageNew MessageExpunge)) (personal (MessageNew "
                "(UID FLAGS) MessageExpunge))\r\n") ==
          "* 1 EXISTS\r\n* 1 RECENT\r\nb OK NOTIFY completed\r\n");
    append_to(w, d, "INBOX", "Subject: 2\r\n\r\ntwo\r\n");
    CHECK(beats(w, c) == "* 2 EXISTS\r\n* 2 RECENT\r\n");  // no FETCH: none asked for INBOX
}

TEST_CASE("RFC 5465 with RFC 6855: a UTF8=ACCEPT session names and hears of mailboxes in UTF-8",
          "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    CHECK(w.say(d, "a CREATE Caf&AOk-\r\n").find("a OK") == 0);
    REQUIRE(w.say(c, "e ENABLE UTF8=ACCEPT\r\n") ==
            "* ENABLED UTF8=ACCEPT\r\ne OK ENABLE completed\r\n");
    CHECK(w.say(c,
                "b NOTIFY SET STATUS (mailboxes \"Caf\xC3\xA9\" (MessageNew MessageExpunge)) "
                "(personal (MailboxName))\r\n") ==
          "* STATUS {5}\r\nCaf\xC3\xA9 (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 1700000001)\r\n"
          "b OK NOTIFY completed\r\n");
    append_to(w, d, "Caf&AOk-", "Subject: 1\r\n\r\none\r\n");
    CHECK(beats(w, c) == "* STATUS {5}\r\nCaf\xC3\xA9 (MESSAGES 1 UIDNEXT 2)\r\n");
    CHECK(w.say(d, "r RENAME Caf&AOk- Th&AOk-\r\n").find("r OK") == 0);
    // 8-bit names go as literals (as LIST and STATUS send them).
    CHECK(beats(w, c) ==
          "* LIST (\\HasNoChildren) \"/\" {4}\r\nTh\xC3\xA9 (\"OLDNAME\" "
          "({5}\r\nCaf\xC3\xA9))\r\n");
}

TEST_CASE(
    "RFC 5465 §5.2: watched mailboxes are looked at 4 a beat in round robin; each "
    "change is told once, within watched/4 beats",
    "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    create_mailboxes(w, d, "w", 8, 20);
    CHECK(w.say(c,
                "b NOTIFY SET (subtree (w0 w1 w2 w3 w4 w5 w6 w7) (MessageNew "
                "MessageExpunge))\r\n") == "b OK NOTIFY completed\r\n");
    for (int i = 0; i < 8; ++i) deliver(w, "w" + std::to_string(i), "Subject: x\r\n\r\ny\r\n");
    const std::string first = beats(w, c);
    std::size_t told = 0;
    for (std::size_t at = first.find("* STATUS"); at != std::string::npos;
         at = first.find("* STATUS", at + 1)) {
        ++told;
    }
    CHECK(told == 4);  // the budget of one beat
    const std::string all = first + beats(w, c);
    for (int i = 0; i < 8; ++i) {
        const std::string line = "* STATUS w" + std::to_string(i) + " (MESSAGES 1 UIDNEXT 2)\r\n";
        CHECK(all.find(line) != std::string::npos);
        CHECK(all.find(line) == all.rfind(line));  // once
    }
    CHECK(beats(w, c, 3).empty());
}

TEST_CASE("RFC 5465 §3.1: a NOTIFY answered BAD or NO [BADEVENT] leaves the previous one on",
          "[server][notify]") {
    World w;
    port::Handle c = login(w);
    port::Handle d = login(w);
    w.say(d, "a CREATE misc\r\n");
    CHECK(w.say(c, "b NOTIFY SET (mailboxes misc (MessageNew MessageExpunge))\r\n") ==
          "b OK NOTIFY completed\r\n");
    CHECK(w.say(c, "x NOTIFY SET (personal (MessageNew))\r\n").find("x BAD") == 0);
    CHECK(w.say(c, "y NOTIFY SET (personal (AnnotationChange MessageNew MessageExpunge))\r\n")
              .find("y NO [BADEVENT") == 0);
    append_to(w, d, "misc", "Subject: 1\r\n\r\none\r\n");
    CHECK(beats(w, c) == "* STATUS misc (MESSAGES 1 UIDNEXT 2)\r\n");
}
