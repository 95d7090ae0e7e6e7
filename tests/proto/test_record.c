/* test_record.c - the type table and every field rule of domain.md, at its
 * boundaries, with the exact messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define UUID "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b"
#define NIP1 "198001012005011001"
#define NIP2 "199002022015022002"

/* A valid record of type t (every required field set). */
static void valid_record(kj_record *r, kj_rtype t) {
  kj_record_init(r, t);
  const char *const *kv = NULL;
  static const char *const office[] = {"code", "36.73.04", NULL};
  static const char *const employee[] = {"nip", NIP1, "office", "36.73.04", NULL};
  static const char *const indicator[] = {"id", "DOC", NULL};
  static const char *const survey[] = {
      "id", UUID, "office", "36.73.04", "date", "2026-01-05", "service", "KTP-el", "u1",
      "3",  "u2", "3",      "u3",       "3",    "u4",         "3",       "u5",     "3",
      "u6", "3",  "u7",     "3",        "u8",   "3",          "u9",      "3",      NULL};
  static const char *const activity[] = {"id",       UUID,   "office",     "36.73.04",  "nip",
                                         NIP1,       "date", "2026-01-05", "indicator", "DOC",
                                         "quantity", "1",    NULL};
  static const char *const complaint[] = {"id",       UUID,         "office", "36.73.04",
                                          "received", "2026-01-05", NULL};
  static const char *const rating[] = {
      "id", UUID,   "office", "36.73.04", "period", "2026-Q1", "rater", NIP1, "ratee",
      NIP2, "role", "atasan", "s1",       "4",      "s2",      "4",     "s3", "4",
      "s4", "4",    "s5",     "4",        "s6",     "4",       "s7",    "4",  NULL};
  static const char *const target[] = {"id",     UUID,        "office", "36.73.04", "nip",
                                       NIP1,     "indicator", "DOC",    "period",   "2026",
                                       "target", "100",       NULL};
  switch (t) {
  case KJ_T_OFFICE:
    kv = office;
    break;
  case KJ_T_EMPLOYEE:
    kv = employee;
    break;
  case KJ_T_INDICATOR:
    kv = indicator;
    break;
  case KJ_T_SURVEY:
    kv = survey;
    break;
  case KJ_T_ACTIVITY:
    kv = activity;
    break;
  case KJ_T_COMPLAINT:
    kv = complaint;
    break;
  case KJ_T_RATING:
    kv = rating;
    break;
  case KJ_T_TARGET:
    kv = target;
    break;
  default:
    fail();
  }
  for (; *kv; kv += 2)
    assert_int_equal(kj_record_set_named(r, kv[0], kv[1], NULL), KJ_OK);
}

typedef struct msgs {
  char text[2048];
  int n;
} msgs;

static void collect(void *ud, const char *msg) {
  msgs *m = ud;
  size_t len = strlen(m->text);
  snprintf(m->text + len, sizeof(m->text) - len, "%s%s", m->n ? "|" : "", msg);
  m->n++;
}

/* The problems of a valid record of type t with field `name` set to value
 * (NULL = cleared), "|"-joined; "" when valid. */
static const char *check_with(kj_rtype t, const char *name, const char *value) {
  static msgs m;
  kj_record r;
  memset(&m, 0, sizeof(m));
  valid_record(&r, t);
  if (name)
    assert_int_equal(kj_record_set_named(&r, name, value, NULL), KJ_OK);
  int n = kj_record_check(&r, collect, &m);
  assert_int_equal(n, m.n);
  /* kj_record_validate agrees: first problem, or OK */
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kj_record_validate(&r, &e);
  if (n == 0) {
    assert_int_equal(rc, KJ_OK);
  } else {
    assert_int_equal(rc, KJ_EINVAL);
    assert_memory_equal(e.msg, m.text, strlen(e.msg));
  }
  kj_record_release(&r);
  return m.text;
}

typedef struct rule_case {
  kj_rtype t;
  const char *field;
  const char *value;
  const char *want; /* "" = valid */
} rule_case;

#define OK ""
#define U_MSG(f) "field '" f "': must be an integer from 1 to 4"
#define S_MSG(f) "field '" f "': must be an integer from 1 to 5"
#define DATE_MSG(f) "field '" f "': must be a date YYYY-MM-DD"
#define PERIOD_MSG(f) "field '" f "': must be a period like 2026, 2026-Q1 or 2026-01"
#define NIP_MSG(f) "field '" f "': must be an 18-digit NIP"
#define CODE_MSG(f) "field '" f "': must be 1 to 32 of 0-9 A-Z a-z . _ -"
#define REQ(f) "field '" f "': is required"

