/* test_app_rules.c - domain.md "Who may write what" at the server: crafted
 * pushes that skip every check of kinerja, each rule refused with its
 * message and nothing stored; the cross-office case of issue 16 (a PC of
 * one office naming another office's staff); an edit of an approved
 * activity submitted again by the server; an administrator's import that
 * may set any status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "date.h"
#include "hlc.h"
#include "test_app_util.h"

#define T0 1767225600000ULL /* 2026-01-01T00:00:00Z */

#define HEAD_A "197001012000011001"  /* A, no supervisor */
#define SUP_A "198001012005011002"   /* A, under HEAD_A */
#define STAFF_A "199001012015011003" /* A, under SUP_A */
#define PEER_A "199202022016012004"  /* A, under SUP_A */
#define HEAD_B "197505052001011006"  /* B */
#define STAFF_B "198503032010011005" /* B, under HEAD_B */

/* Push one change as token: its result's status, and its error into
 * g_error (""). */
static char g_error[1024];
static const char *push1(tapp *t, const char *token, char *ch) {
  return tpush1(t, token, ch, g_error, sizeof g_error);
}

static void applied(const char *status) {
  if (strcmp(status, "applied") != 0)
    fail_msg("expected applied, got %s: %s", status, g_error);
}

static void refused(const char *status, const char *want) {
  if (strcmp(status, "rejected") != 0 || !strstr(g_error, want))
    fail_msg("expected rejected with \"%s\", got %s: %s", want, status, g_error);
}

static void absent(tapp *t, kj_rtype type, const char *id) {
  char *json = NULL;
  kj_err e;
  assert_int_equal(kjs_store_get_state(t->store, type, id, &json, &e), KJ_ENOENT);
}

/* The stored value of field of record (type, id); NULL when absent. */
static char *stored(tapp *t, kj_rtype type, const char *id, const char *field) {
  char *json = NULL;
  kj_err e;
  assert_int_equal(kjs_store_get_state(t->store, type, id, &json, &e), KJ_OK);
  cJSON *o = cJSON_Parse(json);
  free(json);
  const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "f"), field);
  char *out = cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
  cJSON_Delete(o);
  return out;
}

static int setup(void **state) {
  tapp *t = tapp_new();
  applied(push1(
      t, t->admin,
      tchange("office", OFFICE_A, "", "{\"name\":\"Kasemen\",\"timezone\":\"Asia/Jayapura\"}")));
  temployee(t, HEAD_A, OFFICE_A, NULL);
  temployee(t, SUP_A, OFFICE_A, HEAD_A);
  temployee(t, STAFF_A, OFFICE_A, SUP_A);
  temployee(t, PEER_A, OFFICE_A, SUP_A);
  temployee(t, HEAD_B, OFFICE_B, NULL);
  temployee(t, STAFF_B, OFFICE_B, HEAD_B);
  *state = t;
  return 0;
}

static int teardown(void **state) {
  tapp_free(*state);
  return 0;
}

#define ACT(nip, extra)                                                                            \
  "{\"office\":\"" OFFICE_A "\",\"nip\":\"" nip "\",\"date\":\"2026-02-03\","                      \
  "\"indicator\":\"DOC\",\"quantity\":\"3\"" extra "}"

/* Issue 16: a PC of office A adds records naming office B's staff (bad
 * ratings, huge targets): each is refused, nothing is stored. */
