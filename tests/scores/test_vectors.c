/* test_vectors: every case of tests/data/vectors/set1..3 gives the expected
 * document (compared as numbers), built incrementally and after recompute;
 * proto/reportdoc's encoder reproduces the server's bytes from either. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score_util.h"

static int run_cases(sqlite3 *db, const char *dir, int *ncases) {
  char path[1024];
  snprintf(path, sizeof path, "%s/cases.json", dir);
  char *text = kjt_read_file(path);
  assert_non_null(text);
  cJSON *cases = cJSON_Parse(text);
  free(text);
  assert_non_null(cases);
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  int failures = 0;
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(cases, "cases")) {
    const char *report = cJSON_GetObjectItem(c, "report")->valuestring;
    const char *period = cJSON_GetObjectItem(c, "period")->valuestring;
    const char *expected = cJSON_GetObjectItem(c, "expected")->valuestring;
    kj_buf out;
    kj_buf_init(&out, KJ_BUF_UNLIMITED);
    kj_err e;
    kj_err_clear(&e);
    kj_code rc;
    if (!strcmp(report, "offices"))
      rc = kjs_report_offices(kjs_score_sqlite(db), &cfg, period,
                              cJSON_GetObjectItem(c, "as_of")->valuestring, &out, &e);
    else
      rc = kjs_report_employees(kjs_score_sqlite(db), &cfg, period,
                                cJSON_GetObjectItem(c, "office")->valuestring, &out, &e);
    if (rc) {
      fprintf(stderr, "%s %s: error %s\n", dir, expected, e.msg);
      failures++;
      kj_buf_release(&out);
      continue;
    }
    snprintf(path, sizeof path, "%s/%s", dir, expected);
    char *want_text = kjt_read_file(path);
    assert_non_null(want_text);
    cJSON *want = cJSON_Parse(want_text), *got = cJSON_Parse(kj_buf_str(&out));
    assert_non_null(want);
    assert_non_null(got);
    char why[600] = "";
    if (!kjt_json_equal(got, want, why, sizeof why)) {
      fprintf(stderr, "%s %s: %s\n", dir, expected, why);
      failures++;
    }
    /* proto/'s encoder is the server's: decoding the server's bytes or the
     * vector's document and encoding again gives the server's bytes */
    const char *texts[2] = {kj_buf_str(&out), want_text};
    for (int t = 0; t < 2; t++) {
      kj_buf again;
      kj_buf_init(&again, KJ_BUF_UNLIMITED);
      kj_code drc;
      if (!strcmp(report, "offices")) {
        kj_report_offices d;
        drc = kj_report_offices_decode(texts[t], strlen(texts[t]), &d, &e);
        if (!drc)
          drc = kj_report_offices_encode(&d, &again, &e);
        kj_report_offices_release(&d);
      } else {
        kj_report_employees d;
        drc = kj_report_employees_decode(texts[t], strlen(texts[t]), &d, &e);
        if (!drc)
          drc = kj_report_employees_encode(&d, &again, &e);
        kj_report_employees_release(&d);
      }
      if (drc || strcmp(kj_buf_str(&again), kj_buf_str(&out)) != 0) {
        fprintf(stderr, "%s %s: encode(decode(%s)) differs from the server's bytes: %s\n", dir,
                expected, t ? "vector" : "server", drc ? e.msg : kj_buf_str(&again));
        failures++;
      }
      kj_buf_release(&again);
    }
    (*ncases)++;
    free(want_text);
    cJSON_Delete(want);
    cJSON_Delete(got);
    kj_buf_release(&out);
  }
  cJSON_Delete(cases);
  kjs_score_config_release(&cfg);
  return failures;
}

static void test_set(const char *name) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/vectors/%s", kjt_data_dir(), name);
  sqlite3 *db = kjt_db_open(":memory:");
  assert_non_null(db);
  long n = kjt_load_set(db, dir);
  assert_true(n > 0);
  int ncases = 0;
  int failures = run_cases(db, dir, &ncases);
  assert_int_equal(failures, 0);
  assert_true(ncases >= 3);
  /* the maintained aggregates equal a rebuild from the records */
  kj_buf diffs;
  kj_buf_init(&diffs, KJ_BUF_UNLIMITED);
  kj_err e;
  kj_err_clear(&e);
  int ndiff = -1;
  kj_code rc = kjs_score_sqlite_rebuild(db, 1, &diffs, &ndiff, &e);
  if (rc || ndiff)
    fprintf(stderr, "%s%s\n", kj_buf_str(&diffs), e.msg);
  assert_int_equal(rc, KJ_OK);
  assert_int_equal(ndiff, 0);
  /* rebuild in place and ask again */
  assert_int_equal(kjs_score_sqlite_rebuild(db, 0, NULL, NULL, &e), KJ_OK);
  ncases = 0;
  assert_int_equal(run_cases(db, dir, &ncases), 0);
  kj_buf_release(&diffs);
  sqlite3_close(db);
}

static void test_set1(void **state) {
  (void)state;
  test_set("set1");
}
static void test_set2(void **state) {
  (void)state;
  test_set("set2");
}
static void test_set3(void **state) {
  (void)state;
  test_set("set3");
}

/* The same records in another order give the same documents. */
static void test_set_reversed_order(void **state) {
  (void)state;
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/vectors/set2", kjt_data_dir());
  sqlite3 *a = kjt_db_open(":memory:");
  assert_true(kjt_load_set(a, dir) > 0);
  /* copy a's records into b newest first */
  sqlite3 *b = kjt_db_open(":memory:");
  sqlite3_stmt *s;
  sqlite3_prepare_v2(a, "SELECT type, id FROM records ORDER BY seq DESC", -1, &s, NULL);
  while (sqlite3_step(s) == SQLITE_ROW) {
    kj_record r;
    assert_int_equal(kjt_get(a, kj_type_by_name((const char *)sqlite3_column_text(s, 0))->type,
                             (const char *)sqlite3_column_text(s, 1), &r),
                     0);
    assert_int_equal(kjt_put(b, &r), 0);
    kj_record_release(&r);
  }
  sqlite3_finalize(s);
  int ncases = 0;
  assert_int_equal(run_cases(b, dir, &ncases), 0);
  sqlite3_close(a);
  sqlite3_close(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_set1),
      cmocka_unit_test(test_set2),
      cmocka_unit_test(test_set3),
      cmocka_unit_test(test_set_reversed_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
