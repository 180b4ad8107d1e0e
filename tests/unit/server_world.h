// The simulated world of the whole-server tests: a Server over SimNet,
// SimFs and SimClock with one user (alice/wonderland), and scripted clients.
#pragma once

#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/imap/framing.h"
#include "core/server/config.h"
#include "core/server/server.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"
#include "platforms/sim/sim_log.h"
#include "platforms/sim/sim_net.h"

namespace tinyimapd::test {

inline constexpr const char* kAddress = "127.0.0.1:143";

struct World {
    sim::SimClock clock;
    sim::SimNet net{clock};
    sim::SimFs fs{&clock};
    sim::SimEntropy entropy{1};
    sim::SimLog log;
    port::Platform platform{net, fs, clock, entropy, log};
    Config cfg;
    std::vector<std::uint8_t> block;
    std::unique_ptr<Server> server;
    struct Framing {
        imap::FramingCheck check;
        bool reported = false;
    };
    std::map<port::Handle, Framing> framing;  // by client handle

    // `configure` may change the configuration before the server starts.
    explicit World(std::uint32_t max_clients = 4, bool plaintext = true,
                   bool default_mailboxes = false,
                   const std::function<void(Config&)>& configure = {}) {
        fs.write_file("passwd", "# users\nalice:{PLAIN}wonderland:1000:1000::/home/alice::\n");
        cfg.listen.items[0].assign(kAddress);
        cfg.listen.count = 1;
        cfg.passwd_file.assign("passwd");
        cfg.plaintext_auth = plaintext;
        cfg.max_clients = max_clients;
        cfg.login_fail_delay_ms = 2000;
        // Every simulated client comes from one address unless a test says
        // otherwise: let it take every slot.
        cfg.max_clients_per_address = max_clients;
        // No default special-use mailboxes (RFC 6154) unless asked, so
        // UIDVALIDITY values stay predictable.
        if (!default_mailboxes) {
            cfg.mailbox_sent.clear();
            cfg.mailbox_drafts.clear();
            cfg.mailbox_trash.clear();
            cfg.mailbox_junk.clear();
            cfg.mailbox_archive.clear();
        }
        // Every byte a client receives must be well-framed IMAP (RFC 3501
        // §2.2.2, §7): checked as it is written, whatever the test.
        net.on_write = [this](port::Handle client, std::string_view bytes) {
            Framing& f = framing[client];
            if (f.check.feed(bytes) || f.reported) return;
            f.reported = true;
            FAIL_CHECK("malformed server output to client "
                       << client << " after " << f.check.lines() << " lines: " << f.check.error());
        };
        if (configure) configure(cfg);
        block.resize(Server::memory_needed(cfg));
        server = std::make_unique<Server>(platform, cfg, block.data(), block.size());
        REQUIRE(server->load_passwd() == Status::Ok);
        REQUIRE(server->open_listeners() == Status::Ok);
    }

    // Runs the loop until nothing is ready (each wait then advances time by
    // at most `step_ms`).
    void run(int turns = 8, std::int32_t step_ms = 0) {
        for (int i = 0; i < turns; ++i) (void)server->run_once(step_ms);
    }

    port::Handle connect() {
        port::Handle c = net.connect(kAddress);
        run();
        return c;
    }

    std::string say(port::Handle c, const std::string& bytes) {
        net.client_send(c, bytes);
        run();
        return net.client_receive(c);
    }

