// Zero allocation after startup (DESIGN.md "Memory: fixed at startup").
//
// This binary replaces malloc/calloc/realloc and every operator new with
// counting versions, starts the real server (core over platforms/posix) on a
// loopback port in this process, and drives whole IMAP sessions against it
// from client sockets in the same thread: connect, LOGIN (right and wrong),
// NOOP, CAPABILITY, a bad command, malformed input, literals, pipelining,
// LOGOUT, a connection over max_clients. Between "startup done" and "sessions
// done" the counter must not move.
//
// Later issues extend `kConversation` with the commands they add.
//
// Plain main() rather than Catch2: the test framework itself allocates.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <new>
#include <string_view>

#include "core/server/config.h"
#include "core/server/server.h"
#include "platforms/posix/clock_posix.h"
#include "platforms/posix/entropy_posix.h"
#include "platforms/posix/fs_posix.h"
#include "platforms/posix/log_posix.h"
#include "platforms/posix/net_posix.h"
#if defined(TINYIMAPD_COMPRESS) && TINYIMAPD_COMPRESS
#include <zlib.h>

#include "platforms/posix/compress_zlib.h"
#endif

namespace {
std::atomic<long> g_allocations{0};
std::atomic<bool> g_counting{false};

void note_allocation() {
    if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
}
}  // namespace

// --- counting allocator -----------------------------------------------------
// Under AddressSanitizer, malloc belongs to ASan: only operator new is counted
// there (the plain builds count both).
#if defined(__SANITIZE_ADDRESS__)
constexpr long kProbeCounts = 1;
#else
constexpr long kProbeCounts = 2;
extern "C" void* __libc_malloc(size_t);
extern "C" void* __libc_calloc(size_t, size_t);
extern "C" void* __libc_realloc(void*, size_t);
extern "C" void* malloc(size_t n) {
    note_allocation();
    return __libc_malloc(n);
}
extern "C" void* calloc(size_t a, size_t b) {
    note_allocation();
    return __libc_calloc(a, b);
}
extern "C" void* realloc(void* p, size_t n) {
    note_allocation();
    return __libc_realloc(p, n);
}
#endif
void* operator new(size_t n) {
    note_allocation();
    void* p = malloc(n ? n : 1);
    if (p == nullptr) abort();
    return p;
}
void* operator new[](size_t n) {
    return operator new(n);
}
void* operator new(size_t n, const std::nothrow_t&) noexcept {
    note_allocation();
    return malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept {
    return operator new(n, t);
}
void operator delete(void* p) noexcept {
    free(p);
}
void operator delete[](void* p) noexcept {
    free(p);
}
void operator delete(void* p, size_t) noexcept {
    free(p);
}
void operator delete[](void* p, size_t) noexcept {
    free(p);
}

namespace {

using namespace tinyimapd;

int g_failures = 0;

void fail(const char* what, std::string_view detail = {}) {
    // A default string_view's data() is null, which %.*s must not get even
    // with precision 0 (C11 7.21.6.1; GCC's -Wformat-overflow at -O2 says so).
    const char* text = detail.empty() ? "" : detail.data();
    fprintf(stderr, "FAIL: %s %.*s\n", what, static_cast<int>(detail.size()), text);
    ++g_failures;
}

// A client socket driven without blocking, alternating with the server loop.
struct Client {
    int fd = -1;
    char buf[65536];
    size_t len = 0;

    bool connect_to(std::uint16_t port) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
        fcntl(fd, F_SETFL, O_NONBLOCK);
        return true;
    }
    void send_all(std::string_view s) {
        size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n > 0) off += static_cast<size_t>(n);
        }
    }
    void pump() {
        ssize_t n = ::recv(fd, buf + len, sizeof buf - len, 0);
        if (n > 0) len += static_cast<size_t>(n);
    }
    bool has(std::string_view needle) const {
        return std::string_view(buf, len).find(needle) != std::string_view::npos;
    }
    void close_fd() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

// Runs the server loop until the client's received bytes contain `needle`.
bool serve_until(Server& server, Client& c, std::string_view needle) {
    for (int i = 0; i < 2000; ++i) {
        (void)server.run_once(5);
        c.pump();
        if (c.has(needle)) return true;
    }
    return false;
}