static void test_cross_office(void **state) {
  tapp *t = *state;
  refused(push1(t, t->dev_a,
                tchange("target", tuid(1), "",
                        "{\"office\":\"" OFFICE_A "\",\"nip\":\"" STAFF_B
                        "\",\"indicator\":\"DOC\",\"period\":\"2026\",\"target\":\"1000000\"}")),
          "target "
          "01900000-0000-7000-8000-000000000001: nip " STAFF_B
          " is not on the roster of office '" OFFICE_A "' (their office is '" OFFICE_B "')");
  absent(t, KJ_T_TARGET, tuid(1));
  refused(push1(t, t->dev_a,
                tchange("rating", tuid(2), SUP_A,
                        "{\"office\":\"" OFFICE_A "\",\"period\":\"2026\",\"rater\":\"" SUP_A
                        "\",\"ratee\":\"" STAFF_B "\",\"role\":\"rekan\",\"s1\":\"1\",\"s2\":\"1\","
                        "\"s3\":\"1\",\"s4\":\"1\",\"s5\":\"1\",\"s6\":\"1\",\"s7\":\"1\"}")),
          "ratee " STAFF_B " is not on the roster of office '" OFFICE_A "'");
  absent(t, KJ_T_RATING, tuid(2));
  refused(push1(t, t->dev_a, tchange("activity", tuid(3), "", ACT(STAFF_B, ""))),
          "nip " STAFF_B " is not on the roster");
  refused(push1(t, t->dev_a,
                tchange("complaint", tuid(4), "",
                        "{\"office\":\"" OFFICE_A
                        "\",\"received\":\"2026-02-01\",\"resolved_by\":\"" STAFF_B "\"}")),
          "resolved_by " STAFF_B " is not on the roster");
  /* the same records of its own staff are taken */
  applied(push1(t, t->dev_a,
                tchange("target", tuid(5), "",
                        "{\"office\":\"" OFFICE_A "\",\"nip\":\"" STAFF_A
                        "\",\"indicator\":\"DOC\",\"period\":\"2026\",\"target\":\"10\"}")));
  /* and an administrator names only roster people too */
  refused(push1(t, t->admin, tchange("activity", tuid(6), "", ACT(STAFF_B, ""))),
          "nip " STAFF_B " is not on the roster of office '" OFFICE_A "'");
}

static void test_approval(void **state) {
  tapp *t = *state;
  const char *id = tuid(10);
  refused(push1(t, t->dev_a, tchange("activity", id, "", ACT(STAFF_A, ",\"status\":\"approved\""))),
          "activity 01900000-0000-7000-8000-000000000010: a new activity is draft or submitted");
  absent(t, KJ_T_ACTIVITY, id);
  applied(push1(t, t->dev_a, tchange("activity", id, "", ACT(STAFF_A, ""))));
  /* the operator, a colleague, the employee: refused */
  refused(
      push1(t, t->dev_a,
            tchange("activity", id, "", "{\"status\":\"approved\",\"reviewed_by\":\"" SUP_A "\"}")),
      "only the supervisor of " STAFF_A " (" SUP_A ") approves their activities");
  refused(push1(t, t->dev_a,
                tchange("activity", id, PEER_A,
                        "{\"status\":\"approved\",\"reviewed_by\":\"" PEER_A "\"}")),
          "activity 01900000-0000-7000-8000-000000000010: only the supervisor of " STAFF_A
          " (" SUP_A ") approves their activities");
  refused(push1(t, t->dev_a,
                tchange("activity", id, STAFF_A,
                        "{\"status\":\"approved\",\"reviewed_by\":\"" STAFF_A "\"}")),
          "nobody approves their own activity (" STAFF_A ")");
  refused(push1(t, t->dev_a,
                tchange("activity", id, SUP_A,
                        "{\"status\":\"approved\",\"reviewed_by\":\"" HEAD_A "\"}")),
          "an approval sets reviewed_by to its approver (" SUP_A ")");
  refused(push1(t, t->dev_a, tchange("activity", id, "", "{\"reviewed_by\":\"" SUP_A "\"}")),
          "reviewed_by is set only by an approve or reject of the approver");
  char *st = stored(t, KJ_T_ACTIVITY, id, "status");
  assert_null(st); /* still the default, submitted */
  free(st);
  /* the supervisor approves */
  applied(push1(
      t, t->dev_a,
      tchange("activity", id, SUP_A, "{\"status\":\"approved\",\"reviewed_by\":\"" SUP_A "\"}")));
  st = stored(t, KJ_T_ACTIVITY, id, "status");
  assert_string_equal(st, "approved");
  free(st);
  /* nobody but the approver takes a decision back */
  refused(push1(t, t->dev_a,
                tchange("activity", id, "", "{\"status\":\"submitted\",\"reviewed_by\":null}")),
          "only the approver (" SUP_A ") changes the status of an activity that is approved");
  /* a draft is submitted first */
  const char *d = tuid(11);
  applied(push1(t, t->dev_a, tchange("activity", d, "", ACT(STAFF_A, ",\"status\":\"draft\""))));
  refused(push1(t, t->dev_a,
                tchange("activity", d, SUP_A,
                        "{\"status\":\"approved\",\"reviewed_by\":\"" SUP_A "\"}")),
          "a draft is submitted before it is approved or rejected");
  /* the head has no supervisor: only the BKD approves */
  const char *h = tuid(12);
  applied(push1(t, t->dev_a, tchange("activity", h, "", ACT(HEAD_A, ""))));
  refused(push1(t, t->dev_a,
                tchange("activity", h, SUP_A,
                        "{\"status\":\"approved\",\"reviewed_by\":\"" SUP_A "\"}")),
          HEAD_A " has no supervisor: their activities are approved at the BKD");
  applied(push1(t, t->admin, tchange("activity", h, "", "{\"status\":\"approved\"}")));
}

