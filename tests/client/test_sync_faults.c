/* test_sync_faults.c - the sync engine under faults, real processes over
 * loopback TLS (issue 5): a proxy cutting connections at random byte
 * offsets, the client SIGKILLed mid-batch, the server killed mid-sync,
 * `sync --watch` finding a server that comes up late and picking up local
 * changes.  After healing every replica agrees with the server field by
 * field, and the server applied each change exactly once. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "kjt.h"
#include "syncenv.h"

#define OA "36.73.01"

static syncenv *g;

static int setup(void **state) {
  (void)state;
  g = syncenv_new();
  syncenv_start(g, 0);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  syncenv_free(g);
  g = NULL;
  return 0;
}

/* Import n new surveys of office (ids made by the client). */
static void import_surveys_of(const char *db, const char *office, int n, int salt) {
  char path[700];
  snprintf(path, sizeof path, "%s/s%d.csv", g->dir, salt);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment\n",
        f);
  for (int i = 0; i < n; i++)
    fprintf(f, ",%s,2026-03-%02d,Layanan %d-%d,%d,%d,3,4,3,3,2,3,4,%d,%s,,,komentar %d\n", office,
            1 + i % 28, salt, i, 1 + i % 4, 1 + (i / 4) % 4, 18 + i % 60, i % 2 ? "L" : "P", i);
  fclose(f);
  assert_int_equal(KJ(db, "import", "survey", path), 0);
}

static void import_surveys(const char *db, int n, int salt) {
  import_surveys_of(db, OA, n, salt);
}

static long pending(const char *db) {
  char *out = NULL;
  assert_int_equal(
      syncenv_kinerja(db, NULL, &out, NULL, (const char *const[]){"status", "--json", NULL}), 0);
  cJSON *d = cJSON_Parse(out);
  free(out);
  assert_non_null(d);
  long p = (long)cJSON_GetObjectItem(d, "pending")->valuedouble;
  cJSON_Delete(d);
  return p;
}

static void assert_agree(const char *db) {
  char *mine = syncenv_export(db), *srv = syncenv_server_view(g, OA);
  assert_string_equal(mine, srv);
  free(mine);
  free(srv);
}

static void set_server(const char *db, const char *url) {
  assert_int_equal(KJ(db, "config", "set", "server", url), 0);
}

/* `kinerja sync --json --batch BATCH` of db (nothing of db is rejected or
 * held): its exit status; *pulled (may be NULL) gets its "pulled".  Its "pushed" must be what left
 * the outbox, cut or not: each acknowledged change counted once, none left out (the counters of a
 * sync cut and resumed; a batch noted twice as cut in flight was asked about and acknowledged
 * twice, counted 2,000 for 1,000). */
static int sync_counted(const char *db, const char *batch, long *pushed, long *pulled) {
  long before = pending(db);
  char *out = NULL;
  int st = syncenv_kinerja(db, NULL, &out, NULL,
                           (const char *const[]){"sync", "--json", "--batch", batch, NULL});
  cJSON *d = out ? cJSON_Parse(out) : NULL;
  if (!d)
    fail_msg("sync --json printed no summary (exit %d): %s", st, out ? out : "(null)");
  free(out);
  long p = (long)cJSON_GetObjectItem(d, "pushed")->valuedouble,
       dup = (long)cJSON_GetObjectItem(d, "duplicate")->valuedouble,
       rej = (long)cJSON_GetObjectItem(d, "rejected")->valuedouble,
       after = (long)cJSON_GetObjectItem(d, "pending")->valuedouble;
  if (pulled)
    *pulled = (long)cJSON_GetObjectItem(d, "pulled")->valuedouble;
  cJSON_Delete(d);
  if (p != before - after || dup > p || rej != 0)
    fail_msg("sync (exit %d): pushed %ld, duplicate %ld, rejected %ld, but %ld of %ld pending "
             "left the outbox",
             st, p, dup, rej, before - after, before);
  *pushed += p;
  return st;
}

/* Connections cut at random byte offsets, in both directions.  The syncs'
 * "pushed" add up to the changes imported. */
static void test_cut_connections(void **state) {
  (void)state;
  syncenv_proxy(g, 70, 12000, 42);
  const char *a = syncenv_client(g, "a", OA, g->proxy_url);
  const char *b = syncenv_client(g, "b", OA, g->proxy_url);
  import_surveys(a, 1500, 1);
  import_surveys(b, 500, 2);
  long applied0 = syncenv_metric(g, "applied");
  int ok_a = 0, ok_b = 0, cuts = 0;
  long pushed_a = 0, pushed_b = 0;
  for (int i = 0; i < 400 && !(ok_a && ok_b); i++) {
    const char *db = i % 2 ? b : a;
    int st = sync_counted(db, "20", db == a ? &pushed_a : &pushed_b, NULL);
    assert_true(st == 0 || st == 2); /* a cut is "unreachable", never a failure */
    if (st == 2)
      cuts++;
    if (st == 0) {
      if (db == a)
        ok_a = 1;
      else
        ok_b = 1;
    }
  }
  print_message("cut proxy: %d syncs cut, a %s, b %s\n", cuts, ok_a ? "done" : "not done",
                ok_b ? "done" : "not done");
  assert_true(cuts > 0);
  /* heal: straight to the server */
  syncenv_proxy_stop(g);
  set_server(a, g->url);
  set_server(b, g->url);
  assert_int_equal(sync_counted(a, "20", &pushed_a, NULL), 0);
  assert_int_equal(sync_counted(b, "20", &pushed_b, NULL), 0);
  assert_int_equal(pushed_a, 1500);
  assert_int_equal(pushed_b, 500);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_int_equal(pending(a), 0);
  assert_int_equal(pending(b), 0);
  /* exactly once: 2000 changes, 2000 applications; batches whose answer
   * was cut were sent again and replayed, not applied again */
  print_message("replayed after a lost answer: %ld\n", syncenv_metric(g, "replayed"));
  assert_int_equal(syncenv_metric(g, "applied") - applied0, 2000);
  assert_agree(a);
  assert_agree(b);
}

