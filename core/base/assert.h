// TINYIMAPD_ASSERT(cond): an invariant the code relies on, stated where it
// is relied on. Checked in debug builds and in sanitizer builds
// (TINYIMAPD_ASSERTS, set by core/CMakeLists.txt), compiled out of release
// builds, where `cond` is not evaluated: it must have no side effects.
//
// A failed assertion calls the handler a platform installed (posix: a line
// on stderr, then abort) and then traps; core itself has no OS to report to.
// It never returns.
#pragma once

namespace tinyimapd {

using AssertHandler = void (*)(const char* expression, const char* file, int line);

// Installs the handler a failed assertion reports through (nullptr: none).
void set_assert_handler(AssertHandler handler);

[[noreturn]] void assert_failed(const char* expression, const char* file, int line);

}  // namespace tinyimapd

#if !defined(NDEBUG) || defined(TINYIMAPD_ASSERTS)
#define TINYIMAPD_ASSERT(cond) \
    ((cond) ? static_cast<void>(0) : ::tinyimapd::assert_failed(#cond, __FILE__, __LINE__))
#else
#define TINYIMAPD_ASSERT(cond) static_cast<void>(sizeof((cond) ? 1 : 0))
#endif
