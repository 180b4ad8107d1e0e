// Server configuration: the keys, their defaults, and the parsers for the
// config file and the command line.
//
// A Config is a plain struct of fixed size (no heap; about 7 KiB, mostly
// path buffers) whose default member values are the documented defaults, so
// `Config cfg;` is the configuration of a server started with no file and no
// options. Sources are applied on top of it in order of priority, lowest
// first: the file (config_load_file / config_apply_text), then each
// command-line argument (config_apply_option), then config_validate for the
// checks that involve several keys. docs/CONFIG.md is the reference for every
// key; the table of names, ranges and kinds lives in config.cpp.
//
// Invariants: every value stored has passed its key's check (range, syntax,
// length); a failed apply leaves the key it was about unchanged, but a failed
// config_apply_text keeps the lines before the bad one (parse into a copy if
// that matters, e.g. on reload).
//
// Repeatable keys (listen, tls_listen): the first entry from a source
// replaces a list that came from the defaults or from a lower-priority source;
// later entries from the same source append; an empty value clears the list;
// an entry from a lower-priority source than the one that filled the list is
// checked and then ignored, so the command line wins whatever the order.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/fixed_string.h"
#include "core/base/text.h"
#include "port/fs.h"
#include "port/log.h"

namespace tinyimapd {

inline constexpr std::size_t kConfigMaxAddresses = 8;  // per repeatable key
// "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535" is 53 bytes.
inline constexpr std::size_t kConfigAddressMax = 64;
inline constexpr std::size_t kConfigNameMax = 64;  // user, group

// The smallest output_buffer: the longest line that must go out whole (a
// FETCH FLAGS with every keyword a mailbox can have, imap::kMaxFlagList)
// and the reserve the session keeps behind it (checked in server.cpp).
inline constexpr std::uint32_t kMinOutputBuffer = 8192;

using ConfigPath = FixedString<port::kMaxPath>;
using ConfigAddress = FixedString<kConfigAddressMax>;
using ConfigName = FixedString<kConfigNameMax>;

enum class ConfigSource : std::uint8_t { File, CommandLine };
// Where a repeatable key's current list came from; ordered by priority.
enum class ConfigOrigin : std::uint8_t { Default, File, CommandLine };
enum class LogTarget : std::uint8_t { Stderr, Syslog };

// Listening addresses, "a.b.c.d:port" or "[v6]:port" (config_split_address).
struct AddressList {
    std::array<ConfigAddress, kConfigMaxAddresses> items{};
    std::size_t count = 0;
    ConfigOrigin origin = ConfigOrigin::Default;

