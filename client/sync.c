/* sync.c - the sync engine (sync.h; docs/protocol.md "Sync (client side)"). */
#include "sync.h"

#include <cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlc.h"
#include "i18n.h"
#include "log.h"
#include "msg.h"
#include "net.h"
#include "plat.h"
#include "text.h"
#include "uuid.h"
#include "wire.h"
#include "zst.h"

#define DEFAULT_BATCH 1000
#define MAX_RECONNECTS 3 /* connections opened again after a drop, a sync */
/* After a drop, tries to connect again: the first RECONNECT_FIRST_MS after
 * the cut, then each gap doubled up to RECONNECT_GAP_MAX_MS, for at most
 * RECONNECT_BUDGET_MS in all (a refused or reset connection fails at
 * once; one the link does not answer takes its connect timeout). */
#define RECONNECT_FIRST_MS 50
#define RECONNECT_GAP_MAX_MS 100
#define RECONNECT_BUDGET_MS 20000
/* Batches sized to the link (docs/protocol.md "Pipelined push"): with a
 * measured rate, a batch holds what the link carries in about
 * BATCH_LINK_MS (what a drop in its middle costs again), never fewer than
 * MIN_BATCH changes nor more than the batch size. */
#define BATCH_LINK_MS 1000
#define MIN_BATCH 100
/* With a rate known, the pushes in flight hold at most what the link
 * carries in INFLIGHT_RTTS round trips (a third of the connection's TCP +
 * TLS time, a conservative guess) + BATCH_LINK_MS, at least two batches
 * (a batch sized before the rate was known may be bigger than that): enough for
 * an answer to come back and the server to apply the next while a batch
 * is on the wire, and no more, so that what a drop leaves unanswered
 * stays small and the rest of the outbox goes on the next connection
 * behind the push/status question instead of waiting for its answer */
#define INFLIGHT_RTTS 1
/* Slow start (docs/protocol.md "Pipelined push"), as TCP's: when no rate
 * of this link is known (none kept, one older than LINK_RATE_MAX_DAYS or
 * measured against another server URL), the first batches hold
 * SLOW_START_BATCH changes and each later one at most twice the largest
 * batch answered so far (up to the rate's size, then the batch size), so
 * that a drop early in a PC's first sync over a slow link cuts a small
 * batch, and on a LAN the batches reach 1,000 after a few answers */
#define SLOW_START_BATCH 125
#define LINK_RATE_MAX_DAYS 7
#define DEFAULT_CHANGE_BYTES 32.0 /* on the wire per change, before one is measured */
/* a rate is measured from this many bytes of answered pushes, and over at
 * least RATE_MIN_MS unless RATE_ENOUGH_BYTES were answered (a small
 * push's time is its round trip, not the link's rate) */
#define RATE_MIN_BYTES 8192.0
#define RATE_MIN_MS 1000
#define RATE_ENOUGH_BYTES 65536.0
/* the first answer's rate (first_answer_rate): only over a round trip of
 * at least FIRST_ANSWER_MIN_RTT_MS, from an answer that came at least
 * FIRST_ANSWER_MIN_MS after it */
#define FIRST_ANSWER_MIN_RTT_MS 100.0
#define FIRST_ANSWER_MIN_MS 150.0
/* A slow start over a connection whose TCP + TLS handshake waited at
 * least LONG_HANDSHAKE_MS for the link and the server
 * (kjc_net_connect_wait_ms: this process's CPU left out, so a slow PC or
 * valgrind is no long link; 3 round trips of half a second or more: EDGE,
 * VSAT, a poor 3G signal; never a LAN) sends its batches at zstd's
 * highest level until a rate is known: such a link idles most of each
 * round trip while the slow start's small batches wait for their answers,
 * so the level's CPU (about 17 ms for 125 changes here) is hidden, and its
 * 10 % fewer bytes are what the first answers wait for on a slow link.
 * (1,000 ms let a loaded machine's loopback handshake under valgrind
 * through.) */
#define LONG_HANDSHAKE_MS 1500
#define DEFAULT_PULL 1000
/* The page cache of a sync: it reads the outbox once, in order, and pulls
 * in pages of 1,000; 4 MiB holds the indexes a pull writes into. */
#define KJC_SYNC_CACHE_KIB 4096

typedef struct engine {
  kjc_store *s;
  kjc_net *net;
  const kjc_sync_opts *o;
  kjc_sync_result *res;
  long total_pending;
  char inc[KJ_INCARNATION_MAX + 1]; /* this database's incarnation ("" the first) */
  int redo;                         /* a restore was found: push and pull once more */
  int incs;                         /* incarnations taken by this sync */
  /* the first pull page, asked on the pipelining connection right behind
   * the last push (its answer comes after theirs): its path, 1 while its
   * answer waits */
  char pre_path[768];
  size_t pre_base; /* pre_path's length without the PC's report */
  int pre_sent;
  double rate;         /* the push's rate, B/s (meta link_rate, then measured); 0 unknown */
  int rate_measured;   /* this sync measured it */
  double change_bytes; /* on the wire per change of the pushes sent, 0 none yet */
  int slow;            /* slow start: no rate of this link known at the start */
  int answered_max;    /* the largest batch answered by this sync (slow start) */
} engine;

static int cancelled(const engine *e) {
  return e->o->cancel && *e->o->cancel;
}

/* ---- meta helpers ---- */

