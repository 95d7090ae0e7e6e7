/* test_net_gz.c - common/gz: round trips and the bounds that protect the
 * server from gzip bombs and truncated or false data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gz.h"

static void test_round_trip(void **state) {
  (void)state;
  kj_buf text, z, back;
  kj_buf_init(&text, KJ_BUF_UNLIMITED);
  kj_buf_init(&z, KJ_BUF_UNLIMITED);
  kj_buf_init(&back, KJ_BUF_UNLIMITED);
  for (int i = 0; i < 100000; i++) /* over several 64 KiB chunks */
    kj_buf_addf(&text, "%d,", i * 7919 % 100003);
  assert_int_equal(kj_gzip(text.data, text.len, &z, NULL), KJ_OK);
  assert_true(z.len < text.len);
  assert_int_equal((unsigned char)z.data[0], 0x1f); /* gzip magic */
  assert_int_equal((unsigned char)z.data[1], 0x8b);
  assert_int_equal(kj_gunzip(z.data, z.len, &back, NULL), KJ_OK);
  assert_int_equal(back.len, text.len);
  assert_memory_equal(back.data, text.data, text.len);
  /* empty input compresses to a valid member that inflates to nothing */
  kj_buf_reset(&z);
  kj_buf_reset(&back);
  assert_int_equal(kj_gzip("", 0, &z, NULL), KJ_OK);
  assert_int_equal(kj_gunzip(z.data, z.len, &back, NULL), KJ_OK);
  assert_int_equal(back.len, 0);
  kj_buf_release(&text);
  kj_buf_release(&z);
  kj_buf_release(&back);
}

static void test_bounds(void **state) {
  (void)state;
  size_t n = 8u << 20;
  char *zeros = calloc(1, n);
  kj_buf z, out;
  kj_buf_init(&z, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_gzip(zeros, n, &z, NULL), KJ_OK);
  free(zeros);
  kj_err err;
  kj_err_clear(&err);
  /* a bomb stops at the limit */
  kj_buf_init(&out, 1u << 20);
  assert_int_equal(kj_gunzip(z.data, z.len, &out, &err), KJ_ETOOBIG);
  assert_null(out.data); /* released */
  /* exactly at the limit is fine */
  kj_buf_init(&out, n);
  assert_int_equal(kj_gunzip(z.data, z.len, &out, NULL), KJ_OK);
  assert_int_equal(out.len, n);
  kj_buf_release(&out);
  /* truncated data */
  kj_buf_init(&out, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_gunzip(z.data, z.len - 5, &out, &err), KJ_EPROTO);
  assert_string_equal(err.msg, "bad gzip data");
  /* not gzip at all, and nothing */
  assert_int_equal(kj_gunzip("hello world", 11, &out, NULL), KJ_EPROTO);
  assert_int_equal(kj_gunzip("", 0, &out, NULL), KJ_EPROTO);
  /* trailing garbage after a member */
  kj_buf bad;
  kj_buf_init(&bad, KJ_BUF_UNLIMITED);
  kj_buf_add(&bad, z.data, z.len);
  kj_buf_adds(&bad, "junk");
  assert_int_equal(kj_gunzip(bad.data, bad.len, &out, NULL), KJ_EPROTO);
  kj_buf_release(&bad);
  /* gzip output is bounded too */
  kj_buf small;
  kj_buf_init(&small, 10);
  assert_int_equal(kj_gzip("some text that will not fit", 27, &small, NULL), KJ_ETOOBIG);
  kj_buf_release(&small);
  kj_buf_release(&out);
  kj_buf_release(&z);
}

static void test_two_members(void **state) {
  (void)state;
  kj_buf z, out;
  kj_buf_init(&z, KJ_BUF_UNLIMITED);
  kj_buf_init(&out, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_gzip("hello ", 6, &z, NULL), KJ_OK);
  assert_int_equal(kj_gzip("world", 5, &z, NULL), KJ_OK); /* appends */
  assert_int_equal(kj_gunzip(z.data, z.len, &out, NULL), KJ_OK);
  assert_string_equal(kj_buf_str(&out), "hello world");
  kj_buf_release(&z);
  kj_buf_release(&out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_bounds),
      cmocka_unit_test(test_two_members),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
