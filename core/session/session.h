// Session: one IMAP connection's protocol state, without I/O.
//
// The loop hands it the bytes a client sent (receive) and takes the bytes it
// produced (output / output_sent); the session never touches a socket. It
// owns the parser state and, through SessionMemory, the connection's command
// arena, argument array and output buffer, all carved at startup.
//
// Implements, so far: the greeting (RFC 3501 §7.1.1), CAPABILITY (§6.1.1),
// NOOP (§6.1.2), LOGOUT (§6.1.3), LOGIN (§6.2.3), the autologout timer
// (§5.4), and tagged BAD/NO for everything else, with response codes from
// RFC 5530. Commands are executed strictly in the order received (§5.5).
//
// Invariants: a response is appended whole or not started (the session stops
// reading input while the output buffer lacks room for one); while a failed
// LOGIN is being delayed no further input is processed, so replies keep their
// order and other connections are not held up (the delay is a timer).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/auth/login_guard.h"
#include "core/auth/passwd.h"
#include "core/base/out_buffer.h"
#include "core/base/text.h"
#include "core/imap/bodystructure.h"
#include "core/imap/command.h"
#include "core/imap/encoder.h"
#include "core/imap/fetch_cache.h"
#include "core/imap/flag_list.h"
#include "core/imap/framing.h"
#include "core/imap/parser.h"
#include "core/imap/saved_result.h"
#include "core/imap/section.h"
#include "core/imap/uid_pairs.h"
#include "core/imap/uid_ranges.h"
#include "core/mime/header.h"
#include "core/mime/preview.h"
#include "core/mime/text_search.h"
#include "core/mime/transfer_decode.h"
#include "core/session/command_pool.h"
#include "core/session/command_work.h"
#include "core/session/compress_pool.h"
#include "core/session/jobs.h"
#include "core/session/mailbox_ref.h"
#include "core/session/notify.h"
#include "core/session/object_pool.h"
#include "core/session/protocol_names.h"
#include "core/session/quota_reservations.h"
#include "core/session/search_context.h"
#include "core/session/seen_view.h"
#include "core/session/tls_pool.h"
#include "core/session/work_area_pool.h"
#include "core/store/registry.h"
#include "core/store/staged_append.h"
#include "port/clock.h"
#include "port/log.h"

namespace tinyimapd::store {
class UserStore;
}  // namespace tinyimapd::store

namespace tinyimapd::session {

inline constexpr std::uint64_t kNoDeadline = UINT64_MAX;

// ESEARCH answers shared by SEARCH and ESORT (cmd_search.cpp).
bool saves_every_match(std::uint8_t mask);
void start_search_result(SearchResult* r, const SearchOptions& o);
void append_partial_head(OutBuffer& out, const SearchResult& r);
void append_range(OutBuffer& out, std::uint32_t lo, std::uint32_t hi, bool first);
std::int64_t day_of(std::int64_t utc_seconds, std::int32_t zone_minutes);
bool date_header_day(std::string_view v, std::int64_t* day);
// RFC 5267 §4.3 updating contexts (search_context.cpp), for sync.cpp's
// expunge reports: the REMOVEFROM lines of message (seq, uid), and the
// walks started again after an expunge.
void context_removals(SearchContext* const* contexts, std::uint32_t seq, std::uint32_t uid,
                      TextWriter& w);
void contexts_expunged(SearchContext* const* contexts);
// The longest response code and text a status line carries: longer codes
// are left out and longer texts cut (Session::tagged), so a status line
// always fits kResponseLine.
inline constexpr std::size_t kMaxResponseCode = 512;
inline constexpr std::size_t kMaxResponseText = 256;
// Longest status line the session writes: tag SP status SP "[" code "]" SP
// text CRLF.
inline constexpr std::size_t kResponseLine =
    kMaxTagLength + sizeof " PREAUTH [] \r\n" + kMaxResponseCode + kMaxResponseText;

struct SessionConfig {
    ParserLimits parser;
    bool plaintext_auth = false;               // LOGIN allowed without TLS
    bool literal_plus = true;                  // RFC 7888 LITERAL+, else LITERAL-
    std::uint32_t login_timeout_ms = 60000;    // before authentication
    std::uint32_t idle_timeout_ms = 1800000;   // after (RFC 3501 §5.4: >= 30 min)
    std::uint32_t max_login_attempts = 3;      // failed logins before "* BYE"
    std::uint32_t max_append_size = 67108864;  // one APPENDed message
    std::uint64_t quota_storage_kib = 0;       // RFC 9208 STORAGE per user; 0: none
    std::uint32_t quota_messages = 0;          // RFC 9208 MESSAGE per user; 0: none
    // RFC 6154: mailboxes made with their special use at a first login.
    struct SpecialMailbox {
        std::string_view name;
        std::uint8_t use = 0;
    };
    SpecialMailbox special_mailboxes[5];
    struct Metadata {  // RFC 5464 limits and /shared/admin (docs/CONFIG.md)
        std::uint32_t max_size = 1024, max_entries = 100, max_bytes = 65536;
        std::string_view admin;
    };
    Metadata metadata;
    // RFC 2342 §5: the owner of the mailboxes of the "Shared/" namespace;
    // empty: no such namespace.
    std::string_view public_owner;
};

// The session's memory. `arena` nullptr: the arena, the arguments, the FETCH
// items and the SEARCH nodes are borrowed per command from
// SessionServices::command_pool (buffers of these sizes); else they are the
// session's own.
struct SessionMemory {
    char* arena;
    std::size_t arena_size;
    Arg* args;
    std::size_t max_args;
    char* output;
    std::size_t output_size;
    CommandScratch scratch;  // FETCH items, SEARCH nodes, set range limit
    std::uint32_t slot = 0;  // the connection slot: names its APPEND staging file
};

// What a session needs from the server around it.
struct SessionServices {
    port::Log& log;
    const PasswdDb& passwd;
    LoginGuard& login_guard;
    bool tls_available = false;             // STARTTLS can be offered
    store::Registry* registry = nullptr;    // the mail store; nullptr: none
    std::string_view mail_dir;              // users' roots are mail_dir/<user>
    port::Clock* clock = nullptr;           // INTERNALDATE of APPENDed messages
    NotifyEvents* notify_events = nullptr;  // RFC 5465 tree events (shared); nullptr: none
    char* stream_scratch = nullptr;         // staging for streamed literals (shared)
    std::size_t stream_scratch_size = 0;
    FetchCache* fetch_cache = nullptr;  // ENVELOPE/BODYSTRUCTURE answers (shared); nullptr: none
    QuotaReservations* reservations = nullptr;  // APPENDs in flight, per slot (shared)
    CommandPool* command_pool = nullptr;        // command blocks (shared), see SessionMemory
    TlsPool* tls_pool = nullptr;                // TLS engines (shared); nullptr: one per slot
    WorkAreaPool* work_areas = nullptr;         // SORT/THREAD areas (shared); nullptr: none
    CompressPool* compress_pool = nullptr;      // COMPRESS engines (shared); nullptr: none
    NotifyPool* notify_pool = nullptr;    // RFC 5465 NOTIFY states (shared); nullptr: none
    ContextPool* context_pool = nullptr;  // RFC 5267 search contexts (shared); nullptr: none
};

enum class SessionState : std::uint8_t { NotAuthenticated, Authenticated, Selected, Logout };

class Session {
public:
    Session(const SessionConfig& config, SessionServices& services, const SessionMemory& memory);

