/* wire.c - changes and record states as JSON objects (cJSON). */
#include "wire.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kj_change_init(kj_change *c, kj_rtype t) {
  memset(c, 0, sizeof(*c));
  kj_record_init(&c->rec, t);
}

void kj_change_release(kj_change *c) {
  if (c)
    kj_record_release(&c->rec);
}

void kj_rstate_init(kj_rstate *s, kj_rtype t) {
  memset(s, 0, sizeof(*s));
  kj_record_init(&s->rec, t);
}

void kj_rstate_release(kj_rstate *s) {
  if (!s)
    return;
  kj_record_release(&s->rec);
  for (int i = 0; i < s->nx; i++) {
    free(s->x[i].name);
    free(s->x[i].value);
  }
  free(s->x);
  s->x = NULL;
  s->nx = 0;
}

/* 1 when name may be a field name of a newer version: 1-64 of [a-z0-9_]. */
static int xname_valid(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n < 1 || n > 64)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
          name[i] == '_'))
      return 0;
  return 1;
}

kj_xfield *kj_rstate_xfind(const kj_rstate *s, const char *name) {
  for (int i = 0; i < s->nx; i++)
    if (!strcmp(s->x[i].name, name))
      return &s->x[i];
  return NULL;
}

kj_code kj_rstate_xput(kj_rstate *s, const char *name, const char *value, const kj_stamp *st) {
  kj_xfield *x = kj_rstate_xfind(s, name);
  char *v = NULL;
  if (value && !(v = strdup(value)))
    return KJ_ENOMEM;
  if (!x) {
    if (s->nx >= KJ_MAX_XFIELDS) {
      free(v);
      return KJ_ETOOBIG;
    }
    kj_xfield *grown = realloc(s->x, (size_t)(s->nx + 1) * sizeof *grown);
    char *nm = strdup(name);
    if (!grown || !nm) {
      if (grown)
        s->x = grown;
      free(nm);
      free(v);
      return KJ_ENOMEM;
    }
    s->x = grown;
    x = &s->x[s->nx++];
    x->name = nm;
    x->value = NULL;
  }
  free(x->value);
  x->value = v;
  x->st = *st;
  return KJ_OK;
}

int kj_author_valid(const char *s) {
  return s &&
         (!strcmp(s, "operator") || !strcmp(s, "admin") || !strcmp(s, "kiosk") || kj_nip_valid(s));
}

/* ---- stamps ------------------------------------------------------------- */

static int device_valid(const char *d, size_t n) {
  if (n < 1 || n > KJ_DEVICE_MAX)
    return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)d[i];
    if (ch <= ' ' || ch == '/' || ch == 0x7f)
      return 0;
  }
  return 1;
}

kj_code kj_stamp_parse(const char *s, kj_stamp *out) {
  if (!s)
    return KJ_EINVAL;
  const char *slash = strchr(s, '/');
  if (!slash || slash == s || slash - s >= KJ_HLC_STRMAX)
    return KJ_EINVAL;
  char num[KJ_HLC_STRMAX];
  memcpy(num, s, (size_t)(slash - s));
  num[slash - s] = '\0';
  kj_hlc h;
  if (kj_hlc_parse(num, &h) || h == 0)
    return KJ_EINVAL;
  const char *dev = slash + 1;
  size_t n = strlen(dev);
  if (!device_valid(dev, n))
    return KJ_EINVAL;
  if (out) {
    out->hlc = h;
    memcpy(out->device, dev, n + 1);
  }
  return KJ_OK;
}

void kj_stamp_format(const kj_stamp *st, char *out, size_t size) {
  char h[KJ_HLC_STRMAX];
  kj_hlc_format(st->hlc, h);
  snprintf(out, size, "%s/%s", h, st->device);
}

/* ---- helpers ------------------------------------------------------------ */

/* Add the string v as member k of o: KJ_OK or KJ_ENOMEM (no message). */
static kj_code put_str(cJSON *o, const char *k, const char *v) {
  return cJSON_AddStringToObject(o, k, v) ? KJ_OK : KJ_ENOMEM;
}

/* Add the stamp st as the text member k of o: KJ_OK or KJ_ENOMEM. */
static kj_code put_stamp(cJSON *o, const char *k, const kj_stamp *st) {
  char buf[KJ_STAMP_STRMAX];
  kj_stamp_format(st, buf, sizeof(buf));
  return put_str(o, k, buf);
}

