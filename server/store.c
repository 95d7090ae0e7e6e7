/* store.c - the merge transaction and the rules around it, over db.h.
 *
 * No SQL here: every read and write of the database goes through the
 * kjs_db_ops table of the store's database (server/db_sqlite.c or
 * server/db_pg.c); this file keeps the logic: merge, validation, rules,
 * exactly once, the server's clock, the conflict log's values, restores and
 * the scores' upkeep (through score_store.h).
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

#include <cJSON.h>
#include <mbedtls/sha256.h>

#include "date.h"
#include "db.h"
#include "hlc.h"
#include "log.h"
#include "merge.h"
#include "msg.h"
#include "passhash.h"
#include "plat.h"
#include "rules.h"

#include "score.h"
#include "suggest.h"
#include "uuid.h"

struct kjs_store {
  char *path; /* the database file, or the postgresql:// URL */
  char *side; /* where the mark and the token journal go (path + suffix); NULL: none */
  const kjs_db_ops *ops;
  kjs_db *db;
  pthread_mutex_t wmu; /* one writer of this process at a time */
  kjs_score_config scfg;
  _Atomic long long applied, duplicate, rejected, replayed, conflicts, commits, retry;
  /* restores */
  int mark_fd;                        /* KJS_MARK_SUFFIX, shared flock; -1 */
  pthread_mutex_t emu;                /* epoch */
  char epoch[KJ_INCARNATION_MAX + 1]; /* current */
  kjs_open_info info;                 /* what the open found */
};

static kj_code restore_check(kjs_store *s, kjs_dbc *c, int forced, kj_err *err);
static void mark_write(kjs_store *s, int64_t seq);
static kj_code journal_append(kjs_store *s, cJSON *line, kj_err *err);

static kjs_dbc *acquire(kjs_store *s, kj_err *err) {
  return s->ops->acquire(s->db, err);
}

static void release(kjs_store *s, kjs_dbc *c) {
  if (c)
    s->ops->release(s->db, c);
}

