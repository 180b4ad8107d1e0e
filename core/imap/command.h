// The command table and the syntax of every command's arguments.
//
// After the parser (core/imap/parser.h) has split a command into arguments,
// parse_command() finds the command by name and checks its arguments against
// its production in RFC 3501 §9 and in the extensions we speak (RFC 2177
// IDLE, 2342 NAMESPACE, 2971 ID, 3502 MULTIAPPEND, 3691 UNSELECT, 4315
// UIDPLUS, 4466, 4731 ESEARCH, 4959 SASL-IR, 5161 ENABLE, 5258
// LIST-EXTENDED, 5819 LIST-STATUS, 6154 SPECIAL-USE, 6851 MOVE, 7162
// CONDSTORE/QRESYNC, 8438 STATUS=SIZE, 9208 QUOTA, 5464 METADATA), filling a ParsedCommand
// with typed views. A command whose syntax is wrong never reaches a handler:
// the caller answers BAD with the reason given here.
//
// Ownership: ParsedCommand holds views into the parser's arena and arrays
// the caller reserves at startup (fetch items, search nodes); it is valid
// until the parser is fed again. No allocation.
//
// APPEND (and REPLACE, RFC 8508) is special: its message literals stream to storage while the
// command is still arriving, so its arguments are checked piece by piece
// (append_message_ready) before each literal is taken, and the whole at the
// end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/imap/args.h"
#include "core/imap/datetime.h"
#include "core/imap/fetch_spec.h"
#include "core/imap/flag_list.h"
#include "core/imap/metadata_spec.h"
#include "core/imap/search_program.h"
#include "core/imap/seqset.h"
#include "core/imap/sort_spec.h"
#include "core/imap/status_spec.h"
#include "core/imap/store_spec.h"
#include "core/mail/mailbox_name.h"

