// imap_load: an IMAP load generator for the side-by-side benchmark with
// Dovecot (docs/BENCHMARKS.md, tests/bench/run.sh). Not a test.
//
//   imap_load mix    --port P --users N --user-prefix u --password pw
//                    --clients C --duration S [--warmup S] [--rounds R] [--seed X]
//   imap_load script --port P --user U --password pw --cmd "SELECT INBOX" --cmd ...
//
// One thread, epoll, non-blocking sockets: it must never be the bottleneck
// (it uses a fraction of one core where a server under test uses a whole one;
// bench.py reports its CPU time next to the servers').
//
// mix: C concurrent clients, each logged in as its own user (client i is
// user i mod N), loop through sessions: LOGIN, CAPABILITY, SELECT INBOX, then
// R rounds of UID FETCH 1:* (FLAGS), FETCH of the last 10 headers, FETCH
// BODYSTRUCTURE, FETCH BODY.PEEK[], STORE (\Flagged on/off), SEARCH (three
// kinds in turn), APPEND of a ~4 KiB message (with a literal: {n+} when
// LITERAL+ is advertised, else {n} and wait for '+'), UID STORE \Deleted of
// the appended message, EXPUNGE, IDLE+DONE (when IDLE is advertised;
// counted as skipped otherwise), then LOGOUT and reconnect. The mailbox size
// stays where it started. Every answer is checked: the tag must come back
// OK, FETCH must return FETCH responses, SEARCH a SEARCH response, APPEND
// an APPENDUID or an EXISTS; anything else counts as an error of that
// command, never as throughput. Output: one JSON object with commands/s and
// p50/p99 latency per command.
//
// script: one connection, LOGIN, then each --cmd in turn: time to the first
// byte of the answer, time to the tagged OK, bytes and FETCH/SEARCH counts.
// One JSON object.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---------------------------------------------------------------- responses

// One complete server response: a tagged or untagged line with its literals
// (the literal bytes themselves are skipped), or a continuation request.
struct Response {
    std::string head;       // the first line up to its first literal, capped
    std::size_t words = 0;  // spaces outside literals (SEARCH hit count)
    std::size_t literal_bytes = 0;
};

// Splits the byte stream into responses, skipping literals {n} exactly.
class ResponseReader {
public:
    static constexpr std::size_t kHeadCap = 16384;

    // Feeds bytes; calls on(Response&) for each complete one.
    template <class F>
    void feed(const char* p, std::size_t n, F&& on) {
        while (n > 0) {
            if (literal_left_ > 0) {
                const std::size_t take = std::min<std::size_t>(n, literal_left_);
                literal_left_ -= take;
                cur_.literal_bytes += take;
                p += take;
                n -= take;
                continue;
            }
            const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
            const std::size_t seg = nl ? static_cast<std::size_t>(nl - p) + 1 : n;
            take_text(p, seg);
            p += seg;
            n -= seg;
            if (!nl) break;
            // A line ended: does it announce a literal?
            const std::uint64_t lit = literal_announced();
            tail_len_ = 0;
            if (lit != kNoLiteral) {
                literal_left_ = lit;
                in_first_line_ = false;
                continue;
            }
            on(cur_);
            cur_ = Response{};
            in_first_line_ = true;
        }
    }

private:
    static constexpr std::uint64_t kNoLiteral = ~std::uint64_t{0};

    void take_text(const char* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i)
            if (p[i] == ' ') ++cur_.words;
        if (in_first_line_ && cur_.head.size() < kHeadCap)
            cur_.head.append(p, std::min(n, kHeadCap - cur_.head.size()));
        // Keep the last bytes of the line: "{123}\r\n" or "{123+}\r\n".
        for (std::size_t i = n > sizeof tail_ ? n - sizeof tail_ : 0; i < n; ++i) {
            if (tail_len_ == sizeof tail_) {
                std::memmove(tail_, tail_ + 1, sizeof tail_ - 1);
                --tail_len_;
            }
            tail_[tail_len_++] = p[i];
        }
    }

    std::uint64_t literal_announced() const {
        std::size_t e = tail_len_;
        if (e >= 1 && tail_[e - 1] == '\n') --e;
        if (e >= 1 && tail_[e - 1] == '\r') --e;
        if (e < 3 || tail_[e - 1] != '}') return kNoLiteral;
        std::size_t i = e - 1;
        if (i > 0 && tail_[i - 1] == '+') --i;
        std::size_t j = i;
        while (j > 0 && tail_[j - 1] >= '0' && tail_[j - 1] <= '9') --j;
        if (j == i || j == 0 || tail_[j - 1] != '{') return kNoLiteral;
        std::uint64_t v = 0;
        for (std::size_t k = j; k < i; ++k) v = v * 10 + static_cast<unsigned>(tail_[k] - '0');
        return v;
    }

    Response cur_;
    bool in_first_line_ = true;
    std::uint64_t literal_left_ = 0;
    char tail_[32] = {};
    std::size_t tail_len_ = 0;
};

