// The tree operations of UserStore in steps (TreeOp, user_store.h): CREATE,
// DELETE, RENAME, SUBSCRIBE/UNSUBSCRIBE, each stopping at its durability
// barriers so that the server's I/O threads do the flushes while the loop
// serves other clients (docs/STORAGE.md "Write order", "Flushes leave the
// loop"). The synchronous calls (create, remove, rename, subscribe) are the
// same steps with every flush done in place.
#include "core/store/mailbox_detail.h"
#include "core/store/tree_detail.h"

namespace tinyimapd::store {
using namespace tree;

namespace {

// The phases of each operation (TreeOp::phase).
enum CreatePhase : std::uint8_t { kCreateCheck, kCreateLevels, kCreateUse, kCreateAcl,
                                  kCreateIndex, kCreateData, kCreateRename, kCreateCommit,
                                  kCreateDone };
enum RemovePhase : std::uint8_t { kRemoveCommit, kRemoveFiles, kRemoveClear, kRemoveDone };
enum RenamePhase : std::uint8_t { kRenameCheck, kRenameParents, kRenameMove, kRenameOldParent,
                                  kRenameDone };
enum SubscribePhase : std::uint8_t { kSubsWrite, kSubsRename, kSubsDone };

Status lock_tree(port::Fs& fs, std::string_view root, port::File* out) {
    Path p;
    Status st = join(root, kTreeLock, &p);
    if (st != Status::Ok) return st;
    Result<port::File> f =
        fs.open(p.view(), port::kOpenRead | port::kOpenWrite | port::kOpenCreate);
    if (!f.ok()) return f.status;
    st = fs.lock(f.value, port::LockMode::Exclusive);
    if (st != Status::Ok) {
        (void)fs.close(f.value);
        return st;
    }
    *out = f.value;
    return Status::Ok;
}

// CREATE's places: the mailbox's directory; over a \Noselect name (top 0)
// that is all. Else the first missing level (dir's first `top` bytes), its
// parent, the temporary directory beside it and the mailbox's directory
// inside that (`inner`).
struct CreatePlaces {
    Path dir, tmp, inner;
    std::string_view first_missing, parent;
};

Status create_places(const UserStore& user, const TreeOp& op, CreatePlaces* p) {
    Status st = user.mailbox_dir(op.name, &p->dir);
    if (st != Status::Ok || op.top == 0) return st;
    const std::string_view d = p->dir.view();
    p->first_missing = ascii::head(d, op.top);
    p->parent = parent_of(p->first_missing);
    if ((st = join(p->parent, kCreateTmp, &p->tmp)) != Status::Ok) return st;
    FixedText<port::kMaxPath + 1> inner;
    inner.put(p->tmp.view()).put(ascii::tail(d, op.top));
    return inner.ok() && p->inner.assign(inner.view()) ? Status::Ok : Status::TooLong;
}

}  // namespace

Status UserStore::create(std::string_view name, std::uint64_t* mailbox_id, std::uint8_t use) {
    TreeOp op(TreeOp::Kind::Create, name);
    op.use = use;
    const Status st = step(op);
    if (mailbox_id != nullptr) *mailbox_id = op.mailbox_id;
    return st;
}

Status UserStore::remove(std::string_view name) {
    TreeOp op(TreeOp::Kind::Remove, name);
    return step(op);
}

Status UserStore::rename(std::string_view from, std::string_view to) {
    TreeOp op(TreeOp::Kind::Rename, from, to);
    return step(op);
}

Status UserStore::subscribe(std::string_view name, bool subscribed) {
    TreeOp op(subscribed ? TreeOp::Kind::Subscribe : TreeOp::Kind::Unsubscribe, name);
    return step(op);
}

Status UserStore::step(TreeOp& op) {
    if (op.pending) return Status::WouldBlock;  // its flush has not been reported yet
    Status st = op.flush_status;                // the last barrier's flush
    if (st == Status::Ok && op.lock == port::kNoFile) {
        st = lock_tree(reg_.services().fs, root_, &op.lock);
    }
    if (st == Status::Ok) st = run_steps(op);
    // Ended: what it holds goes. RENAME INBOX waiting for INBOX's write
    // turn (`queued`) keeps the tree lock.
    if (st != Status::WouldBlock && !(st == Status::Busy && op.queued)) abort(op);
    return st;
}

void UserStore::abort(TreeOp& op) {
    port::Fs& fs = reg_.services().fs;
    if (op.file != port::kNoFile) (void)fs.close(op.file);
    op.file = port::kNoFile;
    if (op.box != nullptr || op.holds != 0) inbox_abort(op);  // RENAME INBOX's
    op.queued = false;
    if (op.marked && op.kind == TreeOp::Kind::Root) {  // given up: its sync in place
        if (op.pending) (void)fs.sync_dir(parent_of(root_));
        reg_.let_commit(root_);
        op.marked = false;
    }
    if (op.marked) {
        // A CREATE given up while its commit's directory sync runs: that
        // sync is done here, so that the mailbox is durable before anyone
        // may write into it (the client left: rare).
        CreatePlaces p;
        if (create_places(*this, op, &p) == Status::Ok) {
            const std::string_view held = op.top == 0 ? p.dir.view() : p.first_missing;
            if (op.pending) (void)fs.sync_dir(op.top == 0 ? p.dir.view() : p.parent);
            reg_.let_commit(held);
        }
        op.marked = false;
    }
    if (op.lock != port::kNoFile) {
        (void)fs.unlock(op.lock);
        (void)fs.close(op.lock);
    }
    op.lock = port::kNoFile;
    op.pending = false;
}

// A durability barrier: the flush of `f` (or, f being kNoFile, the sync of
// directory `dir`), after which the operation goes on at phase `next`.
// WouldBlock: started on an I/O thread; else done here (its outcome).
Status UserStore::barrier(TreeOp& op, port::File f, std::string_view dir, std::uint8_t next) {
    port::Fs& fs = reg_.services().fs;
    op.phase = next;
    if (op.async) {
        const Status st =
            f != port::kNoFile ? fs.flush_start(f, op.token) : fs.sync_dir_start(dir, op.token);
        if (st == Status::Ok) {
            op.pending = true;
            return Status::WouldBlock;
        }
        if (st != Status::Unsupported && st != Status::Exhausted) return st;
    }
    return f != port::kNoFile ? fs.fsync(f) : fs.sync_dir(dir);
}

Status UserStore::run_steps(TreeOp& op) {
    switch (op.kind) {
        case TreeOp::Kind::Create: return create_steps(op);
        case TreeOp::Kind::Remove: return remove_steps(op);
        case TreeOp::Kind::Rename: return rename_steps(op);
        case TreeOp::Kind::Root: return root_steps(op);
        default: return subscribe_steps(op);
    }
}

// ---- CREATE --------------------------------------------------------------------

// Everything missing — superiors and the mailbox — is built in one temporary
// directory beside the first missing level, then renamed into place: a
// crash leaves either nothing or the whole new branch. Over a \Noselect
// directory, the mailbox's files are made in it (m.data last, by rename).
Status UserStore::create_prepare(TreeOp& op) {
    Services& s = reg_.services();
    Path dir;
    Status st = mailbox_dir(op.name, &dir);
    if (st != Status::Ok) return st;
    op.phase = kCreateUse;
    if (exists(s.fs, dir.view(), port::FileType::Directory)) {
        return selectable(s.fs, dir.view()) ? Status::Exists : Status::Ok;  // top 0
    }
    const std::string_view d = dir.view();
    std::size_t top = d.size();  // end of the first missing level
    for (std::size_t i = root_.size() + 1; i <= d.size(); ++i) {
        if (i < d.size() && d[i] != '/') continue;
        st = directory_at(s.fs, ascii::head(d, i));
        if (st == Status::NotFound) {
            top = i;
            break;
        }
        if (st != Status::Ok) return st;  // a link or a file where a level goes
    }
    op.top = static_cast<std::uint32_t>(top);
    CreatePlaces p;
    if ((st = create_places(*this, op, &p)) != Status::Ok) return st;
    if ((st = clear_tmp(p.tmp.view())) != Status::Ok) return st;
    if ((st = s.fs.mkdir(p.tmp.view())) != Status::Ok) return st;
    const std::string_view inner = p.inner.view();
    for (std::size_t i = p.tmp.view().size() + 1; i < inner.size(); ++i) {
        if (inner[i] == '/' && (st = s.fs.mkdir(ascii::head(inner, i))) != Status::Ok) return st;
    }
    if (top < d.size()) {
        if ((st = s.fs.mkdir(inner)) != Status::Ok) return st;
        // Directory entries inside tmp become durable with their syncs,
        // from the deepest parent of the mailbox up to tmp.
        op.at = static_cast<std::uint32_t>(parent_of(inner).size());
        op.phase = kCreateLevels;
    }
    return Status::Ok;
}

// m.use (CREATE's USE), m.acl (inherited), m.index, then m.data under a
// temporary name, each flushed; the rename to m.data is what makes the
// directory a selectable mailbox (in tmp, or over a \Noselect name the
// commit): the special use and the ACL are there from the moment the
// mailbox is.
Status UserStore::create_files_steps(TreeOp& op, std::string_view inner,
                                     std::string_view ancestor) {
    Services& s = reg_.services();
    Status st = Status::Ok;
    Path p, q;
    constexpr std::uint32_t kNew = detail::kCreateNew | port::kOpenNoFollow;
    if (op.phase == kCreateUse) {
        op.phase = kCreateAcl;
        if ((st = join(inner, kSpecialUseFile, &p)) != Status::Ok) return st;
        // Over a \Noselect name, an m.use a crashed CREATE left must not
        // become this mailbox's (the commit's directory sync makes it durable).
        if (op.use == 0 && op.top == 0 &&
            (st = ignore_missing(s.fs.unlink(p.view()))) != Status::Ok) {
            return st;
        }
        if (op.use != 0) {
            Result<port::File> f = s.fs.open(p.view(), port::kOpenWrite | port::kOpenCreate |
                                                           port::kOpenTruncate |
                                                           port::kOpenNoFollow);
            if (!f.ok()) return f.status;
            op.file = f.value;
            const SpecialUseText text(op.use);
            st = s.fs.pwrite(op.file, text.view().data(), text.size(), 0).status;
            if (st == Status::Ok) st = barrier(op, op.file, {}, kCreateAcl);
            if (st != Status::Ok) return st;
        }
    }
    if (op.phase == kCreateAcl && (st = create_acl_step(op, inner, ancestor)) != Status::Ok) {
        return st;
    }
    if (op.phase == kCreateIndex) {
        if (op.file != port::kNoFile) {  // m.use's or m.acl's
            st = s.fs.close(op.file);
            op.file = port::kNoFile;
            if (st != Status::Ok) return st;
        }
        Mailbox::encode_empty(s, reg_.new_uid_validity(), 1, 1, 0, op.empty,
                              op.empty + kStateSlotSize, &op.mailbox_id);
        if ((st = join(inner, kIndexFile, &p)) != Status::Ok) return st;
        Result<port::File> f = s.fs.open(p.view(), kNew);
        if (!f.ok()) return f.status;
        op.file = f.value;
        st = s.fs.pwrite(op.file, op.empty, kStateSlotSize, 0).status;
        if (st == Status::Ok) st = barrier(op, op.file, {}, kCreateData);
        if (st != Status::Ok) return st;
    }
    if (op.phase == kCreateData) {
        st = s.fs.close(op.file);
        op.file = port::kNoFile;
        if (st == Status::Ok) st = join(inner, kDataNew, &p);
        if (st != Status::Ok) return st;
        Result<port::File> f = s.fs.open(p.view(), kNew);
        if (!f.ok()) return f.status;
        op.file = f.value;
        st = s.fs.pwrite(op.file, op.empty + kStateSlotSize, kDataHeaderSize, 0).status;
        if (st == Status::Ok) st = barrier(op, op.file, {}, kCreateRename);
        if (st != Status::Ok) return st;
    }
    if (op.phase != kCreateRename) return Status::Ok;
    st = s.fs.close(op.file);
    op.file = port::kNoFile;
    if (st == Status::Ok) st = join(inner, kDataNew, &p);
    if (st == Status::Ok) st = join(inner, kDataFile, &q);
    if (st != Status::Ok) return st;
    if (op.top == 0) return create_commit(op, p.view(), q.view(), inner, kCreateDone);
    if ((st = s.fs.rename(p.view(), q.view())) != Status::Ok) return st;
    return barrier(op, port::kNoFile, inner, kCreateCommit);
}

// RFC 4314 §4: "When a new mailbox is created, it SHOULD inherit the ACL
// from the parent mailbox": the nearest existing parent's m.acl, if it has
// one, is copied into the new directory and flushed before the mailbox
// exists (a file that is not valid there reads as the owner's alone in the
// copy too, never more).
Status UserStore::create_acl_step(TreeOp& op, std::string_view inner, std::string_view ancestor) {
    port::Fs& fs = reg_.services().fs;
    op.phase = kCreateIndex;
    if (op.file != port::kNoFile) {  // m.use's
        const Status c = fs.close(op.file);
        op.file = port::kNoFile;
        if (c != Status::Ok) return c;
    }
    Path from, to;
    Status st = join(ancestor, kAclFile, &from);
    if (st == Status::Ok) st = join(inner, kAclFile, &to);
    if (st != Status::Ok || ancestor.size() <= root_.size()) return st;  // no ACL at the top
    char text[kMaxAclFile + 1];
    Result<port::File> in = fs.open(from.view(), port::kOpenRead | port::kOpenNoFollow);
    if (!in.ok()) return ignore_missing(in.status);
    const port::FsResult r = fs.pread(in.value, text, sizeof text, 0);
    (void)fs.close(in.value);
    if (r.status != Status::Ok || r.bytes > kMaxAclFile) return Status::Ok;  // none to inherit
    Result<port::File> out = fs.open(to.view(), port::kOpenWrite | port::kOpenCreate |
                                                    port::kOpenTruncate | port::kOpenNoFollow);
    if (!out.ok()) return out.status;
    op.file = out.value;
    st = fs.pwrite(op.file, text, r.bytes, 0).status;
    return st == Status::Ok ? barrier(op, op.file, {}, kCreateIndex) : st;
}

// The commit: the rename that makes the mailbox appear, then the sync of
// the directory it is in. While that sync runs on an I/O thread the
// Registry holds the new mailbox back (hold_commit): nothing is
// acknowledged into it before it is durable.
Status UserStore::create_commit(TreeOp& op, std::string_view from, std::string_view to,
                                std::string_view dir, std::uint8_t next) {
    port::Fs& fs = reg_.services().fs;
    const std::string_view held = op.top == 0 ? std::string_view(to).substr(0, dir.size()) : to;
    op.marked = op.async && reg_.hold_commit(held);
    const Status st = fs.rename(from, to);
    if (st != Status::Ok) return st;  // abort() lets it go
    if (!op.marked) {
        op.phase = next;
        return fs.sync_dir(dir);
    }
    return barrier(op, port::kNoFile, dir, next);
}

Status UserStore::create_steps(TreeOp& op) {
    Status st = Status::Ok;
    if (op.phase == kCreateCheck && (st = create_prepare(op)) != Status::Ok) return st;
    CreatePlaces p;
    if ((st = create_places(*this, op, &p)) != Status::Ok) return st;
    while (op.phase == kCreateLevels) {
        const std::string_view level = ascii::head(p.inner.view(), op.at);
        const bool last = level.size() <= p.tmp.view().size();
        op.at = static_cast<std::uint32_t>(parent_of(level).size());
        st = barrier(op, port::kNoFile, level, last ? kCreateUse : kCreateLevels);
        if (st != Status::Ok) return st;
    }
    const std::string_view inner = op.top == 0 ? p.dir.view() : p.inner.view();
    // The nearest existing parent (the first missing level's, or the
    // \Noselect name's own parent).
    const std::string_view ancestor = op.top == 0 ? parent_of(p.dir.view()) : p.parent;
    if (op.phase <= kCreateRename && (st = create_files_steps(op, inner, ancestor)) != Status::Ok) {
        return st;
    }
    if (op.phase == kCreateCommit) {
        st = create_commit(op, p.tmp.view(), p.first_missing, p.parent, kCreateDone);
        if (st != Status::Ok) return st;
    }
    if (op.marked) reg_.let_commit(op.top == 0 ? p.dir.view() : p.first_missing);
    op.marked = false;
    return Status::Ok;
}

// ---- DELETE --------------------------------------------------------------------

Status UserStore::remove_steps(TreeOp& op) {
    Services& s = reg_.services();
    if (mail::is_inbox(op.name)) return Status::Permission;
    Path dir, tmp;
    Status st = mailbox_dir(op.name, &dir);
    if (st != Status::Ok) return st == Status::TooLong ? Status::NotFound : st;
    const std::string_view parent = parent_of(dir.view());
    if ((st = join(parent, kDeleteTmp, &tmp)) != Status::Ok) return st;
    if (op.phase == kRemoveFiles || op.top != 0) return remove_parent_steps(op, dir.view());
    if (op.phase == kRemoveCommit) {
        if (!exists(s.fs, dir.view(), port::FileType::Directory)) return Status::NotFound;
        if (has_children(s.fs, dir.view())) {
            op.top = 1;  // the mailbox stays as a \Noselect parent
            return remove_parent_steps(op, dir.view());
        }
        if ((st = clear_tmp(tmp.view())) != Status::Ok) return st;
        if ((st = s.fs.rename(dir.view(), tmp.view())) != Status::Ok) return st;  // the commit
        // Sessions that have it selected are told (RFC 2180 §3.3): the open
        // Mailbox is retired once the deletion is committed, so nothing is
        // acknowledged into it afterwards.
        reg_.retire(dir.view());
        if ((st = barrier(op, port::kNoFile, parent, kRemoveClear)) != Status::Ok) return st;
    }
    if (op.phase == kRemoveClear) {
        (void)clear_tmp(tmp.view());
        if ((st = barrier(op, port::kNoFile, parent, kRemoveDone)) != Status::Ok) return st;
    }
    return Status::Ok;
}

// RFC 3501 §6.3.4: a mailbox with children stays as \Noselect for them:
// unlink m.data (the commit), sync, then the rest of its files, sync.
Status UserStore::remove_parent_steps(TreeOp& op, std::string_view dir) {
    Services& s = reg_.services();
    Path p;
    Status st = Status::Ok;
    if (op.phase == kRemoveCommit) {
        if (!selectable(s.fs, dir)) return Status::NotEmpty;
        if ((st = join(dir, kDataFile, &p)) != Status::Ok) return st;
        if ((st = s.fs.unlink(p.view())) != Status::Ok) return st;  // the commit
        reg_.retire(dir);
        if ((st = barrier(op, port::kNoFile, dir, kRemoveFiles)) != Status::Ok) return st;
    }
    if (op.phase == kRemoveFiles) {
        for (std::string_view f : kOwnFiles) {
            if (join(dir, f, &p) == Status::Ok) (void)s.fs.unlink(p.view());
        }
        if ((st = barrier(op, port::kNoFile, dir, kRemoveDone)) != Status::Ok) return st;
    }
    return Status::Ok;
}

// ---- RENAME --------------------------------------------------------------------

// Every directory strictly between the root and `dir` that is missing is
// made and its entry synced (op.at: where the scan goes on).
Status UserStore::make_parents_steps(TreeOp& op, std::string_view dir, std::uint8_t next) {
    port::Fs& fs = reg_.services().fs;
    if (op.at == 0) op.at = static_cast<std::uint32_t>(root_.size() + 1);
    while (op.at < dir.size()) {
        const std::size_t i = op.at++;
        if (dir[i] != '/') continue;
        const std::string_view sub = ascii::head(dir, i);
        Status st = directory_at(fs, sub);
        if (st == Status::Ok) continue;
        if (st != Status::NotFound) return st;
        st = fs.mkdir(sub);
        if (st == Status::Exists) st = directory_at(fs, sub);
        if (st == Status::Ok) st = barrier(op, port::kNoFile, parent_of(sub), op.phase);
        if (st != Status::Ok) return st;
    }
    op.phase = next;
    return Status::Ok;
}

// One rename() of the directory (children move along), then the syncs of
// both parents.
Status UserStore::rename_steps(TreeOp& op) {
    Services& s = reg_.services();
    Path fd, td;
    Status st = mailbox_dir(op.name, &fd);
    if (st == Status::Ok) st = mailbox_dir(op.to, &td);
    if (st != Status::Ok) return st;
    const std::string_view f = fd.view(), t = td.view();
    if (op.phase == kRenameCheck) {
        if ((st = rename_check(op.name, op.to)) != Status::Ok) return st;
        op.phase = kRenameParents;
    }
    if (op.phase == kRenameParents &&
        (st = make_parents_steps(op, t, kRenameMove)) != Status::Ok) {
        return st;
    }
    // RENAME INBOX: its own phases (tree_inbox.cpp).
    if (op.phase == kRenameMove && mail::is_inbox(op.name)) op.phase = kInboxFirst;
    if (op.phase >= kInboxFirst) return inbox_steps(op, f, t);
    if (op.phase == kRenameMove) {
        if ((st = s.fs.rename(f, t)) != Status::Ok) return st;
        // RFC 2180 §3.4: sessions that have it (or a child) selected go on
        // working on it under its new name; the handles stay valid.
        (void)reg_.move(f, t);
        st = barrier(op, port::kNoFile, parent_of(t), kRenameOldParent);
        if (st != Status::Ok) return st;
    }
    if (op.phase == kRenameOldParent && parent_of(t) != parent_of(f)) {
        return barrier(op, port::kNoFile, parent_of(f), kRenameDone);
    }
    return Status::Ok;
}

// ---- a first login's root ------------------------------------------------------

// The new root's entry in mail_dir synced (ensure made it, root_unsynced):
// until then the Registry holds back every mailbox below it, so that
// nothing is acknowledged in a tree a crash could still take away.
Status UserStore::root_steps(TreeOp& op) {
    if (op.phase == 0) {
        op.marked = op.async && reg_.hold_commit(root_);
        const Status st = barrier(op, port::kNoFile, parent_of(root_), 1);
        if (st != Status::Ok) return st;
    }
    if (op.marked) reg_.let_commit(root_);
    op.marked = false;
    return Status::Ok;
}

// ---- SUBSCRIBE -----------------------------------------------------------------

// subs.new written (the list without the name, and with it at the end when
// subscribing) and flushed; Ok with phase kSubsDone when nothing changes.
Status UserStore::subscribe_write(TreeOp& op) {
    const bool subscribed = op.kind == TreeOp::Kind::Subscribe;
    op.phase = kSubsDone;
    if (!mail::is_valid_mailbox_name(op.name)) return Status::Invalid;
    FixedText<mail::kMaxMailboxName + 8> norm;
    mail::normalize_mailbox(op.name, norm);
    if (!norm.ok()) return Status::TooLong;
    port::Fs& fs = reg_.services().fs;
    Path cur, next;
    Status st = join(root_, kSubscriptionsFile, &cur);
    if (st == Status::Ok) st = join(root_, kSubsNew, &next);
    if (st != Status::Ok) return st;
    auto in = fs.open(cur.view(), port::kOpenRead | port::kOpenNoFollow);
    if (!in.ok() && in.status != Status::NotFound) return in.status;
    bool present = false;  // first pass: is it there already?
    if (in.ok()) {
        LineReader lr(fs, in.value);
        std::string_view line;
        while (!present && lr.next(&line)) present = line == norm.view();
        if (lr.status() != Status::Ok) st = lr.status();
    }
    if (st == Status::Ok && present != subscribed) {
        auto out = fs.open(next.view(), port::kOpenWrite | port::kOpenCreate |
                                            port::kOpenTruncate | port::kOpenNoFollow);
        st = out.status;
        if (out.ok()) op.file = out.value;
    }
    if (st != Status::Ok || op.file == port::kNoFile) {
        if (in.ok()) (void)fs.close(in.value);
        return st;
    }
    std::uint64_t at = 0;
    auto put = [&](std::string_view line) {
        if (st != Status::Ok) return;
        st = fs.pwrite(op.file, line.data(), line.size(), at).status;
        if (st == Status::Ok) st = fs.pwrite(op.file, "\n", 1, at + line.size()).status;
        at += line.size() + 1;
    };
    if (in.ok()) {
        LineReader lr(fs, in.value);
        std::string_view line;
        while (lr.next(&line))
            if (line != norm.view()) put(line);
        if (st == Status::Ok) st = lr.status();
        (void)fs.close(in.value);
    }
    if (subscribed) put(norm.view());
    return st == Status::Ok ? barrier(op, op.file, {}, kSubsRename) : st;
}

// SUBSCRIBE (docs/STORAGE.md "Write order"): subs.new written, flushed,
// renamed over subs.txt, the root synced.
Status UserStore::subscribe_steps(TreeOp& op) {
    port::Fs& fs = reg_.services().fs;
    Status st = Status::Ok;
    if (op.phase == kSubsWrite && (st = subscribe_write(op)) != Status::Ok) return st;
    if (op.phase != kSubsRename) return Status::Ok;
    st = fs.close(op.file);
    op.file = port::kNoFile;
    Path cur, next;
    if (st == Status::Ok) st = join(root_, kSubscriptionsFile, &cur);
    if (st == Status::Ok) st = join(root_, kSubsNew, &next);
    if (st == Status::Ok) st = fs.rename(next.view(), cur.view());
    return st == Status::Ok ? barrier(op, port::kNoFile, root_, kSubsDone) : st;
}

}  // namespace tinyimapd::store
