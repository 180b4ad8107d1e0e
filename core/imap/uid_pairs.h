// UidPairs: the source and destination UID sets of a COPY or MOVE (RFC 4315
// §3 COPYUID), gathered message by message as the copy job runs, as runs of
// consecutive UIDs in both ("4:6" and "21:23"), in bounded text. A set too
// scattered to fit is dropped (COPYUID is a SHOULD).
//
// AscendingRun: the run being extended by cmd_fetch.cpp's AscendingSet (the
// messages failing UNCHANGEDSINCE, RFC 7162 §3.1.3), kept between the steps
// of a STORE job.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/base/text.h"

namespace tinyimapd::imap {

class UidPairs {
public:
    void clear() {
        src_.clear();
        dst_.clear();
        src_lo_ = src_hi_ = dst_lo_ = dst_hi_ = 0;
        count_ = flushed_ = 0;
    }
    void add(std::uint32_t src, std::uint32_t dst) {
        if (count_ > 0 && src == src_hi_ + 1 && dst == dst_hi_ + 1) {
            ++src_hi_;
            ++dst_hi_;
            return;
        }
        flush();
        src_lo_ = src_hi_ = src;
        dst_lo_ = dst_hi_ = dst;
        ++count_;
    }
    // "src-set dst-set"; false if they did not fit.
    bool write(TextWriter& w) {
        flush();
        if (count_ == 0 || !src_.ok() || !dst_.ok()) return false;
        w.put(src_.view()).put(' ').put(dst_.view());
        return w.ok();
    }

private:
    void flush() {
        if (count_ == 0 || flushed_ == count_) return;
        run(src_, src_lo_, src_hi_);
        run(dst_, dst_lo_, dst_hi_);
        flushed_ = count_;
    }
    static void run(TextWriter& w, std::uint32_t lo, std::uint32_t hi) {
        if (w.size() > 0) w.put(',');
        w.put_uint(lo);
        if (hi != lo) w.put(':').put_uint(hi);
    }
    FixedText<200> src_, dst_;
    std::uint32_t src_lo_ = 0, src_hi_ = 0, dst_lo_ = 0, dst_hi_ = 0;
    std::size_t count_ = 0, flushed_ = 0;
};

struct AscendingRun {
    std::uint32_t lo = 0, hi = 0;
    bool any = false;
};

}  // namespace tinyimapd::imap
