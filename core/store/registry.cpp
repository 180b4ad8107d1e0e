#include "core/store/registry.h"

#include <new>

#include "core/base/text.h"

namespace tinyimapd::store {

std::size_t Registry::bytes_needed(const StoreLimits& l) {
    Arena a = Arena::measuring();
    a.take<Mailbox>(l.max_open_mailboxes);
    for (std::size_t i = 0; i < l.max_open_mailboxes; ++i) {
        a.take_bytes(Mailbox::cache_bytes(l), alignof(std::max_align_t));
        a.take_bytes(Mailbox::gone_bytes(l), alignof(std::max_align_t));
        a.take_bytes(Mailbox::ring_bytes(l), alignof(std::max_align_t));
    }
    a.take_bytes(l.scratch_bytes, alignof(std::max_align_t));
    return a.used() + alignof(std::max_align_t);
}

Status Registry::init(Arena& arena) {
    if (limits_.scratch_bytes < kFrameOverhead) return Status::Invalid;
    constructed_ = 0;
    boxes_ = arena.take<Mailbox>(limits_.max_open_mailboxes);
    if (boxes_ == nullptr && limits_.max_open_mailboxes != 0) return Status::Exhausted;
    for (std::size_t i = 0; i < limits_.max_open_mailboxes; ++i) {
        void* c = arena.take_bytes(Mailbox::cache_bytes(limits_), alignof(std::max_align_t));
        void* g = arena.take_bytes(Mailbox::gone_bytes(limits_), alignof(std::max_align_t));
        void* r = arena.take_bytes(Mailbox::ring_bytes(limits_), alignof(std::max_align_t));
        if (arena.exhausted()) return Status::Exhausted;
        // Every box's share is laid out alike: the same offsets from one
        // to the next (bytes_needed counts them so).
        char* at = static_cast<char*>(c);
        if (i == 0) {
            box_memory_ = at;
            gone_offset_ = static_cast<std::size_t>(static_cast<char*>(g) - at);
            ring_offset_ = static_cast<std::size_t>(static_cast<char*>(r) - at);
        } else if (i == 1) {
            box_stride_ = static_cast<std::size_t>(at - box_memory_);
        }
    }
    services_.scratch = static_cast<std::uint8_t*>(
        arena.take_bytes(limits_.scratch_bytes, alignof(std::max_align_t)));
    return arena.exhausted() || services_.scratch == nullptr ? Status::Exhausted : Status::Ok;
}

Mailbox* Registry::construct_box() {
    if (constructed_ >= limits_.max_open_mailboxes) return nullptr;
    char* at = box_memory_ + constructed_ * box_stride_;
    Mailbox* m = new (&boxes_[constructed_]) Mailbox();
    m->init(&services_, at, at + gone_offset_, at + ring_offset_);
    ++constructed_;
    return m;
}

void Registry::close_all() {
    for (std::size_t i = 0; i < constructed_; ++i) boxes_[i].close();
}

Mailbox* Registry::find(std::string_view dir) {
    for (std::size_t i = 0; i < constructed_; ++i) {
        const Mailbox& m = boxes_[i];
        if (m.is_open() && !m.retired() && m.dir() == dir) return &boxes_[i];
    }
    return nullptr;
}

namespace {
bool at_or_below(std::string_view d, std::string_view dir) {
    return d == dir ||
           (d.size() > dir.size() && ascii::head(d, dir.size()) == dir && d[dir.size()] == '/');
}
}  // namespace

bool Registry::open_under(std::string_view dir) const {
    for (std::size_t i = 0; i < constructed_; ++i) {
        const Mailbox& m = boxes_[i];
        if (m.is_open() && !m.retired() && at_or_below(m.dir(), dir)) return true;
    }
    return false;
}

void Registry::retire(std::string_view dir) {
    if (Mailbox* m = find(dir)) {
        m->retire();
        if (m->refs == 0 && !m->group_pending()) m->close();  // open only for its compaction
    }
}

Status Registry::move(std::string_view from, std::string_view to) {
    for (int pass = 0; pass < 2; ++pass) {  // check every new path, then move
        for (std::size_t i = 0; i < constructed_; ++i) {
            Mailbox& m = boxes_[i];
            if (!m.is_open() || m.retired() || !at_or_below(m.dir(), from)) continue;
            FixedText<port::kMaxPath + 1> t;
            t.put(to).put(ascii::tail(m.dir(), from.size()));
            if (!t.ok() || t.size() > port::kMaxPath) return Status::TooLong;
            if (pass == 1) {
                Path p;
                (void)p.assign(t.view());
                if (Status st = m.moved_to(p.view()); st != Status::Ok) return st;
            }
        }
    }
    return Status::Ok;
}

bool Registry::hold_commit(std::string_view dir, bool exact) {
    for (HeldCommit& h : held_) {
        if (h.size != 0) continue;
        h.crc = crc32c(dir.data(), dir.size());
        h.size = static_cast<std::uint32_t>(dir.size());
        h.exact = exact;
        return true;
    }
    return false;
}

void Registry::let_commit(std::string_view dir) {
    const std::uint32_t crc = crc32c(dir.data(), dir.size());
    for (HeldCommit& h : held_) {
        if (h.size == dir.size() && h.crc == crc) {
            h.size = 0;
            return;
        }
    }
}

// `dir` is a held directory or lies below one (a path's checksum equal by
// chance holds it back a few milliseconds too: harmless).
bool Registry::commit_held(std::string_view dir) const {
    for (const HeldCommit& h : held_) {
        if (h.size == 0 || h.size > dir.size()) continue;
        if (h.size < dir.size() && (h.exact || dir[h.size] != '/')) continue;
        if (crc32c(dir.data(), h.size) == h.crc) return true;
    }
    return false;
}

Result<Mailbox*> Registry::acquire(std::string_view dir) {
    if (commit_held(dir)) return Result<Mailbox*>::failure(Status::WouldBlock);
    if (Mailbox* m = find(dir)) {
        ++m->refs;
        return Result<Mailbox*>::success(m);
    }
    // A free entry; else one kept open only for its compaction (abandoned).
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t i = 0; i <= constructed_; ++i) {
            // Past the constructed ones: a new one if the table has room
            // (as a free entry, before an abandoned one is taken).
            Mailbox* next = i < constructed_ ? &boxes_[i] : pass == 0 ? construct_box() : nullptr;
            if (next == nullptr) break;
            Mailbox& m = *next;
            if (m.refs != 0 || (m.is_open() && pass == 0) || m.group_pending()) continue;
            m.close();
            Status st = m.open(dir);
            if (st != Status::Ok) return Result<Mailbox*>::failure(st);
            m.refs = 1;
            return Result<Mailbox*>::success(&m);
        }
    }
    return Result<Mailbox*>::failure(Status::Exhausted);
}

