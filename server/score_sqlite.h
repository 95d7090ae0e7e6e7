/* score_sqlite.h - the SQLite implementation of the score store
 * (score_store.h): the twelve sc_* aggregate tables of docs/scoring.md
 * "Aggregates" in the server's database, next to `records`.
 *
 * Only server/store.c (and the tests and bench/score_bench of the scores)
 * include this header; server/score.h knows no database.
 */
#ifndef KJS_SCORE_SQLITE_H
#define KJS_SCORE_SQLITE_H

#include <sqlite3.h>
#include <stdio.h>

#include "buf.h"
#include "err.h"
#include "score_store.h"

/* The score store of connection db: its statements are prepared on first
 * use, kept with the connection and finalized when it closes (a
 * SQLITE_TRACE_CLOSE callback: this module owns that trace slot).  Owned by
 * the connection, never released by the caller.  NULL when out of memory
 * (the score functions then fail with KJ_ENOMEM).  One thread at a time per
 * connection, as for the connection itself. */
kjs_score_store *kjs_score_sqlite(sqlite3 *db);

/* Within a write transaction the store of db may hold the sums of surveys
 * back (the adds of one sc_survey row summed, one upsert at the end): hold
 * starts that (at BEGIN; whatever was held is forgotten), flush writes what
 * is held and stops (before COMMIT: KJ_OK, or KJ_EDB with err filled; a
 * read of the store flushes first itself), discard forgets it and stops
 * (at a ROLLBACK).  Without hold every write goes straight to its table. */
void kjs_score_sqlite_hold(sqlite3 *db);
kj_code kjs_score_sqlite_flush(sqlite3 *db, kj_err *err);
void kjs_score_sqlite_discard(sqlite3 *db);

/* Create the twelve aggregate tables (IF NOT EXISTS; the report aggregates
 * empty: kjs_score_sqlite_aggregates fills them); tables of an older layout
 * are rebuilt from the live rows of `records`.  KJ_OK, or KJ_EDB with err
 * filled.  The store runs it on every open, inside its transaction. */
kj_code kjs_score_sqlite_schema(sqlite3 *db, kj_err *err);

/* The schema migration 13 (db_sqlite.c): kjs_score_sqlite_schema, then the
 * report aggregates sc_realyear, sc_cmpmonth and sc_surveyyear made afresh
 * (dropped when there: an older kinerjad may have written without keeping
 * them) and filled from sc_real, sc_actmonth on the roster and sc_survey,
 * and sc_office_ver made (its store row "" raised when there: reports kept
 * by a memo before are old).  docs/scoring.md "Aggregates".  Inside the
 * migration's transaction; KJ_OK, or KJ_EDB with err filled (roll back). */
kj_code kjs_score_sqlite_aggregates(sqlite3 *db, kj_err *err);

/* Rebuild the aggregates from the live rows of `records` (state JSON
 * through kj_rstate_from_json, each record through kjs_score_update).
 * verify: rebuild into temporary tables, change nothing, append one line per
 * difference to diffs (may be NULL; "sc_survey: maintained only: ...") and
 * count them in *ndiff (may be NULL; 0 without verify).  KJ_OK (also when
 * differences are found), or KJ_EDB, KJ_ENOMEM with err filled.  Run it
 * inside a write transaction. */
kj_code kjs_score_sqlite_rebuild(sqlite3 *db, int verify, kj_buf *diffs, int *ndiff, kj_err *err);

/* `kinerjad recompute [--verify]`: argv after "recompute".  Prints the
 * differences to out, one a line, and counts them in *ndiff (may be NULL);
 * KJ_OK or a kj_code with err filled (kjs_score_sqlite_rebuild).  Run it
 * inside a write transaction (it rebuilds the tables without --verify). */
kj_code kjs_score_sqlite_cli_recompute(sqlite3 *db, int argc, char **argv, FILE *out, int *ndiff,
                                       kj_err *err);

#endif
