/* report.c - report documents (domain.md "Report format") as text tables
 * and CSV.
 *
 * The server's `kinerjad report` and the office client's `kinerja report`
 * print the same decoded documents (reportdoc.h) the same way; numbers are
 * formatted for display only.  Text from the documents (office and employee
 * names, codes) comes from office PCs and master data: in a table every
 * cell is escaped (common/text.h) before its width is measured, and in a
 * CSV a cell that would run as a spreadsheet formula gets a leading "'".
 */
#include "report.h"

#include <cJSON.h>
#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "i18n.h"
#include "text.h"

/* ---------------------------------------------------------------------- */
/* cells */

#define NCELL 24
#define CELLSZ 64

typedef struct row {
  char num[NCELL][CELLSZ]; /* formatted numbers */
  const char *v[NCELL];    /* each cell's text, "" for null */
} row;

static const char *c_int(row *r, int i, long long v) {
  if (v == KJ_RNULL)
    r->num[i][0] = 0;
  else
    snprintf(r->num[i], CELLSZ, "%lld", v);
  return r->v[i] = r->num[i];
}

static const char *c_h(row *r, int i, long long h) {
  if (h == KJ_RNULL)
    r->num[i][0] = 0;
  else
    kj_report_fmt2(h, r->num[i], CELLSZ);
  return r->v[i] = r->num[i];
}

static const char *c_str(row *r, int i, const char *s) {
  return r->v[i] = s ? s : "";
}

enum { OFF_NCOLS = 23, EMP_NCOLS = 8 };

static const char *const k_off_cols[OFF_NCOLS] = {"rank",
                                                  "office",
                                                  "name",
                                                  "ikk",
                                                  "ikm_n",
                                                  "ikm",
                                                  "mutu",
                                                  "kinerja",
                                                  "sample_min",
                                                  "sample_ok",
                                                  "complaints_received",
                                                  "complaints_resolved",
                                                  "complaints_on_time",
                                                  "on_time_rate",
                                                  "median_days",
                                                  "compliance",
                                                  "employees",
                                                  "capaian_mean",
                                                  "sangat_baik",
                                                  "baik",
                                                  "butuh_perbaikan",
                                                  "kurang",
                                                  "sangat_kurang"};
static const char *const k_emp_cols[EMP_NCOLS] = {
    "nip",      "name",   "capaian", "rating_hasil_kerja", "perilaku", "rating_perilaku",
    "predikat", "targets"};

static void office_cells(const kj_report_office *o, row *r) {
  c_int(r, 0, o->rank);
  c_str(r, 1, o->office);
  c_str(r, 2, o->name);
  c_h(r, 3, o->ikk);
  c_int(r, 4, o->ikm.n);
  c_h(r, 5, o->ikm.value);
  c_str(r, 6, o->ikm.mutu);
  c_str(r, 7, o->ikm.kinerja);
  c_int(r, 8, o->ikm.sample_min);
  c_str(r, 9, o->ikm.sample_ok < 0 ? "" : o->ikm.sample_ok ? "true" : "false");
  c_int(r, 10, o->complaints.received);
  c_int(r, 11, o->complaints.resolved);
  c_int(r, 12, o->complaints.on_time);
  c_h(r, 13, o->complaints.on_time_rate);
  c_h(r, 14, o->complaints.median_days);
  c_h(r, 15, o->compliance);
  c_int(r, 16, o->employees.count);
  c_h(r, 17, o->employees.capaian_mean);
  for (int i = 0; i < KJ_PREDIKAT_COUNT; i++)
    c_int(r, 18 + i, o->employees.predikat[i]);
}

static void emp_cells(const kj_report_employee *e, row *r) {
  c_str(r, 0, e->nip);
  c_str(r, 1, e->name);
  c_h(r, 2, e->capaian);
  c_str(r, 3, e->rating_hasil_kerja);
  c_h(r, 4, e->perilaku);
  c_str(r, 5, e->rating_perilaku);
  c_str(r, 6, e->predikat);
  c_int(r, 7, (long long)e->ntargets);
}