/* meta KEY of the PC's database set to VALUE (the row must exist). */
static void set_meta(const char *db, const char *key, const char *value) {
  sqlite3 *d = NULL;
  assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(d, "INSERT OR REPLACE INTO meta(key, value) VALUES (?2, ?1)",
                                      -1, &st, NULL),
                   SQLITE_OK);
  sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  assert_int_equal(sqlite3_changes(d), 1);
  sqlite3_finalize(st);
  sqlite3_close(d);
}

/* meta KEY of the PC's database into out ("" when absent). */
static void get_meta(const char *db, const char *key, char *out, size_t size) {
  sqlite3 *d = NULL;
  assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(d, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL),
                   SQLITE_OK);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  out[0] = 0;
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(d);
}

/* Issue 21 point 3 (docs/protocol.md "Compression"): the body coding the
 * PC keeps from hello.  A PC whose hello came from a server without the
 * dictionary (meta server_coding "gzip") pushes gzip; the server, upgraded
 * since, answers in the dictionary's coding (the PC's Accept-Encoding names
 * it), and the PC keeps that coding for its next sync, whose push is then
 * smaller for the same changes.  A PC whose coding was forgotten (after a
 * 415) asks hello again at its next sync. */
static void test_coding_negotiated(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  assert_int_equal(KJ(a, "sync"), 0); /* hello: the server names the dictionary */
  char zst[64], got[64];
  get_meta(a, "server_coding", zst, sizeof zst);
  assert_true(!strncmp(zst, "kjzstd-", 7) && strlen(zst) == 23);
  set_meta(a, "server_coding", "gzip"); /* as an older server's hello leaves it */
  import_surveys(a, 1000, 7);
  long gz = 0, zs = 0;
  for (int round = 0; round < 2; round++) {
    char *out = NULL; /* one push of 1,000 each (--batch: no slow start) */
    assert_int_equal(
        syncenv_kinerja(a, NULL, &out, NULL,
                        (const char *const[]){"sync", "--json", "--batch", "1000", NULL}),
        0);
    cJSON *d = cJSON_Parse(out);
    free(out);
    assert_non_null(d);
    assert_int_equal(cJSON_GetObjectItem(d, "pushed")->valuedouble, 1000);
    assert_int_equal(cJSON_GetObjectItem(d, "requests")->valuedouble, 2); /* no hello */
    *(round ? &zs : &gz) = (long)cJSON_GetObjectItem(d, "bytes_sent")->valuedouble;
    cJSON_Delete(d);
    get_meta(a, "server_coding", got, sizeof got);
    assert_string_equal(got, zst); /* learnt from the answers */
    if (!round)                    /* the same 1,000 surveys again, as new records */
      import_surveys(a, 1000, 8);
  }
  print_message("1,000 surveys pushed: %ld bytes in gzip, %ld in zstd with the dictionary\n", gz,
                zs);
  assert_true(zs * 10 < gz * 9);
  /* forgotten (a 415 from a rolled-back server): the next sync asks hello */
  set_meta(a, "server_coding", "");
  char *out = NULL;
  assert_int_equal(
      syncenv_kinerja(a, NULL, &out, NULL, (const char *const[]){"sync", "--json", NULL}), 0);
  cJSON *d = cJSON_Parse(out);
  free(out);
  assert_int_equal(cJSON_GetObjectItem(d, "requests")->valuedouble, 2); /* hello, pull */
  cJSON_Delete(d);
  get_meta(a, "server_coding", got, sizeof got);
  assert_string_equal(got, zst);
}

/* `kinerja sync` (it must succeed): its wall time in seconds. */
static double timed_sync(const char *db) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  assert_int_equal(KJ(db, "sync"), 0);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* The lowest seq of db's outbox (0 when empty). */
static long long outbox_first(const char *db) {
  sqlite3 *d = NULL;
  assert_int_equal(sqlite3_open(db, &d), SQLITE_OK);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(d, "SELECT coalesce(min(seq), 0) FROM outbox", -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  long long v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(d);
  return v;
}

static void copy_file(const char *from, const char *to) {
  FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
  assert_non_null(a);
  assert_non_null(b);
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, a)) > 0)
    assert_int_equal(fwrite(buf, 1, n, b), n);
  fclose(a);
  assert_int_equal(fclose(b), 0);
}

/* Batches cut in flight noted twice in meta push_cut (what a question cut
 * with the last cut batch sent behind it left before that batch was
 * noted once): the server had applied all three batches of 100, their
 * answers lost.  The next sync asks about each batch once and takes the
 * 300 changes as answered, counted once: "pushed" 300, not 400 (before,
 * the batch noted twice was asked about twice, each of its changes
 * acknowledged and counted twice, and acknowledged rows no longer in the
 * outbox made the next pull fetch every record of the office again). */
static void test_cut_noted_twice(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  assert_int_equal(KJ(a, "sync"), 0); /* hello: the server pipelines */
  import_surveys(a, 300, 15);
  char keep[700], path[700];
  snprintf(keep, sizeof keep, "%s.before", a);
  copy_file(a, keep); /* kinerja exited: its WAL is checkpointed */
  long long s0 = outbox_first(a);
  long applied0 = syncenv_metric(g, "applied");
  /* the server applies the three batches; this PC forgets their answers */
  assert_int_equal(KJ(a, "sync", "--batch", "100"), 0);
  assert_int_equal(syncenv_metric(g, "applied") - applied0, 300);
  copy_file(keep, a);
  snprintf(path, sizeof path, "%s-wal", a);
  unlink(path);
  snprintf(path, sizeof path, "%s-shm", a);
  unlink(path);
  assert_int_equal(pending(a), 300);
  char inc[64], cut[256];
  get_meta(a, "incarnation", inc, sizeof inc);
  snprintf(cut, sizeof cut, "%s\n%lld-%lld\n%lld-%lld\n%lld-%lld\n%lld-%lld", inc, s0, s0 + 99,
           s0 + 100, s0 + 199, s0 + 100, s0 + 199, s0 + 200, s0 + 299);
  set_meta(a, "push_cut", cut);
  long pushed = 0, pulled = 0;
  assert_int_equal(sync_counted(a, "100", &pushed, &pulled), 0);
  assert_int_equal(pushed, 300);
  assert_int_equal(pending(a), 0);
  assert_true(pulled < 300); /* no row acknowledged twice: no pull of every record */
  assert_int_equal(syncenv_metric(g, "applied") - applied0, 300);
  assert_agree(a);
}

