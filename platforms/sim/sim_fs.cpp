#include "platforms/sim/sim_fs.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <stdexcept>
#include <utility>

#include "platforms/sim/sim_entropy.h"

namespace tinyimapd::sim {

namespace {

// Larger files or offsets fail with NoSpace instead of exhausting the test's
// memory (an offset near 2^64 must not turn into a huge std::string).
constexpr std::uint64_t kMaxFileSize = std::uint64_t{1} << 32;

// Splits a path into normalized components (see the header comment).
Status split_path(std::string_view path, std::vector<std::string>* out) {
    if (path.empty() || path.find('\0') != std::string_view::npos) return Status::Invalid;
    if (path.size() > port::kMaxPath) return Status::TooLong;
    out->clear();
    while (!path.empty()) {
        const std::size_t slash = path.find('/');
        const std::string_view part = path.substr(0, slash);
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (!out->empty()) out->pop_back();
            continue;
        }
        if (part.size() > port::kMaxName) return Status::TooLong;
        out->emplace_back(part);
    }
    return Status::Ok;
}

// True if `path`, as written, goes below the confined directory (given as
// its components) and then has a ".." component.
bool climbs_beneath(std::string_view path, const std::vector<std::string>& confined) {
    std::size_t matched = 0;
    while (!path.empty()) {
        const std::size_t slash = path.find('/');
        const std::string_view part = path.substr(0, slash);
        path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
        if (part.empty() || part == ".") continue;
        if (matched < confined.size()) {
            if (part != confined[matched]) return false;
            ++matched;
            continue;
        }
        if (part == "..") return true;
    }
    return false;
}

}  // namespace

SimFs::SimFs(SimClock* clock) : clock_(clock) {
    nodes_[kRoot].type = port::FileType::Directory;
    nodes_[kRoot].mtime = now();
}

// --- plumbing ---------------------------------------------------------------

SimFs::Gate SimFs::enter(Op op, bool mutating) {
    ++calls_[static_cast<std::size_t>(op)];
    Gate gate;
    if (crashed_) {
        gate.status = Status::Io;
        return gate;
    }
    if (mutating) {
        ++crash_points_;
        if (crash_countdown_ != 0 && --crash_countdown_ == 0) {
            do_crash();
            crashed_ = true;
            gate.status = Status::Io;
            return gate;
        }
    }
    bool fired = false;
    for (auto it = faults_.begin(); it != faults_.end();) {
        if (it->op != op) {
            ++it;
            continue;
        }
        if (it->remaining > 1) {
            --it->remaining;
            ++it;
            continue;
        }
        if (!fired) {
            fired = true;
            gate.status = it->short_write ? Status::Ok : it->status;
            gate.short_write = it->short_write;
            gate.keep = it->keep;
        }
        if (it->persistent) {
            ++it;
        } else {
            it = faults_.erase(it);
        }
    }
    return gate;
}

SimFs::Lookup SimFs::lookup(std::string_view path) const {
    Lookup r;
    r.status = split_path(path, &r.components);
    if (r.status != Status::Ok) return r;
    if (confined_set_ && climbs_beneath(path, confined_)) {
        r.status = Status::Invalid;
        return r;
    }
    if (r.components.empty()) {
        r.ino = kRoot;
        return r;
    }
    Ino dir = kRoot;
    for (std::size_t i = 0; i + 1 < r.components.size(); ++i) {
        const Node& node = nodes_.at(dir);
        auto it = node.entries.find(r.components[i]);
        if (it == node.entries.end()) {
            r.status = Status::NotFound;
            return r;
        }
        if (nodes_.at(it->second).type == port::FileType::Other) {  // a link: never followed
            r.status = Status::Permission;
            return r;
        }
        if (nodes_.at(it->second).type != port::FileType::Directory) {
            r.status = Status::NotDir;
            return r;
        }
        dir = it->second;
    }
    r.parent = dir;
    r.name = r.components.back();
    const Node& parent = nodes_.at(dir);
    auto it = parent.entries.find(r.name);
    r.ino = it == parent.entries.end() ? kNoIno : it->second;
    return r;
}

SimFs::OpenFile* SimFs::handle(port::File f) {
    auto it = files_.find(f);
    return it == files_.end() ? nullptr : &it->second;
}

