#include "uuid.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* kj_random_bytes: common/plat_posix.c, common/plat_win.c */

static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t uuid_last_ms;
static uint32_t uuid_last_seq; /* 12-bit rand_a counter within one ms */

kj_code kj_uuid_v7_at(char out[KJ_UUID_STRLEN + 1], uint64_t ms) {
  unsigned char b[16];
  kj_code rc = kj_random_bytes(b, sizeof(b));
  if (rc)
    return rc;
  /* rand_a is a counter seeded randomly each new ms (RFC 9562 method 1),
   * so ids of one process sort in creation order */
  pthread_mutex_lock(&uuid_lock);
  uint32_t seq;
  if (ms <= uuid_last_ms) {
    ms = uuid_last_ms;
    seq = ++uuid_last_seq;
    if (seq > 0xfff) { /* counter exhausted: borrow the next ms */
      ms = ++uuid_last_ms;
      seq = uuid_last_seq = (uint32_t)(b[6] & 0x07);
    }
  } else {
    uuid_last_ms = ms;
    seq = uuid_last_seq = (uint32_t)(((b[6] & 0x07) << 8) | b[7]);
  }
  pthread_mutex_unlock(&uuid_lock);
  b[0] = (unsigned char)(ms >> 40);
  b[1] = (unsigned char)(ms >> 32);
  b[2] = (unsigned char)(ms >> 24);
  b[3] = (unsigned char)(ms >> 16);
  b[4] = (unsigned char)(ms >> 8);
  b[5] = (unsigned char)ms;
  b[6] = (unsigned char)(0x70 | ((seq >> 8) & 0x0f));
  b[7] = (unsigned char)(seq & 0xff);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, KJ_UUID_STRLEN + 1,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
           b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return KJ_OK;
}

kj_code kj_uuid_v7(char out[KJ_UUID_STRLEN + 1]) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  return kj_uuid_v7_at(out, ms);
}

int kj_uuid_valid(const char *s) {
  if (!s)
    return 0;
  for (int i = 0; i < KJ_UUID_STRLEN; i++) {
    char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-')
        return 0;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return 0;
    }
  }
  return s[KJ_UUID_STRLEN] == '\0';
}
