/* test_own_office: the own-office rule of domain.md "Employee performance"
 * (docs/scoring.md "Own office").  Office A's records naming office B's
 * staff (approved activities as a BKD import would store them, bad
 * ratings, huge targets) leave every report of vector set1 byte for byte
 * as it was, B's employees and the ranking included; an employee who moves
 * to A is scored from A's records only, and moving back restores every
 * report.  The maintained aggregates equal a rebuild at each step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score_util.h"

#define OFFICE_A "36.73.01"
#define OFFICE_B "36.73.02"
/* set1's staff of office B: its head and one of its Kasi */
#define HEAD_B "197305042008022007"
#define KASI_B "199501262002052008"

static int g_id;

/* a valid record of type t with "name=value" pairs (NULL-terminated) */
static void put(sqlite3 *db, kj_rtype t, ...) {
  kj_record r;
  kj_record_init(&r, t);
  snprintf(r.id, sizeof r.id, "00000000-0000-7000-8000-%012d", ++g_id);
  va_list ap;
  va_start(ap, t);
  const char *kv;
  kj_err e;
  while ((kv = va_arg(ap, const char *))) {
    const char *eq = strchr(kv, '=');
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
    if (kj_record_set_named(&r, name, eq + 1, &e) != KJ_OK)
      fail_msg("test record: %s", e.msg);
  }
  va_end(ap);
  if (kj_record_validate(&r, &e) != KJ_OK)
    fail_msg("invalid test record: %s", e.msg);
  assert_int_equal(kjt_put(db, &r), 0);
  kj_record_release(&r);
}

/* every case of set1 (cases.json order), one document a line; caller frees */
static char *all_reports(sqlite3 *db) {
  char path[1024];
  snprintf(path, sizeof path, "%s/vectors/set1/cases.json", kjt_data_dir());
  char *text = kjt_read_file(path);
  assert_non_null(text);
  cJSON *cases = cJSON_Parse(text);
  free(text);
  assert_non_null(cases);
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  const cJSON *c;
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(cases, "cases")) {
    const char *report = cJSON_GetObjectItem(c, "report")->valuestring;
    const char *period = cJSON_GetObjectItem(c, "period")->valuestring;
    kj_err e;
    kj_err_clear(&e);
    kj_code rc = !strcmp(report, "offices")
                     ? kjs_report_offices(kjs_score_sqlite(db), &cfg, period,
                                          cJSON_GetObjectItem(c, "as_of")->valuestring, &b, &e)
                     : kjs_report_employees(kjs_score_sqlite(db), &cfg, period,
                                            cJSON_GetObjectItem(c, "office")->valuestring, &b, &e);
    if (rc)
      fail_msg("report %s %s: %s", report, period, e.msg);
  }
  cJSON_Delete(cases);
  kjs_score_config_release(&cfg);
  return kj_buf_detach(&b, NULL);
}

static int verify(sqlite3 *db) {
  kj_buf d;
  kj_buf_init(&d, KJ_BUF_UNLIMITED);
  int n = -1;
  kj_err e;
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  assert_int_equal(kjs_score_sqlite_rebuild(db, 1, &d, &n, &e), 0);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  if (n)
    fprintf(stderr, "%s", kj_buf_str(&d));
  kj_buf_release(&d);
  return n;
}

/* the employee document of office for period, parsed */
static cJSON *employees(sqlite3 *db, const char *period, const char *office) {
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  assert_int_equal(kjs_report_employees(kjs_score_sqlite(db), &cfg, period, office, &b, &e), 0);
  cJSON *j = cJSON_Parse(kj_buf_str(&b));
  assert_non_null(j);
  kj_buf_release(&b);
  kjs_score_config_release(&cfg);
  return j;
}

/* the row of nip in an employee document, NULL when not on the roster */
static const cJSON *row_of(const cJSON *doc, const char *nip) {
  const cJSON *x;
  cJSON_ArrayForEach(x, cJSON_GetObjectItem(doc, "employees")) {
    if (!strcmp(cJSON_GetObjectItem(x, "nip")->valuestring, nip))
      return x;
  }
  return NULL;
}

