// MbedTls: port::Tls over mbedTLS (2.28 or 3.6, see mbedtls_compat.h),
// server side, TLS 1.2, and TLS 1.3 when the library has it (3.6).
//
// Owns the process's TLS state: a CTR-DRBG seeded from the kernel, the
// server certificate chain and private key, one mbedtls_ssl_config, and one
// MbedTlsSession (an mbedtls_ssl_context) per engine the server lends to
// connections (`tls_sessions`, core/session/tls_pool.h). Everything is
// set up at startup, in this order:
//
//     MbedTls tls(log);
//     tls.load_credentials({cert_path, key_path, /*create*/ true, "nas.lan"});
//     block = reserve(MbedTls::memory_needed(slots));       // caller-owned
//     tls.init(block, size, slots);
//     platform.tls = &tls;
//
// and per connection `tls.session(i)->start(fd)` ... `finish()` on an engine
// the server's pool lent it.
// load_credentials() reads a PEM certificate chain (server first) and an
// unencrypted PEM/DER key that must match it; when both files are missing and
// the caller allows it, it first generates a self-signed EC P-256 pair (see
// docs/TLS.md). init() calls mbedtls_ssl_setup once per engine, which is where
// mbedTLS allocates its record buffers from the C heap (Debian's build
// has no MBEDTLS_PLATFORM_MEMORY); finish() resets a session with
// mbedtls_ssl_session_reset, which keeps them. After init(), the heap used by
// TLS is bounded per engine (figures in docs/TLS.md; heap_bytes() counts it
// for the startup line); this code allocates
// nothing itself.
//
// Policy: TLS 1.2 and (with 3.6) 1.3; ECDHE key exchange with AEAD ciphers
// only (ChaCha20-Poly1305, AES-128-GCM, AES-256-GCM), TLS 1.3 without PSK
// modes; groups x25519, P-256, P-384; no renegotiation, no compression, no
// session tickets or cache. With 3.x, the seed step calls psa_crypto_init().
// Works with an ECDSA (P-256/P-384) or an RSA certificate.
//
// Sessions follow port/tls.h. Sockets are used directly (handles are
// descriptors): send() with MSG_NOSIGNAL and recv(), both non-blocking.
// Bytes that write() reported as taken belong to the engine: when the socket
// could not take the whole record, wants_write() stays true and the next
// read() or write() call pushes the rest (write() with length 0 only does
// that). read() and write() drive the handshake until it is done. Results:
// WouldBlock (wants_write() tells the direction), Eof (close_notify, or the
// peer closed TCP), Closed (handshake failure, bad record, reset: logged at
// Info with the peer's address and mbedTLS's reason); Closed and Eof are
// sticky until finish(). Not thread-safe; one loop drives all sessions.
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "port/log.h"
#include "port/tls.h"

namespace tinyimapd::posix {

class MbedTls;

class MbedTlsSession final : public port::TlsSession {
public:
    // "TLSv1.2 ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256": 8 + 45 bytes today;
    // "TLSv1.3 CHACHA20-POLY1305-SHA256" for TLS 1.3.
    static constexpr std::size_t kDescriptionMax = 64;

    Status start(port::Handle handle) override;
    port::IoResult read(std::uint8_t* out, std::size_t capacity) override;
    port::IoResult write(const std::uint8_t* data, std::size_t length) override;
    bool wants_write() const override;
    std::size_t pending() const override;
    bool handshake_done() const override { return handshake_done_; }
    void finish() override;
    std::string_view description() const override { return {description_, description_length_}; }

private:
    friend class MbedTls;
    enum class State : std::uint8_t { Idle, Handshake, Open, Ended };

    MbedTlsSession() = default;
    ~MbedTlsSession() = default;
    MbedTlsSession(const MbedTlsSession&) = delete;
    MbedTlsSession& operator=(const MbedTlsSession&) = delete;

    static int bio_send(void* self, const unsigned char* data, std::size_t length);
    static int bio_recv(void* self, unsigned char* out, std::size_t capacity);

    // Runs the handshake (Ok once it is done) and flushes a queued record.
    Status advance();
    // Maps an mbedTLS result that is not a byte count to a Status; logs and
    // ends the session on errors.
    Status fail_or_wait(int ret, std::string_view what);
    void reset();

