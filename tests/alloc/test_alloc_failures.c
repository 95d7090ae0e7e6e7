/* test_alloc_failures.c - every allocation of the main paths fails once
 * (issue 15 point 8; docs/operations.md "Robustness record").
 *
 * For each path and n = 1, 2, ... the path runs with its n-th allocation
 * failing (failalloc.h), until a run no longer reaches n.  Every run must
 * end with a clean error or a complete success, never a crash (both
 * builds), never a leak (LeakSanitizer in the ASan build), never a success
 * that lost data, and a later normal run must succeed.  The paths are the
 * real library functions, in process:
 *
 *   csv_import     kjc_cmd_import (`kinerja import survey FILE`) into a
 *                  client store: opens the store, kj_csv_read, one
 *                  kjc_store_write per row, one transaction
 *   push_encode    kjc_outbox_batch + kj_push_encode (proto/msg.c, the
 *                  request body of a push) + kj_gzip
 *   push_decode    kjs_app_handle POST /v1/push: token check, JSON parse,
 *                  kj_change_from_json, kjs_txn_apply, the answer
 *   pull_apply     kjc_sync__apply_page of a real /v1/pull page:
 *                  kj_pull_page_decode, then client/sync.c's apply_page
 *                  (kj_pull_page_state, kjc_store_adopt_remote, cursor,
 *                  scores) into a client store
 *   server_requests kjs_app_handle of hello, pull, reports (offices,
 *                  employees) and a 404, one after the other
 *
 * KJ_FAILALLOC_PERSIST=1 makes every allocation after the n-th fail too.
 * KJ_FAILALLOC_ONLY=t_push_decode runs one path.
 * KJ_FAILALLOC_LEAKCHECK=1 (ASan build) runs LeakSanitizer after every n.
 * KJ_FAILALLOC_VERBOSE=1 prints every n with its result; KJ_FAILALLOC_SITES=1
 * lists the allocation sites each path reached (for addr2line).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* server/ comes before client/ in the include path, so test_app_util.h's
 * "store.h" is the server's; the client's headers are named by directory. */
#include "server/test_app_util.h"

#include "alloc/failalloc.h"
#include "client/cli.h"
#include "client/store.h"
#include "client/sync.h"
#include "gz.h"
#include "hlc.h"
#include "log.h"
#include "msg.h"
#include "wire.h"

int kjc_cmd_import(int argc, char **argv);

static int g_persist, g_verbose, g_leakcheck;
/* csv_import, push_decode and server_requests try every g_stride-th n
 * (each run opens a database or runs requests: the slow paths); 1 in the release build, 3
 * under ASan to keep a ctest entry under about 90 s on a loaded machine;
 * KJ_FAILALLOC_STRIDE overrides. */
static long g_stride = 1;

/* LeakSanitizer's check, in the ASan build only (weak: NULL otherwise). */
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

/* With KJ_FAILALLOC_LEAKCHECK=1 (ASan build), a leak fails the run that
 * made it, so its n is known; otherwise LSan reports leaks at exit. */
static void leak_check(const char *path, long n) {
  if (g_leakcheck && __lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check())
    fail_msg("%s n=%ld: memory leaked (report above)", path, n);
}

/* ---- per-path bookkeeping ---- */

typedef struct path_stat {
  const char *name;
  long runs;      /* runs with a failure injected */
  long max_alloc; /* allocations of a complete run */
  long errors;    /* runs that ended with an error */
  long recovered; /* runs whose failure did not matter (complete success) */
} path_stat;

static void report(const path_stat *p, double secs) {
  long step = !strcmp(p->name, "push_encode") || !strcmp(p->name, "pull_apply") ? 1 : g_stride;
  printf(
      "alloc_failures: %-15s n=1..%ld step %ld (%ld allocations in a clean run), %ld errors, %ld "
      "complete; allocation sites seen: %zu ours, %zu cJSON, %zu SQLite; failed at %zu+%zu+%zu "
      "of them; "
      "%.1f s\n",
      p->name, p->runs, step, p->max_alloc, p->errors, p->recovered, fa_sites_seen(FA_LIBC),
      fa_sites_seen(FA_CJSON), fa_sites_seen(FA_SQLITE), fa_sites_failed(FA_LIBC),
      fa_sites_failed(FA_CJSON), fa_sites_failed(FA_SQLITE), secs);
  if (getenv("KJ_FAILALLOC_SITES"))
    fa_sites_dump(stdout);
  fflush(stdout);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- files ---- */

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  char *s = calloc(1, 1 << 20);
  assert_non_null(s);
  size_t n = fread(s, 1, (1 << 20) - 1, f);
  s[n] = 0;
  fclose(f);
  return s;
}

