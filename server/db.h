/* db.h - the seam between kinerjad's store and its database.
 *
 * server/store.c keeps the logic (merge through proto/merge.h, the rules of
 * proto/rules.h, exactly once, the clock, restores, the scores' upkeep
 * through score_store.h); every SQL statement of those tables lives behind
 * this table of functions, over plain C values and row structs: no SQL, no
 * cJSON and no database handle cross it.  Implementations:
 * server/db_sqlite.c (the embedded default, one file) and server/db_pg.c
 * (PostgreSQL through libpq, several kinerjad on one database).
 * docs/architecture.md "server/db" shows the seam.
 *
 * A kjs_db is a database (a pool of connections); a kjs_dbc one connection,
 * used by one thread at a time between acquire and release.  Every function
 * of a connection returns KJ_OK or a kj_code with err filled (err may be
 * NULL): KJ_EDB (the database's message), KJ_EBUSY (locked, timed out),
 * KJ_EFULL (disk full), KJ_ENOMEM; KJ_EEXIST and KJ_ENOENT only where said.
 * Strings are NUL-terminated UTF-8; NULL is SQL NULL.  Times are ms since
 * the epoch, stamps kj_hlc values stored as signed 64-bit integers.
 *
 * Reads with a callback call each(ctx, row) once per row in the order
 * stated; a row's strings are valid during that call only, and each must not
 * use the connection.  A non-zero return of each stops the read and is
 * returned (each fills err itself).
 */
#ifndef KJS_DB_H
#define KJS_DB_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "score_store.h"

typedef struct kjs_db kjs_db;
typedef struct kjs_dbc kjs_dbc;

/* A stored record (table records).  state: its kj_rstate JSON (state_len
 * bytes, no NUL needed on writes); seq: its position in the change sequence;
 * origin: the device incarnation that wrote every stamp of it, or NULL. */
typedef struct kjs_db_rec {
  const char *type, *id, *office;
  int deleted;
  const char *state;
  size_t state_len;
  int64_t seq;
  const char *origin;
} kjs_db_rec;

/* One row of the conflict log.  On a write, n, loser_author, winner_author
 * and zone are ignored.  On a read: loser_author / winner_author are the
 * authors of the history rows that wrote each side's stamp ("HLC/DEVICE"),
 * NULL when older than the history; zone the timezone field of the record's
 * office (NULL when unknown). */
typedef struct kjs_db_conflict {
  int64_t n;
  const char *type, *id, *field;
  const char *loser, *loser_stamp, *winner, *winner_stamp;
  int64_t at;
  const char *loser_note, *winner_note;
  const char *loser_author, *winner_author, *zone;
} kjs_db_conflict;

/* One row of the history: change is the change's body JSON
 * (kj_change_body_json); zone as for a conflict (read only). */
typedef struct kjs_db_history {
  const char *type, *id, *device, *author;
  int64_t hlc;
  const char *change;
  int64_t at;
  const char *zone;
} kjs_db_history;

/* A row of the applied table (exactly once): status "applied",
 * "duplicate" or "rejected"; error only for a rejection; digest the
 * change's kj_change_digest (digest_len bytes, 0 = none stored: rows of
 * older releases).  A rejection by a rule of proto/rules.c also keeps the
 * refusal as the push answered it (docs/protocol.md "Push"): code (its
 * stable name, "" when none: any other rejection, or a row of a release
 * before schema 14 / PostgreSQL's 4), field, and args as a JSON array of
 * strings (the text cut to fit is taken as none). */
#define KJS_DB_CODE_MAX 65 /* proto/rules.h KJ_REFUSAL_ARG_MAX + 1 */
#define KJS_DB_ARGS_MAX 2048
typedef struct kjs_db_applied {
  char status[16];
  char error[1024];
  unsigned char digest[32];
  size_t digest_len;
  char code[KJS_DB_CODE_MAX];
  char field[KJS_DB_CODE_MAX];
  char args[KJS_DB_ARGS_MAX];
} kjs_db_applied;

/* A row to insert into the applied table (applied_put's arguments):
 * error NULL but for a rejection, digest_len 0 when none; code NULL but
 * for a rule's refusal, then field and args (a JSON array of strings) set
 * too. */
