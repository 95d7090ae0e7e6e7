/* test_formulas: each formula of domain.md "Scores" at its edges: rounding
 * half away from zero, grade boundaries, sample size, median, on-time
 * boundary, capaian cap, split targets, perilaku, IKK weight rescaling,
 * compliance, configuration keys. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "score_util.h"

static int g_id;

/* a record of type t with the given "name=value" pairs, NULL-terminated */
static void put(sqlite3 *db, kj_rtype t, const char *id, ...) {
  kj_record r;
  kj_record_init(&r, t);
  char buf[64];
  if (!id) {
    snprintf(buf, sizeof buf, "00000000-0000-7000-8000-%012d", ++g_id);
    id = buf;
  }
  assert_true(strlen(id) < sizeof r.id);
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
  if (kj_record_validate(&r, &e) != KJ_OK)
    fail_msg("invalid test record: %s", e.msg);
  assert_int_equal(kjt_put(db, &r), 0);
  kj_record_release(&r);
}

static cJSON *offices(sqlite3 *db, const kjs_score_config *cfg, const char *period,
                      const char *as_of) {
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  if (kjs_report_offices(kjs_score_sqlite(db), cfg, period, as_of, &b, &e))
    fail_msg("report: %s", e.msg);
  cJSON *j = cJSON_Parse(kj_buf_str(&b));
  kj_buf_release(&b);
  assert_non_null(j);
  return j;
}

static cJSON *employees(sqlite3 *db, const kjs_score_config *cfg, const char *period,
                        const char *office) {
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  if (kjs_report_employees(kjs_score_sqlite(db), cfg, period, office, &b, &e))
    fail_msg("report: %s", e.msg);
  cJSON *j = cJSON_Parse(kj_buf_str(&b));
  kj_buf_release(&b);
  assert_non_null(j);
  return j;
}

/* doc.offices[code] */
static const cJSON *office_of(const cJSON *doc, const char *code) {
  const cJSON *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "offices")) {
    if (!strcmp(cJSON_GetObjectItem(o, "office")->valuestring, code))
      return o;
  }
  fail_msg("office %s not in the report", code);
  return NULL;
}

static const cJSON *at(const cJSON *o, const char *path) {
  char p[128];
  snprintf(p, sizeof p, "%s", path);
  for (char *k = strtok(p, "."); k; k = strtok(NULL, ".")) {
    o = cJSON_GetObjectItem(o, k);
    if (!o)
      fail_msg("no '%s' in '%s'", k, path);
  }
  return o;
}

#define ASSERT_NUM(o, path, v) assert_float_equal(at(o, path)->valuedouble, (v), 1e-9)
#define ASSERT_STR(o, path, v) assert_string_equal(at(o, path)->valuestring, (v))
#define ASSERT_NULL(o, path) assert_true(cJSON_IsNull(at(o, path)))

static long long round2(long long n, long long d) {
  long long r = -1;
  kj_err e;
  assert_int_equal(kjs_round2(n, d, &r, &e), KJ_OK);
  return r;
}

static void test_round2(void **state) {
  (void)state;
  assert_int_equal(round2(82345, 1000), 8235);   /* 82.345 -> 82.35 */
  assert_int_equal(round2(-82345, 1000), -8235); /* away from zero */
  assert_int_equal(round2(82344, 1000), 8234);
  assert_int_equal(round2(28125, 1000), 2813); /* binary exact, printf would give 28.12 */
  assert_int_equal(round2(5, 1000), 1);
  assert_int_equal(round2(4999999, 1000000000), 0);
  assert_int_equal(round2(1, 3), 33);
  assert_int_equal(round2(2, 3), 67);
  assert_int_equal(round2(-1, 3), -33);
  assert_int_equal(round2(7, 1), 700);
  /* a result beyond long long is an error, not a wrapped number */
  long long r = 42;
  kj_err e;
  assert_int_equal(kjs_round2(LLONG_MAX / 50, 1, &r, &e), KJ_ETOOBIG);
  assert_int_equal(r, 42);
  assert_non_null(strstr(e.msg, "out of range"));
  assert_int_equal(kjs_round2(1, 0, &r, &e), KJ_EINVAL);
}

static void test_sample_min(void **state) {
  (void)state;
  assert_int_equal(kjs_sample_min(100), 80);
  assert_int_equal(kjs_sample_min(1000), 278);
  assert_int_equal(kjs_sample_min(10000), 370);
  assert_int_equal(kjs_sample_min(1), 1);
  assert_int_equal(kjs_sample_min(1000000000), 384);
}