/* An edit of an approved activity that does not send it for review again
 * itself (an older kinerja, a crafted push): the server does it, and the
 * device that pushed pulls the result back. */
static void test_resubmit(void **state) {
  tapp *t = *state;
  const char *id = tuid(20);
  /* every stamp of the record is this device's: only the derived ones are not */
  applied(push1(t, t->dev_a2, tchange("activity", id, "", ACT(STAFF_A, ""))));
  applied(push1(
      t, t->dev_a2,
      tchange("activity", id, SUP_A, "{\"status\":\"approved\",\"reviewed_by\":\"" SUP_A "\"}")));
  applied(push1(t, t->dev_a2, tchange("activity", id, "", "{\"quantity\":\"300\"}")));
  char *st = stored(t, KJ_T_ACTIVITY, id, "status");
  assert_string_equal(st, "submitted");
  free(st);
  st = stored(t, KJ_T_ACTIVITY, id, "reviewed_by");
  assert_null(st);
  free(st);
  /* the pushing device receives it, although it skips its own records */
  tresp r;
  tcall(t, &r, "GET", "/v1/pull", "since=0&skip_own=1&protocol=2", t->dev_a2, NULL);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body, id));
  tresp_release(&r);
  /* the supervisor approves what it is now */
  applied(push1(
      t, t->dev_a,
      tchange("activity", id, SUP_A, "{\"status\":\"approved\",\"reviewed_by\":\"" SUP_A "\"}")));
  st = stored(t, KJ_T_ACTIVITY, id, "status");
  assert_string_equal(st, "approved");
  free(st);
}

#define SCORES                                                                                     \
  ",\"s1\":\"4\",\"s2\":\"4\",\"s3\":\"4\",\"s4\":\"4\",\"s5\":\"4\",\"s6\":\"4\",\"s7\":\"4\"}"
#define RATING(rater, ratee, role)                                                                 \
  "{\"office\":\"" OFFICE_A "\",\"period\":\"2026\",\"rater\":\"" rater "\",\"ratee\":\"" ratee    \
  "\",\"role\":\"" role "\"" SCORES

