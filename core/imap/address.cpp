#include "core/imap/address.h"

#include "core/base/text.h"
#include "core/mime/unicase.h"

namespace tinyimapd::imap {
namespace {

bool has_8bit(std::string_view s) {
    for (char c : s) {
        if (static_cast<unsigned char>(c) >= 0x80) return true;
    }
    return false;
}

// RFC 6858 §2.1 for a session without UTF-8 (ResponseWriter::downgrade):
// an address whose local part or domain is UTF-8 cannot be written as
// ASCII, so it becomes a display name naming the whole address (encoded
// words of "name <mailbox@host>", or "mailbox@host" without a name) and
// the placeholder address invalid@internationalized-address.invalid (RFC
// 2606's reserved .invalid: a reply to it fails at once instead of going
// astray). Text that is not UTF-8 is written as it is.
bool downgraded_address(imap::ResponseWriter& w, std::string_view name, bool name_nil,
                        std::string_view mailbox, std::string_view host) {
    if (!w.downgrading() || (!has_8bit(mailbox) && !has_8bit(host))) return false;
    if (!mime::utf8_valid(mailbox) || !mime::utf8_valid(host)) return false;
    if (!name_nil && !mime::utf8_valid(name)) return false;
    if (name_nil || name.empty()) {
        w.encoded_words({mailbox, "@", host});
    } else {
        w.encoded_words({name, " <", mailbox, "@", host, ">"});
    }
    w.nil().string("invalid").string("internationalized-address.invalid");
    return true;
}

enum class TokKind : std::uint8_t { End, Atom, Quoted, DomainLiteral, Special };

struct Token {
    TokKind kind = TokKind::End;
    std::string_view text;  // Atom, DomainLiteral: as written; Quoted: with its quotes
    char special = 0;
};

bool is_special(char c) {
    switch (c) {
        case '(':
        case ')':
        case '<':
        case '>':
        case '[':
        case ']':
        case ':':
        case ';':
        case '@':
        case '\\':
        case ',':
        case '"': return true;
        default: return false;
    }
}

bool is_blank(char c) {
    return static_cast<unsigned char>(c) <= 32 || c == 127;
}

class Lexer {
public:
    explicit Lexer(std::string_view s) : s_(s) {}

    Token next() {
        skip_cfws();
        Token t;
        if (i_ >= s_.size()) return t;
        std::size_t start = i_;
        char c = s_[i_];
        if (c == '"') {
            ++i_;
            while (i_ < s_.size() && s_[i_] != '"') {
                if (s_[i_] == '\\' && i_ + 1 < s_.size()) ++i_;
                ++i_;
            }
            if (i_ < s_.size()) ++i_;  // closing quote (absent: runs to the end)
            t.kind = TokKind::Quoted;
        } else if (c == '[') {
            while (i_ < s_.size() && s_[i_] != ']') ++i_;
            if (i_ < s_.size()) ++i_;
            t.kind = TokKind::DomainLiteral;
        } else if (is_special(c)) {
            ++i_;
            t.kind = TokKind::Special;
            t.special = c;
        } else {
            while (i_ < s_.size() && !is_blank(s_[i_]) && !is_special(s_[i_])) ++i_;
            t.kind = TokKind::Atom;
        }
        t.text = std::string_view(s_.data() + start, i_ - start);
        return t;
    }

private:
    void skip_cfws() {
        while (i_ < s_.size()) {
            char c = s_[i_];
            if (is_blank(c)) {
                ++i_;
            } else if (c == '(') {
                int depth = 0;
                const std::size_t open = i_;
                std::size_t close = s_.size();
                while (i_ < s_.size()) {
                    char d = s_[i_++];
                    if (d == '\\' && i_ < s_.size()) {
                        ++i_;
                    } else if (d == '(') {
                        ++depth;
                    } else if (d == ')' && --depth == 0) {
                        close = i_ - 1;
                        break;
                    }
                }
                if (comment_.empty()) {
                    comment_ =
                        ascii::trim(std::string_view(s_.data() + open + 1, close - open - 1));
                }
            } else if (c == ')') {
                ++i_;  // stray
            } else {
                return;
            }
        }
    }

