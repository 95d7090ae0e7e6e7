/* test_score_pg: server/score_pg.c, the score store on PostgreSQL, against
 * the test cluster (tests/tools/pgcluster; skipped without PostgreSQL).
 * The same record sequence goes through the pure module (score.c) into
 * score_sqlite and into score_pg; every report document of the vector sets
 * (tests/data/vectors) must be the same bytes from both, after the loads,
 * after deleting half the records, after deleting the rest (every sc_* row
 * gone from both) and after loading again, with the default configuration
 * and with weekday holidays; an offices report on PostgreSQL runs at most
 * 9 statements plus one per holiday (its batch reads), whatever the number
 * of offices and employees.  Plus the 128-bit (hi, lo)
 * carries at the bounds, the report aggregates (sc_realyear, sc_cmpmonth:
 * kept alike, and filled for a database made before them), a second handle
 * on a used connection, and a clear error without the tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csvio.h"
#include "pgtest.h"
#include "score_pg.h"
#include "score_util.h"

typedef struct env {
  sqlite3 *sq;        /* records + the SQLite score store */
  PGconn *pg;         /* the PostgreSQL score store's database */
  kjs_score_pg h;     /* its handle */
  char db[64];        /* its name */
  char ids[4096][48]; /* the records loaded: "type\tid" */
  int nids;
} env;

static int setup(void **state) {
  env *e = calloc(1, sizeof *e);
  e->pg = kjt_pg_fresh_db("kjt_score_pg", e->db, sizeof e->db);
  kj_err err;
  kj_err_clear(&err);
  if (kjs_score_pg_schema(e->pg, &err) != KJ_OK)
    fail_msg("schema: %s", err.msg);
  /* twice: IF NOT EXISTS */
  assert_int_equal(kjs_score_pg_schema(e->pg, &err), KJ_OK);
  kjs_score_pg_init(&e->h, e->pg);
  e->sq = kjt_db_open(":memory:");
  assert_non_null(e->sq);
  *state = e;
  return 0;
}

static int teardown(void **state) {
  env *e = *state;
  kjs_score_pg_release(&e->h);
  PQfinish(e->pg);
  kjt_pg_drop_db(e->db);
  sqlite3_close(e->sq);
  free(e);
  return 0;
}

/* One new state r of its record into both stores: the old state from the
 * SQLite records table, the PostgreSQL aggregates updated with the same
 * (before, after), then kjt_put (SQLite aggregates and records). */
static void put_both(env *e, const kj_record *r) {
  kj_record before;
  int have = kjt_get(e->sq, r->type, r->id, &before) == 0;
  kj_err err;
  kj_err_clear(&err);
  kj_code rc = kjs_score_update(&e->h.store, have ? &before : NULL, r, &err);
  if (rc)
    fail_msg("pg: %s %s: %s", kj_type(r->type)->name, r->id, err.msg);
  if (have)
    kj_record_release(&before);
  assert_int_equal(kjt_put(e->sq, r), 0);
}

/* Delete (tombstone) a record in both stores, as kjt_delete does. */
static void delete_both(env *e, kj_rtype t, const char *id) {
  kj_record before, after;
  assert_int_equal(kjt_get(e->sq, t, id, &before), 0);
  kj_record_init(&after, t);
  snprintf(after.id, sizeof after.id, "%s", id);
  after.deleted = 1;
  const kj_type_def *td = kj_type(t);
  if (td->office_field >= 0)
    kj_record_set(&after, td->office_field, before.v[td->office_field]);
  kj_err err;
  kj_err_clear(&err);
  if (kjs_score_update(&e->h.store, &before, &after, &err))
    fail_msg("pg delete %s: %s", id, err.msg);
  kj_record_release(&before);
  kj_record_release(&after);
  assert_int_equal(kjt_delete(e->sq, t, id), 0);
}

static void exec_pg(env *e, const char *sql) {
  PQclear(kjt_pg_exec(e->pg, sql));
  /* as db_pg.c at every transaction's begin and end (score_pg.h) */
  if (!strncmp(sql, "BEGIN", 5) || !strcmp(sql, "COMMIT") || !strcmp(sql, "ROLLBACK"))
    kjs_score_pg_forget(&e->h);
}

