// `tinyimapd passwd [-s SCHEME] [-u USER]`: hashes a password for the
// passwd-file, like `doveadm pw`.
//
// The password is one line read from stdin (LF or CRLF stripped). When stdin
// is a terminal it prompts twice on stderr with echo off and requires both
// entries to match. Prints "{SCHEME}hash", or with -u a whole passwd-file
// line "USER:{SCHEME}hash", and a newline, on stdout.
//
// Exit codes (sysexits.h): 0 ok; 64 usage (unknown option or scheme, bad user
// name); 65 data error (empty password, entries differ, NUL byte, too long,
// a ':' in a {PLAIN} password); 71 if the hash cannot be computed (no
// entropy).
//
// Schemes: those of MbedPassword (default SHA512-CRYPT) when built with
// mbedTLS, and PLAIN/CLEARTEXT always.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/base/text.h"
#include "port/password.h"

namespace tinyimapd::posix {

// Longest password accepted (bytes, without the line end).
constexpr std::size_t kPasswdCommandMaxPassword = 1024;

struct PasswdCommand {
    std::string_view scheme;  // as given; empty means the default
    std::string_view user;    // empty: print the hash only
};

// Parses the options (argv after "passwd"). Returns 0, or 64 with a message
// in `err`; `-h`/`--help` return -1 with the usage text in `out`.
int parse_passwd_args(int argc, char** argv, PasswdCommand* cmd, TextWriter& out, TextWriter& err);

// The non-interactive part: checks `password`, hashes it with `hasher`
// (may be null: PLAIN/CLEARTEXT only) and writes the output line to `out`.
// Returns the exit code, with a message in `err` when it is not 0.
int passwd_format(const PasswdCommand& cmd, std::string_view password, port::Password* hasher,
                  TextWriter& out, TextWriter& err);

// The subcommand: `argv` holds the arguments after "passwd" (argv[0] is the
// first option, if any). Reads stdin, writes stdout/stderr.
int run_passwd(int argc, char** argv);

}  // namespace tinyimapd::posix
