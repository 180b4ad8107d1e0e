// Content-Transfer-Encoding decoding (RFC 2045 §6), streaming and without
// allocation: FETCH BINARY (RFC 3516) and SEARCH BODY/TEXT read a part's
// body through it window by window.
//
// TransferDecoder is a small state machine (a few dozen bytes, no
// pointers) that takes encoded bytes in chunks split anywhere and writes
// the decoded bytes into the caller's buffer. It never needs more room
// than the caller gives: decode() stops when the output is full and says
// how much input it consumed; bytes it has decided but could not write are
// kept (at most kMaxHeld) and written first by the next call. Any output
// capacity of at least one byte makes progress.
//
// Rules (RFC 2045 §6.7, §6.8), with the leniency real mail needs:
//   - quoted-printable: "=" two hex digits gives one byte (lower-case hex
//     accepted, §6.7 note 2); "=" followed by optional blanks and a line
//     break is a soft line break and produces nothing (rules 3, 5); blanks
//     at the end of a line are deleted (rule 3); a hard line break (CRLF, or
//     a bare LF or CR) is kept as written; an "=" not followed by two hex
//     digits or a line break is kept literally with what follows (§6.7
//     note 1); a run of more than kMaxHeld blanks is written out rather than
//     held; 8-bit bytes pass through;
//   - base64: characters outside the alphabet (line breaks, blanks,
//     garbage) are ignored (§6.8); "=" ends a quantum early (one or two
//     bytes) and decoding continues after it, so concatenated base64
//     bodies decode whole; at the end a quantum of two or three characters
//     gives its whole bytes, a lone character nothing;
//   - identity (7bit, 8bit, binary, absent) and Unknown are copied as is;
//     whether to refuse an unknown encoding is the caller's choice
//     (RFC 3516 §4.2: [UNKNOWN-CTE]).
// At the end of the data call finish() until held() is false: it writes
// what the rules above decide for an unfinished tail (a final "=" or "="
// with blanks is a soft break, "=X" is kept literally, trailing blanks of the
// last line are deleted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd::mime {

enum class TransferEncoding : std::uint8_t { Identity, QuotedPrintable, Base64, Unknown };

// The encoding named by a Content-Transfer-Encoding value (RFC 2045 §6.1:
// a token, case-insensitive; comments and blanks around it ignored).
// "7bit", "8bit", "binary" and an empty value (field absent) are Identity;
// x-tokens and anything else are Unknown.
TransferEncoding transfer_encoding(std::string_view value);

struct DecodeStep {
    std::size_t consumed = 0;  // input bytes used
    std::size_t produced = 0;  // output bytes written
};

class TransferDecoder {
public:
    // Bytes a decoder may hold between calls: blanks that may end a line,
    // an "=" sequence, a decoded quantum not yet written.
    static constexpr std::size_t kMaxHeld = 80;

    explicit TransferDecoder(TransferEncoding encoding = TransferEncoding::Identity) {
        reset(encoding);
    }

    // Starts decoding new data in `encoding`.
    void reset(TransferEncoding encoding);
    TransferEncoding encoding() const { return encoding_; }

    // Decodes in[0..n) into out[0..cap). Returns when all input is consumed
    // or the output is full (then consumed may be < n: offer the rest again).
    DecodeStep decode(const char* in, std::size_t n, char* out, std::size_t cap);

    // The encoded data has ended: writes what is still held, as far as it
    // fits; returns the bytes written. Call again while held().
    std::size_t finish(char* out, std::size_t cap);

    // Bytes or state remain that finish() must resolve.
    bool held() const { return len_ > 0 || state_ != State::Text || bits_ > 0; }

private:
    enum class State : std::uint8_t {
        Text,   // between escapes (base64: always)
        Eq,     // QP: after "="
        Hex,    // QP: after "=" and one hex digit
        EqWs,   // QP: after "=" and blanks (a soft break with padding?)
        EqCr,   // QP: after a soft break's CR (an LF may follow)
        Drain,  // writing the held bytes before going on in Text
    };

    bool step_qp(char c);  // false: offer `c` again
    bool soft_break(char c);
    void step_base64(char c);
    std::size_t drain(char* out, std::size_t cap);
    void hold(char c) { held_[len_++] = c; }

    TransferEncoding encoding_ = TransferEncoding::Identity;
    State state_ = State::Text;
    std::uint8_t len_ = 0;     // bytes in held_
    std::uint8_t pos_ = 0;     // next byte of held_ to write (Drain)
    std::uint8_t bits_ = 0;    // base64: characters in the current quantum
    std::uint32_t acc_ = 0;    // base64: their 6-bit values
    char held_[kMaxHeld + 4];  // QP: the undecided bytes; base64: a quantum
};

}  // namespace tinyimapd::mime
