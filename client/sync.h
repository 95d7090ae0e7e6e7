/* sync.h - the sync engine: push the outbox, pull what changed (issue 5).
 *
 * One kjc_sync_run is one sync over one HTTPS connection (net.h):
 *   1. GET /v1/hello, only the first time a server/token pair is used (it
 *      checks the token's office against this database and adopts the
 *      server's device id);
 *   2. POST /v1/push of the pending outbox in bounded batches (1000, or the
 *      server's max_batch); a change leaves the outbox only when the server
 *      answered `applied` or `duplicate`; `rejected` ones stay as rejected
 *      with the reason; every answer's server_time measures the clock offset;
 *   3. GET /v1/pull pages from the stored cursor; each page is applied in
 *      one local transaction together with the new cursor, so the cursor
 *      advances only after the page is committed; the last page's scores
 *      are stored for `kinerja report`.
 * A sync with nothing to push is a single request (one pull page).
 *
 * Clocks (docs/protocol.md "Clocks"): offset = server_time - local time at
 * the middle of the request, stored as the store's HLC offset; pushes carry
 * device_time = local wall clock + the offset the batch's stamps were made
 * with, so the server corrects stamps made before a new offset was known.
 */
#ifndef KJC_SYNC_H
#define KJC_SYNC_H

#include <stdint.h>

#include "err.h"
#include "store.h"

/* meta keys of the engine (besides KJC_META_* of store.h) */
#define KJC_META_HELLO_KEY "sync_hello_key"    /* hash of server+token last checked by hello */
#define KJC_META_MAX_BATCH "sync_max_batch"    /* the server's max_batch */
#define KJC_META_CLOCK_EPOCHS "clock_epochs"   /* of an older release: removed when seen */
#define KJC_META_SCORES_PERIOD "scores_period" /* the year period of the last scores pulled */
#define KJC_SCORES_KIND "scores"               /* kjc_scores_put kind of pulled entries */
/* the push's rate the last sync measured, B/s (bytes of the answered
 * pushes over the time since the first was sent): the next sync's first
 * batch sizes and compression level (docs/protocol.md "Pipelined push") */
#define KJC_META_LINK_RATE "link_rate"
/* when it was measured (ms since the epoch) and against which server URL
 * (KJC_META_SERVER then): a rate older than 7 days or of another URL is
 * not used, the push starts slow (docs/protocol.md "Pipelined push") */
#define KJC_META_LINK_RATE_MS "link_rate_ms"
#define KJC_META_LINK_RATE_SERVER "link_rate_server"

/* A new offset differs from the stored one by more than this: say so in
 * the log (the HLC never steps back; docs/protocol.md "Clocks"). */
#define KJC_CLOCK_EPOCH_MS 30000

typedef enum { KJC_PHASE_PUSH, KJC_PHASE_PULL } kjc_sync_phase;

typedef struct kjc_sync_progress {
  kjc_sync_phase phase;
  long done, total; /* total: pending at start (push); -1 when unknown (pull) */
} kjc_sync_progress;

typedef struct kjc_sync_opts {
  int batch;                  /* changes per push; 0 = 1000 (never above the server's max_batch) */
  int pull_limit;             /* records per pull page; 0 = 1000 */
  const volatile int *cancel; /* non-zero stops the sync between and inside requests */
  void (*progress)(void *ud, const kjc_sync_progress *p);
  void *progress_ud;
} kjc_sync_opts;

typedef struct kjc_sync_result {
  long pushed; /* applied + duplicate */
  long duplicate;
  long resumed; /* of pushed: changes of batches cut in flight by the last
                 * sync that the server had applied (push status), not sent
                 * again */
  long rejected;
  long pulled;  /* record states received */
  long moved;   /* records dropped: moved to another office (moved notices) */
  int requests; /* HTTP requests made */
  int offset_measured;
  int64_t offset_ms; /* server - local, when measured */
  uint64_t bytes_sent, bytes_received;
} kjc_sync_result;

/* Run one sync.  Returns
 *   KJ_OK      everything pending was pushed (or rejected) and pulled
 *   KJ_ENET    the server is unreachable (nothing lost; try later)
 *   KJ_EAUTH   the server refused the device (401/403, office mismatch):
 *              err says "server refused this device: ..."; no record,
 *              outbox row or cursor was touched
 *   KJ_EINTR   cancelled (nothing acknowledged is lost)
 *   others     err says what
 * The sync bookkeeping in meta (state, last attempt/push/pull/sync, last
 * error) is updated in every case but KJ_EINTR. */
kj_code kjc_sync_run(kjc_store *s, const kjc_sync_opts *opts, kjc_sync_result *res, kj_err *err);

/* Cheap reachability check for --watch while offline: open a TLS connection
 * to the configured server and close it.  KJ_OK when it connected, else the
 * failure's code (KJ_ENET, ...; the message is dropped). */
kj_code kjc_sync_probe(kjc_store *s);

/* Test seam (tests/alloc/test_alloc_failures.c), the real code of a pull
 * without the network: decode one /v1/pull answer (text, len bytes) with
 * kj_pull_page_decode and apply it to s in one local transaction as a sync
 * does (records, cursor, scores; the device's own records skipped); *more
 * gets its "more", *pulled the number of states applied.  On error nothing
 * of the page is kept.  Not for use outside tests. */
kj_code kjc_sync__apply_page(kjc_store *s, const char *text, size_t len, int *more, long *pulled,
                             kj_err *err);

#endif
