// BODYSTRUCTURE and BODY (RFC 3501 §6.4.5, §7.4.2; §9 "body",
// "body-type-1part", "body-type-mpart", "body-ext-1part", "body-ext-mpart")
// of a stored message, walked through a bounded scratch buffer.
//
// Structure rules are those of part.h (leaf / multipart / message/rfc822,
// defaults, depth limit, broken boundaries). Per part:
//   - type and subtype, parameter names and values, encoding, id,
//     description, MD5, disposition, language and location are written as
//     given in the message (case kept, like Dovecot); only defaults are
//     ours, upper case as in RFC 3501's examples: "TEXT" "PLAIN"
//     ("CHARSET" "US-ASCII") without a valid Content-Type, encoding "7BIT"
//     without Content-Transfer-Encoding, and a text/* part without a
//     charset parameter gets ("CHARSET" "US-ASCII") appended (RFC 2045 §5.2);
//   - octets: the size of the part's body (after its header's empty line,
//     before the line break that belongs to the next delimiter), bytes as
//     stored;
//   - lines (text/* and message/rfc822): LFs in the body (a last line
//     without one is not counted; the CRLF before a delimiter is the
//     delimiter's, RFC 2046 §5.1.1: as c-client and Dovecot count);
//   - message/rfc822: envelope, body structure and lines of the
//     encapsulated message;
//   - extension data (BODYSTRUCTURE only): md5, disposition ("(" type
//     params ")" or NIL), language (NIL, one string, or a list), location;
//     multiparts give params, disposition, language, location.
// The output is balanced and syntactically valid for any input. Recursion
// depth is bounded by kMaxMimeDepth; headers are re-read after the
// children of a part are written, so one scratch buffer serves every level.
#pragma once

#include <cstddef>

#include "core/imap/encoder.h"
#include "core/mime/message_reader.h"

namespace tinyimapd::mime {

// `extensible`: BODYSTRUCTURE (true) or BODY (false). False only when the
// scratch buffer is smaller than kMinScratch.
[[nodiscard]] bool write_bodystructure(MessageReader& r, char* scratch, std::size_t scratch_size,
                                       bool extensible, imap::ResponseWriter& out);

}  // namespace tinyimapd::mime
