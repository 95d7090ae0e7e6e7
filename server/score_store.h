/* score_store.h - the seam between the scores module and its database.
 *
 * server/score.c is pure: what a record contributes, the exact arithmetic
 * and the report documents.  It reads and writes the aggregate rows of
 * docs/scoring.md "Aggregates" only through a kjs_score_store: a table of
 * functions over plain C values and row structs, with no SQL and no
 * database handle.  server/score_sqlite.c is the SQLite implementation
 * (the twelve sc_* tables); a PostgreSQL implementation provides the same
 * functions.  docs/architecture.md "server/score" shows the seam.
 *
 * Every function takes the implementation's handle h first and err last,
 * and returns KJ_OK or a kj_code with err filled (KJ_EDB, KJ_ENOMEM, KJ_EBUSY
 * ...: the store's failure; the caller's transaction is then rolled back).
 * Strings are NUL-terminated UTF-8, NULL = SQL NULL.  ym = year*100+month,
 * day = kj_day.  Values "* 1e6" are decimals scaled by 10^6 (kjs_parse_dec6).
 *
 * Writes are deltas (sign +1 adds one record's values and a count of one,
 * -1 takes them away); a counted row whose count is back to zero is
 * deleted, so incremental upkeep and a rebuild give the same rows.
 *
 * Reads call each(ctx, row) once per row, in the order stated; a row's
 * strings are valid during that call only, and each must not call back into
 * the store.  A non-zero return of each stops the read and is returned
 * (each fills err itself).
 */
#ifndef KJS_SCORE_STORE_H
#define KJS_SCORE_STORE_H

#include <stddef.h>

#include "err.h"

/* A sum kept as hi * 1e18 + lo, 0 <= lo < 1e18 (docs/scoring.md "Number
 * bounds"): quantities, targets and weights * 1e6 summed over records. */
typedef struct kjs_sc_sum {
  long long hi, lo;
} kjs_sc_sum;

/* sc_office: a live office record. */
typedef struct kjs_sc_office {
  const char *code, *name;
  int have_pop; /* 0: population unknown (pop then 0) */
  long long pop;
} kjs_sc_office;

/* sc_emp: a live employee record (the roster). */
typedef struct kjs_sc_emp {
  const char *nip, *office, *name;
} kjs_sc_emp;

/* One employee's target for a period (sums over the target records). */
typedef struct kjs_sc_target {
  const char *indicator;
  kjs_sc_sum target, weight; /* * 1e6 */
} kjs_sc_target;

/* Approved quantity of one indicator in one month. */
typedef struct kjs_sc_real {
  const char *indicator;
  kjs_sc_sum qty; /* * 1e6 */
} kjs_sc_real;

/* Ratings of one role: total = sum of s1..s7 over cnt ratings. */
typedef struct kjs_sc_rating {
  const char *role;
  long long total, cnt;
} kjs_sc_rating;

/* Surveys of one service, summed over a range of months: n surveys, u[i] =
 * the sum of their answers to question i + 1. */
typedef struct kjs_sc_survey {
  const char *service;
  long long n, u[9];
} kjs_sc_survey;

/* Complaints of a range of months by resolution days (-1 = open). */
typedef struct kjs_sc_cdays {
  long long days, cnt;
} kjs_sc_cdays;

