#include "core/mime/transfer_decode.h"

#include <cstring>

#include "core/base/base64.h"
#include "core/base/text.h"

namespace tinyimapd::mime {
namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

// Value of a hex digit (either case), or -1.
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// A quoted-printable byte that decodes to itself in any state of a line.
bool qp_plain(char c) {
    return c != '=' && c != ' ' && c != '\t' && c != '\r' && c != '\n';
}

}  // namespace

TransferEncoding transfer_encoding(std::string_view value) {
    // Skip blanks and comments (RFC 822 comments may surround the token).
    std::size_t i = 0;
    int depth = 0;
    while (i < value.size()) {
        const char c = value[i];
        if (depth > 0) {
            if (c == '\\') ++i;
            if (c == '(') ++depth;
            if (c == ')') --depth;
        } else if (c == '(') {
            depth = 1;
        } else if (!is_blank(c) && c != '\r' && c != '\n') {
            break;
        }
        ++i;
    }
    std::size_t end = i;
    while (end < value.size()) {
        const char c = value[end];
        if (is_blank(c) || c == '(' || c == ';' || c == '\r' || c == '\n') break;
        ++end;
    }
    const std::string_view token = ascii::tail(ascii::head(value, end), i);
    if (token.empty() || ascii::iequals(token, "7bit") || ascii::iequals(token, "8bit") ||
        ascii::iequals(token, "binary")) {
        return TransferEncoding::Identity;
    }
    if (ascii::iequals(token, "quoted-printable")) return TransferEncoding::QuotedPrintable;
    if (ascii::iequals(token, "base64")) return TransferEncoding::Base64;
    return TransferEncoding::Unknown;
}

void TransferDecoder::reset(TransferEncoding encoding) {
    encoding_ = encoding;
    state_ = State::Text;
    len_ = 0;
    pos_ = 0;
    bits_ = 0;
    acc_ = 0;
}

std::size_t TransferDecoder::drain(char* out, std::size_t cap) {
    std::size_t k = static_cast<std::size_t>(len_ - pos_);
    if (k > cap) k = cap;
    if (k > 0) std::memcpy(out, held_ + pos_, k);
    pos_ = static_cast<std::uint8_t>(pos_ + k);
    if (pos_ == len_) {
        len_ = 0;
        pos_ = 0;
        state_ = State::Text;
    }
    return k;
}

// One quoted-printable byte that is not on the fast path. Returns false when
// `c` must be offered again (after the held bytes have been written).
bool TransferDecoder::step_qp(char c) {
    bool consumed = true;
    switch (state_) {
        case State::Text:
            if (is_blank(c)) {
                // Blanks are held until we know whether they end the line.
                if (len_ >= kMaxHeld) {
                    state_ = State::Drain;
                    consumed = false;
                } else {
                    hold(c);
                }
            } else if (c == '\r' || c == '\n') {
                len_ = 0;  // RFC 2045 §6.7 rule 3: trailing blanks deleted
                hold(c);
                state_ = State::Drain;
            } else if (len_ > 0) {
                state_ = State::Drain;  // the blanks were not trailing
                consumed = false;
            } else if (c == '=') {
                hold(c);
                state_ = State::Eq;
            } else {
                hold(c);
                state_ = State::Drain;
            }
            return consumed;
        case State::Eq:
            if (hex_value(c) >= 0) {
                hold(c);
                state_ = State::Hex;
            } else if (is_blank(c)) {
                hold(c);
                state_ = State::EqWs;
            } else if (!soft_break(c)) {
                state_ = State::Drain;  // §6.7 note 1: "=" kept as written
                consumed = false;
            }
            return consumed;
        case State::Hex:
            if (hex_value(c) >= 0) {
                const int v = hex_value(held_[1]) * 16 + hex_value(c);
                len_ = 0;
                hold(static_cast<char>(static_cast<unsigned char>(v)));
            } else {
                consumed = false;  // "=X" kept as written
            }
            state_ = State::Drain;
            return consumed;
        case State::EqWs:
            // rules 3 and 5: "=", transport padding, line break = soft break.
            if (is_blank(c) && len_ < kMaxHeld) {
                hold(c);
            } else if (!soft_break(c)) {
                state_ = State::Drain;
                consumed = false;
            }
            return consumed;
        case State::EqCr: state_ = State::Text; return c == '\n';
        case State::Drain: break;
    }
    return false;
}

