#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *kj_err_name(kj_code code) {
  switch (code) {
#define KJ_ERR_NAME(name, msg)                                                                     \
  case KJ_##name:                                                                                  \
    return #name;
    KJ_ERR_MAP(KJ_ERR_NAME)
#undef KJ_ERR_NAME
  default:
    return "EUNKNOWN";
  }
}

const char *kj_strerror(kj_code code) {
  switch (code) {
#define KJ_ERR_TEXT(name, msg)                                                                     \
  case KJ_##name:                                                                                  \
    return msg;
    KJ_ERR_MAP(KJ_ERR_TEXT)
#undef KJ_ERR_TEXT
  default:
    return "unknown error";
  }
}

kj_code kj_vfail(kj_err *err, kj_code code, const char *fmt, va_list ap) {
  if (err) {
    err->code = code;
    if (fmt)
      vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    else
      snprintf(err->msg, sizeof(err->msg), "%s", kj_strerror(code));
  }
  return code;
}

kj_code kj_fail(kj_err *err, kj_code code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kj_vfail(err, code, fmt, ap);
  va_end(ap);
  return code;
}

void kj_err_clear(kj_err *err) {
  if (err) {
    err->code = KJ_OK;
    err->msg[0] = '\0';
  }
}

void kj__bug(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "BUG: %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}