static int on_row(void *ud, long line, kj_record *rec, const char *const *problems, int np) {
  env *e = ud;
  if (np)
    fail_msg("line %ld: %s", line, problems[0]);
  put_both(e, rec);
  if (!rec->deleted && e->nids < (int)(sizeof e->ids / sizeof e->ids[0]))
    snprintf(e->ids[e->nids++], sizeof e->ids[0], "%s\t%s", kj_type(rec->type)->name, rec->id);
  return 0;
}

/* Every CSV of a vector set through both stores, one transaction each. */
static void load_set(env *e, const char *dir) {
  e->nids = 0;
  exec_pg(e, "BEGIN");
  sqlite3_exec(e->sq, "BEGIN", NULL, NULL, NULL);
  for (int t = 0; t < KJ_T__COUNT; t++) {
    const kj_type_def *td = kj_type((kj_rtype)t);
    char path[1024];
    snprintf(path, sizeof path, "%s/data/%s.csv", dir, td->plural);
    FILE *f = fopen(path, "rb");
    if (!f)
      continue;
    kj_err err;
    kj_err_clear(&err);
    kj_code rc = kj_csv_read(f, path, td, NULL, on_row, e, &err);
    fclose(f);
    if (rc)
      fail_msg("%s", err.msg);
  }
  sqlite3_exec(e->sq, "COMMIT", NULL, NULL, NULL);
  exec_pg(e, "COMMIT");
  assert_true(e->nids > 0);
}

/* Every case of dir/cases.json from both stores: the same bytes, and the
 * vector's document when want_expected.  Returns the number of cases. */
/* weekday holidays of the sets' years, most with activities */
#define HOLIDAYS                                                                                   \
  "2025-01-02,2025-01-03,2025-01-06,2025-01-07,2025-02-03,2025-02-04,2025-04-01,2025-05-01,"       \
  "2025-05-12,2025-06-02"
#define NHOLIDAYS 10

