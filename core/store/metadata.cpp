#include "core/store/metadata.h"

#include <cstring>

#include "core/base/endian.h"
#include "core/base/text.h"
#include "core/store/format.h"
#include "core/store/mailbox_detail.h"

namespace tinyimapd::store {

namespace {

constexpr std::uint32_t kOpenFlags = port::kOpenRead | port::kOpenNoFollow;

Status read_exact(port::Fs& fs, port::File f, void* out, std::size_t n, std::uint64_t at) {
    const port::FsResult r = fs.pread(f, out, n, at);
    if (r.status != Status::Ok) return r.status;
    return r.bytes == n ? Status::Ok : Status::Invalid;
}

// Copies [from, from + n) of `in` to `out` at *at.
Status copy_range(port::Fs& fs, port::File in, std::uint64_t from, std::uint64_t n, port::File out,
                  std::uint64_t* at, char* buf, std::size_t buf_size) {
    while (n > 0) {
        const std::size_t chunk = n < buf_size ? static_cast<std::size_t>(n) : buf_size;
        Status st = read_exact(fs, in, buf, chunk, from);
        if (st == Status::Ok) st = fs.pwrite(out, buf, chunk, *at).status;
        if (st != Status::Ok) return st;
        from += chunk;
        *at += chunk;
        n -= chunk;
    }
    return Status::Ok;
}

bool changed(std::string_view owner, std::string_view name, const MetaChange* changes,
             std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        if (changes[i].owner == owner && ascii::iequals(name, changes[i].name)) return true;
    }
    return false;
}

// A change that a later one of the same entry replaces is not applied.
bool superseded(const MetaChange* changes, std::size_t i, std::size_t count) {
    return changed(changes[i].owner, changes[i].name, changes + i + 1, count - i - 1);
}

// Writes the record of change `c` at *at.
Status write_record(port::Fs& fs, port::File out, const MetaChange& c, std::uint64_t* at) {
    const std::string_view owner = c.owner;
    std::uint8_t head[kMetaRecordHeader] = {};
    head[0] = static_cast<std::uint8_t>(owner.size());
    head[1] = static_cast<std::uint8_t>(c.name.size());
    le::store32(head + 4, static_cast<std::uint32_t>(c.value.size()));
    char name[mail::kMaxEntryName];
    mail::metadata_lower(c.name, name);
    std::uint32_t crc = crc32c(head, 8);
    crc = crc32c(owner.data(), owner.size(), crc);
    crc = crc32c(name, c.name.size(), crc);
    crc = crc32c(c.value.data(), c.value.size(), crc);
    le::store32(head + 8, crc);
    Status st = fs.pwrite(out, head, sizeof head, *at).status;
    *at += sizeof head;
    if (st == Status::Ok && !owner.empty())
        st = fs.pwrite(out, owner.data(), owner.size(), *at).status;
    *at += owner.size();
    if (st == Status::Ok) st = fs.pwrite(out, name, c.name.size(), *at).status;
    *at += c.name.size();
    if (st == Status::Ok && !c.value.empty())
        st = fs.pwrite(out, c.value.data(), c.value.size(), *at).status;
    *at += c.value.size();
    return st;
}

struct Totals {
    std::uint64_t entries = 0, bytes = 0;
};

Status value_crc_ok(port::Fs& fs, port::File f, const MetaRecord& rec) {
    char chunk[256];
    std::uint32_t crc = head_crc(rec);
    for (std::uint32_t done = 0; done < rec.value_size;) {
        const std::uint32_t n = rec.value_size - done < sizeof chunk
                                    ? rec.value_size - done
                                    : static_cast<std::uint32_t>(sizeof chunk);
        const Status st = read_exact(fs, f, chunk, n, rec.value_offset + done);
        if (st != Status::Ok) return st;
        crc = crc32c(chunk, n, crc);
        done += n;
    }
    return crc == rec.crc ? Status::Ok : Status::Invalid;
}

// Walks the old file: its totals, and those of the records that stay
// (copied to `out` from *at on when `out` is given).
struct Copy {
    port::File out = port::kNoFile;
    std::uint64_t* at = nullptr;
    char* buf = nullptr;
    std::size_t buf_size = 0;
};
Status walk_kept(port::Fs& fs, port::File in, const MetaChange* changes, std::size_t count,
                 const Copy& copy, Totals* old_totals, Totals* kept) {
    MetaReader reader(fs, in);
    Status st = reader.start();
    MetaRecord rec;
    while (st == Status::Ok) {
        const std::uint64_t begin = reader.position();
        st = reader.next(&rec);
        if (st != Status::Ok) break;
        if ((st = value_crc_ok(fs, in, rec)) != Status::Ok) break;
        ++old_totals->entries;
        old_totals->bytes += rec.value_size;
        if (changed(rec.owner, rec.name, changes, count)) continue;
        ++kept->entries;
        kept->bytes += rec.value_size;
        if (copy.out != port::kNoFile) {
            st = copy_range(fs, in, begin, reader.position() - begin, copy.out, copy.at, copy.buf,
                            copy.buf_size);
        }
    }
    return st == Status::Eof ? Status::Ok : st;
}

bool over(std::uint64_t now, std::uint64_t before, std::uint64_t limit) {
    return limit != 0 && now > limit && now > before;
}

}  // namespace

