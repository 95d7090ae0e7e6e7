/* test_msg_restore.c - the restore keys of the protocol's messages
 * (proto/msg.h; docs/protocol.md "Restores"): the push's incarnation, the
 * statuses 'reused' and 'missing', device_high, the pull page's epoch, and
 * the digest of a change. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "merge.h"
#include "msg.h"

#define UUID "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b"
/* kj_change_digest of awkward_changes()[0], as the release before the
 * fast writer computed it */
#define PINNED_DIGEST "34e535f5c06d189f799c9de4034ee282"

static void survey_change(kj_change *ch, int64_t seq, const char *u1) {
  kj_change_init(ch, KJ_T_SURVEY);
  snprintf(ch->rec.id, sizeof ch->rec.id, UUID);
  int i = kj_field_index(kj_type(KJ_T_SURVEY), "u1");
  assert_true(i >= 0);
  assert_int_equal(kj_record_set(&ch->rec, i, u1), KJ_OK);
  ch->mask = 1u << i;
  ch->hlc = 116159348736049152ull;
  ch->seq = seq;
}

static void test_incarnation_valid(void **state) {
  (void)state;
  assert_true(kj_incarnation_valid(""));
  assert_true(kj_incarnation_valid("9f2c0a1b2c3d4e5f"));
  assert_true(kj_incarnation_valid("01234567890123456789012345678901"));   /* 32 */
  assert_false(kj_incarnation_valid("012345678901234567890123456789012")); /* 33 */
  assert_false(kj_incarnation_valid("9F2C"));
  assert_false(kj_incarnation_valid("a/b"));
  assert_false(kj_incarnation_valid("a b"));
  assert_false(kj_incarnation_valid(NULL));
}

/* The digest names the change as sent: the same change (its device set or
 * not) gives the same digest, another value or seq another one. */
static void test_digest(void **state) {
  (void)state;
  kj_change a, b, c, d;
  survey_change(&a, 7, "4");
  survey_change(&b, 7, "4");
  snprintf(b.device, sizeof b.device, "dev-1a2b3c4d");
  survey_change(&c, 7, "3");
  survey_change(&d, 8, "4");
  unsigned char da[KJ_CHANGE_DIGEST_LEN], db[KJ_CHANGE_DIGEST_LEN], dc[KJ_CHANGE_DIGEST_LEN],
      dd[KJ_CHANGE_DIGEST_LEN];
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kj_change_digest(&a, da, &e), KJ_OK);
  assert_int_equal(kj_change_digest(&b, db, &e), KJ_OK);
  assert_int_equal(kj_change_digest(&c, dc, &e), KJ_OK);
  assert_int_equal(kj_change_digest(&d, dd, &e), KJ_OK);
  assert_memory_equal(da, db, KJ_CHANGE_DIGEST_LEN);
  assert_memory_not_equal(da, dc, KJ_CHANGE_DIGEST_LEN);
  assert_memory_not_equal(da, dd, KJ_CHANGE_DIGEST_LEN);
  kj_change_release(&a);
  kj_change_release(&b);
  kj_change_release(&c);
  kj_change_release(&d);
}

/* Changes whose JSON text is awkward: every escape cJSON writes, bytes
 * above 0x7f, a cleared field, a delete, an author, seqs past an int. */
static void awkward_changes(kj_change ch[6]) {
  static const char *const vals[] = {"4", "a\"b\\c\bd\fe\nf\rg\th\x01i\x1fj",
                                     "Rp 1.000 \xc3\xa9\xe2\x82\xac", "", "/"};
  int64_t seqs[] = {0, 2147483647, 2147483648LL, 9007199254740991LL, 123456789012345678LL, 5};
  for (int k = 0; k < 6; k++) {
    survey_change(&ch[k], seqs[k], vals[k % 5]);
    int j = kj_field_index(kj_type(KJ_T_SURVEY), "comment");
    if (j >= 0 && k % 2) {
      assert_int_equal(kj_record_set(&ch[k].rec, j, k == 3 ? NULL : vals[(k + 1) % 5]), KJ_OK);
      ch[k].mask |= 1u << j;
    }
  }
  snprintf(ch[2].author, sizeof ch[2].author, "operator");
  snprintf(ch[3].device, sizeof ch[3].device, "dev-1a2b3c4d");
  ch[4].rec.deleted = 1;
  ch[4].mask = 0;
}

