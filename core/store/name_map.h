// Mailbox names -> paths below a user's directory, safe on FAT32/exFAT.
//
// A name ("Work/2024") is validated (mail::is_valid_mailbox_name: canonical
// modified UTF-7, no "." or ".." level, no empty level, bounded length and
// depth), its first level normalised to "INBOX" when it is any case of it,
// and each level becomes one directory name:
//   'a'-'z' '0'-'9' '-' '&' ',' '+' '_'  stand for themselves;
//   'A'-'Z'                               '^' + the lower-case letter;
//   every other byte (space . % ! ...)    '%' + two lower-case hex digits.
// So a directory name never holds an upper-case letter (FAT compares names
// case-insensitively: "Work" and "work" must not collide), never a character
// FAT forbids (" * / : < > ? \ |), never '.' (no ".", "..", trailing dots,
// and the store's own files — m.data, m.index, *.tmp — always contain '.',
// so they never collide with a child mailbox).
#pragma once

#include <cstddef>
#include <string_view>

#include "core/base/status.h"
#include "core/base/text.h"

namespace tinyimapd::store {

// Appends the directory name of one level; false if `out` overflowed.
bool encode_level(std::string_view level, TextWriter& out);
// Reverses encode_level; false for a name it cannot have produced (a file of
// ours, a stray entry): callers skip those.
bool decode_level(std::string_view dir_name, TextWriter& out);
// Writes root + "/" + encoded levels of `name` (validated, INBOX
// normalised). Invalid for a bad name, TooLong if a level exceeds
// port::kMaxName or the path port::kMaxPath.
Status mailbox_path(std::string_view root, std::string_view name, TextWriter& out);
// LIST wildcards (RFC 3501 §6.3.8): '*' matches anything, '%' anything but
// the hierarchy delimiter. Case-sensitive (callers fold a leading INBOX).
// Time O(len(pattern) * len(name) / 64) whatever the pattern; names longer
// than mail::kMaxMailboxName never match.
bool match_pattern(std::string_view pattern, std::string_view name);

}  // namespace tinyimapd::store
