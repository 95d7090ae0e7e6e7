/* test_replay_refusal.c - a rejection by a rule answered again from the
 * applied table (docs/protocol.md "Push", a batch sent again after its
 * answer was lost): the replay carries the refusal's "code", "field" and
 * "args" as the first answer did, the two answers' results byte for byte
 * the same; a row of before the refusals were kept (code NULL) is answered
 * with the text alone, as before; a store of the schema before (SQLite's
 * user_version 13, PostgreSQL's 3) is migrated, its rows answered as
 * before and new rejections kept whole.  Runs on SQLite, and on PostgreSQL
 * as test_replay_refusal_pg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hlc.h"
#include "test_app_util.h"
#include "test_store_sql.h"

#define T0 1767225600000ULL /* 2026-01-01T00:00:00Z */

#define SUP_A "198001012005011002"   /* A */
#define STAFF_A "199001012015011003" /* A, under SUP_A */
#define HEAD_B "197505052001011006"  /* B */
#define STAFF_B "198503032010011005" /* B, under HEAD_B */

static long long g_seq = 100;
static unsigned long long g_ms = T0 + 1000;

static const char *uid(int n) {
  static char ids[8][40];
  static int k;
  char *s = ids[k++ % 8];
  snprintf(s, 40, "01900000-0000-7000-8000-%012d", n);
  return s;
}

/* One change of the next seq: type, id, fields as a JSON object text. */
static char *change(const char *type, const char *id, const char *fields) {
  cJSON *o = cJSON_CreateObject();
  char hlc[32];
  snprintf(hlc, sizeof hlc, "%llu", (unsigned long long)KJ_HLC_MAKE(g_ms, 0));
  g_ms += 1000;
  cJSON_AddNumberToObject(o, "seq", (double)g_seq++);
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddStringToObject(o, "type", type);
  cJSON_AddStringToObject(o, "hlc", hlc);
  cJSON *f = cJSON_Parse(fields);
  assert_non_null(f);
  cJSON_AddItemToObject(o, "f", f);
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return text;
}

/* POST /v1/push of body as token into *r (200 asserted). */
static void push(tapp *t, tresp *r, const char *token, const char *body) {
  tcall(t, r, "POST", "/v1/push", NULL, token, body);
  if (r->status != 200)
    fail_msg("push: %d %s", r->status, r->body);
}

static void employee(tapp *t, const char *nip, const char *office, const char *sup) {
  char f[256];
  snprintf(f, sizeof f, "{\"name\":\"N\",\"office\":\"%s\"%s%s%s}", office,
           sup ? ",\"supervisor\":\"" : "", sup ? sup : "", sup ? "\"" : "");
  char *c[1] = {change("employee", nip, f)};
  char *body = push_body((const char *const *)c, 1);
  tresp r;
  push(t, &r, t->admin, body);
  assert_non_null(strstr(r.body, "\"status\":\"applied\""));
  tresp_release(&r);
  free(body);
  free(c[0]);
}

/* Office A with SUP_A and STAFF_A, office B with HEAD_B and STAFF_B. */
static tapp *roster_app(void) {
  tapp *t = tapp_new();
  char *c[1] = {change("office", OFFICE_A, "{\"name\":\"Kasemen\"}")};
  char *body = push_body((const char *const *)c, 1);
  tresp r;
  push(t, &r, t->admin, body);
  tresp_release(&r);
  free(body);
  free(c[0]);
  employee(t, SUP_A, OFFICE_A, NULL);
  employee(t, STAFF_A, OFFICE_A, SUP_A);
  employee(t, HEAD_B, OFFICE_B, NULL);
  employee(t, STAFF_B, OFFICE_B, HEAD_B);
  return t;
}

#define ACT(nip)                                                                                   \
  "{\"office\":\"" OFFICE_A "\",\"nip\":\"" nip "\",\"date\":\"2026-02-03\","                      \
  "\"indicator\":\"DOC\",\"quantity\":\"3\"}"

