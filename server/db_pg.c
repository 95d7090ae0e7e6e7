/* db_pg.c - the store's database on PostgreSQL (db.h) through libpq.
 *
 * Several kinerjad instances share one database (issue 19).  The schema is
 * one list of migrations (the version in table kinerjad_schema), run at
 * open inside one transaction under pg_advisory_xact_lock(KJS_PG_LOCK_MIGRATE):
 * whichever instance comes first migrates, the others wait and find it done.
 *
 * Concurrency (docs/architecture.md "Several instances"): a write
 * transaction takes pg_advisory_xact_lock(KJS_PG_LOCK_WRITE) at begin, the
 * same one writer at a time SQLite's BEGIN IMMEDIATE gives, so positions
 * (records.seq) are given in commit order and a pull's cursor never skips a
 * change committed later with a lower position.  Inside it, the record and
 * the device's applied row are read FOR UPDATE.  Reads (pull, reports,
 * tokens) run on snapshots (REPEATABLE READ) and never wait for writers.
 *
 * Statements are prepared once per connection ("kjsd_N"); parameters go as
 * text, byte strings (hashes, digests, sealed tokens) as binary bytea.
 * Text keys are COLLATE "C": orders are byte orders, as in SQLite, so both
 * stores list and digest the same rows the same way.
 */
#include "db.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <libpq-fe.h>

#include "db_pool.h"
#include "log.h"
#include "merge.h"
#include "score.h"
#include "score_pg.h"

#define KJS_PG_POOL_MAX 8
#define KJS_PG_LOCK_MIGRATE 0x4b4a534400000001LL /* "KJSD" 1 */
#define KJS_PG_LOCK_WRITE 0x4b4a534400000002LL   /* "KJSD" 2 */

/* Migrations: migration i brings kinerjad_schema.version from i to i + 1.
 * The first is the whole schema of SQLite's version 11 (db_sqlite.c), in
 * PostgreSQL's types; later changes of the schema add a migration here and
 * one in db_sqlite.c. */
static const char *const migrations[] = {
    "CREATE TABLE records(type TEXT COLLATE \"C\" NOT NULL, id TEXT COLLATE \"C\" NOT NULL,"
    " office TEXT COLLATE \"C\", deleted INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,"
    " seq BIGINT NOT NULL, origin TEXT, PRIMARY KEY(type, id));"
    "CREATE UNIQUE INDEX records_seq ON records(seq);"
    "CREATE INDEX records_office ON records(office, seq);"
    "CREATE INDEX records_rating ON records(((state::jsonb)->'f'->>'ratee'),"
    " ((state::jsonb)->'f'->>'period')) WHERE type = 'rating';"
    "CREATE TABLE tokens(hash BYTEA PRIMARY KEY, id TEXT COLLATE \"C\" NOT NULL UNIQUE,"
    " role TEXT NOT NULL, office TEXT, name TEXT, created BIGINT NOT NULL, revoked BIGINT,"
    " last_seen BIGINT);"
    "CREATE TABLE applied(device TEXT COLLATE \"C\" NOT NULL, inc TEXT COLLATE \"C\" NOT NULL"
    " DEFAULT '', seq BIGINT NOT NULL, status TEXT NOT NULL, error TEXT, digest BYTEA,"
    " PRIMARY KEY(device, inc, seq));"
    "CREATE TABLE conflicts(n BIGSERIAL PRIMARY KEY, type TEXT COLLATE \"C\" NOT NULL,"
    " id TEXT COLLATE \"C\" NOT NULL, field TEXT NOT NULL, loser TEXT, loser_stamp TEXT,"
    " winner TEXT, winner_stamp TEXT, at BIGINT NOT NULL, loser_note TEXT, winner_note TEXT);"
    "CREATE INDEX conflicts_record ON conflicts(type, id, n);"
    "CREATE TABLE moved(office TEXT COLLATE \"C\" NOT NULL, type TEXT COLLATE \"C\" NOT NULL,"
    " id TEXT COLLATE \"C\" NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY(office, type, id));"
    "CREATE INDEX moved_office ON moved(office, seq);"
    "CREATE INDEX moved_seq ON moved(seq);"
    "CREATE TABLE history(n BIGSERIAL PRIMARY KEY, type TEXT COLLATE \"C\" NOT NULL,"
    " id TEXT COLLATE \"C\" NOT NULL, device TEXT NOT NULL, author TEXT NOT NULL,"
    " hlc BIGINT NOT NULL, change TEXT NOT NULL, at BIGINT NOT NULL);"
    "CREATE INDEX history_record ON history(id, n);"
    "CREATE TABLE imports(digest TEXT COLLATE \"C\" PRIMARY KEY, type TEXT NOT NULL,"
    " file TEXT NOT NULL, rows BIGINT NOT NULL, at BIGINT NOT NULL);"
    "CREATE TABLE clock(id INTEGER PRIMARY KEY CHECK (id = 1), hlc BIGINT NOT NULL);"
    "CREATE TABLE epochs(n BIGSERIAL PRIMARY KEY, epoch TEXT NOT NULL UNIQUE, parent TEXT,"
    " base BIGINT NOT NULL, at BIGINT NOT NULL, how TEXT NOT NULL);"
    "INSERT INTO epochs(epoch, parent, base, at, how) VALUES("
    " substr(md5(random()::text || clock_timestamp()::text), 1, 16), NULL, 0,"
    " (extract(epoch from now()) * 1000)::bigint, 'first');"
    "CREATE TABLE users(name TEXT COLLATE \"C\" PRIMARY KEY, role TEXT NOT NULL,"
    " hash TEXT NOT NULL, created BIGINT NOT NULL, last_login BIGINT);"
    "CREATE TABLE enrol_codes(hash BYTEA PRIMARY KEY, device TEXT NOT NULL, sealed BYTEA,"
    " created BIGINT NOT NULL, expires BIGINT NOT NULL, used BIGINT, used_by TEXT);"
    "CREATE INDEX enrol_codes_device ON enrol_codes(device, created);",
    /* 2: what each device's PC last reported (SQLite's migration 12) */
    "CREATE TABLE device_reports(device TEXT COLLATE \"C\" PRIMARY KEY, version TEXT NOT NULL,"
    " pending BIGINT NOT NULL, rejected BIGINT NOT NULL, at BIGINT NOT NULL);",
    /* 3: the scores' report aggregates and the report memo's change
     * counters, made and filled: kjs_score_pg_aggregates (SQLite's
     * migration 13) */
    NULL,
    /* 4: a rejection's refusal as the push answered it (SQLite's
     * migration 14) */
    "ALTER TABLE applied ADD COLUMN code TEXT, ADD COLUMN field TEXT, ADD COLUMN args TEXT;",
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))
#define MIGRATION_AGGREGATES 2 /* migrations[2] is kjs_score_pg_aggregates */

#define POSITION_MAX_SQL                                                                           \
  "SELECT GREATEST(COALESCE((SELECT MAX(seq) FROM records), 0), COALESCE((SELECT MAX(seq) "        \
  "FROM moved), 0))"

/* The zone of the office of record (ALIAS.type, ALIAS.id). */
#define ZONE_OF(a)                                                                                 \
  "(SELECT (o.state::jsonb)->'f'->>'timezone' FROM records r JOIN records o ON o.type = "          \
  "'office' AND o.id = r.office WHERE r.type = " a ".type AND r.id = " a ".id)"

/* The author of the history row that wrote stamp column COL ("HLC/DEVICE")
 * of conflict c. */
#define AUTHOR_OF(col)                                                                             \
  "(SELECT h.author FROM history h WHERE h.id = c.id AND h.type = c.type AND h.hlc = "             \
  "(CASE WHEN split_part(" col ", '/', 1) ~ '^[0-9]{1,18}$' THEN split_part(" col                  \
  ", '/', 1)::bigint END) AND h.device = substr(" col ", strpos(" col ", '/') + 1) LIMIT 1)"

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
  ST_REC_GET_LOCK,
  ST_REC_PUT,
  ST_REC_ADD,
  ST_APPLIED_GET,
  ST_APPLIED_GET_LOCK,
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
  ST_ENROL_GET_LOCK,
  ST_ENROL_SPEND,
  ST_LIVE_PAGE,
  ST__COUNT
};

/* a code whose token was already used directly (--token) is spent */
#define ENROL_GET_SQL                                                                              \
  "SELECT e.device, COALESCE(e.used, t.last_seen), e.expires, (t.revoked IS NOT NULL)::int, "      \
  "(t.id IS NULL)::int, "                                                                          \
  "e.sealed, t.office, t.hash FROM enrol_codes e LEFT JOIN tokens t ON t.id = e.device "           \
  "WHERE e.hash = $1"