/* Issue 21: the push is pipelined.  Over a link with 300 ms each way
 * (tests/tools/linkem), 2,500 changes (3 batches) go out on one connection
 * without waiting for each answer: the sync is at least one round trip
 * shorter than the same sync stop-and-wait (a PC told the server takes no
 * pipelining, as an older server says by saying nothing), which waits a
 * round trip per batch (2 more here).  Both apply every change once. */
static void test_pipelined_push(void **state) {
  (void)state;
  syncenv_linkem(g, (const char *const[]){"--delay", "300", NULL});
  const char *a = syncenv_client(g, "a", OA, g->proxy_url);
  const char *b = syncenv_client(g, "b", OA, g->proxy_url);
  assert_int_equal(KJ(a, "sync"), 0); /* hello: the server pipelines */
  assert_int_equal(KJ(b, "sync"), 0);
  set_meta(b, "server_pipeline", "0"); /* b: stop-and-wait */
  import_surveys(a, 2500, 1);
  import_surveys(b, 2500, 2);
  long applied0 = syncenv_metric(g, "applied");
  double ta = timed_sync(a), tb = timed_sync(b);
  print_message("2,500 changes over 300 ms each way: pipelined %.2f s, stop-and-wait %.2f s\n", ta,
                tb);
  assert_true(tb - ta > 0.6); /* 2 round trips of 0.6 s saved, at least one */
  assert_int_equal(syncenv_metric(g, "applied") - applied0, 5000);
  assert_int_equal(pending(a), 0);
  assert_int_equal(pending(b), 0);
  syncenv_proxy_stop(g);
  set_server(a, g->url);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_agree(a);
}

/* Issue 21: a cut in the middle of a pipelined push sends again only what
 * was not acknowledged.  3,000 changes in batches of 100 through a link
 * of 200 kbit/s and 100 ms each way (tests/tools/linkem) that drops every
 * connection 2 s after it starts: the sync exits 2 with part of the
 * outbox acknowledged; the next sync sends the rest, and of what the
 * server sees again (a replay: applied before the cut, its answer lost)
 * there are at most the 4 batches that can be in flight.  Every change is
 * applied once. */
static void test_pipelined_cut(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  assert_int_equal(KJ(a, "sync"), 0); /* hello: the server pipelines */
  import_surveys(a, 3000, 5);
  long applied0 = syncenv_metric(g, "applied"), replayed0 = syncenv_metric(g, "replayed");
  /* the cut must fall after the first answers: on a loaded machine (or the
   * PostgreSQL store) none may have come within 2 s, then the link lives
   * longer the next time (nothing was acknowledged, so nothing changed) */
  long left = 3000;
  for (const char *const *ms = (const char *const[]){"2000", "4000", "8000", NULL}; *ms; ms++) {
    syncenv_linkem(g, (const char *const[]){"--rate", "200", "--delay", "100", "--drop-first", *ms,
                                            "--drop-every", "600000", NULL});
    set_server(a, g->proxy_url);
    /* cut: unreachable (2); or, when the drop came before the first
     * answer, the push went once more one batch at a time and finished */
    int st = KJ(a, "sync", "--batch", "100");
    assert_true(st == 2 || st == 0);
    left = pending(a);
    print_message("pipelined push cut after %s ms: exit %d, %ld of 3000 pending\n", *ms, st, left);
    if (left < 3000)
      break;
    syncenv_proxy_stop(g);
  }
  assert_true(left < 3000);
  syncenv_proxy_stop(g);
  set_server(a, g->url);
  assert_int_equal(KJ(a, "sync", "--batch", "100"), 0);
  assert_int_equal(pending(a), 0);
  long replayed = syncenv_metric(g, "replayed") - replayed0;
  print_message("sent again: %ld, of them replays: %ld\n", left, replayed);
  assert_true(replayed <= 4L * 100);
  assert_int_equal(syncenv_metric(g, "applied") - applied0, 3000);
  assert_agree(a);
}

/* Issue 21 point 2: a drop costs at most one batch's bytes.  2,000
 * changes in batches of 200 (about 8 KB each) through a link of
 * 400 kbit/s whose answers take 1.2 s to come back (50 ms up): with 4
 * batches in flight (0.65 s of sending) the server has applied them
 * before the first answer is back, so when the link drops there are
 * batches applied whose answers were lost.  The sync exits 2; the next one
 * (same link) asks the server which of the batches cut in flight it
 * applied (POST /v1/push/status) and sends only the others.  What the
 * client put on the wire over the two runs (tests/tools/linkem's
 * counters), less what a PC of another office put on the wire for the same
 * work without a drop, is what the drop cost: at most the batch it cut,
 * what was on the link (50 ms of it), the new connection's handshake and
 * the status request (before: every unanswered batch went again, 3 to 4
 * batches here).  Every change is applied once, none replayed but the
 * batch the drop cut. */
