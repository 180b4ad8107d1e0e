// PosixClock: clock_gettime(CLOCK_REALTIME / CLOCK_MONOTONIC) and localtime_r.
#pragma once

#include "port/clock.h"

namespace tinyimapd::posix {

class PosixClock final : public port::Clock {
public:
    std::int64_t wall_seconds() override;
    std::int32_t utc_offset_minutes(std::int64_t wall) override;
    std::uint64_t monotonic_ms() override;
};

}  // namespace tinyimapd::posix
