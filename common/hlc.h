/* hlc.h - hybrid logical clock (Kulkarni et al. 2014).
 *
 * A stamp is one uint64: the upper 48 bits are wall-clock milliseconds since
 * the Unix epoch, the lower 16 a logical counter.  Stamps order like integers.
 * The clock never goes backwards even when the wall clock does; `offset_ms`
 * corrects a wrong local clock with the skew measured against the server.
 */
#ifndef KJ_HLC_H
#define KJ_HLC_H

#include <stdint.h>

#include "err.h"

typedef uint64_t kj_hlc;

#define KJ_HLC_MS(h) ((uint64_t)(h) >> 16)
#define KJ_HLC_COUNT(h) ((unsigned)((h)&0xffffu))
#define KJ_HLC_MAKE(ms, count) (((uint64_t)(ms) << 16) | ((uint64_t)(count)&0xffffu))
#define KJ_HLC_STRMAX 21 /* decimal uint64 + NUL */

typedef struct kj_hlc_clock {
  kj_hlc last;       /* last stamp issued or received */
  int64_t offset_ms; /* added to the wall clock: server time - local time */
} kj_hlc_clock;

void kj_hlc_init(kj_hlc_clock *c, kj_hlc last, int64_t offset_ms);

/* Wall clock in ms since the epoch (CLOCK_REALTIME). */
uint64_t kj_wall_ms(void);

/* A new stamp for a local event, given the wall clock in ms. */
kj_hlc kj_hlc_tick(kj_hlc_clock *c, uint64_t wall_ms);
/* Same with kj_wall_ms(). */
kj_hlc kj_hlc_now(kj_hlc_clock *c);
/* Merge a stamp received from elsewhere; returns the new local stamp. */
kj_hlc kj_hlc_recv(kj_hlc_clock *c, kj_hlc remote, uint64_t wall_ms);

/* Decimal text form, the one used on the wire and in the databases. */
void kj_hlc_format(kj_hlc h, char out[KJ_HLC_STRMAX]);
/* Parse the decimal form: KJ_OK, or KJ_EINVAL when s is not a stamp (no
 * message: the caller names the field). */
kj_code kj_hlc_parse(const char *s, kj_hlc *out);

#endif