static void test_drop_resends_one_batch(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  /* b in another office: neither pulls the other's records */
  const char *b = syncenv_client(g, "b", "36.73.02", g->url);
  assert_int_equal(KJ(a, "sync"), 0); /* hello: the server pipelines */
  assert_int_equal(KJ(b, "sync"), 0);
  import_surveys(a, 2000, 7);
  import_surveys_of(b, "36.73.02", 2000, 7);
  /* b: the same work without a drop */
  syncenv_linkem(
      g, (const char *const[]){"--rate", "400", "--delay", "50", "--delay-down", "1200", NULL});
  set_server(b, g->proxy_url);
  time_t t0 = time(NULL);
  assert_int_equal(KJ(b, "sync", "--batch", "200"), 0);
  print_message("the sync without a drop: %ld s\n", (long)(time(NULL) - t0));
  syncenv_link_stats sb;
  syncenv_linkem_stats(g, &sb);
  syncenv_proxy_stop(g);
  long long base = sb.c2s - sb.unsent_c2s, batch = base / 10;
  /* a: the link drops 8 s after it came up, in the middle of the push
   * (its first 3.75 s are the TCP and TLS handshakes, the first answer
   * comes about 5.5 s in) */
  long applied0 = syncenv_metric(g, "applied"), replayed0 = syncenv_metric(g, "replayed");
  syncenv_linkem(g, (const char *const[]){"--rate", "400", "--delay", "50", "--delay-down", "1200",
                                          "--drop-first", "8000", "--drop-every", "600000", NULL});
  set_server(a, g->proxy_url);
  t0 = time(NULL);
  int st = KJ(a, "sync", "--batch", "200");
  print_message("first sync: exit %d after %ld s\n", st, (long)(time(NULL) - t0));
  /* cut: unreachable (2), the next sync goes on; or (a loaded machine)
   * the drop came before the first answer and the push went once more one
   * batch at a time in the same run, after asking the same question (0) */
  assert_true(st == 2 || st == 0);
  long left = pending(a);
  if (st == 2)
    assert_int_equal(KJ(a, "sync", "--batch", "200"), 0);
  syncenv_link_stats sa;
  syncenv_linkem_stats(g, &sa);
  syncenv_proxy_stop(g);
  long long mine = sa.c2s - sa.unsent_c2s, again = mine - base;
  long replayed = syncenv_metric(g, "replayed") - replayed0;
  print_message("no drop: %lld B up (a batch %lld B); with %lld drop(s): %lld B up, %lld B sent "
                "again; %ld of 2000 pending after the cut, %ld replayed\n",
                base, batch, sa.cuts, mine, again, left, replayed);
  assert_int_equal(sa.cuts, 1);
  /* the cut batch, 50 ms of the link (2.5 KB), a handshake and the
   * status request (about 1.2 KB) */
  assert_true(again <= batch + 3700);
  assert_true(replayed <= 200); /* at most the batch the drop cut */
  assert_int_equal(syncenv_metric(g, "applied") - applied0, 2000);
  assert_int_equal(pending(a), 0);
  set_server(a, g->url);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_agree(a);
}

/* Issue 21 point 2: after a drop the same run connects again as soon as
 * the link answers (tries 50 ms after the cut, then at gaps doubling to
 * 250 ms; before: one try 1 s after it), and the pushes go on behind the
 * push/status question instead of after its answer.  3,000 changes in
 * batches of 200 through a link of 200 kbit/s, 300 ms each way, that
 * drops once, in the middle of the push, and stays down 700 ms: the sync
 * finishes in that run; linkem accepted more than the two connections of
 * the old code (tries refused while the link was down); the question was
 * answered with pushes already sent behind it (kinerja's debug log); every
 * change is applied once and at most the batch the drop cut is replayed.
 * The drop must come after the first answer: on a loaded machine the
 * link lives longer the next time (nothing was acknowledged yet). */
static void test_drop_reconnect_behind_question(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  assert_int_equal(KJ(a, "sync"), 0); /* hello: the server pipelines */
  import_surveys(a, 3000, 9);
  long applied0 = syncenv_metric(g, "applied"), replayed0 = syncenv_metric(g, "replayed");
  const char *env[] = {"KJ_LOG=debug", NULL};
  char *log = NULL;
  syncenv_link_stats ls;
  memset(&ls, 0, sizeof ls);
  int st = -1;
  for (const char *const *ms = (const char *const[]){"4500", "7000", "11000", NULL}; *ms; ms++) {
    syncenv_linkem(g, (const char *const[]){"--rate", "200", "--delay", "300", "--drop-first", *ms,
                                            "--drop-every", "600000", "--down", "700", NULL});
    set_server(a, g->proxy_url);
    free(log);
    log = NULL;
    st = syncenv_kinerja(a, env, NULL, &log, (const char *const[]){"sync", "--batch", "200", NULL});
    syncenv_linkem_stats(g, &ls);
    syncenv_proxy_stop(g);
    int reconnected = log && strstr(log, "connecting again");
    print_message("drop %s ms in: exit %d, %lld connection(s), %lld cut(s), reconnected %d, %ld "
                  "pending\n",
                  *ms, st, ls.conns, ls.cuts, reconnected, pending(a));
    if (reconnected || pending(a) == 0)
      break;
    if (st == 2 && pending(a) == 3000)
      continue; /* the drop came before the first answer: again, later */
    break;
  }
  assert_non_null(log);
  assert_non_null(strstr(log, "connecting again"));
  assert_int_equal(st, 0); /* the same run finished */
  assert_int_equal(ls.cuts, 1);
  assert_true(ls.conns > 2); /* tries while the link was down */
  const char *q = strstr(log, "push status: answered with ");
  assert_non_null(q);
  int behind = atoi(q + strlen("push status: answered with "));
  print_message("the question answered with %d push(es) behind it\n", behind);
  assert_true(behind >= 1);
  free(log);
  assert_int_equal(pending(a), 0);
  assert_true(syncenv_metric(g, "replayed") - replayed0 <= 200);
  assert_int_equal(syncenv_metric(g, "applied") - applied0, 3000);
  set_server(a, g->url);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_agree(a);
}

/* The sizes of the batches a `kinerja sync` of db sent, in order (its
 * debug log's "push: a batch of N changes sent"): their number. */
static int pushed_batches(const char *db, int *sz, int max) {
  const char *env[] = {"KJ_LOG=debug", NULL};
  char *log = NULL;
  assert_int_equal(syncenv_kinerja(db, env, NULL, &log, (const char *const[]){"sync", NULL}), 0);
  assert_non_null(log);
  int n = 0;
  const char *key = "push: a batch of ";
  for (const char *p = strstr(log, key); p && n < max; p = strstr(p + 1, key))
    sz[n++] = atoi(p + strlen(key));
  free(log);
  print_message("batches:");
  for (int i = 0; i < n; i++)
    print_message(" %d", sz[i]);
  print_message("\n");
  return n;
}

/* Issue 21 point 2: a slow start.  With no rate of the link known (a PC's
 * first push, a rate older than 7 days or measured against another server
 * URL) the first batches are small (125 changes, before: 1,000, so that a
 * drop early in a first sync over a slow link cut 27 KB) and each later
 * one at most twice the largest answered so far, up to 1,000 on loopback;
 * with a fresh rate of this server the first batch is 1,000 at once.
 * Every change is applied once. */