static int compare_reports(env *e, const char *dir, int want_expected) {
  char path[1024];
  snprintf(path, sizeof path, "%s/cases.json", dir);
  char *text = kjt_read_file(path);
  assert_non_null(text);
  cJSON *cases = cJSON_Parse(text);
  free(text);
  assert_non_null(cases);
  /* the defaults, and with weekday holidays on days with activities (the
   * compliance's holiday counts) */
  kjs_score_config cfgs[2];
  kjs_score_config_defaults(&cfgs[0]);
  kjs_score_config_defaults(&cfgs[1]);
  kj_err cerr;
  kj_err_clear(&cerr);
  if (kjs_score_config_set(&cfgs[1], "score.holidays", HOLIDAYS, &cerr))
    fail_msg("holidays: %s", cerr.msg);
  int n = 0;
  const cJSON *c;
  /* one read transaction per report on PostgreSQL, as the store runs it */
  cJSON_ArrayForEach(c, cJSON_GetObjectItem(cases, "cases")) {
    const char *report = cJSON_GetObjectItem(c, "report")->valuestring;
    const char *period = cJSON_GetObjectItem(c, "period")->valuestring;
    for (int hc = 0; hc < 2; hc++) {
      const kjs_score_config *cfg = &cfgs[hc];
      kj_buf out[2];
      const kjs_score_store *ss[2] = {kjs_score_sqlite(e->sq), &e->h.store};
      for (int s = 0; s < 2; s++) {
        kj_buf_init(&out[s], KJ_BUF_UNLIMITED);
        kj_err err;
        kj_err_clear(&err);
        if (s) {
          exec_pg(e, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
          kjs_score_pg_forget(&e->h); /* as db_pg.c at every begin */
        }
        unsigned long long st0 = e->h.statements;
        kj_code rc;
        if (!strcmp(report, "offices"))
          rc = kjs_report_offices(ss[s], cfg, period, cJSON_GetObjectItem(c, "as_of")->valuestring,
                                  &out[s], &err);
        else
          rc = kjs_report_employees(ss[s], cfg, period,
                                    cJSON_GetObjectItem(c, "office")->valuestring, &out[s], &err);
        if (s) {
          exec_pg(e, "COMMIT");
          kjs_score_pg_forget(&e->h);
          /* the offices report in batch reads: the change counters (the
           * report memo), then one statement per kind for all offices and
           * employees (list, surveys, complaints, roster, targets,
           * realisasi, ratings, activity months and days), plus one per
           * holiday; one or more per office and employee before */
          if (!strcmp(report, "offices") && e->h.statements - st0 > 10 + (hc ? NHOLIDAYS : 0))
            fail_msg("%s %s %s: %llu statements", dir, report, period, e->h.statements - st0);
        }
        if (rc)
          fail_msg("%s %s %s: %s", dir, s ? "pg" : "sqlite", report, err.msg);
      }
      if (strcmp(kj_buf_str(&out[0]), kj_buf_str(&out[1])) != 0)
        fail_msg("%s case %d (%s %s): sqlite and pg differ:\nsqlite %s\npg     %s", dir, n, report,
                 period, kj_buf_str(&out[0]), kj_buf_str(&out[1]));
      if (want_expected && !hc) {
        snprintf(path, sizeof path, "%s/%s", dir, cJSON_GetObjectItem(c, "expected")->valuestring);
        char *want_text = kjt_read_file(path);
        assert_non_null(want_text);
        cJSON *want = cJSON_Parse(want_text), *got = cJSON_Parse(kj_buf_str(&out[1]));
        char why[600] = "";
        if (!kjt_json_equal(got, want, why, sizeof why))
          fail_msg("%s %s from pg: %s", dir, path, why);
        cJSON_Delete(want);
        cJSON_Delete(got);
        free(want_text);
      }
      kj_buf_release(&out[0]);
      kj_buf_release(&out[1]);
    }
    n++;
  }
  cJSON_Delete(cases);
  kjs_score_config_release(&cfgs[0]);
  kjs_score_config_release(&cfgs[1]);
  return n;
}

/* the number of rows in all sc_* tables of PostgreSQL and of SQLite */
static void count_rows(env *e, long long *pg, long long *sq) {
  static const char *const t[] = {"sc_office", "sc_emp",      "sc_survey",   "sc_cdays",
                                  "sc_real",   "sc_actday",   "sc_actmonth", "sc_target",
                                  "sc_rating", "sc_realyear", "sc_cmpmonth", "sc_surveyyear"};
  *pg = *sq = 0;
  for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
    char sql[64];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", t[i]);
    PGresult *r = kjt_pg_exec(e->pg, sql);
    *pg += atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(e->sq, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    *sq += sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
  }
}

/* delete records i = first, first + step, ... of the loaded list */
static void delete_some(env *e, int first, int step) {
  exec_pg(e, "BEGIN");
  sqlite3_exec(e->sq, "BEGIN", NULL, NULL, NULL);
  for (int i = first; i < e->nids; i += step) {
    char type[32];
    const char *tab = strchr(e->ids[i], '\t');
    snprintf(type, sizeof type, "%.*s", (int)(tab - e->ids[i]), e->ids[i]);
    delete_both(e, kj_type_by_name(type)->type, tab + 1);
  }
  sqlite3_exec(e->sq, "COMMIT", NULL, NULL, NULL);
  exec_pg(e, "COMMIT");
}

static void run_set(env *e, const char *name) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/vectors/%s", kjt_data_dir(), name);
  load_set(e, dir);
  long long pg, sq;
  count_rows(e, &pg, &sq);
  assert_true(pg > 0);
  assert_int_equal(pg, sq);
  assert_true(compare_reports(e, dir, 1) >= 3);
  /* deletes: half the records, then the rest; every row back to zero */
  delete_some(e, 0, 2);
  count_rows(e, &pg, &sq);
  assert_int_equal(pg, sq);
  compare_reports(e, dir, 0);
  delete_some(e, 1, 2);
  count_rows(e, &pg, &sq);
  assert_int_equal(sq, 0);
  assert_int_equal(pg, 0);
  compare_reports(e, dir, 0);
  /* the same records again (undeleting the tombstones): the expected
   * documents again */
  load_set(e, dir);
  assert_true(compare_reports(e, dir, 1) >= 3);
  /* and empty the stores for the next set */
  delete_some(e, 0, 1);
  count_rows(e, &pg, &sq);
  assert_int_equal(pg + sq, 0);
}

