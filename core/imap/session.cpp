#include "core/imap/session.h"

#include "core/base/text.h"
#include "core/imap/encoder.h"

namespace tinyimapd::imap {

namespace {

std::uint8_t mask_of(SessionState s) {
    switch (s) {
        case SessionState::NotAuthenticated: return kStateNotAuth;
        case SessionState::Authenticated: return kStateAuth;
        case SessionState::Selected: return kStateSelected;
        case SessionState::Logout: return 0;
    }
    return 0;
}

const char* state_name(SessionState s) {
    switch (s) {
        case SessionState::NotAuthenticated: return "not authenticated";
        case SessionState::Authenticated: return "authenticated";
        case SessionState::Selected: return "selected";
        case SessionState::Logout: return "logout";
    }
    return "";
}

constexpr std::size_t kLogLine = 512;

}  // namespace

Session::Session(const SessionConfig& config, SessionServices& services,
                 const SessionMemory& memory)
    : config_(config),
      services_(services),
      parser_(memory.arena, memory.arena_size, memory.args, memory.max_args, config.parser),
      out_(memory.output, memory.output_size),
      scratch_(memory.scratch) {}

void Session::open(std::string_view peer, std::uint64_t now_ms) {
    parser_.reset();
    out_.clear();
    state_ = SessionState::NotAuthenticated;
    now_ms_ = last_activity_ms_ = now_ms;
    delayed_until_ms_ = kNoDeadline;
    failed_logins_ = 0;
    user_length_ = 0;
    peer_length_ = peer.size() < sizeof peer_ ? peer.size() : sizeof peer_;
    for (std::size_t i = 0; i < peer_length_; ++i) peer_[i] = peer[i];

    // RFC 3501 §7.1.1: the greeting may carry the capabilities.
    FixedText<kLogLine> w;
    w.put("* OK [CAPABILITY ");
    write_capabilities(w);
    w.put("] tinyimapd ready\r\n");
    if (!out_.append(w.view())) {
        state_ = SessionState::Logout;  // output buffer below any sane size
    }
}

bool Session::can_receive() const {
    return state_ != SessionState::Logout && delayed_until_ms_ == kNoDeadline &&
           out_.room() >= kResponseReserve;
}

std::size_t Session::receive(const std::uint8_t* data, std::size_t length, std::uint64_t now_ms) {
    now_ms_ = now_ms;
    std::size_t used = 0;
    while (used < length && can_receive()) {
        last_activity_ms_ = now_ms;
        Fed fed = parser_.feed(data + used, length - used);
        used += fed.consumed;
        switch (fed.event) {
            case ParseEvent::NeedMore: break;
            case ParseEvent::Command: execute(now_ms); break;
            case ParseEvent::LiteralRequest: on_literal(); break;
            case ParseEvent::LiteralChunk:
            case ParseEvent::Line:
                // Nothing asks for streamed literals or raw lines yet.
                break;
            case ParseEvent::Error: on_parse_error(); break;
        }
    }
    return used;
}

// RFC 3501 §7.5 and RFC 7888 §4: "+" only for a literal we will take; one
// over the limit is refused before its data (synchronizing) or discarded
// (non-synchronizing), and answered BAD [TOOBIG].
void Session::on_literal() {
    const CommandInfo* info = find_command(parser_.name());
    if (info != nullptr && info->id == CommandId::Append) {
        // RFC 3501 §6.3.11: the message literal. Checked before its data is
        // taken, so a bad APPEND costs the client no upload.
        parser_.refuse_literal();
        if (state_ == SessionState::NotAuthenticated) {
            (void)allowed_in_state(*info);
            return;
        }
        AppendMessage message;
        const SyntaxResult r = append_message_ready(parser_, &message);
        if (r.verdict != SyntaxVerdict::Ok) {
            report_syntax(r);
            return;
        }
        tagged("NO", "CANNOT", "APPEND is not implemented in this version of tinyimapd");
        return;
    }
    if (parser_.accept_literal()) {
        if (parser_.literal_sync()) out_.append("+ Ready for literal data\r\n");
        return;
    }
    parser_.refuse_literal();
    tagged("BAD", "TOOBIG", "Literal too large");
}

void Session::on_parse_error() {
    FixedText<kLogLine> w;
    w.put(parser_.error_text());
    if (parser_.tag().empty()) {
        FixedText<kLogLine> line;
        line.put("* BAD ");
        if (*parser_.error_code() != '\0') line.put('[').put(parser_.error_code()).put("] ");
        line.put(w.view()).put("\r\n");
        out_.append(line.view());
        return;
    }
    tagged("BAD", parser_.error_code(), w.view());
}

// The command's state rules (RFC 3501 §3) and syntax (§9) are checked before
// it runs; a command in the wrong state or with bad arguments gets BAD.
// Before authentication only the state is checked: nothing more of an
// unauthenticated client's input is parsed than needed.
void Session::execute(std::uint64_t now_ms) {
    now_ms_ = now_ms;
    const CommandInfo* info = find_command(parser_.name());
    if (info != nullptr && state_ == SessionState::NotAuthenticated && !allowed_in_state(*info)) {
        return;
    }
    ParsedCommand cmd{ArgReader(parser_)};
    if (!check_syntax(&cmd) || !allowed_in_state(*cmd.info)) return;

    switch (cmd.id) {
        case CommandId::Capability: cmd_capability(); return;
        case CommandId::Noop: cmd_noop(); return;
        case CommandId::Logout: cmd_logout(); return;
        case CommandId::Login: cmd_login(cmd); return;
        default: break;
    }
    // Understood, but not in this version: never a fake OK.
    FixedText<kLogLine> w;
    w.put(cmd.info->name).put(" is not implemented in this version of tinyimapd");
    tagged("NO", "CANNOT", w.view());
}

bool Session::allowed_in_state(const CommandInfo& info) {
    if ((info.states & mask_of(state_)) != 0) return true;
    FixedText<kLogLine> w;
    if (state_ == SessionState::Authenticated && info.states == kStateSelected) {
        w.put("No mailbox selected");
    } else {
        w.put(info.name).put(" is not valid in the ").put(state_name(state_)).put(" state");
    }
    tagged("BAD", "", w.view());
    return false;
}

bool Session::check_syntax(ParsedCommand* cmd) {
    const SyntaxResult r = parse_command(parser_, scratch_, cmd);
    if (r.verdict == SyntaxVerdict::Ok) return true;
    report_syntax(r);
    return false;
}

void Session::report_syntax(const SyntaxResult& r) {
    FixedText<kLogLine> w;
    if (r.verdict == SyntaxVerdict::Unknown) {
        w.put("Unknown command ").put(ascii::head(parser_.name(), 32));
    } else {
        w.put(r.why);
        if (!r.culprit.empty()) w.put(": ").put(ascii::head(r.culprit, 64));
    }
    if (r.verdict == SyntaxVerdict::BadCharset) {
        // RFC 3501 §6.4.4: NO [BADCHARSET] for a charset we do not know.
        tagged("NO", "BADCHARSET (US-ASCII UTF-8)", w.view());
    } else {
        tagged("BAD", "", w.view());
    }
}

// RFC 3501 §6.1.1. LOGINDISABLED while plaintext LOGIN is refused (§6.2.3);
// LITERAL+ because the parser takes "{n+}" everywhere (RFC 7888).
void Session::write_capabilities(TextWriter& w) const {
    w.put("IMAP4rev1 LITERAL+");
    if (state_ == SessionState::NotAuthenticated && !config_.plaintext_auth) {
        w.put(" LOGINDISABLED");
    }
}

void Session::cmd_capability() {
    FixedText<kLogLine> w;
    w.put("CAPABILITY ");
    write_capabilities(w);
    untagged(w.view());
    tagged("OK", "", "CAPABILITY completed");
}

void Session::cmd_noop() {
    tagged("OK", "", "NOOP completed");
}

void Session::cmd_logout() {
    // RFC 3501 §6.1.3: BYE first, then the tagged OK, then close.
    untagged("BYE tinyimapd logging out");
    tagged("OK", "", "LOGOUT completed");
    state_ = SessionState::Logout;
}

// RFC 3501 §6.2.3: LOGIN SP userid SP password, both astrings.
void Session::cmd_login(const ParsedCommand& cmd) {
    const std::string_view user = cmd.user;
    const std::string_view password = cmd.password;
    if (!config_.plaintext_auth) {
        // §6.2.3: LOGIN MUST NOT be permitted while LOGINDISABLED is advertised.
        tagged("NO", "PRIVACYREQUIRED", "Plaintext authentication is disabled on this connection");
        return;
    }
    const PasswdVerdict verdict = services_.passwd.verify(user, password);
    if (verdict == PasswdVerdict::Ok && user.size() <= sizeof user_) {
        for (std::size_t i = 0; i < user.size(); ++i) user_[i] = user[i];
        user_length_ = user.size();
        state_ = SessionState::Authenticated;
        log_line(port::LogLevel::Info, "login: user=", user, " address=", {peer_, peer_length_});
        // RFC 3501 §7.1: the capabilities change with the state; saying them
        // here saves clients a round trip.
        FixedText<kLogLine> w;
        w.put("CAPABILITY ");
        write_capabilities(w);
        tagged("OK", w.view(), "Logged in");
        return;
    }
    if (verdict == PasswdVerdict::UnsupportedScheme) {
        log_line(port::LogLevel::Warning, "login: unsupported password scheme for user=", user,
                 " (see docs/CONFIG.md, passwd_file)");
    }
    ++failed_logins_;
    log_line(port::LogLevel::Info, "login failed: user=", user, " address=", {peer_, peer_length_});
    // The NO goes out after a delay; meanwhile nothing else from this client
    // is processed and the loop serves everyone else.
    // The parser keeps this command's tag until it is fed again, which does
    // not happen before the delay ends.
    delayed_until_ms_ = now_ms_ + config_.login_fail_delay_ms;
}

std::uint64_t Session::deadline() const {
    if (state_ == SessionState::Logout) return kNoDeadline;
    if (delayed_until_ms_ != kNoDeadline) return delayed_until_ms_;
    const std::uint32_t idle = state_ == SessionState::NotAuthenticated ? config_.login_timeout_ms
                                                                        : config_.idle_timeout_ms;
    return last_activity_ms_ + idle;
}

void Session::tick(std::uint64_t now_ms) {
    now_ms_ = now_ms;
    if (state_ == SessionState::Logout) return;
    if (delayed_until_ms_ != kNoDeadline) {
        if (now_ms < delayed_until_ms_) return;
        delayed_until_ms_ = kNoDeadline;
        last_activity_ms_ = now_ms;
        tagged("NO", "AUTHENTICATIONFAILED", "Authentication failed");
        return;
    }
    if (now_ms >= deadline()) {
        // RFC 3501 §5.4 autologout.
        bye("Autologout; idle for too long");
    }
}

void Session::shutdown(std::string_view reason) {
    if (state_ == SessionState::Logout) return;
    bye(reason);
}

void Session::bye(std::string_view text) {
    FixedText<kLogLine> w;
    w.put("BYE ").put(text);
    untagged(w.view());
    state_ = SessionState::Logout;
}

void Session::untagged(std::string_view text) {
    FixedText<kLogLine> w;
    w.put("* ").put(text).put("\r\n");
    out_.append(w.view());
}

// Tagged lines carry client-chosen bytes (the tag, a bad argument quoted in
// the text): the ResponseWriter keeps the text free of CR, LF and 8-bit.
void Session::tagged(std::string_view status, std::string_view code, std::string_view text) {
    FixedText<kLogLine> w;
    ResponseWriter r(w);
    r.tagged(parser_.tag(), status, code, text);
    (void)r.append_to(out_);
}

void Session::log_line(port::LogLevel level, std::string_view a, std::string_view b,
                       std::string_view c, std::string_view d) {
    FixedText<kLogLine> w;
    w.put(a).put(b).put(c).put(d);
    // Client-chosen bytes (user names) must not forge log lines.
    char line[kLogLine];
    const std::string_view v = w.view();
    for (std::size_t i = 0; i < v.size(); ++i) {
        const auto u = static_cast<unsigned char>(v[i]);
        line[i] = (u < 0x20 || u == 0x7f) ? '?' : v[i];
    }
    services_.log.write(level, {line, v.size()});
}

}  // namespace tinyimapd::imap
