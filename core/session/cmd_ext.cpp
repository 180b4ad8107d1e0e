// Extension commands that need no mailbox machinery of their own: IDLE (RFC
// 2177), ENABLE (RFC 5161), ID (RFC 2971), NAMESPACE (RFC 2342) and QUOTA
// (RFC 9208).
#include "core/base/text.h"
#include "core/base/version.h"
#include "core/imap/encoder.h"
#include "core/session/session.h"
#include "core/store/user_store.h"

namespace tinyimapd::session {

namespace {

constexpr std::size_t kLine = 512;
// How often an idling session looks for changes made by other processes
// (`tinyimapd deliver`); changes by this process are seen at the same beat.
constexpr std::uint64_t kIdlePollMs = 1000;

}  // namespace

// ---- IDLE (RFC 2177) -------------------------------------------------------

// §3: "+" and then untagged responses as things change, until DONE. The
// session keeps reading input (for DONE) and polls the mailbox on a shared
// one-second beat, so any number of idling clients cost one wakeup a second.
void Session::cmd_idle() {
    out_.append("+ idling\r\n");
    idling_ = true;
    parser_.expect_line();
    // RFC 5465 §4: with NOTIFY, IDLE tells what NOTIFY asked for (its beat).
    if (notifying()) return;
    finish_after_sync({}, {}, {});
}

void Session::idle_line() {
    idling_ = false;
    const std::string_view line = parser_.line();
    if (!ascii::iequals(line, "DONE")) {
        tagged("BAD", "", "Expected DONE to end IDLE");
        return;
    }
    finish_after_sync("OK", "", "IDLE terminated");
}

std::uint64_t Session::idle_beat() const {
    return (now_ms_ / kIdlePollMs + 1) * kIdlePollMs;
}

// ---- ENABLE (RFC 5161) ---------------------------------------------------

// §3.1: "* ENABLED" lists the extensions this command newly enabled;
// unknown names are ignored. CONDSTORE (RFC 7162 §3.1), QRESYNC (§3.2.3,
// which implies CONDSTORE) and UTF8=ACCEPT (RFC 6855 §3; ENABLE is valid in
// the authenticated state only, as §3 wants for it) are the ones we know.
void Session::cmd_enable(const ParsedCommand& cmd) {
    FixedText<kLine> w;
    w.put("ENABLED");
    ArgReader caps = cmd.rest;
    std::string_view cap;
    while (caps.atom(&cap)) {
        if (ascii::iequals(cap, "CONDSTORE")) {
            if (!condstore_) w.put(" CONDSTORE");
            condstore_ = true;
        } else if (ascii::iequals(cap, "QRESYNC")) {
            if (!qresync_) w.put(" QRESYNC");
            qresync_ = true;
            condstore_ = true;
        } else if (ascii::iequals(cap, "UTF8=ACCEPT")) {
            if (!utf8_accept_) w.put(" UTF8=ACCEPT");
            utf8_ = utf8_accept_ = true;
            parser_.set_utf8(true);  // from the next command on
        } else if (ascii::iequals(cap, "IMAP4rev2")) {
            // RFC 9051 Appendix A: rev2's answers from now on; names and
            // quoted strings in UTF-8 (§5.1, Appendix E.16) as UTF8=ACCEPT.
            if (!rev2_) w.put(" IMAP4rev2");
            rev2_ = utf8_ = true;
            parser_.set_utf8(true);
        }
    }
    untagged(w.view());
    tagged("OK", "", "ENABLE completed");
}

// ---- UTF8=ACCEPT (RFC 6855) ---------------------------------------------------

bool Session::utf8_command(ParsedCommand* cmd) {
    if (utf8_accept_ && cmd->id == CommandId::Search && !cmd->search.charset.empty()) {
        // §3: "MUST NOT issue a SEARCH command that contains a charset
        // specification ... SHOULD reject the command with a BAD".
        tagged("BAD", "", "SEARCH with CHARSET after ENABLE UTF8=ACCEPT");
        return false;
    }
    // The names were checked as UTF-8 (command.cpp read_mailbox); the
    // converted ones live behind the command in the parser's arena, as long
    // as the command's other views.
    std::string_view* names[] = {&cmd->mailbox, &cmd->mailbox2};
    for (std::string_view* name : names) {
        if (name->empty()) continue;
        char* at = parser_.spare();
        TextWriter w(at, parser_.spare_size());
        if (!mail::utf8_to_mutf7(*name, w)) {
            tagged("BAD", "", w.ok() ? "Mailbox name is not valid UTF-8" : "Command too large");
            return false;
        }
        parser_.claim_spare(w.size());
        *name = std::string_view(at, w.size());
    }
    return true;
}

std::string_view Session::wire_name(std::string_view stored, TextWriter& buf) const {
    if (!utf8_) return stored;
    buf.clear();
    // Every stored name is valid modified UTF-7, so this fails only for a
    // buffer too small, which callers size for the longest name.
    return mail::mutf7_to_utf8(stored, buf) ? buf.view() : stored;
}

bool Session::store_pattern(std::string_view pattern, TextWriter& buf,
                            std::string_view* out) const {
    if (!utf8_) {
        *out = pattern;
        return true;
    }
    buf.clear();
    if (!mail::utf8_to_mutf7(pattern, buf)) return false;
    *out = buf.view();
    return true;
}

// ---- ID (RFC 2971) ---------------------------------------------------------

// §3.1: the server's own identification; the client's is logged (§3.2
// discourages acting on it).
void Session::cmd_id(const ParsedCommand& cmd) {
    FixedText<kLine> client;
    ArgReader fields = cmd.rest;
    std::string_view field, value;
    bool nil = false;
    while (fields.string(&field) && fields.nstring(&value, &nil)) {
        if (!ascii::iequals(field, "name") && !ascii::iequals(field, "version")) continue;
        if (!client.view().empty()) client.put(' ');
        client.put(ascii::head(value, 64));
    }
    if (!client.view().empty()) log_line(port::LogLevel::Info, "client id: ", client.view());

    FixedText<kLine> line;
    ResponseWriter r(line);
    r.star().atom("ID").open_list();
    r.string("name").string(kServerName).string("version").string(kServerVersion);
    r.close_list().crlf();
    (void)r.append_to(out_);
    tagged("OK", "", "ID completed");
}

// ---- NAMESPACE (RFC 2342) ----------------------------------------------------

// §5: the personal namespace with no prefix, the other users' one
// ("Other Users/<user>/<mailbox>") and, when `public_owner` is configured,
// the shared one ("Shared/<mailbox>"); "/" as delimiter (RFC 4314 rights
// say what of the other two a user sees: cmd_acl.cpp, cmd_shared.cpp).
void Session::cmd_namespace() {
    if (config_.public_owner.empty()) {
        untagged("NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) NIL");
    } else {
        untagged("NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) ((\"Shared/\" \"/\"))");
    }
    tagged("OK", "", "NAMESPACE completed");
}

// ---- QUOTA (RFC 9208) -------------------------------------------------------

// One quota root per user, named "" (§4.2.2 example), covering all of the
// user's mailboxes; its limits come from the configuration (quota_storage_mb,
// quota_messages) and cannot be changed by clients (no QUOTASET).
namespace {

class UsageCounter final : public store::ListVisitor {
public:
    explicit UsageCounter(store::UserStore& store) : store_(store) {}
    bool mailbox(std::string_view name, std::uint8_t attributes) override {
        if ((attributes & store::kNoselect) != 0) return true;
        store::StatusInfo info;
        if (store_.status(name, &info) != Status::Ok) return true;
        bytes += info.size;
        messages += info.messages;
        return true;
    }
    std::uint64_t bytes = 0;
    std::uint64_t messages = 0;

private:
    store::UserStore& store_;
};

}  // namespace

Session::QuotaUsage Session::quota_usage(std::string_view owner) {
    FixedText<port::kMaxPath> root;
    if (owner.empty() || owner == user()) {
        root.put(user_root_.view());
    } else {
        root.put(services_.mail_dir).put('/').put(owner);
    }
    store::UserStore store(*services_.registry, root.view());
    UsageCounter counter(store);
    (void)store.list("", "*", counter);
    return {counter.bytes, counter.messages};
}

bool Session::quota_allows(std::uint64_t bytes, std::uint64_t messages, std::string_view owner) {
    if (config_.quota_storage_kib == 0 && config_.quota_messages == 0) return true;
    if (owner.empty()) owner = user();
    QuotaUsage u = quota_usage(owner);
    // APPENDs of this user in flight (streaming, or waiting for their
    // mailbox): promised, not yet in any mailbox (quota_reservations.h).
    if (services_.reservations != nullptr) {
        const QuotaReservations::Totals t = services_.reservations->total(owner);
        u.bytes += t.bytes;
        u.messages += t.messages;
    }
    if (config_.quota_storage_kib != 0 && u.bytes + bytes > config_.quota_storage_kib * 1024) {
        return false;
    }
    return config_.quota_messages == 0 || u.messages + messages <= config_.quota_messages;
}

// §4.2.1: "* QUOTA "" (STORAGE used limit MESSAGE used limit)", the resources
// without a limit left out (at least one has one).
void Session::write_quota() {
    const QuotaUsage u = quota_usage();
    FixedText<kLine> w;
    w.put("QUOTA \"\" (");
    if (config_.quota_storage_kib != 0) {
        w.put("STORAGE ")
            .put_uint((u.bytes + 1023) / 1024)
            .put(' ')
            .put_uint(config_.quota_storage_kib);
    }
    if (config_.quota_messages != 0) {
        if (config_.quota_storage_kib != 0) w.put(' ');
        w.put("MESSAGE ").put_uint(u.messages).put(' ').put_uint(config_.quota_messages);
    }
    w.put(')');
    untagged(w.view());
}

void Session::cmd_quota(const ParsedCommand& cmd) {
    const bool limited = config_.quota_storage_kib != 0 || config_.quota_messages != 0;
    switch (cmd.id) {
        case CommandId::GetQuotaRoot: {
            // §4.1.2: the mailbox need not exist. Without limits there is no
            // quota root (§4.2.2 "* QUOTAROOT comp.mail.mime"): the §7
            // grammar wants at least one resource in a QUOTA response.
            FixedText<kLine> line;
            ResponseWriter r(line);
            FixedText<kWireName> name;
            r.star().atom("QUOTAROOT").mailbox(wire_name(cmd.mailbox, name));
            // Another user's mailbox (RFC 4314) counts against their quota,
            // which this user cannot see: no quota root for it.
            MailboxRef ref;
            const bool own = resolve_mailbox(cmd.mailbox, &ref) != Status::Ok || ref.own;
            const bool shown = limited && own;
            if (shown) r.string("");
            r.crlf();
            (void)r.append_to(out_);
            if (shown) write_quota();
            tagged("OK", "", "GETQUOTAROOT completed");
            return;
        }
        case CommandId::GetQuota:
            if (!limited) {
                tagged("NO", "NONEXISTENT", "No quota is configured on this server");
                return;
            }
            if (!cmd.quota_root.empty()) {
                tagged("NO", "NONEXISTENT", "No such quota root; the user's root is \"\"");
                return;
            }
            write_quota();
            tagged("OK", "", "GETQUOTA completed");
            return;
        default:
            // §4.1.3: SETQUOTA needs QUOTASET, which is not offered.
            tagged("NO", "CANNOT", "Quotas are set in the server configuration");
            return;
    }
}

}  // namespace tinyimapd::session