bool starts_with(const std::string& s, const char* p) {
    return s.compare(0, std::strlen(p), p) == 0;
}

bool contains_ci(const std::string& s, const char* w) {
    const std::size_t n = std::strlen(w);
    if (s.size() < n) return false;
    for (std::size_t i = 0; i + n <= s.size(); ++i) {
        std::size_t k = 0;
        while (k < n && std::toupper(static_cast<unsigned char>(s[i + k])) ==
                            std::toupper(static_cast<unsigned char>(w[k])))
            ++k;
        if (k == n) return true;
    }
    return false;
}

// "* 12 EXISTS" -> 12 when the untagged line is "* <n> <word>".
bool untagged_number(const std::string& h, const char* word, std::uint32_t* n) {
    if (!starts_with(h, "* ")) return false;
    char* end = nullptr;
    const unsigned long v = std::strtoul(h.c_str() + 2, &end, 10);
    if (end == h.c_str() + 2 || *end != ' ') return false;
    const std::size_t wl = std::strlen(word);
    if (std::strncmp(end + 1, word, wl) != 0) return false;
    const char c = end[1 + wl];
    if (c != '\r' && c != ' ' && c != '\n' && c != '\0') return false;
    *n = static_cast<std::uint32_t>(v);
    return true;
}

// ---------------------------------------------------------------- statistics

struct CmdStats {
    std::vector<std::uint32_t> lat_us;  // successful commands only
    std::uint64_t errors = 0;           // NO/BAD/wrong answer
    std::uint64_t skipped = 0;          // not supported by the server (IDLE)
};

double percentile(std::vector<std::uint32_t>& v, double p) {
    if (v.empty()) return 0;
    const std::size_t k =
        std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
    std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
    return v[k] / 1000.0;  // ms
}

// ---------------------------------------------------------------- options

struct Options {
    std::string mode;
    std::string host = "127.0.0.1";
    int port = 143;
    std::string user = "u001", user_prefix = "u", password = "pw";
    int users = 1, clients = 1, rounds = 5;
    double duration = 10, warmup = 2;
    unsigned seed = 1;
    std::vector<std::string> cmds;
};

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: imap_load mix --port P --users N [--user-prefix u] [--password pw]\n"
                 "                     --clients C --duration S [--warmup S] [--rounds R]\n"
                 "       imap_load script --port P --user U [--password pw] --cmd CMD...\n");
    std::exit(64);
}

Options parse_options(int argc, char** argv) {
    Options o;
    if (argc < 2) usage();
    o.mode = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--host")
            o.host = val();
        else if (a == "--port")
            o.port = std::atoi(val().c_str());
        else if (a == "--user")
            o.user = val();
        else if (a == "--user-prefix")
            o.user_prefix = val();
        else if (a == "--password")
            o.password = val();
        else if (a == "--users")
            o.users = std::atoi(val().c_str());
        else if (a == "--clients")
            o.clients = std::atoi(val().c_str());
        else if (a == "--rounds")
            o.rounds = std::atoi(val().c_str());
        else if (a == "--duration")
            o.duration = std::atof(val().c_str());
        else if (a == "--warmup")
            o.warmup = std::atof(val().c_str());
        else if (a == "--seed")
            o.seed = static_cast<unsigned>(std::atoi(val().c_str()));
        else if (a == "--cmd")
            o.cmds.push_back(val());
        else
            usage();
    }
    if (o.mode != "mix" && o.mode != "script") usage();
    return o;
}

