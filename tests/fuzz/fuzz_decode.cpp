// libFuzzer target: the decoders of untrusted message text — Content-
// Transfer-Encoding (core/mime/transfer_decode, RFC 2045 §6.7, §6.8), RFC
// 2047 encoded words (core/mime/encoded_word) and the decoded-text search
// walk (core/mime/text_search).
//
// Input: byte 0 picks chunk and output sizes, byte 1 a needle length; the
// rest is the data. Checked for every input (any violation aborts):
//   - decoding in chunks split anywhere, through outputs of 1..8 bytes,
//     gives exactly what one call with a large output gives;
//   - quoted-printable output is never longer than its input, base64 output
//     never more than 3/4 of it, and nothing is written past `cap`;
//   - decode_header_text into a small buffer gives a prefix of the full
//     decoding;
//   - the MIME walk ends, over the data taken as a message, for BODY and
//     TEXT, with a scratch buffer of the minimum size and a large one.
// All buffers are static; nothing is allocated.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/mime/encoded_word.h"
#include "core/mime/text_search.h"
#include "core/mime/transfer_decode.h"

using namespace tinyimapd::mime;
using tinyimapd::MemorySource;

namespace {

char g_whole[1 << 16];
char g_split[1 << 16];
char g_small[64];
char g_scratch[16384];
// A needle of up to 255 bytes prepared (RFC 5051 §2) into at most this much.
constexpr std::size_t kPrepared = 255 * tinyimapd::mime::UnicaseStream::kMaxOut;
char g_prepared[kPrepared];
std::uint16_t g_table[kPrepared];

void check(bool ok) {
    if (!ok) std::abort();
}

std::size_t decode_whole(TransferEncoding e, const char* in, std::size_t n) {
    TransferDecoder d(e);
    const DecodeStep s = d.decode(in, n, g_whole, sizeof g_whole);
    check(s.consumed == n);
    std::size_t len = s.produced;
    while (d.held()) len += d.finish(g_whole + len, sizeof g_whole - len);
    return len;
}

std::size_t decode_split(TransferEncoding e, const char* in, std::size_t n, unsigned seed) {
    TransferDecoder d(e);
    std::size_t pos = 0, len = 0;
    char out[9];
    while (pos < n) {
        const std::size_t chunk = 1 + (seed + pos) % 13;
        const std::size_t take = chunk < n - pos ? chunk : n - pos;
        const std::size_t cap = 1 + (seed + len) % 8;
        out[cap] = '#';
        const DecodeStep s = d.decode(in + pos, take, out, cap);
        check(out[cap] == '#');
        check(s.produced <= cap && s.consumed <= take);
        check(s.produced > 0 || s.consumed > 0);
        check(len + s.produced <= sizeof g_split);
        std::memcpy(g_split + len, out, s.produced);
        len += s.produced;
        pos += s.consumed;
    }
    for (int rounds = 0; d.held(); ++rounds) {
        check(rounds < 1000);
        const std::size_t k = d.finish(out, 1 + seed % 8);
        std::memcpy(g_split + len, out, k);
        len += k;
    }
    return len;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2 || size > 8192) return 0;
    const unsigned seed = data[0];
    const std::size_t needle_len = data[1] % 16;
    const char* in = reinterpret_cast<const char*>(data + 2);
    const std::size_t n = size - 2;

    for (TransferEncoding e : {TransferEncoding::QuotedPrintable, TransferEncoding::Base64,
                               TransferEncoding::Identity}) {
        const std::size_t whole = decode_whole(e, in, n);
        const std::size_t split = decode_split(e, in, n, seed);
        check(whole == split && std::memcmp(g_whole, g_split, whole) == 0);
        if (e == TransferEncoding::QuotedPrintable) check(whole <= n);
        if (e == TransferEncoding::Base64) check(whole <= n / 4 * 3 + 2);
    }

    const std::string_view text(in, n);
    const std::size_t full = decode_header_text(text, g_whole, sizeof g_whole);
    const std::size_t cut = decode_header_text(text, g_small, 1 + seed % sizeof g_small);
    check(cut <= full && std::memcmp(g_small, g_whole, cut) == 0);

    const std::size_t k = needle_len < n ? needle_len : n;
    TextMatcher m;
    check(m.prepare({in, k}, g_prepared, g_table, kPrepared));
    MemorySource r(std::string_view(in + k, n - k));
    for (std::size_t scratch : {kMinTextScratch, sizeof g_scratch}) {
        (void)message_text_contains(r, TextScope::Body, m, g_scratch, scratch);
        (void)message_text_contains(r, TextScope::Text, m, g_scratch, scratch);
    }
    return 0;
}