    // A new connection from `peer`: resets all state and queues the greeting.
    // `tls_active` for implicit-TLS listeners (RFC 8314).
    void open(std::string_view peer, std::uint64_t now_ms, bool tls_active = false);

    // STARTTLS was accepted: once output() is drained, the loop discards any
    // buffered input, starts the handshake and calls tls_started().
    bool starttls_requested() const { return starttls_requested_; }
    // The engine STARTTLS took from SessionServices::tls_pool before its OK
    // (nullptr without a pool); the loop takes it over for the handshake.
    port::TlsSession* hand_over_tls() {
        port::TlsSession* t = starttls_engine_;
        starttls_engine_ = nullptr;
        return t;
    }
    void tls_started();
    bool tls_active() const { return tls_active_; }
    // COMPRESS was answered OK (RFC 4978 §3): once output() is drained (the
    // OK goes out uncompressed), the loop takes the engine and compresses
    // both ways from the next byte on, then calls compress_started().
    bool compress_requested() const { return compress_engine_ != nullptr && !compress_active_; }
    port::CompressSession* hand_over_compress() {
        port::CompressSession* z = compress_engine_;
        compress_engine_ = nullptr;
        return z;
    }
    void compress_started() { compress_active_ = true; }

    // Processes client bytes; returns how many were consumed. Fewer than
    // `length` means the session cannot take more now (output full, a delayed
    // reply pending, or logging out): keep the rest and offer it again later.
    std::size_t receive(const std::uint8_t* data, std::size_t length, std::uint64_t now_ms);

    std::string_view output() const { return out_.pending(); }
    void output_sent(std::size_t n);

    // True when the connection should be closed once output() is drained.
    bool closing() const { return state_ == SessionState::Logout; }
    // Part of a command was received and the rest is awaited (a line, or a
    // literal's bytes).
    bool mid_command() const { return !parser_.at_command_start(); }
    // True when receive() would consume something now.
    bool can_receive() const;

    // The next instant tick() has work to do, or kNoDeadline.
    std::uint64_t deadline() const;
    void tick(std::uint64_t now_ms);

    // Server shutdown: "* BYE reason" and close (RFC 3501 §7.1.5).
    void shutdown(std::string_view reason);
    // The connection is gone: give back the store's resources (an APPEND in
    // progress is aborted; nothing unacknowledged is kept).
    void end();

    // A command still answering as a job (core/session/jobs.h): call
    // run_job() whenever output has been drained.
    bool has_job() const { return job_.active(); }
    // The job waits for the store (deadline() says until when), not for output.
    bool job_waiting() const {
        if (flush_token_ != 0) return true;                 // a flush's completion
        if (store_commit_.mailbox != nullptr) return true;  // its group's commit
        if (job_.kind() == JobKind::Append) return append_waiting();
        if (store_turn_.mailbox != nullptr && store_turn_.woken) return false;  // its turn came
        return job_.active() && job_.retry_at_ms != 0 && now_ms_ < job_.retry_at_ms;
    }
    // One step of the job (jobs.cpp); says whether it ended, goes on, or
    // waits for the store.
    JobProgress run_job();
    // An asynchronous flush this session started (port/fs.h, token as
    // given to Fs::flush_start) has finished: its job goes on. Tokens of
    // flushes it no longer waits for are ignored.
    void flush_completed(std::uint64_t token, Status status);
    bool flush_waiting() const { return flush_token_ != 0 || store_commit_.mailbox != nullptr; }

    // Sessions over a CommandPool (SessionMemory): true while input waits
    // for a block because none was free; the loop gives the session a turn
    // again once one is (CommandPool::free_count()).
    bool wants_block() const { return wants_block_; }
    // Gives the borrowed block back if the session is between commands (no
    // job, nothing of a command parsed); the loop calls it after each turn.
    void return_block();

    SessionState state() const { return state_; }
    std::string_view user() const { return {user_, user_length_}; }

    // The object's size and its largest members, one line each (the
    // server's write_layout, `tinyimapd --print-layout`).
    static void write_layout(TextWriter& w);

private:
    void execute(std::uint64_t now_ms);
    bool allowed_in_state(const CommandInfo& info);
    bool check_syntax(ParsedCommand* cmd);
    // The command table's handlers (session.cpp), by CommandId.
    using Handler = void (*)(Session& session, const ParsedCommand& cmd);
    struct HandlerRow {
        CommandId id;
        Handler handler;
    };
    static const HandlerRow kHandlers[kCommandCount];
    void report_syntax(const SyntaxResult& r);
    void on_parse_error();
    void on_literal();