    std::string_view s_;
    std::size_t i_ = 0;
    std::string_view comment_;

public:
    // The first comment skipped since the last call (its text inside the
    // outer parentheses, blanks trimmed), or empty.
    std::string_view take_comment() {
        std::string_view c = comment_;
        comment_ = {};
        return c;
    }
};

// A bounded, truncating byte builder.
class Part {
public:
    void reset(char* buf, std::size_t cap) {
        buf_ = buf;
        cap_ = cap;
        len_ = 0;
    }
    void clear() { len_ = 0; }
    void put(char c) {
        if (len_ < cap_) buf_[len_++] = c;
    }
    void put(std::string_view s) {
        for (char c : s) put(c);
    }
    bool empty() const { return len_ == 0; }
    std::string_view view() const { return {buf_, len_}; }

private:
    char* buf_ = nullptr;
    std::size_t cap_ = 0;
    std::size_t len_ = 0;
};

class AddressListWriter {
public:
    // `first` writes the first address; each later one is written through a
    // copy of `joined` (see write_address_list). Both null: count only.
    AddressListWriter(char* work, std::size_t work_size, imap::ResponseWriter* first,
                      const imap::ResponseWriter* joined)
        : first_(first), joined_(joined) {
        std::size_t q = work_size / 4;
        name_cap_ = q;
        name_.reset(work, q);
        adl_.reset(work + q, q);
        mailbox_.reset(work + 2 * q, q);
        host_.reset(work + 3 * q, q);
    }

    std::size_t run(std::string_view value) {
        Lexer lex(value);
        for (;;) {
            Token t = lex.next();
            // "user@example.org (Full Name)": the RFC 822 comment form of a
            // display name; c-client and Dovecot take the comment as the
            // name when there is no phrase.
            const std::string_view comment = lex.take_comment();
            if (!comment.empty() && angle_ == Angle::None && any_ && comment_name_.empty()) {
                comment_name_ = comment;
            }
            if (t.kind == TokKind::End) break;
            take(t);
            if (capture_ != nullptr && capture_->found) return count_;
        }
        flush();
        if (in_group_) emit_group_end();
        return count_;
    }

private:
    enum class Angle : std::uint8_t { None, Start, Route, Spec, Done };

    void take(const Token& t) {
        if (t.kind == TokKind::Special) {
            special(t.special);
            return;
        }
        any_ = true;
        switch (angle_) {
            case Angle::None:
                add_name_word(t);
                add_spec(t);
                break;
            case Angle::Start:
                angle_ = Angle::Spec;
                add_spec(t);
                break;
            case Angle::Route: adl_.put(t.text); break;
            case Angle::Spec: add_spec(t); break;
            case Angle::Done: break;  // junk after '>'
        }
    }

    void special(char c) {
        switch (c) {
            case '<':
                if (angle_ == Angle::None) {
                    angle_ = Angle::Start;
                    any_ = true;
                    mailbox_.clear();
                    host_.clear();
                    seen_at_ = false;
                }
                break;
            case '>':
                if (angle_ != Angle::None) angle_ = Angle::Done;
                break;
            case '@':
                if (angle_ == Angle::Start) {
                    angle_ = Angle::Route;
                    adl_.put('@');
                } else if (angle_ == Angle::Route) {
                    adl_.put('@');
                } else if (angle_ != Angle::Done) {
                    seen_at_ = true;
                    any_ = true;
                }
                break;
            case ':':
                if (angle_ == Angle::Route) {
                    angle_ = Angle::Spec;
                } else if (angle_ == Angle::None && !in_group_) {
                    emit_group_start();
                }
                break;
            case ',':
                if (angle_ == Angle::Route) {
                    adl_.put(',');
                } else {
                    flush();
                }
                break;
            case ';':
                flush();
                if (in_group_) emit_group_end();
                break;
            default: break;  // stray ']', '\\', ')'
        }
    }

    void add_name_word(const Token& t) {
        if (!name_.empty()) name_.put(' ');
        if (t.kind == TokKind::Quoted) {
            std::string_view s = t.text;
            std::size_t end = s.size();
            if (end >= 2 && s[end - 1] == '"') --end;
            for (std::size_t i = 1; i < end; ++i) {
                if (s[i] == '\\' && i + 1 < end) ++i;
                name_.put(s[i]);
            }
        } else {
            name_.put(t.text);
        }
    }

