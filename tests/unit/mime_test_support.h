// Helpers shared by the core/mime tests: CRLF conversion of test messages and
// a reader that returns short reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/mime/message_reader.h"

namespace tinyimapd::testing {

// "\n" -> "\r\n", so messages read like text.
inline std::string crlf(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

// Delivers at most `step` bytes per read, to exercise short reads.
class TrickleReader final : public ByteSource {
public:
    TrickleReader(std::string_view data, std::size_t step) : data_(data), step_(step) {}
    std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) override {
        if (capacity > step_) capacity = step_;
        return inner_.read(offset, out, capacity);
    }
    std::uint64_t size() const override { return data_.size(); }

private:
    std::string_view data_;
    MemorySource inner_{data_};
    std::size_t step_;
};

}  // namespace tinyimapd::testing
