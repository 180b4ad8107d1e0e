#include "platforms/sim/sim_log.h"

#include <cstdio>

namespace tinyimapd::sim {

namespace {

const char* level_name(port::LogLevel level) {
    switch (level) {
        case port::LogLevel::Error: return "error";
        case port::LogLevel::Warning: return "warning";
        case port::LogLevel::Info: return "info";
        case port::LogLevel::Debug: return "debug";
    }
    return "?";
}

}  // namespace

void SimLog::write(port::LogLevel level, std::string_view line) {
    lines_.emplace_back(line);
    levels_.push_back(level);
    if (echo_) {
        std::fprintf(stderr, "[%s] %.*s\n", level_name(level), static_cast<int>(line.size()),
                     line.data());
    }
}

bool SimLog::contains(std::string_view substr) const {
    return count(substr) != 0;
}

std::size_t SimLog::count(std::string_view substr) const {
    std::size_t n = 0;
    for (const std::string& line : lines_) {
        if (line.find(substr) != std::string::npos) ++n;
    }
    return n;
}

void SimLog::clear() {
    lines_.clear();
    levels_.clear();
}

}  // namespace tinyimapd::sim