struct Step {
    const char* send;
    const char* expect;
};

// Each step's bytes go out whole (pipelining included); the session must
// answer with `expect` somewhere in its output.
constexpr Step kConversation[] = {
    {"", "* OK [CAPABILITY IMAP4rev1"},
    {"a1 CAPABILITY\r\n", "a1 OK"},
    {"a2 NOOP\r\n", "a2 OK"},
    {"a3 LOGIN alice wrong\r\n", "a3 NO [AUTHENTICATIONFAILED]"},
    {"a4 FROBNICATE\r\n", "a4 BAD"},
    {"a5 NO\x01OP\r\n", "a5 BAD"},
    {"a6 LOGIN {5}\r\n", "+ "},
    {"alice {10+}\r\nwonderland\r\n", "a6 OK "},
    {"a7 NOOP\r\na8 NOOP\r\na9 SELECT INBOX\r\n", "a9 OK [READ-WRITE]"},
    {"c3 LIST \"\" *\r\n", "c3 OK LIST"},
    {"c4 STATUS INBOX (MESSAGES UIDNEXT UNSEEN)\r\n", "c4 OK STATUS"},
    {"c5 APPEND INBOX (\\Seen $Work) \" 1-Feb-2024 10:00:00 +0100\" {3}\r\n", "+ Ready"},
    {"abc\r\nc6 APPEND INBOX {4+}\r\ndefg\r\n", "c6 OK [APPENDUID "},
    {"c7 NOOP\r\n", "c7 OK NOOP"},
    {"c2 UID SEARCH CHARSET UTF-8 OR (FROM x SINCE 1-Feb-2024) NOT 1:5 BODY abc TEXT d\r\n",
     "c2 OK SEARCH"},
    {"c1 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> ENVELOPE "
     "BODYSTRUCTURE BODY BODY.PEEK[1] BODY.PEEK[1.MIME])\r\n",
     "c1 OK FETCH"},
    {"d1 CREATE Foo/Bar\r\nd2 RENAME Foo Baz\r\nd3 DELETE Baz/Bar\r\nd4 DELETE Baz\r\n",
     "d4 OK DELETE"},
    {"d5 SUBSCRIBE INBOX\r\nd6 LSUB \"\" *\r\nd7 UNSUBSCRIBE INBOX\r\n", "d7 OK"},
    {"f1 FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[] BODY[TEXT]<0.2>)\r\n",
     "f1 OK FETCH"},
    {"f2 STORE 1 +FLAGS (\\Deleted $Done)\r\nf3 UID STORE 1:* -FLAGS.SILENT ($Done)\r\n",
     "f3 OK STORE"},
    {"f4 CREATE Keep\r\nf5 UID COPY 1:* Keep\r\nf6 EXPUNGE\r\nf7 DELETE Keep\r\n", "f7 OK DELETE"},
    {"d8 EXAMINE INBOX\r\nd9 CLOSE\r\n", "d9 OK CLOSE"},
    {"e1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\ne2 FETCH 0:x FLAGS\r\n", "e2 BAD"},
    {"e3 ID (\"name\" \"test\")\r\n", "e3 OK"},
    {"e4 NAMESPACE\r\ne5 GETQUOTAROOT INBOX\r\ne6 GETQUOTA \"\"\r\n", "e6 NO"},
    {"e7 IDLE\r\n", "+ idling"},
    {"DONE\r\n", "e7 OK IDLE"},
    {"e8 UNSELECT\r\ne9 ENABLE QRESYNC\r\n", "e9 OK ENABLE"},
    {"g1 SELECT INBOX (QRESYNC (1 1 1:9))\r\ng2 NOOP\r\n", "g2 OK"},
    {"g3 CREATE Junk2 (USE (\\Junk))\r\ng4 LIST (SPECIAL-USE SUBSCRIBED RECURSIVEMATCH) \"\" "
     "(* %) RETURN (CHILDREN STATUS (MESSAGES DELETED SIZE APPENDLIMIT))\r\n",
     "g4 OK LIST"},
    {"g5 LIST \"\" * RETURN (SUBSCRIBED SPECIAL-USE STATUS (UIDNEXT DELETED-STORAGE))\r\n",
     "g5 OK LIST"},
    {"g6 APPEND Junk2 {3+}\r\nabc (\\Seen) {4+}\r\ndefg\r\n", "g6 OK [APPENDUID"},
    {"g7 DELETE Junk2\r\n", "g7 OK"},
    {"h1 SELECT INBOX\r\n", "h1 OK"},
    {"h2 CREATE Moved\r\n", "h2 OK"},
    {"h3 FETCH 1:* (MODSEQ FLAGS ENVELOPE BODYSTRUCTURE) (CHANGEDSINCE 1)\r\n", "h3 OK"},
    {"h4 FETCH 1:* (ENVELOPE BODYSTRUCTURE BODY)\r\n", "h4 OK"},
    {"h5 STORE 1:* (UNCHANGEDSINCE 1) +FLAGS.SILENT ($X)\r\n", "h5 OK"},
    {"h6 UID STORE 1:* (UNCHANGEDSINCE 999999) -FLAGS ($X)\r\n", "h6 OK"},
    {"h7 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)\r\n", "h7 OK"},
    {"h8 FETCH 1:* (BINARY.PEEK[1] BINARY.SIZE[1] BINARY.PEEK[]<0.10> BINARY[1]<2.3>)\r\n",
     "h8 OK"},
    {"h9 UID MOVE 1 Moved\r\n", "h9 OK"},
    {"i1 MOVE 1 INBOX\r\n", "i1 OK"},
    {"i2 MOVE 1:* Moved\r\n", "i2 OK"},
    {"i3 DELETE Moved\r\n", "i3 OK"},
    {"s1 SELECT INBOX\r\n", "s1 OK"},
    {"s2 APPEND INBOX {242+}\r\nSubject: =?utf-8?q?K=C3=B6ln?= =?iso-8859-1?b?6Q==?=\r\n"
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
     "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9 soft=\r\nbreak\r\n--b\r\n"
     "Content-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n--b--\r\n\r\n",
     "s2 OK"},
    {"s3 SEARCH CHARSET UTF-8 SUBJECT {5+}\r\nK\xC3\x96ln BODY softbreak TEXT \"hello world\" "
     "HEADER Subject \"\" SENTSINCE 1-Jan-2000\r\n",
     "s3 OK SEARCH"},
    {"s4 UID SEARCH RETURN (MIN MAX COUNT ALL) OR BODY hello NOT ALL\r\n",
     "* ESEARCH (TAG \"s4\") UID MIN "},
    {"s5 SEARCH RETURN () MODSEQ 1\r\ns6 SEARCH MODSEQ \"/flags/\\\\seen\" all 1\r\n", " (MODSEQ "},
    // RFC 5256 SORT and THREAD, RFC 5957: the work area comes from the pool.
    {"t1 SORT (REVERSE SUBJECT DATE DISPLAYFROM) UTF-8 OR SUBJECT k ALL\r\n", "t1 OK SORT"},
    {"t2 UID SORT (FROM TO CC SIZE ARRIVAL DISPLAYTO) US-ASCII BODY hello\r\n", "t2 OK SORT"},
    {"t3 THREAD REFERENCES UTF-8 ALL\r\nt4 UID THREAD ORDEREDSUBJECT UTF-8 1:*\r\n",
     "t4 OK THREAD"},
    // RFC 5267 ESORT and PARTIAL (SEARCH and SORT), SAVE with both.
    {"t5 SORT RETURN (MIN MAX COUNT ALL) (REVERSE ARRIVAL) UTF-8 ALL\r\nt6 UID SORT RETURN "
     "(SAVE MIN PARTIAL 2:1) (SUBJECT) UTF-8 ALL\r\nt7 SEARCH RETURN (COUNT PARTIAL 1:9) "
     "ALL\r\n",
     "t7 OK SEARCH"},
    // RFC 5267 §4 CONTEXT: UPDATE contexts, their updates after this
    // session's own STORE and EXPUNGE (header keys read again), NOUPDATE
    // (BODY, SORT), CANCELUPDATE.
    {"x1 UID SEARCH RETURN (UPDATE CONTEXT COUNT) UNSEEN\r\nx2 SEARCH RETURN (UPDATE MIN) "
     "OR 1:2 SUBJECT k OR KEYWORD $Y SENTSINCE 1-Jan-2000\r\nx3 SEARCH RETURN (UPDATE) "
     "BODY hello\r\nx4 SORT RETURN (UPDATE) (DATE) UTF-8 ALL\r\nx5 STORE 1 +FLAGS ($Y "
     "\\Seen)\r\nx6 STORE 1 -FLAGS.SILENT (\\Seen)\r\nx7 NOOP\r\n",
     "x7 OK"},
    {"y1 APPEND INBOX (\\Deleted) {3+}\r\nabc\r\ny2 EXPUNGE\r\n", "y2 OK"},
    {"x8 CANCELUPDATE \"x1\" \"x2\"\r\nx9 UID SEARCH RETURN (UPDATE) ALL\r\n", "x9 OK"},
    // RFC 5182 SEARCHRES: the saved result and "$" in its commands.
    {"r1 SEARCH RETURN (SAVE) ALL\r\nr2 FETCH $ (FLAGS)\r\nr3 UID SEARCH RETURN (SAVE MIN ALL) "
     "OR $ 1\r\nr4 UID FETCH $ UID\r\nr5 STORE $ -FLAGS (\\Answered)\r\n",
     "r5 OK"},
    // RFC 8514 SAVEDATE and its keys.
    {"v1 FETCH 1:* (SAVEDATE)\r\nv2 SEARCH OR SAVEDATESUPPORTED SAVEDSINCE 1-Jan-2000 "
     "SAVEDBEFORE 1-Jan-2100 NOT SAVEDON 1-Jan-1999\r\n",
     "v2 OK"},
    // RFC 8474 OBJECTID: EMAILID/THREADID in FETCH and SEARCH, MAILBOXID.
    {"o1 FETCH 1:* (EMAILID THREADID)\r\no2 UID SEARCH OR EMAILID M0000000000000001 "
     "THREADID T1\r\no3 STATUS INBOX (MAILBOXID)\r\n",
     "o3 OK"},
    // RFC 8970 PREVIEW: the walk, the HTML and charset paths, the cache.
    {"w1 FETCH 1:* (PREVIEW)\r\nw2 FETCH 1:* (UID PREVIEW (LAZY))\r\n", "w2 OK"},
    {"j1 FIND ALL.MAILBOXES *\r\nj2 FETCH 1 (RFC822.PEEK RFC822.TEXT.PEEK)\r\n", "j2 OK"},
    {"k1 APPEND INBOX ~{3+}\r\nabc\r\nk2 APPEND INBOX {0+}\r\n\r\n", "k2 NO"},
    {"k3 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %\r\nk4 GETQUOTAROOT INBOX\r\n", "k4 OK"},
    // RFC 8508: REPLACE and UID REPLACE (the APPEND, then the expunge).
    {"r1 REPLACE 1 INBOX (\\Seen \\Draft) {3}\r\n", "+ Ready"},
    {"abc\r\n", "] REPLACE completed"},
    {"r2 UID REPLACE * INBOX {4+}\r\ndefg\r\nr3 REPLACE 99 INBOX {1}\r\n", "r3 BAD"},
    // RFC 5465 NOTIFY: SET STATUS, the beat's STATUS and MessageNew's FETCH
    // (in IDLE), the tree events, the errors, NONE.
    {"n1 NOTIFY SET STATUS (selected (MessageNew (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)]) "
     "MessageExpunge FlagChange)) (personal (MessageNew MessageExpunge FlagChange MailboxName "
     "SubscriptionChange)) (subtree (INBOX Other) NONE)\r\n",
     "n1 OK NOTIFY"},
    {"n2 CREATE Watched\r\nn3 SUBSCRIBE Watched\r\nn4 APPEND Watched {3+}\r\nabc\r\n"
     "n5 APPEND INBOX {3+}\r\nabc\r\nn6 IDLE\r\n",
     "* STATUS Watched (MESSAGES 1"},
    {"DONE\r\n", "n6 OK IDLE"},
    {"n7 NOTIFY SET (personal (AnnotationChange))\r\nn8 NOTIFY SET (selected (MailboxName))\r\n"
     "n9 DELETE Watched\r\nm1 NOTIFY NONE\r\n",
     "m1 OK NOTIFY"},
    // RFC 5465 §6 over the other users' namespace, §5.6/§5.7 METADATA events.
    {"n10 NOTIFY SET (subtree \"Other Users\" (MessageNew MessageExpunge MailboxName "
     "MailboxMetadataChange)) (personal (ServerMetadataChange))\r\n"
     "n11 SETMETADATA INBOX (/shared/comment \"n\" /private/comment NIL)\r\nm2 NOTIFY NONE\r\n",
     "m2 OK NOTIFY"},
    // RFC 5464 METADATA: set (a literal, literal8, NIL), get with DEPTH and
    // MAXSIZE (LONGENTRIES), server entries, the limits, RENAME with them.
    {"e1 SETMETADATA INBOX (/private/comment {3+}\r\nabc /shared/comment \"s\" "
     "/shared/vendor/t/b ~{2+}\r\nxy)\r\ne2 GETMETADATA INBOX (DEPTH infinity MAXSIZE 2) "
     "(/private /shared)\r\ne3 SETMETADATA \"\" (/shared/comment \"c\" /private/x NIL)\r\n"
     "e4 GETMETADATA \"\" (/shared/comment /private/x /shared/admin)\r\n",
     "e4 OK GETMETADATA"},
    {"e5 CREATE Meta\r\ne6 SETMETADATA Meta (/shared/comment \"m\")\r\ne7 RENAME Meta Meta2\r\n"
     "e8 GETMETADATA Meta2 /shared/comment\r\ne9 SETMETADATA INBOX (/private/comment NIL "
     "/shared/comment NIL /shared/vendor/t/b NIL)\r\ne0 DELETE Meta2\r\n",
     "e0 OK"},
    // RFC 4314 ACL: the commands, and another user's (unknown) namespace.
    {"a1 SETACL INBOX bob lrs\r\na2 SETACL INBOX bob +cd\r\na3 GETACL INBOX\r\n"
     "a4 LISTRIGHTS INBOX bob\r\na5 MYRIGHTS INBOX\r\na6 DELETEACL INBOX bob\r\n"
     "a7 MYRIGHTS \"Other Users/bob/INBOX\"\r\na8 NAMESPACE\r\n",
     "a8 OK"},
    {"b1 X ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((\r\n", "b1 BAD"},
    {"b2 LOGIN {99999999}\r\n", "b2 BAD"},
    // RFC 8437: back to not authenticated, and in again.
    {"u1 UNAUTHENTICATE\r\nu2 LOGIN alice wonderland\r\n", "u2 OK "},
    // RFC 9051: an IMAP4rev2 session (SELECT's LIST, ESEARCH, RFC 2231 joined).
    {"x1 ENABLE IMAP4rev2\r\nx2 APPEND INBOX {105+}\r\nContent-Type: text/plain; "
     "n*0=\"a\"; n*1*=%41;\r\n n*2=b; x*=utf-8''%41\r\nContent-Disposition: a; "
     "f*0=1\r\n\r\nx\r\n\r\n",
     "x2 OK"},
    {"x3 SELECT INBOX\r\nx4 UID SEARCH ALL\r\nx5 FETCH 1:* (FLAGS BODYSTRUCTURE BODY)\r\n"
     "x6 NOOP\r\n",
     "x6 OK"},
    // RFC 5267 §4.3 in the rev2 session: an UPDATE context and its update.
    {"xa UID SEARCH RETURN (UPDATE) UNSEEN\r\nxb STORE 1:* +FLAGS (\\Seen)\r\nxc NOOP\r\n",
     "xc OK"},
    // RFC 6855 §7: a UTF-8 header appended by the rev2 session, fetched by a
    // session without UTF-8 (encoded words, RFC 6858 §2.1 placeholders).
    {"x7 APPEND INBOX {93+}\r\nFrom: J\xC3\xB6rg <j\xC3\xB6rg@example.org>\r\n"
     "Subject: Gr\xC3\xBC\xC3\x9F" "e\r\nContent-Type: text/plain; name=\"\xC3\xA4\"\r\n\r\n"
     "x\r\n\r\nx8 UNAUTHENTICATE\r\nx9 LOGIN alice wonderland\r\n",
     "x9 OK "},
    {"y1 SELECT INBOX\r\ny2 FETCH 1:* (ENVELOPE BODYSTRUCTURE BODY)\r\n",
     "\"invalid\" \"internationalized-address.invalid\""},
    {"y3 NOOP\r\n", "y3 OK"},
    {"b3 LOGOUT\r\n", "b3 OK"},
};

