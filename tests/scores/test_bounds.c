/* test_bounds: numbers that never overflow (issue 15 point 3; docs/scoring.md
 * "Number bounds").  Aggregate rows written at the bound of 10^9 records at
 * the maximum values give an exact report; ten activities at the maximum
 * (domain.md v2, and the old bound records may still carry) give a correct
 * yearly report where the 64-bit sums failed; old score tables are rebuilt
 * in place. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score_util.h"

#define NIP1 "198503012020112001"
#define NIP2 "196604102014071002"

static int g_id;

/* a record of type t with "name=value" pairs (NULL-terminated); validate 0
 * stores it as a record accepted under the old bounds would be stored */
static void put(sqlite3 *db, int validate, kj_rtype t, const char *id, ...) {
  kj_record r;
  kj_record_init(&r, t);
  char buf[64];
  if (!id) {
    snprintf(buf, sizeof buf, "00000000-0000-7000-8000-%012d", ++g_id);
    id = buf;
  }
  memcpy(r.id, id, strlen(id) + 1);
  va_list ap;
  va_start(ap, id);
  const char *kv;
  while ((kv = va_arg(ap, const char *))) {
    const char *eq = strchr(kv, '=');
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
    kj_err e;
    assert_int_equal(kj_record_set_named(&r, name, eq + 1, &e), KJ_OK);
  }
  va_end(ap);
  kj_err e;
  if (validate && kj_record_validate(&r, &e) != KJ_OK)
    fail_msg("invalid test record: %s", e.msg);
  assert_int_equal(kjt_put(db, &r), 0);
  kj_record_release(&r);
}

static void exec_ok(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
    fail_msg("%s: %s", sql, msg);
}

/* the document's text (caller frees) */
static char *report_text(sqlite3 *db, int offices, const char *period) {
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = offices
                   ? kjs_report_offices(kjs_score_sqlite(db), &cfg, period, "2026-12-31", &b, &e)
                   : kjs_report_employees(kjs_score_sqlite(db), &cfg, period, "X1", &b, &e);
  if (rc)
    fail_msg("report %s %s: %s", offices ? "offices" : "employees", period, e.msg);
  kjs_score_config_release(&cfg);
  return kj_buf_detach(&b, NULL);
}

static cJSON *report(sqlite3 *db, int offices, const char *period) {
  char *t = report_text(db, offices, period);
  cJSON *j = cJSON_Parse(t);
  assert_non_null(j);
  free(t);
  return j;
}

static int verify(sqlite3 *db) {
  kj_buf d;
  kj_buf_init(&d, KJ_BUF_UNLIMITED);
  kj_err e;
  kj_err_clear(&e);
  int ndiff = 0;
  kj_code rc = kjs_score_sqlite_rebuild(db, 1, &d, &ndiff, &e);
  if (rc || ndiff)
    fprintf(stderr, "%s%s\n", kj_buf_str(&d), e.msg);
  kj_buf_release(&d);
  return rc ? (int)rc : ndiff;
}

static const cJSON *path(const cJSON *j, const char *a, const char *b) {
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, a);
  return b ? cJSON_GetObjectItemCaseSensitive(x, b) : x;
}

/* the exact text of a number in a one-line document */
static void assert_has(const char *text, const char *want) {
  if (!strstr(text, want))
    fail_msg("'%s' not in %s", want, text);
}

/* 10^9 records at the maximum values, written as the aggregate rows they
 * would leave (docs/scoring.md "Number bounds"):
 *   NIP1: 10^9 activities of 100000 (v2 maximum) over ten months and 10^9
 *         targets of 1000000 with weight 100 on indicator A;
 *   NIP2: 10^9 activities and 10^9 targets of 999999999999.999999 (the
 *         largest the old bounds let through) on indicator B;
 *   10^9 surveys answering 4 everywhere, 10^9 complaints resolved the same
 *   day, 10^9 atasan ratings of 5.
 * Each sum is hi * 1e18 + lo of value * 1e6. */
