/* Linked into every program of a musl build (toolchains/cmake/MuslCross.cmake).
 * The static GCC runtime borrowed from Debian's glibc cross toolchain
 * (libgcc.a, libgcc_eh.a, and what a program takes of libstdc++.a) refers to
 * three glibc-only symbols; musl programs get them from here.
 */
#include <sys/auxv.h>

/* glibc 2.32: libstdc++ skips atomic reference counting when this is set.
 * Never claim single-threaded. */
char __libc_single_threaded = 0;

/* glibc's internal name of getauxval(); libgcc's aarch64 atomics ask for
 * HWCAP_ATOMICS (LSE) through it at startup. */
unsigned long __getauxval(unsigned long type);
unsigned long __getauxval(unsigned long type) {
    return getauxval(type);
}

/* glibc 2.35: the unwinder's fast lookup of a PC's object. "Not found":
 * tinyimapd never unwinds (core and the platform are built without
 * exceptions; a throw from a library ends in std::terminate either way). */
struct dl_find_object;
int _dl_find_object(void* pc, struct dl_find_object* result);
int _dl_find_object(void* pc, struct dl_find_object* result) {
    (void)pc;
    (void)result;
    return -1;
}
