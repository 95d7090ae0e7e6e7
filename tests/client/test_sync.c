/* test_sync.c - the sync engine end to end: the real kinerjad and kinerja
 * binaries over loopback TLS (issue 5): two offices and three devices
 * editing offline, central corrections, deletes, same-field LWW, a PC whose
 * clock is a year ahead, revocation, and a sync with nothing to do being
 * one request. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cJSON.h>
#include <cmocka.h>

#include "kjt.h"
#include "syncenv.h"

#define OA "36.73.01"
#define OB "36.73.02"
#define R1 "01900000-0000-7000-8000-000000000001"
#define R2 "01900000-0000-7000-8000-000000000002"
#define R3 "01900000-0000-7000-8000-000000000003"
#define R4 "01900000-0000-7000-8000-000000000004"
#define RB "01900000-0000-7000-8000-0000000000b1"

static syncenv *g;

/* An HLC stamp of the wall clock now (a central edit made now). */
static unsigned long long now_hlc(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ((unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull)
         << 16;
}

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

static void add_survey(const char *db, const char *id, const char *u1) {
  char idarg[64], u1arg[16];
  snprintf(idarg, sizeof idarg, "id=%s", id);
  snprintf(u1arg, sizeof u1arg, "u1=%s", u1);
  assert_int_equal(KJ(db, "add", "survey", idarg, "date=2026-03-02", "service=KTP-el", u1arg,
                      "u2=3", "u3=3", "u4=4", "u5=3", "u6=3", "u7=2", "u8=3", "u9=4"),
                   0);
}

static void assert_field(const char *db, const char *id, const char *field, const char *want) {
  char *v = syncenv_field(db, "survey", id, field);
  if (!want) {
    assert_null(v);
    return;
  }
  assert_non_null(v);
  assert_string_equal(v, want);
  free(v);
}

static cJSON *sync_json(const char *db, int want_status) {
  char *out = NULL;
  int st = syncenv_kinerja(db, NULL, &out, NULL, (const char *const[]){"sync", "--json", NULL});
  assert_int_equal(st, want_status);
  cJSON *d = cJSON_Parse(out);
  free(out);
  assert_non_null(d);
  return d;
}

static long jnum(const cJSON *d, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, k);
  assert_true(cJSON_IsNumber(v));
  return (long)v->valuedouble;
}

