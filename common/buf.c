#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kj_buf_init(kj_buf *b, size_t max) {
  b->data = NULL;
  b->len = b->cap = 0;
  b->max = max;
}

void kj_buf_release(kj_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void kj_buf_reset(kj_buf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

char *kj_buf_detach(kj_buf *b, size_t *len) {
  char *d = b->data;
  if (len)
    *len = b->len;
  if (!d)
    d = calloc(1, 1);
  b->data = NULL;
  b->len = b->cap = 0;
  return d;
}

static _Thread_local unsigned long buf_nomem;

unsigned long kj_buf_nomem(void) {
  return buf_nomem;
}

kj_code kj_buf_reserve(kj_buf *b, size_t n) {
  if (n > b->max || b->len > b->max - n) {
    kj_buf_release(b);
    return KJ_ETOOBIG;
  }
  size_t need = b->len + n + 1;
  if (need <= b->cap)
    return KJ_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap < ((size_t)-1) / 2 ? cap * 2 : need;
  char *d = realloc(b->data, cap);
  if (!d) {
    kj_buf_release(b);
    buf_nomem++;
    return KJ_ENOMEM;
  }
  b->data = d;
  b->cap = cap;
  return KJ_OK;
}

kj_code kj_buf_add(kj_buf *b, const void *data, size_t len) {
  kj_code rc = kj_buf_reserve(b, len);
  if (rc)
    return rc;
  if (len)
    memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
  return KJ_OK;
}

kj_code kj_buf_adds(kj_buf *b, const char *s) {
  return kj_buf_add(b, s, strlen(s));
}
kj_code kj_buf_addc(kj_buf *b, char c) {
  return kj_buf_add(b, &c, 1);
}

kj_code kj_buf_vaddf(kj_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return KJ_EINVAL;
  kj_code rc = kj_buf_reserve(b, (size_t)n);
  if (rc)
    return rc;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return KJ_OK;
}

kj_code kj_buf_addf(kj_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kj_code rc = kj_buf_vaddf(b, fmt, ap);
  va_end(ap);
  return rc;
}

void kj_buf_consume(kj_buf *b, size_t n) {
  if (n >= b->len) {
    kj_buf_reset(b);
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
  b->data[b->len] = '\0';
}