static void test_parse_dec6(void **state) {
  (void)state;
  long long v;
  assert_int_equal(kjs_parse_dec6("12", &v, NULL), KJ_OK);
  assert_int_equal(v, 12000000);
  assert_int_equal(kjs_parse_dec6("0.5", &v, NULL), KJ_OK);
  assert_int_equal(v, 500000);
  assert_int_equal(kjs_parse_dec6("1.000001", &v, NULL), KJ_OK);
  assert_int_equal(v, 1000001);
  assert_int_equal(kjs_parse_dec6("1.0000001", &v, NULL), KJ_EINVAL);
  assert_int_equal(kjs_parse_dec6("", &v, NULL), KJ_EINVAL);
  assert_int_equal(kjs_parse_dec6(".5", &v, NULL), KJ_EINVAL);
  assert_int_equal(kjs_parse_dec6("5.", &v, NULL), KJ_EINVAL);
  assert_int_equal(kjs_parse_dec6("1e3", &v, NULL), KJ_EINVAL);
  kj_err e;
  assert_int_equal(kjs_parse_dec6("1.0000001", &v, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "'1.0000001' has more than 6 decimals");
}

/* n surveys of one service whose answers add up to S (9n <= S <= 36n) */
static void add_surveys(sqlite3 *db, const char *office, const char *service, const char *date,
                        int n, int S) {
  int extra = S - 9 * n;
  for (int i = 0; i < n; i++) {
    char u[9][16];
    for (int k = 0; k < 9; k++) {
      int add = extra > 3 ? 3 : extra;
      extra -= add;
      snprintf(u[k], sizeof u[k], "u%d=%d", k + 1, 1 + add);
    }
    char of[64], sv[64], dt[32];
    snprintf(of, sizeof of, "office=%s", office);
    snprintf(sv, sizeof sv, "service=%s", service);
    snprintf(dt, sizeof dt, "date=%s", date);
    put(db, KJ_T_SURVEY, NULL, of, sv, dt, u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8],
        (const char *)NULL);
  }
  assert_int_equal(extra, 0);
}

/* smallest n <= 60 and S with round2(25 S / 9n) == want (hundredths) */
static int find_ns(long long want, int *n_out, int *s_out) {
  for (int n = 1; n <= 60; n++)
    for (int S = 9 * n; S <= 36 * n; S++)
      if (round2(25LL * S, 9LL * n) == want) {
        *n_out = n;
        *s_out = S;
        return 0;
      }
  return -1;
}

static void test_ikm_grades(void **state) {
  (void)state;
  static const struct {
    long long h;
    const char *mutu, *kinerja;
  } cases[] = {{6499, "D", "Tidak Baik"}, {6500, "C", "Kurang Baik"}, {7660, "C", "Kurang Baik"},
               {7661, "B", "Baik"},       {8830, "B", "Baik"},        {8831, "A", "Sangat Baik"},
               {2813, "D", "Tidak Baik"}};
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    sqlite3 *db = kjt_db_open(":memory:");
    put(db, KJ_T_OFFICE, "X1", "name=Kantor", "population=100", (const char *)NULL);
    int n = 0, S = 0;
    if (cases[i].h == 2813) { /* exactly 28.125: n = 8, S = 81 */
      n = 8;
      S = 81;
    } else {
      assert_int_equal(find_ns(cases[i].h, &n, &S), 0);
    }
    add_surveys(db, "X1", "KTP-el", "2026-02-10", n, S);
    cJSON *doc = offices(db, &cfg, "2026-Q1", "2026-03-31");
    const cJSON *o = office_of(doc, "X1");
    ASSERT_NUM(o, "ikm.value", cases[i].h / 100.0);
    ASSERT_STR(o, "ikm.mutu", cases[i].mutu);
    ASSERT_STR(o, "ikm.kinerja", cases[i].kinerja);
    ASSERT_NUM(o, "ikm.n", n);
    ASSERT_NUM(o, "ikm.sample_min", 80);
    assert_false(cJSON_IsTrue(at(o, "ikm.sample_ok")));
    const cJSON *sv = cJSON_GetArrayItem(at(o, "services"), 0);
    ASSERT_NUM(sv, "ikm", cases[i].h / 100.0);
    ASSERT_STR(sv, "mutu", cases[i].mutu);
    /* the only component: IKK = IKM */
    ASSERT_NUM(o, "ikk", cases[i].h / 100.0);
    cJSON_Delete(doc);
    /* other periods do not see it */
    doc = offices(db, &cfg, "2026-Q2", "2026-06-30");
    o = office_of(doc, "X1");
    ASSERT_NULL(o, "ikm.value");
    ASSERT_NULL(o, "ikk");
    cJSON_Delete(doc);
    sqlite3_close(db);
  }
  kjs_score_config_release(&cfg);
}

