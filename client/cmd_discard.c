/* cmd_discard.c - `kinerja discard ID...`: drop the local changes of
 * records (rejected by the server or waiting in the outbox) and put back
 * the server's version (kjc_store_discard; docs/protocol.md "Discarding
 * local changes").  Asks nothing: a record without local changes is left
 * alone and said so, an unknown id is an error; the other ids go on. */
#include <string.h>

#include "cli.h"
#include "i18n.h"
#include "text.h"

static const char discard_help[] =
    N_("usage: kinerja discard ID...\n"
       "\n"
       "Drop the local changes of each record ID that the server rejected or that\n"
       "wait in the outbox, and go back to the server's version of the record: as\n"
       "this PC last pulled it or had it acknowledged.  A record the server never\n"
       "had is removed from this PC.  A record without local changes is left as\n"
       "it is.  Each ID is done in its own transaction, and one line says what\n"
       "happened to it.  Exit 0, or 1 when an ID is unknown (the others are done).\n"
       "\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "To see what the server rejected and why: kinerja list --rejected\n"
       "\n"
       "example: kinerja discard 0190c2a4-7d1e-7b3a-9c41-2f0e5d6a7b8c\n");

static void say_changes(const kjc_discard *d) {
  if (d->rejected && d->pending)
    printf(_("%d rejected and %d waiting change%s dropped"), d->rejected, d->pending,
           d->pending == 1 ? "" : "s");
  else if (d->rejected)
    printf(_("%d rejected change%s dropped"), d->rejected, d->rejected == 1 ? "" : "s");
  else
    printf(_("%d waiting change%s dropped"), d->pending, d->pending == 1 ? "" : "s");
}

int kjc_cmd_discard(int argc, char **argv) {
  char *pos[256];
  int npos, r = kjc_parse(argc, argv, NULL, pos, 256, &npos, discard_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos < 1) {
    kjc_error(_("discard: which record? (usage: kinerja discard ID...)"));
    return KJC_EXIT_USAGE;
  }
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_WRITE)))
    return r;
  int rc = KJC_EXIT_OK;
  for (int i = 0; i < npos; i++) {
    kjc_discard d;
    kj_err err;
    kj_err_clear(&err);
    kj_code c = kjc_store_discard(s, pos[i], &d, &err);
    if (c) {
      kjc_error(_("discard: %s"), err.msg);
      rc = KJC_EXIT_FAIL;
      if (c != KJ_ENOENT && c != KJ_EINVAL)
        break; /* the database failed: stop */
      continue;
    }
    kj_term_fputs(pos[i], stdout);
    const char *type = d.type != KJ_T_NONE ? kj_type(d.type)->name : "record";
    printf(" (%s): ", type);
    switch (d.what) {
    case KJC_DISCARD_NOTHING:
      fputs(_("no local changes, nothing discarded"), stdout);
      break;
    case KJC_DISCARD_RESTORED:
      say_changes(&d);
      fputs(d.deleted ? ", back to the server's version (deleted there)"
                      : ", back to the server's version",
            stdout);
      break;
    case KJC_DISCARD_REMOVED:
      say_changes(&d);
      fputs(_(", removed: the server never had it"), stdout);
      break;
    case KJC_DISCARD_REFETCH:
      say_changes(&d);
      fputs(_(", removed here: the next 'kinerja sync' reads the server's version again "
              "(this database kept none)"),
            stdout);
      break;
    case KJC_DISCARD_ORPHAN:
      say_changes(&d);
      fputs(_(" (the record is no longer at this office)"), stdout);
      break;
    }
    putchar('\n');
  }
  kjc_store_close(s);
  return rc;
}
