// Mailbox: one open mailbox (m.data + m.index) shared by every session that
// selected it, plus View, the per-session seq<->uid snapshot.
//
// What it does: recovery on open (docs/STORAGE.md "Recovery"), streamed
// APPEND, COPY, STORE (flags/keywords with a modseq), EXPUNGE with deferred
// compaction, STATUS counts, \Recent handed to exactly one session, change
// notification between sessions (in-process: views and a ring of flag
// changes; other processes: the index's state generation).
//
// What it owns: two file handles, the committed State, the keyword names, a
// small direct-mapped cache of records, the list of expunged-but-not-yet-
// compacted records ("gone" list, which gives every view its own seq
// numbering) and a ring of recent flag changes. All of it comes from the
// Registry's pool (fixed at startup); nothing here grows with the mailbox:
// records are read from the index with pread when needed.
//
// Invariants: records are in UID order and in m.data order; the committed
// State is the only commit point (a write that a committed State does not
// cover never took effect); every mutation holds the mailbox lock (the fs
// lock on m.data) from its first write to its last fsync, and never waits
// for it (Busy: retry later; write_turn() queues a caller behind a writer of
// this process and wakes it). Single-threaded: callers are the event loop.
//
// RFC 3501 §2.3.1.1 (UID, UIDVALIDITY), §2.3.2 (\Recent in one session),
// §6.4.3 EXPUNGE, §6.4.6 STORE, §6.4.7 COPY, §6.3.11 APPEND; RFC 7162 §3.1
// (MODSEQ, HIGHESTMODSEQ).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/fixed_string.h"
#include "core/base/status.h"
#include "core/store/format.h"
#include "port/clock.h"
#include "port/entropy.h"
#include "port/fs.h"

