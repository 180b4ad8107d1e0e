#include "platforms/posix/tls_mbedtls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
// glibc 2.33 and later: the heap mbedTLS takes is measured (mallinfo2);
// elsewhere (musl) estimated. TINYIMAPD_TLS_HEAP_ESTIMATE forces the estimate
// (to compile that branch on glibc).
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33) && \
    !defined(TINYIMAPD_TLS_HEAP_ESTIMATE)
#define TINYIMAPD_TLS_HEAP_MEASURED 1
#else
#define TINYIMAPD_TLS_HEAP_MEASURED 0
#endif
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <new>

#include "core/base/text.h"
#include "platforms/posix/errno_posix.h"
#include "platforms/posix/mbedtls_compat.h"
#include "port/fs.h"

namespace tinyimapd::posix {
namespace {

// Server preference order (mbedTLS honours the server's order by default).
// ChaCha20-Poly1305 first: mbedTLS accelerates AES only with AES-NI on
// x86-64 (or the ARMv8 crypto extensions), and the ARM/MIPS boxes this runs
// on do ChaCha20 several times faster than table-based AES-GCM. All are AEAD;
// the TLS 1.2 ones ECDHE (forward secrecy), and TLS 1.3 is held to ephemeral
// key exchange (mbedtls_compat::set_server_policy).
const int kCipherSuites[] = {
#if TINYIMAPD_TLS13
    MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS1_3_AES_128_GCM_SHA256,
    MBEDTLS_TLS1_3_AES_256_GCM_SHA384,
#endif
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    0,
};

constexpr std::string_view kPersonalization = "tinyimapd tls";
constexpr int kValidityYears = 10;
// A clock before this year has not been set yet (routers boot in 1970 until
// NTP answers); a certificate dated from it would already be expired.
constexpr int kEarliestPlausibleYear = 2024;
constexpr std::size_t kSerialBytes = 16;
constexpr std::size_t kHostnameMax = 253;  // RFC 1035 §2.3.4, as text
// The certificate's name when the host's cannot be one (unset: "(none)").
constexpr std::string_view kFallbackHostname = "tinyimapd";
// PEM of a P-256 key is about 230 bytes, of the certificate about 700.
constexpr std::size_t kKeyPemMax = 1024;
constexpr std::size_t kCertPemMax = 4096;
constexpr std::size_t kMbedtlsErrorMax = 128;

// A NUL-terminated copy of a path, which the C APIs need.
class PathBuffer {
public:
    bool set(std::string_view path) {
        if (path.empty() || path.size() >= sizeof(text_)) return false;
        std::memcpy(text_, path.data(), path.size());
        text_[path.size()] = '\0';
        return true;
    }
    char* c_str() { return text_; }

private:
    char text_[port::kMaxPath + 1];
};

Status exists(const char* path, bool* found) {
    struct stat st;
    if (::stat(path, &st) == 0) {
        *found = true;
        return Status::Ok;
    }
    *found = false;
    return errno == ENOENT ? Status::Ok : status_from_errno(errno);
}

// mkdir -p of the directory part of `path`, new directories mode 0700.
Status make_parents(const char* path) {
    char dir[port::kMaxPath + 1];
    std::size_t length = std::strlen(path);
    std::memcpy(dir, path, length + 1);
    for (std::size_t i = 1; i < length; ++i) {
        if (dir[i] != '/') continue;
        dir[i] = '\0';
        if (::mkdir(dir, 0700) != 0 && errno != EEXIST) return status_from_errno(errno);
        dir[i] = '/';
    }
    return Status::Ok;
}

Status sync_parent(const char* path) {
    char dir[port::kMaxPath + 1];
    std::size_t length = std::strlen(path);
    std::memcpy(dir, path, length + 1);
    char* slash = std::strrchr(dir, '/');
    if (slash == nullptr) {
        dir[0] = '.';
        dir[1] = '\0';
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
    int fd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return status_from_errno(errno);
    Status s = ::fsync(fd) == 0 ? Status::Ok : status_from_errno(errno);
    ::close(fd);
    return s;
}

// Creates `path` (never replacing a file) with mode 0600 and makes it durable.
Status write_new_file(const char* path, const unsigned char* data, std::size_t length) {
    int fd = ::open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return status_from_errno(errno);
    Status s = Status::Ok;
    std::size_t done = 0;
    while (done < length) {
        ssize_t n = ::write(fd, data + done, length - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            s = status_from_errno(errno);
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    if (s == Status::Ok && ::fsync(fd) != 0) s = status_from_errno(errno);
    if (::close(fd) != 0 && s == Status::Ok) s = status_from_errno(errno);
    if (s != Status::Ok) ::unlink(path);
    return s;
}

bool valid_hostname(std::string_view name) {
    if (name.empty() || name.size() > kHostnameMax) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == ':';
        if (!ok) return false;
    }
    return true;
}

// "YYYYMMDDhhmmss", as mbedtls_x509write_crt_set_validity wants it.
void format_time(const struct tm& t, char out[16]) {
    FixedText<16> w;
    auto put2 = [&w](int v) {
        w.put(static_cast<char>('0' + v / 10)).put(static_cast<char>('0' + v % 10));
    };
    w.put_uint(static_cast<std::uint64_t>(t.tm_year + 1900));
    put2(t.tm_mon + 1);
    put2(t.tm_mday);
    put2(t.tm_hour);
    put2(t.tm_min);
    put2(t.tm_sec);
    std::memcpy(out, w.view().data(), w.size());
    out[w.size()] = '\0';
}

// subjectAltName (RFC 5280 §4.2.1.6) with one dNSName, or one iPAddress when
// `host` is an IPv4/IPv6 literal. Returns the DER length, 0 if none fits.
std::size_t encode_subject_alt_name(std::string_view host, unsigned char* out, std::size_t cap) {
    unsigned char address[16];
    char text[kHostnameMax + 1];
    std::memcpy(text, host.data(), host.size());
    text[host.size()] = '\0';
    const unsigned char* value = reinterpret_cast<const unsigned char*>(host.data());
    std::size_t value_length = host.size();
    unsigned char tag = 0x82;  // [2] dNSName
    if (::inet_pton(AF_INET, text, address) == 1) {
        tag = 0x87;  // [7] iPAddress
        value = address;
        value_length = 4;
    } else if (::inet_pton(AF_INET6, text, address) == 1) {
        tag = 0x87;
        value = address;
        value_length = 16;
    }
    // Short-form DER lengths only: a name up to 125 bytes.
    if (value_length + 2 > 127 || value_length + 4 > cap) return 0;
    out[0] = 0x30;  // SEQUENCE OF GeneralName
    out[1] = static_cast<unsigned char>(value_length + 2);
    out[2] = tag;
    out[3] = static_cast<unsigned char>(value_length);
    std::memcpy(out + 4, value, value_length);
    return value_length + 4;
}

// extKeyUsage = serverAuth (RFC 5280 §4.2.1.12).
const unsigned char kExtKeyUsageServerAuth[] = {0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06,
                                                0x01, 0x05, 0x05, 0x07, 0x03, 0x01};

struct GeneratedPair {
    unsigned char key_pem[kKeyPemMax];
    unsigned char cert_pem[kCertPemMax];
};

// A self-signed X.509 v3 certificate over a new EC P-256 key, in PEM.
int generate_pair(mbedtls_ctr_drbg_context* drbg, std::string_view hostname, GeneratedPair* out) {
    mbedtls_pk_context key;
    mbedtls_x509write_cert crt;
    mbedtls_pk_init(&key);
    mbedtls_x509write_crt_init(&crt);

    int ret = 0;
    char name[kHostnameMax + 4];
    unsigned char serial_bytes[kSerialBytes];
    unsigned char san[kHostnameMax + 8];
    std::size_t san_length = 0;
    char not_before[16];
    char not_after[16];
    struct tm t = {};
    time_t now = ::time(nullptr) - 24 * 3600;  // a day's slack for clients' clocks

    do {
        ret = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
        if (ret != 0) break;
        ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
                                  mbedtls_ctr_drbg_random, drbg);
        if (ret != 0) break;
        ret = mbedtls_pk_write_key_pem(&key, out->key_pem, sizeof(out->key_pem));
        if (ret != 0) break;

        mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
        mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
        mbedtls_x509write_crt_set_subject_key(&crt, &key);
        mbedtls_x509write_crt_set_issuer_key(&crt, &key);
        FixedText<sizeof(name)> cn;
        cn.put("CN=").put(hostname);
        std::memcpy(name, cn.view().data(), cn.size());
        name[cn.size()] = '\0';
        if ((ret = mbedtls_x509write_crt_set_subject_name(&crt, name)) != 0) break;
        if ((ret = mbedtls_x509write_crt_set_issuer_name(&crt, name)) != 0) break;

        // A positive serial of up to 127 bits (RFC 5280 §4.1.2.2: <= 20 bytes).
        if ((ret = mbedtls_ctr_drbg_random(drbg, serial_bytes, sizeof(serial_bytes))) != 0) break;
        serial_bytes[0] = static_cast<unsigned char>((serial_bytes[0] & 0x7f) | 0x40);
        ret = mbedtls_compat::set_serial(&crt, serial_bytes, sizeof(serial_bytes));
        if (ret != 0) break;

        ::gmtime_r(&now, &t);
        if (t.tm_year + 1900 < kEarliestPlausibleYear) {
            t = {};
            t.tm_year = kEarliestPlausibleYear - 1900;
            t.tm_mday = 1;
        }
        format_time(t, not_before);
        t.tm_year += kValidityYears;
        if (t.tm_mon == 1 && t.tm_mday == 29) t.tm_mday = 28;  // not a leap year
        format_time(t, not_after);
        if ((ret = mbedtls_x509write_crt_set_validity(&crt, not_before, not_after)) != 0) break;

        // An end-entity certificate: a client that pins it must not see a CA.
        if ((ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1)) != 0) break;
        if ((ret = mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) !=
            0) {
            break;
        }
        ret = mbedtls_x509write_crt_set_extension(
            &crt, MBEDTLS_OID_EXTENDED_KEY_USAGE, MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
            0, kExtKeyUsageServerAuth, sizeof(kExtKeyUsageServerAuth));
        if (ret != 0) break;
        san_length = encode_subject_alt_name(hostname, san, sizeof(san));
        if (san_length != 0) {
            ret = mbedtls_x509write_crt_set_extension(
                &crt, MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
                0, san, san_length);
            if (ret != 0) break;
        }
        if ((ret = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) != 0) break;
        if ((ret = mbedtls_x509write_crt_set_authority_key_identifier(&crt)) != 0) break;
        ret = mbedtls_x509write_crt_pem(&crt, out->cert_pem, sizeof(out->cert_pem),
                                        mbedtls_ctr_drbg_random, drbg);
    } while (false);

    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    return ret;
}

// "192.0.2.1", "2001:db8::1" or "local" for the peer of `fd`, for logs.
void peer_text(int fd, TextWriter& w) {
    struct sockaddr_storage ss;
    socklen_t length = sizeof(ss);
    if (::getpeername(fd, reinterpret_cast<struct sockaddr*>(&ss), &length) != 0) {
        w.put("unknown peer");
        return;
    }
    char text[INET6_ADDRSTRLEN] = {};
    const void* address = nullptr;
    if (ss.ss_family == AF_INET) {
        address = &reinterpret_cast<const struct sockaddr_in*>(&ss)->sin_addr;
    } else if (ss.ss_family == AF_INET6) {
        address = &reinterpret_cast<const struct sockaddr_in6*>(&ss)->sin6_addr;
    }
    if (address == nullptr || ::inet_ntop(ss.ss_family, address, text, sizeof(text)) == nullptr) {
        w.put("local");
        return;
    }
    w.put(text);
}

void put_mbedtls_error(TextWriter& w, int ret) {
    char text[kMbedtlsErrorMax];
    mbedtls_strerror(ret, text, sizeof(text));
    w.put(text).put(" (-0x");
    static constexpr char kHex[] = "0123456789abcdef";
    unsigned value = static_cast<unsigned>(-ret);
    char digits[8];
    int n = 0;
    do {
        digits[n++] = kHex[value & 0xf];
        value >>= 4;
    } while (value != 0 && n < 8);
    while (n > 0) w.put(digits[--n]);
    w.put(')');
}

}  // namespace

// --- MbedTlsSession -------------------------------------------------------

int MbedTlsSession::bio_send(void* self, const unsigned char* data, std::size_t length) {
    int fd = static_cast<MbedTlsSession*>(self)->fd_;
    for (;;) {
        ssize_t n = ::send(fd, data, length, MSG_NOSIGNAL);
        if (n >= 0) return static_cast<int>(n);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_WRITE;
        if (errno == EPIPE || errno == ECONNRESET) return MBEDTLS_ERR_NET_CONN_RESET;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
}

int MbedTlsSession::bio_recv(void* self, unsigned char* out, std::size_t capacity) {
    int fd = static_cast<MbedTlsSession*>(self)->fd_;
    for (;;) {
        ssize_t n = ::recv(fd, out, capacity, 0);
        if (n >= 0) return static_cast<int>(n);  // 0: TCP FIN, MBEDTLS_ERR_SSL_CONN_EOF
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_READ;
        if (errno == ECONNRESET) return MBEDTLS_ERR_NET_CONN_RESET;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
}

Status MbedTlsSession::start(port::Handle handle) {
    if (handle < 0) return Status::Invalid;
    if (state_ != State::Idle) reset();
    fd_ = handle;
    state_ = State::Handshake;
    return Status::Ok;
}

Status MbedTlsSession::fail_or_wait(int ret, std::string_view what) {
    if (ret == MBEDTLS_ERR_SSL_WANT_READ) {
        want_write_ = false;
        return Status::WouldBlock;
    }
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        want_write_ = true;
        return Status::WouldBlock;
    }
    want_write_ = false;
    state_ = State::Ended;
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_SSL_CONN_EOF) {
        end_status_ = Status::Eof;
        return end_status_;
    }
    end_status_ = Status::Closed;
    if (log_ != nullptr && ret != MBEDTLS_ERR_NET_CONN_RESET) {
        FixedText<256> w;
        w.put("TLS ").put(what).put(" with ");
        peer_text(fd_, w);
        w.put(" failed: ");
        put_mbedtls_error(w, ret);
        log_->write(port::LogLevel::Info, w.view());
    }
    return end_status_;
}

Status MbedTlsSession::advance() {
    if (state_ == State::Idle) return Status::Closed;
    if (state_ == State::Ended) return end_status_;
    if (state_ == State::Handshake) {
        int ret = mbedtls_ssl_handshake(&ssl_);
        if (ret != 0) return fail_or_wait(ret, "handshake");
        state_ = State::Open;
        handshake_done_ = true;
        want_write_ = false;
        FixedText<kDescriptionMax> w;
        std::string_view suite = mbedtls_ssl_get_ciphersuite(&ssl_);
        if (suite.starts_with("TLS-")) suite.remove_prefix(4);     // TLS 1.2: "TLS-ECDHE-..."
        if (suite.starts_with("TLS1-3-")) suite.remove_prefix(7);  // TLS 1.3: "TLS1-3-AES-..."
        w.put(mbedtls_ssl_get_version(&ssl_)).put(' ').put(suite);
        description_length_ = static_cast<std::uint8_t>(w.size());
        std::memcpy(description_, w.view().data(), w.size());
    }
    if (record_queued_) {
        int ret = mbedtls_compat::flush_pending_record(&ssl_);
        if (ret != 0) return fail_or_wait(ret, "write");
        record_queued_ = false;
        want_write_ = false;
    }
    return Status::Ok;
}

port::IoResult MbedTlsSession::read(std::uint8_t* out, std::size_t capacity) {
    Status s = advance();
    // Reading does not wait for a queued record to drain: the peer may be
    // waiting for us to read before it reads.
    if (s != Status::Ok && !(s == Status::WouldBlock && record_queued_)) return {s, 0};
    if (capacity == 0) return {Status::Ok, 0};
    int ret = mbedtls_ssl_read(&ssl_, out, capacity);
    if (ret > 0) return {Status::Ok, static_cast<std::size_t>(ret)};
    if (ret == 0) ret = MBEDTLS_ERR_SSL_CONN_EOF;
    bool queued_write = record_queued_;
    Status r = fail_or_wait(ret, "read");
    if (r == Status::WouldBlock && queued_write) want_write_ = true;
    return {r, 0};
}

port::IoResult MbedTlsSession::write(const std::uint8_t* data, std::size_t length) {
    Status s = advance();
    if (s != Status::Ok) return {s, 0};
    if (length == 0) return {Status::Ok, 0};
    int max_payload = mbedtls_ssl_get_max_out_record_payload(&ssl_);
    if (max_payload <= 0) return {fail_or_wait(max_payload, "write"), 0};
    std::size_t n = length < static_cast<std::size_t>(max_payload)
                        ? length
                        : static_cast<std::size_t>(max_payload);
    int ret = mbedtls_ssl_write(&ssl_, data, n);
    if (ret >= 0) return {Status::Ok, static_cast<std::size_t>(ret)};
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE) {
        // With the handshake over and nothing queued before, mbedTLS has
        // encrypted the record and only the socket is full: the bytes are
        // taken (retrying with other data would make mbedTLS report the new
        // length for the old record).
        record_queued_ = true;
        want_write_ = true;
        return {Status::Ok, n};
    }
    return {fail_or_wait(ret, "write"), 0};
}

