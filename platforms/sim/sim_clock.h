// SimClock: simulated time that moves only when a test (or SimNet::wait)
// advances it. Deterministic: every run sees the same instants.
#pragma once

#include "port/clock.h"

namespace tinyimapd::sim {

class SimClock final : public port::Clock {
public:
    explicit SimClock(std::int64_t wall_start = 1700000000, std::int32_t offset_minutes = 0)
        : wall_start_(wall_start), offset_(offset_minutes) {}

    std::int64_t wall_seconds() override {
        return wall_start_ + static_cast<std::int64_t>(now_ms_ / 1000);
    }
    std::int32_t utc_offset_minutes(std::int64_t) override { return offset_; }
    std::uint64_t monotonic_ms() override { return now_ms_; }

    void advance(std::uint64_t ms) { now_ms_ += ms; }
    void set_utc_offset(std::int32_t minutes) { offset_ = minutes; }

private:
    std::int64_t wall_start_;
    std::int32_t offset_;
    std::uint64_t now_ms_ = 0;
};

}  // namespace tinyimapd::sim
