/* test_date.c - civil dates, weekdays, periods and workdays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "date.h"

static kj_day D(const char *s) {
  kj_day d;
  assert_int_equal(kj_date_parse(s, &d), KJ_OK);
  return d;
}

static void test_civil_round_trip(void **state) {
  (void)state;
  assert_int_equal(kj_day_from_civil(1970, 1, 1), 0);
  assert_int_equal(kj_day_from_civil(1900, 1, 1), -25567);
  assert_int_equal(kj_day_from_civil(2999, 12, 31), 376199);
  /* every day of 1900-2999: consecutive, and text round trips */
  kj_day first = kj_day_from_civil(1900, 1, 1), last = kj_day_from_civil(2999, 12, 31);
  int py = 1900, pm = 1, pd = 0;
  char text[KJ_DATE_STRLEN + 1];
  for (kj_day d = first; d <= last; d++) {
    int y, m, dd;
    kj_day_to_civil(d, &y, &m, &dd);
    /* the next calendar day after (py, pm, pd) */
    if (pd > 0) {
      int ey = py, em = pm, ed = pd + 1;
      if (ed > kj_days_in_month(ey, em)) {
        ed = 1;
        if (++em > 12) {
          em = 1;
          ey++;
        }
      }
      if (y != ey || m != em || dd != ed)
        fail_msg("day %d is %d-%d-%d, want %d-%d-%d", d, y, m, dd, ey, em, ed);
    }
    if (kj_day_from_civil(y, m, dd) != d)
      fail_msg("day %d does not round trip", d);
    if (d % 97 == 0 || dd == 1 || (m == 2 && dd >= 28)) {
      kj_date_format(d, text);
      kj_day back;
      if (kj_date_parse(text, &back) != 0 || back != d)
        fail_msg("'%s' does not round trip", text);
    }
    py = y;
    pm = m;
    pd = dd;
  }
  kj_date_format(kj_day_from_civil(2026, 3, 7), text);
  assert_string_equal(text, "2026-03-07");
}

