// The one place that knows which mbedTLS generation we build against:
// Debian 12's 2.28 or 3.6 (OpenWrt 24.10, Debian 13; see docs/TARGETS.md).
// Everything else calls these helpers and stays free of version checks.
//
//   3.x moved struct members behind MBEDTLS_PRIVATE(), gave the key parsing
//   and pair checking functions an RNG, replaced the curve/hash lists by IANA
//   group and signature-algorithm lists, numbers protocol versions as 0x0303
//   (TLS 1.2) / 0x0304 (TLS 1.3), and runs TLS 1.3 on the PSA crypto layer,
//   which psa_crypto_init() must have set up before the first handshake.
//
// TLS 1.3 is offered when the library has it (3.x with
// MBEDTLS_SSL_PROTO_TLS1_3, the default configuration of 3.6).
#pragma once

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include <cstddef>
#include <cstdint>

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <psa/crypto.h>
#define TINYIMAPD_MBEDTLS3 1
#else
#include <mbedtls/bignum.h>
#define TINYIMAPD_MBEDTLS3 0
#endif

#if TINYIMAPD_MBEDTLS3 && defined(MBEDTLS_SSL_PROTO_TLS1_3)
#define TINYIMAPD_TLS13 1
#else
#define TINYIMAPD_TLS13 0
#endif

// 2.x has no private members; the name for them in 3.x (tests use it).
#ifndef MBEDTLS_PRIVATE
#define MBEDTLS_PRIVATE(member) member
#endif

namespace tinyimapd::posix::mbedtls_compat {

// "mbedTLS 3.6.6, TLS 1.2 and 1.3" (for --version and the startup log).
inline constexpr const char* kLibraryText =
    TINYIMAPD_TLS13 ? "mbedTLS " MBEDTLS_VERSION_STRING ", TLS 1.2 and 1.3"
                    : "mbedTLS " MBEDTLS_VERSION_STRING ", TLS 1.2";

// Once per process, before any handshake (0 or an mbedTLS/PSA error).
inline int init_crypto() {
#if TINYIMAPD_MBEDTLS3
    const psa_status_t s = psa_crypto_init();
    return s == PSA_SUCCESS ? 0 : static_cast<int>(s);
#else
    return 0;
#endif
}

inline int parse_keyfile(mbedtls_pk_context* key, const char* path,
                         mbedtls_ctr_drbg_context* drbg) {
#if TINYIMAPD_MBEDTLS3
    return mbedtls_pk_parse_keyfile(key, path, nullptr, mbedtls_ctr_drbg_random, drbg);
#else
    (void)drbg;
    return mbedtls_pk_parse_keyfile(key, path, nullptr);
#endif
}

inline int check_pair(const mbedtls_pk_context* pub, const mbedtls_pk_context* key,
                      mbedtls_ctr_drbg_context* drbg) {
#if TINYIMAPD_MBEDTLS3
    return mbedtls_pk_check_pair(pub, key, mbedtls_ctr_drbg_random, drbg);
#else
    (void)drbg;
    return mbedtls_pk_check_pair(pub, key);
#endif
}

// The curve of an EC key (MBEDTLS_ECP_DP_NONE if it is not one).
inline mbedtls_ecp_group_id ec_curve(const mbedtls_pk_context& key) {
    const mbedtls_ecp_keypair* ec = mbedtls_pk_ec(key);
    if (ec == nullptr) return MBEDTLS_ECP_DP_NONE;
#if TINYIMAPD_MBEDTLS3
    return mbedtls_ecp_keypair_get_group_id(ec);
#else
    return ec->grp.id;
#endif
}

// A certificate serial number from big-endian bytes.
inline int set_serial(mbedtls_x509write_cert* crt, unsigned char* bytes, std::size_t length) {
#if TINYIMAPD_MBEDTLS3
    return mbedtls_x509write_crt_set_serial_raw(crt, bytes, length);
#else
    mbedtls_mpi serial;
    mbedtls_mpi_init(&serial);
    int ret = mbedtls_mpi_read_binary(&serial, bytes, length);
    if (ret == 0) ret = mbedtls_x509write_crt_set_serial(crt, &serial);
    mbedtls_mpi_free(&serial);
    return ret;
#endif
}

// Pushes the rest of a record that mbedtls_ssl_write() reported WANT_WRITE
// for (0 once it is all out). mbedtls_ssl_flush_output() is internal in both
// generations (3.x does not install its header), but both documented ways of
// resuming a write end up there: while output is pending, mbedtls_ssl_write()
// only flushes and ignores its data. Call it only with a record pending (with
// none, a zero-length write would send an empty record).
inline int flush_pending_record(mbedtls_ssl_context* ssl) {
    static const unsigned char kNothing[1] = {0};
    const int ret = mbedtls_ssl_write(ssl, kNothing, 0);
    return ret > 0 ? 0 : ret;
}

// Protocol versions as TLS 1.x minor numbers + 1, as on the wire: 2 = TLS
// 1.1, 3 = TLS 1.2, 4 = TLS 1.3. A library without a version keeps to what
// it has (2.28: at most 1.2; 3.x: at least 1.2).
inline void set_versions(mbedtls_ssl_config* conf, int min_minor, int max_minor) {
#if TINYIMAPD_MBEDTLS3
    if (min_minor < 3) min_minor = 3;
    if (!TINYIMAPD_TLS13 && max_minor > 3) max_minor = 3;
    mbedtls_ssl_conf_min_tls_version(conf,
                                     static_cast<mbedtls_ssl_protocol_version>(0x0300 | min_minor));
    mbedtls_ssl_conf_max_tls_version(conf,
                                     static_cast<mbedtls_ssl_protocol_version>(0x0300 | max_minor));
#else
    if (max_minor > MBEDTLS_SSL_MINOR_VERSION_3) max_minor = MBEDTLS_SSL_MINOR_VERSION_3;
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, min_minor);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, max_minor);
#endif
}

