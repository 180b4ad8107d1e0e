#include "platforms/posix/compress_zlib.h"

#include <cstring>
#include <new>

namespace tinyimapd {

void* ZlibSession::zalloc(void* opaque, unsigned items, unsigned size) {
    auto* self = static_cast<ZlibSession*>(opaque);
    const std::size_t bytes = (std::size_t{items} * size + 15) & ~std::size_t{15};
    if (size != 0 && items > SIZE_MAX / size) return Z_NULL;
    if (bytes > kArenaBytes - self->used_) return Z_NULL;  // zlib answers Z_MEM_ERROR
    void* p = self->arena_ + self->used_;
    self->used_ += bytes;
    if (self->used_ > self->peak_) self->peak_ = self->used_;
    return p;
}

// The arena is emptied as a whole by start(): nothing to give back singly.
void ZlibSession::zfree(void*, void*) {}

Status ZlibSession::start() {
    finish();
    used_ = 0;
    in_ = z_stream{};
    out_z_ = z_stream{};
    for (z_stream* z : {&in_, &out_z_}) {
        z->zalloc = &ZlibSession::zalloc;
        z->zfree = &ZlibSession::zfree;
        z->opaque = this;
    }
    // Negative windowBits: raw DEFLATE, no zlib header (RFC 4978 §4).
    if (inflateInit2(&in_, -kInflateWindowBits) != Z_OK) return Status::Exhausted;
    if (deflateInit2(&out_z_, kDeflateLevel, Z_DEFLATED, -kDeflateWindowBits, kDeflateMemLevel,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        inflateEnd(&in_);
        return Status::Exhausted;
    }
    started_ = true;
    corrupt_ = inflate_full_ = flush_pending_ = false;
    in_begin_ = in_end_ = out_begin_ = out_end_ = 0;
    return Status::Ok;
}

std::uint8_t* ZlibSession::input_space(std::size_t* room) {
    if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
    if (in_begin_ > 0 && in_end_ == kInputBytes) {
        std::memmove(in_buf_, in_buf_ + in_begin_, in_end_ - in_begin_);
        in_end_ -= in_begin_;
        in_begin_ = 0;
    }
    *room = kInputBytes - in_end_;
    return in_buf_ + in_end_;
}

bool ZlibSession::input_pending() const {
    return started_ && !corrupt_ && (in_begin_ < in_end_ || inflate_full_);
}

port::IoResult ZlibSession::inflate(std::uint8_t* out, std::size_t capacity) {
    if (!started_ || corrupt_) return {Status::Invalid, 0};
    if (capacity == 0) return {Status::WouldBlock, 0};
    in_.next_in = in_buf_ + in_begin_;
    in_.avail_in = static_cast<uInt>(in_end_ - in_begin_);
    in_.next_out = out;
    in_.avail_out = static_cast<uInt>(capacity);
    const int rc = ::inflate(&in_, Z_SYNC_FLUSH);
    in_begin_ = in_end_ - in_.avail_in;
    const std::size_t produced = capacity - in_.avail_out;
    inflate_full_ = in_.avail_out == 0;
    // Z_STREAM_END: the client ended its stream (RFC 4978 has no end; a
    // DEFLATE block marked final leaves nothing to say): corrupt from here.
    if (rc == Z_DATA_ERROR || rc == Z_MEM_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR ||
        rc == Z_STREAM_END) {
        corrupt_ = true;
        if (produced > 0) return {Status::Ok, produced};
        return {Status::Invalid, 0};
    }
    if (produced == 0) return {Status::WouldBlock, 0};
    return {Status::Ok, produced};
}

port::IoResult ZlibSession::deflate(const std::uint8_t* data, std::size_t length) {
    if (!started_) return {Status::Invalid, 0};
    if (out_begin_ > 0) {
        std::memmove(out_, out_ + out_begin_, out_end_ - out_begin_);
        out_end_ -= out_begin_;
        out_begin_ = 0;
    }
    if (out_end_ == kOutputBytes) return {Status::Ok, 0};
    if (length == 0 && !flush_pending_) return {Status::Ok, 0};
    out_z_.next_in = const_cast<Bytef*>(data);
    out_z_.avail_in = static_cast<uInt>(length);
    out_z_.next_out = out_ + out_end_;
    out_z_.avail_out = static_cast<uInt>(kOutputBytes - out_end_);
    const int rc = ::deflate(&out_z_, Z_SYNC_FLUSH);
    if (rc == Z_STREAM_ERROR) return {Status::Invalid, 0};
    const std::size_t taken = length - out_z_.avail_in;
    out_end_ = kOutputBytes - out_z_.avail_out;
    // Output full: the flush (or input) may not be all out yet.
    flush_pending_ = out_z_.avail_out == 0;
    return {Status::Ok, taken};
}

void ZlibSession::output_sent(std::size_t n) {
    out_begin_ += n;
    if (out_begin_ >= out_end_) out_begin_ = out_end_ = 0;
}

void ZlibSession::finish() {
    if (!started_) return;
    inflateEnd(&in_);
    deflateEnd(&out_z_);
    started_ = false;
}

Status ZlibCompress::init(void* block, std::size_t size, std::size_t count) {
    if (block == nullptr || size < memory_needed(count)) return Status::Invalid;
    sessions_ = static_cast<ZlibSession*>(block);
    // Default-initialised, not value-initialised: the arenas and buffers
    // stay untouched (not resident) until an engine is first started.
    for (std::size_t i = 0; i < count; ++i) new (&sessions_[i]) ZlibSession;
    count_ = count;
    return Status::Ok;
}

ZlibCompress::~ZlibCompress() {
    for (std::size_t i = 0; i < count_; ++i) sessions_[i].~ZlibSession();
}

}  // namespace tinyimapd