static void complaint(sqlite3 *db, const char *received, const char *resolved) {
  char rc[32], rs[32];
  snprintf(rc, sizeof rc, "received=%s", received);
  snprintf(rs, sizeof rs, "resolved=%s", resolved ? resolved : "");
  if (resolved)
    put(db, KJ_T_COMPLAINT, NULL, "office=X1", rc, rs, (const char *)NULL);
  else
    put(db, KJ_T_COMPLAINT, NULL, "office=X1", rc, (const char *)NULL);
}

static void test_complaints(void **state) {
  (void)state;
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  sqlite3 *db = kjt_db_open(":memory:");
  put(db, KJ_T_OFFICE, "X1", "name=Kantor", (const char *)NULL);
  cJSON *doc = offices(db, &cfg, "2026-03", "2026-03-31");
  const cJSON *o = office_of(doc, "X1");
  ASSERT_NUM(o, "complaints.received", 0);
  ASSERT_NULL(o, "complaints.on_time_rate");
  ASSERT_NULL(o, "complaints.median_days");
  ASSERT_NULL(o, "ikk");
  cJSON_Delete(doc);

  complaint(db, "2026-03-01", "2026-03-06"); /* 5 days: on time */
  complaint(db, "2026-03-01", "2026-03-07"); /* 6 days: late */
  complaint(db, "2026-03-10", NULL);         /* open */
  doc = offices(db, &cfg, "2026-03", "2026-03-31");
  o = office_of(doc, "X1");
  ASSERT_NUM(o, "complaints.received", 3);
  ASSERT_NUM(o, "complaints.resolved", 2);
  ASSERT_NUM(o, "complaints.on_time", 1);
  ASSERT_NUM(o, "complaints.on_time_rate", 33.33);
  ASSERT_NUM(o, "complaints.median_days", 5.5); /* even: mean of the middle two */
  ASSERT_NUM(o, "ikk", 33.33);                  /* the only component */
  cJSON_Delete(doc);

  complaint(db, "2026-03-02", "2026-03-02"); /* 0 days */
  doc = offices(db, &cfg, "2026-03", "2026-03-31");
  o = office_of(doc, "X1");
  ASSERT_NUM(o, "complaints.median_days", 5); /* odd: 0 5 6 */
  ASSERT_NUM(o, "complaints.on_time_rate", 50);
  cJSON_Delete(doc);

  /* the on-time limit is configurable */
  kj_err e;
  assert_int_equal(kjs_score_config_set(&cfg, "score.complaint_on_time_days", "6", &e), 0);
  doc = offices(db, &cfg, "2026-03", "2026-03-31");
  ASSERT_NUM(office_of(doc, "X1"), "complaints.on_time", 3);
  cJSON_Delete(doc);
  /* received in another period: not counted */
  doc = offices(db, &cfg, "2026-04", "2026-04-30");
  ASSERT_NUM(office_of(doc, "X1"), "complaints.received", 0);
  cJSON_Delete(doc);
  sqlite3_close(db);
  kjs_score_config_release(&cfg);
}

#define NIP1 "198503012020112001"
#define NIP2 "196604102014071002"
#define NIP3 "197504071996061003"

static void activity(sqlite3 *db, const char *nip, const char *date, const char *ind,
                     const char *qty, const char *status) {
  char a[40], b[32], c[48], d[40], s[32];
  snprintf(a, sizeof a, "nip=%s", nip);
  snprintf(b, sizeof b, "date=%s", date);
  snprintf(c, sizeof c, "indicator=%s", ind);
  snprintf(d, sizeof d, "quantity=%s", qty);
  snprintf(s, sizeof s, "status=%s", status);
  put(db, KJ_T_ACTIVITY, NULL, "office=X1", a, b, c, d, s, (const char *)NULL);
}

static void rating(sqlite3 *db, const char *period, const char *ratee, const char *role,
                   const int s[7]) {
  char p[32], r[40], ro[32], v[7][8];
  snprintf(p, sizeof p, "period=%s", period);
  snprintf(r, sizeof r, "ratee=%s", ratee);
  snprintf(ro, sizeof ro, "role=%s", role);
  for (int i = 0; i < 7; i++)
    snprintf(v[i], sizeof v[i], "s%d=%d", i + 1, s[i]);
  put(db, KJ_T_RATING, NULL, "office=X1", p, "rater=" NIP3, r, ro, v[0], v[1], v[2], v[3], v[4],
      v[5], v[6], (const char *)NULL);
}

static const cJSON *emp_of(const cJSON *doc, const char *nip) {
  const cJSON *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "employees")) {
    if (!strcmp(cJSON_GetObjectItem(o, "nip")->valuestring, nip))
      return o;
  }
  fail_msg("employee %s not in the report", nip);
  return NULL;
}

