/* test_report_memo.c - the offices report assembled from the rows kept per
 * office between reports (the report memo, server/score.c; docs/scoring.md
 * "The report memo"): after a push to one office, a roster move, a delete,
 * a write through another instance of the store, a new epoch, a new day and
 * a holiday calendar change, the report equals a build from scratch byte
 * for byte, and kjs_report_memo_built shows which offices were built again
 * (the others reused).  Runs on SQLite, and on PostgreSQL as
 * test_report_memo_pg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hlc.h"
#include "score.h"
#include "test_app_util.h"

#define T0 1790000000000ULL /* 2026-09 */
#define OFFICE_C "36.73.03"
#define NIP1 "198001012005011001"
#define NIP2 "198502022010012002"

static int g_seq;

/* One change of type for id stamped T0 + seq ms, fields f (a JSON object's
 * members) or deleted (f NULL). */
static char *change(const char *type, const char *id, const char *f) {
  int seq = ++g_seq;
  char *s = malloc(1024);
  assert_non_null(s);
  if (f)
    snprintf(s, 1024, "{\"seq\":%d,\"id\":\"%s\",\"type\":\"%s\",\"hlc\":\"%llu\",\"f\":{%s}}", seq,
             id, type, (unsigned long long)KJ_HLC_MAKE(T0 + (unsigned long long)seq, 0), f);
  else
    snprintf(s, 1024, "{\"seq\":%d,\"id\":\"%s\",\"type\":\"%s\",\"hlc\":\"%llu\",\"del\":true}",
             seq, id, type, (unsigned long long)KJ_HLC_MAKE(T0 + (unsigned long long)seq, 0));
  return s;
}

static char *survey(int k, const char *office, const char *date, int u1) {
  char id[64], f[400];
  snprintf(id, sizeof id, "0190c2a4-7d1e-7b3a-9c41-0000000002%02d", k);
  snprintf(f, sizeof f,
           "\"office\":\"%s\",\"date\":\"%s\",\"service\":\"KK\",\"u1\":\"%d\",\"u2\":\"3\","
           "\"u3\":\"3\",\"u4\":\"3\",\"u5\":\"3\",\"u6\":\"3\",\"u7\":\"3\",\"u8\":\"3\",\"u9\":"
           "\"3\"",
           office, date, u1);
  return change("survey", id, f);
}

static char *employee(const char *nip, const char *office) {
  char f[200];
  snprintf(f, sizeof f, "\"name\":\"Pegawai %s\",\"office\":\"%s\"", nip + 14, office);
  return change("employee", nip, f);
}

static char *office_rec(const char *code, const char *name) {
  char f[200];
  snprintf(f, sizeof f, "\"name\":\"%s\",\"region\":\"Serang\"", name);
  return change("office", code, f);
}

/* The offices report of period as of as_of from s: built with the memo,
 * it equals the build from scratch; returns the offices built (not
 * reused) by the memo's build. */
static long check(kjs_store *s, const char *period, const char *as_of) {
  kj_err e;
  kj_err_clear(&e);
  kj_buf memo, scratch;
  kj_buf_init(&memo, KJ_BUF_UNLIMITED);
  kj_buf_init(&scratch, KJ_BUF_UNLIMITED);
  long b0 = kjs_report_memo_built();
  if (kjs_store_report_offices(s, period, as_of, &memo, &e))
    fail_msg("report %s: %s", period, e.msg);
  long built = kjs_report_memo_built() - b0;
  kjs_report_memo_enable(0);
  long b1 = kjs_report_memo_built();
  kj_code rc = kjs_store_report_offices(s, period, as_of, &scratch, &e);
  long all = kjs_report_memo_built() - b1;
  kjs_report_memo_enable(1);
  if (rc)
    fail_msg("report %s: %s", period, e.msg);
  assert_int_equal(all, 3); /* from scratch: every office */
  assert_string_equal(kj_buf_str(&memo), kj_buf_str(&scratch));
  kj_buf_release(&memo);
  kj_buf_release(&scratch);
  return built;
}

/* both periods; the offices built by the memo for each, checked */
static void expect(kjs_store *s, const char *as_of, long year, long month) {
  assert_int_equal(check(s, "2026", as_of), year);
  assert_int_equal(check(s, "2026-09", as_of), month);
}