typedef struct kjs_db_applied_row {
  const char *device, *inc;
  int64_t seq;
  const char *status, *error;
  const unsigned char *digest;
  size_t digest_len;
  const char *code, *field, *args;
} kjs_db_applied_row;

/* A token row.  role "admin", "viewer" or "device"; office and name may be
 * NULL; revoked / last_seen 0 when never (has_* says which); enrolment
 * (lists only): the state of the device's newest enrolment code "pending",
 * "used", "expired", or NULL. */
typedef struct kjs_db_token {
  unsigned char hash[32];
  size_t hash_len;
  const char *id, *role, *office, *name;
  int64_t created;
  int has_revoked, has_last_seen;
  int64_t revoked, last_seen;
  const char *enrolment;
} kjs_db_token;

/* A dashboard user (hash: Argon2id encoded; reads of lists leave it NULL). */
typedef struct kjs_db_user {
  const char *name, *role, *hash;
  int64_t created;
  int has_last_login;
  int64_t last_login;
} kjs_db_user;

/* A PC's report (version: kinerja's release; at: ms since the epoch). */
typedef struct kjs_db_report {
  const char *device, *version;
  int64_t pending, rejected, at;
} kjs_db_report;

/* An enrolment code with its device's token (enrol_get): used 0 when
 * unused (has_used), token_state 0 live, 1 revoked, 2 no such token. */
typedef struct kjs_db_enrol {
  char device[64];
  char office[64];
  int has_used;
  int64_t used, expires;
  int token_state;
  unsigned char sealed[128];
  size_t sealed_len;
  unsigned char token_hash[32];
  size_t token_hash_len;
} kjs_db_enrol;

/* An epoch of the lineage (docs/protocol.md "Restores"); parent "" for the
 * first. */
typedef struct kjs_db_epoch {
  const char *epoch, *parent;
  int64_t base;
} kjs_db_epoch;

/* The savepoint of one item (kjs_txn_apply). */
typedef enum { KJS_SP_BEGIN, KJS_SP_RELEASE, KJS_SP_ROLLBACK } kjs_db_sp;

