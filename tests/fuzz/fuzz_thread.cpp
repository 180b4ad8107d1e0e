// libFuzzer target: THREAD's inputs and algorithms (RFC 5256) — base
// subject extraction, message-ID parsing and sent dates on untrusted header
// values, then REFERENCES and ORDEREDSUBJECT over the messages they give.
//
// Input: messages separated by "\n"; each is "subject\x01message-id\x01
// references\x01date" (missing fields empty). At most 64 messages. Checked
// for every input (any violation aborts):
//   - base_subject() stays within its buffer, is idempotent on plain UTF-8
//     (no encoded words, no blanks to squeeze: running it again removes
//     nothing), and never grows the subject;
//   - every message ID is non-empty, shorter than kMessageIdMax, holds "@";
//   - both algorithms answer every message exactly once, with balanced,
//     never empty parentheses, the same in 32-byte pieces as in one piece.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/imap/sent_date.h"
#include "core/imap/thread.h"
#include "core/mime/base_subject.h"
#include "core/mime/message_id.h"

using namespace tinyimapd;

namespace {

constexpr std::uint32_t kMaxMessages = 64;
constexpr std::uint32_t kIds = 512;

void check(bool ok) {
    if (!ok) std::abort();
}

std::string_view field(std::string_view& s) {
    const std::size_t end = s.find('\x01');
    const std::string_view f = s.substr(0, end);
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end + 1);
    return f;
}

std::uint64_t hash(std::string_view id) {
    std::uint64_t h = 1469598103934665603ull;
    for (unsigned char c : id) h = (h ^ c) * 1099511628211ull;
    return h;
}

struct Parsed {
    char subject[mime::kBaseSubjectMax];
    std::size_t subject_len;
    std::uint64_t id;
    std::uint64_t refs[16];
    std::size_t nrefs;
};

Parsed g_parsed[kMaxMessages];
imap::ThreadMessage g_msgs[kMaxMessages];
alignas(8) char g_area[1 << 20];
char g_whole[1 << 16], g_piece[1 << 16];

void parse_message(std::string_view m, std::uint32_t i) {
    Parsed& p = g_parsed[i];
    const std::string_view subject = field(m), id = field(m), refs = field(m), date = field(m);
    bool reply = false;
    p.subject_len = mime::base_subject(subject, p.subject, sizeof p.subject, &reply);
    check(p.subject_len <= sizeof p.subject);
    if (subject.find_first_of("=\t\r\n") == std::string_view::npos &&
        subject.find("  ") == std::string_view::npos) {
        check(p.subject_len <= subject.size());
        char again[mime::kBaseSubjectMax];
        bool reply2 = false;
        const std::size_t n2 =
            mime::base_subject({p.subject, p.subject_len}, again, sizeof again, &reply2);
        check(n2 == p.subject_len && std::memcmp(again, p.subject, n2) == 0);
    }
    char out[mime::kMessageIdMax];
    const std::size_t idn = mime::first_message_id(id, out);
    p.id = idn ? hash({out, idn}) : 0;
    mime::MessageIdIterator it(refs);
    std::size_t n = 0;
    p.nrefs = 0;
    while (it.next(out, &n)) {
        check(n > 0 && n <= mime::kMessageIdMax && std::memchr(out, '@', n) != nullptr);
        if (p.nrefs < 16) p.refs[p.nrefs++] = hash({out, n});
    }
    std::int64_t sent = 0;
    if (!imap::parse_sent_date(date, &sent)) sent = i;  // the INTERNALDATE stand-in
    g_msgs[i] = {sent, i + 1, 0, reply};
}

// Subject ranks: equal base subjects, equal ranks (bytes compared; the
// order of ranks does not matter to what is checked).
void rank_subjects(std::uint32_t count) {
    for (std::uint32_t i = 0; i < count; ++i) {
        const Parsed& p = g_parsed[i];
        g_msgs[i].subject = p.subject_len == 0 ? 0 : i + 1;
        for (std::uint32_t j = 0; j < i; ++j) {
            const Parsed& q = g_parsed[j];
            if (q.subject_len == p.subject_len &&
                std::memcmp(q.subject, p.subject, p.subject_len) == 0) {
                g_msgs[i].subject = g_msgs[j].subject;
                break;
            }
        }
    }
}

std::size_t render(imap::ThreadWork& t, char* out, std::size_t piece) {
    std::size_t used = 0;
    for (bool done = false; !done;) {
        check(sizeof g_whole - used >= piece);
        used += t.render(out + used, piece, &done);
    }
    return used;
}

void check_answer(const char* s, std::size_t n, std::uint32_t count) {
    unsigned seen[kMaxMessages + 1] = {};
    int depth = 0;
    std::uint32_t number = 0;
    for (std::size_t i = 0; i <= n; ++i) {
        const char c = i < n ? s[i] : ' ';
        if (c >= '0' && c <= '9') {
            number = number * 10 + static_cast<std::uint32_t>(c - '0');
            continue;
        }
        check(number <= count);
        if (number > 0) ++seen[number];
        number = 0;
        if (c == '(') ++depth;
        if (c == ')') check(--depth >= 0 && s[i - 1] != '(');
    }
    check(depth == 0);
    for (std::uint32_t i = 1; i <= count; ++i) check(seen[i] == 1);
}

void run(std::uint32_t count, bool references) {
    std::size_t sizes[2];
    char* outs[2] = {g_whole, g_piece};
    for (int k = 0; k < 2; ++k) {
        imap::ThreadWork t;
        check(t.init(g_area, sizeof g_area, g_msgs, count, kIds));
        if (references) {
            for (std::uint32_t i = 0; i < count; ++i) {
                t.begin_message(i, g_parsed[i].id);
                for (std::size_t r = 0; r < g_parsed[i].nrefs; ++r)
                    t.add_reference(g_parsed[i].refs[r]);
                t.end_message();
            }
            t.finish_references();
        } else {
            t.ordered_subject();
        }
        sizes[k] = render(t, outs[k], k == 0 ? 4096 : 32);
    }
    check(sizes[0] == sizes[1] && std::memcmp(g_whole, g_piece, sizes[0]) == 0);
    check_answer(g_whole, sizes[0], count);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    std::uint32_t count = 0;
    while (!in.empty() && count < kMaxMessages) {
        const std::size_t end = in.find('\n');
        parse_message(in.substr(0, end), count++);
        in = end == std::string_view::npos ? std::string_view{} : in.substr(end + 1);
    }
    rank_subjects(count);
    check(imap::ThreadWork::bytes(count, kIds) <= sizeof g_area);
    run(count, true);
    run(count, false);
    return 0;
}
