/* test_app.c - kinerjad's handler called directly: every route and status,
 * exactly-once replay, office scoping, revocation, merge order
 * independence, the conflict log and clock correction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>
#include <cmocka.h>

#include "hlc.h"
#include "pgtest.h"
#include "test_app_util.h"

#define T0 1767225600000ULL /* 2026-01-01T00:00:00Z in ms: a stamp well in the past */

static int setup(void **state) {
  *state = tapp_new();
  return 0;
}

static int teardown(void **state) {
  tapp_free(*state);
  return 0;
}

static void push1(tapp *t, tresp *r, const char *token, char *change) {
  const char *c[1] = {change};
  tpush(t, r, token, c, 1);
  free(change);
}

/* ---------------------------------------------------------------------- */

static void test_statuses(void **state) {
  tapp *t = *state;
  tresp r;
  tcall(t, &r, "GET", "/healthz", NULL, NULL, NULL);
  assert_int_equal(r.status, 200);
  tresp_release(&r);
  tcall(t, &r, "GET", "/nope", NULL, t->admin, NULL);
  assert_int_equal(r.status, 404);
  assert_non_null(strstr(tjstr(r.json, "error"), "/nope"));
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/push", NULL, t->dev_a, NULL);
  assert_int_equal(r.status, 405);
  tresp_release(&r);
  tcall(t, &r, "DELETE", "/v1/hello", NULL, t->dev_a, NULL);
  assert_int_equal(r.status, 405);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/hello", NULL, NULL, NULL);
  assert_int_equal(r.status, 401);
  assert_non_null(tjstr(r.json, "error"));
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/hello", NULL, "0123456789abcdef", NULL);
  assert_int_equal(r.status, 401);
  assert_string_equal(tjstr(r.json, "error"), "unknown token");
  tresp_release(&r);
  /* a token never appears in an answer */
  assert_null(strstr(r.body ? r.body : "", "0123456789abcdef"));
  tcall(t, &r, "POST", "/v1/push", NULL, t->viewer, "{\"changes\":[]}");
  assert_int_equal(r.status, 403);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", NULL, t->viewer, NULL);
  assert_int_equal(r.status, 403);
  tresp_release(&r);
  tcall(t, &r, "GET", "/metrics", NULL, t->dev_a, NULL);
  assert_int_equal(r.status, 403);
  tresp_release(&r);
  tcall(t, &r, "GET", "/metrics", NULL, t->viewer, NULL);
  assert_int_equal(r.status, 403);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/reports/offices", "period=2026", t->dev_a, NULL);
  assert_int_equal(r.status, 403);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/reports/employees", "period=2026&office=" OFFICE_B, t->dev_a, NULL);
  assert_int_equal(r.status, 403);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/reports/offices", NULL, t->viewer, NULL);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(tjstr(r.json, "error"), "period"));
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/reports/offices", "period=2026-Q5", t->viewer, NULL);
  assert_int_equal(r.status, 400);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/reports/offices", "period=2026&as_of=2026-02-30", t->viewer, NULL);
  assert_int_equal(r.status, 400);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/reports/employees", "period=2026", t->viewer, NULL);
  assert_int_equal(r.status, 400);
  tresp_release(&r);
  /* bad JSON names the problem */
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, "{\"changes\": [1,");
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(tjstr(r.json, "error"), "bad JSON at byte"));
  tresp_release(&r);
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, "");
  assert_int_equal(r.status, 400);
  tresp_release(&r);
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, "[]");
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(tjstr(r.json, "error"), "object"));
  tresp_release(&r);
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, "{\"changes\":{}}");
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(tjstr(r.json, "error"), "'changes'"));
  tresp_release(&r);
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, "{\"device_time\":\"x\",\"changes\":[]}");
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(tjstr(r.json, "error"), "'device_time'"));
  tresp_release(&r);
  /* batch over the limit */
  t->cfg.max_batch = 2;
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, "{\"changes\":[{},{},{}]}");
  assert_int_equal(r.status, 413);
  tresp_release(&r);
  t->cfg.max_batch = KJS_MAX_BATCH;
  /* pull parameters */
  tcall(t, &r, "GET", "/v1/pull", "since=abc", t->dev_a, NULL);
  assert_int_equal(r.status, 400);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "since=-1", t->dev_a, NULL);
  assert_int_equal(r.status, 400);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "limit=0", t->dev_a, NULL);
  assert_int_equal(r.status, 400);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "limit=5001", t->dev_a, NULL);
  assert_int_equal(r.status, 400);
  tresp_release(&r);
  /* metrics for the admin, Prometheus text */
  tcall(t, &r, "GET", "/metrics", NULL, t->admin, NULL);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, "kinerjad_records_total{status=\"applied\"}"));
  tresp_release(&r);
}

static void test_hello(void **state) {
  tapp *t = *state;
  tresp r;
  tcall(t, &r, "GET", "/v1/hello", NULL, t->dev_a, NULL);
  assert_int_equal(r.status, 200);
  assert_string_equal(tjstr(r.json, "server"), "kinerjad");
  assert_string_equal(tjstr(r.json, "version"), KJ_VERSION);
  assert_int_equal(cJSON_GetObjectItem(r.json, "protocol")->valueint, 1);
  double st = cJSON_GetObjectItem(r.json, "server_time")->valuedouble;
  assert_true(st > (double)kj_wall_ms() - 60000 && st <= (double)kj_wall_ms());
  assert_string_equal(tjstr(r.json, "role"), "device");
  assert_string_equal(tjstr(r.json, "office"), OFFICE_A);
  assert_string_equal(tjstr(r.json, "device"), t->dev_a_id);
  assert_string_equal(r.who, t->dev_a_id);
  const cJSON *l = cJSON_GetObjectItem(r.json, "limits");
  assert_int_equal(cJSON_GetObjectItem(l, "max_batch")->valueint, KJS_MAX_BATCH);
  assert_true(cJSON_GetObjectItem(l, "max_body")->valuedouble >= 1024);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/hello", NULL, t->viewer, NULL);
  assert_int_equal(r.status, 200);
  assert_string_equal(tjstr(r.json, "role"), "viewer");
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(r.json, "office")));
  tresp_release(&r);
}

