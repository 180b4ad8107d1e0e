// The IMAP command parser: incremental, resumable at any byte, no allocation.
//
// It turns the client's byte stream into commands: a tag, a command name and
// a flat, pre-order array of arguments (atoms, quoted strings, literals and
// parenthesised lists). It knows the lexical grammar of RFC 3501 §9 (and of
// RFC 7888's non-synchronizing literals); what each command's arguments must
// look like is checked afterwards by the command table (core/imap/command*.h),
// the way Dovecot's imap-parser and its command handlers share the work.
//
//            +-------- SP --------+
//            v                    |
//   Tag -SP-> Name -SP-> Sep -elem-> Elem -CRLF-> [Command]
//                         ^  '(' / ')'  |
//                         +-------------+
//   elem: Atom (with BODY[...] brackets), Quoted (UTF-8 checked after
//         set_utf8), "{n}" or "{n+}" CRLF Data
//   "{n}"  : [LiteralRequest] -> accept_literal() -> Data
//                             -> refuse_literal() -> Tag (a new command)
//   error  : [Error] -> Skip to end of line (skipping "{n+}" data) -> Tag
//
// Ownership: the caller gives an arena for the bytes of one command (tag,
// name, atom/string contents, unescaped) and an array for its arguments;
// both are reused by the next command. Views returned by command() are valid
// until the next call to feed().
//
// Invariants: the parser never reads a byte twice and never buffers input;
// every limit (line length, literal size, arena, argument count, nesting
// depth) ends in an Error, after which the parser resynchronises at the end
// of the line, so a connection stays usable (DESIGN.md "Memory").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tinyimapd::imap {

enum class ArgType : std::uint8_t {
    Atom,      // includes NIL, numbers, flags (\Seen), sets (1:*), BODY[...]<..>
    Quoted,    // contents unescaped
    Literal,   // contents as sent
    Streamed,  // a literal handed to the caller chunk by chunk; length = its size
    List,      // children follow it in the array, up to (not including) `end`
};

struct Arg {
    ArgType type = ArgType::Atom;
    std::uint32_t offset = 0;  // into the arena (strings)
    std::uint32_t length = 0;  // bytes (strings)
    std::uint32_t end = 0;     // List: index one past its last descendant
};

struct ParserLimits {
    std::uint32_t max_line_length = 8192;    // bytes of a command outside literal data
    std::uint32_t max_literal_size = 65536;  // one literal (APPEND's is decided by the caller)
    std::uint32_t max_depth = 32;            // nesting of parenthesised lists
};

enum class ParseEvent : std::uint8_t {
    NeedMore,        // every byte was consumed; nothing complete yet
    Command,         // a whole command is ready: tag(), name(), args
    LiteralRequest,  // "{n}" or "{n+}" announced: accept, stream or refuse it
    LiteralChunk,    // data of a streamed literal: chunk(), literal_remaining()
    Line,            // a raw line after expect_line(): line()
    Error,           // syntax or limit error: error_text(), tag() (may be empty)
};

struct Fed {
    ParseEvent event;
    std::size_t consumed;
};

class Parser {
public:
    Parser(char* arena, std::size_t arena_capacity, Arg* args, std::size_t max_args,
           const ParserLimits& limits);

    // Forgets any partial command (a new connection, or after STARTTLS).
    void reset() { begin_command(); }

    // Consumes bytes up to and including the one that completes an event.
    Fed feed(const std::uint8_t* data, std::size_t length);

    // After LiteralRequest: the announced size, whether the client waits for
    // "+" (synchronizing), and whether accept_literal() can keep it.
    std::uint32_t literal_size() const { return static_cast<std::uint32_t>(literal_size_); }
    bool literal_sync() const { return !literal_plus_; }
    bool literal_fits() const;
    // Keeps the data in the arena; false (and nothing changes) if it does
    // not fit within max_literal_size and the arena: refuse it then.
    bool accept_literal();
    // Hands the data to the caller as LiteralChunk events (APPEND's message,
    // streamed to storage); the argument becomes ArgType::Streamed.
    void stream_literal();
    // Declines the literal: a synchronizing one is never sent and the next
    // byte starts a new command; a non-synchronizing one is read and
    // discarded with the rest of its command line. The caller answers BAD/NO.
    void refuse_literal();

    // After LiteralChunk: the bytes (a view into the fed input, valid until
    // the next feed) and how many are still to come.
    std::string_view chunk() const { return chunk_; }
    std::uint64_t literal_remaining() const { return literal_left_; }

    // The next line is read raw, up to CRLF (AUTHENTICATE responses, RFC
    // 3501 §6.2.2; IDLE's DONE, RFC 2177), and returned as a Line event.
    void expect_line();
    std::string_view line() const { return text(0, name_length_); }

    // After Command (and, for the tag and name, after LiteralRequest/Error).
    std::string_view tag() const { return tag_done_ ? text(0, tag_length_) : std::string_view(); }
    std::string_view name() const { return text(tag_length_, name_length_); }
    std::size_t arg_count() const { return arg_count_; }
    const Arg& arg(std::size_t i) const { return args_[i]; }
    std::string_view arg_text(std::size_t i) const {
        return text(args_[i].offset, args_[i].length);
    }

    // RFC 6855 §3 (ENABLE UTF8=ACCEPT): from the next command on, an 8-bit
    // byte in a quoted string must belong to well-formed UTF-8 (RFC 3629
    // §4: no overlong form, no surrogate, nothing past U+10FFFF), else the
    // command is an Error ("MUST reject, with a BAD"). Off (the default),
    // 8-bit bytes in quoted strings pass as they are, as ever.
    void set_utf8(bool on) { utf8_ = on; }
    bool utf8() const { return utf8_; }

