#include "core/store/user_store.h"

#include <cstring>

#include "core/base/endian.h"
#include "core/mail/mailbox_name.h"
#include "core/store/name_map.h"
#include "core/store/replace_file.h"
#include "core/store/sort_cache.h"
#include "core/store/tree_detail.h"

namespace tinyimapd::store {
using namespace tree;  // tree_detail.h
namespace {

// LIST patterns: a first level that is any case of INBOX means INBOX.
void normalize_pattern(std::string_view pattern, TextWriter& out) {
    if (pattern.size() >= kInboxName.size() &&
        ascii::iequals(ascii::head(pattern, kInboxName.size()), kInboxName) &&
        (pattern.size() == kInboxName.size() || pattern[kInboxName.size()] == '/' ||
         pattern[kInboxName.size()] == '*' || pattern[kInboxName.size()] == '%')) {
        out.put(kInboxName).put(ascii::tail(pattern, kInboxName.size()));
    } else {
        out.put(pattern);
    }
}

class ListWalker final : public port::DirVisitor {
public:
    ListWalker(port::Fs& fs, std::string_view pattern, ListVisitor& out, std::string_view dir,
               std::string_view prefix, std::size_t depth, bool* stop)
        : fs_(fs),
          pattern_(pattern),
          out_(out),
          dir_(dir),
          prefix_(prefix),
          depth_(depth),
          stop_(stop) {}

    bool entry(std::string_view name, port::FileType type) override {
        if (type != port::FileType::Directory) return true;
        FixedText<mail::kMaxMailboxName + 1> full;
        full.put(prefix_);
        if (!prefix_.empty()) full.put(mail::kHierarchyDelimiter);
        if (!decode_level(name, full) || !full.ok()) return true;
        Path child;
        if (join(dir_, name, &child) != Status::Ok) return true;
        const bool kids = has_children(fs_, child.view());
        if (match_pattern(pattern_, full.view())) {
            std::uint8_t attrs = kids ? kHasChildren : kHasNoChildren;
            if (!selectable(fs_, child.view())) attrs |= kNoselect;
            if (!out_.mailbox(full.view(), attrs)) {
                *stop_ = true;
                return false;
            }
        }
        if (kids && depth_ + 1 < mail::kMaxMailboxDepth && could_go_deeper()) {
            ListWalker sub(fs_, pattern_, out_, child.view(), full.view(), depth_ + 1, stop_);
            (void)fs_.list(child.view(), sub);
        }
        return !*stop_;
    }

private:
    // '*' reaches any depth; otherwise only as deep as the pattern's levels.
    bool could_go_deeper() const {
        std::size_t levels = 1;
        for (char c : pattern_) {
            if (c == '*') return true;
            if (c == mail::kHierarchyDelimiter) ++levels;
        }
        return depth_ + 1 < levels;
    }

    port::Fs& fs_;
    std::string_view pattern_;
    ListVisitor& out_;
    std::string_view dir_;
    std::string_view prefix_;
    std::size_t depth_;
    bool* stop_;
};

// RENAME must not push a descendant past the name limits: it would vanish
// from LIST and from the quota's usage (issue 20.7 a). Walks the subtree of
// `dir` (the mailbox being renamed, or one of its descendants) and fails
// with TooLong when a descendant that fits its limits now would not under
// the new name: its name (kMaxMailboxName), its depth (kMaxMailboxDepth) or
// its directory path with our longest file name (port::kMaxPath).
class RenameCheck final : public port::DirVisitor {
public:
    struct Lengths {
        std::size_t name, path, levels;
    };
    RenameCheck(port::Fs& fs, std::string_view dir, Lengths old_len, Lengths new_len,
                Status* verdict)
        : fs_(fs), dir_(dir), old_(old_len), new_(new_len), verdict_(verdict) {}

