// The IMAP response encoder: writes response lines token by token into a
// bounded buffer, choosing for every string the wire form its bytes allow,
// and streams large literals into a connection's output buffer as a
// resumable job.
//
// ResponseWriter appends to a caller-owned TextWriter (a stack buffer, a
// FixedText in the session); it owns nothing. The caller hands the finished
// line to OutBuffer::append(), which is all-or-nothing, so a response is
// never half queued; append_to() does both checks. Elements are separated by
// one SP automatically: after an element (atom, number, string, list,
// code) the next element is preceded by SP; after '(' , '[' or at the start
// of a line it is not.
//
// Invariants: nothing the caller passes can break the framing of a line. A
// string is written either quoted or as a literal whose announced length is
// exact; resp-text is sanitised (no CR, LF or NUL); tokens that cannot be
// written as given (an atom with a CTL, a code with ']') mark the writer
// invalid instead of being sent. ok() is false after overflow or such a
// misuse; the line must then not be sent.
//
// String forms (RFC 3501 §4.3, §9 "string", "quoted", "literal"):
//   - quoted  when every byte is a 7-bit TEXT-CHAR other than '"' and '\'
//             (so no NUL, CR, LF or 8-bit byte), and for the empty string;
//   - literal "{n}" CRLF bytes otherwise. A '"' or '\' goes into a literal
//             rather than a quoted-special escape: escapes are the part of
//             quoted strings that client parsers have got wrong in the past,
//             while every client must parse literals for BODY[] anyway.
//             NUL is not a CHAR8 (RFC 3501 §9); a literal is still the only
//             form that can carry it, so callers should not pass NUL.
// astring (RFC 3501 §9 "astring") is an atom when it is 1*ASTRING-CHAR, is
// not any case of "NIL" (a client reading a generic token would take it for
// nil) and has no '[' (an atom starting "BODY[" opens a fetch section in
// parsers like ours); otherwise a string. nstring is NIL or a string, never
// an atom. mailbox is INBOX for any case of INBOX (RFC 3501 §5.1), else an
// astring.
//
// Downgraded strings (RFC 6855 §7, RFC 6858 §2): a writer told
// downgrade(true) writes every string() and nstring() that holds 8-bit
// well-formed UTF-8 as a quoted string of RFC 2047 encoded words
// (mime::EncodedWordWriter), for a session that did not enable UTF-8; 7-bit
// strings and 8-bit strings that are not UTF-8 are written as above.
// ENVELOPE and BODYSTRUCTURE renderers use it; nothing else does.
//
// LiteralStreamer sends one literal of any size (BODY[] of a large message)
// from a ByteSource (core/base/byte_source.h) into an OutBuffer as room appears (DESIGN.md: large
// responses are resumable jobs). The announced size is a promise: if the
// source fails or ends early the streamer reports Failed and the session must
// close the connection without writing anything more on it — no BYE, since
// any byte sent now would be counted as literal data and the client would
// accept a corrupted literal as complete.
//
// RFC 3501 §4 (data formats), §7 (responses: resp-text, response codes,
// continuation requests), §9 (formal syntax); RFC 5530 (response codes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "core/base/byte_source.h"
#include "core/base/out_buffer.h"
#include "core/base/text.h"

namespace tinyimapd::imap {

// How string() writes a given byte string.
enum class StringForm : std::uint8_t { Quoted, Literal };

// The form string() chooses for `s` (see the header paragraph).
StringForm string_form(std::string_view s);
// True when astring() writes `s` as an atom.
bool is_astring_atom(std::string_view s);

class ResponseWriter {
public:
    explicit ResponseWriter(TextWriter& out);

    // --- line starts: each begins a new line's element sequence
    ResponseWriter& star();                   // "*" (untagged)
    ResponseWriter& tag(std::string_view t);  // a command's tag; "" writes "*"

    // --- elements
    // A raw token as given: flags ("\Seen"), response names ("FETCH"), fetch
    // items ("BODY[HEADER.FIELDS (From)]"), sets. Must be non-empty without
    // CTL, 8-bit, '"' or '{' (else the writer becomes invalid).
    ResponseWriter& atom(std::string_view a);
    ResponseWriter& number(std::uint64_t n);
    ResponseWriter& nil();
    ResponseWriter& string(std::string_view s);
    ResponseWriter& astring(std::string_view s);
    ResponseWriter& nstring(std::string_view s, bool is_nil);
    ResponseWriter& mailbox(std::string_view name);
    // A quoted string of encoded words holding the concatenation of
    // `pieces` (UTF-8), whatever the downgrade mode (RFC 6858 §2.1's
    // display name of an address).
    ResponseWriter& encoded_words(std::initializer_list<std::string_view> pieces);
    ResponseWriter& open_list();
    ResponseWriter& close_list();

