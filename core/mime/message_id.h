// Message IDs as RFC 5256's REFERENCES threading compares them: the msg-id
// of RFC 2822 §3.6.4 normalised, so that quoting and comments do not make
// two writings of one ID differ (RFC 5256 §BASE.6.4.THREAD: "<\"01KF8J\"
// @xxx.yyy.com>" and "<01KF8J@xxx.yyy.com>" are the same ID).
//
// MessageIdIterator walks a Message-ID, In-Reply-To or References value and
// yields each valid msg-id in order, normalised to id-left "@" id-right:
//   - between "<" and ">", comments and blanks (CFWS) are dropped, quoted
//     strings are replaced by their content (quoted-pairs undone), atoms,
//     dots, "@" and domain literals ("[...]") are kept as written (IDs
//     compare case-sensitively, RFC 5256 "Note: Message ID comparisons are
//     case-sensitive");
//   - valid means exactly one "@" outside quotes and literals, with text on
//     both sides. As Dovecot does, a "<...>" that does not parse that way
//     but holds an "@" and no blank is taken as written;
//   - anything else (text outside brackets, as In-Reply-To often carries,
//     unclosed brackets, IDs longer than kMessageIdMax) is skipped.
#pragma once

#include <cstddef>
#include <string_view>

namespace tinyimapd::mime {

inline constexpr std::size_t kMessageIdMax = 250;

class MessageIdIterator {
public:
    explicit MessageIdIterator(std::string_view value) : s_(value) {}
    // The next valid ID, normalised into out[0..kMessageIdMax); false at the end.
    bool next(char (&out)[kMessageIdMax], std::size_t* len);

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

// The first valid ID of `value` (Message-ID, or In-Reply-To's parent);
// 0 if none.
std::size_t first_message_id(std::string_view value, char (&out)[kMessageIdMax]);

}  // namespace tinyimapd::mime