    void cmd_capability();
    void cmd_noop();
    void cmd_logout();
    void cmd_unauthenticate();
    void cmd_login(const ParsedCommand& cmd);
    void cmd_starttls();
    void cmd_compress(const ParsedCommand& cmd);
    void cmd_authenticate(const ParsedCommand& cmd);
    // IDLE ENABLE ID NAMESPACE (cmd_ext.cpp).
    void cmd_idle();
    void idle_line();
    std::uint64_t idle_beat() const;
    std::uint64_t logout_at() const;  // RFC 3501 §5.4 autologout instant
    void cmd_enable(const ParsedCommand& cmd);
    // NOTIFY (RFC 5465, cmd_notify.cpp).
    void cmd_notify(const ParsedCommand& cmd);
    bool notifying() const { return notify_ != nullptr && notify_->active; }
    void notify_release();
    bool notify_copy_fetch(const ParsedCommand& cmd);
    bool notify_copy_groups(const ParsedCommand& cmd);
    bool notify_expand(bool announce = false);
    void notify_announce(const NotifyOld& old, const bool* joined);
    bool notify_watch(std::string_view name, std::uint8_t events);
    bool notify_matches(std::string_view name, std::uint8_t event);
    std::uint8_t notify_message_events(std::string_view name);
    bool notify_between_commands() const;
    void notify_beat();
    bool notify_tree_events();
    bool notify_tree_event(const NotifyEvents::Event& e);
    bool notify_list_line(std::string_view name, std::uint8_t attrs, std::string_view old_name);
    std::uint8_t notify_attrs(std::string_view name);
    std::uint8_t notify_tree_attrs(std::string_view root, std::string_view name);
    // The other users' and shared namespaces (RFC 5465 §6, RFC 4314;
    // cmd_notify_shared.cpp).
    bool notify_foreign(std::string_view name) const;
    bool notify_reaches_others();
    bool notify_may_read(std::string_view name);
    bool notify_dir(std::string_view name, store::Path* dir);
    void notify_user_unseen(std::string_view name, const NotifyState::Watch& w,
                            store::StatusInfo* info);
    bool notify_watching(std::string_view name) const;
    bool notify_foreign_event(const NotifyEvents::Event& e);
    // MailboxMetadataChange, ServerMetadataChange (RFC 5465 §5.6, §5.7;
    // cmd_notify_shared.cpp).
    void notify_post_metadata(const ParsedCommand& cmd);
    void notify_post_acl(const MailboxRef& ref);
    bool notify_metadata_event(const NotifyEvents::Event& e, std::uint64_t me);
    bool notify_metadata_line(std::string_view name, std::string_view entries);
    bool notify_peek(NotifyState::Watch& w, bool report);
    bool notify_status_line(std::string_view name, const store::StatusInfo& info,
                            std::uint16_t items);
    void notify_selected();
    void notify_overflow();
    void notify_post(NotifyEvents::Kind kind, std::string_view name, std::string_view old = {},
                     std::string_view owner = {});
    // GETMETADATA SETMETADATA (RFC 5464, cmd_metadata.cpp).
    void cmd_getmetadata(const ParsedCommand& cmd);
    void cmd_setmetadata(const ParsedCommand& cmd);
    Status metadata_target(std::string_view name, bool write, store::Path* dir);
    void run_metadata_job();
    Status metadata_file_step(MetadataJob& job, std::uint32_t limit);
    bool metadata_line(std::string_view name, std::string_view value);
    void cmd_id(const ParsedCommand& cmd);
    void cmd_namespace();
    // ACL (RFC 4314) and other users' mailboxes (cmd_acl.cpp).
    Status resolve_mailbox(std::string_view name, MailboxRef* out);
    // RFC 4314 §4, §6: Ok when the user has any of `needed` on `name`;
    // NotFound when they may neither look it up nor read it (or no such
    // user or namespace), Permission when they may but lack `needed`;
    // Invalid/TooLong for a bad name. A mailbox that does not exist passes
    // when its owner would (the caller's store call then says NotFound).
    Status check_access(std::string_view name, store::Rights needed, MailboxRef* out);
    void answer_access(Status st);
    // check_access, answered when it fails (false).
    bool resolve_for(std::string_view name, store::Rights needed, MailboxRef* out);
    // STORE's flags for message `seq` as selected_rights_ allow (§4).
    void acl_store_flags(std::uint32_t seq, store::FlagOp op, std::uint8_t* flags,
                         std::uint64_t* keywords);
    void cmd_acl(const ParsedCommand& cmd);
    void acl_change(const ParsedCommand& cmd, MailboxRef& ref);
    void acl_answer(const ParsedCommand& cmd, const MailboxRef& ref);
    store::Rights selected_rights_ = store::kAllRights;  // cached at SELECT (§5.1.1)
    // Per-user \Seen (cmd_seen.cpp, RFC 4314 §4, §5.2).
    void selected_access(const MailboxRef& ref);  // at SELECT: rights, whose \Seen
    std::string_view seen_keyword();              // "%seen/<user>"
    const SeenView& seen_view();                  // the selected mailbox's, kept current
    void user_flags(store::MessageInfo* m);
    Status seen_bit(bool create, std::uint64_t* mask);
    void seen_store_flags(std::uint32_t seq, store::FlagOp op, std::uint64_t mine,
                          std::uint8_t* flags, std::uint64_t* keywords);
    void seen_append_flags(const MailboxRef& ref, FlagList* flags);
    std::uint32_t user_first_unseen();
    Status user_unseen(store::UserStore& store, const MailboxRef& ref, std::uint32_t* unseen);
    bool only_hidden_keywords(std::size_t from, std::size_t to) const;
    SeenView seen_;
    FixedText<8 + store::kMaxAclIdentifier> seen_name_;
    // QUOTA (cmd_ext.cpp, RFC 9208).
    struct QuotaUsage {
        std::uint64_t bytes, messages;
    };
    // Of the user `owner` (empty: this session's; RFC 4314: the owner of a
    // shared mailbox pays for what is put in it).
    QuotaUsage quota_usage(std::string_view owner = {});
    // True if `bytes` and `messages` more stay within the owner's limits.
    bool quota_allows(std::uint64_t bytes, std::uint64_t messages, std::string_view owner = {});
    void write_quota();
    void cmd_quota(const ParsedCommand& cmd);
    void on_line();
    void sasl_plain(std::string_view base64);
    void authenticate(std::string_view user, std::string_view password);
    bool password_allowed() const;
    void remember_tag();

