#include "core/mime/header.h"

#include <cstring>

#include "core/base/text.h"

namespace tinyimapd::mime {

void locate_header(MessageReader& r, std::uint64_t start, std::uint64_t end, char* buf,
                   std::size_t cap, std::uint64_t* fields_end, std::uint64_t* body_start,
                   std::size_t* first_read) {
    if (first_read != nullptr) *first_read = 0;
    bool at_line_start = true;
    bool pending_cr = false;  // a CR at the start of a line, waiting for its LF
    std::uint64_t cr_pos = 0;
    std::uint64_t pos = start;
    while (pos < end) {
        std::uint64_t left = end - pos;
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
        }
        pos += n;
        if (n < want) break;
    }
    *fields_end = end;
    *body_start = end;
}

void load_header(MessageReader& r, std::uint64_t start, std::uint64_t end, char* buf,
                 std::size_t cap, HeaderBlock* out) {
    *out = HeaderBlock{};
    out->start = start;
    out->end = end;
    if (start > end) start = end;
    std::size_t first = 0;
    locate_header(r, start, end, buf, cap, &out->fields_end, &out->body_start, &first);
    std::uint64_t len = out->fields_end - start;
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