static uint64_t fnv64(const char *a, const char *b) {
  uint64_t h = 1469598103934665603ull;
  for (const char *p = a; p && *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull;
  for (const char *p = b; p && *p; p++)
    h = (h ^ (unsigned char)*p) * 1099511628211ull;
  return h;
}

static int64_t stored_offset(engine *e) {
  int64_t off = 0;
  kj_err x;
  if (kjc_meta_get_i64(e->s, KJC_META_CLOCK_OFFSET, 0, &off, &x))
    off = 0;
  return off;
}

/* A measured offset (server - local): store it; later stamps are
 * max(last + 1, wall clock + offset).  The HLC itself never steps back
 * (docs/protocol.md "Clocks"): every stamp this PC has made or seen stays
 * below its next one, so an edit made after reading a record wins over
 * what was read, whatever the clocks did.  Old epochs of an earlier
 * release are forgotten: the server takes stamps as sent. */
static kj_code set_offset(engine *e, int64_t measured, kj_err *err) {
  e->res->offset_measured = 1;
  e->res->offset_ms = measured;
  kj_code c = kjc_store_begin(e->s, err);
  if (c)
    return c;
  kj_hlc_clock *clk = kjc_store_clock(e->s);
  int64_t old = clk->offset_ms;
  int64_t diff = measured > old ? measured - old : old - measured;
  if (diff > KJC_CLOCK_EPOCH_MS) {
    c = kjc_meta_set(e->s, KJC_META_CLOCK_EPOCHS, NULL, err);
    KJ_INFO("clock: this PC is %" PRId64 " ms %s the server; stamps are corrected",
            measured < 0 ? -measured : measured, measured < 0 ? "ahead of" : "behind");
  }
  clk->offset_ms = measured;
  if (c) {
    kjc_store_rollback(e->s);
    return c;
  }
  return kjc_store_commit(e->s, err);
}

/* server_time (ms, -1 when the answer had none) against the middle of
 * the request's round trip. */
static void measure(engine *e, const kjc_net_reply *r, int64_t server_time) {
  if (server_time < 0)
    return;
  int64_t mid = r->sent_ms + (r->recv_ms - r->sent_ms) / 2;
  int64_t m = server_time - mid;
  kj_err x;
  kj_err_clear(&x);
  if (set_offset(e, m, &x))
    KJ_WARN("cannot store the clock offset: %s", x.msg);
}

/* ---- replies ---- */

/* The server's {"error": "..."} or a short excerpt of the body. */
static void server_message(const kjc_net_reply *r, char *out, size_t size) {
  char m[200], raw[121];
  if (kj_error_decode(kj_buf_str(&r->body), r->body.len, m, sizeof m) == 0) {
    kj_term_escape(m, out, size);
  } else if (r->body.len) {
    snprintf(raw, sizeof raw, "%s", kj_buf_str(&r->body));
    kj_term_escape(raw, out, size);
  } else {
    snprintf(out, size, "HTTP %ld", r->status);
  }
  size_t n = strlen(out);
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
    out[--n] = 0;
}

static kj_code http_fail(const kjc_net_reply *r, const char *what, kj_err *err) {
  char msg[200];
  server_message(r, msg, sizeof msg);
  if (r->status == 401)
    return kj_fail(err, KJ_EAUTH, _("server refused this device: token revoked (%s)"), msg);
  if (r->status == 403)
    return kj_fail(err, KJ_EAUTH, _("server refused this device: %s"), msg);
  if (r->status == 502 || r->status == 503 || r->status == 504)
    return kj_fail(err, KJ_ENET, _("server unreachable: %s answered %ld: %s"), what, r->status,
                   msg);
  return kj_fail(err, KJ_EPROTO, _("%s failed: server answered %ld: %s"), what, r->status, msg);
}

/* One request; a status other than 200 is an error (http_fail).  r holds
 * the answer for the caller's decoder (release it in every case). */
static kj_code request(engine *e, const char *method, const char *path, const char *body,
                       size_t len, kjc_net_reply *r, const char *what, kj_err *err) {
  e->res->requests++;
  kj_code c = kjc_net_request(e->net, method, path, body, len, r, err);
  if (c)
    return c;
  if (r->status != 200)
    return http_fail(r, what, err);
  return KJ_OK;
}

/* ---- hello ---- */

static kj_code hello(engine *e, const char *key, kj_err *err) {
  kjc_net_reply r;
  kj_hello h;
  char path[48];
  snprintf(path, sizeof path, "/v1/hello?protocol=%d", KJ_PROTOCOL_MAX);
  kj_code c = request(e, "GET", path, NULL, 0, &r, "hello", err);
  if (!c)
    c = kj_hello_decode(kj_buf_str(&r.body), r.body.len, &h, err);
  if (c) {
    kjc_net_reply_release(&r);
    return c;
  }
  const char *mine = kjc_store_office(e->s);
  if (strcmp(h.role, "device") != 0) {
    c = kj_fail(err, KJ_EAUTH, _("server refused this device: the token is not a device token"));
  } else if (strcmp(h.office, mine) != 0) {
    c = kj_fail(err, KJ_EAUTH,
                _("server refused this device: the token is for office '%s', this database is "
                  "office '%s'"),
                h.office, mine);
  } else {
    measure(e, &r, h.server_time);
    int before = kjc_server_protocol(e->s);
    if (!(c = kjc_store_begin(e->s, err))) {
      if (h.device[0])
        c = kjc_meta_set(e->s, KJC_META_DEVICE, h.device, err);
      if (!c && h.max_batch >= 1)
        c = kjc_meta_set_i64(e->s, KJC_META_MAX_BATCH, h.max_batch, err);
      if (!c)
        c = kjc_meta_set_i64(e->s, KJC_META_SERVER_PIPELINE, h.max_pipeline, err);
      if (!c) /* the dictionary both hold, or gzip (docs/protocol.md "Compression") */
        c = kjc_meta_set(e->s, KJC_META_SERVER_CODING, h.zst ? kj_zst_coding() : "gzip", err);
      if (!c)
        kjc_net_set_zst(e->net, h.zst);
      if (!c)
        c = kjc_meta_set_i64(e->s, KJC_META_SERVER_PROTOCOL,
                             h.protocol_max < KJ_PROTOCOL_MAX ? h.protocol_max : KJ_PROTOCOL_MAX,
                             err);
      if (!c)
        c = kjc_meta_set(e->s, KJC_META_HELLO_KEY, key, err);
      if (!c)
        c = kjc_store_commit(e->s, err);
      else
        kjc_store_rollback(e->s);
    }
    if (!c && h.protocol_max < KJ_PROTOCOL_MAX && before != h.protocol_max)
      KJ_INFO("server %s speaks protocol %d (this kinerja %d): changes that need the newer "
              "protocol wait in the outbox until the server is upgraded",
              h.version[0] ? h.version : "?", h.protocol_max, KJ_PROTOCOL_MAX);
    else if (!c && before < KJ_PROTOCOL_MAX && h.protocol_max >= KJ_PROTOCOL_MAX)
      KJ_INFO("server upgraded to protocol %d: held changes go out now", h.protocol_max);
  }
  kjc_net_reply_release(&r);
  return c;
}

/* ---- restores (docs/protocol.md "Restores") ---- */

static kj_code load_incarnation(engine *e, kj_err *err) {
  char *v = NULL;
  kj_code c = kjc_meta_get(e->s, KJC_META_INCARNATION, &v, err);
  e->inc[0] = 0;
  if (!c && v && kj_incarnation_valid(v))
    snprintf(e->inc, sizeof e->inc, "%s", v);
  free(v);
  return c;
}

/* 1 when the server holds a seq of this database's incarnation above the
 * highest seq this database ever gave (device_high < 0: not said). */
static int server_ahead(engine *e, int64_t device_high) {
  if (device_high <= 0)
    return 0;
  int64_t top = 0;
  kj_err x;
  kj_err_clear(&x);
  if (kjc_outbox_top(e->s, &top, &x))
    return 0;
  return device_high > top;
}

/* This database is behind or beside the server's view of its device: it
 * takes a new incarnation (the server keys its changes by it, so its seqs
 * are new there), sends every pending change again under it, and pulls
 * without skipping its own records until the pull is through, so that what
 * its other life pushed comes back.  why: what told it. */
static kj_code take_incarnation(engine *e, const char *why, kj_err *err) {
  if (++e->incs > 2)
    return kj_fail(err, KJ_EPROTO, _("the server refuses every incarnation of this database: %s"),
                   why);
  unsigned char r[8];
  char inc[KJ_INCARNATION_MAX + 1];
  if (kj_random_bytes(r, sizeof r))
    return kj_fail(err, KJ_EIO, _("no random bytes for a new incarnation"));
  for (size_t i = 0; i < 8; i++)
    snprintf(inc + 2 * i, 3, "%02x", r[i]);
  kjc_outbox_stats st;
  memset(&st, 0, sizeof st);
  kj_code c = kjc_store_begin(e->s, err);
  if (c)
    return c;
  if (!(c = kjc_meta_set(e->s, KJC_META_INCARNATION, inc, err)) &&
      !(c = kjc_meta_set(e->s, KJC_META_PULL_FULL, "1", err)) &&
      !(c = kjc_outbox_stats_get(e->s, &st, err)))
    c = kjc_store_commit(e->s, err);
  else
    kjc_store_rollback(e->s);
  if (c)
    return c;
  KJ_WARN("this database was restored or copied: %s; it goes on as incarnation %s: its %ld "
          "pending changes go to the server again and it reads back what the server holds, "
          "its own earlier pushes included",
          why, inc, st.pending);
  snprintf(e->inc, sizeof e->inc, "%s", inc);
  e->redo = 1;
  return KJ_OK;
}

/* A pull page's epoch: the first one is kept; another one means the server
 * was restored from a backup, and every change this database sent in the
 * last KJC_SENT_KEEP_DAYS goes out again (inside the page's transaction,
 * before its states are adopted, so that they merge with the re-queued
 * changes instead of replacing them). */
static kj_code check_epoch(engine *e, const kj_pull_page *p, kj_err *err) {
  if (!p->epoch[0])
    return KJ_OK;
  char *mine = NULL;
  kj_code c = kjc_meta_get(e->s, KJC_META_SERVER_EPOCH, &mine, err);
  if (!c && mine && strcmp(mine, p->epoch) != 0) {
    int64_t n = 0;
    long held = 0;
    /* what it sent, and what it wrote in every record it holds: a PC
     * restored itself may no longer have its own sent log */
    if (!(c = kjc_outbox_resend_sent(e->s, &n, err)) &&
        !(c = kjc_outbox_rederive(e->s, &held, err))) {
      KJ_WARN("the server was restored from a backup (epoch %s, was %s): the %" PRId64
              " changes this database sent in the last %d days and the %ld writes of this "
              "PC in the records it holds go to it again, and it reads again from a position the "
              "server has",
              p->epoch, mine, n, KJC_SENT_KEEP_DAYS, held);
      e->redo = 1;
    }
  }
  if (!c && (!mine || strcmp(mine, p->epoch) != 0))
    c = kjc_meta_set(e->s, KJC_META_SERVER_EPOCH, p->epoch, err);
  free(mine);
  return c;
}

/* ---- push ---- */

static void progress(engine *e, kjc_sync_phase ph, long done, long total) {
  if (e->o->progress) {
    kjc_sync_progress p = {ph, done, total};
    e->o->progress(e->o->progress_ud, &p);
  }
}

static kj_code push_results(engine *e, const kj_push_answer *a, kj_change *ch, int n,
                            int *progressed, int *reused, int *left, kj_err *err) {
  int64_t *acks = malloc((size_t)(n ? n : 1) * sizeof *acks);
  if (!acks)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  int nack = 0;
  long dup = 0, rej = 0, held = 0, later = 0;
  kj_hlc from = 0; /* the lowest stamp refused for now */
  const char *why = NULL;
  *progressed = 0;
  *reused = 0;
  *left = 0;
  kj_code c = kjc_store_begin(e->s, err);
  for (int idx = 0; idx < a->n; idx++) {
    const kj_push_result *res = &a->r[idx];
    int k = -1;
    if (res->seq >= 0) {
      if (idx < n && ch[idx].seq == res->seq)
        k = idx;
      else
        for (int j = 0; j < n && k < 0; j++)
          if (ch[j].seq == res->seq)
            k = j;
    } else if (idx < n) {
      k = idx; /* the server could not read the seq: results are in order */
    }
    if (k < 0)
      continue;
    if (res->status == KJ_PUSH_REUSED) {
      (*reused)++; /* stays pending: sent again under a new incarnation */
      ch[k].seq = -1;
    } else if (res->status == KJ_PUSH_MISSING) {
      if (!c)
        c = kjc_outbox_park(e->s, ch[k].seq, res->error, err);
      rej++;
      ch[k].seq = -1;
    } else if (res->status == KJ_PUSH_APPLIED || res->status == KJ_PUSH_DUPLICATE) {
      acks[nack++] = ch[k].seq;
      if (res->status == KJ_PUSH_DUPLICATE)
        dup++;
      ch[k].seq = -1; /* answered */
    } else if (a->protocol < ch[k].needs) {
      /* refused by a server older than the change needs (it was rolled
       * back): not a rejection of the data; held again for the upgrade */
      if (!c)
        c = kjc_outbox_requeue(e->s, ch[k].seq, err);
      held++;
      ch[k].seq = -1;
    } else if (res->retry) {
      /* refused for now: a stamp too far ahead of the server's clock; it
       * stays pending, stamped again below */
      if (!later || ch[k].hlc < from)
        from = ch[k].hlc;
      if (!why)
        why = res->error;
      later++;
      ch[k].seq = -1;
    } else {
      if (!c)
        c = kjc_outbox_reject(e->s, ch[k].seq, res->error, err);
      rej++;
      ch[k].seq = -1;
    }
  }
  if (!c && held)
    c = kjc_meta_set_i64(e->s, KJC_META_SERVER_PROTOCOL, a->protocol, err);
  if (!c)
    c = kjc_outbox_ack(e->s, acks, nack, err);
  long restamped = 0;
  if (!c && later && !(c = kjc_outbox_restamp(e->s, from, &restamped, err)) && !restamped)
    c = kj_fail(err, KJ_EPROTO,
                _("push: the server refused %ld change%s for now and this PC cannot stamp them "
                  "earlier: %s"),
                later, later == 1 ? "" : "s", why ? why : "");
  if (!c && restamped)
    KJ_INFO("clock: %ld change%s stamped by a clock ahead of the server's, stamped again after "
            "everything this PC has seen; sending again",
            restamped, restamped == 1 ? " was" : "s were");
  if (!c)
    c = kjc_meta_set_i64(e->s, KJC_META_LAST_PUSH, kjc_net_now_ms(), err);
  if (!c)
    c = kjc_store_commit(e->s, err);
  else
    kjc_store_rollback(e->s);
  free(acks);
  if (!c) {
    /* pending still: answered "later" or "reused", or not answered */
    *left = (int)later + *reused;
    for (int i = 0; i < n; i++)
      *left += ch[i].seq >= 0;
    e->res->pushed += nack;
    e->res->duplicate += dup;
    e->res->rejected += rej;
    *progressed = nack + (int)rej + (int)held + (later ? 1 : 0);
    if (held)
      KJ_WARN("the server speaks protocol %d, older than %ld change%s need: held until it is "
              "upgraded",
              a->protocol, held, held == 1 ? "" : "s");
  }
  return c;
}

static kj_code pull_protocol_check(engine *e, kj_err *err);
static kj_code pull_path(engine *e, char *path, size_t size, size_t *base, long in_flight,
                         int *skip_own, kj_err *err);

/* The pull's first page asked right behind the last push on the
 * pipelining connection (the server answers in order: after the pushes,
 * so the page reflects them and skip_own leaves them out): the round trip
 * of the pull is the pushes' own. */
static kj_code pull_ahead(engine *e, long in_flight, kj_err *err) {
  int skip_own = 0;
  kj_code c = pull_protocol_check(e, err);
  if (!c)
    c = pull_path(e, e->pre_path, sizeof e->pre_path, &e->pre_base, in_flight, &skip_own, err);
  if (!c)
    c = kjc_net_send(e->net, "GET", e->pre_path, NULL, 0, err);
  if (!c) {
    e->res->requests++;
    e->pre_sent = 1;
  }
  return c;
}

/* The answer of a pull asked ahead that is not wanted any more (the push
 * starts again, or the pull's path changed): read and dropped. */
static kj_code pull_ahead_drop(engine *e, kj_err *err) {
  if (!e->pre_sent)
    return KJ_OK;
  e->pre_sent = 0;
  if (!kjc_net_pipe_is_open(e->net))
    return KJ_OK; /* closed: it was not answered */
  kjc_net_reply r;
  kj_code c = kjc_net_recv(e->net, &r, err);
  kjc_net_reply_release(&r);
  return c;
}

/* The answer to the push of ch[0..n) (c: the request's code, r its
 * reply): acknowledgements into the outbox, the clock offset from an
 * answer that did not wait behind another.  *batch is halved on a 413;
 * *again is set when changes of the batch stay pending (a 413, "later",
 * "reused", unanswered) and the push must start again from the oldest
 * pending change; inc_why gets why a new incarnation is needed. */
static kj_code push_answer(engine *e, kj_code c, const kjc_net_reply *r, kj_change *ch, int n,
                           int *batch, int *again, char *inc_why, size_t why_size, long *done,
                           kj_err *err) {
  if (c == KJ_EPROTO && r->status == 413 && *batch > 1) {
    /* the server's limits are smaller: halve and go on */
    kj_err_clear(err);
    *batch /= 2;
    *again = 1;
    return KJ_OK;
  }
  if (c)
    return c;
  kj_push_answer a;
  c = kj_push_answer_decode(kj_buf_str(&r->body), r->body.len, &a, err);
  if (c)
    return c;
  if (!r->queued)
    measure(e, r, a.server_time);
  int prog = 0, reused = 0, left = 0;
  c = push_results(e, &a, ch, n, &prog, &reused, &left, err);
  if (!c && (reused || server_ahead(e, a.device_high))) {
    if (!inc_why[0]) {
      if (reused)
        snprintf(inc_why, why_size, "the server holds other changes under %d of its change numbers",
                 reused);
      else
        snprintf(inc_why, why_size,
                 "the server holds changes of this device up to number %" PRId64
                 " that it never wrote",
                 a.device_high);
    }
    prog = prog ? prog : 1; /* the batch goes again under the new incarnation */
    *again = 1;
  }
  if (!c && left)
    *again = 1;
  if (!c && prog == 0)
    c = kj_fail(err, KJ_EPROTO, _("push: the server answered no change of the batch"));
  *done += prog;
  progress(e, KJC_PHASE_PUSH, *done, e->total_pending);
  kj_push_answer_release(&a);
  return c;
}

/* One batch sent and not answered yet (a stop-and-wait one holds its
 * answer already). */
typedef struct cutq cutq;
static void cutq_free(cutq *q);

typedef struct flight {
  kj_change *ch;
  int n;
  kj_code rc; /* stop-and-wait: the request's code */
  kjc_net_reply r;
  uint64_t bytes;    /* of the request on the wire */
  cutq *q;           /* a push/status question (its batches), not a push */
  int spec;          /* the last cut batch sent behind the question */
  int vouched;       /* ... and the question's answer vouched for it: its own answer is a replay */
  int64_t t_sent;    /* when its request was written (ms, kjc_net_now_ms) */
  int64_t busy_sent; /* the push's busy ms then (push_with) */
} flight;

static void flight_release(flight *f) {
  for (int i = 0; i < f->n; i++)
    kj_change_release(&f->ch[i]);
  free(f->ch);
  kjc_net_reply_release(&f->r);
  cutq_free(f->q);
  memset(f, 0, sizeof *f);
}

/* The push (docs/protocol.md "Push", "Pipelined push"): batches of the
 * oldest pending changes in seq order.  With a server that takes them
 * pipelined (hello's limits.max_pipeline), up to that many batches (at
 * most KJC_PIPE_MAX) go out on one connection before the first answer:
 * the next batch is read, encoded and sent while the server applies the
 * last.  Answers come in order; each batch's changes leave the outbox only
 * with its answer, so a cut loses nothing and sends again only what was
 * not acknowledged.  Whatever keeps a change of a batch pending (a 413,
 * "later", a new incarnation, a closed connection) stops the sending: the
 * batches in flight are answered, then the push starts again from the
 * oldest pending change.  Without pipelining, one batch at a time. */
static kj_code push_with(engine *e, int plain, long *answered, int *was_piped, kj_err *err);

/* ---- batches cut in flight (docs/protocol.md "Batches cut in flight") ---- */

/* The batches fl[0..nfl) were sent and their answers never came (a cut, a
 * timeout): their seqs go into KJC_META_PUSH_CUT so that the next push
 * asks the server which of them it applied instead of sending them again.
 * Best effort: when it cannot be written the batches are simply sent
 * again (the server answers replays), so a failure is only logged. */
/* One line of KJC_META_PUSH_CUT: "\nA-B,C-D" of the ascending seqs seq[0..n). */
static kj_code cut_line(kj_buf *b, const int64_t *seq, int n) {
  kj_code c = kj_buf_addc(b, '\n');
  for (int k = 0; !c && k < n;) {
    int j = k;
    while (j + 1 < n && seq[j + 1] == seq[j] + 1)
      j++;
    c = kj_buf_addf(b, "%s%" PRId64 "-%" PRId64, k ? "," : "", seq[k], seq[j]);
    k = j + 1;
  }
  return c;
}

struct cutq {      /* the batches of KJC_META_PUSH_CUT read back (cut_load) */
  kj_push_probe p; /* the question: each batch's seqs and digest */
  kj_change *all;  /* their changes, batch after batch */
  int nall;
  char **ids; /* their record ids, sorted (cut_conflicts) */
  int nids;
};

static void cut_record(engine *e, const flight *fl, int nfl) {
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_code c = kj_buf_adds(&b, e->inc);
  int any = 0;
  for (int i = 0; !c && i < nfl; i++) {
    if (fl[i].q) { /* a question cut in its turn: its batches are still unanswered */
      for (int k = 0; !c && k < fl[i].q->p.nb; k++, any = 1)
        c = cut_line(&b, fl[i].q->p.b[k].seq, fl[i].q->p.b[k].n);
      continue;
    }
    /* the last cut batch sent behind a question still unanswered: noted
     * already among the question's batches (noted twice it was asked about
     * twice and each of its changes acknowledged and counted twice) */
    if (fl[i].n <= 0 || (fl[i].spec && fl[0].q))
      continue;
    int64_t *seq = malloc((size_t)fl[i].n * sizeof *seq);
    if (!seq) {
      c = KJ_ENOMEM;
      break;
    }
    for (int k = 0; k < fl[i].n; k++)
      seq[k] = fl[i].ch[k].seq;
    any = 1;
    c = cut_line(&b, seq, fl[i].n);
    free(seq);
  }
  kj_err x;
  kj_err_clear(&x);
  if (!c && any && !(c = kjc_store_begin(e->s, &x))) {
    if ((c = kjc_meta_set(e->s, KJC_META_PUSH_CUT, kj_buf_str(&b), &x)))
      kjc_store_rollback(e->s);
    else
      c = kjc_store_commit(e->s, &x);
  }
  if (c)
    KJ_WARN("cannot note the batches cut in flight (they will be sent again): %s",
            x.msg[0] ? x.msg : "out of memory");
  kj_buf_release(&b);
}

static kj_code cut_clear(engine *e, kj_err *err) {
  kj_code c = kjc_store_begin(e->s, err);
  if (!c && (c = kjc_meta_set(e->s, KJC_META_PUSH_CUT, "", err)) == KJ_OK)
    return kjc_store_commit(e->s, err);
  if (!c)
    return c;
  kjc_store_rollback(e->s);
  return c;
}

/* One batch of KJC_META_PUSH_CUT ("A-B,C-D") read back from the outbox
 * into pb and ch (at most max changes): 1 when every seq is still pending
 * in the outbox and nothing else lies between them (the batch as it was
 * sent), else 0 (it goes as a push).  Errors are the outbox's. */
static kj_code cut_batch(engine *e, const char *line, kj_probe_batch *pb, kj_change *ch, int max,
                         int *ok, kj_err *err) {
  *ok = 0;
  pb->n = 0;
  for (const char *p = line; *p && *p != '\n';) {
    char *end;
    long long a = strtoll(p, &end, 10), z = a;
    if (end == p || a < 0)
      return KJ_OK;
    p = end;
    if (*p == '-') {
      z = strtoll(p + 1, &end, 10);
      p = end;
    }
    if (z < a || z - a >= max - pb->n)
      return KJ_OK;
    for (long long s = a; s <= z; s++)
      pb->seq[pb->n++] = s;
    if (*p == ',')
      p++;
    else if (*p && *p != '\n')
      return KJ_OK;
  }
  if (pb->n == 0)
    return KJ_OK;
  int got = 0;
  kj_code c = kjc_outbox_batch_after(e->s, pb->seq[0] - 1, pb->n, ch, &got, err);
  if (c)
    return c;
  int same = got == pb->n;
  for (int i = 0; same && i < got; i++)
    same = ch[i].seq == pb->seq[i];
  if (same)
    c = kj_push_probe_digest(ch, got, pb->digest, err);
  if (c || !same) {
    for (int i = 0; i < got; i++)
      kj_change_release(&ch[i]);
    return c;
  }
  *ok = 1;
  return KJ_OK;
}

static void cutq_free(cutq *q) {
  if (!q)
    return;
  for (int i = 0; i < q->nall; i++)
    kj_change_release(&q->all[i]);
  free(q->all);
  free(q->ids);
  kj_push_probe_release(&q->p);
  free(q);
}

static int cmp_id(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The index of the first change of ch[0..n) that is of a record of q's
 * batches, n when none is: sent before the question is answered it could
 * reach the server before a change of its record that the server does not
 * have yet (a batch the drop cut), so it waits for the answer. */
static int cut_conflicts(const cutq *q, const kj_change *ch, int n) {
  for (int i = 0; i < n; i++) {
    const char *id = ch[i].rec.id;
    if (q->nids && bsearch(&id, q->ids, (size_t)q->nids, sizeof *q->ids, cmp_id))
      return i;
  }
  return n;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* 1 when a seq of pb is in one of p's batches (each batch's seqs ascend). */
static int cut_overlaps(const kj_push_probe *p, const kj_probe_batch *pb) {
  for (int k = 0; k < p->nb; k++)
    for (int i = 0; i < pb->n; i++)
      if (bsearch(&pb->seq[i], p->b[k].seq, (size_t)p->b[k].n, sizeof *pb->seq, cmp_i64))
        return 1;
  return 0;
}

/* When the last push was cut with batches in flight (KJC_META_PUSH_CUT),
 * *out gets them read back from the outbox with the question about them
 * (a batch no longer pending exactly as sent is left out: it goes as a
 * push); NULL when there is nothing to ask (the meta of another
 * incarnation is cleared). */
static kj_code cut_load(engine *e, cutq **out, kj_err *err) {
  *out = NULL;
  char *v = NULL;
  kj_code c = kjc_meta_get(e->s, KJC_META_PUSH_CUT, &v, err);
  if (c || !v || !v[0]) {
    free(v);
    return c;
  }
  const char *nl = strchr(v, '\n');
  size_t il = nl ? (size_t)(nl - v) : strlen(v);
  if (!nl || il != strlen(e->inc) || memcmp(v, e->inc, il) != 0) {
    free(v); /* another incarnation since: everything pending goes again */
    return cut_clear(e, err);
  }
  int cap = (int)(e->o->batch > 0 ? e->o->batch : DEFAULT_BATCH);
  int64_t mb = 0;
  kj_err x;
  if (!kjc_meta_get_i64(e->s, KJC_META_MAX_BATCH, 0, &mb, &x) && mb > cap)
    cap = (int)(mb < 100000 ? mb : 100000);
  cutq *q = calloc(1, sizeof *q);
  if (!q) {
    free(v);
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  }
  kj_push_probe *p = &q->p;
  snprintf(p->incarnation, sizeof p->incarnation, "%s", e->inc);
  for (const char *line = nl + 1; !c && *line && p->nb < KJC_PIPE_MAX;) {
    kj_probe_batch *pb = &p->b[p->nb];
    kj_change *grown = realloc(q->all, (size_t)(q->nall + cap) * sizeof *q->all);
    if (!grown || !(pb->seq = malloc((size_t)cap * sizeof *pb->seq))) {
      if (grown)
        q->all = grown;
      c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
      break;
    }
    q->all = grown;
    int ok = 0;
    c = cut_batch(e, line, pb, q->all + q->nall, cap, &ok, err);
    if (!c && ok && cut_overlaps(p, pb)) {
      /* a batch noted twice (a question cut with the last cut batch sent
       * behind it, before cut_record skipped that one): asked about once,
       * so that each change is acknowledged and counted once */
      for (int i = 0; i < pb->n; i++)
        kj_change_release(&q->all[q->nall + i]);
      ok = 0;
    }
    if (!c && ok) {
      q->nall += pb->n;
      p->nb++;
    } else {
      free(pb->seq);
      pb->seq = NULL;
      pb->n = 0;
    }
    const char *next = strchr(line, '\n');
    line = next ? next + 1 : line + strlen(line);
  }
  free(v);
  if (!c && q->nall > 0) {
    char **ids = malloc((size_t)q->nall * sizeof *ids);
    if (!ids) {
      c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
    } else {
      for (int i = 0; i < q->nall; i++)
        ids[i] = q->all[i].rec.id;
      qsort(ids, (size_t)q->nall, sizeof *ids, cmp_id);
      q->ids = ids;
      q->nids = q->nall;
    }
  }
  if (c || p->nb == 0) {
    cutq_free(q);
    return c ? c : cut_clear(e, err);
  }
  *out = q;
  return KJ_OK;
}

/* The answer to q's question (c: the request's code, r its reply): the
 * results it holds taken like a push's answers (applied and duplicate
 * acknowledged, rejected kept with the reason); the batches it does not
 * vouch for stay pending (a server without the route, 404, or that cannot
 * tell: all of them).  KJC_META_PUSH_CUT is cleared; *done (may be NULL)
 * grows by the changes answered.  Fails only on what
 * ends the push (network, refusal, interrupt, memory, the outbox). */
static kj_code cut_answer(engine *e, cutq *q, kj_code c, const kjc_net_reply *r, long *done,
                          kj_err *err) {
  if (c && c != KJ_ENET && c != KJ_EAUTH && c != KJ_EINTR && c != KJ_ENOMEM) {
    kj_err_clear(err);
    c = KJ_OK;
  } else if (!c) {
    kj_push_answer a;
    c = kj_push_answer_decode(kj_buf_str(&r->body), r->body.len, &a, err);
    if (!c)
      KJ_DEBUG("push status: %d batch%s of %d changes cut in flight asked, %d answered", q->p.nb,
               q->p.nb == 1 ? "" : "es", q->nall, a.n);
    int prog = 0, reused = 0, left = 0;
    long pushed0 = e->res->pushed;
    if (!c && a.n > 0) {
      c = push_results(e, &a, q->all, q->nall, &prog, &reused, &left, err);
      if (!c && done)
        *done += prog;
      if (!c) {
        KJ_INFO("push: %ld change%s of the batches cut in flight had been applied: not sent "
                "again",
                e->res->pushed - pushed0, e->res->pushed - pushed0 == 1 ? "" : "s");
        e->res->resumed += e->res->pushed - pushed0;
      }
    }
    if (!c)
      kj_push_answer_release(&a);
  }
  if (!c)
    c = cut_clear(e, err);
  return c;
}

/* The question's body (POST /v1/push/status) into body (initialised by
 * the call; release it in every case). */
static kj_code cut_body(const cutq *q, kj_buf *body, kj_err *err) {
  kj_buf_init(body, KJ_BUF_UNLIMITED);
  return kj_push_probe_encode(body, &q->p, err);
}

/* Before a push one batch at a time: when the last one was cut with
 * batches in flight, ask the server which of them it applied and wait for
 * the answer (a pipelined push asks it on its connection and sends on
 * meanwhile: push_with), so that a cut costs at most the batch that was on
 * its way, not the ones applied whose answers were lost. */
static kj_code push_resume(engine *e, kj_err *err) {
  cutq *q = NULL;
  kj_code c = cut_load(e, &q, err);
  if (c || !q)
    return c;
  kj_buf body;
  kjc_net_reply r;
  memset(&r, 0, sizeof r);
  kj_code rc = cut_body(q, &body, err);
  if (!rc)
    rc = request(e, "POST", "/v1/push/status", kj_buf_str(&body), body.len, &r, "push status", err);
  kj_buf_release(&body);
  c = cut_answer(e, q, rc, &r, NULL, err);
  kjc_net_reply_release(&r);
  cutq_free(q);
  return c;
}

/* The link's rate as the last sync measured it (meta link_rate, B/s),
 * for this sync's first batches and their compression level: only when it
 * was measured within LINK_RATE_MAX_DAYS (meta link_rate_ms) against the
 * server URL of this sync (meta link_rate_server); else none is known and
 * the push starts slow (e->slow). */
static void rate_load(engine *e) {
  int64_t v = 0, at = 0;
  char *url = NULL, *was = NULL;
  kj_err x;
  e->slow = e->o->batch <= 0; /* --batch N: no slow start */
  if (kjc_meta_get_i64(e->s, KJC_META_LINK_RATE, 0, &v, &x) || v <= 0 ||
      kjc_meta_get_i64(e->s, KJC_META_LINK_RATE_MS, 0, &at, &x) ||
      kjc_meta_get(e->s, KJC_META_SERVER, &url, &x) ||
      kjc_meta_get(e->s, KJC_META_LINK_RATE_SERVER, &was, &x)) {
    free(url);
    return;
  }
  int64_t age = (int64_t)kj_wall_ms() - at;
  int fresh = at > 0 && age >= -86400000LL && age <= LINK_RATE_MAX_DAYS * 86400000LL;
  int same = url && was && strcmp(url, was) == 0;
  free(url);
  free(was);
  if (!fresh || !same) {
    KJ_DEBUG("push: the link's rate kept (%lld B/s) is %s: starting slow", (long long)v,
             !same ? "of another server URL" : "too old");
    return;
  }
  e->slow = 0;
  e->rate = (double)v;
  kjc_net_set_rate(e->net, e->rate);
}

/* The next batch's size: the batch size, or with a known rate what the
 * link carries in BATCH_LINK_MS (at least MIN_BATCH).  A size given by the
 * caller (--batch) stays as it is. */
static int batch_for_link(const engine *e, int batch) {
  if (e->o->batch > 0 || e->rate <= 0 || batch <= MIN_BATCH)
    return batch;
  double per = e->change_bytes > 0 ? e->change_bytes : DEFAULT_CHANGE_BYTES;
  double n = e->rate * BATCH_LINK_MS / 1000.0 / per;
  if (n < MIN_BATCH)
    n = MIN_BATCH;
  return n < batch ? (int)n : batch;
}

/* The next new batch's size: batch_for_link's, and in a slow start
 * (e->slow: no rate of this link known at the start; not with --batch)
 * at most SLOW_START_BATCH before any answer, then twice the largest
 * batch answered so far. */
static int batch_next(const engine *e, int batch) {
  int n = batch_for_link(e, batch);
  if (!e->slow || e->o->batch > 0)
    return n;
  long cap = e->answered_max > 0 ? 2L * e->answered_max : SLOW_START_BATCH;
  if (cap < SLOW_START_BATCH)
    cap = SLOW_START_BATCH;
  return cap < n ? (int)cap : n;
}

/* Slow start on a slow link: the first answer of a pipelined push (bytes
 * of its request, ms from its request written to its answer read) came
 * back later than a round trip (the connection's TCP + TLS wait / 3,
 * kjc_net_connect_wait_ms: this process's CPU left out) would bring it by
 * FIRST_ANSWER_MIN_MS or more, ms being from its request written to its
 * answer read less the time this process was busy meanwhile (writing the
 * batches behind it): the rest is the time the
 * link took to carry the request (and the server to apply it, so the rate
 * is rather under than over).  When that rate is below KJC_RATE_SLOW it is
 * taken as this sync's rate until the answers measure one (not kept):
 * the next batches are sized to it, go at the slow link's zstd level and
 * within the link's window, instead of those of a slow start that does
 * not know the link (round 8, docs/performance.md).  A round trip under
 * FIRST_ANSWER_MIN_RTT_MS (a LAN, loopback) or an answer within the
 * round trip + FIRST_ANSWER_MIN_MS (a busy server, not a slow link) tells
 * nothing. */
static void first_answer_rate(engine *e, uint64_t bytes, int64_t ms) {
  double rtt = (double)kjc_net_connect_wait_ms(e->net) / 3.0;
  double carry = (double)ms - rtt;
  if (rtt < FIRST_ANSWER_MIN_RTT_MS || carry < FIRST_ANSWER_MIN_MS || bytes == 0)
    return;
  double r = (double)bytes * 1000.0 / carry;
  KJ_DEBUG("push: the first answer after %lld ms (a round trip about %.0f ms): the link carries "
           "about %.0f B/s%s",
           (long long)ms, rtt, r,
           r < KJC_RATE_SLOW ? ", a slow link: batches and level to it" : "");
  if (r >= KJC_RATE_SLOW)
    return;
  e->rate = r;
  kjc_net_set_rate(e->net, e->rate);
}

/* The rate measured by this sync, kept for the next (best effort). */
static void rate_store(engine *e) {
  if (!e->rate_measured)
    return;
  KJ_DEBUG("push: the link's rate %.0f B/s, %.1f B a change on the wire: batches of up to %d, zstd "
           "level %d",
           e->rate, e->change_bytes, batch_for_link(e, DEFAULT_BATCH), kjc_net_level(e->net));
  kj_err x;
  kj_err_clear(&x);
  char *url = NULL;
  kj_code c = kjc_meta_get(e->s, KJC_META_SERVER, &url, &x);
  if (!c)
    c = kjc_store_begin(e->s, &x);
  if (!c) {
    c = kjc_meta_set_i64(e->s, KJC_META_LINK_RATE, (int64_t)e->rate, &x);
    if (!c)
      c = kjc_meta_set_i64(e->s, KJC_META_LINK_RATE_MS, (int64_t)kj_wall_ms(), &x);
    if (!c)
      c = kjc_meta_set(e->s, KJC_META_LINK_RATE_SERVER, url ? url : "", &x);
    if (c)
      kjc_store_rollback(e->s);
    else
      c = kjc_store_commit(e->s, &x);
  }
  free(url);
  if (c)
    KJ_DEBUG("cannot keep the link's rate: %s", x.msg);
}

/* A pipelined push that fails on the network before any batch was answered
 * goes once more one batch at a time: a server that refuses the device
 * (401) closes the connection while the pushes are still arriving, and a
 * TLS stack that drops the unread answer then (Windows' Schannel) would
 * report the link as down instead of the refusal. */
static kj_code push(engine *e, kj_err *err) {
  long answered = 0;
  int piped = 0, refused = kjc_net_zst_refused(e->net);
  rate_load(e);
  kj_code c = push_with(e, 0, &answered, &piped, err);
  if (c == KJ_ENET && piped && answered == 0 && !cancelled(e)) {
    kj_err_clear(err);
    kjc_net_pipe_close(e->net);
    e->pre_sent = 0;
    c = push_with(e, 1, &answered, &piped, err); /* asks what of the batches sent was applied */
  }
  /* A drop after progress (batches answered): the link came and went, as a
   * rural one does.  Connect again as soon as the link answers (tries
   * RECONNECT_FIRST_MS after the cut, then at gaps doubling to
   * RECONNECT_GAP_MAX_MS, for RECONNECT_BUDGET_MS at most), resuming the
   * TLS session (client/net.c: one round trip and the certificate less),
   * ask what of the batches cut in flight the server applied and go on
   * behind that question, instead of ending the sync.  At most
   * MAX_RECONNECTS a sync, each after a connection that moved the outbox
   * forward. */
  for (int k = 0; c == KJ_ENET && piped && answered > 0 && k < MAX_RECONNECTS && !cancelled(e);
       k++) {
    KJ_INFO("push: the connection dropped after %ld change%s answered: connecting again", answered,
            answered == 1 ? "" : "s");
    kjc_net_pipe_close(e->net);
    e->pre_sent = 0;
    kj_err x;
    kj_err_clear(&x);
    kj_code o = KJ_ENET;
    int64_t t0 = kjc_net_now_ms();
    int tries = 0;
    for (long gap = RECONNECT_FIRST_MS; o == KJ_ENET && !cancelled(e);) {
      int64_t spent = kjc_net_now_ms() - t0;
      if (spent >= RECONNECT_BUDGET_MS)
        break;
      kj_sleep_ms(gap < RECONNECT_BUDGET_MS - spent ? gap : (long)(RECONNECT_BUDGET_MS - spent));
      if (cancelled(e))
        break;
      tries++;
      o = kjc_net_pipe_open(e->net, &x);
      gap = gap * 2 < RECONNECT_GAP_MAX_MS ? gap * 2 : RECONNECT_GAP_MAX_MS;
    }
    if (cancelled(e)) {
      c = kj_fail(err, KJ_EINTR, _("interrupted"));
      break;
    }
    if (o) { /* still unreachable: the drop's error stands (exit 2) */
      if (o != KJ_ENET && err)
        *err = x;
      c = o;
      break;
    }
    KJ_DEBUG("push: connected again after %d tr%s, %lld ms", tries, tries == 1 ? "y" : "ies",
             (long long)(kjc_net_now_ms() - t0));
    kj_err_clear(err);
    c = push_with(e, 0, &answered, &piped, err); /* the question first, on the new connection */
  }
  if (c && !refused && kjc_net_zst_refused(e->net) && !cancelled(e)) {
    /* 415 to a body in the dictionary's coding: a server rolled back to a
     * release without it; once more in gzip (docs/protocol.md "Compression") */
    KJ_INFO("the server no longer takes zstd bodies: sending gzip");
    kj_err_clear(err);
    kjc_net_pipe_close(e->net);
    e->pre_sent = 0;
    c = push_with(e, 0, &answered, &piped, err);
  }
  rate_store(e);
  return c;
}

/* A batch to send again after the question was answered: the cut batch
 * the server did not vouch for, n changes from the one after seq after. */
typedef struct resend {
  int64_t after, last; /* its seqs are above after, up to last */
  int n;
} resend;

static kj_code push_with(engine *e, int plain, long *answered, int *was_piped, kj_err *err) {
  int64_t mb = 0, pl = 0;
  *answered = 0;
  *was_piped = 0;
  kj_code c = kjc_meta_get_i64(e->s, KJC_META_MAX_BATCH, 0, &mb, err);
  if (!c)
    c = kjc_meta_get_i64(e->s, KJC_META_SERVER_PIPELINE, 0, &pl, err);
  if (c)
    return c;
  if (plain)
    pl = 1;
  int batch = e->o->batch > 0 ? e->o->batch : DEFAULT_BATCH;
  if (mb > 0 && batch > mb)
    batch = (int)mb;
  int depth = pl > KJC_PIPE_MAX ? KJC_PIPE_MAX : pl < 1 ? 1 : (int)pl;
  int piped = depth > 1;
  *was_piped = piped;
  flight fl[KJC_PIPE_MAX];
  memset(fl, 0, sizeof fl);
  int nfl = 0, again = 0, drained = 0, recorded = 0;
  int64_t after = INT64_MIN; /* the last seq sent */
  long done = 0;
  char inc_why[160] = "";
  /* batches cut in flight by the last push: asked about first (see
   * push_resume); pipelined, the question goes first on the connection
   * and the pushes go on behind it: the changes after the cut batches
   * (when those are the oldest pending, and none is of their records:
   * `hold` stops the sending until the answer), then, once it is
   * answered, the cut batches it did not vouch for (`rq`), then the rest */
  resend rq[KJC_PIPE_MAX];
  int nrq = 0, hold = 0, asking = 0, upto = 0; /* upto: the next batch's size when cut short */
  int spec = -1;                               /* the cut batch sent behind the question, or -1 */
  int64_t t_first = 0;                         /* when the first push was sent */
  /* ms this process was busy since then (reading, encoding, compressing,
   * acknowledging), not waiting for the link: left out of the rate, so a
   * slow PC (or valgrind) does not take its own pace for the link's and
   * compress harder still (zstd --adapt measures the output's wait too) */
  int64_t busy = 0, b0 = 0;
  double ans_bytes = 0, sent_bytes = 0;
  long sent_changes = 0;
  /* slow start: the link's rate from the answers' spacing.  A push already
   * written when the answer before it came was queued behind that one: it
   * crossed the link between the two answers, so its bytes over that gap
   * (less the time this process was busy) are a sample of the link's rate
   * even while the small batches leave the link idle part of each round
   * trip (the rate over the whole push then tells only what they carried) */
  int64_t t_ans = 0, busy_ans = 0; /* the last answer's arrival, busy then */
  double gap_bytes = 0, gap_ms = 0;
  if (!piped) {
    c = push_resume(e, err);
  } else {
    cutq *q = NULL;
    c = cut_load(e, &q, err);
    if (!c && q && !kjc_net_pipe_is_open(e->net))
      c = kjc_net_pipe_open(e->net, err);
    if (!c && q) {
      /* may the pushes go on behind it?  only when the cut batches are the
       * oldest pending changes, in order: then the others come after */
      kj_change *old = calloc((size_t)q->nall, sizeof *old);
      int got = 0, same = 0;
      if (!old)
        c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
      else if (!(c = kjc_outbox_batch_after(e->s, INT64_MIN, q->nall, old, &got, err))) {
        same = got == q->nall;
        for (int i = 0; same && i < got; i++)
          same = old[i].seq == q->all[i].seq;
      }
      for (int i = 0; i < got; i++)
        kj_change_release(&old[i]);
      free(old);
      kj_buf body;
      uint64_t s0 = 0, s1 = 0, r0 = 0;
      kjc_net_counters(e->net, &s0, &r0);
      if (!c) {
        c = cut_body(q, &body, err);
        if (!c) {
          e->res->requests++;
          c = kjc_net_send(e->net, "POST", "/v1/push/status", kj_buf_str(&body), body.len, err);
        }
        kj_buf_release(&body);
      }
      kjc_net_counters(e->net, &s1, &r0);
      if (!c) {
        fl[0].q = q;
        fl[0].bytes = s1 - s0;
        q = NULL;
        nfl = 1;
        asking = 1;
        if (same)
          after = fl[0].q->all[fl[0].q->nall - 1].seq;
        else
          hold = 1; /* from the oldest pending once answered */
        /* the last cut batch is the one the drop found on its way, almost
         * never applied (a batch is applied only once it all arrived, and
         * its answer then came back within a round trip): it goes behind
         * the question at once, unless a record of it is in an earlier
         * cut batch (its order) */
        cutq *cq = fl[0].q;
        int lb = cq->p.nb - 1, off = cq->nall - cq->p.b[lb].n;
        if (same && lb >= 1) {
          cutq pre = *cq; /* the ids of the batches before it */
          pre.nids = 0;
          pre.ids = malloc((size_t)(off ? off : 1) * sizeof *pre.ids);
          if (pre.ids) {
            for (int i = 0; i < off; i++)
              pre.ids[pre.nids++] = cq->all[i].rec.id;
            qsort(pre.ids, (size_t)pre.nids, sizeof *pre.ids, cmp_id);
            if (cut_conflicts(&pre, cq->all + off, cq->p.b[lb].n) == cq->p.b[lb].n) {
              rq[nrq++] = (resend){cq->p.b[lb].seq[0] - 1, cq->p.b[lb].seq[cq->p.b[lb].n - 1],
                                   cq->p.b[lb].n};
              spec = lb;
            }
            free(pre.ids);
          }
        }
      } /* else not asked: the meta stays as it was */
    }
    cutq_free(q);
  }
  while (!c) {
    /* send: up to depth batches in flight */
    while (!c && !again && nfl < depth) {
      /* a cut batch the answer did not vouch for, or the last one (spec) */
      int res = nrq > 0 && (!asking || spec >= 0);
      if (!res && (drained || hold))
        break;
      if (piped && e->rate > 0) { /* the link's window (INFLIGHT_RTTS) */
        double fb = 0;
        int pushes = 0;
        for (int i = 0; i < nfl; i++)
          if (!fl[i].q) {
            fb += (double)fl[i].bytes;
            pushes++;
          }
        /* with the next batch (its bytes estimated: its size, or what is
         * left after the last seq sent when less), at most the window: a
         * third batch that would go beyond it waits for an answer */
        long next = res ? rq[0].n : upto > 0 ? upto : batch_next(e, batch);
        int64_t top = INT64_MAX;
        kj_err x;
        if (!res && !upto && after != INT64_MIN && !kjc_outbox_max_seq(e->s, &top, &x) &&
            top - after < next)
          next = top > after ? (long)(top - after) : 0;
        fb += (double)next * (e->change_bytes > 0 ? e->change_bytes : DEFAULT_CHANGE_BYTES);
        double rtt = (double)kjc_net_connect_ms(e->net) / 3.0;
        if (pushes >= 2 && fb > e->rate * (INFLIGHT_RTTS * rtt + BATCH_LINK_MS) / 1000.0) {
          /* nothing left after the last batch sent: the first pull page
           * may go behind them now (pull_ahead) */
          if (next == 0 && !nrq && !asking)
            drained = 1;
          break;
        }
      }
      if (cancelled(e)) {
        c = kj_fail(err, KJ_EINTR, _("interrupted"));
        break;
      }
      flight *f = &fl[nfl];
      b0 = kjc_net_now_ms();
      if (piped && e->slow && e->rate <= 0 && kjc_net_pipe_is_open(e->net) &&
          kjc_net_connect_wait_ms(e->net) >= LONG_HANDSHAKE_MS)
        kjc_net_set_level(e->net, KJ_ZST_LEVEL_MAX); /* a long link: see LONG_HANDSHAKE_MS */
      int want = res ? rq[0].n : upto > 0 ? upto : batch_next(e, batch);
      int64_t from = res ? rq[0].after : after, last = res ? rq[0].last : INT64_MAX;
      if (!(f->ch = calloc((size_t)want, sizeof *f->ch))) {
        c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
        break;
      }
      int is_spec = res && asking;
      if (res)
        memmove(rq, rq + 1, (size_t)--nrq * sizeof rq[0]);
      /* device_time: the clock this PC stamps with now (wall + offset);
       * the server takes the stamps as sent (docs/protocol.md "Clocks").
       * From protocol 2 on the stored changes go into the body as they
       * are (kjc_outbox_batch_wire), before it decoded and encoded again */
      kj_buf body;
      kj_buf_init(&body, KJ_BUF_UNLIMITED);
      int peer = kjc_server_protocol(e->s), wire = peer >= 2;
      int64_t now = kjc_net_now_ms() + stored_offset(e);
      if (wire)
        c = kj_push_wire_open(&body, now, e->inc, err);
      if (!c)
        c = wire ? kjc_outbox_batch_wire(e->s, from, want, f->ch, &f->n, &body, err)
                 : kjc_outbox_batch_after(e->s, from, want, f->ch, &f->n, err);
      if (!c && f->n > 0)
        c = wire ? kj_push_wire_close(&body, err)
                 : kj_push_encode_inc(&body, now, e->inc, f->ch, f->n, peer, err);
      int k = !c && f->n > 0 && !res && asking ? cut_conflicts(fl[0].q, f->ch, f->n) : f->n;
      if (k < f->n) {
        /* the changes before the first of a cut batch's record go now
         * (read again, k of them); that one and the rest once the
         * question is answered */
        kj_buf_release(&body);
        flight_release(f);
        if (k > 0) {
          upto = k;
          continue;
        }
        hold = 1;
        break;
      }
      upto = 0;
      if (!c && res && (f->n == 0 || f->ch[f->n - 1].seq > last)) {
        /* not the batch that was cut (the outbox changed meanwhile): the
         * push starts again from the oldest pending change */
        kj_buf_release(&body);
        flight_release(f);
        again = 1;
        break;
      }
      if (c || f->n == 0) {
        kj_buf_release(&body);
        flight_release(f);
        drained = 1;
        break;
      }
      if (piped && !kjc_net_pipe_is_open(e->net))
        c = kjc_net_pipe_open(e->net, err);
      uint64_t s0 = 0, s1 = 0, r0 = 0;
      kjc_net_counters(e->net, &s0, &r0);
      if (!t_first)
        t_first = kjc_net_now_ms();
      if (!c && piped) {
        e->res->requests++;
        c = kjc_net_send(e->net, "POST", "/v1/push", kj_buf_str(&body), body.len, err);
      } else if (!c) {
        f->rc = request(e, "POST", "/v1/push", kj_buf_str(&body), body.len, &f->r, "push", err);
      }
      kjc_net_counters(e->net, &s1, &r0);
      kj_buf_release(&body);
      if (c) {
        flight_release(f);
        break;
      }
      if (piped) /* the request was written: the time since it began or since t_first */
        busy += kjc_net_now_ms() - (b0 > t_first ? b0 : t_first);
      f->bytes = s1 - s0;
      f->spec = is_spec;
      f->t_sent = kjc_net_now_ms();
      f->busy_sent = busy;
      KJ_DEBUG("push: a batch of %d change%s sent, %llu B", f->n, f->n == 1 ? "" : "s",
               (unsigned long long)f->bytes);
      sent_bytes += (double)f->bytes;
      sent_changes += f->n;
      e->change_bytes = sent_bytes / (double)sent_changes;
      if (!res)
        after = f->ch[f->n - 1].seq;
      nfl++;
    }
    if (!c && piped && drained && !nrq && !hold && !asking && nfl > 0 && !e->pre_sent &&
        nfl < KJC_PIPE_MAX) {
      long in_flight = 0; /* their answers will take them out of pending */
      for (int i = 0; i < nfl; i++)
        in_flight += fl[i].n;
      c = pull_ahead(e, in_flight, err); /* everything pending is on its way */
    }
    if (c)
      break;
    if (nfl == 0) {
      if (!again)
        break; /* every pending change sent and answered */
      /* start again from the oldest pending change (a pull asked ahead
       * is answered first, and asked again later) */
      if ((c = pull_ahead_drop(e, err)))
        break;
      again = drained = hold = upto = 0;
      spec = -1;
      nrq = 0; /* the oldest pending first: those too */
      after = INT64_MIN;
      if (inc_why[0]) {
        c = take_incarnation(e, inc_why, err);
        inc_why[0] = 0;
      }
      continue;
    }
    /* the oldest answer */
    flight *f = &fl[0];
    if (f->q) { /* the question about the batches cut in flight */
      f->rc = kjc_net_recv(e->net, &f->r, err);
      if (!f->rc && f->r.status != 200)
        f->rc = http_fail(&f->r, "push status", err);
      int behind = nfl - 1;
      c = cut_answer(e, f->q, f->rc, &f->r, &done, err);
      if (!c)
        KJ_DEBUG("push status: answered with %d push%s sent behind the question", behind,
                 behind == 1 ? "" : "es");
      if (!c && hold && after == INT64_MIN) {
        hold = 0; /* the oldest pending first, as without the question */
      } else if (!c) {
        /* the batches it did not vouch for go next, in their order */
        int off = 0;
        for (int k = 0; k < f->q->p.nb; k++) {
          if (k == spec && f->q->all[off].seq < 0) { /* sent behind it, applied: a replay */
            for (int i = 1; i < nfl; i++)
              fl[i].vouched |= fl[i].spec;
            for (int i = 0; i < nrq; i++) /* or not sent yet: it stays so */
              if (rq[i].after == f->q->p.b[k].seq[0] - 1)
                memmove(rq + i, rq + i + 1, (size_t)(--nrq - i) * sizeof rq[0]);
          }
          if (k != spec && f->q->all[off].seq >= 0 && nrq < KJC_PIPE_MAX)
            rq[nrq++] = (resend){f->q->p.b[k].seq[0] - 1, f->q->p.b[k].seq[f->q->p.b[k].n - 1],
                                 f->q->p.b[k].n};
          off += f->q->p.b[k].n;
        }
        hold = 0;
      }
      asking = 0;
      if (c) {
        cut_record(e, fl, nfl); /* the question and the batches behind it */
        recorded = 1;
      }
    } else {
      if (piped) {
        f->rc = kjc_net_recv(e->net, &f->r, err);
        if (!f->rc && f->r.status != 200)
          f->rc = http_fail(&f->r, "push", err);
      }
      b0 = kjc_net_now_ms();
      if (f->vouched && !f->rc) /* a replay of a batch the question vouched for */
        c = KJ_OK;
      else
        c = push_answer(e, f->rc, &f->r, f->ch, f->n, &batch, &again, inc_why, sizeof inc_why,
                        &done, err);
      if (c && piped) {
        cut_record(e, fl, nfl); /* this batch and those behind it: unanswered */
        recorded = 1;
      }
      if (!c && f->n > e->answered_max)
        e->answered_max = f->n; /* slow start: the next batches may be twice it */
      if (!c && piped && e->slow && e->rate <= 0 && f->t_sent > 0 && ans_bytes == 0)
        first_answer_rate(e, f->bytes, b0 - f->t_sent - (busy - f->busy_sent));
      if (!c && t_first) { /* the link's rate, from what was answered */
        ans_bytes += (double)f->bytes;
        if (piped && t_ans > 0 && f->t_sent > 0 && f->t_sent <= t_ans) {
          gap_bytes += (double)f->bytes;
          gap_ms += (double)(b0 - t_ans - (busy - busy_ans));
        }
        t_ans = b0;
        busy_ans = busy;
        int64_t now = kjc_net_now_ms();
        busy += now - b0;
        int64_t ms = now - t_first - busy;
        if (ms > 0 && ans_bytes >= RATE_MIN_BYTES &&
            (ms >= RATE_MIN_MS || ans_bytes >= RATE_ENOUGH_BYTES)) {
          double r = ans_bytes * 1000.0 / (double)ms;
          /* in a slow start, the spacing's rate once it rests on enough
           * bytes, when higher (never below what the push carried) */
          if (e->slow && gap_bytes >= RATE_MIN_BYTES && gap_ms > 0 &&
              gap_bytes * 1000.0 / gap_ms > r)
            r = gap_bytes * 1000.0 / gap_ms;
          e->rate = r;
          e->rate_measured = 1;
          kjc_net_set_rate(e->net, e->rate);
        }
      }
    }
    flight_release(f);
    memmove(fl, fl + 1, (size_t)(nfl - 1) * sizeof fl[0]);
    memset(&fl[--nfl], 0, sizeof fl[0]);
    if (!c && piped && !kjc_net_pipe_is_open(e->net) && nfl > 0) {
      /* the server closed the connection after that answer: the batches
       * after it were not read, they stay pending and go again */
      for (int i = 0; i < nfl; i++)
        flight_release(&fl[i]);
      nfl = 0;
      again = 1;
      asking = 0;
    }
    if (!c && !kjc_net_pipe_is_open(e->net))
      e->pre_sent = 0; /* closed: a pull asked ahead goes again */
  }
  if (c && piped && nfl > 0 && !recorded)
    cut_record(e, fl, nfl);
  for (int i = 0; i < nfl; i++)
    flight_release(&fl[i]);
  *answered = done;
  return c;
}

/* ---- pull ---- */

static void url_escape(const char *in, char *out, size_t size) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)in; *p && n + 4 < size; p++) {
    if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
        *p == '-' || *p == '.' || *p == '_' || *p == '~') {
      out[n++] = (char)*p;
    } else {
      out[n++] = '%';
      out[n++] = hex[*p >> 4];
      out[n++] = hex[*p & 15];
    }
  }
  out[n] = 0;
}

