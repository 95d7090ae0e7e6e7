/* test_dash_comments.c - the Kantor page's citizens' comments
 * (kjs_store_comments, server/db.h survey_comments) on the store the tests
 * run on: SQLite, and PostgreSQL as test_dash_comments_pg.  Surveys are
 * pushed by a device as a PC would: the office's own, in the period, with
 * a comment that is not empty and not deleted, newest first, at most max. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hlc.h"
#include "test_app_util.h"

#define T0 1790000000000ULL /* 2026-09 */

typedef struct seen {
  int n;
  char text[16][160];
} seen;

static kj_code note(void *ctx, const char *date, const char *service, const char *comment) {
  seen *x = ctx;
  if (x->n < 16)
    snprintf(x->text[x->n++], sizeof x->text[0], "%s|%s|%s", date, service, comment);
  return KJ_OK;
}

/* A survey of office on date with comment (NULL: none). */
static char *survey(int seq, int k, const char *office, const char *date, const char *comment) {
  char *s = malloc(1024);
  assert_non_null(s);
  char cm[256] = "";
  if (comment)
    snprintf(cm, sizeof cm, ",\"comment\":\"%s\"", comment);
  snprintf(s, 1024,
           "{\"seq\":%d,\"id\":\"0190c2a4-7d1e-7b3a-9c41-0000000000%02d\",\"type\":\"survey\","
           "\"hlc\":\"%llu\",\"f\":{\"office\":\"%s\",\"date\":\"%s\",\"service\":\"KK\","
           "\"u1\":\"3\",\"u2\":\"3\",\"u3\":\"3\",\"u4\":\"3\",\"u5\":\"3\",\"u6\":\"3\","
           "\"u7\":\"3\",\"u8\":\"3\",\"u9\":\"3\"%s}}",
           seq, k, (unsigned long long)KJ_HLC_MAKE(T0 + (unsigned long long)seq, 0), office, date,
           cm);
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

static void test_comments(void **state) {
  (void)state;
  tapp *t = tapp_new();
  char *a[] = {
      survey(1, 1, OFFICE_A, "2026-09-02", "antre lama"),
      survey(2, 2, OFFICE_A, "2026-09-30", "ramah"),
      survey(3, 3, OFFICE_A, "2026-10-05", NULL),
      survey(4, 4, OFFICE_A, "2026-10-31", "cepat"),
      survey(5, 5, OFFICE_A, "2026-11-01", "dihapus nanti"),
      survey(6, 6, OFFICE_A, "2026-09-30", "sama hari, lebih baru"),
  };
  push(t, t->dev_a, a, 6);
  char *b[] = {survey(1, 7, OFFICE_B, "2026-09-15", "kantor lain")};
  push(t, t->dev_b, b, 1);
  char del[256];
  snprintf(del, sizeof del,
           "{\"seq\":7,\"id\":\"0190c2a4-7d1e-7b3a-9c41-000000000005\",\"type\":\"survey\","
           "\"hlc\":\"%llu\",\"del\":true}",
           (unsigned long long)KJ_HLC_MAKE(T0 + 100, 0));
  char *d[] = {strdup(del)};
  push(t, t->dev_a, d, 1);

  kj_err er;
  kj_err_clear(&er);
  seen x = {0};
  assert_int_equal(kjs_store_comments(t->store, OFFICE_A, "2026-Q3", 50, note, &x, &er), KJ_OK);
  assert_int_equal(x.n, 3); /* September only; a day's newest stored first */
  assert_string_equal(x.text[0], "2026-09-30|KK|sama hari, lebih baru");
  assert_string_equal(x.text[1], "2026-09-30|KK|ramah");
  assert_string_equal(x.text[2], "2026-09-02|KK|antre lama");
  memset(&x, 0, sizeof x);
  assert_int_equal(kjs_store_comments(t->store, OFFICE_A, "2026", 2, note, &x, &er), KJ_OK);
  assert_int_equal(x.n, 2); /* the deleted one and the one without a comment left out */
  assert_string_equal(x.text[0], "2026-10-31|KK|cepat");
  assert_string_equal(x.text[1], "2026-09-30|KK|sama hari, lebih baru");
  memset(&x, 0, sizeof x);
  assert_int_equal(kjs_store_comments(t->store, OFFICE_B, "2026-09", 50, note, &x, &er), KJ_OK);
  assert_int_equal(x.n, 1);
  assert_string_equal(x.text[0], "2026-09-15|KK|kantor lain");
  memset(&x, 0, sizeof x);
  assert_int_equal(kjs_store_comments(t->store, OFFICE_B, "2026-10", 50, note, &x, &er), KJ_OK);
  assert_int_equal(x.n, 0);
  assert_int_equal(kjs_store_comments(t->store, OFFICE_A, "2026-13", 50, note, &x, &er), KJ_EINVAL);
  tapp_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_comments)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
