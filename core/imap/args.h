// ArgReader: a cursor over one parsed command's arguments, with readers for
// the basic productions of RFC 3501 §9 (atom, number, nz-number, string,
// astring, nstring, lists).
//
// The parser (core/imap/parser.h) leaves a flat, pre-order array of
// arguments; an ArgReader walks one level of it (the command's top level, or
// the inside of one list). Readers return false and leave the cursor where it
// was when the next argument does not match, so a grammar can try
// alternatives; `error()` keeps the first explanation a reader gave.
//
// No allocation: views point into the parser's arena.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/imap/parser.h"
#include "core/mail/flags.h"

namespace tinyimapd::imap {

// RFC 3501 §9 character classes.
// ATOM-CHAR and atom are the keyword rules of core/mail/flags.h
// (is_atom_char, is_atom), which this namespace takes from there.
using mail::is_atom;
using mail::is_atom_char;
bool is_astring_char(char c);  // ASTRING-CHAR = ATOM-CHAR / "]"
bool is_tag_char(char c);      // ASTRING-CHAR except "+"
// number: 32-bit unsigned decimal, no sign (RFC 3501 §9 "number").
bool parse_number(std::string_view s, std::uint32_t* out);
// 63-bit unsigned decimal (RFC 7162 "mod-sequence-value", RFC 4466 number64).
bool parse_number64(std::string_view s, std::uint64_t* out);

class ArgReader {
public:
    // The top level of the parser's current command.
    explicit ArgReader(const Parser& parser)
        : parser_(&parser), pos_(0), end_(static_cast<std::uint32_t>(parser.arg_count())) {}
    // An empty level (at_end() at once), for a field filled in later.
    ArgReader() : parser_(nullptr), pos_(0), end_(0) {}

    bool at_end() const { return pos_ >= end_; }
    // RFC 6855: the session enabled UTF8=ACCEPT (Parser::set_utf8), so its
    // mailbox names are UTF-8, not modified UTF-7.
    bool utf8() const { return parser_->utf8(); }
    std::size_t remaining() const;  // arguments left at this level

    // The type and text of the next argument without consuming it.
    bool peek_type(ArgType* type) const;
    std::string_view peek_text() const;
    // True if the next argument is an atom equal to `word` (ASCII case-insensitive).
    bool peek_word(std::string_view word) const;

    // atom: any atom (the lexer's wider atom, e.g. "BODY[1]<0.5>", "1:*").
    bool atom(std::string_view* out);
    // Consumes the next argument if it is the atom `word`, case-insensitively.
    bool word(std::string_view word);
    bool number(std::uint32_t* out);      // number
    bool nz_number(std::uint32_t* out);   // nz-number (1..2^32-1)
    bool number64(std::uint64_t* out);    // mod-sequence-value and friends
    bool string(std::string_view* out);   // quoted / literal
    bool quoted(std::string_view* out);   // quoted only (date-time)
    bool astring(std::string_view* out);  // 1*ASTRING-CHAR / string
    // nstring: string / NIL; *is_nil tells which.
    bool nstring(std::string_view* out, bool* is_nil);
    // A parenthesised list: `inner` walks its elements.
    bool list(ArgReader* inner);
    // Skips one argument (a list with everything inside it).
    bool skip();

    // The first error text a reader set with fail(), or "".
    const char* error() const { return error_ != nullptr ? error_ : ""; }
    // Records why the grammar failed (keeps the first reason) and returns false.
    bool fail(const char* why) {
        if (error_ == nullptr) error_ = why;
        return false;
    }

private:
    ArgReader(const Parser& parser, std::uint32_t pos, std::uint32_t end)
        : parser_(&parser), pos_(pos), end_(end) {}
    const Arg* next() const { return at_end() ? nullptr : &parser_->arg(pos_); }
    void advance() { pos_ = parser_->arg(pos_).end; }

    const Parser* parser_;
    std::uint32_t pos_;
    std::uint32_t end_;
    const char* error_ = nullptr;
};

}  // namespace tinyimapd::imap
