// FramingCheck: checks, byte by byte, that a server's output stream is
// framed as RFC 3501 §2.2.2 and §7 require, whatever the chunking.
//
// What it checks: every line ends in CRLF (no bare CR or LF outside a
// literal); every line starts with "*", "+" or a tag; a tagged line is a
// status response (OK, NO, BAD); in a status response an optional response
// code "[...]" is closed on the same line with its parentheses balanced;
// in any other response, parentheses and brackets nest and are balanced
// and quoted strings are closed at the end of the line (a "{n}" CRLF inside
// one logical line is a literal: exactly n bytes follow, then the line goes
// on); no NUL outside a literal. resp-text (after a status and its code,
// and after "+") is free text.
//
// It owns a few counters and a small stack; no allocation, no I/O, so the
// same check runs in the session (sanitizer and fuzz builds: Session feeds
// it every byte it hands to the loop), in the simulated-server tests and in
// the fuzz targets. feed() returns false at the first violation; error()
// says what and where; the checker then stays failed until reset().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd::imap {

class FramingCheck {
public:
    // Takes the next bytes of the stream; false once the stream is malformed.
    bool feed(std::string_view bytes);
    bool ok() const { return error_ == nullptr; }
    const char* error() const { return error_ != nullptr ? error_ : ""; }
    // Lines completed so far.
    std::uint64_t lines() const { return lines_; }
    // True between lines (nothing of a line or literal pending).
    bool at_line_start() const { return state_ == State::LineStart; }
    void reset() { *this = FramingCheck{}; }

private:
    enum class State : std::uint8_t {
        LineStart,   // nothing of the line yet
        FirstToken,  // inside "*", "+" or the tag
        Word,        // the word after "* " or "tag " (maybe a number first)
        CodeStart,   // after a status word and SP: "[" or text
        Code,        // inside "[...]"
        Text,        // resp-text, to the end of the line
        Data,        // a data response's contents
        Quoted,      // inside "..." in Data
        QuotedEscape,
        LiteralSize,  // after "{" in Data
        LiteralEnd,   // after "}" (or "+}"): CR LF must follow
        LiteralLf,    // after "}" CR
        Literal,      // literal bytes
        Cr,           // CR seen: LF must follow
    };
    bool fail(const char* why);
    bool byte(char c);
    bool end_line();
    bool word_done();

    static constexpr std::size_t kMaxDepth = 64;
    static constexpr std::size_t kMaxWord = 16;
    State state_ = State::LineStart;
    char first_ = 0;         // '*', '+' or 't' (a tag)
    bool numbered_ = false;  // "* 3 ...": the number was read
    char word_[kMaxWord] = {};
    std::size_t word_length_ = 0;
    char stack_[kMaxDepth] = {};
    std::size_t depth_ = 0;
    std::uint64_t literal_ = 0;  // announced size, then bytes left
    std::size_t literal_digits_ = 0;
    bool literal_plus_ = false;
    std::uint64_t lines_ = 0;
    const char* error_ = nullptr;
};

}  // namespace tinyimapd::imap