std::uint32_t head_crc(const MetaRecord& r) {
    std::uint8_t head[8] = {};
    head[0] = static_cast<std::uint8_t>(r.owner.size());
    head[1] = static_cast<std::uint8_t>(r.name.size());
    le::store32(head + 4, r.value_size);
    std::uint32_t crc = crc32c(head, sizeof head);
    crc = crc32c(r.owner.data(), r.owner.size(), crc);
    return crc32c(r.name.data(), r.name.size(), crc);
}

Status MetaReader::start() {
    port::FileInfo info;
    Status st = fs_.fstat(f_, &info);
    if (st != Status::Ok) return st;
    size_ = info.size;
    std::uint8_t head[kMetaHeaderSize];
    if ((st = read_exact(fs_, f_, head, sizeof head, 0)) != Status::Ok) return st;
    if (le::load32(head) != kMetaMagic || le::load32(head + 4) != kMetaVersion)
        return Status::Invalid;
    pos_ = kMetaHeaderSize;
    return Status::Ok;
}

Status MetaReader::next(MetaRecord* out) {
    if (pos_ == size_) return Status::Eof;
    if (size_ - pos_ < kMetaRecordHeader) return Status::Invalid;
    Status st = read_exact(fs_, f_, head_, sizeof head_, pos_);
    if (st != Status::Ok) return st;
    const std::size_t owner_len = head_[0], name_len = head_[1];
    const std::uint32_t value_len = le::load32(head_ + 4);
    if (name_len == 0 || head_[2] != 0 || head_[3] != 0 || value_len > kMaxMetaValue ||
        size_ - pos_ - kMetaRecordHeader < owner_len + name_len + std::uint64_t{value_len}) {
        return Status::Invalid;
    }
    const std::uint64_t at = pos_ + kMetaRecordHeader;
    if (owner_len > 0 && (st = read_exact(fs_, f_, owner_, owner_len, at)) != Status::Ok) return st;
    if ((st = read_exact(fs_, f_, name_, name_len, at + owner_len)) != Status::Ok) return st;
    out->owner = std::string_view(owner_, owner_len);
    out->name = std::string_view(name_, name_len);
    const char* why = "";
    mail::EntryScope scope;
    if (!mail::is_valid_entry_name(out->name, true, &why, &scope) ||
        (scope == mail::EntryScope::Shared) != (owner_len == 0)) {
        return Status::Invalid;
    }
    out->value_size = value_len;
    out->crc = le::load32(head_ + 8);
    out->value_offset = at + owner_len + name_len;
    pos_ = out->value_offset + value_len;
    return Status::Ok;
}

Status MetaReader::value(const MetaRecord& r, char* out) {
    if (r.value_size > 0) {
        const Status st = read_exact(fs_, f_, out, r.value_size, r.value_offset);
        if (st != Status::Ok) return st;
    }
    return crc32c(out, r.value_size, head_crc(r)) == r.crc ? Status::Ok : Status::Invalid;
}