static kj_code store_scores(engine *e, const cJSON *scores, kj_err *err) {
  const cJSON *it;
  const char *office = kjc_store_office(e->s);
  cJSON_ArrayForEach(it, scores) {
    char period[32], *text = NULL;
    kj_err x;
    kj_err_clear(&x);
    kj_code c = kj_pull_page_score(it, period, sizeof period, &text, &x);
    if (c == KJ_ENOMEM)
      return kj_fail(err, c, _("out of memory"));
    if (c) { /* one bad entry does not stop the pull or the other scores */
      KJ_WARN("pull: a score entry was not kept: %s", x.msg);
      continue;
    }
    c = kjc_scores_put(e->s, KJC_SCORES_KIND, period, office, text, err);
    free(text);
    if (!c && strlen(period) == 4)
      c = kjc_meta_set(e->s, KJC_META_SCORES_PERIOD, period, err);
    if (c)
      return c;
  }
  return KJ_OK;
}

static kj_code apply_page(engine *e, const kj_pull_page *p, int skip_own, kj_err *err) {
  kj_code c = kjc_store_begin(e->s, err);
  if (c)
    return c;
  if ((c = check_epoch(e, p, err)) ||
      (!skip_own && !p->more && (c = kjc_meta_set(e->s, KJC_META_PULL_FULL, NULL, err)))) {
    kjc_store_rollback(e->s);
    return c;
  }
  kj_hlc_clock *clk = kjc_store_clock(e->s);
  uint64_t wall = kj_wall_ms();
  long n = 0, i = 0, skipped = 0, moved = 0, foreign = 0;
  const cJSON *it;
  /* moved notices first: a record that came back to this office later has
   * its state further on in the sequence (docs/protocol.md "Moved records") */
  cJSON_ArrayForEach(it, p->moved) {
    kj_rtype type;
    char id[KJ_ID_MAX + 1];
    kj_err x;
    kj_err_clear(&x);
    kj_code d = kj_pull_page_moved(it, &type, id, &x);
    if (d == KJ_EVERSION)
      continue;
    int dropped = 0;
    if (d)
      c = kj_fail(err, KJ_EPROTO, _("pull: %s"), x.msg);
    else if (!(c = kjc_store_forget(e->s, type, id, &dropped, err)) && dropped)
      moved++;
    if (c)
      break;
  }
  cJSON_ArrayForEach(it, p->changes) {
    if (c)
      break;
    kj_rstate rs;
    kj_err x;
    kj_err_clear(&x);
    kj_code d = kj_pull_page_state(it, &rs, &x);
    if (d == KJ_EVERSION) { /* a type of a newer protocol: not ours to keep */
      skipped++;
      i++;
      continue;
    }
    if (d) {
      c = kj_fail(err, KJ_EPROTO, _("pull: changes[%ld]: %s"), i, x.msg);
      break;
    }
    /* A stamp seen is a stamp to follow: a later local edit must win. */
    const kj_type_def *t = kj_type(rs.rec.type);
    for (int f = 0; f < t->nfields; f++)
      if (rs.st[f].hlc && rs.st[f].hlc > clk->last)
        kj_hlc_recv(clk, rs.st[f].hlc, wall);
    for (int f = 0; f < rs.nx; f++)
      if (rs.x[f].st.hlc > clk->last)
        kj_hlc_recv(clk, rs.x[f].st.hlc, wall);
    if (rs.del.hlc && rs.del.hlc > clk->last)
      kj_hlc_recv(clk, rs.del.hlc, wall);
    /* a record of another office is never this office's (domain.md "Who
     * may write what"): a server sends none; one that came anyway is
     * dropped here like a moved one, never kept to be edited */
    const char *of = t->master ? NULL : kj_record_office(&rs.rec);
    if (of && strcmp(of, kjc_store_office(e->s)) != 0) {
      int dropped = 0;
      c = kjc_store_forget(e->s, rs.rec.type, rs.rec.id, &dropped, err);
      kj_rstate_release(&rs);
      if (c)
        break;
      foreign++;
      i++;
      continue;
    }
    c = kjc_store_adopt_remote(e->s, &rs, NULL, err);
    kj_rstate_release(&rs);
    if (c)
      break;
    n++;
    i++;
  }
  if (!c)
    c = kjc_meta_set(e->s, KJC_META_PULL_CURSOR, p->next, err);
  if (!c && !p->more && p->scores)
    c = store_scores(e, p->scores, err);
  if (!c && !p->more && p->has_tag)
    c = kjc_meta_set(e->s, "scores_tag", p->scores_tag, err);
  if (!c)
    c = kjc_meta_set_i64(e->s, KJC_META_LAST_PULL, kjc_net_now_ms(), err);
  if (!c)
    c = kjc_store_commit(e->s, err);
  else
    kjc_store_rollback(e->s);
  if (!c && moved) {
    e->res->moved += moved;
    KJ_INFO("pull: %ld record%s moved to another office by the BKD, removed here", moved,
            moved == 1 ? "" : "s");
  }
  if (!c) {
    e->res->pulled += n;
    if (foreign)
      KJ_WARN("pull: %ld record%s of another office not kept (this PC is office '%s')", foreign,
              foreign == 1 ? "" : "s", kjc_store_office(e->s));
    if (skipped)
      KJ_WARN("pull: %ld records of types this kinerja does not know were skipped: upgrade kinerja",
              skipped);
  }
  return c;
}

