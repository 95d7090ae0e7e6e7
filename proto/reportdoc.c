/* reportdoc.c - the report documents: init/release, the one encoder and the
 * one decoder of each (see reportdoc.h; domain.md "Report format").
 *
 * The encoder builds a cJSON tree whose numbers are raw text (so 82.30 stays
 * "82.30" and an exact decimal is never rounded through a double) and prints
 * it unformatted: cJSON does the string escaping.  The decoder walks cJSON's
 * parse, naming the key of the first value it cannot take.
 */
#include "reportdoc.h"

#include <cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const kj_predikat_names[KJ_PREDIKAT_COUNT] = {"Sangat Baik", "Baik", "Butuh Perbaikan",
                                                          "Kurang", "Sangat Kurang"};

/* ---------------------------------------------------------------------- */
/* init / release */

void kj_report_office_init(kj_report_office *o) {
  memset(o, 0, sizeof *o);
  o->rank = o->ikk = KJ_RNULL;
  o->ikm.n = o->ikm.value = o->ikm.sample_min = KJ_RNULL;
  o->ikm.sample_ok = -1;
  for (int i = 0; i < 9; i++)
    o->ikm.nrr[i] = KJ_RNULL;
  o->complaints.received = o->complaints.resolved = o->complaints.on_time = KJ_RNULL;
  o->complaints.on_time_rate = o->complaints.median_days = KJ_RNULL;
  o->compliance = KJ_RNULL;
  o->employees.count = o->employees.capaian_mean = KJ_RNULL;
}

void kj_report_employee_init(kj_report_employee *e) {
  memset(e, 0, sizeof *e);
  e->capaian = e->perilaku = KJ_RNULL;
}

void kj_report_offices_init(kj_report_offices *d) {
  memset(d, 0, sizeof *d);
}

void kj_report_employees_init(kj_report_employees *d) {
  memset(d, 0, sizeof *d);
}

void kj_report_scores_init(kj_report_scores *d) {
  memset(d, 0, sizeof *d);
  kj_report_office_init(&d->office);
}

void kj_report_office_release(kj_report_office *o) {
  if (!o)
    return;
  free(o->office);
  free(o->name);
  free(o->ikm.mutu);
  free(o->ikm.kinerja);
  for (size_t i = 0; i < o->nservices; i++) {
    free(o->services[i].service);
    free(o->services[i].mutu);
  }
  free(o->services);
  kj_report_office_init(o);
}

void kj_report_employee_release(kj_report_employee *e) {
  if (!e)
    return;
  free(e->nip);
  free(e->name);
  free(e->rating_hasil_kerja);
  free(e->rating_perilaku);
  free(e->predikat);
  for (size_t i = 0; i < e->ntargets; i++)
    free(e->targets[i].indicator);
  free(e->targets);
  kj_report_employee_init(e);
}

void kj_report_offices_release(kj_report_offices *d) {
  if (!d)
    return;
  free(d->period);
  free(d->as_of);
  for (size_t i = 0; i < d->n; i++)
    kj_report_office_release(&d->offices[i]);
  free(d->offices);
  kj_report_offices_init(d);
}

void kj_report_employees_release(kj_report_employees *d) {
  if (!d)
    return;
  free(d->period);
  free(d->office);
  for (size_t i = 0; i < d->n; i++)
    kj_report_employee_release(&d->employees[i]);
  free(d->employees);
  kj_report_employees_init(d);
}

void kj_report_scores_release(kj_report_scores *d) {
  if (!d)
    return;
  free(d->period);
  free(d->as_of);
  kj_report_office_release(&d->office);
  for (size_t i = 0; i < d->n; i++)
    kj_report_employee_release(&d->employees[i]);
  free(d->employees);
  kj_report_scores_init(d);
}

char *kj_report_strdup(const char *s, int *nomem) {
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  char *c = malloc(n);
  if (!c) {
    if (nomem)
      *nomem = 1;
    return NULL;
  }
  memcpy(c, s, n);
  return c;
}

/* ---------------------------------------------------------------------- */
/* numbers as text */

