#include "core/store/staged_append.h"

#include "core/base/text.h"

namespace tinyimapd::store {

namespace {

constexpr std::string_view kStagePrefix = "a";
constexpr std::string_view kStageSuffix = ".tmp";

bool is_stage_name(std::string_view n) {
    if (n.size() <= kStagePrefix.size() + kStageSuffix.size()) return false;
    if (ascii::head(n, kStagePrefix.size()) != kStagePrefix) return false;
    if (ascii::tail(n, n.size() - kStageSuffix.size()) != kStageSuffix) return false;
    for (std::size_t i = kStagePrefix.size(); i < n.size() - kStageSuffix.size(); ++i) {
        if (n[i] < '0' || n[i] > '9') return false;
    }
    return true;
}

// Collects stage file names of a directory (a bounded number per login).
struct StageNames final : port::DirVisitor {
    static constexpr std::size_t kMax = 32;
    FixedString<32> names[kMax];
    std::size_t count = 0;
    bool entry(std::string_view name, port::FileType type) override {
        if (type == port::FileType::Regular && is_stage_name(name) && name.size() < 32) {
            (void)names[count++].assign(name);
        }
        return count < kMax;
    }
};

}  // namespace

Status stage_path(std::string_view root, std::uint32_t slot, Path* out) {
    FixedText<port::kMaxPath + 1> t;
    t.put(root).put('/').put(kStagePrefix).put_uint(slot).put(kStageSuffix);
    if (!t.ok() || !out->assign(t.view())) return Status::TooLong;
    return Status::Ok;
}

void remove_stale_stages(Services& s, std::string_view root) {
    StageNames found;
    if (s.fs.list(root, found) != Status::Ok) return;
    for (std::size_t i = 0; i < found.count; ++i) {
        FixedText<port::kMaxPath + 1> t;
        t.put(root).put('/').put(found.names[i].view());
        if (!t.ok()) continue;
        auto f = s.fs.open(t.view(), port::kOpenRead | port::kOpenWrite | port::kOpenNoFollow);
        if (!f.ok()) continue;
        // Held: a session (of this or another process) is staging in it.
        if (s.fs.lock(f.value, port::LockMode::Exclusive) == Status::Ok) {
            (void)s.fs.unlink(t.view());
            (void)s.fs.unlock(f.value);
        }
        (void)s.fs.close(f.value);
    }
}

Status StagedAppend::open(Services& s, std::string_view root, std::uint32_t number, Mailbox* box) {
    end_command();
    if (is_open() && s_ == &s && root_ == root && number_ == number) {
        // The previous command's file: still ours (locked), its old bytes are
        // overwritten and never read past staged_.
        box_ = box;
        appender_ = Appender{};
        return Status::Ok;
    }
    close();
    s_ = &s;
    root_ = root;
    number_ = number;
    Path path;
    if (Status st = stage_path(root, number, &path); st != Status::Ok) return st;
    auto f = s.fs.open(
        path.view(), port::kOpenRead | port::kOpenWrite | port::kOpenCreate | port::kOpenNoFollow);
    if (!f.ok()) return f.status;
    Status st = s.fs.lock(f.value, port::LockMode::Exclusive);
    if (st == Status::Ok) {
        st = s.fs.truncate(f.value, 0);
        if (st != Status::Ok) (void)s.fs.unlock(f.value);
    }
    if (st != Status::Ok) {
        (void)s.fs.close(f.value);
        return st;
    }
    file_ = f.value;
    box_ = box;
    count_ = 0;
    staged_ = 0;
    copying_ = false;
    appender_ = Appender{};
    return Status::Ok;
}

Status StagedAppend::add(std::uint32_t size, std::uint8_t flags, std::uint64_t keywords,
                         std::int64_t internal_date, std::int16_t zone_minutes) {
    if (!is_open() || copying_ || (count_ > 0 && !complete())) return Status::Invalid;
    if (count_ == kMaxMessages) return Status::Exhausted;
    messages_[count_++] = Message{staged_, size, flags, keywords, internal_date, zone_minutes};
    return Status::Ok;
}

Status StagedAppend::write(const void* bytes, std::size_t length) {
    if (!is_open() || count_ == 0 || length > message_end(count_ - 1) - staged_) {
        return Status::Invalid;
    }
    const Status st = s_->fs.pwrite(file_, bytes, length, staged_).status;
    if (st == Status::Ok) staged_ += length;
    return st;
}

Status StagedAppend::begin_message(std::size_t i) {
    const Message& m = messages_[i];
    copy_index_ = i;
    copy_done_ = 0;
    return box_->begin_append(appender_, m.size, m.flags, m.keywords, m.internal_date,
                              m.zone_minutes);
}

StagedAppend::Step StagedAppend::commit_step(std::size_t budget, std::uint32_t* first_uid,
                                             Status* error) {
    *error = Status::Ok;
    auto failed = [&](Status st) {
        if (copying_) box_->abort_append(appender_);
        copying_ = false;
        committing_ = false;
        *error = st;
        return Step::Failed;
    };
    if (!is_open() || box_ == nullptr || !complete()) return failed(Status::Invalid);
    if (!copying_) {
        if (box_->retired()) return failed(Status::NotFound);
        if (box_->write_turn(waiter_) == Mailbox::Turn::Queued) return Step::Queued;
        appender_ = Appender{};
        appender_.batch = batch_;
        appender_.batch_capacity = kMaxMessages;
        const Status st = begin_message(0);
        // The turn was free in this process: Busy is another process's lock.
        if (st == Status::Busy) return Step::Locked;
        if (st != Status::Ok) return failed(st);
        copying_ = true;
    }
    std::uint8_t* const buf = s_->scratch;
    const std::size_t chunk = s_->limits.scratch_bytes;
    for (;;) {
        if (committing_) break;
        const Message& m = messages_[copy_index_];
        if (copy_done_ < m.size) {
            if (budget == 0) return Step::More;
            std::size_t n = m.size - copy_done_;
            if (n > chunk) n = chunk;
            if (n > budget) n = budget;
            port::FsResult r = s_->fs.pread(file_, buf, n, m.offset + copy_done_);
            if (r.status != Status::Ok) return failed(r.status);
            if (r.bytes != n) return failed(Status::Io);  // the stage lost bytes
            const Status st = box_->append_chunk(appender_, buf, n);
            if (st != Status::Ok) return failed(st);
            copy_done_ += static_cast<std::uint32_t>(n);
            budget -= n;
            continue;
        }
        std::uint32_t uid = 0;
        Status st = box_->commit_append(appender_, &uid);  // closes the frame
        if (st != Status::Ok) {
            copying_ = false;  // commit_append dropped the batch
            *error = st;
            return Step::Failed;
        }
        if (copy_index_ + 1 < count_) {
            st = begin_message(copy_index_ + 1);
            if (st != Status::Ok) return failed(st);
            continue;
        }
        committing_ = true;
        appender_.async_flush = async_flush_;
        break;
    }
    // Data flush, index, flush: WouldBlock at each barrier of an async commit.
    const Status st = box_->commit_batch(appender_, first_uid);
    if (st == Status::WouldBlock) return Step::Flush;
    copying_ = false;
    committing_ = false;
    if (st != Status::Ok) {
        *error = st;
        return Step::Failed;
    }
    return Step::Done;
}

Status StagedAppend::retarget(Mailbox* box) {
    if (copying_ || committing_ || box_ == nullptr) return Status::Invalid;
    for (std::size_t i = 0; i < count_; ++i)
        if (messages_[i].keywords != 0) return Status::Invalid;
    box_->leave_turn_queue(waiter_);
    box_ = box;
    return Status::Ok;
}

void StagedAppend::end_command() {
    if (box_ != nullptr) {
        if (copying_) box_->abort_append(appender_);
        box_->leave_turn_queue(waiter_);
    }
    copying_ = false;
    committing_ = false;
    if (file_ != port::kNoFile && staged_ > kKeepBytes) (void)s_->fs.truncate(file_, 0);
    box_ = nullptr;
    count_ = 0;
    staged_ = 0;
}

void StagedAppend::close() {
    end_command();
    if (file_ != port::kNoFile) {
        (void)s_->fs.truncate(file_, 0);
        Path path;
        if (stage_path(root_, number_, &path) == Status::Ok) (void)s_->fs.unlink(path.view());
        (void)s_->fs.unlock(file_);
        (void)s_->fs.close(file_);
        file_ = port::kNoFile;
    }
}

}  // namespace tinyimapd::store