/* Keys other than those in `known` make the object bad. */
static kj_code only_keys(const cJSON *o, const char *const *known, kj_err *err) {
  for (const cJSON *it = o ? o->child : NULL; it; it = it->next) {
    int ok = 0;
    for (const char *const *k = known; *k && !ok; k++)
      ok = it->string && strcmp(it->string, *k) == 0;
    if (!ok)
      return kj_fail(err, KJ_EPROTO, "unknown key '%s'", it->string ? it->string : "");
  }
  return KJ_OK;
}

/* get_head of the members type and id (NULL: absent). */
static kj_code get_head_of(const cJSON *type, const cJSON *id, kj_record *rec,
                           kj_code unknown_type_code, kj_err *err) {
  if (!cJSON_IsString(type))
    return kj_fail(err, KJ_EPROTO, "'type': must be a string");
  const kj_type_def *t = kj_type_by_name(type->valuestring);
  if (!t || strcmp(t->name, type->valuestring) != 0)
    return kj_fail(err, unknown_type_code, "unknown type '%.40s'", type->valuestring);
  kj_record_init(rec, t->type);
  if (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) > KJ_ID_MAX)
    return kj_fail(err, KJ_EPROTO, "'id': must be a string of 1 to %d characters", KJ_ID_MAX);
  memcpy(rec->id, id->valuestring, strlen(id->valuestring) + 1);
  return KJ_OK;
}

static kj_code get_head(const cJSON *o, kj_record *rec, kj_code unknown_type_code, kj_err *err) {
  return get_head_of(cJSON_GetObjectItemCaseSensitive(o, "type"),
                     cJSON_GetObjectItemCaseSensitive(o, "id"), rec, unknown_type_code, err);
}

/* "del": absent, true or false. */
static kj_code get_del(const cJSON *o, int *del, kj_err *err) {
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "del");
  *del = 0;
  if (!d)
    return KJ_OK;
  if (!cJSON_IsBool(d))
    return kj_fail(err, KJ_EPROTO, "'del': must be true or false");
  *del = cJSON_IsTrue(d);
  return KJ_OK;
}

/* The values of "f": strings, or null for a cleared field; *mask gets the
 * fields named.  lend: the values point into f's strings (kj_record_lend). */
static kj_code get_fields(const cJSON *f, kj_record *rec, uint32_t *mask, int lend, kj_err *err) {
  const kj_type_def *t = kj_type(rec->type);
  if (!cJSON_IsObject(f))
    return kj_fail(err, KJ_EPROTO, "'f': must be an object");
  int next = 0; /* writers send the fields in the type's order: tried first */
  for (const cJSON *it = f->child; it; it = it->next) {
    int i = next < t->nfields && it->string && !strcmp(t->fields[next].name, it->string)
                ? next
                : kj_field_index(t, it->string);
    next = i + 1;
    if (i < 0)
      return kj_fail(err, KJ_EPROTO, "unknown field '%s'", it->string ? it->string : "");
    if (*mask & (1u << i))
      return kj_fail(err, KJ_EPROTO, "field '%s': given twice", it->string);
    if (cJSON_IsString(it)) {
      if (lend)
        kj_record_lend(rec, i, it->valuestring);
      else if (kj_record_set(rec, i, it->valuestring))
        return kj_fail(err, KJ_ENOMEM, "out of memory");
    } else if (!cJSON_IsNull(it)) {
      return kj_fail(err, KJ_EPROTO, "field '%s': must be a string or null", it->string);
    }
    *mask |= 1u << i;
  }
  return KJ_OK;
}

/* ---- changes ------------------------------------------------------------ */

