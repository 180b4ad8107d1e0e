#include "core/mime/section.h"

#include <cstring>

#include "core/base/text.h"
#include "core/mime/header.h"
#include "core/mime/part.h"

namespace tinyimapd::mime {
namespace {

struct Node {
    std::uint64_t start = 0;
    std::uint64_t fields_end = 0;
    std::uint64_t body_start = 0;
    std::uint64_t end = 0;
    PartInfo info;
};

void load_node(MessageReader& r, std::uint64_t start, std::uint64_t end, std::size_t depth,
               bool in_digest, char* buf, std::size_t cap, Node* n) {
    HeaderBlock h;
    load_header(r, start, end, buf, cap, &h);
    n->start = start;
    n->fields_end = h.fields_end;
    n->body_start = h.body_start;
    n->end = end;
    classify_part(h, depth, in_digest, &n->info);
}

}  // namespace

bool find_section(MessageReader& r, const imap::SectionSpec& section, char* scratch,
                  std::size_t scratch_size, SectionRange* out) {
    if (scratch_size < kMinScratch) return false;
    *out = SectionRange{};
    Node cur;
    load_node(r, 0, r.size(), 0, false, scratch, scratch_size, &cur);
    std::size_t depth = 0;
    bool first = true;
    imap::SectionPartIterator parts(section);
    std::uint32_t n = 0;
    while (parts.next(&n)) {
        // The entity whose parts are numbered: the message itself at first,
        // the encapsulated message of a message/rfc822 part, or a multipart.
        if (!first && cur.info.kind == PartKind::Message) {
            ++depth;
            load_node(r, cur.body_start, cur.end, depth, false, scratch, scratch_size, &cur);
        } else if (!first && cur.info.kind != PartKind::Multipart) {
            return false;
        }
        first = false;
        if (cur.info.kind != PartKind::Multipart) {
            if (n != 1) return false;
            continue;  // part 1 of a non-multipart message is the message's body
        }
        ChildCursor children(cur.body_start, cur.end, cur.info.boundary_view());
        std::uint64_t cs = 0, ce = 0;
        bool found = false;
        for (std::uint32_t i = 1; children.next(r, scratch, scratch_size, &cs, &ce); ++i) {
            if (i == n) {
                found = true;
                break;
            }
        }
        if (!found) return false;
        bool digest = cur.info.is_digest;
        ++depth;
        load_node(r, cs, ce, depth, digest, scratch, scratch_size, &cur);
    }
    bool has_parts = section.part_count > 0 || !section.parts.empty();
    switch (section.text) {
        case imap::SectionText::None:
            if (!has_parts) {
                out->offset = 0;
                out->length = r.size();
            } else {
                out->offset = cur.body_start;
                out->length = cur.end - cur.body_start;
            }
            return true;
        case imap::SectionText::Mime:
            if (!has_parts) return false;
            out->offset = cur.start;
            out->length = cur.body_start - cur.start;
            return true;
        case imap::SectionText::Header:
        case imap::SectionText::HeaderFields:
        case imap::SectionText::HeaderFieldsNot:
        case imap::SectionText::Text: break;
    }
    if (has_parts) {
        if (cur.info.kind != PartKind::Message) return false;
        load_node(r, cur.body_start, cur.end, depth + 1, false, scratch, scratch_size, &cur);
    }
    switch (section.text) {
        case imap::SectionText::Header:
            out->offset = cur.start;
            out->length = cur.body_start - cur.start;
            return true;
        case imap::SectionText::Text:
            out->offset = cur.body_start;
            out->length = cur.end - cur.body_start;
            return true;
        default:
            out->offset = cur.start;
            out->length = cur.fields_end - cur.start;
            out->filtered = true;
            return true;
    }
}

HeaderFieldsFilter::HeaderFieldsFilter(MessageReader& r, const SectionRange& range,
                                       const imap::SectionSpec& section, char* window,
                                       std::size_t window_size)
    : r_(r),
      section_(section),
      window_(window),
      window_size_(window_size),
      begin_(range.offset),
      end_(range.offset + range.length),
      is_not_(section.text == imap::SectionText::HeaderFieldsNot) {
    rewind();
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
            if (!ensure(in_pos_, kMinScratch / 4)) {
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
                std::size_t limit = w.size() < kMinScratch / 4 ? w.size() : kMinScratch / 4;
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
                    selected_ = !has_lf && limit == kMinScratch / 4 && is_not_;
                } else {
                    std::string_view name = ascii::head(w, colon);
                    while (!name.empty() && ascii::is_space(name.back())) name.remove_suffix(1);
                    // Like FieldIterator: a name with blanks or control
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

}  // namespace tinyimapd::mime