    void add_spec(const Token& t) {
        if (seen_at_) {
            host_.put(t.text);
        } else {
            mailbox_.put(t.text);
        }
    }

    // Writes one address "(" name adl mailbox host ")"; a null part is NIL.
    void emit(std::string_view name, bool name_nil, std::string_view adl, bool adl_nil,
              std::string_view mailbox, bool mailbox_nil, std::string_view host, bool host_nil) {
        if (capture_ != nullptr && !capture_->found && !mailbox_nil && !host_nil) {
            // A real address (a group's markers have no host).
            *capture_ = {name_nil ? std::string_view() : name, mailbox, host, true};
        }
        bool first = count_++ == 0;
        if (first_ == nullptr) return;
        if (first) {
            emit_to(*first_, name, name_nil, adl, adl_nil, mailbox, mailbox_nil, host, host_nil);
        } else {
            imap::ResponseWriter next = *joined_;
            emit_to(next, name, name_nil, adl, adl_nil, mailbox, mailbox_nil, host, host_nil);
        }
    }

    static void emit_to(imap::ResponseWriter& w, std::string_view name, bool name_nil,
                        std::string_view adl, bool adl_nil, std::string_view mailbox,
                        bool mailbox_nil, std::string_view host, bool host_nil) {
        w.open_list();
        if (mailbox_nil || host_nil || !downgraded_address(w, name, name_nil, mailbox, host)) {
            w.nstring(name, name_nil).nstring(adl, adl_nil);
            w.nstring(mailbox, mailbox_nil).nstring(host, host_nil);
        }
        w.close_list();
    }

    void emit_group_start() {
        // RFC 3501 §7.4.2: group start = NIL host, mailbox the group name.
        emit({}, true, {}, true, name_.view(), false, {}, true);
        in_group_ = true;
        reset();
    }

    void emit_group_end() {
        emit({}, true, {}, true, {}, true, {}, true);
        in_group_ = false;
    }

    void flush() {
        if (any_) {
            // A name belongs to a name-addr only; outside <> the words were
            // the addr-spec itself.
            bool has_name = angle_ != Angle::None && !name_.empty();
            std::string_view name = name_.view();
            if (angle_ == Angle::None && !comment_name_.empty()) {
                name = ascii::head(comment_name_, name_cap_);
                has_name = true;
            }
            emit(name, !has_name, adl_.view(), adl_.empty(), mailbox_.view(), false, host_.view(),
                 false);
        }
        reset();
    }

    void reset() {
        name_.clear();
        adl_.clear();
        mailbox_.clear();
        host_.clear();
        angle_ = Angle::None;
        seen_at_ = false;
        any_ = false;
        comment_name_ = {};
    }

public:
    FirstAddress* capture_ = nullptr;  // first_address(): stop at the first address

private:
    imap::ResponseWriter* first_;
    const imap::ResponseWriter* joined_;
    Part name_, adl_, mailbox_, host_;
    std::size_t name_cap_ = 0;
    std::string_view comment_name_;  // a comment after an addr-spec, in the value
    std::size_t count_ = 0;
    Angle angle_ = Angle::None;
    bool seen_at_ = false;
    bool any_ = false;
    bool in_group_ = false;
};

}  // namespace

void write_address_list(std::string_view value, char* work, std::size_t work_size,
                        imap::ResponseWriter& out) {
    if (!has_address(value)) {
        out.nil();
        return;
    }
    out.open_list();
    // RFC 3501 §9: "(" 1*address ")" has no SP between addresses, while
    // ResponseWriter separates every element: each address after the first
    // is written through a copy of the writer taken right after '(' (it
    // writes into the same TextWriter, so overflow still shows in out.ok()).
    const imap::ResponseWriter joined = out;
    AddressListWriter w(work, work_size, &out, &joined);
    (void)w.run(value);
    out.close_list();
}

FirstAddress first_address(std::string_view value, char* work, std::size_t work_size) {
    FirstAddress a;
    AddressListWriter w(work, work_size, nullptr, nullptr);
    w.capture_ = &a;
    (void)w.run(value);
    return a;
}

bool has_address(std::string_view value) {
    char dummy[4];
    AddressListWriter w(dummy, 0, nullptr, nullptr);
    return w.run(value) > 0;
}

}  // namespace tinyimapd::imap