static const rule_case k_cases[] = {
    /* every type's baseline is valid */
    {KJ_T_OFFICE, NULL, NULL, OK},
    {KJ_T_EMPLOYEE, NULL, NULL, OK},
    {KJ_T_INDICATOR, NULL, NULL, OK},
    {KJ_T_SURVEY, NULL, NULL, OK},
    {KJ_T_ACTIVITY, NULL, NULL, OK},
    {KJ_T_COMPLAINT, NULL, NULL, OK},
    {KJ_T_RATING, NULL, NULL, OK},
    {KJ_T_TARGET, NULL, NULL, OK},

    /* survey: u1..u9 integers 1-4 */
    {KJ_T_SURVEY, "u3", "0", U_MSG("u3")},
    {KJ_T_SURVEY, "u3", "1", OK},
    {KJ_T_SURVEY, "u3", "4", OK},
    {KJ_T_SURVEY, "u3", "5", U_MSG("u3")},
    {KJ_T_SURVEY, "u1", "04", OK},
    {KJ_T_SURVEY, "u1", "-1", U_MSG("u1")},
    {KJ_T_SURVEY, "u1", "+1", U_MSG("u1")},
    {KJ_T_SURVEY, "u1", "1.0", U_MSG("u1")},
    {KJ_T_SURVEY, "u1", "", U_MSG("u1")},
    {KJ_T_SURVEY, "u1", "a", U_MSG("u1")},
    {KJ_T_SURVEY, "u1", "99999999999999999999", U_MSG("u1")},
    {KJ_T_SURVEY, "u9", NULL, REQ("u9")},
    {KJ_T_SURVEY, "u9", "0", U_MSG("u9")},
    /* age 10-120 */
    {KJ_T_SURVEY, "age", "9", "field 'age': must be an integer from 10 to 120"},
    {KJ_T_SURVEY, "age", "10", OK},
    {KJ_T_SURVEY, "age", "120", OK},
    {KJ_T_SURVEY, "age", "121", "field 'age': must be an integer from 10 to 120"},
    {KJ_T_SURVEY, "age", NULL, OK},
    /* sex, education */
    {KJ_T_SURVEY, "sex", "L", OK},
    {KJ_T_SURVEY, "sex", "P", OK},
    {KJ_T_SURVEY, "sex", "l", "field 'sex': must be one of L, P"},
    {KJ_T_SURVEY, "sex", "X", "field 'sex': must be one of L, P"},
    {KJ_T_SURVEY, "sex", "", "field 'sex': must be one of L, P"},
    {KJ_T_SURVEY, "education", "SD", OK},
    {KJ_T_SURVEY, "education", "SMP", OK},
    {KJ_T_SURVEY, "education", "SMA", OK},
    {KJ_T_SURVEY, "education", "D1-D3", OK},
    {KJ_T_SURVEY, "education", "D4-S1", OK},
    {KJ_T_SURVEY, "education", "S2", OK},
    {KJ_T_SURVEY, "education", "S3", OK},
    {KJ_T_SURVEY, "education", "S1",
     "field 'education': must be one of SD, SMP, SMA, D1-D3, D4-S1, S2, S3"},
    /* date */
    {KJ_T_SURVEY, "date", NULL, REQ("date")},
    {KJ_T_SURVEY, "date", "2026-02-29", DATE_MSG("date")},
    {KJ_T_SURVEY, "date", "2028-02-29", OK},
    {KJ_T_SURVEY, "date", "2000-02-29", OK},
    {KJ_T_SURVEY, "date", "2100-02-29", DATE_MSG("date")},
    {KJ_T_SURVEY, "date", "2026-04-31", DATE_MSG("date")},
    {KJ_T_SURVEY, "date", "2026-12-31", OK},
    {KJ_T_SURVEY, "date", "2026-13-01", DATE_MSG("date")},
    {KJ_T_SURVEY, "date", "2026-00-10", DATE_MSG("date")},
    {KJ_T_SURVEY, "date", "2026-01-00", DATE_MSG("date")},
    {KJ_T_SURVEY, "date", "2026-1-05", DATE_MSG("date")},
    {KJ_T_SURVEY, "date", "05/01/2026", DATE_MSG("date")},
    {KJ_T_SURVEY, "date", "2026-01-05 ", DATE_MSG("date")},
    {KJ_T_SURVEY, "date", "1899-12-31", DATE_MSG("date")},
    {KJ_T_SURVEY, "date", "1900-01-01", OK},
    /* service 1-200 characters */
    {KJ_T_SURVEY, "service", NULL, REQ("service")},
    {KJ_T_SURVEY, "service", "", "field 'service': must be 1 to 200 characters"},
    {KJ_T_SURVEY, "service", "A", OK},
    /* office */
    {KJ_T_SURVEY, "office", NULL, REQ("office")},
    {KJ_T_SURVEY, "office", "a_b-C.9", OK},
    {KJ_T_SURVEY, "office", "12345678901234567890123456789012", OK},
    {KJ_T_SURVEY, "office", "123456789012345678901234567890123", CODE_MSG("office")},
    {KJ_T_SURVEY, "office", "36 73", CODE_MSG("office")},
    {KJ_T_SURVEY, "office", "36/73", CODE_MSG("office")},
    {KJ_T_SURVEY, "office", "", CODE_MSG("office")},
    {KJ_T_SURVEY, "occupation", "", "field 'occupation': must be 1 to 500 characters"},
    {KJ_T_SURVEY, "occupation", "petani", OK},

    /* activity */
    {KJ_T_ACTIVITY, "nip", NULL, REQ("nip")},
    {KJ_T_ACTIVITY, "indicator", NULL, REQ("indicator")},
    {KJ_T_ACTIVITY, "indicator", "DOC 1", CODE_MSG("indicator")},
    {KJ_T_ACTIVITY, "quantity", NULL, REQ("quantity")},
    {KJ_T_ACTIVITY, "quantity", "0", OK},
    {KJ_T_ACTIVITY, "quantity", "0.5", OK},
    {KJ_T_ACTIVITY, "quantity", "12.1234", OK},
    {KJ_T_ACTIVITY, "quantity", "12.12345", "field 'quantity': must have at most 4 decimals"},
    {KJ_T_ACTIVITY, "quantity", "12.", "field 'quantity': must be a number >= 0"},
    {KJ_T_ACTIVITY, "quantity", "-1", "field 'quantity': must be a number >= 0"},
    {KJ_T_ACTIVITY, "quantity", "+1", "field 'quantity': must be a number >= 0"},
    {KJ_T_ACTIVITY, "quantity", "1e3", "field 'quantity': must be a number >= 0"},
    {KJ_T_ACTIVITY, "quantity", ".5", "field 'quantity': must be a number >= 0"},
    {KJ_T_ACTIVITY, "quantity", "5.", "field 'quantity': must be a number >= 0"},
    /* a comma: said, never read (1,500 may be 1.5 or 1500) */
    {KJ_T_ACTIVITY, "quantity", "1,5",
     "field 'quantity': '1,5' has a decimal comma: use a decimal point: 1.5"},
    {KJ_T_ACTIVITY, "quantity", "12,75",
     "field 'quantity': '12,75' has a decimal comma: use a decimal point: 12.75"},
    {KJ_T_ACTIVITY, "quantity", "1,500",
     "field 'quantity': '1,500' has a comma: write a decimal with a point (1.5) and a thousand "
     "without a separator (1500)"},
    {KJ_T_ACTIVITY, "quantity", "1.234,5",
     "field 'quantity': '1.234,5' has a comma: write a decimal with a point (1.5) and a thousand "
     "without a separator (1500)"},
    {KJ_T_ACTIVITY, "quantity", "1,5x", "field 'quantity': must be a number >= 0"},
    {KJ_T_ACTIVITY, "quantity", ",5",
     "field 'quantity': '"
     ",5' has a comma: write a decimal with a point (1.5) and a "
     "thousand without a separator (1500)"},
    {KJ_T_ACTIVITY, "quantity", " 1", "field 'quantity': must be a number >= 0"},
    {KJ_T_ACTIVITY, "quantity", "", "field 'quantity': must be a number >= 0"},
    {KJ_T_ACTIVITY, "quantity", "100000", OK},
    {KJ_T_ACTIVITY, "quantity", "100000.0000", OK},
    {KJ_T_ACTIVITY, "quantity", "100000.0001", "field 'quantity': must be at most 100000"},
    {KJ_T_ACTIVITY, "quantity", "1000000000000", "field 'quantity': must be at most 100000"},
    {KJ_T_ACTIVITY, "quantity", "99999999999999999999999",
     "field 'quantity': must be at most 100000"},
    {KJ_T_ACTIVITY, "quantity", "0000000000000000000000007", OK},
    {KJ_T_ACTIVITY, "minutes", "0", OK},
    {KJ_T_ACTIVITY, "minutes", "1440", OK},
    {KJ_T_ACTIVITY, "minutes", "1441", "field 'minutes': must be an integer from 0 to 1440"},
    {KJ_T_ACTIVITY, "minutes", "-1", "field 'minutes': must be an integer from 0 to 1440"},
    {KJ_T_ACTIVITY, "status", "draft", OK},
    {KJ_T_ACTIVITY, "status", "submitted", OK},
    {KJ_T_ACTIVITY, "status", "approved", OK},
    {KJ_T_ACTIVITY, "status", "rejected", OK},
    {KJ_T_ACTIVITY, "status", "done",
     "field 'status': must be one of draft, submitted, approved, rejected"},
    {KJ_T_ACTIVITY, "reviewed_by", NIP2, OK},
    {KJ_T_ACTIVITY, "reviewed_by", "camat", NIP_MSG("reviewed_by")},
    {KJ_T_ACTIVITY, "evidence", "", "field 'evidence': must be 1 to 500 characters"},
    {KJ_T_ACTIVITY, "description", "", "field 'description': must be 1 to 2000 characters"},
    /* NIP rules */
    {KJ_T_ACTIVITY, "nip", "198001012005012001", OK},              /* sex 2 */
    {KJ_T_ACTIVITY, "nip", "198001012005013001", NIP_MSG("nip")},  /* sex 3 */
    {KJ_T_ACTIVITY, "nip", "198001012005010001", NIP_MSG("nip")},  /* sex 0 */
    {KJ_T_ACTIVITY, "nip", "19800101200501100", NIP_MSG("nip")},   /* 17 digits */
    {KJ_T_ACTIVITY, "nip", "1980010120050110011", NIP_MSG("nip")}, /* 19 digits */
    {KJ_T_ACTIVITY, "nip", "19800101200501100a", NIP_MSG("nip")},
    {KJ_T_ACTIVITY, "nip", "198002302005011001", NIP_MSG("nip")}, /* Feb 30 */
    {KJ_T_ACTIVITY, "nip", "198013012005011001", NIP_MSG("nip")}, /* month 13 */
    {KJ_T_ACTIVITY, "nip", "198402292005011001", OK},             /* leap birth day */
    {KJ_T_ACTIVITY, "nip", "198302292005011001", NIP_MSG("nip")},
    {KJ_T_ACTIVITY, "nip", "198001012005001001", NIP_MSG("nip")}, /* appointment month 00 */
    {KJ_T_ACTIVITY, "nip", "198001012005131001", NIP_MSG("nip")}, /* appointment month 13 */
    {KJ_T_ACTIVITY, "nip", "198001012005121999", OK},
    {KJ_T_ACTIVITY, "nip", "1980-01-01-2005011", NIP_MSG("nip")},

    /* complaint */
    {KJ_T_COMPLAINT, "received", NULL, REQ("received")},
    {KJ_T_COMPLAINT, "resolved", "2026-01-05", OK},
    {KJ_T_COMPLAINT, "resolved", "2026-01-04", "field 'resolved': must not be before received"},
    {KJ_T_COMPLAINT, "resolved", "2026-02-30", DATE_MSG("resolved")},
    {KJ_T_COMPLAINT, "resolved", "2027-01-01", OK},
    {KJ_T_COMPLAINT, "channel", "langsung", OK},
    {KJ_T_COMPLAINT, "channel", "telepon", OK},
    {KJ_T_COMPLAINT, "channel", "sp4n-lapor", OK},
    {KJ_T_COMPLAINT, "channel", "media-sosial", OK},
    {KJ_T_COMPLAINT, "channel", "surat", OK},
    {KJ_T_COMPLAINT, "channel", "lainnya", OK},
    {KJ_T_COMPLAINT, "channel", "email",
     "field 'channel': must be one of langsung, telepon, whatsapp, sp4n-lapor, media-sosial, "
     "surat, "
     "lainnya"},
    {KJ_T_COMPLAINT, "category", "Pelayanan", OK},
    {KJ_T_COMPLAINT, "summary", "", "field 'summary': must be 1 to 2000 characters"},

    /* rating */
    {KJ_T_RATING, "period", NULL, REQ("period")},
    {KJ_T_RATING, "period", "2026", OK},
    {KJ_T_RATING, "period", "2026-Q1", OK},
    {KJ_T_RATING, "period", "2026-Q4", OK},
    {KJ_T_RATING, "period", "2026-Q0", PERIOD_MSG("period")},
    {KJ_T_RATING, "period", "2026-Q5", PERIOD_MSG("period")},
    {KJ_T_RATING, "period", "2026-q1", PERIOD_MSG("period")},
    {KJ_T_RATING, "period", "2026-01", OK},
    {KJ_T_RATING, "period", "2026-12", OK},
    {KJ_T_RATING, "period", "2026-13", PERIOD_MSG("period")},
    {KJ_T_RATING, "period", "2026-00", PERIOD_MSG("period")},
    {KJ_T_RATING, "period", "2026-1", PERIOD_MSG("period")},
    {KJ_T_RATING, "period", "26", PERIOD_MSG("period")},
    {KJ_T_RATING, "period", "2026-01-01", PERIOD_MSG("period")},
    {KJ_T_RATING, "rater", NULL, REQ("rater")},
    {KJ_T_RATING, "ratee", "x", NIP_MSG("ratee")},
    {KJ_T_RATING, "role", NULL, REQ("role")},
    {KJ_T_RATING, "role", "rekan", OK},
    {KJ_T_RATING, "role", "bawahan", OK},
    {KJ_T_RATING, "role", "atas", "field 'role': must be one of atasan, rekan, bawahan"},
    {KJ_T_RATING, "s1", "0", S_MSG("s1")},
    {KJ_T_RATING, "s1", "1", OK},
    {KJ_T_RATING, "s7", "5", OK},
    {KJ_T_RATING, "s7", "6", S_MSG("s7")},
    {KJ_T_RATING, "s4", NULL, REQ("s4")},

    /* target */
    {KJ_T_TARGET, "target", "0", "field 'target': must be a number > 0"},
    {KJ_T_TARGET, "target", "0.000", "field 'target': must be a number > 0"},
    {KJ_T_TARGET, "target", "0.000001", OK},
    {KJ_T_TARGET, "target", "-5", "field 'target': must be a number > 0"},
    {KJ_T_TARGET, "target", NULL, REQ("target")},
    {KJ_T_TARGET, "weight", NULL, OK},
    {KJ_T_TARGET, "weight", "0", "field 'weight': must be a number > 0"},
    {KJ_T_TARGET, "weight", "2.5", OK},
    {KJ_T_TARGET, "weight", "100", OK},
    {KJ_T_TARGET, "weight", "100.5", "field 'weight': must be at most 100"},
    {KJ_T_TARGET, "target", "1000000", OK},
    {KJ_T_TARGET, "target", "1000000.000001", "field 'target': must be at most 1000000"},
    {KJ_T_TARGET, "period", "2026-Q2", OK},
    {KJ_T_TARGET, "indicator", NULL, REQ("indicator")},

    /* master data */
    {KJ_T_OFFICE, "population", "1", OK},
    {KJ_T_OFFICE, "population", "0", "field 'population': must be an integer from 1 to 1000000000"},
    {KJ_T_OFFICE, "name", "Kecamatan Kasemen", OK},
    {KJ_T_OFFICE, "region", "", "field 'region': must be 1 to 500 characters"},
    {KJ_T_OFFICE, "code", "36.73.04.", OK},
    {KJ_T_OFFICE, "code", "36 73", CODE_MSG("code")},
    {KJ_T_OFFICE, "code", NULL, REQ("code")},
    {KJ_T_EMPLOYEE, "nip", "198001012005013001", NIP_MSG("nip")},
    {KJ_T_EMPLOYEE, "nip", NULL, REQ("nip")},
    {KJ_T_EMPLOYEE, "office", NULL, REQ("office")},
    {KJ_T_EMPLOYEE, "supervisor", NIP2, OK},
    {KJ_T_EMPLOYEE, "supervisor", "123", NIP_MSG("supervisor")},
    {KJ_T_EMPLOYEE, "position", "Analis", OK},
    {KJ_T_INDICATOR, "id", "DOC.1_a-b", OK},
    {KJ_T_INDICATOR, "id", "DOC 1", CODE_MSG("id")},
    {KJ_T_INDICATOR, "unit", "dokumen", OK},

    /* office records: the id is a UUID */
    {KJ_T_SURVEY, "id", NULL, REQ("id")},
    {KJ_T_SURVEY, "id", "not-a-uuid", "field 'id': must be a UUID"},
    {KJ_T_SURVEY, "id", "0190A0B0-1C2D-7E3F-8A4B-5C6D7E8F9A0B", OK},
    {KJ_T_SURVEY, "id", "0190a0b0x1c2d-7e3f-8a4b-5c6d7e8f9a0b", "field 'id': must be a UUID"},
    {KJ_T_TARGET, "id", "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0", "field 'id': must be a UUID"},
};