static const char *const stmt_sql[ST__COUNT] = {
    [ST_TOKEN_ADD] =
        "INSERT INTO tokens(hash, id, role, office, name, created) VALUES($1,$2,$3,$4,$5,$6)",
    [ST_TOKEN_ADD_IGNORE] = "INSERT INTO tokens(hash, id, role, office, name, created) "
                            "VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
    [ST_TOKEN_LOOKUP] = "SELECT hash, id, role, office, revoked, last_seen, name, created "
                        "FROM tokens WHERE hash = $1",
    [ST_TOKEN_SEEN] = "UPDATE tokens SET last_seen = $2 WHERE hash = $1",
    [ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked = $2 WHERE id = $1 AND revoked IS NULL",
    [ST_TOKEN_EXISTS] = "SELECT 1 FROM tokens WHERE id = $1",
    [ST_TOKEN_LIST] = "SELECT id, role, office, name, created, revoked, last_seen, "
                      "(SELECT CASE WHEN e.used IS NOT NULL OR tokens.last_seen IS NOT NULL THEN "
                      "'used' WHEN e.expires <= $2 "
                      "THEN 'expired' ELSE 'pending' END FROM enrol_codes e WHERE e.device = "
                      "tokens.id ORDER BY e.created DESC LIMIT 1) "
                      "FROM tokens WHERE $1::int = 0 OR role = 'device' ORDER BY created, id",
    [ST_MAXSEQ] = POSITION_MAX_SQL,
    [ST_COUNT] = "SELECT count(*) FROM records",
    [ST_REC_GET] = "SELECT state FROM records WHERE type = $1 AND id = $2",
    [ST_REC_GET_LOCK] = "SELECT state FROM records WHERE type = $1 AND id = $2 FOR UPDATE",
    [ST_REC_PUT] = "INSERT INTO records(type, id, office, deleted, state, seq, origin) "
                   "VALUES($1,$2,$3,$4,$5,$6,$7) ON CONFLICT(type, id) DO UPDATE SET "
                   "office = EXCLUDED.office, deleted = EXCLUDED.deleted, state = EXCLUDED.state, "
                   "seq = EXCLUDED.seq, origin = EXCLUDED.origin",
    [ST_REC_ADD] = "INSERT INTO records(type, id, office, deleted, state, seq, origin) "
                   "VALUES($1,$2,$3,$4,$5,$6,$7) ON CONFLICT(type, id) DO NOTHING",
    [ST_APPLIED_GET] = "SELECT status, error, digest, code, field, args FROM applied "
                       "WHERE device = $1 AND inc = $2 AND seq = $3",
    [ST_APPLIED_GET_LOCK] = "SELECT status, error, digest, code, field, args FROM applied "
                            "WHERE device = $1 AND inc = $2 AND seq = $3 FOR UPDATE",
    [ST_APPLIED_PUT] =
        "INSERT INTO applied(device, inc, seq, status, error, digest) VALUES($1,$2,$3,$4,$5,$6)",
    [ST_APPLIED_PUT_WHY] = "INSERT INTO applied(device, inc, seq, status, error, digest, code, "
                           "field, args) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)",
    [ST_CONFLICT_PUT] = "INSERT INTO conflicts(type, id, field, loser, loser_stamp, winner, "
                        "winner_stamp, at, loser_note, winner_note) "
                        "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
    [ST_CONFLICT_LIST] =
        "SELECT c.n, c.type, c.id, c.field, c.loser, c.loser_stamp, c.winner, "
        "c.winner_stamp, c.at, c.loser_note, c.winner_note, " AUTHOR_OF(
            "c.loser_stamp") ", " AUTHOR_OF("c.winner_stamp") ", " ZONE_OF("c") " FROM conflicts c "
                                                                                "ORDER BY c.n",
    [ST_CONFLICT_TRIM] = "DELETE FROM conflicts WHERE type = $1 AND id = $2 AND n <= "
                         "(SELECT n FROM conflicts WHERE type = $1 AND id = $2 "
                         "ORDER BY n DESC LIMIT 1 OFFSET $3)",
    [ST_PULL_ALL] = "SELECT seq, state FROM records WHERE seq > $1 ORDER BY seq LIMIT $2",
    [ST_PULL_OFFICE] = "SELECT seq, state FROM records WHERE seq > $1 "
                       "AND (type = ANY($5::text[]) OR office = $3) "
                       "AND ($4::text IS NULL OR origin IS DISTINCT FROM $4) "
                       "ORDER BY seq LIMIT $2",
    [ST_MOVED_PULL] = "SELECT type, id FROM moved WHERE office = $1 AND seq > $2 AND seq <= $3 "
                      "ORDER BY seq",
    [ST_MOVED_PUT] = "INSERT INTO moved(office, type, id, seq) VALUES($1,$2,$3,$4) "
                     "ON CONFLICT(office, type, id) DO UPDATE SET seq = EXCLUDED.seq",
    [ST_CLOCK_GET] = "SELECT hlc FROM clock WHERE id = 1",
    [ST_CLOCK_PUT] = "INSERT INTO clock(id, hlc) VALUES(1, $1) "
                     "ON CONFLICT(id) DO UPDATE SET hlc = EXCLUDED.hlc",
    [ST_ROSTER] = "SELECT 1 FROM records WHERE type = 'employee' AND deleted = 0 AND office = $1 "
                  "AND (id = $2 OR (state::jsonb)->'f'->>'supervisor' = $2) LIMIT 1",
    [ST_HISTORY_PUT] = "INSERT INTO history(type, id, device, author, hlc, change, at) "
                       "VALUES($1,$2,$3,$4,$5,$6,$7)",
    [ST_HISTORY_LIST] = "SELECT h.type, h.id, h.device, h.author, h.hlc, h.change, h.at, " ZONE_OF(
        "h") " FROM history h WHERE h.id = $1 ORDER BY h.n",
    [ST_IMPORT_GET] = "SELECT at, file FROM imports WHERE digest = $1",
    [ST_IMPORT_PUT] = "INSERT INTO imports(digest, type, file, rows, at) VALUES($1,$2,$3,$4,$5) "
                      "ON CONFLICT(digest) DO UPDATE SET type = EXCLUDED.type, "
                      "file = EXCLUDED.file, rows = EXCLUDED.rows, at = EXCLUDED.at",
    [ST_APPLIED_HIGH] = "SELECT COALESCE(MAX(seq), 0) FROM applied WHERE device = $1 AND inc = $2",
    [ST_EPOCH_CUR] = "SELECT epoch FROM epochs ORDER BY n DESC LIMIT 1",
    [ST_EPOCH_ADD] = "INSERT INTO epochs(epoch, parent, base, at, how) VALUES($1,$2,$3,$4,$5)",
    [ST_EPOCHS] = "SELECT epoch, COALESCE(parent, ''), base FROM epochs ORDER BY n",
    [ST_EMPLOYEE] = "SELECT office, (state::jsonb)->'f'->>'supervisor' FROM records "
                    "WHERE type = 'employee' AND id = $1 AND deleted = 0",
    [ST_HAS_EMPLOYEES] = "SELECT 1 FROM records WHERE type = 'employee' AND deleted = 0 LIMIT 1",
    [ST_RATING_OTHER] = "SELECT id FROM records WHERE type = 'rating' AND deleted = 0 "
                        "AND (state::jsonb)->'f'->>'ratee' = $3 "
                        "AND (state::jsonb)->'f'->>'period' = $1 "
                        "AND (state::jsonb)->'f'->>'rater' = $2 AND id <> $4 LIMIT 1",
    [ST_OFFICE_ZONE] = "SELECT (state::jsonb)->'f'->>'timezone' FROM records "
                       "WHERE type = 'office' AND id = $1 AND deleted = 0",
    [ST_SERVICES] = "SELECT (state::jsonb)->'f'->>'name' FROM records WHERE office = $1 "
                    "AND type = 'service' AND deleted = 0 ORDER BY seq",
    [ST_SCAN_SEQ] = "SELECT type, id, office, deleted, state, seq, origin FROM records "
                    "WHERE ($1::text IS NULL OR type = $1) AND ($2::text IS NULL OR office = $2) "
                    "AND ($3::int = 0 OR deleted = 0) ORDER BY seq",
    [ST_SCAN_KEY] = "SELECT type, id, office, deleted, state, seq, origin FROM records "
                    "WHERE ($1::text IS NULL OR type = $1) AND ($2::text IS NULL OR office = $2) "
                    "AND ($3::int = 0 OR deleted = 0) ORDER BY type, id",
    [ST_USER_ADD] = "INSERT INTO users(name, role, hash, created) VALUES($1,$2,$3,$4)",
    [ST_USER_LIST] = "SELECT name, role, created, last_login FROM users ORDER BY name",
    [ST_USER_REMOVE] = "DELETE FROM users WHERE name = $1",
    [ST_USER_GET] = "SELECT role, hash FROM users WHERE name = $1",
    [ST_USER_LOGIN] = "UPDATE users SET last_login = $2 WHERE name = $1",
    [ST_REPORT_PUT] = "INSERT INTO device_reports(device, version, pending, rejected, at)"
                      " VALUES($1, $2, $3, $4, $5) ON CONFLICT(device) DO UPDATE SET"
                      " version = excluded.version, pending = excluded.pending,"
                      " rejected = excluded.rejected, at = excluded.at",
    [ST_REPORT_LIST] = "SELECT device, version, pending, rejected, at FROM device_reports",
    [ST_ENROL_ADD] = "INSERT INTO enrol_codes(hash, device, sealed, created, expires) "
                     "VALUES($1,$2,$3,$4,$5)",
    [ST_ENROL_GET] = ENROL_GET_SQL,
    [ST_ENROL_GET_LOCK] = ENROL_GET_SQL " FOR UPDATE OF e",
    [ST_ENROL_SPEND] = "UPDATE enrol_codes SET used = $2, used_by = $3, sealed = NULL "
                       "WHERE hash = $1 AND used IS NULL",
    /* a page of live records for a rebuild of the scores */
    [ST_LIVE_PAGE] = "SELECT seq, id, state FROM records WHERE deleted = 0 AND seq > $1 "
                     "ORDER BY seq LIMIT 500",
};

struct kjs_dbc {
  PGconn *pg;
  unsigned char prepared[ST__COUNT];
  kjs_score_pg score;
  char t_id[128], t_role[16], t_office[64], t_name[256]; /* token_get's strings */
};
typedef struct kjs_dbc conn;

struct kjs_db {
  char *url;
  kjs_pool pool; /* db_pool.h: conn_open, conn_close, conn_alive */
};

/* --- parameters and results ------------------------------------------- */

#define MAXP 12
typedef struct args {
  const char *v[MAXP];
  int len[MAXP], fmt[MAXP];
  int n;
  char num[MAXP][24];
} args;

static void a_text(args *a, const char *v) {
  a->v[a->n] = v;
  a->len[a->n] = 0;
  a->fmt[a->n] = 0;
  a->n++;
}

static void a_i64(args *a, int64_t v) {
  snprintf(a->num[a->n], sizeof a->num[a->n], "%" PRId64, v);
  a_text(a, a->num[a->n]);
}

static void a_bin(args *a, const void *v, size_t len) {
  a->v[a->n] = v;
  a->len[a->n] = (int)len;
  a->fmt[a->n] = 1;
  a->n++;
}

/* The kj_code of a failed result (SQLSTATE): unique violation KJ_EEXIST,
 * serialization / deadlock / lock timeout KJ_EBUSY, disk full KJ_EFULL,
 * out of memory KJ_ENOMEM, else KJ_EDB. */
static kj_code pg_code(const PGresult *r) {
  const char *s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  if (!s)
    return KJ_EDB;
  if (!strcmp(s, "23505"))
    return KJ_EEXIST;
  if (!strcmp(s, "40001") || !strcmp(s, "40P01") || !strcmp(s, "55P03"))
    return KJ_EBUSY;
  if (!strcmp(s, "53100"))
    return KJ_EFULL;
  if (!strcmp(s, "53200"))
    return KJ_ENOMEM;
  return KJ_EDB;
}

static kj_code pg_fail(conn *c, PGresult *r, kj_err *err, const char *what) {
  kj_code code = pg_code(r);
  const char *msg = r ? PQresultErrorMessage(r) : NULL;
  if (!msg || !*msg)
    msg = c && c->pg ? PQerrorMessage(c->pg) : "no connection";
  char m[KJ_ERR_MSG_MAX];
  snprintf(m, sizeof m, "%s", msg);
  m[strcspn(m, "\n")] = 0;
  return kj_fail(err, code, "%s: %s", what, m);
}

/* Run statement which with a on c: *out the result (caller PQclears) when
 * it succeeded. */
static kj_code q(conn *c, int which, const args *a, PGresult **out, const char *what, kj_err *err) {
  *out = NULL;
  if (!c->prepared[which]) {
    char name[16];
    snprintf(name, sizeof name, "kjsd_%d", which);
    PGresult *p = PQprepare(c->pg, name, stmt_sql[which], 0, NULL);
    if (PQresultStatus(p) != PGRES_COMMAND_OK) {
      kj_code rc = pg_fail(c, p, err, what);
      PQclear(p);
      return rc;
    }
    PQclear(p);
    c->prepared[which] = 1;
  }
  char name[16];
  snprintf(name, sizeof name, "kjsd_%d", which);
  PGresult *r = PQexecPrepared(c->pg, name, a ? a->n : 0, a ? a->v : NULL, a ? a->len : NULL,
                               a ? a->fmt : NULL, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    kj_code rc = pg_fail(c, r, err, what);
    PQclear(r);
    return rc;
  }
  *out = r;
  return KJ_OK;
}

/* The same for a statement that returns nothing of interest: *changed (may
 * be NULL) the rows it changed. */
static kj_code q_run(conn *c, int which, const args *a, int *changed, const char *what,
                     kj_err *err) {
  PGresult *r;
  kj_code rc = q(c, which, a, &r, what, err);
  if (!rc && changed)
    *changed = atoi(PQcmdTuples(r));
  PQclear(r);
  return rc;
}

static kj_code exec(conn *c, const char *sql, kj_err *err) {
  PGresult *r = PQexec(c->pg, sql);
  ExecStatusType st = PQresultStatus(r);
  kj_code rc = KJ_OK;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    rc = pg_fail(c, r, err, "database");
  PQclear(r);
  return rc;
}

static const char *col(PGresult *r, int row, int i) {
  return PQgetisnull(r, row, i) ? NULL : PQgetvalue(r, row, i);
}

static int64_t col_i64(PGresult *r, int row, int i) {
  return PQgetisnull(r, row, i) ? 0 : strtoll(PQgetvalue(r, row, i), NULL, 10);
}

/* A bytea column (text format "\x...") into out (at most size bytes);
 * returns its length, 0 when NULL, (size_t)-1 when longer than size. */
static size_t col_bytes(PGresult *r, int row, int i, unsigned char *out, size_t size) {
  if (PQgetisnull(r, row, i))
    return 0;
  const char *v = PQgetvalue(r, row, i);
  if (v[0] != '\\' || v[1] != 'x')
    return (size_t)-1;
  size_t n = strlen(v + 2) / 2;
  if (n > size)
    return (size_t)-1;
  for (size_t k = 0; k < n; k++) {
    unsigned x;
    if (sscanf(v + 2 + 2 * k, "%2x", &x) != 1)
      return (size_t)-1;
    out[k] = (unsigned char)x;
  }
  return n;
}

/* --- connections ------------------------------------------------------ */

static void conn_close(conn *c) {
  if (!c)
    return;
  kjs_score_pg_release(&c->score);
  PQfinish(c->pg);
  free(c);
}

static kj_code conn_open(const char *url, conn **out, kj_err *err) {
  conn *c = calloc(1, sizeof *c);
  if (!c) {
    kj_fail(err, KJ_ENOMEM, "out of memory");
    return KJ_ENOMEM;
  }
  c->pg = PQconnectdb(url);
  if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
    char m[KJ_ERR_MSG_MAX];
    snprintf(m, sizeof m, "%s", c->pg ? PQerrorMessage(c->pg) : "out of memory");
    m[strcspn(m, "\n")] = 0;
    conn_close(c);
    /* libpq's words for a missing or wrong password say nothing of where
     * kinerjad looks for it */
    kj_fail(err, KJ_EDB, "cannot connect to the PostgreSQL store: %s%s", m,
            strstr(m, "password") ? " (kinerjad reads the password from the ~/.pgpass file of the "
                                    "user it runs as, or the file PGPASSFILE names: "
                                    "docs/operations.md \"National scale: PostgreSQL\")"
                                  : "");
    return KJ_EDB;
  }
  kj_code rc = exec(c, "SET client_min_messages = warning", err);
  if (rc) {
    conn_close(c);
    return rc;
  }
  kjs_score_pg_init(&c->score, c->pg);
  *out = c;
  return KJ_OK;
}

