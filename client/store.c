/* store.c - the client's SQLite database: schema, statements, errors.
 *
 * The only client file that includes <sqlite3.h>.  Every statement text is
 * here, prepared at open and finalized at close; each use binds, steps,
 * checks and resets.  SQLite errors become kj_err messages in st_fail().
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i18n.h"
#include "log.h"
#include "merge.h"
#include "msg.h"
#include "plat.h"
#include "rules.h"
#include "uuid.h"

#define BUSY_TIMEOUT_MS 60000

/* ---- schema: migration i brings user_version i to i+1 ---- */

static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    /* A rowid table: new rows append, and the one index (small entries)
     * takes the random order of UUIDs; see docs/architecture.md. */
    "CREATE TABLE records("
    "  type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL," /* see state_put() */
    "  UNIQUE(id, type));"
    "CREATE TABLE outbox("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  hlc INTEGER NOT NULL,"
    "  mask INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL,"
    "  change TEXT NOT NULL," /* kj_change_to_json less the columns: {"f":{..}} or {"del":true} */
    "  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'rejected')),"
    "  reason TEXT,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX outbox_record ON outbox(id, status);"
    "CREATE INDEX outbox_status ON outbox(status, seq);"
    "CREATE TABLE scores("
    "  kind TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  office TEXT NOT NULL,"
    "  doc TEXT NOT NULL,"
    "  stored_ms INTEGER NOT NULL,"
    "  PRIMARY KEY(kind, period, office)) WITHOUT ROWID;",
    /* 1 -> 2: records.state by field name (kj_rstate_store_encode), see
     * migrate_states_v1(); each outbox row knows the protocol it needs. */
    "ALTER TABLE outbox ADD COLUMN needs INTEGER NOT NULL DEFAULT 1;"
    /* the field bit mask was positional (and never read back) */
    "ALTER TABLE outbox DROP COLUMN mask;",
    /* 2 -> 3: the changes the server acknowledged, kept KJC_SENT_KEEP_DAYS
     * to send again after a restore of the server (docs/protocol.md
     * "Restores") */
    "CREATE TABLE sent("
    "  seq INTEGER PRIMARY KEY,"
    "  type TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  hlc INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL,"
    "  change TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  needs INTEGER NOT NULL,"
    "  acked_ms INTEGER NOT NULL);"
    "CREATE INDEX sent_acked ON sent(acked_ms);"
    /* a change the server answered `missing` waits as rejected, parked = 1,
     * and is sent again at the next sync */
    "ALTER TABLE outbox ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;",
    /* 3 -> 4: the people who sign in at this PC (client/person.h): an
     * Argon2id hash of the PIN (NULL until set), wrong tries since the
     * last success or lock, the lock's end (ms, server clock), the hash of
     * the activation code the PIN was set with (a code is used once) */
    "CREATE TABLE persons("
    "  nip TEXT PRIMARY KEY,"
    "  pin_hash TEXT,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  locked_until_ms INTEGER NOT NULL DEFAULT 0,"
    "  activation TEXT,"
    "  set_ms INTEGER) WITHOUT ROWID;"
    /* approvals and rejections made at this PC, with the reason of a
     * rejection (activity has no field for it: it stays here) */
    "CREATE TABLE reviews("
    "  n INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  reviewer TEXT NOT NULL,"
    "  reason TEXT,"
    "  at_ms INTEGER NOT NULL);"
    "CREATE INDEX reviews_id ON reviews(id, n);",
    /* 4 -> 5: the server's version of a record while it has outbox rows,
     * for `kinerja discard` (see state_put_local(); docs/protocol.md "Discarding
     * local changes").  NULL: not known (rows written before schema 5). */
    "ALTER TABLE records ADD COLUMN base TEXT;",
};
/* The C part of a migration, run after its SQL in the same transaction. */
static kj_code migrate_states_v1(kjc_store *s, kj_err *err);
static kj_code (*const migration_code[])(kjc_store *, kj_err *) = {NULL, migrate_states_v1, NULL,
                                                                   NULL, NULL};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))
_Static_assert(NMIGRATIONS == KJC_SCHEMA_VERSION, "one migration per schema version");
_Static_assert(sizeof migration_code / sizeof migration_code[0] == NMIGRATIONS,
               "one code slot per migration");

/* ---- statements ---- */

