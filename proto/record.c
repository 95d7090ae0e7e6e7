/* record.c - the type table of domain.md and the validation of every field. */
#include "record.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "date.h"
#include "i18n.h"
#include "text.h"
#include "uuid.h"

/* ---- the type table ---------------------------------------------------- */

static const char *const k_sex[] = {"L", "P", NULL};
static const char *const k_education[] = {"SD", "SMP", "SMA", "D1-D3", "D4-S1", "S2", "S3", NULL};
static const char *const k_status[] = {"draft", "submitted", "approved", "rejected", NULL};
static const char *const k_channel[] = {"langsung",     "telepon", "whatsapp", "sp4n-lapor",
                                        "media-sosial", "surat",   "lainnya",  NULL};
static const char *const k_timezone[] = {"Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", NULL};
static const char *const k_role[] = {"atasan", "rekan", "bawahan", NULL};

/* Optional free text with no bound in domain.md: the product's own limit. */
#define TEXT_FREE 500
#define TEXT_LONG 2000
/* NUM bounds of domain.md v2: every value fits an int64 scaled by 10^6,
 * and the scores' sums stay exact (docs/scoring.md). */
#define QUANTITY_MAX 100000
#define TARGET_MAX 1000000
#define WEIGHT_MAX 100

/* Fields of protocol 1; a later field names its version with .since
 * (docs/protocol.md "Versions": how a field is added). */
#define F_CODE(n, req)                                                                             \
  { .name = (n), .ft = KJ_FT_CODE, .required = (req), .min = 1, .max = 32 }
#define F_OFFICE F_CODE("office", 1)
#define F_MTEXT(n, req, hi)                                                                        \
  { .name = (n), .ft = KJ_FT_MTEXT, .required = (req), .min = 1, .max = (hi) }
#define F_TEXT(n, req, hi)                                                                         \
  { .name = (n), .ft = KJ_FT_TEXT, .required = (req), .min = 1, .max = (hi) }
#define F_INT(n, req, lo, hi)                                                                      \
  { .name = (n), .ft = KJ_FT_INT, .required = (req), .min = (lo), .max = (hi) }
#define F_ENUM(n, req, list)                                                                       \
  { .name = (n), .ft = KJ_FT_ENUM, .required = (req), .choices = (list) }
#define F_TYPE(n, t, req)                                                                          \
  { .name = (n), .ft = (t), .required = (req) }
#define F_NUM(n, req, pos, hi, dec)                                                                \
  { .name = (n), .ft = KJ_FT_NUM, .required = (req), .min = (pos), .max = (hi), .decimals = (dec) }

static const kj_field_def k_office_fields[] = {
    F_TEXT("name", 0, TEXT_FREE),
    F_TEXT("region", 0, TEXT_FREE),
    F_INT("population", 0, 1, 1000000000),
    /* added in protocol 2 (domain.md v2) */
    {.name = "head", .ft = KJ_FT_NIP, .since = 2},
    {.name = "timezone", .ft = KJ_FT_ENUM, .choices = k_timezone, .since = 2},
};

static const kj_field_def k_employee_fields[] = {
    F_TEXT("name", 0, TEXT_FREE),
    F_OFFICE,
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
    F_CODE("indicator", 1),
    F_NUM("quantity", 1, 0, QUANTITY_MAX, 4),
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
    /* added in protocol 2 (domain.md v2) */
    {.name = "resolution", .ft = KJ_FT_MTEXT, .min = 1, .max = TEXT_LONG, .since = 2},
    {.name = "resolved_by", .ft = KJ_FT_NIP, .since = 2},
};

/* Master data of protocol 2: the services an office offers (the pick-list
 * of a survey's `service`); the id is kj_service_id(office, name). */
static const kj_field_def k_service_fields[] = {
    F_OFFICE,
    F_TEXT("name", 1, 200),
};

