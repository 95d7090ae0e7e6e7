/* store.h - kinerjad's store: records, merge, exactly once, tokens, people.
 *
 * The logic lives in store.c; the database behind it is reached only
 * through server/db.h (SQLite in server/db_sqlite.c, the default; PostgreSQL
 * in server/db_pg.c, chosen by a postgresql:// store).  A store is shared by
 * the threadpool threads: the database keeps a small pool of connections;
 * writers of this process are serialised on a mutex, then on the database's
 * one write lock against other processes and instances.  The scores module
 * is called from here, inside the same transactions.
 */
#ifndef KJS_STORE_H
#define KJS_STORE_H

#include <stdint.h>
#include <stdio.h>

#include <cJSON.h>

#include "buf.h"
#include "config.h"
#include "date.h"
#include "db.h"
#include "err.h"
#include "hlc.h"
#include "msg.h"
#include "score.h"
#include "wire.h"

typedef struct kjs_store kjs_store;

typedef enum { KJS_ROLE_ADMIN, KJS_ROLE_VIEWER, KJS_ROLE_DEVICE } kjs_role;

const char *kjs_role_name(kjs_role r);
/* The role named s ("admin", "viewer", "device") into *out: KJ_OK, or
 * KJ_EINVAL (no message) when s names none. */
kj_code kjs_role_parse(const char *s, kjs_role *out);

/* Who is calling: from the token. */
typedef struct kjs_principal {
  kjs_role role;
  char id[KJ_DEVICE_MAX + 1]; /* device id "dev-1a2b3c4d" or token id "tok-..." */
  char office[KJ_ID_MAX + 1]; /* devices only, else "" */
  /* The incarnation of the device's database that calls (docs/protocol.md
   * "Restores"), from the request, not the token: "" is the first. */
  char inc[KJ_INCARNATION_MAX + 1];
} kjs_principal;

/* Open the store at path: a database file (SQLite), or a
 * "postgresql://..." URL (PostgreSQL, when built with libpq; else
 * KJ_EINVAL).  create: make it (init); else it must exist.  The schema is
 * migrated to the current version either way, once, whichever process comes
 * first; a database from a newer kinerjad is KJ_EVERSION.  cfg (may be NULL)
 * gives the score.* keys. */
kj_code kjs_store_open(kjs_store **out, const char *path, const kjs_config *cfg, int create,
                       kj_err *err);
void kjs_store_close(kjs_store *s);
/* The database behind s: "sqlite" or "postgresql" (static text). */
const char *kjs_store_backend(const kjs_store *s);

/* --- tokens ------------------------------------------------------------ */

kj_code kjs_store_token_add(kjs_store *s, kjs_role role, const char *id, const char *office,
                            const char *name, const unsigned char hash[32], kj_err *err);
typedef enum { KJS_TOKEN_UNKNOWN, KJS_TOKEN_LIVE, KJS_TOKEN_REVOKED } kjs_token_state;
/* Look the token of SHA-256 hash up: KJ_OK and *state (KJS_TOKEN_LIVE with
 * *who filled, KJS_TOKEN_UNKNOWN or KJS_TOKEN_REVOKED), or KJ_EDB (or the
 * store's code) with err filled on a database error. */
kj_code kjs_store_token_lookup(kjs_store *s, const unsigned char hash[32], kjs_principal *who,
                               kjs_token_state *state, kj_err *err);
/* KJ_ENOENT when there is no such id, KJ_EEXIST when already revoked. */
kj_code kjs_store_token_revoke(kjs_store *s, const char *id, kj_err *err);
/* An array of {"id","role","office","name","created","revoked",
 * "last_seen" (ms of the last request with the token, to the minute; null
 * when never), "enrolment" ("pending", "used", "expired" for the newest
 * enrolment code of a device, null when none)} (devices only when
 * devices_only); times in ms since the epoch. */
kj_code kjs_store_token_list(kjs_store *s, int devices_only, cJSON **out, kj_err *err);
/* The rows behind it (what the store returns; the JSON above is
 * server/store_json.c's): each token, devices only when devices_only, by
 * (created, id), with the state of its newest enrolment code; the hash is
 * not read.  each's return stops the read and is returned.  KJ_EDB... */