kj_code kjc_sync__apply_page(kjc_store *s, const char *text, size_t len, int *more, long *pulled,
                             kj_err *err) {
  static const kjc_sync_opts none;
  kjc_sync_result res;
  memset(&res, 0, sizeof res);
  engine e;
  memset(&e, 0, sizeof e);
  e.s = s;
  e.o = &none;
  e.res = &res;
  kj_pull_page page;
  memset(&page, 0, sizeof page);
  kj_code c = kj_pull_page_decode(text, len, &page, err);
  if (!c)
    c = apply_page(&e, &page, 1, err);
  *more = page.more;
  *pulled = res.pulled;
  kj_pull_page_release(&page);
  return c;
}

/* The pull cursor was advanced under the protocol in meta.pull_protocol:
 * what came then lacked the fields of newer ones.  When the server speaks a
 * newer protocol than that (this PC was upgraded from the previous release,
 * or the server was), the cursor starts again from 0 once, so every record
 * comes back with the fields this PC did not get (merging is idempotent). */
static kj_code pull_protocol_check(engine *e, kj_err *err) {
  int eff = kjc_server_protocol(e->s);
  char *cur = NULL, *have = NULL;
  int64_t pp = 0;
  kj_code c = kjc_meta_get(e->s, KJC_META_PULL_CURSOR, &cur, err);
  if (!c)
    c = kjc_meta_get(e->s, KJC_META_PULL_PROTOCOL, &have, err);
  /* a cursor without a protocol was advanced by the previous release */
  if (!c)
    c = kjc_meta_get_i64(e->s, KJC_META_PULL_PROTOCOL, cur ? 1 : eff, &pp, err);
  int from_start = cur && strcmp(cur, "0") != 0 && pp < eff;
  int known = have != NULL;
  free(cur);
  free(have);
  if (c || (pp == eff && known))
    return c;
  if ((c = kjc_store_begin(e->s, err)))
    return c;
  if (from_start)
    c = kjc_meta_set(e->s, KJC_META_PULL_CURSOR, "0", err);
  if (!c)
    c = kjc_meta_set_i64(e->s, KJC_META_PULL_PROTOCOL, eff, err);
  if (!c)
    c = kjc_store_commit(e->s, err);
  else
    kjc_store_rollback(e->s);
  if (!c && from_start)
    KJ_INFO("the server speaks protocol %d: pulling every record again, once, for the fields "
            "this PC did not receive before",
            eff);
  return c;
}