/* The digest written straight is the digest of its definition (cJSON's
 * text of kj_change_to_json, "device" left out), byte for byte, and that
 * definition has not moved (a digest stored by an older server must match
 * the same change sent again). */
static void test_digest_definition(void **state) {
  (void)state;
  kj_change ch[6];
  awkward_changes(ch);
  kj_err e;
  kj_err_clear(&e);
  for (int k = 0; k < 6; k++) {
    unsigned char fast[KJ_CHANGE_DIGEST_LEN], slow[KJ_CHANGE_DIGEST_LEN];
    assert_int_equal(kj_change_digest(&ch[k], fast, &e), KJ_OK);
    assert_int_equal(kj_change_digest_tree(&ch[k], slow, &e), KJ_OK);
    assert_memory_equal(fast, slow, KJ_CHANGE_DIGEST_LEN);
  }
  unsigned char d[KJ_CHANGE_DIGEST_LEN];
  assert_int_equal(kj_change_digest(&ch[0], d, &e), KJ_OK);
  char hex[2 * KJ_CHANGE_DIGEST_LEN + 1];
  for (size_t i = 0; i < KJ_CHANGE_DIGEST_LEN; i++)
    snprintf(hex + 2 * i, 3, "%02x", d[i]);
  assert_string_equal(hex, PINNED_DIGEST);
  for (int k = 0; k < 6; k++)
    kj_change_release(&ch[k]);
}

static void sha256_ref(const void *data, size_t len, unsigned char out[32]) {
  mbedtls_sha256_ret((const unsigned char *)data, len, out, 0);
}

/* The digest with its text kept (the server's, kj_change_digest_text):
 * the same digest as kj_change_digest, texts appended one after another
 * to one buffer, and each text's tail is the change's history body as
 * kj_change_body_json writes it. */
static void test_digest_text(void **state) {
  (void)state;
  kj_change ch[6];
  awkward_changes(ch);
  kj_err e;
  kj_err_clear(&e);
  kj_buf text;
  kj_buf_init(&text, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_buf_adds(&text, "before"), KJ_OK);
  size_t body[6];
  for (int k = 0; k < 6; k++) {
    unsigned char d[KJ_CHANGE_DIGEST_LEN], want[KJ_CHANGE_DIGEST_LEN];
    size_t at = text.len;
    assert_int_equal(kj_change_digest_text(&ch[k], sha256_ref, &text, &body[k], d, &e), KJ_OK);
    assert_int_equal(kj_change_digest(&ch[k], want, &e), KJ_OK);
    assert_memory_equal(d, want, KJ_CHANGE_DIGEST_LEN);
    assert_true(body[k] > at && body[k] < text.len);
    assert_int_equal(text.data[text.len - 1], 0);
  }
  assert_memory_equal(text.data, "before", 6);
  for (int k = 0; k < 6; k++) {
    kj_buf b;
    kj_buf_init(&b, KJ_BUF_UNLIMITED);
    assert_int_equal(kj_change_body_json(&ch[k], &b, &e), KJ_OK);
    assert_string_equal(text.data + body[k], kj_buf_str(&b));
    kj_buf_release(&b);
    kj_change_release(&ch[k]);
  }
  kj_buf_release(&text);
}

/* The writers put the type table's field names into JSON without escaping
 * them (msg.c json_key): every name is [a-z0-9_]. */
static void test_field_names_plain(void **state) {
  (void)state;
  for (int ty = 0; ty < KJ_T__COUNT; ty++) {
    const kj_type_def *t = kj_type((kj_rtype)ty);
    for (int i = 0; t && i < t->nfields; i++) {
      const char *n = t->fields[i].name;
      assert_true(n[0] != 0);
      for (const char *p = n; *p; p++)
        assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_');
    }
  }
}

/* The history's text of a change is kj_change_to_json less its head, as
 * cJSON prints it. */
