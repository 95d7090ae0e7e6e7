/* store.c - the schema, every SQL statement and the merge transaction.
 *
 * After mosquitto's persist-sqlite: statements are prepared once per
 * connection (lazily, SQLITE_PREPARE_PERSISTENT) and bound, stepped and
 * reset per use.  SQLite errors are translated here, once.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>
#include <sqlite3.h>

#include "date.h"
#include "dbbackup.h"
#include "hlc.h"
#include "log.h"
#include "merge.h"
#include "msg.h"
#include "passhash.h"
#include "rules.h"

#include "score.h"
#include "score_sqlite.h"
#include "uuid.h"

#define KJS_APP_ID 0x4b4a5344 /* "KJSD" */
#define KJS_POOL_MAX 8
#define KJS_BUSY_MS 30000

/* ---------------------------------------------------------------------- */
/* The last position of the change sequence: records and moved notices. */
#define POSITION_MAX_SQL                                                                           \
  "SELECT MAX(COALESCE((SELECT MAX(seq) FROM records), 0), COALESCE((SELECT MAX(seq) FROM "        \
  "moved), 0))"

/* statements */

enum {
  ST_TOKEN_ADD,
  ST_TOKEN_LOOKUP,
  ST_TOKEN_REVOKE,
  ST_TOKEN_EXISTS,
  ST_TOKEN_LIST,
  ST_MAXSEQ,
  ST_REC_GET,
  ST_REC_PUT,
  ST_APPLIED_GET,
  ST_APPLIED_PUT,
  ST_CONFLICT_PUT,
  ST_CONFLICT_LIST,
  ST_CONFLICT_TRIM,
  ST_PULL_ALL,
  ST_PULL_OFFICE,
  ST_MOVED_PULL,
  ST_MOVED_PUT,
  ST_CLOCK_GET,
  ST_CLOCK_PUT,
  ST_DIGEST,
  ST_ROSTER,
  ST_HISTORY_PUT,
  ST_HISTORY_LIST,
  ST_IMPORT_GET,
  ST_IMPORT_PUT,
  ST_APPLIED_HIGH,
  ST_EPOCH_CUR,
  ST_EMPLOYEE,
  ST_HAS_EMPLOYEES,
  ST_RATING_OTHER,
  ST_OFFICE_ZONE,
  ST_SP_BEGIN,
  ST_SP_RELEASE,
  ST_SP_ROLLBACK,
  ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_TOKEN_ADD] =
        "INSERT INTO tokens(hash, id, role, office, name, created) VALUES(?1,?2,?3,?4,?5,?6)",
    [ST_TOKEN_LOOKUP] = "SELECT hash, id, role, office, revoked IS NOT NULL, "
                        "COALESCE(last_seen, 0) FROM tokens WHERE hash = ?1",
    [ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
    [ST_TOKEN_EXISTS] = "SELECT 1 FROM tokens WHERE id = ?1",
    [ST_TOKEN_LIST] = "SELECT id, role, office, name, created, revoked, last_seen, "
                      "(SELECT CASE WHEN e.used IS NOT NULL THEN 'used' WHEN e.expires <= ?2 "
                      "THEN 'expired' ELSE 'pending' END FROM enrol_codes e WHERE e.device = "
                      "tokens.id ORDER BY e.created DESC LIMIT 1) "
                      "FROM tokens WHERE ?1 = 0 OR role = 'device' ORDER BY created, id",
    /* the last position of the change sequence: records and moved notices */
    [ST_MAXSEQ] = POSITION_MAX_SQL,
    [ST_REC_GET] = "SELECT state FROM records WHERE type = ?1 AND id = ?2",
    [ST_REC_PUT] = "INSERT OR REPLACE INTO records(type, id, office, deleted, state, seq, origin) "
                   "VALUES(?1,?2,?3,?4,?5,?6,?7)",
    [ST_APPLIED_GET] =
        "SELECT status, error, digest FROM applied WHERE device = ?1 AND inc = ?3 AND seq = ?2",
    [ST_APPLIED_PUT] =
        "INSERT INTO applied(device, seq, status, error, inc, digest) VALUES(?1,?2,?3,?4,?5,?6)",
    [ST_CONFLICT_PUT] = "INSERT INTO conflicts(type, id, field, loser, loser_stamp, winner, "
                        "winner_stamp, at, loser_note, winner_note) "
                        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
    /* with each side's author from the history (a stamp is "HLC/DEVICE",
     * the change that wrote it is the history row of that record, hlc and
     * device; NULL for values older than the history) and the zone of the
     * record's office */
    [ST_CONFLICT_LIST] =
        "SELECT c.n, c.type, c.id, c.field, c.loser, c.loser_stamp, c.winner, c.winner_stamp, "
        "c.at, c.loser_note, c.winner_note, "
        "(SELECT h.author FROM history h WHERE h.id = c.id AND h.type = c.type"
        "  AND h.hlc = CAST(substr(c.loser_stamp, 1, instr(c.loser_stamp, '/') - 1) AS INTEGER)"
        "  AND h.device = substr(c.loser_stamp, instr(c.loser_stamp, '/') + 1) LIMIT 1), "
        "(SELECT h.author FROM history h WHERE h.id = c.id AND h.type = c.type"
        "  AND h.hlc = CAST(substr(c.winner_stamp, 1, instr(c.winner_stamp, '/') - 1) AS INTEGER)"
        "  AND h.device = substr(c.winner_stamp, instr(c.winner_stamp, '/') + 1) LIMIT 1), "
        "(SELECT json_extract(o.state, '$.f.timezone') FROM records r"
        "  JOIN records o ON o.type = 'office' AND o.id = r.office"
        "  WHERE r.type = c.type AND r.id = c.id) "
        "FROM conflicts c ORDER BY c.n",
    /* keep the newest KJS_CONFLICTS_PER_RECORD rows of one record */
    [ST_CONFLICT_TRIM] = "DELETE FROM conflicts WHERE type = ?1 AND id = ?2 AND n <= "
                         "(SELECT n FROM conflicts WHERE type = ?1 AND id = ?2 "
                         "ORDER BY n DESC LIMIT 1 OFFSET ?3)",
    [ST_PULL_ALL] = "SELECT seq, state FROM records WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    /* walk the seq index and filter: each page costs its rows (and the
     * others' rows between them), never a sort of the whole office */
    [ST_PULL_OFFICE] = "SELECT seq, state FROM records INDEXED BY records_seq WHERE seq > ?1 "
                       "AND (type IN (SELECT value FROM json_each(?5)) OR office = ?3) "
                       "AND (?4 IS NULL OR origin IS NOT ?4) "
                       "ORDER BY seq LIMIT ?2",
    /* the moved notices of an office in a range of the sequence */
    [ST_MOVED_PULL] = "SELECT type, id FROM moved WHERE office = ?1 AND seq > ?2 AND seq <= ?3 "
                      "ORDER BY seq",
    [ST_MOVED_PUT] = "INSERT OR REPLACE INTO moved(office, type, id, seq) VALUES(?1,?2,?3,?4)",
    [ST_CLOCK_GET] = "SELECT hlc FROM clock WHERE id = 1",
    [ST_CLOCK_PUT] = "INSERT OR REPLACE INTO clock(id, hlc) VALUES(1, ?1)",
    /* ?2 is on the roster of office ?1, or the supervisor of someone there */
    [ST_ROSTER] = "SELECT 1 FROM records WHERE type = 'employee' AND deleted = 0 AND office = ?1 "
                  "AND (id = ?2 OR json_extract(state, '$.f.supervisor') = ?2) LIMIT 1",
    [ST_HISTORY_PUT] = "INSERT INTO history(type, id, device, author, hlc, change, at) "
                       "VALUES(?1,?2,?3,?4,?5,?6,?7)",
    [ST_HISTORY_LIST] = "SELECT h.type, h.device, h.author, h.hlc, h.change, h.at, "
                        "(SELECT json_extract(o.state, '$.f.timezone') FROM records r "
                        " JOIN records o ON o.type = 'office' AND o.id = r.office "
                        " WHERE r.type = h.type AND r.id = h.id) "
                        "FROM history h WHERE h.id = ?1 ORDER BY h.n",
    [ST_DIGEST] = "SELECT type, id, office, deleted, state FROM records ORDER BY type, id",
    [ST_IMPORT_GET] = "SELECT at, file FROM imports WHERE digest = ?1",
    [ST_IMPORT_PUT] = "INSERT OR REPLACE INTO imports(digest, type, file, rows, at) "
                      "VALUES(?1,?2,?3,?4,?5)",
    [ST_APPLIED_HIGH] = "SELECT COALESCE(MAX(seq), 0) FROM applied WHERE device = ?1 AND inc = ?2",
    [ST_EPOCH_CUR] = "SELECT epoch FROM epochs ORDER BY n DESC LIMIT 1",
    /* the roster of proto/rules.h: a live employee's office and supervisor */
    [ST_EMPLOYEE] = "SELECT office, json_extract(state, '$.f.supervisor') FROM records "
                    "WHERE type = 'employee' AND id = ?1 AND deleted = 0",
    [ST_HAS_EMPLOYEES] = "SELECT 1 FROM records WHERE type = 'employee' AND deleted = 0 LIMIT 1",
    /* another live rating of (period, rater, ratee): index records_rating */
    [ST_RATING_OTHER] = "SELECT id FROM records WHERE type = 'rating' AND deleted = 0 "
                        "AND json_extract(state, '$.f.ratee') = ?3 "
                        "AND json_extract(state, '$.f.period') = ?1 "
                        "AND json_extract(state, '$.f.rater') = ?2 AND id <> ?4 LIMIT 1",
    [ST_OFFICE_ZONE] = "SELECT json_extract(state, '$.f.timezone') FROM records "
                       "WHERE type = 'office' AND id = ?1 AND deleted = 0",
    /* the savepoint of one item of kjs_txn_apply, prepared once: parsing
     * them at every item cost more than the item's own inserts */
    [ST_SP_BEGIN] = "SAVEPOINT item",
    [ST_SP_RELEASE] = "RELEASE item",
    [ST_SP_ROLLBACK] = "ROLLBACK TO item",
};

/* The type names of protocol 1 by their old stored numbers; an unknown
 * number gives NULL, which the NOT NULL column refuses (the migration
 * fails whole instead of guessing). */
#define TYPE_NAME_V1(col)                                                                          \
  "CASE " col " WHEN 0 THEN 'office' WHEN 1 THEN 'employee' WHEN 2 THEN 'indicator' "              \
  "WHEN 3 THEN 'survey' WHEN 4 THEN 'activity' WHEN 5 THEN 'complaint' WHEN 6 THEN 'rating' "      \
  "WHEN 7 THEN 'target' END"

/* Migrations: migration i brings user_version from i to i + 1. */
static const char *const migrations[] = {
    "CREATE TABLE records(type INTEGER NOT NULL, id TEXT NOT NULL, office TEXT,"
    " deleted INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY(type,id));"
    "CREATE UNIQUE INDEX records_seq ON records(seq);"
    "CREATE INDEX records_office ON records(office, seq);"
    "CREATE TABLE tokens(hash BLOB PRIMARY KEY, id TEXT NOT NULL UNIQUE, role TEXT NOT NULL,"
    " office TEXT, name TEXT, created INTEGER NOT NULL, revoked INTEGER);"
    "CREATE TABLE applied(device TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,"
    " error TEXT, PRIMARY KEY(device, seq)) WITHOUT ROWID;"
    "CREATE TABLE conflicts(n INTEGER PRIMARY KEY, type INTEGER NOT NULL, id TEXT NOT NULL,"
    " field TEXT NOT NULL, loser TEXT, loser_stamp TEXT, winner TEXT, winner_stamp TEXT,"
    " at INTEGER NOT NULL);",
    /* 2: offices a record was moved away from */
    ("CREATE TABLE moved(office TEXT NOT NULL, type INTEGER NOT NULL, id TEXT NOT NULL,"
     " PRIMARY KEY(office, type, id)) WITHOUT ROWID;"),
    /* 3: origin = the device that wrote every stamp of the record, with the
     * stamps it sent; that device already holds this state and does not pull
     * it back */
    "ALTER TABLE records ADD COLUMN origin TEXT;",
    /* 4: a record type is stored by its name (proto/record.c kj_type_def.name),
     * never by its position in the C table (docs/protocol.md "Versions").
     * The numbers are the table order of protocol 1, frozen in TYPE_NAME_V1. */
    // clang-format off
    "CREATE TABLE records4(type TEXT NOT NULL, id TEXT NOT NULL, office TEXT,"
    " deleted INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, seq INTEGER NOT NULL,"
    " origin TEXT, PRIMARY KEY(type,id));"
    "INSERT INTO records4 SELECT " TYPE_NAME_V1("type") ", id, office, deleted, state, seq,"
    " origin FROM records;"
    "DROP TABLE records; ALTER TABLE records4 RENAME TO records;"
    "CREATE UNIQUE INDEX records_seq ON records(seq);"
    "CREATE INDEX records_office ON records(office, seq);"
    "CREATE TABLE conflicts4(n INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL,"
    " field TEXT NOT NULL, loser TEXT, loser_stamp TEXT, winner TEXT, winner_stamp TEXT,"
    " at INTEGER NOT NULL);"
    "INSERT INTO conflicts4 SELECT n, " TYPE_NAME_V1("type") ", id, field, loser,"
    " loser_stamp, winner, winner_stamp, at FROM conflicts;"
    "DROP TABLE conflicts; ALTER TABLE conflicts4 RENAME TO conflicts;"
    "CREATE TABLE moved4(office TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,"
    " PRIMARY KEY(office, type, id)) WITHOUT ROWID;"
    "INSERT INTO moved4 SELECT office, " TYPE_NAME_V1("type") ", id FROM moved;"
    "DROP TABLE moved; ALTER TABLE moved4 RENAME TO moved;",
    // clang-format on
    /* 5: the conflict log keeps only valid values (a note says why one was
     * not kept) and a bounded number of rows per record */
    "ALTER TABLE conflicts ADD COLUMN loser_note TEXT;"
    "ALTER TABLE conflicts ADD COLUMN winner_note TEXT;"
    "CREATE INDEX conflicts_record ON conflicts(type, id, n);",
    /* 6: who changed what and when: one row per applied change, with its
     * author (domain "Who may write what"; `kinerjad history ID`) */
    "CREATE TABLE history(n INTEGER PRIMARY KEY, type TEXT NOT NULL, id TEXT NOT NULL,"
    " device TEXT NOT NULL, author TEXT NOT NULL, hlc INTEGER NOT NULL, change TEXT NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE INDEX history_record ON history(id, n);",
    /* 7: the CSV files imported (`kinerjad import`), by the digest of their
     * rows (proto/csvio.h kj_csv_info.digest): the same rows again add
     * nothing unless --again (domain.md "CSV files"); at = ms since the epoch */
    "CREATE TABLE imports(digest TEXT PRIMARY KEY, type TEXT NOT NULL, file TEXT NOT NULL,"
    " rows INTEGER NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;",
    /* 8: the server's clock: the highest stamp stored, kept so that the
     * server never stamps below it (seeded from the records by clock_seed);
     * a moved notice has its position in the change sequence: the office a
     * record left gets it once, on pull (docs/protocol.md "Moved records").
     * Notices of older releases get new positions after every record. */
    "CREATE TABLE clock(id INTEGER PRIMARY KEY CHECK (id = 1), hlc INTEGER NOT NULL);"
    "CREATE TABLE moved8(office TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,"
    " seq INTEGER NOT NULL, PRIMARY KEY(office, type, id)) WITHOUT ROWID;"
    "INSERT INTO moved8 SELECT office, type, id, (SELECT COALESCE(MAX(seq), 0) FROM records)"
    " + ROW_NUMBER() OVER (ORDER BY office, type, id) FROM moved;"
    "DROP TABLE moved; ALTER TABLE moved8 RENAME TO moved;"
    "CREATE INDEX moved_office ON moved(office, seq);"
    "CREATE INDEX moved_seq ON moved(seq);",
    /* 9: restores (docs/protocol.md "Restores"): an applied row belongs to
     * an incarnation of the device's database and keeps the digest of the
     * change, so that another change under the same seq is never answered
     * as a resend; epochs: the lineage of this database, a new one at
     * every restore (base: its highest position then) */
    "CREATE TABLE applied9(device TEXT NOT NULL, inc TEXT NOT NULL DEFAULT '',"
    " seq INTEGER NOT NULL, status TEXT NOT NULL, error TEXT, digest BLOB,"
    " PRIMARY KEY(device, inc, seq)) WITHOUT ROWID;"
    "INSERT INTO applied9(device, inc, seq, status, error)"
    " SELECT device, '', seq, status, error FROM applied;"
    "DROP TABLE applied; ALTER TABLE applied9 RENAME TO applied;"
    "CREATE TABLE epochs(n INTEGER PRIMARY KEY, epoch TEXT NOT NULL UNIQUE, parent TEXT,"
    " base INTEGER NOT NULL, at INTEGER NOT NULL, how TEXT NOT NULL);"
    "INSERT INTO epochs(epoch, parent, base, at, how) VALUES(lower(hex(randomblob(8))), NULL,"
    " (SELECT MAX(COALESCE((SELECT MAX(seq) FROM records), 0),"
    "  COALESCE((SELECT MAX(seq) FROM moved), 0))), CAST(strftime('%s','now') AS INTEGER) * 1000,"
    " 'first');",
    /* 10: people of the BKD dashboard (`kinerjad user`; the password as an
     * Argon2id hash, common/passhash.h), enrolment codes of devices (only
     * the SHA-256 of the code's secret; the device token sealed with a key
     * derived from the secret, cleared when used; docs/protocol.md
     * "Enrolment") and when each token was last used */
    "CREATE TABLE users(name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL,"
    " created INTEGER NOT NULL, last_login INTEGER) WITHOUT ROWID;"
    "CREATE TABLE enrol_codes(hash BLOB PRIMARY KEY, device TEXT NOT NULL, sealed BLOB,"
    " created INTEGER NOT NULL, expires INTEGER NOT NULL, used INTEGER, used_by TEXT);"
    "CREATE INDEX enrol_codes_device ON enrol_codes(device, created);"
    "ALTER TABLE tokens ADD COLUMN last_seen INTEGER;",
    /* 11: one live rating per (period, rater, ratee) (domain.md "Who may
     * write what"): kjs_txn_apply looks the triple up by this index */
    "CREATE INDEX IF NOT EXISTS records_rating ON records(json_extract(state, '$.f.ratee'),"
    " json_extract(state, '$.f.period')) WHERE type = 'rating';",
    /* 12: what each device's PC last reported at its pull (docs/protocol.md
     * "What the PC reports"): kinerja's version, its pending changes and
     * rejected records; at = ms since the epoch */
    "CREATE TABLE IF NOT EXISTS device_reports(device TEXT PRIMARY KEY, version TEXT NOT NULL,"
    " pending INTEGER NOT NULL, rejected INTEGER NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

typedef struct conn {
  sqlite3 *db;
  sqlite3_stmt *st[ST__COUNT];
  struct conn *next;
} conn;

struct kjs_store {
  char *path;
  pthread_mutex_t mu; /* pool */
  pthread_cond_t cv;
  conn *free_list;
  int nconns;
  pthread_mutex_t wmu; /* one writer of this process at a time */
  kjs_score_config scfg;
  _Atomic long long applied, duplicate, rejected, replayed, conflicts, commits, retry;
  /* restores */
  int mark_fd;                        /* KJS_MARK_SUFFIX, shared flock; -1 */
  pthread_mutex_t emu;                /* epoch */
  char epoch[KJ_INCARNATION_MAX + 1]; /* current */
  kjs_open_info info;                 /* what the open found */
};

static kj_code restore_check(kjs_store *s, conn *c, int forced, kj_err *err);
static void mark_write(kjs_store *s, int64_t seq);
static kj_code journal_append(kjs_store *s, cJSON *line, kj_err *err);

static kj_code db_fail(sqlite3 *db, kj_err *err, const char *what) {
  int ec = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
  const char *msg = db ? sqlite3_errmsg(db) : "no database";
  kj_code code = KJ_EDB;
  if ((ec & 0xff) == SQLITE_FULL)
    code = KJ_EFULL;
  else if ((ec & 0xff) == SQLITE_BUSY || (ec & 0xff) == SQLITE_LOCKED)
    code = KJ_EBUSY;
  else if ((ec & 0xff) == SQLITE_NOMEM)
    code = KJ_ENOMEM;
  return kj_fail(err, code, "%s: %s", what, msg);
}

static sqlite3_stmt *stmt(conn *c, int which, kj_err *err) {
  if (!c->st[which]) {
    if (sqlite3_prepare_v3(c->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &c->st[which],
                           NULL) != SQLITE_OK) {
      db_fail(c->db, err, "cannot prepare statement");
      return NULL;
    }
  }
  return c->st[which];
}

static void done(sqlite3_stmt *st) {
  if (st) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
}

static kj_code exec(conn *c, const char *sql, kj_err *err) {
  char *msg = NULL;
  if (!c)
    return kj_fail(err, KJ_EDB, "no database connection");
  if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    kj_code rc = db_fail(c->db, err, "database");
    if (msg && err)
      kj_fail(err, rc, "database: %s", msg);
    sqlite3_free(msg);
    return rc;
  }
  return KJ_OK;
}

