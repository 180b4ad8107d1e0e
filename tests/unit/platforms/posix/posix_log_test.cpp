// platforms/posix/log_posix: the stderr format, filtering and sanitising.
// Each case points fd 2 at a pipe for the duration of the writes.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "platforms/posix/log_posix.h"

using namespace tinyimapd;
using posix::LogTarget;
using posix::PosixLog;

namespace {

// Captures what is written to stderr between construction and take().
class StderrCapture {
public:
    StderrCapture() {
        REQUIRE(::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) == 0);
        saved_ = ::dup(STDERR_FILENO);
        REQUIRE(saved_ >= 0);
        REQUIRE(::dup2(pipe_[1], STDERR_FILENO) == STDERR_FILENO);
    }
    ~StderrCapture() { restore(); }
    std::string take() {
        restore();
        std::string out;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(pipe_[0], buf, sizeof(buf))) > 0)
            out.append(buf, static_cast<std::size_t>(n));
        return out;
    }

private:
    void restore() {
        if (saved_ < 0) return;
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
        ::close(pipe_[1]);
        saved_ = -1;
    }
    int pipe_[2] = {-1, -1};
    int saved_ = -1;
};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// "2024-05-01T12:34:56.789Z"
bool is_timestamp(const std::string& s) {
    const std::string shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (s.size() != shape.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (shape[i] == 'd' ? !is_digit(s[i]) : s[i] != shape[i]) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("PosixLog: stderr lines are '<ISO-8601 UTC> <level> <text>\\n'", "[posix][log]") {
    StderrCapture capture;
    PosixLog log(LogTarget::Stderr, port::LogLevel::Debug);
    log.write(port::LogLevel::Warning, "disk almost full");
    log.write(port::LogLevel::Debug, "C: a001 NOOP");
    std::string out = capture.take();

    std::size_t first_end = out.find('\n');
    REQUIRE(first_end != std::string::npos);
    std::string first = out.substr(0, first_end);
    std::string second = out.substr(first_end + 1);
    REQUIRE(first.size() > 25);
    CHECK(is_timestamp(first.substr(0, 24)));
    CHECK(first.substr(24) == " warning disk almost full");
    REQUIRE(second.size() > 25);
    CHECK(is_timestamp(second.substr(0, 24)));
    CHECK(second.substr(24) == " debug C: a001 NOOP\n");
}

TEST_CASE("PosixLog: lines below the minimum level are dropped", "[posix][log]") {
    StderrCapture capture;
    PosixLog log(LogTarget::Stderr, port::LogLevel::Warning);
    log.write(port::LogLevel::Info, "hidden");
    log.write(port::LogLevel::Debug, "hidden");
    log.write(port::LogLevel::Error, "shown");
    log.set_min_level(port::LogLevel::Info);
    log.write(port::LogLevel::Info, "now shown");
    std::string out = capture.take();
    CHECK(out.find("hidden") == std::string::npos);
    CHECK(out.find(" error shown\n") != std::string::npos);
    CHECK(out.find(" info now shown\n") != std::string::npos);
}

TEST_CASE("PosixLog: CR, LF and other control bytes cannot forge a log line", "[posix][log]") {
    StderrCapture capture;
    PosixLog log;
    log.write(port::LogLevel::Info, "user=\"x\r\n2024-01-01T00:00:00.000Z error forged\x1b\"");
    std::string out = capture.take();
    CHECK(out.size() > 0);
    CHECK(out.find('\n') == out.size() - 1);
    CHECK(out.find("user=\"x??2024-01-01T00:00:00.000Z error forged?\"\n") != std::string::npos);
}

TEST_CASE("PosixLog: text longer than kMaxText is cut and marked '...'", "[posix][log]") {
    StderrCapture capture;
    PosixLog log;
    std::string text(PosixLog::kMaxText * 2, 'y');
    log.write(port::LogLevel::Info, text);
    std::string out = capture.take();
    std::string expected_tail = std::string(PosixLog::kMaxText - 3, 'y') + "...\n";
    REQUIRE(out.size() > expected_tail.size());
    CHECK(out.substr(out.size() - expected_tail.size()) == expected_tail);
    CHECK(out.find(" info y") != std::string::npos);
    CHECK(out.size() == 24 + 6 + expected_tail.size());
}

TEST_CASE("PosixLog: syslog target filters by level like stderr", "[posix][log]") {
    // Nothing reaches the system log: Debug is below the Error minimum.
    PosixLog log(LogTarget::Syslog, port::LogLevel::Error);
    CHECK(log.min_level() == port::LogLevel::Error);
    log.write(port::LogLevel::Debug, "never sent");
}