static void test_body_json(void **state) {
  (void)state;
  kj_change ch[6];
  awkward_changes(ch);
  kj_err e;
  kj_err_clear(&e);
  for (int k = 0; k < 6; k++) {
    kj_buf b;
    kj_buf_init(&b, KJ_BUF_UNLIMITED);
    assert_int_equal(kj_change_body_json(&ch[k], &b, &e), KJ_OK);
    cJSON *o = kj_change_to_json(&ch[k]);
    static const char *const cols[] = {"seq", "id", "type", "hlc", "device", "author"};
    for (size_t i = 0; i < sizeof cols / sizeof *cols; i++)
      cJSON_DeleteItemFromObjectCaseSensitive(o, cols[i]);
    char *want = cJSON_PrintUnformatted(o);
    assert_string_equal(kj_buf_str(&b), want);
    free(want);
    cJSON_Delete(o);
    kj_buf_release(&b);
    kj_change_release(&ch[k]);
  }
}

/* A state written straight is the text cJSON prints of kj_rstate_to_json
 * (unknown fields, cleared fields, a delete stamp included) and reads back
 * the same. */
static void test_state_json(void **state) {
  (void)state;
  static const char *const text[] = {
      "{\"id\":\"" UUID "\",\"type\":\"survey\",\"del\":false,\"f\":{\"office\":\"36.73.01\","
      "\"u1\":\"q\\\"\\u0001\\n\xc3\xa9\",\"zz_new\":\"x\"},\"t\":{\"office\":\"5/dev-1\","
      "\"u1\":\"7/dev-2\",\"comment\":\"9/dev-3\",\"zz_new\":\"8/dev-4\",\"zz_gone\":\"6/dev-5\"}}",
      "{\"id\":\"" UUID "\",\"type\":\"survey\",\"del\":true,\"f\":{},\"t\":{},"
      "\"dt\":\"116159348736049152/dev-1a2b3c4d\"}",
  };
  kj_err e;
  kj_err_clear(&e);
  for (size_t k = 0; k < sizeof text / sizeof *text; k++) {
    cJSON *in = cJSON_Parse(text[k]);
    assert_non_null(in);
    kj_rstate s;
    assert_int_equal(kj_rstate_from_json(in, &s, &e), KJ_OK);
    cJSON_Delete(in);
    kj_buf b;
    kj_buf_init(&b, KJ_BUF_UNLIMITED);
    assert_int_equal(kj_rstate_json(&s, &b, &e), KJ_OK);
    cJSON *o = kj_rstate_to_json(&s);
    char *want = cJSON_PrintUnformatted(o);
    assert_string_equal(kj_buf_str(&b), want);
    free(want);
    cJSON_Delete(o);
    kj_rstate t;
    cJSON *back = cJSON_Parse(kj_buf_str(&b));
    assert_int_equal(kj_rstate_from_json(back, &t, &e), KJ_OK);
    cJSON_Delete(back);
    kj_buf c;
    kj_buf_init(&c, KJ_BUF_UNLIMITED);
    assert_int_equal(kj_rstate_json(&t, &c, &e), KJ_OK);
    assert_string_equal(kj_buf_str(&b), kj_buf_str(&c));
    kj_buf_release(&b);
    kj_buf_release(&c);
    kj_rstate_release(&s);
    kj_rstate_release(&t);
  }
}

/* With the arena of kj_json_arena_install, a push's values are lent from
 * the request, not copied: they outlive the change taken out of it until
 * kj_push_req_release, and a state merged from a lending change points at
 * them too; releasing the state, then the change, then the request frees
 * each once (ASan's build checks).  Without c.lend the state copies. */
