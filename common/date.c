#include "date.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Howard Hinnant's days_from_civil / civil_from_days. */
kj_day kj_day_from_civil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = (unsigned)(y - era * 400);
  const unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (kj_day)(era * 146097 + (int)doe - 719468);
}

void kj_day_to_civil(kj_day z, int *y, int *m, int *d) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = (unsigned)(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int yy = (int)yoe + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned dd = doy - (153 * mp + 2) / 5 + 1;
  const unsigned mm = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (mm <= 2);
  *m = (int)mm;
  *d = (int)dd;
}

int kj_days_in_month(int y, int m) {
  static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12)
    return 0;
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return 29;
  return dm[m - 1];
}

static kj_code digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return KJ_EINVAL;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return KJ_OK;
}

kj_code kj_date_parse(const char *s, kj_day *out) {
  int y, m, d;
  if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return KJ_EINVAL;
  if (digits(s, 4, &y) || digits(s + 5, 2, &m) || digits(s + 8, 2, &d))
    return KJ_EINVAL;
  if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > kj_days_in_month(y, m))
    return KJ_EINVAL;
  if (out)
    *out = kj_day_from_civil(y, m, d);
  return KJ_OK;
}

/* Write v as exactly n decimal digits (v >= 0). */
static char *put_digits(char *p, int v, int n) {
  for (int i = n - 1; i >= 0; i--) {
    p[i] = (char)('0' + v % 10);
    v /= 10;
  }
  return p + n;
}

void kj_date_format(kj_day day, char out[KJ_DATE_STRLEN + 1]) {
  int y, m, d;
  kj_day_to_civil(day, &y, &m, &d);
  char *p = put_digits(out, y < 0 ? 0 : y % 10000, 4);
  *p++ = '-';
  p = put_digits(p, m, 2);
  *p++ = '-';
  p = put_digits(p, d, 2);
  *p = '\0';
}

int kj_weekday(kj_day day) {
  /* 1970-01-01 was a Thursday (3 when Monday is 0) */
  int w = (int)((day + 3) % 7);
  return w < 0 ? w + 7 : w;
}

kj_day kj_today(int offset_minutes) {
  time_t t = time(NULL) + (time_t)offset_minutes * 60;
  return (kj_day)(t / 86400);
}

kj_code kj_period_parse(const char *s, kj_period *p) {
  int y, v;
  if (!s)
    return KJ_EINVAL;
  size_t n = strlen(s);
  if (n < 4 || digits(s, 4, &y) || y < 1900 || y > 2999)
    return KJ_EINVAL;
  kj_period r = {.year = y};
  if (n == 4) {
    r.kind = KJ_PERIOD_YEAR;
    r.first = kj_day_from_civil(y, 1, 1);
    r.last = kj_day_from_civil(y, 12, 31);
  } else if (n == 7 && s[4] == '-' && s[5] == 'Q' && s[6] >= '1' && s[6] <= '4') {
    r.kind = KJ_PERIOD_QUARTER;
    r.index = s[6] - '0';
    int m0 = (r.index - 1) * 3 + 1;
    r.first = kj_day_from_civil(y, m0, 1);
    r.last = kj_day_from_civil(y, m0 + 2, kj_days_in_month(y, m0 + 2));
  } else if (n == 7 && s[4] == '-' && digits(s + 5, 2, &v) == KJ_OK && v >= 1 && v <= 12) {
    r.kind = KJ_PERIOD_MONTH;
    r.index = v;
    r.first = kj_day_from_civil(y, v, 1);
    r.last = kj_day_from_civil(y, v, kj_days_in_month(y, v));
  } else {
    return KJ_EINVAL;
  }
  if (p)
    *p = r;
  return KJ_OK;
}

void kj_period_format(const kj_period *p, char out[8]) {
  char *q = put_digits(out, p->year < 0 ? 0 : p->year % 10000, 4);
  switch (p->kind) {
  case KJ_PERIOD_YEAR:
    break;
  case KJ_PERIOD_QUARTER:
    *q++ = '-';
    *q++ = 'Q';
    q = put_digits(q, p->index % 10, 1);
    break;
  case KJ_PERIOD_MONTH:
    *q++ = '-';
    q = put_digits(q, p->index % 100, 2);
    break;
  }
  *q = '\0';
}

int kj_workdays(const kj_period *p, kj_day as_of, const kj_day *holidays, int nholidays,
                kj_day *out, int max) {
  kj_day end = as_of < p->last ? as_of : p->last;
  int n = 0;
  for (kj_day d = p->first; d <= end; d++) {
    if (kj_weekday(d) >= 5)
      continue;
    int holiday = 0;
    for (int i = 0; i < nholidays && !holiday; i++)
      holiday = holidays[i] == d;
    if (holiday)
      continue;
    if (out && n < max)
      out[n] = d;
    n++;
  }
  return n;
}

kj_code kj_zone(const char *tz, int *offset_minutes, const char **abbr) {
  static const struct {
    const char *name, *abbr;
    int minutes;
  } zones[] = {{"Asia/Jakarta", "WIB", 7 * 60},
               {"Asia/Makassar", "WITA", 8 * 60},
               {"Asia/Jayapura", "WIT", 9 * 60}};
  *offset_minutes = zones[0].minutes;
  *abbr = zones[0].abbr;
  if (!tz || !*tz)
    return KJ_OK;
  for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
    if (!strcmp(tz, zones[i].name)) {
      *offset_minutes = zones[i].minutes;
      *abbr = zones[i].abbr;
      return KJ_OK;
    }
  return KJ_EINVAL;
}

char *kj_time_format_zone(int64_t ms, const char *tz, char out[KJ_TIME_ZONE_STRLEN]) {
  int off;
  const char *abbr;
  (void)kj_zone(tz, &off, &abbr);
  int64_t s = ms / 1000 - (ms % 1000 < 0 ? 1 : 0) + (int64_t)off * 60;
  int64_t days = s / 86400, rem = s % 86400;
  if (rem < 0) {
    rem += 86400;
    days--;
  }
  int y, m, d;
  kj_day_to_civil((kj_day)days, &y, &m, &d);
  snprintf(out, KJ_TIME_ZONE_STRLEN, "%04d-%02d-%02d %02d:%02d:%02d %s", y, m, d, (int)(rem / 3600),
           (int)(rem / 60 % 60), (int)(rem % 60), abbr);
  return out;
}