static void copy_file(const char *from, const char *to) {
  char *buf = malloc(1 << 20);
  assert_non_null(buf);
  int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(in >= 0 && out >= 0);
  ssize_t n;
  while ((n = read(in, buf, 1 << 20)) > 0)
    assert_int_equal(write(out, buf, (size_t)n), n);
  close(in);
  close(out);
  free(buf);
}

static void unlink_db(const char *db) {
  char p[600];
  unlink(db);
  snprintf(p, sizeof p, "%s-wal", db);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", db);
  unlink(p);
}

/* A client database of office A as a template (copied for each run). */
static void make_client_db(const char *path) {
  kj_err e;
  kj_err_clear(&e);
  unlink_db(path);
  assert_int_equal(kjc_store_create(path, OFFICE_A, &e), KJ_OK);
}

static long count_records(const char *db, kj_rtype t) {
  kjc_store *s = NULL;
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjc_store_open(&s, db, KJC_OPEN_READ, &e), KJ_OK);
  long n = kjc_record_count(s, t);
  kjc_store_close(s);
  return n;
}

/* ---- csv_import ---- */

#define SURVEY_HEADER                                                                              \
  "id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment\n"
#define IMPORT_ROWS 3

typedef struct dirs {
  char dir[64];
  char db[128], tpl[128], csv[128], out[128];
} dirs;

static void dirs_init(dirs *d) {
  /* tmpfs when there is one: thousands of commits with synchronous=FULL */
  struct stat sb;
  int shm = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0;
  snprintf(d->dir, sizeof d->dir, "%s/kj-alloc-XXXXXX", shm ? "/dev/shm" : "/tmp");
  assert_non_null(mkdtemp(d->dir));
  snprintf(d->db, sizeof d->db, "%s/kinerja.db", d->dir);
  snprintf(d->tpl, sizeof d->tpl, "%s/template.db", d->dir);
  snprintf(d->csv, sizeof d->csv, "%s/in.csv", d->dir);
  snprintf(d->out, sizeof d->out, "%s/out.txt", d->dir);
}

static void dirs_release(dirs *d) {
  unlink_db(d->db);
  unlink_db(d->tpl);
  unlink(d->csv);
  unlink(d->out);
  rmdir(d->dir);
}

/* Run `kinerja import survey CSV` in process with stdout and stderr in
 * d->out, allocation n failing; returns its exit code. */
