// Tests for core/base/byte_source: the one read-at-offset interface and its
// adaptors (a window of another source, counting, reading in full).
#include <catch2/catch.hpp>

#include <string>

#include "core/base/byte_source.h"

using namespace tinyimapd;

namespace {

// Delivers at most two bytes per read, to exercise callers' loops.
class TwoAtATime final : public ByteSource {
public:
    explicit TwoAtATime(std::string_view data) : inner_(data) {}
    std::size_t read(std::uint64_t offset, char* out, std::size_t capacity) override {
        return inner_.read(offset, out, capacity < 2 ? capacity : 2);
    }
    std::uint64_t size() const override { return inner_.size(); }

private:
    MemorySource inner_;
};

}  // namespace

TEST_CASE("A memory source delivers its bytes and 0 at or past the end", "[byte_source]") {
    MemorySource m("hello");
    char buf[8];
    CHECK(m.size() == 5);
    CHECK(m.read(1, buf, 3) == 3);
    CHECK(std::string(buf, 3) == "ell");
    CHECK(m.read(3, buf, sizeof buf) == 2);
    CHECK(m.read(5, buf, sizeof buf) == 0);
    CHECK(m.read(99, buf, sizeof buf) == 0);
}

TEST_CASE("A slice reads its window from offset 0 and never past its length", "[byte_source]") {
    MemorySource m("0123456789");
    SliceSource s(m, 3, 4);
    char buf[16];
    CHECK(s.size() == 4);
    CHECK(s.read(0, buf, sizeof buf) == 4);
    CHECK(std::string(buf, 4) == "3456");
    CHECK(s.read(2, buf, sizeof buf) == 2);
    CHECK(std::string(buf, 2) == "56");
    CHECK(s.read(4, buf, sizeof buf) == 0);
    SliceSource empty;
    CHECK(empty.read(0, buf, sizeof buf) == 0);
}

TEST_CASE("read_full asks again after short reads and counting sees every byte", "[byte_source]") {
    TwoAtATime t("abcdefg");
    CountingSource c(t);
    char buf[16];
    CHECK(read_full(c, 1, buf, 5) == 5);
    CHECK(std::string(buf, 5) == "bcdef");
    CHECK(c.count == 5);
    CHECK(read_full(c, 5, buf, 10) == 2);  // fewer only at the end
    CHECK(c.count == 7);
}
