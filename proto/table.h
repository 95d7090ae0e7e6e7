/* table.h - the records of one type written as a table: the CSV file of
 * domain.md "CSV files" (proto/csvio.c, formula guard and all) or one XLSX
 * sheet (libxlsxwriter, Debian's libxlsxwriter-dev).  The one writer of
 * `kinerjad export` (server/admin_export.c) and of the office app's
 * Impor & Ekspor page (client/ui_api_data.c).
 *
 * Both formats have the columns of the type's CSV file, in its order: the
 * id column (id_name) first, then every field.  XLSX: a sheet named after
 * the type's plural, a bold and frozen header row, DATE fields as dates
 * (yyyy-mm-dd), INT and NUM fields as numbers, every other field (NIPs,
 * codes, periods) as text.  An absent value is an empty cell.
 */
#ifndef KJ_TABLE_H
#define KJ_TABLE_H

#include <stdio.h>

#include <cJSON.h>

#include "buf.h"
#include "date.h"
#include "err.h"
#include "record.h"

typedef enum kj_table_format { KJ_TABLE_CSV, KJ_TABLE_XLSX } kj_table_format;

/* "csv" or "xlsx" into *out: 0, or -1 for another word. */
int kj_table_format_parse(const char *s, kj_table_format *out);

/* 1 when this build writes XLSX (libxlsxwriter was found; a client-only
 * cross build may lack it), else 0. */
int kj_table_has_xlsx(void);

typedef struct kj_table kj_table;

/* A CSV table of type t on f (not closed by the table; flushed by
 * kj_table_close): writes the header row.  KJ_EIO (write error) or
 * KJ_ENOMEM with err filled; *out is then NULL. */
kj_code kj_table_open_csv(kj_table **out, FILE *f, const kj_type_def *t, kj_err *err);

/* An XLSX workbook of type t made at path (libxlsxwriter writes the file
 * when the table is closed; constant memory: rows go to a temporary file
 * under $TMPDIR meanwhile).  KJ_EIO with err filled; KJ_EINVAL when this
 * build has no XLSX writer. */
kj_code kj_table_open_xlsx(kj_table **out, const char *path, const kj_type_def *t, kj_err *err);

/* Append record r (of the table's type) as one row.  KJ_EIO on a write
 * error, KJ_ETOOBIG past the 1,048,575 data rows of one XLSX sheet
 * ("more than ... rows: too many for one sheet"), KJ_ENOMEM. */
kj_code kj_table_add(kj_table *tb, const kj_record *r, kj_err *err);

/* Data rows added so far. */
long kj_table_rows(const kj_table *tb);

/* Finish the file (XLSX: write the workbook; CSV: flush f) and free tb
 * (NULL is fine).  KJ_OK, or KJ_EIO with err filled. */
kj_code kj_table_close(kj_table *tb, kj_err *err);

/* The field of t that a period filters on: *date_field the first DATE
 * field (surveys and activities by date, complaints by received), else
 * *period_field the first PERIOD field (ratings, targets); -1 each when
 * none.  1 when t has either, else 0. */
int kj_table_period_field(const kj_type_def *t, int *date_field, int *period_field);

/* 1 when record r (of type t) belongs to period p: its date field falls
 * in p, or its period overlaps p (kj_table_period_field); 0 otherwise
 * (also when the field is absent or t has neither). */
int kj_table_in_period(const kj_type_def *t, const kj_record *r, const kj_period *p);

/* One table of a report (kinerjad's dashboard exports Ringkasan, Tren
 * and Pegawai through it) as a file, appended to out.  head: a cJSON array of column
 * titles (strings); rows: a cJSON array of rows, each an array of cells:
 * a string, a number or null (an empty cell).  csv (xlsx 0): a header
 * line, then a line per row, quoted only where needed, text a spreadsheet
 * would run as a formula written with a "'" in front (proto/csvio.h; a
 * number never is).  xlsx 1: one sheet named `sheet` (at most 31
 * characters), a bold header row frozen, numbers as numbers, made in a
 * temporary file under $TMPDIR (else /tmp) and removed.  KJ_EIO,
 * KJ_ENOMEM, KJ_ETOOBIG when out's limit is passed; err says which. */
kj_code kj_table_write_report(const char *sheet, const cJSON *head, const cJSON *rows, int xlsx,
                              kj_buf *out, kj_err *err);

#endif
