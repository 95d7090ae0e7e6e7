/* test_migrate.c - a database of the previous release (schema 1: states by
 * position in that release's field table) opened by this kinerja: every
 * record reads back unchanged, in one transaction, and a database of a
 * newer release is refused (docs/protocol.md "Versions"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <cmocka.h>

#include "kjt.h"
#include "store.h"

#define S1 "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a01"
#define C1 "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a02"

/* The schema of commit 0c3ceb2, as its migration 0 wrote it. */
static const char *const k_schema1 =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE records(type TEXT NOT NULL, id TEXT NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, UNIQUE(id, type));"
    "CREATE TABLE outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, type TEXT NOT NULL,"
    "  id TEXT NOT NULL, hlc INTEGER NOT NULL, mask INTEGER NOT NULL, deleted INTEGER NOT NULL,"
    "  change TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'rejected')),"
    "  reason TEXT, created_ms INTEGER NOT NULL);"
    "CREATE INDEX outbox_record ON outbox(id, status);"
    "CREATE INDEX outbox_status ON outbox(status, seq);"
    "CREATE TABLE scores(kind TEXT NOT NULL, period TEXT NOT NULL, office TEXT NOT NULL,"
    "  doc TEXT NOT NULL, stored_ms INTEGER NOT NULL,"
    "  PRIMARY KEY(kind, period, office)) WITHOUT ROWID;"
    "PRAGMA user_version = 1;"
    "INSERT INTO meta VALUES('office', '36.73.04'), ('device', 'dev-old'),"
    "  ('hlc_last', '500');";

/* A survey written at the office and partly corrected centrally (two
 * stamps), a deleted complaint whose summary was cleared, an office. */
static const char *const k_rows1 =
    "INSERT INTO records VALUES('survey', '" S1 "', 0, '{\"v\":[\"36.73.04\",\"2026-03-02\","
    "\"KTP-el\",\"4\",\"3\",\"3\",\"4\",\"3\",\"3\",\"2\",\"3\",\"4\",\"40\",\"P\",null,null,"
    "\"baik\"],\"s\":[\"100/dev-old\",\"200/central\"],\"i\":\"aaaabaaaaaaaaaa-a\"}');"
    "INSERT INTO records VALUES('complaint', '" C1 "', 1, '{\"v\":[\"36.73.04\",\"2026-03-01\","
    "null,\"telepon\",null,null],\"s\":[\"110/dev-old\",\"300/dev-old\"],\"i\":\"aa-a-b\","
    "\"d\":\"400/dev-old\"}');"
    "INSERT INTO records VALUES('office', '36.73.04', 0, '{\"v\":[\"Kecamatan Kasemen\",null,"
    "\"1000\"],\"s\":[\"50/server\"],\"i\":\"a-a\"}');"
    "INSERT INTO outbox(type, id, hlc, mask, deleted, change, created_ms) VALUES('survey', '" S1
    "', 100, 1, 0, '{\"f\":{\"office\":\"36.73.04\"}}', 1);";

