/* test_merge.c - per-field LWW, final deletes, ties, conflicts, and the key
 * property: any order of the same changes gives the same state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"

#define UUID "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b"

/* kj_merge_apply that must succeed: whether s changed */
static int apply(kj_rstate *s, const kj_change *c, kj_conflict_fn fn, void *ud) {
  kj_err e;
  int changed = -1;
  kj_err_clear(&e);
  assert_int_equal(kj_merge_apply(s, c, fn, ud, &changed, &e), KJ_OK);
  assert_int_equal(e.code, KJ_OK);
  return changed;
}

/* kj_merge_join that must succeed: whether s changed */
static int join(kj_rstate *s, const kj_rstate *remote, kj_conflict_fn fn, void *ud) {
  kj_err e;
  int changed = -1;
  assert_int_equal(kj_merge_join(s, remote, fn, ud, &changed, &e), KJ_OK);
  return changed;
}

static int fidx(const char *name) {
  return kj_field_index(kj_type(KJ_T_SURVEY), name);
}

/* A change of the survey UUID by device dev at hlc setting name=value
 * (value NULL = clear); name NULL = a delete. */
static void mk(kj_change *c, const char *dev, kj_hlc hlc, const char *name, const char *value) {
  kj_change_init(c, KJ_T_SURVEY);
  strcpy(c->rec.id, UUID);
  c->hlc = hlc;
  snprintf(c->device, sizeof(c->device), "%s", dev);
  if (!name) {
    c->rec.deleted = 1;
    return;
  }
  int i = fidx(name);
  assert_true(i >= 0);
  assert_int_equal(kj_record_set(&c->rec, i, value), KJ_OK);
  c->mask |= 1u << i;
}

static char *state_text(const kj_rstate *s) {
  cJSON *o = kj_rstate_to_json(s);
  assert_non_null(o);
  char *t = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return t;
}

typedef struct conflicts {
  int n;
  char last[256];
} conflicts;

static void on_conflict(const kj_conflict *c, void *ud) {
  conflicts *k = ud;
  char ls[KJ_STAMP_STRMAX], ws[KJ_STAMP_STRMAX];
  kj_stamp_format(c->loser_st, ls, sizeof(ls));
  kj_stamp_format(c->winner_st, ws, sizeof(ws));
  snprintf(k->last, sizeof(k->last), "%s %s: %s (%s) lost to %s (%s)", c->id, c->field,
           c->loser ? c->loser : "null", ls, c->winner ? c->winner : "null", ws);
  k->n++;
}

static const char *value_of(const kj_rstate *s, const char *name) {
  return s->rec.v[fidx(name)];
}

static void test_lww_and_ties(void **state) {
  (void)state;
  kj_rstate s;
  kj_change a, b;
  kj_rstate_init(&s, KJ_T_NONE);
  mk(&a, "dev-a", 100, "u1", "3");
  mk(&b, "dev-b", 200, "u1", "4");
  /* a new state takes the change's type and id */
  assert_int_equal(apply(&s, &a, NULL, NULL), 1);
  assert_int_equal(s.rec.type, KJ_T_SURVEY);
  assert_string_equal(s.rec.id, UUID);
  assert_int_equal(apply(&s, &b, NULL, NULL), 1);
  assert_string_equal(value_of(&s, "u1"), "4");
  /* the older value arriving late changes nothing */
  assert_int_equal(apply(&s, &a, NULL, NULL), 0);
  assert_string_equal(value_of(&s, "u1"), "4");
  /* equal stamp = the same write: nothing changes */
  assert_int_equal(apply(&s, &b, NULL, NULL), 0);
  kj_change_release(&a);
  kj_change_release(&b);

  /* tie on hlc: the larger device id wins, in either order */
  for (int order = 0; order < 2; order++) {
    kj_rstate t;
    kj_rstate_init(&t, KJ_T_NONE);
    mk(&a, "dev-a", 300, "u2", "1");
    mk(&b, "dev-b", 300, "u2", "2");
    apply(&t, order ? &b : &a, NULL, NULL);
    apply(&t, order ? &a : &b, NULL, NULL);
    assert_string_equal(value_of(&t, "u2"), "2");
    assert_string_equal(t.st[fidx("u2")].device, "dev-b");
    kj_change_release(&a);
    kj_change_release(&b);
    kj_rstate_release(&t);
  }

  /* a clear is a write like any other */
  mk(&a, "dev-a", 400, "u1", NULL);
  assert_int_equal(apply(&s, &a, NULL, NULL), 1);
  assert_null(value_of(&s, "u1"));
  assert_true(s.st[fidx("u1")].hlc == 400);
  kj_change_release(&a);
  kj_rstate_release(&s);
}

