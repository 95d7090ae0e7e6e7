/* db_sqlite.c - the store's database on SQLite (db.h): the schema, its
 * migrations and every statement of the server's own tables.
 *
 * After mosquitto's persist-sqlite: statements are prepared once per
 * connection (lazily, SQLITE_PREPARE_PERSISTENT) and bound, stepped and
 * reset per use.  SQLite errors are translated here, once.  A database is a
 * small pool of connections (WAL, synchronous=FULL, busy_timeout); a write
 * transaction is BEGIN IMMEDIATE, so writers of other processes (admin
 * commands while `serve` runs) wait their turn.  The score tables are
 * server/score_sqlite.c's, on the same connections.
 */
#include "db.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db_pool.h"
#include "dbbackup.h"
#include "log.h"
#include "score_sqlite.h"

#define KJS_APP_ID 0x4b4a5344 /* "KJSD" */
#define KJS_POOL_MAX 8
#define KJS_BUSY_MS 30000
/* Page cache of the writer's connection (q_acquire_writer), KiB: the pages
 * of a push's indexes stay between its batches instead of being read back
 * (pread) from the WAL and the file; the other connections keep SQLite's
 * default (2 MiB), so the pool (KJS_POOL_MAX) stays small for target 5.
 * 16 MiB took as much system CPU off a 100,000-record push as 32 and 64
 * (docs/performance.md "Push throughput"). */
#define KJS_WRITER_CACHE_KIB 16384
/* WAL pages (4 KiB) at which a commit asks the checkpointer thread for a
 * checkpoint, and at which a commit checkpoints itself (the checkpointer
 * behind or not running): SQLite's own would run inside the commit at 1,000 */
#define KJS_CKPT_PAGES 4096
#define KJS_CKPT_PAGES_SELF 16384

/* The last position of the change sequence: records and moved notices. */
#define POSITION_MAX_SQL                                                                           \
  "SELECT MAX(COALESCE((SELECT MAX(seq) FROM records), 0), COALESCE((SELECT MAX(seq) FROM "        \
  "moved), 0))"

enum {
  ST_TOKEN_ADD,
  ST_TOKEN_ADD_IGNORE,
  ST_TOKEN_LOOKUP,
  ST_TOKEN_SEEN,
  ST_TOKEN_REVOKE,
  ST_TOKEN_EXISTS,
  ST_TOKEN_LIST,
  ST_MAXSEQ,
  ST_COUNT,
  ST_REC_GET,
  ST_REC_PUT,
  ST_APPLIED_GET,
  ST_APPLIED_PUT,
  ST_APPLIED_PUT_WHY,
  ST_CONFLICT_PUT,
  ST_CONFLICT_LIST,
  ST_CONFLICT_TRIM,
  ST_PULL_ALL,
  ST_PULL_OFFICE,
  ST_MOVED_PULL,
  ST_MOVED_PUT,
  ST_CLOCK_GET,
  ST_CLOCK_PUT,
  ST_ROSTER,
  ST_HISTORY_PUT,
  ST_HISTORY_LIST,
  ST_IMPORT_GET,
  ST_IMPORT_PUT,
  ST_APPLIED_HIGH,
  ST_EPOCH_CUR,
  ST_EPOCH_ADD,
  ST_EPOCHS,
  ST_EMPLOYEE,
  ST_HAS_EMPLOYEES,
  ST_RATING_OTHER,
  ST_OFFICE_ZONE,
  ST_SERVICES,
  ST_SCAN_SEQ,
  ST_SCAN_KEY,
  ST_USER_ADD,
  ST_USER_LIST,
  ST_USER_REMOVE,
  ST_USER_GET,
  ST_USER_LOGIN,
  ST_REPORT_PUT,
  ST_REPORT_LIST,
  ST_ENROL_ADD,
  ST_ENROL_GET,
  ST_ENROL_SPEND,
  ST_SP_BEGIN,
  ST_SP_RELEASE,
  ST_SP_ROLLBACK,
  ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
    [ST_TOKEN_ADD] =
        "INSERT INTO tokens(hash, id, role, office, name, created) VALUES(?1,?2,?3,?4,?5,?6)",
    [ST_TOKEN_ADD_IGNORE] = "INSERT OR IGNORE INTO tokens(hash, id, role, office, name, created) "
                            "VALUES(?1,?2,?3,?4,?5,?6)",
    [ST_TOKEN_LOOKUP] = "SELECT hash, id, role, office, revoked, last_seen, name, created "
                        "FROM tokens WHERE hash = ?1",
    [ST_TOKEN_SEEN] = "UPDATE tokens SET last_seen = ?2 WHERE hash = ?1",
    [ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked = ?2 WHERE id = ?1 AND revoked IS NULL",
    [ST_TOKEN_EXISTS] = "SELECT 1 FROM tokens WHERE id = ?1",
    [ST_TOKEN_LIST] = "SELECT id, role, office, name, created, revoked, last_seen, "
                      "(SELECT CASE WHEN e.used IS NOT NULL OR tokens.last_seen IS NOT NULL THEN "
                      "'used' WHEN e.expires <= ?2 "
                      "THEN 'expired' ELSE 'pending' END FROM enrol_codes e WHERE e.device = "
                      "tokens.id ORDER BY e.created DESC LIMIT 1) "
                      "FROM tokens WHERE ?1 = 0 OR role = 'device' ORDER BY created, id",
    [ST_MAXSEQ] = POSITION_MAX_SQL,
    [ST_COUNT] = "SELECT count(*) FROM records",
    [ST_REC_GET] = "SELECT state FROM records WHERE type = ?1 AND id = ?2",
    [ST_REC_PUT] = "INSERT OR REPLACE INTO records(type, id, office, deleted, state, seq, origin) "
                   "VALUES(?1,?2,?3,?4,?5,?6,?7)",
    [ST_APPLIED_GET] = "SELECT status, error, digest, code, field, args FROM applied "
                       "WHERE device = ?1 AND inc = ?3 AND seq = ?2",
    [ST_APPLIED_PUT] =
        "INSERT INTO applied(device, seq, status, error, inc, digest) VALUES(?1,?2,?3,?4,?5,?6)",
    [ST_APPLIED_PUT_WHY] = "INSERT INTO applied(device, seq, status, error, inc, digest, code, "
                           "field, args) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)",
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
    /* keep the newest ?3 rows of one record */
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
    [ST_HISTORY_LIST] = "SELECT h.type, h.id, h.device, h.author, h.hlc, h.change, h.at, "
                        "(SELECT json_extract(o.state, '$.f.timezone') FROM records r "
                        " JOIN records o ON o.type = 'office' AND o.id = r.office "
                        " WHERE r.type = h.type AND r.id = h.id) "
                        "FROM history h WHERE h.id = ?1 ORDER BY h.n",
    [ST_IMPORT_GET] = "SELECT at, file FROM imports WHERE digest = ?1",
    [ST_IMPORT_PUT] = "INSERT OR REPLACE INTO imports(digest, type, file, rows, at) "
                      "VALUES(?1,?2,?3,?4,?5)",
    [ST_APPLIED_HIGH] = "SELECT COALESCE(MAX(seq), 0) FROM applied WHERE device = ?1 AND inc = ?2",
    [ST_EPOCH_CUR] = "SELECT epoch FROM epochs ORDER BY n DESC LIMIT 1",
    [ST_EPOCH_ADD] = "INSERT INTO epochs(epoch, parent, base, at, how) VALUES(?1,?2,?3,?4,?5)",
    [ST_EPOCHS] = "SELECT epoch, COALESCE(parent, ''), base FROM epochs ORDER BY n",
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
    [ST_SERVICES] = "SELECT json_extract(state, '$.f.name') FROM records WHERE office = ?1 "
                    "AND type = 'service' AND deleted = 0 ORDER BY seq",
    [ST_SCAN_SEQ] = "SELECT type, id, office, deleted, state, seq, origin FROM records "
                    "WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR office = ?2) "
                    "AND (?3 = 0 OR deleted = 0) ORDER BY seq",
    [ST_SCAN_KEY] = "SELECT type, id, office, deleted, state, seq, origin FROM records "
                    "WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR office = ?2) "
                    "AND (?3 = 0 OR deleted = 0) ORDER BY type, id",
    [ST_USER_ADD] = "INSERT INTO users(name, role, hash, created) VALUES(?1,?2,?3,?4)",
    [ST_USER_LIST] = "SELECT name, role, created, last_login FROM users ORDER BY name",
    [ST_USER_REMOVE] = "DELETE FROM users WHERE name = ?1",
    [ST_USER_GET] = "SELECT role, hash FROM users WHERE name = ?1",
    [ST_REPORT_PUT] = "INSERT INTO device_reports(device, version, pending, rejected, at)"
                      " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(device) DO UPDATE SET"
                      " version = excluded.version, pending = excluded.pending,"
                      " rejected = excluded.rejected, at = excluded.at",
    [ST_REPORT_LIST] = "SELECT device, version, pending, rejected, at FROM device_reports",
    [ST_USER_LOGIN] = "UPDATE users SET last_login = ?2 WHERE name = ?1",
    [ST_ENROL_ADD] = "INSERT INTO enrol_codes(hash, device, sealed, created, expires) "
                     "VALUES(?1,?2,?3,?4,?5)",
    /* a code whose token was already used directly (--token) is spent:
     * used then is when the token was last seen */
    [ST_ENROL_GET] = "SELECT e.device, COALESCE(e.used, t.last_seen), e.expires, t.revoked IS NOT "
                     "NULL, t.id IS NULL, "
                     "e.sealed, t.office, t.hash FROM enrol_codes e "
                     "LEFT JOIN tokens t ON t.id = e.device WHERE e.hash = ?1",
    [ST_ENROL_SPEND] = "UPDATE enrol_codes SET used = ?2, used_by = ?3, sealed = NULL "
                       "WHERE hash = ?1 AND used IS NULL",
    /* the savepoint of one item, prepared once: parsing them at every item
     * cost more than the item's own inserts */
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
    /* 13: the scores' report aggregates (sc_realyear, sc_cmpmonth,
     * sc_surveyyear) and the report memo's change counters (sc_office_ver),
     * made and filled from the tables they sum: kjs_score_sqlite_aggregates
     * (docs/scoring.md "Aggregates"); a kinerjad without them cannot open
     * the store any more (it would write without keeping them) */
    NULL,
    /* 14: a rejection by a rule keeps its refusal as the push answered it
     * (code, field, args: a JSON array of strings), so that its replay
     * answers the same (docs/protocol.md "Push"); older rows keep NULL */
    "ALTER TABLE applied ADD COLUMN code TEXT;"
    "ALTER TABLE applied ADD COLUMN field TEXT;"
    "ALTER TABLE applied ADD COLUMN args TEXT;",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))
