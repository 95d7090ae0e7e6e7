/* test_dash_publik.c - what a fresh-user trial found on kinerjad's web
 * (server/dash.c), called through kjs_dash_handle with the dashboard's test
 * clock (kjs_dash_set_clock), never the real one:
 *   - /publik's services: the office's listed services (`kinerjad import
 *     service`) by name, every other stored name (a mistyped `Akta
 *     Kelahran`, a `Paspor` never listed) in one row "other" whose IKM is
 *     computed from the summed answers exactly as a service row's; an
 *     office without a listed service keeps its stored names; the office's
 *     IKM still counts every survey;
 *   - the day of a report: the offices' day, not the server's (Ringkasan
 *     and /publik at 16:30 UTC: 00:30 WITA on 1 December), and with
 *     offices in several zones the westernmost's day named (`as_of_zone`);
 *   - GET /favicon.ico: an icon (image/x-icon), also on a --public-only
 *     server, and both pages declare it.
 * Runs on SQLite, and on PostgreSQL as test_dash_publik_pg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dash.h"
#include "date.h"
#include "passhash.h"
#include "record.h"
#include "test_app_util.h"

static uint64_t clock_ms;
static uint64_t test_now(void *ctx) {
  (void)ctx;
  return clock_ms;
}

typedef struct tdash {
  kjs_dash *d;
  char cookie[256];
} tdash;

typedef struct answer {
  int status;
  char *body;
  size_t len;
  const char *type;
} answer;

static void call(tdash *td, const char *method, const char *path, const char *query,
                 const char *body, answer *a, char *set_cookie, size_t sc_size) {
  char hdr[300];
  size_t hlen = 0;
  if (td->cookie[0])
    hlen = (size_t)snprintf(hdr, sizeof hdr, "Cookie%c%s", 0, td->cookie) + 1;
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
  a->status = resp.status;
  a->type = resp.content_type;
  a->len = resp.body.len;
  a->body = kj_buf_detach(&resp.body, NULL);
  if (!a->body)
    a->body = strdup("");
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

static void dash_open(tapp *t, tdash *td, int public_only) {
  memset(td, 0, sizeof *td);
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_dash_new(&td->d, &t->app, public_only, &e), KJ_OK);
  kjs_dash_set_clock(td->d, test_now, NULL);
  if (public_only)
    return;
  char hash[KJ_PASSHASH_MAX];
  assert_int_equal(kj_pass_hash("rahasia-uji-123", hash, sizeof hash, &e), KJ_OK);
  (void)kjs_store_user_add(t->store, "bkd", "viewer", hash, &e); /* once per store */
  answer a;
  call(td, "POST", "/api/masuk", NULL, "user=bkd&password=rahasia-uji-123", &a, td->cookie,
       sizeof td->cookie);
  assert_int_equal(a.status, 200);
  free(a.body);
}

/* GET path?query: 200 and its JSON. */
static cJSON *get_json(tdash *td, const char *path, const char *query) {
  answer a;
  call(td, "GET", path, query, NULL, &a, NULL, 0);
  if (a.status != 200)
    fail_msg("%s?%s: %d %s", path, query, a.status, a.body);
  cJSON *j = cJSON_Parse(a.body);
  free(a.body);
  assert_non_null(j);
  return j;
}

static const cJSON *office_of(const cJSON *doc, const char *code) {
  const cJSON *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "offices")) {
    if (!strcmp(tjstr(o, "office"), code))
      return o;
  }
  fail_msg("no office %s", code);
  return NULL;
}

static void push_one(tapp *t, const char *token, char *change) {
  tresp r;
  const char *c[] = {change};
  tpush(t, &r, token, c, 1);
  if (strcmp(tjstr(tresult(&r, 0), "status"), "applied") != 0)
    fail_msg("not applied: %s: %s", change, r.body);
  tresp_release(&r);
  free(change);
}

static void office(tapp *t, const char *code, const char *name, const char *tz) {
  char f[200];
  snprintf(f, sizeof f, "{\"name\":\"%s\"%s%s%s}", name, tz ? ",\"timezone\":\"" : "", tz ? tz : "",
           tz ? "\"" : "");
  push_one(t, t->admin, tchange("office", code, "", f));
}

static void service(tapp *t, const char *code, const char *name) {
  char id[KJ_ID_MAX + 1], f[200];
  assert_int_equal(kj_service_id(code, name, id), KJ_OK);
  snprintf(f, sizeof f, "{\"office\":\"%s\",\"name\":\"%s\"}", code, name);
  push_one(t, t->admin, tchange("service", id, "", f));
}

