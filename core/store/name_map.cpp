#include "core/store/name_map.h"

#include "core/imap/mailbox_name.h"
#include "port/fs.h"

namespace tinyimapd::store {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool literal(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '&' || c == ',' ||
           c == '+' || c == '_';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool match_at(std::string_view p, std::string_view n) {
    while (!p.empty()) {
        const char c = p[0];
        if (c == '*' || c == '%') {
            p = ascii::tail(p, 1);
            for (std::size_t i = 0; i <= n.size(); ++i) {
                if (match_at(p, ascii::tail(n, i))) return true;
                if (i < n.size() && c == '%' && n[i] == imap::kHierarchyDelimiter) return false;
            }
            return false;
        }
        if (n.empty() || n[0] != c) return false;
        p = ascii::tail(p, 1);
        n = ascii::tail(n, 1);
    }
    return n.empty();
}

}  // namespace

bool encode_level(std::string_view level, TextWriter& out) {
    for (char c : level) {
        if (literal(c)) {
            out.put(c);
        } else if (c >= 'A' && c <= 'Z') {
            out.put('^').put(ascii::to_lower(c));
        } else {
            const auto b = static_cast<unsigned char>(c);
            out.put('%').put(kHex[b >> 4]).put(kHex[b & 15]);
        }
    }
    return out.ok();
}

bool decode_level(std::string_view d, TextWriter& out) {
    if (d.empty()) return false;
    for (std::size_t i = 0; i < d.size(); ++i) {
        const char c = d[i];
        if (literal(c)) {
            out.put(c);
        } else if (c == '^' && i + 1 < d.size() && d[i + 1] >= 'a' && d[i + 1] <= 'z') {
            out.put(ascii::to_upper(d[++i]));
        } else if (c == '%' && i + 2 < d.size() && hex_value(d[i + 1]) >= 0 &&
                   hex_value(d[i + 2]) >= 0) {
            const char v = static_cast<char>(hex_value(d[i + 1]) * 16 + hex_value(d[i + 2]));
            if (literal(v) || (v >= 'A' && v <= 'Z')) return false;  // not canonical
            out.put(v);
            i += 2;
        } else {
            return false;
        }
    }
    return out.ok();
}

Status mailbox_path(std::string_view root, std::string_view name, TextWriter& out) {
    if (!imap::is_valid_mailbox_name(name)) return Status::Invalid;
    FixedText<imap::kMaxMailboxName + 8> norm;
    imap::normalize_mailbox(name, norm);
    if (!norm.ok()) return Status::TooLong;
    out.put(root);
    std::string_view rest = norm.view();
    while (!rest.empty()) {
        std::size_t cut = rest.find(imap::kHierarchyDelimiter);
        if (cut == std::string_view::npos) cut = rest.size();
        const std::size_t before = out.size();
        out.put('/');
        if (!encode_level(ascii::head(rest, cut), out)) return Status::TooLong;
        if (out.size() - before - 1 > port::kMaxName) return Status::TooLong;
        rest = ascii::tail(rest, cut + 1);
    }
    if (!out.ok() || out.size() > port::kMaxPath) return Status::TooLong;
    return Status::Ok;
}

bool match_pattern(std::string_view pattern, std::string_view name) {
    return match_at(pattern, name);
}

}  // namespace tinyimapd::store