namespace tinyimapd::store {

class Mailbox;

// Tunables of the store, all memory reserved at startup (Registry).
struct StoreLimits {
    std::size_t max_open_mailboxes = 16;
    std::size_t cache_records = 64;           // per open mailbox, kRecordSize+8 bytes each
    std::size_t max_pending_expunges = 1024;  // per open mailbox, 16 bytes each
    std::size_t change_ring = 128;            // per open mailbox, 16 bytes each
    std::size_t scratch_bytes = 16384;        // one buffer shared by all (single-threaded)
    // Compaction runs when expunged bytes reach both of these.
    std::uint64_t compact_min_waste = 64 * 1024;
    unsigned compact_waste_percent = 25;
    // Bytes a compaction copies per turn of the loop (Registry::background_step);
    // a turn that syncs copies nothing.
    std::uint64_t compact_step_bytes = 1024 * 1024;
    // The server loop drives group commits (Registry::commit_groups): the
    // commits no client waits for (\Recent claims when a session leaves, an
    // expunged tail cut off) are left to it, their flushes on the I/O
    // threads. Off (tools, tests of the store alone): they flush in place.
    bool loop_commits = false;
};

// File names inside a mailbox directory. They contain '.', which the name
// mapping (name_map.h) never produces, so they never collide with children.
inline constexpr std::string_view kDataFile = "m.data";
inline constexpr std::string_view kIndexFile = "m.index";
inline constexpr std::string_view kDataNew = "m.data.new";
inline constexpr std::string_view kIndexNew = "m.index.new";

using Path = FixedString<port::kMaxPath>;

// What a message looks like to the protocol layer.
struct MessageInfo {
    std::uint32_t uid = 0;
    std::uint32_t size = 0;      // RFC822.SIZE: bytes exactly as appended
    std::uint8_t flags = 0;      // mail::SystemFlag bits, kRecent added per view
    std::uint64_t keywords = 0;  // bit i = Mailbox::keyword_name(i)
    std::int64_t internal_date = 0;
    std::int16_t zone_minutes = 0;
    std::uint64_t modseq = 0;
    bool expunged = false;          // expunged by another session, not yet reported to this one
    std::uint64_t data_offset = 0;  // of the message bytes in m.data (internal)
    std::uint64_t file_id = 0;      // m.data it refers to (read() follows a compaction)
    std::uint32_t relocations = 0;  // State::relocations then (read() follows a slide)
    std::int64_t save_date = kNoSaveDate;  // RFC 8514 (kNoSaveDate: NIL)
    std::uint64_t email_id = 0;            // RFC 8474 §5.1 EMAILID
};

// A session's snapshot (SELECT/EXAMINE). Placed by the caller (one per
// session, 80 bytes on 64-bit); attach() links it into the mailbox. Its sequence
// numbers change only through Mailbox::sync(), so responses the session has
// not yet sent never refer to moved numbers (RFC 3501 §7.4.1).
struct View {
    static constexpr std::size_t kRecentRanges = 4;
    Mailbox* mailbox = nullptr;
    bool read_only = false;
    bool invalidated = false;          // another process compacted: the session must end (BYE)
    bool deleted = false;              // DELETE removed the mailbox (set with invalidated)
    std::uint32_t positions = 0;       // index records this view knows of
    std::uint32_t exists = 0;          // messages in the view (EXISTS)
    std::uint64_t expunge_modseq = 0;  // expunges up to this modseq are applied
    std::uint64_t flags_modseq = 0;    // flag changes up to this modseq were reported
    // A sync that ran out of room (SyncVisitor said no): the expunges with
    // modseq in (expunge_modseq, partial_modseq] at positions >= partial_position
    // are applied too (they are reported highest position first); the flag
    // changes of modseq flags_group_modseq, first flags_group_done of them in
    // the ring, were reported.
    std::uint64_t partial_modseq = 0;
    std::uint32_t partial_position = 0;
    std::uint32_t flags_group_done = 0;
    std::uint64_t flags_group_modseq = 0;
    // Flag changes this view's own session made and already answered (their
    // modseqs): sync() does not report them again. A full list forgets the
    // oldest (then reported twice: harmless).
    static constexpr std::size_t kOwnChanges = 4;
    std::uint64_t own_modseq[kOwnChanges] = {};
    std::uint8_t own_count = 0;
    std::uint32_t recent_lo[kRecentRanges] = {};  // \Recent UIDs claimed: [lo, hi)
    std::uint32_t recent_hi[kRecentRanges] = {};
    View* next = nullptr;
};

// Receives what changed since a view's last sync, in the order the protocol
// layer must report it (RFC 3501 §7.4.1 EXPUNGE first, then EXISTS/RECENT).
class SyncVisitor {
public:
    // Sequence numbers as the client knows them right before this response:
    // given in descending order, so each stays valid after the previous one.
    // False: no room to report it now; the sync stops there, the view keeps
    // what was reported, and the next sync() goes on from there.
    virtual bool expunged(std::uint32_t seq, std::uint32_t uid) = 0;
    // Only once every expunge and flag change has been reported.
    virtual void exists(std::uint32_t count, std::uint32_t recent) = 0;
    // A message whose flags changed (FETCH (FLAGS ...) unsolicited); false
    // as for expunged().
    virtual bool flags_changed(std::uint32_t seq, std::uint32_t uid) = 0;
    // Too many changes to list one by one: every message whose modseq is
    // above `since` may have changed (the session reports them by a scan).
    virtual void flags_unknown(std::uint64_t since) = 0;

protected:
    ~SyncVisitor() = default;
};

enum class FlagOp : std::uint8_t { Add, Remove, Replace };

struct StatusInfo {
    std::uint32_t messages = 0;
    std::uint32_t recent = 0;
    std::uint32_t uid_next = 0;
    std::uint32_t uid_validity = 0;
    std::uint32_t unseen = 0;
    std::uint64_t highest_modseq = 0;
    std::uint64_t size = 0;        // RFC 8438 STATUS=SIZE
    std::uint64_t mailbox_id = 0;  // RFC 8474 §4.3 MAILBOXID
};

// Streamed APPEND state, placed by the caller (one per session).
struct Appender {
    Mailbox* mailbox = nullptr;
    std::uint32_t uid = 0;
    std::uint32_t size = 0;
    std::uint32_t written = 0;
    std::uint32_t crc = 0;
    std::uint64_t frame_offset = 0;
    std::uint8_t flags = 0;
    std::uint64_t keywords = 0;
    std::int64_t internal_date = 0;
    std::int16_t zone_minutes = 0;
    // MULTIAPPEND (RFC 3502): with `batch` set, commit_append() only closes
    // the message's frame and keeps its record here; commit_batch() makes
    // every message of the command durable with one commit (all or none).
    // Set by the caller before the first begin_append; kept across messages.
    Record* batch = nullptr;
    std::size_t batch_capacity = 0;
    std::size_t batch_count = 0;
    std::uint64_t batch_end = 0;  // where the next message's frame goes
    // commit_batch() hands its flushes to the caller (Mailbox "durability
    // barriers"); set by the caller before it.
    bool async_flush = false;
};

// A message being copied by Mailbox::copy_step, between steps.
struct CopyCursor {
    bool active = false;
    std::uint32_t crc = 0;
    std::uint64_t done = 0;  // message bytes copied so far
    MessageInfo source;
    Record record;  // the copy's record (dest's UID and offset)
    // RFC 4314 §4: the flags the copier may set in dest (others are dropped).
    std::uint8_t keep_flags = 0xFF;
    bool keep_keywords = true;
    // Per-user \Seen (hidden_keyword): hidden names are never copied. With
    // `seen_from_bits`, the copy's \Seen is whether the source has one of
    // them (the copier's own), not the source's \Seen flag; a non-empty
    // `seen_dest` names the hidden keyword of dest that takes the copy's
    // \Seen instead of the flag (the copier is not dest's owner).
    bool seen_from_bits = false;
    std::uint64_t seen_bits = 0;
    std::string_view seen_dest;
};

// A keyword name no client can give ('%' is not an ATOM-CHAR, RFC 3501 §9):
// the server's own, never shown (per-user \Seen: "%seen/<user>").
inline bool hidden_keyword(std::string_view name) {
    return !name.empty() && name[0] == '%';
}

// One writer waiting for a mailbox's write turn (Mailbox::write_turn), placed
// by the caller (a session's APPEND, later any job that writes). Queued FIFO
// on the mailbox; `woken` is set when the in-process holder lets go.
struct TurnWaiter {
    Mailbox* mailbox = nullptr;  // the mailbox it is queued on, or nullptr
    bool woken = false;          // the holder released: ask write_turn() again
    // A STORE (or FETCH's \Seen): it may join the group commit that is
    // open (Mailbox::begin_store), so it need not wait for its holder.
    bool joins = false;
    TurnWaiter* next = nullptr;
};

// A STORE transaction waiting for its group's commit (Mailbox::commit_store
// with a waiter; docs/STORAGE.md "Group commit"), placed by the caller (one
// per session). `done` and `status` are set when the group's last flush has
// finished (or the group failed); the waiter is then off the mailbox.
struct CommitWaiter {
    Mailbox* mailbox = nullptr;  // the mailbox it waits on, or nullptr
    bool done = false;
    Status status = Status::Ok;
    std::uint64_t modseq = 0;  // its own changes' modseq (0: it changed nothing)
    CommitWaiter* next = nullptr;
};

struct Services {
    port::Fs& fs;
    port::Clock& clock;
    port::Entropy& entropy;
    const StoreLimits& limits;
    std::uint8_t* scratch;  // limits.scratch_bytes
};

class Mailbox {
public:
    // ---- lifetime (Registry) ----------------------------------------------
    // Binds the pool memory; the mailbox is closed.
    void init(Services* services, void* cache_memory, void* gone_memory, void* ring_memory);
    static std::size_t cache_bytes(const StoreLimits& l);
    static std::size_t gone_bytes(const StoreLimits& l);
    static std::size_t ring_bytes(const StoreLimits& l);
    // Opens and recovers the mailbox in directory `dir`. NotFound when it has
    // no m.data (a \Noselect directory); Busy when another process holds the
    // lock (retry later).
    Status open(std::string_view dir);
    void close();
    bool is_open() const { return data_ != port::kNoFile; }
    std::string_view dir() const { return dir_.view(); }
    // The file system it lives on (derived files next to it: sort_cache.h).
    port::Fs& fs() const { return s_->fs; }
    int refs = 0;  // Registry's bookkeeping

