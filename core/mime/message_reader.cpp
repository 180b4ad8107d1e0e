#include "core/mime/message_reader.h"

namespace tinyimapd::mime {

std::uint64_t count_lines(ByteSource& r, std::uint64_t start, std::uint64_t end, char* buf,
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
