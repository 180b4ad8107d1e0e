#include "core/server/config.h"

#include "core/mail/metadata_name.h"

namespace tinyimapd {
namespace {

// string_view::substr throws out_of_range; core is built without exceptions
// and its objects must not reference the exception helpers, hence these two.
constexpr std::string_view head(std::string_view s, std::size_t n) {
    return {s.data(), n < s.size() ? n : s.size()};
}
constexpr std::string_view tail(std::string_view s, std::size_t pos) {
    return pos < s.size() ? std::string_view(s.data() + pos, s.size() - pos) : std::string_view();
}

enum class Kind : std::uint8_t { Bool, Number, Size, Path, Name, List, LogTo, Level };

enum KeyFlags : std::uint8_t {
    kNonEmpty = 1u << 0,  // the server cannot run without it
    kAbsolute = 1u << 1,  // empty, or starts with '/'
};

// One row per key, in the order config_write prints them and docs/CONFIG.md
// lists them. Exactly one of the member pointers is set, matching `kind`
// (LogTo and Level address fixed members).
struct KeyDef {
    std::string_view name;
    Kind kind;
    std::uint64_t min = 0;
    std::uint64_t max = 0;
    std::uint8_t flags = 0;
    bool Config::*b = nullptr;
    std::uint32_t Config::*u = nullptr;
    ConfigPath Config::*path = nullptr;
    ConfigName Config::*name_field = nullptr;
    AddressList Config::*list = nullptr;
    std::string_view below_min_reason = {};
};

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = 1024 * 1024;

constexpr KeyDef kKeys[] = {
    {.name = "listen", .kind = Kind::List, .list = &Config::listen},
    {.name = "tls_listen", .kind = Kind::List, .list = &Config::tls_listen},
    {.name = "mail_dir", .kind = Kind::Path, .flags = kNonEmpty, .path = &Config::mail_dir},
    {.name = "passwd_file", .kind = Kind::Path, .flags = kNonEmpty, .path = &Config::passwd_file},
    {.name = "plaintext_auth", .kind = Kind::Bool, .b = &Config::plaintext_auth},
    {.name = "literal_plus", .kind = Kind::Bool, .b = &Config::literal_plus},
    {.name = "max_clients",
     .kind = Kind::Number,
     .min = 1,
     .max = 100000,
     .u = &Config::max_clients},
    {.name = "io_threads", .kind = Kind::Number, .min = 0, .max = 64, .u = &Config::io_threads},
    {.name = "foreground", .kind = Kind::Bool, .b = &Config::foreground},
    {.name = "prefault", .kind = Kind::Bool, .b = &Config::prefault},
    {.name = "log", .kind = Kind::LogTo},
    {.name = "log_level", .kind = Kind::Level},
    {.name = "login_fail_delay_ms",
     .kind = Kind::Number,
     .min = 0,
     .max = 60000,
     .u = &Config::login_fail_delay_ms},
    {.name = "max_login_attempts",
     .kind = Kind::Number,
     .min = 1,
     .max = 100,
     .u = &Config::max_login_attempts},
    {.name = "max_clients_per_address",
     .kind = Kind::Number,
     .min = 1,
     .max = 100000,
     .u = &Config::max_clients_per_address},
    {.name = "login_timeout",
     .kind = Kind::Number,
     .min = 1,
     .max = 3600,
     .u = &Config::login_timeout},
    {.name = "idle_timeout",
     .kind = Kind::Number,
     .min = 1800,
     .max = 86400,
     .u = &Config::idle_timeout,
     .below_min_reason = "RFC 3501 section 5.4 requires an autologout timer of at least 30 "
                         "minutes"},
    {.name = "max_line_length",
     .kind = Kind::Size,
     .min = kKiB,
     .max = kMiB,
     .u = &Config::max_line_length},
    {.name = "max_literal_size",
     .kind = Kind::Size,
     .min = kKiB,
     .max = 16 * kMiB,
     .u = &Config::max_literal_size},
    // RFC 3501 numbers (RFC822.SIZE) are 32-bit.
    {.name = "max_append_size",
     .kind = Kind::Size,
     .min = kKiB,
     .max = 0xFFFFFFFFu,
     .u = &Config::max_append_size},
    {.name = "quota_storage_mb",
     .kind = Kind::Number,
     .min = 0,
     .max = 16u * 1024 * 1024,
     .u = &Config::quota_storage_mb},
    {.name = "quota_messages",
     .kind = Kind::Number,
     .min = 0,
     .max = 0xFFFFFFFFu,
     .u = &Config::quota_messages},
    // RFC 5464 §4.1: at least 1024 bytes and 10 entries.
    {.name = "metadata_max_size",
     .kind = Kind::Size,
     .min = kKiB,
     .max = mail::kMaxMetadataValue,
     .u = &Config::metadata_max_size},
    {.name = "metadata_max_entries",
     .kind = Kind::Number,
     .min = 10,
     .max = 100000,
     .u = &Config::metadata_max_entries},
    {.name = "metadata_max_bytes",
     .kind = Kind::Size,
     .min = kKiB,
     .max = 64 * kMiB,
     .u = &Config::metadata_max_bytes},
    {.name = "metadata_admin", .kind = Kind::Path, .path = &Config::metadata_admin},
    {.name = "mailbox_sent", .kind = Kind::Name, .name_field = &Config::mailbox_sent},
    {.name = "mailbox_drafts", .kind = Kind::Name, .name_field = &Config::mailbox_drafts},
    {.name = "mailbox_trash", .kind = Kind::Name, .name_field = &Config::mailbox_trash},
    {.name = "mailbox_junk", .kind = Kind::Name, .name_field = &Config::mailbox_junk},
    {.name = "mailbox_archive", .kind = Kind::Name, .name_field = &Config::mailbox_archive},
    {.name = "public_owner", .kind = Kind::Name, .name_field = &Config::public_owner},
    {.name = "max_nesting", .kind = Kind::Number, .min = 2, .max = 64, .u = &Config::max_nesting},
    {.name = "max_set_ranges",
     .kind = Kind::Number,
     .min = 16,
     .max = 1000000,
     .u = &Config::max_set_ranges},
    {.name = "max_search_keys",
     .kind = Kind::Number,
     .min = 8,
     .max = 4096,
     .u = &Config::max_search_keys},
    {.name = "max_fetch_items",
     .kind = Kind::Number,
     .min = 8,
     .max = 256,
     .u = &Config::max_fetch_items},
    {.name = "input_buffer",
     .kind = Kind::Size,
     .min = kKiB,
     .max = kMiB,
     .u = &Config::input_buffer},
    {.name = "output_buffer",
     .kind = Kind::Size,
     .min = kMinOutputBuffer,
     .max = kMiB,
     .u = &Config::output_buffer},
    {.name = "fetch_cache_kib",
     .kind = Kind::Number,
     .min = 0,
     .max = 65536,
     .u = &Config::fetch_cache_kib},
    {.name = "open_mailboxes",
     .kind = Kind::Number,
     .min = 2,
     .max = 100000,
     .u = &Config::open_mailboxes},
    {.name = "command_buffers",
     .kind = Kind::Number,
     .min = 1,
     .max = 100000,
     .u = &Config::command_buffers},
    {.name = "tls_sessions",
     .kind = Kind::Number,
     .min = 1,
     .max = 100000,
     .u = &Config::tls_sessions},
    {.name = "sort_buffers",
     .kind = Kind::Number,
     .min = 0,
     .max = 1000,
     .u = &Config::sort_buffers},
    {.name = "sort_buffer_kib",
     .kind = Kind::Number,
     .min = 64,
     .max = 1048576,  // 1 GiB: offsets in an area are 32-bit, and so is size_t on ARM
     .u = &Config::sort_buffer_kib},
    {.name = "compress_sessions",
     .kind = Kind::Number,
     .min = 0,
     .max = 100000,
     .u = &Config::compress_sessions},
    {.name = "notify_sessions",
     .kind = Kind::Number,
     .min = 1,
     .max = 100000,
     .u = &Config::notify_sessions},
    {.name = "search_contexts",
     .kind = Kind::Number,
     .min = 1,
     .max = 100000,
     .u = &Config::search_contexts},
    {.name = "passwd_max_size",
     .kind = Kind::Size,
     .min = kKiB,
     .max = 64 * kMiB,
     .u = &Config::passwd_max_size},
    {.name = "tls_cert", .kind = Kind::Path, .path = &Config::tls_cert},
    {.name = "tls_key", .kind = Kind::Path, .path = &Config::tls_key},
    {.name = "user", .kind = Kind::Name, .name_field = &Config::user},
    {.name = "group", .kind = Kind::Name, .name_field = &Config::group},
    {.name = "chroot", .kind = Kind::Path, .flags = kAbsolute, .path = &Config::chroot},
};

constexpr std::string_view kCommandLine = "command line";
// Longest value a quoted string can unescape to: the longest field.
constexpr std::size_t kMaxValue = port::kMaxPath;
// How much of a bad key or value an error message repeats.
constexpr std::size_t kQuoteMax = 60;

const KeyDef* find_key(std::string_view name) {
    for (const KeyDef& k : kKeys) {
        if (k.name == name) return &k;
    }
    return nullptr;
}

bool is_control(char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7F;
}

// Repeats user input in a message: bounded, control bytes shown as '?'.
void put_quoted(TextWriter& w, std::string_view s) {
    w.put('\'');
    std::size_t n = s.size() < kQuoteMax ? s.size() : kQuoteMax;
    for (std::size_t i = 0; i < n; ++i) w.put(is_control(s[i]) ? '?' : s[i]);
    if (n < s.size()) w.put("...");
    w.put('\'');
}

void set_error(ConfigError* err, std::string_view file, std::uint32_t line, std::string_view msg) {
    if (err == nullptr) return;
    err->file.assign_truncated(file);
    err->line = line;
    err->message.assign_truncated(msg);
}

std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && ascii::is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && ascii::is_space(s.back())) s.remove_suffix(1);
    return s;
}