static void conn_close(conn *c) {
  if (!c)
    return;
  for (int i = 0; i < ST__COUNT; i++)
    sqlite3_finalize(c->st[i]);
  sqlite3_close(c->db);
  free(c);
}

static kj_code conn_open(const char *path, int create, conn **out, kj_err *err) {
  conn *c = calloc(1, sizeof *c);
  if (!c)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
  if (rc != SQLITE_OK) {
    kj_code code = (rc == SQLITE_CANTOPEN && !create) ? KJ_ENOENT : KJ_EDB;
    kj_fail(err, code, "cannot open '%s': %s", path,
            c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    conn_close(c);
    return code;
  }
  sqlite3_busy_timeout(c->db, KJS_BUSY_MS);
  kj_code k =
      exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", err);
  if (k) {
    if ((sqlite3_extended_errcode(c->db) & 0xff) == SQLITE_NOTADB)
      kj_fail(err, KJ_EDB, "'%s' is not a kinerjad database", path);
    conn_close(c);
    return k;
  }
  *out = c;
  return KJ_OK;
}

/* The first column of the first row of sql into *out: KJ_OK, or KJ_EDB (no
 * message: the caller says what it read) without a row. */
static kj_code pragma_int(conn *c, const char *sql, long long *out) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
    return KJ_EDB;
  int ok = sqlite3_step(st) == SQLITE_ROW;
  if (ok)
    *out = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return ok ? KJ_OK : KJ_EDB;
}

/* The highest stamp of a record state (fields, unknown fields, delete). */
static kj_hlc state_max_hlc(const kj_rstate *s) {
  kj_hlc m = s->del.hlc;
  for (int i = 0; i < KJ_MAX_FIELDS; i++)
    if (s->st[i].hlc > m)
      m = s->st[i].hlc;
  for (int i = 0; i < s->nx; i++)
    if (s->x[i].st.hlc > m)
      m = s->x[i].st.hlc;
  return m;
}

/* Inside the migration's transaction: when the clock table has no row
 * (a database of an older release, or a new one), store the highest stamp
 * of every record: the server's clock starts after everything stored. */
static kj_code clock_seed(conn *c, kj_err *err) {
  long long rows = 0;
  if (pragma_int(c, "SELECT count(*) FROM clock", &rows))
    return db_fail(c->db, err, "cannot read the server's clock");
  if (rows)
    return KJ_OK;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(c->db, "SELECT id, state FROM records", -1, &st, NULL) != SQLITE_OK)
    return db_fail(c->db, err, "cannot read the records");
  kj_hlc max = 0;
  kj_code rc = KJ_OK;
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    cJSON *o = cJSON_Parse((const char *)sqlite3_column_text(st, 1));
    kj_rstate rs;
    kj_err e;
    kj_err_clear(&e);
    kj_code d = o ? kj_rstate_from_json(o, &rs, &e) : KJ_EPROTO;
    cJSON_Delete(o);
    if (d == KJ_OK) {
      kj_hlc h = state_max_hlc(&rs);
      if (h > max)
        max = h;
      kj_rstate_release(&rs);
    } else if (d != KJ_EVERSION) {
      rc = kj_fail(err, KJ_EDB, "stored state of '%s' is corrupt: %s",
                   (const char *)sqlite3_column_text(st, 0), o ? e.msg : "bad JSON");
      break;
    }
  }
  if (!rc && r != SQLITE_DONE && r != SQLITE_ROW)
    rc = db_fail(c->db, err, "cannot read the records");
  sqlite3_finalize(st);
  if (rc)
    return rc;
  char sql[96];
  snprintf(sql, sizeof sql, "INSERT INTO clock(id, hlc) VALUES(1, %lld)", (long long)max);
  return exec(c, sql, err);
}

static kj_code migrate(conn *c, kj_err *err) {
  kj_code rc = exec(c, "BEGIN IMMEDIATE", err);
  if (rc)
    return rc;
  long long ver = 0, appid = 0, ntables = 0;
  if (pragma_int(c, "PRAGMA user_version", &ver) ||
      pragma_int(c, "PRAGMA application_id", &appid) ||
      pragma_int(c, "SELECT count(*) FROM sqlite_master", &ntables)) {
    rc = db_fail(c->db, err, "cannot read the schema version");
    goto fail;
  }
  if (appid != KJS_APP_ID && (appid != 0 || ntables != 0)) {
    rc = kj_fail(err, KJ_EDB, "not a kinerjad database");
    goto fail;
  }
  if (ver > NMIGRATIONS) {
    rc = kj_fail(err, KJ_EVERSION,
                 "database schema version %lld is newer than this kinerjad (%d): upgrade kinerjad",
                 ver, NMIGRATIONS);
    goto fail;
  }
  for (int v = (int)ver; v < NMIGRATIONS; v++) {
    if ((rc = exec(c, migrations[v], err)))
      goto fail;
    if (v == 0 && kjs_score_sqlite_schema(c->db, err) != 0) {
      rc = KJ_EDB;
      goto fail;
    }
    char sql[80];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d; PRAGMA application_id=%d", v + 1,
             KJS_APP_ID);
    if ((rc = exec(c, sql, err)))
      goto fail;
  }
  /* the score tables' own layout: upgraded in place (docs/scoring.md) */
  if (kjs_score_sqlite_schema(c->db, err) != 0) {
    rc = err && err->code ? err->code : KJ_EDB;
    goto fail;
  }
  if ((rc = clock_seed(c, err)))
    goto fail;
  rc = exec(c, "COMMIT", err);
  if (!rc && ver < NMIGRATIONS && ver > 0)
    KJ_INFO("database upgraded from schema %lld to %d", ver, NMIGRATIONS);
  return rc;
fail:
  exec(c, "ROLLBACK", NULL);
  return rc;
}

static conn *acquire(kjs_store *s, kj_err *err) {
  pthread_mutex_lock(&s->mu);
  while (!s->free_list && s->nconns >= KJS_POOL_MAX)
    pthread_cond_wait(&s->cv, &s->mu);
  conn *c = s->free_list;
  if (c) {
    s->free_list = c->next;
    pthread_mutex_unlock(&s->mu);
    return c;
  }
  s->nconns++;
  pthread_mutex_unlock(&s->mu);
  if (conn_open(s->path, 0, &c, err) != KJ_OK) {
    pthread_mutex_lock(&s->mu);
    s->nconns--;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
  }
  return c;
}