#define MIGRATION_AGGREGATES 12 /* migrations[12] is kjs_score_sqlite_aggregates */

int kjs_db_test_older;

/* Rows of one multi-row INSERT of applied_put_many / history_put_many
 * (a chunk; fewer go one by one) */
#define MANY_ROWS 64
#define MANY_ROWS_SMALL 8

struct kjs_dbc {
  sqlite3 *db;
  sqlite3_stmt *st[ST__COUNT];
  /* MANY_ROWS and MANY_ROWS_SMALL rows, prepared at first use */
  sqlite3_stmt *applied_many[2], *history_many[2];
  sqlite3_stmt *rec_add; /* q_rec_add's, prepared at first use */
  int writer;            /* 1: the database's writer connection (q_acquire_writer) */
  /* token_get's strings, valid until the next call */
  char t_id[128], t_role[16], t_office[64], t_name[256];
};
typedef struct kjs_dbc conn;

/* The checkpointer's state (kjs_db.ckpt_state) */
enum { CKPT_NONE, CKPT_RUNNING, CKPT_FAILED };

struct kjs_db {
  char *path;
  kjs_pool pool;      /* db_pool.h: conn_open, conn_close */
  pthread_mutex_t mu; /* the fields below */
  conn *writer;       /* kept out of the pool between write transactions */
  int writer_out;     /* 1: acquired */
  /* The checkpointer: a thread with its own connection, started at the first
   * commit that leaves KJS_CKPT_PAGES in the WAL, then woken by such commits
   * (ckpt_want) until close (ckpt_stop). */
  pthread_t ckpt;
  pthread_cond_t ckpt_cv;
  int ckpt_started, ckpt_state, ckpt_want, ckpt_stop;
};

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

static void btext(sqlite3_stmt *st, int i, const char *v) {
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

/* btext of a string that outlives the step (bound, stepped and reset in
 * one function): no copy. */
static void bstatic(sqlite3_stmt *st, int i, const char *v) {
  if (v)
    sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, i);
}

static const char *ctext(sqlite3_stmt *st, int i) {
  return (const char *)sqlite3_column_text(st, i);
}

/* Step a statement that returns no row: KJ_OK or the error (what). */
static kj_code run(conn *c, sqlite3_stmt *st, const char *what, kj_err *err) {
  int r = sqlite3_step(st);
  kj_code rc = r == SQLITE_DONE ? KJ_OK : db_fail(c->db, err, what);
  done(st);
  return rc;
}

/* NOLINTBEGIN(bugprone-macro-parentheses): st is the name being declared */
#define PREP(st, c, which, err)                                                                    \
  sqlite3_stmt *st = stmt((c), (which), (err));                                                    \
  if (!st)                                                                                         \
  return KJ_EDB
/* NOLINTEND(bugprone-macro-parentheses) */

static void conn_close(conn *c) {
  if (!c)
    return;
  for (int i = 0; i < ST__COUNT; i++)
    sqlite3_finalize(c->st[i]);
  for (int i = 0; i < 2; i++) {
    sqlite3_finalize(c->applied_many[i]);
    sqlite3_finalize(c->history_many[i]);
  }
  sqlite3_finalize(c->rec_add);
  sqlite3_close(c->db);
  free(c);
}

static kj_code conn_open(const char *path, int create, conn **out, kj_err *err) {
  conn *c = calloc(1, sizeof *c);
  if (!c) {
    kj_fail(err, KJ_ENOMEM, "out of memory");
    return KJ_ENOMEM;
  }
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
static kj_code pragma_int(sqlite3 *db, const char *sql, long long *out) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return KJ_EDB;
  int ok = sqlite3_step(st) == SQLITE_ROW;
  if (ok)
    *out = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return ok ? KJ_OK : KJ_EDB;
}

