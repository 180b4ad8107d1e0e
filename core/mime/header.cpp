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

// The header [start, fields_end) does not fit in buf: reads it again in
// windows (the last eighth of buf) and keeps the fields named in `keep`,
// unfolded, in the rest of buf (see header.h). A field cut for room ends at
// its last ',' so that an address list loses whole addresses.
std::size_t collect_fields(ByteSource& r, std::uint64_t start, std::uint64_t fields_end, char* buf,
                           std::size_t cap, FieldNames keep) {
    const std::size_t window = cap / 8;
    char* win = buf + (cap - window);
    const std::size_t out_cap = cap - window;
    constexpr std::size_t kNameMax = 64;
    char name[kNameMax];
    std::size_t name_len = 0;
    enum class At : std::uint8_t { LineStart, Name, Value, Skip };
    At at = At::LineStart;
    bool kept = false;  // the current field is being copied
    bool cr = false;    // a CR held back in a kept value (dropped before LF)
    std::uint32_t seen = 0;
    std::size_t unseen = keep.count < kMaxFieldNames ? keep.count : kMaxFieldNames;
    std::size_t o = 0;
    std::size_t limit = 0;  // end of the room of the field being copied
    // A small buffer keeps less room per name (half the buffer in all).
    std::size_t field_reserve = unseen > 0 ? out_cap / (2 * unseen) : 0;
    if (field_reserve > kFieldReserve) field_reserve = kFieldReserve;
    std::size_t value_at = 0;  // where the kept field's value begins
    bool cut = false;          // the kept field did not fit
    auto put = [&](char c) {
        if (o < limit) {
            buf[o++] = c;
        } else {
            cut = true;
        }
    };
    auto end_field = [&] {
        if (cut) {
            std::size_t comma = o;
            while (comma > value_at && buf[comma - 1] != ',') --comma;
            if (comma > value_at) o = comma - 1;
        }
        if (o < out_cap) buf[o++] = '\n';
        cut = false;
    };
    std::uint64_t pos = start;
    while (pos < fields_end) {
        const std::uint64_t left = fields_end - pos;
        const std::size_t want = left < window ? static_cast<std::size_t>(left) : window;
        const std::size_t n = read_full(r, pos, win, want);
        if (n == 0) break;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = win[i];
            if (at == At::LineStart) {
                if (ascii::is_space(c)) {
                    at = kept ? At::Value : At::Skip;  // a folded continuation
                } else {
                    if (kept) end_field();
                    kept = false;
                    name_len = 0;
                    at = At::Name;
                }
            }
            switch (at) {
                case At::LineStart: break;
                case At::Name:
                    if (c == ':') {
                        std::string_view nm(name, name_len);
                        while (!nm.empty() && ascii::is_space(nm.back())) nm.remove_suffix(1);
                        std::size_t index = 0;
                        at = At::Skip;
                        if (name_len < kNameMax && named(keep, nm, &index)) {
                            const bool first = (seen & (1u << index)) == 0;
                            const std::size_t others = unseen - (first ? 1 : 0);
                            const std::size_t reserve = others * field_reserve;
                            // Room for "Name:" and at least one byte; '\n' after.
                            if (out_cap > reserve + 1 &&
                                out_cap - reserve - 1 > o + nm.size() + 1) {
                                limit = out_cap - reserve - 1;
                                for (char k : nm) put(k);
                                put(':');
                                value_at = o;
                                kept = true;
                                at = At::Value;
                            }
                            if (first) {
                                seen |= 1u << index;
                                --unseen;
                            }
                        }
                    } else if (c == '\n') {
                        at = At::LineStart;  // not a field
                    } else if (name_len < kNameMax) {
                        name[name_len++] = c;
                    } else {
                        at = At::Skip;  // longer than any name kept
                    }
                    break;
                case At::Value:
                    if (cr) {
                        cr = false;
                        if (c != '\n') put('\r');
                    }
                    if (c == '\n') {
                        at = At::LineStart;
                    } else if (c == '\r') {
                        cr = true;
                    } else {
                        put(c);
                    }
                    break;
                case At::Skip:
                    if (c == '\n') at = At::LineStart;
                    break;
            }
        }
        pos += n;
        if (n < want) break;
    }
    if (kept) end_field();
    return o;
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
