#include "core/session/session.h"

#include <cstring>
#include <new>

#include "core/base/assert.h"
#include "core/base/base64.h"
#include "core/base/text.h"
#include "core/imap/encoder.h"

namespace tinyimapd::session {

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
// The greeting and CAPABILITY lines: the list is over 450 bytes with every
// extension (the greeting with COMPRESS, STARTTLS and AUTH=PLAIN was 514).
constexpr std::size_t kCapabilityLine = 1024;
// RFC 7888 §5: the largest non-synchronizing literal LITERAL- allows.
constexpr std::uint64_t kLiteralMinus = 4096;

}  // namespace

Session::Session(const SessionConfig& config, SessionServices& services,
                 const SessionMemory& memory)
    : config_(config),
      services_(services),
      parser_(memory.arena, memory.arena_size, memory.args, memory.max_args, config.parser),
      out_(memory.output, memory.output_size),
      scratch_(memory.scratch),
      slot_(memory.slot),
      streamer_(services.stream_scratch, services.stream_scratch_size) {}

void Session::open(std::string_view peer, std::uint64_t now_ms, bool tls_active) {
    parser_.reset();
    job_.end();
    return_block();
    wants_block_ = false;
    out_.clear();
    state_ = SessionState::NotAuthenticated;
    now_ms_ = last_activity_ms_ = now_ms;
    delayed_until_ms_ = kNoDeadline;
    failed_logins_ = 0;
    user_length_ = 0;
    tag_length_ = 0;
    tls_active_ = tls_active;
    starttls_requested_ = false;
    compress_engine_ = nullptr;
    compress_active_ = false;
    awaiting_sasl_ = false;
    condstore_ = false;
    qresync_ = false;
    utf8_ = utf8_accept_ = rev2_ = false;
    parser_.set_utf8(false);
    idling_ = false;
    notify_release();  // nothing of the slot's previous connection is kept
    drop_contexts();
    flag_scan_since_ = UINT64_MAX;
    vanished_.pending = false;
    selected_ = nullptr;
    append_box_ = nullptr;
    append_wait_ = AppendWait::None;
    append_opening_ = append_open_waiting_ = false;
    replace_uid_ = 0;
    release_reservation();  // nothing of the slot's previous connection counts
    job_.end();
    forget_flush();
#ifdef TINYIMAPD_CHECK_FRAMING
    framing_.reset();
#endif
    peer_length_ = peer.size() < sizeof peer_ ? peer.size() : sizeof peer_;
    for (std::size_t i = 0; i < peer_length_; ++i) peer_[i] = peer[i];

    // RFC 3501 §7.1.1: the greeting may carry the capabilities.
    FixedText<kCapabilityLine> w;
    w.put("* OK [CAPABILITY ");
    write_capabilities(w);
    w.put("] tinyimapd ready\r\n");
    if (!out_.append(w.view())) {
        state_ = SessionState::Logout;  // output buffer below any sane size
    }
}

bool Session::can_receive() const {
    return state_ != SessionState::Logout && delayed_until_ms_ == kNoDeadline &&
           !starttls_requested_ && !compress_requested() && !job_.active() &&
           out_.room() >= kResponseReserve &&
           (block_ != nullptr || services_.command_pool == nullptr ||
            services_.command_pool->free_count() > 0);
}

// A line's worth of input before a block is borrowed: a client that
// trickles a partial line holds none (slowloris), unless the line is this
// long (every input buffer holds it: input_buffer >= 1 KiB).
constexpr std::size_t kLineBeforeBlock = 1024;

bool Session::take_block(const std::uint8_t* data, std::size_t length) {
    CommandPool* pool = services_.command_pool;
    if (pool == nullptr || block_ != nullptr) return true;
    if (length < kLineBeforeBlock && std::memchr(data, '\n', length) == nullptr) return false;
    wants_block_ = !borrow_block();
    return !wants_block_;
}

// A block from the pool, if one is free, bound to the parser and scratch.
bool Session::borrow_block() {
    CommandPool* pool = services_.command_pool;
    if (block_ != nullptr) return true;
    if (pool == nullptr) return false;
    block_ = pool->take();
    if (block_ == nullptr) return false;
    if (!block_->work_built) {
        new (block_->work) CommandWork();
        block_->work_built = true;
    }
    parser_.rebind(block_->arena, block_->args);
    scratch_.fetch_items = block_->fetch_items;
    scratch_.search_nodes = block_->search_nodes;
    return true;
}

void Session::return_block() {
    if (block_ == nullptr || job_.active() || !parser_.holds_nothing()) return;
    services_.command_pool->give(block_);
    block_ = nullptr;
    parser_.rebind(nullptr, nullptr);
    scratch_.fetch_items = nullptr;
    scratch_.search_nodes = nullptr;
}

