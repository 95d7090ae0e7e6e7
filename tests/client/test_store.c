/* test_store.c - the client store API (client/store.h) that the commands
 * and the sync engine build on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <cmocka.h>

#include "kjt.h"
#include "merge.h"
#include "msg.h"
#include "store.h"

typedef struct fx {
  char *dir;
  char *db;
  kjc_store *s;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  f->dir = kjt_tmpdir();
  f->db = strdup(kjt_path(f->dir, "k.db"));
  kj_err err;
  kj_err_clear(&err);
  if (kjc_store_create(f->db, "36.73.04", &err) ||
      kjc_store_open(&f->s, f->db, KJC_OPEN_WRITE, &err)) {
    fprintf(stderr, "%s\n", err.msg);
    kjc_store_close(f->s);
    free(f->db);
    kjt_rmdir(f->dir);
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  kjc_store_close(f->s);
  free(f->db);
  kjt_rmdir(f->dir);
  free(f);
  return 0;
}

static void reopen(fx *f) {
  kj_err err;
  kjc_store_close(f->s);
  f->s = NULL;
  assert_int_equal(kjc_store_open(&f->s, f->db, KJC_OPEN_WRITE, &err), KJ_OK);
}

/* A new survey change with all required fields. */
static void survey_change(kj_change *c, const char *id, const char *u1) {
  kj_change_init(c, KJ_T_SURVEY);
  snprintf(c->rec.id, sizeof c->rec.id, "%s", id);
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  const char *names[] = {"office", "date", "service", "u1", "u2", "u3",
                         "u4",     "u5",   "u6",      "u7", "u8", "u9"};
  const char *vals[] = {"36.73.04", "2026-03-02", "KTP-el", u1,  "1", "2",
                        "3",        "4",          "1",      "2", "3", "4"};
  for (int i = 0; i < 12; i++) {
    int k = kj_field_index(t, names[i]);
    kj_record_set(&c->rec, k, vals[i]);
    c->mask |= 1u << k;
  }
}

#define ID1 "01900000-0000-7000-8000-000000000101"
#define ID2 "01900000-0000-7000-8000-000000000102"

static void t_create_identity(void **state) {
  fx *f = *state;
  kj_err err;
  assert_string_equal(kjc_store_office(f->s), "36.73.04");
  assert_int_equal(strncmp(kjc_store_device(f->s), "dev-", 4), 0);
  assert_int_equal(kjc_store_create(f->db, "36.73.04", &err), KJ_EEXIST);
  assert_non_null(strstr(err.msg, "already exists"));
  kjc_store *s2;
  assert_int_equal(kjc_store_open(&s2, kjt_path(f->dir, "nope.db"), KJC_OPEN_READ, &err),
                   KJ_ENOENT);
  assert_null(s2);
}

static void t_meta(void **state) {
  fx *f = *state;
  kj_err err;
  char *v;
  assert_int_equal(kjc_meta_get(f->s, KJC_META_SERVER, &v, &err), KJ_OK);
  assert_null(v);
  assert_int_equal(kjc_meta_set(f->s, KJC_META_SERVER, "https://a.example", &err), KJ_OK);
  assert_int_equal(kjc_meta_set_i64(f->s, KJC_META_LAST_SYNC, 1767225600123, &err), KJ_OK);
  reopen(f);
  assert_int_equal(kjc_meta_get(f->s, KJC_META_SERVER, &v, &err), KJ_OK);
  assert_string_equal(v, "https://a.example");
  free(v);
  int64_t t;
  assert_int_equal(kjc_meta_get_i64(f->s, KJC_META_LAST_SYNC, 0, &t, &err), KJ_OK);
  assert_int_equal(t, 1767225600123);
  assert_int_equal(kjc_meta_set(f->s, KJC_META_SERVER, NULL, &err), KJ_OK);
  assert_int_equal(kjc_meta_get(f->s, KJC_META_SERVER, &v, &err), KJ_OK);
  assert_null(v);
  assert_int_equal(kjc_meta_get_i64(f->s, "absent", 42, &t, &err), KJ_OK);
  assert_int_equal(t, 42);
}