static kj_code migrate(conn *c, kj_err *err) {
  kj_code rc = exec(c, "BEGIN IMMEDIATE", err);
  if (rc)
    return rc;
  long long ver = 0, appid = 0, ntables = 0;
  if (pragma_int(c->db, "PRAGMA user_version", &ver) ||
      pragma_int(c->db, "PRAGMA application_id", &appid) ||
      pragma_int(c->db, "SELECT count(*) FROM sqlite_master", &ntables)) {
    rc = db_fail(c->db, err, "cannot read the schema version");
    goto fail;
  }
  if (appid != KJS_APP_ID && (appid != 0 || ntables != 0)) {
    rc = kj_fail(err, KJ_EDB, "not a kinerjad database");
    goto fail;
  }
  int known = NMIGRATIONS - (kjs_db_test_older > 0 ? kjs_db_test_older : 0);
  if (ver > known) {
    rc = kj_fail(err, KJ_EVERSION,
                 "database schema version %lld is newer than this kinerjad (%d): upgrade kinerjad",
                 ver, known);
    goto fail;
  }
  for (int v = (int)ver; v < known; v++) {
    if (migrations[v] && (rc = exec(c, migrations[v], err)))
      goto fail;
    if (v == 0 && kjs_score_sqlite_schema(c->db, err) != 0) {
      rc = KJ_EDB;
      goto fail;
    }
    if (v == MIGRATION_AGGREGATES && kjs_score_sqlite_aggregates(c->db, err) != 0) {
      rc = err && err->code ? err->code : KJ_EDB;
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
  rc = exec(c, "COMMIT", err);
  if (!rc && ver < known && ver > 0)
    KJ_INFO("database upgraded from schema %lld to %d", ver, known);
  return rc;
fail:
  exec(c, "ROLLBACK", NULL);
  return rc;
}

static void q_close(kjs_db *d);

/* --- the checkpointer ---------------------------------------------------
 *
 * SQLite checkpoints a WAL database inside the commit that takes the WAL past
 * wal_autocheckpoint (1,000 pages): on a push of 1,000 surveys, whose batch
 * writes about 1,500 pages, every batch's answer waited for its pages to be
 * copied into the database file and both files fsynced.  Every connection
 * here has a WAL hook instead (it replaces SQLite's autocheckpoint): a
 * commit that leaves KJS_CKPT_PAGES or more wakes a thread that runs a
 * PASSIVE checkpoint on its own connection, beside the next transactions
 * (a PASSIVE checkpoint takes no lock a writer or a reader waits for; the
 * WAL starts again from its beginning at the first write after a complete
 * one).  Past KJS_CKPT_PAGES_SELF (the thread behind, or it could not
 * start or open its connection) the commit checkpoints itself, PASSIVE, as
 * SQLite would: the WAL stays bounded. */

static void *ckpt_main(void *arg) {
  kjs_db *d = arg;
  conn *c = NULL;
  pthread_mutex_lock(&d->mu);
  for (;;) {
    while (!d->ckpt_want && !d->ckpt_stop)
      pthread_cond_wait(&d->ckpt_cv, &d->mu);
    if (d->ckpt_stop)
      break;
    d->ckpt_want = 0;
    pthread_mutex_unlock(&d->mu);
    kj_err e;
    kj_err_clear(&e);
    if (!c && conn_open(d->path, 0, &c, &e) != KJ_OK) {
      KJ_WARN("checkpointer: %s; commits checkpoint themselves", e.msg);
      pthread_mutex_lock(&d->mu);
      d->ckpt_state = CKPT_FAILED;
      break;
    }
    int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
      KJ_WARN("checkpoint of '%s': %s", d->path, sqlite3_errmsg(c->db));
    pthread_mutex_lock(&d->mu);
  }
  pthread_mutex_unlock(&d->mu);
  conn_close(c);
  return NULL;
}

/* sqlite3_wal_hook of every connection: pages is the WAL's size after the
 * commit that just ended.  Always SQLITE_OK: the commit is done whatever a
 * checkpoint does. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages) {
  kjs_db *d = arg;
  if (pages < KJS_CKPT_PAGES)
    return SQLITE_OK;
  int self = pages >= KJS_CKPT_PAGES_SELF;
  if (!self) {
    pthread_mutex_lock(&d->mu);
    if (d->ckpt_state == CKPT_NONE && !d->ckpt_stop) {
      d->ckpt_started = pthread_create(&d->ckpt, NULL, ckpt_main, d) == 0;
      d->ckpt_state = d->ckpt_started ? CKPT_RUNNING : CKPT_FAILED;
      if (!d->ckpt_started)
        KJ_WARN("cannot start the checkpointer thread; commits checkpoint themselves");
    }
    self = d->ckpt_state != CKPT_RUNNING;
    if (!self) {
      d->ckpt_want = 1;
      pthread_cond_signal(&d->ckpt_cv);
    }
    pthread_mutex_unlock(&d->mu);
  }
  if (self)
    (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  return SQLITE_OK;
}

/* Stop the checkpointer thread (if it runs) and close its connection. */
static void ckpt_stop(kjs_db *d) {
  pthread_mutex_lock(&d->mu);
  d->ckpt_stop = 1;
  int started = d->ckpt_started;
  pthread_cond_signal(&d->ckpt_cv);
  pthread_mutex_unlock(&d->mu);
  if (started)
    pthread_join(d->ckpt, NULL);
}

/* db_pool.h's callbacks: the connections after the first, which made the
 * schema */
static kj_code pool_open(void *ctx, conn **out, kj_err *err) {
  kjs_db *d = ctx;
  kj_code rc = conn_open(d->path, 0, out, err);
  if (!rc)
    sqlite3_wal_hook((*out)->db, wal_hook, d);
  return rc;
}

static const kjs_pool_ops pool_ops = {pool_open, conn_close, NULL};

/* SQLite's memory statistics cost a mutex and counters at every malloc and
 * free of SQLite's (Debian's build has no lookaside buffers: about 35 of
 * each per pushed record) and nothing here reads them: off for the
 * process.  sqlite3_config is taken only before SQLite is initialised
 * (kinerjad opens its store first, on one thread); later it is refused and
 * changes nothing. */
static pthread_once_t g_config_once = PTHREAD_ONCE_INIT;
static void sqlite_config(void) {
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static kj_code q_open(const char *where, int create, kjs_db **out, kj_err *err) {
  *out = NULL;
  pthread_once(&g_config_once, sqlite_config);
  kjs_db *d = calloc(1, sizeof *d);
  if (!d || !(d->path = strdup(where))) {
    free(d);
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  if (kjs_pool_init(&d->pool, KJS_POOL_MAX, &pool_ops, d, err)) {
    free(d->path);
    free(d);
    return KJ_ENOMEM;
  }
  pthread_mutex_init(&d->mu, NULL);
  pthread_cond_init(&d->ckpt_cv, NULL);
  conn *c = NULL;
  kj_code rc = conn_open(where, create, &c, err);
  if (!rc)
    sqlite3_wal_hook(c->db, wal_hook, d);
  if (rc == KJ_ENOENT)
    kj_fail(err, KJ_ENOENT, "no database at '%s': run 'kinerjad init' first", where);
  if (!rc && (rc = migrate(c, err))) {
    conn_close(c);
    c = NULL;
  }
  if (rc) {
    q_close(d);
    return rc;
  }
  kjs_pool_add(&d->pool, c);
  *out = d;
  return KJ_OK;
}

static void q_close(kjs_db *d) {
  if (!d)
    return;
  ckpt_stop(d);
  conn_close(d->writer);
  kjs_pool_release(&d->pool);
  pthread_mutex_destroy(&d->mu);
  pthread_cond_destroy(&d->ckpt_cv);
  free(d->path);
  free(d);
}

static conn *q_acquire(kjs_db *d, kj_err *err) {
  return kjs_pool_get(&d->pool, err);
}

/* The writer's connection: kept out of the pool, with KJS_WRITER_CACHE_KIB
 * of page cache, for store.c's write transactions (which take turns on its
 * write mutex); opened at the first.  SQLite empties a connection's cache
 * when another connection has written since its last transaction, so one
 * connection for the pushes keeps their pages; another writer of the
 * process (enrolment, the clock's seed) uses a pooled connection.  While
 * the writer's is taken (not by store.c), a pooled one is given. */
static conn *q_acquire_writer(kjs_db *d, kj_err *err) {
  pthread_mutex_lock(&d->mu);
  int take = !d->writer_out;
  conn *c = take ? d->writer : NULL;
  if (take)
    d->writer_out = 1;
  pthread_mutex_unlock(&d->mu);
  if (!take)
    return q_acquire(d, err);
  if (c)
    return c;
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA cache_size=-%d", KJS_WRITER_CACHE_KIB);
  if (conn_open(d->path, 0, &c, err) == KJ_OK && exec(c, sql, err) != KJ_OK) {
    conn_close(c);
    c = NULL;
  }
  pthread_mutex_lock(&d->mu);
  if (c) {
    sqlite3_wal_hook(c->db, wal_hook, d);
    c->writer = 1;
    d->writer = c;
  } else {
    d->writer_out = 0;
  }
  pthread_mutex_unlock(&d->mu);
  return c;
}

static void q_release(kjs_db *d, conn *c) {
  if (!c)
    return;
  /* A COMMIT or ROLLBACK that failed (out of memory) must not leave the
   * next user of this connection inside the old transaction: roll back, or
   * close the connection (the pool, or the next q_acquire_writer, opens a
   * new one). */
  int stuck = !sqlite3_get_autocommit(c->db) &&
              (exec(c, "ROLLBACK", NULL) || !sqlite3_get_autocommit(c->db));
  if (c->writer) {
    pthread_mutex_lock(&d->mu);
    if (stuck)
      d->writer = NULL;
    d->writer_out = 0;
    pthread_mutex_unlock(&d->mu);
    if (stuck)
      conn_close(c);
  } else if (stuck) {
    kjs_pool_drop(&d->pool, c);
  } else {
    kjs_pool_put(&d->pool, c);
  }
}

/* --- transactions ------------------------------------------------------ */

/* The score store of a connection holds survey sums back until the
 * commit (score_sqlite.h): written before COMMIT, forgotten at a rollback. */
static kj_code q_begin(conn *c, int write, kj_err *err) {
  if (c)
    kjs_score_sqlite_discard(c->db);
  kj_code rc = exec(c, write ? "BEGIN IMMEDIATE" : "BEGIN", err);
  if (!rc && write)
    kjs_score_sqlite_hold(c->db);
  return rc;
}

static kj_code q_commit(conn *c, kj_err *err) {
  kj_code rc = c ? kjs_score_sqlite_flush(c->db, err) : KJ_OK;
  return rc ? rc : exec(c, "COMMIT", err);
}

static void q_rollback(conn *c) {
  if (c)
    kjs_score_sqlite_discard(c->db);
  if (c && !sqlite3_get_autocommit(c->db))
    exec(c, "ROLLBACK", NULL);
}

static kj_code q_savepoint(conn *c, kjs_db_sp op, kj_err *err) {
  int which = op == KJS_SP_BEGIN     ? ST_SP_BEGIN
              : op == KJS_SP_RELEASE ? ST_SP_RELEASE
                                     : ST_SP_ROLLBACK;
  /* the sums held back are written before the savepoint begins or ends,
   * forgotten when it rolls back */
  if (op == KJS_SP_ROLLBACK)
    kjs_score_sqlite_discard(c->db);
  else if (kjs_score_sqlite_flush(c->db, err))
    return KJ_EDB;
  kjs_score_sqlite_hold(c->db);
  PREP(st, c, which, err);
  return run(c, st, "cannot keep a savepoint", err);
}

/* --- records ----------------------------------------------------------- */

static kj_code one_i64(conn *c, int which, int64_t *out, const char *what, kj_err *err) {
  PREP(st, c, which, err);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW)
    *out = sqlite3_column_int64(st, 0);
  else
    rc = db_fail(c->db, err, what);
  done(st);
  return rc;
}

static kj_code q_position_max(conn *c, int64_t *out, kj_err *err) {
  return one_i64(c, ST_MAXSEQ, out, "cannot read the change sequence", err);
}

static kj_code q_records_count(conn *c, long long *out, kj_err *err) {
  int64_t n = 0;
  kj_code rc = one_i64(c, ST_COUNT, &n, "cannot count the records", err);
  *out = n;
  return rc;
}

static kj_code q_rec_get(conn *c, const char *type, const char *id, int lock, char **state,
                         kj_err *err) {
  (void)lock; /* the write transaction holds the database */
  *state = NULL;
  PREP(st, c, ST_REC_GET, err);
  sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW) {
    const char *v = ctext(st, 0);
    if (!(*state = strdup(v ? v : "")))
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
  } else if (r != SQLITE_DONE) {
    rc = db_fail(c->db, err, "cannot read record");
  }
  done(st);
  return rc;
}

/* A record's seven columns (type, id, office, deleted, state, seq, origin)
 * bound to ?1..?7 of ST_REC_PUT or the rec_add statement, without copies. */
static void bind_rec(sqlite3_stmt *st, const kjs_db_rec *r) {
  sqlite3_bind_text(st, 1, r->type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, r->id, -1, SQLITE_STATIC);
  bstatic(st, 3, r->office && *r->office ? r->office : NULL);
  sqlite3_bind_int(st, 4, r->deleted ? 1 : 0);
  sqlite3_bind_text(st, 5, r->state, (int)r->state_len, SQLITE_STATIC);
  sqlite3_bind_int64(st, 6, (sqlite3_int64)r->seq);
  bstatic(st, 7, r->origin);
}

static kj_code q_rec_put(conn *c, const kjs_db_rec *r, kj_err *err) {
  PREP(st, c, ST_REC_PUT, err);
  bind_rec(st, r);
  return run(c, st, "cannot store record", err);
}

static kj_code q_rec_add(conn *c, const kjs_db_rec *r, int *added, kj_err *err) {
  *added = 0;
  if (!c->rec_add &&
      sqlite3_prepare_v3(c->db,
                         "INSERT INTO records(type, id, office, deleted, state, seq, origin) "
                         "VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(type, id) DO NOTHING",
                         -1, SQLITE_PREPARE_PERSISTENT, &c->rec_add, NULL) != SQLITE_OK)
    return db_fail(c->db, err, "cannot prepare statement");
  sqlite3_stmt *st = c->rec_add;
  bind_rec(st, r);
  kj_code rc = run(c, st, "cannot store record", err);
  if (!rc)
    *added = sqlite3_changes(c->db) > 0;
  return rc;
}

static kj_code q_records_scan(conn *c, const char *type, const char *office, int live_only,
                              int by_seq, kj_code (*each)(void *, const kjs_db_rec *), void *ctx,
                              kj_err *err) {
  PREP(st, c, by_seq ? ST_SCAN_SEQ : ST_SCAN_KEY, err);
  btext(st, 1, type);
  btext(st, 2, office);
  sqlite3_bind_int(st, 3, live_only ? 1 : 0);
  int r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    kjs_db_rec row = {ctext(st, 0),
                      ctext(st, 1),
                      ctext(st, 2),
                      sqlite3_column_int(st, 3),
                      ctext(st, 4),
                      (size_t)sqlite3_column_bytes(st, 4),
                      sqlite3_column_int64(st, 5),
                      ctext(st, 6)};
    if ((rc = each(ctx, &row)))
      break;
  }
  if (!rc && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read the records");
  done(st);
  return rc;
}

static kj_code q_pull(conn *c, int64_t since, int limit, const char *office,
                      const char *const *broadcast, int ntypes, const char *skip_origin,
                      kj_code (*each)(void *, int64_t, const char *), void *ctx, kj_err *err) {
  PREP(st, c, office ? ST_PULL_OFFICE : ST_PULL_ALL, err);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)since);
  sqlite3_bind_int(st, 2, limit);
  if (office) {
    char types[512];
    size_t n = 0;
    types[n++] = '[';
    for (int i = 0; i < ntypes && n < sizeof types - 64; i++)
      n += (size_t)snprintf(types + n, sizeof types - n, "%s\"%s\"", i ? "," : "", broadcast[i]);
    snprintf(types + n, sizeof types - n, "]");
    sqlite3_bind_text(st, 3, office, -1, SQLITE_STATIC);
    btext(st, 4, skip_origin);
    sqlite3_bind_text(st, 5, types, -1, SQLITE_TRANSIENT);
  }
  int r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW)
    if ((rc = each(ctx, sqlite3_column_int64(st, 0), ctext(st, 1))))
      break;
  if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read changes");
  done(st);
  return rc;
}