    // The arena's free bytes behind the current command's (after Command,
    // until the next feed): where the caller may keep text derived from its
    // arguments for as long as their views live (RFC 6855 mailbox names
    // converted to modified UTF-7). claim_spare(n) marks n of them used.
    char* spare() const { return arena_ + used_; }
    std::size_t spare_size() const { return arena_capacity_ - used_; }
    void claim_spare(std::size_t n) { used_ += static_cast<std::uint32_t>(n); }

    // After Error: a short English explanation, and an RFC 5530 code or "".
    const char* error_text() const { return error_; }
    const char* error_code() const { return error_code_; }

    // True while the parser is between commands (nothing of a new one seen).
    bool at_command_start() const {
        return reset_pending_ || (state_ == State::Tag && tag_length_ == 0);
    }
    // True when the arena holds nothing the parser or its caller still
    // needs: between commands, or waiting for a raw line (expect_line) of
    // which no byte came yet. Then rebind() may swap the memory.
    bool holds_nothing() const {
        return at_command_start() || (state_ == State::RawLine && used_ == 0);
    }
    // Another arena and argument array of the same capacities (a block
    // borrowed from a pool, core/session/command_pool.h); only while
    // holds_nothing().
    void rebind(char* arena, Arg* args) {
        arena_ = arena;
        args_ = args;
    }

private:
    enum class State : std::uint8_t {
        Tag,
        Name,
        Sep,   // after SP or '(' : an element must follow (or ')' after '(')
        Elem,  // after an element: SP, ')' or end of line
        Atom,
        Bracket,  // inside the [...] of BODY[...] / BINARY[...]
        Quoted,
        QuotedEscape,
        LiteralSize,
        LiteralPlus,  // after "{n+"
        LiteralCr,    // after '}' : CR LF
        LiteralLf,
        LiteralWait,  // LiteralRequest returned, waiting for the caller
        LiteralData,
        LiteralStream,  // data handed out as LiteralChunk events
        RawLine,        // expect_line(): bytes up to LF
        LineLf,         // after CR at the end of the command
        Skip,           // after an error: to the end of the line
        SkipLiteral,    // skipping the data of a "{n+}" in a bad line
    };

    std::string_view text(std::uint32_t offset, std::uint32_t length) const {
        return {arena_ + offset, length};
    }
    void begin_command();
    bool put(char c);
    bool put_string_byte(char c);
    const char* string_error() const;
    bool utf8_byte(std::uint8_t c);
    std::uint32_t line_limit() const;
    bool open_arg(ArgType type);
    void close_string_arg();
    Fed fail(const char* message, std::size_t consumed, const char* code = "");
    void skip_byte(std::uint8_t c);
    void drop_literal();

    char* arena_;
    std::size_t arena_capacity_;
    Arg* args_;
    std::size_t max_args_;
    ParserLimits limits_;

    State state_ = State::Tag;
    bool reset_pending_ = false;  // the command ended: start afresh at the next byte
    bool just_opened_ = false;    // Sep state entered by '(' (so ')' may follow)
    bool literal_plus_ = false;
    bool tag_done_ = false;
    std::uint32_t used_ = 0;  // arena bytes
    std::uint32_t tag_length_ = 0;
    std::uint32_t name_length_ = 0;
    std::uint32_t arg_count_ = 0;
    std::uint32_t line_length_ = 0;
    std::uint32_t depth_ = 0;
    std::uint32_t open_lists_[64] = {};  // arg index of each open list
    std::uint64_t literal_size_ = 0;
    std::uint64_t literal_left_ = 0;
    std::uint32_t literal_digits_ = 0;
    // Skip state: recognises a trailing "{n+}" so its data is skipped too.
    std::uint8_t skip_phase_ = 0;
    bool skip_plus_ = false;
    bool skip_raw_ = false;  // skipping a raw line: "{n+}" in it means nothing
    bool clip_ = false;      // an ID command: strings kept up to kIdKeptBytes
    bool utf8_ = false;      // RFC 6855: quoted strings are checked as UTF-8
    // The UTF-8 sequence being read in a quoted string (utf8_): continuation
    // bytes still due, and the range the next one must fall in (RFC 3629
    // §4: E0 A0..BF, ED 80..9F, F0 90..BF, F4 80..8F; else 80..BF).
    std::uint8_t utf8_due_ = 0;
    std::uint8_t utf8_lo_ = 0x80;
    std::uint8_t utf8_hi_ = 0xbf;
    std::uint32_t string_length_ = 0;  // bytes of the quoted string being read
    std::uint32_t skip_digits_ = 0;
    std::uint64_t skip_count_ = 0;
    std::string_view chunk_;
    const char* error_ = "";
    const char* error_code_ = "";
};

// RFC 2971 §3.3: an ID command may carry 30 field-value pairs with values of
// up to 1024 octets, more than max_line_length allows. The server only logs
// the head of the client's name and version, so within an ID command strings
// (quoted or literal) are kept up to kIdKeptBytes and the rest is counted,
// not stored: the line may then be kIdMaxLine long (Dovecot's 64 KiB) without
// the arena holding it. A string over kIdMaxString is an error.
inline constexpr std::uint32_t kIdMaxLine = 65536;
inline constexpr std::uint32_t kIdMaxString = 1024;
inline constexpr std::uint32_t kIdKeptBytes = 64;

// Tags longer than this are refused (untagged BAD): every response line
// echoes the tag, and responses are built in bounded buffers.
inline constexpr std::uint32_t kMaxTagLength = 128;

// The maximum nesting depth the parser can track (ParserLimits::max_depth is
// clamped to it).
inline constexpr std::uint32_t kParserMaxDepth = 64;

}  // namespace tinyimapd::imap
