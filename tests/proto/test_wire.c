/* test_wire.c - changes and record states to JSON and back; bad shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define UUID "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b"

static void assert_record_equal(const kj_record *a, const kj_record *b) {
  assert_int_equal(a->type, b->type);
  assert_string_equal(a->id, b->id);
  assert_int_equal(a->deleted, b->deleted);
  for (int i = 0; i < KJ_MAX_FIELDS; i++) {
    if (!a->v[i] || !b->v[i])
      assert_ptr_equal(a->v[i], b->v[i]);
    else
      assert_string_equal(a->v[i], b->v[i]);
  }
}

/* JSON text -> change via kj_change_from_json. */
static kj_code change_from_text(const char *text, kj_change *c, kj_err *err) {
  cJSON *o = cJSON_Parse(text);
  assert_non_null(o);
  kj_code rc = kj_change_from_json(o, c, err);
  cJSON_Delete(o);
  return rc;
}

static void round_trip_change(const kj_change *c) {
  cJSON *o = kj_change_to_json(c);
  assert_non_null(o);
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  kj_change back;
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(change_from_text(text, &back, &e), KJ_OK);
  free(text);
  assert_int_equal(back.seq, c->seq);
  assert_true(back.hlc == c->hlc);
  assert_string_equal(back.device, c->device);
  assert_int_equal(back.mask, c->rec.deleted ? 0 : c->mask);
  assert_record_equal(&back.rec, &c->rec);
  kj_change_release(&back);
}

static void test_change_round_trip(void **state) {
  (void)state;
  kj_change c;
  kj_change_init(&c, KJ_T_SURVEY);
  strcpy(c.rec.id, UUID);
  c.seq = 12;
  c.hlc = KJ_HLC_MAKE(1767225600000ull, 7);
  strcpy(c.device, "dev-a");
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  int iu1 = kj_field_index(t, "u1"), ic = kj_field_index(t, "comment"),
      io = kj_field_index(t, "office");
  kj_record_set(&c.rec, iu1, "4");
  kj_record_set(&c.rec, io, "36.73.01");
  kj_record_set(&c.rec, ic, NULL);
  c.mask = (1u << iu1) | (1u << io) | (1u << ic);
  round_trip_change(&c);

  /* the text is what docs/protocol.md shows */
  cJSON *o = kj_change_to_json(&c);
  char *text = cJSON_PrintUnformatted(o);
  char want[512];
  snprintf(want, sizeof(want),
           "{\"seq\":12,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"device\":\"dev-a\","
           "\"f\":{\"office\":\"36.73.01\",\"u1\":\"4\",\"comment\":null}}",
           UUID, (unsigned long long)c.hlc);
  assert_string_equal(text, want);
  free(text);
  cJSON_Delete(o);

  /* unicode, quotes and newlines survive; the largest stamp is exact */
  kj_record_set(&c.rec, ic, "Pelayanan \"cepat\"\nterima kasih \xc3\xa9\xf0\x9f\x98\x80");
  c.hlc = UINT64_MAX;
  c.device[0] = '\0';
  c.seq = 0;
  round_trip_change(&c);

  /* a delete: no "f" */
  c.rec.deleted = 1;
  o = kj_change_to_json(&c);
  assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "del")));
  assert_null(cJSON_GetObjectItem(o, "f"));
  assert_null(cJSON_GetObjectItem(o, "device"));
  cJSON_Delete(o);
  kj_change_release(&c);

  kj_change d;
  kj_err e;
  assert_int_equal(change_from_text("{\"id\":\"" UUID "\",\"type\":\"activity\",\"hlc\":\"99\","
                                    "\"del\":true}",
                                    &d, &e),
                   KJ_OK);
  assert_int_equal(d.rec.deleted, 1);
  assert_int_equal(d.rec.type, KJ_T_ACTIVITY);
  assert_int_equal(d.mask, 0);
  assert_true(d.hlc == 99);
  assert_int_equal(d.seq, 0);
  kj_change_release(&d);

  /* master types travel too */
  assert_int_equal(change_from_text("{\"id\":\"198001012005011001\",\"type\":\"employee\","
                                    "\"hlc\":\"5\",\"f\":{\"office\":\"36.73.04\"}}",
                                    &d, &e),
                   KJ_OK);
  assert_string_equal(kj_record_office(&d.rec), "36.73.04");
  kj_change_release(&d);
}

