/* store.h - the field client's local database (SQLite), the only door to it.
 *
 * store.c is the one client file that includes <sqlite3.h>: it owns the
 * schema, every SQL statement (prepared once at open, finalized at close)
 * and the translation of SQLite errors into kj_err messages.
 *
 * The database runs in WAL mode with synchronous=FULL: a write is on disk
 * when its commit returned.  Writes take the write lock up front (BEGIN
 * IMMEDIATE) and wait up to 60 s for another process, so two kinerja
 * commands at once never fail with "database is locked".
 *
 * Tables (docs/architecture.md has the full schema):
 *   meta     key/value settings and sync bookkeeping (KJC_META_* keys)
 *   records  every record, office and master data alike: (type, id) with
 *            the whole state (values + per-field stamps) as the JSON of
 *            kj_rstate_to_json
 *   outbox   local changes waiting for the server, oldest first (seq),
 *            status pending or rejected (with the server's reason)
 *   scores   report documents pulled from the server (kind, period, office)
 *   persons  who signs in at this PC: PIN hash, wrong tries, lock (schema 4;
 *            client/person.h is the door to it)
 *   reviews  approvals and rejections made here, with a rejection's reason
 *
 * Transactions: kjc_store_begin .. kjc_store_commit (or _rollback) span any
 * number of writes.  A write function called outside of a transaction runs
 * in a transaction of its own.  The HLC clock is loaded from meta at begin
 * and saved with the commit, so stamps stay monotonic across processes.
 */
#ifndef KJC_STORE_H
#define KJC_STORE_H

#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "hlc.h"
#include "record.h"
#include "wire.h"

#define KJC_SCHEMA_VERSION 5
#define KJC_APPLICATION_ID 0x4b4a4442 /* "KJDB" in PRAGMA application_id */

/* meta keys.  Times are ms since the epoch in decimal text. */
#define KJC_META_OFFICE "office"                /* office code, set by init */
#define KJC_META_DEVICE "device"                /* device id stamped on local changes */
#define KJC_META_SERVER "server"                /* https:// URL */
#define KJC_META_TOKEN "token"                  /* device token (a secret: never log it) */
#define KJC_META_CA "ca"                        /* absolute path of the pinned CA file */
#define KJC_META_CA_PEM "ca_pem"                /* its contents when it was set */
#define KJC_META_HLC_LAST "hlc_last"            /* last HLC stamp issued (decimal) */
#define KJC_META_CLOCK_OFFSET "clock_offset_ms" /* server time - local time */
#define KJC_META_PULL_CURSOR "pull_cursor"      /* opaque, from the server */
#define KJC_META_SYNC_STATE "sync_state"        /* never | ok | offline | error */
#define KJC_META_LAST_SYNC "last_sync_ms"       /* last fully successful sync */
#define KJC_META_LAST_PUSH "last_push_ms"
#define KJC_META_LAST_PULL "last_pull_ms"
#define KJC_META_LAST_ATTEMPT "last_attempt_ms"
#define KJC_META_LAST_ERROR "last_error" /* text of the last sync error */
/* The newest protocol the server speaks (its hello's protocol_max); absent
 * until the first hello of this program, then changes that need a newer
 * protocol are held in the outbox (docs/protocol.md "Versions"). */
#define KJC_META_SERVER_PROTOCOL "server_protocol"
/* The pushes the server takes pipelined on one connection (hello's
 * limits.max_pipeline; "0" when it said none: stop-and-wait; absent: ask
 * with the next sync's hello). */
#define KJC_META_SERVER_PIPELINE "server_pipeline"
/* The content coding the server's hello named for bodies: kj_zst_coding()
 * of common/zst.h (zstd with the shared dictionary) or "gzip"; absent or
 * "" (forgotten after a 415): ask with the next sync's hello. */
