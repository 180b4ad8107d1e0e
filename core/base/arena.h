// Arena: carves the one memory block reserved at startup into the fixed
// structures of the server (connection slots, buffers, tables).
//
// Bump allocation only, no freeing: everything taken lives as long as the
// block. The first pass can run over a null block to measure the size needed
// (Arena::measuring), so that the same carving code both sizes and fills
// the reservation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/base/assert.h"

namespace tinyimapd {

class Arena {
public:
    Arena(void* block, std::size_t size) : base_(static_cast<std::uint8_t*>(block)), size_(size) {}
    static Arena measuring() { return Arena(nullptr, SIZE_MAX); }

    // Returns n objects' worth of raw storage, aligned for T, or nullptr when
    // the block is exhausted or when only measuring.
    template <class T>
    T* take(std::size_t n) {
        return static_cast<T*>(take_bytes(sizeof(T) * n, alignof(T)));
    }

    void* take_bytes(std::size_t bytes, std::size_t align) {
        TINYIMAPD_ASSERT(align != 0 && (align & (align - 1)) == 0);  // the mask below needs it
        std::size_t start = (used_ + align - 1) & ~(align - 1);
        if (start > size_ || bytes > size_ - start) {
            exhausted_ = true;
            return nullptr;
        }
        used_ = start + bytes;
        return base_ == nullptr ? nullptr : base_ + start;
    }

    std::size_t used() const { return used_; }
    bool exhausted() const { return exhausted_; }

private:
    std::uint8_t* base_;
    std::size_t size_;
    std::size_t used_ = 0;
    bool exhausted_ = false;
};

}  // namespace tinyimapd