typedef struct bad_case {
  const char *json;
  const char *want;
} bad_case;

#define HEAD "\"id\":\"" UUID "\",\"type\":\"survey\","

static const bad_case k_bad_changes[] = {
    {"[]", "must be an object"},
    {"\"x\"", "must be an object"},
    {"{\"id\":\"" UUID "\",\"hlc\":\"1\",\"f\":{}}", "'type': must be a string"},
    {"{\"id\":\"" UUID "\",\"type\":3,\"hlc\":\"1\",\"f\":{}}", "'type': must be a string"},
    {"{\"id\":\"" UUID "\",\"type\":\"bogus\",\"hlc\":\"1\",\"f\":{}}", "unknown type 'bogus'"},
    {"{\"id\":\"" UUID "\",\"type\":\"surveys\",\"hlc\":\"1\",\"f\":{}}", "unknown type 'surveys'"},
    {"{\"type\":\"survey\",\"hlc\":\"1\",\"f\":{}}",
     "'id': must be a string of 1 to 36 characters"},
    {"{\"id\":7,\"type\":\"survey\",\"hlc\":\"1\",\"f\":{}}",
     "'id': must be a string of 1 to 36 characters"},
    {"{\"id\":\"\",\"type\":\"survey\",\"hlc\":\"1\",\"f\":{}}",
     "'id': must be a string of 1 to 36 characters"},
    {"{\"id\":\"" UUID "0\",\"type\":\"survey\",\"hlc\":\"1\",\"f\":{}}",
     "'id': must be a string of 1 to 36 characters"},
    {"{" HEAD "\"f\":{}}", "'hlc': must be a stamp (a decimal string)"},
    {"{" HEAD "\"hlc\":1234,\"f\":{}}", "'hlc': must be a stamp (a decimal string)"},
    {"{" HEAD "\"hlc\":\"12a\",\"f\":{}}", "'hlc': must be a stamp (a decimal string)"},
    {"{" HEAD "\"hlc\":\"0\",\"f\":{}}", "'hlc': must be a stamp (a decimal string)"},
    {"{" HEAD "\"hlc\":\"-1\",\"f\":{}}", "'hlc': must be a stamp (a decimal string)"},
    {"{" HEAD "\"hlc\":\"\",\"f\":{}}", "'hlc': must be a stamp (a decimal string)"},
    {"{" HEAD "\"hlc\":\"18446744073709551616\",\"f\":{}}",
     "'hlc': must be a stamp (a decimal string)"},
    {"{" HEAD "\"hlc\":\"1\",\"seq\":\"3\",\"f\":{}}", "'seq': must be a whole number >= 0"},
    {"{" HEAD "\"hlc\":\"1\",\"seq\":-1,\"f\":{}}", "'seq': must be a whole number >= 0"},
    {"{" HEAD "\"hlc\":\"1\",\"seq\":1.5,\"f\":{}}", "'seq': must be a whole number >= 0"},
    {"{" HEAD "\"hlc\":\"1\",\"del\":\"yes\"}", "'del': must be true or false"},
    {"{" HEAD "\"hlc\":\"1\",\"del\":true,\"f\":{\"u1\":\"1\"}}", "a delete sets no fields"},
    {"{" HEAD "\"hlc\":\"1\"}", "'f': is required"},
    {"{" HEAD "\"hlc\":\"1\",\"del\":false}", "'f': is required"},
    {"{" HEAD "\"hlc\":\"1\",\"f\":[]}", "'f': must be an object"},
    {"{" HEAD "\"hlc\":\"1\",\"f\":{\"u1\":4}}", "field 'u1': must be a string or null"},
    {"{" HEAD "\"hlc\":\"1\",\"f\":{\"u1\":true}}", "field 'u1': must be a string or null"},
    {"{" HEAD "\"hlc\":\"1\",\"f\":{\"u1\":{}}}", "field 'u1': must be a string or null"},
    {"{" HEAD "\"hlc\":\"1\",\"f\":{\"u10\":\"1\"}}", "unknown field 'u10'"},
    {"{" HEAD "\"hlc\":\"1\",\"f\":{\"id\":\"1\"}}", "unknown field 'id'"},
    {"{" HEAD "\"hlc\":\"1\",\"f\":{\"u1\":\"1\",\"u1\":\"2\"}}", "field 'u1': given twice"},
    {"{" HEAD "\"hlc\":\"1\",\"f\":{},\"x\":1}", "unknown key 'x'"},
    {"{" HEAD "\"hlc\":\"1\",\"f\":{},\"device\":\"\"}",
     "'device': must be 1 to 40 characters other than '/'"},
    {"{" HEAD "\"hlc\":\"1\",\"f\":{},\"device\":\"a/b\"}",
     "'device': must be 1 to 40 characters other than '/'"},
    {"{" HEAD "\"hlc\":\"1\",\"f\":{},\"device\":5}",
     "'device': must be 1 to 40 characters other than '/'"},
};

