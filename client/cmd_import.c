/* cmd_import.c - `kinerja import TYPE FILE.csv [--strict] [--again]`: the
 * file through kjc_import (import.h, the import the office app's Impor &
 * Ekspor page uses too); each problem of a row printed as FILE:LINE: ...
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "i18n.h"
#include "import.h"
#include "text.h"

/* Print a row's problem as FILE:LINE: [warning: ]MESSAGE. */
static void print_line(void *ud, long line, const char *msg, int warning) {
  if (warning)
    fprintf(stderr, _("%s:%ld: warning: %s\n"), (const char *)ud, line, msg);
  else
    fprintf(stderr, "%s:%ld: %s\n", (const char *)ud, line, msg);
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
  char author[KJ_AUTHOR_MAX + 1] = "";
  if (as && (r = kjc_sign_in(s, as, pin_file, author))) {
    fclose(f);
    kjc_store_close(s);
    return r;
  }
  kjc_import_opts o = {
      .strict = strict, .again = again, .author = author, .line = print_line, .ud = (void *)fname};
  kjc_import_result x;
  kj_err err;
  kj_err_clear(&err);
  kj_code c = kjc_import(s, t, f, fname, &o, &x, &err);
  if (x.read_as[0]) {
    kj_term_fputs(fname, stdout);
    printf(_(": read as %s\n"), x.read_as);
    fflush(stdout);
  }
  if (!c && x.seen_before) {
    char when[64];
    kjc_time_text(s, x.before_ms, when); /* the office's zone, WIB/WITA/WIT */
    if (x.before_file[0])
      kjc_warn(_("the rows of '%s' were imported before, on %s from '%s': nothing added "
                 "(--again imports them again)"),
               fname, when, x.before_file);
    else
      kjc_warn(_("the rows of '%s' were imported before, on %s: nothing added "
                 "(--again imports them again)"),
               fname, when);
    fclose(f);
    kjc_store_close(s);
    return 0;
  }
  fclose(f);
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
  /* the usual next step, the corrected file imported whole, would store
   * its new rows (those without an id get one now) a second time: its
   * digest differs, so it is not "imported before" */
  if (x.bad && x.created)
    kjc_warn(_("fix the %ld bad row%s and import only them, in a file of their own: importing "
               "all of '%s' again would store its %ld new row%s a second time"),
             x.bad, x.bad == 1 ? "" : "s", fname, x.created, x.created == 1 ? "" : "s");
  return x.bad ? KJC_EXIT_FAIL : 0;
}