static kj_code q_moved_put(conn *c, const char *office, const char *type, const char *id,
                           int64_t seq, kj_err *err) {
  PREP(st, c, ST_MOVED_PUT, err);
  sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)seq);
  return run(c, st, "cannot record a move", err);
}

static kj_code q_moved_pull(conn *c, const char *office, int64_t since, int64_t upto,
                            kj_code (*each)(void *, const char *, const char *), void *ctx,
                            kj_err *err) {
  PREP(st, c, ST_MOVED_PULL, err);
  sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)upto);
  int r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW)
    if ((rc = each(ctx, ctext(st, 0), ctext(st, 1))))
      break;
  if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read the moved notices");
  done(st);
  return rc;
}

/* --- the roster -------------------------------------------------------- */

static kj_code q_roster_has(conn *c, const char *office, const char *nip, int *found, kj_err *err) {
  PREP(st, c, ST_ROSTER, err);
  sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, nip, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  done(st);
  *found = r == SQLITE_ROW;
  return r == SQLITE_ROW || r == SQLITE_DONE ? KJ_OK
                                             : db_fail(c->db, err, "cannot read the roster");
}

static kj_code q_employee(conn *c, const char *nip, char office[64], char supervisor[64],
                          int *found, kj_err *err) {
  *found = 0;
  PREP(st, c, ST_EMPLOYEE, err);
  sqlite3_bind_text(st, 1, nip, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW) {
    const char *o = ctext(st, 0), *sup = ctext(st, 1);
    snprintf(office, 64, "%s", o ? o : "");
    snprintf(supervisor, 64, "%s", sup ? sup : "");
    *found = 1;
  } else if (r != SQLITE_DONE) {
    rc = db_fail(c->db, err, "cannot read the roster");
  }
  done(st);
  return rc;
}

static kj_code q_employees_any(conn *c, int *any, kj_err *err) {
  PREP(st, c, ST_HAS_EMPLOYEES, err);
  int r = sqlite3_step(st);
  done(st);
  *any = r == SQLITE_ROW;
  return r == SQLITE_ROW || r == SQLITE_DONE ? KJ_OK
                                             : db_fail(c->db, err, "cannot read the roster");
}