typedef struct kjs_db_ops {
  const char *name; /* "sqlite", "postgresql" */
  /* 1: the database is a local file; the restore mark and the token journal
   * live beside it (KJS_MARK_SUFFIX, KJS_TOKENS_SUFFIX of store.h) */
  int local_file;

  /* --- the database ------------------------------------------------- */
  /* Open where (a file path, or a postgresql:// URL); create: make it
   * (init), else it must exist (KJ_ENOENT).  The schema is migrated to the
   * current version once, whichever process comes first, with the score
   * tables (score_store.h); a database of a newer kinerjad is KJ_EVERSION,
   * one that is not kinerjad's KJ_EDB.  *out is closed by close. */
  kj_code (*open)(const char *where, int create, kjs_db **out, kj_err *err);
  void (*close)(kjs_db *db);
  /* A connection of the pool (waits while all are taken); NULL with err
   * filled.  release gives it back (rolling back a transaction left open). */
  kjs_dbc *(*acquire)(kjs_db *db, kj_err *err);
  /* The connection for the process's write transactions (store.c's
   * kjs_txn_begin, under its write mutex), given back with release: on
   * SQLite one connection kept for them, with a bigger page cache (the
   * pages of a push's indexes stay from batch to batch); on PostgreSQL a
   * connection of the pool, as acquire.  NULL with err filled. */
  kjs_dbc *(*acquire_writer)(kjs_db *db, kj_err *err);
  void (*release)(kjs_db *db, kjs_dbc *c);

  /* --- transactions ------------------------------------------------- */
  /* write: the one writer of the database at a time across processes and
   * instances (taken at begin, held to commit/rollback; positions are
   * given in commit order), else a read snapshot. */
  kj_code (*begin)(kjs_dbc *c, int write, kj_err *err);
  kj_code (*commit)(kjs_dbc *c, kj_err *err);
  void (*rollback)(kjs_dbc *c);
  kj_code (*savepoint)(kjs_dbc *c, kjs_db_sp op, kj_err *err);

  /* --- records and the change sequence ------------------------------ */
  /* The highest position given: records and moved notices (0 when none). */
  kj_code (*position_max)(kjs_dbc *c, int64_t *out, kj_err *err);
  kj_code (*records_count)(kjs_dbc *c, long long *out, kj_err *err);
  /* The state of (type, id) into *state (malloc'd, the caller frees), NULL
   * when there is none.  lock: the row is locked to the transaction's end. */
  kj_code (*rec_get)(kjs_dbc *c, const char *type, const char *id, int lock, char **state,
                     kj_err *err);
  /* Insert or replace record (type, id). */
  kj_code (*rec_put)(kjs_dbc *c, const kjs_db_rec *r, kj_err *err);
  /* Insert record (type, id) when there is none (*added 1); else nothing
   * changes (*added 0).  A push's new records go in without a read first
   * (server/store.c apply_fresh). */
  kj_code (*rec_add)(kjs_dbc *c, const kjs_db_rec *r, int *added, kj_err *err);
  /* Records of type (NULL: all), of office (NULL: any), live only when
   * live_only; by seq when by_seq else by (type, id). */
  kj_code (*records_scan)(kjs_dbc *c, const char *type, const char *office, int live_only,
                          int by_seq, kj_code (*each)(void *ctx, const kjs_db_rec *r), void *ctx,
                          kj_err *err);
  /* Records with seq > since by seq, at most limit.  office NULL: all;
   * else the records of office and of the types of broadcast (ntypes
   * names), and when skip_origin is not NULL not those of that origin. */
  kj_code (*pull)(kjs_dbc *c, int64_t since, int limit, const char *office,
                  const char *const *broadcast, int ntypes, const char *skip_origin,
                  kj_code (*each)(void *ctx, int64_t seq, const char *state), void *ctx,
                  kj_err *err);
  /* A moved notice: (office, type, id) at position seq (replaces). */
  kj_code (*moved_put)(kjs_dbc *c, const char *office, const char *type, const char *id,
                       int64_t seq, kj_err *err);
  /* The notices of office with since < seq <= upto, by seq. */
  kj_code (*moved_pull)(kjs_dbc *c, const char *office, int64_t since, int64_t upto,
                        kj_code (*each)(void *ctx, const char *type, const char *id), void *ctx,
                        kj_err *err);

  /* --- what the rules read (proto/rules.h's roster) ------------------ */
  /* *found = 1 when nip is a live employee of office or the supervisor of
   * one there. */
  kj_code (*roster_has)(kjs_dbc *c, const char *office, const char *nip, int *found, kj_err *err);
  /* A live employee's office and supervisor ("" when none), *found. */
  kj_code (*employee)(kjs_dbc *c, const char *nip, char office[64], char supervisor[64], int *found,
                      kj_err *err);
  /* *any = 1 when a live employee exists. */
  kj_code (*employees_any)(kjs_dbc *c, int *any, kj_err *err);
  /* The id of another live rating (not id) of (period, rater, ratee) into
   * out (size bytes), "" when none. */
  kj_code (*rating_other)(kjs_dbc *c, const char *period, const char *rater, const char *ratee,
                          const char *id, char *out, size_t size, kj_err *err);
  /* The timezone field of live office record office into out, "" when none. */
  kj_code (*office_zone)(kjs_dbc *c, const char *office, char *out, size_t size, kj_err *err);
  /* The name field of the live service records of office, by seq. */
  kj_code (*services)(kjs_dbc *c, const char *office, kj_code (*each)(void *ctx, const char *name),
                      void *ctx, kj_err *err);

  /* --- exactly once, conflicts, history, clock, imports -------------- */
  /* The row of (device, inc, seq): *found, *out.  lock: locked to the
   * transaction's end (several instances: one applies it). */
  kj_code (*applied_get)(kjs_dbc *c, const char *device, const char *inc, int64_t seq, int lock,
                         int *found, kjs_db_applied *out, kj_err *err);
  /* Insert the row (error NULL, digest NULL when digest_len 0). */
  kj_code (*applied_put)(kjs_dbc *c, const char *device, const char *inc, int64_t seq,
                         const char *status, const char *error, const unsigned char *digest,
                         size_t digest_len, kj_err *err);
  /* The highest seq of (device, inc), 0 when none. */
  kj_code (*applied_high)(kjs_dbc *c, const char *device, const char *inc, int64_t *high,
                          kj_err *err);
  kj_code (*conflict_put)(kjs_dbc *c, const kjs_db_conflict *k, kj_err *err);
  /* Keep the newest keep rows of (type, id); *dropped = rows deleted. */
  kj_code (*conflict_trim)(kjs_dbc *c, const char *type, const char *id, int keep, int *dropped,
                           kj_err *err);
  /* The whole log, oldest (n) first. */
  kj_code (*conflict_list)(kjs_dbc *c, kj_code (*each)(void *ctx, const kjs_db_conflict *k),
                           void *ctx, kj_err *err);
  kj_code (*history_put)(kjs_dbc *c, const kjs_db_history *h, kj_err *err);
  /* The same as n calls of applied_put / history_put, in order, with fewer
   * statements (server/store.c holds a transaction's rows and writes them
   * together: a statement's own cost was a third of a row's) */
  kj_code (*applied_put_many)(kjs_dbc *c, const kjs_db_applied_row *rows, int n, kj_err *err);
  kj_code (*history_put_many)(kjs_dbc *c, const kjs_db_history *h, int n, kj_err *err);
  /* The history of record id (any type), oldest first. */
  kj_code (*history_list)(kjs_dbc *c, const char *id,
                          kj_code (*each)(void *ctx, const kjs_db_history *h), void *ctx,
                          kj_err *err);
  /* The server's clock: *found 0 when never stored. */
  kj_code (*clock_get)(kjs_dbc *c, int *found, int64_t *hlc, kj_err *err);
  kj_code (*clock_put)(kjs_dbc *c, int64_t hlc, kj_err *err);
  /* An import of digest: *found, when (*at) and the file (malloc'd into
   * *file, NULL when none). */
  kj_code (*import_get)(kjs_dbc *c, const char *digest, int *found, int64_t *at, char **file,
                        kj_err *err);
  /* Insert or replace the import of digest. */
  kj_code (*import_put)(kjs_dbc *c, const char *digest, const char *type, const char *file,
                        long rows, int64_t at, kj_err *err);

  /* --- epochs (restores) --------------------------------------------- */
  /* The newest epoch into out (size bytes), "" when none. */
  kj_code (*epoch_current)(kjs_dbc *c, char *out, size_t size, kj_err *err);
  kj_code (*epoch_add)(kjs_dbc *c, const char *epoch, const char *parent, int64_t base, int64_t at,
                       const char *how, kj_err *err);
  kj_code (*epochs)(kjs_dbc *c, kj_code (*each)(void *ctx, const kjs_db_epoch *e), void *ctx,
                    kj_err *err);
  /* The restore check of a store without a mark file (PostgreSQL; NULL on
   * SQLite, whose mark file beside the database does it): compare the
   * database's identity (PostgreSQL: the database's OID, the cluster's
   * system identifier and WAL timeline, which a pg_restore into a new
   * database, a point-in-time recovery and a promoted standby change) with
   * the one the last open recorded in the database, and record the current
   * one.  Inside the caller's write transaction.  why (size bytes) gets ""
   * when they are the same or none was recorded, else what differs. */
  kj_code (*lineage)(kjs_dbc *c, char *why, size_t size, kj_err *err);

  /* --- tokens, users, enrolment codes -------------------------------- */
  /* Insert a token (t->hash, id, role, office, name, created).  ignore: an
   * existing hash or id is left alone (*added 0); else KJ_EEXIST (no
   * message).  *added (may be NULL): 1 when inserted. */
  kj_code (*token_add)(kjs_dbc *c, const kjs_db_token *t, int ignore, int *added, kj_err *err);
  /* The token of hash: *found, *out (strings valid until the next call on
   * c). */
  kj_code (*token_get)(kjs_dbc *c, const unsigned char hash[32], int *found, kjs_db_token *out,
                       kj_err *err);
  kj_code (*token_seen)(kjs_dbc *c, const unsigned char hash[32], int64_t at, kj_err *err);
  kj_code (*token_exists)(kjs_dbc *c, const char *id, int *found, kj_err *err);
  /* Revoke live token id at at: *changed 1 when it was live. */
  kj_code (*token_revoke)(kjs_dbc *c, const char *id, int64_t at, int *changed, kj_err *err);
  /* Tokens (devices only when devices_only) by (created, id); now decides
   * "expired" enrolment. */
  kj_code (*token_list)(kjs_dbc *c, int devices_only, int64_t now,
                        kj_code (*each)(void *ctx, const kjs_db_token *t), void *ctx, kj_err *err);
  /* Insert a user; KJ_EEXIST (no message) when the name is taken. */
  kj_code (*user_add)(kjs_dbc *c, const kjs_db_user *u, kj_err *err);
  kj_code (*user_list)(kjs_dbc *c, kj_code (*each)(void *ctx, const kjs_db_user *u), void *ctx,
                       kj_err *err);
  /* *changed 1 when the user existed. */
  kj_code (*user_remove)(kjs_dbc *c, const char *name, int *changed, kj_err *err);
  /* User name's role and hash into role / hash (sizes given), *found. */
  kj_code (*user_get)(kjs_dbc *c, const char *name, int *found, char *role, size_t rsize,
                      char *hash, size_t hsize, kj_err *err);
  kj_code (*user_login)(kjs_dbc *c, const char *name, int64_t at, kj_err *err);
  /* What a device's PC last reported at its pull (docs/protocol.md "What
   * the PC reports"), replacing the last report / every device's, in no
   * set order (r's strings valid during each). */
  kj_code (*device_report_put)(kjs_dbc *c, const kjs_db_report *r, kj_err *err);
  kj_code (*device_reports)(kjs_dbc *c, kj_code (*each)(void *ctx, const kjs_db_report *r),
                            void *ctx, kj_err *err);
  kj_code (*enrol_add)(kjs_dbc *c, const unsigned char hash[32], const char *device,
                       const unsigned char *sealed, size_t sealed_len, int64_t created,
                       int64_t expires, kj_err *err);
  /* The code of hash with its token (lock: locked to the transaction's
   * end): *found, *out. */
  kj_code (*enrol_get)(kjs_dbc *c, const unsigned char hash[32], int lock, int *found,
                       kjs_db_enrol *out, kj_err *err);
  /* Mark an unused code used (at, by), clearing its sealed token;
   * *changed 0 when it was used already. */
  kj_code (*enrol_spend)(kjs_dbc *c, const unsigned char hash[32], int64_t at, const char *used_by,
                         int *changed, kj_err *err);

  /* --- scores (score_store.h) ----------------------------------------- */
  /* The score store of connection c (owned by c); NULL when out of memory. */
  kjs_score_store *(*score)(kjs_dbc *c);
  /* Rebuild the score tables from the live records (verify: compare only,
   * one line per difference into diffs, counted in *ndiff); inside a write
   * transaction. */
  kj_code (*score_rebuild)(kjs_dbc *c, int verify, kj_buf *diffs, int *ndiff, kj_err *err);

  /* --- files (local_file only; NULL otherwise) ----------------------- */
  /* `kinerjad restore`: check file (a readable kinerjad database of a
   * schema this kinerjad reads: KJ_EINVAL saying why), copy it beside path,
   * move the database at path aside (path.before-restore) and put the copy
   * in its place.  The caller holds the mark's exclusive lock. */
  kj_code (*restore_file)(const char *path, const char *file, kj_err *err);

  /* --- the dashboard's Kantor (issue 18) ------------------------------ */
  /* Citizens' comments: the newest max (1..1000) live surveys of office
   * dated from..to (YYYY-MM-DD, inclusive) whose comment is not empty,
   * newest date first (a day's in reverse order of storing), each as its
   * date, service ("" when none) and comment.  Reads only office's rows
   * (the records_office index), not every record. */
  kj_code (*survey_comments)(kjs_dbc *c, const char *office, const char *from, const char *to,
                             int max,
                             kj_code (*each)(void *ctx, const char *date, const char *service,
                                             const char *comment),
                             void *ctx, kj_err *err);
} kjs_db_ops;

