/* test_msg.c - the protocol's messages (proto/msg.h) and the version rules
 * (docs/protocol.md "Versions"): what a peer of each protocol is sent, what
 * a change needs, unknown fields kept, the client's stored state form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "msg.h"
#include "uuid.h"

#define UUID "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b"
#define NIP "198001012005011001"

static int field(kj_rtype t, const char *name) {
  int i = kj_field_index(kj_type(t), name);
  assert_true(i >= 0);
  return i;
}

static void set_stamp(kj_stamp *st, kj_hlc h, const char *dev) {
  st->hlc = h;
  snprintf(st->device, sizeof st->device, "%s", dev);
}

/* A complaint state with a protocol-2 field and value. */
static void complaint_state(kj_rstate *s) {
  kj_rstate_init(s, KJ_T_COMPLAINT);
  snprintf(s->rec.id, sizeof s->rec.id, UUID);
  static const char *const kv[][2] = {{"office", "36.73.01"},       {"received", "2026-03-02"},
                                      {"channel", "whatsapp"},      {"summary", "jalan rusak"},
                                      {"resolution", "diperbaiki"}, {"resolved_by", NIP}};
  for (size_t k = 0; k < sizeof kv / sizeof kv[0]; k++) {
    int i = field(KJ_T_COMPLAINT, kv[k][0]);
    assert_int_equal(kj_record_set(&s->rec, i, kv[k][1]), KJ_OK);
    set_stamp(&s->st[i], 1000 + k, "dev-a");
  }
}

static char *text_of(cJSON *o) {
  assert_non_null(o);
  char *t = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return t;
}

/* ---- versions of types, fields and values ---- */

static void test_since(void **state) {
  (void)state;
  const kj_type_def *c = kj_type(KJ_T_COMPLAINT), *o = kj_type(KJ_T_OFFICE);
  assert_int_equal(kj_type_since(c), 1);
  assert_int_equal(kj_type_since(kj_type(KJ_T_SERVICE)), 2);
  assert_int_equal(kj_value_since(c, field(KJ_T_COMPLAINT, "summary"), "x"), 1);
  assert_int_equal(kj_value_since(c, field(KJ_T_COMPLAINT, "resolution"), "x"), 2);
  assert_int_equal(kj_value_since(c, field(KJ_T_COMPLAINT, "resolved_by"), NULL), 2);
  assert_int_equal(kj_value_since(c, field(KJ_T_COMPLAINT, "channel"), "telepon"), 1);
  assert_int_equal(kj_value_since(c, field(KJ_T_COMPLAINT, "channel"), "whatsapp"), 2);
  assert_int_equal(kj_value_since(o, field(KJ_T_OFFICE, "head"), NIP), 2);
  assert_int_equal(kj_value_since(o, field(KJ_T_OFFICE, "timezone"), "Asia/Jayapura"), 2);

  kj_change ch;
  kj_change_init(&ch, KJ_T_COMPLAINT);
  int sum = field(KJ_T_COMPLAINT, "summary"), ch_i = field(KJ_T_COMPLAINT, "channel");
  kj_record_set(&ch.rec, sum, "x");
  ch.mask = 1u << sum;
  assert_int_equal(kj_change_needs(&ch), 1);
  kj_record_set(&ch.rec, ch_i, "whatsapp");
  ch.mask |= 1u << ch_i;
  assert_int_equal(kj_change_needs(&ch), 2);
  kj_record_set(&ch.rec, ch_i, NULL); /* clearing a protocol-1 field */
  assert_int_equal(kj_change_needs(&ch), 1);
  kj_change_release(&ch);
  kj_change_init(&ch, KJ_T_SERVICE);
  assert_int_equal(kj_change_needs(&ch), 2);
  kj_change_release(&ch);
}