static void test_push_pull(void **state) {
  tapp *t = *state;
  tresp r;
  char *c[4];
  c[0] = survey_change(1, tuid(1), OFFICE_A, T0, 4);
  c[1] = strdup("{\"seq\":2,\"id\":\""
                "01900000-0000-7000-8000-000000000002"
                "\",\"type\":\"survey\",\"f\":{}}");
  c[2] = survey_change(3, tuid(3), OFFICE_A, T0, 9); /* u1 out of range */
  c[3] = survey_change(4, tuid(4), OFFICE_A, T0, 1);
  tpush(t, &r, t->dev_a, (const char *const *)c, 4);
  for (int i = 0; i < 4; i++)
    free(c[i]);
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  assert_int_equal(cJSON_GetObjectItem(tresult(&r, 0), "seq")->valueint, 1);
  assert_string_equal(tjstr(tresult(&r, 1), "status"), "rejected");
  assert_non_null(strstr(tjstr(tresult(&r, 1), "error"),
                         "changes[1] (id 01900000-0000-7000-8000-000000000002): "));
  assert_non_null(strstr(tjstr(tresult(&r, 1), "error"), "'hlc'"));
  assert_string_equal(tjstr(tresult(&r, 2), "status"), "rejected");
  assert_non_null(strstr(tjstr(tresult(&r, 2), "error"),
                         "changes[2] (id 01900000-0000-7000-8000-000000000003): field 'u1'"));
  assert_string_equal(tjstr(tresult(&r, 3), "status"), "applied");
  assert_non_null(cJSON_GetObjectItem(r.json, "server_time"));
  assert_int_equal(r.push_records, 2);
  tresp_release(&r);
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a,
        "{\"changes\":[{\"id\":\"01900000-0000-7000-8000-000000000009\",\"type\":\"survey\","
        "\"hlc\":\"99\",\"f\":{}}]}");
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  assert_non_null(strstr(tjstr(tresult(&r, 0), "error"), "'seq'"));
  tresp_release(&r);
  /* the rejected one was not stored */
  char *state_json = NULL;
  kj_err e;
  assert_int_equal(kjs_store_get_state(t->store, KJ_T_SURVEY, tuid(3), &state_json, &e), KJ_ENOENT);
  /* pull in pages of one */
  tcall(t, &r, "GET", "/v1/pull", "since=0&limit=1", t->dev_a, NULL);
  assert_int_equal(r.status, 200);
  const cJSON *ch = cJSON_GetObjectItem(r.json, "changes");
  assert_int_equal(cJSON_GetArraySize(ch), 1);
  assert_string_equal(tjstr(cJSON_GetArrayItem(ch, 0), "id"), tuid(1));
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r.json, "more")));
  char next[32];
  snprintf(next, sizeof next, "%s", tjstr(r.json, "next"));
  tresp_release(&r);
  char q[64];
  snprintf(q, sizeof q, "since=%s&limit=1", next);
  tcall(t, &r, "GET", "/v1/pull", q, t->dev_a, NULL);
  ch = cJSON_GetObjectItem(r.json, "changes");
  assert_int_equal(cJSON_GetArraySize(ch), 1);
  assert_string_equal(tjstr(cJSON_GetArrayItem(ch, 0), "id"), tuid(4));
  assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r.json, "more")));
  assert_true(cJSON_IsArray(cJSON_GetObjectItem(r.json, "scores")));
  snprintf(q, sizeof q, "since=%s", tjstr(r.json, "next"));
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", q, t->dev_a, NULL);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes")), 0);
  assert_string_equal(tjstr(r.json, "next"), q + 6); /* the cursor stays */
  assert_non_null(cJSON_GetObjectItem(r.json, "server_time"));
  assert_true(cJSON_IsArray(cJSON_GetObjectItem(r.json, "scores")));
  /* a device that holds the scores of that tag gets none back */
  char tag[64], q2[160];
  snprintf(tag, sizeof tag, "%s", tjstr(r.json, "scores_tag"));
  assert_int_equal(strlen(tag), 32);
  tresp_release(&r);
  snprintf(q2, sizeof q2, "%s&scores_tag=%s", q, tag);
  tcall(t, &r, "GET", "/v1/pull", q2, t->dev_a, NULL);
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(r.json, "scores")));
  assert_string_equal(tjstr(r.json, "scores_tag"), tag);
  tresp_release(&r);
  /* a device holding older scores (another tag) gets them */
  snprintf(q2, sizeof q2, "%s&scores_tag=0123456789abcdef0123456789abcdef", q);
  tcall(t, &r, "GET", "/v1/pull", q2, t->dev_a, NULL);
  assert_true(cJSON_IsArray(cJSON_GetObjectItem(r.json, "scores")));
  assert_string_equal(tjstr(r.json, "scores_tag"), tag);
  tresp_release(&r);
  /* B sees none of them, and its cursor skips past them */
  tcall(t, &r, "GET", "/v1/pull", "since=0", t->dev_b, NULL);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes")), 0);
  assert_string_equal(tjstr(r.json, "next"), "2");
  tresp_release(&r);
}

static void test_replay(void **state) {
  tapp *t = *state;
  tresp r1, r2;
  char *c[3];
  c[0] = survey_change(10, tuid(1), OFFICE_A, T0, 4);
  c[1] = survey_change(11, tuid(2), OFFICE_B, T0, 4); /* forbidden */
  c[2] = survey_change(12, tuid(3), OFFICE_A, T0, 0); /* invalid */
  char *body = push_body((const char *const *)c, 3);
  tcall(t, &r1, "POST", "/v1/push", NULL, t->dev_a, body);
  assert_int_equal(r1.status, 200);
  char d1[65], d2[65];
  tdigest(t, d1);
  tcall(t, &r2, "POST", "/v1/push", NULL, t->dev_a, body);
  assert_int_equal(r2.status, 200);
  tdigest(t, d2);
  assert_string_equal(d1, d2);
  char *a = cJSON_PrintUnformatted(cJSON_GetObjectItem(r1.json, "results"));
  char *b = cJSON_PrintUnformatted(cJSON_GetObjectItem(r2.json, "results"));
  assert_string_equal(a, b);
  assert_int_equal(r2.push_records, 0);
  free(a);
  free(b);
  tresp_release(&r1);
  tresp_release(&r2);
  /* the same change under a new seq (another path): a duplicate */
  free(c[1]);
  c[1] = NULL;
  char *again = survey_change(13, tuid(1), OFFICE_A, T0, 4);
  push1(t, &r1, t->dev_a, again);
  assert_string_equal(tjstr(tresult(&r1, 0), "status"), "duplicate");
  tresp_release(&r1);
  tdigest(t, d2);
  assert_string_equal(d1, d2);
  free(body);
  free(c[0]);
  free(c[2]);
}

