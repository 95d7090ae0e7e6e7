#include "pgtest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

const char *kjt_pg_url(void) {
  static char url[1024];
  if (url[0])
    return url;
  const char *state = getenv("KJ_PG_STATE");
  char path[1024];
  snprintf(path, sizeof path, "%s/url", state ? state : ".");
  FILE *f = state ? fopen(path, "r") : NULL;
  if (!f || !fgets(url, sizeof url, f)) {
    printf("SKIP: no PostgreSQL test cluster (%s: the pg_cluster_start fixture was skipped or "
           "not run; scripts/install-deps installs postgresql-15)\n",
           state ? path : "KJ_PG_STATE is not set");
    if (f)
      fclose(f);
    exit(77);
  }
  fclose(f);
  url[strcspn(url, "\r\n")] = 0;
  return url;
}

PGresult *kjt_pg_exec(PGconn *c, const char *sql) {
  PGresult *r = PQexec(c, sql);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  return r;
}

static PGconn *connect_to(const char *db) {
  const char *keys[] = {"dbname", "dbname", NULL};
  const char *vals[] = {kjt_pg_url(), db, NULL};
  /* expand_dbname: the URL's settings, then dbname overrides its database */
  PGconn *c = PQconnectdbParams(keys, vals, 1);
  if (PQstatus(c) != CONNECTION_OK)
    fail_msg("cannot connect to %s (%s): %s", db ? db : "the cluster", kjt_pg_url(),
             PQerrorMessage(c));
  PQclear(kjt_pg_exec(c, "SET client_min_messages = warning"));
  return c;
}

PGconn *kjt_pg_fresh_db(const char *name, char *db, size_t size) {
  snprintf(db, size, "%s_%ld", name, (long)getpid());
  PGconn *admin = connect_to(NULL);
  char sql[300];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", db);
  PQclear(kjt_pg_exec(admin, sql));
  snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
  PQclear(kjt_pg_exec(admin, sql));
  PQfinish(admin);
  return connect_to(db);
}

void kjt_pg_drop_db(const char *db) {
  PGconn *admin = connect_to(NULL);
  char sql[300];
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", db);
  PQclear(kjt_pg_exec(admin, sql));
  PQfinish(admin);
}