#define STMTS(XX)                                                                                  \
  XX(BEGIN, "BEGIN IMMEDIATE")                                                                     \
  XX(COMMIT, "COMMIT")                                                                             \
  XX(ROLLBACK, "ROLLBACK")                                                                         \
  XX(DATA_VERSION, "PRAGMA data_version")                                                          \
  XX(META_GET, "SELECT value FROM meta WHERE key = ?1")                                            \
  XX(META_SET, "INSERT INTO meta(key, value) VALUES(?1, ?2) "                                      \
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value")                            \
  XX(META_DEL, "DELETE FROM meta WHERE key = ?1")                                                  \
  XX(REC_BY_ID, "SELECT type, deleted, state FROM records WHERE id = ?1")                          \
  XX(REC_GET, "SELECT deleted, state FROM records WHERE id = ?2 AND type = ?1")                    \
  XX(REC_PUT, "INSERT INTO records(type, id, deleted, state) VALUES(?1, ?2, ?3, ?4) "              \
              "ON CONFLICT(id, type) DO UPDATE SET deleted = excluded.deleted, "                   \
              "state = excluded.state")                                                            \
  XX(REC_EXISTS, "SELECT 1 FROM records WHERE id = ?2 AND type = ?1 AND deleted = 0")              \
  XX(REC_COUNT, "SELECT count(*) FROM records WHERE type = ?1 AND deleted = 0")                    \
  /* the roster of proto/rules.h, over the pulled master data */                                   \
  XX(RULE_HAS_ROSTER, "SELECT 1 FROM records WHERE type = 'employee' AND deleted = 0 LIMIT 1")     \
  XX(RULE_EMPLOYEE, "SELECT json_extract(state, '$.f.office'), "                                   \
                    "json_extract(state, '$.f.supervisor') FROM records "                          \
                    "WHERE id = ?1 AND type = 'employee' AND deleted = 0")                         \
  XX(RULE_NAME, "SELECT json_extract(state, '$.f.name') FROM records "                             \
                "WHERE id = ?1 AND type = 'employee' AND deleted = 0")                             \
  XX(RULE_RATING, "SELECT id FROM records WHERE type = 'rating' AND deleted = 0 "                  \
                  "AND json_extract(state, '$.f.period') = ?1 "                                    \
                  "AND json_extract(state, '$.f.rater') = ?2 "                                     \
                  "AND json_extract(state, '$.f.ratee') = ?3 AND id <> ?4 LIMIT 1")                \
  XX(RULE_ZONE, "SELECT json_extract(state, '$.f.timezone') FROM records "                         \
                "WHERE id = ?1 AND type = 'office' AND deleted = 0")                               \
  XX(REC_EACH,                                                                                     \
     "SELECT r.state, r.id, r.deleted, (SELECT o.reason FROM outbox o WHERE o.id = r.id AND "      \
     "o.type = r.type "                                                                            \
     "  AND o.status = 'rejected' AND o.parked = 0 ORDER BY o.seq DESC LIMIT 1) "                  \
     "FROM records r WHERE r.type = ?1 AND (r.deleted = 0 OR ?2) "                                 \
     "AND (NOT ?3 OR EXISTS(SELECT 1 FROM outbox p WHERE p.id = r.id AND p.type = r.type "         \
     "  AND p.status = 'pending')) "                                                               \
     "AND (NOT ?4 OR EXISTS(SELECT 1 FROM outbox q WHERE q.id = r.id AND q.type = r.type "         \
     "  AND q.status = 'rejected' AND q.parked = 0)) "                                             \
     "ORDER BY r.id")                                                                              \
  XX(REC_OUTBOX, "SELECT coalesce(sum(status = 'pending'), 0), "                                   \
                 "coalesce(sum(status = 'rejected'), 0), "                                         \
                 "(SELECT reason FROM outbox WHERE id = ?1 AND status = 'rejected' "               \
                 " ORDER BY seq DESC LIMIT 1) FROM outbox WHERE id = ?1")                          \
  /* a change waits behind the held changes of its record: it needs what                           \
   * they need (docs/protocol.md "Versions") */                                                    \
  XX(OB_INSERT, "INSERT INTO outbox(type, id, hlc, deleted, change, created_ms, needs) "           \
                "VALUES(?1, ?2, ?3, ?5, ?6, ?7, max(?8, coalesce((SELECT max(needs) FROM outbox "  \
                "WHERE id = ?2 AND type = ?1 AND status = 'pending'), 1)))")                       \
  XX(OB_REQUEUE, "INSERT INTO outbox(type, id, hlc, deleted, change, created_ms, needs) "          \
                 "SELECT type, id, hlc, deleted, change, created_ms, needs FROM outbox "           \
                 "WHERE seq = ?1")                                                                 \
  XX(REC_HELD, "SELECT count(*) FROM outbox WHERE id = ?1 AND status = 'pending' "                 \
               "AND needs > ?2")                                                                   \
  XX(OB_DROP_REJECTED, "DELETE FROM outbox WHERE id = ?1 AND type = ?2 AND status = 'rejected'")   \
  XX(OB_BATCH, "SELECT seq, type, id, hlc, change, needs FROM outbox WHERE status = 'pending' "    \
               "AND needs <= ?2 AND seq > ?3 ORDER BY seq LIMIT ?1")                               \
  XX(OB_BATCH_WIRE, "SELECT seq, type, id, hlc, change, needs, deleted FROM outbox "               \
                    "WHERE status = 'pending' AND needs <= ?2 AND seq > ?3 ORDER BY seq LIMIT ?1") \
  /* an acknowledgement, one run of consecutive seqs [?1, ?2] at a time */                         \
  XX(OB_KEEP_RUN, "INSERT OR REPLACE INTO sent(seq, type, id, hlc, deleted, change, created_ms, "  \
                  "needs, acked_ms) SELECT seq, type, id, hlc, deleted, change, created_ms, "      \
                  "needs, ?3 FROM outbox WHERE seq BETWEEN ?1 AND ?2")                             \
  XX(OB_ACK_OTHERS, "SELECT type, id, hlc, change FROM outbox o WHERE seq BETWEEN ?1 AND ?2 "      \
                    "AND EXISTS(SELECT 1 FROM outbox p WHERE p.id = o.id AND p.type = o.type "     \
                    "AND (p.seq < ?1 OR p.seq > ?2)) ORDER BY seq")                                \
  XX(OB_ACK_RUN, "DELETE FROM outbox WHERE seq BETWEEN ?1 AND ?2")                                 \
  XX(OB_REJECT, "UPDATE outbox SET status = 'rejected', reason = ?2, parked = ?3 WHERE seq = ?1")  \
  /* Each part reads the outbox_status index only (a covering count and                            \
   * one row), not the whole outbox: a big push stays small in memory. */                          \
  /* rejected: records (type, id), as `kinerja list --rejected` shows them */                      \
  XX(OB_STATS, "SELECT (SELECT count(*) FROM outbox WHERE status = 'pending') + "                  \
               "(SELECT count(*) FROM outbox WHERE status = 'rejected' AND parked = 1), "          \
               "(SELECT count(*) FROM (SELECT DISTINCT type, id FROM outbox "                      \
               " WHERE status = 'rejected' AND parked = 0)), "                                     \
               "(SELECT created_ms FROM outbox WHERE status = 'pending' AND needs <= ?1 "          \
               " ORDER BY seq LIMIT 1), "                                                          \
               "(SELECT count(*) FROM outbox WHERE status = 'pending' AND needs > ?1)")            \
  /* discard support: records.base is the server's version of a record that                        \
   * has outbox rows; '' when the server never had it, NULL when unknown */                        \
  XX(BASE_KEEP, "UPDATE records SET base = state WHERE id = ?2 AND type = ?1 "                     \
                "AND NOT EXISTS(SELECT 1 FROM outbox WHERE id = ?2 AND type = ?1)")                \
  /* a record new here: stored with base '' (the server never had it) unless                       \
   * rows of it wait already (its base is then not known) */                                       \
  XX(REC_PUT_NEW, "INSERT INTO records(type, id, deleted, state, base) VALUES(?1, ?2, ?3, ?4, "    \
                  "CASE WHEN EXISTS(SELECT 1 FROM outbox WHERE id = ?2 AND type = ?1) THEN NULL "  \
                  "ELSE '' END) ON CONFLICT(id, type) DO UPDATE SET deleted = excluded.deleted, "  \
                  "state = excluded.state")                                                        \
  XX(BASE_FORGET, "UPDATE records SET base = NULL WHERE base IS NOT NULL")                         \
  XX(BASE_GET, "SELECT base FROM records WHERE id = ?2 AND type = ?1")                             \
  XX(BASE_SET, "UPDATE records SET base = ?3 WHERE id = ?2 AND type = ?1")                         \
  XX(OB_ROWS, "SELECT EXISTS(SELECT 1 FROM outbox WHERE id = ?2 AND type = ?1)")                   \
  XX(SC_PUT, "INSERT INTO scores(kind, period, office, doc, stored_ms) "                           \
             "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(kind, period, office) DO UPDATE SET "         \
             "doc = excluded.doc, stored_ms = excluded.stored_ms")                                 \
  XX(SC_GET, "SELECT doc, period FROM scores WHERE kind = ?1 AND office = ?2 "                     \
             "AND (?3 IS NULL OR period = ?3) ORDER BY stored_ms DESC, period DESC LIMIT 1")       \
  XX(PERSON_GET, "SELECT pin_hash, failures, locked_until_ms, activation, set_ms FROM persons "    \
                 "WHERE nip = ?1")                                                                 \
  XX(PERSON_PUT, "INSERT INTO persons(nip, pin_hash, failures, locked_until_ms, activation, "      \
                 "set_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(nip) DO UPDATE SET "          \
                 "pin_hash = excluded.pin_hash, failures = excluded.failures, "                    \
                 "locked_until_ms = excluded.locked_until_ms, activation = excluded.activation, "  \
                 "set_ms = excluded.set_ms")                                                       \
  XX(REVIEW_PUT, "INSERT INTO reviews(id, status, reviewer, reason, at_ms) "                       \
                 "VALUES(?1, ?2, ?3, ?4, ?5)")                                                     \
  XX(REVIEW_LAST, "SELECT status, reviewer, reason, at_ms FROM reviews WHERE id = ?1 "             \
                  "ORDER BY n DESC LIMIT 1")

enum {
#define XX(name, sql) S_##name,
  STMTS(XX)
#undef XX
      S__COUNT
};

static const char *const stmt_sql[] = {
#define XX(name, sql) sql,
    STMTS(XX)
#undef XX
};

struct kjc_store {
  sqlite3 *db;
  char *path;
  sqlite3_stmt *st[S__COUNT];
  char office[KJ_ID_MAX + 1];
  char device[KJ_DEVICE_MAX + 1];
  kj_hlc_clock clock;
  kj_hlc clock_saved_last;
  int64_t clock_saved_offset;
  int roster; /* employees present: 0 not looked up in this transaction, 1 no, 2 yes */
};

/* ---- errors ---- */

static int is_full(kjc_store *s, int rc) {
  if ((rc & 0xff) == SQLITE_FULL)
    return 1;
  if ((rc & 0xff) == SQLITE_IOERR && s && s->db) {
    int e = sqlite3_system_errno(s->db);
    return kj_errno_is_disk_full(e);
  }
  return 0;
}

/* Translate an SQLite failure once, here. */
static kj_code st_fail(kjc_store *s, int rc, kj_err *err, const char *what) {
  const char *path = s ? s->path : "?";
  if (is_full(s, rc))
    return kj_fail(err, KJ_EFULL,
                   _("disk full: cannot write to '%s' (nothing of this command was saved)"), path);
  switch (rc & 0xff) {
  case SQLITE_READONLY:
    return kj_fail(err, KJ_EIO,
                   _("database '%s' is read-only: cannot write (check its permissions)"), path);
  case SQLITE_NOTADB:
    return kj_fail(err, KJ_EDB, _("'%s' is not a kinerja database"), path);
  case SQLITE_CORRUPT:
    return kj_fail(err, KJ_EDB, _("database '%s' is damaged: restore it from a backup"), path);
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return kj_fail(err, KJ_EBUSY,
                   _("database '%s' stayed busy for %d s: another kinerja is writing"), path,
                   BUSY_TIMEOUT_MS / 1000);
  case SQLITE_NOMEM:
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  case SQLITE_CANTOPEN:
    return kj_fail(err, KJ_EIO, _("cannot open database '%s': %s"), path,
                   strerror(sqlite3_system_errno(s->db)));
  default:
    return kj_fail(err, KJ_EDB, _("database '%s': %s: %s"), path, what,
                   s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
  }
}

static kj_code exec(kjc_store *s, const char *sql, kj_err *err) {
  int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  return rc == SQLITE_OK ? KJ_OK : st_fail(s, rc, err, "exec");
}

/* Step a statement that returns no rows, then reset it. */
static kj_code run(kjc_store *s, sqlite3_stmt *st, kj_err *err) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return st_fail(s, rc, err, "write");
  return KJ_OK;
}

static void done(sqlite3_stmt *st) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

static char *xstrdup(const char *p) {
  if (!p)
    return NULL;
  size_t n = strlen(p) + 1;
  char *d = malloc(n);
  if (d)
    memcpy(d, p, n);
  return d;
}

static void copy_str(char *dst, size_t size, const char *src) {
  snprintf(dst, size, "%s", src ? src : "");
}

/* ---- open / create ---- */

static kj_code prepare_all(kjc_store *s, kj_err *err) {
  for (int i = 0; i < S__COUNT; i++) {
    int rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
    if (rc != SQLITE_OK)
      return st_fail(s, rc, err, "prepare");
  }
  return KJ_OK;
}

/* The first column of the first row of sql into *out: KJ_OK, or the code
 * of st_fail with err saying "cannot <what>". */
static kj_code pragma_int(kjc_store *s, const char *sql, int *out, const char *what, kj_err *err) {
  sqlite3_stmt *st;
  int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK)
    return st_fail(s, rc, err, what);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int(st, 0);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(st);
  return rc == SQLITE_OK ? KJ_OK : st_fail(s, rc, err, what);
}

/* Run the migrations from the current version up, one transaction each. */
static kj_code migrate(kjc_store *s, kj_err *err) {
  for (;;) {
    int v = 0;
    kj_code c;
    if ((c = exec(s, "BEGIN IMMEDIATE", err)))
      return c;
    if ((c = pragma_int(s, "PRAGMA user_version", &v, "read schema version", err)))
      goto fail;
    if (v >= KJC_SCHEMA_VERSION)
      return exec(s, "COMMIT", err);
    if ((c = exec(s, migrations[v], err)))
      goto fail;
    if (migration_code[v] && (c = migration_code[v](s, err)))
      goto fail;
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
    if ((c = exec(s, sql, err)))
      goto fail;
    if ((c = exec(s, "COMMIT", err)))
      goto fail;
    continue;
  fail:
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return c;
  }
}

static kj_code connect(kjc_store *s, const char *path, int sqflags, kj_err *err) {
  s->path = xstrdup(path);
  if (!s->path)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  int rc = sqlite3_open_v2(path, &s->db, sqflags, NULL);
  if (rc != SQLITE_OK)
    return st_fail(s, rc, err, "open");
  sqlite3_extended_result_codes(s->db, 1);
  sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
  kj_code c;
  if ((c = exec(s, "PRAGMA synchronous = FULL", err)))
    return c;
  /* A bigger page cache than the default 2 MB keeps big imports fast;
   * it stays well under the 30 MB memory budget (issue 3). */
  if ((c = exec(s, "PRAGMA cache_size = -12288", err)))
    return c;
  if ((c = exec(s, "PRAGMA foreign_keys = ON", err)))
    return c;
  return KJ_OK;
}

static kj_code load_identity(kjc_store *s, kj_err *err) {
  char *office = NULL, *device = NULL;
  kj_code c = kjc_meta_get(s, KJC_META_OFFICE, &office, err);
  if (!c)
    c = kjc_meta_get(s, KJC_META_DEVICE, &device, err);
  if (!c && (!office || !device))
    c = kj_fail(err, KJ_EDB, _("'%s' is not a kinerja database (no office or device set)"),
                s->path);
  if (!c) {
    copy_str(s->office, sizeof s->office, office);
    copy_str(s->device, sizeof s->device, device);
  }
  free(office);
  free(device);
  if (c)
    return c;
  int64_t last = 0, off = 0;
  if ((c = kjc_meta_get_i64(s, KJC_META_HLC_LAST, 0, &last, err)))
    return c;
  if ((c = kjc_meta_get_i64(s, KJC_META_CLOCK_OFFSET, 0, &off, err)))
    return c;
  kj_hlc_init(&s->clock, (kj_hlc)last, off);
  s->clock_saved_last = (kj_hlc)last;
  s->clock_saved_offset = off;
  return KJ_OK;
}

/* "file:PATH?immutable=1" with PATH percent-encoded where URIs need it. */
static char *immutable_uri(const char *path) {
  size_t n = strlen(path);
  char *u = malloc(3 * n + 32);
  if (!u)
    return NULL;
  char *p = u + sprintf(u, "file:");
  for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
    if (*c == '?' || *c == '#' || *c == '%' || *c < 0x21 || *c >= 0x7f)
      p += sprintf(p, "%%%02X", *c);
    else
      *p++ = (char)*c;
  }
  strcpy(p, "?immutable=1");
  return u;
}

kj_code kjc_store_open(kjc_store **out, const char *path, int flags, kj_err *err) {
  *out = NULL;
  struct stat sb;
  if (stat(path, &sb) != 0) {
    if (errno == ENOENT)
      return kj_fail(err, KJ_ENOENT, _("no database at '%s': run 'kinerja init --office CODE'"),
                     path);
    return kj_fail(err, KJ_EIO, _("cannot open database '%s': %s"), path, strerror(errno));
  }
  if (!S_ISREG(sb.st_mode))
    return kj_fail(err, KJ_EDB, _("'%s' is not a kinerja database"), path);
  if ((flags & KJC_OPEN_WRITE) && access(path, W_OK) != 0)
    return kj_fail(err, KJ_EIO,
                   _("database '%s' is read-only: cannot write (check its permissions)"), path);

  kjc_store *s = calloc(1, sizeof *s);
  if (!s)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  kj_code c;
  if (!(flags & KJC_OPEN_WRITE) && access(path, W_OK) != 0) {
    /* Reading a file we may not write: a WAL database needs a writable
     * -shm file, so open it as immutable (a snapshot, which is all a
     * read-only user can have). */
    char *uri = immutable_uri(path);
    if (!uri) {
      c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
      goto fail;
    }
    c = connect(s, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, err);
    free(uri);
    free(s->path);
    s->path = xstrdup(path);
  } else {
    c = connect(s, path, SQLITE_OPEN_READWRITE, err);
  }
  if (c)
    goto fail;
  if ((flags & KJC_OPEN_WRITE) && sqlite3_db_readonly(s->db, "main") == 1) {
    c = kj_fail(err, KJ_EIO, _("database '%s' is read-only: cannot write (check its permissions)"),
                path);
    goto fail;
  }
  int appid = 0, version = 0;
  if ((c = pragma_int(s, "PRAGMA application_id", &appid, "read header", err)) ||
      (c = pragma_int(s, "PRAGMA user_version", &version, "read header", err)))
    goto fail;
  if (appid != KJC_APPLICATION_ID) {
    c = kj_fail(err, KJ_EDB, _("'%s' is not a kinerja database"), path);
    goto fail;
  }
  if (version > KJC_SCHEMA_VERSION) {
    c = kj_fail(
        err, KJ_EVERSION,
        _("database '%s' has schema version %d, newer than this kinerja (%d): upgrade kinerja"),
        path, version, KJC_SCHEMA_VERSION);
    goto fail;
  }
  if (version < KJC_SCHEMA_VERSION) {
    if (sqlite3_db_readonly(s->db, "main") == 1) {
      c = kj_fail(err, KJ_EIO, _("database '%s' needs an upgrade but is read-only"), path);
      goto fail;
    }
    if ((c = migrate(s, err)))
      goto fail;
  }
  if ((c = prepare_all(s, err)))
    goto fail;
  if ((c = load_identity(s, err)))
    goto fail;
  *out = s;
  return KJ_OK;
fail:
  kjc_store_close(s);
  return c;
}

