#include "core/mime/part.h"

#include <cstring>

#include "core/base/text.h"
#include "core/mime/params.h"

namespace tinyimapd::mime {
namespace {

bool identity_encoding(std::string_view enc) {
    return enc.empty() || ascii::iequals(enc, "7bit") || ascii::iequals(enc, "8bit") ||
           ascii::iequals(enc, "binary");
}

struct Delimiter {
    std::uint64_t line_start = 0;  // the "--" of the delimiter
    std::uint64_t next_line = 0;   // first byte after its line
    bool close = false;
};

// Checks a line beginning at b[0] (n bytes available, `at_end` if no more
// follow) for "--" boundary ("--" | blank | line end).
bool match_delimiter(const char* b, std::size_t n, bool at_end, std::string_view boundary,
                     bool* close) {
    std::size_t bl = boundary.size();
    if (n < 2 + bl || b[0] != '-' || b[1] != '-') return false;
    if (std::memcmp(b + 2, boundary.data(), bl) != 0) return false;
    std::size_t i = 2 + bl;
    if (i >= n) return at_end;
    char c = b[i];
    if (c == '-' && i + 1 < n && b[i + 1] == '-') {
        *close = true;
        return true;
    }
    *close = false;
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum class Scan : std::uint8_t { Found, NotFound, Paused };

// Scans [*from, end) line by line for a delimiter (*from is a line start
// unless *mid_line). After about `limit` bytes it pauses, leaving *from and
// *mid_line where the scan goes on.
Scan find_delimiter(ByteSource& r, std::uint64_t* from, bool* mid_line_io, std::uint64_t end,
                    std::uint64_t limit, std::string_view boundary, char* buf, std::size_t cap,
                    Delimiter* out) {
    const std::size_t need = boundary.size() + 4;
    std::uint64_t base = *from;
    bool mid_line = *mid_line_io;  // base is inside a line, not at its start
    const std::uint64_t stop = base < end && limit < end - base ? base + limit : end;
    while (base < end) {
        if (base >= stop) {
            *from = base;
            *mid_line_io = mid_line;
            return Scan::Paused;
        }
        std::uint64_t left = end - base;
        std::size_t want = left < cap ? static_cast<std::size_t>(left) : cap;
        std::size_t n = read_full(r, base, buf, want);
        if (n == 0) return Scan::NotFound;
        bool last_chunk = n < want || base + n >= end;
        std::size_t i = 0;
        if (mid_line) {
            const void* lf = std::memchr(buf, '\n', n);
            if (lf == nullptr) {
                if (last_chunk) return Scan::NotFound;
                base += n;
                continue;
            }
            i = static_cast<std::size_t>(static_cast<const char*>(lf) - buf) + 1;
            mid_line = false;
        }
        bool refill = false;
        while (i < n) {
            if (n - i < need && !last_chunk && i > 0) {
                base += i;  // re-read from this line start
                refill = true;
                break;
            }
            bool close = false;
            if (match_delimiter(buf + i, n - i, last_chunk, boundary, &close)) {
                out->line_start = base + i;
                out->close = close;
                const void* lf = std::memchr(buf + i, '\n', n - i);
                if (lf != nullptr) {
                    out->next_line =
                        base + static_cast<std::size_t>(static_cast<const char*>(lf) - buf) + 1;
                    return Scan::Found;
                }
                // The delimiter line continues past the window: find its end.
                std::uint64_t p = base + n;
                while (p < end) {
                    std::uint64_t l2 = end - p;
                    std::size_t w2 = l2 < cap ? static_cast<std::size_t>(l2) : cap;
                    std::size_t k = read_full(r, p, buf, w2);
                    if (k == 0) break;
                    const void* f = std::memchr(buf, '\n', k);
                    if (f != nullptr) {
                        p += static_cast<std::size_t>(static_cast<const char*>(f) - buf) + 1;
                        out->next_line = p;
                        return Scan::Found;
                    }
                    p += k;
                }
                out->next_line = end;
                return Scan::Found;
            }
            const void* lf = std::memchr(buf + i, '\n', n - i);
            if (lf == nullptr) {
                if (last_chunk) return Scan::NotFound;
                base += n;
                mid_line = true;
                refill = true;
                break;
            }
            i = static_cast<std::size_t>(static_cast<const char*>(lf) - buf) + 1;
        }
        if (refill) continue;
        if (last_chunk) return Scan::NotFound;
        base += n;
    }
    return Scan::NotFound;
}

}  // namespace

void classify_part(const HeaderBlock& h, std::size_t depth, bool in_digest, PartInfo* out) {
    out->kind = PartKind::Leaf;
    out->override_type = TypeOverride::None;
    out->is_text = false;
    out->is_digest = false;
    out->boundary_len = 0;

    std::string_view ct;
    std::string_view type, subtype, params;
    char value_buf[256];
    char enc_buf[32];
    bool valid = false;
    if (find_field(h.fields, "Content-Type", &ct)) {
        std::string_view value;
        parse_mime_value(ct, value_buf, sizeof value_buf, &value, &params);
        valid = split_media_type(value, &type, &subtype);
    }
    if (!valid) {
        out->override_type = in_digest ? TypeOverride::MessageRfc822 : TypeOverride::TextPlain;
        out->is_text = !in_digest;
        if (in_digest) {
            type = "message";
            subtype = "rfc822";
        } else {
            return;
        }
    }
    std::string_view enc;
    if (find_field(h.fields, "Content-Transfer-Encoding", &enc)) {
        std::string_view rest;
        parse_mime_value(enc, enc_buf, sizeof enc_buf, &enc, &rest);
    }
    if (ascii::iequals(type, "multipart")) {
        if (depth >= kMaxMimeDepth) {
            out->override_type = TypeOverride::OctetStream;
            return;
        }
        ParamIterator it(params);
        std::string_view name, value;
        while (it.next(&name, &value)) {
            if (!ascii::iequals(name, "boundary")) continue;
            if (value.empty() || value.size() > kMaxBoundary) break;
            std::memcpy(out->boundary, value.data(), value.size());
            out->boundary_len = static_cast<std::uint8_t>(value.size());
            out->kind = PartKind::Multipart;
            out->is_digest = ascii::iequals(subtype, "digest");
            return;
        }
        out->override_type = TypeOverride::TextPlain;
        out->is_text = true;
        return;
    }
    if (ascii::iequals(type, "message") && ascii::iequals(subtype, "rfc822") &&
        identity_encoding(enc)) {
        if (depth >= kMaxMimeDepth) {
            out->override_type = TypeOverride::OctetStream;
            return;
        }
        out->kind = PartKind::Message;
        return;
    }
    out->is_text = ascii::iequals(type, "text");
}

ChildCursor::Step ChildCursor::step(ByteSource& r, char* buf, std::size_t cap, std::uint64_t limit,
                                    std::uint64_t* start, std::uint64_t* end) {
    if (s_.done) return Step::Done;
    if (limit == 0) limit = 1;
    Delimiter d;
    if (!s_.started) {
        const Scan sc =
            find_delimiter(r, &s_.scan, &s_.mid_line, end_, limit, boundary_, buf, cap, &d);
        if (sc == Scan::Paused) return Step::More;
        s_.started = true;
        if (sc == Scan::NotFound) {
            // No delimiter at all: the whole body is the one part.
            s_.done = true;
            *start = s_.pos;
            *end = end_;
            return Step::Child;
        }
        if (d.close) {
            // Only a close delimiter: treat what follows it as no part.
            s_.done = true;
            *start = s_.pos;
            *end = d.line_start;
            return Step::Child;
        }
        s_.pos = s_.scan = d.next_line;
        s_.mid_line = false;
    }
    if (s_.last) {
        s_.done = true;
        *start = s_.pos;
        *end = end_;
        return Step::Child;
    }
    const Scan sc = find_delimiter(r, &s_.scan, &s_.mid_line, end_, limit, boundary_, buf, cap, &d);
    if (sc == Scan::Paused) return Step::More;
    *start = s_.pos;
    if (sc == Scan::NotFound) {
        *end = end_;
        s_.done = true;
        return Step::Child;
    }
    std::uint64_t e = d.line_start;
    if (e > s_.pos) {
        // The line break before the delimiter belongs to it (RFC 2046 §5.1.1).
        char tail2[2];
        std::uint64_t from = e - s_.pos >= 2 ? e - 2 : e - 1;
        std::size_t k = read_full(r, from, tail2, static_cast<std::size_t>(e - from));
        if (k == e - from) {
            if (k == 2 && tail2[0] == '\r' && tail2[1] == '\n') {
                e -= 2;
            } else if (tail2[k - 1] == '\n') {
                e -= 1;
            }
        }
    }
    *end = e;
    if (d.close) {
        s_.done = true;
    } else {
        s_.pos = s_.scan = d.next_line;
        s_.mid_line = false;
    }
    return Step::Child;
}

bool ChildCursor::next(ByteSource& r, char* buf, std::size_t cap, std::uint64_t* start,
                       std::uint64_t* end) {
    for (;;) {
        const Step st = step(r, buf, cap, UINT64_MAX, start, end);
        if (st != Step::More) return st == Step::Child;
    }
}

void HeldBoundary::hold(const PartInfo& info, std::size_t frame) {
    length_ = info.boundary_len;
    for (std::size_t i = 0; i < info.boundary_len; ++i) text_[i] = info.boundary[i];
    frame_ = frame;
}

std::string_view HeldBoundary::of(ByteSource& r, std::uint64_t start, std::uint64_t end,
                                  std::size_t depth, std::size_t frame, char* scratch,
                                  std::size_t cap) {
    if (frame_ != frame) {
        HeaderBlock h;
        load_header(r, start, end, scratch, cap, &h);
        PartInfo info;
        classify_part(h, depth, false, &info);
        hold(info, frame);
    }
    return {text_, length_};
}

}  // namespace tinyimapd::mime