static void test_rules(void **state) {
  (void)state;
  int failed = 0;
  for (size_t i = 0; i < sizeof(k_cases) / sizeof(k_cases[0]); i++) {
    const rule_case *c = &k_cases[i];
    const char *got = check_with(c->t, c->field, c->value);
    if (strcmp(got, c->want) != 0) {
      print_error("case %zu: %s %s=%s: got \"%s\", want \"%s\"\n", i, kj_type(c->t)->name,
                  c->field ? c->field : "-", c->value ? c->value : "(null)", got, c->want);
      failed++;
    }
  }
  assert_int_equal(failed, 0);
}

static char *repeat(const char *unit, int n) {
  size_t u = strlen(unit);
  char *s = malloc(u * (size_t)n + 1);
  assert_non_null(s);
  for (int i = 0; i < n; i++)
    memcpy(s + u * (size_t)i, unit, u);
  s[u * (size_t)n] = '\0';
  return s;
}

static void test_text_lengths(void **state) {
  (void)state;
  /* counted in UTF-8 characters, not bytes */
  static const char *const units[] = {"a", "\xc3\xa9" /* é */, "\xe2\x82\xac" /* € */,
                                      "\xf0\x9f\x98\x80" /* U+1F600 */};
  for (size_t u = 0; u < 4; u++) {
    char *s200 = repeat(units[u], 200), *s201 = repeat(units[u], 201);
    assert_string_equal(check_with(KJ_T_SURVEY, "service", s200), "");
    assert_string_equal(check_with(KJ_T_SURVEY, "service", s201),
                        "field 'service': must be 1 to 200 characters");
    free(s200);
    free(s201);
    char *c2000 = repeat(units[u], 2000), *c2001 = repeat(units[u], 2001);
    assert_string_equal(check_with(KJ_T_SURVEY, "comment", c2000), "");
    assert_string_equal(check_with(KJ_T_SURVEY, "comment", c2001),
                        "field 'comment': must be 1 to 2000 characters");
    assert_string_equal(check_with(KJ_T_RATING, "comment", c2001),
                        "field 'comment': must be 1 to 2000 characters");
    free(c2000);
    free(c2001);
    char *o500 = repeat(units[u], 500), *o501 = repeat(units[u], 501);
    assert_string_equal(check_with(KJ_T_SURVEY, "occupation", o500), "");
    assert_string_equal(check_with(KJ_T_SURVEY, "occupation", o501),
                        "field 'occupation': must be 1 to 500 characters");
    assert_string_equal(check_with(KJ_T_ACTIVITY, "evidence", o500), "");
    assert_string_equal(check_with(KJ_T_ACTIVITY, "evidence", o501),
                        "field 'evidence': must be 1 to 500 characters");
    free(o500);
    free(o501);
  }
  /* a newline inside a comment is fine */
  assert_string_equal(check_with(KJ_T_SURVEY, "comment", "baris 1\nbaris 2"), "");
}

