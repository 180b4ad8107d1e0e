// libFuzzer target: the message parser (core/mime) on arbitrary bytes taken
// as a stored message.
//
// For every input: ENVELOPE, BODY and BODYSTRUCTURE are written (with the
// smallest scratch buffer, to stress header truncation, and with a large
// one) and must be syntactically balanced: parentheses match outside quoted
// strings and literals, quoted strings are closed, literal counts fit.
// find_section for a set of sections (chosen partly by the first byte) must
// give ranges inside the message, and SectionFinder run in steps of a small
// budget (from the input) the same answer; a HEADER.FIELDS filter must
// deliver exactly the size it announced. The resumable StructureWriter, drained in
// small pieces with a small budget per step, must give the same bytes as
// the answer written at once. The PREVIEW text (RFC 8970 §3.3, TextWalk
// with PreviewText) walked whole and in steps of the small budget must be
// the same, valid UTF-8 of at most 200 characters without control
// characters, leading, trailing or double spaces, and its encoded string
// well-formed. The downgraded answers of a session without UTF-8 (RFC 6855
// §7: encoded words, RFC 6858 §2.1 placeholders) are balanced too, the same
// in pieces as at once, and those of a 7-bit message are the plain
// answers byte for byte. Any violation aborts. All buffers are static; nothing is
// allocated.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/base/text.h"
#include "core/imap/bodystructure.h"
#include "core/imap/encoder.h"
#include "core/imap/envelope.h"
#include "core/imap/fetch_spec.h"
#include "core/imap/section.h"
#include "core/mime/preview.h"

using namespace tinyimapd;
using namespace tinyimapd::mime;
using namespace tinyimapd::imap;