    // SELECT EXAMINE CLOSE UNSELECT and the user's store (cmd_select.cpp).
    // *defaults: the first default mailbox a first login makes, or kNoDefaults.
    // *new_root: a first login made the user's directory; its entry is
    // synced by a TreeJob (start_root_sync) before anything else.
    bool open_user_store(std::uint8_t* defaults, bool* new_root);
    void start_root_sync(std::uint8_t then);
    static constexpr std::uint8_t kNoDefaults = 0xFF;
    static constexpr std::uint8_t kInboxOnly = 0xFE;          // INBOX is missing
    static constexpr std::uint8_t kInboxThenDefaults = 0xFD;  // a new user: INBOX, then the rest
    std::uint8_t next_default_mailbox(std::uint8_t from) const;
    void start_default_mailbox(std::uint8_t index);
    void default_mailbox_done(const store::TreeOp& op, std::uint8_t index, Status st);
    void logged_in();
    void deselect();
    void cmd_select(const ParsedCommand& cmd, bool read_only);
    void select_counts(std::string_view name);
    // The flags a FETCH shows: RFC 9051 Appendix E.12, no \\Recent for an
    // IMAP4rev2 session.
    std::uint8_t wire_flags(std::uint8_t flags) const {
        return rev2_ ? static_cast<std::uint8_t>(flags & ~mail::kRecent) : flags;
    }
    void select_later(store::Mailbox* box, bool read_only);
    void wait_select(bool read_only);
    void run_select_job();
    void run_close_job();
    bool close_turn();
    void cmd_close(bool expunge);
    // Change reports: EXISTS, EXPUNGE, FETCH FLAGS, QRESYNC (sync.cpp).
    void resync(const QresyncParams& p);
    void run_resync_job();
    void start_vanished_earlier(const SeqSet& uids, std::uint32_t floor);
    bool run_vanished_earlier();
    std::uint32_t first_seq_at_or_above(std::uint32_t uid);
    bool sync_selected();
    bool view_invalidated() const { return selected_ != nullptr && view_.invalidated; }
    void finish_after_sync(std::string_view status, std::string_view code, std::string_view text);
    void run_sync_job();
    void start_flag_scan();
    // RFC 3501 §7.2.6, §7.1: "* FLAGS" and "* OK [PERMANENTFLAGS]" whenever the
    // selected mailbox's keywords differ from what this client was told,
    // before any FETCH that could name a new one. False: no room yet (the
    // caller waits for the output to drain and tries again).
    bool announce_keywords();
    static constexpr std::size_t kNotAnnounced = SIZE_MAX;
    std::size_t flags_announced_ = kNotAnnounced;      // keywords listed in FLAGS
    std::size_t permanent_announced_ = kNotAnnounced;  // ... in PERMANENTFLAGS
    // Messages above this modseq need their flags reported (UINT64_MAX: none).
    std::uint64_t flag_scan_since_ = UINT64_MAX;
    std::uint32_t flag_scan_max_uid_ = 0;  // the newest message the client knew
    void defer_tagged(std::string_view status, std::string_view code, std::string_view text);
    // Mailbox commands (cmd_mailbox.cpp).
    // NO [LIMIT] / BAD for a keyword the store would not take (STORE, APPEND, COPY).
    void answer_keyword_error(Status st);
    // False when `flags` would need more new keywords than `box` has room
    // for: the command is then refused whole (never a silent drop).
    bool keywords_fit(store::Mailbox& box, const FlagList& flags);
    void answer_store(Status st, std::string_view done);
    // NO [CANNOT] and true if a new mailbox name holds a LIST wildcard.
    bool refuse_wildcard_name(std::string_view name);
    void cmd_create(const ParsedCommand& cmd);
    void cmd_delete(const ParsedCommand& cmd);
    void cmd_rename(const ParsedCommand& cmd);
    void cmd_subscribe(const ParsedCommand& cmd, bool on);
    void start_tree_job(store::TreeOp::Kind kind, std::string_view a, std::string_view b = {},
                        std::string_view owner = {});
    // The root of `owner`'s tree (empty or this user: user_root_).
    FixedString<port::kMaxPath> root_of(std::string_view owner) const;
    // RFC 4314 §4 CREATE: k on the nearest existing parent of `ref`'s name.
    Status parent_rights(std::string_view full_name, const MailboxRef& ref,
                         store::Rights needed);
    // LIST over the other users' and shared namespaces (cmd_shared.cpp).
    Status list_others(std::string_view pattern, store::ListVisitor& out);
    bool list_owner(std::string_view owner, std::string_view prefix, std::string_view pattern,
                    store::ListVisitor& out, bool* top_sent);
    bool may_look_up(store::UserStore& store, std::string_view owner, std::string_view name);
    std::uint8_t subscribed_attrs(std::string_view name, std::uint8_t attrs);
    void run_tree_job();
    void finish_tree_job(Status st);
    void cmd_list(const ParsedCommand& cmd, bool lsub, bool find = false);
    void run_list_job();
    ListJob& list_job() { return job_.get<ListJob>(); }
    const ListJob& list_job() const { return job_.get<ListJob>(); }
    struct ListRound;
    bool listed_earlier(const ListRound& round, std::string_view name) const;
    // RFC 6154 §2: the special-use attributes `uses` as LIST atoms.
    static void special_use_atoms(ResponseWriter& r, std::uint8_t uses);
    bool write_list_line(std::string_view name, std::uint8_t attrs, std::uint8_t uses,
                         bool childinfo);
    bool list_entry(ListRound& round, std::string_view name, std::uint8_t attrs, bool childinfo);
    Status list_pattern(ListRound& round, std::string_view pattern);
    void cmd_status(const ParsedCommand& cmd);
    bool write_status(std::string_view name, const StatusAtts& atts, Status* why_not = nullptr);
    // STORE (cmd_store.cpp).
    void cmd_store(const ParsedCommand& cmd);
    void run_store_job();
    bool store_start();
    void store_finish(Status st);
    void end_store_txn();
    void restart_store_alone();
    bool retry_later();
    // The write turn of a STORE or of FETCH's \Seen (`alone`: not joining a
    // group, after its changes did not fit one): Ready, or Queued (woken
    // when the holder lets go; a timer bounds the wait: false from
    // retry_later()).
    store::Mailbox::Turn store_turn(bool alone);
    void leave_store_turn();
    // A write job's transaction stopped at a durability barrier (the store
    // said WouldBlock): the flush goes to the I/O threads and the job waits
    // for flush_completed() — true; or, without them, it is done here and
    // the job calls the store again at once — false (docs/STORAGE.md
    // "Flushes leave the loop").
    bool start_flush(store::Mailbox& box);
    void forget_flush() {
        flush_token_ = 0;
        flush_box_ = nullptr;
    }
    // A STORE's (or FETCH's \Seen) place in the mailbox's write-turn queue
    // and in its group commit (docs/STORAGE.md "Group commit").
    store::TurnWaiter store_turn_;
    store::CommitWaiter store_commit_;
    std::uint64_t flush_token_ = 0;  // the flush the job waits for, 0: none
    std::uint32_t flush_count_ = 0;  // tokens are (slot << 32) | count
    store::Mailbox* flush_box_ = nullptr;
    // EXPUNGE, COPY, MOVE (cmd_copy.cpp).
    void cmd_expunge(const ParsedCommand& cmd);
    void run_expunge_job();
    void fail_expunge_job(Status st);
    void finish_expunge_job();
    void end_expunge_txn();
    void cmd_copy(const ParsedCommand& cmd);
    void run_copy_job();
    void end_copy_job(Status st);
    // FETCH (cmd_fetch.cpp; BINARY in cmd_binary.cpp).
    void cmd_fetch(const ParsedCommand& cmd);
    bool check_set(const ParsedCommand& cmd, SetWalk* walk);
    std::uint32_t next_in_set(SetWalk& walk);
    std::uint32_t next_uid_in_set(SetWalk& walk);
    // The step of Fetch and Store jobs: FETCH's answers, or STORE's once it
    // committed.
    void run_message_job();
    void finish_message_job();
    // FETCH's answering context (jobs.h): a Fetch job's, or a Store job's.
    FetchJob& fetch_job();
    // True when a response is not half written: no literal streaming, no
    // message's FETCH open (a SEARCH line may be: it is ended first).
    bool between_responses();
    // The step table (jobs.cpp): which member runs a kind, and whether it
    // needs the selected mailbox's view to hold.
    struct StepRow {
        JobKind kind;
        void (Session::*step)();
        bool needs_view;
    };
    static const StepRow kSteps[];
    // Ends the job; a STORE or COPY job cut short gives back its store
    // transaction first (nothing of it was acknowledged, nothing is kept).
    void end_job();
    void release_job_store();
    bool start_message();
    bool check_binary_items();
    bool set_seen();
    void open_fetch_response();
    void write_item(const FetchItem& item);
    // Streams `count` bytes of `source` as the current item's literal; the
    // item is done when the streamer is (a failure ends the session).
    void stream_item(ByteSource& source, std::uint64_t count);
    void write_flags_item(FixedText<512>& w);
    void stream_plain_section(const FetchItem& item, FixedText<512>& w);
    bool write_structure(const FetchItem& item);
    imap::CachedItem structure_cache_item(imap::FetchKind kind) const;
    bool write_preview();
    bool find_section_step(const SectionSpec& section);
    bool binary_lookup_step(const FetchItem& item);
    void stream_section(const FetchItem& item, FixedText<512>& name);
    std::uint64_t header_size();
    void own_flag_change(std::uint64_t modseq);
    // SEARCH (cmd_search.cpp).
    void cmd_search(const ParsedCommand& cmd);
    bool search_limits_ok(const ParsedCommand& cmd);
    // SORT and THREAD (cmd_sort.cpp, RFC 5256, RFC 5957).
    void cmd_sort(const ParsedCommand& cmd, bool thread);
    void run_sort();
    bool sort_answering() const;
    bool sort_take_area(SortJob& job);
    void sort_gather(SortJob& job);
    bool sort_collect(SortJob& job, std::uint32_t seq);
    bool sort_values(const mime::HeaderBlock& block, SortValue* values,
                     char (*texts)[kSortTextMax]);
    bool sort_collect_entry(SortJob& job, std::uint32_t seq, std::uint32_t number);
    bool sort_added(SortJob& job);
    void sort_gathered(SortJob& job);
    bool thread_collect(SortJob& job, const store::SortCacheEntry& e);
    void sort_ordered(SortJob& job);
    bool thread_ranked(SortJob& job);
    void thread_link(SortJob& job);
    void sort_answer(SortJob& job);
    void esort_answer(SortJob& job);
    void esort_start(SortJob& job);
    void esort_save(SortJob& job, std::uint32_t record);
    void thread_answer(SortJob& job);
    void sort_end(SortJob& job);
    void run_search();
    enum class SearchStep : std::uint8_t { NoMatch, Match, Suspended };
    SearchStep search_next(SearchJob& job);
    // RFC 5182 SEARCHRES: "$" replaced by the saved result (cmd_search.cpp).
    void substitute_saved_result(ParsedCommand* cmd);
    // RFC 5267 §4.3 CONTEXT=SEARCH (search_context.cpp).
    bool context_tag_in_use() const;
    void drop_contexts();
    void free_context(SearchContext* c);
    bool context_set(SearchContext& c, const SearchNode& src, std::uint32_t largest_uid,
                     ContextNode* out);
    bool context_copy(SearchContext& c, const ParsedCommand& cmd, std::uint32_t largest_uid);
    void start_context(SearchResult& r, const ParsedCommand& cmd, std::uint32_t largest_uid);
    void context_found(SearchResult& r, std::uint32_t seq, std::uint32_t uid);
    void finish_context(SearchResult& r);
    void cmd_cancelupdate(const ParsedCommand& cmd);
    bool update_contexts();
    bool context_walk(SearchContext& c);
    bool context_matches(const SearchContext& c, std::uint32_t i, const store::MessageInfo& m);
    bool program_matches(const SearchContext& c, const store::MessageInfo& m);
    mime::HeaderBlock context_header(const store::MessageInfo& m, std::string_view name);
    bool context_header_contains(const store::MessageInfo& m, std::string_view name,
                                 std::string_view needle);
    std::int64_t context_sent_day(const ContextNode& n, const store::MessageInfo& m);
    void search_refused_save();
    bool search_match(std::uint32_t seq, std::uint32_t index);
    static bool is_flag_key(imap::SearchKey key);
    bool flags_match(imap::SearchKey key, std::uint8_t flag_bit, std::string_view keyword,
                     std::uint64_t number, const store::MessageInfo& m);
    bool search_date_matches(const SearchNode& n);
    bool header_value(std::string_view name, std::string_view* value);
    mime::HeaderBlock load_search_header(std::string_view name);
    mime::HeaderBlock load_search_header(mime::FieldNames keep);
    bool body_contains(std::string_view needle, bool whole);
    void append_begin();
    // A step of append_begin: go on, wait for a busy mailbox (retry timer),
    // or refused (answered).
    enum class AppendStep : std::uint8_t { Go, Wait, Refused };
    bool append_size_allowed(std::uint32_t size, std::string_view owner);
    AppendStep append_open(store::UserStore& store, std::string_view mailbox);
    bool replace_target(const AppendTarget& target);
    void finish_replace(std::string_view appenduid, std::uint32_t replaced);
    AppendStep append_keywords(store::Mailbox& box, const FlagList& flags, std::uint64_t* keywords);
    AppendStep append_new_keywords(store::Mailbox& box, const FlagList& flags, Status* st);
    void append_chunk(std::string_view chunk);
    void append_finish();
    void abort_append();
    void run_append_job();
    void append_committed(store::Mailbox& box, std::uint32_t first);
    store::StagedAppend::Step append_commit_step(store::Mailbox& box, std::uint32_t* first,
                                                 Status* error);
    bool append_retry_later();
    bool append_waiting() const;
    bool append_follow();
    bool copy_follow(CopyJob& copy);
    void release_reservation();
    void write_capabilities(TextWriter& w) const;
    // RFC 6855 §3 for a UTF8=ACCEPT session (cmd_ext.cpp): SEARCH CHARSET is
    // BAD, and the command's mailbox names become the store's modified
    // UTF-7, kept in the parser's spare arena; false when answered.
    bool utf8_command(ParsedCommand* cmd);
    // A stored (modified UTF-7) mailbox name as this session writes it:
    // UTF-8 once UTF8=ACCEPT is on (converted into `buf`), else as it is.
    std::string_view wire_name(std::string_view stored, TextWriter& buf) const;
    // A LIST pattern or reference as the store matches it (UTF-8 converted
    // to modified UTF-7 for a UTF8=ACCEPT session, into `buf`); false when
    // it cannot be converted (it then matches nothing).
    bool store_pattern(std::string_view pattern, TextWriter& buf, std::string_view* out) const;
    // RFC 6855 §4: the header of each APPEND message literal is scanned as it
    // streams in; an 8-bit byte in it fails a session without UTF8=ACCEPT
    // (NO at the end of the command).
    void scan_append_header(std::string_view chunk);
    enum class HeaderScan : std::uint8_t { LineStart, Cr, Text, Done };
    HeaderScan header_scan_ = HeaderScan::Done;
    bool header_8bit_ = false;
    // RFC 7162 §3.1: the first CONDSTORE-enabling command (SELECT/EXAMINE
    // (CONDSTORE), FETCH MODSEQ or CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH
    // MODSEQ, ENABLE CONDSTORE/QRESYNC) turns CONDSTORE on for the rest of
    // the connection; with a mailbox selected it also sends
    // "* OK [HIGHESTMODSEQ n]" (§3.1.2.1) before the command's own responses.
    void enable_condstore();
    void untagged(std::string_view text);
    void tagged(std::string_view status, std::string_view code, std::string_view text);
    void bye(std::string_view text);
    // The BYE for a selected mailbox whose view no longer holds: deleted by
    // another session (Dovecot's words), or rewritten (compacted by another
    // process, outrun by expunges, INBOX renamed).
    void bye_invalidated();
    void log_line(port::LogLevel level, std::string_view a, std::string_view b = {},
                  std::string_view c = {}, std::string_view d = {});