bool parse_bool(std::string_view v, bool* out) {
    static constexpr std::string_view kYes[] = {"yes", "true", "on", "1"};
    static constexpr std::string_view kNo[] = {"no", "false", "off", "0"};
    for (std::string_view y : kYes) {
        if (ascii::iequals(v, y)) {
            *out = true;
            return true;
        }
    }
    for (std::string_view n : kNo) {
        if (ascii::iequals(v, n)) {
            *out = false;
            return true;
        }
    }
    return false;
}

// Plain decimal; with `suffixes`, one trailing k/K (KiB) or m/M (MiB).
bool parse_number(std::string_view v, bool suffixes, std::uint64_t* out) {
    std::uint64_t mult = 1;
    if (suffixes && !v.empty()) {
        char last = ascii::to_lower(v.back());
        if (last == 'k') mult = kKiB;
        if (last == 'm') mult = kMiB;
        if (mult != 1) v.remove_suffix(1);
    }
    std::uint64_t n = 0;
    if (!ascii::parse_uint(v, &n)) return false;
    if (n > UINT64_MAX / mult) return false;
    *out = n * mult;
    return true;
}

// Decimal without leading zeros, as inet_pton wants for IPv4 octets.
bool plain_decimal(std::string_view s, std::uint64_t* out) {
    if (s.size() > 1 && s.front() == '0') return false;
    return ascii::parse_uint(s, out);
}