static kj_code q_rating_other(conn *c, const char *period, const char *rater, const char *ratee,
                              const char *id, char *out, size_t size, kj_err *err) {
  out[0] = 0;
  PREP(st, c, ST_RATING_OTHER, err);
  sqlite3_bind_text(st, 1, period, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, rater, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, ratee, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW)
    snprintf(out, size, "%s", ctext(st, 0));
  else if (r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read the ratings");
  done(st);
  return rc;
}

static kj_code q_office_zone(conn *c, const char *office, char *out, size_t size, kj_err *err) {
  out[0] = 0;
  PREP(st, c, ST_OFFICE_ZONE, err);
  sqlite3_bind_text(st, 1, office, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW && ctext(st, 0))
    snprintf(out, size, "%s", ctext(st, 0));
  else if (r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read the office");
  done(st);
  return rc;
}

static kj_code q_services(conn *c, const char *office, kj_code (*each)(void *, const char *),
                          void *ctx, kj_err *err) {
  PREP(st, c, ST_SERVICES, err);
  sqlite3_bind_text(st, 1, office, -1, SQLITE_STATIC);
  int r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW)
    if (ctext(st, 0) && (rc = each(ctx, ctext(st, 0))))
      break;
  if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read the services");
  done(st);
  return rc;
}

/* --- exactly once, conflicts, history, clock, imports ------------------ */

static kj_code q_applied_get(conn *c, const char *device, const char *inc, int64_t seq, int lock,
                             int *found, kjs_db_applied *out, kj_err *err) {
  (void)lock;
  *found = 0;
  PREP(st, c, ST_APPLIED_GET, err);
  sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
  sqlite3_bind_text(st, 3, inc, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW) {
    *found = 1;
    snprintf(out->status, sizeof out->status, "%s", ctext(st, 0) ? ctext(st, 0) : "");
    snprintf(out->error, sizeof out->error, "%s", ctext(st, 1) ? ctext(st, 1) : "");
    const void *dg = sqlite3_column_blob(st, 2);
    int dl = sqlite3_column_bytes(st, 2);
    out->digest_len = dg ? (size_t)dl : 0;
    if (dg && (size_t)dl <= sizeof out->digest)
      memcpy(out->digest, dg, (size_t)dl);
    const char *code = ctext(st, 3), *field = ctext(st, 4), *args = ctext(st, 5);
    out->code[0] = out->field[0] = out->args[0] = 0;
    if (code && strlen(code) < sizeof out->code && (!field || strlen(field) < sizeof out->field) &&
        (!args || strlen(args) < sizeof out->args)) {
      snprintf(out->code, sizeof out->code, "%s", code);
      snprintf(out->field, sizeof out->field, "%s", field ? field : "");
      snprintf(out->args, sizeof out->args, "%s", args ? args : "[]");
    }
  } else if (r != SQLITE_DONE) {
    rc = db_fail(c->db, err, "cannot read the applied changes");
  }
  done(st);
  return rc;
}

static kj_code q_applied_put_many(conn *c, const kjs_db_applied_row *rows, int n, kj_err *err);

static kj_code q_applied_put(conn *c, const char *device, const char *inc, int64_t seq,
                             const char *status, const char *error, const unsigned char *digest,
                             size_t digest_len, kj_err *err) {
  kjs_db_applied_row a = {device, inc, seq, status, error, digest, digest_len, NULL, NULL, NULL};
  return q_applied_put_many(c, &a, 1, err);
}

/* "INSERT ... VALUES(?,...),(...)" of rows rows of ncols values each:
 * head then the rows' parameters, prepared into *st at first use. */
static kj_code many_stmt(conn *c, sqlite3_stmt **st, const char *head, int rows, int ncols,
                         kj_err *err) {
  if (*st)
    return KJ_OK;
  kj_buf sql;
  kj_buf_init(&sql, KJ_BUF_UNLIMITED);
  kj_code rc = kj_buf_adds(&sql, head);
  for (int r = 0; !rc && r < rows; r++)
    for (int k = 0; !rc && k < ncols; k++)
      rc = kj_buf_adds(&sql, k == 0 ? (r ? ",(?" : "(?") : k == ncols - 1 ? ",?)" : ",?");
  if (rc) {
    kj_buf_release(&sql);
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  int r = sqlite3_prepare_v3(c->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
  kj_buf_release(&sql);
  return r == SQLITE_OK ? KJ_OK : db_fail(c->db, err, "cannot prepare statement");
}

/* Bind the applied row a at parameters base + 1.. (ST_APPLIED_PUT's order). */
static void bind_applied(sqlite3_stmt *st, int base, const void *row) {
  const kjs_db_applied_row *a = row;
  sqlite3_bind_text(st, base + 1, a->device, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, base + 2, (sqlite3_int64)a->seq);
  sqlite3_bind_text(st, base + 3, a->status, -1, SQLITE_STATIC);
  bstatic(st, base + 4, a->error);
  sqlite3_bind_text(st, base + 5, a->inc, -1, SQLITE_STATIC);
  if (a->digest_len)
    sqlite3_bind_blob(st, base + 6, a->digest, (int)a->digest_len, SQLITE_STATIC);
  else
    sqlite3_bind_null(st, base + 6);
}

/* Bind the history row h at parameters base + 1.. (ST_HISTORY_PUT's order). */
static void bind_history(sqlite3_stmt *st, int base, const void *row) {
  const kjs_db_history *h = row;
  sqlite3_bind_text(st, base + 1, h->type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, base + 2, h->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, base + 3, h->device, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, base + 4, h->author, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, base + 5, (sqlite3_int64)h->hlc);
  sqlite3_bind_text(st, base + 6, h->change, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, base + 7, (sqlite3_int64)h->at);
}

/* n rows (of size bytes each, bound by bind: ncols parameters) by head's
 * INSERT: chunks of MANY_ROWS, then of MANY_ROWS_SMALL, then one by one
 * (single: the one-row statement).  what names a failure. */
static kj_code put_many(conn *c, sqlite3_stmt *many[2], const char *head, int ncols, int single,
                        const void *rows, size_t size, int n,
                        void (*bind)(sqlite3_stmt *, int, const void *), const char *what,
                        kj_err *err) {
  static const int chunk[2] = {MANY_ROWS, MANY_ROWS_SMALL};
  int i = 0;
  for (int s = 0; s < 2; s++) {
    if (n - i < chunk[s])
      continue;
    kj_code rc = many_stmt(c, &many[s], head, chunk[s], ncols, err);
    if (rc)
      return rc;
    for (; n - i >= chunk[s]; i += chunk[s]) {
      for (int k = 0; k < chunk[s]; k++)
        bind(many[s], ncols * k, (const char *)rows + (size_t)(i + k) * size);
      if ((rc = run(c, many[s], what, err)))
        return rc;
    }
  }
  for (; i < n; i++) {
    PREP(st, c, single, err);
    bind(st, 0, (const char *)rows + (size_t)i * size);
    kj_code rc = run(c, st, what, err);
    if (rc)
      return rc;
  }
  return KJ_OK;
}

/* A row with a rule's refusal (code set: rare, a rejection) goes alone by
 * ST_APPLIED_PUT_WHY; the runs of rows between them as before, so that
 * the rows without one (nearly all) cost a test of code each. */
static kj_code q_applied_put_many(conn *c, const kjs_db_applied_row *rows, int n, kj_err *err) {
  int from = 0;
  for (int i = 0; i <= n; i++) {
    if (i < n && !rows[i].code)
      continue;
    kj_code rc = put_many(c, c->applied_many,
                          "INSERT INTO applied(device, seq, status, error, inc, digest) VALUES", 6,
                          ST_APPLIED_PUT, rows + from, sizeof *rows, i - from, bind_applied,
                          "cannot record the result", err);
    if (rc || i == n)
      return rc;
    PREP(st, c, ST_APPLIED_PUT_WHY, err);
    bind_applied(st, 0, &rows[i]);
    bstatic(st, 7, rows[i].code);
    bstatic(st, 8, rows[i].field);
    bstatic(st, 9, rows[i].args);
    if ((rc = run(c, st, "cannot record the result", err)))
      return rc;
    from = i + 1;
  }
  return KJ_OK;
}

static kj_code q_history_put_many(conn *c, const kjs_db_history *h, int n, kj_err *err) {
  return put_many(c, c->history_many,
                  "INSERT INTO history(type, id, device, author, hlc, change, at) VALUES", 7,
                  ST_HISTORY_PUT, h, sizeof *h, n, bind_history, "cannot keep the history", err);
}

static kj_code q_applied_high(conn *c, const char *device, const char *inc, int64_t *high,
                              kj_err *err) {
  *high = 0;
  PREP(st, c, ST_APPLIED_HIGH, err);
  sqlite3_bind_text(st, 1, device, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, inc, -1, SQLITE_STATIC);
  kj_code rc = KJ_OK;
  if (sqlite3_step(st) == SQLITE_ROW)
    *high = sqlite3_column_int64(st, 0);
  else
    rc = db_fail(c->db, err, "cannot read the applied changes");
  done(st);
  return rc;
}

static kj_code q_conflict_put(conn *c, const kjs_db_conflict *k, kj_err *err) {
  PREP(st, c, ST_CONFLICT_PUT, err);
  sqlite3_bind_text(st, 1, k->type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, k->id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, k->field, -1, SQLITE_STATIC);
  btext(st, 4, k->loser);
  btext(st, 5, k->loser_stamp);
  btext(st, 6, k->winner);
  btext(st, 7, k->winner_stamp);
  sqlite3_bind_int64(st, 8, (sqlite3_int64)k->at);
  btext(st, 9, k->loser_note);
  btext(st, 10, k->winner_note);
  return run(c, st, "cannot log conflict", err);
}

static kj_code q_conflict_trim(conn *c, const char *type, const char *id, int keep, int *dropped,
                               kj_err *err) {
  *dropped = 0;
  PREP(st, c, ST_CONFLICT_TRIM, err);
  sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, keep);
  kj_code rc = run(c, st, "cannot trim the conflict log", err);
  if (!rc)
    *dropped = sqlite3_changes(c->db);
  return rc;
}

static kj_code q_conflict_list(conn *c, kj_code (*each)(void *, const kjs_db_conflict *), void *ctx,
                               kj_err *err) {
  PREP(st, c, ST_CONFLICT_LIST, err);
  int r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    kjs_db_conflict k = {.n = sqlite3_column_int64(st, 0),
                         .type = ctext(st, 1),
                         .id = ctext(st, 2),
                         .field = ctext(st, 3),
                         .loser = ctext(st, 4),
                         .loser_stamp = ctext(st, 5),
                         .winner = ctext(st, 6),
                         .winner_stamp = ctext(st, 7),
                         .at = sqlite3_column_int64(st, 8),
                         .loser_note = ctext(st, 9),
                         .winner_note = ctext(st, 10),
                         .loser_author = ctext(st, 11),
                         .winner_author = ctext(st, 12),
                         .zone = ctext(st, 13)};
    if ((rc = each(ctx, &k)))
      break;
  }
  if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot list conflicts");
  done(st);
  return rc;
}

static kj_code q_history_put(conn *c, const kjs_db_history *h, kj_err *err) {
  return q_history_put_many(c, h, 1, err);
}

static kj_code q_history_list(conn *c, const char *id,
                              kj_code (*each)(void *, const kjs_db_history *), void *ctx,
                              kj_err *err) {
  PREP(st, c, ST_HISTORY_LIST, err);
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    kjs_db_history h = {ctext(st, 0),
                        ctext(st, 1),
                        ctext(st, 2),
                        ctext(st, 3),
                        sqlite3_column_int64(st, 4),
                        ctext(st, 5),
                        sqlite3_column_int64(st, 6),
                        ctext(st, 7)};
    if ((rc = each(ctx, &h)))
      break;
  }
  if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read the history");
  done(st);
  return rc;
}