bool MbedTlsSession::wants_write() const {
    return state_ != State::Ended && state_ != State::Idle && (want_write_ || record_queued_);
}

std::size_t MbedTlsSession::pending() const {
    if (state_ != State::Open) return 0;
    std::size_t n = mbedtls_ssl_get_bytes_avail(&ssl_);
    // A whole record already read from the socket but not yet decrypted also
    // means "do not sleep"; count it as one byte.
    if (n == 0 && mbedtls_ssl_check_pending(&ssl_) != 0) n = 1;
    return n;
}

void MbedTlsSession::finish() {
    if (state_ == State::Idle) return;
    if (state_ == State::Open) {
        // One attempt: a peer that does not read does not get to hold us.
        if (record_queued_) (void)!mbedtls_compat::flush_pending_record(&ssl_);
        (void)mbedtls_ssl_close_notify(&ssl_);
    }
    reset();
}

void MbedTlsSession::reset() {
    // Keeps the record buffers; only fails when re-allocating the handshake
    // state fails, which the next handshake then reports.
    (void)mbedtls_ssl_session_reset(&ssl_);
    fd_ = -1;
    state_ = State::Idle;
    end_status_ = Status::Closed;
    handshake_done_ = false;
    want_write_ = false;
    record_queued_ = false;
    description_length_ = 0;
}