void Registry::release(Mailbox* m) {
    if (m == nullptr || m->refs <= 0) return;
    if (--m->refs == 0) {
        (void)m->maybe_compact();
        // Else background_step() (or the group's end) closes it.
        if (!m->compacting() && !m->group_pending()) m->close();
    }
}

void Registry::commit_groups() {
    for (std::size_t i = 0; i < constructed_; ++i)
        if (boxes_[i].group_due()) drive_group(i);
}

bool Registry::group_flushing() const {
    for (std::size_t i = 0; i < constructed_; ++i)
        if (boxes_[i].group_token() != 0 || boxes_[i].compact_flush_token() != 0) return true;
    return false;
}

// The group's commit as far as it goes: a flush started (on an I/O thread;
// its completion comes back to flush_completed) or done here, until it ends.
void Registry::drive_group(std::size_t i) {
    Mailbox& m = boxes_[i];
    while (m.commit_group() == Status::WouldBlock) {
        const std::uint64_t token = kFlushToken | (std::uint64_t{i} << 32) | ++group_flushes_;
        if (services_.fs.flush_start(m.flush_file(), token) == Status::Ok) {
            m.set_group_token(token);
            return;
        }
        m.flushed(services_.fs.fsync(m.flush_file()));  // no I/O threads (or all busy)
    }
    if (m.refs == 0) {  // its sessions left meanwhile: as release() would
        (void)m.maybe_compact();
        if (!m.compacting() && !m.group_pending()) m.close();
    }
}

void Registry::flush_completed(std::uint64_t token, Status status) {
    const std::size_t i = static_cast<std::size_t>((token & ~(kFlushToken | kCompactToken)) >> 32);
    if ((token & kFlushToken) == 0 || i >= constructed_) return;
    Mailbox& m = boxes_[i];
    if ((token & kCompactToken) != 0) {  // a compaction's: its next step goes on
        if (m.compact_flush_token() == token) m.compact_flushed(status);
        return;
    }
    if (m.group_token() != token) return;  // closed meanwhile: nobody waits for it
    m.set_group_token(0);
    m.flushed(status);
    drive_group(i);
}

bool Registry::background_pending() const {
    for (std::size_t i = 0; i < constructed_; ++i)
        if (boxes_[i].compaction_runnable()) return true;
    return false;
}

void Registry::background_step() {
    std::uint64_t budget = limits_.compact_step_bytes;
    for (std::size_t i = 0; i < constructed_ && budget > 0; ++i) {
        Mailbox& m = boxes_[i];
        if (!m.compaction_runnable()) continue;
        (void)m.compact_step(&budget, true);  // an error abandons it: the mailbox stays as it was
        if (m.compact_flush_wanted()) start_compact_flush(i);
        if (!m.compacting() && m.refs == 0 && !m.group_pending()) m.close();
    }
}

// The flush a compaction asked for, on an I/O thread (or here: no threads,
// or all busy); its completion comes back to flush_completed.
void Registry::start_compact_flush(std::size_t i) {
    Mailbox& m = boxes_[i];
    const std::uint64_t token =
        kFlushToken | kCompactToken | (std::uint64_t{i} << 32) | ++group_flushes_;
    port::Fs& fs = services_.fs;
    const Status st = m.compact_flush_dir() ? fs.sync_dir_start(m.compact_dir(), token)
                                            : fs.flush_start(m.compact_flush_file(), token);
    if (st == Status::Ok) {
        m.compact_flush_started(token);
        return;
    }
    m.compact_flushed(m.compact_flush_dir() ? fs.sync_dir(m.compact_dir())
                                            : fs.fsync(m.compact_flush_file()));
}

std::uint32_t Registry::new_uid_validity() {
    auto now = static_cast<std::uint32_t>(services_.clock.wall_seconds());
    if (now <= last_validity_) now = last_validity_ + 1;
    if (now == 0) now = 1;
    last_validity_ = now;
    return now;
}

}  // namespace tinyimapd::store
