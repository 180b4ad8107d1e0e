#include "core/imap/section.h"

#include <cstring>

#include "core/base/text.h"
#include "core/mime/header.h"
#include "core/mime/part.h"

namespace tinyimapd::imap {
namespace {

// StructureWriter::open_part's rule: a part opened at or past the limit
// (this is part `parts` + 1), or too deep for a frame, has no parts inside.
void limit_part(std::size_t parts, std::size_t depth, mime::PartInfo* info) {
    if (info->kind != mime::PartKind::Leaf &&
        (parts + 1 >= mime::kMaxMimeParts || depth + 1 >= mime::kMaxMimeDepth + 2)) {
        info->kind = mime::PartKind::Leaf;
        info->override_type = mime::TypeOverride::OctetStream;
        info->is_text = false;
    }
}

}  // namespace

bool find_section(ByteSource& r, const imap::SectionSpec& section, char* scratch,
                  std::size_t scratch_size, SectionRange* out) {
    SectionFinder f;
    f.start(section);
    for (;;) {
        const SectionFinder::Progress p = f.step(r, scratch, scratch_size, UINT64_MAX, out);
        if (p != SectionFinder::Progress::Budget) return p == SectionFinder::Progress::Found;
    }
}

void SectionFinder::start(const imap::SectionSpec& section) {
    section_ = section;
    phase_ = Phase::Root;
    range_ = SectionRange{};
    depth_ = 0;
    level_ = 0;
    want_ = 0;
    index_ = 0;
    parts_ = 0;
    top_ = 0;
    has_pending_ = false;
    first_ = true;
    boundary_.forget();
}

SectionFinder::Progress SectionFinder::step(ByteSource& r, char* scratch, std::size_t scratch_size,
                                            std::uint64_t budget, SectionRange* out) {
    if (scratch_size < mime::kMinScratch) phase_ = Phase::Missing;
    CountingSource counted(r);
    for (std::size_t actions = 0;; ++actions) {
        if (phase_ == Phase::Found) {
            *out = range_;
            return Progress::Found;
        }
        if (phase_ == Phase::Missing) return Progress::Missing;
        if (actions >= kMaxActions || counted.count >= budget) return Progress::Budget;
        act(counted, scratch, scratch_size, budget - counted.count);
    }
}

// Makes [start, end) at depth_ the current entity, counted as a part.
void SectionFinder::open_path(ByteSource& r, std::uint64_t start, std::uint64_t end, bool in_digest,
                              char* scratch, std::size_t cap) {
    mime::HeaderBlock h;
    mime::load_header(r, start, end, scratch, cap, &h);
    cur_.start = start;
    cur_.fields_end = h.fields_end;
    cur_.body_start = h.body_start;
    cur_.end = end;
    mime::classify_part(h, depth_, in_digest, &cur_.info);
    limit_part(parts_, depth_, &cur_.info);
    ++parts_;
}

// Opens the pending part of an earlier sibling's subtree: counts it, and
// what is inside it is counted next.
void SectionFinder::count_part(ByteSource& r, char* scratch, std::size_t cap) {
    const Pending p = pending_;
    mime::HeaderBlock h;
    mime::load_header(r, p.start, p.end, scratch, cap, &h);
    mime::PartInfo info;
    mime::classify_part(h, p.depth, p.in_digest, &info);
    limit_part(parts_, p.depth, &info);
    ++parts_;
    has_pending_ = false;
    if (info.kind == mime::PartKind::Message) {
        // Its one part: the encapsulated message.
        pending_ = Pending{h.body_start, p.end, static_cast<std::uint8_t>(p.depth + 1), false};
        has_pending_ = true;
    } else if (info.kind == mime::PartKind::Multipart && top_ < kFrames) {
        Frame& f = frames_[top_];
        f.start = p.start;
        f.end = p.end;
        f.at = mime::ChildCursor::State{};
        f.at.pos = f.at.scan = h.body_start;
        f.depth = p.depth;
        f.is_digest = info.is_digest;
        boundary_.hold(info, top_);
        ++top_;
    }
}

// One bounded action of the lookup.
void SectionFinder::act(ByteSource& r, char* scratch, std::size_t cap, std::uint64_t budget) {
    switch (phase_) {
        case Phase::Root:
            open_path(r, 0, r.size(), false, scratch, cap);
            phase_ = Phase::Resolve;
            return;
        case Phase::Resolve: resolve_step(r, scratch, cap); return;
        case Phase::Children: children_step(r, scratch, cap, budget); return;
        case Phase::Count:
            if (has_pending_) {
                count_part(r, scratch, cap);
            } else {
                count_step(r, scratch, cap, budget);
            }
            // The sibling's subtree is counted: on with cur_'s children.
            if (!has_pending_ && top_ == 0) phase_ = Phase::Children;
            return;
        case Phase::Found:
        case Phase::Missing: return;
    }
}

// The next number of the path: found (finish), or the entity whose parts
// it numbers opened, its children to walk.
void SectionFinder::resolve_step(ByteSource& r, char* scratch, std::size_t cap) {
    imap::SectionPartIterator parts(section_);
    std::uint32_t n = 0;
    bool more = false;
    for (std::size_t i = 0; i <= level_; ++i) more = parts.next(&n);
    if (!more) {
        finish(r, scratch, cap);
        return;
    }
    want_ = n;
    // The entity whose parts are numbered: the message itself at first, the
    // encapsulated message of a message/rfc822 part, or a multipart.
    if (!first_ && cur_.info.kind == mime::PartKind::Message) {
        ++depth_;
        open_path(r, cur_.body_start, cur_.end, false, scratch, cap);
    } else if (!first_ && cur_.info.kind != mime::PartKind::Multipart) {
        phase_ = Phase::Missing;
        return;
    }
    first_ = false;
    if (cur_.info.kind != mime::PartKind::Multipart) {
        // Part 1 of a non-multipart message is the message's body.
        if (n != 1) phase_ = Phase::Missing;
        ++level_;
        return;
    }
    at_ = mime::ChildCursor::State{};
    at_.pos = at_.scan = cur_.body_start;
    index_ = 0;
    phase_ = Phase::Children;
}

// The next child of cur_: the one wanted is opened (on with the path); an
// earlier sibling is counted first (its parts number before the next ones).
void SectionFinder::children_step(ByteSource& r, char* scratch, std::size_t cap,
                                  std::uint64_t budget) {
    mime::ChildCursor children(at_, cur_.end, cur_.info.boundary_view());
    if (parts_ + 1 >= mime::kMaxMimeParts) children.last_child();
    std::uint64_t cs = 0, ce = 0;
    const mime::ChildCursor::Step st = children.step(r, scratch, cap, budget, &cs, &ce);
    at_ = children.state();
    if (st == mime::ChildCursor::Step::More) return;
    if (st == mime::ChildCursor::Step::Done) {
        phase_ = Phase::Missing;
        return;
    }
    ++index_;
    const bool digest = cur_.info.is_digest;
    if (index_ == want_) {
        ++depth_;
        open_path(r, cs, ce, digest, scratch, cap);
        ++level_;
        phase_ = Phase::Resolve;
    } else {
        pending_ = Pending{cs, ce, static_cast<std::uint8_t>(depth_ + 1), digest};
        has_pending_ = true;
        phase_ = Phase::Count;
    }
}

// The next child of the innermost open multipart of a sibling's subtree
// (its boundary read again if another frame's is held), or its end.
void SectionFinder::count_step(ByteSource& r, char* scratch, std::size_t cap,
                               std::uint64_t budget) {
    Frame& f = frames_[top_ - 1];
    mime::ChildCursor children(f.at, f.end,
                               boundary_.of(r, f.start, f.end, f.depth, top_ - 1, scratch, cap));
    if (parts_ + 1 >= mime::kMaxMimeParts) children.last_child();
    std::uint64_t cs = 0, ce = 0;
    const mime::ChildCursor::Step st = children.step(r, scratch, cap, budget, &cs, &ce);
    f.at = children.state();
    if (st == mime::ChildCursor::Step::Done) {
        --top_;
    } else if (st == mime::ChildCursor::Step::Child) {
        pending_ = Pending{cs, ce, static_cast<std::uint8_t>(f.depth + 1), f.is_digest};
        has_pending_ = true;
    }
}

// The path is resolved: the range the section's text asks of cur_.
void SectionFinder::finish(ByteSource& r, char* scratch, std::size_t cap) {
    phase_ = Phase::Found;
    SectionRange* out = &range_;
    *out = SectionRange{};
    const bool has_parts = section_.part_count > 0 || !section_.parts.empty();
    switch (section_.text) {
        case imap::SectionText::None:
            if (!has_parts) {
                out->offset = 0;
                out->length = r.size();
            } else {
                out->offset = cur_.body_start;
                out->length = cur_.end - cur_.body_start;
            }
            return;
        case imap::SectionText::Mime:
            if (!has_parts) phase_ = Phase::Missing;
            out->offset = cur_.start;
            out->length = cur_.body_start - cur_.start;
            return;
        case imap::SectionText::Header:
        case imap::SectionText::HeaderFields:
        case imap::SectionText::HeaderFieldsNot:
        case imap::SectionText::Text: break;
    }
    std::uint64_t start = cur_.start, fields_end = cur_.fields_end, body_start = cur_.body_start;
    const std::uint64_t end = cur_.end;
    if (has_parts) {
        if (cur_.info.kind != mime::PartKind::Message) {
            phase_ = Phase::Missing;
            return;
        }
        mime::HeaderBlock h;
        mime::load_header(r, cur_.body_start, end, scratch, cap, &h);
        start = cur_.body_start;
        fields_end = h.fields_end;
        body_start = h.body_start;
    }
    switch (section_.text) {
        case imap::SectionText::Header:
            out->offset = start;
            out->length = body_start - start;
            return;
        case imap::SectionText::Text:
            out->offset = body_start;
            out->length = end - body_start;
            return;
        default:
            out->offset = start;
            out->length = fields_end - start;
            out->filtered = true;
            return;
    }
}

HeaderFieldsFilter::HeaderFieldsFilter(ByteSource& r, const SectionRange& range,
                                       const imap::SectionSpec& section, char* window,
                                       std::size_t window_size)
    : r_(r),
      section_(section),
      window_(window),
      window_size_(window_size),
      begin_(range.offset),
      end_(range.offset + range.length),
      is_not_(section.text == imap::SectionText::HeaderFieldsNot) {
    size_ = total_size();
}

void HeaderFieldsFilter::rewind() {
    in_pos_ = begin_;
    out_pos_ = 0;
    crlf_sent_ = 0;
    at_line_start_ = true;
    selected_ = false;
    win_len_ = 0;
    win_start_ = begin_;
}

bool HeaderFieldsFilter::selected_name(std::string_view name) const {
    imap::HeaderFieldIterator it(section_);
    std::string_view want;
    while (it.next(&want)) {
        if (ascii::iequals(want, name)) return !is_not_;
    }
    return is_not_;
}

// Makes the window hold [pos, pos + want) or up to the end; false on a read
// failure.
bool HeaderFieldsFilter::ensure(std::uint64_t pos, std::size_t want) {
    if (want > window_size_) want = window_size_;
    std::uint64_t left = end_ - pos;
    if (want > left) want = static_cast<std::size_t>(left);
    if (pos >= win_start_ && pos + want <= win_start_ + win_len_) return true;
    std::size_t ask = left < window_size_ ? static_cast<std::size_t>(left) : window_size_;
    win_start_ = pos;
    win_len_ = read_full(r_, pos, window_, ask);
    return win_len_ >= want && win_len_ > 0;
}

std::size_t HeaderFieldsFilter::produce(char* out, std::size_t capacity) {
    std::size_t made = 0;
    while (made < capacity) {
        if (in_pos_ >= end_) {
            if (crlf_sent_ >= 2) break;
            if (out != nullptr) out[made] = crlf_sent_ == 0 ? '\r' : '\n';
            ++crlf_sent_;
            ++made;
            continue;
        }
        if (at_line_start_) {
            if (!ensure(in_pos_, mime::kMinScratch / 4)) {
                in_pos_ = end_;  // read failure: end the header here
                continue;
            }
            std::string_view w(window_ + (in_pos_ - win_start_),
                               win_len_ - static_cast<std::size_t>(in_pos_ - win_start_));
            at_line_start_ = false;
            if (ascii::is_space(w[0])) {
                // A continuation line: keeps the selection of its field.
            } else {
                std::size_t colon = std::string_view::npos;
                std::size_t limit =
                    w.size() < mime::kMinScratch / 4 ? w.size() : mime::kMinScratch / 4;
                for (std::size_t i = 0; i < limit; ++i) {
                    if (w[i] == ':' || w[i] == '\n') {
                        if (w[i] == ':') colon = i;
                        break;
                    }
                }
                if (colon == std::string_view::npos) {
                    // No field name within reach: a non-field line, or a name
                    // longer than any in a list.
                    bool has_lf = false;
                    for (std::size_t i = 0; i < limit; ++i) has_lf |= w[i] == '\n';
                    selected_ = !has_lf && limit == mime::kMinScratch / 4 && is_not_;
                } else {
                    std::string_view name = ascii::head(w, colon);
                    while (!name.empty() && ascii::is_space(name.back())) name.remove_suffix(1);
                    // Like mime::FieldIterator: a name with blanks or control
                    // bytes (an mbox From_ line) is not a field.
                    bool valid = !name.empty();
                    for (char c : name) {
                        auto u = static_cast<unsigned char>(c);
                        if (u <= 32 || u >= 127) valid = false;
                    }
                    selected_ = valid && selected_name(name);
                }
            }
        }
        if (!ensure(in_pos_, 1)) {
            in_pos_ = end_;
            continue;
        }
        std::size_t off = static_cast<std::size_t>(in_pos_ - win_start_);
        std::size_t avail = win_len_ - off;
        const char* p = window_ + off;
        const void* lf = std::memchr(p, '\n', avail);
        std::size_t line =
            lf == nullptr ? avail : static_cast<std::size_t>(static_cast<const char*>(lf) - p) + 1;
        std::size_t take = line;
        if (selected_) {
            if (take > capacity - made) take = capacity - made;
            if (out != nullptr) std::memcpy(out + made, p, take);
            made += take;
        }
        in_pos_ += take;
        if (lf != nullptr && take == line) at_line_start_ = true;
    }
    out_pos_ += made;
    return made;
}

std::uint64_t HeaderFieldsFilter::total_size() {
    rewind();
    std::uint64_t total = 0;
    for (;;) {
        std::size_t k = produce(nullptr, window_size_);
        if (k == 0) break;
        total += k;
    }
    rewind();
    return total;
}

std::size_t HeaderFieldsFilter::read(std::uint64_t offset, char* out, std::size_t capacity) {
    if (offset < out_pos_) rewind();
    char skip[256];
    while (out_pos_ < offset) {
        std::uint64_t gap = offset - out_pos_;
        std::size_t k =
            produce(skip, gap < sizeof skip ? static_cast<std::size_t>(gap) : sizeof skip);
        if (k == 0) return 0;
    }
    return produce(out, capacity);
}

}  // namespace tinyimapd::imap