static void move(sqlite3 *db, const char *nip, const char *office) {
  kj_record r;
  assert_int_equal(kjt_get(db, KJ_T_EMPLOYEE, nip, &r), 0);
  kj_err e;
  assert_int_equal(kj_record_set_named(&r, "office", office, &e), KJ_OK);
  assert_int_equal(kjt_put(db, &r), 0);
  kj_record_release(&r);
}

/* Office A's records about B's staff: huge targets, approved activities on
 * every weekday of 2025-Q1 (realisasi and compliance days), the worst
 * atasan and rekan ratings. */
static void put_cross_office(sqlite3 *db) {
  static const char *const nips[] = {HEAD_B, KASI_B};
  static const char *const periods[] = {"2025", "2025-Q1", "2025-02"};
  for (int n = 0; n < 2; n++) {
    char nip[64], ratee[64];
    snprintf(nip, sizeof nip, "nip=%s", nips[n]);
    snprintf(ratee, sizeof ratee, "ratee=%s", nips[n]);
    for (int p = 0; p < 3; p++) {
      char period[32];
      snprintf(period, sizeof period, "period=%s", periods[p]);
      put(db, KJ_T_TARGET, "office=" OFFICE_A, nip, "indicator=DOC", period, "target=1000000",
          "weight=100", (const char *)NULL);
      put(db, KJ_T_RATING, "office=" OFFICE_A, period, "rater=198503012020112001", ratee,
          "role=atasan", "s1=1", "s2=1", "s3=1", "s4=1", "s5=1", "s6=1", "s7=1",
          (const char *)NULL);
      put(db, KJ_T_RATING, "office=" OFFICE_A, period, "rater=196604102014071002", ratee,
          "role=rekan", "s1=1", "s2=1", "s3=1", "s4=1", "s5=1", "s6=1", "s7=1", (const char *)NULL);
    }
    for (int m = 1; m <= 3; m++)
      for (int d = 1; d <= 28; d++) {
        char date[32];
        snprintf(date, sizeof date, "date=2025-%02d-%02d", m, d);
        put(db, KJ_T_ACTIVITY, "office=" OFFICE_A, nip, date, "indicator=LYN", "quantity=500",
            "status=approved", "reviewed_by=198503012020112001", (const char *)NULL);
      }
  }
}

static void test_other_office_records_count_nowhere(void **state) {
  (void)state;
  sqlite3 *db = kjt_db_open(":memory:");
  assert_non_null(db);
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/vectors/set1", kjt_data_dir());
  assert_true(kjt_load_set(db, dir) > 0);
  char *before = all_reports(db);

  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  put_cross_office(db);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  char *after = all_reports(db);
  /* B's employees and every office row and rank: the same bytes */
  assert_string_equal(after, before);
  free(after);
  assert_int_equal(verify(db), 0);

  /* KASI_B moves to A: scored from A's records (the ones above) only */
  move(db, KASI_B, OFFICE_A);
  assert_int_equal(verify(db), 0);
  cJSON *b = employees(db, "2025-Q1", OFFICE_B), *a = employees(db, "2025-Q1", OFFICE_A);
  assert_null(row_of(b, KASI_B));
  const cJSON *k = row_of(a, KASI_B);
  assert_non_null(k);
  const cJSON *t = cJSON_GetObjectItem(k, "targets");
  assert_int_equal(cJSON_GetArraySize(t), 1); /* B's own targets for KASI_B left behind */
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(t, 0), "indicator")->valuestring,
                      "DOC");
  assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(t, 0), "target")->valuedouble == 1000000.0);
  assert_true(cJSON_GetObjectItem(k, "perilaku")->valuedouble == 1.0);
  assert_string_equal(cJSON_GetObjectItem(k, "predikat")->valuestring, "Sangat Kurang");
  cJSON_Delete(a);
  cJSON_Delete(b);

  /* and back: B's records count again, A's not, every report as at first */
  move(db, KASI_B, OFFICE_B);
  after = all_reports(db);
  assert_string_equal(after, before);
  free(after);
  assert_int_equal(verify(db), 0);

  /* a rebuild from the records gives the same reports */
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  kj_err e;
  assert_int_equal(kjs_score_sqlite_rebuild(db, 0, NULL, NULL, &e), 0);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  after = all_reports(db);
  assert_string_equal(after, before);
  free(after);
  free(before);
  sqlite3_close(db);
}

