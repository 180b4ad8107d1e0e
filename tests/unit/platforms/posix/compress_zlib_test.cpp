// platforms/posix/compress_zlib: the COMPRESS=DEFLATE engine (RFC 4978)
// against zlib itself as the client: raw DEFLATE both ways, a sync flush
// at the end of every burst, bounded output per inflate step, its fixed
// arena enough for any client window.
#include <zlib.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "platforms/posix/compress_zlib.h"

using namespace tinyimapd;

namespace {

// The client's side: raw DEFLATE with a full window (as Python's zlib,
// Thunderbird, Dovecot's client), each message sync-flushed.
struct Client {
    z_stream c{}, d{};
    Client() {
        REQUIRE(deflateInit2(&c, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
        REQUIRE(inflateInit2(&d, -15) == Z_OK);
    }
    ~Client() {
        deflateEnd(&c);
        inflateEnd(&d);
    }
    std::string compress(const std::string& text) {
        std::string out(deflateBound(&c, text.size()) + 64, '\0');
        c.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
        c.avail_in = static_cast<uInt>(text.size());
        c.next_out = reinterpret_cast<Bytef*>(out.data());
        c.avail_out = static_cast<uInt>(out.size());
        CHECK(deflate(&c, Z_SYNC_FLUSH) == Z_OK);
        out.resize(out.size() - c.avail_out);
        return out;
    }
    std::string inflate_all(const std::string& z) {
        std::string out;
        char buf[4096];
        d.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data()));
        d.avail_in = static_cast<uInt>(z.size());
        do {
            d.next_out = reinterpret_cast<Bytef*>(buf);
            d.avail_out = sizeof buf;
            const int rc = inflate(&d, Z_SYNC_FLUSH);
            CHECK((rc == Z_OK || rc == Z_BUF_ERROR));
            out.append(buf, sizeof buf - d.avail_out);
        } while (d.avail_out == 0);
        return out;
    }
};

struct Engine {
    std::unique_ptr<unsigned char[]> block{new unsigned char[ZlibCompress::memory_needed(1)]};
    ZlibCompress z;
    ZlibSession* s = nullptr;
    Engine() {
        REQUIRE(z.init(block.get(), ZlibCompress::memory_needed(1), 1) == Status::Ok);
        s = static_cast<ZlibSession*>(z.session(0));
        REQUIRE(s->start() == Status::Ok);
    }
    // Feeds `bytes` and inflates everything, `room` bytes at most per step.
    std::string inflate(const std::string& bytes, std::size_t room = 4096, Status* last = nullptr) {
        std::string out;
        std::size_t at = 0;
        std::vector<std::uint8_t> buf(room);
        for (int guard = 0; guard < 1000000; ++guard) {
            port::IoResult r = s->inflate(buf.data(), room);
            if (r.status == Status::Ok) {
                CHECK(r.bytes <= room);
                out.append(reinterpret_cast<char*>(buf.data()), r.bytes);
                continue;
            }
            if (last != nullptr) *last = r.status;
            if (r.status != Status::WouldBlock || at == bytes.size()) break;
            std::size_t space = 0;
            std::uint8_t* in = s->input_space(&space);
            REQUIRE(space > 0);
            const std::size_t n = std::min(space, bytes.size() - at);
            std::memcpy(in, bytes.data() + at, n);
            s->input_added(n);
            at += n;
        }
        return out;
    }
    // Deflates `text` (as the loop does: output sent as it comes).
    std::string deflate(const std::string& text) {
        std::string sent;
        std::size_t at = 0;
        for (int guard = 0; guard < 100000; ++guard) {
            sent.append(s->output());
            s->output_sent(s->output().size());
            if (at == text.size() && !s->deflate_pending()) break;
            const port::IoResult r = s->deflate(
                reinterpret_cast<const std::uint8_t*>(text.data()) + at, text.size() - at);
            REQUIRE(r.status == Status::Ok);
            at += r.bytes;
        }
        sent.append(s->output());
        s->output_sent(s->output().size());
        return sent;
    }
};

}  // namespace