kj_code kjc_store_create(const char *path, const char *office, kj_err *err) {
  /* Mode 0600 whatever the umask: the file holds the device token.  SQLite
   * gives the -wal and -shm files the database file's mode (os_unix.c,
   * findCreateFileMode), also with fchmod past the umask. */
  int fd = kj_file_create_private(path);
  if (fd < 0) {
    if (errno == EEXIST)
      return kj_fail(err, KJ_EEXIST, _("database '%s' already exists: not overwriting it"), path);
    return kj_fail(err, KJ_EIO, _("cannot create database '%s': %s"), path, strerror(errno));
  }
  close(fd);
  kjc_store *s = calloc(1, sizeof *s);
  kj_code c;
  char device[KJ_DEVICE_MAX + 1], idbuf[KJ_UUID_STRLEN + 1];
  if (!s) {
    c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
    goto fail;
  }
  if ((c = connect(s, path, SQLITE_OPEN_READWRITE, err)))
    goto fail;
  if ((c = exec(s, "PRAGMA journal_mode = WAL", err)))
    goto fail;
  {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d", KJC_APPLICATION_ID);
    if ((c = exec(s, sql, err)))
      goto fail;
  }
  if ((c = migrate(s, err)))
    goto fail;
  if ((c = prepare_all(s, err)))
    goto fail;
  if (kj_uuid_v7(idbuf) != 0) {
    c = kj_fail(err, KJ_EIO, _("cannot make a device id: no randomness"));
    goto fail;
  }
  snprintf(device, sizeof device, "dev-%s", idbuf);
  if ((c = kjc_store_begin(s, err)))
    goto fail;
  if ((c = kjc_meta_set(s, KJC_META_OFFICE, office, err)) ||
      (c = kjc_meta_set(s, KJC_META_DEVICE, device, err)) ||
      (c = kjc_meta_set(s, KJC_META_SYNC_STATE, "never", err)) ||
      (c = kjc_meta_set_i64(s, KJC_META_HLC_LAST, 0, err)) ||
      (c = kjc_meta_set_i64(s, KJC_META_CLOCK_OFFSET, 0, err)) || (c = kjc_store_commit(s, err)))
    goto fail;
  kjc_store_close(s);
  return KJ_OK;
fail:
  kjc_store_close(s);
  unlink(path);
  {
    char side[4096];
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
  }
  return c;
}

void kjc_store_close(kjc_store *s) {
  if (!s)
    return;
  if (s->db && !sqlite3_get_autocommit(s->db))
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  for (int i = 0; i < S__COUNT; i++)
    sqlite3_finalize(s->st[i]);
  sqlite3_close(s->db);
  free(s->path);
  free(s);
}

const char *kjc_store_path(const kjc_store *s) {
  return s->path;
}
const char *kjc_store_office(const kjc_store *s) {
  return s->office;
}
const char *kjc_store_device(const kjc_store *s) {
  return s->device;
}
int kjc_store_in_txn(const kjc_store *s) {
  return !sqlite3_get_autocommit(s->db);
}
kj_hlc_clock *kjc_store_clock(kjc_store *s) {
  return &s->clock;
}

kj_code kjc_store_cache_limit(kjc_store *s, int kib, kj_err *err) {
  char sql[48];
  snprintf(sql, sizeof sql, "PRAGMA cache_size = %d", -kib);
  return exec(s, sql, err);
}

int64_t kjc_store_data_version(kjc_store *s) {
  sqlite3_stmt *st = s->st[S_DATA_VERSION];
  int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    v = (int64_t)sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return v;
}

/* ---- transactions ---- */

kj_code kjc_store_begin(kjc_store *s, kj_err *err) {
  kj_code c = run(s, s->st[S_BEGIN], err);
  if (c)
    return c;
  s->roster = 0;
  /* Another process may have stamped since we last looked. */
  int64_t last = 0, off = 0;
  if ((c = kjc_meta_get_i64(s, KJC_META_HLC_LAST, 0, &last, err)) ||
      (c = kjc_meta_get_i64(s, KJC_META_CLOCK_OFFSET, 0, &off, err))) {
    kjc_store_rollback(s);
    return c;
  }
  if ((kj_hlc)last > s->clock.last)
    s->clock.last = (kj_hlc)last;
  s->clock_saved_last = (kj_hlc)last;
  s->clock_saved_offset = off;
  s->clock.offset_ms = off; /* the persisted offset is the truth */
  return KJ_OK;
}

kj_code kjc_store_commit(kjc_store *s, kj_err *err) {
  kj_code c = KJ_OK;
  if (s->clock.last != s->clock_saved_last)
    c = kjc_meta_set_i64(s, KJC_META_HLC_LAST, (int64_t)s->clock.last, err);
  if (!c && s->clock.offset_ms != s->clock_saved_offset)
    c = kjc_meta_set_i64(s, KJC_META_CLOCK_OFFSET, s->clock.offset_ms, err);
  if (!c)
    c = run(s, s->st[S_COMMIT], err);
  if (c) {
    kjc_store_rollback(s);
    return c;
  }
  s->clock_saved_last = s->clock.last;
  s->clock_saved_offset = s->clock.offset_ms;
  return KJ_OK;
}

void kjc_store_rollback(kjc_store *s) {
  if (!s || !s->db)
    return;
  if (!sqlite3_get_autocommit(s->db)) {
    sqlite3_step(s->st[S_ROLLBACK]);
    sqlite3_reset(s->st[S_ROLLBACK]);
  }
}

/* Run body in the caller's transaction or in one of its own. */
#define OWN_BEGIN(s, err)                                                                          \
  int own_ = !kjc_store_in_txn(s);                                                                 \
  if (own_) {                                                                                      \
    kj_code bc_ = kjc_store_begin(s, err);                                                         \
    if (bc_)                                                                                       \
      return bc_;                                                                                  \
  }
#define OWN_END(s, c, err)                                                                         \
  do {                                                                                             \
    if (own_) {                                                                                    \
      if (c)                                                                                       \
        kjc_store_rollback(s);                                                                     \
      else                                                                                         \
        (c) = kjc_store_commit(s, err);                                                            \
    }                                                                                              \
  } while (0)

/* ---- meta ---- */

kj_code kjc_meta_get(kjc_store *s, const char *key, char **out, kj_err *err) {
  sqlite3_stmt *st = s->st[S_META_GET];
  *out = NULL;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  kj_code c = KJ_OK;
  if (rc == SQLITE_ROW) {
    *out = xstrdup((const char *)sqlite3_column_text(st, 0));
    if (!*out)
      c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
  } else if (rc != SQLITE_DONE) {
    c = st_fail(s, rc, err, "read setting");
  }
  done(st);
  return c;
}

kj_code kjc_meta_set(kjc_store *s, const char *key, const char *value, kj_err *err) {
  sqlite3_stmt *st = s->st[value ? S_META_SET : S_META_DEL];
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if (value)
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
  return run(s, st, err);
}

kj_code kjc_meta_get_i64(kjc_store *s, const char *key, int64_t dflt, int64_t *out, kj_err *err) {
  char *v = NULL;
  kj_code c = kjc_meta_get(s, key, &v, err);
  *out = dflt;
  if (!c && v) {
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
      c = kj_fail(err, KJ_EDB, _("database '%s': setting '%s' is not a number: '%s'"), s->path, key,
                  v);
    else
      *out = x;
  }
  free(v);
  return c;
}

kj_code kjc_meta_set_i64(kjc_store *s, const char *key, int64_t value, kj_err *err) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, value);
  return kjc_meta_set(s, key, buf, err);
}

kj_code kjc_store_set_clock_offset(kjc_store *s, int64_t offset_ms, kj_err *err) {
  OWN_BEGIN(s, err);
  s->clock.offset_ms = offset_ms;
  kj_code c = KJ_OK;
  OWN_END(s, c, err);
  return c;
}

/* ---- records ---- */

/* The stored state (column records.state) is proto/wire.h's stored form,
 * fields by name (kj_rstate_store_encode); type, id and the deleted flag
 * are columns.  Fields of a newer version pulled from a newer server are
 * kept in it (docs/protocol.md "Versions"). */
static kj_code state_parse(kjc_store *s, const char *type, const char *id, int deleted,
                           const char *text, kj_rstate *out, kj_err *err) {
  const kj_type_def *t = kj_type_by_name(type);
  kj_err e;
  kj_err_clear(&e);
  kj_code c = t ? kj_rstate_store_decode(text, t->type, id, deleted, out, &e) : KJ_EPROTO;
  if (!t)
    kj_rstate_init(out, KJ_T_SURVEY);
  if (c == KJ_ENOMEM)
    return kj_fail(err, c, _("out of memory"));
  if (c)
    return kj_fail(err, KJ_EDB, _("database '%s' is damaged: record '%s' cannot be read: %s"),
                   s->path, id, t ? e.msg : "unknown type");
  return KJ_OK;
}

static kj_code state_put(kjc_store *s, const kj_rstate *rs, kj_err *err) {
  if (rs->rec.type == KJ_T_EMPLOYEE)
    s->roster = 0; /* the roster may have come or gone: look again */
  char *text = kj_rstate_store_encode(rs);
  if (!text)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  sqlite3_stmt *st = s->st[S_REC_PUT];
  sqlite3_bind_text(st, 1, kj_type(rs->rec.type)->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, rs->rec.id, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, rs->rec.deleted ? 1 : 0);
  sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
  kj_code c = run(s, st, err);
  cJSON_free(text);
  return c;
}

/* ---- migration 1 -> 2: positional states to named ones ---- */

/* Schema 1 stored a state positionally by the C field table of protocol 1:
 *   {"v":[value or null per field], "s":["HLC/DEVICE", ...distinct stamps],
 *    "i":"aab-", "d":"HLC/DEVICE"}
 * ("i": one letter per field, its stamp's index in "s", '-' = never
 * written).  The field order of that release is frozen here, so reading an
 * old database never depends on today's table. */
static const struct {
  const char *type;
  const char *fields[18];
} k_fields_v1[] = {
    {"office", {"name", "region", "population"}},
    {"employee", {"name", "office", "position", "supervisor"}},
    {"indicator", {"name", "unit"}},
    {"survey",
     {"office", "date", "service", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "age",
      "sex", "education", "occupation", "comment"}},
    {"activity",
     {"office", "nip", "date", "indicator", "quantity", "minutes", "description", "evidence",
      "status", "reviewed_by"}},
    {"complaint", {"office", "received", "resolved", "channel", "category", "summary"}},
    {"rating",
     {"office", "period", "rater", "ratee", "role", "s1", "s2", "s3", "s4", "s5", "s6", "s7",
      "comment"}},
    {"target", {"office", "nip", "indicator", "period", "target", "weight"}},
};

/* One schema-1 state into out (a state of type t, id and deleted set). */
static kj_code state_from_v1(const char *text, const kj_type_def *t, kj_rstate *out) {
  int k1 = -1;
  for (size_t k = 0; k < sizeof k_fields_v1 / sizeof k_fields_v1[0]; k++)
    if (!strcmp(k_fields_v1[k].type, t->name))
      k1 = (int)k;
  cJSON *o = k1 >= 0 ? cJSON_Parse(text) : NULL;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "v");
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "s");
  const cJSON *ix = cJSON_GetObjectItemCaseSensitive(o, "i");
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "d");
  int nf = 0;
  while (k1 >= 0 && nf < 18 && k_fields_v1[k1].fields[nf])
    nf++;
  kj_code c = KJ_OK;
  if (!o || !cJSON_IsArray(v) || !cJSON_IsArray(st) || !cJSON_IsString(ix) ||
      cJSON_GetArraySize(v) != nf || (int)strlen(ix->valuestring) != nf) {
    c = KJ_EDB;
    goto out;
  }
  int nst = cJSON_GetArraySize(st);
  const cJSON *vi = v->child;
  for (int i = 0; i < nf; i++, vi = vi->next) {
    int f = kj_field_index(t, k_fields_v1[k1].fields[i]);
    if (f < 0) { /* a field this release no longer has: never silently */
      c = KJ_EDB;
      goto out;
    }
    if (cJSON_IsString(vi)) {
      if (kj_record_set(&out->rec, f, vi->valuestring)) {
        c = KJ_ENOMEM;
        goto out;
      }
    } else if (!cJSON_IsNull(vi)) {
      c = KJ_EDB;
      goto out;
    }
    char ch = ix->valuestring[i];
    if (ch == '-')
      continue;
    const cJSON *si = ch - 'a' >= 0 && ch - 'a' < nst ? cJSON_GetArrayItem(st, ch - 'a') : NULL;
    if (!cJSON_IsString(si) || kj_stamp_parse(si->valuestring, &out->st[f])) {
      c = KJ_EDB;
      goto out;
    }
  }
  if (d && (!cJSON_IsString(d) || kj_stamp_parse(d->valuestring, &out->del)))
    c = KJ_EDB;
out:
  cJSON_Delete(o);
  return c;
}

/* Rewrite every record's state in the named form, inside the migration's
 * transaction: all or nothing. */