    // Writes a new, empty mailbox's files into `dir` (which exists and is
    // empty) and makes them durable. The directory entry of `dir` itself is
    // the caller's to sync.
    // *mailbox_id (if given): the new mailbox's MAILBOXID (RFC 8474 §4.1).
    static Status create_files(Services& s, std::string_view dir, std::uint32_t uid_validity,
                               std::uint32_t uid_next, std::uint64_t highest_modseq,
                               std::uint64_t* mailbox_id = nullptr);

    // The bytes of a fresh, empty pair of files: m.index's first state slot
    // (kStateSlotSize bytes to `index_bytes`) and m.data's header
    // (kDataHeaderSize to `data_bytes`); as write_empty writes them.
    static void encode_empty(Services& s, std::uint32_t uid_validity, std::uint32_t uid_next,
                             std::uint64_t highest_modseq, std::uint64_t mailbox_id,
                             std::uint8_t* index_bytes, std::uint8_t* data_bytes,
                             std::uint64_t* made = nullptr);
    // A fresh, empty pair of files (m.data under `data_name`, m.index under
    // `index_name`), each written and fsynced; no directory sync.
    // `mailbox_id` 0: a new one (written to *mailbox_id if given).
    static Status write_empty(Services& s, std::string_view dir, std::string_view data_name,
                              std::string_view index_name, std::uint32_t uid_validity,
                              std::uint32_t uid_next, std::uint64_t highest_modseq,
                              std::uint64_t mailbox_id = 0, std::uint64_t* made = nullptr);
    // Gives the index at `index_path` (a copy of another mailbox's, not open)
    // a new mailbox id in its state slots, and drops its redo records (the
    // copy holds their writes already): RENAME INBOX's copy is a new mailbox
    // (RFC 8474 §4, RFC 3501 §6.3.5). The caller fsyncs nothing: this does.
    static Status reissue_mailbox_id(Services& s, std::string_view index_path);
    // The same on an open file (the copy being made), without its fsync.
    static Status reissue_mailbox_id(Services& s, port::File index);
    // Holds the mailbox lock across a multi-step tree operation (RENAME
    // INBOX, over many turns of the loop); Busy if another process has it.
    // Take the write turn first (write_turn): while held, the mailbox is
    // the holder's alone — lock() says Busy to everyone else of this
    // process too (a \Recent claim, a trim, a keyword, a COPY into it),
    // and write_turn() queues them until release_hold().
    Status hold();
    void release_hold();

    // ---- write turns (docs/STORAGE.md "Concurrency: who waits for whom") ----
    // Every change (APPEND, COPY into, STORE, EXPUNGE, compaction) needs the
    // mailbox to itself. Ready: no writer of this process holds it and no
    // earlier waiter is queued: begin the change now, in this turn of the loop
    // (its begin_* may still say Busy when another process holds the fs lock:
    // retry that on a timer). Queued: `w` waits in line; w.woken becomes true
    // when the holder lets go (Server then runs the waiter's job at once: no
    // polling); call write_turn() again then. A waiter that gives up calls
    // leave_turn_queue() (it passes a wake-up on to the next in line).
    enum class Turn : std::uint8_t { Ready, Queued };
    Turn write_turn(TurnWaiter& w);
    void leave_turn_queue(TurnWaiter& w);
    // Who holds the write turn now, for log lines ("APPEND", "transaction",
    // "tree operation"; "" when free in this process).
    std::string_view writer() const;

    // DELETE removed this mailbox's files while it is open: every view is
    // invalidated (deleted), every later lock()/commit fails with NotFound,
    // so nothing is acknowledged into a deleted mailbox.
    // `deleted` false: the files were replaced (RENAME INBOX), not deleted.
    void retire(bool deleted = true);
    bool retired() const { return retired_; }
    // Retired because its files were replaced (RENAME INBOX): the mailbox
    // goes on under the same name, opened again.
    bool replaced() const { return retired_ && replaced_; }
    // RENAME moved the directory (the open handles stay valid on POSIX):
    // later path-based work (compaction) uses the new directory.
    Status moved_to(std::string_view dir) {
        return dir_.assign(dir) ? Status::Ok : Status::TooLong;
    }

    // ---- durability barriers (docs/STORAGE.md "Flushes leave the loop") ----
    // A transaction begun with `async_flush` (begin_store, begin_copy,
    // Appender::async_flush) does not fsync in the caller's turn: where it
    // needs a file durable (the intent, the slots, the data, the state) the
    // call returns WouldBlock and flush_file() names the file; the caller
    // makes it durable (Fs::flush_start, or fsync()), reports the outcome
    // with flushed(), and calls the same function again with the same
    // arguments, which goes on from there. The mailbox stays locked
    // meanwhile, and nothing of the transaction is visible — to the
    // sessions of this process or to other processes — before its last
    // flush: the committed state changes only then.
    port::File flush_file() const { return barrier_; }
    bool awaiting_flush() const { return barrier_ != port::kNoFile && !barrier_done_; }
    void flushed(Status st) {
        if (barrier_ == port::kNoFile) return;
        barrier_done_ = true;
        barrier_status_ = st;
    }