static void test_office_scope(void **state) {
  tapp *t = *state;
  tresp r;
  /* master data only from the admin */
  char office[256];
  snprintf(
      office, sizeof office,
      "{\"seq\":1,\"id\":\"" OFFICE_A
      "\",\"type\":\"office\",\"hlc\":\"%llu\",\"f\":{\"name\":\"Kasemen\",\"region\":\"Serang\"}}",
      (unsigned long long)KJ_HLC_MAKE(T0, 0));
  push1(t, &r, t->dev_a, strdup(office));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  assert_non_null(strstr(tjstr(tresult(&r, 0), "error"), "forbidden office"));
  tresp_release(&r);
  push1(t, &r, t->admin, strdup(office));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  /* another office's record */
  push1(t, &r, t->dev_a, survey_change(2, tuid(1), OFFICE_B, T0, 4));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  assert_non_null(strstr(tjstr(tresult(&r, 0), "error"), "forbidden office"));
  tresp_release(&r);
  push1(t, &r, t->dev_a, survey_change(3, tuid(2), OFFICE_A, T0, 4));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  /* B may not touch A's record, even claiming its own office */
  push1(t, &r, t->dev_b, survey_change(1, tuid(2), OFFICE_B, T0 + 10, 4));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  assert_non_null(strstr(tjstr(tresult(&r, 0), "error"), "forbidden office"));
  tresp_release(&r);
  char del[256];
  snprintf(del, sizeof del,
           "{\"seq\":2,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"del\":true}", tuid(2),
           (unsigned long long)KJ_HLC_MAKE(T0 + 20, 0));
  push1(t, &r, t->dev_b, strdup(del));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  tresp_release(&r);
  /* A may not move its record to B */
  snprintf(
      del, sizeof del,
      "{\"seq\":4,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"office\":\"" OFFICE_B
      "\"}}",
      tuid(2), (unsigned long long)KJ_HLC_MAKE(T0 + 30, 0));
  push1(t, &r, t->dev_a, strdup(del));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  tresp_release(&r);
  /* B sees the master data, not A's survey; A sees both; admin all */
  tcall(t, &r, "GET", "/v1/pull", NULL, t->dev_b, NULL);
  const cJSON *ch = cJSON_GetObjectItem(r.json, "changes");
  assert_int_equal(cJSON_GetArraySize(ch), 1);
  assert_string_equal(tjstr(cJSON_GetArrayItem(ch, 0), "type"), "office");
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", NULL, t->dev_a, NULL);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes")), 2);
  if (kjs_store_has_scores()) {
    /* the last page carries the office's scores: year, quarter, month,
     * previous quarter, previous month */
    const cJSON *sc = cJSON_GetObjectItem(r.json, "scores");
    assert_int_equal(cJSON_GetArraySize(sc), 5);
    int y, m;
    assert_int_equal(sscanf(tjstr(cJSON_GetArrayItem(sc, 0), "as_of"), "%4d-%2d", &y, &m), 2);
    int q = (m - 1) / 3 + 1;
    char want[5][32];
    snprintf(want[0], sizeof want[0], "%04d", y);
    snprintf(want[1], sizeof want[1], "%04d-Q%d", y, q);
    snprintf(want[2], sizeof want[2], "%04d-%02d", y, m);
    snprintf(want[3], sizeof want[3], "%04d-Q%d", q > 1 ? y : y - 1, q > 1 ? q - 1 : 4);
    snprintf(want[4], sizeof want[4], "%04d-%02d", m > 1 ? y : y - 1, m > 1 ? m - 1 : 12);
    for (int i = 0; i < 5; i++)
      assert_string_equal(tjstr(cJSON_GetArrayItem(sc, i), "period"), want[i]);
    const cJSON *of = cJSON_GetObjectItem(cJSON_GetArrayItem(sc, 0), "office");
    assert_true(cJSON_IsObject(of));
    assert_string_equal(tjstr(of, "office"), OFFICE_A);
    assert_true(cJSON_IsArray(cJSON_GetObjectItem(cJSON_GetArrayItem(sc, 2), "employees")));
  }
  tresp_release(&r);
  /* B's scores have no entry of A */
  tcall(t, &r, "GET", "/v1/pull", NULL, t->dev_b, NULL);
  assert_null(strstr(r.body, "\"office\":\"" OFFICE_A "\",\"name\""));
  tresp_release(&r);
  /* reports for the viewer */
  tcall(t, &r, "GET", "/v1/reports/offices", "period=2026-Q1&as_of=2026-03-31", t->viewer, NULL);
  assert_int_equal(r.status, kjs_store_has_scores() ? 200 : 404);
  if (kjs_store_has_scores())
    assert_string_equal(tjstr(r.json, "period"), "2026-Q1");
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/reports/employees", "period=2026&office=" OFFICE_A, t->dev_a, NULL);
  assert_int_equal(r.status, kjs_store_has_scores() ? 200 : 404);
  tresp_release(&r);
  /* a central correction flows down to A */
  snprintf(del, sizeof del,
           "{\"seq\":2,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u1\":\"1\"}}",
           tuid(2), (unsigned long long)KJ_HLC_MAKE(T0 + 40, 0));
  push1(t, &r, t->admin, strdup(del));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "since=2", t->dev_a, NULL);
  ch = cJSON_GetObjectItem(r.json, "changes");
  assert_int_equal(cJSON_GetArraySize(ch), 1);
  assert_string_equal(tjstr(cJSON_GetObjectItem(cJSON_GetArrayItem(ch, 0), "f"), "u1"), "1");
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", NULL, t->admin, NULL);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes")), 2);
  tresp_release(&r);
  /* a central correction moves A's record to B: B gets it, A one notice */
  snprintf(del, sizeof del,
           "{\"seq\":3,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{"
           "\"office\":\"" OFFICE_B "\"}}",
           tuid(2), (unsigned long long)KJ_HLC_MAKE(T0 + 50, 0));
  push1(t, &r, t->admin, strdup(del));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "since=3", t->dev_a, NULL);
  ch = cJSON_GetObjectItem(r.json, "changes");
  assert_int_equal(cJSON_GetArraySize(ch), 0);
  cJSON *mv = cJSON_GetObjectItem(r.json, "moved");
  assert_int_equal(cJSON_GetArraySize(mv), 1);
  assert_string_equal(tjstr(cJSON_GetArrayItem(mv, 0), "type"), "survey");
  assert_string_equal(tjstr(cJSON_GetArrayItem(mv, 0), "id"), tuid(2));
  char after_move[32];
  snprintf(after_move, sizeof after_move, "since=%s", tjstr(r.json, "next"));
  tresp_release(&r);
  /* once: the next pull has no notice */
  tcall(t, &r, "GET", "/v1/pull", after_move, t->dev_a, NULL);
  assert_null(cJSON_GetObjectItem(r.json, "moved"));
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "since=0", t->dev_b, NULL);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes")), 2);
  tresp_release(&r);
  /* A may no longer edit it */
  snprintf(del, sizeof del,
           "{\"seq\":5,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u2\":\"1\"}}",
           tuid(2), (unsigned long long)KJ_HLC_MAKE(T0 + 60, 0));
  push1(t, &r, t->dev_a, strdup(del));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  assert_null(cJSON_GetObjectItem(tresult(&r, 0), "retry"));
  tresp_release(&r);
  /* B's later edits never reach A */
  snprintf(del, sizeof del,
           "{\"seq\":6,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u2\":\"2\"}}",
           tuid(2), (unsigned long long)KJ_HLC_MAKE(T0 + 70, 0));
  push1(t, &r, t->dev_b, strdup(del));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", after_move, t->dev_a, NULL);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes")), 0);
  assert_null(cJSON_GetObjectItem(r.json, "moved"));
  tresp_release(&r);
}

/* A survey change of OFFICE_A with an author (the text of survey_change
 * plus "author"). */
static char *authored(long long seq, const char *id, const char *author) {
  char *c = survey_change(seq, id, OFFICE_A, T0 + (unsigned long long)seq, 4);
  cJSON *o = cJSON_Parse(c);
  free(c);
  cJSON_AddStringToObject(o, "author", author);
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return text;
}

/* Every change keeps its author; a device vouches for people of its own
 * office only, never for "admin"; `history` shows who, in the office's
 * time zone. */
