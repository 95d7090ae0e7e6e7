/* score.c - the scores of domain.md: pure, with no database.
 *
 * What a record contributes to the aggregates (docs/scoring.md
 * "Aggregates"), the exact arithmetic (fractions, rounding half away from
 * zero) and the report documents of proto/reportdoc.h built from the rows
 * the score store returns.  The rows are read and written only through a
 * kjs_score_store (score_store.h); server/score_sqlite.c holds the SQL.
 *
 * The own-office rule (domain.md "Employee performance", docs/scoring.md):
 * the per-employee aggregates are keyed by the record's own `office` as well
 * as by the NIP, and a report reads for each employee only the rows of the
 * office of its roster row.  A record of office A naming an employee of
 * office B thus lands in rows that no report of B reads, and an employee who
 * moves office is scored from the new office's rows at once, with nothing
 * to move: the upkeep never depends on the roster, so the incremental
 * aggregates and a recompute stay equal whatever order records arrive in.
 */
#include "score.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* Sums of value * 1e6 are kept as hi * 1e18 + lo (score_store.h). */
#define E18 1000000000000000000LL

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

/* half up (values are >= 0) to hundredths: floor((200 n + d) / 2d), in
 * 128 bits when n and d fit (nearly always: bq_norm keeps them small),
 * else by a binary search over big products (the same result, capped at
 * 2^63 - 1). */
