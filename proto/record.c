/* record.c - the type table of domain.md and the validation of every field. */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"
#include "uuid.h"

/* ---- the type table ---------------------------------------------------- */

static const char *const k_sex[] = {"L", "P", NULL};
static const char *const k_education[] = {"SD", "SMP", "SMA", "D1-D3", "D4-S1", "S2", "S3", NULL};
static const char *const k_status[] = {"draft", "submitted", "approved", "rejected", NULL};
static const char *const k_channel[] = {"langsung", "telepon", "sp4n-lapor", "media-sosial",
                                        "surat",    "lainnya", NULL};
static const char *const k_role[] = {"atasan", "rekan", "bawahan", NULL};

/* Optional free text with no bound in domain.md: the product's own limit. */
#define TEXT_FREE 500
#define TEXT_LONG 2000
/* NUM: the integer part stays below 10^12, so 6 decimals fit an int64 scaled by 10^6. */
#define NUM_LIMIT 1000000000000LL

#define F_OFFICE                                                                                   \
  { "office", KJ_FT_CODE, 1, 1, 32, NULL }
#define F_TEXT(name, req, max)                                                                     \
  { name, KJ_FT_TEXT, req, 1, max, NULL }
#define F_MTEXT(name, req, max)                                                                    \
  { name, KJ_FT_MTEXT, req, 1, max, NULL }
#define F_INT(name, req, lo, hi)                                                                   \
  { name, KJ_FT_INT, req, lo, hi, NULL }
#define F_ENUM(name, req, list)                                                                    \
  { name, KJ_FT_ENUM, req, 0, 0, list }
#define F_TYPE(name, ft, req)                                                                      \
  { name, ft, req, 0, 0, NULL }
#define F_NUM(name, req, pos)                                                                      \
  { name, KJ_FT_NUM, req, pos, NUM_LIMIT, NULL }

static const kj_field_def k_office_fields[] = {
    F_TEXT("name", 0, TEXT_FREE),
    F_TEXT("region", 0, TEXT_FREE),
    F_INT("population", 0, 1, 1000000000),
};

static const kj_field_def k_employee_fields[] = {
    F_TEXT("name", 0, TEXT_FREE),
    {"office", KJ_FT_CODE, 1, 1, 32, NULL},
    F_TEXT("position", 0, TEXT_FREE),
    F_TYPE("supervisor", KJ_FT_NIP, 0),
};

static const kj_field_def k_indicator_fields[] = {
    F_TEXT("name", 0, TEXT_FREE),
    F_TEXT("unit", 0, TEXT_FREE),
};

static const kj_field_def k_survey_fields[] = {
    F_OFFICE,
    F_TYPE("date", KJ_FT_DATE, 1),
    F_TEXT("service", 1, 200),
    F_INT("u1", 1, 1, 4),
    F_INT("u2", 1, 1, 4),
    F_INT("u3", 1, 1, 4),
    F_INT("u4", 1, 1, 4),
    F_INT("u5", 1, 1, 4),
    F_INT("u6", 1, 1, 4),
    F_INT("u7", 1, 1, 4),
    F_INT("u8", 1, 1, 4),
    F_INT("u9", 1, 1, 4),
    F_INT("age", 0, 10, 120),
    F_ENUM("sex", 0, k_sex),
    F_ENUM("education", 0, k_education),
    F_TEXT("occupation", 0, TEXT_FREE),
    F_MTEXT("comment", 0, TEXT_LONG),
};

static const kj_field_def k_activity_fields[] = {
    F_OFFICE,
    F_TYPE("nip", KJ_FT_NIP, 1),
    F_TYPE("date", KJ_FT_DATE, 1),
    {"indicator", KJ_FT_CODE, 1, 1, 32, NULL},
    F_NUM("quantity", 1, 0),
    F_INT("minutes", 0, 0, 1440),
    F_MTEXT("description", 0, TEXT_LONG),
    F_TEXT("evidence", 0, 500),
    F_ENUM("status", 0, k_status),
    F_TYPE("reviewed_by", KJ_FT_NIP, 0),
};