namespace {

char g_scratch[16384];
char g_out[1 << 20];
char g_out2[1 << 20];
char g_out3[1 << 20];
char g_window[kMinScratch];

void check(bool ok) {
    if (!ok) std::abort();
}

// Parentheses balanced outside strings; strings and literals well-formed.
bool balanced(std::string_view s) {
    long depth = 0;
    std::size_t i = 0;
    while (i < s.size()) {
        char c = s[i];
        if (c == '"') {
            ++i;
            while (i < s.size() && s[i] != '"') {
                char q = s[i];
                if (q == '\r' || q == '\n' || static_cast<unsigned char>(q) >= 0x80) return false;
                if (q == '\\') ++i;
                ++i;
            }
            if (i >= s.size()) return false;
            ++i;
        } else if (c == '{') {
            std::uint64_t n = 0;
            ++i;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9') n = n * 10 + (s[i++] - '0');
            if (i + 3 > s.size() || s[i] != '}' || s[i + 1] != '\r' || s[i + 2] != '\n') {
                return false;
            }
            i += 3;
            if (n > s.size() - i) return false;
            i += n;
        } else {
            if (c == '(') ++depth;
            if (c == ')' && --depth < 0) return false;
            if (c == '\r' || c == '\n') return false;
            ++i;
        }
    }
    return depth == 0;
}

enum class What { Envelope, Body, BodyStructure };

// The answer written by StructureWriter in pieces (an output of `window`
// bytes drained after every step, `budget` message bytes per step) must be
// the answer written at once.
void check_resumable(MemorySource& r, What what, std::size_t scratch, std::string_view whole,
                     std::size_t window, std::uint64_t budget, bool rfc2231 = false,
                     bool downgrade = false) {
    StructureWriter sw;
    sw.start(what == What::Envelope ? StructureItem::Envelope
             : what == What::Body   ? StructureItem::Body
                                    : StructureItem::BodyStructure,
             0, rfc2231, downgrade);
    std::size_t got = 0;
    for (std::size_t rounds = 0;; ++rounds) {
        check(rounds < (1u << 24));
        TextWriter piece(g_out2 + got, window < sizeof g_out2 - got ? window : sizeof g_out2 - got);
        const StructureWriter::Progress p = sw.step(r, g_scratch, scratch, piece, budget);
        got += piece.size();
        check(sw.delivered() == got);
        if (p == StructureWriter::Progress::Done) break;
        if (got == sizeof g_out2) return;  // longer than the check buffer
    }
    check(std::string_view(g_out2, got) == whole);
}

// RFC 6855 §7: the answer of a session without UTF-8.
void check_downgraded(MemorySource& r, What what, std::size_t scratch, std::string_view plain,
                      std::size_t window, std::uint64_t budget, bool seven_bit) {
    TextWriter tw(g_out3, sizeof g_out3);
    imap::ResponseWriter w(tw);
    w.downgrade(true);
    bool ok = false;
    switch (what) {
        case What::Envelope: ok = write_envelope(r, g_scratch, scratch, w); break;
        case What::Body: ok = write_bodystructure(r, g_scratch, scratch, false, tw, true); break;
        case What::BodyStructure:
            ok = write_bodystructure(r, g_scratch, scratch, true, tw, true);
            break;
    }
    check(ok);
    if (!tw.ok()) return;  // longer than the check buffer
    check(balanced(tw.view()));
    if (seven_bit) check(tw.view() == plain);
    check_resumable(r, what, scratch, tw.view(), window, budget, false, true);
}

void check_output(MemorySource& r, What what, std::size_t scratch, std::size_t window,
                  std::uint64_t budget) {
    TextWriter tw(g_out, sizeof g_out);
    imap::ResponseWriter w(tw);
    bool ok = false;
    switch (what) {
        case What::Envelope: ok = write_envelope(r, g_scratch, scratch, w); break;
        case What::Body: ok = write_bodystructure(r, g_scratch, scratch, false, tw); break;
        case What::BodyStructure: ok = write_bodystructure(r, g_scratch, scratch, true, tw); break;
    }
    check(ok);
    if (tw.ok()) {
        check(balanced(tw.view()));
        check_resumable(r, what, scratch, tw.view(), window, budget);
        char probe[4096];
        bool seven_bit = true;
        for (std::uint64_t at = 0; at < r.size() && seven_bit;) {
            const std::size_t got = r.read(at, probe, sizeof probe);
            check(got > 0);
            for (std::size_t i = 0; i < got; ++i) {
                if (static_cast<unsigned char>(probe[i]) >= 0x80) seven_bit = false;
            }
            at += got;
        }
        check_downgraded(r, what, scratch, tw.view(), window, budget, seven_bit);
    }
    if (what == What::Envelope) return;
    // RFC 9051 §7.5.2 (an IMAP4rev2 session's answer, RFC 2231 parameters
    // joined): balanced too, and the same in pieces as at once.
    StructureWriter sw;
    sw.start(what == What::Body ? StructureItem::Body : StructureItem::BodyStructure, 0, true);
    TextWriter joined(g_out3, sizeof g_out3);
    StructureWriter::Progress p = StructureWriter::Progress::Budget;
    for (std::size_t rounds = 0; p != StructureWriter::Progress::Done; ++rounds) {
        check(rounds < (1u << 24));
        p = sw.step(r, g_scratch, scratch, joined, UINT64_MAX);
        if (p == StructureWriter::Progress::Full) return;  // longer than the check buffer
    }
    check(balanced(joined.view()));
    check_resumable(r, what, scratch, joined.view(), window, budget, true);
}

const char* const kSections[] = {
    "BODY[]",
    "BODY[HEADER]",
    "BODY[TEXT]",
    "BODY[1]",
    "BODY[2]",
    "BODY[1.MIME]",
    "BODY[1.1]",
    "BODY[2.1.HEADER]",
    "BODY[1.2.3]",
    "BODY[1.TEXT]",
    "BODY[HEADER.FIELDS (From Subject)]",
    "BODY[HEADER.FIELDS.NOT (To)]",
    "BODY[1.HEADER.FIELDS (Content-Type)]",
    "BODY[2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2.2]",
};

// The lookup in steps of `budget` bytes gives the one-shot answer.
void check_stepwise(MemorySource& r, const imap::SectionSpec& section, std::size_t scratch,
                    std::uint64_t budget, bool found, const SectionRange& range) {
    SectionFinder f;
    f.start(section);
    SectionRange got;
    for (std::size_t rounds = 0;; ++rounds) {
        check(rounds < (1u << 24));
        const SectionFinder::Progress p = f.step(r, g_scratch, scratch, budget, &got);
        if (p == SectionFinder::Progress::Budget) continue;
        check((p == SectionFinder::Progress::Found) == found);
        if (found) {
            check(got.offset == range.offset && got.length == range.length &&
                  got.filtered == range.filtered);
        }
        return;
    }
}

void check_section(MemorySource& r, const char* att, std::uint64_t budget) {
    imap::FetchItem item;
    const char* why = nullptr;
    check(imap::parse_fetch_att(att, &item, &why));
    SectionRange range;
    bool found = find_section(r, item.section, g_scratch, kMinScratch, &range);
    check_stepwise(r, item.section, kMinScratch, budget, found, range);
    found = find_section(r, item.section, g_scratch, sizeof g_scratch, &range);
    check_stepwise(r, item.section, sizeof g_scratch, budget, found, range);
    if (!found) return;
    check(range.offset <= r.size() && range.length <= r.size() - range.offset);
    if (!range.filtered) return;
    HeaderFieldsFilter f(r, range, item.section, g_window, sizeof g_window);
    std::uint64_t size = f.total_size();
    check(size >= 2 && size <= range.length + 2);
    std::uint64_t got = 0;
    char chunk[997];
    for (;;) {
        std::size_t k = f.read(got, chunk, sizeof chunk);
        if (k == 0) break;
        got += k;
    }
    check(got == size);
}

}  // namespace