static void test_slow_start(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  assert_int_equal(KJ(a, "sync"), 0); /* hello: the server pipelines */
  long applied0 = syncenv_metric(g, "applied");
  int sz[64], n, sum = 0, big = 0;
  import_surveys(a, 5000, 11);
  n = pushed_batches(a, sz, 64);
  assert_true(n >= 4);
  assert_true(sz[0] <= 250);
  for (int i = 0; i < n; i++) {
    sum += sz[i];
    big = sz[i] > big ? sz[i] : big;
  }
  assert_int_equal(sum, 5000);
  assert_int_equal(big, 1000); /* grown to the batch size */
  assert_true(sz[n - 1] > sz[0]);
  assert_int_equal(pending(a), 0);
  char got[128]; /* the rate measured, kept with its server and time */
  get_meta(a, "link_rate_server", got, sizeof got);
  assert_string_equal(got, g->url);
  get_meta(a, "link_rate_ms", got, sizeof got);
  assert_true(llabs(atoll(got) - (long long)time(NULL) * 1000) < 600000);

  /* a fresh rate of this server (a LAN's): 1,000 from the first batch */
  char ms[32];
  snprintf(ms, sizeof ms, "%lld", (long long)time(NULL) * 1000);
  set_meta(a, "link_rate", "5000000");
  set_meta(a, "link_rate_ms", ms);
  set_meta(a, "link_rate_server", g->url);
  import_surveys(a, 2000, 12);
  n = pushed_batches(a, sz, 64);
  assert_int_equal(n, 2);
  assert_int_equal(sz[0], 1000);

  /* the same rate measured 8 days ago, then against another URL: slow */
  snprintf(ms, sizeof ms, "%lld", ((long long)time(NULL) - 8 * 86400) * 1000);
  set_meta(a, "link_rate", "5000000");
  set_meta(a, "link_rate_ms", ms);
  import_surveys(a, 500, 13);
  n = pushed_batches(a, sz, 64);
  assert_true(n >= 2 && sz[0] <= 250);
  snprintf(ms, sizeof ms, "%lld", (long long)time(NULL) * 1000);
  set_meta(a, "link_rate", "5000000");
  set_meta(a, "link_rate_ms", ms);
  set_meta(a, "link_rate_server", "https://127.0.0.1:1");
  import_surveys(a, 500, 14);
  n = pushed_batches(a, sz, 64);
  assert_true(n >= 2 && sz[0] <= 250);
  assert_int_equal(syncenv_metric(g, "applied") - applied0, 8000);
  assert_agree(a);
}

/* The bytes of the first batch a sync's debug log says it sent (*first),
 * the number of batches sent (returned); *slow 1 when the log says the
 * first answer showed a slow link. */
static int first_batch_bytes(const char *db, long *first, int *slow) {
  const char *env[] = {"KJ_LOG=debug", NULL};
  char *log = NULL;
  assert_int_equal(syncenv_kinerja(db, env, NULL, &log, (const char *const[]){"sync", NULL}), 0);
  assert_non_null(log);
  int n = 0;
  *first = 0;
  const char *key = "push: a batch of ";
  for (const char *p = strstr(log, key); p; p = strstr(p + 1, key)) {
    const char *c = strstr(p, " sent, ");
    if (n++ == 0 && c)
      *first = atol(c + 7);
  }
  *slow = strstr(log, "a slow link: batches and level to it") != NULL;
  free(log);
  return n;
}

/* Issue 21 point 2, round 8: a slow start over a slow link.  With no rate
 * known, a push over a connection whose handshake took a second or more
 * (linkem: 64 kbit/s, 300 ms each way, as EDGE) compresses its first
 * batches at zstd's highest level (before: 12 until a rate was measured),
 * and its first answer, later than a round trip by the time the link took
 * to carry the batch, gives the rate its next batches and the window are
 * sized to (said in the debug log).  The first batch of 125 surveys is
 * smaller than the same batch over loopback; every change is applied
 * once. */
static void test_slow_start_slow_link(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  assert_int_equal(KJ(a, "sync"), 0); /* hello: the server pipelines */
  long applied0 = syncenv_metric(g, "applied");
  long loop = 0, slow_link = 0;
  int slow = 0;
  import_surveys(a, 500, 21);
  assert_true(first_batch_bytes(a, &loop, &slow) >= 2);
  assert_false(slow); /* loopback: no slow link */
  syncenv_linkem(g, (const char *const[]){"--rate", "64", "--delay", "300", NULL});
  set_server(a, g->proxy_url); /* another URL: no rate known */
  import_surveys(a, 600, 22);
  assert_true(first_batch_bytes(a, &slow_link, &slow) >= 2);
  print_message("first batch of 125: %ld B over loopback, %ld B over the slow link\n", loop,
                slow_link);
  assert_true(slow);
  assert_true(slow_link > 0 && slow_link * 100 < loop * 95); /* level 19: about 9 % fewer */
  assert_int_equal(pending(a), 0);
  assert_int_equal(syncenv_metric(g, "applied") - applied0, 1100);
  syncenv_proxy_stop(g);
  set_server(a, g->url);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_agree(a);
}

/* The client killed with SIGKILL in the middle of batches. */
static void test_client_killed(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  import_surveys(a, 20000, 3);
  long applied0 = syncenv_metric(g, "applied");
  long before = 20000;
  for (int k = 0; k < 5; k++) {
    pid_t p = syncenv_spawn(g, a, NULL, (const char *const[]){"sync", "--batch", "50", NULL});
    /* kill it as soon as a batch went through: in the middle of the next */
    time_t t0 = time(NULL);
    while (pending(a) >= before && time(NULL) - t0 < 20)
      usleep(10000);
    kill(p, SIGKILL);
    syncenv_wait(p);
    before = pending(a);
  }
  /* SIGINT in the middle of a batch: a clean stop, nothing lost */
  pid_t p = syncenv_spawn(g, a, NULL, (const char *const[]){"sync", "--batch", "50", NULL});
  time_t t0 = time(NULL);
  while (pending(a) >= before && time(NULL) - t0 < 20)
    usleep(10000);
  kill(p, SIGINT);
  assert_int_equal(syncenv_wait(p), 1);
  char *log = kjt_read(kjt_path(g->dir, "spawn.log"));
  assert_non_null(log);
  assert_non_null(strstr(log, "sync interrupted"));
  free(log);
  long left = pending(a);
  print_message("after 5 kills: %ld of 20000 pending\n", left);
  assert_true(left > 0 && left < 20000); /* killed mid-way, some batches went through */
  assert_int_equal(KJ(a, "sync"), 0);
  assert_int_equal(pending(a), 0);
  assert_int_equal(syncenv_metric(g, "applied") - applied0, 20000);
  assert_agree(a);
}