namespace tinyimapd::imap {

enum class CommandId : std::uint8_t {
    // any state (RFC 3501 §6.1; RFC 2971 ID)
    Capability,
    Noop,
    Logout,
    Id,
    // not authenticated (§6.2)
    Starttls,
    Authenticate,
    Login,
    // authenticated (§6.3; RFC 2342, 5161, 9208)
    Select,
    Examine,
    Create,
    Delete,
    Rename,
    Subscribe,
    Unsubscribe,
    List,
    Lsub,
    Status,
    Append,
    Namespace,
    Enable,
    Idle,
    GetQuota,
    GetQuotaRoot,
    SetQuota,
    Find,  // RFC 2062 §6.3.OBS.1-2, obsolete
    // selected (§6.4; RFC 3691, 6851, 4315)
    Check,
    Close,
    Unselect,
    Expunge,
    Search,
    Fetch,
    Store,
    Copy,
    Move,
    Unauthenticate,  // RFC 8437
    Sort,            // RFC 5256, selected state
    Thread,
    Replace,       // RFC 8508 (selected state)
    Compress,      // RFC 4978 (authenticated or selected)
    Notify,        // RFC 5465 (authenticated or selected)
    CancelUpdate,  // RFC 5267 §4.3.5 (selected state)
    GetMetadata,   // RFC 5464 §4.2 (authenticated or selected)
    SetMetadata,   // RFC 5464 §4.3
    SetAcl,        // RFC 4314 §3.1-§3.5 (authenticated or selected)
    DeleteAcl,
    GetAcl,
    ListRights,
    MyRights,
};
inline constexpr std::size_t kCommandCount = static_cast<std::size_t>(CommandId::MyRights) + 1;

// States in which a command is valid (RFC 3501 §3).
enum CommandStates : std::uint8_t {
    kStateNotAuth = 1,
    kStateAuth = 2,
    kStateSelected = 4,
    kStateAny = kStateNotAuth | kStateAuth | kStateSelected,
    kStateAuthOrSelected = kStateAuth | kStateSelected,
};

struct SyntaxResult;
struct CommandScratch;
struct ParsedCommand;
// A command's grammar: reads its arguments (after the name, and after "UID"
// for the UID forms; out->uid says which) into `out`.
using ParseArgs = SyntaxResult (*)(ArgReader& r, const CommandScratch& scratch, ParsedCommand* out);

// One row of the command table (command.cpp): the name, where it is valid,
// and its grammar. The session's table (core/session) maps the id to the
// handler.
struct CommandInfo {
    const char* name;
    CommandId id;
    std::uint8_t states;
    bool uid_form;  // may follow "UID" (COPY FETCH MOVE SEARCH STORE EXPUNGE)
    ParseArgs parse;
};

// The command called `name` (case-insensitive), or nullptr.
const CommandInfo* find_command(std::string_view name);
const CommandInfo& command_info(CommandId id);

// RFC 7162 §3.2.5 select-param QRESYNC.
struct QresyncParams {
    std::uint32_t uidvalidity = 0;
    std::uint64_t modseq = 0;
    SeqSet known_uids;          // empty() if not given
    SeqSet known_sequence_set;  // seq-match-data, empty() if not given
    SeqSet known_uid_set;
};

// RFC 5258 list-select-opts and list-return-opts, RFC 6154, RFC 5819.
enum ListOption : std::uint16_t {
    kListSubscribed = 1,      // selection: SUBSCRIBED
    kListRemote = 2,          // selection: REMOTE
    kListRecursiveMatch = 4,  // selection: RECURSIVEMATCH
    kListSpecialUseSel = 8,   // selection: SPECIAL-USE
    kListReturnSubscribed = 16,
    kListReturnChildren = 32,
    kListReturnSpecialUse = 64,
    kListReturnStatus = 128,
};

// RFC 3502 §6.3.11: one message of an APPEND.
struct AppendMessage {
    FlagList flags;
    bool has_flags = false;
    bool has_date = false;
    DateTime date;
    std::uint32_t size = 0;
    bool utf8 = false;  // RFC 6855 §4: given as UTF8 (~{n})
};

// What precedes the messages of an APPEND or a [UID] REPLACE (RFC 8508 §3.2,
// §3.3): the mailbox, and REPLACE's message (a number or UID, or "*").
struct AppendTarget {
    std::string_view mailbox;
    bool replace = false;
    bool uid = false;
    bool star = false;         // "*": the last message (RFC 3501 §9 seq-number)
    std::uint32_t number = 0;  // not star: the message number or UID
};

// RFC 5465 §3.1, §8: NOTIFY NONE, or NOTIFY SET [STATUS] event-groups.
// Events as bits; an event this server does not offer (AnnotationChange,
// an unknown atom) sets `bad_event` (NO [BADEVENT],
// §3.1), checked by the session after the BAD rules of §5 and §6.1 that
// this grammar applies.
enum NotifyEvent : std::uint8_t {
    kNotifyMessageNew = 1,
    kNotifyMessageExpunge = 2,
    kNotifyFlagChange = 4,
    kNotifyMailboxName = 8,
    kNotifySubscriptionChange = 16,
    kNotifyMailboxMetadataChange = 32,  // §5.6 (RFC 5464 §4.4.2)
    kNotifyServerMetadataChange = 64,   // §5.7
};
inline constexpr std::uint8_t kNotifyMessageEvents =
    kNotifyMessageNew | kNotifyMessageExpunge | kNotifyFlagChange;
enum class NotifyFilter : std::uint8_t {
    Selected,
    SelectedDelayed,
    Personal,
    Inboxes,
    Subscribed,
    Subtree,
    Mailboxes,
};
struct NotifyGroup {
    NotifyFilter filter = NotifyFilter::Personal;
    std::uint8_t events = 0;  // NotifyEvent bits; 0 for NONE
    ArgReader names;          // Subtree/Mailboxes: the astrings (a list's inside, or one)
    std::size_t name_count = 0;
};
struct NotifySpec {
    static constexpr std::size_t kMaxGroups = 8;
    bool none = false;    // NOTIFY NONE
    bool status = false;  // SET STATUS
    NotifyGroup groups[kMaxGroups];
    std::size_t group_count = 0;
    // MessageNew's fetch-att list (in CommandScratch::fetch_items), as parsed
    // and as the texts the client sent (the session keeps copies).
    ArgReader fetch_atts;
    std::size_t fetch_count = 0;
    std::size_t fetch_group = 0;  // the group whose MessageNew carried them
    bool bad_event = false;
};

// What an AUTHENTICATE, ID, ENABLE or SETQUOTA carries: its arguments, for
// the handler to walk with ArgReader (the syntax is checked here).
struct ParsedCommand {
    const CommandInfo* info = nullptr;
    CommandId id = CommandId::Noop;
    bool uid = false;  // the UID form (RFC 3501 §6.4.8)

