/* test_schema_aggr.c - the score store's report aggregates as a schema
 * migration (issue 19; SQLite's migration 13, PostgreSQL's 3:
 * kjs_score_sqlite_aggregates, kjs_score_pg_aggregates; docs/scoring.md
 * "Aggregates"): a store opened by this build has the version with them; a
 * kinerjad of before them (kjs_db_test_older) refuses it
 * with KJ_EVERSION; a store of the version before (the tables absent, or
 * left behind by an older kinerjad that wrote without keeping them) is
 * migrated and its aggregates equal recompute --verify's, with the reports
 * byte-identical to before; two stores opening one old store at the same
 * moment migrate it once.  Runs on SQLite, and on PostgreSQL as
 * test_schema_aggr_pg. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db.h"
#include "hlc.h"
#include "score.h"
#include "test_app_util.h"
#include "test_store_sql.h"

#define T0 1767225600000ULL /* 2026-01-01T00:00:00Z */

#define HEAD_A "197001012000011001"  /* A, no supervisor */
#define SUP_A "198001012005011002"   /* A, under HEAD_A */
#define STAFF_A "199001012015011003" /* A, under SUP_A */

/* the schema versions: before the report aggregates, this build's (the
 * applied table's refusals came after them: SQLite's 14, PostgreSQL's 4) */
#define OLD_VERSION (tapp_on_pg() ? 2 : 12)
#define NEW_VERSION (tapp_on_pg() ? 4 : 14)

/* Records behind every aggregate of a year report: two offices, a roster,
 * targets, activities in four months (three approved by the supervisor:
 * realisasi), a rating, surveys of two services in five months of 2026 and
 * one of 2025, one of them deleted again. */
static void fill(tapp *t) {
  tpush1_applied(t, t->admin, tchange("office", OFFICE_A, "", "{\"name\":\"Kasemen\"}"));
  tpush1_applied(t, t->admin, tchange("office", OFFICE_B, "", "{\"name\":\"Cipocok Jaya\"}"));
  temployee(t, HEAD_A, OFFICE_A, NULL);
  temployee(t, SUP_A, OFFICE_A, HEAD_A);
  temployee(t, STAFF_A, OFFICE_A, SUP_A);
  tpush1_applied(t, t->dev_a,
                 tchange("target", tuid(1), "",
                         "{\"office\":\"" OFFICE_A "\",\"nip\":\"" STAFF_A
                         "\",\"indicator\":\"DOC\",\"period\":\"2026\",\"target\":\"40\"}"));
  static const char *const days[] = {"2026-02-03", "2026-03-04", "2026-05-06", "2026-08-11"};
  for (int i = 0; i < 4; i++) {
    char f[300];
    snprintf(f, sizeof f,
             "{\"office\":\"" OFFICE_A "\",\"nip\":\"" STAFF_A "\",\"date\":\"%s\","
             "\"indicator\":\"DOC\",\"quantity\":\"%d.5\"}",
             days[i], 3 + i);
    tpush1_applied(t, t->dev_a, tchange("activity", tuid(10 + i), "", f));
    if (i < 3)
      tpush1_applied(t, t->dev_a,
                     tchange("activity", tuid(10 + i), SUP_A,
                             "{\"status\":\"approved\",\"reviewed_by\":\"" SUP_A "\"}"));
  }
  tpush1_applied(t, t->dev_a,
                 tchange("rating", tuid(20), SUP_A,
                         "{\"office\":\"" OFFICE_A "\",\"period\":\"2026\",\"rater\":\"" SUP_A
                         "\",\"ratee\":\"" STAFF_A
                         "\",\"role\":\"atasan\",\"s1\":\"4\",\"s2\":\"4\","
                         "\"s3\":\"5\",\"s4\":\"4\",\"s5\":\"3\",\"s6\":\"4\",\"s7\":\"4\"}"));
  static const char *const sdays[] = {"2026-01-05", "2026-02-10", "2026-02-11", "2026-06-01",
                                      "2026-09-15", "2026-11-02", "2025-12-30"};
  for (int i = 0; i < 7; i++) {
    char f[400];
    snprintf(f, sizeof f,
             "{\"office\":\"%s\",\"date\":\"%s\",\"service\":\"%s\",\"u1\":\"%d\",\"u2\":\"3\","
             "\"u3\":\"3\",\"u4\":\"4\",\"u5\":\"3\",\"u6\":\"3\",\"u7\":\"2\",\"u8\":\"3\","
             "\"u9\":\"3\"}",
             i % 3 ? OFFICE_A : OFFICE_B, sdays[i], i % 2 ? "KK" : "KTP", 1 + i % 4);
    tpush1_applied(t, i % 3 ? t->dev_a : t->dev_b, tchange("survey", tuid(30 + i), "", f));
  }
  tpush1_applied(t, t->dev_a, tchange("survey", tuid(32), "", NULL));
}

