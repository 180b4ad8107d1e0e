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
//
// Owns only the free list (pointers carved by the server at startup).
#pragma once

#include <cstddef>

#include "port/tls.h"
#include "core/session/protocol_names.h"

namespace tinyimapd::session {

class TlsPool {
public:
    // `free_list` has room for `count` engines.
    void init(port::TlsSession** free_list, std::size_t count) {
        free_ = free_list;
        capacity_ = count;
        free_count_ = 0;
    }
    // At startup: one more engine to lend (false: no room).
    bool add(port::TlsSession* s) {
        if (s == nullptr || free_count_ == capacity_) return false;
        free_[free_count_++] = s;
        ++size_;
        return true;
    }
    // A free engine, or nullptr when all are lent.
    port::TlsSession* take() { return free_count_ == 0 ? nullptr : free_[--free_count_]; }
    void give(port::TlsSession* s) {
        if (s != nullptr && free_count_ < capacity_) free_[free_count_++] = s;
    }
    std::size_t free_count() const { return free_count_; }
    std::size_t size() const { return size_; }

private:
    port::TlsSession** free_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t free_count_ = 0;
    std::size_t size_ = 0;
};

}  // namespace tinyimapd::session
