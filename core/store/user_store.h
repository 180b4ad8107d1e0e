// UserStore: one user's tree of mailboxes under their directory — CREATE,
// DELETE, RENAME, LIST/LSUB, SUBSCRIBE, STATUS, and opening a mailbox for
// SELECT/EXAMINE (RFC 3501 §6.3.1-§6.3.10).
//
// What it owns: nothing but the user's root path (a view the caller keeps
// alive, e.g. its session's FixedString). Mailboxes map to directories by
// name_map.h; a directory is a selectable mailbox iff it holds m.data, and a
// plain directory is a \Noselect parent. The subscription list is the file
// "subs.txt" in the root (one mUTF-7 name per line, LF), replaced whole
// through "subs.new" + rename.
//
// Crash safety (docs/STORAGE.md "Tree operations"): CREATE builds the new
// mailbox in a temporary directory "c.tmp" and renames it into place; DELETE
// renames the mailbox to "d.tmp" before removing its files (or, with
// children, unlinks m.data first); RENAME is one rename(); RENAME INBOX
// copies INBOX's files to "i.tmp", prepares an empty INBOX beside the old
// one with a marker "m.reset", commits by renaming "i.tmp" to the new name
// and finishes (or, after a crash before the commit, undoes) on the next
// open of INBOX. Names with '.' are never mailboxes, so these never show.
// Superior names that RENAME had to make stay as \Noselect directories if
// the operation fails or crashes afterwards (CREATE makes them atomically).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/store/format.h"
#include "core/store/registry.h"

namespace tinyimapd::store {

enum ListAttribute : std::uint8_t {
    kNoselect = 1,     // \Noselect: a parent without messages of its own
    kHasChildren = 2,  // RFC 3348
    kHasNoChildren = 4,
    kSubscribed = 8,    // RFC 5258 \Subscribed (set by list_subscribed)
    kNonExistent = 16,  // subscribed, but no such mailbox (RFC 5258)
};

class ListVisitor {
public:
    // `name` is the mailbox name in modified UTF-7, valid during the call.
    // Return false to stop.
    virtual bool mailbox(std::string_view name, std::uint8_t attributes) = 0;

protected:
    ~ListVisitor() = default;
};

// A ListVisitor calling `f(name, attributes)`.
template <class F>
class ListFn final : public ListVisitor {
public:
    explicit ListFn(F f) : f_(f) {}
    bool mailbox(std::string_view name, std::uint8_t attributes) override {
        return f_(name, attributes);
    }

private:
    F f_;
};

// The subscription file, read line by line through a 256-byte window; a line
// longer than mail::kMaxMailboxName is skipped.
inline constexpr std::string_view kSubscriptionsFile = "subs.txt";
inline constexpr std::string_view kSpecialUseFile = "m.use";

// A tree operation (CREATE, DELETE, RENAME, SUBSCRIBE/UNSUBSCRIBE) run in
// steps, so that its flushes can go to the I/O threads (docs/STORAGE.md
// "Flushes leave the loop"). UserStore::step() goes on from `phase` until
// the operation ends (Ok, or why it failed) or stops at a durability
// barrier whose flush is under way on an I/O thread (`async`; WouldBlock:
// the flush carries `token`; the caller waits for it, reports it with
// flushed() and calls step() again). Without `async`, or when the port
// cannot start the flush, it is done in place and the step goes on: the
// writes, their order and their flushes are the same either way ("Write
// order"). The tree lock is held from the first step to the end;
// UserStore::abort() gives up one that stopped at a barrier (what was
// written stays, as after a crash there). The names are views the caller
// keeps alive until the end.
struct TreeOp {
    // Root: a first login's new root directory, its entry synced (the
    // Registry holds everything below it back meanwhile).
    enum class Kind : std::uint8_t { Create, Remove, Rename, Subscribe, Unsubscribe, Root };
    TreeOp(Kind k, std::string_view a, std::string_view b = {}) : kind(k), name(a), to(b) {}
    void flushed(Status st) {
        pending = false;
        flush_status = st;
    }

