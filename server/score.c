/* score.c - aggregates maintained per change, reports read from them.
 *
 * Aggregate tables (docs/scoring.md "Aggregates"):
 *   sc_office(code, name, population)            live office records
 *   sc_emp(nip, office, name)                     live employee records (roster)
 *   sc_survey(office, ym, service, n, u1..u9)     survey sums per month
 *   sc_cdays(office, ym, days, cnt)               complaints per month and
 *                                                 resolution days (-1 = open)
 *   sc_real(office, nip, indicator, ym, qty_hi, qty_lo, cnt)
 *                                                 approved quantity * 1e6
 *                                                 as hi * 1e18 + lo (below)
 *   sc_actday(office, nip, day, wd, cnt)          live activities per day
 *   sc_actmonth(office, nip, ym, days)            Monday-Friday days with one
 *   sc_target(office, nip, period, indicator, target_hi, target_lo,
 *             weight_hi, weight_lo, cnt)          (* 1e6, hi * 1e18 + lo)
 *   sc_rating(office, ratee, period, role, total, cnt)  total = sum of s1..s7
 * ym is year*100+month.  A row whose count drops to 0 is deleted, so a
 * recompute from the records gives exactly the same rows.
 *
 * The own-office rule (domain.md "Employee performance", docs/scoring.md):
 * the per-employee tables are keyed by the record's own `office` as well as
 * by the NIP, and a report reads for each employee only the rows of the
 * office of its sc_emp row.  A record of office A naming an employee of
 * office B thus lands in rows that no report of B reads, and an employee who
 * moves office is scored from the new office's rows at once, with nothing
 * to move: the upkeep never depends on the roster, so the incremental
 * tables and a recompute stay equal whatever order records arrive in.
 */
#include "score.h"

#include <cJSON.h>
#include <csv.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"
#include "wire.h"

/* ---------------------------------------------------------------------- */
/* exact fractions */

/* Every arithmetic helper that can fail returns KJ_OK, KJ_ETOOBIG (a 128-bit
 * product or sum overflowed: unreachable within docs/scoring.md "Number
 * bounds") or KJ_ENOMEM (a big fraction could not grow), without a message;
 * arith_fail turns the code into one where a kj_err is at hand. */
#define TRY(expr)                                                                                  \
  do {                                                                                             \
    kj_code try_rc_ = (expr);                                                                      \
    if (try_rc_ != KJ_OK)                                                                          \
      return try_rc_;                                                                              \
  } while (0)

static kj_code arith_fail(kj_err *err, kj_code code) {
  if (code == KJ_ENOMEM)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  return kj_fail(err, KJ_ETOOBIG, "scores: arithmetic overflow (numbers too large)");
}

typedef __int128 i128;
typedef unsigned __int128 u128;
typedef struct {
  i128 n, d; /* d > 0 */
} q_t;

static i128 i128_abs(i128 a) {
  return a < 0 ? -a : a;
}

static i128 gcd128(i128 a, i128 b) {
  a = i128_abs(a);
  b = i128_abs(b);
  while (b) {
    i128 t = a % b;
    a = b;
    b = t;
  }
  return a ? a : 1;
}

static q_t q_make(i128 n, i128 d) {
  if (d < 0) {
    n = -n;
    d = -d;
  }
  i128 g = gcd128(n, d);
  q_t q = {n / g, d / g};
  return q;
}

static kj_code mul128(i128 a, i128 b, i128 *out) {
  return __builtin_mul_overflow(a, b, out) ? KJ_ETOOBIG : KJ_OK;
}

static kj_code add128(i128 a, i128 b, i128 *out) {
  return __builtin_add_overflow(a, b, out) ? KJ_ETOOBIG : KJ_OK;
}

static q_t q_int(long long n) {
  return q_make(n, 1);
}

/* *out = a + b */
static kj_code q_add(q_t a, q_t b, q_t *out) {
  i128 g = gcd128(a.d, b.d), x, y, n, d;
  TRY(mul128(a.n, b.d / g, &x));
  TRY(mul128(b.n, a.d / g, &y));
  TRY(add128(x, y, &n));
  TRY(mul128(a.d / g, b.d, &d));
  *out = q_make(n, d);
  return KJ_OK;
}

/* *out = a * b */
static kj_code q_mul(q_t a, q_t b, q_t *out) {
  i128 g1 = gcd128(a.n, b.d), g2 = gcd128(b.n, a.d), n, d;
  TRY(mul128(a.n / g1, b.n / g2, &n));
  TRY(mul128(a.d / g2, b.d / g1, &d));
  *out = q_make(n, d);
  return KJ_OK;
}

/* *out = a / b (b != 0) */
static kj_code q_div(q_t a, q_t b, q_t *out) {
  return q_mul(a, q_make(b.d, b.n), out);
}

/* *out = -1, 0 or 1 as a <, =, > b */
static kj_code q_cmp(q_t a, q_t b, int *out) {
  i128 l, r;
  TRY(mul128(a.n, b.d, &l));
  TRY(mul128(b.n, a.d, &r));
  *out = l < r ? -1 : l > r;
  return KJ_OK;
}

/* half away from zero, in hundredths */
static kj_code q_round2(q_t q, long long *out) {
  i128 n, a, h;
  TRY(mul128(q.n, 200, &n));
  a = i128_abs(n);
  i128 d2;
  TRY(add128(a, q.d, &h));
  TRY(mul128(2, q.d, &d2));
  h /= d2;
  if (h > LLONG_MAX)
    return KJ_ETOOBIG;
  *out = (long long)(n < 0 ? -h : h);
  return KJ_OK;
}

/* Sums of fractions with unrelated denominators (capaian of many targets and
 * employees) outgrow 128 bits, so those use big fractions: non-negative
 * numerator and denominator as arrays of 32-bit limbs, not reduced except
 * when they fit in 128 bits again. */
typedef struct {
  uint32_t *l;
  size_t n; /* limbs in use, no leading zero limbs; 0 = zero */
} big;

typedef struct {
  big n, d;
} bq;

static void big_free(big *a) {
  free(a->l);
  a->l = NULL;
  a->n = 0;
}

static void big_trim(big *a) {
  while (a->n > 0 && a->l[a->n - 1] == 0)
    a->n--;
}

/* a = n zero limbs (a must hold nothing) */
static kj_code big_alloc(big *a, size_t n) {
  a->l = calloc(n > 0 ? n : 1, sizeof *a->l);
  a->n = a->l ? n : 0;
  return a->l ? KJ_OK : KJ_ENOMEM;
}

static kj_code big_set_u128(big *a, u128 v) {
  big_free(a);
  TRY(big_alloc(a, 4));
  for (size_t i = 0; i < 4; i++) {
    a->l[i] = (uint32_t)v;
    v >>= 32;
  }
  big_trim(a);
  return KJ_OK;
}

/* out = a * b (out distinct from a and b, overwritten) */
static kj_code big_mul(big *out, const big *a, const big *b) {
  big r = {0};
  TRY(big_alloc(&r, a->n + b->n));
  for (size_t i = 0; i < a->n; i++) {
    uint64_t carry = 0;
    for (size_t j = 0; j < b->n; j++) {
      uint64_t t = (uint64_t)a->l[i] * b->l[j] + r.l[i + j] + carry;
      r.l[i + j] = (uint32_t)t;
      carry = t >> 32;
    }
    for (size_t k = i + b->n; carry; k++) {
      uint64_t t = (uint64_t)r.l[k] + carry;
      r.l[k] = (uint32_t)t;
      carry = t >> 32;
    }
  }
  big_trim(&r);
  big_free(out);
  *out = r;
  return KJ_OK;
}

/* out = a + b (out distinct) */
static kj_code big_add(big *out, const big *a, const big *b) {
  size_t n = (a->n > b->n ? a->n : b->n) + 1;
  big r = {0};
  TRY(big_alloc(&r, n));
  uint64_t carry = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t t = carry + (i < a->n ? a->l[i] : 0) + (i < b->n ? b->l[i] : 0);
    r.l[i] = (uint32_t)t;
    carry = t >> 32;
  }
  big_trim(&r);
  big_free(out);
  *out = r;
  return KJ_OK;
}

static int big_cmp(const big *a, const big *b) {
  if (a->n != b->n)
    return a->n < b->n ? -1 : 1;
  for (size_t i = a->n; i-- > 0;)
    if (a->l[i] != b->l[i])
      return a->l[i] < b->l[i] ? -1 : 1;
  return 0;
}

/* 1 when a < 2^126, so that it converts to i128 and back without loss */
static int big_fits(const big *a) {
  return a->n < 4 || (a->n == 4 && !(a->l[3] >> 30));
}

/* a as i128 (big_fits(a)) */
static i128 big_to_i128(const big *a) {
  u128 v = 0;
  for (size_t i = a->n; i-- > 0;)
    v = (v << 32) | a->l[i];
  return (i128)v;
}

static void bq_init(bq *x) {
  memset(x, 0, sizeof *x);
}
static void bq_free(bq *x) {
  big_free(&x->n);
  big_free(&x->d);
}

/* x = q (q >= 0) */
static kj_code bq_set_q(bq *x, q_t q) {
  if (q.n < 0)
    KJ_BUG("bq_set_q: negative fraction");
  TRY(big_set_u128(&x->n, (u128)q.n));
  return big_set_u128(&x->d, (u128)q.d);
}

/* reduce when both fit in 128 bits again */
static kj_code bq_norm(bq *x) {
  if (big_fits(&x->n) && big_fits(&x->d) && x->d.n)
    return bq_set_q(x, q_make(big_to_i128(&x->n), big_to_i128(&x->d)));
  return KJ_OK;
}

/* acc += x */
static kj_code bq_add(bq *acc, const bq *x) {
  big a = {0}, b = {0}, n = {0}, d = {0};
  kj_code rc = big_mul(&a, &acc->n, &x->d);
  if (!rc)
    rc = big_mul(&b, &x->n, &acc->d);
  if (!rc)
    rc = big_add(&n, &a, &b);
  if (!rc)
    rc = big_mul(&d, &acc->d, &x->d);
  big_free(&a);
  big_free(&b);
  if (rc) {
    big_free(&n);
    big_free(&d);
    return rc;
  }
  bq_free(acc);
  acc->n = n;
  acc->d = d;
  return bq_norm(acc);
}

/* acc *= q (q >= 0) */
static kj_code bq_mul_q(bq *acc, q_t q) {
  if (q.n < 0)
    KJ_BUG("bq_mul_q: negative fraction");
  big m = {0}, r = {0}, s = {0};
  kj_code rc = big_set_u128(&m, (u128)q.n);
  if (!rc)
    rc = big_mul(&r, &acc->n, &m);
  if (!rc)
    rc = big_set_u128(&m, (u128)q.d);
  if (!rc)
    rc = big_mul(&s, &acc->d, &m);
  big_free(&m);
  if (rc) {
    big_free(&r);
    big_free(&s);
    return rc;
  }
  bq_free(acc);
  acc->n = r;
  acc->d = s;
  return bq_norm(acc);
}