static void test_stamp_cmp(void **state) {
  (void)state;
  kj_stamp x = {.hlc = 5, .device = "a"}, y = {.hlc = 6, .device = "a"};
  assert_int_equal(kj_stamp_cmp(&x, &y), -1);
  assert_int_equal(kj_stamp_cmp(&y, &x), 1);
  assert_int_equal(kj_stamp_cmp(&x, &x), 0);
  /* hlc first, then device bytewise */
  kj_stamp big_dev = {.hlc = 5, .device = "zzz"};
  assert_int_equal(kj_stamp_cmp(&big_dev, &y), -1);
  kj_stamp upper = {.hlc = 5, .device = "Z"}, lower = {.hlc = 5, .device = "a"};
  assert_int_equal(kj_stamp_cmp(&upper, &lower), -1);
  kj_stamp hi = {.hlc = 5, .device = "\xc3\xa9"}, z = {.hlc = 5, .device = "z"};
  assert_int_equal(kj_stamp_cmp(&hi, &z), 1); /* unsigned bytes */
  kj_stamp pre = {.hlc = 5, .device = "dev"}, longer = {.hlc = 5, .device = "dev-a"};
  assert_int_equal(kj_stamp_cmp(&pre, &longer), -1);
}

static void test_delete_wins(void **state) {
  (void)state;
  /* delete at 100, edit at 200: deleted in both orders, same state */
  char *texts[2];
  for (int order = 0; order < 2; order++) {
    kj_rstate s;
    kj_change ed, del;
    kj_rstate_init(&s, KJ_T_NONE);
    mk(&ed, "dev-b", 200, "u1", "4");
    mk(&del, "dev-a", 100, NULL, NULL);
    if (order) {
      assert_int_equal(apply(&s, &del, NULL, NULL), 1);
      apply(&s, &ed, NULL, NULL);
    } else {
      apply(&s, &ed, NULL, NULL);
      assert_int_equal(apply(&s, &del, NULL, NULL), 1);
    }
    assert_int_equal(s.rec.deleted, 1);
    assert_true(s.del.hlc == 100);
    assert_string_equal(s.del.device, "dev-a");
    /* a second delete with the same stamp changes nothing; a later one moves the stamp */
    assert_int_equal(apply(&s, &del, NULL, NULL), 0);
    texts[order] = state_text(&s);
    kj_change_release(&ed);
    kj_change_release(&del);
    kj_rstate_release(&s);
  }
  assert_string_equal(texts[0], texts[1]);
  free(texts[0]);
  free(texts[1]);

  /* an edit long after the delete does not bring the record back */
  kj_rstate s;
  kj_change del, ed;
  kj_rstate_init(&s, KJ_T_NONE);
  mk(&del, "dev-a", 100, NULL, NULL);
  mk(&ed, "dev-a", 999999, "service", "KTP-el");
  apply(&s, &del, NULL, NULL);
  apply(&s, &ed, NULL, NULL);
  assert_int_equal(s.rec.deleted, 1);
  kj_change_release(&del);
  mk(&del, "dev-b", 50, NULL, NULL);
  assert_int_equal(apply(&s, &del, NULL, NULL), 0);
  kj_change_release(&del);
  mk(&del, "dev-b", 150, NULL, NULL);
  assert_int_equal(apply(&s, &del, NULL, NULL), 1);
  assert_string_equal(s.del.device, "dev-b");
  kj_change_release(&del);
  kj_change_release(&ed);
  kj_rstate_release(&s);
}