SimFs::Ino SimFs::new_node(port::FileType type) {
    const Ino ino = next_ino_++;
    Node& node = nodes_[ino];
    node.type = type;
    node.mtime = now();
    return ino;
}

void SimFs::change_dir(Ino dir, DirChange change) {
    Node& node = nodes_.at(dir);
    for (const auto& [name, ino] : change) {
        if (ino == kNoIno) {
            node.entries.erase(name);
        } else {
            node.entries[name] = ino;
        }
    }
    node.log.push_back(std::move(change));
    node.mtime = now();
}

Status SimFs::check_space(const Node& node, std::uint64_t new_size) const {
    if (new_size > kMaxFileSize) return Status::NoSpace;
    if (space_limit_ == 0 || new_size <= node.data.size()) return Status::Ok;
    std::uint64_t total = 0;
    for (const auto& [ino, n] : nodes_) total += n.data.size();
    if (total - node.data.size() + new_size > space_limit_) return Status::NoSpace;
    return Status::Ok;
}

void SimFs::apply_write(Node& node, std::uint64_t offset, std::string_view bytes) {
    if (bytes.empty()) return;
    const std::size_t off = static_cast<std::size_t>(offset);
    if (node.data.size() < off + bytes.size()) node.data.resize(off + bytes.size(), '\0');
    node.data.replace(off, bytes.size(), bytes);
    node.pending.push_back(PendingWrite{false, offset, std::string(bytes)});
    bytes_written_ += bytes.size();
    node.mtime = now();
}

void SimFs::apply_truncate(Node& node, std::uint64_t size) {
    node.data.resize(static_cast<std::size_t>(size), '\0');
    node.pending.push_back(PendingWrite{true, size, {}});
    node.mtime = now();
}

// --- crash model ------------------------------------------------------------

namespace {

void land(std::string* data, std::uint64_t offset, std::string_view bytes) {
    if (bytes.empty()) return;
    const std::size_t off = static_cast<std::size_t>(offset);
    if (data->size() < off + bytes.size()) data->resize(off + bytes.size(), '\0');
    data->replace(off, bytes.size(), bytes);
}

}  // namespace

void SimFs::do_crash() {
    files_.clear();
    flushes_.clear();  // the process and its I/O threads are gone
    crash_countdown_ = 0;
    const bool random = crash_mode_ == CrashMode::ApplyRandom;
    for (auto& [ino, node] : nodes_) {
        if (node.type == port::FileType::Regular) {
            for (const PendingWrite& w : node.pending) {
                if (!random) break;
                const std::uint64_t fate = splitmix64_next(&rng_) % 3;  // 0 apply, 1 drop, 2 tear
                if (w.truncate) {
                    if (fate != 1) node.durable_data.resize(static_cast<std::size_t>(w.offset));
                    continue;
                }
                std::size_t keep = 0;
                if (fate == 0) {
                    keep = w.bytes.size();
                } else if (fate == 2 && w.bytes.size() >= 2) {
                    keep =
                        1 + static_cast<std::size_t>(splitmix64_next(&rng_) % (w.bytes.size() - 1));
                }
                land(&node.durable_data, w.offset, std::string_view(w.bytes).substr(0, keep));
            }
            node.pending.clear();
            node.data = node.durable_data;
        } else {
            std::size_t surviving = 0;
            if (random) {
                surviving =
                    static_cast<std::size_t>(splitmix64_next(&rng_) % (node.log.size() + 1));
            }
            for (std::size_t i = 0; i < surviving; ++i) {
                for (const auto& [name, target] : node.log[i]) {
                    if (target == kNoIno) {
                        node.durable_entries.erase(name);
                    } else {
                        node.durable_entries[name] = target;
                    }
                }
            }
            node.log.clear();
            node.entries = node.durable_entries;
        }
    }
    collect_garbage();
}

void SimFs::collect_garbage() {
    std::set<Ino> live;
    std::vector<Ino> todo{kRoot};
    for (const auto& [f, of] : files_) todo.push_back(of.ino);
    while (!todo.empty()) {
        const Ino ino = todo.back();
        todo.pop_back();
        if (!live.insert(ino).second) continue;
        const Node& node = nodes_.at(ino);
        for (const auto& [name, child] : node.entries) todo.push_back(child);
        for (const auto& [name, child] : node.durable_entries) todo.push_back(child);
        for (const DirChange& change : node.log) {
            for (const auto& [name, child] : change) {
                if (child != kNoIno) todo.push_back(child);
            }
        }
    }
    for (auto it = nodes_.begin(); it != nodes_.end();) {
        it = live.count(it->first) != 0 ? std::next(it) : nodes_.erase(it);
    }
}