static void release(kjs_store *s, conn *c) {
  if (!c)
    return;
  /* A COMMIT or ROLLBACK that failed (out of memory) must not leave the
   * next user of this connection inside the old transaction: roll back, or
   * close the connection (the pool opens a new one). */
  if (!sqlite3_get_autocommit(c->db) &&
      (exec(c, "ROLLBACK", NULL) || !sqlite3_get_autocommit(c->db))) {
    conn_close(c);
    pthread_mutex_lock(&s->mu);
    s->nconns--;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return;
  }
  pthread_mutex_lock(&s->mu);
  c->next = s->free_list;
  s->free_list = c;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static kj_code open_impl(kjs_store **out, const char *path, const kjs_config *cfg, int create,
                         int forced, kj_err *err) {
  *out = NULL;
  kjs_store *s = calloc(1, sizeof *s);
  if (!s || !(s->path = strdup(path))) {
    free(s);
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  s->mark_fd = -1;
  pthread_mutex_init(&s->emu, NULL);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  pthread_mutex_init(&s->wmu, NULL);
  kjs_score_config_defaults(&s->scfg);
  kj_code rc = KJ_OK;
  if (cfg) {
    for (int i = 0; i < cfg->nscore; i++) {
      kj_err e;
      kj_err_clear(&e);
      if (kjs_score_config_set(&s->scfg, cfg->score_keys[i], cfg->score_values[i], &e) != 0) {
        rc = kj_fail(err, KJ_EINVAL, "%s: %s", cfg->conf_file, e.msg[0] ? e.msg : "bad score key");
        kjs_store_close(s);
        return rc;
      }
    }
  }
  conn *c = NULL;
  if ((rc = conn_open(path, create, &c, err)) || !c) {
    rc = rc ? rc : KJ_EDB;
    if (rc == KJ_ENOENT)
      kj_fail(err, KJ_ENOENT, "no database at '%s': run 'kinerjad init' first", path);
    kjs_store_close(s);
    return rc;
  }
  s->nconns = 1;
  if ((rc = migrate(c, err)) || (rc = restore_check(s, c, forced, err))) {
    conn_close(c);
    s->nconns = 0;
    kjs_store_close(s);
    return rc;
  }
  release(s, c);
  *out = s;
  return KJ_OK;
}

kj_code kjs_store_open(kjs_store **out, const char *path, const kjs_config *cfg, int create,
                       kj_err *err) {
  return open_impl(out, path, cfg, create, 0, err);
}

void kjs_store_close(kjs_store *s) {
  if (!s)
    return;
  conn *c = s->free_list;
  while (c) {
    conn *n = c->next;
    conn_close(c);
    c = n;
  }
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->wmu);
  pthread_mutex_destroy(&s->emu);
  if (s->mark_fd >= 0)
    close(s->mark_fd);
  kjs_score_config_release(&s->scfg);
  free(s->path);
  free(s);
}

/* ---------------------------------------------------------------------- */
/* tokens */

static const char *const role_names[] = {"admin", "viewer", "device"};

const char *kjs_role_name(kjs_role r) {
  return (unsigned)r < 3 ? role_names[r] : "?";
}

kj_code kjs_role_parse(const char *s, kjs_role *out) {
  for (int i = 0; s && i < 3; i++)
    if (!strcmp(s, role_names[i])) {
      *out = (kjs_role)i;
      return KJ_OK;
    }
  return KJ_EINVAL;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v) {
  if (v && *v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

kj_code kjs_store_token_add(kjs_store *s, kjs_role role, const char *id, const char *office,
                            const char *name, const unsigned char hash[32], kj_err *err) {
  conn *c = acquire(s, err);
  if (!c)
    return err ? err->code : KJ_EDB;
  kj_code rc = KJ_OK;
  sqlite3_stmt *st = stmt(c, ST_TOKEN_ADD, err);
  if (!st) {
    rc = KJ_EDB;
    goto out;
  }
  sqlite3_bind_blob(st, 1, hash, 32, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, kjs_role_name(role), -1, SQLITE_STATIC);
  bind_text_or_null(st, 4, office);
  bind_text_or_null(st, 5, name);
  sqlite3_bind_int64(st, 6, (sqlite3_int64)kj_wall_ms());
  int r = sqlite3_step(st);
  if (r != SQLITE_DONE) {
    if ((sqlite3_extended_errcode(c->db) & 0xff) == SQLITE_CONSTRAINT)
      rc = kj_fail(err, KJ_EEXIST, "token id '%s' already exists", id);
    else
      rc = db_fail(c->db, err, "cannot add token");
  } else {
    /* kept where a restore of the database cannot lose it */
    char hx[65];
    for (size_t i = 0; i < 32; i++)
      snprintf(hx + 2 * i, 3, "%02x", hash[i]);
    cJSON *j = cJSON_CreateObject();
    if (j) {
      cJSON_AddStringToObject(j, "op", "add");
      cJSON_AddStringToObject(j, "hash", hx);
      cJSON_AddStringToObject(j, "id", id);
      cJSON_AddStringToObject(j, "role", kjs_role_name(role));
      if (office && *office)
        cJSON_AddStringToObject(j, "office", office);
      if (name && *name)
        cJSON_AddStringToObject(j, "name", name);
      cJSON_AddNumberToObject(j, "at", (double)kj_wall_ms());
    }
    kj_err je;
    kj_err_clear(&je);
    if (journal_append(s, j, &je))
      KJ_WARN("token '%s' added, but not to the token journal: %s", id, je.msg);
  }
out:
  done(st);
  release(s, c);
  return rc;
}

/* Note that a live token was used now (`kinerjad token list`'s last seen):
 * written at most once a minute per token, so a busy device costs one small
 * write a minute; a failure (the database busy) only leaves it older. */
#define TOKEN_SEEN_EVERY_MS 60000
static void token_seen(conn *c, const unsigned char hash[32], int64_t seen) {
  int64_t now = (int64_t)kj_wall_ms();
  if (seen && now - seen < TOKEN_SEEN_EVERY_MS && now >= seen)
    return;
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(c->db, "UPDATE tokens SET last_seen = ?2 WHERE hash = ?1", -1, &st,
                         NULL) != SQLITE_OK)
    return;
  sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
  if (sqlite3_step(st) != SQLITE_DONE)
    KJ_DEBUG("cannot note a token's last use: %s", sqlite3_errmsg(c->db));
  sqlite3_finalize(st);
}

kj_code kjs_store_token_lookup(kjs_store *s, const unsigned char hash[32], kjs_principal *who,
                               kjs_token_state *state, kj_err *err) {
  *state = KJS_TOKEN_UNKNOWN;
  int64_t seen = 0;
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  kj_code rc = KJ_OK;
  sqlite3_stmt *st = stmt(c, ST_TOKEN_LOOKUP, err);
  if (!st) {
    rc = err && err->code ? err->code : KJ_EDB;
    goto out;
  }
  sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    const unsigned char *h = sqlite3_column_blob(st, 0);
    int hl = sqlite3_column_bytes(st, 0);
    unsigned diff = hl == 32 ? 0 : 1;
    for (int i = 0; i < 32 && hl == 32; i++)
      diff |= (unsigned)(h[i] ^ hash[i]); /* constant time */
    kjs_role role;
    int known = kjs_role_parse((const char *)sqlite3_column_text(st, 2), &role) == KJ_OK;
    if (!diff && known && sqlite3_column_int(st, 4)) {
      *state = KJS_TOKEN_REVOKED;
    } else if (!diff && known) {
      memset(who, 0, sizeof *who);
      who->role = role;
      snprintf(who->id, sizeof who->id, "%s", (const char *)sqlite3_column_text(st, 1));
      const unsigned char *o = sqlite3_column_text(st, 3);
      snprintf(who->office, sizeof who->office, "%s", o ? (const char *)o : "");
      *state = KJS_TOKEN_LIVE;
      seen = sqlite3_column_int64(st, 5);
    }
  } else if (r != SQLITE_DONE) {
    rc = db_fail(c->db, err, "cannot look up token");
  }
out:
  done(st);
  if (*state == KJS_TOKEN_LIVE)
    token_seen(c, hash, seen);
  release(s, c);
  return rc;
}

kj_code kjs_store_token_revoke(kjs_store *s, const char *id, kj_err *err) {
  conn *c = acquire(s, err);
  if (!c)
    return err ? err->code : KJ_EDB;
  kj_code rc = KJ_OK;
  sqlite3_stmt *st = stmt(c, ST_TOKEN_REVOKE, err);
  sqlite3_stmt *ex = stmt(c, ST_TOKEN_EXISTS, err);
  if (!st || !ex) {
    rc = KJ_EDB;
    goto out;
  }
  int64_t at = (int64_t)kj_wall_ms();
  sqlite3_bind_text(ex, 1, id, -1, SQLITE_TRANSIENT);
  int known = sqlite3_step(ex) == SQLITE_ROW;
  sqlite3_reset(ex);
  if (known) {
    /* first where a restore of the database cannot undo it */
    cJSON *j = cJSON_CreateObject();
    if (j) {
      cJSON_AddStringToObject(j, "op", "revoke");
      cJSON_AddStringToObject(j, "id", id);
      cJSON_AddNumberToObject(j, "at", (double)at);
    }
    if ((rc = journal_append(s, j, err)))
      goto out;
  }
  sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)at);
  if (sqlite3_step(st) != SQLITE_DONE) {
    rc = db_fail(c->db, err, "cannot revoke");
    goto out;
  }
  if (sqlite3_changes(c->db) == 0) {
    if (known)
      rc = kj_fail(err, KJ_EEXIST, "'%s' is already revoked", id);
    else
      rc = kj_fail(err, KJ_ENOENT, "no device or token '%s'", id);
  }
out:
  done(st);
  done(ex);
  release(s, c);
  return rc;
}

static void json_add_text_or_null(cJSON *o, const char *k, const unsigned char *v) {
  if (v)
    cJSON_AddStringToObject(o, k, (const char *)v);
  else
    cJSON_AddNullToObject(o, k);
}

kj_code kjs_store_token_list(kjs_store *s, int devices_only, cJSON **out, kj_err *err) {
  *out = NULL;
  conn *c = acquire(s, err);
  if (!c)
    return err ? err->code : KJ_EDB;
  kj_code rc = KJ_OK;
  cJSON *arr = cJSON_CreateArray();
  sqlite3_stmt *st = stmt(c, ST_TOKEN_LIST, err);
  if (!st || !arr) {
    rc = st ? kj_fail(err, KJ_ENOMEM, "out of memory") : KJ_EDB;
    goto out;
  }
  sqlite3_bind_int(st, 1, devices_only ? 1 : 0);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)kj_wall_ms());
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(arr, o);
    json_add_text_or_null(o, "id", sqlite3_column_text(st, 0));
    json_add_text_or_null(o, "role", sqlite3_column_text(st, 1));
    json_add_text_or_null(o, "office", sqlite3_column_text(st, 2));
    json_add_text_or_null(o, "name", sqlite3_column_text(st, 3));
    cJSON_AddNumberToObject(o, "created", (double)sqlite3_column_int64(st, 4));
    if (sqlite3_column_type(st, 5) == SQLITE_NULL)
      cJSON_AddNullToObject(o, "revoked");
    else
      cJSON_AddNumberToObject(o, "revoked", (double)sqlite3_column_int64(st, 5));
    if (sqlite3_column_type(st, 6) == SQLITE_NULL)
      cJSON_AddNullToObject(o, "last_seen");
    else
      cJSON_AddNumberToObject(o, "last_seen", (double)sqlite3_column_int64(st, 6));
    json_add_text_or_null(o, "enrolment", sqlite3_column_text(st, 7));
  }
  if (r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot list tokens");
out:
  done(st);
  release(s, c);
  if (rc)
    cJSON_Delete(arr);
  else
    *out = arr;
  return rc;
}

/* ---------------------------------------------------------------------- */
/* the merge transaction */

static const char *const status_names[] = {"applied", "duplicate", "rejected",
                                           "retry",   "reused",    "missing"};

const char *kjs_status_name(kjs_status st) {
  return (unsigned)st < 6 ? status_names[st] : "?";
}

/* A stored status (applied, duplicate, rejected) into *out: KJ_OK, or
 * KJ_EINVAL when s names none of them. */
static kj_code status_parse(const char *s, kjs_status *out) {
  for (int i = 0; s && i < 3; i++)
    if (!strcmp(s, status_names[i])) {
      *out = (kjs_status)i;
      return KJ_OK;
    }
  return KJ_EINVAL;
}

typedef struct saved_conflict {
  char *field, *loser, *winner;
  char *loser_note, *winner_note; /* why the value is not kept, NULL when it is */
  char loser_st[KJ_HLC_STRMAX + KJ_DEVICE_MAX + 2];
  char winner_st[KJ_HLC_STRMAX + KJ_DEVICE_MAX + 2];
} saved_conflict;

struct kjs_txn {
  kjs_store *s;
  conn *c;
  int64_t seq;  /* last seq given */
  int64_t seq0; /* the highest seq at begin */
  saved_conflict *cf;
  int ncf, capcf, cf_oom;
  kj_rtype cf_type; /* the type of the record being merged */
  long long applied, duplicate, rejected, replayed, conflicts, retry;
  kj_hlc clock, clock_saved; /* the server's clock: highest stamp stored or issued */
  kj_buf json;               /* the JSON text of the item being stored (state, history), reused */
  /* what check_rules read of the roster in this transaction, until the
   * transaction writes an employee or an office record: has_employees -1
   * unknown, else 0/1; the zone of one office, zone_office "" unknown */
  int has_employees;
  char zone_office[KJ_ID_MAX + 1];
  char zone[KJ_ZONE_MAX + 1];
};

static void saved_free(saved_conflict *sc) {
  free(sc->field);
  free(sc->loser);
  free(sc->winner);
  free(sc->loser_note);
  free(sc->winner_note);
}

static void conflicts_clear(kjs_txn *t) {
  for (int i = 0; i < t->ncf; i++)
    saved_free(&t->cf[i]);
  t->ncf = 0;
  t->cf_oom = 0;
}

/* The conflict log keeps a value only when it is valid for its field (the
 * record's own rule, kj_field_validate: length, UTF-8, no control
 * characters...).  Otherwise the value is NULL and *note says why:
 * "not kept: field 'comment': must be 1 to 2000 characters (158000 bytes)".
 * f NULL (a field the type does not have): never kept.  Returns KJ_OK, or
 * KJ_ENOMEM (nothing allocated, no message). */
static kj_code conflict_value(const kj_field_def *f, const char *v, char **value, char **note) {
  *value = *note = NULL;
  if (!v)
    return KJ_OK;
  kj_err e;
  kj_err_clear(&e);
  if (f && kj_field_validate(f, v, &e) == KJ_OK)
    return (*value = strdup(v)) ? KJ_OK : KJ_ENOMEM;
  char buf[KJ_ERR_MSG_MAX + 64];
  snprintf(buf, sizeof buf, "not kept: %s (%zu bytes)", f ? e.msg : "unknown field", strlen(v));
  return (*note = strdup(buf)) ? KJ_OK : KJ_ENOMEM;
}

static void on_conflict(const kj_conflict *k, void *ud) {
  kjs_txn *t = ud;
  if (t->ncf == t->capcf) {
    int cap = t->capcf ? 2 * t->capcf : 8;
    saved_conflict *n = realloc(t->cf, (size_t)cap * sizeof *n);
    if (!n) {
      t->cf_oom = 1;
      return;
    }
    t->cf = n;
    t->capcf = cap;
  }
  saved_conflict *sc = &t->cf[t->ncf];
  memset(sc, 0, sizeof *sc);
  const kj_type_def *td = kj_type(t->cf_type);
  int fi = td ? kj_field_index(td, k->field) : -1;
  const kj_field_def *f = fi >= 0 ? &td->fields[fi] : NULL;
  sc->field = strdup(k->field ? k->field : "");
  if (!sc->field || conflict_value(f, k->loser, &sc->loser, &sc->loser_note) ||
      conflict_value(f, k->winner, &sc->winner, &sc->winner_note)) {
    saved_free(sc);
    t->cf_oom = 1;
    return;
  }
  kj_stamp_format(k->loser_st, sc->loser_st, sizeof sc->loser_st);
  kj_stamp_format(k->winner_st, sc->winner_st, sizeof sc->winner_st);
  t->ncf++;
}

/* The server's clock as stored (clock table), into t->clock. */
static kj_code clock_load(kjs_txn *t, kj_err *err) {
  sqlite3_stmt *st = stmt(t->c, ST_CLOCK_GET, err);
  if (!st)
    return KJ_EDB;
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW)
    t->clock = t->clock_saved = (kj_hlc)sqlite3_column_int64(st, 0);
  else if (r != SQLITE_DONE)
    rc = db_fail(t->c->db, err, "cannot read the server's clock");
  done(st);
  return rc;
}

/* Store the server's clock when the transaction moved it. */
static kj_code clock_save(kjs_txn *t, kj_err *err) {
  if (t->clock == t->clock_saved)
    return KJ_OK;
  sqlite3_stmt *st = stmt(t->c, ST_CLOCK_PUT, err);
  if (!st)
    return KJ_EDB;
  sqlite3_bind_int64(st, 1, (sqlite3_int64)t->clock);
  int r = sqlite3_step(st);
  done(st);
  return r == SQLITE_DONE ? KJ_OK : db_fail(t->c->db, err, "cannot store the server's clock");
}

kj_code kjs_txn_stamp(kjs_txn *t, uint64_t wall_ms, long long ahead_max_ms, kj_hlc *out,
                      kj_err *err) {
  kj_hlc_clock clk;
  kj_hlc_init(&clk, t->clock, 0);
  kj_hlc h = kj_hlc_tick(&clk, wall_ms);
  if (KJ_HLC_MS(h) > wall_ms + (uint64_t)ahead_max_ms) {
    char ahead[48];
    kjs_describe_ms(KJ_HLC_MS(h) - wall_ms, ahead, sizeof ahead);
    return kj_fail(err, KJ_EINVAL,
                   "the newest stamp stored is %s ahead of this server's clock (more than "
                   "clock_ahead_max): is the server's clock right?",
                   ahead);
  }
  *out = t->clock = h;
  return KJ_OK;
}

void kjs_describe_ms(uint64_t ms, char *out, size_t size) {
  uint64_t s = ms / 1000;
  if (s >= 2 * 86400ULL)
    snprintf(out, size, "%llu days", (unsigned long long)(s / 86400));
  else if (s >= 2 * 3600ULL)
    snprintf(out, size, "%llu hours", (unsigned long long)(s / 3600));
  else if (s >= 2 * 60ULL)
    snprintf(out, size, "%llu minutes", (unsigned long long)(s / 60));
  else
    snprintf(out, size, "%llu seconds", (unsigned long long)s);
}

kj_code kjs_txn_begin(kjs_store *s, kjs_txn **out, kj_err *err) {
  *out = NULL;
  kjs_txn *t = calloc(1, sizeof *t);
  if (!t)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  t->s = s;
  kj_buf_init(&t->json, KJ_BUF_UNLIMITED);
  t->has_employees = -1;
  pthread_mutex_lock(&s->wmu);
  t->c = acquire(s, err);
  kj_code rc = KJ_OK;
  if (!t->c) {
    rc = err && err->code ? err->code : KJ_EDB;
    goto fail;
  }
  if ((rc = exec(t->c, "BEGIN IMMEDIATE", err)))
    goto fail;
  sqlite3_stmt *st = stmt(t->c, ST_MAXSEQ, err);
  if (!st || sqlite3_step(st) != SQLITE_ROW) {
    rc = st ? db_fail(t->c->db, err, "cannot read the change sequence") : KJ_EDB;
    done(st);
    exec(t->c, "ROLLBACK", NULL);
    goto fail;
  }
  t->seq = t->seq0 = sqlite3_column_int64(st, 0);
  done(st);
  if ((rc = clock_load(t, err))) {
    exec(t->c, "ROLLBACK", NULL);
    goto fail;
  }
  *out = t;
  return KJ_OK;
fail:
  release(s, t->c);
  pthread_mutex_unlock(&s->wmu);
  kj_buf_release(&t->json);
  free(t);
  return rc;
}

static void txn_free(kjs_txn *t) {
  conflicts_clear(t);
  free(t->cf);
  kj_buf_release(&t->json);
  release(t->s, t->c);
  pthread_mutex_unlock(&t->s->wmu);
  free(t);
}

kj_code kjs_txn_commit(kjs_txn *t, kj_err *err) {
  kj_code rc = clock_save(t, err);
  if (!rc)
    rc = exec(t->c, "COMMIT", err);
  if (rc) {
    exec(t->c, "ROLLBACK", NULL);
  } else {
    kjs_store *s = t->s;
    s->applied += t->applied;
    s->duplicate += t->duplicate;
    s->rejected += t->rejected;
    s->retry += t->retry;
    s->replayed += t->replayed;
    s->conflicts += t->conflicts;
    s->commits++;
    if (t->seq > t->seq0)
      mark_write(s, t->seq);
  }
  txn_free(t);
  return rc;
}

