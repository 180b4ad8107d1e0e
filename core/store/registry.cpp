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
    boxes_ = arena.take<Mailbox>(limits_.max_open_mailboxes);
    if (boxes_ == nullptr && limits_.max_open_mailboxes != 0) return Status::Exhausted;
    for (std::size_t i = 0; i < limits_.max_open_mailboxes; ++i) {
        void* c = arena.take_bytes(Mailbox::cache_bytes(limits_), alignof(std::max_align_t));
        void* g = arena.take_bytes(Mailbox::gone_bytes(limits_), alignof(std::max_align_t));
        void* r = arena.take_bytes(Mailbox::ring_bytes(limits_), alignof(std::max_align_t));
        if (arena.exhausted()) return Status::Exhausted;
        Mailbox* m = new (&boxes_[i]) Mailbox();
        m->init(&services_, c, g, r);
    }
    services_.scratch = static_cast<std::uint8_t*>(
        arena.take_bytes(limits_.scratch_bytes, alignof(std::max_align_t)));
    return arena.exhausted() || services_.scratch == nullptr ? Status::Exhausted : Status::Ok;
}

Mailbox* Registry::find(std::string_view dir) {
    for (std::size_t i = 0; i < limits_.max_open_mailboxes; ++i)
        if (boxes_[i].is_open() && boxes_[i].dir() == dir) return &boxes_[i];
    return nullptr;
}

bool Registry::open_under(std::string_view dir) const {
    for (std::size_t i = 0; i < limits_.max_open_mailboxes; ++i) {
        if (!boxes_[i].is_open()) continue;
        const std::string_view d = boxes_[i].dir();
        if (d == dir ||
            (d.size() > dir.size() && ascii::head(d, dir.size()) == dir && d[dir.size()] == '/'))
            return true;
    }
    return false;
}

Result<Mailbox*> Registry::acquire(std::string_view dir) {
    if (Mailbox* m = find(dir)) {
        ++m->refs;
        return Result<Mailbox*>::success(m);
    }
    for (std::size_t i = 0; i < limits_.max_open_mailboxes; ++i) {
        Mailbox& m = boxes_[i];
        if (m.refs != 0 || m.is_open()) continue;
        Status st = m.open(dir);
        if (st != Status::Ok) return Result<Mailbox*>::failure(st);
        m.refs = 1;
        return Result<Mailbox*>::success(&m);
    }
    return Result<Mailbox*>::failure(Status::Exhausted);
}

void Registry::release(Mailbox* m) {
    if (m == nullptr || m->refs <= 0) return;
    if (--m->refs == 0) {
        (void)m->maybe_compact();
        m->close();
    }
}

std::uint32_t Registry::new_uid_validity() {
    auto now = static_cast<std::uint32_t>(services_.clock.wall_seconds());
    if (now <= last_validity_) now = last_validity_ + 1;
    if (now == 0) now = 1;
    last_validity_ = now;
    return now;
}

}  // namespace tinyimapd::store