static void test_employee_scores(void **state) {
  (void)state;
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  sqlite3 *db = kjt_db_open(":memory:");
  put(db, KJ_T_OFFICE, "X1", "name=Kantor", (const char *)NULL);
  put(db, KJ_T_EMPLOYEE, NIP1, "name=Satu", "office=X1", (const char *)NULL);
  put(db, KJ_T_EMPLOYEE, NIP2, "name=Dua", "office=X1", (const char *)NULL);
  put(db, KJ_T_EMPLOYEE, NIP3, "name=Tiga", "office=X1", (const char *)NULL);
  /* NIP1: split target on DOC (10 + 10, weights 1 + 2), LYN 5 weight 1 */
  put(db, KJ_T_TARGET, NULL, "office=X1", "nip=" NIP1, "indicator=DOC", "period=2026-Q1",
      "target=10", (const char *)NULL);
  put(db, KJ_T_TARGET, NULL, "office=X1", "nip=" NIP1, "indicator=DOC", "period=2026-Q1",
      "target=10", "weight=2", (const char *)NULL);
  put(db, KJ_T_TARGET, NULL, "office=X1", "nip=" NIP1, "indicator=LYN", "period=2026-Q1",
      "target=5", (const char *)NULL);
  /* a target of another period is not counted */
  put(db, KJ_T_TARGET, NULL, "office=X1", "nip=" NIP1, "indicator=LYN", "period=2026", "target=500",
      (const char *)NULL);
  activity(db, NIP1, "2026-01-05", "DOC", "17.5", "approved");
  activity(db, NIP1, "2026-01-06", "DOC", "100", "submitted"); /* not approved */
  activity(db, NIP1, "2026-04-01", "DOC", "100", "approved");  /* outside the period */
  activity(db, NIP1, "2026-02-02", "LYN", "10", "approved");   /* 200% -> 120 */
  /* NIP2: capaian over 120 on its only target */
  put(db, KJ_T_TARGET, NULL, "office=X1", "nip=" NIP2, "indicator=DOC", "period=2026-Q1",
      "target=4", (const char *)NULL);
  activity(db, NIP2, "2026-03-02", "DOC", "8.0001", "approved");

  static const int s4[7] = {4, 4, 4, 4, 4, 4, 3}; /* 27/7 = 3.857 */
  static const int s2[7] = {2, 2, 2, 2, 2, 2, 2};
  static const int s3[7] = {3, 3, 3, 3, 3, 3, 4}; /* 22/7 */
  rating(db, "2026-Q1", NIP1, "atasan", s4);
  rating(db, "2026-Q1", NIP1, "rekan", s2);
  rating(db, "2026-Q1", NIP1, "bawahan", s3);
  rating(db, "2026-Q1", NIP2, "atasan", s2);
  rating(db, "2026-Q1", NIP3, "rekan", s4); /* no atasan: perilaku null */

  cJSON *doc = employees(db, &cfg, "2026-Q1", "X1");
  const cJSON *e1 = emp_of(doc, NIP1);
  /* DOC: 17.5 / 20 = 87.5 (weight 3), LYN: 120 (weight 1): (262.5 + 120) / 4 = 95.625 */
  ASSERT_NUM(e1, "capaian", 95.63);
  ASSERT_STR(e1, "rating_hasil_kerja", "sesuai");
  const cJSON *t0 = cJSON_GetArrayItem(at(e1, "targets"), 0);
  ASSERT_STR(t0, "indicator", "DOC");
  ASSERT_NUM(t0, "target", 20);
  ASSERT_NUM(t0, "realisasi", 17.5);
  ASSERT_NUM(t0, "capaian", 87.5);
  const cJSON *t1 = cJSON_GetArrayItem(at(e1, "targets"), 1);
  ASSERT_NUM(t1, "capaian", 120);
  /* perilaku 0.6 * 27/7 + 0.4 * (14 + 22)/14 = 3.3429 */
  ASSERT_NUM(e1, "perilaku", 3.34);
  ASSERT_STR(e1, "rating_perilaku", "sesuai");
  ASSERT_STR(e1, "predikat", "Baik");
  const cJSON *e2 = emp_of(doc, NIP2);
  ASSERT_NUM(e2, "capaian", 120);
  ASSERT_STR(e2, "rating_hasil_kerja", "diatas");
  ASSERT_NUM(e2, "perilaku", 2); /* atasan alone */
  ASSERT_STR(e2, "rating_perilaku", "dibawah");
  ASSERT_STR(e2, "predikat", "Kurang");
  ASSERT_NUM(cJSON_GetArrayItem(at(e2, "targets"), 0), "realisasi", 8.0001);
  const cJSON *e3 = emp_of(doc, NIP3);
  ASSERT_NULL(e3, "capaian");
  ASSERT_NULL(e3, "perilaku");
  ASSERT_NULL(e3, "predikat");
  assert_int_equal(cJSON_GetArraySize(at(e3, "targets")), 0);
  cJSON_Delete(doc);

  /* office: capaian_mean of min(capaian, 100): (95.625 + 100) / 2 = 97.8125 */
  doc = offices(db, &cfg, "2026-Q1", "2026-01-01");
  const cJSON *o = office_of(doc, "X1");
  ASSERT_NUM(o, "employees.count", 3);
  ASSERT_NUM(o, "employees.capaian_mean", 97.81);
  ASSERT_NUM(o, "employees.predikat.Baik", 1);
  ASSERT_NUM(o, "employees.predikat.Kurang", 1);
  ASSERT_NUM(o, "employees.predikat.Sangat Baik", 0);
  /* 2026-01-01 is a Thursday holiday-free workday without activity: compliance 0;
   * IKK rescaled over capaian (0.30) and compliance (0.15): 0.3*97.8125/0.45 = 65.21 */
  ASSERT_NUM(o, "compliance", 0);
  ASSERT_NUM(o, "ikk", 65.21);
  cJSON_Delete(doc);

  /* configuration: thresholds and the matrix */
  kj_err e;
  assert_int_equal(kjs_score_config_set(&cfg, "score.hasil_kerja.sesuai", "96", &e), 0);
  assert_int_equal(kjs_score_config_set(&cfg, "score.predikat.dibawah.sesuai", "Kurang", &e), 0);
  assert_int_equal(kjs_score_config_set(&cfg, "score.perilaku.weight_atasan", "1", &e), 0);
  assert_int_equal(kjs_score_config_set(&cfg, "score.perilaku.weight_others", "0", &e), 0);
  doc = employees(db, &cfg, "2026-Q1", "X1");
  e1 = emp_of(doc, NIP1);
  ASSERT_STR(e1, "rating_hasil_kerja", "dibawah");
  ASSERT_NUM(e1, "perilaku", 3.86);
  ASSERT_STR(e1, "rating_perilaku", "diatas");
  ASSERT_STR(e1, "predikat", "Butuh Perbaikan");
  cJSON_Delete(doc);
  sqlite3_close(db);
  kjs_score_config_release(&cfg);
}

