/* test_restore.c - restores and copies of databases, real processes over
 * loopback TLS (issue 14 points 1, 2 and 6): an office PC restored from its
 * backup, reinstalled with its used token, its database copied to a second
 * PC; the server restored from an earlier backup by `kinerjad restore` and
 * by copying the file back.  Exactly once is counted on the server's own
 * database: every survey typed is there once (by its service name, unique
 * per survey typed), none twice, and every replica equals the server's view
 * field by field. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "kjt.h"
#include "syncenv.h"

#define OA "36.73.01"

static syncenv *g;

static int setup(void **state) {
  (void)state;
  g = syncenv_new();
  syncenv_start(g, 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  syncenv_free(g);
  g = NULL;
  return 0;
}

/* Type n new surveys whose service names are "Layanan SALT-i" (one CSV
 * import: ids made by the client, one outbox row each). */
static void type_surveys(const char *db, int n, int salt) {
  char path[700];
  snprintf(path, sizeof path, "%s/s%d.csv", g->dir, salt);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment\n",
        f);
  for (int i = 0; i < n; i++)
    fprintf(f, ",%s,2026-03-%02d,Layanan %d-%d,%d,%d,3,4,3,3,2,3,4,%d,%s,,,komentar %d\n", OA,
            1 + i % 28, salt, i, 1 + i % 4, 1 + (i / 4) % 4, 18 + i % 60, i % 2 ? "L" : "P", i);
  fclose(f);
  assert_int_equal(KJ(db, "import", "survey", path), 0);
}

/* One number from the server's database (read-only, beside a running
 * server: WAL readers do not block it). */
static long long srv_query(const char *sql) {
  char path[700];
  snprintf(path, sizeof path, "%s/kinerjad.db", g->data);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  long long v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

/* Surveys typed with salt on the server: each of the n exactly once. */
static void assert_once(int salt, int n) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT count(*) FROM records WHERE type = 'survey' AND "
           "json_extract(state, '$.f.service') LIKE 'Layanan %d-%%'",
           salt);
  long long total = srv_query(sql);
  snprintf(sql, sizeof sql,
           "SELECT count(DISTINCT json_extract(state, '$.f.service')) FROM records WHERE "
           "type = 'survey' AND json_extract(state, '$.f.service') LIKE 'Layanan %d-%%'",
           salt);
  long long distinct = srv_query(sql);
  if (total != n || distinct != n)
    fail_msg("salt %d: the server holds %lld surveys (%lld distinct), typed %d", salt, total,
             distinct, n);
}

/* No survey twice, whatever its salt. */
static void assert_no_duplicates(void) {
  assert_int_equal(srv_query("SELECT count(*) - count(DISTINCT json_extract(state, "
                             "'$.f.service')) FROM records WHERE type = 'survey'"),
                   0);
}

/* The id of the survey db shows with this service name (caller frees). */
static char *survey_id(const char *db, const char *service) {
  char *out = NULL;
  assert_int_equal(
      syncenv_kinerja(db, NULL, &out, NULL,
                      (const char *const[]){"export", "survey", "--format", "json", NULL}),
      0);
  cJSON *arr = cJSON_Parse(out);
  free(out);
  char *id = NULL;
  const cJSON *it;
  cJSON_ArrayForEach(it, arr) {
    const cJSON *sv = cJSON_GetObjectItemCaseSensitive(it, "service");
    if (!id && cJSON_IsString(sv) && !strcmp(sv->valuestring, service))
      id = strdup(cJSON_GetObjectItemCaseSensitive(it, "id")->valuestring);
  }
  cJSON_Delete(arr);
  assert_non_null(id);
  return id;
}

static void assert_agree(const char *db) {
  char *mine = syncenv_export(db), *srv = syncenv_server_view(g, OA);
  assert_string_equal(mine, srv);
  free(mine);
  free(srv);
}

/* `sync` with its stderr; exit status 0 expected. */
static char *sync_err(const char *db) {
  char *err = NULL;
  assert_int_equal(syncenv_kinerja(db, NULL, NULL, &err, (const char *const[]){"sync", NULL}), 0);
  return err;
}

static void copy_file(const char *from, const char *to) {
  char cmd[4000];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s' && rm -f '%s-wal' '%s-shm'", from, to, to, to);
  assert_int_equal(system(cmd), 0);
}

/* A PC restored from its own backup: the records typed after the restore
 * reach the server once each, and the PC gets back what it pushed after
 * the backup was taken. */
