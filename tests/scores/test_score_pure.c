/* test_score_pure: the pure scoring module (server/score.c) with no
 * database at all: a fake score store (score_store.h) written in this file
 * logs every delta it is given and answers reads from rows held here.
 * What a record contributes (and what an edit, a delete or an unchanged
 * contribution costs), rounding half away from zero, and both report
 * documents built from plain rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score.h"

/* ---------------------------------------------------------------------- */
/* the fake store */

typedef struct fake {
  kj_buf log;        /* one line per write */
  char days[16][48]; /* actday keys "office|nip|day" and their counts */
  long long cnt[16];
  int ndays;
  int reads; /* read calls */
} fake;

static kj_code w_office_put(void *h, const kjs_sc_office *o, kj_err *err) {
  (void)err;
  kj_buf_addf(&((fake *)h)->log, "office_put %s %s %d %lld\n", o->code, o->name ? o->name : "-",
              o->have_pop, o->pop);
  return KJ_OK;
}
static kj_code w_office_del(void *h, const char *code, kj_err *err) {
  (void)err;
  kj_buf_addf(&((fake *)h)->log, "office_del %s\n", code);
  return KJ_OK;
}
static kj_code w_emp_put(void *h, const kjs_sc_emp *e, kj_err *err) {
  (void)err;
  kj_buf_addf(&((fake *)h)->log, "emp_put %s %s %s\n", e->nip, e->office, e->name);
  return KJ_OK;
}
static kj_code w_emp_del(void *h, const char *nip, kj_err *err) {
  (void)err;
  kj_buf_addf(&((fake *)h)->log, "emp_del %s\n", nip);
  return KJ_OK;
}
static kj_code w_survey_add(void *h, const char *office, long long ym, const char *service,
                            const long long u[9], int sign, kj_err *err) {
  (void)err;
  kj_buf *b = &((fake *)h)->log;
  kj_buf_addf(b, "survey_add %s %lld %s", office, ym, service);
  for (int i = 0; i < 9; i++)
    kj_buf_addf(b, "%c%lld", i ? ',' : ' ', u[i]);
  kj_buf_addf(b, " %+d\n", sign);
  return KJ_OK;
}
static kj_code w_cdays_add(void *h, const char *office, long long ym, long long days, int sign,
                           kj_err *err) {
  (void)err;
  kj_buf_addf(&((fake *)h)->log, "cdays_add %s %lld %lld %+d\n", office, ym, days, sign);
  return KJ_OK;
}
static kj_code w_real_add(void *h, const char *office, const char *nip, const char *indicator,
                          long long ym, long long qty, int sign, kj_err *err) {
  (void)err;
  kj_buf_addf(&((fake *)h)->log, "real_add %s %s %s %lld %lld %+d\n", office, nip, indicator, ym,
              qty, sign);
  return KJ_OK;
}
static kj_code w_actday_add(void *h, const char *office, const char *nip, long long day, int wd,
                            int sign, long long *cnt, kj_err *err) {
  (void)err;
  fake *f = h;
  char key[48];
  snprintf(key, sizeof key, "%s|%s|%lld", office, nip, day);
  int i = 0;
  while (i < f->ndays && strcmp(f->days[i], key) != 0)
    i++;
  if (i == f->ndays) {
    assert_true(f->ndays < 16);
    snprintf(f->days[f->ndays++], sizeof f->days[0], "%s", key);
  }
  f->cnt[i] += sign;
  *cnt = f->cnt[i];
  kj_buf_addf(&f->log, "actday_add %s %s %lld %d %+d\n", office, nip, day, wd, sign);
  return KJ_OK;
}
static kj_code w_actmonth_add(void *h, const char *office, const char *nip, long long ym, int sign,
                              kj_err *err) {
  (void)err;
  kj_buf_addf(&((fake *)h)->log, "actmonth_add %s %s %lld %+d\n", office, nip, ym, sign);
  return KJ_OK;
}
static kj_code w_target_add(void *h, const char *office, const char *nip, const char *period,
                            const char *indicator, long long target, long long weight, int sign,
                            kj_err *err) {
  (void)err;
  kj_buf_addf(&((fake *)h)->log, "target_add %s %s %s %s %lld %lld %+d\n", office, nip, period,
              indicator, target, weight, sign);
  return KJ_OK;
}
static kj_code w_rating_add(void *h, const char *office, const char *ratee, const char *period,
                            const char *role, long long total, int sign, kj_err *err) {
  (void)err;
  kj_buf_addf(&((fake *)h)->log, "rating_add %s %s %s %s %lld %+d\n", office, ratee, period, role,
              total, sign);
  return KJ_OK;
}