/* 30 employees whose targets are distinct primes: the exact capaian_mean has
 * a 167-bit denominator (beyond 128-bit fractions) */
static void test_big_fractions(void **state) {
  (void)state;
  static const int ps[30] = {3,  7,  11, 13, 17, 19, 23, 29, 31,  37,  41,  43,  47,  53,  59,
                             61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131};
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  sqlite3 *db = kjt_db_open(":memory:");
  put(db, KJ_T_OFFICE, "X1", "name=Kantor", (const char *)NULL);
  for (int i = 0; i < 30; i++) {
    char nip[19], a[40], t1[32], t2[32];
    snprintf(nip, sizeof nip, "198503012020111%03d", i + 1);
    put(db, KJ_T_EMPLOYEE, nip, "name=P", "office=X1", (const char *)NULL);
    snprintf(a, sizeof a, "nip=%s", nip);
    snprintf(t1, sizeof t1, "target=%d", ps[i]);
    snprintf(t2, sizeof t2, "target=%d", ps[(i + 1) % 30]);
    put(db, KJ_T_TARGET, NULL, "office=X1", a, "indicator=A", "period=2026", t1,
        (const char *)NULL);
    put(db, KJ_T_TARGET, NULL, "office=X1", a, "indicator=B", "period=2026", t2, "weight=2",
        (const char *)NULL);
    activity(db, nip, "2026-01-05", "A", "1", "approved");
    activity(db, nip, "2026-01-05", "B", "1", "approved");
  }
  cJSON *doc = offices(db, &cfg, "2026", "2025-12-31");
  const cJSON *o = office_of(doc, "X1");
  ASSERT_NUM(o, "employees.capaian_mean", 3.88); /* Python fractions */
  ASSERT_NULL(o, "compliance");
  ASSERT_NUM(o, "ikk", 3.88);
  cJSON_Delete(doc);
  doc = employees(db, &cfg, "2026", "X1");
  ASSERT_NUM(emp_of(doc, "198503012020111001"), "capaian", 20.63);
  ASSERT_NUM(emp_of(doc, "198503012020111030"), "capaian", 22.48);
  cJSON_Delete(doc);
  sqlite3_close(db);
  kjs_score_config_release(&cfg);
}

