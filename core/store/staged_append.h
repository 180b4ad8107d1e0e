// StagedAppend: an APPEND (or MULTIAPPEND, RFC 3502) whose message bytes are
// first staged in a file of their own, outside the mailbox lock, and then
// copied into the mailbox under its lock in bounded steps.
//
// Why: a client streams its literal at the speed of its network; holding the
// mailbox lock for that long made every other writer of the mailbox (another
// session's APPEND, `tinyimapd deliver`) fail with Busy (issue 12.1). Here
// the lock is held only while bytes already on local storage are copied.
//
// What it owns: the staging file (one per session slot, `<user root>/
// a<slot>.tmp`, locked while in use so that a second process or the login
// clean-up never takes it), up to kMaxMessages message descriptions and the
// Appender that copies them (with its batch of records).
//
// Crash safety: staged bytes are never visible — the staging file is not a
// mailbox file, and the copy into m.data is an ordinary streamed APPEND
// (docs/STORAGE.md "Write order": frames past data_length, fsync, index,
// fsync), acknowledged only when commit_step() says Done. A crash leaves a
// stale a*.tmp, removed at the user's next login (remove_stale_stages).
//
// Concurrency (docs/STORAGE.md "Concurrency: who waits for whom"):
// commit_step() asks the mailbox for its write turn (Mailbox::write_turn);
// Queued means another writer of this process holds it and waiter().woken
// will be set when it lets go; Locked means another process holds the fs
// lock (retry on a timer). Once the turn is taken the lock is held across
// steps until Done/Failed (at most `budget` bytes are copied per step).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/store/mailbox.h"

namespace tinyimapd::store {

// The staging file's name in the user's root for session slot `slot`
// ("a<slot>.tmp"; contains '.', so never a mailbox name).
Status stage_path(std::string_view root, std::uint32_t slot, Path* out);
// Removes a<n>.tmp files in `root` that nobody holds (left by a crash).
void remove_stale_stages(Services& s, std::string_view root);

class StagedAppend {
public:
    static constexpr std::size_t kMaxMessages = 16;

    // Starts a command: opens (creating) and locks the staging file number
    // `number` in `root` (stage_path; `root` must stay valid until close())
    // — or keeps the one still open from the previous command — and
    // remembers `box` (acquired by the caller, who keeps it until
    // end_command()). Busy: another process holds that file.
    Status open(Services& s, std::string_view root, std::uint32_t number, Mailbox* box);
    bool is_open() const { return file_ != port::kNoFile; }
    Mailbox* mailbox() const { return box_; }

    // The next message of the command: `size` bytes will follow through
    // write(). Exhausted past kMaxMessages.
    Status add(std::uint32_t size, std::uint8_t flags, std::uint64_t keywords,
               std::int64_t internal_date, std::int16_t zone_minutes);
    // Bytes of the current message, in order. Invalid past its size.
    Status write(const void* bytes, std::size_t length);
    std::size_t count() const { return count_; }
    bool complete() const { return count_ > 0 && staged_ == message_end(count_ - 1); }
    std::uint64_t staged_bytes() const { return staged_; }

    enum class Step : std::uint8_t {
        Done,    // every message durable; *first_uid is the first one's UID
        More,    // copied `budget` bytes; call again in the next turn
        Queued,  // another writer of this process: wait for waiter().woken
        Locked,  // another process holds the mailbox: retry on a timer
        Failed,  // *error says why; nothing of the command was kept
        // With async flushes: the commit stopped at a durability barrier;
        // make mailbox()->flush_file() durable, report it with
        // mailbox()->flushed(), then call commit_step() again.
        Flush,
    };
    // The commit's flushes are handed to the caller (Step::Flush) instead of
    // being done in commit_step() (Mailbox "durability barriers").
    void set_async_flush(bool on) { async_flush_ = on; }
    Step commit_step(std::size_t budget, std::uint32_t* first_uid, Status* error);
    // True while this command holds the mailbox's write turn.
    bool holding() const { return copying_; }
    TurnWaiter& waiter() { return waiter_; }
    // The same command into `box` instead (the mailbox was opened again:
    // RENAME INBOX replaced INBOX's files while it waited for its turn).
    // Invalid once its copy began, or when a message has keywords (their
    // bits are the old mailbox's).
    Status retarget(Mailbox* box);
    bool waiter_woken() const { return waiter_.woken; }

    // Ends the command: an uncommitted copy is dropped (the mailbox's tail is
    // cut back) and the waiter leaves the queue. The staging file stays open
    // and locked for the next command (emptied if it grew past kKeepBytes).
    // Does not release the mailbox.
    void end_command();
    // end_command(), then the staging file is unlinked and closed (the
    // connection ends).
    void close();
    static constexpr std::uint64_t kKeepBytes = 256 * 1024;

private:
    struct Message {
        std::uint64_t offset;  // in the staging file
        std::uint32_t size;
        std::uint8_t flags;
        std::uint64_t keywords;
        std::int64_t internal_date;
        std::int16_t zone_minutes;
    };
    std::uint64_t message_end(std::size_t i) const {
        return messages_[i].offset + messages_[i].size;
    }
    Status begin_message(std::size_t i);

    Services* s_ = nullptr;
    Mailbox* box_ = nullptr;
    port::File file_ = port::kNoFile;
    std::string_view root_;  // the file is stage_path(root_, number_)
    std::uint32_t number_ = 0;
    Message messages_[kMaxMessages] = {};
    std::size_t count_ = 0;
    std::uint64_t staged_ = 0;  // bytes in the staging file
    // The copy under the lock.
    bool copying_ = false;
    std::size_t copy_index_ = 0;   // message being copied
    std::uint32_t copy_done_ = 0;  // its bytes copied so far
    bool committing_ = false;      // commit_batch stopped at a barrier
    bool async_flush_ = false;
    Appender appender_;
    Record batch_[kMaxMessages];
    TurnWaiter waiter_;
};

}  // namespace tinyimapd::store
