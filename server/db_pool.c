/* db_pool.c - the pool of database connections (db_pool.h). */
#include "db_pool.h"

#include <stdlib.h>
#include <string.h>

kj_code kjs_pool_init(kjs_pool *p, int max, const kjs_pool_ops *ops, void *ctx, kj_err *err) {
  memset(p, 0, sizeof *p);
  if (max < 1)
    max = 1;
  p->idle = calloc((size_t)max, sizeof(kjs_dbc *));
  if (!p->idle)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  p->max = max;
  p->ops = *ops;
  p->ctx = ctx;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  return KJ_OK;
}

void kjs_pool_release(kjs_pool *p) {
  if (!p->idle)
    return;
  while (p->nidle > 0)
    p->ops.close(p->idle[--p->nidle]);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->idle);
  p->idle = NULL;
}

void kjs_pool_add(kjs_pool *p, kjs_dbc *c) {
  pthread_mutex_lock(&p->mu);
  p->nconns++;
  p->idle[p->nidle++] = c;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

/* One connection fewer is open: wake a get waiting for room. */
static void forget_one(kjs_pool *p) {
  pthread_mutex_lock(&p->mu);
  p->nconns--;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

kjs_dbc *kjs_pool_get(kjs_pool *p, kj_err *err) {
  pthread_mutex_lock(&p->mu);
  while (p->nidle == 0 && p->nconns >= p->max)
    pthread_cond_wait(&p->cv, &p->mu);
  kjs_dbc *c = NULL;
  if (p->nidle > 0) {
    c = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->mu);
    if (!p->ops.alive || p->ops.alive(c))
      return c;
    /* dead: its place in the count goes to the new one opened below */
    p->ops.close(c);
    c = NULL;
  } else {
    p->nconns++;
    pthread_mutex_unlock(&p->mu);
  }
  if (p->ops.open(p->ctx, &c, err) != KJ_OK) {
    forget_one(p);
    return NULL;
  }
  return c;
}

void kjs_pool_put(kjs_pool *p, kjs_dbc *c) {
  pthread_mutex_lock(&p->mu);
  p->idle[p->nidle++] = c;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
}

void kjs_pool_drop(kjs_pool *p, kjs_dbc *c) {
  p->ops.close(c);
  forget_one(p);
}