static void test_compliance(void **state) {
  (void)state;
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  sqlite3 *db = kjt_db_open(":memory:");
  put(db, KJ_T_OFFICE, "X1", "name=Kantor", (const char *)NULL);
  put(db, KJ_T_EMPLOYEE, NIP1, "name=Satu", "office=X1", (const char *)NULL);
  put(db, KJ_T_EMPLOYEE, NIP2, "name=Dua", "office=X1", (const char *)NULL);
  /* June 2026: 22 workdays (Mon 1 .. Tue 30) */
  activity(db, NIP1, "2026-06-01", "DOC", "1", "draft");
  activity(db, NIP1, "2026-06-01", "DOC", "1", "rejected"); /* same day: one pair */
  activity(db, NIP1, "2026-06-06", "DOC", "1", "approved"); /* Saturday: no workday */
  activity(db, NIP2, "2026-06-02", "DOC", "1", "submitted");
  activity(db, NIP2, "2026-06-17", "DOC", "1", "submitted");
  activity(db, NIP3, "2026-06-03", "DOC", "1", "submitted"); /* not on the roster */
  cJSON *doc = offices(db, &cfg, "2026-06", "2026-06-30");
  ASSERT_NUM(office_of(doc, "X1"), "compliance", 6.82); /* 3 / 44 */
  cJSON_Delete(doc);
  /* as_of inside the period: workdays 1..2 June */
  doc = offices(db, &cfg, "2026-06", "2026-06-02");
  ASSERT_NUM(office_of(doc, "X1"), "compliance", 50); /* 2 / 4 */
  ASSERT_STR(doc, "as_of", "2026-06-02");
  cJSON_Delete(doc);
  /* as_of before the period: no workdays */
  doc = offices(db, &cfg, "2026-06", "2026-05-31");
  ASSERT_NULL(office_of(doc, "X1"), "compliance");
  cJSON_Delete(doc);
  /* holidays leave the workdays and their pairs out */
  kj_err e;
  assert_int_equal(kjs_score_config_set(&cfg, "score.holidays", "2026-06-01, 2026-06-06", &e), 0);
  assert_int_equal(kjs_score_config_set(&cfg, "score.holidays", "2026-06-01", &e), 0);
  doc = offices(db, &cfg, "2026-06", "2026-06-30");
  ASSERT_NUM(office_of(doc, "X1"), "compliance", 4.76); /* 2 / 42 */
  cJSON_Delete(doc);
  /* a year: the whole of June counted, other months without activity */
  doc = offices(db, &cfg, "2026", "2026-12-31");
  /* 2026: 261 Monday-Friday days, minus 1 holiday = 260 */
  ASSERT_NUM(office_of(doc, "X1"), "compliance", round2(200, 520) / 100.0);
  cJSON_Delete(doc);
  sqlite3_close(db);
  kjs_score_config_release(&cfg);
}

static void test_rank_and_ties(void **state) {
  (void)state;
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  sqlite3 *db = kjt_db_open(":memory:");
  put(db, KJ_T_OFFICE, "B", "name=B", (const char *)NULL);
  put(db, KJ_T_OFFICE, "A", "name=A", (const char *)NULL);
  put(db, KJ_T_OFFICE, "C", "name=C", (const char *)NULL);
  put(db, KJ_T_OFFICE, "D", "name=D", (const char *)NULL);
  add_surveys(db, "B", "S", "2026-01-05", 2, 40);
  add_surveys(db, "A", "S", "2026-01-05", 2, 40);
  add_surveys(db, "D", "S", "2026-01-05", 1, 30);
  cJSON *doc = offices(db, &cfg, "2026", "2026-01-01");
  const char *order[] = {"D", "A", "B", "C"};
  for (int i = 0; i < 4; i++) {
    const cJSON *o = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "offices"), i);
    ASSERT_STR(o, "office", order[i]);
    if (i < 3)
      ASSERT_NUM(o, "rank", i + 1);
  }
  /* C has no data: last, and neither rank nor IKK (docs/scoring.md "Ranking") */
  ASSERT_NULL(office_of(doc, "C"), "rank");
  ASSERT_NULL(office_of(doc, "C"), "ikk");
  cJSON_Delete(doc);
  sqlite3_close(db);
  kjs_score_config_release(&cfg);
}

/* The trial's case: Kasemen has a roster but no record in November, so
 * its compliance would be 0 % of its workdays and its IKK 0.00, ranked
 * above nobody but still ranked (2), while the dashboard said "no data".
 * The report itself now leaves it unranked, after the ranked ones, and
 * the office after it keeps its rank number; the three outputs of the
 * CLI (table, CSV, JSON) say the same. */
