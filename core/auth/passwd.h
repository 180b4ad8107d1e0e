// PasswdDb: the virtual users, from a passwd-file in Dovecot's format.
//
//   user:password:uid:gid:gecos:home:shell:extra_fields
//
// Only user and password are required; '#' lines and blank lines are skipped;
// LF or CRLF. The password is "{SCHEME}data"; without a "{...}" prefix the
// scheme is CRYPT, Dovecot's default for passwd-file. extra_fields is the rest
// of the line after the seventh ':' (it may itself contain ':').
//
// Memory: the caller owns two buffers of `capacity` bytes (passwd_max_size).
// One holds the active file; load() reads into the other, validates it whole,
// and only then swaps, so a SIGHUP reload never leaves a moment without users
// and a bad or oversized file leaves the old users in place. Entries are views
// into the active buffer: they stay valid until the next load() call.
//
// Invariants of the active file: every non-comment line has a ':' and a user
// name that is safe as a directory name (not empty, ".", "..", no '/', NUL or
// control bytes); uid and gid are empty or decimal. When a user appears twice
// the first line wins (as in Dovecot). An empty stored password never matches.
//
// Verification compares in time independent of the password's contents
// (lengths aside). PLAIN and CLEARTEXT are checked here; every other scheme
// (CRYPT, SHA512-CRYPT, PBKDF2, SSHA512, ...) goes to the port::Password the
// PasswdDb was given, and is UnsupportedScheme when it has none (a build
// without mbedTLS).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/status.h"
#include "port/fs.h"
#include "port/password.h"

namespace tinyimapd {

enum class PasswdVerdict : std::uint8_t {
    Ok,
    NoSuchUser,
    WrongPassword,
    UnsupportedScheme,  // a scheme this build cannot check: login fails
    MalformedHash,      // the stored value is not valid for its scheme: login fails
};

struct PasswdEntry {
    std::string_view user;
    std::string_view scheme;  // "PLAIN", "SHA512-CRYPT", ... as written; "CRYPT" if none
    std::string_view data;    // the password field after "{SCHEME}"
    std::string_view uid;     // may be empty
    std::string_view gid;     // may be empty
    std::string_view home;    // may be empty
    std::string_view extra;   // extra_fields, space-separated, may be empty
};

// Checks `password` against stored `data` under `scheme` (case-insensitive):
// PLAIN/CLEARTEXT here, anything else through `hasher` (UnsupportedScheme if
// it is null). Returns Ok, WrongPassword, UnsupportedScheme or MalformedHash.
PasswdVerdict verify_scheme(std::string_view scheme, std::string_view data,
                            std::string_view password, port::Password* hasher = nullptr);

class PasswdDb {
public:
    // Two caller-owned buffers of `capacity` bytes each; they must outlive
    // the PasswdDb. Starts with no users. `hasher` (may be null: then only
    // PLAIN/CLEARTEXT passwords match) must outlive it too.
    PasswdDb(char* a, char* b, std::size_t capacity, port::Password* hasher = nullptr);
    PasswdDb(const PasswdDb&) = delete;
    PasswdDb& operator=(const PasswdDb&) = delete;

    // Reads and validates the whole file, then makes it active. Errors (the
    // previous users stay active): the fs status from open/read; TooLong if
    // the file is bigger than capacity; Invalid for a bad line, whose 1-based
    // number last_error_line() then gives.
    Status load(port::Fs& fs, std::string_view path);

    // Replaces the hasher given at construction (null: PLAIN/CLEARTEXT only).
    void set_hasher(port::Password* hasher) { hasher_ = hasher; }

    PasswdVerdict verify(std::string_view user, std::string_view password) const;
    // Exact (case-sensitive) user name match; false if there is none.
    bool lookup(std::string_view user, PasswdEntry* out) const;
    // User lines in the active file (a repeated user counts each time).
    std::size_t user_count() const { return user_count_; }
    // Line of the last Invalid from load(); 0 if the last error had no line.
    std::uint32_t last_error_line() const { return last_error_line_; }
    std::size_t capacity() const { return capacity_; }

private:
    char* buffers_[2];
    std::size_t capacity_;
    port::Password* hasher_;
    std::size_t active_ = 0;  // index into buffers_
    std::size_t active_size_ = 0;
    std::size_t user_count_ = 0;
    std::uint32_t last_error_line_ = 0;
};

}  // namespace tinyimapd