    mbedtls_ssl_context ssl_;
    port::Log* log_ = nullptr;
    int fd_ = -1;
    State state_ = State::Idle;
    Status end_status_ = Status::Closed;
    bool handshake_done_ = false;
    bool want_write_ = false;
    // A record write() reported as taken is still (partly) in mbedTLS's
    // output buffer.
    bool record_queued_ = false;
    std::uint8_t description_length_ = 0;
    char description_[kDescriptionMax] = {};
};

// Where load_credentials() finds (or puts) the certificate and key.
struct MbedTlsCredentials {
    std::string_view cert_path;  // PEM chain, server certificate first
    std::string_view key_path;   // PEM or DER private key, not encrypted
    // When both files are missing, generate a self-signed EC P-256
    // certificate (CN and subjectAltName = `hostname`, 10 years) and key,
    // written with mode 0600 (missing directories: 0700). Never overwrites.
    // A `hostname` that cannot be a certificate's name (letters, digits, '.',
    // '-', ':'; e.g. an unset "(none)") is replaced by "tinyimapd", with a
    // warning in the log.
    bool create_if_missing = false;
    std::string_view hostname = "tinyimapd";
};

class MbedTls final : public port::Tls {
public:
    static constexpr std::size_t kErrorTextMax = 256;

    explicit MbedTls(port::Log& log);
    ~MbedTls();
    MbedTls(const MbedTls&) = delete;
    MbedTls& operator=(const MbedTls&) = delete;

    // Startup, step 1 (once): seeds the DRBG, loads (or creates, then loads)
    // the certificate and key, checks that they match, and builds the
    // server configuration. NotFound (a file is missing and nothing may be
    // generated, or only one of the two exists), Invalid (unparsable, not a
    // pair, unsupported key), Exists/Permission/NoSpace/Io (writing a new
    // pair); error_text() then says which file and why.
    Status load_credentials(const MbedTlsCredentials& credentials);
    // Bytes of caller-owned memory init() needs for `slot_count` sessions.
    static std::size_t memory_needed(std::size_t slot_count);
    // Startup, step 2 (once, after load_credentials): places `slot_count`
    // sessions in `block` (at least memory_needed() bytes, aligned for
    // std::max_align_t, outliving this object) and sets up one SSL context
    // each. Invalid (order, size, alignment) or Exhausted (mbedTLS's heap).
    Status init(void* block, std::size_t size, std::size_t slot_count);

    // nullptr for a slot outside [0, slot_count) or before init().
    port::TlsSession* session(std::size_t slot) override;
    std::size_t slot_count() const { return slot_count_; }
    // The C heap the sessions' SSL contexts took in init() (record buffers,
    // handshake and transform state): measured with glibc's mallinfo2(),
    // else estimated from the record sizes (heap_measured() false). A
    // handshake in progress takes a few KiB more for its duration
    // (docs/TLS.md "Memory").
    std::size_t heap_bytes() const { return heap_bytes_; }
    // After init(): hands the whole pages inside each engine's two record
    // buffers back to the kernel (madvise MADV_DONTNEED). They hold zeros
    // since mbedtls_ssl_setup(), and a page given back reads as zeros, so
    // nothing changes but the resident size: the heap stays allocated (the
    // reservation holds) and a page is resident again once an engine lent
    // to a connection uses it. The number of bytes given back.
    std::size_t release_record_pages();
    bool heap_measured() const { return heap_measured_; }
    // Why the last startup call failed ("" after success).
    std::string_view error_text() const { return {error_text_, error_length_}; }

private:
    Status seed();
    Status load(const char* cert_path, const char* key_path);
    Status fail(Status status, std::string_view what, std::string_view path, int mbedtls_error);

    port::Log& log_;
    mbedtls_entropy_context entropy_;
    mbedtls_ctr_drbg_context drbg_;
    mbedtls_x509_crt cert_;
    mbedtls_pk_context key_;
    mbedtls_ssl_config config_;
    bool configured_ = false;
    MbedTlsSession* sessions_ = nullptr;
    std::size_t slot_count_ = 0;
    std::size_t heap_bytes_ = 0;
    bool heap_measured_ = false;
    std::size_t error_length_ = 0;
    char error_text_[kErrorTextMax] = {};
};

}  // namespace tinyimapd::posix