void SimFs::crash() {
    do_crash();
    crashed_ = false;
}

void SimFs::sync_all() {
    for (auto& [ino, node] : nodes_) {
        node.durable_data = node.data;
        node.pending.clear();
        node.durable_entries = node.entries;
        node.log.clear();
    }
    collect_garbage();
}

std::size_t SimFs::unsynced() const {
    std::size_t n = 0;
    for (const auto& [ino, node] : nodes_) n += node.pending.size() + node.log.size();
    return n;
}

// --- faults and counters ----------------------------------------------------

void SimFs::fail_nth(Op op, unsigned n, Status status) {
    faults_.push_back(Fault{op, std::max(n, 1u), status, false, false, 0});
}

void SimFs::fail_from(Op op, unsigned n, Status status) {
    faults_.push_back(Fault{op, std::max(n, 1u), status, true, false, 0});
}

void SimFs::short_write_nth(unsigned n, std::size_t applied_bytes) {
    faults_.push_back(
        Fault{Op::Write, std::max(n, 1u), Status::NoSpace, false, true, applied_bytes});
}

void SimFs::clear_faults() {
    faults_.clear();
    space_limit_ = 0;
    max_open_ = 0;
    crash_countdown_ = 0;
}

void SimFs::reset_counters() {
    std::fill(std::begin(calls_), std::end(calls_), 0);
    bytes_written_ = 0;
    bytes_read_ = 0;
    crash_points_ = 0;
    loop_syncs_ = 0;
}

// --- port::Fs: handles ------------------------------------------------------

Result<port::File> SimFs::open(std::string_view path, std::uint32_t flags) {
    using R = Result<port::File>;
    const bool mutating = (flags & (port::kOpenCreate | port::kOpenTruncate)) != 0;
    const Gate gate = enter(Op::Open, mutating);
    if (gate.status != Status::Ok) return R::failure(gate.status);
    if ((flags & (port::kOpenRead | port::kOpenWrite)) == 0) return R::failure(Status::Invalid);
    const bool writable = (flags & port::kOpenWrite) != 0;
    if ((flags & port::kOpenTruncate) != 0 && !writable) return R::failure(Status::Invalid);
    const Lookup r = lookup(path);
    if (r.status != Status::Ok) return R::failure(r.status);
    if (max_open_ != 0 && files_.size() >= max_open_) return R::failure(Status::Exhausted);
    Ino ino = r.ino;
    if (ino == kNoIno) {
        if ((flags & port::kOpenCreate) == 0) return R::failure(Status::NotFound);
        ino = new_node(port::FileType::Regular);
        change_dir(r.parent, DirChange{{r.name, ino}});
    } else {
        Node& node = nodes_.at(ino);
        if (node.type == port::FileType::Directory) return R::failure(Status::IsDir);
        if (node.type == port::FileType::Other) return R::failure(Status::Permission);
        if ((flags & port::kOpenCreate) != 0 && (flags & port::kOpenExclusive) != 0) {
            return R::failure(Status::Exists);
        }
        if ((flags & port::kOpenTruncate) != 0) apply_truncate(node, 0);
    }
    const port::File f = next_file_++;
    files_.emplace(f, OpenFile{ino, flags, 0, false, port::LockMode::Shared});
    return R::success(f);
}

Status SimFs::close(port::File f) {
    // Like POSIX close(), the handle is released even when an error is reported.
    const Gate gate = enter(Op::Close, false);
    auto it = files_.find(f);
    if (it == files_.end()) return gate.status != Status::Ok ? gate.status : Status::Invalid;
    files_.erase(it);
    collect_garbage();
    return gate.status;
}

