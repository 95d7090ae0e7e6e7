/* merge.c - per-field last-writer-wins with a final delete.
 *
 * A state is a join of everything merged into it: each field keeps the
 * value with the highest stamp, `deleted` is set once any delete was seen
 * and `del` keeps the highest delete stamp.  Values keep merging under a
 * tombstone (readers ignore them), which is what makes the result the same
 * in every order: an edit that arrives after the delete lands exactly where
 * it would have landed before it.
 */
#include "merge.h"

#include <string.h>

int kj_stamp_cmp(const kj_stamp *a, const kj_stamp *b) {
  if (a->hlc != b->hlc)
    return a->hlc < b->hlc ? -1 : 1;
  int c = strcmp(a->device, b->device); /* compares as unsigned char */
  return c < 0 ? -1 : c > 0;
}

static int same_value(const char *a, const char *b) {
  return a == b || (a && b && strcmp(a, b) == 0);
}

static kj_code adopt(kj_rstate *s, const kj_record *rec, kj_err *err) {
  if (s->rec.type == KJ_T_NONE) {
    if (!kj_type(rec->type))
      return kj_fail(err, KJ_EINVAL, "unknown record type");
    s->rec.type = rec->type;
    memcpy(s->rec.id, rec->id, sizeof(s->rec.id));
    return KJ_OK;
  }
  if (s->rec.type != rec->type)
    return kj_fail(err, KJ_EINVAL, "record '%s' is a %s, not a %s", s->rec.id,
                   kj_type(s->rec.type)->name,
                   kj_type(rec->type) ? kj_type(rec->type)->name : "record");
  if (strcmp(s->rec.id, rec->id) != 0)
    return kj_fail(err, KJ_EINVAL, "cannot merge record '%s' into '%s'", rec->id, s->rec.id);
  return KJ_OK;
}

/* Merge the value v stamped st into field i of s; *changed |= 1 when s
 * changed.  KJ_OK or KJ_ENOMEM (err filled). */
static kj_code merge_field(kj_rstate *s, int i, const char *v, int lend, const kj_stamp *st,
                           kj_conflict_fn fn, void *ud, int *changed, kj_err *err) {
  kj_stamp *cur = &s->st[i];
  int c = kj_stamp_cmp(st, cur);
  if (c == 0)
    return KJ_OK;
  const char *field = kj_type(s->rec.type)->fields[i].name;
  const char *kept = s->rec.v[i];
  int report = fn && cur->hlc != 0 && strcmp(cur->device, st->device) != 0 && !same_value(kept, v);
  if (c < 0) {
    if (report) {
      kj_conflict k = {s->rec.id, field, v, kept, st, cur};
      fn(&k, ud);
    }
    return KJ_OK;
  }
  if (report) {
    kj_conflict k = {s->rec.id, field, kept, v, cur, st};
    fn(&k, ud);
  }
  if (!same_value(kept, v)) {
    if (lend)
      kj_record_lend(&s->rec, i, v);
    else if (kj_record_set(&s->rec, i, v))
      return kj_fail(err, KJ_ENOMEM, "out of memory");
  }
  *cur = *st;
  *changed = 1;
  return KJ_OK;
}

static int merge_delete(kj_rstate *s, const kj_stamp *st) {
  if (!s->rec.deleted) {
    s->rec.deleted = 1;
    s->del = *st;
    return 1;
  }
  if (kj_stamp_cmp(st, &s->del) > 0) {
    s->del = *st;
    return 1;
  }
  return 0;
}

kj_code kj_merge_apply(kj_rstate *s, const kj_change *c, kj_conflict_fn fn, void *ud, int *changed,
                       kj_err *err) {
  *changed = 0;
  if (c->hlc == 0 || !c->device[0])
    return kj_fail(err, KJ_EINVAL, "change of '%s' has no stamp", c->rec.id);
  kj_code rc = adopt(s, &c->rec, err);
  if (rc)
    return rc;
  const kj_type_def *t = kj_type(s->rec.type);
  if ((c->mask >> t->nfields) != 0)
    return kj_fail(err, KJ_EINVAL, "change of '%s' names a field a %s does not have", c->rec.id,
                   t->name);
  kj_stamp st = {.hlc = c->hlc};
  memcpy(st.device, c->device, sizeof(st.device));
  int ch = 0;
  for (int i = 0; i < t->nfields; i++) {
    if (!(c->mask & (1u << i)))
      continue;
    if ((rc = merge_field(s, i, c->rec.v[i], c->lend, &st, fn, ud, &ch, err)))
      return rc;
  }
  if (c->rec.deleted)
    ch |= merge_delete(s, &st);
  *changed = ch;
  return KJ_OK;
}

kj_code kj_merge_join(kj_rstate *s, const kj_rstate *remote, kj_conflict_fn fn, void *ud,
                      int *changed, kj_err *err) {
  *changed = 0;
  kj_code rc = adopt(s, &remote->rec, err);
  if (rc)
    return rc;
  const kj_type_def *t = kj_type(s->rec.type);
  int ch = 0;
  for (int i = 0; i < t->nfields; i++) {
    if (remote->st[i].hlc == 0)
      continue;
    if ((rc = merge_field(s, i, remote->rec.v[i], 0, &remote->st[i], fn, ud, &ch, err)))
      return rc;
  }
  /* fields of a newer version, kept by name under the same rule */
  for (int i = 0; i < remote->nx; i++) {
    const kj_xfield *rx = &remote->x[i], *lx = kj_rstate_xfind(s, rx->name);
    if (lx && kj_stamp_cmp(&rx->st, &lx->st) <= 0)
      continue;
    rc = kj_rstate_xput(s, rx->name, rx->value, &rx->st);
    if (rc == KJ_ENOMEM)
      return kj_fail(err, rc, "out of memory");
    ch |= rc == KJ_OK;
  }
  if (remote->rec.deleted)
    ch |= merge_delete(s, &remote->del);
  *changed = ch;
  return KJ_OK;
}