bool parse_ipv4(std::string_view s) {
    int parts = 0;
    while (true) {
        std::size_t dot = s.find('.');
        std::string_view part = head(s, dot);
        std::uint64_t n = 0;
        if (part.size() > 3 || !plain_decimal(part, &n) || n > 255) return false;
        ++parts;
        if (dot == std::string_view::npos) break;
        s.remove_prefix(dot + 1);
    }
    return parts == 4;
}

bool parse_ipv6_chars(std::string_view s) {
    if (s.find(':') == std::string_view::npos) return false;
    for (char c : s) {
        char l = ascii::to_lower(c);
        if (!ascii::is_digit(c) && !(l >= 'a' && l <= 'f') && c != ':' && c != '.') return false;
    }
    return true;
}

// yes/no (true/false, on/off, 1/0).
bool apply_bool(Config& cfg, const KeyDef& key, std::string_view value, TextWriter& msg) {
    bool b = false;
    if (!parse_bool(value, &b)) {
        msg.put("expected yes or no (true/false, on/off, 1/0), got ");
        put_quoted(msg, value);
        return false;
    }
    cfg.*key.b = b;
    return true;
}

// A decimal number, or a size with a k or m suffix, within the key's range.
bool apply_number(Config& cfg, const KeyDef& key, std::string_view value, TextWriter& msg) {
    std::uint64_t n = 0;
    bool sized = key.kind == Kind::Size;
    if (!parse_number(value, sized, &n)) {
        msg.put(sized ? "expected a size in bytes (suffix k or m allowed), got "
                      : "expected a decimal number, got ");
        put_quoted(msg, value);
        return false;
    }
    if (n < key.min || n > key.max) {
        msg.put_uint(n).put(" is out of range ").put_uint(key.min).put("..").put_uint(key.max);
        if (n < key.min && !key.below_min_reason.empty()) {
            msg.put(" (").put(key.below_min_reason).put(')');
        }
        return false;
    }
    cfg.*key.u = static_cast<std::uint32_t>(n);
    return true;
}

