// Force-included (-include) into every C++ file of a musl build
// (toolchains/cmake/MuslCross.cmake). Debian's libstdc++ headers are
// configured for glibc; this supplies or switches off the few glibc-only
// names they use. Only headers are borrowed: the server links no libstdc++
// code that would call into glibc (run_all.sh's report stage checks NEEDED,
// and the link would fail on a glibc-only symbol).
#pragma once

#ifdef __cplusplus

// bits/os_defines.h asks which glibc this is: none.
#ifndef __GLIBC_PREREQ
#define __GLIBC_PREREQ(major, minor) 0
#endif

// Read the configuration now, then switch off what needs glibc 2.30+
// (std::condition_variable / timed mutexes would call these).
#include <bits/c++config.h>
#undef _GLIBCXX_USE_PTHREAD_COND_CLOCKWAIT
#undef _GLIBCXX_USE_PTHREAD_MUTEX_CLOCKLOCK
#undef _GLIBCXX_USE_PTHREAD_RWLOCK_CLOCKLOCK

// bits/c++locale.h names the locale handle by its glibc-internal name.
struct __locale_struct;
typedef struct __locale_struct* __locale_t;

// bits/ctype_base.h: glibc's <ctype.h> class bits (little-endian layout), for
// std::ctype_base's constants; nothing here calls std::ctype.
#define _TINYIMAPD_ISBIT(bit) ((bit) < 8 ? ((1 << (bit)) << 8) : ((1 << (bit)) >> 8))
#define _ISupper _TINYIMAPD_ISBIT(0)
#define _ISlower _TINYIMAPD_ISBIT(1)
#define _ISalpha _TINYIMAPD_ISBIT(2)
#define _ISdigit _TINYIMAPD_ISBIT(3)
#define _ISxdigit _TINYIMAPD_ISBIT(4)
#define _ISspace _TINYIMAPD_ISBIT(5)
#define _ISprint _TINYIMAPD_ISBIT(6)
#define _ISgraph _TINYIMAPD_ISBIT(7)
#define _ISblank _TINYIMAPD_ISBIT(8)
#define _IScntrl _TINYIMAPD_ISBIT(9)
#define _ISpunct _TINYIMAPD_ISBIT(10)
#define _ISalnum _TINYIMAPD_ISBIT(11)

#endif  // __cplusplus
