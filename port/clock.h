// port/clock.h — wall clock (INTERNALDATE, logs) and monotonic clock (timers).
#pragma once

#include <cstdint>

namespace tinyimapd::port {

class Clock {
public:
    // Seconds since 1970-01-01T00:00:00Z.
    virtual std::int64_t wall_seconds() = 0;
    // Offset of local time from UTC at `wall`, in minutes east of UTC
    // (INTERNALDATE is given in the server's zone, RFC 3501 §2.3.3).
    virtual std::int32_t utc_offset_minutes(std::int64_t wall) = 0;
    // Milliseconds from an arbitrary origin; never goes backwards.
    virtual std::uint64_t monotonic_ms() = 0;

protected:
    ~Clock() = default;
};

}  // namespace tinyimapd::port