static kj_code migrate(conn *c, int create, kj_err *err) {
  kj_code rc = exec(c, "BEGIN", err);
  if (rc)
    return rc;
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(%lld)", (long long)KJS_PG_LOCK_MIGRATE);
  if ((rc = exec(c, sql, err)))
    goto fail;
  PGresult *r = PQexec(c->pg, "SELECT to_regclass('kinerjad_schema') IS NOT NULL");
  int have = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
             !strcmp(PQgetvalue(r, 0, 0), "t");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    rc = pg_fail(c, r, err, "cannot read the schema version");
    PQclear(r);
    goto fail;
  }
  PQclear(r);
  long long ver = 0;
  if (!have) {
    PGresult *t = PQexec(c->pg, "SELECT count(*) FROM pg_tables WHERE schemaname = "
                                "current_schema() AND tablename IN ('records', 'tokens')");
    int other = PQresultStatus(t) == PGRES_TUPLES_OK && atoi(PQgetvalue(t, 0, 0)) > 0;
    PQclear(t);
    if (other) {
      rc = kj_fail(err, KJ_EDB, "not a kinerjad database (tables without kinerjad_schema)");
      goto fail;
    }
    if (!create) {
      rc = kj_fail(err, KJ_ENOENT, "no kinerjad store in this database: run 'kinerjad init' first");
      goto fail;
    }
    if ((rc = exec(c,
                   "CREATE TABLE kinerjad_schema(version INTEGER NOT NULL);"
                   "INSERT INTO kinerjad_schema VALUES(0)",
                   err)))
      goto fail;
  } else {
    r = PQexec(c->pg, "SELECT version FROM kinerjad_schema");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
      rc = pg_fail(c, r, err, "cannot read the schema version");
      PQclear(r);
      goto fail;
    }
    ver = atoll(PQgetvalue(r, 0, 0));
    PQclear(r);
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
    if (v == MIGRATION_AGGREGATES && (rc = kjs_score_pg_aggregates(c->pg, err)))
      goto fail;
    snprintf(sql, sizeof sql, "UPDATE kinerjad_schema SET version = %d", v + 1);
    if ((rc = exec(c, sql, err)))
      goto fail;
  }
  if (kjs_score_pg_schema(c->pg, err) != KJ_OK) {
    rc = err && err->code ? err->code : KJ_EDB;
    goto fail;
  }
  /* the identity the restore check compares (p_lineage); outside the
   * numbered migrations: SQLite has no counterpart (its mark file) */
  if ((rc =
           exec(c,
                "CREATE TABLE IF NOT EXISTS kinerjad_lineage(id INTEGER PRIMARY KEY CHECK (id = 1),"
                " ident TEXT NOT NULL, at BIGINT NOT NULL)",
                err)))
    goto fail;
  rc = exec(c, "COMMIT", err);
  if (!rc && ver < known && ver > 0)
    KJ_INFO("database upgraded from schema %lld to %d", ver, known);
  return rc;
fail:
  exec(c, "ROLLBACK", NULL);
  return rc;
}

static void p_close(kjs_db *d);

/* db_pool.h's callbacks: the connections after the first, which migrated
 * the schema; an idle one the server closed (restarted, idle timeout) is
 * replaced by a new one */
