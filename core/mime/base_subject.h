// The "base subject" of RFC 5256 §2.1: what SORT (SUBJECT) and THREAD
// compare, with the reply/forward artifacts removed.
//
// base_subject() runs the RFC's procedure literally on one Subject value
// (unfolded, as header.h gives it):
//   (1) RFC 2047 encoded words decoded to UTF-8 (encoded_word.h), tabs,
//       CR and LF made spaces, runs of spaces made one;
//   (2) trailing subj-trailer ("(fwd)" or a blank) removed, repeatedly;
//   (3) leading subj-leader (*subj-blob subj-refwd, or a blank) removed;
//   (4) a leading subj-blob removed when what follows is not empty;
//   (5) (3) and (4) repeated until neither applies;
//   (6) "[fwd:" ... "]" around the whole text removed, and back to (2).
// The ABNF's literals ("re", "fw", "fwd", "[fwd:", "(fwd)") match in any
// case, as ABNF strings do. The result is written to out[0..cap) and its
// length returned; a decoded subject longer than `cap` is cut first (the
// sort then compares its first `cap` bytes; kBaseSubjectMax is what the
// server gives).
//
// `reply_or_forward` (may be null) says whether the extraction removed a
// subj-refwd, a "(fwd)" trailer or a subj-fwd-hdr/trl pair: RFC 5256's
// REFERENCES threading (step 5) treats such a message as a reply.
//
// Comparison of base subjects (i;unicode-casemap, RFC 5256 §7) is the
// caller's: this only extracts.
#pragma once

#include <cstddef>
#include <string_view>

namespace tinyimapd::mime {

inline constexpr std::size_t kBaseSubjectMax = 512;

std::size_t base_subject(std::string_view subject, char* out, std::size_t cap,
                         bool* reply_or_forward);

}  // namespace tinyimapd::mime
