// COMPRESS=DEFLATE (RFC 4978) on a connection: the engine lent by the
// pool, inflating what the client sends and deflating what the session
// writes (inside TLS when it is on).
#include <cstring>

#include "core/server/server.h"
#include "core/server/server_slot.h"

namespace tinyimapd {

// RFC 4978: the client's bytes inflated into `in`, at most its room per
// call (a decompression bomb waits inside the engine, and the parser's
// limits apply to what comes out); compressed bytes are read (from TLS
// when it is on) only when the engine has inflated all it held. Invalid: a
// corrupt stream.
port::IoResult Server::read_inflated(Slot& s) {
    std::uint8_t* to = s.in + s.in_length;
    const std::size_t room = config_.input_buffer - s.in_length;
    port::IoResult r = s.z->inflate(to, room);
    if (r.status != Status::WouldBlock) return r;
    std::size_t zroom = 0;
    std::uint8_t* zin = s.z->input_space(&zroom);
    if (zroom == 0) return {Status::WouldBlock, 0};
    const port::IoResult got =
        s.tls_on ? s.tls->read(zin, zroom) : platform_.net.read(s.handle, zin, zroom);
    if (got.status != Status::Ok) return got;
    s.z->input_added(got.bytes);
    return s.z->inflate(to, room);
}

// RFC 4978 §3: compression starts right after the CRLF of COMPRESS's OK,
// which has been sent; bytes the client sent after the command (it must
// not, §3, but may once it saw the OK) are compressed ones: they go to
// the engine.
void Server::start_compress(Slot& s) {
    s.z = s.session.hand_over_compress();  // taken from compress_pool_ before the OK
    if (s.z == nullptr || s.z->start() != Status::Ok) {
        close_slot(s, "COMPRESS could not start");
        return;
    }
    std::size_t zroom = 0;
    std::uint8_t* zin = s.z->input_space(&zroom);
    if (s.in_length > zroom) {
        close_slot(s, "too much pipelined after COMPRESS");
        return;
    }
    std::memcpy(zin, s.in, s.in_length);
    s.z->input_added(s.in_length);
    s.in_length = 0;
    s.z_on = true;
    s.session.compress_started();
}

void Server::give_back_compress(Slot& s) {
    if (s.z == nullptr) return;
    s.z->finish();
    compress_pool_.give(s.z);
    s.z = nullptr;
    s.z_on = false;
}

// The session's output through the engine: compressed bytes are sent
// first, then more of the output is deflated (each burst ends in a sync
// flush). False when the connection failed (closed).
bool Server::write_deflated(Slot& s, bool* progress) {
    for (;;) {
        while (!s.z->output().empty()) {
            const port::IoResult r = write_some(s, s.z->output());
            if (r.status == Status::WouldBlock) return true;
            if (r.status != Status::Ok) {
                close_slot(s, "write failed");
                return false;
            }
            s.z->output_sent(r.bytes);
            *progress = true;
        }
        const std::string_view out = s.session.output();
        if (out.empty() && !s.z->deflate_pending()) return true;
        const port::IoResult r =
            s.z->deflate(reinterpret_cast<const std::uint8_t*>(out.data()), out.size());
        if (r.status != Status::Ok) {
            close_slot(s, "compression failed");
            return false;
        }
        if (r.bytes > 0) s.session.output_sent(r.bytes);
        if (r.bytes == 0 && s.z->output().empty() && !s.z->deflate_pending()) return true;
    }
}

}  // namespace tinyimapd