/* dst = src (dst initialised here) */
static kj_code bq_copy(bq *dst, const bq *src) {
  bq_init(dst);
  big one = {0};
  kj_code rc = big_set_u128(&one, 1);
  if (!rc)
    rc = big_mul(&dst->n, &src->n, &one);
  if (!rc)
    rc = big_mul(&dst->d, &src->d, &one);
  big_free(&one);
  return rc;
}

/* *out = -1, 0 or 1 as x <, =, > the integer k >= 0 */
static kj_code bq_cmp_int(const bq *x, long long k, int *out) {
  if (k < 0)
    KJ_BUG("bq_cmp_int: negative integer");
  big kk = {0}, kd = {0};
  kj_code rc = big_set_u128(&kk, (u128)k);
  if (!rc)
    rc = big_mul(&kd, &x->d, &kk);
  if (!rc)
    *out = big_cmp(&x->n, &kd);
  big_free(&kk);
  big_free(&kd);
  return rc;
}

/* half up (values are >= 0) to hundredths: floor((200 n + d) / 2d) */
static kj_code bq_round2(const bq *x, long long *out) {
  big t = {0}, num = {0}, den = {0}, k = {0}, p = {0};
  kj_code rc = big_set_u128(&k, 200);
  if (!rc)
    rc = big_mul(&t, &x->n, &k);
  if (!rc)
    rc = big_add(&num, &t, &x->d);
  if (!rc)
    rc = big_set_u128(&k, 2);
  if (!rc)
    rc = big_mul(&den, &x->d, &k);
  unsigned long long q = 0;
  for (int b = 62; !rc && b >= 0; b--) {
    unsigned long long c = q | (1ULL << b);
    rc = big_set_u128(&k, c);
    if (!rc)
      rc = big_mul(&p, &den, &k);
    if (!rc && big_cmp(&p, &num) <= 0)
      q = c;
  }
  big_free(&t);
  big_free(&num);
  big_free(&den);
  big_free(&k);
  big_free(&p);
  if (!rc)
    *out = (long long)q; /* q < 2^63 */
  return rc;
}

kj_code kjs_round2(long long n, long long d, long long *out, kj_err *err) {
  if (d == 0)
    return kj_fail(err, KJ_EINVAL, "cannot round %lld/0", n);
  kj_code rc = q_round2(q_make(n, d), out);
  return rc ? kj_fail(err, rc, "%lld/%lld rounded to hundredths is out of range", n, d) : KJ_OK;
}

long long kjs_sample_min(long long N) {
  /* 3.841*N*0.25 / (0.0025*(N-1) + 3.841*0.25), times 100000 above and below */
  i128 num = (i128)96025 * N, den = (i128)250 * (N - 1) + 96025;
  return (long long)((2 * num + den) / (2 * den));
}

/* ---------------------------------------------------------------------- */
/* numbers in text */

kj_code kjs_parse_dec6(const char *s, long long *out, kj_err *err) {
  *out = 0;
  if (!s || !*s)
    return kj_fail(err, KJ_EINVAL, "no number");
  const char *p = s;
  int neg = 0;
  if (*p == '-') {
    neg = 1;
    p++;
  }
  long long ip = 0;
  int digits = 0;
  while (*p >= '0' && *p <= '9') {
    if (ip > 99999999999LL) /* at most 12 digits: |value * 1e6| < 1e18 */
      return kj_fail(err, KJ_EINVAL, "'%s' has more than 12 integer digits", s);
    ip = ip * 10 + (*p - '0');
    p++;
    digits++;
  }
  long long frac = 0;
  int fd = 0;
  if (*p == '.') {
    p++;
    while (*p >= '0' && *p <= '9') {
      if (fd == 6)
        return kj_fail(err, KJ_EINVAL, "'%s' has more than 6 decimals", s);
      frac = frac * 10 + (*p - '0');
      fd++;
      p++;
    }
    if (fd == 0)
      return kj_fail(err, KJ_EINVAL, "'%s' has no digits after the point", s);
  }
  if (*p || digits == 0)
    return kj_fail(err, KJ_EINVAL, "'%s' is not a decimal number", s);
  while (fd < 6) {
    frac *= 10;
    fd++;
  }
  long long v = ip * 1000000 + frac;
  *out = neg ? -v : v;
  return KJ_OK;
}

/* An integer in [lo, hi]: KJ_OK, or KJ_EINVAL without a message (the
 * callers name the field). */
static kj_code parse_int(const char *s, long long lo, long long hi, long long *out) {
  if (!s || !*s)
    return KJ_EINVAL;
  char *end;
  long long v = strtoll(s, &end, 10);
  if (*end || v < lo || v > hi)
    return KJ_EINVAL;
  *out = v;
  return KJ_OK;
}

/* ---------------------------------------------------------------------- */
/* configuration */

static const char *const k_pred_names[KJS_PRED__COUNT] = {"Sangat Baik", "Baik", "Butuh Perbaikan",
                                                          "Kurang", "Sangat Kurang"};
static const char *const k_rating_names[3] = {"diatas", "sesuai", "dibawah"};

void kjs_score_config_defaults(kjs_score_config *c) {
  memset(c, 0, sizeof *c);
  c->hk_diatas = 11000;
  c->hk_sesuai = 9000;
  c->pl_diatas = 350;
  c->pl_sesuai = 250;
  c->w_atasan = 600000;
  c->w_others = 400000;
  static const int m[3][3] = {
      {KJS_PRED_SANGAT_BAIK, KJS_PRED_BAIK, KJS_PRED_KURANG},
      {KJS_PRED_BAIK, KJS_PRED_BAIK, KJS_PRED_KURANG},
      {KJS_PRED_BUTUH_PERBAIKAN, KJS_PRED_BUTUH_PERBAIKAN, KJS_PRED_SANGAT_KURANG},
  };
  memcpy(c->predikat, m, sizeof m);
  c->w_ikk[0] = 400000;
  c->w_ikk[1] = 300000;
  c->w_ikk[2] = 150000;
  c->w_ikk[3] = 150000;
  c->holidays = NULL;
  c->nholidays = 0;
  c->ontime_days = 5;
}

void kjs_score_config_release(kjs_score_config *c) {
  if (!c)
    return;
  free(c->holidays);
  c->holidays = NULL;
  c->nholidays = 0;
}

/* "3.5" -> 350: at most 2 decimals, >= 0; KJ_EINVAL without a message */
static kj_code parse_hundredths(const char *s, long long *out) {
  long long v;
  if (kjs_parse_dec6(s, &v, NULL) || v < 0 || v % 10000)
    return KJ_EINVAL;
  *out = v / 10000;
  return KJ_OK;
}

/* The KJS_DIATAS.. index of the rating name s[0..len); KJ_ENOENT when none */
static kj_code rating_index(const char *s, size_t len, int *out) {
  for (int i = 0; i < 3; i++)
    if (strlen(k_rating_names[i]) == len && !strncmp(s, k_rating_names[i], len)) {
      *out = i;
      return KJ_OK;
    }
  return KJ_ENOENT;
}

kj_code kjs_score_config_set(kjs_score_config *c, const char *key, const char *value, kj_err *err) {
  long long v;
  if (!c || !key)
    return kj_fail(err, KJ_EINVAL, "no configuration or key");
  if (strncmp(key, "score.", 6) != 0 || !value)
    return kj_fail(err, KJ_EINVAL, "unknown key '%s'", key);
  const char *k = key + 6;
  long long *hund = NULL;
  if (!strcmp(k, "hasil_kerja.diatas"))
    hund = &c->hk_diatas;
  else if (!strcmp(k, "hasil_kerja.sesuai"))
    hund = &c->hk_sesuai;
  else if (!strcmp(k, "perilaku.diatas"))
    hund = &c->pl_diatas;
  else if (!strcmp(k, "perilaku.sesuai"))
    hund = &c->pl_sesuai;
  if (hund) {
    if (parse_hundredths(value, &v) || v > 100000)
      return kj_fail(err, KJ_EINVAL, "'%s': must be a number >= 0 with at most 2 decimals", key);
    *hund = v;
    return KJ_OK;
  }
  long long *w = NULL;
  if (!strcmp(k, "perilaku.weight_atasan"))
    w = &c->w_atasan;
  else if (!strcmp(k, "perilaku.weight_others"))
    w = &c->w_others;
  else if (!strcmp(k, "ikk.weight_ikm"))
    w = &c->w_ikk[0];
  else if (!strcmp(k, "ikk.weight_capaian"))
    w = &c->w_ikk[1];
  else if (!strcmp(k, "ikk.weight_on_time"))
    w = &c->w_ikk[2];
  else if (!strcmp(k, "ikk.weight_compliance"))
    w = &c->w_ikk[3];
  if (w) {
    if (kjs_parse_dec6(value, &v, NULL) || v < 0 || v > 1000000000LL)
      return kj_fail(err, KJ_EINVAL, "'%s': must be a number >= 0 with at most 6 decimals", key);
    *w = v;
    if (w == &c->w_atasan && v == 0)
      return kj_fail(err, KJ_EINVAL, "'%s': must be greater than 0", key);
    return KJ_OK;
  }
  if (!strcmp(k, "complaint_on_time_days")) {
    if (parse_int(value, 0, 3650, &v))
      return kj_fail(err, KJ_EINVAL, "'%s': must be an integer from 0 to 3650", key);
    c->ontime_days = (int)v;
    return KJ_OK;
  }
  if (!strcmp(k, "holidays")) {
    /* comma or space separated dates; each line adds, an empty value clears */
    const char *p = value;
    if (!*p) {
      free(c->holidays);
      c->holidays = NULL;
      c->nholidays = 0;
      return KJ_OK;
    }
    while (*p) {
      while (*p == ',' || *p == ' ' || *p == '\t')
        p++;
      if (!*p)
        break;
      size_t n = strcspn(p, ", \t");
      char d[16];
      kj_day day;
      if (n >= sizeof d)
        return kj_fail(err, KJ_EINVAL, "'%s': '%.*s' is not a date (YYYY-MM-DD)", key, (int)n, p);
      memcpy(d, p, n);
      d[n] = 0;
      if (kj_date_parse(d, &day))
        return kj_fail(err, KJ_EINVAL, "'%s': '%s' is not a date (YYYY-MM-DD)", key, d);
      kj_day *nh = realloc(c->holidays, (size_t)(c->nholidays + 1) * sizeof *nh);
      if (!nh)
        return kj_fail(err, KJ_ENOMEM, "out of memory");
      c->holidays = nh;
      c->holidays[c->nholidays++] = day;
      p += n;
    }
    return KJ_OK;
  }
  if (!strncmp(k, "predikat.", 9)) {
    const char *a = k + 9, *dot = strchr(a, '.');
    int hk = 0, pl = 0;
    if (!dot || rating_index(a, (size_t)(dot - a), &hk) ||
        rating_index(dot + 1, strlen(dot + 1), &pl))
      return kj_fail(err, KJ_EINVAL,
                     "unknown key '%s' (score.predikat.HASIL.PERILAKU, each diatas, sesuai or "
                     "dibawah)",
                     key);
    for (int i = 0; i < KJS_PRED__COUNT; i++)
      if (!strcmp(value, k_pred_names[i])) {
        c->predikat[hk][pl] = i;
        return KJ_OK;
      }
    return kj_fail(err, KJ_EINVAL,
                   "'%s': must be one of Sangat Baik, Baik, Butuh Perbaikan, Kurang, Sangat Kurang",
                   key);
  }
  return kj_fail(err, KJ_EINVAL, "unknown key '%s'", key);
}