static kj_code bq_round2(const bq *x, long long *out) {
  if (x->d.n && big_fits(&x->n) && big_fits(&x->d)) {
    i128 n = big_to_i128(&x->n), d = big_to_i128(&x->d), t, h, d2;
    if (!mul128(n, 200, &t) && !add128(t, d, &h) && !mul128(2, d, &d2)) {
      h /= d2;
      if (h <= LLONG_MAX) {
        *out = (long long)h;
        return KJ_OK;
      }
    }
  }
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
/* Put c into the store (sign 1) or take it out (sign -1). */
static kj_code apply(const kjs_score_store *ss, const contrib *c, int sign, kj_err *err) {
  const kjs_score_store_ops *o = ss->ops;
  void *h = ss->h;
  switch (c->type) {
  case KJ_T_OFFICE: {
    if (sign < 0)
      return o->office_del(h, c->k1, err);
    const kjs_sc_office row = {c->k1, c->name, (int)c->have_pop, c->have_pop ? c->pop : 0};
    return o->office_put(h, &row, err);
  }
  case KJ_T_EMPLOYEE: {
    if (sign < 0)
      return o->emp_del(h, c->k1, err);
    const kjs_sc_emp row = {c->k1, c->k2, c->name};
    return o->emp_put(h, &row, err);
  }
  case KJ_T_SURVEY:
    return o->survey_add(h, c->k1, c->ym, c->k2, c->v, sign, err);
  case KJ_T_COMPLAINT:
    return o->cdays_add(h, c->k1, c->ym, c->days, sign, err);
  case KJ_T_ACTIVITY: {
    kj_code rc;
    if (c->have_real && (rc = o->real_add(h, c->office, c->k1, c->k2, c->ym, c->v[0], sign, err)))
      return rc;
    long long cnt = -99;
    if ((rc = o->actday_add(h, c->office, c->k1, c->day, (int)c->wd, sign, &cnt, err)))
      return rc;
    /* sc_actmonth counts the Monday-Friday days with at least one activity:
     * it moves when a day's count goes 0 -> 1 or 1 -> 0 */
    int edge = (sign > 0 && cnt == 1) || (sign < 0 && cnt == 0);
    if (edge && c->wd)
      return o->actmonth_add(h, c->office, c->k1, c->ym, sign, err);
    return KJ_OK;
  }
  case KJ_T_TARGET:
    return o->target_add(h, c->office, c->k1, c->k2, c->k3, c->v[0], c->v[1], sign, err);
  case KJ_T_RATING:
    return o->rating_add(h, c->office, c->k1, c->k2, c->k3, c->v[0], sign, err);
  default:
    return KJ_OK;
  }
}

/* The office whose part of the offices report c changes (NULL: none). */
static const char *office_of(const contrib *c) {
  switch (c->type) {
  case KJ_T_OFFICE:
  case KJ_T_SURVEY:
  case KJ_T_COMPLAINT:
    return c->k1;
  case KJ_T_EMPLOYEE:
    return c->k2;
  case KJ_T_ACTIVITY:
  case KJ_T_TARGET:
  case KJ_T_RATING:
    return c->office;
  default:
    return NULL;
  }
}

kj_code kjs_score_update(const kjs_score_store *ss, const kj_record *before, const kj_record *after,
                         kj_err *err) {
  contrib a, b;
  contrib_of(before, &b);
  contrib_of(after, &a);
  if (contrib_equal(&a, &b))
    return KJ_OK;
  if (!ss)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  kj_code rc = KJ_OK;
  /* the report memo: both offices' change counters (a move touches the
   * old office and the new) */
  if (ss->ops->office_touch) {
    const char *ob = b.type != KJ_T_NONE ? office_of(&b) : NULL;
    const char *oa = a.type != KJ_T_NONE ? office_of(&a) : NULL;
    if (ob)
      rc = ss->ops->office_touch(ss->h, ob, err);
    if (!rc && oa && !streq0(oa, ob))
      rc = ss->ops->office_touch(ss->h, oa, err);
    if (rc)
      return rc;
  }
  if (b.type != KJ_T_NONE)
    rc = apply(ss, &b, -1, err);
  if (!rc && a.type != KJ_T_NONE)
    rc = apply(ss, &a, +1, err);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* reports: documents built from the rows of the score store */

typedef struct tgt {
  char ind[KJ_ID_MAX + 1];
  i128 target, weight, real; /* * 1e6 */
  q_t cap;
  long long cap_r; /* cap rounded, hundredths */
} tgt;

/* a sum of the store: hi * 1e18 + lo */
static i128 sum128(kjs_sc_sum s) {
  return (i128)s.hi * E18 + s.lo;
}

typedef struct escore {
  int has_cap, has_pl;
  int cap_small; /* the capaian is capq (it fit in 128 bits), else cap */
  q_t capq;
  bq cap; /* the capaian chain: big fractions */
  q_t pl;
  long long cap_r, pl_r; /* cap and pl rounded, hundredths */
  int hk, pr, pred;      /* -1 = null */
  tgt *t;
  size_t nt, cap_t;
} escore;

typedef struct rctx {
  const kjs_score_store *ss;
  const kjs_score_config *cfg;
  kj_err *err;
  kj_period p;
  char period[8];
  long long ym_lo, ym_hi;
  /* the targets array of one employee, handed from one to the next
   * (emp_score, escore_done): no allocation per employee */
  tgt *tbuf;
  size_t tcap;
} rctx;

static kj_code rctx_init(rctx *r, const kjs_score_store *ss, const kjs_score_config *cfg,
                         const char *period, kj_err *err) {
  memset(r, 0, sizeof *r);
  r->ss = ss;
  r->cfg = cfg;
  r->err = err;
  if (!period || kj_period_parse(period, &r->p))
    return kj_fail(err, KJ_EINVAL, "invalid period '%s' (2026, 2026-Q1 or 2026-01)",
                   period ? period : "");
  if (!ss)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
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

/* escore_release, but e's targets array goes back to r for the next
 * employee */
static void escore_done(rctx *r, escore *e) {
  free(r->tbuf);
  r->tbuf = e->t;
  r->tcap = e->cap_t;
  e->t = NULL;
  escore_release(e);
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
  /* the fast path: the weighted sum in 128-bit fractions while it fits
   * (exact, so the same result); the big fractions below when it does not */
  q_t acc = q_int(0);
  int small = 1;
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
    q_t term;
    if (small && (q_mul(t->cap, q_make(t->weight, 1), &term) || q_add(acc, term, &acc)))
      small = 0;
    if (small && add128(wsum, t->weight, &wsum))
      small = 0;
  }
  e->has_cap = 1;
  if (small && !q_mul(acc, q_make(1, wsum), &e->capq) && !q_round2(e->capq, &e->cap_r)) {
    e->cap_small = 1;
    e->hk = class_of(e->cap_r, cfg->hk_diatas, cfg->hk_sesuai);
    return KJ_OK;
  }
  e->cap_small = 0;
  wsum = 0;
  TRY(bq_set_q(&e->cap, q_int(0)));
  for (size_t i = 0; i < e->nt; i++) {
    tgt *t = &e->t[i];
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

/* what emp_score's reads fill */
typedef struct ectx {
  escore *e;
  kj_err *err;
  long long at, ac, ot, oc; /* ratings: atasan total and count, others' */
} ectx;

static kj_code on_target(void *ctx, const kjs_sc_target *row) {
  ectx *x = ctx;
  escore *e = x->e;
  if (grow((void **)&e->t, &e->cap_t, e->nt, sizeof *e->t))
    return kj_fail(x->err, KJ_ENOMEM, "out of memory");
  tgt *t = &e->t[e->nt++];
  memset(t, 0, sizeof *t);
  snprintf(t->ind, sizeof t->ind, "%s", row->indicator ? row->indicator : "");
  t->target = sum128(row->target);
  t->weight = sum128(row->weight);
  return KJ_OK;
}

static kj_code on_real(void *ctx, const kjs_sc_real *row) {
  ectx *x = ctx;
  for (size_t i = 0; row->indicator && i < x->e->nt; i++)
    if (!strcmp(x->e->t[i].ind, row->indicator))
      x->e->t[i].real += sum128(row->qty);
  return KJ_OK;
}

static kj_code on_rating(void *ctx, const kjs_sc_rating *row) {
  ectx *x = ctx;
  if (row->role && !strcmp(row->role, "atasan")) {
    x->at += row->total;
    x->ac += row->cnt;
  } else {
    x->ot += row->total;
    x->oc += row->cnt;
  }
  return KJ_OK;
}

/* The scores of nip, an employee of office, into *e (released by the
 * caller, also on error): only the targets, activities and ratings of that
 * office count (domain.md "Employee performance").  KJ_OK, or the store's
 * code, KJ_ENOMEM, KJ_ETOOBIG with r->err filled. */
static kj_code emp_score(rctx *r, const char *office, const char *nip, escore *e) {
  memset(e, 0, sizeof *e);
  e->hk = e->pr = e->pred = -1;
  e->t = r->tbuf; /* the previous employee's array, if any (escore_done) */
  e->cap_t = r->tcap;
  r->tbuf = NULL;
  r->tcap = 0;
  const kjs_score_store_ops *o = r->ss->ops;
  ectx x = {e, r->err, 0, 0, 0, 0};
  kj_code rc = o->targets(r->ss->h, office, nip, r->period, on_target, &x, r->err);
  if (rc)
    return rc;
  if (e->nt) {
    if ((rc = o->reals(r->ss->h, office, nip, r->ym_lo, r->ym_hi, on_real, &x, r->err)))
      return rc;
    kj_code arc = emp_capaian(r->cfg, e);
    if (arc)
      return arith_fail(r->err, arc);
  }
  if ((rc = o->ratings(r->ss->h, office, nip, r->period, on_rating, &x, r->err)))
    return rc;
  if (x.ac > 0) {
    kj_code arc = emp_perilaku(r->cfg, x.at, x.ac, x.ot, x.oc, e);
    if (arc)
      return arith_fail(r->err, arc);
  }
  if (e->hk >= 0 && e->pr >= 0)
    e->pred = r->cfg->predikat[e->hk][e->pr];
  return KJ_OK;
}

/* A roster read out of the store: nip and name of each employee. */
typedef struct roster {
  char **nip, **name;
  size_t n, cap;
  kj_err *err;
} roster;

static void roster_release(roster *ro) {
  for (size_t i = 0; i < ro->n; i++) {
    free(ro->nip[i]);
    free(ro->name[i]);
  }
  free(ro->nip);
  free(ro->name);
  memset(ro, 0, sizeof *ro);
}

static kj_code on_emp(void *ctx, const kjs_sc_emp *row) {
  roster *ro = ctx;
  size_t cap = ro->cap;
  if (grow((void **)&ro->nip, &cap, ro->n, sizeof *ro->nip) ||
      grow((void **)&ro->name, &ro->cap, ro->n, sizeof *ro->name))
    return kj_fail(ro->err, KJ_ENOMEM, "out of memory");
  int nomem = 0;
  ro->nip[ro->n] = kj_report_strdup(row->nip ? row->nip : "", &nomem);
  ro->name[ro->n] = kj_report_strdup(row->name, &nomem);
  ro->n++;
  return nomem ? kj_fail(ro->err, KJ_ENOMEM, "out of memory") : KJ_OK;
}

static kj_code read_roster(rctx *r, const char *office, roster *ro) {
  memset(ro, 0, sizeof *ro);
  ro->err = r->err;
  return r->ss->ops->roster(r->ss->h, office, on_emp, ro, r->err);
}

kj_code kjs_report_employees_build(const kjs_score_store *ss, const kjs_score_config *cfg,
                                   const char *period, const char *office, kj_report_employees *d,
                                   kj_err *err) {
  rctx r;
  kj_report_employees_init(d);
  kj_code rc = rctx_init(&r, ss, cfg, period, err);
  if (rc)
    return rc;
  if (!office)
    return kj_fail(err, KJ_EINVAL, "an office is required");
  int nomem = 0;
  size_t cap = 0;
  roster ro;
  d->period = kj_report_strdup(r.period, &nomem);
  d->office = kj_report_strdup(office, &nomem);
  if ((rc = read_roster(&r, office, &ro)))
    goto fail;
  for (size_t k = 0; !nomem && k < ro.n; k++) {
    escore e;
    if ((rc = emp_score(&r, office, ro.nip[k], &e))) {
      escore_release(&e);
      goto fail;
    }
    if (grow((void **)&d->employees, &cap, d->n, sizeof *d->employees)) {
      escore_release(&e);
      nomem = 1;
      break;
    }
    kj_report_employee *x = &d->employees[d->n++];
    kj_report_employee_init(x);
    x->nip = kj_report_strdup(ro.nip[k], &nomem);
    x->name = kj_report_strdup(ro.name[k], &nomem);
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
  if (nomem) {
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
    goto fail;
  }
  roster_release(&ro);
  return KJ_OK;
fail:
  roster_release(&ro);
  kj_report_employees_release(d);
  return rc ? rc : KJ_EDB;
}

kj_code kjs_report_employees(const kjs_score_store *ss, const kjs_score_config *cfg,
                             const char *period, const char *office, kj_buf *out, kj_err *err) {
  kj_report_employees d;
  kj_code rc = kjs_report_employees_build(ss, cfg, period, office, &d, err);
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
  int no_data;   /* nothing to judge it by: unranked, after the ranked ones */
} offrep;

static int zero_or_null(long long v) {
  return v == 0 || v == KJ_RNULL;
}

/* An office of the period with no survey, no complaint received, no
 * activity (compliance 0 or null) and no capaian: nothing to judge it by
 * (docs/scoring.md "Ranking"; the dashboard's kjs_dash_mark_no_data says
 * the same of a document). */
static int office_no_data(const kj_report_office *o) {
  return zero_or_null(o->ikm.n) && zero_or_null(o->complaints.received) &&
         zero_or_null(o->compliance) && o->employees.capaian_mean == KJ_RNULL;
}

static int cmp_offrep(const void *a, const void *b) {
  const offrep *x = a, *y = b;
  if (x->no_data != y->no_data)
    return x->no_data ? 1 : -1;
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

typedef struct cmpinfo {
  kj_day eff;         /* last day counted */
  long long workdays; /* |workdays| */
  long long full_hi;  /* last full month (ym), < ym_lo when none */
  kj_day part_lo;     /* partial month [part_lo, eff], part_lo > eff when none */
  kj_day *hol;        /* distinct Monday-Friday holidays in [first, eff] */
  int nhol;
} cmpinfo;

static kj_code office_compliance(rctx *r, const cmpinfo *ci, const char *office, long long *pairs) {
  const kjs_score_store_ops *o = r->ss->ops;
  void *h = r->ss->h;
  long long total = 0, x = 0;
  kj_code rc;
  if (ci->full_hi >= r->ym_lo) {
    if ((rc = o->cmp_months(h, office, r->ym_lo, ci->full_hi, &x, r->err)))
      return rc;
    total += x;
  }
  if (ci->part_lo <= ci->eff) {
    x = 0;
    if ((rc = o->cmp_days(h, office, ci->part_lo, ci->eff, &x, r->err)))
      return rc;
    total += x;
  }
  for (int i = 0; i < ci->nhol; i++) {
    x = 0;
    if ((rc = o->cmp_day(h, office, ci->hol[i], &x, r->err)))
      return rc;
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

/* One service's row of the report: n surveys whose answers sum to su (all
 * nine unsur), IKM = 25 * su / (9 n) rounded (docs/scoring.md "IKM"),
 * its mutu.  sv is filled (strings malloc'd; name NULL stays NULL). */
static kj_code service_row(kj_report_service *sv, const char *name, long long n, i128 su,
                           kj_err *err) {
  sv->service = sv->mutu = NULL;
  sv->n = n;
  sv->ikm = KJ_RNULL;
  long long ikm;
  kj_code arc = q_round2(q_make(25 * su, 9 * (i128)n), &ikm);
  if (arc)
    return arith_fail(err, arc);
  const char *kin;
  int nomem = 0;
  sv->service = kj_report_strdup(name, &nomem);
  sv->ikm = ikm;
  sv->mutu = kj_report_strdup(mutu_of(ikm, &kin), &nomem);
  return nomem ? kj_fail(err, KJ_ENOMEM, "out of memory") : KJ_OK;
}

/* what office_report's survey read fills */
typedef struct svctx {
  kj_report_office *ro;
  kj_err *err;
  long long n, u[9]; /* over all services */
  size_t cap;        /* of ro->services */
} svctx;

static kj_code on_survey(void *ctx, const kjs_sc_survey *row) {
  svctx *x = ctx;
  kj_report_office *ro = x->ro;
  long long su = 0;
  for (int i = 0; i < 9; i++) {
    x->u[i] += row->u[i];
    su += row->u[i];
  }
  x->n += row->n;
  if (grow((void **)&ro->services, &x->cap, ro->nservices, sizeof *ro->services))
    return kj_fail(x->err, KJ_ENOMEM, "out of memory");
  return service_row(&ro->services[ro->nservices++], row->service, row->n, su, x->err);
}

/* what office_report's complaints read fills: counts and the histogram of
 * resolution days (hd[i] days: hc[i] complaints) */
typedef struct cdctx {
  const kjs_score_config *cfg;
  kj_err *err;
  long long received, resolved, ontime;
  long long *hd, *hc;
  int nh, caph;
} cdctx;

static kj_code on_cdays(void *ctx, const kjs_sc_cdays *row) {
  cdctx *x = ctx;
  long long days = row->days, cnt = row->cnt;
  x->received += cnt;
  if (days < 0)
    return KJ_OK;
  x->resolved += cnt;
  if (days <= x->cfg->ontime_days)
    x->ontime += cnt;
  if (x->nh == x->caph) {
    int caph = x->caph ? 2 * x->caph : 32;
    long long *a = realloc(x->hd, (size_t)caph * sizeof *a);
    if (!a)
      return kj_fail(x->err, KJ_ENOMEM, "out of memory");
    x->hd = a;
    long long *b = realloc(x->hc, (size_t)caph * sizeof *b);
    if (!b)
      return kj_fail(x->err, KJ_ENOMEM, "out of memory");
    x->hc = b;
    x->caph = caph;
  }
  x->hd[x->nh] = days;
  x->hc[x->nh++] = cnt;
  return KJ_OK;
}

/* One office's row of the office report into o (o->row initialised by the
 * caller, released by it also on error): KJ_OK, or KJ_EDB, KJ_ENOMEM or
 * KJ_ETOOBIG with r->err filled. */
static kj_code office_report(rctx *r, const cmpinfo *ci, const char *code, const char *name,
                             int have_pop, long long pop, offrep *o) {
  kj_err *err = r->err;
  const kjs_score_config *cfg = r->cfg;
  const kjs_score_store_ops *ops = r->ss->ops;
  kj_report_office *ro = &o->row;
  int nomem = 0;
  ro->office = kj_report_strdup(code, &nomem);
  ro->name = kj_report_strdup(name, &nomem);

  /* IKM: sums over the period (counts of 1..4 answers: int64 holds 2e18
   * surveys), per service in name order */
  svctx sv = {ro, err, 0, {0}, 0};
  kj_code rc = ops->surveys(r->ss->h, code, r->ym_lo, r->ym_hi, on_survey, &sv, err);
  if (rc)
    return rc;
  long long n = sv.n, *u = sv.u;
  kj_code arc = KJ_OK;
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
  cdctx cd = {cfg, err, 0, 0, 0, NULL, NULL, 0, 0};
  rc = ops->cdays(r->ss->h, code, r->ym_lo, r->ym_hi, on_cdays, &cd, err);
  if (rc) {
    free(cd.hd);
    free(cd.hc);
    return rc;
  }
  long long received = cd.received, resolved = cd.resolved, ontime = cd.ontime;
  ro->complaints.received = received;
  ro->complaints.resolved = resolved;
  ro->complaints.on_time = ontime;
  q_t otr = received ? q_make(100 * (i128)ontime, received) : q_int(0);
  ro->complaints.on_time_rate = KJ_RNULL;
  if (received > 0 && (arc = q_round2(otr, &ro->complaints.on_time_rate))) {
    free(cd.hd);
    free(cd.hc);
    return arith_fail(err, arc);
  }
  if (resolved > 0) {
    /* the k-th smallest (0-based) of the histogram */
    long long k1 = (resolved - 1) / 2, k2 = resolved / 2, v1 = 0, v2 = 0, seen = 0;
    for (int i = 0; i < cd.nh; i++) {
      if (k1 >= seen && k1 < seen + cd.hc[i])
        v1 = cd.hd[i];
      if (k2 >= seen && k2 < seen + cd.hc[i])
        v2 = cd.hd[i];
      seen += cd.hc[i];
    }
    ro->complaints.median_days = (v1 + v2) * 50;
  }
  free(cd.hd);
  free(cd.hc);

  /* employees (and the roster size for compliance) */
  roster rs;
  if ((rc = read_roster(r, code, &rs))) {
    roster_release(&rs);
    return rc;
  }
  long long count = (long long)rs.n, ncap = 0, pred[KJS_PRED__COUNT] = {0};
  q_t capq = q_int(0); /* the sum of the capped capaian while csmall */
  int csmall = 1;
  bq capsum, capmean;
  bq_init(&capsum);
  bq_init(&capmean);
  if ((arc = bq_set_q(&capsum, q_int(0)))) {
    roster_release(&rs);
    bq_free(&capsum);
    return arith_fail(err, arc);
  }
  for (long long i = 0; i < count; i++) {
    escore e;
    kj_code erc = emp_score(r, code, rs.nip[i], &e);
    if (!erc && e.has_cap && e.cap_small) {
      /* in 128 bits while the sum fits (capq), else the big capsum */
      int c = 0;
      arc = q_cmp(e.capq, q_int(100), &c);
      q_t x = c > 0 ? q_int(100) : e.capq, sum;
      if (!arc && csmall && q_add(capq, x, &sum) == KJ_OK) {
        capq = sum;
      } else if (!arc) {
        if (csmall) {
          csmall = 0;
          arc = bq_set_q(&capsum, capq);
        }
        bq t;
        bq_init(&t);
        if (!arc)
          arc = bq_set_q(&t, x);
        if (!arc)
          arc = bq_add(&capsum, &t);
        bq_free(&t);
      }
      ncap++;
    } else if (!erc && e.has_cap) {
      int c = 0;
      if (csmall) {
        csmall = 0;
        arc = bq_set_q(&capsum, capq);
      }
      if (!arc)
        arc = bq_cmp_int(&e.cap, 100, &c);
      if (!arc && c > 0)
        arc = bq_set_q(&e.cap, q_int(100));
      if (!arc)
        arc = bq_add(&capsum, &e.cap);
      ncap++;
    }
    if (!erc && e.pred >= 0)
      pred[e.pred]++;
    escore_done(r, &e);
    if (erc || arc) {
      roster_release(&rs);
      bq_free(&capsum);
      return erc ? erc : arith_fail(err, arc);
    }
  }
  roster_release(&rs);
  if (csmall && (arc = bq_set_q(&capsum, capq))) {
    bq_free(&capsum);
    return arith_fail(err, arc);
  }

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
/* The office list of the office report. */
typedef struct orow {
  char *code, *name;
  int have_pop;
  long long pop;
} orow;
typedef struct olist {
  orow *rows;
  int n, cap;
  kj_err *err;
} olist;

static kj_code on_office(void *ctx, const kjs_sc_office *row) {
  olist *l = ctx;
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    orow *nr = realloc(l->rows, (size_t)cap * sizeof *nr);
    if (!nr)
      return kj_fail(l->err, KJ_ENOMEM, "out of memory");
    l->rows = nr;
    l->cap = cap;
  }
  orow *o = &l->rows[l->n++];
  o->code = strdup(row->code ? row->code : "");
  o->name = row->name ? strdup(row->name) : NULL;
  o->have_pop = row->have_pop;
  o->pop = row->pop;
  if (!o->code || (row->name && !o->name))
    return kj_fail(l->err, KJ_ENOMEM, "out of memory");
  return KJ_OK;
}

/* ---------------------------------------------------------------------- */
/* The report memo (docs/scoring.md "The report memo").  An office's row of
 * the offices report depends only on that office's aggregate rows, the
 * period, the day it is built for and the score configuration; the store
 * raises the office's change counter (sc_office_ver) in every write
 * transaction that touches one of its rows (kjs_score_update), and its own
 * row "" at every clear.  So each office's row is kept here, per process,
 * keyed by (period, as_of, epoch, the store's own counter, the
 * configuration's fingerprint) for the set and by (office, counter) within
 * it; a report reads every counter (one statement), reuses the rows whose
 * counter is unchanged, builds the others, then ranks.  The memo is shared
 * by every store of the process: the store's own counter (random at
 * its first write) and epoch tell their rows apart. */
#define MEMO_SETS 16

typedef struct mpart {
  char *code;
  long long ver;
  offrep rep; /* unranked */
} mpart;

typedef struct mset {
  char key[200]; /* "" = empty */
  mpart *parts;  /* by code */
  int n;
  uint64_t used;
} mset;

static pthread_mutex_t g_memo_mu = PTHREAD_MUTEX_INITIALIZER;
static mset g_memo[MEMO_SETS];
static uint64_t g_memo_tick;
static int g_memo_state; /* 0: not decided, 1: on, -1: off */
static long g_memo_built;

static void mset_clear(mset *m) {
  for (int i = 0; i < m->n; i++) {
    free(m->parts[i].code);
    kj_report_office_release(&m->parts[i].rep.row);
  }
  free(m->parts);
  memset(m, 0, sizeof *m);
}

void kjs_report_memo_enable(int on) {
  pthread_mutex_lock(&g_memo_mu);
  g_memo_state = on ? 1 : -1;
  pthread_mutex_unlock(&g_memo_mu);
}

long kjs_report_memo_built(void) {
  pthread_mutex_lock(&g_memo_mu);
  long n = g_memo_built;
  pthread_mutex_unlock(&g_memo_mu);
  return n;
}

/* on unless KJ_REPORT_MEMO=off (the bench's cold builds) or turned off */
static int memo_on(void) {
  pthread_mutex_lock(&g_memo_mu);
  if (!g_memo_state) {
    const char *e = getenv("KJ_REPORT_MEMO");
    g_memo_state = e && !strcmp(e, "off") ? -1 : 1;
  }
  int on = g_memo_state > 0;
  pthread_mutex_unlock(&g_memo_mu);
  return on;
}

/* a deep copy of src into dst (dst's strings and services its own):
 * 0, or -1 out of memory (dst then released) */
static int offrep_copy(offrep *dst, const offrep *src) {
  *dst = *src;
  kj_report_office *o = &dst->row;
  const kj_report_office *x = &src->row;
  int nomem = 0;
  o->office = kj_report_strdup(x->office, &nomem);
  o->name = kj_report_strdup(x->name, &nomem);
  o->ikm.mutu = kj_report_strdup(x->ikm.mutu, &nomem);
  o->ikm.kinerja = kj_report_strdup(x->ikm.kinerja, &nomem);
  o->services = NULL;
  o->nservices = 0;
  if (x->nservices && !(o->services = calloc(x->nservices, sizeof *o->services)))
    nomem = 1;
  for (size_t i = 0; o->services && i < x->nservices; i++) {
    o->services[i] = x->services[i];
    o->services[i].service = kj_report_strdup(x->services[i].service, &nomem);
    o->services[i].mutu = kj_report_strdup(x->services[i].mutu, &nomem);
    o->nservices++;
  }
  if (nomem) {
    kj_report_office_release(o);
    return -1;
  }
  return 0;
}

/* the configuration's fingerprint (FNV-1a over its values) */
static uint64_t cfg_hash(const kjs_score_config *c) {
  long long v[32];
  int n = 0;
  v[n++] = c->hk_diatas;
  v[n++] = c->hk_sesuai;
  v[n++] = c->pl_diatas;
  v[n++] = c->pl_sesuai;
  v[n++] = c->w_atasan;
  v[n++] = c->w_others;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      v[n++] = c->predikat[i][j];
  for (int i = 0; i < 4; i++)
    v[n++] = c->w_ikk[i];
  v[n++] = c->ontime_days;
  v[n++] = c->nholidays;
  uint64_t h = 1469598103934665603ULL;
  const unsigned char *p = (const unsigned char *)v;
  for (size_t i = 0; i < (size_t)n * sizeof *v; i++)
    h = (h ^ p[i]) * 1099511628211ULL;
  for (int i = 0; i < c->nholidays; i++) {
    long long d = c->holidays[i];
    p = (const unsigned char *)&d;
    for (size_t k = 0; k < sizeof d; k++)
      h = (h ^ p[k]) * 1099511628211ULL;
  }
  return h;
}

/* the change counters of a report: (office, ver) by office */
typedef struct vent {
  char *code;
  long long ver;
} vent;
typedef struct vlist {
  vent *v;
  int n, cap;
  long long own; /* the store's own row "" */
  kj_err *err;
} vlist;

static kj_code on_ver(void *ctx, const char *office, long long ver) {
  vlist *l = ctx;
  if (!*office) {
    l->own = ver;
    return KJ_OK;
  }
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    vent *nv = realloc(l->v, (size_t)cap * sizeof *nv);
    if (!nv)
      return kj_fail(l->err, KJ_ENOMEM, "out of memory");
    l->v = nv;
    l->cap = cap;
  }
  if (!(l->v[l->n].code = strdup(office)))
    return kj_fail(l->err, KJ_ENOMEM, "out of memory");
  l->v[l->n++].ver = ver;
  return KJ_OK;
}

static int cmp_vent(const void *a, const void *b) {
  return strcmp(((const vent *)a)->code, ((const vent *)b)->code);
}

static void vlist_release(vlist *l) {
  for (int i = 0; i < l->n; i++)
    free(l->v[i].code);
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* office's counter in l (sorted): 0 when it has none (never written since
 * the counters exist) */
static long long ver_of(const vlist *l, const char *office) {
  vent k = {(char *)office, 0};
  const vent *f = l->n ? bsearch(&k, l->v, (size_t)l->n, sizeof *l->v, cmp_vent) : NULL;
  return f ? f->ver : 0;
}

static int cmp_mpart(const void *a, const void *b) {
  return strcmp(((const mpart *)a)->code, ((const mpart *)b)->code);
}

/* The kept row of office at ver in the set of key, copied into o: 1, else
 * 0 (o untouched).  Caller holds g_memo_mu. */
static int memo_find(mset *m, const char *office, long long ver, offrep *o) {
  if (!m)
    return 0;
  mpart k = {(char *)office, 0, {{0}, 0, 0, 0}};
  mpart *f = m->n ? bsearch(&k, m->parts, (size_t)m->n, sizeof *m->parts, cmp_mpart) : NULL;
  if (!f || f->ver != ver)
    return 0;
  return offrep_copy(o, &f->rep) == 0;
}

/* Keep offs[0..n) (unranked, codes in ascending order, vers[i] each) as the
 * set of key: best effort (nothing kept when out of memory). */
static void memo_put(const char *key, const offrep *offs, const long long *vers, int n) {
  mpart *parts = n ? calloc((size_t)n, sizeof *parts) : NULL;
  if (n && !parts)
    return;
  for (int i = 0; i < n; i++) {
    int bad = offrep_copy(&parts[i].rep, &offs[i]); /* released when it fails */
    if (!bad && !(parts[i].code = strdup(offs[i].row.office))) {
      kj_report_office_release(&parts[i].rep.row);
      bad = 1;
    }
    if (bad) {
      mset tmp = {"", parts, i, 0};
      mset_clear(&tmp);
      return;
    }
    parts[i].ver = vers[i];
  }
  if (n > 1)
    qsort(parts, (size_t)n, sizeof *parts, cmp_mpart);
  pthread_mutex_lock(&g_memo_mu);
  mset *v = NULL;
  for (int i = 0; i < MEMO_SETS && !v; i++)
    if (!strcmp(g_memo[i].key, key))
      v = &g_memo[i];
  for (int i = 0; i < MEMO_SETS && !v; i++)
    if (!g_memo[i].key[0])
      v = &g_memo[i];
  if (!v) { /* the least recently used */
    v = &g_memo[0];
    for (int i = 1; i < MEMO_SETS; i++)
      if (g_memo[i].used < v->used)
        v = &g_memo[i];
  }
  mset_clear(v);
  snprintf(v->key, sizeof v->key, "%s", key);
  v->parts = parts;
  v->n = n;
  v->used = ++g_memo_tick;
  pthread_mutex_unlock(&g_memo_mu);
}

kj_code kjs_report_offices_build(const kjs_score_store *ss, const kjs_score_config *cfg,
                                 const char *period, const char *as_of, kj_report_offices *d,
                                 kj_err *err) {
  rctx r;
  kj_report_offices_init(d);
  kj_code rc = rctx_init(&r, ss, cfg, period, err);
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

  /* the memo's key and the change counters, in this transaction */
  int memo = memo_on() && ss->ops->office_vers;
  vlist vl = {NULL, 0, 0, 0, err};
  char epoch[64] = "", mkey[200] = "";
  if (memo) {
    rc = ss->ops->office_vers(ss->h, epoch, sizeof epoch, on_ver, &vl, err);
    if (rc) {
      vlist_release(&vl);
      return rc;
    }
    if (vl.n > 1)
      qsort(vl.v, (size_t)vl.n, sizeof *vl.v, cmp_vent);
    snprintf(mkey, sizeof mkey, "%s %s %.64s %lld %016" PRIx64, r.period, asof_s, epoch, vl.own,
             cfg_hash(cfg));
  }

  offrep *offs = NULL;
  long long *vers = NULL;
  char *kept = NULL; /* kept[i]: offs[i] came from the memo */
  int noffs = 0, nbuild = 0;
  /* read the office list first: office_report reads the store again */
  olist ol = {NULL, 0, 0, err};
  rc = ss->ops->offices(ss->h, on_office, &ol, err);
  orow *rows = ol.rows;
  int nrows = ol.n;
  if (!rc && nrows &&
      (!(offs = calloc((size_t)nrows, sizeof *offs)) ||
       !(vers = calloc((size_t)nrows, sizeof *vers)) || !(kept = calloc((size_t)nrows, 1))))
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
  if (!rc && memo && nrows) {
    pthread_mutex_lock(&g_memo_mu);
    mset *m = NULL;
    for (int i = 0; i < MEMO_SETS && !m; i++)
      if (!strcmp(g_memo[i].key, mkey))
        m = &g_memo[i];
    if (m)
      m->used = ++g_memo_tick;
    for (int i = 0; i < nrows; i++) {
      vers[i] = ver_of(&vl, rows[i].code);
      kept[i] = (char)memo_find(m, rows[i].code, vers[i], &offs[i]);
      nbuild += !kept[i];
    }
    pthread_mutex_unlock(&g_memo_mu);
    /* a few offices: their own reads, not every office's at once */
    if (nbuild * 8 < nrows && ss->ops->few_offices)
      ss->ops->few_offices(ss->h);
  } else {
    nbuild = nrows;
  }
  for (int i = 0; !rc && offs && i < nrows; i++) {
    noffs++;
    if (kept[i])
      continue;
    kj_report_office_init(&offs[i].row);
    rc =
        office_report(&r, &ci, rows[i].code, rows[i].name, rows[i].have_pop, rows[i].pop, &offs[i]);
  }
  for (int i = 0; i < nrows; i++) {
    free(rows[i].code);
    free(rows[i].name);
  }
  free(rows);
  free(kept);
  free(r.tbuf);
  vlist_release(&vl);
  if (rc && offs)
    noffs = nrows; /* rows kept from the memo past the failure are released too */
  pthread_mutex_lock(&g_memo_mu);
  g_memo_built += nbuild;
  pthread_mutex_unlock(&g_memo_mu);
  if (!rc && memo)
    memo_put(mkey, offs, vers, noffs); /* the office list comes by code */
  free(vers);
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
  for (int i = 0; i < noffs; i++)
    offs[i].no_data = office_no_data(&offs[i].row);
  if (noffs > 1)
    qsort(offs, (size_t)noffs, sizeof *offs, cmp_offrep);
  /* ranks 1..k for the offices with data, in IKK order; an office without
   * data has no rank, no IKK and no compliance (its 0 % of an empty
   * roster's workdays would be its IKK 0.00), and takes no rank number */
  long long rank = 0;
  for (int i = 0; i < noffs; i++) {
    if (offs[i].no_data) {
      offs[i].row.rank = offs[i].row.ikk = offs[i].row.compliance = KJ_RNULL;
    } else {
      offs[i].row.rank = ++rank;
      offs[i].row.ikk = offs[i].has_ikk ? offs[i].ikk : KJ_RNULL;
    }
    d->offices[d->n++] = offs[i].row; /* moves */
  }
  free(offs);
  return KJ_OK;
}

kj_code kjs_report_offices(const kjs_score_store *ss, const kjs_score_config *cfg,
                           const char *period, const char *as_of, kj_buf *out, kj_err *err) {
  kj_report_offices d;
  kj_code rc = kjs_report_offices_build(ss, cfg, period, as_of, &d, err);
  if (!rc)
    rc = kj_report_offices_encode(&d, out, err);
  kj_report_offices_release(&d);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* /publik's services */

typedef struct foldctx {
  const char *const *listed;
  size_t nlisted;
  char **keys;  /* kj_service_key of listed[i] */
  long long *n; /* [nlisted + 1]: the last is the other services */
  i128 *su;
  int *seen;
  /* no service listed: every stored name its own row, as the report has them */
  kjs_service_fold *asis;
  size_t cap;
  kj_err *err;
} foldctx;

static kj_code on_fold(void *ctx, const kjs_sc_survey *row) {
  foldctx *x = ctx;
  if (x->asis) {
    long long su = 0;
    for (int i = 0; i < 9; i++)
      su += row->u[i];
    kjs_service_fold *o = x->asis;
    if (grow((void **)&o->services, &x->cap, o->n, sizeof *o->services))
      return kj_fail(x->err, KJ_ENOMEM, "out of memory");
    return service_row(&o->services[o->n++], row->service, row->n, su, x->err);
  }
  const char *name = row->service ? row->service : "";
  char *key = malloc(strlen(name) + 1);
  if (!key)
    return KJ_ENOMEM;
  kj_service_key(name, key);
  size_t g = x->nlisted; /* not listed: the other services */
  for (size_t i = 0; i < x->nlisted; i++)
    if (x->keys[i] && !strcmp(key, x->keys[i])) {
      g = i;
      break;
    }
  free(key);
  i128 su = 0;
  for (int i = 0; i < 9; i++)
    su += row->u[i];
  x->n[g] += row->n;
  x->su[g] += su;
  x->seen[g] = 1;
  return KJ_OK;
}

void kjs_service_fold_release(kjs_service_fold *f) {
  for (size_t i = 0; f && i < f->n; i++) {
    free(f->services[i].service);
    free(f->services[i].mutu);
  }
  if (f) {
    free(f->services);
    free(f->other.service);
    free(f->other.mutu);
    memset(f, 0, sizeof *f);
  }
}

static int cmp_service(const void *a, const void *b) {
  const char *x = ((const kj_report_service *)a)->service,
             *y = ((const kj_report_service *)b)->service;
  return strcmp(x ? x : "", y ? y : "");
}

kj_code kjs_report_services_fold(const kjs_score_store *ss, const char *period, const char *office,
                                 const char *const *listed, size_t nlisted, kjs_service_fold *out,
                                 kj_err *err) {
  memset(out, 0, sizeof *out);
  kj_period p;
  if (!period || kj_period_parse(period, &p))
    return kj_fail(err, KJ_EINVAL, "invalid period '%s' (2026, 2026-Q1 or 2026-01)",
                   period ? period : "");
  if (!ss)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  size_t ng = nlisted + 1;
  foldctx x = {listed,
               nlisted,
               NULL,
               calloc(ng, sizeof(long long)),
               calloc(ng, sizeof(i128)),
               calloc(ng, sizeof(int)),
               nlisted ? NULL : out,
               0,
               err};
  x.keys = nlisted ? calloc(nlisted, sizeof *x.keys) : NULL;
  if (!x.n || !x.su || !x.seen || (nlisted && !x.keys)) {
    free(x.keys);
    free(x.n);
    free(x.su);
    free(x.seen);
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  kj_code rc = KJ_OK;
  for (size_t i = 0; !rc && x.keys && i < nlisted; i++)
    if (listed[i]) {
      if (!(x.keys[i] = malloc(strlen(listed[i]) + 1)))
        rc = kj_fail(err, KJ_ENOMEM, "out of memory");
      else
        kj_service_key(listed[i], x.keys[i]);
    }
  if (!rc) {
    rc = ss->ops->surveys(ss->h, office, ym_of(p.first), ym_of(p.last), on_fold, &x, err);
    if (rc == KJ_ENOMEM && err && !err->msg[0])
      kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  size_t nseen = 0;
  for (size_t i = 0; !rc && i < nlisted; i++)
    nseen += (size_t)x.seen[i];
  if (!rc && nseen && !(out->services = calloc(nseen, sizeof *out->services)))
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
  for (size_t i = 0; !rc && out->services && i < nlisted; i++)
    if (x.seen[i] && x.n[i] > 0) {
      rc = service_row(&out->services[out->n], listed[i], x.n[i], x.su[i], err);
      out->n++; /* released with the others also when it failed */
    }
  if (!rc && x.seen[nlisted] && x.n[nlisted] > 0) {
    rc = service_row(&out->other, NULL, x.n[nlisted], x.su[nlisted], err);
    out->has_other = 1;
  }
  if (!rc && out->services && out->n > 1)
    qsort(out->services, out->n, sizeof *out->services, cmp_service);
  for (size_t i = 0; x.keys && i < nlisted; i++)
    free(x.keys[i]);
  free(x.keys);
  free(x.n);
  free(x.su);
  free(x.seen);
  if (rc)
    kjs_service_fold_release(out);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* ---------------------------------------------------------------------- */
/* formats and command line */

kj_code kjs_report_format(const char *json, const char *format, FILE *out, kj_err *err) {
  return kj_report_format(json, format, out, err);
}

kj_code kjs_score_cli_report(const kjs_score_store *ss, const kjs_score_config *cfg, int argc,
                             char **argv, FILE *out, kj_err *err) {
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
    return kj_fail(err, KJ_EINVAL,
                   offices ? "report %s: --period is required"
                           : "report %s: --period and --office are required",
                   what);
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_code rc = offices ? kjs_report_offices(ss, cfg, period, as_of, &b, err)
                       : kjs_report_employees(ss, cfg, period, office, &b, err);
  if (!rc)
    rc = kjs_report_format(kj_buf_str(&b), fmt, out, err);
  kj_buf_release(&b);
  return rc;
}