    Kind kind;
    std::string_view name, to;
    bool async = false;
    std::uint64_t token = 0;
    // Where it is (UserStore's own).
    std::uint8_t phase = 0;
    bool pending = false;  // a flush is under way (WouldBlock was returned)
    bool marked = false;   // a CREATE's commit the Registry holds back (Registry::hold_commit)
    Status flush_status = Status::Ok;
    port::File lock = port::kNoFile;  // the tree lock
    port::File file = port::kNoFile;  // a file being flushed
    std::uint32_t at = 0;             // a position in a path: the level being made or synced
    std::uint32_t top = 0;            // CREATE: end of the first missing level (0: none)
    std::uint64_t mailbox_id = 0;     // CREATE's MAILBOXID (RFC 8474 §4.1)
    std::uint8_t use = 0;             // CREATE's special use (RFC 6154 §3), set by the caller
    std::uint8_t empty[kStateSlotSize + kDataHeaderSize] = {};  // CREATE's (RENAME INBOX's) two files
    // RENAME INBOX (tree_inbox.cpp): INBOX's open Mailbox, held (its write
    // turn, then Mailbox::hold) from the first copy to the end; the file
    // being copied and how far; what the Registry holds back.
    Mailbox* box = nullptr;
    TurnWaiter* turn = nullptr;  // the caller's, woken when INBOX's write turn is free
    bool queued = false;         // Busy: waits for INBOX's write turn or lock (retry)
    std::uint8_t holds = 0;      // Registry::hold_commit of INBOX, of the new name
    std::uint8_t copying = 0;    // which of INBOX's files
    port::File src = port::kNoFile;
    std::uint64_t offset = 0;
    // Bytes copied per step (async): a step that reaches it without a
    // barrier says WouldBlock with `pending` false: call step() again (in a
    // later turn of the loop).
    std::uint32_t step_bytes = 128 * 1024;
};

class UserStore {
public:
    UserStore(Registry& registry, std::string_view root) : reg_(registry), root_(root) {}

    // Creates the root directory and INBOX if missing (at login); *created
    // tells whether the root is new (a first login: time for the default
    // mailboxes). With `inbox_missing`, a missing INBOX is only reported
    // there, for the caller to CREATE in steps. With `root_unsynced`, a new
    // root's entry is not synced here: the caller runs a TreeOp of kind
    // Root (on the I/O threads) before anything is acknowledged.
    Status ensure(bool* created = nullptr, bool* inbox_missing = nullptr,
                  bool* root_unsynced = nullptr);
    // Path of the mailbox's directory. Invalid/TooLong for bad names.
    Status mailbox_dir(std::string_view name, Path* out) const;

    // SELECT/EXAMINE: the shared open mailbox (give it back with close()).
    // NotFound also for a \Noselect name; Busy: locked by another process.
    Result<Mailbox*> open(std::string_view name);
    void close(Mailbox* mailbox) { reg_.release(mailbox); }
    Status status(std::string_view name, StatusInfo* out);

    // One step of a tree operation (TreeOp above); abort() releases what
    // an unfinished one holds.
    Status step(TreeOp& op);
    void abort(TreeOp& op);