static void test_change_rejects(void **state) {
  (void)state;
  int failed = 0;
  for (size_t i = 0; i < sizeof(k_bad_changes) / sizeof(k_bad_changes[0]); i++) {
    kj_change c;
    kj_err e;
    kj_err_clear(&e);
    kj_code rc = change_from_text(k_bad_changes[i].json, &c, &e);
    if (rc != KJ_EPROTO || strcmp(e.msg, k_bad_changes[i].want) != 0) {
      print_error("case %zu %s: rc %d \"%s\", want \"%s\"\n", i, k_bad_changes[i].json, rc, e.msg,
                  k_bad_changes[i].want);
      failed++;
    }
    kj_change_release(&c); /* harmless after a failure */
  }
  assert_int_equal(failed, 0);
}

static kj_code state_from_text(const char *text, kj_rstate *s, kj_err *err) {
  cJSON *o = cJSON_Parse(text);
  assert_non_null(o);
  kj_code rc = kj_rstate_from_json(o, s, err);
  cJSON_Delete(o);
  return rc;
}

static void test_state_round_trip(void **state) {
  (void)state;
  kj_rstate s;
  kj_rstate_init(&s, KJ_T_COMPLAINT);
  strcpy(s.rec.id, UUID);
  const kj_type_def *t = kj_type(KJ_T_COMPLAINT);
  int io = kj_field_index(t, "office"), ir = kj_field_index(t, "received"),
      ic = kj_field_index(t, "category");
  kj_record_set(&s.rec, io, "36.73.04");
  kj_record_set(&s.rec, ir, "2026-01-05");
  s.st[io] = (kj_stamp){.hlc = 100, .device = "dev-a"};
  s.st[ir] = (kj_stamp){.hlc = 200, .device = "dev-b"};
  s.st[ic] = (kj_stamp){.hlc = 300, .device = "central"}; /* cleared */

  for (int pass = 0; pass < 2; pass++) {
    cJSON *o = kj_rstate_to_json(&s);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (pass == 0)
      assert_string_equal(text, "{\"id\":\"" UUID "\",\"type\":\"complaint\",\"del\":false,"
                                "\"f\":{\"office\":\"36.73.04\",\"received\":\"2026-01-05\"},"
                                "\"s\":\"100/dev-a\",\"t\":{\"received\":\"200/dev-b\","
                                "\"category\":\"300/central\"}}");
    kj_rstate back;
    kj_err e;
    assert_int_equal(state_from_text(text, &back, &e), KJ_OK);
    free(text);
    assert_record_equal(&back.rec, &s.rec);
    for (int i = 0; i < KJ_MAX_FIELDS; i++) {
      assert_true(back.st[i].hlc == s.st[i].hlc);
      assert_string_equal(back.st[i].device, s.st[i].device);
    }
    assert_true(back.del.hlc == s.del.hlc);
    assert_string_equal(back.del.device, s.del.device);
    kj_rstate_release(&back);
    /* second pass: a tombstone */
    s.rec.deleted = 1;
    s.del = (kj_stamp){.hlc = 400, .device = "dev-a"};
  }
  kj_rstate_release(&s);
}

/* Protocol 3's state says the common stamp once ("s"); a peer of
 * protocol 2 gets every stamp in "t"; both forms are read back the same,
 * unknown fields included (docs/protocol.md "Record states"). */
