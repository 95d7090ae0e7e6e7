/* msg.c - the messages of HTTP API v1 (msg.h; docs/protocol.md). */
#include "msg.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>
#include "reportdoc.h"
#include "zst.h"

static const cJSON *get(const cJSON *o, const char *k) {
  return cJSON_GetObjectItemCaseSensitive(o, k);
}

static void copy_str(char *dst, size_t size, const cJSON *v) {
  dst[0] = '\0';
  if (cJSON_IsString(v))
    snprintf(dst, size, "%s", v->valuestring);
}

/* A whole number 0..2^53-1 from v into *out: KJ_OK, *present (may be NULL)
 * 1, or 0 with *out untouched when v is absent/null; KJ_EPROTO (no message,
 * the caller names the member) when v is something else. */
static kj_code get_count(const cJSON *v, int64_t *out, int *present) {
  if (present)
    *present = 0;
  if (!v || cJSON_IsNull(v))
    return KJ_OK;
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= KJ_JSON_INT_MAX) ||
      floor(v->valuedouble) != v->valuedouble)
    return KJ_EPROTO;
  *out = (int64_t)v->valuedouble;
  if (present)
    *present = 1;
  return KJ_OK;
}

/* Whether v holds a whole number 0..2^53-1 (then in *out). */
static int has_count(const cJSON *v, int64_t *out) {
  int present = 0;
  return get_count(v, out, &present) == KJ_OK && present;
}

/* Text of o appended to out; o is deleted. */
static kj_code emit(cJSON *o, kj_buf *out, kj_err *err) {
  char *text = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!text)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  kj_code rc = kj_buf_adds(out, text);
  free(text);
  return rc ? kj_fail(err, rc, "message too large") : KJ_OK;
}

/* ---- every route -------------------------------------------------------- */

kj_code kj_error_encode(kj_buf *out, const char *msg) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddStringToObject(o, "error", msg ? msg : "")) {
    cJSON_Delete(o);
    return KJ_ENOMEM;
  }
  kj_code rc = emit(o, out, NULL);
  return rc ? rc : kj_buf_addc(out, '\n');
}

kj_code kj_error_decode(const char *text, size_t len, char *msg, size_t size) {
  cJSON *o = text ? cJSON_ParseWithLength(text, len) : NULL;
  const cJSON *e = cJSON_IsObject(o) ? get(o, "error") : NULL;
  int ok = e && cJSON_IsString(e);
  if (size)
    snprintf(msg, size, "%s", ok ? e->valuestring : "");
  cJSON_Delete(o);
  return ok ? KJ_OK : KJ_EPROTO;
}

kj_code kj_health_encode(kj_buf *out) {
  return kj_buf_adds(out, "{\"status\":\"ok\"}\n");
}

/* ---- hello -------------------------------------------------------------- */

static cJSON *str_or_null(const char *s) {
  return s && s[0] ? cJSON_CreateString(s) : cJSON_CreateNull();
}

/* cJSON_AddItemToObject that frees item when it cannot be added (the copy
 * of the key ran out of memory); 0 then, or when item is NULL. */
static int add_owned(cJSON *o, const char *key, cJSON *item) {
  if (item && cJSON_AddItemToObject(o, key, item))
    return 1;
  cJSON_Delete(item);
  return 0;
}

kj_code kj_hello_encode(const kj_hello *h, int peer, kj_buf *out, kj_err *err) {
  int proto = peer < KJ_PROTOCOL_MIN ? KJ_PROTOCOL_MIN : peer;
  if (proto > KJ_PROTOCOL_MAX)
    proto = KJ_PROTOCOL_MAX;
  cJSON *o = cJSON_CreateObject();
  cJSON *l = NULL, *types = NULL;
  if (!o || !cJSON_AddStringToObject(o, "server", "kinerjad") ||
      !cJSON_AddStringToObject(o, "version", h->version) ||
      !cJSON_AddNumberToObject(o, "protocol", proto) ||
      !cJSON_AddNumberToObject(o, "protocol_min", KJ_PROTOCOL_MIN) ||
      !cJSON_AddNumberToObject(o, "protocol_max", KJ_PROTOCOL_MAX) ||
      !cJSON_AddNumberToObject(o, "server_time", (double)h->server_time) ||
      !cJSON_AddStringToObject(o, "role", h->role) ||
      !add_owned(o, "office", str_or_null(h->office)) ||
      !add_owned(o, "device", str_or_null(h->device)) ||
      !(l = cJSON_AddObjectToObject(o, "limits")) ||
      !cJSON_AddNumberToObject(l, "max_batch", (double)h->max_batch) ||
      !cJSON_AddNumberToObject(l, "max_body", (double)h->max_body) ||
      !cJSON_AddNumberToObject(l, "max_pull", (double)h->max_pull) ||
      (h->max_pipeline > 0 &&
       !cJSON_AddNumberToObject(l, "max_pipeline", (double)h->max_pipeline)) ||
      !(types = cJSON_AddObjectToObject(o, "types")) ||
      !add_owned(o, "encodings",
                 cJSON_CreateStringArray((const char *[]){kj_zst_coding(), "gzip"}, 2))) {
    cJSON_Delete(o);
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  for (int t = 0; t < KJ_T__COUNT; t++) {
    const kj_type_def *td = kj_type((kj_rtype)t);
    cJSON *arr = cJSON_AddArrayToObject(types, td->name);
    for (int i = 0; arr && i < td->nfields; i++)
      if (!cJSON_AddItemToArray(arr, cJSON_CreateString(td->fields[i].name)))
        arr = NULL;
    if (!arr) {
      cJSON_Delete(o);
      return kj_fail(err, KJ_ENOMEM, "out of memory");
    }
  }
  return emit(o, out, err);
}

/* What a server of protocol p knows, by the `since` of each part. */
static void known_by_version(kj_hello *h, int p) {
  h->types_known = 0;
  for (int t = 0; t < KJ_T__COUNT; t++) {
    const kj_type_def *td = kj_type((kj_rtype)t);
    h->fields_known[t] = 0;
    if (kj_type_since(td) > p)
      continue;
    h->types_known |= 1u << t;
    for (int i = 0; i < td->nfields; i++)
      if (kj_value_since(td, i, NULL) <= p)
        h->fields_known[t] |= 1u << i;
  }
}

kj_code kj_hello_decode(const char *text, size_t len, kj_hello *h, kj_err *err) {
  memset(h, 0, sizeof *h);
  h->server_time = -1;
  cJSON *o = cJSON_ParseWithLength(text, len);
  kj_code rc = KJ_OK;
  if (!cJSON_IsObject(o)) {
    rc = kj_fail(err, KJ_EPROTO, "hello: the server's answer is not a JSON object");
    goto out;
  }
  const cJSON *pr = get(o, "protocol"), *pmin = get(o, "protocol_min"),
              *pmax = get(o, "protocol_max");
  int64_t v = 1;
  if (get_count(pr, &v, NULL) || v < 1 || v > 1000000) {
    rc = kj_fail(err, KJ_EPROTO, "hello: 'protocol' must be a whole number >= 1");
    goto out;
  }
  h->protocol = (int)v;
  int64_t lo = h->protocol, hi = h->protocol;
  if (get_count(pmin, &lo, NULL) || get_count(pmax, &hi, NULL) || lo < 1 || hi < lo ||
      hi > 1000000) {
    rc = kj_fail(err, KJ_EPROTO, "hello: bad 'protocol_min' or 'protocol_max'");
    goto out;
  }
  h->protocol_min = (int)lo;
  h->protocol_max = (int)hi;
  const cJSON *st = get(o, "server_time");
  if (!has_count(st, &h->server_time))
    h->server_time = -1;
  copy_str(h->server, sizeof h->server, get(o, "server"));
  copy_str(h->version, sizeof h->version, get(o, "version"));
  copy_str(h->role, sizeof h->role, get(o, "role"));
  const cJSON *off = get(o, "office"), *dev = get(o, "device");
  if ((off && !cJSON_IsString(off) && !cJSON_IsNull(off)) ||
      (dev && !cJSON_IsString(dev) && !cJSON_IsNull(dev))) {
    rc = kj_fail(err, KJ_EPROTO, "hello: 'office' and 'device' must be strings or null");
    goto out;
  }
  if (off && cJSON_IsString(off) && strlen(off->valuestring) <= KJ_ID_MAX)
    copy_str(h->office, sizeof h->office, off);
  if (dev && cJSON_IsString(dev) && strlen(dev->valuestring) <= KJ_DEVICE_MAX)
    copy_str(h->device, sizeof h->device, dev);
  const cJSON *l = get(o, "limits");
  if (get_count(get(l, "max_batch"), &h->max_batch, NULL) ||
      get_count(get(l, "max_body"), &h->max_body, NULL) ||
      get_count(get(l, "max_pull"), &h->max_pull, NULL) ||
      get_count(get(l, "max_pipeline"), &h->max_pipeline, NULL)) {
    rc = kj_fail(err, KJ_EPROTO, "hello: 'limits' must hold whole numbers");
    goto out;
  }
  const cJSON *enc = get(o, "encodings"), *en;
  if (!cJSON_IsArray(enc))
    enc = NULL; /* an older server: gzip */
  cJSON_ArrayForEach(en, enc) {
    if (cJSON_IsString(en) && kj_zst_is_coding(en->valuestring))
      h->zst = 1;
  }
  const cJSON *types = get(o, "types");
  if (cJSON_IsObject(types)) {
    /* the server's own list: what it names is what it knows */
    h->types_known = 0;
    for (int t = 0; t < KJ_T__COUNT; t++) {
      const kj_type_def *td = kj_type((kj_rtype)t);
      const cJSON *arr = get(types, td->name), *f;
      h->fields_known[t] = 0;
      if (!cJSON_IsArray(arr))
        continue;
      h->types_known |= 1u << t;
      cJSON_ArrayForEach(f, arr) {
        int i = cJSON_IsString(f) ? kj_field_index(td, f->valuestring) : -1;
        if (i >= 0)
          h->fields_known[t] |= 1u << i;
      }
    }
  } else {
    known_by_version(h, h->protocol_max);
  }
out:
  cJSON_Delete(o);
  return rc;
}

int kj_change_needs(const kj_change *c) {
  const kj_type_def *t = kj_type(c->rec.type);
  if (!t)
    return KJ_PROTOCOL_MAX + 1;
  int need = kj_type_since(t);
  for (int i = 0; i < t->nfields; i++) {
    if (!(c->mask & (1u << i)))
      continue;
    int v = kj_value_since(t, i, c->rec.v[i]);
    if (v > need)
      need = v;
  }
  return need;
}

/* ---- push --------------------------------------------------------------- */

kj_code kj_push_encode(kj_buf *out, int64_t device_time, const kj_change *ch, int n, int peer,
                       kj_err *err) {
  return kj_push_encode_inc(out, device_time, NULL, ch, n, peer, err);
}

int kj_incarnation_valid(const char *s) {
  size_t n = 0;
  for (; s && s[n]; n++)
    if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'z')) || n >= KJ_INCARNATION_MAX)
      return 0;
  return s != NULL;
}

