// RFC 5256 THREAD: the REFERENCES and ORDEREDSUBJECT algorithms
// (core/imap/thread.h), base subjects (core/mime/base_subject.h), message
// IDs (core/mime/message_id.h) and sent dates (core/imap/sent_date.h).
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/imap/sent_date.h"
#include "core/imap/thread.h"
#include "core/mime/base_subject.h"
#include "core/mime/message_id.h"

using namespace tinyimapd;

namespace {

std::string base(const std::string& subject, bool* reply = nullptr) {
    char out[mime::kBaseSubjectMax];
    bool r = false;
    const std::size_t n = mime::base_subject(subject, out, sizeof out, &r);
    if (reply) *reply = r;
    return {out, n};
}

std::vector<std::string> ids(const std::string& value) {
    std::vector<std::string> v;
    mime::MessageIdIterator it(value);
    char out[mime::kMessageIdMax];
    std::size_t n = 0;
    while (it.next(out, &n)) v.emplace_back(out, n);
    return v;
}

std::uint64_t hash(const std::string& id) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a, as a caller might
    for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
    return h;
}

// A mailbox for THREAD: messages in mailbox order with their number, date,
// subject, Message-ID and references.
struct Msg {
    std::uint32_t number;
    std::int64_t sent;
    std::string subject, id;
    std::vector<std::string> refs;
};

std::string render_all(imap::ThreadWork& t, std::size_t piece) {
    std::string s;
    std::vector<char> buf(piece);
    for (bool done = false; !done;) s.append(buf.data(), t.render(buf.data(), piece, &done));
    return s;
}

std::vector<imap::ThreadMessage> inputs(const std::vector<Msg>& box) {
    // Subject ranks: equal base subjects (here compared as bytes) get one rank.
    std::map<std::string, std::uint32_t> ranks;
    for (const Msg& m : box) ranks[base(m.subject)] = 0;
    std::uint32_t r = 0;
    for (auto& [subject, rank] : ranks) rank = subject.empty() ? 0 : ++r;
    std::vector<imap::ThreadMessage> in;
    for (const Msg& m : box) {
        bool reply = false;
        const std::string b = base(m.subject, &reply);
        in.push_back({m.sent, m.number, ranks[b], reply});
    }
    return in;
}

std::string thread(const std::vector<Msg>& box, bool references = true, std::size_t piece = 4096,
                   std::uint32_t id_room = 1000) {
    const auto in = inputs(box);
    const auto count = static_cast<std::uint32_t>(in.size());
    std::vector<char> area(imap::ThreadWork::bytes(count, id_room));
    imap::ThreadWork t;
    REQUIRE(t.init(area.data(), area.size(), in.data(), count, id_room));
    if (!references) {
        t.ordered_subject();
        return render_all(t, piece);
    }
    for (std::uint32_t i = 0; i < count; ++i) {
        t.begin_message(i, box[i].id.empty() ? 0 : hash(box[i].id));
        for (const std::string& r : box[i].refs) t.add_reference(hash(r));
        t.end_message();
    }
    t.finish_references();
    return render_all(t, piece);
}

}  // namespace

TEST_CASE("base subject removes reply and forward marks, rfc5256_2_1", "[thread]") {
    bool reply = false;
    CHECK(base("Re: hello", &reply) == "hello");
    CHECK(reply);
    CHECK(base("hello", &reply) == "hello");
    CHECK_FALSE(reply);
    CHECK(base("RE: Re: re: hello") == "hello");
    CHECK(base("re:re:re:hello") == "hello");
    CHECK(base("Fwd: hello") == "hello");
    CHECK(base("FW: hello") == "hello");
    CHECK(base("Re[2]: hello") == "hello");  // subj-refwd's optional subj-blob
    CHECK(base("Re [2] : hello") == "hello");
    CHECK(base("[list] Re: hello", &reply) == "hello");  // *subj-blob subj-refwd
    CHECK(reply);
    CHECK(base("[list] hello", &reply) == "hello");  // step (4)
    CHECK_FALSE(reply);
    CHECK(base("[a][b] hello") == "hello");
    CHECK(base("[list]") == "[list]");  // the last blob is the subj-base if nothing else is
    CHECK(base("hello (fwd)", &reply) == "hello");  // subj-trailer
    CHECK(reply);
    CHECK(base("hello (FWD) (fwd)  ") == "hello");
    CHECK(base("[fwd: hello]", &reply) == "hello");  // step (6)
    CHECK(reply);
    CHECK(base("[Fwd: Re: hello]") == "hello");
    CHECK(base("Re: [fwd: x] (fwd)") == "x");
    CHECK(base("Re:") == "");
    CHECK(base("Rex: hi", &reply) == "Rex: hi");  // not a subj-refwd
    CHECK_FALSE(reply);
    CHECK(base("Fwd hello") == "Fwd hello");
    CHECK(base("Re: [list]") == "[list]");
}