static kj_code migrate_states_v1(kjc_store *s, kj_err *err) {
  sqlite3_stmt *rd = NULL, *wr = NULL;
  int rc = sqlite3_prepare_v2(s->db, "SELECT rowid, type, id, deleted, state FROM records", -1, &rd,
                              NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2(s->db, "UPDATE records SET state = ?2 WHERE rowid = ?1", -1, &wr, NULL);
  kj_code c = rc == SQLITE_OK ? KJ_OK : st_fail(s, rc, err, "migrate");
  long n = 0;
  while (!c && (rc = sqlite3_step(rd)) == SQLITE_ROW) {
    const char *type = (const char *)sqlite3_column_text(rd, 1);
    const char *id = (const char *)sqlite3_column_text(rd, 2);
    const kj_type_def *t = kj_type_by_name(type);
    kj_rstate rs;
    kj_rstate_init(&rs, t ? t->type : KJ_T_SURVEY);
    snprintf(rs.rec.id, sizeof rs.rec.id, "%s", id ? id : "");
    rs.rec.deleted = sqlite3_column_int(rd, 3);
    kj_code k = t ? state_from_v1((const char *)sqlite3_column_text(rd, 4), t, &rs) : KJ_EDB;
    char *text = k ? NULL : kj_rstate_store_encode(&rs);
    kj_rstate_release(&rs);
    if (k == KJ_ENOMEM || (!k && !text)) {
      c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
      break;
    }
    if (k) {
      c = kj_fail(err, KJ_EDB,
                  _("database '%s' is damaged: record '%s' cannot be read (upgrading to schema 2)"),
                  s->path, id ? id : "");
      break;
    }
    sqlite3_bind_int64(wr, 1, sqlite3_column_int64(rd, 0));
    sqlite3_bind_text(wr, 2, text, -1, SQLITE_TRANSIENT);
    cJSON_free(text);
    c = run(s, wr, err);
    n++;
  }
  if (!c && rc != SQLITE_DONE)
    c = st_fail(s, rc, err, "migrate");
  sqlite3_finalize(rd);
  sqlite3_finalize(wr);
  if (!c && n)
    KJ_INFO("database '%s': %ld records upgraded to schema 2 (fields by name)", s->path, n);
  return c;
}

kj_code kjc_record_get(kjc_store *s, kj_rtype want, const char *id, kj_rstate *out, kj_err *err) {
  sqlite3_stmt *st;
  int rc;
  kj_code c = KJ_ENOENT;
  /* out is released by callers also when SQLite fails before state_parse */
  kj_rstate_init(out, want == KJ_T_NONE ? KJ_T_SURVEY : want);
  if (want != KJ_T_NONE) {
    st = s->st[S_REC_GET];
    sqlite3_bind_text(st, 1, kj_type(want)->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      c = state_parse(s, kj_type(want)->name, id, sqlite3_column_int(st, 0),
                      (const char *)sqlite3_column_text(st, 1), out, err);
    else if (rc != SQLITE_DONE)
      c = st_fail(s, rc, err, "read record");
  } else {
    st = s->st[S_REC_BY_ID];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const kj_type_def *t = kj_type_by_name((const char *)sqlite3_column_text(st, 0));
      if (!t || t->master)
        continue;
      c = state_parse(s, t->name, id, sqlite3_column_int(st, 1),
                      (const char *)sqlite3_column_text(st, 2), out, err);
      break;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
      c = st_fail(s, rc, err, "read record");
  }
  done(st);
  if (c == KJ_ENOENT) {
    kj_rstate_init(out, want == KJ_T_NONE ? KJ_T_SURVEY : want);
    return kj_fail(err, KJ_ENOENT, _("no record '%s'"), id);
  }
  return c; /* state_parse initialised out, also on failure */
}

kj_code kjc_record_exists(kjc_store *s, kj_rtype t, const char *id, int *exists) {
  sqlite3_stmt *st = s->st[S_REC_EXISTS];
  sqlite3_bind_text(st, 1, kj_type(t)->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  done(st);
  *exists = rc == SQLITE_ROW;
  return rc == SQLITE_ROW || rc == SQLITE_DONE ? KJ_OK : KJ_EDB;
}

long kjc_record_count(kjc_store *s, kj_rtype t) {
  sqlite3_stmt *st = s->st[S_REC_COUNT];
  sqlite3_bind_text(st, 1, kj_type(t)->name, -1, SQLITE_STATIC);
  long n = -1;
  if (sqlite3_step(st) == SQLITE_ROW)
    n = (long)sqlite3_column_int64(st, 0);
  done(st);
  return n;
}

int kjc_record_held(kjc_store *s, const char *id) {
  sqlite3_stmt *st = s->st[S_REC_HELD];
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, kjc_server_protocol(s));
  int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  done(st);
  return n;
}

kj_code kjc_record_outbox(kjc_store *s, const char *id, int *pending, int *rejected, char **reason,
                          kj_err *err) {
  sqlite3_stmt *st = s->st[S_REC_OUTBOX];
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  kj_code c = KJ_OK;
  if (pending)
    *pending = 0;
  if (rejected)
    *rejected = 0;
  if (reason)
    *reason = NULL;
  if (rc == SQLITE_ROW) {
    if (pending)
      *pending = sqlite3_column_int(st, 0);
    if (rejected)
      *rejected = sqlite3_column_int(st, 1);
    if (reason && sqlite3_column_type(st, 2) != SQLITE_NULL)
      *reason = xstrdup((const char *)sqlite3_column_text(st, 2));
  } else {
    c = st_fail(s, rc, err, "read outbox");
  }
  done(st);
  return c;
}

static int same_value(const char *a, const char *b) {
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

static kj_code outbox_append(kjc_store *s, kj_change *c_, kj_err *err) {
  c_->seq = 0;
  cJSON *o = kj_change_to_json(c_);
  /* What the columns hold is not repeated in the JSON. */
  static const char *const cols[] = {"seq", "id", "type", "hlc", "device"};
  for (int i = 0; o && i < 5; i++)
    cJSON_DeleteItemFromObjectCaseSensitive(o, cols[i]);
  char *text = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!text)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  sqlite3_stmt *st = s->st[S_OB_INSERT];
  sqlite3_bind_text(st, 1, kj_type(c_->rec.type)->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, c_->rec.id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)c_->hlc);
  sqlite3_bind_int(st, 5, c_->rec.deleted ? 1 : 0);
  sqlite3_bind_text(st, 6, text, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 7, (sqlite3_int64)kj_wall_ms());
  sqlite3_bind_int(st, 8, kj_change_needs(c_));
  kj_code c = run(s, st, err);
  cJSON_free(text);
  if (!c)
    c_->seq = (int64_t)sqlite3_last_insert_rowid(s->db);
  return c;
}

/* --- the roster of proto/rules.h, over the local records ---------------- */

static kj_code rule_text(kjc_store *s, sqlite3_stmt *st, char *out, size_t size, int col,
                         int *found, kj_err *err) {
  int r = sqlite3_step(st);
  kj_code c = KJ_OK;
  if (r == SQLITE_ROW) {
    const unsigned char *v = sqlite3_column_text(st, col);
    snprintf(out, size, "%s", v ? (const char *)v : "");
    if (found)
      *found = 1;
  } else if (r != SQLITE_DONE) {
    c = st_fail(s, r, err, "cannot read the master data");
  }
  return c;
}

static kj_code roster_employee(void *ud, const char *nip, kj_roster_entry *out, int *found,
                               kj_err *err) {
  kjc_store *s = ud;
  sqlite3_stmt *st = s->st[S_RULE_EMPLOYEE];
  sqlite3_bind_text(st, 1, nip, -1, SQLITE_TRANSIENT);
  kj_code c = rule_text(s, st, out->office, sizeof out->office, 0, found, err);
  if (!c && *found) {
    const unsigned char *v = sqlite3_column_text(st, 1);
    copy_str(out->supervisor, sizeof out->supervisor, v ? (const char *)v : "");
  }
  done(st);
  return c;
}

static kj_code roster_rating(void *ud, const char *period, const char *rater, const char *ratee,
                             const char *id, char out[KJ_ID_MAX + 1], kj_err *err) {
  kjc_store *s = ud;
  sqlite3_stmt *st = s->st[S_RULE_RATING];
  out[0] = 0;
  sqlite3_bind_text(st, 1, period, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, rater, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, ratee, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
  kj_code c = rule_text(s, st, out, KJ_ID_MAX + 1, 0, NULL, err);
  done(st);
  return c;
}

/* The one text column of the rule statement which (a prepared S_RULE_*
 * taking one text parameter) for key into out[size]; "" when no row. */
static kj_code rule_by_key(kjc_store *s, int which, const char *key, char *out, size_t size,
                           kj_err *err) {
  sqlite3_stmt *st = s->st[which];
  out[0] = 0;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
  kj_code c = rule_text(s, st, out, size, 0, NULL, err);
  done(st);
  return c;
}

/* A refusal names the people it is about (proto/rules.h kj_roster.name). */
static kj_code roster_name(void *ud, const char *nip, char out[KJ_ROSTER_NAME_MAX + 1],
                           kj_err *err) {
  return rule_by_key(ud, S_RULE_NAME, nip, out, KJ_ROSTER_NAME_MAX + 1, err);
}

static kj_code roster_zone(void *ud, const char *office, char out[KJ_ZONE_MAX + 1], kj_err *err) {
  return rule_by_key(ud, S_RULE_ZONE, office, out, KJ_ZONE_MAX + 1, err);
}

/* Judge ch against domain.md "Who may write what" (proto/rules.h) when
 * this database holds the master data (employees pulled): without it the
 * rules cannot be told, and the server judges alone.  The date rule takes
 * the clock as corrected by the measured server skew, without slack. */
static kj_code check_rules(kjc_store *s, const kj_change *ch, const kj_record *before,
                           const kj_record *after, kj_err *err) {
  if (!s->roster) { /* once per transaction: an import asks for every row */
    sqlite3_stmt *st = s->st[S_RULE_HAS_ROSTER];
    char one[4];
    int have = 0;
    kj_code c = rule_text(s, st, one, sizeof one, 0, &have, err);
    done(st);
    if (c)
      return c;
    s->roster = have ? 2 : 1;
  }
  /* without the roster (no employees pulled yet) the rules that need none
   * still hold here as at the server: dates, the author of a rating or a
   * decision */
  kj_roster roster = {s, roster_employee, roster_rating, roster_zone};
  kj_rules_ctx ctx = {.admin = 0,
                      .has_roster = s->roster == 2,
                      .now_ms = (uint64_t)((int64_t)kj_wall_ms() + s->clock.offset_ms),
                      .slack_days = 0,
                      .roster = &roster,
                      .name = roster_name};
  return kj_rules_check(ch, before, after, &ctx, err);
}

/* ---- the server's version (kinerja discard) ---- */

/* A local write's state (write_in_txn).  Before the first outbox row of a
 * record is written (none pending or rejected), keep what the server holds
 * of it in records.base: its state as it is now (pulled or acknowledged:
 * without rows the state is the server's version), or '' for a record new
 * here.  Later pulls (base_join) and acknowledgements (base_ack) keep it up
 * to date while rows wait; kjc_store_discard puts it back.  Rows that come
 * without a write (a restore: kjc_outbox_resend_sent, _rederive) make every
 * base "not known" (NULL). */
static kj_code state_put_local(kjc_store *s, const kj_rstate *rs, int exists, kj_err *err) {
  const char *type = kj_type(rs->rec.type)->name;
  if (exists) {
    sqlite3_stmt *st = s->st[S_BASE_KEEP];
    sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rs->rec.id, -1, SQLITE_STATIC);
    kj_code c = run(s, st, err);
    return c ? c : state_put(s, rs, err);
  }
  char *text = kj_rstate_store_encode(rs);
  if (!text)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  sqlite3_stmt *st = s->st[S_REC_PUT_NEW];
  sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, rs->rec.id, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, rs->rec.deleted ? 1 : 0);
  sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
  kj_code c = run(s, st, err);
  cJSON_free(text);
  return c;
}

/* records.base of (type, id): *known 0 when NULL (not known), else the
 * state in out ('' = the server never had it: *none 1). */
static kj_code base_load(kjc_store *s, const kj_type_def *t, const char *id, int *known, int *none,
                         kj_rstate *out, kj_err *err) {
  sqlite3_stmt *st = s->st[S_BASE_GET];
  sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  kj_code c = KJ_OK;
  *known = *none = 0;
  kj_rstate_init(out, t->type);
  snprintf(out->rec.id, sizeof out->rec.id, "%s", id);
  if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
    const char *text = (const char *)sqlite3_column_text(st, 0);
    *known = 1;
    if (!text || !*text) {
      *none = 1;
    } else {
      kj_rstate_release(out);
      c = state_parse(s, t->name, id, 0, text, out, err);
      out->rec.deleted = out->del.hlc != 0;
    }
  } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    c = st_fail(s, rc, err, "read record");
  }
  done(st);
  return c;
}