/* Two offices, three devices editing offline, a central correction. */
static void test_offices_converge(void **state) {
  (void)state;
  const char *a1 = syncenv_client(g, "a1", OA, g->url);
  const char *a2 = syncenv_client(g, "a2", OA, g->url);
  const char *b1 = syncenv_client(g, "b1", OB, g->url);

  /* a1 creates R1..R3 and syncs; a2 pulls them */
  add_survey(a1, R1, "4");
  add_survey(a1, R2, "4");
  add_survey(a1, R3, "4");
  cJSON *d = sync_json(a1, 0);
  assert_int_equal(jnum(d, "pushed"), 3);
  assert_int_equal(jnum(d, "rejected"), 0);
  cJSON_Delete(d);
  assert_int_equal(KJ(a2, "sync"), 0);
  assert_field(a2, R1, "u1", "4");

  /* offline edits: different fields of R1 on a1 and a2, the same field of
   * R2 (a2 later), a delete of R3 on a2, new records on each device */
  assert_int_equal(KJ(a1, "update", R1, "u4=1"), 0);
  assert_int_equal(KJ(a1, "update", R2, "u3=1"), 0);
  usleep(20000);
  assert_int_equal(KJ(a2, "update", R1, "u5=1"), 0);
  assert_int_equal(KJ(a2, "update", R2, "u3=2"), 0);
  assert_int_equal(KJ(a2, "delete", R3), 0);
  add_survey(a2, R4, "2");
  add_survey(b1, RB, "1");
  /* a record of office A is not written at office B's PC at all; one that
   * takes the id of office A's record R1 is refused by the server (on b2:
   * a rejected record stays on its device, so b2 is not compared) */
  const char *b2 = syncenv_client(g, "b2", OB, g->url);
  assert_int_equal(KJ(b2, "add", "survey", "office=36.73.01", "date=2026-03-02", "service=x",
                      "u1=1", "u2=1", "u3=1", "u4=1", "u5=1", "u6=1", "u7=1", "u8=1", "u9=1"),
                   1);
  add_survey(b2, R1, "1");

  /* central correction of another field of R1 (admin push) */
  char *ans = NULL;
  char ch[300];
  snprintf(ch, sizeof ch,
           "{\"seq\":1,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u2\":\"1\"}}",
           R1, now_hlc());
  assert_int_equal(syncenv_admin_push(g, ch, &ans), 200);
  assert_non_null(strstr(ans, "\"applied\""));
  free(ans);

  /* sync in an awkward order, twice round */
  for (int round = 0; round < 2; round++) {
    assert_int_equal(KJ(a2, "sync"), 0);
    assert_int_equal(KJ(a1, "sync"), 0);
    assert_int_equal(KJ(b1, "sync"), 0);
  }
  d = sync_json(b2, 3); /* transferred, but a change stands rejected */
  assert_int_equal(jnum(d, "rejected"), 1);
  cJSON_Delete(d);
  char *out = NULL;
  assert_int_equal(syncenv_kinerja(b2, NULL, &out, NULL,
                                   (const char *const[]){"list", "survey", "--rejected", NULL}),
                   0);
  assert_non_null(strstr(out, "forbidden office"));
  free(out);

  /* field by field */
  assert_field(a1, R1, "u4", "1");  /* a1's field */
  assert_field(a1, R1, "u5", "1");  /* a2's field */
  assert_field(a1, R1, "u2", "1");  /* the central one */
  assert_field(a1, R2, "u3", "2");  /* same field: last writer wins */
  assert_field(a1, R3, "u1", NULL); /* deleted */
  assert_field(a1, R4, "u1", "2");
  assert_field(a1, RB, "u1", NULL); /* office B's record is not office A's */
  assert_field(b1, R1, "u1", NULL);

  /* every replica of an office equals the server's view of it */
  char *ea1 = syncenv_export(a1), *ea2 = syncenv_export(a2), *va = syncenv_server_view(g, OA);
  assert_string_equal(ea1, ea2);
  assert_string_equal(ea1, va);
  char *eb1 = syncenv_export(b1), *vb = syncenv_server_view(g, OB);
  assert_string_equal(eb1, vb);
  assert_non_null(strstr(eb1, RB));
  free(ea1);
  free(ea2);
  free(va);
  free(eb1);
  free(vb);

  /* nothing to do: one request, and status says ok */
  d = sync_json(a1, 0);
  assert_int_equal(jnum(d, "requests"), 1);
  assert_int_equal(jnum(d, "pushed"), 0);
  assert_int_equal(jnum(d, "pending"), 0);
  cJSON_Delete(d);
  out = NULL;
  assert_int_equal(
      syncenv_kinerja(a1, NULL, &out, NULL, (const char *const[]){"status", "--json", NULL}), 0);
  d = cJSON_Parse(out);
  free(out);
  assert_string_equal(cJSON_GetObjectItem(d, "state")->valuestring, "ok");
  assert_true(cJSON_IsString(cJSON_GetObjectItem(d, "last_push")));
  assert_true(cJSON_IsString(cJSON_GetObjectItem(d, "last_pull")));
  cJSON_Delete(d);

  /* scores came with the pull and show offline */
  syncenv_stop(g, SIGTERM);
  out = NULL;
  assert_int_equal(
      syncenv_kinerja(a1, NULL, &out, NULL, (const char *const[]){"report", "--json", NULL}), 0);
  d = cJSON_Parse(out);
  free(out);
  assert_non_null(d);
  assert_true(cJSON_IsString(cJSON_GetObjectItem(d, "period")));
  assert_true(cJSON_IsArray(cJSON_GetObjectItem(d, "employees")));
  cJSON_Delete(d);
  /* ... and as the tables kinerjad prints: the scorecard row, then employees */
  out = NULL;
  assert_int_equal(syncenv_kinerja(a1, NULL, &out, NULL, (const char *const[]){"report", NULL}), 0);
  assert_non_null(strstr(out, "Offices, period "));
  assert_non_null(strstr(out, "SB/B/BP/K/SK"));
  assert_non_null(strstr(out, OA));
  assert_non_null(strstr(out, "Employees of " OA ", period "));
  free(out);
  /* unreachable: exit 2, nothing lost */
  assert_int_equal(KJ(a1, "update", R4, "u2=1"), 0);
  char *err = NULL;
  assert_int_equal(syncenv_kinerja(a1, NULL, NULL, &err, (const char *const[]){"sync", NULL}), 2);
  assert_non_null(strstr(err, "server unreachable"));
  free(err);
  syncenv_start(g, g->port);
  d = sync_json(a1, 0);
  assert_int_equal(jnum(d, "pushed"), 1);
  cJSON_Delete(d);

  /* the server's reports equal those of a fresh import of the final records */
  syncenv *fresh = syncenv_new();
  const char *offs[] = {a1, b1};
  for (int i = 0; i < 2; i++) {
    char *csv = NULL, path[700];
    assert_int_equal(
        syncenv_kinerja(offs[i], NULL, &csv, NULL, (const char *const[]){"export", "survey", NULL}),
        0);
    snprintf(path, sizeof path, "%s/final%d.csv", fresh->dir, i);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(csv, f);
    fclose(f);
    free(csv);
    char o[4096];
    assert_int_equal(
        syncenv_admin(fresh, o, sizeof o, (const char *const[]){"import", "survey", path, NULL}),
        0);
  }
  static const char *const reps[][8] = {
      {"report", "offices", "--period", "2026", "--as-of", "2026-12-31", "--json", NULL},
      {"report", "offices", "--period", "2026-03", "--as-of", "2026-03-31", "--json", NULL},
      {"report", "employees", "--period", "2026", "--office", OA, "--json", NULL}};
  for (int i = 0; i < 3; i++) {
    char *live = calloc(1, 1 << 20), *again = calloc(1, 1 << 20);
    assert_int_equal(syncenv_admin(g, live, 1 << 20, reps[i]), 0);
    assert_int_equal(syncenv_admin(fresh, again, 1 << 20, reps[i]), 0);
    assert_true(strlen(live) > 10);
    assert_string_equal(live, again);
    free(live);
    free(again);
  }
  kjt_rmdir(fresh->dir);
  free(fresh);
}