TEST_CASE("base subject decodes RFC 2047 and squeezes blanks, rfc5256_2_1_step_1", "[thread]") {
    bool reply = false;
    CHECK(base("=?utf-8?q?Re:_caf=C3=A9?=", &reply) == "caf\xC3\xA9");
    CHECK(reply);
    CHECK(base("  hello\t  world  ") == "hello world");
    CHECK(base("=?iso-8859-1?q?Re=3A_na=EFve?=") == "na\xC3\xAFve");
}

TEST_CASE("base subject longer than the buffer is cut at a character", "[thread]") {
    std::string long_subject = "Re: ";
    for (int i = 0; i < 600; ++i) long_subject += "\xC3\xA9";  // é, 2 bytes
    char out[101];
    bool reply = false;
    const std::size_t n = mime::base_subject(long_subject, out, sizeof out, &reply);
    CHECK(reply);
    CHECK(n == 96);  // 101 - "Re: " = 97 bytes of é's, cut to whole characters
    CHECK(static_cast<unsigned char>(out[n - 1]) == 0xA9);
}

TEST_CASE("message IDs are normalised, rfc5256_references_note", "[thread]") {
    CHECK(ids("<\"01KF8JCEOCBS0045PS\"@xxx.yyy.com>") ==
          std::vector<std::string>{"01KF8JCEOCBS0045PS@xxx.yyy.com"});
    CHECK(ids("<01KF8JCEOCBS0045PS@xxx.yyy.com>") ==
          std::vector<std::string>{"01KF8JCEOCBS0045PS@xxx.yyy.com"});
    CHECK(ids(" <a@b> (comment) <c.d@e>\r\n\t<f@[1.2.3.4]>") ==
          std::vector<std::string>{"a@b", "c.d@e", "f@[1.2.3.4]"});
    CHECK(ids("< a (x) @ b >") == std::vector<std::string>{"a@b"});
    CHECK(ids("<\"a\\\"q\"@b>") == std::vector<std::string>{"a\"q@b"});
    // In-Reply-To as found in the wild: text around, invalid IDs skipped.
    CHECK(ids("Your message of Mon <123@host> \"x\" <no-at-sign> <x@y") ==
          std::vector<std::string>{"123@host"});
    CHECK(ids("<a b@c> <<x@y>") == std::vector<std::string>{"x@y"});
    // Dovecot's fallback: a "<...>" with an "@" and no blank is taken as written.
    CHECK(ids("<a@b@c> <@b>") == std::vector<std::string>{"a@b@c", "@b"});
    CHECK(ids("<A@B>") != ids("<a@b>"));  // comparisons are case-sensitive
    char out[mime::kMessageIdMax];
    CHECK(mime::first_message_id("junk <q@r> <s@t>", out) == 3);
    CHECK(mime::first_message_id("none", out) == 0);
    CHECK(ids("<" + std::string(300, 'a') + "@b>").empty());  // longer than kMessageIdMax
}

TEST_CASE("sent date is the Date header in UTC, rfc5256_2_2", "[thread]") {
    std::int64_t t = 0;
    // §2.2's example: both are 2001-01-01T00:01:33Z.
    REQUIRE(imap::parse_sent_date("31 Dec 2000 16:01:33 -0800", &t));
    const std::int64_t expected = 978307293;
    CHECK(t == expected);
    REQUIRE(imap::parse_sent_date("Mon, 1 Jan 2001 00:01:33 +0000", &t));
    CHECK(t == expected);
    REQUIRE(imap::parse_sent_date("1 Jan 2001 00:01:33 GMT (comment)", &t));
    CHECK(t == expected);
    REQUIRE(imap::parse_sent_date("31 Dec 00 19:01:33 EST", &t));  // obs-year, obs-zone
    CHECK(t == expected);
    REQUIRE(imap::parse_sent_date("1 Jan 2001 00:01:33 +9999", &t));  // bad zone: UTC
    CHECK(t == expected);
    REQUIRE(imap::parse_sent_date("1 Jan 2001 00:01:33", &t));  // no zone: UTC
    CHECK(t == expected);
    REQUIRE(imap::parse_sent_date("1 Jan 2001 25:99", &t));  // bad time: midnight
    CHECK(t == expected - 93);
    CHECK_FALSE(imap::parse_sent_date("", &t));
    CHECK_FALSE(imap::parse_sent_date("yesterday", &t));
    CHECK_FALSE(imap::parse_sent_date("30 Feb 2001 10:00 +0000", &t));
    CHECK_FALSE(imap::parse_sent_date("1 Foo 2001", &t));
}

