/* test_text.c - terminal escaping and CSV formula guards (common/text.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

static void check_escape(const char *in, const char *want) {
  char buf[256];
  size_t need = kj_term_escape(in, buf, sizeof buf);
  assert_string_equal(buf, want);
  assert_int_equal(need, strlen(want));
  /* the stdio form writes the same bytes */
  char *mem = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&mem, &len);
  assert_non_null(f);
  assert_int_equal(kj_term_fputs(in, f), (long)strlen(want));
  fclose(f);
  assert_string_equal(mem, want);
  free(mem);
}

static void test_term_escape(void **state) {
  (void)state;
  check_escape("plain text", "plain text");
  check_escape("Kecamatan Serang \xc3\xa9 \xe2\x82\xac", "Kecamatan Serang \xc3\xa9 \xe2\x82\xac");
  check_escape("a\nb\tc\rd", "a\\nb\\tc\\rd");
  check_escape("\x1b[2J\x1b]0;owned\x07", "\\e[2J\\e]0;owned\\x07");
  check_escape("del\x7f", "del\\x7f");
  check_escape("c1 \xc2\x9b"
               "31m",
               "c1 \\u009b31m");
  check_escape("back\\slash", "back\\\\slash");
  check_escape("bad \xff\xc0 utf8", "bad \\xff\\xc0 utf8");
  check_escape("cut \xe2\x82", "cut \\xe2\\x82");
  check_escape("", "");
}

static void test_term_escape_truncates(void **state) {
  (void)state;
  char buf[6];
  size_t need = kj_term_escape("ab\x1b"
                               "cd",
                               buf, sizeof buf);
  assert_int_equal(need, 6); /* "ab\ecd" */
  assert_string_equal(buf, "ab\\ec");
  char small[4];
  kj_term_escape("ab\x1b"
                 "cd",
                 small, sizeof small);
  assert_string_equal(small, "ab"); /* never half an escape */
  assert_int_equal(kj_term_escape("xyz", NULL, 0), 3);
}

static void test_formula(void **state) {
  (void)state;
  const char *yes[] = {"=1+1", "+62 812", "-5", "@SUM(A1)", "\tx", "\rx"};
  const char *no[] = {"", "1", "a=b", " =x", "'=x", "Baik"};
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
    assert_true(kj_csv_formula_trigger(yes[i]));
  for (size_t i = 0; i < sizeof no / sizeof *no; i++)
    assert_false(kj_csv_formula_trigger(no[i]));
  assert_false(kj_csv_formula_trigger(NULL));
  assert_string_equal(kj_csv_formula_unguard("'=1+1"), "=1+1");
  assert_string_equal(kj_csv_formula_unguard("'-5"), "-5");
  assert_string_equal(kj_csv_formula_unguard("'abc"), "'abc"); /* a real apostrophe stays */
  assert_string_equal(kj_csv_formula_unguard("=x"), "=x");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_term_escape),
      cmocka_unit_test(test_term_escape_truncates),
      cmocka_unit_test(test_formula),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
