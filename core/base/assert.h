// TINYIMAPD_ASSERT(cond): an invariant the code relies on, stated where a
// comment would otherwise state it. Checked in debug builds (NDEBUG not
// defined) and in sanitizer builds (TINYIMAPD_ASSERTS, set by
// toolchains/cmake/Sanitizers.cmake); compiled out in release builds, where
// `cond` is not evaluated (so it must have no side effects).
//
// A failed check traps at once (no message, no OS header, no allocation:
// core/ may use it anywhere); the debugger or the sanitizer's report shows
// where.
#pragma once

#if !defined(NDEBUG) || defined(TINYIMAPD_ASSERTS)
#define TINYIMAPD_ASSERT(cond)         \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (false)
#else
#define TINYIMAPD_ASSERT(cond) \
    do {                       \
        (void)sizeof(cond);    \
    } while (false)
#endif