    const SessionConfig& config_;
    SessionServices& services_;
    Parser parser_;
    OutBuffer out_;
    CommandScratch scratch_;
    // The borrowed command block (nullptr: none; always nullptr without a
    // pool), and whether input is waiting for one.
    bool take_block(const std::uint8_t* data, std::size_t length);
    bool borrow_block();
    // The borrowed block's per-command state (a FETCH or SEARCH job holds
    // the block while it runs).
    CommandWork& work() {
        TINYIMAPD_ASSERT(block_ != nullptr);
        return *block_->work;
    }
    CommandBlock* block_ = nullptr;
    bool wants_block_ = false;
    SessionState state_ = SessionState::NotAuthenticated;
    std::uint64_t now_ms_ = 0;
    std::uint32_t turn_ = 0;  // loop turns seen (tick): a job's fsyncs are spread over them
    std::uint64_t last_activity_ms_ = 0;
    // A failed LOGIN's NO waits until delayed_until_ms_ (brute-force brake).
    std::uint64_t delayed_until_ms_ = kNoDeadline;
    std::uint32_t failed_logins_ = 0;
    char peer_[48] = {};
    std::size_t peer_length_ = 0;
    char user_[256] = {};
    std::size_t user_length_ = 0;
    // The tag of the command being answered (AUTHENTICATE's exchange and a
    // delayed NO outlive the parser's copy).
    char tag_[kMaxTagLength] = {};
    std::size_t tag_length_ = 0;
    bool tls_active_ = false;
    bool starttls_requested_ = false;
    port::TlsSession* starttls_engine_ = nullptr;       // see hand_over_tls()
    port::CompressSession* compress_engine_ = nullptr;  // see hand_over_compress()
    bool compress_active_ = false;                      // RFC 4978: the streams are on
    bool awaiting_sasl_ = false;
    // RFC 7162: CONDSTORE on (see enable_condstore); QRESYNC on (ENABLE
    // QRESYNC, §3.2.3): expunges are then reported as VANISHED.
    bool condstore_ = false;
    bool qresync_ = false;
    // RFC 6855 (ENABLE UTF8=ACCEPT): UTF-8 in quoted strings (the parser
    // checks it) and mailbox names in UTF-8 both ways, for the rest of the
    // login; off again after UNAUTHENTICATE.
    bool utf8_ = false;
    bool utf8_accept_ = false;  // UTF8=ACCEPT itself was enabled (its SEARCH rule)
    // RFC 9051 (ENABLE IMAP4rev2, §6.3.1, Appendix A): this session gets
    // IMAP4rev2's answers (ESEARCH for SEARCH, SELECT's LIST, no RECENT,
    // \Recent or [UNSEEN]) and UTF-8 names (utf8_); off for IMAP4rev1.
    bool rev2_ = false;
    bool idling_ = false;  // RFC 2177 IDLE: waiting for DONE
    // RFC 5465 NOTIFY (cmd_notify.cpp), lent by services_.notify_pool from
    // NOTIFY SET until notifications end; nullptr: none.
    NotifyState* notify_ = nullptr;
    // The store: this user's root, the selected mailbox and its view, and
    // an APPEND in progress.
    FixedString<port::kMaxPath> user_root_;
    store::Mailbox* selected_ = nullptr;
    store::View view_;
    // APPEND (cmd_append.cpp): the literal streams into a staging file
    // (outside the mailbox lock); at the end of the command an Append job
    // waits for the mailbox's write turn and copies it in (StagedAppend).
    // RFC 3502 MULTIAPPEND: the messages of one APPEND, committed together.
    static constexpr std::size_t kMaxMultiappend = store::StagedAppend::kMaxMessages;
    store::Mailbox* append_box_ = nullptr;
    store::StagedAppend stage_;
    Status append_status_ = Status::Ok;
    enum class AppendWait : std::uint8_t { None, Queued, Timer };
    AppendWait append_wait_ = AppendWait::None;
    std::uint64_t append_backoff_ms_ = 0;
    // Another process held the mailbox while the literal was announced
    // (opening it, registering a keyword): the literal is neither taken nor
    // refused yet and append_begin() runs again (the Append job, on a timer).
    bool append_opening_ = false;
    bool append_kw_txn_ = false;  // its new keywords' transaction is open (append_new_keywords)
    bool append_open_waiting_ = false;
    std::uint64_t append_open_since_ = 0;
    // [UID] REPLACE (RFC 8508): the selected mailbox's message the APPEND
    // replaces (0: the command is an APPEND) and its size (RFC 8508 §3.4:
    // quota counts the net change).
    std::uint32_t replace_uid_ = 0;
    std::uint32_t replace_size_ = 0;
    const std::uint32_t slot_;