static void test_pc_restored_from_backup(void **state) {
  (void)state;
  char a[700], bak[700];
  snprintf(a, sizeof a, "%s", syncenv_client(g, "a", OA, g->url));
  snprintf(bak, sizeof bak, "%s/a-backup.db", g->dir);
  type_surveys(a, 3, 1);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_int_equal(KJ(a, "backup", bak), 0);
  type_surveys(a, 4, 2); /* pushed after the backup */
  assert_int_equal(KJ(a, "sync"), 0);
  copy_file(bak, a); /* the restore of docs/operations.md */
  type_surveys(a, 5, 3);
  char *err = sync_err(a);
  assert_non_null(strstr(err, "this database was restored or copied"));
  free(err);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_once(1, 3);
  assert_once(2, 4);
  assert_once(3, 5);
  assert_no_duplicates();
  assert_agree(a); /* the 4 pushed after the backup came back */
  /* it keeps working, and says nothing more */
  type_surveys(a, 2, 4);
  err = sync_err(a);
  assert_null(strstr(err, "restored"));
  free(err);
  assert_once(4, 2);
  assert_no_duplicates();
  assert_agree(a);
}

/* A PC reinstalled (a new database) with the token it used before. */
static void test_reused_token(void **state) {
  (void)state;
  char tok[128], a[700], b[700];
  syncenv_device(g, OA, tok, NULL);
  snprintf(a, sizeof a, "%s/old.db", g->dir);
  snprintf(b, sizeof b, "%s/new.db", g->dir);
  assert_int_equal(
      KJ(a, "init", "--office", OA, "--server", g->url, "--token", tok, "--ca", g->cert), 0);
  type_surveys(a, 4, 1);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_int_equal(
      KJ(b, "init", "--office", OA, "--server", g->url, "--token", tok, "--ca", g->cert), 0);
  type_surveys(b, 3, 2);
  char *err = sync_err(b);
  assert_non_null(strstr(err, "this database was restored or copied"));
  free(err);
  assert_once(1, 4);
  assert_once(2, 3);
  assert_no_duplicates();
  assert_agree(b); /* the old PC's records too */
  type_surveys(b, 2, 3);
  assert_int_equal(KJ(b, "sync"), 0);
  assert_once(3, 2);
  assert_agree(b);
}

/* A database copied to a second PC: both keep working with one token. */
static void test_copied_database(void **state) {
  (void)state;
  char a[700], b[700];
  snprintf(a, sizeof a, "%s", syncenv_client(g, "a", OA, g->url));
  snprintf(b, sizeof b, "%s/b.db", g->dir);
  type_surveys(a, 3, 1);
  assert_int_equal(KJ(a, "sync"), 0);
  copy_file(a, b);
  for (int round = 0; round < 3; round++) {
    type_surveys(a, 4, 10 + round);
    type_surveys(b, 5, 20 + round);
    assert_int_equal(syncenv_sync_until_ok(a, 2), 0);
    assert_int_equal(syncenv_sync_until_ok(b, 2), 0);
  }
  assert_int_equal(KJ(a, "sync"), 0);
  assert_int_equal(KJ(b, "sync"), 0);
  assert_once(1, 3);
  for (int round = 0; round < 3; round++) {
    assert_once(10 + round, 4);
    assert_once(20 + round, 5);
  }
  assert_no_duplicates();
  assert_agree(a);
  assert_agree(b);
}

/* The server restored from an earlier backup, by `kinerjad restore` (how
 * = 0) or by copying the file back while it is stopped (how = 1), or with
 * its mark lost too (how = 2: only the PCs' cursors tell). */
