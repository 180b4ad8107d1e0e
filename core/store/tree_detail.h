// Helpers shared by the files of UserStore (user_store.cpp, tree_ops.cpp,
// tree_inbox.cpp):
// our fixed names, path joining, what a path holds, the line reader of the
// subscription and special-use files. Internal to core/store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/base/text.h"
#include "core/mail/mailbox_name.h"
#include "core/store/acl.h"
#include "core/store/metadata.h"
#include "core/store/name_map.h"
#include "core/store/sort_cache.h"
#include "core/store/user_store.h"

namespace tinyimapd::store::tree {


inline constexpr std::string_view kCreateTmp = "c.tmp";
inline constexpr std::string_view kDeleteTmp = "d.tmp";
inline constexpr std::string_view kInboxTmp = "i.tmp";
// Tree operations (CREATE, DELETE, RENAME) of one user are serialised across
// processes (the server, `tinyimapd deliver --create`, import) by a lock on
// this file in the user's root: the temporary directories above are fixed
// names, so two at once would trip over each other.
inline constexpr std::string_view kTreeLock = "tree.lock";
inline constexpr std::string_view kResetFile = "m.reset";
// The marker of RENAME INBOX: u64 file id of the INBOX data copied to the
// new name, u16 length, the new name's directory path, CRC-32C (LE).
inline constexpr std::size_t kResetMax = 8 + 2 + port::kMaxPath + 4;
// RENAME's phases from here on are RENAME INBOX's (tree_inbox.cpp).
inline constexpr std::uint8_t kInboxFirst = 16;
inline constexpr std::string_view kSubsNew = "subs.new";
inline constexpr std::string_view kInboxName = "INBOX";
// Our files inside a mailbox directory (removed by DELETE).
inline constexpr std::string_view kUseNew = "m.use.new";
inline constexpr std::string_view kOwnFiles[] = {
    kDataFile,       kIndexFile, kDataNew,  kIndexNew, kResetFile, kSpecialUseFile, kUseNew,
    kSortCacheFile,  kMetaFile,  kMetaNew,  kAclFile,  kAclNew};  // m.acl: RFC 4314 §4 DELETE

inline Status join(std::string_view a, std::string_view b, Path* out) {
    FixedText<port::kMaxPath + 1> t;
    t.put(a).put('/').put(b);
    if (!t.ok() || !out->assign(t.view())) return Status::TooLong;
    return Status::Ok;
}

inline std::string_view parent_of(std::string_view path) {
    const std::size_t cut = path.rfind('/');
    return cut == std::string_view::npos ? std::string_view(".") : ascii::head(path, cut);
}

inline bool exists(port::Fs& fs, std::string_view path, port::FileType type) {
    port::FileInfo info;
    return fs.stat(path, &info) == Status::Ok && info.type == type;
}

// What a mailbox's directory path holds: Ok for a directory, NotFound for
// nothing, Permission for anything else — a file, or a symbolic link at or
// above it (never followed: port/fs.h "Symbolic links"), which no tree
// operation may replace or go through.
inline Status directory_at(port::Fs& fs, std::string_view path) {
    port::FileInfo info;
    const Status st = fs.stat(path, &info);
    if (st == Status::Ok)
        return info.type == port::FileType::Directory ? Status::Ok : Status::Permission;
    return st == Status::NotDir ? Status::Permission : st;
}

inline bool selectable(port::Fs& fs, std::string_view dir) {
    Path p;
    return join(dir, kDataFile, &p) == Status::Ok && exists(fs, p.view(), port::FileType::Regular);
}

inline Status ignore_missing(Status s) {
    return s == Status::NotFound ? Status::Ok : s;
}

// m.use's contents: the special-use attributes (RFC 6154), one per line.
struct SpecialUseText : FixedText<128> {
    explicit SpecialUseText(std::uint8_t uses) {
        for (std::uint8_t bit = 1; bit != 0; bit = static_cast<std::uint8_t>(bit << 1)) {
            if ((uses & bit) != 0) put(mail::special_use_name(bit)).put('\n');
        }
    }
};

struct ChildProbe final : port::DirVisitor {
    bool found = false;
    bool entry(std::string_view name, port::FileType type) override {
        FixedText<port::kMaxName + 1> t;
        if (type == port::FileType::Directory && decode_level(name, t)) found = true;
        return !found;
    }
};

inline bool has_children(port::Fs& fs, std::string_view dir) {
    ChildProbe p;
    return fs.list(dir, p) == Status::Ok && p.found;
}

// Reads a file line by line into a bounded buffer; longer lines are skipped.
class LineReader {
public:
    LineReader(port::Fs& fs, port::File f) : fs_(fs), f_(f) {}
    // False at the end (or on an error: status()).
    bool next(std::string_view* line) {
        for (;;) {
            if (pos_ == len_) {
                port::FsResult r = fs_.pread(f_, buf_, sizeof buf_, at_);
                if (r.status != Status::Ok) {
                    status_ = r.status;
                    return false;
                }
                if (r.bytes == 0) {
                    if (line_len_ > 0 && !skipping_) {
                        *line = std::string_view(line_, line_len_);
                        line_len_ = 0;
                        return true;
                    }
                    return false;
                }
                at_ += r.bytes;
                len_ = r.bytes;
                pos_ = 0;
            }
            const char c = buf_[pos_++];
            if (c == '\n') {
                const bool ok = !skipping_ && line_len_ > 0;
                const std::size_t n = line_len_;
                line_len_ = 0;
                skipping_ = false;
                if (ok) {
                    *line = std::string_view(line_, n);
                    return true;
                }
            } else if (line_len_ == sizeof line_) {
                skipping_ = true;
            } else if (!skipping_) {
                line_[line_len_++] = c;
            }
        }
    }
    Status status() const { return status_; }

private:
    port::Fs& fs_;
    port::File f_;
    char buf_[256];
    std::size_t pos_ = 0, len_ = 0;
    std::uint64_t at_ = 0;
    char line_[mail::kMaxMailboxName];
    std::size_t line_len_ = 0;
    bool skipping_ = false;
    Status status_ = Status::Ok;
};

}  // namespace tinyimapd::store::tree