/* ---- the change's JSON, written straight (no cJSON tree) ------------------ */

/* s as a JSON string exactly as cJSON_PrintUnformatted writes it: '"' and
 * '\\' escaped, \b \f \n \r \t by name, other bytes below 0x20 as \u00xx
 * (lower-case hex), every other byte as it is. */
/* 1 for a byte JSON takes as it is inside a string: not a control
 * character (NUL included), '"' (0x22) or '\\' (0x5c). */
#define P16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
#define Z16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
static const unsigned char k_plain[256] = {
    Z16, Z16,                                                           /* 0x00-0x1f */
    1,   1,   0,   1,   1,   1,   1,   1,   1,   1,   1, 1, 1, 1, 1, 1, /* 0x20-0x2f */
    P16, P16,                                                           /* 0x30-0x4f */
    1,   1,   1,   1,   1,   1,   1,   1,   1,   1,   1, 1, 0, 1, 1, 1, /* 0x50-0x5f */
    P16, P16, P16, P16, P16, P16, P16, P16, P16, P16,                   /* 0x60-0xff */
};
#undef P16
#undef Z16

/* The bytes of s up to its NUL or the first byte JSON escapes. */
static size_t json_plain_len(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n = 0;
  while (k_plain[p[n]])
    n++;
  return n;
}

/* kj_buf_addc without the call when there is room (the text writers add
 * a few hundred ',' and ':' per record). */
static inline kj_code addc(kj_buf *b, char c) {
  if (b->data && b->len + 2 <= b->cap) {
    b->data[b->len++] = c;
    b->data[b->len] = 0;
    return KJ_OK;
  }
  return kj_buf_addc(b, c);
}

static kj_code json_str(kj_buf *b, const char *s) {
  static const char hex[] = "0123456789abcdef";
  size_t n = json_plain_len(s);
  if (!s[n]) { /* nothing to escape: the common case, one copy */
    if ((!b->data || b->len + n + 3 > b->cap) && kj_buf_reserve(b, n + 2))
      return KJ_ENOMEM;
    char *p = b->data + b->len;
    p[0] = '"';
    memcpy(p + 1, s, n);
    p[n + 1] = '"';
    p[n + 2] = 0;
    b->len += n + 2;
    return KJ_OK;
  }
  if (kj_buf_addc(b, '"'))
    return KJ_ENOMEM;
  const char *run = s;
  for (const unsigned char *p = (const unsigned char *)s;; p++) {
    unsigned char ch = *p;
    if (ch >= 0x20 && ch != '"' && ch != '\\')
      continue;
    if (p > (const unsigned char *)run &&
        kj_buf_add(b, run, (size_t)(p - (const unsigned char *)run)))
      return KJ_ENOMEM;
    run = (const char *)p + 1;
    if (!ch)
      break;
    char esc[7] = {'\\', 0};
    size_t k = 2;
    switch (ch) {
    case '"':
      esc[1] = '"';
      break;
    case '\\':
      esc[1] = '\\';
      break;
    case '\b':
      esc[1] = 'b';
      break;
    case '\f':
      esc[1] = 'f';
      break;
    case '\n':
      esc[1] = 'n';
      break;
    case '\r':
      esc[1] = 'r';
      break;
    case '\t':
      esc[1] = 't';
      break;
    default:
      esc[1] = 'u';
      esc[2] = '0';
      esc[3] = '0';
      esc[4] = hex[ch >> 4];
      esc[5] = hex[ch & 15];
      k = 6;
    }
    if (kj_buf_add(b, esc, k))
      return KJ_ENOMEM;
  }
  return kj_buf_addc(b, '"') ? KJ_ENOMEM : KJ_OK;
}

/* "name": of a field of the type table, appended to b: its names are
 * [a-z0-9_] (proto/record.c), nothing to escape, so one copy without
 * json_str's scan (about 50 of them per pushed record). */
static kj_code json_key(kj_buf *b, const char *name) {
  size_t n = strlen(name);
  if ((!b->data || b->len + n + 4 > b->cap) && kj_buf_reserve(b, n + 3))
    return KJ_ENOMEM;
  char *p = b->data + b->len;
  p[0] = '"';
  memcpy(p + 1, name, n);
  p[n + 1] = '"';
  p[n + 2] = ':';
  p[n + 3] = 0;
  b->len += n + 3;
  return KJ_OK;
}

/* The decimal digits of v, into out (at least 21 bytes); their count. */
static size_t u64_digits(uint64_t v, char *out) {
  /* two digits a division (a stamp has 19) */
  static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233"
                              "34353637383940414243444546474849505152535455565758596061626364656667"
                              "6869707172737475767778798081828384858687888990919293949596979899";
  char tmp[24];
  char *p = tmp + sizeof tmp;
  while (v >= 100) {
    unsigned r = (unsigned)(v % 100);
    v /= 100;
    p -= 2;
    memcpy(p, pairs + 2 * r, 2);
  }
  if (v >= 10) {
    p -= 2;
    memcpy(p, pairs + 2 * v, 2);
  } else {
    *--p = (char)('0' + v);
  }
  size_t n = (size_t)(tmp + sizeof tmp - p);
  memcpy(out, p, n);
  out[n] = 0;
  return n;
}

/* A number as cJSON_PrintUnformatted (1.7.15) writes one made by
 * cJSON_AddNumberToObject((double)v): "%d" of an int, else "%1.15g", or
 * "%1.17g" when that does not read back the same within cJSON's epsilon. */
static kj_code json_seq(kj_buf *b, int64_t v) {
  char num[32];
  double d = (double)v;
  if (v >= 0 && v <= 2147483647) {
    u64_digits((uint64_t)v, num);
  } else {
    snprintf(num, sizeof num, "%1.15g", d);
    double back = strtod(num, NULL); /* cJSON's compare_double: equal within an epsilon */
    if (fabs(back - d) > fmax(fabs(back), fabs(d)) * DBL_EPSILON)
      snprintf(num, sizeof num, "%1.17g", d);
  }
  return kj_buf_adds(b, num) ? KJ_ENOMEM : KJ_OK;
}

/* "del":true or "f":{...} of change c (its mask's fields in type order, a
 * cleared one as null), appended to b. */
static kj_code change_body(kj_buf *b, const kj_change *c, const kj_type_def *t) {
  if (c->rec.deleted)
    return kj_buf_adds(b, "\"del\":true") ? KJ_ENOMEM : KJ_OK;
  if (kj_buf_adds(b, "\"f\":{"))
    return KJ_ENOMEM;
  int first = 1;
  for (int i = 0; i < t->nfields; i++) {
    if (!(c->mask & (1u << i)))
      continue;
    if ((!first && addc(b, ',')) || json_key(b, t->fields[i].name))
      return KJ_ENOMEM;
    first = 0;
    const char *v = c->rec.v[i];
    if (v ? json_str(b, v) != KJ_OK : kj_buf_adds(b, "null") != KJ_OK)
      return KJ_ENOMEM;
  }
  return kj_buf_addc(b, '}') ? KJ_ENOMEM : KJ_OK;
}