static void test_service_id(void **state) {
  (void)state;
  char a[KJ_ID_MAX + 1], b[KJ_ID_MAX + 1], c[KJ_ID_MAX + 1], d[KJ_ID_MAX + 1];
  assert_int_equal(kj_service_id("36.73.01", "KTP-el", a), KJ_OK);
  assert_int_equal(kj_service_id("36.73.01", " ktp  EL.", b), KJ_OK);
  assert_int_equal(kj_service_id("36.73.01", "KK", c), KJ_OK);
  assert_int_equal(kj_service_id("36.73.02", "KTP-el", d), KJ_OK);
  assert_string_equal(a, b);
  assert_string_not_equal(a, c);
  assert_string_not_equal(a, d);
  assert_true(kj_uuid_valid(a));
  assert_int_equal(a[14], '8'); /* version 8 */
  assert_true(strchr("89ab", a[19]) != NULL);
  kj_err e;
  assert_int_equal(kj_record_validate_id(KJ_T_SERVICE, a, &e), KJ_OK);
  /* a service read without an id gets the derived one; others keep theirs */
  kj_record r;
  kj_record_init(&r, KJ_T_SERVICE);
  kj_record_set(&r, 0, "36.73.01");
  kj_record_set(&r, 1, "ktp el");
  assert_int_equal(kj_record_derive_id(&r), KJ_OK);
  assert_string_equal(r.id, a);
  assert_int_equal(kj_record_validate(&r, &e), KJ_OK);
  kj_record_release(&r);
  kj_record_init(&r, KJ_T_SURVEY);
  assert_int_equal(kj_record_derive_id(&r), KJ_OK);
  assert_string_equal(r.id, "");
  kj_record_release(&r);
  assert_int_equal(kj_service_id("", "x", a), KJ_EINVAL);
  assert_int_equal(kj_service_id("36.73.01", "", a), KJ_EINVAL);
}

/* ---- hello ---- */