static kj_code q_clock_get(conn *c, int *found, int64_t *hlc, kj_err *err) {
  *found = 0;
  PREP(st, c, ST_CLOCK_GET, err);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW) {
    *found = 1;
    *hlc = sqlite3_column_int64(st, 0);
  } else if (r != SQLITE_DONE) {
    rc = db_fail(c->db, err, "cannot read the server's clock");
  }
  done(st);
  return rc;
}

static kj_code q_clock_put(conn *c, int64_t hlc, kj_err *err) {
  PREP(st, c, ST_CLOCK_PUT, err);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)hlc);
  return run(c, st, "cannot store the server's clock", err);
}

static kj_code q_import_get(conn *c, const char *digest, int *found, int64_t *at, char **file,
                            kj_err *err) {
  *found = 0;
  *file = NULL;
  PREP(st, c, ST_IMPORT_GET, err);
  sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW) {
    *at = sqlite3_column_int64(st, 0);
    const char *f = ctext(st, 1);
    if (f && !(*file = strdup(f)))
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
    *found = 1;
  } else if (r != SQLITE_DONE) {
    rc = db_fail(c->db, err, "cannot read the imports");
  }
  done(st);
  return rc;
}

static kj_code q_import_put(conn *c, const char *digest, const char *type, const char *file,
                            long rows, int64_t at, kj_err *err) {
  PREP(st, c, ST_IMPORT_PUT, err);
  sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, file, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, rows);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)at);
  return run(c, st, "cannot record the import", err);
}

/* --- epochs ------------------------------------------------------------ */

static kj_code q_epoch_current(conn *c, char *out, size_t size, kj_err *err) {
  out[0] = 0;
  PREP(st, c, ST_EPOCH_CUR, err);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW)
    snprintf(out, size, "%s", ctext(st, 0));
  done(st);
  return r == SQLITE_ROW || r == SQLITE_DONE ? KJ_OK : db_fail(c->db, err, "cannot read the epoch");
}

static kj_code q_epoch_add(conn *c, const char *epoch, const char *parent, int64_t base, int64_t at,
                           const char *how, kj_err *err) {
  PREP(st, c, ST_EPOCH_ADD, err);
  sqlite3_bind_text(st, 1, epoch, -1, SQLITE_STATIC);
  btext(st, 2, parent && *parent ? parent : NULL);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)base);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)at);
  sqlite3_bind_text(st, 5, how, -1, SQLITE_STATIC);
  return run(c, st, "cannot start a new epoch", err);
}

static kj_code q_epochs(conn *c, kj_code (*each)(void *, const kjs_db_epoch *), void *ctx,
                        kj_err *err) {
  PREP(st, c, ST_EPOCHS, err);
  int r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    kjs_db_epoch e = {ctext(st, 0), ctext(st, 1), sqlite3_column_int64(st, 2)};
    if ((rc = each(ctx, &e)))
      break;
  }
  if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read the epochs");
  done(st);
  return rc;
}

/* --- tokens, users, enrolment codes ------------------------------------ */

static kj_code q_token_add(conn *c, const kjs_db_token *t, int ignore, int *added, kj_err *err) {
  if (added)
    *added = 0;
  PREP(st, c, ignore ? ST_TOKEN_ADD_IGNORE : ST_TOKEN_ADD, err);
  sqlite3_bind_blob(st, 1, t->hash, 32, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, t->id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, t->role, -1, SQLITE_TRANSIENT);
  btext(st, 4, t->office && *t->office ? t->office : NULL);
  btext(st, 5, t->name && *t->name ? t->name : NULL);
  sqlite3_bind_int64(st, 6, (sqlite3_int64)t->created);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r != SQLITE_DONE) {
    if ((sqlite3_extended_errcode(c->db) & 0xff) == SQLITE_CONSTRAINT)
      rc = KJ_EEXIST;
    else
      rc = db_fail(c->db, err, "cannot add token");
  } else if (added) {
    *added = sqlite3_changes(c->db) > 0;
  }
  done(st);
  return rc;
}

static kj_code q_token_get(conn *c, const unsigned char hash[32], int *found, kjs_db_token *out,
                           kj_err *err) {
  *found = 0;
  memset(out, 0, sizeof *out);
  PREP(st, c, ST_TOKEN_LOOKUP, err);
  sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW) {
    *found = 1;
    const void *h = sqlite3_column_blob(st, 0);
    int hl = sqlite3_column_bytes(st, 0);
    out->hash_len = h ? (size_t)hl : 0;
    if (h && hl <= 32)
      memcpy(out->hash, h, (size_t)hl);
    snprintf(c->t_id, sizeof c->t_id, "%s", ctext(st, 1) ? ctext(st, 1) : "");
    snprintf(c->t_role, sizeof c->t_role, "%s", ctext(st, 2) ? ctext(st, 2) : "");
    snprintf(c->t_office, sizeof c->t_office, "%s", ctext(st, 3) ? ctext(st, 3) : "");
    snprintf(c->t_name, sizeof c->t_name, "%s", ctext(st, 6) ? ctext(st, 6) : "");
    out->id = c->t_id;
    out->role = c->t_role;
    out->office = ctext(st, 3) ? c->t_office : NULL;
    out->name = ctext(st, 6) ? c->t_name : NULL;
    out->has_revoked = sqlite3_column_type(st, 4) != SQLITE_NULL;
    out->revoked = sqlite3_column_int64(st, 4);
    out->has_last_seen = sqlite3_column_type(st, 5) != SQLITE_NULL;
    out->last_seen = sqlite3_column_int64(st, 5);
    out->created = sqlite3_column_int64(st, 7);
  } else if (r != SQLITE_DONE) {
    rc = db_fail(c->db, err, "cannot look up token");
  }
  done(st);
  return rc;
}

static kj_code q_token_seen(conn *c, const unsigned char hash[32], int64_t at, kj_err *err) {
  PREP(st, c, ST_TOKEN_SEEN, err);
  sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)at);
  return run(c, st, "cannot note a token's last use", err);
}

static kj_code q_token_exists(conn *c, const char *id, int *found, kj_err *err) {
  PREP(st, c, ST_TOKEN_EXISTS, err);
  sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st);
  done(st);
  *found = r == SQLITE_ROW;
  return r == SQLITE_ROW || r == SQLITE_DONE ? KJ_OK : db_fail(c->db, err, "cannot read tokens");
}

static kj_code q_token_revoke(conn *c, const char *id, int64_t at, int *changed, kj_err *err) {
  *changed = 0;
  PREP(st, c, ST_TOKEN_REVOKE, err);
  sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)at);
  kj_code rc = run(c, st, "cannot revoke", err);
  if (!rc)
    *changed = sqlite3_changes(c->db) > 0;
  return rc;
}

static kj_code q_token_list(conn *c, int devices_only, int64_t now,
                            kj_code (*each)(void *, const kjs_db_token *), void *ctx, kj_err *err) {
  PREP(st, c, ST_TOKEN_LIST, err);
  sqlite3_bind_int(st, 1, devices_only ? 1 : 0);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)now);
  int r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    kjs_db_token t = {.id = ctext(st, 0),
                      .role = ctext(st, 1),
                      .office = ctext(st, 2),
                      .name = ctext(st, 3),
                      .created = sqlite3_column_int64(st, 4),
                      .has_revoked = sqlite3_column_type(st, 5) != SQLITE_NULL,
                      .revoked = sqlite3_column_int64(st, 5),
                      .has_last_seen = sqlite3_column_type(st, 6) != SQLITE_NULL,
                      .last_seen = sqlite3_column_int64(st, 6),
                      .enrolment = ctext(st, 7)};
    if ((rc = each(ctx, &t)))
      break;
  }
  if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot list tokens");
  done(st);
  return rc;
}

static kj_code q_user_add(conn *c, const kjs_db_user *u, kj_err *err) {
  PREP(st, c, ST_USER_ADD, err);
  sqlite3_bind_text(st, 1, u->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, u->role, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, u->hash, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)u->created);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r != SQLITE_DONE)
    rc = (sqlite3_extended_errcode(c->db) & 0xff) == SQLITE_CONSTRAINT
             ? KJ_EEXIST
             : db_fail(c->db, err, "cannot add user");
  done(st);
  return rc;
}