static void test_state_common_stamp(void **state) {
  (void)state;
  const char *v3 = "{\"id\":\"" UUID "\",\"type\":\"survey\",\"del\":false,"
                   "\"f\":{\"u1\":\"4\",\"u2\":\"3\",\"age\":\"40\",\"later\":\"x\"},"
                   "\"s\":\"500/dev-a\",\"t\":{\"u2\":\"600/dev-b\"}}";
  kj_rstate s;
  kj_err e;
  assert_int_equal(state_from_text(v3, &s, &e), KJ_OK);
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  int u1 = kj_field_index(t, "u1"), u2 = kj_field_index(t, "u2"), age = kj_field_index(t, "age");
  assert_true(s.st[u1].hlc == 500 && !strcmp(s.st[u1].device, "dev-a"));
  assert_true(s.st[u2].hlc == 600 && !strcmp(s.st[u2].device, "dev-b"));
  assert_true(s.st[age].hlc == 500);
  kj_xfield *x = kj_rstate_xfind(&s, "later");
  assert_non_null(x);
  assert_true(x->st.hlc == 500 && !strcmp(x->value, "x"));
  /* written again: the same text (the most frequent stamp is "s") */
  cJSON *o = kj_rstate_to_json(&s);
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  assert_string_equal(text, v3);
  free(text);
  /* for a peer of protocol 2: every stamp in "t", no "s", no unknown field */
  o = kj_rstate_to_json_for(&s, 2);
  text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  assert_string_equal(text, "{\"id\":\"" UUID "\",\"type\":\"survey\",\"del\":false,"
                            "\"f\":{\"u1\":\"4\",\"u2\":\"3\",\"age\":\"40\"},"
                            "\"t\":{\"u1\":\"500/dev-a\",\"u2\":\"600/dev-b\","
                            "\"age\":\"500/dev-a\"}}");
  /* and that old form is read as it always was */
  kj_rstate back;
  assert_int_equal(state_from_text(text, &back, &e), KJ_OK);
  free(text);
  for (int i = 0; i < t->nfields; i++)
    assert_true(back.st[i].hlc == s.st[i].hlc);
  kj_rstate_release(&back);
  /* one writer for all fields: no "t" at all */
  s.st[u2] = s.st[u1];
  o = kj_rstate_to_json(&s);
  text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  assert_null(strstr(text, "\"t\":"));
  assert_non_null(strstr(text, "\"s\":\"500/dev-a\"}"));
  free(text);
  kj_rstate_release(&s);
}

#define SHEAD "{\"id\":\"" UUID "\",\"type\":\"survey\","

static const bad_case k_bad_states[] = {
    {"3", "must be an object"},
    {SHEAD "\"f\":{\"u1\":\"4\"}}", "field 'u1': has no stamp"},
    {SHEAD "\"f\":{\"u1\":\"4\"},\"t\":{\"u1\":\"1234\"}}",
     "field 'u1': bad stamp (want \"HLC/DEVICE\")"},
    {SHEAD "\"f\":{\"u1\":\"4\"},\"t\":{\"u1\":\"0/dev\"}}",
     "field 'u1': bad stamp (want \"HLC/DEVICE\")"},
    {SHEAD "\"f\":{\"u1\":\"4\"},\"t\":{\"u1\":\"abc/dev\"}}",
     "field 'u1': bad stamp (want \"HLC/DEVICE\")"},
    {SHEAD "\"f\":{\"u1\":\"4\"},\"t\":{\"u1\":\"12/\"}}",
     "field 'u1': bad stamp (want \"HLC/DEVICE\")"},
    {SHEAD "\"f\":{\"u1\":\"4\"},\"t\":{\"u1\":\"12/a b\"}}",
     "field 'u1': bad stamp (want \"HLC/DEVICE\")"},
    {SHEAD "\"f\":{\"u1\":\"4\"},\"t\":{\"u1\":12}}",
     "field 'u1': bad stamp (want \"HLC/DEVICE\")"},
    {SHEAD "\"f\":{},\"t\":[]}", "'t': must be an object"},
    {SHEAD "\"f\":{\"u1\":\"4\"},\"s\":\"1234\"}", "'s': must be a stamp \"HLC/DEVICE\""},
    {SHEAD "\"f\":{\"u1\":\"4\"},\"s\":12}", "'s': must be a stamp \"HLC/DEVICE\""},
    {SHEAD "\"f\":{},\"t\":{\"U0\":\"1/d\"}}", "unknown field 'U0'"},
    {SHEAD "\"f\":{\"u0\":\"1\"}}", "field 'u0': has no stamp"},
    {SHEAD "\"f\":{\"u1\":4},\"t\":{\"u1\":\"1/d\"}}", "field 'u1': must be a string or null"},
    {SHEAD "\"del\":true,\"f\":{}}", "'dt': must be a stamp \"HLC/DEVICE\""},
    {SHEAD "\"del\":true,\"dt\":\"5\"}", "'dt': must be a stamp \"HLC/DEVICE\""},
    {SHEAD "\"del\":false,\"dt\":\"5/d\"}", "'dt': only for a deleted record"},
    {SHEAD "\"del\":1}", "'del': must be true or false"},
    {SHEAD "\"seq\":1}", "unknown key 'seq'"},
};