kj_code kj_change_body_json(const kj_change *c, kj_buf *out, kj_err *err) {
  const kj_type_def *t = kj_type(c->rec.type);
  if (!t)
    return kj_fail(err, KJ_EINVAL, "change of '%s': unknown type", c->rec.id);
  if (kj_buf_addc(out, '{') || change_body(out, c, t) || kj_buf_addc(out, '}'))
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  return KJ_OK;
}

/* A change as a push carries it and as its digest is taken of:
 * kj_change_to_json without "device" (and without "author" unless
 * with_author), as cJSON_PrintUnformatted writes it (same keys, same
 * order, same escapes), appended to b.  *body_at (when not NULL): the
 * offset of the ',' before the body ("f" or "del"), which ends the text. */
static kj_code change_text(const kj_change *c, int with_author, kj_buf *b, size_t *body_at) {
  const kj_type_def *t = kj_type(c->rec.type);
  if (!t)
    return KJ_ENOMEM; /* as before: kj_change_to_json gave NULL */
  char h[24];
  u64_digits(c->hlc, h);
  if (kj_buf_adds(b, "{\"seq\":") || json_seq(b, c->seq) || kj_buf_adds(b, ",\"id\":") ||
      json_str(b, c->rec.id) || kj_buf_adds(b, ",\"type\":") || json_str(b, t->name) ||
      kj_buf_adds(b, ",\"hlc\":\"") || kj_buf_adds(b, h) || kj_buf_addc(b, '"'))
    return KJ_ENOMEM;
  if (with_author && c->author[0] && (kj_buf_adds(b, ",\"author\":") || json_str(b, c->author)))
    return KJ_ENOMEM;
  if (body_at)
    *body_at = b->len;
  if (addc(b, ',') || change_body(b, c, t) || kj_buf_addc(b, '}'))
    return KJ_ENOMEM;
  return KJ_OK;
}

static void sha256_mbedtls(const void *data, size_t len, unsigned char out[32]) {
  mbedtls_sha256_ret((const unsigned char *)data, len, out, 0);
}

kj_code kj_change_digest(const kj_change *c, unsigned char out[KJ_CHANGE_DIGEST_LEN], kj_err *err) {
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  size_t body;
  kj_code rc = kj_buf_reserve(&b, 512)
                   ? kj_fail(err, KJ_ENOMEM, "out of memory")
                   : kj_change_digest_text(c, sha256_mbedtls, &b, &body, out, err);
  kj_buf_release(&b);
  return rc;
}

kj_code kj_change_digest_text(const kj_change *c, kj_sha256_fn sha, kj_buf *text, size_t *body,
                              unsigned char out[KJ_CHANGE_DIGEST_LEN], kj_err *err) {
  size_t at = text->len, comma = 0;
  if (change_text(c, 1, text, &comma) || kj_buf_addc(text, 0)) {
    if (text->data && text->len > at) {
      text->len = at;
      text->data[at] = 0;
    }
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  unsigned char h[32];
  sha(text->data + at, text->len - 1 - at, h); /* less the NUL byte */
  memcpy(out, h, KJ_CHANGE_DIGEST_LEN);
  text->data[comma] = '{'; /* the body, as kj_change_body_json writes it */
  *body = comma;
  return KJ_OK;
}

/* A stamp "HLC/DEVICE" as a JSON string. */
static kj_code json_stamp(kj_buf *b, const kj_stamp *st) {
  size_t d = strnlen(st->device, KJ_DEVICE_MAX);
  if (d < KJ_DEVICE_MAX && json_plain_len(st->device) == d) {
    /* written in place: '"', the digits, '/', the device, '"' */
    if ((!b->data || b->len + d + 26 > b->cap) && kj_buf_reserve(b, d + 25))
      return KJ_ENOMEM;
    char *p = b->data + b->len;
    *p++ = '"';
    p += u64_digits(st->hlc, p);
    *p++ = '/';
    memcpy(p, st->device, d);
    p += d;
    *p++ = '"';
    *p = 0;
    b->len = (size_t)(p - b->data);
    return KJ_OK;
  }
  char txt[24 + KJ_DEVICE_MAX + 2];
  size_t n = u64_digits(st->hlc, txt);
  txt[n++] = '/';
  d = strnlen(st->device, sizeof txt - n - 1);
  memcpy(txt + n, st->device, d);
  txt[n + d] = 0;
  return json_str(b, txt);
}

/* The last stamp json_stamp_c wrote, kept as text: the stamps of one
 * state are mostly the same (one change writes all of a new record's
 * fields), and a copy costs less than the digits again. */
typedef struct stamp_cache {
  kj_hlc hlc;
  const char *device; /* NULL: empty */
  size_t len;
  char text[32 + KJ_DEVICE_MAX];
} stamp_cache;

/* json_stamp through cache c. */
static kj_code json_stamp_c(kj_buf *b, const kj_stamp *st, stamp_cache *c) {
  if (c->device && c->hlc == st->hlc && !strcmp(c->device, st->device)) {
    if ((!b->data || b->len + c->len + 1 > b->cap) && kj_buf_reserve(b, c->len))
      return KJ_ENOMEM;
    memcpy(b->data + b->len, c->text, c->len + 1);
    b->len += c->len;
    return KJ_OK;
  }
  size_t at = b->len;
  if (json_stamp(b, st))
    return KJ_ENOMEM;
  size_t n = b->len - at;
  if (n < sizeof c->text) {
    memcpy(c->text, b->data + at, n);
    c->text[n] = 0;
    c->len = n;
    c->hlc = st->hlc;
    c->device = st->device;
  } else {
    c->device = NULL;
  }
  return KJ_OK;
}

kj_code kj_rstate_json(const kj_rstate *s, kj_buf *out, kj_err *err) {
  stamp_cache sc = {0, NULL, 0, {0}};
  const kj_type_def *t = kj_type(s->rec.type);
  if (!t)
    return kj_fail(err, KJ_EINVAL, "state of '%s': unknown type", s->rec.id);
  kj_buf *b = out;
  if (kj_buf_adds(b, "{\"id\":") || json_str(b, s->rec.id) || kj_buf_adds(b, ",\"type\":") ||
      json_str(b, t->name) || kj_buf_adds(b, s->rec.deleted ? ",\"del\":true" : ",\"del\":false") ||
      kj_buf_adds(b, ",\"f\":{"))
    goto nomem;
  int first = 1;
  for (int i = 0; i < t->nfields; i++) {
    if (!s->rec.v[i])
      continue;
    if ((!first && addc(b, ',')) || json_key(b, t->fields[i].name) || json_str(b, s->rec.v[i]))
      goto nomem;
    first = 0;
  }
  for (int i = 0; i < s->nx; i++) {
    if (!s->x[i].value)
      continue;
    if ((!first && addc(b, ',')) || json_str(b, s->x[i].name) || addc(b, ':') ||
        json_str(b, s->x[i].value))
      goto nomem;
    first = 0;
  }
  /* the common stamp once as "s", the others in "t" (proto/wire.h) */
  const kj_stamp *cs = kj_rstate_common_stamp(s);
  if (kj_buf_addc(b, '}') || (cs && (kj_buf_adds(b, ",\"s\":") || json_stamp_c(b, cs, &sc))))
    goto nomem;
  first = 1;
  for (int i = 0; i < t->nfields; i++) {
    const kj_stamp *st = &s->st[i];
    if (!st->hlc && !s->rec.v[i])
      continue;
    if (s->rec.v[i] && cs && st->hlc == cs->hlc && !strcmp(st->device, cs->device))
      continue;
    if ((first ? kj_buf_adds(b, ",\"t\":{") : addc(b, ',')) || json_key(b, t->fields[i].name) ||
        json_stamp_c(b, st, &sc))
      goto nomem;
    first = 0;
  }
  for (int i = 0; i < s->nx; i++) {
    const kj_stamp *st = &s->x[i].st;
    if (s->x[i].value && cs && st->hlc == cs->hlc && !strcmp(st->device, cs->device))
      continue;
    if ((first ? kj_buf_adds(b, ",\"t\":{") : addc(b, ',')) || json_str(b, s->x[i].name) ||
        addc(b, ':') || json_stamp_c(b, st, &sc))
      goto nomem;
    first = 0;
  }
  if (first ? !cs && kj_buf_adds(b, ",\"t\":{}") : kj_buf_addc(b, '}'))
    goto nomem;
  if (s->rec.deleted && (kj_buf_adds(b, ",\"dt\":") || json_stamp(b, &s->del)))
    goto nomem;
  if (kj_buf_addc(b, '}'))
    goto nomem;
  return KJ_OK;
nomem:
  return kj_fail(err, KJ_ENOMEM, "out of memory");
}

kj_code kj_change_digest_tree(const kj_change *c, unsigned char out[KJ_CHANGE_DIGEST_LEN],
                              kj_err *err) {
  cJSON *o = kj_change_to_json(c);
  if (o)
    cJSON_DeleteItemFromObjectCaseSensitive(o, "device");
  char *text = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!text)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  unsigned char h[32];
  mbedtls_sha256_ret((const unsigned char *)text, strlen(text), h, 0);
  free(text);
  memcpy(out, h, KJ_CHANGE_DIGEST_LEN);
  return KJ_OK;
}

