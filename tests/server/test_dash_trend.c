/* test_dash_trend.c - the Tren page's declines (server/dash_trend.c,
 * domain.md "Trends"): thresholds exactly at, just under and over the
 * limit, null on either side, the first month, capaian never judged, and
 * the limits as kinerjad.conf writes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

#include "dash_trend.h"
#include "reportdoc.h"

#define N KJ_RNULL

static kjs_trend_month mon(long long ikk, long long ikm, long long ot, long long comp,
                           long long cap) {
  kjs_trend_month m = {{ikk, ikm, ot, comp, cap}};
  return m;
}

static void test_thresholds(void **state) {
  (void)state;
  kjs_trend_limits l;
  kjs_trend_limits_defaults(&l);
  kjs_trend_month m[4] = {mon(8000, 8000, 9000, 9000, 10000), mon(7500, 7501, 7000, 7001, 5000),
                          mon(6899, 7501, 4999, 7001, 5000), mon(7000, 8000, 9000, 9000, 9000)};
  /* IKK -5.00 exactly: a decline; IKM -4.99: not; on_time -20.00: yes;
   * compliance -19.99: no; capaian -50.00: never judged */
  assert_int_equal(kjs_trend_flags(m, 4, 1, &l), (1u << KJS_TM_IKK) | (1u << KJS_TM_ON_TIME));
  /* IKK -6.01: yes; on_time -20.01: yes */
  assert_int_equal(kjs_trend_flags(m, 4, 2, &l), (1u << KJS_TM_IKK) | (1u << KJS_TM_ON_TIME));
  /* rises are not declines */
  assert_int_equal(kjs_trend_flags(m, 4, 3, &l), 0);
  /* the first month has nothing to compare with */
  assert_int_equal(kjs_trend_flags(m, 4, 0, &l), 0);
  long long d = 0;
  assert_int_equal(kjs_trend_delta(m, 4, 2, KJS_TM_IKK, &d), 1);
  assert_int_equal(d, -601);
  assert_int_equal(kjs_trend_delta(m, 4, 0, KJS_TM_IKK, &d), 0);
  assert_int_equal(kjs_trend_delta(m, 4, 4, KJS_TM_IKK, &d), 0);
}

static void test_nulls(void **state) {
  (void)state;
  kjs_trend_limits l;
  kjs_trend_limits_defaults(&l);
  /* a fall to no data, from no data, and null on both sides */
  kjs_trend_month m[4] = {mon(9000, N, 9000, N, N), mon(N, 9000, N, N, N), mon(1000, N, 1000, N, N),
                          mon(N, N, N, N, N)};
  for (size_t i = 0; i < 4; i++)
    assert_int_equal(kjs_trend_flags(m, 4, i, &l), 0);
  long long d = 12345;
  assert_int_equal(kjs_trend_delta(m, 4, 1, KJS_TM_IKK, &d), 0);
  assert_int_equal(kjs_trend_delta(m, 4, 2, KJS_TM_IKK, &d), 0);
  assert_int_equal(d, 12345);
  /* 0 is a figure, not no data: 10.00 -> 0.00 is a decline */
  kjs_trend_month z[2] = {mon(1000, N, N, N, N), mon(0, N, N, N, N)};
  assert_int_equal(kjs_trend_flags(z, 2, 1, &l), 1u << KJS_TM_IKK);
}