Status meta_fits(port::Fs& fs, std::string_view path, const MetaChange* changes, std::size_t count,
                 const MetaLimits& limits) {
    for (std::size_t i = 0; i < count; ++i) {
        const MetaChange& c = changes[i];
        if (c.owner.size() > kMaxMetaOwner || c.value.size() > kMaxMetaValue)
            return Status::TooLong;
        // What the reader would refuse is never written (the session checked
        // the names already: Error, a bug, if one gets here).
        const char* why = "";
        mail::EntryScope scope;
        if (!mail::is_valid_entry_name(c.name, true, &why, &scope) ||
            (scope == mail::EntryScope::Shared) != c.owner.empty()) {
            return Status::Error;
        }
    }
    Totals before, now;
    auto in = fs.open(path, kOpenFlags);
    if (!in.ok() && in.status != Status::NotFound) return in.status;
    if (in.ok()) {
        const Status st = walk_kept(fs, in.value, changes, count, Copy{}, &before, &now);
        (void)fs.close(in.value);
        if (st != Status::Ok) return st;
    }
    for (std::size_t i = 0; i < count; ++i) {
        if (changes[i].remove || superseded(changes, i, count)) continue;
        ++now.entries;
        now.bytes += changes[i].value.size();
    }
    if (over(now.entries, before.entries, limits.max_entries) ||
        over(now.bytes, before.bytes, limits.max_bytes)) {
        return Status::Exhausted;
    }
    return Status::Ok;
}

Status meta_update(port::Fs& fs, std::string_view dir, std::string_view file, std::string_view tmp,
                   const MetaChange* changes, std::size_t count, const MetaLimits& limits,
                   char* buf, std::size_t buf_size) {
    Path path, next;
    Status st = detail::join(dir, file, &path);
    if (st == Status::Ok) st = detail::join(dir, tmp, &next);
    if (st == Status::Ok) st = meta_fits(fs, path.view(), changes, count, limits);
    if (st != Status::Ok) return st;
    auto in = fs.open(path.view(), kOpenFlags);
    if (!in.ok() && in.status != Status::NotFound) return in.status;
    auto out = fs.open(next.view(), port::kOpenWrite | port::kOpenCreate | port::kOpenTruncate |
                                        port::kOpenNoFollow);
    if (!out.ok()) {
        if (in.ok()) (void)fs.close(in.value);
        return out.status;
    }
    std::uint8_t head[kMetaHeaderSize];
    le::store32(head, kMetaMagic);
    le::store32(head + 4, kMetaVersion);
    std::uint64_t at = sizeof head;
    st = fs.pwrite(out.value, head, sizeof head, 0).status;
    Totals before, now;
    if (st == Status::Ok && in.ok()) {
        st = walk_kept(fs, in.value, changes, count, Copy{out.value, &at, buf, buf_size}, &before,
                       &now);
    }
    if (in.ok()) (void)fs.close(in.value);
    for (std::size_t i = 0; i < count && st == Status::Ok; ++i) {
        if (changes[i].remove || superseded(changes, i, count)) continue;
        ++now.entries;
        st = write_record(fs, out.value, changes[i], &at);
    }
    if (st == Status::Ok && now.entries > 0) st = fs.fsync(out.value);
    const Status c = fs.close(out.value);
    if (st == Status::Ok) st = c;
    if (st != Status::Ok || now.entries == 0) {
        (void)fs.unlink(next.view());
        if (st != Status::Ok) return st;
        st = fs.unlink(path.view());
        if (st == Status::NotFound) return Status::Ok;
    } else {
        st = fs.rename(next.view(), path.view());
    }
    return st == Status::Ok ? fs.sync_dir(dir) : st;
}

Status meta_check(port::Fs& fs, std::string_view path, std::size_t* records) {
    *records = 0;
    auto in = fs.open(path, kOpenFlags);
    if (in.status == Status::NotFound) return Status::Ok;
    if (!in.ok()) return in.status;
    MetaReader reader(fs, in.value);
    Status st = reader.start();
    MetaRecord rec;
    while (st == Status::Ok && (st = reader.next(&rec)) == Status::Ok) {
        ++*records;
        st = value_crc_ok(fs, in.value, rec);
    }
    (void)fs.close(in.value);
    return st == Status::Eof ? Status::Ok : st;
}

}  // namespace tinyimapd::store
