/* date.h - calendar dates and the periods of domain.md.
 *
 * A date is an int32 count of days since 1970-01-01 (proleptic Gregorian),
 * so differences are plain subtraction.  A period is a year "2026", a
 * quarter "2026-Q3" or a month "2026-08": a closed range of days.
 */
#ifndef KJ_DATE_H
#define KJ_DATE_H

#include <stdint.h>

#include "err.h"

typedef int32_t kj_day;

#define KJ_DATE_STRLEN 10 /* YYYY-MM-DD */

typedef enum { KJ_PERIOD_YEAR, KJ_PERIOD_QUARTER, KJ_PERIOD_MONTH } kj_period_kind;

typedef struct kj_period {
  kj_period_kind kind;
  int year;
  int index;    /* quarter 1-4 or month 1-12; 0 for a year */
  kj_day first; /* first day, inclusive */
  kj_day last;  /* last day, inclusive */
} kj_period;

kj_day kj_day_from_civil(int y, int m, int d);
void kj_day_to_civil(kj_day day, int *y, int *m, int *d);
int kj_days_in_month(int y, int m);

/* Strict YYYY-MM-DD, a real calendar date with year 1900-2999, into *out
 * (may be NULL: only check).  KJ_OK or KJ_EINVAL; no message: the caller
 * names the field. */
kj_code kj_date_parse(const char *s, kj_day *out);
/* out gets YYYY-MM-DD and a NUL. */
void kj_date_format(kj_day day, char out[KJ_DATE_STRLEN + 1]);
/* 0 = Monday ... 6 = Sunday. */
int kj_weekday(kj_day day);
/* Today in UTC+offset_minutes (the office's local calendar). */
kj_day kj_today(int offset_minutes);

/* Indonesia's time zones (domain.md, office `timezone`; no daylight saving
 * time, so fixed offsets): "Asia/Jakarta" WIB +7, "Asia/Makassar" WITA +8,
 * "Asia/Jayapura" WIT +9.  tz NULL or "" is the default, Asia/Jakarta.
 * KJ_OK with *offset_minutes and *abbr (a static string), or KJ_EINVAL for
 * any other name, and then the default's values all the same. */
kj_code kj_zone(const char *tz, int *offset_minutes, const char **abbr);

/* ms since the epoch as the wall clock of zone tz (kj_zone; an unknown
 * zone is shown as WIB): "2026-11-30 14:05:09 WIB".  Pure arithmetic, no
 * TZ or locale (safe in threads).  out gets at most KJ_TIME_ZONE_STRLEN
 * bytes with its NUL; returns out. */
#define KJ_TIME_ZONE_STRLEN 32
char *kj_time_format_zone(int64_t ms, const char *tz, char out[KJ_TIME_ZONE_STRLEN]);

/* "2026", "2026-Q1".."2026-Q4", "2026-01".."2026-12" into *out (may be
 * NULL).  KJ_OK or KJ_EINVAL; no message: the caller names the field. */
kj_code kj_period_parse(const char *s, kj_period *out);
/* Canonical text of p into out (at least 8 bytes). */
void kj_period_format(const kj_period *p, char out[8]);
static inline int kj_period_contains(const kj_period *p, kj_day d) {
  return d >= p->first && d <= p->last;
}

/* Workdays: Monday-Friday days of p up to and including as_of, minus the
 * holidays (any order, duplicates allowed).  Writes at most max days into
 * out when out is not NULL and returns how many there are. */
int kj_workdays(const kj_period *p, kj_day as_of, const kj_day *holidays, int nholidays,
                kj_day *out, int max);

#endif