static void test_authors(void **state) {
  tapp *t = *state;
  tresp r;
  const char *emp =
      "{\"seq\":1,\"id\":\"198001012005011001\",\"type\":\"employee\",\"hlc\":\"%llu\","
      "\"f\":{\"name\":\"Siti\",\"office\":\"" OFFICE_A "\"}}";
  char buf[400];
  snprintf(buf, sizeof buf, emp, (unsigned long long)KJ_HLC_MAKE(T0, 0));
  push1(t, &r, t->admin, strdup(buf));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  char office[300];
  snprintf(office, sizeof office,
           "{\"seq\":2,\"id\":\"" OFFICE_A "\",\"type\":\"office\",\"hlc\":\"%llu\","
           "\"f\":{\"name\":\"Kasemen\",\"timezone\":\"Asia/Makassar\"}}",
           (unsigned long long)KJ_HLC_MAKE(T0, 0));
  push1(t, &r, t->admin, strdup(office));
  tresp_release(&r);
  /* the office's own calendar (the scores a pull sends are for its current
   * month): today in WITA; office B has no record: WIB */
  kj_day day;
  kj_err ze;
  kj_err_clear(&ze);
  assert_int_equal(kjs_store_office_today(t->store, OFFICE_A, &day, &ze), KJ_OK);
  assert_int_equal(day, kj_today(480));
  assert_int_equal(kjs_store_office_today(t->store, OFFICE_B, &day, &ze), KJ_OK);
  assert_int_equal(day, kj_today(420));

  push1(t, &r, t->dev_a, authored(10, tuid(50), "198001012005011001"));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  push1(t, &r, t->dev_a, authored(11, tuid(51), "admin"));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  assert_non_null(strstr(tjstr(tresult(&r, 0), "error"), "author 'admin'"));
  tresp_release(&r);
  push1(t, &r, t->dev_a, authored(12, tuid(52), "199001012015011002"));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  assert_non_null(strstr(tjstr(tresult(&r, 0), "error"),
                         "author '199001012015011002' is not on the roster of office '36.73.01'"));
  tresp_release(&r);
  /* a citizen at the office app's kiosk (kinerja ui): surveys only */
  push1(t, &r, t->dev_a, authored(15, tuid(54), "kiosk"));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  char compl [400];
  snprintf(compl, sizeof compl,
           "{\"seq\":16,\"id\":\"%s\",\"type\":\"complaint\",\"hlc\":\"%llu\","
           "\"author\":\"kiosk\",\"f\":{\"office\":\"" OFFICE_A "\",\"received\":\"2026-03-02\"}}",
           tuid(55), (unsigned long long)KJ_HLC_MAKE(T0 + 16, 0));
  push1(t, &r, t->dev_a, strdup(compl ));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  assert_non_null(strstr(tjstr(tresult(&r, 0), "error"), "kiosk writes surveys only"));
  tresp_release(&r);
  push1(t, &r, t->dev_a, authored(13, tuid(53), "nobody"));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  assert_non_null(strstr(tjstr(tresult(&r, 0), "error"), "'author': must be operator, admin"));
  tresp_release(&r);
  /* no author (a PC of protocol 1): its operator */
  push1(t, &r, t->dev_a, survey_change(14, tuid(50), OFFICE_A, T0 + 100, 3));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);

  cJSON *h;
  kj_err e;
  assert_int_equal(kjs_store_history(t->store, tuid(50), &h, &e), KJ_OK);
  assert_int_equal(cJSON_GetArraySize(h), 2);
  assert_string_equal(tjstr(cJSON_GetArrayItem(h, 0), "author"), "198001012005011001");
  assert_string_equal(tjstr(cJSON_GetArrayItem(h, 0), "device"), t->dev_a_id);
  assert_string_equal(tjstr(cJSON_GetArrayItem(h, 1), "author"), "operator");
  assert_non_null(strstr(tjstr(cJSON_GetArrayItem(h, 0), "when"), " WITA"));
  /* made: the change's own time (its stamp), not when the server got it */
  assert_non_null(strstr(tjstr(cJSON_GetArrayItem(h, 1), "made"), " WITA"));
  assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(h, 1), "made_at")) ==
              (double)(T0 + 100));
  const cJSON *f =
      cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(h, 1), "change"), "f");
  assert_string_equal(tjstr(f, "u1"), "3");
  cJSON_Delete(h);
  assert_int_equal(kjs_store_history(t->store, tuid(52), &h, &e), KJ_OK);
  assert_int_equal(cJSON_GetArraySize(h), 0); /* a refused change leaves no history */
  cJSON_Delete(h);
}

static void test_revoke(void **state) {
  tapp *t = *state;
  tresp r;
  tcall(t, &r, "GET", "/v1/hello", NULL, t->dev_b, NULL);
  assert_int_equal(r.status, 200);
  tresp_release(&r);
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_store_token_revoke(t->store, t->dev_b_id, &e), KJ_OK);
  tcall(t, &r, "GET", "/v1/hello", NULL, t->dev_b, NULL);
  assert_int_equal(r.status, 401);
  assert_string_equal(tjstr(r.json, "error"), "token revoked"); /* the client says why */
  tresp_release(&r);
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_b, "{\"changes\":[]}");
  assert_int_equal(r.status, 401);
  tresp_release(&r);
  assert_int_equal(kjs_store_token_revoke(t->store, t->dev_b_id, &e), KJ_EEXIST);
  assert_int_equal(kjs_store_token_revoke(t->store, "dev-nothere", &e), KJ_ENOENT);
  tcall(t, &r, "GET", "/v1/hello", NULL, t->dev_a, NULL);
  assert_int_equal(r.status, 200);
  tresp_release(&r);
}