/* ---------------------------------------------------------------------- */
/* schema and statements */

static const char *const k_tables[] = {
    "sc_office(code TEXT PRIMARY KEY, name TEXT, population INTEGER)",
    "sc_emp(nip TEXT PRIMARY KEY, office TEXT NOT NULL, name TEXT)",
    "sc_survey(office TEXT NOT NULL, ym INTEGER NOT NULL, service TEXT NOT NULL, n INTEGER NOT "
    "NULL, u1 INTEGER NOT NULL, u2 INTEGER NOT NULL, u3 INTEGER NOT NULL, u4 INTEGER NOT NULL, "
    "u5 INTEGER NOT NULL, u6 INTEGER NOT NULL, u7 INTEGER NOT NULL, u8 INTEGER NOT NULL, u9 "
    "INTEGER NOT NULL, PRIMARY KEY(office, ym, service)) WITHOUT ROWID",
    "sc_cdays(office TEXT NOT NULL, ym INTEGER NOT NULL, days INTEGER NOT NULL, cnt INTEGER NOT "
    "NULL, PRIMARY KEY(office, ym, days)) WITHOUT ROWID",
    "sc_real(office TEXT NOT NULL, nip TEXT NOT NULL, indicator TEXT NOT NULL, ym INTEGER NOT "
    "NULL, qty_hi INTEGER NOT NULL, qty_lo INTEGER NOT NULL, cnt INTEGER NOT NULL, PRIMARY "
    "KEY(office, nip, indicator, ym)) WITHOUT ROWID",
    "sc_actday(office TEXT NOT NULL, nip TEXT NOT NULL, day INTEGER NOT NULL, wd INTEGER NOT "
    "NULL, cnt INTEGER NOT NULL, PRIMARY KEY(office, nip, day)) WITHOUT ROWID",
    "sc_actmonth(office TEXT NOT NULL, nip TEXT NOT NULL, ym INTEGER NOT NULL, days INTEGER NOT "
    "NULL, PRIMARY KEY(office, nip, ym)) WITHOUT ROWID",
    "sc_target(office TEXT NOT NULL, nip TEXT NOT NULL, period TEXT NOT NULL, indicator TEXT NOT "
    "NULL, target_hi INTEGER NOT NULL, target_lo INTEGER NOT NULL, weight_hi INTEGER NOT NULL, "
    "weight_lo INTEGER NOT NULL, cnt INTEGER NOT NULL, PRIMARY KEY(office, nip, period, "
    "indicator)) WITHOUT ROWID",
    "sc_rating(office TEXT NOT NULL, ratee TEXT NOT NULL, period TEXT NOT NULL, role TEXT NOT "
    "NULL, total INTEGER NOT NULL, cnt INTEGER NOT NULL, PRIMARY KEY(office, ratee, period, "
    "role)) WITHOUT ROWID",
};
#define NTABLES ((int)(sizeof k_tables / sizeof k_tables[0]))
static const char *const k_names[NTABLES] = {"sc_office",   "sc_emp",    "sc_survey",
                                             "sc_cdays",    "sc_real",   "sc_actday",
                                             "sc_actmonth", "sc_target", "sc_rating"};

static kj_code db_fail(sqlite3 *db, kj_err *err, const char *what) {
  int ec = sqlite3_errcode(db) & 0xff;
  return kj_fail(err, ec == SQLITE_NOMEM ? KJ_ENOMEM : KJ_EDB, "scores: %s: %s", what,
                 sqlite3_errmsg(db));
}

static kj_code create_tables(sqlite3 *db, const char *schema, kj_err *err) {
  char sql[1024];
  for (int i = 0; i < NTABLES; i++) {
    snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS %s.%s", schema, k_tables[i]);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
      return db_fail(db, err, "cannot create tables");
  }
  snprintf(sql, sizeof sql, "CREATE INDEX IF NOT EXISTS %s.sc_emp_office ON sc_emp(office, nip)",
           schema);
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(db, err, "cannot create indexes");
  return KJ_OK;
}

static kj_code fill_from_records(sqlite3 *db, const char *schema, kj_err *err);

/* *has = 1 when main.table has the column, else 0 */
static kj_code has_column(sqlite3 *db, const char *table, const char *col, int *has, kj_err *err) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info(?1, 'main') WHERE name=?2", -1,
                         &s, NULL) != SQLITE_OK)
    return db_fail(db, err, "cannot read the table list");
  sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, col, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  *has = rc == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
  if (rc != SQLITE_ROW)
    db_fail(db, err, "cannot read the table list");
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? KJ_OK : KJ_EDB;
}

/* The per-employee tables keyed by the record's office (the own-office
 * rule): an older layout keyed them by NIP alone. */
static const char *const k_office_keyed[] = {"sc_real", "sc_actday", "sc_actmonth", "sc_target",
                                             "sc_rating"};

kj_code kjs_score_schema(sqlite3 *db, kj_err *err) {
  /* tables of an older layout, rebuilt from the records in the caller's
   * transaction: before the (hi, lo) sums (one 64-bit column, which
   * overflowed), or before the own-office rule (no office column) */
  int old_real = 0, old_target = 0, old = 0;
  kj_code rc = has_column(db, "sc_real", "qty", &old_real, err);
  if (!rc)
    rc = has_column(db, "sc_target", "target", &old_target, err);
  for (size_t i = 0; !rc && !old && i < sizeof k_office_keyed / sizeof *k_office_keyed; i++) {
    int has_nip = 0, has_office = 0;
    const char *t = k_office_keyed[i];
    rc = has_column(db, t, strcmp(t, "sc_rating") ? "nip" : "ratee", &has_nip, err);
    if (!rc)
      rc = has_column(db, t, "office", &has_office, err);
    old = has_nip && !has_office;
  }
  if (rc)
    return rc;
  if (old_real || old_target || old) {
    char sql[128];
    for (int i = 0; i < NTABLES; i++) {
      snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS main.%s", k_names[i]);
      if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, err, "cannot upgrade the score tables");
    }
    if ((rc = create_tables(db, "main", err)))
      return rc;
    return fill_from_records(db, "main", err);
  }
  return create_tables(db, "main", err);
}

/* Update statements, "%s" = schema.  A counted aggregate row has an _ADD
 * statement whose parameters are its keys, then the signed values, then
 * the signed count (see add_row), and a _GC statement over the same keys
 * that drops the row once its count is back to zero. */
enum {
  U_OFFICE_DEL,
  U_OFFICE_PUT,
  U_EMP_DEL,
  U_EMP_PUT,
  U_SURVEY_ADD,
  U_SURVEY_GC,
  U_CDAYS_ADD,
  U_CDAYS_GC,
  U_REAL_ADD,
  U_REAL_GC,
  U_ACTDAY_ADD,
  U_ACTDAY_GC,
  U_ACTMONTH_ADD,
  U_ACTMONTH_GC,
  U_TARGET_ADD,
  U_TARGET_GC,
  U_RATING_ADD,
  U_RATING_GC,
  U__COUNT
};

/* Quantities, targets and weights are sums of value * 1e6 kept as two
 * columns, sum = hi * 1e18 + lo with 0 <= lo < 1e18 (docs/scoring.md "Number
 * bounds"): one record adds less than 1e18, so lo + delta_lo < 2e18 never
 * overflows and hi moves by at most 2 per change. */
#define E18 1000000000000000000LL
#define E18S "1000000000000000000"

static const char *const k_usql[U__COUNT] = {
    [U_OFFICE_DEL] = "DELETE FROM %s.sc_office WHERE code=?1",
    [U_OFFICE_PUT] = "INSERT OR REPLACE INTO %s.sc_office(code,name,population) VALUES(?1,?2,?3)",
    [U_EMP_DEL] = "DELETE FROM %s.sc_emp WHERE nip=?1",
    [U_EMP_PUT] = "INSERT OR REPLACE INTO %s.sc_emp(nip,office,name) VALUES(?1,?2,?3)",
    [U_SURVEY_ADD] =
        "INSERT INTO %s.sc_survey(office,ym,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,n) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13) ON CONFLICT(office,ym,service) DO "
        "UPDATE SET u1=u1+?4,u2=u2+?5,u3=u3+?6,u4=u4+?7,u5=u5+?8,u6=u6+?9,u7=u7+?10,u8=u8+?11,"
        "u9=u9+?12,n=n+?13",
    [U_SURVEY_GC] = "DELETE FROM %s.sc_survey WHERE office=?1 AND ym=?2 AND service=?3 AND n=0",
    [U_CDAYS_ADD] = "INSERT INTO %s.sc_cdays(office,ym,days,cnt) VALUES(?1,?2,?3,?4) "
                    "ON CONFLICT(office,ym,days) DO UPDATE SET cnt=cnt+?4",
    [U_CDAYS_GC] = "DELETE FROM %s.sc_cdays WHERE office=?1 AND ym=?2 AND days=?3 AND cnt=0",
    [U_REAL_ADD] =
        "INSERT INTO %s.sc_real(office,nip,indicator,ym,qty_hi,qty_lo,cnt) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(office,nip,indicator,ym) DO UPDATE "
        "SET qty_hi=qty_hi+?5+(qty_lo+?6>=" E18S "),qty_lo=(qty_lo+?6)%%" E18S ",cnt=cnt+?7",
    [U_REAL_GC] = "DELETE FROM %s.sc_real WHERE office=?1 AND nip=?2 AND indicator=?3 AND ym=?4 "
                  "AND cnt=0",
    [U_ACTDAY_ADD] = "INSERT INTO %s.sc_actday(office,nip,day,wd,cnt) VALUES(?1,?2,?3,?4,?5) "
                     "ON CONFLICT(office,nip,day) DO UPDATE SET cnt=cnt+?5 RETURNING cnt",
    [U_ACTDAY_GC] = "DELETE FROM %s.sc_actday WHERE office=?1 AND nip=?2 AND day=?3 AND cnt=0",
    [U_ACTMONTH_ADD] = "INSERT INTO %s.sc_actmonth(office,nip,ym,days) VALUES(?1,?2,?3,?4) "
                       "ON CONFLICT(office,nip,ym) DO UPDATE SET days=days+?4",
    [U_ACTMONTH_GC] = "DELETE FROM %s.sc_actmonth WHERE office=?1 AND nip=?2 AND ym=?3 AND days=0",
    [U_TARGET_ADD] =
        "INSERT INTO %s.sc_target(office,nip,period,indicator,target_hi,target_lo,weight_hi,"
        "weight_lo,cnt) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(office,nip,period,"
        "indicator) DO UPDATE SET "
        "target_hi=target_hi+?5+(target_lo+?6>=" E18S "),target_lo=(target_lo+?6)%%" E18S ","
        "weight_hi=weight_hi+?7+(weight_lo+?8>=" E18S "),weight_lo=(weight_lo+?8)%%" E18S ","
        "cnt=cnt+?9",
    [U_TARGET_GC] = "DELETE FROM %s.sc_target WHERE office=?1 AND nip=?2 AND period=?3 AND "
                    "indicator=?4 AND cnt=0",
    [U_RATING_ADD] =
        "INSERT INTO %s.sc_rating(office,ratee,period,role,total,cnt) VALUES(?1,?2,?3,?4,?5,?6) "
        "ON CONFLICT(office,ratee,period,role) DO UPDATE SET total=total+?5,cnt=cnt+?6",
    [U_RATING_GC] = "DELETE FROM %s.sc_rating WHERE office=?1 AND ratee=?2 AND period=?3 AND "
                    "role=?4 AND cnt=0",
};