#define KJC_META_SERVER_CODING "server_coding"
/* The protocol the pull cursor was advanced under (client/sync.c). */
#define KJC_META_PULL_PROTOCOL "pull_protocol"
/* Restores (docs/protocol.md "Restores"): the incarnation of this database
 * ("" or absent: the first; a new one when the server holds seqs of this
 * device that this database never wrote), the server's epoch as last seen,
 * and "1" while a pull must not skip this device's own records (after a new
 * incarnation: the records pushed from the restored or copied database's
 * other life come back). */
#define KJC_META_INCARNATION "incarnation"
#define KJC_META_SERVER_EPOCH "server_epoch"
#define KJC_META_PULL_FULL "pull_full"
/* The pipelined batches a cut left without their answers (client/sync.c,
 * docs/protocol.md "Batches cut in flight"): the incarnation on the first
 * line, then one line per batch of seq runs "A-B,C-D"; "" or absent when
 * none.  The next push asks the server which of them it applied. */
#define KJC_META_PUSH_CUT "push_cut"
/* Acknowledged changes are kept this long in the table `sent`, to send
 * again when the server was restored from a backup. */
#define KJC_SENT_KEEP_DAYS 60

typedef struct kjc_store kjc_store;

enum {
  KJC_OPEN_READ = 0,  /* read-only use: show, list, export, status */
  KJC_OPEN_WRITE = 1, /* refuse a read-only database with a clear message */
};

/* Create a new database at path for office (refuses an existing file, never
 * needs the network).  A new device id ("dev-" + UUID) is generated; the
 * sync engine may replace it (KJC_META_DEVICE) with the server's name. */
kj_code kjc_store_create(const char *path, const char *office, kj_err *err);

/* Open an existing database.  Errors (err says which):
 *   KJ_ENOENT   "no database at 'x': run 'kinerja init --office CODE'"
 *   KJ_EDB      "'x' is not a kinerja database"
 *   KJ_EVERSION "database 'x' has schema version N, newer than this kinerja (M): upgrade kinerja"
 *   KJ_EIO      "database 'x' is read-only: ..." (with KJC_OPEN_WRITE)
 * An older schema is migrated, one transaction per version step. */
kj_code kjc_store_open(kjc_store **out, const char *path, int flags, kj_err *err);
void kjc_store_close(kjc_store *s); /* NULL is fine; rolls back an open transaction */
const char *kjc_store_path(const kjc_store *s);

/* Transactions.  begin = BEGIN IMMEDIATE (waits for other writers);
 * commit fails with KJ_EFULL on a full disk, and then nothing was written. */
kj_code kjc_store_begin(kjc_store *s, kj_err *err);
kj_code kjc_store_commit(kjc_store *s, kj_err *err);
void kjc_store_rollback(kjc_store *s);
int kjc_store_in_txn(const kjc_store *s);

/* A number that changes when another connection (process) commits to the
 * database (PRAGMA data_version): poll it cheaply to notice local changes
 * made by other kinerja commands.  -1 on error. */
int64_t kjc_store_data_version(kjc_store *s);

/* Bound SQLite's page cache of this connection to KIB kibibytes (the
 * default of an opened store is 12 MiB, sized for big imports).  A sync
 * reads the outbox once from end to end, so a big cache buys it nothing
 * but resident memory. */
kj_code kjc_store_cache_limit(kjc_store *s, int kib, kj_err *err);

/* The office and device of this database (loaded at open). */
const char *kjc_store_office(const kjc_store *s);
const char *kjc_store_device(const kjc_store *s);

/* ---- meta ---- */
/* *out gets a malloc'd copy (caller frees) or NULL when the key is unset. */
kj_code kjc_meta_get(kjc_store *s, const char *key, char **out, kj_err *err);
/* value NULL deletes the key. */
kj_code kjc_meta_set(kjc_store *s, const char *key, const char *value, kj_err *err);
kj_code kjc_meta_get_i64(kjc_store *s, const char *key, int64_t dflt, int64_t *out, kj_err *err);
kj_code kjc_meta_set_i64(kjc_store *s, const char *key, int64_t value, kj_err *err);