cJSON *kj_change_to_json(const kj_change *c) {
  const kj_type_def *t = kj_type(c->rec.type);
  cJSON *o = cJSON_CreateObject();
  if (!o || !t)
    goto fail;
  char h[KJ_HLC_STRMAX];
  kj_hlc_format(c->hlc, h);
  if (!cJSON_AddNumberToObject(o, "seq", (double)c->seq) || put_str(o, "id", c->rec.id) ||
      put_str(o, "type", t->name) || put_str(o, "hlc", h))
    goto fail;
  if (c->author[0] && put_str(o, "author", c->author))
    goto fail;
  if (c->device[0] && put_str(o, "device", c->device))
    goto fail;
  if (c->rec.deleted) {
    if (!cJSON_AddTrueToObject(o, "del"))
      goto fail;
    return o;
  }
  cJSON *f = cJSON_AddObjectToObject(o, "f");
  if (!f)
    goto fail;
  for (int i = 0; i < t->nfields; i++) {
    if (!(c->mask & (1u << i)))
      continue;
    const char *v = c->rec.v[i];
    if (v ? put_str(f, t->fields[i].name, v) != KJ_OK
          : !cJSON_AddNullToObject(f, t->fields[i].name))
      goto fail;
  }
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

/* The keys of a change object, in the slots of change_keys. */
enum { CK_SEQ, CK_ID, CK_TYPE, CK_HLC, CK_DEVICE, CK_DEL, CK_F, CK_AUTHOR, CK__N };
static const char *const change_keys[CK__N] = {"seq",    "id",  "type", "hlc",
                                               "device", "del", "f",    "author"};

/* The slot of key s, -1 when a change has no such key: one strcmp, by its
 * first letters (a push reads about 7 keys per change). */
static int change_key(const char *s) {
  int k;
  if (!s)
    return -1;
  switch (s[0]) {
  case 's':
    k = CK_SEQ;
    break;
  case 'i':
    k = CK_ID;
    break;
  case 't':
    k = CK_TYPE;
    break;
  case 'h':
    k = CK_HLC;
    break;
  case 'd':
    k = s[1] == 'e' && s[2] == 'v' ? CK_DEVICE : CK_DEL;
    break;
  case 'f':
    k = CK_F;
    break;
  case 'a':
    k = CK_AUTHOR;
    break;
  default:
    return -1;
  }
  return strcmp(s, change_keys[k]) ? -1 : k;
}

static kj_code change_from_json(const cJSON *o, kj_change *c, int lend, kj_err *err) {
  kj_code rc;
  kj_change_init(c, KJ_T_NONE);
  if (!cJSON_IsObject(o))
    return kj_fail(err, KJ_EPROTO, "must be an object");
  /* every key known (as only_keys), each found once: the first of a key
   * given twice, as cJSON_GetObjectItemCaseSensitive finds it */
  const cJSON *key[CK__N] = {0};
  for (const cJSON *it = o->child; it; it = it->next) {
    int k = change_key(it->string);
    if (k < 0)
      return kj_fail(err, KJ_EPROTO, "unknown key '%s'", it->string ? it->string : "");
    if (!key[k])
      key[k] = it;
  }
  if ((rc = get_head_of(key[CK_TYPE], key[CK_ID], &c->rec, KJ_EPROTO, err)))
    return rc;
  const cJSON *seq = key[CK_SEQ];
  if (seq) {
    double d = cJSON_IsNumber(seq) ? seq->valuedouble : -1;
    if (d < 0 || d > 9007199254740991.0 || floor(d) != d)
      return kj_fail(err, KJ_EPROTO, "'seq': must be a whole number >= 0");
    c->seq = (int64_t)d;
  }
  const cJSON *hlc = key[CK_HLC];
  if (!cJSON_IsString(hlc) || kj_hlc_parse(hlc->valuestring, &c->hlc) || c->hlc == 0)
    return kj_fail(err, KJ_EPROTO, "'hlc': must be a stamp (a decimal string)");
  const cJSON *au = key[CK_AUTHOR];
  if (au) {
    if (!cJSON_IsString(au) || !kj_author_valid(au->valuestring))
      return kj_fail(err, KJ_EPROTO, "'author': must be operator, admin, kiosk or an 18-digit NIP");
    memcpy(c->author, au->valuestring, strlen(au->valuestring) + 1);
  }
  const cJSON *dev = key[CK_DEVICE];
  if (dev) {
    if (!cJSON_IsString(dev) || !device_valid(dev->valuestring, strlen(dev->valuestring)))
      return kj_fail(err, KJ_EPROTO, "'device': must be 1 to %d characters other than '/'",
                     KJ_DEVICE_MAX);
    memcpy(c->device, dev->valuestring, strlen(dev->valuestring) + 1);
  }
  const cJSON *d = key[CK_DEL];
  if (d && !cJSON_IsBool(d)) /* get_del's rule */
    return kj_fail(err, KJ_EPROTO, "'del': must be true or false");
  c->rec.deleted = d && cJSON_IsTrue(d);
  const cJSON *f = key[CK_F];
  if (c->rec.deleted) {
    if (f && (!cJSON_IsObject(f) || f->child))
      return kj_fail(err, KJ_EPROTO, "a delete sets no fields");
    return KJ_OK;
  }
  if (!f)
    return kj_fail(err, KJ_EPROTO, "'f': is required");
  return get_fields(f, &c->rec, &c->mask, lend, err);
}

/* On error nothing stays allocated (and releasing c again is harmless). */
kj_code kj_change_from_json(const cJSON *o, kj_change *c, kj_err *err) {
  kj_code rc = change_from_json(o, c, 0, err);
  if (rc)
    kj_change_release(c);
  return rc;
}

kj_code kj_change_from_json_lent(const cJSON *o, kj_change *c, kj_err *err) {
  kj_code rc = change_from_json(o, c, 1, err);
  if (rc)
    kj_change_release(c);
  return rc;
}

/* ---- record states ------------------------------------------------------ */

const kj_stamp *kj_rstate_common_stamp(const kj_rstate *s) {
  const kj_type_def *t = kj_type(s->rec.type);
  int nfields = t ? t->nfields : 0;
  const kj_stamp *best = NULL;
  int best_n = 0;
  for (int i = 0; i < nfields && best_n < nfields - i; i++) {
    if (!s->st[i].hlc || !s->rec.v[i])
      continue;
    int n = 0;
    for (int j = i; j < nfields; j++)
      if (s->rec.v[j] && s->st[j].hlc == s->st[i].hlc && !strcmp(s->st[j].device, s->st[i].device))
        n++;
    if (n > best_n) {
      best_n = n;
      best = &s->st[i];
    }
  }
  return best;
}

static int same_stamp(const kj_stamp *a, const kj_stamp *b) {
  return a && b && a->hlc == b->hlc && !strcmp(a->device, b->device);
}

/* peer 0: this program's form; a peer of KJ_PROTOCOL_STATE_S and later
 * gets the common stamp as "s" and in "t" only the stamps that differ */
static cJSON *rstate_to_json(const kj_rstate *s, int peer) {
  const kj_type_def *t = kj_type(s->rec.type);
  if (!t || (peer && kj_type_since(t) > peer))
    return NULL;
  cJSON *o = cJSON_CreateObject();
  if (!o)
    goto fail;
  if (put_str(o, "id", s->rec.id) || put_str(o, "type", t->name) ||
      !cJSON_AddBoolToObject(o, "del", s->rec.deleted))
    goto fail;
  cJSON *f = cJSON_AddObjectToObject(o, "f");
  if (!f)
    goto fail;
  const kj_stamp *cs = !peer || peer >= KJ_PROTOCOL_STATE_S ? kj_rstate_common_stamp(s) : NULL;
  cJSON *ts = NULL;
  if (cs && put_stamp(o, "s", cs))
    goto fail;
  for (int i = 0; i < t->nfields + (peer ? 0 : s->nx); i++) {
    int known = i < t->nfields;
    const char *name = known ? t->fields[i].name : s->x[i - t->nfields].name;
    const char *v = known ? s->rec.v[i] : s->x[i - t->nfields].value;
    const kj_stamp *st = known ? &s->st[i] : &s->x[i - t->nfields].st;
    if (known && peer && kj_value_since(t, i, v) > peer)
      continue;
    if (v && put_str(f, name, v))
      goto fail;
    if (known && !st->hlc && !v)
      continue;
    if (v && same_stamp(st, cs))
      continue;
    if (!ts && !(ts = cJSON_AddObjectToObject(o, "t")))
      goto fail;
    if (put_stamp(ts, name, st))
      goto fail;
  }
  if (!cs && !ts && !cJSON_AddObjectToObject(o, "t"))
    goto fail;
  if (s->rec.deleted && put_stamp(o, "dt", &s->del))
    goto fail;
  return o;
fail:
  cJSON_Delete(o);
  return NULL;
}

cJSON *kj_rstate_to_json(const kj_rstate *s) {
  return rstate_to_json(s, 0);
}

cJSON *kj_rstate_to_json_for(const kj_rstate *s, int peer) {
  return rstate_to_json(s, peer < 1 ? 1 : peer);
}

/* "f" and "t" of a state: known fields into s->rec / s->st, unknown ones
 * (valid names only) into s->x. */
static kj_code get_state_fields(const cJSON *f, const cJSON *ts, const kj_stamp *cs, kj_rstate *s,
                                kj_err *err) {
  const kj_type_def *t = kj_type(s->rec.type);
  uint32_t have = 0, stamped = 0;
  if (f && !cJSON_IsObject(f))
    return kj_fail(err, KJ_EPROTO, "'f': must be an object");
  if (ts && !cJSON_IsObject(ts))
    return kj_fail(err, KJ_EPROTO, "'t': must be an object");
  for (const cJSON *it = ts ? ts->child : NULL; it; it = it->next) {
    const char *name = it->string ? it->string : "";
    int i = kj_field_index(t, name);
    kj_stamp st;
    if (!cJSON_IsString(it) || kj_stamp_parse(it->valuestring, &st))
      return kj_fail(err, KJ_EPROTO, "field '%.64s': bad stamp (want \"HLC/DEVICE\")", name);
    if (i < 0) {
      if (!xname_valid(name))
        return kj_fail(err, KJ_EPROTO, "unknown field '%.64s'", name);
      if (kj_rstate_xfind(s, name))
        return kj_fail(err, KJ_EPROTO, "field '%s': given twice", name);
      const cJSON *v = f ? cJSON_GetObjectItemCaseSensitive(f, name) : NULL;
      if (v && !cJSON_IsString(v) && !cJSON_IsNull(v))
        return kj_fail(err, KJ_EPROTO, "field '%s': must be a string or null", name);
      kj_code rc = kj_rstate_xput(s, name, v && cJSON_IsString(v) ? v->valuestring : NULL, &st);
      if (rc)
        return kj_fail(err, rc, rc == KJ_ENOMEM ? "out of memory" : "more than %d unknown fields",
                       KJ_MAX_XFIELDS);
      continue;
    }
    if (stamped & (1u << i))
      return kj_fail(err, KJ_EPROTO, "field '%s': given twice", name);
    s->st[i] = st;
    stamped |= 1u << i;
  }
  for (const cJSON *it = f ? f->child : NULL; it; it = it->next) {
    const char *name = it->string ? it->string : "";
    int i = kj_field_index(t, name);
    if (i < 0) {
      if (kj_rstate_xfind(s, name))
        continue;
      if (!xname_valid(name) || !cs)
        return kj_fail(err, KJ_EPROTO,
                       xname_valid(name) ? "field '%.64s': has no stamp" : "unknown field '%.64s'",
                       name);
      if (!cJSON_IsString(it) && !cJSON_IsNull(it))
        return kj_fail(err, KJ_EPROTO, "field '%s': must be a string or null", name);
      kj_code rc = kj_rstate_xput(s, name, cJSON_IsString(it) ? it->valuestring : NULL, cs);
      if (rc)
        return kj_fail(err, rc, rc == KJ_ENOMEM ? "out of memory" : "more than %d unknown fields",
                       KJ_MAX_XFIELDS);
      continue;
    }
    if (have & (1u << i))
      return kj_fail(err, KJ_EPROTO, "field '%s': given twice", name);
    if (cJSON_IsString(it)) {
      if (kj_record_set(&s->rec, i, it->valuestring))
        return kj_fail(err, KJ_ENOMEM, "out of memory");
    } else if (!cJSON_IsNull(it)) {
      return kj_fail(err, KJ_EPROTO, "field '%s': must be a string or null", name);
    }
    have |= 1u << i;
  }
  for (int i = 0; i < t->nfields; i++) {
    if (!s->rec.v[i] || (stamped & (1u << i)))
      continue;
    if (!cs)
      return kj_fail(err, KJ_EPROTO, "field '%s': has no stamp", t->fields[i].name);
    s->st[i] = *cs;
  }
  return KJ_OK;
}

static kj_code rstate_from_json(const cJSON *o, kj_rstate *s, kj_err *err) {
  static const char *const keys[] = {"id", "type", "del", "f", "s", "t", "dt", NULL};
  kj_code rc;
  kj_rstate_init(s, KJ_T_NONE);
  if (!cJSON_IsObject(o))
    return kj_fail(err, KJ_EPROTO, "must be an object");
  if ((rc = only_keys(o, keys, err)) || (rc = get_head(o, &s->rec, KJ_EVERSION, err)) ||
      (rc = get_del(o, &s->rec.deleted, err)))
    return rc;
  const cJSON *cj = cJSON_GetObjectItemCaseSensitive(o, "s");
  kj_stamp common;
  if (cj && (!cJSON_IsString(cj) || kj_stamp_parse(cj->valuestring, &common)))
    return kj_fail(err, KJ_EPROTO, "'s': must be a stamp \"HLC/DEVICE\"");
  if ((rc = get_state_fields(cJSON_GetObjectItemCaseSensitive(o, "f"),
                             cJSON_GetObjectItemCaseSensitive(o, "t"), cj ? &common : NULL, s,
                             err)))
    return rc;
  const cJSON *dt = cJSON_GetObjectItemCaseSensitive(o, "dt");
  if (s->rec.deleted) {
    if (!cJSON_IsString(dt) || kj_stamp_parse(dt->valuestring, &s->del))
      return kj_fail(err, KJ_EPROTO, "'dt': must be a stamp \"HLC/DEVICE\"");
  } else if (dt) {
    return kj_fail(err, KJ_EPROTO, "'dt': only for a deleted record");
  }
  return KJ_OK;
}

kj_code kj_rstate_from_json(const cJSON *o, kj_rstate *s, kj_err *err) {
  kj_code rc = rstate_from_json(o, s, err);
  if (rc)
    kj_rstate_release(s);
  return rc;
}

/* ---- the client's stored form ------------------------------------------ */

char *kj_rstate_store_encode(const kj_rstate *s) {
  const kj_type_def *t = kj_type(s->rec.type);
  if (!t)
    return NULL;
  const kj_stamp *cs = kj_rstate_common_stamp(s);
  cJSON *o = cJSON_CreateObject();
  cJSON *f = o ? cJSON_AddObjectToObject(o, "f") : NULL;
  cJSON *ts = NULL;
  if (!f)
    goto fail;
  if (cs && put_stamp(o, "s", cs))
    goto fail;
  for (int i = 0; i < t->nfields + s->nx; i++) {
    int known = i < t->nfields;
    const char *name = known ? t->fields[i].name : s->x[i - t->nfields].name;
    const char *v = known ? s->rec.v[i] : s->x[i - t->nfields].value;
    const kj_stamp *st = known ? &s->st[i] : &s->x[i - t->nfields].st;
    if (v && put_str(f, name, v))
      goto fail;
    if (!st->hlc || (v && same_stamp(st, cs)))
      continue;
    if (!ts && !(ts = cJSON_AddObjectToObject(o, "t")))
      goto fail;
    if (put_stamp(ts, name, st))
      goto fail;
  }
  if (s->rec.deleted && s->del.hlc && put_stamp(o, "d", &s->del))
    goto fail;
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return text;
fail:
  cJSON_Delete(o);
  return NULL;
}

static kj_code store_decode(const char *text, kj_rtype type, const char *id, int deleted,
                            kj_rstate *s, kj_err *err) {
  kj_rstate_init(s, type);
  if (!kj_type(type))
    return kj_fail(err, KJ_EPROTO, "unknown record type");
  snprintf(s->rec.id, sizeof s->rec.id, "%s", id ? id : "");
  s->rec.deleted = deleted;
  cJSON *o = text ? cJSON_Parse(text) : NULL;
  if (!cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return kj_fail(err, KJ_EPROTO, "not a JSON object");
  }
  static const char *const keys[] = {"f", "s", "t", "d", NULL};
  const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "f");
  const cJSON *cs = cJSON_GetObjectItemCaseSensitive(o, "s");
  const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "t");
  const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "d");
  kj_stamp common = {0};
  kj_code rc = only_keys(o, keys, err);
  if (!rc && cs && (!cJSON_IsString(cs) || kj_stamp_parse(cs->valuestring, &common)))
    rc = kj_fail(err, KJ_EPROTO, "'s': must be a stamp \"HLC/DEVICE\"");
  if (!rc && d && (!cJSON_IsString(d) || kj_stamp_parse(d->valuestring, &s->del)))
    rc = kj_fail(err, KJ_EPROTO, "'d': must be a stamp \"HLC/DEVICE\"");
  if (!rc && !cJSON_IsObject(f))
    rc = kj_fail(err, KJ_EPROTO, "'f': must be an object");
  if (!rc && ts && !cJSON_IsObject(ts))
    rc = kj_fail(err, KJ_EPROTO, "'t': must be an object");
  /* every value without its own stamp gets the common one */
  if (!rc)
    rc = get_state_fields(f, ts, cs ? &common : NULL, s, err);
  cJSON_Delete(o);
  return rc;
}

kj_code kj_rstate_store_decode(const char *text, kj_rtype type, const char *id, int deleted,
                               kj_rstate *s, kj_err *err) {
  kj_code rc = store_decode(text, type, id, deleted, s, err);
  if (rc)
    kj_rstate_release(s);
  return rc;
}