static void test_hello(void **state) {
  (void)state;
  kj_hello h;
  memset(&h, 0, sizeof h);
  snprintf(h.version, sizeof h.version, "9.9.9");
  h.server_time = 1772500000123;
  snprintf(h.role, sizeof h.role, "device");
  snprintf(h.office, sizeof h.office, "36.73.01");
  snprintf(h.device, sizeof h.device, "dev-1");
  h.max_batch = 5000;
  h.max_body = 16777216;
  h.max_pull = 5000;
  h.max_pipeline = 4;
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  assert_int_equal(kj_hello_encode(&h, 2, &b, &e), KJ_OK);
  assert_non_null(strstr(kj_buf_str(&b), "\"protocol\":2,\"protocol_min\":1,\"protocol_max\":3"));
  assert_non_null(strstr(kj_buf_str(&b), "\"office\":[\"name\",\"region\",\"population\",\"head\","
                                         "\"timezone\"]"));
  kj_hello d;
  assert_int_equal(kj_hello_decode(kj_buf_str(&b), b.len, &d, &e), KJ_OK);
  assert_int_equal(d.protocol_max, 3);
  assert_int_equal(d.server_time, 1772500000123);
  assert_string_equal(d.office, "36.73.01");
  assert_string_equal(d.device, "dev-1");
  assert_int_equal(d.max_batch, 5000);
  assert_int_equal(d.max_pipeline, 4); /* limits.max_pipeline: pushes pipelined */
  assert_true(d.types_known & (1u << KJ_T_SERVICE));
  assert_true(d.fields_known[KJ_T_OFFICE] & (1u << field(KJ_T_OFFICE, "head")));
  kj_buf_reset(&b);
  /* a caller without the parameter is spoken to in protocol 1 */
  assert_int_equal(kj_hello_encode(&h, 1, &b, &e), KJ_OK);
  assert_non_null(strstr(kj_buf_str(&b), "\"protocol\":1,"));
  kj_buf_release(&b);

  /* the hello of the release of protocol 1 (commit 0c3ceb2) */
  const char *old = "{\"server\":\"kinerjad\",\"version\":\"0.1.0\",\"protocol\":1,"
                    "\"server_time\":1772500000123,\"role\":\"device\",\"office\":\"36.73.01\","
                    "\"device\":\"dev-1\",\"limits\":{\"max_batch\":5000,\"max_body\":16777216,"
                    "\"max_pull\":5000}}";
  assert_int_equal(kj_hello_decode(old, strlen(old), &d, &e), KJ_OK);
  assert_int_equal(d.protocol_min, 1);
  assert_int_equal(d.protocol_max, 1);
  assert_int_equal(d.max_pipeline, 0); /* an older server: stop-and-wait */
  assert_false(d.types_known & (1u << KJ_T_SERVICE));
  assert_true(d.types_known & (1u << KJ_T_COMPLAINT));
  assert_false(d.fields_known[KJ_T_COMPLAINT] & (1u << field(KJ_T_COMPLAINT, "resolution")));
  assert_true(d.fields_known[KJ_T_COMPLAINT] & (1u << field(KJ_T_COMPLAINT, "summary")));

  const char *bad[] = {"[]",
                       "{\"protocol\":0}",
                       "{\"protocol\":\"2\"}",
                       "{\"protocol\":2,\"protocol_min\":3,\"protocol_max\":2}",
                       "{\"office\":5}",
                       "{\"limits\":{\"max_batch\":-1}}",
                       "{\"limits\":{\"max_pipeline\":\"4\"}}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(kj_hello_decode(bad[i], strlen(bad[i]), &d, &e), KJ_EPROTO);
}

/* ---- push ---- */

static void test_push(void **state) {
  (void)state;
  kj_change ch[2];
  kj_change_init(&ch[0], KJ_T_SURVEY);
  snprintf(ch[0].rec.id, sizeof ch[0].rec.id, UUID);
  int u1 = field(KJ_T_SURVEY, "u1");
  kj_record_set(&ch[0].rec, u1, "4");
  ch[0].mask = 1u << u1;
  ch[0].hlc = 77;
  ch[0].seq = 5;
  snprintf(ch[0].device, sizeof ch[0].device, "dev-1");
  kj_change_init(&ch[1], KJ_T_COMPLAINT);
  snprintf(ch[1].rec.id, sizeof ch[1].rec.id, UUID);
  ch[1].rec.deleted = 1;
  ch[1].hlc = 78;
  ch[1].seq = 6;
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  snprintf(ch[0].author, sizeof ch[0].author, "%s", NIP);
  kj_buf_reset(&b);
  assert_int_equal(kj_push_encode(&b, 1234, ch, 2, 1, &e), KJ_OK);
  assert_null(strstr(kj_buf_str(&b), "author")); /* protocol 1 refuses it */
  kj_buf_reset(&b);
  assert_int_equal(kj_push_encode(&b, 1234, ch, 2, 2, &e), KJ_OK);
  assert_null(strstr(kj_buf_str(&b), "dev-1")); /* the server knows the device */
  kj_push_req req;
  assert_int_equal(kj_push_decode(kj_buf_str(&b), b.len, 10, &req, &e), KJ_OK);
  assert_int_equal(req.n, 2);
  assert_int_equal(req.protocol, KJ_PROTOCOL_MAX);
  assert_true(req.has_device_time);
  assert_int_equal(req.device_time, 1234);
  assert_true(req.e[0].ok);
  assert_int_equal(req.e[0].seq, 5);
  assert_string_equal(req.e[0].ch.rec.v[u1], "4");
  assert_string_equal(req.e[0].ch.author, NIP);
  assert_true(req.e[1].ok);
  assert_true(req.e[1].ch.rec.deleted);
  kj_push_req_release(&req);
  assert_int_equal(kj_push_decode(kj_buf_str(&b), b.len, 1, &req, &e), KJ_ETOOBIG);
  assert_string_equal(e.msg, "batch of 2 changes is over the limit of 1");
  kj_buf_release(&b);
  kj_change_release(&ch[0]);
  kj_change_release(&ch[1]);

  static const struct {
    const char *body, *msg;
  } bad[] = {
      {"", "bad JSON: empty body"},
      {"{\"changes\":[", "bad JSON at byte 11"},
      {"[1]", "bad JSON: the body must be an object"},
      {"{\"changes\":{}}", "bad JSON: 'changes' must be an array"},
      {"{\"changes\":[],\"device_time\":1e999}",
       "bad JSON: 'device_time' must be a number (ms since the epoch)"},
      {"{\"changes\":[],\"x\":\"a\\u0000\"}",
       "bad JSON at byte 20: strings must not contain NUL (\\u0000)"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    kj_err_clear(&e);
    assert_int_equal(kj_push_decode(bad[i].body, strlen(bad[i].body), 10, &req, &e), KJ_EPROTO);
    assert_string_equal(e.msg, bad[i].msg);
  }
  /* a change that cannot be read is that change's answer, not the batch's */
  const char *one =
      "{\"changes\":[{\"seq\":3,\"id\":\"" UUID "\",\"type\":\"survey\",\"hlc\":\"9\","
      "\"f\":{\"nope\":\"1\"}},{\"id\":\"x\"}]}";
  assert_int_equal(kj_push_decode(one, strlen(one), 10, &req, &e), KJ_OK);
  assert_int_equal(req.n, 2);
  assert_false(req.e[0].ok);
  assert_int_equal(req.e[0].seq, 3);
  assert_string_equal(req.e[0].error, "changes[0] (id " UUID "): unknown field 'nope'");
  assert_false(req.e[1].ok);
  assert_int_equal(req.e[1].seq, -1);
  kj_push_req_release(&req);
}

static void test_push_results(void **state) {
  (void)state;
  kj_push_result r[3] = {{5, KJ_PUSH_APPLIED, NULL, 0, NULL},
                         {6, KJ_PUSH_REJECTED, "changes[1]: field 'u1': must be 1 to 4", 0, NULL},
                         {-1, KJ_PUSH_DUPLICATE, NULL, 0, NULL}};
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  assert_int_equal(kj_push_results_encode(&b, r, 3, 42, &e), KJ_OK);
  assert_string_equal(
      kj_buf_str(&b),
      "{\"results\":[{\"seq\":5,\"status\":\"applied\"},{\"seq\":6,\"status\":"
      "\"rejected\",\"error\":\"changes[1]: field 'u1': must be 1 to 4\"},"
      "{\"seq\":null,\"status\":\"duplicate\"}],\"server_time\":42,\"protocol\":3}");
  kj_push_answer a;
  assert_int_equal(kj_push_answer_decode(kj_buf_str(&b), b.len, &a, &e), KJ_OK);
  assert_int_equal(a.n, 3);
  assert_int_equal(a.server_time, 42);
  assert_int_equal(a.protocol, 3);
  assert_int_equal(a.r[1].status, KJ_PUSH_REJECTED);
  assert_string_equal(a.r[1].error, "changes[1]: field 'u1': must be 1 to 4");
  assert_int_equal(a.r[2].seq, -1);
  kj_push_answer_release(&a);
  kj_buf_release(&b);
  /* a status of a newer server is not taken for success */
  const char *newer = "{\"results\":[{\"seq\":1,\"status\":\"deferred\"}]}";
  assert_int_equal(kj_push_answer_decode(newer, strlen(newer), &a, &e), KJ_OK);
  assert_int_equal(a.r[0].status, KJ_PUSH_REJECTED);
  assert_string_equal(a.r[0].error, "the server answered status 'deferred'");
  assert_int_equal(a.server_time, -1);
  assert_int_equal(a.protocol, 1); /* the release of protocol 1 says nothing */
  kj_push_answer_release(&a);
  assert_int_equal(kj_push_answer_decode("{}", 2, &a, &e), KJ_EPROTO);
  /* refused for now: "retry": true, read back; absent means for good */
  kj_push_result later = {7, KJ_PUSH_REJECTED, "the clock of this PC is 2 days ahead", 1, NULL};
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_push_results_encode(&b, &later, 1, 42, &e), KJ_OK);
  assert_non_null(strstr(kj_buf_str(&b), "\"retry\":true"));
  assert_int_equal(kj_push_answer_decode(kj_buf_str(&b), b.len, &a, &e), KJ_OK);
  assert_int_equal(a.r[0].status, KJ_PUSH_REJECTED);
  assert_int_equal(a.r[0].retry, 1);
  kj_push_answer_release(&a);
  kj_buf_release(&b);
  assert_int_equal(kj_push_answer_decode(newer, strlen(newer), &a, &e), KJ_OK);
  assert_int_equal(a.r[0].retry, 0);
  kj_push_answer_release(&a);
}

/* A rule's refusal travels as its code, field and values (docs/protocol.md
 * "Push"): kinerja keeps them with the server's text and says the rule in
 * its own language (here English: no catalogue in unit tests); an unknown
 * code, a wrong count of values or an old server's text alone: the text. */
static void test_push_refusal(void **state) {
  (void)state;
  kj_refusal why = {.code = "not_supervisor",
                    .field = "status",
                    .nargs = 2,
                    .args = {"199001012015011003", "198001012005011002"}};
  const char *text = "changes[0] (id X): activity X: only the supervisor of "
                     "199001012015011003 (198001012005011002) approves their activities";
  kj_push_result r = {3, KJ_PUSH_REJECTED, (char *)text, 0, &why};
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  assert_int_equal(kj_push_results_encode(&b, &r, 1, 42, &e), KJ_OK);
  assert_non_null(strstr(kj_buf_str(&b),
                         "\"code\":\"not_supervisor\",\"field\":\"status\",\"args\":["
                         "\"199001012015011003\",\"198001012005011002\"]}"));
  kj_push_answer a;
  assert_int_equal(kj_push_answer_decode(kj_buf_str(&b), b.len, &a, &e), KJ_OK);
  assert_int_equal(a.r[0].status, KJ_PUSH_REJECTED);
  char buf[512], field[KJ_REFUSAL_ARG_MAX + 1];
  assert_string_equal(kj_refusal_reason(a.r[0].error, buf, sizeof buf, field),
                      "only the supervisor of 199001012015011003 (198001012005011002) approves "
                      "their activities");
  assert_string_equal(field, "status");
  kj_push_answer_release(&a);
  kj_buf_release(&b);
  /* a code this kinerja does not know, or the wrong number of values: the
   * server's text */
  const char *newer = "{\"results\":[{\"seq\":1,\"status\":\"rejected\",\"error\":\"T1\","
                      "\"code\":\"rule_of_2030\",\"field\":\"nip\",\"args\":[\"a\"]},"
                      "{\"seq\":2,\"status\":\"rejected\",\"error\":\"T2\","
                      "\"code\":\"not_supervisor\",\"field\":\"status\",\"args\":[\"a\"]},"
                      "{\"seq\":3,\"status\":\"rejected\",\"error\":\"T3\"},"
                      "{\"seq\":4,\"status\":\"rejected\",\"error\":\"T4\",\"code\":\"x\","
                      "\"args\":[1]}]}";
  assert_int_equal(kj_push_answer_decode(newer, strlen(newer), &a, &e), KJ_OK);
  assert_int_equal(a.n, 4);
  assert_string_equal(kj_refusal_reason(a.r[0].error, buf, sizeof buf, field), "T1");
  assert_string_equal(field, "");
  assert_string_equal(kj_refusal_reason(a.r[1].error, buf, sizeof buf, NULL), "T2");
  assert_string_equal(a.r[2].error, "T3"); /* an old server: kept as it came */
  assert_string_equal(kj_refusal_reason(a.r[2].error, buf, sizeof buf, NULL), "T3");
  assert_string_equal(a.r[3].error, "T4"); /* args that are not strings */
  kj_push_answer_release(&a);
  /* the words rules.c puts among the values are said too */
  const char *args[2] = {"none on the roster", "199001012015011003"};
  assert_int_equal(kj_refusal_format("rating_atasan", args, 2, buf, sizeof buf), KJ_OK);
  assert_string_equal(buf, "an atasan rating is made by the ratee's supervisor (none on the "
                           "roster), not by 199001012015011003");
  assert_int_equal(kj_refusal_format("rating_atasan", args, 1, buf, sizeof buf), KJ_EINVAL);
  assert_null(kj_refusal_reason(NULL, buf, sizeof buf, NULL));
}

/* A page with moved notices: the first opens the array, the next extend
 * it; the client reads them back; a page of an older server has none. */
static void test_pull_moved(void **state) {
  (void)state;
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  assert_int_equal(kj_pull_begin(&b), KJ_OK);
  assert_int_equal(kj_pull_end(&b, "9", 0, 42, NULL, NULL), KJ_OK);
  assert_int_equal(kj_pull_add_moved(&b, 0, "activity", "a1"), KJ_EINVAL);
  assert_int_equal(kj_pull_add_moved(&b, 1, "activity", "a1"), KJ_OK);
  assert_int_equal(kj_pull_add_moved(&b, 0, "nosuchtype", "x\"y"), KJ_OK);
  kj_pull_page p;
  assert_int_equal(kj_pull_page_decode(kj_buf_str(&b), b.len, &p, &e), KJ_OK);
  assert_non_null(p.moved);
  assert_int_equal(cJSON_GetArraySize(p.moved), 2);
  kj_rtype t;
  char id[KJ_ID_MAX + 1];
  assert_int_equal(kj_pull_page_moved(cJSON_GetArrayItem(p.moved, 0), &t, id, &e), KJ_OK);
  assert_int_equal(t, KJ_T_ACTIVITY);
  assert_string_equal(id, "a1");
  assert_int_equal(kj_pull_page_moved(cJSON_GetArrayItem(p.moved, 1), &t, id, &e), KJ_EVERSION);
  kj_pull_page_release(&p);
  kj_buf_release(&b);
  const char *old = "{\"changes\":[],\"next\":\"0\",\"more\":false}";
  assert_int_equal(kj_pull_page_decode(old, strlen(old), &p, &e), KJ_OK);
  assert_null(p.moved);
  kj_pull_page_release(&p);
}

/* ---- pull pages ---- */

static void test_pull_for_each_protocol(void **state) {
  (void)state;
  kj_rstate s;
  complaint_state(&s);
  char *full = text_of(kj_rstate_to_json(&s));
  kj_rstate svc;
  kj_rstate_init(&svc, KJ_T_SERVICE);
  assert_int_equal(kj_service_id("36.73.01", "KTP-el", svc.rec.id), KJ_OK);
  kj_record_set(&svc.rec, 0, "36.73.01");
  kj_record_set(&svc.rec, 1, "KTP-el");
  set_stamp(&svc.st[0], 5, "server");
  set_stamp(&svc.st[1], 5, "server");
  char *service = text_of(kj_rstate_to_json(&svc));

  for (int peer = 1; peer <= 2; peer++) {
    kj_buf b;
    kj_buf_init(&b, KJ_BUF_UNLIMITED);
    kj_err e;
    int added = 0, total = 0;
    assert_int_equal(kj_pull_begin(&b), KJ_OK);
    assert_int_equal(kj_pull_add_stored(&b, service, peer, &added, &e), KJ_OK);
    total += added;
    assert_int_equal(kj_pull_add_stored(&b, full, peer, &added, &e), KJ_OK);
    total += added;
    assert_int_equal(kj_pull_end(&b, "17", 0, 99, "[]", "abc"), KJ_OK);
    assert_int_equal(total, peer == 1 ? 1 : 2);
    kj_pull_page p;
    assert_int_equal(kj_pull_page_decode(kj_buf_str(&b), b.len, &p, &e), KJ_OK);
    assert_string_equal(p.next, "17");
    assert_false(p.more);
    assert_int_equal(p.server_time, 99);
    assert_true(p.has_tag);
    assert_string_equal(p.scores_tag, "abc");
    assert_non_null(p.scores);
    assert_int_equal(cJSON_GetArraySize(p.changes), total);
    /* what a protocol-1 reader gets has nothing of protocol 2 */
    if (peer == 1) {
      assert_null(strstr(kj_buf_str(&b), "resolution"));
      assert_null(strstr(kj_buf_str(&b), "resolved_by"));
      assert_null(strstr(kj_buf_str(&b), "whatsapp"));
      assert_null(strstr(kj_buf_str(&b), "\"service\""));
      assert_non_null(strstr(kj_buf_str(&b), "jalan rusak"));
    }
    const cJSON *el = p.changes->child;
    for (; el; el = el->next) {
      kj_rstate got;
      assert_int_equal(kj_pull_page_state(el, &got, &e), KJ_OK);
      if (got.rec.type == KJ_T_COMPLAINT) {
        int r = field(KJ_T_COMPLAINT, "resolution");
        if (peer == 1)
          assert_null(got.rec.v[r]);
        else
          assert_string_equal(got.rec.v[r], "diperbaiki");
      }
      kj_rstate_release(&got);
    }
    kj_pull_page_release(&p);
    kj_buf_release(&b);
  }
  free(full);
  free(service);
  kj_rstate_release(&s);
  kj_rstate_release(&svc);
}

/* ---- unknown fields of a newer peer ---- */

static void test_unknown_fields_kept(void **state) {
  (void)state;
  /* a newer server's state: a field and a type this program lacks */
  const char *text =
      "{\"id\":\"" UUID "\",\"type\":\"complaint\",\"del\":false,"
      "\"f\":{\"office\":\"36.73.01\",\"received\":\"2026-03-02\","
      "\"priority\":\"tinggi\"},\"t\":{\"office\":\"10/srv\",\"received\":\"10/srv\","
      "\"priority\":\"11/srv\",\"sla_days\":\"12/srv\"}}";
  cJSON *o = cJSON_Parse(text);
  kj_rstate s;
  kj_err e;
  assert_int_equal(kj_rstate_from_json(o, &s, &e), KJ_OK);
  cJSON_Delete(o);
  assert_int_equal(s.nx, 2);
  kj_xfield *x = kj_rstate_xfind(&s, "priority");
  assert_non_null(x);
  assert_string_equal(x->value, "tinggi");
  assert_int_equal(x->st.hlc, 11);
  assert_null(kj_rstate_xfind(&s, "sla_days")->value); /* cleared, stamp kept */

  /* stored and read back: nothing lost */
  char *stored = kj_rstate_store_encode(&s);
  assert_non_null(stored);
  kj_rstate back;
  assert_int_equal(kj_rstate_store_decode(stored, KJ_T_COMPLAINT, UUID, 0, &back, &e), KJ_OK);
  assert_int_equal(back.nx, 2);
  assert_string_equal(kj_rstate_xfind(&back, "priority")->value, "tinggi");
  assert_int_equal(kj_rstate_xfind(&back, "sla_days")->st.hlc, 12);
  cJSON_free(stored);

  /* a local edit of another field leaves it alone; a newer value wins */
  int changed = -1;
  kj_change ch;
  kj_change_init(&ch, KJ_T_COMPLAINT);
  snprintf(ch.rec.id, sizeof ch.rec.id, UUID);
  int sum = field(KJ_T_COMPLAINT, "summary");
  kj_record_set(&ch.rec, sum, "baru");
  ch.mask = 1u << sum;
  ch.hlc = 20;
  snprintf(ch.device, sizeof ch.device, "dev-old");
  assert_int_equal(kj_merge_apply(&back, &ch, NULL, NULL, &changed, &e), KJ_OK);
  assert_int_equal(changed, 1);
  kj_change_release(&ch);
  assert_string_equal(kj_rstate_xfind(&back, "priority")->value, "tinggi");
  kj_rstate newer;
  kj_rstate_init(&newer, KJ_T_COMPLAINT);
  snprintf(newer.rec.id, sizeof newer.rec.id, UUID);
  kj_stamp st;
  set_stamp(&st, 30, "srv");
  assert_int_equal(kj_rstate_xput(&newer, "priority", "rendah", &st), KJ_OK);
  set_stamp(&st, 5, "srv");
  assert_int_equal(kj_rstate_xput(&newer, "sla_days", "3", &st), KJ_OK); /* older: loses */
  assert_int_equal(kj_merge_join(&back, &newer, NULL, NULL, &changed, &e), KJ_OK);
  assert_int_equal(changed, 1);
  assert_string_equal(kj_rstate_xfind(&back, "priority")->value, "rendah");
  assert_null(kj_rstate_xfind(&back, "sla_days")->value);
  assert_int_equal(kj_merge_join(&back, &newer, NULL, NULL, &changed, &e), KJ_OK);
  assert_int_equal(changed, 0);

  /* sent to a peer: never (they are not ours to speak for) */
  char *peer = text_of(kj_rstate_to_json_for(&back, 2));
  assert_null(strstr(peer, "priority"));
  free(peer);
  char *all = text_of(kj_rstate_to_json(&back));
  assert_non_null(strstr(all, "\"priority\":\"rendah\""));
  free(all);
  kj_rstate_release(&newer);
  kj_rstate_release(&back);
  kj_rstate_release(&s);

  /* names that could not be a field are still an error */
  const char *bad =
      "{\"id\":\"" UUID "\",\"type\":\"complaint\",\"f\":{},\"t\":{\"Bad Name\":\"1/d\"}}";
  o = cJSON_Parse(bad);
  assert_int_equal(kj_rstate_from_json(o, &s, &e), KJ_EPROTO);
  cJSON_Delete(o);
}

/* ---- the client's stored form ---- */

static void test_store_form(void **state) {
  (void)state;
  kj_rstate s;
  complaint_state(&s);
  int cat = field(KJ_T_COMPLAINT, "category");
  set_stamp(&s.st[cat], 2000, "dev-b"); /* cleared: a stamp, no value */
  s.rec.deleted = 1;
  set_stamp(&s.del, 3000, "dev-b");
  char *text = kj_rstate_store_encode(&s);
  assert_non_null(text);
  /* fields by name, never by position */
  assert_non_null(strstr(text, "\"resolution\":\"diperbaiki\""));
  assert_non_null(strstr(text, "\"category\":\"2000/dev-b\""));
  kj_rstate back;
  kj_err e;
  assert_int_equal(kj_rstate_store_decode(text, KJ_T_COMPLAINT, UUID, 1, &back, &e), KJ_OK);
  const kj_type_def *t = kj_type(KJ_T_COMPLAINT);
  for (int i = 0; i < t->nfields; i++) {
    if (s.rec.v[i])
      assert_string_equal(back.rec.v[i], s.rec.v[i]);
    else
      assert_null(back.rec.v[i]);
    assert_int_equal(back.st[i].hlc, s.st[i].hlc);
    assert_string_equal(back.st[i].device, s.st[i].device);
  }
  assert_int_equal(back.del.hlc, 3000);
  assert_true(back.rec.deleted);
  kj_rstate_release(&back);
  cJSON_free(text);
  kj_rstate_release(&s);

  /* one stamp for the whole record is written once */
  kj_rstate one;
  complaint_state(&one);
  for (int i = 0; i < t->nfields; i++)
    if (one.rec.v[i])
      set_stamp(&one.st[i], 7, "dev-a");
  text = kj_rstate_store_encode(&one);
  assert_non_null(strstr(text, "\"s\":\"7/dev-a\""));
  assert_null(strstr(text, "\"t\""));
  cJSON_free(text);
  kj_rstate_release(&one);

  const char *bad[] = {"[]", "{\"f\":{\"summary\":\"x\"}}", "{\"f\":{},\"s\":5}",
                       "{\"f\":{},\"q\":1}", "{\"f\":{\"summary\":7},\"s\":\"1/d\"}"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(kj_rstate_store_decode(bad[i], KJ_T_COMPLAINT, UUID, 0, &back, &e), KJ_EPROTO);
}

static void test_errors(void **state) {
  (void)state;
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_error_encode(&b, "no route '/x'"), KJ_OK);
  assert_string_equal(kj_buf_str(&b), "{\"error\":\"no route '/x'\"}\n");
  char msg[64];
  assert_int_equal(kj_error_decode(kj_buf_str(&b), b.len, msg, sizeof msg), KJ_OK);
  assert_string_equal(msg, "no route '/x'");
  assert_int_equal(kj_error_decode("<html>", 6, msg, sizeof msg), KJ_EPROTO);
  assert_string_equal(msg, "");
  kj_buf_reset(&b);
  assert_int_equal(kj_health_encode(&b), KJ_OK);
  assert_string_equal(kj_buf_str(&b), "{\"status\":\"ok\"}\n");
  kj_buf_release(&b);
}

/* The PC's report at pull (docs/protocol.md "What the PC reports"): the
 * query the client appends and the server's reading of it, and what each
 * side refuses. */
static void test_device_report(void **state) {
  (void)state;
  kj_err e;
  kj_err_clear(&e);
  char q[128];
  kj_device_report r = {.version = "0.2.0", .pending = 12, .rejected = 3};
  assert_int_equal(kj_device_report_query(&r, q, sizeof q, &e), KJ_OK);
  assert_string_equal(q, "&version=0.2.0&pending=12&rejected=3");
  kj_device_report back;
  assert_int_equal(kj_device_report_parse("0.2.0", "12", "3", &back, &e), KJ_OK);
  assert_string_equal(back.version, "0.2.0");
  assert_int_equal(back.pending, 12);
  assert_int_equal(back.rejected, 3);
  /* a PC of an earlier release sends none */
  assert_int_equal(kj_device_report_parse(NULL, NULL, NULL, &back, &e), KJ_ENOENT);
  /* malformed: named */
  assert_int_equal(kj_device_report_parse("0.2.0", "-1", "0", &back, &e), KJ_EPROTO);
  assert_non_null(strstr(e.msg, "'pending'"));
  assert_int_equal(kj_device_report_parse("0.2.0", "1", "9007199254740992", &back, &e), KJ_EPROTO);
  assert_non_null(strstr(e.msg, "'rejected'"));
  assert_int_equal(kj_device_report_parse("0.2.0", "1", NULL, &back, &e), KJ_EPROTO);
  assert_non_null(strstr(e.msg, "'rejected'"));
  assert_int_equal(kj_device_report_parse("0.2 beta", "1", "1", &back, &e), KJ_EPROTO);
  assert_non_null(strstr(e.msg, "'version'"));
  assert_int_equal(kj_device_report_parse("", "1", "1", &back, &e), KJ_EPROTO);
  kj_device_report bad = {.version = "a&b=c", .pending = 0, .rejected = 0};
  assert_int_equal(kj_device_report_query(&bad, q, sizeof q, &e), KJ_EINVAL);
  kj_device_report neg = {.version = "1", .pending = -5, .rejected = 0};
  assert_int_equal(kj_device_report_query(&neg, q, sizeof q, &e), KJ_EINVAL);
  assert_non_null(strstr(e.msg, "'pending'"));
  assert_int_equal(kj_device_report_query(&r, q, 10, &e), KJ_ETOOBIG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_since),
      cmocka_unit_test(test_service_id),
      cmocka_unit_test(test_hello),
      cmocka_unit_test(test_push),
      cmocka_unit_test(test_push_results),
      cmocka_unit_test(test_push_refusal),
      cmocka_unit_test(test_pull_moved),
      cmocka_unit_test(test_pull_for_each_protocol),
      cmocka_unit_test(test_unknown_fields_kept),
      cmocka_unit_test(test_store_form),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_device_report),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
