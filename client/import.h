/* import.h - a CSV file of office records into the store: the one import
 * of `kinerja import` (client/cmd_import.c) and of the office app's Impor
 * & Ekspor page (client/ui_api_data.c).
 *
 * Streams the file through kj_csv_read (libcsv): one row in memory at a
 * time, every row a kjc_store_write in ONE transaction, so 100,000 rows
 * commit once (fast) and a stopped import leaves all of it or nothing.
 * Before that, a scan of the file (kj_csv_read_info without callback)
 * gives its spreadsheet variants ("';'-separated, dates DD/MM/YYYY") and
 * the digest of its rows.  A file whose rows were imported before is not
 * imported again (domain.md "CSV files") unless `again`: each import is
 * kept in meta as "import:" + digest -> "MS FILE" (ms since the epoch, the
 * file name as given), written in the import's transaction.  Rows of
 * another office are refused line by line and never stored (domain.md
 * "Who may write what": an office device writes its own office's
 * records); a bad row never blocks the good ones around it.
 */
#ifndef KJC_IMPORT_H
#define KJC_IMPORT_H

#include <stdio.h>

#include "err.h"
#include "record.h"
#include "store.h"

/* One problem of one row: line is the physical line the row starts on
 * (the header is line 1); msg the rule's message ("field 'u3': must be an
 * integer from 1 to 4"); warning 1 for a note on a row that is stored
 * anyway ("field 'nip': unknown employee ..."), 0 for a reason the row
 * is not stored. */
typedef void (*kjc_import_line_fn)(void *ud, long line, const char *msg, int warning);

typedef struct kjc_import_opts {
  int strict;              /* store nothing when any row is bad */
  int again;               /* import rows that were imported before */
  const char *author;      /* the rows' author: a signed-in NIP; NULL or "" = operator */
  kjc_import_line_fn line; /* each problem of a row (may be NULL) */
  void *ud;
} kjc_import_opts;

typedef struct kjc_import_result {
  long created, updated, unchanged; /* rows stored, by what they did */
  long bad;                         /* rows refused (each reported to line) */
  char read_as[160];                /* kj_csv_info_describe: "" for canonical CSV */
  int seen_before;                  /* 1: the rows were imported before; nothing added */
  int64_t before_ms;                /* ... at that time (ms since the epoch) */
  char before_file[256];            /* ... from that file name ("" unknown) */
  int stored;                       /* 1 when the transaction was committed */
} kjc_import_result;

/* Import the CSV file f (named fname in messages and in the import's note)
 * of office type t into store s (opened for writing; not in a
 * transaction).  f must be seekable (it is read twice).  *res is filled
 * (zeroed first).  Returns KJ_OK when the file was read: bad rows are
 * counted in res->bad, not an error; with opts->strict and a bad row
 * nothing is stored (res->stored = 0).  A file that cannot be read as CSV
 * of t (a bad header "FILE:1: unknown column 'x'", bad quoting) or a store
 * failure returns its code with err filled, and nothing is stored. */
kj_code kjc_import(kjc_store *s, const kj_type_def *t, FILE *f, const char *fname,
                   const kjc_import_opts *opts, kjc_import_result *res, kj_err *err);

#endif
