#include "core/mime/text_search.h"

#include <cstring>
#include <new>

#include "core/base/text.h"
#include "core/mime/charset.h"
#include "core/mime/header.h"
#include "core/mime/params.h"
#include "core/mime/part.h"
#include "core/mime/transfer_decode.h"

namespace tinyimapd::mime {
namespace {

// Boundaries of the multiparts open at once, packed; a multipart whose
// boundary does not fit is searched as one leaf (its body as stored).
constexpr std::size_t kBoundaryPool = 1024;
// Decoded bytes between the decoder and the matcher.
constexpr std::size_t kDecodeWindow = 1024;
// Charset conversion staging (stack).
constexpr std::size_t kConvertStage = 256;
constexpr std::size_t kFrames = kMaxMimeDepth + 1;

// The folded form of byte `c` after byte `prev`: ASCII letters, and the
// Latin-1 Supplement capitals U+00C0..U+00DE except U+00D7 (UTF-8 C3 80..9E,
// whose small letters are C3 A0..BE), to small letters. Folding never
// changes a lead byte, so the folded text is a per-byte function of the
// text and KMP stays exact.
char fold(char prev, char c) {
    const auto p = static_cast<unsigned char>(prev);
    const auto u = static_cast<unsigned char>(c);
    if (p == 0xC3 && u >= 0x80 && u <= 0x9E && u != 0x97) return static_cast<char>(u + 0x20);
    return ascii::to_lower(c);
}

struct Frame {
    ChildCursor cursor;
    std::size_t depth;
    std::size_t pool_mark;  // pool bytes in use before this frame's boundary
    bool digest;
};

class Walker {
public:
    Walker(MessageReader& r, TextScope scope, TextMatcher& m) : r_(r), scope_(scope), m_(m) {}
    bool carve(char* scratch, std::size_t size);
    void run();

private:
    void leaf(const HeaderBlock& h, const PartInfo& info, std::uint64_t end);
    void emit(const char* p, std::size_t n, Charset cs);

    MessageReader& r_;
    TextScope scope_;
    TextMatcher& m_;
    Frame* frames_ = nullptr;
    char* pool_ = nullptr;
    char* decoded_ = nullptr;
    char* window_ = nullptr;
    std::size_t window_size_ = 0;
};

bool Walker::carve(char* scratch, std::size_t size) {
    const auto base = reinterpret_cast<std::uintptr_t>(scratch);
    const std::size_t pad = (alignof(Frame) - base % alignof(Frame)) % alignof(Frame);
    const std::size_t fixed = pad + sizeof(Frame) * kFrames + kBoundaryPool + kDecodeWindow;
    if (size < fixed + kMinScratch) return false;
    frames_ = static_cast<Frame*>(static_cast<void*>(scratch + pad));  // aligned by pad
    pool_ = scratch + pad + sizeof(Frame) * kFrames;
    decoded_ = pool_ + kBoundaryPool;
    window_ = decoded_ + kDecodeWindow;
    window_size_ = size - fixed;
    return true;
}

void Walker::run() {
    std::size_t top = 0, pool_used = 0;
    std::uint64_t start = 0, end = r_.size();
    std::size_t depth = 0;
    bool in_digest = false;
    bool pending = true;        // [start, end) is an entity still to search
    bool encapsulated = false;  // it is the message inside a message/rfc822 part
    while (!m_.found()) {
        if (pending) {
            HeaderBlock h;
            load_header(r_, start, end, window_, window_size_, &h);
            PartInfo info;
            classify_part(h, depth, in_digest, &info);
            if (scope_ == TextScope::Text || encapsulated) feed_header_fields(h.fields, m_);
            encapsulated = false;
            if (info.kind == PartKind::Message) {
                start = h.body_start;  // RFC 2046 §5.2.1: a whole message
                ++depth;
                in_digest = false;
                encapsulated = true;
                continue;
            }
            if (info.kind == PartKind::Multipart && top < kFrames &&
                info.boundary_len <= kBoundaryPool - pool_used) {
                char* b = pool_ + pool_used;
                std::memcpy(b, info.boundary, info.boundary_len);
                new (&frames_[top]) Frame{ChildCursor(h.body_start, end, {b, info.boundary_len}),
                                          depth, pool_used, info.is_digest};
                pool_used += info.boundary_len;
                ++top;
            } else {
                leaf(h, info, end);
            }
            pending = false;
            continue;
        }
        if (top == 0) break;
        Frame& f = frames_[top - 1];
        if (f.cursor.next(r_, window_, window_size_, &start, &end)) {
            depth = f.depth + 1;
            in_digest = f.digest;
            pending = true;
        } else {
            pool_used = f.pool_mark;
            --top;
        }
    }
}

// The body of a leaf [h.body_start, end), decoded.
void Walker::leaf(const HeaderBlock& h, const PartInfo& info, std::uint64_t end) {
    // Everything needed from the header is taken before the window is reused.
    std::string_view value;
    const TransferEncoding cte = find_field(h.fields, "Content-Transfer-Encoding", &value)
                                     ? transfer_encoding(value)
                                     : TransferEncoding::Identity;
    Charset cs = Charset::UsAscii;
    if (info.is_text && info.override_type == TypeOverride::None &&
        find_field(h.fields, "Content-Type", &value)) {
        char type[128];
        std::string_view media, params, name, param;
        parse_mime_value(value, type, sizeof type, &media, &params);
        ParamIterator it(params);
        while (it.next(&name, &param)) {
            if (ascii::iequals(name, "charset")) cs = charset_from_name(param);
        }
    }
    TransferDecoder d(cte);
    std::uint64_t pos = h.body_start;
    while (pos < end && !m_.found()) {
        const std::uint64_t left = end - pos;
        const std::size_t want =
            left < window_size_ ? static_cast<std::size_t>(left) : window_size_;
        const std::size_t n = read_full(r_, pos, window_, want);
        if (n == 0) return;
        std::size_t used = 0;
        while (used < n) {
            const DecodeStep s = d.decode(window_ + used, n - used, decoded_, kDecodeWindow);
            used += s.consumed;
            emit(decoded_, s.produced, cs);
        }
        pos += n;
    }
    while (d.held() && !m_.found()) emit(decoded_, d.finish(decoded_, kDecodeWindow), cs);
}

void Walker::emit(const char* p, std::size_t n, Charset cs) {
    if (charset_is_identity(cs)) {
        m_.write(p, n);
        return;
    }
    char stage[kConvertStage];
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (k + kMaxUtf8PerByte > sizeof stage) {
            m_.write(stage, k);
            k = 0;
        }
        k += charset_to_utf8(cs, static_cast<unsigned char>(p[i]), stage + k);
    }
    m_.write(stage, k);
}

}  // namespace

