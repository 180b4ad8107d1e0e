#include "core/mime/params.h"

#include "core/base/text.h"

namespace tinyimapd::mime {
namespace {

// Index just past the comment starting at s[i] == '('.
std::size_t skip_comment(std::string_view s, std::size_t i) {
    int depth = 0;
    while (i < s.size()) {
        char c = s[i++];
        if (c == '\\' && i < s.size()) {
            ++i;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')' && --depth == 0) {
            break;
        }
    }
    return i;
}

bool is_blank(char c) {
    return ascii::is_space(c) || c == '\r' || c == '\n';
}

}  // namespace

void parse_mime_value(std::string_view field, char* value_buf, std::size_t value_cap,
                      std::string_view* value, std::string_view* params) {
    std::size_t n = 0;
    std::size_t i = 0;
    while (i < field.size() && field[i] != ';') {
        char c = field[i];
        if (c == '(') {
            i = skip_comment(field, i);
            continue;
        }
        if (c == '"') {  // not valid here; keep its bytes but honour its extent
            ++i;
            while (i < field.size() && field[i] != '"') {
                if (n < value_cap) value_buf[n++] = field[i];
                ++i;
            }
            if (i < field.size()) ++i;
            continue;
        }
        if (n < value_cap) value_buf[n++] = c;
        ++i;
    }
    *value = ascii::trim(std::string_view(value_buf, n));
    *params = i < field.size() ? ascii::tail(field, i + 1) : std::string_view();
}

bool split_media_type(std::string_view value, std::string_view* type, std::string_view* subtype) {
    std::size_t slash = value.find('/');
    if (slash == std::string_view::npos) return false;
    *type = ascii::trim(ascii::head(value, slash));
    *subtype = ascii::trim(ascii::tail(value, slash + 1));
    if (type->empty() || subtype->empty()) return false;
    for (char c : *type) {
        if (is_blank(c)) return false;
    }
    for (char c : *subtype) {
        if (is_blank(c)) return false;
    }
    return true;
}

bool ParamIterator::next(std::string_view* name, std::string_view* value) {
    std::string_view s = rest_;
    std::size_t i = 0;
    for (;;) {
        // Skip blanks, comments and empty parameters.
        while (i < s.size() && (is_blank(s[i]) || s[i] == ';' || s[i] == '(')) {
            i = s[i] == '(' ? skip_comment(s, i) : i + 1;
        }
        if (i >= s.size()) {
            rest_ = {};
            return false;
        }
        std::size_t name_start = i;
        while (i < s.size() && s[i] != '=' && s[i] != ';' && !is_blank(s[i]) && s[i] != '(' &&
               s[i] != '"') {
            ++i;
        }
        std::string_view n(s.data() + name_start, i - name_start);
        while (i < s.size() && (is_blank(s[i]) || s[i] == '(')) {
            i = s[i] == '(' ? skip_comment(s, i) : i + 1;
        }
        if (i >= s.size() || s[i] != '=' || n.empty()) {
            // Not a parameter: skip to the next ';' outside quotes.
            bool quoted = false;
            while (i < s.size() && (quoted || s[i] != ';')) {
                if (s[i] == '"') quoted = !quoted;
                if (quoted && s[i] == '\\') ++i;
                ++i;
            }
            continue;
        }
        ++i;  // '='
        while (i < s.size() && is_blank(s[i])) ++i;
        std::size_t len = 0;
        if (i < s.size() && s[i] == '"') {
            ++i;
            while (i < s.size() && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < s.size()) ++i;
                if (len < kMaxParamValue) value_[len++] = s[i];
                ++i;
            }
            if (i < s.size()) ++i;
        } else {
            while (i < s.size() && s[i] != ';' && !is_blank(s[i]) && s[i] != '(') {
                if (len < kMaxParamValue) value_[len++] = s[i];
                ++i;
            }
        }
        // Skip what remains of this parameter (comments, junk) up to ';'.
        while (i < s.size() && s[i] != ';') {
            i = s[i] == '(' ? skip_comment(s, i) : i + 1;
        }
        rest_ = ascii::tail(s, i);
        *name = n;
        *value = std::string_view(value_, len);
        return true;
    }
}

