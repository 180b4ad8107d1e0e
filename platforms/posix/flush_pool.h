// FlushPool: the I/O threads behind PosixFs::flush_start (port/fs.h
// "Asynchronous flush"; issue 13: no client waits for another's flush).
//
// A small fixed set of threads, started once (after daemonizing: fork()
// keeps only the calling thread) with small stacks, takes flush requests
// from a fixed table (kCapacity entries, no heap after start) and runs
// fdatasync() on them; each finished request goes back to the table's done
// list and an eventfd is made readable, which the loop waits on with its
// sockets (Net::wait). Requests for one descriptor that are still queued
// when a thread takes one of them are done by the same fdatasync()
// (coalesced: the flush starts after all of them were asked for, so it
// covers every write each of them must cover).
//
// Thread safety: start/stop and the caller side (flush_start, flush_done,
// events) belong to one thread (the loop); the table is shared with the
// workers under one mutex. A descriptor closed while its flush is queued
// gets EBADF (or flushes whatever reused the number: harmless); tokens of
// flushes nobody waits for any more are ignored by the caller.
#pragma once

#include <pthread.h>

#include <cstddef>
#include <cstdint>

#include "port/fs.h"

namespace tinyimapd::posix {

class FlushPool {
public:
    static constexpr std::size_t kCapacity = 256;  // flushes under way at once
    static constexpr std::size_t kMaxThreads = 64;
    static constexpr std::size_t kStackBytes = 64 * 1024;

    FlushPool() = default;
    FlushPool(const FlushPool&) = delete;
    FlushPool& operator=(const FlushPool&) = delete;
    ~FlushPool() { stop(); }

    // Starts `threads` workers (at most kMaxThreads). Ok, or Error (then
    // none run and flush_start says Unsupported).
    Status start(unsigned threads);
    // Wakes and joins the workers (queued flushes are still done first).
    void stop();
    bool running() const { return threads_ > 0; }

    // `directory`: f is a directory opened for this request alone: fsync()
    // (EINVAL counts as done, as PosixFs::sync_dir), then closed by the
    // thread. Never coalesced with another request.
    Status flush_start(port::File f, std::uint64_t token, bool directory = false);
    std::size_t flush_done(port::FlushDone* out, std::size_t capacity);
    port::File events() const { return running() ? event_fd_ : port::kNoFile; }

    // Counters for tests: fdatasync() calls made, requests finished.
    std::uint64_t syncs() const;
    std::uint64_t finished() const;

private:
    enum class State : std::uint8_t { Free, Queued, Running, Done };
    struct Request {
        State state = State::Free;
        int fd = -1;
        std::uint64_t token = 0;
        std::uint64_t order = 0;  // FIFO among queued requests
        std::uint32_t batch = 0;  // requests done by one fdatasync() share it
        bool directory = false;
        Status status = Status::Ok;
    };
    static void* thread_main(void* self);
    void work();

    pthread_mutex_t mutex_ = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t wake_ = PTHREAD_COND_INITIALIZER;
    pthread_t ids_[kMaxThreads] = {};
    unsigned threads_ = 0;
    bool stopping_ = false;
    int event_fd_ = -1;
    Request table_[kCapacity];
    std::uint64_t next_order_ = 1;
    std::uint32_t next_batch_ = 1;
    std::uint64_t syncs_ = 0;
    std::uint64_t finished_ = 0;
};

}  // namespace tinyimapd::posix