static int import_run(dirs *d, long n) {
  char a0[] = "import", a1[] = "survey";
  char *argv[] = {a0, a1, d->csv, NULL};
  fflush(stdout);
  fflush(stderr);
  int o1 = dup(1), o2 = dup(2);
  int fd = open(d->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_true(o1 >= 0 && o2 >= 0 && fd >= 0);
  dup2(fd, 1);
  dup2(fd, 2);
  close(fd);
  if (g_verbose)
    dprintf(o2, "csv_import n=%ld ...\n", n);
  fa_arm(n, g_persist);
  int rc = kjc_cmd_import(3, argv);
  fa_disarm();
  fflush(stdout);
  fflush(stderr);
  dup2(o1, 1);
  dup2(o2, 2);
  close(o1);
  close(o2);
  return rc;
}

static void t_csv_import(void **state) {
  (void)state;
  dirs d = {0};
  dirs_init(&d);
  write_file(d.csv,
             SURVEY_HEADER ",,2026-03-02,KTP-el,4,3,3,4,3,3,2,3,4,34,L,D4-S1,PNS,\"cepat, ramah\"\n"
                           ",,2026-03-03,KK,1,2,3,4,1,2,3,4,1,,,,,\n"
                           ",36.73.01,2026-03-04,Akta,2,2,2,2,2,2,2,2,2,61,P,SMA,Swasta,\n");
  make_client_db(d.tpl);
  kjc_set_db_path(d.db);
  path_stat p = {"csv_import", 0, 0, 0, 0};
  fa_sites_reset();
  double t0 = now_s();
  for (long n = 1;; n += g_stride) {
    copy_file(d.tpl, d.db);
    int rc = import_run(&d, n);
    int hit = fa_hit();
    char *out = read_file(d.out);
    long rows = count_records(d.db, KJ_T_SURVEY);
    if (g_verbose)
      fprintf(stderr, "csv_import n=%ld hit=%d rc=%d rows=%ld: %s", n, hit, rc, rows, out);
    if (rc == 0) {
      /* success means every row is in the database */
      if (rows != IMPORT_ROWS || !strstr(out, "imported 3 rows"))
        fail_msg("csv_import n=%ld: exit 0 with %ld rows: %s", n, rows, out);
      if (hit)
        p.recovered++;
    } else {
      /* an error: a message, and nothing of the file */
      if (!hit)
        fail_msg("csv_import n=%ld: failed without an injected failure: %s", n, out);
      if (rows != 0 || strncmp(out, "kinerja: ", 9) != 0)
        fail_msg("csv_import n=%ld: exit %d with %ld rows, output: %s", n, rc, rows, out);
      p.errors++;
    }
    free(out);
    leak_check("csv_import", n);
    if (!hit) {
      p.max_alloc = n - 1;
      break;
    }
    p.runs = n;
    if (rc != 0) {
      /* a later normal run succeeds */
      if (import_run(&d, 0) != 0 || count_records(d.db, KJ_T_SURVEY) != IMPORT_ROWS) {
        out = read_file(d.out);
        fail_msg("csv_import n=%ld: the next normal import failed: %s", n, out);
      }
    }
  }
  report(&p, now_s() - t0);
  kjc_set_db_path(NULL);
  dirs_release(&d);
}

/* ---- push_encode ---- */

#define NCHANGES 4

/* Writes a few local changes into db: two surveys, an update, a delete. */
static void fill_outbox(const char *db) {
  kjc_store *s = NULL;
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjc_store_open(&s, db, KJC_OPEN_WRITE, &e), KJ_OK);
  const kj_type_def *t = kj_type(KJ_T_SURVEY);
  const char *names[] = {"office", "date", "service", "u1", "u2", "u3",     "u4",
                         "u5",     "u6",   "u7",      "u8", "u9", "comment"};
  const char *vals[] = {OFFICE_A,
                        "2026-03-02",
                        "KTP-el",
                        "4",
                        "3",
                        "2",
                        "1",
                        "2",
                        "3",
                        "4",
                        "1",
                        "2",
                        "baik \"sekali\", cepat"};
  const char *ids[] = {"01900000-0000-7000-8000-000000000201",
                       "01900000-0000-7000-8000-000000000202"};
  for (int r = 0; r < 2; r++) {
    kj_change c;
    kj_change_init(&c, KJ_T_SURVEY);
    snprintf(c.rec.id, sizeof c.rec.id, "%s", ids[r]);
    for (int i = 0; i < 13; i++) {
      int k = kj_field_index(t, names[i]);
      assert_int_equal(kj_record_set(&c.rec, k, vals[i]), 0);
      c.mask |= 1u << k;
    }
    assert_int_equal(kjc_store_write(s, &c, KJC_CHANGE_NEW, NULL, &e), KJ_OK);
    kj_change_release(&c);
  }
  kj_change c;
  kj_change_init(&c, KJ_T_SURVEY);
  snprintf(c.rec.id, sizeof c.rec.id, "%s", ids[0]);
  int k = kj_field_index(t, "u1");
  assert_int_equal(kj_record_set(&c.rec, k, "1"), 0);
  c.mask = 1u << k;
  assert_int_equal(kjc_store_write(s, &c, KJC_CHANGE_EXISTING, NULL, &e), KJ_OK);
  kj_change_release(&c);
  kj_change_init(&c, KJ_T_SURVEY);
  snprintf(c.rec.id, sizeof c.rec.id, "%s", ids[1]);
  c.rec.deleted = 1;
  assert_int_equal(kjc_store_write(s, &c, KJC_CHANGE_EXISTING, NULL, &e), KJ_OK);
  kj_change_release(&c);
  kjc_store_close(s);
}

/* One push encode with allocation n failing: *text gets the body (or
 * NULL), *gz the gzipped body; returns the first error. */