    // ---- sessions ---------------------------------------------------------
    void attach(View& v, bool read_only);
    void detach(View& v);
    // Brings the view up to date: first looks for changes by other processes
    // (one pread of the index header), then reports expunges, new messages
    // and flag changes through `out`. Busy: another process holds the lock
    // while we needed to reload; the view is unchanged, retry later.
    // *complete is false when the visitor ran out of room: call again.
    Status sync(View& v, SyncVisitor& out, bool* complete = nullptr);
    // The view's session made (and answered) the flag changes of the last
    // commit: sync() leaves them out. With `modseq`: those of that modseq
    // (a member of a group commit: its own, not the group's last).
    void note_own_change(View& v) const;
    void note_own_change(View& v, std::uint64_t modseq) const;
    // Cheap: changes by sessions of this process bump it.
    std::uint64_t change_counter() const { return changes_; }
    // Cheap check for another process's changes (one 208-byte pread of the index header).
    bool changed_externally();

    // ---- reading ------------------------------------------------------------
    std::uint32_t uid_validity() const { return state_.uid_validity; }
    std::uint32_t uid_next() const { return state_.uid_next; }
    std::uint64_t highest_modseq() const { return state_.highest_modseq; }
    // RFC 8474 §4 MAILBOXID (never 0 once open).
    std::uint64_t mailbox_id() const { return state_.mailbox_id; }
    // Message `seq` (1-based) of the view; NotFound past the end.
    Status message(const View& v, std::uint32_t seq, MessageInfo* out);
    // The view's sequence number of `uid`, or 0 (binary search over the index).
    std::uint32_t seq_of_uid(const View& v, std::uint32_t uid);
    // Message bytes [offset, offset+capacity) by pread; *got < capacity only
    // at the end of the message. NotFound if the message was compacted away.
    Status read(const MessageInfo& m, std::uint64_t offset, void* out, std::size_t capacity,
                std::size_t* got);
    bool is_recent(const View& v, std::uint32_t uid) const;
    std::uint32_t recent_count(const View& v);
    // First unseen message's sequence number, 0 if none (scans the index).
    std::uint32_t first_unseen(const View& v);
    Status status(StatusInfo* out);
    // STATUS's counts of the mailbox in `dir` from its committed state
    // alone (one open, one 192-byte pread, one close; no lock, no recovery,
    // RECENT left 0): what NOTIFY's beat compares (RFC 5465 §5.2). NotFound
    // when `dir` holds no index (deleted, or a \Noselect directory).
    static Status peek_status(Services& s, std::string_view dir, StatusInfo* out);

    // Keywords: names as stored (case kept), compared case-insensitively.
    std::size_t keyword_count() const { return kw_count_; }
    std::string_view keyword_name(std::size_t bit) const;
    // Bit of `name`; with `create`, registers it durably under the lock
    // (committed at once, or by the open transaction). Busy: locked elsewhere.
    // TooLong for names over kMaxKeywordLength, Exhausted past kMaxKeywords.
    Status keyword_bit(std::string_view name, bool create, unsigned* bit);

    // ---- APPEND (streamed) -----------------------------------------------------
    // Takes the lock until commit/abort. Busy: someone else is appending.
    Status begin_append(Appender& a, std::uint32_t size, std::uint8_t flags, std::uint64_t keywords,
                        std::int64_t internal_date, std::int16_t zone_minutes);
    Status append_chunk(Appender& a, const void* bytes, std::size_t length);
    // Durable on Ok (data, fsync, index, fsync); *uid is the new UID.
    Status commit_append(Appender& a, std::uint32_t* uid);
    // Batch mode: all messages of the batch durable at once; *first_uid is the
    // first one's UID (the others follow it). Releases the lock.
    Status commit_batch(Appender& a, std::uint32_t* first_uid);
    // Drops the message in progress, or in batch mode the whole batch.
    void abort_append(Appender& a);

    // ---- STORE ------------------------------------------------------------
    // A batch of flag changes committed with one fsync and one modseq:
    // begin_store(); store() per message; commit_store(). All-or-nothing.
    // Up to kRedoMaxEntries messages commit with one flush of a redo record
    // (docs/STORAGE.md "The redo log"); more go the intent's way (3 flushes).
    //
    // Group commit (docs/STORAGE.md "Group commit"): a STORE begun with
    // `async_flush` while another one of this process is waiting for its
    // commit (commit_store with a waiter) and before that commit has begun
    // JOINS it: its changes go in the same redo record, with a modseq of
    // their own (one above the previous member's), and one flush commits
    // them all. Members change messages one after the other (the joiner
    // waits for write_turn while one is still changing); the Registry seals
    // and flushes the group once none is (commit_groups(), at the end of a
    // turn of the loop).
    Status begin_store(bool async_flush = false);
    // `unchanged_since` (RFC 7162 CONDSTORE; 0 = none): when the message's
    // modseq is higher, nothing changes and *skipped is set.
    Status store(const View& v, std::uint32_t seq, FlagOp op, std::uint8_t flags,
                 std::uint64_t keywords, std::uint64_t unchanged_since, MessageInfo* result,
                 bool* skipped);
    // Commits now (the caller makes the flushes: "durability barriers"),
    // together with any member that joined and is waiting.
    Status commit_store();
    // The member's changes are done: WouldBlock with `w` queued until its
    // group has committed (w.done, w.status; the Registry's flushes), or
    // the outcome at once when there is nothing to make durable. Called
    // again once w.done, it returns w.status.
    Status commit_store(CommitWaiter& w);
    // Gives up a STORE. A member still changing messages while others wait
    // for the group's commit takes only its own changes back; a member
    // waiting (`w` queued) just stops waiting: the group commits without
    // telling it. Otherwise the whole transaction is dropped.
    void abort_store(CommitWaiter* w = nullptr);
    // store() says Busy when the redo record is full while other members
    // wait: the caller gives its changes back (abort_store) and does its
    // STORE again after the group's commit, alone (it may spill then).

