/* db_pool.h - the pool of database connections under both db.h drivers.
 *
 * server/db_sqlite.c and server/db_pg.c keep their connections here: a
 * stack of idle connections, a count of the open ones (idle or in use) and
 * a condition variable that makes acquire wait while `max` are open and
 * none is idle.  The driver opens and closes its connections through the
 * callbacks; the pool never looks inside a kjs_dbc.  Thread-safe: every
 * function but init and release may be called from any thread.
 */
#ifndef KJS_DB_POOL_H
#define KJS_DB_POOL_H

#include <pthread.h>

#include "db.h"
#include "err.h"

typedef struct kjs_pool_ops {
  /* Open a new connection into *out (KJ_OK) or fill err; ctx is init's. */
  kj_code (*open)(void *ctx, kjs_dbc **out, kj_err *err);
  /* Close a connection the pool gives up (never NULL). */
  void (*close)(kjs_dbc *c);
  /* 1 if an idle connection may still be used, 0 to close it and open a
   * new one instead (e.g. the server closed it); NULL: always usable. */
  int (*alive)(kjs_dbc *c);
} kjs_pool_ops;

typedef struct kjs_pool {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  kjs_dbc **idle; /* max slots; the last released is handed out first */
  int nidle;
  int nconns; /* open connections: idle, in use, or being opened */
  int max;
  kjs_pool_ops ops;
  void *ctx;
} kjs_pool;

/* Make an empty pool of at most max (>= 1) connections opened and closed
 * through ops (copied) with ctx.  KJ_ENOMEM leaves nothing to release. */
kj_code kjs_pool_init(kjs_pool *p, int max, const kjs_pool_ops *ops, void *ctx, kj_err *err);
/* Close the idle connections and free the pool; every connection handed
 * out must have come back (put or drop) before. */
void kjs_pool_release(kjs_pool *p);
/* Hand a connection the driver opened itself (the first one, which made or
 * migrated the schema) to the pool as an idle one; it counts as open. */
void kjs_pool_add(kjs_pool *p, kjs_dbc *c);
/* An idle connection, or a new one through ops.open when fewer than max are
 * open; waits while max are open and none is idle.  NULL with err filled
 * (ops.open's error) when a new one cannot be opened. */
kjs_dbc *kjs_pool_get(kjs_pool *p, kj_err *err);
/* Give a connection from kjs_pool_get (outside any transaction) back: idle. */
void kjs_pool_put(kjs_pool *p, kjs_dbc *c);
/* Close a connection from kjs_pool_get that must not be reused (left in a
 * failed transaction): the next get opens a new one. */
void kjs_pool_drop(kjs_pool *p, kjs_dbc *c);

#endif
