/* report.h - report documents as text tables and CSV (see report.c). */
#ifndef KJ_REPORT_H
#define KJ_REPORT_H

#include <stdio.h>

#include "err.h"

/* The five predikat of domain.md, best first (the table's SB/B/BP/K/SK). */
#define KJ_PREDIKAT_COUNT 5

/* Print an offices document ({"offices": [...]}) or an employees document
 * ({"employees": [...]}) as "json" (verbatim), "csv" (one row per office or
 * employee, libcsv quoting) or "table" (aligned columns for a terminal).
 * KJ_EINVAL when json is not such a document or format is unknown. */
int kj_report_format(const char *json, const char *format, FILE *out, kj_err *err);

#endif