static void test_limits(void **state) {
  (void)state;
  kjs_trend_limits l;
  kjs_trend_limits_defaults(&l);
  l.drop[KJS_TM_IKK] = 1000; /* configured 10.00 */
  kjs_trend_month m[2] = {mon(8000, N, N, N, N), mon(7001, N, N, N, N)};
  assert_int_equal(kjs_trend_flags(m, 2, 1, &l), 0);
  m[1].v[KJS_TM_IKK] = 7000;
  assert_int_equal(kjs_trend_flags(m, 2, 1, &l), 1u << KJS_TM_IKK);
  long long v = 0;
  assert_int_equal(kjs_trend_parse_limit("5", &v), 0);
  assert_int_equal(v, 500);
  assert_int_equal(kjs_trend_parse_limit("20.5", &v), 0);
  assert_int_equal(v, 2050);
  assert_int_equal(kjs_trend_parse_limit("0.25", &v), 0);
  assert_int_equal(v, 25);
  assert_int_equal(kjs_trend_parse_limit("100", &v), 0);
  assert_int_equal(v, 10000);
  const char *bad[] = {"", ".5", "5.", "5.001", "-1", "101", "1e2", "5,0", "abc", "10000"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(kjs_trend_parse_limit(bad[i], &v), -1);
}

/* kinerjad.conf's trend.*, dash.stale_days and publik.exclude */
static void load(const char *text, kjs_config *c, kj_code *rc, kj_err *e) {
  char dir[] = "test_dash_trend-XXXXXX";
  assert_non_null(mkdtemp(dir));
  kj_err_clear(e);
  assert_int_equal(kjs_config_init(c, dir, e), KJ_OK);
  FILE *f = fopen(c->conf_file, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  *rc = kjs_config_load(c, e);
  unlink(c->conf_file);
  rmdir(dir);
}

static void test_config(void **state) {
  (void)state;
  kjs_config c;
  kj_code rc;
  kj_err e;
  load("listen = 127.0.0.1:0\n", &c, &rc, &e);
  assert_int_equal(rc, KJ_OK);
  assert_int_equal(c.trend_drop[0], 500);
  assert_int_equal(c.trend_drop[3], 2000);
  assert_int_equal(c.stale_days, 7);
  assert_string_equal(c.publik_exclude, "");
  kjs_config_release(&c);
  load("trend.ikk_drop = 6.5\ntrend.compliance_drop = 30\ndash.stale_days = 3\n"
       "publik.exclude = 36.73.09, 36.73.10\n",
       &c, &rc, &e);
  assert_int_equal(rc, KJ_OK);
  assert_int_equal(c.trend_drop[0], 650);
  assert_int_equal(c.trend_drop[1], 500);
  assert_int_equal(c.trend_drop[3], 3000);
  assert_int_equal(c.stale_days, 3);
  assert_string_equal(c.publik_exclude, "36.73.09, 36.73.10");
  kjs_config_release(&c);
  load("trend.ikm_drop = 5,5\n", &c, &rc, &e);
  assert_int_equal(rc, KJ_EINVAL);
  assert_non_null(strstr(e.msg, "trend.ikm_drop"));
  assert_non_null(strstr(e.msg, ":1:"));
  kjs_config_release(&c);
  load("dash.stale_days = 0\n", &c, &rc, &e);
  assert_int_equal(rc, KJ_EINVAL);
  assert_non_null(strstr(e.msg, "dash.stale_days"));
  kjs_config_release(&c);
}

/* Offices with nothing to judge are no data and unranked; the others are
 * ranked again in their order. */
static void test_no_data(void **state) {
  (void)state;
  const char *doc =
      "{\"offices\":["
      "{\"office\":\"A\",\"rank\":1,\"ikk\":80.5,\"ikm\":{\"n\":3},\"complaints\":{\"received\":0},"
      "\"compliance\":50.0,\"employees\":{\"capaian_mean\":null}},"
      "{\"office\":\"B\",\"rank\":2,\"ikk\":0.0,\"ikm\":{\"n\":0},\"complaints\":{\"received\":0},"
      "\"compliance\":0.0,\"employees\":{\"capaian_mean\":null}},"
      "{\"office\":\"C\",\"rank\":3,\"ikk\":0.0,\"ikm\":{\"n\":0},\"complaints\":{\"received\":1},"
      "\"compliance\":0.0,\"employees\":{\"capaian_mean\":null}},"
      "{\"office\":\"D\",\"rank\":4,\"ikk\":0.0,\"ikm\":{\"n\":0},\"complaints\":{\"received\":0},"
      "\"compliance\":null,\"employees\":{\"capaian_mean\":null}}]}";
  cJSON *j = cJSON_Parse(doc);
  assert_int_equal(kjs_dash_mark_no_data(j), 2);
  cJSON *o = cJSON_GetObjectItem(j, "offices");
  /* A keeps rank 1; B no data; C (a complaint) is ranked 2; D no data */
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(o, 0), "rank")->valueint, 1);
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(o, 1), "rank")));
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(o, 1), "ikk")));
  assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(o, 1), "compliance")));
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(o, 1), "no_data")));
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(o, 2), "rank")->valueint, 2);
  assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(o, 2), "no_data"));
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(o, 3), "no_data")));
  /* marking again changes nothing */
  assert_int_equal(kjs_dash_mark_no_data(j), 2);
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(o, 2), "rank")->valueint, 2);
  cJSON_Delete(j);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_thresholds), cmocka_unit_test(test_nulls),
      cmocka_unit_test(test_limits),     cmocka_unit_test(test_config),
      cmocka_unit_test(test_no_data),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