/* Master data of protocol 2: a person's activation code (docs/operations.md
 * "People and PINs"), written by `kinerjad person activate`, received only
 * by the PCs of its office.  code_hash is the Argon2id encoded hash of the
 * code (common/passhash.h; the code itself is never stored); expires is
 * when the code stops working, in ms since the epoch.  The id is
 * kj_activation_id(nip). */
static const kj_field_def k_activation_fields[] = {
    F_OFFICE,
    F_TYPE("nip", KJ_FT_NIP, 1),
    F_TEXT("code_hash", 1, 128),
    F_INT("expires", 1, 0, 999999999999999LL),
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
    F_CODE("indicator", 1),
    F_TYPE("period", KJ_FT_PERIOD, 1),
    F_NUM("target", 1, 1, TARGET_MAX, 0),
    F_NUM("weight", 0, 1, WEIGHT_MAX, 0),
};

#define NF(a) ((int)(sizeof(a) / sizeof((a)[0])))

#define TYPE(t, n, pl, idn, m, of, f)                                                              \
  {                                                                                                \
    .type = (t), .name = (n), .plural = (pl), .id_name = (idn), .master = (m),                     \
    .office_field = (of), .nfields = NF(f), .fields = (f)                                          \
  }

/* The order here is free: nothing stored or sent depends on it. */
static const kj_type_def k_types[KJ_T__COUNT] = {
    TYPE(KJ_T_OFFICE, "office", "offices", "code", 1, -1, k_office_fields),
    TYPE(KJ_T_EMPLOYEE, "employee", "employees", "nip", 1, 1, k_employee_fields),
    TYPE(KJ_T_INDICATOR, "indicator", "indicators", "id", 1, -1, k_indicator_fields),
    TYPE(KJ_T_SURVEY, "survey", "surveys", "id", 0, 0, k_survey_fields),
    TYPE(KJ_T_ACTIVITY, "activity", "activities", "id", 0, 0, k_activity_fields),
    TYPE(KJ_T_COMPLAINT, "complaint", "complaints", "id", 0, 0, k_complaint_fields),
    TYPE(KJ_T_RATING, "rating", "ratings", "id", 0, 0, k_rating_fields),
    TYPE(KJ_T_TARGET, "target", "targets", "id", 0, 0, k_target_fields),
    /* added in protocol 2 */
    {.type = KJ_T_SERVICE,
     .name = "service",
     .plural = "services",
     .id_name = "id",
     .master = 1,
     .office_field = 0,
     .nfields = NF(k_service_fields),
     .fields = k_service_fields,
     .since = 2,
     .office_scoped = 1},
    {.type = KJ_T_ACTIVATION,
     .name = "activation",
     .plural = "activations",
     .id_name = "id",
     .master = 1,
     .office_field = 0,
     .nfields = NF(k_activation_fields),
     .fields = k_activation_fields,
     .since = 2,
     .office_scoped = 1},
};

/* Enum values added after their field (the field's own version is in the
 * table above).  Adding one is one line here. */
static const struct {
  kj_rtype type;
  const char *field, *value;
  int since;
} k_value_since[] = {
    {KJ_T_COMPLAINT, "channel", "whatsapp", 2},
};

_Static_assert(sizeof(k_survey_fields) / sizeof(k_survey_fields[0]) <= KJ_MAX_FIELDS,
               "survey has too many fields");
_Static_assert(sizeof(k_rating_fields) / sizeof(k_rating_fields[0]) <= KJ_MAX_FIELDS,
               "rating has too many fields");
_Static_assert(sizeof(k_complaint_fields) / sizeof(k_complaint_fields[0]) <= KJ_MAX_FIELDS,
               "complaint has too many fields");

const kj_type_def *kj_type(kj_rtype t) {
  if ((int)t < 0 || t >= KJ_T__COUNT)
    return NULL;
  if (k_types[t].type == t) /* the usual layout: one compare */
    return &k_types[t];
  for (int i = 0; i < KJ_T__COUNT; i++)
    if (k_types[i].type == t)
      return &k_types[i];
  return NULL;
}

