#include "core/imap/encoder.h"

#include "core/base/assert.h"
#include "core/mime/encoded_word.h"

namespace tinyimapd::imap {
namespace {

constexpr std::string_view kCrlf = "\r\n";
// "{" + 20 digits of a uint64 + "}" CRLF.
constexpr std::size_t kLiteralHeaderMax = 24;

constexpr bool is_ctl(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}
constexpr bool is_8bit(unsigned char c) {
    return c >= 0x80;
}

// RFC 3501 §9 ASTRING-CHAR = ATOM-CHAR / resp-specials.
constexpr bool is_astring_char(unsigned char c) {
    return !is_ctl(c) && !is_8bit(c) && c != '(' && c != ')' && c != '{' && c != ' ' && c != '%' &&
           c != '*' && c != '"' && c != '\\';
}

// RFC 3501 §9 TEXT-CHAR minus quoted-specials: what may stand unescaped
// between the quotes.
constexpr bool is_quotable(unsigned char c) {
    return c != 0 && !is_8bit(c) && c != '\r' && c != '\n' && c != '"' && c != '\\';
}

bool is_raw_atom(std::string_view a) {
    if (a.empty()) return false;
    for (char ch : a) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_ctl(c) || is_8bit(c) || c == '"' || c == '{') return false;
    }
    return true;
}

// resp-text-code as text: 1*<TEXT-CHAR except "]"> (RFC 3501 §9 note 12).
bool is_code_text(std::string_view s) {
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == 0 || c == '\r' || c == '\n' || is_8bit(c) || c == ']') return false;
    }
    return true;
}

std::string_view default_text(std::string_view status) {
    if (ascii::iequals(status, "OK")) return "completed";
    if (ascii::iequals(status, "NO")) return "failed";
    if (ascii::iequals(status, "BAD")) return "invalid";
    if (ascii::iequals(status, "BYE")) return "closing";
    return "done";
}

}  // namespace

StringForm string_form(std::string_view s) {
    for (char c : s) {
        if (!is_quotable(static_cast<unsigned char>(c))) return StringForm::Literal;
    }
    return StringForm::Quoted;
}