TEST_CASE("RFC 4978 §3: commands inflate and responses deflate as raw DEFLATE", "[compress]") {
    Engine e;
    Client c;
    CHECK(e.inflate(c.compress("a NOOP\r\n")) == "a NOOP\r\n");
    CHECK(e.inflate(c.compress("b LIST \"\" *\r\n")) == "b LIST \"\" *\r\n");
    // Each burst ends in a sync flush: the client decodes it whole at once.
    CHECK(c.inflate_all(e.deflate("a OK NOOP completed\r\n")) == "a OK NOOP completed\r\n");
    CHECK(c.inflate_all(e.deflate("* LIST () \"/\" INBOX\r\nb OK LIST completed\r\n")) ==
          "* LIST () \"/\" INBOX\r\nb OK LIST completed\r\n");
}

TEST_CASE("RFC 4978 §4: a large response goes through the fixed output buffer whole",
          "[compress]") {
    Engine e;
    Client c;
    std::string big;
    for (int i = 0; i < 20000; ++i)
        big += "line " + std::to_string(i * 7919 % 100003) + " of text\r\n";
    const std::string z = e.deflate(big);
    CHECK(z.size() < big.size() / 2);
    CHECK(c.inflate_all(z) == big);
    CHECK(e.s->arena_peak() <= ZlibSession::kArenaBytes);
}

TEST_CASE("RFC 4978: a decompression bomb inflates a bounded step at a time", "[compress]") {
    Engine e;
    Client c;
    const std::string zeros(8 * 1024 * 1024, 'A');
    const std::string bomb = c.compress(zeros);
    CHECK(bomb.size() < 16 * 1024);  // over 500:1
    std::size_t got = 0;
    // 512 bytes of room per step: never more, and all of it arrives.
    std::size_t at = 0;
    std::uint8_t out[512];
    for (int guard = 0; guard < 100000 && got < zeros.size(); ++guard) {
        port::IoResult r = e.s->inflate(out, sizeof out);
        if (r.status == Status::Ok) {
            REQUIRE(r.bytes <= sizeof out);
            got += r.bytes;
            CHECK(e.s->arena_peak() <= ZlibSession::kArenaBytes);
            continue;
        }
        REQUIRE(r.status == Status::WouldBlock);
        std::size_t space = 0;
        std::uint8_t* in = e.s->input_space(&space);
        const std::size_t n = std::min(space, bomb.size() - at);
        REQUIRE(n > 0);
        std::memcpy(in, bomb.data() + at, n);
        e.s->input_added(n);
        at += n;
    }
    CHECK(got == zeros.size());
}

TEST_CASE("RFC 4978: bytes that are not a DEFLATE stream are Invalid, sticky until start()",
          "[compress]") {
    Engine e;
    Status last = Status::Ok;
    const std::string garbage = "\xff\xff\xff\xff garbage, not deflate\r\n";
    CHECK(e.inflate(garbage, 4096, &last).empty());
    CHECK(last == Status::Invalid);
    std::uint8_t out[16];
    CHECK(e.s->inflate(out, sizeof out).status == Status::Invalid);
    CHECK(!e.s->input_pending());
    // A fresh stream pair after start() (the engine goes back to the pool).
    REQUIRE(e.s->start() == Status::Ok);
    Client c;
    CHECK(e.inflate(c.compress("x NOOP\r\n")) == "x NOOP\r\n");
}

TEST_CASE("compress_zlib: a restarted engine reuses its arena; the peak fits it", "[compress]") {
    Engine e;
    for (int round = 0; round < 3; ++round) {
        REQUIRE(e.s->start() == Status::Ok);
        Client c;
        std::string text;
        for (int i = 0; i < 3000; ++i) text += "x" + std::to_string(i * 31337) + "\r\n";
        CHECK(e.inflate(c.compress(text)) == text);
        CHECK(c.inflate_all(e.deflate(text)) == text);
    }
    INFO("arena peak " << e.s->arena_peak());
    CHECK(e.s->arena_peak() <= ZlibSession::kArenaBytes);
    CHECK(e.s->arena_peak() > 32 * 1024);  // the inflater's full window is in it
}
