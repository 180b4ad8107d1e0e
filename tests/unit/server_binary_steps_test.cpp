// FETCH BINARY (RFC 3516) of a large encoded part in the server loop: the
// decode that measures the part before its literal runs in bounded pieces
// (issue 20), so another client is answered between them.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/base/arena.h"
#include "core/store/registry.h"
#include "tests/unit/server_world.h"

using namespace tinyimapd;
using namespace tinyimapd::test;

namespace {

constexpr const char* kInbox = "mail/alice/^i^n^b^o^x";

std::string base64_lines(const std::string& in) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t col = 0;
    for (std::size_t i = 0; i < in.size(); i += 3) {
        const unsigned a = static_cast<unsigned char>(in[i]);
        const unsigned b = i + 1 < in.size() ? static_cast<unsigned char>(in[i + 1]) : 0;
        const unsigned c = i + 2 < in.size() ? static_cast<unsigned char>(in[i + 2]) : 0;
        const unsigned v = (a << 16) | (b << 8) | c;
        out += k[(v >> 18) & 63];
        out += k[(v >> 12) & 63];
        out += i + 1 < in.size() ? k[(v >> 6) & 63] : '=';
        out += i + 2 < in.size() ? k[v & 63] : '=';
        if ((col += 4) == 76) {
            out += "\r\n";
            col = 0;
        }
    }
    return out + "\r\n";
}

void put_message(World& w, const std::string& text) {
    store::StoreLimits l;
    std::vector<unsigned char> mem(store::Registry::bytes_needed(l));
    store::Registry reg(w.fs, w.clock, w.entropy, l);
    Arena arena(mem.data(), mem.size());
    REQUIRE(reg.init(arena) == Status::Ok);
    auto m = reg.acquire(kInbox);
    REQUIRE(m.status == Status::Ok);
    store::Appender a;
    REQUIRE(m.value->begin_append(a, static_cast<std::uint32_t>(text.size()), 0, 0, 1700000000,
                                  0) == Status::Ok);
    REQUIRE(m.value->append_chunk(a, text.data(), text.size()) == Status::Ok);
    std::uint32_t uid = 0;
    REQUIRE(m.value->commit_append(a, &uid) == Status::Ok);
    reg.release(m.value);
}

}  // namespace

TEST_CASE(
    "FETCH BINARY.SIZE of a large base64 part is measured over several turns; another client "
    "is answered meanwhile (rfc3516_4_2, issue 20)",
    "[server][binary]") {
    World w;
    port::Handle a = login(w);
    port::Handle b = login(w);
    std::string decoded(9u << 20, 'x');  // 9 MiB decoded, 12 MiB of base64
    for (std::size_t i = 0; i < decoded.size(); i += 997)
        decoded[i] = static_cast<char>(i % 250 + 1);
    put_message(w,
                "Subject: big\r\nContent-Type: application/octet-stream\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n" +
                    base64_lines(decoded));
    CHECK(w.say(a, "s SELECT INBOX\r\n").find("* 1 EXISTS") != std::string::npos);
    w.net.client_send(a, "f FETCH 1 (BINARY.SIZE[1])\r\n");
    std::string got_a;
    int turns = 0, answered_meanwhile = 0;
    for (; turns < 100 && got_a.find("f OK") == std::string::npos; ++turns) {
        w.net.client_send(b, "n NOOP\r\n");
        (void)w.server->run_once(0);
        got_a += w.net.client_receive(a);
        if (w.net.client_receive(b) == "n OK NOOP completed\r\n" &&
            got_a.find("f OK") == std::string::npos)
            ++answered_meanwhile;
    }
    INFO("turns " << turns << ", answered meanwhile " << answered_meanwhile);
    CHECK(got_a == "* 1 FETCH (BINARY.SIZE[1] " + std::to_string(decoded.size()) +
                       ")\r\nf OK FETCH completed\r\n");
    CHECK(answered_meanwhile >= 2);  // at most 8 x 256 KiB decoded per turn: 5 turns
    // The literal itself, after the measure in pieces: the right bytes.
    const std::string p =
        w.say_until_tagged(a, "p FETCH 1 (BINARY.PEEK[1]<9437000.1000>)\r\n", "p");
    CHECK(p == "* 1 FETCH (BINARY[1]<9437000> {184}\r\n" + decoded.substr(9437000) +
                   ")\r\np OK FETCH completed\r\n");
}