/* Out of memory while writing at out[len0..]: out left as it was before
 * (its first len0 bytes), and KJ_ENOMEM in err. */
static kj_code wire_oom(kj_buf *out, size_t len0, kj_err *err) {
  if (out->data && out->len >= len0) {
    out->len = len0;
    out->data[len0] = 0;
  }
  return kj_fail(err, KJ_ENOMEM, "out of memory");
}

/* {"device_time":T,"protocol":P[,"incarnation":I],"changes":[ */
static kj_code push_head(kj_buf *out, int64_t device_time, const char *incarnation) {
  if (kj_buf_adds(out, "{\"device_time\":") || json_seq(out, device_time) ||
      kj_buf_adds(out, ",\"protocol\":") || json_seq(out, KJ_PROTOCOL_MAX))
    return KJ_ENOMEM;
  if (incarnation && incarnation[0] &&
      (kj_buf_adds(out, ",\"incarnation\":") || json_str(out, incarnation)))
    return KJ_ENOMEM;
  return kj_buf_adds(out, ",\"changes\":[") ? KJ_ENOMEM : KJ_OK;
}

kj_code kj_push_encode_inc(kj_buf *out, int64_t device_time, const char *incarnation,
                           const kj_change *ch, int n, int peer, kj_err *err) {
  /* written straight, the text cJSON printed of kj_change_to_json less
   * "device" (the server knows it) and, for a peer before protocol 2,
   * "author" */
  size_t len0 = out->len;
  if (push_head(out, device_time, incarnation))
    goto oom;
  for (int i = 0; i < n; i++)
    if ((i && kj_buf_addc(out, ',')) || change_text(&ch[i], peer >= 2, out, NULL))
      goto oom;
  if (kj_buf_adds(out, "]}"))
    goto oom;
  return KJ_OK;
oom:
  return wire_oom(out, len0, err);
}

kj_code kj_push_wire_open(kj_buf *out, int64_t device_time, const char *incarnation, kj_err *err) {
  size_t len0 = out->len;
  if (!push_head(out, device_time, incarnation))
    return KJ_OK;
  return wire_oom(out, len0, err);
}

/* 1 when s[0..len) is one JSON object whose values are strings, literals,
 * numbers, objects and arrays, well nested and well quoted, as a stored
 * change always is: a lexical check, not a parse (the server parses it);
 * it keeps a damaged row from breaking the JSON of the whole body. */
static int stored_object_ok(const char *s, size_t len) {
  if (len < 2 || s[0] != '{' || s[len - 1] != '}')
    return 0;
  int depth = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"') {
      for (i++; i < len && s[i] != '"'; i++) {
        if ((unsigned char)s[i] < 0x20)
          return 0;
        if (s[i] != '\\')
          continue;
        if (++i >= len || !strchr("\"\\/bfnrtu", s[i]) || !s[i])
          return 0;
        if (s[i] == 'u') {
          for (int k = 0; k < 4; k++)
            if (++i >= len || !isxdigit((unsigned char)s[i]))
              return 0;
        }
      }
      if (i >= len)
        return 0; /* unterminated */
    } else if (ch == '{' || ch == '[') {
      depth++;
    } else if (ch == '}' || ch == ']') {
      if (--depth < 0 || (depth == 0 && i != len - 1))
        return 0;
    } else if (ch >= 'a' && ch <= 'z' && !(ch == 'e' && isdigit((unsigned char)s[i - 1]))) {
      /* only the literals (an 'e' after a digit is a number's exponent) */
      static const char *const lit[] = {"true", "false", "null"};
      size_t k = 0, m = 0;
      for (; k < 3; k++)
        if (len - i >= (m = strlen(lit[k])) && !memcmp(s + i, lit[k], m))
          break;
      if (k == 3)
        return 0;
      i += m - 1;
    } else if (!(ch == ',' || ch == ':' || (ch >= '0' && ch <= '9') || ch == '-' || ch == '+' ||
                 ch == '.' || ch == 'E' || ch == 'e' || ch == ' ' || ch == '\t' || ch == '\n' ||
                 ch == '\r')) {
      return 0;
    }
  }
  return depth == 0;
}

kj_code kj_push_wire_change(kj_buf *out, int first, int64_t seq, const char *id, const char *type,
                            kj_hlc hlc, const char *stored, size_t len, kj_err *err) {
  if (!stored || !stored_object_ok(stored, len))
    return kj_fail(err, KJ_EPROTO, "change %lld of '%s': the stored change is not a JSON object",
                   (long long)seq, id);
  size_t len0 = out->len;
  char h[24];
  u64_digits(hlc, h);
  if ((!first && addc(out, ',')) || kj_buf_adds(out, "{\"seq\":") || json_seq(out, seq) ||
      kj_buf_adds(out, ",\"id\":") || json_str(out, id) || kj_buf_adds(out, ",\"type\":") ||
      json_str(out, type) || kj_buf_adds(out, ",\"hlc\":\"") || kj_buf_adds(out, h) ||
      kj_buf_addc(out, '"'))
    goto oom;
  /* the stored object's members follow the head's; {} has none */
  if (len > 2 && addc(out, ','))
    goto oom;
  if (kj_buf_add(out, stored + 1, len - 1))
    goto oom;
  return KJ_OK;
oom:
  return wire_oom(out, len0, err);
}

kj_code kj_push_wire_close(kj_buf *out, kj_err *err) {
  return kj_buf_adds(out, "]}") ? kj_fail(err, KJ_ENOMEM, "out of memory") : KJ_OK;
}

/* Offset of a NUL byte or a \u0000 escape in JSON text, or -1.  cJSON would
 * end the string there and a value would be silently cut short (found by
 * test_hostile); a backslash counts only when not itself escaped. */
static long find_nul_escape(const char *s, size_t len) {
  const char *raw = memchr(s, 0, len);
  if (raw)
    return (long)(raw - s);
  /* from backslash to backslash (memchr: a push body has few; a byte loop
   * cost 3,000 instructions per pushed change) */
  for (const char *p = memchr(s, '\\', len); p && (size_t)(p - s) + 6 <= len;
       p = (size_t)(p - s) + 2 < len ? memchr(p + 2, '\\', len - (size_t)(p - s) - 2) : NULL) {
    if (!memcmp(p + 1, "u0000", 5))
      return (long)(p - s);
    /* p + 1 is the escaped character: skipped */
  }
  return -1;
}

/* Parse a request body as one JSON object (the messages every POST takes). */
static cJSON *parse_object(const char *body, size_t len, kj_err *err) {
  if (len == 0) {
    kj_fail(err, KJ_EPROTO, "bad JSON: empty body");
    return NULL;
  }
  long nul = find_nul_escape(body, len);
  if (nul >= 0) {
    kj_fail(err, KJ_EPROTO, "bad JSON at byte %ld: strings must not contain NUL (\\u0000)", nul);
    return NULL;
  }
  const char *end = NULL;
  cJSON *doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
  if (!doc) {
    size_t off = end && end >= body ? (size_t)(end - body) : 0;
    kj_fail(err, KJ_EPROTO, "bad JSON at byte %zu", off);
    return NULL;
  }
  if (!cJSON_IsObject(doc)) {
    cJSON_Delete(doc);
    kj_fail(err, KJ_EPROTO, "bad JSON: the body must be an object");
    return NULL;
  }
  return doc;
}

/* KJ_ENOMEM when the change could not be read for want of memory (the
 * request fails: the change is not bad), else KJ_OK. */
static kj_code decode_entry(kj_push_entry *it, const cJSON *el, int i, int lend) {
  kj_err e;
  kj_err_clear(&e);
  it->seq = -1;
  const cJSON *seq = cJSON_IsObject(el) ? get(el, "seq") : NULL;
  int64_t s;
  if (has_count(seq, &s))
    it->seq = s;
  /* lend: the values stay in the body's tree, kept with the request */
  kj_code rc =
      lend ? kj_change_from_json_lent(el, &it->ch, &e) : kj_change_from_json(el, &it->ch, &e);
  if (rc == KJ_OK && !seq) {
    kj_change_release(&it->ch);
    rc = kj_fail(&e, KJ_EPROTO, "'seq': is required");
  }
  if (rc == KJ_ENOMEM) {
    it->ok = 0;
    return KJ_ENOMEM;
  }
  if (rc != KJ_OK) {
    it->ok = 0;
    const cJSON *id = cJSON_IsObject(el) ? get(el, "id") : NULL;
    const char *msg = e.msg[0] ? e.msg : "malformed change";
    if (id && cJSON_IsString(id))
      snprintf(it->error, sizeof it->error, "changes[%d] (id %.40s): %s", i, id->valuestring, msg);
    else
      snprintf(it->error, sizeof it->error, "changes[%d]: %s", i, msg);
    return KJ_OK;
  }
  it->ok = 1;
  it->seq = it->ch.seq;
  return KJ_OK;
}