static kj_code q_user_list(conn *c, kj_code (*each)(void *, const kjs_db_user *), void *ctx,
                           kj_err *err) {
  PREP(st, c, ST_USER_LIST, err);
  int r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    kjs_db_user u = {.name = ctext(st, 0),
                     .role = ctext(st, 1),
                     .created = sqlite3_column_int64(st, 2),
                     .has_last_login = sqlite3_column_type(st, 3) != SQLITE_NULL,
                     .last_login = sqlite3_column_int64(st, 3)};
    if ((rc = each(ctx, &u)))
      break;
  }
  if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot list users");
  done(st);
  return rc;
}

static kj_code q_user_remove(conn *c, const char *name, int *changed, kj_err *err) {
  *changed = 0;
  PREP(st, c, ST_USER_REMOVE, err);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  kj_code rc = run(c, st, "cannot remove user", err);
  if (!rc)
    *changed = sqlite3_changes(c->db) > 0;
  return rc;
}

static kj_code q_user_get(conn *c, const char *name, int *found, char *role, size_t rsize,
                          char *hash, size_t hsize, kj_err *err) {
  *found = 0;
  PREP(st, c, ST_USER_GET, err);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW) {
    *found = 1;
    snprintf(role, rsize, "%s", ctext(st, 0) ? ctext(st, 0) : "");
    snprintf(hash, hsize, "%s", ctext(st, 1) ? ctext(st, 1) : "");
  } else if (r != SQLITE_DONE) {
    rc = db_fail(c->db, err, "cannot read user");
  }
  done(st);
  return rc;
}

static kj_code q_user_login(conn *c, const char *name, int64_t at, kj_err *err) {
  PREP(st, c, ST_USER_LOGIN, err);
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)at);
  return run(c, st, "cannot note the sign-in", err);
}

static kj_code q_device_report_put(conn *c, const kjs_db_report *rp, kj_err *err) {
  PREP(st, c, ST_REPORT_PUT, err);
  sqlite3_bind_text(st, 1, rp->device, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, rp->version, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)rp->pending);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)rp->rejected);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)rp->at);
  return run(c, st, "cannot store the device's report", err);
}

static kj_code q_device_reports(conn *c, kj_code (*each)(void *, const kjs_db_report *), void *ctx,
                                kj_err *err) {
  PREP(st, c, ST_REPORT_LIST, err);
  int r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    kjs_db_report rp = {.device = ctext(st, 0),
                        .version = ctext(st, 1),
                        .pending = sqlite3_column_int64(st, 2),
                        .rejected = sqlite3_column_int64(st, 3),
                        .at = sqlite3_column_int64(st, 4)};
    if ((rc = each(ctx, &rp)))
      break;
  }
  if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read the devices' reports");
  done(st);
  return rc;
}

static kj_code q_enrol_add(conn *c, const unsigned char hash[32], const char *device,
                           const unsigned char *sealed, size_t sealed_len, int64_t created,
                           int64_t expires, kj_err *err) {
  PREP(st, c, ST_ENROL_ADD, err);
  sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
  sqlite3_bind_blob(st, 3, sealed, (int)sealed_len, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)created);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)expires);
  return run(c, st, "cannot store the enrolment code", err);
}

static kj_code q_enrol_get(conn *c, const unsigned char hash[32], int lock, int *found,
                           kjs_db_enrol *out, kj_err *err) {
  (void)lock;
  *found = 0;
  memset(out, 0, sizeof *out);
  PREP(st, c, ST_ENROL_GET, err);
  sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
  int r = sqlite3_step(st);
  kj_code rc = KJ_OK;
  if (r == SQLITE_ROW) {
    *found = 1;
    snprintf(out->device, sizeof out->device, "%s", ctext(st, 0) ? ctext(st, 0) : "");
    out->has_used = sqlite3_column_type(st, 1) != SQLITE_NULL;
    out->used = sqlite3_column_int64(st, 1);
    out->expires = sqlite3_column_int64(st, 2);
    out->token_state = sqlite3_column_int(st, 4) ? 2 : sqlite3_column_int(st, 3) ? 1 : 0;
    const void *sealed = sqlite3_column_blob(st, 5);
    int sl = sqlite3_column_bytes(st, 5);
    if (sealed && sl > 0 && (size_t)sl <= sizeof out->sealed) {
      memcpy(out->sealed, sealed, (size_t)sl);
      out->sealed_len = (size_t)sl;
    }
    snprintf(out->office, sizeof out->office, "%s", ctext(st, 6) ? ctext(st, 6) : "");
    const void *th = sqlite3_column_blob(st, 7);
    if (th && sqlite3_column_bytes(st, 7) == 32) {
      memcpy(out->token_hash, th, 32);
      out->token_hash_len = 32;
    }
  } else if (r != SQLITE_DONE) {
    rc = db_fail(c->db, err, "cannot read enrolment codes");
  }
  done(st);
  return rc;
}

static kj_code q_enrol_spend(conn *c, const unsigned char hash[32], int64_t at, const char *used_by,
                             int *changed, kj_err *err) {
  *changed = 0;
  PREP(st, c, ST_ENROL_SPEND, err);
  sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)at);
  sqlite3_bind_text(st, 3, used_by ? used_by : "", -1, SQLITE_STATIC);
  kj_code rc = run(c, st, "cannot use the enrolment code", err);
  if (!rc)
    *changed = sqlite3_changes(c->db);
  return rc;
}

/* --- scores ------------------------------------------------------------ */

static kjs_score_store *q_score(conn *c) {
  return kjs_score_sqlite(c->db);
}

static kj_code q_score_rebuild(conn *c, int verify, kj_buf *diffs, int *ndiff, kj_err *err) {
  return kjs_score_sqlite_rebuild(c->db, verify, diffs, ndiff, err);
}

/* --- restore ----------------------------------------------------------- */

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
  if (!rc && (pragma_int(db, "PRAGMA application_id", &appid) || appid != KJS_APP_ID))
    rc = kj_fail(err, KJ_EINVAL, "'%s' is not a kinerjad database (application_id %lld)", file,
                 appid);
  if (!rc && (pragma_int(db, "PRAGMA user_version", &ver) || ver < 1))
    rc = kj_fail(err, KJ_EINVAL, "'%s' is not a kinerjad database (no schema)", file);
  if (!rc && ver > NMIGRATIONS)
    rc = kj_fail(err, KJ_EINVAL,
                 "'%s' has schema version %lld, newer than this kinerjad (%d): upgrade kinerjad",
                 file, ver, NMIGRATIONS);
  sqlite3_close(db);
  return rc;
}