static int g_survey = 1000;
/* A survey of office (token's) on date: u1 = a, u2..u9 = 3. */
static void survey(tapp *t, const char *token, const char *code, const char *svc, int a) {
  char f[400];
  snprintf(f, sizeof f,
           "{\"office\":\"%s\",\"date\":\"2026-11-10\",\"service\":\"%s\",\"u1\":\"%d\","
           "\"u2\":\"3\",\"u3\":\"3\",\"u4\":\"3\",\"u5\":\"3\",\"u6\":\"3\",\"u7\":\"3\","
           "\"u8\":\"3\",\"u9\":\"3\"}",
           code, svc, a);
  push_one(t, token, tchange("survey", tuid(g_survey++), "", f));
}

/* 25 * su / (9 n) rounded half away from zero to hundredths, as a number */
static double ikm_of(long long su, long long n) {
  long long num = 2500 * su, den = 9 * n, half = den / 2;
  long long h = (num + half) / den; /* num, den > 0 */
  return (double)h / 100.0;
}

static void test_publik_services(void **state) {
  (void)state;
  tapp *t = tapp_new();
  clock_ms = (uint64_t)kj_day_from_civil(2026, 11, 30) * 86400000ULL + 43200000ULL;
  office(t, OFFICE_A, "Kecamatan Kasemen", NULL);
  office(t, OFFICE_B, "Kecamatan Cipocok", NULL);
  service(t, OFFICE_A, "Akta Kelahiran");
  service(t, OFFICE_A, "KTP-el");
  survey(t, t->dev_a, OFFICE_A, "Akta Kelahiran", 4);
  survey(t, t->dev_a, OFFICE_A, "Akta Kelahiran", 2);
  survey(t, t->dev_a, OFFICE_A, "KTP-el", 4);
  /* stored as typed (a device's push is not matched): not listed */
  survey(t, t->dev_a, OFFICE_A, "Akta Kelahran", 4);
  survey(t, t->dev_a, OFFICE_A, "Akta Kelahran", 4);
  survey(t, t->dev_a, OFFICE_A, "Paspor", 1);
  /* a listed name in another letter case and spacing: the listed one */
  survey(t, t->dev_a, OFFICE_A, "ktp  EL", 2);
  /* office B lists nothing: its names as stored */
  survey(t, t->dev_b, OFFICE_B, "Surat Pindah", 4);
  survey(t, t->dev_b, OFFICE_B, "Akta Kelahran", 3);

  tdash td;
  dash_open(t, &td, 1);
  cJSON *j = get_json(&td, "/api/publik", "period=2026-11");
  const cJSON *a = office_of(j, OFFICE_A), *svs = cJSON_GetObjectItem(a, "services");
  assert_int_equal(cJSON_GetArraySize(svs), 3);
  const cJSON *s0 = cJSON_GetArrayItem(svs, 0), *s1 = cJSON_GetArrayItem(svs, 1),
              *s2 = cJSON_GetArrayItem(svs, 2);
  assert_string_equal(tjstr(s0, "service"), "Akta Kelahiran");
  assert_int_equal(cJSON_GetObjectItem(s0, "n")->valueint, 2);
  assert_float_equal(cJSON_GetObjectItem(s0, "ikm")->valuedouble, ikm_of(28 + 26, 2), 1e-9);
  assert_string_equal(tjstr(s1, "service"), "KTP-el");
  assert_int_equal(cJSON_GetObjectItem(s1, "n")->valueint, 2);
  assert_float_equal(cJSON_GetObjectItem(s1, "ikm")->valuedouble, ikm_of(28 + 26, 2), 1e-9);
  /* Akta Kelahran twice and Paspor: one row, no name, IKM of the summed
   * answers: 25 * 81 / 27 = 75.00 (not the mean of 77.78 and 69.44) */
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(s2, "other")));
  assert_null(tjstr(s2, "service"));
  assert_int_equal(cJSON_GetObjectItem(s2, "n")->valueint, 3);
  assert_float_equal(cJSON_GetObjectItem(s2, "ikm")->valuedouble, 75.0, 1e-9);
  assert_float_equal(cJSON_GetObjectItem(s2, "ikm")->valuedouble, ikm_of(28 + 28 + 25, 3), 1e-9);
  assert_string_equal(tjstr(s2, "mutu"), "C");
  /* the office's IKM counts every survey, as before */
  const cJSON *ikm = cJSON_GetObjectItem(a, "ikm");
  assert_int_equal(cJSON_GetObjectItem(ikm, "n")->valueint, 7);
  assert_float_equal(cJSON_GetObjectItem(ikm, "value")->valuedouble,
                     ikm_of(28 + 26 + 28 + 28 + 28 + 25 + 26, 7), 1e-9);
  /* no listed service: the stored names */
  svs = cJSON_GetObjectItem(office_of(j, OFFICE_B), "services");
  assert_int_equal(cJSON_GetArraySize(svs), 2);
  assert_string_equal(tjstr(cJSON_GetArrayItem(svs, 0), "service"), "Akta Kelahran");
  assert_string_equal(tjstr(cJSON_GetArrayItem(svs, 1), "service"), "Surat Pindah");
  assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(svs, 1), "other"));
  cJSON_Delete(j);
  kjs_dash_free(td.d);
  tapp_free(t);
}

