// How core/mime reads a stored message: the sizes of its windows and limits,
// and the small windowed-reading helpers every MIME pass shares.
//
// The message parser never holds a whole message: it reads bounded windows
// through a ByteSource (core/base/byte_source.h) into a caller-provided
// scratch buffer (8-16 KiB is typical) and keeps only offsets between reads. Offsets are relative
// to the first byte of the message as appended (RFC 3501 §6.3.11: BODY[] is those bytes exactly).
// Line ends are normally CRLF; bare LF is tolerated everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/byte_source.h"

namespace tinyimapd::mime {

// The smallest scratch buffer the MIME functions accept; they return false
// on anything smaller. The last kAddressWork bytes of an ENVELOPE's scratch
// hold the parts of one address while it is written.
inline constexpr std::size_t kMinScratch = 2048;
inline constexpr std::size_t kAddressWork = 1024;
// Deepest MIME nesting parsed (multipart and message/rfc822 levels); a part
// deeper than this is a leaf (see core/imap/bodystructure.h). Same as the deepest
// section part number the FETCH parser accepts.
inline constexpr std::size_t kMaxMimeDepth = 32;
// Most MIME parts a BODYSTRUCTURE walk opens in one message (Dovecot's
// message_max_mime_parts default, the same number): past it no more
// delimiters are looked for, so the part being read runs to the end of its
// multipart, and a multipart or message/rfc822 met after it is a leaf
// (application/octet-stream). A hostile message of 1.7 million sibling
// parts gets an answer of bounded size.
inline constexpr std::size_t kMaxMimeParts = 10000;
// Longest multipart boundary honoured (RFC 2046 §5.1.1 allows 70; real mail
// sometimes exceeds it a little). A longer one makes the multipart a leaf.
inline constexpr std::size_t kMaxBoundary = 200;

// Number of text lines in [start, end) as body-fld-lines counts them: the
// LFs. A last line without a line break is not counted: in a multipart the
// CRLF before a delimiter belongs to the delimiter (RFC 2046 §5.1.1), so a
// part "text" CRLF "--b" is 0 lines, as c-client and Dovecot count it.
// `buf` is a window of `cap` bytes.
std::uint64_t count_lines(ByteSource& r, std::uint64_t start, std::uint64_t end, char* buf,
                          std::size_t cap);

}  // namespace tinyimapd::mime
