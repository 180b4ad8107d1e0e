// libFuzzer target: the LIST/LSUB wildcard matcher (core/store/name_map,
// store::match_pattern, RFC 3501 §6.3.8) — a client's pattern against
// mailbox names a client chose (issue 20, item 1: exponential backtracking).
//
// Input: byte 0 is the pattern's length (what is there of it), byte 1 how
// many times the name bytes repeat (1..64, so that short inputs reach long
// names); then the pattern, then the name bytes. Checked for every input
// (any violation aborts):
//   - on short inputs (pattern <= 12, name <= 16 bytes) the answer is the
//     old backtracking matcher's;
//   - on every input it is that of a bottom-up table over (pattern position,
//     name position), a second reference without backtracking; names longer
//     than mail::kMaxMailboxName never match;
//   - one call takes less than kSlowSeconds (a hang would be exponential).
// Buffers are static; the matcher itself allocates nothing.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/mail/mailbox_name.h"
#include "core/store/name_map.h"
#include "tests/fuzz/pattern_reference.h"

namespace {

constexpr std::size_t kMaxPattern = 1024;
constexpr std::size_t kMaxName = tinyimapd::mail::kMaxMailboxName + 8;
constexpr double kSlowSeconds = 1.0;

char g_name[kMaxName];
bool g_table[kMaxPattern + 1][kMaxName + 1];

void check(bool ok) {
    if (!ok) std::abort();
}

// g_table[i][j]: pattern[i..] matches name[j..].
bool table(std::string_view p, std::string_view n) {
    const std::size_t pl = p.size(), nl = n.size();
    for (std::size_t i = pl + 1; i-- > 0;) {
        for (std::size_t j = nl + 1; j-- > 0;) {
            bool m = false;
            if (i == pl) {
                m = j == nl;
            } else if (p[i] == '*') {
                m = g_table[i + 1][j] || (j < nl && g_table[i][j + 1]);
            } else if (p[i] == '%') {
                m = g_table[i + 1][j] || (j < nl && n[j] != '/' && g_table[i][j + 1]);
            } else {
                m = j < nl && n[j] == p[i] && g_table[i + 1][j + 1];
            }
            g_table[i][j] = m;
        }
    }
    return g_table[0][0];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t want = data[0];
    const std::size_t repeat = 1 + data[1] % 64;
    data += 2;
    size -= 2;
    const std::size_t pl = want < size ? want : size;
    const std::string_view pattern(reinterpret_cast<const char*>(data), pl);
    const std::uint8_t* unit = data + pl;
    const std::size_t unit_size = size - pl;
    std::size_t nl = 0;
    for (std::size_t r = 0; r < repeat && unit_size != 0; ++r) {
        for (std::size_t i = 0; i < unit_size && nl < kMaxName; ++i) {
            g_name[nl++] = static_cast<char>(unit[i]);
        }
    }
    const std::string_view name(g_name, nl);

    const auto t0 = std::chrono::steady_clock::now();
    const bool got = tinyimapd::store::match_pattern(pattern, name);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    check(took < kSlowSeconds);

    if (nl > tinyimapd::mail::kMaxMailboxName) {
        check(!got);
        return 0;
    }
    if (pl <= 12 && nl <= 16) check(got == tinyimapd::test::reference_match(pattern, name));
    check(got == table(pattern, name));
    return 0;
}
