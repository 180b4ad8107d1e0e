// Per-user \Seen on shared mailboxes (RFC 4314 §4 "s - keep seen/unseen
// information across sessions", §5.2): how a session shows a message's
// flags. A user who does not own the selected mailbox has a \Seen of their
// own, the hidden keyword "%seen/<user>" of that mailbox (store::
// hidden_keyword; docs/STATUS.md "Per-user \Seen"); the mailbox's \Seen flag
// is its owner's. Hidden keywords are never shown, to anyone.
//
// Owns nothing; a value the session keeps for its selected mailbox and
// refreshes when the mailbox's keyword table grows (cmd_seen.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/mail/flags.h"

namespace tinyimapd::session {

struct SeenView {
    static constexpr std::size_t kUnknown = SIZE_MAX;
    bool per_user = false;         // the session's user does not own the mailbox
    std::uint64_t bit = 0;         // their "%seen/<user>" keyword's bit (0: none yet)
    std::uint64_t hidden = 0;      // every hidden keyword's bit
    std::size_t known = kUnknown;  // the keyword count bit and hidden were taken at

    // A message's flags and keywords as this user sees them.
    void apply(std::uint8_t* flags, std::uint64_t* keywords) const {
        if (per_user) {
            *flags = static_cast<std::uint8_t>((*flags & ~mail::kSeen) |
                                               ((*keywords & bit) != 0 ? mail::kSeen : 0));
        }
        *keywords &= ~hidden;
    }
};

}  // namespace tinyimapd::session
