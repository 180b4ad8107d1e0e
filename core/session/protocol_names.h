// The session layer speaks the protocol library's vocabulary: inside
// namespace tinyimapd::session, the names of core/imap (Arg, ArgReader,
// SeqSet, FetchItem, the encoder, the command table) are used unqualified.
// Only lookups inside this namespace are affected; nothing below the session
// sees it.
#pragma once

namespace tinyimapd::imap {}

namespace tinyimapd::session {
using namespace tinyimapd::imap;
}  // namespace tinyimapd::session