/* A batch of dev_a: an activity of its own staff (applied), one naming
 * office B's staff (refused: roster_office, four args), a survey without
 * its count (refused by validation: no code).  Owned by the caller. */
static char *batch(int n0) {
  char *c[3] = {change("activity", uid(n0), ACT(STAFF_A)),
                change("activity", uid(n0 + 1), ACT(STAFF_B)),
                survey_change(g_seq++, uid(n0 + 2), OFFICE_A, g_ms, 0)};
  char *body = push_body((const char *const *)c, 3);
  for (int i = 0; i < 3; i++)
    free(c[i]);
  return body;
}

/* The results of an answer's body as sent: its text up to "server_time"
 * (which moves between two answers), into a new string. */
static char *results_text(const tresp *r) {
  const char *end = strstr(r->body, ",\"server_time\":");
  assert_non_null(end);
  return strndup(r->body, (size_t)(end - r->body));
}

/* The refusal a rule answered for dev_a's second change */
#define REFUSAL                                                                                    \
  "\"code\":\"roster_office\",\"field\":\"nip\",\"args\":[\"nip\",\"" STAFF_B "\",\"" OFFICE_A     \
  "\",\"" OFFICE_B "\"]"

/* POST /v1/push/status of dev_a for the batch of push body `body` (its
 * seqs one run, first..last, and its changes' digest) into *r. */
static void ask_status(tapp *t, tresp *r, const char *body) {
  kj_push_req req;
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kj_push_decode(body, strlen(body), 1000, &req, &e), KJ_OK);
  kj_change ch[8];
  assert_true(req.n <= 8);
  for (int i = 0; i < req.n; i++) {
    assert_true(req.e[i].ok);
    ch[i] = req.e[i].ch;
  }
  unsigned char d[32];
  assert_int_equal(kj_push_probe_digest(ch, req.n, d, &e), KJ_OK);
  char q[256];
  int o = snprintf(q, sizeof q, "{\"batches\":[{\"seqs\":[[%lld,%lld]],\"digest\":\"",
                   (long long)req.e[0].seq, (long long)req.e[req.n - 1].seq);
  for (int i = 0; i < 32; i++)
    o += snprintf(q + o, sizeof q - (size_t)o, "%02x", d[i]);
  snprintf(q + o, sizeof q - (size_t)o, "\"}]}");
  kj_push_req_release(&req);
  tcall(t, r, "POST", "/v1/push/status", NULL, t->dev_a, q);
  if (r->status != 200)
    fail_msg("push/status: %d %s", r->status, r->body);
}

/* Run sql on t's store outside kinerjad (its own connection). */
/* t's store closed, sql run on it, opened again as serve opens it */
static void reopen_after(tapp *t, const char *sql) {
  kjs_store_close(t->store);
  t->store = NULL;
  tsql_exec(t, sql);
  kj_err e;
  kj_err_clear(&e);
  if (kjs_store_open(&t->store, t->cfg.db_file, &t->cfg, 0, &e))
    fail_msg("open: %s", e.msg);
  kjs_app_init(&t->app, t->store, &t->cfg);
}

/* The first answer and the replay's: the same bytes, the refusal in both;
 * nothing applied again. */
