/* test_suggest.c - edit distance and "did you mean". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "suggest.h"

static void t_distance(void **state) {
  (void)state;
  assert_int_equal(kj_edit_distance("", ""), 0);
  assert_int_equal(kj_edit_distance("sync", "sync"), 0);
  assert_int_equal(kj_edit_distance("snyc", "sync"), 1);  /* swap */
  assert_int_equal(kj_edit_distance("syn", "sync"), 1);   /* insertion */
  assert_int_equal(kj_edit_distance("synck", "sync"), 1); /* deletion */
  assert_int_equal(kj_edit_distance("sink", "sync"), 2);  /* two substitutions */
  assert_int_equal(kj_edit_distance("", "abc"), 3);
  assert_int_equal(kj_edit_distance("kitten", "sitting"), 3);
  char big[100];
  for (int i = 0; i < 99; i++)
    big[i] = 'a';
  big[99] = 0;
  assert_true(kj_edit_distance(big, "a") >= 1000);
}

static void t_suggest(void **state) {
  (void)state;
  static const char *const cmds[] = {"init", "add", "update", "delete", "sync", "status", "list"};
  size_t n = sizeof cmds / sizeof cmds[0];
  assert_string_equal(kj_suggest("snyc", cmds, n), "sync");
  assert_string_equal(kj_suggest("updaet", cmds, n), "update");
  assert_string_equal(kj_suggest("stauts", cmds, n), "status");
  assert_string_equal(kj_suggest("lst", cmds, n), "list");
  assert_null(kj_suggest("frobnicate", cmds, n));
  assert_null(kj_suggest("xy", cmds, n)); /* too short to mean "add" */
  static const char *const opts[] = {"--interval", "--watch", "--json", NULL};
  assert_string_equal(kj_suggest("--intervl", opts, 4), "--interval");
  assert_string_equal(kj_suggest("--jsno", opts, 4), "--json");
  assert_null(kj_suggest("--verbose", opts, 4));
  assert_null(kj_suggest("anything", NULL, 0));
}

/* Near enough to be what was meant: the trial's "Paspor" is not "KTP-el". */
static void t_near(void **state) {
  (void)state;
  assert_true(kj_suggest_near("akta kelahran", "akta kelahiran"));  /* 1 edit of 14 */
  assert_true(kj_suggest_near("kartu keluarag", "kartu keluarga")); /* a swap */
  assert_false(kj_suggest_near("paspor", "ktp el"));                /* 6 edits */
  assert_false(kj_suggest_near("surat pindah", "akta kelahiran"));
  assert_false(kj_suggest_near("kk", "kb"));                           /* 1 edit of 2: a guess */
  assert_false(kj_suggest_near("surat keterangan", "surat kematian")); /* > 2 edits */
  assert_false(kj_suggest_near(NULL, "x"));
  assert_false(kj_suggest_near("x", NULL));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_distance),
      cmocka_unit_test(t_suggest),
      cmocka_unit_test(t_near),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
