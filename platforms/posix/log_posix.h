// PosixLog: port::Log to stderr or to syslog.
//
// Stderr: each line becomes "2024-05-01T12:34:56.789Z warning <text>\n",
// timestamp in UTC, written with one write() call so that lines from several
// processes sharing the descriptor do not interleave (atomic for pipes up to
// PIPE_BUF); a line the descriptor cannot take now (a non-blocking pipe that
// is full) is dropped rather than blocking the loop. Syslog: openlog(
// "tinyimapd", LOG_PID | LOG_NDELAY, LOG_MAIL) at construction (so the
// socket is open before a chroot or privilege drop), levels mapped to
// LOG_ERR/LOG_WARNING/LOG_INFO/LOG_DEBUG.
// In both, control characters (CR, LF, ...) become '?', so text from a
// client cannot forge log lines, and text beyond kMaxText bytes (960 for
// syslog, whose glibc formatting would malloc above 1 KiB) is cut and
// marked "...". Lines above the minimum level are discarded. No memory is
// allocated per line. One PosixLog per process when using syslog (openlog
// is process-wide).
#pragma once

#include <cstddef>

#include "port/log.h"

namespace tinyimapd::posix {

enum class LogTarget : std::uint8_t { Stderr, Syslog };

class PosixLog final : public port::Log {
public:
    // Longest message text kept per line.
    static constexpr std::size_t kMaxText = 1024;

    explicit PosixLog(LogTarget target = LogTarget::Stderr,
                      port::LogLevel min_level = port::LogLevel::Info);
    ~PosixLog();
    PosixLog(const PosixLog&) = delete;
    PosixLog& operator=(const PosixLog&) = delete;

    // Lines less severe than `level` (Debug is the least severe) are dropped.
    void set_min_level(port::LogLevel level) { min_level_ = level; }
    port::LogLevel min_level() const { return min_level_; }

    void write(port::LogLevel level, std::string_view line) override;

private:
    LogTarget target_;
    port::LogLevel min_level_;
};

}  // namespace tinyimapd::posix