// The server's key exchange groups and signature algorithms: x25519, P-256,
// P-384; ECDSA or RSA (PSS for TLS 1.3) with SHA-256/384/512, never SHA-1
// (RFC 9155). TLS 1.3 key exchange: ephemeral (EC)DHE only, no PSK, so every
// session is forward-secret, as with TLS 1.2's ECDHE-only suites.
inline void set_server_policy(mbedtls_ssl_config* conf) {
#if TINYIMAPD_MBEDTLS3
    static const std::uint16_t kGroups[] = {
        MBEDTLS_SSL_IANA_TLS_GROUP_X25519,
        MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
        MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1,
        MBEDTLS_SSL_IANA_TLS_GROUP_NONE,
    };
    static const std::uint16_t kSignatureAlgorithms[] = {
        MBEDTLS_TLS1_3_SIG_ECDSA_SECP256R1_SHA256, MBEDTLS_TLS1_3_SIG_ECDSA_SECP384R1_SHA384,
        MBEDTLS_TLS1_3_SIG_ECDSA_SECP521R1_SHA512, MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA256,
        MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA384,    MBEDTLS_TLS1_3_SIG_RSA_PSS_RSAE_SHA512,
        MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA256,       MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA384,
        MBEDTLS_TLS1_3_SIG_RSA_PKCS1_SHA512,       MBEDTLS_TLS1_3_SIG_NONE,
    };
    mbedtls_ssl_conf_groups(conf, kGroups);
    mbedtls_ssl_conf_sig_algs(conf, kSignatureAlgorithms);
#if TINYIMAPD_TLS13
    mbedtls_ssl_conf_tls13_key_exchange_modes(conf, MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL);
#endif
#else
    static const mbedtls_ecp_group_id kCurves[] = {
        MBEDTLS_ECP_DP_CURVE25519,
        MBEDTLS_ECP_DP_SECP256R1,
        MBEDTLS_ECP_DP_SECP384R1,
        MBEDTLS_ECP_DP_NONE,
    };
    static const int kSignatureHashes[] = {
        MBEDTLS_MD_SHA256,
        MBEDTLS_MD_SHA384,
        MBEDTLS_MD_SHA512,
        MBEDTLS_MD_NONE,
    };
    mbedtls_ssl_conf_curves(conf, kCurves);
    mbedtls_ssl_conf_sig_hashes(conf, kSignatureHashes);
#endif
}

}  // namespace tinyimapd::posix::mbedtls_compat