int connect_to(const Options& o) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(o.port));
    inet_pton(AF_INET, o.host.c_str(), &sa.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

// ---------------------------------------------------------------- the mix

enum class Op {
    Greeting,
    Login,
    Capability,
    Select,
    FetchFlags,
    FetchHeaders,
    FetchBodystructure,
    FetchBody,
    Store,
    Search,
    Append,
    StoreDeleted,
    Expunge,
    Idle,
    Logout,
    kCount
};

const char* op_name(Op op) {
    switch (op) {
        case Op::Greeting: return "connect+greeting";
        case Op::Login: return "LOGIN";
        case Op::Capability: return "CAPABILITY";
        case Op::Select: return "SELECT";
        case Op::FetchFlags: return "UID FETCH 1:* (FLAGS)";
        case Op::FetchHeaders: return "FETCH 10 headers";
        case Op::FetchBodystructure: return "FETCH BODYSTRUCTURE";
        case Op::FetchBody: return "FETCH BODY.PEEK[]";
        case Op::Store: return "STORE +/-FLAGS";
        case Op::Search: return "SEARCH";
        case Op::Append: return "APPEND 4 KiB";
        case Op::StoreDeleted: return "UID STORE \\Deleted";
        case Op::Expunge: return "EXPUNGE";
        case Op::Idle: return "IDLE+DONE";
        case Op::Logout: return "LOGOUT";
        case Op::kCount: break;
    }
    return "?";
}

std::string make_append_message(unsigned n) {
    std::string m;
    m += "From: Load Generator <load@bench.example>\r\n";
    m += "To: user@bench.example\r\n";
    m += "Subject: appended message " + std::to_string(n) + "\r\n";
    m += "Date: Tue, 24 Nov 2026 01:00:00 +0000\r\n";
    m += "Message-ID: <append." + std::to_string(n) + "@bench.example>\r\n";
    m += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
    static const char* words[] = {"alpha", "bravo", "charlie", "delta",   "echo", "foxtrot",
                                  "golf",  "hotel", "india",   "juliett", "kilo", "lima"};
    std::string line;
    unsigned k = n;
    while (m.size() < 4096 - 80) {
        line += words[k++ % 12];
        line += ' ';
        if (line.size() > 70) {
            m += line + "\r\n";
            line.clear();
        }
    }
    m += "end\r\n";
    return m;
}

struct Client;

struct Mix {
    Options opt;
    int ep = -1;
    std::vector<std::unique_ptr<Client>> clients;
    CmdStats stats[static_cast<int>(Op::kCount)];
    bool measuring = false;
    std::uint64_t sessions = 0, conn_errors = 0, bytes_in = 0;
    std::mt19937 rng;
    std::string append_msg = make_append_message(1);
};

struct Client {
    Mix* mix = nullptr;
    int index = 0;
    int fd = -1;
    std::string user;
    ResponseReader reader;
    std::string out;
    std::size_t out_off = 0;
    bool want_out = false;
    // session state
    Op op = Op::Greeting;
    unsigned tag_n = 0;
    char tag[16] = {};
    Clock::time_point started;
    int round = 0;
    std::uint32_t exists = 0;
    std::uint32_t appended_uid = 0;
    std::uint32_t fetches = 0;
    bool search_seen = false, saw_exists = false, ok_answer = false;
    bool has_idle = false, has_literal_plus = false;
    bool literal_pending = false;  // sync APPEND: waiting for '+'
    bool idle_pending = false;     // IDLE sent, waiting for '+'
    bool flag_on = false;
    unsigned search_kind = 0;
    bool broken = false;
    bool session_done = false;  // LOGOUT answered: reconnect after this read
};

void flush(Client& c);

void send_cmd(Client& c, Op op, const std::string& text) {
    c.op = op;
    std::snprintf(c.tag, sizeof c.tag, "a%u", ++c.tag_n);
    c.fetches = 0;
    c.search_seen = c.saw_exists = false;
    c.out += c.tag;
    c.out += ' ';
    c.out += text;
    c.out += "\r\n";
    c.started = Clock::now();
    flush(c);
}

void next_command(Client& c);

void start_connection(Client& c) {
    c.fd = connect_to(c.mix->opt);
    if (c.fd < 0) {
        ++c.mix->conn_errors;
        return;
    }
    c.reader = ResponseReader{};
    c.out.clear();
    c.out_off = 0;
    c.want_out = false;
    c.op = Op::Greeting;
    c.round = 0;
    c.literal_pending = c.idle_pending = false;
    c.started = Clock::now();
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &c;
    epoll_ctl(c.mix->ep, EPOLL_CTL_ADD, c.fd, &ev);
}

void drop_connection(Client& c, bool error) {
    if (c.fd >= 0) {
        epoll_ctl(c.mix->ep, EPOLL_CTL_DEL, c.fd, nullptr);
        close(c.fd);
        c.fd = -1;
    }
    if (error && c.mix->measuring) ++c.mix->conn_errors;
    start_connection(c);
}

void flush(Client& c) {
    while (c.out_off < c.out.size()) {
        const ssize_t w =
            send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN) break;
            c.broken = true;
            return;
        }
        c.out_off += static_cast<std::size_t>(w);
    }
    if (c.out_off == c.out.size()) {
        c.out.clear();
        c.out_off = 0;
    }
    const bool want = !c.out.empty();
    if (want != c.want_out) {
        epoll_event ev{};
        ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
        ev.data.ptr = &c;
        epoll_ctl(c.mix->ep, EPOLL_CTL_MOD, c.fd, &ev);
        c.want_out = want;
    }
}