kj_code kjs_store_tokens(kjs_store *s, int devices_only,
                         kj_code (*each)(void *ctx, const kjs_db_token *t), void *ctx, kj_err *err);

/* --- people of the dashboard and enrolment codes (issue 18) --------------- */

/* A user's role: "admin" or "analyst" (at most this long). */
#define KJS_USER_ROLE_MAX 15

/* Add user name (1-64 characters, checked by the caller) with role and the
 * Argon2id encoded hash of the password (common/passhash.h kj_pass_hash;
 * the password itself is never stored).  KJ_EEXIST when the name is
 * taken; KJ_EDB. */
kj_code kjs_store_user_add(kjs_store *s, const char *name, const char *role, const char *hash,
                           kj_err *err);
/* Every user, by name: an array of {"name","role","created" (ms),
 * "last_login" (ms or null)}; the caller deletes it.  No hash is listed. */
kj_code kjs_store_user_list(kjs_store *s, cJSON **out, kj_err *err);
/* The rows behind it: every user by name (hash left NULL). */
kj_code kjs_store_users(kjs_store *s, kj_code (*each)(void *ctx, const kjs_db_user *u), void *ctx,
                        kj_err *err);
/* KJ_ENOENT when there is no such user. */
kj_code kjs_store_user_remove(kjs_store *s, const char *name, kj_err *err);
/* Sign-in check of the dashboard: KJ_OK with role filled when password is
 * name's (last_login is then set to now); KJ_EAUTH "wrong user name or
 * password" both when the name is unknown and when the password is wrong
 * (an unknown name costs the same Argon2id work, so time tells nothing);
 * KJ_EDB, KJ_ENOMEM. */
kj_code kjs_store_user_verify(kjs_store *s, const char *name, const char *password,
                              char role[KJS_USER_ROLE_MAX + 1], kj_err *err);

/* Store an enrolment code of device (docs/protocol.md "Enrolment"): hash is
 * the SHA-256 of the code's secret with its domain (server/kjs_enrol.h), sealed
 * the device's token sealed with a key derived from the secret, valid until
 * expires_ms (ms since the epoch).  KJ_EDB. */
kj_code kjs_store_enrol_add(kjs_store *s, const unsigned char hash[32], const char *device,
                            const unsigned char *sealed, size_t sealed_len, int64_t expires_ms,
                            kj_err *err);
/* Whether the code of hash may be used now: KJ_OK, else KJ_EAUTH with the
 * reason for the PC ("unknown enrolment code", "... already used (DATE)",
 * "... expired (DATE)", "... of a revoked device"); KJ_EDB. */
kj_code kjs_store_enrol_check(kjs_store *s, const unsigned char hash[32], kj_err *err);
/* What a spent code gives back. */
typedef struct kjs_enrol_use {
  char device[KJ_DEVICE_MAX + 1];
  char office[KJ_ID_MAX + 1];
  unsigned char sealed[128]; /* the sealed token */
  size_t sealed_len;
  unsigned char token_hash[32]; /* the SHA-256 the tokens table holds */
} kjs_enrol_use;
/* Spend the code of hash: in one write transaction, check it as
 * kjs_store_enrol_check does, mark it used (now, by used_by: the address)
 * and clear its sealed token, and give *out.  Of two PCs racing with one
 * code exactly one gets KJ_OK; the other KJ_EAUTH "already used".  office
 * (NULL: any) is the office the PC says it is for: a code of another
 * office is KJ_EINVAL, naming both (out->office the code's), and is NOT
 * spent (a PC set up with the wrong --office keeps the code usable). */
kj_code kjs_store_enrol_use(kjs_store *s, const unsigned char hash[32], const char *used_by,
                            const char *office, kjs_enrol_use *out, kj_err *err);

