/* app.c - routes of HTTP API v1 and their handlers. */
#include "app.h"

#include <errno.h>
#include <inttypes.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cJSON.h>

#include "auth.h"
#include "dash.h"
#include "date.h"
#include "hash.h"
#include "hlc.h"
#include "kjs_enrol.h"
#include "log.h"
#include "msg.h"
#include "reportdoc.h"
#include "wire.h"

/* Pushes a device may pipeline on one connection (hello's
 * limits.max_pipeline): http/net.c answers a connection's requests in
 * order, one at a time, and leaves the bytes of the next ones in the
 * socket until then, so this bounds only what waits there (4 batches of
 * 1,000 changes are about 140 KB of gzip). */
#define KJS_PIPELINE_MAX 4

void kjs_app_init(kjs_app *a, kjs_store *store, const kjs_config *cfg) {
  kj_json_arena_install(); /* before the threadpool runs handlers */
  a->store = store;
  a->cfg = cfg;
  a->dash = NULL;
}

/* ---------------------------------------------------------------------- */
/* helpers */

kj_code kjs_query_get(const char *query, const char *name, char *out, size_t size) {
  return kjh_query_get(query, name, out, size); /* http/query.c */
}

static void reply_error(kjh_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply_error(kjh_response *resp, int status, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  resp->status = status;
  resp->content_type = "application/json";
  kj_buf_reset(&resp->body);
  if (kj_error_encode(&resp->body, msg)) {
    resp->status = 500;
    kj_buf_reset(&resp->body);
    kj_buf_adds(&resp->body, "{\"error\":\"response too large or out of memory\"}\n");
  }
}

static int store_status(kj_code rc) {
  switch (rc) {
  case KJ_EINVAL:
    return 400;
  case KJ_ENOENT:
    return 404;
  case KJ_ETOOBIG:
    return 413;
  case KJ_EBUSY:
    return 503;
  default:
    return 500;
  }
}

/* ---------------------------------------------------------------------- */
/* handlers */

typedef struct ctx {
  kjs_app *app;
  const kjh_request *req;
  kjh_response *resp;
  kjs_principal who;
} ctx;

static void h_healthz(ctx *c) {
  kj_buf_reset(&c->resp->body);
  c->resp->status = kj_health_encode(&c->resp->body) ? 500 : 200;
  c->resp->content_type = "application/json";
}

/* The protocol a caller speaks into *peer: its `protocol` query parameter,
 * 1 when absent (the release of protocol 1 sends none).  KJ_OK, or
 * KJ_EINVAL after answering 400. */
static kj_code peer_protocol(ctx *c, int *peer) {
  char v[16];
  kj_code r = kjs_query_get(c->req->query, "protocol", v, sizeof v);
  *peer = 1;
  if (r == KJ_ENOENT || (r == KJ_OK && !v[0]))
    return KJ_OK;
  char *end;
  long p = r ? -1 : strtol(v, &end, 10);
  if (p < 1 || *end) {
    reply_error(c->resp, 400,
                "bad 'protocol': expected a whole number from 1 (this server "
                "speaks %d to %d)",
                KJ_PROTOCOL_MIN, KJ_PROTOCOL_MAX);
    return KJ_EINVAL;
  }
  /* a newer client is spoken to in the newest protocol this server has */
  *peer = p > KJ_PROTOCOL_MAX ? KJ_PROTOCOL_MAX : (int)p;
  return KJ_OK;
}

/* A message proto/msg.c wrote into the response body. */
static void reply_msg(ctx *c, kj_code rc, const kj_err *e) {
  if (rc) {
    reply_error(c->resp, rc == KJ_ENOMEM ? 503 : 500, "%s", e->msg);
    return;
  }
  c->resp->status = 200;
  c->resp->content_type = "application/json";
}

static void h_hello(ctx *c) {
  kj_hello h;
  memset(&h, 0, sizeof h);
  snprintf(h.version, sizeof h.version, "%s", KJ_VERSION);
  h.server_time = (int64_t)kj_wall_ms();
  snprintf(h.role, sizeof h.role, "%s", kjs_role_name(c->who.role));
  snprintf(h.office, sizeof h.office, "%s", c->who.office);
  if (c->who.role == KJS_ROLE_DEVICE)
    snprintf(h.device, sizeof h.device, "%s", c->who.id);
  h.max_batch = c->app->cfg->max_batch;
  h.max_body = (int64_t)c->app->cfg->net.max_body;
  h.max_pull = KJS_PULL_MAX;
  h.max_pipeline = KJS_PIPELINE_MAX;
  kj_err e;
  kj_err_clear(&e);
  int peer;
  if (peer_protocol(c, &peer))
    return;
  kj_buf_reset(&c->resp->body);
  reply_msg(c, kj_hello_encode(&h, peer, &c->resp->body, &e), &e);
}

static kj_push_status push_status(kjs_status s) {
  return s == KJS_APPLIED     ? KJ_PUSH_APPLIED
         : s == KJS_DUPLICATE ? KJ_PUSH_DUPLICATE
         : s == KJS_REUSED    ? KJ_PUSH_REUSED
         : s == KJS_MISSING   ? KJ_PUSH_MISSING
                              : KJ_PUSH_REJECTED;
}

/* The incarnation of the calling device's database (docs/protocol.md
 * "Restores"): the push body's "incarnation" or the pull's `inc` query
 * parameter, "" when absent.  -1 (answered 400) when malformed. */
static int set_incarnation(ctx *c, const char *inc) {
  if (!inc || !kj_incarnation_valid(inc)) {
    reply_error(c->resp, 400, "bad 'inc': expected 1 to %d characters of 0-9 and a-z",
                KJ_INCARNATION_MAX);
    return -1;
  }
  snprintf(c->who.inc, sizeof c->who.inc, "%s", inc);
  return 0;
}

/* The digest of each decoded change of a push, as the device sent it, by
 * libcrypto's SHA-256 (hash.h); each digest text is kept in texts, whose
 * tail is the change's history body (items[i].body, kj_change_digest_text):
 * written once.  Out of memory, a change's digest is taken alone
 * (kj_change_digest; none: has_digest 0) and no item keeps a body (the
 * texts went): each history body is written at its apply. */
static void push_digests(kj_push_req *req, kjs_item *items, kj_buf *texts) {
  size_t *at = calloc(req->n ? (size_t)req->n : 1, sizeof *at);
  int kept = at != NULL; /* 0: texts failed once (kj_buf lets go of all it held) */
  if (at)
    kj_buf_reserve(texts, (size_t)req->n * 512); /* a hint: it grows when short */
  for (int i = 0; i < req->n; i++) {
    kj_err e;
    kj_err_clear(&e);
    if (!req->e[i].ok)
      continue;
    if (kept && kj_change_digest_text(&req->e[i].ch, kjs_sha256, texts, &at[i], items[i].digest,
                                      &e) == KJ_OK) {
      items[i].has_digest = 1;
      items[i].body = texts->data; /* the offset is made a pointer below */
      continue;
    }
    kept = 0;
    if (kj_change_digest(&req->e[i].ch, items[i].digest, &e) == KJ_OK)
      items[i].has_digest = 1;
  }
  for (int i = 0; i < req->n; i++) /* texts moved as it grew; none when it failed */
    items[i].body = kept && items[i].body ? texts->data + at[i] : NULL;
  free(at);
}

/* "changes[I]" into out (24 bytes): snprintf's cost was 1,400
 * instructions a record. */
static void push_label(char out[24], int i) {
  char d[12];
  int n = 0;
  unsigned v = (unsigned)i;
  do {
    d[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v && n < (int)sizeof d);
  memcpy(out, "changes[", 8);
  int k = 8;
  while (n)
    out[k++] = d[--n];
  out[k++] = ']';
  out[k] = 0;
}

static void h_push(ctx *c) {
  kjs_app *a = c->app;
  kj_push_req req;
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kj_push_decode(c->req->body, c->req->body_len, a->cfg->max_batch, &req, &e);
  if (rc) {
    reply_error(c->resp, rc == KJ_ETOOBIG ? 413 : rc == KJ_ENOMEM ? 503 : 400, "%s", e.msg);
    return;
  }
  int n = req.n;
  /* Stamps are taken as sent (docs/protocol.md "Clocks"): never shifted,
   * never clamped; one further ahead of this clock than clock_ahead_max is
   * refused for now and comes back stamped again. */
  uint64_t now = kj_wall_ms();
  kj_hlc stamp_max = KJ_HLC_MAKE(now + (uint64_t)a->cfg->clock_ahead_ms, 0xffffu);
  kjs_item *items = calloc(n ? (size_t)n : 1, sizeof *items);
  char(*labels)[24] = calloc(n ? (size_t)n : 1, sizeof *labels);
  kj_push_result *res = calloc(n ? (size_t)n : 1, sizeof *res);
  if (!items || !labels || !res) {
    free(items);
    free(labels);
    free(res);
    kj_push_req_release(&req);
    reply_error(c->resp, 503, "out of memory");
    return;
  }
  if (c->who.role == KJS_ROLE_DEVICE && set_incarnation(c, req.incarnation)) {
    free(items);
    free(labels);
    free(res);
    kj_push_req_release(&req);
    return;
  }
  kj_buf texts; /* the digest texts, and in them the history bodies */
  kj_buf_init(&texts, KJ_BUF_UNLIMITED);
  push_digests(&req, items, &texts);
  for (int i = 0; i < n; i++) {
    kj_push_entry *pe = &req.e[i];
    kjs_item *it = &items[i];
    push_label(labels[i], i);
    it->label = labels[i];
    it->track = 1;
    it->seq = pe->seq;
    it->decoded = pe->ok;
    if (!pe->ok) {
      snprintf(it->error, sizeof it->error, "%s", pe->error);
      continue;
    }
    it->ch = pe->ch; /* the item takes the change (its values may be req's) */
    it->ch.lend = 1; /* the states of the transaction go before it */
    pe->ok = 0;
    size_t dl = strnlen(c->who.id, sizeof it->ch.device - 1); /* snprintf's cost: 600 a change */
    memcpy(it->ch.device, c->who.id, dl);
    it->ch.device[dl] = 0;
    it->stamp_max = stamp_max;
    it->now_ms = now;
  }

  kjs_txn *t = NULL;
  rc = kjs_txn_begin(a->store, &t, &e);
  for (int i = 0; !rc && i < n; i++)
    rc = kjs_txn_apply(t, &c->who, &items[i], &e);
  if (t) {
    if (rc)
      kjs_txn_rollback(t);
    else
      rc = kjs_txn_commit(t, &e);
  }
  if (rc) {
    /* a database error (busy, full, I/O, the score upkeep...): nothing of
     * the batch is stored, no result either; the client sends it again */
    KJ_ERROR("push from %s failed: %s", c->who.id, e.msg);
    reply_error(c->resp, 503, "cannot apply the batch, nothing of it was stored: %s; try again",
                e.msg);
  } else {
    int applied = 0;
    for (int i = 0; i < n; i++) {
      res[i].seq = items[i].seq;
      res[i].status = push_status(items[i].status);
      res[i].retry = items[i].status == KJS_RETRY;
      res[i].error = items[i].error;
      res[i].why = items[i].status == KJS_REJECTED ? &items[i].why : NULL;
      if (items[i].status == KJS_APPLIED && !items[i].replayed)
        applied++;
    }
    int64_t high = -1;
    if (c->who.role == KJS_ROLE_DEVICE && kjs_store_device_high(a->store, &c->who, &high, &e))
      high = -1; /* the client learns it at its next request */
    kj_buf_reset(&c->resp->body);
    rc = kj_push_results_encode_high(&c->resp->body, res, n, (int64_t)kj_wall_ms(), high, &e);
    c->resp->count = applied;
    c->resp->zst_level = 1; /* alike lines: as small as at 12, for a tenth (http.h) */
    reply_msg(c, rc, &e);
  }
  for (int i = 0; i < n; i++)
    if (items[i].decoded)
      kj_change_release(&items[i].ch);
  kj_push_req_release(&req); /* the changes' values were lent from it */
  kj_buf_release(&texts);
  free(items);
  free(labels);
  free(res);
}

/* POST /v1/push/status (docs/protocol.md "Batches cut in flight"): the
 * stored results of each asked batch that was applied whole with the same
 * changes (every seq found, the digest of their stored digests equal to
 * the batch's), as a push answer; nothing for the others (not applied, or
 * not provably the same changes: they come again as pushes, where the
 * replay check answers them).  A reader: nothing is written. */
static void h_push_status(ctx *c) {
  kjs_app *a = c->app;
  kj_push_probe p;
  kj_err e;
  kj_err_clear(&e);
  long max_seqs = (long)a->cfg->max_batch * KJS_PIPELINE_MAX;
  kj_code rc = kj_push_probe_decode(c->req->body, c->req->body_len, max_seqs, &p, &e);
  if (rc) {
    reply_error(c->resp, rc == KJ_ETOOBIG ? 413 : rc == KJ_ENOMEM ? 503 : 400, "%s", e.msg);
    return;
  }
  if (c->who.role == KJS_ROLE_DEVICE && set_incarnation(c, p.incarnation)) {
    kj_push_probe_release(&p);
    return;
  }
  long total = 0;
  for (int b = 0; b < p.nb; b++)
    total += p.b[b].n;
  kj_push_result *res = calloc(total ? (size_t)total : 1, sizeof *res);
  kjs_db_applied *row = malloc(sizeof *row);
  char **errs = calloc(total ? (size_t)total : 1, sizeof *errs);
  /* a rule's refusal of a rejected result, as its push answered it */
  typedef struct kept_refusal {
    kj_refusal why;
    char code[KJS_DB_CODE_MAX];
  } kept_refusal;
  kept_refusal **whys = calloc(total ? (size_t)total : 1, sizeof *whys);
  int n = 0;
  if (!res || !row || !errs || !whys)
    rc = kj_fail(&e, KJ_ENOMEM, "out of memory");
  for (int b = 0; !rc && b < p.nb; b++) {
    const kj_probe_batch *pb = &p.b[b];
    mbedtls_sha256_context x;
    mbedtls_sha256_init(&x);
    mbedtls_sha256_starts_ret(&x, 0);
    int n0 = n, same = pb->n > 0;
    for (int i = 0; !rc && same && i < pb->n; i++) {
      int found = 0;
      rc = kjs_store_applied_get(a->store, &c->who, pb->seq[i], &found, row, &e);
      if (rc || !found || row->digest_len != KJ_CHANGE_DIGEST_LEN) {
        same = 0; /* not applied, or stored before digests were kept */
        break;
      }
      mbedtls_sha256_update_ret(&x, row->digest, row->digest_len);
      res[n].seq = pb->seq[i];
      res[n].status = !strcmp(row->status, "applied")     ? KJ_PUSH_APPLIED
                      : !strcmp(row->status, "duplicate") ? KJ_PUSH_DUPLICATE
                                                          : KJ_PUSH_REJECTED;
      if (res[n].status == KJ_PUSH_REJECTED && !(res[n].error = errs[n] = strdup(row->error)))
        rc = kj_fail(&e, KJ_ENOMEM, "out of memory");
      if (!rc && res[n].status == KJ_PUSH_REJECTED && row->code[0]) {
        if (!(whys[n] = malloc(sizeof *whys[n])))
          rc = kj_fail(&e, KJ_ENOMEM, "out of memory");
        else if (kjs_store_applied_refusal(row, &whys[n]->why, whys[n]->code))
          res[n].why = &whys[n]->why;
      }
      n++;
    }
    unsigned char d[32];
    mbedtls_sha256_finish_ret(&x, d);
    mbedtls_sha256_free(&x);
    if (!rc && (!same || memcmp(d, pb->digest, sizeof d) != 0)) {
      for (int i = n0; i < n; i++) {
        free(errs[i]);
        errs[i] = NULL;
        free(whys[i]);
        whys[i] = NULL;
      }
      n = n0; /* this batch goes again as a push */
    }
  }
  if (rc) {
    reply_error(c->resp, rc == KJ_ENOMEM ? 503 : 500, "cannot read the results: %s", e.msg);
  } else {
    kj_buf_reset(&c->resp->body);
    reply_msg(c, kj_push_results_encode(&c->resp->body, res, n, (int64_t)kj_wall_ms(), &e), &e);
  }
  for (int i = 0; errs && i < n; i++)
    free(errs[i]);
  for (int i = 0; whys && i < n; i++)
    free(whys[i]);
  free(errs);
  free(whys);
  free(row);
  free(res);
  kj_push_probe_release(&p);
}

/* The device's office scorecard and employee scores for the current year,
 * quarter and month and the previous quarter and month (the ones an office
 * reports on, by the office's own calendar: kjs_store_office_today), appended to out as a JSON
 * array: the server's report documents decoded (proto/reportdoc.h), the device's office row and its
 * employees taken out, and the entries encoded by kj_report_scores_encode
 * (docs/protocol.md "GET /v1/pull").  A report that cannot be read leaves
 * that part null/empty and is logged.  KJ_ENOMEM when memory ran out on the
 * way (the pull fails: a page never goes out with scores left out). */
static kj_code scores_array(ctx *c, kj_buf *out) {
  if (c->who.role != KJS_ROLE_DEVICE || !kjs_store_has_scores())
    return kj_buf_adds(out, "[]") ? KJ_ENOMEM : KJ_OK;
  /* the office's calendar, not the server's: its current month may be the
   * next one already (WIB is UTC+7) */
  kj_day today;
  kj_err ze;
  kj_err_clear(&ze);
  if (kjs_store_office_today(c->app->store, c->who.office, &today, &ze))
    KJ_WARN("scores for office %s: %s (its day taken as WIB's)", c->who.office, ze.msg);
  char as_of[KJ_DATE_STRLEN + 1];
  kj_date_format(today, as_of);
  int y, m, d;
  kj_day_to_civil(today, &y, &m, &d);
  char periods[5][24];
  int q = (m - 1) / 3 + 1;
  snprintf(periods[0], sizeof periods[0], "%04d", y);
  snprintf(periods[1], sizeof periods[1], "%04d-Q%d", y, q);
  snprintf(periods[2], sizeof periods[2], "%04d-%02d", y, m);
  snprintf(periods[3], sizeof periods[3], "%04d-Q%d", q > 1 ? y : y - 1, q > 1 ? q - 1 : 4);
  snprintf(periods[4], sizeof periods[4], "%04d-%02d", m > 1 ? y : y - 1, m > 1 ? m - 1 : 12);
  kj_report_scores entries[5];
  int nomem = 0;
  for (int p = 0; p < 5; p++) {
    kj_report_scores *en = &entries[p];
    kj_report_scores_init(en);
    en->period = kj_report_strdup(periods[p], &nomem);
    en->as_of = kj_report_strdup(as_of, &nomem);
    kj_buf rep;
    kj_buf_init(&rep, KJ_BUF_UNLIMITED);
    kj_err e;
    kj_err_clear(&e);
    kj_report_offices od;
    kj_report_offices_init(&od);
    kj_code rc = kjs_store_report_offices(c->app->store, periods[p], as_of, &rep, &e);
    if (!rc && kj_report_offices_decode(rep.data, rep.len, &od, &e))
      rc = KJ_ENOMEM; /* the server's own document: cJSON fails it only for want of memory */
    if (rc == KJ_ENOMEM)
      nomem = 1;
    if (!rc) {
      for (size_t i = 0; i < od.n; i++)
        if (!strcmp(od.offices[i].office, c->who.office)) {
          en->office = od.offices[i]; /* moves */
          en->has_office = 1;
          kj_report_office_init(&od.offices[i]);
          break;
        }
    } else {
      KJ_WARN("scores for pull: %s", e.msg);
    }
    kj_report_offices_release(&od);
    kj_buf_reset(&rep);
    kj_report_employees ed;
    kj_report_employees_init(&ed);
    rc = kjs_store_report_employees(c->app->store, periods[p], c->who.office, &rep, &e);
    if (!rc && kj_report_employees_decode(rep.data, rep.len, &ed, &e))
      rc = KJ_ENOMEM; /* the server's own document: cJSON fails it only for want of memory */
    if (rc == KJ_ENOMEM)
      nomem = 1;
    if (!rc) {
      en->employees = ed.employees; /* moves */
      en->n = ed.n;
      ed.employees = NULL;
      ed.n = 0;
    } else {
      KJ_WARN("scores for pull: %s", e.msg);
    }
    kj_report_employees_release(&ed);
    kj_buf_release(&rep);
  }
  kj_err e;
  kj_err_clear(&e);
  size_t mark = out->len;
  kj_code rc = nomem ? KJ_ENOMEM : kj_report_scores_encode(entries, 5, out, &e);
  if (rc && rc != KJ_ENOMEM) {
    KJ_WARN("scores for pull: %s", e.msg);
    out->len = mark;
    if (out->data)
      out->data[mark] = 0;
    rc = kj_buf_adds(out, "[]") ? KJ_ENOMEM : KJ_OK;
  }
  for (int p = 0; p < 5; p++)
    kj_report_scores_release(&entries[p]);
  return rc;
}

/* The tag of a scores array (docs/protocol.md "GET /v1/pull"): the first
 * 128 bits of its SHA-256, hex, into tag[33].  A device that holds scores
 * with this tag gets `"scores": null`: a sync with nothing new stays small. */
static void scores_tag(const kj_buf *arr, char tag[33]) {
  unsigned char hash[32];
  mbedtls_sha256_ret((const unsigned char *)kj_buf_str(arr), arr->len, hash, 0);
  for (size_t i = 0; i < 16; i++)
    snprintf(tag + 2 * i, 3, "%02x", hash[i]);
}

/* The whole number min..max of query parameter name into *out, def when
 * absent or empty: KJ_OK, or KJ_EINVAL (no message: the caller answers). */
static kj_code parse_int_param(const char *query, const char *name, long long def, long long min,
                               long long max, long long *out) {
  char v[32];
  kj_code r = kjs_query_get(query, name, v, sizeof v);
  if (r == KJ_EINVAL)
    return r;
  if (r == KJ_ENOENT || !v[0]) {
    *out = def;
    return KJ_OK;
  }
  char *end;
  errno = 0;
  long long x = strtoll(v, &end, 10);
  if (*end || errno || x < min || x > max)
    return KJ_EINVAL;
  *out = x;
  return KJ_OK;
}

/* What a device's PC reports with its pull (docs/protocol.md "What the PC
 * reports"), kept for the dashboard's Perangkat page.  0, or -1 after a 400
 * for a malformed parameter; a store failure only leaves the last report. */
static int device_report(ctx *c) {
  static const char *const names[] = {"version", "pending", "rejected"};
  char v[3][48];
  const char *p[3];
  for (int i = 0; i < 3; i++) {
    kj_code r = kjs_query_get(c->req->query, names[i], v[i], sizeof v[i]);
    p[i] = r == KJ_OK ? v[i] : NULL;
    if (r != KJ_OK && r != KJ_ENOENT) {
      reply_error(c->resp, 400, "bad '%s': too long or badly escaped", names[i]);
      return -1;
    }
  }
  kj_device_report dr;
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kj_device_report_parse(p[0], p[1], p[2], &dr, &e);
  if (rc == KJ_ENOENT)
    return 0;
  if (rc) {
    reply_error(c->resp, 400, "%s", e.msg);
    return -1;
  }
  if (kjs_store_device_report_put(c->app->store, c->who.id, dr.version, dr.pending, dr.rejected,
                                  (int64_t)kj_wall_ms(), &e))
    KJ_WARN("cannot keep the report of device '%s': %s", c->who.id, e.msg);
  return 0;
}

static void h_pull(ctx *c) {
  long long since, limit;
  if (parse_int_param(c->req->query, "since", 0, 0, INT64_MAX, &since)) {
    reply_error(c->resp, 400, "bad 'since': expected a cursor from a previous pull (or 0)");
    return;
  }
  if (parse_int_param(c->req->query, "limit", KJS_PULL_DEFAULT, 1, KJS_PULL_MAX, &limit)) {
    reply_error(c->resp, 400, "bad 'limit': expected an integer from 1 to %d", KJS_PULL_MAX);
    return;
  }
  /* skip_own=1: leave out the records this device wrote entirely itself
   * (it holds them already); the kinerja client asks for it */
  char own[8];
  int skip_own =
      kjs_query_get(c->req->query, "skip_own", own, sizeof own) == KJ_OK && !strcmp(own, "1");
  int peer;
  if (peer_protocol(c, &peer))
    return;
  char inc[KJ_INCARNATION_MAX + 2] = "", peer_epoch[KJ_INCARNATION_MAX + 2] = "";
  if (kjs_query_get(c->req->query, "inc", inc, sizeof inc) == KJ_EINVAL ||
      (c->who.role == KJS_ROLE_DEVICE && set_incarnation(c, inc))) {
    if (c->resp->status != 400)
      reply_error(c->resp, 400, "bad 'inc'");
    return;
  }
  if (kjs_query_get(c->req->query, "epoch", peer_epoch, sizeof peer_epoch) == KJ_EINVAL ||
      !kj_incarnation_valid(peer_epoch)) {
    reply_error(c->resp, 400, "bad 'epoch': expected the 'epoch' of a previous pull page");
    return;
  }
  if (c->who.role == KJS_ROLE_DEVICE && device_report(c))
    return;
  kj_buf *out = &c->resp->body;
  kj_buf_reset(out);
  kj_err e;
  kj_err_clear(&e);
  int64_t next;
  int more, count;
  /* a restored server: read again from a position this database has */
  int64_t safe = since;
  kj_code rc = kjs_store_pull_since(c->app->store, peer_epoch, since, &safe, &e);
  if (rc) {
    reply_error(c->resp, store_status(rc), "cannot read changes: %s", e.msg);
    return;
  }
  since = safe;
  if (!rc)
    rc = kj_pull_begin(out);
  if (!rc)
    rc = kjs_store_pull(c->app->store, &c->who, since, (int)limit, skip_own, peer, out, &next,
                        &more, &count, &e);
  if (rc) {
    reply_error(c->resp, rc == KJ_ETOOBIG ? 500 : store_status(rc), "cannot read changes: %s",
                e.msg);
    return;
  }
  char cursor[24];
  snprintf(cursor, sizeof cursor, "%" PRId64, next);
  kj_buf scores;
  kj_buf_init(&scores, KJ_BUF_UNLIMITED);
  char tag[33] = "";
  int send = 1;
  if (!more) {
    if (scores_array(c, &scores)) {
      kj_buf_release(&scores);
      reply_error(c->resp, 503, "cannot build the scores: out of memory");
      return;
    }
    scores_tag(&scores, tag);
    char have[64] = "";
    send = !(kjs_query_get(c->req->query, "scores_tag", have, sizeof have) == KJ_OK &&
             !strcmp(have, tag));
  } else if (kj_buf_adds(&scores, "[]")) {
    reply_error(c->resp, 503, "out of memory");
    return;
  }
  kj_pull_restore rx = {.device_high = -1};
  char epoch[KJ_INCARNATION_MAX + 1];
  kjs_store_epoch(c->app->store, epoch);
  rx.epoch = epoch;
  /* a page without its device_high would hide a restore from the device:
   * a pull that cannot read it fails (nothing changed, the device asks again) */
  if (c->who.role == KJS_ROLE_DEVICE &&
      (rc = kjs_store_device_high(c->app->store, &c->who, &rx.device_high, &e))) {
    kj_buf_release(&scores);
    reply_error(c->resp, store_status(rc), "cannot read changes: %s", e.msg);
    return;
  }
  rc = kj_pull_end_restore(out, cursor, more, (int64_t)kj_wall_ms(),
                           send ? kj_buf_str(&scores) : NULL, more ? NULL : tag, &rx);
  kj_buf_release(&scores);
  if (rc) {
    reply_error(c->resp, 500, "pull page too large: ask with a smaller limit");
    return;
  }
  int nmoved = 0;
  if ((rc = kjs_store_pull_moved(c->app->store, &c->who, since, next, out, &nmoved, &e))) {
    reply_error(c->resp, rc == KJ_ETOOBIG ? 500 : store_status(rc), "cannot read changes: %s",
                e.msg);
    return;
  }
  c->resp->status = 200;
  c->resp->content_type = "application/json";
}

/* The `period` query parameter into period (size bytes): KJ_OK, or
 * KJ_EINVAL after answering 400. */
static kj_code check_period(ctx *c, char *period, size_t size) {
  kj_code r = kjs_query_get(c->req->query, "period", period, size);
  kj_period p;
  if (r != KJ_OK || !period[0]) {
    reply_error(c->resp, 400,
                r == KJ_EINVAL ? "bad 'period'" : "missing 'period' (e.g. period=2026-Q1)");
    return KJ_EINVAL;
  }
  if (kj_period_parse(period, &p)) {
    reply_error(c->resp, 400, "bad 'period' '%s': expected 2026, 2026-Q1 or 2026-01", period);
    return KJ_EINVAL;
  }
  return KJ_OK;
}

static void report_reply(ctx *c, kj_code rc, kj_buf *doc, const kj_err *e) {
  if (rc) {
    reply_error(c->resp, store_status(rc), "%s", e->msg);
    return;
  }
  kj_buf_reset(&c->resp->body);
  if (kj_buf_add(&c->resp->body, doc->data ? doc->data : "", doc->len)) {
    reply_error(c->resp, 500, "report too large");
    return;
  }
  c->resp->status = 200;
  c->resp->content_type = "application/json";
}

static void h_report_offices(ctx *c) {
  char period[16], as_of[16];
  if (check_period(c, period, sizeof period))
    return;
  kj_code r = kjs_query_get(c->req->query, "as_of", as_of, sizeof as_of);
  kj_day d;
  if (r == KJ_EINVAL || (r == KJ_OK && kj_date_parse(as_of, &d))) {
    reply_error(c->resp, 400, "bad 'as_of': expected a date YYYY-MM-DD");
    return;
  }
  if (r == KJ_ENOENT || !as_of[0]) { /* the offices' day (docs/scoring.md "The day of a report") */
    int off, mixed;
    const char *abbr;
    kj_err ze;
    kj_err_clear(&ze);
    if (kjs_store_offices_zone(c->app->store, &off, &abbr, &mixed, &ze))
      KJ_WARN("the offices' time zone: %s (their day taken as WIB's)", ze.msg);
    kj_date_format(kj_today(off), as_of);
  }
  kj_buf doc;
  kj_buf_init(&doc, c->resp->body.max);
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_store_report_offices(c->app->store, period, as_of, &doc, &e);
  report_reply(c, rc, &doc, &e);
  kj_buf_release(&doc);
}

static void h_report_employees(ctx *c) {
  char period[16], office[KJ_ID_MAX + 1];
  if (check_period(c, period, sizeof period))
    return;
  kj_code r = kjs_query_get(c->req->query, "office", office, sizeof office);
  if (r != KJ_OK || !office[0]) {
    reply_error(c->resp, 400,
                r == KJ_EINVAL ? "bad 'office'" : "missing 'office' (an office code)");
    return;
  }
  if (c->who.role == KJS_ROLE_DEVICE && strcmp(office, c->who.office) != 0) {
    reply_error(c->resp, 403, "forbidden office: a device reads only its office '%s'",
                c->who.office);
    return;
  }
  kj_buf doc;
  kj_buf_init(&doc, c->resp->body.max);
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_store_report_employees(c->app->store, period, office, &doc, &e);
  report_reply(c, rc, &doc, &e);
  kj_buf_release(&doc);
}

static void h_metrics(ctx *c) {
  kj_buf *out = &c->resp->body;
  kj_buf_reset(out);
  kjh_metrics(out, c->app->cfg->net.metrics);
  kjs_store_stats st;
  kjs_store_stats_get(c->app->store, &st);
  kj_buf_addf(out,
              "# HELP kinerjad_records_total Pushed changes by result since start.\n"
              "# TYPE kinerjad_records_total counter\n"
              "kinerjad_records_total{status=\"applied\"} %lld\n"
              "kinerjad_records_total{status=\"duplicate\"} %lld\n"
              "kinerjad_records_total{status=\"rejected\"} %lld\n"
              "kinerjad_records_total{status=\"replayed\"} %lld\n"
              "kinerjad_records_total{status=\"retry\"} %lld\n"
              "# HELP kinerjad_conflicts_total Overwritten concurrent values logged.\n"
              "# TYPE kinerjad_conflicts_total counter\n"
              "kinerjad_conflicts_total %lld\n"
              "# HELP kinerjad_commits_total Write transactions committed.\n"
              "# TYPE kinerjad_commits_total counter\n"
              "kinerjad_commits_total %lld\n",
              st.applied, st.duplicate, st.rejected, st.replayed, st.retry, st.conflicts,
              st.commits);
  c->resp->status = 200;
  c->resp->content_type = "text/plain; version=0.0.4";
}

/* POST /v1/enrol (docs/protocol.md "Enrolment"): a PC that holds an
 * enrolment code gets its device's token and the certificate to pin.  The
 * code was already checked at the headers (kjs_app_auth); here it is spent,
 * in one transaction, and the token unsealed with the code's secret. */
static void h_enrol(ctx *c) {
  unsigned char secret[KJ_ENROL_SECRET_LEN], hash[32];
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_enrol_header(c->req->authorization, secret, &e);
  if (rc) {
    reply_error(c->resp, 401, "%s",
                rc == KJ_ENOENT ? "expected 'Authorization: Enrol CODE' (kinerja init --enrol)"
                                : e.msg);
    return;
  }
  int64_t now = (int64_t)kj_wall_ms();
  int retry = 0;
  if (!kjs_enrol_fail_allowed(now, &retry)) {
    reply_error(c->resp, 429, "too many failed enrolment attempts: try again in %d s", retry);
    return;
  }
  if (!kjs_enrol_addr_allowed(c->req->remote, now, &retry)) {
    reply_error(c->resp, 429, "too many enrolment attempts from this address: try again in %d s",
                retry);
    return;
  }
  int protocol = 1;
  if (kj_enrol_request_decode(c->req->body, c->req->body_len, &protocol, &e)) {
    reply_error(c->resp, 400, "%s", e.msg);
    return;
  }
  /* the office the PC is set up for (kinerja init --office), if it says:
   * a code of another office is refused and stays unspent */
  char office[KJ_ID_MAX + 1] = "";
  kj_code oq = kjs_query_get(c->req->query, "office", office, sizeof office);
  kj_err oe;
  kj_err_clear(&oe);
  if (oq == KJ_EINVAL || (oq == KJ_OK && kj_record_validate_id(KJ_T_OFFICE, office, &oe))) {
    reply_error(c->resp, 400, "bad 'office': expected an office code such as 36.73.01");
    return;
  }
  kjs_enrol_hash(secret, hash);
  kjs_enrol_use use;
  rc = kjs_store_enrol_use(c->app->store, hash, c->req->remote, oq == KJ_OK ? office : NULL, &use,
                           &e);
  if (rc == KJ_EAUTH) {
    kjs_enrol_fail_note(now);
    reply_error(c->resp, 401, "%s", e.msg);
    return;
  }
  if (rc == KJ_EINVAL) { /* another office's code, not spent: say whose */
    reply_error(c->resp, 409, "%s", e.msg);
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (o && cJSON_AddStringToObject(o, "error", e.msg) &&
        cJSON_AddStringToObject(o, "office", use.office) && (text = cJSON_PrintUnformatted(o))) {
      kj_buf_reset(&c->resp->body);
      kj_buf_adds(&c->resp->body, text);
      kj_buf_adds(&c->resp->body, "\n");
    }
    cJSON_free(text);
    cJSON_Delete(o);
    return;
  }
  if (rc) {
    reply_error(c->resp, store_status(rc), "%s", e.msg);
    return;
  }
  kj_enrol_answer a;
  memset(&a, 0, sizeof a);
  unsigned char tok[sizeof use.sealed + 1], th[32];
  size_t tl = use.sealed_len < sizeof use.sealed ? use.sealed_len : sizeof use.sealed;
  kjs_enrol_seal(secret, use.sealed, tl, tok);
  tok[tl] = 0;
  kjs_token_hash((const char *)tok, tl, th);
  if (memcmp(th, use.token_hash, 32) != 0) {
    memset(tok, 0, sizeof tok);
    reply_error(c->resp, 500,
                "the enrolment code's token is not the device's: ask the BKD for "
                "a new code");
    return;
  }
  snprintf(a.device, sizeof a.device, "%s", use.device);
  snprintf(a.office, sizeof a.office, "%s", use.office);
  memcpy(a.token, tok, tl + 1); /* a.token holds 256 + 1 */
  memset(tok, 0, sizeof tok);
  snprintf(c->resp->who, sizeof c->resp->who, "%s", use.device);
  FILE *f = fopen(c->app->cfg->cert_file, "rb");
  char *pem = malloc(65536);
  size_t n = f && pem ? fread(pem, 1, 65535, f) : 0;
  if (f)
    fclose(f);
  if (pem)
    pem[n] = 0;
  kj_buf_reset(&c->resp->body);
  if (!n || !pem) {
    reply_error(c->resp, 500, "cannot read the server's certificate '%s'", c->app->cfg->cert_file);
  } else {
    a.cert = pem;
    if (kj_enrol_answer_encode(&c->resp->body, &a, &e)) {
      reply_error(c->resp, 500, "%s", e.msg);
    } else {
      c->resp->status = 200;
      c->resp->content_type = "application/json";
      KJ_INFO("device %s of office %s enrolled from %s (protocol %d)", use.device, use.office,
              c->req->remote ? c->req->remote : "?", protocol);
    }
  }
  memset(&a.token, 0, sizeof a.token);
  free(pem);
}

/* ---------------------------------------------------------------------- */
/* routing */

enum { R_NONE = 0, R_ADMIN = 1, R_VIEWER = 2, R_DEVICE = 4, R_ANY = 7 };

typedef struct route {
  const char *path;
  const char *method;
  int roles; /* R_NONE: no token needed */
  void (*fn)(ctx *c);
} route;

static const route routes[] = {
    {"/healthz", "GET", R_NONE, h_healthz},
    {"/v1/hello", "GET", R_ANY, h_hello},
    {"/v1/push", "POST", R_ADMIN | R_DEVICE, h_push},
    {"/v1/push/status", "POST", R_ADMIN | R_DEVICE, h_push_status},
    {"/v1/pull", "GET", R_ADMIN | R_DEVICE, h_pull},
    {"/v1/reports/offices", "GET", R_ADMIN | R_VIEWER, h_report_offices},
    {"/v1/reports/employees", "GET", R_ANY, h_report_employees},
    {"/metrics", "GET", R_ADMIN, h_metrics},
    {"/v1/enrol", "POST", R_NONE, h_enrol}, /* the code itself is checked */
};

kj_code kjs_app_auth(void *app, const char *authorization, kjh_auth_result *res) {
  kjs_app *a = app;
  kjs_principal who;
  kj_err e;
  kj_err_clear(&e);
  /* An enrolment code instead of a token (POST /v1/enrol): only a live code
   * gets its body read; failures count towards the enrolment limit */
  unsigned char secret[KJ_ENROL_SECRET_LEN], hash[32];
  kj_code er = kjs_enrol_header(authorization, secret, &e);
  if (er != KJ_ENOENT) {
    int64_t now = (int64_t)kj_wall_ms();
    int retry = 0;
    if (er == KJ_OK && !kjs_enrol_fail_allowed(now, &retry)) {
      er = kj_fail(&e, KJ_EAUTH, "too many failed enrolment attempts: try again in %d s", retry);
    } else if (er == KJ_OK) {
      kjs_enrol_hash(secret, hash);
      er = kjs_store_enrol_check(a->store, hash, &e);
      if (er == KJ_EAUTH)
        kjs_enrol_fail_note(now);
    }
    memset(secret, 0, sizeof secret);
    if (er == KJ_OK)
      snprintf(res->who, sizeof res->who, "enrol");
    else {
      res->reason = er == KJ_EAUTH ? "unknown" : NULL;
      snprintf(res->msg, sizeof res->msg, "%.150s", e.msg);
    }
    return er;
  }
  kj_code rc = kjs_auth_identify(a->store, authorization, &who, &res->reason, &e);
  if (rc == KJ_OK)
    snprintf(res->who, sizeof res->who, "%s", who.id);
  else
    snprintf(res->msg, sizeof res->msg, "%.150s", e.msg);
  return rc;
}

void kjs_app_handle(void *app, const kjh_request *req, kjh_response *resp) {
  ctx c = {.app = app, .req = req, .resp = resp};
  snprintf(resp->who, sizeof resp->who, "-");
  resp->route = "other";
  resp->count = 0;
  /* the BKD dashboard's pages and /api/ (server/dash.c): a session cookie,
   * not a bearer token */
  if (kjs_dash_handle(c.app->dash, req, resp))
    return;
  const route *r = NULL;
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
    if (!strcmp(req->path, routes[i].path))
      r = &routes[i];
  if (!r) {
    reply_error(resp, 404, "no route '%s'", req->path);
    return;
  }
  resp->route = r->path;
  int head = !strcmp(req->method, "HEAD") && !strcmp(r->method, "GET");
  if (strcmp(req->method, r->method) != 0 && !head) {
    reply_error(resp, 405, "method %s not allowed on '%s': use %s", req->method, r->path,
                r->method);
    return;
  }
  if (r->roles != R_NONE) {
    kj_err e;
    kj_err_clear(&e);
    kj_code rc = kjs_auth_identify(c.app->store, req->authorization, &c.who, NULL, &e);
    if (rc != KJ_OK && rc != KJ_EAUTH) {
      reply_error(resp, 500, "cannot check the token: %s", e.msg);
      return;
    }
    if (rc == KJ_EAUTH) {
      reply_error(resp, 401, "%s", e.msg);
      return;
    }
    snprintf(resp->who, sizeof resp->who, "%s", c.who.id);
    if (!(r->roles & (1 << c.who.role))) {
      reply_error(resp, 403, "forbidden: role '%s' may not use '%s'", kjs_role_name(c.who.role),
                  r->path);
      return;
    }
  }
  r->fn(&c);
}