/* ---- clock ---- */
/* The HLC clock of this database.  Inside a write transaction it holds the
 * persisted last stamp and offset (loaded at begin); changes to it (tick,
 * recv, offset_ms) are saved by kjc_store_commit.  Outside a transaction
 * it is the value at open / last commit. */
kj_hlc_clock *kjc_store_clock(kjc_store *s);
/* Set the offset (server time - local time, ms) and persist it. */
kj_code kjc_store_set_clock_offset(kjc_store *s, int64_t offset_ms, kj_err *err);

/* ---- records ---- */
/* Find the live or deleted record id.  want = KJ_T_NONE finds an office
 * record (survey ... target) of any type; a master type finds that type.
 * KJ_ENOENT when there is none.  out is initialised by the call (release it). */
kj_code kjc_record_get(kjc_store *s, kj_rtype want, const char *id, kj_rstate *out, kj_err *err);

/* *exists = 1 when a live record (type, id) exists, else 0: KJ_OK, or
 * KJ_EDB (no message) on a database error. */
kj_code kjc_record_exists(kjc_store *s, kj_rtype t, const char *id, int *exists);
/* Number of live records of t (master data present?), -1 on error. */
long kjc_record_count(kjc_store *s, kj_rtype t);

enum {
  KJC_CHANGE_DIFF = 1,        /* drop from the mask fields whose value is unchanged
                                 (for a new record: the absent ones) */
  KJC_CHANGE_NEW = 2,         /* fail with KJ_EEXIST when the record exists */
  KJC_CHANGE_EXISTING = 4,    /* fail with KJ_ENOENT when it does not */
  KJC_CHANGE_NAME_RECORD = 8, /* a validation failure says "record 'ID': field ..."
                                 (without it "field ...": the caller names the row) */
};
enum {
  KJC_WRITE_NOCHANGE = 0,
  KJC_WRITE_CREATED = 1,
  KJC_WRITE_UPDATED = 2,
  KJC_WRITE_DELETED = 3
};

/* A local write: stamp c (hlc from the clock, this device), merge it into
 * the record's state (kj_merge_apply), check the result with
 * kj_record_validate, store the state and append c to the outbox, all in the
 * current transaction (or one of its own).  c->rec.type and id must be set;
 * c->mask names the fields set or cleared; c->rec.deleted = 1 is a delete.
 * A record with rejected outbox rows is queued again in full: its rejected
 * rows are dropped and the change carries every field.
 * Errors: KJ_ENOENT (update/delete of no record), KJ_EINVAL (invalid result,
 * deleted record, type mismatch; err says which field), KJ_EFULL, KJ_EDB.
 * *result (may be NULL) gets KJC_WRITE_*.  On success c holds the seq, hlc
 * and device written. */
kj_code kjc_store_write(kjc_store *s, kj_change *c, unsigned flags, int *result, kj_err *err);

/* Merge a pulled state into the local one with kj_merge_join, store it,
 * create no outbox row.  Call inside kjc_store_begin/commit to span a page.
 * *changed (may be NULL) gets 1 when the local state changed. */
kj_code kjc_store_apply_remote(kjc_store *s, const kj_rstate *remote, int *changed, kj_err *err);

/* The sync engine's pull (added by the sync engine, issue 5): when the
 * record has no pending or rejected outbox rows, the server's state already
 * holds every local change of it, with the stamps the server stored, so
 * the pulled state replaces the local one; otherwise it merges like
 * kjc_store_apply_remote. */
kj_code kjc_store_adopt_remote(kjc_store *s, const kj_rstate *remote, int *changed, kj_err *err);