static void t_clock_persists(void **state) {
  fx *f = *state;
  kj_err err;
  kj_change c;
  survey_change(&c, ID1, "1");
  assert_int_equal(kjc_store_write(f->s, &c, 0, NULL, &err), KJ_OK);
  kj_hlc first = c.hlc;
  kj_change_release(&c);
  assert_true(first > 0);
  assert_int_equal(kjc_store_set_clock_offset(f->s, -5000, &err), KJ_OK);
  reopen(f);
  assert_int_equal(kjc_store_clock(f->s)->offset_ms, -5000);
  assert_true(kjc_store_clock(f->s)->last >= first);
  /* A persisted stamp far in the future keeps later stamps above it. */
  assert_int_equal(kjc_store_begin(f->s, &err), KJ_OK);
  kjc_store_clock(f->s)->last = first + ((kj_hlc)3600000 << 16);
  assert_int_equal(kjc_store_commit(f->s, &err), KJ_OK);
  reopen(f);
  survey_change(&c, ID2, "2");
  assert_int_equal(kjc_store_write(f->s, &c, 0, NULL, &err), KJ_OK);
  assert_true(c.hlc > first + ((kj_hlc)3600000 << 16));
  kj_change_release(&c);
}

static void t_write_flags(void **state) {
  fx *f = *state;
  kj_err err;
  kj_change c;
  int res;
  survey_change(&c, ID1, "1");
  assert_int_equal(kjc_store_write(f->s, &c, KJC_CHANGE_EXISTING, &res, &err), KJ_ENOENT);
  assert_int_equal(kjc_store_write(f->s, &c, KJC_CHANGE_NEW, &res, &err), KJ_OK);
  assert_int_equal(res, KJC_WRITE_CREATED);
  assert_true(c.seq > 0);
  assert_int_equal(kjc_store_write(f->s, &c, KJC_CHANGE_NEW, &res, &err), KJ_EEXIST);
  /* the same values again with DIFF: nothing to do, no outbox row */
  assert_int_equal(kjc_store_write(f->s, &c, KJC_CHANGE_DIFF, &res, &err), KJ_OK);
  assert_int_equal(res, KJC_WRITE_NOCHANGE);
  kj_change_release(&c);
  /* a change of another type for the same id */
  kj_change a;
  kj_change_init(&a, KJ_T_ACTIVITY);
  snprintf(a.rec.id, sizeof a.rec.id, "%s", ID1);
  a.mask = 1u << kj_field_index(kj_type(KJ_T_ACTIVITY), "quantity");
  kj_record_set(&a.rec, kj_field_index(kj_type(KJ_T_ACTIVITY), "quantity"), "1");
  assert_int_equal(kjc_store_write(f->s, &a, 0, &res, &err), KJ_EINVAL);
  assert_non_null(strstr(err.msg, "is a survey"));
  kj_change_release(&a);
  /* an invalid result is refused and changes nothing */
  kj_change_init(&c, KJ_T_SURVEY);
  snprintf(c.rec.id, sizeof c.rec.id, "%s", ID1);
  int u1 = kj_field_index(kj_type(KJ_T_SURVEY), "u1");
  kj_record_set(&c.rec, u1, "7");
  c.mask = 1u << u1;
  assert_int_equal(kjc_store_write(f->s, &c, 0, &res, &err), KJ_EINVAL);
  assert_non_null(strstr(err.msg, "field 'u1'"));
  kj_change_release(&c);
  kjc_outbox_stats st;
  assert_int_equal(kjc_outbox_stats_get(f->s, &st, &err), KJ_OK);
  assert_int_equal(st.pending, 1);
  assert_true(st.oldest_pending_ms > 0);
}