// Capabilities come in "* CAPABILITY ..." or a "[CAPABILITY ...]" response
// code (greeting, LOGIN's OK); "OK CAPABILITY completed" is neither.
void note_capabilities(Client& c, const std::string& h) {
    if (!starts_with(h, "* CAPABILITY ") && h.find("[CAPABILITY ") == std::string::npos) return;
    c.has_idle = contains_ci(h, " IDLE");
    c.has_literal_plus = contains_ci(h, "LITERAL+");
}

void record(Client& c, bool ok) {
    Mix& m = *c.mix;
    if (!m.measuring) return;
    CmdStats& s = m.stats[static_cast<int>(c.op)];
    if (ok) {
        const auto us =
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - c.started);
        s.lat_us.push_back(static_cast<std::uint32_t>(us.count()));
    } else {
        ++s.errors;
    }
}

// Was the answer to the current command the right one (beyond the tag's OK)?
bool answer_valid(const Client& c) {
    switch (c.op) {
        case Op::FetchFlags:
        case Op::FetchHeaders:
        case Op::FetchBodystructure:
        case Op::FetchBody: return c.fetches > 0 || c.exists == 0;
        case Op::Search: return c.search_seen;
        case Op::Append: return c.appended_uid != 0 || c.saw_exists;
        default: return true;
    }
}

void on_response(Client& c, Response& r) {
    Mix& m = *c.mix;
    if (c.broken || c.session_done) return;
    const std::string& h = r.head;
    if (c.op == Op::Greeting) {
        if (!starts_with(h, "* OK")) {
            if (m.measuring) ++m.conn_errors;
            c.broken = true;
            return;
        }
        note_capabilities(c, h);
        c.ok_answer = true;
        record(c, true);
        next_command(c);
        return;
    }
    if (starts_with(h, "+")) {
        if (c.literal_pending) {
            c.literal_pending = false;
            c.out += m.append_msg;
            c.out += "\r\n";
            flush(c);
        } else if (c.idle_pending) {
            c.idle_pending = false;
            c.out += "DONE\r\n";
            flush(c);
        }
        return;
    }
    if (starts_with(h, "* ")) {
        std::uint32_t n = 0;
        if (untagged_number(h, "FETCH", &n))
            ++c.fetches;
        else if (untagged_number(h, "EXISTS", &n)) {
            c.exists = n;
            c.saw_exists = true;
        } else if (untagged_number(h, "EXPUNGE", &n)) {
            if (c.exists > 0) --c.exists;
        } else if (starts_with(h, "* SEARCH"))
            c.search_seen = true;
        else if (starts_with(h, "* CAPABILITY"))
            note_capabilities(c, h);
        else if (starts_with(h, "* BYE") && c.op != Op::Logout)
            c.broken = true;
        return;
    }
    // Tagged?
    const std::size_t tl = std::strlen(c.tag);
    if (h.size() > tl && h.compare(0, tl, c.tag) == 0 && h[tl] == ' ') {
        const bool ok = h.compare(tl + 1, 2, "OK") == 0;
        if (ok) note_capabilities(c, h);
        if (ok && c.op == Op::Append) {
            const std::size_t p = h.find("APPENDUID ");
            c.appended_uid = 0;
            if (p != std::string::npos) {
                const char* s = h.c_str() + p + 10;
                char* e = nullptr;
                std::strtoul(s, &e, 10);
                c.appended_uid = static_cast<std::uint32_t>(std::strtoul(e, nullptr, 10));
            }
        }
        c.literal_pending = c.idle_pending = false;
        record(c, ok && answer_valid(c));
        if (c.op == Op::Logout) {
            if (m.measuring) ++m.sessions;
            c.session_done = true;
            return;
        }
        if (!ok && (c.op == Op::Login || c.op == Op::Select)) {
            c.broken = true;
            return;
        }
        next_command(c);
    }
}

