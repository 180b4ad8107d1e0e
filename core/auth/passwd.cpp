#include "core/auth/passwd.h"

#include <cstring>

#include "core/base/text.h"

namespace tinyimapd {
namespace {

using ascii::head;
using ascii::tail;

// Dovecot's default scheme for passwd-file when a password has no "{...}".
constexpr std::string_view kDefaultScheme = "CRYPT";

enum class LineKind : std::uint8_t { Skip, Entry, Bad };

// Splits off the next line (without its LF or CRLF) from `rest`.
std::string_view next_line(std::string_view& rest) {
    std::size_t nl = rest.find('\n');
    std::string_view line = head(rest, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

// Splits off the field up to the next ':' (the whole rest if there is none).
std::string_view next_field(std::string_view& rest) {
    std::size_t colon = rest.find(':');
    std::string_view field = head(rest, colon);
    rest.remove_prefix(colon == std::string_view::npos ? rest.size() : colon + 1);
    return field;
}

// User names become directory names under mail_dir.
bool valid_user(std::string_view user) {
    if (user.empty() || user == "." || user == "..") return false;
    for (char c : user) {
        auto u = static_cast<unsigned char>(c);
        if (c == '/' || u < 0x20 || u == 0x7F) return false;
    }
    return true;
}

bool all_digits(std::string_view s) {
    for (char c : s) {
        if (!ascii::is_digit(c)) return false;
    }
    return true;
}

LineKind parse_line(std::string_view line, PasswdEntry* e) {
    if (ascii::trim(line).empty() || line.front() == '#') return LineKind::Skip;
    if (line.find(':') == std::string_view::npos) return LineKind::Bad;
    std::string_view rest = line;
    e->user = next_field(rest);
    std::string_view password = next_field(rest);
    e->uid = next_field(rest);
    e->gid = next_field(rest);
    (void)next_field(rest);  // gecos
    e->home = next_field(rest);
    (void)next_field(rest);  // shell
    e->extra = rest;
    if (!valid_user(e->user) || !all_digits(e->uid) || !all_digits(e->gid)) {
        return LineKind::Bad;
    }
    if (password.find('\0') != std::string_view::npos) return LineKind::Bad;
    std::size_t close = password.find('}');
    if (!password.empty() && password.front() == '{' && close != std::string_view::npos) {
        e->scheme = head(tail(password, 1), close - 1);
        e->data = tail(password, close + 1);
    } else {
        e->scheme = kDefaultScheme;
        e->data = password;
    }
    return LineKind::Entry;
}

// Equal iff same length and bytes. The loop always runs over all of
// `stored` and has no branch on the bytes, so the time taken says nothing
// about how much of a guess was right (only the lengths show).
bool constant_time_equal(std::string_view stored, std::string_view given) {
    unsigned diff = stored.size() == given.size() ? 0u : 1u;
    for (std::size_t i = 0; i < stored.size(); ++i) {
        auto g = static_cast<unsigned char>(i < given.size() ? given[i] : 0);
        diff |= static_cast<unsigned>(static_cast<unsigned char>(stored[i]) ^ g);
    }
    return diff == 0;
}

}  // namespace

PasswdVerdict verify_scheme(std::string_view scheme, std::string_view data,
                            std::string_view password, port::Password* hasher) {
    if (ascii::iequals(scheme, "PLAIN") || ascii::iequals(scheme, "CLEARTEXT")) {
        return constant_time_equal(data, password) ? PasswdVerdict::Ok
                                                   : PasswdVerdict::WrongPassword;
    }
    if (hasher == nullptr) return PasswdVerdict::UnsupportedScheme;
    switch (hasher->verify(scheme, data, password)) {
        case port::PasswordCheck::Match: return PasswdVerdict::Ok;
        case port::PasswordCheck::Mismatch: return PasswdVerdict::WrongPassword;
        case port::PasswordCheck::Unsupported: return PasswdVerdict::UnsupportedScheme;
        case port::PasswordCheck::Malformed: return PasswdVerdict::MalformedHash;
    }
    return PasswdVerdict::UnsupportedScheme;  // an out-of-range value: fail closed
}

PasswdDb::PasswdDb(char* a, char* b, std::size_t capacity, port::Password* hasher)
    : buffers_{a, b}, capacity_(capacity), hasher_(hasher) {}

Status PasswdDb::load(port::Fs& fs, std::string_view path) {
    last_error_line_ = 0;
    Result<port::File> f = fs.open(path, port::kOpenRead);
    if (!f.ok()) return f.status;
    char* spare = buffers_[active_ ^ 1];
    std::size_t used = 0;
    Status st = Status::Ok;
    // Fill the spare buffer, then probe one byte more: exactly capacity fits.
    while (true) {
        char probe;
        bool full = used == capacity_;
        port::FsResult r =
            full ? fs.read(f.value, &probe, 1) : fs.read(f.value, spare + used, capacity_ - used);
        if (r.status != Status::Ok && r.status != Status::Eof) {
            st = r.status;
            break;
        }
        if (full) {
            if (r.bytes != 0) st = Status::TooLong;
            break;
        }
        used += r.bytes;
        if (r.bytes == 0 || r.status == Status::Eof) break;
    }
    (void)fs.close(f.value);
    if (st != Status::Ok) return st;
    // A UTF-8 byte order mark (editors on Windows write one) is not part of
    // the first user's name.
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    if (std::string_view(spare, used).substr(0, kBom.size()) == kBom) {
        std::memmove(spare, spare + kBom.size(), used - kBom.size());
        used -= kBom.size();
    }

    std::string_view rest(spare, used);
    std::size_t users = 0;
    std::uint32_t line_no = 0;
    while (!rest.empty()) {
        ++line_no;
        PasswdEntry e;
        LineKind kind = parse_line(next_line(rest), &e);
        if (kind == LineKind::Bad) {
            last_error_line_ = line_no;
            return Status::Invalid;
        }
        if (kind == LineKind::Entry) ++users;
    }
    active_ ^= 1;
    active_size_ = used;
    user_count_ = users;
    return Status::Ok;
}

bool PasswdDb::lookup(std::string_view user, PasswdEntry* out) const {
    std::string_view rest(buffers_[active_], active_size_);
    while (!rest.empty()) {
        PasswdEntry e;
        if (parse_line(next_line(rest), &e) == LineKind::Entry && e.user == user) {
            *out = e;
            return true;
        }
    }
    return false;
}

PasswdVerdict PasswdDb::verify(std::string_view user, std::string_view password) const {
    PasswdEntry e;
    if (!lookup(user, &e)) return PasswdVerdict::NoSuchUser;
    PasswdVerdict v = verify_scheme(e.scheme, e.data, password, hasher_);
    // An empty stored password means "no password set", never "any".
    if (v == PasswdVerdict::Ok && e.data.empty()) return PasswdVerdict::WrongPassword;
    return v;
}

}  // namespace tinyimapd
