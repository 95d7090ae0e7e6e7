/* test_db_pool.c - server/db_pool.c, the connection pool of both db.h
 * drivers, over fake connections: the idle one is reused, new ones are
 * opened up to the limit and a get past it waits for a put, a dropped or
 * dead connection is closed and its place given to a new one, a failed open
 * gives its place back, release closes the idle ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "db_pool.h"

struct kjs_dbc {
  int id;
  int alive;
};

typedef struct fake {
  int opened, closed, fail_next;
} fake;

static kj_code f_open(void *ctx, kjs_dbc **out, kj_err *err) {
  fake *f = ctx;
  if (f->fail_next) {
    f->fail_next = 0;
    return kj_fail(err, KJ_EDB, "cannot connect");
  }
  kjs_dbc *c = calloc(1, sizeof *c);
  assert_non_null(c);
  c->id = ++f->opened;
  c->alive = 1;
  *out = c;
  return KJ_OK;
}

static fake *closing; /* the close callback has no ctx */

static void f_close(kjs_dbc *c) {
  closing->closed++;
  free(c);
}

static int f_alive(kjs_dbc *c) {
  return c->alive;
}

static const kjs_pool_ops ops = {f_open, f_close, f_alive};

/* A pool of max over f, holding the first connection (id 1) as the
 * drivers' open does. */
static kjs_dbc *start(kjs_pool *p, fake *f, int max) {
  closing = f;
  kjs_dbc *c = NULL;
  assert_int_equal(kjs_pool_init(p, max, &ops, f, NULL), KJ_OK);
  assert_int_equal(f_open(f, &c, NULL), KJ_OK);
  kjs_pool_add(p, c);
  return c;
}

static void test_reuse_and_open(void **state) {
  (void)state;
  fake f = {0};
  kjs_pool p;
  kj_err err;
  kjs_dbc *c1 = start(&p, &f, 2);
  assert_ptr_equal(kjs_pool_get(&p, &err), c1); /* the idle one, no open */
  assert_int_equal(f.opened, 1);
  kjs_dbc *c2 = kjs_pool_get(&p, &err); /* none idle, room for one more */
  assert_non_null(c2);
  assert_int_equal(c2->id, 2);
  assert_int_equal(p.nconns, 2);
  kjs_pool_put(&p, c1);
  kjs_pool_put(&p, c2);
  assert_ptr_equal(kjs_pool_get(&p, &err), c2); /* the last put first */
  kjs_pool_put(&p, c2);
  kjs_pool_release(&p);
  assert_int_equal(f.closed, 2);
}

typedef struct waiter {
  kjs_pool *p;
  kjs_dbc *got;
  volatile int done;
} waiter;

static void *wait_get(void *arg) {
  waiter *w = arg;
  kj_err err;
  w->got = kjs_pool_get(w->p, &err);
  w->done = 1;
  return NULL;
}

static void test_waits_at_max(void **state) {
  (void)state;
  fake f = {0};
  kjs_pool p;
  kj_err err;
  start(&p, &f, 1);
  kjs_dbc *c = kjs_pool_get(&p, &err);
  waiter w = {.p = &p};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, wait_get, &w), 0);
  usleep(100 * 1000);
  assert_int_equal(w.done, 0); /* the one connection is in use */
  kjs_pool_put(&p, c);
  pthread_join(t, NULL);
  assert_ptr_equal(w.got, c);
  assert_int_equal(f.opened, 1);
  kjs_pool_put(&p, c);
  kjs_pool_release(&p);
  assert_int_equal(f.closed, 1);
}

static void test_drop_dead_and_failed_open(void **state) {
  (void)state;
  fake f = {0};
  kjs_pool p;
  kj_err err;
  start(&p, &f, 1);
  kjs_dbc *c = kjs_pool_get(&p, &err);
  kjs_pool_drop(&p, c); /* left in a transaction: closed, its place free */
  assert_int_equal(f.closed, 1);
  assert_int_equal(p.nconns, 0);
  f.fail_next = 1;
  kj_err_clear(&err);
  assert_null(kjs_pool_get(&p, &err));
  assert_int_equal(err.code, KJ_EDB);
  assert_string_equal(err.msg, "cannot connect");
  assert_int_equal(p.nconns, 0); /* the failed open gave its place back */
  c = kjs_pool_get(&p, &err);    /* so this one does not wait */
  assert_non_null(c);
  assert_int_equal(c->id, 2);
  c->alive = 0; /* the server closed it while idle */
  kjs_pool_put(&p, c);
  kjs_dbc *c3 = kjs_pool_get(&p, &err);
  assert_non_null(c3);
  assert_int_equal(c3->id, 3);
  assert_int_equal(f.closed, 2);
  assert_int_equal(p.nconns, 1);
  kjs_pool_put(&p, c3);
  kjs_pool_release(&p);
  assert_int_equal(f.closed, 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reuse_and_open),
      cmocka_unit_test(test_waits_at_max),
      cmocka_unit_test(test_drop_dead_and_failed_open),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
