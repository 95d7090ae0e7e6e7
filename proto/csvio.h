/* csvio.h - the CSV files of domain.md, read and written with libcsv.
 *
 * Reading streams: one row at a time, memory bounded by the longest row.
 * A UTF-8 BOM, CRLF line ends and quoted fields with commas, quotes and
 * newlines all work.  The header names the columns (any order); an unknown
 * or repeated column fails the whole file.
 */
#ifndef KJ_CSVIO_H
#define KJ_CSVIO_H

#include <stdio.h>

#include "err.h"
#include "record.h"

/* One data row.  `line` is the physical line the row starts on (the header
 * is line 1).  `rec` is built from the row: an empty id is left empty (the
 * caller makes one), an empty office is set to the default office.
 * `nproblems` problems were found by kj_record_check (0 = valid); `problems`
 * holds them, each "field 'u3': must be an integer from 1 to 4".
 * Return 0 to go on, non-zero to stop reading (returned by kj_csv_read). */
typedef int (*kj_csv_row_fn)(void *ud, long line, kj_record *rec, const char *const *problems,
                             int nproblems);

/* Read a CSV file of type t.  Empty id: the row is validated as if it had
 * a valid id.  Returns KJ_OK, or an error in err (a bad header: "FILE:1:
 * unknown column 'x'"; a broken quote: "FILE:LINE: ..."), or the callback's
 * non-zero value as KJ_EINTR. */
kj_code kj_csv_read(FILE *f, const char *fname, const kj_type_def *t, const char *default_office,
                    kj_csv_row_fn fn, void *ud, kj_err *err);

/* Write the header row of t, then records, RFC 4180 quoted, LF line ends. */
kj_code kj_csv_write_header(FILE *f, const kj_type_def *t);
kj_code kj_csv_write_record(FILE *f, const kj_record *r);

#endif