static kj_code encode_run(kjc_store *s, long n, char **text, kj_buf *gz, kj_err *e) {
  kj_change ch[NCHANGES + 1];
  int got = 0;
  *text = NULL;
  kj_buf_init(gz, 1 << 20);
  fa_arm(n, g_persist);
  kj_code c = kjc_outbox_batch(s, NCHANGES + 1, ch, &got, e);
  if (!c) {
    kj_buf body;
    kj_buf_init(&body, KJ_BUF_UNLIMITED);
    c = kj_push_encode(&body, 1767225600000, ch, got, KJ_PROTOCOL_MAX, e);
    if (!c) {
      *text = kj_buf_detach(&body, NULL);
      c = *text ? kj_gzip(*text, strlen(*text), gz, e) : kj_fail(e, KJ_ENOMEM, "out of memory");
    }
    kj_buf_release(&body);
  }
  for (int i = 0; !c && i < got; i++)
    kj_change_release(&ch[i]);
  fa_disarm();
  if (c)
    for (int i = 0; i < got; i++)
      kj_change_release(&ch[i]);
  if (!c && got != NCHANGES)
    fail_msg("push_encode n=%ld: the batch has %d changes, not %d", n, got, NCHANGES);
  return c;
}

static void t_push_encode(void **state) {
  (void)state;
  dirs d = {0};
  dirs_init(&d);
  make_client_db(d.db);
  fill_outbox(d.db);
  kjc_store *s = NULL;
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjc_store_open(&s, d.db, KJC_OPEN_READ, &e), KJ_OK);
  char *ref = NULL;
  kj_buf gz;
  assert_int_equal(encode_run(s, 0, &ref, &gz, &e), KJ_OK);
  assert_non_null(ref);
  kj_buf_release(&gz);
  path_stat p = {"push_encode", 0, 0, 0, 0};
  fa_sites_reset();
  double t0 = now_s();
  for (long n = 1;; n++) {
    char *text = NULL;
    kj_err_clear(&e);
    kj_code c = encode_run(s, n, &text, &gz, &e);
    int hit = fa_hit();
    if (g_verbose)
      fprintf(stderr, "push_encode n=%ld hit=%d rc=%d %s\n", n, hit, c, e.msg);
    if (!c) {
      /* success: exactly the body of a clean run, and it gunzips to it */
      if (!text || strcmp(text, ref ? ref : "") != 0)
        fail_msg("push_encode n=%ld: success with a different body:\n%s\nnot\n%s", n,
                 text ? text : "(null)", ref);
      kj_buf plain;
      kj_buf_init(&plain, 1 << 20);
      assert_int_equal(kj_gunzip(gz.data, gz.len, &plain, &e), KJ_OK);
      assert_string_equal(kj_buf_str(&plain), ref);
      kj_buf_release(&plain);
      if (hit)
        p.recovered++;
    } else {
      if (!hit || !e.msg[0])
        fail_msg("push_encode n=%ld: error %d without a message or a failure", n, c);
      p.errors++;
    }
    free(text);
    kj_buf_release(&gz);
    leak_check("push_encode", n);
    if (!hit) {
      p.max_alloc = n - 1;
      break;
    }
    p.runs = n;
  }
  report(&p, now_s() - t0);
  free(ref);
  kjc_store_close(s);
  dirs_release(&d);
}

/* ---- server: push_decode and server_requests ---- */

typedef struct sresp {
  int status;
  char *body;
} sresp;

/* kjs_app_handle with allocation n failing (n < 0: not armed). */
static void scall(tapp *t, sresp *r, long n, const char *method, const char *path,
                  const char *query, const char *token, const char *body) {
  char auth[128];
  if (token)
    snprintf(auth, sizeof auth, "Bearer %s", token);
  kjh_request req = {.method = method,
                     .path = path,
                     .query = query ? query : "",
                     .authorization = token ? auth : NULL,
                     .body = body ? body : "",
                     .body_len = body ? strlen(body) : 0,
                     .remote = "127.0.0.1:1"};
  kjh_response resp;
  memset(&resp, 0, sizeof resp);
  resp.status = 200;
  kj_buf_init(&resp.body, 64u << 20);
  if (n >= 0)
    fa_arm(n, g_persist);
  kjs_app_handle(&t->app, &req, &resp);
  if (n >= 0)
    fa_disarm();
  r->status = resp.status;
  r->body = strdup(resp.body.data ? kj_buf_str(&resp.body) : "");
  assert_non_null(r->body);
  kj_buf_release(&resp.body);
}