/* The path of the next pull page (cursor, scores tag, incarnation and
 * epoch from meta, then the PC's report); *base = its length without the
 * report (a pull asked ahead is the page wanted when that part matches);
 * in_flight: changes sent whose answers are still to come, counted out of
 * the reported pending; *skip_own 0 while a full pull is due. */
static kj_code pull_path(engine *e, char *path, size_t size, size_t *base, long in_flight,
                         int *skip_own, kj_err *err) {
  int limit = e->o->pull_limit > 0 ? e->o->pull_limit : DEFAULT_PULL;
  char *cursor = NULL, *tag = NULL, *sepoch = NULL, *full = NULL;
  kj_code c = kjc_meta_get(e->s, KJC_META_PULL_CURSOR, &cursor, err);
  if (!c)
    c = kjc_meta_get(e->s, "scores_tag", &tag, err);
  if (!c)
    c = kjc_meta_get(e->s, KJC_META_SERVER_EPOCH, &sepoch, err);
  if (!c)
    c = kjc_meta_get(e->s, KJC_META_PULL_FULL, &full, err);
  if (!c) {
    char esc[256], tesc[160], extra[128] = "", rep[128] = "";
    url_escape(cursor ? cursor : "0", esc, sizeof esc);
    url_escape(tag ? tag : "", tesc, sizeof tesc);
    /* incarnation and epoch are [0-9a-z]: nothing to escape */
    if (e->inc[0])
      snprintf(extra, sizeof extra, "&inc=%s", e->inc);
    if (sepoch && kj_incarnation_valid(sepoch))
      snprintf(extra + strlen(extra), sizeof extra - strlen(extra), "&epoch=%s", sepoch);
    *skip_own = !(full && !strcmp(full, "1"));
    /* the PC's version and the counts of `kinerja status`, for the BKD's
     * Perangkat page (docs/protocol.md "What the PC reports") */
    kjc_outbox_stats st;
    kj_device_report dr = {.version = KJ_VERSION};
    if ((c = kjc_outbox_stats_get(e->s, &st, err)) == KJ_OK) {
      dr.pending = st.pending > in_flight ? st.pending - in_flight : 0;
      dr.rejected = st.rejected;
      c = kj_device_report_query(&dr, rep, sizeof rep, err);
    }
    if (!c) {
      int n =
          snprintf(path, size, "/v1/pull?since=%s&limit=%d&skip_own=%d&protocol=%d&scores_tag=%s%s",
                   esc, limit, *skip_own, KJ_PROTOCOL_MAX, tesc, extra);
      *base = n > 0 && (size_t)n < size ? (size_t)n : size - 1;
      snprintf(path + *base, size - *base, "%s", rep);
    }
  }
  free(cursor);
  free(tag);
  free(sepoch);
  free(full);
  return c;
}

