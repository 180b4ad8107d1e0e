#include "core/base/byte_source.h"

#include <cstring>

namespace tinyimapd {

std::size_t MemorySource::read(std::uint64_t offset, char* out, std::size_t capacity) {
    if (offset >= data_.size()) return 0;
    std::size_t n = data_.size() - static_cast<std::size_t>(offset);
    if (n > capacity) n = capacity;
    std::memcpy(out, data_.data() + offset, n);
    return n;
}

std::size_t SliceSource::read(std::uint64_t offset, char* out, std::size_t capacity) {
    if (inner_ == nullptr || offset >= length_) return 0;
    if (capacity > length_ - offset) capacity = static_cast<std::size_t>(length_ - offset);
    return inner_->read(base_ + offset, out, capacity);
}

std::size_t read_full(ByteSource& r, std::uint64_t offset, char* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        std::size_t k = r.read(offset + got, out + got, n - got);
        if (k == 0 || k > n - got) break;
        got += k;
    }
    return got;
}

}  // namespace tinyimapd