enum {
  KJC_EACH_PENDING = 1,  /* only records with pending outbox rows */
  KJC_EACH_REJECTED = 2, /* only records with rejected outbox rows */
  KJC_EACH_DELETED = 4,  /* include tombstones */
};
/* Call fn for each record of type t, ordered by id.  reason is the
 * server's latest rejection reason, or NULL.  fn returns non-zero to stop. */
typedef int (*kjc_each_fn)(void *ud, const kj_rstate *st, const char *reason);
kj_code kjc_store_each(kjc_store *s, kj_rtype t, unsigned flags, kjc_each_fn fn, void *ud,
                       kj_err *err);
/* How many of the record's pending outbox rows are held for a newer server
 * (0 also on a database error: display only). */
int kjc_record_held(kjc_store *s, const char *id);
/* The pending/rejected status of one record: counts of its outbox rows and
 * the latest rejection reason (malloc'd, caller frees; NULL when none). */
kj_code kjc_record_outbox(kjc_store *s, const char *id, int *pending, int *rejected, char **reason,
                          kj_err *err);

/* ---- outbox ---- */
/* Every outbox row keeps the protocol version its change needs
 * (proto/msg.h kj_change_needs).  A pending change whose version is above
 * the server's (KJC_META_SERVER_PROTOCOL) is "held": it waits for the
 * upgraded server, and neither a batch nor the pending count includes it.
 *
 * Up to max oldest pending changes the server can take, in seq order, into
 * out[0..*n-1] (each initialised by the call: kj_change_release each). */
kj_code kjc_outbox_batch(kjc_store *s, int max, kj_change *out, int *n, kj_err *err);
/* The same for the pending changes with a seq above `after` only: the next
 * batch while the earlier ones are still in flight (a pipelined push). */
kj_code kjc_outbox_batch_after(kjc_store *s, int64_t after, int max, kj_change *out, int *n,
                               kj_err *err);
/* The same batch for a server of protocol 2 or later, without decoding
 * the changes: each row's stored change goes into body as the push
 * carries it (kj_push_wire_change of proto/msg.h: after
 * kj_push_wire_open, before kj_push_wire_close; the text
 * kj_push_encode_inc gives for the decoded changes), and out[i] gets only
 * its head: seq, type, id, hlc, deleted, needs and this device (no field
 * values, mask 0, author "": what the answer's handling needs; release
 * each).  A row that is not a JSON object is KJ_EDB ("damaged"), body
 * then as it was. */
kj_code kjc_outbox_batch_wire(kjc_store *s, int64_t after, int max, kj_change *out, int *n,
                              kj_buf *body, kj_err *err);
/* The server took these (applied or duplicate): keep them in `sent` and
 * delete them from the outbox, by runs of consecutive seqs (one statement
 * each, not one per row). */
kj_code kjc_outbox_ack(kjc_store *s, const int64_t *seqs, int n, kj_err *err);
/* The server could not take seq because it speaks an older protocol than
 * the change needs (a server rolled back): the change goes back to the
 * outbox under a new seq (the old one is in the server's exactly-once
 * table with that refusal), held until the server speaks its protocol. */
kj_code kjc_outbox_requeue(kjc_store *s, int64_t seq, kj_err *err);
/* The server refused seq: keep it as rejected with the reason. */
kj_code kjc_outbox_reject(kjc_store *s, int64_t seq, const char *reason, kj_err *err);

/* The largest seq in the outbox (pending or rejected), 0 when empty.  A
 * change written later gets a larger seq. */
kj_code kjc_outbox_max_seq(kjc_store *s, int64_t *out, kj_err *err);

/* Stamp again the pending changes a server refused for now because their
 * stamps are too far ahead of its clock (docs/protocol.md "Clocks"): every
 * pending change stamped at or above `from`, in seq order, gets a stamp
 * after everything else this database holds (every stamp of every record
 * state and of the other outbox rows: what this PC has seen): the time it
 * was made when its created_ms plus the offset measured now is not in the
 * future (the clock had the error it has now), else just after that; and
 * the record states carry the new stamps where they carried the old ones;
 * the clock (kjc_store_clock) restarts from the last new stamp.  So the
 * change still wins over what was read before it was made, and loses to
 * anything newer it never saw.  *n: the changes stamped again; 0 (nothing
 * changed) when that would not lower their stamps.  Joins the caller's
 * transaction or runs its own. */
