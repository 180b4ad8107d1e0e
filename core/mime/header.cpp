#include "core/mime/header.h"

#include <cstring>

#include "core/base/text.h"

namespace tinyimapd::mime {

void locate_header(ByteSource& r, std::uint64_t start, std::uint64_t end, char* buf,
                   std::size_t cap, std::uint64_t* fields_end, std::uint64_t* body_start,
                   std::size_t* first_read) {
    if (first_read != nullptr) *first_read = 0;
    bool at_line_start = true;
    bool pending_cr = false;  // a CR at the start of a line, waiting for its LF
    std::uint64_t cr_pos = 0;
    std::uint64_t pos = start;
    std::uint64_t line_start = start;  // of the last line begun
    const std::uint64_t scan_end = end - start > kMaxHeaderBytes ? start + kMaxHeaderBytes : end;
    while (pos < scan_end) {
        std::uint64_t left = scan_end - pos;
        std::size_t want = left < cap ? static_cast<std::size_t>(left) : cap;
        std::size_t n = read_full(r, pos, buf, want);
        if (n == 0) break;
        if (pos == start && first_read != nullptr) *first_read = n;
        for (std::size_t i = 0; i < n; ++i) {
            char c = buf[i];
            std::uint64_t p = pos + i;
            if (pending_cr) {
                pending_cr = false;
                if (c == '\n') {
                    *fields_end = cr_pos;
                    *body_start = p + 1;
                    return;
                }
                at_line_start = false;
            }
            if (at_line_start) {
                if (c == '\n') {
                    *fields_end = p;
                    *body_start = p + 1;
                    return;
                }
                if (c == '\r') {
                    pending_cr = true;
                    cr_pos = p;
                    continue;
                }
            }
            at_line_start = (c == '\n');
            if (at_line_start) line_start = p + 1;
        }
        pos += n;
        if (n < want) break;
    }
    if (scan_end < end && pos >= scan_end) {
        // No end within kMaxHeaderBytes: the header ends at the last line
        // begun there, and the rest is body.
        const std::uint64_t cut = line_start > start ? line_start : scan_end;
        *fields_end = cut;
        *body_start = cut;
        return;
    }
    *fields_end = end;
    *body_start = end;
}

namespace {

bool named(FieldNames keep, std::string_view name, std::size_t* index) {
    for (std::size_t i = 0; i < keep.count && i < kMaxFieldNames; ++i) {
        if (ascii::iequals(keep.names[i], name)) {
            *index = i;
            return true;
        }
    }
    return false;
}

// The fields named in `keep`, unfolded, copied byte by byte into buf's
// first out_cap bytes (see collect_fields).
class FieldCollector {
public:
    FieldCollector(char* buf, std::size_t out_cap, FieldNames keep)
        : buf_(buf), out_cap_(out_cap), keep_(keep) {
        unseen_ = keep.count < kMaxFieldNames ? keep.count : kMaxFieldNames;
        // A small buffer keeps less room per name (half the buffer in all).
        field_reserve_ = unseen_ > 0 ? out_cap / (2 * unseen_) : 0;
        if (field_reserve_ > kFieldReserve) field_reserve_ = kFieldReserve;
    }

    void byte(char c) {
        if (at_ == At::LineStart) line_start(c);
        switch (at_) {
            case At::LineStart: break;
            case At::Name: name_byte(c); break;
            case At::Value: value_byte(c); break;
            case At::Skip:
                if (c == '\n') at_ = At::LineStart;
                break;
        }
    }

    // The end of the header: the last kept field is closed; the bytes kept.
    std::size_t finish() {
        if (kept_) end_field();
        return o_;
    }

private:
    static constexpr std::size_t kNameMax = 64;
    enum class At : std::uint8_t { LineStart, Name, Value, Skip };

    // A new field, or a folded continuation of the current one.
    void line_start(char c) {
        if (ascii::is_space(c)) {
            at_ = kept_ ? At::Value : At::Skip;
            return;
        }
        if (kept_) end_field();
        kept_ = false;
        name_len_ = 0;
        at_ = At::Name;
    }

    void name_byte(char c) {
        if (c == ':') {
            name_end();
        } else if (c == '\n') {
            at_ = At::LineStart;  // not a field
        } else if (name_len_ < kNameMax) {
            name_[name_len_++] = c;
        } else {
            at_ = At::Skip;  // longer than any name kept
        }
    }

    // The name is whole: kept if asked for and there is room for "Name:"
    // and at least one byte, keeping field_reserve_ for each name not seen
    // yet; otherwise the field is skipped.
    void name_end() {
        std::string_view nm(name_, name_len_);
        while (!nm.empty() && ascii::is_space(nm.back())) nm.remove_suffix(1);
        std::size_t index = 0;
        at_ = At::Skip;
        if (name_len_ >= kNameMax || !named(keep_, nm, &index)) return;
        const bool first = (seen_ & (1u << index)) == 0;
        const std::size_t others = unseen_ - (first ? 1 : 0);
        const std::size_t reserve = others * field_reserve_;
        // Room for "Name:" and at least one byte; '\n' after.
        if (out_cap_ > reserve + 1 && out_cap_ - reserve - 1 > o_ + nm.size() + 1) {
            limit_ = out_cap_ - reserve - 1;
            for (char k : nm) put(k);
            put(':');
            value_at_ = o_;
            kept_ = true;
            at_ = At::Value;
        }
        if (first) {
            seen_ |= 1u << index;
            --unseen_;
        }
    }