static void test_aggregates_at_bound(void **state) {
  (void)state;
  sqlite3 *db = kjt_db_open(":memory:");
  assert_non_null(db);
  exec_ok(db, "INSERT INTO sc_office(code,name,population) VALUES('X1','Kantor',2000000000);"
              "INSERT INTO sc_emp(nip,office,name) VALUES('" NIP1 "','X1','Satu'),('" NIP2
              "','X1','Dua');"
              /* 10^8 activities of 100000 a month: 1e8 * 1e11 = 1e19 = 10 * 1e18 */
              "WITH RECURSIVE m(k) AS (SELECT 1 UNION ALL SELECT k+1 FROM m WHERE k<10) "
              "INSERT INTO sc_real(office,nip,indicator,ym,qty_hi,qty_lo,cnt) SELECT 'X1','" NIP1
              "','A',202600+k,10,0,100000000 FROM m;"
              /* 1e9 * 999999999999999999 = 999999999 * 1e18 + 999999999000000000 */
              "INSERT INTO sc_real(office,nip,indicator,ym,qty_hi,qty_lo,cnt) VALUES('X1','" NIP2
              "','B',202612,999999999,999999999000000000,1000000000);"
              /* and their year sums, which a year's reports read: 10 months
               * of 10 * 1e18 (NIP1), NIP2's one month */
              "INSERT INTO sc_realyear(y,office,nip,indicator,qty_hi,qty_lo,cnt) VALUES(2026,"
              "'X1','" NIP1 "','A',100,0,1000000000),(2026,'X1','" NIP2
              "','B',999999999,999999999000000000,1000000000);"
              /* targets: 1e9 * 1e12 = 1e21 = 1000 * 1e18; weights 1e9 * 1e8 = 1e17 */
              "INSERT INTO sc_target(office,nip,period,indicator,target_hi,target_lo,weight_hi,"
              "weight_lo,cnt) VALUES('X1','" NIP1 "','2026','A',1000,0,0,100000000000000000,"
              "1000000000),('X1','" NIP2 "','2026','B',999999999,999999999000000000,999999999,"
              "999999999000000000,1000000000);"
              "INSERT INTO sc_survey(office,ym,service,n,u1,u2,u3,u4,u5,u6,u7,u8,u9) VALUES("
              "'X1',202606,'S',1000000000,4000000000,4000000000,4000000000,4000000000,4000000000,"
              "4000000000,4000000000,4000000000,4000000000);"
              /* and its year sums, which a year's reports read */
              "INSERT INTO sc_surveyyear(y,office,service,n,u1,u2,u3,u4,u5,u6,u7,u8,u9) VALUES("
              "2026,'X1','S',1000000000,4000000000,4000000000,4000000000,4000000000,4000000000,"
              "4000000000,4000000000,4000000000,4000000000);"
              "INSERT INTO sc_cdays(office,ym,days,cnt) VALUES('X1',202606,0,1000000000);"
              "INSERT INTO sc_rating(office,ratee,period,role,total,cnt) VALUES('X1','" NIP1
              "','2026','atasan',35000000000,1000000000),('X1','" NIP2
              "','2026','atasan',35000000000,1000000000);");
  char *text = report_text(db, 0, "2026");
  cJSON *emp = cJSON_Parse(text);
  /* exact: 10^9 * 100000 and 10^9 * 999999999999.999999 */
  assert_has(text, "\"targets\":[{\"indicator\":\"A\",\"target\":1000000000000000,"
                   "\"realisasi\":100000000000000,\"capaian\":10.00}]");
  assert_has(text, "\"targets\":[{\"indicator\":\"B\",\"target\":999999999999999999000,"
                   "\"realisasi\":999999999999999999000,\"capaian\":100.00}]");
  free(text);
  const cJSON *e0 = cJSON_GetArrayItem(path(emp, "employees", NULL), 0);
  const cJSON *e1 = cJSON_GetArrayItem(path(emp, "employees", NULL), 1);
  assert_string_equal(path(e0, "nip", NULL)->valuestring, NIP2);
  assert_true(path(e0, "capaian", NULL)->valuedouble == 100.0);
  assert_true(path(e1, "capaian", NULL)->valuedouble == 10.0);
  assert_true(path(e1, "perilaku", NULL)->valuedouble == 5.0);
  cJSON_Delete(emp);

  cJSON *off = report(db, 1, "2026");
  const cJSON *o = cJSON_GetArrayItem(path(off, "offices", NULL), 0);
  assert_true(path(o, "ikm", "n")->valuedouble == 1e9);
  assert_true(path(o, "ikm", "value")->valuedouble == 100.0);
  assert_true(path(o, "complaints", "received")->valuedouble == 1e9);
  assert_true(path(o, "complaints", "on_time_rate")->valuedouble == 100.0);
  assert_true(path(o, "employees", "capaian_mean")->valuedouble == 55.0);
  assert_true(cJSON_IsNumber(path(o, "ikk", NULL)));
  cJSON_Delete(off);
  sqlite3_close(db);
}

