// TlsPool: the TLS engines (port::TlsSession) lent to connections, fewer
// than the slots (issue 13: `tls_sessions`), so that a server with many
// slots does not set up one engine, and its record buffers, per slot.
//
// A connection takes one when its TLS starts (implicit TLS: at accept;
// STARTTLS: before its tagged OK, so that the OK is never followed by a
// handshake that cannot happen) and gives it back when the connection ends.
// None free: an implicit-TLS connection is closed at once (nothing can be
// said in plaintext there); STARTTLS answers NO [LIMIT] and the connection
// stays usable in plaintext.
#pragma once

#include "core/session/engine_pool.h"
#include "port/tls.h"

namespace tinyimapd::session {

using TlsPool = EnginePool<port::TlsSession>;

}  // namespace tinyimapd::session