static void test_set1(void **state) {
  run_set(*state, "set1");
}
static void test_set2(void **state) {
  run_set(*state, "set2");
}
static void test_set3(void **state) {
  run_set(*state, "set3");
}

static kj_code on_real(void *ctx, const kjs_sc_real *r) {
  kjs_sc_sum *s = ctx;
  (void)r->indicator;
  *s = r->qty;
  return KJ_OK;
}

/* (hi, lo) sums past 1e18 and back, through the store's functions on both
 * stores: the same rows, the carry and the borrow, the row gone at zero. */
static void test_sum_carry(void **state) {
  env *e = *state;
  const long long big = 999999999999999999LL; /* the largest value * 1e6 */
  const kjs_score_store *ss[2] = {kjs_score_sqlite(e->sq), &e->h.store};
  kj_err err;
  kj_err_clear(&err);
  exec_pg(e, "BEGIN");
  for (int s = 0; s < 2; s++) {
    for (int i = 0; i < 3; i++)
      assert_int_equal(ss[s]->ops->real_add(ss[s]->h, "O", "N", "I", 202601, big, 1, &err), KJ_OK);
    assert_int_equal(ss[s]->ops->real_add(ss[s]->h, "O", "N", "I", 202601, 5, 1, &err), KJ_OK);
  }
  kjs_sc_sum got[2];
  for (int s = 0; s < 2; s++)
    assert_int_equal(ss[s]->ops->reals(ss[s]->h, "O", "N", 202601, 202601, on_real, &got[s], &err),
                     KJ_OK);
  /* 3 * (1e18 - 1) + 5 = 3e18 + 2 */
  assert_int_equal(got[1].hi, 3);
  assert_int_equal(got[1].lo, 2);
  assert_memory_equal(&got[0], &got[1], sizeof got[0]);
  for (int s = 0; s < 2; s++)
    assert_int_equal(ss[s]->ops->real_add(ss[s]->h, "O", "N", "I", 202601, big, -1, &err), KJ_OK);
  for (int s = 0; s < 2; s++)
    assert_int_equal(ss[s]->ops->reals(ss[s]->h, "O", "N", 202601, 202601, on_real, &got[s], &err),
                     KJ_OK);
  /* 2e18 + 3 */
  assert_int_equal(got[1].hi, 2);
  assert_int_equal(got[1].lo, 3);
  assert_memory_equal(&got[0], &got[1], sizeof got[0]);
  for (int s = 0; s < 2; s++) {
    for (int i = 0; i < 2; i++)
      assert_int_equal(ss[s]->ops->real_add(ss[s]->h, "O", "N", "I", 202601, big, -1, &err), KJ_OK);
    assert_int_equal(ss[s]->ops->real_add(ss[s]->h, "O", "N", "I", 202601, 5, -1, &err), KJ_OK);
  }
  long long pg, sq;
  count_rows(e, &pg, &sq);
  assert_int_equal(pg + sq, 0);
  /* actday answers the count after the change */
  long long cnt[2];
  for (int s = 0; s < 2; s++) {
    assert_int_equal(ss[s]->ops->actday_add(ss[s]->h, "O", "N", 20000, 1, 1, &cnt[s], &err), KJ_OK);
    assert_int_equal(ss[s]->ops->actday_add(ss[s]->h, "O", "N", 20000, 1, 1, &cnt[s], &err), KJ_OK);
  }
  assert_int_equal(cnt[1], 2);
  assert_int_equal(cnt[0], cnt[1]);
  for (int s = 0; s < 2; s++)
    for (int i = 0; i < 2; i++)
      assert_int_equal(ss[s]->ops->actday_add(ss[s]->h, "O", "N", 20000, 1, -1, &cnt[s], &err),
                       KJ_OK);
  assert_int_equal(cnt[1], 0);
  count_rows(e, &pg, &sq);
  assert_int_equal(pg + sq, 0);
  exec_pg(e, "COMMIT");
}

