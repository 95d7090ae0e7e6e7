/* table.c - records as a CSV or XLSX table (table.h). */
#include "table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <csv.h>

#include "csvio.h"
#include "plat.h"

#ifdef KJ_HAVE_XLSX
#include <xlsxwriter.h>
#endif

struct kj_table {
  const kj_type_def *t;
  FILE *csv;
#ifdef KJ_HAVE_XLSX
  lxw_workbook *wb;
  lxw_worksheet *ws;
  lxw_format *date_fmt;
  lxw_row_t row;
#endif
  long rows;
};

int kj_table_format_parse(const char *s, kj_table_format *out) {
  if (s && !strcmp(s, "csv"))
    *out = KJ_TABLE_CSV;
  else if (s && !strcmp(s, "xlsx"))
    *out = KJ_TABLE_XLSX;
  else
    return -1;
  return 0;
}

int kj_table_has_xlsx(void) {
#ifdef KJ_HAVE_XLSX
  return 1;
#else
  return 0;
#endif
}

kj_code kj_table_open_csv(kj_table **out, FILE *f, const kj_type_def *t, kj_err *err) {
  *out = NULL;
  kj_table *tb = calloc(1, sizeof *tb);
  if (!tb)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  tb->t = t;
  tb->csv = f;
  if (kj_csv_write_header(f, t)) {
    free(tb);
    return kj_fail(err, KJ_EIO, "cannot write the CSV: %s", strerror(errno));
  }
  *out = tb;
  return KJ_OK;
}

kj_code kj_table_open_xlsx(kj_table **out, const char *path, const kj_type_def *t, kj_err *err) {
  *out = NULL;
#ifdef KJ_HAVE_XLSX
  kj_table *tb = calloc(1, sizeof *tb);
  if (!tb)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  tb->t = t;
  lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = NULL};
  tb->wb = workbook_new_opt(path, &opt);
  tb->ws = tb->wb ? workbook_add_worksheet(tb->wb, t->plural) : NULL;
  lxw_format *bold = tb->wb ? workbook_add_format(tb->wb) : NULL;
  tb->date_fmt = tb->wb ? workbook_add_format(tb->wb) : NULL;
  if (!tb->ws || !bold || !tb->date_fmt) {
    if (tb->wb)
      workbook_close(tb->wb); /* frees it; the half-made file is the caller's */
    free(tb);
    return kj_fail(err, KJ_EIO, "cannot make the xlsx workbook '%s'", path);
  }
  format_set_bold(bold);
  format_set_num_format(tb->date_fmt, "yyyy-mm-dd");
  worksheet_write_string(tb->ws, 0, 0, t->id_name, bold);
  for (int i = 0; i < t->nfields; i++)
    worksheet_write_string(tb->ws, 0, (lxw_col_t)(i + 1), t->fields[i].name, bold);
  worksheet_freeze_panes(tb->ws, 1, 0);
  tb->row = 1;
  *out = tb;
  return KJ_OK;
#else
  (void)path;
  (void)t;
  return kj_fail(err, KJ_EINVAL, "this build of the program has no XLSX writer: export as csv");
#endif
}

#ifdef KJ_HAVE_XLSX
static kj_code xlsx_cell(kj_table *tb, lxw_col_t col, const kj_field_def *f, const char *v,
                         kj_err *err) {
  lxw_error e = LXW_NO_ERROR;
  if (!v)
    return KJ_OK; /* an absent field is an empty cell */
  kj_day d;
  if (f && f->ft == KJ_FT_DATE && kj_date_parse(v, &d) == KJ_OK) {
    lxw_datetime dt = {0};
    int y, m, dd;
    kj_day_to_civil(d, &y, &m, &dd);
    dt.year = y;
    dt.month = m;
    dt.day = dd;
    e = worksheet_write_datetime(tb->ws, tb->row, col, &dt, tb->date_fmt);
  } else if (f && (f->ft == KJ_FT_INT || f->ft == KJ_FT_NUM)) {
    e = worksheet_write_number(tb->ws, tb->row, col, strtod(v, NULL), NULL);
  } else {
    e = worksheet_write_string(tb->ws, tb->row, col, v, NULL);
  }
  if (e != LXW_NO_ERROR)
    return kj_fail(err, KJ_EIO, "xlsx: %s", lxw_strerror(e));
  return KJ_OK;
}
#endif