/* The rows of one office "A" for January 2026: two services, complaints
 * open / resolved in 2 days / two in 7 days, one employee N1 with one
 * target (10, weight 1) and 4 + 2 approved (plus another indicator's 5),
 * ratings 4.00 by the atasan and 3.00 by a peer, 11 employee-days of
 * activity in the month. */
static kj_code r_offices(void *h, kj_code (*each)(void *, const kjs_sc_office *), void *ctx,
                         kj_err *err) {
  (void)err;
  ((fake *)h)->reads++;
  const kjs_sc_office o = {"A", "Kantor A", 1, 1000};
  return each(ctx, &o);
}
static kj_code r_roster(void *h, const char *office, kj_code (*each)(void *, const kjs_sc_emp *),
                        void *ctx, kj_err *err) {
  (void)err;
  ((fake *)h)->reads++;
  assert_string_equal(office, "A");
  const kjs_sc_emp e = {"N1", "A", "Budi"};
  return each(ctx, &e);
}
static kj_code r_targets(void *h, const char *office, const char *nip, const char *period,
                         kj_code (*each)(void *, const kjs_sc_target *), void *ctx, kj_err *err) {
  (void)err;
  ((fake *)h)->reads++;
  assert_string_equal(office, "A");
  assert_string_equal(nip, "N1");
  assert_string_equal(period, "2026-01");
  const kjs_sc_target t = {"IND", {0, 10000000}, {0, 1000000}};
  return each(ctx, &t);
}
static kj_code r_reals(void *h, const char *office, const char *nip, long long ym_lo,
                       long long ym_hi, kj_code (*each)(void *, const kjs_sc_real *), void *ctx,
                       kj_err *err) {
  (void)err;
  ((fake *)h)->reads++;
  assert_string_equal(office, "A");
  assert_string_equal(nip, "N1");
  assert_int_equal(ym_lo, 202601);
  assert_int_equal(ym_hi, 202601);
  const kjs_sc_real rows[] = {
      {"IND", {0, 4000000}}, {"OTHER", {0, 5000000}}, {"IND", {0, 2000000}}};
  kj_code rc = KJ_OK;
  for (int i = 0; !rc && i < 3; i++)
    rc = each(ctx, &rows[i]);
  return rc;
}
static kj_code r_ratings(void *h, const char *office, const char *ratee, const char *period,
                         kj_code (*each)(void *, const kjs_sc_rating *), void *ctx, kj_err *err) {
  (void)err;
  ((fake *)h)->reads++;
  assert_string_equal(office, "A");
  assert_string_equal(ratee, "N1");
  assert_string_equal(period, "2026-01");
  const kjs_sc_rating rows[] = {{"atasan", 28, 1}, {"peer", 21, 1}};
  kj_code rc = each(ctx, &rows[0]);
  return rc ? rc : each(ctx, &rows[1]);
}
static kj_code r_surveys(void *h, const char *office, long long ym_lo, long long ym_hi,
                         kj_code (*each)(void *, const kjs_sc_survey *), void *ctx, kj_err *err) {
  (void)err;
  ((fake *)h)->reads++;
  assert_string_equal(office, "A");
  assert_int_equal(ym_lo, 202601);
  assert_int_equal(ym_hi, 202601);
  /* loket: two surveys answering 3 and 4 everywhere; pengaduan: one of 1s */
  const kjs_sc_survey a = {"loket", 2, {7, 7, 7, 7, 7, 7, 7, 7, 7}};
  const kjs_sc_survey b = {"pengaduan", 1, {1, 1, 1, 1, 1, 1, 1, 1, 1}};
  kj_code rc = each(ctx, &a);
  return rc ? rc : each(ctx, &b);
}
static kj_code r_cdays(void *h, const char *office, long long ym_lo, long long ym_hi,
                       kj_code (*each)(void *, const kjs_sc_cdays *), void *ctx, kj_err *err) {
  (void)err;
  ((fake *)h)->reads++;
  assert_string_equal(office, "A");
  (void)ym_lo;
  (void)ym_hi;
  const kjs_sc_cdays rows[] = {{-1, 1}, {2, 1}, {7, 2}};
  kj_code rc = KJ_OK;
  for (int i = 0; !rc && i < 3; i++)
    rc = each(ctx, &rows[i]);
  return rc;
}
static kj_code r_cmp_months(void *h, const char *office, long long ym_lo, long long ym_hi,
                            long long *out, kj_err *err) {
  (void)err;
  ((fake *)h)->reads++;
  assert_string_equal(office, "A");
  assert_int_equal(ym_lo, 202601);
  assert_int_equal(ym_hi, 202601); /* as of the month's last day: one full month */
  *out = 11;
  return KJ_OK;
}
static kj_code r_cmp_days(void *h, const char *office, long long lo, long long hi, long long *out,
                          kj_err *err) {
  (void)h;
  (void)office;
  (void)lo;
  (void)hi;
  (void)out;
  (void)err;
  fail_msg("no partial month as of 2026-01-31");
  return KJ_EDB;
}
static kj_code r_cmp_day(void *h, const char *office, long long day, long long *out, kj_err *err) {
  (void)h;
  (void)office;
  (void)day;
  (void)out;
  (void)err;
  fail_msg("no holidays configured");
  return KJ_EDB;
}