// After "=" (and transport padding): a line break makes it a soft line
// break (RFC 2045 §6.7 rule 5), which decodes to nothing.
bool TransferDecoder::soft_break(char c) {
    if (c != '\r' && c != '\n') return false;
    len_ = 0;
    state_ = c == '\r' ? State::EqCr : State::Text;
    return true;
}

void TransferDecoder::step_base64(char c) {
    const int v = base64_value(c);
    if (v >= 0) {
        acc_ = (acc_ << 6) | static_cast<std::uint32_t>(v);
        if (++bits_ < 4) return;
        held_[0] = static_cast<char>((acc_ >> 16) & 0xff);
        held_[1] = static_cast<char>((acc_ >> 8) & 0xff);
        held_[2] = static_cast<char>(acc_ & 0xff);
        len_ = 3;
    } else if (c == '=') {
        // A padded quantum ends here (§6.8); a lone character gives nothing.
        if (bits_ == 2) {
            held_[0] = static_cast<char>((acc_ >> 4) & 0xff);
            len_ = 1;
        } else if (bits_ == 3) {
            held_[0] = static_cast<char>((acc_ >> 10) & 0xff);
            held_[1] = static_cast<char>((acc_ >> 2) & 0xff);
            len_ = 2;
        }
    } else {
        return;  // outside the alphabet: ignored (§6.8)
    }
    bits_ = 0;
    acc_ = 0;
    if (len_ > 0) state_ = State::Drain;
}

DecodeStep TransferDecoder::decode(const char* in, std::size_t n, char* out, std::size_t cap) {
    DecodeStep s;
    for (;;) {
        if (state_ == State::Drain) {
            s.produced += drain(out + s.produced, cap - s.produced);
            if (state_ == State::Drain) break;
        }
        if (s.consumed == n || s.produced == cap) break;
        switch (encoding_) {
            case TransferEncoding::Base64:
                while (s.consumed < n && state_ == State::Text) step_base64(in[s.consumed++]);
                break;
            case TransferEncoding::QuotedPrintable: {
                if (state_ == State::Text && len_ == 0) {
                    // Fast path: a run of bytes that stand for themselves.
                    std::size_t k = 0;
                    const std::size_t room = cap - s.produced;
                    while (k < room && s.consumed + k < n && qp_plain(in[s.consumed + k])) ++k;
                    if (k > 0) {
                        std::memcpy(out + s.produced, in + s.consumed, k);
                        s.consumed += k;
                        s.produced += k;
                        continue;
                    }
                }
                if (step_qp(in[s.consumed])) ++s.consumed;
                break;
            }
            case TransferEncoding::Identity:
            case TransferEncoding::Unknown: {
                std::size_t k = n - s.consumed;
                if (k > cap - s.produced) k = cap - s.produced;
                std::memcpy(out + s.produced, in + s.consumed, k);
                s.consumed += k;
                s.produced += k;
                break;
            }
        }
    }
    return s;
}

std::size_t TransferDecoder::finish(char* out, std::size_t cap) {
    if (state_ != State::Drain) {
        if (encoding_ == TransferEncoding::Base64) {
            step_base64('=');  // whole bytes of an unpadded last quantum
        } else if (state_ == State::Hex) {
            state_ = State::Drain;  // "=X" at the end: kept as written
        } else {
            // Trailing blanks of the last line are deleted; "=" (with
            // padding) at the end is a soft break.
            len_ = 0;
            state_ = State::Text;
        }
    }
    return state_ == State::Drain ? drain(out, cap) : 0;
}

}  // namespace tinyimapd::mime