// --- MbedTls --------------------------------------------------------------

MbedTls::MbedTls(port::Log& log) : log_(log) {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
    mbedtls_x509_crt_init(&cert_);
    mbedtls_pk_init(&key_);
    mbedtls_ssl_config_init(&config_);
}

MbedTls::~MbedTls() {
    for (std::size_t i = 0; i < slot_count_; ++i) {
        mbedtls_ssl_free(&sessions_[i].ssl_);
        sessions_[i].~MbedTlsSession();
    }
    mbedtls_ssl_config_free(&config_);
    mbedtls_pk_free(&key_);
    mbedtls_x509_crt_free(&cert_);
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
}

Status MbedTls::fail(Status status, std::string_view what, std::string_view path,
                     int mbedtls_error) {
    TextWriter w(error_text_, sizeof(error_text_));
    if (!path.empty()) w.put(path).put(": ");
    w.put(what);
    if (mbedtls_error != 0) {
        w.put(": ");
        put_mbedtls_error(w, mbedtls_error);
    }
    error_length_ = w.size();
    return status;
}

Status MbedTls::seed() {
    int crypto = mbedtls_compat::init_crypto();
    if (crypto != 0) return fail(Status::Error, "cannot initialise PSA crypto", {}, crypto);
    int ret = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                    reinterpret_cast<const unsigned char*>(kPersonalization.data()),
                                    kPersonalization.size());
    if (ret != 0) return fail(Status::Error, "cannot seed the random generator", {}, ret);
    return Status::Ok;
}

