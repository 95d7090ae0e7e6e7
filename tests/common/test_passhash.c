/* test_passhash.c - Argon2id hashing of PINs and passwords (common/passhash.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "passhash.h"

static void test_hash_and_verify(void **state) {
  (void)state;
  char h1[KJ_PASSHASH_MAX], h2[KJ_PASSHASH_MAX];
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kj_pass_hash("123456", h1, sizeof h1, &e), KJ_OK);
  assert_int_equal(strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
  assert_null(strstr(h1, "123456")); /* the PIN itself is never in the hash */
  assert_int_equal(kj_pass_verify(h1, "123456", &e), KJ_OK);
  assert_int_equal(kj_pass_verify(h1, "123457", &e), KJ_EAUTH);
  assert_int_equal(kj_pass_verify(h1, "", &e), KJ_EAUTH);
  /* a fresh salt each time: the same PIN hashes differently */
  assert_int_equal(kj_pass_hash("123456", h2, sizeof h2, &e), KJ_OK);
  assert_string_not_equal(h1, h2);
  assert_int_equal(kj_pass_verify(h2, "123456", &e), KJ_OK);
}

static void test_bad_input(void **state) {
  (void)state;
  char small[16];
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kj_pass_hash("123456", small, sizeof small, &e), KJ_EINVAL);
  assert_int_equal(kj_pass_verify("plain", "x", &e), KJ_EINVAL);
  assert_int_equal(kj_pass_verify(NULL, "x", &e), KJ_EINVAL);
  assert_int_equal(kj_pass_verify("$argon2id$v=19$m=19456,t=2,p=1$garbage", "x", &e), KJ_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hash_and_verify),
      cmocka_unit_test(test_bad_input),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
