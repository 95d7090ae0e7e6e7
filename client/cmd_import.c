/* cmd_import.c - `kinerja import TYPE FILE.csv [--strict] [--again]`.
 *
 * Streams the file through kj_csv_read (libcsv): one row in memory at a
 * time, every row a kjc_store_write in ONE transaction, so 100,000 rows
 * commit once (fast) and a killed import leaves all of it or nothing.
 *
 * Before that, a scan of the file (kj_csv_read_info without callback)
 * gives its spreadsheet variants ("read as ';'-separated, ...") and the
 * digest of its rows.  A file whose rows were imported before is not
 * imported again (domain.md "CSV files") unless --again: each import is
 * kept in meta as IMPORT_META_PREFIX + digest -> "MS FILE" (ms since the
 * epoch, the file name as given), written in the import's transaction.
 * Rows of another office are refused line by line and never stored
 * (domain.md "Who may write what": an office device writes its own
 * office's records).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cli.h"
#include "csvio.h"
#include "i18n.h"
#include "text.h"
#include "uuid.h"

#define IMPORT_META_PREFIX "import:"

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
  fprintf(stderr, _("%s:%ld: warning: %s\n"), x->fname, x->line, msg);
}

/* 1 after printing the refusal when rec belongs to another office than
 * this PC's (its office is a valid code, or the row's problems say why not). */
static int other_office(import_ctx *x, long line, const kj_record *rec) {
  const char *office = kj_record_office(rec), *mine = kjc_store_office(x->s);
  if (!office || !strcmp(office, mine) || !kj_code_valid(office))
    return 0;
  fprintf(stderr, _("%s:%ld: field 'office': '%s' is another office; this PC is office '%s'\n"),
          x->fname, line, office, mine);
  return 1;
}

