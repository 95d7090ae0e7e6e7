/* reportdoc.h - the report documents of domain.md "Report format" as data.
 *
 * One definition for the server (which builds them from its aggregates) and
 * the office client (which reads the scores a pull carried):
 *
 *   kj_report_offices    {"period","as_of","offices":[office...]}
 *   kj_report_employees  {"period","office","employees":[employee...]}
 *   kj_report_scores     one entry of a pull's "scores" array,
 *                        {"period","as_of","office":office|null,"employees":[...]}
 *
 * Each has ONE encoder (struct -> the exact JSON text the server sends) and
 * ONE decoder (JSON text -> struct).  Numbers:
 *
 *   - counts (n, rank, received, ...) are integers: long long;
 *   - rounded figures (ikk, ikm, nrr, capaian, on_time_rate, ...) are kept
 *     in hundredths (82.35 -> 8235) and printed with exactly 2 decimals;
 *   - a target's `target` and `realisasi` are exact decimals with at most 6
 *     decimals, kept as kj_micro (value * 10^6 in 128 bits: sums of up to
 *     10^9 activities at any bound ever accepted fit, see docs/scoring.md)
 *     and printed in the shortest exact form ("40.75", "15").
 *
 * Null ("cannot be computed") is KJ_RNULL in every long long field, NULL in
 * every string, -1 in sample_ok and has_nrr == 0 for nrr; an office entry
 * of kj_report_scores is null when has_office == 0.
 *
 * Ownership: every string and array in a document belongs to it; the
 * decoder allocates them and kj_report_*_release frees them (and zeroes
 * the struct).  A builder (the server) fills a document with malloc'd
 * strings and arrays, or with kj_report_strdup, and releases it the same
 * way.  Documents are plain data: no locking, no hidden state.
 */
#ifndef KJ_REPORTDOC_H
#define KJ_REPORTDOC_H

#include <limits.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

/* The five predikat of domain.md, best first (the table's SB/B/BP/K/SK). */
#define KJ_PREDIKAT_COUNT 5
/* Their names, as the JSON keys of employees.predikat. */
extern const char *const kj_predikat_names[KJ_PREDIKAT_COUNT];

/* null in a long long field */
#define KJ_RNULL LLONG_MIN

/* An exact decimal times 10^6 (target and realisasi). */
typedef __int128 kj_micro;

typedef struct kj_report_service {
  char *service;
  long long n;   /* surveys */
  long long ikm; /* hundredths */
  char *mutu;    /* "A".."D" */
} kj_report_service;

typedef struct kj_report_office {
  char *office; /* code, never NULL in a valid document */
  char *name;
  long long rank, ikk; /* ikk in hundredths */
  struct {
    long long n, value; /* value in hundredths */
    char *mutu, *kinerja;
    int has_nrr;
    long long nrr[9]; /* hundredths, u1..u9 */
    long long sample_min;
    int sample_ok; /* 1, 0, or -1 = null */
  } ikm;
  kj_report_service *services;
  size_t nservices;
  struct {
    long long received, resolved, on_time;
    long long on_time_rate, median_days; /* hundredths */
  } complaints;
  long long compliance; /* hundredths */
  struct {
    long long count, capaian_mean;         /* capaian_mean in hundredths */
    long long predikat[KJ_PREDIKAT_COUNT]; /* counts, kj_predikat_names order */
  } employees;
} kj_report_office;

typedef struct kj_report_offices {
  char *period, *as_of;
  kj_report_office *offices; /* in rank order */
  size_t n;
} kj_report_offices;

typedef struct kj_report_target {
  char *indicator;
  kj_micro target, realisasi;
  long long capaian; /* hundredths */
} kj_report_target;

typedef struct kj_report_employee {
  char *nip, *name;
  long long capaian; /* hundredths */
  char *rating_hasil_kerja;
  long long perilaku; /* hundredths */
  char *rating_perilaku, *predikat;
  kj_report_target *targets; /* by indicator */
  size_t ntargets;
} kj_report_employee;

typedef struct kj_report_employees {
  char *period, *office;
  kj_report_employee *employees; /* by nip */
  size_t n;
} kj_report_employees;

typedef struct kj_report_scores {
  char *period, *as_of;
  int has_office;
  kj_report_office office;
  kj_report_employee *employees;
  size_t n;
} kj_report_scores;

/* Empty documents: every number null, every string NULL, no entries. */
void kj_report_office_init(kj_report_office *o);
void kj_report_employee_init(kj_report_employee *e);
void kj_report_offices_init(kj_report_offices *d);
void kj_report_employees_init(kj_report_employees *d);
void kj_report_scores_init(kj_report_scores *d);
/* Free what the document owns and re-init it (NULL is fine). */
void kj_report_office_release(kj_report_office *o);
void kj_report_employee_release(kj_report_employee *e);
void kj_report_offices_release(kj_report_offices *d);
void kj_report_employees_release(kj_report_employees *d);
void kj_report_scores_release(kj_report_scores *d);

/* malloc'd copy of s (NULL stays NULL); sets *nomem on allocation failure. */
char *kj_report_strdup(const char *s, int *nomem);

/* Append the document to out as one line of JSON ending in "\n": the exact
 * text of `GET /v1/reports/offices` / `.../employees` and of `kinerjad
 * report ... --json` (domain.md "Report format"; key order as there).
 * KJ_EINVAL when a required string (period, office code, nip, ...) is NULL,
 * KJ_ENOMEM / the buffer's code when out is full. */
kj_code kj_report_offices_encode(const kj_report_offices *d, kj_buf *out, kj_err *err);
kj_code kj_report_employees_encode(const kj_report_employees *d, kj_buf *out, kj_err *err);
/* Append the "scores" array of a pull page, "[entry,...]" (no newline),
 * for n entries (docs/protocol.md "GET /v1/pull"). */
kj_code kj_report_scores_encode(const kj_report_scores *entries, size_t n, kj_buf *out,
                                kj_err *err);

/* Decode one document (len bytes of JSON, NUL not required) into *out
 * (initialised here; released on error).  Strict about types: a key whose
 * value has the wrong type is KJ_EPROTO "report: 'offices[2].ikm.nrr[4]':
 * expected a number"; a missing key reads as null where null is allowed,
 * else the same error ("expected a string").  Unknown keys are ignored, so
 * a newer server's additions never break an older reader.  Counts must be
 * integers; rounded figures are taken to hundredths, half away from zero. */
kj_code kj_report_offices_decode(const char *json, size_t len, kj_report_offices *out, kj_err *err);
kj_code kj_report_employees_decode(const char *json, size_t len, kj_report_employees *out,
                                   kj_err *err);
/* One entry of the scores array (as the office client stores it). */
kj_code kj_report_scores_decode(const char *json, size_t len, kj_report_scores *out, kj_err *err);

/* The same from a parsed document (report.c's kj_report_format). */
struct cJSON;
kj_code kj_report_offices_decode_json(const struct cJSON *j, kj_report_offices *out, kj_err *err);
kj_code kj_report_employees_decode_json(const struct cJSON *j, kj_report_employees *out,
                                        kj_err *err);
kj_code kj_report_scores_decode_json(const struct cJSON *j, kj_report_scores *out, kj_err *err);

/* Hundredths as "82.35" / "-0.05"; micro as the shortest exact decimal. */
void kj_report_fmt2(long long h, char *out, size_t size);
void kj_report_fmt_micro(kj_micro v, char *out, size_t size);

#endif