void kj_report_fmt2(long long h, char *out, size_t size) {
  unsigned long long a = h < 0 ? 0ULL - (unsigned long long)h : (unsigned long long)h;
  snprintf(out, size, "%s%llu.%02llu", h < 0 ? "-" : "", a / 100, a % 100);
}

/* unsigned 128-bit integer in decimal */
static void u128_str(unsigned __int128 v, char *out, size_t size) {
  char tmp[48];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + (int)(v % 10));
    v /= 10;
  } while (v && n < (int)sizeof tmp);
  size_t i = 0;
  while (n > 0 && i + 1 < size)
    out[i++] = tmp[--n];
  if (size)
    out[i] = 0;
}

void kj_report_fmt_micro(kj_micro v, char *out, size_t size) {
  unsigned __int128 a = v < 0 ? (unsigned __int128)0 - (unsigned __int128)v : (unsigned __int128)v;
  unsigned __int128 ip = a / 1000000;
  unsigned fr = (unsigned)(a % 1000000);
  char is[48], f[8];
  u128_str(ip, is, sizeof is);
  if (!fr) {
    snprintf(out, size, "%s%s", v < 0 ? "-" : "", is);
    return;
  }
  snprintf(f, sizeof f, "%06u", fr);
  for (int i = 5; i > 0 && f[i] == '0'; i--)
    f[i] = 0;
  snprintf(out, size, "%s%s.%s", v < 0 ? "-" : "", is, f);
}

/* ---------------------------------------------------------------------- */
/* encoder */

typedef struct enc {
  int nomem;
} enc;

static cJSON *chk(enc *x, cJSON *j) {
  if (!j)
    x->nomem = 1;
  return j;
}

static void put(enc *x, cJSON *obj, const char *key, cJSON *item) {
  if (!item) {
    x->nomem = 1;
    return;
  }
  if (!cJSON_AddItemToObject(obj, key, item)) {
    cJSON_Delete(item);
    x->nomem = 1;
  }
}

static void push(enc *x, cJSON *arr, cJSON *item) {
  if (!item) {
    x->nomem = 1;
    return;
  }
  if (!cJSON_AddItemToArray(arr, item)) {
    cJSON_Delete(item);
    x->nomem = 1;
  }
}

