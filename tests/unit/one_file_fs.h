// OneFileFs: a port::Fs test double that serves one read-only file from a
// string, for tests of code that reads a whole file through the fs port
// (config, passwd). core calls it, so it uses CHECK only (never REQUIRE).
#pragma once

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <utility>

#include "port/fs.h"

namespace tinyimapd::testing {

class OneFileFs final : public port::Fs {
public:
    explicit OneFileFs(std::string file_path = {}) : path(std::move(file_path)) {}

    std::string path;
    std::string content;
    bool exists = true;
    Status read_error = Status::Ok;  // returned by the first read when not Ok
    std::size_t max_chunk = 0;       // >0: short reads of at most this size (still Ok)
    int opens = 0;
    int closes = 0;

    Result<port::File> open(std::string_view p, std::uint32_t flags) override {
        CHECK((flags & port::kOpenWrite) == 0);
        if (!exists || p != path) return Result<port::File>::failure(Status::NotFound);
        ++opens;
        pos_ = 0;
        return Result<port::File>::success(3);
    }
    Status close(port::File f) override {
        CHECK(f == 3);
        ++closes;
        return Status::Ok;
    }
    port::FsResult read(port::File f, void* out, std::size_t capacity) override {
        CHECK(f == 3);
        if (read_error != Status::Ok) return {read_error, 0};
        std::size_t n = content.size() - pos_;
        if (n > capacity) n = capacity;
        if (max_chunk != 0 && n > max_chunk) n = max_chunk;
        std::memcpy(out, content.data() + pos_, n);
        pos_ += n;
        return {Status::Ok, n};
    }
    port::FsResult pread(port::File, void*, std::size_t, std::uint64_t) override {
        return {Status::Unsupported, 0};
    }
    port::FsResult write(port::File, const void*, std::size_t) override {
        return {Status::Unsupported, 0};
    }
    port::FsResult pwrite(port::File, const void*, std::size_t, std::uint64_t) override {
        return {Status::Unsupported, 0};
    }
    port::FsResult append(port::File, const void*, std::size_t) override {
        return {Status::Unsupported, 0};
    }
    Status truncate(port::File, std::uint64_t) override { return Status::Unsupported; }
    Status fsync(port::File) override { return Status::Unsupported; }
    Status fstat(port::File, port::FileInfo* info) override {
        info->type = port::FileType::Regular;
        info->size = content.size();
        return Status::Ok;
    }
    Status lock(port::File, port::LockMode) override { return Status::Unsupported; }
    Status unlock(port::File) override { return Status::Unsupported; }
    Status stat(std::string_view, port::FileInfo*) override { return Status::Unsupported; }
    Status rename(std::string_view, std::string_view) override { return Status::Unsupported; }
    Status unlink(std::string_view) override { return Status::Unsupported; }
    Status mkdir(std::string_view) override { return Status::Unsupported; }
    Status rmdir(std::string_view) override { return Status::Unsupported; }
    Status list(std::string_view, port::DirVisitor&) override { return Status::Unsupported; }
    Status sync_dir(std::string_view) override { return Status::Unsupported; }
    Status confine(std::string_view) override { return Status::Ok; }

private:
    std::size_t pos_ = 0;
};

}  // namespace tinyimapd::testing
