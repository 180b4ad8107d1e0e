// The conversation fuzz_keywords.cpp fuzzes, shared with the unit tests that
// replay its seed corpus (tests/unit/server/server_keywords_test.cpp): see
// fuzz_keywords.cpp for the input layout. run_keywords_conversation()
// returns false when any byte sent to either client is malformed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
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

namespace tinyimapd::fuzz {

inline constexpr const char* kAddress = "127.0.0.1:143";
inline constexpr std::size_t kMaxOps = 48;

class Input {
public:
    Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool empty() const { return pos_ >= size_; }
    std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
    std::string bytes(std::size_t n) {
        std::string out;
        while (n-- > 0 && pos_ < size_) out += static_cast<char>(data_[pos_++]);
        return out;
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

// An atom-ish name from input bytes: mostly valid keyword characters, now
// and then one that is not (the server must answer BAD, still framed).
inline std::string name(Input& in, std::size_t length) {
    static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789$_-.!&'";
    std::string out;
    for (std::size_t i = 0; i < length; ++i) {
        const std::uint8_t b = in.byte();
        out += b >= 250 ? "]%*\"\\"[b - 250 < 5 ? b - 250 : 0] : kChars[b % (sizeof kChars - 1)];
    }
    return out;
}

inline std::string flag_list(Input& in) {
    const std::uint8_t count = in.byte() % 72;
    std::string out = "(";
    for (std::uint8_t i = 0; i < count; ++i) {
        const std::uint8_t b = in.byte();
        if (i > 0) out += ' ';
        if (b < 16) {
            static const char* kSystem[] = {"\\Seen", "\\Flagged", "\\Deleted", "\\Draft"};
            out += kSystem[b % 4];
            continue;
        }
        // Short names repeat (same keyword, other case); long ones pass 59.
        const std::size_t length = 1 + (b < 128 ? b % 4 : b % 70);
        out += "$" + name(in, length);
    }
    return out + ")";
}

struct KeywordsWorld {
    sim::SimClock clock;
    sim::SimNet net{clock};
    sim::SimFs fs{&clock};
    sim::SimEntropy entropy{1};
    sim::SimLog log;
    port::Platform platform{net, fs, clock, entropy, log};
    Config cfg;
    std::vector<std::uint8_t> block;
    std::unique_ptr<Server> server;
    std::map<port::Handle, imap::FramingCheck> framing;
    bool malformed = false;

    KeywordsWorld() {
        net.on_write = [this](port::Handle client, std::string_view bytes) {
            if (!framing[client].feed(bytes)) malformed = true;
        };
        fs.write_file("passwd", "alice:{PLAIN}wonderland:1000:1000::/home/alice::\n");
        cfg.listen.items[0].assign(kAddress);
        cfg.listen.count = 1;
        cfg.passwd_file.assign("passwd");
        cfg.plaintext_auth = true;
        cfg.max_clients = 2;
        cfg.output_buffer = kMinOutputBuffer;  // the tightest a config allows
        cfg.mailbox_sent.clear();
        cfg.mailbox_drafts.clear();
        cfg.mailbox_trash.clear();
        cfg.mailbox_junk.clear();
        cfg.mailbox_archive.clear();
        block.resize(Server::memory_needed(cfg));
        server = std::make_unique<Server>(platform, cfg, block.data(), block.size());
        if (server->load_passwd() != Status::Ok || server->open_listeners() != Status::Ok) {
            abort();
        }
    }
    void run(int turns = 12) {
        for (int i = 0; i < turns; ++i) (void)server->run_once(0);
    }
    void say(port::Handle c, const std::string& bytes) {
        net.client_send(c, bytes);
        run();
        (void)net.client_receive(c);
    }
};

// Runs one input; false if the server sent anything malformed.
inline bool run_keywords_conversation(const std::uint8_t* data, std::size_t size) {
    KeywordsWorld w;
    Input in(data, size);
    port::Handle c[2];
    for (port::Handle& h : c) {
        h = w.net.connect(kAddress);
        w.run();
        w.say(h, "a LOGIN alice wonderland\r\n");
        w.say(h, "p APPEND INBOX {1+}\r\nx\r\ns SELECT INBOX\r\n");
    }
    for (std::size_t op = 0; op < kMaxOps && !in.empty(); ++op) {
        const std::uint8_t code = in.byte();
        const port::Handle h = c[code & 1];
        std::string cmd;
        switch ((code >> 1) % 12) {
            case 0: cmd = "t STORE 1:* +FLAGS " + flag_list(in) + "\r\n"; break;
            case 1: cmd = "t STORE 1 -FLAGS.SILENT " + flag_list(in) + "\r\n"; break;
            case 2: cmd = "t UID STORE 1:* FLAGS " + flag_list(in) + "\r\n"; break;
            case 3: cmd = "q APPEND INBOX " + flag_list(in) + " {3+}\r\nabc\r\n"; break;
            case 4: cmd = (code & 0x80) ? "s EXAMINE INBOX\r\n" : "s SELECT INBOX\r\n"; break;
            case 5: cmd = "f FETCH 1:* (UID FLAGS)\r\n"; break;
            case 6: cmd = "n NOOP\r\n"; break;
            case 7: {
                const std::string n = name(in, 1 + in.byte() % 40);
                cmd = "c CREATE \"" + n + "\"\r\nq APPEND \"" + n + "\" " + flag_list(in) +
                      " {1+}\r\ny\r\n";
                break;
            }
            case 8: cmd = "k COPY 1:* \"" + name(in, 1 + in.byte() % 8) + "\"\r\n"; break;
            case 9:
                // A slow reader: the server writes a few bytes at a time.
                w.net.faults(h).send_buffer = 1 + in.byte() * 8;
                break;
            case 10: w.net.faults(h).send_buffer = 0; break;
            default: cmd = in.bytes(in.byte() % 64); break;
        }
        w.net.client_send(h, cmd);
        w.run();
        // Drain both clients now and then; otherwise let output back up.
        if ((code & 0x40) == 0) {
            (void)w.net.client_receive(c[0]);
            (void)w.net.client_receive(c[1]);
        }
    }
    // Let everything out: every answer must complete, framed.
    for (port::Handle h : c) w.net.faults(h).send_buffer = 0;
    for (int i = 0; i < 64; ++i) {
        w.run(4);
        (void)w.net.client_receive(c[0]);
        (void)w.net.client_receive(c[1]);
    }
    return !w.malformed;
}

}  // namespace tinyimapd::fuzz
