#include "platforms/posix/flush_pool.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "platforms/posix/errno_posix.h"

namespace tinyimapd::posix {

Status FlushPool::start(unsigned threads) {
    if (threads_ > 0 || threads == 0) return threads_ > 0 ? Status::Ok : Status::Invalid;
    if (threads > kMaxThreads) threads = kMaxThreads;
    event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) return Status::Error;
    stopping_ = false;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) return Status::Error;
    (void)pthread_attr_setstacksize(&attr, kStackBytes);
    for (unsigned i = 0; i < threads; ++i) {
        if (pthread_create(&ids_[i], &attr, &FlushPool::thread_main, this) != 0) break;
        ++threads_;
    }
    (void)pthread_attr_destroy(&attr);
    if (threads_ == 0) {
        ::close(event_fd_);
        event_fd_ = -1;
        return Status::Error;
    }
    return Status::Ok;
}

void FlushPool::stop() {
    if (threads_ == 0) return;
    pthread_mutex_lock(&mutex_);
    stopping_ = true;
    pthread_cond_broadcast(&wake_);
    pthread_mutex_unlock(&mutex_);
    for (unsigned i = 0; i < threads_; ++i) pthread_join(ids_[i], nullptr);
    threads_ = 0;
    ::close(event_fd_);
    event_fd_ = -1;
}

void* FlushPool::thread_main(void* self) {
    static_cast<FlushPool*>(self)->work();
    return nullptr;
}

void FlushPool::work() {
    pthread_mutex_lock(&mutex_);
    for (;;) {
        // The oldest queued request, and every other queued one of its file.
        Request* first = nullptr;
        for (Request& r : table_) {
            if (r.state == State::Queued && (first == nullptr || r.order < first->order))
                first = &r;
        }
        if (first == nullptr) {
            if (stopping_) break;
            pthread_cond_wait(&wake_, &mutex_);
            continue;
        }
        const int fd = first->fd;
        const bool directory = first->directory;
        const std::uint32_t batch = next_batch_++;
        first->state = State::Running;
        first->batch = batch;
        for (Request& r : table_) {
            if (!directory && r.state == State::Queued && r.fd == fd && !r.directory) {
                r.state = State::Running;
                r.batch = batch;
            }
        }
        ++syncs_;
        pthread_mutex_unlock(&mutex_);
        Status st = Status::Ok;
        while ((directory ? ::fsync(fd) : ::fdatasync(fd)) != 0) {
            if (errno == EINTR) continue;
            if (!(directory && errno == EINVAL)) st = status_from_errno(errno);
            break;
        }
        if (directory) ::close(fd);
        pthread_mutex_lock(&mutex_);
        for (Request& r : table_) {
            if (r.state == State::Running && r.batch == batch) {
                r.state = State::Done;
                r.status = st;
            }
        }
        const std::uint64_t one = 1;
        while (::write(event_fd_, &one, sizeof one) < 0 && errno == EINTR) {
        }
    }
    pthread_mutex_unlock(&mutex_);
}

Status FlushPool::flush_start(port::File f, std::uint64_t token, bool directory) {
    if (threads_ == 0) return Status::Unsupported;
    if (f < 0) return Status::Invalid;
    pthread_mutex_lock(&mutex_);
    Request* slot = nullptr;
    for (Request& r : table_) {
        if (r.state == State::Free) {
            slot = &r;
            break;
        }
    }
    if (slot != nullptr) {
        slot->state = State::Queued;
        slot->fd = f;
        slot->directory = directory;
        slot->token = token;
        slot->order = next_order_++;
        pthread_cond_signal(&wake_);
    }
    pthread_mutex_unlock(&mutex_);
    return slot != nullptr ? Status::Ok : Status::Exhausted;
}

std::size_t FlushPool::flush_done(port::FlushDone* out, std::size_t capacity) {
    if (threads_ == 0) return 0;
    // Reset the event first: a flush finishing after the scan below makes
    // it readable again, so no completion is left without a wake-up.
    std::uint64_t count = 0;
    while (::read(event_fd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
    std::size_t n = 0;
    pthread_mutex_lock(&mutex_);
    for (Request& r : table_) {
        if (n == capacity) {
            // More than the caller took: keep the event readable for them.
            const std::uint64_t one = 1;
            if (r.state == State::Done) (void)::write(event_fd_, &one, sizeof one);
            if (r.state == State::Done) break;
            continue;
        }
        if (r.state != State::Done) continue;
        out[n++] = port::FlushDone{r.token, r.status};
        r.state = State::Free;
        ++finished_;
    }
    pthread_mutex_unlock(&mutex_);
    return n;
}

std::uint64_t FlushPool::syncs() const {
    auto* self = const_cast<FlushPool*>(this);
    pthread_mutex_lock(&self->mutex_);
    const std::uint64_t n = syncs_;
    pthread_mutex_unlock(&self->mutex_);
    return n;
}

std::uint64_t FlushPool::finished() const {
    auto* self = const_cast<FlushPool*>(this);
    pthread_mutex_lock(&self->mutex_);
    const std::uint64_t n = finished_;
    pthread_mutex_unlock(&self->mutex_);
    return n;
}

}  // namespace tinyimapd::posix
