/* test_table.c - proto/table.c: a CSV table is exactly the CSV file of
 * csvio.c (header, guarded cells, row count), an XLSX table is a ZIP
 * workbook holding one sheet, a missing value is an empty cell, and the
 * period filter takes dated records by date and period records by overlap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csvio.h"
#include "table.h"

#define UUID1 "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a01"
#define UUID2 "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a02"

static void set(kj_record *r, const char *field, const char *v) {
  const kj_type_def *t = kj_type(r->type);
  int i = kj_field_index(t, field);
  assert_true(i >= 0);
  assert_int_equal(kj_record_set(r, i, v), KJ_OK);
}

static void survey(kj_record *r, const char *id, const char *date, const char *comment) {
  kj_record_init(r, KJ_T_SURVEY);
  snprintf(r->id, sizeof r->id, "%s", id);
  set(r, "office", "36.73.01");
  set(r, "date", date);
  set(r, "service", "KTP-el");
  for (int i = 1; i <= 9; i++) {
    char f[4];
    snprintf(f, sizeof f, "u%d", i);
    set(r, f, "4");
  }
  if (comment)
    set(r, "comment", comment);
}

/* 1 when the n bytes at z hold needle. */
static int holds(const char *z, long n, const char *needle) {
  size_t k = strlen(needle);
  for (long i = 0; i + (long)k <= n; i++)
    if (!memcmp(z + i, needle, k))
      return 1;
  return 0;
}

static char *slurp(FILE *f) {
  long n = ftell(f);
  assert_true(n >= 0);
  char *s = calloc(1, (size_t)n + 1);
  assert_non_null(s);
  rewind(f);
  assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
  return s;
}

static void t_csv_is_csvio(void **state) {
  (void)state;
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  kj_record a, b;
  survey(&a, UUID1, "2026-01-15", "=1+1"); /* a formula: guarded */
  survey(&b, UUID2, "2026-02-01", NULL);   /* no comment: an empty cell */
  FILE *got = tmpfile(), *want = tmpfile();
  assert_non_null(got);
  assert_non_null(want);
  kj_table *tb;
  kj_err err;
  kj_err_clear(&err);
  assert_int_equal(kj_table_open_csv(&tb, got, t, &err), KJ_OK);
  assert_int_equal(kj_table_add(tb, &a, &err), KJ_OK);
  assert_int_equal(kj_table_add(tb, &b, &err), KJ_OK);
  assert_int_equal(kj_table_rows(tb), 2);
  assert_int_equal(kj_table_close(tb, &err), KJ_OK);
  assert_int_equal(kj_csv_write_header(want, t), KJ_OK);
  assert_int_equal(kj_csv_write_record(want, &a), KJ_OK);
  assert_int_equal(kj_csv_write_record(want, &b), KJ_OK);
  fflush(want);
  char *g = slurp(got), *w = slurp(want);
  assert_string_equal(g, w);
  assert_non_null(strstr(g, "'=1+1"));
  assert_non_null(strstr(g, ",4,,,,,\n")); /* u9 then five empty optional cells */
  free(g);
  free(w);
  fclose(got);
  fclose(want);
  kj_record_release(&a);
  kj_record_release(&b);
}

static void t_xlsx_is_a_workbook(void **state) {
  (void)state;
  if (!kj_table_has_xlsx())
    skip();
  char dir[] = "/tmp/kj-table-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[64];
  snprintf(path, sizeof path, "%s/s.xlsx", dir);
  kj_record a;
  survey(&a, UUID1, "2026-01-15", "baik");
  kj_table *tb;
  kj_err err;
  kj_err_clear(&err);
  assert_int_equal(kj_table_open_xlsx(&tb, path, kj_type(KJ_T_SURVEY), &err), KJ_OK);
  assert_int_equal(kj_table_add(tb, &a, &err), KJ_OK);
  assert_int_equal(kj_table_rows(tb), 1);
  assert_int_equal(kj_table_close(tb, &err), KJ_OK);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  char *z = slurp(f);
  long n = ftell(f);
  fclose(f);
  assert_true(n > 1000);
  assert_memory_equal(z, "PK\x03\x04", 4); /* a ZIP file */
  assert_true(holds(z, n, "xl/worksheets/sheet1.xml"));
  assert_false(holds(z, n, "xl/worksheets/sheet2.xml")); /* one sheet */
  free(z);
  kj_record_release(&a);
  unlink(path);
  rmdir(dir);
}

static void t_xlsx_bad_path(void **state) {
  (void)state;
  if (!kj_table_has_xlsx())
    skip();
  kj_table *tb = (kj_table *)1;
  kj_err err;
  kj_err_clear(&err);
  kj_code c = kj_table_open_xlsx(&tb, "/nonexistent-dir/x/y.xlsx", kj_type(KJ_T_SURVEY), &err);
  if (c == KJ_OK) { /* libxlsxwriter opens the file only when closing */
    assert_int_equal(kj_table_close(tb, &err), KJ_EIO);
    assert_non_null(strstr(err.msg, "xlsx"));
  } else {
    assert_int_equal(c, KJ_EIO);
    assert_null(tb);
  }
}

static void t_period(void **state) {
  (void)state;
  kj_period q1, y25;
  assert_int_equal(kj_period_parse("2026-Q1", &q1), KJ_OK);
  assert_int_equal(kj_period_parse("2025", &y25), KJ_OK);
  const kj_type_def *ts = kj_type(KJ_T_SURVEY), *tr = kj_type(KJ_T_RATING);
  kj_record s;
  survey(&s, UUID1, "2026-03-31", NULL);
  assert_true(kj_table_in_period(ts, &s, &q1));
  assert_false(kj_table_in_period(ts, &s, &y25));
  kj_record_release(&s);
  survey(&s, UUID1, "2026-04-01", NULL);
  assert_false(kj_table_in_period(ts, &s, &q1));
  kj_record_release(&s);
  kj_record r;
  kj_record_init(&r, KJ_T_RATING);
  assert_false(kj_table_in_period(tr, &r, &q1)); /* no period: not in any */
  set(&r, "period", "2026");
  assert_true(kj_table_in_period(tr, &r, &q1)); /* the year overlaps its quarter */
  assert_false(kj_table_in_period(tr, &r, &y25));
  kj_record_release(&r);
  int df, pf;
  assert_false(kj_table_period_field(kj_type(KJ_T_EMPLOYEE), &df, &pf));
  assert_int_equal(df, -1);
  assert_int_equal(pf, -1);
  kj_table_format fmt;
  assert_int_equal(kj_table_format_parse("xlsx", &fmt), 0);
  assert_int_equal(fmt, KJ_TABLE_XLSX);
  assert_int_equal(kj_table_format_parse("xls", &fmt), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_csv_is_csvio),
      cmocka_unit_test(t_xlsx_is_a_workbook),
      cmocka_unit_test(t_xlsx_bad_path),
      cmocka_unit_test(t_period),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