static kj_code pool_open(void *ctx, conn **out, kj_err *err) {
  return conn_open(((kjs_db *)ctx)->url, out, err);
}

static int conn_alive(conn *c) {
  return PQstatus(c->pg) == CONNECTION_OK;
}

static const kjs_pool_ops pool_ops = {pool_open, conn_close, conn_alive};

static kj_code p_open(const char *where, int create, kjs_db **out, kj_err *err) {
  *out = NULL;
  kjs_db *d = calloc(1, sizeof *d);
  if (!d || !(d->url = strdup(where))) {
    free(d);
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  if (kjs_pool_init(&d->pool, KJS_PG_POOL_MAX, &pool_ops, d, err)) {
    free(d->url);
    free(d);
    return KJ_ENOMEM;
  }
  conn *c = NULL;
  kj_code rc = conn_open(where, &c, err);
  if (!rc && (rc = migrate(c, create, err))) {
    conn_close(c);
    c = NULL;
  }
  if (rc) {
    p_close(d);
    return rc;
  }
  kjs_pool_add(&d->pool, c);
  *out = d;
  return KJ_OK;
}

static void p_close(kjs_db *d) {
  if (!d)
    return;
  kjs_pool_release(&d->pool);
  free(d->url);
  free(d);
}

static conn *p_acquire(kjs_db *d, kj_err *err) {
  return kjs_pool_get(&d->pool, err);
}

static void p_release(kjs_db *d, conn *c) {
  if (!c)
    return;
  PGTransactionStatusType ts = PQtransactionStatus(c->pg);
  if (ts != PQTRANS_IDLE && ts != PQTRANS_UNKNOWN)
    exec(c, "ROLLBACK", NULL);
  if (PQstatus(c->pg) != CONNECTION_OK || PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
    kjs_pool_drop(&d->pool, c);
    return;
  }
  kjs_pool_put(&d->pool, c);
}

/* --- transactions ------------------------------------------------------ */

static kj_code p_begin(conn *c, int write, kj_err *err) {
  kjs_score_pg_forget(&c->score); /* its batch reads were of another snapshot */
  if (!write)
    return exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ", err);
  char sql[96];
  snprintf(sql, sizeof sql, "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
           (long long)KJS_PG_LOCK_WRITE);
  kj_code rc = exec(c, sql, err);
  if (rc)
    exec(c, "ROLLBACK", NULL);
  return rc;
}

static kj_code p_commit(conn *c, kj_err *err) {
  kjs_score_pg_forget(&c->score);
  return exec(c, "COMMIT", err);
}

static void p_rollback(conn *c) {
  if (c)
    kjs_score_pg_forget(&c->score);
  if (c && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
    exec(c, "ROLLBACK", NULL);
}

static kj_code p_savepoint(conn *c, kjs_db_sp op, kj_err *err) {
  if (op == KJS_SP_ROLLBACK) /* its change counters' raises are undone too */
    kjs_score_pg_forget(&c->score);
  return exec(c,
              op == KJS_SP_BEGIN     ? "SAVEPOINT item"
              : op == KJS_SP_RELEASE ? "RELEASE SAVEPOINT item"
                                     : "ROLLBACK TO SAVEPOINT item",
              err);
}

/* --- records ----------------------------------------------------------- */

static kj_code one_i64(conn *c, int which, const args *a, int64_t *out, const char *what,
                       kj_err *err) {
  PGresult *r;
  kj_code rc = q(c, which, a, &r, what, err);
  if (!rc)
    *out = PQntuples(r) ? col_i64(r, 0, 0) : 0;
  PQclear(r);
  return rc;
}

static kj_code p_position_max(conn *c, int64_t *out, kj_err *err) {
  return one_i64(c, ST_MAXSEQ, NULL, out, "cannot read the change sequence", err);
}

static kj_code p_records_count(conn *c, long long *out, kj_err *err) {
  int64_t n = 0;
  kj_code rc = one_i64(c, ST_COUNT, NULL, &n, "cannot count the records", err);
  *out = n;
  return rc;
}

static kj_code p_rec_get(conn *c, const char *type, const char *id, int lock, char **state,
                         kj_err *err) {
  *state = NULL;
  args a = {0};
  a_text(&a, type);
  a_text(&a, id);
  PGresult *r;
  kj_code rc = q(c, lock ? ST_REC_GET_LOCK : ST_REC_GET, &a, &r, "cannot read record", err);
  if (!rc && PQntuples(r) && !(*state = strdup(PQgetvalue(r, 0, 0))))
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
  PQclear(r);
  return rc;
}

/* The parameters of ST_REC_PUT and ST_REC_ADD into a. */
static void rec_args(args *a, const kjs_db_rec *rec) {
  a_text(a, rec->type);
  a_text(a, rec->id);
  a_text(a, rec->office && *rec->office ? rec->office : NULL);
  a_i64(a, rec->deleted ? 1 : 0);
  a_text(a, rec->state); /* NUL-terminated: kj_buf */
  a_i64(a, rec->seq);
  a_text(a, rec->origin);
}

static kj_code p_rec_put(conn *c, const kjs_db_rec *rec, kj_err *err) {
  args a = {0};
  rec_args(&a, rec);
  return q_run(c, ST_REC_PUT, &a, NULL, "cannot store record", err);
}

/* rec_add: one statement; the count of rows it inserted says which. */
static kj_code p_rec_add(conn *c, const kjs_db_rec *rec, int *added, kj_err *err) {
  args a = {0};
  rec_args(&a, rec);
  int n = 0;
  kj_code rc = q_run(c, ST_REC_ADD, &a, &n, "cannot store record", err);
  *added = !rc && n > 0;
  return rc;
}

static kj_code p_records_scan(conn *c, const char *type, const char *office, int live_only,
                              int by_seq, kj_code (*each)(void *, const kjs_db_rec *), void *ctx,
                              kj_err *err) {
  args a = {0};
  a_text(&a, type);
  a_text(&a, office);
  a_i64(&a, live_only ? 1 : 0);
  PGresult *r;
  kj_code rc = q(c, by_seq ? ST_SCAN_SEQ : ST_SCAN_KEY, &a, &r, "cannot read the records", err);
  for (int i = 0; !rc && i < PQntuples(r); i++) {
    kjs_db_rec row = {col(r, i, 0),          col(r, i, 1), col(r, i, 2),
                      (int)col_i64(r, i, 3), col(r, i, 4), (size_t)PQgetlength(r, i, 4),
                      col_i64(r, i, 5),      col(r, i, 6)};
    rc = each(ctx, &row);
  }
  PQclear(r);
  return rc;
}

static kj_code p_pull(conn *c, int64_t since, int limit, const char *office,
                      const char *const *broadcast, int ntypes, const char *skip_origin,
                      kj_code (*each)(void *, int64_t, const char *), void *ctx, kj_err *err) {
  args a = {0};
  a_i64(&a, since);
  a_i64(&a, limit);
  char types[512];
  if (office) {
    size_t n = 0;
    types[n++] = '{';
    for (int i = 0; i < ntypes && n < sizeof types - 64; i++)
      n += (size_t)snprintf(types + n, sizeof types - n, "%s\"%s\"", i ? "," : "", broadcast[i]);
    snprintf(types + n, sizeof types - n, "}");
    a_text(&a, office);
    a_text(&a, skip_origin);
    a_text(&a, types);
  }
  PGresult *r;
  kj_code rc = q(c, office ? ST_PULL_OFFICE : ST_PULL_ALL, &a, &r, "cannot read changes", err);
  for (int i = 0; !rc && i < PQntuples(r); i++)
    rc = each(ctx, col_i64(r, i, 0), col(r, i, 1));
  PQclear(r);
  return rc;
}

static kj_code p_moved_put(conn *c, const char *office, const char *type, const char *id,
                           int64_t seq, kj_err *err) {
  args a = {0};
  a_text(&a, office);
  a_text(&a, type);
  a_text(&a, id);
  a_i64(&a, seq);
  return q_run(c, ST_MOVED_PUT, &a, NULL, "cannot record a move", err);
}

static kj_code p_moved_pull(conn *c, const char *office, int64_t since, int64_t upto,
                            kj_code (*each)(void *, const char *, const char *), void *ctx,
                            kj_err *err) {
  args a = {0};
  a_text(&a, office);
  a_i64(&a, since);
  a_i64(&a, upto);
  PGresult *r;
  kj_code rc = q(c, ST_MOVED_PULL, &a, &r, "cannot read the moved notices", err);
  for (int i = 0; !rc && i < PQntuples(r); i++)
    rc = each(ctx, col(r, i, 0), col(r, i, 1));
  PQclear(r);
  return rc;
}

/* --- the roster -------------------------------------------------------- */

static kj_code p_roster_has(conn *c, const char *office, const char *nip, int *found, kj_err *err) {
  args a = {0};
  a_text(&a, office);
  a_text(&a, nip);
  PGresult *r;
  kj_code rc = q(c, ST_ROSTER, &a, &r, "cannot read the roster", err);
  *found = !rc && PQntuples(r) > 0;
  PQclear(r);
  return rc;
}

static kj_code p_employee(conn *c, const char *nip, char office[64], char supervisor[64],
                          int *found, kj_err *err) {
  *found = 0;
  args a = {0};
  a_text(&a, nip);
  PGresult *r;
  kj_code rc = q(c, ST_EMPLOYEE, &a, &r, "cannot read the roster", err);
  if (!rc && PQntuples(r)) {
    snprintf(office, 64, "%s", col(r, 0, 0) ? col(r, 0, 0) : "");
    snprintf(supervisor, 64, "%s", col(r, 0, 1) ? col(r, 0, 1) : "");
    *found = 1;
  }
  PQclear(r);
  return rc;
}

static kj_code p_employees_any(conn *c, int *any, kj_err *err) {
  PGresult *r;
  kj_code rc = q(c, ST_HAS_EMPLOYEES, NULL, &r, "cannot read the roster", err);
  *any = !rc && PQntuples(r) > 0;
  PQclear(r);
  return rc;
}

static kj_code p_rating_other(conn *c, const char *period, const char *rater, const char *ratee,
                              const char *id, char *out, size_t size, kj_err *err) {
  out[0] = 0;
  args a = {0};
  a_text(&a, period);
  a_text(&a, rater);
  a_text(&a, ratee);
  a_text(&a, id);
  PGresult *r;
  kj_code rc = q(c, ST_RATING_OTHER, &a, &r, "cannot read the ratings", err);
  if (!rc && PQntuples(r))
    snprintf(out, size, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return rc;
}

static kj_code p_office_zone(conn *c, const char *office, char *out, size_t size, kj_err *err) {
  out[0] = 0;
  args a = {0};
  a_text(&a, office);
  PGresult *r;
  kj_code rc = q(c, ST_OFFICE_ZONE, &a, &r, "cannot read the office", err);
  if (!rc && PQntuples(r) && col(r, 0, 0))
    snprintf(out, size, "%s", col(r, 0, 0));
  PQclear(r);
  return rc;
}

static kj_code p_services(conn *c, const char *office, kj_code (*each)(void *, const char *),
                          void *ctx, kj_err *err) {
  args a = {0};
  a_text(&a, office);
  PGresult *r;
  kj_code rc = q(c, ST_SERVICES, &a, &r, "cannot read the services", err);
  for (int i = 0; !rc && i < PQntuples(r); i++)
    if (col(r, i, 0))
      rc = each(ctx, col(r, i, 0));
  PQclear(r);
  return rc;
}

/* --- exactly once, conflicts, history, clock, imports ------------------ */

static kj_code p_applied_get(conn *c, const char *device, const char *inc, int64_t seq, int lock,
                             int *found, kjs_db_applied *out, kj_err *err) {
  *found = 0;
  args a = {0};
  a_text(&a, device);
  a_text(&a, inc);
  a_i64(&a, seq);
  PGresult *r;
  kj_code rc = q(c, lock ? ST_APPLIED_GET_LOCK : ST_APPLIED_GET, &a, &r,
                 "cannot read the applied changes", err);
  if (!rc && PQntuples(r)) {
    *found = 1;
    snprintf(out->status, sizeof out->status, "%s", col(r, 0, 0) ? col(r, 0, 0) : "");
    snprintf(out->error, sizeof out->error, "%s", col(r, 0, 1) ? col(r, 0, 1) : "");
    size_t n = col_bytes(r, 0, 2, out->digest, sizeof out->digest);
    out->digest_len = n == (size_t)-1 ? sizeof out->digest + 1 : n; /* too long: differs */
    const char *code = col(r, 0, 3), *field = col(r, 0, 4), *list = col(r, 0, 5);
    out->code[0] = out->field[0] = out->args[0] = 0;
    if (code && strlen(code) < sizeof out->code && (!field || strlen(field) < sizeof out->field) &&
        (!list || strlen(list) < sizeof out->args)) {
      snprintf(out->code, sizeof out->code, "%s", code);
      snprintf(out->field, sizeof out->field, "%s", field ? field : "");
      snprintf(out->args, sizeof out->args, "%s", list ? list : "[]");
    }
  }
  PQclear(r);
  return rc;
}

/* The row a: with its refusal (code, field, args) when a->code is set. */
static kj_code put_applied_row(conn *c, const kjs_db_applied_row *a, kj_err *err) {
  args q = {0};
  a_text(&q, a->device);
  a_text(&q, a->inc);
  a_i64(&q, a->seq);
  a_text(&q, a->status);
  a_text(&q, a->error);
  if (a->digest_len)
    a_bin(&q, a->digest, a->digest_len);
  else
    a_text(&q, NULL);
  if (a->code) {
    a_text(&q, a->code);
    a_text(&q, a->field);
    a_text(&q, a->args);
  }
  return q_run(c, a->code ? ST_APPLIED_PUT_WHY : ST_APPLIED_PUT, &q, NULL,
               "cannot record the result", err);
}

static kj_code p_applied_put(conn *c, const char *device, const char *inc, int64_t seq,
                             const char *status, const char *error, const unsigned char *digest,
                             size_t digest_len, kj_err *err) {
  kjs_db_applied_row a = {device, inc, seq, status, error, digest, digest_len, NULL, NULL, NULL};
  return put_applied_row(c, &a, err);
}

/* applied_put_many: one statement per row (PostgreSQL's round trip is per
 * statement too; the push's cost per row there is another matter). */
static kj_code p_applied_put_many(conn *c, const kjs_db_applied_row *rows, int n, kj_err *err) {
  for (int i = 0; i < n; i++) {
    kj_code rc = put_applied_row(c, &rows[i], err);
    if (rc)
      return rc;
  }
  return KJ_OK;
}

static kj_code p_applied_high(conn *c, const char *device, const char *inc, int64_t *high,
                              kj_err *err) {
  args a = {0};
  a_text(&a, device);
  a_text(&a, inc);
  return one_i64(c, ST_APPLIED_HIGH, &a, high, "cannot read the applied changes", err);
}

static kj_code p_conflict_put(conn *c, const kjs_db_conflict *k, kj_err *err) {
  args a = {0};
  a_text(&a, k->type);
  a_text(&a, k->id);
  a_text(&a, k->field);
  a_text(&a, k->loser);
  a_text(&a, k->loser_stamp);
  a_text(&a, k->winner);
  a_text(&a, k->winner_stamp);
  a_i64(&a, k->at);
  a_text(&a, k->loser_note);
  a_text(&a, k->winner_note);
  return q_run(c, ST_CONFLICT_PUT, &a, NULL, "cannot log conflict", err);
}

static kj_code p_conflict_trim(conn *c, const char *type, const char *id, int keep, int *dropped,
                               kj_err *err) {
  args a = {0};
  a_text(&a, type);
  a_text(&a, id);
  a_i64(&a, keep);
  return q_run(c, ST_CONFLICT_TRIM, &a, dropped, "cannot trim the conflict log", err);
}

static kj_code p_conflict_list(conn *c, kj_code (*each)(void *, const kjs_db_conflict *), void *ctx,
                               kj_err *err) {
  PGresult *r;
  kj_code rc = q(c, ST_CONFLICT_LIST, NULL, &r, "cannot list conflicts", err);
  for (int i = 0; !rc && i < PQntuples(r); i++) {
    kjs_db_conflict k = {.n = col_i64(r, i, 0),
                         .type = col(r, i, 1),
                         .id = col(r, i, 2),
                         .field = col(r, i, 3),
                         .loser = col(r, i, 4),
                         .loser_stamp = col(r, i, 5),
                         .winner = col(r, i, 6),
                         .winner_stamp = col(r, i, 7),
                         .at = col_i64(r, i, 8),
                         .loser_note = col(r, i, 9),
                         .winner_note = col(r, i, 10),
                         .loser_author = col(r, i, 11),
                         .winner_author = col(r, i, 12),
                         .zone = col(r, i, 13)};
    rc = each(ctx, &k);
  }
  PQclear(r);
  return rc;
}

static kj_code p_history_put(conn *c, const kjs_db_history *h, kj_err *err) {
  args a = {0};
  a_text(&a, h->type);
  a_text(&a, h->id);
  a_text(&a, h->device);
  a_text(&a, h->author);
  a_i64(&a, h->hlc);
  a_text(&a, h->change);
  a_i64(&a, h->at);
  return q_run(c, ST_HISTORY_PUT, &a, NULL, "cannot keep the history", err);
}

static kj_code p_history_put_many(conn *c, const kjs_db_history *h, int n, kj_err *err) {
  for (int i = 0; i < n; i++) {
    kj_code rc = p_history_put(c, &h[i], err);
    if (rc)
      return rc;
  }
  return KJ_OK;
}

static kj_code p_history_list(conn *c, const char *id,
                              kj_code (*each)(void *, const kjs_db_history *), void *ctx,
                              kj_err *err) {
  args a = {0};
  a_text(&a, id);
  PGresult *r;
  kj_code rc = q(c, ST_HISTORY_LIST, &a, &r, "cannot read the history", err);
  for (int i = 0; !rc && i < PQntuples(r); i++) {
    kjs_db_history h = {col(r, i, 0),     col(r, i, 1), col(r, i, 2),     col(r, i, 3),
                        col_i64(r, i, 4), col(r, i, 5), col_i64(r, i, 6), col(r, i, 7)};
    rc = each(ctx, &h);
  }
  PQclear(r);
  return rc;
}

static kj_code p_clock_get(conn *c, int *found, int64_t *hlc, kj_err *err) {
  PGresult *r;
  kj_code rc = q(c, ST_CLOCK_GET, NULL, &r, "cannot read the server's clock", err);
  *found = !rc && PQntuples(r) > 0;
  if (*found)
    *hlc = col_i64(r, 0, 0);
  PQclear(r);
  return rc;
}

static kj_code p_clock_put(conn *c, int64_t hlc, kj_err *err) {
  args a = {0};
  a_i64(&a, hlc);
  return q_run(c, ST_CLOCK_PUT, &a, NULL, "cannot store the server's clock", err);
}

static kj_code p_import_get(conn *c, const char *digest, int *found, int64_t *at, char **file,
                            kj_err *err) {
  *found = 0;
  *file = NULL;
  args a = {0};
  a_text(&a, digest);
  PGresult *r;
  kj_code rc = q(c, ST_IMPORT_GET, &a, &r, "cannot read the imports", err);
  if (!rc && PQntuples(r)) {
    *found = 1;
    *at = col_i64(r, 0, 0);
    if (col(r, 0, 1) && !(*file = strdup(col(r, 0, 1))))
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  PQclear(r);
  return rc;
}

static kj_code p_import_put(conn *c, const char *digest, const char *type, const char *file,
                            long rows, int64_t at, kj_err *err) {
  args a = {0};
  a_text(&a, digest);
  a_text(&a, type);
  a_text(&a, file);
  a_i64(&a, rows);
  a_i64(&a, at);
  return q_run(c, ST_IMPORT_PUT, &a, NULL, "cannot record the import", err);
}

/* --- epochs ------------------------------------------------------------ */

static kj_code p_epoch_current(conn *c, char *out, size_t size, kj_err *err) {
  out[0] = 0;
  PGresult *r;
  kj_code rc = q(c, ST_EPOCH_CUR, NULL, &r, "cannot read the epoch", err);
  if (!rc && PQntuples(r))
    snprintf(out, size, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return rc;
}

static kj_code p_epoch_add(conn *c, const char *epoch, const char *parent, int64_t base, int64_t at,
                           const char *how, kj_err *err) {
  args a = {0};
  a_text(&a, epoch);
  a_text(&a, parent && *parent ? parent : NULL);
  a_i64(&a, base);
  a_i64(&a, at);
  a_text(&a, how);
  return q_run(c, ST_EPOCH_ADD, &a, NULL, "cannot start a new epoch", err);
}

static kj_code p_epochs(conn *c, kj_code (*each)(void *, const kjs_db_epoch *), void *ctx,
                        kj_err *err) {
  PGresult *r;
  kj_code rc = q(c, ST_EPOCHS, NULL, &r, "cannot read the epochs", err);
  for (int i = 0; !rc && i < PQntuples(r); i++) {
    kjs_db_epoch e = {col(r, i, 0), col(r, i, 1), col_i64(r, i, 2)};
    rc = each(ctx, &e);
  }
  PQclear(r);
  return rc;
}

/* --- restores ----------------------------------------------------------- */

/* The database's identity "OID/SYSTEM/TIMELINE": the database's OID (a new
 * one for a database pg_restore filled), the cluster's system identifier
 * (another cluster's) and the timeline of the WAL being written (a
 * point-in-time recovery and a promoted standby start a new one). */
#define LINEAGE_SQL                                                                                \
  "SELECT d.oid::text || '/' || s.system_identifier::text || '/' || ('x' || "                      \
  "substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int::text "                      \
  "FROM pg_database d, pg_control_system() s WHERE d.datname = current_database()"

static kj_code p_lineage(conn *c, char *why, size_t size, kj_err *err) {
  why[0] = 0;
  PGresult *r = PQexec(c->pg, LINEAGE_SQL);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    kj_code rc = pg_fail(c, r, err, "cannot read the database's identity");
    PQclear(r);
    return rc;
  }
  char now[128];
  snprintf(now, sizeof now, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  r = PQexec(c->pg, "SELECT ident FROM kinerjad_lineage WHERE id = 1");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    kj_code rc = pg_fail(c, r, err, "cannot read the recorded identity");
    PQclear(r);
    return rc;
  }
  int same = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), now);
  if (PQntuples(r) == 1 && !same)
    snprintf(why, size,
             "its identity (oid/system/timeline) %s is not the %s the last start saw (restored or "
             "promoted?)",
             now, PQgetvalue(r, 0, 0));
  int have = PQntuples(r) == 1;
  PQclear(r);
  if (have && same)
    return KJ_OK;
  const char *vals[1] = {now};
  r = PQexecParams(c->pg,
                   "INSERT INTO kinerjad_lineage(id, ident, at) VALUES(1, $1, "
                   "(extract(epoch from clock_timestamp()) * 1000)::bigint) "
                   "ON CONFLICT (id) DO UPDATE SET ident = EXCLUDED.ident, at = EXCLUDED.at",
                   1, NULL, vals, NULL, NULL, 0);
  kj_code rc = PQresultStatus(r) == PGRES_COMMAND_OK
                   ? KJ_OK
                   : pg_fail(c, r, err, "cannot record the database's identity");
  PQclear(r);
  return rc;
}

/* --- tokens, users, enrolment codes ------------------------------------ */

static kj_code p_token_add(conn *c, const kjs_db_token *t, int ignore, int *added, kj_err *err) {
  if (added)
    *added = 0;
  args a = {0};
  a_bin(&a, t->hash, 32);
  a_text(&a, t->id);
  a_text(&a, t->role);
  a_text(&a, t->office && *t->office ? t->office : NULL);
  a_text(&a, t->name && *t->name ? t->name : NULL);
  a_i64(&a, t->created);
  int n = 0;
  kj_err e;
  kj_err_clear(&e);
  kj_code rc =
      q_run(c, ignore ? ST_TOKEN_ADD_IGNORE : ST_TOKEN_ADD, &a, &n, "cannot add token", &e);
  if (rc == KJ_EEXIST)
    return KJ_EEXIST;
  if (rc)
    return kj_fail(err, rc, "%s", e.msg);
  if (added)
    *added = n > 0;
  return KJ_OK;
}

static kj_code p_token_get(conn *c, const unsigned char hash[32], int *found, kjs_db_token *out,
                           kj_err *err) {
  *found = 0;
  memset(out, 0, sizeof *out);
  args a = {0};
  a_bin(&a, hash, 32);
  PGresult *r;
  kj_code rc = q(c, ST_TOKEN_LOOKUP, &a, &r, "cannot look up token", err);
  if (!rc && PQntuples(r)) {
    *found = 1;
    size_t hl = col_bytes(r, 0, 0, out->hash, sizeof out->hash);
    out->hash_len = hl == (size_t)-1 ? 0 : hl;
    snprintf(c->t_id, sizeof c->t_id, "%s", PQgetvalue(r, 0, 1));
    snprintf(c->t_role, sizeof c->t_role, "%s", PQgetvalue(r, 0, 2));
    snprintf(c->t_office, sizeof c->t_office, "%s", PQgetvalue(r, 0, 3));
    snprintf(c->t_name, sizeof c->t_name, "%s", PQgetvalue(r, 0, 6));
    out->id = c->t_id;
    out->role = c->t_role;
    out->office = col(r, 0, 3) ? c->t_office : NULL;
    out->name = col(r, 0, 6) ? c->t_name : NULL;
    out->has_revoked = !PQgetisnull(r, 0, 4);
    out->revoked = col_i64(r, 0, 4);
    out->has_last_seen = !PQgetisnull(r, 0, 5);
    out->last_seen = col_i64(r, 0, 5);
    out->created = col_i64(r, 0, 7);
  }
  PQclear(r);
  return rc;
}

static kj_code p_token_seen(conn *c, const unsigned char hash[32], int64_t at, kj_err *err) {
  args a = {0};
  a_bin(&a, hash, 32);
  a_i64(&a, at);
  return q_run(c, ST_TOKEN_SEEN, &a, NULL, "cannot note a token's last use", err);
}

static kj_code p_token_exists(conn *c, const char *id, int *found, kj_err *err) {
  args a = {0};
  a_text(&a, id);
  PGresult *r;
  kj_code rc = q(c, ST_TOKEN_EXISTS, &a, &r, "cannot read tokens", err);
  *found = !rc && PQntuples(r) > 0;
  PQclear(r);
  return rc;
}

static kj_code p_token_revoke(conn *c, const char *id, int64_t at, int *changed, kj_err *err) {
  args a = {0};
  a_text(&a, id);
  a_i64(&a, at);
  return q_run(c, ST_TOKEN_REVOKE, &a, changed, "cannot revoke", err);
}

static kj_code p_token_list(conn *c, int devices_only, int64_t now,
                            kj_code (*each)(void *, const kjs_db_token *), void *ctx, kj_err *err) {
  args a = {0};
  a_i64(&a, devices_only ? 1 : 0);
  a_i64(&a, now);
  PGresult *r;
  kj_code rc = q(c, ST_TOKEN_LIST, &a, &r, "cannot list tokens", err);
  for (int i = 0; !rc && i < PQntuples(r); i++) {
    kjs_db_token t = {.id = col(r, i, 0),
                      .role = col(r, i, 1),
                      .office = col(r, i, 2),
                      .name = col(r, i, 3),
                      .created = col_i64(r, i, 4),
                      .has_revoked = !PQgetisnull(r, i, 5),
                      .revoked = col_i64(r, i, 5),
                      .has_last_seen = !PQgetisnull(r, i, 6),
                      .last_seen = col_i64(r, i, 6),
                      .enrolment = col(r, i, 7)};
    rc = each(ctx, &t);
  }
  PQclear(r);
  return rc;
}

static kj_code p_user_add(conn *c, const kjs_db_user *u, kj_err *err) {
  args a = {0};
  a_text(&a, u->name);
  a_text(&a, u->role);
  a_text(&a, u->hash);
  a_i64(&a, u->created);
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = q_run(c, ST_USER_ADD, &a, NULL, "cannot add user", &e);
  if (rc && rc != KJ_EEXIST)
    kj_fail(err, rc, "%s", e.msg);
  return rc;
}

static kj_code p_user_list(conn *c, kj_code (*each)(void *, const kjs_db_user *), void *ctx,
                           kj_err *err) {
  PGresult *r;
  kj_code rc = q(c, ST_USER_LIST, NULL, &r, "cannot list users", err);
  for (int i = 0; !rc && i < PQntuples(r); i++) {
    kjs_db_user u = {.name = col(r, i, 0),
                     .role = col(r, i, 1),
                     .created = col_i64(r, i, 2),
                     .has_last_login = !PQgetisnull(r, i, 3),
                     .last_login = col_i64(r, i, 3)};
    rc = each(ctx, &u);
  }
  PQclear(r);
  return rc;
}

static kj_code p_user_remove(conn *c, const char *name, int *changed, kj_err *err) {
  args a = {0};
  a_text(&a, name);
  return q_run(c, ST_USER_REMOVE, &a, changed, "cannot remove user", err);
}

static kj_code p_user_get(conn *c, const char *name, int *found, char *role, size_t rsize,
                          char *hash, size_t hsize, kj_err *err) {
  args a = {0};
  a_text(&a, name);
  PGresult *r;
  kj_code rc = q(c, ST_USER_GET, &a, &r, "cannot read user", err);
  *found = !rc && PQntuples(r) > 0;
  if (*found) {
    snprintf(role, rsize, "%s", PQgetvalue(r, 0, 0));
    snprintf(hash, hsize, "%s", PQgetvalue(r, 0, 1));
  }
  PQclear(r);
  return rc;
}

static kj_code p_user_login(conn *c, const char *name, int64_t at, kj_err *err) {
  args a = {0};
  a_text(&a, name);
  a_i64(&a, at);
  return q_run(c, ST_USER_LOGIN, &a, NULL, "cannot note the sign-in", err);
}

static kj_code p_device_report_put(conn *c, const kjs_db_report *rp, kj_err *err) {
  args a = {0};
  a_text(&a, rp->device);
  a_text(&a, rp->version);
  a_i64(&a, rp->pending);
  a_i64(&a, rp->rejected);
  a_i64(&a, rp->at);
  return q_run(c, ST_REPORT_PUT, &a, NULL, "cannot store the device's report", err);
}

static kj_code p_device_reports(conn *c, kj_code (*each)(void *, const kjs_db_report *), void *ctx,
                                kj_err *err) {
  PGresult *r;
  kj_code rc = q(c, ST_REPORT_LIST, NULL, &r, "cannot read the devices' reports", err);
  for (int i = 0; !rc && i < PQntuples(r); i++) {
    kjs_db_report rp = {.device = col(r, i, 0),
                        .version = col(r, i, 1),
                        .pending = col_i64(r, i, 2),
                        .rejected = col_i64(r, i, 3),
                        .at = col_i64(r, i, 4)};
    rc = each(ctx, &rp);
  }
  PQclear(r);
  return rc;
}

static kj_code p_enrol_add(conn *c, const unsigned char hash[32], const char *device,
                           const unsigned char *sealed, size_t sealed_len, int64_t created,
                           int64_t expires, kj_err *err) {
  args a = {0};
  a_bin(&a, hash, 32);
  a_text(&a, device);
  a_bin(&a, sealed, sealed_len);
  a_i64(&a, created);
  a_i64(&a, expires);
  return q_run(c, ST_ENROL_ADD, &a, NULL, "cannot store the enrolment code", err);
}

static kj_code p_enrol_get(conn *c, const unsigned char hash[32], int lock, int *found,
                           kjs_db_enrol *out, kj_err *err) {
  *found = 0;
  memset(out, 0, sizeof *out);
  args a = {0};
  a_bin(&a, hash, 32);
  PGresult *r;
  kj_code rc =
      q(c, lock ? ST_ENROL_GET_LOCK : ST_ENROL_GET, &a, &r, "cannot read enrolment codes", err);
  if (!rc && PQntuples(r)) {
    *found = 1;
    snprintf(out->device, sizeof out->device, "%s", PQgetvalue(r, 0, 0));
    out->has_used = !PQgetisnull(r, 0, 1);
    out->used = col_i64(r, 0, 1);
    out->expires = col_i64(r, 0, 2);
    out->token_state = col_i64(r, 0, 4) ? 2 : col_i64(r, 0, 3) ? 1 : 0;
    size_t sl = col_bytes(r, 0, 5, out->sealed, sizeof out->sealed);
    out->sealed_len = sl == (size_t)-1 ? 0 : sl;
    snprintf(out->office, sizeof out->office, "%s", PQgetvalue(r, 0, 6));
    size_t hl = col_bytes(r, 0, 7, out->token_hash, sizeof out->token_hash);
    out->token_hash_len = hl == (size_t)-1 ? 0 : hl;
  }
  PQclear(r);
  return rc;
}

static kj_code p_enrol_spend(conn *c, const unsigned char hash[32], int64_t at, const char *used_by,
                             int *changed, kj_err *err) {
  args a = {0};
  a_bin(&a, hash, 32);
  a_i64(&a, at);
  a_text(&a, used_by ? used_by : "");
  return q_run(c, ST_ENROL_SPEND, &a, changed, "cannot use the enrolment code", err);
}

/* --- scores ------------------------------------------------------------ */

static kjs_score_store *p_score(conn *c) {
  return &c->score.store;
}

static const char *const k_sc_tables[] = {
    "sc_office",   "sc_emp",    "sc_survey", "sc_cdays",    "sc_real",     "sc_actday",
    "sc_actmonth", "sc_target", "sc_rating", "sc_realyear", "sc_cmpmonth", "sc_surveyyear"};
#define NSC ((int)(sizeof k_sc_tables / sizeof k_sc_tables[0]))

/* Empty the score tables and feed every live record through
 * kjs_score_update, a page at a time. */
static kj_code fill_from_records(conn *c, kj_err *err) {
  kj_code rc = kjs_score_pg_clear(c->pg, err);
  int64_t after = 0;
  for (int more = 1; !rc && more;) {
    args a = {0};
    a_i64(&a, after);
    PGresult *r;
    if ((rc = q(c, ST_LIVE_PAGE, &a, &r, "cannot read records", err)))
      break;
    int n = PQntuples(r);
    more = n > 0;
    /* the page's rows first: kjs_score_update runs statements on c */
    for (int i = 0; !rc && i < n; i++) {
      after = col_i64(r, i, 0);
      cJSON *j = cJSON_Parse(PQgetvalue(r, i, 2));
      kj_rstate st;
      kj_err e;
      kj_err_clear(&e);
      if (!j || kj_rstate_from_json(j, &st, &e) != KJ_OK) {
        cJSON_Delete(j);
        rc = kj_fail(err, KJ_EDB, "record '%s' has an unreadable state", PQgetvalue(r, i, 1));
        break;
      }
      cJSON_Delete(j);
      rc = kjs_score_update(&c->score.store, NULL, &st.rec, err);
      kj_rstate_release(&st);
    }
    PQclear(r);
  }
  return rc;
}

/* Rows of table A that table B lacks, counted in *ndiff and listed in
 * diffs as "TABLE: LABEL only: (ROW)". */
static kj_code list_only(conn *c, const char *table, const char *a, const char *b,
                         const char *label, kj_buf *diffs, int *ndiff, kj_err *err) {
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT x::text FROM (SELECT * FROM %s EXCEPT SELECT * FROM %s) x", a,
           b);
  PGresult *r = PQexec(c->pg, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    kj_code rc = pg_fail(c, r, err, "cannot compare");
    PQclear(r);
    return rc;
  }
  for (int i = 0; i < PQntuples(r); i++) {
    (*ndiff)++;
    if (diffs)
      kj_buf_addf(diffs, "%s: %s only: %s\n", table, label, PQgetvalue(r, i, 0));
  }
  PQclear(r);
  return KJ_OK;
}

static kj_code p_score_rebuild(conn *c, int verify, kj_buf *diffs, int *ndiff, kj_err *err) {
  if (ndiff)
    *ndiff = 0;
  if (!verify)
    return fill_from_records(c, err);
  /* keep what is maintained, rebuild inside a savepoint, compare, undo */
  char sql[256];
  kj_code rc = KJ_OK;
  for (int i = 0; !rc && i < NSC; i++) {
    snprintf(sql, sizeof sql,
             "DROP TABLE IF EXISTS kjs_keep_%s; CREATE TEMP TABLE kjs_keep_%s ON COMMIT DROP AS "
             "SELECT * FROM %s",
             k_sc_tables[i], k_sc_tables[i], k_sc_tables[i]);
    rc = exec(c, sql, err);
  }
  if (rc || (rc = exec(c, "SAVEPOINT verify", err)))
    return rc;
  rc = fill_from_records(c, err);
  int n = 0;
  for (int i = 0; !rc && i < NSC; i++) {
    char keep[64];
    snprintf(keep, sizeof keep, "kjs_keep_%s", k_sc_tables[i]);
    rc = list_only(c, k_sc_tables[i], keep, k_sc_tables[i], "maintained", diffs, &n, err);
    if (!rc)
      rc = list_only(c, k_sc_tables[i], k_sc_tables[i], keep, "recomputed", diffs, &n, err);
  }
  kj_code r2 = exec(c, "ROLLBACK TO SAVEPOINT verify; RELEASE SAVEPOINT verify", rc ? NULL : err);
  if (!rc)
    rc = r2;
  if (!rc && ndiff)
    *ndiff = n;
  return rc;
}

static kj_code p_survey_comments(conn *c, const char *office, const char *from, const char *to,
                                 int max,
                                 kj_code (*each)(void *, const char *, const char *, const char *),
                                 void *ctx, kj_err *err);

const kjs_db_ops kjs_db_pg_ops = {
    .name = "postgresql",
    .local_file = 0,
    .open = p_open,
    .close = p_close,
    .acquire = p_acquire,
    .acquire_writer = p_acquire, /* no page cache of its own to keep */
    .release = p_release,
    .begin = p_begin,
    .commit = p_commit,
    .rollback = p_rollback,
    .savepoint = p_savepoint,
    .position_max = p_position_max,
    .records_count = p_records_count,
    .rec_get = p_rec_get,
    .rec_put = p_rec_put,
    .rec_add = p_rec_add,
    .records_scan = p_records_scan,
    .pull = p_pull,
    .moved_put = p_moved_put,
    .moved_pull = p_moved_pull,
    .roster_has = p_roster_has,
    .employee = p_employee,
    .employees_any = p_employees_any,
    .rating_other = p_rating_other,
    .office_zone = p_office_zone,
    .services = p_services,
    .applied_get = p_applied_get,
    .applied_put = p_applied_put,
    .applied_put_many = p_applied_put_many,
    .applied_high = p_applied_high,
    .conflict_put = p_conflict_put,
    .conflict_trim = p_conflict_trim,
    .conflict_list = p_conflict_list,
    .history_put = p_history_put,
    .history_put_many = p_history_put_many,
    .history_list = p_history_list,
    .clock_get = p_clock_get,
    .clock_put = p_clock_put,
    .import_get = p_import_get,
    .import_put = p_import_put,
    .epoch_current = p_epoch_current,
    .epoch_add = p_epoch_add,
    .epochs = p_epochs,
    .lineage = p_lineage,
    .token_add = p_token_add,
    .token_get = p_token_get,
    .token_seen = p_token_seen,
    .token_exists = p_token_exists,
    .token_revoke = p_token_revoke,
    .token_list = p_token_list,
    .user_add = p_user_add,
    .user_list = p_user_list,
    .user_remove = p_user_remove,
    .user_get = p_user_get,
    .device_report_put = p_device_report_put,
    .device_reports = p_device_reports,
    .user_login = p_user_login,
    .enrol_add = p_enrol_add,
    .enrol_get = p_enrol_get,
    .enrol_spend = p_enrol_spend,
    .score = p_score,
    .score_rebuild = p_score_rebuild,
    .restore_file = NULL,
    .survey_comments = p_survey_comments,
};

/* ---------------------------------------------------------------------- */
/* bulk copy (db.h "bulk copy between stores"; kinerjad migrate-store):
 * rows go in through COPY ... FROM STDIN in CSV form (libcsv quotes the
 * text), about ten times the speed of one INSERT per row. */

#include <csv.h>

static kj_code pb_count(conn *c, const kjs_db_table *t, long long *n, kj_err *err) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", t->name);
  *n = 0;
  PGresult *r = PQexec(c->pg, sql);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    kj_code rc = pg_fail(c, r, err, t->name);
    PQclear(r);
    return rc;
  }
  *n = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return KJ_OK;
}

