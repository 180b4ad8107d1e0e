// Registry: the fixed table of open mailboxes, shared by all sessions.
//
// What it owns: limits.max_open_mailboxes Mailbox objects, each with its
// record cache, expunge list and change ring, and one scratch buffer for
// copying message bytes — all carved from the startup Arena
// (bytes_needed() tells how much; docs/STORAGE.md "Memory"). A session that
// selects a mailbox already open gets the same Mailbox (one consistent state,
// in-process notifications); when the table is full, acquire() says
// Exhausted ("NO [LIMIT]" for the client).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/arena.h"
#include "core/store/mailbox.h"

namespace tinyimapd::store {

class Registry {
public:
    // Bytes the Arena must hold for init() with these limits.
    static std::size_t bytes_needed(const StoreLimits& limits);

    Registry(port::Fs& fs, port::Clock& clock, port::Entropy& entropy, const StoreLimits& limits)
        : limits_(limits), services_{fs, clock, entropy, limits_, nullptr} {}
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // Takes the pool from `arena`; Exhausted if it is too small. A Mailbox
    // is constructed over its share the first time that many are open at
    // once (construct_box), so that the memory of those never used is
    // reserved but not touched (docs/DESIGN.md "Memory reserved, touched on
    // use").
    Status init(Arena& arena);

    // The open mailbox in directory `dir` (opened and recovered if needed).
    // NotFound: no such selectable mailbox; Busy: another process holds its
    // lock for now (retry later); WouldBlock: a CREATE's commit is not
    // durable yet (hold_commit; retry later); Exhausted: the table is full.
    Result<Mailbox*> acquire(std::string_view dir);
    // A CREATE whose commit (the rename that made `dir` a mailbox) waits for
    // its directory sync on an I/O thread: until let_commit(dir), acquire()
    // of `dir` or below says WouldBlock, so that nothing is acknowledged into
    // a mailbox whose directory entry a crash could still take away (APPEND
    // and SELECT wait). False when kHeldCommits are held already (then
    // sync in place).
    // `exact`: `dir` alone, not below it (RENAME INBOX holds INBOX back
    // while it finishes, not INBOX's children).
    static constexpr std::size_t kHeldCommits = 8;
    bool hold_commit(std::string_view dir, bool exact = false);
    void let_commit(std::string_view dir);
    void release(Mailbox* mailbox);
    // The open mailbox in `dir`, or nullptr (does not open it).
    Mailbox* find(std::string_view dir);

    // True if `dir` or a mailbox below it is open (selected by a session).
    bool open_under(std::string_view dir) const;
    // DELETE removed the mailbox in `dir`: its open Mailbox (if any) is
    // retired (Mailbox::retire) and no longer found under that name.
    void retire(std::string_view dir);
    // RENAME moved `from` to `to`: open mailboxes at or below `from` follow
    // (Mailbox::moved_to); TooLong if a new path does not fit (checked first).
    Status move(std::string_view from, std::string_view to);

    // Background work of the store (compactions, docs/STORAGE.md
    // "Compaction"): the loop calls background_step() once per turn while
    // background_pending() says so, and does not sleep meanwhile. One call
    // copies at most limits.compact_step_bytes (at least one scratch
    // buffer's worth) or does one fsync, over all mailboxes. A mailbox
    // nobody has selected any more stays open until its compaction ends.
    bool background_pending() const;
    void background_step();
    // Group commit (docs/STORAGE.md "Group commit"): the loop calls
    // commit_groups() once per turn, after the sessions had theirs; every
    // mailbox whose STORE members all wait (none still changing messages)
    // has its group sealed, and its flush started with a token that has
    // kFlushToken set (sessions' tokens never have it; without I/O threads
    // the flush is done in place). Its outcome goes to flush_completed(),
    // which goes on with the commit and tells the members.
    static constexpr std::uint64_t kFlushToken = std::uint64_t{1} << 63;
    // With kFlushToken: a compaction's flush (its next step waits for it).
    static constexpr std::uint64_t kCompactToken = std::uint64_t{1} << 62;
    void commit_groups();
    void flush_completed(std::uint64_t token, Status status);
    // A group's flush is under way (an fs port without an event handle is
    // polled for it).
    bool group_flushing() const;
    // Closes every open mailbox (a compaction under way is abandoned: its
    // files are removed). At shutdown, and in tests before a "restart".
    void close_all();

    Services& services() { return services_; }
    const StoreLimits& limits() const { return limits_; }
    // A UIDVALIDITY for a new mailbox: the clock's seconds, strictly
    // increasing within the process (RFC 3501 §2.3.1.1: a new mailbox with
    // an old name must get a new one).
    std::uint32_t new_uid_validity();

private:
    void start_compact_flush(std::size_t i);
    StoreLimits limits_;
    Services services_;
    Mailbox* construct_box();
    void drive_group(std::size_t i);
    std::uint32_t group_flushes_ = 0;  // the low half of the next group token

    Mailbox* boxes_ = nullptr;
    std::size_t constructed_ = 0;  // boxes_[0, constructed_) are constructed
    // The first box's cache, gone list and change ring; the next box's lie
    // box_stride_ further.
    char* box_memory_ = nullptr;
    std::size_t box_stride_ = 0;
    std::size_t gone_offset_ = 0;
    std::size_t ring_offset_ = 0;
    std::uint32_t last_validity_ = 0;
    struct HeldCommit {
        std::uint32_t crc = 0;   // of the directory's path
        std::uint32_t size = 0;  // its length; 0: a free entry
        bool exact = false;      // not the directories below it
    };
    HeldCommit held_[kHeldCommits];
    bool commit_held(std::string_view dir) const;
};

}  // namespace tinyimapd::store