    // ---- group commit, driven by the Registry -------------------------------
    // A group is ready for its commit: members wait and none is changing.
    bool group_due() const {
        return in_txn_ && group_open_ && group_ready_ && !group_active_ && group_token_ == 0;
    }
    // A group's transaction is open (members changing, waiting, or its
    // flush under way): the mailbox must stay open until it ends.
    bool group_pending() const { return in_txn_ && group_open_; }
    // One step of the group's commit: WouldBlock when flush_file() must be
    // flushed (then flushed(), then again); else the group has ended and
    // its members were told (done, status).
    Status commit_group();
    // The Registry's token of the group's flush under way (0: none).
    std::uint64_t group_token() const { return group_token_; }
    void set_group_token(std::uint64_t token) { group_token_ = token; }

    // ---- COPY -------------------------------------------------------------
    // Copies messages of `v` into `dest` (another open mailbox): one commit,
    // all-or-nothing; keywords are mapped by name. begin_copy locks dest.
    Status begin_copy(Mailbox& dest, bool async_flush = false);
    Status copy(const View& v, std::uint32_t seq, Mailbox& dest, std::uint32_t* new_uid);
    // The same copy in steps, for a job that must yield (bounded work per
    // turn of the loop): each call copies at most about *budget message
    // bytes (at least one scratch buffer's worth) and takes what it copied
    // off *budget. *finished once the message is whole in dest (then
    // *new_uid is set); otherwise call again with the same cursor. The
    // cursor is the caller's (one per session); seq is read on the first
    // call only.
    Status copy_step(const View& v, std::uint32_t seq, Mailbox& dest, CopyCursor& c,
                     std::uint64_t* budget, bool* finished, std::uint32_t* new_uid);
    Status commit_copy(Mailbox& dest);
    void abort_copy(Mailbox& dest);

    // ---- EXPUNGE ------------------------------------------------------------
    // Expunges the view's \Deleted messages (with `uid_filter`, only those it
    // accepts: UID EXPUNGE). Their UIDs go to uids[] in ascending order
    // (*count; at most `capacity` — more are left for another call). Durable
    // on Ok. The view itself learns of them through sync(), like the others.
    class UidFilter {
    public:
        virtual bool accept(std::uint32_t uid) = 0;
        // True: expunge what accept() takes whether or not it is \Deleted
        // (MOVE, RFC 6851 §3.3: the \Deleted flag is never set).
        virtual bool ignores_deleted() const { return false; }

    protected:
        ~UidFilter() = default;
    };
    // Exhausted: the list of expunges other views have not seen yet is full
    // (*count may still be > 0): sync `v` and call again. `uids` may be
    // nullptr (only *count is wanted). With `from_uid`, the scan starts at
    // that UID and looks at kExpungeScan records at most; *from_uid is then
    // where the next call goes on, 0 once the view's messages are all seen
    // (a cursor that survives compaction, unlike a position).
    static constexpr std::uint32_t kExpungeScan = 8192;
    // With `async_flush` the flushes are the caller's ("durability
    // barriers"): WouldBlock, then call again with the same arguments (the
    // transaction stays open between the calls); abort_expunge() gives it up.
    Status expunge(const View& v, UidFilter* uid_filter, std::uint32_t* uids, std::size_t capacity,
                   std::size_t* count, std::uint32_t* from_uid = nullptr, bool async_flush = false);
    void abort_expunge();
    bool expunge_open() const { return expunge_.open; }
    // Starts a compaction if the waste is worth it and no view still shows
    // an expunged message (docs/STORAGE.md "Compaction"). Called by
    // sync()/detach(); public for tests/tools. It does not copy anything:
    // compact_step() does, one bounded piece per turn of the loop.
    Status maybe_compact(bool force = false);
    void make_gone_room(const View& keep);
    // A compaction under way. It holds the fs lock against other processes
    // until it commits or is abandoned, but not the mailbox against writers
    // of this process: they go between its steps (never waiting for it), and
    // it takes in what they did (docs/STORAGE.md "Compaction"). Readers go
    // on, on the old files.
    // The in-place slide (docs/STORAGE.md "Reclaiming from the middle in
    // place") counts as a compaction here: it is stepped the same way.
    bool compacting() const {
        return compact_.phase != CompactPhase::Idle || slide_.phase != SlidePhase::Idle;
    }
    bool sliding() const { return slide_.phase != SlidePhase::Idle; }
    // A step can run now: no writer of this process is in the middle of a
    // change (a compaction waits for those, one turn at a time).
    // Nor while a flush it asked for is wanted or under way.
    bool compaction_runnable() const {
        return compacting() && lock_depth_ == 0 && !in_txn_ && !appending_ &&
               compact_.flush != CompactFlush::Wanted && compact_.flush != CompactFlush::Running;
    }
    // One piece of the compaction, when runnable (else nothing): copies about
    // *budget bytes (taken off *budget; at least one scratch buffer's worth),
    // or does one fsync / directory sync (then *budget becomes 0), or
    // commits. An error abandons the compaction (its files are removed); the
    // mailbox is as before. `async` (the server loop, docs/STORAGE.md
    // "Compaction"): the flushes of m.data.new and m.index.new and the
    // directory sync before the renames are asked for instead of done
    // (compact_flush_wanted(); the caller starts them on an I/O thread and
    // reports compact_flushed()), and the step goes on once they are done.
    Status compact_step(std::uint64_t* budget, bool async = false);
    // The flush the compaction waits for: a file (compact_flush_file()) or,
    // when compact_flush_dir(), the mailbox's directory (compact_dir()).
    bool compact_flush_wanted() const { return compact_.flush == CompactFlush::Wanted; }
    port::File compact_flush_file() const { return compact_.flush_file; }
    bool compact_flush_dir() const { return compact_.flush_dir; }
    std::string_view compact_dir() const { return dir_.view(); }
    void compact_flush_started(std::uint64_t token) {
        compact_.flush = CompactFlush::Running;
        compact_.flush_token = token;
    }
    std::uint64_t compact_flush_token() const { return compact_.flush_token; }
    void compact_flushed(Status st) {
        if (compact_.flush != CompactFlush::Running && compact_.flush != CompactFlush::Wanted) return;
        compact_.flush = CompactFlush::Done;
        compact_.flush_status = st;
        compact_.flush_token = 0;
    }
    // Drops a compaction under way (its new files are removed); nothing changes.
    void abandon_compaction();
    // Starts reclaiming the space of expunged messages in place, without a
    // second copy (a full file system: the compaction failed with NoSpace):
    // live frames slide down over the holes, one run of frames per move,
    // stepped like a compaction (compact_step). Records expunged at or below
    // `drop_modseq` must be hidden in every view (maybe_compact checks).
    Status start_slide(std::uint64_t drop_modseq);
    // Drops a slide under way between two moves (every move is whole or not
    // done); the mailbox stays as the last move left it.
    void abandon_slide();
    // Runs the compaction under way to its end in this call (tools, tests).
    Status compact_to_end();