static kj_code pb_clear(conn *c, const kjs_db_table *t, kj_err *err) {
  char sql[128];
  snprintf(sql, sizeof sql, "DELETE FROM \"%s\"", t->name);
  return exec(c, sql, err);
}

static kj_code pb_begin(conn *c, const kjs_db_table *t, kj_err *err) {
  char sql[1024];
  int o = snprintf(sql, sizeof sql, "COPY \"%s\"(", t->name);
  for (int i = 0; i < t->ncols && o < (int)sizeof sql; i++)
    o += snprintf(sql + o, sizeof sql - (size_t)o, "%s\"%s\"", i ? ", " : "", t->cols[i]);
  if (o < (int)sizeof sql)
    snprintf(sql + o, sizeof sql - (size_t)o, ") FROM STDIN (FORMAT csv)");
  PGresult *r = PQexec(c->pg, sql);
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    kj_code rc = pg_fail(c, r, err, t->name);
    PQclear(r);
    return rc;
  }
  PQclear(r);
  return KJ_OK;
}

static kj_code pb_row(conn *c, const kjs_db_table *t, const kjs_db_cell *row, kj_err *err) {
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  unsigned long nomem = kj_buf_nomem();
  for (int i = 0; i < t->ncols; i++) {
    const kjs_db_cell *v = &row[i];
    if (i)
      kj_buf_add(&b, ",", 1);
    if (v->kind == KJS_CELL_INT) {
      kj_buf_addf(&b, "%" PRId64, v->i);
    } else if (v->kind == KJS_CELL_BLOB) {
      static const char hex[] = "0123456789abcdef";
      kj_buf_add(&b, "\\x", 2);
      const unsigned char *p = v->p;
      for (size_t k = 0; k < v->len; k++) {
        char h[2] = {hex[p[k] >> 4], hex[p[k] & 15]};
        kj_buf_add(&b, h, 2);
      }
    } else if (v->kind == KJS_CELL_TEXT) {
      /* always quoted: an empty text is "" (an empty field is NULL) */
      size_t need = csv_write(NULL, 0, v->p, v->len);
      char *q = malloc(need ? need : 1);
      if (!q) {
        kj_buf_release(&b);
        return kj_fail(err, KJ_ENOMEM, "%s: out of memory", t->name);
      }
      csv_write(q, need, v->p, v->len);
      kj_buf_add(&b, q, need);
      free(q);
    }
  }
  kj_buf_add(&b, "\n", 1);
  kj_code rc = KJ_OK;
  if (kj_buf_nomem() != nomem)
    rc = kj_fail(err, KJ_ENOMEM, "%s: out of memory", t->name);
  else if (PQputCopyData(c->pg, kj_buf_str(&b), (int)b.len) != 1)
    rc = pg_fail(c, NULL, err, t->name);
  kj_buf_release(&b);
  return rc;
}

