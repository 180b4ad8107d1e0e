// port/entropy.h — cryptographically strong random bytes (UIDVALIDITY,
// salts, TLS seeding).
#pragma once

#include <cstddef>

#include "core/base/status.h"

namespace tinyimapd::port {

class Entropy {
public:
    // Fill all `length` bytes or fail; never returns weak randomness.
    virtual Status fill(void* out, std::size_t length) = 0;

protected:
    ~Entropy() = default;
};

}  // namespace tinyimapd::port