TEST_CASE("REFERENCES builds the RFC's example thread, rfc5256_thread_response", "[thread]") {
    // * THREAD (2)(3 6 (4 23)(44 7 96))
    const std::vector<Msg> box = {
        {2, 100, "other", "m2@x", {}},
        {3, 110, "topic", "m3@x", {}},
        {4, 130, "Re: topic", "m4@x", {"m3@x", "m6@x"}},
        {6, 120, "Re: topic", "m6@x", {"m3@x"}},
        {7, 150, "Re: topic", "m7@x", {"m3@x", "m6@x", "m44@x"}},
        {23, 140, "Re: topic", "m23@x", {"m3@x", "m6@x", "m4@x"}},
        {44, 145, "Re: topic", "m44@x", {"m3@x", "m6@x"}},
        {96, 160, "Re: topic", "m96@x", {"m3@x", "m6@x", "m44@x", "m7@x"}},
    };
    CHECK(thread(box) == "(2)(3 6 (4 23)(44 7 96))");
    CHECK(thread(box, true, 32) == "(2)(3 6 (4 23)(44 7 96))");  // written in small pieces
}

TEST_CASE("REFERENCES keeps siblings of a missing parent together, rfc5256_thread_response",
          "[thread]") {
    // * THREAD ((3)(5)): 3 and 5 answer a message not in the mailbox.
    CHECK(thread({{3, 10, "a", "m3@x", {"gone@x"}}, {5, 20, "b", "m5@x", {"gone@x"}}}) ==
          "((3)(5))");
    // Step 3: a dummy with one child under the root is replaced by the child.
    CHECK(thread({{3, 10, "a", "m3@x", {"gone@x"}}, {5, 20, "b", "m5@x", {}}}) == "(3)(5)");
    // A dummy deeper down gives its children to its parent.
    CHECK(thread({{1, 10, "a", "m1@x", {}},
                  {2, 20, "b", "m2@x", {"m1@x", "gone@x"}},
                  {3, 30, "c", "m3@x", {"m1@x", "gone@x"}}}) == "(1 (2)(3))");
}

TEST_CASE("REFERENCES merges threads by subject, rfc5256_references_step_5", "[thread]") {
    // A reply without references joins the thread of its subject.
    CHECK(thread({{1, 10, "lunch", "m1@x", {}}, {2, 20, "Re: lunch", "m2@x", {}}}) == "(1 2)");
    // Two messages that are not replies: siblings under a dummy.
    CHECK(thread({{1, 10, "lunch", "m1@x", {}}, {2, 20, "lunch", "m2@x", {}}}) == "((1)(2))");
    // The non-reply holds the subject even when it comes second.
    CHECK(thread({{1, 10, "Re: lunch", "m1@x", {}}, {2, 20, "lunch", "m2@x", {}}}) == "(2 1)");
    // Empty subjects are never merged.
    CHECK(thread({{1, 10, "", "m1@x", {}}, {2, 20, "Re:", "m2@x", {}}}) == "(1)(2)");
    // Two dummies with one subject: their children become siblings.
    CHECK(thread({{1, 10, "x", "m1@x", {"g1@x"}},
                  {2, 20, "x", "m2@x", {"g1@x"}},
                  {3, 30, "x", "m3@x", {"g2@x"}},
                  {4, 40, "x", "m4@x", {"g2@x"}}}) == "((1)(2)(3)(4))");
}

