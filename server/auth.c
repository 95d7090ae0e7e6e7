/* auth.c - tokens and the Authorization header.  Never log a token. */
#include "auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/sha256.h>

#include "uuid.h"

static void hex(const unsigned char *b, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15];
  }
  out[2 * n] = 0;
}

void kjs_token_hash(const char *text, size_t len, unsigned char hash[32]) {
  mbedtls_sha256_ret((const unsigned char *)text, len, hash, 0);
}

kj_code kjs_token_new(char text[KJS_TOKEN_LEN + 1], unsigned char hash[32], kj_err *err) {
  unsigned char raw[32];
  if (kj_random_bytes(raw, sizeof raw) != 0)
    return kj_fail(err, KJ_ECRYPTO, "cannot get random bytes");
  hex(raw, sizeof raw, text);
  memset(raw, 0, sizeof raw);
  kjs_token_hash(text, KJS_TOKEN_LEN, hash);
  return KJ_OK;
}

kj_code kjs_token_id(const char *prefix, char *out, size_t size, kj_err *err) {
  unsigned char raw[4];
  char h[9];
  if (kj_random_bytes(raw, sizeof raw) != 0)
    return kj_fail(err, KJ_ECRYPTO, "cannot get random bytes");
  hex(raw, sizeof raw, h);
  snprintf(out, size, "%s%s", prefix, h);
  return KJ_OK;
}

kj_code kjs_auth_identify(kjs_store *s, const char *authorization, kjs_principal *who,
                          const char **reason, kj_err *err) {
  const char *why_dummy;
  if (!reason)
    reason = &why_dummy;
  *reason = NULL;
  if (!authorization) {
    *reason = "missing";
    return kj_fail(err, KJ_EAUTH, "missing bearer token");
  }
  const char *p = authorization;
  while (*p == ' ')
    p++;
  if (strncasecmp(p, "Bearer ", 7) != 0) {
    *reason = "malformed";
    return kj_fail(err, KJ_EAUTH, "expected 'Authorization: Bearer TOKEN'");
  }
  p += 7;
  while (*p == ' ')
    p++;
  size_t n = strlen(p);
  while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
    n--;
  if (n == 0 || n > 256) {
    *reason = "malformed";
    return kj_fail(err, KJ_EAUTH, "malformed bearer token");
  }
  unsigned char hash[32];
  kjs_token_hash(p, n, hash);
  kjs_token_state state;
  kj_code rc = kjs_store_token_lookup(s, hash, who, &state, err);
  if (rc)
    return rc;
  if (state == KJS_TOKEN_LIVE)
    return KJ_OK;
  if (state == KJS_TOKEN_REVOKED) {
    *reason = "revoked";
    return kj_fail(err, KJ_EAUTH, "token revoked");
  }
  *reason = "unknown";
  return kj_fail(err, KJ_EAUTH, "unknown token");
}
