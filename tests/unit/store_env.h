// A user's mail store on the simulated file system, for the store tests:
// a Registry over SimFs/SimClock/SimEntropy with its pool, and alice's
// UserStore at kStoreRoot, created and ready.
#pragma once

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/base/arena.h"
#include "core/store/registry.h"
#include "core/store/user_store.h"
#include "platforms/sim/sim_clock.h"
#include "platforms/sim/sim_entropy.h"
#include "platforms/sim/sim_fs.h"

namespace tinyimapd::test {

inline constexpr std::string_view kStoreRoot = "/mail/alice";

struct StoreEnv {
    sim::SimClock clock;
    sim::SimFs fs{&clock};
    sim::SimEntropy entropy;
    store::StoreLimits limits;
    std::vector<unsigned char> mem;
    store::Registry reg{fs, clock, entropy, limits};
    store::UserStore user{reg, kStoreRoot};

    // `scratch_bytes` 0: the store's default.
    explicit StoreEnv(std::uint64_t seed, std::size_t scratch_bytes = 0)
        : entropy(seed), limits(make_limits(scratch_bytes)) {
        mem.assign(store::Registry::bytes_needed(limits), 0);
        Arena a(mem.data(), mem.size());
        REQUIRE(reg.init(a) == Status::Ok);
        fs.make_dirs("/mail");
        REQUIRE(user.ensure() == Status::Ok);
    }

    static store::StoreLimits make_limits(std::size_t scratch_bytes) {
        store::StoreLimits l;
        l.max_open_mailboxes = 4;
        if (scratch_bytes != 0) l.scratch_bytes = scratch_bytes;
        return l;
    }
};

}  // namespace tinyimapd::test