    // Views can attach: false while the compaction that opening started
    // runs (the list of expunged runs overflowed while the mailbox was
    // closed, so sequence numbers are known only once it ends; it runs in
    // steps like any compaction). A session's SELECT waits for it; attach()
    // runs it to its end in one call for callers that do not wait (tools).
    bool ready() const { return !gone_overflow_; }

    // A transaction (STORE, EXPUNGE, COPY into it) or an APPEND holds the
    // mailbox: a new one would get Busy now.
    bool busy() const { return in_txn_ || appending_; }

    // For tests and the benchmark.
    const State& state() const { return state_; }
    std::size_t gone_count() const { return gone_count_; }

private:
    // A run of consecutive index positions expunged by one commit (one
    // modseq): the "gone" list holds runs, sorted by position, so a mass
    // expunge takes a few entries however many messages go.
    struct Gone {
        std::uint32_t position;  // the first
        std::uint32_t count;
        std::uint64_t modseq;
    };
    struct Change {
        std::uint32_t uid;
        std::uint32_t pad;
        std::uint64_t modseq;
    };
    struct CacheEntry {
        std::uint32_t position_plus_one;
        Record record;
    };
    // A compaction between turns: live frames of m.data go to m.data.new
    // (frame by frame, a frame in pieces), their records to m.index.new.
    // It drops the records that were expunged when it started (every view
    // hides them) and keeps everything else, later expunges as expunged
    // records; writers between its steps are taken in: new records are
    // copied as they come, a slot rewritten in a record already copied is
    // rewritten in m.index.new too (compact_mirror), and the new index's
    // state is written (SyncIndex) only when nothing changed since.
    // Settle (async only): renamed, the new files in use, the directory's
    // sync after the renames under way on an I/O thread (compact_settle).
    enum class CompactPhase : std::uint8_t {
        Idle,
        Copy,
        SyncData,
        SyncIndex,
        SyncDir,
        Commit,
        Settle
    };
    enum class CompactFlush : std::uint8_t { None, Wanted, Running, Done };
    struct CompactJob {
        CompactPhase phase = CompactPhase::Idle;
        bool async = false;                   // flushes handed out (compact_step)
        CompactFlush flush = CompactFlush::None;
        CompactPhase flush_phase = CompactPhase::Idle;  // the phase that asked
        bool flush_dir = false;
        port::File flush_file = port::kNoFile;
        std::uint64_t flush_token = 0;
        Status flush_status = Status::Ok;
        port::File nd = port::kNoFile;        // m.data.new
        port::File nx = port::kNoFile;        // m.index.new
        std::uint64_t file_id = 0;            // of m.data.new
        std::uint64_t source_file_id = 0;     // of the m.data it copies
        std::uint64_t start_modseq = 0;       // records expunged at or below it are dropped
        std::uint64_t sealed_generation = 0;  // state_.generation when SyncIndex wrote
        std::uint32_t position = 0;           // next record of the old index
        std::uint32_t records = 0;            // records written to m.index.new
        std::uint32_t dropped = 0;            // records left out so far
        std::uint64_t at = 0;                 // where the next frame goes in m.data.new
        bool in_frame = false;                // `record`'s frame is being copied
        std::uint64_t done = 0;               // its message bytes copied so far
        std::uint32_t crc = 0;
        std::uint64_t unsynced = 0;  // bytes written to m.data.new since its last fsync
        Record record;
        State sealed;  // m.index.new's state, as compact_seal wrote it
        // Settle: the old files stay open (old_data keeps the fs lock that
        // other processes on them wait for) until the renames are durable;
        // then `marker` goes to the old index (its slot not old_slot) and
        // they are let go. dir_synced: a writer of this process synced the
        // directory first (compact_settle_dir).
        port::File old_data = port::kNoFile;
        port::File old_index = port::kNoFile;
        int old_slot = 0;
        bool dir_synced = false;
        State marker;
    };