typedef struct uctx {
  sqlite3 *db;
  const char *schema;
  sqlite3_stmt *st[U__COUNT];
  kj_err *err;
} uctx;

static void uctx_release(uctx *u) {
  for (int i = 0; i < U__COUNT; i++)
    sqlite3_finalize(u->st[i]);
}

static sqlite3_stmt *ust(uctx *u, int i) {
  if (!u->st[i]) {
    char sql[700];
    snprintf(sql, sizeof sql, k_usql[i], u->schema);
    if (sqlite3_prepare_v2(u->db, sql, -1, &u->st[i], NULL) != SQLITE_OK) {
      db_fail(u->db, u->err, "cannot prepare");
      return NULL;
    }
  } else {
    sqlite3_reset(u->st[i]);
    sqlite3_clear_bindings(u->st[i]);
  }
  return u->st[i];
}

/* Run a bound statement; with out, the first column of its one row. */
static kj_code urun(uctx *u, sqlite3_stmt *s, long long *out) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    if (out)
      *out = sqlite3_column_int64(s, 0);
    rc = sqlite3_step(s);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return db_fail(u->db, u->err, "cannot update aggregates");
  return KJ_OK;
}

static void btext(sqlite3_stmt *s, int i, const char *v) {
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(s, i);
}

/* One key of an aggregate row: text, or an integer when is_int. */
typedef struct ukey {
  const char *t;
  long long i;
  int is_int;
} ukey;

static void bind_keys(sqlite3_stmt *s, const ukey *k, int nk) {
  for (int j = 0; j < nk; j++) {
    if (k[j].is_int)
      sqlite3_bind_int64(s, j + 1, k[j].i);
    else
      btext(s, j + 1, k[j].t);
  }
}

/* Add (sign 1) or take away (sign -1) one record's values v[0..nv) and a
 * count of one at the row of keys k; a row whose count is back to zero is
 * dropped by the statement gc. */
static kj_code add_row(uctx *u, int add, int gc, const ukey *k, int nk, const long long *v, int nv,
                       int split, int sign) {
  sqlite3_stmt *s = ust(u, add);
  if (!s)
    return KJ_EDB;
  bind_keys(s, k, nk);
  int p = nk + 1;
  for (int j = 0; j < nv; j++) {
    long long x = sign * v[j];
    if (split) { /* (hi, lo) of x, |x| < 1e18 (kjs_parse_dec6) */
      long long hi = x < 0 ? -1 : 0;
      sqlite3_bind_int64(s, p++, hi);
      sqlite3_bind_int64(s, p++, x - hi * E18);
    } else {
      sqlite3_bind_int64(s, p++, x);
    }
  }
  sqlite3_bind_int64(s, p, sign);
  kj_code rc = urun(u, s, NULL);
  if (rc || sign > 0)
    return rc;
  if (!(s = ust(u, gc)))
    return KJ_EDB;
  bind_keys(s, k, nk);
  return urun(u, s, NULL);
}

/* ---------------------------------------------------------------------- */
/* a record's contribution */

typedef struct contrib {
  kj_rtype type;            /* KJ_T_NONE: nothing */
  const char *k1, *k2, *k3; /* office/nip/ratee, service/indicator/period, role/indicator */
  const char *office;       /* activity, target, rating: the record's own office */
  const char *name;
  long long ym, day, wd, days, pop, have_pop;
  long long v[9];
  int approved, have_real;
  char period[8];
} contrib;

static long long ym_of(kj_day d) {
  int y, m, dd;
  kj_day_to_civil(d, &y, &m, &dd);
  return (long long)y * 100 + m;
}

static const char *fv(const kj_record *r, const char *name) {
  int i = kj_field_index(kj_type(r->type), name);
  return i >= 0 ? r->v[i] : NULL;
}

/* What r adds to the aggregates; type KJ_T_NONE when nothing (deleted,
 * NULL, a field missing or unreadable). */
static void contrib_of(const kj_record *r, contrib *c) {
  memset(c, 0, sizeof *c);
  c->type = KJ_T_NONE;
  if (!r || r->deleted)
    return;
  kj_day day;
  long long x;
  switch (r->type) {
  case KJ_T_OFFICE:
    c->k1 = r->id;
    c->name = fv(r, "name");
    c->have_pop = parse_int(fv(r, "population"), 0, 2000000000LL, &c->pop) == 0;
    break;
  case KJ_T_EMPLOYEE:
    c->k1 = r->id;
    c->k2 = fv(r, "office");
    c->name = fv(r, "name");
    if (!c->k2)
      return;
    break;
  case KJ_T_SURVEY: {
    c->k1 = fv(r, "office");
    c->k2 = fv(r, "service");
    if (!c->k1 || !c->k2 || kj_date_parse(fv(r, "date"), &day))
      return;
    c->ym = ym_of(day);
    static const char *const un[9] = {"u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"};
    for (int i = 0; i < 9; i++)
      if (parse_int(fv(r, un[i]), 1, 4, &c->v[i]))
        return;
    break;
  }
  case KJ_T_ACTIVITY: {
    c->k1 = fv(r, "nip");
    c->office = fv(r, "office");
    if (!c->k1 || !c->office || kj_date_parse(fv(r, "date"), &day))
      return;
    c->day = day;
    c->wd = kj_weekday(day) < 5;
    c->ym = ym_of(day);
    const char *st = fv(r, "status");
    c->k2 = fv(r, "indicator");
    if (st && !strcmp(st, "approved") && c->k2 &&
        kjs_parse_dec6(fv(r, "quantity"), &x, NULL) == KJ_OK && x >= 0) {
      c->have_real = 1;
      c->v[0] = x;
    }
    break;
  }
  case KJ_T_COMPLAINT: {
    c->k1 = fv(r, "office");
    kj_day res;
    if (!c->k1 || kj_date_parse(fv(r, "received"), &day))
      return;
    c->ym = ym_of(day);
    c->days = -1;
    if (kj_date_parse(fv(r, "resolved"), &res) == 0 && res >= day)
      c->days = res - day;
    break;
  }
  case KJ_T_RATING: {
    kj_period p;
    c->k1 = fv(r, "ratee");
    c->k3 = fv(r, "role");
    c->office = fv(r, "office");
    if (!c->k1 || !c->k3 || !c->office || kj_period_parse(fv(r, "period"), &p))
      return;
    kj_period_format(&p, c->period);
    c->k2 = c->period;
    static const char *const sn[7] = {"s1", "s2", "s3", "s4", "s5", "s6", "s7"};
    for (int i = 0; i < 7; i++) {
      if (parse_int(fv(r, sn[i]), 1, 5, &x))
        return;
      c->v[0] += x;
    }
    break;
  }
  case KJ_T_TARGET: {
    kj_period p;
    c->k1 = fv(r, "nip");
    c->k3 = fv(r, "indicator");
    c->office = fv(r, "office");
    if (!c->k1 || !c->k3 || !c->office || kj_period_parse(fv(r, "period"), &p))
      return;
    kj_period_format(&p, c->period);
    c->k2 = c->period;
    if (kjs_parse_dec6(fv(r, "target"), &c->v[0], NULL) || c->v[0] <= 0)
      return;
    const char *w = fv(r, "weight");
    if (!w)
      c->v[1] = 1000000;
    else if (kjs_parse_dec6(w, &c->v[1], NULL) || c->v[1] <= 0)
      return;
    break;
  }
  default:
    return;
  }
  c->type = r->type;
}