static void test_ratings(void **state) {
  tapp *t = *state;
  refused(push1(t, t->dev_a, tchange("rating", tuid(30), "", RATING(SUP_A, STAFF_A, "atasan"))),
          "rating 01900000-0000-7000-8000-000000000030: a rating is written by its rater (" SUP_A
          "), not by 'operator'");
  refused(
      push1(t, t->dev_a, tchange("rating", tuid(30), STAFF_A, RATING(STAFF_A, STAFF_A, "rekan"))),
      "nobody rates themselves (" STAFF_A ")");
  refused(
      push1(t, t->dev_a, tchange("rating", tuid(30), PEER_A, RATING(PEER_A, STAFF_A, "atasan"))),
      "an atasan rating is made by the ratee's supervisor (" SUP_A "), not by " PEER_A);
  refused(
      push1(t, t->dev_a, tchange("rating", tuid(30), STAFF_A, RATING(STAFF_A, HEAD_A, "bawahan"))),
      "a bawahan rating rates the rater's own supervisor (" SUP_A "), not " HEAD_A);
  refused(push1(t, t->dev_a, tchange("rating", tuid(30), SUP_A, RATING(SUP_A, STAFF_A, "rekan"))),
          "a rekan rating is between colleagues: " SUP_A " is the supervisor of " STAFF_A);
  absent(t, KJ_T_RATING, tuid(30));
  applied(push1(t, t->dev_a, tchange("rating", tuid(30), SUP_A, RATING(SUP_A, STAFF_A, "atasan"))));
  applied(
      push1(t, t->dev_a, tchange("rating", tuid(31), STAFF_A, RATING(STAFF_A, PEER_A, "rekan"))));
  applied(
      push1(t, t->dev_a, tchange("rating", tuid(32), STAFF_A, RATING(STAFF_A, SUP_A, "bawahan"))));
  /* one live rating per (period, rater, ratee) */
  refused(push1(t, t->dev_a, tchange("rating", tuid(33), SUP_A, RATING(SUP_A, STAFF_A, "atasan"))),
          SUP_A " already rated " STAFF_A
                " for 2026 in rating 01900000-0000-7000-8000-000000000030");
  /* its own rater edits it */
  applied(push1(t, t->dev_a, tchange("rating", tuid(30), SUP_A, "{\"s1\":\"5\"}")));
  refused(push1(t, t->dev_a, tchange("rating", tuid(30), "", "{\"s1\":\"1\"}")),
          "a rating is written by its rater (" SUP_A "), not by 'operator'");
  /* after a delete, a new one may be made */
  char *text = tchange("rating", tuid(30), SUP_A, "{}");
  cJSON *o = cJSON_Parse(text);
  free(text);
  cJSON_DeleteItemFromObject(o, "f");
  cJSON_AddTrueToObject(o, "del");
  char *del = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  applied(push1(t, t->dev_a, del));
  applied(push1(t, t->dev_a, tchange("rating", tuid(33), SUP_A, RATING(SUP_A, STAFF_A, "atasan"))));
  /* an administrator may set any rating */
  applied(push1(t, t->admin, tchange("rating", tuid(34), "", RATING(PEER_A, STAFF_A, "atasan"))));
}

/* No date after the office's today in its time zone (Asia/Jayapura here),
 * with one day of slack at the server for the PCs (none for the BKD). */
