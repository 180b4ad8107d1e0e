#include "core/store/name_map.h"

#include <cstring>

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

bool wildcard(char c) {
    return c == '*' || c == '%';
}

// The most states the matcher needs after folding runs of wildcards: every
// kept wildcard sits next to a literal byte, and a pattern with more literal
// bytes than the name cannot match, so a name of at most kMaxMailboxName
// bytes needs at most 2 * kMaxMailboxName + 1 pattern bytes.
constexpr std::size_t kMaxFolded = 2 * imap::kMaxMailboxName + 1;

// live[j] for every j after a wildcard at j: it matches the empty string.
void close_over_wildcards(const char* p, std::size_t m, bool* live) {
    for (std::size_t j = 0; j < m; ++j) {
        if (live[j] && wildcard(p[j])) live[j + 1] = true;
    }
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

// A position automaton over the pattern, run once over the name: state j
// holds when the first j pattern bytes match the name bytes read so far.
// Reading byte c keeps j when pattern[j] is '*', or '%' and c is not the
// delimiter, and moves j to j+1 when pattern[j] is the literal c. Time
// O(len(pattern) * len(name)), a few KiB of stack, no recursion: the old
// backtracking matcher took exponential time on "*a*a*a*a*a*a*b" against a
// long name of 'a's (issue 20, item 1). Runs of wildcards fold first ("%*"
// and "*%" match what '*' matches, "%%" what '%' matches), which bounds the
// states; names longer than imap::kMaxMailboxName (never a mailbox) do not
// match.
bool match_pattern(std::string_view pattern, std::string_view name) {
    if (name.size() > imap::kMaxMailboxName) return false;
    char p[kMaxFolded];
    std::size_t m = 0;
    std::size_t literals = 0;
    for (const char c : pattern) {
        if (wildcard(c) && m > 0 && wildcard(p[m - 1])) {
            if (c == '*') p[m - 1] = '*';
            continue;
        }
        if (!wildcard(c) && ++literals > name.size()) return false;
        p[m++] = c;  // m <= 2 * literals + 1 <= kMaxFolded
    }
    bool a[kMaxFolded + 1] = {};
    bool b[kMaxFolded + 1];
    bool* live = a;
    bool* next = b;
    live[0] = true;
    close_over_wildcards(p, m, live);
    for (const char c : name) {
        std::memset(next, 0, m + 1);
        bool any = false;
        for (std::size_t j = 0; j < m; ++j) {
            if (!live[j]) continue;
            const char q = p[j];
            if (q == '*' || (q == '%' && c != imap::kHierarchyDelimiter)) {
                next[j] = any = true;
            } else if (!wildcard(q) && q == c) {
                next[j + 1] = any = true;
            }
        }
        if (!any) return false;
        close_over_wildcards(p, m, next);
        bool* t = live;
        live = next;
        next = t;
    }
    return live[m];
}

}  // namespace tinyimapd::store
