/* test_store_sql.c - SQL on a tapp's store from outside kinerjad
 * (test_store_sql.h). */
#include "test_store_sql.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <libpq-fe.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "pgtest.h"

void tsql_exec(tapp *t, const char *sql) {
  if (tapp_on_pg()) {
    PGconn *c = PQconnectdb(t->cfg.db_file);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PQclear(kjt_pg_exec(c, sql));
    PQfinish(c);
    return;
  }
  sqlite3 *db;
  assert_int_equal(sqlite3_open(t->cfg.db_file, &db), SQLITE_OK);
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
    fail_msg("%s: %s", sql, msg);
  sqlite3_close(db);
}

long long tsql_ll(tapp *t, const char *sql) {
  long long v = -1;
  if (tapp_on_pg()) {
    PGconn *c = PQconnectdb(t->cfg.db_file);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = kjt_pg_exec(c, sql);
    assert_int_equal(PQntuples(r), 1);
    v = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return v;
  }
  sqlite3 *db;
  sqlite3_stmt *s;
  assert_int_equal(sqlite3_open(t->cfg.db_file, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

long long tsql_version(tapp *t) {
  return tsql_ll(t, tapp_on_pg() ? "SELECT version FROM kinerjad_schema" : "PRAGMA user_version");
}