/* A PC whose clock is a year ahead must not win with its stamps. */
static void test_clock_year_ahead(void **state) {
  (void)state;
  static const char *const skew[] = {"LD_PRELOAD=" SKEWCLOCK_LIB,
                                     "KJ_TEST_CLOCK_SKEW_MS=31536000000",
                                     "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1", NULL};
  const char *fast = syncenv_client(g, "fast", OA, g->url); /* a year ahead, never synced */
  const char *good = syncenv_client(g, "good", OA, g->url);
  /* the fast PC creates R1 before it ever talked to the server */
  const char *args[] = {"add",
                        "survey",
                        "id=01900000-0000-7000-8000-000000000001",
                        "date=2026-03-02",
                        "service=KTP",
                        "u1=4",
                        "u2=4",
                        "u3=4",
                        "u4=4",
                        "u5=4",
                        "u6=4",
                        "u7=4",
                        "u8=4",
                        "u9=4",
                        NULL};
  assert_int_equal(syncenv_kinerja(fast, skew, NULL, NULL, args), 0);
  assert_int_equal(syncenv_kinerja(fast, skew, NULL, NULL, (const char *const[]){"sync", NULL}), 0);
  /* its offset is known now */
  char *out = NULL;
  assert_int_equal(
      syncenv_kinerja(fast, skew, &out, NULL, (const char *const[]){"status", "--json", NULL}), 0);
  cJSON *d = cJSON_Parse(out);
  free(out);
  double sk = cJSON_GetObjectItem(d, "clock_skew_ms")->valuedouble;
  assert_true(sk < -31536000000.0 + 10000 && sk > -31536000000.0 - 10000);
  cJSON_Delete(d);

  /* a correct PC edits u1 later: its edit wins everywhere */
  assert_int_equal(KJ(good, "sync"), 0);
  assert_field(good, R1, "u1", "4");
  usleep(50000);
  assert_int_equal(KJ(good, "update", R1, "u1=1"), 0);
  assert_int_equal(KJ(good, "sync"), 0);
  assert_int_equal(syncenv_kinerja(fast, skew, NULL, NULL, (const char *const[]){"sync", NULL}), 0);
  assert_field(fast, R1, "u1", "1");

  /* after the offset is known: the fast PC edits u2, the correct PC edits
   * u2 later; the later one wins, on both */
  assert_int_equal(
      syncenv_kinerja(fast, skew, NULL, NULL, (const char *const[]){"update", R1, "u2=2", NULL}),
      0);
  usleep(50000);
  assert_int_equal(KJ(good, "update", R1, "u2=1"), 0);
  assert_int_equal(KJ(good, "sync"), 0);
  assert_int_equal(syncenv_kinerja(fast, skew, NULL, NULL, (const char *const[]){"sync", NULL}), 0);
  assert_int_equal(KJ(good, "sync"), 0);
  assert_field(fast, R1, "u2", "1");
  assert_field(good, R1, "u2", "1");
  /* and the fast PC's edit of another field made after it still shows */
  assert_int_equal(
      syncenv_kinerja(fast, skew, NULL, NULL, (const char *const[]){"update", R1, "u3=2", NULL}),
      0);
  assert_int_equal(syncenv_kinerja(fast, skew, NULL, NULL, (const char *const[]){"sync", NULL}), 0);
  assert_int_equal(KJ(good, "sync"), 0);
  assert_field(good, R1, "u3", "2");
  char *ef = syncenv_export(fast), *eg = syncenv_export(good), *v = syncenv_server_view(g, OA);
  assert_string_equal(ef, eg);
  assert_string_equal(ef, v);
  free(ef);
  free(eg);
  free(v);
}