/* An error answer is {"error": "..."} with a 4xx/5xx status. */
static int clean_error(const sresp *r) {
  if (r->status < 400)
    return 0;
  if (r->status == 500 && !r->body[0] && g_persist)
    return 1; /* nothing at all can be allocated: not even the error text */
  cJSON *doc = cJSON_Parse(r->body);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "error");
  int ok = cJSON_IsString(m) && m->valuestring[0];
  cJSON_Delete(doc);
  return ok;
}

static long long server_records(tapp *t) {
  char dg[65];
  long long nrec = 0;
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_store_records_digest(t->store, dg, &nrec, &e), KJ_OK);
  return nrec;
}

/* A push body of 3 changes with ids and seqs unique to run n. */
static char *push_of(long n) {
  char *ch[3];
  for (int i = 0; i < 3; i++) {
    char id[64];
    snprintf(id, sizeof id, "01900000-0000-7000-8%03d-%012ld", i, n % 1000000000000L);
    ch[i] =
        survey_change(n * 10 + i, id, OFFICE_A, 1767225600000ull + (unsigned long long)n, 1 + i);
  }
  char *b = push_body((const char *const *)ch, 3);
  for (int i = 0; i < 3; i++)
    free(ch[i]);
  return b;
}

/* The statuses of a push answer: 1 when every result is one of the two. */
static int all_results(const sresp *r, const char *s1, const char *s2) {
  cJSON *doc = cJSON_Parse(r->body);
  const cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "results"), *it;
  int n = 0, ok = cJSON_IsArray(res);
  cJSON_ArrayForEach(it, res) {
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
    const cJSON *seq = cJSON_GetObjectItemCaseSensitive(it, "seq");
    if (!cJSON_IsString(st) || !cJSON_IsNumber(seq) ||
        (strcmp(st->valuestring, s1) != 0 && strcmp(st->valuestring, s2) != 0))
      ok = 0;
    n++;
  }
  cJSON_Delete(doc);
  return ok && n == 3;
}

static void t_push_decode(void **state) {
  (void)state;
  tapp *t = tapp_new();
  path_stat p = {"push_decode", 0, 0, 0, 0};
  fa_sites_reset();
  double t0 = now_s();
  for (long n = 1;; n += g_stride) {
    char *body = push_of(n);
    long long before = server_records(t);
    sresp r;
    scall(t, &r, n, "POST", "/v1/push", NULL, t->dev_a, body);
    int hit = fa_hit();
    long long after = server_records(t);
    if (g_verbose)
      fprintf(stderr, "push_decode n=%ld hit=%d status=%d +%lld %s", n, hit, r.status,
              after - before, r.body);
    if (r.status == 200) {
      /* success: all three applied and stored */
      if (!all_results(&r, "applied", "applied") || after != before + 3)
        fail_msg("push_decode n=%ld: 200 with %lld of 3 records stored: %s", n, after - before,
                 r.body);
      if (hit)
        p.recovered++;
    } else {
      /* cJSON cannot tell a failed allocation from bad syntax: a body it
       * could not parse for want of memory is a 400 "bad JSON" */
      if (!hit || !clean_error(&r) || (r.status < 500 && !strstr(r.body, "bad JSON")))
        fail_msg("push_decode n=%ld: answer %d: %s", n, r.status, r.body);
      if (after != before && after != before + 3)
        fail_msg("push_decode n=%ld: %lld of 3 records stored", n, after - before);
      p.errors++;
      /* the device sends the batch again: everything gets in */
      sresp r2;
      scall(t, &r2, -1, "POST", "/v1/push", NULL, t->dev_a, body);
      if (r2.status != 200 || !all_results(&r2, "applied", "duplicate") ||
          server_records(t) != before + 3)
        fail_msg("push_decode n=%ld: the push again: %d %s", n, r2.status, r2.body);
      free(r2.body);
    }
    free(r.body);
    free(body);
    leak_check("push_decode", n);
    if (!hit) {
      p.max_alloc = n - 1;
      break;
    }
    p.runs = n;
  }
  report(&p, now_s() - t0);
  tapp_free(t);
}

typedef struct sreq {
  const char *method, *path, *query;
  int who; /* 0 device A, 1 viewer */
} sreq;

