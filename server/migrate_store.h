/* migrate_store.h - `kinerjad migrate-store --to postgresql://...` (issue 19):
 * an SQLite server's store copied into PostgreSQL, checked, and the data
 * directory switched to it (docs/operations.md "National scale:
 * PostgreSQL", "Moving an SQLite server to PostgreSQL").
 */
#ifndef KJS_MIGRATE_STORE_H
#define KJS_MIGRATE_STORE_H

#include <stdio.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "err.h"

#define KJS_MIGRATE_TABLES_MAX 32

/* What a migration found: per table of kjs_db_tables (same index) the
 * rows in the SQLite store, the rows read and written, the rows the target
 * then holds; the schema versions; the position and epoch carried over;
 * the check's verdict and its differences (one line each, in diffs:
 * "TABLE: N rows in SQLite, M in PostgreSQL" or the recompute's
 * "sc_TABLE: maintained only: (ROW)"). */
typedef struct kjs_migrate_result {
  int ntables;
  long long src[KJS_MIGRATE_TABLES_MAX], copied[KJS_MIGRATE_TABLES_MAX],
      dst[KJS_MIGRATE_TABLES_MAX];
  long long src_version, dst_version;
  int64_t position;
  char epoch[64];
  int ndiff_counts, ndiff_scores;
  int passed;   /* 1: counts equal and recompute --verify clean: committed */
  int switched; /* 1: kinerjad.conf now names the PostgreSQL store */
  kj_buf diffs;
} kjs_migrate_result;

void kjs_migrate_result_init(kjs_migrate_result *r);
void kjs_migrate_result_release(kjs_migrate_result *r);

/* Called after the copy, before the check, on the target's connection
 * inside the copy's transaction (tests break the copy here through ops);
 * a non-zero return fails the migration with err. */
typedef kj_code (*kjs_migrate_hook)(void *ctx, const kjs_db_ops *ops, kjs_dbc *c, kj_err *err);

typedef struct kjs_migrate_opts {
  const char *to;                /* the target: a postgresql:// URL */
  FILE *progress;                /* one line per table copied; NULL: quiet */
  kjs_migrate_hook before_check; /* NULL in kinerjad */
  void *hook_ctx;
} kjs_migrate_opts;

/* Copy cfg's SQLite store (cfg loaded from its kinerjad.conf) into the
 * empty PostgreSQL database o->to in one transaction of the target, check
 * the copy (every table's rows counted on both sides; the scores recomputed
 * from the copied records equal the copied scores) and only then commit it
 * and set `store = URL` in cfg->conf_file (the old line kept as a
 * comment; the SQLite file is left as it was).
 *
 * Returns KJ_OK when the copy was made and checked: r->passed says whether
 * it passed (then committed and switched: r->switched) or not (rolled back,
 * nothing switched, r->diffs says why).  Errors, nothing switched:
 * KJ_EINVAL (the store is PostgreSQL already, a bad URL, no PostgreSQL in
 * this build), KJ_ENOENT (no database file), KJ_EBUSY (a kinerjad process
 * holds the data directory: the shared lock on kinerjad.db.mark that every
 * open store takes), KJ_EEXIST (the target holds kinerjad data: err says
 * how to empty it), KJ_EDB (PostgreSQL unreachable or refusing, with its
 * message), KJ_EIO (the config could not be rewritten after the commit:
 * err says so and what to set by hand). */
kj_code kjs_migrate_store(const kjs_config *cfg, const kjs_migrate_opts *o, kjs_migrate_result *r,
                          kj_err *err);

/* `kinerjad [--data DIR] migrate-store --to URL` (argv as main's): exit
 * 0 done, 1 not done (check failed, refused, unreachable; nothing
 * switched), 2 usage.  Progress and counts on stdout, errors on stderr. */
int kjs_migrate_store_main(int argc, char **argv);

#endif