    // Sends `bytes`, then keeps the loop running until the command tagged
    // `tag` is answered (OK, NO or BAD), for answers that stream through the
    // output buffer over many turns; returns everything received.
    std::string say_until_tagged(port::Handle c, const std::string& bytes, const std::string& tag) {
        std::string all = say(c, bytes);
        auto done = [&] {
            for (const char* status : {" OK", " NO", " BAD"}) {
                const std::string line = tag + status;
                if (all.compare(0, line.size(), line) == 0 ||
                    all.find("\n" + line) != std::string::npos) {
                    return true;
                }
            }
            return false;
        };
        for (int i = 0; i < 200 && !done(); ++i) all += say(c, "");
        return all;
    }
};

// The whole answer to a successful CREATE tagged `tag`: RFC 8474 §4.1 names
// the new mailbox's MAILBOXID ("F" and 16 hex digits, core/imap/object_id.h).
inline bool create_ok(const std::string& r, const std::string& tag) {
    const std::string head = tag + " OK [MAILBOXID (F";
    const std::string tail = ")] CREATE completed\r\n";
    if (r.size() != head.size() + 16 + tail.size()) return false;
    if (r.compare(0, head.size(), head) != 0) return false;
    if (r.compare(head.size() + 16, tail.size(), tail) != 0) return false;
    for (std::size_t i = head.size(); i < head.size() + 16; ++i)
        if (std::string("0123456789abcdef").find(r[i]) == std::string::npos) return false;
    return true;
}

// A new connection, greeted and logged in (LOGIN must succeed).
inline port::Handle login(World& w, const char* user = "alice",
                          const char* password = "wonderland") {
    port::Handle c = w.connect();
    w.net.client_receive(c);
    const std::string r = w.say(c, std::string("a LOGIN ") + user + " " + password + "\r\n");
    REQUIRE(r.find("a OK") != std::string::npos);
    return c;
}

// APPENDs `message` to INBOX as a non-synchronizing literal (tagged `p`) and
// requires the OK; the loop is given turns in proportion to its size.
inline void append_to_inbox(World& w, port::Handle c, const std::string& message) {
    w.net.client_send(
        c, "p APPEND INBOX {" + std::to_string(message.size()) + "+}\r\n" + message + "\r\n");
    w.run(8 + static_cast<int>(message.size() / 4096));
    const std::string r = w.net.client_receive(c);
    INFO(r);
    REQUIRE(r.find("p OK") != std::string::npos);
}

// True when `text` holds `what`.
inline bool has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
}

// APPENDs `message` to `box` through session `c` (tagged `p`, a
// non-synchronizing literal) and requires the OK.
inline void append_to(World& w, port::Handle c, const std::string& box,
                      const std::string& message) {
    const std::string r = w.say(
        c, "p APPEND " + box + " {" + std::to_string(message.size()) + "+}\r\n" + message + "\r\n");
    INFO(r);
    REQUIRE(r.find("p OK") != std::string::npos);
}

// Everything the client receives over `beats` one-second beats (IDLE's and
// NOTIFY's, RFC 5465 §4).
inline std::string beats(World& w, port::Handle c, int beats = 1) {
    std::string got;
    for (int i = 0; i < beats; ++i) {
        w.clock.advance(1000);
        w.run();
        got += w.net.client_receive(c);
    }
    return got;
}

// Three users of one server (RFC 4314 sharing): alice, bob and carol, who
// owns the public namespace ("Shared/", RFC 2342) when `shared`.
struct Household : World {
    explicit Household(bool shared = false, std::uint32_t quota_messages = 0)
        : World(6, true, false, [shared, quota_messages](Config& c) {
              if (shared) {
                  c.public_owner.assign("carol");
              } else {
                  c.public_owner.clear();
              }
              c.quota_messages = quota_messages;
          }) {
        fs.write_file("passwd",
                      "alice:{PLAIN}wonderland:1000:1000::/home/alice::\n"
                      "bob:{PLAIN}builder:1000:1000::/home/bob::\n"
                      "carol:{PLAIN}singer:1000:1000::/home/carol::\n");
        REQUIRE(server->load_passwd() == Status::Ok);
    }
};

// The capabilities every state advertises (RFC 3501 §6.1.1, §7.2.1); the
// pre-authentication ones (STARTTLS, AUTH=, LOGINDISABLED) follow them.
inline const std::string kCaps =
    "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR UNSELECT UIDPLUS MOVE BINARY ESEARCH ID ENABLE IDLE "
    "NAMESPACE "
    "CHILDREN LIST-EXTENDED "
    "LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE CONDSTORE QRESYNC QUOTA QUOTA=RES-STORAGE "
    "QUOTA=RES-MESSAGE STATUS=SIZE MULTIAPPEND WITHIN UNAUTHENTICATE SORT SORT=DISPLAY "
    "THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT CONTEXT=SORT I18NLEVEL=1 SEARCHRES "
    "CONTEXT=SEARCH METADATA METADATA-SERVER SAVEDATE PREVIEW REPLACE "
    "UTF8=ACCEPT NOTIFY OBJECTID ACL RIGHTS=texk "
    "APPENDLIMIT=67108864";
// LOGIN's and AUTHENTICATE's OK (RFC 3501 §7.1): the capabilities as its
// response code while they fit the session's limit on codes, else as an
// untagged CAPABILITY before a plain OK (Session::authenticate).
inline std::string logged_in(const std::string& tag) {
    const std::string code = "CAPABILITY " + kCaps;
    if (code.size() <= session::kMaxResponseCode) return tag + " OK [" + code + "] Logged in\r\n";
    return "* " + code + "\r\n" + tag + " OK Logged in\r\n";
}
inline const std::string kGreeting =
    "* OK [CAPABILITY " + kCaps + " AUTH=PLAIN] tinyimapd ready\r\n";

}  // namespace tinyimapd::test