/* A PC a year behind: once its offset is known, its later edits win.  (Three
 * years behind, TLS refuses the server's certificate as not yet valid,
 * checked against the PC's own clock, and says so.) */
static void test_clock_behind(void **state) {
  (void)state;
  static const char *const year[] = {"LD_PRELOAD=" SKEWCLOCK_LIB,
                                     "KJ_TEST_CLOCK_SKEW_MS=-94608000000",
                                     "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1", NULL};
  const char *ancient = syncenv_client(g, "ancient", OA, g->url);
  char *err = NULL;
  assert_int_equal(syncenv_kinerja(ancient, year, NULL, &err, (const char *const[]){"sync", NULL}),
                   1);
  assert_non_null(strstr(err, "is its clock right?"));
  free(err);

  static const char *const skew[] = {"LD_PRELOAD=" SKEWCLOCK_LIB,
                                     "KJ_TEST_CLOCK_SKEW_MS=-31536000000",
                                     "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=1", NULL};
  const char *slow = syncenv_client(g, "slow", OA, g->url);
  const char *good = syncenv_client(g, "good", OA, g->url);
  /* the slow PC works offline first: its stamps are a year old */
  const char *args[] = {"add",
                        "survey",
                        "id=01900000-0000-7000-8000-000000000002",
                        /* not after the slow PC's today (a year back) */
                        "date=2025-03-02",
                        "service=KTP",
                        "u1=4",
                        "u2=4",
                        "u3=4",
                        "u4=4",
                        "u5=4",
                        "u6=4",
                        "u7=4",
                        "u8=4",
                        "u9=4",
                        NULL};
  assert_int_equal(syncenv_kinerja(slow, skew, NULL, NULL, args), 0);
  assert_int_equal(KJ(good, "sync"), 0);
  assert_int_equal(syncenv_kinerja(slow, skew, NULL, NULL, (const char *const[]){"sync", NULL}), 0);
  /* the correct PC's edit of u1 now ... */
  assert_int_equal(KJ(good, "sync"), 0);
  assert_field(good, R2, "u1", "4");
  assert_int_equal(KJ(good, "update", R2, "u1=1"), 0);
  assert_int_equal(KJ(good, "sync"), 0);
  usleep(50000);
  /* ... and the slow PC's edit of u1 later: the later one wins */
  assert_int_equal(
      syncenv_kinerja(slow, skew, NULL, NULL, (const char *const[]){"update", R2, "u1=3", NULL}),
      0);
  assert_int_equal(syncenv_kinerja(slow, skew, NULL, NULL, (const char *const[]){"sync", NULL}), 0);
  assert_int_equal(KJ(good, "sync"), 0);
  assert_field(good, R2, "u1", "3");
  assert_field(slow, R2, "u1", "3");
  char *out = NULL;
  assert_int_equal(
      syncenv_kinerja(slow, skew, &out, NULL, (const char *const[]){"status", "--json", NULL}), 0);
  cJSON *d = cJSON_Parse(out);
  free(out);
  double sk = cJSON_GetObjectItem(d, "clock_skew_ms")->valuedouble;
  assert_true(sk > 31536000000.0 - 10000 && sk < 31536000000.0 + 10000);
  cJSON_Delete(d);
  char *es = syncenv_export(slow), *eg = syncenv_export(good), *v = syncenv_server_view(g, OA);
  assert_string_equal(es, eg);
  assert_string_equal(es, v);
  free(es);
  free(eg);
  free(v);
}

