/* test_buf.c - the bounded buffer: growth, the limit, consume, addf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"

static void test_add_and_str(void **state) {
  (void)state;
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  assert_null(b.data);
  assert_string_equal(kj_buf_str(&b), "");
  assert_int_equal(kj_buf_adds(&b, "abc"), KJ_OK);
  assert_int_equal(kj_buf_addc(&b, '-'), KJ_OK);
  assert_int_equal(kj_buf_add(&b, "xyz", 2), KJ_OK);
  assert_int_equal(kj_buf_add(&b, NULL, 0), KJ_OK);
  assert_int_equal(b.len, 6);
  assert_string_equal(kj_buf_str(&b), "abc-xy");
  /* growth keeps the contents and the NUL */
  for (int i = 0; i < 10000; i++)
    assert_int_equal(kj_buf_addc(&b, (char)('a' + i % 26)), KJ_OK);
  assert_int_equal(b.len, 10006);
  assert_int_equal(b.data[b.len], '\0');
  assert_true(b.cap > b.len);
  assert_memory_equal(b.data, "abc-xyabc", 9);
  kj_buf_reset(&b);
  assert_int_equal(b.len, 0);
  assert_string_equal(kj_buf_str(&b), "");
  assert_non_null(b.data); /* allocation kept */
  kj_buf_release(&b);
  assert_null(b.data);
  kj_buf_release(&b); /* twice is harmless */
}

static void test_limit_frees(void **state) {
  (void)state;
  kj_buf b;
  kj_buf_init(&b, 10);
  assert_int_equal(kj_buf_adds(&b, "0123456789"), KJ_OK); /* exactly max */
  assert_int_equal(b.len, 10);
  assert_int_equal(kj_buf_addc(&b, 'x'), KJ_ETOOBIG);
  /* like curl's dynbuf: the contents are gone */
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  assert_string_equal(kj_buf_str(&b), "");
  /* still usable */
  assert_int_equal(kj_buf_adds(&b, "ok"), KJ_OK);
  assert_string_equal(kj_buf_str(&b), "ok");
  assert_int_equal(kj_buf_add(&b, "0123456789", 9), KJ_ETOOBIG);
  assert_null(b.data);
  assert_int_equal(kj_buf_addf(&b, "%s", "0123456789A"), KJ_ETOOBIG);
  assert_null(b.data);
  assert_int_equal(kj_buf_reserve(&b, (size_t)-1), KJ_ETOOBIG);
  kj_buf_release(&b);
}

static void test_addf(void **state) {
  (void)state;
  kj_buf b;
  kj_buf_init(&b, 1 << 20);
  assert_int_equal(kj_buf_addf(&b, "%s:%d: %s", "file.csv", 12, "field 'u3'"), KJ_OK);
  assert_string_equal(kj_buf_str(&b), "file.csv:12: field 'u3'");
  assert_int_equal(kj_buf_addf(&b, "%s", ""), KJ_OK);
  assert_int_equal(kj_buf_addf(&b, "|%05.1f|", 3.14159), KJ_OK);
  assert_string_equal(kj_buf_str(&b), "file.csv:12: field 'u3'|003.1|");
  /* longer than any first allocation */
  char big[5000];
  memset(big, 'q', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(kj_buf_addf(&b, "<%s>", big), KJ_OK);
  assert_int_equal(b.len, strlen("file.csv:12: field 'u3'|003.1|") + 5001);
  assert_int_equal(b.data[b.len - 1], '>');
  kj_buf_release(&b);
}

static void test_consume_and_detach(void **state) {
  (void)state;
  kj_buf b;
  kj_buf_init(&b, 100);
  kj_buf_adds(&b, "GET / HTTP/1.1\r\n");
  kj_buf_consume(&b, 4);
  assert_string_equal(kj_buf_str(&b), "/ HTTP/1.1\r\n");
  assert_int_equal(b.len, 12);
  kj_buf_consume(&b, 0);
  assert_int_equal(b.len, 12);
  kj_buf_consume(&b, 100); /* more than there is: empty */
  assert_int_equal(b.len, 0);
  assert_string_equal(kj_buf_str(&b), "");

  kj_buf_adds(&b, "hand over");
  size_t len = 0;
  char *d = kj_buf_detach(&b, &len);
  assert_int_equal(len, 9);
  assert_string_equal(d, "hand over");
  assert_null(b.data);
  assert_int_equal(b.len, 0);
  free(d);
  /* detaching an empty buffer still gives a string to free */
  d = kj_buf_detach(&b, &len);
  assert_non_null(d);
  assert_int_equal(len, 0);
  assert_string_equal(d, "");
  free(d);

  /* reserve does not change len */
  assert_int_equal(kj_buf_reserve(&b, 50), KJ_OK);
  assert_int_equal(b.len, 0);
  assert_true(b.cap >= 51);
  kj_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_and_str),
      cmocka_unit_test(test_limit_frees),
      cmocka_unit_test(test_addf),
      cmocka_unit_test(test_consume_and_detach),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
