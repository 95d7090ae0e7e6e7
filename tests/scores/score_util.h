/* score_util.h - what the scores tests share: an in-memory database with
 * the server's records table, putting and deleting records through
 * kjs_score_update, loading a vector set, comparing JSON as numbers. */
#ifndef KJT_SCORE_UTIL_H
#define KJT_SCORE_UTIL_H

#include <cJSON.h>
#include <sqlite3.h>

#include "record.h"
#include "score.h"
#include "score_sqlite.h"

/* The records DDL of the server (store.c's migration). */
#define KJT_RECORDS_DDL                                                                            \
  "CREATE TABLE records(type INTEGER NOT NULL, id TEXT NOT NULL, office TEXT, deleted INTEGER "    \
  "NOT NULL DEFAULT 0, state TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(type,id))"

/* ":memory:" or a file; records table and aggregates created. */
sqlite3 *kjt_db_open(const char *path);
/* Store r (a new state of its record) as the store does: the old state is
 * read from records, the aggregates updated, the row replaced.  0 or -1. */
int kjt_put(sqlite3 *db, const kj_record *r);
/* Delete (tombstone) the record; 0, or -1 when it does not exist. */
int kjt_delete(sqlite3 *db, kj_rtype t, const char *id);
/* The current record (live or deleted); 0 or -1 when absent. */
int kjt_get(sqlite3 *db, kj_rtype t, const char *id, kj_record *out);
/* Load dir/data/<plural>.csv of every type; number of records or -1. */
long kjt_load_set(sqlite3 *db, const char *dir);
/* 1 when a and b are equal, numbers within 1e-9; else 0 and where in why. */
int kjt_json_equal(const cJSON *a, const cJSON *b, char *why, size_t size);
/* The test data directory (KJ_TEST_DATA or the compiled-in path). */
const char *kjt_data_dir(void);
/* Read a whole file (caller frees); NULL on error. */
char *kjt_read_file(const char *path);

#endif