static void test_report_day(void **state) {
  (void)state;
  setenv("TZ", "UTC", 1); /* a server in UTC, whatever this machine's zone */
  tzset();
  tapp *t = tapp_new();
  office(t, OFFICE_A, "Kecamatan Mariso", "Asia/Makassar");
  office(t, OFFICE_B, "Kecamatan Mamajang", "Asia/Makassar");
  survey(t, t->dev_a, OFFICE_A, "KTP-el", 4);
  /* 16:30 UTC on 30 November: 00:30 WITA, 23:30 WIB */
  clock_ms = (uint64_t)kj_day_from_civil(2026, 11, 30) * 86400000ULL + 59400000ULL;
  tdash td, pub;
  dash_open(t, &td, 0);
  dash_open(t, &pub, 1);
  cJSON *j = get_json(&td, "/api/ringkasan", "period=2026-11");
  assert_string_equal(tjstr(j, "as_of"), "2026-12-01");
  assert_null(cJSON_GetObjectItem(j, "as_of_zone"));
  /* Kasemen's empty month: unranked (the report's rule), no data */
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(office_of(j, OFFICE_B), "rank")));
  cJSON_Delete(j);
  j = get_json(&pub, "/api/publik", "period=2026-11");
  assert_string_equal(tjstr(j, "as_of"), "2026-12-01");
  assert_null(cJSON_GetObjectItem(j, "as_of_zone"));
  cJSON_Delete(j);
  /* an office in WIB too: WIB's day, still 30 November, named */
  office(t, "36.73.03", "Kecamatan Taktakan", "Asia/Jakarta");
  j = get_json(&pub, "/api/publik", "period=2026-11");
  assert_string_equal(tjstr(j, "as_of"), "2026-11-30");
  assert_string_equal(tjstr(j, "as_of_zone"), "WIB");
  cJSON_Delete(j);
  j = get_json(&td, "/api/ringkasan", "period=2026-11");
  assert_string_equal(tjstr(j, "as_of"), "2026-11-30");
  assert_string_equal(tjstr(j, "as_of_zone"), "WIB");
  cJSON_Delete(j);
  kjs_dash_free(td.d);
  kjs_dash_free(pub.d);
  tapp_free(t);
  unsetenv("TZ");
  tzset();
}

static void test_favicon(void **state) {
  (void)state;
  tapp *t = tapp_new();
  for (int pub = 0; pub < 2; pub++) {
    tdash td;
    dash_open(t, &td, pub);
    answer a;
    call(&td, "GET", "/favicon.ico", NULL, NULL, &a, NULL, 0);
    assert_int_equal(a.status, 200);
    assert_non_null(a.type);
    assert_string_equal(a.type, "image/x-icon");
    assert_true(a.len > 22);
    assert_memory_equal(a.body, "\0\0\1\0", 4); /* an ICO file */
    free(a.body);
    static const char *const pages[] = {"/", "/publik"};
    for (int p = pub; p < 2; p++) { /* a public-only server answers / with a redirect */
      call(&td, "GET", pages[p], NULL, NULL, &a, NULL, 0);
      assert_int_equal(a.status, 200);
      assert_non_null(strstr(a.body, "<link rel=\"icon\" href=\"/favicon.ico\""));
      free(a.body);
    }
    /* it skips the bearer token like the pages */
    t->app.dash = td.d;
    assert_true(kjs_dash_is_public(&t->app, "GET", "/favicon.ico"));
    t->app.dash = NULL;
    kjs_dash_free(td.d);
  }
  tapp_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_publik_services),
      cmocka_unit_test(test_report_day),
      cmocka_unit_test(test_favicon),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
