#include "platforms/posix/clock_posix.h"

#include <time.h>

namespace tinyimapd::posix {

std::int64_t PosixClock::wall_seconds() {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec);
}

std::int32_t PosixClock::utc_offset_minutes(std::int64_t wall) {
    time_t t = static_cast<time_t>(wall);
    struct tm local;
    if (localtime_r(&t, &local) == nullptr) return 0;
    return static_cast<std::int32_t>(local.tm_gmtoff / 60);
}

std::uint64_t PosixClock::monotonic_ms() {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1000u +
           static_cast<std::uint64_t>(ts.tv_nsec) / 1000000u;
}

}  // namespace tinyimapd::posix