/* Every live (not deleted) record of type, of office when office is not
 * NULL (the record's office; for offices their own code), in the order
 * they were stored: fn gets each state's JSON (kj_rstate_from_json) and
 * returns non-zero to stop.  A reader: never waits for writers.  KJ_EDB. */
kj_code kjs_store_each_state(kjs_store *s, kj_rtype type, const char *office,
                             int (*fn)(void *ud, const char *state), void *ud, kj_err *err);

/* --- merging changes ---------------------------------------------------- */

/* KJS_RETRY: refused for now, nothing stored, not even the result (a
 * stamp beyond kjs_item.stamp_max); the push answers it rejected with
 * "retry": true.
 * KJS_REUSED: the device's (incarnation, seq) holds another change (its
 * digest differs): nothing applied, nothing stored.
 * KJS_MISSING: a device's edit or delete of a record the server does not
 * hold (restored away): nothing applied, nothing stored, sent again later. */
typedef enum {
  KJS_APPLIED,
  KJS_DUPLICATE,
  KJS_REJECTED,
  KJS_RETRY,
  KJS_REUSED,
  KJS_MISSING
} kjs_status;
const char *kjs_status_name(kjs_status st);

/* One change of a push or an import row.  The caller fills ch (decoded and
 * ch.device set) or, when decoding failed, decoded = 0 and error. */
typedef struct kjs_item {
  int decoded;
  kj_change ch;
  int64_t seq;       /* the device's sequence (push), -1 when unknown */
  int track;         /* 1: exactly once through the applied table */
  const char *label; /* "changes[3]" or "FILE:LINE": prefixes errors */
  int label_only;    /* errors say "LABEL: msg", not "LABEL (id X): msg" */
  int diff_only;     /* import: set only the fields whose value differs */
  /* push: a stamp above stamp_max (0 = no bound) is refused for now
   * (KJS_RETRY, docs/protocol.md "Clocks"); now_ms is the server's clock
   * the bound was taken from, for the reason's wording */
  kj_hlc stamp_max;
  uint64_t now_ms;
  int has_digest; /* push: digest holds kj_change_digest of the change as sent */
  unsigned char digest[KJ_CHANGE_DIGEST_LEN];
  /* push: kj_change_body_json of ch as sent (NUL-terminated, the caller's:
   * the tail of its digest text, kj_change_digest_text), kept as the
   * history row's body; NULL: kjs_txn_apply writes it */
  const char *body;
  /* out */
  kjs_status status;
  int replayed;  /* the answer came from the applied table */
  int created;   /* KJS_APPLIED: the record was not held before (new) */
  int conflicts; /* values logged as conflicts */
  char error[KJ_ERR_MSG_MAX + 128];
  kj_refusal why; /* refused by a rule (why.code set): its code for the push
                     answer, kept in `applied` with the text: a replay answers
                     the same (why.code then points to why_code) */
  char why_code[KJ_REFUSAL_ARG_MAX + 1];
} kjs_item;

typedef struct kjs_txn kjs_txn;

/* A write transaction: every applied item is durable after commit. */
kj_code kjs_txn_begin(kjs_store *s, kjs_txn **out, kj_err *err);
/* Apply one item (see docs/protocol.md "Push"): scope for who (NULL = the
 * server itself, no scope), merge, validate, store, scores, conflict log.
 * A rejected item returns KJ_OK with item->status = KJS_REJECTED; an error
 * return means the database failed and the transaction must be rolled back. */
kj_code kjs_txn_apply(kjs_txn *t, const kjs_principal *who, kjs_item *item, kj_err *err);
kj_code kjs_txn_commit(kjs_txn *t, kj_err *err);
/* A stamp of the server itself (kinerjad import), into *out: after every
 * stamp stored or taken before (the server's clock, kept in the database
 * and raised by every change applied) and not below wall_ms, so a change
 * stamped here wins over everything stored and the clock never steps back
 * whatever the wall clock does.  KJ_EINVAL (nothing issued) when that stamp
 * would be more than ahead_max_ms past wall_ms: the server's clock is far
 * behind what it stored (docs/protocol.md "Clocks"). */
