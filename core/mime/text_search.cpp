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

// Boundaries of the multiparts open at once are packed in TextWalk::pool_;
// a multipart whose boundary does not fit is searched as one leaf (its body
// as stored). Charset conversion staging (stack):
constexpr std::size_t kConvertStage = 256;

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

}  // namespace

void TextWalk::start(TextScope scope, std::uint64_t size) {
    scope_ = scope;
    phase_ = Phase::Entity;
    top_ = pool_used_ = depth_ = 0;
    start_ = 0;
    end_ = size;
    in_digest_ = false;
    encapsulated_ = false;
}

WalkStep TextWalk::step(ByteSource& r, TextSink& m, char* scratch, std::size_t scratch_size,
                        std::uint64_t* budget_left) {
    std::uint64_t& budget = *budget_left;
    if (scratch_size < kMinWalkScratch) return WalkStep::NotFound;
    char* const decoded = scratch;
    const Window w{scratch + kDecodeWindow, scratch_size - kDecodeWindow};
    while (!m.satisfied() && phase_ != Phase::Done) {
        if (budget == 0) return WalkStep::More;
        switch (phase_) {
            case Phase::Entity: entity_step(r, m, w, budget); break;
            case Phase::Children:
                if (!children_step(r, w, budget)) return WalkStep::More;
                break;
            case Phase::Leaf: leaf_step(r, m, decoded, w, budget); break;
            case Phase::LeafEnd:
                while (decoder_.held() && !m.satisfied()) {
                    emit(m, decoded, decoder_.finish(decoded, kDecodeWindow));
                }
                phase_ = Phase::Children;
                break;
            case Phase::Done: break;
        }
    }
    return m.satisfied() ? WalkStep::Found : WalkStep::NotFound;
}

// The header of the entity at start_: an encapsulated message goes on with
// its own header, a multipart pushes a frame for its children, a leaf's
// body is decoded next.
void TextWalk::entity_step(ByteSource& r, TextSink& m, const Window& w, std::uint64_t& budget) {
    HeaderBlock h;
    load_header(r, start_, end_, w.data, w.size, &h);
    const std::uint64_t read = end_ - start_ < w.size ? end_ - start_ : w.size;
    budget = budget > read ? budget - read : 0;
    PartInfo info;
    classify_part(h, depth_, in_digest_, &info);
    if (scope_ == TextScope::Text || (encapsulated_ && scope_ == TextScope::Body)) {
        feed_header_fields(h.fields, m);
    }
    encapsulated_ = false;
    if (info.kind == PartKind::Message) {
        start_ = h.body_start;  // RFC 2046 §5.2.1: a whole message
        ++depth_;
        in_digest_ = false;
        encapsulated_ = true;
        return;
    }
    if (info.kind == PartKind::Multipart && top_ < kFrames &&
        info.boundary_len <= kBoundaryPool - pool_used_) {
        char* b = pool_ + pool_used_;
        std::memcpy(b, info.boundary, info.boundary_len);
        Frame& f = frames_[top_++];
        f.cursor = ChildCursor(h.body_start, end_, {b, info.boundary_len}).state();
        f.end = end_;
        f.depth = depth_;
        f.pool_mark = pool_used_;
        f.boundary_len = info.boundary_len;
        f.digest = info.is_digest;
        pool_used_ += info.boundary_len;
        phase_ = Phase::Children;
    } else {
        begin_leaf(h, info, end_, m);
    }
}

// The next child of the innermost multipart, or the end of it. False: the
// delimiter search used the budget up (call again).
bool TextWalk::children_step(ByteSource& r, const Window& w, std::uint64_t& budget) {
    if (top_ == 0) {
        phase_ = Phase::Done;
        return true;
    }
    Frame& f = frames_[top_ - 1];
    ChildCursor cursor(f.cursor, f.end, {pool_ + f.pool_mark, f.boundary_len});
    const std::uint64_t from = f.cursor.scan;
    const ChildCursor::Step next = cursor.step(r, w.data, w.size, budget, &start_, &end_);
    f.cursor = cursor.state();
    // What the delimiter search read (all of the budget if it paused).
    const std::uint64_t used = next == ChildCursor::Step::More ? budget
                               : f.cursor.scan > from          ? f.cursor.scan - from
                                                               : 0;
    budget = budget > used ? budget - used : 0;
    if (next == ChildCursor::Step::More) return false;
    if (next == ChildCursor::Step::Child) {
        depth_ = f.depth + 1;
        in_digest_ = f.digest;
        phase_ = Phase::Entity;
    } else {
        pool_used_ = f.pool_mark;
        --top_;
    }
    return true;
}

