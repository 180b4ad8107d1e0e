// Test helper: turns a version 2 index (core/store/format.h) back into the
// version 1 bytes an older tinyimapd wrote, to test the upgrade
// (docs/STORAGE.md "Upgrading a version 1 index").
#pragma once

#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "core/base/endian.h"
#include "core/store/format.h"
#include "platforms/sim/sim_fs.h"

namespace tinyimapd::test {

// A StateSlot's bytes as version 1 wrote them: version 1, record size 80,
// bytes 84..91 reserved (zero).
inline void state_to_v1(std::uint8_t* s) {
    using namespace tinyimapd::store;
    le::store16(s + 4, kIndexVersion1);
    le::store16(s + 6, kRecordSize1);
    std::memset(s + 84, 0, 8);
    le::store32(s + kStateSlotSize - 4, crc32c(s, kStateSlotSize - 4));
}

// Rewrites the index at `path` as version 1 would have written it: what a
// store made by an older tinyimapd looks like.
inline void downgrade_to_v1(sim::SimFs& fs, const std::string& path) {
    using namespace tinyimapd::store;
    std::string v2 = fs.read_file(path);
    REQUIRE(v2.size() >= kRecordsOffset);
    auto* b = reinterpret_cast<std::uint8_t*>(&v2[0]);
    for (int i = 0; i < 2; ++i) {
        State s;
        if (decode(b + kStateSlotOffset[i], &s)) state_to_v1(b + kStateSlotOffset[i]);
    }
    for (std::uint64_t g = 0; g < 2; ++g) {
        std::uint8_t* area = b + redo_area_offset(g);
        RedoHeader h;
        if (!redo_decode(area, &h)) continue;
        state_to_v1(area + 16);
        const std::size_t crc_at = redo_length(h.count) - 4;
        le::store32(area + crc_at, crc32c(area, crc_at));
    }
    std::string v1(v2.data(), kRecordsOffset);
    for (std::size_t at = kRecordsOffset; at + kRecordSize <= v2.size(); at += kRecordSize) {
        std::uint8_t r[kRecordSize1] = {};
        std::memcpy(r, b + at, 26);  // uid, size, offset, internal date, zone
        le::store32(r + 28, crc32c(r, 28));
        Record fixed;
        if (!decode_fixed(b + at, &fixed)) std::memset(r, 0, kRecordFixedSize1);
        std::memcpy(r + kRecordSlotOffset1[0], b + at + kRecordSlotOffset[0], kRecordSlotSize);
        std::memcpy(r + kRecordSlotOffset1[1], b + at + kRecordSlotOffset[1], kRecordSlotSize);
        v1.append(reinterpret_cast<const char*>(r), sizeof r);
    }
    fs.write_file(path, v1);
}

}  // namespace tinyimapd::test