bool is_astring_atom(std::string_view s) {
    if (s.empty() || ascii::iequals(s, "NIL")) return false;
    for (char c : s) {
        if (c == '[' || !is_astring_char(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

// ---------------------------------------------------------------- writer

ResponseWriter::ResponseWriter(TextWriter& out) : out_(out), start_(out.size()) {}

void ResponseWriter::separate() {
    if (need_sp_) out_.put(' ');
    need_sp_ = true;
}

ResponseWriter& ResponseWriter::star() {
    need_sp_ = false;
    separate();
    out_.put('*');
    return *this;
}

ResponseWriter& ResponseWriter::tag(std::string_view t) {
    if (t.empty()) return star();
    // RFC 3501 §9: tag = 1*<any ASTRING-CHAR except "+">.
    for (char c : t) {
        if (c == '+' || !is_astring_char(static_cast<unsigned char>(c))) invalid_ = true;
    }
    need_sp_ = false;
    separate();
    out_.put(t);
    return *this;
}

ResponseWriter& ResponseWriter::atom(std::string_view a) {
    if (!is_raw_atom(a)) invalid_ = true;
    separate();
    out_.put(a);
    return *this;
}

ResponseWriter& ResponseWriter::number(std::uint64_t n) {
    separate();
    out_.put_uint(n);
    return *this;
}

ResponseWriter& ResponseWriter::nil() {
    separate();
    out_.put("NIL");
    return *this;
}

void ResponseWriter::put_quoted(std::string_view s) {
    out_.put('"').put(s).put('"');
}

void ResponseWriter::put_literal(std::string_view s) {
    out_.put('{').put_uint(s.size()).put('}').put(kCrlf).put(s);
}

ResponseWriter& ResponseWriter::string(std::string_view s) {
    if (downgrade_ && mime::wants_encoded_words(s)) return encoded_words({s});
    separate();
    if (string_form(s) == StringForm::Quoted) {
        put_quoted(s);
    } else {
        put_literal(s);
    }
    return *this;
}

ResponseWriter& ResponseWriter::encoded_words(std::initializer_list<std::string_view> pieces) {
    separate();
    out_.put('"');
    mime::EncodedWordWriter words(out_);
    for (std::string_view p : pieces) words.add(p);
    words.finish();
    out_.put('"');
    return *this;
}

ResponseWriter& ResponseWriter::astring(std::string_view s) {
    if (!is_astring_atom(s)) return string(s);
    separate();
    out_.put(s);
    return *this;
}

ResponseWriter& ResponseWriter::nstring(std::string_view s, bool is_nil) {
    return is_nil ? nil() : string(s);
}

ResponseWriter& ResponseWriter::mailbox(std::string_view name) {
    // RFC 3501 §9: mailbox = "INBOX" / astring, INBOX in any case.
    if (ascii::iequals(name, "INBOX")) return atom("INBOX");
    return astring(name);
}

ResponseWriter& ResponseWriter::open_list() {
    separate();
    out_.put('(');
    need_sp_ = false;
    return *this;
}

ResponseWriter& ResponseWriter::close_list() {
    out_.put(')');
    need_sp_ = true;
    return *this;
}

ResponseWriter& ResponseWriter::code(std::string_view name) {
    return open_code(name).close_code();
}

ResponseWriter& ResponseWriter::open_code(std::string_view name) {
    if (!is_raw_atom(name) || !is_code_text(name) || name.find(' ') != name.npos) invalid_ = true;
    separate();
    out_.put('[').put(name);
    return *this;
}

ResponseWriter& ResponseWriter::close_code() {
    out_.put(']');
    need_sp_ = true;
    return *this;
}

ResponseWriter& ResponseWriter::text(std::string_view t) {
    separate();
    for (std::size_t i = 0; i < t.size(); ++i) {
        const auto c = static_cast<unsigned char>(t[i]);
        char w = t[i];
        if (c == 0 || c == '\r' || c == '\n') {
            w = ' ';
        } else if (is_8bit(c)) {
            w = '?';
        } else if (i == 0 && c == '[') {
            w = '(';
        }
        out_.put(w);
    }
    return *this;
}

ResponseWriter& ResponseWriter::crlf() {
    out_.put(kCrlf);
    need_sp_ = false;
    return *this;
}

ResponseWriter& ResponseWriter::sp() {
    out_.put(' ');
    need_sp_ = false;
    return *this;
}

ResponseWriter& ResponseWriter::element_written() {
    need_sp_ = true;
    return *this;
}

void ResponseWriter::put_resp_text(std::string_view status, std::string_view code,
                                   std::string_view t) {
    atom(status);
    if (!code.empty()) {
        if (!is_code_text(code)) invalid_ = true;
        separate();
        out_.put('[').put(code).put(']');
    }
    text(t.empty() ? default_text(status) : t);
    crlf();
}

ResponseWriter& ResponseWriter::tagged(std::string_view tag_text, std::string_view status,
                                       std::string_view code, std::string_view t) {
    tag(tag_text);
    put_resp_text(status, code, t);
    return *this;
}

ResponseWriter& ResponseWriter::untagged(std::string_view status, std::string_view code,
                                         std::string_view t) {
    star();
    put_resp_text(status, code, t);
    return *this;
}

ResponseWriter& ResponseWriter::continuation(std::string_view t) {
    need_sp_ = false;
    out_.put('+');
    need_sp_ = true;
    text(t);
    return crlf();
}

bool ResponseWriter::append_to(OutBuffer& out) const {
    return ok() && out.append(view());
}

// -------------------------------------------------------------- streamer

LiteralStreamer::LiteralStreamer(char* scratch, std::size_t scratch_capacity)
    : scratch_(scratch), scratch_capacity_(scratch_capacity) {}

StreamStatus LiteralStreamer::start(OutBuffer& out, ByteSource& source, std::uint64_t size) {
    source_ = &source;
    size_ = size;
    sent_ = 0;
    state_ = State::Header;
    return pump(out);
}

StreamStatus LiteralStreamer::pump(OutBuffer& out) {
    TINYIMAPD_ASSERT(sent_ <= size_);  // never more than the "{n}" promised
    switch (state_) {
        case State::Idle: return StreamStatus::Done;
        case State::Failed: return StreamStatus::Failed;
        case State::Header: {
            char header[kLiteralHeaderMax];
            TextWriter w(header, sizeof header);
            w.put('{').put_uint(size_).put('}').put(kCrlf);
            if (!out.append(w.view())) return StreamStatus::Blocked;
            state_ = State::Data;
            break;
        }
        case State::Data: break;
    }
    while (sent_ < size_) {
        std::size_t n = out.room();
        if (n == 0) return StreamStatus::Blocked;
        if (n > scratch_capacity_) n = scratch_capacity_;
        if (n > size_ - sent_) n = static_cast<std::size_t>(size_ - sent_);
        const std::size_t got = n == 0 ? 0 : source_->read(sent_, scratch_, n);
        // 0 (error or early end) and more than asked (a broken source) both
        // make the announced size unattainable or unverifiable.
        if (got == 0 || got > n) {
            state_ = State::Failed;
            return StreamStatus::Failed;
        }
        if (!out.append(std::string_view(scratch_, got))) {
            state_ = State::Failed;  // cannot happen: got <= room
            return StreamStatus::Failed;
        }
        sent_ += got;
    }
    state_ = State::Idle;
    source_ = nullptr;
    return StreamStatus::Done;
}

}  // namespace tinyimapd::imap