/* 1 when t's store has table name */
static int has_table(tapp *t, const char *name) {
  char sql[200];
  snprintf(sql, sizeof sql,
           tapp_on_pg() ? "SELECT count(*) FROM pg_tables WHERE tablename = '%s'"
                        : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
           name);
  return tsql_ll(t, sql) > 0;
}

static long long rows(tapp *t, const char *table) {
  char sql[100];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
  return tsql_ll(t, sql);
}

/* Set the store back to the version before the report aggregates: made
 * by what kinerjad knew then (SQLite's user_version 12, PostgreSQL's
 * kinerjad_schema 2).  stale: keep the tables, as a build of that version
 * that had them left them, after an older kinerjad wrote without keeping
 * them (rows gone, one off); else drop them, as before they were made. */
static void make_old(tapp *t, int stale) {
  char sql[700];
  /* and without the applied table's refusal (the migration after) */
  const char *old = tapp_on_pg() ? "ALTER TABLE applied DROP COLUMN code, DROP COLUMN field, DROP "
                                   "COLUMN args; UPDATE kinerjad_schema SET version = 2"
                                 : "ALTER TABLE applied DROP COLUMN code; ALTER TABLE applied DROP "
                                   "COLUMN field; ALTER TABLE applied DROP COLUMN args; PRAGMA "
                                   "user_version = 12";
  if (stale)
    snprintf(sql, sizeof sql,
             "DELETE FROM sc_surveyyear WHERE office = '%s'; DELETE FROM sc_realyear; UPDATE "
             "sc_cmpmonth SET days = days + 5; %s",
             OFFICE_A, old);
  else
    snprintf(sql, sizeof sql,
             "DROP TABLE sc_surveyyear; DROP TABLE sc_realyear; DROP TABLE sc_cmpmonth; DROP "
             "TABLE sc_office_ver; %s",
             old);
  tsql_exec(t, sql);
  assert_int_equal(tsql_version(t), OLD_VERSION);
}

static kj_code reopen(tapp *t, kj_err *e) {
  kjs_store_close(t->store);
  t->store = NULL;
  kj_err_clear(e);
  kj_code rc = kjs_store_open(&t->store, t->cfg.db_file, &t->cfg, 0, e);
  if (!rc)
    kjs_app_init(&t->app, t->store, &t->cfg);
  return rc;
}

/* The year and a month report of s, appended to out. */
static void reports(kjs_store *s, kj_buf *out) {
  kj_err e;
  kj_err_clear(&e);
  kjs_report_memo_enable(0); /* built from the aggregates every time */
  if (kjs_store_report_offices(s, "2026", "2026-12-31", out, &e) ||
      kjs_store_report_offices(s, "2026-02", "2026-12-31", out, &e))
    fail_msg("report: %s", e.msg);
  kjs_report_memo_enable(1);
}

/* recompute --verify finds nothing: 0 differences */
static void verified(tapp *t) {
  kj_err e;
  kj_err_clear(&e);
  kj_buf d;
  kj_buf_init(&d, KJ_BUF_UNLIMITED);
  if (kjs_store_recompute(t->store, 1, &d, &e))
    fail_msg("recompute --verify: %s", e.msg);
  if (d.len)
    fail_msg("recompute --verify found differences:\n%s", kj_buf_str(&d));
  kj_buf_release(&d);
}

