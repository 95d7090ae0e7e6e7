/* csvio.h - the CSV files of domain.md, read and written with libcsv.
 *
 * Reading streams: one row at a time, memory bounded by the longest row.
 * A UTF-8 BOM, CRLF line ends and quoted fields with commas, quotes and
 * newlines all work.  The header names the columns (any order, any letter
 * case); an unknown or repeated column fails the whole file.
 *
 * The spreadsheet variants of domain.md "CSV files" (a spreadsheet set to
 * Indonesian) are read too, each only where its field type allows it, by
 * the field table of proto/record.c:
 *   - a ';' separator, when the header line holds more ';' than ',';
 *   - column names in any letter case ("NIP", "Tanggal" -> "nip");
 *   - DATE cells written D/M/YYYY or DD/MM/YYYY (day first) -> YYYY-MM-DD;
 *   - NUM cells with a decimal comma ("0,5") -> "0.5".
 * A NIP, INT or NUM cell in scientific notation ("1.98E+17", the digits a
 * spreadsheet lost) is a problem of its row that says so.  What was seen
 * comes back in a kj_csv_info for the caller to print.  Writing is always
 * the canonical form (',', ISO dates, decimal point).
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
 * Row-level problems use the same list: "row has 19 cells, the header 18"
 * (extra non-empty cells), "row is longer than 4194304 bytes", "field 'x':
 * must not contain a NUL byte".  A row whose cells are all empty is skipped.
 * `rec` belongs to the reader: copy (kj_record_copy) or move its values out
 * (set rec->v[i] to NULL after taking it) before returning.
 * Return 0 to go on, non-zero to stop reading (returned by kj_csv_read). */
typedef int (*kj_csv_row_fn)(void *ud, long line, kj_record *rec, const char *const *problems,
                             int nproblems);

/* Read a CSV file of type t.  Empty id: the row is validated as if it had
 * a valid id (office records; a master row without its key gets "field
 * 'nip': is required").  Unquoted cells are trimmed of spaces and tabs
 * (libcsv).  Returns KJ_OK, or an error in err (a bad header: "FILE:1:
 * unknown column 'x'", "FILE:1: duplicate column 'x'", "FILE:1: column 3 has
 * no name", "FILE:1: no header row"; a broken quote: "FILE:LINE: bad
 * quoting: ..."; a cell over 1 MiB: KJ_ETOOBIG), or KJ_EINTR when the
 * callback returned non-zero. */
kj_code kj_csv_read(FILE *f, const char *fname, const kj_type_def *t, const char *default_office,
                    kj_csv_row_fn fn, void *ud, kj_err *err);

/* What a file looked like and what it held, filled by kj_csv_read_info. */
typedef struct kj_csv_info {
  char sep;           /* ',' or ';' */
  int header_case;    /* a column name was not in lower case */
  long dates_dmy;     /* DATE cells read as DD/MM/YYYY */
  long decimal_comma; /* NUM cells read with a decimal comma */
  long rows;          /* data rows read (all-empty rows not counted) */
  /* SHA-256 (64 hex digits) of the type and of every row as read (after
   * the conversions above and the default office, before any check): the
   * same rows give the same digest whatever the separator, date and
   * decimal form, column order, header case, BOM or line ends.  Importers
   * keep it to notice a file imported before (domain.md "CSV files"). */
  char digest[65];
} kj_csv_info;

/* kj_csv_read, also filling *info (may be NULL) when the read ends, with
 * or without an error (the digest is that of the rows read).  fn may be
 * NULL: a scan that reads every row for info only, without checking the
 * rows or calling back (cheap: an importer's first look at a file). */
kj_code kj_csv_read_info(FILE *f, const char *fname, const kj_type_def *t,
                         const char *default_office, kj_csv_row_fn fn, void *ud, kj_csv_info *info,
                         kj_err *err);

/* The variants of info as words for "read as ...": "';'-separated, dates
 * DD/MM/YYYY, decimal commas, column names in any letter case" (those
 * seen, in this order); "" for a file in the canonical form.  Writes at
 * most n bytes into out (truncated at a whole word) and returns out. */
const char *kj_csv_info_describe(const kj_csv_info *info, char *out, size_t n);

/* Write the header row of t, then records, LF line ends.  A cell is quoted
 * (csv_fwrite) only when it needs it: a comma, quote, CR, LF, or a space or
 * tab at either end; an absent value is an empty cell.  A value that a
 * spreadsheet would run as a formula is written with a leading "'" (see
 * kj_csv_guard_needed).  KJ_EIO on a write error, KJ_ENOMEM when the
 * guarded copy of a cell cannot be made.  kj_csv_read gives back exactly
 * what was written. */
kj_code kj_csv_write_header(FILE *f, const kj_type_def *t);
kj_code kj_csv_write_record(FILE *f, const kj_record *r);

/* The formula guard of every CSV cell (OWASP "CSV Injection", built on
 * common/text.h kj_csv_formula_trigger), made exactly reversible:
 *
 *   writer: a value that is zero or more "'" followed by a formula trigger
 *           ('=', '+', '-', '@', tab, CR) is written with one more "'" in
 *           front: "=1+1" -> "'=1+1", "'=x" -> "''=x".
 *   reader: a cell that is one or more "'" followed by a trigger loses its
 *           first "'": "'=1+1" -> "=1+1", "''=x" -> "'=x".
 *
 * Every guarded cell matches the reader's pattern and no unguarded value
 * does, so read(write(v)) == v for every v; a value like "'abc" (an
 * apostrophe not before a trigger) is written and read as is.  The one
 * cost: a hand-made file whose cell really is "'-5" imports as "-5". */
/* 1 when the writer puts a "'" before value v (NULL: 0). */
int kj_csv_guard_needed(const char *v);
/* The reader's side: the value of cell text s (s + 1 or s itself). */
const char *kj_csv_unguard(const char *s);

#endif
