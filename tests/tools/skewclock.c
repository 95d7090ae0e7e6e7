/* skewclock.c - LD_PRELOAD library for tests: a process whose wall clock is
 * wrong.  With KJ_TEST_CLOCK_SKEW_MS=N in the environment, CLOCK_REALTIME
 * (clock_gettime, gettimeofday, time) reads N ms later (N < 0: earlier).
 * Used to prove that a PC a year ahead does not win with its stamps
 * (docs/protocol.md "Clocks"):
 *   LD_PRELOAD=libkjskewclock.so KJ_TEST_CLOCK_SKEW_MS=31536000000 kinerja ...
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static int64_t skew_ms(void) {
  const char *v = getenv("KJ_TEST_CLOCK_SKEW_MS");
  return v ? strtoll(v, NULL, 10) : 0;
}

typedef int (*cg_fn)(clockid_t, struct timespec *);

int clock_gettime(clockid_t id, struct timespec *ts) {
  static cg_fn real;
  if (!real)
    real = (cg_fn)dlsym(RTLD_NEXT, "clock_gettime");
  int r = real(id, ts);
  if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
    int64_t ns = (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec + skew_ms() * 1000000;
    ts->tv_sec = (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
  }
  return r;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
  (void)tz;
  struct timespec ts;
  int r = clock_gettime(CLOCK_REALTIME, &ts);
  if (r == 0) {
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
  }
  return r;
}

time_t time(time_t *t) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (t)
    *t = ts.tv_sec;
  return ts.tv_sec;
}