static void test_no_data_unranked(void **state) {
  (void)state;
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  sqlite3 *db = kjt_db_open(":memory:");
  put(db, KJ_T_OFFICE, "A", "name=Kecamatan Cipocok", (const char *)NULL);
  put(db, KJ_T_OFFICE, "B", "name=Kecamatan Kasemen", (const char *)NULL);
  put(db, KJ_T_OFFICE, "C", "name=Kecamatan Taktakan", (const char *)NULL);
  put(db, KJ_T_EMPLOYEE, NIP1, "name=Satu", "office=B", (const char *)NULL);
  add_surveys(db, "A", "S", "2026-11-05", 2, 40);
  add_surveys(db, "C", "S", "2026-11-05", 1, 10); /* a low IKK, still data */
  cJSON *doc = offices(db, &cfg, "2026-11", "2026-11-30");
  const char *order[] = {"A", "C", "B"};
  for (int i = 0; i < 3; i++)
    ASSERT_STR(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "offices"), i), "office", order[i]);
  ASSERT_NUM(office_of(doc, "A"), "rank", 1);
  ASSERT_NUM(office_of(doc, "C"), "rank", 2);
  ASSERT_NULL(office_of(doc, "B"), "rank");
  ASSERT_NULL(office_of(doc, "B"), "ikk");
  ASSERT_NULL(office_of(doc, "B"), "compliance");
  ASSERT_NUM(office_of(doc, "B"), "employees.count", 1);
  cJSON_Delete(doc);
  char *buf = NULL;
  size_t len = 0;
  kj_err e;
  FILE *f = open_memstream(&buf, &len);
  char *a1[] = {"offices", "--period", "2026-11", "--as-of", "2026-11-30", "--csv"};
  assert_int_equal(kjs_score_cli_report(kjs_score_sqlite(db), &cfg, 6, a1, f, &e), 0);
  fflush(f);
  /* rank and IKK empty, compliance empty, last */
  const char *b = strstr(buf, "\n,B,Kecamatan Kasemen,,0,,,,");
  assert_non_null(b);
  const char *nl = strchr(b + 1, '\n');
  assert_true(nl && !nl[1]); /* the last row */
  assert_true(strstr(buf, "\n2,C,") && strstr(buf, "\n2,C,") < b);
  fclose(f);
  free(buf);
  f = open_memstream(&buf, &len);
  char *a2[] = {"offices", "--period", "2026-11", "--as-of", "2026-11-30"};
  assert_int_equal(kjs_score_cli_report(kjs_score_sqlite(db), &cfg, 5, a2, f, &e), 0);
  fflush(f);
  const char *line =
      strstr(buf, "\n   -  B            Kecamatan Kasemen                  -       -");
  if (!line)
    fail_msg("no unranked line for B in:\n%s", buf);
  assert_non_null(strstr(buf, "\n   2  C "));
  fclose(f);
  free(buf);
  sqlite3_close(db);
  kjs_score_config_release(&cfg);
}

static void test_config_keys(void **state) {
  (void)state;
  kjs_score_config c;
  kjs_score_config_defaults(&c);
  kj_err e;
  assert_int_equal(c.ontime_days, 5);
  assert_int_equal(c.hk_diatas, 11000);
  assert_int_equal(kjs_score_config_set(&c, "score.perilaku.diatas", "3.6", &e), 0);
  assert_int_equal(c.pl_diatas, 360);
  assert_int_equal(kjs_score_config_set(&c, "score.ikk.weight_ikm", "0.5", &e), 0);
  assert_int_equal(c.w_ikk[0], 500000);
  assert_int_not_equal(kjs_score_config_set(&c, "score.perilaku.diatas", "3.555", &e), 0);
  assert_string_equal(e.msg,
                      "'score.perilaku.diatas': must be a number >= 0 with at most 2 decimals");
  assert_int_not_equal(kjs_score_config_set(&c, "score.nope", "1", &e), 0);
  assert_string_equal(e.msg, "unknown key 'score.nope'");
  assert_int_not_equal(kjs_score_config_set(&c, "score.holidays", "2026-02-30", &e), 0);
  assert_int_not_equal(kjs_score_config_set(&c, "score.predikat.sesuai.diatas", "Bagus", &e), 0);
  assert_int_not_equal(kjs_score_config_set(&c, "score.predikat.x.diatas", "Baik", &e), 0);
  assert_int_equal(kjs_score_config_set(&c, "score.predikat.sesuai.diatas", "Sangat Baik", &e), 0);
  assert_int_equal(c.predikat[KJS_SESUAI][KJS_DIATAS], KJS_PRED_SANGAT_BAIK);
  assert_int_equal(kjs_score_config_set(&c, "score.holidays", "2026-01-01,2026-03-20", &e), 0);
  assert_int_equal(c.nholidays, 2);
  assert_int_equal(kjs_score_config_set(&c, "score.holidays", "", &e), 0);
  assert_int_equal(c.nholidays, 0);
  kjs_score_config_release(&c);
  kjs_score_config_release(NULL);
}