static void test_conflicts(void **state) {
  tapp *t = *state;
  tresp r;
  push1(t, &r, t->dev_a, survey_change(1, tuid(1), OFFICE_A, T0, 4));
  tresp_release(&r);
  /* dev_a2 edits u1 later: wins, the old value is logged */
  char c[256];
  snprintf(c, sizeof c,
           "{\"seq\":1,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u1\":\"2\"}}",
           tuid(1), (unsigned long long)KJ_HLC_MAKE(T0 + 100, 0));
  push1(t, &r, t->dev_a2, strdup(c));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  /* dev_a's concurrent older edit of u1 and a new one of u2: u1 loses, u2 wins */
  snprintf(c, sizeof c,
           "{\"seq\":2,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u1\":\"3\","
           "\"u2\":\"1\"}}",
           tuid(1), (unsigned long long)KJ_HLC_MAKE(T0 + 50, 0));
  push1(t, &r, t->dev_a, strdup(c));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  cJSON *arr;
  kj_err e;
  assert_int_equal(kjs_store_conflicts(t->store, &arr, &e), KJ_OK);
  int n = cJSON_GetArraySize(arr);
  assert_true(n >= 2);
  int saw_first = 0, saw_second = 0;
  const cJSON *o;
  cJSON_ArrayForEach(o, arr) {
    assert_string_equal(tjstr(o, "id"), tuid(1));
    assert_string_equal(tjstr(o, "type"), "survey");
    if (!strcmp(tjstr(o, "field"), "u1") && !strcmp(tjstr(o, "loser"), "4") &&
        !strcmp(tjstr(o, "winner"), "2"))
      saw_first = 1;
    if (!strcmp(tjstr(o, "field"), "u1") && !strcmp(tjstr(o, "loser"), "3") &&
        !strcmp(tjstr(o, "winner"), "2")) {
      saw_second = 1;
      assert_non_null(strstr(tjstr(o, "loser_stamp"), t->dev_a_id));
      assert_non_null(strstr(tjstr(o, "winner_stamp"), t->dev_a2_id));
      /* each side's author, from the history row of its stamp, and the
       * time of each side in the office's zone (no timezone: WIB) */
      assert_string_equal(tjstr(o, "loser_author"), "operator");
      assert_string_equal(tjstr(o, "winner_author"), "operator");
      assert_non_null(strstr(tjstr(o, "loser_time"), " WIB"));
      assert_non_null(strstr(tjstr(o, "winner_time"), " WIB"));
      assert_non_null(strstr(tjstr(o, "when"), " WIB"));
    }
  }
  cJSON_Delete(arr);
  assert_true(saw_first);
  assert_true(saw_second);
  char *sj;
  assert_int_equal(kjs_store_get_state(t->store, KJ_T_SURVEY, tuid(1), &sj, &e), KJ_OK);
  cJSON *s = cJSON_Parse(sj);
  free(sj);
  assert_string_equal(tjstr(cJSON_GetObjectItem(s, "f"), "u1"), "2");
  assert_string_equal(tjstr(cJSON_GetObjectItem(s, "f"), "u2"), "1");
  cJSON_Delete(s);
}

static kj_code count_history(void *ctx, const kjs_history_view *v) {
  (void)v;
  ++*(int *)ctx;
  return KJ_OK;
}

static const char *state_u1(tapp *t, const char *id, char *out, size_t size) {
  char *sj = NULL;
  kj_err e;
  assert_int_equal(kjs_store_get_state(t->store, KJ_T_SURVEY, id, &sj, &e), KJ_OK);
  cJSON *s = cJSON_Parse(sj);
  free(sj);
  snprintf(out, size, "%s", tjstr(cJSON_GetObjectItem(s, "f"), "u1"));
  cJSON_Delete(s);
  return out;
}

/* A change that looks like a creation (it sets the office) is stored
 * without a read of its record (store.c apply_fresh); when the record is
 * there after all (sent again by another device, or twice in one batch)
 * it is merged as an edit: last writer wins per field, the loser logged,
 * one record, one history row per change applied. */
static void test_fresh_existing(void **state) {
  tapp *t = *state;
  tresp r;
  push1(t, &r, t->dev_a, survey_change(1, tuid(7), OFFICE_A, T0, 4));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  /* the same record "created" again, later, by another device */
  push1(t, &r, t->dev_a2, survey_change(1, tuid(7), OFFICE_A, T0 + 100, 2));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  /* and earlier by the first: every value loses, nothing changes */
  push1(t, &r, t->dev_a, survey_change(2, tuid(7), OFFICE_A, T0 + 50, 3));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  char u1[16];
  assert_string_equal(state_u1(t, tuid(7), u1, sizeof u1), "2");
  cJSON *arr;
  kj_err e;
  assert_int_equal(kjs_store_conflicts(t->store, &arr, &e), KJ_OK);
  int lost4 = 0, lost3 = 0;
  const cJSON *o;
  cJSON_ArrayForEach(o, arr) {
    if (!strcmp(tjstr(o, "field"), "u1") && !strcmp(tjstr(o, "winner"), "2")) {
      lost4 |= !strcmp(tjstr(o, "loser"), "4");
      lost3 |= !strcmp(tjstr(o, "loser"), "3");
    }
  }
  cJSON_Delete(arr);
  assert_true(lost4);
  assert_true(lost3);
  int nh = 0;
  assert_int_equal(kjs_store_history_rows(t->store, tuid(7), count_history, &nh, &e), KJ_OK);
  assert_int_equal(nh, 2); /* the third wrote nothing */
  /* a creation and its edit in one batch: both applied, the edit wins */
  char *two[2] = {survey_change(3, tuid(8), OFFICE_A, T0, 3),
                  survey_change(4, tuid(8), OFFICE_A, T0 + 10, 1)};
  tpush(t, &r, t->dev_a, (const char *const *)two, 2);
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  assert_string_equal(tjstr(tresult(&r, 1), "status"), "applied");
  tresp_release(&r);
  free(two[0]);
  free(two[1]);
  assert_string_equal(state_u1(t, tuid(8), u1, sizeof u1), "1");
  nh = 0;
  assert_int_equal(kjs_store_history_rows(t->store, tuid(8), count_history, &nh, &e), KJ_OK);
  assert_int_equal(nh, 2);
}