static void t_apply_remote(void **state) {
  fx *f = *state;
  int exists = -1;
  kj_err err;
  kj_change c;
  survey_change(&c, ID1, "1");
  assert_int_equal(kjc_store_write(f->s, &c, 0, NULL, &err), KJ_OK);
  kj_hlc local = c.hlc;
  kj_change_release(&c);

  kj_rstate cur;
  assert_int_equal(kjc_record_get(f->s, KJ_T_SURVEY, ID1, &cur, &err), KJ_OK);
  /* remote: u1 newer (wins), u2 older (loses) */
  kj_rstate rem;
  kj_rstate_init(&rem, KJ_T_SURVEY);
  assert_int_equal(kj_record_copy(&rem.rec, &cur.rec), KJ_OK);
  memcpy(rem.st, cur.st, sizeof rem.st);
  rem.del = cur.del;
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  int u1 = kj_field_index(t, "u1"), u2 = kj_field_index(t, "u2");
  kj_record_set(&rem.rec, u1, "4");
  rem.st[u1].hlc = local + 10;
  snprintf(rem.st[u1].device, sizeof rem.st[u1].device, "central");
  kj_record_set(&rem.rec, u2, "4");
  rem.st[u2].hlc = local - 10;
  snprintf(rem.st[u2].device, sizeof rem.st[u2].device, "central");

  int changed = 0;
  assert_int_equal(kjc_store_begin(f->s, &err), KJ_OK);
  assert_int_equal(kjc_store_apply_remote(f->s, &rem, &changed, &err), KJ_OK);
  assert_int_equal(kjc_store_commit(f->s, &err), KJ_OK);
  assert_int_equal(changed, 1);
  kj_rstate_release(&cur);
  assert_int_equal(kjc_record_get(f->s, KJ_T_SURVEY, ID1, &cur, &err), KJ_OK);
  assert_string_equal(cur.rec.v[u1], "4");
  assert_string_equal(cur.rec.v[u2], "1");
  assert_string_equal(cur.st[u1].device, "central");
  kj_rstate_release(&cur);
  /* the same again changes nothing */
  assert_int_equal(kjc_store_apply_remote(f->s, &rem, &changed, &err), KJ_OK);
  assert_int_equal(changed, 0);

  /* a rolled-back page leaves no trace */
  snprintf(rem.rec.id, sizeof rem.rec.id, "%s", ID2);
  assert_int_equal(kjc_store_begin(f->s, &err), KJ_OK);
  assert_int_equal(kjc_store_apply_remote(f->s, &rem, &changed, &err), KJ_OK);
  kjc_store_rollback(f->s);
  assert_int_equal(kjc_record_exists(f->s, KJ_T_SURVEY, ID2, &exists), KJ_OK);
  assert_int_equal(exists, 0);
  /* a new record from the server */
  assert_int_equal(kjc_store_apply_remote(f->s, &rem, &changed, &err), KJ_OK);
  assert_int_equal(changed, 1);
  assert_int_equal(kjc_record_exists(f->s, KJ_T_SURVEY, ID2, &exists), KJ_OK);
  assert_int_equal(exists, 1);
  kj_rstate_release(&rem);

  kjc_outbox_stats st;
  assert_int_equal(kjc_outbox_stats_get(f->s, &st, &err), KJ_OK);
  assert_int_equal(st.pending, 1); /* only the local write */
}

static void t_remote_delete(void **state) {
  fx *f = *state;
  int exists = -1;
  kj_err err;
  kj_change c;
  survey_change(&c, ID1, "1");
  assert_int_equal(kjc_store_write(f->s, &c, 0, NULL, &err), KJ_OK);
  kj_change_release(&c);
  kj_rstate rem;
  assert_int_equal(kjc_record_get(f->s, KJ_T_SURVEY, ID1, &rem, &err), KJ_OK);
  rem.rec.deleted = 1;
  rem.del.hlc = KJ_HLC_MAKE(1000, 0); /* a delete wins whatever its stamp */
  snprintf(rem.del.device, sizeof rem.del.device, "central");
  assert_int_equal(kjc_store_apply_remote(f->s, &rem, NULL, &err), KJ_OK);
  kj_rstate_release(&rem);
  assert_int_equal(kjc_record_exists(f->s, KJ_T_SURVEY, ID1, &exists), KJ_OK);
  assert_int_equal(exists, 0);
  /* a later local edit of it is refused */
  survey_change(&c, ID1, "2");
  assert_int_equal(kjc_store_write(f->s, &c, 0, NULL, &err), KJ_EINVAL);
  assert_non_null(strstr(err.msg, "deleted"));
  kj_change_release(&c);
}