    static bool fits(const Lengths& l) {
        return l.name <= mail::kMaxMailboxName && l.levels <= mail::kMaxMailboxDepth &&
               l.path + 1 + kIndexNew.size() <= port::kMaxPath;
    }

    bool entry(std::string_view name, port::FileType type) override {
        if (type != port::FileType::Directory) return true;
        FixedText<mail::kMaxMailboxName + 1> level;
        if (!decode_level(name, level) || !level.ok()) return true;  // not a mailbox
        const Lengths o{old_.name + 1 + level.size(), old_.path + 1 + name.size(), old_.levels + 1};
        const Lengths n{new_.name + 1 + level.size(), new_.path + 1 + name.size(), new_.levels + 1};
        if (!fits(o)) return true;  // hidden already; the rename changes nothing for it
        if (!fits(n)) {
            *verdict_ = Status::TooLong;
            return false;
        }
        Path child;
        if (join(dir_, name, &child) != Status::Ok) return true;
        RenameCheck sub(fs_, child.view(), o, n, verdict_);
        const Status st = fs_.list(child.view(), sub);
        if (st != Status::Ok && *verdict_ == Status::Ok) *verdict_ = st;
        return *verdict_ == Status::Ok;
    }

private:
    port::Fs& fs_;
    std::string_view dir_;
    Lengths old_, new_;
    Status* verdict_;
};

std::size_t levels_of(std::string_view name) {
    std::size_t n = 1;
    for (char c : name) n += c == mail::kHierarchyDelimiter ? 1 : 0;
    return n;
}

}  // namespace

namespace {

Status finish_marked(Services& s, std::string_view dir, std::string_view marker);

}  // namespace

// Under INBOX's lock (the fs lock of its m.data): a RENAME INBOX under way
// in another process (or in this one, Mailbox::hold) holds it from before
// the marker is written until after it is gone, so an open never finishes
// or undoes an operation that is still running (Busy: retry later).
Status finish_inbox_reset(Services& s, std::string_view dir, bool held) {
    Path marker, data;
    Status st = join(dir, kResetFile, &marker);
    if (st == Status::Ok) st = join(dir, kDataFile, &data);
    if (st != Status::Ok) return st;
    port::FileInfo info;
    if (s.fs.stat(marker.view(), &info) != Status::Ok) return Status::Ok;
    port::File guard = port::kNoFile;
    if (!held) {
        auto g = s.fs.open(data.view(), port::kOpenRead | port::kOpenWrite | port::kOpenNoFollow);
        if (g.ok()) {
            st = s.fs.lock(g.value, port::LockMode::Exclusive);
            if (st != Status::Ok) {
                (void)s.fs.close(g.value);
                return st;
            }
            guard = g.value;
        }
    }
    st = finish_marked(s, dir, marker.view());
    if (guard != port::kNoFile) {
        (void)s.fs.unlock(guard);
        (void)s.fs.close(guard);
    }
    return st;
}

namespace {

// The marker is there: finished (the new name holds the copy: INBOX's new
// files renamed in) or undone (INBOX's new files removed), then unlinked.
Status finish_marked(Services& s, std::string_view dir, std::string_view marker) {
    Path dn, dp, in, ip;
    Status st = Status::Ok;
    bool committed = false;
    auto m = s.fs.open(marker, port::kOpenRead | port::kOpenNoFollow);
    if (m.ok()) {
        std::uint8_t buf[kResetMax];
        port::FsResult r = s.fs.pread(m.value, buf, sizeof buf, 0);
        (void)s.fs.close(m.value);
        if (r.status == Status::Ok && r.bytes >= 14) {
            const std::uint64_t id = le::load64(buf);
            const std::size_t n = le::load16(buf + 8);
            if (10 + n + 4 <= r.bytes && le::load32(buf + 10 + n) == crc32c(buf, 10 + n)) {
                Path dest;
                const std::string_view dest_dir(reinterpret_cast<const char*>(buf + 10), n);
                if (join(dest_dir, kDataFile, &dest) == Status::Ok) {
                    auto d = s.fs.open(dest.view(), port::kOpenRead | port::kOpenNoFollow);
                    if (d.ok()) {
                        std::uint8_t hb[kDataHeaderSize];
                        DataHeader h;
                        port::FsResult hr = s.fs.pread(d.value, hb, sizeof hb, 0);
                        committed = hr.status == Status::Ok && hr.bytes == sizeof hb &&
                                    decode(hb, &h) && h.file_id == id;
                        (void)s.fs.close(d.value);
                    }
                }
            }
        }
    }
    if ((st = join(dir, kDataNew, &dn)) != Status::Ok) return st;
    if ((st = join(dir, kDataFile, &dp)) != Status::Ok) return st;
    if ((st = join(dir, kIndexNew, &in)) != Status::Ok) return st;
    if ((st = join(dir, kIndexFile, &ip)) != Status::Ok) return st;
    if (committed) {  // the messages live under the new name: INBOX becomes empty
        st = ignore_missing(s.fs.rename(dn.view(), dp.view()));
        if (st == Status::Ok) st = ignore_missing(s.fs.rename(in.view(), ip.view()));
    } else {  // never committed: INBOX keeps its messages
        st = ignore_missing(s.fs.unlink(dn.view()));
        if (st == Status::Ok) st = ignore_missing(s.fs.unlink(in.view()));
    }
    if (st == Status::Ok) st = s.fs.sync_dir(dir);
    if (st == Status::Ok) st = s.fs.unlink(marker);
    if (st == Status::Ok) st = s.fs.sync_dir(dir);
    return st;
}

}  // namespace

Status UserStore::mailbox_dir(std::string_view name, Path* out) const {
    FixedText<port::kMaxPath + 1> t;
    Status st = mailbox_path(root_, name, t);
    if (st != Status::Ok) return st;
    return out->assign(t.view()) ? Status::Ok : Status::TooLong;
}

namespace {

// Finds one entry of a directory (the listing stops at the first).
struct FirstEntry final : port::DirVisitor {
    FixedText<port::kMaxName + 1> name;
    port::FileType type = port::FileType::Other;
    bool found = false;
    bool entry(std::string_view n, port::FileType t) override {
        name.put(n);
        type = t;
        found = true;
        return false;
    }
};

// Removes a temporary directory of ours and everything in it (bounded by the
// mailbox depth; one entry at a time, so no listing is held while removing).
Status remove_tree(port::Fs& fs, std::string_view dir, std::size_t depth) {
    if (depth > mail::kMaxMailboxDepth + 1) return Status::TooLong;
    for (;;) {
        FirstEntry e;
        Status st = fs.list(dir, e);
        if (st == Status::NotFound) return Status::Ok;
        if (st != Status::Ok) return st;
        if (!e.found) break;
        Path p;
        if ((st = join(dir, e.name.view(), &p)) != Status::Ok) return st;
        st = e.type == port::FileType::Directory ? remove_tree(fs, p.view(), depth + 1)
                                                 : fs.unlink(p.view());
        if (st != Status::Ok) return st;
    }
    return fs.rmdir(dir);
}

}  // namespace

Status UserStore::clear_tmp(std::string_view tmp) {
    port::Fs& fs = reg_.services().fs;
    if (!exists(fs, tmp, port::FileType::Directory)) return Status::Ok;
    return remove_tree(fs, tmp, 0);
}

Status UserStore::ensure(bool* created, bool* inbox_missing, bool* root_unsynced) {
    port::Fs& fs = reg_.services().fs;
    Status st = fs.mkdir(root_);
    if (created != nullptr) *created = st == Status::Ok;
    if (root_unsynced != nullptr) *root_unsynced = st == Status::Ok;
    if (st == Status::Ok && root_unsynced == nullptr) st = fs.sync_dir(parent_of(root_));
    if (st != Status::Ok && st != Status::Exists) return st;
    Path inbox;
    if ((st = mailbox_dir(kInboxName, &inbox)) != Status::Ok) return st;
    if (selectable(fs, inbox.view())) return Status::Ok;
    if (inbox_missing != nullptr) {
        *inbox_missing = true;
        return Status::Ok;
    }
    st = create(kInboxName);
    return st == Status::Exists ? Status::Ok : st;
}

Result<Mailbox*> UserStore::open(std::string_view name) {
    Path dir;
    Status st = mailbox_dir(name, &dir);
    if (st != Status::Ok)
        return Result<Mailbox*>::failure(st == Status::TooLong ? Status::NotFound : st);
    return reg_.acquire(dir.view());
}

Status UserStore::status(std::string_view name, StatusInfo* out) {
    auto r = open(name);
    if (!r.ok()) return r.status;
    Status st = r.value->status(out);
    close(r.value);
    return st;
}

// RENAME's checks before anything is written: `from` exists, `to` does
// not, `to` is not inside `from`, and every descendant keeps a name within
// the limits (RenameCheck).
Status UserStore::rename_check(std::string_view from, std::string_view to) {
    port::Fs& fs = reg_.services().fs;
    Path fd, td;
    Status st = mailbox_dir(from, &fd);
    if (st == Status::Ok) st = mailbox_dir(to, &td);
    if (st != Status::Ok) return st;
    if (mail::is_inbox(to)) return Status::Exists;
    if (!exists(fs, fd.view(), port::FileType::Directory)) return Status::NotFound;
    st = directory_at(fs, td.view());
    if (st == Status::Ok) return Status::Exists;
    if (st != Status::NotFound) return st;
    const std::string_view f = fd.view(), t = td.view();
    if (t.size() > f.size() && ascii::head(t, f.size()) == f && t[f.size()] == '/')
        return Status::Invalid;  // into itself
    FixedText<mail::kMaxMailboxName + 8> from_norm, to_norm;
    mail::normalize_mailbox(from, from_norm);
    mail::normalize_mailbox(to, to_norm);
    if (!from_norm.ok() || !to_norm.ok()) return Status::TooLong;
    Status verdict = Status::Ok;
    RenameCheck check(fs, f, {from_norm.size(), f.size(), levels_of(from_norm.view())},
                      {to_norm.size(), t.size(), levels_of(to_norm.view())}, &verdict);
    if ((st = fs.list(f, check)) != Status::Ok) return st;
    return verdict;
}

Status UserStore::list(std::string_view reference, std::string_view pattern, ListVisitor& out) {
    FixedText<2 * mail::kMaxMailboxName + 2> joined, norm;
    joined.put(reference).put(pattern);
    if (!joined.ok()) return Status::TooLong;
    normalize_pattern(joined.view(), norm);
    if (!norm.ok()) return Status::TooLong;
    bool stop = false;
    ListWalker w(reg_.services().fs, norm.view(), out, root_, {}, 0, &stop);
    return reg_.services().fs.list(root_, w);
}

Status UserStore::list_subscribed(std::string_view reference, std::string_view pattern,
                                  ListVisitor& out) {
    FixedText<2 * mail::kMaxMailboxName + 2> joined, norm;
    joined.put(reference).put(pattern);
    if (!joined.ok()) return Status::TooLong;
    normalize_pattern(joined.view(), norm);
    if (!norm.ok()) return Status::TooLong;
    port::Fs& fs = reg_.services().fs;
    Path cur;
    Status st = join(root_, kSubscriptionsFile, &cur);
    if (st != Status::Ok) return st;
    auto in = fs.open(cur.view(), port::kOpenRead | port::kOpenNoFollow);
    if (in.status == Status::NotFound) return Status::Ok;
    if (!in.ok()) return in.status;
    LineReader lr(fs, in.value);
    std::string_view line;
    while (lr.next(&line)) {
        if (!match_pattern(norm.view(), line)) continue;
        std::uint8_t attrs = kSubscribed;
        Path dir;
        if (mailbox_dir(line, &dir) != Status::Ok ||
            !exists(fs, dir.view(), port::FileType::Directory)) {
            attrs |= kNoselect | kNonExistent;
        } else if (!selectable(fs, dir.view())) {
            attrs |= kNoselect;
        }
        if (!out.mailbox(line, attrs)) break;
    }
    st = lr.status();
    (void)fs.close(in.value);
    return st;
}

// True if some line of the subscription file satisfies `match`.
template <class Match>
bool UserStore::any_subscription(Match match) {
    port::Fs& fs = reg_.services().fs;
    Path cur;
    if (join(root_, kSubscriptionsFile, &cur) != Status::Ok) return false;
    auto in = fs.open(cur.view(), port::kOpenRead | port::kOpenNoFollow);
    if (!in.ok()) return false;
    LineReader lr(fs, in.value);
    std::string_view line;
    bool found = false;
    while (!found && lr.next(&line)) found = match(line);
    (void)fs.close(in.value);
    return found;
}

bool UserStore::is_subscribed(std::string_view name) {
    FixedText<mail::kMaxMailboxName + 8> norm;
    mail::normalize_mailbox(name, norm);
    return norm.ok() &&
           any_subscription([&](std::string_view line) { return line == norm.view(); });
}

bool UserStore::has_subscribed_child(std::string_view name, std::string_view unless) {
    FixedText<mail::kMaxMailboxName + 8> prefix;
    mail::normalize_mailbox(name, prefix);
    prefix.put(mail::kHierarchyDelimiter);
    return prefix.ok() && any_subscription([&](std::string_view line) {
               return line.size() > prefix.size() &&
                      ascii::head(line, prefix.size()) == prefix.view() &&
                      (unless.empty() || !match_pattern(unless, line));
           });
}

bool UserStore::mailbox_has_children(std::string_view name) {
    Path dir;
    return mailbox_dir(name, &dir) == Status::Ok &&
           store::has_children(reg_.services().fs, dir.view());
}

std::uint8_t UserStore::special_use(std::string_view name) {
    port::Fs& fs = reg_.services().fs;
    Path dir, file;
    if (mailbox_dir(name, &dir) != Status::Ok ||
        join(dir.view(), kSpecialUseFile, &file) != Status::Ok) {
        return 0;
    }
    auto in = fs.open(file.view(), port::kOpenRead | port::kOpenNoFollow);
    if (!in.ok()) return 0;
    // A \Noselect name has none: an m.use there is a CREATE's that a crash
    // cut short before its m.data (tree_ops.cpp, kCreateUse).
    if (!selectable(fs, dir.view())) {
        (void)fs.close(in.value);
        return 0;
    }
    LineReader lr(fs, in.value);
    std::string_view line;
    std::uint8_t uses = 0;
    while (lr.next(&line)) uses |= mail::special_use_bit(line);
    (void)fs.close(in.value);
    return uses;
}

// Written whole to m.use.new, made durable and renamed over m.use.
Status UserStore::set_special_use(std::string_view name, std::uint8_t uses) {
    port::Fs& fs = reg_.services().fs;
    Path dir, file, next;
    Status st = mailbox_dir(name, &dir);
    if (st == Status::Ok) st = join(dir.view(), kSpecialUseFile, &file);
    if (st == Status::Ok) st = join(dir.view(), kUseNew, &next);
    if (st != Status::Ok) return st;
    if (uses == 0) {
        st = ignore_missing(fs.unlink(file.view()));
        return st == Status::Ok ? fs.sync_dir(dir.view()) : st;
    }
    return replace_file(fs, dir.view(), next.view(), file.view(), SpecialUseText(uses).view());
}

}  // namespace tinyimapd::store