static void test_push_lent(void **state) {
  (void)state;
  kj_json_arena_install();
  kj_change ch[2];
  survey_change(&ch[0], 3, "2");
  survey_change(&ch[1], 4, "5");
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kj_push_encode_inc(&b, 1772500000000, "", ch, 2, 2, &e), KJ_OK);
  kj_push_req req;
  assert_int_equal(kj_push_decode(kj_buf_str(&b), b.len, 10, &req, &e), KJ_OK);
  kj_buf_release(&b);
  assert_int_equal(req.n, 2);
  assert_non_null(req.arena);
  int u1 = kj_field_index(kj_type(KJ_T_SURVEY), "u1");
  kj_change c = req.e[1].ch; /* taken out, as kinerjad's push does */
  req.e[1].ok = 0;
  assert_true((c.rec.lent >> u1) & 1u);
  assert_string_equal(c.rec.v[u1], "5");
  snprintf(c.device, sizeof c.device, "dev-1");
  for (int lend = 0; lend < 2; lend++) {
    c.lend = lend;
    kj_rstate s;
    kj_rstate_init(&s, KJ_T_NONE);
    int changed = 0;
    assert_int_equal(kj_merge_apply(&s, &c, NULL, NULL, &changed, &e), KJ_OK);
    assert_int_equal(changed, 1);
    assert_string_equal(s.rec.v[u1], "5");
    if (lend)
      assert_ptr_equal(s.rec.v[u1], c.rec.v[u1]);
    else
      assert_ptr_not_equal(s.rec.v[u1], c.rec.v[u1]);
    /* a value set afterwards is the state's own again */
    assert_int_equal(kj_record_set(&s.rec, u1, "3"), KJ_OK);
    assert_false((s.rec.lent >> u1) & 1u);
    kj_rstate_release(&s);
  }
  kj_change_release(&c);
  assert_string_equal(req.e[0].ch.rec.v[u1], "2");
  kj_push_req_release(&req);
  assert_null(req.arena);
  kj_change_release(&ch[0]);
  kj_change_release(&ch[1]);
}

/* The push carries the incarnation when there is one; the server reads it
 * back and refuses a malformed one. */
static void test_push_incarnation(void **state) {
  (void)state;
  kj_change ch;
  survey_change(&ch, 3, "2");
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kj_push_encode_inc(&b, 1772500000000, "9f2c", &ch, 1, 2, &e), KJ_OK);
  assert_non_null(strstr(kj_buf_str(&b), "\"incarnation\":\"9f2c\""));
  kj_push_req req;
  assert_int_equal(kj_push_decode(kj_buf_str(&b), b.len, 10, &req, &e), KJ_OK);
  assert_string_equal(req.incarnation, "9f2c");
  assert_int_equal(req.n, 1);
  kj_push_req_release(&req);
  kj_buf_reset(&b);
  assert_int_equal(kj_push_encode_inc(&b, 1772500000000, "", &ch, 1, 2, &e), KJ_OK);
  assert_null(strstr(kj_buf_str(&b), "incarnation"));
  assert_int_equal(kj_push_decode(kj_buf_str(&b), b.len, 10, &req, &e), KJ_OK);
  assert_string_equal(req.incarnation, "");
  kj_push_req_release(&req);
  static const char *const bad[] = {
      "{\"incarnation\":\"\",\"changes\":[]}", "{\"incarnation\":\"A/B\",\"changes\":[]}",
      "{\"incarnation\":7,\"changes\":[]}",
      "{\"incarnation\":\"012345678901234567890123456789012\",\"changes\":[]}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    kj_err_clear(&e);
    assert_int_equal(kj_push_decode(bad[i], strlen(bad[i]), 10, &req, &e), KJ_EPROTO);
    assert_non_null(strstr(e.msg, "'incarnation'"));
  }
  kj_buf_release(&b);
  kj_change_release(&ch);
}

/* Results: 'reused' and 'missing' and device_high round-trip; a server
 * without them gives device_high -1. */