/* err's code, or KJ_EDB when a failure left none. */
static kj_code code_of(const kj_err *err, kj_code dflt) {
  return err && err->code ? err->code : dflt;
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

typedef struct seed_ctx {
  kj_hlc max;
  kj_err *err;
} seed_ctx;

static kj_code seed_each(void *ud, const kjs_db_rec *r) {
  seed_ctx *x = ud;
  cJSON *o = cJSON_Parse(r->state ? r->state : "");
  kj_rstate rs;
  kj_err e;
  kj_err_clear(&e);
  kj_code d = o ? kj_rstate_from_json(o, &rs, &e) : KJ_EPROTO;
  cJSON_Delete(o);
  if (d == KJ_OK) {
    kj_hlc h = state_max_hlc(&rs);
    if (h > x->max)
      x->max = h;
    kj_rstate_release(&rs);
  } else if (d != KJ_EVERSION) {
    return kj_fail(x->err, KJ_EDB, "stored state of '%s' is corrupt: %s", r->id,
                   o ? e.msg : "bad JSON");
  }
  return KJ_OK;
}

/* When the clock table has no row (a database of an older release, or a
 * new one), store the highest stamp of every record: the server's clock
 * starts after everything stored.  In one write transaction. */
static kj_code clock_seed(kjs_store *s, kjs_dbc *c, kj_err *err) {
  kj_code rc = s->ops->begin(c, 1, err);
  if (rc)
    return rc;
  int found = 0;
  int64_t h = 0;
  seed_ctx x = {0, err};
  if (!(rc = s->ops->clock_get(c, &found, &h, err)) && !found &&
      !(rc = s->ops->records_scan(c, NULL, NULL, 0, 0, seed_each, &x, err)))
    rc = s->ops->clock_put(c, (int64_t)x.max, err);
  if (!rc)
    return s->ops->commit(c, err);
  s->ops->rollback(c);
  return rc;
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
  s->ops = &kjs_db_sqlite_ops;
  pthread_mutex_init(&s->emu, NULL);
  pthread_mutex_init(&s->wmu, NULL);
  kjs_score_config_defaults(&s->scfg);
  kj_code rc = KJ_OK;
  if (kjs_db_is_pg(path)) {
#ifdef KJS_HAVE_PG
    s->ops = &kjs_db_pg_ops;
#else
    rc = kj_fail(err, KJ_EINVAL,
                 "this kinerjad was built without PostgreSQL (libpq): cannot open '%s'", path);
    kjs_store_close(s);
    return rc;
#endif
  }
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
  /* the mark and the token journal beside a database file; PostgreSQL has
   * its own backups, and several instances share one lineage there */
  if (s->ops->local_file && !(s->side = strdup(path))) {
    kjs_store_close(s);
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  if ((rc = s->ops->open(path, create, &s->db, err))) {
    kjs_store_close(s);
    return rc;
  }
  kjs_dbc *c = acquire(s, err);
  if (!c || (rc = clock_seed(s, c, err)) || (rc = restore_check(s, c, forced, err))) {
    rc = rc ? rc : code_of(err, KJ_EDB);
    release(s, c);
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
  if (s->db)
    s->ops->close(s->db);
  pthread_mutex_destroy(&s->wmu);
  pthread_mutex_destroy(&s->emu);
  if (s->mark_fd >= 0)
    close(s->mark_fd);
  kjs_score_config_release(&s->scfg);
  free(s->side);
  free(s->path);
  free(s);
}

const char *kjs_store_backend(const kjs_store *s) {
  return s->ops->name;
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

kj_code kjs_store_token_add(kjs_store *s, kjs_role role, const char *id, const char *office,
                            const char *name, const unsigned char hash[32], kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kjs_db_token t = {.id = id,
                    .role = kjs_role_name(role),
                    .office = office,
                    .name = name,
                    .created = (int64_t)kj_wall_ms()};
  memcpy(t.hash, hash, 32);
  t.hash_len = 32;
  kj_code rc = s->ops->token_add(c, &t, 0, NULL, err);
  release(s, c);
  if (rc == KJ_EEXIST)
    return kj_fail(err, KJ_EEXIST, "token id '%s' already exists", id);
  if (rc)
    return rc;
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
  return KJ_OK;
}

/* Note that a live token was used now (`kinerjad token list`'s last seen):
 * written at most once a minute per token, so a busy device costs one small
 * write a minute; a failure (the database busy) only leaves it older. */
#define TOKEN_SEEN_EVERY_MS 60000
static void token_seen(kjs_store *s, kjs_dbc *c, const unsigned char hash[32], int64_t seen) {
  int64_t now = (int64_t)kj_wall_ms();
  if (seen && now - seen < TOKEN_SEEN_EVERY_MS && now >= seen)
    return;
  kj_err e;
  kj_err_clear(&e);
  if (s->ops->token_seen(c, hash, now, &e))
    KJ_DEBUG("%s", e.msg);
}

kj_code kjs_store_token_lookup(kjs_store *s, const unsigned char hash[32], kjs_principal *who,
                               kjs_token_state *state, kj_err *err) {
  *state = KJS_TOKEN_UNKNOWN;
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  int found = 0;
  kjs_db_token t;
  kj_code rc = s->ops->token_get(c, hash, &found, &t, err);
  int64_t seen = 0;
  if (!rc && found) {
    unsigned diff = t.hash_len == 32 ? 0 : 1;
    for (int i = 0; i < 32 && t.hash_len == 32; i++)
      diff |= (unsigned)(t.hash[i] ^ hash[i]); /* constant time */
    kjs_role role;
    int known = kjs_role_parse(t.role, &role) == KJ_OK;
    if (!diff && known && t.has_revoked) {
      *state = KJS_TOKEN_REVOKED;
    } else if (!diff && known) {
      memset(who, 0, sizeof *who);
      who->role = role;
      snprintf(who->id, sizeof who->id, "%s", t.id);
      snprintf(who->office, sizeof who->office, "%s", t.office ? t.office : "");
      *state = KJS_TOKEN_LIVE;
      seen = t.has_last_seen ? t.last_seen : 0;
    }
  }
  if (*state == KJS_TOKEN_LIVE)
    token_seen(s, c, hash, seen);
  release(s, c);
  return rc;
}

kj_code kjs_store_token_revoke(kjs_store *s, const char *id, kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  int64_t at = (int64_t)kj_wall_ms();
  int known = 0, changed = 0;
  kj_code rc = s->ops->token_exists(c, id, &known, err);
  if (!rc && known) {
    /* first where a restore of the database cannot undo it */
    cJSON *j = cJSON_CreateObject();
    if (j) {
      cJSON_AddStringToObject(j, "op", "revoke");
      cJSON_AddStringToObject(j, "id", id);
      cJSON_AddNumberToObject(j, "at", (double)at);
    }
    rc = journal_append(s, j, err);
  }
  if (!rc)
    rc = s->ops->token_revoke(c, id, at, &changed, err);
  if (!rc && !changed) {
    if (known)
      rc = kj_fail(err, KJ_EEXIST, "'%s' is already revoked", id);
    else
      rc = kj_fail(err, KJ_ENOENT, "no device or token '%s'", id);
  }
  release(s, c);
  return rc;
}

kj_code kjs_store_tokens(kjs_store *s, int devices_only,
                         kj_code (*each)(void *ctx, const kjs_db_token *t), void *ctx,
                         kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kj_code rc = s->ops->token_list(c, devices_only, (int64_t)kj_wall_ms(), each, ctx, err);
  release(s, c);
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

/* Rows of the applied and history tables a transaction holds and writes
 * together (flush_held: db.h applied_put_many, history_put_many), at most
 * HELD_MAX of each; their strings are copied into kjs_txn.held, named by
 * offset. */
#define HELD_MAX 512
typedef struct held_applied {
  size_t device, inc, error; /* error: (size_t)-1 when none */
  size_t code, field, args;  /* a rule's refusal: code (size_t)-1 when none */
  int64_t seq;
  const char *status; /* kjs_status_name's */
  unsigned char digest[KJ_CHANGE_DIGEST_LEN];
  size_t digest_len;
} held_applied;
typedef struct held_history {
  const char *type; /* the type table's */
  size_t id, device, author, change;
  int64_t hlc, at;
} held_history;

typedef struct saved_conflict {
  char *field, *loser, *winner;
  char *loser_note, *winner_note; /* why the value is not kept, NULL when it is */
  char loser_st[KJ_HLC_STRMAX + KJ_DEVICE_MAX + 2];
  char winner_st[KJ_HLC_STRMAX + KJ_DEVICE_MAX + 2];
} saved_conflict;

struct kjs_txn {
  kjs_store *s;
  const kjs_db_ops *ops;
  kjs_dbc *c;
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
  /* exactly once without a lookup per item: the highest seq of the applied
   * table for (ah_dev, ah_inc), read once a transaction (applied_high) and
   * raised by every row this transaction puts; a seq above it was never
   * seen.  ah_known 0: not read yet. */
  int ah_known;
  int64_t ah_high;
  char ah_dev[KJ_DEVICE_MAX + 1];
  char ah_inc[KJ_INCARNATION_MAX + 1];
  /* applied and history rows not written yet (flush_held): written before
   * the applied table is read and at commit, so nothing reads around them;
   * a statement per row cost a third of the row (HELD_MAX above) */
  kj_buf held; /* their strings, NUL-terminated */
  held_applied ha[HELD_MAX];
  held_history hh[HELD_MAX];
  int nha, nhh;
};

/* Write the held rows (the history's in the order held) and forget them.
 * KJ_OK or the store's error. */
static kj_code flush_held(kjs_txn *t, kj_err *err) {
  kj_code rc = KJ_OK;
  const char *b = t->held.data;
  if (t->nhh) {
    kjs_db_history rows[HELD_MAX];
    for (int i = 0; i < t->nhh; i++) {
      const held_history *h = &t->hh[i];
      rows[i] = (kjs_db_history){h->type, b + h->id,     b + h->device, b + h->author,
                                 h->hlc,  b + h->change, h->at,         NULL};
    }
    rc = t->ops->history_put_many(t->c, rows, t->nhh, err);
  }
  if (!rc && t->nha) {
    kjs_db_applied_row rows[HELD_MAX];
    for (int i = 0; i < t->nha; i++) {
      const held_applied *a = &t->ha[i];
      rows[i] = (kjs_db_applied_row){b + a->device,
                                     b + a->inc,
                                     a->seq,
                                     a->status,
                                     a->error == (size_t)-1 ? NULL : b + a->error,
                                     a->digest_len ? a->digest : NULL,
                                     a->digest_len,
                                     a->code == (size_t)-1 ? NULL : b + a->code,
                                     a->code == (size_t)-1 ? NULL : b + a->field,
                                     a->code == (size_t)-1 ? NULL : b + a->args};
    }
    rc = t->ops->applied_put_many(t->c, rows, t->nha, err);
  }
  t->nha = t->nhh = 0;
  kj_buf_reset(&t->held);
  return rc;
}

/* s copied into t->held at *off; KJ_ENOMEM. */
static kj_code hold_str(kjs_txn *t, const char *s, size_t *off) {
  *off = t->held.len;
  return kj_buf_add(&t->held, s, strlen(s) + 1) ? KJ_ENOMEM : KJ_OK;
}

/* s into out (size bytes), cut to fit: snprintf(out, size, "%s", s)
 * without the format's cost (three of them per pushed record). */
static void copy_str(char *out, size_t size, const char *s) {
  size_t n = strnlen(s, size - 1);
  memcpy(out, s, n);
  out[n] = 0;
}

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
  int found = 0;
  int64_t h = 0;
  kj_code rc = t->ops->clock_get(t->c, &found, &h, err);
  if (!rc && found)
    t->clock = t->clock_saved = (kj_hlc)h;
  return rc;
}

/* Store the server's clock when the transaction moved it. */
static kj_code clock_save(kjs_txn *t, kj_err *err) {
  if (t->clock == t->clock_saved)
    return KJ_OK;
  return t->ops->clock_put(t->c, (int64_t)t->clock, err);
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
  t->ops = s->ops;
  kj_buf_init(&t->json, KJ_BUF_UNLIMITED);
  kj_buf_init(&t->held, KJ_BUF_UNLIMITED);
  t->has_employees = -1;
  pthread_mutex_lock(&s->wmu);
  t->c = s->ops->acquire_writer(s->db, err);
  kj_code rc = KJ_OK;
  if (!t->c) {
    rc = code_of(err, KJ_EDB);
    goto fail;
  }
  if ((rc = s->ops->begin(t->c, 1, err)))
    goto fail;
  int64_t max = 0;
  if ((rc = s->ops->position_max(t->c, &max, err)) || (rc = clock_load(t, err))) {
    s->ops->rollback(t->c);
    goto fail;
  }
  t->seq = t->seq0 = max;
  *out = t;
  return KJ_OK;
fail:
  release(s, t->c);
  pthread_mutex_unlock(&s->wmu);
  kj_buf_release(&t->json);
  kj_buf_release(&t->held);
  free(t);
  return rc;
}

static void txn_free(kjs_txn *t) {
  conflicts_clear(t);
  free(t->cf);
  kj_buf_release(&t->json);
  kj_buf_release(&t->held);
  release(t->s, t->c);
  pthread_mutex_unlock(&t->s->wmu);
  free(t);
}

kj_code kjs_txn_commit(kjs_txn *t, kj_err *err) {
  kj_code rc = flush_held(t, err);
  if (!rc)
    rc = clock_save(t, err);
  if (!rc)
    rc = t->ops->commit(t->c, err);
  if (rc) {
    t->ops->rollback(t->c);
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
  t->ops->rollback(t->c);
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

/* The stored state of (type, id), locked to the end of the transaction,
 * into s (*found 0 when none). */
static kj_code load_state(kjs_txn *t, kj_rtype type, const char *id, kj_rstate *s, int *found,
                          kj_err *err) {
  *found = 0;
  char *text = NULL;
  kj_code rc = t->ops->rec_get(t->c, kj_type(type)->name, id, 1, &text, err);
  if (rc || !text)
    return rc;
  cJSON *o = cJSON_Parse(text);
  kj_err e;
  kj_err_clear(&e);
  if (!o || kj_rstate_from_json(o, s, &e) != KJ_OK)
    rc = kj_fail(err, KJ_EDB, "stored state of '%s' is corrupt: %s", id, o ? e.msg : "bad JSON");
  else
    *found = 1;
  cJSON_Delete(o);
  free(text);
  return rc;
}

/* Store state s at the next position: replacing the record (added NULL),
 * or only when there is no record (type, id) (*added says whether it went
 * in: apply_fresh). */
static kj_code put_state(kjs_txn *t, const kj_rstate *s, const char *origin, int *added,
                         kj_err *err) {
  kj_buf_reset(&t->json);
  kj_code rc = kj_rstate_json(s, &t->json, err);
  if (rc)
    return rc;
  kjs_db_rec r = {kj_type(s->rec.type)->name,
                  s->rec.id,
                  kj_record_office(&s->rec),
                  s->rec.deleted ? 1 : 0,
                  t->json.data,
                  t->json.len,
                  t->seq + 1,
                  origin};
  int in = 1;
  rc = added ? t->ops->rec_add(t->c, &r, &in, err) : t->ops->rec_put(t->c, &r, err);
  if (added)
    *added = !rc && in;
  if (!rc && in)
    t->seq++;
  /* the roster check_rules read may have changed (forgetting is always
   * safe) */
  if (s->rec.type == KJ_T_EMPLOYEE)
    t->has_employees = -1;
  if (s->rec.type == KJ_T_OFFICE)
    t->zone_office[0] = 0;
  return rc;
}

/* Log the conflicts of one applied change of record s: at most one row per
 * field (the merge reports each field once), values as conflict_value
 * keeps them, then the record's oldest rows past KJS_CONFLICTS_PER_RECORD
 * are dropped (logged as a warning), so the log of one record stays
 * bounded however often a device pushes losing values. */
static kj_code put_conflicts(kjs_txn *t, const kj_rstate *s, kj_err *err) {
  if (!t->ncf)
    return KJ_OK;
  int64_t now = (int64_t)kj_wall_ms();
  const char *type = kj_type(s->rec.type)->name;
  for (int i = 0; i < t->ncf; i++) {
    saved_conflict *k = &t->cf[i];
    kjs_db_conflict row = {.type = type,
                           .id = s->rec.id,
                           .field = k->field,
                           .loser = k->loser,
                           .loser_stamp = k->loser_st,
                           .winner = k->winner,
                           .winner_stamp = k->winner_st,
                           .at = now,
                           .loser_note = k->loser_note,
                           .winner_note = k->winner_note};
    kj_code rc = t->ops->conflict_put(t->c, &row, err);
    if (rc)
      return rc;
  }
  t->conflicts += t->ncf;
  int dropped = 0;
  kj_code rc =
      t->ops->conflict_trim(t->c, type, s->rec.id, KJS_CONFLICTS_PER_RECORD, &dropped, err);
  if (rc)
    return rc;
  if (dropped > 0)
    KJ_WARN("conflict log: %s %s has more than %d conflicts, dropped the %d oldest", type,
            s->rec.id, KJS_CONFLICTS_PER_RECORD, dropped);
  return KJ_OK;
}

/* 1 when t->ah_high is the applied high of who's device incarnation. */
static int ah_is(const kjs_txn *t, const kjs_principal *who) {
  return t->ah_known && !strcmp(t->ah_dev, who->id) && !strcmp(t->ah_inc, who->inc);
}

/* The refusal why (why->code set) held in t->held for the applied row a:
 * its code, field and args as a JSON array of strings.  KJ_ENOMEM. */
static kj_code hold_refusal(kjs_txn *t, const kj_refusal *why, held_applied *a) {
  cJSON *arr = cJSON_CreateArray();
  for (int k = 0; arr && k < why->nargs && k < KJ_REFUSAL_NARGS; k++)
    if (!cJSON_AddItemToArray(arr, cJSON_CreateString(why->args[k]))) {
      cJSON_Delete(arr);
      arr = NULL;
    }
  char *args = arr ? cJSON_PrintUnformatted(arr) : NULL;
  cJSON_Delete(arr);
  kj_code rc = !args || hold_str(t, why->code, &a->code) || hold_str(t, why->field, &a->field) ||
                       hold_str(t, args, &a->args)
                   ? KJ_ENOMEM
                   : KJ_OK;
  free(args);
  return rc;
}

static kj_code put_applied(kjs_txn *t, const kjs_principal *who, const kjs_item *it, kj_err *err) {
  if (!it->track || !who || it->seq < 0)
    return KJ_OK;
  if (t->nha == HELD_MAX) {
    kj_code rc = flush_held(t, err);
    if (rc)
      return rc;
  }
  held_applied *a = &t->ha[t->nha];
  a->seq = it->seq;
  a->status = kjs_status_name(it->status);
  a->error = a->code = (size_t)-1;
  a->digest_len = it->has_digest ? KJ_CHANGE_DIGEST_LEN : 0;
  if (a->digest_len)
    memcpy(a->digest, it->digest, KJ_CHANGE_DIGEST_LEN);
  if (hold_str(t, who->id, &a->device) || hold_str(t, who->inc, &a->inc) ||
      (it->status == KJS_REJECTED &&
       (hold_str(t, it->error, &a->error) || (it->why.code && hold_refusal(t, &it->why, a)))))
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  t->nha++;
  if (ah_is(t, who) && it->seq > t->ah_high)
    t->ah_high = it->seq;
  return KJ_OK;
}

/* *maybe = 0 when seq of who's device incarnation is above every seq of
 * the applied table (never seen: no lookup needed), else 1.  The highest
 * is read once a transaction (the one writer holds the database, so it
 * moves only by put_applied).  KJ_OK or the store's error. */
static kj_code applied_maybe(kjs_txn *t, const kjs_principal *who, int64_t seq, int *maybe,
                             kj_err *err) {
  *maybe = 1;
  if (!ah_is(t, who)) {
    if (strlen(who->id) >= sizeof t->ah_dev || strlen(who->inc) >= sizeof t->ah_inc)
      return KJ_OK; /* cannot be kept: look every item up */
    int64_t high = 0;
    kj_code rc = flush_held(t, err); /* the table as read holds every row put */
    if (!rc)
      rc = t->ops->applied_high(t->c, who->id, who->inc, &high, err);
    if (rc)
      return rc;
    snprintf(t->ah_dev, sizeof t->ah_dev, "%s", who->id);
    snprintf(t->ah_inc, sizeof t->ah_inc, "%s", who->inc);
    t->ah_high = high;
    t->ah_known = 1;
  }
  *maybe = seq <= t->ah_high;
  return KJ_OK;
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
  return t->ops->moved_put(t->c, from, td->name, after->id, t->seq, err);
}

_Static_assert(KJS_DB_CODE_MAX == KJ_REFUSAL_ARG_MAX + 1, "db.h's code and field hold a refusal's");

int kjs_store_applied_refusal(const kjs_db_applied *row, kj_refusal *why,
                              char code[KJS_DB_CODE_MAX]) {
  why->code = NULL;
  cJSON *arr = row->code[0] ? cJSON_Parse(row->args) : NULL;
  if (!arr)
    return 0;
  int n = cJSON_GetArraySize(arr), ok = cJSON_IsArray(arr) && n <= KJ_REFUSAL_NARGS;
  for (int k = 0; ok && k < n; k++) {
    const cJSON *v = cJSON_GetArrayItem(arr, k);
    ok = cJSON_IsString(v) && strlen(v->valuestring) <= KJ_REFUSAL_ARG_MAX;
    if (ok)
      copy_str(why->args[k], sizeof why->args[k], v->valuestring);
  }
  cJSON_Delete(arr);
  if (!ok)
    return 0;
  why->nargs = n;
  copy_str(why->field, sizeof why->field, row->field);
  copy_str(code, KJS_DB_CODE_MAX, row->code);
  why->code = code;
  return 1;
}

/* *seen = 1 and the stored result in it when (device, incarnation, seq)
 * was seen before, else 0.  A stored digest that differs from the item's
 * means another change under that seq: status KJS_REUSED, never the stored
 * answer (a row stored before digests were kept, digest NULL, answers as
 * before).  KJ_OK, or the store's error with err filled. */
static kj_code lookup_applied(kjs_txn *t, const kjs_principal *who, kjs_item *it, int *seen,
                              kj_err *err) {
  *seen = 0;
  int found = 0;
  kjs_db_applied row;
  kj_code rc = flush_held(t, err); /* the table as read holds every row put */
  if (!rc)
    rc = t->ops->applied_get(t->c, who->id, who->inc, it->seq, 1, &found, &row, err);
  if (rc || !found)
    return rc;
  *seen = 1;
  if (row.digest_len && it->has_digest &&
      (row.digest_len != KJ_CHANGE_DIGEST_LEN ||
       memcmp(row.digest, it->digest, KJ_CHANGE_DIGEST_LEN) != 0)) {
    it->status = KJS_REUSED;
    snprintf(it->error, sizeof it->error,
             "%s: seq %" PRId64 " of this device holds another change: the database was "
             "restored, copied or reinstalled",
             it->label ? it->label : "change", it->seq);
  } else {
    kjs_status stt;
    it->status = status_parse(row.status, &stt) ? KJS_REJECTED : stt;
    snprintf(it->error, sizeof it->error, "%.*s", (int)sizeof it->error - 1, row.error);
    it->replayed = 1;
    if (it->status == KJS_REJECTED)
      kjs_store_applied_refusal(&row, &it->why, it->why_code);
  }
  return KJ_OK;
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
  copy_str(author, KJ_AUTHOR_MAX + 1, a[0] ? a : device ? "operator" : "admin");
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
  int found = 0;
  if (t->ops->roster_has(t->c, who->office, author, &found, err))
    return -1;
  if (!found) {
    reject(it, "author '%s' is not on the roster of office '%s'", author, who->office);
    return 1;
  }
  return 0;
}

/* --- the roster of proto/rules.h, over the employee records ------------ */

static kj_code roster_employee(void *ud, const char *nip, kj_roster_entry *out, int *found,
                               kj_err *err) {
  kjs_txn *t = ud;
  char office[64], sup[64];
  kj_code rc = t->ops->employee(t->c, nip, office, sup, found, err);
  if (!rc && *found) {
    snprintf(out->office, sizeof out->office, "%.*s", (int)sizeof out->office - 1, office);
    snprintf(out->supervisor, sizeof out->supervisor, "%.*s", (int)sizeof out->supervisor - 1, sup);
  }
  return rc;
}

static kj_code roster_rating(void *ud, const char *period, const char *rater, const char *ratee,
                             const char *id, char out[KJ_ID_MAX + 1], kj_err *err) {
  kjs_txn *t = ud;
  return t->ops->rating_other(t->c, period, rater, ratee, id, out, KJ_ID_MAX + 1, err);
}

static kj_code roster_zone(void *ud, const char *office, char out[KJ_ZONE_MAX + 1], kj_err *err) {
  kjs_txn *t = ud;
  out[0] = 0;
  if (t->zone_office[0] && !strcmp(t->zone_office, office)) {
    memcpy(out, t->zone, sizeof t->zone);
    return KJ_OK;
  }
  kj_code rc = t->ops->office_zone(t->c, office, out, KJ_ZONE_MAX + 1, err);
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
    int any = 0;
    if (t->ops->employees_any(t->c, &any, err))
      return -1;
    t->has_employees = any;
  }
  kj_roster roster = {t, roster_employee, roster_rating, roster_zone};
  kj_rules_ctx ctx = {.admin = !strcmp(author, "admin"),
                      .has_roster = t->has_employees,
                      .now_ms = kj_wall_ms(),
                      /* a day for the clocks of the PCs; the BKD's own
                       * writes (kinerjad import, admin tokens) go by the
                       * server's clock */
                      .slack_days = strcmp(author, "admin") ? 1 : 0,
                      .roster = &roster,
                      .why = &it->why};
  kj_change ch = it->ch; /* shallow: the author the change is kept with */
  copy_str(ch.author, sizeof ch.author, author);
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

/* One row of the history, held to flush_held: what the change of it wrote, by whom (its body
 * as the caller kept it, it->body, unless an import's diff_only dropped
 * fields of it). */
static kj_code put_history(kjs_txn *t, const kjs_item *it, const char *author, kj_err *err) {
  const kj_change *ch = &it->ch;
  const char *body = it->body;
  if (!body || it->diff_only) {
    kj_buf_reset(&t->json);
    kj_code rc = kj_change_body_json(ch, &t->json, err);
    if (rc)
      return rc;
    body = t->json.data;
  }
  if (t->nhh == HELD_MAX) {
    kj_code rc = flush_held(t, err);
    if (rc)
      return rc;
  }
  held_history *h = &t->hh[t->nhh];
  h->type = kj_type(ch->rec.type)->name;
  h->hlc = (int64_t)ch->hlc;
  h->at = (int64_t)kj_wall_ms();
  if (hold_str(t, ch->rec.id, &h->id) || hold_str(t, ch->device, &h->device) ||
      hold_str(t, author, &h->author) || hold_str(t, body, &h->change))
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  t->nhh++;
  return KJ_OK;
}

/* The scores' upkeep of a record written (before NULL: new).  A failure
 * (a database error, out of memory) is the request's, never a stored
 * rejection: the record is valid; the caller rolls the whole transaction
 * back.  KJ_OK or that error (err). */
static kj_code score_upkeep(kjs_txn *t, const kj_record *before, const kj_record *after,
                            kj_err *err) {
  kj_err e;
  kj_err_clear(&e);
  kj_code sc = kjs_score_update(t->ops->score(t->c), before, after, &e);
  if (sc == 0)
    return KJ_OK;
  return kj_fail(err, sc == KJ_ENOMEM || sc == KJ_EBUSY || sc == KJ_EFULL ? sc : KJ_EDB,
                 "cannot update scores for %s '%s': %s", kj_type(after->type)->name, after->id,
                 e.msg[0] ? e.msg : "unknown error");
}

/* 1 when change ch looks like the creation of its record: it sets the
 * record's office (an edit sends only what changed).  Only a guess, for
 * apply_fresh: a wrong one costs time, never a result. */
static int looks_new(const kj_change *ch) {
  return !ch->rec.deleted && kj_record_office(&ch->rec) != NULL;
}

/* The apply of a change that creates its record, without reading the
 * record first (a push is mostly new records; the read cost 5,400
 * instructions each): merged into an empty state, checked as a new record
 * (validation, rules), and inserted only when there is no record (type,
 * id) (db.h rec_add).  1: applied (it's status set); 0: not so simple (the
 * record exists; or as new it would be refused, conflict, be settled or
 * belong elsewhere: the full path of kjs_txn_apply decides), nothing
 * stored and it as it was; -1: the store's error (err). */
static int apply_fresh(kjs_txn *t, const kjs_principal *who, kjs_item *it, const char *author,
                       kj_err *err) {
  const kj_change *ch = &it->ch;
  int device = who && who->role == KJS_ROLE_DEVICE;
  kj_rstate s;
  kj_rstate_init(&s, ch->rec.type);
  s.rec.type = KJ_T_NONE;
  copy_str(s.rec.id, sizeof s.rec.id, ch->rec.id);
  kj_err e;
  kj_err_clear(&e);
  conflicts_clear(t);
  t->cf_type = ch->rec.type;
  int changed = 0, settled = 0, r = 0, added = 0;
  if (kj_merge_apply(&s, ch, on_conflict, t, &changed, &e) || t->cf_oom || t->ncf || !changed)
    goto out;
  const char *office = kj_record_office(&s.rec);
  if (!office || (device && !office_is(office, who->office)))
    goto out;
  if (kj_rules_settle(&s, &settled) || settled)
    goto out;
  kj_err_clear(&e);
  if (kj_record_validate(&s.rec, &e) != KJ_OK)
    goto out;
  int rr = check_rules(t, it, author, NULL, &s.rec, err);
  if (rr) { /* refused as new (it's answer undone: the full path decides), or -1 */
    it->status = KJS_REJECTED;
    it->error[0] = 0;
    r = rr < 0 ? -1 : 0;
    goto out;
  }
  /* every stamp of s is the change's (merged into nothing): only_stamped_by
   * is whether the change's device is who */
  char oname[KJ_DEVICE_MAX + KJ_INCARNATION_MAX + 2];
  const char *origin =
      device && !strcmp(ch->device, who->id) ? origin_name(who, oname, sizeof oname) : NULL;
  if (put_state(t, &s, origin, &added, err)) {
    r = -1;
    goto out;
  }
  if (!added)
    goto out;
  if (put_history(t, it, author, err) || score_upkeep(t, NULL, &s.rec, err)) {
    r = -1;
    goto out;
  }
  it->status = KJS_APPLIED;
  it->created = 1;
  it->conflicts = 0;
  t->applied++;
  r = 1;
out:
  conflicts_clear(t);
  kj_rstate_release(&s);
  return r;
}

kj_code kjs_txn_apply(kjs_txn *t, const kjs_principal *who, kjs_item *it, kj_err *err) {
  it->status = KJS_REJECTED;
  it->replayed = 0;
  it->conflicts = 0;
  it->why.code = NULL;
  if (!it->decoded && !it->error[0])
    snprintf(it->error, sizeof it->error, "%s: malformed change", it->label ? it->label : "change");
  if (it->decoded)
    it->error[0] = 0;
  if (it->track && who && it->seq >= 0) {
    int seen = 0, maybe = 1;
    if (applied_maybe(t, who, it->seq, &maybe, err) ||
        (maybe && lookup_applied(t, who, it, &seen, err)))
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
  if (!it->diff_only && looks_new(ch)) {
    int fr = apply_fresh(t, who, it, author, err);
    if (fr < 0)
      return err && err->code ? err->code : KJ_EDB;
    if (fr > 0)
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
    copy_str(s.rec.id, sizeof s.rec.id, ch->rec.id);
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
  /* no savepoint around the item's writes: a failure below returns an
   * error and the caller rolls the whole transaction back (store.h), so
   * there is nothing of one item alone to undo (it cost 2,400 instructions
   * per record) */
  /* the pushing device already has this state when it wrote all of it
   * with the stamps it sent (the server takes stamps as sent) */
  char oname[KJ_DEVICE_MAX + KJ_INCARNATION_MAX + 2];
  /* (not when the server derived values: the device must pull them) */
  const char *origin = device && !settled && only_stamped_by(&s, who->id)
                           ? origin_name(who, oname, sizeof oname)
                           : NULL;
  if ((rc = put_state(t, &s, origin, NULL, err)) || (rc = put_conflicts(t, &s, err)) ||
      (rc = put_moved(t, have_before ? &before : NULL, &s.rec, err)) ||
      (rc = put_history(t, it, author, err)))
    goto out;
  if ((rc = score_upkeep(t, have_before ? &before : NULL, &s.rec, err)))
    goto out;
  it->status = KJS_APPLIED;
  it->created = !have_before;
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

/* The master types every office receives (not office_scoped), from the
 * type table. */
static const char *g_broadcast[KJ_T__COUNT];
static int g_nbroadcast;
static pthread_once_t g_broadcast_once = PTHREAD_ONCE_INIT;

static void build_broadcast(void) {
  for (int t = 0; t < KJ_T__COUNT; t++) {
    const kj_type_def *td = kj_type((kj_rtype)t);
    if (td->master && !td->office_scoped)
      g_broadcast[g_nbroadcast++] = td->name;
  }
}

typedef struct pull_ctx {
  kj_buf *out;
  int limit, rows, n, more, peer;
  int64_t next;
  kj_err *err;
} pull_ctx;

static kj_code pull_each(void *ud, int64_t seq, const char *state) {
  pull_ctx *x = ud;
  if (x->rows == x->limit) {
    x->more = 1;
    return KJ_EINTR; /* stop: one row past the page */
  }
  int added = 0;
  /* proto/msg.c leaves out what a client of an older protocol cannot
   * read; the cursor moves past it all the same */
  kj_code rc = kj_pull_add_stored(x->out, state ? state : "null", x->peer, &added, x->err);
  if (rc)
    return rc;
  x->next = seq;
  x->n += added;
  x->rows++;
  return KJ_OK;
}

kj_code kjs_store_pull(kjs_store *s, const kjs_principal *who, int64_t since, int limit,
                       int skip_own, int peer, kj_buf *out, int64_t *next, int *more, int *count,
                       kj_err *err) {
  *next = since;
  *more = 0;
  *count = 0;
  pthread_once(&g_broadcast_once, build_broadcast);
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  int all = who->role != KJS_ROLE_DEVICE;
  /* one snapshot: the rows and the highest seq agree */
  kj_code rc = s->ops->begin(c, 0, err);
  if (rc) {
    release(s, c);
    return rc;
  }
  char oname[KJ_DEVICE_MAX + KJ_INCARNATION_MAX + 2];
  pull_ctx x = {out, limit, 0, 0, 0, peer, since, err};
  rc = s->ops->pull(c, since, limit + 1, all ? NULL : who->office, g_broadcast, g_nbroadcast,
                    !all && skip_own ? origin_name(who, oname, sizeof oname) : NULL, pull_each, &x,
                    err);
  if (rc == KJ_EINTR && x.more)
    rc = KJ_OK;
  *next = x.next;
  *more = x.more;
  *count = x.n;
  if (!rc && !*more) {
    /* Nothing more for this caller up to the snapshot's last change: the
     * cursor skips what it may not see, so the next pull starts there.
     * (Later commits get higher numbers: seq is given under the write lock.) */
    int64_t mx = 0;
    if (!s->ops->position_max(c, &mx, NULL) && mx > *next)
      *next = mx;
  }
  s->ops->commit(c, NULL);
  release(s, c);
  return rc;
}

typedef struct moved_ctx {
  kj_buf *out;
  int count;
  kj_err *err;
} moved_ctx;

static kj_code moved_each(void *ud, const char *type, const char *id) {
  moved_ctx *x = ud;
  kj_code a = kj_pull_add_moved(x->out, x->count == 0, type, id);
  if (a)
    return kj_fail(x->err, a, "cannot add a moved notice to the page");
  x->count++;
  return KJ_OK;
}

kj_code kjs_store_pull_moved(kjs_store *s, const kjs_principal *who, int64_t since, int64_t upto,
                             kj_buf *out, int *count, kj_err *err) {
  *count = 0;
  if (who->role != KJS_ROLE_DEVICE || upto <= since)
    return KJ_OK;
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  moved_ctx x = {out, 0, err};
  kj_code rc = s->ops->moved_pull(c, who->office, since, upto, moved_each, &x, err);
  *count = x.count;
  release(s, c);
  return rc;
}

kj_code kjs_store_get_state(kjs_store *s, kj_rtype t, const char *id, char **json, kj_err *err) {
  *json = NULL;
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kj_code rc = s->ops->rec_get(c, kj_type(t) ? kj_type(t)->name : "", id, 0, json, err);
  release(s, c);
  if (!rc && !*json)
    rc = kj_fail(err, KJ_ENOENT, "no record '%s'", id);
  return rc;
}

typedef struct conflict_ctx {
  kj_code (*each)(void *ctx, const kjs_conflict_view *v);
  void *ctx;
  kj_err *err;
} conflict_ctx;

/* Text a listing can show: valid UTF-8, else NULL. */
static const char *utf8_or_null(const char *v) {
  return v && kj_utf8_len(v) >= 0 ? v : NULL;
}

static kj_code conflict_view_each(void *ud, const kjs_db_conflict *k) {
  conflict_ctx *x = ud;
  kjs_conflict_view v;
  memset(&v, 0, sizeof v);
  v.n = k->n;
  v.type = utf8_or_null(k->type);
  v.id = utf8_or_null(k->id);
  v.field = utf8_or_null(k->field);
  const kj_type_def *td = k->type ? kj_type_by_name(k->type) : NULL;
  int fi = td && k->field ? kj_field_index(td, k->field) : -1;
  const kj_field_def *f = fi >= 0 ? &td->fields[fi] : NULL;
  /* a value as the listing shows it: the stored text when it is still
   * valid for its field (rows written before the log validated values may
   * not be), else NULL and a note */
  char *lv = NULL, *ln = NULL, *wv = NULL, *wn = NULL;
  if (conflict_value(f, k->loser, &lv, &ln) || conflict_value(f, k->winner, &wv, &wn)) {
    free(lv);
    free(ln);
    return kj_fail(x->err, KJ_ENOMEM, "out of memory");
  }
  v.loser = lv;
  v.winner = wv;
  v.loser_note = ln ? ln : utf8_or_null(k->loser_note);
  v.winner_note = wn ? wn : utf8_or_null(k->winner_note);
  v.loser_stamp = utf8_or_null(k->loser_stamp);
  v.winner_stamp = utf8_or_null(k->winner_stamp);
  v.at = k->at;
  /* who wrote each side and when (the stamp's wall time), in the zone of
   * the record's office (WIB/WITA/WIT, common/date.c) */
  kj_time_format_zone(k->at, k->zone, v.when);
  v.loser_author = utf8_or_null(k->loser_author);
  v.winner_author = utf8_or_null(k->winner_author);
  for (int side = 0; side < 2; side++) {
    const char *stamp = side ? k->winner_stamp : k->loser_stamp;
    char *out = side ? v.winner_time : v.loser_time;
    if (stamp && *stamp >= '0' && *stamp <= '9')
      kj_time_format_zone((int64_t)KJ_HLC_MS(strtoull(stamp, NULL, 10)), k->zone, out);
  }
  kj_code rc = x->each(x->ctx, &v);
  free(lv);
  free(ln);
  free(wv);
  free(wn);
  return rc;
}

kj_code kjs_store_conflict_rows(kjs_store *s,
                                kj_code (*each)(void *ctx, const kjs_conflict_view *v), void *ctx,
                                kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  conflict_ctx x = {each, ctx, err};
  kj_code rc = s->ops->conflict_list(c, conflict_view_each, &x, err);
  release(s, c);
  return rc;
}

static void sha_field(mbedtls_sha256_context *h, const char *v, size_t len) {
  char lenbuf[24];
  int ll = snprintf(lenbuf, sizeof lenbuf, "%d:", v ? (int)len : -1);
  mbedtls_sha256_update_ret(h, (const unsigned char *)lenbuf, (size_t)ll);
  if (v)
    mbedtls_sha256_update_ret(h, (const unsigned char *)v, len);
}

typedef struct digest_ctx {
  mbedtls_sha256_context h;
  long long n;
} digest_ctx;

static kj_code digest_each(void *ud, const kjs_db_rec *r) {
  digest_ctx *x = ud;
  char head[64];
  int hl = snprintf(head, sizeof head, "%.40s|%d|", r->type ? r->type : "", r->deleted);
  mbedtls_sha256_update_ret(&x->h, (const unsigned char *)head, (size_t)hl);
  sha_field(&x->h, r->id, r->id ? strlen(r->id) : 0);
  sha_field(&x->h, r->office, r->office ? strlen(r->office) : 0);
  sha_field(&x->h, r->state, r->state_len);
  x->n++;
  return KJ_OK;
}

kj_code kjs_store_records_digest(kjs_store *s, char out[65], long long *nrecords, kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  digest_ctx x;
  x.n = 0;
  mbedtls_sha256_init(&x.h);
  mbedtls_sha256_starts_ret(&x.h, 0);
  kj_code rc = s->ops->records_scan(c, NULL, NULL, 0, 0, digest_each, &x, err);
  unsigned char d[32];
  mbedtls_sha256_finish_ret(&x.h, d);
  mbedtls_sha256_free(&x.h);
  for (size_t i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
  if (nrecords)
    *nrecords = x.n;
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

/* Run a report in one read transaction (one snapshot). */
static kj_code score_read(kjs_store *s, const char *period, const char *arg, int offices,
                          kj_buf *out, kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kj_code rc = s->ops->begin(c, 0, err);
  if (!rc) {
    kjs_score_store *ss = s->ops->score(c);
    kj_code r = !ss       ? kj_fail(err, KJ_ENOMEM, "out of memory")
                : offices ? kjs_report_offices(ss, &s->scfg, period, arg, out, err)
                          : kjs_report_employees(ss, &s->scfg, period, arg, out, err);
    if (r != 0)
      rc = code_of(err, KJ_EINVAL);
    s->ops->commit(c, NULL);
  }
  release(s, c);
  return rc;
}

kj_code kjs_store_change_mark(kjs_store *s, int64_t *position, char *epoch, size_t size,
                              kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kj_code rc = s->ops->position_max(c, position, err);
  if (!rc)
    rc = s->ops->epoch_current(c, epoch, size, err);
  release(s, c);
  return rc;
}

kj_code kjs_store_report_offices(kjs_store *s, const char *period, const char *as_of, kj_buf *out,
                                 kj_err *err) {
  return score_read(s, period, as_of, 1, out, err);
}

kj_code kjs_store_report_employees(kjs_store *s, const char *period, const char *office,
                                   kj_buf *out, kj_err *err) {
  return score_read(s, period, office, 0, out, err);
}

kj_code kjs_store_recompute(kjs_store *s, int verify, kj_buf *diffs, kj_err *err) {
  kjs_txn *t = NULL;
  kj_code rc = kjs_txn_begin(s, &t, err);
  if (rc || !t)
    return rc ? rc : KJ_EDB;
  rc = t->ops->score_rebuild(t->c, verify, diffs, NULL, err); /* differences: in diffs */
  if (rc) {
    kjs_txn_rollback(t);
    return rc;
  }
  return kjs_txn_commit(t, err);
}

kj_code kjs_store_report_print(const char *json, const char *format, FILE *out, kj_err *err) {
  return kjs_report_format(json, format, out, err);
}

typedef struct history_ctx {
  kj_code (*each)(void *ctx, const kjs_history_view *v);
  void *ctx;
} history_ctx;

static kj_code history_view_each(void *ud, const kjs_db_history *h) {
  history_ctx *x = ud;
  kjs_history_view v;
  memset(&v, 0, sizeof v);
  /* made: the change's own time (its stamp's wall clock, the PC's clock
   * as corrected at sync); when: when the server applied it; both in the
   * office's zone, WIB/WITA/WIT (common/date.c) */
  v.made_at = (int64_t)KJ_HLC_MS((kj_hlc)h->hlc);
  kj_time_format_zone(v.made_at, h->zone, v.made);
  v.at = h->at;
  kj_time_format_zone(h->at, h->zone, v.when);
  v.type = h->type ? h->type : "";
  v.author = h->author ? h->author : "";
  v.device = h->device ? h->device : "";
  kj_hlc_format((kj_hlc)h->hlc, v.hlc);
  v.change = h->change;
  return x->each(x->ctx, &v);
}

kj_code kjs_store_history_rows(kjs_store *s, const char *id,
                               kj_code (*each)(void *ctx, const kjs_history_view *v), void *ctx,
                               kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  history_ctx x = {each, ctx};
  kj_code rc = s->ops->history_list(c, id, history_view_each, &x, err);
  release(s, c);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* imports */

typedef struct names_ctx {
  char **names;
  size_t n;
  kj_err *err;
} names_ctx;

static kj_code service_each(void *ud, const char *name) {
  names_ctx *x = ud;
  char **nn = realloc(x->names, (x->n + 1) * sizeof *nn);
  if (!nn)
    return kj_fail(x->err, KJ_ENOMEM, "out of memory");
  x->names = nn;
  if (!(nn[x->n] = strdup(name)))
    return kj_fail(x->err, KJ_ENOMEM, "out of memory");
  x->n++;
  return KJ_OK;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The warning for service `typed`, not one of office's n listed names,
 * into out (size bytes): the closest listed one when kj_suggest_near says
 * it is near on the names' keys (kj_service_key: "Akta Kelahran" is near
 * "Akta Kelahiran", "Paspor" is not "KTP-el"), else the office's services
 * (cut with "..." to fit; also when there is no memory to weigh the
 * closest), as kinerja says it (client/cli.c). */
static void service_warning(const char *typed, const char *office, const char *closest,
                            const char *const *names, size_t n, char *out, size_t size) {
  int near = 0;
  if (closest) {
    size_t lt = strlen(typed), lc = strlen(closest);
    char *kt = malloc(lt + 1), *kc = malloc(lc + 1);
    if (kt && kc) {
      kj_service_key(typed, kt);
      kj_service_key(closest, kc);
      near = kj_suggest_near(kt, kc);
    }
    free(kt);
    free(kc);
  }
  if (near) {
    snprintf(out, size,
             "field 'service': '%.200s' is not a service of office '%s' (closest: '%.200s'); "
             "stored as typed",
             typed, office, closest);
    return;
  }
  /* by name (byte order), as kinerja lists them (client/cli.c); the
   * store's order when there is no memory to sort */
  const char **byname = n ? malloc(n * sizeof *byname) : NULL;
  if (byname) {
    memcpy(byname, names, n * sizeof *byname);
    qsort(byname, n, sizeof *byname, cmp_name);
  }
  char list[400];
  size_t used = 0;
  list[0] = 0;
  for (size_t i = 0; i < n; i++) {
    int w = snprintf(list + used, sizeof list - used, "%s'%s'", i ? ", " : "",
                     byname ? byname[i] : names[i]);
    if (w < 0 || (size_t)w >= sizeof list - used) {
      snprintf(list + used, sizeof list - used, "%s", i ? ", ..." : "...");
      break;
    }
    used += (size_t)w;
  }
  free(byname);
  snprintf(out, size,
           "field 'service': '%.200s' is not a service of office '%s' (its services: %s); "
           "stored as typed",
           typed, office, list);
}

kj_code kjs_store_publik_services(kjs_store *s, const char *period, const char *office,
                                  kjs_service_fold *out, kj_err *err) {
  memset(out, 0, sizeof *out);
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  names_ctx x = {NULL, 0, err};
  kj_code rc = s->ops->begin(c, 0, err);
  if (!rc) {
    rc = s->ops->services(c, office, service_each, &x, err);
    kjs_score_store *ss = rc ? NULL : s->ops->score(c);
    if (!rc)
      rc =
          kjs_report_services_fold(ss, period, office, (const char *const *)x.names, x.n, out, err);
    s->ops->commit(c, NULL);
  }
  release(s, c);
  for (size_t i = 0; i < x.n; i++)
    free(x.names[i]);
  free(x.names);
  return rc;
}

kj_code kjs_txn_service_resolve(kjs_txn *t, kj_record *rec, char *warning, size_t size,
                                kj_err *err) {
  if (size)
    warning[0] = '\0';
  const kj_type_def *td = kj_type(rec->type);
  int f = rec->type == KJ_T_SURVEY ? kj_field_index(td, "service") : -1;
  const char *office = td->office_field >= 0 ? rec->v[td->office_field] : NULL;
  if (f < 0 || !rec->v[f] || !office || rec->deleted)
    return KJ_OK;
  names_ctx x = {NULL, 0, err};
  kj_code rc = t->ops->services(t->c, office, service_each, &x, err);
  const char *match = NULL, *closest = NULL;
  if (!rc && x.n &&
      (rc = kj_service_resolve(rec->v[f], (const char *const *)x.names, x.n, &match, &closest)))
    rc = kj_fail(err, rc, "out of memory");
  if (!rc && match && strcmp(match, rec->v[f]) != 0 && kj_record_set(rec, f, match))
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
  if (!rc && x.n && !match && size)
    service_warning(rec->v[f], office, closest, (const char *const *)x.names, x.n, warning, size);
  for (size_t i = 0; i < x.n; i++)
    free(x.names[i]);
  free(x.names);
  return rc;
}

int kjs_txn_import_seen(kjs_txn *t, const char *digest, int64_t *at_ms, char **file, kj_err *err) {
  int found = 0;
  if (t->ops->import_get(t->c, digest, &found, at_ms, file, err))
    return -1;
  return found;
}

kj_code kjs_txn_import_note(kjs_txn *t, const char *digest, const char *type, const char *file,
                            long rows, int64_t at_ms, kj_err *err) {
  return t->ops->import_put(t->c, digest, type, file, rows, at_ms, err);
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

/* Append one JSON line to the token journal and fsync it; line is deleted.
 * Nothing for a store without local files (PostgreSQL). */
static kj_code journal_append(kjs_store *s, cJSON *line, kj_err *err) {
  if (!s->side) {
    cJSON_Delete(line);
    return KJ_OK;
  }
  char *text = line ? cJSON_PrintUnformatted(line) : NULL;
  cJSON_Delete(line);
  if (!text)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  char path[4200];
  side_path(path, sizeof path, s->side, KJS_TOKENS_SUFFIX);
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
static kj_code journal_replay(kjs_store *s, kjs_dbc *c, int *n, kj_err *err) {
  *n = 0;
  if (!s->side)
    return KJ_OK;
  char path[4200];
  side_path(path, sizeof path, s->side, KJS_TOKENS_SUFFIX);
  FILE *f = fopen(path, "r");
  if (!f)
    return errno == ENOENT ? KJ_OK
                           : kj_fail(err, KJ_EIO, "cannot read the token journal '%s': %s", path,
                                     strerror(errno));
  kj_code rc = KJ_OK;
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
    int changed = 0;
    if (!strcmp(op->valuestring, "revoke")) {
      rc = s->ops->token_revoke(c, id->valuestring, (int64_t)at->valuedouble, &changed, err);
    } else if (!strcmp(op->valuestring, "add")) {
      const cJSON *h = cJSON_GetObjectItemCaseSensitive(j, "hash");
      const cJSON *role = cJSON_GetObjectItemCaseSensitive(j, "role");
      kjs_db_token t = {.hash_len = 32};
      kjs_role rl;
      if (!cJSON_IsString(h) || unhex32(h->valuestring, t.hash) || !cJSON_IsString(role) ||
          kjs_role_parse(role->valuestring, &rl)) {
        KJ_WARN("%s:%ld: not a token journal line, skipped", path, lineno);
        cJSON_Delete(j);
        continue;
      }
      const cJSON *of = cJSON_GetObjectItemCaseSensitive(j, "office");
      const cJSON *nm = cJSON_GetObjectItemCaseSensitive(j, "name");
      t.id = id->valuestring;
      t.role = role->valuestring;
      t.office = cJSON_IsString(of) ? of->valuestring : NULL;
      t.name = cJSON_IsString(nm) ? nm->valuestring : NULL;
      t.created = (int64_t)at->valuedouble;
      rc = s->ops->token_add(c, &t, 1, &changed, err);
    }
    *n += changed;
    cJSON_Delete(j);
  }
  free(line);
  fclose(f);
  return rc;
}

/* A new epoch after cur at base (inside the caller's write transaction);
 * its id into out. */
static kj_code epoch_new(kjs_store *s, kjs_dbc *c, const char *cur, int64_t base, const char *how,
                         char out[KJ_INCARNATION_MAX + 1], kj_err *err) {
  unsigned char r[8];
  if (kj_random_bytes(r, sizeof r))
    return kj_fail(err, KJ_EIO, "no random bytes for a new epoch");
  for (size_t i = 0; i < 8; i++)
    snprintf(out + 2 * i, 3, "%02x", r[i]);
  return s->ops->epoch_add(c, out, cur, base, (int64_t)kj_wall_ms(), how, err);
}

static kj_code restore_check(kjs_store *s, kjs_dbc *c, int forced, kj_err *err) {
  kjs_open_info *in = &s->info;
  memset(in, 0, sizeof *in);
  in->mark_seq = -1;
  char mepoch[KJ_INCARNATION_MAX + 1] = "";
  long long mseq = -1;
  int have = 0;
  if (s->side) {
    char mp[4200];
    side_path(mp, sizeof mp, s->side, KJS_MARK_SUFFIX);
    s->mark_fd = open(mp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->mark_fd < 0)
      return kj_fail(err, KJ_EIO, "cannot open '%s': %s", mp, strerror(errno));
    /* a shared lock while open: `kinerjad restore` takes it exclusively */
    (void)flock(s->mark_fd, LOCK_SH | LOCK_NB);
    have = mark_read(s->mark_fd, mepoch, &mseq);
    if (have)
      in->mark_seq = mseq;
  }
  kj_code rc = s->ops->begin(c, 1, err);
  if (rc)
    return rc;
  int tok = 0;
  if ((rc = s->ops->epoch_current(c, s->epoch, sizeof s->epoch, err)) ||
      (rc = journal_replay(s, c, &tok, err)))
    goto fail;
  in->tokens_reapplied = tok;
  /* the last position: records and moved notices (docs/protocol.md "Moved records") */
  if ((rc = s->ops->position_max(c, &in->max_seq, err)) ||
      (rc = s->ops->records_count(c, &in->records, err)))
    goto fail;
  /* a store without a mark file: its identity recorded at the last open */
  char moved[sizeof in->why] = "";
  if (s->ops->lineage && (rc = s->ops->lineage(c, moved, sizeof moved, err)))
    goto fail;
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
  else if (moved[0])
    snprintf(in->why, sizeof in->why, "%s", moved);
  if (in->why[0]) {
    in->restored = 1;
    if ((rc = epoch_new(s, c, s->epoch, in->max_seq,
                        forced ? "restore" : "restored, found at start", in->epoch, err)))
      goto fail;
    snprintf(s->epoch, sizeof s->epoch, "%s", in->epoch);
  } else {
    snprintf(in->epoch, sizeof in->epoch, "%s", s->epoch);
  }
  if ((rc = s->ops->commit(c, err)))
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
  s->ops->rollback(c);
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

typedef struct epochs_ctx {
  epoch_row *rows;
  int n, cap;
  kj_err *err;
} epochs_ctx;

static kj_code epoch_each(void *ud, const kjs_db_epoch *e) {
  epochs_ctx *x = ud;
  if (x->n == x->cap) {
    int cap = x->cap ? 2 * x->cap : 16;
    epoch_row *r = realloc(x->rows, (size_t)cap * sizeof *r);
    if (!r)
      return kj_fail(x->err, KJ_ENOMEM, "out of memory");
    x->rows = r;
    x->cap = cap;
  }
  snprintf(x->rows[x->n].epoch, sizeof x->rows[x->n].epoch, "%s", e->epoch ? e->epoch : "");
  snprintf(x->rows[x->n].parent, sizeof x->rows[x->n].parent, "%s", e->parent ? e->parent : "");
  x->rows[x->n].base = e->base;
  x->n++;
  return KJ_OK;
}

/* The lowest base between the current epoch and peer (exclusive) into
 * *base; 0 when peer is not an ancestor. */
static kj_code lineage_base(kjs_store *s, kjs_dbc *c, const char *cur, const char *peer,
                            int64_t *base, kj_err *err) {
  epochs_ctx x = {NULL, 0, 0, err};
  kj_code rc = s->ops->epochs(c, epoch_each, &x, err);
  *base = 0;
  if (!rc) {
    const char *e = cur;
    int64_t m = INT64_MAX;
    for (int hop = 0; hop <= x.n && e && e[0]; hop++) {
      if (!strcmp(e, peer)) {
        *base = m;
        break;
      }
      const epoch_row *row = NULL;
      for (int i = 0; i < x.n && !row; i++)
        if (!strcmp(x.rows[i].epoch, e))
          row = &x.rows[i];
      if (!row)
        break;
      if (row->base < m)
        m = row->base;
      e = row->parent;
    }
  }
  free(x.rows);
  return rc;
}

kj_code kjs_store_pull_since(kjs_store *s, const char *peer_epoch, int64_t since, int64_t *safe,
                             kj_err *err) {
  *safe = since;
  char cur[KJ_INCARNATION_MAX + 1];
  kjs_store_epoch(s, cur);
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kj_code rc = KJ_OK;
  if (peer_epoch && peer_epoch[0] && strcmp(peer_epoch, cur) != 0) {
    int64_t base = 0;
    if ((rc = lineage_base(s, c, cur, peer_epoch, &base, err))) {
      release(s, c);
      return rc;
    }
    if (base < *safe)
      *safe = base;
  }
  int64_t max = -1;
  if (s->ops->position_max(c, &max, NULL))
    max = -1;
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
  if (!(rc = s->ops->epoch_current(t->c, now, sizeof now, err)) && !strcmp(now, cur) &&
      !(rc = epoch_new(s, t->c, cur, base, "restored, found by a device", neu, err))) {
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
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kj_code rc = s->ops->applied_high(c, who->id, who->inc, high, err);
  release(s, c);
  return rc;
}

kj_code kjs_store_applied_get(kjs_store *s, const kjs_principal *who, int64_t seq, int *found,
                              kjs_db_applied *out, kj_err *err) {
  *found = 0;
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kj_code rc = s->ops->applied_get(c, who->id, who->inc, seq, 0, found, out, err);
  release(s, c);
  return rc;
}

kj_code kjs_store_restore(const char *db_path, const char *file, const kjs_config *cfg,
                          kjs_open_info *info, kj_err *err) {
  memset(info, 0, sizeof *info);
  if (kjs_db_is_pg(db_path))
    return kj_fail(err, KJ_EINVAL,
                   "the store is PostgreSQL: restore it with pg_restore or a base backup "
                   "(docs/operations.md \"Restore\")");
  char mp[4200];
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
  kj_code rc = kjs_db_sqlite_ops.restore_file(db_path, file, err);
  if (!rc) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s", db_path);
    char *slash = strrchr(dir, '/');
    if (slash)
      *slash = 0;
    kj_err ignored; /* best effort, as before: the file itself is durable */
    (void)kj_dir_sync(slash ? dir : ".", &ignored);
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

kj_code kjs_store_user_add(kjs_store *s, const char *name, const char *role, const char *hash,
                           kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kjs_db_user u = {.name = name, .role = role, .hash = hash, .created = (int64_t)kj_wall_ms()};
  kj_code rc = s->ops->user_add(c, &u, err);
  release(s, c);
  if (rc == KJ_EEXIST)
    return kj_fail(err, KJ_EEXIST, "user '%s' already exists (remove it first to replace it)",
                   name);
  return rc;
}

kj_code kjs_store_users(kjs_store *s, kj_code (*each)(void *ctx, const kjs_db_user *u), void *ctx,
                        kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kj_code rc = s->ops->user_list(c, each, ctx, err);
  release(s, c);
  return rc;
}

kj_code kjs_store_user_remove(kjs_store *s, const char *name, kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  int changed = 0;
  kj_code rc = s->ops->user_remove(c, name, &changed, err);
  release(s, c);
  if (!rc && !changed)
    rc = kj_fail(err, KJ_ENOENT, "no user '%s' (see 'kinerjad user list')", name);
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
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  char hash[KJ_PASSHASH_MAX + 1] = "", urole[KJS_USER_ROLE_MAX + 1] = "";
  int found = 0;
  kj_code rc = s->ops->user_get(c, name, &found, urole, sizeof urole, hash, sizeof hash, err);
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
  if ((c = acquire(s, NULL))) {
    (void)s->ops->user_login(c, name, (int64_t)kj_wall_ms(), NULL);
    release(s, c);
  }
  return KJ_OK;
}

kj_code kjs_store_enrol_add(kjs_store *s, const unsigned char hash[32], const char *device,
                            const unsigned char *sealed, size_t sealed_len, int64_t expires_ms,
                            kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kj_code rc = s->ops->enrol_add(c, hash, device, sealed, sealed_len, (int64_t)kj_wall_ms(),
                                 expires_ms, err);
  release(s, c);
  return rc;
}

/* Why the code of hash cannot be used now, as a kj_err (KJ_EAUTH), from
 * its row (or its absence); the row into *row. */
static kj_code enrol_refusal(kjs_store *s, kjs_dbc *c, const unsigned char hash[32], int64_t now,
                             int lock, kjs_db_enrol *row, kj_err *err) {
  int found = 0;
  kj_code rc = s->ops->enrol_get(c, hash, lock, &found, row, err);
  if (rc)
    return rc;
  if (!found)
    return kj_fail(
        err, KJ_EAUTH,
        "unknown enrolment code: check it against the one 'kinerjad device add' printed");
  char when[32];
  time_t t = (time_t)((row->has_used ? row->used : row->expires) / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
  if (row->has_used)
    return kj_fail(err, KJ_EAUTH,
                   "enrolment code already used (%s): ask the BKD for a new one "
                   "('kinerjad device add')",
                   when);
  if (row->token_state)
    return kj_fail(err, KJ_EAUTH, "enrolment code of a revoked device: ask the BKD for a new one");
  if (row->expires <= now)
    return kj_fail(err, KJ_EAUTH,
                   "enrolment code expired (%s): ask the BKD for a new one ('kinerjad device add')",
                   when);
  return KJ_OK;
}

kj_code kjs_store_enrol_check(kjs_store *s, const unsigned char hash[32], kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kjs_db_enrol row;
  kj_code rc = enrol_refusal(s, c, hash, (int64_t)kj_wall_ms(), 0, &row, err);
  release(s, c);
  return rc;
}

kj_code kjs_store_enrol_use(kjs_store *s, const unsigned char hash[32], const char *used_by,
                            const char *office, kjs_enrol_use *out, kj_err *err) {
  memset(out, 0, sizeof *out);
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  int64_t now = (int64_t)kj_wall_ms();
  kjs_db_enrol row;
  int changed = 0;
  kj_code rc = s->ops->begin(c, 1, err);
  if (rc)
    goto out;
  if ((rc = enrol_refusal(s, c, hash, now, 1, &row, err)))
    goto out;
  if (office && strcmp(office, row.office) != 0) {
    snprintf(out->office, sizeof out->office, "%.*s", (int)sizeof out->office - 1, row.office);
    rc = kj_fail(err, KJ_EINVAL,
                 "this enrolment code is for office %s, not %s: the code is not spent (enrol "
                 "again without --office, or with --office %s)",
                 row.office, office, row.office);
    goto out;
  }
  snprintf(out->device, sizeof out->device, "%.*s", (int)sizeof out->device - 1, row.device);
  if (row.sealed_len && row.sealed_len <= sizeof out->sealed) {
    memcpy(out->sealed, row.sealed, row.sealed_len);
    out->sealed_len = row.sealed_len;
  }
  snprintf(out->office, sizeof out->office, "%.*s", (int)sizeof out->office - 1, row.office);
  if (row.token_hash_len == 32)
    memcpy(out->token_hash, row.token_hash, 32);
  /* the code is spent in this transaction: one use, whatever comes after */
  if ((rc = s->ops->enrol_spend(c, hash, now, used_by, &changed, err)))
    goto out;
  if (changed != 1) {
    rc = kj_fail(err, KJ_EAUTH, "enrolment code already used");
    goto out;
  }
  if (!out->sealed_len) {
    rc = kj_fail(err, KJ_EAUTH, "enrolment code holds no token: ask the BKD for a new one");
    goto out;
  }
  rc = s->ops->commit(c, err);
out:
  if (rc)
    s->ops->rollback(c);
  release(s, c);
  return rc;
}

typedef struct state_ctx {
  int (*fn)(void *ud, const char *state);
  void *ud;
} state_ctx;

static kj_code state_each(void *ud, const kjs_db_rec *r) {
  state_ctx *x = ud;
  return x->fn(x->ud, r->state) ? KJ_EINTR : KJ_OK;
}

kj_code kjs_store_each_state(kjs_store *s, kj_rtype type, const char *office,
                             int (*fn)(void *ud, const char *state), void *ud, kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  state_ctx x = {fn, ud};
  kj_code rc = s->ops->records_scan(c, kj_type(type) ? kj_type(type)->name : "", office, 1, 1,
                                    state_each, &x, err);
  release(s, c);
  return rc == KJ_EINTR ? KJ_OK : rc;
}

kj_code kjs_store_office_today(kjs_store *s, const char *office, kj_day *today, kj_err *err) {
  char zone[KJ_ZONE_MAX + 1] = "";
  int offset;
  const char *abbr;
  kj_code rc = KJ_OK;
  kjs_dbc *c = acquire(s, err);
  if (!c)
    rc = code_of(err, KJ_EDB);
  else {
    rc = s->ops->office_zone(c, office, zone, sizeof zone, err);
    release(s, c);
  }
  if (rc || kj_zone(zone, &offset, &abbr) != KJ_OK)
    (void)kj_zone(NULL, &offset, &abbr);
  *today = kj_today(offset);
  return rc;
}

typedef struct zones_ctx {
  int n, offset, mixed, west;
  const char *abbr, *west_abbr;
  kj_code rc;
  kj_err *err;
} zones_ctx;

static int zone_each(void *ud, const char *state) {
  zones_ctx *x = ud;
  cJSON *j = cJSON_Parse(state);
  kj_rstate st;
  kj_err e;
  if (!j || kj_rstate_from_json(j, &st, &e)) {
    cJSON_Delete(j);
    return 0; /* an unreadable office state says no zone: WIB below */
  }
  int f = kj_field_index(kj_type(KJ_T_OFFICE), "timezone");
  int off;
  const char *abbr;
  (void)kj_zone(f >= 0 ? st.rec.v[f] : NULL, &off, &abbr); /* unknown: WIB's */
  kj_rstate_release(&st);
  cJSON_Delete(j);
  if (!x->n++) {
    x->offset = x->west = off;
    x->abbr = x->west_abbr = abbr;
  } else if (off != x->offset) {
    x->mixed = 1;
  }
  if (off < x->west) {
    x->west = off;
    x->west_abbr = abbr;
  }
  return 0;
}

kj_code kjs_store_offices_zone(kjs_store *s, int *offset_minutes, const char **abbr, int *mixed,
                               kj_err *err) {
  zones_ctx x = {0};
  kj_code rc = kjs_store_each_state(s, KJ_T_OFFICE, NULL, zone_each, &x, err);
  *mixed = 0;
  if (rc || !x.n) {
    (void)kj_zone(NULL, offset_minutes, abbr);
    return rc;
  }
  *mixed = x.mixed;
  *offset_minutes = x.mixed ? x.west : x.offset;
  *abbr = x.mixed ? x.west_abbr : x.abbr;
  return KJ_OK;
}

/* ---------------------------------------------------------------------- */
/* what the PCs report and the dashboard's user check */

kj_code kjs_store_device_report_put(kjs_store *s, const char *device, const char *version,
                                    int64_t pending, int64_t rejected, int64_t at_ms, kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kjs_db_report r = {
      .device = device, .version = version, .pending = pending, .rejected = rejected, .at = at_ms};
  kj_code rc = s->ops->device_report_put(c, &r, err);
  release(s, c);
  return rc;
}

kj_code kjs_store_device_report_rows(kjs_store *s,
                                     kj_code (*each)(void *ctx, const kjs_db_report *r), void *ctx,
                                     kj_err *err) {
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kj_code rc = s->ops->device_reports(c, each, ctx, err);
  release(s, c);
  return rc;
}

kj_code kjs_store_user_role(kjs_store *s, const char *name, char role[KJS_USER_ROLE_MAX + 1],
                            kj_err *err) {
  role[0] = 0;
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  char hash[KJ_PASSHASH_MAX + 1] = "";
  int found = 0;
  kj_code rc =
      s->ops->user_get(c, name, &found, role, KJS_USER_ROLE_MAX + 1, hash, sizeof hash, err);
  release(s, c);
  memset(hash, 0, sizeof hash);
  if (!rc && !found)
    rc = kj_fail(err, KJ_ENOENT, "no user '%s'", name);
  return rc;
}

/* ---------------------------------------------------------------------- */
/* the dashboard's citizens' comments */

kj_code kjs_store_comments(kjs_store *s, const char *office, const char *period, int max,
                           kj_code (*each)(void *ctx, const char *date, const char *service,
                                           const char *comment),
                           void *ctx, kj_err *err) {
  kj_period p;
  if (kj_period_parse(period, &p))
    return kj_fail(err, KJ_EINVAL, "bad period '%s'", period);
  char from[KJ_DATE_STRLEN + 1], to[KJ_DATE_STRLEN + 1];
  kj_date_format(p.first, from);
  kj_date_format(p.last, to);
  kjs_dbc *c = acquire(s, err);
  if (!c)
    return code_of(err, KJ_EDB);
  kj_code rc = s->ops->survey_comments(c, office, from, to,
                                       max < 1      ? 1
                                       : max > 1000 ? 1000
                                                    : max,
                                       each, ctx, err);
  release(s, c);
  return rc;
}