    // RFC 7162 VANISHED (EARLIER), written ahead of the job it precedes
    // (SELECT's Resync, UID FETCH's Fetch): where the walk over the set is.
    struct VanishedWalk {
        bool pending = false;
        SeqSet set;
        SeqSet::Cursor cursor;
        std::uint32_t floor = 0, uid = 1, hi = 0, seq = 0;
        UidRanges gone;
    };
    VanishedWalk vanished_;
    // RFC 5182: the search result variable (UIDs; empty after SELECT,
    // EXAMINE, CLOSE, UNSELECT), and the running command's "$" in its own
    // numbers (what a job's set views while it runs).
    SavedResult saved_result_;
    SavedResult dollar_;
    // RFC 5267 §4.3: updating search contexts (search_context.cpp).
    // Each lent by services_.context_pool while it is in use; nullptr: none.
    SearchContext* contexts_[kSearchContexts] = {};
    std::uint64_t context_work_ = 0;  // header bytes read by this walk step
    FixedText<32> vanished_all_;      // "1:<max uid>" when the client gave no UIDs
    // A Sync job's tagged line, sent once every change is reported.
    FixedText<kResponseLine> deferred_;
    // The message as the MIME parser reads it (core/mime), and the window
    // a HEADER.FIELDS filter keeps while its literal streams.
    struct MimeSource final : ByteSource {
        store::Mailbox* box = nullptr;
        const store::MessageInfo* message = nullptr;
        std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) override;
        std::uint64_t size() const override { return message->size; }
        bool failed = false;  // a read failed since the caller cleared it
    };
    // The command answering over several turns, if any: its context
    // (jobs.h), its kind and its wait for the store.
    JobSlot job_;
    MimeSource mime_source_;
    // The literal being streamed: a slice of the message or of the
    // HEADER.FIELDS filter's bytes (a partial's offset and length).
    SliceSource literal_slice_;
    HeaderFieldsFilter* fields_filter_ = nullptr;
    alignas(8) unsigned char fields_filter_space_[sizeof(HeaderFieldsFilter)];
    char fields_window_[mime::kMinScratch];
    LiteralStreamer streamer_;
    // The ENVELOPE, BODY or BODYSTRUCTURE answer being written (in pieces,
    // write_structure): from the cache, or by the walker and into the cache.
    struct StructureJob {
        bool open = false;        // the item's name is out, its value is not done
        bool from_cache = false;  // copying a cached answer
        std::uint64_t sent = 0;   // value bytes in the output so far
        FetchCache::PendingPut put;
    };
    StructureJob structure_job_;
    // The BODY[section] being looked up (find_section_step), over as many
    // turns of the loop as the message's structure needs.
    struct SectionJob {
        bool open = false;   // a lookup is under way
        bool found = false;  // the result, once !open
        SectionRange range;
        std::uint64_t part_end = 0;  // found: the end of the part named
    };
    SectionJob section_job_;

