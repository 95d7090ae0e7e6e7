#include "hlc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void kj_hlc_init(kj_hlc_clock *c, kj_hlc last, int64_t offset_ms) {
  c->last = last;
  c->offset_ms = offset_ms;
}

uint64_t kj_wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t corrected(const kj_hlc_clock *c, uint64_t wall_ms) {
  int64_t w = (int64_t)wall_ms + c->offset_ms;
  return w < 0 ? 0 : (uint64_t)w;
}

kj_hlc kj_hlc_tick(kj_hlc_clock *c, uint64_t wall_ms) {
  uint64_t pt = corrected(c, wall_ms);
  uint64_t lms = KJ_HLC_MS(c->last);
  if (pt > lms)
    c->last = KJ_HLC_MAKE(pt, 0);
  else
    c->last = c->last + 1; /* counter overflow carries into ms: still monotonic */
  return c->last;
}

kj_hlc kj_hlc_now(kj_hlc_clock *c) {
  return kj_hlc_tick(c, kj_wall_ms());
}

kj_hlc kj_hlc_recv(kj_hlc_clock *c, kj_hlc remote, uint64_t wall_ms) {
  uint64_t pt = corrected(c, wall_ms);
  kj_hlc max = c->last > remote ? c->last : remote;
  if (pt > KJ_HLC_MS(max))
    c->last = KJ_HLC_MAKE(pt, 0);
  else
    c->last = max + 1;
  return c->last;
}

void kj_hlc_format(kj_hlc h, char out[KJ_HLC_STRMAX]) {
  snprintf(out, KJ_HLC_STRMAX, "%" PRIu64, h);
}

kj_code kj_hlc_parse(const char *s, kj_hlc *out) {
  if (!s || *s < '0' || *s > '9')
    return KJ_EINVAL;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end)
    return KJ_EINVAL;
  *out = (kj_hlc)v;
  return KJ_OK;
}
