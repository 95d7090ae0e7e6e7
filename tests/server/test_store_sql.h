/* test_store_sql.h - SQL run on a tapp's store from outside kinerjad (its
 * own connection: SQLite's file, or with tapp_on_pg() the tapp's
 * PostgreSQL database), for the tests that inspect or age a store by hand
 * (test_replay_refusal.c, test_schema_aggr.c).  Link test_store_sql.c with
 * test_app_util.c, pgtest.c, kj::sqlite and kj::pq. */
#ifndef KJS_TEST_STORE_SQL_H
#define KJS_TEST_STORE_SQL_H

#include "test_app_util.h"

/* Run sql (one or more statements, no rows wanted) on t's store; the test
 * fails with the database's message unless it succeeds. */
void tsql_exec(tapp *t, const char *sql);

/* The first column of sql's first row, as a number; the test fails when
 * the statement fails or returns no row (PostgreSQL: not exactly one). */
long long tsql_ll(tapp *t, const char *sql);

/* The store's schema version: SQLite's PRAGMA user_version, PostgreSQL's
 * kinerjad_schema.version. */
long long tsql_version(tapp *t);

#endif
