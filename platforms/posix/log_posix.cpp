#include "platforms/posix/log_posix.h"

#include <errno.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>

namespace tinyimapd::posix {
namespace {

constexpr std::string_view kTruncated = "...";
// "2024-05-01T12:34:56.789Z warning " is 33 bytes.
constexpr std::size_t kMaxPrefix = 40;
// glibc's syslog() formats into a 1024-byte stack buffer and mallocs when
// header ("<22>Nov 23 23:20:07 tinyimapd[1234567]: ", under 50 bytes) plus
// text do not fit; staying below keeps write() allocation-free.
constexpr std::size_t kMaxSyslogText = 960;

std::string_view level_name(port::LogLevel level) {
    switch (level) {
        case port::LogLevel::Error: return "error";
        case port::LogLevel::Warning: return "warning";
        case port::LogLevel::Info: return "info";
        case port::LogLevel::Debug: return "debug";
    }
    return "info";
}

int syslog_priority(port::LogLevel level) {
    switch (level) {
        case port::LogLevel::Error: return LOG_ERR;
        case port::LogLevel::Warning: return LOG_WARNING;
        case port::LogLevel::Info: return LOG_INFO;
        case port::LogLevel::Debug: return LOG_DEBUG;
    }
    return LOG_INFO;
}

// Appends to a fixed buffer, cutting what does not fit.
struct LineBuffer {
    char* data;
    std::size_t capacity;
    std::size_t length = 0;

    void put(std::string_view s) {
        std::size_t n = s.size() < capacity - length ? s.size() : capacity - length;
        std::memcpy(data + length, s.data(), n);
        length += n;
    }
    void put_digits(unsigned value, int width) {
        char digits[10];
        for (int i = width - 1; i >= 0; --i) {
            digits[i] = static_cast<char>('0' + value % 10);
            value /= 10;
        }
        put(std::string_view(digits, static_cast<std::size_t>(width)));
    }
    // The message, with control characters replaced and a mark if cut.
    void put_text(std::string_view text, std::size_t max_text) {
        bool cut = text.size() > max_text;
        if (cut) text = text.substr(0, max_text - kTruncated.size());
        for (char c : text) {
            auto byte = static_cast<unsigned char>(c);
            bool control = (byte < 0x20 && c != '\t') || byte == 0x7f;
            put(std::string_view(control ? "?" : &c, 1));
        }
        if (cut) put(kTruncated);
    }
};

void put_timestamp(LineBuffer* out) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm utc;
    // gmtime_r, unlike localtime_r, never reads the time zone files.
    if (gmtime_r(&now.tv_sec, &utc) == nullptr) {
        out->put("0000-00-00T00:00:00.000Z");
        return;
    }
    out->put_digits(static_cast<unsigned>(utc.tm_year + 1900), 4);
    out->put("-");
    out->put_digits(static_cast<unsigned>(utc.tm_mon + 1), 2);
    out->put("-");
    out->put_digits(static_cast<unsigned>(utc.tm_mday), 2);
    out->put("T");
    out->put_digits(static_cast<unsigned>(utc.tm_hour), 2);
    out->put(":");
    out->put_digits(static_cast<unsigned>(utc.tm_min), 2);
    out->put(":");
    out->put_digits(static_cast<unsigned>(utc.tm_sec), 2);
    out->put(".");
    out->put_digits(static_cast<unsigned>(now.tv_nsec / 1000000), 3);
    out->put("Z");
}

void write_stderr(const char* data, std::size_t length) {
    std::size_t done = 0;
    while (done < length) {
        ssize_t n = ::write(STDERR_FILENO, data + done, length - done);
        if (n < 0 && errno == EINTR) continue;
        // EAGAIN (full non-blocking pipe), a closed descriptor, or no
        // progress: the rest of the line is lost, and the loop goes on.
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

PosixLog::PosixLog(LogTarget target, port::LogLevel min_level)
    : target_(target), min_level_(min_level) {
    // glibc loads the time zone rules (and mallocs for them) on the first
    // gmtime_r/localtime_r; do it now so that write() never allocates.
    tzset();
    if (target_ == LogTarget::Syslog) openlog("tinyimapd", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

PosixLog::~PosixLog() {
    if (target_ == LogTarget::Syslog) closelog();
}

void PosixLog::write(port::LogLevel level, std::string_view line) {
    if (static_cast<std::uint8_t>(level) > static_cast<std::uint8_t>(min_level_)) return;

    // Room for the prefix, the text (with its cut mark), '\n' and '\0'.
    char storage[kMaxPrefix + kMaxText + 2];
    LineBuffer out{storage, sizeof(storage) - 1};
    if (target_ == LogTarget::Syslog) {
        out.put_text(line, kMaxSyslogText);
        storage[out.length] = '\0';
        syslog(syslog_priority(level), "%s", storage);
        return;
    }
    put_timestamp(&out);
    out.put(" ");
    out.put(level_name(level));
    out.put(" ");
    out.put_text(line, kMaxText);
    out.put("\n");
    write_stderr(storage, out.length);
}

}  // namespace tinyimapd::posix