typedef struct kjs_score_store_ops {
  /* --- writes (inside the caller's write transaction) --- */
  /* office code: replace its row / delete it */
  kj_code (*office_put)(void *h, const kjs_sc_office *o, kj_err *err);
  kj_code (*office_del)(void *h, const char *code, kj_err *err);
  /* employee nip: replace its row / delete it (and move nip's months in
   * sc_cmpmonth from its old office to its new one) */
  kj_code (*emp_put)(void *h, const kjs_sc_emp *e, kj_err *err);
  kj_code (*emp_del)(void *h, const char *nip, kj_err *err);
  /* sc_survey(office, ym, service): u[0..9) and n += sign */
  kj_code (*survey_add)(void *h, const char *office, long long ym, const char *service,
                        const long long u[9], int sign, kj_err *err);
  /* sc_cdays(office, ym, days): cnt += sign */
  kj_code (*cdays_add)(void *h, const char *office, long long ym, long long days, int sign,
                       kj_err *err);
  /* sc_real(office, nip, indicator, ym) and sc_realyear(ym / 100, office,
   * nip, indicator): qty += sign * qty (0 <= qty < 1e18), cnt += sign */
  kj_code (*real_add)(void *h, const char *office, const char *nip, const char *indicator,
                      long long ym, long long qty, int sign, kj_err *err);
  /* sc_actday(office, nip, day): cnt += sign (wd: day is Monday-Friday);
   * *cnt = the count after the change (0: the row is gone) */
  kj_code (*actday_add)(void *h, const char *office, const char *nip, long long day, int wd,
                        int sign, long long *cnt, kj_err *err);
  /* sc_actmonth(office, nip, ym): days += sign; and sc_cmpmonth(office, ym)
   * when nip is on office's roster */
  kj_code (*actmonth_add)(void *h, const char *office, const char *nip, long long ym, int sign,
                          kj_err *err);
  /* sc_target(office, nip, period, indicator): target, weight (* 1e6, each
   * 0 < x < 1e18) += sign * x, cnt += sign */
  kj_code (*target_add)(void *h, const char *office, const char *nip, const char *period,
                        const char *indicator, long long target, long long weight, int sign,
                        kj_err *err);
  /* sc_rating(office, ratee, period, role): total += sign * total, cnt += sign */
  kj_code (*rating_add)(void *h, const char *office, const char *ratee, const char *period,
                        const char *role, long long total, int sign, kj_err *err);

  /* --- reads (inside one read transaction: one snapshot per report) --- */
  /* every office, by code */
  kj_code (*offices)(void *h, kj_code (*each)(void *ctx, const kjs_sc_office *o), void *ctx,
                     kj_err *err);
  /* the roster of office, by nip */
  kj_code (*roster)(void *h, const char *office, kj_code (*each)(void *ctx, const kjs_sc_emp *e),
                    void *ctx, kj_err *err);
  /* the targets of nip's records of office for period (a kj_period
   * string), by indicator */
  kj_code (*targets)(void *h, const char *office, const char *nip, const char *period,
                     kj_code (*each)(void *ctx, const kjs_sc_target *t), void *ctx, kj_err *err);
  /* the approved quantities of nip's records of office, months ym_lo..ym_hi,
   * one row per (indicator, month), any order (a whole year: one row per
   * indicator, from sc_realyear) */
  kj_code (*reals)(void *h, const char *office, const char *nip, long long ym_lo, long long ym_hi,
                   kj_code (*each)(void *ctx, const kjs_sc_real *r), void *ctx, kj_err *err);
  /* the ratings of ratee in records of office for period, one row per role */
  kj_code (*ratings)(void *h, const char *office, const char *ratee, const char *period,
                     kj_code (*each)(void *ctx, const kjs_sc_rating *r), void *ctx, kj_err *err);
  /* surveys of office, months ym_lo..ym_hi summed, one row per service by
   * service */
  kj_code (*surveys)(void *h, const char *office, long long ym_lo, long long ym_hi,
                     kj_code (*each)(void *ctx, const kjs_sc_survey *s), void *ctx, kj_err *err);
  /* complaints of office, months ym_lo..ym_hi summed, one row per days, by
   * days */
  kj_code (*cdays)(void *h, const char *office, long long ym_lo, long long ym_hi,
                   kj_code (*each)(void *ctx, const kjs_sc_cdays *c), void *ctx, kj_err *err);
  /* compliance, over the employees of office's roster and their own
   * office's rows: *out = the sum of sc_actmonth days in ym_lo..ym_hi (read
   * from sc_cmpmonth, which keeps that sum per office and month) */
  kj_code (*cmp_months)(void *h, const char *office, long long ym_lo, long long ym_hi,
                        long long *out, kj_err *err);
  /* the same: *out = the number of (employee, Monday-Friday day) in
   * day_lo..day_hi with an activity */
  kj_code (*cmp_days)(void *h, const char *office, long long day_lo, long long day_hi,
                      long long *out, kj_err *err);
  /* the same: *out = the number of employees with an activity on day */
  kj_code (*cmp_day)(void *h, const char *office, long long day, long long *out, kj_err *err);

  /* --- office change counters (docs/scoring.md "The report memo") --- */
  /* Inside a write transaction: office's counter in sc_office_ver goes up,
   * at most once per transaction (the store may hold it to the commit).
   * kjs_score_update calls it for every office a change touches. */
  kj_code (*office_touch)(void *h, const char *office, kj_err *err);
  /* In the report's read transaction: every counter, any order, as
   * each(ctx, office, ver); office "" is the store's own row (random at
   * its first write, up at every clear of the aggregates: it tells stores and
   * their rebuilds apart).  epoch (size bytes) = the store's current epoch
   * (its newest row of table epochs), "" when it has none. */
  kj_code (*office_vers)(void *h, char *epoch, size_t size,
                         kj_code (*each)(void *ctx, const char *office, long long ver), void *ctx,
                         kj_err *err);
  /* Optional (NULL: nothing to do): reads of one office at a time from now
   * on in this transaction, for a report that rebuilds a few offices only
   * (the PostgreSQL store's batch reads of all offices cost more then). */
  void (*few_offices)(void *h);
} kjs_score_store_ops;

/* A store: its functions and its handle. */
typedef struct kjs_score_store {
  const kjs_score_store_ops *ops;
  void *h;
} kjs_score_store;

#endif