static int streq0(const char *a, const char *b) {
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

static int contrib_equal(const contrib *a, const contrib *b) {
  return a->type == b->type && streq0(a->k1, b->k1) && streq0(a->k2, b->k2) &&
         streq0(a->k3, b->k3) && streq0(a->office, b->office) && streq0(a->name, b->name) &&
         a->ym == b->ym && a->day == b->day && a->days == b->days && a->pop == b->pop &&
         a->have_pop == b->have_pop && a->have_real == b->have_real &&
         !memcmp(a->v, b->v, sizeof a->v);
}

static kj_code apply(uctx *u, const contrib *c, int sign) {
  sqlite3_stmt *s;
  switch (c->type) {
  case KJ_T_OFFICE:
    if (!(s = ust(u, sign < 0 ? U_OFFICE_DEL : U_OFFICE_PUT)))
      return KJ_EDB;
    btext(s, 1, c->k1);
    if (sign > 0) {
      btext(s, 2, c->name);
      if (c->have_pop)
        sqlite3_bind_int64(s, 3, c->pop);
    }
    return urun(u, s, NULL);
  case KJ_T_EMPLOYEE:
    if (!(s = ust(u, sign < 0 ? U_EMP_DEL : U_EMP_PUT)))
      return KJ_EDB;
    btext(s, 1, c->k1);
    if (sign > 0) {
      btext(s, 2, c->k2);
      btext(s, 3, c->name);
    }
    return urun(u, s, NULL);
  case KJ_T_SURVEY: {
    const ukey k[] = {{c->k1, 0, 0}, {NULL, c->ym, 1}, {c->k2, 0, 0}};
    return add_row(u, U_SURVEY_ADD, U_SURVEY_GC, k, 3, c->v, 9, 0, sign);
  }
  case KJ_T_COMPLAINT: {
    const ukey k[] = {{c->k1, 0, 0}, {NULL, c->ym, 1}, {NULL, c->days, 1}};
    return add_row(u, U_CDAYS_ADD, U_CDAYS_GC, k, 3, NULL, 0, 0, sign);
  }
  case KJ_T_ACTIVITY: {
    if (c->have_real) {
      const ukey k[] = {{c->office, 0, 0}, {c->k1, 0, 0}, {c->k2, 0, 0}, {NULL, c->ym, 1}};
      kj_code rc = add_row(u, U_REAL_ADD, U_REAL_GC, k, 4, c->v, 1, 1, sign);
      if (rc)
        return rc;
    }
    if (!(s = ust(u, U_ACTDAY_ADD)))
      return KJ_EDB;
    btext(s, 1, c->office);
    btext(s, 2, c->k1);
    sqlite3_bind_int64(s, 3, c->day);
    sqlite3_bind_int64(s, 4, c->wd);
    sqlite3_bind_int64(s, 5, sign);
    long long cnt = -99;
    kj_code rc = urun(u, s, &cnt);
    if (rc)
      return rc;
    int edge = (sign > 0 && cnt == 1) || (sign < 0 && cnt == 0);
    if (sign < 0 && cnt == 0) {
      if (!(s = ust(u, U_ACTDAY_GC)))
        return KJ_EDB;
      btext(s, 1, c->office);
      btext(s, 2, c->k1);
      sqlite3_bind_int64(s, 3, c->day);
      if ((rc = urun(u, s, NULL)))
        return rc;
    }
    if (edge && c->wd) {
      if (!(s = ust(u, U_ACTMONTH_ADD)))
        return KJ_EDB;
      btext(s, 1, c->office);
      btext(s, 2, c->k1);
      sqlite3_bind_int64(s, 3, c->ym);
      sqlite3_bind_int64(s, 4, sign);
      if ((rc = urun(u, s, NULL)))
        return rc;
      if (sign < 0) {
        if (!(s = ust(u, U_ACTMONTH_GC)))
          return KJ_EDB;
        btext(s, 1, c->office);
        btext(s, 2, c->k1);
        sqlite3_bind_int64(s, 3, c->ym);
        return urun(u, s, NULL);
      }
    }
    return KJ_OK;
  }
  case KJ_T_TARGET: {
    const ukey k[] = {{c->office, 0, 0}, {c->k1, 0, 0}, {c->k2, 0, 0}, {c->k3, 0, 0}};
    return add_row(u, U_TARGET_ADD, U_TARGET_GC, k, 4, c->v, 2, 1, sign);
  }
  case KJ_T_RATING: {
    const ukey k[] = {{c->office, 0, 0}, {c->k1, 0, 0}, {c->k2, 0, 0}, {c->k3, 0, 0}};
    return add_row(u, U_RATING_ADD, U_RATING_GC, k, 4, c->v, 1, 0, sign);
  }
  default:
    return KJ_OK;
  }
}

static kj_code update_in(uctx *u, const kj_record *before, const kj_record *after) {
  contrib a, b;
  contrib_of(before, &b);
  contrib_of(after, &a);
  if (contrib_equal(&a, &b))
    return KJ_OK;
  kj_code rc = KJ_OK;
  if (b.type != KJ_T_NONE)
    rc = apply(u, &b, -1);
  if (!rc && a.type != KJ_T_NONE)
    rc = apply(u, &a, +1);
  return rc;
}

/* Prepared update statements are kept per connection (a push applies
 * thousands of records; preparing each statement each time would cost more
 * than running it).  They are finalized when the connection closes: a
 * SQLITE_TRACE_CLOSE callback runs before sqlite3_close checks for
 * unfinalized statements. */
typedef struct ucache {
  sqlite3 *db;
  uctx u;
  struct ucache *next;
} ucache;

static pthread_mutex_t g_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static ucache *g_caches;

static int on_close(unsigned type, void *ctx, void *p, void *x) {
  (void)ctx;
  (void)x;
  if (type != SQLITE_TRACE_CLOSE)
    return 0;
  pthread_mutex_lock(&g_cache_mu);
  ucache **pp = &g_caches, *c = NULL;
  for (; *pp; pp = &(*pp)->next)
    if ((*pp)->db == (sqlite3 *)p) {
      c = *pp;
      *pp = c->next;
      break;
    }
  pthread_mutex_unlock(&g_cache_mu);
  if (c) {
    uctx_release(&c->u);
    free(c);
  }
  return 0;
}

static ucache *cache_for(sqlite3 *db) {
  pthread_mutex_lock(&g_cache_mu);
  ucache *c = g_caches;
  while (c && c->db != db)
    c = c->next;
  if (!c && (c = calloc(1, sizeof *c))) {
    c->db = db;
    c->u.db = db;
    c->u.schema = "main";
    c->next = g_caches;
    g_caches = c;
    sqlite3_trace_v2(db, SQLITE_TRACE_CLOSE, on_close, NULL);
  }
  pthread_mutex_unlock(&g_cache_mu);
  return c;
}

kj_code kjs_score_update(sqlite3 *db, const kj_record *before, const kj_record *after,
                         kj_err *err) {
  ucache *c = cache_for(db);
  if (!c) {
    uctx u = {db, "main", {0}, err};
    kj_code rc = update_in(&u, before, after);
    uctx_release(&u);
    return rc;
  }
  c->u.err = err;
  kj_code rc = update_in(&c->u, before, after);
  c->u.err = NULL;
  return rc;
}

/* ---------------------------------------------------------------------- */
/* reports */

typedef struct tgt {
  char ind[KJ_ID_MAX + 1];
  i128 target, weight, real; /* * 1e6 */
  q_t cap;
  long long cap_r; /* cap rounded, hundredths */
} tgt;

/* a (hi, lo) column pair: hi * 1e18 + lo */
static i128 col_hilo(sqlite3_stmt *s, int i) {
  return (i128)sqlite3_column_int64(s, i) * E18 + sqlite3_column_int64(s, i + 1);
}

typedef struct escore {
  int has_cap, has_pl;
  bq cap; /* the capaian chain: big fractions */
  q_t pl;
  long long cap_r, pl_r; /* cap and pl rounded, hundredths */
  int hk, pr, pred;      /* -1 = null */
  tgt *t;
  size_t nt, cap_t;
} escore;

typedef struct rctx {
  sqlite3 *db;
  const kjs_score_config *cfg;
  kj_err *err;
  kj_period p;
  char period[8];
  long long ym_lo, ym_hi;
  sqlite3_stmt *st[12];
} rctx;

enum {
  R_TARGETS,
  R_REAL,
  R_RATINGS,
  R_OFFICES,
  R_SURVEYS,
  R_CDAYS,
  R_ROSTER,
  R_CMP_MONTHS,
  R_CMP_DAYS,
  R_CMP_DAY,
  R_OFFICE_ONE,
  R__COUNT
};

static const char *const k_rsql[R__COUNT] = {
    /* ?4 = the employee's own office: only its records count */
    [R_TARGETS] = "SELECT indicator, target_hi, target_lo, weight_hi, weight_lo FROM sc_target "
                  "WHERE office=?4 AND nip=?1 AND period=?2 ORDER BY indicator",
    /* summed here in 128 bits, not by SQLite's sum() (64 bits) */
    [R_REAL] = "SELECT indicator, qty_hi, qty_lo FROM sc_real WHERE office=?4 AND nip=?1 AND ym "
               "BETWEEN ?2 AND ?3",
    [R_RATINGS] =
        "SELECT role, total, cnt FROM sc_rating WHERE office=?4 AND ratee=?1 AND period=?2",
    [R_OFFICES] = "SELECT code, name, population FROM sc_office ORDER BY code",
    [R_SURVEYS] = "SELECT service, sum(n), sum(u1), sum(u2), sum(u3), sum(u4), sum(u5), sum(u6), "
                  "sum(u7), sum(u8), sum(u9) FROM sc_survey WHERE office=?1 AND ym BETWEEN ?2 AND "
                  "?3 GROUP BY service ORDER BY service",
    [R_CDAYS] = "SELECT days, sum(cnt) FROM sc_cdays WHERE office=?1 AND ym BETWEEN ?2 AND ?3 "
                "GROUP BY days ORDER BY days",
    [R_ROSTER] = "SELECT nip, name FROM sc_emp WHERE office=?1 ORDER BY nip",
    /* compliance: activities of this office by its roster */
    [R_CMP_MONTHS] = "SELECT total(m.days) FROM sc_emp e JOIN sc_actmonth m ON m.office=e.office "
                     "AND m.nip=e.nip WHERE e.office=?1 AND m.ym BETWEEN ?2 AND ?3",
    [R_CMP_DAYS] = "SELECT count(*) FROM sc_emp e JOIN sc_actday d ON d.office=e.office AND "
                   "d.nip=e.nip WHERE e.office=?1 AND d.day BETWEEN ?2 AND ?3 AND d.wd=1",
    [R_CMP_DAY] = "SELECT count(*) FROM sc_emp e JOIN sc_actday d ON d.office=e.office AND "
                  "d.nip=e.nip WHERE e.office=?1 AND d.day=?2",
    [R_OFFICE_ONE] = "SELECT code, name, population FROM sc_office WHERE code=?1",
};

static sqlite3_stmt *rst(rctx *r, int i) {
  if (!r->st[i]) {
    if (sqlite3_prepare_v2(r->db, k_rsql[i], -1, &r->st[i], NULL) != SQLITE_OK) {
      db_fail(r->db, r->err, "cannot prepare report");
      return NULL;
    }
  } else {
    sqlite3_reset(r->st[i]);
    sqlite3_clear_bindings(r->st[i]);
  }
  return r->st[i];
}

static void rctx_release(rctx *r) {
  for (int i = 0; i < R__COUNT; i++)
    sqlite3_finalize(r->st[i]);
}

static kj_code rctx_init(rctx *r, sqlite3 *db, const kjs_score_config *cfg, const char *period,
                         kj_err *err) {
  memset(r, 0, sizeof *r);
  r->db = db;
  r->cfg = cfg;
  r->err = err;
  if (!period || kj_period_parse(period, &r->p))
    return kj_fail(err, KJ_EINVAL, "invalid period '%s' (2026, 2026-Q1 or 2026-01)",
                   period ? period : "");
  kj_period_format(&r->p, r->period);
  r->ym_lo = ym_of(r->p.first);
  r->ym_hi = ym_of(r->p.last);
  return KJ_OK;
}

static void escore_release(escore *e) {
  free(e->t);
  bq_free(&e->cap);
  memset(e, 0, sizeof *e);
}

static int class_of(long long rounded, long long diatas, long long sesuai) {
  return rounded >= diatas ? KJS_DIATAS : rounded >= sesuai ? KJS_SESUAI : KJS_DIBAWAH;
}

/* grow *arr (of *cap elements of size) to hold n + 1: KJ_OK or KJ_ENOMEM */
static kj_code grow(void **arr, size_t *cap, size_t n, size_t size) {
  if (n < *cap)
    return KJ_OK;
  size_t nc = *cap ? 2 * *cap : 16;
  void *p = realloc(*arr, nc * size);
  if (!p)
    return KJ_ENOMEM;
  *arr = p;
  *cap = nc;
  return KJ_OK;
}

/* e's capaian from its targets (t[].target, weight, real): each target's
 * capped at 120, their weighted mean, rounded, and the rating hasil kerja.
 * An arithmetic kj_code (no message). */
static kj_code emp_capaian(const kjs_score_config *cfg, escore *e) {
  i128 wsum = 0;
  q_t cap120 = q_int(120);
  TRY(bq_set_q(&e->cap, q_int(0)));
  for (size_t i = 0; i < e->nt; i++) {
    tgt *t = &e->t[i];
    i128 n;
    int c;
    TRY(mul128(100, t->real, &n));
    t->cap = q_make(n, t->target);
    TRY(q_cmp(t->cap, cap120, &c));
    if (c > 0)
      t->cap = cap120;
    TRY(q_round2(t->cap, &t->cap_r));
    bq term;
    bq_init(&term);
    kj_code rc = bq_set_q(&term, t->cap);
    if (!rc)
      rc = bq_mul_q(&term, q_make(t->weight, 1));
    if (!rc)
      rc = bq_add(&e->cap, &term);
    bq_free(&term);
    TRY(rc);
    TRY(add128(wsum, t->weight, &wsum));
  }
  e->has_cap = 1;
  TRY(bq_mul_q(&e->cap, q_make(1, wsum)));
  TRY(bq_round2(&e->cap, &e->cap_r));
  e->hk = class_of(e->cap_r, cfg->hk_diatas, cfg->hk_sesuai);
  return KJ_OK;
}

/* e's perilaku from the atasan's ratings (total at over ac ratings, ac > 0)
 * and the others' (ot over oc), weighted, rounded, and its rating.  An
 * arithmetic kj_code (no message). */
static kj_code emp_perilaku(const kjs_score_config *cfg, long long at, long long ac, long long ot,
                            long long oc, escore *e) {
  q_t a = q_make(at, 7 * (i128)ac);
  if (oc > 0) {
    q_t o = q_make(ot, 7 * (i128)oc);
    q_t wa = q_int(cfg->w_atasan), wo = q_int(cfg->w_others), x, y, num, den;
    TRY(q_mul(wa, a, &x));
    TRY(q_mul(wo, o, &y));
    TRY(q_add(x, y, &num));
    TRY(q_add(wa, wo, &den));
    TRY(q_div(num, den, &e->pl));
  } else {
    e->pl = a;
  }
  e->has_pl = 1;
  TRY(q_round2(e->pl, &e->pl_r));
  e->pr = class_of(e->pl_r, cfg->pl_diatas, cfg->pl_sesuai);
  return KJ_OK;
}

/* The scores of nip, an employee of office, into *e (released by the
 * caller, also on error): only the targets, activities and ratings of that
 * office count (domain.md "Employee performance").  KJ_OK, or KJ_EDB,
 * KJ_ENOMEM, KJ_ETOOBIG with r->err filled. */
static kj_code emp_score(rctx *r, const char *office, const char *nip, escore *e) {
  memset(e, 0, sizeof *e);
  e->hk = e->pr = e->pred = -1;
  sqlite3_stmt *s = rst(r, R_TARGETS);
  if (!s)
    return KJ_EDB;
  btext(s, 1, nip);
  btext(s, 2, r->period);
  btext(s, 4, office);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (grow((void **)&e->t, &e->cap_t, e->nt, sizeof *e->t)) {
      sqlite3_reset(s);
      return kj_fail(r->err, KJ_ENOMEM, "out of memory");
    }
    tgt *t = &e->t[e->nt++];
    memset(t, 0, sizeof *t);
    snprintf(t->ind, sizeof t->ind, "%s", (const char *)sqlite3_column_text(s, 0));
    t->target = col_hilo(s, 1);
    t->weight = col_hilo(s, 3);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return db_fail(r->db, r->err, "cannot read targets");
  if (e->nt) {
    if (!(s = rst(r, R_REAL)))
      return KJ_EDB;
    btext(s, 1, nip);
    sqlite3_bind_int64(s, 2, r->ym_lo);
    sqlite3_bind_int64(s, 3, r->ym_hi);
    btext(s, 4, office);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      const char *ind = (const char *)sqlite3_column_text(s, 0);
      for (size_t i = 0; i < e->nt; i++)
        if (!strcmp(e->t[i].ind, ind))
          e->t[i].real += col_hilo(s, 1);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
      return db_fail(r->db, r->err, "cannot read realisasi");
    kj_code arc = emp_capaian(r->cfg, e);
    if (arc)
      return arith_fail(r->err, arc);
  }
  if (!(s = rst(r, R_RATINGS)))
    return KJ_EDB;
  btext(s, 1, nip);
  btext(s, 2, r->period);
  btext(s, 4, office);
  long long at = 0, ac = 0, ot = 0, oc = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *role = (const char *)sqlite3_column_text(s, 0);
    if (!strcmp(role, "atasan")) {
      at += sqlite3_column_int64(s, 1);
      ac += sqlite3_column_int64(s, 2);
    } else {
      ot += sqlite3_column_int64(s, 1);
      oc += sqlite3_column_int64(s, 2);
    }
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return db_fail(r->db, r->err, "cannot read ratings");
  if (ac > 0) {
    kj_code arc = emp_perilaku(r->cfg, at, ac, ot, oc, e);
    if (arc)
      return arith_fail(r->err, arc);
  }
  if (e->hk >= 0 && e->pr >= 0)
    e->pred = r->cfg->predikat[e->hk][e->pr];
  return KJ_OK;
}

kj_code kjs_report_employees_build(sqlite3 *db, const kjs_score_config *cfg, const char *period,
                                   const char *office, kj_report_employees *d, kj_err *err) {
  rctx r;
  kj_report_employees_init(d);
  kj_code rc = rctx_init(&r, db, cfg, period, err);
  if (rc)
    return rc;
  if (!office)
    return kj_fail(err, KJ_EINVAL, "an office is required");
  int nomem = 0;
  rc = KJ_EDB;
  size_t cap = 0;
  d->period = kj_report_strdup(r.period, &nomem);
  d->office = kj_report_strdup(office, &nomem);
  sqlite3_stmt *ro = rst(&r, R_ROSTER);
  if (!ro)
    goto fail;
  btext(ro, 1, office);
  int sr;
  while (!nomem && (sr = sqlite3_step(ro)) == SQLITE_ROW) {
    const char *nip = (const char *)sqlite3_column_text(ro, 0);
    const char *name = (const char *)sqlite3_column_text(ro, 1);
    escore e;
    if ((rc = emp_score(&r, office, nip, &e))) {
      escore_release(&e);
      sqlite3_reset(ro);
      goto fail;
    }
    if (grow((void **)&d->employees, &cap, d->n, sizeof *d->employees)) {
      escore_release(&e);
      nomem = 1;
      break;
    }
    kj_report_employee *x = &d->employees[d->n++];
    kj_report_employee_init(x);
    x->nip = kj_report_strdup(nip, &nomem);
    x->name = kj_report_strdup(name, &nomem);
    x->capaian = e.has_cap ? e.cap_r : KJ_RNULL;
    x->rating_hasil_kerja = kj_report_strdup(e.hk >= 0 ? k_rating_names[e.hk] : NULL, &nomem);
    x->perilaku = e.has_pl ? e.pl_r : KJ_RNULL;
    x->rating_perilaku = kj_report_strdup(e.pr >= 0 ? k_rating_names[e.pr] : NULL, &nomem);
    x->predikat = kj_report_strdup(e.pred >= 0 ? k_pred_names[e.pred] : NULL, &nomem);
    if (e.nt && !(x->targets = calloc(e.nt, sizeof *x->targets)))
      nomem = 1;
    for (size_t i = 0; x->targets && i < e.nt; i++) {
      kj_report_target *t = &x->targets[x->ntargets++];
      t->indicator = kj_report_strdup(e.t[i].ind, &nomem);
      t->target = e.t[i].target;
      t->realisasi = e.t[i].real;
      t->capaian = e.t[i].cap_r;
    }
    escore_release(&e);
  }
  sqlite3_reset(ro);
  if (nomem) {
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
    goto fail;
  }
  if (sr != SQLITE_DONE) {
    rc = db_fail(db, err, "cannot read the roster");
    goto fail;
  }
  rctx_release(&r);
  return KJ_OK;
fail:
  kj_report_employees_release(d);
  rctx_release(&r);
  return rc ? rc : KJ_EDB;
}

kj_code kjs_report_employees(sqlite3 *db, const kjs_score_config *cfg, const char *period,
                             const char *office, kj_buf *out, kj_err *err) {
  kj_report_employees d;
  kj_code rc = kjs_report_employees_build(db, cfg, period, office, &d, err);
  if (!rc)
    rc = kj_report_employees_encode(&d, out, err);
  kj_report_employees_release(&d);
  return rc;
}

/* One office of the office report. */
typedef struct offrep {
  kj_report_office row; /* rank set once every office is known */
  int has_ikk;
  long long ikk; /* rounded, hundredths */
} offrep;

static int cmp_offrep(const void *a, const void *b) {
  const offrep *x = a, *y = b;
  if (x->has_ikk != y->has_ikk)
    return x->has_ikk ? -1 : 1;
  if (x->has_ikk && x->ikk != y->ikk)
    return x->ikk > y->ikk ? -1 : 1;
  return strcmp(x->row.office, y->row.office);
}

static const char *mutu_of(long long h, const char **kinerja) {
  if (h >= 8831) {
    *kinerja = "Sangat Baik";
    return "A";
  }
  if (h >= 7661) {
    *kinerja = "Baik";
    return "B";
  }
  if (h >= 6500) {
    *kinerja = "Kurang Baik";
    return "C";
  }
  *kinerja = "Tidak Baik";
  return "D";
}

static kj_code step_count(rctx *r, sqlite3_stmt *s, long long *out) {
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(s, 0);
    rc = sqlite3_step(s);
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE)
    return db_fail(r->db, r->err, "cannot read compliance");
  return KJ_OK;
}