static kj_code pull(engine *e, kj_err *err) {
  kj_code c = pull_protocol_check(e, err);
  if (c)
    return c;
  int rereported = 0;
  for (;;) {
    if (cancelled(e)) {
      e->pre_sent = 0;
      return kj_fail(err, KJ_EINTR, _("interrupted"));
    }
    char path[768], asked_rep[128];
    size_t base = 0;
    int skip_own = 0;
    if ((c = pull_path(e, path, sizeof path, &base, 0, &skip_own, err)))
      return c;
    /* the report the answered page carried (a page asked ahead: its own) */
    snprintf(asked_rep, sizeof asked_rep, "%s",
             e->pre_sent && base == e->pre_base ? e->pre_path + e->pre_base : path + base);
    kjc_net_reply r;
    kj_pull_page page;
    memset(&page, 0, sizeof page);
    if (e->pre_sent && base == e->pre_base && !strncmp(path, e->pre_path, base) &&
        kjc_net_pipe_is_open(e->net)) {
      /* asked behind the last push: its answer is the next one */
      e->pre_sent = 0;
      c = kjc_net_recv(e->net, &r, err);
      if (!c && r.status != 200)
        c = http_fail(&r, "pull", err);
    } else if ((c = pull_ahead_drop(e, err))) {
      return c;
    } else {
      c = request(e, "GET", path, NULL, 0, &r, "pull", err);
    }
    if (!c)
      c = kj_pull_page_decode(kj_buf_str(&r.body), r.body.len, &page, err);
    int again = 0;
    if (!c) {
      if (!r.queued)
        measure(e, &r, page.server_time);
      if (server_ahead(e, page.device_high)) {
        char why[160];
        snprintf(why, sizeof why,
                 "the server holds changes of this device up to number %" PRId64
                 " that it never wrote",
                 page.device_high);
        c = take_incarnation(e, why, err);
        again = 1; /* this page skipped its own records: ask again */
      } else {
        c = apply_page(e, &page, skip_own, err);
      }
    }
    int more = page.more || again;
    kj_pull_page_release(&page);
    kjc_net_reply_release(&r);
    if (c)
      return c;
    progress(e, KJC_PHASE_PULL, e->res->pulled, -1);
    if (!more && !rereported) {
      /* a page asked ahead reported the counts expected before the pushes
       * were answered; when a push was refused they differ: the last page
       * is asked once more with the counts as `kinerja status` has them */
      char now[768];
      size_t nb = 0;
      int so = 0;
      if ((c = pull_path(e, now, sizeof now, &nb, 0, &so, err)))
        return c;
      more = strcmp(now + nb, asked_rep) != 0;
      rereported = more;
    }
    if (!more)
      return KJ_OK;
  }
}