static void test_utf8(void **state) {
  (void)state;
  static const char *const bad[] = {
      "\xc3\x28",         /* bad continuation */
      "\xc0\xaf",         /* overlong '/' */
      "\xe0\x80\xaf",     /* overlong 3-byte */
      "\xed\xa0\x80",     /* surrogate U+D800 */
      "\xf4\x90\x80\x80", /* past U+10FFFF */
      "\xe2\x82",         /* truncated */
      "\xff",             /* never valid */
      "ok\x80",           /* stray continuation */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_int_equal(kj_utf8_len(bad[i]), -1);
    assert_string_equal(check_with(KJ_T_SURVEY, "comment", bad[i]),
                        "field 'comment': must be valid UTF-8");
  }
  assert_int_equal(kj_utf8_len(""), 0);
  assert_int_equal(kj_utf8_len("Kec. \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), 8);
  assert_int_equal(kj_utf8_len("\xef\xbf\xbf"), 1);     /* U+FFFF */
  assert_int_equal(kj_utf8_len("\xf4\x8f\xbf\xbf"), 1); /* U+10FFFF */
}

static void test_all_problems_reported(void **state) {
  (void)state;
  kj_record r;
  msgs m;
  memset(&m, 0, sizeof(m));
  kj_record_init(&r, KJ_T_SURVEY);
  assert_int_equal(kj_record_set_named(&r, "u3", "5", NULL), KJ_OK);
  assert_int_equal(kj_record_set_named(&r, "sex", "X", NULL), KJ_OK);
  int n = kj_record_check(&r, collect, &m);
  /* id, office, date, service, u1, u2, u3 (range), u4..u9, sex */
  assert_int_equal(n, 14);
  assert_string_equal(m.text,
                      "field 'id': is required|field 'office': is required|"
                      "field 'date': is required|field 'service': is required|"
                      "field 'u1': is required|field 'u2': is required|"
                      "field 'u3': must be an integer from 1 to 4|field 'u4': is required|"
                      "field 'u5': is required|field 'u6': is required|field 'u7': is required|"
                      "field 'u8': is required|field 'u9': is required|"
                      "field 'sex': must be one of L, P");
  assert_int_equal(kj_record_check(&r, NULL, NULL), 14);
  kj_record_release(&r);

  /* a resolved date before a bad received date: only the date rule */
  memset(&m, 0, sizeof(m));
  valid_record(&r, KJ_T_COMPLAINT);
  kj_record_set_named(&r, "received", "2026-02-30", NULL);
  kj_record_set_named(&r, "resolved", "2026-01-01", NULL);
  assert_int_equal(kj_record_check(&r, collect, &m), 1);
  assert_string_equal(m.text, DATE_MSG("received"));
  kj_record_release(&r);
}

static void test_deleted_needs_only_id(void **state) {
  (void)state;
  kj_record r;
  kj_err e;
  kj_record_init(&r, KJ_T_SURVEY);
  r.deleted = 1;
  assert_int_equal(kj_record_validate(&r, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "field 'id': is required");
  strcpy(r.id, UUID);
  assert_int_equal(kj_record_validate(&r, &e), KJ_OK);
  kj_record_set_named(&r, "u1", "9", NULL);
  assert_int_equal(kj_record_validate(&r, &e), KJ_OK);
  kj_record_release(&r);
}

static void test_id_rules(void **state) {
  (void)state;
  kj_err e;
  assert_int_equal(kj_record_validate_id(KJ_T_SURVEY, UUID, &e), KJ_OK);
  assert_int_equal(kj_record_validate_id(KJ_T_ACTIVITY, "", &e), KJ_EINVAL);
  assert_string_equal(e.msg, "field 'id': is required");
  assert_int_equal(kj_record_validate_id(KJ_T_ACTIVITY, NULL, &e), KJ_EINVAL);
  assert_int_equal(kj_record_validate_id(KJ_T_COMPLAINT, "36.73.04", &e), KJ_EINVAL);
  assert_string_equal(e.msg, "field 'id': must be a UUID");
  assert_int_equal(kj_record_validate_id(KJ_T_OFFICE, "36.73.04", &e), KJ_OK);
  assert_int_equal(kj_record_validate_id(KJ_T_OFFICE, UUID, &e), KJ_EINVAL);
  assert_string_equal(e.msg, CODE_MSG("code"));
  assert_int_equal(kj_record_validate_id(KJ_T_EMPLOYEE, NIP1, &e), KJ_OK);
  assert_int_equal(kj_record_validate_id(KJ_T_EMPLOYEE, "36.73.04", &e), KJ_EINVAL);
  assert_string_equal(e.msg, NIP_MSG("nip"));
  assert_int_equal(kj_record_validate_id(KJ_T_INDICATOR, "DOC", &e), KJ_OK);
  assert_int_equal(kj_record_validate_id(KJ_T_INDICATOR, "", &e), KJ_EINVAL);
  assert_string_equal(e.msg, REQ("id"));
  assert_int_equal(kj_record_validate_id(KJ_T_NONE, "x", &e), KJ_EINVAL);
  assert_int_equal(kj_nip_valid(NIP1), 1);
  assert_int_equal(kj_nip_valid(NULL), 0);
  assert_int_equal(kj_code_valid(NULL), 0);
  assert_int_equal(kj_code_valid("_"), 1);
}

static void test_type_table(void **state) {
  (void)state;
  static const char *const cols[KJ_T__COUNT] = {
      "code,name,region,population,head,timezone",
      "nip,name,office,position,supervisor",
      "id,name,unit",
      "id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment",
      "id,office,nip,date,indicator,quantity,minutes,description,evidence,status,reviewed_by",
      "id,office,received,resolved,channel,category,summary,resolution,resolved_by",
      "id,office,period,rater,ratee,role,s1,s2,s3,s4,s5,s6,s7,comment",
      "id,office,nip,indicator,period,target,weight",
      "id,office,name",
      "id,office,nip,code_hash,expires",
  };
  static const char *const names[KJ_T__COUNT][2] = {
      {"office", "offices"},        {"employee", "employees"},  {"indicator", "indicators"},
      {"survey", "surveys"},        {"activity", "activities"}, {"complaint", "complaints"},
      {"rating", "ratings"},        {"target", "targets"},      {"service", "services"},
      {"activation", "activations"}};
  for (int t = 0; t < KJ_T__COUNT; t++) {
    const kj_type_def *d = kj_type((kj_rtype)t);
    assert_non_null(d);
    assert_int_equal(d->type, t);
    assert_string_equal(d->name, names[t][0]);
    assert_string_equal(d->plural, names[t][1]);
    assert_ptr_equal(kj_type_by_name(names[t][0]), d);
    assert_ptr_equal(kj_type_by_name(names[t][1]), d);
    char buf[512];
    int len = snprintf(buf, sizeof(buf), "%s", d->id_name);
    for (int i = 0; i < d->nfields; i++) {
      len += snprintf(buf + len, sizeof(buf) - (size_t)len, ",%s", d->fields[i].name);
      assert_int_equal(kj_field_index(d, d->fields[i].name), i);
      /* near misses are no field: a prefix, one more letter, another case */
      char near[64];
      snprintf(near, sizeof near, "%sx", d->fields[i].name);
      assert_int_equal(kj_field_index(d, near), -1);
      snprintf(near, sizeof near, "%.*s", (int)strlen(d->fields[i].name) - 1, d->fields[i].name);
      assert_true(kj_field_index(d, near) == -1 ||
                  !strcmp(d->fields[kj_field_index(d, near)].name, near));
      snprintf(near, sizeof near, "%s", d->fields[i].name);
      near[0] = (char)(near[0] - 32);
      assert_int_equal(kj_field_index(d, near), -1);
    }
    assert_int_equal(kj_field_index(d, ""), -1);
    assert_int_equal(kj_field_index(d, "id"), -1);
    /* a copy of the type's table is searched too */
    kj_type_def copy = *d;
    for (int i = 0; i < d->nfields; i++)
      assert_int_equal(kj_field_index(&copy, d->fields[i].name), i);
    assert_string_equal(buf, cols[t]);
    assert_true(d->nfields <= KJ_MAX_FIELDS);
    assert_int_equal(d->master, t <= KJ_T_INDICATOR || t == KJ_T_SERVICE || t == KJ_T_ACTIVATION);
    if (!d->master || t == KJ_T_SERVICE || t == KJ_T_ACTIVATION)
      assert_int_equal(d->office_field, 0);
  }
  assert_int_equal(kj_type(KJ_T_EMPLOYEE)->office_field, 2 - 1);
  assert_int_equal(kj_type(KJ_T_OFFICE)->office_field, -1);
  assert_int_equal(kj_type(KJ_T_INDICATOR)->office_field, -1);
  assert_null(kj_type(KJ_T_NONE));
  assert_null(kj_type(KJ_T__COUNT));
  assert_null(kj_type_by_name("surveyz"));
  assert_null(kj_type_by_name(NULL));
  assert_int_equal(kj_field_index(kj_type(KJ_T_SURVEY), "id"), -1);
  assert_int_equal(kj_field_index(kj_type(KJ_T_SURVEY), "nope"), -1);
}

static void test_accessors(void **state) {
  (void)state;
  kj_record r, c;
  kj_err e;
  valid_record(&r, KJ_T_ACTIVITY);
  assert_string_equal(kj_record_get(&r, "nip"), NIP1);
  assert_string_equal(kj_record_get(&r, "id"), UUID);
  assert_null(kj_record_get(&r, "minutes"));
  assert_null(kj_record_get(&r, "nope"));
  assert_string_equal(kj_record_office(&r), "36.73.04");
  assert_int_equal(kj_record_set_named(&r, "nope", "1", &e), KJ_EINVAL);
  assert_string_equal(e.msg, "unknown field 'nope'");
  assert_int_equal(kj_record_set_named(&r, "id", "0123456789012345678901234567890123456", &e),
                   KJ_EINVAL);
  assert_string_equal(e.msg, "field 'id': must be a UUID");
  assert_string_equal(r.id, UUID); /* unchanged */

  assert_int_equal(kj_record_copy(&c, &r), KJ_OK);
  kj_record_set_named(&r, "nip", NIP2, NULL);
  assert_string_equal(kj_record_get(&c, "nip"), NIP1);
  assert_string_equal(c.id, UUID);
  assert_int_equal(kj_record_set(&c, 1, NULL), KJ_OK);
  assert_null(kj_record_get(&c, "nip"));
  assert_int_equal(kj_record_set(&c, KJ_MAX_FIELDS, "x"), KJ_EINVAL);
  kj_record_release(&c);
  kj_record_release(&c); /* release twice is harmless */
  kj_record_release(&r);
  kj_record_release(NULL);

  valid_record(&r, KJ_T_OFFICE);
  assert_string_equal(kj_record_office(&r), "36.73.04");
  assert_string_equal(kj_record_get(&r, "code"), "36.73.04");
  kj_record_release(&r);
  valid_record(&r, KJ_T_EMPLOYEE);
  assert_string_equal(kj_record_office(&r), "36.73.04");
  kj_record_release(&r);
  valid_record(&r, KJ_T_INDICATOR);
  assert_null(kj_record_office(&r));
  kj_record_release(&r);
}

static void test_field_validate(void **state) {
  (void)state;
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  kj_err e;
  const kj_field_def *u1 = &t->fields[kj_field_index(t, "u1")];
  assert_int_equal(kj_field_validate(u1, "2", &e), KJ_OK);
  assert_int_equal(kj_field_validate(u1, "7", &e), KJ_EINVAL);
  assert_int_equal(e.code, KJ_EINVAL);
  assert_string_equal(e.msg, U_MSG("u1"));
  assert_int_equal(kj_field_validate(u1, NULL, &e), KJ_EINVAL);
  assert_string_equal(e.msg, REQ("u1"));
  const kj_field_def *age = &t->fields[kj_field_index(t, "age")];
  assert_int_equal(kj_field_validate(age, NULL, NULL), KJ_OK);
  assert_int_equal(kj_field_validate(age, "200", NULL), KJ_EINVAL);
}

/* domain.md "Records": no control characters in text, except newline and
 * tab in the four multi-line fields. */
static void test_control_characters(void **state) {
  (void)state;
  static const char *const bad[] = {
      "a\x1b[2Jb",             /* ESC: a terminal escape sequence */
      "bell\x07",              /* BEL */
      "\x01",                  /* the first C0 */
      "cr\rhere",              /* CR is not a newline */
      "del\x7f",               /* DEL */
      "c1 \xc2\x80",           /* U+0080, the first C1 */
      "csi \xc2\x9b\x33\x31m", /* U+009B, the 8-bit CSI */
      "vt\x0b",
      "ff\x0c",
      "us\x1f",
  };
  /* every single-line text field of every type, and the multi-line ones */
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_string_equal(check_with(KJ_T_OFFICE, "name", bad[i]),
                        "field 'name': must not contain control characters");
    assert_string_equal(check_with(KJ_T_EMPLOYEE, "position", bad[i]),
                        "field 'position': must not contain control characters");
    assert_string_equal(check_with(KJ_T_INDICATOR, "unit", bad[i]),
                        "field 'unit': must not contain control characters");
    assert_string_equal(check_with(KJ_T_SURVEY, "service", bad[i]),
                        "field 'service': must not contain control characters");
    assert_string_equal(check_with(KJ_T_ACTIVITY, "evidence", bad[i]),
                        "field 'evidence': must not contain control characters");
    assert_string_equal(check_with(KJ_T_COMPLAINT, "category", bad[i]),
                        "field 'category': must not contain control characters");
    static const struct {
      kj_rtype t;
      const char *f;
    } multi[] = {{KJ_T_SURVEY, "comment"},
                 {KJ_T_RATING, "comment"},
                 {KJ_T_ACTIVITY, "description"},
                 {KJ_T_COMPLAINT, "summary"}};
    for (size_t m = 0; m < sizeof multi / sizeof *multi; m++) {
      char want[128];
      snprintf(want, sizeof want,
               "field '%s': must not contain control characters (newline and tab are allowed)",
               multi[m].f);
      assert_string_equal(check_with(multi[m].t, multi[m].f, bad[i]), want);
    }
  }
  /* newline and tab: only in the multi-line fields */
  assert_string_equal(check_with(KJ_T_SURVEY, "comment", "baris 1\n\tbaris 2"), "");
  assert_string_equal(check_with(KJ_T_RATING, "comment", "a\tb\nc"), "");
  assert_string_equal(check_with(KJ_T_ACTIVITY, "description", "a\tb\nc"), "");
  assert_string_equal(check_with(KJ_T_COMPLAINT, "summary", "a\tb\nc"), "");
  assert_string_equal(check_with(KJ_T_SURVEY, "service", "KTP\nel"),
                      "field 'service': must not contain control characters");
  assert_string_equal(check_with(KJ_T_OFFICE, "name", "Kec.\tSerang"),
                      "field 'name': must not contain control characters");
  /* printable text next to the C1 range is fine: U+00A0, U+00E9, U+0100 */
  assert_string_equal(check_with(KJ_T_OFFICE, "name",
                                 "a\xc2\xa0"
                                 "b \xc3\xa9 \xc4\x80"),
                      "");
  /* the field type says which fields are multi-line */
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  assert_int_equal(t->fields[kj_field_index(t, "comment")].ft, KJ_FT_MTEXT);
  assert_int_equal(t->fields[kj_field_index(t, "occupation")].ft, KJ_FT_TEXT);
  kj_err e;
  assert_int_equal(kj_field_validate(&t->fields[kj_field_index(t, "service")], "x\x1b", &e),
                   KJ_EINVAL);
  assert_string_equal(e.msg, "field 'service': must not contain control characters");
}

/* Issue 16: a survey's service against the office's list. */
static void test_service_resolve(void **state) {
  (void)state;
  const char *const list[] = {"KTP-el", NULL, "Akta Kelahiran", "Kartu Keluarga"};
  const char *m, *c;
  assert_int_equal(kj_service_resolve("KTP-el", list, 4, &m, &c), KJ_OK);
  assert_ptr_equal(m, list[0]);
  assert_null(c);
  /* letter case, spaces, punctuation */
  const char *same[] = {"ktp el", " KTP  EL.", "Ktp_El", "ktp-EL!"};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(kj_service_resolve(same[i], list, 4, &m, &c), KJ_OK);
    assert_ptr_equal(m, list[0]);
    assert_null(c);
  }
  assert_int_equal(kj_service_resolve("akta-kelahiran", list, 4, &m, &c), KJ_OK);
  assert_ptr_equal(m, list[2]);
  /* unknown: the closest listed one */
  assert_int_equal(kj_service_resolve("Akta Kelahran", list, 4, &m, &c), KJ_OK);
  assert_null(m);
  assert_ptr_equal(c, list[2]);
  assert_int_equal(kj_service_resolve("kartu keluarag", list, 4, &m, &c), KJ_OK);
  assert_null(m);
  assert_ptr_equal(c, list[3]);
  assert_int_equal(kj_service_resolve("KTPel", list, 4, &m, &c), KJ_OK); /* a space is a letter */
  assert_null(m);
  assert_ptr_equal(c, list[0]);
  /* no list, nothing to say; punctuation alone matches nothing */
  assert_int_equal(kj_service_resolve("KTP-el", list, 0, &m, &c), KJ_OK);
  assert_null(m);
  assert_null(c);
  const char *const dots[] = {"..."};
  assert_int_equal(kj_service_resolve("-", dots, 1, &m, &c), KJ_OK);
  assert_null(m);
  assert_ptr_equal(c, dots[0]);
  /* names longer than the suggestion code takes (200 characters) */
  char a[201], b[201];
  memset(a, 'x', 200);
  a[200] = 0;
  memcpy(b, a, sizeof b);
  b[100] = 'y';
  const char *const longl[] = {"KTP-el", b};
  assert_int_equal(kj_service_resolve(a, longl, 2, &m, &c), KJ_OK);
  assert_null(m);
  assert_ptr_equal(c, longl[1]);
  /* the key is the one service ids hash */
  char key[32], id1[KJ_ID_MAX + 1], id2[KJ_ID_MAX + 1];
  assert_int_equal(kj_service_key(" KTP  EL.", key), 6);
  assert_string_equal(key, "ktp el");
  assert_int_equal(kj_service_id("36.73.04", " KTP  EL.", id1), KJ_OK);
  assert_int_equal(kj_service_id("36.73.04", "ktp el", id2), KJ_OK);
  assert_string_equal(id1, id2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rules),
      cmocka_unit_test(test_text_lengths),
      cmocka_unit_test(test_utf8),
      cmocka_unit_test(test_all_problems_reported),
      cmocka_unit_test(test_deleted_needs_only_id),
      cmocka_unit_test(test_id_rules),
      cmocka_unit_test(test_type_table),
      cmocka_unit_test(test_accessors),
      cmocka_unit_test(test_field_validate),
      cmocka_unit_test(test_control_characters),
      cmocka_unit_test(test_service_resolve),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