kj_code kj_table_add(kj_table *tb, const kj_record *r, kj_err *err) {
  if (tb->csv) {
    kj_code c = kj_csv_write_record(tb->csv, r);
    if (c)
      return kj_fail(err, c, "cannot write the CSV: %s",
                     c == KJ_ENOMEM ? "out of memory" : strerror(errno));
    tb->rows++;
    return KJ_OK;
  }
#ifdef KJ_HAVE_XLSX
  if (tb->row >= LXW_ROW_MAX)
    return kj_fail(err, KJ_ETOOBIG,
                   "more than %u rows: too many for one sheet (use csv or a period)",
                   (unsigned)LXW_ROW_MAX - 1);
  kj_code c = xlsx_cell(tb, 0, NULL, r->id, err);
  for (int i = 0; !c && i < tb->t->nfields; i++)
    c = xlsx_cell(tb, (lxw_col_t)(i + 1), &tb->t->fields[i], r->v[i], err);
  tb->row++;
  tb->rows++;
  return c;
#else
  return kj_fail(err, KJ_EINVAL, "no XLSX writer");
#endif
}

long kj_table_rows(const kj_table *tb) {
  return tb ? tb->rows : 0;
}

kj_code kj_table_close(kj_table *tb, kj_err *err) {
  if (!tb)
    return KJ_OK;
  kj_code c = KJ_OK;
  if (tb->csv) {
    if (fflush(tb->csv) != 0)
      c = kj_fail(err, KJ_EIO, "cannot write the CSV: %s", strerror(errno));
  }
#ifdef KJ_HAVE_XLSX
  if (tb->wb) {
    lxw_error we = workbook_close(tb->wb);
    if (we != LXW_NO_ERROR)
      c = kj_fail(err, KJ_EIO, "cannot write the xlsx file: %s", lxw_strerror(we));
  }
#endif
  free(tb);
  return c;
}

int kj_table_period_field(const kj_type_def *t, int *date_field, int *period_field) {
  *date_field = *period_field = -1;
  for (int i = 0; i < t->nfields && *date_field < 0; i++)
    if (t->fields[i].ft == KJ_FT_DATE)
      *date_field = i;
  for (int i = 0; i < t->nfields && *period_field < 0; i++)
    if (t->fields[i].ft == KJ_FT_PERIOD)
      *period_field = i;
  return *date_field >= 0 || *period_field >= 0;
}

int kj_table_in_period(const kj_type_def *t, const kj_record *r, const kj_period *p) {
  int df, pf;
  if (!kj_table_period_field(t, &df, &pf))
    return 0;
  const char *v = df >= 0 ? r->v[df] : r->v[pf];
  if (!v)
    return 0;
  if (df >= 0) {
    kj_day d;
    return kj_date_parse(v, &d) == KJ_OK && kj_period_contains(p, d);
  }
  kj_period q;
  return kj_period_parse(v, &q) == KJ_OK && q.first <= p->last && q.last >= p->first;
}

/* ---------------------------------------------------------------------- */
/* a report's table (kj_table_write_report) */

static kj_code table_csv_cell(FILE *f, const cJSON *v, int first) {
  if (!first && fputc(',', f) == EOF)
    return KJ_EIO;
  if (cJSON_IsNumber(v))
    return fprintf(f, "%.15g", v->valuedouble) < 0 ? KJ_EIO : KJ_OK;
  if (!cJSON_IsString(v) || !v->valuestring[0])
    return KJ_OK; /* null: an empty cell */
  const char *s = v->valuestring;
  size_t n = strlen(s);
  char *g = NULL;
  if (kj_csv_guard_needed(s)) {
    if (!(g = malloc(n + 2)))
      return KJ_ENOMEM;
    g[0] = '\'';
    memcpy(g + 1, s, n + 1);
    s = g;
    n++;
  }
  int quote = s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t' ||
              strpbrk(s, ",\"\r\n") != NULL;
  int bad = quote ? csv_fwrite(f, s, n) != 0 : fputs(s, f) == EOF;
  free(g);
  return bad ? KJ_EIO : KJ_OK;
}