static void server_restore(int how) {
  char a[700], b[700], c[700], cid[64], tok[128], bak[700], out[4096];
  snprintf(a, sizeof a, "%s", syncenv_client(g, "a", OA, g->url));
  snprintf(b, sizeof b, "%s", syncenv_client(g, "b", OA, g->url));
  syncenv_device(g, OA, tok, cid);
  snprintf(c, sizeof c, "%s/c.db", g->dir);
  assert_int_equal(
      KJ(c, "init", "--office", OA, "--server", g->url, "--token", tok, "--ca", g->cert), 0);
  type_surveys(a, 3, 1);
  type_surveys(b, 3, 2);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_int_equal(KJ(b, "sync"), 0);
  assert_int_equal(KJ(c, "sync"), 0);
  snprintf(bak, sizeof bak, "%s/server-backup.db", g->dir);
  assert_int_equal(syncenv_admin(g, out, sizeof out, (const char *const[]){"backup", bak, NULL}),
                   0);
  /* after the backup: pushes from both PCs, a revocation */
  type_surveys(a, 4, 3);
  type_surveys(b, 5, 4);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_int_equal(KJ(b, "sync"), 0);
  assert_int_equal(KJ(a, "sync"), 0); /* a holds b's too: its cursor is past the backup */
  /* b edits and deletes records a created after the backup */
  char *edited = survey_id(b, "Layanan 3-0"), *gone = survey_id(b, "Layanan 3-1");
  assert_int_equal(KJ(b, "update", edited, "u1=4"), 0);
  assert_int_equal(KJ(b, "delete", gone), 0);
  assert_int_equal(KJ(b, "sync"), 0);
  assert_int_equal(
      syncenv_admin(g, out, sizeof out, (const char *const[]){"device", "revoke", cid, NULL}), 0);
  syncenv_stop(g, SIGTERM);
  if (how == 0) {
    assert_int_equal(syncenv_admin(g, out, sizeof out,
                                   (const char *const[]){"restore", "/nonexistent.db", NULL}) != 0,
                     1);
    assert_int_equal(syncenv_admin(g, out, sizeof out, (const char *const[]){"restore", bak, NULL}),
                     0);
    assert_non_null(strstr(out, "new epoch"));
  } else {
    char live[700], cmd[1000];
    snprintf(live, sizeof live, "%s/kinerjad.db", g->data);
    copy_file(bak, live);
    if (how == 2) {
      snprintf(cmd, sizeof cmd, "rm -f '%s.mark'", live);
      assert_int_equal(system(cmd), 0);
    }
  }
  syncenv_start(g, g->port);
  /* both PCs sync; records typed after the restore as well.  b first:
   * its edit and delete of a's records reach a server that lost them
   * (answered 'missing', sent again once a has sent them back) */
  type_surveys(b, 2, 5);
  char *err = sync_err(b);
  assert_non_null(strstr(err, "the server was restored"));
  free(err);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_int_equal(KJ(b, "sync"), 0);
  type_surveys(a, 2, 6);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_int_equal(KJ(b, "sync"), 0);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_once(1, 3);
  assert_once(2, 3);
  assert_once(3, 4); /* acknowledged before the restore, lost by it, sent again */
  char sql[300];
  snprintf(sql, sizeof sql,
           "SELECT json_extract(state, '$.f.u1') = '4' FROM records WHERE id = '%s'", edited);
  assert_int_equal(srv_query(sql), 1);
  snprintf(sql, sizeof sql, "SELECT deleted FROM records WHERE id = '%s'", gone);
  assert_int_equal(srv_query(sql), 1);
  free(edited);
  free(gone);
  assert_once(4, 5);
  assert_once(5, 2);
  assert_once(6, 2);
  assert_no_duplicates();
  assert_agree(a);
  assert_agree(b);
  /* the revocation made after the backup still holds */
  char *cerr = NULL;
  assert_int_not_equal(syncenv_kinerja(c, NULL, NULL, &cerr, (const char *const[]){"sync", NULL}),
                       0);
  assert_non_null(strstr(cerr, "revoked"));
  free(cerr);
}

static void test_server_restore_command(void **state) {
  (void)state;
  server_restore(0);
}

static void test_server_restore_by_copy(void **state) {
  (void)state;
  server_restore(1);
}

static void test_server_restore_mark_lost(void **state) {
  (void)state;
  server_restore(2);
}

/* `kinerjad restore` checks the file first and changes nothing when it is
 * not a kinerjad database. */
static void test_restore_refuses_bad_file(void **state) {
  (void)state;
  char junk[700], out[4096];
  snprintf(junk, sizeof junk, "%s/junk.db", g->dir);
  FILE *f = fopen(junk, "w");
  assert_non_null(f);
  fputs("this is not a database\n", f);
  fclose(f);
  /* refused while serve runs */
  char bak[700];
  snprintf(bak, sizeof bak, "%s/ok-backup.db", g->dir);
  assert_int_equal(syncenv_admin(g, out, sizeof out, (const char *const[]){"backup", bak, NULL}),
                   0);
  assert_int_not_equal(
      syncenv_admin(g, out, sizeof out, (const char *const[]){"restore", bak, NULL}), 0);
  syncenv_stop(g, SIGTERM);
  assert_int_not_equal(
      syncenv_admin(g, out, sizeof out, (const char *const[]){"restore", junk, NULL}), 0);
  /* the database was left alone: a good backup then goes in */
  assert_int_equal(syncenv_admin(g, out, sizeof out, (const char *const[]){"restore", bak, NULL}),
                   0);
  assert_non_null(strstr(out, "restored"));
  syncenv_start(g, g->port);
  char a[700];
  snprintf(a, sizeof a, "%s", syncenv_client(g, "a", OA, g->url));
  assert_int_equal(KJ(a, "sync"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_pc_restored_from_backup, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reused_token, setup, teardown),
      cmocka_unit_test_setup_teardown(test_copied_database, setup, teardown),
      cmocka_unit_test_setup_teardown(test_server_restore_command, setup, teardown),
      cmocka_unit_test_setup_teardown(test_server_restore_by_copy, setup, teardown),
      cmocka_unit_test_setup_teardown(test_server_restore_mark_lost, setup, teardown),
      cmocka_unit_test_setup_teardown(test_restore_refuses_bad_file, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
