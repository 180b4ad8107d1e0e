#include "core/mime/message_id.h"

namespace tinyimapd::mime {
namespace {

struct IdWriter {
    char* out;
    std::size_t len = 0;
    bool overflow = false;
    void put(char c) {
        if (len == kMessageIdMax) {
            overflow = true;
            return;
        }
        out[len++] = c;
    }
};

// A comment "(...)" (nested, with quoted-pairs) at s[i]; returns the index
// after it, or npos when it does not close.
std::size_t skip_comment(std::string_view s, std::size_t i) {
    int depth = 0;
    for (; i < s.size(); ++i) {
        if (s[i] == '\\') {
            ++i;
        } else if (s[i] == '(') {
            ++depth;
        } else if (s[i] == ')' && --depth == 0) {
            return i + 1;
        }
    }
    return std::string_view::npos;
}

// A quoted string or domain literal at s[i] closed by `close`; its content
// (quoted-pairs undone; a literal keeps its brackets) goes to `w`. Returns
// the index after it, or npos.
std::size_t copy_quoted(std::string_view s, std::size_t i, char close, IdWriter& w) {
    const bool literal = close == ']';
    if (literal) w.put('[');
    for (++i; i < s.size(); ++i) {
        char c = s[i];
        if (c == '\\' && i + 1 < s.size()) {
            c = s[++i];
        } else if (c == close) {
            if (literal) w.put(']');
            return i + 1;
        } else if (c == '\r' || c == '\n' || (c == '[' && literal)) {
            continue;
        }
        w.put(c);
    }
    return std::string_view::npos;
}

// Tokenises the ID that starts after the "<" at s[i]. Returns the index of
// its ">", or npos when the text does not parse as id-left "@" id-right.
std::size_t parse_id(std::string_view s, std::size_t i, IdWriter& w) {
    int ats = 0;
    std::size_t at = 0;  // where the "@" was written
    bool gap = false;    // blanks or a comment since the last token
    while (i < s.size()) {
        const char c = s[i];
        if (c == '>') {
            const bool sides = at > 0 && at + 1 < w.len;
            return ats == 1 && sides && !w.overflow ? i : std::string_view::npos;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '(') {
            i = c == '(' ? skip_comment(s, i) : i + 1;
            gap = true;
            if (i == std::string_view::npos) return i;
            continue;
        }
        if (c == '<') return std::string_view::npos;
        // Two words with only blanks between them are not one ID ("a b@c").
        const bool joins = c == '.' || c == '@' || w.len == 0 || w.out[w.len - 1] == '.' ||
                           w.out[w.len - 1] == '@';
        if (gap && !joins) return std::string_view::npos;
        gap = false;
        if (c == '"' || c == '[') {
            i = copy_quoted(s, i, c == '"' ? '"' : ']', w);
            if (i == std::string_view::npos) return i;
            continue;
        }
        if (c == '@' && ats++ == 0) at = w.len;
        w.put(c);
        ++i;
    }
    return std::string_view::npos;
}

}  // namespace

bool MessageIdIterator::next(char (&out)[kMessageIdMax], std::size_t* len) {
    while (pos_ < s_.size()) {
        const std::size_t open = s_.find('<', pos_);
        if (open == std::string_view::npos) break;
        IdWriter w{out};
        const std::size_t close = parse_id(s_, open + 1, w);
        if (close != std::string_view::npos) {
            pos_ = close + 1;
            *len = w.len;
            return true;
        }
        // Dovecot's fallback: "<...>" with an "@" and no blank, as written.
        const std::size_t end = s_.find('>', open + 1);
        if (end == std::string_view::npos) break;
        const std::string_view raw = s_.substr(open + 1, end - open - 1);
        pos_ = end + 1;
        if (raw.find('@') != std::string_view::npos && raw.size() <= kMessageIdMax &&
            raw.find_first_of(" \t\r\n<") == std::string_view::npos) {
            for (std::size_t k = 0; k < raw.size(); ++k) out[k] = raw[k];
            *len = raw.size();
            return true;
        }
        pos_ = open + 1;  // a "<" inside might start a good one
    }
    pos_ = s_.size();
    return false;
}

std::size_t first_message_id(std::string_view value, char (&out)[kMessageIdMax]) {
    MessageIdIterator it(value);
    std::size_t len = 0;
    return it.next(out, &len) ? len : 0;
}

}  // namespace tinyimapd::mime