void kjs_txn_rollback(kjs_txn *t) {
  if (!t)
    return;
  exec(t->c, "ROLLBACK", NULL);
  txn_free(t);
}

static const char *item_id(const kjs_item *it) {
  return it->decoded && it->ch.rec.id[0] ? it->ch.rec.id : "?";
}

static void reject(kjs_item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reject(kjs_item *it, const char *fmt, ...) {
  char msg[KJ_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  it->status = KJS_REJECTED;
  if (it->label && it->decoded && !it->label_only)
    snprintf(it->error, sizeof it->error, "%s (id %s): %s", it->label, item_id(it), msg);
  else if (it->label)
    snprintf(it->error, sizeof it->error, "%s: %s", it->label, msg);
  else
    snprintf(it->error, sizeof it->error, "%s", msg);
}

/* 1 when every part of change c is already in s with c's own stamp: the
 * same write arrived before (by another path), a duplicate. */
static int same_write(const kj_rstate *s, const kj_change *c) {
  if (c->rec.deleted)
    return s->rec.deleted && s->del.hlc == c->hlc && !strcmp(s->del.device, c->device);
  if (!c->mask)
    return 0;
  for (int i = 0; i < KJ_MAX_FIELDS; i++)
    if ((c->mask >> i) & 1u)
      if (s->st[i].hlc != c->hlc || strcmp(s->st[i].device, c->device) != 0)
        return 0;
  return 1;
}

static kj_code load_state(kjs_txn *t, kj_rtype type, const char *id, kj_rstate *s, int *found,
                          kj_err *err) {
  *found = 0;
  sqlite3_stmt *st = stmt(t->c, ST_REC_GET, err);
  if (!st)
    return KJ_EDB;
  sqlite3_bind_text(st, 1, kj_type(type)->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW) {
    cJSON *o = cJSON_Parse((const char *)sqlite3_column_text(st, 0));
    kj_err e;
    kj_err_clear(&e);
    if (!o || kj_rstate_from_json(o, s, &e) != KJ_OK)
      rc = kj_fail(err, KJ_EDB, "stored state of '%s' is corrupt: %s", id, o ? e.msg : "bad JSON");
    else
      *found = 1;
    cJSON_Delete(o);
  } else if (r != SQLITE_DONE) {
    rc = db_fail(t->c->db, err, "cannot read record");
  }
  done(st);
  return rc;
}

static kj_code put_state(kjs_txn *t, const kj_rstate *s, const char *origin, kj_err *err) {
  kj_buf_reset(&t->json);
  kj_code rc = kj_rstate_json(s, &t->json, err);
  if (rc)
    return rc;
  sqlite3_stmt *st = stmt(t->c, ST_REC_PUT, err);
  if (!st)
    return KJ_EDB;
  sqlite3_bind_text(st, 1, kj_type(s->rec.type)->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, s->rec.id, -1, SQLITE_TRANSIENT);
  bind_text_or_null(st, 3, kj_record_office(&s->rec));
  sqlite3_bind_int(st, 4, s->rec.deleted ? 1 : 0);
  sqlite3_bind_text(st, 5, t->json.data, (int)t->json.len, SQLITE_STATIC);
  sqlite3_bind_int64(st, 6, (sqlite3_int64)t->seq + 1);
  bind_text_or_null(st, 7, origin);
  if (sqlite3_step(st) != SQLITE_DONE)
    rc = db_fail(t->c->db, err, "cannot store record");
  else
    t->seq++;
  done(st);
  /* the roster check_rules read may have changed (also on a rollback to
   * the item's savepoint: forgetting is always safe) */
  if (s->rec.type == KJ_T_EMPLOYEE)
    t->has_employees = -1;
  if (s->rec.type == KJ_T_OFFICE)
    t->zone_office[0] = 0;
  return rc;
}

static void bind_text_or_null_static(sqlite3_stmt *st, int i, const char *v) {
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

/* Log the conflicts of one applied change of record s: at most one row per
 * field (the merge reports each field once), values as conflict_value
 * keeps them, then the record's oldest rows past KJS_CONFLICTS_PER_RECORD
 * are dropped (logged as a warning), so the log of one record stays
 * bounded however often a device pushes losing values. */
static kj_code put_conflicts(kjs_txn *t, const kj_rstate *s, kj_err *err) {
  if (!t->ncf)
    return KJ_OK;
  sqlite3_stmt *st = stmt(t->c, ST_CONFLICT_PUT, err);
  if (!st)
    return KJ_EDB;
  sqlite3_int64 now = (sqlite3_int64)kj_wall_ms();
  for (int i = 0; i < t->ncf; i++) {
    saved_conflict *k = &t->cf[i];
    sqlite3_bind_text(st, 1, kj_type(s->rec.type)->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->rec.id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, k->field, -1, SQLITE_STATIC);
    bind_text_or_null_static(st, 4, k->loser);
    sqlite3_bind_text(st, 5, k->loser_st, -1, SQLITE_STATIC);
    bind_text_or_null_static(st, 6, k->winner);
    sqlite3_bind_text(st, 7, k->winner_st, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, now);
    bind_text_or_null_static(st, 9, k->loser_note);
    bind_text_or_null_static(st, 10, k->winner_note);
    int r = sqlite3_step(st);
    done(st);
    if (r != SQLITE_DONE)
      return db_fail(t->c->db, err, "cannot log conflict");
  }
  t->conflicts += t->ncf;
  if (!(st = stmt(t->c, ST_CONFLICT_TRIM, err)))
    return KJ_EDB;
  sqlite3_bind_text(st, 1, kj_type(s->rec.type)->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, s->rec.id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 3, KJS_CONFLICTS_PER_RECORD);
  int r = sqlite3_step(st);
  done(st);
  if (r != SQLITE_DONE)
    return db_fail(t->c->db, err, "cannot trim the conflict log");
  int dropped = sqlite3_changes(t->c->db);
  if (dropped > 0)
    KJ_WARN("conflict log: %s %s has more than %d conflicts, dropped the %d oldest",
            kj_type(s->rec.type) ? kj_type(s->rec.type)->name : "?", s->rec.id,
            KJS_CONFLICTS_PER_RECORD, dropped);
  return KJ_OK;
}

static kj_code put_applied(kjs_txn *t, const kjs_principal *who, const kjs_item *it, kj_err *err) {
  if (!it->track || !who || it->seq < 0)
    return KJ_OK;
  sqlite3_stmt *st = stmt(t->c, ST_APPLIED_PUT, err);
  if (!st)
    return KJ_EDB;
  sqlite3_bind_text(st, 1, who->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)it->seq);
  sqlite3_bind_text(st, 3, kjs_status_name(it->status), -1, SQLITE_STATIC);
  if (it->status == KJS_REJECTED)
    sqlite3_bind_text(st, 4, it->error, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, 4);
  sqlite3_bind_text(st, 5, who->inc, -1, SQLITE_STATIC);
  if (it->has_digest)
    sqlite3_bind_blob(st, 6, it->digest, KJ_CHANGE_DIGEST_LEN, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, 6);
  int r = sqlite3_step(st);
  done(st);
  return r == SQLITE_DONE ? KJ_OK : db_fail(t->c->db, err, "cannot record the result");
}

/* A record that leaves its office (a central correction): a notice for
 * the office it left, at the position of the new state (put_state gave
 * it): that office's devices drop the record once, on pull, and receive
 * none of its later states. */
static kj_code put_moved(kjs_txn *t, const kj_record *before, const kj_record *after, kj_err *err) {
  const kj_type_def *td = kj_type(after->type);
  const char *from = before ? kj_record_office(before) : NULL, *to = kj_record_office(after);
  if (!td || td->master || !from || (to && !strcmp(from, to)))
    return KJ_OK;
  sqlite3_stmt *st = stmt(t->c, ST_MOVED_PUT, err);
  if (!st)
    return KJ_EDB;
  sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, td->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, after->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)t->seq); /* the position of the moved state */
  int r = sqlite3_step(st);
  done(st);
  return r == SQLITE_DONE ? KJ_OK : db_fail(t->c->db, err, "cannot record a move");
}

/* *seen = 1 and the stored result in it when (device, incarnation, seq)
 * was seen before, else 0.  A stored digest that differs from the item's
 * means another change under that seq: status KJS_REUSED, never the stored
 * answer (a row stored before digests were kept, digest NULL, answers as
 * before).  KJ_OK, or KJ_EDB with err filled. */
static kj_code lookup_applied(kjs_txn *t, const kjs_principal *who, kjs_item *it, int *seen,
                              kj_err *err) {
  *seen = 0;
  sqlite3_stmt *st = stmt(t->c, ST_APPLIED_GET, err);
  if (!st)
    return KJ_EDB;
  sqlite3_bind_text(st, 1, who->id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)it->seq);
  sqlite3_bind_text(st, 3, who->inc, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  const void *dg = r == SQLITE_ROW ? sqlite3_column_blob(st, 2) : NULL;
  if (r == SQLITE_ROW && dg && it->has_digest &&
      (sqlite3_column_bytes(st, 2) != KJ_CHANGE_DIGEST_LEN ||
       memcmp(dg, it->digest, KJ_CHANGE_DIGEST_LEN) != 0)) {
    it->status = KJS_REUSED;
    snprintf(it->error, sizeof it->error,
             "%s: seq %" PRId64 " of this device holds another change: the database was "
             "restored, copied or reinstalled",
             it->label ? it->label : "change", it->seq);
    *seen = 1;
  } else if (r == SQLITE_ROW) {
    kjs_status stt;
    const unsigned char *e = sqlite3_column_text(st, 1);
    it->status = status_parse((const char *)sqlite3_column_text(st, 0), &stt) ? KJS_REJECTED : stt;
    snprintf(it->error, sizeof it->error, "%s", e ? (const char *)e : "");
    it->replayed = 1;
    *seen = 1;
  } else if (r != SQLITE_DONE) {
    rc = db_fail(t->c->db, err, "cannot read the applied changes");
  }
  done(st);
  return rc;
}

/* 1 when every stamp of s was written by device: the state is exactly the
 * merge of that device's own changes. */
static int only_stamped_by(const kj_rstate *s, const char *device) {
  const kj_type_def *td = kj_type(s->rec.type);
  for (int i = 0; td && i < td->nfields; i++)
    if (s->st[i].hlc && strcmp(s->st[i].device, device) != 0)
      return 0;
  return !(s->rec.deleted && s->del.hlc && strcmp(s->del.device, device) != 0);
}

/* The origin a device's incarnation writes and skips on pull: its id, with
 * "/INC" after it past the first incarnation, so that two databases with
 * one token never skip each other's records. */
static const char *origin_name(const kjs_principal *who, char *buf, size_t size) {
  if (!who->inc[0])
    return who->id;
  snprintf(buf, size, "%s/%s", who->id, who->inc);
  return buf;
}

static int office_is(const char *office, const char *mine) {
  return office && !strcmp(office, mine);
}

/* The author a change is kept with (docs/protocol.md "Authors"): a device
 * vouches for the people it signed in, and the server checks what it can:
 * "admin" writes only at the BKD, a NIP is on the roster of the device's
 * office or the supervisor of someone there.  Into *author; 0 when the
 * change may be applied, 1 when it is refused (it->error says why), -1 on
 * a database error (err). */