kj_code kjs_txn_stamp(kjs_txn *t, uint64_t wall_ms, long long ahead_max_ms, kj_hlc *out,
                      kj_err *err);
/* "2 days", "5 hours", "40 minutes", "12 seconds" for a duration in ms
 * (whole units, rounded down) into out. */
void kjs_describe_ms(uint64_t ms, char *out, size_t size);
void kjs_txn_rollback(kjs_txn *t);

/* --- imports ------------------------------------------------------------ */

/* Was a CSV file with these rows imported before?  digest is
 * kj_csv_info.digest (proto/csvio.h).  1 with *at_ms (ms since the epoch)
 * and *file (the name it was imported as; malloc'd, the caller frees; NULL
 * when unknown), 0 when never, -1 on a database error (message in err). */
int kjs_txn_import_seen(kjs_txn *t, const char *digest, int64_t *at_ms, char **file, kj_err *err);
/* Record, in t, an import of the rows of digest: the type name, the file
 * as given, how many rows were stored, and when (ms since the epoch); an
 * earlier record of the same digest is replaced (--again).  KJ_EDB or
 * another store error on failure. */
kj_code kjs_txn_import_note(kjs_txn *t, const char *digest, const char *type, const char *file,
                            long rows, int64_t at_ms, kj_err *err);

/* A survey's `service` against the services of its office stored here
 * (master type `service`; proto/record.h kj_service_resolve): one that
 * differs from a listed name only in letter case, spaces or punctuation is
 * replaced in rec by the listed name; an unknown one stays and warning
 * (size bytes) gets "field 'service': 'X' is not a service of office 'O'
 * (closest: 'Y'); stored as typed" when Y is near X (common/suggest.h
 * kj_suggest_near on the names' keys), else "... (its services: 'A', 'B');
 * stored as typed", as kinerja says it; else "".  Other types, no office
 * or no services listed: nothing.  KJ_OK, KJ_ENOMEM or a database error. */
kj_code kjs_txn_service_resolve(kjs_txn *t, kj_record *rec, char *warning, size_t size,
                                kj_err *err);

/* --- reading ------------------------------------------------------------ */

/* Record states with seq > since that who may see, in seq order, at most
 * limit: appended to out (a page begun with kj_pull_begin) for a client of
 * protocol `peer` (proto/msg.h kj_pull_add_stored: what it cannot read is
 * left out).  *next is the cursor to ask next (since when none), *more 1
 * when there are more, *count the states appended. */
kj_code kjs_store_pull(kjs_store *s, const kjs_principal *who, int64_t since, int limit,
                       int skip_own, int peer, kj_buf *out, int64_t *next, int *more, int *count,
                       kj_err *err);
/* The moved notices of a device's office with since < position <= upto
 * (the cursors of a page kjs_store_pull gave), appended with
 * kj_pull_add_moved to out, a page finished by kj_pull_end; *count of
 * them.  Nothing for other roles. */
kj_code kjs_store_pull_moved(kjs_store *s, const kjs_principal *who, int64_t since, int64_t upto,
                             kj_buf *out, int *count, kj_err *err);

/* Every applied change of record id, oldest first, as a JSON array (caller
 * deletes): {"when": local time of the record's office with WIB/WITA/WIT,
 * "at": ms, "type", "author", "device", "hlc", "change": {"f":{..}} or
 * {"del":true}}.  An empty array when the id is unknown. */
kj_code kjs_store_history(kjs_store *s, const char *id, cJSON **out, kj_err *err);
/* One applied change as kinerjad history shows it (strings valid during
 * the callback only). */
typedef struct kjs_history_view {
  char made[KJ_TIME_ZONE_STRLEN]; /* the stamp's wall time in the office's zone */
  int64_t made_at;                /* ms */
  char when[KJ_TIME_ZONE_STRLEN]; /* when the server applied it, same zone */
  int64_t at;                     /* ms */
  const char *type, *author, *device;
  char hlc[KJ_HLC_STRMAX];
  const char *change; /* {"f":{..}} or {"del":true} as stored */
} kjs_history_view;
/* The rows behind kjs_store_history, oldest first. */
kj_code kjs_store_history_rows(kjs_store *s, const char *id,
                               kj_code (*each)(void *ctx, const kjs_history_view *v), void *ctx,
                               kj_err *err);