static kj_code on_office(void *ctx, const kjs_sc_office *o) {
  kj_buf *b = ctx;
  kj_buf_addf(b, "%s|%s|%d|%lld\n", o->code, o->name ? o->name : "(null)", o->have_pop, o->pop);
  return KJ_OK;
}

/* A second handle on a connection the first one prepared statements on
 * finds them (no "already exists"); offices come back in byte order with a
 * NULL name and an unknown population as SQLite gives them. */
static void test_second_handle(void **state) {
  env *e = *state;
  kj_err err;
  kj_err_clear(&err);
  const kjs_sc_office o[] = {{"b", "Kantor B", 1, 120}, {"B", NULL, 0, 0}, {"a", "x", 1, 0}};
  const kjs_score_store *sq = kjs_score_sqlite(e->sq);
  exec_pg(e, "BEGIN");
  for (size_t i = 0; i < sizeof o / sizeof *o; i++) {
    assert_int_equal(e->h.store.ops->office_put(e->h.store.h, &o[i], &err), KJ_OK);
    assert_int_equal(sq->ops->office_put(sq->h, &o[i], &err), KJ_OK);
  }
  kjs_score_pg h2;
  kjs_score_pg_init(&h2, e->pg);
  kj_buf a, b;
  kj_buf_init(&a, KJ_BUF_UNLIMITED);
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  assert_int_equal(h2.store.ops->office_put(h2.store.h, &o[0], &err), KJ_OK);
  assert_int_equal(h2.store.ops->offices(h2.store.h, on_office, &a, &err), KJ_OK);
  assert_int_equal(sq->ops->offices(sq->h, on_office, &b, &err), KJ_OK);
  assert_string_equal(kj_buf_str(&a), "B|(null)|0|0\na|x|1|0\nb|Kantor B|1|120\n");
  assert_string_equal(kj_buf_str(&a), kj_buf_str(&b));
  for (size_t i = 0; i < sizeof o / sizeof *o; i++) {
    assert_int_equal(h2.store.ops->office_del(h2.store.h, o[i].code, &err), KJ_OK);
    assert_int_equal(sq->ops->office_del(sq->h, o[i].code, &err), KJ_OK);
  }
  exec_pg(e, "COMMIT");
  kjs_score_pg_release(&h2);
  kj_buf_release(&a);
  kj_buf_release(&b);
}

static kj_code on_real_sum(void *ctx, const kjs_sc_real *r) {
  __int128 *s = ctx;
  *s += (__int128)r->qty.hi * 1000000000000000000LL + r->qty.lo;
  return KJ_OK;
}

/* The rows of table, one line each in key order (both stores: the same
 * text). */
static void rows_pg(env *e, const char *sql, kj_buf *out) {
  PGresult *r = kjt_pg_exec(e->pg, sql);
  for (int i = 0; i < PQntuples(r); i++)
    for (int k = 0; k < PQnfields(r); k++)
      kj_buf_addf(out, "%s%s", PQgetvalue(r, i, k), k + 1 < PQnfields(r) ? "|" : "\n");
  PQclear(r);
}

static void rows_sq(env *e, const char *sql, kj_buf *out) {
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_prepare_v2(e->sq, sql, -1, &s, NULL), SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW)
    for (int k = 0; k < sqlite3_column_count(s); k++)
      kj_buf_addf(out, "%s%s", (const char *)sqlite3_column_text(s, k),
                  k + 1 < sqlite3_column_count(s) ? "|" : "\n");
  sqlite3_finalize(s);
}

/* each survey row as "SERVICE N U1 .. U9" a line into the kj_buf ctx */
static kj_code on_survey_text(void *ctx, const kjs_sc_survey *v) {
  kj_buf_addf(ctx, "%s %lld", v->service, v->n);
  for (int i = 0; i < 9; i++)
    kj_buf_addf(ctx, " %lld", v->u[i]);
  kj_buf_addc(ctx, '\n');
  return KJ_OK;
}

static const char *const k_ry = "SELECT * FROM sc_realyear ORDER BY y, office, nip, indicator";
static const char *const k_cm = "SELECT * FROM sc_cmpmonth ORDER BY office, ym";
static const char *const k_sy = "SELECT * FROM sc_surveyyear ORDER BY y, office, service";

