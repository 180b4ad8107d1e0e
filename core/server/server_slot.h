// core/server/server_slot.h — one connection's slot, private to the
// server's files (server.cpp; server_compress.cpp for RFC 4978).
#pragma once

#include "core/server/server.h"

namespace tinyimapd {

struct Server::Slot {
    session::Session session;
    port::Handle handle = port::kNoHandle;
    std::uint8_t* in = nullptr;
    std::size_t in_length = 0;
    bool active = false;
    bool peer_eof = false;
    bool input_waiting = false;       // whole commands in `in`, ready to be taken
    bool wrote = false;               // bytes were written in this turn (serve)
    port::TlsSession* tls = nullptr;  // the TLS engine lent to this connection (tls_pool_)
    bool tls_on = false;              // reads and writes go through `tls`
    // RFC 4978: the COMPRESS engine lent to this connection; with z_on the
    // session's bytes are inflated from and deflated into it (inside TLS).
    port::CompressSession* z = nullptr;
    bool z_on = false;
    std::uint64_t close_by = session::kNoDeadline;
    std::uint64_t stalled_since = session::kNoDeadline;  // output waiting, none taken since
    // Lingering close (Server::linger): the session is over, our side is shut
    // down, input is discarded until close_by. The slot still counts as used
    // (max_clients, max_clients_per_address, connection_count()).
    bool lingering = false;
    std::string_view why;  // the reason logged when the slot is closed
    port::PeerAddress peer;

    Slot(const session::SessionConfig& config, session::SessionServices& services,
         const session::SessionMemory& memory)
        : session(config, services, memory) {}
};

}  // namespace tinyimapd
