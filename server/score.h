/* score.h - the scores of domain.md, kept incrementally: pure, no database.
 *
 * The store calls kjs_score_update inside its merge transaction for every
 * record whose state changed; the update takes the record's old contribution
 * out of small aggregates (per office/service/month, per nip/day, ...) and
 * puts the new one in.  Reports read only those aggregates, so their cost
 * does not grow with the number of raw records.  The aggregates are read and
 * written through a kjs_score_store (score_store.h: plain rows, no SQL);
 * server/score_sqlite.h is its SQLite implementation.  All arithmetic is exact
 * (scaled integers and fractions) until the final rounding, half away from
 * zero to 2 decimals; grades are decided on the rounded value.
 * docs/scoring.md states the rules and the score.* configuration keys.
 */
#ifndef KJS_SCORE_H
#define KJS_SCORE_H

#include <stdio.h>

#include "buf.h"
#include "date.h"
#include "err.h"
#include "record.h"
#include "reportdoc.h"
#include "score_store.h"

/* Rating classes, also the rows/columns of the predikat matrix. */
enum { KJS_DIATAS, KJS_SESUAI, KJS_DIBAWAH };

/* The five predikat of PermenPANRB 6/2022, in report order. */
enum {
  KJS_PRED_SANGAT_BAIK,
  KJS_PRED_BAIK,
  KJS_PRED_BUTUH_PERBAIKAN,
  KJS_PRED_KURANG,
  KJS_PRED_SANGAT_KURANG,
  KJS_PRED__COUNT
};

typedef struct kjs_score_config {
  /* rating hasil kerja: rounded capaian, in hundredths (110.00 -> 11000) */
  long long hk_diatas, hk_sesuai;
  /* rating perilaku: rounded perilaku, in hundredths (3.50 -> 350) */
  long long pl_diatas, pl_sesuai;
  /* perilaku weights of atasan and of the others, scaled by 1e6 */
  long long w_atasan, w_others;
  /* predikat[hasil kerja][perilaku] = KJS_PRED_* */
  int predikat[3][3];
  /* IKK weights scaled by 1e6: IKM, capaian_mean, on_time_rate, compliance */
  long long w_ikk[4];
  /* holidays (not workdays), any order */
  kj_day *holidays;
  int nholidays;
  /* a complaint is on time when resolved - received <= this many days */
  int ontime_days;
} kjs_score_config;

/* domain.md's defaults. */
void kjs_score_config_defaults(kjs_score_config *c);
/* One "score.xxx = value" line of kinerjad.conf (keys in docs/scoring.md);
 * KJ_EINVAL with "unknown key 'score.x'" or "'score.x': must be ..." */
kj_code kjs_score_config_set(kjs_score_config *c, const char *key, const char *value, kj_err *err);
void kjs_score_config_release(kjs_score_config *c);

/* Inside the merge transaction: take before's contribution out of ss, put
 * after's in (nothing when the two contribute the same).  NULL or deleted =
 * no contribution; so does a record whose scored fields are missing or
 * unreadable.  What each type contributes: docs/scoring.md "Aggregates".
 * KJ_OK, or the store's kj_code with err filled (KJ_ENOMEM when ss is
 * NULL); the caller's transaction must then be rolled back. */
kj_code kjs_score_update(const kjs_score_store *ss, const kj_record *before, const kj_record *after,
                         kj_err *err);

/* The office document of domain.md ("Report format") as data: *d is
 * initialised here and owned by the caller (kj_report_offices_release),
 * also on error (then empty).  Offices in rank order.  as_of NULL = today
 * (UTC).  Read from ss in one read transaction of the caller.  KJ_OK, or
 * with err filled KJ_EINVAL (bad period or date), the store's code (KJ_EDB),
 * KJ_ENOMEM (also when ss is NULL) or KJ_ETOOBIG (arithmetic overflow, beyond docs/scoring.md
 * "Number bounds"). */
kj_code kjs_report_offices_build(const kjs_score_store *ss, const kjs_score_config *cfg,
                                 const char *period, const char *as_of, kj_report_offices *d,
                                 kj_err *err);