static kj_code pb_end(conn *c, const kjs_db_table *t, int ok, kj_err *err) {
  kj_code rc = KJ_OK;
  if (PQputCopyEnd(c->pg, ok ? NULL : "abandoned") != 1)
    rc = pg_fail(c, NULL, err, t->name);
  PGresult *r;
  while ((r = PQgetResult(c->pg)) != NULL) {
    if (!rc && ok && PQresultStatus(r) != PGRES_COMMAND_OK)
      rc = pg_fail(c, r, err, t->name);
    PQclear(r);
  }
  if (rc || !ok)
    return rc;
  /* a serial key (conflicts, history, epochs: n) continues after the copy */
  for (int i = 0; i < t->ncols; i++) {
    if (strcmp(t->cols[i], "n") != 0)
      continue;
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT setval(pg_get_serial_sequence('\"%s\"', 'n'), MAX(n)) FROM \"%s\" "
             "HAVING MAX(n) IS NOT NULL",
             t->name, t->name);
    rc = exec(c, sql, err);
  }
  return rc;
}

static kj_code pb_version(conn *c, long long *v, kj_err *err) {
  *v = 0;
  PGresult *r = PQexec(c->pg, "SELECT version FROM kinerjad_schema");
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    kj_code rc = pg_fail(c, r, err, "cannot read the schema version");
    PQclear(r);
    return rc;
  }
  *v = atoll(PQgetvalue(r, 0, 0));
  PQclear(r);
  return KJ_OK;
}

