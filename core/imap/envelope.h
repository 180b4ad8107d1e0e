// ENVELOPE (RFC 3501 §7.4.2, §9 "envelope"): "(" date subject from sender
// reply-to to cc bcc in-reply-to message-id ")" built from a message's
// header, read through a bounded scratch buffer.
//
// Rules: each field's first occurrence is used; date, subject, in-reply-to
// and message-id are the unfolded value with surrounding blanks removed, NIL
// when the field is absent ("" when present but empty); address lists are
// parsed as described in address.h; sender and reply-to are the value of
// from when absent or holding no address. Bytes are not decoded (encoded
// words and 8-bit text pass through; ResponseWriter picks a literal when a
// quoted string cannot carry them), except for a writer in downgrade mode
// (a session without UTF-8, RFC 6855 §7): UTF-8 strings become RFC 2047
// encoded words and UTF-8 addresses RFC 6858 §2.1 placeholders
// (ResponseWriter::downgrade, address.h). A header larger than the scratch buffer
// is cut at a line end (core/mime/header.h). The output is balanced and valid for any
// input; false only when the scratch buffer is too small (< mime::kMinScratch).
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/imap/encoder.h"
#include "core/mime/message_reader.h"

namespace tinyimapd::imap {

// ENVELOPE of the whole message.
[[nodiscard]] bool write_envelope(ByteSource& r, char* scratch, std::size_t scratch_size,
                                  imap::ResponseWriter& out);

// ENVELOPE of the message occupying [start, end) (an encapsulated
// message/rfc822 body).
[[nodiscard]] bool write_envelope_at(ByteSource& r, std::uint64_t start, std::uint64_t end,
                                     char* scratch, std::size_t scratch_size,
                                     imap::ResponseWriter& out);

}  // namespace tinyimapd::imap