static void test_parse_and_months(void **state) {
  (void)state;
  kj_day d;
  assert_int_equal(kj_date_parse("2028-02-29", &d), KJ_OK);
  assert_int_equal(kj_date_parse("2000-02-29", &d), KJ_OK);
  assert_int_equal(kj_date_parse("1900-01-01", NULL), KJ_OK);
  assert_int_equal(kj_date_parse("2999-12-31", NULL), KJ_OK);
  static const char *const bad[] = {"2026-02-29",  "2100-02-29", "1900-02-29", "1899-12-31",
                                    "3000-01-01",  "2026-04-31", "2026-13-01", "2026-00-01",
                                    "2026-01-00",  "2026-1-01",  "2026/01/01", "20260101",
                                    "2026-01-01T", "",           " 2026-01-01"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (kj_date_parse(bad[i], &d) != KJ_EINVAL)
      fail_msg("'%s' parsed", bad[i]);
  assert_int_equal(kj_date_parse(NULL, &d), KJ_EINVAL);
  assert_int_equal(kj_days_in_month(2028, 2), 29);
  assert_int_equal(kj_days_in_month(2026, 2), 28);
  assert_int_equal(kj_days_in_month(2100, 2), 28);
  assert_int_equal(kj_days_in_month(2000, 2), 29);
  assert_int_equal(kj_days_in_month(2026, 4), 30);
  assert_int_equal(kj_days_in_month(2026, 12), 31);
  assert_int_equal(kj_days_in_month(2026, 0), 0);
  assert_int_equal(kj_days_in_month(2026, 13), 0);
}

static void test_weekdays(void **state) {
  (void)state;
  assert_int_equal(kj_weekday(0), 3);               /* 1970-01-01 Thursday */
  assert_int_equal(kj_weekday(D("2026-01-05")), 0); /* Monday */
  assert_int_equal(kj_weekday(D("2026-01-01")), 3);
  assert_int_equal(kj_weekday(D("2000-01-01")), 5); /* Saturday */
  assert_int_equal(kj_weekday(D("1900-01-01")), 0); /* before the epoch */
  assert_int_equal(kj_weekday(D("1969-12-31")), 2);
  assert_int_equal(kj_weekday(D("2028-02-29")), 1);
  assert_int_equal(kj_weekday(D("2999-12-31")), 1);
  for (kj_day d = D("1960-01-04"); d < D("1960-01-04") + 700; d++)
    assert_int_equal(kj_weekday(d), (d - D("1960-01-04")) % 7);
  /* today: a sane date */
  kj_day t = kj_today(7 * 60);
  assert_true(t > D("2020-01-01") && t < D("2999-01-01"));
  assert_true(kj_today(0) - t <= 1 && t - kj_today(0) <= 1);
}

static void check_period(const char *s, kj_period_kind kind, int index, const char *first,
                         const char *last) {
  kj_period p;
  assert_int_equal(kj_period_parse(s, &p), KJ_OK);
  assert_int_equal(p.kind, kind);
  assert_int_equal(p.index, index);
  assert_int_equal(p.first, D(first));
  assert_int_equal(p.last, D(last));
  char out[8];
  kj_period_format(&p, out);
  assert_string_equal(out, s);
  assert_true(kj_period_contains(&p, D(first)));
  assert_true(kj_period_contains(&p, D(last)));
  assert_false(kj_period_contains(&p, D(first) - 1));
  assert_false(kj_period_contains(&p, D(last) + 1));
}

static void test_periods(void **state) {
  (void)state;
  check_period("2026", KJ_PERIOD_YEAR, 0, "2026-01-01", "2026-12-31");
  check_period("2028", KJ_PERIOD_YEAR, 0, "2028-01-01", "2028-12-31");
  check_period("2026-Q1", KJ_PERIOD_QUARTER, 1, "2026-01-01", "2026-03-31");
  check_period("2026-Q2", KJ_PERIOD_QUARTER, 2, "2026-04-01", "2026-06-30");
  check_period("2026-Q3", KJ_PERIOD_QUARTER, 3, "2026-07-01", "2026-09-30");
  check_period("2026-Q4", KJ_PERIOD_QUARTER, 4, "2026-10-01", "2026-12-31");
  check_period("2026-02", KJ_PERIOD_MONTH, 2, "2026-02-01", "2026-02-28");
  check_period("2028-02", KJ_PERIOD_MONTH, 2, "2028-02-01", "2028-02-29");
  check_period("2100-02", KJ_PERIOD_MONTH, 2, "2100-02-01", "2100-02-28");
  check_period("2026-12", KJ_PERIOD_MONTH, 12, "2026-12-01", "2026-12-31");
  check_period("2026-01", KJ_PERIOD_MONTH, 1, "2026-01-01", "2026-01-31");
  kj_period p;
  assert_int_equal(kj_period_parse("2028-Q1", &p), KJ_OK);
  assert_int_equal(p.last - p.first + 1, 91); /* a leap Q1 */
  assert_int_equal(kj_period_parse("2026-Q1", &p), KJ_OK);
  assert_int_equal(p.last - p.first + 1, 90);
  static const char *const bad[] = {"2026-Q0", "2026-Q5", "2026-q1",    "2026-13", "2026-00",
                                    "2026-1",  "202",     "2026-",      "2026-Q",  "12026",
                                    "1899",    "3000",    "2026-01-01", "",        "2026 "};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    if (kj_period_parse(bad[i], &p) != KJ_EINVAL)
      fail_msg("'%s' parsed", bad[i]);
  assert_int_equal(kj_period_parse(NULL, &p), KJ_EINVAL);
  assert_int_equal(kj_period_parse("2026-Q3", NULL), KJ_OK);
}

static void test_workdays(void **state) {
  (void)state;
  kj_period jan, q1, year, feb28, q4;
  kj_period_parse("2026-01", &jan);
  kj_period_parse("2026-Q1", &q1);
  kj_period_parse("2026", &year);
  kj_period_parse("2028-02", &feb28);
  kj_period_parse("2026-Q4", &q4);
  kj_day far = D("2999-01-01");
  assert_int_equal(kj_workdays(&jan, far, NULL, 0, NULL, 0), 22);
  assert_int_equal(kj_workdays(&q1, far, NULL, 0, NULL, 0), 64);
  assert_int_equal(kj_workdays(&year, far, NULL, 0, NULL, 0), 261);
  assert_int_equal(kj_workdays(&feb28, far, NULL, 0, NULL, 0), 21);
  assert_int_equal(kj_workdays(&q4, far, NULL, 0, NULL, 0), 66);

  /* as_of inside the period: up to and including as_of */
  assert_int_equal(kj_workdays(&jan, D("2026-01-09"), NULL, 0, NULL, 0), 7);
  assert_int_equal(kj_workdays(&jan, D("2026-01-10"), NULL, 0, NULL, 0), 7); /* Saturday */
  assert_int_equal(kj_workdays(&jan, D("2026-01-01"), NULL, 0, NULL, 0), 1);
  assert_int_equal(kj_workdays(&jan, D("2025-12-31"), NULL, 0, NULL, 0), 0);

  /* holidays: any order, duplicates, weekends and days outside change nothing */
  kj_day hol[] = {D("2026-01-16"), D("2026-01-01"), D("2026-01-01"), D("2026-01-03"),
                  D("2026-02-17")};
  assert_int_equal(kj_workdays(&jan, far, hol, 5, NULL, 0), 20);
  assert_int_equal(kj_workdays(&jan, D("2026-01-09"), hol, 5, NULL, 0), 6);

  /* the days themselves; max bounds the writes, not the count */
  kj_day out[8];
  memset(out, 0, sizeof(out));
  int n = kj_workdays(&jan, D("2026-01-09"), hol, 5, out, 4);
  assert_int_equal(n, 6);
  assert_int_equal(out[0], D("2026-01-02"));
  assert_int_equal(out[1], D("2026-01-05"));
  assert_int_equal(out[3], D("2026-01-07"));
  assert_int_equal(out[4], 0); /* not written */
  assert_int_equal(kj_workdays(&jan, D("2026-01-09"), hol, 5, out, 8), 6);
  assert_int_equal(out[5], D("2026-01-09"));
}

/* Issue 16: times shown to a person in the office's zone; fixed offsets
 * (Indonesia has no daylight saving time), no TZ involved. */
static void test_time_zone(void **state) {
  (void)state;
  char out[KJ_TIME_ZONE_STRLEN];
  const int64_t ms = 1796018709123; /* 2026-11-30T06:05:09.123Z */
  assert_string_equal(kj_time_format_zone(ms, "Asia/Jakarta", out), "2026-11-30 13:05:09 WIB");
  assert_string_equal(kj_time_format_zone(ms, "Asia/Makassar", out), "2026-11-30 14:05:09 WITA");
  assert_string_equal(kj_time_format_zone(ms, "Asia/Jayapura", out), "2026-11-30 15:05:09 WIT");
  assert_string_equal(kj_time_format_zone(ms, NULL, out), "2026-11-30 13:05:09 WIB");
  assert_string_equal(kj_time_format_zone(ms, "Europe/Paris", out), "2026-11-30 13:05:09 WIB");
  /* across midnight and a year end: the local calendar date */
  assert_string_equal(kj_time_format_zone(1798761600000, "Asia/Jayapura", out),
                      "2027-01-01 09:00:00 WIT"); /* 2027-01-01T00:00:00Z */
  assert_string_equal(kj_time_format_zone(1798758000000 - 1, "Asia/Jakarta", out),
                      "2027-01-01 05:59:59 WIB"); /* 2026-12-31T22:59:59.999Z */
  assert_string_equal(kj_time_format_zone(0, "Asia/Makassar", out), "1970-01-01 08:00:00 WITA");
  assert_string_equal(kj_time_format_zone(-1, "Asia/Jakarta", out), "1970-01-01 06:59:59 WIB");
  int off;
  const char *abbr;
  assert_int_equal(kj_zone("Asia/Makassar", &off, &abbr), KJ_OK);
  assert_int_equal(off, 480);
  assert_string_equal(abbr, "WITA");
  assert_int_equal(kj_zone("", &off, &abbr), KJ_OK);
  assert_int_equal(off, 420);
  assert_int_equal(kj_zone("Asia/Tokyo", &off, &abbr), KJ_EINVAL);
  assert_int_equal(off, 420);
  assert_string_equal(abbr, "WIB");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_civil_round_trip), cmocka_unit_test(test_parse_and_months),
      cmocka_unit_test(test_weekdays),         cmocka_unit_test(test_periods),
      cmocka_unit_test(test_workdays),         cmocka_unit_test(test_time_zone),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
