#include "core/mime/preview.h"

#include "core/base/text.h"
#include "core/mime/unicase.h"

namespace tinyimapd::mime {
namespace {

struct NamedEntity {
    std::string_view name;
    std::uint32_t cp;
};
// The character references mail HTML uses most (HTML 4.01 §24.4, §24.2).
constexpr NamedEntity kEntities[] = {
    {"amp", '&'},       {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
    {"apos", '\''},     {"nbsp", 0xA0},    {"copy", 0xA9},    {"reg", 0xAE},
    {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"euro", 0x20AC},
};

// Elements whose content is not text of the message (skipped whole).
constexpr std::string_view kSkipped[] = {"head", "title", "script", "style"};
// Elements that separate text the way a line break does.
constexpr std::string_view kBlocks[] = {"br", "p",  "div",   "li",         "tr",  "td", "th",
                                        "h1", "h2", "h3",    "h4",         "h5",  "h6", "hr",
                                        "ul", "ol", "table", "blockquote", "pre", "dd", "dt"};

bool is_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

constexpr std::uint32_t kReplacement = 0xFFFD;

bool valid_scalar(std::uint32_t cp) {
    return cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
}

}  // namespace

void PreviewText::reset() {
    *this = PreviewText{};
}

// A new leaf: the preview takes the text of one part (the first that has
// any), so a leaf after text ends it.
void PreviewText::begin_text(bool html) {
    if (len_ > 0) {
        ended_ = true;
        return;
    }
    html_ = html;
    state_ = Html::Text;
    skip_len_ = 0;
    need_ = 0;
    space_ = false;
}

void PreviewText::write(const char* data, std::size_t n) {
    for (std::size_t i = 0; i < n && !satisfied(); ++i) {
        const auto c = static_cast<unsigned char>(data[i]);
        if (html_) {
            html_byte(c);
        } else {
            utf8_byte(c);
        }
    }
}

void PreviewText::html_byte(unsigned char c) {
    switch (state_) {
        case Html::Text:
        case Html::Skip:
            if (c == '<') {
                tag_len_ = 0;
                tag_named_ = tag_closing_ = false;
                // Html::Skip is remembered in skip_len_ while the tag is read.
                state_ = Html::Tag;
            } else if (state_ == Html::Text && c == '&') {
                entity_len_ = 0;
                state_ = Html::Entity;
            } else if (state_ == Html::Text) {
                utf8_byte(c);
            }
            return;
        case Html::Tag:
            if (c == '<' && skip_len_ > 0) {
                // Script text ("a<b"): only an end tag can close the element.
                tag_len_ = 0;
                tag_named_ = tag_closing_ = false;
            } else if (c == '>') {
                end_tag();
            } else if (!tag_named_) {
                if (tag_len_ == 0 && c == '/' && !tag_closing_) {
                    tag_closing_ = true;
                } else if (is_alnum(c)) {
                    if (tag_len_ < sizeof tag_)
                        tag_[tag_len_] = ascii::to_lower(static_cast<char>(c));
                    if (tag_len_ < UINT8_MAX) ++tag_len_;
                } else {
                    tag_named_ = true;
                }
            }
            return;
        case Html::Entity:
            if (c == ';') {
                end_entity(true);
            } else if ((is_alnum(c) || (c == '#' && entity_len_ == 0)) &&
                       entity_len_ < sizeof entity_) {
                entity_[entity_len_++] = static_cast<char>(c);
            } else {
                end_entity(false);
                html_byte(c);
            }
            return;
    }
}

void PreviewText::end_tag() {
    const std::string_view name =
        tag_len_ <= sizeof tag_ ? std::string_view(tag_, tag_len_) : std::string_view();
    if (skip_len_ > 0) {
        // Inside a skipped element: only its end tag matters.
        if (tag_closing_ && name == std::string_view(skip_, skip_len_)) {
            skip_len_ = 0;
            state_ = Html::Text;
            separator();
        } else {
            state_ = Html::Skip;
        }
        return;
    }
    state_ = Html::Text;
    if (!tag_closing_) {
        for (std::string_view s : kSkipped) {
            if (name == s) {
                for (std::size_t i = 0; i < s.size(); ++i) skip_[i] = s[i];
                skip_len_ = static_cast<std::uint8_t>(s.size());
                state_ = Html::Skip;
                return;
            }
        }
    }
    for (std::string_view b : kBlocks) {
        if (name == b) separator();
    }
}

void PreviewText::end_entity(bool terminated) {
    state_ = Html::Text;
    const std::string_view e(entity_, entity_len_);
    std::uint32_t cp = 0;
    bool known = false;
    if (e.size() >= 2 && e[0] == '#') {
        const bool hex = e[1] == 'x' || e[1] == 'X';
        std::uint64_t v = 0;
        bool digits = e.size() > (hex ? 2u : 1u);
        for (std::size_t i = hex ? 2 : 1; i < e.size() && digits; ++i) {
            const char c = e[i];
            int d = -1;
            if (c >= '0' && c <= '9') d = c - '0';
            if (hex && c >= 'a' && c <= 'f') d = c - 'a' + 10;
            if (hex && c >= 'A' && c <= 'F') d = c - 'A' + 10;
            if (d < 0) digits = false;
            v = v * (hex ? 16 : 10) + static_cast<std::uint64_t>(d < 0 ? 0 : d);
            if (v > 0x10FFFF) v = 0x110000;
        }
        known = digits && terminated;
        cp = known && valid_scalar(static_cast<std::uint32_t>(v)) && v != 0
                 ? static_cast<std::uint32_t>(v)
                 : kReplacement;
    } else if (terminated) {
        for (const NamedEntity& n : kEntities) {
            if (e == n.name) {
                cp = n.cp;
                known = true;
            }
        }
    }
    if (known) {
        code_point(cp);
        return;
    }
    // Not a reference we know: the text as written.
    utf8_byte('&');
    for (char c : e) utf8_byte(static_cast<unsigned char>(c));
    if (terminated) utf8_byte(';');
}

void PreviewText::utf8_byte(unsigned char c) {
    if (need_ > 0) {
        if ((c & 0xC0) == 0x80) {
            cp_ = (cp_ << 6) | (c & 0x3F);
            if (--need_ == 0) code_point(cp_ >= min_ && valid_scalar(cp_) ? cp_ : kReplacement);
            return;
        }
        need_ = 0;
        code_point(kReplacement);  // a sequence cut short; c starts afresh
    }
    if (c < 0x80) {
        code_point(c);
    } else if (c >= 0xC2 && c <= 0xDF) {
        cp_ = c & 0x1F;
        need_ = 1;
        min_ = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        cp_ = c & 0x0F;
        need_ = 2;
        min_ = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        cp_ = c & 0x07;
        need_ = 3;
        min_ = 0x10000;
    } else {
        code_point(kReplacement);
    }
}

void PreviewText::code_point(std::uint32_t cp) {
    // White space, C0 and C1 controls, DEL and NO-BREAK SPACE separate words.
    if (cp <= 0x20 || (cp >= 0x7F && cp <= 0xA0)) {
        separator();
        return;
    }
    char u[4];
    visible(u, encode_utf8(cp, u));
}

void PreviewText::separator() {
    if (len_ > 0) space_ = true;
}

void PreviewText::visible(const char* utf8, std::size_t n) {
    const std::size_t sp = space_ ? 1 : 0;
    if (chars_ + sp + 1 > kMaxChars || len_ + sp + n > kMaxBytes) {
        full_ = true;
        return;
    }
    if (space_) {
        buf_[len_++] = ' ';
        ++chars_;
        space_ = false;
    }
    for (std::size_t i = 0; i < n; ++i) buf_[len_++] = utf8[i];
    ++chars_;
}

}  // namespace tinyimapd::mime
