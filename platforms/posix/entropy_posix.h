// PosixEntropy: port::Entropy from the kernel's CSPRNG via getrandom().
//
// Fills every byte or fails; never returns weak randomness. getrandom() is
// called without GRND_NONBLOCK, so very early at boot, before the kernel's
// pool is initialised, the first call may wait for it (once per boot). On a
// kernel older than 3.17 (no getrandom: some vendor firmware) it reads
// /dev/urandom instead. No memory is allocated.
#pragma once

#include "port/entropy.h"

namespace tinyimapd::posix {

class PosixEntropy final : public port::Entropy {
public:
    Status fill(void* out, std::size_t length) override;
};

}  // namespace tinyimapd::posix