static void test_memo(void **state) {
  (void)state;
  kjs_report_memo_enable(1);
  tapp *t = tapp_new();
  tpush1_applied(t, t->admin, office_rec(OFFICE_A, "Kasemen"));
  tpush1_applied(t, t->admin, office_rec(OFFICE_B, "Cipocok Jaya"));
  tpush1_applied(t, t->admin, office_rec(OFFICE_C, "Banyumanik"));
  tpush1_applied(t, t->admin, employee(NIP1, OFFICE_A));
  tpush1_applied(t, t->admin, employee(NIP2, OFFICE_B));
  tpush1_applied(t, t->dev_a, survey(1, OFFICE_A, "2026-09-02", 4));
  tpush1_applied(t, t->dev_a, survey(2, OFFICE_A, "2026-08-10", 2));
  tpush1_applied(t, t->dev_b, survey(3, OFFICE_B, "2026-09-03", 3));
  tpush1_applied(t, t->dev_b, survey(4, OFFICE_B, "2026-09-04", 1));

  const char *day = "2026-09-20";
  expect(t->store, day, 3, 3); /* cold: every office */
  expect(t->store, day, 0, 0); /* nothing changed: every office reused */

  /* a push to one office: that office only */
  tpush1_applied(t, t->dev_a, survey(5, OFFICE_A, "2026-09-05", 1));
  expect(t->store, day, 1, 1);

  /* a roster move: the office left and the office joined */
  tpush1_applied(t, t->admin, employee(NIP1, OFFICE_B));
  expect(t->store, day, 2, 2);

  /* a delete */
  tpush1_applied(t, t->dev_b, change("survey", "0190c2a4-7d1e-7b3a-9c41-000000000204", NULL));
  expect(t->store, day, 1, 1);

  /* a write through another instance of the store (its own connections;
   * on PostgreSQL another kinerjad on the same database) */
  tapp t2 = *t;
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_store_open(&t2.store, t->cfg.db_file, &t->cfg, 0, &e), KJ_OK);
  kjs_app_init(&t2.app, t2.store, &t->cfg);
  tpush1_applied(&t2, t->dev_b, survey(6, OFFICE_B, "2026-09-07", 4));
  kjs_store_close(t2.store);
  expect(t->store, day, 1, 1);

  /* a new epoch (a restore found by a device that read past the end):
   * nothing kept is used */
  char ep[KJ_INCARNATION_MAX + 1], ep2[KJ_INCARNATION_MAX + 1];
  kjs_store_epoch(t->store, ep);
  int64_t safe = 0;
  assert_int_equal(kjs_store_pull_since(t->store, ep, 1000000, &safe, &e), KJ_OK);
  kjs_store_epoch(t->store, ep2);
  assert_string_not_equal(ep, ep2);
  expect(t->store, day, 3, 3);
  expect(t->store, day, 0, 0);

  /* a new day (working days so far, overdue complaints) */
  expect(t->store, "2026-09-21", 3, 3);
  expect(t->store, "2026-09-21", 0, 0);

  /* the holiday calendar changes (kinerjad.conf's score.holidays, read
   * when the store opens): every office built again */
  kjs_store_close(t->store);
  char **k = realloc(t->cfg.score_keys, (size_t)(t->cfg.nscore + 1) * sizeof *k);
  assert_non_null(k);
  t->cfg.score_keys = k;
  char **v = realloc(t->cfg.score_values, (size_t)(t->cfg.nscore + 1) * sizeof *v);
  assert_non_null(v);
  t->cfg.score_values = v;
  k[t->cfg.nscore] = strdup("score.holidays");
  v[t->cfg.nscore] = strdup("2026-09-10");
  t->cfg.nscore++;
  assert_int_equal(kjs_store_open(&t->store, t->cfg.db_file, &t->cfg, 0, &e), KJ_OK);
  kjs_app_init(&t->app, t->store, &t->cfg);
  expect(t->store, "2026-09-21", 3, 3);
  expect(t->store, "2026-09-21", 0, 0);
  /* and a push after it: one office again */
  tpush1_applied(t, t->dev_a, survey(7, OFFICE_A, "2026-09-11", 2));
  expect(t->store, "2026-09-21", 1, 1);

  tapp_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_memo)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