// The session script: what follows the command that just completed.
void next_command(Client& c) {
    Mix& m = *c.mix;
    const Options& o = m.opt;
    auto rnd = [&](std::uint32_t lo, std::uint32_t hi) {
        return hi <= lo ? lo : lo + m.rng() % (hi - lo + 1);
    };
    switch (c.op) {
        case Op::Greeting: send_cmd(c, Op::Login, "LOGIN " + c.user + " " + o.password); return;
        case Op::Login: send_cmd(c, Op::Capability, "CAPABILITY"); return;
        case Op::Capability: send_cmd(c, Op::Select, "SELECT INBOX"); return;
        case Op::Select:
        case Op::Idle:
        round_start:
            if (c.op != Op::Select && ++c.round >= o.rounds) {
                send_cmd(c, Op::Logout, "LOGOUT");
                return;
            }
            send_cmd(c, Op::FetchFlags, "UID FETCH 1:* (FLAGS)");
            return;
        case Op::FetchFlags: {
            const std::uint32_t lo = c.exists > 9 ? c.exists - 9 : 1;
            send_cmd(c, Op::FetchHeaders,
                     "FETCH " + std::to_string(lo) + ":" + std::to_string(std::max(1u, c.exists)) +
                         " (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO CC SUBJECT "
                         "DATE MESSAGE-ID)])");
            return;
        }
        case Op::FetchHeaders:
            send_cmd(c, Op::FetchBodystructure,
                     "FETCH " + std::to_string(rnd(1, c.exists)) + " (BODYSTRUCTURE)");
            return;
        case Op::FetchBodystructure:
            send_cmd(c, Op::FetchBody,
                     "FETCH " + std::to_string(rnd(1, c.exists)) + " (BODY.PEEK[])");
            return;
        case Op::FetchBody:
            c.flag_on = !c.flag_on;
            send_cmd(c, Op::Store,
                     "STORE " + std::to_string(rnd(1, c.exists)) +
                         (c.flag_on ? " +FLAGS (\\Flagged)" : " -FLAGS (\\Flagged)"));
            return;
        case Op::Store: {
            static const char* searches[] = {"SEARCH UNSEEN", "SEARCH FROM \"alice\"",
                                             "SEARCH SUBJECT \"report\""};
            send_cmd(c, Op::Search, searches[c.search_kind++ % 3]);
            return;
        }
        case Op::Search: {
            c.appended_uid = 0;
            const std::string size = std::to_string(m.append_msg.size());
            if (c.has_literal_plus) {
                send_cmd(c, Op::Append, "APPEND INBOX (\\Seen) {" + size + "+}\r\n" + m.append_msg);
            } else {
                c.literal_pending = true;
                send_cmd(c, Op::Append, "APPEND INBOX (\\Seen) {" + size + "}");
            }
            return;
        }
        case Op::Append:
            if (c.appended_uid != 0)
                send_cmd(
                    c, Op::StoreDeleted,
                    "UID STORE " + std::to_string(c.appended_uid) + " +FLAGS.SILENT (\\Deleted)");
            else
                send_cmd(c, Op::StoreDeleted,
                         "STORE " + std::to_string(c.exists) + " +FLAGS.SILENT (\\Deleted)");
            return;
        case Op::StoreDeleted: send_cmd(c, Op::Expunge, "EXPUNGE"); return;
        case Op::Expunge:
            if (c.has_idle) {
                c.idle_pending = true;
                send_cmd(c, Op::Idle, "IDLE");
                return;
            }
            if (m.measuring) ++m.stats[static_cast<int>(Op::Idle)].skipped;
            c.op = Op::Idle;
            goto round_start;
        case Op::Logout:
        case Op::kCount: return;
    }
}

