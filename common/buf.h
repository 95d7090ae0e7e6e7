/* buf.h - a bounded growable byte buffer (after curl's dynbuf).
 *
 * The buffer is always NUL-terminated.  Growing past `max` fails with
 * KJ_ETOOBIG and, like dynbuf, frees the contents: a buffer fed from the
 * network can never grow without bound.
 */
#ifndef KJ_BUF_H
#define KJ_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "err.h"

typedef struct kj_buf {
  char *data; /* NULL until the first append */
  size_t len;
  size_t cap;
  size_t max; /* hard limit on len */
} kj_buf;

#define KJ_BUF_UNLIMITED ((size_t)-1 / 2)

void kj_buf_init(kj_buf *b, size_t max);
void kj_buf_release(kj_buf *b);
/* Keep the allocation, drop the contents. */
void kj_buf_reset(kj_buf *b);
/* Hand the data (NUL-terminated, caller frees) out; the buffer is empty after. */
char *kj_buf_detach(kj_buf *b, size_t *len);

kj_code kj_buf_add(kj_buf *b, const void *data, size_t len);
kj_code kj_buf_adds(kj_buf *b, const char *s);
kj_code kj_buf_addc(kj_buf *b, char c);
kj_code kj_buf_addf(kj_buf *b, const char *fmt, ...) KJ_PRINTF(2, 3);
kj_code kj_buf_vaddf(kj_buf *b, const char *fmt, va_list ap);
/* Make room for n more bytes without changing len. */
kj_code kj_buf_reserve(kj_buf *b, size_t n);
/* How many kj_buf allocations failed in this thread so far (each released
 * its buffer, so later adds start it again): code that ignores some add
 * results compares the count before and after to know its text is whole. */
unsigned long kj_buf_nomem(void);
/* Drop the first n bytes (a consumed prefix). */
void kj_buf_consume(kj_buf *b, size_t n);

static inline const char *kj_buf_str(const kj_buf *b) {
  return b->data ? b->data : "";
}

#endif