TEST_CASE("REFERENCES: duplicate IDs, no IDs, loops, rfc5256_references_step_1", "[thread]") {
    // The second message with an ID gets a unique one: 3 answers the first.
    CHECK(thread({{1, 10, "a", "same@x", {}},
                  {2, 20, "b", "same@x", {}},
                  {3, 30, "c", "m3@x", {"same@x"}}}) == "(1 3)(2)");
    CHECK(thread({{1, 10, "a", "", {}}, {2, 20, "b", "", {}}}) == "(1)(2)");
    // A loop in the references is not made.
    CHECK(thread({{1, 10, "a", "m1@x", {"m2@x"}}, {2, 20, "b", "m2@x", {"m1@x"}}}) == "(2 1)");
    CHECK(thread({{1, 10, "a", "m1@x", {"m1@x"}}}) == "(1)");
    // Step 1.A links adjacent references: 4's says 2 answers 3.
    CHECK(thread({{1, 10, "a", "m1@x", {}},
                  {2, 20, "b", "m2@x", {}},
                  {3, 30, "c", "m3@x", {"m1@x"}},
                  {4, 40, "d", "m4@x", {"m3@x", "m2@x"}}}) == "(1 3 2 4)");
    // Step 1.B: a message's own last reference replaces the parent another
    // message's (truncated) References gave it.
    CHECK(thread({{1, 10, "a", "m1@x", {}},
                  {2, 20, "c", "m3@x", {"m1@x", "m2@x"}},
                  {3, 30, "b", "m2@x", {"m5@x"}},
                  {4, 40, "d", "m5@x", {}}}) == "(1)(4 3 2)");
}

TEST_CASE("REFERENCES sorts threads and siblings by sent date, rfc5256_references_step_6",
          "[thread]") {
    CHECK(thread({{1, 50, "a", "m1@x", {}}, {2, 10, "b", "m2@x", {}}, {3, 10, "c", "m3@x", {}}}) ==
          "(2)(3)(1)");  // equal dates: mailbox order
    CHECK(thread({{1, 10, "a", "m1@x", {}},
                  {2, 40, "b", "m2@x", {"m1@x"}},
                  {3, 30, "c", "m3@x", {"m1@x"}}}) == "(1 (3)(2))");
}

TEST_CASE("REFERENCES ignores references once the work area is full", "[thread]") {
    // Room for 2 IDs: the messages' own; the unknown reference is dropped.
    const std::vector<Msg> box = {{1, 10, "a", "m1@x", {}},
                                  {2, 20, "b", "m2@x", {"gone@x", "m1@x"}}};
    CHECK(thread(box, true, 4096, 2) == "(1 2)");
}

TEST_CASE("ORDEREDSUBJECT groups by base subject, rfc5256_orderedsubject", "[thread]") {
    const std::vector<Msg> box = {{1, 10, "apples", "", {}},     {2, 20, "bananas", "", {}},
                                  {3, 40, "Re: apples", "", {}}, {4, 30, "Fwd: apples", "", {}},
                                  {5, 5, "Re: bananas", "", {}}, {6, 60, "cherries", "", {}}};
    // Threads by their first message's date; the second message is the
    // first's child, later ones its siblings.
    CHECK(thread(box, false) == "(5 2)(1 (4)(3))(6)");
    CHECK(thread(box, false, 32) == "(5 2)(1 (4)(3))(6)");
    CHECK(thread({}, false).empty());
    CHECK(thread({}, true).empty());
}

TEST_CASE("REFERENCES on random mailboxes answers every message once", "[thread]") {
    std::mt19937 rng(5256);
    for (int round = 0; round < 200; ++round) {
        const int n = 1 + static_cast<int>(rng() % 60);
        std::vector<Msg> box;
        for (int i = 0; i < n; ++i) {
            Msg m{static_cast<std::uint32_t>(i + 1),
                  static_cast<std::int64_t>(rng() % 20),
                  std::string(rng() % 3 ? "" : "Re: ") + "s" + std::to_string(rng() % 5),
                  rng() % 8 ? "m" + std::to_string(rng() % (n + 3)) + "@x" : "",
                  {}};
            for (unsigned k = rng() % 5; k > 0; --k)
                m.refs.push_back("m" + std::to_string(rng() % (n + 5)) + "@x");
            box.push_back(m);
        }
        for (bool refs : {true, false}) {
            const std::string whole = thread(box, refs);
            CHECK(thread(box, refs, 32) == whole);
            // Every number exactly once; parentheses balanced, never empty.
            std::vector<int> seen(n + 1);
            int depth = 0, number = 0;
            for (std::size_t i = 0; i <= whole.size(); ++i) {
                const char c = i < whole.size() ? whole[i] : ' ';
                if (c >= '0' && c <= '9') {
                    number = number * 10 + (c - '0');
                    continue;
                }
                if (number > 0) ++seen[number];
                number = 0;
                if (c == '(') ++depth;
                if (c == ')') CHECK(--depth >= 0);
            }
            CHECK(depth == 0);
            CHECK(whole.find("()") == std::string::npos);
            for (int i = 1; i <= n; ++i) CHECK(seen[i] == 1);
        }
    }
}