    // CREATE (§6.3.3): Exists if it exists (INBOX always does); a \Noselect
    // directory becomes selectable; missing superiors are made \Noselect
    // (in the same atomic step as the mailbox). *mailbox_id (if given):
    // the new mailbox's MAILBOXID (RFC 8474 §4.1).
    // `use`: RFC 6154 special-use bits, in m.use from the moment the mailbox is.
    Status create(std::string_view name, std::uint64_t* mailbox_id = nullptr,
                  std::uint8_t use = 0);
    // DELETE (§6.3.4): Permission for INBOX; NotEmpty for a \Noselect name
    // with children. Sessions that have it selected see their view deleted
    // (Mailbox::retire; RFC 2180 §3.3).
    Status remove(std::string_view name);
    // RENAME (§6.3.5): children move along; Exists if `to` exists; Invalid
    // when `to` is inside `from`; TooLong when a child's new name would pass
    // the limits; INBOX's messages move, INBOX stays, empty. Open mailboxes
    // follow (Registry::move; RFC 2180 §3.4); an open INBOX is retired.
    Status rename(std::string_view from, std::string_view to);
    // LIST (§6.3.8) with '*' and '%'; reference and pattern are joined as
    // RFC 3501 describes (reference + pattern, no delimiter added).
    Status list(std::string_view reference, std::string_view pattern, ListVisitor& out);
    // SUBSCRIBE/UNSUBSCRIBE (§6.3.6, §6.3.7); subscribing a name that does
    // not exist is allowed (the RFC lets servers refuse; clients rely on it).
    Status subscribe(std::string_view name, bool subscribed);
    // LSUB (§6.3.9): the subscribed names matching the pattern, with
    // kNoselect/kNonExistent when they are not selectable.
    Status list_subscribed(std::string_view reference, std::string_view pattern, ListVisitor& out);
    bool is_subscribed(std::string_view name);
    // True if some subscribed name lies below `name` (RFC 5258 CHILDINFO),
    // not counting names that match the pattern `unless` (when not empty).
    bool has_subscribed_child(std::string_view name, std::string_view unless = {});
    bool mailbox_has_children(std::string_view name);

    // RFC 6154 special-use attributes of a mailbox, as mail::SpecialUse bits,
    // kept in the file m.use of its directory (one attribute name a line);
    // they move with RENAME and go with DELETE. 0 when none.
    std::uint8_t special_use(std::string_view name);
    Status set_special_use(std::string_view name, std::uint8_t uses);

private:
    // The steps of each operation (tree_ops.cpp).
    Status run_steps(TreeOp& op);
    Status barrier(TreeOp& op, port::File f, std::string_view dir, std::uint8_t next);
    Status create_steps(TreeOp& op);
    Status create_prepare(TreeOp& op);
    Status create_files_steps(TreeOp& op, std::string_view inner, std::string_view ancestor);
    Status create_acl_step(TreeOp& op, std::string_view inner, std::string_view ancestor);
    Status create_commit(TreeOp& op, std::string_view from, std::string_view to,
                         std::string_view dir, std::uint8_t next);
    Status remove_steps(TreeOp& op);
    Status remove_parent_steps(TreeOp& op, std::string_view dir);
    Status rename_steps(TreeOp& op);
    Status rename_check(std::string_view from, std::string_view to);
    Status make_parents_steps(TreeOp& op, std::string_view dir, std::uint8_t next);
    Status subscribe_steps(TreeOp& op);
    Status root_steps(TreeOp& op);
    Status subscribe_write(TreeOp& op);
    // RENAME INBOX (tree_inbox.cpp).
    Status inbox_steps(TreeOp& op, std::string_view inbox, std::string_view to);
    Status inbox_take(TreeOp& op, std::string_view inbox, std::string_view tmp);
    Status inbox_copy(TreeOp& op, std::string_view inbox, std::string_view tmp);
    Status inbox_prepare(TreeOp& op, std::string_view inbox, std::string_view to);
    Status inbox_commit(TreeOp& op, std::string_view inbox, std::string_view to,
                        std::string_view tmp);
    void inbox_abort(TreeOp& op);
    Status clear_tmp(std::string_view tmp_dir);
    template <class Match>
    bool any_subscription(Match match);

    Registry& reg_;
    std::string_view root_;
};

// Completes (or undoes) an interrupted RENAME of INBOX in `dir` (Mailbox::open
// calls it). Ok when there is nothing to do; Busy when INBOX's lock is
// taken (a RENAME INBOX under way: retry later). `held`: the caller holds
// that lock (RENAME INBOX itself, giving up).
Status finish_inbox_reset(Services& s, std::string_view dir, bool held = false);

}  // namespace tinyimapd::store