static void test_results(void **state) {
  (void)state;
  kj_push_result r[3] = {{1, KJ_PUSH_APPLIED, NULL, 0, NULL},
                         {2, KJ_PUSH_REUSED, "seq 2 holds another change", 0, NULL},
                         {3, KJ_PUSH_MISSING, "the server does not hold this record", 0, NULL}};
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kj_push_results_encode_high(&b, r, 3, 1772500000000, 57, &e), KJ_OK);
  kj_push_answer a;
  assert_int_equal(kj_push_answer_decode(kj_buf_str(&b), b.len, &a, &e), KJ_OK);
  assert_int_equal(a.n, 3);
  assert_int_equal(a.r[0].status, KJ_PUSH_APPLIED);
  assert_int_equal(a.r[1].status, KJ_PUSH_REUSED);
  assert_int_equal(a.r[2].status, KJ_PUSH_MISSING);
  assert_int_equal(a.device_high, 57);
  kj_push_answer_release(&a);
  kj_buf_reset(&b);
  assert_int_equal(kj_push_results_encode(&b, r, 1, 1772500000000, &e), KJ_OK);
  assert_null(strstr(kj_buf_str(&b), "device_high"));
  assert_int_equal(kj_push_answer_decode(kj_buf_str(&b), b.len, &a, &e), KJ_OK);
  assert_int_equal(a.device_high, -1);
  kj_push_answer_release(&a);
  /* the answer is written straight: the text cJSON printed before, byte
   * for byte (a rejection with its error escaped and "retry", a null seq) */
  kj_push_result x[3] = {{-1, KJ_PUSH_REJECTED, "changes[0]: \"x\"\n", 1, NULL},
                         {2147483648LL, KJ_PUSH_DUPLICATE, NULL, 0, NULL},
                         {9, KJ_PUSH_REJECTED, NULL, 0, NULL}};
  kj_buf_reset(&b);
  assert_int_equal(kj_push_results_encode_high(&b, x, 3, 1772500000000, 0, &e), KJ_OK);
  char want[400];
  snprintf(
      want, sizeof want,
      "{\"results\":[{\"seq\":null,\"status\":\"rejected\",\"error\":\"changes[0]: "
      "\\\"x\\\"\\n\",\"retry\":true},{\"seq\":2147483648,\"status\":\"duplicate\"},{\"seq\":9,"
      "\"status\":\"rejected\",\"error\":\"\"}],\"server_time\":1772500000000,\"protocol\":%d,"
      "\"device_high\":0}",
      KJ_PROTOCOL_MAX);
  assert_string_equal(kj_buf_str(&b), want);
  kj_buf_release(&b);
}

/* A pull page carries the epoch and device_high; a malformed epoch is
 * neither written nor read. */
static void test_pull_page(void **state) {
  (void)state;
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  kj_err e;
  kj_err_clear(&e);
  kj_pull_restore x = {"4b1d09e2a7c35f60", 12};
  assert_int_equal(kj_pull_begin(&b), KJ_OK);
  assert_int_equal(kj_pull_end_restore(&b, "5", 0, 1772500000000, NULL, NULL, &x), KJ_OK);
  kj_pull_page p;
  assert_int_equal(kj_pull_page_decode(kj_buf_str(&b), b.len, &p, &e), KJ_OK);
  assert_string_equal(p.epoch, "4b1d09e2a7c35f60");
  assert_int_equal(p.device_high, 12);
  assert_string_equal(p.next, "5");
  kj_pull_page_release(&p);
  static const char *const old = "{\"changes\":[],\"next\":\"5\",\"more\":false}";
  assert_int_equal(kj_pull_page_decode(old, strlen(old), &p, &e), KJ_OK);
  assert_string_equal(p.epoch, "");
  assert_int_equal(p.device_high, -1);
  kj_pull_page_release(&p);
  static const char *const bad = "{\"changes\":[],\"next\":\"5\",\"more\":false,\"epoch\":\"X Y\"}";
  assert_int_equal(kj_pull_page_decode(bad, strlen(bad), &p, &e), KJ_OK);
  assert_string_equal(p.epoch, "");
  kj_pull_page_release(&p);
  kj_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_incarnation_valid), cmocka_unit_test(test_digest),
      cmocka_unit_test(test_push_incarnation),  cmocka_unit_test(test_results),
      cmocka_unit_test(test_pull_page),         cmocka_unit_test(test_digest_definition),
      cmocka_unit_test(test_body_json),         cmocka_unit_test(test_state_json),
      cmocka_unit_test(test_digest_text),       cmocka_unit_test(test_field_names_plain),
      cmocka_unit_test(test_push_lent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