Status MbedTls::load_credentials(const MbedTlsCredentials& c) {
    error_length_ = 0;
    if (configured_) return fail(Status::Invalid, "credentials already loaded", {}, 0);
    PathBuffer cert_path;
    PathBuffer key_path;
    if (!cert_path.set(c.cert_path)) return fail(Status::TooLong, "bad path", c.cert_path, 0);
    if (!key_path.set(c.key_path)) return fail(Status::TooLong, "bad path", c.key_path, 0);
    Status s = seed();
    if (s != Status::Ok) return s;

    bool have_cert = false;
    bool have_key = false;
    if ((s = exists(cert_path.c_str(), &have_cert)) != Status::Ok) {
        return fail(s, status_text(s), c.cert_path, 0);
    }
    if ((s = exists(key_path.c_str(), &have_key)) != Status::Ok) {
        return fail(s, status_text(s), c.key_path, 0);
    }
    if (have_cert != have_key) {
        // Never guess: a new key would silently replace the one clients pinned.
        return fail(Status::NotFound,
                    have_cert ? "missing, while the certificate exists (delete both to generate "
                                "a new pair)"
                              : "missing, while the key exists (delete both to generate a new "
                                "pair)",
                    have_cert ? c.key_path : c.cert_path, 0);
    }
    if (!have_cert && !c.create_if_missing) {
        return fail(Status::NotFound, "missing (and so is the key)", c.cert_path, 0);
    }
    if (!have_cert) {
        // A system whose host name is unset ("(none)" on a fresh router) must
        // still start: the certificate is self-signed, so any name will do.
        std::string_view hostname = c.hostname;
        if (!valid_hostname(hostname)) {
            FixedText<kHostnameMax + 100> w;
            w.put("host name '").put(hostname.substr(0, kHostnameMax));
            w.put("' cannot name a certificate; using '").put(kFallbackHostname).put('\'');
            log_.write(port::LogLevel::Warning, w.view());
            hostname = kFallbackHostname;
        }
        GeneratedPair pair;
        int ret = generate_pair(&drbg_, hostname, &pair);
        if (ret != 0) return fail(Status::Error, "cannot generate a certificate", {}, ret);
        if ((s = make_parents(key_path.c_str())) != Status::Ok ||
            (s = write_new_file(key_path.c_str(), pair.key_pem,
                                std::strlen(reinterpret_cast<char*>(pair.key_pem)))) !=
                Status::Ok) {
            mbedtls_platform_zeroize(&pair, sizeof(pair));
            return fail(s, status_text(s), c.key_path, 0);
        }
        mbedtls_platform_zeroize(pair.key_pem, sizeof(pair.key_pem));
        if ((s = make_parents(cert_path.c_str())) != Status::Ok ||
            (s = write_new_file(cert_path.c_str(), pair.cert_pem,
                                std::strlen(reinterpret_cast<char*>(pair.cert_pem)))) !=
                Status::Ok) {
            // Back to "both missing", so that the next start tries again.
            ::unlink(key_path.c_str());
            return fail(s, status_text(s), c.cert_path, 0);
        }
        if ((s = sync_parent(key_path.c_str())) != Status::Ok ||
            (s = sync_parent(cert_path.c_str())) != Status::Ok) {
            return fail(s, status_text(s), c.cert_path, 0);
        }
        FixedText<3 * port::kMaxPath> w;
        w.put("generated a self-signed TLS certificate for ")
            .put(hostname)
            .put(": ")
            .put(c.cert_path)
            .put(", key ")
            .put(c.key_path);
        log_.write(port::LogLevel::Info, w.view());
    }
    if ((s = load(cert_path.c_str(), key_path.c_str())) != Status::Ok) return s;
    configured_ = true;
    return Status::Ok;
}

