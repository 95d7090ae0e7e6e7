/* test_incremental: random sequences of inserts, edits (moving a record
 * between offices, periods, services, statuses, nips, dates) and deletes,
 * applied through kjs_score_update, leave exactly the aggregates a rebuild
 * from the records gives (kjs_score_sqlite_rebuild verify finds nothing), and
 * the reports do not change after a rebuild. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score_util.h"

static unsigned long long g_rng;

static unsigned rnd(unsigned n) {
  g_rng = g_rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)((g_rng >> 33) % n);
}

static const char *const k_offices[] = {"36.73.01", "36.73.02", "36.73.03"};
static const char *const k_services[] = {"KTP-el", "Kartu Keluarga", "Akta"};
static const char *const k_inds[] = {"DOC", "LYN"};
static const char *const k_status[] = {"draft", "submitted", "approved", "rejected", NULL};
static const char *const k_roles[] = {"atasan", "rekan", "bawahan"};
static const char *const k_periods[] = {"2026", "2026-Q1", "2026-Q2", "2026-01", "2026-04"};
#define NNIPS 6

static void nip(char *out, unsigned i) {
  snprintf(out, 19, "198503012020111%03u", i + 1);
}

static const char *pick(const char *const *a, unsigned n) {
  return a[rnd(n)];
}

static void date(char *out) {
  /* January to May 2026, weekends included */
  snprintf(out, 11, "2026-%02u-%02u", rnd(5) + 1, rnd(28) + 1);
}

static void set(kj_record *r, const char *name, const char *v) {
  kj_err e;
  assert_int_equal(kj_record_set_named(r, name, v, &e), KJ_OK);
}

static void seti(kj_record *r, const char *name, unsigned lo, unsigned hi) {
  char b[16];
  snprintf(b, sizeof b, "%u", lo + rnd(hi - lo + 1));
  set(r, name, b);
}

/* fill (or refill, for an edit) the fields of r at random */
static void randomize(kj_record *r) {
  char b[32];
  switch (r->type) {
  case KJ_T_OFFICE:
    set(r, "name", rnd(2) ? "Kantor A" : "Kantor B");
    if (rnd(2))
      seti(r, "population", 50, 5000);
    else
      set(r, "population", NULL);
    break;
  case KJ_T_EMPLOYEE:
    set(r, "office", pick(k_offices, 3));
    set(r, "name", rnd(2) ? "Ani" : "Budi");
    break;
  case KJ_T_SURVEY:
    set(r, "office", pick(k_offices, 3));
    date(b);
    set(r, "date", b);
    set(r, "service", pick(k_services, 3));
    for (int i = 1; i <= 9; i++) {
      char n[4];
      snprintf(n, sizeof n, "u%d", i);
      seti(r, n, 1, 4);
    }
    break;
  case KJ_T_ACTIVITY:
    set(r, "office", pick(k_offices, 3));
    nip(b, rnd(NNIPS));
    set(r, "nip", b);
    date(b);
    set(r, "date", b);
    set(r, "indicator", pick(k_inds, 2));
    if (rnd(4)) /* small; else near the old bound (stored records may carry
                   it): the (hi, lo) sums carry and borrow */
      snprintf(b, sizeof b, "%u.%u", rnd(20), rnd(1000));
    else
      snprintf(b, sizeof b, "%u%011u.%06u", 1 + rnd(9), rnd(1000000000) * 100 + rnd(100),
               rnd(1000000));
    set(r, "quantity", b);
    set(r, "status", pick(k_status, 5));
    break;
  case KJ_T_COMPLAINT: {
    set(r, "office", pick(k_offices, 3));
    date(b);
    set(r, "received", b);
    if (rnd(3)) {
      kj_day d;
      kj_date_parse(b, &d);
      char o[11];
      kj_date_format(d + (kj_day)rnd(12), o);
      set(r, "resolved", o);
    } else {
      set(r, "resolved", NULL);
    }
    break;
  }
  case KJ_T_RATING:
    set(r, "office", pick(k_offices, 3));
    set(r, "period", pick(k_periods, 5));
    nip(b, rnd(NNIPS));
    set(r, "rater", b);
    nip(b, rnd(NNIPS));
    set(r, "ratee", b);
    set(r, "role", pick(k_roles, 3));
    for (int i = 1; i <= 7; i++) {
      char n[4];
      snprintf(n, sizeof n, "s%d", i);
      seti(r, n, 1, 5);
    }
    break;
  case KJ_T_TARGET:
    set(r, "office", pick(k_offices, 3));
    nip(b, rnd(NNIPS));
    set(r, "nip", b);
    set(r, "indicator", pick(k_inds, 2));
    set(r, "period", pick(k_periods, 5));
    if (rnd(4))
      seti(r, "target", 1, 50);
    else {
      snprintf(b, sizeof b, "%u%011u.%06u", 1 + rnd(9), rnd(1000000000) * 100 + rnd(100),
               rnd(1000000));
      set(r, "target", b);
    }
    if (rnd(2))
      seti(r, "weight", 1, 3);
    else
      set(r, "weight", NULL);
    break;
  default:
    break;
  }
}