typedef struct cmpinfo {
  kj_day eff;         /* last day counted */
  long long workdays; /* |workdays| */
  long long full_hi;  /* last full month (ym), < ym_lo when none */
  kj_day part_lo;     /* partial month [part_lo, eff], part_lo > eff when none */
  kj_day *hol;        /* distinct Monday-Friday holidays in [first, eff] */
  int nhol;
} cmpinfo;

static kj_code office_compliance(rctx *r, const cmpinfo *ci, const char *office, long long *pairs) {
  long long total = 0, x = 0;
  sqlite3_stmt *s;
  if (ci->full_hi >= r->ym_lo) {
    if (!(s = rst(r, R_CMP_MONTHS)))
      return KJ_EDB;
    btext(s, 1, office);
    sqlite3_bind_int64(s, 2, r->ym_lo);
    sqlite3_bind_int64(s, 3, ci->full_hi);
    if (step_count(r, s, &x))
      return KJ_EDB;
    total += x;
  }
  if (ci->part_lo <= ci->eff) {
    if (!(s = rst(r, R_CMP_DAYS)))
      return KJ_EDB;
    btext(s, 1, office);
    sqlite3_bind_int64(s, 2, ci->part_lo);
    sqlite3_bind_int64(s, 3, ci->eff);
    x = 0;
    if (step_count(r, s, &x))
      return KJ_EDB;
    total += x;
  }
  for (int i = 0; i < ci->nhol; i++) {
    if (!(s = rst(r, R_CMP_DAY)))
      return KJ_EDB;
    btext(s, 1, office);
    sqlite3_bind_int64(s, 2, ci->hol[i]);
    x = 0;
    if (step_count(r, s, &x))
      return KJ_EDB;
    total -= x;
  }
  *pairs = total;
  return KJ_OK;
}

/* The capaian mean of the employees' capaian (each capped at 100) summed in
 * capsum over ncap > 0 of them, into capmean (moved from capsum), rounded. An
 * arithmetic kj_code (no message). */
