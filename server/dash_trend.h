/* dash_trend.h - the month-to-month trends of the BKD dashboard's Tren page
 * (domain.md "Trends"): a pure function over figures, no I/O.
 *
 * A month's figure is compared with the month before.  An office needs
 * attention (perlu perhatian) for a month when, both figures known, its
 * IKK fell by ikk_drop or more, its IKM by ikm_drop or more, or its
 * complaints' on_time_rate or its compliance by on_time_drop /
 * compliance_drop or more.  Null (no data) is never 0: a fall to or from
 * no data is not a decline.  Every figure is in hundredths (82.35 -> 8235),
 * null is KJ_RNULL (proto/reportdoc.h).
 */
#ifndef KJS_DASH_TREND_H
#define KJS_DASH_TREND_H
#include <stddef.h>

#include <cJSON.h>

/* The figures compared, in this order in kjs_trend_month.v. */
enum { KJS_TM_IKK, KJS_TM_IKM, KJS_TM_ON_TIME, KJS_TM_COMPLIANCE, KJS_TM_CAPAIAN, KJS_TM__COUNT };

/* Their names as the dashboard's JSON keys ("ikk", "ikm", "on_time_rate",
 * "compliance", "capaian"). */
extern const char *const kjs_trend_names[KJS_TM__COUNT];

/* One month of one office: v[KJS_TM_*] in hundredths or KJ_RNULL. */
typedef struct kjs_trend_month {
  long long v[KJS_TM__COUNT];
} kjs_trend_month;

/* The falls that count as a decline, in hundredths; a figure whose limit
 * is 0 is never flagged (capaian is shown, not judged). */
typedef struct kjs_trend_limits {
  long long drop[KJS_TM__COUNT];
} kjs_trend_limits;

/* domain.md's defaults: IKK and IKM 5.00, on_time_rate and compliance
 * 20.00, capaian not judged. */
void kjs_trend_limits_defaults(kjs_trend_limits *l);

/* The change of figure f from month m-1 to month m of months (in order,
 * n of them): 1 with *delta = cur - prev when both are known, 0 when
 * m == 0 or either is null. */
int kjs_trend_delta(const kjs_trend_month *months, size_t n, size_t m, int f, long long *delta);

/* Whether figure f fell by its limit or more from month m-1 to m: 1 or 0
 * (0 whenever kjs_trend_delta is 0 or the limit is 0). */
int kjs_trend_declined(const kjs_trend_month *months, size_t n, size_t m, int f,
                       const kjs_trend_limits *l);

/* Flags of month m: bit f set when figure f declined (kjs_trend_declined). */
unsigned kjs_trend_flags(const kjs_trend_month *months, size_t n, size_t m,
                         const kjs_trend_limits *l);

/* Parse a threshold as written in kinerjad.conf ("5", "5.00", "20.5": at
 * most 2 decimals, 0..100) into hundredths: 0 on success, -1 when bad. */
int kjs_trend_parse_limit(const char *s, long long *out);
/* Offices without data in an offices report document (proto/reportdoc.h's
 * JSON, doc["offices"]): an office with no survey (ikm.n 0), no complaint
 * received, no activity (compliance null or 0) and no capaian has nothing
 * to be judged by, so the dashboard shows it as no data (domain.md: "a
 * figure that is null is shown as no data, never as 0") instead of the IKK
 * its empty compliance alone would give.  Such an office gets "no_data":
 * true, "ikk", "rank" and "compliance" null; the others are ranked again
 * 1, 2, ... in their report order (rounded IKK descending, ties by code).
 * The report (kjs_report_offices_build) already leaves such offices
 * unranked with the same test; here they get the "no_data" key, and a
 * document of another source is made to agree.
 * Returns how many offices were marked; a document without "offices" is
 * left alone (0). */
int kjs_dash_mark_no_data(cJSON *doc);
#endif
