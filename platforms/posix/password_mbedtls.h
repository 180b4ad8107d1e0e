// MbedPassword: port::Password on mbedTLS's hash functions — Dovecot's
// password schemes, byte for byte, so lines can be copied from a Dovecot
// passwd-file and back.
//
//   SHA512-CRYPT  $6$[rounds=N$]salt$hash   Drepper's SHA-crypt (glibc crypt(3))
//   SHA256-CRYPT  $5$[rounds=N$]salt$hash   idem, on SHA-256
//   CRYPT         Dovecot's default without "{...}": $6$ and $5$ only (no DES,
//                 MD5-crypt or bcrypt: Unsupported)
//   SSHA512 SSHA256 SSHA   base64(digest(password + salt) + salt)
//   SHA512 SHA256 SHA SHA1 base64(digest(password)); hex is accepted too, as
//                 Dovecot does, and ".HEX"/".B64" suffixes on these names
//   PBKDF2        $1$salt$rounds$hex(PBKDF2-HMAC-SHA1, 20 bytes)
//                 (Dovecot's password-scheme-pbkdf2.c)
//
// SHA-crypt is implemented here on mbedtls_sha512/sha256 (the binary needs
// nothing but libc and mbedTLS); it follows the specification's rules: default
// 5000 rounds, "rounds=" clamped to 1000..999999999, salt cut at 16 bytes.
// hash() writes the modern schemes only (SHA512-CRYPT, SHA256-CRYPT, SSHA512,
// SSHA256, SHA512, SHA256, PBKDF2), with a salt from the given Entropy.
//
// No heap: every context lives on the stack (mbedTLS's md layer, which would
// malloc, is not used; HMAC is built from two SHA-1 contexts). A password with
// a NUL byte never matches (crypt(3) and Dovecot would stop at the NUL), and
// SHA-crypt refuses passwords over kMaxCryptPassword bytes: its cost grows with
// the square of the length, and LOGIN accepts literals of up to 16 MiB.
// Digests are compared in time independent of their contents.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "port/entropy.h"
#include "port/password.h"

namespace tinyimapd::posix {

// Longest password SHA-crypt hashes or verifies (see above).
constexpr std::size_t kMaxCryptPassword = 1024;
// Rounds written by hash() for SHA-crypt (the specification's default, which
// is then left out of the string) and for PBKDF2 (Dovecot's default).
constexpr std::uint32_t kCryptDefaultRounds = 5000;
constexpr std::uint32_t kPbkdf2DefaultRounds = 5000;
// The scheme `tinyimapd passwd` and hash() callers use when none is chosen.
constexpr std::string_view kDefaultPasswordScheme = "SHA512-CRYPT";

class MbedPassword final : public port::Password {
public:
    explicit MbedPassword(port::Entropy& entropy) : entropy_(entropy) {}

    port::PasswordCheck verify(std::string_view scheme, std::string_view stored,
                               std::string_view password) override;
    // Status::Unsupported for a scheme hash() does not write, Invalid for a
    // password with a NUL byte (or over kMaxCryptPassword for SHA-crypt),
    // TooLong if `out` is full, the Entropy's error if it fails.
    Status hash(std::string_view scheme, std::string_view password, TextWriter& out) override;

private:
    port::Entropy& entropy_;
};

// The SHA-crypt function itself, for tests and for `tinyimapd passwd`:
// writes crypt(3)'s result for `setting` ("$6$rounds=N$salt..." or "$5$...",
// anything after the salt ignored) to `out`. False if the setting is not a
// valid $5$/$6$ setting or the password is refused (NUL, too long).
bool sha_crypt(std::string_view password, std::string_view setting, TextWriter& out);

}  // namespace tinyimapd::posix
