/* passhash.h - PINs, passwords and activation codes hashed with Argon2id
 * (RFC 9106) through libargon2, Debian's package.  Only the encoded hash is
 * ever stored; the secret itself never is. */
#ifndef KJ_PASSHASH_H
#define KJ_PASSHASH_H
#include <stddef.h>

#include "err.h"

/* The encoded form "$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH" is at most
 * this long, with its terminating NUL. */
#define KJ_PASSHASH_MAX 128

/* Hash secret (a NUL-terminated PIN, password or code, any bytes) with
 * Argon2id, a fresh 16-byte random salt and the cost RFC 9106 section 4
 * and OWASP give for interactive sign-in on a small PC: 19 MiB of memory,
 * 2 passes, 1 lane (about 40 ms here).  Writes the encoded form into
 * out[size] (size >= KJ_PASSHASH_MAX).  KJ_OK; KJ_ENOMEM; KJ_ECRYPTO when
 * libargon2 or the random source fails (err says which). */
kj_code kj_pass_hash(const char *secret, char *out, size_t size, kj_err *err);

/* Check secret against an encoded Argon2id hash made by kj_pass_hash (the
 * cost is read from the encoded form, so older hashes keep working).
 * KJ_OK when it matches, KJ_EAUTH when it does not, KJ_EINVAL when encoded
 * is not an Argon2id hash, KJ_ENOMEM.  Comparison is constant-time
 * (libargon2). */
kj_code kj_pass_verify(const char *encoded, const char *secret, kj_err *err);

#endif
