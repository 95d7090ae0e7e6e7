/* test_app_util.h - a kinerjad app in a temp dir, called without a network. */
#ifndef KJS_TEST_APP_UTIL_H
#define KJS_TEST_APP_UTIL_H

#include <cJSON.h>

#include "app.h"
#include "auth.h"
#include "config.h"
#include "store.h"

typedef struct tapp {
  char dir[256];
  kjs_config cfg;
  kjs_store *store;
  kjs_app app;
  char admin[KJS_TOKEN_LEN + 1], viewer[KJS_TOKEN_LEN + 1];
  char dev_a[KJS_TOKEN_LEN + 1], dev_a2[KJS_TOKEN_LEN + 1], dev_b[KJS_TOKEN_LEN + 1];
  char dev_a_id[32], dev_a2_id[32], dev_b_id[32];
  char pg_db[64]; /* KJ_TEST_STORE=postgresql: this tapp's own database, else "" */
} tapp;

/* 1 when the tests run on PostgreSQL: KJ_TEST_STORE=postgresql (the
 * cluster of the ctest fixture `pg`, tests/server/pgtest.h; exit 77, a
 * skip, without one).  Every tapp then gets a fresh database of its own. */
int tapp_on_pg(void);

#define OFFICE_A "36.73.01"
#define OFFICE_B "36.73.02"

/* A fresh data dir with a store and tokens: admin, viewer, two devices of
 * office A and one of office B.  The store is DIR/kinerjad.db, or with
 * tapp_on_pg() a new PostgreSQL database (t->cfg.db_file its URL), dropped
 * by tapp_free. */
tapp *tapp_new(void);
void tapp_free(tapp *t);

/* A response: status, body text, parsed JSON (NULL when not JSON). */
typedef struct tresp {
  int status;
  char *body;
  cJSON *json;
  char who[64];
  const char *route;
  int push_records;
} tresp;

void tresp_release(tresp *r);
/* Call the handler.  token may be NULL (no Authorization header). */
void tcall(tapp *t, tresp *r, const char *method, const char *path, const char *query,
           const char *token, const char *body);

/* Text of one change: a survey of office for id, stamped hlc_ms (count 0). */
char *survey_change(long long seq, const char *id, const char *office, unsigned long long hlc_ms,
                    int u1);
/* A push body with device_time = now and the given changes (comma-joined). */
char *push_body(const char *const *changes, int n);

/* The digest of the records table (seq excluded). */
void tdigest(tapp *t, char out[65]);

/* A UUIDv7-shaped record id for n ("01900000-0000-7000-8000-" and n in 12
 * digits), in one of 8 static buffers used in turn: valid until the 8th
 * call after. */
char *tuid(int n);

/* Text of one change (malloc'd, the caller frees): type, id, author (""
 * = none) and fields, a JSON object's text ({"name":...}), or NULL for a
 * delete ("del": true).  Stamped from a counter of the test program: seq
 * from 100 up by one, hlc from 2026-01-01T00:00:01Z up by one second. */
char *tchange(const char *type, const char *id, const char *author, const char *fields);

/* The string member k of o, NULL when absent or not a string. */
const char *tjstr(const cJSON *o, const char *k);
/* Result i of a push response r ("results"[i]), NULL when absent. */
const cJSON *tresult(const tresp *r, int i);

/* Push the n changes as token into r (tresp_release it): the test fails
 * unless the status is 200. */
void tpush(tapp *t, tresp *r, const char *token, const char *const *changes, int n);
/* Push one change (freed) as token: its result's status ("applied",
 * "rejected", ...) in a static buffer valid until the next call, and its
 * error ("" none) into error[size] when error is not NULL. */
const char *tpush1(tapp *t, const char *token, char *change, char *error, size_t size);
/* tpush1 that must be applied: the test fails naming the status and error. */
void tpush1_applied(tapp *t, const char *token, char *change);

/* The employee nip of office under supervisor sup (NULL: none), named "N",
 * pushed by the admin through tchange: applied. */
void temployee(tapp *t, const char *nip, const char *office, const char *sup);

#endif