static int check_author(kjs_txn *t, const kjs_principal *who, kjs_item *it,
                        char author[KJ_AUTHOR_MAX + 1], kj_err *err) {
  const char *a = it->ch.author;
  int device = who && who->role == KJS_ROLE_DEVICE;
  snprintf(author, KJ_AUTHOR_MAX + 1, "%s", a[0] ? a : device ? "operator" : "admin");
  if (!strcmp(author, "kiosk") && it->ch.rec.type != KJ_T_SURVEY) {
    reject(it, "author 'kiosk': the office app's kiosk writes surveys only");
    return 1;
  }
  if (!device || !strcmp(author, "operator") || !strcmp(author, "kiosk")) /* kiosk: a citizen */
    return 0;
  if (!strcmp(author, "admin")) {
    reject(it, "author 'admin': an office device writes as its operator or a person signed in");
    return 1;
  }
  sqlite3_stmt *st = stmt(t->c, ST_ROSTER, err);
  if (!st)
    return -1;
  sqlite3_bind_text(st, 1, who->office, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, author, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  done(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE) {
    db_fail(t->c->db, err, "cannot read the roster");
    return -1;
  }
  if (r == SQLITE_DONE) {
    reject(it, "author '%s' is not on the roster of office '%s'", author, who->office);
    return 1;
  }
  return 0;
}

/* --- the roster of proto/rules.h, over the employee records ------------ */

static kj_code roster_employee(void *ud, const char *nip, kj_roster_entry *out, int *found,
                               kj_err *err) {
  kjs_txn *t = ud;
  sqlite3_stmt *st = stmt(t->c, ST_EMPLOYEE, err);
  if (!st)
    return KJ_EDB;
  sqlite3_bind_text(st, 1, nip, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW) {
    const unsigned char *o = sqlite3_column_text(st, 0), *sup = sqlite3_column_text(st, 1);
    snprintf(out->office, sizeof out->office, "%s", o ? (const char *)o : "");
    snprintf(out->supervisor, sizeof out->supervisor, "%s", sup ? (const char *)sup : "");
    *found = 1;
  } else if (r != SQLITE_DONE) {
    rc = db_fail(t->c->db, err, "cannot read the roster");
  }
  done(st);
  return rc;
}

static kj_code roster_rating(void *ud, const char *period, const char *rater, const char *ratee,
                             const char *id, char out[KJ_ID_MAX + 1], kj_err *err) {
  kjs_txn *t = ud;
  out[0] = 0;
  sqlite3_stmt *st = stmt(t->c, ST_RATING_OTHER, err);
  if (!st)
    return KJ_EDB;
  sqlite3_bind_text(st, 1, period, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, rater, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, ratee, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW)
    snprintf(out, KJ_ID_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
  else if (r != SQLITE_DONE)
    rc = db_fail(t->c->db, err, "cannot read the ratings");
  done(st);
  return rc;
}

static kj_code roster_zone(void *ud, const char *office, char out[KJ_ZONE_MAX + 1], kj_err *err) {
  kjs_txn *t = ud;
  out[0] = 0;
  if (t->zone_office[0] && !strcmp(t->zone_office, office)) {
    memcpy(out, t->zone, sizeof t->zone);
    return KJ_OK;
  }
  sqlite3_stmt *st = stmt(t->c, ST_OFFICE_ZONE, err);
  if (!st)
    return KJ_EDB;
  sqlite3_bind_text(st, 1, office, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW && sqlite3_column_text(st, 0))
    snprintf(out, KJ_ZONE_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
  else if (r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(t->c->db, err, "cannot read the office");
  done(st);
  if (!rc && strlen(office) < sizeof t->zone_office) { /* until an office record is written */
    memcpy(t->zone, out, sizeof t->zone);
    snprintf(t->zone_office, sizeof t->zone_office, "%s", office);
  }
  return rc;
}

/* Judge the change of `it` against domain.md "Who may write what"
 * (proto/rules.h), with one day of slack on dates for the clocks of the
 * PCs (none for an administrator's write).  0 when it may be applied, 1 when refused (it->error
 * says why), -1 on a database error (err). */
static int check_rules(kjs_txn *t, kjs_item *it, const char *author, const kj_record *before,
                       const kj_record *after, kj_err *err) {
  if (t->has_employees < 0) { /* read once a transaction, until it writes an employee */
    sqlite3_stmt *st = stmt(t->c, ST_HAS_EMPLOYEES, err);
    if (!st)
      return -1;
    int r = sqlite3_step(st);
    done(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
      db_fail(t->c->db, err, "cannot read the roster");
      return -1;
    }
    t->has_employees = r == SQLITE_ROW;
  }
  kj_roster roster = {t, roster_employee, roster_rating, roster_zone};
  kj_rules_ctx ctx = {.admin = !strcmp(author, "admin"),
                      .has_roster = t->has_employees,
                      .now_ms = kj_wall_ms(),
                      /* a day for the clocks of the PCs; the BKD's own
                       * writes (kinerjad import, admin tokens) go by the
                       * server's clock */
                      .slack_days = strcmp(author, "admin") ? 1 : 0,
                      .roster = &roster};
  kj_change ch = it->ch; /* shallow: the author the change is kept with */
  snprintf(ch.author, sizeof ch.author, "%s", author);
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kj_rules_check(&ch, before, after, &ctx, &e);
  if (rc == KJ_EINVAL) {
    reject(it, "%s", e.msg);
    return 1;
  }
  if (rc) {
    kj_fail(err, rc, "%s", e.msg);
    return -1;
  }
  return 0;
}

/* Run one of the prepared savepoint statements (ST_SP_*): KJ_OK, or the
 * database's error into err (may be NULL). */
static kj_code savepoint(kjs_txn *t, int which, kj_err *err) {
  sqlite3_stmt *st = stmt(t->c, which, err);
  if (!st)
    return KJ_EDB;
  int r = sqlite3_step(st);
  done(st);
  return r == SQLITE_DONE ? KJ_OK : db_fail(t->c->db, err, "cannot keep a savepoint");
}

/* One row of the history: what change ch wrote, by whom. */
static kj_code put_history(kjs_txn *t, const kj_change *ch, const char *author, kj_err *err) {
  kj_buf_reset(&t->json);
  kj_code rc = kj_change_body_json(ch, &t->json, err);
  if (rc)
    return rc;
  sqlite3_stmt *st = stmt(t->c, ST_HISTORY_PUT, err);
  if (!st)
    return KJ_EDB;
  sqlite3_bind_text(st, 1, kj_type(ch->rec.type)->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, ch->rec.id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, ch->device, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, author, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)ch->hlc);
  sqlite3_bind_text(st, 6, t->json.data, (int)t->json.len, SQLITE_STATIC);
  sqlite3_bind_int64(st, 7, (sqlite3_int64)kj_wall_ms());
  int r = sqlite3_step(st);
  done(st);
  return r == SQLITE_DONE ? KJ_OK : db_fail(t->c->db, err, "cannot keep the history");
}

kj_code kjs_txn_apply(kjs_txn *t, const kjs_principal *who, kjs_item *it, kj_err *err) {
  it->status = KJS_REJECTED;
  it->replayed = 0;
  it->conflicts = 0;
  if (!it->decoded && !it->error[0])
    snprintf(it->error, sizeof it->error, "%s: malformed change", it->label ? it->label : "change");
  if (it->decoded)
    it->error[0] = 0;
  if (it->track && who && it->seq >= 0) {
    int seen;
    if (lookup_applied(t, who, it, &seen, err))
      return KJ_EDB;
    if (seen) {
      if (it->status != KJS_REUSED)
        t->replayed++;
      return KJ_OK;
    }
  }
  if (!it->decoded) {
    t->rejected++;
    return put_applied(t, who, it, err);
  }
  if (it->stamp_max && it->ch.hlc > it->stamp_max) {
    /* a PC's clock ahead: refused for now, nothing stored (the PC stamps
     * the change again and sends it again) */
    char ahead[48];
    uint64_t ms = KJ_HLC_MS(it->ch.hlc), now = it->now_ms;
    kjs_describe_ms(ms > now ? ms - now : 0, ahead, sizeof ahead);
    reject(it,
           "the clock of this PC is %s ahead of the server: set it right, then sync again "
           "(the change stays in the outbox)",
           ahead);
    it->status = KJS_RETRY;
    t->retry++;
    return KJ_OK;
  }
  if (it->ch.hlc > t->clock)
    t->clock = it->ch.hlc; /* the server's clock follows every stamp it takes */
  const kj_change *ch = &it->ch;
  const kj_type_def *td = kj_type(ch->rec.type);
  int device = who && who->role == KJS_ROLE_DEVICE;
  if (device && (!td || td->master)) {
    reject(it, "forbidden office: a device writes only its office's records");
    t->rejected++;
    return put_applied(t, who, it, err);
  }
  kj_err e;
  kj_err_clear(&e);
  if (kj_record_validate_id(ch->rec.type, ch->rec.id, &e) != KJ_OK) {
    reject(it, "%s", e.msg);
    t->rejected++;
    return put_applied(t, who, it, err);
  }
  char author[KJ_AUTHOR_MAX + 1];
  int ar = check_author(t, who, it, author, err);
  if (ar < 0)
    return KJ_EDB;
  if (ar > 0) {
    t->rejected++;
    return put_applied(t, who, it, err);
  }

  kj_rstate s;
  kj_record before;
  int found = 0, have_before = 0;
  kj_rstate_init(&s, ch->rec.type);
  kj_code rc = load_state(t, ch->rec.type, ch->rec.id, &s, &found, err);
  if (rc) {
    kj_rstate_release(&s);
    return rc;
  }
  if (!found) {
    kj_rstate_release(&s);
    kj_rstate_init(&s, ch->rec.type);
    s.rec.type = KJ_T_NONE;
    snprintf(s.rec.id, sizeof s.rec.id, "%s", ch->rec.id);
  }
  if (found && device && !office_is(kj_record_office(&s.rec), who->office)) {
    reject(it, "forbidden office: the record belongs to office '%s'",
           kj_record_office(&s.rec) ? kj_record_office(&s.rec) : "");
    goto rejected;
  }
  if (found && it->diff_only && !s.rec.deleted && !ch->rec.deleted) {
    /* an import of what is already there changes nothing, not even stamps */
    for (int i = 0; i < KJ_MAX_FIELDS; i++) {
      const char *a = s.rec.v[i], *b = ch->rec.v[i];
      if (((it->ch.mask >> i) & 1u) && ((!a && !b) || (a && b && !strcmp(a, b))))
        it->ch.mask &= ~(1u << i);
    }
    if (!it->ch.mask) {
      it->status = KJS_DUPLICATE;
      t->duplicate++;
      kj_rstate_release(&s);
      return KJ_OK;
    }
  }
  if (found) {
    if (kj_record_copy(&before, &s.rec) != KJ_OK) {
      kj_rstate_release(&s);
      return kj_fail(err, KJ_ENOMEM, "out of memory");
    }
    have_before = 1;
  }
  conflicts_clear(t);
  t->cf_type = ch->rec.type;
  int changed = 0;
  kj_code mrc = kj_merge_apply(&s, ch, on_conflict, t, &changed, &e);
  if (mrc == KJ_ENOMEM) { /* the batch fails: never rejected for our memory */
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
    goto out;
  }
  if (mrc) {
    reject(it, "%s", e.msg);
    goto rejected;
  }
  if (t->cf_oom) {
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
    goto out;
  }
  if (device && !found && !kj_record_office(&s.rec)) {
    /* an edit or delete of a record this server does not hold: a restore
     * lost it and its creation comes again from the PC that holds it
     * (docs/protocol.md "Restores"); the device sends this again later */
    it->status = KJS_MISSING;
    snprintf(it->error, sizeof it->error,
             "%s (id %s): the server does not hold this record (restored from a backup?): the "
             "change is sent again at the next sync",
             it->label ? it->label : "change", item_id(it));
    rc = KJ_OK;
    goto out;
  }
  if (device && !office_is(kj_record_office(&s.rec), who->office)) {
    const char *o = kj_record_office(&s.rec);
    reject(it, "forbidden office: '%s' is not this device's office '%s'", o ? o : "", who->office);
    goto rejected;
  }
  if (!changed) {
    it->status = same_write(&s, ch) ? KJS_DUPLICATE : KJS_APPLIED;
    /* a change whose values all lost overwrote nothing, but its values
     * lost to others: keep them in the conflict log */
    if (t->ncf && (rc = put_conflicts(t, &s, err)))
      goto out;
    it->conflicts = t->ncf;
    if (it->status == KJS_DUPLICATE)
      t->duplicate++;
    else
      t->applied++;
    rc = put_applied(t, who, it, err);
    goto out;
  }
  /* an approved or rejected activity edited after its decision is
   * submitted again (proto/rules.h kj_rules_settle) */
  int settled = 0;
  if (kj_rules_settle(&s, &settled)) {
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
    goto out;
  }
  kj_err_clear(&e);
  /* what the change writes follows today's rules; what it leaves alone was
   * taken under the rules of its time (proto/record.h) */
  if ((have_before ? kj_record_validate_written(&s.rec, ch->mask, &e)
                   : kj_record_validate(&s.rec, &e)) != KJ_OK) {
    reject(it, "%s", e.msg);
    goto rejected;
  }
  /* who may write what (domain.md), for every change of every device */
  int rr = check_rules(t, it, author, have_before ? &before : NULL, &s.rec, err);
  if (rr < 0) {
    rc = err && err->code ? err->code : KJ_EDB;
    goto out;
  }
  if (rr > 0)
    goto rejected;
  if ((rc = savepoint(t, ST_SP_BEGIN, err)))
    goto out;
  /* the pushing device already has this state when it wrote all of it
   * with the stamps it sent (the server takes stamps as sent) */
  char oname[KJ_DEVICE_MAX + KJ_INCARNATION_MAX + 2];
  /* (not when the server derived values: the device must pull them) */
  const char *origin = device && !settled && only_stamped_by(&s, who->id)
                           ? origin_name(who, oname, sizeof oname)
                           : NULL;
  if ((rc = put_state(t, &s, origin, err)) || (rc = put_conflicts(t, &s, err)) ||
      (rc = put_moved(t, have_before ? &before : NULL, &s.rec, err)) ||
      (rc = put_history(t, ch, author, err))) {
    savepoint(t, ST_SP_ROLLBACK, NULL);
    savepoint(t, ST_SP_RELEASE, NULL);
    goto out;
  }
  kj_err_clear(&e);
  kj_code sc =
      kjs_score_update(kjs_score_sqlite(t->c->db), have_before ? &before : NULL, &s.rec, &e);
  if (sc != 0) {
    /* the scores could not be kept (a database error, out of memory): the
     * record is valid, so this is the request's failure, never a stored
     * rejection; the caller rolls the whole transaction back */
    rc = kj_fail(err, sc == KJ_ENOMEM || sc == KJ_EBUSY || sc == KJ_EFULL ? sc : KJ_EDB,
                 "cannot update scores for %s '%s': %s", td->name, ch->rec.id,
                 e.msg[0] ? e.msg : "unknown error");
    savepoint(t, ST_SP_ROLLBACK, NULL);
    savepoint(t, ST_SP_RELEASE, NULL);
    t->seq--;
    goto out;
  }
  savepoint(t, ST_SP_RELEASE, NULL);
  it->status = KJS_APPLIED;
  it->conflicts = t->ncf;
  t->applied++;
  rc = put_applied(t, who, it, err);
  goto out;
rejected:
  t->rejected++;
  rc = put_applied(t, who, it, err);
out:
  conflicts_clear(t);
  if (have_before)
    kj_record_release(&before);
  kj_rstate_release(&s);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* reading */

/* The master types every office receives (not office_scoped), as a JSON
 * array of names bound to ?5 of the pull statements; from the type table. */
static char g_broadcast[256];
static pthread_once_t g_broadcast_once = PTHREAD_ONCE_INIT;

static void build_broadcast(void) {
  size_t n = 0;
  g_broadcast[n++] = '[';
  for (int t = 0; t < KJ_T__COUNT; t++) {
    const kj_type_def *td = kj_type((kj_rtype)t);
    if (!td->master || td->office_scoped)
      continue;
    int w =
        snprintf(g_broadcast + n, sizeof g_broadcast - n, "%s\"%s\"", n > 1 ? "," : "", td->name);
    if (w < 0 || (size_t)w >= sizeof g_broadcast - n)
      KJ_BUG("master type list too long");
    n += (size_t)w;
  }
  snprintf(g_broadcast + n, sizeof g_broadcast - n, "]");
}

static const char *broadcast_types(void) {
  pthread_once(&g_broadcast_once, build_broadcast);
  return g_broadcast;
}

kj_code kjs_store_pull(kjs_store *s, const kjs_principal *who, int64_t since, int limit,
                       int skip_own, int peer, kj_buf *out, int64_t *next, int *more, int *count,
                       kj_err *err) {
  *next = since;
  *more = 0;
  *count = 0;
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  int all = who->role != KJS_ROLE_DEVICE;
  kj_code rc = KJ_OK;
  /* one snapshot: the rows and the highest seq agree */
  if ((rc = exec(c, "BEGIN", err))) {
    release(s, c);
    return rc;
  }
  sqlite3_stmt *st = stmt(c, all ? ST_PULL_ALL : ST_PULL_OFFICE, err);
  if (!st) {
    exec(c, "ROLLBACK", NULL);
    release(s, c);
    return KJ_EDB;
  }
  sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
  sqlite3_bind_int(st, 2, limit + 1);
  if (!all) {
    sqlite3_bind_text(st, 3, who->office, -1, SQLITE_STATIC);
    char oname[KJ_DEVICE_MAX + KJ_INCARNATION_MAX + 2];
    if (skip_own)
      sqlite3_bind_text(st, 4, origin_name(who, oname, sizeof oname), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, broadcast_types(), -1, SQLITE_STATIC);
  }
  int r, n = 0, rows = 0;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    if (rows == limit) {
      *more = 1;
      break;
    }
    const char *state = (const char *)sqlite3_column_text(st, 1);
    int added = 0;
    /* proto/msg.c leaves out what a client of an older protocol cannot
     * read; the cursor moves past it all the same */
    if ((rc = kj_pull_add_stored(out, state ? state : "null", peer, &added, err)))
      break;
    *next = sqlite3_column_int64(st, 0);
    n += added;
    rows++;
  }
  if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read changes");
  *count = n;
  done(st);
  if (!rc && !*more) {
    /* Nothing more for this caller up to the snapshot's last change: the
     * cursor skips what it may not see, so the next pull starts there.
     * (Later commits get higher numbers: seq is given under the write lock.) */
    sqlite3_stmt *mx = stmt(c, ST_MAXSEQ, err);
    if (mx && sqlite3_step(mx) == SQLITE_ROW && sqlite3_column_int64(mx, 0) > *next)
      *next = sqlite3_column_int64(mx, 0);
    done(mx);
  }
  exec(c, "COMMIT", NULL);
  release(s, c);
  return rc;
}

kj_code kjs_store_pull_moved(kjs_store *s, const kjs_principal *who, int64_t since, int64_t upto,
                             kj_buf *out, int *count, kj_err *err) {
  *count = 0;
  if (who->role != KJS_ROLE_DEVICE || upto <= since)
    return KJ_OK;
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_stmt *st = stmt(c, ST_MOVED_PULL, err);
  kj_code rc = st ? KJ_OK : KJ_EDB;
  if (st) {
    sqlite3_bind_text(st, 1, who->office, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)upto);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
      kj_code a = kj_pull_add_moved(out, *count == 0, (const char *)sqlite3_column_text(st, 0),
                                    (const char *)sqlite3_column_text(st, 1));
      if (a) {
        rc = kj_fail(err, a, "cannot add a moved notice to the page");
        break;
      }
      ++*count;
    }
    if (!rc && r != SQLITE_DONE)
      rc = db_fail(c->db, err, "cannot read the moved notices");
    done(st);
  }
  release(s, c);
  return rc;
}

kj_code kjs_store_get_state(kjs_store *s, kj_rtype t, const char *id, char **json, kj_err *err) {
  *json = NULL;
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_stmt *st = stmt(c, ST_REC_GET, err);
  kj_code rc = KJ_OK;
  if (!st) {
    release(s, c);
    return KJ_EDB;
  }
  sqlite3_bind_text(st, 1, kj_type(t) ? kj_type(t)->name : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    *json = strdup((const char *)sqlite3_column_text(st, 0));
    if (!*json)
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
  } else if (r == SQLITE_DONE) {
    rc = kj_fail(err, KJ_ENOENT, "no record '%s'", id);
  } else {
    rc = db_fail(c->db, err, "cannot read record");
  }
  done(st);
  release(s, c);
  return rc;
}

/* A logged value as the listing shows it: the stored text when it is still
 * valid for its field (rows written before the log validated values may
 * not be), else null and a note. */
static kj_code json_add_conflict_value(cJSON *o, const char *k, const kj_field_def *f,
                                       const unsigned char *v, const unsigned char *note) {
  char key[32], *value, *why;
  if (conflict_value(f, (const char *)v, &value, &why))
    return KJ_ENOMEM;
  if (value)
    cJSON_AddStringToObject(o, k, value);
  else
    cJSON_AddNullToObject(o, k);
  snprintf(key, sizeof key, "%s_note", k);
  if (why || (note && kj_utf8_len((const char *)note) >= 0))
    cJSON_AddStringToObject(o, key, why ? why : (const char *)note);
  free(value);
  free(why);
  return KJ_OK;
}

/* Text that cJSON can put in valid JSON: valid UTF-8, else null. */
static void json_add_utf8_or_null(cJSON *o, const char *k, const unsigned char *v) {
  json_add_text_or_null(o, k, v && kj_utf8_len((const char *)v) >= 0 ? v : NULL);
}

kj_code kjs_store_conflicts(kjs_store *s, cJSON **out, kj_err *err) {
  *out = NULL;
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  kj_code rc = KJ_OK;
  cJSON *arr = cJSON_CreateArray();
  sqlite3_stmt *st = stmt(c, ST_CONFLICT_LIST, err);
  if (!st || !arr) {
    rc = st ? kj_fail(err, KJ_ENOMEM, "out of memory") : KJ_EDB;
    goto out;
  }
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o)) {
      cJSON_Delete(o);
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
      goto out;
    }
    cJSON_AddNumberToObject(o, "n", (double)sqlite3_column_int64(st, 0));
    const unsigned char *type = sqlite3_column_text(st, 1);
    const kj_type_def *td = type ? kj_type_by_name((const char *)type) : NULL;
    json_add_utf8_or_null(o, "type", type);
    json_add_utf8_or_null(o, "id", sqlite3_column_text(st, 2));
    const unsigned char *field = sqlite3_column_text(st, 3);
    json_add_utf8_or_null(o, "field", field);
    int fi = td && field ? kj_field_index(td, (const char *)field) : -1;
    const kj_field_def *f = fi >= 0 ? &td->fields[fi] : NULL;
    if (json_add_conflict_value(o, "loser", f, sqlite3_column_text(st, 4),
                                sqlite3_column_text(st, 9)) ||
        json_add_conflict_value(o, "winner", f, sqlite3_column_text(st, 6),
                                sqlite3_column_text(st, 10))) {
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
      goto out;
    }
    json_add_utf8_or_null(o, "loser_stamp", sqlite3_column_text(st, 5));
    json_add_utf8_or_null(o, "winner_stamp", sqlite3_column_text(st, 7));
    cJSON_AddNumberToObject(o, "at", (double)sqlite3_column_int64(st, 8));
    /* who wrote each side and when (the stamp's wall time), in the zone of
     * the record's office (WIB/WITA/WIT, common/date.c) */
    const char *zone = (const char *)sqlite3_column_text(st, 13);
    char when[KJ_TIME_ZONE_STRLEN];
    kj_time_format_zone((int64_t)sqlite3_column_int64(st, 8), zone, when);
    json_add_text_or_null(o, "when", (const unsigned char *)when);
    for (int side = 0; side < 2; side++) {
      const char *name = side ? "winner" : "loser";
      char k[32];
      snprintf(k, sizeof k, "%s_author", name);
      json_add_utf8_or_null(o, k, sqlite3_column_text(st, side ? 12 : 11));
      const char *stamp = (const char *)sqlite3_column_text(st, side ? 7 : 5);
      snprintf(k, sizeof k, "%s_time", name);
      if (stamp && *stamp >= '0' && *stamp <= '9') {
        kj_time_format_zone((int64_t)KJ_HLC_MS(strtoull(stamp, NULL, 10)), zone, when);
        json_add_text_or_null(o, k, (const unsigned char *)when);
      } else {
        json_add_text_or_null(o, k, NULL);
      }
    }
  }
  if (r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot list conflicts");
out:
  done(st);
  release(s, c);
  if (rc)
    cJSON_Delete(arr);
  else
    *out = arr;
  return rc;
}