static void test_conflicts(void **state) {
  (void)state;
  conflicts k = {0};
  kj_rstate s;
  kj_change a, b, a2, same;
  mk(&a, "dev-a", 100, "u1", "3");
  mk(&b, "dev-b", 200, "u1", "4");
  mk(&a2, "dev-a", 300, "u1", "2");
  mk(&same, "dev-c", 400, "u1", "2");

  /* kept value beaten by the change */
  kj_rstate_init(&s, KJ_T_NONE);
  apply(&s, &a, on_conflict, &k);
  assert_int_equal(k.n, 0); /* never written before: no conflict */
  apply(&s, &b, on_conflict, &k);
  assert_int_equal(k.n, 1);
  assert_string_equal(k.last, UUID " u1: 3 (100/dev-a) lost to 4 (200/dev-b)");
  kj_rstate_release(&s);

  /* the change's value beaten by the kept one */
  k.n = 0;
  kj_rstate_init(&s, KJ_T_NONE);
  apply(&s, &b, on_conflict, &k);
  assert_int_equal(apply(&s, &a, on_conflict, &k), 0);
  assert_int_equal(k.n, 1);
  assert_string_equal(k.last, UUID " u1: 3 (100/dev-a) lost to 4 (200/dev-b)");

  /* the same device overwriting itself is no conflict */
  k.n = 0;
  kj_rstate_release(&s);
  kj_rstate_init(&s, KJ_T_NONE);
  apply(&s, &a, on_conflict, &k);
  apply(&s, &a2, on_conflict, &k);
  assert_int_equal(k.n, 0);
  /* nor the same value from another device */
  apply(&s, &same, on_conflict, &k);
  assert_int_equal(k.n, 0);
  assert_true(s.st[fidx("u1")].hlc == 400);
  /* a clear beating a value is */
  kj_change clr;
  mk(&clr, "dev-d", 500, "u1", NULL);
  apply(&s, &clr, on_conflict, &k);
  assert_int_equal(k.n, 1);
  assert_string_equal(k.last, UUID " u1: 2 (400/dev-c) lost to null (500/dev-d)");
  kj_change_release(&clr);

  kj_rstate_release(&s);
  kj_change_release(&a);
  kj_change_release(&b);
  kj_change_release(&a2);
  kj_change_release(&same);
}