/* One record's state as JSON text (caller frees); KJ_ENOENT when absent. */
kj_code kjs_store_get_state(kjs_store *s, kj_rtype t, const char *id, char **json, kj_err *err);

/* The conflict log keeps at most this many rows per record (the newest). */
#define KJS_CONFLICTS_PER_RECORD 64

/* The conflict log, oldest first: array of {"n","type","id","field","loser",
 * "loser_stamp","winner","winner_stamp","at"}, plus "loser_note" /
 * "winner_note" when that value was not kept ("not kept: field 'comment':
 * must be 1 to 2000 characters (158000 bytes)"; the value is then null).
 * Only values valid for their field are shown (also for rows logged before
 * the log validated them), so every string is valid UTF-8 and the array
 * prints as valid JSON with cJSON.  The caller frees *out (cJSON_Delete). */
kj_code kjs_store_conflicts(kjs_store *s, cJSON **out, kj_err *err);
/* One row of the conflict log as the listing shows it: every string valid
 * UTF-8 or NULL; a value NULL with its note when it is not kept; times in
 * the zone of the record's office ("" when the stamp has none). */
typedef struct kjs_conflict_view {
  int64_t n;
  const char *type, *id, *field;
  const char *loser, *loser_note, *winner, *winner_note;
  const char *loser_stamp, *winner_stamp;
  int64_t at;
  char when[KJ_TIME_ZONE_STRLEN];
  const char *loser_author, *winner_author;
  char loser_time[KJ_TIME_ZONE_STRLEN], winner_time[KJ_TIME_ZONE_STRLEN];
} kjs_conflict_view;
/* The rows behind kjs_store_conflicts, oldest first (strings valid during
 * the callback only). */
kj_code kjs_store_conflict_rows(kjs_store *s,
                                kj_code (*each)(void *ctx, const kjs_conflict_view *v), void *ctx,
                                kj_err *err);

/* A digest of every record (type, id, office, deleted, state; not seq):
 * equal digests mean equal records tables.  out: 64 hex chars + NUL. */
kj_code kjs_store_records_digest(kjs_store *s, char out[65], long long *nrecords, kj_err *err);

/* --- scores (delegated to the scores module) ----------------------------- */

/* /publik's services of office in period (score.h kjs_report_services_fold)
 * with the office's listed services (`kinerjad import service`), in one
 * read snapshot.  out is the caller's (kjs_service_fold_release). */
kj_code kjs_store_publik_services(kjs_store *s, const char *period, const char *office,
                                  kjs_service_fold *out, kj_err *err);

/* 1 when the scores module is built in. */
int kjs_store_has_scores(void);
/* Where the shared store stands now, for caches of what is built from it
 * (server/dash.c's report documents): *position the highest position
 * given (records and moved notices: every push, delete and move raises
 * it), epoch (size bytes) the newest epoch ("" when none: a restore
 * changes it), both read from the database, not this process's memory,
 * so another kinerjad on the same PostgreSQL changes them too.  KJ_OK,
 * or KJ_EDB with err. */
kj_code kjs_store_change_mark(kjs_store *s, int64_t *position, char *epoch, size_t size,
                              kj_err *err);
/* The report documents of domain.md; KJ_EINVAL for a bad period/date. */
kj_code kjs_store_report_offices(kjs_store *s, const char *period, const char *as_of, kj_buf *out,
                                 kj_err *err);
kj_code kjs_store_report_employees(kjs_store *s, const char *period, const char *office,
                                   kj_buf *out, kj_err *err);
/* Print a report document as "json", "csv" or "table" (the scores
 * module's formats). */
kj_code kjs_store_report_print(const char *json, const char *format, FILE *out, kj_err *err);
/* Rebuild (verify = 0) or compare (verify = 1, differences into diffs). */
kj_code kjs_store_recompute(kjs_store *s, int verify, kj_buf *diffs, kj_err *err);