kj_code kjs_store_records_digest(kjs_store *s, char out[65], long long *nrecords, kj_err *err) {
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_stmt *st = stmt(c, ST_DIGEST, err);
  if (!st) {
    release(s, c);
    return KJ_EDB;
  }
  mbedtls_sha256_context h;
  mbedtls_sha256_init(&h);
  mbedtls_sha256_starts_ret(&h, 0);
  long long n = 0;
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    char head[64];
    const unsigned char *ty = sqlite3_column_text(st, 0);
    int hl = snprintf(head, sizeof head, "%.40s|%d|", ty ? (const char *)ty : "",
                      sqlite3_column_int(st, 3));
    mbedtls_sha256_update_ret(&h, (const unsigned char *)head, (size_t)hl);
    for (int col = 1; col <= 4; col += (col == 2 ? 2 : 1)) {
      const unsigned char *v = sqlite3_column_text(st, col);
      int len = sqlite3_column_bytes(st, col);
      char lenbuf[24];
      int ll = snprintf(lenbuf, sizeof lenbuf, "%d:", v ? len : -1);
      mbedtls_sha256_update_ret(&h, (const unsigned char *)lenbuf, (size_t)ll);
      if (v)
        mbedtls_sha256_update_ret(&h, v, (size_t)len);
    }
    n++;
  }
  unsigned char d[32];
  mbedtls_sha256_finish_ret(&h, d);
  mbedtls_sha256_free(&h);
  kj_code rc = r == SQLITE_DONE ? KJ_OK : db_fail(c->db, err, "cannot read records");
  for (size_t i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
  if (nrecords)
    *nrecords = n;
  done(st);
  release(s, c);
  return rc;
}

void kjs_store_stats_get(kjs_store *s, kjs_store_stats *o) {
  o->applied = s->applied;
  o->duplicate = s->duplicate;
  o->rejected = s->rejected;
  o->retry = s->retry;
  o->replayed = s->replayed;
  o->conflicts = s->conflicts;
  o->commits = s->commits;
}

/* ---------------------------------------------------------------------- */
/* scores */

int kjs_store_has_scores(void) {
  return 1;
}

/* Run a scores read in one read transaction (one snapshot). */
#define SCORE_READ(s, err, call)                                                                   \
  do {                                                                                             \
    conn *c_ = acquire((s), (err));                                                                \
    if (!c_)                                                                                       \
      return (err) && (err)->code ? (err)->code : KJ_EDB;                                          \
    kj_code rc_ = exec(c_, "BEGIN", (err));                                                        \
    if (!rc_) {                                                                                    \
      sqlite3 *db = c_->db;                                                                        \
      kj_code r_ = (call);                                                                         \
      if (r_ != 0)                                                                                 \
        rc_ = (err) && (err)->code ? (err)->code : KJ_EINVAL;                                      \
      exec(c_, "COMMIT", NULL);                                                                    \
    }                                                                                              \
    release((s), c_);                                                                              \
    return rc_;                                                                                    \
  } while (0)

kj_code kjs_store_report_offices(kjs_store *s, const char *period, const char *as_of, kj_buf *out,
                                 kj_err *err) {
  SCORE_READ(s, err, kjs_report_offices(kjs_score_sqlite(db), &s->scfg, period, as_of, out, err));
}

kj_code kjs_store_report_employees(kjs_store *s, const char *period, const char *office,
                                   kj_buf *out, kj_err *err) {
  SCORE_READ(s, err,
             kjs_report_employees(kjs_score_sqlite(db), &s->scfg, period, office, out, err));
}

kj_code kjs_store_recompute(kjs_store *s, int verify, kj_buf *diffs, kj_err *err) {
  kjs_txn *t = NULL;
  kj_code rc = kjs_txn_begin(s, &t, err);
  if (rc || !t)
    return rc ? rc : KJ_EDB;
  rc = kjs_score_sqlite_rebuild(t->c->db, verify, diffs, NULL, err); /* differences: in diffs */
  if (rc) {
    kjs_txn_rollback(t);
    return rc;
  }
  return kjs_txn_commit(t, err);
}

kj_code kjs_store_report_print(const char *json, const char *format, FILE *out, kj_err *err) {
  return kjs_report_format(json, format, out, err);
}

kj_code kjs_store_history(kjs_store *s, const char *id, cJSON **out, kj_err *err) {
  *out = NULL;
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  kj_code rc = KJ_OK;
  cJSON *arr = cJSON_CreateArray();
  sqlite3_stmt *st = stmt(c, ST_HISTORY_LIST, err);
  if (!st || !arr) {
    rc = st ? kj_fail(err, KJ_ENOMEM, "out of memory") : KJ_EDB;
    goto out;
  }
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o)) {
      cJSON_Delete(o);
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
      goto out;
    }
    sqlite3_int64 at = sqlite3_column_int64(st, 5);
    char when[KJ_TIME_ZONE_STRLEN]; /* the office's zone, WIB/WITA/WIT (common/date.c) */
    kj_time_format_zone((int64_t)at, (const char *)sqlite3_column_text(st, 6), when);
    char h[KJ_HLC_STRMAX];
    kj_hlc_format((kj_hlc)sqlite3_column_int64(st, 3), h);
    cJSON *ch = cJSON_Parse((const char *)sqlite3_column_text(st, 4));
    /* made: the change's own time (its stamp's wall clock, the PC's clock
     * as corrected at sync); when: when the server applied it */
    char made[KJ_TIME_ZONE_STRLEN];
    kj_time_format_zone((int64_t)KJ_HLC_MS((kj_hlc)sqlite3_column_int64(st, 3)),
                        (const char *)sqlite3_column_text(st, 6), made);
    if (!cJSON_AddStringToObject(o, "made", made) ||
        !cJSON_AddNumberToObject(o, "made_at",
                                 (double)KJ_HLC_MS((kj_hlc)sqlite3_column_int64(st, 3))) ||
        !cJSON_AddStringToObject(o, "when", when) ||
        !cJSON_AddNumberToObject(o, "at", (double)at) ||
        !cJSON_AddStringToObject(o, "type", (const char *)sqlite3_column_text(st, 0)) ||
        !cJSON_AddStringToObject(o, "author", (const char *)sqlite3_column_text(st, 2)) ||
        !cJSON_AddStringToObject(o, "device", (const char *)sqlite3_column_text(st, 1)) ||
        !cJSON_AddStringToObject(o, "hlc", h) ||
        !cJSON_AddItemToObject(o, "change", ch ? ch : cJSON_CreateNull())) {
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
      goto out;
    }
  }
  if (r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read the history");
out:
  done(st);
  release(s, c);
  if (rc)
    cJSON_Delete(arr);
  else
    *out = arr;
  return rc;
}

/* ---------------------------------------------------------------------- */
/* imports */

kj_code kjs_txn_service_resolve(kjs_txn *t, kj_record *rec, char *warning, size_t size,
                                kj_err *err) {
  if (size)
    warning[0] = '\0';
  const kj_type_def *td = kj_type(rec->type);
  int f = rec->type == KJ_T_SURVEY ? kj_field_index(td, "service") : -1;
  const char *office = td->office_field >= 0 ? rec->v[td->office_field] : NULL;
  if (f < 0 || !rec->v[f] || !office || rec->deleted)
    return KJ_OK;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(t->c->db,
                         "SELECT json_extract(state, '$.f.name') FROM records WHERE office = ?1 "
                         "AND type = 'service' AND deleted = 0 ORDER BY seq",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(t->c->db, err, "cannot read the services");
  sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
  char **names = NULL;
  size_t n = 0;
  kj_code rc = KJ_OK;
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(st, 0);
    if (!v)
      continue;
    char **nn = realloc(names, (n + 1) * sizeof *nn);
    if (!nn || !(nn[n] = strdup(v))) {
      names = nn ? nn : names;
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
      break;
    }
    names = nn;
    n++;
  }
  if (!rc && r != SQLITE_DONE)
    rc = db_fail(t->c->db, err, "cannot read the services");
  sqlite3_finalize(st);
  const char *match = NULL, *closest = NULL;
  if (!rc && n &&
      (rc = kj_service_resolve(rec->v[f], (const char *const *)names, n, &match, &closest)))
    rc = kj_fail(err, rc, "out of memory");
  if (!rc && match && strcmp(match, rec->v[f]) != 0 && kj_record_set(rec, f, match))
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
  if (!rc && n && !match && size)
    snprintf(warning, size,
             "field 'service': '%.200s' is not a service of office '%s' (closest: '%.200s'); "
             "stored as typed",
             rec->v[f], office, closest ? closest : "");
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}

int kjs_txn_import_seen(kjs_txn *t, const char *digest, int64_t *at_ms, char **file, kj_err *err) {
  *file = NULL;
  sqlite3_stmt *st = stmt(t->c, ST_IMPORT_GET, err);
  if (!st)
    return -1;
  sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
  int r = sqlite3_step(st), found = 0;
  if (r == SQLITE_ROW) {
    *at_ms = (int64_t)sqlite3_column_int64(st, 0);
    const unsigned char *f = sqlite3_column_text(st, 1);
    *file = f ? strdup((const char *)f) : NULL;
    found = 1;
  } else if (r != SQLITE_DONE) {
    db_fail(t->c->db, err, "cannot read the imports");
    found = -1;
  }
  done(st);
  return found;
}

kj_code kjs_txn_import_note(kjs_txn *t, const char *digest, const char *type, const char *file,
                            long rows, int64_t at_ms, kj_err *err) {
  sqlite3_stmt *st = stmt(t->c, ST_IMPORT_PUT, err);
  if (!st)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, file, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, rows);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)at_ms);
  kj_code rc = KJ_OK;
  if (sqlite3_step(st) != SQLITE_DONE)
    rc = db_fail(t->c->db, err, "cannot record the import");
  done(st);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* restores (docs/protocol.md "Restores", docs/operations.md "Restore") */

static void side_path(char *out, size_t size, const char *db, const char *suffix) {
  snprintf(out, size, "%s%s", db, suffix);
}

/* The mark: "kinerjad-mark EPOCH SEQ\n", fixed width, rewritten in place.
 * A lost write only makes the mark lower than the database (no false
 * restore); the database's commit is durable on its own. */
static void mark_write(kjs_store *s, int64_t seq) {
  if (s->mark_fd < 0)
    return;
  char buf[96];
  pthread_mutex_lock(&s->emu);
  int n = snprintf(buf, sizeof buf, "kinerjad-mark %-32s %020lld\n", s->epoch, (long long)seq);
  pthread_mutex_unlock(&s->emu);
  if (n > 0 && pwrite(s->mark_fd, buf, (size_t)n, 0) != n)
    KJ_WARN("cannot write the restore mark of '%s': %s", s->path, strerror(errno));
}

static int mark_read(int fd, char epoch[KJ_INCARNATION_MAX + 1], long long *seq) {
  char buf[128] = "";
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    return 0;
  buf[n] = 0;
  char e[64];
  if (sscanf(buf, "kinerjad-mark %63s %lld", e, seq) != 2 || strlen(e) > KJ_INCARNATION_MAX)
    return 0;
  snprintf(epoch, KJ_INCARNATION_MAX + 1, "%s", e);
  return 1;
}

/* Append one JSON line to the token journal and fsync it; line is deleted. */
static kj_code journal_append(kjs_store *s, cJSON *line, kj_err *err) {
  char *text = line ? cJSON_PrintUnformatted(line) : NULL;
  cJSON_Delete(line);
  if (!text)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  char path[4200];
  side_path(path, sizeof path, s->path, KJS_TOKENS_SUFFIX);
  kj_code rc = KJ_OK;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  size_t len = strlen(text);
  text[len] = '\n';
  if (fd < 0 || write(fd, text, len + 1) != (ssize_t)(len + 1) || fsync(fd) != 0)
    rc = kj_fail(err, KJ_EIO, "cannot write the token journal '%s': %s", path, strerror(errno));
  if (fd >= 0)
    close(fd);
  free(text);
  return rc;
}

static kj_code unhex32(const char *h, unsigned char out[32]) {
  if (!h || strlen(h) != 64)
    return KJ_EINVAL;
  for (size_t i = 0; i < 32; i++) {
    unsigned v;
    if (sscanf(h + 2 * i, "%2x", &v) != 1)
      return KJ_EINVAL;
    out[i] = (unsigned char)v;
  }
  return KJ_OK;
}

