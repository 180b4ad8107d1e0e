// RENAME INBOX in steps (RFC 3501 §6.3.5: "all messages in INBOX are moved
// to a new mailbox with the given name, leaving INBOX empty"), as a phase of
// RENAME's TreeOp (user_store.h): INBOX's files are copied in bounded steps
// (TreeOp::step_bytes each), and every flush and directory sync is a
// barrier whose flush the server's I/O threads do (docs/STORAGE.md "Write
// order", "Flushes leave the loop", "RENAME INBOX in steps"). INBOX keeps
// UIDVALIDITY and UIDNEXT (UIDs are never reused under one UIDVALIDITY);
// the new mailbox gets INBOX's files as they are (the same UIDs and
// UIDVALIDITY) with a MAILBOXID of its own (RFC 8474 §4).
//
// While it runs INBOX is the operation's alone in this process: it takes
// INBOX's write turn (Mailbox::write_turn: writers of this process queue
// behind it) and then the mailbox lock (Mailbox::hold: other processes get
// Busy, and lock() says Busy to this process's \Recent claims, trims and
// COPYs into it). Readers go on. From the commit to the end the Registry
// holds INBOX (exactly) and the new name back (hold_commit), so that no
// session opens INBOX half finished nor writes into the new mailbox before
// its directory entry is durable.
#include <cstring>

#include "core/base/endian.h"
#include "core/store/tree_detail.h"

