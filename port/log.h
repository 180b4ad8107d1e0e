// port/log.h — where log lines go (stderr, syslog, a test's memory).
//
// core formats each line into a bounded buffer (core/base/format.h) and hands
// it over whole; implementations add timestamps/priorities as their medium
// wants and must not block the loop for long.
#pragma once

#include <cstdint>
#include <string_view>

namespace tinyimapd::port {

enum class LogLevel : std::uint8_t { Error, Warning, Info, Debug };

class Log {
public:
    virtual void write(LogLevel level, std::string_view line) = 0;

protected:
    ~Log() = default;
};

}  // namespace tinyimapd::port