/* Ten approved activities at the maximum: 100000 (domain.md v2) and
 * 999999999999.999999 (accepted by the old bounds, still stored).  The
 * 64-bit sum of the second overflowed (SQLite "integer overflow": HTTP 500
 * on the yearly report).  Now the reports are exact, and the maintained
 * aggregates equal a rebuild. */
static void test_ten_activities_at_max(void **state) {
  (void)state;
  sqlite3 *db = kjt_db_open(":memory:");
  put(db, 1, KJ_T_OFFICE, "X1", "name=Kantor", (const char *)NULL);
  put(db, 1, KJ_T_EMPLOYEE, NIP1, "name=Satu", "office=X1", (const char *)NULL);
  put(db, 1, KJ_T_EMPLOYEE, NIP2, "name=Dua", "office=X1", (const char *)NULL);
  put(db, 1, KJ_T_TARGET, NULL, "office=X1", "nip=" NIP1, "indicator=A", "period=2026",
      "target=1000000", "weight=100", (const char *)NULL);
  put(db, 0, KJ_T_TARGET, NULL, "office=X1", "nip=" NIP2, "indicator=B", "period=2026",
      "target=999999999999.999999", "weight=3", (const char *)NULL);
  for (int i = 0; i < 10; i++) {
    char date[32];
    snprintf(date, sizeof date, "date=2026-%02d-05", i + 1);
    put(db, 1, KJ_T_ACTIVITY, NULL, "office=X1", "nip=" NIP1, date, "indicator=A",
        "quantity=100000", "status=approved", (const char *)NULL);
    /* two a day in one month too: the same aggregate row takes both */
    put(db, 0, KJ_T_ACTIVITY, NULL, "office=X1", "nip=" NIP2, i < 5 ? "date=2026-03-02" : date,
        "indicator=B", "quantity=999999999999.999999", "status=approved", (const char *)NULL);
  }
  char *text = report_text(db, 0, "2026");
  assert_has(text, "{\"indicator\":\"A\",\"target\":1000000,\"realisasi\":1000000,"
                   "\"capaian\":100.00}");
  assert_has(text, "{\"indicator\":\"B\",\"target\":999999999999.999999,"
                   "\"realisasi\":9999999999999.99999,\"capaian\":120.00}");
  free(text);
  cJSON *off = report(db, 1, "2026"); /* failed with "integer overflow" before */
  const cJSON *o = cJSON_GetArrayItem(path(off, "offices", NULL), 0);
  assert_true(path(o, "employees", "capaian_mean")->valuedouble == 100.0);
  cJSON_Delete(off);
  cJSON *q = report(db, 1, "2026-Q1");
  cJSON_Delete(q);
  assert_int_equal(verify(db), 0);
  /* take them out again: every row goes back to nothing */
  sqlite3_stmt *s;
  sqlite3_prepare_v2(db, "SELECT id FROM records WHERE type=?1", -1, &s, NULL);
  sqlite3_bind_text(s, 1, "activity", -1, SQLITE_STATIC);
  char ids[20][64];
  int n = 0;
  while (sqlite3_step(s) == SQLITE_ROW && n < 20)
    snprintf(ids[n++], sizeof ids[0], "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  assert_int_equal(n, 20);
  for (int i = 0; i < n; i++)
    assert_int_equal(kjt_delete(db, KJ_T_ACTIVITY, ids[i]), 0);
  sqlite3_prepare_v2(db, "SELECT count(*) FROM sc_real", -1, &s, NULL);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(s, 0), 0);
  sqlite3_finalize(s);
  assert_int_equal(verify(db), 0);
  sqlite3_close(db);
}

/* A database whose score tables have the old one-column sums is upgraded
 * by kjs_score_sqlite_schema (which the store runs on open): rebuilt from the
 * records, in place. */
