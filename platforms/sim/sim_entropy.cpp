#include "platforms/sim/sim_entropy.h"

namespace tinyimapd::sim {

Status SimEntropy::fill(void* out, std::size_t length) {
    if (fail_next_ != Status::Ok) {
        const Status s = fail_next_;
        fail_next_ = Status::Ok;
        return s;
    }
    auto* bytes = static_cast<std::uint8_t*>(out);
    std::size_t i = 0;
    while (i < length) {
        std::uint64_t word = next_u64();
        for (int k = 0; k < 8 && i < length; ++k, ++i) {
            bytes[i] = static_cast<std::uint8_t>(word & 0xFF);
            word >>= 8;
        }
    }
    return Status::Ok;
}

}  // namespace tinyimapd::sim
