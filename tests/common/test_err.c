/* test_err.c - the error enum, its names and texts, kj_fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "err.h"

static void test_names_and_texts(void **state) {
  (void)state;
  assert_int_equal(KJ_OK, 0);
  assert_string_equal(kj_err_name(KJ_OK), "OK");
  assert_string_equal(kj_err_name(KJ_EINVAL), "EINVAL");
  assert_string_equal(kj_err_name(KJ_EINTR), "EINTR");
  assert_string_equal(kj_strerror(KJ_OK), "success");
  assert_string_equal(kj_strerror(KJ_ENOENT), "not found");
  assert_string_equal(kj_strerror(KJ_EFULL), "disk full");
  assert_string_equal(kj_err_name(KJ__ECOUNT), "EUNKNOWN");
  assert_string_equal(kj_strerror((kj_code)-1), "unknown error");
  /* every code has a distinct name and a lowercase text without a period */
  for (int i = 0; i < KJ__ECOUNT; i++) {
    const char *n = kj_err_name((kj_code)i), *t = kj_strerror((kj_code)i);
    assert_string_not_equal(n, "EUNKNOWN");
    assert_true(t[0] >= 'a' && t[0] <= 'z');
    assert_true(t[strlen(t) - 1] != '.');
    for (int j = 0; j < i; j++)
      assert_string_not_equal(n, kj_err_name((kj_code)j));
  }
}

static void test_fail(void **state) {
  (void)state;
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(e.code, KJ_OK);
  assert_string_equal(e.msg, "");
  assert_int_equal(kj_fail(&e, KJ_ENOENT, "cannot open '%s'", "kinerja.db"), KJ_ENOENT);
  assert_int_equal(e.code, KJ_ENOENT);
  assert_string_equal(e.msg, "cannot open 'kinerja.db'");
  /* no err: just the code */
  assert_int_equal(kj_fail(NULL, KJ_EIO, "x %d", 1), KJ_EIO);
  kj_err_clear(NULL);
  /* a long message is truncated, never overflowed */
  char big[1000];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(kj_fail(&e, KJ_ETOOBIG, "%s", big), KJ_ETOOBIG);
  assert_int_equal(strlen(e.msg), KJ_ERR_MSG_MAX - 1);
  kj_err_clear(&e);
  assert_int_equal(e.code, KJ_OK);
  assert_string_equal(e.msg, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names_and_texts),
      cmocka_unit_test(test_fail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