static cJSON *j_str(const char *s) {
  return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *j_int(long long v) {
  if (v == KJ_RNULL)
    return cJSON_CreateNull();
  char b[24];
  snprintf(b, sizeof b, "%lld", v);
  return cJSON_CreateRaw(b);
}

static cJSON *j_h(long long h) {
  if (h == KJ_RNULL)
    return cJSON_CreateNull();
  char b[32];
  kj_report_fmt2(h, b, sizeof b);
  return cJSON_CreateRaw(b);
}

static cJSON *j_micro(kj_micro v) {
  char b[64];
  kj_report_fmt_micro(v, b, sizeof b);
  return cJSON_CreateRaw(b);
}

static cJSON *enc_office(enc *x, const kj_report_office *o) {
  cJSON *obj = chk(x, cJSON_CreateObject());
  if (!obj)
    return NULL;
  put(x, obj, "office", j_str(o->office));
  put(x, obj, "name", j_str(o->name));
  put(x, obj, "rank", j_int(o->rank));
  put(x, obj, "ikk", j_h(o->ikk));
  cJSON *ikm = chk(x, cJSON_CreateObject());
  if (ikm) {
    put(x, ikm, "n", j_int(o->ikm.n));
    put(x, ikm, "value", j_h(o->ikm.value));
    put(x, ikm, "mutu", j_str(o->ikm.mutu));
    put(x, ikm, "kinerja", j_str(o->ikm.kinerja));
    cJSON *nrr = o->ikm.has_nrr ? chk(x, cJSON_CreateArray()) : cJSON_CreateNull();
    for (int i = 0; o->ikm.has_nrr && nrr && i < 9; i++)
      push(x, nrr, j_h(o->ikm.nrr[i]));
    put(x, ikm, "nrr", nrr);
    put(x, ikm, "sample_min", j_int(o->ikm.sample_min));
    put(x, ikm, "sample_ok",
        o->ikm.sample_ok < 0 ? cJSON_CreateNull() : cJSON_CreateBool(o->ikm.sample_ok));
    put(x, obj, "ikm", ikm);
  }
  cJSON *sv = chk(x, cJSON_CreateArray());
  for (size_t i = 0; sv && i < o->nservices; i++) {
    const kj_report_service *s = &o->services[i];
    cJSON *so = chk(x, cJSON_CreateObject());
    if (!so)
      break;
    put(x, so, "service", j_str(s->service));
    put(x, so, "n", j_int(s->n));
    put(x, so, "ikm", j_h(s->ikm));
    put(x, so, "mutu", j_str(s->mutu));
    push(x, sv, so);
  }
  put(x, obj, "services", sv);
  cJSON *cj = chk(x, cJSON_CreateObject());
  if (cj) {
    put(x, cj, "received", j_int(o->complaints.received));
    put(x, cj, "resolved", j_int(o->complaints.resolved));
    put(x, cj, "on_time", j_int(o->complaints.on_time));
    put(x, cj, "on_time_rate", j_h(o->complaints.on_time_rate));
    put(x, cj, "median_days", j_h(o->complaints.median_days));
    put(x, obj, "complaints", cj);
  }
  put(x, obj, "compliance", j_h(o->compliance));
  cJSON *ej = chk(x, cJSON_CreateObject());
  if (ej) {
    put(x, ej, "count", j_int(o->employees.count));
    put(x, ej, "capaian_mean", j_h(o->employees.capaian_mean));
    cJSON *pj = chk(x, cJSON_CreateObject());
    for (int i = 0; pj && i < KJ_PREDIKAT_COUNT; i++)
      put(x, pj, kj_predikat_names[i], j_int(o->employees.predikat[i]));
    put(x, ej, "predikat", pj);
    put(x, obj, "employees", ej);
  }
  return obj;
}

static cJSON *enc_employee(enc *x, const kj_report_employee *e) {
  cJSON *o = chk(x, cJSON_CreateObject());
  if (!o)
    return NULL;
  put(x, o, "nip", j_str(e->nip));
  put(x, o, "name", j_str(e->name));
  put(x, o, "capaian", j_h(e->capaian));
  put(x, o, "rating_hasil_kerja", j_str(e->rating_hasil_kerja));
  put(x, o, "perilaku", j_h(e->perilaku));
  put(x, o, "rating_perilaku", j_str(e->rating_perilaku));
  put(x, o, "predikat", j_str(e->predikat));
  cJSON *ts = chk(x, cJSON_CreateArray());
  for (size_t i = 0; ts && i < e->ntargets; i++) {
    const kj_report_target *t = &e->targets[i];
    cJSON *to = chk(x, cJSON_CreateObject());
    if (!to)
      break;
    put(x, to, "indicator", j_str(t->indicator));
    put(x, to, "target", j_micro(t->target));
    put(x, to, "realisasi", j_micro(t->realisasi));
    put(x, to, "capaian", j_h(t->capaian));
    push(x, ts, to);
  }
  put(x, o, "targets", ts);
  return o;
}

static cJSON *enc_employees_arr(enc *x, const kj_report_employee *e, size_t n) {
  cJSON *arr = chk(x, cJSON_CreateArray());
  for (size_t i = 0; arr && i < n; i++)
    push(x, arr, enc_employee(x, &e[i]));
  return arr;
}

/* print j into out (+ "\n" when nl); j is deleted */
static kj_code finish(enc *x, cJSON *j, int nl, kj_buf *out, kj_err *err) {
  char *text = x->nomem || !j ? NULL : cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (!text)
    return kj_fail(err, KJ_ENOMEM, "report: out of memory");
  kj_code rc = kj_buf_adds(out, text);
  if (!rc && nl)
    rc = kj_buf_addc(out, '\n');
  free(text);
  if (rc)
    return kj_fail(err, rc, "report: document too large");
  return KJ_OK;
}

kj_code kj_report_offices_encode(const kj_report_offices *d, kj_buf *out, kj_err *err) {
  if (!d || !d->period || !d->as_of)
    return kj_fail(err, KJ_EINVAL, "report: offices document without period or as_of");
  for (size_t i = 0; i < d->n; i++)
    if (!d->offices[i].office)
      return kj_fail(err, KJ_EINVAL, "report: offices[%zu] has no office code", i);
  enc x = {0};
  cJSON *doc = chk(&x, cJSON_CreateObject());
  if (doc) {
    put(&x, doc, "period", cJSON_CreateString(d->period));
    put(&x, doc, "as_of", cJSON_CreateString(d->as_of));
    cJSON *arr = chk(&x, cJSON_CreateArray());
    for (size_t i = 0; arr && i < d->n; i++)
      push(&x, arr, enc_office(&x, &d->offices[i]));
    put(&x, doc, "offices", arr);
  }
  return finish(&x, doc, 1, out, err);
}

kj_code kj_report_employees_encode(const kj_report_employees *d, kj_buf *out, kj_err *err) {
  if (!d || !d->period || !d->office)
    return kj_fail(err, KJ_EINVAL, "report: employees document without period or office");
  for (size_t i = 0; i < d->n; i++)
    if (!d->employees[i].nip)
      return kj_fail(err, KJ_EINVAL, "report: employees[%zu] has no nip", i);
  enc x = {0};
  cJSON *doc = chk(&x, cJSON_CreateObject());
  if (doc) {
    put(&x, doc, "period", cJSON_CreateString(d->period));
    put(&x, doc, "office", cJSON_CreateString(d->office));
    put(&x, doc, "employees", enc_employees_arr(&x, d->employees, d->n));
  }
  return finish(&x, doc, 1, out, err);
}

kj_code kj_report_scores_encode(const kj_report_scores *entries, size_t n, kj_buf *out,
                                kj_err *err) {
  enc x = {0};
  cJSON *arr = chk(&x, cJSON_CreateArray());
  for (size_t i = 0; arr && i < n; i++) {
    const kj_report_scores *s = &entries[i];
    if (!s->period || !s->as_of) {
      cJSON_Delete(arr);
      return kj_fail(err, KJ_EINVAL, "report: scores[%zu] without period or as_of", i);
    }
    cJSON *o = chk(&x, cJSON_CreateObject());
    if (!o)
      break;
    put(&x, o, "period", cJSON_CreateString(s->period));
    put(&x, o, "as_of", cJSON_CreateString(s->as_of));
    put(&x, o, "office", s->has_office ? enc_office(&x, &s->office) : cJSON_CreateNull());
    put(&x, o, "employees", enc_employees_arr(&x, s->employees, s->n));
    push(&x, arr, o);
  }
  return finish(&x, arr, 0, out, err);
}

/* ---------------------------------------------------------------------- */
/* decoder */

typedef struct dec {
  kj_err *err;
  kj_code rc;
  char path[256];
  size_t len;
} dec;

static size_t d_push(dec *d, const char *fmt, ...) KJ_PRINTF(2, 3);
static size_t d_push(dec *d, const char *fmt, ...) {
  size_t old = d->len;
  if (d->len < sizeof d->path) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(d->path + d->len, sizeof d->path - d->len, fmt, ap);
    va_end(ap);
    if (n > 0)
      d->len += (size_t)n;
    if (d->len >= sizeof d->path)
      d->len = sizeof d->path - 1;
  }
  return old;
}

