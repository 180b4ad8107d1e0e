// ZlibCompress: port::Compress over zlib, raw DEFLATE both ways (RFC 4978
// COMPRESS=DEFLATE, RFC 1951).
//
// Owns `count` engines placed in one caller-owned block reserved at
// startup (memory_needed()); each engine carries its own arena, and zlib's
// zalloc/zfree are pointed at it (a bump allocator, emptied when the
// engine is started again), so zlib never touches the C heap:
//
//     block = reserve(ZlibCompress::memory_needed(count));
//     ZlibCompress z; z.init(block, size, count); platform.compress = &z;
//
// Memory per engine is fixed: the inflater must accept the client's window
// (up to 32 KiB, RFC 1951 §2: the client chooses), so it takes zlib's
// largest (windowBits 15); the deflater, whose window is ours to choose,
// takes a small one (kDeflateWindowBits, kDeflateMemLevel: 4 KiB window,
// about 30 KiB in all) at level kDeflateLevel. Every output ends in
// Z_SYNC_FLUSH (port/compress.h). inflate() produces at most its caller's
// room: whatever a stream expands to waits inside zlib (its window), never
// in memory of ours.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>

#include "port/compress.h"

namespace tinyimapd {

class ZlibSession final : public port::CompressSession {
public:
    static constexpr int kInflateWindowBits = 15;  // any client window (RFC 1951)
    static constexpr int kDeflateWindowBits = 12;  // 4 KiB: ours to choose
    static constexpr int kDeflateMemLevel = 4;
    static constexpr int kDeflateLevel = 5;  // RFC 4978 §4: "1-5"
    static constexpr std::size_t kArenaBytes = 80 * 1024;
    static constexpr std::size_t kInputBytes = 4096;
    static constexpr std::size_t kOutputBytes = 8192;

    ZlibSession() = default;
    ZlibSession(const ZlibSession&) = delete;
    ZlibSession& operator=(const ZlibSession&) = delete;
    ~ZlibSession() { finish(); }

    Status start() override;
    std::uint8_t* input_space(std::size_t* room) override;
    void input_added(std::size_t n) override { in_end_ += n; }
    port::IoResult inflate(std::uint8_t* out, std::size_t capacity) override;
    bool input_pending() const override;
    port::IoResult deflate(const std::uint8_t* data, std::size_t length) override;
    bool deflate_pending() const override { return flush_pending_; }
    std::string_view output() const override {
        return {reinterpret_cast<const char*>(out_ + out_begin_), out_end_ - out_begin_};
    }
    void output_sent(std::size_t n) override;
    void finish() override;

    // The arena's high-water mark (bytes zlib took), for tests and docs.
    std::size_t arena_peak() const { return peak_; }

private:
    static void* zalloc(void* opaque, unsigned items, unsigned size);
    static void zfree(void* opaque, void* address);

    z_stream in_{};
    z_stream out_z_{};
    bool started_ = false;
    bool corrupt_ = false;
    bool inflate_full_ = false;  // the last inflate() filled its caller's room
    bool flush_pending_ = false;
    std::size_t used_ = 0, peak_ = 0;
    std::size_t in_begin_ = 0, in_end_ = 0;
    std::size_t out_begin_ = 0, out_end_ = 0;
    alignas(16) unsigned char arena_[kArenaBytes];
    std::uint8_t in_buf_[kInputBytes];
    std::uint8_t out_[kOutputBytes];
};

class ZlibCompress final : public port::Compress {
public:
    // Bytes of the block that holds `count` engines.
    static std::size_t memory_needed(std::size_t count) { return count * sizeof(ZlibSession); }
    // Places `count` engines in `block` (memory_needed(count) bytes, aligned
    // for any type; it must outlive this object).
    Status init(void* block, std::size_t size, std::size_t count);
    ~ZlibCompress();
    port::CompressSession* session(std::size_t slot) override {
        return slot < count_ ? &sessions_[slot] : nullptr;
    }
    std::size_t count() const { return count_; }

private:
    ZlibSession* sessions_ = nullptr;
    std::size_t count_ = 0;
};

}  // namespace tinyimapd