static const kj_field_def k_complaint_fields[] = {
    F_OFFICE,
    F_TYPE("received", KJ_FT_DATE, 1),
    F_TYPE("resolved", KJ_FT_DATE, 0),
    F_ENUM("channel", 0, k_channel),
    F_TEXT("category", 0, TEXT_FREE),
    F_MTEXT("summary", 0, TEXT_LONG),
};

static const kj_field_def k_rating_fields[] = {
    F_OFFICE,
    F_TYPE("period", KJ_FT_PERIOD, 1),
    F_TYPE("rater", KJ_FT_NIP, 1),
    F_TYPE("ratee", KJ_FT_NIP, 1),
    F_ENUM("role", 1, k_role),
    F_INT("s1", 1, 1, 5),
    F_INT("s2", 1, 1, 5),
    F_INT("s3", 1, 1, 5),
    F_INT("s4", 1, 1, 5),
    F_INT("s5", 1, 1, 5),
    F_INT("s6", 1, 1, 5),
    F_INT("s7", 1, 1, 5),
    F_MTEXT("comment", 0, TEXT_LONG),
};

static const kj_field_def k_target_fields[] = {
    F_OFFICE,
    F_TYPE("nip", KJ_FT_NIP, 1),
    {"indicator", KJ_FT_CODE, 1, 1, 32, NULL},
    F_TYPE("period", KJ_FT_PERIOD, 1),
    F_NUM("target", 1, 1),
    F_NUM("weight", 0, 1),
};

#define NF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const kj_type_def k_types[KJ_T__COUNT] = {
    {KJ_T_OFFICE, "office", "offices", "code", 1, -1, NF(k_office_fields), k_office_fields},
    {KJ_T_EMPLOYEE, "employee", "employees", "nip", 1, 1, NF(k_employee_fields), k_employee_fields},
    {KJ_T_INDICATOR, "indicator", "indicators", "id", 1, -1, NF(k_indicator_fields),
     k_indicator_fields},
    {KJ_T_SURVEY, "survey", "surveys", "id", 0, 0, NF(k_survey_fields), k_survey_fields},
    {KJ_T_ACTIVITY, "activity", "activities", "id", 0, 0, NF(k_activity_fields), k_activity_fields},
    {KJ_T_COMPLAINT, "complaint", "complaints", "id", 0, 0, NF(k_complaint_fields),
     k_complaint_fields},
    {KJ_T_RATING, "rating", "ratings", "id", 0, 0, NF(k_rating_fields), k_rating_fields},
    {KJ_T_TARGET, "target", "targets", "id", 0, 0, NF(k_target_fields), k_target_fields},
};

_Static_assert(sizeof(k_survey_fields) / sizeof(k_survey_fields[0]) <= KJ_MAX_FIELDS,
               "survey has too many fields");
_Static_assert(sizeof(k_rating_fields) / sizeof(k_rating_fields[0]) <= KJ_MAX_FIELDS,
               "rating has too many fields");

const kj_type_def *kj_type(kj_rtype t) {
  if ((int)t < 0 || t >= KJ_T__COUNT)
    return NULL;
  return &k_types[t];
}

const kj_type_def *kj_type_by_name(const char *name) {
  if (!name)
    return NULL;
  for (int i = 0; i < KJ_T__COUNT; i++)
    if (strcmp(name, k_types[i].name) == 0 || strcmp(name, k_types[i].plural) == 0)
      return &k_types[i];
  return NULL;
}

int kj_field_index(const kj_type_def *t, const char *name) {
  if (!t || !name)
    return -1;
  for (int i = 0; i < t->nfields; i++)
    if (strcmp(t->fields[i].name, name) == 0)
      return i;
  return -1;
}

/* ---- records ------------------------------------------------------------ */

void kj_record_init(kj_record *r, kj_rtype t) {
  memset(r, 0, sizeof(*r));
  r->type = t;
}

void kj_record_release(kj_record *r) {
  if (!r)
    return;
  for (int i = 0; i < KJ_MAX_FIELDS; i++) {
    free(r->v[i]);
    r->v[i] = NULL;
  }
}