/* The SQLite implementation (server/db_sqlite.c). */
extern const kjs_db_ops kjs_db_sqlite_ops;
/* The PostgreSQL implementation (server/db_pg.c; built when libpq is
 * found: KJS_HAVE_PG). */
extern const kjs_db_ops kjs_db_pg_ops;

/* For tests only (0 in kinerjad): open acts as an older kinerjad that
 * knows this many migrations fewer (SQLite's 12 and PostgreSQL's 2 with 1):
 * it migrates no further, and a store of a later version is KJ_EVERSION. */
extern int kjs_db_test_older;

/* 1 when where names a PostgreSQL database ("postgresql://..." or
 * "postgres://..."), else 0 (a file path). */
int kjs_db_is_pg(const char *where);

/* --- bulk copy between stores (kinerjad migrate-store, issue 19) ---------
 * server/migrate_store.c copies an SQLite store into PostgreSQL table by
 * table through these, in one transaction of the target.  Both stores hold
 * the same tables with the same columns (SQLite's schema version 13 is
 * PostgreSQL's 3); kjs_db_tables lists them in copy order. */

/* One column's value: NULL, an integer (i), text or bytes (p, len bytes;
 * text need not be NUL-terminated). */
typedef enum { KJS_CELL_NULL, KJS_CELL_INT, KJS_CELL_TEXT, KJS_CELL_BLOB } kjs_db_cell_kind;
typedef struct kjs_db_cell {
  kjs_db_cell_kind kind;
  int64_t i;
  const void *p;
  size_t len;
} kjs_db_cell;