/* ---------------------------------------------------------------------- */
/* CSV */

static void csv_cell(FILE *out, const char *s, int last) {
  if (!s)
    s = "";
  if (kj_csv_formula_trigger(s)) {
    /* OWASP: a leading quote keeps the spreadsheet from running it; the
     * cell starts with ' now, so libcsv's quoting rules below still hold */
    size_t n = strlen(s);
    char *g = malloc(n + 2);
    if (g) {
      g[0] = '\'';
      memcpy(g + 1, s, n + 1);
      csv_cell(out, g, last);
      free(g);
      return;
    }
    s = ""; /* out of memory: never write the trigger unguarded */
  }
  size_t n = strlen(s);
  if (strpbrk(s, ",\"\r\n") ||
      (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')))
    csv_fwrite(out, s, n);
  else
    fputs(s, out);
  fputc(last ? '\n' : ',', out);
}

static void csv_row(FILE *out, const char *const *v, int n) {
  for (int i = 0; i < n; i++)
    csv_cell(out, v[i], i == n - 1);
}

/* ---------------------------------------------------------------------- */
/* tables */

typedef struct tcol {
  const char *head;
  int minw, maxw, right; /* maxw 0: no limit */
} tcol;

/* display columns of escaped text: one per UTF-8 character */
static int disp_width(const char *s) {
  int w = 0;
  for (; *s; s++)
    w += ((unsigned char)*s & 0xC0) != 0x80;
  return w;
}

static char *escaped(const char *s, int *nomem) {
  size_t n = kj_term_escape(s ? s : "", NULL, 0) + 1;
  char *b = malloc(n);
  if (!b) {
    *nomem = 1;
    return NULL;
  }
  kj_term_escape(s ? s : "", b, n);
  return b;
}

/* first max characters of s (escaped text: cutting keeps it printable) */
static void clip(char *s, int max) {
  int w = 0;
  for (char *p = s; *p; p++) {
    if (((unsigned char)*p & 0xC0) != 0x80 && w++ == max) {
      *p = 0;
      return;
    }
  }
}

/* cells[r * ncols + c], already escaped; null cells show as "-" */
static kj_code print_table(FILE *out, const tcol *cols, int ncols, char **cells, size_t nrows,
                           kj_err *err) {
  int w[NCELL];
  for (int c = 0; c < ncols; c++) {
    w[c] = disp_width(_(cols[c].head)); /* the heads in the reader's language */
    if (w[c] < cols[c].minw)
      w[c] = cols[c].minw;
    for (size_t r = 0; r < nrows; r++) {
      char *s = cells[r * (size_t)ncols + (size_t)c];
      if (cols[c].maxw)
        clip(s, cols[c].maxw);
      int dw = disp_width(*s ? s : "-");
      if (dw > w[c])
        w[c] = dw;
    }
  }
  for (size_t r = 0; r <= nrows; r++) {
    for (int c = 0; c < ncols; c++) {
      const char *s = r ? cells[(r - 1) * (size_t)ncols + (size_t)c] : _(cols[c].head);
      if (!*s)
        s = "-";
      int pad = w[c] - disp_width(s), last = c == ncols - 1;
      if (c)
        fputs(c == 1 ? "  " : " ", out);
      if (cols[c].right)
        fprintf(out, "%*s", pad, "");
      fputs(s, out);
      if (!cols[c].right && !last)
        fprintf(out, "%*s", pad, "");
    }
    fputc('\n', out);
  }
  return ferror(out) ? kj_fail(err, KJ_EIO, "cannot write the report") : KJ_OK;
}

static void free_cells(char **cells, size_t n) {
  for (size_t i = 0; cells && i < n; i++)
    free(cells[i]);
  free(cells);
}

static const tcol k_off_table[] = {
    {N_("rank"), 4, 0, 1}, {N_("office"), 12, 0, 0}, {N_("name"), 28, 28, 0},
    {"IKK", 7, 0, 1},      {"IKM", 7, 0, 1},         {"mutu", 4, 0, 0},
    {"n", 6, 0, 1},        {N_("on time"), 9, 0, 1}, {N_("compliance"), 10, 0, 1},
    {"capaian", 8, 0, 1},  {"SB/B/BP/K/SK", 0, 0, 0}};
#define OFF_TCOLS ((int)(sizeof k_off_table / sizeof k_off_table[0]))

static const tcol k_emp_table[] = {
    {"nip", 18, 0, 0},     {N_("name"), 24, 24, 0}, {"capaian", 8, 0, 1},  {"hasil", 8, 0, 0},
    {"perilaku", 8, 0, 1}, {N_("rating"), 8, 0, 0}, {"predikat", 16, 0, 0}};
#define EMP_TCOLS ((int)(sizeof k_emp_table / sizeof k_emp_table[0]))

static kj_code offices_table(const kj_report_offices *d, FILE *out, kj_err *err) {
  fputs(_("Offices, period "), out);
  kj_term_fputs(d->period, out);
  fputs(_(", as of "), out);
  kj_term_fputs(d->as_of, out);
  fputs("\n\n", out);
  size_t n = d->n * (size_t)OFF_TCOLS;
  char **cells = calloc(n ? n : 1, sizeof *cells);
  int nomem = !cells;
  for (size_t i = 0; !nomem && i < d->n; i++) {
    row r;
    office_cells(&d->offices[i], &r);
    char ot[2 * CELLSZ + 2], pr[5 * CELLSZ + 5];
    snprintf(ot, sizeof ot, "%s/%s", r.v[12], r.v[10]);
    snprintf(pr, sizeof pr, "%s/%s/%s/%s/%s", r.v[18], r.v[19], r.v[20], r.v[21], r.v[22]);
    const char *src[OFF_TCOLS] = {r.v[0], r.v[1], r.v[2],  r.v[3],  r.v[5], r.v[6],
                                  r.v[4], ot,     r.v[15], r.v[17], pr};
    for (int c = 0; c < OFF_TCOLS; c++)
      cells[i * OFF_TCOLS + (size_t)c] = escaped(src[c], &nomem);
  }
  kj_code rc = nomem ? kj_fail(err, KJ_ENOMEM, "out of memory")
                     : print_table(out, k_off_table, OFF_TCOLS, cells, d->n, err);
  free_cells(cells, n);
  return rc;
}

static kj_code employees_table(const kj_report_employees *d, FILE *out, kj_err *err) {
  fputs(_("Employees of "), out);
  kj_term_fputs(d->office, out);
  fputs(_(", period "), out);
  kj_term_fputs(d->period, out);
  fputs("\n\n", out);
  size_t n = d->n * (size_t)EMP_TCOLS;
  char **cells = calloc(n ? n : 1, sizeof *cells);
  int nomem = !cells;
  for (size_t i = 0; !nomem && i < d->n; i++) {
    row r;
    const kj_report_employee *e = &d->employees[i];
    emp_cells(e, &r);
    /* no predikat: why (docs/scoring.md "either rating null: null"), as the
     * web apps say it; the CSV and JSON keep the null */
    if (!e->predikat)
      r.v[6] = e->capaian == KJ_RNULL && e->perilaku == KJ_RNULL ? _("no target, no atasan rating")
               : e->capaian == KJ_RNULL                          ? _("no target")
               : e->perilaku == KJ_RNULL                         ? _("no atasan rating")
                                                                 : "";
    for (int c = 0; c < EMP_TCOLS; c++)
      cells[i * EMP_TCOLS + (size_t)c] = escaped(r.v[c], &nomem);
  }
  kj_code rc = nomem ? kj_fail(err, KJ_ENOMEM, "out of memory")
                     : print_table(out, k_emp_table, EMP_TCOLS, cells, d->n, err);
  free_cells(cells, n);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* entry points */

static kj_code check_format(const char *format, int *csv, kj_err *err) {
  *csv = format && !strcmp(format, "csv");
  if (format && !*csv && strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
    return kj_fail(err, KJ_EINVAL, "unknown format '%s' (json, csv, table)", format);
  return KJ_OK;
}

static kj_code print_json(kj_code rc, kj_buf *b, FILE *out, kj_err *err) {
  if (!rc && fputs(kj_buf_str(b), out) < 0)
    rc = kj_fail(err, KJ_EIO, "cannot write the report");
  kj_buf_release(b);
  return rc;
}

kj_code kj_report_print_offices(const kj_report_offices *d, const char *format, FILE *out,
                                kj_err *err) {
  int csv;
  if (check_format(format, &csv, err))
    return KJ_EINVAL;
  if (!format || !strcmp(format, "json")) {
    kj_buf b;
    kj_buf_init(&b, KJ_BUF_UNLIMITED);
    return print_json(kj_report_offices_encode(d, &b, err), &b, out, err);
  }
  if (!csv)
    return offices_table(d, out, err);
  csv_row(out, k_off_cols, OFF_NCOLS);
  for (size_t i = 0; i < d->n; i++) {
    row r;
    office_cells(&d->offices[i], &r);
    csv_row(out, r.v, OFF_NCOLS);
  }
  return ferror(out) ? kj_fail(err, KJ_EIO, "cannot write the report") : KJ_OK;
}

kj_code kj_report_print_employees(const kj_report_employees *d, const char *format, FILE *out,
                                  kj_err *err) {
  int csv;
  if (check_format(format, &csv, err))
    return KJ_EINVAL;
  if (!format || !strcmp(format, "json")) {
    kj_buf b;
    kj_buf_init(&b, KJ_BUF_UNLIMITED);
    return print_json(kj_report_employees_encode(d, &b, err), &b, out, err);
  }
  if (!csv)
    return employees_table(d, out, err);
  csv_row(out, k_emp_cols, EMP_NCOLS);
  for (size_t i = 0; i < d->n; i++) {
    row r;
    emp_cells(&d->employees[i], &r);
    csv_row(out, r.v, EMP_NCOLS);
  }
  return ferror(out) ? kj_fail(err, KJ_EIO, "cannot write the report") : KJ_OK;
}

kj_code kj_report_print_scores(const kj_report_scores *s, const char *office, FILE *out,
                               kj_err *err) {
  /* views of the entry: nothing is copied, nothing released */
  kj_report_offices od = {s->period, s->as_of,
                          s->has_office ? (kj_report_office *)&s->office : NULL,
                          s->has_office ? 1u : 0u};
  kj_report_employees ed = {s->period, (char *)(office ? office : ""), s->employees, s->n};
  kj_code rc = offices_table(&od, out, err);
  if (!rc) {
    fputc('\n', out);
    rc = employees_table(&ed, out, err);
  }
  return rc;
}

kj_code kj_report_format(const char *json, const char *format, FILE *out, kj_err *err) {
  int csv;
  kj_code rc = check_format(format, &csv, err);
  if (rc)
    return rc;
  if (!format || !strcmp(format, "json")) {
    if (fputs(json, out) < 0)
      return kj_fail(err, KJ_EIO, "cannot write the report");
    return KJ_OK;
  }
  cJSON *doc = cJSON_Parse(json);
  if (!doc || !cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    return kj_fail(err, KJ_EINVAL, "not a report document");
  }
  if (cJSON_GetObjectItemCaseSensitive(doc, "offices")) {
    kj_report_offices d;
    rc = kj_report_offices_decode_json(doc, &d, err);
    if (!rc)
      rc = kj_report_print_offices(&d, format, out, err);
    kj_report_offices_release(&d);
  } else if (cJSON_GetObjectItemCaseSensitive(doc, "employees")) {
    kj_report_employees d;
    rc = kj_report_employees_decode_json(doc, &d, err);
    if (!rc)
      rc = kj_report_print_employees(&d, format, out, err);
    kj_report_employees_release(&d);
  } else {
    rc = kj_fail(err, KJ_EINVAL, "not a report document");
  }
  cJSON_Delete(doc);
  return rc;
}