    void value_byte(char c) {
        if (cr_) {
            cr_ = false;
            if (c != '\n') put('\r');
        }
        if (c == '\n') {
            at_ = At::LineStart;
        } else if (c == '\r') {
            cr_ = true;
        } else {
            put(c);
        }
    }

    void put(char c) {
        if (o_ < limit_) {
            buf_[o_++] = c;
        } else {
            cut_ = true;
        }
    }

    // A field cut for room ends at its last ',' (whole addresses only).
    void end_field() {
        if (cut_) {
            std::size_t comma = o_;
            while (comma > value_at_ && buf_[comma - 1] != ',') --comma;
            if (comma > value_at_) o_ = comma - 1;
        }
        if (o_ < out_cap_) buf_[o_++] = '\n';
        cut_ = false;
    }

    char* buf_;
    std::size_t out_cap_;
    FieldNames keep_;
    char name_[kNameMax];
    std::size_t name_len_ = 0;
    At at_ = At::LineStart;
    bool kept_ = false;  // the current field is being copied
    bool cr_ = false;    // a CR held back in a kept value (dropped before LF)
    std::uint32_t seen_ = 0;
    std::size_t unseen_ = 0;
    std::size_t o_ = 0;
    std::size_t limit_ = 0;  // end of the room of the field being copied
    std::size_t field_reserve_ = 0;
    std::size_t value_at_ = 0;  // where the kept field's value begins
    bool cut_ = false;          // the kept field did not fit
};

// The header [start, fields_end) does not fit in buf: reads it again in
// windows (the last eighth of buf) and keeps the fields named in `keep`,
// unfolded, in the rest of buf (see header.h). A field cut for room ends at
// its last ',' so that an address list loses whole addresses.
std::size_t collect_fields(ByteSource& r, std::uint64_t start, std::uint64_t fields_end, char* buf,
                           std::size_t cap, FieldNames keep) {
    const std::size_t window = cap / 8;
    char* win = buf + (cap - window);
    FieldCollector collector(buf, cap - window, keep);
    std::uint64_t pos = start;
    while (pos < fields_end) {
        const std::uint64_t left = fields_end - pos;
        const std::size_t want = left < window ? static_cast<std::size_t>(left) : window;
        const std::size_t n = read_full(r, pos, win, want);
        if (n == 0) break;
        for (std::size_t i = 0; i < n; ++i) collector.byte(win[i]);
        pos += n;
        if (n < want) break;
    }
    return collector.finish();
}

}  // namespace

void load_header(ByteSource& r, std::uint64_t start, std::uint64_t end, char* buf, std::size_t cap,
                 HeaderBlock* out, FieldNames keep) {
    *out = HeaderBlock{};
    out->start = start;
    out->end = end;
    if (start > end) start = end;
    std::size_t first = 0;
    locate_header(r, start, end, buf, cap, &out->fields_end, &out->body_start, &first);
    std::uint64_t len = out->fields_end - start;
    if (len > cap && keep.count > 0) {
        out->truncated = true;
        const std::size_t o = collect_fields(r, start, out->fields_end, buf, cap, keep);
        out->fields = std::string_view(buf, o);
        return;
    }
    std::size_t want = len < cap ? static_cast<std::size_t>(len) : cap;
    // A header that ended inside the first read is in buf already.
    std::size_t n = len <= first ? static_cast<std::size_t>(len) : read_full(r, start, buf, want);
    if (n < len) {
        out->truncated = true;
        // Keep complete lines only, unless one line fills the whole buffer.
        std::size_t cut = n;
        while (cut > 0 && buf[cut - 1] != '\n') --cut;
        if (cut > 0) n = cut;
    }
    // Unfold in place: CRLF -> LF, and a line break before WSP disappears.
    std::size_t o = 0;
    for (std::size_t i = 0; i < n; ++i) {
        char c = buf[i];
        if (c == '\r' && i + 1 < n && buf[i + 1] == '\n') {
            ++i;
            c = '\n';
        }
        if (c == '\n' && i + 1 < n && ascii::is_space(buf[i + 1])) continue;
        buf[o++] = c;
    }
    out->fields = std::string_view(buf, o);
}

namespace {

bool valid_field_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 32 || u >= 127) return false;
    }
    return true;
}

}  // namespace

bool FieldIterator::next(HeaderField* field) {
    while (!rest_.empty()) {
        std::size_t nl = rest_.find('\n');
        std::string_view line = nl == std::string_view::npos ? rest_ : ascii::head(rest_, nl);
        rest_ = nl == std::string_view::npos ? std::string_view() : ascii::tail(rest_, nl + 1);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view name = ascii::head(line, colon);
        while (!name.empty() && ascii::is_space(name.back())) name.remove_suffix(1);
        if (!valid_field_name(name)) continue;
        field->name = name;
        field->value = ascii::trim(ascii::tail(line, colon + 1));
        return true;
    }
    return false;
}

bool find_field(std::string_view fields, std::string_view name, std::string_view* value) {
    FieldIterator it(fields);
    HeaderField f;
    while (it.next(&f)) {
        if (ascii::iequals(f.name, name)) {
            *value = f.value;
            return true;
        }
    }
    return false;
}

std::string_view copy_value(std::string_view value, char* out, std::size_t cap) {
    std::size_t n = value.size() < cap ? value.size() : cap;
    if (n > 0) std::memcpy(out, value.data(), n);
    return std::string_view(out, n);
}

}  // namespace tinyimapd::mime