static long long file_size(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

static long long db_bytes(tapp *t) {
  char wal[4200];
  snprintf(wal, sizeof wal, "%s-wal", t->cfg.db_file);
  return file_size(t->cfg.db_file) + file_size(wal);
}

/* Issue 15 point 4: a device pushes losing values that are huge, carry
 * terminal escapes or break the field's rule.  The log keeps none of them
 * as is (null and a note), stays bounded per record, and its JSON is valid
 * and free of control bytes. */
static void test_conflicts_hostile(void **state) {
  tapp *t = *state;
  tresp r;
  const char *id = tuid(50);
  push1(t, &r, t->dev_a, survey_change(1, id, OFFICE_A, T0 + 100000, 4));
  tresp_release(&r);
  char c0[512];
  snprintf(c0, sizeof c0,
           "{\"seq\":2,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{"
           "\"comment\":\"ok\",\"occupation\":\"guru\"}}",
           id, (unsigned long long)KJ_HLC_MAKE(T0 + 100000, 1));
  push1(t, &r, t->dev_a, strdup(c0));
  tresp_release(&r);

  /* the hostile values: 100 KB of comment, an escape in a short text, a
   * service over its 200 characters, a score out of range */
  enum { BIG = 100000, PUSHES = 5, PER_PUSH = 20 };
  char *big = malloc(BIG + 1);
  assert_non_null(big);
  for (int i = 0; i < BIG; i++)
    big[i] = "\\u001b[2J"[i % 9]; /* the JSON text of ESC [ 2 J, repeated */
  big[BIG - (BIG % 9)] = '\0';
  long long before = db_bytes(t);
  long long seq = 100;
  for (int p = 0; p < PUSHES; p++) {
    char *changes[PER_PUSH];
    for (int k = 0; k < PER_PUSH; k++) {
      size_t len = strlen(big) + 1024;
      changes[k] = malloc(len);
      assert_non_null(changes[k]);
      snprintf(changes[k], len,
               "{\"seq\":%lld,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{"
               "\"comment\":\"%s\",\"occupation\":\"\\u001b]0;owned\\u0007\","
               "\"service\":\"%0300d\",\"u1\":\"9\",\"u2\":\"1\"}}",
               seq, id, (unsigned long long)KJ_HLC_MAKE(T0 + 1000 + (unsigned long long)seq, 0),
               big, 7);
      seq++;
    }
    tpush(t, &r, t->dev_a2, (const char *const *)changes, PER_PUSH);
    for (int k = 0; k < PER_PUSH; k++) {
      /* every value lost to dev_a's newer ones: nothing changed */
      assert_string_equal(tjstr(tresult(&r, k), "status"), "applied");
      free(changes[k]);
    }
    tresp_release(&r);
  }
  free(big);
  long long grew = db_bytes(t) - before;
  /* 10 MB of losing values were pushed; the log keeps notes, not values */
  if (grew > 512LL * 1024)
    fail_msg("the database grew by %lld bytes", grew);

  cJSON *arr;
  kj_err e;
  assert_int_equal(kjs_store_conflicts(t->store, &arr, &e), KJ_OK);
  int n = 0, saw_comment = 0, saw_occ = 0, saw_service = 0, saw_u1 = 0, saw_u2 = 0;
  const cJSON *o;
  cJSON_ArrayForEach(o, arr) {
    if (strcmp(tjstr(o, "id"), id) != 0)
      continue;
    n++;
    const char *f = tjstr(o, "field"), *note = tjstr(o, "loser_note");
    const cJSON *loser = cJSON_GetObjectItemCaseSensitive(o, "loser");
    if (!strcmp(f, "comment")) {
      assert_true(cJSON_IsNull(loser));
      assert_non_null(note);
      assert_non_null(strstr(note, "not kept: field 'comment': must be 1 to 2000 characters"));
      saw_comment++;
    } else if (!strcmp(f, "occupation")) {
      assert_true(cJSON_IsNull(loser));
      assert_string_equal(note, "not kept: field 'occupation': must not contain control "
                                "characters (10 bytes)");
      saw_occ++;
    } else if (!strcmp(f, "service")) {
      assert_true(cJSON_IsNull(loser));
      assert_string_equal(note, "not kept: field 'service': must be 1 to 200 characters "
                                "(300 bytes)");
      saw_service++;
    } else if (!strcmp(f, "u1")) {
      assert_true(cJSON_IsNull(loser));
      saw_u1++;
    } else if (!strcmp(f, "u2")) {
      assert_string_equal(tjstr(o, "loser"), "1"); /* a valid losing value is kept */
      assert_null(tjstr(o, "loser_note"));
      saw_u2++;
    }
    assert_string_equal(tjstr(o, "winner_stamp") ? "ok" : "", "ok");
  }
  /* bounded per record: the newest rows, every kind of them */
  assert_int_equal(n, KJS_CONFLICTS_PER_RECORD);
  assert_true(saw_comment && saw_occ && saw_service && saw_u1 && saw_u2);
  /* the JSON text is valid UTF-8 without a raw control byte, and parses */
  char *text = cJSON_PrintUnformatted(arr);
  assert_non_null(text);
  assert_true(kj_utf8_len(text) >= 0);
  for (const char *p = text; *p; p++)
    assert_true((unsigned char)*p >= 0x20);
  cJSON *back = cJSON_Parse(text);
  assert_non_null(back);
  assert_int_equal(cJSON_GetArraySize(back), cJSON_GetArraySize(arr));
  cJSON_Delete(back);
  free(text);
  cJSON_Delete(arr);
}

/* A year-fast PC clock: its change is refused for now (rejected with
 * "retry": true and a reason naming the PC's clock), nothing of it is
 * stored, not even the result: the same seq stamped again is applied.  A
 * stamp an hour ahead (within clock_ahead_max) is stored as sent. */
static void test_clock_skew(void **state) {
  tapp *t = *state;
  tresp r;
  unsigned long long year = 365ULL * 86400 * 1000, now = kj_wall_ms();
  char *ch = survey_change(1, tuid(1), OFFICE_A, now + year, 4);
  char body[1400];
  snprintf(body, sizeof body, "{\"device_time\":%llu,\"changes\":[%s]}", now + year, ch);
  free(ch);
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, body);
  assert_int_equal(r.status, 200);
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "rejected");
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(tresult(&r, 0), "retry")));
  /* 364 or 365 days: the server's clock read a moment after ours */
  assert_non_null(strstr(tjstr(tresult(&r, 0), "error"), "the clock of this PC is 36"));
  assert_non_null(strstr(tjstr(tresult(&r, 0), "error"),
                         " days ahead of the server: set it right, then sync again"));
  tresp_release(&r);
  char *sj;
  kj_err e;
  assert_int_equal(kjs_store_get_state(t->store, KJ_T_SURVEY, tuid(1), &sj, &e), KJ_ENOENT);
  /* stamped again (an hour ahead: tolerated), the same seq goes through
   * with its stamp as sent */
  unsigned long long hour_ahead = kj_wall_ms() + 3600000ULL;
  ch = survey_change(1, tuid(1), OFFICE_A, hour_ahead, 4);
  snprintf(body, sizeof body, "{\"device_time\":%llu,\"changes\":[%s]}", now, ch);
  free(ch);
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, body);
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  assert_int_equal(kjs_store_get_state(t->store, KJ_T_SURVEY, tuid(1), &sj, &e), KJ_OK);
  cJSON *s = cJSON_Parse(sj);
  free(sj);
  kj_hlc h;
  /* a new record: its one stamp is the state's common one, "s" */
  const char *st = tjstr(cJSON_GetObjectItem(s, "t"), "u1");
  if (!st)
    st = cJSON_GetStringValue(cJSON_GetObjectItem(s, "s"));
  assert_non_null(st);
  char hs[32];
  snprintf(hs, sizeof hs, "%.*s", (int)(strchr(st, '/') - st), st);
  assert_int_equal(kj_hlc_parse(hs, &h), 0);
  assert_true(KJ_HLC_MS(h) == hour_ahead);
  cJSON_Delete(s);
  /* an edit made after reading it (stamped after it) wins */
  char c2[256];
  snprintf(c2, sizeof c2,
           "{\"seq\":1,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u1\":\"1\"}}",
           tuid(1), (unsigned long long)h + 1);
  push1(t, &r, t->dev_a2, strdup(c2));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  assert_int_equal(kjs_store_get_state(t->store, KJ_T_SURVEY, tuid(1), &sj, &e), KJ_OK);
  s = cJSON_Parse(sj);
  free(sj);
  assert_string_equal(tjstr(cJSON_GetObjectItem(s, "f"), "u1"), "1");
  cJSON_Delete(s);
}

/* A database error inside a push (here the score upkeep: a trigger makes
 * its table refuse every row) answers 503 and stores nothing of the batch,
 * no result either: once the database works again, the same batch is
 * applied, never answered `rejected` from a stored result. */
