// The mail tools of the multi-call binary (docs/TOOLS.md): local delivery,
// import from and export to mbox/Maildir, and a consistency check.
//
//   tinyimapd deliver -u USER [-m MAILBOX] [--create]
//   tinyimapd import  -u USER [-m MAILBOX] (--mbox FILE | --maildir DIR)
//   tinyimapd export  -u USER [-m MAILBOX] (--mbox FILE | --maildir DIR)
//   tinyimapd check   (-u USER | --all)
//   tinyimapd acl     -u USER [-m MAILBOX] [IDENTIFIER [[+|-]RIGHTS | --delete]]
//
// Each takes the arguments after its name, plus `--config FILE` and any
// `--key=value` configuration option (mail_dir, passwd_file, user, ...), read
// the same way as `serve` reads them. A user's mail is <mail_dir>/<user>.
// They go through core/store like the server does (the same locks), so they
// are safe to run while the server is running.
//
// Exit codes (sysexits.h): 0 ok; 64 usage; 65 bad input data; 66 input file
// missing; 67 unknown user; 73 cannot create an output file; 74 I/O error;
// 75 temporary failure (mailbox locked for too long, disk full: an MTA
// retries); 78 configuration error.
//
// Unlike the server these are ordinary processes: they use malloc and stdio.
#pragma once

namespace tinyimapd::posix {

int run_deliver(int argc, char** argv);
int run_import(int argc, char** argv);
int run_export(int argc, char** argv);
int run_check(int argc, char** argv);
int run_acl(int argc, char** argv);

}  // namespace tinyimapd::posix