static void test_dates(void **state) {
  tapp *t = *state;
  kj_day today = kj_today(9 * 60);
  char d1[KJ_DATE_STRLEN + 1], d2[KJ_DATE_STRLEN + 1], f[512], want[128];
  kj_date_format(today + 1, d1);
  kj_date_format(today + 2, d2);
  snprintf(f, sizeof f,
           "{\"office\":\"" OFFICE_A "\",\"date\":\"%s\",\"service\":\"KTP-el\",\"u1\":\"4\","
           "\"u2\":\"4\",\"u3\":\"4\",\"u4\":\"4\",\"u5\":\"4\",\"u6\":\"4\",\"u7\":\"4\","
           "\"u8\":\"4\",\"u9\":\"4\"}",
           d2);
  snprintf(want, sizeof want, "date %s is after the office's today", d2);
  refused(push1(t, t->dev_a, tchange("survey", tuid(40), "", f)), want);
  assert_non_null(strstr(g_error, "in Asia/Jayapura)"));
  memcpy(strstr(f, d2), d1, KJ_DATE_STRLEN); /* the day of slack */
  applied(push1(t, t->dev_a, tchange("survey", tuid(40), "", f)));
  snprintf(f, sizeof f, "{\"office\":\"" OFFICE_A "\",\"received\":\"%s\"}", d2);
  snprintf(want, sizeof want, "received %s is after the office's today", d2);
  refused(push1(t, t->admin, tchange("complaint", tuid(41), "", f)), want);
  /* the BKD's own writes go by the server's clock: no day of slack (a
   * complaint says what it is about: proto/rules.c check_complaint) */
  snprintf(f, sizeof f,
           "{\"office\":\"" OFFICE_A "\",\"received\":\"%s\",\"summary\":\"jalan rusak\"}", d1);
  snprintf(want, sizeof want, "received %s is after the office's today", d1);
  refused(push1(t, t->admin, tchange("complaint", tuid(42), "", f)), want);
  applied(push1(t, t->dev_a, tchange("complaint", tuid(42), "", f)));
}

/* kinerjad import (the server itself, author admin) may set any status. */
static void test_import_admin(void **state) {
  tapp *t = *state;
  kjs_txn *x;
  kj_err e;
  assert_int_equal(kjs_txn_begin(t->store, &x, &e), KJ_OK);
  kjs_item it;
  memset(&it, 0, sizeof it);
  kj_change_init(&it.ch, KJ_T_ACTIVITY);
  snprintf(it.ch.rec.id, sizeof it.ch.rec.id, "%s", tuid(50));
  const char *kv[][2] = {{"office", OFFICE_A},   {"nip", STAFF_A},  {"date", "2026-02-03"},
                         {"indicator", "DOC"},   {"quantity", "5"}, {"status", "approved"},
                         {"reviewed_by", HEAD_A}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
    int fi = kj_field_index(kj_type(KJ_T_ACTIVITY), kv[i][0]);
    assert_int_equal(kj_record_set(&it.ch.rec, fi, kv[i][1]), KJ_OK);
    it.ch.mask |= 1u << fi;
  }
  assert_int_equal(kjs_txn_stamp(x, kj_wall_ms(), 86400000, &it.ch.hlc, &e), KJ_OK);
  snprintf(it.ch.device, sizeof it.ch.device, "server");
  it.decoded = 1;
  it.seq = -1;
  it.label = "activities.csv:2";
  it.label_only = 1;
  assert_int_equal(kjs_txn_apply(x, NULL, &it, &e), KJ_OK);
  if (it.status != KJS_APPLIED)
    fail_msg("import: %s", it.error);
  /* a nip of another office is refused all the same */
  int fn = kj_field_index(kj_type(KJ_T_ACTIVITY), "nip");
  kj_record_set(&it.ch.rec, fn, STAFF_B);
  snprintf(it.ch.rec.id, sizeof it.ch.rec.id, "%s", tuid(51));
  assert_int_equal(kjs_txn_stamp(x, kj_wall_ms(), 86400000, &it.ch.hlc, &e), KJ_OK);
  assert_int_equal(kjs_txn_apply(x, NULL, &it, &e), KJ_OK);
  assert_int_equal(it.status, KJS_REJECTED);
  assert_non_null(strstr(it.error, "activities.csv:2: activity"));
  assert_non_null(strstr(it.error, "nip " STAFF_B " is not on the roster"));
  kj_change_release(&it.ch);
  assert_int_equal(kjs_txn_commit(x, &e), KJ_OK);
  char *st = stored(t, KJ_T_ACTIVITY, tuid(50), "status");
  assert_string_equal(st, "approved");
  free(st);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cross_office, setup, teardown),
      cmocka_unit_test_setup_teardown(test_approval, setup, teardown),
      cmocka_unit_test_setup_teardown(test_resubmit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ratings, setup, teardown),
      cmocka_unit_test_setup_teardown(test_dates, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_admin, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
