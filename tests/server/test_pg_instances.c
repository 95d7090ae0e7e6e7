/* test_pg_instances.c - several kinerjad instances on one PostgreSQL store
 * (issue 19, docs/architecture.md "Several instances").
 *
 * Two stores opened on one database, each with its own connection pool and
 * its own app, stand for two `kinerjad serve` processes behind HAProxy.
 * Two threads push changes of the same record at the same moment, one
 * through each instance.  Then: every push answered 200 and applied; the
 * records equal (digest) the same changes applied one after the other on
 * SQLite; the history holds every change once; every change sent again
 * through the other instance is answered from the applied table (exactly
 * once) and changes nothing, not even the history; a pull through either instance returns each
 * record once.  Needs the cluster of the ctest fixture `pg` (skipped
 * without PostgreSQL). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hlc.h"
#include "pgtest.h"
#include "test_app_util.h"

#define ROUNDS 40
#define NREC 3

typedef struct pusher {
  tapp *t;
  const char *token;
  int base; /* stamps: T0 + 2 * round + base */
  unsigned long long t0;
  int status[ROUNDS];
  int applied[ROUNDS];
} pusher;

static const char *rec_id(int k) {
  static const char *ids[NREC] = {"01900000-0000-7000-8000-0000000000a1",
                                  "01900000-0000-7000-8000-0000000000a2",
                                  "01900000-0000-7000-8000-0000000000a3"};
  return ids[k];
}

/* Round i of a device: one change of every shared record and a new record
 * of its own (positions of two instances would collide on it were they
 * not given one writer at a time), one batch. */
static char *round_body(const pusher *p, int i) {
  char *c[NREC + 1], own[40];
  unsigned long long h = p->t0 + 2ULL * (unsigned long long)i + (unsigned long long)p->base;
  for (int k = 0; k < NREC; k++)
    c[k] = survey_change((long long)i * (NREC + 1) + k + 1, rec_id(k), OFFICE_A, h,
                         1 + (i + p->base + k) % 4);
  snprintf(own, sizeof own, "01900000-0000-7000-8000-%012d", 1000 * (p->base + 1) + i);
  c[NREC] = survey_change((long long)i * (NREC + 1) + NREC + 1, own, OFFICE_A, h, 2);
  char *body = push_body((const char *const *)c, NREC + 1);
  for (int k = 0; k <= NREC; k++)
    free(c[k]);
  return body;
}

static int count_status(const tresp *r, const char *status) {
  const cJSON *res = cJSON_GetObjectItem(r->json, "results");
  int n = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, res) {
    const cJSON *s = cJSON_GetObjectItem(it, "status");
    if (cJSON_IsString(s) && !strcmp(s->valuestring, status))
      n++;
  }
  return n;
}

static void *push_rounds(void *ud) {
  pusher *p = ud;
  for (int i = 0; i < ROUNDS; i++) {
    char *body = round_body(p, i);
    tresp r;
    tcall(p->t, &r, "POST", "/v1/push", NULL, p->token, body);
    free(body);
    p->status[i] = r.status;
    p->applied[i] = r.json ? count_status(&r, "applied") : -1;
    tresp_release(&r);
  }
  return NULL;
}

/* A second instance on t's database: its own store (pool) and app. */
static tapp *second_instance(tapp *t) {
  tapp *u = calloc(1, sizeof *u);
  assert_non_null(u);
  *u = *t;
  u->pg_db[0] = 0; /* t drops it */
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_store_open(&u->store, t->cfg.db_file, &t->cfg, 0, &e), KJ_OK);
  kjs_app_init(&u->app, u->store, &u->cfg);
  return u;
}

static void second_free(tapp *u) {
  kjs_store_close(u->store);
  free(u);
}

static int history_rows(tapp *t, const char *id) {
  cJSON *h = NULL;
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_store_history(t->store, id, &h, &e), KJ_OK);
  int n = cJSON_GetArraySize(h);
  cJSON_Delete(h);
  return n;
}