static void test_errors(void **state) {
  (void)state;
  kj_err e;
  int changed = -1;
  kj_rstate s;
  kj_change c;
  kj_rstate_init(&s, KJ_T_NONE);
  mk(&c, "dev-a", 100, "u1", "3");
  apply(&s, &c, NULL, NULL);
  kj_change_release(&c);

  kj_change_init(&c, KJ_T_ACTIVITY);
  strcpy(c.rec.id, UUID);
  c.hlc = 5;
  strcpy(c.device, "dev-a");
  assert_int_equal(kj_merge_apply(&s, &c, NULL, NULL, &changed, &e), KJ_EINVAL);
  assert_int_equal(e.code, KJ_EINVAL);
  assert_int_equal(changed, 0);
  assert_string_equal(e.msg, "record '" UUID "' is a survey, not a activity");
  kj_change_release(&c);

  mk(&c, "dev-a", 100, "u1", "3");
  strcpy(c.rec.id, "0190a0b0-1c2d-7e3f-8a4b-000000000000");
  assert_int_equal(kj_merge_apply(&s, &c, NULL, NULL, &changed, &e), KJ_EINVAL);
  assert_string_equal(e.msg,
                      "cannot merge record '0190a0b0-1c2d-7e3f-8a4b-000000000000' into '" UUID "'");
  kj_change_release(&c);

  mk(&c, "", 100, "u1", "3");
  assert_int_equal(kj_merge_apply(&s, &c, NULL, NULL, &changed, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "change of '" UUID "' has no stamp");
  kj_change_release(&c);
  mk(&c, "dev-a", 0, "u1", "3");
  assert_int_equal(kj_merge_apply(&s, &c, NULL, NULL, &changed, &e), KJ_EINVAL);
  kj_change_release(&c);

  mk(&c, "dev-a", 100, "u1", "3");
  c.mask |= 1u << 25;
  assert_int_equal(kj_merge_apply(&s, &c, NULL, NULL, &changed, &e), KJ_EINVAL);
  assert_string_equal(e.msg, "change of '" UUID "' names a field a survey does not have");
  kj_change_release(&c);

  assert_string_equal(value_of(&s, "u1"), "3"); /* untouched by the failures */
  kj_rstate_release(&s);
}

/* ---- order independence ------------------------------------------------- */

#define NCHANGES 40

static const char *const k_fields[] = {"office", "date", "service", "u1", "u2", "u3", "comment"};
static const char *const k_devs[] = {"dev-a", "dev-b", "dev-c", "central"};

/* Random changes by four devices; hlcs collide across devices on purpose so
 * that ties are decided by the device.  Unique per (hlc, device), as real
 * stamps are. */
static void make_changes(kj_change *ch, int n, unsigned seed, int with_delete) {
  srand(seed);
  for (int i = 0; i < n; i++) {
    const char *dev = k_devs[i % 4];
    /* a device's i differ by 4, so its ranges [b, b+2] never overlap */
    kj_hlc hlc = 100 + (kj_hlc)(i / 4) * 3 + (kj_hlc)(rand() % 3);
    if (with_delete && (i == n / 2 || i == n / 3 + 1)) { /* two deletes */
      mk(&ch[i], dev, hlc, NULL, NULL);
      continue;
    }
    kj_change_init(&ch[i], KJ_T_SURVEY);
    strcpy(ch[i].rec.id, UUID);
    ch[i].hlc = hlc;
    strcpy(ch[i].device, dev);
    int nf = 1 + rand() % 3;
    for (int k = 0; k < nf; k++) {
      int f = fidx(k_fields[rand() % 7]);
      char v[32];
      snprintf(v, sizeof(v), "v%d-%d", i, k);
      kj_record_set(&ch[i].rec, f, rand() % 5 == 0 ? NULL : v);
      ch[i].mask |= 1u << f;
    }
  }
}

static char *apply_all(kj_change *ch, const int *order, int n, int twice) {
  kj_rstate s;
  kj_rstate_init(&s, KJ_T_NONE);
  for (int r = 0; r < (twice ? 2 : 1); r++)
    for (int i = 0; i < n; i++)
      apply(&s, &ch[order[i]], NULL, NULL);
  char *t = state_text(&s);
  kj_rstate_release(&s);
  return t;
}

static void shuffle(int *a, int n) {
  for (int i = n - 1; i > 0; i--) {
    int j = rand() % (i + 1);
    int t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

static void order_independence(int with_delete) {
  for (unsigned seed = 1; seed <= 20; seed++) {
    kj_change ch[NCHANGES];
    int order[NCHANGES];
    make_changes(ch, NCHANGES, seed, with_delete);
    for (int i = 0; i < NCHANGES; i++)
      order[i] = i;
    char *ref = apply_all(ch, order, NCHANGES, 0);
    if (with_delete)
      assert_non_null(strstr(ref, "\"del\":true"));
    for (int p = 0; p < 50; p++) {
      shuffle(order, NCHANGES);
      char *got = apply_all(ch, order, NCHANGES, p % 5 == 0);
      assert_string_equal(got, ref);
      free(got);
    }

    /* the same through states: two replicas each get half, then exchange */
    for (int p = 0; p < 10; p++) {
      shuffle(order, NCHANGES);
      kj_rstate x, y;
      kj_err e;
      kj_rstate_init(&x, KJ_T_NONE);
      kj_rstate_init(&y, KJ_T_NONE);
      int cut = 1 + rand() % (NCHANGES - 1);
      for (int i = 0; i < NCHANGES; i++)
        apply(i < cut ? &x : &y, &ch[order[i]], NULL, NULL);
      kj_rstate x2, y2;
      /* through JSON, as a pull would carry them */
      char *xt = state_text(&x), *yt = state_text(&y);
      cJSON *xo = cJSON_Parse(xt), *yo = cJSON_Parse(yt);
      assert_int_equal(kj_rstate_from_json(xo, &x2, &e), KJ_OK);
      assert_int_equal(kj_rstate_from_json(yo, &y2, &e), KJ_OK);
      cJSON_Delete(xo);
      cJSON_Delete(yo);
      free(xt);
      free(yt);
      join(&x, &y2, NULL, NULL);
      join(&y, &x2, NULL, NULL);
      char *a = state_text(&x), *b = state_text(&y);
      assert_string_equal(a, ref);
      assert_string_equal(b, ref);
      /* merging again changes nothing */
      assert_int_equal(join(&x, &y2, NULL, NULL), 0);
      free(a);
      free(b);
      kj_rstate_release(&x);
      kj_rstate_release(&y);
      kj_rstate_release(&x2);
      kj_rstate_release(&y2);
    }
    free(ref);
    for (int i = 0; i < NCHANGES; i++)
      kj_change_release(&ch[i]);
  }
}

static void test_order_independence(void **state) {
  (void)state;
  order_independence(0);
}

static void test_order_independence_with_delete(void **state) {
  (void)state;
  order_independence(1);
}

static void test_merge_state_basics(void **state) {
  (void)state;
  kj_err e;
  kj_rstate local, remote, empty;
  kj_change c;
  kj_rstate_init(&local, KJ_T_NONE);
  kj_rstate_init(&remote, KJ_T_NONE);
  mk(&c, "dev-a", 100, "u1", "3");
  apply(&local, &c, NULL, NULL);
  kj_change_release(&c);
  mk(&c, "central", 200, "office", "36.73.09"); /* a central correction */
  apply(&remote, &c, NULL, NULL);
  kj_change_release(&c);
  assert_int_equal(join(&local, &remote, NULL, NULL), 1);
  assert_string_equal(value_of(&local, "office"), "36.73.09");
  assert_string_equal(value_of(&local, "u1"), "3");
  assert_int_equal(join(&local, &remote, NULL, NULL), 0);
  /* into a new state */
  kj_rstate_init(&empty, KJ_T_NONE);
  assert_int_equal(join(&empty, &local, NULL, NULL), 1);
  char *a = state_text(&empty), *b = state_text(&local);
  assert_string_equal(a, b);
  free(a);
  free(b);
  /* a type mismatch */
  kj_rstate other;
  kj_rstate_init(&other, KJ_T_TARGET);
  strcpy(other.rec.id, UUID);
  int changed = -1;
  assert_int_equal(kj_merge_join(&local, &other, NULL, NULL, &changed, &e), KJ_EINVAL);
  kj_rstate_release(&other);
  kj_rstate_release(&empty);
  kj_rstate_release(&local);
  kj_rstate_release(&remote);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lww_and_ties),
      cmocka_unit_test(test_stamp_cmp),
      cmocka_unit_test(test_delete_wins),
      cmocka_unit_test(test_conflicts),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_order_independence),
      cmocka_unit_test(test_order_independence_with_delete),
      cmocka_unit_test(test_merge_state_basics),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
