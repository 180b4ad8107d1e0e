// TINYIMAPD_ASSERT(cond): an invariant the code relies on, stated where a
// comment would otherwise state it. Checked in debug builds (NDEBUG not
// defined) and in sanitizer and fuzz builds (TINYIMAPD_ASSERTS, set by
// toolchains/cmake/Sanitizers.cmake and core/CMakeLists.txt); compiled out
// in release builds, where `cond` is not evaluated (so it must have no side
// effects).
//
// A failed check calls the handler a platform installed, if any (posix: a
// line on stderr, then abort), and traps: no message from core itself, no OS
// header, no allocation, so core/ may use it anywhere; the debugger or the
// sanitizer's report shows where. It never returns.
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
