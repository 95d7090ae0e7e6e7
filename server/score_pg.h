/* score_pg.h - the PostgreSQL implementation of the score store
 * (score_store.h): the twelve sc_* aggregate tables of docs/scoring.md
 * "Aggregates" in the server's PostgreSQL database (issue 19), next to the
 * records of the PostgreSQL store.
 *
 * The connection and its transactions belong to the caller (the store's
 * PostgreSQL side): this module only runs its statements on the PGconn it is
 * given, inside whatever transaction the caller has open, and never
 * commits, rolls back or closes.  Statements are prepared on the connection
 * on first use (named "kjsc_N"), so a push's thousands of updates are not
 * parsed each time.
 *
 * Text keys are COLLATE "C": reads come back in byte order, as from SQLite,
 * whatever the database's locale, so both stores give the same reports byte
 * for byte.
 */
#ifndef KJS_SCORE_PG_H
#define KJS_SCORE_PG_H

#include <libpq-fe.h>

#include "err.h"
#include "score_store.h"

/* The kinds of the offices report's batch reads (score_pg.c "Batch reads"). */
enum {
  KJS_PG_B_SURVEYS,
  KJS_PG_B_CDAYS,
  KJS_PG_B_ROSTER,
  KJS_PG_B_TARGETS,
  KJS_PG_B_REALS,
  KJS_PG_B_RATINGS,
  KJS_PG_B_CMP_MONTHS,
  KJS_PG_B_CMP_DAYS,
  KJS_PG_B__COUNT
};

/* The score store of one connection.  Fill it with kjs_score_pg_init; pass
 * &h->store to the score functions (score.h). */
typedef struct kjs_score_pg {
  kjs_score_store store;
  PGconn *conn;
  unsigned long long prepared; /* bit i: statement i is prepared on conn */
  int checked;                 /* the connection's prepared statements were listed */
  /* Statements executed on conn through h since init (reads and writes;
   * not the one listing of prepared statements nor the PREPAREs): what
   * tests and the bench count round trips with. */
  unsigned long long statements;
  /* The offices report's reads of all offices at once (score_pg.c "Batch
   * reads"): on from its office list to kjs_score_pg_forget or a write.
   * batch[k]: kind k's rows, NULL when not read; read for months (days)
   * batch_lo..batch_hi and period batch_period ("" when none). */
  int batch_on;
  PGresult *batch[KJS_PG_B__COUNT];
  long long batch_lo[KJS_PG_B__COUNT], batch_hi[KJS_PG_B__COUNT];
  int batch_pos[KJS_PG_B__COUNT]; /* the row after the last one read */
  char batch_period[KJS_PG_B__COUNT][24];
  /* the holidays' counts: day_res[i] for day day_key[i], i < nday */
  PGresult **day_res;
  long long *day_key;
  int nday, cap_day;
  /* the offices whose change counter this transaction already raised
   * (office_touch: one upsert per office per transaction), ntouched of
   * cap_touched; emptied by kjs_score_pg_forget */
  char **touched;
  int ntouched, cap_touched;
  int epochs; /* 0: not looked, 1: the database has table epochs, -1: not */
} kjs_score_pg;

/* Make h the score store of conn (borrowed: it must outlive h, and is used
 * by one thread at a time, as libpq requires).  Nothing is sent yet; on
 * first use h lists the connection's prepared statements once, so a new
 * handle on a connection an older handle used finds its statements there.
 * After a reconnect (PQreset) or a DISCARD ALL / DEALLOCATE ALL, init h
 * again. */
void kjs_score_pg_init(kjs_score_pg *h, PGconn *conn);
/* Frees h's batch reads (the prepared statements stay with the connection
 * and go when it closes); h is zeroed. */
void kjs_score_pg_release(kjs_score_pg *h);

/* Drop h's batch reads and its list of offices touched: call it at every
 * transaction's begin and end (the rows were read in that transaction's
 * snapshot).  Never fails. */
void kjs_score_pg_forget(kjs_score_pg *h);

/* Create the twelve aggregate tables, sc_office_ver and sc_emp's index if
 * absent (the report aggregates empty: kjs_score_pg_aggregates fills them) (CREATE TABLE IF NOT
 * EXISTS, BIGINT numbers, text COLLATE "C"), in the schema first on the connection's search_path.
 * Run it inside the caller's migration transaction, under the migration's
 * lock: two sessions creating the same table at the same moment make one of
 * them fail (a unique violation in pg_type), PostgreSQL's rule for
 * concurrent DDL.  KJ_OK, or KJ_EDB with err filled (the transaction must
 * then be rolled back). */
kj_code kjs_score_pg_schema(PGconn *conn, kj_err *err);

/* The schema migration 3 (db_pg.c): kjs_score_pg_schema, then the report
 * aggregates sc_realyear, sc_cmpmonth and sc_surveyyear made afresh (dropped
 * when there: an older kinerjad may have written without keeping them) and
 * filled from sc_real, sc_actmonth on the roster and sc_survey, and
 * sc_office_ver made (its store row "" raised when there: reports kept by a
 * memo are old).  docs/scoring.md "Aggregates".  Same transaction and lock
 * as kjs_score_pg_schema; KJ_OK, or KJ_EDB with err filled. */
kj_code kjs_score_pg_aggregates(PGconn *conn, kj_err *err);

/* Empty the twelve tables (before a rebuild from the records: every live
 * record through kjs_score_update).  Inside the caller's write
 * transaction.  KJ_OK or KJ_EDB with err filled. */
kj_code kjs_score_pg_clear(PGconn *conn, kj_err *err);

#endif