static kj_code q_restore_file(const char *db_path, const char *file, kj_err *err) {
  char tmp[4200], side[4200], keep[4200];
  kj_code rc = restore_file_check(file, err);
  if (!rc) {
    snprintf(tmp, sizeof tmp, "%s.restoring", db_path);
    unlink(tmp);
    rc = kj_db_backup(file, tmp, NULL, err);
  }
  if (!rc && access(db_path, F_OK) == 0) {
    /* keep the database it replaces, whole (its WAL folded in) */
    sqlite3 *old = NULL;
    if (sqlite3_open_v2(db_path, &old, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK)
      sqlite3_exec(old, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(old);
    snprintf(keep, sizeof keep, "%s.before-restore", db_path);
    if (rename(db_path, keep) != 0)
      rc = kj_fail(err, KJ_EIO, "cannot move '%s' aside: %s", db_path, strerror(errno));
  }
  if (!rc) {
    snprintf(side, sizeof side, "%s-wal", db_path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db_path);
    unlink(side);
    if (rename(tmp, db_path) != 0)
      rc = kj_fail(err, KJ_EIO, "cannot rename '%s' to '%s': %s", tmp, db_path, strerror(errno));
  }
  return rc;
}

static kj_code q_survey_comments(conn *c, const char *office, const char *from, const char *to,
                                 int max,
                                 kj_code (*each)(void *, const char *, const char *, const char *),
                                 void *ctx, kj_err *err);

const kjs_db_ops kjs_db_sqlite_ops = {
    .name = "sqlite",
    .local_file = 1,
    .open = q_open,
    .close = q_close,
    .acquire = q_acquire,
    .acquire_writer = q_acquire_writer,
    .release = q_release,
    .begin = q_begin,
    .commit = q_commit,
    .rollback = q_rollback,
    .savepoint = q_savepoint,
    .position_max = q_position_max,
    .records_count = q_records_count,
    .rec_get = q_rec_get,
    .rec_put = q_rec_put,
    .rec_add = q_rec_add,
    .records_scan = q_records_scan,
    .pull = q_pull,
    .moved_put = q_moved_put,
    .moved_pull = q_moved_pull,
    .roster_has = q_roster_has,
    .employee = q_employee,
    .employees_any = q_employees_any,
    .rating_other = q_rating_other,
    .office_zone = q_office_zone,
    .services = q_services,
    .applied_get = q_applied_get,
    .applied_put = q_applied_put,
    .applied_high = q_applied_high,
    .applied_put_many = q_applied_put_many,
    .conflict_put = q_conflict_put,
    .conflict_trim = q_conflict_trim,
    .conflict_list = q_conflict_list,
    .history_put = q_history_put,
    .history_list = q_history_list,
    .history_put_many = q_history_put_many,
    .clock_get = q_clock_get,
    .clock_put = q_clock_put,
    .import_get = q_import_get,
    .import_put = q_import_put,
    .epoch_current = q_epoch_current,
    .epoch_add = q_epoch_add,
    .epochs = q_epochs,
    .token_add = q_token_add,
    .token_get = q_token_get,
    .token_seen = q_token_seen,
    .token_exists = q_token_exists,
    .token_revoke = q_token_revoke,
    .token_list = q_token_list,
    .user_add = q_user_add,
    .user_list = q_user_list,
    .user_remove = q_user_remove,
    .user_get = q_user_get,
    .device_report_put = q_device_report_put,
    .device_reports = q_device_reports,
    .user_login = q_user_login,
    .enrol_add = q_enrol_add,
    .enrol_get = q_enrol_get,
    .enrol_spend = q_enrol_spend,
    .score = q_score,
    .score_rebuild = q_score_rebuild,
    .restore_file = q_restore_file,
    .survey_comments = q_survey_comments,
};

int kjs_db_is_pg(const char *where) {
  return where && (!strncmp(where, "postgresql://", 13) || !strncmp(where, "postgres://", 11));
}

/* ---------------------------------------------------------------------- */
/* bulk copy (db.h "bulk copy between stores"; kinerjad migrate-store) */

#define COLS(...)                                                                                  \
  (const char *const[]){__VA_ARGS__},                                                              \
      (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

/* The tables of schema version 14 (PostgreSQL's 4), records first. */
const kjs_db_table kjs_db_tables[] = {
    {"records", COLS("type", "id", "office", "deleted", "state", "seq", "origin")},
    {"moved", COLS("office", "type", "id", "seq")},
    {"tokens", COLS("hash", "id", "role", "office", "name", "created", "revoked", "last_seen")},
    {"applied", COLS("device", "inc", "seq", "status", "error", "digest", "code", "field", "args")},
    {"conflicts", COLS("n", "type", "id", "field", "loser", "loser_stamp", "winner", "winner_stamp",
                       "at", "loser_note", "winner_note")},
    {"history", COLS("n", "type", "id", "device", "author", "hlc", "change", "at")},
    {"imports", COLS("digest", "type", "file", "rows", "at")},
    {"clock", COLS("id", "hlc")},
    {"epochs", COLS("n", "epoch", "parent", "base", "at", "how")},
    {"users", COLS("name", "role", "hash", "created", "last_login")},
    {"enrol_codes", COLS("hash", "device", "sealed", "created", "expires", "used", "used_by")},
    {"device_reports", COLS("device", "version", "pending", "rejected", "at")},
    {"sc_office", COLS("code", "name", "population")},
    {"sc_emp", COLS("nip", "office", "name")},
    {"sc_survey",
     COLS("office", "ym", "service", "n", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9")},
    {"sc_cdays", COLS("office", "ym", "days", "cnt")},
    {"sc_real", COLS("office", "nip", "indicator", "ym", "qty_hi", "qty_lo", "cnt")},
    {"sc_actday", COLS("office", "nip", "day", "wd", "cnt")},
    {"sc_actmonth", COLS("office", "nip", "ym", "days")},
    {"sc_target", COLS("office", "nip", "period", "indicator", "target_hi", "target_lo",
                       "weight_hi", "weight_lo", "cnt")},
    {"sc_rating", COLS("office", "ratee", "period", "role", "total", "cnt")},
    {"sc_realyear", COLS("y", "office", "nip", "indicator", "qty_hi", "qty_lo", "cnt")},
    {"sc_cmpmonth", COLS("office", "ym", "days")},
    {"sc_office_ver", COLS("office", "ver")}, /* the report memo's change counters */
    {"sc_surveyyear",
     COLS("y", "office", "service", "n", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9")},
};
const int kjs_db_ntables = (int)(sizeof kjs_db_tables / sizeof kjs_db_tables[0]);
#undef COLS

static kj_code qb_count(conn *c, const kjs_db_table *t, long long *n, kj_err *err) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", t->name);
  *n = 0;
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
    return db_fail(c->db, err, t->name);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW)
    *n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return rc == SQLITE_ROW ? KJ_OK : db_fail(c->db, err, t->name);
}

static kj_code qb_export(conn *c, const kjs_db_table *t,
                         kj_code (*each)(void *ctx, const kjs_db_cell *row), void *ctx,
                         kj_err *err) {
  char sql[1024];
  int o = snprintf(sql, sizeof sql, "SELECT ");
  for (int i = 0; i < t->ncols && o < (int)sizeof sql; i++)
    o += snprintf(sql + o, sizeof sql - (size_t)o, "%s\"%s\"", i ? ", " : "", t->cols[i]);
  if (o < (int)sizeof sql)
    snprintf(sql + o, sizeof sql - (size_t)o, " FROM \"%s\"", t->name);
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
    return db_fail(c->db, err, t->name);
  kjs_db_cell row[KJS_DB_COLS_MAX];
  kj_code rc = KJ_OK;
  int step;
  while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
    for (int i = 0; i < t->ncols; i++) {
      kjs_db_cell *v = &row[i];
      memset(v, 0, sizeof *v);
      switch (sqlite3_column_type(s, i)) {
      case SQLITE_NULL:
        v->kind = KJS_CELL_NULL;
        break;
      case SQLITE_INTEGER:
        v->kind = KJS_CELL_INT;
        v->i = sqlite3_column_int64(s, i);
        break;
      case SQLITE_BLOB:
        v->kind = KJS_CELL_BLOB;
        v->p = sqlite3_column_blob(s, i);
        v->len = (size_t)sqlite3_column_bytes(s, i);
        break;
      default: /* text, and a float as its text (no column of the store is REAL) */
        v->kind = KJS_CELL_TEXT;
        v->p = sqlite3_column_text(s, i);
        v->len = (size_t)sqlite3_column_bytes(s, i);
        break;
      }
      if (v->kind != KJS_CELL_NULL && v->kind != KJS_CELL_INT && !v->p && v->len) {
        sqlite3_finalize(s);
        return kj_fail(err, KJ_ENOMEM, "%s: out of memory", t->name);
      }
    }
    rc = each(ctx, row);
  }
  if (!rc && step != SQLITE_DONE)
    rc = db_fail(c->db, err, t->name);
  sqlite3_finalize(s);
  return rc;
}

static kj_code qb_version(conn *c, long long *v, kj_err *err) {
  *v = 0;
  return pragma_int(c->db, "PRAGMA user_version", v) ? db_fail(c->db, err, "user_version") : KJ_OK;
}

static kj_code qb_columns(conn *c,
                          kj_code (*each)(void *ctx, const char *table, const char *column),
                          void *ctx, kj_err *err) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(c->db,
                         "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
                         "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite!_%' ESCAPE '!'",
                         -1, &s, NULL) != SQLITE_OK)
    return db_fail(c->db, err, "cannot list the tables");
  kj_code rc = KJ_OK;
  int step;
  while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW)
    rc =
        each(ctx, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1));
  if (!rc && step != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot list the tables");
  sqlite3_finalize(s);
  return rc;
}

const kjs_db_bulk kjs_db_sqlite_bulk = {
    .count = qb_count,
    .export_rows = qb_export,
    .columns = qb_columns,
    .schema_version = qb_version,
};

/* db.h survey_comments: prepared per call (once per Kantor page), so that
 * it stays out of the statement table.  "+type" keeps the planner on
 * records_office (without ANALYZE it takes the primary key's type and reads
 * every survey of every office: 80 ms instead of 2 with 50 offices). */
static kj_code q_survey_comments(conn *c, const char *office, const char *from, const char *to,
                                 int max,
                                 kj_code (*each)(void *, const char *, const char *, const char *),
                                 void *ctx, kj_err *err) {
  static const char sql[] =
      "SELECT d, coalesce(json_extract(state, '$.f.service'), ''), cm FROM ("
      "SELECT json_extract(state, '$.f.date') AS d, json_extract(state, '$.f.comment') AS cm,"
      " state, seq FROM records WHERE office = ?1 AND +type = 'survey' AND deleted = 0)"
      " WHERE typeof(cm) = 'text' AND cm <> '' AND typeof(d) = 'text' AND d BETWEEN ?2 AND ?3"
      " ORDER BY d DESC, seq DESC LIMIT ?4";
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
    return db_fail(c->db, err, "cannot read the comments");
  btext(st, 1, office);
  btext(st, 2, from);
  btext(st, 3, to);
  sqlite3_bind_int(st, 4, max);
  int r;
  kj_code rc = KJ_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW)
    if ((rc = each(ctx, ctext(st, 0), ctext(st, 1), ctext(st, 2))))
      break;
  if (!rc && r != SQLITE_DONE)
    rc = db_fail(c->db, err, "cannot read the comments");
  sqlite3_finalize(st);
  return rc;
}