static kj_code base_store(kjc_store *s, const kj_rstate *rs, kj_err *err) {
  char *text = kj_rstate_store_encode(rs);
  if (!text)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  sqlite3_stmt *st = s->st[S_BASE_SET];
  sqlite3_bind_text(st, 1, kj_type(rs->rec.type)->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, rs->rec.id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
  kj_code c = run(s, st, err);
  cJSON_free(text);
  return c;
}

static kj_code has_rows(kjc_store *s, const char *type, const char *id, int *rows, kj_err *err) {
  sqlite3_stmt *st = s->st[S_OB_ROWS];
  sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *rows = rc == SQLITE_ROW && sqlite3_column_int(st, 0);
  done(st);
  return rc == SQLITE_ROW ? KJ_OK : st_fail(s, rc, err, "read outbox");
}

/* A pulled state of a record with outbox rows: the server's version takes
 * it (kj_merge_join; a base not known stays not known). */
static kj_code base_join(kjc_store *s, const kj_rstate *remote, kj_err *err) {
  const kj_type_def *t = kj_type(remote->rec.type);
  int known, none;
  kj_rstate b;
  kj_code c = base_load(s, t, remote->rec.id, &known, &none, &b, err);
  if (!c && known) {
    int merged = 0;
    kj_err m;
    kj_err_clear(&m);
    if (kj_merge_join(&b, remote, NULL, NULL, &merged, &m))
      c = kj_fail(err, m.code == KJ_ENOMEM ? KJ_ENOMEM : KJ_EINVAL, _("record '%s': %s"),
                  remote->rec.id, m.msg);
    else if (merged || none)
      c = base_store(s, &b, err);
  }
  kj_rstate_release(&b);
  return c;
}

/* domain.md "Who may write what": a record's office never changes at an
 * office PC, and a PC writes only its own office's records (the server's
 * office scope, docs/protocol.md "POST /v1/push").  old: the record as it
 * is (NULL: new). */
static kj_code office_guard(kjc_store *s, const kj_type_def *t, const kj_record *old,
                            const kj_change *ch, kj_err *err) {
  if (t->master || t->office_field < 0)
    return KJ_OK;
  const char *was = old ? old->v[t->office_field] : NULL;
  if (was && strcmp(was, s->office) != 0)
    return kj_fail(err, KJ_EINVAL,
                   _("record '%s': field 'office': the record is office '%s', this PC is office "
                     "'%s': only the BKD changes it (kinerja discard %s drops it here)"),
                   ch->rec.id, was, s->office, ch->rec.id);
  const char *now = (ch->mask >> t->office_field) & 1u ? ch->rec.v[t->office_field] : NULL;
  if (now && strcmp(now, s->office) != 0)
    return kj_fail(err, KJ_EINVAL,
                   _("record '%s': field 'office': '%s' is another office, this PC is office '%s' "
                     "(only the BKD moves a record)"),
                   ch->rec.id, now, s->office);
  return KJ_OK;
}

static kj_code write_in_txn(kjc_store *s, kj_change *ch, unsigned flags, int *result, kj_err *err) {
  const kj_type_def *t = kj_type(ch->rec.type);
  kj_rstate st;
  kj_record before;
  int exists = 0, requeue = 0, have_before = 0;
  kj_code c;

  /* The record as it is, of whichever office type holds this id. */
  c = kjc_record_get(s, t->master ? ch->rec.type : KJ_T_NONE, ch->rec.id, &st, err);
  if (c == KJ_ENOENT) {
    kj_err_clear(err);
    kj_rstate_release(&st);
    if (ch->rec.deleted)
      return kj_fail(err, KJ_ENOENT, _("no record '%s'"), ch->rec.id);
    if (flags & KJC_CHANGE_EXISTING)
      return kj_fail(err, KJ_ENOENT, _("no record '%s'"), ch->rec.id);
    kj_rstate_init(&st, ch->rec.type);
    st.rec.type = KJ_T_NONE;
  } else if (c) {
    kj_rstate_release(&st);
    return c;
  } else {
    exists = 1;
    if (st.rec.type != ch->rec.type) {
      c = kj_fail(err, KJ_EINVAL, _("record '%s' is a %s, not a %s"), ch->rec.id,
                  kj_type(st.rec.type)->name, t->name);
      goto out;
    }
    if (st.rec.deleted) {
      c = kj_fail(err, KJ_EINVAL, _("record '%s' is deleted"), ch->rec.id);
      goto out;
    }
    if (flags & KJC_CHANGE_NEW) {
      c = kj_fail(err, KJ_EEXIST, _("record '%s' already exists"), ch->rec.id);
      goto out;
    }
    int rejected = 0;
    if ((c = kjc_record_outbox(s, ch->rec.id, NULL, &rejected, NULL, err)))
      goto out;
    requeue = rejected > 0;
  }

  /* A new record's current values are all absent. */
  if ((flags & KJC_CHANGE_DIFF) && !ch->rec.deleted) {
    for (int i = 0; i < t->nfields; i++)
      if ((ch->mask & (1u << i)) && same_value(ch->rec.v[i], st.rec.v[i]))
        ch->mask &= ~(1u << i);
  }
  /* an edit of an approved or rejected activity sends it for review again
   * (domain.md "Who may write what"); told before a requeue fills in the
   * stored status */
  int resubmit = exists && kj_rules_resubmits(ch, &st.rec);
  if (requeue && !ch->rec.deleted) {
    /* Send the whole record again: the server never took it as it is. */
    for (int i = 0; i < t->nfields; i++) {
      if (ch->mask & (1u << i))
        continue;
      if ((c = kj_record_set(&ch->rec, i, st.rec.v[i]))) {
        c = kj_fail(err, c, _("out of memory"));
        goto out;
      }
      ch->mask |= 1u << i;
    }
  }
  if (exists && !ch->rec.deleted && ch->mask == 0) {
    if (result)
      *result = KJC_WRITE_NOCHANGE;
    c = KJ_OK;
    goto out;
  }

  if (resubmit && (c = kj_rules_add_resubmit(ch))) {
    c = kj_fail(err, c, _("out of memory"));
    goto out;
  }
  if (exists && (c = kj_record_copy(&before, &st.rec))) {
    c = kj_fail(err, c, _("out of memory"));
    goto out;
  }
  have_before = exists;

  if ((c = office_guard(s, t, exists ? &st.rec : NULL, ch, err)))
    goto out;
  ch->hlc = kj_hlc_now(&s->clock);
  copy_str(ch->device, sizeof ch->device, s->device);
  if (!ch->author[0]) /* no person signed in: the office's data-entry account */
    copy_str(ch->author, sizeof ch->author, "operator");
  kj_err merr;
  kj_err_clear(&merr);
  int merged;
  if (kj_merge_apply(&st, ch, NULL, NULL, &merged, &merr)) {
    /* KJ_ENOMEM stays itself: an import must stop, not call the row bad */
    c = kj_fail(err, merr.code == KJ_ENOMEM ? KJ_ENOMEM : KJ_EINVAL, "%s", merr.msg);
    goto out;
  }
  if (!st.rec.id[0])
    copy_str(st.rec.id, sizeof st.rec.id, ch->rec.id);
  if (!st.rec.deleted && (exists ? kj_record_validate_written(&st.rec, ch->mask, err)
                                 : kj_record_validate(&st.rec, err)) != KJ_OK) {
    c = KJ_EINVAL;
    if ((flags & KJC_CHANGE_NAME_RECORD) && err) {
      kj_err v = *err;
      kj_fail(err, KJ_EINVAL, _("record '%s': %s"), ch->rec.id, v.msg);
    }
    goto out;
  }
  if ((c = check_rules(s, ch, have_before ? &before : NULL, &st.rec, err)))
    goto out;
  if ((c = state_put_local(s, &st, exists, err)))
    goto out;
  if (requeue) {
    sqlite3_stmt *d = s->st[S_OB_DROP_REJECTED];
    sqlite3_bind_text(d, 1, ch->rec.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(d, 2, t->name, -1, SQLITE_STATIC);
    if ((c = run(s, d, err)))
      goto out;
  }
  if ((c = outbox_append(s, ch, err)))
    goto out;
  if (result)
    *result = ch->rec.deleted ? KJC_WRITE_DELETED : exists ? KJC_WRITE_UPDATED : KJC_WRITE_CREATED;
out:
  if (have_before)
    kj_record_release(&before);
  kj_rstate_release(&st);
  return c;
}

kj_code kjc_store_write(kjc_store *s, kj_change *ch, unsigned flags, int *result, kj_err *err) {
  if (result)
    *result = KJC_WRITE_NOCHANGE;
  OWN_BEGIN(s, err);
  kj_code c = write_in_txn(s, ch, flags, result, err);
  OWN_END(s, c, err);
  return c;
}

kj_code kjc_store_apply_remote(kjc_store *s, const kj_rstate *remote, int *changed, kj_err *err) {
  if (changed)
    *changed = 0;
  OWN_BEGIN(s, err);
  kj_rstate st;
  kj_code c = kjc_record_get(s, remote->rec.type, remote->rec.id, &st, err);
  if (c == KJ_ENOENT) {
    kj_err_clear(err);
    c = state_put(s, remote, err);
    if (!c && changed)
      *changed = 1;
  } else if (!c) {
    kj_err merr;
    kj_err_clear(&merr);
    int merged = 0;
    if (kj_merge_join(&st, remote, NULL, NULL, &merged, &merr))
      c = kj_fail(err, KJ_EINVAL, _("record '%s': %s"), remote->rec.id, merr.msg);
    else if (merged) {
      c = state_put(s, &st, err);
      if (!c && changed)
        *changed = 1;
    }
  }
  kj_rstate_release(&st);
  /* while local changes wait, the server's version follows the pulls */
  int rows = 0;
  if (!c)
    c = has_rows(s, kj_type(remote->rec.type)->name, remote->rec.id, &rows, err);
  if (!c && rows)
    c = base_join(s, remote, err);
  OWN_END(s, c, err);
  return c;
}

kj_code kjc_store_adopt_remote(kjc_store *s, const kj_rstate *remote, int *changed, kj_err *err) {
  int pending = 0, rejected = 0;
  OWN_BEGIN(s, err);
  kj_code c = kjc_record_outbox(s, remote->rec.id, &pending, &rejected, NULL, err);
  if (!c && (pending || rejected))
    c = kjc_store_apply_remote(s, remote, changed, err);
  else if (!c) {
    c = state_put(s, remote, err);
    if (changed)
      *changed = !c;
  }
  OWN_END(s, c, err);
  return c;
}

kj_code kjc_store_each(kjc_store *s, kj_rtype t, unsigned flags, kjc_each_fn fn, void *ud,
                       kj_err *err) {
  sqlite3_stmt *st = s->st[S_REC_EACH];
  sqlite3_bind_text(st, 1, kj_type(t)->name, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, (flags & KJC_EACH_DELETED) ? 1 : 0);
  sqlite3_bind_int(st, 3, (flags & KJC_EACH_PENDING) ? 1 : 0);
  sqlite3_bind_int(st, 4, (flags & KJC_EACH_REJECTED) ? 1 : 0);
  int rc;
  kj_code c = KJ_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    kj_rstate rs;
    c = state_parse(s, kj_type(t)->name, (const char *)sqlite3_column_text(st, 1),
                    sqlite3_column_int(st, 2), (const char *)sqlite3_column_text(st, 0), &rs, err);
    if (c) {
      kj_rstate_release(&rs);
      break;
    }
    int stop = fn(ud, &rs, (const char *)sqlite3_column_text(st, 3));
    kj_rstate_release(&rs);
    if (stop) {
      c = KJ_EINTR;
      break;
    }
  }
  if (!c && rc != SQLITE_DONE)
    c = st_fail(s, rc, err, "read records");
  done(st);
  return c;
}

/* ---- outbox ---- */

kj_code kjc_outbox_batch(kjc_store *s, int max, kj_change *out, int *n, kj_err *err) {
  return kjc_outbox_batch_after(s, INT64_MIN, max, out, n, err);
}

kj_code kjc_outbox_batch_after(kjc_store *s, int64_t after, int max, kj_change *out, int *n,
                               kj_err *err) {
  sqlite3_stmt *st = s->st[S_OB_BATCH];
  *n = 0;
  sqlite3_bind_int(st, 1, max);
  sqlite3_bind_int(st, 2, kjc_server_protocol(s));
  sqlite3_bind_int64(st, 3, after);
  int rc;
  kj_code c = KJ_OK;
  while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    cJSON *o = cJSON_Parse((const char *)sqlite3_column_text(st, 4));
    kj_err e;
    kj_err_clear(&e);
    if (o) {
      char h[KJ_HLC_STRMAX];
      kj_hlc_format((kj_hlc)sqlite3_column_int64(st, 3), h);
      cJSON_AddStringToObject(o, "id", (const char *)sqlite3_column_text(st, 2));
      cJSON_AddStringToObject(o, "type", (const char *)sqlite3_column_text(st, 1));
      cJSON_AddStringToObject(o, "hlc", h);
    }
    if (!o) {
      c = kj_fail(err, KJ_EDB, _("database '%s' is damaged: an outbox row is not JSON"), s->path);
      break;
    }
    c = kj_change_from_json(o, &out[*n], &e);
    cJSON_Delete(o);
    if (c) {
      c = kj_fail(err, KJ_EDB, _("database '%s' is damaged: outbox: %s"), s->path, e.msg);
      break;
    }
    out[*n].seq = (int64_t)sqlite3_column_int64(st, 0);
    out[*n].needs = sqlite3_column_int(st, 5);
    copy_str(out[*n].device, sizeof out[*n].device, s->device);
    (*n)++;
  }
  if (!c && *n < max && rc != SQLITE_DONE)
    c = st_fail(s, rc, err, "read outbox");
  done(st);
  if (c) {
    for (int i = 0; i < *n; i++)
      kj_change_release(&out[i]);
    *n = 0;
  }
  return c;
}

