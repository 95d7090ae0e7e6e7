/* pgtest.h - what the PostgreSQL tests share (issue 19): the throwaway
 * cluster of the ctest fixture `pg` (tests/tools/pgcluster, tests/CMakeLists.txt
 * kj_pg_test) and a fresh database per test. */
#ifndef KJT_PGTEST_H
#define KJT_PGTEST_H

#include <libpq-fe.h>

/* The cluster's URL (postgresql://kinerja@/kinerja?host=...&port=...), read
 * from $KJ_PG_STATE/url; a static buffer.  Without a cluster (no
 * PostgreSQL: the fixture was skipped) prints why and exits 77, which ctest
 * reports as skipped. */
const char *kjt_pg_url(void);

/* A new empty database named NAME_<pid> (an older one of that name is
 * dropped first), owned by the URL's role: its name into db (size bytes)
 * and a connection to it (caller PQfinishes).  Fails the test on error. */
PGconn *kjt_pg_fresh_db(const char *name, char *db, size_t size);

/* Drop database db (after its connections are closed). */
void kjt_pg_drop_db(const char *db);

/* Run sql on c; fails the test with the server's message unless it
 * succeeds.  Returns the result (caller PQclears). */
PGresult *kjt_pg_exec(PGconn *c, const char *sql);

#endif