/* A revoked token stops sync with a clear message and touches nothing. */
static void test_revoked(void **state) {
  (void)state;
  char tok[128], id[64];
  syncenv_device(g, OA, tok, id);
  char db[700];
  snprintf(db, sizeof db, "%s/rev.db", g->dir);
  assert_int_equal(
      KJ(db, "init", "--office", OA, "--server", g->url, "--token", tok, "--ca", g->cert), 0);
  add_survey(db, R1, "4");
  assert_int_equal(KJ(db, "sync"), 0);
  add_survey(db, R2, "3");
  /* a central edit the revoked device must not pull */
  char *ans = NULL, ch[300];
  snprintf(ch, sizeof ch,
           "{\"seq\":7,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{\"u9\":\"1\"}}",
           R1, now_hlc());
  assert_int_equal(syncenv_admin_push(g, ch, &ans), 200);
  free(ans);
  char out[512];
  assert_int_equal(
      syncenv_admin(g, out, sizeof out, (const char *const[]){"device", "revoke", id, NULL}), 0);
  char *before = syncenv_export(db);
  char *err = NULL;
  int rrc = syncenv_kinerja(db, NULL, NULL, &err, (const char *const[]){"sync", NULL});
  print_message("revoked sync: rc %d: %s\n", rrc, err ? err : "");
  assert_int_equal(rrc, 1);
  assert_true(err && strstr(err, "kinerja: server refused this device: token revoked"));
  free(err);
  char *after = syncenv_export(db);
  assert_string_equal(before, after);
  assert_field(db, R1, "u9", "4");
  char *st = NULL;
  assert_int_equal(
      syncenv_kinerja(db, NULL, &st, NULL, (const char *const[]){"status", "--json", NULL}), 0);
  cJSON *d = cJSON_Parse(st);
  free(st);
  assert_int_equal((int)cJSON_GetObjectItem(d, "pending")->valuedouble, 1);
  assert_string_equal(cJSON_GetObjectItem(d, "state")->valuestring, "error");
  cJSON_Delete(d);
  free(before);
  free(after);

  /* TLS is verified: a pinned CA that did not sign the server's
   * certificate fails, exit 1, nothing moves */
  char saved[sizeof g->data], other[700];
  memcpy(saved, g->data, sizeof saved);
  snprintf(g->data, sizeof g->data, "%s/other", g->dir);
  assert_int_equal(syncenv_admin(g, out, sizeof out, (const char *const[]){"init", NULL}), 0);
  snprintf(other, sizeof other, "%s/cert.pem", g->data);
  memcpy(g->data, saved, sizeof saved);
  char tls[128];
  syncenv_device(g, OA, tls, NULL);
  snprintf(db, sizeof db, "%s/tls.db", g->dir);
  assert_int_equal(
      KJ(db, "init", "--office", OA, "--server", g->url, "--token", tls, "--ca", other), 0);
  add_survey(db, R4, "4");
  err = NULL;
  assert_int_equal(syncenv_kinerja(db, NULL, NULL, &err, (const char *const[]){"sync", NULL}), 1);
  assert_non_null(strstr(err, "TLS"));
  free(err);
  assert_int_equal(KJ(db, "config", "set", "ca", g->cert), 0);
  assert_int_equal(KJ(db, "sync"), 0);

  /* a token of another office: refused before anything moves */
  char tokb[128];
  syncenv_device(g, OB, tokb, NULL);
  snprintf(db, sizeof db, "%s/wrong.db", g->dir);
  assert_int_equal(
      KJ(db, "init", "--office", OA, "--server", g->url, "--token", tokb, "--ca", g->cert), 0);
  add_survey(db, R3, "4");
  err = NULL;
  assert_int_equal(syncenv_kinerja(db, NULL, NULL, &err, (const char *const[]){"sync", NULL}), 1);
  assert_non_null(strstr(err, "server refused this device"));
  assert_non_null(strstr(err, OB));
  free(err);
}