static kj_code push_decode(const char *body, size_t len, int max_batch, kj_push_req *req,
                           kj_err *err);

/* ---- the arena of a push body's cJSON tree ----
 * cJSON allocates every node and string of a parsed body with malloc and
 * cJSON_Delete frees them one by one: for a push, about 40 of each per
 * change, a quarter of the decode's instructions.  With kj_json_arena_install's
 * hooks, the thread decoding a push allocates them from chunks of its own
 * (a bump pointer) while kj_push_decode runs, and frees the chunks at its
 * end instead of walking the tree; everywhere else the hooks are malloc
 * and free. */
#define ARENA_CHUNK ((size_t)256 << 10)
#define ARENA_HDR ((sizeof(achunk) + 15) & ~(size_t)15)
typedef struct achunk {
  struct achunk *next;
  size_t size, used;
} achunk;
static _Thread_local achunk *t_arena; /* the chunks, newest (being filled) first */
static _Thread_local int t_arena_on;
static _Thread_local int t_arena_used; /* arena_malloc served this decode */
static atomic_int k_arena_hooks;

static void *arena_malloc(size_t n) {
  if (!t_arena_on)
    return malloc(n);
  t_arena_used = 1;
  n = (n + 15) & ~(size_t)15;
  achunk *c = t_arena;
  if (!c || c->size - c->used < n) {
    size_t size = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
    achunk *m = malloc(ARENA_HDR + size);
    if (!m)
      return NULL;
    m->size = size;
    m->used = 0;
    if (c && size != ARENA_CHUNK) { /* a big one of its own: the current chunk goes on */
      m->next = c->next;
      c->next = m;
    } else {
      m->next = c;
      t_arena = m;
    }
    c = m;
  }
  void *p = (char *)c + ARENA_HDR + c->used;
  c->used += n;
  return p;
}

static void arena_free(void *p) {
  if (!t_arena_on)
    free(p);
  /* else: freed with its chunk at the end of the decode */
}

void kj_json_arena_install(void) {
  int none = 0;
  if (!atomic_compare_exchange_strong(&k_arena_hooks, &none, 1))
    return;
  cJSON_Hooks h = {arena_malloc, arena_free};
  cJSON_InitHooks(&h);
}

static int arena_begin(void) {
  if (!atomic_load(&k_arena_hooks))
    return 0;
  t_arena = NULL;
  t_arena_on = 1;
  t_arena_used = 0;
  return 1;
}

static void arena_end(void) {
  t_arena_on = 0;
  while (t_arena) {
    achunk *c = t_arena;
    t_arena = c->next;
    free(c);
  }
}

kj_code kj_push_decode(const char *body, size_t len, int max_batch, kj_push_req *req, kj_err *err) {
  int arena = arena_begin();
  kj_code rc = push_decode(body, len, max_batch, req, err);
  if (arena && !rc && t_arena_used) { /* the changes' values are in it: the request keeps it */
    req->arena = t_arena;
    t_arena = NULL;
  }
  if (arena)
    arena_end();
  return rc;
}

static kj_code push_decode(const char *body, size_t len, int max_batch, kj_push_req *req,
                           kj_err *err) {
  memset(req, 0, sizeof *req);
  req->protocol = 1;
  cJSON *doc = parse_object(body, len, err);
  if (!doc)
    return KJ_EPROTO;
  kj_code rc = KJ_OK;
  const cJSON *changes = get(doc, "changes"), *dt = get(doc, "device_time");
  const cJSON *pr = get(doc, "protocol");
  int64_t v = 1;
  if (!cJSON_IsArray(changes)) {
    rc = kj_fail(err, KJ_EPROTO, "bad JSON: 'changes' must be an array");
    goto out;
  }
  /* 1e999 parses to inf: range-check before any cast (found by fuzz_push) */
  if (dt &&
      (!cJSON_IsNumber(dt) || !(dt->valuedouble >= 0 && dt->valuedouble <= KJ_JSON_INT_MAX))) {
    rc = kj_fail(err, KJ_EPROTO, "bad JSON: 'device_time' must be a number (ms since the epoch)");
    goto out;
  }
  if (dt) {
    req->has_device_time = 1;
    req->device_time = (int64_t)dt->valuedouble;
  }
  if (get_count(pr, &v, NULL) || (pr && (v < 1 || v > 1000000))) {
    rc = kj_fail(err, KJ_EPROTO, "bad JSON: 'protocol' must be a whole number >= 1");
    goto out;
  }
  if (pr)
    req->protocol = (int)v;
  const cJSON *inc = get(doc, "incarnation");
  if (inc &&
      (!cJSON_IsString(inc) || !inc->valuestring[0] || !kj_incarnation_valid(inc->valuestring))) {
    rc =
        kj_fail(err, KJ_EPROTO, "bad JSON: 'incarnation' must be 1 to %d characters of 0-9 and a-z",
                KJ_INCARNATION_MAX);
    goto out;
  }
  if (inc)
    snprintf(req->incarnation, sizeof req->incarnation, "%s", inc->valuestring);
  int n = cJSON_GetArraySize(changes);
  if (n > max_batch) {
    rc = kj_fail(err, KJ_ETOOBIG, "batch of %d changes is over the limit of %d", n, max_batch);
    goto out;
  }
  req->e = calloc(n ? (size_t)n : 1, sizeof *req->e);
  if (!req->e) {
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
    goto out;
  }
  const cJSON *el;
  cJSON_ArrayForEach(el, changes) {
    if (decode_entry(&req->e[req->n], el, req->n, t_arena_on && t_arena_used) == KJ_ENOMEM) {
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
      goto out;
    }
    req->n++;
  }
out:
  /* the arena's chunks go at once; a tree made by other hooks (installed
   * after kj_json_arena_install, e.g. a test's failing allocator) is freed
   * node by node as usual */
  if (!t_arena_on || !t_arena_used)
    cJSON_Delete(doc);
  if (rc)
    kj_push_req_release(req);
  return rc;
}

