// CompressPool: the COMPRESS=DEFLATE engines (port::CompressSession) lent
// to connections (RFC 4978; `compress_sessions`), fewer than the slots, as
// TlsPool lends TLS engines: a connection takes one when its COMPRESS is
// answered OK and gives it back when the connection ends. None free:
// COMPRESS answers NO [LIMIT] and the connection goes on uncompressed.
#pragma once

#include "core/session/engine_pool.h"
#include "port/compress.h"

namespace tinyimapd::session {

using CompressPool = EnginePool<port::CompressSession>;

}  // namespace tinyimapd::session
