/* admin_export.c - `kinerjad export TYPE`: the records of a type as the
 * CSV files of domain.md "CSV files" or one XLSX sheet with dates and numbers
 * as values, both written by proto/table.c (the office app's export uses
 * the same writer). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "admin_bkd.h"
#include "csvio.h"
#include "date.h"
#include "record.h"
#include "table.h"
#include "wire.h"

static const char export_help[] =
    "usage: kinerjad export TYPE [--office CODE] [--period P] [--format csv|xlsx]\n"
    "                            [--output FILE]\n\n"
    "The live records of TYPE (office, employee, indicator, service, survey,\n"
    "activity, complaint, rating, target), oldest first, with the columns of\n"
    "their CSV file (the same file 'kinerjad import' reads).  csv: cells a\n"
    "spreadsheet would run as a formula start with '.  xlsx: one sheet named\n"
    "after the type, a bold header row, dates as dates and numbers as numbers\n"
    "(NIPs and codes stay text).\n\n"
    "  --office CODE   only records of that office (types with an office)\n"
    "  --period P      only records of P (2026, 2026-Q3, 2026-09): surveys and\n"
    "                  activities by date, complaints by their received date,\n"
    "                  ratings and targets whose period overlaps P\n"
    "  --format F      csv (default) or xlsx\n"
    "  --output FILE   write FILE (made whole, then renamed into place);\n"
    "                  default standard output (xlsx: not a terminal)\n"
    "  --data DIR   data directory (default $KINERJAD_DATA, else ./kinerjad-data)\n"
    "\nexample: kinerjad export survey --office 36.73.01 --period 2026-Q3 --format xlsx "
    "--output ikm.xlsx\n";

typedef struct export_ctx {
  const kj_type_def *td;
  int use_period;
  kj_period period;
  const char *office;
  kj_table *tb; /* proto/table.c: the CSV or XLSX writer */
  kj_code fail;
  kj_err err;
} export_ctx;

static int export_state(void *ud, const char *state) {
  export_ctx *x = ud;
  cJSON *o = cJSON_Parse(state);
  int parsed = o != NULL;
  kj_rstate rs;
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = o ? kj_rstate_from_json(o, &rs, &e) : KJ_ENOMEM;
  cJSON_Delete(o);
  if (rc == KJ_EVERSION)
    return 0; /* a field or value of a newer kinerjad: nothing to show here */
  if (rc) {
    x->fail = kj_fail(&x->err, KJ_EDB, "a stored record cannot be read: %s",
                      parsed ? e.msg : "bad JSON or out of memory");
    return 1;
  }
  const kj_record *r = &rs.rec;
  if ((!x->use_period || kj_table_in_period(x->td, r, &x->period)) &&
      (!x->office || (kj_record_office(r) && !strcmp(kj_record_office(r), x->office))))
    x->fail = kj_table_add(x->tb, r, &x->err);
  kj_rstate_release(&rs);
  return x->fail ? 1 : 0;
}

/* Copy file to stdout: 0 or 1 after a message. */
static int copy_out(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    kjs_adm_error("export: cannot read '%s': %s", path, strerror(errno));
    return 1;
  }
  char buf[65536];
  size_t n;
  int rc = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    if (fwrite(buf, 1, n, stdout) != n) {
      kjs_adm_error("export: cannot write standard output: %s", strerror(errno));
      rc = 1;
      break;
    }
  fclose(f);
  if (!rc && fflush(stdout) != 0) {
    kjs_adm_error("export: cannot write standard output: %s", strerror(errno));
    rc = 1;
  }
  return rc;
}