void Session::tls_started() {
    // RFC 3501 §6.2.1, RFC 2595 §3.1: nothing the client sent before the
    // handshake counts; the parser starts afresh on the encrypted stream.
    parser_.reset();
    return_block();
    starttls_requested_ = false;
    tls_active_ = true;
}

std::size_t Session::receive(const std::uint8_t* data, std::size_t length, std::uint64_t now_ms) {
    now_ms_ = now_ms;
    std::size_t used = 0;
    while (used < length && can_receive() && take_block(data + used, length - used)) {
        Fed fed = parser_.feed(data + used, length - used);
        used += fed.consumed;
        // Only whole commands (and their literal data) count as activity: a
        // client that trickles a line byte by byte still meets the
        // autologout timer (RFC 3501 §5.4; slowloris).
        switch (fed.event) {
            case ParseEvent::NeedMore: break;
            case ParseEvent::Command:
                last_activity_ms_ = now_ms;
                execute(now_ms);
                break;
            case ParseEvent::LiteralRequest:
                last_activity_ms_ = now_ms;
                on_literal();
                break;
            case ParseEvent::LiteralChunk:
                last_activity_ms_ = now_ms;
                append_chunk(parser_.chunk());
                break;
            case ParseEvent::Line:
                last_activity_ms_ = now_ms;
                on_line();
                break;
            case ParseEvent::Error:
                last_activity_ms_ = now_ms;
                on_parse_error();
                break;
        }
        return_block();
    }
    return used;
}