#if defined(TINYIMAPD_COMPRESS) && TINYIMAPD_COMPRESS
// RFC 4978: the client's half of COMPRESS=DEFLATE, zlib over a static arena
// (the client's own allocations would be counted too).
struct ZClient {
    alignas(16) static inline unsigned char arena[512 * 1024];
    static inline size_t used = 0;
    static void* zalloc(void*, unsigned items, unsigned size) {
        const size_t n = (size_t{items} * size + 15) & ~size_t{15};
        if (n > sizeof arena - used) return nullptr;
        void* p = arena + used;
        used += n;
        return p;
    }
    static void zfree(void*, void*) {}
    z_stream c{}, d{};
    char out[1 << 20];
    size_t out_len = 0, taken = 0;  // inflated bytes; raw bytes of Client::buf inflated
    bool init() {
        c.zalloc = d.zalloc = &ZClient::zalloc;
        c.zfree = d.zfree = &ZClient::zfree;
        return deflateInit2(&c, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK &&
               inflateInit2(&d, -15) == Z_OK;
    }
    void send(Client& to, std::string_view text) {
        static unsigned char z[4096];
        c.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
        c.avail_in = static_cast<uInt>(text.size());
        c.next_out = z;
        c.avail_out = sizeof z;
        (void)deflate(&c, Z_SYNC_FLUSH);
        to.send_all(std::string_view(reinterpret_cast<char*>(z), sizeof z - c.avail_out));
    }
    void take(Client& from) {
        d.next_in = reinterpret_cast<Bytef*>(from.buf + taken);
        d.avail_in = static_cast<uInt>(from.len - taken);
        d.next_out = reinterpret_cast<Bytef*>(out + out_len);
        d.avail_out = static_cast<uInt>(sizeof out - out_len);
        (void)inflate(&d, Z_SYNC_FLUSH);
        taken = from.len - d.avail_in;
        out_len = sizeof out - d.avail_out;
    }
    bool has(std::string_view needle) const {
        return std::string_view(out, out_len).find(needle) != std::string_view::npos;
    }
};

// LOGIN, COMPRESS DEFLATE, then commands and answers through the streams.
void compressed_round(Server& server, Client& c, std::uint16_t port, ZClient& z) {
    c.len = 0;
    if (!c.connect_to(port)) fail("connect");
    c.send_all("z1 LOGIN alice wonderland\r\nz2 COMPRESS DEFLATE\r\n");
    if (!serve_until(server, c, "z2 OK")) fail("no reply", "z2 OK");
    z.taken = c.len;
    constexpr Step kCompressed[] = {
        {"z3 SELECT INBOX\r\nz4 FETCH 1:* (FLAGS BODY.PEEK[] ENVELOPE)\r\n", "z4 OK"},
        {"z5 COMPRESS DEFLATE\r\n", "z5 NO [COMPRESSIONACTIVE]"},
        {"z6 LIST \"\" *\r\nz7 LOGOUT\r\n", "z7 OK"},
    };
    for (const Step& s : kCompressed) {
        z.send(c, s.send);
        bool seen = false;
        for (int i = 0; i < 2000 && !seen; ++i) {
            (void)server.run_once(5);
            c.pump();
            z.take(c);
            seen = z.has(s.expect);
        }
        if (!seen) fail("no compressed reply", s.expect);
    }
    c.close_fd();
    for (int i = 0; i < 20; ++i) (void)server.run_once(5);
}
#endif

}  // namespace

