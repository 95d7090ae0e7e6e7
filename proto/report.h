/* report.h - report documents as text tables and CSV (see report.c); the
 * documents themselves are reportdoc.h's. */
#ifndef KJ_REPORT_H
#define KJ_REPORT_H

#include <stdio.h>

#include "err.h"
#include "reportdoc.h"

/* Print a decoded document as "json" (its encoding, reportdoc.h), "csv"
 * (a header row, then one row per office or employee; libcsv quoting; a
 * cell that a spreadsheet would run as a formula gets a leading "'", as
 * kj_csv_formula_trigger says) or "table" (aligned columns for a terminal,
 * every cell escaped with kj_term_escape and the widths measured on the
 * escaped text; null shows as "-").  KJ_EINVAL for an unknown format,
 * KJ_EIO on a write error. */
kj_code kj_report_print_offices(const kj_report_offices *d, const char *format, FILE *out,
                                kj_err *err);
kj_code kj_report_print_employees(const kj_report_employees *d, const char *format, FILE *out,
                                  kj_err *err);
/* One entry of a pull's scores (the office client's `kinerja report`) as
 * the two tables `kinerjad report offices` and `report employees` print:
 * the office's scorecard row, a blank line, its employees.  office names
 * the employees table (the client's office code). */
kj_code kj_report_print_scores(const kj_report_scores *s, const char *office, FILE *out,
                               kj_err *err);

/* Print an offices or an employees document given as JSON text: "json"
 * prints the text as it is, "csv"/"table" decode it (kj_report_*_decode)
 * and print as above.  KJ_EINVAL when format is unknown, the decoder's
 * error (naming the key) when json is not such a document; KJ_EIO when out
 * cannot be written. */
kj_code kj_report_format(const char *json, const char *format, FILE *out, kj_err *err);

#endif