static void test_version(void **state) {
  (void)state;
  tapp *t = tapp_new();
  fill(t);
  /* this build's version, its tables filled */
  assert_int_equal(tsql_version(t), NEW_VERSION);
  assert_true(rows(t, "sc_surveyyear") >= 3);
  assert_true(rows(t, "sc_realyear") >= 1);
  assert_true(rows(t, "sc_cmpmonth") >= 1);
  verified(t);
  /* a kinerjad of before the aggregates (that knows the migrations up to
   * OLD_VERSION) refuses it, and the store is untouched */
  kjs_db_test_older = NEW_VERSION - OLD_VERSION;
  kj_err e;
  kj_code rc = reopen(t, &e);
  kjs_db_test_older = 0;
  assert_int_equal(rc, KJ_EVERSION);
  char want[120];
  snprintf(want, sizeof want, "database schema version %d is newer than this kinerjad (%d)",
           NEW_VERSION, OLD_VERSION);
  if (!strstr(e.msg, want))
    fail_msg("'%s' not in '%s'", want, e.msg);
  assert_int_equal(tsql_version(t), NEW_VERSION);
  assert_int_equal(reopen(t, &e), KJ_OK);
  verified(t);
  tapp_free(t);
}

/* A store of the version before, without the tables or with tables an
 * older kinerjad left behind: migrated, the aggregates equal the
 * recompute's, the reports the bytes of before. */
static void test_migrate_old(void **state) {
  (void)state;
  for (int stale = 0; stale < 2; stale++) {
    tapp *t = tapp_new();
    fill(t);
    kj_buf before, after;
    kj_buf_init(&before, KJ_BUF_UNLIMITED);
    kj_buf_init(&after, KJ_BUF_UNLIMITED);
    reports(t->store, &before);
    long long sy = rows(t, "sc_surveyyear"), ry = rows(t, "sc_realyear");
    kjs_store_close(t->store);
    t->store = NULL;
    make_old(t, stale);
    assert_int_equal(has_table(t, "sc_surveyyear"), stale);
    kj_err e;
    assert_int_equal(reopen(t, &e), KJ_OK);
    assert_int_equal(tsql_version(t), NEW_VERSION);
    assert_int_equal(rows(t, "sc_surveyyear"), sy);
    assert_int_equal(rows(t, "sc_realyear"), ry);
    assert_true(has_table(t, "sc_office_ver"));
    verified(t);
    reports(t->store, &after);
    assert_string_equal(kj_buf_str(&after), kj_buf_str(&before));
    /* and kept up after the migration */
    tpush1_applied(
        t, t->dev_a,
        tchange("survey", tuid(90), "",
                "{\"office\":\"" OFFICE_A "\",\"date\":\"2026-04-01\",\"service\":\"KK\","
                "\"u1\":\"4\",\"u2\":\"4\",\"u3\":\"4\",\"u4\":\"4\",\"u5\":\"4\",\"u6\":\"4\","
                "\"u7\":\"4\",\"u8\":\"4\",\"u9\":\"4\"}"));
    verified(t);
    kj_buf_release(&before);
    kj_buf_release(&after);
    tapp_free(t);
  }
}

/* Two stores opening one old store at the same moment (two kinerjad
 * starting together): both open, the migration ran once (its lock). */
typedef struct opener {
  tapp *t;
  kjs_store *store;
  kj_code rc;
  kj_err e;
} opener;

static void *open_thread(void *p) {
  opener *o = p;
  kj_err_clear(&o->e);
  o->rc = kjs_store_open(&o->store, o->t->cfg.db_file, &o->t->cfg, 0, &o->e);
  return NULL;
}

static void test_migrate_together(void **state) {
  (void)state;
  tapp *t = tapp_new();
  fill(t);
  long long sy = rows(t, "sc_surveyyear");
  kjs_store_close(t->store);
  t->store = NULL;
  long long ver = tsql_ll(t, "SELECT ver FROM sc_office_ver WHERE office = ''");
  make_old(t, 1);
  opener o[2] = {{.t = t}, {.t = t}};
  pthread_t th[2];
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&th[i], NULL, open_thread, &o[i]), 0);
  for (int i = 0; i < 2; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < 2; i++) {
    if (o[i].rc)
      fail_msg("open %d: %s", i, o[i].e.msg);
    kjs_store_close(o[i].store);
  }
  assert_int_equal(tsql_version(t), NEW_VERSION);
  assert_int_equal(rows(t, "sc_surveyyear"), sy);
  /* the migration raised the store's own change counter once: it ran once */
  assert_int_equal(tsql_ll(t, "SELECT ver FROM sc_office_ver WHERE office = ''"), ver + 1);
  kj_err e;
  assert_int_equal(reopen(t, &e), KJ_OK);
  verified(t);
  tapp_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_version),
      cmocka_unit_test(test_migrate_old),
      cmocka_unit_test(test_migrate_together),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