port::FsResult SimFs::read(port::File f, void* out, std::size_t capacity) {
    const Gate gate = enter(Op::Read, false);
    if (gate.status != Status::Ok) return {gate.status, 0};
    OpenFile* of = handle(f);
    if (of == nullptr) return {Status::Invalid, 0};
    if ((of->flags & port::kOpenRead) == 0) return {Status::Invalid, 0};
    const std::string& data = nodes_.at(of->ino).data;
    std::size_t n = 0;
    if (of->pos < data.size()) {
        n = std::min<std::size_t>(capacity, data.size() - static_cast<std::size_t>(of->pos));
        std::memcpy(out, data.data() + of->pos, n);
    }
    of->pos += n;
    bytes_read_ += n;
    return {Status::Ok, n};
}

port::FsResult SimFs::pread(port::File f, void* out, std::size_t capacity, std::uint64_t offset) {
    const Gate gate = enter(Op::Read, false);
    if (gate.status != Status::Ok) return {gate.status, 0};
    OpenFile* of = handle(f);
    if (of == nullptr) return {Status::Invalid, 0};
    if ((of->flags & port::kOpenRead) == 0) return {Status::Invalid, 0};
    const std::string& data = nodes_.at(of->ino).data;
    std::size_t n = 0;
    if (offset < data.size()) {
        n = std::min<std::size_t>(capacity, data.size() - static_cast<std::size_t>(offset));
        std::memcpy(out, data.data() + offset, n);
    }
    bytes_read_ += n;
    return {Status::Ok, n};
}

port::FsResult SimFs::write_at(port::File f, const void* data, std::size_t length,
                               std::uint64_t offset, bool at_position, bool at_end) {
    const Gate gate = enter(Op::Write, true);
    if (gate.status != Status::Ok) return {gate.status, 0};
    OpenFile* of = handle(f);
    if (of == nullptr) return {Status::Invalid, 0};
    if ((of->flags & port::kOpenWrite) == 0) return {Status::Invalid, 0};
    Node& node = nodes_.at(of->ino);
    if (at_end) offset = node.data.size();
    if (at_position) offset = of->pos;
    const std::size_t applied = gate.short_write ? std::min(gate.keep, length) : length;
    if (offset > kMaxFileSize) return {Status::NoSpace, 0};
    const std::uint64_t end = std::max<std::uint64_t>(node.data.size(), offset + applied);
    if (const Status s = check_space(node, end); s != Status::Ok) return {s, 0};
    apply_write(node, offset, std::string_view(static_cast<const char*>(data), applied));
    if (at_position) of->pos = offset + applied;
    if (gate.short_write) return {Status::NoSpace, applied};
    return {Status::Ok, length};
}

port::FsResult SimFs::write(port::File f, const void* data, std::size_t length) {
    return write_at(f, data, length, 0, true, false);
}

port::FsResult SimFs::pwrite(port::File f, const void* data, std::size_t length,
                             std::uint64_t offset) {
    return write_at(f, data, length, offset, false, false);
}

port::FsResult SimFs::append(port::File f, const void* data, std::size_t length) {
    return write_at(f, data, length, 0, false, true);
}

Status SimFs::truncate(port::File f, std::uint64_t size) {
    const Gate gate = enter(Op::Truncate, true);
    if (gate.status != Status::Ok) return gate.status;
    OpenFile* of = handle(f);
    if (of == nullptr) return Status::Invalid;
    if ((of->flags & port::kOpenWrite) == 0) return Status::Invalid;
    Node& node = nodes_.at(of->ino);
    if (const Status s = check_space(node, size); s != Status::Ok) return s;
    apply_truncate(node, size);
    return Status::Ok;
}

Status SimFs::fsync(port::File f) {
    if (!in_flush_done_) ++loop_syncs_;
    const Gate gate = enter(Op::Fsync, true);
    if (gate.status != Status::Ok) return gate.status;
    OpenFile* of = handle(f);
    if (of == nullptr) return Status::Invalid;
    Node& node = nodes_.at(of->ino);
    node.durable_data = node.data;
    node.pending.clear();
    return Status::Ok;
}

Status SimFs::flush_start(port::File f, std::uint64_t token) {
    if (!async_flush_) return Status::Unsupported;
    if (flushes_.size() >= kMaxFlushes) return Status::Exhausted;
    const std::uint64_t now = clock_ != nullptr ? clock_->monotonic_ms() : 0;
    flushes_.push_back(PendingFlush{f, token, now + flush_delay_ms_, {}});
    return Status::Ok;
}