// A path, absolute or non-empty where the key says so.
bool apply_path(Config& cfg, const KeyDef& key, std::string_view value, TextWriter& msg) {
    if ((key.flags & kNonEmpty) && value.empty()) {
        msg.put("must not be empty");
        return false;
    }
    if ((key.flags & kAbsolute) && !value.empty() && value.front() != '/') {
        msg.put("must be an absolute path, got ");
        put_quoted(msg, value);
        return false;
    }
    if (!(cfg.*key.path).assign(value)) {
        msg.put("longer than ").put_uint(ConfigPath::kCapacity).put(" bytes");
        return false;
    }
    return true;
}

// A user or group name.
bool apply_name(Config& cfg, const KeyDef& key, std::string_view value, TextWriter& msg) {
    if (value.find_first_of(":/ \t") != std::string_view::npos) {
        msg.put("not a user or group name: ");
        put_quoted(msg, value);
        return false;
    }
    if (!(cfg.*key.name_field).assign(value)) {
        msg.put("longer than ").put_uint(ConfigName::kCapacity).put(" bytes");
        return false;
    }
    return true;
}

// One address:port more for a listen list; a source of higher priority
// (ConfigOrigin) replaces what a lower one gave, an empty value clears it.
bool apply_list(Config& cfg, const KeyDef& key, std::string_view value, ConfigOrigin origin,
                TextWriter& msg) {
    AddressList& list = cfg.*key.list;
    std::string_view host;
    std::uint16_t port = 0;
    if (!value.empty() && !config_split_address(value, &host, &port)) {
        msg.put("expected address:port such as 127.0.0.1:143 or [::1]:143, got ");
        put_quoted(msg, value);
        return false;
    }
    if (origin < list.origin) return true;  // a higher-priority source set it
    if (origin > list.origin) {
        list.count = 0;
        list.origin = origin;
    }
    if (value.empty()) {
        list.count = 0;
        return true;
    }
    for (std::size_t i = 0; i < list.count; ++i) {
        if (list[i] == value) {
            msg.put(value).put(" is given twice");
            return false;
        }
    }
    if (list.count == kConfigMaxAddresses) {
        msg.put("more than ").put_uint(kConfigMaxAddresses).put(" addresses");
        return false;
    }
    if (!list.items[list.count].assign(value)) {
        msg.put("address too long");
        return false;
    }
    ++list.count;
    return true;
}