    // ---- MOVE, CONDSTORE FETCH/STORE, BINARY ----
    // (cmd_copy.cpp, cmd_store.cpp, cmd_fetch.cpp, cmd_binary.cpp)
    void finish_move(const SetWalk& walk, std::string_view copyuid, std::uint32_t lowest_uid,
                     std::uint32_t highest_uid);
    bool fetch_has_flags();
    bool write_store_answer();
    // RFC 3516 BINARY: where a section's bytes lie and how they are encoded,
    // and a ByteSource of its decoded bytes (reading the message through
    // fields_window_, which a BINARY item never needs for anything else).
    enum class BinaryLookup : std::uint8_t { Found, Missing, NotLeaf, UnknownCte };
    struct BinaryRange {
        std::uint64_t begin = 0, end = 0;
        std::uint64_t raw = 0;  // leading bytes sent as they are (BINARY[]: the header)
        mime::TransferEncoding encoding = mime::TransferEncoding::Identity;
    };
    struct BinarySource final : ByteSource {
        store::Mailbox* box = nullptr;
        const store::MessageInfo* message = nullptr;
        char* window = nullptr;
        std::size_t window_size = 0;
        BinaryRange range;
        mime::TransferDecoder decoder;
        std::uint64_t in_pos = 0, win_base = 0;
        std::size_t win_len = 0, win_off = 0;
        std::uint64_t produced = 0;  // decoded bytes so far
        std::uint64_t skip = 0;      // decoded offset of the literal's first byte
        bool ended = false, failed = false;
        void start(const BinaryRange& r);
        void rewind();
        std::size_t next(char* out, std::size_t capacity);
        std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) override;
        std::uint64_t decoded_size = 0;  // measured by measure_binary
        std::uint64_t size() const override { return decoded_size - skip; }
        bool measuring = false;  // measure_binary is under way (across calls)
        bool nul = false;        // it found a NUL in the partial's bytes
    };
    BinaryLookup find_binary(const FetchItem& item, BinaryRange* out);
    bool measure_binary(std::uint64_t from, std::uint64_t count);
    void write_binary(const FetchItem& item, FixedText<512>& w);
    BinarySource binary_source_;

    // ---- search extensions (decoding, ESEARCH, MODSEQ) ----
    // (cmd_search.cpp) Header and body keys compare decoded text
    // (core/mime/text_search.h); ESEARCH (RFC 4731) and MODSEQ (RFC 7162
    // §3.1.5) results are gathered while the SEARCH job runs.
    bool prepare_needle(std::string_view needle);
    struct NeedleBuffers {
        char* prepared;
        std::uint16_t* table;
    };
    NeedleBuffers needle_buffers();
    bool header_contains(std::string_view name, std::string_view needle);
    bool block_contains(const mime::HeaderBlock& block, std::string_view name);
    char* search_window(std::size_t* size);
    void search_found(std::uint32_t number);
    void finish_search();
    void finish_save();
    void search_completed();
    void esearch_spill();
    void esearch_range(std::uint32_t lo, std::uint32_t hi, bool first);
    mime::TextMatcher matcher_;
