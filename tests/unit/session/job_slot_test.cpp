// The session's job slot (core/session/jobs.h): one context at a time,
// placed in the slot's own storage when a command starts its job and
// destroyed when the job ends or another starts; no heap.
#include <catch2/catch.hpp>

#include "core/session/jobs.h"

using namespace tinyimapd::session;

namespace {

int g_alive = 0;

struct CountedJob {
    static constexpr bool runs(JobKind k) { return k == JobKind::List || k == JobKind::Sync; }
    explicit CountedJob(int v) : value(v) { ++g_alive; }
    ~CountedJob() { --g_alive; }
    int value;
};

}  // namespace

TEST_CASE("job slot holds one context from start to end, in place") {
    g_alive = 0;
    {
        JobSlot slot;
        CHECK_FALSE(slot.active());
        CountedJob& job = slot.start<CountedJob>(JobKind::List, 7);
        CHECK(slot.kind() == JobKind::List);
        CHECK(g_alive == 1);
        CHECK(&slot.get<CountedJob>() == &job);
        CHECK(slot.get<CountedJob>().value == 7);
        // Another job replaces it: the first context is destroyed first.
        slot.start<CountedJob>(JobKind::Sync, 8);
        CHECK(g_alive == 1);
        CHECK(slot.get<CountedJob>().value == 8);
        slot.end();
        CHECK_FALSE(slot.active());
        CHECK(g_alive == 0);
        slot.end();  // ending no job is harmless
        CHECK(g_alive == 0);
        slot.start<CountedJob>(JobKind::List, 9);
    }
    CHECK(g_alive == 0);  // the slot's end destroys what it holds
}

TEST_CASE("job slot starts each job with no wait pending") {
    JobSlot slot;
    slot.start<ExpungeJob>(JobKind::Expunge);
    slot.retry_at_ms = 100;
    slot.waiting_since_ms = 50;
    ExpungeJob& job = slot.start<ExpungeJob>(JobKind::Expunge);
    CHECK(slot.retry_at_ms == 0);
    CHECK(slot.waiting_since_ms == 0);
    CHECK(job.expunge_from_uid == 1);
    CHECK_FALSE(job.move);
}

TEST_CASE("job slot storage fits every job context") {
    STATIC_REQUIRE(sizeof(FetchJob) <= kJobStorage);
    STATIC_REQUIRE(sizeof(StoreJob) <= kJobStorage);
    STATIC_REQUIRE(sizeof(SearchJob) <= kJobStorage);
    STATIC_REQUIRE(sizeof(CopyJob) <= kJobStorage);
    STATIC_REQUIRE(sizeof(ListJob) <= kJobStorage);
    // A STORE answers through FETCH's steps: its context is a FetchJob.
    STATIC_REQUIRE(std::is_base_of_v<FetchJob, StoreJob>);
}