void print_json_string(const char* s) {
    std::putchar('"');
    for (; *s; ++s) {
        if (*s == '"' || *s == '\\') std::putchar('\\');
        std::putchar(*s);
    }
    std::putchar('"');
}

int run_mix(const Options& o) {
    Mix m;
    m.opt = o;
    m.rng.seed(o.seed);
    m.ep = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < o.clients; ++i) {
        auto c = std::make_unique<Client>();
        c->mix = &m;
        c->index = i;
        char name[64];
        std::snprintf(name, sizeof name, "%s%03d", o.user_prefix.c_str(), i % o.users + 1);
        c->user = name;
        m.clients.push_back(std::move(c));
    }
    for (auto& c : m.clients) start_connection(*c);

    const auto t_begin = Clock::now();
    Clock::time_point t_measure{};
    std::vector<epoll_event> events(1024);
    char buf[256 * 1024];
    struct rusage ru0 {};
    for (;;) {
        const double t = seconds_since(t_begin);
        if (!m.measuring && t >= o.warmup) {
            m.measuring = true;
            t_measure = Clock::now();
            getrusage(RUSAGE_SELF, &ru0);
        }
        if (m.measuring && seconds_since(t_measure) >= o.duration) break;
        const int n = epoll_wait(m.ep, events.data(), static_cast<int>(events.size()), 50);
        for (int i = 0; i < n; ++i) {
            Client& c = *static_cast<Client*>(events[i].data.ptr);
            if (c.fd < 0) continue;
            if (events[i].events & EPOLLOUT) flush(c);
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                for (;;) {
                    const ssize_t r = recv(c.fd, buf, sizeof buf, 0);
                    if (r > 0) {
                        m.bytes_in += static_cast<std::size_t>(r);
                        c.reader.feed(buf, static_cast<std::size_t>(r),
                                      [&](Response& resp) { on_response(c, resp); });
                        if (c.broken || c.session_done) break;
                        if (static_cast<std::size_t>(r) < sizeof buf) break;
                        continue;
                    }
                    if (r < 0 && errno == EAGAIN) break;
                    c.broken = true;  // EOF or error
                    break;
                }
            }
            if (c.session_done) {
                c.session_done = c.broken = false;
                drop_connection(c, false);
            } else if (c.broken) {
                c.broken = false;
                drop_connection(c, true);
            }
        }
        // Clients whose connect failed outright: retry.
        for (auto& c : m.clients)
            if (c->fd < 0) start_connection(*c);
    }
    const double elapsed = seconds_since(t_measure);
    struct rusage ru1 {};
    getrusage(RUSAGE_SELF, &ru1);
    const double cpu = (ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                       (ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                       ((ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
                        (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) /
                           1e6;

    std::uint64_t total = 0, errors = 0;
    for (auto& s : m.stats) {
        total += s.lat_us.size();
        errors += s.errors;
    }
    std::printf(
        "{\"clients\": %d, \"seconds\": %.3f, \"commands\": %llu, \"commands_per_s\": %.1f, "
        "\"errors\": %llu, \"conn_errors\": %llu, \"sessions\": %llu, "
        "\"bytes_in\": %llu, \"loadgen_cpu_s\": %.3f, \"per_command\": {",
        o.clients, elapsed, static_cast<unsigned long long>(total), total / elapsed,
        static_cast<unsigned long long>(errors), static_cast<unsigned long long>(m.conn_errors),
        static_cast<unsigned long long>(m.sessions), static_cast<unsigned long long>(m.bytes_in),
        cpu);
    bool first = true;
    for (int i = 0; i < static_cast<int>(Op::kCount); ++i) {
        CmdStats& s = m.stats[i];
        if (!first) std::printf(", ");
        first = false;
        print_json_string(op_name(static_cast<Op>(i)));
        const double p50 = percentile(s.lat_us, 0.50), p99 = percentile(s.lat_us, 0.99);
        std::printf(
            ": {\"n\": %zu, \"per_s\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
            "\"errors\": %llu, \"skipped\": %llu}",
            s.lat_us.size(), s.lat_us.size() / elapsed, p50, p99,
            static_cast<unsigned long long>(s.errors), static_cast<unsigned long long>(s.skipped));
    }
    std::printf("}}\n");
    return 0;
}

// ---------------------------------------------------------------- script

// A blocking-style single connection, driven by poll through the same reader.
struct Conn {
    int fd = -1;
    ResponseReader reader;
    char buf[256 * 1024];
};

bool send_all(int fd, const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
        const ssize_t w = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN) {
                fd_set ws;
                FD_ZERO(&ws);
                FD_SET(fd, &ws);
                select(fd + 1, nullptr, &ws, nullptr, nullptr);
                continue;
            }
            return false;
        }
        off += static_cast<std::size_t>(w);
    }
    return true;
}

