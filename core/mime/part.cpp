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

enum class Found : std::uint8_t { Yes, No, More };

// Scans [scan.base, end) line by line (scan.mid_line: base is inside a line,
// not at its start) for a delimiter. Reads about *budget bytes at most:
// More when it ran out, with `scan` where to go on from.
Found find_delimiter(MessageReader& r, ChildCursor::Scan& scan, std::uint64_t end,
                     std::string_view boundary, char* buf, std::size_t cap, Delimiter* out,
                     std::uint64_t* budget) {
    const std::size_t need = boundary.size() + 4;
    std::uint64_t& base = scan.base;
    bool& mid_line = scan.mid_line;
    while (base < end) {
        if (*budget == 0) return Found::More;
        std::uint64_t left = end - base;
        std::size_t want = left < cap ? static_cast<std::size_t>(left) : cap;
        std::size_t n = read_full(r, base, buf, want);
        if (n == 0) return Found::No;
        *budget = *budget > n ? *budget - n : 0;
        bool last_chunk = n < want || base + n >= end;
        std::size_t i = 0;
        if (mid_line) {
            const void* lf = std::memchr(buf, '\n', n);
            if (lf == nullptr) {
                if (last_chunk) return Found::No;
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
                    return Found::Yes;
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
                        return Found::Yes;
                    }
                    p += k;
                }
                out->next_line = end;
                return Found::Yes;
            }
            const void* lf = std::memchr(buf + i, '\n', n - i);
            if (lf == nullptr) {
                if (last_chunk) return Found::No;
                base += n;
                mid_line = true;
                refill = true;
                break;
            }
            i = static_cast<std::size_t>(static_cast<const char*>(lf) - buf) + 1;
        }
        if (refill) continue;
        if (last_chunk) return Found::No;
        base += n;
    }
    return Found::No;
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

bool ChildCursor::next(MessageReader& r, char* buf, std::size_t cap, std::uint64_t* start,
                       std::uint64_t* end) {
    std::uint64_t budget = UINT64_MAX;
    return next_step(r, buf, cap, start, end, &budget) == CursorStep::Child;
}

CursorStep ChildCursor::next_step(MessageReader& r, char* buf, std::size_t cap,
                                  std::uint64_t* start, std::uint64_t* end, std::uint64_t* budget) {
    if (done_) return CursorStep::Done;
    Delimiter d;
    if (!scan_.active) scan_ = Scan{pos_, false, true};
    const Found found = find_delimiter(r, scan_, end_, boundary_, buf, cap, &d, budget);
    if (found == Found::More) return CursorStep::More;
    scan_.active = false;
    if (!started_) {
        started_ = true;
        if (found == Found::No) {
            // No delimiter at all: the whole body is the one part.
            done_ = true;
            *start = pos_;
            *end = end_;
            return CursorStep::Child;
        }
        if (d.close) {
            // Only a close delimiter: treat what follows it as no part.
            done_ = true;
            *start = pos_;
            *end = d.line_start;
            return CursorStep::Child;
        }
        pos_ = d.next_line;
        return next_step(r, buf, cap, start, end, budget);
    }
    *start = pos_;
    if (found == Found::No) {
        *end = end_;
        done_ = true;
        return CursorStep::Child;
    }
    std::uint64_t e = d.line_start;
    if (e > pos_) {
        // The line break before the delimiter belongs to it (RFC 2046 §5.1.1).
        char tail2[2];
        std::uint64_t from = e - pos_ >= 2 ? e - 2 : e - 1;
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
        done_ = true;
    } else {
        pos_ = d.next_line;
    }
    return CursorStep::Child;
}

}  // namespace tinyimapd::mime
