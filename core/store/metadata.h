// Metadata files: the annotations of RFC 5464 (METADATA, METADATA-SERVER),
// one flat file per place they belong to (docs/STORAGE.md "Metadata"):
//
//   <mailbox dir>/m.meta   a mailbox's entries: /shared ones (owner "") and
//                          each user's /private ones (owner: the user), so
//                          they follow RENAME and go with DELETE;
//   <user root>/user.meta  the user's private server entries;
//   <mail_dir>/server.meta the shared server entries.
//
// Format, version 1 (little-endian): a header "TIMM" u32 version, then
// records one after another, each
//   u8 owner length, u8 name length (1..255), u16 0, u32 value length,
//   u32 CRC-32C of those 8 bytes + owner + name + value,
//   owner, name (lower case, valid by mail::is_valid_entry_name), value;
// and nothing behind the last one. A file that breaks any of this is
// corrupt (Status::Invalid); readers never trust a length before checking
// it against the file's size and the format's limits (kMaxMetaValue).
//
// Writes (meta_update) copy the file through "<name>.new" with the changes
// applied, fsync it, rename it over the file and sync the directory; a
// file left without records is unlinked. A crash leaves the old file or
// the new one, never a mix. Nothing is allocated: the caller lends the
// copy buffer; MetaReader keeps a record's owner and name in itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/status.h"
#include "core/mail/metadata_name.h"
#include "port/fs.h"

namespace tinyimapd::store {

inline constexpr std::string_view kMetaFile = "m.meta";
inline constexpr std::string_view kMetaNew = "m.meta.new";
inline constexpr std::string_view kUserMetaFile = "user.meta";
inline constexpr std::string_view kUserMetaNew = "user.meta.new";
inline constexpr std::string_view kServerMetaFile = "server.meta";
inline constexpr std::string_view kServerMetaNew = "server.meta.new";

inline constexpr std::uint32_t kMetaMagic = 0x4d4d4954;  // "TIMM"
inline constexpr std::uint32_t kMetaVersion = 1;
inline constexpr std::size_t kMetaHeaderSize = 8;
inline constexpr std::size_t kMetaRecordHeader = 12;
inline constexpr std::size_t kMaxMetaOwner = 255;
// The largest value the format holds (the configured limit is below it).
inline constexpr std::uint32_t kMaxMetaValue = 1u << 20;

// One record as MetaReader::next found it; owner and name view the reader.
struct MetaRecord {
    std::string_view owner, name;
    std::uint32_t value_size = 0;
    std::uint32_t crc = 0;
    std::uint64_t value_offset = 0;
};

// Reads a metadata file record by record (open file, caller closes it).
class MetaReader {
public:
    MetaReader(port::Fs& fs, port::File f) : fs_(fs), f_(f) {}
    // Checks the header and the file's size: Ok, or Invalid (corrupt).
    Status start();
    // The next record: Ok, Eof after the last, Invalid if corrupt.
    Status next(MetaRecord* out);
    // The record's value into `out` (r.value_size bytes), its CRC checked.
    Status value(const MetaRecord& r, char* out);
    std::uint64_t position() const { return pos_; }
    void seek(std::uint64_t pos) { pos_ = pos; }

private:
    port::Fs& fs_;
    port::File f_;
    std::uint64_t size_ = 0;
    std::uint64_t pos_ = kMetaHeaderSize;
    std::uint8_t head_[kMetaRecordHeader] = {};
    char owner_[kMaxMetaOwner] = {};
    char name_[mail::kMaxEntryName] = {};
};

// The CRC-32C of a record's first 8 bytes, owner and name (the value's
// bytes continue it).
std::uint32_t head_crc(const MetaRecord& r);

// One entry of a SETMETADATA: a new value, or a removal (NIL), of
// `owner`'s entry ("" for a /shared one).
struct MetaChange {
    std::string_view owner;
    std::string_view name;  // valid for SETMETADATA (any case)
    std::string_view value;
    bool remove = false;
};

// Limits on one file (0: none). Exceeded only by changes that make the
// file bigger than it was: Exhausted then (RFC 5464 §4.3 TOOMANY).
struct MetaLimits {
    std::uint32_t max_entries = 0;  // records, all owners together
    std::uint64_t max_bytes = 0;    // value bytes, all owners together
};

// Would `changes` (a later change of a name wins) keep the file `path`
// within `limits`? Ok, Exhausted, or Invalid for a corrupt file.
Status meta_fits(port::Fs& fs, std::string_view path, const MetaChange* changes, std::size_t count,
                 const MetaLimits& limits);

// Applies `changes` to the file `dir`/`file` through `dir`/`tmp` (see the
// header), after meta_fits; `buf` (any size >= 64) carries the copy.
Status meta_update(port::Fs& fs, std::string_view dir, std::string_view file, std::string_view tmp,
                   const MetaChange* changes, std::size_t count, const MetaLimits& limits,
                   char* buf, std::size_t buf_size);

// Reads the whole file and checks every record (CRCs, names): Ok, Invalid,
// or Ok for a missing file. *records counts them (for `tinyimapd check`).
Status meta_check(port::Fs& fs, std::string_view path, std::size_t* records);

}  // namespace tinyimapd::store