namespace tinyimapd::store {
using namespace tree;

namespace {

enum InboxPhase : std::uint8_t {
    kInboxTake = kInboxFirst,  // the write turn, the lock, i.tmp made
    kInboxOpen,                // the next file to copy opened
    kInboxCopy,                // its bytes copied in steps, then flushed
    kInboxNext,                // the copy closed; the next file
    kInboxIndex,               // INBOX's empty m.index.new, flushed
    kInboxData,                // INBOX's empty m.data.new, flushed
    kInboxMarker,              // m.reset written, flushed
    kInboxMarked,              // INBOX's directory synced
    kInboxCommit,              // i.tmp renamed to the new name, its parent synced
    kInboxFinish,              // INBOX's new files renamed in, its directory synced
    kInboxUnmark,              // m.reset unlinked, INBOX's directory synced
    kInboxDone,
};

// The files copied, in this order: m.data, m.index (given a new MAILBOXID
// before its flush), and m.meta when INBOX has one (RFC 5464 §4.1: INBOX's
// annotations are copied to the new mailbox and stay on INBOX).
constexpr std::string_view kCopied[] = {kDataFile, kIndexFile, kMetaFile};
constexpr std::uint8_t kHeldInbox = 1, kHeldTo = 2;

}  // namespace

Status UserStore::inbox_steps(TreeOp& op, std::string_view inbox, std::string_view to) {
    Path tmp;
    Status st = join(parent_of(to), kInboxTmp, &tmp);
    if (st != Status::Ok) return st;
    if (op.phase == kInboxTake && (st = inbox_take(op, inbox, tmp.view())) != Status::Ok) {
        return st;
    }
    if (op.phase <= kInboxNext && (st = inbox_copy(op, inbox, tmp.view())) != Status::Ok) {
        return st;
    }
    if (op.phase <= kInboxMarked && (st = inbox_prepare(op, inbox, to)) != Status::Ok) return st;
    if (op.phase <= kInboxUnmark && (st = inbox_commit(op, inbox, to, tmp.view())) != Status::Ok) {
        return st;
    }
    // Done: INBOX is let go (its writers waiting for the turn go on, on the
    // empty INBOX that the Registry opens for them).
    inbox_abort(op);
    return Status::Ok;
}

// INBOX's write turn, then its lock; Busy with `queued` when either is
// someone else's for now (the caller retries, woken by the turn or on a
// timer; the tree lock stays held meanwhile).
Status UserStore::inbox_take(TreeOp& op, std::string_view inbox, std::string_view tmp) {
    op.queued = false;
    if (op.box == nullptr) {
        auto r = reg_.acquire(inbox);
        if (!r.ok()) {
            op.queued = op.async && (r.status == Status::Busy || r.status == Status::WouldBlock);
            return op.queued ? Status::Busy : r.status;
        }
        op.box = r.value;
    }
    TurnWaiter local;
    TurnWaiter& w = op.turn != nullptr ? *op.turn : local;
    if (w.mailbox != nullptr && w.mailbox != op.box) w.mailbox->leave_turn_queue(w);
    w.joins = false;
    if (op.box->write_turn(w) != Mailbox::Turn::Ready) {
        if (op.turn == nullptr) op.box->leave_turn_queue(w);
        op.queued = op.async && op.turn != nullptr;
        return Status::Busy;
    }
    Status st = op.box->hold();  // Busy: another process has it
    if (st != Status::Ok) {
        op.queued = op.async && st == Status::Busy;
        return st;
    }
    Services& s = reg_.services();
    if ((st = clear_tmp(tmp)) != Status::Ok) return st;
    if ((st = s.fs.mkdir(tmp)) != Status::Ok) return st;
    op.copying = 0;
    op.phase = kInboxOpen;
    return Status::Ok;
}

// Each file: opened (m.meta only if INBOX has one), copied step by step,
// the copy flushed; then i.tmp's directory synced.
Status UserStore::inbox_copy(TreeOp& op, std::string_view inbox, std::string_view tmp) {
    Services& s = reg_.services();
    Status st = Status::Ok;
    for (;;) {
        if (op.phase == kInboxNext) {
            st = s.fs.close(op.file);
            op.file = port::kNoFile;
            if (st != Status::Ok) return st;
            ++op.copying;
            op.phase = kInboxOpen;
        }
        if (op.phase == kInboxOpen) {
            if (op.copying == sizeof kCopied / sizeof kCopied[0]) {
                return barrier(op, port::kNoFile, tmp, kInboxIndex);
            }
            Path a, b;
            if ((st = join(inbox, kCopied[op.copying], &a)) != Status::Ok) return st;
            if ((st = join(tmp, kCopied[op.copying], &b)) != Status::Ok) return st;
            if (kCopied[op.copying] == kMetaFile &&
                !exists(s.fs, a.view(), port::FileType::Regular)) {
                ++op.copying;
                continue;
            }
            auto in = s.fs.open(a.view(), port::kOpenRead | port::kOpenNoFollow);
            if (!in.ok()) return in.status;
            op.src = in.value;
            auto out = s.fs.open(b.view(), port::kOpenRead | port::kOpenWrite | port::kOpenCreate |
                                               port::kOpenTruncate | port::kOpenNoFollow);
            if (!out.ok()) return out.status;
            op.file = out.value;
            op.offset = 0;
            op.phase = kInboxCopy;
        }
        // kInboxCopy: at most step_bytes now (all of it when synchronous).
        std::uint64_t budget = 0;
        for (;;) {
            if (op.async && budget >= op.step_bytes) return Status::WouldBlock;  // next turn
            std::size_t piece = s.limits.scratch_bytes;
            if (op.async && piece > op.step_bytes) piece = op.step_bytes;
            const port::FsResult r = s.fs.pread(op.src, s.scratch, piece, op.offset);
            if (r.status != Status::Ok) return r.status;
            if (r.bytes == 0) break;
            st = s.fs.pwrite(op.file, s.scratch, r.bytes, op.offset).status;
            if (st != Status::Ok) return st;
            op.offset += r.bytes;
            budget += r.bytes;
        }
        st = s.fs.close(op.src);
        op.src = port::kNoFile;
        // RFC 8474 §4: the new mailbox is a new one (RFC 3501 §6.3.5:
        // INBOX's messages move to it), so its copy gets a MAILBOXID of its
        // own; INBOX keeps its own.
        if (st == Status::Ok && kCopied[op.copying] == kIndexFile) {
            st = Mailbox::reissue_mailbox_id(s, op.file);
        }
        if (st == Status::Ok) st = barrier(op, op.file, {}, kInboxNext);
        if (st != Status::Ok) return st;
    }
}

// The empty INBOX-to-be (m.index.new, m.data.new: same UIDVALIDITY, same
// UIDNEXT, a higher HIGHESTMODSEQ, the same MAILBOXID) and the marker that
// says where the messages go, each flushed; then INBOX's directory synced.
Status UserStore::inbox_prepare(TreeOp& op, std::string_view inbox, std::string_view to) {
    Services& s = reg_.services();
    const State& state = op.box->state();
    Status st = Status::Ok;
    Path p;
    constexpr std::uint32_t kWrite = port::kOpenRead | port::kOpenWrite | port::kOpenCreate |
                                     port::kOpenTruncate | port::kOpenNoFollow;
    auto write_file = [&](std::string_view name, const std::uint8_t* bytes, std::size_t n,
                          std::uint8_t next) {
        if (op.file != port::kNoFile) {
            st = s.fs.close(op.file);
            op.file = port::kNoFile;
            if (st != Status::Ok) return st;
        }
        if ((st = join(inbox, name, &p)) != Status::Ok) return st;
        auto f = s.fs.open(p.view(), kWrite);
        if (!f.ok()) return f.status;
        op.file = f.value;
        st = s.fs.pwrite(op.file, bytes, n, 0).status;
        return st == Status::Ok ? barrier(op, op.file, {}, next) : st;
    };
    if (op.phase == kInboxIndex) {
        Mailbox::encode_empty(s, state.uid_validity, state.uid_next, state.highest_modseq + 1,
                              state.mailbox_id, op.empty, op.empty + kStateSlotSize);
        if ((st = write_file(kIndexNew, op.empty, kStateSlotSize, kInboxData)) != Status::Ok) {
            return st;
        }
    }
    if (op.phase == kInboxData &&
        (st = write_file(kDataNew, op.empty + kStateSlotSize, kDataHeaderSize, kInboxMarker)) !=
            Status::Ok) {
        return st;
    }
    if (op.phase == kInboxMarker) {
        std::uint8_t buf[kResetMax];
        if (to.size() > port::kMaxPath) return Status::TooLong;
        le::store64(buf, state.data_file_id);
        le::store16(buf + 8, static_cast<std::uint16_t>(to.size()));
        std::memcpy(buf + 10, to.data(), to.size());
        le::store32(buf + 10 + to.size(), crc32c(buf, 10 + to.size()));
        if ((st = write_file(kResetFile, buf, 14 + to.size(), kInboxMarked)) != Status::Ok) {
            return st;
        }
    }
    if (op.phase != kInboxMarked) return Status::Ok;
    st = s.fs.close(op.file);
    op.file = port::kNoFile;
    return st == Status::Ok ? barrier(op, port::kNoFile, inbox, kInboxCommit) : st;
}

// The commit (i.tmp renamed to the new name), its parent synced; then INBOX
// finished as an open after a crash would (finish_inbox_reset): its new
// files renamed in, synced, the marker unlinked, synced.
Status UserStore::inbox_commit(TreeOp& op, std::string_view inbox, std::string_view to,
                               std::string_view tmp) {
    Services& s = reg_.services();
    Status st = Status::Ok;
    if (op.phase == kInboxCommit) {
        if (op.async) {  // both or neither; neither: the rest in place
            if (reg_.hold_commit(inbox, true)) op.holds |= kHeldInbox;
            if (op.holds != 0 && reg_.hold_commit(to)) op.holds |= kHeldTo;
            if (op.holds != (kHeldInbox | kHeldTo)) {
                if ((op.holds & kHeldInbox) != 0) reg_.let_commit(inbox);
                op.holds = 0;
                op.async = false;
            }
        }
        if ((st = s.fs.rename(tmp, to)) != Status::Ok) return st;  // the commit
        // The open INBOX keeps the old files (now the new mailbox's copy):
        // it is retired, its sessions told (their views invalidated); the
        // next open of INBOX gets the empty files.
        op.box->retire(false);
        if ((st = barrier(op, port::kNoFile, parent_of(to), kInboxFinish)) != Status::Ok) return st;
    }
    Path dn, dp, in, ip;
    if ((st = join(inbox, kDataNew, &dn)) != Status::Ok) return st;
    if ((st = join(inbox, kDataFile, &dp)) != Status::Ok) return st;
    if ((st = join(inbox, kIndexNew, &in)) != Status::Ok) return st;
    if ((st = join(inbox, kIndexFile, &ip)) != Status::Ok) return st;
    if (op.phase == kInboxFinish) {
        if ((op.holds & kHeldTo) != 0) reg_.let_commit(to);  // durable now
        op.holds &= static_cast<std::uint8_t>(~kHeldTo);
        // The new m.data is locked before it becomes INBOX's, until the end
        // (op.src): another process's open finds INBOX locked throughout,
        // never the marker unlocked (finish_inbox_reset).
        auto guard = s.fs.open(dn.view(), port::kOpenRead | port::kOpenWrite | port::kOpenNoFollow);
        if (!guard.ok()) return guard.status;
        op.src = guard.value;
        if ((st = s.fs.lock(op.src, port::LockMode::Exclusive)) != Status::Ok) return st;
        st = s.fs.rename(dn.view(), dp.view());
        if (st == Status::Ok) st = s.fs.rename(in.view(), ip.view());
        if (st == Status::Ok) st = barrier(op, port::kNoFile, inbox, kInboxUnmark);
        if (st != Status::Ok) return st;
    }
    if (op.phase == kInboxUnmark) {
        if ((st = join(inbox, kResetFile, &dn)) != Status::Ok) return st;
        if ((st = s.fs.unlink(dn.view())) != Status::Ok) return st;
        if ((st = barrier(op, port::kNoFile, inbox, kInboxDone)) != Status::Ok) return st;
    }
    return Status::Ok;
}

// Lets go of what RENAME INBOX holds. Given up or failed part way (the
// client left, an I/O error): what was written is finished — after the
// commit — or undone — before it — in place, as the next open of INBOX
// would after a crash (rare: it syncs in the loop), so that the open
// INBOX never keeps a marker behind.
void UserStore::inbox_abort(TreeOp& op) {
    Services& s = reg_.services();
    if (op.src != port::kNoFile) {  // a copy's source, or the new m.data's lock
        (void)s.fs.unlock(op.src);
        (void)s.fs.close(op.src);
    }
    op.src = port::kNoFile;
    Path inbox, to;
    const bool paths = mailbox_dir(kInboxName, &inbox) == Status::Ok &&
                       mailbox_dir(op.to, &to) == Status::Ok;
    if ((op.holds & kHeldTo) != 0 && paths) {
        // Given up while the commit's sync ran: done here before anyone may
        // write into the new mailbox.
        if (op.pending) (void)s.fs.sync_dir(parent_of(to.view()));
        reg_.let_commit(to.view());
    }
    if (op.box != nullptr) {
        if (op.phase != kInboxDone && op.phase > kInboxTake && paths) {
            // INBOX's new files without a marker (it was not written yet).
            Path p;
            if (op.phase <= kInboxMarker) {
                for (std::string_view f : {kIndexNew, kDataNew}) {
                    if (join(inbox.view(), f, &p) == Status::Ok) (void)s.fs.unlink(p.view());
                }
            }
            (void)finish_inbox_reset(s, inbox.view(), true);  // under its hold
        }
        op.box->release_hold();
        if (op.turn != nullptr) op.box->leave_turn_queue(*op.turn);
        reg_.release(op.box);
        op.box = nullptr;
    }
    if ((op.holds & kHeldInbox) != 0 && paths) reg_.let_commit(inbox.view());
    op.holds = 0;
    op.queued = false;
}

}  // namespace tinyimapd::store