static const sreq server_seq[] = {
    {"GET", "/v1/hello", NULL, 0},
    {"GET", "/v1/pull", "since=0&limit=2", 0},
    {"GET", "/v1/pull", "since=0&limit=100", 0},
    {"GET", "/v1/reports/offices", "period=2026-Q1&as_of=2026-03-31", 1},
    {"GET", "/v1/reports/employees", "period=2026&office=" OFFICE_A, 0},
    {"GET", "/v1/nothing", NULL, 0},
};
#define NSEQ (sizeof server_seq / sizeof server_seq[0])

/* Some records of office A for the reads to find: surveys, and employees
 * with targets and an approved activity, so that the reports and the
 * pulled scores have employee rows to build. */
static void seed_server(tapp *t) {
  for (long k = 1; k <= 2; k++) {
    char *b = push_of(100000 + k);
    sresp r;
    scall(t, &r, -1, "POST", "/v1/push", NULL, t->dev_a2, b);
    assert_int_equal(r.status, 200);
    free(r.body);
    free(b);
  }
  static const char *const master[] = {
      "{\"seq\":1,\"id\":\"198001012005011001\",\"type\":\"employee\",\"hlc\":\"%llu\","
      "\"f\":{\"name\":\"Siti\",\"office\":\"" OFFICE_A "\"}}",
      "{\"seq\":2,\"id\":\"198502022010012002\",\"type\":\"employee\",\"hlc\":\"%llu\","
      "\"f\":{\"name\":\"Budi\",\"office\":\"" OFFICE_A "\"}}",
  };
  static const char *const office[] = {
      "{\"seq\":1,\"id\":\"01900000-0000-7000-9000-000000000001\",\"type\":\"target\","
      "\"hlc\":\"%llu\",\"f\":{\"office\":\"" OFFICE_A "\",\"nip\":\"198001012005011001\","
      "\"indicator\":\"DOC\",\"period\":\"2026\",\"target\":\"10\"}}",
      "{\"seq\":2,\"id\":\"01900000-0000-7000-9000-000000000002\",\"type\":\"target\","
      "\"hlc\":\"%llu\",\"f\":{\"office\":\"" OFFICE_A "\",\"nip\":\"198502022010012002\","
      "\"indicator\":\"LYN\",\"period\":\"2026\",\"target\":\"4\",\"weight\":\"2\"}}",
      "{\"seq\":3,\"id\":\"01900000-0000-7000-9000-000000000003\",\"type\":\"activity\","
      "\"hlc\":\"%llu\",\"f\":{\"office\":\"" OFFICE_A "\",\"nip\":\"198001012005011001\","
      "\"date\":\"2026-02-03\",\"indicator\":\"DOC\",\"quantity\":\"7\","
      "\"status\":\"approved\"}}",
  };
  for (int w = 0; w < 2; w++) {
    const char *const *list = w ? office : master;
    int n = w ? 3 : 2;
    char *ch[3];
    for (int i = 0; i < n; i++) {
      ch[i] = malloc(1024);
      assert_non_null(ch[i]);
      snprintf(ch[i], 1024, list[i], (unsigned long long)KJ_HLC_MAKE(1767225600000ull + 10, i));
    }
    char *b = push_body((const char *const *)ch, n);
    sresp r;
    /* the office records as the BKD's import would load them: an
     * administrator may set an activity approved (domain.md "Who may
     * write what") */
    scall(t, &r, -1, "POST", "/v1/push", NULL, t->admin, b);
    if (r.status != 200 || strstr(r.body, "rejected"))
      fail_msg("seed: %s", r.body);
    free(r.body);
    free(b);
    for (int i = 0; i < n; i++)
      free(ch[i]);
  }
}

/* The digits of every "server_time": become 0 (the only part of these
 * answers that changes from one call to the next). */
static void zero_time(char *body) {
  for (char *p = body; (p = strstr(p, "\"server_time\":"));) {
    p += strlen("\"server_time\":");
    char *q = p;
    while (*q >= '0' && *q <= '9')
      q++;
    if (q > p) {
      *p = '0';
      memmove(p + 1, q, strlen(q) + 1);
    }
  }
}

