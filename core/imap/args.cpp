#include "core/imap/args.h"

#include "core/base/text.h"

namespace tinyimapd::imap {

bool is_astring_char(char c) {
    return c == ']' || is_atom_char(c);
}

bool is_tag_char(char c) {
    return c != '+' && is_astring_char(c);
}

bool parse_number(std::string_view s, std::uint32_t* out) {
    std::uint64_t v = 0;
    if (s.empty() || s.size() > 10 || !ascii::parse_uint(s, &v) || v > 0xffffffffu) return false;
    *out = static_cast<std::uint32_t>(v);
    return true;
}

bool parse_number64(std::string_view s, std::uint64_t* out) {
    std::uint64_t v = 0;
    if (s.empty() || s.size() > 19 || !ascii::parse_uint(s, &v) || v > 0x7fffffffffffffffu) {
        return false;
    }
    *out = v;
    return true;
}

std::size_t ArgReader::remaining() const {
    std::size_t n = 0;
    for (std::uint32_t p = pos_; p < end_; p = parser_->arg(p).end) ++n;
    return n;
}

bool ArgReader::peek_type(ArgType* type) const {
    const Arg* a = next();
    if (a == nullptr) return false;
    *type = a->type;
    return true;
}

std::string_view ArgReader::peek_text() const {
    const Arg* a = next();
    if (a == nullptr || a->type == ArgType::List) return {};
    return parser_->arg_text(pos_);
}

bool ArgReader::peek_word(std::string_view w) const {
    const Arg* a = next();
    return a != nullptr && a->type == ArgType::Atom && ascii::iequals(parser_->arg_text(pos_), w);
}

bool ArgReader::atom(std::string_view* out) {
    const Arg* a = next();
    if (a == nullptr || a->type != ArgType::Atom) return false;
    *out = parser_->arg_text(pos_);
    advance();
    return true;
}

bool ArgReader::word(std::string_view w) {
    if (!peek_word(w)) return false;
    advance();
    return true;
}

bool ArgReader::number(std::uint32_t* out) {
    const Arg* a = next();
    if (a == nullptr || a->type != ArgType::Atom || !parse_number(parser_->arg_text(pos_), out)) {
        return false;
    }
    advance();
    return true;
}

bool ArgReader::nz_number(std::uint32_t* out) {
    std::uint32_t v = 0;
    const std::uint32_t saved = pos_;
    if (!number(&v)) return false;
    if (v == 0) {
        pos_ = saved;
        return false;
    }
    *out = v;
    return true;
}

bool ArgReader::number64(std::uint64_t* out) {
    const Arg* a = next();
    if (a == nullptr || a->type != ArgType::Atom || !parse_number64(parser_->arg_text(pos_), out)) {
        return false;
    }
    advance();
    return true;
}

bool ArgReader::string(std::string_view* out) {
    const Arg* a = next();
    if (a == nullptr || (a->type != ArgType::Quoted && a->type != ArgType::Literal)) return false;
    *out = parser_->arg_text(pos_);
    advance();
    return true;
}

bool ArgReader::quoted(std::string_view* out) {
    const Arg* a = next();
    if (a == nullptr || a->type != ArgType::Quoted) return false;
    *out = parser_->arg_text(pos_);
    advance();
    return true;
}

bool ArgReader::astring(std::string_view* out) {
    const Arg* a = next();
    if (a == nullptr) return false;
    if (a->type == ArgType::Atom) {
        const std::string_view t = parser_->arg_text(pos_);
        for (char c : t) {
            if (!is_astring_char(c)) return false;
        }
        *out = t;
        advance();
        return true;
    }
    return string(out);
}

bool ArgReader::nstring(std::string_view* out, bool* is_nil) {
    if (word("NIL")) {
        *out = {};
        *is_nil = true;
        return true;
    }
    *is_nil = false;
    return string(out);
}

bool ArgReader::list(ArgReader* inner) {
    const Arg* a = next();
    if (a == nullptr || a->type != ArgType::List) return false;
    *inner = ArgReader(*parser_, pos_ + 1, a->end);
    advance();
    return true;
}

bool ArgReader::skip() {
    if (at_end()) return false;
    advance();
    return true;
}

}  // namespace tinyimapd::imap
