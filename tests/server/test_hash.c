/* test_hash.c - server/hash.c: libcrypto's SHA-256 is mbedTLS's, so a
 * change's digest taken by kinerjad (kj_change_digest_text with
 * kjs_sha256) is the one stored by earlier releases and taken by
 * kj_change_digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "hash.h"
#include "msg.h"

/* FIPS 180-2's examples, and lengths around the 64-byte block and its
 * padding (55, 56, 64, 119, 1000). */
static void test_sha256(void **state) {
  (void)state;
  unsigned char got[32], want[32];
  kjs_sha256("abc", 3, got);
  static const unsigned char abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                        0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                        0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  assert_memory_equal(got, abc, 32);
  static char buf[1000];
  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = (char)('a' + i * 7 % 26);
  static const size_t lens[] = {0, 1, 55, 56, 63, 64, 65, 119, 120, 1000};
  for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
    kjs_sha256(buf, lens[k], got);
    mbedtls_sha256_ret((const unsigned char *)buf, lens[k], want, 0);
    assert_memory_equal(got, want, 32);
  }
}

/* A pushed change's digest as kinerjad takes it equals kj_change_digest's. */
static void test_change_digest(void **state) {
  (void)state;
  kj_change c;
  kj_change_init(&c, KJ_T_SURVEY);
  snprintf(c.rec.id, sizeof c.rec.id, "%s", "01900000-0000-7000-8000-000000000001");
  c.seq = 7;
  c.hlc = 116159348736049152ULL;
  snprintf(c.author, sizeof c.author, "%s", "199001012015011001");
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  for (int i = 0; i < t->nfields; i++) {
    assert_int_equal(kj_record_set(&c.rec, i, i % 3 ? "4" : "caf\xc3\xa9 \"q\""), KJ_OK);
    c.mask |= 1u << i;
  }
  kj_buf text;
  kj_buf_init(&text, KJ_BUF_UNLIMITED);
  unsigned char got[KJ_CHANGE_DIGEST_LEN], want[KJ_CHANGE_DIGEST_LEN];
  size_t body;
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kj_change_digest_text(&c, kjs_sha256, &text, &body, got, &e), KJ_OK);
  assert_int_equal(kj_change_digest(&c, want, &e), KJ_OK);
  assert_memory_equal(got, want, KJ_CHANGE_DIGEST_LEN);
  kj_buf_release(&text);
  kj_change_release(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sha256),
      cmocka_unit_test(test_change_digest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