// RFC 3501 §7.5 and RFC 7888 §4: "+" only for a literal we will take; one
// over the limit is refused before its data (synchronizing) or discarded
// (non-synchronizing), and answered BAD [TOOBIG].
void Session::on_literal() {
    remember_tag();
    if (!config_.literal_plus && !parser_.literal_sync() &&
        parser_.literal_size() > kLiteralMinus) {
        // RFC 7888 §5: LITERAL- allows non-synchronizing literals of at most
        // 4096 bytes; the command is refused (with TOOBIG, which APPEND's
        // BAD must carry) and its data skipped.
        parser_.refuse_literal();
        abort_append();
        tagged("BAD", "TOOBIG", "Non-synchronizing literal over 4096 bytes (LITERAL-)");
        return;
    }
    bool uid = false;
    const CommandInfo* info = literal_command(parser_, &uid);
    if (info != nullptr && (info->id == CommandId::Append || info->id == CommandId::Replace)) {
        // RFC 3501 §6.3.11: the message literal, streamed to the store.
        // Checked before its data is taken, so a bad APPEND costs the client
        // no upload. REPLACE (RFC 8508 §3.5) only with a mailbox selected.
        if (!allowed_in_state(*info)) {
            parser_.refuse_literal();
            return;
        }
        append_begin();
        return;
    }
    if (info != nullptr && info->id == CommandId::SetMetadata &&
        parser_.literal_size() > config_.metadata.max_size) {
        // RFC 5464 §4.3: a value over the limit, refused before it is sent.
        parser_.refuse_literal();
        FixedText<48> code;
        code.put("METADATA MAXSIZE ").put_uint(config_.metadata.max_size);
        tagged("NO", code.view(), "Value too large");
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
    if (idling_ || awaiting_sasl_) {
        // The raw line IDLE waits on (RFC 2177 §3, DONE) or AUTHENTICATE's
        // response (RFC 3501 §6.2.2) was too long: the command ends here with
        // its own tag, the rest of the line is skipped, and the next line is
        // a new command. An untagged BAD alone would leave the client waiting
        // for a completion that never comes.
        const bool idle = idling_;
        idling_ = false;
        awaiting_sasl_ = false;
        tagged("BAD", parser_.error_code(),
               idle ? "Line too long while waiting for DONE; IDLE ended"
                    : "Authentication response too long; authentication cancelled");
        return;
    }
    remember_tag();
    abort_append();
    FixedText<kLogLine> w;
    w.put(parser_.error_text());
    if (parser_.tag().empty()) {
        // Whole or not at all (the writer holds the longest code and text).
        FixedText<kResponseLine> line;
        ResponseWriter r(line);
        r.untagged("BAD", parser_.error_code(), ascii::head(w.view(), kMaxResponseText));
        (void)r.append_to(out_);
        return;
    }
    tagged("BAD", parser_.error_code(), w.view());
}

// The session's half of the command table: the handler of each command, in
// CommandId order (the protocol's half, name, states and grammar, is
// core/imap/command.cpp). Handlers run with the command parsed and allowed
// in the session's state.
const Session::HandlerRow Session::kHandlers[kCommandCount] = {
    {CommandId::Capability, [](Session& s, const ParsedCommand&) { s.cmd_capability(); }},
    {CommandId::Noop, [](Session& s, const ParsedCommand&) { s.cmd_noop(); }},
    {CommandId::Logout, [](Session& s, const ParsedCommand&) { s.cmd_logout(); }},
    {CommandId::Id, [](Session& s, const ParsedCommand& c) { s.cmd_id(c); }},
    {CommandId::Starttls, [](Session& s, const ParsedCommand&) { s.cmd_starttls(); }},
    {CommandId::Authenticate, [](Session& s, const ParsedCommand& c) { s.cmd_authenticate(c); }},
    {CommandId::Login, [](Session& s, const ParsedCommand& c) { s.cmd_login(c); }},
    {CommandId::Select, [](Session& s, const ParsedCommand& c) { s.cmd_select(c, false); }},
    {CommandId::Examine, [](Session& s, const ParsedCommand& c) { s.cmd_select(c, true); }},
    {CommandId::Create, [](Session& s, const ParsedCommand& c) { s.cmd_create(c); }},
    {CommandId::Delete, [](Session& s, const ParsedCommand& c) { s.cmd_delete(c); }},
    {CommandId::Rename, [](Session& s, const ParsedCommand& c) { s.cmd_rename(c); }},
    {CommandId::Subscribe, [](Session& s, const ParsedCommand& c) { s.cmd_subscribe(c, true); }},
    {CommandId::Unsubscribe, [](Session& s, const ParsedCommand& c) { s.cmd_subscribe(c, false); }},
    {CommandId::List, [](Session& s, const ParsedCommand& c) { s.cmd_list(c, false); }},
    {CommandId::Lsub, [](Session& s, const ParsedCommand& c) { s.cmd_list(c, true); }},
    {CommandId::Status, [](Session& s, const ParsedCommand& c) { s.cmd_status(c); }},
    // The message literals streamed in as they came (cmd_append.cpp).
    {CommandId::Append, [](Session& s, const ParsedCommand&) { s.append_finish(); }},
    {CommandId::Namespace, [](Session& s, const ParsedCommand&) { s.cmd_namespace(); }},
    {CommandId::Enable, [](Session& s, const ParsedCommand& c) { s.cmd_enable(c); }},
    {CommandId::Idle, [](Session& s, const ParsedCommand&) { s.cmd_idle(); }},
    {CommandId::GetQuota, [](Session& s, const ParsedCommand& c) { s.cmd_quota(c); }},
    {CommandId::GetQuotaRoot, [](Session& s, const ParsedCommand& c) { s.cmd_quota(c); }},
    {CommandId::SetQuota, [](Session& s, const ParsedCommand& c) { s.cmd_quota(c); }},
    {CommandId::Find, [](Session& s, const ParsedCommand& c) { s.cmd_list(c, false, true); }},
    // RFC 3501 §6.4.1: every change is durable when it is acknowledged, so a
    // checkpoint has nothing left to do but report changes.
    {CommandId::Check,
     [](Session& s, const ParsedCommand&) { s.finish_after_sync("OK", "", "CHECK completed"); }},
    {CommandId::Close, [](Session& s, const ParsedCommand&) { s.cmd_close(true); }},
    {CommandId::Unselect, [](Session& s, const ParsedCommand&) { s.cmd_close(false); }},
    {CommandId::Expunge, [](Session& s, const ParsedCommand& c) { s.cmd_expunge(c); }},
    {CommandId::Search, [](Session& s, const ParsedCommand& c) { s.cmd_search(c); }},
    {CommandId::Fetch, [](Session& s, const ParsedCommand& c) { s.cmd_fetch(c); }},
    {CommandId::Store, [](Session& s, const ParsedCommand& c) { s.cmd_store(c); }},
    {CommandId::Copy, [](Session& s, const ParsedCommand& c) { s.cmd_copy(c); }},
    {CommandId::Move, [](Session& s, const ParsedCommand& c) { s.cmd_copy(c); }},
    {CommandId::Unauthenticate, [](Session& s, const ParsedCommand&) { s.cmd_unauthenticate(); }},
    {CommandId::Sort, [](Session& s, const ParsedCommand& c) { s.cmd_sort(c, false); }},
    {CommandId::Thread, [](Session& s, const ParsedCommand& c) { s.cmd_sort(c, true); }},
    // RFC 8508: APPEND's streamed literal, then the replaced message's expunge.
    {CommandId::Replace, [](Session& s, const ParsedCommand&) { s.append_finish(); }},
    {CommandId::Compress, [](Session& s, const ParsedCommand& c) { s.cmd_compress(c); }},
    {CommandId::Notify, [](Session& s, const ParsedCommand& c) { s.cmd_notify(c); }},
    {CommandId::CancelUpdate, [](Session& s, const ParsedCommand& c) { s.cmd_cancelupdate(c); }},
    {CommandId::GetMetadata, [](Session& s, const ParsedCommand& c) { s.cmd_getmetadata(c); }},
    {CommandId::SetMetadata, [](Session& s, const ParsedCommand& c) { s.cmd_setmetadata(c); }},
    // RFC 4314 (cmd_acl.cpp).
    {CommandId::SetAcl, [](Session& s, const ParsedCommand& c) { s.cmd_acl(c); }},
    {CommandId::DeleteAcl, [](Session& s, const ParsedCommand& c) { s.cmd_acl(c); }},
    {CommandId::GetAcl, [](Session& s, const ParsedCommand& c) { s.cmd_acl(c); }},
    {CommandId::ListRights, [](Session& s, const ParsedCommand& c) { s.cmd_acl(c); }},
    {CommandId::MyRights, [](Session& s, const ParsedCommand& c) { s.cmd_acl(c); }},
};

// The command's state rules (RFC 3501 §3) and syntax (§9) are checked before
// it runs; a command in the wrong state or with bad arguments gets BAD.
// Before authentication only the state is checked: nothing more of an
// unauthenticated client's input is parsed than needed.
void Session::execute(std::uint64_t now_ms) {
    // The header's invariants: a command starts only with room for its
    // answers, and never while a failed LOGIN's NO is held back.
    TINYIMAPD_ASSERT(out_.room() >= kResponseReserve);
    TINYIMAPD_ASSERT(delayed_until_ms_ == kNoDeadline && !job_.active());
    now_ms_ = now_ms;
    remember_tag();
    const CommandInfo* info = find_command(parser_.name());
    if (info != nullptr && state_ == SessionState::NotAuthenticated && !allowed_in_state(*info)) {
        return;
    }
    ParsedCommand cmd{ArgReader(parser_)};
    if (!check_syntax(&cmd) || !allowed_in_state(*cmd.info) || (utf8_ && !utf8_command(&cmd))) {
        abort_append();  // a MULTIAPPEND whose end is malformed keeps nothing
        return;
    }
    if (view_invalidated() && cmd.id != CommandId::Logout) {
        // Another session's expunges forced a compaction this view had not
        // caught up with (Mailbox::make_gone_room): its numbers no longer hold.
        bye_invalidated();
        return;
    }

    substitute_saved_result(&cmd);
    const HandlerRow& row = kHandlers[static_cast<std::size_t>(cmd.id)];
    TINYIMAPD_ASSERT(row.id == cmd.id);  // the table follows CommandId's order
    const Handler handler = row.handler;
    if (handler != nullptr) {
        handler(*this, cmd);
        return;
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
    if (r.verdict == SyntaxVerdict::BadCharset && utf8_accept_ && cmd->id == CommandId::Search) {
        // RFC 6855 §3: after ENABLE UTF8=ACCEPT any SEARCH charset is BAD.
        tagged("BAD", "", "SEARCH with CHARSET after ENABLE UTF8=ACCEPT");
        return false;
    }
    // RFC 5182 §2.1: a SAVE search answered NO empties "$" (BAD leaves it).
    if (r.verdict == SyntaxVerdict::BadCharset && (cmd->search.return_mask & kReturnSave) != 0) {
        saved_result_.clear();
    }
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
    } else if (r.verdict == SyntaxVerdict::No) {
        tagged("NO", "CANNOT", w.view());
    } else {
        tagged("BAD", "", w.view());
    }
}

// RFC 3501 §6.1.1. UNSELECT (RFC 3691) and UIDPLUS (RFC 4315: APPENDUID,
// COPYUID, UID EXPUNGE) are complete. Before authentication: STARTTLS while TLS can still be
// started; LOGINDISABLED while plaintext passwords are refused (§6.2.3),
// AUTH=PLAIN once they are allowed (RFC 4616; §6.1.1 makes STARTTLS,
// LOGINDISABLED and AUTH=PLAIN mandatory to implement). SASL-IR (RFC 4959)
// always; LITERAL+ or, by configuration, LITERAL- (RFC 7888 §5: never both).
// UNAUTHENTICATE (RFC 8437) in every state (§3 allows advertising it before
// authentication).
void Session::write_capabilities(TextWriter& w) const {
    w.put("IMAP4rev1 IMAP4rev2 ");  // RFC 9051 Appendix A: rev2 after ENABLE
    w.put(config_.literal_plus ? "LITERAL+" : "LITERAL-");
    w.put(
        " SASL-IR UNSELECT UIDPLUS MOVE BINARY ESEARCH ID ENABLE IDLE "
        "NAMESPACE CHILDREN "
        "LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE CONDSTORE QRESYNC QUOTA "
        "QUOTA=RES-STORAGE QUOTA=RES-MESSAGE STATUS=SIZE MULTIAPPEND WITHIN UNAUTHENTICATE");
    // RFC 5256, RFC 5957, RFC 5267 §3 (ESORT): when there are work areas to
    // sort in.
    if (services_.work_areas != nullptr && services_.work_areas->size() > 0) {
        // RFC 5267 §4: CONTEXT=SORT (UPDATE is refused for SORT, §4.3.1).
        w.put(" SORT SORT=DISPLAY THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT CONTEXT=SORT");
    }
    // RFC 5255 §4.3: i;unicode-casemap in SEARCH, SORT and THREAD.
    w.put(" I18NLEVEL=1");
    w.put(" SEARCHRES");  // RFC 5182
    // RFC 5267 §4 (core/session/search_context.h).
    w.put(" CONTEXT=SEARCH");
    // RFC 5464 (cmd_metadata.cpp)
    w.put(" METADATA METADATA-SERVER");
    w.put(" SAVEDATE");     // RFC 8514 (save dates in the index since its version 2)
    w.put(" PREVIEW");      // RFC 8970
    w.put(" REPLACE");      // RFC 8508
    w.put(" UTF8=ACCEPT");  // RFC 6855
    w.put(" NOTIFY");       // RFC 5465
    w.put(" OBJECTID");     // RFC 8474
    w.put(" ACL RIGHTS=texk");  // RFC 4314 (cmd_acl.cpp; c = kx, d = et)
    if (services_.compress_pool != nullptr) w.put(" COMPRESS=DEFLATE");  // RFC 4978
    w.put(" APPENDLIMIT=").put_uint(config_.max_append_size);
    if (state_ != SessionState::NotAuthenticated) return;
    if (services_.tls_available && !tls_active_) w.put(" STARTTLS");
    w.put(password_allowed() ? " AUTH=PLAIN" : " LOGINDISABLED");
}

void Session::enable_condstore() {
    if (condstore_) return;
    condstore_ = true;
    if (selected_ == nullptr) return;
    FixedText<64> w;
    w.put("OK [HIGHESTMODSEQ ").put_uint(selected_->highest_modseq()).put("] CONDSTORE enabled");
    untagged(w.view());
}

bool Session::password_allowed() const {
    return tls_active_ || config_.plaintext_auth;
}

void Session::remember_tag() {
    const std::string_view t = parser_.tag();
    tag_length_ = t.size() < sizeof tag_ ? t.size() : sizeof tag_;
    for (std::size_t i = 0; i < tag_length_; ++i) tag_[i] = t[i];
}

void Session::cmd_capability() {
    FixedText<kCapabilityLine> w;
    w.put("CAPABILITY ");
    write_capabilities(w);
    untagged(w.view());
    tagged("OK", "", "CAPABILITY completed");
}

// RFC 3501 §6.1.2: NOOP is how clients poll for new mail.
void Session::cmd_noop() {
    finish_after_sync("OK", "", "NOOP completed");
}

void Session::cmd_logout() {
    // RFC 3501 §6.1.3: BYE first, then the tagged OK, then close.
    untagged("BYE tinyimapd logging out");
    tagged("OK", "", "LOGOUT completed");
    state_ = SessionState::Logout;
}

// RFC 8437 §3: back to the not authenticated state with everything of the
// login reset but TLS (§4.1: ENABLEd extensions, CONDSTORE, the user's
// store). A selected mailbox is left without an expunge (as UNSELECT). NO
// is not allowed, so nothing here can fail. The address's login failures
// still count (core/auth/login_guard.h), and so do this connection's: an
// account of one's own must not reset the brake on guessing another's.
void Session::cmd_unauthenticate() {
    deselect();
    stage_.close();  // an APPEND's staging file lies in the user's tree
    release_reservation();
    condstore_ = false;
    qresync_ = false;
    utf8_ = utf8_accept_ = rev2_ = false;
    notify_release();  // RFC 5465 §3.1: until the connection closes, or the login
    parser_.set_utf8(false);
    log_line(port::LogLevel::Info, "unauthenticate: user=", {user_, user_length_});
    user_length_ = 0;
    user_root_.clear();
    state_ = SessionState::NotAuthenticated;
    tagged("OK", "", "UNAUTHENTICATE completed");
}

// RFC 3501 §6.2.3: LOGIN SP userid SP password, both astrings.
void Session::cmd_login(const ParsedCommand& cmd) {
    if (!password_allowed()) {
        // §6.2.3: LOGIN MUST NOT be permitted while LOGINDISABLED is advertised.
        tagged("NO", "PRIVACYREQUIRED", "Plaintext authentication is disabled on this connection");
        return;
    }
    authenticate(cmd.user, cmd.password);
}

// RFC 3501 §6.2.1: after the tagged OK the loop runs the TLS handshake
// (Server sees starttls_requested()); nothing more is read in plaintext.
void Session::cmd_starttls() {
    if (!services_.tls_available) {
        tagged("NO", "UNAVAILABLE", "TLS is not configured on this server");
        return;
    }
    if (tls_active_) {
        tagged("BAD", "", "TLS is already active");
        return;
    }
    if (services_.tls_pool != nullptr) {
        // The engine is taken before the OK: once it is sent the client
        // starts its handshake, which must then have an engine to meet it.
        starttls_engine_ = services_.tls_pool->take();
        if (starttls_engine_ == nullptr) {
            tagged("NO", "LIMIT", "Too many TLS connections, try again later");
            return;
        }
    }
    tagged("OK", "", "Begin TLS negotiation now");
    starttls_requested_ = true;
}

// RFC 4978 §3: DEFLATE is the one algorithm; the engine is taken before the
// OK (the client compresses from its next byte on, so one must be there);
// none free: NO [LIMIT] and the session goes on uncompressed. Once on,
// another COMPRESS gets NO [COMPRESSIONACTIVE] (§3, as Dovecot answers).
void Session::cmd_compress(const ParsedCommand& cmd) {
    if (compress_active_) {
        tagged("NO", "COMPRESSIONACTIVE", "DEFLATE is already active");
        return;
    }
    if (!ascii::iequals(cmd.mechanism, "DEFLATE")) {
        tagged("BAD", "", "Unknown compression algorithm; DEFLATE is the one offered");
        return;
    }
    if (services_.compress_pool == nullptr) {
        tagged("NO", "UNAVAILABLE", "Compression is not offered by this server");
        return;
    }
    compress_engine_ = services_.compress_pool->take();
    if (compress_engine_ == nullptr) {
        tagged("NO", "LIMIT", "Too many compressed connections, try again later");
        return;
    }
    tagged("OK", "", "DEFLATE active");
}

// RFC 3501 §6.2.2 with RFC 4616 PLAIN and RFC 4959 SASL-IR.
void Session::cmd_authenticate(const ParsedCommand& cmd) {
    if (!ascii::iequals(cmd.mechanism, "PLAIN")) {
        tagged("NO", "CANNOT", "Unsupported authentication mechanism");
        return;
    }
    if (!password_allowed()) {
        tagged("NO", "PRIVACYREQUIRED", "Plaintext authentication is disabled on this connection");
        return;
    }
    if (cmd.has_initial_response) {
        sasl_plain(cmd.initial_response);
        return;
    }
    // An empty challenge; the client's response comes as one raw line.
    out_.append("+ \r\n");
    awaiting_sasl_ = true;
    parser_.expect_line();
}

void Session::on_line() {
    if (idling_) {
        idle_line();
        return;
    }
    if (!awaiting_sasl_) return;
    awaiting_sasl_ = false;
    const std::string_view line = parser_.line();
    if (line == "*") {
        // §6.2.2: the client cancelled; the command MUST get BAD.
        tagged("BAD", "", "Authentication cancelled");
        return;
    }
    sasl_plain(line);
}

// RFC 4616 §2: message = [authzid] NUL authcid NUL passwd.
void Session::sasl_plain(std::string_view base64) {
    char decoded[kMaxSaslResponse];
    const std::size_t n = base64_decode(base64, decoded, sizeof decoded);
    if (n == SIZE_MAX) {
        tagged("BAD", "", "Invalid base64 in the authentication response");
        return;
    }
    const std::string_view message(decoded, n);
    const std::size_t first = message.find('\0');
    const std::size_t second =
        first == std::string_view::npos ? first : message.find('\0', first + 1);
    if (second == std::string_view::npos) {
        tagged("BAD", "", "Invalid PLAIN response: expected authzid NUL authcid NUL password");
        return;
    }
    const std::string_view authzid = ascii::head(message, first);
    const std::string_view authcid(message.data() + first + 1, second - first - 1);
    const std::string_view password = ascii::tail(message, second + 1);
    if (!authzid.empty() && authzid != authcid) {
        // We do not let one user act as another (no proxy authorization).
        tagged("NO", "AUTHORIZATIONFAILED", "Authorization identity must be empty or the user");
        return;
    }
    authenticate(authcid, password);
}

// LOGIN's and AUTHENTICATE's OK. RFC 3501 §7.1: the capabilities change
// with the state; saying them here saves clients a round trip. As a
// response code while the list fits kMaxResponseCode, else as an untagged
// CAPABILITY before the OK (§7.2.1 allows it at any time): never left out.
void Session::logged_in() {
    FixedText<kCapabilityLine> w;
    w.put("CAPABILITY ");
    write_capabilities(w);
    if (w.view().size() <= kMaxResponseCode) {
        tagged("OK", w.view(), "Logged in");
    } else {
        untagged(w.view());
        tagged("OK", "", "Logged in");
    }
}

void Session::authenticate(std::string_view user, std::string_view password) {
    const std::string_view peer(peer_, peer_length_);
    const PasswdVerdict verdict = services_.passwd.verify(user, password);
    if (verdict == PasswdVerdict::Ok && user.size() <= sizeof user_) {
        for (std::size_t i = 0; i < user.size(); ++i) user_[i] = user[i];
        user_length_ = user.size();
        std::uint8_t defaults = kNoDefaults;
        bool new_root = false;
        if (!open_user_store(&defaults, &new_root)) {
            user_length_ = 0;
            tagged("NO", "UNAVAILABLE", "The mail store is not available; try again later");
            return;
        }
        // The address's failures still count (core/auth/login_guard.h): a
        // success with one account must not reset the brake on guessing
        // another's password.
        state_ = SessionState::Authenticated;
        log_line(port::LogLevel::Info, "login: user=", user, " address=", peer);
        if (new_root) return start_root_sync(defaults);
        if (defaults != kNoDefaults) return start_default_mailbox(defaults);
        return logged_in();
    }
    if (verdict == PasswdVerdict::UnsupportedScheme) {
        log_line(port::LogLevel::Warning, "login: unsupported password scheme for user=", user,
                 " (see docs/CONFIG.md, passwd_file)");
    } else if (verdict == PasswdVerdict::MalformedHash) {
        log_line(port::LogLevel::Warning, "login: malformed password hash for user=", user,
                 " in the passwd file");
    }
    ++failed_logins_;
    log_line(port::LogLevel::Warning, "login failed: user=", user, " address=", peer);
    // The NO goes out after a delay that grows with the failures of this
    // connection and of this address; meanwhile nothing else from this
    // client is processed and the loop serves everyone else.
    delayed_until_ms_ = now_ms_ + services_.login_guard.failure(peer, failed_logins_, now_ms_);
}

std::uint64_t Session::deadline() const {
    if (state_ == SessionState::Logout) return kNoDeadline;
    if (delayed_until_ms_ != kNoDeadline) return delayed_until_ms_;
    const std::uint64_t logout = logout_at();
    if (job_.kind() == JobKind::Append && append_wait_ != AppendWait::None) {
        // Woken at once by the holder (Queued), or the timer (Timer);
        // either way the wait is bounded (run_append_job).
        return job_.retry_at_ms < logout ? job_.retry_at_ms : logout;
    }
    if (job_.active() && job_.retry_at_ms != 0) {
        return job_.retry_at_ms < logout ? job_.retry_at_ms : logout;
    }
    if (notify_between_commands()) {
        // RFC 5465: the next beat, or at once while the selected mailbox
        // or the tree events may have news (notify_beat).
        const std::uint64_t beat = notify_->next_beat_ms;
        return beat < logout ? beat : logout;
    }
    if (idling_ && selected_ != nullptr) {
        const std::uint64_t beat = idle_beat();
        return beat < logout ? beat : logout;
    }
    return logout;
}

void Session::tick(std::uint64_t now_ms) {
    now_ms_ = now_ms;
    ++turn_;
    if (state_ == SessionState::Logout) return;
    if (delayed_until_ms_ != kNoDeadline) {
        if (now_ms < delayed_until_ms_) return;
        delayed_until_ms_ = kNoDeadline;
        last_activity_ms_ = now_ms;
        tagged("NO", "AUTHENTICATIONFAILED", "Authentication failed");
        if (failed_logins_ >= config_.max_login_attempts) {
            log_line(port::LogLevel::Warning,
                     "too many failed logins, disconnecting address=", {peer_, peer_length_});
            bye("Too many failed login attempts");
        }
        return;
    }
    if (now_ms >= logout_at()) {
        // RFC 3501 §5.4 autologout.
        bye("Autologout; idle for too long");
        return;
    }
    // RFC 5465 §4: with NOTIFY, between commands and while idling, what
    // the client asked for (and nothing else).
    if (notifying()) {
        if (notify_between_commands()) notify_beat();
        return;
    }
    // RFC 2177: an idling client hears of changes as they happen.
    if (idling_ && !job_.active()) finish_after_sync({}, {}, {});
}

std::uint64_t Session::logout_at() const {
    const std::uint32_t idle = state_ == SessionState::NotAuthenticated ? config_.login_timeout_ms
                                                                        : config_.idle_timeout_ms;
    return last_activity_ms_ + idle;
}

void Session::end() {
    end_job();
    forget_flush();  // a completion still to come is ignored
    abort_append();
    stage_.close();  // the staging file goes with the connection
    deselect();
    notify_release();  // the shared states go back (RFC 5465, RFC 5267)
    drop_contexts();
    state_ = SessionState::Logout;
    parser_.reset();  // nothing of a command survives the connection
    return_block();
    wants_block_ = false;
    // STARTTLS answered but the handshake never started: the engine goes back.
    if (services_.tls_pool != nullptr) services_.tls_pool->give(hand_over_tls());
    starttls_requested_ = false;
    // COMPRESS answered but never started: the engine goes back (a started
    // one is the loop's, given back when the connection closes).
    if (services_.compress_pool != nullptr) services_.compress_pool->give(hand_over_compress());
}

void Session::shutdown(std::string_view reason) {
    if (state_ == SessionState::Logout) return;
    if (job_.active()) {
        // A response still being written ends here. Between whole responses
        // the BYE follows them (a SEARCH line is closed first); in the middle
        // of one (a message's FETCH, its literal's bytes promised) nothing
        // may follow, and the connection just closes.
        // (The same points as run_job's end for an invalidated view.)
        const JobKind kind = job_.kind();
        const bool between = between_responses();
        end_job();
        if (!between) {
            state_ = SessionState::Logout;
            return;
        }
        if (kind == JobKind::Search) (void)out_.append("\r\n");
    }
    bye(reason);
}

// RFC 3501 §7.1.5: BYE is a line of its own. A FETCH or STORE answer still
// open is closed first (the items written so far are whole), a SEARCH line
// ended; inside a literal no byte may follow but the literal's own, so the
// connection then ends without a BYE (as when a streamed literal fails).
// Whatever job was running ends here.
void Session::bye_invalidated() {
    bye(view_.deleted ? std::string_view("Selected mailbox was deleted, have to disconnect")
                      : std::string_view("The mailbox was rewritten; please reconnect"));
}

void Session::bye(std::string_view text) {
    bool can_speak = true;
    if (job_.active()) {
        if (streamer_.active()) {
            can_speak = false;
        } else if (!between_responses()) {  // a message's FETCH is open
            can_speak = out_.append(")\r\n");
        } else if (job_.kind() == JobKind::Search) {
            can_speak = out_.append("\r\n");
        }
        end_job();
    }
    state_ = SessionState::Logout;
    if (!can_speak) return;
    FixedText<kLogLine> w;
    w.put("BYE ").put(text);
    untagged(w.view());
}

// "* " text CRLF, whole or not at all: a command only starts with
// kResponseReserve free, which every caller's lines fit in; a line that
// still finds no room is left out rather than cut (a cut line would run
// into the next one).
void Session::untagged(std::string_view text) {
    if (out_.room() < text.size() + 4) return;
    out_.append_reserved("* ");
    out_.append_reserved(text);
    out_.append_reserved("\r\n");
}

// Tagged lines carry client-chosen bytes (the tag, a bad argument quoted in
// the text): the ResponseWriter keeps the text free of CR, LF and 8-bit.
// The buffer holds the longest tag, code and text (kResponseLine), so the
// line is always written whole: a code too long is left out and a text too
// long is cut (both are bugs of the caller, never a reason to leave the
// client waiting for its tagged response).
void Session::tagged(std::string_view status, std::string_view code, std::string_view text) {
    FixedText<kResponseLine> w;
    ResponseWriter r(w);
    r.tagged({tag_, tag_length_}, status, code.size() <= kMaxResponseCode ? code : "",
             ascii::head(text, kMaxResponseText));
    if (!r.ok()) {  // a code the writer refused: the line goes without it
        w.clear();
        ResponseWriter plain(w);
        plain.tagged({tag_, tag_length_}, status, "", ascii::head(text, kMaxResponseText));
        (void)plain.append_to(out_);
        return;
    }
    (void)r.append_to(out_);
}

void Session::output_sent(std::size_t n) {
#ifdef TINYIMAPD_CHECK_FRAMING
    if (!framing_.feed(ascii::head(out_.pending(), n))) {
        log_line(port::LogLevel::Error, "malformed response: ", framing_.error());
        __builtin_trap();
    }
#endif
    out_.consume(n);
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

void Session::write_layout(TextWriter& w) {
    struct Member {
        std::string_view name;
        std::size_t bytes;
    };
    const Member members[] = {
        {"HEADER.FIELDS/BINARY window", sizeof fields_window_},
        {"StagedAppend (MULTIAPPEND batch)", sizeof stage_},
        {"user root path", sizeof user_root_},
        {"deferred tagged line", sizeof deferred_},
        {"the job slot (largest job context)", sizeof job_},
        {"VANISHED (EARLIER) walk", sizeof vanished_},
        {"SEARCHRES result and the command's $ (RFC 5182)", sizeof saved_result_ + sizeof dollar_},
        {"updating search contexts (RFC 5267 §4.3; lent: context_pool)", sizeof contexts_},
        {"NOTIFY state (RFC 5465; lent: notify_pool)", sizeof notify_},
        {"Parser", sizeof parser_},
    };
    w.put("  Session object: ").put_uint(sizeof(Session)).put(" bytes, of which:\n");
    std::size_t listed = 0;
    for (const Member& m : members) {
        FixedText<24> n;
        n.put_uint(m.bytes);
        for (std::size_t i = n.size(); i < 8; ++i) w.put(' ');
        w.put(n.view()).put("  ").put(m.name).put('\n');
        listed += m.bytes;
    }
    FixedText<24> rest;
    rest.put_uint(sizeof(Session) - listed);
    for (std::size_t i = rest.size(); i < 8; ++i) w.put(' ');
    w.put(rest.view()).put("  everything else\n");
}

}  // namespace tinyimapd::session
