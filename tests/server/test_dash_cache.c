/* test_dash_cache.c - the report documents the BKD dashboard keeps between
 * requests (server/dash.c, issue 18 point 4): GET /api/tren and
 * /api/ringkasan answered from what was kept equal the answers of a
 * dashboard that keeps nothing, after a push, a delete, a new epoch (a
 * restore) and a change of day; and a request that changes nothing builds
 * no report again (kjs_dash_builds).  Runs on SQLite, and on PostgreSQL as
 * test_dash_cache_pg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dash.h"
#include "date.h"
#include "hlc.h"
#include "passhash.h"
#include "test_app_util.h"

#define T0 1790000000000ULL /* 2026-09 */
#define DAY_MS 86400000ULL

static uint64_t clock_ms;
static uint64_t test_now(void *ctx) {
  (void)ctx;
  return clock_ms;
}

/* ms at noon UTC of y-m-d: the same date in every zone from -11 to +11 */
static uint64_t noon(int y, int m, int d) {
  return (uint64_t)kj_day_from_civil(y, m, d) * DAY_MS + DAY_MS / 2;
}

static char *survey(int seq, int k, const char *office, const char *date, int u1) {
  char *s = malloc(1024);
  assert_non_null(s);
  snprintf(s, 1024,
           "{\"seq\":%d,\"id\":\"0190c2a4-7d1e-7b3a-9c41-0000000001%02d\",\"type\":\"survey\","
           "\"hlc\":\"%llu\",\"f\":{\"office\":\"%s\",\"date\":\"%s\",\"service\":\"KK\","
           "\"u1\":\"%d\",\"u2\":\"3\",\"u3\":\"3\",\"u4\":\"3\",\"u5\":\"3\",\"u6\":\"3\","
           "\"u7\":\"3\",\"u8\":\"3\",\"u9\":\"3\"}}",
           seq, k, (unsigned long long)KJ_HLC_MAKE(T0 + (unsigned long long)seq, 0), office, date,
           u1);
  return s;
}

static void push(tapp *t, const char *token, char **changes, int n) {
  char *body = push_body((const char *const *)changes, n);
  tresp r;
  tcall(t, &r, "POST", "/v1/push", NULL, token, body);
  free(body);
  assert_int_equal(r.status, 200);
  const cJSON *x;
  cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(r.json, "results")) {
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(x, "status")->valuestring, "applied");
  }
  tresp_release(&r);
  for (int i = 0; i < n; i++)
    free(changes[i]);
}

/* A dashboard on t's app with the test clock and a signed-in session
 * (cookie: "kj_bkd=..."). */
typedef struct tdash {
  kjs_dash *d;
  char cookie[256];
} tdash;

static void call(tdash *td, const char *method, const char *path, const char *query,
                 const char *body, int *status, char **text, char *set_cookie, size_t sc_size) {
  char hdr[300];
  size_t hlen = 0;
  if (td->cookie[0]) {
    hlen = (size_t)snprintf(hdr, sizeof hdr, "Cookie%c%s", 0, td->cookie) + 1;
  }
  kjh_request req = {.method = method,
                     .path = path,
                     .query = query ? query : "",
                     .body = body ? body : "",
                     .body_len = body ? strlen(body) : 0,
                     .remote = "127.0.0.1:1",
                     .headers = hlen ? hdr : NULL,
                     .headers_len = hlen};
  kjh_response resp;
  memset(&resp, 0, sizeof resp);
  resp.status = 200;
  kj_buf_init(&resp.body, 64u << 20);
  kj_buf_init(&resp.headers, 8192);
  assert_int_equal(kjs_dash_handle(td->d, &req, &resp), 1);
  *status = resp.status;
  *text = kj_buf_detach(&resp.body, NULL);
  if (!*text)
    *text = strdup("");
  if (set_cookie) {
    char *h = kj_buf_detach(&resp.headers, NULL);
    assert_non_null(h);
    const char *p = strstr(h, "Set-Cookie: ");
    assert_non_null(p);
    p += 12;
    size_t k = strcspn(p, ";\r");
    assert_true(k < sc_size);
    memcpy(set_cookie, p, k);
    set_cookie[k] = 0;
    free(h);
  }
  kj_buf_release(&resp.body);
  kj_buf_release(&resp.headers);
}

static void dash_open(tapp *t, tdash *td) {
  memset(td, 0, sizeof *td);
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_dash_new(&td->d, &t->app, 0, &e), KJ_OK);
  kjs_dash_set_clock(td->d, test_now, NULL);
  int st;
  char *text;
  call(td, "POST", "/api/masuk", NULL, "user=bkd&password=rahasia-uji-123", &st, &text, td->cookie,
       sizeof td->cookie);
  assert_int_equal(st, 200);
  free(text);
}

/* GET path?query: 200 and its body (the caller frees). */
static char *get(tdash *td, const char *path, const char *query) {
  int st;
  char *text;
  call(td, "GET", path, query, NULL, &st, &text, NULL, 0);
  if (st != 200)
    fail_msg("%s?%s: %d %s", path, query, st, text);
  return text;
}

/* The answers of the caching dashboard cd equal those of a fresh one. */
static void same_as_fresh(tapp *t, tdash *cd) {
  static const char *const q[][2] = {{"/api/tren", "year=2026"},
                                     {"/api/ringkasan", "period=2026-09"},
                                     {"/api/ringkasan", "period=2026"}};
  tdash fresh;
  dash_open(t, &fresh);
  for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
    char *a = get(cd, q[i][0], q[i][1]), *b = get(&fresh, q[i][0], q[i][1]);
    assert_string_equal(a, b);
    free(a);
    free(b);
  }
  kjs_dash_free(fresh.d);
}