Rfc2231Name split_rfc2231_name(std::string_view name) {
    Rfc2231Name n;
    n.base = name;
    std::size_t star = name.find('*');
    if (star == std::string_view::npos || star == 0) return n;
    std::string_view rest = ascii::tail(name, star + 1);
    bool encoded = false;
    if (!rest.empty() && rest.back() == '*') {
        encoded = true;
        rest = ascii::head(rest, rest.size() - 1);
    }
    if (rest.empty()) {  // "base*"
        if (!encoded && star + 1 == name.size()) {
            n.base = ascii::head(name, star);
            n.encoded = true;
        }
        return n;
    }
    // Section numbers: digits without a leading zero (RFC 2231 §7), small.
    if (rest.size() > 4 || (rest[0] == '0' && rest.size() > 1)) return n;
    int section = 0;
    for (char c : rest) {
        if (c < '0' || c > '9') return n;
        section = section * 10 + (c - '0');
    }
    n.base = ascii::head(name, star);
    n.section = section;
    n.encoded = encoded;
    return n;
}

namespace {

// RFC 2231 §7 attribute-char: what an encoded value carries as itself.
bool is_attribute_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    return std::string_view("*'%()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

// Whether some section of `base` is encoded.
bool any_encoded_section(std::string_view params, std::string_view base) {
    ParamIterator it(params);
    std::string_view name, value;
    while (it.next(&name, &value)) {
        const Rfc2231Name n = split_rfc2231_name(name);
        if (n.section >= 0 && n.encoded && ascii::iequals(n.base, base)) return true;
    }
    return false;
}

}  // namespace

void join_rfc2231(std::string_view params, std::string_view base, char* out, std::size_t cap,
                  std::size_t* length, bool* encoded) {
    if (cap > kMaxParamValue) cap = kMaxParamValue;
    const bool enc = any_encoded_section(params, base);
    std::size_t len = 0;
    auto put = [&](char c) {
        if (len < cap) out[len++] = c;
    };
    int next = 0;
    for (std::size_t sweep = 0; sweep < kMaxRfc2231Sweeps && len < cap; ++sweep) {
        const int before = next;
        ParamIterator it(params);
        std::string_view name, value;
        while (it.next(&name, &value) && len < cap) {
            const Rfc2231Name n = split_rfc2231_name(name);
            if (n.section != next || !ascii::iequals(n.base, base)) continue;
            ++next;
            for (char c : value) {
                if (!enc || n.encoded || is_attribute_char(c)) {
                    put(c);
                    continue;
                }
                static constexpr char kHex[] = "0123456789ABCDEF";
                const auto u = static_cast<unsigned char>(c);
                if (len + 3 > cap) break;
                put('%');
                put(kHex[u >> 4]);
                put(kHex[u & 15]);
            }
        }
        if (next == before) break;  // the next section is missing
    }
    *length = len;
    *encoded = enc;
}

bool TokenListIterator::next(std::string_view* token) {
    for (;;) {
        if (rest_.empty()) return false;
        std::size_t i = 0;
        std::size_t start = 0;
        // Skip leading blanks, commas and comments.
        while (i < rest_.size() && (is_blank(rest_[i]) || rest_[i] == ',' || rest_[i] == '(')) {
            i = rest_[i] == '(' ? skip_comment(rest_, i) : i + 1;
        }
        start = i;
        while (i < rest_.size() && rest_[i] != ',' && !is_blank(rest_[i]) && rest_[i] != '(') ++i;
        std::string_view t(rest_.data() + start, i - start);
        rest_ = ascii::tail(rest_, i);
        if (!t.empty()) {
            *token = t;
            return true;
        }
    }
}

}  // namespace tinyimapd::mime