static void d_pop(dec *d, size_t old) {
  d->len = old;
  d->path[old] = 0;
}

static kj_code d_fail(dec *d, kj_code code, const char *key, const char *what) {
  if (d->rc)
    return d->rc;
  size_t old = key ? d_push(d, "%s%s", d->len ? "." : "", key) : d->len;
  d->rc = kj_fail(d->err, code, "report: '%s': %s", d->len ? d->path : "$", what);
  d_pop(d, old);
  return d->rc;
}

static kj_code d_nomem(dec *d) {
  if (!d->rc)
    d->rc = kj_fail(d->err, KJ_ENOMEM, "report: out of memory");
  return d->rc;
}

static const cJSON *d_get(const cJSON *o, const char *k) {
  return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int d_isnull(const cJSON *v) {
  return !v || cJSON_IsNull(v);
}

/* string: NULL for null when nullable */
static kj_code d_str(dec *d, const cJSON *o, const char *k, int nullable, char **out) {
  const cJSON *v = d_get(o, k);
  *out = NULL;
  if (d_isnull(v))
    return nullable ? KJ_OK : d_fail(d, KJ_EPROTO, k, "expected a string");
  if (!cJSON_IsString(v) || !v->valuestring)
    return d_fail(d, KJ_EPROTO, k, nullable ? "expected a string or null" : "expected a string");
  int nomem = 0;
  *out = kj_report_strdup(v->valuestring, &nomem);
  return nomem ? d_nomem(d) : KJ_OK;
}

/* integer count */
static kj_code d_int(dec *d, const cJSON *o, const char *k, int nullable, long long *out) {
  const cJSON *v = k ? d_get(o, k) : o;
  *out = KJ_RNULL;
  if (d_isnull(v))
    return nullable ? KJ_OK : d_fail(d, KJ_EPROTO, k, "expected an integer");
  double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
  if (!isfinite(x) || x != floor(x) || fabs(x) > 9007199254740992.0)
    return d_fail(d, KJ_EPROTO, k,
                  nullable ? "expected an integer or null" : "expected an integer");
  *out = (long long)x;
  return KJ_OK;
}

/* rounded figure -> hundredths, half away from zero */
static kj_code d_h(dec *d, const cJSON *o, const char *k, int nullable, long long *out) {
  const cJSON *v = k ? d_get(o, k) : o;
  *out = KJ_RNULL;
  if (d_isnull(v))
    return nullable ? KJ_OK : d_fail(d, KJ_EPROTO, k, "expected a number");
  double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
  if (!isfinite(x) || fabs(x) > 1e15)
    return d_fail(d, KJ_EPROTO, k, nullable ? "expected a number or null" : "expected a number");
  *out = llround(x * 100.0);
  return KJ_OK;
}

/* exact decimal -> value * 10^6.  cJSON keeps a double: its shortest
 * round-tripping text is the number as written (any number of at most 15
 * significant digits), then read exactly. */
static kj_code d_micro(dec *d, const cJSON *o, const char *k, kj_micro *out) {
  const cJSON *v = d_get(o, k);
  *out = 0;
  double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
  if (!isfinite(x) || fabs(x) > 1e30)
    return d_fail(d, KJ_EPROTO, k, "expected a number");
  char t[40];
  for (int p = 15; p <= 17; p++) {
    snprintf(t, sizeof t, "%.*g", p, x);
    if (strtod(t, NULL) == x)
      break;
  }
  /* t = [-]digits[.digits][e[+-]digits] */
  const char *s = t;
  int neg = *s == '-';
  if (neg)
    s++;
  unsigned __int128 m = 0;
  int exp10 = 0;
  for (; *s >= '0' && *s <= '9'; s++)
    m = m * 10 + (unsigned)(*s - '0');
  if (*s == '.')
    for (s++; *s >= '0' && *s <= '9'; s++) {
      m = m * 10 + (unsigned)(*s - '0');
      exp10--;
    }
  if (*s == 'e' || *s == 'E')
    exp10 += atoi(s + 1);
  exp10 += 6; /* micro units */
  for (; exp10 > 0; exp10--)
    m *= 10; /* at most 1e30 * 1e6: fits */
  int half = 0;
  for (; exp10 < 0; exp10++) {
    half = m % 10 >= 5;
    m /= 10;
  }
  if (half)
    m++;
  *out = neg ? -(kj_micro)m : (kj_micro)m;
  return KJ_OK;
}

static const cJSON *d_obj(dec *d, const cJSON *o, const char *k, int nullable) {
  const cJSON *v = d_get(o, k);
  if (d_isnull(v)) {
    if (!nullable)
      d_fail(d, KJ_EPROTO, k, "expected an object");
    return NULL;
  }
  if (!cJSON_IsObject(v)) {
    d_fail(d, KJ_EPROTO, k, nullable ? "expected an object or null" : "expected an object");
    return NULL;
  }
  return v;
}

static const cJSON *d_arr(dec *d, const cJSON *o, const char *k, int *n) {
  const cJSON *v = d_get(o, k);
  *n = 0;
  if (!cJSON_IsArray(v)) {
    d_fail(d, KJ_EPROTO, k, "expected an array");
    return NULL;
  }
  *n = cJSON_GetArraySize(v);
  return v;
}

static void *d_calloc(dec *d, int n, size_t size) {
  void *p = calloc(n > 0 ? (size_t)n : 1, size);
  if (!p)
    d_nomem(d);
  return p;
}

/* The code of the failure a decoder just reported (d->rc). */
static kj_code d_code(const dec *d) {
  return d->rc ? d->rc : KJ_EPROTO;
}

static kj_code dec_office(dec *d, const cJSON *j, kj_report_office *o) {
  kj_report_office_init(o);
  if (!cJSON_IsObject(j))
    return d_fail(d, KJ_EPROTO, NULL, "expected an object");
  if (d_str(d, j, "office", 0, &o->office) || d_str(d, j, "name", 1, &o->name) ||
      d_int(d, j, "rank", 1, &o->rank) || d_h(d, j, "ikk", 1, &o->ikk))
    return d_code(d);
  const cJSON *ikm = d_obj(d, j, "ikm", 0);
  if (!ikm)
    return d_code(d);
  size_t old = d_push(d, ".ikm");
  int rc = d_int(d, ikm, "n", 0, &o->ikm.n) || d_h(d, ikm, "value", 1, &o->ikm.value) ||
           d_str(d, ikm, "mutu", 1, &o->ikm.mutu) || d_str(d, ikm, "kinerja", 1, &o->ikm.kinerja) ||
           d_int(d, ikm, "sample_min", 1, &o->ikm.sample_min);
  if (!rc) {
    const cJSON *ok = d_get(ikm, "sample_ok");
    if (d_isnull(ok))
      o->ikm.sample_ok = -1;
    else if (cJSON_IsBool(ok))
      o->ikm.sample_ok = cJSON_IsTrue(ok) ? 1 : 0;
    else
      rc = d_fail(d, KJ_EPROTO, "sample_ok", "expected true, false or null") != KJ_OK;
  }
  if (!rc) {
    const cJSON *nrr = d_get(ikm, "nrr");
    if (!d_isnull(nrr)) {
      if (!cJSON_IsArray(nrr) || cJSON_GetArraySize(nrr) != 9)
        rc = d_fail(d, KJ_EPROTO, "nrr", "expected 9 numbers or null") != KJ_OK;
      for (int i = 0; !rc && i < 9; i++) {
        size_t o2 = d_push(d, ".nrr[%d]", i);
        rc = d_h(d, cJSON_GetArrayItem(nrr, i), NULL, 0, &o->ikm.nrr[i]) != KJ_OK;
        d_pop(d, o2);
      }
      o->ikm.has_nrr = !rc;
    }
  }
  d_pop(d, old);
  if (rc)
    return d_code(d);
  int n;
  const cJSON *sv = d_arr(d, j, "services", &n), *it;
  if (!sv)
    return d_code(d);
  if (n && !(o->services = d_calloc(d, n, sizeof *o->services)))
    return d_code(d);
  int i = 0;
  cJSON_ArrayForEach(it, sv) {
    kj_report_service *s = &o->services[i];
    o->nservices = (size_t)++i;
    old = d_push(d, ".services[%d]", i - 1);
    s->n = s->ikm = KJ_RNULL;
    rc = !cJSON_IsObject(it)
             ? d_fail(d, KJ_EPROTO, NULL, "expected an object") != KJ_OK
             : d_str(d, it, "service", 0, &s->service) || d_int(d, it, "n", 0, &s->n) ||
                   d_h(d, it, "ikm", 1, &s->ikm) || d_str(d, it, "mutu", 1, &s->mutu);
    d_pop(d, old);
    if (rc)
      return d_code(d);
  }
  const cJSON *cj = d_obj(d, j, "complaints", 0);
  if (!cj)
    return d_code(d);
  old = d_push(d, ".complaints");
  rc = d_int(d, cj, "received", 0, &o->complaints.received) ||
       d_int(d, cj, "resolved", 0, &o->complaints.resolved) ||
       d_int(d, cj, "on_time", 0, &o->complaints.on_time) ||
       d_h(d, cj, "on_time_rate", 1, &o->complaints.on_time_rate) ||
       d_h(d, cj, "median_days", 1, &o->complaints.median_days);
  d_pop(d, old);
  if (rc || d_h(d, j, "compliance", 1, &o->compliance))
    return d_code(d);
  const cJSON *ej = d_obj(d, j, "employees", 0);
  if (!ej)
    return d_code(d);
  old = d_push(d, ".employees");
  rc = d_int(d, ej, "count", 0, &o->employees.count) ||
       d_h(d, ej, "capaian_mean", 1, &o->employees.capaian_mean);
  const cJSON *pj = rc ? NULL : d_obj(d, ej, "predikat", 0);
  if (pj) {
    size_t o2 = d_push(d, ".predikat");
    for (int k = 0; !rc && k < KJ_PREDIKAT_COUNT; k++)
      rc = d_int(d, pj, kj_predikat_names[k], 0, &o->employees.predikat[k]) != KJ_OK;
    d_pop(d, o2);
  } else {
    rc = 1;
  }
  d_pop(d, old);
  return rc ? d_code(d) : KJ_OK;
}

static kj_code dec_employee(dec *d, const cJSON *j, kj_report_employee *e) {
  kj_report_employee_init(e);
  if (!cJSON_IsObject(j))
    return d_fail(d, KJ_EPROTO, NULL, "expected an object");
  if (d_str(d, j, "nip", 0, &e->nip) || d_str(d, j, "name", 1, &e->name) ||
      d_h(d, j, "capaian", 1, &e->capaian) ||
      d_str(d, j, "rating_hasil_kerja", 1, &e->rating_hasil_kerja) ||
      d_h(d, j, "perilaku", 1, &e->perilaku) ||
      d_str(d, j, "rating_perilaku", 1, &e->rating_perilaku) ||
      d_str(d, j, "predikat", 1, &e->predikat))
    return d_code(d);
  int n;
  const cJSON *ts = d_arr(d, j, "targets", &n), *it;
  if (!ts)
    return d_code(d);
  if (n && !(e->targets = d_calloc(d, n, sizeof *e->targets)))
    return d_code(d);
  int i = 0;
  cJSON_ArrayForEach(it, ts) {
    kj_report_target *t = &e->targets[i];
    e->ntargets = (size_t)++i;
    size_t old = d_push(d, ".targets[%d]", i - 1);
    t->capaian = KJ_RNULL;
    int rc = !cJSON_IsObject(it) ? d_fail(d, KJ_EPROTO, NULL, "expected an object") != KJ_OK
                                 : d_str(d, it, "indicator", 0, &t->indicator) ||
                                       d_micro(d, it, "target", &t->target) ||
                                       d_micro(d, it, "realisasi", &t->realisasi) ||
                                       d_h(d, it, "capaian", 1, &t->capaian);
    d_pop(d, old);
    if (rc)
      return d_code(d);
  }
  return KJ_OK;
}

static kj_code dec_employees_arr(dec *d, const cJSON *j, const char *key, kj_report_employee **out,
                                 size_t *count) {
  int n;
  const cJSON *arr = d_arr(d, j, key, &n), *it;
  if (!arr)
    return d_code(d);
  if (n && !(*out = d_calloc(d, n, sizeof **out)))
    return d_code(d);
  int i = 0;
  cJSON_ArrayForEach(it, arr) {
    kj_report_employee *e = &(*out)[i];
    *count = (size_t)++i;
    size_t old = d_push(d, "%s%s[%d]", d->len ? "." : "", key, i - 1);
    kj_code rc = dec_employee(d, it, e);
    d_pop(d, old);
    if (rc)
      return d_code(d);
  }
  return KJ_OK;
}

static cJSON *d_parse(dec *d, const char *json, size_t len) {
  cJSON *j = json ? cJSON_ParseWithLength(json, len) : NULL;
  if (!j)
    d->rc = kj_fail(d->err, KJ_EPROTO, "report: not a JSON document");
  else if (!cJSON_IsObject(j)) {
    cJSON_Delete(j);
    j = NULL;
    d->rc = kj_fail(d->err, KJ_EPROTO, "report: not a JSON object");
  }
  return j;
}

kj_code kj_report_offices_decode_json(const cJSON *j, kj_report_offices *out, kj_err *err) {
  dec d = {err, KJ_OK, "", 0};
  kj_report_offices_init(out);
  int n;
  const cJSON *arr, *it;
  if (d_str(&d, j, "period", 0, &out->period) || d_str(&d, j, "as_of", 0, &out->as_of) ||
      !(arr = d_arr(&d, j, "offices", &n)))
    goto fail;
  if (n && !(out->offices = d_calloc(&d, n, sizeof *out->offices)))
    goto fail;
  int i = 0;
  cJSON_ArrayForEach(it, arr) {
    kj_report_office *o = &out->offices[i];
    out->n = (size_t)++i;
    size_t old = d_push(&d, "offices[%d]", i - 1);
    kj_code rc = dec_office(&d, it, o);
    d_pop(&d, old);
    if (rc)
      goto fail;
  }
  return KJ_OK;
fail:
  kj_report_offices_release(out);
  return d.rc ? d.rc : KJ_EPROTO;
}

kj_code kj_report_employees_decode_json(const cJSON *j, kj_report_employees *out, kj_err *err) {
  dec d = {err, KJ_OK, "", 0};
  kj_report_employees_init(out);
  if (d_str(&d, j, "period", 0, &out->period) || d_str(&d, j, "office", 0, &out->office) ||
      dec_employees_arr(&d, j, "employees", &out->employees, &out->n)) {
    kj_report_employees_release(out);
    return d.rc ? d.rc : KJ_EPROTO;
  }
  return KJ_OK;
}

kj_code kj_report_offices_decode(const char *json, size_t len, kj_report_offices *out,
                                 kj_err *err) {
  dec d = {err, KJ_OK, "", 0};
  kj_report_offices_init(out);
  cJSON *j = d_parse(&d, json, len);
  if (!j)
    return d.rc;
  kj_code rc = (kj_code)kj_report_offices_decode_json(j, out, err);
  cJSON_Delete(j);
  return rc;
}

kj_code kj_report_employees_decode(const char *json, size_t len, kj_report_employees *out,
                                   kj_err *err) {
  dec d = {err, KJ_OK, "", 0};
  kj_report_employees_init(out);
  cJSON *j = d_parse(&d, json, len);
  if (!j)
    return d.rc;
  kj_code rc = (kj_code)kj_report_employees_decode_json(j, out, err);
  cJSON_Delete(j);
  return rc;
}

kj_code kj_report_scores_decode_json(const cJSON *j, kj_report_scores *out, kj_err *err) {
  dec d = {err, KJ_OK, "", 0};
  kj_report_scores_init(out);
  if (!cJSON_IsObject(j))
    return kj_fail(err, KJ_EPROTO, "report: not a JSON object");
  const cJSON *of;
  if (d_str(&d, j, "period", 0, &out->period) || d_str(&d, j, "as_of", 0, &out->as_of))
    goto fail;
  of = d_get(j, "office");
  if (!d_isnull(of)) {
    size_t old = d_push(&d, "office");
    kj_code rc = dec_office(&d, of, &out->office);
    d_pop(&d, old);
    if (rc)
      goto fail;
    out->has_office = 1;
  }
  if (dec_employees_arr(&d, j, "employees", &out->employees, &out->n))
    goto fail;
  return KJ_OK;
fail:
  kj_report_scores_release(out);
  return d.rc ? d.rc : KJ_EPROTO;
}

kj_code kj_report_scores_decode(const char *json, size_t len, kj_report_scores *out, kj_err *err) {
  dec d = {err, KJ_OK, "", 0};
  kj_report_scores_init(out);
  cJSON *j = d_parse(&d, json, len);
  if (!j)
    return d.rc;
  kj_code rc = kj_report_scores_decode_json(j, out, err);
  cJSON_Delete(j);
  return rc;
}