/* The server killed mid-sync and started again. */
static void test_server_killed(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  import_surveys(a, 12000, 4);
  pid_t p = syncenv_spawn(g, a, NULL, (const char *const[]){"sync", "--batch", "50", NULL});
  /* killed once the first batches are acknowledged (not after a fixed
   * time: a loaded machine, a sanitizer build or the PostgreSQL store take
   * longer than 300 ms for them) */
  time_t t0 = time(NULL);
  while (pending(a) >= 12000 && time(NULL) - t0 < 30)
    usleep(10000);
  syncenv_stop(g, SIGKILL);
  int st = syncenv_wait(p);
  assert_int_equal(st, 2); /* unreachable, nothing lost */
  long left = pending(a);
  print_message("server killed: %ld of 12000 pending\n", left);
  assert_true(left > 0 && left < 12000);
  syncenv_start(g, g->port);
  assert_int_equal(KJ(a, "sync"), 0);
  assert_int_equal(pending(a), 0);
  assert_agree(a);
  /* a change applied before the kill and sent again is not applied twice:
   * every record is there once */
  char *mine = syncenv_export(a);
  int n = 0;
  for (const char *q = mine; (q = strstr(q, "\"id\":")); q++)
    n++;
  assert_int_equal(n, 12000);
  free(mine);
}

/* --watch: a server that comes up late, then local changes. */
static void test_watch(void **state) {
  (void)state;
  int port = g->port;
  const char *a = syncenv_client(g, "a", OA, g->url);
  syncenv_stop(g, SIGTERM);
  import_surveys(a, 20, 5);
  pid_t w = syncenv_spawn(g, a, NULL,
                          (const char *const[]){"sync", "--watch", "--interval", "3600", NULL});
  sleep(3); /* offline, backing off */
  assert_int_equal(pending(a), 20);
  syncenv_start(g, port);
  time_t t0 = time(NULL);
  while (pending(a) > 0 && time(NULL) - t0 < 15)
    usleep(200000);
  assert_int_equal(pending(a), 0);
  assert_true(time(NULL) - t0 <= 10);
  /* a local change is pushed within 5 s (not at the hour's interval) */
  import_surveys(a, 3, 6);
  t0 = time(NULL);
  while (pending(a) > 0 && time(NULL) - t0 < 10)
    usleep(200000);
  assert_int_equal(pending(a), 0);
  assert_true(time(NULL) - t0 <= 6);
  kill(w, SIGTERM);
  assert_int_equal(syncenv_wait(w), 0);
  char *log = kjt_read(kjt_path(g->dir, "spawn.log"));
  assert_non_null(log);
  assert_non_null(strstr(log, "offline"));
  assert_non_null(strstr(log, "online"));
  /* each state logged once, not every retry */
  const char *first = strstr(log, "offline:");
  assert_non_null(first);
  assert_null(strstr(first + 1, "offline:"));
  free(log);
  assert_agree(a);
}

/* ---- clocks (docs/protocol.md "Clocks") ---- */

#define R1 "01900000-0000-7000-8000-0000000000c1"
#define DAY_MS 86400000LL

/* The environment of a process whose wall clock is off by ms
 * (tests/tools/skewclock.c). */
typedef struct clockenv {
  char v[64];
  const char *env[4];
} clockenv;

static const char *const *clock_env(clockenv *c, long long ms) {
  snprintf(c->v, sizeof c->v, "KJ_TEST_CLOCK_SKEW_MS=%lld", ms);
  c->env[0] = "LD_PRELOAD=" SKEWCLOCK_LIB;
  c->env[1] = c->v;
  c->env[2] = "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1";
  c->env[3] = NULL;
  return c->env;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Restart serve on the same port with its clock off by ms (0: right). */
static void server_clock(long long ms) {
  int port = g->port;
  syncenv_stop(g, SIGTERM);
  clockenv c = {0};
  syncenv_start_env(g, port, ms ? clock_env(&c, ms) : NULL);
}

/* kinerja ARGS on db with env; asserts exit 0, showing stderr otherwise. */
static void kj_ok(const char *db, const char *const *env, const char *const *args) {
  char *err = NULL;
  int st = syncenv_kinerja(db, env, NULL, &err, args);
  if (st)
    fprintf(stderr, "kinerja %s: exit %d: %s\n", args[0], st, err);
  free(err);
  assert_int_equal(st, 0);
}

static void add_r1(const char *db) {
  kj_ok(db, NULL,
        // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): "id=" R1 is one string
        (const char *const[]){"add", "survey", "id=" R1, "date=2026-03-02", "service=KTP", "u1=4",
                              "u2=4", "u3=4", "u4=4", "u5=4", "u6=4", "u7=4", "u8=4", "u9=4",
                              NULL});
}

static void update(const char *db, const char *const *env, const char *kv) {
  kj_ok(db, env, (const char *const[]){"update", R1, kv, NULL});
}

static void sync_db(const char *db, const char *const *env) {
  kj_ok(db, env, (const char *const[]){"sync", NULL});
}

static void assert_r1(const char *db, const char *field, const char *want) {
  char *v = syncenv_field(db, "survey", R1, field);
  if (!v || strcmp(v, want) != 0)
    fprintf(stderr, "%s: %s is %s, expected %s\n", db, field, v ? v : "(none)", want);
  assert_non_null(v);
  assert_string_equal(v, want);
  free(v);
}

/* Exactly once since serve started: every change applied once, none
 * answered duplicate or rejected. */
static void assert_once(long applied) {
  assert_int_equal(syncenv_metric(g, "applied"), applied);
  assert_int_equal(syncenv_metric(g, "duplicate"), 0);
  assert_int_equal(syncenv_metric(g, "rejected"), 0);
}

/* The server's clock runs fast by fast_ms, PCs measure it and stamp by
 * it; the server's clock is corrected: an edit made at an office after it
 * pulled the record wins, everywhere, and later edits keep winning. */
static void server_fast_then_corrected(long long fast_ms) {
  server_clock(fast_ms);
  const char *a = syncenv_client(g, "a", OA, g->url), *b = syncenv_client(g, "b", OA, g->url);
  add_r1(a);
  sync_db(a, NULL);
  sync_db(b, NULL);
  update(a, NULL, "u2=2");
  sync_db(a, NULL);
  sync_db(b, NULL);
  assert_once(2);
  server_clock(0);
  sync_db(b, NULL); /* b measures the corrected clock */
  update(b, NULL, "u1=1");
  sync_db(b, NULL);
  sync_db(a, NULL);
  assert_r1(a, "u1", "1");
  assert_r1(b, "u1", "1");
  assert_r1(a, "u2", "2");
  update(a, NULL, "u3=1"); /* and so does a's, after its pull */
  sync_db(a, NULL);
  sync_db(b, NULL);
  assert_r1(b, "u3", "1");
  assert_once(2);
  assert_agree(a);
  assert_agree(b);
}

static void test_server_fast_5min(void **state) {
  (void)state;
  server_fast_then_corrected(5 * 60000LL);
}

static void test_server_fast_1day(void **state) {
  (void)state;
  server_fast_then_corrected(DAY_MS);
}

/* The server's clock steps back an hour: an office that pulled the record
 * before edits it after; its edit wins. */
static void test_server_steps_back(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url), *b = syncenv_client(g, "b", OA, g->url);
  add_r1(a);
  sync_db(a, NULL);
  sync_db(b, NULL);
  server_clock(-3600000LL);
  sync_db(b, NULL);
  update(b, NULL, "u1=1");
  sync_db(b, NULL);
  sync_db(a, NULL);
  assert_r1(a, "u1", "1");
  update(a, NULL, "u2=1");
  sync_db(a, NULL);
  sync_db(b, NULL);
  assert_r1(b, "u2", "1");
  assert_once(2);
  assert_agree(a);
  assert_agree(b);
}