/* Re-apply the token journal to the database of c (in its transaction):
 * tokens added and revocations the database lacks.  *n gets the count. */
static kj_code journal_replay(kjs_store *s, conn *c, int *n, kj_err *err) {
  *n = 0;
  char path[4200];
  side_path(path, sizeof path, s->path, KJS_TOKENS_SUFFIX);
  FILE *f = fopen(path, "r");
  if (!f)
    return errno == ENOENT ? KJ_OK
                           : kj_fail(err, KJ_EIO, "cannot read the token journal '%s': %s", path,
                                     strerror(errno));
  sqlite3_stmt *add = NULL, *rev = NULL;
  kj_code rc = KJ_OK;
  if (sqlite3_prepare_v2(c->db,
                         "INSERT OR IGNORE INTO tokens(hash, id, role, office, name, created) "
                         "VALUES(?1,?2,?3,?4,?5,?6)",
                         -1, &add, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(c->db, "UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
                         -1, &rev, NULL) != SQLITE_OK)
    rc = db_fail(c->db, err, "cannot replay the token journal");
  char *line = NULL;
  size_t cap = 0;
  long lineno = 0;
  while (!rc && getline(&line, &cap, f) > 0) {
    lineno++;
    cJSON *j = cJSON_Parse(line);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(j, "op");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "at");
    if (!cJSON_IsString(op) || !cJSON_IsString(id) || !cJSON_IsNumber(at)) {
      KJ_WARN("%s:%ld: not a token journal line, skipped", path, lineno);
      cJSON_Delete(j);
      continue;
    }
    sqlite3_stmt *st = NULL;
    if (!strcmp(op->valuestring, "revoke")) {
      st = rev;
      sqlite3_bind_text(st, 1, id->valuestring, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 2, (sqlite3_int64)at->valuedouble);
    } else if (!strcmp(op->valuestring, "add")) {
      const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "hash");
      const cJSON *role = cJSON_GetObjectItemCaseSensitive(j, "role");
      unsigned char hash[32];
      kjs_role rl;
      if (!cJSON_IsString(h) || unhex32(h->valuestring, hash) || !cJSON_IsString(role) ||
          kjs_role_parse(role->valuestring, &rl)) {
        KJ_WARN("%s:%ld: not a token journal line, skipped", path, lineno);
        cJSON_Delete(j);
        continue;
      }
      const cJSON *of = cJSON_GetObjectItemCaseSensitive(j, "office");
      const cJSON *nm = cJSON_GetObjectItemCaseSensitive(j, "name");
      st = add;
      sqlite3_bind_blob(st, 1, hash, 32, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 2, id->valuestring, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 3, role->valuestring, -1, SQLITE_TRANSIENT);
      bind_text_or_null(st, 4, cJSON_IsString(of) ? of->valuestring : NULL);
      bind_text_or_null(st, 5, cJSON_IsString(nm) ? nm->valuestring : NULL);
      sqlite3_bind_int64(st, 6, (sqlite3_int64)at->valuedouble);
    }
    if (st) {
      if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(c->db, err, "cannot replay the token journal");
      else
        *n += sqlite3_changes(c->db);
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
    }
    cJSON_Delete(j);
  }
  free(line);
  fclose(f);
  sqlite3_finalize(add);
  sqlite3_finalize(rev);
  return rc;
}

static int64_t query_i64(conn *c, const char *sql, int64_t dflt) {
  long long v = dflt;
  return pragma_int(c, sql, &v) ? dflt : (int64_t)v;
}

/* A new epoch after cur at base (inside the caller's write transaction);
 * its id into out. */
static kj_code epoch_new(conn *c, const char *cur, int64_t base, const char *how,
                         char out[KJ_INCARNATION_MAX + 1], kj_err *err) {
  unsigned char r[8];
  if (kj_random_bytes(r, sizeof r))
    return kj_fail(err, KJ_EIO, "no random bytes for a new epoch");
  for (size_t i = 0; i < 8; i++)
    snprintf(out + 2 * i, 3, "%02x", r[i]);
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db,
                         "INSERT INTO epochs(epoch, parent, base, at, how) VALUES(?1,?2,?3,?4,?5)",
                         -1, &st, NULL) != SQLITE_OK)
    return db_fail(c->db, err, "cannot start a new epoch");
  sqlite3_bind_text(st, 1, out, -1, SQLITE_STATIC);
  bind_text_or_null(st, 2, cur);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)base);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)kj_wall_ms());
  sqlite3_bind_text(st, 5, how, -1, SQLITE_STATIC);
  int r2 = sqlite3_step(st);
  sqlite3_finalize(st);
  return r2 == SQLITE_DONE ? KJ_OK : db_fail(c->db, err, "cannot start a new epoch");
}

static kj_code epoch_current(conn *c, char out[KJ_INCARNATION_MAX + 1], kj_err *err) {
  sqlite3_stmt *st = stmt(c, ST_EPOCH_CUR, err);
  if (!st)
    return KJ_EDB;
  int r = sqlite3_step(st);
  out[0] = 0;
  if (r == SQLITE_ROW)
    snprintf(out, KJ_INCARNATION_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
  done(st);
  return r == SQLITE_ROW || r == SQLITE_DONE ? KJ_OK : db_fail(c->db, err, "cannot read the epoch");
}

static kj_code restore_check(kjs_store *s, conn *c, int forced, kj_err *err) {
  kjs_open_info *in = &s->info;
  memset(in, 0, sizeof *in);
  in->mark_seq = -1;
  char mp[4200];
  side_path(mp, sizeof mp, s->path, KJS_MARK_SUFFIX);
  s->mark_fd = open(mp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (s->mark_fd < 0)
    return kj_fail(err, KJ_EIO, "cannot open '%s': %s", mp, strerror(errno));
  /* a shared lock while open: `kinerjad restore` takes it exclusively */
  (void)flock(s->mark_fd, LOCK_SH | LOCK_NB);
  char mepoch[KJ_INCARNATION_MAX + 1] = "";
  long long mseq = -1;
  int have = mark_read(s->mark_fd, mepoch, &mseq);
  if (have)
    in->mark_seq = mseq;
  kj_code rc = exec(c, "BEGIN IMMEDIATE", err);
  if (rc)
    return rc;
  int tok = 0;
  if ((rc = epoch_current(c, s->epoch, err)) || (rc = journal_replay(s, c, &tok, err)))
    goto fail;
  in->tokens_reapplied = tok;
  /* the last position: records and moved notices (docs/protocol.md "Moved records") */
  in->max_seq = query_i64(c, POSITION_MAX_SQL, 0);
  in->records = query_i64(c, "SELECT count(*) FROM records", 0);
  snprintf(in->old_epoch, sizeof in->old_epoch, "%s", s->epoch);
  if (forced)
    snprintf(in->why, sizeof in->why, "kinerjad restore");
  else if (have && strcmp(mepoch, s->epoch) != 0)
    snprintf(in->why, sizeof in->why,
             "its epoch %s is not the epoch %s the last run left (copied back from a backup?)",
             s->epoch, mepoch);
  else if (have && in->max_seq < mseq)
    snprintf(in->why, sizeof in->why,
             "it ends at position %" PRId64 ", the last run reached %lld (copied back from a "
             "backup?)",
             in->max_seq, mseq);
  if (in->why[0]) {
    in->restored = 1;
    if ((rc = epoch_new(c, s->epoch, in->max_seq, forced ? "restore" : "restored, found at start",
                        in->epoch, err)))
      goto fail;
    snprintf(s->epoch, sizeof s->epoch, "%s", in->epoch);
  } else {
    snprintf(in->epoch, sizeof in->epoch, "%s", s->epoch);
  }
  if ((rc = exec(c, "COMMIT", err)))
    goto fail;
  mark_write(s, in->max_seq);
  if (in->restored)
    KJ_WARN("the database was restored (%s): new epoch %s after position %" PRId64
            "; every device re-sends what it lacks and re-reads from there at its next sync",
            in->why, in->epoch, in->max_seq);
  if (tok)
    KJ_WARN("re-applied %d token changes (revocations, new devices) the database lacked", tok);
  return KJ_OK;
fail:
  exec(c, "ROLLBACK", NULL);
  return rc;
}

void kjs_store_open_info(const kjs_store *s, kjs_open_info *out) {
  *out = s->info;
}

void kjs_store_epoch(kjs_store *s, char out[KJ_INCARNATION_MAX + 1]) {
  pthread_mutex_lock(&s->emu);
  snprintf(out, KJ_INCARNATION_MAX + 1, "%s", s->epoch);
  pthread_mutex_unlock(&s->emu);
}

typedef struct epoch_row {
  char epoch[KJ_INCARNATION_MAX + 1], parent[KJ_INCARNATION_MAX + 1];
  int64_t base;
} epoch_row;

/* The lowest base between the current epoch and peer (exclusive) into
 * *base; 0 when peer is not an ancestor. */
static kj_code lineage_base(conn *c, const char *cur, const char *peer, int64_t *base,
                            kj_err *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db, "SELECT epoch, COALESCE(parent, ''), base FROM epochs", -1, &st,
                         NULL) != SQLITE_OK)
    return db_fail(c->db, err, "cannot read the epochs");
  epoch_row *rows = NULL;
  int n = 0, cap = 0, r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      epoch_row *x = realloc(rows, (size_t)cap * sizeof *rows);
      if (!x) {
        rc = kj_fail(err, KJ_ENOMEM, "out of memory");
        break;
      }
      rows = x;
    }
    snprintf(rows[n].epoch, sizeof rows[n].epoch, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(rows[n].parent, sizeof rows[n].parent, "%s", (const char *)sqlite3_column_text(st, 1));
    rows[n].base = sqlite3_column_int64(st, 2);
    n++;
  }
  if (!rc && r != SQLITE_DONE && r != SQLITE_ROW)
    rc = db_fail(c->db, err, "cannot read the epochs");
  sqlite3_finalize(st);
  *base = 0;
  if (!rc) {
    const char *e = cur;
    int64_t m = INT64_MAX;
    for (int hop = 0; hop <= n && e && e[0]; hop++) {
      if (!strcmp(e, peer)) {
        *base = m;
        break;
      }
      const epoch_row *row = NULL;
      for (int i = 0; i < n && !row; i++)
        if (!strcmp(rows[i].epoch, e))
          row = &rows[i];
      if (!row)
        break;
      if (row->base < m)
        m = row->base;
      e = row->parent;
    }
  }
  free(rows);
  return rc;
}

kj_code kjs_store_pull_since(kjs_store *s, const char *peer_epoch, int64_t since, int64_t *safe,
                             kj_err *err) {
  *safe = since;
  char cur[KJ_INCARNATION_MAX + 1];
  kjs_store_epoch(s, cur);
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  kj_code rc = KJ_OK;
  if (peer_epoch && peer_epoch[0] && strcmp(peer_epoch, cur) != 0) {
    int64_t base = 0;
    if ((rc = lineage_base(c, cur, peer_epoch, &base, err))) {
      release(s, c);
      return rc;
    }
    if (base < *safe)
      *safe = base;
  }
  int64_t max = query_i64(c, POSITION_MAX_SQL, -1);
  release(s, c);
  if (max < 0)
    return kj_fail(err, KJ_EDB, "cannot read the change sequence");
  if (*safe <= max)
    return KJ_OK;
  /* a device saw positions this database does not have: it was restored
   * and nothing told it (the mark was restored or lost too) */
  kjs_txn *t = NULL;
  if ((rc = kjs_txn_begin(s, &t, err)) || !t)
    return rc ? rc : KJ_EDB;
  char now[KJ_INCARNATION_MAX + 1], neu[KJ_INCARNATION_MAX + 1];
  /* the restored file ended where this database was when it was opened
   * (it was copied back while no kinerjad ran): later positions are new */
  int64_t base = s->info.max_seq < max ? s->info.max_seq : max;
  if (!(rc = epoch_current(t->c, now, err)) && !strcmp(now, cur) &&
      !(rc = epoch_new(t->c, cur, base, "restored, found by a device", neu, err))) {
    rc = kjs_txn_commit(t, err);
    t = NULL;
    if (!rc) {
      pthread_mutex_lock(&s->emu);
      snprintf(s->epoch, sizeof s->epoch, "%s", neu);
      pthread_mutex_unlock(&s->emu);
      mark_write(s, max);
      KJ_WARN("the database was restored: a device had read up to position %" PRId64
              ", the database ends at %" PRId64 "; new epoch %s: every device re-sends what it "
              "lacks and re-reads from there",
              since, max, neu);
    }
  }
  if (t)
    kjs_txn_rollback(t);
  *safe = base;
  return rc;
}

kj_code kjs_store_device_high(kjs_store *s, const kjs_principal *who, int64_t *high, kj_err *err) {
  *high = 0;
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_stmt *st = stmt(c, ST_APPLIED_HIGH, err);
  kj_code rc = KJ_OK;
  if (!st) {
    rc = KJ_EDB;
  } else {
    sqlite3_bind_text(st, 1, who->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, who->inc, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
      *high = sqlite3_column_int64(st, 0);
    else
      rc = db_fail(c->db, err, "cannot read the applied changes");
  }
  done(st);
  release(s, c);
  return rc;
}

/* FILE as a kinerjad database: integrity, application id, schema. */
static kj_code restore_file_check(const char *file, kj_err *err) {
  sqlite3 *db = NULL;
  kj_code rc = KJ_OK;
  if (access(file, R_OK) != 0)
    return kj_fail(err, KJ_EINVAL, "cannot read '%s': %s", file, strerror(errno));
  if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    rc = kj_fail(err, KJ_EINVAL, "'%s' is not a kinerjad database: %s", file,
                 db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return rc;
  }
  conn c = {.db = db};
  char ok[256] = "";
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
    rc = kj_fail(err, KJ_EINVAL, "'%s' is not a kinerjad database: %s", file, sqlite3_errmsg(db));
  } else {
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
      snprintf(ok, sizeof ok, "%s", (const char *)sqlite3_column_text(st, 0));
    else
      snprintf(ok, sizeof ok, "%s", sqlite3_errmsg(db));
    if (strcmp(ok, "ok") != 0)
      rc = kj_fail(err, KJ_EINVAL, "'%s' is damaged (integrity_check: %s)", file, ok);
  }
  sqlite3_finalize(st);
  long long appid = 0, ver = 0;
  if (!rc && (pragma_int(&c, "PRAGMA application_id", &appid) || appid != KJS_APP_ID))
    rc = kj_fail(err, KJ_EINVAL, "'%s' is not a kinerjad database (application_id %lld)", file,
                 appid);
  if (!rc && (pragma_int(&c, "PRAGMA user_version", &ver) || ver < 1))
    rc = kj_fail(err, KJ_EINVAL, "'%s' is not a kinerjad database (no schema)", file);
  if (!rc && ver > NMIGRATIONS)
    rc = kj_fail(err, KJ_EINVAL,
                 "'%s' has schema version %lld, newer than this kinerjad (%d): upgrade kinerjad",
                 file, ver, NMIGRATIONS);
  sqlite3_close(db);
  return rc;
}