static void test_state_rejects(void **state) {
  (void)state;
  int failed = 0;
  for (size_t i = 0; i < sizeof(k_bad_states) / sizeof(k_bad_states[0]); i++) {
    kj_rstate s;
    kj_err e;
    kj_err_clear(&e);
    kj_code rc = state_from_text(k_bad_states[i].json, &s, &e);
    if (rc != KJ_EPROTO || strcmp(e.msg, k_bad_states[i].want) != 0) {
      print_error("case %zu %s: rc %d \"%s\", want \"%s\"\n", i, k_bad_states[i].json, rc, e.msg,
                  k_bad_states[i].want);
      failed++;
    }
    kj_rstate_release(&s);
  }
  assert_int_equal(failed, 0);

  /* a type of a newer version is its own answer: the reader skips it */
  kj_rstate s;
  kj_err e;
  assert_int_equal(state_from_text("{\"id\":\"" UUID "\",\"type\":\"sruvey\"}", &s, &e),
                   KJ_EVERSION);
  assert_string_equal(e.msg, "unknown type 'sruvey'");
  kj_rstate_release(&s);

  /* a state with only some stamps is fine; "f" and "t" may be absent */
  assert_int_equal(state_from_text(SHEAD "\"del\":false}", &s, &e), KJ_OK);
  assert_int_equal(s.rec.type, KJ_T_SURVEY);
  kj_rstate_release(&s);
}

static void test_stamps(void **state) {
  (void)state;
  kj_stamp st;
  char buf[KJ_STAMP_STRMAX];
  assert_int_equal(kj_stamp_parse("1234/dev-a", &st), KJ_OK);
  assert_true(st.hlc == 1234);
  assert_string_equal(st.device, "dev-a");
  kj_stamp_format(&st, buf, sizeof(buf));
  assert_string_equal(buf, "1234/dev-a");

  char dev40[64], in[96];
  memset(dev40, 'd', 40);
  dev40[40] = '\0';
  snprintf(in, sizeof(in), "18446744073709551615/%s", dev40);
  assert_int_equal(kj_stamp_parse(in, &st), KJ_OK);
  assert_true(st.hlc == UINT64_MAX);
  kj_stamp_format(&st, buf, sizeof(buf));
  assert_string_equal(buf, in);
  snprintf(in, sizeof(in), "5/%sd", dev40);
  assert_int_equal(kj_stamp_parse(in, &st), KJ_EINVAL);

  static const char *const bad[] = {"",
                                    "/",
                                    "5",
                                    "5/",
                                    "/dev",
                                    "0/dev",
                                    "x5/dev",
                                    "5x/dev",
                                    "5/a/b",
                                    "5/a b",
                                    "-5/dev",
                                    "18446744073709551616/d",
                                    "123456789012345678901/d"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(kj_stamp_parse(bad[i], &st), KJ_EINVAL);
  assert_int_equal(kj_stamp_parse(NULL, &st), KJ_EINVAL);
  assert_int_equal(kj_stamp_parse("7/central", NULL), KJ_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_change_round_trip),
      cmocka_unit_test(test_change_rejects),
      cmocka_unit_test(test_state_round_trip),
      cmocka_unit_test(test_state_common_stamp),
      cmocka_unit_test(test_state_rejects),
      cmocka_unit_test(test_stamps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
