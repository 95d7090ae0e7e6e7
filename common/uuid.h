/* uuid.h - UUID version 7 (RFC 9562): 48-bit Unix ms, then random bits. */
#ifndef KJ_UUID_H
#define KJ_UUID_H

#include <stdint.h>

#include "err.h"

#define KJ_UUID_STRLEN 36 /* without the NUL */

/* Write a new lowercase v7 UUID and a NUL into out (37 bytes).  Random bits
 * come from getrandom(2).  Ids made by one process are strictly increasing.
 * KJ_OK, or KJ_EIO when no random bytes can be had (out untouched). */
kj_code kj_uuid_v7(char out[KJ_UUID_STRLEN + 1]);
/* Same with an explicit time (ms since epoch), for tests. */
kj_code kj_uuid_v7_at(char out[KJ_UUID_STRLEN + 1], uint64_t unix_ms);

/* 1 when s is a UUID in 8-4-4-4-12 hex form (any version, either case). */
int kj_uuid_valid(const char *s);

/* Fill buf with n cryptographically random bytes (getrandom(2) on Linux,
 * BCryptGenRandom on Windows: common/plat_*.c): KJ_OK, or KJ_EIO when the
 * system refuses. */
kj_code kj_random_bytes(void *buf, unsigned long n);

#endif