kj_code kjc_outbox_batch_wire(kjc_store *s, int64_t after, int max, kj_change *out, int *n,
                              kj_buf *body, kj_err *err) {
  sqlite3_stmt *st = s->st[S_OB_BATCH_WIRE];
  *n = 0;
  sqlite3_bind_int(st, 1, max);
  sqlite3_bind_int(st, 2, kjc_server_protocol(s));
  sqlite3_bind_int64(st, 3, after);
  size_t len0 = body->len;
  int rc = SQLITE_DONE;
  kj_code c = KJ_OK;
  while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t seq = (int64_t)sqlite3_column_int64(st, 0);
    const char *type = (const char *)sqlite3_column_text(st, 1);
    const char *id = (const char *)sqlite3_column_text(st, 2);
    kj_hlc hlc = (kj_hlc)sqlite3_column_int64(st, 3);
    const char *text = (const char *)sqlite3_column_text(st, 4);
    size_t len = (size_t)sqlite3_column_bytes(st, 4);
    const kj_type_def *t = type ? kj_type_by_name(type) : NULL;
    if (!t || !id || !*id || strlen(id) > KJ_ID_MAX || hlc == 0) {
      c = kj_fail(err, KJ_EDB, _("database '%s' is damaged: an outbox row is not JSON"), s->path);
      break;
    }
    kj_err e;
    kj_err_clear(&e);
    if ((c = kj_push_wire_change(body, *n == 0, seq, id, t->name, hlc, text, len, &e))) {
      c = c == KJ_ENOMEM
              ? kj_fail(err, KJ_ENOMEM, _("out of memory"))
              : kj_fail(err, KJ_EDB, _("database '%s' is damaged: outbox: %s"), s->path, e.msg);
      break;
    }
    kj_change *ch = &out[*n];
    kj_change_init(ch, t->type);
    copy_str(ch->rec.id, sizeof ch->rec.id, id);
    ch->rec.deleted = sqlite3_column_int(st, 6) != 0;
    ch->seq = seq;
    ch->hlc = hlc;
    ch->needs = sqlite3_column_int(st, 5);
    copy_str(ch->device, sizeof ch->device, s->device);
    (*n)++;
  }
  if (!c && *n < max && rc != SQLITE_DONE)
    c = st_fail(s, rc, err, "read outbox");
  done(st);
  if (c) {
    for (int i = 0; i < *n; i++)
      kj_change_release(&out[i]);
    *n = 0;
    if (body->data && body->len >= len0) {
      body->len = len0;
      body->data[len0] = 0;
    }
  }
  return c;
}

/* An outbox row as it was before its acknowledgement deleted it. */
typedef struct ob_row {
  int found; /* 0: no such row (discarded while it was on its way) */
  char type[32];
  char id[KJ_ID_MAX + 1];
  kj_hlc hlc;
  char *change; /* the column, malloc'd */
} ob_row;

/* The row as a change, as kjc_outbox_batch reads it. */
static kj_code ob_row_change(kjc_store *s, const ob_row *r, kj_change *out, kj_err *err) {
  kj_change_init(out, KJ_T_SURVEY);
  cJSON *o = cJSON_Parse(r->change);
  char h[KJ_HLC_STRMAX];
  kj_hlc_format(r->hlc, h);
  if (!o)
    return kj_fail(err, KJ_EDB, _("database '%s' is damaged: an outbox row is not JSON"), s->path);
  kj_code c = KJ_OK;
  kj_err e;
  kj_err_clear(&e);
  if (!cJSON_AddStringToObject(o, "id", r->id) || !cJSON_AddStringToObject(o, "type", r->type) ||
      !cJSON_AddStringToObject(o, "hlc", h)) {
    c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
  } else {
    kj_change_release(out);
    if (kj_change_from_json(o, out, &e))
      c = kj_fail(err, KJ_EDB, _("database '%s' is damaged: outbox: %s"), s->path, e.msg);
    else
      copy_str(out->device, sizeof out->device, s->device);
  }
  cJSON_Delete(o);
  return c;
}

/* The server took row r (deleted already): while other rows of the record
 * wait, the server's version takes r's change too (the server's merge).
 * Without any, the state is the server's version; base is left as it is
 * (it means nothing without rows: the next local write keeps it anew). */
static kj_code base_ack(kjc_store *s, const ob_row *r, kj_err *err) {
  const kj_type_def *t = kj_type_by_name(r->type);
  int rows = 0;
  kj_code c = t ? has_rows(s, r->type, r->id, &rows, err) : KJ_OK;
  if (c || !t || !rows)
    return c;
  int known, none, merged = 0;
  kj_rstate b;
  kj_change ch;
  kj_change_init(&ch, t->type);
  c = base_load(s, t, r->id, &known, &none, &b, err);
  if (!c && known) {
    kj_change_release(&ch);
    c = ob_row_change(s, r, &ch, err);
  }
  if (!c && known) {
    kj_err m;
    kj_err_clear(&m);
    if (kj_merge_apply(&b, &ch, NULL, NULL, &merged, &m))
      c = kj_fail(err, m.code == KJ_ENOMEM ? KJ_ENOMEM : KJ_EDB, _("record '%s': %s"), r->id,
                  m.msg);
    else
      c = base_store(s, &b, err);
  }
  kj_change_release(&ch);
  kj_rstate_release(&b);
  return c;
}

/* The rows of the run [a, z] whose record keeps outbox rows outside it,
 * in seq order, into *out (malloc'd array of *n; free each change): the
 * acknowledged changes the server's version (base_ack) must take. */
static kj_code ack_others(kjc_store *s, int64_t a, int64_t z, ob_row **out, int *n, kj_err *err) {
  sqlite3_stmt *st = s->st[S_OB_ACK_OTHERS];
  sqlite3_bind_int64(st, 1, a);
  sqlite3_bind_int64(st, 2, z);
  *out = NULL;
  *n = 0;
  int rc = SQLITE_DONE, cap = 0;
  kj_code c = KJ_OK;
  while (!c && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      ob_row *g = realloc(*out, (size_t)(cap = cap ? 2 * cap : 4) * sizeof *g);
      if (!g) {
        c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
        break;
      }
      *out = g;
    }
    ob_row *r = &(*out)[*n];
    memset(r, 0, sizeof *r);
    copy_str(r->type, sizeof r->type, (const char *)sqlite3_column_text(st, 0));
    copy_str(r->id, sizeof r->id, (const char *)sqlite3_column_text(st, 1));
    r->hlc = (kj_hlc)sqlite3_column_int64(st, 2);
    r->change = xstrdup((const char *)sqlite3_column_text(st, 3));
    r->found = 1;
    if (!r->change)
      c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
    else
      (*n)++;
  }
  if (!c && rc != SQLITE_DONE)
    c = st_fail(s, rc, err, "read outbox");
  done(st);
  return c;
}

/* One run of consecutive acknowledged seqs [a, z]: kept in `sent`, deleted
 * from the outbox with one statement each; *gone gets how many of them
 * were no longer in the outbox.  What the per-row version did (keep,
 * delete, then base_ack while rows of the record wait) gives the same
 * result: a row whose record keeps rows only inside the run is merged
 * there into a base that stops mattering when the run is gone. */
static kj_code ack_run(kjc_store *s, int64_t a, int64_t z, int64_t now, int64_t *gone,
                       kj_err *err) {
  ob_row *others = NULL;
  int nothers = 0;
  kj_code c = ack_others(s, a, z, &others, &nothers, err);
  if (!c) {
    sqlite3_stmt *st = s->st[S_OB_KEEP_RUN];
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, z);
    sqlite3_bind_int64(st, 3, now);
    c = run(s, st, err);
  }
  if (!c) {
    sqlite3_stmt *st = s->st[S_OB_ACK_RUN];
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, z);
    c = run(s, st, err);
    if (!c)
      *gone += (z - a + 1) - (int64_t)sqlite3_changes(s->db);
  }
  for (int i = 0; !c && i < nothers; i++)
    c = base_ack(s, &others[i], err);
  for (int i = 0; i < nothers; i++)
    free(others[i].change);
  free(others);
  return c;
}

kj_code kjc_outbox_ack(kjc_store *s, const int64_t *seqs, int n, kj_err *err) {
  OWN_BEGIN(s, err);
  kj_code c = KJ_OK;
  int64_t now = kjc_store_now_ms(s); /* the server's time: a wrong PC clock keeps nothing too
                                       short or too long */
  int64_t gone = 0;
  for (int i = 0; i < n && !c;) {
    int j = i; /* seqs[i..j] are consecutive: one run */
    while (j + 1 < n && seqs[j + 1] == seqs[j] + 1)
      j++;
    c = ack_run(s, seqs[i], seqs[j], now, &gone, err);
    i = j + 1;
  }
  /* a change discarded while it was on its way: the server has it, this
   * PC went back to before it; the next pull brings this PC's own records
   * too (docs/protocol.md "Discarding local changes") */
  if (!c && gone)
    c = kjc_meta_set(s, KJC_META_PULL_FULL, "1", err);
  OWN_END(s, c, err);
  return c;
}

kj_code kjc_outbox_requeue(kjc_store *s, int64_t seq, kj_err *err) {
  OWN_BEGIN(s, err);
  sqlite3_bind_int64(s->st[S_OB_REQUEUE], 1, seq);
  kj_code c = run(s, s->st[S_OB_REQUEUE], err);
  if (!c) {
    sqlite3_bind_int64(s->st[S_OB_ACK_RUN], 1, seq);
    sqlite3_bind_int64(s->st[S_OB_ACK_RUN], 2, seq);
    c = run(s, s->st[S_OB_ACK_RUN], err);
  }
  OWN_END(s, c, err);
  return c;
}

static kj_code exec_count(kjc_store *s, const char *sql, int64_t arg, int64_t *changes,
                          kj_err *err);

kj_code kjc_outbox_reject(kjc_store *s, int64_t seq, const char *reason, kj_err *err) {
  OWN_BEGIN(s, err);
  sqlite3_stmt *st = s->st[S_OB_REJECT];
  sqlite3_bind_int64(st, 1, seq);
  sqlite3_bind_text(st, 2, reason ? reason : "rejected by the server", -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, 0);
  kj_code c = run(s, st, err);
  OWN_END(s, c, err);
  return c;
}

kj_code kjc_outbox_park(kjc_store *s, int64_t seq, const char *reason, kj_err *err) {
  OWN_BEGIN(s, err);
  sqlite3_stmt *st = s->st[S_OB_REJECT];
  sqlite3_bind_int64(st, 1, seq);
  sqlite3_bind_text(st, 2, reason ? reason : "the server does not hold this record", -1,
                    SQLITE_STATIC);
  sqlite3_bind_int(st, 3, 1);
  kj_code c = run(s, st, err);
  OWN_END(s, c, err);
  return c;
}

kj_code kjc_outbox_unpark(kjc_store *s, kj_err *err) {
  OWN_BEGIN(s, err);
  kj_code c = exec_count(s,
                         "UPDATE outbox SET status = 'pending', reason = NULL, parked = 0 "
                         "WHERE parked = 1 AND status = 'rejected'",
                         0, NULL, err);
  OWN_END(s, c, err);
  return c;
}