/* Bandwidth: request bodies in zstd with the dictionary the server's hello
 * named, one connection, one request when idle. */
static void test_bandwidth(void **state) {
  (void)state;
  const char *a = syncenv_client(g, "bw", OA, g->url);
  char path[700];
  snprintf(path, sizeof path, "%s/bw.csv", g->dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment\n",
        f);
  for (int i = 0; i < 1000; i++)
    fprintf(f, ",%s,2026-03-%02d,Layanan KTP-el %d,%d,3,3,4,3,3,2,3,4,%d,L,SMA,PNS,baik sekali\n",
            OA, 1 + i % 28, i, 1 + i % 4, 20 + i % 50);
  fclose(f);
  assert_int_equal(KJ(a, "import", "survey", path), 0);
  /* --batch 1000: one push of 1000 (no slow start: docs/protocol.md
   * "Pipelined push"), the compression of a full batch */
  char *out = NULL;
  assert_int_equal(syncenv_kinerja(a, NULL, &out, NULL,
                                   (const char *const[]){"sync", "--json", "--batch", "1000", NULL}),
                   0);
  cJSON *d = cJSON_Parse(out);
  free(out);
  assert_non_null(d);
  assert_int_equal(jnum(d, "pushed"), 1000);
  /* hello, one push of 1000, one pull page: master data, not the 1000
   * records the device itself wrote (skip_own: it holds them already) */
  assert_int_equal(jnum(d, "requests"), 3);
  assert_true(jnum(d, "pulled") < 1000);
  long sent = jnum(d, "bytes_sent");
  print_message("1000 changes pushed in %ld bytes (zstd with the dictionary)\n", sent);
  /* the JSON is over 300 KB; gzip made it 32,100 bytes with the headers,
   * zstd with the shared dictionary (common/zst.h) 22,900 */
  assert_true(sent < 27000);
  cJSON_Delete(d);
  d = sync_json(a, 0);
  assert_int_equal(jnum(d, "requests"), 1);
  assert_int_equal(jnum(d, "pulled"), 0);
  cJSON_Delete(d);
}

static char *kj_out(const char *db, int want, const char *const *args) {
  char *out = NULL;
  assert_int_equal(syncenv_kinerja(db, NULL, &out, NULL, args), want);
  return out ? out : strdup("");
}

static int json_count(const char *db, const char *const *args, const char *key) {
  char *out = kj_out(db, 0, args);
  cJSON *d = cJSON_Parse(out);
  free(out);
  assert_non_null(d);
  int n = key ? (int)cJSON_GetObjectItem(d, key)->valuedouble : cJSON_GetArraySize(d);
  cJSON_Delete(d);
  return n;
}

/* Issue 16: changes the server rejects have an end.  A change that the
 * server's version of a record makes invalid (a central correction the PC
 * had not pulled yet) and a new record under an id the server holds for
 * another office stand rejected: sync exits 3, status counts what list
 * --rejected shows, and discard puts back the server's version, or removes
 * the record the server never had; then the PC equals the server again. */
