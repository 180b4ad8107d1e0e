// RFC 2822 address lists written as RFC 3501 ENVELOPE address lists.
//
// write_address_list() parses a From/Sender/Reply-To/To/Cc/Bcc value (RFC
// 2822 §3.4: mailbox, name-addr with display name, addr-spec, route
// addresses of RFC 822 / obs-route, groups) and writes NIL or
// "(" 1*address ")" with address = "(" name adl mailbox host ")"
// (RFC 3501 §7.4.2, §9 "address").
//
// Conventions (documented, tolerant of real mail):
//   - comments are dropped; a display name is its words joined by one SP,
//     quoted strings unquoted; encoded words (RFC 2047) are passed through
//     undecoded; an empty display name is NIL;
//   - except the legacy form "user@example.org (Full Name)" (RFC 5322 §3.4's
//     note): the first comment after a bare addr-spec is its display name,
//     as c-client and Dovecot show it;
//   - the mailbox is the local part as written (a quoted local part keeps
//     its quotes, so mailbox "@" host is a valid address again);
//   - "<@a,@b:user@host>" gives adl "@a,@b";
//   - "group: a@b, c@d;" gives (NIL NIL "group" NIL) ... (NIL NIL NIL NIL);
//     an unterminated group is closed at the end of the value;
//   - a missing local part or domain is the empty string, never NIL, so a
//     malformed address can never be read as a group marker.
//   - downgraded (out.downgrading(): a session without UTF-8, RFC 6855 §7):
//     an address whose local part or domain is UTF-8 is written as
//     ("name <mailbox@host>" as encoded words, NIL, "invalid",
//     "internationalized-address.invalid") (RFC 6858 §2.1); other UTF-8
//     names as encoded words (ResponseWriter::downgrade).
// Each of name, adl, mailbox and host is cut to a quarter of the work area.
// The output is always well-formed whatever the input.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/imap/encoder.h"

namespace tinyimapd::imap {

// Writes the address list of `value`; `work` holds one address's parts
// while it is written (mime::kAddressWork bytes is plenty).
void write_address_list(std::string_view value, char* work, std::size_t work_size,
                        imap::ResponseWriter& out);

// The first address of a list (a group's members count, its name does
// not), as ENVELOPE would show it: SORT's FROM/TO/CC key is its mailbox
// (RFC 5256 §BASE.6.4.SORT "addr-mailbox"), DISPLAYFROM/DISPLAYTO's its name
// (RFC 5957 §3). Views into `work` (each part cut to a quarter of it) or
// into `value`; found is false when the list holds no address.
struct FirstAddress {
    std::string_view name;  // empty: NIL or empty
    std::string_view mailbox, host;
    bool found = false;
};
FirstAddress first_address(std::string_view value, char* work, std::size_t work_size);

// True when `value` holds at least one address or group (RFC 3501 §7.4.2:
// an empty Sender or Reply-To defaults to From).
bool has_address(std::string_view value);

}  // namespace tinyimapd::imap
