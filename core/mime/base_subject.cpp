#include "core/mime/base_subject.h"

#include "core/base/text.h"
#include "core/mime/encoded_word.h"

namespace tinyimapd::mime {
namespace {

// Whether `s` starts with `lit` (lower-case ASCII), in any case.
bool starts_with_ci(std::string_view s, std::string_view lit) {
    return s.size() >= lit.size() && ascii::iequals(s.substr(0, lit.size()), lit);
}

std::size_t skip_blanks(std::string_view s, std::size_t i) {
    while (i < s.size() && s[i] == ' ') ++i;
    return i;
}

// subj-blob = "[" *BLOBCHAR "]" *WSP: its length at the start of `s`, or 0.
std::size_t blob_len(std::string_view s) {
    if (s.empty() || s[0] != '[') return 0;
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i] == '[') return 0;
        if (s[i] == ']') return skip_blanks(s, i + 1);
    }
    return 0;
}

// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
std::size_t refwd_len(std::string_view s) {
    std::size_t i;
    if (starts_with_ci(s, "re")) {
        i = 2;
    } else if (starts_with_ci(s, "fw")) {
        i = starts_with_ci(s.substr(2), "d") ? 3 : 2;
    } else {
        return 0;
    }
    i = skip_blanks(s, i);
    i += blob_len(s.substr(i));
    return i < s.size() && s[i] == ':' ? i + 1 : 0;
}

// subj-leader = (*subj-blob subj-refwd) / WSP: its length, or 0. `refwd`
// is set when the leader is a subj-refwd.
std::size_t leader_len(std::string_view s, bool* refwd) {
    if (!s.empty() && s[0] == ' ') return 1;
    std::size_t i = 0;
    for (std::size_t b; (b = blob_len(s.substr(i))) > 0;) i += b;
    const std::size_t r = refwd_len(s.substr(i));
    if (r == 0) return 0;
    *refwd = true;
    return i + r;
}

// Step (1)'s blanks: tabs, CR and LF become spaces, runs become one space.
std::size_t squeeze_blanks(char* text, std::size_t n) {
    std::size_t w = 0;
    for (std::size_t r = 0; r < n; ++r) {
        char c = text[r];
        if (c == '\t' || c == '\r' || c == '\n') c = ' ';
        if (c == ' ' && w > 0 && text[w - 1] == ' ') continue;
        text[w++] = c;
    }
    return w;
}

// A cut at `cap` must not leave half a UTF-8 character at the end.
std::size_t utf8_boundary(const char* text, std::size_t n) {
    std::size_t i = n;
    while (i > 0 && (static_cast<unsigned char>(text[i - 1]) & 0xC0) == 0x80) --i;
    if (i == 0) return n;
    const auto lead = static_cast<unsigned char>(text[i - 1]);
    const std::size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return n - (i - 1) >= want ? n : i - 1;
}

// Steps (2) to (5) on `s`; returns what is left.
std::string_view strip_artifacts(std::string_view s, bool* reply) {
    for (;;) {  // (2): subj-trailer = "(fwd)" / WSP
        if (!s.empty() && s.back() == ' ') {
            s.remove_suffix(1);
        } else if (s.size() >= 5 && ascii::iequals(s.substr(s.size() - 5), "(fwd)")) {
            s.remove_suffix(5);
            *reply = true;
        } else {
            break;
        }
    }
    for (bool changed = true; changed;) {  // (5): repeat (3) and (4)
        changed = false;
        for (std::size_t l; (l = leader_len(s, reply)) > 0;) {  // (3)
            s.remove_prefix(l);
            changed = true;
        }
        const std::size_t b = blob_len(s);  // (4): only if a subj-base remains
        if (b > 0 && b < s.size()) {
            s.remove_prefix(b);
            changed = true;
        }
    }
    return s;
}

}  // namespace

std::size_t base_subject(std::string_view subject, char* out, std::size_t cap,
                         bool* reply_or_forward) {
    bool reply = false;
    std::size_t n = decode_header_text(subject, out, cap);
    if (n == cap) n = utf8_boundary(out, n);
    n = squeeze_blanks(out, n);
    std::string_view s = strip_artifacts({out, n}, &reply);
    // (6): subj-fwd-hdr "[fwd:" ... subj-fwd-trl "]" around everything.
    while (s.size() >= 6 && starts_with_ci(s, "[fwd:") && s.back() == ']') {
        s = strip_artifacts(s.substr(5, s.size() - 6), &reply);
        reply = true;
    }
    for (std::size_t i = 0; i < s.size(); ++i) out[i] = s[i];  // moves left only
    if (reply_or_forward) *reply_or_forward = reply;
    return s.size();
}

}  // namespace tinyimapd::mime