kj_code kjs_store_restore(const char *db_path, const char *file, const kjs_config *cfg,
                          kjs_open_info *info, kj_err *err) {
  memset(info, 0, sizeof *info);
  char mp[4200], tmp[4200], side[4200], keep[4200];
  side_path(mp, sizeof mp, db_path, KJS_MARK_SUFFIX);
  int fd = open(mp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return kj_fail(err, KJ_EIO, "cannot open '%s': %s", mp, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return kj_fail(err, KJ_EBUSY,
                   "kinerjad is running on this data directory (or another kinerjad command "
                   "is): stop it first (systemctl stop kinerjad), then run restore again");
  }
  char mepoch[KJ_INCARNATION_MAX + 1] = "";
  long long mseq = -1;
  int have = mark_read(fd, mepoch, &mseq);
  kj_code rc = restore_file_check(file, err);
  if (!rc) {
    side_path(tmp, sizeof tmp, db_path, ".restoring");
    unlink(tmp);
    rc = kj_db_backup(file, tmp, NULL, err);
  }
  if (!rc && access(db_path, F_OK) == 0) {
    /* keep the database it replaces, whole (its WAL folded in) */
    sqlite3 *old = NULL;
    if (sqlite3_open_v2(db_path, &old, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK)
      sqlite3_exec(old, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(old);
    side_path(keep, sizeof keep, db_path, ".before-restore");
    if (rename(db_path, keep) != 0)
      rc = kj_fail(err, KJ_EIO, "cannot move '%s' aside: %s", db_path, strerror(errno));
  }
  if (!rc) {
    side_path(side, sizeof side, db_path, "-wal");
    unlink(side);
    side_path(side, sizeof side, db_path, "-shm");
    unlink(side);
    if (rename(tmp, db_path) != 0)
      rc = kj_fail(err, KJ_EIO, "cannot rename '%s' to '%s': %s", tmp, db_path, strerror(errno));
  }
  if (!rc) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", db_path);
    char *slash = strrchr(dir, '/');
    if (slash)
      *slash = 0;
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      (void)fsync(dfd);
      close(dfd);
    }
  }
  close(fd); /* the lock goes with it; the open below takes its shared one */
  if (rc)
    return rc;
  kjs_store *st = NULL;
  if ((rc = open_impl(&st, db_path, cfg, 0, 1, err)) || !st)
    return rc ? rc : KJ_EDB;
  kjs_store_open_info(st, info);
  info->mark_seq = have ? mseq : -1;
  kjs_store_close(st);
  return KJ_OK;
}

/* ---------------------------------------------------------------------- */
/* people of the dashboard and enrolment codes (issue 18) */

/* A one-off statement on c (these run rarely: commands and enrolment). */
static sqlite3_stmt *prep(conn *c, const char *sql, kj_err *err) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
    db_fail(c->db, err, "cannot prepare statement");
    return NULL;
  }
  return st;
}

kj_code kjs_store_user_add(kjs_store *s, const char *name, const char *role, const char *hash,
                           kj_err *err) {
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_stmt *st =
      prep(c, "INSERT INTO users(name, role, hash, created) VALUES(?1,?2,?3,?4)", err);
  kj_code rc = st ? KJ_OK : KJ_EDB;
  if (st) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)kj_wall_ms());
    if (sqlite3_step(st) != SQLITE_DONE) {
      if ((sqlite3_extended_errcode(c->db) & 0xff) == SQLITE_CONSTRAINT)
        rc = kj_fail(err, KJ_EEXIST, "user '%s' already exists (remove it first to replace it)",
                     name);
      else
        rc = db_fail(c->db, err, "cannot add user");
    }
  }
  sqlite3_finalize(st);
  release(s, c);
  return rc;
}

kj_code kjs_store_user_list(kjs_store *s, cJSON **out, kj_err *err) {
  *out = NULL;
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  cJSON *arr = cJSON_CreateArray();
  sqlite3_stmt *st =
      prep(c, "SELECT name, role, created, last_login FROM users ORDER BY name", err);
  kj_code rc = !st ? KJ_EDB : !arr ? kj_fail(err, KJ_ENOMEM, "out of memory") : KJ_OK;
  int r = SQLITE_DONE;
  while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o)) {
      cJSON_Delete(o);
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
      break;
    }
    json_add_text_or_null(o, "name", sqlite3_column_text(st, 0));
    json_add_text_or_null(o, "role", sqlite3_column_text(st, 1));
    cJSON_AddNumberToObject(o, "created", (double)sqlite3_column_int64(st, 2));
    if (sqlite3_column_type(st, 3) == SQLITE_NULL)
      cJSON_AddNullToObject(o, "last_login");
    else
      cJSON_AddNumberToObject(o, "last_login", (double)sqlite3_column_int64(st, 3));
  }
  if (!rc && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot list users");
  sqlite3_finalize(st);
  release(s, c);
  if (rc)
    cJSON_Delete(arr);
  else
    *out = arr;
  return rc;
}

kj_code kjs_store_user_remove(kjs_store *s, const char *name, kj_err *err) {
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_stmt *st = prep(c, "DELETE FROM users WHERE name = ?1", err);
  kj_code rc = st ? KJ_OK : KJ_EDB;
  if (st) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
      rc = db_fail(c->db, err, "cannot remove user");
    else if (sqlite3_changes(c->db) == 0)
      rc = kj_fail(err, KJ_ENOENT, "no user '%s' (see 'kinerjad user list')", name);
  }
  sqlite3_finalize(st);
  release(s, c);
  return rc;
}

/* Checked when the user does not exist, so that an unknown name costs the
 * same Argon2id work as a wrong password (no way to tell them apart by
 * time).  A hash of a random string nobody knows. */
static const char k_dummy_hash[] = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
                                   "J9x0b1m1aX8Rj8Gk0n0b2m8hC0mV1tQz0O4hQm6tV1A";

kj_code kjs_store_user_verify(kjs_store *s, const char *name, const char *password,
                              char role[KJS_USER_ROLE_MAX + 1], kj_err *err) {
  role[0] = 0;
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_stmt *st = prep(c, "SELECT role, hash FROM users WHERE name = ?1", err);
  kj_code rc = st ? KJ_OK : KJ_EDB;
  char hash[KJ_PASSHASH_MAX + 1] = "", urole[KJS_USER_ROLE_MAX + 1] = "";
  int found = 0;
  if (st) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
      found = 1;
      snprintf(urole, sizeof urole, "%s", (const char *)sqlite3_column_text(st, 0));
      snprintf(hash, sizeof hash, "%s", (const char *)sqlite3_column_text(st, 1));
    } else if (r != SQLITE_DONE) {
      rc = db_fail(c->db, err, "cannot read user");
    }
  }
  sqlite3_finalize(st);
  release(s, c);
  if (rc)
    return rc;
  kj_err ve;
  kj_err_clear(&ve);
  kj_code v = kj_pass_verify(found ? hash : k_dummy_hash, password, &ve);
  if (v == KJ_ENOMEM)
    return kj_fail(err, v, "%s", ve.msg);
  if (!found || v != KJ_OK) {
    if (found && v != KJ_EAUTH)
      KJ_WARN("user '%s': the stored password hash cannot be read: %s", name, ve.msg);
    return kj_fail(err, KJ_EAUTH, "wrong user name or password");
  }
  snprintf(role, KJS_USER_ROLE_MAX + 1, "%s", urole);
  /* when the user last signed in (best effort, like a token's last use) */
  c = acquire(s, NULL);
  sqlite3_stmt *u = c ? prep(c, "UPDATE users SET last_login = ?2 WHERE name = ?1", NULL) : NULL;
  if (u) {
    sqlite3_bind_text(u, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(u, 2, (sqlite3_int64)kj_wall_ms());
    (void)sqlite3_step(u);
  }
  sqlite3_finalize(u);
  release(s, c);
  return KJ_OK;
}

kj_code kjs_store_enrol_add(kjs_store *s, const unsigned char hash[32], const char *device,
                            const unsigned char *sealed, size_t sealed_len, int64_t expires_ms,
                            kj_err *err) {
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_stmt *st = prep(c,
                          "INSERT INTO enrol_codes(hash, device, sealed, created, expires) "
                          "VALUES(?1,?2,?3,?4,?5)",
                          err);
  kj_code rc = st ? KJ_OK : KJ_EDB;
  if (st) {
    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, sealed, (int)sealed_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)kj_wall_ms());
    sqlite3_bind_int64(st, 5, (sqlite3_int64)expires_ms);
    if (sqlite3_step(st) != SQLITE_DONE)
      rc = db_fail(c->db, err, "cannot store the enrolment code");
  }
  sqlite3_finalize(st);
  release(s, c);
  return rc;
}

/* Why the code of hash cannot be used now, as a kj_err (KJ_EAUTH), from
 * its row (or its absence). */
static kj_code enrol_refusal(conn *c, const unsigned char hash[32], int64_t now, kj_err *err) {
  sqlite3_stmt *st = prep(c,
                          "SELECT e.used, e.expires, t.revoked IS NOT NULL, t.id IS NULL "
                          "FROM enrol_codes e LEFT JOIN tokens t ON t.id = e.device "
                          "WHERE e.hash = ?1",
                          err);
  if (!st)
    return KJ_EDB;
  sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
  int r = sqlite3_step(st);
  kj_code rc;
  if (r == SQLITE_ROW) {
    char when[32];
    int used = sqlite3_column_type(st, 0) != SQLITE_NULL;
    time_t t = (time_t)(sqlite3_column_int64(st, used ? 0 : 1) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    if (used)
      rc = kj_fail(err, KJ_EAUTH,
                   "enrolment code already used (%s): ask the BKD for a new one "
                   "('kinerjad device add')",
                   when);
    else if (sqlite3_column_int(st, 2) || sqlite3_column_int(st, 3))
      rc = kj_fail(err, KJ_EAUTH, "enrolment code of a revoked device: ask the BKD for a new one");
    else if (sqlite3_column_int64(st, 1) <= now)
      rc = kj_fail(err, KJ_EAUTH,
                   "enrolment code expired (%s): ask the BKD for a new one ('kinerjad device add')",
                   when);
    else
      rc = KJ_OK;
  } else if (r == SQLITE_DONE) {
    rc = kj_fail(err, KJ_EAUTH,
                 "unknown enrolment code: check it against the one 'kinerjad device add' printed");
  } else {
    rc = db_fail(c->db, err, "cannot read enrolment codes");
  }
  sqlite3_finalize(st);
  return rc;
}

kj_code kjs_store_enrol_check(kjs_store *s, const unsigned char hash[32], kj_err *err) {
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  kj_code rc = enrol_refusal(c, hash, (int64_t)kj_wall_ms(), err);
  release(s, c);
  return rc;
}

kj_code kjs_store_enrol_use(kjs_store *s, const unsigned char hash[32], const char *used_by,
                            kjs_enrol_use *out, kj_err *err) {
  memset(out, 0, sizeof *out);
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  int64_t now = (int64_t)kj_wall_ms();
  kj_code rc = exec(c, "BEGIN IMMEDIATE", err);
  sqlite3_stmt *st = NULL;
  if (rc)
    goto out;
  if ((rc = enrol_refusal(c, hash, now, err)))
    goto out;
  st = prep(c,
            "SELECT e.device, e.sealed, t.office, t.hash FROM enrol_codes e "
            "JOIN tokens t ON t.id = e.device WHERE e.hash = ?1",
            err);
  if (!st) {
    rc = KJ_EDB;
    goto out;
  }
  sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r != SQLITE_ROW) {
    rc = r == SQLITE_DONE ? kj_fail(err, KJ_EAUTH, "unknown enrolment code")
                          : db_fail(c->db, err, "cannot read the enrolment code");
    goto out;
  }
  snprintf(out->device, sizeof out->device, "%s", (const char *)sqlite3_column_text(st, 0));
  const void *sealed = sqlite3_column_blob(st, 1);
  int sl = sqlite3_column_bytes(st, 1);
  if (sealed && sl > 0 && (size_t)sl <= sizeof out->sealed) {
    memcpy(out->sealed, sealed, (size_t)sl);
    out->sealed_len = (size_t)sl;
  }
  const unsigned char *of = sqlite3_column_text(st, 2);
  snprintf(out->office, sizeof out->office, "%s", of ? (const char *)of : "");
  const void *th = sqlite3_column_blob(st, 3);
  if (th && sqlite3_column_bytes(st, 3) == 32)
    memcpy(out->token_hash, th, 32);
  sqlite3_finalize(st);
  /* the code is spent in this transaction: one use, whatever comes after */
  st = prep(c,
            "UPDATE enrol_codes SET used = ?2, used_by = ?3, sealed = NULL "
            "WHERE hash = ?1 AND used IS NULL",
            err);
  if (!st) {
    rc = KJ_EDB;
    goto out;
  }
  sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
  sqlite3_bind_text(st, 3, used_by ? used_by : "", -1, SQLITE_STATIC);
  if (sqlite3_step(st) != SQLITE_DONE) {
    rc = db_fail(c->db, err, "cannot use the enrolment code");
    goto out;
  }
  if (sqlite3_changes(c->db) != 1) {
    rc = kj_fail(err, KJ_EAUTH, "enrolment code already used");
    goto out;
  }
  if (!out->sealed_len) {
    rc = kj_fail(err, KJ_EAUTH, "enrolment code holds no token: ask the BKD for a new one");
    goto out;
  }
  sqlite3_finalize(st);
  st = NULL;
  rc = exec(c, "COMMIT", err);
out:
  sqlite3_finalize(st);
  if (rc)
    exec(c, "ROLLBACK", NULL);
  release(s, c);
  return rc;
}

kj_code kjs_store_each_state(kjs_store *s, kj_rtype type, const char *office,
                             int (*fn)(void *ud, const char *state), void *ud, kj_err *err) {
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_stmt *st = prep(c,
                          "SELECT state FROM records WHERE type = ?1 AND deleted = 0 "
                          "AND (?2 IS NULL OR office = ?2) ORDER BY seq",
                          err);
  kj_code rc = st ? KJ_OK : KJ_EDB;
  if (st) {
    sqlite3_bind_text(st, 1, kj_type(type) ? kj_type(type)->name : "", -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, office);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW)
      if (fn(ud, (const char *)sqlite3_column_text(st, 0)))
        break;
    if (r != SQLITE_ROW && r != SQLITE_DONE)
      rc = db_fail(c->db, err, "cannot read the records");
  }
  sqlite3_finalize(st);
  release(s, c);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* what the PCs report (migration 12) and the dashboard's user check */

kj_code kjs_store_device_report_put(kjs_store *s, const char *device, const char *version,
                                    int64_t pending, int64_t rejected, int64_t at_ms, kj_err *err) {
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_stmt *st = prep(c,
                          "INSERT INTO device_reports(device, version, pending, rejected, at)"
                          " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(device) DO UPDATE SET"
                          " version = excluded.version, pending = excluded.pending,"
                          " rejected = excluded.rejected, at = excluded.at",
                          err);
  kj_code rc = st ? KJ_OK : KJ_EDB;
  if (st) {
    sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)pending);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)rejected);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)at_ms);
    if (sqlite3_step(st) != SQLITE_DONE)
      rc = db_fail(c->db, err, "cannot store the device's report");
  }
  sqlite3_finalize(st);
  release(s, c);
  return rc;
}

kj_code kjs_store_device_reports(kjs_store *s, cJSON **out, kj_err *err) {
  *out = NULL;
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  cJSON *map = cJSON_CreateObject();
  sqlite3_stmt *st =
      prep(c, "SELECT device, version, pending, rejected, at FROM device_reports", err);
  kj_code rc = st && map ? KJ_OK : st ? kj_fail(err, KJ_ENOMEM, "out of memory") : KJ_EDB;
  if (!rc) {
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
      cJSON *o = cJSON_AddObjectToObject(map, (const char *)sqlite3_column_text(st, 0));
      json_add_text_or_null(o, "version", sqlite3_column_text(st, 1));
      cJSON_AddNumberToObject(o, "pending", (double)sqlite3_column_int64(st, 2));
      cJSON_AddNumberToObject(o, "rejected", (double)sqlite3_column_int64(st, 3));
      cJSON_AddNumberToObject(o, "at", (double)sqlite3_column_int64(st, 4));
    }
    if (r != SQLITE_DONE)
      rc = db_fail(c->db, err, "cannot read the devices' reports");
  }
  sqlite3_finalize(st);
  release(s, c);
  if (rc)
    cJSON_Delete(map);
  else
    *out = map;
  return rc;
}

kj_code kjs_store_user_role(kjs_store *s, const char *name, char role[KJS_USER_ROLE_MAX + 1],
                            kj_err *err) {
  role[0] = 0;
  conn *c = acquire(s, err);
  if (!c)
    return err && err->code ? err->code : KJ_EDB;
  sqlite3_stmt *st = prep(c, "SELECT role FROM users WHERE name = ?1", err);
  kj_code rc = st ? KJ_OK : KJ_EDB;
  if (st) {
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
      snprintf(role, KJS_USER_ROLE_MAX + 1, "%s", (const char *)sqlite3_column_text(st, 0));
    else if (r == SQLITE_DONE)
      rc = kj_fail(err, KJ_ENOENT, "no user '%s'", name);
    else
      rc = db_fail(c->db, err, "cannot read the users");
  }
  sqlite3_finalize(st);
  release(s, c);
  return rc;
}