/* A PC whose clock was set to `skew` (2100, 1970) edits offline; the BKD's
 * correction comes later; the PC's clock is corrected and it syncs: its
 * stale edit loses to the correction, its edit of another field counts,
 * and its edits after the pull win. */
static void pc_clock_then_corrected(long long skew) {
  const char *a = syncenv_client(g, "a", OA, g->url), *x = syncenv_client(g, "x", OA, g->url);
  clockenv c = {0};
  const char *const *wrong = clock_env(&c, skew);
  add_r1(a);
  sync_db(a, NULL);
  sync_db(x, NULL);
  update(x, wrong, "u2=3"); /* offline, the clock wrong */
  usleep(50000);
  update(a, NULL, "u2=1"); /* the later correction */
  sync_db(a, NULL);
  update(x, NULL, "u3=2"); /* the clock set right */
  sync_db(x, NULL);
  assert_int_equal(pending(x), 0);
  /* 2100 is beyond clock_ahead_max: refused once, then stamped again */
  assert_int_equal(syncenv_metric(g, "retry"), skew > 0 ? 2 : 0);
  sync_db(a, NULL);
  assert_r1(a, "u2", "1");
  assert_r1(x, "u2", "1");
  assert_r1(a, "u3", "2");
  update(x, NULL, "u2=4");
  sync_db(x, NULL);
  sync_db(a, NULL);
  assert_r1(a, "u2", "4");
  assert_r1(x, "u2", "4");
  assert_once(5);
  assert_agree(a);
  assert_agree(x);
}

static void test_pc_clock_2100(void **state) {
  (void)state;
  pc_clock_then_corrected(4102444800000LL - now_ms()); /* 2100-01-01 */
}

static void test_pc_clock_1970(void **state) {
  (void)state;
  pc_clock_then_corrected(DAY_MS - now_ms()); /* 1970-01-02 */
}

/* The name of office OA as the server holds it (an admin pull). */
static char *server_office_name(void) {
  char *b = NULL;
  assert_int_equal(syncenv_admin_get(g, "/v1/pull?since=0&limit=5000", &b), 200);
  cJSON *d = cJSON_Parse(b);
  free(b);
  char *name = NULL;
  const cJSON *it;
  cJSON_ArrayForEach(it, cJSON_GetObjectItem(d, "changes")) {
    const cJSON *t = cJSON_GetObjectItem(it, "type"), *id = cJSON_GetObjectItem(it, "id");
    if (cJSON_IsString(t) && !strcmp(t->valuestring, "office") && cJSON_IsString(id) &&
        !strcmp(id->valuestring, OA)) {
      free(name); /* the last change of OA holds the name now */
      name = strdup(cJSON_GetObjectItem(cJSON_GetObjectItem(it, "f"), "name")->valuestring);
    }
  }
  cJSON_Delete(d);
  assert_non_null(name);
  return name;
}

/* kinerjad import of a corrected office name while the server's clock is
 * an hour behind the stamps it stored: the correction takes effect and
 * reaches the office.  A clock more than clock_ahead_max behind them is
 * refused with a reason, nothing imported. */
