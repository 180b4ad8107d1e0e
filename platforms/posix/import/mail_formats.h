// The mbox and Maildir formats as `tinyimapd import` reads them and
// `tinyimapd export` writes them: pure functions over lines, file names and
// small files' text (no I/O; the tools in platforms/posix/cmd_tools.cpp do
// the reading and writing). Their input is untrusted (any file a user hands
// the admin): unit tests in tests/unit/platforms/posix/import_formats_test.cpp, fuzzed by
// tests/fuzz/fuzz_import.cpp.
//
// mbox, RFC 4155: a message starts at a line "From " followed by the
// envelope sender and an asctime()-form date (`From sender Sat Jan  3
// 01:05:34 1996`); a blank line before it belongs to the format, not to the
// message (§2 "the final line is a completely empty line"); lines of the
// message that begin with "From " are quoted with '>' (mboxrd: one more '>'
// on ">From ", ">>From ", ..., removed again on reading). The state headers
// of mutt, UW-IMAP and Dovecot carry the flags: `Status:` (R = \Seen, O =
// not new), `X-Status:` (A = \Answered, F = \Flagged, T = \Draft, D =
// \Deleted), `X-Keywords:` (names separated by spaces or commas); they and
// the other bookkeeping headers (X-UID, X-IMAP, X-IMAPbase) are consumed on
// import and written afresh on export.
//
// Maildir (https://cr.yp.to/proto/maildir.html): a message is a file in
// cur/ or new/; the part of its name after ":2," lists its flags as ASCII
// letters (D Draft, F Flagged, P Passed, R Replied = \Answered, S Seen,
// T Trashed = \Deleted), in ASCII order. Dovecot adds lower-case letters
// a..z for keywords 0..25, named in the file `dovecot-keywords` ("<index>
// <name>" per line); on file systems without ':' the separator is ';' or '!'.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tinyimapd::posix::mailfmt {

// ---- mbox ---------------------------------------------------------------------

// The date of a "From sender DATE" line (the line as read, "From " first):
// asctime form, "Mon DD HH:MM[:SS] YYYY", an optional zone name between time
// and year or after the year (ignored: read as UTC, as export writes it).
// False when no valid date follows (fields out of range included).
bool parse_from_date(std::string_view line, std::int64_t* out);
// asctime() form in UTC: "Sat Jan  3 01:05:34 1996".
std::string format_from_date(std::int64_t t);

// A header line that is mbox/Maildir state, not part of the message.
bool is_state_header(std::string_view line);
// Words separated by spaces, tabs or commas.
void split_words(std::string_view s, std::vector<std::string>* out);
// Applies a state header line (Status/X-Status/X-Keywords) to the flags
// (mail::SystemFlag bits) and keyword names.
void apply_state_header(std::string_view line, std::uint8_t* flags,
                        std::vector<std::string>* keywords);
// The state headers export writes for a message, LF-terminated.
std::string mbox_state_headers(std::uint8_t flags, const std::vector<std::string>& keywords);
// mboxrd: a line that export must quote with one more '>' (it would read
// as a separator, or is one quoted already).
bool needs_from_quote(std::string_view line);

// One message of an mbox, as the parser hands it over.
struct MboxState {
    std::int64_t date = 0;
    bool date_known = false;  // the From line had a valid date
    std::uint8_t flags = 0;
    std::vector<std::string> keywords;
};

// Splits an mbox into messages, one line at a time (memory: the state of one
// message, never the message). feed() takes a line without its LF (and
// without a CR before it) and says what it was; the message's bytes, with
// CRLF line ends, go to *out (appended).
class MboxParser {
public:
    enum class Line : std::uint8_t {
        NotMbox,  // the first line is not a "From " line: not an mbox
        Start,    // a separator: a new message starts (the one before is complete)
        Part,     // part of the current message (or a consumed state header)
    };
    Line feed(std::string_view line, bool has_lf, std::string* out);
    // The current message's state (complete once the next Start or the end
    // of the input comes).
    const MboxState& state() const { return state_; }
    // After a Start: the message it ended, if there was one.
    bool ended_one() const { return ended_one_; }
    const MboxState& ended() const { return ended_; }
    // True once a message has started.
    bool active() const { return active_; }

private:
    MboxState state_;
    MboxState ended_;
    bool ended_one_ = false;
    bool active_ = false;
    bool first_ = true;
    bool prev_blank_ = true;
    bool in_header_ = true;
    bool skipping_ = false;       // continuation lines of a consumed header
    bool pending_blank_ = false;  // a blank line that may be the separator's
};

// One message of an mbox read whole (tests, the fuzzer).
struct MboxMessage {
    MboxState state;
    std::string body;  // CRLF line ends
};
// Splits a whole mbox text (LF or CRLF line ends). False: not an mbox.
bool split_mbox(std::string_view text, std::vector<MboxMessage>* out);

// ---- Maildir -------------------------------------------------------------------

// The keyword names of Dovecot's dovecot-keywords (its text): names[i] is
// keyword letter 'a'+i, empty when not defined. Always 26 entries.
std::vector<std::string> parse_dovecot_keywords(std::string_view text);
// The flags and keywords of a Maildir file name (its info after ":2,").
void maildir_info(std::string_view file_name, const std::vector<std::string>& keyword_names,
                  std::uint8_t* flags, std::vector<std::string>* keywords);
// The letters export writes after ":2,": flags in ASCII order, then the
// keywords 0..25 that are set as 'a'..'z'.
std::string maildir_flags(std::uint8_t flags, std::uint64_t keywords);

}  // namespace tinyimapd::posix::mailfmt