static kj_code capaian_mean(bq *capsum, long long ncap, bq *capmean, long long *rounded) {
  *capmean = *capsum; /* moves */
  bq_init(capsum);
  TRY(bq_mul_q(capmean, q_make(1, ncap)));
  return bq_round2(capmean, rounded);
}

/* The IKK of an office: the mean of its present components comp[i]
 * (capaian_mean for i == 1) weighted by cfg->w_ikk; *has = 0 when no
 * weighted component is present.  An arithmetic kj_code (no message). */
static kj_code office_ikk(const kjs_score_config *cfg, const int present[4], const q_t comp[4],
                          const bq *capmean, int *has, long long *ikk) {
  bq num;
  bq_init(&num);
  kj_code rc = bq_set_q(&num, q_int(0));
  long long wsum = 0;
  for (int i = 0; !rc && i < 4; i++) {
    if (!present[i] || !cfg->w_ikk[i])
      continue;
    bq term;
    if (i == 1) {
      rc = bq_copy(&term, capmean);
    } else {
      bq_init(&term);
      rc = bq_set_q(&term, comp[i]);
    }
    if (!rc)
      rc = bq_mul_q(&term, q_int(cfg->w_ikk[i]));
    if (!rc)
      rc = bq_add(&num, &term);
    bq_free(&term);
    wsum += cfg->w_ikk[i];
  }
  *has = wsum > 0;
  if (!rc && *has) {
    rc = bq_mul_q(&num, q_make(1, wsum));
    if (!rc)
      rc = bq_round2(&num, ikk);
  }
  bq_free(&num);
  return rc;
}

/* One office's row of the office report into o (o->row initialised by the
 * caller, released by it also on error): KJ_OK, or KJ_EDB, KJ_ENOMEM or
 * KJ_ETOOBIG with r->err filled. */
static kj_code office_report(rctx *r, const cmpinfo *ci, const char *code, const char *name,
                             int have_pop, long long pop, offrep *o) {
  kj_err *err = r->err;
  const kjs_score_config *cfg = r->cfg;
  kj_report_office *ro = &o->row;
  int nomem = 0;
  ro->office = kj_report_strdup(code, &nomem);
  ro->name = kj_report_strdup(name, &nomem);

  /* IKM: sums over the period (counts of 1..4 answers: int64 holds 2e18
   * surveys), per service in name order */
  sqlite3_stmt *s = rst(r, R_SURVEYS);
  if (!s)
    return KJ_EDB;
  btext(s, 1, code);
  sqlite3_bind_int64(s, 2, r->ym_lo);
  sqlite3_bind_int64(s, 3, r->ym_hi);
  long long n = 0, u[9] = {0};
  size_t capsv = 0;
  int rc;
  kj_code arc = KJ_OK;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    long long sn = sqlite3_column_int64(s, 1), su = 0;
    for (int i = 0; i < 9; i++) {
      long long v = sqlite3_column_int64(s, 2 + i);
      u[i] += v;
      su += v;
    }
    n += sn;
    long long ikm;
    if ((arc = q_round2(q_make(25 * (i128)su, 9 * (i128)sn), &ikm)))
      break;
    const char *kin;
    if (grow((void **)&ro->services, &capsv, ro->nservices, sizeof *ro->services)) {
      nomem = 1;
      break;
    }
    kj_report_service *sv = &ro->services[ro->nservices++];
    sv->service = kj_report_strdup((const char *)sqlite3_column_text(s, 0), &nomem);
    sv->n = sn;
    sv->ikm = ikm;
    sv->mutu = kj_report_strdup(mutu_of(ikm, &kin), &nomem);
  }
  sqlite3_reset(s);
  if (nomem)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  if (arc)
    return arith_fail(err, arc);
  if (rc != SQLITE_DONE)
    return db_fail(r->db, err, "cannot read surveys");
  ro->ikm.n = n;
  q_t ikm_q = q_int(0);
  if (n > 0) {
    long long su = 0;
    for (int i = 0; i < 9; i++)
      su += u[i];
    ikm_q = q_make(25 * (i128)su, 9 * (i128)n);
    long long h;
    if ((arc = q_round2(ikm_q, &h)))
      return arith_fail(err, arc);
    const char *kin;
    const char *mutu = mutu_of(h, &kin);
    ro->ikm.value = h;
    ro->ikm.mutu = kj_report_strdup(mutu, &nomem);
    ro->ikm.kinerja = kj_report_strdup(kin, &nomem);
    ro->ikm.has_nrr = 1;
    for (int i = 0; i < 9; i++)
      if ((arc = q_round2(q_make(u[i], n), &ro->ikm.nrr[i])))
        return arith_fail(err, arc);
  }
  if (have_pop) {
    long long smin = kjs_sample_min(pop);
    ro->ikm.sample_min = smin;
    ro->ikm.sample_ok = n >= smin;
  }

  /* complaints */
  if (!(s = rst(r, R_CDAYS)))
    return KJ_EDB;
  btext(s, 1, code);
  sqlite3_bind_int64(s, 2, r->ym_lo);
  sqlite3_bind_int64(s, 3, r->ym_hi);
  long long received = 0, resolved = 0, ontime = 0;
  long long *hd = NULL, *hc = NULL;
  int nh = 0, caph = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    long long days = sqlite3_column_int64(s, 0), cnt = sqlite3_column_int64(s, 1);
    received += cnt;
    if (days < 0)
      continue;
    resolved += cnt;
    if (days <= cfg->ontime_days)
      ontime += cnt;
    if (nh == caph) {
      caph = caph ? 2 * caph : 32;
      long long *a = realloc(hd, (size_t)caph * sizeof *a), *b;
      if (a)
        hd = a;
      b = a ? realloc(hc, (size_t)caph * sizeof *b) : NULL;
      if (!a || !b) {
        free(hd);
        free(hc);
        sqlite3_reset(s);
        return kj_fail(err, KJ_ENOMEM, "out of memory");
      }
      hc = b;
    }
    hd[nh] = days;
    hc[nh++] = cnt;
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) {
    free(hd);
    free(hc);
    return db_fail(r->db, err, "cannot read complaints");
  }
  ro->complaints.received = received;
  ro->complaints.resolved = resolved;
  ro->complaints.on_time = ontime;
  q_t otr = received ? q_make(100 * (i128)ontime, received) : q_int(0);
  ro->complaints.on_time_rate = KJ_RNULL;
  if (received > 0 && (arc = q_round2(otr, &ro->complaints.on_time_rate))) {
    free(hd);
    free(hc);
    return arith_fail(err, arc);
  }
  if (resolved > 0) {
    /* the k-th smallest (0-based) of the histogram */
    long long k1 = (resolved - 1) / 2, k2 = resolved / 2, v1 = 0, v2 = 0, seen = 0;
    for (int i = 0; i < nh; i++) {
      if (k1 >= seen && k1 < seen + hc[i])
        v1 = hd[i];
      if (k2 >= seen && k2 < seen + hc[i])
        v2 = hd[i];
      seen += hc[i];
    }
    ro->complaints.median_days = (v1 + v2) * 50;
  }
  free(hd);
  free(hc);

  /* employees (and the roster size for compliance) */
  if (!(s = rst(r, R_ROSTER)))
    return KJ_EDB;
  btext(s, 1, code);
  long long count = 0, ncap = 0, pred[KJS_PRED__COUNT] = {0};
  /* emp_score uses other statements: copy the nips out first */
  char(*nips)[KJ_ID_MAX + 1] = NULL;
  long long capn = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (count == capn) {
      capn = capn ? 2 * capn : 16;
      void *nn = realloc(nips, (size_t)capn * sizeof *nips);
      if (!nn) {
        free(nips);
        sqlite3_reset(s);
        return kj_fail(err, KJ_ENOMEM, "out of memory");
      }
      nips = nn;
    }
    snprintf(nips[count++], sizeof nips[0], "%s", (const char *)sqlite3_column_text(s, 0));
  }
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) {
    free(nips);
    return db_fail(r->db, err, "cannot read the roster");
  }
  bq capsum, capmean;
  bq_init(&capsum);
  bq_init(&capmean);
  if ((arc = bq_set_q(&capsum, q_int(0)))) {
    free(nips);
    bq_free(&capsum);
    return arith_fail(err, arc);
  }
  for (long long i = 0; i < count; i++) {
    escore e;
    kj_code erc = emp_score(r, code, nips[i], &e);
    if (!erc && e.has_cap) {
      int c = 0;
      arc = bq_cmp_int(&e.cap, 100, &c);
      if (!arc && c > 0)
        arc = bq_set_q(&e.cap, q_int(100));
      if (!arc)
        arc = bq_add(&capsum, &e.cap);
      ncap++;
    }
    if (!erc && e.pred >= 0)
      pred[e.pred]++;
    escore_release(&e);
    if (erc || arc) {
      free(nips);
      bq_free(&capsum);
      return erc ? erc : arith_fail(err, arc);
    }
  }
  free(nips);

  long long pairs = 0;
  int has_cmp = count > 0 && ci->workdays > 0;
  q_t cmp = q_int(0);
  ro->compliance = KJ_RNULL;
  if (has_cmp) {
    kj_code crc = office_compliance(r, ci, code, &pairs);
    if (!crc) {
      cmp = q_make(100 * (i128)pairs, (i128)count * ci->workdays);
      if ((arc = q_round2(cmp, &ro->compliance)))
        crc = arith_fail(err, arc);
    }
    if (crc) {
      bq_free(&capsum);
      return crc;
    }
  }
  ro->employees.count = count;
  ro->employees.capaian_mean = KJ_RNULL;
  if (ncap)
    arc = capaian_mean(&capsum, ncap, &capmean, &ro->employees.capaian_mean);
  bq_free(&capsum);
  for (int i = 0; i < KJS_PRED__COUNT; i++)
    ro->employees.predikat[i] = pred[i];

  /* IKK */
  int present[4] = {n > 0, ncap > 0, received > 0, has_cmp};
  q_t comp[4] = {ikm_q, q_int(0), otr, cmp};
  if (!arc)
    arc = office_ikk(cfg, present, comp, &capmean, &o->has_ikk, &o->ikk);
  bq_free(&capmean);
  if (arc)
    return arith_fail(err, arc);
  if (nomem)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  return KJ_OK;
}