static void test_rejected_discard(void **state) {
  (void)state;
#define C1 "01900000-0000-7000-8000-0000000000c1"
  const char *a1 = syncenv_client(g, "a1", OA, g->url);
  const char *b1 = syncenv_client(g, "b1", OB, g->url);
  assert_int_equal(KJ(a1, "add", "complaint", ("id=" C1), "received=2026-03-01", "channel=surat",
                      "summary=jalan rusak"),
                   0);
  assert_int_equal(KJ(a1, "sync"), 0);
  add_survey(b1, RB, "3");
  assert_int_equal(KJ(b1, "sync"), 0);

  /* the BKD corrects the date received; a1 has not pulled it */
  char ch[300], *ans = NULL;
  snprintf(ch, sizeof ch,
           "{\"seq\":1,\"id\":\"%s\",\"type\":\"complaint\",\"hlc\":\"%llu\","
           "\"f\":{\"received\":\"2026-03-15\"}}",
           C1, now_hlc());
  assert_int_equal(syncenv_admin_push(g, ch, &ans), 200);
  assert_non_null(strstr(ans, "\"applied\""));
  free(ans);
  /* valid for what a1 knows, not for the server's version */
  assert_int_equal(KJ(a1, "update", C1, "resolved=2026-03-10", "resolution=ditambal"), 0);
  /* valid also there: taken, while the first stands rejected */
  assert_int_equal(KJ(a1, "update", C1, "category=jalan"), 0);
  add_survey(a1, RB, "4"); /* office B's id: refused there */

  cJSON *d = sync_json(a1, 3);
  assert_int_equal(jnum(d, "pushed"), 1);
  assert_int_equal(jnum(d, "rejected"), 2);
  assert_int_equal(jnum(d, "rejected_total"), 2);
  cJSON_Delete(d);
  assert_int_equal(KJ(a1, "sync"), 3); /* they still stand */
  int st = json_count(a1, (const char *const[]){"status", "--json", NULL}, "rejected");
  int ls = json_count(a1, (const char *const[]){"list", "--rejected", "--json", NULL}, NULL);
  assert_int_equal(st, 2);
  assert_int_equal(ls, st);
  char *out = kj_out(a1, 0, (const char *const[]){"status", NULL});
  assert_non_null(strstr(out, "rejected:      2 records"));
  assert_non_null(strstr(out, "kinerja list --rejected"));
  assert_non_null(strstr(out, "kinerja discard ID"));
  free(out);
  out = kj_out(a1, 0, (const char *const[]){"list", "--rejected", NULL});
  assert_non_null(strstr(out, "must not be before received"));
  assert_non_null(strstr(out, "forbidden office"));
  free(out);

  /* back to the server's version: the central date and a1's field it
   * took, not the one it refused */
  out = kj_out(a1, 0, (const char *const[]){"discard", C1, RB, NULL});
  assert_non_null(strstr(out, C1 " (complaint): 1 rejected change dropped, back to the server's "
                                 "version\n"));
  assert_non_null(
      strstr(out, RB " (survey): 1 rejected change dropped, removed: the server never had it\n"));
  free(out);
  char *v = syncenv_field(a1, "complaint", C1, "received");
  assert_string_equal(v, "2026-03-15");
  free(v);
  assert_null(syncenv_field(a1, "complaint", C1, "resolved"));
  assert_null(syncenv_field(a1, "complaint", C1, "resolution"));
  v = syncenv_field(a1, "complaint", C1, "category");
  assert_string_equal(v, "jalan");
  free(v);
  v = syncenv_field(a1, "complaint", C1, "summary");
  assert_string_equal(v, "jalan rusak");
  free(v);
  assert_null(syncenv_field(a1, "survey", RB, "u1"));
  /* safe: again changes nothing, an unknown id is an error */
  out = kj_out(a1, 0, (const char *const[]){"discard", C1, NULL});
  assert_non_null(strstr(out, "no local changes, nothing discarded"));
  free(out);
  char *err = NULL;
  assert_int_equal(
      syncenv_kinerja(a1, NULL, NULL, &err, (const char *const[]){"discard", RB, NULL}), 1);
  assert_non_null(strstr(err, "no record '" RB "' at this office"));
  free(err);

  assert_int_equal(json_count(a1, (const char *const[]){"status", "--json", NULL}, "rejected"), 0);
  assert_int_equal(KJ(a1, "sync"), 0);
  char *ea = syncenv_export(a1), *va = syncenv_server_view(g, OA);
  assert_string_equal(ea, va);
  free(ea);
  free(va);
  /* corrected the right way now: sent and taken */
  assert_int_equal(KJ(a1, "update", C1, "resolved=2026-03-16"), 0);
  assert_int_equal(KJ(a1, "sync"), 0);
#undef C1
}

