#include "core/imap/parser.h"

#include <cstring>

namespace tinyimapd::imap {
namespace {

constexpr std::uint64_t kMaxNumber = 4294967295u;  // RFC 3501 §9 "number"

constexpr bool is_ctl(std::uint8_t c) {
    return c < 0x20 || c == 0x7f;
}
constexpr bool is_8bit(std::uint8_t c) {
    return c >= 0x80;
}

// Bytes that may appear in our atom token. This is ATOM-CHAR widened by the
// characters that RFC 3501 puts into atom-like productions of particular
// commands: '\' (flags), '%' '*' (list-mailbox, sequence sets), ']'
// (ASTRING-CHAR) and '[' (which opens a section, handled by the caller).
// The command table then checks each argument against its production.
constexpr bool is_atom_byte(std::uint8_t c) {
    return !is_ctl(c) && !is_8bit(c) && c != ' ' && c != '(' && c != ')' && c != '{' && c != '"';
}

// tag = 1*<any ASTRING-CHAR except "+">
constexpr bool is_tag_byte(std::uint8_t c) {
    return is_atom_byte(c) && c != '%' && c != '*' && c != '\\' && c != '+' && c != '[';
}

// The fetch attributes whose '[' opens a section in which spaces and
// parentheses are allowed (RFC 3501 §9 "section", RFC 3516 "section-binary").
// Everywhere else '[' is an ordinary ATOM-CHAR.
bool opens_section(std::string_view atom) {
    const char* names[] = {"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE"};
    for (const char* n : names) {
        std::string_view name(n);
        if (atom.size() != name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < name.size() && same; ++i) {
            char a = atom[i];
            if (a >= 'a' && a <= 'z') a = static_cast<char>(a - 'a' + 'A');
            same = a == name[i];
        }
        if (same) return true;
    }
    return false;
}

const char* bad_byte_text(std::uint8_t c, const char* otherwise) {
    if (c == 0) return "NUL byte in command";
    if (is_8bit(c)) return "8-bit byte outside a quoted string or literal";
    if (is_ctl(c)) return "control character in command";
    return otherwise;
}

}  // namespace

Parser::Parser(char* arena, std::size_t arena_capacity, Arg* args, std::size_t max_args,
               const ParserLimits& limits)
    : arena_(arena),
      arena_capacity_(arena_capacity),
      args_(args),
      max_args_(max_args),
      limits_(limits) {
    if (limits_.max_depth > kParserMaxDepth) limits_.max_depth = kParserMaxDepth;
}

void Parser::begin_command() {
    state_ = State::Tag;
    reset_pending_ = false;
    just_opened_ = false;
    literal_plus_ = false;
    tag_done_ = false;
    used_ = 0;
    tag_length_ = 0;
    name_length_ = 0;
    arg_count_ = 0;
    line_length_ = 0;
    depth_ = 0;
    skip_phase_ = 0;
    skip_raw_ = false;
    clip_ = false;
}

bool Parser::put(char c) {
    if (used_ >= arena_capacity_) return false;
    arena_[used_++] = c;
    return true;
}

// A byte of a quoted string; within ID (clip_) only the head is kept.
bool Parser::put_string_byte(char c) {
    if (!clip_) return put(c);
    if (++string_length_ > kIdMaxString) return false;
    return string_length_ > kIdKeptBytes || put(c);
}

const char* Parser::string_error() const {
    return clip_ && string_length_ > kIdMaxString ? "ID string longer than 1024 octets"
                                                  : "Command too large";
}

// RFC 6855 §3 uQUOTED-CHAR: one byte of a quoted string, checked against
// RFC 3629 §4's UTF8-2 / UTF8-3 / UTF8-4; false when it cannot continue
// (or start) a well-formed sequence. ASCII is QUOTED-CHAR's business.
bool Parser::utf8_byte(std::uint8_t c) {
    if (utf8_due_ > 0) {
        if (c < utf8_lo_ || c > utf8_hi_) return false;
        --utf8_due_;
        utf8_lo_ = 0x80;
        utf8_hi_ = 0xbf;
        return true;
    }
    if (c < 0x80) return true;
    if (c >= 0xc2 && c <= 0xdf) {
        utf8_due_ = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        utf8_due_ = 2;
        if (c == 0xe0) utf8_lo_ = 0xa0;  // no overlong form
        if (c == 0xed) utf8_hi_ = 0x9f;  // no surrogate
    } else if (c >= 0xf0 && c <= 0xf4) {
        utf8_due_ = 3;
        if (c == 0xf0) utf8_lo_ = 0x90;  // no overlong form
        if (c == 0xf4) utf8_hi_ = 0x8f;  // nothing past U+10FFFF
    } else {
        return false;  // a continuation byte alone, C0, C1, F5..FF
    }
    return true;
}

std::uint32_t Parser::line_limit() const {
    return clip_ && kIdMaxLine > limits_.max_line_length ? kIdMaxLine : limits_.max_line_length;
}

bool Parser::open_arg(ArgType type) {
    if (arg_count_ >= max_args_) return false;
    Arg& a = args_[arg_count_++];
    a.type = type;
    a.offset = used_;
    a.length = 0;
    a.end = arg_count_;
    return true;
}

void Parser::close_string_arg() {
    Arg& a = args_[arg_count_ - 1];
    a.length = used_ - a.offset;
}

Fed Parser::fail(const char* message, std::size_t consumed, const char* code) {
    error_ = message;
    error_code_ = code;
    state_ = State::Skip;
    skip_phase_ = 0;
    return {ParseEvent::Error, consumed};
}

bool Parser::literal_fits() const {
    if (clip_) {
        const std::uint64_t kept = literal_size_ < kIdKeptBytes ? literal_size_ : kIdKeptBytes;
        return literal_size_ <= kIdMaxString && kept <= arena_capacity_ - used_;
    }
    return literal_size_ <= limits_.max_literal_size && literal_size_ <= arena_capacity_ - used_;
}

bool Parser::accept_literal() {
    if (state_ != State::LiteralWait || !literal_fits()) return false;
    state_ = literal_left_ == 0 ? State::Elem : State::LiteralData;
    return true;
}

void Parser::stream_literal() {
    if (state_ != State::LiteralWait) return;
    Arg& a = args_[arg_count_ - 1];
    a.type = ArgType::Streamed;
    a.length = static_cast<std::uint32_t>(literal_size_);
    state_ = literal_left_ == 0 ? State::Elem : State::LiteralStream;
}

void Parser::refuse_literal() {
    if (state_ != State::LiteralWait) return;
    drop_literal();
}

// The literal just announced will not be taken. RFC 3501 §7.5: the client
// does not send the data of a synchronizing literal it got no "+" for; what
// follows is a new command. RFC 7888 §4: a non-synchronizing literal's data
// comes anyway; it is read and discarded with the rest of its line.
void Parser::drop_literal() {
    if (literal_plus_) {
        literal_left_ = literal_size_;
        skip_phase_ = 0;
        state_ = literal_left_ == 0 ? State::Skip : State::SkipLiteral;
    } else {
        state_ = State::Tag;
        reset_pending_ = true;
    }
}

void Parser::expect_line() {
    begin_command();
    state_ = State::RawLine;
}

// Called for each byte of a line being skipped after an error. Recognises a
// "{n+}" CRLF ending the line (RFC 7888 §3: the data belongs to the same
// command) so that the data is skipped too instead of being read as commands.
void Parser::skip_byte(std::uint8_t c) {
    if (skip_raw_ && c != '\n') return;
    if (c == '\n') {
        if (skip_phase_ >= 3 && skip_plus_) {
            literal_left_ = skip_count_;
            skip_phase_ = 0;
            state_ = literal_left_ == 0 ? State::Skip : State::SkipLiteral;
            return;
        }
        // End of the bad command (a "{n}" the client waits on ends it too:
        // it gets our BAD instead of a continuation request).
        state_ = State::Tag;
        reset_pending_ = true;
        return;
    }
    if (c == '{') {
        skip_phase_ = 1;
        skip_count_ = 0;
        skip_digits_ = 0;
        skip_plus_ = false;
        return;
    }
    switch (skip_phase_) {
        case 1:
            if (c >= '0' && c <= '9') {
                std::uint64_t d = c - '0';
                skip_count_ =
                    skip_count_ > (UINT64_MAX - d) / 10 ? UINT64_MAX : skip_count_ * 10 + d;
                ++skip_digits_;
            } else if (c == '+' && skip_digits_ > 0) {
                skip_phase_ = 2;
            } else if (c == '}' && skip_digits_ > 0) {
                skip_phase_ = 3;
            } else {
                skip_phase_ = 0;
            }
            break;
        case 2:
            skip_plus_ = true;
            skip_phase_ = c == '}' ? 3 : 0;
            break;
        case 3: skip_phase_ = c == '\r' ? 4 : 0; break;
        default: skip_phase_ = 0; break;
    }
}

Fed Parser::feed(const std::uint8_t* data, std::size_t length) {
    std::size_t i = 0;
    while (i < length) {
        if (reset_pending_) begin_command();
        const std::uint8_t c = data[i];

        // States that move many bytes at once or do not count toward the
        // line length.
        switch (state_) {
            case State::LiteralWait: return {ParseEvent::LiteralRequest, i};
            case State::LiteralData: {
                std::size_t n = length - i;
                if (n > literal_left_) n = static_cast<std::size_t>(literal_left_);
                std::size_t keep = n;
                if (clip_) {
                    const std::size_t stored = used_ - args_[arg_count_ - 1].offset;
                    const std::size_t room = stored < kIdKeptBytes ? kIdKeptBytes - stored : 0;
                    if (keep > room) keep = room;
                }
                std::memcpy(arena_ + used_, data + i, keep);
                used_ += static_cast<std::uint32_t>(keep);
                literal_left_ -= n;
                i += n;
                if (literal_left_ == 0) {
                    close_string_arg();
                    state_ = State::Elem;
                }
                continue;
            }
            case State::LiteralStream: {
                std::size_t n = length - i;
                if (n > literal_left_) n = static_cast<std::size_t>(literal_left_);
                chunk_ = std::string_view(reinterpret_cast<const char*>(data + i), n);
                literal_left_ -= n;
                i += n;
                if (literal_left_ == 0) state_ = State::Elem;
                return {ParseEvent::LiteralChunk, i};
            }
            case State::RawLine:
                ++i;
                if (c == '\n') {
                    if (used_ > 0 && arena_[used_ - 1] == '\r') --used_;
                    name_length_ = used_;
                    reset_pending_ = true;
                    state_ = State::Tag;
                    return {ParseEvent::Line, i};
                }
                if (++line_length_ > limits_.max_line_length || !put(static_cast<char>(c))) {
                    // The rest of the line is skipped as plain bytes: a SASL
                    // response or DONE has no literals.
                    Fed f = fail("Line too long", i, "TOOBIG");
                    skip_raw_ = true;
                    return f;
                }
                continue;
            case State::SkipLiteral: {
                std::size_t n = length - i;
                if (n > literal_left_) n = static_cast<std::size_t>(literal_left_);
                literal_left_ -= n;
                i += n;
                if (literal_left_ == 0) state_ = State::Skip;
                continue;
            }
            case State::Skip:
                skip_byte(c);
                ++i;
                continue;
            default: break;
        }

        ++i;
        if (++line_length_ > line_limit()) {
            Fed f = fail("Command line too long", i, "TOOBIG");
            skip_byte(c);
            return f;
        }

        // A failure at byte c: enter Skip with c as the first skipped byte,
        // so an LF ends the bad line at once and a '{' starts a literal.
        auto bad = [&](const char* message, const char* code = "") {
            Fed f = fail(message, i, code);
            skip_byte(c);
            return f;
        };
        auto end_of_line = [&]() -> Fed {
            if (depth_ > 0) return bad("Unclosed parenthesis");
            state_ = State::Tag;
            reset_pending_ = true;
            return {ParseEvent::Command, i};
        };
        auto close_list = [&]() -> bool {
            if (depth_ == 0) return false;
            args_[open_lists_[--depth_]].end = arg_count_;
            state_ = State::Elem;
            return true;
        };

        switch (state_) {
            case State::Tag:
                if (c == ' ') {
                    if (tag_length_ == 0) return bad("Missing tag");
                    tag_done_ = true;
                    state_ = State::Name;
                } else if (c == '\r' || c == '\n') {
                    // An empty line is ignored (RFC 2683 §3.2.1.1 robustness).
                    if (tag_length_ == 0) {
                        line_length_ = 0;
                        continue;
                    }
                    tag_done_ = true;
                    return bad("Missing command name");
                } else if (is_tag_byte(c)) {
                    if (tag_length_ >= kMaxTagLength) return bad("Tag too long");
                    if (!put(static_cast<char>(c))) return bad("Command too large");
                    ++tag_length_;
                } else {
                    return bad(bad_byte_text(c, "Invalid character in tag"));
                }
                break;

            case State::Name:
                if (c == ' ' || c == '\r' || c == '\n') {
                    if (name_length_ == 0) return bad("Missing command name");
                    if (c == ' ') {
                        state_ = State::Sep;
                        just_opened_ = false;
                        clip_ = name_length_ == 2 && (arena_[tag_length_] | 0x20) == 'i' &&
                                (arena_[tag_length_ + 1] | 0x20) == 'd';
                    } else if (c == '\r') {
                        state_ = State::LineLf;
                    } else {
                        return end_of_line();
                    }
                } else if (is_atom_byte(c) && c != '[') {
                    if (!put(static_cast<char>(c))) return bad("Command too large");
                    ++name_length_;
                } else {
                    return bad(bad_byte_text(c, "Invalid character in command name"));
                }
                break;

            case State::Sep:
                if (c == '(') {
                    if (depth_ >= limits_.max_depth) return bad("Lists nested too deeply");
                    if (!open_arg(ArgType::List)) return bad("Too many arguments");
                    open_lists_[depth_++] = arg_count_ - 1;
                    just_opened_ = true;
                } else if (c == ')') {
                    if (!just_opened_ || !close_list()) return bad("Unexpected ')'");
                } else if (c == '"') {
                    if (!open_arg(ArgType::Quoted)) return bad("Too many arguments");
                    string_length_ = 0;
                    utf8_due_ = 0;
                    utf8_lo_ = 0x80;
                    utf8_hi_ = 0xbf;
                    state_ = State::Quoted;
                } else if (c == '{') {
                    state_ = State::LiteralSize;
                    literal_size_ = 0;
                    literal_digits_ = 0;
                    literal_plus_ = false;
                } else if (c == ' ') {
                    return bad("Unexpected space");
                } else if (c == '\r' || c == '\n') {
                    return bad(depth_ > 0 ? "Unclosed parenthesis"
                                          : "Missing argument after space");
                } else if (is_atom_byte(c)) {
                    if (!open_arg(ArgType::Atom)) return bad("Too many arguments");
                    if (!put(static_cast<char>(c))) return bad("Command too large");
                    state_ = State::Atom;
                } else {
                    return bad(bad_byte_text(c, "Invalid character"));
                }
                if (state_ != State::Sep) just_opened_ = false;
                break;

            case State::Atom:
                if (is_atom_byte(c)) {
                    if (c == '[' && opens_section(text(args_[arg_count_ - 1].offset,
                                                       used_ - args_[arg_count_ - 1].offset))) {
                        state_ = State::Bracket;
                    }
                    if (!put(static_cast<char>(c))) return bad("Command too large");
                    break;
                }
                if (c == '{' && used_ - args_[arg_count_ - 1].offset == 1 &&
                    text(args_[arg_count_ - 1].offset, 1) == "~") {
                    // RFC 3516 §4.4 literal8 ("~{n}", APPEND's message with
                    // BINARY): a literal like any other to the caller.
                    used_ = args_[arg_count_ - 1].offset;
                    --arg_count_;
                    state_ = State::LiteralSize;
                    literal_size_ = 0;
                    literal_digits_ = 0;
                    literal_plus_ = false;
                    break;
                }
                // The atom ends here; the byte is what follows an element.
                close_string_arg();
                state_ = State::Elem;
                [[fallthrough]];

            case State::Elem:
                if (c == ' ') {
                    state_ = State::Sep;
                    just_opened_ = false;
                } else if (c == ')') {
                    if (!close_list()) return bad("Unexpected ')'");
                } else if (c == '\r') {
                    state_ = State::LineLf;
                } else if (c == '\n') {
                    return end_of_line();
                } else {
                    return bad(bad_byte_text(c, "Expected space, ')' or end of line"));
                }
                break;

            case State::Bracket:
                // BODY[HEADER.FIELDS (From To)]: spaces and parentheses are
                // part of the section; the fetch grammar checks the rest.
                if (c == '\r' || c == '\n') return bad("Unterminated '['");
                if (is_ctl(c) || is_8bit(c)) return bad(bad_byte_text(c, ""));
                if (!put(static_cast<char>(c))) return bad("Command too large");
                if (c == ']') state_ = State::Atom;
                break;

            case State::Quoted:
                if (utf8_ && !utf8_byte(c)) return bad("Invalid UTF-8 in quoted string");
                if (c == '"') {
                    close_string_arg();
                    state_ = State::Elem;
                } else if (c == '\\') {
                    state_ = State::QuotedEscape;
                } else if (c == '\r' || c == '\n') {
                    return bad("Unterminated quoted string");
                } else if (c == 0) {
                    return bad("NUL byte in quoted string");
                } else if (!put_string_byte(static_cast<char>(c))) {
                    return bad(string_error());
                }
                break;

            case State::QuotedEscape:
                // quoted-specials only: RFC 3501 §9 QUOTED-CHAR.
                if (c != '"' && c != '\\') return bad("Invalid escape in quoted string");
                if (!put_string_byte(static_cast<char>(c))) return bad(string_error());
                state_ = State::Quoted;
                break;

            case State::LiteralSize:
                if (c >= '0' && c <= '9') {
                    literal_size_ = literal_size_ * 10 + (c - '0');
                    ++literal_digits_;
                    if (literal_size_ > kMaxNumber) {
                        Fed f = fail("Literal size out of range", i, "TOOBIG");
                        skip_phase_ = 1;  // keep recognising "{...+}" CRLF
                        skip_count_ = UINT64_MAX;
                        skip_digits_ = 1;
                        skip_plus_ = false;
                        return f;
                    }
                } else if ((c == '+' || c == '}') && literal_digits_ > 0) {
                    literal_plus_ = c == '+';
                    state_ = c == '+' ? State::LiteralPlus : State::LiteralCr;
                } else {
                    return bad("Invalid literal size");
                }
                break;

            case State::LiteralPlus:
                if (c != '}') return bad("Invalid literal size");
                state_ = State::LiteralCr;
                break;

            case State::LiteralCr:
            case State::LiteralLf:
                if (c == '\r' && state_ == State::LiteralCr) {
                    state_ = State::LiteralLf;
                    break;
                }
                if (c != '\n') return bad("A literal's size must end the line");
                if (!open_arg(ArgType::Literal)) {
                    Fed f = fail("Too many arguments", i);
                    drop_literal();
                    return f;
                }
                // Every literal, synchronizing or not, is offered to the
                // caller, who knows what the command is: kept in the arena,
                // streamed (APPEND's message) or refused (too large).
                literal_left_ = literal_size_;
                state_ = State::LiteralWait;
                return {ParseEvent::LiteralRequest, i};

            case State::LineLf:
                if (c != '\n') return bad("CR not followed by LF");
                return end_of_line();

            case State::LiteralStream:
            case State::RawLine: break;  // handled above

            case State::LiteralWait:
            case State::LiteralData:
            case State::Skip:
            case State::SkipLiteral: break;  // handled above
        }
    }
    return {ParseEvent::NeedMore, i};
}

}  // namespace tinyimapd::imap