static void t_outbox_batch_ack_reject(void **state) {
  fx *f = *state;
  kj_err err;
  char id[40];
  for (int i = 0; i < 5; i++) {
    kj_change c;
    snprintf(id, sizeof id, "01900000-0000-7000-8000-0000000002%02d", i);
    survey_change(&c, id, "3");
    assert_int_equal(kjc_store_write(f->s, &c, 0, NULL, &err), KJ_OK);
    kj_change_release(&c);
  }
  kj_change b[3];
  int n;
  assert_int_equal(kjc_outbox_batch(f->s, 3, b, &n, &err), KJ_OK);
  assert_int_equal(n, 3);
  assert_string_equal(b[0].rec.id, "01900000-0000-7000-8000-000000000200");
  int64_t acks[2] = {b[0].seq, b[2].seq};
  int64_t rej = b[1].seq;
  /* the JSON of a change from the outbox round-trips through the wire form */
  cJSON *j = kj_change_to_json(&b[1]);
  kj_change back;
  assert_int_equal(kj_change_from_json(j, &back, &err), KJ_OK);
  assert_int_equal(back.seq, b[1].seq);
  assert_int_equal(back.hlc, b[1].hlc);
  assert_int_equal(back.mask, b[1].mask);
  kj_change_release(&back);
  cJSON_Delete(j);
  for (int i = 0; i < n; i++)
    kj_change_release(&b[i]);
  assert_int_equal(kjc_outbox_ack(f->s, acks, 2, &err), KJ_OK);
  assert_int_equal(kjc_outbox_reject(f->s, rej, "field 'u1': nope", &err), KJ_OK);
  kjc_outbox_stats st;
  assert_int_equal(kjc_outbox_stats_get(f->s, &st, &err), KJ_OK);
  assert_int_equal(st.pending, 2);
  assert_int_equal(st.rejected, 1);
  /* the rejected one is not sent again */
  assert_int_equal(kjc_outbox_batch(f->s, 3, b, &n, &err), KJ_OK);
  assert_int_equal(n, 2);
  assert_string_equal(b[0].rec.id, "01900000-0000-7000-8000-000000000203");
  for (int i = 0; i < n; i++)
    kj_change_release(&b[i]);
  int p, r;
  char *reason;
  assert_int_equal(
      kjc_record_outbox(f->s, "01900000-0000-7000-8000-000000000201", &p, &r, &reason, &err),
      KJ_OK);
  assert_int_equal(r, 1);
  assert_string_equal(reason, "field 'u1': nope");
  free(reason);
}

static void sql(fx *f, const char *q) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
  char *msg = NULL;
  int rc = sqlite3_exec(db, q, NULL, NULL, &msg);
  if (rc != SQLITE_OK)
    fprintf(stderr, "%s: %s\n", q, msg ? msg : "?");
  sqlite3_free(msg);
  sqlite3_close(db);
  assert_int_equal(rc, SQLITE_OK);
}

