// MessageReader: how core/mime reads a stored message, and the small
// windowed-reading helpers every MIME pass shares.
//
// The message parser never holds a whole message: it reads bounded windows
// through this interface into a caller-provided scratch buffer (8-16 KiB is
// typical) and keeps only offsets between reads. Offsets are relative to
// the first byte of the message as appended (RFC 3501 §6.3.11: BODY[] is
// those bytes exactly). Line ends are normally CRLF; bare LF is tolerated
// everywhere.
//
// MemoryReader serves a message held in memory (tests, fuzzing, a message
// small enough to sit in a buffer). It owns nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd::mime {

// The smallest scratch buffer the MIME functions accept; they return false
// on anything smaller. The last kAddressWork bytes of an ENVELOPE's scratch
// hold the parts of one address while it is written.
inline constexpr std::size_t kMinScratch = 2048;
inline constexpr std::size_t kAddressWork = 1024;
// Deepest MIME nesting parsed (multipart and message/rfc822 levels); a part
// deeper than this is a leaf (see bodystructure.h). Same as the deepest
// section part number the FETCH parser accepts.
inline constexpr std::size_t kMaxMimeDepth = 32;
// Most MIME parts a BODYSTRUCTURE walk opens in one message (Dovecot's
// message_max_mime_parts default, the same number): past it no more
// delimiters are looked for, so the part being read runs to the end of its
// multipart, and a multipart or message/rfc822 met after it is a leaf
// (application/octet-stream). A hostile message of 1.7 million sibling
// parts gets an answer of bounded size.
inline constexpr std::size_t kMaxMimeParts = 10000;
// Longest multipart boundary honoured (RFC 2046 §5.1.1 allows 70; real mail
// sometimes exceeds it a little). A longer one makes the multipart a leaf.
inline constexpr std::size_t kMaxBoundary = 200;

class MessageReader {
public:
    // Copies up to `capacity` bytes starting at `offset` into `out`; returns
    // how many (0 at or past the end, or on an I/O error). May return fewer
    // than asked; callers ask again.
    virtual std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) = 0;
    // The message's size in bytes.
    virtual std::uint64_t size() const = 0;

protected:
    ~MessageReader() = default;
};

class MemoryReader final : public MessageReader {
public:
    explicit MemoryReader(std::string_view data) : data_(data) {}
    std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) override;
    std::uint64_t size() const override { return data_.size(); }

private:
    std::string_view data_;
};

// Counts the bytes read through it: how a resumable walk keeps its share of
// the message per step (StructureWriter, SectionFinder).
class CountingReader final : public MessageReader {
public:
    explicit CountingReader(MessageReader& r) : r_(r) {}
    std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) override {
        const std::size_t n = r_.read(offset, out, capacity);
        count += n;
        return n;
    }
    std::uint64_t size() const override { return r_.size(); }
    std::uint64_t count = 0;

private:
    MessageReader& r_;
};

// Reads [offset, offset + n) into out, asking again after short reads;
// returns the bytes delivered (fewer only at the end or on an I/O error).
std::size_t read_full(MessageReader& r, std::uint64_t offset, char* out, std::size_t n);

// Number of text lines in [start, end) as body-fld-lines counts them: the
// LFs. A last line without a line break is not counted: in a multipart the
// CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1), so a
// part "text" CRLF "--b" is 0 lines, as c-client and Dovecot count it.
// `buf` is a window of `cap` bytes.
std::uint64_t count_lines(MessageReader& r, std::uint64_t start, std::uint64_t end, char* buf,
                          std::size_t cap);

}  // namespace tinyimapd::mime
