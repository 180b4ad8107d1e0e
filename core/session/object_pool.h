// ObjectPool<T>: objects carved at startup by the server (a count set in
// the configuration, shared by all connections) and lent to a session
// while it uses a feature, instead of one in every session (issue 13:
// memory reserved per slot).
//
// Lent this way (see the pools' users):
// - NotifyPool: RFC 5465 NOTIFY's state (core/session/notify.h), taken by
//   NOTIFY SET, given back by NOTIFY NONE, a failed SET, an overflow
//   (§5.8), UNAUTHENTICATE and the end of the connection. None free:
//   NOTIFY SET answers NO [LIMIT] (RFC 5530) and the session goes on.
// - ContextPool: RFC 5267 updating search contexts
//   (core/session/search_context.h), taken by SEARCH/ESORT RETURN (UPDATE),
//   given back when the context ends (CANCELUPDATE, NOUPDATE, the mailbox
//   closed). None free: the search is answered and the context refused
//   with NO [NOUPDATE "tag"], as §4.3.1 allows ("an internal limit").
//
// A taken object is constructed afresh (its default member values); the
// objects' storage is untouched until first lent. Owns only the free list
// (pointers into the server's startup block).
#pragma once

#include <cstddef>
#include <new>

#include "core/session/notify.h"
#include "core/session/search_context.h"

namespace tinyimapd::session {

template <class T>
class ObjectPool {
public:
    // `objects`: raw storage for `count` Ts; `free` room for `count`
    // pointers (the free list).
    void init(T** free, T* objects, std::size_t count) {
        free_ = free;
        count_ = free_count_ = count;
        // Last to first: the first lent is objects[0].
        for (std::size_t i = 0; i < count; ++i) free_[i] = objects + (count - 1 - i);
    }
    // A free object, constructed, or nullptr when all are lent.
    T* take() { return free_count_ == 0 ? nullptr : new (free_[--free_count_]) T(); }
    void give(T* object) {
        if (object != nullptr && free_count_ < count_) free_[free_count_++] = object;
    }
    std::size_t free_count() const { return free_count_; }
    std::size_t size() const { return count_; }

private:
    T** free_ = nullptr;
    std::size_t count_ = 0;
    std::size_t free_count_ = 0;
};

using NotifyPool = ObjectPool<NotifyState>;
using ContextPool = ObjectPool<SearchContext>;

}  // namespace tinyimapd::session