Status MbedTls::load(const char* cert_path, const char* key_path) {
    int ret = mbedtls_x509_crt_parse_file(&cert_, cert_path);
    if (ret != 0 || cert_.version == 0) {
        return fail(Status::Invalid,
                    ret > 0 ? "some certificates cannot be parsed" : "no certificate", cert_path,
                    ret > 0 ? 0 : ret);
    }
    ret = mbedtls_compat::parse_keyfile(&key_, key_path, &drbg_);
    if (ret != 0) return fail(Status::Invalid, "cannot load the private key", key_path, ret);
    ret = mbedtls_compat::check_pair(&cert_.pk, &key_, &drbg_);
    if (ret != 0) {
        return fail(Status::Invalid, "the key does not belong to the certificate", key_path, ret);
    }
    if (mbedtls_pk_can_do(&key_, MBEDTLS_PK_ECKEY)) {
        mbedtls_ecp_group_id curve = mbedtls_compat::ec_curve(key_);
        if (curve != MBEDTLS_ECP_DP_SECP256R1 && curve != MBEDTLS_ECP_DP_SECP384R1) {
            return fail(Status::Invalid, "EC keys must be on P-256 or P-384", key_path, 0);
        }
    } else if (!mbedtls_pk_can_do(&key_, MBEDTLS_PK_RSA)) {
        return fail(Status::Invalid, "the key is neither EC nor RSA", key_path, 0);
    }

    ret = mbedtls_ssl_config_defaults(&config_, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                      MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret != 0) return fail(Status::Error, "cannot configure TLS", {}, ret);
    mbedtls_ssl_conf_rng(&config_, mbedtls_ctr_drbg_random, &drbg_);
    mbedtls_compat::set_versions(&config_, 3, 4);  // TLS 1.2, and 1.3 if the library has it
    mbedtls_ssl_conf_ciphersuites(&config_, kCipherSuites);
    mbedtls_compat::set_server_policy(&config_);
    mbedtls_ssl_conf_renegotiation(&config_, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
    mbedtls_ssl_conf_authmode(&config_, MBEDTLS_SSL_VERIFY_NONE);
    ret = mbedtls_ssl_conf_own_cert(&config_, &cert_, &key_);
    if (ret != 0) return fail(Status::Error, "cannot use the certificate", cert_path, ret);
    return Status::Ok;
}

std::size_t MbedTls::memory_needed(std::size_t slot_count) {
    return slot_count * sizeof(MbedTlsSession);
}

Status MbedTls::init(void* block, std::size_t size, std::size_t slot_count) {
    error_length_ = 0;
    if (!configured_ || sessions_ != nullptr) {
        return fail(Status::Invalid, "init() needs load_credentials() first, once", {}, 0);
    }
    if (block == nullptr || size < memory_needed(slot_count) ||
        reinterpret_cast<std::uintptr_t>(block) % alignof(MbedTlsSession) != 0) {
        return fail(Status::Invalid, "block too small or misaligned", {}, 0);
    }
    sessions_ = static_cast<MbedTlsSession*>(block);
#if TINYIMAPD_TLS_HEAP_MEASURED
    const std::size_t heap_before = mallinfo2().uordblks;
#endif
    for (std::size_t i = 0; i < slot_count; ++i) {
        MbedTlsSession* session = new (&sessions_[i]) MbedTlsSession();
        mbedtls_ssl_init(&session->ssl_);
        slot_count_ = i + 1;  // from here on the destructor frees it
        session->log_ = &log_;
        int ret = mbedtls_ssl_setup(&session->ssl_, &config_);
        if (ret != 0) {
            FixedText<32> what;
            what.put("TLS setup of slot ").put_uint(i);
            return fail(ret == MBEDTLS_ERR_SSL_ALLOC_FAILED ? Status::Exhausted : Status::Error,
                        what.view(), {}, ret);
        }
        mbedtls_ssl_set_bio(&session->ssl_, session, MbedTlsSession::bio_send,
                            MbedTlsSession::bio_recv, nullptr);
    }
#if TINYIMAPD_TLS_HEAP_MEASURED
    heap_bytes_ = mallinfo2().uordblks - heap_before;
    heap_measured_ = true;
#else
    // The two record buffers (content, plus header, IV and tag room) and
    // the handshake state, per context (docs/TLS.md "Memory").
    constexpr std::size_t kRecordRoom = 333;
    constexpr std::size_t kStateBytes = 3384;
    heap_bytes_ = slot_count * (MBEDTLS_SSL_IN_CONTENT_LEN + MBEDTLS_SSL_OUT_CONTENT_LEN +
                                2 * kRecordRoom + kStateBytes);
#endif
    return Status::Ok;
}

namespace {

// The whole pages within [at, at + size): given back, they read as zeros.
std::size_t release_pages(unsigned char* at, std::size_t size) {
    const long page_size = sysconf(_SC_PAGESIZE);
    if (at == nullptr || page_size <= 0) return 0;
    const std::uintptr_t page = static_cast<std::uintptr_t>(page_size);
    const std::uintptr_t first = (reinterpret_cast<std::uintptr_t>(at) + page - 1) / page * page;
    const std::uintptr_t end = (reinterpret_cast<std::uintptr_t>(at) + size) / page * page;
    if (end <= first) return 0;
    if (madvise(reinterpret_cast<void*>(first), end - first, MADV_DONTNEED) != 0) return 0;
    return end - first;
}

}  // namespace

std::size_t MbedTls::release_record_pages() {
    std::size_t released = 0;
    for (std::size_t i = 0; i < slot_count_; ++i) {
        mbedtls_ssl_context& ssl = sessions_[i].ssl_;
        // The buffers are at least their content's length long (header,
        // IV and tag room come on top); only that much is given back.
        released += release_pages(ssl.MBEDTLS_PRIVATE(in_buf), MBEDTLS_SSL_IN_CONTENT_LEN);
        released += release_pages(ssl.MBEDTLS_PRIVATE(out_buf), MBEDTLS_SSL_OUT_CONTENT_LEN);
    }
    return released;
}

port::TlsSession* MbedTls::session(std::size_t slot) {
    if (slot >= slot_count_) return nullptr;
    return &sessions_[slot];
}

}  // namespace tinyimapd::posix