const kj_type_def *kj_type_by_name(const char *name) {
  if (!name)
    return NULL;
  for (int i = 0; i < KJ_T__COUNT; i++)
    if (strcmp(name, k_types[i].name) == 0 || strcmp(name, k_types[i].plural) == 0)
      return &k_types[i];
  return NULL;
}

/* kj_field_index's tables: per type, an open-addressing hash of its field
 * names (FNV-1a, linear probing; slot = field index, -1 empty), built by
 * the first caller and published through its state (0 none, 1 being built,
 * 2 ready); a caller that finds it not ready searches the fields in order.
 * The decode, merge, rules and score upkeep of a pushed record look up
 * about a hundred names: a linear strcmp over up to 20 fields each was
 * 5,600 instructions per record (docs/performance.md). */
#define FIDX_SLOTS 64 /* > 2 x the most fields a type has (fields_known is 32 bits) */
static signed char k_fidx[KJ_T__COUNT][FIDX_SLOTS];
static atomic_int k_fidx_state[KJ_T__COUNT];

static unsigned fidx_hash(const char *s) {
  unsigned h = 2166136261u;
  while (*s)
    h = (h ^ (unsigned char)*s++) * 16777619u;
  return h & (FIDX_SLOTS - 1);
}

static const signed char *fidx_of(const kj_type_def *t) {
  if (t < k_types || t >= k_types + KJ_T__COUNT || t->nfields > FIDX_SLOTS / 2)
    return NULL;
  size_t ti = (size_t)(t - k_types);
  if (atomic_load_explicit(&k_fidx_state[ti], memory_order_acquire) == 2)
    return k_fidx[ti];
  int none = 0;
  if (!atomic_compare_exchange_strong(&k_fidx_state[ti], &none, 1))
    return NULL; /* another thread builds it */
  signed char *x = k_fidx[ti];
  memset(x, -1, FIDX_SLOTS);
  for (int i = 0; i < t->nfields; i++) {
    unsigned h = fidx_hash(t->fields[i].name);
    while (x[h] >= 0)
      h = (h + 1) & (FIDX_SLOTS - 1);
    x[h] = (signed char)i;
  }
  atomic_store_explicit(&k_fidx_state[ti], 2, memory_order_release);
  return x;
}

int kj_field_index(const kj_type_def *t, const char *name) {
  if (!t || !name)
    return -1;
  const signed char *x = fidx_of(t);
  if (x) {
    for (unsigned h = fidx_hash(name);; h = (h + 1) & (FIDX_SLOTS - 1)) {
      if (x[h] < 0) /* the empty mark */
        return -1;
      int i = (unsigned char)x[h];
      if (strcmp(t->fields[i].name, name) == 0)
        return i;
    }
  }
  for (int i = 0; i < t->nfields; i++)
    if (strcmp(t->fields[i].name, name) == 0)
      return i;
  return -1;
}

int kj_type_since(const kj_type_def *t) {
  return t && t->since > 1 ? t->since : 1;
}

int kj_value_since(const kj_type_def *t, int i, const char *value) {
  if (!t || i < 0 || i >= t->nfields)
    return KJ_PROTOCOL_MAX + 1;
  const kj_field_def *f = &t->fields[i];
  int v = f->since > 1 ? f->since : 1;
  if (value && f->ft == KJ_FT_ENUM)
    for (size_t k = 0; k < sizeof k_value_since / sizeof k_value_since[0]; k++)
      if (k_value_since[k].type == t->type && !strcmp(k_value_since[k].field, f->name) &&
          !strcmp(k_value_since[k].value, value) && k_value_since[k].since > v)
        v = k_value_since[k].since;
  return v;
}

/* A UUID version 8 (RFC 9562) of the first 122 bits of SHA-256 of
 * buf[0..n-1]. */
