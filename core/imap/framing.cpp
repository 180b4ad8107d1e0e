#include "core/imap/framing.h"

namespace tinyimapd::imap {

namespace {

// RFC 3501 §9: tag = 1*<any ASTRING-CHAR except "+">.
bool is_tag_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
    switch (c) {
        case '(':
        case ')':
        case '{':
        case '%':
        case '*':
        case '"':
        case '\\':
        case '+': return false;
        default: return true;
    }
}

bool is_status(std::string_view w, bool tagged) {
    if (w == "OK" || w == "NO" || w == "BAD") return true;
    return !tagged && (w == "BYE" || w == "PREAUTH");
}

bool all_digits(std::string_view w) {
    if (w.empty()) return false;
    for (char c : w) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// A data response's name (RFC 3501 §7.2-7.4 and extensions: FLAGS, FETCH,
// EXISTS, ESEARCH, ...): letters, then letters, digits, '-' or '.'.
bool is_response_name(std::string_view w) {
    if (w.empty()) return false;
    for (std::size_t i = 0; i < w.size(); ++i) {
        const char c = w[i];
        const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        const bool other = (c >= '0' && c <= '9') || c == '-' || c == '.';
        if (!letter && (i == 0 || !other)) return false;
    }
    return true;
}

}  // namespace

bool FramingCheck::fail(const char* why) {
    if (error_ == nullptr) error_ = why;
    return false;
}

bool FramingCheck::feed(std::string_view bytes) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        if (error_ != nullptr) return false;
        if (state_ == State::Literal) {
            const std::uint64_t left = bytes.size() - i;
            const std::uint64_t take = literal_ < left ? literal_ : left;
            literal_ -= take;
            i += static_cast<std::size_t>(take);
            if (literal_ == 0) state_ = State::Data;
            continue;
        }
        if (!byte(bytes[i])) return false;
        ++i;
    }
    return error_ == nullptr;
}

bool FramingCheck::end_line() {
    if (depth_ != 0) return fail("unbalanced parentheses or brackets at the end of a line");
    ++lines_;
    state_ = State::LineStart;
    return true;
}

// The word after "* " or "tag " ended (at SP or CR): a number (untagged
// only, once), a status, or the name of a data response.
bool FramingCheck::word_done() {
    const std::string_view w(word_, word_length_ <= kMaxWord ? word_length_ : 0);
    if (first_ == '*' && !numbered_ && all_digits(w)) {
        numbered_ = true;
        word_length_ = 0;
        return true;
    }
    if (!numbered_ && is_status(w, first_ == 't')) {
        state_ = State::CodeStart;
        return true;
    }
    if (first_ == 't') return fail("a tagged line that is not OK, NO or BAD");
    if (!is_response_name(w)) return fail("an untagged line without a response name");
    state_ = State::Data;
    return true;
}

bool FramingCheck::byte(char c) {
    if (c == '\0' && state_ != State::Literal) return fail("NUL outside a literal");
    switch (state_) {
        case State::LineStart:
            depth_ = 0;
            numbered_ = false;
            word_length_ = 0;
            if (c == '*' || c == '+') {
                first_ = c;
            } else if (is_tag_char(c)) {
                first_ = 't';
            } else {
                return fail("a line that starts with neither '*', '+' nor a tag");
            }
            state_ = State::FirstToken;
            return true;
        case State::FirstToken:
            if (c == ' ') {
                state_ = first_ == '+' ? State::Text : State::Word;
                return true;
            }
            if (c == '\r' && first_ == '+') {
                state_ = State::Cr;
                return true;
            }
            if (first_ != 't') return fail("'*' or '+' not followed by SP");
            if (!is_tag_char(c)) return fail("an invalid character in a tag");
            return true;
        case State::Word:
            if (c == ' ') {
                if (word_length_ == 0) return fail("two spaces in a row after the tag");
                return word_done();
            }
            if (c == '\r') {
                if (!word_done()) return false;
                state_ = State::Cr;
                return true;
            }
            if (c == '\n') return fail("LF without CR");
            if (word_length_ < kMaxWord) word_[word_length_] = c;
            ++word_length_;
            return true;
        case State::CodeStart:
            if (c == '[') {
                state_ = State::Code;
                return true;
            }
            if (c == '\r') {
                state_ = State::Cr;
                return true;
            }
            if (c == '\n') return fail("LF without CR");
            state_ = State::Text;
            return true;
        case State::Code:
            if (c == '\r' || c == '\n') return fail("a response code not closed on its line");
            if (c == '(') {
                if (depth_ == kMaxDepth) return fail("nesting too deep");
                stack_[depth_++] = '(';
            } else if (c == ')') {
                if (depth_ == 0) return fail("')' without '(' in a response code");
                --depth_;
            } else if (c == ']' && depth_ == 0) {
                state_ = State::Text;
            }
            return true;
        case State::Text:
            if (c == '\r') state_ = State::Cr;
            if (c == '\n') return fail("LF without CR");
            return true;
        case State::Data:
            switch (c) {
                case '(':
                case '[':
                    if (depth_ == kMaxDepth) return fail("nesting too deep");
                    stack_[depth_++] = c;
                    return true;
                case ')':
                    if (depth_ == 0 || stack_[depth_ - 1] != '(') {
                        return fail("')' without a matching '('");
                    }
                    --depth_;
                    return true;
                case ']':
                    // "]" is also an ASTRING-CHAR (RFC 3501 §9): only one that
                    // closes a "[" counts.
                    if (depth_ != 0 && stack_[depth_ - 1] == '[') --depth_;
                    return true;
                case '"': state_ = State::Quoted; return true;
                case '{':
                    state_ = State::LiteralSize;
                    literal_ = 0;
                    literal_digits_ = 0;
                    literal_plus_ = false;
                    return true;
                case '\r': state_ = State::Cr; return true;
                case '\n': return fail("LF without CR");
                default: return true;
            }
        case State::Quoted:
            if (c == '"') state_ = State::Data;
            if (c == '\\') state_ = State::QuotedEscape;
            if (c == '\r' || c == '\n') return fail("CR or LF inside a quoted string");
            return true;
        case State::QuotedEscape:
            if (c != '"' && c != '\\') return fail("an escape other than \\\" or \\\\ in a quoted");
            state_ = State::Quoted;
            return true;
        case State::LiteralSize:
            if (c >= '0' && c <= '9' && !literal_plus_) {
                if (++literal_digits_ > 19) return fail("a literal size too large");
                literal_ = literal_ * 10 + static_cast<std::uint64_t>(c - '0');
                return true;
            }
            if (c == '+' && literal_digits_ > 0 && !literal_plus_) {
                literal_plus_ = true;
                return true;
            }
            if (c == '}' && literal_digits_ > 0) {
                state_ = State::LiteralEnd;
                return true;
            }
            return fail("'{' that does not announce a literal");
        case State::LiteralEnd:
            if (c != '\r') return fail("a literal announcement not at the end of its line");
            state_ = State::LiteralLf;
            return true;
        case State::LiteralLf:
            if (c != '\n') return fail("CR without LF");
            state_ = literal_ == 0 ? State::Data : State::Literal;
            return true;
        case State::Literal: return true;  // handled in feed()
        case State::Cr:
            if (c != '\n') return fail("CR without LF");
            return end_line();
    }
    return true;
}

}  // namespace tinyimapd::imap