static long sql_count(fx *f, const char *q) {
  sqlite3 *db;
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  long v = (long)sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

/* The body of a push written from the stored changes (kjc_outbox_batch_wire)
 * is byte for byte the one of decoding them and encoding them again
 * (kjc_outbox_batch_after + kj_push_encode_inc): new records, an author,
 * text that JSON escapes, a cleared field, a delete, and a row as the
 * releases before this one stored it; a damaged row is refused, not sent. */
static void t_outbox_wire_body(void **state) {
  fx *f = *state;
  kj_err err;
  kj_change c;
  survey_change(&c, ID1, "4");
  snprintf(c.author, sizeof c.author, "operator");
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  int com = kj_field_index(t, "comment"), occ = kj_field_index(t, "occupation");
  kj_record_set(&c.rec, com, "kata \"kutip\", garis \\ miring\nbaris baru\ttab, é ✓ </script>");
  c.mask |= 1u << com;
  kj_record_set(&c.rec, occ, "Guru");
  c.mask |= 1u << occ;
  assert_int_equal(kjc_store_write(f->s, &c, 0, NULL, &err), KJ_OK);
  kj_change_release(&c);
  survey_change(&c, ID2, "2");
  assert_int_equal(kjc_store_write(f->s, &c, 0, NULL, &err), KJ_OK);
  kj_change_release(&c);
  /* an update clearing a field, then a delete */
  kj_change_init(&c, KJ_T_SURVEY);
  snprintf(c.rec.id, sizeof c.rec.id, "%s", ID1);
  kj_record_set(&c.rec, occ, NULL);
  c.mask = 1u << occ;
  assert_int_equal(kjc_store_write(f->s, &c, KJC_CHANGE_EXISTING, NULL, &err), KJ_OK);
  kj_change_release(&c);
  kj_change_init(&c, KJ_T_SURVEY);
  snprintf(c.rec.id, sizeof c.rec.id, "%s", ID2);
  c.rec.deleted = 1;
  assert_int_equal(kjc_store_write(f->s, &c, KJC_CHANGE_EXISTING, NULL, &err), KJ_OK);
  kj_change_release(&c);
  /* a row of an older release: the same columns, its change as cJSON
   * printed kj_change_to_json less the columns */
  sql(f, "INSERT INTO outbox(type, id, hlc, deleted, change, created_ms, needs) VALUES('survey', "
         "'" ID2 "', 7000000000000000000, 0, '{\"author\":\"199001012015011001\",\"f\":"
         "{\"u1\":\"3\",\"comment\":\"a\\u0001b\\\"\"}}', 1, 1)");

  kj_change a[10], b[10];
  int na = 0, nb = 0;
  assert_int_equal(kjc_outbox_batch_after(f->s, INT64_MIN, 10, a, &na, &err), KJ_OK);
  assert_int_equal(na, 5);
  kj_buf old, neu;
  kj_buf_init(&old, KJ_BUF_UNLIMITED);
  kj_buf_init(&neu, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_push_encode_inc(&old, 1234567, "inc7", a, na, KJ_PROTOCOL_MAX, &err), KJ_OK);
  assert_int_equal(kj_push_wire_open(&neu, 1234567, "inc7", &err), KJ_OK);
  assert_int_equal(kjc_outbox_batch_wire(f->s, INT64_MIN, 10, b, &nb, &neu, &err), KJ_OK);
  assert_int_equal(kj_push_wire_close(&neu, &err), KJ_OK);
  assert_int_equal(nb, na);
  assert_string_equal(kj_buf_str(&neu), kj_buf_str(&old));
  assert_non_null(strstr(kj_buf_str(&neu), "\"f\":{\"occupation\":null}"));
  assert_non_null(strstr(kj_buf_str(&neu), "\"del\":true"));
  assert_non_null(strstr(kj_buf_str(&neu), "a\\u0001b\\\""));
  /* the heads the answer is matched with */
  for (int i = 0; i < na; i++) {
    assert_int_equal(b[i].seq, a[i].seq);
    assert_int_equal(b[i].hlc, a[i].hlc);
    assert_int_equal(b[i].needs, a[i].needs);
    assert_int_equal(b[i].rec.type, a[i].rec.type);
    assert_int_equal(b[i].rec.deleted, a[i].rec.deleted);
    assert_string_equal(b[i].rec.id, a[i].rec.id);
    assert_string_equal(b[i].device, a[i].device);
  }
  /* after a seq, and a batch smaller than the outbox */
  for (int i = 0; i < nb; i++)
    kj_change_release(&b[i]);
  kj_buf_release(&neu);
  kj_buf_init(&neu, KJ_BUF_UNLIMITED);
  assert_int_equal(kjc_outbox_batch_wire(f->s, a[1].seq, 2, b, &nb, &neu, &err), KJ_OK);
  assert_int_equal(nb, 2);
  assert_int_equal(b[0].seq, a[2].seq);
  assert_int_equal(b[1].seq, a[3].seq);
  assert_int_equal(neu.data[0], '{');
  for (int i = 0; i < nb; i++)
    kj_change_release(&b[i]);
  kj_buf_release(&neu);
  /* a damaged row stops the batch with the database named, body unchanged */
  char q[200];
  snprintf(q, sizeof q, "UPDATE outbox SET change = '{\"f\":{\"u1\":\"4\"}' WHERE seq = %lld",
           (long long)a[2].seq);
  sql(f, q);
  kj_buf_init(&neu, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_push_wire_open(&neu, 1, NULL, &err), KJ_OK);
  size_t open_len = neu.len;
  assert_int_equal(kjc_outbox_batch_wire(f->s, INT64_MIN, 10, b, &nb, &neu, &err), KJ_EDB);
  assert_int_equal(nb, 0);
  assert_int_equal(neu.len, open_len);
  assert_non_null(strstr(err.msg, "is damaged"));
  assert_non_null(strstr(err.msg, "k.db"));
  kj_buf_release(&neu);
  kj_buf_release(&old);
  for (int i = 0; i < na; i++)
    kj_change_release(&a[i]);
}

/* kj_push_wire_change refuses what would break the JSON of the body. */
static void t_wire_change_lexical(void **state) {
  (void)state;
  static const char *const bad[] = {
      "",
      "{",
      "}",
      "{\"f\":{}",
      "{\"f\":\"x}",
      "{\"f\":\"\\x\"}",
      "{\"f\":\"a\nb\"}",
      "{\"f\":1}}{",
      "{\"f\":{}}}",
      "{\"f\":[}",
      "{\"f\":\"\\u12\"}",
      "{\"f\":#}",
      "[1]",
      "{\"f\":nul}",
      "{\"f\":abc}",
  };
  kj_err err;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    kj_buf b;
    kj_buf_init(&b, KJ_BUF_UNLIMITED);
    assert_int_equal(kj_buf_adds(&b, "["), KJ_OK);
    if (kj_push_wire_change(&b, 1, 9, ID1, "survey", 5, bad[i], strlen(bad[i]), &err) != KJ_EPROTO)
      fail_msg("accepted: %s", bad[i]);
    assert_string_equal(kj_buf_str(&b), "[");
    assert_non_null(strstr(err.msg, "change 9 of '" ID1 "'"));
    kj_buf_release(&b);
  }
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_push_wire_change(&b, 0, 9, ID1, "survey", 5, "{}", 2, &err), KJ_OK);
  assert_int_equal(kj_push_wire_change(&b, 0, 10, ID2, "survey", 6, "{\"del\":true}", 12, &err),
                   KJ_OK);
  const char *lits = "{\"f\":{\"a\":null,\"b\":false,\"c\":[1.5e3,-2]}}";
  kj_buf l;
  kj_buf_init(&l, KJ_BUF_UNLIMITED);
  assert_int_equal(kj_push_wire_change(&l, 1, 1, ID1, "survey", 1, lits, strlen(lits), &err),
                   KJ_OK);
  kj_buf_release(&l);
  assert_string_equal(kj_buf_str(&b),
                      ",{\"seq\":9,\"id\":\"" ID1 "\",\"type\":\"survey\",\"hlc\":\"5\"}"
                      ",{\"seq\":10,\"id\":\"" ID2
                      "\",\"type\":\"survey\",\"hlc\":\"6\",\"del\":true}");
  kj_buf_release(&b);
}