/* --- restores (docs/protocol.md "Restores", docs/operations.md "Restore") -- */

/* Files beside the database (path + suffix): the mark (the epoch and the
 * highest position the last run reached, rewritten after every commit
 * that adds positions) and the token journal (one JSON line per token
 * added or revoked, appended and fsynced before the revocation is written
 * to the database, re-applied at every open). */
#define KJS_MARK_SUFFIX ".mark"
#define KJS_TOKENS_SUFFIX ".tokens"

/* What an open found (kjs_store_open_info). */
typedef struct kjs_open_info {
  int restored;  /* 1: the database is not the one the last run left */
  char why[160]; /* what told it */
  char old_epoch[KJ_INCARNATION_MAX + 1], epoch[KJ_INCARNATION_MAX + 1];
  int64_t max_seq;      /* the database's highest position */
  int64_t mark_seq;     /* the highest position the last run reached (-1 unknown) */
  long long records;    /* records in the database */
  int tokens_reapplied; /* token changes of the journal the database lacked */
} kjs_open_info;

/* What the last kjs_store_open of s found: a restore is detected when the
 * database's epoch differs from the mark's or its highest position is
 * below the mark's, or (PostgreSQL, no mark) when the database's identity
 * differs from the one the last open recorded (db.h `lineage`); the
 * database then starts a new epoch (parent: its own, base: its highest
 * position).  A detected restore is also logged. */
void kjs_store_open_info(const kjs_store *s, kjs_open_info *out);

/* The current epoch (16 hex digits) into out. */
void kjs_store_epoch(kjs_store *s, char out[KJ_INCARNATION_MAX + 1]);

/* The position a pull of a device that last saw epoch peer_epoch ("" when
 * it never saw one) at cursor since may safely start from, into *safe:
 * since when peer_epoch is the current epoch, else the lowest base of the
 * epochs between it and the current one (0 when peer_epoch is not an
 * ancestor).  A cursor past the database's highest position means the
 * database lost positions a device saw (restored without detection, the
 * file copied back while no kinerjad ran): a new epoch starts whose base,
 * and *safe, is the highest position the database had when s was opened
 * (later positions are new to every device).  KJ_EDB, KJ_EBUSY. */
kj_code kjs_store_pull_since(kjs_store *s, const char *peer_epoch, int64_t since, int64_t *safe,
                             kj_err *err);

/* The highest seq the server holds in its applied table for who's device
 * and incarnation (who->id, who->inc), 0 when none. */
kj_code kjs_store_device_high(kjs_store *s, const kjs_principal *who, int64_t *high, kj_err *err);
/* The stored result of who's device, incarnation and seq (a reader, no
 * lock): *found 1 and the row in *out, or 0.  KJ_EDB. */
kj_code kjs_store_applied_get(kjs_store *s, const kjs_principal *who, int64_t seq, int *found,
                              kjs_db_applied *out, kj_err *err);
/* The refusal of a rule a rejected row of the applied table keeps (its
 * code, field and args as the push first answered them) into *why, its
 * code copied into code (why->code points there): 1.  0, why->code NULL,
 * when the row keeps none (any other rejection, a row of a release before
 * schema 14, args this build cannot read, or no memory to read them): the
 * row's text alone is the answer, as before. */
int kjs_store_applied_refusal(const kjs_db_applied *row, kj_refusal *why,
                              char code[KJS_DB_CODE_MAX]);

/* `kinerjad restore FILE`: refuses when a kinerjad process has db_path open
 * (KJ_EBUSY: stop it first); checks FILE (integrity_check, a kinerjad
 * database of a schema this kinerjad reads); copies it beside db_path with
 * SQLite's backup API, fsyncs it, removes the old -wal and -shm and renames
 * it into place; opens it (migrating it), starts a new epoch and re-applies
 * the token journal.  *info says what was found.  KJ_EINVAL for a FILE that
 * is not a readable kinerjad database (err says why), KJ_EIO, KJ_EDB. */
