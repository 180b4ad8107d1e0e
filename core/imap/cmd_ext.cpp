// Extension commands that need no mailbox machinery of their own: IDLE (RFC
// 2177), ENABLE (RFC 5161), ID (RFC 2971) and NAMESPACE (RFC 2342).
#include "core/base/text.h"
#include "core/imap/encoder.h"
#include "core/imap/session.h"
#include "core/version.h"

namespace tinyimapd::imap {

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
    sync_selected();
}

void Session::idle_line() {
    idling_ = false;
    const std::string_view line = parser_.line();
    if (!ascii::iequals(line, "DONE")) {
        tagged("BAD", "", "Expected DONE to end IDLE");
        return;
    }
    sync_selected();
    tagged("OK", "", "IDLE terminated");
}

std::uint64_t Session::idle_beat() const {
    return (now_ms_ / kIdlePollMs + 1) * kIdlePollMs;
}

// ---- ENABLE (RFC 5161) ---------------------------------------------------

// §3.1: "* ENABLED" lists the extensions this command newly enabled;
// unknown names are ignored. CONDSTORE (RFC 7162 §3.1) and QRESYNC (§3.2.3,
// which implies CONDSTORE) are the ones we know.
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
        }
    }
    untagged(w.view());
    tagged("OK", "", "ENABLE completed");
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

// §5: one personal namespace with no prefix and "/" as delimiter; no
// other users' or shared namespaces.
void Session::cmd_namespace() {
    untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
    tagged("OK", "", "NAMESPACE completed");
}

}  // namespace tinyimapd::imap
