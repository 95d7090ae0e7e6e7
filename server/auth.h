/* auth.h - bearer tokens: 256 random bits, shown once, stored as SHA-256. */
#ifndef KJS_AUTH_H
#define KJS_AUTH_H

#include "err.h"
#include "store.h"

#define KJS_TOKEN_LEN 64 /* hex characters */

/* A new token: text (64 hex chars + NUL) for the user, hash for the store. */
kj_code kjs_token_new(char text[KJS_TOKEN_LEN + 1], unsigned char hash[32], kj_err *err);
void kjs_token_hash(const char *text, size_t len, unsigned char hash[32]);
/* A new id: prefix + 8 hex chars ("dev-1a2b3c4d"). */
kj_code kjs_token_id(const char *prefix, char *out, size_t size, kj_err *err);

/* Who sent the Authorization header value (NULL when absent): KJ_OK and
 * *who for a live token; KJ_EAUTH when it is missing, malformed, unknown or
 * revoked (err says which, without the token; *reason, may be NULL, is a
 * static word for the metrics: "missing", "malformed", "unknown" or
 * "revoked"); KJ_EDB (or the store's code) on a database error.  Looks the
 * token up every time: a revoke is effective for the next request. */
kj_code kjs_auth_identify(kjs_store *s, const char *authorization, kjs_principal *who,
                          const char **reason, kj_err *err);

#endif