static const kjs_score_store_ops k_fake_ops = {
    w_office_put, w_office_del,   w_emp_put,    w_emp_del,    w_survey_add, w_cdays_add, w_real_add,
    w_actday_add, w_actmonth_add, w_target_add, w_rating_add, r_offices,    r_roster,    r_targets,
    r_reals,      r_ratings,      r_surveys,    r_cdays,      r_cmp_months, r_cmp_days,  r_cmp_day,
    NULL,         NULL,           NULL, /* no change counters: no report memo */
};

static void fake_init(fake *f, kjs_score_store *ss) {
  memset(f, 0, sizeof *f);
  kj_buf_init(&f->log, KJ_BUF_UNLIMITED);
  ss->ops = &k_fake_ops;
  ss->h = f;
}

/* a record of type t, id, "name=value" pairs (NULL-terminated); not
 * validated, so a test can give a field an unreadable value */
/* the end of mk()'s list: a typed null, as va_arg reads a const char * */
#define END ((const char *)NULL)

static void mk(kj_record *r, kj_rtype t, const char *id, ...) {
  kj_record_init(r, t);
  snprintf(r->id, sizeof r->id, "%s", id);
  va_list ap;
  va_start(ap, id);
  const char *kv;
  while ((kv = va_arg(ap, const char *))) {
    const char *eq = strchr(kv, '=');
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
    kj_err e;
    assert_int_equal(kj_record_set_named(r, name, eq + 1, &e), KJ_OK);
  }
  va_end(ap);
}

#define SURVEY(r, u1, comment)                                                                     \
  mk(r, KJ_T_SURVEY, "s1", "office=A", "date=2026-03-15", "service=loket", "u1=" u1, "u2=2",       \
     "u3=3", "u4=4", "u5=1", "u6=2", "u7=3", "u8=4", "u9=4", "comment=" comment, END)

/* ---------------------------------------------------------------------- */

/* A survey adds its answers to (office, month, service); an edit of a
 * scored field takes the old answers out and puts the new ones in; an edit
 * of an unscored field, or the same state again, writes nothing; a delete
 * takes the answers out. */