/* ---- the whole sync ---- */

typedef struct config {
  char *server, *token, *ca, *ca_pem;
} config;

static void config_release(config *g) {
  free(g->server);
  if (g->token)
    memset(g->token, 0, strlen(g->token));
  free(g->token);
  free(g->ca);
  free(g->ca_pem);
}

static kj_code config_load(kjc_store *s, config *g, kj_err *err) {
  memset(g, 0, sizeof *g);
  kj_code c = kjc_meta_get(s, KJC_META_SERVER, &g->server, err);
  if (!c)
    c = kjc_meta_get(s, KJC_META_TOKEN, &g->token, err);
  if (!c)
    c = kjc_meta_get(s, KJC_META_CA, &g->ca, err);
  if (!c)
    c = kjc_meta_get(s, KJC_META_CA_PEM, &g->ca_pem, err);
  return c;
}

static kj_code open_net(kjc_store *s, config *g, const volatile int *cancel, kjc_net **net,
                        kj_err *err) {
  kj_code c = config_load(s, g, err);
  if (c)
    return c;
  kjc_net_config nc = {0};
  nc.server = g->server;
  nc.token = g->token;
  nc.ca_file = g->ca;
  nc.ca_pem = g->ca_pem;
  nc.cancel = cancel;
  return kjc_net_open(net, &nc, err);
}

