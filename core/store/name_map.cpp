#include "core/store/name_map.h"

#include <cstdint>
#include <cstring>

#include "core/mail/mailbox_name.h"
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

// The most pattern bytes the matcher keeps after folding runs of wildcards:
// every kept wildcard sits next to a literal byte, and a pattern with more
// literal bytes than the name cannot match, so a name of at most
// kMaxMailboxName bytes needs at most 2 * kMaxMailboxName + 1 of them.
constexpr std::size_t kMaxFolded = 2 * mail::kMaxMailboxName + 1;
constexpr std::size_t kWords = (kMaxFolded + 1 + 63) / 64;  // states 0..m, one bit each

// The folded pattern as bit masks over its positions: which are '*', which
// '%', which literal bytes, and bit b of each literal byte (so the positions
// holding byte c are found with 8 word operations, without a 256-entry table).
struct PatternMasks {
    std::uint64_t star[kWords];
    std::uint64_t percent[kWords];
    std::uint64_t literal[kWords];
    std::uint64_t byte_bit[8][kWords];
    std::size_t words = 0;  // in use: states 0..m

    static void set(std::uint64_t* mask, std::size_t j) {
        mask[j / 64] |= std::uint64_t{1} << (j % 64);
    }
    static void clear(std::uint64_t* mask, std::size_t j) {
        mask[j / 64] &= ~(std::uint64_t{1} << (j % 64));
    }
};

// s |= s << 1, for the states after a wildcard (it matches the empty
// string). One pass: folded patterns have no two wildcards in a row.
void close_over_wildcards(const PatternMasks& pm, std::uint64_t* s) {
    std::uint64_t carry = 0;
    for (std::size_t w = 0; w < pm.words; ++w) {
        const std::uint64_t wild = s[w] & (pm.star[w] | pm.percent[w]);
        s[w] |= (wild << 1) | carry;
        carry = wild >> 63;
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
    if (!mail::is_valid_mailbox_name(name)) return Status::Invalid;
    FixedText<mail::kMaxMailboxName + 8> norm;
    mail::normalize_mailbox(name, norm);
    if (!norm.ok()) return Status::TooLong;
    out.put(root);
    std::string_view rest = norm.view();
    while (!rest.empty()) {
        std::size_t cut = rest.find(mail::kHierarchyDelimiter);
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
// delimiter, and moves j to j+1 when pattern[j] is the literal c. The states
// are bits, so one name byte costs O(len(pattern) / 64) word operations and
// a match O(len(pattern) * len(name) / 64), with no recursion and ~2 KiB of
// stack: the old backtracking matcher took exponential time on
// "*a*a*a*a*a*a*b" against a long name of 'a's (issue 20, item 1). Runs of
// wildcards fold first ("%*" and "*%" match what '*' matches, "%%" what '%'
// matches), which bounds the states; names longer than mail::kMaxMailboxName
// (never a mailbox) do not match.
bool match_pattern(std::string_view pattern, std::string_view name) {
    if (name.size() > mail::kMaxMailboxName) return false;
    PatternMasks pm{};
    std::size_t m = 0;
    std::size_t literals = 0;
    char last = '\0';
    for (const char c : pattern) {
        if (wildcard(c) && m > 0 && wildcard(last)) {
            if (c == '*' && last == '%') {
                PatternMasks::clear(pm.percent, m - 1);
                PatternMasks::set(pm.star, m - 1);
                last = '*';
            }
            continue;
        }
        if (!wildcard(c) && ++literals > name.size()) return false;
        // m <= 2 * literals + 1 <= kMaxFolded
        if (c == '*') {
            PatternMasks::set(pm.star, m);
        } else if (c == '%') {
            PatternMasks::set(pm.percent, m);
        } else {
            PatternMasks::set(pm.literal, m);
            for (unsigned b = 0; b < 8; ++b) {
                if ((static_cast<unsigned char>(c) >> b) & 1u) PatternMasks::set(pm.byte_bit[b], m);
            }
        }
        last = c;
        ++m;
    }
    pm.words = m / 64 + 1;
    std::uint64_t live[kWords] = {};
    std::uint64_t next[kWords];
    live[0] = 1;  // state 0: nothing read, nothing matched
    close_over_wildcards(pm, live);
    for (const char c : name) {
        // Literal positions holding c: bit b of their byte equals bit b of c.
        std::uint64_t same[kWords];
        std::memcpy(same, pm.literal, pm.words * sizeof same[0]);
        for (unsigned b = 0; b < 8; ++b) {
            const std::uint64_t want = ((static_cast<unsigned char>(c) >> b) & 1u) != 0 ? ~0ull : 0;
            for (std::size_t w = 0; w < pm.words; ++w) same[w] &= ~(pm.byte_bit[b][w] ^ want);
        }
        const bool crosses = c == mail::kHierarchyDelimiter;
        std::uint64_t carry = 0;
        std::uint64_t any = 0;
        for (std::size_t w = 0; w < pm.words; ++w) {
            const std::uint64_t moves = live[w] & same[w];
            const std::uint64_t stays = live[w] & (pm.star[w] | (crosses ? 0 : pm.percent[w]));
            next[w] = stays | (moves << 1) | carry;
            carry = moves >> 63;
            any |= next[w];
        }
        if (any == 0) return false;
        close_over_wildcards(pm, next);
        std::memcpy(live, next, pm.words * sizeof live[0]);
    }
    return ((live[m / 64] >> (m % 64)) & 1u) != 0;
}

}  // namespace tinyimapd::store