Status SimFs::sync_dir_start(std::string_view path, std::uint64_t token) {
    if (!async_flush_) return Status::Unsupported;
    if (flushes_.size() >= kMaxFlushes) return Status::Exhausted;
    const std::uint64_t now = clock_ != nullptr ? clock_->monotonic_ms() : 0;
    flushes_.push_back(PendingFlush{port::kNoFile, token, now + flush_delay_ms_, std::string(path)});
    return Status::Ok;
}

std::size_t SimFs::flush_done(port::FlushDone* out, std::size_t capacity) {
    // The requests due now leave the queue first: an fsync below may crash,
    // which empties it.
    std::vector<PendingFlush> due;
    const std::uint64_t now = clock_ != nullptr ? clock_->monotonic_ms() : UINT64_MAX;
    for (auto it = flushes_.begin(); it != flushes_.end() && due.size() < capacity;) {
        if (it->due_ms > now) {
            ++it;
            continue;
        }
        due.push_back(*it);
        it = flushes_.erase(it);
    }
    // One fsync per file for all of them (coalesced), in the order asked.
    std::vector<std::pair<port::File, Status>> synced;
    std::size_t n = 0;
    for (const PendingFlush& f : due) {
        Status st = Status::Ok;
        if (!f.dir.empty()) {  // sync_dir_start
            in_flush_done_ = true;
            st = sync_dir(f.dir);
            in_flush_done_ = false;
            out[n++] = port::FlushDone{f.token, st};
            continue;
        }
        bool found = false;
        for (const auto& done : synced) {
            if (done.first == f.file) {
                st = done.second;
                found = true;
            }
        }
        if (!found) {
            in_flush_done_ = true;
            st = fsync(f.file);
            in_flush_done_ = false;
            synced.emplace_back(f.file, st);
        }
        out[n++] = port::FlushDone{f.token, st};
    }
    return n;
}

Status SimFs::fstat(port::File f, port::FileInfo* info) {
    const Gate gate = enter(Op::Fstat, false);
    if (gate.status != Status::Ok) return gate.status;
    OpenFile* of = handle(f);
    if (of == nullptr) return Status::Invalid;
    const Node& node = nodes_.at(of->ino);
    info->type = node.type;
    info->size = node.data.size();
    info->mtime_seconds = node.mtime;
    return Status::Ok;
}

Status SimFs::lock(port::File f, port::LockMode mode) {
    const Gate gate = enter(Op::Lock, false);
    if (gate.status != Status::Ok) return gate.status;
    OpenFile* of = handle(f);
    if (of == nullptr) return Status::Invalid;
    // As PosixFs (F_OFD_SETLK): Exclusive needs write access, Shared read access.
    const std::uint32_t needed =
        mode == port::LockMode::Exclusive ? port::kOpenWrite : port::kOpenRead;
    if ((of->flags & needed) == 0) return Status::Invalid;
    for (const auto& [other, of2] : files_) {
        if (other == f || of2.ino != of->ino || !of2.locked) continue;
        if (mode == port::LockMode::Exclusive || of2.mode == port::LockMode::Exclusive) {
            return Status::Busy;
        }
    }
    of->locked = true;
    of->mode = mode;
    return Status::Ok;
}

Status SimFs::unlock(port::File f) {
    const Gate gate = enter(Op::Unlock, false);
    if (gate.status != Status::Ok) return gate.status;
    OpenFile* of = handle(f);
    if (of == nullptr) return Status::Invalid;
    of->locked = false;
    return Status::Ok;
}

// --- port::Fs: paths --------------------------------------------------------

Status SimFs::stat(std::string_view path, port::FileInfo* info) {
    const Gate gate = enter(Op::Stat, false);
    if (gate.status != Status::Ok) return gate.status;
    const Lookup r = lookup(path);
    if (r.status != Status::Ok) return r.status;
    if (r.ino == kNoIno) return Status::NotFound;
    const Node& node = nodes_.at(r.ino);
    info->type = node.type;
    info->size = node.type == port::FileType::Regular ? node.data.size() : 0;
    info->mtime_seconds = node.mtime;
    return Status::Ok;
}