kj_code kjs_store_restore(const char *db_path, const char *file, const kjs_config *cfg,
                          kjs_open_info *info, kj_err *err);

/* Counters since open (for /metrics). */
typedef struct kjs_store_stats {
  long long applied, duplicate, rejected, replayed, conflicts, commits;
  long long retry; /* refused for now: stamps too far ahead (KJS_RETRY) */
} kjs_store_stats;
void kjs_store_stats_get(kjs_store *s, kjs_store_stats *out);

/* Today in office's time zone: the office record's `timezone` (WIB, WITA
 * or WIT; common/date.h kj_zone), WIB when it has none or the office is not
 * known.  The scores sent to an office are for its current month, quarter
 * and year: at 17:30 UTC on 30 November an office in WIB is already in
 * December while a server in UTC is not.  KJ_OK with *today, or KJ_EDB /
 * KJ_EBUSY (the database could not be read; *today is then the WIB day). */
kj_code kjs_store_office_today(kjs_store *s, const char *office, kj_day *today, kj_err *err);

/* The zone of the offices' day, for the default "as of" day of a report
 * of every office (docs/scoring.md "The day of a report"): the zone of
 * every live office's `timezone` (WIB when it has none) when they all have
 * one, *mixed 0; when they differ, the westernmost of them (the smallest
 * offset: its day is the earliest any office is in, so no office is judged
 * on a day it has not begun), *mixed 1, and the report says the zone.  No
 * office: WIB.  *offset_minutes east of UTC and *abbr ("WIB", "WITA",
 * "WIT", static).  KJ_OK, or KJ_EDB / KJ_EBUSY / KJ_ENOMEM with err
 * filled (then WIB, *mixed 0). */
kj_code kjs_store_offices_zone(kjs_store *s, int *offset_minutes, const char **abbr, int *mixed,
                               kj_err *err);

/* --- what the PCs report and the dashboard's user check (issue 18) -------- */

/* Keep what device's PC reported at its pull (docs/protocol.md "What the
 * PC reports"): kinerja's version (checked by proto/msg.c), its pending
 * changes and rejected records, at_ms (ms since the epoch), replacing the
 * last report.  KJ_EDB, KJ_EBUSY. */
kj_code kjs_store_device_report_put(kjs_store *s, const char *device, const char *version,
                                    int64_t pending, int64_t rejected, int64_t at_ms, kj_err *err);
/* Every device's last report as an object device id -> {"version",
 * "pending", "rejected", "at" (ms)}; devices that never reported are not
 * in it (built in store_json.c).  The caller deletes *out.  KJ_EDB, KJ_ENOMEM. */
kj_code kjs_store_device_reports(kjs_store *s, cJSON **out, kj_err *err);
/* The same reports as rows (server/db.h's kjs_db_report), in no set order;
 * each's strings are valid during the call.  KJ_EDB. */
kj_code kjs_store_device_report_rows(kjs_store *s,
                                     kj_code (*each)(void *ctx, const kjs_db_report *r), void *ctx,
                                     kj_err *err);
/* The role of dashboard user name: KJ_OK with role filled, KJ_ENOENT when
 * there is no such user (removed), KJ_EDB. */
kj_code kjs_store_user_role(kjs_store *s, const char *name, char role[KJS_USER_ROLE_MAX + 1],
                            kj_err *err);

/* Citizens' comments of the dashboard's Kantor (issue 18): the newest max
 * (1..1000) live surveys of office dated in period whose comment is not
 * empty, newest first: each gets date (YYYY-MM-DD), service ("" when none)
 * and comment, valid during the call; a non-zero return stops the read and
 * is returned.  One query on office's rows (server/db.h survey_comments).
 * KJ_EINVAL for a bad period, KJ_EDB. */
kj_code kjs_store_comments(kjs_store *s, const char *office, const char *period, int max,
                           kj_code (*each)(void *ctx, const char *date, const char *service,
                                           const char *comment),
                           void *ctx, kj_err *err);

#endif
