#include "core/mime/text_search.h"

#include <cstring>
#include <new>

#include "core/base/text.h"
#include "core/mime/charset.h"
#include "core/mime/header.h"
#include "core/mime/params.h"
#include "core/mime/part.h"
#include "core/mime/transfer_decode.h"
#include "core/mime/unicase.h"

namespace tinyimapd::mime {
namespace {

// Boundaries of the multiparts open at once are packed in TextWalk::pool_;
// a multipart whose boundary does not fit is searched as one leaf (its body
// as stored). Charset conversion staging (stack):
constexpr std::size_t kConvertStage = 256;

// RFC 3629 §4: the byte after lead byte `lead` in a well-formed sequence
// (no overlong form, no surrogate, nothing above U+10FFFF).
bool second_byte_ok(unsigned char lead, unsigned char b) {
    if (b < 0x80 || b > 0xBF) return false;
    switch (lead) {
        case 0xE0: return b >= 0xA0;
        case 0xED: return b <= 0x9F;
        case 0xF0: return b >= 0x90;
        case 0xF4: return b <= 0x8F;
        default: return true;
    }
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

std::size_t UnicaseStream::put(char c, char* out) {
    const auto b = static_cast<unsigned char>(c);
    std::size_t n = 0;
    if (need_ > 0) {
        const bool ok = pending_ == 1 ? second_byte_ok(static_cast<unsigned char>(seq_[0]), b)
                                      : b >= 0x80 && b <= 0xBF;
        if (ok) {
            seq_[pending_++] = c;
            cp_ = (cp_ << 6) | (b & 0x3F);
            if (--need_ > 0) return 0;
            pending_ = 0;
            return unicase_map_code_point(cp_, out);
        }
        n = flush(out);  // not well-formed: the bytes so far as they are
    }
    if (b < 0x80) {
        out[n++] = ascii::to_upper(c);
    } else if (b >= 0xC2 && b <= 0xF4) {
        need_ = b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3;
        cp_ = b & (b < 0xE0 ? 0x1Fu : b < 0xF0 ? 0x0Fu : 0x07u);
        seq_[0] = c;
        pending_ = 1;
    } else {
        out[n++] = c;
    }
    return n;
}

std::size_t UnicaseStream::flush(char* out) {
    const std::size_t n = pending_;
    for (std::size_t i = 0; i < n; ++i) out[i] = seq_[i];
    pending_ = need_ = 0;
    return n;
}

bool TextMatcher::prepare(std::string_view needle, char* buf, std::uint16_t* table,
                          std::size_t cap) {
    constexpr std::size_t kMaxNeedle = 65535;  // the table's entries are 16-bit
    needle_ = needle;
    fail_ = table;
    prepared_ = {};
    ready_ = false;
    UnicaseStream stream;
    char piece[UnicaseStream::kMaxOut];
    std::size_t size = 0;
    for (std::size_t i = 0; i <= needle.size(); ++i) {
        const std::size_t n =
            i < needle.size() ? stream.put(needle[i], piece) : stream.flush(piece);
        if (n > cap - size || size + n > kMaxNeedle) {
            restart();
            return false;
        }
        std::memcpy(buf + size, piece, n);
        size += n;
    }
    // table[i]: the longest proper border of buf[0..i] (Knuth-Morris-Pratt).
    if (size > 0) table[0] = 0;
    std::size_t k = 0;
    for (std::size_t i = 1; i < size; ++i) {
        while (k > 0 && buf[i] != buf[k]) k = table[k - 1];
        if (buf[i] == buf[k]) ++k;
        table[i] = static_cast<std::uint16_t>(k);
    }
    prepared_ = std::string_view(buf, size);
    ready_ = true;
    restart();
    return true;
}

// Prepared text against the prepared needle (i;octet, KMP).
void TextMatcher::match(const char* p, std::size_t n) {
    const std::size_t len = prepared_.size();
    std::size_t s = state_;
    for (std::size_t i = 0; i < n; ++i) {
        while (s > 0 && prepared_[s] != p[i]) s = fail_[s - 1];
        if (prepared_[s] == p[i] && ++s == len) {
            found_ = true;
            return;
        }
    }
    state_ = s;
}

// The text is prepared into a stage and matched a stage at a time.
void TextMatcher::write(const char* data, std::size_t n) {
    if (found_ || !ready_) return;
    char stage[256];
    std::size_t k = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (k + UnicaseStream::kMaxOut > sizeof stage) {
            match(stage, k);
            k = 0;
            if (found_) return;
        }
        k += stream_.put(data[i], stage + k);
    }
    match(stage, k);
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
