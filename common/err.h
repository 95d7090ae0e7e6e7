/* err.h - one error enum and a human message, in the style of libuv/curl.
 *
 * Functions that can fail return a kj_code (0 = KJ_OK) and, when given a
 * struct kj_err, fill its message.  Messages follow Git's style: lowercase,
 * no trailing period, subjects quoted ('kinerja.db').
 */
#ifndef KJ_ERR_H
#define KJ_ERR_H

#include <stdarg.h>

/* KJ_PRINTF(fmt, first): printf-style checking of a function's format
 * (argument fmt) and arguments (from first).  Under MinGW-w64,
 * _POSIX_C_SOURCE selects MinGW's own C99 printf (%zu, %lld), which GCC
 * checks as gnu_printf; plain `printf` would mean Microsoft's. */
#ifdef __MINGW32__
#define KJ_PRINTF(fmt, first) __attribute__((format(gnu_printf, fmt, first)))
#else
#define KJ_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#endif

#define KJ_ERR_MAP(XX)                                                                             \
  XX(OK, "success")                                                                                \
  XX(EINVAL, "invalid argument")                                                                   \
  XX(ENOMEM, "out of memory")                                                                      \
  XX(EIO, "input/output error")                                                                    \
  XX(ENOENT, "not found")                                                                          \
  XX(EEXIST, "already exists")                                                                     \
  XX(EDB, "database error")                                                                        \
  XX(EBUSY, "resource busy")                                                                       \
  XX(EFULL, "disk full")                                                                           \
  XX(EVERSION, "unsupported version")                                                              \
  XX(ENET, "network error")                                                                        \
  XX(EAUTH, "not authorised")                                                                      \
  XX(EPROTO, "protocol error")                                                                     \
  XX(ETOOBIG, "too large")                                                                         \
  XX(ECRYPTO, "cryptography error")                                                                \
  XX(EINTR, "interrupted")

typedef enum {
#define KJ_ERR_ENUM(name, msg) KJ_##name,
  KJ_ERR_MAP(KJ_ERR_ENUM)
#undef KJ_ERR_ENUM
      KJ__ECOUNT
} kj_code;

#define KJ_ERR_MSG_MAX 256

typedef struct kj_err {
  kj_code code;
  char msg[KJ_ERR_MSG_MAX];
} kj_err;

/* Name of a code, e.g. "EINVAL", and its generic text. */
const char *kj_err_name(kj_code code);
const char *kj_strerror(kj_code code);

/* Record a failure in err (may be NULL) and return code.  The message is
 * formatted like printf; it is truncated, never overflowed. */
kj_code kj_fail(kj_err *err, kj_code code, const char *fmt, ...) KJ_PRINTF(3, 4);
kj_code kj_vfail(kj_err *err, kj_code code, const char *fmt, va_list ap);

/* Reset err to KJ_OK with an empty message. */
void kj_err_clear(kj_err *err);

/* Broken invariant: print and abort (Git's BUG()). */
#define KJ_BUG(...) kj__bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void kj__bug(const char *file, int line, const char *fmt, ...) KJ_PRINTF(3, 4);

#endif