/* Bookkeeping after a sync: state, last attempt, last error, last sync. */
static void record_outcome(kjc_store *s, kj_code rc, const kj_err *why) {
  kj_err x;
  kj_err_clear(&x);
  if (kjc_store_begin(s, &x)) {
    KJ_WARN("cannot record the sync's outcome: %s", x.msg);
    return;
  }
  int64_t now = kjc_net_now_ms();
  const char *state = rc == KJ_OK ? "ok" : rc == KJ_ENET ? "offline" : "error";
  kj_code c = kjc_meta_set(s, KJC_META_SYNC_STATE, state, &x);
  if (!c)
    c = kjc_meta_set_i64(s, KJC_META_LAST_ATTEMPT, now, &x);
  if (!c && rc == KJ_OK)
    c = kjc_meta_set_i64(s, KJC_META_LAST_SYNC, now, &x);
  if (!c)
    c = kjc_meta_set(s, KJC_META_LAST_ERROR, rc == KJ_OK ? NULL : why->msg, &x);
  if (!c)
    c = kjc_store_commit(s, &x);
  else
    kjc_store_rollback(s);
  if (c)
    KJ_WARN("cannot record the sync's outcome: %s", x.msg);
}

kj_code kjc_sync_run(kjc_store *s, const kjc_sync_opts *opts, kjc_sync_result *res, kj_err *err) {
  static const kjc_sync_opts none;
  memset(res, 0, sizeof *res);
  engine e;
  memset(&e, 0, sizeof e);
  e.s = s;
  e.o = opts ? opts : &none;
  e.res = res;
  config g;
  memset(&g, 0, sizeof g);
  kj_code c = kjc_store_cache_limit(s, KJC_SYNC_CACHE_KIB, err);
  if (!c)
    c = open_net(s, &g, e.o->cancel, &e.net, err);
  /* one connection for the whole sync: the one the pushes are pipelined
   * on, which carries hello and the pull too (a TLS handshake is about
   * 120 M instructions for the server: one per sync) */
  if (!c)
    c = kjc_net_pipe_open(e.net, err);
  if (!c) {
    char key[24], *old = NULL;
    snprintf(key, sizeof key, "%016" PRIx64, fnv64(g.server, g.token));
    kjc_outbox_stats st;
    memset(&st, 0, sizeof st);
    char *proto = NULL, *pipe = NULL, *coding = NULL;
    c = kjc_meta_get(s, KJC_META_HELLO_KEY, &old, err);
    if (!c)
      c = kjc_meta_get(s, KJC_META_SERVER_PROTOCOL, &proto, err);
    if (!c) /* absent: this PC has not asked since it learnt to pipeline */
      c = kjc_meta_get(s, KJC_META_SERVER_PIPELINE, &pipe, err);
    if (!c) /* absent, forgotten, or another dictionary than this program's: ask */
      c = kjc_meta_get(s, KJC_META_SERVER_CODING, &coding, err);
    if (!c && coding)
      kjc_net_set_zst(e.net, kj_zst_is_coding(coding));
    int coding_known = coding && (!strcmp(coding, "gzip") || kj_zst_is_coding(coding));
    /* hello on a new server or token, once after an upgrade of this
     * program, and while the server speaks an older protocol: it says when
     * held changes may go and when to pull again (docs/protocol.md
     * "Versions"); the outbox is counted (held changes?) only when nothing
     * else asks for hello: a count reads its whole index */
    int ask = !old || strcmp(old, key) != 0 || !proto || !pipe || !coding_known ||
              kjc_server_protocol(s) < KJ_PROTOCOL_MAX;
    if (!c && !ask && (c = kjc_outbox_stats_get(s, &st, err)) == KJ_OK)
      ask = st.held > 0;
    if (!c && ask)
      c = hello(&e, key, err);
    free(old);
    free(proto);
    free(pipe);
    free(coding);
    if (!c)
      c = load_incarnation(&e, err);
    if (!c)
      c = kjc_outbox_unpark(s, err);
    if (!c)
      c = kjc_outbox_prune_sent(s, kjc_store_now_ms(s) - (int64_t)KJC_SENT_KEEP_DAYS * 86400000,
                                err);
    /* a restore found on the way (a new incarnation, a new server epoch)
     * sends and reads once more at once */
    for (int round = 0; !c && round < 3; round++) {
      e.redo = 0;
      if (!c && (c = kjc_outbox_stats_get(s, &st, err)) == KJ_OK && st.pending > 0) {
        e.total_pending = st.pending;
        c = push(&e, err);
      }
      if (!c)
        c = pull(&e, err);
      if (!e.redo)
        break;
    }
    kjc_net_counters(e.net, &res->bytes_sent, &res->bytes_received);
  }
  if (e.net && kjc_net_zst_refused(e.net)) /* a server rolled back: hello next time */
    kjc_meta_set(s, KJC_META_SERVER_CODING, "", NULL);
  else if (e.net && kjc_net_zst_learnt(e.net)) /* a server upgraded: zstd bodies next time */
    kjc_meta_set(s, KJC_META_SERVER_CODING, kj_zst_coding(), NULL);
  kjc_net_close(e.net);
  config_release(&g);
  if (c != KJ_EINTR)
    record_outcome(s, c, err);
  return c;
}

kj_code kjc_sync_probe(kjc_store *s) {
  config g;
  kjc_net *net = NULL;
  kj_err x;
  kj_err_clear(&x);
  kj_code c = open_net(s, &g, NULL, &net, &x);
  if (!c)
    c = kjc_net_probe(net, 3000, &x);
  kjc_net_close(net);
  config_release(&g);
  return c;
}