kj_code kj_record_copy(kj_record *dst, const kj_record *src) {
  kj_record_init(dst, src->type);
  memcpy(dst->id, src->id, sizeof(dst->id));
  dst->deleted = src->deleted;
  for (int i = 0; i < KJ_MAX_FIELDS; i++) {
    if (src->v[i] && !(dst->v[i] = strdup(src->v[i]))) {
      kj_record_release(dst);
      return KJ_ENOMEM;
    }
  }
  return KJ_OK;
}

kj_code kj_record_set(kj_record *r, int i, const char *value) {
  if (i < 0 || i >= KJ_MAX_FIELDS)
    return KJ_EINVAL;
  char *copy = NULL;
  if (value && !(copy = strdup(value)))
    return KJ_ENOMEM;
  free(r->v[i]);
  r->v[i] = copy;
  return KJ_OK;
}

kj_code kj_record_set_named(kj_record *r, const char *name, const char *value, kj_err *err) {
  const kj_type_def *t = kj_type(r->type);
  if (!t)
    return kj_fail(err, KJ_EINVAL, "unknown record type");
  if (strcmp(name, t->id_name) == 0) {
    if (value && strlen(value) > KJ_ID_MAX)
      return kj_record_validate_id(r->type, value, err);
    snprintf(r->id, sizeof(r->id), "%s", value ? value : "");
    return KJ_OK;
  }
  int i = kj_field_index(t, name);
  if (i < 0)
    return kj_fail(err, KJ_EINVAL, "unknown field '%s'", name);
  kj_code rc = kj_record_set(r, i, value);
  return rc ? kj_fail(err, rc, "out of memory") : KJ_OK;
}

const char *kj_record_get(const kj_record *r, const char *name) {
  const kj_type_def *t = kj_type(r->type);
  if (!t || !name)
    return NULL;
  if (strcmp(name, t->id_name) == 0)
    return r->id[0] ? r->id : NULL;
  int i = kj_field_index(t, name);
  return i < 0 ? NULL : r->v[i];
}

const char *kj_record_office(const kj_record *r) {
  const kj_type_def *t = kj_type(r->type);
  if (!t)
    return NULL;
  if (t->type == KJ_T_OFFICE)
    return r->id[0] ? r->id : NULL;
  return t->office_field < 0 ? NULL : r->v[t->office_field];
}

/* ---- value rules -------------------------------------------------------- */

/* Number of UTF-8 characters of s, -1 when s is not valid UTF-8 (overlong
 * forms, surrogates and code points past U+10FFFF are invalid). */