static int import_row(void *ud, long line, kj_record *rec, const char *const *problems,
                      int nproblems) {
  import_ctx *x = ud;
  x->line = line;
  int refused = other_office(x, line, rec);
  if (nproblems > 0 || refused) {
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
    kj_fail(&x->fatal, KJ_EIO, _("cannot make an id: no randomness"));
    return 1;
  }
  if (kjc_refs_service(&x->refs, &x->c.rec, row_warn, x, &x->fatal))
    return 1;
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

static int64_t now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* When the rows of digest were imported before: 1 with *ms and the file
 * name then (*file freed by the caller), 0 when never, <0 on a database
 * error (message in err). */
static int imported_before(kjc_store *s, const char *digest, int64_t *ms, char **file,
                           kj_err *err) {
  char key[sizeof IMPORT_META_PREFIX + 64];
  char *v = NULL;
  snprintf(key, sizeof key, IMPORT_META_PREFIX "%s", digest);
  *file = NULL;
  if (kjc_meta_get(s, key, &v, err))
    return -1;
  if (!v)
    return 0;
  char *end;
  *ms = strtoll(v, &end, 10);
  if (*end == ' ')
    *file = strdup(end + 1);
  free(v);
  return 1;
}

static kj_code note_import(kjc_store *s, const char *digest, const char *fname, kj_err *err) {
  char key[sizeof IMPORT_META_PREFIX + 64];
  snprintf(key, sizeof key, IMPORT_META_PREFIX "%s", digest);
  size_t n = strlen(fname) + 32;
  char *v = malloc(n);
  if (!v)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  snprintf(v, n, "%" PRId64 " %s", now_ms(), fname);
  kj_code c = kjc_meta_set(s, key, v, err);
  free(v);
  return c;
}

static const char import_help[] =
    N_("usage: kinerja import TYPE FILE.csv [--strict] [--again] [--as NIP]\n"
       "\n"
       "Import a CSV file of TYPE (survey, activity, complaint, rating, target;\n"
       "plural accepted) in the format of docs/protocol.md \"Records\": a header row naming the\n"
       "columns (any order, any letter case), RFC 4180 quoting, UTF-8 (a BOM is\n"
       "fine), LF or CRLF.  A file saved by a spreadsheet set to Indonesian is read\n"
       "too: a ';' separator, dates DD/MM/YYYY (day first) and decimal commas (0,5);\n"
       "the import says which it saw (\"read as ';'-separated, dates DD/MM/YYYY\").\n"
       "An empty id makes a new record; an existing id updates that record; an\n"
       "empty office is this database's office, and a row of another office is\n"
       "refused.  Valid rows are stored in one transaction; each problem of a bad\n"
       "row is printed as FILE:LINE: ... and the exit code is then 1.  A file\n"
       "whose rows were imported before (in any of these forms) adds nothing: it\n"
       "says when that was, and exits 0.\n"
       "\n"
       "  --strict    store nothing when any row is bad\n"
       "  --again     import a file again although its rows were imported before\n"
       "  --as NIP    the rows are that person's changes (signs in with the PIN:\n"
       "              asked, or --pin-file FILE, or $KINERJA_PIN); required for ratings\n"
       "              (the rater); without it the author is 'operator'\n"
       "  --pin-file FILE  the PIN of --as is the first line of FILE\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja import survey surveys.csv --strict\n");

int kjc_cmd_import(int argc, char **argv) {
  int strict = 0, again = 0;
  const char *as = NULL, *pin_file = NULL;
  kjc_opt opts[] = {{"--strict", 0, NULL, &strict},
                    {"--again", 0, NULL, &again},
                    {"--as", 1, &as, NULL},
                    {"--pin-file", 1, &pin_file, NULL},
                    {NULL, 0, NULL, NULL}};
  char *pos[2];
  int npos, r = kjc_parse(argc, argv, opts, pos, 2, &npos, import_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos != 2) {
    kjc_error(_("import: expected TYPE FILE.csv (see 'kinerja import --help')"));
    return KJC_EXIT_USAGE;
  }
  const kj_type_def *t = kjc_type_arg(pos[0], 1);
  if (!t)
    return KJC_EXIT_USAGE;
  if ((r = kjc_need_as(t, as, "import")))
    return r;
  const char *fname = pos[1];
  FILE *f = fopen(fname, "rb");
  if (!f) {
    kjc_error(_("cannot open '%s': %s"), fname, strerror(errno));
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
  if (as && (r = kjc_sign_in(s, as, pin_file, x.c.author))) {
    fclose(f);
    kj_change_release(&x.c);
    kjc_store_close(s);
    return r;
  }
  kj_err err;
  kj_err_clear(&err);
  kj_csv_info info;
  /* First look: the variants, the header, and whether these rows came before. */
  kj_code c = kj_csv_read_info(f, fname, t, kjc_store_office(s), NULL, NULL, &info, &err);
  if (!c) {
    char words[160];
    if (*kj_csv_info_describe(&info, words, sizeof words)) {
      kj_term_fputs(fname, stdout);
      printf(_(": read as %s\n"), words);
      fflush(stdout);
    }
    int64_t ms = 0;
    char *before = NULL;
    int seen = again ? 0 : imported_before(s, info.digest, &ms, &before, &err);
    if (seen < 0) {
      c = err.code ? err.code : KJ_EDB;
    } else if (seen) {
      char when[64];
      kjc_time_text(s, ms, when); /* the office's zone, WIB/WITA/WIT */
      kjc_warn(_("the rows of '%s' were imported before, on %s%s%s%s: nothing added "
                 "(--again imports them again)"),
               fname, when, before ? " from '" : "", before ? before : "", before ? "'" : "");
      free(before);
      fclose(f);
      kj_change_release(&x.c);
      kjc_store_close(s);
      return 0;
    }
    if (!c && fseek(f, 0, SEEK_SET) != 0)
      c = kj_fail(&err, KJ_EIO, _("cannot read '%s' again: %s"), fname, strerror(errno));
  }
  if (!c)
    c = kjc_store_begin(s, &err);
  if (!c) {
    c = kj_csv_read_info(f, fname, t, kjc_store_office(s), import_row, &x, &info, &err);
    if (x.fatal.code) {
      err = x.fatal;
      c = x.fatal.code;
    }
    if (!c && !(strict && x.bad) && x.created + x.updated + x.unchanged > 0)
      c = note_import(s, info.digest, fname, &err);
    if (c || (strict && x.bad)) {
      kjc_store_rollback(s);
    } else {
      c = kjc_store_commit(s, &err);
    }
  }
  fclose(f);
  kj_change_release(&x.c);
  kjc_refs_release(&x.refs);
  kjc_store_close(s);
  if (c) {
    kjc_error("%s", err.msg);
    kjc_error(_("nothing was imported from '%s'"), fname);
    return KJC_EXIT_FAIL;
  }
  if (strict && x.bad) {
    kjc_error(_("nothing imported from '%s': %ld bad row%s (--strict)"), fname, x.bad,
              x.bad == 1 ? "" : "s");
    return KJC_EXIT_FAIL;
  }
  printf(_("imported %ld row%s from '"), x.created + x.updated + x.unchanged,
         x.created + x.updated + x.unchanged == 1 ? "" : "s");
  kj_term_fputs(fname, stdout);
  printf(_("': %ld new, %ld updated, %ld unchanged"), x.created, x.updated, x.unchanged);
  if (x.bad)
    printf(_(", %ld bad (not imported)"), x.bad);
  putchar('\n');
  return x.bad ? KJC_EXIT_FAIL : 0;
}