int main() {
    char dir_template[] = "/tmp/tinyimapd-alloc-XXXXXX";
    const char* dir = mkdtemp(dir_template);
    if (dir == nullptr) return 2;
    char passwd_path[256];
    snprintf(passwd_path, sizeof passwd_path, "%s/passwd", dir);
    FILE* f = fopen(passwd_path, "w");
    fputs("alice:{PLAIN}wonderland\n", f);
    fclose(f);

    Config cfg;
    cfg.listen.items[0].assign("127.0.0.1:0");
    cfg.listen.count = 1;
    cfg.passwd_file.assign(passwd_path);
    cfg.mail_dir.assign(dir);
    cfg.plaintext_auth = true;
    cfg.login_fail_delay_ms = 20;
    cfg.max_clients = 2;
    cfg.max_clients_per_address = 2;  // every client here is 127.0.0.1

    posix::PosixNet net;
    posix::PosixFs fs;
    posix::PosixClock clock;
    posix::PosixEntropy entropy;
    posix::PosixLog log(posix::LogTarget::Stderr, port::LogLevel::Warning);
    port::Platform platform{net, fs, clock, entropy, log};
#if defined(TINYIMAPD_COMPRESS) && TINYIMAPD_COMPRESS
    // COMPRESS=DEFLATE's engine: zlib on its fixed arena (RFC 4978).
    cfg.compress_sessions = 1;
    alignas(16) static unsigned char z_block[sizeof(ZlibSession)];
    ZlibCompress zlib;
    if (zlib.init(z_block, sizeof z_block, 1) != Status::Ok) fail("zlib engines");
    platform.compress = &zlib;
    static ZClient zclient;  // static: no allocation, not on the counted path
    if (!zclient.init()) fail("client zlib");
#endif

    const size_t size = Server::memory_needed(cfg);
    void* block = malloc(size);
    Server server(platform, cfg, block, size);
    if (server.load_passwd() != Status::Ok) fail("load passwd");
    // The store's flushes on I/O threads, as the server runs them (issue 13):
    // started now, they must not allocate either.
    if (fs.start_flush_threads(2) != Status::Ok) fail("I/O threads");
    if (server.open_listeners() != Status::Ok) fail("listen");
    const Result<std::uint16_t> port = server.listener_port(0);
    if (!port.ok()) fail("listener port");

    static Client clients[3];  // static: no allocation, not on the counted path
    // The counter itself must see allocations, or this test proves nothing.
    g_counting = true;
    void* volatile probe_new = operator new(8);
    operator delete(probe_new);
    void* probe = malloc(16);
    free(probe);
    g_counting = false;
    if (g_allocations.load() < kProbeCounts) fail("the allocation counter does not count");
    g_allocations = 0;

    // Startup is over: from here on, nothing may allocate.
    g_counting = true;

    for (int round = 0; round < 2; ++round) {
        Client& c = clients[0];
        c.len = 0;
        if (!c.connect_to(port.value)) fail("connect");
        for (const Step& s : kConversation) {
            if (*s.send != '\0') c.send_all(s.send);
            if (!serve_until(server, c, s.expect)) fail("no reply", s.expect);
        }
        c.close_fd();
        for (int i = 0; i < 20; ++i) (void)server.run_once(5);
    }
#if defined(TINYIMAPD_COMPRESS) && TINYIMAPD_COMPRESS
    compressed_round(server, clients[0], port.value, zclient);
#endif
    // One connection over max_clients gets "* BYE".
    for (int i = 0; i < 3; ++i) {
        clients[i].len = 0;
        if (!clients[i].connect_to(port.value)) fail("connect");
        if (!serve_until(server, clients[i], i < 2 ? "* OK" : "* BYE")) fail("greeting or BYE");
    }
    server.begin_shutdown("test over");
    for (int i = 0; i < 2; ++i) {
        if (!serve_until(server, clients[i], "* BYE test over")) fail("shutdown BYE");
    }

    g_counting = false;
    const long counted = g_allocations.load();
    for (Client& c : clients) c.close_fd();
    server.close_all();
    free(block);
    unlink(passwd_path);
    rmdir(dir);

    if (counted != 0) {
        fprintf(stderr, "FAIL: %ld heap allocations after startup\n", counted);
        ++g_failures;
    }
    if (g_failures != 0) return 1;
    printf("OK: whole sessions after startup made 0 heap allocations\n");
    return 0;
}