// stderr or syslog.
bool apply_log_to(Config& cfg, std::string_view value, TextWriter& msg) {
    if (ascii::iequals(value, "stderr")) {
        cfg.log = LogTarget::Stderr;
    } else if (ascii::iequals(value, "syslog")) {
        cfg.log = LogTarget::Syslog;
    } else {
        msg.put("expected stderr or syslog, got ");
        put_quoted(msg, value);
        return false;
    }
    return true;
}

// error, warning, info or debug.
bool apply_level(Config& cfg, std::string_view value, TextWriter& msg) {
    static constexpr struct {
        std::string_view name;
        port::LogLevel level;
    } kLevels[] = {{"error", port::LogLevel::Error},
                   {"warning", port::LogLevel::Warning},
                   {"info", port::LogLevel::Info},
                   {"debug", port::LogLevel::Debug}};
    for (const auto& l : kLevels) {
        if (ascii::iequals(value, l.name)) {
            cfg.log_level = l.level;
            return true;
        }
    }
    msg.put("expected error, warning, info or debug, got ");
    put_quoted(msg, value);
    return false;
}

// Applies one value to one key. `shown` is how the key appears in messages
// (the option as typed on the command line, the key in a file).
bool apply_value(Config& cfg, const KeyDef& key, std::string_view shown, std::string_view value,
                 ConfigOrigin origin, TextWriter& msg) {
    msg.put(shown).put(": ");
    for (char c : value) {
        if (is_control(c)) {
            msg.put("control character in value");
            return false;
        }
    }
    switch (key.kind) {
        case Kind::Bool: return apply_bool(cfg, key, value, msg);
        case Kind::Number:
        case Kind::Size: return apply_number(cfg, key, value, msg);
        case Kind::Path: return apply_path(cfg, key, value, msg);
        case Kind::Name: return apply_name(cfg, key, value, msg);
        case Kind::List: return apply_list(cfg, key, value, origin, msg);
        case Kind::LogTo: return apply_log_to(cfg, value, msg);
        case Kind::Level: return apply_level(cfg, value, msg);
    }
    return false;
}

// Extracts the value after '=' (leading blanks already removed): a quoted
// string with \" and \\ unescaped into `buf`, or the bare text up to a '#'
// that starts it or follows a blank. Trailing comments are dropped.
bool parse_value(std::string_view rest, char* buf, std::string_view* out, TextWriter& msg) {
    if (!rest.empty() && rest.front() == '"') {
        std::size_t n = 0;
        std::size_t i = 1;
        for (; i < rest.size() && rest[i] != '"'; ++i) {
            char c = rest[i];
            if (c == '\\' && i + 1 < rest.size() && (rest[i + 1] == '"' || rest[i + 1] == '\\')) {
                c = rest[++i];
            }
            if (n == kMaxValue) {
                msg.put("value longer than ").put_uint(kMaxValue).put(" bytes");
                return false;
            }
            buf[n++] = c;
        }
        if (i == rest.size()) {
            msg.put("missing closing '\"'");
            return false;
        }
        std::string_view after = trim_blanks(tail(rest, i + 1));
        if (!after.empty() && after.front() != '#') {
            msg.put("unexpected text after the closing quote: ");
            put_quoted(msg, after);
            return false;
        }
        *out = std::string_view(buf, n);
        return true;
    }
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '#' && (i == 0 || ascii::is_space(rest[i - 1]))) {
            rest = head(rest, i);
            break;
        }
    }
    *out = trim_blanks(rest);
    return true;
}

ConfigOrigin origin_of(ConfigSource s) {
    return s == ConfigSource::File ? ConfigOrigin::File : ConfigOrigin::CommandLine;
}

