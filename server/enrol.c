/* enrol.c - enrolment codes on the server side (kjs_enrol.h). */
#include "kjs_enrol.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/sha256.h>

#include "hlc.h"
#include "uuid.h"

static void domain_hash(const char *label, const unsigned char secret[KJ_ENROL_SECRET_LEN],
                        int block, unsigned char out[32]) {
  mbedtls_sha256_context c;
  mbedtls_sha256_init(&c);
  mbedtls_sha256_starts_ret(&c, 0);
  mbedtls_sha256_update_ret(&c, (const unsigned char *)label, strlen(label) + 1);
  mbedtls_sha256_update_ret(&c, secret, KJ_ENROL_SECRET_LEN);
  if (block >= 0) {
    unsigned char b = (unsigned char)block;
    mbedtls_sha256_update_ret(&c, &b, 1);
  }
  mbedtls_sha256_finish_ret(&c, out);
  mbedtls_sha256_free(&c);
}

void kjs_enrol_hash(const unsigned char secret[KJ_ENROL_SECRET_LEN], unsigned char out[32]) {
  domain_hash("kinerja enrolment code", secret, -1, out);
}

void kjs_enrol_seal(const unsigned char secret[KJ_ENROL_SECRET_LEN], const unsigned char *in,
                    size_t len, unsigned char *out) {
  unsigned char ks[32];
  for (size_t i = 0; i < len && i < 128; i++) {
    if (i % 32 == 0)
      domain_hash("kinerja enrolment seal", secret, (int)(i / 32), ks);
    out[i] = in[i] ^ ks[i % 32];
  }
  memset(ks, 0, sizeof ks);
}

kj_code kjs_enrol_issue(kjs_store *st, const char *cert_file, const char *device, const char *token,
                        char code[KJ_ENROL_CODE_SIZE], int64_t *expires_ms, kj_err *err) {
  code[0] = 0;
  FILE *f = fopen(cert_file, "rb");
  if (!f)
    return kj_fail(err, KJ_ENOENT, "cannot read the certificate '%s'", cert_file);
  char pem[65536];
  size_t n = fread(pem, 1, sizeof pem - 1, f);
  fclose(f);
  pem[n] = 0;
  unsigned char spki[32], secret[KJ_ENROL_SECRET_LEN], hash[32], sealed[128];
  kj_err e;
  kj_err_clear(&e);
  if (kj_cert_spki_sha256(pem, n, spki, &e))
    return kj_fail(err, e.code ? e.code : KJ_EINVAL, "'%s': %s", cert_file, e.msg);
  size_t tl = strlen(token);
  if (tl > sizeof sealed)
    return kj_fail(err, KJ_EINVAL, "token too long to seal");
  if (kj_random_bytes(secret, sizeof secret))
    return kj_fail(err, KJ_ECRYPTO, "cannot get random bytes");
  kjs_enrol_hash(secret, hash);
  kjs_enrol_seal(secret, (const unsigned char *)token, tl, sealed);
  *expires_ms = (int64_t)kj_wall_ms() + KJS_ENROL_VALID_MS;
  kj_code rc = kjs_store_enrol_add(st, hash, device, sealed, tl, *expires_ms, err);
  if (!rc)
    kj_enrol_code_format(secret, spki, code);
  memset(secret, 0, sizeof secret);
  return rc;
}

kj_code kjs_enrol_header(const char *authorization, unsigned char secret[KJ_ENROL_SECRET_LEN],
                         kj_err *err) {
  const char *p = authorization;
  while (p && *p == ' ')
    p++;
  if (!p || strncasecmp(p, KJS_ENROL_SCHEME, strlen(KJS_ENROL_SCHEME)) != 0)
    return KJ_ENOENT;
  p += strlen(KJS_ENROL_SCHEME);
  while (*p == ' ')
    p++;
  size_t n = strlen(p);
  while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
    n--;
  if (kj_enrol_secret_unhex(p, n, secret))
    return kj_fail(err, KJ_EAUTH,
                   "malformed enrolment code: expected 'Authorization: Enrol' and "
                   "20 hex digits");
  return KJ_OK;
}

/* ---- limits ------------------------------------------------------------ */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t g_fail_start;
static int g_fail_count;

#define ADDR_SLOTS 256
#define ADDR_WINDOW_MS (10LL * 60 * 1000)
static struct {
  char addr[64];
  int64_t start;
  int count;
} g_addr[ADDR_SLOTS];

int kjs_enrol_fail_allowed(int64_t now_ms, int *retry_s) {
  pthread_mutex_lock(&g_mu);
  int ok = now_ms - g_fail_start >= 60000LL || g_fail_count < KJS_ENROL_FAIL_MAX;
  *retry_s = ok ? 0 : (int)((g_fail_start + 60000 - now_ms + 999) / 1000);
  pthread_mutex_unlock(&g_mu);
  return ok;
}

void kjs_enrol_fail_note(int64_t now_ms) {
  pthread_mutex_lock(&g_mu);
  if (now_ms - g_fail_start >= 60000LL) {
    g_fail_start = now_ms;
    g_fail_count = 0;
  }
  g_fail_count++;
  pthread_mutex_unlock(&g_mu);
}

int kjs_enrol_addr_allowed(const char *remote, int64_t now_ms, int *retry_s) {
  /* the address without its port: "127.0.0.1:5342" -> "127.0.0.1",
   * "[::1]:5342" -> "[::1]" */
  char a[64];
  snprintf(a, sizeof a, "%s", remote ? remote : "");
  char *colon = strrchr(a, ':');
  if (colon && (a[0] != '[' || colon > strchr(a, ']')))
    *colon = 0;
  unsigned h = 2166136261u;
  for (const char *p = a; *p; p++)
    h = (h ^ (unsigned char)*p) * 16777619u;
  pthread_mutex_lock(&g_mu);
  int slot = (int)(h % ADDR_SLOTS);
  /* a slot of another address is taken over once its window is over; a
   * collision inside a window shares the count (stricter, never looser) */
  if (strcmp(g_addr[slot].addr, a) != 0 && now_ms - g_addr[slot].start < ADDR_WINDOW_MS &&
      g_addr[slot].count > 0) {
    ;
  } else if (strcmp(g_addr[slot].addr, a) != 0 || now_ms - g_addr[slot].start >= ADDR_WINDOW_MS) {
    snprintf(g_addr[slot].addr, sizeof g_addr[slot].addr, "%s", a);
    g_addr[slot].start = now_ms;
    g_addr[slot].count = 0;
  }
  int ok = g_addr[slot].count < KJS_ENROL_ADDR_MAX;
  if (ok)
    g_addr[slot].count++;
  *retry_s = ok ? 0 : (int)((g_addr[slot].start + ADDR_WINDOW_MS - now_ms + 999) / 1000);
  pthread_mutex_unlock(&g_mu);
  return ok;
}