/* An activity moved from B to A (its office field edited, as a central
 * correction could) stops counting for B's compliance and realisasi at
 * once, and a record naming an employee of no office's roster counts
 * nowhere. */
static void test_record_moved_between_offices(void **state) {
  (void)state;
  sqlite3 *db = kjt_db_open(":memory:");
  kj_record o;
  kj_err e;
  const char *offs[2] = {OFFICE_A, OFFICE_B};
  for (int i = 0; i < 2; i++) {
    kj_record_init(&o, KJ_T_OFFICE);
    snprintf(o.id, sizeof o.id, "%s", offs[i]);
    assert_int_equal(kj_record_set_named(&o, "name", "Kantor", &e), KJ_OK);
    assert_int_equal(kjt_put(db, &o), 0);
    kj_record_release(&o);
  }
  kj_record emp;
  kj_record_init(&emp, KJ_T_EMPLOYEE);
  snprintf(emp.id, sizeof emp.id, "%s", KASI_B);
  assert_int_equal(kj_record_set_named(&emp, "name", "Putri", &e), KJ_OK);
  assert_int_equal(kj_record_set_named(&emp, "office", OFFICE_B, &e), KJ_OK);
  assert_int_equal(kjt_put(db, &emp), 0);
  kj_record_release(&emp);
  put(db, KJ_T_TARGET, "office=" OFFICE_B, "nip=" KASI_B, "indicator=DOC", "period=2025-01",
      "target=10", (const char *)NULL);
  kj_record act;
  kj_record_init(&act, KJ_T_ACTIVITY);
  snprintf(act.id, sizeof act.id, "00000000-0000-7000-8000-%012d", ++g_id);
  const char *kv[][2] = {{"office", OFFICE_B}, {"nip", KASI_B},   {"date", "2025-01-06"},
                         {"indicator", "DOC"}, {"quantity", "5"}, {"status", "approved"}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
    assert_int_equal(kj_record_set_named(&act, kv[i][0], kv[i][1], &e), KJ_OK);
  assert_int_equal(kjt_put(db, &act), 0);

  cJSON *b = employees(db, "2025-01", OFFICE_B);
  const cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(row_of(b, KASI_B), "targets"), 0);
  assert_true(cJSON_GetObjectItem(t, "realisasi")->valuedouble == 5.0);
  cJSON_Delete(b);

  assert_int_equal(kj_record_set_named(&act, "office", OFFICE_A, &e), KJ_OK);
  assert_int_equal(kjt_put(db, &act), 0);
  kj_record_release(&act);
  b = employees(db, "2025-01", OFFICE_B);
  t = cJSON_GetArrayItem(cJSON_GetObjectItem(row_of(b, KASI_B), "targets"), 0);
  assert_true(cJSON_GetObjectItem(t, "realisasi")->valuedouble == 0.0);
  cJSON_Delete(b);

  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  kj_buf out;
  kj_buf_init(&out, KJ_BUF_UNLIMITED);
  assert_int_equal(
      kjs_report_offices(kjs_score_sqlite(db), &cfg, "2025-01", "2025-01-31", &out, &e), 0);
  cJSON *offices = cJSON_Parse(kj_buf_str(&out));
  const cJSON *x;
  int seen = 0;
  cJSON_ArrayForEach(x, cJSON_GetObjectItem(offices, "offices")) {
    /* no live activity of B by B's roster: compliance 0; A has no roster */
    const cJSON *c = cJSON_GetObjectItem(x, "compliance");
    if (!strcmp(cJSON_GetObjectItem(x, "office")->valuestring, OFFICE_B)) {
      assert_true(cJSON_IsNumber(c) && c->valuedouble == 0.0);
      seen++;
    } else {
      assert_true(cJSON_IsNull(c));
    }
  }
  assert_int_equal(seen, 1);
  cJSON_Delete(offices);
  kj_buf_release(&out);
  kjs_score_config_release(&cfg);
  assert_int_equal(verify(db), 0);
  sqlite3_close(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_other_office_records_count_nowhere),
      cmocka_unit_test(test_record_moved_between_offices),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