static void test_old_tables_rebuilt(void **state) {
  (void)state;
  sqlite3 *db = kjt_db_open(":memory:");
  put(db, 1, KJ_T_OFFICE, "X1", "name=Kantor", (const char *)NULL);
  put(db, 1, KJ_T_EMPLOYEE, NIP1, "name=Satu", "office=X1", (const char *)NULL);
  put(db, 1, KJ_T_TARGET, NULL, "office=X1", "nip=" NIP1, "indicator=A", "period=2026", "target=8",
      (const char *)NULL);
  put(db, 1, KJ_T_ACTIVITY, NULL, "office=X1", "nip=" NIP1, "date=2026-02-03", "indicator=A",
      "quantity=2.5", "status=approved", (const char *)NULL);
  exec_ok(db, "DROP TABLE sc_real; DROP TABLE sc_target;"
              "CREATE TABLE sc_real(nip TEXT NOT NULL, indicator TEXT NOT NULL, ym INTEGER NOT "
              "NULL, qty INTEGER NOT NULL, cnt INTEGER NOT NULL, PRIMARY KEY(nip, indicator, ym)) "
              "WITHOUT ROWID;"
              "CREATE TABLE sc_target(nip TEXT NOT NULL, period TEXT NOT NULL, indicator TEXT NOT "
              "NULL, target INTEGER NOT NULL, weight INTEGER NOT NULL, cnt INTEGER NOT NULL, "
              "PRIMARY KEY(nip, period, indicator)) WITHOUT ROWID;"
              "INSERT INTO sc_real VALUES('" NIP1 "','A',202602,2500000,1);"
              "INSERT INTO sc_target VALUES('" NIP1 "','2026','A',8000000,1000000,1);");
  kj_err e;
  assert_int_equal(kjs_score_sqlite_schema(db, &e), 0);
  assert_int_equal(verify(db), 0);
  char *text = report_text(db, 0, "2026");
  assert_has(text, "{\"indicator\":\"A\",\"target\":8,\"realisasi\":2.5,\"capaian\":31.25}");
  free(text);
  /* and a second open changes nothing */
  assert_int_equal(kjs_score_sqlite_schema(db, &e), 0);
  assert_int_equal(verify(db), 0);
  sqlite3_close(db);
}

/* Score tables of before the own-office rule (per-employee rows keyed by
 * NIP alone, docs/scoring.md "Own office") are rebuilt from the records by
 * kjs_score_sqlite_schema: a cross-office target stops counting. */
static void test_nip_only_tables_rebuilt(void **state) {
  (void)state;
  sqlite3 *db = kjt_db_open(":memory:");
  put(db, 1, KJ_T_OFFICE, "X1", "name=Kantor", (const char *)NULL);
  put(db, 1, KJ_T_OFFICE, "X2", "name=Kantor Dua", (const char *)NULL);
  put(db, 1, KJ_T_EMPLOYEE, NIP1, "name=Satu", "office=X1", (const char *)NULL);
  put(db, 1, KJ_T_TARGET, NULL, "office=X1", "nip=" NIP1, "indicator=A", "period=2026", "target=8",
      (const char *)NULL);
  put(db, 1, KJ_T_TARGET, NULL, "office=X2", "nip=" NIP1, "indicator=B", "period=2026",
      "target=1000000", (const char *)NULL);
  exec_ok(db, "DROP TABLE sc_target;"
              "CREATE TABLE sc_target(nip TEXT NOT NULL, period TEXT NOT NULL, indicator TEXT NOT "
              "NULL, target_hi INTEGER NOT NULL, target_lo INTEGER NOT NULL, weight_hi INTEGER NOT "
              "NULL, weight_lo INTEGER NOT NULL, cnt INTEGER NOT NULL, PRIMARY KEY(nip, period, "
              "indicator)) WITHOUT ROWID;"
              "INSERT INTO sc_target VALUES('" NIP1 "','2026','A',0,8000000,0,1000000,1),('" NIP1
              "','2026','B',0,1000000000000,0,1000000,1);");
  kj_err e;
  assert_int_equal(kjs_score_sqlite_schema(db, &e), 0);
  assert_int_equal(verify(db), 0);
  char *text = report_text(db, 0, "2026");
  assert_has(text, "\"targets\":[{\"indicator\":\"A\",\"target\":8,");
  assert_null(strstr(text, "\"indicator\":\"B\""));
  free(text);
  sqlite3_close(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_aggregates_at_bound),
      cmocka_unit_test(test_ten_activities_at_max),
      cmocka_unit_test(test_old_tables_rebuilt),
      cmocka_unit_test(test_nip_only_tables_rebuilt),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