static void uuid_of_sha256(const char *buf, size_t n, char out[KJ_ID_MAX + 1]) {
  unsigned char h[32];
  mbedtls_sha256_ret((const unsigned char *)buf, n, h, 0);
  h[6] = (unsigned char)((h[6] & 0x0f) | 0x80); /* version 8 */
  h[8] = (unsigned char)((h[8] & 0x3f) | 0x80); /* variant 10 */
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out[o++] = '-';
    out[o++] = hex[h[i] >> 4];
    out[o++] = hex[h[i] & 15];
  }
  out[o] = '\0';
}

size_t kj_service_key(const char *name, char *out) {
  size_t n = 0;
  int space = 0;
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    unsigned char c = *p;
    int word =
        (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
    if (!word) {
      space = 1;
      continue;
    }
    if (space && n)
      out[n++] = ' ';
    space = 0;
    out[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  out[n] = '\0';
  return n;
}

kj_code kj_service_id(const char *office, const char *name, char out[KJ_ID_MAX + 1]) {
  if (!office || !*office || !name || !*name)
    return KJ_EINVAL;
  size_t no = strlen(office), nn = strlen(name);
  char *buf = malloc(8 + no + 1 + nn + 1);
  if (!buf)
    return KJ_ENOMEM;
  size_t n = 0;
  memcpy(buf, "service", 8); /* with its NUL */
  n = 8;
  memcpy(buf + n, office, no + 1);
  n += no + 1;
  n += kj_service_key(name, buf + n); /* the hash takes the key without its NUL */
  uuid_of_sha256(buf, n, out);
  free(buf);
  return KJ_OK;
}

kj_code kj_activation_id(const char *nip, char out[KJ_ID_MAX + 1]) {
  if (!nip || !*nip)
    return KJ_EINVAL;
  char buf[11 + KJ_ID_MAX + 1];
  size_t nn = strlen(nip);
  if (nn > KJ_ID_MAX)
    return KJ_EINVAL;
  memcpy(buf, "activation", 10);
  buf[10] = '\0'; /* hashed with its NUL */
  memcpy(buf + 11, nip, nn);
  uuid_of_sha256(buf, 11 + nn, out);
  return KJ_OK;
}

kj_code kj_record_derive_id(kj_record *r) {
  if (r->id[0])
    return KJ_OK;
  const kj_type_def *t = kj_type(r->type);
  if (r->type == KJ_T_ACTIVATION) {
    const char *nip = r->v[kj_field_index(t, "nip")];
    if (nip && *nip)
      kj_activation_id(nip, r->id); /* KJ_EINVAL (a nip too long) leaves no id */
    return KJ_OK;
  }
  if (r->type != KJ_T_SERVICE)
    return KJ_OK;
  const char *office = r->v[t->office_field], *name = r->v[kj_field_index(t, "name")];
  if (!office || !*office || !name || !*name)
    return KJ_OK;
  kj_code rc = kj_service_id(office, name, r->id);
  return rc == KJ_EINVAL ? KJ_OK : rc;
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
    if (!((r->lent >> i) & 1u))
      free(r->v[i]);
    r->v[i] = NULL;
  }
  r->lent = 0;
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
  if (!((r->lent >> i) & 1u))
    free(r->v[i]);
  r->v[i] = copy;
  r->lent &= ~(1u << i);
  return KJ_OK;
}

void kj_record_lend(kj_record *r, int i, const char *value) {
  if (i < 0 || i >= KJ_MAX_FIELDS)
    return;
  if (r->v[i] && !((r->lent >> i) & 1u))
    free(r->v[i]);
  r->v[i] = (char *)value; /* never freed or written through: lent */
  r->lent |= 1u << i;
}

kj_code kj_record_set_named(kj_record *r, const char *name, const char *value, kj_err *err) {
  const kj_type_def *t = kj_type(r->type);
  if (!t)
    return kj_fail(err, KJ_EINVAL, _("unknown record type"));
  if (strcmp(name, t->id_name) == 0) {
    if (value && strlen(value) > KJ_ID_MAX)
      return kj_record_validate_id(r->type, value, err);
    snprintf(r->id, sizeof(r->id), "%s", value ? value : "");
    return KJ_OK;
  }
  int i = kj_field_index(t, name);
  if (i < 0)
    return kj_fail(err, KJ_EINVAL, _("unknown field '%s'"), name);
  kj_code rc = kj_record_set(r, i, value);
  return rc ? kj_fail(err, rc, _("out of memory")) : KJ_OK;
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
  unsigned cp;
  for (int k; *p; p += k, n++)
    if ((k = kj_utf8_next(p, &cp)) == 0)
      return -1;
  return n;
}

static int all_digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return 0;
  return 1;
}

