// WorkAreaPool: the work areas SORT and THREAD order their messages in
// (RFC 5256; `sort_buffers` areas of `sort_buffer_kib` each, reserved at
// startup by the server and shared by all connections), lent to one
// command at a time.
//
// A SORT or THREAD takes an area once its arguments are checked and keeps
// it until its answer is written (its job context gives it back when it
// ends, however it ends: SortJob's destructor). None free: the command
// waits (its job retries on a timer) until another gives one back; it never
// fails because another session is sorting. A mailbox whose matches do not
// fit one area gets NO [LIMIT] (RFC 5530).
//
// Owns only the free list (pointers into the server's startup block).
#pragma once

#include <cstddef>

#include "core/session/protocol_names.h"

namespace tinyimapd::session {

class WorkAreaPool {
public:
    // `areas` holds `count` pointers to areas of `area_size` bytes each
    // (8-aligned); the pool keeps the array as its free list.
    void init(char** areas, std::size_t count, std::size_t area_size) {
        free_ = areas;
        count_ = free_count_ = count;
        area_size_ = area_size;
    }
    // A free area, or nullptr when all are lent.
    char* take() { return free_count_ == 0 ? nullptr : free_[--free_count_]; }
    void give(char* area) {
        if (area != nullptr && free_count_ < count_) free_[free_count_++] = area;
    }
    std::size_t area_size() const { return area_size_; }
    std::size_t free_count() const { return free_count_; }
    std::size_t size() const { return count_; }

private:
    char** free_ = nullptr;
    std::size_t count_ = 0;
    std::size_t free_count_ = 0;
    std::size_t area_size_ = 0;
};

}  // namespace tinyimapd::session