kj_code kjs_report_offices_build(sqlite3 *db, const kjs_score_config *cfg, const char *period,
                                 const char *as_of, kj_report_offices *d, kj_err *err) {
  rctx r;
  kj_report_offices_init(d);
  kj_code rc = rctx_init(&r, db, cfg, period, err);
  if (rc)
    return rc;
  kj_day asof;
  char asof_s[KJ_DATE_STRLEN + 1];
  if (as_of) {
    if (kj_date_parse(as_of, &asof))
      return kj_fail(err, KJ_EINVAL, "invalid date '%s' (YYYY-MM-DD)", as_of);
  } else {
    asof = kj_today(0);
  }
  kj_date_format(asof, asof_s);

  cmpinfo ci;
  memset(&ci, 0, sizeof ci);
  ci.eff = asof < r.p.last ? asof : r.p.last;
  ci.workdays = kj_workdays(&r.p, asof, cfg->holidays, cfg->nholidays, NULL, 0);
  ci.full_hi = r.ym_lo - 1;
  ci.part_lo = ci.eff + 1;
  if (ci.eff >= r.p.first) {
    int y, m, dd;
    kj_day_to_civil(ci.eff, &y, &m, &dd);
    if (dd == kj_days_in_month(y, m)) {
      ci.full_hi = (long long)y * 100 + m;
    } else {
      ci.full_hi = m > 1 ? (long long)y * 100 + m - 1 : r.ym_lo - 1;
      ci.part_lo = kj_day_from_civil(y, m, 1);
    }
  }
  kj_day hol[512];
  ci.hol = hol;
  for (int i = 0; i < cfg->nholidays && ci.nhol < 512; i++) {
    kj_day h = cfg->holidays[i];
    if (h < r.p.first || h > ci.eff || kj_weekday(h) >= 5)
      continue;
    int dup = 0;
    for (int j = 0; j < ci.nhol && !dup; j++)
      dup = hol[j] == h;
    if (!dup)
      hol[ci.nhol++] = h;
  }

  offrep *offs = NULL;
  int noffs = 0;
  sqlite3_stmt *s = rst(&r, R_OFFICES);
  if (!s) {
    rctx_release(&r);
    return KJ_EDB;
  }
  /* read the office list first: office_report uses other statements */
  typedef struct {
    char *code, *name;
    int have_pop;
    long long pop;
  } orow;
  orow *rows = NULL;
  int nrows = 0, caprows = 0, sr;
  while ((sr = sqlite3_step(s)) == SQLITE_ROW) {
    if (nrows == caprows) {
      caprows = caprows ? 2 * caprows : 64;
      orow *nr = realloc(rows, (size_t)caprows * sizeof *nr);
      if (!nr) {
        rc = kj_fail(err, KJ_ENOMEM, "out of memory");
        break;
      }
      rows = nr;
    }
    orow *o = &rows[nrows++];
    o->code = strdup((const char *)sqlite3_column_text(s, 0));
    const unsigned char *nm = sqlite3_column_text(s, 1);
    o->name = nm ? strdup((const char *)nm) : NULL;
    o->have_pop = sqlite3_column_type(s, 2) != SQLITE_NULL;
    o->pop = sqlite3_column_int64(s, 2);
    if (!o->code || (nm && !o->name)) {
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
      break;
    }
  }
  sqlite3_reset(s);
  if (!rc && sr != SQLITE_DONE)
    rc = db_fail(db, err, "cannot read offices");
  if (!rc && nrows && !(offs = calloc((size_t)nrows, sizeof *offs)))
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
  for (int i = 0; !rc && offs && i < nrows; i++) {
    kj_report_office_init(&offs[noffs].row);
    rc = office_report(&r, &ci, rows[i].code, rows[i].name, rows[i].have_pop, rows[i].pop,
                       &offs[noffs]);
    noffs++;
  }
  for (int i = 0; i < nrows; i++) {
    free(rows[i].code);
    free(rows[i].name);
  }
  free(rows);
  rctx_release(&r);
  int nomem = 0;
  if (!rc) {
    d->period = kj_report_strdup(r.period, &nomem);
    d->as_of = kj_report_strdup(asof_s, &nomem);
    if (noffs && !(d->offices = calloc((size_t)noffs, sizeof *d->offices)))
      nomem = 1;
    if (nomem) {
      kj_fail(err, KJ_ENOMEM, "out of memory");
      rc = KJ_ENOMEM;
    }
  }
  if (rc) {
    for (int i = 0; offs && i < noffs; i++)
      kj_report_office_release(&offs[i].row);
    free(offs);
    kj_report_offices_release(d);
    return rc;
  }
  if (noffs > 1)
    qsort(offs, (size_t)noffs, sizeof *offs, cmp_offrep);
  for (int i = 0; i < noffs; i++) {
    offs[i].row.rank = i + 1;
    offs[i].row.ikk = offs[i].has_ikk ? offs[i].ikk : KJ_RNULL;
    d->offices[d->n++] = offs[i].row; /* moves */
  }
  free(offs);
  return KJ_OK;
}

kj_code kjs_report_offices(sqlite3 *db, const kjs_score_config *cfg, const char *period,
                           const char *as_of, kj_buf *out, kj_err *err) {
  kj_report_offices d;
  kj_code rc = kjs_report_offices_build(db, cfg, period, as_of, &d, err);
  if (!rc)
    rc = kj_report_offices_encode(&d, out, err);
  kj_report_offices_release(&d);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* recompute */

static kj_code exec_fmt(sqlite3 *db, kj_err *err, const char *fmt, const char *a, const char *b) {
  char sql[512];
  snprintf(sql, sizeof sql, fmt, a, b);
  if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_fail(db, err, "recompute");
  return KJ_OK;
}

static kj_code fill_from_records(sqlite3 *db, const char *schema, kj_err *err) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, "SELECT type, id, state FROM records WHERE deleted=0", -1, &s, NULL) !=
      SQLITE_OK)
    return db_fail(db, err, "cannot read records");
  uctx u = {db, schema, {0}, err};
  int rc, bad = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const char *state = (const char *)sqlite3_column_text(s, 2);
    cJSON *j = state ? cJSON_Parse(state) : NULL;
    kj_rstate st;
    kj_err e;
    if (!j || kj_rstate_from_json(j, &st, &e) != KJ_OK) {
      cJSON_Delete(j);
      bad = 1;
      break;
    }
    cJSON_Delete(j);
    contrib c;
    contrib_of(&st.rec, &c);
    kj_code arc = c.type != KJ_T_NONE ? apply(&u, &c, +1) : KJ_OK;
    kj_rstate_release(&st);
    if (arc) {
      sqlite3_finalize(s);
      uctx_release(&u);
      return arc;
    }
  }
  if (bad) {
    char id[64];
    snprintf(id, sizeof id, "%s", (const char *)sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    uctx_release(&u);
    return kj_fail(err, KJ_EDB, "record '%s' has an unreadable state", id);
  }
  sqlite3_finalize(s);
  uctx_release(&u);
  if (rc != SQLITE_DONE)
    return db_fail(db, err, "cannot read records");
  return KJ_OK;
}

/* Count in *ndiff (and list in diffs, when given) the rows of a.table that
 * b.table lacks. */
static kj_code list_only(sqlite3 *db, const char *table, const char *a, const char *b,
                         const char *label, kj_buf *diffs, int *ndiff, kj_err *err) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT * FROM %s.%s EXCEPT SELECT * FROM %s.%s", a, table, b, table);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
    return db_fail(db, err, "cannot compare");
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    (*ndiff)++;
    if (!diffs)
      continue;
    kj_buf_addf(diffs, "%s: %s only: ", table, label);
    int nc = sqlite3_column_count(s);
    for (int i = 0; i < nc; i++) {
      const unsigned char *t = sqlite3_column_text(s, i);
      kj_buf_addf(diffs, "%s%s=%s", i ? " " : "", sqlite3_column_name(s, i),
                  t ? (const char *)t : "NULL");
    }
    kj_buf_addc(diffs, '\n');
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE)
    return db_fail(db, err, "cannot compare");
  return KJ_OK;
}

kj_code kjs_score_rebuild(sqlite3 *db, int verify, kj_buf *diffs, int *ndiff, kj_err *err) {
  kj_code rc = kjs_score_schema(db, err);
  if (ndiff)
    *ndiff = 0;
  if (rc)
    return rc;
  if (!verify) {
    for (int i = 0; i < NTABLES; i++)
      if ((rc = exec_fmt(db, err, "DELETE FROM %s.%s", "main", k_names[i])))
        return rc;
    return fill_from_records(db, "main", err);
  }
  for (int i = 0; i < NTABLES; i++)
    if ((rc = exec_fmt(db, err, "DROP TABLE IF EXISTS %s.%s", "temp", k_names[i])))
      return rc;
  rc = create_tables(db, "temp", err);
  if (!rc)
    rc = fill_from_records(db, "temp", err);
  int n = 0;
  for (int i = 0; !rc && i < NTABLES; i++) {
    rc = list_only(db, k_names[i], "main", "temp", "maintained", diffs, &n, err);
    if (!rc)
      rc = list_only(db, k_names[i], "temp", "main", "recomputed", diffs, &n, err);
  }
  for (int i = 0; i < NTABLES; i++) {
    char sql[64];
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS temp.%s", k_names[i]);
    sqlite3_exec(db, sql, NULL, NULL, NULL);
  }
  if (!rc && ndiff)
    *ndiff = n;
  return rc;
}

/* ---------------------------------------------------------------------- */
/* formats and command line */

kj_code kjs_report_format(const char *json, const char *format, FILE *out, kj_err *err) {
  return kj_report_format(json, format, out, err);
}

kj_code kjs_score_cli_report(sqlite3 *db, const kjs_score_config *cfg, int argc, char **argv,
                             FILE *out, kj_err *err) {
  if (argc < 1)
    return kj_fail(err, KJ_EINVAL, "usage: report offices|employees --period P ...");
  const char *what = argv[0], *period = NULL, *as_of = NULL, *office = NULL, *fmt = "table";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--period") && i + 1 < argc)
      period = argv[++i];
    else if (!strcmp(a, "--as-of") && i + 1 < argc)
      as_of = argv[++i];
    else if (!strcmp(a, "--office") && i + 1 < argc)
      office = argv[++i];
    else if (!strcmp(a, "--json"))
      fmt = "json";
    else if (!strcmp(a, "--csv"))
      fmt = "csv";
    else
      return kj_fail(err, KJ_EINVAL, "report: unexpected argument '%s'", a);
  }
  int offices = !strcmp(what, "offices");
  if (!offices && strcmp(what, "employees") != 0)
    return kj_fail(err, KJ_EINVAL, "unknown report '%s' (offices, employees)", what);
  if (!period || (!offices && !office))
    return kj_fail(err, KJ_EINVAL, "report %s: --period%s is required", what,
                   offices ? "" : " and --office");
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_code rc = offices ? kjs_report_offices(db, cfg, period, as_of, &b, err)
                       : kjs_report_employees(db, cfg, period, office, &b, err);
  if (!rc)
    rc = kjs_report_format(kj_buf_str(&b), fmt, out, err);
  kj_buf_release(&b);
  return rc;
}

kj_code kjs_score_cli_recompute(sqlite3 *db, int argc, char **argv, FILE *out, int *ndiff,
                                kj_err *err) {
  int verify = 0;
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--verify"))
      verify = 1;
    else
      return kj_fail(err, KJ_EINVAL, "recompute: unexpected argument '%s'", argv[i]);
  }
  kj_buf d;
  kj_buf_init(&d, KJ_BUF_UNLIMITED);
  kj_code rc = kjs_score_rebuild(db, verify, &d, ndiff, err);
  fputs(kj_buf_str(&d), out);
  kj_buf_release(&d);
  return rc;
}