/* Decimal integer: digits only (leading zeros allowed), at most 18 of them.
 * KJ_OK or KJ_EINVAL (no message: the caller names the field). */
static kj_code parse_int(const char *s, long long *out) {
  size_t n = strlen(s);
  if (n == 0 || n > 18 || !all_digits(s, n))
    return KJ_EINVAL;
  long long v = 0;
  for (size_t i = 0; i < n; i++)
    v = v * 10 + (s[i] - '0');
  *out = v;
  return KJ_OK;
}

/* Plain decimal: digits, optionally '.' and at least one digit.  Sets
 * *ndec to the number of decimals, *zero when the value is 0 and *big when
 * it is over limit (an integer).  KJ_OK or KJ_EINVAL (no message). */
static kj_code parse_num(const char *s, long long limit, size_t *ndec, int *zero, int *big) {
  const char *dot = strchr(s, '.');
  size_t ni = dot ? (size_t)(dot - s) : strlen(s);
  *ndec = 0;
  if (ni == 0 || !all_digits(s, ni))
    return KJ_EINVAL;
  *zero = 1;
  for (size_t i = 0; i < ni; i++)
    if (s[i] != '0')
      *zero = 0;
  int frac = 0;
  if (dot) {
    size_t nd = strlen(dot + 1);
    if (nd == 0 || !all_digits(dot + 1, nd))
      return KJ_EINVAL;
    *ndec = nd;
    for (size_t i = 0; i < nd; i++)
      if (dot[1 + i] != '0')
        *zero = 0, frac = 1;
  }
  /* over limit? compare without overflow: skip leading zeros */
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
    *big = v > limit || (v == limit && frac);
  }
  return KJ_OK;
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

/* The shape of a number field's value holding a comma (refused, never read
 * as a decimal: '1,500' may be one and a half or fifteen hundred): 1 digits
 * and one comma with other than three digits after it ('1,5': a decimal
 * comma), 2 other digits, commas and points ('1,500', '1.234,5'), 0 not a
 * number with a comma. */
static int comma_shape(const char *value) {
  size_t len = strlen(value), comma = strcspn(value, ",");
  if (comma == len || len > 32)
    return 0;
  for (size_t i = 0; i < len; i++)
    if (!((value[i] >= '0' && value[i] <= '9') || value[i] == ',' || value[i] == '.'))
      return 0;
  size_t after = len - comma - 1;
  return comma > 0 && after > 0 && after != 3 && all_digits(value, comma) &&
                 all_digits(value + comma + 1, after)
             ? 1
             : 2;
}