bool TextMatcher::prepare(std::string_view needle, std::uint16_t* table, std::size_t table_size) {
    needle_ = needle;
    fail_ = table;
    state_ = 0;
    prev_ = 0;
    ready_ = needle.size() <= table_size && needle.size() <= UINT16_MAX;
    found_ = ready_ && needle.empty();
    if (!ready_ || needle.empty()) return ready_;
    table[0] = 0;
    std::size_t k = 0;
    for (std::size_t i = 1; i < needle.size(); ++i) {
        const char c = folded(i);
        while (k > 0 && c != folded(k)) k = table[k - 1];
        if (c == folded(k)) ++k;
        table[i] = static_cast<std::uint16_t>(k);
    }
    return true;
}

char TextMatcher::folded(std::size_t i) const {
    return fold(i > 0 ? needle_[i - 1] : '\0', needle_[i]);
}

void TextMatcher::write(const char* data, std::size_t n) {
    if (found_ || !ready_) return;
    const std::size_t m = needle_.size();
    std::size_t s = state_;
    char prev = prev_;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = fold(prev, data[i]);
        prev = data[i];
        while (s > 0 && c != folded(s)) s = fail_[s - 1];
        if (c == folded(s) && ++s == m) {
            found_ = true;
            return;
        }
    }
    state_ = s;
    prev_ = prev;
}

void feed_header_fields(std::string_view fields, TextMatcher& m) {
    FieldIterator it(fields);
    HeaderField f;
    while (!m.found() && it.next(&f)) {
        m.write(f.name.data(), f.name.size());
        m.write(": ", 2);
        decode_header_text(f.value, m);
        m.write("\n", 1);
    }
}

bool message_text_contains(MessageReader& r, TextScope scope, TextMatcher& m, char* scratch,
                           std::size_t scratch_size) {
    m.restart();
    Walker w(r, scope, m);
    if (!w.carve(scratch, scratch_size)) return false;
    if (!m.found()) w.run();
    return m.found();
}

}  // namespace tinyimapd::mime