int kjs_admin_export(kjs_config *cfg, int argc, char **argv) {
  if (argc == 0 || kjs_adm_want_help(argc, argv)) {
    fputs(export_help, argc ? stdout : stderr);
    return argc ? 0 : 1;
  }
  const char *type = NULL, *office = NULL, *period = NULL, *format = "csv", *output = NULL;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--office") && i + 1 < argc)
      office = argv[++i];
    else if (!strcmp(a, "--period") && i + 1 < argc)
      period = argv[++i];
    else if (!strcmp(a, "--format") && i + 1 < argc)
      format = argv[++i];
    else if (!strcmp(a, "--output") && i + 1 < argc)
      output = argv[++i];
    else if (a[0] != '-' && !type)
      type = a;
    else {
      static const char *const known[] = {"--office", "--period", "--format", "--output", NULL};
      kjs_adm_bad_arg("export", a, known);
      return 1;
    }
  }
  export_ctx x;
  memset(&x, 0, sizeof x);
  x.td = type ? kj_type_by_name(type) : NULL;
  if (!x.td) {
    const char *names[KJ_T__COUNT];
    size_t n = 0;
    for (int t = 0; t < KJ_T__COUNT; t++)
      if (kj_type((kj_rtype)t))
        names[n++] = kj_type((kj_rtype)t)->name;
    if (!type)
      kjs_adm_error("export: which type? (kinerjad export TYPE, see 'kinerjad export --help')");
    else
      kjs_adm_bad_word("record type", type, names, n);
    return 1;
  }
  kj_table_format fmt;
  if (kj_table_format_parse(format, &fmt)) {
    kjs_adm_error("export: unknown format '%s' (csv or xlsx)", format);
    return 1;
  }
  int xlsx = fmt == KJ_TABLE_XLSX;
  kj_err e;
  kj_err_clear(&e);
  if (office) {
    if (x.td->type != KJ_T_OFFICE && x.td->office_field < 0) {
      kjs_adm_error("export: %s records have no office: --office does not apply", x.td->name);
      return 1;
    }
    if (kj_record_validate_id(KJ_T_OFFICE, office, &e)) {
      kjs_adm_error("export: bad office code '%s': %s", office, e.msg);
      return 1;
    }
    x.office = office;
  }
  int date_field, period_field;
  int has_period = kj_table_period_field(x.td, &date_field, &period_field);
  if (period) {
    if (!has_period) {
      kjs_adm_error("export: %s records have no date or period: --period does not apply",
                    x.td->name);
      return 1;
    }
    if (kj_period_parse(period, &x.period)) {
      kjs_adm_error("export: bad period '%s': expected a year (2026), a quarter (2026-Q3) or a "
                    "month (2026-09)",
                    period);
      return 1;
    }
    x.use_period = 1;
  }
  if (xlsx && !output && isatty(1)) {
    kjs_adm_error("export: an xlsx file is binary: give --output FILE or redirect the output");
    return 1;
  }
  kjs_store *st;
  if (kjs_adm_open(cfg, &st))
    return 1;
  /* where the file is made: FILE.tmp renamed to FILE, or (xlsx to standard
   * output) a temporary file copied out */
  char tmp[4200] = "";
  int rc = 0;
  if (output) {
    snprintf(tmp, sizeof tmp, "%s.tmp", output);
  } else if (xlsx) {
    const char *td = getenv("TMPDIR");
    snprintf(tmp, sizeof tmp, "%s/kinerjad-export-XXXXXX", td && *td ? td : "/tmp");
    int fd = mkstemp(tmp);
    if (fd < 0) {
      kjs_adm_error("export: cannot make a temporary file '%s': %s", tmp, strerror(errno));
      kjs_store_close(st);
      return 1;
    }
    close(fd);
  }
  FILE *csv = NULL;
  if (!xlsx) {
    csv = tmp[0] ? fopen(tmp, "w") : stdout;
    if (!csv) {
      kjs_adm_error("export: cannot write '%s': %s", tmp, strerror(errno));
      kjs_store_close(st);
      return 1;
    }
    x.fail = kj_table_open_csv(&x.tb, csv, x.td, &x.err);
  } else {
    x.fail = kj_table_open_xlsx(&x.tb, tmp, x.td, &x.err);
  }
  if (!x.fail) {
    kj_code r = kjs_store_each_state(st, x.td->type, x.td->type == KJ_T_OFFICE ? NULL : office,
                                     export_state, &x, &e);
    if (r && !x.fail)
      x.fail = kj_fail(&x.err, r, "%s", e.msg);
  }
  kjs_store_close(st);
  long rows = kj_table_rows(x.tb);
  kj_err ce;
  kj_err_clear(&ce);
  if (kj_table_close(x.tb, &ce) && !x.fail)
    x.fail = kj_fail(&x.err, ce.code, "%s", ce.msg);
  if (csv && csv != stdout) {
    if (fsync(fileno(csv)) != 0 && !x.fail)
      x.fail = kj_fail(&x.err, KJ_EIO, "cannot write '%s': %s", tmp, strerror(errno));
    fclose(csv);
  }
  if (x.fail) {
    kjs_adm_error("export: %s", x.err.msg);
    rc = 1;
  } else if (output && rename(tmp, output) != 0) {
    kjs_adm_error("export: cannot rename '%s' to '%s': %s", tmp, output, strerror(errno));
    rc = 1;
  } else if (!output && xlsx) {
    rc = copy_out(tmp);
  }
  if (rc || (!output && xlsx))
    unlink(tmp);
  if (!rc && output)
    fprintf(stderr, "exported %ld %s to %s\n", rows, x.td->plural, output);
  return rc;
}