// One window of a leaf's body, decoded and fed to the matcher.
void TextWalk::leaf_step(ByteSource& r, TextSink& m, char* decoded, const Window& w,
                         std::uint64_t& budget) {
    if (pos_ >= leaf_end_) {
        phase_ = Phase::LeafEnd;
        return;
    }
    const std::uint64_t left = leaf_end_ - pos_;
    const std::size_t want = left < w.size ? static_cast<std::size_t>(left) : w.size;
    const std::size_t n = read_full(r, pos_, w.data, want);
    if (n == 0) {
        phase_ = Phase::Children;  // unreadable: what was read is searched
        return;
    }
    std::size_t used = 0;
    while (used < n && !m.satisfied()) {
        const DecodeStep d = decoder_.decode(w.data + used, n - used, decoded, kDecodeWindow);
        used += d.consumed;
        emit(m, decoded, d.produced);
    }
    pos_ += n;
    budget = budget > n ? budget - n : 0;
}

// The body of a leaf [h.body_start, end), to be decoded by Phase::Leaf.
void TextWalk::begin_leaf(const HeaderBlock& h, const PartInfo& info, std::uint64_t end,
                          TextSink& m) {
    // Everything needed from the header is taken before the window is reused.
    std::string_view value;
    const TransferEncoding cte = find_field(h.fields, "Content-Transfer-Encoding", &value)
                                     ? transfer_encoding(value)
                                     : TransferEncoding::Identity;
    Charset cs = Charset::UsAscii;
    bool plain = info.is_text, html = false;
    if (info.is_text && info.override_type == TypeOverride::None &&
        find_field(h.fields, "Content-Type", &value)) {
        char type[128];
        std::string_view media, params, name, param;
        parse_mime_value(value, type, sizeof type, &media, &params);
        plain = ascii::iequals(media, "text/plain");
        html = ascii::iequals(media, "text/html");
        ParamIterator it(params);
        while (it.next(&name, &param)) {
            if (ascii::iequals(name, "charset")) cs = charset_from_name(param);
        }
    }
    if (scope_ == TextScope::Preview) {
        // RFC 8970 §3.3: readable text only; a leaf without a Content-Type
        // is text/plain (RFC 2045 §5.2), as classify_part says (is_text).
        if (!plain && !html) {
            phase_ = Phase::Children;
            return;
        }
        m.begin_text(html);
    }
    decoder_.reset(cte);
    charset_ = cs;
    pos_ = h.body_start;
    leaf_end_ = end;
    phase_ = Phase::Leaf;
}

void TextWalk::emit(TextSink& m, const char* p, std::size_t n) {
    if (charset_is_identity(charset_)) {
        m.write(p, n);
        return;
    }
    char stage[kConvertStage];
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (k + kMaxUtf8PerByte > sizeof stage) {
            m.write(stage, k);
            k = 0;
        }
        k += charset_to_utf8(charset_, static_cast<unsigned char>(p[i]), stage + k);
    }
    m.write(stage, k);
}

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

void feed_header_fields(std::string_view fields, TextSink& m) {
    FieldIterator it(fields);
    HeaderField f;
    while (!m.satisfied() && it.next(&f)) {
        m.write(f.name.data(), f.name.size());
        m.write(": ", 2);
        decode_header_text(f.value, m);
        m.write("\n", 1);
    }
}

bool message_text_contains(ByteSource& r, TextScope scope, TextMatcher& m, char* scratch,
                           std::size_t scratch_size) {
    // The walk's own state goes at the start of the scratch, aligned.
    const auto base = reinterpret_cast<std::uintptr_t>(scratch);
    const std::size_t pad = (alignof(TextWalk) - base % alignof(TextWalk)) % alignof(TextWalk);
    if (scratch_size < pad + sizeof(TextWalk) + TextWalk::kMinWalkScratch) return false;
    auto* walk = new (scratch + pad) TextWalk;
    walk->start(scope, r.size(), m);
    const std::size_t used = pad + sizeof(TextWalk);
    std::uint64_t budget = UINT64_MAX;
    return walk->step(r, m, scratch + used, scratch_size - used, &budget) == WalkStep::Found;
}

}  // namespace tinyimapd::mime
