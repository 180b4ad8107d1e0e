// SimLog: a port::Log that keeps every line in memory for a test to inspect.
//
// Lines are stored as given (no timestamp, so runs compare equal), in order,
// with their level alongside. set_echo(true) also prints them to stderr,
// prefixed with the level, which helps when debugging a failing test.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "port/log.h"

namespace tinyimapd::sim {

class SimLog final : public port::Log {
public:
    void write(port::LogLevel level, std::string_view line) override;

    const std::vector<std::string>& lines() const { return lines_; }
    const std::vector<port::LogLevel>& levels() const { return levels_; }
    // True if some line contains `substr`.
    bool contains(std::string_view substr) const;
    // Number of lines that contain `substr`.
    std::size_t count(std::string_view substr) const;
    void clear();
    void set_echo(bool echo) { echo_ = echo; }

private:
    std::vector<std::string> lines_;
    std::vector<port::LogLevel> levels_;
    bool echo_ = false;
};

}  // namespace tinyimapd::sim