static char *make_v1(char *dir, const char *extra) {
  char *db = strdup(kjt_path(dir, "old.db"));
  sqlite3 *h;
  assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
  char *msg = NULL;
  int rc = sqlite3_exec(h, k_schema1, NULL, NULL, &msg);
  char appid[64];
  snprintf(appid, sizeof appid, "PRAGMA application_id = %d", KJC_APPLICATION_ID);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(h, appid, NULL, NULL, &msg);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(h, k_rows1, NULL, NULL, &msg);
  if (rc == SQLITE_OK && extra)
    rc = sqlite3_exec(h, extra, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    fail_msg("%s", msg);
  sqlite3_close(h);
  return db;
}

static int field(kj_rtype t, const char *name) {
  return kj_field_index(kj_type(t), name);
}

static void test_v1_database_reads_back(void **state) {
  (void)state;
  char *dir = kjt_tmpdir();
  char *db = make_v1(dir, NULL);
  kjc_store *s = NULL;
  kj_err err;
  kj_err_clear(&err);
  if (kjc_store_open(&s, db, KJC_OPEN_WRITE, &err))
    fail_msg("%s", err.msg);

  kj_rstate st;
  assert_int_equal(kjc_record_get(s, KJ_T_SURVEY, S1, &st, &err), KJ_OK);
  assert_string_equal(st.rec.v[field(KJ_T_SURVEY, "service")], "KTP-el");
  assert_string_equal(st.rec.v[field(KJ_T_SURVEY, "u1")], "4");
  assert_string_equal(st.rec.v[field(KJ_T_SURVEY, "u2")], "3");
  assert_string_equal(st.rec.v[field(KJ_T_SURVEY, "comment")], "baik");
  assert_null(st.rec.v[field(KJ_T_SURVEY, "education")]);
  assert_int_equal(st.st[field(KJ_T_SURVEY, "u2")].hlc, 200); /* the central correction */
  assert_string_equal(st.st[field(KJ_T_SURVEY, "u2")].device, "central");
  assert_int_equal(st.st[field(KJ_T_SURVEY, "u1")].hlc, 100);
  assert_string_equal(st.st[field(KJ_T_SURVEY, "u1")].device, "dev-old");
  assert_int_equal(st.st[field(KJ_T_SURVEY, "occupation")].hlc, 0); /* never written */
  assert_int_equal(st.st[field(KJ_T_SURVEY, "comment")].hlc, 100);
  kj_rstate_release(&st);

  assert_int_equal(kjc_record_get(s, KJ_T_COMPLAINT, C1, &st, &err), KJ_OK);
  assert_true(st.rec.deleted);
  assert_int_equal(st.del.hlc, 400);
  assert_null(st.rec.v[field(KJ_T_COMPLAINT, "summary")]);
  assert_int_equal(st.st[field(KJ_T_COMPLAINT, "summary")].hlc, 300); /* cleared */
  assert_string_equal(st.rec.v[field(KJ_T_COMPLAINT, "channel")], "telepon");
  assert_null(st.rec.v[field(KJ_T_COMPLAINT, "resolution")]); /* a field of protocol 2 */
  kj_rstate_release(&st);

  assert_int_equal(kjc_record_get(s, KJ_T_OFFICE, "36.73.04", &st, &err), KJ_OK);
  assert_string_equal(st.rec.v[field(KJ_T_OFFICE, "name")], "Kecamatan Kasemen");
  assert_string_equal(st.rec.v[field(KJ_T_OFFICE, "population")], "1000");
  kj_rstate_release(&st);

  /* the pending change is still there and goes to any server */
  kjc_outbox_stats ob;
  assert_int_equal(kjc_outbox_stats_get(s, &ob, &err), KJ_OK);
  assert_int_equal(ob.pending, 1);
  assert_int_equal(ob.held, 0);
  kj_change ch[2];
  int n = 0;
  assert_int_equal(kjc_outbox_batch(s, 2, ch, &n, &err), KJ_OK);
  assert_int_equal(n, 1);
  assert_string_equal(ch[0].rec.v[field(KJ_T_SURVEY, "office")], "36.73.04");
  kj_change_release(&ch[0]);

  /* a new edit works and is stored by name */
  kj_change c;
  kj_change_init(&c, KJ_T_SURVEY);
  snprintf(c.rec.id, sizeof c.rec.id, S1);
  kj_record_set(&c.rec, field(KJ_T_SURVEY, "u3"), "1");
  c.mask = 1u << field(KJ_T_SURVEY, "u3");
  assert_int_equal(kjc_store_write(s, &c, 0, NULL, &err), KJ_OK);
  kj_change_release(&c);
  kjc_store_close(s);

  sqlite3 *h;
  assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
  sqlite3_stmt *q;
  assert_int_equal(sqlite3_prepare_v2(h,
                                      "SELECT (SELECT state FROM records WHERE id = '" S1
                                      "'), user_version FROM pragma_user_version",
                                      -1, &q, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  const char *text = (const char *)sqlite3_column_text(q, 0);
  assert_non_null(strstr(text, "\"u3\":\"1\""));
  assert_non_null(strstr(text, "\"service\":\"KTP-el\""));
  assert_null(strstr(text, "\"v\":"));
  assert_int_equal(sqlite3_column_int(q, 1), KJC_SCHEMA_VERSION);
  sqlite3_finalize(q);
  sqlite3_close(h);
  free(db);
  kjt_rmdir(dir);
}

/* A state that cannot be read stops the upgrade before anything changed. */
static void test_damaged_v1_rolls_back(void **state) {
  (void)state;
  char *dir = kjt_tmpdir();
  char *db = make_v1(dir, "INSERT INTO records VALUES('survey', '0190a0b0-1c2d-7e3f-8a4b-"
                          "5c6d7e8f9a09', 0, '{\"v\":[\"short\"],\"s\":[],\"i\":\"-\"}');");
  kjc_store *s = NULL;
  kj_err err;
  kj_err_clear(&err);
  assert_int_equal(kjc_store_open(&s, db, KJC_OPEN_WRITE, &err), KJ_EDB);
  assert_non_null(strstr(err.msg, "record '0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a09' cannot be read"));
  sqlite3 *h;
  assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
  sqlite3_stmt *q;
  sqlite3_prepare_v2(h,
                     "SELECT user_version, (SELECT state FROM records WHERE id = '" S1 "')"
                     " FROM pragma_user_version",
                     -1, &q, NULL);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(q, 0), 1); /* still schema 1, whole */
  assert_non_null(strstr((const char *)sqlite3_column_text(q, 1), "\"v\":["));
  sqlite3_finalize(q);
  sqlite3_close(h);
  free(db);
  kjt_rmdir(dir);
}

static void test_newer_database_refused(void **state) {
  (void)state;
  char *dir = kjt_tmpdir();
  char *db = make_v1(dir, "PRAGMA user_version = 99;");
  kjc_store *s = NULL;
  kj_err err;
  kj_err_clear(&err);
  assert_int_equal(kjc_store_open(&s, db, KJC_OPEN_WRITE, &err), KJ_EVERSION);
  assert_non_null(strstr(err.msg, "has schema version 99, newer than this kinerja"));
  assert_non_null(strstr(err.msg, "upgrade kinerja"));
  free(db);
  kjt_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_v1_database_reads_back),
      cmocka_unit_test(test_damaged_v1_rolls_back),
      cmocka_unit_test(test_newer_database_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