long kj_utf8_len(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  long n = 0;
  while (*p) {
    unsigned c = *p;
    int more;
    unsigned cp;
    if (c < 0x80) {
      p++;
      n++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      more = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      more = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      more = 3;
      cp = c & 0x07;
    } else {
      return -1;
    }
    p++;
    for (int k = 0; k < more; k++, p++) {
      if ((*p & 0xc0) != 0x80)
        return -1;
      cp = (cp << 6) | (*p & 0x3f);
    }
    if ((more == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (more == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return -1;
    n++;
  }
  return n;
}

static int all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

/* Decimal integer: digits only (leading zeros allowed), at most 18 of them. */
static int parse_int(const char *s, long long *out) {
  size_t n = strlen(s);
  if (n == 0 || n > 18 || !all_digits(s, n))
    return -1;
  long long v = 0;
  for (size_t i = 0; i < n; i++)
    v = v * 10 + (s[i] - '0');
  *out = v;
  return 0;
}

/* Plain decimal: digits, optionally '.' and 1-6 digits.  Sets *zero when the
 * value is 0 and *big when the integer part reaches limit. */
static int parse_num(const char *s, long long limit, int *zero, int *big) {
  const char *dot = strchr(s, '.');
  size_t ni = dot ? (size_t)(dot - s) : strlen(s);
  if (ni == 0 || !all_digits(s, ni))
    return -1;
  *zero = 1;
  for (size_t i = 0; i < ni; i++)
    if (s[i] != '0')
      *zero = 0;
  if (dot) {
    size_t nd = strlen(dot + 1);
    if (nd == 0 || nd > 6 || !all_digits(dot + 1, nd))
      return -1;
    for (size_t i = 0; i < nd; i++)
      if (dot[1 + i] != '0')
        *zero = 0;
  }
  /* integer part >= limit? compare without overflow: skip leading zeros */
  const char *p = s;
  while (p < s + ni - 1 && *p == '0')
    p++;
  size_t sig = (size_t)(s + ni - p);
  long long v = 0;
  *big = 0;
  if (sig > 18) {
    *big = 1;
  } else {
    for (const char *q = p; q < s + ni; q++)
      v = v * 10 + (*q - '0');
    *big = v >= limit;
  }
  return 0;
}

int kj_nip_valid(const char *s) {
  if (!s || strlen(s) != 18 || !all_digits(s, 18))
    return 0;
  char date[11];
  memcpy(date, s, 4);
  date[4] = '-';
  memcpy(date + 5, s + 4, 2);
  date[7] = '-';
  memcpy(date + 8, s + 6, 2);
  date[10] = '\0';
  if (kj_date_parse(date, NULL) != 0)
    return 0;
  int month = (s[12] - '0') * 10 + (s[13] - '0');
  if (month < 1 || month > 12)
    return 0;
  return s[14] == '1' || s[14] == '2';
}

int kj_code_valid(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n < 1 || n > 32)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' ||
          c == '_' || c == '-'))
      return 0;
  }
  return 1;
}

/* 1 when valid UTF-8 s holds a control character: C0 (newline and tab
 * allowed when multiline), DEL, or C1 U+0080-U+009F (encoded 0xc2 0x80-0x9f). */
static int has_control(const char *s, int multiline) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t')))
      return 1;
    if (*p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
      return 1;
  }
  return 0;
}

#define CODE_RULE "must be 1 to 32 of 0-9 A-Z a-z . _ -"
#define NIP_RULE "must be an 18-digit NIP"

kj_code kj_field_validate(const kj_field_def *f, const char *value, kj_err *err) {
  const char *n = f->name;
  if (!value)
    return f->required ? kj_fail(err, KJ_EINVAL, "field '%s': is required", n) : KJ_OK;
  switch (f->ft) {
  case KJ_FT_TEXT:
  case KJ_FT_MTEXT: {
    long len = kj_utf8_len(value);
    if (len < 0)
      return kj_fail(err, KJ_EINVAL, "field '%s': must be valid UTF-8", n);
    if (len < f->min || len > f->max)
      return kj_fail(err, KJ_EINVAL, "field '%s': must be %lld to %lld characters", n, f->min,
                     f->max);
    if (has_control(value, f->ft == KJ_FT_MTEXT))
      return kj_fail(err, KJ_EINVAL,
                     f->ft == KJ_FT_MTEXT
                         ? "field '%s': must not contain control characters (newline and tab "
                           "are allowed)"
                         : "field '%s': must not contain control characters",
                     n);
    return KJ_OK;
  }
  case KJ_FT_INT: {
    long long v;
    if (parse_int(value, &v) || v < f->min || v > f->max)
      return kj_fail(err, KJ_EINVAL, "field '%s': must be an integer from %lld to %lld", n, f->min,
                     f->max);
    return KJ_OK;
  }
  case KJ_FT_NUM: {
    int zero, big;
    if (parse_num(value, f->max, &zero, &big) || (f->min == 1 && zero))
      return kj_fail(err, KJ_EINVAL, "field '%s': must be a number %s 0", n,
                     f->min == 1 ? ">" : ">=");
    if (big)
      return kj_fail(err, KJ_EINVAL, "field '%s': must be less than %lld", n, f->max);
    return KJ_OK;
  }
  case KJ_FT_DATE:
    if (kj_date_parse(value, NULL))
      return kj_fail(err, KJ_EINVAL, "field '%s': must be a date YYYY-MM-DD", n);
    return KJ_OK;
  case KJ_FT_PERIOD:
    if (kj_period_parse(value, NULL))
      return kj_fail(err, KJ_EINVAL, "field '%s': must be a period like 2026, 2026-Q1 or 2026-01",
                     n);
    return KJ_OK;
  case KJ_FT_NIP:
    if (!kj_nip_valid(value))
      return kj_fail(err, KJ_EINVAL, "field '%s': " NIP_RULE, n);
    return KJ_OK;
  case KJ_FT_ENUM: {
    for (const char *const *c = f->choices; *c; c++)
      if (strcmp(*c, value) == 0)
        return KJ_OK;
    char list[KJ_ERR_MSG_MAX] = "";
    size_t used = 0;
    for (const char *const *c = f->choices; *c; c++) {
      int w = snprintf(list + used, sizeof(list) - used, "%s%s", c == f->choices ? "" : ", ", *c);
      if (w < 0 || (size_t)w >= sizeof(list) - used)
        break;
      used += (size_t)w;
    }
    return kj_fail(err, KJ_EINVAL, "field '%s': must be one of %s", n, list);
  }
  case KJ_FT_CODE:
    if (!kj_code_valid(value))
      return kj_fail(err, KJ_EINVAL, "field '%s': " CODE_RULE, n);
    return KJ_OK;
  }
  return kj_fail(err, KJ_EINVAL, "field '%s': unknown field type", n);
}

