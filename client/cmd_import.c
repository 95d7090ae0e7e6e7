/* cmd_import.c - `kinerja import TYPE FILE.csv [--strict]`.
 *
 * Streams the file through kj_csv_read (libcsv): one row in memory at a
 * time, every row a kjc_store_write in ONE transaction, so 100,000 rows
 * commit once (fast) and a killed import leaves all of it or nothing.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "csvio.h"
#include "uuid.h"

typedef struct import_ctx {
  kjc_store *s;
  const kj_type_def *t;
  const char *fname;
  long line;
  long created, updated, unchanged, bad;
  kjc_refs refs;
  kj_change c;
  kj_err fatal; /* a store failure that stops the import (disk full ...) */
} import_ctx;

static void row_warn(void *ud, const char *msg) {
  import_ctx *x = ud;
  fprintf(stderr, "%s:%ld: warning: %s\n", x->fname, x->line, msg);
}

static int import_row(void *ud, long line, kj_record *rec, const char *const *problems,
                      int nproblems) {
  import_ctx *x = ud;
  x->line = line;
  if (nproblems > 0) {
    for (int i = 0; i < nproblems; i++)
      fprintf(stderr, "%s:%ld: %s\n", x->fname, line, problems[i]);
    x->bad++;
    return 0;
  }
  /* Move the row's values into the change (no copy). */
  kj_record_release(&x->c.rec);
  x->c.rec = *rec;
  kj_record_init(rec, x->t->type);
  x->c.mask = (x->t->nfields >= 32 ? 0xffffffffu : (1u << x->t->nfields) - 1);
  x->c.seq = 0;
  if (!x->c.rec.id[0] && kj_uuid_v7(x->c.rec.id)) {
    kj_fail(&x->fatal, KJ_EIO, "cannot make an id: no randomness");
    return 1;
  }
  kjc_refs_check(&x->refs, &x->c.rec, row_warn, x);
  kj_err err;
  kj_err_clear(&err);
  int res = 0;
  kj_code c = kjc_store_write(x->s, &x->c, KJC_CHANGE_DIFF, &res, &err);
  if (c == KJ_EINVAL || c == KJ_ENOENT || c == KJ_EEXIST) {
    fprintf(stderr, "%s:%ld: %s\n", x->fname, line, err.msg);
    x->bad++;
    return 0;
  }
  if (c) {
    x->fatal = err;
    return 1;
  }
  if (res == KJC_WRITE_CREATED)
    x->created++;
  else if (res == KJC_WRITE_UPDATED)
    x->updated++;
  else
    x->unchanged++;
  return 0;
}

static const char import_help[] =
    "usage: kinerja import TYPE FILE.csv [--strict]\n"
    "\n"
    "Import a CSV file of TYPE (survey, activity, complaint, rating, target;\n"
    "plural accepted) in the format of docs/protocol.md \"Records\": a header row naming the\n"
    "columns (any order), RFC 4180 quoting, UTF-8 (a BOM is fine), LF or CRLF.\n"
    "An empty id makes a new record; an existing id updates that record; an\n"
    "empty office is this database's office.  Valid rows are stored in one\n"
    "transaction; each problem of a bad row is printed as FILE:LINE: ... and\n"
    "the exit code is then 1.\n"
    "\n"
    "  --strict    store nothing when any row is bad\n"
    "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
    "\n"
    "example: kinerja import survey surveys.csv --strict\n";

int kjc_cmd_import(int argc, char **argv) {
  int strict = 0;
  kjc_opt opts[] = {{"--strict", 0, NULL, &strict}, {NULL, 0, NULL, NULL}};
  char *pos[2];
  int npos, r = kjc_parse(argc, argv, opts, pos, 2, &npos, import_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos != 2) {
    kjc_error("import: expected TYPE FILE.csv (see 'kinerja import --help')");
    return KJC_EXIT_USAGE;
  }
  const kj_type_def *t = kjc_type_arg(pos[0], 1);
  if (!t)
    return KJC_EXIT_USAGE;
  const char *fname = pos[1];
  FILE *f = fopen(fname, "rb");
  if (!f) {
    kjc_error("cannot open '%s': %s", fname, strerror(errno));
    return KJC_EXIT_FAIL;
  }
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_WRITE))) {
    fclose(f);
    return r;
  }
  import_ctx x;
  memset(&x, 0, sizeof x);
  x.s = s;
  x.t = t;
  x.fname = fname;
  kjc_refs_init(&x.refs, s);
  kj_change_init(&x.c, t->type);
  kj_err err;
  kj_err_clear(&err);
  kj_code c = kjc_store_begin(s, &err);
  if (!c) {
    c = kj_csv_read(f, fname, t, kjc_store_office(s), import_row, &x, &err);
    if (x.fatal.code) {
      err = x.fatal;
      c = x.fatal.code;
    }
    if (c || (strict && x.bad)) {
      kjc_store_rollback(s);
    } else {
      c = kjc_store_commit(s, &err);
    }
  }
  fclose(f);
  kj_change_release(&x.c);
  kjc_store_close(s);
  if (c) {
    kjc_error("%s", err.msg);
    kjc_error("nothing was imported from '%s'", fname);
    return KJC_EXIT_FAIL;
  }
  if (strict && x.bad) {
    kjc_error("nothing imported from '%s': %ld bad row%s (--strict)", fname, x.bad,
              x.bad == 1 ? "" : "s");
    return KJC_EXIT_FAIL;
  }
  printf("imported %ld row%s from '%s': %ld new, %ld updated, %ld unchanged",
         x.created + x.updated + x.unchanged, x.created + x.updated + x.unchanged == 1 ? "" : "s",
         fname, x.created, x.updated, x.unchanged);
  if (x.bad)
    printf(", %ld bad (not imported)", x.bad);
  putchar('\n');
  return x.bad ? KJC_EXIT_FAIL : 0;
}