bool apply_line(Config& cfg, std::string_view line, TextWriter& msg) {
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
        msg.put("missing '=' in ");
        put_quoted(msg, line);
        msg.put(" (expected key = value)");
        return false;
    }
    std::string_view name = trim_blanks(head(line, eq));
    if (name.empty()) {
        msg.put("missing key before '='");
        return false;
    }
    const KeyDef* key = find_key(name);
    if (key == nullptr) {
        msg.put("unknown key ");
        put_quoted(msg, name);
        return false;
    }
    char buf[kMaxValue];
    std::string_view value;
    std::string_view rest = trim_blanks(tail(line, eq + 1));
    FixedText<160> detail;
    if (!parse_value(rest, buf, &value, detail)) {
        msg.put(key->name).put(": ").put(detail.view());
        return false;
    }
    return apply_value(cfg, *key, key->name, value, origin_of(ConfigSource::File), msg);
}

bool needs_quotes(std::string_view v) {
    return v.empty() || ascii::is_space(v.front()) || ascii::is_space(v.back()) ||
           v.front() == '"' || v.find('#') != std::string_view::npos;
}

void write_value(TextWriter& w, std::string_view v) {
    if (!needs_quotes(v)) {
        w.put(v);
        return;
    }
    w.put('"');
    for (char c : v) {
        if (c == '"' || c == '\\') w.put('\\');
        w.put(c);
    }
    w.put('"');
}

std::string_view level_name(port::LogLevel l) {
    switch (l) {
        case port::LogLevel::Error: return "error";
        case port::LogLevel::Warning: return "warning";
        case port::LogLevel::Info: return "info";
        case port::LogLevel::Debug: return "debug";
    }
    return "info";
}

}  // namespace

bool config_split_address(std::string_view address, std::string_view* host, std::uint16_t* port) {
    std::size_t colon = address.rfind(':');
    if (colon == std::string_view::npos) return false;
    std::string_view h = head(address, colon);
    std::string_view p = tail(address, colon + 1);
    std::uint64_t n = 0;
    if (p.size() > 5 || !plain_decimal(p, &n) || n < 1 || n > 65535) return false;
    if (!h.empty() && h.front() == '[') {
        if (h.size() < 3 || h.back() != ']') return false;
        h = head(tail(h, 1), h.size() - 2);
        if (!parse_ipv6_chars(h)) return false;
    } else if (!parse_ipv4(h)) {
        return false;
    }
    *host = h;
    *port = static_cast<std::uint16_t>(n);
    return true;
}