/* An acknowledgement by runs: every acknowledged row goes to `sent` and
 * leaves the outbox, the others stay; one no longer in the outbox (discarded
 * while it was on its way) makes the next pull a full one; a record that
 * keeps a row outside the runs gets the acknowledged change in the
 * server's version (what kinerja discard puts back). */
static void t_outbox_ack_runs(void **state) {
  fx *f = *state;
  kj_err err;
  char id[40];
  for (int i = 0; i < 8; i++) {
    kj_change c;
    snprintf(id, sizeof id, "01900000-0000-7000-8000-0000000003%02d", i);
    survey_change(&c, id, "3");
    assert_int_equal(kjc_store_write(f->s, &c, 0, NULL, &err), KJ_OK);
    kj_change_release(&c);
  }
  /* an update of record 1: its row stays while record 1's first goes */
  kj_change c;
  kj_change_init(&c, KJ_T_SURVEY);
  snprintf(c.rec.id, sizeof c.rec.id, "01900000-0000-7000-8000-000000000301");
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  int u1 = kj_field_index(t, "u1");
  kj_record_set(&c.rec, u1, "1");
  c.mask = 1u << u1;
  assert_int_equal(kjc_store_write(f->s, &c, KJC_CHANGE_EXISTING, NULL, &err), KJ_OK);
  kj_change_release(&c);
  kj_change b[9];
  int n;
  assert_int_equal(kjc_outbox_batch(f->s, 9, b, &n, &err), KJ_OK);
  assert_int_equal(n, 9);
  /* seqs 0,1,2 | 4,5 | 7 acknowledged; 3 and 6 not; 5 discarded already */
  int64_t acks[] = {b[0].seq, b[1].seq, b[2].seq, b[4].seq, b[5].seq, b[7].seq};
  char q[160];
  snprintf(q, sizeof q, "DELETE FROM outbox WHERE seq = %lld", (long long)b[5].seq);
  sql(f, q);
  assert_int_equal(kjc_outbox_ack(f->s, acks, 6, &err), KJ_OK);
  assert_int_equal(sql_count(f, "SELECT count(*) FROM sent"), 5);
  assert_int_equal(sql_count(f, "SELECT count(*) FROM outbox"), 3);
  snprintf(q, sizeof q, "SELECT count(*) FROM outbox WHERE seq IN (%lld, %lld, %lld)",
           (long long)b[3].seq, (long long)b[6].seq, (long long)b[8].seq);
  assert_int_equal(sql_count(f, q), 3);
  char *full = NULL;
  assert_int_equal(kjc_meta_get(f->s, KJC_META_PULL_FULL, &full, &err), KJ_OK);
  assert_non_null(full);
  assert_string_equal(full, "1");
  free(full);
  /* record 1's base took its acknowledged creation: discard puts it back
   * as the server holds it (u1 3), not removed */
  kjc_discard d;
  assert_int_equal(kjc_store_discard(f->s, "01900000-0000-7000-8000-000000000301", &d, &err),
                   KJ_OK);
  assert_int_equal(d.what, KJC_DISCARD_RESTORED);
  kj_rstate st;
  assert_int_equal(
      kjc_record_get(f->s, KJ_T_SURVEY, "01900000-0000-7000-8000-000000000301", &st, &err), KJ_OK);
  assert_string_equal(st.rec.v[u1], "3");
  kj_rstate_release(&st);
  for (int i = 0; i < n; i++)
    kj_change_release(&b[i]);
}