void kj_push_req_release(kj_push_req *req) {
  if (!req)
    return;
  for (int i = 0; req->e && i < req->n; i++)
    if (req->e[i].ok)
      kj_change_release(&req->e[i].ch);
  free(req->e);
  req->e = NULL;
  req->n = 0;
  for (achunk *c = req->arena, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  req->arena = NULL;
}

static const char *const k_status[] = {"applied", "duplicate", "rejected", "reused", "missing"};

const char *kj_push_status_name(kj_push_status s) {
  return (unsigned)s < 5 ? k_status[s] : "rejected";
}

kj_code kj_push_results_encode(kj_buf *out, const kj_push_result *r, int n, int64_t server_time,
                               kj_err *err) {
  return kj_push_results_encode_high(out, r, n, server_time, -1, err);
}

kj_code kj_push_results_encode_high(kj_buf *out, const kj_push_result *r, int n,
                                    int64_t server_time, int64_t device_high, kj_err *err) {
  /* written straight (one answer per record of a push: a cJSON tree here
   * cost more than the record's own insert), the text cJSON would print */
  size_t len0 = out->len;
  if (kj_buf_adds(out, "{\"results\":["))
    goto oom;
  for (int i = 0; i < n; i++) {
    if ((i && kj_buf_addc(out, ',')) || kj_buf_adds(out, "{\"seq\":") ||
        (r[i].seq >= 0 ? json_seq(out, r[i].seq) : kj_buf_adds(out, "null")) ||
        kj_buf_adds(out, ",\"status\":") || json_str(out, kj_push_status_name(r[i].status)))
      goto oom;
    if (r[i].status == KJ_PUSH_REJECTED &&
        (kj_buf_adds(out, ",\"error\":") || json_str(out, r[i].error ? r[i].error : "") ||
         (r[i].retry && kj_buf_adds(out, ",\"retry\":true"))))
      goto oom;
    if (r[i].status == KJ_PUSH_REJECTED && r[i].why && r[i].why->code) {
      const kj_refusal *w = r[i].why;
      if (kj_buf_adds(out, ",\"code\":") || json_str(out, w->code) ||
          kj_buf_adds(out, ",\"field\":") || json_str(out, w->field) ||
          kj_buf_adds(out, ",\"args\":["))
        goto oom;
      for (int k = 0; k < w->nargs && k < KJ_REFUSAL_NARGS; k++)
        if ((k && kj_buf_addc(out, ',')) || json_str(out, w->args[k]))
          goto oom;
      if (kj_buf_addc(out, ']'))
        goto oom;
    }
    if (kj_buf_addc(out, '}'))
      goto oom;
  }
  if (kj_buf_adds(out, "],\"server_time\":") || json_seq(out, server_time) ||
      kj_buf_adds(out, ",\"protocol\":") || json_seq(out, KJ_PROTOCOL_MAX))
    goto oom;
  if (device_high >= 0 && (kj_buf_adds(out, ",\"device_high\":") || json_seq(out, device_high)))
    goto oom;
  if (kj_buf_addc(out, '}'))
    goto oom;
  return KJ_OK;
oom:
  return wire_oom(out, len0, err);
}

/* A rejected result `it` that names a rule's "code" with its "args" (at
 * most KJ_REFUSAL_NARGS strings): *out = the reason kinerja keeps,
 * {"code","field","args","text"} as JSON (kj_refusal_reason reads it).
 * Anything else leaves *out NULL (the text alone is kept).  KJ_ENOMEM. */
static kj_code refusal_keep(const cJSON *it, const char *text, char **out, kj_err *err) {
  const cJSON *code = get(it, "code"), *field = get(it, "field"), *args = get(it, "args");
  *out = NULL;
  if (!cJSON_IsString(code) || !code->valuestring[0] || !cJSON_IsArray(args) ||
      cJSON_GetArraySize(args) > KJ_REFUSAL_NARGS)
    return KJ_OK;
  const cJSON *el;
  cJSON_ArrayForEach(el, args) if (!cJSON_IsString(el)) return KJ_OK;
  cJSON *o = cJSON_CreateObject();
  cJSON *a = cJSON_Duplicate(args, 1);
  if (!o || !a || !cJSON_AddStringToObject(o, "code", code->valuestring) ||
      !cJSON_AddStringToObject(o, "field", cJSON_IsString(field) ? field->valuestring : "") ||
      !cJSON_AddItemToObject(o, "args", a) || (a = NULL) ||
      !cJSON_AddStringToObject(o, "text", text ? text : "")) {
    cJSON_Delete(a);
    cJSON_Delete(o);
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  char *p = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  *out = p ? strdup(p) : NULL; /* the caller frees with free() */
  cJSON_free(p);
  return *out ? KJ_OK : kj_fail(err, KJ_ENOMEM, "out of memory");
}

kj_code kj_push_answer_decode(const char *text, size_t len, kj_push_answer *a, kj_err *err) {
  memset(a, 0, sizeof *a);
  a->server_time = -1;
  a->device_high = -1;
  cJSON *o = cJSON_ParseWithLength(text, len);
  kj_code rc = KJ_OK;
  const cJSON *results = cJSON_IsObject(o) ? get(o, "results") : NULL;
  if (!cJSON_IsArray(results)) {
    rc = kj_fail(err, KJ_EPROTO, "push: the server's answer has no 'results'");
    goto out;
  }
  if (!has_count(get(o, "server_time"), &a->server_time))
    a->server_time = -1;
  int64_t pv = 1;
  a->protocol = has_count(get(o, "protocol"), &pv) && pv >= 1 && pv <= 1000000 ? (int)pv : 1;
  if (!has_count(get(o, "device_high"), &a->device_high))
    a->device_high = -1;
  int n = cJSON_GetArraySize(results);
  a->r = calloc(n ? (size_t)n : 1, sizeof *a->r);
  if (!a->r) {
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
    goto out;
  }
  const cJSON *it;
  cJSON_ArrayForEach(it, results) {
    kj_push_result *r = &a->r[a->n++];
    int64_t s;
    r->seq = has_count(get(it, "seq"), &s) ? s : -1;
    const cJSON *st = get(it, "status"), *er = get(it, "error");
    const char *name = cJSON_IsString(st) ? st->valuestring : "";
    const char *why = cJSON_IsString(er) ? er->valuestring : NULL;
    char other[96];
    if (!strcmp(name, "applied")) {
      r->status = KJ_PUSH_APPLIED;
    } else if (!strcmp(name, "duplicate")) {
      r->status = KJ_PUSH_DUPLICATE;
    } else if (!strcmp(name, "reused")) {
      r->status = KJ_PUSH_REUSED;
    } else if (!strcmp(name, "missing")) {
      r->status = KJ_PUSH_MISSING;
      if (!why)
        why = "the server does not hold this record";
    } else {
      r->status = KJ_PUSH_REJECTED;
      if (strcmp(name, "rejected") != 0) {
        snprintf(other, sizeof other, "the server answered status '%.40s'", name);
        why = other;
      }
    }
    r->retry = r->status == KJ_PUSH_REJECTED && cJSON_IsTrue(get(it, "retry"));
    if (r->status == KJ_PUSH_REJECTED && !r->retry && why == (er ? er->valuestring : NULL) &&
        (rc = refusal_keep(it, why, &r->error, err)))
      goto out;
    if (r->status == KJ_PUSH_REJECTED && !r->error && !(r->error = strdup(why ? why : ""))) {
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
      goto out;
    }
  }
out:
  cJSON_Delete(o);
  if (rc)
    kj_push_answer_release(a);
  return rc;
}

void kj_push_answer_release(kj_push_answer *a) {
  if (!a)
    return;
  for (int i = 0; a->r && i < a->n; i++)
    free(a->r[i].error);
  free(a->r);
  a->r = NULL;
  a->n = 0;
}

/* ---- push status (batches cut in flight) -------------------------------- */

kj_code kj_push_probe_digest(const kj_change *ch, int n, unsigned char out[32], kj_err *err) {
  mbedtls_sha256_context x;
  mbedtls_sha256_init(&x);
  mbedtls_sha256_starts_ret(&x, 0);
  kj_code rc = KJ_OK;
  for (int i = 0; !rc && i < n; i++) {
    unsigned char d[KJ_CHANGE_DIGEST_LEN];
    if (!(rc = kj_change_digest(&ch[i], d, err)))
      mbedtls_sha256_update_ret(&x, d, sizeof d);
  }
  if (!rc)
    mbedtls_sha256_finish_ret(&x, out);
  mbedtls_sha256_free(&x);
  return rc;
}

kj_code kj_push_probe_encode(kj_buf *out, const kj_push_probe *p, kj_err *err) {
  static const char hex[] = "0123456789abcdef";
  if (kj_buf_adds(out, "{"))
    goto oom;
  if (p->incarnation[0] && (kj_buf_adds(out, "\"incarnation\":") || json_str(out, p->incarnation) ||
                            kj_buf_addc(out, ',')))
    goto oom;
  if (kj_buf_adds(out, "\"batches\":["))
    goto oom;
  for (int b = 0; b < p->nb; b++) {
    const kj_probe_batch *pb = &p->b[b];
    if ((b && kj_buf_addc(out, ',')) || kj_buf_adds(out, "{\"seqs\":["))
      goto oom;
    for (int i = 0; i < pb->n;) {
      int j = i;
      while (j + 1 < pb->n && pb->seq[j + 1] == pb->seq[j] + 1)
        j++;
      if ((i && kj_buf_addc(out, ',')) || kj_buf_addc(out, '[') || json_seq(out, pb->seq[i]) ||
          kj_buf_addc(out, ',') || json_seq(out, pb->seq[j]) || kj_buf_addc(out, ']'))
        goto oom;
      i = j + 1;
    }
    char d[65];
    for (int i = 0; i < 32; i++) {
      d[2 * i] = hex[pb->digest[i] >> 4];
      d[2 * i + 1] = hex[pb->digest[i] & 15];
    }
    d[64] = 0;
    if (kj_buf_adds(out, "],\"digest\":\"") || kj_buf_adds(out, d) || kj_buf_adds(out, "\"}"))
      goto oom;
  }
  if (kj_buf_adds(out, "]}"))
    goto oom;
  return KJ_OK;
oom:
  return kj_fail(err, KJ_ENOMEM, "out of memory");
}

static int hex_nibble(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

kj_code kj_push_probe_decode(const char *text, size_t len, long max_seqs, kj_push_probe *p,
                             kj_err *err) {
  memset(p, 0, sizeof *p);
  kj_code rc = KJ_OK;
  cJSON *o = cJSON_ParseWithLength(text, len);
  if (!cJSON_IsObject(o)) {
    rc = kj_fail(err, KJ_EPROTO, "push status: the body is not a JSON object");
    goto out;
  }
  const cJSON *inc = get(o, "incarnation");
  if (inc && (!cJSON_IsString(inc) || !kj_incarnation_valid(inc->valuestring))) {
    rc = kj_fail(err, KJ_EPROTO, "push status: bad 'incarnation'");
    goto out;
  }
  if (inc)
    snprintf(p->incarnation, sizeof p->incarnation, "%s", inc->valuestring);
  const cJSON *bs = get(o, "batches");
  if (!cJSON_IsArray(bs)) {
    rc = kj_fail(err, KJ_EPROTO, "push status: 'batches' is missing or not an array");
    goto out;
  }
  if (cJSON_GetArraySize(bs) > KJ_PROBE_MAX_BATCHES) {
    rc = kj_fail(err, KJ_ETOOBIG, "push status: more than %d batches", KJ_PROBE_MAX_BATCHES);
    goto out;
  }
  long total = 0;
  const cJSON *b;
  cJSON_ArrayForEach(b, bs) {
    kj_probe_batch *pb = &p->b[p->nb];
    int at = p->nb++;
    const cJSON *seqs = get(b, "seqs"), *dg = get(b, "digest");
    if (!cJSON_IsArray(seqs)) {
      rc = kj_fail(err, KJ_EPROTO, "push status: batches[%d].seqs is missing or not an array", at);
      goto out;
    }
    if (!cJSON_IsString(dg) || strlen(dg->valuestring) != 64) {
      rc = kj_fail(err, KJ_EPROTO, "push status: batches[%d].digest is not 64 hex digits", at);
      goto out;
    }
    for (int i = 0; i < 32; i++) {
      int hi = hex_nibble(dg->valuestring[2 * i]), lo = hex_nibble(dg->valuestring[2 * i + 1]);
      if (hi < 0 || lo < 0) {
        rc = kj_fail(err, KJ_EPROTO, "push status: batches[%d].digest is not 64 hex digits", at);
        goto out;
      }
      pb->digest[i] = (unsigned char)(hi << 4 | lo);
    }
    /* count first, then fill: runs [A,B], ascending, not overlapping */
    long n = 0;
    int64_t last = -1;
    const cJSON *run;
    cJSON_ArrayForEach(run, seqs) {
      int64_t a, z;
      if (!cJSON_IsArray(run) || cJSON_GetArraySize(run) != 2 ||
          !has_count(cJSON_GetArrayItem(run, 0), &a) ||
          !has_count(cJSON_GetArrayItem(run, 1), &z) || z < a || a <= last) {
        rc = kj_fail(err, KJ_EPROTO,
                     "push status: batches[%d].seqs: expected ascending runs [first,last] of "
                     "seqs >= 0",
                     at);
        goto out;
      }
      if (z - a >= max_seqs - total - n) {
        rc = kj_fail(err, KJ_ETOOBIG, "push status: more than %ld seqs", max_seqs);
        goto out;
      }
      n += (long)(z - a + 1);
      last = z;
    }
    total += n;
    if (!(pb->seq = malloc((size_t)(n ? n : 1) * sizeof *pb->seq))) {
      rc = kj_fail(err, KJ_ENOMEM, "out of memory");
      goto out;
    }
    cJSON_ArrayForEach(run, seqs) {
      int64_t a = 0, z = -1;
      has_count(cJSON_GetArrayItem(run, 0), &a);
      has_count(cJSON_GetArrayItem(run, 1), &z);
      for (int64_t s = a; s <= z; s++)
        pb->seq[pb->n++] = s;
    }
  }
out:
  cJSON_Delete(o);
  if (rc)
    kj_push_probe_release(p);
  return rc;
}

void kj_push_probe_release(kj_push_probe *p) {
  if (!p)
    return;
  for (int i = 0; i < p->nb; i++)
    free(p->b[i].seq);
  memset(p, 0, sizeof *p);
}

/* ---- pull --------------------------------------------------------------- */

kj_code kj_pull_begin(kj_buf *out) {
  return kj_buf_adds(out, "{\"changes\":[");
}

/* 1 when out holds no state yet (it ends with the opening bracket). */
static int page_empty(const kj_buf *out) {
  return out->len && kj_buf_str(out)[out->len - 1] == '[';
}

kj_code kj_pull_add_stored(kj_buf *out, const char *state, int peer, int *added, kj_err *err) {
  *added = 0;
  /* a state stored with "s" (protocol 3) or without it is read by a peer
   * of protocol 3 as it is; an older one gets it written its way */
  if (peer >= KJ_PROTOCOL_STATE_S) {
    if ((!page_empty(out) && kj_buf_addc(out, ',')) || kj_buf_adds(out, state))
      return kj_fail(err, KJ_ETOOBIG, "pull page too large");
    *added = 1;
    return KJ_OK;
  }
  cJSON *o = cJSON_Parse(state);
  kj_rstate s;
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = KJ_EPROTO;
  if (o)
    rc = kj_rstate_from_json(o, &s, &e);
  else
    kj_fail(&e, rc, "not JSON");
  cJSON_Delete(o);
  if (rc == KJ_EVERSION)
    return KJ_OK; /* newer than this program too: nobody older gets it */
  if (rc)
    return kj_fail(err, KJ_EPROTO, "stored state is not readable: %s", e.msg);
  if (kj_type_since(kj_type(s.rec.type)) > peer) {
    kj_rstate_release(&s);
    return KJ_OK;
  }
  cJSON *v = kj_rstate_to_json_for(&s, peer);
  kj_rstate_release(&s);
  char *text = v ? cJSON_PrintUnformatted(v) : NULL;
  cJSON_Delete(v);
  if (!text)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  int full = (!page_empty(out) && kj_buf_addc(out, ',')) || kj_buf_adds(out, text);
  free(text);
  if (full)
    return kj_fail(err, KJ_ETOOBIG, "pull page too large");
  *added = 1;
  return KJ_OK;
}

kj_code kj_pull_end(kj_buf *out, const char *next, int more, int64_t server_time,
                    const char *scores, const char *scores_tag) {
  return kj_pull_end_restore(out, next, more, server_time, scores, scores_tag, NULL);
}

kj_code kj_pull_end_restore(kj_buf *out, const char *next, int more, int64_t server_time,
                            const char *scores, const char *scores_tag, const kj_pull_restore *x) {
  if (kj_buf_addf(out, "],\"next\":\"%s\",\"more\":%s,\"server_time\":%" PRId64 ",\"scores\":%s",
                  next, more ? "true" : "false", server_time, scores ? scores : "null"))
    return KJ_ETOOBIG;
  if (scores_tag && kj_buf_addf(out, ",\"scores_tag\":\"%s\"", scores_tag))
    return KJ_ETOOBIG;
  /* an epoch is an incarnation-like id: [0-9a-z], nothing to escape */
  if (x && x->epoch && x->epoch[0] && kj_incarnation_valid(x->epoch) &&
      kj_buf_addf(out, ",\"epoch\":\"%s\"", x->epoch))
    return KJ_ETOOBIG;
  if (x && x->device_high >= 0 && kj_buf_addf(out, ",\"device_high\":%" PRId64, x->device_high))
    return KJ_ETOOBIG;
  return kj_buf_adds(out, "}\n") ? KJ_ETOOBIG : KJ_OK;
}

kj_code kj_pull_add_moved(kj_buf *out, int first, const char *type, const char *id) {
  /* the page ends "}\n" (first notice) or "]}\n" (after a notice); which
   * one the caller says (a page whose scores end it also ends "]}\n") */
  const char *end = first ? "}\n" : "]}\n";
  size_t el = strlen(end);
  if (out->len < el || strcmp(kj_buf_str(out) + out->len - el, end) != 0)
    return KJ_EINVAL;
  cJSON *o = cJSON_CreateObject();
  char *text = NULL;
  if (o && cJSON_AddStringToObject(o, "type", type) && cJSON_AddStringToObject(o, "id", id))
    text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!text)
    return KJ_ENOMEM;
  out->len -= el;
  out->data[out->len] = 0;
  kj_code rc = kj_buf_adds(out, first ? ",\"moved\":[" : ",") || kj_buf_adds(out, text) ||
                       kj_buf_adds(out, "]}\n")
                   ? KJ_ETOOBIG
                   : KJ_OK;
  free(text);
  return rc;
}

kj_code kj_pull_page_decode(const char *text, size_t len, kj_pull_page *p, kj_err *err) {
  memset(p, 0, sizeof *p);
  p->server_time = -1;
  p->device_high = -1;
  p->doc = cJSON_ParseWithLength(text, len);
  if (!cJSON_IsObject(p->doc)) {
    kj_pull_page_release(p);
    return kj_fail(err, KJ_EPROTO, "pull: the server's answer is not a JSON object");
  }
  const cJSON *next = get(p->doc, "next"), *mo = get(p->doc, "more");
  p->changes = get(p->doc, "changes");
  if (!cJSON_IsArray(p->changes) || !cJSON_IsString(next) || !cJSON_IsBool(mo) ||
      strlen(next->valuestring) >= sizeof p->next) {
    kj_pull_page_release(p);
    return kj_fail(err, KJ_EPROTO, "pull: the server's answer lacks 'changes', 'next' or 'more'");
  }
  snprintf(p->next, sizeof p->next, "%s", next->valuestring);
  p->more = cJSON_IsTrue(mo);
  if (!has_count(get(p->doc, "server_time"), &p->server_time))
    p->server_time = -1;
  if (!has_count(get(p->doc, "device_high"), &p->device_high))
    p->device_high = -1;
  const cJSON *ep = get(p->doc, "epoch");
  if (cJSON_IsString(ep) && kj_incarnation_valid(ep->valuestring))
    snprintf(p->epoch, sizeof p->epoch, "%s", ep->valuestring);
  const cJSON *sc = get(p->doc, "scores"), *tag = get(p->doc, "scores_tag");
  p->scores = cJSON_IsArray(sc) ? sc : NULL;
  if (cJSON_IsString(tag) && strlen(tag->valuestring) < sizeof p->scores_tag &&
      (cJSON_IsArray(sc) || cJSON_IsNull(sc))) {
    p->has_tag = 1;
    snprintf(p->scores_tag, sizeof p->scores_tag, "%s", tag->valuestring);
  }
  const cJSON *mv = get(p->doc, "moved");
  p->moved = cJSON_IsArray(mv) ? mv : NULL;
  return KJ_OK;
}

void kj_pull_page_release(kj_pull_page *p) {
  if (!p)
    return;
  cJSON_Delete(p->doc);
  memset(p, 0, sizeof *p);
}

kj_code kj_pull_page_state(const cJSON *el, kj_rstate *s, kj_err *err) {
  return kj_rstate_from_json(el, s, err);
}

kj_code kj_pull_page_score(const cJSON *el, char *period, size_t size, char **text, kj_err *err) {
  *text = NULL;
  kj_report_scores d;
  /* decoded from the parsed entry, not from its text printed and parsed
   * again: cJSON cannot tell a parse that ran out of memory from bad JSON */
  kj_code rc = kj_report_scores_decode_json(el, &d, err);
  if (!rc && !(*text = cJSON_PrintUnformatted(el)))
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
  if (!rc && (!d.period || strlen(d.period) >= size))
    rc = kj_fail(err, KJ_EPROTO, "report: 'period': expected a period");
  if (!rc)
    snprintf(period, size, "%s", d.period);
  kj_report_scores_release(&d);
  if (rc) {
    free(*text);
    *text = NULL;
  }
  return rc;
}

kj_code kj_pull_page_moved(const cJSON *el, kj_rtype *type, char id[KJ_ID_MAX + 1], kj_err *err) {
  const cJSON *t = get(el, "type"), *i = get(el, "id");
  if (!cJSON_IsString(t))
    return kj_fail(err, KJ_EPROTO, "moved notice: 'type' must be a type name");
  if (!cJSON_IsString(i) || !i->valuestring[0] || strlen(i->valuestring) > KJ_ID_MAX)
    return kj_fail(err, KJ_EPROTO, "moved notice: 'id' must be a record id of 1 to %d bytes",
                   KJ_ID_MAX);
  const kj_type_def *td = kj_type_by_name(t->valuestring);
  if (!td)
    return kj_fail(err, KJ_EVERSION, "moved notice: unknown type '%.40s'", t->valuestring);
  *type = td->type;
  snprintf(id, KJ_ID_MAX + 1, "%s", i->valuestring);
  return KJ_OK;
}

/* ---- POST /v1/enrol ----------------------------------------------------- */

kj_code kj_enrol_request_encode(kj_buf *out, int protocol, kj_err *err) {
  cJSON *o = cJSON_CreateObject();
  if (o && !cJSON_AddNumberToObject(o, "protocol", protocol)) {
    cJSON_Delete(o);
    o = NULL;
  }
  kj_code rc = emit(o, out, err);
  return rc ? rc : (kj_buf_adds(out, "\n") ? kj_fail(err, KJ_ETOOBIG, "message too large") : 0);
}

kj_code kj_enrol_request_decode(const char *text, size_t len, int *protocol, kj_err *err) {
  *protocol = 1;
  size_t i = 0;
  while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
    i++;
  if (i == len)
    return KJ_OK;
  cJSON *o = cJSON_ParseWithLength(text, len);
  kj_code rc = KJ_OK;
  int64_t v = 1;
  if (!cJSON_IsObject(o))
    rc = kj_fail(err, KJ_EPROTO, "enrol: the body is not a JSON object");
  else if (get_count(get(o, "protocol"), &v, NULL) || v < 1 || v > 1000000)
    rc = kj_fail(err, KJ_EPROTO, "enrol: 'protocol' must be a whole number >= 1");
  else
    *protocol = (int)v;
  cJSON_Delete(o);
  return rc;
}

kj_code kj_enrol_answer_encode(kj_buf *out, const kj_enrol_answer *a, kj_err *err) {
  cJSON *o = cJSON_CreateObject();
  if (o && (!cJSON_AddStringToObject(o, "device", a->device) ||
            !cJSON_AddStringToObject(o, "office", a->office) ||
            !cJSON_AddStringToObject(o, "token", a->token) ||
            !cJSON_AddStringToObject(o, "cert", a->cert ? a->cert : ""))) {
    cJSON_Delete(o);
    o = NULL;
  }
  kj_code rc = emit(o, out, err);
  return rc ? rc : (kj_buf_adds(out, "\n") ? kj_fail(err, KJ_ETOOBIG, "message too large") : 0);
}

/* A member of o that must be a string of 1..size-1 bytes of [0-9A-Za-z._-]
 * (safe: ends up in a database and on a terminal). */
static kj_code enrol_word(const cJSON *o, const char *key, char *dst, size_t size, kj_err *err) {
  const cJSON *v = get(o, key);
  if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= size)
    return kj_fail(err, KJ_EPROTO, "enrol: '%s' must be a string of 1 to %zu characters", key,
                   size - 1);
  for (const char *p = v->valuestring; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          *p == '.' || *p == '_' || *p == '-'))
      return kj_fail(err, KJ_EPROTO, "enrol: '%s' holds a character outside [0-9A-Za-z._-]", key);
  snprintf(dst, size, "%s", v->valuestring);
  return KJ_OK;
}

