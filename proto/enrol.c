/* enrol.c - the enrolment code (enrol.h; docs/protocol.md "Enrolment"). */
#include "enrol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "i18n.h"
#include "text.h"

#define NBYTES (KJ_ENROL_SECRET_LEN + KJ_ENROL_PIN_LEN) /* 15 bytes = 24 symbols */
#define NSYMS 25                                        /* with the check symbol */

static const char k_alpha[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */

/* The value of a typed symbol, -1 when it is none. */
static int sym_value(char c) {
  if (c >= 'a' && c <= 'z')
    c = (char)(c - 'a' + 'A');
  if (c == 'O')
    c = '0';
  else if (c == 'I' || c == 'L')
    c = '1';
  const char *p = c ? strchr(k_alpha, c) : NULL;
  return p ? (int)(p - k_alpha) : -1;
}

static int check_value(const unsigned char b[NBYTES]) {
  unsigned char h[32];
  mbedtls_sha256_ret(b, NBYTES, h, 0);
  return h[0] >> 3;
}

void kj_enrol_code_format(const unsigned char secret[KJ_ENROL_SECRET_LEN],
                          const unsigned char pin[KJ_ENROL_PIN_LEN], char out[KJ_ENROL_CODE_SIZE]) {
  unsigned char b[NBYTES];
  memcpy(b, secret, KJ_ENROL_SECRET_LEN);
  memcpy(b + KJ_ENROL_SECRET_LEN, pin, KJ_ENROL_PIN_LEN);
  int v[NSYMS];
  /* 120 bits, 5 at a time, most significant first */
  for (int i = 0; i < NSYMS - 1; i++) {
    int bit = i * 5, val = 0;
    for (int k = 0; k < 5; k++, bit++)
      val = (val << 1) | ((b[bit / 8] >> (7 - bit % 8)) & 1);
    v[i] = val;
  }
  v[NSYMS - 1] = check_value(b);
  size_t o = 0;
  for (int i = 0; i < NSYMS; i++) {
    if (i && i % 5 == 0)
      out[o++] = '-';
    out[o++] = k_alpha[v[i]];
  }
  out[o] = 0;
  memset(b, 0, sizeof b);
}

kj_code kj_enrol_code_parse(const char *text, unsigned char secret[KJ_ENROL_SECRET_LEN],
                            unsigned char pin[KJ_ENROL_PIN_LEN], kj_err *err) {
  int v[NSYMS], n = 0;
  for (const char *p = text ? text : ""; *p; p++) {
    if (*p == '-' || *p == ' ')
      continue;
    int x = sym_value(*p);
    if (x < 0) {
      if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
        return kj_fail(err, KJ_EINVAL,
                       _("enrolment code: byte 0x%02x is not a letter or digit of the code"),
                       (unsigned char)*p);
      return kj_fail(err, KJ_EINVAL, _("enrolment code: '%c' is not a letter or digit of the code"),
                     *p);
    }
    if (n == NSYMS)
      return kj_fail(
          err, KJ_EINVAL,
          _("enrolment code: too long (a code is 25 letters and digits, 5 groups of 5)"));
    v[n++] = x;
  }
  if (n != NSYMS)
    return kj_fail(err, KJ_EINVAL,
                   _("enrolment code: %d letters and digits, expected 25 (5 groups of 5)"), n);
  unsigned char b[NBYTES];
  memset(b, 0, sizeof b);
  for (int i = 0; i < NSYMS - 1; i++)
    for (int k = 0; k < 5; k++) {
      int bit = i * 5 + k;
      if ((v[i] >> (4 - k)) & 1)
        b[bit / 8] |= (unsigned char)(1u << (7 - bit % 8));
    }
  if (check_value(b) != v[NSYMS - 1]) {
    memset(b, 0, sizeof b);
    return kj_fail(err, KJ_EINVAL,
                   _("enrolment code: mistyped (its check letter does not match): copy it again "
                     "from 'kinerjad device add'"));
  }
  memcpy(secret, b, KJ_ENROL_SECRET_LEN);
  memcpy(pin, b + KJ_ENROL_SECRET_LEN, KJ_ENROL_PIN_LEN);
  memset(b, 0, sizeof b);
  return KJ_OK;
}

kj_code kj_cert_spki_sha256(const char *pem, size_t len, unsigned char out[32], kj_err *err) {
  /* mbedtls_x509_crt_parse wants PEM with its NUL counted */
  char *copy = malloc(len + 1);
  if (!copy)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  memcpy(copy, pem, len);
  copy[len] = 0;
  const char *begin = strstr(copy, "-----BEGIN CERTIFICATE-----");
  const char *end = begin ? strstr(begin, "-----END CERTIFICATE-----") : NULL;
  kj_code rc = KJ_OK;
  if (!end) {
    free(copy);
    return kj_fail(err, KJ_EINVAL, _("no PEM certificate"));
  }
  size_t one = (size_t)(end - begin) + strlen("-----END CERTIFICATE-----");
  char *cert = kj_strndup(begin, one);
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  unsigned char der[1024];
  int n;
  if (!cert)
    rc = kj_fail(err, KJ_ENOMEM, _("out of memory"));
  else if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert, one + 1) != 0)
    rc = kj_fail(err, KJ_EINVAL, _("the certificate cannot be read"));
  else if ((n = mbedtls_pk_write_pubkey_der(&crt.pk, der, sizeof der)) <= 0)
    rc = kj_fail(err, KJ_EINVAL, _("the certificate's public key cannot be encoded"));
  else
    mbedtls_sha256_ret(der + sizeof der - (size_t)n, (size_t)n, out, 0);
  mbedtls_x509_crt_free(&crt);
  free(cert);
  free(copy);
  return rc;
}

void kj_pin_format(const unsigned char hash[32], char *out, size_t size) {
  size_t olen = 0;
  unsigned char b64[64];
  if (mbedtls_base64_encode(b64, sizeof b64, &olen, hash, 32) != 0)
    olen = 0;
  b64[olen] = 0;
  snprintf(out, size, "sha256//%s", (const char *)b64);
}

void kj_enrol_secret_hex(const unsigned char secret[KJ_ENROL_SECRET_LEN],
                         char out[KJ_ENROL_HEX_SIZE]) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < KJ_ENROL_SECRET_LEN; i++) {
    out[2 * i] = d[secret[i] >> 4];
    out[2 * i + 1] = d[secret[i] & 15];
  }
  out[(size_t)2 * KJ_ENROL_SECRET_LEN] = 0;
}

static int hexdig(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

kj_code kj_enrol_secret_unhex(const char *hex, size_t len,
                              unsigned char secret[KJ_ENROL_SECRET_LEN]) {
  if (len != (size_t)2 * KJ_ENROL_SECRET_LEN)
    return KJ_EINVAL;
  for (size_t i = 0; i < KJ_ENROL_SECRET_LEN; i++) {
    int h = hexdig(hex[2 * i]), l = hexdig(hex[2 * i + 1]);
    if (h < 0 || l < 0)
      return KJ_EINVAL;
    secret[i] = (unsigned char)(h * 16 + l);
  }
  return KJ_OK;
}
