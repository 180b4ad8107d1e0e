#include "core/store/format.h"

#include <array>
#include <cstring>

#include "core/base/endian.h"

namespace tinyimapd::store {
namespace {

// CRC-32C (Castagnoli, reflected 0x82f63b78) by "slicing-by-8": table k
// advances a byte that is k bytes further from the end, so eight input
// bytes take eight lookups and no per-bit work (8 KiB of tables, built at
// compile time; bytes are loaded one by one, so it is the same on any
// endianness).
using CrcTables = std::array<std::array<std::uint32_t, 256>, 8>;
constexpr CrcTables make_crc_tables() {
    CrcTables t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        t[0][i] = c;
    }
    for (std::size_t k = 1; k < 8; ++k) {
        for (std::uint32_t i = 0; i < 256; ++i) {
            t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
        }
    }
    return t;
}
constexpr CrcTables kCrc = make_crc_tables();

using le::load16;
using le::load32;
using le::load64;
using le::store16;
using le::store32;
using le::store64;

void seal(std::uint8_t* p, std::size_t crc_at) {
    store32(p + crc_at, crc32c(p, crc_at));
}
bool sealed(const std::uint8_t* p, std::size_t crc_at) {
    return load32(p + crc_at) == crc32c(p, crc_at);
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t length, std::uint32_t crc) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    crc = ~crc;
    while (length >= 8) {
        const std::uint32_t lo = crc ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                        std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
        crc = kCrc[7][lo & 0xff] ^ kCrc[6][(lo >> 8) & 0xff] ^ kCrc[5][(lo >> 16) & 0xff] ^
              kCrc[4][lo >> 24] ^ kCrc[3][p[4]] ^ kCrc[2][p[5]] ^ kCrc[1][p[6]] ^ kCrc[0][p[7]];
        p += 8;
        length -= 8;
    }
    for (std::size_t i = 0; i < length; ++i) crc = kCrc[0][(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

void encode(const DataHeader& h, std::uint8_t out[kDataHeaderSize]) {
    std::memset(out, 0, kDataHeaderSize);
    store32(out, kDataMagic);
    store16(out + 4, kVersion);
    store16(out + 6, kDataHeaderSize);
    store32(out + 8, h.uid_validity);
    store32(out + 12, h.uid_floor);
    store64(out + 16, h.file_id);
    seal(out, 28);
}

bool decode(const std::uint8_t in[kDataHeaderSize], DataHeader* h) {
    if (load32(in) != kDataMagic || load16(in + 4) != kVersion ||
        load16(in + 6) != kDataHeaderSize || !sealed(in, 28))
        return false;
    h->uid_validity = load32(in + 8);
    h->uid_floor = load32(in + 12);
    h->file_id = load64(in + 16);
    return true;
}

void encode(const FrameHeader& h, std::uint8_t out[kFrameHeaderSize]) {
    std::memset(out, 0, kFrameHeaderSize);
    store32(out, kFrameMagic);
    out[4] = static_cast<std::uint8_t>(kVersion);
    out[5] = h.flags;
    store32(out + 8, h.uid);
    store32(out + 12, h.size);
    store64(out + 16, static_cast<std::uint64_t>(h.internal_date));
    store64(out + 24, h.keywords);
    store16(out + 32, static_cast<std::uint16_t>(h.zone_minutes));
    seal(out, 36);
}

bool decode(const std::uint8_t in[kFrameHeaderSize], FrameHeader* h) {
    if (load32(in) != kFrameMagic || in[4] != kVersion || !sealed(in, 36)) return false;
    h->flags = in[5];
    h->uid = load32(in + 8);
    h->size = load32(in + 12);
    h->internal_date = static_cast<std::int64_t>(load64(in + 16));
    h->keywords = load64(in + 24);
    h->zone_minutes = static_cast<std::int16_t>(load16(in + 32));
    return h->uid != 0;
}

void encode_padding(std::uint32_t size, std::uint8_t out[kFrameHeaderSize]) {
    std::memset(out, 0, kFrameHeaderSize);
    store32(out, kFrameMagic);
    out[4] = static_cast<std::uint8_t>(kVersion);
    store32(out + 12, size);  // uid (8..11) stays 0
    seal(out, 36);
}

bool decode_padding(const std::uint8_t in[kFrameHeaderSize], std::uint32_t* size) {
    if (load32(in) != kFrameMagic || in[4] != kVersion || !sealed(in, 36)) return false;
    if (load32(in + 8) != 0) return false;
    *size = load32(in + 12);
    return true;
}

void encode_trailer(std::uint32_t body_crc, std::uint8_t out[kFrameTrailerSize]) {
    store32(out, kTrailerMagic);
    store32(out + 4, body_crc);
}

bool decode_trailer(const std::uint8_t in[kFrameTrailerSize], std::uint32_t* body_crc) {
    if (load32(in) != kTrailerMagic) return false;
    *body_crc = load32(in + 4);
    return true;
}

void encode(const State& s, std::uint8_t out[kStateSlotSize]) {
    std::memset(out, 0, kStateSlotSize);
    store32(out, kIndexMagic);
    store16(out + 4, kIndexVersion);
    store16(out + 6, kRecordSize);
    store64(out + 8, s.generation);
    store32(out + 16, s.uid_validity);
    store32(out + 20, s.uid_next);
    store64(out + 24, s.highest_modseq);
    store32(out + 32, s.record_count);
    store32(out + 36, s.live_count);
    store64(out + 40, s.data_length);
    store64(out + 48, s.live_bytes);
    store64(out + 56, s.data_file_id);
    store32(out + 64, s.seen_count);
    store32(out + 68, s.expunged_count);
    store32(out + 72, s.keyword_count);
    store32(out + 76, s.first_recent_uid);
    store32(out + 80, s.relocations);
    store64(out + 84, s.mailbox_id);
    seal(out, kStateSlotSize - 4);
}

bool decode(const std::uint8_t in[kStateSlotSize], State* s) {
    if (load32(in) != kIndexMagic || !sealed(in, kStateSlotSize - 4)) return false;
    const std::uint16_t version = load16(in + 4);
    if (!(version == kIndexVersion && load16(in + 6) == kRecordSize) &&
        !(version == kIndexVersion1 && load16(in + 6) == kRecordSize1))
        return false;
    s->version = version;
    s->generation = load64(in + 8);
    s->uid_validity = load32(in + 16);
    s->uid_next = load32(in + 20);
    s->highest_modseq = load64(in + 24);
    s->record_count = load32(in + 32);
    s->live_count = load32(in + 36);
    s->data_length = load64(in + 40);
    s->live_bytes = load64(in + 48);
    s->data_file_id = load64(in + 56);
    s->seen_count = load32(in + 64);
    s->expunged_count = load32(in + 68);
    s->keyword_count = load32(in + 72);
    s->first_recent_uid = load32(in + 76);
    s->relocations = load32(in + 80);
    s->mailbox_id = version == kIndexVersion ? load64(in + 84) : 0;  // reserved in version 1
    return s->keyword_count <= kMaxKeywords;
}

void encode_intent(std::uint64_t modseq, std::uint8_t out[kIntentSize]) {
    std::memset(out, 0, kIntentSize);
    store64(out, modseq);
    seal(out, kIntentSize - 4);
}

std::uint64_t decode_intent(const std::uint8_t in[kIntentSize]) {
    return sealed(in, kIntentSize - 4) ? load64(in) : 0;
}

void encode(const Journal& j, std::uint8_t out[kJournalSize]) {
    std::memset(out, 0, kJournalSize);
    store32(out, kJournalMagic);
    store32(out + 4, j.position);
    store32(out + 8, j.count);
    store32(out + 12, j.first_uid);
    store64(out + 16, j.new_offset);
    store64(out + 24, j.new_length);
    store64(out + 32, j.generation);
    seal(out, kJournalSize - 4);
}

bool decode(const std::uint8_t in[kJournalSize], Journal* j) {
    if (load32(in) != kJournalMagic || !sealed(in, kJournalSize - 4)) return false;
    j->position = load32(in + 4);
    j->count = load32(in + 8);
    j->first_uid = load32(in + 12);
    j->new_offset = load64(in + 16);
    j->new_length = load64(in + 24);
    j->generation = load64(in + 32);
    return j->count > 0 && j->first_uid != 0;
}

void encode_keyword(std::string_view name, std::uint8_t out[kKeywordEntrySize]) {
    std::memset(out, 0, kKeywordEntrySize);
    const std::size_t n = name.size() < kMaxKeywordLength ? name.size() : kMaxKeywordLength;
    out[0] = static_cast<std::uint8_t>(n);
    std::memcpy(out + 1, name.data(), n);
    seal(out, kKeywordEntrySize - 4);
}

bool decode_keyword(const std::uint8_t in[kKeywordEntrySize], std::string_view* name) {
    if (in[0] == 0 || in[0] > kMaxKeywordLength || !sealed(in, kKeywordEntrySize - 4)) return false;
    *name = std::string_view(reinterpret_cast<const char*>(in + 1), in[0]);
    return true;
}

void encode_fixed(const Record& r, std::uint8_t out[kRecordFixedSize]) {
    std::memset(out, 0, kRecordFixedSize);
    store32(out, r.uid);
    store32(out + 4, r.size);
    store64(out + 8, r.offset);
    store64(out + 16, static_cast<std::uint64_t>(r.internal_date));
    store16(out + 24, static_cast<std::uint16_t>(r.zone_minutes));
    store64(out + 28, static_cast<std::uint64_t>(r.save_date));
    store64(out + 36, r.email_id);
    seal(out, kRecordFixedSize - 4);
}

namespace {
// The fields versions 1 and 2 share (bytes 0..25).
void decode_common(const std::uint8_t* in, Record* r) {
    r->uid = load32(in);
    r->size = load32(in + 4);
    r->offset = load64(in + 8);
    r->internal_date = static_cast<std::int64_t>(load64(in + 16));
    r->zone_minutes = static_cast<std::int16_t>(load16(in + 24));
}
}  // namespace

bool decode_fixed(const std::uint8_t in[kRecordFixedSize], Record* r) {
    if (!sealed(in, kRecordFixedSize - 4)) return false;
    decode_common(in, r);
    r->save_date = static_cast<std::int64_t>(load64(in + 28));
    r->email_id = load64(in + 36);
    return r->uid != 0;
}

bool decode_fixed1(const std::uint8_t in[kRecordFixedSize1], Record* r) {
    if (!sealed(in, kRecordFixedSize1 - 4)) return false;
    decode_common(in, r);
    return r->uid != 0;
}

void encode_slot(const Record& r, std::uint8_t out[kRecordSlotSize]) {
    std::memset(out, 0, kRecordSlotSize);
    store64(out, r.modseq);
    store64(out + 8, r.keywords);
    out[16] = r.flags;
    out[17] = r.expunged ? kSlotExpunged : 0;
    seal(out, 20);
}

bool decode_slot(const std::uint8_t in[kRecordSlotSize], Record* r) {
    if (!sealed(in, 20) || load64(in) == 0) return false;
    r->modseq = load64(in);
    r->keywords = load64(in + 8);
    r->flags = in[16];
    r->expunged = (in[17] & kSlotExpunged) != 0;
    return true;
}

void redo_put(std::uint8_t area[kRedoAreaSize], std::size_t i, std::uint32_t position,
              const std::uint8_t slot_bytes[kRecordSlotSize], std::uint8_t slot) {
    std::uint8_t* e = area + kRedoHeaderSize + i * kRedoEntrySize;
    std::memset(e, 0, kRedoEntrySize);
    store32(e, position);
    e[4] = slot;
    std::memcpy(e + 8, slot_bytes, kRecordSlotSize);
}

std::size_t redo_seal(std::uint8_t area[kRedoAreaSize], std::size_t count, const State& s,
                      std::uint8_t state_slot) {
    std::memset(area, 0, 16);
    store32(area, kRedoMagic);
    area[4] = kRedoVersion;
    area[5] = state_slot;
    store16(area + 6, static_cast<std::uint16_t>(count));
    store64(area + 8, s.generation);
    encode(s, area + 16);
    const std::size_t crc_at = redo_length(count) - 4;
    seal(area, crc_at);
    return crc_at + 4;
}

bool redo_decode(const std::uint8_t area[kRedoAreaSize], RedoHeader* h) {
    if (load32(area) != kRedoMagic || area[4] != kRedoVersion || area[5] > 1) return false;
    const std::size_t count = load16(area + 6);
    if (count == 0 || count > kRedoMaxEntries) return false;
    if (!sealed(area, redo_length(count) - 4)) return false;
    State s;
    if (!decode(area + 16, &s) || s.generation != load64(area + 8)) return false;
    h->generation = s.generation;
    h->state_slot = area[5];
    h->count = count;
    h->state = area + 16;
    return true;
}

void redo_entry(const std::uint8_t area[kRedoAreaSize], std::size_t i, std::uint32_t* position,
                std::uint8_t* slot, const std::uint8_t** slot_bytes) {
    const std::uint8_t* e = area + kRedoHeaderSize + i * kRedoEntrySize;
    *position = load32(e);
    *slot = e[4] & 1;
    *slot_bytes = e + 8;
}

bool decode_record(const std::uint8_t in[kRecordSize], std::uint64_t committed_modseq, Record* r) {
    if (!decode_fixed(in, r)) return false;
    bool found = false;
    for (std::uint8_t i = 0; i < 2; ++i) {
        const std::uint8_t* s = in + kRecordSlotOffset[i];
        if (!sealed(s, 20)) continue;
        const std::uint64_t modseq = load64(s);
        if (modseq == 0 || modseq > committed_modseq) continue;  // never committed
        if (found && modseq <= r->modseq) continue;
        found = true;
        r->modseq = modseq;
        r->keywords = load64(s + 8);
        r->flags = s[16];
        r->expunged = (s[17] & kSlotExpunged) != 0;
        r->slot = i;
    }
    return found;
}

}  // namespace tinyimapd::store