static void test_import_server_behind(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  sync_db(a, NULL);
  clockenv c = {0};
  const char *const *behind = clock_env(&c, -3600000LL);
  server_clock(-3600000LL);
  char path[700], out[512];
  snprintf(path, sizeof path, "%s/office-fix.csv", g->dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("code,name,region,population\n" OA ",Kecamatan Kasemen Baru,Kota Serang,\n", f);
  fclose(f);
  assert_int_equal(syncenv_admin_env(g, behind, out, sizeof out,
                                     (const char *const[]){"import", "office", path, NULL}),
                   0);
  assert_non_null(strstr(out, "imported 1 row from"));
  assert_non_null(strstr(out, "': 0 new, 1 updated, 0 unchanged\n"));
  char *name = server_office_name();
  assert_string_equal(name, "Kecamatan Kasemen Baru");
  free(name);
  sync_db(a, NULL);
  char *o = NULL;
  assert_int_equal(
      syncenv_kinerja(a, NULL, &o, NULL,
                      (const char *const[]){"export", "office", "--format", "json", NULL}),
      0);
  assert_non_null(strstr(o, "Kecamatan Kasemen Baru"));
  free(o);
  /* two days behind: refused, nothing changes */
  f = fopen(path, "w");
  assert_non_null(f);
  fputs("code,name,region,population\n" OA ",Kecamatan Lain,Kota Serang,\n", f);
  fclose(f);
  clockenv c2 = {0};
  assert_int_equal(syncenv_admin_env(g, clock_env(&c2, -2 * DAY_MS), out, sizeof out,
                                     (const char *const[]){"import", "office", path, NULL}),
                   1);
  name = server_office_name();
  assert_string_equal(name, "Kecamatan Kasemen Baru");
  free(name);
}

/* The BKD moves a record from office A to office B: A's PC drops it on
 * its next pull without making a change, and never sees B's later edits. */
static void test_moved_record(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  const char *b = syncenv_client(g, "b", "36.73.02", g->url);
  add_r1(a);
  sync_db(a, NULL);
  char move[256];
  snprintf(move, sizeof move,
           "{\"seq\":1,\"id\":\"" R1 "\",\"type\":\"survey\",\"hlc\":\"%llu\","
           "\"f\":{\"office\":\"36.73.02\"}}",
           (unsigned long long)(now_ms() + 1000) << 16);
  char *ans = NULL;
  assert_int_equal(syncenv_admin_push(g, move, &ans), 200);
  assert_non_null(strstr(ans, "\"applied\""));
  free(ans);
  sync_db(a, NULL);
  char *v = syncenv_field(a, "survey", R1, "u1");
  assert_null(v);
  assert_int_equal(pending(a), 0);
  sync_db(b, NULL);
  assert_r1(b, "office", "36.73.02");
  kj_ok(b, NULL, (const char *const[]){"update", R1, "u1=1", NULL});
  sync_db(b, NULL);
  sync_db(a, NULL);
  assert_null(syncenv_field(a, "survey", R1, "u1"));
  assert_once(3);
  assert_agree(a);
  char *mine = syncenv_export(b), *srv = syncenv_server_view(g, "36.73.02");
  assert_string_equal(mine, srv);
  free(mine);
  free(srv);
}

/* A rejection whose answer was lost, answered again from the server's
 * applied table (docs/protocol.md "Push": exactly once): kinerja keeps it
 * with the refusal's code as the first answer gave it, and says it in its
 * reader's language (Indonesian), not the server's English.  The answer is
 * lost as a PC loses it when it dies before keeping it: its database as
 * it was before the sync (a copy taken then), the server having applied
 * the batch. */
#define STAFF "196604102014071002" /* Maya Wulan, of OA */
static void test_replayed_refusal_said(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "a", OA, g->url);
  sync_db(a, NULL); /* the roster */
  kj_ok(a, NULL,
        (const char *const[]){"add", "activity", "nip=" STAFF, "date=2026-03-02", "indicator=DOC",
                              "quantity=3", NULL});
  /* the BKD moves the employee to another office before a's sync */
  char move[256];
  snprintf(move, sizeof move,
           "{\"seq\":1,\"id\":\"" STAFF "\",\"type\":\"employee\",\"hlc\":\"%llu\","
           "\"f\":{\"office\":\"36.73.02\"}}",
           (unsigned long long)(now_ms() + 1000) << 16);
  char *ans = NULL;
  assert_int_equal(syncenv_admin_push(g, move, &ans), 200);
  assert_non_null(strstr(ans, "\"applied\""));
  free(ans);
  /* a's database before the sync */
  char copy[700], sql[800];
  snprintf(copy, sizeof copy, "%s/a-before.db", g->dir);
  snprintf(sql, sizeof sql, "VACUUM INTO '%s'", copy);
  sqlite3 *db;
  assert_int_equal(sqlite3_open(a, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(KJ(a, "sync"), 3); /* a change stands rejected */
  long replayed0 = syncenv_metric(g, "replayed");
  /* the answer lost: a's database as before, the batch sent again */
  char side[720];
  for (const char *x = "-wal"; x; x = x[1] == 'w' ? "-shm" : NULL) {
    snprintf(side, sizeof side, "%s%s", a, x);
    unlink(side);
  }
  assert_int_equal(rename(copy, a), 0);
  assert_int_equal(pending(a), 1);
  assert_int_equal(KJ(a, "sync"), 3);
  assert_int_equal(syncenv_metric(g, "replayed") - replayed0, 1);
  assert_int_equal(syncenv_metric(g, "applied"), 1); /* the move alone */
  /* kept with its code */
  assert_int_equal(sqlite3_open(a, &db), SQLITE_OK);
  sqlite3_stmt *st;
  assert_int_equal(
      sqlite3_prepare_v2(db, "SELECT reason FROM outbox WHERE status = 'rejected'", -1, &st, NULL),
      SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  const char *reason = (const char *)sqlite3_column_text(st, 0);
  if (!reason || !strstr(reason, "\"code\":\"roster_office\""))
    fail_msg("kept without its code: %s", reason ? reason : "(null)");
  sqlite3_finalize(st);
  sqlite3_close(db);
  /* said in Indonesian */
  char *out = NULL;
  assert_int_equal(syncenv_kinerja(a, (const char *const[]){"LANGUAGE=id", NULL}, &out, NULL,
                                   (const char *const[]){"list", "--rejected", NULL}),
                   0);
  if (!out || !strstr(out, "tidak ada di daftar pegawai kantor '" OA "' (kantornya '36.73.02')") ||
      strstr(out, "is not on the roster"))
    fail_msg("not said in Indonesian: %s", out ? out : "(null)");
  free(out);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cut_connections, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pipelined_push, setup, teardown),
      cmocka_unit_test_setup_teardown(test_coding_negotiated, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cut_noted_twice, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pipelined_cut, setup, teardown),
      cmocka_unit_test_setup_teardown(test_drop_resends_one_batch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_drop_reconnect_behind_question, setup, teardown),
      cmocka_unit_test_setup_teardown(test_slow_start, setup, teardown),
      cmocka_unit_test_setup_teardown(test_slow_start_slow_link, setup, teardown),
      cmocka_unit_test_setup_teardown(test_client_killed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_server_killed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_server_fast_5min, setup, teardown),
      cmocka_unit_test_setup_teardown(test_server_fast_1day, setup, teardown),
      cmocka_unit_test_setup_teardown(test_server_steps_back, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pc_clock_2100, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pc_clock_1970, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import_server_behind, setup, teardown),
      cmocka_unit_test_setup_teardown(test_moved_record, setup, teardown),
      cmocka_unit_test_setup_teardown(test_replayed_refusal_said, setup, teardown),
  };
  if (getenv("KJT_ONLY")) /* one test by name (a cmocka pattern), when debugging */
    cmocka_set_test_filter(getenv("KJT_ONLY"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
