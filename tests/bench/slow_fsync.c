/* A slow disk for the benchmarks: LD_PRELOAD this and every fsync() and
 * fdatasync() of the process first sleeps SLOW_FSYNC_MS milliseconds, as on
 * an SD card, a USB stick or a busy NAS disk, then does the real flush.
 *
 *   cc -shared -fPIC -O2 -o slow_fsync.so tests/bench/slow_fsync.c -ldl
 *   SLOW_FSYNC_MS=10 LD_PRELOAD=$PWD/slow_fsync.so tinyimapd ...
 *
 * Used by tests/bench/slow_disk.py; not part of the server. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void slow_down(void) {
  static long ns = -1;
  if (ns < 0) {
    const char* e = getenv("SLOW_FSYNC_MS");
    ns = e ? atol(e) * 1000000L : 0;
  }
  struct timespec t = {ns / 1000000000L, ns % 1000000000L};
  while (ns > 0 && nanosleep(&t, &t) != 0) {
  }
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  slow_down();
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  slow_down();
  return real(fd);
}