/* The report aggregates (docs/scoring.md "Aggregates"): sc_realyear is the
 * year sums of sc_real (the (hi, lo) carry included) and a year's reals
 * come from it; sc_cmpmonth is the sum of sc_actmonth over the rows whose
 * (office, nip) is on the roster, kept through activities before their
 * employee, a move of office and a delete; both stores keep the same rows,
 * sc_surveyyear is the year sums of sc_survey (a whole year's surveys come
 * from it); a database made before the tables (or whose tables an older
 * kinerjad left behind) gets them filled from sc_real, sc_actmonth and
 * sc_survey by the migration, equal to what the upkeep kept. */
static void test_report_aggregates(void **state) {
  env *e = *state;
  const long long big = 999999999999999999LL;
  const kjs_score_store *ss[2] = {kjs_score_sqlite(e->sq), &e->h.store};
  kj_err err;
  kj_err_clear(&err);
  const kjs_sc_emp e1a = {"E1", "A", "Satu"}, e2a = {"E2", "A", "Dua"}, e1b = {"E1", "B", "Satu"};
  /* SQLite as the server writes: a transaction with the sums held back
   * (kjs_score_sqlite_hold) and flushed at a read, a roster change and the
   * end */
  exec_pg(e, "BEGIN");
  sqlite3_exec(e->sq, "BEGIN", NULL, NULL, NULL);
  kjs_score_sqlite_hold(e->sq);
  long long cm[2][3];
  for (int s = 0; s < 2; s++) {
    const kjs_score_store_ops *o = ss[s]->ops;
    void *h = ss[s]->h;
    /* realisasi: two months of 2026 past 1e18, one of 2027 */
    assert_int_equal(o->real_add(h, "A", "E1", "I", 202601, big, 1, &err), KJ_OK);
    assert_int_equal(o->real_add(h, "A", "E1", "I", 202612, big, 1, &err), KJ_OK);
    assert_int_equal(o->real_add(h, "A", "E1", "I", 202612, 7, 1, &err), KJ_OK);
    assert_int_equal(o->real_add(h, "A", "E1", "I", 202701, 5, 1, &err), KJ_OK);
    /* surveys: three months of 2026 (one added and taken again), one of
     * 2027 */
    const long long u4[9] = {4, 4, 4, 4, 4, 4, 4, 4, 4}, u2[9] = {2, 3, 2, 3, 2, 3, 2, 3, 2};
    assert_int_equal(o->survey_add(h, "A", 202603, "KK", u4, 1, &err), KJ_OK);
    assert_int_equal(o->survey_add(h, "A", 202611, "KK", u2, 1, &err), KJ_OK);
    assert_int_equal(o->survey_add(h, "A", 202611, "KTP", u2, 1, &err), KJ_OK);
    assert_int_equal(o->survey_add(h, "A", 202605, "KK", u4, 1, &err), KJ_OK);
    assert_int_equal(o->survey_add(h, "A", 202605, "KK", u4, -1, &err), KJ_OK);
    assert_int_equal(o->survey_add(h, "A", 202701, "KK", u4, 1, &err), KJ_OK);
    /* activity months: E2's before E2 is on the roster, one of office B
     * naming E1 (not on B's roster) */
    assert_int_equal(o->emp_put(h, &e1a, &err), KJ_OK);
    assert_int_equal(o->actmonth_add(h, "A", "E1", 202601, 1, &err), KJ_OK);
    assert_int_equal(o->actmonth_add(h, "A", "E1", 202601, 1, &err), KJ_OK);
    assert_int_equal(o->actmonth_add(h, "A", "E1", 202602, 1, &err), KJ_OK);
    assert_int_equal(o->actmonth_add(h, "B", "E1", 202602, 1, &err), KJ_OK);
    assert_int_equal(o->actmonth_add(h, "A", "E2", 202601, 1, &err), KJ_OK);
    assert_int_equal(o->emp_put(h, &e2a, &err), KJ_OK);
    assert_int_equal(o->cmp_months(h, "A", 202601, 202612, &cm[s][0], &err), KJ_OK);
    /* E1 moves to B: its A months leave A, its B month counts for B */
    assert_int_equal(o->emp_put(h, &e1b, &err), KJ_OK);
    assert_int_equal(o->cmp_months(h, "A", 202601, 202612, &cm[s][1], &err), KJ_OK);
    assert_int_equal(o->cmp_months(h, "B", 202601, 202601, &cm[s][2], &err), KJ_OK);
  }
  assert_int_equal(kjs_score_sqlite_flush(e->sq, &err), KJ_OK);
  sqlite3_exec(e->sq, "COMMIT", NULL, NULL, NULL);
  exec_pg(e, "COMMIT");
  for (int s = 0; s < 2; s++) {
    assert_int_equal(cm[s][0], 4); /* E1 3 days in A, E2 1 */
    assert_int_equal(cm[s][1], 1); /* E2 */
    assert_int_equal(cm[s][2], 0); /* B's month is 202602 */
  }
  /* a year's reals: one row, 2 * (1e18 - 1) + 7 = 2e18 + 5 */
  for (int s = 0; s < 2; s++) {
    __int128 sum = 0;
    assert_int_equal(
        ss[s]->ops->reals(ss[s]->h, "A", "E1", 202601, 202612, on_real_sum, &sum, &err), KJ_OK);
    assert_true(sum == (__int128)2 * 1000000000000000000LL + 5);
  }
  kj_buf a, b;
  kj_buf_init(&a, KJ_BUF_UNLIMITED);
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  rows_pg(e, k_ry, &a);
  rows_pg(e, k_cm, &a);
  rows_pg(e, k_sy, &a);
  rows_sq(e, k_ry, &b);
  rows_sq(e, k_cm, &b);
  rows_sq(e, k_sy, &b);
  assert_string_equal(kj_buf_str(&a),
                      "2026|A|E1|I|2|5|3\n2027|A|E1|I|0|5|1\nA|202601|1\nB|202602|1\n"
                      "2026|A|KK|2|6|7|6|7|6|7|6|7|6\n"
                      "2026|A|KTP|1|2|3|2|3|2|3|2|3|2\n"
                      "2027|A|KK|1|4|4|4|4|4|4|4|4|4\n");
  /* a whole year's surveys: the year row, as the months summed */
  for (int s = 0; s < 2; s++) {
    kj_buf y, m;
    kj_buf_init(&y, KJ_BUF_UNLIMITED);
    kj_buf_init(&m, KJ_BUF_UNLIMITED);
    assert_int_equal(ss[s]->ops->surveys(ss[s]->h, "A", 202601, 202612, on_survey_text, &y, &err),
                     KJ_OK);
    assert_int_equal(ss[s]->ops->surveys(ss[s]->h, "A", 202601, 202611, on_survey_text, &m, &err),
                     KJ_OK);
    assert_string_equal(kj_buf_str(&y), "KK 2 6 7 6 7 6 7 6 7 6\nKTP 1 2 3 2 3 2 3 2 3 2\n");
    assert_string_equal(kj_buf_str(&y), kj_buf_str(&m));
    kj_buf_release(&y);
    kj_buf_release(&m);
  }
  assert_string_equal(kj_buf_str(&a), kj_buf_str(&b));
  /* made before the tables (or kept by an older kinerjad: emptied here),
   * the migration fills them the same */
  exec_pg(e, "DROP TABLE sc_realyear; DELETE FROM sc_cmpmonth; DROP TABLE sc_surveyyear");
  sqlite3_exec(e->sq, "DROP TABLE sc_realyear; DELETE FROM sc_cmpmonth; DROP TABLE sc_surveyyear",
               NULL, NULL, NULL);
  assert_int_equal(kjs_score_pg_aggregates(e->pg, &err), KJ_OK);
  assert_int_equal(kjs_score_sqlite_aggregates(e->sq, &err), KJ_OK);
  kj_buf c, d;
  kj_buf_init(&c, KJ_BUF_UNLIMITED);
  kj_buf_init(&d, KJ_BUF_UNLIMITED);
  rows_pg(e, k_ry, &c);
  rows_pg(e, k_cm, &c);
  rows_pg(e, k_sy, &c);
  rows_sq(e, k_ry, &d);
  rows_sq(e, k_cm, &d);
  rows_sq(e, k_sy, &d);
  assert_string_equal(kj_buf_str(&c), kj_buf_str(&a));
  assert_string_equal(kj_buf_str(&d), kj_buf_str(&a));
  kj_buf_release(&a);
  kj_buf_release(&b);
  kj_buf_release(&c);
  kj_buf_release(&d);
  /* everything taken away again: no row left in either store */
  exec_pg(e, "BEGIN");
  sqlite3_exec(e->sq, "BEGIN", NULL, NULL, NULL);
  kjs_score_sqlite_hold(e->sq);
  kjs_score_pg_release(&e->h); /* the tables were made again */
  kjs_score_pg_init(&e->h, e->pg);
  for (int s = 0; s < 2; s++) {
    const kjs_score_store_ops *o = ss[s]->ops;
    void *h = ss[s]->h;
    assert_int_equal(o->emp_del(h, "E2", &err), KJ_OK);
    assert_int_equal(o->actmonth_add(h, "A", "E1", 202601, -1, &err), KJ_OK);
    assert_int_equal(o->actmonth_add(h, "A", "E1", 202601, -1, &err), KJ_OK);
    assert_int_equal(o->actmonth_add(h, "A", "E1", 202602, -1, &err), KJ_OK);
    assert_int_equal(o->actmonth_add(h, "B", "E1", 202602, -1, &err), KJ_OK);
    assert_int_equal(o->actmonth_add(h, "A", "E2", 202601, -1, &err), KJ_OK);
    assert_int_equal(o->emp_del(h, "E1", &err), KJ_OK);
    assert_int_equal(o->real_add(h, "A", "E1", "I", 202601, big, -1, &err), KJ_OK);
    assert_int_equal(o->real_add(h, "A", "E1", "I", 202612, big, -1, &err), KJ_OK);
    assert_int_equal(o->real_add(h, "A", "E1", "I", 202612, 7, -1, &err), KJ_OK);
    assert_int_equal(o->real_add(h, "A", "E1", "I", 202701, 5, -1, &err), KJ_OK);
    const long long u4[9] = {4, 4, 4, 4, 4, 4, 4, 4, 4}, u2[9] = {2, 3, 2, 3, 2, 3, 2, 3, 2};
    assert_int_equal(o->survey_add(h, "A", 202603, "KK", u4, -1, &err), KJ_OK);
    assert_int_equal(o->survey_add(h, "A", 202611, "KK", u2, -1, &err), KJ_OK);
    assert_int_equal(o->survey_add(h, "A", 202611, "KTP", u2, -1, &err), KJ_OK);
    assert_int_equal(o->survey_add(h, "A", 202701, "KK", u4, -1, &err), KJ_OK);
  }
  assert_int_equal(kjs_score_sqlite_flush(e->sq, &err), KJ_OK);
  sqlite3_exec(e->sq, "COMMIT", NULL, NULL, NULL);
  exec_pg(e, "COMMIT");
  long long pg, sq;
  count_rows(e, &pg, &sq);
  assert_int_equal(pg + sq, 0);
}

/* Without the tables: KJ_EDB naming what failed and the server's reason. */
static void test_no_tables(void **state) {
  (void)state;
  char db[64];
  PGconn *c = kjt_pg_fresh_db("kjt_score_pg_empty", db, sizeof db);
  kjs_score_pg h;
  kjs_score_pg_init(&h, c);
  kj_err err;
  kj_err_clear(&err);
  const long long u[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  assert_int_equal(h.store.ops->survey_add(h.store.h, "O", 202601, "S", u, 1, &err), KJ_EDB);
  assert_non_null(strstr(err.msg, "scores: cannot prepare"));
  assert_non_null(strstr(err.msg, "sc_survey"));
  kjs_score_pg_release(&h);
  PQfinish(c);
  kjt_pg_drop_db(db);
}

int main(void) {
  kjt_pg_url(); /* exit 77 without a cluster */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_set1),          cmocka_unit_test(test_set2),
      cmocka_unit_test(test_set3),          cmocka_unit_test(test_sum_carry),
      cmocka_unit_test(test_second_handle), cmocka_unit_test(test_report_aggregates),
      cmocka_unit_test(test_no_tables),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