TextWalk g_walk;
PreviewText g_preview, g_preview2;

void preview_of(MemorySource& r, PreviewText& p, std::uint64_t budget) {
    p.reset();
    g_walk.start(TextScope::Preview, r.size());
    for (;;) {
        std::uint64_t b = budget;
        if (g_walk.step(r, p, g_scratch, sizeof g_scratch, &b) != WalkStep::More) return;
    }
}

void check_preview(MemorySource& r, std::uint64_t budget) {
    preview_of(r, g_preview, UINT64_MAX);
    preview_of(r, g_preview2, budget);
    const std::string_view t = g_preview.text();
    check(t == g_preview2.text());
    check(t.size() <= PreviewText::kMaxBytes);
    check(t.empty() || (t.front() != ' ' && t.back() != ' '));
    std::size_t chars = 0;
    for (std::size_t i = 0; i < t.size();) {
        const auto c = static_cast<unsigned char>(t[i]);
        check(c > 0x20 || (c == ' ' && t[i + 1] != ' '));
        check(c != 0x7f && (c < 0x80 || (c >= 0xC2 && c <= 0xF4)));
        const std::size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        check(i + n <= t.size());
        for (std::size_t k = 1; k < n; ++k) {
            check((static_cast<unsigned char>(t[i + k]) & 0xC0) == 0x80);
        }
        i += n;
        ++chars;
    }
    check(chars <= PreviewText::kMaxChars && chars == g_preview.chars());
    FixedText<PreviewText::kMaxBytes + 64> w;
    ResponseWriter rw(w);
    rw.string(t);
    check(w.ok() && balanced(w.view()));
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view msg(reinterpret_cast<const char*>(data), size);
    MemorySource r(msg);
    // The resumable writer's output window and budget, from the input.
    const std::size_t window = size > 1 ? 1 + data[1] % 97 : 16;
    const std::uint64_t budget = size > 2 ? 1 + data[2] % 251 : 64;
    for (std::size_t scratch : {kMinScratch, sizeof g_scratch}) {
        check_output(r, What::Envelope, scratch, window, budget);
        check_output(r, What::Body, scratch, window, budget);
        check_output(r, What::BodyStructure, scratch, window, budget);
    }
    std::size_t n = sizeof kSections / sizeof kSections[0];
    std::size_t pick = size > 0 ? data[0] % n : 0;
    check_section(r, kSections[pick], budget);
    check_section(r, kSections[(pick + 3) % n], budget);
    check_section(r, kSections[10], budget);
    check_preview(r, budget);
    return 0;
}