static void test_push_db_error_503(void **state) {
  tapp *t = *state;
  if (!kjs_store_has_scores())
    skip();
  sqlite3 *db = NULL;
  PGconn *pc = NULL;
  if (tapp_on_pg()) { /* the same trigger on PostgreSQL */
    pc = PQconnectdb(t->cfg.db_file);
    PQclear(kjt_pg_exec(pc, "CREATE FUNCTION kjt_fail() RETURNS trigger LANGUAGE plpgsql AS "
                            "$$BEGIN RAISE EXCEPTION 'injected failure'; END$$"));
    PQclear(kjt_pg_exec(pc, "CREATE TRIGGER kjt_fail BEFORE INSERT ON sc_survey FOR EACH ROW "
                            "EXECUTE FUNCTION kjt_fail()"));
  } else {
    assert_int_equal(sqlite3_open(t->cfg.db_file, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TRIGGER kjt_fail BEFORE INSERT ON sc_survey BEGIN "
                                  "SELECT RAISE(ABORT, 'injected failure'); END",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
  }
  char *c[2] = {survey_change(1, tuid(1), OFFICE_A, T0, 4),
                survey_change(2, tuid(2), OFFICE_A, T0, 3)};
  tresp r;
  char *body = push_body((const char *const *)c, 2);
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, body);
  free(body);
  assert_int_equal(r.status, 503);
  assert_non_null(strstr(tjstr(r.json, "error"), "injected failure"));
  assert_non_null(strstr(tjstr(r.json, "error"), "try again"));
  tresp_release(&r);
  char *sj;
  kj_err e;
  assert_int_equal(kjs_store_get_state(t->store, KJ_T_SURVEY, tuid(1), &sj, &e), KJ_ENOENT);
  assert_int_equal(kjs_store_get_state(t->store, KJ_T_SURVEY, tuid(2), &sj, &e), KJ_ENOENT);
  if (pc) {
    PQclear(kjt_pg_exec(pc, "DROP TRIGGER kjt_fail ON sc_survey"));
    PQfinish(pc);
  } else {
    assert_int_equal(sqlite3_exec(db, "DROP TRIGGER kjt_fail", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
  }
  tpush(t, &r, t->dev_a, (const char *const *)c, 2);
  assert_int_equal(r.status, 200);
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  assert_string_equal(tjstr(tresult(&r, 1), "status"), "applied");
  tresp_release(&r);
  for (int i = 0; i < 2; i++)
    free(c[i]);
  assert_int_equal(kjs_store_get_state(t->store, KJ_T_SURVEY, tuid(1), &sj, &e), KJ_OK);
  free(sj);
}

/* A database of schema 5 (before migration 6): the server's clock is
 * seeded from the stamps of every record, and a moved row of the older
 * release becomes a notice after every record, so its office gets it once;
 * kinerjad's own stamp comes after every stamp stored even when its wall
 * clock is a day behind, and is refused when that is beyond the bound. */
static void test_migration_8(void **state) {
  tapp *t = *state;
  if (tapp_on_pg())
    skip(); /* SQLite's schema 7 (PostgreSQL starts at the current schema) */
  tresp r;
  unsigned long long ahead = kj_wall_ms() + 3600000ULL;
  push1(t, &r, t->dev_a, survey_change(1, tuid(1), OFFICE_A, ahead, 4));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  kjs_store_close(t->store);
  t->store = NULL;
  sqlite3 *db;
  assert_int_equal(sqlite3_open(t->cfg.db_file, &db), SQLITE_OK);
  char sql[2048];
  snprintf(sql, sizeof sql,
           "DROP TABLE clock; DROP TABLE moved; DROP TABLE epochs; DROP TABLE applied;"
           "DROP TABLE users; DROP TABLE enrol_codes; ALTER TABLE tokens DROP COLUMN last_seen;"
           "CREATE TABLE applied(device TEXT NOT NULL, seq INTEGER NOT NULL, status TEXT NOT NULL,"
           " error TEXT, PRIMARY KEY(device, seq)) WITHOUT ROWID;"
           "CREATE TABLE moved(office TEXT NOT NULL, type TEXT NOT NULL, id TEXT NOT NULL,"
           " PRIMARY KEY(office, type, id)) WITHOUT ROWID;"
           "INSERT INTO moved VALUES('%s', 'survey', '%s'); PRAGMA user_version = 7;",
           OFFICE_B, tuid(1));
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_store_open(&t->store, t->cfg.db_file, &t->cfg, 0, &e), KJ_OK);
  kjs_app_init(&t->app, t->store, &t->cfg);
  kjs_txn *x;
  assert_int_equal(kjs_txn_begin(t->store, &x, &e), KJ_OK);
  kj_hlc h;
  assert_int_equal(kjs_txn_stamp(x, kj_wall_ms() - 86400000ULL, 2 * 86400000LL, &h, &e), KJ_OK);
  assert_true(h == KJ_HLC_MAKE(ahead, 0) + 1);
  assert_int_equal(kjs_txn_stamp(x, kj_wall_ms() - 3 * 86400000ULL, 86400000LL, &h, &e), KJ_EINVAL);
  assert_non_null(strstr(e.msg, "is the server's clock right?"));
  kjs_txn_rollback(x);
  /* the notice: after the record (seq 1), once */
  tcall(t, &r, "GET", "/v1/pull", "since=1", t->dev_b, NULL);
  const cJSON *mv = cJSON_GetObjectItem(r.json, "moved");
  assert_int_equal(cJSON_GetArraySize(mv), 1);
  assert_string_equal(tjstr(cJSON_GetArrayItem(mv, 0), "id"), tuid(1));
  assert_string_equal(tjstr(r.json, "next"), "2");
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "since=2", t->dev_b, NULL);
  assert_null(cJSON_GetObjectItem(r.json, "moved"));
  tresp_release(&r);
  /* a new change takes the position after the notice */
  push1(t, &r, t->dev_a, survey_change(2, tuid(2), OFFICE_A, kj_wall_ms(), 4));
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "since=2", t->admin, NULL);
  assert_string_equal(tjstr(r.json, "next"), "3");
  tresp_release(&r);
}

/* ---------------------------------------------------------------------- */
/* merge order independence */

#define NCH 60

static unsigned rnd(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return (*s >> 8) & 0xffffffu;
}

typedef struct gen_change {
  char *json;
  int dev; /* 0: dev_a, 1: dev_a2, 2: admin */
} gen_change;

static void gen_changes(gen_change *out) {
  unsigned s = 42;
  for (int i = 0; i < NCH; i++) {
    int rec = (int)(rnd(&s) % 6) + 1;
    int dev = (int)(rnd(&s) % 3);
    unsigned long long ms = T0 + (rnd(&s) % 40); /* many equal stamps: ties by device */
    char *j = malloc(512);
    int kind = (int)(rnd(&s) % 10);
    if (i < 6) { /* create each record first in the list (but shuffled later) */
      free(j);
      j = survey_change(i + 1, tuid(i + 1), OFFICE_A, T0 - 1000, 3);
      out[i].json = j;
      out[i].dev = 0;
      continue;
    }
    if (kind == 0)
      snprintf(j, 512,
               "{\"seq\":%d,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"del\":true}",
               i + 1, tuid(rec), (unsigned long long)KJ_HLC_MAKE(ms, 0));
    else
      snprintf(j, 512,
               "{\"seq\":%d,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u%d\":\"%"
               "u\",\"comment\":\"c%d\"}}",
               i + 1, tuid(rec), (unsigned long long)KJ_HLC_MAKE(ms, rnd(&s) % 3),
               (int)(rnd(&s) % 9) + 1, rnd(&s) % 4 + 1, i);
    out[i].json = j;
    out[i].dev = dev;
  }
}