static void test_concurrent_edits_two_instances(void **state) {
  (void)state;
  if (!tapp_on_pg())
    skip();
  tapp *t = tapp_new();
  tapp *u = second_instance(t);
  unsigned long long t0 = kj_wall_ms() - 3600000ULL;
  pusher a = {t, t->dev_a, 0, t0, {0}, {0}}, b = {u, t->dev_a2, 1, t0, {0}, {0}};
  pthread_t ta, tb;
  assert_int_equal(pthread_create(&ta, NULL, push_rounds, &a), 0);
  assert_int_equal(pthread_create(&tb, NULL, push_rounds, &b), 0);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  for (int i = 0; i < ROUNDS; i++) {
    assert_int_equal(a.status[i], 200);
    assert_int_equal(b.status[i], 200);
    assert_int_equal(a.applied[i], NREC + 1);
    assert_int_equal(b.applied[i], NREC + 1);
  }
  /* the history: at most every change once (one that lost to a newer
   * value already there wrote nothing), whichever instance took it */
  int hist[NREC];
  for (int k = 0; k < NREC; k++) {
    hist[k] = history_rows(t, rec_id(k));
    assert_true(hist[k] > 0 && hist[k] <= 2 * ROUNDS);
  }

  /* the same changes one after the other on SQLite: the same records */
  char dpg[65], dsq[65];
  tdigest(u, dpg);
  unsetenv("KJ_TEST_STORE");
  tapp *s = tapp_new();
  setenv("KJ_TEST_STORE", "postgresql", 1);
  pusher sa = {s, s->dev_a, 0, t0, {0}, {0}}, sb = {s, s->dev_a2, 1, t0, {0}, {0}};
  push_rounds(&sb); /* the other order: the merge does not depend on it */
  push_rounds(&sa);
  tdigest(s, dsq);
  assert_string_equal(dpg, dsq);
  tapp_free(s);

  /* sent again through the other instance: answered from the applied
   * table, nothing changes */
  pusher ra = {u, t->dev_a, 0, t0, {0}, {0}}, rb = {t, t->dev_a2, 1, t0, {0}, {0}};
  push_rounds(&ra);
  push_rounds(&rb);
  for (int i = 0; i < ROUNDS; i++) {
    assert_int_equal(ra.status[i], 200);
    assert_int_equal(rb.status[i], 200);
  }
  char again[65];
  tdigest(t, again);
  assert_string_equal(again, dpg);
  for (int k = 0; k < NREC; k++)
    assert_int_equal(history_rows(u, rec_id(k)), hist[k]);

  /* a pull through either instance: every record once */
  for (int w = 0; w < 2; w++) {
    tresp r;
    tcall(w ? u : t, &r, "GET", "/v1/pull", "since=0", t->admin, NULL);
    assert_int_equal(r.status, 200);
    const cJSON *ch = cJSON_GetObjectItem(r.json, "changes");
    int n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, ch) {
      const cJSON *id = cJSON_GetObjectItem(it, "id");
      if (cJSON_IsString(id) &&
          !strncmp(id->valuestring, "01900000-0000-7000-8000-0000000000a", 35))
        n++;
    }
    assert_int_equal(n, NREC);
    assert_int_equal(cJSON_GetArraySize(ch), NREC + 2 * ROUNDS);
    tresp_release(&r);
  }
  second_free(u);
  tapp_free(t);
}

/* The schema is made once: a second store opened with create on a
 * migrated database finds it done (the advisory lock), and both see the
 * same epoch. */
static void test_second_init_same_schema(void **state) {
  (void)state;
  if (!tapp_on_pg())
    skip();
  tapp *t = tapp_new();
  kjs_store *s2 = NULL;
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_store_open(&s2, t->cfg.db_file, &t->cfg, 1, &e), KJ_OK);
  assert_string_equal(kjs_store_backend(s2), "postgresql");
  char e1[KJ_INCARNATION_MAX + 1], e2[KJ_INCARNATION_MAX + 1];
  kjs_store_epoch(t->store, e1);
  kjs_store_epoch(s2, e2);
  assert_string_equal(e1, e2);
  kjs_store_close(s2);
  tapp_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_second_init_same_schema),
      cmocka_unit_test(test_concurrent_edits_two_instances),
  };
  if (!tapp_on_pg())
    (void)kjt_pg_url(); /* says why and exits 77 without a cluster */
  return cmocka_run_group_tests(tests, NULL, NULL);
}