kj_code kj_record_validate_id(kj_rtype t, const char *id, kj_err *err) {
  const kj_type_def *td = kj_type(t);
  if (!td)
    return kj_fail(err, KJ_EINVAL, "unknown record type");
  const char *n = td->id_name;
  if (!id || !*id)
    return kj_fail(err, KJ_EINVAL, "field '%s': is required", n);
  switch (t) {
  case KJ_T_OFFICE:
  case KJ_T_INDICATOR:
    if (!kj_code_valid(id))
      return kj_fail(err, KJ_EINVAL, "field '%s': " CODE_RULE, n);
    return KJ_OK;
  case KJ_T_EMPLOYEE:
    if (!kj_nip_valid(id))
      return kj_fail(err, KJ_EINVAL, "field '%s': " NIP_RULE, n);
    return KJ_OK;
  default:
    if (strlen(id) != KJ_UUID_STRLEN || !kj_uuid_valid(id))
      return kj_fail(err, KJ_EINVAL, "field '%s': must be a UUID", n);
    return KJ_OK;
  }
}

int kj_record_check(const kj_record *r, void (*fn)(void *ud, const char *msg), void *ud) {
  const kj_type_def *t = kj_type(r->type);
  kj_err e;
  int n = 0;
  if (!t) {
    if (fn)
      fn(ud, "unknown record type");
    return 1;
  }
  if (kj_record_validate_id(r->type, r->id, &e)) {
    n++;
    if (fn)
      fn(ud, e.msg);
  }
  if (r->deleted)
    return n;
  for (int i = 0; i < t->nfields; i++) {
    if (kj_field_validate(&t->fields[i], r->v[i], &e)) {
      n++;
      if (fn)
        fn(ud, e.msg);
    }
  }
  if (t->type == KJ_T_COMPLAINT) {
    int ir = kj_field_index(t, "received"), is = kj_field_index(t, "resolved");
    kj_day dr, ds;
    if (r->v[ir] && r->v[is] && kj_date_parse(r->v[ir], &dr) == 0 &&
        kj_date_parse(r->v[is], &ds) == 0 && ds < dr) {
      n++;
      if (fn)
        fn(ud, "field 'resolved': must not be before received");
    }
  }
  return n;
}

static void first_problem(void *ud, const char *msg) {
  kj_err *e = ud;
  if (e->code == KJ_OK)
    kj_fail(e, KJ_EINVAL, "%s", msg);
}

kj_code kj_record_validate(const kj_record *r, kj_err *err) {
  kj_err e;
  kj_err_clear(&e);
  if (kj_record_check(r, first_problem, &e) == 0)
    return KJ_OK;
  return kj_fail(err, KJ_EINVAL, "%s", e.msg);
}