kj_code kjc_outbox_restamp(kjc_store *s, kj_hlc from, long *n, kj_err *err);

/* A moved notice (docs/protocol.md "Moved records"): the record left this
 * office, drop its local state (no change is made; its outbox rows stay,
 * for the server to answer).  *dropped 1 when there was one.  Joins the
 * caller's transaction or runs its own. */
kj_code kjc_store_forget(kjc_store *s, kj_rtype type, const char *id, int *dropped, kj_err *err);
/* The highest seq this database ever gave a change (its AUTOINCREMENT
 * counter; seqs are never reused), 0 when none. */
kj_code kjc_outbox_top(kjc_store *s, int64_t *out, kj_err *err);
/* Every acknowledged change kept in `sent` back into the outbox as pending,
 * with its seq (a restored server lacks them); *n gets the count. */
kj_code kjc_outbox_resend_sent(kjc_store *s, int64_t *n, kj_err *err);
/* The server answered `missing` (it does not hold the record this change
 * edits: restored): keep seq as rejected with the reason, and parked, so
 * that kjc_outbox_unpark (at the start of every sync) sends it again. */
kj_code kjc_outbox_park(kjc_store *s, int64_t seq, const char *reason, kj_err *err);
kj_code kjc_outbox_unpark(kjc_store *s, kj_err *err);
/* A server restored from a backup may lack what this PC wrote, also when
 * its sent log no longer has it (the PC was restored itself): what this
 * device wrote in every record of its office goes to the outbox again as
 * the changes that rebuild it, one per distinct stamp of this device plus
 * its delete, each with its original hlc (merging one the server has
 * changes nothing; docs/protocol.md "Restores").  *n: the changes queued. */
kj_code kjc_outbox_rederive(kjc_store *s, long *n, kj_err *err);
/* Forget acknowledged changes acknowledged before before_ms. */
kj_code kjc_outbox_prune_sent(kjc_store *s, int64_t before_ms, kj_err *err);

typedef struct kjc_outbox_stats {
  long pending;              /* to send to the server */
  long held;                 /* waiting for a server of a newer protocol */
  long rejected;             /* records (type, id) with rejected rows: what list --rejected shows */
  int64_t oldest_pending_ms; /* creation time of the oldest pending change, 0 when none */
} kjc_outbox_stats;
kj_code kjc_outbox_stats_get(kjc_store *s, kjc_outbox_stats *out, kj_err *err);
/* Now in ms since the epoch by the server's clock: the PC's wall clock plus
 * the offset measured against the server (docs/protocol.md "Clocks"). */
int64_t kjc_store_now_ms(kjc_store *s);
/* The server's protocol as last seen (KJ_PROTOCOL_MAX until known). */
int kjc_server_protocol(kjc_store *s);

/* ---- discarding local changes (kinerja discard; docs/protocol.md
 * "Discarding local changes") ----
 * While a record has outbox rows, records.base keeps the server's version
 * of it: its state before the first of them was written (pulled or
 * acknowledged; '' for a record new here), then every pulled state of it
 * joined (kj_merge_join) and every acknowledged change of it merged in
 * (kj_merge_apply, as the server did).  Schema 3 databases did not keep it,
 * and a restore queues rows without a write: their waiting records have it
 * "not known". */