kj_code kj_enrol_answer_decode(const char *text, size_t len, kj_enrol_answer *a, kj_err *err) {
  memset(a, 0, sizeof *a);
  cJSON *o = cJSON_ParseWithLength(text, len);
  kj_code rc = KJ_OK;
  const cJSON *cert = cJSON_IsObject(o) ? get(o, "cert") : NULL;
  if (!cJSON_IsObject(o))
    rc = kj_fail(err, KJ_EPROTO, "enrol: the server's answer is not a JSON object");
  else if ((rc = enrol_word(o, "device", a->device, sizeof a->device, err)) ||
           (rc = enrol_word(o, "office", a->office, sizeof a->office, err)) ||
           (rc = enrol_word(o, "token", a->token, sizeof a->token, err)))
    ;
  else if (!cert || !cJSON_IsString(cert) ||
           !strstr(cert->valuestring, "-----BEGIN CERTIFICATE-----") ||
           strlen(cert->valuestring) > (size_t)1024 * 1024)
    rc = kj_fail(err, KJ_EPROTO, "enrol: 'cert' must be a PEM certificate");
  else if (!(a->cert = strdup(cert->valuestring)))
    rc = kj_fail(err, KJ_ENOMEM, "out of memory");
  cJSON_Delete(o);
  if (rc)
    kj_enrol_answer_release(a);
  return rc;
}