/* only some fields move in an edit */
static void edit(kj_record *r) {
  kj_record fresh;
  kj_record_init(&fresh, r->type);
  randomize(&fresh);
  const kj_type_def *t = kj_type(r->type);
  for (int i = 0; i < t->nfields; i++)
    if (rnd(3) == 0 && (fresh.v[i] || rnd(2)))
      kj_record_set(r, i, fresh.v[i]);
  kj_record_release(&fresh);
}

static char *report_all(sqlite3 *db, const kjs_score_config *cfg) {
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  for (int p = 0; p < 5; p++) {
    assert_int_equal(
        kjs_report_offices(kjs_score_sqlite(db), cfg, k_periods[p], "2026-03-15", &b, &e), 0);
    for (int o = 0; o < 3; o++)
      assert_int_equal(
          kjs_report_employees(kjs_score_sqlite(db), cfg, k_periods[p], k_offices[o], &b, &e), 0);
  }
  return kj_buf_detach(&b, NULL);
}

/* held: the survey sums held back within the transaction as kinerjad's
 * store does (score_sqlite.h kjs_score_sqlite_hold, flushed before COMMIT) */
static void run_as(unsigned long long seed, int nops, int held) {
  g_rng = seed;
  sqlite3 *db = kjt_db_open(":memory:");
  assert_non_null(db);
  char(*ids)[40] = calloc((size_t)nops + 16, sizeof *ids);
  kj_rtype *types = calloc((size_t)nops + 16, sizeof *types);
  int n = 0;
  static const kj_rtype k_types[] = {KJ_T_OFFICE,   KJ_T_EMPLOYEE, KJ_T_SURVEY,
                                     KJ_T_ACTIVITY, KJ_T_ACTIVITY, KJ_T_COMPLAINT,
                                     KJ_T_RATING,   KJ_T_TARGET,   KJ_T_SURVEY};
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  if (held)
    kjs_score_sqlite_hold(db);
  for (int op = 0; op < nops; op++) {
    unsigned what = n ? rnd(10) : 0;
    if (what < 5) { /* insert (master data: a small key space, so some are re-puts) */
      kj_rtype t = k_types[rnd(9)];
      kj_record r;
      kj_record_init(&r, t);
      if (t == KJ_T_OFFICE)
        snprintf(r.id, sizeof r.id, "%s", k_offices[rnd(3)]);
      else if (t == KJ_T_EMPLOYEE)
        nip(r.id, rnd(NNIPS));
      else
        snprintf(r.id, sizeof r.id, "00000000-0000-7000-8000-%012d", op);
      randomize(&r);
      assert_int_equal(kjt_put(db, &r), 0);
      snprintf(ids[n], sizeof ids[n], "%s", r.id);
      types[n++] = t;
      kj_record_release(&r);
    } else {
      int k = (int)rnd((unsigned)n);
      kj_record r;
      assert_int_equal(kjt_get(db, types[k], ids[k], &r), 0);
      if (what < 8) { /* edit, also bringing a deleted record back */
        r.deleted = 0;
        if (r.type == KJ_T_OFFICE || r.type == KJ_T_EMPLOYEE || !r.v[1])
          randomize(&r);
        else
          edit(&r);
        kj_err e;
        if (kj_record_validate(&r, &e) == KJ_OK) /* e.g. resolved before received */
          assert_int_equal(kjt_put(db, &r), 0);
      } else {
        assert_int_equal(kjt_delete(db, types[k], ids[k]), 0);
      }
      kj_record_release(&r);
    }
  }
  if (held) {
    kj_err fe;
    kj_err_clear(&fe);
    assert_int_equal(kjs_score_sqlite_flush(db, &fe), KJ_OK);
  }
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_score_config_set(&cfg, "score.holidays", "2026-01-01 2026-02-17", &e), 0);
  char *before = report_all(db, &cfg);
  kj_buf diffs;
  kj_buf_init(&diffs, KJ_BUF_UNLIMITED);
  int ndiff = -1;
  kj_code rc = kjs_score_sqlite_rebuild(db, 1, &diffs, &ndiff, &e);
  if (rc || ndiff)
    fprintf(stderr, "seed %llu:\n%s%s\n", seed, kj_buf_str(&diffs), e.msg);
  assert_int_equal(rc, KJ_OK);
  assert_int_equal(ndiff, 0);
  assert_int_equal(diffs.len, 0);
  /* rebuild in place: the same documents, byte for byte */
  assert_int_equal(kjs_score_sqlite_rebuild(db, 0, NULL, NULL, &e), KJ_OK);
  char *after = report_all(db, &cfg);
  assert_string_equal(before, after);
  free(before);
  free(after);
  kj_buf_release(&diffs);
  kjs_score_config_release(&cfg);
  free(ids);
  free(types);
  sqlite3_close(db);
}