static void t_server_requests(void **state) {
  (void)state;
  tapp *t = tapp_new();
  seed_server(t);
  int ref[NSEQ];
  char *refbody[NSEQ];
  for (size_t i = 0; i < NSEQ; i++) {
    sresp r;
    const sreq *q = &server_seq[i];
    scall(t, &r, -1, q->method, q->path, q->query, q->who ? t->viewer : t->dev_a, NULL);
    ref[i] = r.status;
    zero_time(r.body);
    refbody[i] = r.body;
  }
  path_stat p = {"server_requests", 0, 0, 0, 0};
  fa_sites_reset();
  double t0 = now_s();
  /* n counts across each request in turn: request i runs with failure
   * n - (allocations of requests before it) */
  for (long n = 1;; n += g_stride) {
    long before = 0;
    int hit = 0, err = 0;
    for (size_t i = 0; i < NSEQ && !hit; i++) {
      const sreq *q = &server_seq[i];
      sresp r;
      scall(t, &r, n - before, q->method, q->path, q->query, q->who ? t->viewer : t->dev_a, NULL);
      before += fa_disarm();
      hit = fa_hit();
      if (g_verbose && hit)
        fprintf(stderr, "server_requests n=%ld %s: %d %s", n, q->path, r.status, r.body);
      if (r.status != ref[i]) {
        if (!hit || !clean_error(&r) || r.status < 500)
          fail_msg("server_requests n=%ld %s: answer %d (not %d): %s", n, q->path, r.status, ref[i],
                   r.body);
        err = 1;
      } else if (r.status >= 400 && !clean_error(&r)) {
        fail_msg("server_requests n=%ld %s: answer %d: %s", n, q->path, r.status, r.body);
      } else {
        /* the same answer as without a failure: nothing left out */
        zero_time(r.body);
        if (strcmp(r.body, refbody[i]) != 0) {
          size_t k = 0;
          while (r.body[k] && r.body[k] == refbody[i][k])
            k++;
          size_t from = k > 60 ? k - 60 : 0;
          fail_msg("server_requests n=%ld %s: answer %d differs at byte %zu:\n%.160s\nnot\n%.160s",
                   n, q->path, r.status, k, r.body + from, refbody[i] + from);
        }
      }
      free(r.body);
    }
    if (err)
      p.errors++;
    else if (hit)
      p.recovered++;
    leak_check("server_requests", n);
    if (!hit) {
      p.max_alloc = n - 1;
      break;
    }
    p.runs = n;
  }
  report(&p, now_s() - t0);
  for (size_t i = 0; i < NSEQ; i++)
    free(refbody[i]);
  tapp_free(t);
}

/* ---- pull_apply ---- */