static void t_survey_contrib(void **state) {
  (void)state;
  fake f;
  kjs_score_store ss;
  fake_init(&f, &ss);
  kj_err e;
  kj_record a, b, c, d;
  SURVEY(&a, "1", "ok");
  SURVEY(&b, "4", "ok");
  SURVEY(&c, "4", "edited comment");
  assert_int_equal(kjs_score_update(&ss, NULL, &a, &e), KJ_OK);
  assert_string_equal(kj_buf_str(&f.log), "survey_add A 202603 loket 1,2,3,4,1,2,3,4,4 +1\n");
  kj_buf_reset(&f.log);
  assert_int_equal(kjs_score_update(&ss, &a, &b, &e), KJ_OK);
  assert_string_equal(kj_buf_str(&f.log), "survey_add A 202603 loket 1,2,3,4,1,2,3,4,4 -1\n"
                                          "survey_add A 202603 loket 4,2,3,4,1,2,3,4,4 +1\n");
  kj_buf_reset(&f.log);
  assert_int_equal(kjs_score_update(&ss, &b, &c, &e), KJ_OK);
  assert_int_equal(kjs_score_update(&ss, &c, &c, &e), KJ_OK);
  assert_string_equal(kj_buf_str(&f.log), "");
  assert_int_equal(kj_record_copy(&d, &c), KJ_OK);
  d.deleted = 1;
  assert_int_equal(kjs_score_update(&ss, &c, &d, &e), KJ_OK);
  assert_string_equal(kj_buf_str(&f.log), "survey_add A 202603 loket 4,2,3,4,1,2,3,4,4 -1\n");
  /* a NULL store fails only when something is to be written */
  assert_int_equal(kjs_score_update(NULL, &c, &c, &e), KJ_OK);
  assert_int_equal(kjs_score_update(NULL, NULL, &c, &e), KJ_ENOMEM);
  kj_record_release(&a);
  kj_record_release(&b);
  kj_record_release(&c);
  kj_record_release(&d);
  kj_buf_release(&f.log);
}

/* An approved activity adds its quantity * 1e6 to (office, nip, indicator,
 * month) and one to its day; the month's count of worked Monday-Friday
 * days moves only on a day's first activity and its last; a submitted one
 * adds no quantity; a Saturday counts no workday. */
static void t_activity_contrib(void **state) {
  (void)state;
  fake f;
  kjs_score_store ss;
  fake_init(&f, &ss);
  kj_err e;
  kj_record a1, a2, a3;
  /* 2026-03-16 is a Monday (kj_day 20528), 2026-03-21 a Saturday */
  mk(&a1, KJ_T_ACTIVITY, "a1", "office=A", "nip=N1", "date=2026-03-16", "indicator=IND",
     "quantity=2.5", "status=approved", END);
  mk(&a2, KJ_T_ACTIVITY, "a2", "office=A", "nip=N1", "date=2026-03-16", "indicator=IND",
     "quantity=1", "status=submitted", END);
  mk(&a3, KJ_T_ACTIVITY, "a3", "office=A", "nip=N1", "date=2026-03-21", "indicator=IND",
     "quantity=1", "status=submitted", END);
  kj_day mon, sat;
  assert_int_equal(kj_date_parse("2026-03-16", &mon), 0);
  assert_int_equal(kj_date_parse("2026-03-21", &sat), 0);
  assert_int_equal(kjs_score_update(&ss, NULL, &a1, &e), KJ_OK);
  assert_int_equal(kjs_score_update(&ss, NULL, &a2, &e), KJ_OK);
  assert_int_equal(kjs_score_update(&ss, NULL, &a3, &e), KJ_OK);
  assert_int_equal(kjs_score_update(&ss, &a1, NULL, &e), KJ_OK);
  assert_int_equal(kjs_score_update(&ss, &a2, NULL, &e), KJ_OK);
  char want[1024];
  snprintf(want, sizeof want,
           "real_add A N1 IND 202603 2500000 +1\n"
           "actday_add A N1 %lld 1 +1\n"
           "actmonth_add A N1 202603 +1\n"
           "actday_add A N1 %lld 1 +1\n"
           "actday_add A N1 %lld 0 +1\n"
           "real_add A N1 IND 202603 2500000 -1\n"
           "actday_add A N1 %lld 1 -1\n"
           "actday_add A N1 %lld 1 -1\n"
           "actmonth_add A N1 202603 -1\n",
           (long long)mon, (long long)mon, (long long)sat, (long long)mon, (long long)mon);
  assert_string_equal(kj_buf_str(&f.log), want);
  kj_record_release(&a1);
  kj_record_release(&a2);
  kj_record_release(&a3);
  kj_buf_release(&f.log);
}

