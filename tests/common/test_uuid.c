/* test_uuid.c - UUID v7: format, version and variant bits, the time prefix,
 * strictly increasing ids, and the validity checker. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "uuid.h"

static void assert_v7_shape(const char *u) {
  assert_int_equal(strlen(u), KJ_UUID_STRLEN);
  for (int i = 0; i < KJ_UUID_STRLEN; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23)
      assert_int_equal(u[i], '-');
    else
      assert_true((u[i] >= '0' && u[i] <= '9') || (u[i] >= 'a' && u[i] <= 'f'));
  }
  assert_int_equal(u[14], '7');           /* version */
  assert_non_null(strchr("89ab", u[19])); /* variant 10xx */
  assert_true(kj_uuid_valid(u));
}

static uint64_t time_prefix(const char *u) {
  char hex[13];
  memcpy(hex, u, 8);
  memcpy(hex + 8, u + 9, 4);
  hex[12] = '\0';
  return strtoull(hex, NULL, 16);
}

static void test_time_prefix(void **state) {
  (void)state;
  /* slightly in the future so that the process-wide last ms is below it */
  uint64_t t = kj_wall_ms() + 500;
  char u[KJ_UUID_STRLEN + 1];
  assert_int_equal(kj_uuid_v7_at(u, t), KJ_OK);
  assert_v7_shape(u);
  assert_true(time_prefix(u) == t);
}

static void test_format_and_order(void **state) {
  (void)state;
  enum { N = 10000 };
  char(*ids)[KJ_UUID_STRLEN + 1] = malloc(sizeof(*ids) * N);
  assert_non_null(ids);
  for (int i = 0; i < N; i++) {
    assert_int_equal(kj_uuid_v7(ids[i]), KJ_OK);
    assert_v7_shape(ids[i]);
    if (i > 0)
      assert_true(strcmp(ids[i - 1], ids[i]) < 0); /* strictly increasing */
  }
  /* within one millisecond too: past 4096 the counter borrows the next ms */
  uint64_t t = time_prefix(ids[N - 1]);
  char prev[KJ_UUID_STRLEN + 1], cur[KJ_UUID_STRLEN + 1];
  strcpy(prev, ids[N - 1]);
  for (int i = 0; i < N; i++) {
    assert_int_equal(kj_uuid_v7_at(cur, t), KJ_OK);
    assert_v7_shape(cur);
    assert_true(strcmp(prev, cur) < 0);
    strcpy(prev, cur);
  }
  /* a clock that goes back does not reorder ids */
  assert_int_equal(kj_uuid_v7_at(cur, t - 100000), KJ_OK);
  assert_true(strcmp(prev, cur) < 0);
  free(ids);
}

static void test_random(void **state) {
  (void)state;
  unsigned char a[32], b[32];
  assert_int_equal(kj_random_bytes(a, sizeof(a)), KJ_OK);
  assert_int_equal(kj_random_bytes(b, sizeof(b)), KJ_OK);
  assert_memory_not_equal(a, b, sizeof(a));
  assert_int_equal(kj_random_bytes(a, 0), KJ_OK);
}

static void test_valid(void **state) {
  (void)state;
  assert_true(kj_uuid_valid("0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b"));
  assert_true(kj_uuid_valid("0190A0B0-1C2D-7E3F-8A4B-5C6D7E8F9A0B"));
  assert_true(kj_uuid_valid("00000000-0000-4000-8000-000000000000")); /* any version */
  static const char *const bad[] = {
      "",
      "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0",   /* short */
      "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b0", /* long */
      "0190a0b0x1c2d-7e3f-8a4b-5c6d7e8f9a0b",  /* dash */
      "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0g",  /* not hex */
      "0190a0b01c2d7e3f8a4b5c6d7e8f9a0b",      /* no dashes */
      "{0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b}",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_false(kj_uuid_valid(bad[i]));
  assert_false(kj_uuid_valid(NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_time_prefix),
      cmocka_unit_test(test_format_and_order),
      cmocka_unit_test(test_random),
      cmocka_unit_test(test_valid),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