    Status path(std::string_view name, Path* out) const;
    Status open_files();
    void close_files();
    Status lock();
    void unlock();
    // Only version 2 states unless `any_version` (recovery, before the upgrade).
    Status read_state(port::File index, State* out, int* slot, bool any_version = false);
    Status write_state(const State& s);  // to the slot that is not current
    Status recover();
    Status load_keywords();
    Status load_gone();
    Status repair_tail();
    Status rebuild_index();
    // Rewrites a version 1 index as version 2 (mailbox_upgrade.cpp).
    Status upgrade_index();
    Status upgrade_records(port::File out, std::uint64_t file_size);
    // A new EMAILID (RFC 8474 §5.1): distinct for every call in this
    // process, random across processes and restarts.
    std::uint64_t next_email_id();
    Status rebuild_records(port::File out, bool have_old, std::uint64_t file_size, State* ns,
                           std::uint64_t* at);
    Status find_frame_after(std::uint64_t from, std::uint64_t file_size, std::uint32_t last_uid,
                            std::uint64_t* found);
    Status finish_compaction();
    Status reload_if_changed(bool* changed);
    Status read_record(std::uint32_t position, Record* out);
    Status read_frame(std::uint64_t offset, std::uint64_t limit, FrameHeader* h, bool verify_body);
    void cache_put(std::uint32_t position, const Record& r);
    void cache_clear();
    // The positions [*from, *end) of run `g` that view `v` hides: it was
    // told of them (their modseq <= its expunge_modseq, or a partial report's
    // window covers them). Empty when *from == *end.
    void hidden_range(const View& v, const Gone& g, std::uint32_t* from, std::uint32_t* end) const {
        std::uint32_t e = g.position + g.count;
        if (e > v.positions) e = v.positions;
        std::uint32_t f = e;
        if (g.position < e) {
            if (g.modseq <= v.expunge_modseq) {
                f = g.position;
            } else if (g.modseq <= v.partial_modseq) {
                f = g.position > v.partial_position ? g.position : v.partial_position;
                if (f > e) f = e;
            }
        }
        *from = f;
        *end = e;
    }
    // Every position of `g` is known to `v` and hidden in it.
    bool fully_hidden(const View& v, const Gone& g) const {
        std::uint32_t f = 0, e = 0;
        hidden_range(v, g, &f, &e);
        return f == g.position && e == g.position + g.count;
    }
    // Positions below `pos` that `v` hides.
    std::uint32_t hidden_below(const View& v, std::uint32_t pos) const;
    std::uint32_t position_of(const View& v, std::uint32_t seq) const;
    std::uint32_t count_visible(const View& v) const;
    std::uint32_t find_position(std::uint32_t uid);  // record_count if absent
    void note_change(std::uint32_t uid, std::uint64_t modseq);
    Status sync_expunges(View& v, SyncVisitor& out, bool* expunged_any, bool* stopped);
    void sync_flags(View& v, SyncVisitor& out, bool* stopped);
    void claim_recent(View& v);
    void persist_recent();
    void open_bare_group();
    void finish_trim(std::uint32_t count, std::size_t runs, std::uint64_t length);
    Status write_record(std::uint32_t position, const Record& r, bool fixed_part);
    Status trim_tail(bool force);
    Status start_compaction();
    Status compact_advance(std::uint64_t* budget);
    Status compact_copy(std::uint64_t* budget);
    Status compact_begin_frame(std::uint64_t* budget, bool* skipped);
    Status compact_end_frame();
    Status compact_seal();
    Status compact_flush(port::File f, bool dir);
    Status compact_flush_result(bool* done);
    Status compact_commit();
    void compact_keep_old(const State& marker);
    void compact_settle(Status synced);
    Status compact_settle_dir();
    void compact_release();
    void compact_remap();
    std::uint32_t compact_dropped_below(std::uint32_t position) const;
    void compact_mirror(std::uint32_t position, const Record& r);
    Status compact();  // start and run to the end in one call (recovery only)
    // The in-place slide (mailbox_slide.cpp).
    enum class SlidePhase : std::uint8_t { Idle, Scan, Copy, SyncData, Commit, Cut };
    struct SlideJob {
        SlidePhase phase = SlidePhase::Idle;
        std::uint64_t drop_modseq = 0;  // records expunged at or below it are dropped
        std::uint32_t position = 0;     // next record to look at
        std::uint32_t kept_end = 0;     // records below it end with a kept one
        std::uint64_t at = 0;           // end of the last kept frame: where the next run goes
        std::uint32_t first = 0;        // the run being moved: its first record,
        std::uint32_t count = 0;        // how many records,
        std::uint64_t from = 0;         // its offset now,
        std::uint64_t length = 0;       // its bytes (frames back to back)
        std::uint64_t done = 0;         // bytes copied after the first frame header
        std::uint64_t moved = 0;        // bytes moved by this slide (statistics)
    };
    Status slide_advance(std::uint64_t* budget);
    Status slide_scan(std::uint64_t* budget);
    Status slide_pick_run(const Record& r, std::uint64_t* budget);
    Status slide_copy(std::uint64_t* budget);
    Status slide_commit();
    Status slide_cut();
    Status slide_sync_data();
    void slide_forget_flush();
    void slide_finish();
    // Rewrites the offsets (fixed parts) of `count` records from `position`
    // from the frame headers found back to back at `offset` in m.data.
    Status relocate_records(std::uint32_t position, std::uint32_t count, std::uint64_t offset,
                            std::uint32_t first_uid);
    Status redo_journal();
    void begin_txn();
    Status commit_txn();
    Status declare_intent();
    // The redo log (format.h, docs/STORAGE.md "The redo log").
    Status store_redo(std::uint32_t pos, Record& r, bool* buffered);
    Status redo_spill();
    Status write_redo_slots();
    Status commit_redo();
    void redo_void();
    // The group's transaction has ended (`st`): its waiting members are
    // told, the lock is let go.
    void finish_group(Status st);
    // Wakes the turn waiters at the head of the queue that may join the group.
    void wake_joiners();
    bool group_joinable() const {
        return in_txn_ && group_open_ && !group_active_ && group_token_ == 0 && !redo_written_ &&
               !trim_.pending &&
               !txn_slots_ && !intent_written_ && !retired_;
    }
    Status replay_redo(bool at_open);
    bool keywords_intact(std::uint32_t from, std::uint32_t to);
    Status expunge_done(const View& v, std::size_t runs, std::size_t n, std::uint32_t pos,
                        bool full, std::size_t* count, std::uint32_t* from_uid);
    // fsync(f), or with async_flush_ the barrier handed to the caller
    // (WouldBlock until flushed(), then its outcome).
    Status barrier(port::File f);
    void end_barriers();
    Status scrub_orphans();