static void run(unsigned long long seed, int nops) {
  run_as(seed, nops, 0);
}

static void test_random_sequences(void **state) {
  (void)state;
  for (unsigned long long seed = 1; seed <= 40; seed++)
    run(seed, 400);
  run(12345, 5000);
}

/* the same sequences with the survey sums held back to the commit: the
 * aggregates equal a recompute (adds and takes of one row netted, a row
 * back to zero dropped) */
static void test_random_sequences_held(void **state) {
  (void)state;
  for (unsigned long long seed = 1; seed <= 40; seed++)
    run_as(seed, 400, 1);
  run_as(12345, 5000, 1);
}

static long long count_rows(sqlite3 *db, const char *sql) {
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  long long n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

static kj_code sum_surveys(void *ctx, const kjs_sc_survey *v) {
  long long *seen = ctx;
  seen[0]++;
  seen[1] += v->n;
  return KJ_OK;
}

static void put_survey(sqlite3 *db, int i, const char *service, const char *day) {
  kj_record r;
  kj_record_init(&r, KJ_T_SURVEY);
  snprintf(r.id, sizeof r.id, "00000000-0000-7000-8000-%012d", i);
  randomize(&r);
  set(&r, "office", "36.73.01");
  set(&r, "service", service);
  set(&r, "date", day);
  assert_int_equal(kjt_put(db, &r), 0);
  kj_record_release(&r);
}

/* more rows than are held at once (written when full, then held again),
 * takes down to zero, a read of the scores inside the transaction (it sees
 * what is held), and a rollback that forgets what is held */
static void test_held_sums(void **state) {
  (void)state;
  g_rng = 11;
  sqlite3 *db = kjt_db_open(":memory:");
  assert_non_null(db);
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  kjs_score_sqlite_hold(db);
  char service[32];
  for (int i = 0; i < 600; i++) { /* 300 services, two surveys each */
    snprintf(service, sizeof service, "Layanan %d", i % 300);
    put_survey(db, i, service, i % 2 ? "2026-02-03" : "2026-02-04");
  }
  for (int i = 0; i < 600; i += 3) { /* 200 taken away: 100 rows back to zero */
    char id[40];
    snprintf(id, sizeof id, "00000000-0000-7000-8000-%012d", i);
    assert_int_equal(kjt_delete(db, KJ_T_SURVEY, id), 0);
  }
  /* a report's read inside the transaction writes what is held first */
  kjs_score_store *ss = kjs_score_sqlite(db);
  assert_non_null(ss);
  kj_err e;
  kj_err_clear(&e);
  long long seen[2] = {0, 0}; /* rows, surveys */
  assert_int_equal(ss->ops->surveys(ss->h, "36.73.01", 202602, 202602, sum_surveys, seen, &e),
                   KJ_OK);
  assert_int_equal(seen[0], 200);
  assert_int_equal(seen[1], 400);
  assert_int_equal(kjs_score_sqlite_flush(db, &e), KJ_OK);
  sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  /* survey i and i + 300 share a row: both gone when both i % 3 == 0 */
  assert_int_equal(count_rows(db, "SELECT sum(n) FROM sc_survey"), 400);
  assert_int_equal(count_rows(db, "SELECT count(*) FROM sc_survey WHERE n = 0"), 0);
  kj_buf d;
  kj_buf_init(&d, KJ_BUF_UNLIMITED);
  int ndiff = -1;
  assert_int_equal(kjs_score_sqlite_rebuild(db, 1, &d, &ndiff, &e), KJ_OK);
  if (ndiff)
    fprintf(stderr, "%s", kj_buf_str(&d));
  assert_int_equal(ndiff, 0);
  long long rows = count_rows(db, "SELECT count(*) FROM sc_survey");
  /* a rollback: what was held is forgotten, nothing reaches the table */
  sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
  kjs_score_sqlite_hold(db);
  put_survey(db, 1000, "Layanan baru", "2026-03-02");
  kjs_score_sqlite_discard(db);
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  assert_int_equal(count_rows(db, "SELECT count(*) FROM sc_survey"), rows);
  assert_int_equal(count_rows(db, "SELECT count(*) FROM sc_survey WHERE service = 'Layanan baru'"),
                   0);
  kj_buf_release(&d);
  sqlite3_close(db);
}

/* verify names a difference when an aggregate is tampered with */
static void test_verify_names_differences(void **state) {
  (void)state;
  g_rng = 7;
  sqlite3 *db = kjt_db_open(":memory:");
  kj_record r;
  kj_record_init(&r, KJ_T_SURVEY);
  snprintf(r.id, sizeof r.id, "00000000-0000-7000-8000-000000000001");
  randomize(&r);
  set(&r, "office", "36.73.01");
  set(&r, "service", "KTP-el");
  set(&r, "date", "2026-01-05");
  assert_int_equal(kjt_put(db, &r), 0);
  kj_record_release(&r);
  assert_int_equal(sqlite3_exec(db, "UPDATE sc_survey SET n = n + 1", NULL, NULL, NULL), SQLITE_OK);
  kj_buf d;
  kj_buf_init(&d, KJ_BUF_UNLIMITED);
  kj_err e;
  kj_err_clear(&e);
  int ndiff = 0;
  assert_int_equal(kjs_score_sqlite_rebuild(db, 1, &d, &ndiff, &e), KJ_OK);
  assert_int_equal(ndiff, 2);
  assert_int_equal(e.code, KJ_OK);
  assert_non_null(strstr(kj_buf_str(&d), "sc_survey: maintained only: office=36.73.01 ym=202601 "
                                         "service=KTP-el n=2"));
  assert_non_null(strstr(kj_buf_str(&d), "sc_survey: recomputed only: office=36.73.01 ym=202601 "
                                         "service=KTP-el n=1"));
  /* a rebuild repairs it */
  assert_int_equal(kjs_score_sqlite_rebuild(db, 0, NULL, NULL, &e), KJ_OK);
  kj_buf_reset(&d);
  assert_int_equal(kjs_score_sqlite_rebuild(db, 1, &d, &ndiff, &e), KJ_OK);
  assert_int_equal(ndiff, 0);
  kj_buf_release(&d);
  sqlite3_close(db);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_sequences),
      cmocka_unit_test(test_random_sequences_held),
      cmocka_unit_test(test_held_sums),
      cmocka_unit_test(test_verify_names_differences),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