#ifdef TINYIMAPD_CHECK_FRAMING
    // Sanitizer and fuzz builds: every byte handed to the loop is checked
    // (core/imap/framing.h); a malformed response traps at once.
    FramingCheck framing_;
#endif
};

// The longest flag list write_flag_list() writes: every system flag,
// \\Recent, every keyword the store can hold (kMaxKeywords, in the index
// format) at its longest, and PERMANENTFLAGS' "\\*" (RFC 3501 §7.2.6 FLAGS,
// §7.1 PERMANENTFLAGS, §7.4.2 FETCH FLAGS). About 3.9 KB.
// The keyword rule the protocol checks is the one the store's records hold.
static_assert(mail::kMaxKeywordLength == store::kMaxKeywordLength);
inline constexpr std::size_t kMaxFlagList =
    sizeof "(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\Recent \\*)" - 1 +
    store::kMaxKeywords * (1 + store::kMaxKeywordLength);
// What a line may hold around its flag list: "* 4294967295 FETCH (UID
// 4294967295 FLAGS " ... " MODSEQ (18446744073709551615))" CRLF, or "* OK
// [PERMANENTFLAGS " ... "] " and a short text CRLF.
inline constexpr std::size_t kFlagLineExtra = 128;
static_assert(sizeof "* 4294967295 FETCH (UID 4294967295 FLAGS " +
                  sizeof " MODSEQ (18446744073709551615))\r\n" <=
              kFlagLineExtra);
static_assert(sizeof "* OK [PERMANENTFLAGS " + sizeof "] No more keywords in this mailbox\r\n" <=
              kFlagLineExtra);
// A buffer for one line that carries a flag list: sized for the worst case,
// so writing a flag list into it cannot overflow (write_flag_list takes
// nothing smaller).
using FlagLine = FixedText<kMaxFlagList + kFlagLineExtra>;

// A message's flag list "(\\Seen $Junk ...)" (RFC 3501 §7.4.2 FLAGS), with the
// mailbox's keyword names; `tail` ends it inside the parentheses
// (PERMANENTFLAGS' "\\*"). What `w` held before must leave kFlagLineExtra
// free, minus what follows the list. In sync.cpp.
void write_flag_list(FlagLine& w, std::uint8_t flags, std::uint64_t keywords,
                     const store::Mailbox& box, std::string_view tail = {});

// Room the output buffer must have before another command is read: enough
// for any response the implemented commands produce in one piece, and the
// room kept free behind a report line for the lines that follow it
// (EXISTS/RECENT, the tagged response). Lines longer than this (a flag list
// with many keywords) are written only when the buffer has room for them
// and this reserve; until then the command waits as a job.
// A command's untagged lines are at most kMaxUntaggedLine each (1 KiB
// buffers in cmd_select.cpp, cmd_mailbox.cpp and cmd_ext.cpp; longer ones are jobs or
// announcements); one of them, a few short ones and its tagged line fit.
inline constexpr std::size_t kMaxUntaggedLine = 1024;
// A mailbox name as a UTF8=ACCEPT session reads it (Session::wire_name): the
// UTF-8 of the longest stored name (modified UTF-7 is never less than 8/9
// of its UTF-8's length).
inline constexpr std::size_t kWireName = 2 * mail::kMaxMailboxName;
inline constexpr std::size_t kResponseReserve = 2048;
static_assert(kMaxUntaggedLine + kResponseLine + 64 <= kResponseReserve);

// Largest decoded AUTHENTICATE PLAIN response (authzid, user, password).
inline constexpr std::size_t kMaxSaslResponse = 1024;

}  // namespace tinyimapd::session