static kj_code table_csv(FILE *f, const cJSON *head, const cJSON *rows) {
  kj_code rc = KJ_OK;
  int first = 1;
  const cJSON *c, *r;
  cJSON_ArrayForEach(c, head) {
    if ((rc = table_csv_cell(f, c, first)))
      return rc;
    first = 0;
  }
  if (fputc('\n', f) == EOF)
    return KJ_EIO;
  cJSON_ArrayForEach(r, rows) {
    first = 1;
    cJSON_ArrayForEach(c, r) {
      if ((rc = table_csv_cell(f, c, first)))
        return rc;
      first = 0;
    }
    if (fputc('\n', f) == EOF)
      return KJ_EIO;
  }
  return KJ_OK;
}

#ifdef KJ_HAVE_XLSX
static kj_code table_xlsx(const char *path, const char *sheet, const cJSON *head, const cJSON *rows,
                          kj_err *err) {
  lxw_workbook_options opt = {.constant_memory = LXW_TRUE, .tmpdir = NULL};
  lxw_workbook *wb = workbook_new_opt(path, &opt);
  lxw_worksheet *ws = wb ? workbook_add_worksheet(wb, sheet) : NULL;
  lxw_format *bold = wb ? workbook_add_format(wb) : NULL;
  if (!ws || !bold) {
    if (wb)
      workbook_close(wb);
    return kj_fail(err, KJ_EIO, "cannot make the xlsx workbook '%s'", path);
  }
  format_set_bold(bold);
  lxw_error e = LXW_NO_ERROR;
  lxw_col_t col = 0;
  const cJSON *c, *r;
  cJSON_ArrayForEach(c, head) {
    if (e == LXW_NO_ERROR)
      e = worksheet_write_string(ws, 0, col++, cJSON_IsString(c) ? c->valuestring : "", bold);
  }
  worksheet_freeze_panes(ws, 1, 0);
  lxw_row_t row = 1;
  cJSON_ArrayForEach(r, rows) {
    if (row >= LXW_ROW_MAX)
      break;
    col = 0;
    cJSON_ArrayForEach(c, r) {
      if (e != LXW_NO_ERROR)
        break;
      if (cJSON_IsNumber(c))
        e = worksheet_write_number(ws, row, col, c->valuedouble, NULL);
      else if (cJSON_IsString(c) && c->valuestring[0])
        e = worksheet_write_string(ws, row, col, c->valuestring, NULL);
      col++;
    }
    row++;
  }
  lxw_error ce = workbook_close(wb);
  if (e == LXW_NO_ERROR)
    e = ce;
  if (e != LXW_NO_ERROR)
    return kj_fail(err, KJ_EIO, "cannot write the xlsx file: %s", lxw_strerror(e));
  return KJ_OK;
}

#endif

kj_code kj_table_write_report(const char *sheet, const cJSON *head, const cJSON *rows, int xlsx,
                              kj_buf *out, kj_err *err) {
#ifndef KJ_HAVE_XLSX
  (void)sheet;
  if (xlsx)
    return kj_fail(err, KJ_EINVAL, "this build of the program has no XLSX writer: export as csv");
#endif
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s/kinerja-table-XXXXXX", kj_tmp_dir());
  int fd = mkstemp(tmp);
  if (fd < 0)
    return kj_fail(err, KJ_EIO, "cannot make a temporary file '%s': %s", tmp, strerror(errno));
  kj_code rc = KJ_OK;
  if (xlsx) {
    close(fd);
#ifdef KJ_HAVE_XLSX
    rc = table_xlsx(tmp, sheet, head, rows, err);
#endif
  } else {
    FILE *f = fdopen(fd, "w");
    if (!f) {
      close(fd);
      rc = kj_fail(err, KJ_EIO, "cannot write '%s': %s", tmp, strerror(errno));
    } else {
      rc = table_csv(f, head, rows);
      if (fclose(f) != 0 && !rc)
        rc = KJ_EIO;
      if (rc)
        kj_fail(err, rc, "cannot write the CSV: %s",
                rc == KJ_ENOMEM ? "out of memory" : strerror(errno));
    }
  }
  if (!rc) {
    FILE *f = fopen(tmp, "rb");
    char buf[65536];
    size_t n;
    if (!f)
      rc = kj_fail(err, KJ_EIO, "cannot read '%s': %s", tmp, strerror(errno));
    while (f && !rc && (n = fread(buf, 1, sizeof buf, f)) > 0)
      if (kj_buf_add(out, buf, n))
        rc = kj_fail(err, KJ_ETOOBIG, "the file is too large to send");
    if (f)
      fclose(f);
  }
  unlink(tmp);
  return rc;
}
