// QuotaReservations: what APPENDs in flight have been promised against their
// user's quota (RFC 9208 §5.1 STORAGE, §5.2 MESSAGE), one entry per session
// slot, shared by all sessions of the process.
//
// Why: the quota's usage is what the mailboxes hold (a STATUS per mailbox);
// a message being streamed or waiting for its mailbox's write turn is in
// none of them yet. Without counting it, six concurrent APPENDs of 700 KB
// under 1 MiB were all allowed (issue 20.7 b). A session reserves each
// message's size when it accepts the literal and gives the reservation back
// once the message is committed (then the mailbox counts it) or dropped.
//
// Owns nothing: the entries are carved by the Server at startup (one per
// slot); an entry names its user by pointing at the session's own user
// buffer, valid while the reservation is held. Other processes (deliver,
// import) are not counted: their messages are committed within one call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include "core/session/protocol_names.h"

namespace tinyimapd::session {

class QuotaReservations {
public:
    struct Entry {
        const char* user = nullptr;
        std::size_t user_length = 0;
        std::uint64_t bytes = 0;
        std::uint64_t messages = 0;
    };
    struct Totals {
        std::uint64_t bytes = 0;
        std::uint64_t messages = 0;
    };

    void init(Entry* entries, std::size_t count) {
        entries_ = entries;
        count_ = entries == nullptr ? 0 : count;
        for (std::size_t i = 0; i < count_; ++i) entries_[i] = Entry{};
    }
    // Adds to slot `slot`'s reservation for `user` (whose bytes must stay
    // valid until release()).
    void reserve(std::size_t slot, std::string_view user, std::uint64_t bytes,
                 std::uint64_t messages) {
        if (slot >= count_) return;
        Entry& e = entries_[slot];
        e.user = user.data();
        e.user_length = user.size();
        e.bytes += bytes;
        e.messages += messages;
    }
    void release(std::size_t slot) {
        if (slot < count_) entries_[slot] = Entry{};
    }
    // Everything reserved for `user`, by every slot.
    Totals total(std::string_view user) const {
        Totals t;
        for (std::size_t i = 0; i < count_; ++i) {
            const Entry& e = entries_[i];
            if (e.user == nullptr || std::string_view(e.user, e.user_length) != user) continue;
            t.bytes += e.bytes;
            t.messages += e.messages;
        }
        return t;
    }

private:
    Entry* entries_ = nullptr;
    std::size_t count_ = 0;
};

}  // namespace tinyimapd::session