struct ScriptResult {
    double ttfb_ms = -1, total_ms = -1;
    std::uint64_t bytes = 0, fetches = 0, search_hits = 0;
    std::string status;
};

// Reads until the response tagged `tag` (or, for an empty tag, the greeting).
ScriptResult wait_tagged(Conn& c, const std::string& tag, Clock::time_point t0) {
    ScriptResult res;
    bool done = false;
    while (!done) {
        fd_set rs;
        FD_ZERO(&rs);
        FD_SET(c.fd, &rs);
        timeval tv{600, 0};
        if (select(c.fd + 1, &rs, nullptr, nullptr, &tv) <= 0) {
            res.status = "timeout";
            return res;
        }
        const ssize_t r = recv(c.fd, c.buf, sizeof c.buf, 0);
        if (r < 0 && errno == EAGAIN) continue;
        if (r <= 0) {
            res.status = "closed";
            return res;
        }
        if (res.ttfb_ms < 0)
            res.ttfb_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        res.bytes += static_cast<std::size_t>(r);
        c.reader.feed(c.buf, static_cast<std::size_t>(r), [&](Response& resp) {
            const std::string& h = resp.head;
            std::uint32_t n = 0;
            if (tag.empty()) {
                done = true;
                res.status = h.substr(0, 4);
            } else if (untagged_number(h, "FETCH", &n)) {
                ++res.fetches;
            } else if (starts_with(h, "* SEARCH")) {
                res.search_hits += resp.words > 1 ? resp.words - 1 : 0;
            } else if (h.size() > tag.size() && h.compare(0, tag.size(), tag) == 0 &&
                       h[tag.size()] == ' ') {
                done = true;
                res.status = h.substr(tag.size() + 1, 2);
                if (res.status != "OK") res.status = h.substr(tag.size() + 1, 80);
                while (!res.status.empty() &&
                       (res.status.back() == '\n' || res.status.back() == '\r'))
                    res.status.pop_back();
            }
        });
    }
    res.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    return res;
}

int run_script(const Options& o) {
    auto c = std::make_unique<Conn>();
    c->fd = connect_to(o);
    if (c->fd < 0) {
        std::fprintf(stderr, "imap_load: cannot connect\n");
        return 1;
    }
    ScriptResult g = wait_tagged(*c, "", Clock::now());
    if (g.status != "* OK") {
        std::fprintf(stderr, "imap_load: bad greeting\n");
        return 1;
    }
    auto run = [&](const std::string& tag, const std::string& cmd) {
        const auto t0 = Clock::now();
        if (!send_all(c->fd, tag + " " + cmd + "\r\n")) return ScriptResult{};
        return wait_tagged(*c, tag, t0);
    };
    ScriptResult l = run("l", "LOGIN " + o.user + " " + o.password);
    if (l.status != "OK") {
        std::fprintf(stderr, "imap_load: LOGIN failed: %s\n", l.status.c_str());
        return 1;
    }
    std::printf("{\"commands\": [");
    int i = 0;
    for (const std::string& cmd : o.cmds) {
        ScriptResult r = run("s" + std::to_string(i), cmd);
        std::printf("%s{\"cmd\": ", i ? ", " : "");
        print_json_string(cmd.c_str());
        std::printf(
            ", \"ttfb_ms\": %.3f, \"total_ms\": %.3f, \"bytes\": %llu, \"fetches\": %llu, "
            "\"search_hits\": %llu, \"status\": ",
            r.ttfb_ms, r.total_ms, static_cast<unsigned long long>(r.bytes),
            static_cast<unsigned long long>(r.fetches),
            static_cast<unsigned long long>(r.search_hits));
        print_json_string(r.status.c_str());
        std::printf("}");
        ++i;
    }
    std::printf("]}\n");
    run("z", "LOGOUT");
    close(c->fd);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse_options(argc, argv);
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    return o.mode == "mix" ? run_mix(o) : run_script(o);
}
