// EnginePool<Engine>: engines (TLS, COMPRESS) set up at startup, fewer than
// the slots, lent to a connection while it uses one. Owns only the free
// list (pointers carved by the server at startup).
#pragma once

#include <cstddef>

namespace tinyimapd::session {

template <typename Engine>
class EnginePool {
public:
    // `free_list` has room for `count` engines.
    void init(Engine** free_list, std::size_t count) {
        free_ = free_list;
        capacity_ = count;
        free_count_ = 0;
    }
    // At startup: one more engine to lend (false: no room).
    bool add(Engine* s) {
        if (s == nullptr || free_count_ == capacity_) return false;
        free_[free_count_++] = s;
        ++size_;
        return true;
    }
    // A free engine, or nullptr when all are lent.
    Engine* take() { return free_count_ == 0 ? nullptr : free_[--free_count_]; }
    void give(Engine* s) {
        if (s != nullptr && free_count_ < capacity_) free_[free_count_++] = s;
    }
    std::size_t free_count() const { return free_count_; }
    std::size_t size() const { return size_; }

private:
    Engine** free_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t free_count_ = 0;
    std::size_t size_ = 0;
};

}  // namespace tinyimapd::session