/* Targets, ratings, complaints and master data: the keys and values each
 * contributes; a record whose scored field is unreadable contributes
 * nothing. */
static void t_other_contrib(void **state) {
  (void)state;
  fake f;
  kjs_score_store ss;
  fake_init(&f, &ss);
  kj_err e;
  kj_record r[7];
  mk(&r[0], KJ_T_TARGET, "t1", "office=A", "nip=N1", "period=2026-Q1", "indicator=IND",
     "target=12.5", END);
  mk(&r[1], KJ_T_RATING, "r1", "office=A", "ratee=N1", "period=2026", "role=atasan", "s1=1", "s2=2",
     "s3=3", "s4=4", "s5=5", "s6=1", "s7=2", END);
  mk(&r[2], KJ_T_COMPLAINT, "c1", "office=A", "received=2026-01-30", "resolved=2026-02-02", END);
  mk(&r[3], KJ_T_COMPLAINT, "c2", "office=A", "received=2026-01-30", END);
  mk(&r[4], KJ_T_OFFICE, "A", "name=Kantor A", "population=1200", END);
  mk(&r[5], KJ_T_EMPLOYEE, "N1", "name=Budi", "office=A", END);
  /* u1 out of 1..4: nothing */
  mk(&r[6], KJ_T_SURVEY, "s9", "office=A", "date=2026-03-15", "service=loket", "u1=5", "u2=2",
     "u3=3", "u4=4", "u5=1", "u6=2", "u7=3", "u8=4", "u9=4", END);
  for (int i = 0; i < 7; i++)
    assert_int_equal(kjs_score_update(&ss, NULL, &r[i], &e), KJ_OK);
  assert_int_equal(kjs_score_update(&ss, &r[4], NULL, &e), KJ_OK);
  assert_string_equal(kj_buf_str(&f.log), "target_add A N1 2026-Q1 IND 12500000 1000000 +1\n"
                                          "rating_add A N1 2026 atasan 18 +1\n"
                                          "cdays_add A 202601 3 +1\n"
                                          "cdays_add A 202601 -1 +1\n"
                                          "office_put A Kantor A 1 1200\n"
                                          "emp_put N1 A Budi\n"
                                          "office_del A\n");
  for (int i = 0; i < 7; i++)
    kj_record_release(&r[i]);
  kj_buf_release(&f.log);
}

/* Rounding to hundredths, half away from zero, on exact fractions. */
static void t_round(void **state) {
  (void)state;
  kj_err e;
  long long r;
  static const long long cases[][3] = {
      {1, 200, 1},       /* 0.005 -> 0.01 */
      {-1, 200, -1},     /* -0.005 -> -0.01 */
      {1, 201, 0},       /* 0.00497 -> 0.00 */
      {200, 3, 6667},    /* 66.666... -> 66.67 */
      {-200, 3, -6667},  /* away from zero */
      {2, -3, -67},      /* a negative denominator */
      {8750, 100, 8750}, /* exact */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(kjs_round2(cases[i][0], cases[i][1], &r, &e), KJ_OK);
    assert_int_equal(r, cases[i][2]);
  }
  assert_int_equal(kjs_round2(1, 0, &r, &e), KJ_EINVAL);
}