static void t_data_version(void **state) {
  fx *f = *state;
  kj_err err;
  int64_t v0 = kjc_store_data_version(f->s);
  assert_true(v0 >= 0);
  kjt_run r;
  assert_int_equal(KJT(&r, f->db, "config", "set", "server", "https://x.example"), 0);
  kjt_run_release(&r);
  assert_true(kjc_store_data_version(f->s) != v0);
  char *v;
  assert_int_equal(kjc_meta_get(f->s, KJC_META_SERVER, &v, &err), KJ_OK);
  assert_string_equal(v, "https://x.example");
  free(v);
}

static void t_scores(void **state) {
  fx *f = *state;
  kj_err err;
  char *doc, *period;
  assert_int_equal(kjc_scores_get(f->s, "offices", NULL, "", &doc, &period, &err), KJ_OK);
  assert_null(doc);
  assert_int_equal(kjc_scores_put(f->s, "offices", "2026-Q1", "", "{\"period\":\"2026-Q1\"}", &err),
                   KJ_OK);
  assert_int_equal(kjc_scores_put(f->s, "employees", "2026", "36.73.04", "{\"a\":1}", &err), KJ_OK);
  assert_int_equal(kjc_scores_put(f->s, "employees", "2026", "36.73.04", "{\"a\":2}", &err), KJ_OK);
  assert_int_equal(kjc_scores_get(f->s, "employees", "2026", "36.73.04", &doc, NULL, &err), KJ_OK);
  assert_string_equal(doc, "{\"a\":2}");
  free(doc);
  assert_int_equal(kjc_scores_get(f->s, "offices", NULL, "", &doc, &period, &err), KJ_OK);
  assert_string_equal(doc, "{\"period\":\"2026-Q1\"}");
  assert_string_equal(period, "2026-Q1");
  free(doc);
  free(period);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(t_create_identity, setup, teardown),
      cmocka_unit_test_setup_teardown(t_meta, setup, teardown),
      cmocka_unit_test_setup_teardown(t_clock_persists, setup, teardown),
      cmocka_unit_test_setup_teardown(t_write_flags, setup, teardown),
      cmocka_unit_test_setup_teardown(t_apply_remote, setup, teardown),
      cmocka_unit_test_setup_teardown(t_remote_delete, setup, teardown),
      cmocka_unit_test_setup_teardown(t_outbox_batch_ack_reject, setup, teardown),
      cmocka_unit_test_setup_teardown(t_outbox_wire_body, setup, teardown),
      cmocka_unit_test(t_wire_change_lexical),
      cmocka_unit_test_setup_teardown(t_outbox_ack_runs, setup, teardown),
      cmocka_unit_test_setup_teardown(t_scores, setup, teardown),
      cmocka_unit_test_setup_teardown(t_data_version, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
