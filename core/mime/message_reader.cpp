#include "core/mime/message_reader.h"

#include <cstring>

namespace tinyimapd::mime {

std::size_t MemoryReader::read(std::uint64_t offset, char* out, std::size_t capacity) {
    if (offset >= data_.size()) return 0;
    std::size_t n = data_.size() - static_cast<std::size_t>(offset);
    if (n > capacity) n = capacity;
    std::memcpy(out, data_.data() + offset, n);
    return n;
}

std::size_t read_full(MessageReader& r, std::uint64_t offset, char* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        std::size_t k = r.read(offset + got, out + got, n - got);
        if (k == 0 || k > n - got) break;
        got += k;
    }
    return got;
}

std::uint64_t count_lines(MessageReader& r, std::uint64_t start, std::uint64_t end, char* buf,
                          std::size_t cap) {
    std::uint64_t lines = 0;
    std::uint64_t pos = start;
    while (pos < end) {
        std::uint64_t want64 = end - pos;
        std::size_t want = want64 < cap ? static_cast<std::size_t>(want64) : cap;
        std::size_t n = read_full(r, pos, buf, want);
        if (n == 0) break;
        for (std::size_t i = 0; i < n; ++i) {
            if (buf[i] == '\n') ++lines;
        }
        pos += n;
    }
    return lines;
}

}  // namespace tinyimapd::mime
