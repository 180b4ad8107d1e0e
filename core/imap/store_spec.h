// StoreSpec: the modifiers and the flag operation of STORE / UID STORE.
//
// parse_store_spec() reads what follows the sequence set (RFC 3501 §6.4.6 and
// §9 "store", "store-att-flags"; RFC 4466 §2.5 store-modifiers; RFC 7162
// §3.1.3 UNCHANGEDSINCE):
//
//   [SP "(" store-modifier *(SP store-modifier) ")"]
//   SP ["+" / "-"] "FLAGS" [".SILENT"] SP (flag-list / (flag *(SP flag)))
//
// It does not read the flags themselves (core/imap/flag_list.h does): it checks
// that what remains is exactly one parenthesised list or one or more atoms,
// and leaves an ArgReader positioned at them, as core/imap/flag_list.h's
// parse_flag_list(spec.flags, false, /*allow_bare=*/true, &list) expects.
//
// Owns nothing: the ArgReader in StoreSpec points into the parser's arena
// and is valid as long as the command is.
#pragma once

#include <cstdint>

#include "core/imap/args.h"

namespace tinyimapd::imap {

enum class StoreOp : std::uint8_t {
    Replace,  // FLAGS
    Add,      // +FLAGS
    Remove,   // -FLAGS
};

struct StoreSpec {
    // ArgReader has no empty state: start from any reader of the command,
    // e.g. `StoreSpec spec(r);` with the one about to be parsed.
    explicit StoreSpec(const ArgReader& command) : flags(command) {}

    StoreOp op = StoreOp::Replace;
    bool silent = false;               // .SILENT: no untagged FETCH for the change
    bool has_unchangedsince = false;   // RFC 7162 §3.1.3
    std::uint64_t unchangedsince = 0;  // mod-sequence-valzer: 0 is valid (always fails)
    // True if the flags are one flag-list: `flags` is then at that list
    // (flags.list() enters it); otherwise `flags` is at the first of one or
    // more flag atoms, with nothing else after them.
    bool flags_in_list = false;
    ArgReader flags;
};

// Parses the rest of a STORE / UID STORE command: r is positioned after the
// sequence set; on success it is at its end and out->flags is at the flags.
// On failure returns false and sets *why to a static English text (also
// recorded with r.fail).
[[nodiscard]] bool parse_store_spec(ArgReader& r, StoreSpec* out, const char** why);

}  // namespace tinyimapd::imap
