// Built only with mbedTLS (TINYIMAPD_TLS=1 comes from platforms/posix's
// CMakeLists.txt); without it the file is empty and passwords are PLAIN only.
#if defined(TINYIMAPD_TLS) && TINYIMAPD_TLS

#include "platforms/posix/password_mbedtls.h"

#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/version.h>

#include "core/base/text.h"

namespace tinyimapd::posix {
namespace {

using port::PasswordCheck;

// ---------------------------------------------------------------------------
// Hash contexts on the stack. mbedTLS 3 renamed the *_ret functions of 2.x
// back to the plain names; the error of any step is kept and reported by
// finish() (software implementations never fail, hardware ones might).

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define TINYIMAPD_SHA(f) f
#else
#define TINYIMAPD_SHA(f) f##_ret
#endif

class Sha512 {
public:
    static constexpr std::size_t kSize = 64;
    Sha512() {
        mbedtls_sha512_init(&ctx_);
        err_ |= TINYIMAPD_SHA(mbedtls_sha512_starts)(&ctx_, 0);
    }
    ~Sha512() { mbedtls_sha512_free(&ctx_); }
    Sha512(const Sha512&) = delete;
    Sha512& operator=(const Sha512&) = delete;
    void update(const void* p, std::size_t n) {
        if (n != 0) {
            err_ |= TINYIMAPD_SHA(mbedtls_sha512_update)(&ctx_,
                                                         static_cast<const unsigned char*>(p), n);
        }
    }
    void update(std::string_view s) { update(s.data(), s.size()); }
    bool finish(std::uint8_t* out) {
        err_ |= TINYIMAPD_SHA(mbedtls_sha512_finish)(&ctx_, out);
        return err_ == 0;
    }

private:
    mbedtls_sha512_context ctx_;
    int err_ = 0;
};

class Sha256 {
public:
    static constexpr std::size_t kSize = 32;
    Sha256() {
        mbedtls_sha256_init(&ctx_);
        err_ |= TINYIMAPD_SHA(mbedtls_sha256_starts)(&ctx_, 0);
    }
    ~Sha256() { mbedtls_sha256_free(&ctx_); }
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(const void* p, std::size_t n) {
        if (n != 0) {
            err_ |= TINYIMAPD_SHA(mbedtls_sha256_update)(&ctx_,
                                                         static_cast<const unsigned char*>(p), n);
        }
    }
    void update(std::string_view s) { update(s.data(), s.size()); }
    bool finish(std::uint8_t* out) {
        err_ |= TINYIMAPD_SHA(mbedtls_sha256_finish)(&ctx_, out);
        return err_ == 0;
    }

private:
    mbedtls_sha256_context ctx_;
    int err_ = 0;
};

class Sha1 {
public:
    static constexpr std::size_t kSize = 20;
    static constexpr std::size_t kBlock = 64;
    Sha1() {
        mbedtls_sha1_init(&ctx_);
        err_ |= TINYIMAPD_SHA(mbedtls_sha1_starts)(&ctx_);
    }
    ~Sha1() { mbedtls_sha1_free(&ctx_); }
    Sha1(const Sha1&) = delete;
    Sha1& operator=(const Sha1&) = delete;
    // Continues from `other`'s state (HMAC's precomputed pads).
    void copy_from(const Sha1& other) {
        mbedtls_sha1_clone(&ctx_, &other.ctx_);
        err_ = other.err_;
    }
    void update(const void* p, std::size_t n) {
        if (n != 0) {
            err_ |=
                TINYIMAPD_SHA(mbedtls_sha1_update)(&ctx_, static_cast<const unsigned char*>(p), n);
        }
    }
    void update(std::string_view s) { update(s.data(), s.size()); }
    bool finish(std::uint8_t* out) {
        err_ |= TINYIMAPD_SHA(mbedtls_sha1_finish)(&ctx_, out);
        return err_ == 0;
    }

private:
    mbedtls_sha1_context ctx_;
    int err_ = 0;
};

#undef TINYIMAPD_SHA

template <class H>
bool digest_of(std::string_view a, std::string_view b, std::uint8_t* out) {
    H h;
    h.update(a);
    h.update(b);
    return h.finish(out);
}

// Equal iff the bytes are; the loop has no data-dependent branch.
bool constant_time_equal(const void* a, const void* b, std::size_t n) {
    const auto* x = static_cast<const volatile std::uint8_t*>(a);
    const auto* y = static_cast<const volatile std::uint8_t*>(b);
    unsigned diff = 0;
    for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned>(x[i] ^ y[i]);
    return diff == 0;
}

bool has_nul(std::string_view s) {
    return s.find('\0') != std::string_view::npos;
}

std::string_view as_text(const std::uint8_t* p, std::size_t n) {
    return {reinterpret_cast<const char*>(p), n};
}

// ---------------------------------------------------------------------------
// Encodings.

// crypt(3)'s alphabet, also used for generated salts (no '$', ':' or blanks).
constexpr char kCryptAlphabet[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool is_crypt_char(char c) {
    return c == '.' || c == '/' || ascii::is_digit(c) || (c >= 'A' && c <= 'Z') ||
           (c >= 'a' && c <= 'z');
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Decodes exactly `hex.size() / 2` bytes; false on an odd length or a non-hex
// character (either case, as Dovecot's hex_to_binary).
bool hex_decode(std::string_view hex, std::uint8_t* out, std::size_t capacity, std::size_t* n) {
    if (hex.size() % 2 != 0 || hex.size() / 2 > capacity) return false;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        const int hi = hex_value(hex[i]);
        const int lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i / 2] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    *n = hex.size() / 2;
    return true;
}

void hex_encode(const std::uint8_t* p, std::size_t n, TextWriter& out) {
    static constexpr char kDigits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < n; ++i) out.put(kDigits[p[i] >> 4]).put(kDigits[p[i] & 15]);
}

bool base64_decode(std::string_view text, std::uint8_t* out, std::size_t capacity, std::size_t* n) {
    return mbedtls_base64_decode(out, capacity, n,
                                 reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size()) == 0;
}

bool base64_encode(const std::uint8_t* p, std::size_t n, TextWriter& out) {
    unsigned char text[4 * ((Sha512::kSize + 64) / 3 + 1) + 1];
    std::size_t len = 0;
    if (mbedtls_base64_encode(text, sizeof text, &len, p, n) != 0) return false;
    out.put(as_text(text, len));
    return true;
}

// ---------------------------------------------------------------------------
// SHA-crypt (Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512", as in
// glibc's sha256-crypt.c / sha512-crypt.c).

constexpr std::size_t kCryptSaltMax = 16;
constexpr std::uint32_t kCryptRoundsMin = 1000;
constexpr std::uint32_t kCryptRoundsMax = 999999999;
constexpr std::string_view kRoundsPrefix = "rounds=";

struct CryptSetting {
    char id = 0;  // '5' or '6'
    std::uint32_t rounds = kCryptDefaultRounds;
    bool custom_rounds = false;  // "rounds=" was given: it is written back
    std::string_view salt;       // at most kCryptSaltMax bytes
    std::string_view rest;       // what followed the salt ("$hash" or "")
    std::size_t salt_given = 0;  // the salt's length before the cut
};

bool parse_crypt_setting(std::string_view s, CryptSetting* out) {
    if (s.size() < 3 || s[0] != '$' || (s[1] != '5' && s[1] != '6') || s[2] != '$') return false;
    out->id = s[1];
    std::string_view rest = ascii::tail(s, 3);
    if (ascii::head(rest, kRoundsPrefix.size()) == kRoundsPrefix) {
        std::string_view num = ascii::tail(rest, kRoundsPrefix.size());
        std::size_t i = 0;
        std::uint64_t value = 0;
        while (i < num.size() && ascii::is_digit(num[i])) {
            // Saturates like strtoul; the clamp below does the rest.
            if (value <= kCryptRoundsMax) value = value * 10 + static_cast<unsigned>(num[i] - '0');
            ++i;
        }
        if (i == 0 || i >= num.size() || num[i] != '$') return false;
        if (value < kCryptRoundsMin) value = kCryptRoundsMin;
        if (value > kCryptRoundsMax) value = kCryptRoundsMax;
        out->rounds = static_cast<std::uint32_t>(value);
        out->custom_rounds = true;
        rest = ascii::tail(num, i + 1);
    }
    const std::size_t end = rest.find('$');
    const std::string_view salt = ascii::head(rest, end);
    out->salt_given = salt.size();
    out->salt = ascii::head(salt, kCryptSaltMax);
    out->rest = ascii::tail(rest, salt.size());
    return true;
}

// Adds the "P sequence": `dp` repeated up to `length` bytes.
template <class H>
void add_repeated(H& h, const std::uint8_t* dp, std::size_t length) {
    std::size_t left = length;
    for (; left >= H::kSize; left -= H::kSize) h.update(dp, H::kSize);
    h.update(dp, left);
}

template <class H>
bool sha_crypt_digest(std::string_view key, std::string_view salt, std::uint32_t rounds,
                      std::uint8_t* result) {
    constexpr std::size_t n = H::kSize;
    std::uint8_t alternate[n];
    std::uint8_t dp[n];
    std::uint8_t ds[n];
    bool ok = true;
    {
        H b;  // digest B: key, salt, key
        b.update(key);
        b.update(salt);
        b.update(key);
        ok = b.finish(alternate) && ok;
    }
    {
        H a;  // digest A
        a.update(key);
        a.update(salt);
        std::size_t cnt = key.size();
        for (; cnt > n; cnt -= n) a.update(alternate, n);
        a.update(alternate, cnt);
        // Each bit of the key's length, lowest first: 1 adds B, 0 the key.
        for (cnt = key.size(); cnt > 0; cnt >>= 1) {
            if ((cnt & 1) != 0) {
                a.update(alternate, n);
            } else {
                a.update(key);
            }
        }
        ok = a.finish(result) && ok;
    }
    {
        H h;  // digest DP: the key, once per byte of the key
        for (std::size_t i = 0; i < key.size(); ++i) h.update(key);
        ok = h.finish(dp) && ok;
    }
    {
        H h;  // digest DS: the salt, 16 + A[0] times
        for (std::size_t i = 0; i < 16u + result[0]; ++i) h.update(salt);
        ok = h.finish(ds) && ok;
    }
    for (std::uint32_t r = 0; r < rounds; ++r) {
        H c;
        if ((r & 1) != 0) {
            add_repeated(c, dp, key.size());
        } else {
            c.update(result, n);
        }
        if (r % 3 != 0) c.update(ds, salt.size());
        if (r % 7 != 0) add_repeated(c, dp, key.size());
        if ((r & 1) != 0) {
            c.update(result, n);
        } else {
            add_repeated(c, dp, key.size());
        }
        ok = c.finish(result) && ok;
    }
    mbedtls_platform_zeroize(alternate, sizeof alternate);
    mbedtls_platform_zeroize(dp, sizeof dp);
    mbedtls_platform_zeroize(ds, sizeof ds);
    return ok;
}

// The byte order of the final encoding, three bytes per four characters
// (sha512-crypt.c / sha256-crypt.c); the last group is short.
struct Triple {
    std::uint8_t b2, b1, b0;
};
constexpr Triple kOrder512[] = {
    {0, 21, 42},  {22, 43, 1},  {44, 2, 23},  {3, 24, 45},  {25, 46, 4},  {47, 5, 26},
    {6, 27, 48},  {28, 49, 7},  {50, 8, 29},  {9, 30, 51},  {31, 52, 10}, {53, 11, 32},
    {12, 33, 54}, {34, 55, 13}, {56, 14, 35}, {15, 36, 57}, {37, 58, 16}, {59, 17, 38},
    {18, 39, 60}, {40, 61, 19}, {62, 20, 41},
};
constexpr Triple kOrder256[] = {
    {0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
    {15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29},
};
constexpr std::size_t kCryptHash512Chars = 86;
constexpr std::size_t kCryptHash256Chars = 43;

void put_b64_24(TextWriter& out, unsigned b2, unsigned b1, unsigned b0, int chars) {
    unsigned w = (b2 << 16) | (b1 << 8) | b0;
    for (int i = 0; i < chars; ++i) {
        out.put(kCryptAlphabet[w & 0x3f]);
        w >>= 6;
    }
}

void encode_crypt(char id, const std::uint8_t* d, TextWriter& out) {
    if (id == '6') {
        for (const Triple& t : kOrder512) put_b64_24(out, d[t.b2], d[t.b1], d[t.b0], 4);
        put_b64_24(out, 0, 0, d[63], 2);
    } else {
        for (const Triple& t : kOrder256) put_b64_24(out, d[t.b2], d[t.b1], d[t.b0], 4);
        put_b64_24(out, 0, d[31], d[30], 3);
    }
}

bool sha_crypt_setting(std::string_view password, const CryptSetting& s, TextWriter& out) {
    if (has_nul(password) || password.size() > kMaxCryptPassword) return false;
    std::uint8_t d[Sha512::kSize];
    const bool ok = s.id == '6' ? sha_crypt_digest<Sha512>(password, s.salt, s.rounds, d)
                                : sha_crypt_digest<Sha256>(password, s.salt, s.rounds, d);
    if (ok) {
        out.put('$').put(s.id).put('$');
        if (s.custom_rounds) out.put(kRoundsPrefix).put_uint(s.rounds).put('$');
        out.put(s.salt).put('$');
        encode_crypt(s.id, d, out);
    }
    mbedtls_platform_zeroize(d, sizeof d);
    return ok;
}

// Dovecot verifies every crypt scheme as crypt(3) does: crypt(password,
// stored) == stored. The stored string is checked for shape first so that a
// damaged line is reported as such rather than as a wrong password.
PasswordCheck verify_crypt(std::string_view stored, std::string_view password, bool any_crypt) {
    CryptSetting s;
    if (!parse_crypt_setting(stored, &s)) {
        // CRYPT may hold DES, MD5-crypt, bcrypt...: valid, just not built.
        const bool other_crypt = any_crypt && !stored.empty();
        return other_crypt ? PasswordCheck::Unsupported : PasswordCheck::Malformed;
    }
    const std::size_t chars = s.id == '6' ? kCryptHash512Chars : kCryptHash256Chars;
    if (s.salt_given > kCryptSaltMax || s.rest.size() != chars + 1 || s.rest[0] != '$') {
        return PasswordCheck::Malformed;
    }
    for (char c : ascii::tail(s.rest, 1)) {
        if (!is_crypt_char(c)) return PasswordCheck::Malformed;
    }
    char buf[160];
    TextWriter computed(buf, sizeof buf);
    if (!sha_crypt_setting(password, s, computed) || !computed.ok()) {
        return PasswordCheck::Mismatch;
    }
    // Lengths are public (both follow from the stored setting).
    const bool same = computed.size() == stored.size() &&
                      constant_time_equal(computed.view().data(), stored.data(), stored.size());
    mbedtls_platform_zeroize(buf, sizeof buf);
    return same ? PasswordCheck::Match : PasswordCheck::Mismatch;
}

// ---------------------------------------------------------------------------
// SHA*, SSHA* (Dovecot's password-scheme.c): raw digest, or digest followed
// by its salt, base64 by default.

enum class Encoding : std::uint8_t { Default, Hex, Base64 };

// Largest salt accepted in stored SSHA values (Dovecot writes 4 bytes).
constexpr std::size_t kSshaSaltMax = 128;
// Salt hash() writes for SSHA*.
constexpr std::size_t kSshaSaltBytes = 16;

enum class Digest : std::uint8_t { Sha1, Sha256, Sha512 };

std::size_t digest_size(Digest d) {
    switch (d) {
        case Digest::Sha1: return Sha1::kSize;
        case Digest::Sha256: return Sha256::kSize;
        case Digest::Sha512: return Sha512::kSize;
    }
    return 0;
}

bool compute(Digest d, std::string_view a, std::string_view b, std::uint8_t* out) {
    switch (d) {
        case Digest::Sha1: return digest_of<Sha1>(a, b, out);
        case Digest::Sha256: return digest_of<Sha256>(a, b, out);
        case Digest::Sha512: return digest_of<Sha512>(a, b, out);
    }
    return false;
}

// Decodes a stored SHA/SSHA value as Dovecot's password_decode(): with no
// encoding named, a fixed-length value of exactly twice its size is hex,
// anything else base64.
bool decode_stored(std::string_view stored, Encoding enc, std::size_t fixed_size, std::uint8_t* out,
                   std::size_t capacity, std::size_t* n) {
    if (enc == Encoding::Default) {
        enc = fixed_size != 0 && stored.size() == 2 * fixed_size ? Encoding::Hex : Encoding::Base64;
    }
    if (enc == Encoding::Hex) return hex_decode(stored, out, capacity, n);
    return base64_decode(stored, out, capacity, n);
}

PasswordCheck verify_digest(Digest d, bool salted, Encoding enc, std::string_view stored,
                            std::string_view password) {
    const std::size_t size = digest_size(d);
    std::uint8_t raw[Sha512::kSize + kSshaSaltMax];
    std::size_t n = 0;
    if (!decode_stored(stored, enc, salted ? 0 : size, raw, sizeof raw, &n)) {
        return PasswordCheck::Malformed;
    }
    if (salted ? n <= size : n != size) return PasswordCheck::Malformed;
    if (has_nul(password)) return PasswordCheck::Mismatch;
    std::uint8_t computed[Sha512::kSize];
    const std::string_view salt = salted ? as_text(raw + size, n - size) : std::string_view();
    if (!compute(d, password, salt, computed)) return PasswordCheck::Mismatch;
    const bool same = constant_time_equal(computed, raw, size);
    mbedtls_platform_zeroize(computed, sizeof computed);
    return same ? PasswordCheck::Match : PasswordCheck::Mismatch;
}

// ---------------------------------------------------------------------------
// PBKDF2 (Dovecot's password-scheme-pbkdf2.c): "$1$salt$rounds$hex", the
// salt used as text, PBKDF2-HMAC-SHA1 with a 20-byte key (one block).

constexpr std::string_view kPbkdf2Prefix = "$1$";
constexpr std::size_t kPbkdf2SaltChars = 16;

bool pbkdf2_hmac_sha1(std::string_view password, std::string_view salt, std::uint32_t rounds,
                      std::uint8_t* key) {
    // HMAC key: the password, hashed first if longer than a block.
    std::uint8_t k[Sha1::kBlock] = {};
    bool ok = true;
    if (password.size() > Sha1::kBlock) {
        ok = digest_of<Sha1>(password, {}, k) && ok;
    } else {
        for (std::size_t i = 0; i < password.size(); ++i)
            k[i] = static_cast<std::uint8_t>(password[i]);
    }
    std::uint8_t pad[Sha1::kBlock];
    Sha1 inner;
    Sha1 outer;
    for (std::size_t i = 0; i < sizeof pad; ++i) pad[i] = k[i] ^ 0x36;
    inner.update(pad, sizeof pad);
    for (std::size_t i = 0; i < sizeof pad; ++i) pad[i] = k[i] ^ 0x5c;
    outer.update(pad, sizeof pad);

    // U1 = HMAC(salt || INT(1)); Un = HMAC(Un-1); T1 = U1 ^ U2 ^ ... ^ Uc.
    static constexpr std::uint8_t kBlockIndex[4] = {0, 0, 0, 1};
    std::uint8_t u[Sha1::kSize];
    for (std::uint32_t r = 0; r < rounds; ++r) {
        Sha1 h;
        h.copy_from(inner);
        if (r == 0) {
            h.update(salt);
            h.update(kBlockIndex, sizeof kBlockIndex);
        } else {
            h.update(u, sizeof u);
        }
        ok = h.finish(u) && ok;
        Sha1 o;
        o.copy_from(outer);
        o.update(u, sizeof u);
        ok = o.finish(u) && ok;
        for (std::size_t i = 0; i < sizeof u; ++i) key[i] = r == 0 ? u[i] : key[i] ^ u[i];
    }
    mbedtls_platform_zeroize(k, sizeof k);
    mbedtls_platform_zeroize(pad, sizeof pad);
    mbedtls_platform_zeroize(u, sizeof u);
    return ok;
}

PasswordCheck verify_pbkdf2(std::string_view stored, std::string_view password) {
    if (ascii::head(stored, kPbkdf2Prefix.size()) != kPbkdf2Prefix) {
        return PasswordCheck::Malformed;
    }
    std::string_view rest = ascii::tail(stored, kPbkdf2Prefix.size());
    const std::size_t d1 = rest.find('$');
    if (d1 == std::string_view::npos) return PasswordCheck::Malformed;
    const std::string_view salt = ascii::head(rest, d1);
    rest = ascii::tail(rest, d1 + 1);
    const std::size_t d2 = rest.find('$');
    if (d2 == std::string_view::npos) return PasswordCheck::Malformed;
    const std::string_view rounds_text = ascii::head(rest, d2);
    const std::string_view hex = ascii::tail(rest, d2 + 1);
    std::uint64_t rounds = 0;
    if (!ascii::parse_uint(rounds_text, &rounds) || rounds == 0 || rounds > UINT32_MAX) {
        return PasswordCheck::Malformed;
    }
    std::uint8_t expected[Sha1::kSize];
    std::size_t n = 0;
    if (hex.size() != 2 * Sha1::kSize || !hex_decode(hex, expected, sizeof expected, &n)) {
        return PasswordCheck::Malformed;
    }
    if (has_nul(password)) return PasswordCheck::Mismatch;
    std::uint8_t key[Sha1::kSize];
    if (!pbkdf2_hmac_sha1(password, salt, static_cast<std::uint32_t>(rounds), key)) {
        return PasswordCheck::Mismatch;
    }
    const bool same = constant_time_equal(key, expected, sizeof key);
    mbedtls_platform_zeroize(key, sizeof key);
    return same ? PasswordCheck::Match : PasswordCheck::Mismatch;
}

// ---------------------------------------------------------------------------
// Scheme names.

enum class Scheme : std::uint8_t {
    Unknown,
    Crypt,
    Sha512Crypt,
    Sha256Crypt,
    Sha512,
    Sha256,
    Sha1,
    Ssha512,
    Ssha256,
    Ssha1,
    Pbkdf2,
};

struct SchemeName {
    std::string_view name;
    Scheme scheme;
};
constexpr SchemeName kSchemes[] = {
    {"CRYPT", Scheme::Crypt},
    {"SHA512-CRYPT", Scheme::Sha512Crypt},
    {"SHA256-CRYPT", Scheme::Sha256Crypt},
    {"SHA512", Scheme::Sha512},
    {"SHA256", Scheme::Sha256},
    {"SHA", Scheme::Sha1},
    {"SHA1", Scheme::Sha1},
    {"SSHA512", Scheme::Ssha512},
    {"SSHA256", Scheme::Ssha256},
    {"SSHA", Scheme::Ssha1},
    {"PBKDF2", Scheme::Pbkdf2},
};

bool is_digest_scheme(Scheme s) {
    return s == Scheme::Sha512 || s == Scheme::Sha256 || s == Scheme::Sha1 ||
           s == Scheme::Ssha512 || s == Scheme::Ssha256 || s == Scheme::Ssha1;
}

// "NAME" or "NAME.ENCODING" (Dovecot: ".HEX", ".B64", ".BASE64"; only for
// the schemes whose value is an encoded digest).
Scheme parse_scheme(std::string_view text, Encoding* enc) {
    *enc = Encoding::Default;
    std::string_view name = text;
    const std::size_t dot = text.find('.');
    if (dot != std::string_view::npos) {
        name = ascii::head(text, dot);
        const std::string_view suffix = ascii::tail(text, dot + 1);
        if (ascii::iequals(suffix, "HEX")) {
            *enc = Encoding::Hex;
        } else if (ascii::iequals(suffix, "B64") || ascii::iequals(suffix, "BASE64")) {
            *enc = Encoding::Base64;
        } else {
            return Scheme::Unknown;
        }
    }
    for (const SchemeName& s : kSchemes) {
        if (ascii::iequals(name, s.name)) {
            if (*enc != Encoding::Default && !is_digest_scheme(s.scheme)) return Scheme::Unknown;
            return s.scheme;
        }
    }
    return Scheme::Unknown;
}

// Random text from crypt's alphabet (64 symbols: every byte value maps to
// one with equal probability).
Status random_salt(port::Entropy& entropy, char* out, std::size_t n) {
    std::uint8_t random[kCryptSaltMax];
    if (n > sizeof random) return Status::Invalid;
    const Status st = entropy.fill(random, n);
    if (st != Status::Ok) return st;
    for (std::size_t i = 0; i < n; ++i) out[i] = kCryptAlphabet[random[i] & 0x3f];
    return Status::Ok;
}

Status finish_output(TextWriter& out) {
    return out.ok() ? Status::Ok : Status::TooLong;
}

}  // namespace

bool sha_crypt(std::string_view password, std::string_view setting, TextWriter& out) {
    CryptSetting s;
    if (!parse_crypt_setting(setting, &s)) return false;
    return sha_crypt_setting(password, s, out);
}

port::PasswordCheck MbedPassword::verify(std::string_view scheme, std::string_view stored,
                                         std::string_view password) {
    Encoding enc = Encoding::Default;
    switch (parse_scheme(scheme, &enc)) {
        case Scheme::Unknown: return PasswordCheck::Unsupported;
        case Scheme::Crypt: return verify_crypt(stored, password, true);
        case Scheme::Sha512Crypt:
        case Scheme::Sha256Crypt: return verify_crypt(stored, password, false);
        case Scheme::Sha512: return verify_digest(Digest::Sha512, false, enc, stored, password);
        case Scheme::Sha256: return verify_digest(Digest::Sha256, false, enc, stored, password);
        case Scheme::Sha1: return verify_digest(Digest::Sha1, false, enc, stored, password);
        case Scheme::Ssha512: return verify_digest(Digest::Sha512, true, enc, stored, password);
        case Scheme::Ssha256: return verify_digest(Digest::Sha256, true, enc, stored, password);
        case Scheme::Ssha1: return verify_digest(Digest::Sha1, true, enc, stored, password);
        case Scheme::Pbkdf2: return verify_pbkdf2(stored, password);
    }
    return PasswordCheck::Unsupported;
}

Status MbedPassword::hash(std::string_view scheme, std::string_view password, TextWriter& out) {
    Encoding enc = Encoding::Default;
    const Scheme s = parse_scheme(scheme, &enc);
    if (enc != Encoding::Default) return Status::Unsupported;
    if (has_nul(password)) return Status::Invalid;
    switch (s) {
        case Scheme::Sha512Crypt:
        case Scheme::Sha256Crypt: {
            char salt[kCryptSaltMax];
            const Status st = random_salt(entropy_, salt, sizeof salt);
            if (st != Status::Ok) return st;
            CryptSetting setting;
            setting.id = s == Scheme::Sha512Crypt ? '6' : '5';
            setting.rounds = kCryptDefaultRounds;
            setting.salt = std::string_view(salt, sizeof salt);
            out.put(s == Scheme::Sha512Crypt ? "{SHA512-CRYPT}" : "{SHA256-CRYPT}");
            if (!sha_crypt_setting(password, setting, out)) return Status::Invalid;
            return finish_output(out);
        }
        case Scheme::Sha512:
        case Scheme::Sha256:
        case Scheme::Ssha512:
        case Scheme::Ssha256: {
            const bool wide = s == Scheme::Sha512 || s == Scheme::Ssha512;
            const bool salted = s == Scheme::Ssha512 || s == Scheme::Ssha256;
            const Digest d = wide ? Digest::Sha512 : Digest::Sha256;
            const std::size_t size = digest_size(d);
            std::uint8_t raw[Sha512::kSize + kSshaSaltBytes];
            if (salted) {
                const Status st = entropy_.fill(raw + size, kSshaSaltBytes);
                if (st != Status::Ok) return st;
            }
            const std::size_t salt_size = salted ? kSshaSaltBytes : 0;
            if (!compute(d, password, as_text(raw + size, salt_size), raw)) return Status::Error;
            out.put('{').put(salted ? "S" : "").put(wide ? "SHA512" : "SHA256").put('}');
            if (!base64_encode(raw, size + salt_size, out)) return Status::Error;
            return finish_output(out);
        }
        case Scheme::Pbkdf2: {
            char salt[kPbkdf2SaltChars];
            const Status st = random_salt(entropy_, salt, sizeof salt);
            if (st != Status::Ok) return st;
            std::uint8_t key[Sha1::kSize];
            const std::string_view salt_text(salt, sizeof salt);
            if (!pbkdf2_hmac_sha1(password, salt_text, kPbkdf2DefaultRounds, key)) {
                return Status::Error;
            }
            out.put("{PBKDF2}").put(kPbkdf2Prefix).put(salt_text).put('$');
            out.put_uint(kPbkdf2DefaultRounds).put('$');
            hex_encode(key, sizeof key, out);
            mbedtls_platform_zeroize(key, sizeof key);
            return finish_output(out);
        }
        case Scheme::Unknown:
        case Scheme::Crypt:
        case Scheme::Sha1:
        case Scheme::Ssha1: return Status::Unsupported;
    }
    return Status::Unsupported;
}

}  // namespace tinyimapd::posix

#endif  // TINYIMAPD_TLS
