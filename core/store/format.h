// The mail store's on-disk formats, byte for byte (docs/STORAGE.md).
//
// Owns nothing: plain structs with encode/decode functions over caller
// buffers. Every multi-byte field is little-endian (core/base/endian.h), every
// structure carries a CRC-32C (Castagnoli) so torn or corrupt bytes are
// detected, and the sizes are pinned by static_assert: changing a layout
// means changing kVersion and docs/STORAGE.md.
//
// A mailbox is a directory with two files:
//   m.data   DataHeader, then per message: FrameHeader, the message bytes
//            exactly as appended, FrameTrailer (CRC of the bytes).
//   m.index  two StateSlots (the commit record, written alternately), the
//            Intent, the keyword table, then one Record per message in
//            data-file order.
// Records have an immutable part and two RecordSlots for the mutable state
// (flags, keywords, modseq, expunged); a change declares its modseq in the
// Intent, writes the slot that is not current, then a StateSlot whose
// highest_modseq covers it. A RecordSlot whose modseq exceeds the committed
// highest_modseq never took effect (and is scrubbed when the Intent shows an
// uncommitted transaction).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd::store {

// m.data's DataHeader and FrameHeader.
inline constexpr std::uint16_t kVersion = 1;
// m.index (StateSlot): 2 since the records carry a save date and an email id
// and the state a mailbox id (RFC 8514, RFC 8474). An index of version 1 is
// upgraded when the mailbox is opened (Mailbox::upgrade_index, docs/STORAGE.md
// "Upgrading a version 1 index"); nothing else reads one.
inline constexpr std::uint16_t kIndexVersion = 2;
inline constexpr std::uint16_t kIndexVersion1 = 1;

// CRC-32C (Castagnoli, reflected, init/xorout 0xFFFFFFFF), as in iSCSI/ext4.
std::uint32_t crc32c(const void* data, std::size_t length, std::uint32_t crc = 0);

// ---- m.data ----------------------------------------------------------------
inline constexpr std::uint32_t kDataMagic = 0x444d4954;     // "TIMD"
inline constexpr std::uint32_t kFrameMagic = 0x464d4954;    // "TIMF"
inline constexpr std::uint32_t kTrailerMagic = 0x544d4954;  // "TIMT"
inline constexpr std::size_t kDataHeaderSize = 32;
inline constexpr std::size_t kFrameHeaderSize = 40;
inline constexpr std::size_t kFrameTrailerSize = 8;
inline constexpr std::size_t kFrameOverhead = kFrameHeaderSize + kFrameTrailerSize;

struct DataHeader {
    std::uint32_t uid_validity = 0;
    std::uint32_t uid_floor = 0;  // UIDNEXT when the file was written: a rebuild never goes below
    std::uint64_t file_id = 0;    // new for every file (create, compaction); the index names it
};
void encode(const DataHeader& h, std::uint8_t out[kDataHeaderSize]);
bool decode(const std::uint8_t in[kDataHeaderSize], DataHeader* h);

struct FrameHeader {
    std::uint32_t uid = 0;
    std::uint32_t size = 0;  // message bytes that follow
    std::int64_t internal_date = 0;
    std::int16_t zone_minutes = 0;
    std::uint8_t flags = 0;      // system flags when written (append, compaction)
    std::uint64_t keywords = 0;  // keyword bits when written (names live in the index)
};
void encode(const FrameHeader& h, std::uint8_t out[kFrameHeaderSize]);
bool decode(const std::uint8_t in[kFrameHeaderSize], FrameHeader* h);
// A padding frame: a FrameHeader with UID 0 (never a message: decode()
// refuses it) and `size` bytes after it plus a trailer's room, whatever they
// hold. It covers free space left inside m.data by an in-place slide
// (docs/STORAGE.md "Reclaiming from the middle in place") so that a rebuild
// can walk over it; nothing else reads it.
void encode_padding(std::uint32_t size, std::uint8_t out[kFrameHeaderSize]);
bool decode_padding(const std::uint8_t in[kFrameHeaderSize], std::uint32_t* size);
void encode_trailer(std::uint32_t body_crc, std::uint8_t out[kFrameTrailerSize]);
bool decode_trailer(const std::uint8_t in[kFrameTrailerSize], std::uint32_t* body_crc);

