#include "core/mime/encoded_word.h"

#include <cstring>

#include "core/base/base64.h"
#include "core/base/text.h"
#include "core/mime/charset.h"
#include "core/mime/transfer_decode.h"
#include "core/mime/unicase.h"

namespace tinyimapd::mime {
namespace {

// Output staged on the stack between sink calls.
constexpr std::size_t kStage = 128;

bool is_lwsp(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

class Stager {
public:
    explicit Stager(ByteSink& sink) : sink_(sink) {}
    ~Stager() { flush(); }
    Stager(const Stager&) = delete;
    Stager& operator=(const Stager&) = delete;

    void text(std::string_view s) {
        for (char c : s) {
            if (len_ == kStage) flush();
            buf_[len_++] = c;
        }
    }
    // One byte of charset `cs`, converted to UTF-8 (whole or not at all
    // within one sink call).
    void byte(Charset cs, unsigned char c) {
        if (len_ + kMaxUtf8PerByte > kStage) flush();
        len_ += charset_to_utf8(cs, c, buf_ + len_);
    }
    void flush() {
        if (len_ > 0) sink_.write(buf_, len_);
        len_ = 0;
    }

private:
    ByteSink& sink_;
    char buf_[kStage];
    std::size_t len_ = 0;
};

struct EncodedWord {
    std::string_view charset;
    char encoding = 0;  // 'B' or 'Q'
    std::string_view text;
    std::size_t length = 0;  // of the whole "=?...?=" in the value
};

// RFC 2047 §2: encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
// at the start of `s`.
bool parse_word(std::string_view s, EncodedWord* w) {
    if (s.size() < 8 || s[0] != '=' || s[1] != '?') return false;
    std::size_t i = 2;
    while (i < s.size() && s[i] != '?' && !is_lwsp(s[i])) ++i;
    if (i == 2 || i + 2 >= s.size() || s[i] != '?') return false;
    w->charset = ascii::tail(ascii::head(s, i), 2);
    w->encoding = ascii::to_upper(s[i + 1]);
    if ((w->encoding != 'B' && w->encoding != 'Q') || s[i + 2] != '?') return false;
    const std::size_t text_start = i + 3;
    std::size_t j = text_start;
    while (j < s.size() && s[j] != '?' && !is_lwsp(s[j])) ++j;
    if (j + 1 >= s.size() || s[j] != '?' || s[j + 1] != '=') return false;
    w->text = ascii::tail(ascii::head(s, j), text_start);
    w->length = j + 2;
    return true;
}

void decode_word(const EncodedWord& w, Stager& out) {
    std::string_view name = w.charset;
    const std::size_t star = name.find('*');  // RFC 2231 §5 language
    if (star != std::string_view::npos) name = ascii::head(name, star);
    const Charset cs = charset_from_name(name);
    if (w.encoding == 'Q') {
        const std::string_view t = w.text;
        for (std::size_t i = 0; i < t.size(); ++i) {
            char c = t[i];
            if (c == '_') {
                c = ' ';  // §4.2 (2)
            } else if (c == '=' && i + 2 < t.size() && hex_value(t[i + 1]) >= 0 &&
                       hex_value(t[i + 2]) >= 0) {
                c = static_cast<char>(hex_value(t[i + 1]) * 16 + hex_value(t[i + 2]));
                i += 2;
            }
            out.byte(cs, static_cast<unsigned char>(c));
        }
        return;
    }
    TransferDecoder d(TransferEncoding::Base64);
    char buf[48];
    std::size_t pos = 0;
    for (;;) {
        const DecodeStep s = d.decode(w.text.data() + pos, w.text.size() - pos, buf, sizeof buf);
        pos += s.consumed;
        std::size_t n = s.produced;
        if (s.produced == 0 && pos == w.text.size()) n = d.finish(buf, sizeof buf);
        for (std::size_t k = 0; k < n; ++k) out.byte(cs, static_cast<unsigned char>(buf[k]));
        if (n == 0 && pos == w.text.size() && !d.held()) return;
    }
}

class BufferSink final : public ByteSink {
public:
    BufferSink(char* out, std::size_t cap) : out_(out), cap_(cap) {}
    void write(const char* data, std::size_t n) override {
        if (full_) return;
        if (n > cap_ - len_) {
            // Cut before a UTF-8 sequence that does not fit whole.
            n = cap_ - len_;
            while (n > 0 && (static_cast<unsigned char>(data[n]) & 0xC0) == 0x80) --n;
            full_ = true;
        }
        if (n > 0) std::memcpy(out_ + len_, data, n);
        len_ += n;
    }
    std::size_t size() const { return len_; }

private:
    char* out_;
    std::size_t cap_;
    std::size_t len_ = 0;
    bool full_ = false;
};

}  // namespace

void decode_header_text(std::string_view value, ByteSink& sink) {
    Stager out(sink);
    bool after_word = false;  // the last thing written was an encoded word
    std::string_view blanks;  // held after a word: dropped if another follows
    std::size_t i = 0;
    while (i < value.size()) {
        if (is_lwsp(value[i])) {
            std::size_t j = i;
            while (j < value.size() && is_lwsp(value[j])) ++j;
            const std::string_view run = ascii::tail(ascii::head(value, j), i);
            if (after_word) {
                blanks = run;
            } else {
                out.text(run);
            }
            i = j;
            continue;
        }
        EncodedWord w;
        if (value[i] == '=' && parse_word(ascii::tail(value, i), &w)) {
            blanks = {};  // §6.2: between two encoded words
            decode_word(w, out);
            after_word = true;
            i += w.length;
            continue;
        }
        out.text(blanks);
        blanks = {};
        after_word = false;
        std::size_t j = i + 1;
        while (j < value.size() && !is_lwsp(value[j]) &&
               !(value[j] == '=' && j + 1 < value.size() && value[j + 1] == '?')) {
            ++j;
        }
        out.text(ascii::tail(ascii::head(value, j), i));
        i = j;
    }
    out.text(blanks);
}

std::size_t decode_header_text(std::string_view value, char* out, std::size_t cap) {
    BufferSink sink(out, cap);
    decode_header_text(value, sink);
    return sink.size();
}

bool wants_encoded_words(std::string_view s) {
    bool eight_bit = false;
    for (char c : s) {
        if (static_cast<unsigned char>(c) >= 0x80) {
            eight_bit = true;
            break;
        }
    }
    return eight_bit && utf8_valid(s);
}

void EncodedWordWriter::add(std::string_view utf8) {
    for (char c : utf8) add_byte(c);
}

// A full word is written when the next byte starts a character; a
// continuation byte moves the word's end back to the start of its
// character (RFC 2047 §5: whole characters per encoded word).
void EncodedWordWriter::add_byte(char c) {
    if (len_ == kWordInput) {
        std::size_t cut = kWordInput;
        if ((static_cast<unsigned char>(c) & 0xC0) == 0x80) {
            while (cut > 0 && (static_cast<unsigned char>(held_[cut - 1]) & 0xC0) == 0x80) --cut;
            if (cut > 0) --cut;  // the lead byte goes with its continuation
            if (cut == 0) cut = kWordInput;  // not UTF-8: cut anywhere
        }
        flush(cut);
    }
    held_[len_++] = c;
}

void EncodedWordWriter::flush(std::size_t n) {
    char b64[64];
    const std::size_t len = base64_encode(std::string_view(held_, n), b64, sizeof b64);
    if (wrote_) out_.put(' ');
    out_.put("=?UTF-8?B?").put(std::string_view(b64, len)).put("?=");
    wrote_ = true;
    std::memmove(held_, held_ + n, len_ - n);
    len_ -= n;
}

void EncodedWordWriter::finish() {
    if (len_ > 0) flush(len_);
}

}  // namespace tinyimapd::mime