kj_code kjc_outbox_max_seq(kjc_store *s, int64_t *out, kj_err *err) {
  sqlite3_stmt *st = NULL;
  *out = 0;
  int rc = sqlite3_prepare_v2(s->db, "SELECT coalesce(max(seq), 0) FROM outbox", -1, &st, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
    *out = (int64_t)sqlite3_column_int64(st, 0);
  kj_code c = rc == SQLITE_ROW ? KJ_OK : st_fail(s, rc, err, "read outbox");
  sqlite3_finalize(st);
  return c;
}

/* ---- clock: stamping again (docs/protocol.md "Clocks") ---- */

typedef struct restamp_row {
  int64_t seq;
  kj_rtype type;
  char id[KJ_ID_MAX + 1];
  kj_hlc old, new_;
  int64_t made_ms; /* created_ms + the offset now: when it was made, if the clock kept its error */
} restamp_row;

/* 1 when (h, device) is the stamp of one of rows[0..n) written here. */
static int is_restamped(const restamp_row *rows, long n, kj_hlc h, const char *device,
                        const char *me) {
  if (strcmp(device, me) != 0)
    return 0;
  for (long i = 0; i < n; i++)
    if (rows[i].old == h)
      return 1;
  return 0;
}

/* The highest stamp of state rs that is not one being replaced. */
static kj_hlc state_seen(const kj_rstate *rs, const restamp_row *rows, long n, const char *me) {
  kj_hlc m = 0;
  const kj_type_def *t = kj_type(rs->rec.type);
  for (int f = 0; t && f < t->nfields; f++)
    if (rs->st[f].hlc > m && !is_restamped(rows, n, rs->st[f].hlc, rs->st[f].device, me))
      m = rs->st[f].hlc;
  for (int f = 0; f < rs->nx; f++)
    if (rs->x[f].st.hlc > m && !is_restamped(rows, n, rs->x[f].st.hlc, rs->x[f].st.device, me))
      m = rs->x[f].st.hlc;
  if (rs->del.hlc > m && !is_restamped(rows, n, rs->del.hlc, rs->del.device, me))
    m = rs->del.hlc;
  return m;
}

/* Replace the stamps of rows in rs; 1 when any changed. */
static int state_restamp(kj_rstate *rs, const restamp_row *rows, long n, const char *me) {
  int changed = 0;
  const kj_type_def *t = kj_type(rs->rec.type);
  for (long i = 0; i < n; i++) {
    for (int f = 0; t && f < t->nfields; f++)
      if (rs->st[f].hlc == rows[i].old && !strcmp(rs->st[f].device, me)) {
        rs->st[f].hlc = rows[i].new_;
        changed = 1;
      }
    for (int f = 0; f < rs->nx; f++)
      if (rs->x[f].st.hlc == rows[i].old && !strcmp(rs->x[f].st.device, me)) {
        rs->x[f].st.hlc = rows[i].new_;
        changed = 1;
      }
    if (rs->del.hlc == rows[i].old && !strcmp(rs->del.device, me)) {
      rs->del.hlc = rows[i].new_;
      changed = 1;
    }
  }
  return changed;
}

static kj_code restamp_in_txn(kjc_store *s, kj_hlc from, long *n, kj_err *err) {
  restamp_row *rows = NULL;
  long nrows = 0, cap = 0;
  kj_hlc base = 0;
  kj_code c = KJ_OK;
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db,
                              "SELECT seq, type, id, hlc, status = 'pending' AND hlc >= ?1, "
                              "created_ms FROM outbox ORDER BY seq",
                              -1, &st, NULL);
  if (rc == SQLITE_OK)
    sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
  while (rc == SQLITE_OK && !c) {
    if ((rc = sqlite3_step(st)) != SQLITE_ROW)
      break;
    rc = SQLITE_OK;
    kj_hlc h = (kj_hlc)sqlite3_column_int64(st, 3);
    if (!sqlite3_column_int(st, 4)) {
      if (h > base)
        base = h;
      continue;
    }
    const kj_type_def *t = kj_type_by_name((const char *)sqlite3_column_text(st, 1));
    if (!t)
      continue;
    if (nrows == cap) {
      long nc = cap ? 2 * cap : 64;
      restamp_row *nr = realloc(rows, (size_t)nc * sizeof *nr);
      if (!nr) {
        c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
        break;
      }
      rows = nr;
      cap = nc;
    }
    restamp_row *r = &rows[nrows++];
    r->seq = (int64_t)sqlite3_column_int64(st, 0);
    r->type = t->type;
    copy_str(r->id, sizeof r->id, (const char *)sqlite3_column_text(st, 2));
    r->old = h;
    r->made_ms = (int64_t)sqlite3_column_int64(st, 5) + s->clock.offset_ms;
  }
  if (!c && rc != SQLITE_DONE && rc != SQLITE_OK)
    c = st_fail(s, rc, err, "read outbox");
  sqlite3_finalize(st);
  st = NULL;
  /* everything this PC has seen: every stamp of every state but the ones
   * being replaced */
  if (!c && nrows) {
    rc = sqlite3_prepare_v2(s->db, "SELECT type, id, deleted, state FROM records", -1, &st, NULL);
    while (!c && rc == SQLITE_OK) {
      if ((rc = sqlite3_step(st)) != SQLITE_ROW)
        break;
      rc = SQLITE_OK;
      kj_rstate rs;
      if (!kj_type_by_name((const char *)sqlite3_column_text(st, 0)))
        continue;
      c = state_parse(s, (const char *)sqlite3_column_text(st, 0),
                      (const char *)sqlite3_column_text(st, 1), sqlite3_column_int(st, 2),
                      (const char *)sqlite3_column_text(st, 3), &rs, err);
      if (!c) {
        kj_hlc m = state_seen(&rs, rows, nrows, s->device);
        if (m > base)
          base = m;
      }
      kj_rstate_release(&rs);
    }
    if (!c && rc != SQLITE_DONE && rc != SQLITE_OK)
      c = st_fail(s, rc, err, "read records");
    sqlite3_finalize(st);
  }
  *n = 0;
  if (c || !nrows) {
    free(rows);
    return c;
  }
  /* the time a change was made, when the PC's clock kept the error it has
   * now (created_ms + the offset measured now, not in the future), else
   * just after what was seen; in seq order */
  uint64_t now = kj_wall_ms();
  int64_t corr_now = (int64_t)now + s->clock.offset_ms;
  kj_hlc prev = base;
  for (long i = 0; i < nrows; i++) {
    kj_hlc h = prev + 1;
    if (rows[i].made_ms > 0 && rows[i].made_ms <= corr_now &&
        KJ_HLC_MAKE((uint64_t)rows[i].made_ms, 0) > h)
      h = KJ_HLC_MAKE((uint64_t)rows[i].made_ms, 0);
    rows[i].new_ = prev = h;
  }
  if (rows[0].new_ >= rows[0].old) {
    free(rows);
    return KJ_OK; /* nothing to lower */
  }
  sqlite3_stmt *up = NULL;
  rc = sqlite3_prepare_v2(s->db, "UPDATE outbox SET hlc = ?2 WHERE seq = ?1", -1, &up, NULL);
  for (long i = 0; rc == SQLITE_OK && i < nrows; i++) {
    sqlite3_bind_int64(up, 1, rows[i].seq);
    sqlite3_bind_int64(up, 2, (sqlite3_int64)rows[i].new_);
    rc = sqlite3_step(up) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
    sqlite3_reset(up);
  }
  if (rc != SQLITE_OK)
    c = st_fail(s, sqlite3_errcode(s->db), err, "stamp the outbox again");
  sqlite3_finalize(up);
  /* each record once: its state takes every new stamp */
  for (long i = 0; !c && i < nrows; i++) {
    int first = 1;
    for (long j = 0; j < i && first; j++)
      if (rows[j].type == rows[i].type && !strcmp(rows[j].id, rows[i].id))
        first = 0;
    if (!first)
      continue;
    kj_rstate rs = {0};
    kj_err x;
    kj_err_clear(&x);
    kj_code g = kjc_record_get(s, rows[i].type, rows[i].id, &rs, &x);
    if (g == KJ_OK && state_restamp(&rs, rows, nrows, s->device))
      c = state_put(s, &rs, err);
    else if (g && g != KJ_ENOENT)
      c = kj_fail(err, g, "%s", x.msg);
    kj_rstate_release(&rs);
  }
  if (!c) {
    /* the clock restarts after the new stamps (and everything seen) */
    s->clock.last = rows[nrows - 1].new_;
    *n = nrows;
  }
  free(rows);
  return c;
}

kj_code kjc_outbox_restamp(kjc_store *s, kj_hlc from, long *n, kj_err *err) {
  *n = 0;
  OWN_BEGIN(s, err);
  kj_code c = restamp_in_txn(s, from, n, err);
  OWN_END(s, c, err);
  return c;
}

/* One statement of the restore helpers (rare: prepared per call). */
static kj_code exec_count(kjc_store *s, const char *sql, int64_t arg, int64_t *changes,
                          kj_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    if (sqlite3_bind_parameter_count(st) > 0)
      sqlite3_bind_int64(st, 1, (sqlite3_int64)arg);
    rc = sqlite3_step(st);
  }
  kj_code c = KJ_OK;
  if (rc == SQLITE_ROW && changes)
    *changes = (int64_t)sqlite3_column_int64(st, 0);
  else if (rc == SQLITE_DONE && changes)
    *changes = (int64_t)sqlite3_changes(s->db);
  else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    c = st_fail(s, rc, err, "outbox");
  sqlite3_finalize(st);
  return c;
}

kj_code kjc_outbox_top(kjc_store *s, int64_t *out, kj_err *err) {
  *out = 0;
  return exec_count(s,
                    "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'outbox'), "
                    "0), coalesce((SELECT max(seq) FROM sent), 0), ?1)",
                    0, out, err);
}

kj_code kjc_outbox_resend_sent(kjc_store *s, int64_t *n, kj_err *err) {
  *n = 0;
  OWN_BEGIN(s, err);
  kj_code c = exec_count(s,
                         "INSERT OR IGNORE INTO outbox(seq, type, id, hlc, deleted, change, "
                         "created_ms, needs) SELECT seq, type, id, hlc, deleted, change, "
                         "created_ms, needs FROM sent ORDER BY seq",
                         0, n, err);
  if (!c)
    c = exec_count(s, "DELETE FROM sent", 0, NULL, err);
  if (!c) /* rows without a write: the server's versions are not known */
    c = run(s, s->st[S_BASE_FORGET], err);
  OWN_END(s, c, err);
  return c;
}

kj_code kjc_store_forget(kjc_store *s, kj_rtype type, const char *id, int *dropped, kj_err *err) {
  *dropped = 0;
  OWN_BEGIN(s, err);
  sqlite3_stmt *st = NULL;
  kj_code c = KJ_OK;
  if (sqlite3_prepare_v2(s->db, "DELETE FROM records WHERE type = ?1 AND id = ?2", -1, &st, NULL) !=
      SQLITE_OK) {
    c = st_fail(s, sqlite3_errcode(s->db), err, "drop a moved record");
  } else {
    sqlite3_bind_text(st, 1, kj_type(type)->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
      c = st_fail(s, rc, err, "drop a moved record");
    else
      *dropped = sqlite3_changes(s->db) > 0;
  }
  sqlite3_finalize(st);
  OWN_END(s, c, err);
  return c;
}

/* The changes of this PC that rebuild state rs on a server that lost them:
 * one per distinct stamp of this device among its fields (the fields it
 * wrote together), and its delete; every change keeps its stamp's hlc, so
 * merging it where the write is known changes nothing.  What other PCs
 * wrote, they send again themselves. */
static kj_code rederive_record(kjc_store *s, const kj_rstate *rs, long *n, kj_err *err) {
  const kj_type_def *t = kj_type(rs->rec.type);
  uint32_t done = 0;
  kj_code c = KJ_OK;
  for (int i = 0; !c && i < t->nfields; i++) {
    if (!rs->st[i].hlc || (done >> i) & 1u || strcmp(rs->st[i].device, s->device) != 0)
      continue;
    kj_change ch;
    kj_change_init(&ch, rs->rec.type);
    snprintf(ch.rec.id, sizeof ch.rec.id, "%s", rs->rec.id);
    ch.hlc = rs->st[i].hlc;
    for (int j = i; !c && j < t->nfields; j++) {
      if (rs->st[j].hlc != rs->st[i].hlc || strcmp(rs->st[j].device, s->device) != 0)
        continue;
      done |= 1u << j;
      ch.mask |= 1u << j;
      if (kj_record_set(&ch.rec, j, rs->rec.v[j]))
        c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
    }
    if (!c)
      c = outbox_append(s, &ch, err);
    kj_change_release(&ch);
    (*n)++;
  }
  if (!c && rs->rec.deleted && rs->del.hlc && !strcmp(rs->del.device, s->device)) {
    kj_change ch;
    kj_change_init(&ch, rs->rec.type);
    snprintf(ch.rec.id, sizeof ch.rec.id, "%s", rs->rec.id);
    ch.rec.deleted = 1;
    ch.hlc = rs->del.hlc;
    c = outbox_append(s, &ch, err);
    kj_change_release(&ch);
    (*n)++;
  }
  return c;
}

kj_code kjc_outbox_rederive(kjc_store *s, long *n, kj_err *err) {
  *n = 0;
  OWN_BEGIN(s, err);
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(s->db, "SELECT type, id, deleted, state FROM records", -1, &st, NULL);
  kj_code c = rc == SQLITE_OK ? KJ_OK : st_fail(s, rc, err, "read records");
  while (!c && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    const kj_type_def *t = kj_type_by_name((const char *)sqlite3_column_text(st, 0));
    if (!t || t->master)
      continue;
    kj_rstate rs;
    c = state_parse(s, t->name, (const char *)sqlite3_column_text(st, 1), sqlite3_column_int(st, 2),
                    (const char *)sqlite3_column_text(st, 3), &rs, err);
    const char *office = c ? NULL : kj_record_office(&rs.rec);
    if (!c && office && !strcmp(office, s->office))
      c = rederive_record(s, &rs, n, err);
    kj_rstate_release(&rs);
  }
  if (!c && rc != SQLITE_DONE && rc != SQLITE_ROW)
    c = st_fail(s, rc, err, "read records");
  sqlite3_finalize(st);
  if (!c) /* rows without a write: the server's versions are not known */
    c = run(s, s->st[S_BASE_FORGET], err);
  OWN_END(s, c, err);
  return c;
}

kj_code kjc_outbox_prune_sent(kjc_store *s, int64_t before_ms, kj_err *err) {
  OWN_BEGIN(s, err);
  kj_code c = exec_count(s, "DELETE FROM sent WHERE acked_ms < ?1", before_ms, NULL, err);
  OWN_END(s, c, err);
  return c;
}

int64_t kjc_store_now_ms(kjc_store *s) {
  return (int64_t)kj_wall_ms() + s->clock.offset_ms;
}

int kjc_server_protocol(kjc_store *s) {
  int64_t v = KJ_PROTOCOL_MAX;
  if (kjc_meta_get_i64(s, KJC_META_SERVER_PROTOCOL, KJ_PROTOCOL_MAX, &v, NULL) || v < 1 ||
      v > KJ_PROTOCOL_MAX)
    v = KJ_PROTOCOL_MAX;
  return (int)v;
}

kj_code kjc_outbox_stats_get(kjc_store *s, kjc_outbox_stats *out, kj_err *err) {
  sqlite3_stmt *st = s->st[S_OB_STATS];
  memset(out, 0, sizeof *out);
  sqlite3_bind_int(st, 1, kjc_server_protocol(s));
  int rc = sqlite3_step(st);
  kj_code c = KJ_OK;
  if (rc == SQLITE_ROW) {
    out->held = (long)sqlite3_column_int64(st, 3);
    out->pending = (long)sqlite3_column_int64(st, 0) - out->held;
    out->rejected = (long)sqlite3_column_int64(st, 1);
    out->oldest_pending_ms = (int64_t)sqlite3_column_int64(st, 2);
  } else {
    c = st_fail(s, rc, err, "read outbox");
  }
  done(st);
  return c;
}

/* ---- scores ---- */

kj_code kjc_scores_put(kjc_store *s, const char *kind, const char *period, const char *office,
                       const char *json, kj_err *err) {
  sqlite3_stmt *st = s->st[S_SC_PUT];
  sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, period, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, office ? office : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, json, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, (sqlite3_int64)kj_wall_ms());
  return run(s, st, err);
}

