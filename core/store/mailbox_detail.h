// Small helpers shared by the files of Mailbox (mailbox*.cpp): whole
// reads and writes, path joining, file ids, flag arithmetic. Internal to
// core/store; not part of the Mailbox interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/status.h"
#include "core/base/text.h"
#include "core/mail/flags.h"
#include "core/store/format.h"
#include "core/store/mailbox.h"

namespace tinyimapd::store::detail {

// The index record of the frame at `offset`, as appended (its flags and
// keywords are the append-time ones).
inline Record record_of(const FrameHeader& h, std::uint64_t offset) {
    Record r;
    r.uid = h.uid;
    r.size = h.size;
    r.offset = offset;
    r.internal_date = h.internal_date;
    r.zone_minutes = h.zone_minutes;
    r.flags = h.flags;
    r.keywords = h.keywords;
    return r;
}

// The frame header a record's message is written with (its current flags
// and keywords): record_of() the other way.
inline FrameHeader frame_header_of(const Record& r) {
    FrameHeader h;
    h.uid = r.uid;
    h.size = r.size;
    h.internal_date = r.internal_date;
    h.zone_minutes = r.zone_minutes;
    h.flags = r.flags;
    h.keywords = r.keywords;
    return h;
}

inline constexpr std::uint32_t kRw = port::kOpenRead | port::kOpenWrite;
inline constexpr std::uint32_t kCreateNew =
    port::kOpenRead | port::kOpenWrite | port::kOpenCreate | port::kOpenTruncate;
inline constexpr std::uint32_t kMaxUid = 0xfffffff0u;

inline Status pread_full(port::Fs& fs, port::File f, void* out, std::size_t n, std::uint64_t off) {
    port::FsResult r = fs.pread(f, out, n, off);
    if (r.status != Status::Ok) return r.status;
    return r.bytes == n ? Status::Ok : Status::Eof;
}

inline Status pwrite_all(port::Fs& fs, port::File f, const void* in, std::size_t n,
                         std::uint64_t off) {
    return fs.pwrite(f, in, n, off).status;
}

inline Status join(std::string_view dir, std::string_view name, Path* out) {
    FixedText<port::kMaxPath + 1> t;
    t.put(dir).put('/').put(name);
    if (!t.ok() || !out->assign(t.view())) return Status::TooLong;
    return Status::Ok;
}

inline std::uint64_t fresh_id(Services& s) {
    std::uint64_t id = 0;
    if (s.entropy.fill(&id, sizeof id) != Status::Ok || id == 0)
        id = static_cast<std::uint64_t>(s.clock.wall_seconds()) * 1000003u + s.clock.monotonic_ms();
    return id == 0 ? 1 : id;
}

inline std::uint8_t apply(FlagOp op, std::uint8_t old_flags, std::uint8_t f) {
    f = static_cast<std::uint8_t>(f & ~mail::kRecent);
    switch (op) {
        case FlagOp::Add: return static_cast<std::uint8_t>(old_flags | f);
        case FlagOp::Remove: return static_cast<std::uint8_t>(old_flags & ~f);
        case FlagOp::Replace: return f;
    }
    return old_flags;
}
inline std::uint64_t apply64(FlagOp op, std::uint64_t old_bits, std::uint64_t b) {
    switch (op) {
        case FlagOp::Add: return old_bits | b;
        case FlagOp::Remove: return old_bits & ~b;
        case FlagOp::Replace: return b;
    }
    return old_bits;
}

inline bool seen(std::uint8_t flags) {
    return (flags & mail::kSeen) != 0;
}

}  // namespace tinyimapd::store::detail
