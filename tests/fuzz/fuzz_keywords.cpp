// libFuzzer target: keyword- and name-heavy conversations with the whole
// server (core/server over platforms/sim), two sessions on one mailbox,
// every byte they are sent checked for IMAP framing (core/imap/framing.h).
//
// Input layout: a sequence of operations, each one opcode byte followed by
// the bytes it consumes. The low bit of the opcode picks the session; the
// rest picks STORE (+FLAGS, -FLAGS, FLAGS, .SILENT), APPEND with flags,
// SELECT/EXAMINE, FETCH FLAGS, NOOP, CREATE/SELECT of a fuzzed name, COPY,
// a slow reader (the server's writes are held back), or raw client bytes.
// Keyword names are built from input bytes (atom characters, 1..70 bytes:
// past the store's 59), so the keyword table fills, overflows and is
// announced while the other session reads. Any malformed output aborts
// (and Session traps on its own check in this build).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "tests/fuzz/keywords_conversation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (!tinyimapd::fuzz::run_keywords_conversation(data, size)) abort();  // malformed output
    return 0;
}
