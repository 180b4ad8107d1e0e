// CompressPool: the COMPRESS=DEFLATE engines (port::CompressSession) lent
// to connections (RFC 4978; `compress_sessions`), fewer than the slots, as
// TlsPool lends TLS engines: a connection takes one when its COMPRESS is
// answered OK and gives it back when the connection ends. None free:
// COMPRESS answers NO [LIMIT] and the connection goes on uncompressed.
//
// Owns only the free list (pointers carved by the server at startup).
#pragma once

#include <cstddef>

#include "core/session/protocol_names.h"
#include "port/compress.h"

namespace tinyimapd::session {

class CompressPool {
public:
    // `free_list` has room for `count` engines.
    void init(port::CompressSession** free_list, std::size_t count) {
        free_ = free_list;
        capacity_ = count;
        free_count_ = 0;
    }
    // At startup: one more engine to lend (false: no room).
    bool add(port::CompressSession* s) {
        if (s == nullptr || free_count_ == capacity_) return false;
        free_[free_count_++] = s;
        return true;
    }
    // A free engine, or nullptr when all are lent.
    port::CompressSession* take() { return free_count_ == 0 ? nullptr : free_[--free_count_]; }
    void give(port::CompressSession* s) {
        if (s != nullptr && free_count_ < capacity_) free_[free_count_++] = s;
    }
    std::size_t free_count() const { return free_count_; }

private:
    port::CompressSession** free_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t free_count_ = 0;
};

}  // namespace tinyimapd::session