/* The offices document is assembled from per-office rows kept between
 * reports in this process (the report memo, docs/scoring.md "The report
 * memo"): an office's row is built again only when the store's change
 * counter of that office, its epoch, the period, as_of or cfg changed.  The
 * result is the same bytes as a build from scratch.  Two switches for
 * tests and the bench: kjs_report_memo_enable(0) builds every office from
 * scratch, neither reading nor changing the kept rows, until enabled again
 * (also the start state when the environment has KJ_REPORT_MEMO=off; the
 * kept rows stay valid: the counters move all the same); kjs_report_memo_built
 * counts the office rows built (not taken from the memo) since the process
 * started. */
void kjs_report_memo_enable(int on);
long kjs_report_memo_built(void);

/* The employee document of domain.md for the roster of office, the same way. */
kj_code kjs_report_employees_build(const kjs_score_store *ss, const kjs_score_config *cfg,
                                   const char *period, const char *office, kj_report_employees *d,
                                   kj_err *err);

/* The same documents encoded (kj_report_*_encode) into out, one line of
 * JSON ending in "\n". */
kj_code kjs_report_offices(const kjs_score_store *ss, const kjs_score_config *cfg,
                           const char *period, const char *as_of, kj_buf *out, kj_err *err);
kj_code kjs_report_employees(const kjs_score_store *ss, const kjs_score_config *cfg,
                             const char *period, const char *office, kj_buf *out, kj_err *err);

/* /publik's services of one office (docs/operations.md "The public IKM
 * page"): the office's surveys dated in period, summed by service from the
 * aggregates (n and the sums of u1..u9 per stored service name), folded by
 * the services listed for the office (listed[0..nlisted), the `service`
 * master data; NULL entries skipped): a stored name whose kj_service_key
 * is a listed name's counts under the listed name, every other name is
 * summed into `other` ("Layanan lain", has_other).  Each row's IKM is
 * computed from its summed answers by the formula of every service row
 * (25 * sum / (9 n), rounded once), so a folded row is exact, never an
 * average of rounded IKMs.  services: by name, only those with surveys;
 * other.service is NULL.  out is zeroed first and owned by the caller
 * (kjs_service_fold_release), also after an error.  An office without a
 * listed service has nothing to fold by: its services are the stored names,
 * as in the offices report.  KJ_OK, KJ_EINVAL (bad
 * period), the store's code, KJ_ENOMEM or KJ_ETOOBIG, err filled. */
typedef struct kjs_service_fold {
  kj_report_service *services;
  size_t n;
  int has_other;
  kj_report_service other;
} kjs_service_fold;
kj_code kjs_report_services_fold(const kjs_score_store *ss, const char *period, const char *office,
                                 const char *const *listed, size_t nlisted, kjs_service_fold *out,
                                 kj_err *err);
void kjs_service_fold_release(kjs_service_fold *f);

/* A report document (from kjs_report_*) printed as "json" (as is), "csv"
 * or "table" (readable, offices in rank order): kj_report_format. */
kj_code kjs_report_format(const char *json, const char *format, FILE *out, kj_err *err);

/* The command line: argv = {"offices", "--period", P, ["--as-of", D],
 * ["--json"|"--csv"]} or {"employees", "--period", P, "--office", C, ...}.
 * Prints to out; KJ_OK or a kj_code with err filled. */
kj_code kjs_score_cli_report(const kjs_score_store *ss, const kjs_score_config *cfg, int argc,
                             char **argv, FILE *out, kj_err *err);
/* Rebuilding the aggregates from the records (`kinerjad recompute
 * [--verify]`) belongs to the store that holds both: kjs_score_sqlite_rebuild
 * (score_sqlite.h) runs each live record through kjs_score_update into an
 * empty store and compares. */

/* Building blocks, exposed for the tests. */
/* Half away from zero to hundredths of n/d into *out: KJ_OK, KJ_EINVAL (d is
 * 0) or KJ_ETOOBIG (the result does not fit in a long long), err filled. */
kj_code kjs_round2(long long n, long long d, long long *out, kj_err *err);
/* Krejcie-Morgan sample size for population N. */
long long kjs_sample_min(long long population);
/* Plain decimal with at most 12 integer digits and 6 decimals -> value *
 * 1e6 (so |value * 1e6| < 1e18, docs/scoring.md "Number bounds").  KJ_OK,
 * or KJ_EINVAL with err (may be NULL) naming the text (*out is then 0). */
kj_code kjs_parse_dec6(const char *s, long long *out, kj_err *err);

#endif