// ---- m.index ---------------------------------------------------------------
inline constexpr std::uint32_t kIndexMagic = 0x584d4954;  // "TIMX"
inline constexpr std::size_t kStateSlotSize = 96;
inline constexpr std::uint64_t kStateSlotOffset[2] = {0, kStateSlotSize};
// The intent record: the modseq of a STORE/EXPUNGE transaction about to
// rewrite record slots, made durable before the first slot is written. If it
// is above the committed highest_modseq on open, the transaction never
// committed and its orphan slots are scrubbed (so no later commit whose
// modseq covers them can bring them to life).
inline constexpr std::uint64_t kIntentOffset = 2 * kStateSlotSize;
inline constexpr std::size_t kIntentSize = 16;
void encode_intent(std::uint64_t modseq, std::uint8_t out[kIntentSize]);
std::uint64_t decode_intent(const std::uint8_t in[kIntentSize]);  // 0 if none/invalid
// The move journal of an in-place slide (docs/STORAGE.md "Reclaiming from
// the middle in place"): `count` records from `position` on were moved, back
// to back, to `new_offset` in m.data (their frames there are durable before
// the journal is written). Valid only while the committed state's generation
// is still `generation`: recovery then rewrites the records' offsets from the
// frame headers at the new place and commits (generation + 1), else the
// move's commit landed and the journal is stale. new_length: the move ended
// the index, data_length becomes it (0: unchanged).
inline constexpr std::uint32_t kJournalMagic = 0x4a4d4954;  // "TIMJ"
inline constexpr std::uint64_t kJournalOffset = kIntentOffset + kIntentSize;
inline constexpr std::size_t kJournalSize = 48;
struct Journal {
    std::uint32_t position = 0;
    std::uint32_t count = 0;
    std::uint32_t first_uid = 0;
    std::uint64_t new_offset = 0;
    std::uint64_t new_length = 0;
    std::uint64_t generation = 0;
};
void encode(const Journal& j, std::uint8_t out[kJournalSize]);
bool decode(const std::uint8_t in[kJournalSize], Journal* j);  // false: none, torn or zero
inline constexpr std::size_t kMaxKeywords = 64;                // one bit each in a u64
inline constexpr std::size_t kKeywordEntrySize = 64;
inline constexpr std::size_t kMaxKeywordLength = 59;
inline constexpr std::uint64_t kKeywordTableOffset = 4096;
inline constexpr std::uint64_t kRecordsOffset = 8192;
inline constexpr std::size_t kRecordSize = 96;
inline constexpr std::size_t kRecordFixedSize = 48;
inline constexpr std::size_t kRecordSlotSize = 24;
inline constexpr std::size_t kRecordSlotOffset[2] = {48, 72};
// Version 1 records (read only by the upgrade): the same fields without the
// save date and the email id, the same slots.
inline constexpr std::size_t kRecordSize1 = 80;
inline constexpr std::size_t kRecordFixedSize1 = 32;
inline constexpr std::size_t kRecordSlotOffset1[2] = {32, 56};
static_assert(kJournalOffset + kJournalSize <= kKeywordTableOffset);
static_assert(kKeywordTableOffset + kMaxKeywords * kKeywordEntrySize <= kRecordsOffset);
static_assert(kRecordSlotOffset[1] + kRecordSlotSize == kRecordSize);
static_assert(kRecordSlotOffset[0] == kRecordFixedSize);
static_assert(kRecordSlotOffset1[1] + kRecordSlotSize == kRecordSize1);
static_assert(kRecordSlotOffset1[0] == kRecordFixedSize1);

inline constexpr std::uint64_t record_offset(std::uint32_t position) {
    return kRecordsOffset + static_cast<std::uint64_t>(position) * kRecordSize;
}

// The commit record of the index. The valid slot with the higher generation
// is the state of the mailbox.
struct State {
    std::uint64_t generation = 0;
    std::uint32_t uid_validity = 0;
    std::uint32_t uid_next = 1;
    std::uint64_t highest_modseq = 1;
    std::uint32_t record_count = 0;      // records in the index, expunged ones included
    std::uint32_t live_count = 0;        // records not expunged (MESSAGES)
    std::uint64_t data_length = 0;       // committed length of m.data
    std::uint64_t live_bytes = 0;        // sum of sizes of live messages
    std::uint64_t data_file_id = 0;      // DataHeader::file_id of the m.data this indexes
    std::uint32_t seen_count = 0;        // live records with \Seen
    std::uint32_t expunged_count = 0;    // records marked expunged (waste)
    std::uint32_t keyword_count = 0;     // valid entries of the keyword table
    std::uint32_t first_recent_uid = 1;  // UIDs from here on are \Recent to the next claimer
    // +1 per commit of an in-place move (docs/STORAGE.md "Reclaiming from the
    // middle in place"): record offsets changed, frames of expunged messages
    // were overwritten. Was reserved (0) before the slide existed.
    std::uint32_t relocations = 0;
    // RFC 8474 §4 MAILBOXID: random, made with the mailbox (CREATE, the
    // first INBOX, the upgrade of a version 1 index), kept by RENAME and by
    // every rewrite of the index (compaction, rebuild). Was reserved (0) in
    // version 1.
    std::uint64_t mailbox_id = 0;
    // The version the slot was written with: decode() accepts kIndexVersion1
    // (record size 80) for the upgrade; encode() always writes kIndexVersion.
    std::uint16_t version = kIndexVersion;
};
void encode(const State& s, std::uint8_t out[kStateSlotSize]);
bool decode(const std::uint8_t in[kStateSlotSize], State* s);