/* The office document built from the rows of r_* above. */
static void t_offices_from_rows(void **state) {
  (void)state;
  fake f;
  kjs_score_store ss;
  fake_init(&f, &ss);
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  kj_err e;
  kj_report_offices d;
  assert_int_equal(kjs_report_offices_build(&ss, &cfg, "2026-01", "2026-01-31", &d, &e), KJ_OK);
  assert_true(f.reads > 0);
  assert_string_equal(d.period, "2026-01");
  assert_string_equal(d.as_of, "2026-01-31");
  assert_int_equal(d.n, 1);
  kj_report_office *o = &d.offices[0];
  assert_string_equal(o->office, "A");
  assert_string_equal(o->name, "Kantor A");
  assert_int_equal(o->rank, 1);
  /* IKM: 25 * 72 / (9 * 3) = 66.67 (C); loket 87.50 (B), pengaduan 25.00 */
  assert_int_equal(o->ikm.n, 3);
  assert_int_equal(o->ikm.value, 6667);
  assert_string_equal(o->ikm.mutu, "C");
  assert_string_equal(o->ikm.kinerja, "Kurang Baik");
  assert_int_equal(o->ikm.nrr[0], 267); /* 8 / 3 */
  assert_int_equal(o->ikm.sample_min, 278);
  assert_int_equal(o->ikm.sample_ok, 0);
  assert_int_equal(o->nservices, 2);
  assert_string_equal(o->services[0].service, "loket");
  assert_int_equal(o->services[0].ikm, 8750);
  assert_string_equal(o->services[0].mutu, "B");
  assert_int_equal(o->services[1].ikm, 2500);
  assert_string_equal(o->services[1].mutu, "D");
  /* complaints: 4 received, 3 resolved (2, 7, 7 days), 1 within 5 days */
  assert_int_equal(o->complaints.received, 4);
  assert_int_equal(o->complaints.resolved, 3);
  assert_int_equal(o->complaints.on_time, 1);
  assert_int_equal(o->complaints.on_time_rate, 2500);
  assert_int_equal(o->complaints.median_days, 700);
  /* compliance: 11 employee-days of 1 x 22 workdays */
  assert_int_equal(o->compliance, 5000);
  /* N1: capaian 100 * 6 / 10 = 60, perilaku 0.6 * 4 + 0.4 * 3 = 3.6:
   * dibawah x diatas = Butuh Perbaikan */
  assert_int_equal(o->employees.count, 1);
  assert_int_equal(o->employees.capaian_mean, 6000);
  assert_int_equal(o->employees.predikat[KJS_PRED_BUTUH_PERBAIKAN], 1);
  /* IKK: 0.4 * 66.666.. + 0.3 * 60 + 0.15 * 25 + 0.15 * 50 = 55.9166.. */
  assert_int_equal(o->ikk, 5592);
  kj_report_offices_release(&d);
  /* nothing was written by a report */
  assert_string_equal(kj_buf_str(&f.log), "");
  kj_buf_release(&f.log);
  kjs_score_config_release(&cfg);
}

/* The employee document from the same rows. */
static void t_employees_from_rows(void **state) {
  (void)state;
  fake f;
  kjs_score_store ss;
  fake_init(&f, &ss);
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  kj_err e;
  kj_report_employees d;
  assert_int_equal(kjs_report_employees_build(&ss, &cfg, "2026-01", "A", &d, &e), KJ_OK);
  assert_int_equal(d.n, 1);
  kj_report_employee *x = &d.employees[0];
  assert_string_equal(x->nip, "N1");
  assert_string_equal(x->name, "Budi");
  assert_int_equal(x->capaian, 6000);
  assert_string_equal(x->rating_hasil_kerja, "dibawah");
  assert_int_equal(x->perilaku, 360);
  assert_string_equal(x->rating_perilaku, "diatas");
  assert_string_equal(x->predikat, "Butuh Perbaikan");
  assert_int_equal(x->ntargets, 1);
  assert_string_equal(x->targets[0].indicator, "IND");
  assert_true(x->targets[0].target == (kj_micro)10000000);
  assert_true(x->targets[0].realisasi == (kj_micro)6000000);
  assert_int_equal(x->targets[0].capaian, 6000);
  kj_report_employees_release(&d);
  /* a bad period is refused before any read; a NULL store is out of memory */
  int reads = f.reads;
  assert_int_equal(kjs_report_employees_build(&ss, &cfg, "2026-13", "A", &d, &e), KJ_EINVAL);
  assert_int_equal(f.reads, reads);
  kj_report_employees_release(&d);
  assert_int_equal(kjs_report_employees_build(NULL, &cfg, "2026-01", "A", &d, &e), KJ_ENOMEM);
  kj_report_employees_release(&d);
  kj_buf_release(&f.log);
  kjs_score_config_release(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_survey_contrib),    cmocka_unit_test(t_activity_contrib),
      cmocka_unit_test(t_other_contrib),     cmocka_unit_test(t_round),
      cmocka_unit_test(t_offices_from_rows), cmocka_unit_test(t_employees_from_rows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