    // Mailboxes: SELECT EXAMINE CREATE DELETE RENAME(from) SUBSCRIBE
    // UNSUBSCRIBE STATUS APPEND COPY/MOVE(to) GETQUOTAROOT; LIST/LSUB reference.
    std::string_view mailbox;
    std::string_view mailbox2;  // RENAME to
    // LIST/LSUB patterns (one for LSUB; one or more for LIST-EXTENDED).
    ArgReader patterns;
    std::size_t pattern_count = 0;
    std::uint16_t list_options = 0;  // ListOption bits
    StatusAtts list_status;          // LIST ... RETURN (STATUS (...))

    // LOGIN / AUTHENTICATE
    std::string_view user, password;    // LOGIN
    std::string_view mechanism;         // AUTHENTICATE; COMPRESS's algorithm
    bool has_initial_response = false;  // RFC 4959 SASL-IR
    std::string_view initial_response;  // base64, or "" for "="

    // SELECT / EXAMINE parameters (RFC 7162)
    bool condstore = false;
    bool qresync = false;
    QresyncParams qresync_params;

    std::uint8_t create_use = 0;      // CREATE ... (USE (...)) special-use bits
    bool create_use_unknown = false;  // an attribute outside RFC 6154's list

    StatusAtts status;  // STATUS

    SeqSet set;            // FETCH STORE COPY MOVE, UID EXPUNGE
    FetchSpec fetch;       // FETCH
    StoreSpec store;       // STORE (flags below)
    FlagList flags;        // STORE
    SearchOptions search;  // SEARCH, SORT, THREAD
    std::size_t search_node_count = 0;
    SortProgram sort;                                          // SORT (RFC 5256)
    ThreadAlgorithm thread = ThreadAlgorithm::OrderedSubject;  // THREAD

    ArgReader rest;  // ID's list, ENABLE's capabilities, SETQUOTA's list, quota root
    std::string_view quota_root;

    // APPEND: the messages seen so far (MULTIAPPEND, RFC 3502).
    std::size_t append_count = 0;
    AppendTarget replace;  // REPLACE: the message replaced (RFC 8508)

    NotifySpec notify;  // NOTIFY (RFC 5465)
    // GETMETADATA / SETMETADATA (RFC 5464); `mailbox` "" names the server.
    MetadataSpec metadata;

    // SETACL DELETEACL LISTRIGHTS: the identifier; SETACL: the rights with
    // their "+"/"-" (RFC 4314 §3.1, §9).
    std::string_view acl_identifier, acl_rights;

    explicit ParsedCommand(const ArgReader& r) : patterns(r), store(r), rest(r) {}
};

// The arrays a ParsedCommand's FETCH and SEARCH results go into, and the
// limits on them; reserved per connection at startup.
struct CommandScratch {
    FetchItem* fetch_items;
    std::size_t max_fetch_items;
    SearchNode* search_nodes;
    std::size_t max_search_nodes;
    std::size_t max_set_ranges;
};

enum class SyntaxVerdict : std::uint8_t {
    Ok,
    Unknown,     // no such command
    Bad,         // tagged BAD, `why`
    BadCharset,  // SEARCH: NO [BADCHARSET (US-ASCII UTF-8)]
    No,          // well-formed but refused before running: NO [CANNOT] (a bad name)
};

struct SyntaxResult {
    SyntaxVerdict verdict = SyntaxVerdict::Ok;
    const char* why = "";      // static English text
    std::string_view culprit;  // the argument it is about, if any
};

// Checks the current command of `parser` and fills `out`.
SyntaxResult parse_command(const Parser& parser, const CommandScratch& scratch, ParsedCommand* out);

// APPEND or [UID] REPLACE, when a message literal is announced: are the
// arguments so far well formed (REPLACE's message, the mailbox, then per
// message [flag-list] [date-time] literal; REPLACE takes one message)?
// Fills `message` for the literal being announced, the last argument, and
// `target` (if given) with what precedes the messages.
SyntaxResult append_message_ready(const Parser& parser, AppendMessage* message,
                                  AppendTarget* target = nullptr);

// The command whose literal the parser announces: APPEND, REPLACE or UID
// REPLACE (*uid set) are the ones that stream it; nullptr for an unknown name.
const CommandInfo* literal_command(const Parser& parser, bool* uid);

}  // namespace tinyimapd::imap
