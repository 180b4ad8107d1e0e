// ByteSource: bytes read at an offset — the one read-at-offset interface of
// core. A stored message read by the MIME parser, a literal streamed to a
// client (BODY[], a HEADER.FIELDS filter, a decoded BINARY section), a
// message in memory under test: all are ByteSources.
//
// Offsets are relative to the source's first byte. read() may deliver fewer
// bytes than asked (callers ask again, or use read_full); 0 means nothing
// more can be delivered: at or past the end, or an I/O error. A caller that
// promised a size (a literal's "{n}") treats 0 before that size as a
// failure.
//
// The adaptors own nothing: MemorySource views a caller's bytes,
// SliceSource a window of another source, CountingSource counts what passes
// through it (how a resumable walk keeps its share of a message per step).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd {

class ByteSource {
public:
    // Copies up to `capacity` bytes starting at `offset` into `out`; returns
    // how many (0 at or past the end, or on an I/O error).
    virtual std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) = 0;
    // The bytes read() can deliver in all.
    virtual std::uint64_t size() const = 0;

protected:
    ~ByteSource() = default;
};

// Bytes held in memory (tests, fuzzing, a message small enough for a buffer).
class MemorySource final : public ByteSource {
public:
    explicit MemorySource(std::string_view data) : data_(data) {}
    std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) override;
    std::uint64_t size() const override { return data_.size(); }

private:
    std::string_view data_;
};

// [base, base + length) of another source, read from offset 0. The length is
// trusted: reading stops there, not at the inner source's end.
class SliceSource final : public ByteSource {
public:
    SliceSource() = default;
    SliceSource(ByteSource& inner, std::uint64_t base, std::uint64_t length)
        : inner_(&inner), base_(base), length_(length) {}
    std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) override;
    std::uint64_t size() const override { return length_; }

private:
    ByteSource* inner_ = nullptr;
    std::uint64_t base_ = 0;
    std::uint64_t length_ = 0;
};

// Counts the bytes read through it.
class CountingSource final : public ByteSource {
public:
    explicit CountingSource(ByteSource& inner) : inner_(inner) {}
    std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) override {
        const std::size_t n = inner_.read(offset, out, capacity);
        count += n;
        return n;
    }
    std::uint64_t size() const override { return inner_.size(); }
    std::uint64_t count = 0;

private:
    ByteSource& inner_;
};

// Reads [offset, offset + n) into out, asking again after short reads;
// returns the bytes delivered (fewer only at the end or on an I/O error).
std::size_t read_full(ByteSource& r, std::uint64_t offset, char* out, std::size_t n);

}  // namespace tinyimapd
