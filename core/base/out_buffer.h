// OutBuffer: a connection's output bytes, written by the session and drained
// by the loop as the socket accepts them.
//
// A fixed region given by the caller. Bytes are appended at the tail and
// consumed at the head; the live bytes are moved to the front only when the
// tail would otherwise run out of room. append() is all-or-nothing, so a
// response is never half written; callers check room() before producing a
// response that must not be split (DESIGN.md: no response is built whole
// beyond this buffer — long ones are resumable jobs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "core/base/assert.h"

namespace tinyimapd {

class OutBuffer {
public:
    OutBuffer() = default;
    OutBuffer(char* storage, std::size_t capacity) : buf_(storage), cap_(capacity) {}

    std::size_t capacity() const { return cap_; }
    std::size_t pending_size() const { return tail_ - head_; }
    bool empty() const { return head_ == tail_; }
    std::size_t room() const { return cap_ - pending_size(); }
    std::string_view pending() const { return {buf_ + head_, tail_ - head_}; }

    bool append(std::string_view s) {
        if (s.size() > room()) return false;
        if (s.size() > cap_ - tail_) compact();
        std::memcpy(buf_ + tail_, s.data(), s.size());
        tail_ += s.size();
        return true;
    }

    // Appends bytes the caller has made room for: room() >= s.size() is the
    // caller's invariant (checked in asserting builds).
    void append_reserved(std::string_view s) {
        [[maybe_unused]] const bool whole = append(s);
        TINYIMAPD_ASSERT(whole);
    }

    // Writing in place: all free space, contiguous at the tail (live bytes
    // are moved to the front first); commit() what was written there.
    char* free_space(std::size_t* length) {
        compact();
        *length = cap_ - tail_;
        return buf_ + tail_;
    }
    void commit(std::size_t n) {
        TINYIMAPD_ASSERT(n <= cap_ - tail_);  // never more than free_space() gave
        tail_ += n <= cap_ - tail_ ? n : cap_ - tail_;
    }

    void consume(std::size_t n) {
        TINYIMAPD_ASSERT(n <= pending_size());  // only bytes that were pending
        head_ += n < pending_size() ? n : pending_size();
        if (head_ == tail_) head_ = tail_ = 0;
    }

    void clear() { head_ = tail_ = 0; }

private:
    void compact() {
        std::memmove(buf_, buf_ + head_, tail_ - head_);
        tail_ -= head_;
        head_ = 0;
    }

    char* buf_ = nullptr;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
};

}  // namespace tinyimapd
