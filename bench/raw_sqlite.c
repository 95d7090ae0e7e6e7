/* raw_sqlite.c - the yardstick: how fast SQLite itself stores survey rows.
 *
 *   raw_sqlite DB ROWS MODE
 *     MODE durable: WAL, synchronous=FULL, a commit every 1,000 rows
 *     MODE fast:    WAL, synchronous=NORMAL, one transaction
 * Prints "rows_per_s N".  Rows are ~290-byte survey records like the ones
 * kinerja pushes, inserted with one prepared statement.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "uuid.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(int rc, sqlite3 *db, const char *what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    fprintf(stderr, "raw_sqlite: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: raw_sqlite DB ROWS durable|fast\n");
    return 2;
  }
  long rows = atol(argv[2]);
  int durable = strcmp(argv[3], "durable") == 0;
  sqlite3 *db;
  remove(argv[1]);
  check(sqlite3_open(argv[1], &db), db, "open");
  check(sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL), db, "wal");
  check(sqlite3_exec(db, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL,
                     NULL, NULL),
        db, "sync");
  check(sqlite3_exec(db,
                     "CREATE TABLE records(id TEXT PRIMARY KEY, type INTEGER, office TEXT, "
                     "state TEXT, seq INTEGER)",
                     NULL, NULL, NULL),
        db, "create");
  sqlite3_stmt *st;
  check(sqlite3_prepare_v2(db, "INSERT INTO records VALUES(?,?,?,?,?)", -1, &st, NULL), db,
        "prepare");
  char id[KJ_UUID_STRLEN + 1], state[512];
  double t0 = now_s();
  check(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), db, "begin");
  for (long i = 0; i < rows; i++) {
    kj_uuid_v7(id);
    int n =
        snprintf(state, sizeof(state),
                 "{\"id\":\"%s\",\"type\":\"survey\",\"f\":{\"office\":\"36.73.01\","
                 "\"date\":\"2026-08-%02ld\",\"service\":\"KTP-el\",\"u1\":\"%ld\",\"u2\":\"3\","
                 "\"u3\":\"4\",\"u4\":\"3\",\"u5\":\"2\",\"u6\":\"4\",\"u7\":\"3\",\"u8\":\"3\","
                 "\"u9\":\"4\",\"age\":\"34\",\"sex\":\"P\",\"education\":\"SMA\","
                 "\"occupation\":\"Wiraswasta\"}}",
                 id, 1 + i % 28, 1 + i % 4);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, 3);
    sqlite3_bind_text(st, 3, "36.73.01", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, state, n, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, i + 1);
    check(sqlite3_step(st), db, "insert");
    sqlite3_reset(st);
    if (durable && (i + 1) % 1000 == 0) {
      check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
      check(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), db, "begin");
    }
  }
  check(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), db, "commit");
  double dt = now_s() - t0;
  sqlite3_finalize(st);
  sqlite3_close(db);
  printf("rows_per_s %.0f\n", (double)rows / dt);
  return 0;
}