/* A table of the store: its name and its columns (ncols <= KJS_DB_COLS_MAX). */
#define KJS_DB_COLS_MAX 16
typedef struct kjs_db_table {
  const char *name;
  const char *const *cols;
  int ncols;
} kjs_db_table;
/* Every table of the store (records, tokens, applied, conflicts, moved,
 * history, imports, clock, epochs, users, enrol_codes, device_reports and
 * the sc_* score tables, the report memo's sc_office_ver included),
 * kjs_db_ntables of them (db_sqlite.c). */
extern const kjs_db_table kjs_db_tables[];
extern const int kjs_db_ntables;

/* A store's side of the copy; a function is NULL where that store does not
 * do it (SQLite exports, PostgreSQL imports).  Every one runs inside the
 * caller's transaction on connection c. */
typedef struct kjs_db_bulk {
  /* The rows of table t into *n. */
  kj_code (*count)(kjs_dbc *c, const kjs_db_table *t, long long *n, kj_err *err);
  /* Every row of t, each(ctx, cells) with t->ncols cells in t->cols order
   * (valid during the call), in no set order; each's non-zero return stops
   * the read and is returned. */
  kj_code (*export_rows)(kjs_dbc *c, const kjs_db_table *t,
                         kj_code (*each)(void *ctx, const kjs_db_cell *row), void *ctx,
                         kj_err *err);
  /* Delete every row of t (the target's own first epoch before the copy). */
  kj_code (*clear)(kjs_dbc *c, const kjs_db_table *t, kj_err *err);
  /* Rows into t: import_begin, import_row per row (t->ncols cells), then
   * import_end (ok 0: abandon the rows, the caller rolls back); nothing
   * else runs on c in between.  Values
   * are kept as given, keys and sequence numbers included; a serial column
   * n continues after the highest copied.  A row the table refuses (a
   * type, a constraint) fails import_row or import_end with the
   * database's message naming the table. */
  kj_code (*import_begin)(kjs_dbc *c, const kjs_db_table *t, kj_err *err);
  kj_code (*import_row)(kjs_dbc *c, const kjs_db_table *t, const kjs_db_cell *row, kj_err *err);
  kj_code (*import_end)(kjs_dbc *c, const kjs_db_table *t, int ok, kj_err *err);
  /* Every column of the store's own tables, each(ctx, table, column) (no
   * set order; SQLite's internal tables and PostgreSQL's kinerjad_schema
   * left out): the copy checks them against kjs_db_tables first. */
  kj_code (*columns)(kjs_dbc *c, kj_code (*each)(void *ctx, const char *table, const char *column),
                     void *ctx, kj_err *err);
  /* The schema version of the store (SQLite user_version, PostgreSQL
   * kinerjad_schema.version). */
  kj_code (*schema_version)(kjs_dbc *c, long long *v, kj_err *err);
} kjs_db_bulk;
/* server/db_sqlite.c: count, export_rows, columns, schema_version. */
extern const kjs_db_bulk kjs_db_sqlite_bulk;
/* server/db_pg.c (KJS_HAVE_PG): count, clear, import_*, columns, schema_version. */
extern const kjs_db_bulk kjs_db_pg_bulk;

#endif