// The redo log (docs/STORAGE.md "The redo log"): a flag change (STORE,
// FETCH's implicit \Seen) is committed by ONE flush of one record that
// holds the new record slots and the new StateSlot, written to one of two
// areas (by the generation's parity); the slots and the state are written in
// place after that flush, without one of their own. The next flush of
// m.index (whatever commits next) makes them durable, so only the last
// record can still be needed: recovery writes its bytes again. A record
// counts while its generation is the committed one + 1 (its state never
// landed) or the committed one with the same state bytes (its slots may not
// have landed); older ones are stale. The areas were unused (zero) bytes of
// m.index, so an index written before them is read as is.
inline constexpr std::uint32_t kRedoMagic = 0x524d4954;  // "TIMR"
inline constexpr std::uint8_t kRedoVersion = 1;
inline constexpr std::uint64_t kRedoOffset = kJournalOffset + kJournalSize;
inline constexpr std::size_t kRedoAreaSize = 1920;
inline constexpr std::size_t kRedoHeaderSize = 16 + kStateSlotSize;
inline constexpr std::size_t kRedoEntrySize = 32;
inline constexpr std::size_t kRedoMaxEntries =
    (kRedoAreaSize - kRedoHeaderSize - 4) / kRedoEntrySize;
static_assert(kRedoOffset + 2 * kRedoAreaSize <= kKeywordTableOffset);
static_assert(kRedoMaxEntries == 56);
inline constexpr std::uint64_t redo_area_offset(std::uint64_t generation) {
    return kRedoOffset + (generation % 2) * kRedoAreaSize;
}
inline constexpr std::size_t redo_length(std::size_t entries) {
    return kRedoHeaderSize + entries * kRedoEntrySize + 4;
}
// The header of a record in an area (entries follow it).
struct RedoHeader {
    std::uint64_t generation = 0;         // of its state
    std::uint8_t state_slot = 0;          // the StateSlot its state goes to
    std::size_t count = 0;                // entries
    const std::uint8_t* state = nullptr;  // the encoded StateSlot (in the area)
};
// Entry i: the RecordSlot bytes `slot` of record `position` becomes.
void redo_put(std::uint8_t area[kRedoAreaSize], std::size_t i, std::uint32_t position,
              const std::uint8_t slot_bytes[kRecordSlotSize], std::uint8_t slot);
// Seals `count` entries already put with the state; returns the record's length.
std::size_t redo_seal(std::uint8_t area[kRedoAreaSize], std::size_t count, const State& s,
                      std::uint8_t state_slot);
// False: none, torn or corrupt.
bool redo_decode(const std::uint8_t area[kRedoAreaSize], RedoHeader* h);
void redo_entry(const std::uint8_t area[kRedoAreaSize], std::size_t i, std::uint32_t* position,
                std::uint8_t* slot, const std::uint8_t** slot_bytes);

void encode_keyword(std::string_view name, std::uint8_t out[kKeywordEntrySize]);
// Returns false for a torn/corrupt entry; *name views `in`.
bool decode_keyword(const std::uint8_t in[kKeywordEntrySize], std::string_view* name);

// A record without a save date (RFC 8514 §4.2: FETCH SAVEDATE is NIL):
// one that came from a version 1 index, or was rebuilt from m.data alone.
inline constexpr std::int64_t kNoSaveDate = INT64_MIN;

// One message's index entry, both parts decoded.
struct Record {
    std::uint32_t uid = 0;
    std::uint32_t size = 0;
    std::uint64_t offset = 0;  // of the FrameHeader in m.data
    std::int64_t internal_date = 0;
    std::int16_t zone_minutes = 0;
    // RFC 8514: when the message was saved into this mailbox (APPEND, COPY,
    // MOVE, delivery), seconds since 1970 UTC; kNoSaveDate if unknown.
    std::int64_t save_date = kNoSaveDate;
    // RFC 8474 §5.1 EMAILID: made when the message is first saved, kept by
    // COPY and MOVE (the copy carries its source's), by compaction, slides
    // and rebuilds (when the old record is readable). Never 0.
    std::uint64_t email_id = 0;
    // The current (effective) mutable state:
    std::uint64_t modseq = 0;
    std::uint64_t keywords = 0;
    std::uint8_t flags = 0;  // mail::SystemFlag bits (never kRecent)
    bool expunged = false;
    std::uint8_t slot = 0;  // which RecordSlot holds the state above
};
inline constexpr std::uint8_t kSlotExpunged = 1;

void encode_fixed(const Record& r, std::uint8_t out[kRecordFixedSize]);
bool decode_fixed(const std::uint8_t in[kRecordFixedSize], Record* r);
// A version 1 fixed part (32 bytes): save_date and email_id are left as
// they are in *r.
bool decode_fixed1(const std::uint8_t in[kRecordFixedSize1], Record* r);
void encode_slot(const Record& r, std::uint8_t out[kRecordSlotSize]);
// The mutable part of one slot into *r (modseq, keywords, flags, expunged).
bool decode_slot(const std::uint8_t in[kRecordSlotSize], Record* r);
// Decodes a whole record; picks the valid slot with the higher modseq that is
// not above `committed_modseq`. False if the fixed part or both slots are bad.
bool decode_record(const std::uint8_t in[kRecordSize], std::uint64_t committed_modseq, Record* r);

}  // namespace tinyimapd::store
