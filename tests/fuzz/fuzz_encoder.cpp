// libFuzzer target: the response encoder and the mailbox name codecs
// (core/imap/encoder, core/mail/mailbox_name).
//
// For arbitrary bytes S:
//   - string(S) and astring(S), fed to our parser as the argument of a
//     command ("a X " + encoded + CRLF, literals accepted), parse back to S;
//   - a status line with S as its text holds exactly one CRLF, at the end;
//   - if S is valid modified UTF-7, it converts to UTF-8 and back to S, and
//     mutf7_to_utf8 succeeds exactly when validate_mutf7 does;
//   - if S converts from UTF-8 to modified UTF-7, the result is valid and
//     converts back to S;
//   - a valid store name is valid modified UTF-7;
//   - downgraded (RFC 6855 §7, ResponseWriter::downgrade): a string that is
//     8-bit UTF-8 is a quoted string of 7-bit RFC 2047 encoded words of at
//     most 75 characters, each whole UTF-8, decoding back to S (RFC 2047
//     §2, §5, §6.2); any other string is written as without downgrading.
// Any mismatch aborts. All buffers are static; nothing is allocated.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "core/base/text.h"
#include "core/imap/encoder.h"
#include "core/imap/parser.h"
#include "core/mail/mailbox_name.h"
#include "core/mime/encoded_word.h"
#include "core/mime/unicase.h"

using namespace tinyimapd;
using namespace tinyimapd::imap;
using namespace tinyimapd::mail;

namespace {

constexpr std::size_t kMaxInput = 8192;
// An encoded string: "{" digits "}" CRLF + bytes, plus the command around it.
constexpr std::size_t kLine = kMaxInput + 64;

char g_encoded[kLine];
char g_command[kLine];
char g_arena[kLine];
Arg g_args[8];
char g_utf8[kMaxInput * 2];
char g_mutf7[kMaxInput * 4];
char g_back[kMaxInput * 4];
// Encoded words: 72 characters and a SP per 45 bytes, quoted.
char g_downgraded[kMaxInput * 2 + 64];

void check(bool ok) {
    if (!ok) abort();
}

// Parses "a X <encoded>\r\n" (fed in chunks whose sizes come from `seed`)
// and checks the single argument is `expected`.
void check_parses_back(std::string_view encoded, std::string_view expected, std::uint8_t seed) {
    TextWriter cmd(g_command, sizeof g_command);
    cmd.put("a X ").put(encoded).put("\r\n");
    check(cmd.ok());
    ParserLimits limits;
    limits.max_line_length = kLine;
    limits.max_literal_size = kMaxInput;
    Parser parser(g_arena, sizeof g_arena, g_args, sizeof g_args / sizeof g_args[0], limits);
    const auto* data = reinterpret_cast<const std::uint8_t*>(cmd.view().data());
    const std::size_t size = cmd.size();
    std::size_t pos = 0;
    bool done = false;
    std::uint32_t rng = seed * 2654435761u + 1;
    while (pos < size) {
        rng = rng * 1103515245u + 12345u;
        std::size_t chunk = seed == 0 ? size - pos : 1 + (rng >> 16) % 9;
        if (chunk > size - pos) chunk = size - pos;
        const Fed fed = parser.feed(data + pos, chunk);
        check(fed.consumed <= chunk);
        pos += fed.consumed;
        switch (fed.event) {
            case ParseEvent::NeedMore: break;
            case ParseEvent::LiteralRequest: check(parser.accept_literal()); break;
            case ParseEvent::LiteralChunk:  // only after stream_literal()
            case ParseEvent::Line:          // only after expect_line()
            case ParseEvent::Error: check(false); break;
            case ParseEvent::Command:
                check(!done && pos == size);
                check(parser.arg_count() == 1);
                check(parser.arg(0).type != ArgType::List);
                check(parser.arg_text(0) == expected);
                done = true;
                break;
        }
    }
    check(done);
}

void check_strings(std::string_view s, std::uint8_t seed) {
    {
        TextWriter text(g_encoded, sizeof g_encoded);
        ResponseWriter w(text);
        w.string(s);
        check(w.ok());
        check(string_form(s) == StringForm::Literal || w.view().size() == s.size() + 2);
        check_parses_back(w.view(), s, seed);
    }
    {
        TextWriter text(g_encoded, sizeof g_encoded);
        ResponseWriter w(text);
        w.astring(s);
        check(w.ok());
        check(!is_astring_atom(s) || w.view() == s);
        check_parses_back(w.view(), s, seed);
    }
    {
        TextWriter text(g_encoded, sizeof g_encoded);
        ResponseWriter w(text);
        w.tagged("a1", "NO", "", s).continuation(s);
        check(w.ok());
        std::size_t line_ends = 0;
        const std::string_view v = w.view();
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (v[i] == '\n' || v[i] == '\r' || v[i] == '\0') {
                check(v[i] != '\0');
                if (v[i] == '\r') {
                    check(i + 1 < v.size() && v[i + 1] == '\n');
                    ++line_ends;
                    ++i;
                } else {
                    check(false);  // a bare LF
                }
            }
        }
        check(line_ends == 2 && v.size() >= 2 && v[v.size() - 1] == '\n');
    }
}

