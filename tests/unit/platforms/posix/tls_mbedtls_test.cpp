// platforms/posix/tls_mbedtls: real TLS 1.2 (and, with mbedTLS 3.6, TLS 1.3)
// handshakes in one thread. The
// server is an MbedTls session on one end of a non-blocking socketpair; the
// client is a plain mbedTLS client context on the other end, pinned to the
// server's generated certificate. Both sides are pumped alternately until
// they are done. Credentials are generated (EC P-256, fast under qemu) in a
// mkdtemp directory per test case.
//
// "[.tls-memory]" (hidden, run explicitly) prints the heap mbedTLS uses per
// slot; docs/TLS.md explains the figures and how to reproduce them.
#include <fcntl.h>
#include <malloc.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "platforms/posix/mbedtls_compat.h"
#include "platforms/posix/tls_mbedtls.h"

using namespace tinyimapd;
using tinyimapd::posix::MbedTls;
using tinyimapd::posix::MbedTlsCredentials;

namespace {

// Rounds of "client step, server step" before a test gives up.
constexpr int kMaxRounds = 200;
constexpr const char* kHost = "imap.example.test";

class TempDir {
public:
    TempDir() {
        char pattern[] = "/tmp/tinyimapd-tls-XXXXXX";
        REQUIRE(::mkdtemp(pattern) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::string cmd = "rm -rf '" + path_ + "'";
        (void)!std::system(cmd.c_str());
    }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

class MemoryLog final : public port::Log {
public:
    void write(port::LogLevel, std::string_view line) override { lines.emplace_back(line); }
    bool contains(const std::string& text) const {
        for (const auto& l : lines) {
            if (l.find(text) != std::string::npos) return true;
        }
        return false;
    }
    std::vector<std::string> lines;
};

std::string read_file(const std::string& path) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) return {};
    std::string out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
    std::fclose(f);
    return out;
}

// An MbedTls with generated credentials and `slots` sessions.
struct Server {
    explicit Server(std::size_t slots, const TempDir& dir) : tls(log) {
        cert = dir / "tls/cert.pem";
        key = dir / "tls/key.pem";
        Status s = tls.load_credentials({cert, key, true, kHost});
        INFO(std::string(tls.error_text()));
        REQUIRE(s == Status::Ok);
        block.resize(MbedTls::memory_needed(slots) / sizeof(std::max_align_t) + 1);
        REQUIRE(tls.init(block.data(), block.size() * sizeof(std::max_align_t), slots) ==
                Status::Ok);
    }
    std::vector<std::max_align_t> block;  // outlives tls
    MemoryLog log;
    MbedTls tls;
    std::string cert;
    std::string key;
};

int client_send(void* ctx, const unsigned char* data, std::size_t length) {
    ssize_t n = ::send(*static_cast<int*>(ctx), data, length, MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_WRITE;
    return MBEDTLS_ERR_NET_SEND_FAILED;
}

int client_recv(void* ctx, unsigned char* out, std::size_t capacity) {
    ssize_t n = ::recv(*static_cast<int*>(ctx), out, capacity, 0);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_READ;
    return MBEDTLS_ERR_NET_RECV_FAILED;
}

// Versions as in mbedtls_compat::set_versions: 2 = TLS 1.1, 3 = 1.2, 4 = 1.3.
constexpr int kTls11 = 2;
constexpr int kTls12 = 3;
constexpr int kTls13 = 4;

struct ClientOptions {
    const int* suites = nullptr;  // nullptr: mbedTLS's defaults
    int max_minor = kTls13;       // what the library has
    int min_minor = kTls11;
};

// TLS 1.2 only, mbedTLS's default suites.
constexpr ClientOptions kTls12Only = {nullptr, kTls12, kTls12};

// A TLS client over `fd` that trusts exactly the certificate in `cert_path`.
class Client {
public:
    Client(int fd, const std::string& cert_path, ClientOptions o = {}) : fd_(fd) {
        mbedtls_entropy_init(&entropy_);
        mbedtls_ctr_drbg_init(&drbg_);
        mbedtls_x509_crt_init(&trust_);
        mbedtls_ssl_config_init(&conf_);
        mbedtls_ssl_init(&ssl_);
        REQUIRE(posix::mbedtls_compat::init_crypto() == 0);
        REQUIRE(mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_, nullptr, 0) == 0);
        REQUIRE(mbedtls_x509_crt_parse_file(&trust_, cert_path.c_str()) == 0);
        REQUIRE(mbedtls_ssl_config_defaults(&conf_, MBEDTLS_SSL_IS_CLIENT,
                                            MBEDTLS_SSL_TRANSPORT_STREAM,
                                            MBEDTLS_SSL_PRESET_DEFAULT) == 0);
        mbedtls_ssl_conf_rng(&conf_, mbedtls_ctr_drbg_random, &drbg_);
        mbedtls_ssl_conf_authmode(&conf_, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_ca_chain(&conf_, &trust_, nullptr);
        posix::mbedtls_compat::set_versions(&conf_, o.min_minor, o.max_minor);
        if (o.suites != nullptr) mbedtls_ssl_conf_ciphersuites(&conf_, o.suites);
        REQUIRE(mbedtls_ssl_setup(&ssl_, &conf_) == 0);
        REQUIRE(mbedtls_ssl_set_hostname(&ssl_, kHost) == 0);
        mbedtls_ssl_set_bio(&ssl_, &fd_, client_send, client_recv, nullptr);
    }
    ~Client() {
        mbedtls_ssl_free(&ssl_);
        mbedtls_ssl_config_free(&conf_);
        mbedtls_x509_crt_free(&trust_);
        mbedtls_ctr_drbg_free(&drbg_);
        mbedtls_entropy_free(&entropy_);
    }
    // 0 when done, WANT_* while waiting, another negative value on failure.
    int handshake() { return mbedtls_ssl_handshake(&ssl_); }
    int write(const std::string& s) {
        return mbedtls_ssl_write(&ssl_, reinterpret_cast<const unsigned char*>(s.data()), s.size());
    }
    // Everything readable now.
    std::string read_available() {
        std::string out;
        unsigned char buf[4096];
        for (;;) {
            int n = mbedtls_ssl_read(&ssl_, buf, sizeof(buf));
            if (n <= 0) break;
            out.append(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
        }
        return out;
    }
    // Blocking sockets only: `n` bytes or fewer at end of stream.
    std::string read_exactly(std::size_t n) {
        std::string out;
        unsigned char buf[256];
        while (out.size() < n) {
            int r = mbedtls_ssl_read(&ssl_, buf, std::min(sizeof(buf), n - out.size()));
            if (r <= 0) break;
            out.append(reinterpret_cast<char*>(buf), static_cast<std::size_t>(r));
        }
        return out;
    }
    int close_notify() { return mbedtls_ssl_close_notify(&ssl_); }
    uint32_t verify_result() const { return mbedtls_ssl_get_verify_result(&ssl_); }

private:
    int fd_;
    mbedtls_entropy_context entropy_;
    mbedtls_ctr_drbg_context drbg_;
    mbedtls_x509_crt trust_;
    mbedtls_ssl_config conf_;
    mbedtls_ssl_context ssl_;
};

struct SocketPair {
    SocketPair() {
        REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
    }
    ~SocketPair() {
        close_client();
        if (fds[0] >= 0) ::close(fds[0]);
    }
    void close_client() {
        if (fds[1] >= 0) ::close(fds[1]);
        fds[1] = -1;
    }
    int server() const { return fds[0]; }
    int client() const { return fds[1]; }
    int fds[2] = {-1, -1};
};

enum class Outcome { Done, ClientFailed, ServerFailed };

// Pumps both handshakes until both are done or one side fails.
Outcome pump_handshake(Client& c, port::TlsSession& s, int* client_ret = nullptr,
                       Status* server_status = nullptr) {
    bool client_done = false;
    for (int round = 0; round < kMaxRounds; ++round) {
        if (!client_done) {
            int r = c.handshake();
            if (client_ret != nullptr) *client_ret = r;
            if (r == 0) client_done = true;
            if (r != 0 && r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) {
                // Let the server see the alert.
                std::uint8_t b[16];
                port::IoResult sr = s.read(b, sizeof(b));
                if (server_status != nullptr) *server_status = sr.status;
                return Outcome::ClientFailed;
            }
        }
        std::uint8_t buf[64];
        port::IoResult r = s.read(buf, sizeof(buf));
        if (server_status != nullptr) *server_status = r.status;
        if (r.status != Status::WouldBlock && r.status != Status::Ok) return Outcome::ServerFailed;
        if (client_done && s.handshake_done()) return Outcome::Done;
    }
    FAIL("handshake did not finish in " << kMaxRounds << " rounds");
    return Outcome::ServerFailed;
}

std::string server_read_all(port::TlsSession& s) {
    std::string out;
    std::uint8_t buf[1000];
    for (int i = 0; i < kMaxRounds; ++i) {
        port::IoResult r = s.read(buf, sizeof(buf));
        if (r.status != Status::Ok) break;
        out.append(reinterpret_cast<char*>(buf), r.bytes);
    }
    return out;
}

std::size_t heap_in_use() {
    return mallinfo2().uordblks;
}

}  // namespace

TEST_CASE("MbedTls: handshake, data both ways, pending(), close_notify gives Eof", "[tls]") {
    TempDir dir;
    Server server(2, dir);
    SocketPair pair;
    Client client(pair.client(), server.cert, kTls12Only);
    port::TlsSession* s = server.tls.session(1);
    REQUIRE(s != nullptr);
    CHECK(server.tls.session(2) == nullptr);
    REQUIRE(s->start(pair.server()) == Status::Ok);
    CHECK_FALSE(s->handshake_done());
    CHECK(s->description().empty());

    REQUIRE(pump_handshake(client, *s) == Outcome::Done);
    CHECK(client.verify_result() == 0);  // pinned: the generated certificate verifies
    CHECK(s->description() == "TLSv1.2 ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256");
    CHECK_FALSE(s->wants_write());

    // Client to server, read in small pieces: the rest stays pending.
    REQUIRE(client.write("a1 NOOP\r\n") == 9);
    std::uint8_t small[3];
    port::IoResult r = s->read(small, sizeof(small));
    REQUIRE(r.status == Status::Ok);
    CHECK(r.bytes == 3);
    CHECK(std::string(reinterpret_cast<char*>(small), 3) == "a1 ");
    CHECK(s->pending() == 6);
    CHECK(server_read_all(*s) == "NOOP\r\n");
    CHECK(s->pending() == 0);
    CHECK(s->read(small, sizeof(small)).status == Status::WouldBlock);
    CHECK_FALSE(s->wants_write());

    // Server to client.
    const std::string reply = "a1 OK NOOP completed\r\n";
    r = s->write(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size());
    REQUIRE(r.status == Status::Ok);
    CHECK(r.bytes == reply.size());
    CHECK(client.read_available() == reply);

    // close_notify: Eof, and it stays Eof.
    REQUIRE(client.close_notify() == 0);
    CHECK(s->read(small, sizeof(small)).status == Status::Eof);
    CHECK(s->read(small, sizeof(small)).status == Status::Eof);
    CHECK_FALSE(s->wants_write());
    s->finish();
    CHECK(server.log.lines.size() == 1);  // only "generated a self-signed ..."
}

// RFC 8446: with mbedTLS 3.6 a client that can do TLS 1.3 gets it; one
// with 2.28 gets TLS 1.2. Either way only our AEAD suites are agreed on.
TEST_CASE("MbedTls: TLS 1.3 is negotiated when the library has it, AEAD suites only", "[tls]") {
    TempDir dir;
    Server server(1, dir);
    port::TlsSession* s = server.tls.session(0);
    {
        SocketPair pair;
        Client client(pair.client(), server.cert);  // TLS 1.3 if the library has it
        REQUIRE(s->start(pair.server()) == Status::Ok);
        REQUIRE(pump_handshake(client, *s) == Outcome::Done);
        CHECK(client.verify_result() == 0);
        const std::string description(s->description());
        INFO(description);
#if TINYIMAPD_TLS13
        CHECK((description == "TLSv1.3 CHACHA20-POLY1305-SHA256" ||
               description == "TLSv1.3 AES-128-GCM-SHA256" ||
               description == "TLSv1.3 AES-256-GCM-SHA384"));
#else
        CHECK(description.rfind("TLSv1.2 ECDHE-ECDSA-WITH-", 0) == 0);
#endif
        REQUIRE(client.write("a1 NOOP\r\n") == 9);
        CHECK(server_read_all(*s) == "a1 NOOP\r\n");
        const std::string reply = "a1 OK NOOP completed\r\n";
        port::IoResult r =
            s->write(reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size());
        REQUIRE(r.status == Status::Ok);
        CHECK(client.read_available() == reply);
        s->finish();
    }
#if TINYIMAPD_TLS13
    {
        // AES-128-CCM is AEAD too, but not in our list: refused.
        static const int kCcm[] = {MBEDTLS_TLS1_3_AES_128_CCM_SHA256, 0};
        SocketPair pair;
        Client client(pair.client(), server.cert, {kCcm, kTls13, kTls13});
        REQUIRE(s->start(pair.server()) == Status::Ok);
        Status st = Status::Ok;
        CHECK(pump_handshake(client, *s, nullptr, &st) != Outcome::Done);
        CHECK(st == Status::Closed);
        s->finish();
    }
    {
        static const int kChacha[] = {MBEDTLS_TLS1_3_CHACHA20_POLY1305_SHA256, 0};
        SocketPair pair;
        Client client(pair.client(), server.cert, {kChacha, kTls13, kTls13});
        REQUIRE(s->start(pair.server()) == Status::Ok);
        REQUIRE(pump_handshake(client, *s) == Outcome::Done);
        CHECK(s->description() == "TLSv1.3 CHACHA20-POLY1305-SHA256");
        s->finish();
    }
#endif
}

TEST_CASE("MbedTls: finish() resets the slot for the next connection", "[tls]") {
    TempDir dir;
    Server server(1, dir);
    port::TlsSession* s = server.tls.session(0);
    REQUIRE(s != nullptr);
    for (int connection = 0; connection < 2; ++connection) {
        SocketPair pair;
        Client client(pair.client(), server.cert);
        REQUIRE(s->start(pair.server()) == Status::Ok);
        REQUIRE(pump_handshake(client, *s) == Outcome::Done);
        const std::string msg = "connection " + std::to_string(connection);
        REQUIRE(client.write(msg) == static_cast<int>(msg.size()));
        CHECK(server_read_all(*s) == msg);
        port::IoResult r = s->write(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size());
        REQUIRE(r.status == Status::Ok);
        CHECK(client.read_available() == msg);
        s->finish();  // sends close_notify
        CHECK_FALSE(s->handshake_done());
        CHECK(s->description().empty());
        std::uint8_t b[8];
        CHECK(s->read(b, sizeof(b)).status == Status::Closed);  // not started
    }
}

TEST_CASE("MbedTls: a peer that closes TCP mid-handshake gives Eof", "[tls]") {
    TempDir dir;
    Server server(1, dir);
    SocketPair pair;
    port::TlsSession* s = server.tls.session(0);
    REQUIRE(s->start(pair.server()) == Status::Ok);
    std::uint8_t b[8];
    CHECK(s->read(b, sizeof(b)).status == Status::WouldBlock);
    CHECK_FALSE(s->wants_write());
    pair.close_client();
    CHECK(s->read(b, sizeof(b)).status == Status::Eof);
    s->finish();
}

TEST_CASE("MbedTls: garbage instead of a ClientHello is refused and logged", "[tls]") {
    TempDir dir;
    Server server(1, dir);
    SocketPair pair;
    port::TlsSession* s = server.tls.session(0);
    REQUIRE(s->start(pair.server()) == Status::Ok);
    const char junk[] = "a1 CAPABILITY\r\n";
    REQUIRE(::send(pair.client(), junk, sizeof(junk) - 1, 0) == sizeof(junk) - 1);
    std::uint8_t b[8];
    CHECK(s->read(b, sizeof(b)).status == Status::Closed);
    CHECK(s->write(b, 1).status == Status::Closed);
    CHECK(server.log.contains("TLS handshake with local failed: SSL - "));
    s->finish();
}

TEST_CASE("MbedTls: TLS 1.1 and non-AEAD or non-ECDHE suites are refused", "[tls]") {
    TempDir dir;
    Server server(1, dir);
    port::TlsSession* s = server.tls.session(0);

#if !TINYIMAPD_MBEDTLS3  // 3.x clients cannot speak TLS 1.1 (the e2e test uses OpenSSL)
    SECTION("TLS 1.1 only") {
        SocketPair pair;
        Client client(pair.client(), server.cert, {nullptr, kTls11, kTls11});
        REQUIRE(s->start(pair.server()) == Status::Ok);
        Status st = Status::Ok;
        Outcome o = pump_handshake(client, *s, nullptr, &st);
        CHECK(o != Outcome::Done);
        CHECK(st == Status::Closed);
        CHECK(server.log.contains("TLS handshake with local failed"));
    }
#endif
    SECTION("CBC suites only") {
        static const int kCbc[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
                                   MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
                                   MBEDTLS_TLS_RSA_WITH_AES_128_CBC_SHA, 0};
        SocketPair pair;
        Client client(pair.client(), server.cert, {kCbc, kTls12});
        REQUIRE(s->start(pair.server()) == Status::Ok);
        Status st = Status::Ok;
        CHECK(pump_handshake(client, *s, nullptr, &st) != Outcome::Done);
        CHECK(st == Status::Closed);
    }
    SECTION("static RSA / no forward secrecy, even with GCM") {
        static const int kStatic[] = {MBEDTLS_TLS_RSA_WITH_AES_128_GCM_SHA256,
                                      MBEDTLS_TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256, 0};
        SocketPair pair;
        Client client(pair.client(), server.cert, {kStatic, kTls12});
        REQUIRE(s->start(pair.server()) == Status::Ok);
        Status st = Status::Ok;
        CHECK(pump_handshake(client, *s, nullptr, &st) != Outcome::Done);
        CHECK(st == Status::Closed);
    }
    SECTION("AES-256-GCM alone is accepted") {
        static const int kGcm[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, 0};
        SocketPair pair;
        Client client(pair.client(), server.cert, {kGcm, kTls12});
        REQUIRE(s->start(pair.server()) == Status::Ok);
        REQUIRE(pump_handshake(client, *s) == Outcome::Done);
        CHECK(s->description() == "TLSv1.2 ECDHE-ECDSA-WITH-AES-256-GCM-SHA384");
    }
    s->finish();
    // The slot still works after a refused handshake.
    SocketPair pair;
    Client client(pair.client(), server.cert);
    REQUIRE(s->start(pair.server()) == Status::Ok);
    CHECK(pump_handshake(client, *s) == Outcome::Done);
    s->finish();
}

TEST_CASE("MbedTls: a full socket queues the record; wants_write() until it drains", "[tls]") {
    TempDir dir;
    Server server(1, dir);
    SocketPair pair;
    int small = 4096;
    REQUIRE(::setsockopt(pair.server(), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) == 0);
    Client client(pair.client(), server.cert);
    port::TlsSession* s = server.tls.session(0);
    REQUIRE(s->start(pair.server()) == Status::Ok);
    REQUIRE(pump_handshake(client, *s) == Outcome::Done);

    std::string data(256 * 1024, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 23);
    std::size_t sent = 0;
    std::string received;
    bool saw_would_block = false;
    bool saw_queued = false;
    for (int round = 0; round < 10 * kMaxRounds && received.size() < data.size(); ++round) {
        // Write until the socket is full.
        while (sent < data.size()) {
            port::IoResult r = s->write(reinterpret_cast<const std::uint8_t*>(data.data()) + sent,
                                        data.size() - sent);
            if (r.status == Status::WouldBlock) {
                saw_would_block = true;
                CHECK(s->wants_write());
                break;
            }
            REQUIRE(r.status == Status::Ok);
            REQUIRE(r.bytes > 0);
            sent += r.bytes;
            if (s->wants_write()) saw_queued = true;
        }
        if (sent == data.size() && s->wants_write()) {
            // Nothing left to give, but a record to push: a zero-length write does it.
            port::IoResult r = s->write(nullptr, 0);
            CHECK((r.status == Status::Ok || r.status == Status::WouldBlock));
        }
        received += client.read_available();
    }
    CHECK(saw_would_block);
    CHECK(saw_queued);
    CHECK_FALSE(s->wants_write());
    REQUIRE(received.size() == data.size());
    CHECK(received == data);
    s->finish();
}

TEST_CASE("MbedTls: generated credentials are 0600 in a 0700 directory and load again", "[tls]") {
    TempDir dir;
    const std::string cert = dir / "new/tls/cert.pem";
    const std::string key = dir / "new/tls/key.pem";
    {
        MemoryLog log;
        MbedTls tls(log);
        REQUIRE(tls.load_credentials({cert, key, true, "nas.example.test"}) == Status::Ok);
        CHECK(tls.error_text().empty());
        CHECK(log.contains("generated a self-signed TLS certificate for nas.example.test"));
    }
    struct stat st;
    REQUIRE(::stat(cert.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat(key.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::stat((dir / "new/tls").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(read_file(key).find("-----BEGIN EC PRIVATE KEY-----") == 0);

    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    REQUIRE(mbedtls_x509_crt_parse_file(&crt, cert.c_str()) == 0);
    CHECK(crt.version == 3);
    char subject[128];
    REQUIRE(mbedtls_x509_dn_gets(subject, sizeof(subject), &crt.subject) > 0);
    CHECK(std::string(subject) == "CN=nas.example.test");
    CHECK(crt.valid_to.year - crt.valid_from.year == 10);
    CHECK(crt.MBEDTLS_PRIVATE(sig_md) == MBEDTLS_MD_SHA256);
    CHECK(crt.MBEDTLS_PRIVATE(ca_istrue) == 0);
    CHECK(mbedtls_pk_get_type(&crt.pk) == MBEDTLS_PK_ECKEY);
    CHECK(mbedtls_x509_crt_check_extended_key_usage(
              &crt, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)) == 0);
    REQUIRE(crt.subject_alt_names.buf.p != nullptr);
    CHECK(std::string(reinterpret_cast<const char*>(crt.subject_alt_names.buf.p),
                      crt.subject_alt_names.buf.len) == "nas.example.test");
    mbedtls_x509_crt_free(&crt);

    // Loaded back (nothing is generated twice: the files are unchanged).
    const std::string before = read_file(cert);
    MemoryLog log;
    MbedTls again(log);
    REQUIRE(again.load_credentials({cert, key, true, "other"}) == Status::Ok);
    CHECK(read_file(cert) == before);
    CHECK(log.lines.empty());
    CHECK(again.load_credentials({cert, key}) == Status::Invalid);  // only once
}

TEST_CASE("MbedTls: one of the two files missing is an error and nothing is overwritten", "[tls]") {
    TempDir dir;
    const std::string cert = dir / "cert.pem";
    const std::string key = dir / "key.pem";
    {
        MemoryLog log;
        MbedTls tls(log);
        REQUIRE(tls.load_credentials({cert, key, true}) == Status::Ok);
    }
    const std::string cert_text = read_file(cert);
    const std::string key_text = read_file(key);

    MemoryLog log;
    SECTION("key missing") {
        REQUIRE(::unlink(key.c_str()) == 0);
        MbedTls tls(log);
        CHECK(tls.load_credentials({cert, key, true}) == Status::NotFound);
        CHECK(std::string(tls.error_text()).find(key + ": missing") == 0);
        CHECK(read_file(cert) == cert_text);
        CHECK(::access(key.c_str(), F_OK) != 0);
    }
    SECTION("certificate missing") {
        REQUIRE(::unlink(cert.c_str()) == 0);
        MbedTls tls(log);
        CHECK(tls.load_credentials({cert, key, true}) == Status::NotFound);
        CHECK(read_file(key) == key_text);
    }
    SECTION("both missing, creation not asked for") {
        MbedTls tls(log);
        CHECK(tls.load_credentials({dir / "x.pem", dir / "y.pem"}) == Status::NotFound);
        CHECK(::access((dir / "x.pem").c_str(), F_OK) != 0);
    }
    SECTION("a key that is not the certificate's") {
        const std::string other_cert = dir / "o/cert.pem";
        const std::string other_key = dir / "o/key.pem";
        {
            MbedTls tls(log);
            REQUIRE(tls.load_credentials({other_cert, other_key, true}) == Status::Ok);
        }
        MbedTls tls(log);
        CHECK(tls.load_credentials({cert, other_key}) == Status::Invalid);
        CHECK(std::string(tls.error_text()).find("does not belong") != std::string::npos);
    }
    SECTION("garbage") {
        FILE* f = std::fopen(cert.c_str(), "wb");
        REQUIRE(f != nullptr);
        std::fputs("not a certificate\n", f);
        std::fclose(f);
        MbedTls tls(log);
        CHECK(tls.load_credentials({cert, key}) == Status::Invalid);
    }
    SECTION("a host name that cannot be a certificate name: the fixed name, logged") {
        // "(none)" is what an embedded system without a configured host name
        // reports; "a,O=evil" would inject a field into the subject.
        int n = 0;
        for (const char* bad : {"(none)", "a,O=evil", ""}) {
            const std::string c = dir / ("c" + std::to_string(n) + ".pem");
            const std::string k = dir / ("k" + std::to_string(n) + ".pem");
            ++n;
            MemoryLog named_log;
            MbedTls tls(named_log);
            CHECK(tls.load_credentials({c, k, true, bad}) == Status::Ok);
            CHECK(named_log.contains("cannot name a certificate; using 'tinyimapd'"));
            CHECK(named_log.contains("generated a self-signed TLS certificate for tinyimapd"));
            mbedtls_x509_crt crt;
            mbedtls_x509_crt_init(&crt);
            REQUIRE(mbedtls_x509_crt_parse_file(&crt, c.c_str()) == 0);
            char subject[256];
            REQUIRE(mbedtls_x509_dn_gets(subject, sizeof subject, &crt.subject) > 0);
            CHECK(std::string(subject) == "CN=tinyimapd");
            mbedtls_x509_crt_free(&crt);
        }
    }
    SECTION("init() before load_credentials(), or with too little memory") {
        MbedTls tls(log);
        std::max_align_t block[4];
        CHECK(tls.init(block, sizeof(block), 1) == Status::Invalid);
        REQUIRE(tls.load_credentials({cert, key}) == Status::Ok);
        CHECK(tls.init(block, sizeof(block), 1000) == Status::Invalid);
        CHECK(tls.session(0) == nullptr);
    }
}

// Heap used by mbedTLS per slot; see docs/TLS.md. The client runs in a forked
// child, so that every allocation in this process while connections run is
// the server's (massif's peak snapshot then shows the handshake's transient
// peak under MbedTlsSession::read). Hidden: the numbers are printed, not
// checked.
TEST_CASE("MbedTls: heap per slot", "[.tls-memory]") {
    TempDir dir;
    constexpr std::size_t kSlots = 4;
    constexpr int kConnections = 3;
    std::vector<std::max_align_t> block(MbedTls::memory_needed(kSlots) / sizeof(std::max_align_t) +
                                        1);
    MemoryLog log;
    MbedTls tls(log);
    REQUIRE(tls.load_credentials({dir / "c.pem", dir / "k.pem", true, kHost}) == Status::Ok);
    const std::size_t before_init = heap_in_use();
    REQUIRE(tls.init(block.data(), block.size() * sizeof(std::max_align_t), kSlots) == Status::Ok);
    const std::size_t after_init = heap_in_use();
    std::printf("mbedTLS %s\n", MBEDTLS_VERSION_STRING);
    std::printf("caller's block per slot (sizeof MbedTlsSession): %zu bytes\n",
                MbedTls::memory_needed(1));
    std::printf("sizeof(MbedTls): %zu bytes\n", sizeof(MbedTls));
    std::printf("heap per idle slot after init(): %zu bytes\n",
                (after_init - before_init) / kSlots);

    port::TlsSession* s = tls.session(0);
    const std::string cert = dir / "c.pem";
    for (int connection = 0; connection < kConnections; ++connection) {
        SocketPair pair;
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            int fd = pair.client();
            ::fcntl(fd, F_SETFL, 0);  // blocking: the child just follows
            int code = 1;
            {
                Client client(fd, cert);
                if (client.handshake() == 0 && client.write("hello") == 5) {
                    code = client.read_exactly(5) == "world" ? 0 : 2;
                    if (client.close_notify() != 0) code = 3;
                }
            }
            ::_exit(code);
        }
        pair.close_client();
        REQUIRE(s->start(pair.server()) == Status::Ok);
        const std::size_t start = heap_in_use();
        std::size_t peak = start;
        std::string got;
        for (int round = 0; round < 10 * kMaxRounds && got != "hello"; ++round) {
            struct pollfd p = {pair.server(), POLLIN, 0};
            (void)::poll(&p, 1, 1000);
            std::uint8_t b[16];
            port::IoResult r = s->read(b, sizeof(b));
            if (r.status == Status::Ok) got.append(reinterpret_cast<char*>(b), r.bytes);
            if (heap_in_use() > peak) peak = heap_in_use();
            REQUIRE((r.status == Status::Ok || r.status == Status::WouldBlock));
        }
        const std::size_t open = heap_in_use();
        REQUIRE(s->write(reinterpret_cast<const std::uint8_t*>("world"), 5).status == Status::Ok);
        std::uint8_t b[16];
        Status end = Status::WouldBlock;
        for (int round = 0; round < 10 * kMaxRounds && end == Status::WouldBlock; ++round) {
            struct pollfd p = {pair.server(), POLLIN, 0};
            (void)::poll(&p, 1, 1000);
            end = s->read(b, sizeof(b)).status;
        }
        CHECK(end == Status::Eof);
        char description[posix::MbedTlsSession::kDescriptionMax + 1] =
            {};  // not a std::string: no heap here
        std::memcpy(description, s->description().data(), s->description().size());
        s->finish();
        const std::size_t reset = heap_in_use();
        int wstatus = 0;
        REQUIRE(::waitpid(child, &wstatus, 0) == child);
        CHECK(wstatus == 0);
        std::printf(
            "connection %d (%.*s): handshake peak %+ld, open %+ld, after finish() %+ld bytes "
            "(vs. before start)\n",
            connection + 1, static_cast<int>(std::strlen(description)), description,
            static_cast<long>(peak) - static_cast<long>(start),
            static_cast<long>(open) - static_cast<long>(start),
            static_cast<long>(reset) - static_cast<long>(start));
    }
}