/* The IKM value of office in month m (1..12) of a Tren answer, -1 null. */
static double tren_ikm(const char *text, const char *office, int m) {
  cJSON *j = cJSON_Parse(text);
  assert_non_null(j);
  double v = -2;
  const cJSON *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItem(j, "offices")) {
    if (strcmp(cJSON_GetObjectItem(o, "office")->valuestring, office) != 0)
      continue;
    const cJSON *mo = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "months"), m - 1);
    const cJSON *ikm = cJSON_GetObjectItem(mo, "ikm");
    v = cJSON_IsNumber(ikm) ? ikm->valuedouble : -1;
  }
  cJSON_Delete(j);
  return v;
}

static int tren_months(const char *text) {
  cJSON *j = cJSON_Parse(text);
  assert_non_null(j);
  const cJSON *o = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "offices"), 0);
  int n = cJSON_GetArraySize(cJSON_GetObjectItem(o, "months"));
  cJSON_Delete(j);
  return n;
}

static void test_cache(void **state) {
  (void)state;
  tapp *t = tapp_new();
  kj_err e;
  kj_err_clear(&e);
  char hash[KJ_PASSHASH_MAX];
  assert_int_equal(kj_pass_hash("rahasia-uji-123", hash, sizeof hash, &e), KJ_OK);
  assert_int_equal(kjs_store_user_add(t->store, "bkd", "viewer", hash, &e), KJ_OK);
  clock_ms = noon(2026, 9, 20);

  char office[256];
  snprintf(office, sizeof office,
           "{\"seq\":1,\"id\":\"" OFFICE_A "\",\"type\":\"office\",\"hlc\":\"%llu\","
           "\"f\":{\"name\":\"Kasemen\",\"region\":\"Serang\"}}",
           (unsigned long long)KJ_HLC_MAKE(T0, 0));
  char *o[] = {strdup(office)};
  push(t, t->admin, o, 1);
  char *a[] = {survey(1, 1, OFFICE_A, "2026-08-10", 4), survey(2, 2, OFFICE_A, "2026-09-02", 4)};
  push(t, t->dev_a, a, 2);

  tdash cd;
  dash_open(t, &cd);
  char *first = get(&cd, "/api/tren", "year=2026");
  long built = kjs_dash_builds(cd.d);
  assert_int_equal(built, 9); /* January to September */
  assert_int_equal(tren_months(first), 9);
  /* the same again: nothing built, the same answer */
  char *again = get(&cd, "/api/tren", "year=2026");
  assert_int_equal(kjs_dash_builds(cd.d), built);
  assert_string_equal(first, again);
  free(again);
  /* Ringkasan of September: the Tren's September report, kept */
  free(get(&cd, "/api/ringkasan", "period=2026-09"));
  assert_int_equal(kjs_dash_builds(cd.d), built);
  same_as_fresh(t, &cd);
  double ikm9 = tren_ikm(first, OFFICE_A, 9);
  assert_true(ikm9 > 0);
  free(first);

  /* a push: built again, and the new survey counts */
  char *b[] = {survey(3, 3, OFFICE_A, "2026-09-03", 1)};
  push(t, t->dev_a, b, 1);
  built = kjs_dash_builds(cd.d);
  char *after = get(&cd, "/api/tren", "year=2026");
  assert_true(kjs_dash_builds(cd.d) > built);
  assert_true(tren_ikm(after, OFFICE_A, 9) < ikm9);
  free(after);
  same_as_fresh(t, &cd);

  /* a delete: the survey no longer counts */
  char del[256];
  snprintf(del, sizeof del,
           "{\"seq\":4,\"id\":\"0190c2a4-7d1e-7b3a-9c41-000000000103\",\"type\":\"survey\","
           "\"hlc\":\"%llu\",\"del\":true}",
           (unsigned long long)KJ_HLC_MAKE(T0 + 100, 0));
  char *d[] = {strdup(del)};
  push(t, t->dev_a, d, 1);
  after = get(&cd, "/api/tren", "year=2026");
  assert_true(tren_ikm(after, OFFICE_A, 9) == ikm9);
  free(after);
  same_as_fresh(t, &cd);

  /* a new epoch (a restore found by a device that read past the end):
   * the same position, nothing kept is used */
  char ep[KJ_INCARNATION_MAX + 1];
  kjs_store_epoch(t->store, ep);
  int64_t safe = 0;
  assert_int_equal(kjs_store_pull_since(t->store, ep, 1000000, &safe, &e), KJ_OK);
  char ep2[KJ_INCARNATION_MAX + 1];
  kjs_store_epoch(t->store, ep2);
  assert_string_not_equal(ep, ep2);
  built = kjs_dash_builds(cd.d);
  free(get(&cd, "/api/tren", "year=2026"));
  assert_int_equal(kjs_dash_builds(cd.d), built + 9);
  same_as_fresh(t, &cd);

  /* a new day: October begun, a month more */
  clock_ms = noon(2026, 10, 1);
  built = kjs_dash_builds(cd.d);
  after = get(&cd, "/api/tren", "year=2026");
  assert_int_equal(kjs_dash_builds(cd.d), built + 10);
  assert_int_equal(tren_months(after), 10);
  free(after);
  same_as_fresh(t, &cd);

  kjs_dash_free(cd.d);
  tapp_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_cache)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