    std::size_t size() const { return count; }
    bool empty() const { return count == 0; }
    std::string_view operator[](std::size_t i) const { return items[i].view(); }
};

struct Config {
    AddressList listen{{ConfigAddress{"127.0.0.1:1143"}}, 1, ConfigOrigin::Default};
    AddressList tls_listen{};
    ConfigPath mail_dir{"mail"};
    ConfigPath passwd_file{"passwd"};
    bool plaintext_auth = false;  // allow LOGIN/AUTH PLAIN before TLS (RFC 3501 §6.2.3)
    // RFC 7888: LITERAL+ (any non-synchronizing literal) or, when false,
    // LITERAL- (non-synchronizing literals of at most 4096 bytes, §5).
    bool literal_plus = true;
    std::uint32_t max_clients = 64;
    // Threads that run the store's fsyncs away from the loop (port/fs.h
    // "Asynchronous flush", docs/STORAGE.md "Flushes leave the loop"):
    // flushes of this many files proceed at once; 0: the loop flushes itself.
    std::uint32_t io_threads = 4;
    bool foreground = false;
    // The reserved memory made resident at startup (every page written)
    // rather than as slots and pools are first used (docs/DESIGN.md
    // "Memory reserved, touched on use").
    bool prefault = false;
    LogTarget log = LogTarget::Stderr;
    port::LogLevel log_level = port::LogLevel::Info;
    std::uint32_t login_fail_delay_ms = 2000;  // doubles per failure, up to 30 s
    std::uint32_t max_login_attempts = 3;      // failed logins per connection, then BYE
    // 0 (the default, not settable): a quarter of max_clients, at least 1,
    // so that one address cannot take every slot (clients_per_address()).
    std::uint32_t max_clients_per_address = 0;
    std::uint32_t login_timeout = 60;   // seconds, not authenticated state
    std::uint32_t idle_timeout = 1800;  // seconds, authenticated (RFC 3501 §5.4)
    std::uint32_t max_line_length = 8192;
    std::uint32_t max_literal_size = 8192;     // literals other than APPEND's
    std::uint32_t max_append_size = 67108864;  // one APPEND message
    std::uint32_t quota_storage_mb = 0;        // per user, RFC 9208 STORAGE; 0: no limit
    std::uint32_t quota_messages = 0;          // per user, RFC 9208 MESSAGE; 0: no limit
    // RFC 5464 METADATA: the largest value (MAXSIZE, at most
    // kMaxMetadataValue: a GETMETADATA line goes out whole), the entries per
    // mailbox and on the server (each of the server's two files), their
    // value bytes together, and /shared/admin ("": none).
    std::uint32_t metadata_max_size = 1024;
    std::uint32_t metadata_max_entries = 100;
    std::uint32_t metadata_max_bytes = 65536;
    ConfigPath metadata_admin;
    // RFC 6154 special-use mailboxes made at a user's first login ("": none).
    ConfigName mailbox_sent{"Sent"};
    ConfigName mailbox_drafts{"Drafts"};
    ConfigName mailbox_trash{"Trash"};
    ConfigName mailbox_junk{"Junk"};
    ConfigName mailbox_archive{"Archive"};
    // RFC 2342 §5, RFC 4314: the user whose mailboxes are the "Shared/"
    // namespace ("": no such namespace).
    ConfigName public_owner{};
    std::uint32_t max_nesting = 32;       // parenthesised lists inside one command
    std::uint32_t max_set_ranges = 4096;  // ranges in one sequence set
    std::uint32_t max_search_keys = 64;   // keys (incl. OR/NOT/lists) in one SEARCH
    std::uint32_t max_fetch_items = 32;   // attributes in one FETCH
    std::uint32_t input_buffer = 4096;    // per connection
    std::uint32_t output_buffer = 8192;   // per connection, >= kMinOutputBuffer
    std::uint32_t fetch_cache_kib = 256;  // ENVELOPE/BODYSTRUCTURE cache, shared; 0: off
    // Mailboxes open at once (selected, or the target of APPEND/COPY/MOVE),
    // shared by all connections: sessions on one mailbox share its entry.
    // One more: NO [LIMIT]. Not per slot (about 27 KiB each).
    std::uint32_t open_mailboxes = 32;
    // Blocks of memory lent to a command while it is read and answered
    // (parser arena, arguments, FETCH items, SEARCH nodes: about 30 KiB
    // each), shared by all connections; with none free a command waits.
    std::uint32_t command_buffers = 16;
    // TLS engines (mbedTLS contexts, about 37 KiB each), lent to connections
    // while they use TLS; at most max_clients are set up. None free:
    // implicit TLS is closed, STARTTLS answers NO [LIMIT].
    std::uint32_t tls_sessions = 16;
    // Work areas SORT and THREAD order their matches in (RFC 5256), lent
    // to one command at a time, shared by all connections; with none free
    // a SORT waits. 0: SORT and THREAD are not offered. An area's size
    // bounds the mailbox: SORT needs 8 bytes per message plus 8 per
    // criterion plus the prepared strings (kSortTextMax at most each).
    std::uint32_t sort_buffers = 1;
    std::uint32_t sort_buffer_kib = 8192;
    // COMPRESS=DEFLATE engines (zlib stream pairs, about 100 KiB each), lent
    // to connections after COMPRESS; at most max_clients are set up. None
    // free: COMPRESS answers NO [LIMIT] (RFC 4978; the session goes on).
    std::uint32_t compress_sessions = 8;
    // RFC 5465 NOTIFY states (about 3.4 KiB each), lent to the sessions
    // that issued NOTIFY SET until NOTIFY NONE (or the logout), shared by
    // all connections; at most max_clients are reserved. None free: NOTIFY
    // SET answers NO [LIMIT] and the session goes on without it.
    std::uint32_t notify_sessions = 8;
    // RFC 5267 updating search contexts (about 1.4 KiB each; a session
    // keeps at most 2), lent while a context is followed, shared by all
    // connections. None free: the search is answered, its context refused
    // with NO [NOUPDATE "tag"] (§4.3.1).
    std::uint32_t search_contexts = 16;
    std::uint32_t passwd_max_size = 65536;  // each of PasswdDb's two buffers
    ConfigPath tls_cert{};
    ConfigPath tls_key{};
    ConfigName user{};
    ConfigName group{};
    ConfigPath chroot{};

    // Connections one address may hold: max_clients_per_address if set.
    std::uint32_t clients_per_address() const {
        if (max_clients_per_address != 0) return max_clients_per_address;
        return max_clients / 4 > 0 ? max_clients / 4 : 1;
    }
};

struct ConfigError {
    FixedString<256> file;  // "command line" for config_apply_option
    std::uint32_t line;     // 1-based; 0 for the command line and whole-file errors
    FixedString<200> message;
};

// Applies a whole config file's text: `key = value` lines, '#' comments,
// optional double quotes (with \" and \\), LF or CRLF line ends. Stops at the
// first error and describes it in *err (may be null).
bool config_apply_text(Config& cfg, std::string_view text, std::string_view file_name,
                       ConfigError* err);

// Applies one command-line argument "--key=value"; '-' in the key stands for
// '_' (--mail-dir=/srv/mail). A boolean key alone (--foreground) means yes.
bool config_apply_option(Config& cfg, std::string_view arg, ConfigError* err);

// Reads `path` through `fs` into `scratch` and applies it. Errors: "cannot
// open" (with the fs status), read errors, a file larger than scratch_cap.
bool config_load_file(Config& cfg, port::Fs& fs, std::string_view path, char* scratch,
                      std::size_t scratch_cap, ConfigError* err);

// Checks between keys, once all sources are applied: something to listen on,
// TLS listeners need tls_cert and tls_key, and the two come together.
bool config_validate(const Config& cfg, ConfigError* err);

// The effective configuration as a config file that config_apply_text reads
// back to an equal Config (for --check-config). Check w.ok() afterwards.
void config_write(const Config& cfg, TextWriter& w);

// "file:line: message", "file: message" or "command line: message".
void config_error_write(const ConfigError& err, TextWriter& w);

// Splits a listen address: IPv4 dotted quad or bracketed IPv6, then ':' and
// a port 1..65535. `host` excludes the brackets. False if malformed.
bool config_split_address(std::string_view address, std::string_view* host, std::uint16_t* port);

}  // namespace tinyimapd