kj_code kj_field_validate(const kj_field_def *f, const char *value, kj_err *err) {
  const char *n = f->name;
  if (!value)
    return f->required ? kj_fail(err, KJ_EINVAL, _("field '%s': is required"), n) : KJ_OK;
  switch (f->ft) {
  case KJ_FT_TEXT:
  case KJ_FT_MTEXT: {
    long len = kj_utf8_len(value);
    if (len < 0)
      return kj_fail(err, KJ_EINVAL, _("field '%s': must be valid UTF-8"), n);
    if (len < f->min || len > f->max)
      return kj_fail(err, KJ_EINVAL, _("field '%s': must be %lld to %lld characters"), n, f->min,
                     f->max);
    if (has_control(value, f->ft == KJ_FT_MTEXT))
      return kj_fail(err, KJ_EINVAL,
                     f->ft == KJ_FT_MTEXT
                         ? _("field '%s': must not contain control characters (newline and tab "
                             "are allowed)")
                         : _("field '%s': must not contain control characters"),
                     n);
    return KJ_OK;
  }
  case KJ_FT_INT: {
    long long v;
    if (parse_int(value, &v) || v < f->min || v > f->max)
      return kj_fail(err, KJ_EINVAL, _("field '%s': must be an integer from %lld to %lld"), n,
                     f->min, f->max);
    return KJ_OK;
  }
  case KJ_FT_NUM: {
    int zero, big, dec = f->decimals > 0 ? f->decimals : 6;
    size_t ndec;
    kj_code r = parse_num(value, f->max, &ndec, &zero, &big);
    if (!r && ndec > (size_t)dec)
      return kj_fail(err, KJ_EINVAL, _("field '%s': must have at most %d decimals"), n, dec);
    int comma = r ? comma_shape(value) : 0;
    if (comma == 1) {
      char point[40];
      snprintf(point, sizeof point, "%s", value);
      point[strcspn(point, ",")] = '.';
      return kj_fail(err, KJ_EINVAL,
                     _("field '%s': '%s' has a decimal comma: use a decimal point: %s"), n, value,
                     point);
    }
    if (comma == 2)
      return kj_fail(err, KJ_EINVAL,
                     _("field '%s': '%s' has a comma: write a decimal with a point (1.5) and a "
                       "thousand without a separator (1500)"),
                     n, value);
    if (r || (f->min == 1 && zero))
      return kj_fail(err, KJ_EINVAL, _("field '%s': must be a number %s 0"), n,
                     f->min == 1 ? ">" : ">=");
    if (big)
      return kj_fail(err, KJ_EINVAL, _("field '%s': must be at most %lld"), n, f->max);
    return KJ_OK;
  }
  case KJ_FT_DATE:
    if (kj_date_parse(value, NULL))
      return kj_fail(err, KJ_EINVAL, _("field '%s': must be a date YYYY-MM-DD"), n);
    return KJ_OK;
  case KJ_FT_PERIOD:
    if (kj_period_parse(value, NULL))
      return kj_fail(err, KJ_EINVAL,
                     _("field '%s': must be a period like 2026, 2026-Q1 or 2026-01"), n);
    return KJ_OK;
  case KJ_FT_NIP:
    if (!kj_nip_valid(value))
      return kj_fail(err, KJ_EINVAL, _("field '%s': must be an 18-digit NIP"), n);
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
    return kj_fail(err, KJ_EINVAL, _("field '%s': must be one of %s"), n, list);
  }
  case KJ_FT_CODE:
    if (!kj_code_valid(value))
      return kj_fail(err, KJ_EINVAL, _("field '%s': must be 1 to 32 of 0-9 A-Z a-z . _ -"), n);
    return KJ_OK;
  }
  return kj_fail(err, KJ_EINVAL, _("field '%s': unknown field type"), n);
}

kj_code kj_record_validate_id(kj_rtype t, const char *id, kj_err *err) {
  const kj_type_def *td = kj_type(t);
  if (!td)
    return kj_fail(err, KJ_EINVAL, _("unknown record type"));
  const char *n = td->id_name;
  if (!id || !*id)
    return kj_fail(err, KJ_EINVAL, _("field '%s': is required"), n);
  switch (t) {
  case KJ_T_OFFICE:
  case KJ_T_INDICATOR:
    if (!kj_code_valid(id))
      return kj_fail(err, KJ_EINVAL, _("field '%s': must be 1 to 32 of 0-9 A-Z a-z . _ -"), n);
    return KJ_OK;
  case KJ_T_EMPLOYEE:
    if (!kj_nip_valid(id))
      return kj_fail(err, KJ_EINVAL, _("field '%s': must be an 18-digit NIP"), n);
    return KJ_OK;
  default:
    if (strlen(id) != KJ_UUID_STRLEN || !kj_uuid_valid(id))
      return kj_fail(err, KJ_EINVAL, _("field '%s': must be a UUID"), n);
    return KJ_OK;
  }
}