bool config_apply_text(Config& cfg, std::string_view text, std::string_view file_name,
                       ConfigError* err) {
    std::uint32_t line_no = 0;
    while (!text.empty()) {
        ++line_no;
        std::size_t nl = text.find('\n');
        std::string_view line = head(text, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        line = trim_blanks(line);
        if (line.empty() || line.front() == '#') continue;
        FixedText<200> msg;
        if (!apply_line(cfg, line, msg)) {
            set_error(err, file_name, line_no, msg.view());
            return false;
        }
    }
    return true;
}

bool config_apply_option(Config& cfg, std::string_view arg, ConfigError* err) {
    FixedText<200> msg;
    if (arg.size() < 3 || head(arg, 2) != "--") {
        msg.put("expected --key=value, got ");
        put_quoted(msg, arg);
        set_error(err, kCommandLine, 0, msg.view());
        return false;
    }
    std::size_t eq = arg.find('=');
    std::string_view shown = head(arg, eq);
    std::string_view typed = tail(shown, 2);
    char name[32];
    const KeyDef* key = nullptr;
    if (typed.size() <= sizeof name) {
        for (std::size_t i = 0; i < typed.size(); ++i) name[i] = typed[i] == '-' ? '_' : typed[i];
        key = find_key(std::string_view(name, typed.size()));
    }
    if (key == nullptr) {
        msg.put("unknown option ");
        put_quoted(msg, shown);
        set_error(err, kCommandLine, 0, msg.view());
        return false;
    }
    std::string_view value;
    if (eq != std::string_view::npos) {
        value = tail(arg, eq + 1);
    } else if (key->kind == Kind::Bool) {
        value = "yes";
    } else {
        msg.put(shown).put(" needs a value (").put(shown).put("=VALUE)");
        set_error(err, kCommandLine, 0, msg.view());
        return false;
    }
    if (!apply_value(cfg, *key, shown, value, origin_of(ConfigSource::CommandLine), msg)) {
        set_error(err, kCommandLine, 0, msg.view());
        return false;
    }
    return true;
}

bool config_load_file(Config& cfg, port::Fs& fs, std::string_view path, char* scratch,
                      std::size_t scratch_cap, ConfigError* err) {
    FixedText<200> msg;
    Result<port::File> f = fs.open(path, port::kOpenRead);
    if (!f.ok()) {
        msg.put("cannot open: ").put(status_text(f.status));
        set_error(err, path, 0, msg.view());
        return false;
    }
    std::size_t used = 0;
    Status st = Status::Ok;
    bool too_big = false;
    // Fill scratch, then probe one more byte: a file of exactly scratch_cap
    // bytes fits, one byte more does not.
    while (true) {
        char probe;
        bool full = used == scratch_cap;
        port::FsResult r = full ? fs.read(f.value, &probe, 1)
                                : fs.read(f.value, scratch + used, scratch_cap - used);
        if (r.status != Status::Ok && r.status != Status::Eof) {
            st = r.status;
            break;
        }
        if (full) {
            too_big = r.bytes != 0;
            break;
        }
        used += r.bytes;
        if (r.bytes == 0 || r.status == Status::Eof) break;
    }
    (void)fs.close(f.value);
    if (st != Status::Ok) {
        msg.put("cannot read: ").put(status_text(st));
        set_error(err, path, 0, msg.view());
        return false;
    }
    if (too_big) {
        msg.put("file is larger than ").put_uint(scratch_cap).put(" bytes");
        set_error(err, path, 0, msg.view());
        return false;
    }
    return config_apply_text(cfg, std::string_view(scratch, used), path, err);
}

bool config_validate(const Config& cfg, ConfigError* err) {
    std::string_view problem;
    if (cfg.listen.empty() && cfg.tls_listen.empty()) {
        problem = "nothing to listen on: listen and tls_listen are both empty";
    } else if (cfg.tls_cert.empty() != cfg.tls_key.empty()) {
        // Neither means a self-signed pair made at first start (README).
        problem = "tls_cert and tls_key must be given together";
    }
    if (problem.empty()) return true;
    set_error(err, "configuration", 0, problem);
    return false;
}

void config_write(const Config& cfg, TextWriter& w) {
    w.put("# tinyimapd effective configuration\n");
    for (const KeyDef& k : kKeys) {
        if (k.kind == Kind::List) {
            const AddressList& list = cfg.*k.list;
            if (list.empty()) w.put(k.name).put(" = \"\"\n");
            for (std::size_t i = 0; i < list.size(); ++i)
                w.put(k.name).put(" = ").put(list[i]).put('\n');
            continue;
        }
        w.put(k.name).put(" = ");
        switch (k.kind) {
            case Kind::Bool: w.put(cfg.*k.b ? "yes" : "no"); break;
            case Kind::Number:
            case Kind::Size:
                w.put_uint(k.u == &Config::max_clients_per_address ? cfg.clients_per_address()
                                                                   : cfg.*k.u);
                break;
            case Kind::Path: write_value(w, (cfg.*k.path).view()); break;
            case Kind::Name: write_value(w, (cfg.*k.name_field).view()); break;
            case Kind::LogTo: w.put(cfg.log == LogTarget::Syslog ? "syslog" : "stderr"); break;
            case Kind::Level: w.put(level_name(cfg.log_level)); break;
            case Kind::List: break;
        }
        w.put('\n');
    }
}

void config_error_write(const ConfigError& err, TextWriter& w) {
    w.put(err.file.view());
    if (err.line != 0) w.put(':').put_uint(err.line);
    w.put(": ").put(err.message.view());
}

}  // namespace tinyimapd