static kj_code pb_columns(conn *c,
                          kj_code (*each)(void *ctx, const char *table, const char *column),
                          void *ctx, kj_err *err) {
  /* kinerjad_lineage is not copied: it is this database's own identity (the
   * restore check, "Restores" in docs/protocol.md), written at open */
  PGresult *r = PQexec(c->pg, "SELECT table_name, column_name FROM information_schema.columns "
                              "WHERE table_schema = current_schema() AND table_name <> "
                              "'kinerjad_schema' AND table_name <> 'kinerjad_lineage'");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    kj_code rc = pg_fail(c, r, err, "cannot list the tables");
    PQclear(r);
    return rc;
  }
  kj_code rc = KJ_OK;
  for (int i = 0; !rc && i < PQntuples(r); i++)
    rc = each(ctx, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
  PQclear(r);
  return rc;
}

const kjs_db_bulk kjs_db_pg_bulk = {
    .count = pb_count,
    .clear = pb_clear,
    .import_begin = pb_begin,
    .import_row = pb_row,
    .import_end = pb_end,
    .columns = pb_columns,
    .schema_version = pb_version,
};

/* db.h survey_comments: one statement with parameters (PQexecParams), so
 * that it stays out of the prepared statement table. */
static kj_code p_survey_comments(conn *c, const char *office, const char *from, const char *to,
                                 int max,
                                 kj_code (*each)(void *, const char *, const char *, const char *),
                                 void *ctx, kj_err *err) {
  static const char sql[] =
      "SELECT d, coalesce(j->'f'->>'service', ''), cm FROM ("
      "SELECT j, j->'f'->>'date' AS d, j->'f'->>'comment' AS cm, seq FROM ("
      "SELECT state::jsonb AS j, seq FROM records WHERE office = $1 AND type = 'survey'"
      " AND deleted = 0) r) s"
      " WHERE jsonb_typeof(j->'f'->'comment') = 'string' AND cm <> ''"
      " AND jsonb_typeof(j->'f'->'date') = 'string' AND d BETWEEN $2 AND $3"
      " ORDER BY d DESC, seq DESC LIMIT $4::int";
  args a = {.n = 0};
  a_text(&a, office);
  a_text(&a, from);
  a_text(&a, to);
  a_i64(&a, max);
  PGresult *r = PQexecParams(c->pg, sql, a.n, NULL, a.v, a.len, a.fmt, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    kj_code rc = pg_fail(c, r, err, "cannot read the comments");
    PQclear(r);
    return rc;
  }
  kj_code rc = KJ_OK;
  for (int i = 0, n = PQntuples(r); i < n && !rc; i++)
    rc = each(ctx, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
  PQclear(r);
  return rc;
}