// The encoded words of `quoted` ("..." holding words separated by SP).
void check_encoded_words(std::string_view quoted, std::string_view s) {
    check(quoted.size() >= 2 && quoted.front() == '"' && quoted.back() == '"');
    const std::string_view words = quoted.substr(1, quoted.size() - 2);
    for (char c : words) check(c >= 0x20 && c < 0x7f && c != '"' && c != '\\');
    std::size_t start = 0;
    while (start < words.size()) {
        std::size_t end = words.find(' ', start);
        if (end == std::string_view::npos) end = words.size();
        const std::string_view word = words.substr(start, end - start);
        check(word.size() <= 75 && word.substr(0, 10) == "=?UTF-8?B?");
        const std::size_t n = mime::decode_header_text(word, g_back, sizeof g_back);
        check(mime::utf8_valid(std::string_view(g_back, n)));
        start = end + 1;
    }
    const std::size_t n = mime::decode_header_text(words, g_back, sizeof g_back);
    check(std::string_view(g_back, n) == s);
}

void check_downgraded(std::string_view s, std::uint8_t seed) {
    TextWriter plain(g_mutf7, sizeof g_mutf7);
    ResponseWriter p(plain);
    p.nstring(s, false);
    TextWriter text(g_downgraded, sizeof g_downgraded);
    ResponseWriter w(text);
    w.downgrade(true).nstring(s, false);
    check(w.ok() && p.ok());
    if (!mime::wants_encoded_words(s)) {
        check(w.view() == p.view());
        return;
    }
    check_encoded_words(w.view(), s);
    if (w.view().size() + 8 > kLine) return;  // longer than the parser's line
    check_parses_back(w.view(), w.view().substr(1, w.view().size() - 2), seed);
}

void check_names(std::string_view s) {
    const bool valid = validate_mutf7(s);
    TextWriter utf8(g_utf8, sizeof g_utf8);
    check(mutf7_to_utf8(s, utf8) == valid);
    if (valid) {
        TextWriter back(g_back, sizeof g_back);
        check(utf8_to_mutf7(utf8.view(), back));
        check(back.view() == s);
    }

    TextWriter mutf7(g_mutf7, sizeof g_mutf7);
    if (utf8_to_mutf7(s, mutf7)) {
        check(validate_mutf7(mutf7.view()));
        TextWriter back(g_back, sizeof g_back);
        check(mutf7_to_utf8(mutf7.view(), back));
        check(back.view() == s);
    }

    if (is_valid_mailbox_name(s)) check(valid);
    TextWriter norm(g_back, sizeof g_back);
    normalize_mailbox(s, norm);
    check(norm.ok() && norm.size() == s.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1 || size > kMaxInput) return 0;
    const std::string_view s(reinterpret_cast<const char*>(data) + 1, size - 1);
    check_strings(s, data[0]);
    check_downgraded(s, data[0]);
    check_names(s);
    return 0;
}