Status SimFs::rename(std::string_view from, std::string_view to) {
    const Gate gate = enter(Op::Rename, true);
    if (gate.status != Status::Ok) return gate.status;
    const Lookup src = lookup(from);
    if (src.status != Status::Ok) return src.status;
    if (src.ino == kNoIno) return Status::NotFound;
    const Lookup dst = lookup(to);
    if (dst.status != Status::Ok) return dst.status;
    if (src.parent == kNoIno || dst.parent == kNoIno) return Status::Invalid;  // the root
    if (dst.ino == src.ino) return Status::Ok;  // the same file: nothing to do (POSIX)
    const bool src_dir = nodes_.at(src.ino).type == port::FileType::Directory;
    if (src_dir) {
        // A directory cannot move below itself.
        if (dst.components.size() > src.components.size() &&
            std::equal(src.components.begin(), src.components.end(), dst.components.begin())) {
            return Status::Invalid;
        }
        if (dst.ino != kNoIno) {
            const Node& target = nodes_.at(dst.ino);
            if (target.type != port::FileType::Directory) return Status::NotDir;
            if (!target.entries.empty()) return Status::NotEmpty;
        }
    } else if (dst.ino != kNoIno && nodes_.at(dst.ino).type == port::FileType::Directory) {
        return Status::IsDir;
    }
    if (src.parent == dst.parent) {
        change_dir(src.parent, DirChange{{src.name, kNoIno}, {dst.name, src.ino}});
    } else {
        change_dir(src.parent, DirChange{{src.name, kNoIno}});
        change_dir(dst.parent, DirChange{{dst.name, src.ino}});
    }
    return Status::Ok;
}

Status SimFs::unlink(std::string_view path) {
    const Gate gate = enter(Op::Unlink, true);
    if (gate.status != Status::Ok) return gate.status;
    const Lookup r = lookup(path);
    if (r.status != Status::Ok) return r.status;
    if (r.ino == kNoIno) return Status::NotFound;
    if (nodes_.at(r.ino).type == port::FileType::Directory) return Status::IsDir;
    change_dir(r.parent, DirChange{{r.name, kNoIno}});
    return Status::Ok;
}

Status SimFs::mkdir(std::string_view path) {
    const Gate gate = enter(Op::Mkdir, true);
    if (gate.status != Status::Ok) return gate.status;
    const Lookup r = lookup(path);
    if (r.status != Status::Ok) return r.status;
    if (r.ino != kNoIno) return Status::Exists;
    change_dir(r.parent, DirChange{{r.name, new_node(port::FileType::Directory)}});
    return Status::Ok;
}

Status SimFs::rmdir(std::string_view path) {
    const Gate gate = enter(Op::Rmdir, true);
    if (gate.status != Status::Ok) return gate.status;
    const Lookup r = lookup(path);
    if (r.status != Status::Ok) return r.status;
    if (r.ino == kNoIno) return Status::NotFound;
    if (r.parent == kNoIno) return Status::Invalid;  // the root
    const Node& node = nodes_.at(r.ino);
    if (node.type != port::FileType::Directory) return Status::NotDir;
    if (!node.entries.empty()) return Status::NotEmpty;
    change_dir(r.parent, DirChange{{r.name, kNoIno}});
    return Status::Ok;
}

Status SimFs::list(std::string_view path, port::DirVisitor& visitor) {
    const Gate gate = enter(Op::List, false);
    if (gate.status != Status::Ok) return gate.status;
    const Lookup r = lookup(path);
    if (r.status != Status::Ok) return r.status;
    if (r.ino == kNoIno) return Status::NotFound;
    const Node& node = nodes_.at(r.ino);
    if (node.type == port::FileType::Other) return Status::Permission;
    if (node.type != port::FileType::Directory) return Status::NotDir;
    // A copy, so that the visitor may change the directory while listing.
    std::vector<std::pair<std::string, port::FileType>> entries;
    for (const auto& [name, ino] : node.entries) entries.emplace_back(name, nodes_.at(ino).type);
    for (const auto& [name, type] : entries) {
        if (!visitor.entry(name, type)) break;
    }
    return Status::Ok;
}

Status SimFs::sync_dir(std::string_view path) {
    if (!in_flush_done_) ++loop_syncs_;
    const Gate gate = enter(Op::SyncDir, true);
    if (gate.status != Status::Ok) return gate.status;
    const Lookup r = lookup(path);
    if (r.status != Status::Ok) return r.status;
    if (r.ino == kNoIno) return Status::NotFound;
    Node& node = nodes_.at(r.ino);
    if (node.type == port::FileType::Other) return Status::Permission;
    if (node.type != port::FileType::Directory) return Status::NotDir;
    node.durable_entries = node.entries;
    node.log.clear();
    collect_garbage();
    return Status::Ok;
}