void kj_enrol_answer_release(kj_enrol_answer *a) {
  if (!a)
    return;
  free(a->cert);
  memset(a, 0, sizeof *a);
}

/* ---- the PC's report at sync ----------------------------------------- */

static int version_ok(const char *v) {
  size_t n = strlen(v);
  if (n < 1 || n > KJ_APP_VERSION_MAX)
    return 0;
  for (const char *p = v; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
          *p == '.' || *p == '+' || *p == '-'))
      return 0;
  return 1;
}

kj_code kj_device_report_query(const kj_device_report *r, char *out, size_t size, kj_err *err) {
  if (!version_ok(r->version))
    return kj_fail(err, KJ_EINVAL, "report: 'version' must be 1 to %d of 0-9 A-Z a-z . + -",
                   KJ_APP_VERSION_MAX);
  if (r->pending < 0 || r->pending > KJ_JSON_INT_MAX || r->rejected < 0 ||
      r->rejected > KJ_JSON_INT_MAX)
    return kj_fail(err, KJ_EINVAL, "report: '%s' must be a count from 0 to %.0f",
                   r->pending < 0 || r->pending > KJ_JSON_INT_MAX ? "pending" : "rejected",
                   (double)KJ_JSON_INT_MAX);
  int n = snprintf(out, size, "&version=%s&pending=%" PRId64 "&rejected=%" PRId64, r->version,
                   r->pending, r->rejected);
  if (n < 0 || (size_t)n >= size)
    return kj_fail(err, KJ_ETOOBIG, "report: the query does not fit in %zu bytes", size);
  return KJ_OK;
}

static kj_code report_count(const char *name, const char *v, int64_t *out, kj_err *err) {
  char *end = NULL;
  errno = 0;
  unsigned long long x = v && *v >= '0' && *v <= '9' ? strtoull(v, &end, 10) : 0;
  if (!v || !end || *end || errno || x > (unsigned long long)KJ_JSON_INT_MAX)
    return kj_fail(err, KJ_EPROTO, "bad '%s': expected a whole number from 0 to %.0f", name,
                   (double)KJ_JSON_INT_MAX);
  *out = (int64_t)x;
  return KJ_OK;
}

kj_code kj_device_report_parse(const char *version, const char *pending, const char *rejected,
                               kj_device_report *r, kj_err *err) {
  memset(r, 0, sizeof *r);
  if (!version && !pending && !rejected)
    return KJ_ENOENT;
  if (!version || !version_ok(version))
    return kj_fail(err, KJ_EPROTO, "bad 'version': expected 1 to %d of 0-9 A-Z a-z . + -",
                   KJ_APP_VERSION_MAX);
  kj_code rc = report_count("pending", pending, &r->pending, err);
  if (!rc)
    rc = report_count("rejected", rejected, &r->rejected, err);
  if (!rc)
    snprintf(r->version, sizeof r->version, "%s", version);
  return rc;
}