    // --- response codes (RFC 3501 §7.1, RFC 5530): "[NAME]", or
    // open_code("NAME"), argument elements, close_code() for "[NAME args]".
    // The name must be an atom without ']'.
    ResponseWriter& code(std::string_view name);
    ResponseWriter& open_code(std::string_view name);
    ResponseWriter& close_code();

    // --- end of a line
    // SP and resp-text: CR, LF and NUL become SP, 8-bit bytes '?', and a
    // leading '[' (which a client would read as a response code) '('.
    ResponseWriter& text(std::string_view t);
    ResponseWriter& crlf();

    // An explicit SP, after which the next element is not separated again:
    // used before handing over to LiteralStreamer ("BODY[] " then "{n}").
    ResponseWriter& sp();
    // Marks that an element was written elsewhere (a streamed literal), so
    // the next element is separated from it.
    ResponseWriter& element_written();

    // --- whole status lines, CRLF included (RFC 3501 §7.1)
    // tag SP status SP ["[" code "]" SP] text CRLF. `code` is the response
    // code's text ("UIDVALIDITY 3", "" for none); it must be TEXT-CHARs
    // without ']' (else invalid). An empty text is replaced by a word
    // ("completed", "failed", ...) because text is 1*TEXT-CHAR.
    ResponseWriter& tagged(std::string_view tag, std::string_view status, std::string_view code,
                           std::string_view text);
    ResponseWriter& untagged(std::string_view status, std::string_view code, std::string_view text);
    // "+" SP text CRLF (RFC 3501 §7.5). An empty text gives "+ " CRLF, which
    // is the empty base64 challenge of AUTHENTICATE (RFC 3501 §6.2.2).
    ResponseWriter& continuation(std::string_view text);

    // See "Downgraded strings" above.
    ResponseWriter& downgrade(bool on) {
        downgrade_ = on;
        return *this;
    }
    bool downgrading() const { return downgrade_; }

    bool ok() const { return out_.ok() && !invalid_; }
    bool overflowed() const { return !out_.ok(); }
    bool invalid() const { return invalid_; }
    // What this writer has written (the TextWriter may hold earlier bytes).
    std::string_view view() const { return ascii::tail(out_.view(), start_); }
    // Appends view() to `out` if ok() and it fits whole; false otherwise.
    [[nodiscard]] bool append_to(OutBuffer& out) const;

private:
    void separate();
    void put_quoted(std::string_view s);
    void put_literal(std::string_view s);
    void put_resp_text(std::string_view status, std::string_view code, std::string_view t);

    TextWriter& out_;
    std::size_t start_;
    bool need_sp_ = false;
    bool invalid_ = false;
    bool downgrade_ = false;
};

enum class [[nodiscard]] StreamStatus : std::uint8_t{
    Done,     // header and every byte are in the output buffer
    Blocked,  // the output buffer is full: pump() again once it drained
    Failed,   // the source failed after the size was promised: close the connection
};

class LiteralStreamer {
public:
    // `scratch` is a staging area for one chunk; it holds nothing between
    // calls, so one scratch buffer may serve every connection of a
    // single-threaded loop. Larger means fewer source reads.
    LiteralStreamer(char* scratch, std::size_t scratch_capacity);

    // Begins "{size}" CRLF + the data, and pumps once. The header is queued
    // only whole (it waits for room if need be).
    StreamStatus start(OutBuffer& out, ByteSource& source, std::uint64_t size);
    // Moves as many bytes as fit into `out`. Bounded work per call: at most
    // out.room() bytes.
    StreamStatus pump(OutBuffer& out);

    bool active() const { return state_ == State::Header || state_ == State::Data; }
    std::uint64_t size() const { return size_; }
    std::uint64_t sent() const { return sent_; }  // data bytes queued so far

private:
    enum class State : std::uint8_t { Idle, Header, Data, Failed };

    char* scratch_;
    std::size_t scratch_capacity_;
    ByteSource* source_ = nullptr;
    std::uint64_t size_ = 0;
    std::uint64_t sent_ = 0;
    State state_ = State::Idle;
};

}  // namespace tinyimapd::imap
