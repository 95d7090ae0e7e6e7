/* report.c - report documents (domain.md "Reports") as text tables and CSV.
 *
 * The server's `kinerjad report` and the office client's `kinerja report`
 * print the same documents the same way; the JSON stays the source of truth
 * and numbers are formatted for display only.
 */
#include "report.h"

#include <cJSON.h>
#include <csv.h>
#include <stdio.h>
#include <string.h>

static const char *const k_pred_names[KJ_PREDIKAT_COUNT] = {
    "Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang", "Sangat Kurang"};

static void csv_cell(FILE *out, const char *s, int last) {
  if (!s)
    s = "";
  size_t n = strlen(s);
  if (strpbrk(s, ",\"\r\n") ||
      (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')))
    csv_fwrite(out, s, n);
  else
    fputs(s, out);
  fputc(last ? '\n' : ',', out);
}

/* A JSON value as cell text: numbers with dec decimals, null as "". */
static const char *cell(const cJSON *v, int dec, char *buf, size_t size) {
  buf[0] = 0;
  if (!v || cJSON_IsNull(v))
    return buf;
  if (cJSON_IsString(v))
    return v->valuestring;
  if (cJSON_IsBool(v))
    snprintf(buf, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
  else if (cJSON_IsNumber(v))
    snprintf(buf, size, "%.*f", dec, v->valuedouble); /* display only: the JSON is exact */
  return buf;
}

static const cJSON *get(const cJSON *o, const char *k) {
  return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const char *const k_off_cols[] = {"rank",
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
static const char *const k_emp_cols[] = {
    "nip",      "name",   "capaian", "rating_hasil_kerja", "perilaku", "rating_perilaku",
    "predikat", "targets"};

static void office_cells(const cJSON *o, char c[23][128], const char *v[23]) {
  const cJSON *ikm = get(o, "ikm"), *cp = get(o, "complaints"), *em = get(o, "employees");
  const cJSON *pr = get(em, "predikat");
  v[0] = cell(get(o, "rank"), 0, c[0], 128);
  v[1] = cell(get(o, "office"), 0, c[1], 128);
  v[2] = cell(get(o, "name"), 0, c[2], 128);
  v[3] = cell(get(o, "ikk"), 2, c[3], 128);
  v[4] = cell(get(ikm, "n"), 0, c[4], 128);
  v[5] = cell(get(ikm, "value"), 2, c[5], 128);
  v[6] = cell(get(ikm, "mutu"), 0, c[6], 128);
  v[7] = cell(get(ikm, "kinerja"), 0, c[7], 128);
  v[8] = cell(get(ikm, "sample_min"), 0, c[8], 128);
  v[9] = cell(get(ikm, "sample_ok"), 0, c[9], 128);
  v[10] = cell(get(cp, "received"), 0, c[10], 128);
  v[11] = cell(get(cp, "resolved"), 0, c[11], 128);
  v[12] = cell(get(cp, "on_time"), 0, c[12], 128);
  v[13] = cell(get(cp, "on_time_rate"), 2, c[13], 128);
  v[14] = cell(get(cp, "median_days"), 2, c[14], 128);
  v[15] = cell(get(o, "compliance"), 2, c[15], 128);
  v[16] = cell(get(em, "count"), 0, c[16], 128);
  v[17] = cell(get(em, "capaian_mean"), 2, c[17], 128);
  for (int i = 0; i < KJ_PREDIKAT_COUNT; i++)
    v[18 + i] = cell(get(pr, k_pred_names[i]), 0, c[18 + i], 128);
}

static void emp_cells(const cJSON *e, char c[8][128], const char *v[8]) {
  v[0] = cell(get(e, "nip"), 0, c[0], 128);
  v[1] = cell(get(e, "name"), 0, c[1], 128);
  v[2] = cell(get(e, "capaian"), 2, c[2], 128);
  v[3] = cell(get(e, "rating_hasil_kerja"), 0, c[3], 128);
  v[4] = cell(get(e, "perilaku"), 2, c[4], 128);
  v[5] = cell(get(e, "rating_perilaku"), 0, c[5], 128);
  v[6] = cell(get(e, "predikat"), 0, c[6], 128);
  snprintf(c[7], 128, "%d", cJSON_GetArraySize(get(e, "targets")));
  v[7] = c[7];
}

static const char *dash(const char *s) {
  return s && *s ? s : "-";
}

int kj_report_format(const char *json, const char *format, FILE *out, kj_err *err) {
  if (!format || !strcmp(format, "json")) {
    fputs(json, out);
    return 0;
  }
  int csv = !strcmp(format, "csv");
  if (!csv && strcmp(format, "table") != 0)
    return kj_fail(err, KJ_EINVAL, "unknown format '%s' (json, csv, table)", format);
  cJSON *doc = cJSON_Parse(json);
  if (!doc)
    return kj_fail(err, KJ_EINVAL, "not a report document");
  const cJSON *offs = get(doc, "offices"), *emps = get(doc, "employees"), *x;
  if (offs) {
    char c[23][128];
    const char *v[23];
    if (csv) {
      for (int i = 0; i < 23; i++)
        csv_cell(out, k_off_cols[i], i == 22);
      cJSON_ArrayForEach(x, offs) {
        office_cells(x, c, v);
        for (int i = 0; i < 23; i++)
          csv_cell(out, v[i], i == 22);
      }
    } else {
      fprintf(out, "Offices, period %s, as of %s\n\n", cell(get(doc, "period"), 0, c[0], 128),
              cell(get(doc, "as_of"), 0, c[1], 128));
      fprintf(out, "%4s  %-12s %-28s %7s %7s %-4s %6s %9s %10s %8s  %s\n", "rank", "office", "name",
              "IKK", "IKM", "mutu", "n", "on time", "compliance", "capaian", "SB/B/BP/K/SK");
      cJSON_ArrayForEach(x, offs) {
        office_cells(x, c, v);
        char ot[64], pr[64];
        snprintf(ot, sizeof ot, "%s/%s", v[12], v[10]);
        snprintf(pr, sizeof pr, "%s/%s/%s/%s/%s", v[18], v[19], v[20], v[21], v[22]);
        fprintf(out, "%4s  %-12s %-28.28s %7s %7s %-4s %6s %9s %10s %8s  %s\n", v[0], v[1],
                dash(v[2]), dash(v[3]), dash(v[5]), dash(v[6]), v[4], ot, dash(v[15]), dash(v[17]),
                pr);
      }
    }
  } else if (emps) {
    char c[8][128];
    const char *v[8];
    if (csv) {
      for (int i = 0; i < 8; i++)
        csv_cell(out, k_emp_cols[i], i == 7);
      cJSON_ArrayForEach(x, emps) {
        emp_cells(x, c, v);
        for (int i = 0; i < 8; i++)
          csv_cell(out, v[i], i == 7);
      }
    } else {
      fprintf(out, "Employees of %s, period %s\n\n", cell(get(doc, "office"), 0, c[0], 128),
              cell(get(doc, "period"), 0, c[1], 128));
      fprintf(out, "%-18s  %-24s %8s %-8s %8s %-8s %-16s\n", "nip", "name", "capaian", "hasil",
              "perilaku", "rating", "predikat");
      cJSON_ArrayForEach(x, emps) {
        emp_cells(x, c, v);
        fprintf(out, "%-18s  %-24.24s %8s %-8s %8s %-8s %-16s\n", v[0], dash(v[1]), dash(v[2]),
                dash(v[3]), dash(v[4]), dash(v[5]), dash(v[6]));
      }
    }
  } else {
    cJSON_Delete(doc);
    return kj_fail(err, KJ_EINVAL, "not a report document");
  }
  cJSON_Delete(doc);
  return 0;
}