Status SimFs::confine(std::string_view dir) {
    std::vector<std::string> parts;
    const Status s = split_path(dir, &parts);
    if (s != Status::Ok) return s;
    confined_ = parts;
    confined_set_ = true;
    return Status::Ok;
}

// --- test helpers -----------------------------------------------------------

void SimFs::make_symlink(std::string_view path, std::string_view target) {
    const Lookup r = lookup(path);
    if (r.status != Status::Ok || r.ino != kNoIno || r.parent == kNoIno) {
        throw std::runtime_error("SimFs::make_symlink: cannot make " + std::string(path));
    }
    const Ino ino = new_node(port::FileType::Other);
    nodes_.at(ino).link = std::string(target);
    nodes_.at(r.parent).entries[r.name] = ino;
    nodes_.at(r.parent).durable_entries[r.name] = ino;
}

std::string SimFs::read_file(std::string_view path) const {
    const Lookup r = lookup(path);
    if (r.status != Status::Ok || r.ino == kNoIno ||
        nodes_.at(r.ino).type != port::FileType::Regular) {
        throw std::runtime_error("SimFs::read_file: no file " + std::string(path));
    }
    return nodes_.at(r.ino).data;
}

void SimFs::make_dirs(std::string_view path) {
    std::vector<std::string> parts;
    if (split_path(path, &parts) != Status::Ok) {
        throw std::runtime_error("SimFs::make_dirs: bad path " + std::string(path));
    }
    Ino dir = kRoot;
    for (const std::string& part : parts) {
        auto it = nodes_.at(dir).entries.find(part);
        Ino child = kNoIno;
        if (it == nodes_.at(dir).entries.end()) {
            child = new_node(port::FileType::Directory);
            nodes_.at(dir).entries[part] = child;
            nodes_.at(dir).durable_entries[part] = child;
        } else {
            child = it->second;
            if (nodes_.at(child).type != port::FileType::Directory) {
                throw std::runtime_error("SimFs::make_dirs: not a directory " + part);
            }
        }
        dir = child;
    }
}

void SimFs::write_file(std::string_view path, std::string_view bytes) {
    std::vector<std::string> parts;
    if (split_path(path, &parts) != Status::Ok || parts.empty()) {
        throw std::runtime_error("SimFs::write_file: bad path " + std::string(path));
    }
    std::string parent;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) parent += "/" + parts[i];
    make_dirs(parent.empty() ? "/" : parent);
    const Lookup r = lookup(path);
    Ino ino = r.ino;
    if (ino == kNoIno) {
        ino = new_node(port::FileType::Regular);
        nodes_.at(r.parent).entries[r.name] = ino;
        nodes_.at(r.parent).durable_entries[r.name] = ino;
    } else if (nodes_.at(ino).type != port::FileType::Regular) {
        throw std::runtime_error("SimFs::write_file: is a directory " + std::string(path));
    }
    Node& node = nodes_.at(ino);
    node.data = std::string(bytes);
    node.durable_data = node.data;
    node.pending.clear();
    node.mtime = now();
}

bool SimFs::exists(std::string_view path) const {
    const Lookup r = lookup(path);
    return r.status == Status::Ok && r.ino != kNoIno;
}

std::map<std::string, std::string> SimFs::snapshot() const {
    std::map<std::string, std::string> out;
    std::vector<std::pair<std::string, Ino>> todo{{"", kRoot}};
    while (!todo.empty()) {
        const auto [prefix, ino] = todo.back();
        todo.pop_back();
        for (const auto& [name, child] : nodes_.at(ino).entries) {
            const Node& node = nodes_.at(child);
            if (node.type == port::FileType::Directory) {
                out[prefix + "/" + name + "/"] = "";
                todo.emplace_back(prefix + "/" + name, child);
            } else if (node.type == port::FileType::Other) {
                out[prefix + "/" + name] = "-> " + node.link;
            } else {
                out[prefix + "/" + name] = node.data;
            }
        }
    }
    return out;
}

}  // namespace tinyimapd::sim