static void t_pull_apply(void **state) {
  (void)state;
  /* a real page: office A's records and scores from the server */
  tapp *t = tapp_new();
  seed_server(t);
  sresp pg;
  scall(t, &pg, -1, "GET", "/v1/pull", "since=0&limit=100", t->dev_a, NULL);
  assert_int_equal(pg.status, 200);
  tapp_free(t);
  fa_cjson_hooks(); /* the client side: cJSON's own call sites */
  dirs d = {0};
  dirs_init(&d);
  make_client_db(d.tpl);
  cJSON *page = cJSON_Parse(pg.body);
  long npage = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "changes"));
  cJSON_Delete(page);
  assert_true(npage > 6);
  char *ref_scores = NULL, *ref_cursor = NULL;
  path_stat p = {"pull_apply", 0, 0, 0, 0};
  fa_sites_reset();
  double t0 = now_s();
  /* n = 0: the clean run whose result every later success must equal */
  for (long n = 0;; n++) {
    copy_file(d.tpl, d.db);
    kjc_store *s = NULL;
    kj_err e;
    kj_err_clear(&e);
    assert_int_equal(kjc_store_open(&s, d.db, KJC_OPEN_WRITE, &e), KJ_OK);
    int more = -1;
    long pulled = 0;
    fa_arm(n, g_persist);
    kj_code c = kjc_sync__apply_page(s, pg.body, strlen(pg.body), &more, &pulled, &e);
    fa_disarm();
    int hit = fa_hit();
    char *cursor = NULL;
    kj_err x;
    assert_int_equal(kjc_meta_get(s, KJC_META_PULL_CURSOR, &cursor, &x), KJ_OK);
    long rows = kjc_record_count(s, KJ_T_SURVEY);
    /* the year's scores (the last stored may be any period of the same ms) */
    char *scores = NULL, *year = NULL;
    assert_int_equal(kjc_meta_get(s, KJC_META_SCORES_PERIOD, &year, &x), KJ_OK);
    if (year)
      assert_int_equal(kjc_scores_get(s, KJC_SCORES_KIND, year, OFFICE_A, &scores, NULL, &x),
                       KJ_OK);
    free(year);
    if (g_verbose)
      fprintf(stderr, "pull_apply n=%ld hit=%d rc=%d rows=%ld cursor=%s %s\n", n, hit, c, rows,
              cursor ? cursor : "-", e.msg);
    if (n == 0) {
      assert_int_equal(c, KJ_OK);
      assert_non_null(scores);
      assert_non_null(cursor);
      ref_scores = scores;
      ref_cursor = cursor;
      scores = cursor = NULL;
    } else if (!c) {
      /* success: every record, the cursor and the scores, as in a clean run */
      const char *want_cursor = ref_cursor ? ref_cursor : "",
                 *want_scores = ref_scores ? ref_scores : "";
      if (rows != 6 || more != 0 || !cursor || strcmp(cursor, want_cursor) != 0 ||
          pulled != npage || !scores || strcmp(scores, want_scores) != 0)
        fail_msg("pull_apply n=%ld: success with %ld rows, %ld of %ld states, cursor %s, "
                 "scores %s",
                 n, rows, pulled, npage, cursor ? cursor : "(none)",
                 scores && !strcmp(scores, want_scores) ? "equal"
                 : scores                               ? scores
                                                        : "(none)");
      if (hit)
        p.recovered++;
    } else {
      /* nothing of the page, the cursor where it was */
      if (!hit || !e.msg[0] || rows != 0 || cursor)
        fail_msg("pull_apply n=%ld: error %d (%s) with %ld rows, cursor %s", n, c, e.msg, rows,
                 cursor ? cursor : "(none)");
      p.errors++;
    }
    free(cursor);
    free(scores);
    if (c) {
      /* the next pull applies it */
      assert_int_equal(kjc_sync__apply_page(s, pg.body, strlen(pg.body), &more, &pulled, &e),
                       KJ_OK);
      assert_int_equal(kjc_record_count(s, KJ_T_SURVEY), 6);
    }
    kjc_store_close(s);
    leak_check("pull_apply", n);
    if (n == 0)
      continue;
    if (!hit) {
      p.max_alloc = n - 1;
      break;
    }
    p.runs = n;
  }
  report(&p, now_s() - t0);
  free(ref_scores);
  free(ref_cursor);
  free(pg.body);
  dirs_release(&d);
}

static int env_flag(const char *name) {
  const char *v = getenv(name);
  return v && atoi(v) != 0;
}

int main(void) {
  g_persist = env_flag("KJ_FAILALLOC_PERSIST");
  g_verbose = env_flag("KJ_FAILALLOC_VERBOSE");
  g_leakcheck = env_flag("KJ_FAILALLOC_LEAKCHECK");
#if defined(__SANITIZE_ADDRESS__)
  g_stride = 3;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  g_stride = 3;
#endif
#endif
  const char *st = getenv("KJ_FAILALLOC_STRIDE");
  if (st && atol(st) > 0)
    g_stride = atol(st);
  if (getenv("KJ_FAILALLOC_ONLY")) /* e.g. t_push_decode */
    cmocka_set_test_filter(getenv("KJ_FAILALLOC_ONLY"));
  fa_install();
  kj_log_set_level(g_verbose ? KJ_LOG_WARN : KJ_LOG_OFF);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_csv_import),      cmocka_unit_test(t_push_encode),
      cmocka_unit_test(t_push_decode),     cmocka_unit_test(t_pull_apply),
      cmocka_unit_test(t_server_requests),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  printf("alloc_failures: %s mode; failures injected at %zu distinct sites: %zu in our code "
         "(kj_* libraries and libcsv's realloc), %zu in cJSON, %zu SQLite entry points\n",
         g_persist ? "persistent" : "one-shot",
         fa_sites_failed_total(FA_LIBC) + fa_sites_failed_total(FA_CJSON) +
             fa_sites_failed_total(FA_SQLITE),
         fa_sites_failed_total(FA_LIBC), fa_sites_failed_total(FA_CJSON),
         fa_sites_failed_total(FA_SQLITE));
  return failed;
}