static void test_replay_same(void **state) {
  (void)state;
  tapp *t = roster_app();
  char *body = batch(1);
  tresp r1, r2;
  push(t, &r1, t->dev_a, body);
  push(t, &r2, t->dev_a, body);
  char *a = results_text(&r1), *b = results_text(&r2);
  if (!strstr(a, "is not on the roster of office '" OFFICE_A "' (their office is '" OFFICE_B
                 "')\"," REFUSAL "}"))
    fail_msg("first answer without the refusal: %s", a);
  assert_string_equal(a, b);
  assert_int_equal(r1.push_records, 1);
  assert_int_equal(r2.push_records, 0);
  /* the same results for the question after a cut (docs/protocol.md
   * "Batches cut in flight") */
  tresp_release(&r2);
  ask_status(t, &r2, body);
  free(b);
  b = results_text(&r2);
  assert_string_equal(a, b);
  /* the same once more, after the store was closed and opened again */
  tresp_release(&r2);
  reopen_after(t, "SELECT 1");
  push(t, &r2, t->dev_a, body);
  free(b);
  b = results_text(&r2);
  assert_string_equal(a, b);
  /* kept as one rejected row with its refusal, the others without */
  assert_int_equal(tsql_ll(t, "SELECT count(*) FROM applied WHERE code = 'roster_office' AND "
                              "field = 'nip' AND status = 'rejected'"),
                   1);
  assert_int_equal(tsql_ll(t, "SELECT count(*) FROM applied WHERE code IS NULL AND field IS NULL "
                              "AND args IS NULL"),
                   tsql_ll(t, "SELECT count(*) FROM applied") - 1);
  free(a);
  free(b);
  tresp_release(&r1);
  tresp_release(&r2);
  free(body);
  tapp_free(t);
}

/* A row kept before the refusals were (code NULL): its replay says the
 * text alone, as before. */
static void test_replay_old_row(void **state) {
  (void)state;
  tapp *t = roster_app();
  char *body = batch(11);
  tresp r1, r2;
  push(t, &r1, t->dev_a, body);
  reopen_after(t, "UPDATE applied SET code = NULL, field = NULL, args = NULL");
  push(t, &r2, t->dev_a, body);
  char *a = results_text(&r1), *b = results_text(&r2);
  /* the first answer less the refusal: the replay's */
  char *cut = strstr(a, "," REFUSAL);
  assert_non_null(cut);
  memmove(cut, cut + strlen("," REFUSAL), strlen(cut + strlen("," REFUSAL)) + 1);
  assert_string_equal(a, b);
  assert_null(strstr(b, "\"code\""));
  free(a);
  free(b);
  tresp_release(&r1);
  tresp_release(&r2);
  free(body);
  tapp_free(t);
}

/* A store of the schema before (the applied table without code, field,
 * args) is migrated: its rejection is answered as before, a new one is
 * kept whole. */
static void test_migrate(void **state) {
  (void)state;
  tapp *t = roster_app();
  char *body = batch(21);
  tresp r1, r2;
  push(t, &r1, t->dev_a, body);
  reopen_after(t, tapp_on_pg()
                      ? "ALTER TABLE applied DROP COLUMN code, DROP COLUMN field, DROP COLUMN "
                        "args; UPDATE kinerjad_schema SET version = 3"
                      : "ALTER TABLE applied DROP COLUMN code; ALTER TABLE applied DROP COLUMN "
                        "field; ALTER TABLE applied DROP COLUMN args; PRAGMA user_version = 13");
  assert_int_equal(tsql_version(t), tapp_on_pg() ? 4 : 14);
  assert_int_equal(tsql_ll(t, "SELECT count(*) FROM applied WHERE code IS NOT NULL OR field IS "
                              "NOT NULL OR args IS NOT NULL"),
                   0);
  push(t, &r2, t->dev_a, body);
  assert_non_null(strstr(r2.body, "\"status\":\"rejected\""));
  assert_null(strstr(r2.body, "\"code\""));
  tresp_release(&r1);
  tresp_release(&r2);
  free(body);
  /* a new batch after the migration: its replay carries the refusal */
  body = batch(31);
  push(t, &r1, t->dev_a, body);
  push(t, &r2, t->dev_a, body);
  char *a = results_text(&r1), *b = results_text(&r2);
  assert_non_null(strstr(a, REFUSAL));
  assert_string_equal(a, b);
  free(a);
  free(b);
  tresp_release(&r1);
  tresp_release(&r2);
  free(body);
  tapp_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_replay_same),
      cmocka_unit_test(test_replay_old_row),
      cmocka_unit_test(test_migrate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