static void test_bad_arguments(void **state) {
  (void)state;
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  sqlite3 *db = kjt_db_open(":memory:");
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  assert_int_equal(kjs_report_offices(kjs_score_sqlite(db), &cfg, "2026-Q5", NULL, &b, &e),
                   KJ_EINVAL);
  assert_string_equal(e.msg, "invalid period '2026-Q5' (2026, 2026-Q1 or 2026-01)");
  assert_int_equal(kjs_report_offices(kjs_score_sqlite(db), &cfg, "2026", "2026-13-01", &b, &e),
                   KJ_EINVAL);
  assert_string_equal(e.msg, "invalid date '2026-13-01' (YYYY-MM-DD)");
  /* an empty database: an empty list */
  assert_int_equal(kjs_report_offices(kjs_score_sqlite(db), &cfg, "2026", "2026-01-31", &b, &e), 0);
  assert_string_equal(kj_buf_str(&b),
                      "{\"period\":\"2026\",\"as_of\":\"2026-01-31\",\"offices\":[]}\n");
  kj_buf_reset(&b);
  assert_int_equal(kjs_report_employees(kjs_score_sqlite(db), &cfg, "2026-01", "X", &b, &e), 0);
  assert_string_equal(kj_buf_str(&b),
                      "{\"period\":\"2026-01\",\"office\":\"X\",\"employees\":[]}\n");
  kj_buf_release(&b);
  sqlite3_close(db);
  kjs_score_config_release(&cfg);
}

/* The CLI formats: table, csv and json of the same document. */
static void test_cli(void **state) {
  (void)state;
  kjs_score_config cfg;
  kjs_score_config_defaults(&cfg);
  sqlite3 *db = kjt_db_open(":memory:");
  put(db, KJ_T_OFFICE, "X1", "name=Kantor, Satu", (const char *)NULL);
  add_surveys(db, "X1", "S", "2026-01-05", 1, 36);
  put(db, KJ_T_EMPLOYEE, NIP1, "name=Satu", "office=X1", (const char *)NULL);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  kj_err e;
  char *a1[] = {"offices", "--period", "2026", "--as-of", "2026-01-31", "--csv"};
  assert_int_equal(kjs_score_cli_report(kjs_score_sqlite(db), &cfg, 6, a1, f, &e), 0);
  fflush(f);
  assert_non_null(strstr(buf, "rank,office,name,ikk,"));
  assert_non_null(strstr(
      buf, "1,X1,\"Kantor, Satu\",72.73,1,100.00,A,Sangat Baik,,,0,0,0,,,0.00,1,,0,0,0,0,0\n"));
  fclose(f);
  free(buf);
  f = open_memstream(&buf, &len);
  char *a2[] = {"offices", "--period", "2026", "--as-of", "2026-01-31"};
  assert_int_equal(kjs_score_cli_report(kjs_score_sqlite(db), &cfg, 5, a2, f, &e), 0);
  fflush(f);
  assert_non_null(strstr(buf, "rank"));
  assert_non_null(strstr(buf, "Kantor, Satu"));
  fclose(f);
  free(buf);
  f = open_memstream(&buf, &len);
  char *a3[] = {"employees", "--period", "2026", "--office", "X1", "--json"};
  assert_int_equal(kjs_score_cli_report(kjs_score_sqlite(db), &cfg, 6, a3, f, &e), 0);
  fflush(f);
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  assert_int_equal(kjs_report_employees(kjs_score_sqlite(db), &cfg, "2026", "X1", &b, &e), 0);
  assert_string_equal(buf, kj_buf_str(&b)); /* byte for byte */
  kj_buf_release(&b);
  fclose(f);
  free(buf);
  char *a4[] = {"employees", "--period", "2026"};
  f = open_memstream(&buf, &len);
  assert_int_not_equal(kjs_score_cli_report(kjs_score_sqlite(db), &cfg, 3, a4, f, &e), 0);
  assert_string_equal(e.msg, "report employees: --period and --office are required");
  fclose(f);
  free(buf);
  sqlite3_close(db);
  kjs_score_config_release(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round2),           cmocka_unit_test(test_sample_min),
      cmocka_unit_test(test_parse_dec6),       cmocka_unit_test(test_ikm_grades),
      cmocka_unit_test(test_complaints),       cmocka_unit_test(test_employee_scores),
      cmocka_unit_test(test_compliance),       cmocka_unit_test(test_rank_and_ties),
      cmocka_unit_test(test_no_data_unranked), cmocka_unit_test(test_config_keys),
      cmocka_unit_test(test_bad_arguments),    cmocka_unit_test(test_cli),
      cmocka_unit_test(test_big_fractions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