static void apply_in_order(const gen_change *g, const int *order, char digest[65], int batch) {
  tapp *t = tapp_new();
  for (int i = 0; i < NCH; i += batch) {
    for (int d = 0; d < 3; d++) {
      const char *cs[NCH];
      int n = 0;
      for (int k = i; k < i + batch && k < NCH; k++)
        if (g[order[k]].dev == d)
          cs[n++] = g[order[k]].json;
      if (!n)
        continue;
      tresp r;
      tpush(t, &r, d == 0 ? t->dev_a : d == 1 ? t->dev_a2 : t->admin, cs, n);
      for (int k = 0; k < n; k++)
        assert_string_not_equal(tjstr(tresult(&r, k), "status"), "rejected");
      tresp_release(&r);
    }
  }
  tdigest(t, digest);
  tapp_free(t);
}

/* skip_own=1: a device does not pull back what it wrote entirely itself,
 * but does once another writer touched it, and when its stamps were
 * corrected for its clock (it must learn the corrected stamps). */
static int pulled_has(tapp *t, const char *token, const char *id) {
  tresp r;
  tcall(t, &r, "GET", "/v1/pull", "since=0&skip_own=1", token, NULL);
  assert_int_equal(r.status, 200);
  int found = 0;
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "changes")) found |=
      !strcmp(tjstr(it, "id"), id);
  tresp_release(&r);
  return found;
}

static void test_skip_own(void **state) {
  tapp *t = *state;
  tresp r;
  push1(t, &r, t->dev_a, survey_change(1, tuid(1), OFFICE_A, T0, 4));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  assert_false(pulled_has(t, t->dev_a, tuid(1)));
  /* without skip_own it comes back as before */
  tcall(t, &r, "GET", "/v1/pull", "since=0", t->dev_a, NULL);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes")), 1);
  tresp_release(&r);
  /* a central edit of one field: now the device needs the record */
  char edit[512];
  snprintf(edit, sizeof edit,
           "{\"seq\":1,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u2\":\"1\"}}",
           tuid(1), (unsigned long long)KJ_HLC_MAKE(T0 + 10, 0));
  push1(t, &r, t->admin, strdup(edit));
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  assert_true(pulled_has(t, t->dev_a, tuid(1)));
  /* a push from a PC an hour fast: stamps taken as sent, so the record is
   * the device's own and does not come back */
  char *sv = survey_change(2, tuid(2), OFFICE_A, T0 + 3600000, 3);
  char body[2048];
  snprintf(body, sizeof body, "{\"device_time\":%llu,\"changes\":[%s]}",
           (unsigned long long)kj_wall_ms() + 3600000ULL, sv);
  free(sv);
  tcall(t, &r, "POST", "/v1/push", NULL, t->dev_a, body);
  assert_string_equal(tjstr(tresult(&r, 0), "status"), "applied");
  tresp_release(&r);
  assert_false(pulled_has(t, t->dev_a, tuid(2)));
}

static void test_order_independence(void **state) {
  (void)state;
  gen_change g[NCH];
  gen_changes(g);
  int order[NCH];
  for (int i = 0; i < NCH; i++)
    order[i] = i;
  char ref[65];
  apply_in_order(g, order, ref, NCH);
  unsigned s = 7;
  for (int round = 0; round < 5; round++) {
    /* creates stay first (a device edits only what it has seen); the
     * edits and deletes of three devices come in any order */
    for (int i = NCH - 1; i > 6; i--) {
      int j = 6 + (int)(rnd(&s) % (unsigned)(i - 5));
      int x = order[i];
      order[i] = order[j];
      order[j] = x;
    }
    char d[65];
    apply_in_order(g, order, d, round % 2 ? 1 : 7);
    assert_string_equal(ref, d);
  }
  for (int i = 0; i < NCH; i++)
    free(g[i].json);
}

/* What the PC reports with its pull (docs/protocol.md "What the PC
 * reports"): kept per device, the last one wins; a malformed one is a 400
 * naming the parameter and keeps nothing; a pull without one (a PC of an
 * earlier release) and an admin token's report keep nothing. */
static void test_device_report(void **state) {
  tapp *t = *state;
  tresp r;
  kj_err e;
  kj_err_clear(&e);
  cJSON *rep = NULL;
  tcall(t, &r, "GET", "/v1/pull", "since=0", t->dev_a, NULL);
  assert_int_equal(r.status, 200);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "since=0&version=0.2.0&pending=7&rejected=2", t->admin, NULL);
  assert_int_equal(r.status, 200);
  tresp_release(&r);
  assert_int_equal(kjs_store_device_reports(t->store, &rep, &e), KJ_OK);
  assert_int_equal(cJSON_GetArraySize(rep), 0);
  cJSON_Delete(rep);
  tcall(t, &r, "GET", "/v1/pull", "since=0&version=0.2.0&pending=7&rejected=2", t->dev_a, NULL);
  assert_int_equal(r.status, 200);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "since=0&version=0.2.1&pending=0&rejected=1", t->dev_a, NULL);
  assert_int_equal(r.status, 200);
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "since=0&version=0.2.0&pending=x&rejected=1", t->dev_b, NULL);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body, "'pending'"));
  tresp_release(&r);
  tcall(t, &r, "GET", "/v1/pull", "since=0&pending=1&rejected=1", t->dev_b, NULL);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body, "'version'"));
  tresp_release(&r);
  assert_int_equal(kjs_store_device_reports(t->store, &rep, &e), KJ_OK);
  assert_int_equal(cJSON_GetArraySize(rep), 1);
  const cJSON *a = cJSON_GetObjectItem(rep, t->dev_a_id);
  assert_non_null(a);
  assert_string_equal(cJSON_GetObjectItem(a, "version")->valuestring, "0.2.1");
  assert_int_equal(cJSON_GetObjectItem(a, "pending")->valueint, 0);
  assert_int_equal(cJSON_GetObjectItem(a, "rejected")->valueint, 1);
  assert_true(cJSON_GetObjectItem(a, "at")->valuedouble > 0);
  cJSON_Delete(rep);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_statuses, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
      cmocka_unit_test_setup_teardown(test_push_pull, setup, teardown),
      cmocka_unit_test_setup_teardown(test_skip_own, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
      cmocka_unit_test_setup_teardown(test_office_scope, setup, teardown),
      cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
      cmocka_unit_test_setup_teardown(test_authors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_conflicts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fresh_existing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_conflicts_hostile, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clock_skew, setup, teardown),
      cmocka_unit_test_setup_teardown(test_push_db_error_503, setup, teardown),
      cmocka_unit_test_setup_teardown(test_migration_8, setup, teardown),
      cmocka_unit_test_setup_teardown(test_device_report, setup, teardown),
      cmocka_unit_test(test_order_independence),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