kj_code kjc_scores_get(kjc_store *s, const char *kind, const char *period, const char *office,
                       char **out, char **period_out, kj_err *err) {
  sqlite3_stmt *st = s->st[S_SC_GET];
  *out = NULL;
  if (period_out)
    *period_out = NULL;
  sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, office ? office : "", -1, SQLITE_STATIC);
  if (period)
    sqlite3_bind_text(st, 3, period, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  kj_code c = KJ_OK;
  if (rc == SQLITE_ROW) {
    *out = xstrdup((const char *)sqlite3_column_text(st, 0));
    if (period_out)
      *period_out = xstrdup((const char *)sqlite3_column_text(st, 1));
    if (!*out || (period_out && !*period_out))
      c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
  } else if (rc != SQLITE_DONE) {
    c = st_fail(s, rc, err, "read scores");
  }
  done(st);
  return c;
}

/* ---- persons ---- */

void kjc_person_row_release(kjc_person_row *p) {
  if (!p)
    return;
  free(p->pin_hash);
  free(p->activation);
  p->pin_hash = p->activation = NULL;
}

kj_code kjc_person_get(kjc_store *s, const char *nip, kjc_person_row *out, int *found,
                       kj_err *err) {
  memset(out, 0, sizeof *out);
  copy_str(out->nip, sizeof out->nip, nip);
  *found = 0;
  sqlite3_stmt *st = s->st[S_PERSON_GET];
  sqlite3_bind_text(st, 1, nip, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  kj_code c = KJ_OK;
  if (rc == SQLITE_ROW) {
    *found = 1;
    const char *ph = (const char *)sqlite3_column_text(st, 0);
    const char *ac = (const char *)sqlite3_column_text(st, 3);
    out->failures = sqlite3_column_int(st, 1);
    out->locked_until_ms = sqlite3_column_int64(st, 2);
    out->set_ms = sqlite3_column_int64(st, 4);
    if ((ph && !(out->pin_hash = xstrdup(ph))) || (ac && !(out->activation = xstrdup(ac)))) {
      kjc_person_row_release(out);
      c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
    }
  } else if (rc != SQLITE_DONE) {
    c = st_fail(s, rc, err, "read persons");
  }
  done(st);
  return c;
}

kj_code kjc_person_put(kjc_store *s, const kjc_person_row *p, kj_err *err) {
  sqlite3_stmt *st = s->st[S_PERSON_PUT];
  sqlite3_bind_text(st, 1, p->nip, -1, SQLITE_STATIC);
  if (p->pin_hash)
    sqlite3_bind_text(st, 2, p->pin_hash, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, p->failures);
  sqlite3_bind_int64(st, 4, p->locked_until_ms);
  if (p->activation)
    sqlite3_bind_text(st, 5, p->activation, -1, SQLITE_STATIC);
  if (p->set_ms)
    sqlite3_bind_int64(st, 6, p->set_ms);
  return run(s, st, err);
}

kj_code kjc_review_note(kjc_store *s, const char *id, const char *status, const char *reviewer,
                        const char *reason, int64_t at_ms, kj_err *err) {
  sqlite3_stmt *st = s->st[S_REVIEW_PUT];
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, reviewer, -1, SQLITE_STATIC);
  if (reason)
    sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, at_ms);
  return run(s, st, err);
}

kj_code kjc_review_last(kjc_store *s, const char *id, char **text, kj_err *err) {
  *text = NULL;
  sqlite3_stmt *st = s->st[S_REVIEW_LAST];
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  kj_code c = KJ_OK;
  if (rc == SQLITE_ROW) {
    const char *status = (const char *)sqlite3_column_text(st, 0);
    const char *who = (const char *)sqlite3_column_text(st, 1);
    const char *reason = (const char *)sqlite3_column_text(st, 2);
    size_t n = strlen(status) + strlen(who) + (reason ? strlen(reason) : 0) + 64;
    if ((*text = malloc(n)) != NULL)
      snprintf(*text, n, "%s by %s at this PC%s%s", status, who, reason ? ": " : "",
               reason ? reason : "");
    else
      c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
  } else if (rc != SQLITE_DONE) {
    c = st_fail(s, rc, err, "read reviews");
  }
  done(st);
  return c;
}

/* ---- discard (kinerja discard) ---- */

/* The type of the first outbox row of id, into *t (KJ_T_NONE: no row). */
static kj_code outbox_type(kjc_store *s, const char *id, kj_rtype *t, long *nrows, kj_err *err) {
  sqlite3_stmt *st = NULL;
  *t = KJ_T_NONE;
  *nrows = 0;
  int rc = sqlite3_prepare_v2(
      s->db, "SELECT type, count(*) FROM outbox WHERE id = ?1 GROUP BY type", -1, &st, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      const kj_type_def *d = kj_type_by_name((const char *)sqlite3_column_text(st, 0));
      if (d && !d->master && *t == KJ_T_NONE) {
        *t = d->type;
        *nrows = (long)sqlite3_column_int64(st, 1);
      }
    }
  }
  kj_code c = rc == SQLITE_DONE ? KJ_OK : st_fail(s, rc, err, "read outbox");
  sqlite3_finalize(st);
  return c;
}

kj_code kjc_store_discard(kjc_store *s, const char *id, kjc_discard *out, kj_err *err) {
  memset(out, 0, sizeof *out);
  out->type = KJ_T_NONE;
  OWN_BEGIN(s, err);
  kj_rstate cur;
  int have = 0;
  kj_code c = kjc_record_get(s, KJ_T_NONE, id, &cur, err);
  if (c == KJ_ENOENT) {
    kj_err_clear(err);
    c = KJ_OK;
  } else if (!c) {
    have = 1;
    out->type = cur.rec.type;
  }
  kj_rtype rowtype = KJ_T_NONE;
  long nrows = 0;
  if (!c)
    c = outbox_type(s, id, &rowtype, &nrows, err);
  if (!c && have && rowtype != KJ_T_NONE && rowtype != cur.rec.type)
    rowtype = KJ_T_NONE; /* rows of another type under this id: not this record's */
  if (!c && !have && rowtype == KJ_T_NONE)
    c = kj_fail(err, KJ_ENOENT, _("no record '%s' at this office"), id);
  if (!c && rowtype == KJ_T_NONE) {
    out->what = KJC_DISCARD_NOTHING;
  } else if (!c) {
    const kj_type_def *t = kj_type(rowtype);
    int pending = 0, rejected = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db,
                                "SELECT coalesce(sum(status = 'pending'), 0), "
                                "coalesce(sum(status = 'rejected'), 0) FROM outbox "
                                "WHERE id = ?1 AND type = ?2",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
      sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 2, t->name, -1, SQLITE_STATIC);
      if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        pending = sqlite3_column_int(st, 0);
        rejected = sqlite3_column_int(st, 1);
        rc = SQLITE_OK;
      }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
      c = st_fail(s, rc, err, "read outbox");
    out->type = rowtype;
    out->pending = pending;
    out->rejected = rejected;
    int known = 0, none = 0;
    kj_rstate b;
    kj_rstate_init(&b, rowtype);
    if (!c && have) {
      kj_rstate_release(&b);
      c = base_load(s, t, id, &known, &none, &b, err);
    }
    if (!c) {
      sqlite3_stmt *d = NULL;
      rc =
          sqlite3_prepare_v2(s->db, "DELETE FROM outbox WHERE id = ?1 AND type = ?2", -1, &d, NULL);
      if (rc == SQLITE_OK) {
        sqlite3_bind_text(d, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(d, 2, t->name, -1, SQLITE_STATIC);
        rc = sqlite3_step(d) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(s->db);
      }
      sqlite3_finalize(d);
      if (rc != SQLITE_OK)
        c = st_fail(s, rc, err, "drop the outbox rows");
    }
    if (!c && !have) {
      out->what = KJC_DISCARD_ORPHAN; /* moved away by the BKD: nothing here to restore */
    } else if (!c && known && !none) {
      out->what = KJC_DISCARD_RESTORED;
      out->deleted = b.rec.deleted;
      if (!(c = state_put(s, &b, err))) {
        sqlite3_stmt *st2 = s->st[S_BASE_SET];
        sqlite3_bind_text(st2, 1, t->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st2, 2, id, -1, SQLITE_STATIC);
        sqlite3_bind_null(st2, 3);
        c = run(s, st2, err);
      }
    } else if (!c) {
      int dropped = 0;
      c = kjc_store_forget(s, rowtype, id, &dropped, err);
      out->what = known ? KJC_DISCARD_REMOVED : KJC_DISCARD_REFETCH;
      /* not known (rows written before schema 4): the server's version, if
       * it has one, comes back with the next sync, which reads everything
       * again, this PC's own records included */
      if (!c && !known && !(c = kjc_meta_set(s, KJC_META_PULL_CURSOR, "0", err)))
        c = kjc_meta_set(s, KJC_META_PULL_FULL, "1", err);
    }
    kj_rstate_release(&b);
  }
  kj_rstate_release(&cur);
  OWN_END(s, c, err);
  return c;
}

kj_code kjc_outbox_orphans(kjc_store *s, kj_rtype t, kjc_orphan_fn fn, void *ud, kj_err *err) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(
      s->db,
      "SELECT o.id, (SELECT reason FROM outbox x WHERE x.id = o.id AND x.type = o.type AND "
      "x.status = 'rejected' AND x.parked = 0 ORDER BY x.seq DESC LIMIT 1) FROM outbox o WHERE "
      "o.type = ?1 AND o.status = 'rejected' AND o.parked = 0 AND NOT EXISTS(SELECT 1 FROM records "
      "r WHERE r.id = o.id AND "
      "r.type = o.type) GROUP BY o.id ORDER BY o.id",
      -1, &st, NULL);
  kj_code c = KJ_OK;
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(st, 1, kj_type(t)->name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
      if (fn(ud, t, (const char *)sqlite3_column_text(st, 0),
             (const char *)sqlite3_column_text(st, 1))) {
        c = KJ_EINTR;
        break;
      }
  }
  if (!c && rc != SQLITE_DONE)
    c = st_fail(s, rc, err, "read outbox");
  sqlite3_finalize(st);
  return c;
}