int kj_record_check_written(const kj_record *r, uint32_t written,
                            void (*fn)(void *ud, const char *msg), void *ud) {
  const kj_type_def *t = kj_type(r->type);
  kj_err e;
  int n = 0;
  if (!t) {
    if (fn)
      fn(ud, _("unknown record type"));
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
    /* a value this write does not touch was taken under the rules of its
     * time: only its presence counts */
    int check = (written >> i) & 1u || (!r->v[i] && t->fields[i].required);
    if (check && kj_field_validate(&t->fields[i], r->v[i], &e)) {
      n++;
      if (fn)
        fn(ud, e.msg);
    }
  }
  if (t->type == KJ_T_COMPLAINT) {
    int ir = kj_field_index(t, "received"), is = kj_field_index(t, "resolved");
    kj_day dr, ds;
    if (ir >= 0 && is >= 0 && (((written >> ir) | (written >> is)) & 1u) && r->v[ir] && r->v[is] &&
        kj_date_parse(r->v[ir], &dr) == 0 && kj_date_parse(r->v[is], &ds) == 0 && ds < dr) {
      n++;
      if (fn)
        fn(ud, _("field 'resolved': must not be before received"));
    }
  }
  return n;
}

int kj_record_check(const kj_record *r, void (*fn)(void *ud, const char *msg), void *ud) {
  return kj_record_check_written(r, 0xffffffffu, fn, ud);
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

kj_code kj_record_validate_written(const kj_record *r, uint32_t written, kj_err *err) {
  kj_err e;
  kj_err_clear(&e);
  if (kj_record_check_written(r, written, first_problem, &e) == 0)
    return KJ_OK;
  return kj_fail(err, KJ_EINVAL, "%s", e.msg);
}

/* Edit distance (insert, delete, substitute: one each) of a and b, any
 * length; -1 when out of memory. */
static long key_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  long *row = malloc((lb + 1) * sizeof *row);
  if (!row)
    return -1;
  for (size_t j = 0; j <= lb; j++)
    row[j] = (long)j;
  for (size_t i = 1; i <= la; i++) {
    long diag = row[0];
    row[0] = (long)i;
    for (size_t j = 1; j <= lb; j++) {
      long up = row[j];
      long v = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < v)
        v = up + 1;
      if (row[j - 1] + 1 < v)
        v = row[j - 1] + 1;
      row[j] = v;
      diag = up;
    }
  }
  long d = row[lb];
  free(row);
  return d;
}

kj_code kj_service_resolve(const char *name, const char *const *list, size_t n, const char **match,
                           const char **closest) {
  *match = NULL;
  *closest = NULL;
  if (!name)
    return KJ_OK;
  size_t ln = strlen(name);
  char *key = calloc(ln + 1, 1), *other = NULL;
  size_t cap = 0;
  if (!key)
    return KJ_ENOMEM;
  kj_service_key(name, key);
  long best = -1;
  kj_code rc = KJ_OK;
  for (size_t i = 0; i < n && !*match; i++) {
    if (!list[i])
      continue;
    if (!strcmp(list[i], name)) { /* as listed: the common case */
      *match = list[i];
      break;
    }
    size_t need = strlen(list[i]) + 1;
    if (need > cap) {
      char *o = realloc(other, need);
      if (!o) {
        rc = KJ_ENOMEM;
        break;
      }
      other = o;
      cap = need;
      memset(other, 0, cap); /* every byte defined, for the analyzer */
    }
    kj_service_key(list[i], other);
    if (*key && !strcmp(key, other)) {
      *match = list[i];
      break;
    }
    long d = key_distance(key, other);
    if (d < 0) {
      rc = KJ_ENOMEM;
      break;
    }
    if (best < 0 || d < best) {
      best = d;
      *closest = list[i];
    }
  }
  if (*match || rc)
    *closest = NULL;
  if (rc)
    *match = NULL;
  free(key);
  free(other);
  return rc;
}