    Services* s_ = nullptr;
    Path dir_;
    port::File data_ = port::kNoFile;
    port::File index_ = port::kNoFile;
    int lock_depth_ = 0;         // holds of writers (and tree operations) of this process
    bool compact_hold_ = false;  // the compaction holds the fs lock (not counted above)
    DataHeader data_header_;
    State state_;
    int state_slot_ = 0;  // slot holding state_
    State next_;          // the transaction being built
    bool in_txn_ = false;
    bool txn_slots_ = false;          // the transaction rewrote slots of existing records
    std::uint64_t read_intent_ = 0;   // intent record seen by the last read_state()
    std::uint64_t read_journal_ = 0;  // its generation: a move journal to redo (0: none)
    // A STORE's record slot changes, gathered in its redo record (built in
    // place: redo_put) until its commit writes the record as one; one that
    // outgrows it goes the intent's way (redo_spill).
    std::uint8_t redo_[kRedoAreaSize] = {};
    std::uint16_t redo_count_ = 0;
    bool redo_written_ = false;  // the record is written, its flush not reported
    // Group commit (begin_store, commit_store(CommitWaiter&)): the open STORE
    // transaction takes members; one of them at a time changes messages.
    bool group_open_ = false;         // an async STORE transaction: members may join
    // A trim_tail left to the group commit (limits.loop_commits): applied
    // in memory and to m.data once its state is committed (commit_group).
    struct TrimCommit {
        bool pending = false;
        std::uint32_t count = 0;  // records kept
        std::size_t runs = 0;     // runs of the gone list kept
        std::uint64_t length = 0;  // m.data's new length
    } trim_;
    bool group_active_ = false;       // a member is changing messages
    bool group_ready_ = false;        // a member finished: the group commits when none is active
    bool member_changed_ = false;     // the active member changed something
    std::uint16_t member_first_ = 0;  // its first redo entry (earlier ones: other members')
    State member_base_;               // next_ before it joined (its abort goes back to it)
    CommitWaiter* committers_ = nullptr;  // members waiting for the commit, FIFO
    std::uint64_t group_token_ = 0;       // the Registry's flush under way
    bool appending_ = false;
    std::uint64_t txn_data_end_ = 0;  // COPY: where the next frame goes
    // An EXPUNGE between its calls (async_flush): where its scan is.
    struct ExpungeScan {
        bool open = false;     // its transaction is ours, across calls
        bool scanned = false;  // the scan is done: the commit is under way
        bool full = false;
        std::uint32_t start = 0, pos = 0;
        std::size_t n = 0, runs = 0;
    };
    ExpungeScan expunge_;
    // The durability barriers of the transaction in progress.
    bool async_flush_ = false;
    port::File barrier_ = port::kNoFile;  // the file the caller must flush
    bool barrier_done_ = false;           // ... and did: barrier_status_ says how
    Status barrier_status_ = Status::Ok;
    bool intent_written_ = false;    // the intent is written, its flush not done
    bool data_synced_ = false;       // COPY: dest's m.data is durable
    std::uint8_t commit_phase_ = 0;  // commit_txn: 1 slots' flush, 2 state, 3 its flush
    // The state is written and not yet durable: what the file says is not
    // committed yet (reload_if_changed and changed_externally ignore it).
    bool committing_ = false;
    std::uint32_t kw_count_ = 0;  // keyword names known (committed + registered)
    bool kw_unsynced_ = false;    // one was registered without a flush of its own
    char keywords_[kMaxKeywords][kMaxKeywordLength] = {};
    std::uint8_t keyword_len_[kMaxKeywords] = {};
    CacheEntry* cache_ = nullptr;
    Gone* gone_ = nullptr;
    std::size_t gone_count_ = 0;
    Change* ring_ = nullptr;
    std::size_t ring_head_ = 0;  // next slot to write
    std::size_t ring_size_ = 0;
    std::uint64_t ring_floor_ = 0;  // the ring knows all changes with modseq > this
    std::uint32_t first_recent_uid_ = 1;
    std::uint64_t changes_ = 0;
    View* views_ = nullptr;
    TurnWaiter* waiters_ = nullptr;  // FIFO of write_turn() callers
    bool retired_ = false;
    bool replaced_ = false;   // retire(false)
    bool tree_held_ = false;  // hold(): lock() is the holder's alone
    CompactJob compact_;
    SlideJob slide_;
    // state_.generation when a compaction last failed (NoSpace, Io): not
    // tried again until something commits (a full disk stays full).
    std::uint64_t compact_failed_at_ = ~std::uint64_t{0};
    // record_count and expunged_count when the last slide ended: a slide
    // starts again only once they changed (a STORE on a full disk does not
    // make it scan the index again).
    std::uint64_t slide_done_key_ = ~std::uint64_t{0};
    std::uint64_t slide_key() const {
        return (std::uint64_t{state_.record_count} << 32) | state_.expunged_count;
    }
    std::uint64_t id_base_ = 0;   // next_email_id(): random base, drawn at the first call
    std::uint64_t id_count_ = 0;  // ... and ids made since
    bool opening_ = false;        // open() is recovering: an overflow compaction is stepped
    bool gone_overflow_ = false;  // the gone list is incomplete until that compaction commits
};

}  // namespace tinyimapd::store