/* A listening socket on 127.0.0.1 (its port in *port); not accepting yet. */
static int listen_local(int *port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(s >= 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(s, 8), 0);
  socklen_t n = sizeof a;
  assert_int_equal(getsockname(s, (struct sockaddr *)&a, &n), 0);
  *port = ntohs(a.sin_port);
  return s;
}

/* err says the failure in Indonesian with curl's code (want_code), and
 * none of curl's (or the TLS library's) English words */
static void assert_said_in_indonesian(const char *err, const char *words, int want_code) {
  static const char *const english[] = {
      "Failed", "failed", "refused", "Connection", "connect to",         "Couldn't", "Could not",
      "SSL",    "error",  "host",    "port",       "server unreachable", "routines", NULL};
  char code[32];
  snprintf(code, sizeof code, "(galat curl %d)", want_code);
  if (!err || !strstr(err, "server tidak terjangkau: ") || !strstr(err, words) ||
      !strstr(err, code))
    fail_msg("not said in Indonesian with curl's code %d: %s", want_code, err ? err : "(null)");
  for (int i = 0; english[i]; i++)
    if (strstr(err, english[i]))
      fail_msg("curl's English (\"%s\") in the Indonesian message: %s", english[i], err);
}

/* The common network failures are said in Indonesian words of their own
 * (client/net.c curl_words), curl's code kept for support, never curl's
 * English text inside an Indonesian message: a port nobody listens on
 * (curl 7), and a server that answers the TLS handshake with plain text
 * (curl 35, the handshake failed). */
static void test_network_errors_indonesian(void **state) {
  (void)state;
  static const char *const id[] = {"LANGUAGE=id", NULL};
  int port = 0;
  int s = listen_local(&port);
  close(s); /* nobody listens there now */
  char url[64];
  snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
  const char *pc = syncenv_client(g, "refused", OA, url);
  char *err = NULL;
  assert_int_equal(syncenv_kinerja(pc, id, NULL, &err, (const char *const[]){"sync", NULL}), 2);
  fprintf(stderr, "# refused: %s", err);
  assert_said_in_indonesian(err, "koneksi ditolak", 7);
  free(err);
  /* the same in English names the failure as curl does not */
  err = NULL;
  assert_int_equal(syncenv_kinerja(pc, NULL, NULL, &err, (const char *const[]){"sync", NULL}), 2);
  if (!err || !strstr(err, "server unreachable: the connection was refused") ||
      !strstr(err, "(curl error 7)"))
    fail_msg("not said in English with curl's code: %s", err ? err : "(null)");
  free(err);

  /* a server that is no TLS server: plain text back, then closed */
  s = listen_local(&port);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    for (;;) {
      int c = accept(s, NULL, NULL);
      if (c < 0)
        _exit(0);
      char buf[512];
      (void)!read(c, buf, sizeof buf);
      static const char junk[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
      (void)!write(c, junk, sizeof junk - 1);
      close(c);
    }
  }
  close(s);
  snprintf(url, sizeof url, "https://127.0.0.1:%d", port);
  pc = syncenv_client(g, "notls", OA, url);
  err = NULL;
  int st = syncenv_kinerja(pc, id, NULL, &err, (const char *const[]){"sync", NULL});
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  fprintf(stderr, "# not TLS: %s", err);
  assert_int_equal(st, 2);
  assert_said_in_indonesian(err, "TLS", 35);
  free(err);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_offices_converge, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rejected_discard, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clock_year_ahead, setup, teardown),
      cmocka_unit_test_setup_teardown(test_clock_behind, setup, teardown),
      cmocka_unit_test_setup_teardown(test_revoked, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bandwidth, setup, teardown),
      cmocka_unit_test_setup_teardown(test_network_errors_indonesian, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