enum {
  KJC_DISCARD_NOTHING = 0,  /* no outbox row: nothing changed */
  KJC_DISCARD_RESTORED = 1, /* state is the server's version again */
  KJC_DISCARD_REMOVED = 2,  /* the server never had it: gone here */
  KJC_DISCARD_REFETCH = 3,  /* not known: gone here, the next sync pulls everything again */
  KJC_DISCARD_ORPHAN = 4,   /* no local state (moved to another office): its rows dropped */
};
typedef struct kjc_discard {
  int what;      /* KJC_DISCARD_* */
  kj_rtype type; /* the record's type (KJ_T_NONE when unknown) */
  int pending;   /* outbox rows dropped, by status */
  int rejected;
  int deleted; /* RESTORED: the server's version is deleted */
} kjc_discard;
/* Drop every outbox row (pending, held, rejected) of the office record id
 * and put the server's version back (see above).  KJ_ENOENT ("no record
 * 'ID' at this office") when neither a record nor outbox rows have that
 * id.  Joins the caller's transaction or runs its own. */
kj_code kjc_store_discard(kjc_store *s, const char *id, kjc_discard *out, kj_err *err);

/* The records of type t with rejected outbox rows but no local state (a
 * moved notice dropped it), ordered by id; reason is the latest
 * rejection.  fn returns non-zero to stop (then KJ_EINTR). */
typedef int (*kjc_orphan_fn)(void *ud, kj_rtype t, const char *id, const char *reason);
kj_code kjc_outbox_orphans(kjc_store *s, kj_rtype t, kjc_orphan_fn fn, void *ud, kj_err *err);

/* ---- scores (report documents pulled from the server) ---- */
/* kind e.g. "offices" or "employees"; office may be "" for all offices. */
kj_code kjc_scores_put(kjc_store *s, const char *kind, const char *period, const char *office,
                       const char *json, kj_err *err);
/* period NULL: the most recently stored document of that kind and office.
 * *out (malloc'd) is NULL when there is none; *period_out (may be NULL)
 * gets the period's malloc'd text. */
kj_code kjc_scores_get(kjc_store *s, const char *kind, const char *period, const char *office,
                       char **out, char **period_out, kj_err *err);

/* ---- persons (schema 4; client/person.h builds sign-in on these) ---- */
typedef struct kjc_person_row {
  char nip[KJ_ID_MAX + 1];
  char *pin_hash;          /* Argon2id encoded (common/passhash.h), NULL = no PIN yet; owned */
  int failures;            /* wrong PINs or codes since the last success or lock */
  int64_t locked_until_ms; /* ms since the epoch (server clock), 0 = never locked */
  char *activation;        /* code_hash of the activation used to set the PIN; owned */
  int64_t set_ms;          /* when the PIN was set, 0 = never */
} kjc_person_row;
void kjc_person_row_release(kjc_person_row *p);
/* The row of nip into *out (initialised by the call; release it), *found 0
 * when there is none (out then holds only nip).  KJ_ENOMEM, KJ_EDB. */
kj_code kjc_person_get(kjc_store *s, const char *nip, kjc_person_row *out, int *found, kj_err *err);
/* Insert or replace the row of p->nip.  KJ_EFULL, KJ_EDB. */
kj_code kjc_person_put(kjc_store *s, const kjc_person_row *p, kj_err *err);

/* ---- reviews (schema 4) ---- */
/* Keep an approve/reject made at this PC: the activity id, the status
 * written, the reviewer's nip, the reason (NULL = none given; domain.md's
 * activity has no field for it, so it never leaves this PC) and when (ms).
 * Joins the caller's transaction.  KJ_EFULL, KJ_EDB. */
kj_code kjc_review_note(kjc_store *s, const char *id, const char *status, const char *reviewer,
                        const char *reason, int64_t at_ms, kj_err *err);
/* The latest review of id made here as one line ("rejected by NIP at this
 * PC: REASON") into *text (malloc'd; NULL when none).  KJ_ENOMEM, KJ_EDB. */
kj_code kjc_review_last(kjc_store *s, const char *id, char **text, kj_err *err);

#endif
