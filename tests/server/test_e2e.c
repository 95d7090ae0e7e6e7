/* test_e2e.c - the real kinerjad binary over loopback TLS with libcurl:
 * every route and status, replay, office scope, revocation without restart,
 * gzip, and SIGTERM during pushes losing nothing acknowledged.  Children
 * are killed on failure (teardown). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <zlib.h>
#include <cmocka.h>

#include "hlc.h"
#include "pgtest.h"
#include "store.h"

#ifndef KINERJAD_BIN
#error "KINERJAD_BIN must name the kinerjad binary"
#endif

typedef struct env {
  char dir[256];
  char cert[300];
  char admin[80], viewer[80], dev_a[80], dev_b[80], dev_a_id[40], dev_b_id[40];
  pid_t pid;  /* serve */
  int out_fd; /* its stdout */
  char base[64];
  CURL *curl;
  /* KJ_TEST_STORE=postgresql: the store's URL (init --store) and its own
   * database of the test cluster (tests/server/pgtest.h); else "" */
  char store[1200], pg_db[64];
} env;

static env *g_env; /* for teardown */

/* Run kinerjad with args; stdout into out (size), returns exit status. */
static int run(env *e, char *out, size_t size, const char *const *args) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    const char *argv[32];
    int n = 0;
    argv[n++] = KINERJAD_BIN;
    argv[n++] = "--data";
    argv[n++] = e->dir;
    for (int i = 0; args[i] && n < 31; i++)
      argv[n++] = args[i];
    argv[n] = NULL;
    execv(KINERJAD_BIN, (char *const *)argv);
    _exit(127);
  }
  close(p[1]);
  size_t len = 0;
  ssize_t r;
  while ((r = read(p[0], out + len, size - 1 - len)) > 0)
    len += (size_t)r;
  out[len] = 0;
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The value after "prefix" on its line of text. */
static void grab(const char *text, const char *prefix, char *out, size_t size) {
  const char *p = strstr(text, prefix);
  assert_non_null(p);
  p += strlen(prefix);
  size_t n = strcspn(p, "\r\n");
  assert_true(n < size);
  memcpy(out, p, n);
  out[n] = 0;
}

static void serve_start(env *e) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0 && !getenv("KJ_TEST_VERBOSE"))
      dup2(devnull, 2);
    execl(KINERJAD_BIN, KINERJAD_BIN, "--data", e->dir, "serve", "--listen", "127.0.0.1:0",
          (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  e->pid = pid;
  e->out_fd = p[0];
  /* wait for "listening on https://127.0.0.1:PORT" (at most 20 s) */
  char line[256] = {0};
  size_t len = 0;
  time_t until = time(NULL) + 20;
  while (!memchr(line, '\n', len) && time(NULL) < until && len < sizeof line - 1) {
    ssize_t r = read(p[0], line + len, sizeof line - 1 - len);
    if (r <= 0)
      break;
    len += (size_t)r;
  }
  line[len] = 0;
  const char *u = strstr(line, "listening on https://");
  if (!u) {
    fprintf(stderr, "serve said: '%s'\n", line);
    fail();
    return;
  }
  u += strlen("listening on ");
  size_t n = strcspn(u, "\r\n");
  assert_true(n < sizeof e->base);
  memcpy(e->base, u, n);
  e->base[n] = 0;
}

/* SIGTERM, and its exit status. */
static int serve_stop(env *e) {
  if (e->pid <= 0)
    return -1;
  kill(e->pid, SIGTERM);
  int st = 0;
  for (int i = 0; i < 300; i++) { /* 30 s */
    pid_t r = waitpid(e->pid, &st, WNOHANG);
    if (r == e->pid)
      break;
    if (i == 299) {
      kill(e->pid, SIGKILL);
      waitpid(e->pid, &st, 0);
    }
    usleep(100000);
  }
  e->pid = 0;
  close(e->out_fd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static env *g_env2; /* a second server of one test */

/* A data dir (init, two devices, a viewer, the offices) and its server. */
static env *env_new(void) {
  env *e = calloc(1, sizeof *e);
  assert_non_null(e);
  /* known to the teardowns at once: a failing setup is cleaned up too */
  if (!g_env)
    g_env = e;
  else
    g_env2 = e;
  snprintf(e->dir, sizeof e->dir, "/tmp/kjs-e2e-XXXXXX");
  assert_non_null(mkdtemp(e->dir));
  rmdir(e->dir); /* init creates it */
  snprintf(e->cert, sizeof e->cert, "%s/cert.pem", e->dir);
  char out[4096];
  const char *init[] = {"init", NULL, NULL, NULL};
  const char *ts = getenv("KJ_TEST_STORE");
  if (ts && !strcmp(ts, "postgresql")) {
    static int n;
    char name[32];
    snprintf(name, sizeof name, "kjt_e2e%d", n++);
    PQfinish(kjt_pg_fresh_db(name, e->pg_db, sizeof e->pg_db));
    snprintf(e->store, sizeof e->store, "%s&dbname=%s", kjt_pg_url(), e->pg_db);
    init[1] = "--store";
    init[2] = e->store;
  }
  assert_int_equal(run(e, out, sizeof out, init), 0);
  grab(out, "admin token: ", e->admin, sizeof e->admin);
  struct stat sb;
  assert_int_equal(stat(e->dir, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0700);
  char key[300];
  snprintf(key, sizeof key, "%s/key.pem", e->dir);
  assert_int_equal(stat(key, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  /* init again refuses */
  assert_int_equal(run(e, out, sizeof out, init), 1);
  const char *adda[] = {"device", "add", "--office", "36.73.01", "--name", "PC A", NULL};
  assert_int_equal(run(e, out, sizeof out, adda), 0);
  grab(out, "device token: ", e->dev_a, sizeof e->dev_a);
  grab(out, "device id: ", e->dev_a_id, sizeof e->dev_a_id);
  const char *addb[] = {"device", "add", "--office", "36.73.02", NULL};
  assert_int_equal(run(e, out, sizeof out, addb), 0);
  grab(out, "device token: ", e->dev_b, sizeof e->dev_b);
  grab(out, "device id: ", e->dev_b_id, sizeof e->dev_b_id);
  const char *addv[] = {"token", "add", "--role", "viewer", NULL};
  assert_int_equal(run(e, out, sizeof out, addv), 0);
  grab(out, "token: ", e->viewer, sizeof e->viewer);
  const char *data = getenv("KJ_TEST_DATA");
  char f[512];
  snprintf(f, sizeof f, "%s/server/offices.csv", data ? data : KJ_TEST_DATA_DIR);
  const char *imp[] = {"import", "office", f, NULL};
  assert_int_equal(run(e, out, sizeof out, imp), 0);
  /* a small body limit for the 413 test */
  char conf[300];
  snprintf(conf, sizeof conf, "%s/kinerjad.conf", e->dir);
  FILE *cf = fopen(conf, "a");
  assert_non_null(cf);
  fprintf(cf, "max_body = 262144\n");
  fclose(cf);
  serve_start(e);
  e->curl = curl_easy_init();
  assert_non_null(e->curl);
  return e;
}

static int teardown(void **state);

static int setup(void **state) {
  teardown(NULL); /* what a failed setup left */
  g_env = env_new();
  *state = g_env;
  return 0;
}

static void rm_rf(const char *dir) {
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cannot remove %s\n", dir);
}

static void env_free(env *e) {
  if (!e)
    return;
  if (e->pid > 0) {
    kill(e->pid, SIGKILL);
    waitpid(e->pid, NULL, 0);
    close(e->out_fd);
  }
  curl_easy_cleanup(e->curl);
  if (e->pg_db[0])
    kjt_pg_drop_db(e->pg_db);
  rm_rf(e->dir);
  free(e);
}

static int teardown(void **state) {
  (void)state;
  env_free(g_env);
  env_free(g_env2);
  g_env = g_env2 = NULL;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* HTTP */

typedef struct hresp {
  long status;
  char *body;
  size_t len;
  cJSON *json;
  int gzipped; /* the answer came with Content-Encoding: gzip */
} hresp;

static size_t on_header(char *p, size_t sz, size_t n, void *ud) {
  hresp *r = ud;
  if (sz * n >= 24 && !strncasecmp(p, "content-encoding: gzip", 22))
    r->gzipped = 1;
  return sz * n;
}

static size_t on_data(char *p, size_t sz, size_t n, void *ud) {
  hresp *r = ud;
  char *nb = realloc(r->body, r->len + sz * n + 1);
  if (!nb)
    return 0;
  memcpy(nb + r->len, p, sz * n);
  r->body = nb;
  r->len += sz * n;
  r->body[r->len] = 0;
  return sz * n;
}

static void hresp_release(hresp *r) {
  free(r->body);
  cJSON_Delete(r->json);
  memset(r, 0, sizeof *r);
}

/* A request; returns CURLcode (0 = a response came). */
static int req(env *e, hresp *r, const char *method, const char *path, const char *token,
               const char *body, size_t body_len, int gzip_body) {
  memset(r, 0, sizeof *r);
  CURL *c = e->curl;
  curl_easy_reset(c);
  char url[512], auth[128];
  snprintf(url, sizeof url, "%s%s", e->base, path);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CAINFO, e->cert);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  struct curl_slist *h = NULL;
  if (token) {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    h = curl_slist_append(h, auth);
  }
  if (gzip_body)
    h = curl_slist_append(h, "Content-Encoding: gzip");
  if (body) {
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  }
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(h);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    r->json = r->body ? cJSON_Parse(r->body) : NULL;
  }
  return (int)rc;
}

static long get(env *e, hresp *r, const char *path, const char *token) {
  assert_int_equal(req(e, r, "GET", path, token, NULL, 0, 0), 0);
  return r->status;
}

static long post(env *e, hresp *r, const char *path, const char *token, const char *body) {
  assert_int_equal(req(e, r, "POST", path, token, body, strlen(body), 0), 0);
  return r->status;
}

static const char *jstr(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : "";
}

static char *survey(long long seq, int n, const char *office, unsigned long long ms, int u1) {
  char *s = malloc(1024);
  snprintf(
      s, 1024,
      "{\"seq\":%lld,\"id\":\"01900000-0000-7000-8000-%012d\",\"type\":\"survey\",\"hlc\":\"%llu\","
      "\"f\":{\"office\":\"%s\",\"date\":\"2026-02-03\",\"service\":\"KTP-el\",\"u1\":\"%d\","
      "\"u2\":\"3\",\"u3\":\"3\",\"u4\":\"4\",\"u5\":\"3\",\"u6\":\"3\",\"u7\":\"2\","
      "\"u8\":\"3\",\"u9\":\"4\"}}",
      seq, n, (unsigned long long)KJ_HLC_MAKE(ms, 0), office, u1);
  return s;
}

#define T0 1767225600000ULL

/* ---------------------------------------------------------------------- */

static void test_routes(void **state) {
  env *e = *state;
  hresp r;
  assert_int_equal(get(e, &r, "/healthz", NULL), 200);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/hello", e->dev_a), 200);
  assert_string_equal(jstr(r.json, "server"), "kinerjad");
  assert_string_equal(jstr(r.json, "office"), "36.73.01");
  assert_string_equal(jstr(r.json, "device"), e->dev_a_id);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/hello", NULL), 401);
  assert_non_null(cJSON_GetObjectItem(r.json, "error"));
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/hello", "nonsense"), 401);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/nothing", e->admin), 404);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/push", e->dev_a), 405);
  hresp_release(&r);
  assert_int_equal(post(e, &r, "/v1/push", e->viewer, "{\"changes\":[]}"), 403);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/metrics", e->dev_a), 403);
  hresp_release(&r);
  assert_int_equal(post(e, &r, "/v1/push", e->dev_a, "{\"changes\":[tru"), 400);
  assert_non_null(strstr(jstr(r.json, "error"), "bad JSON"));
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/pull?limit=nine", e->dev_a), 400);
  hresp_release(&r);
  /* over max_body (256 KiB in this test's config) */
  size_t big = (size_t)600 * 1024;
  char *body = malloc(big + 1);
  memset(body, ' ', big);
  body[0] = '{';
  body[big - 1] = '}';
  body[big] = 0;
  assert_int_equal(req(e, &r, "POST", "/v1/push", e->dev_a, body, big, 0), 0);
  assert_int_equal(r.status, 413);
  hresp_release(&r);
  free(body);
  /* the server still serves */
  assert_int_equal(get(e, &r, "/v1/hello", e->viewer), 200);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/metrics", e->admin), 200);
  assert_non_null(strstr(r.body, "kinerjad_records_total"));
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/reports/offices", e->viewer), 400);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/reports/offices?period=2026", e->dev_a), 403);
  hresp_release(&r);
}

static void test_push_pull_replay(void **state) {
  env *e = *state;
  hresp r1, r2;
  char *a = survey(1, 1, "36.73.01", T0, 4), *b = survey(2, 2, "36.73.02", T0, 4),
       *c = survey(3, 3, "36.73.01", T0, 7);
  char body[4096];
  snprintf(body, sizeof body, "{\"device_time\":%llu,\"changes\":[%s,%s,%s]}",
           (unsigned long long)kj_wall_ms(), a, b, c);
  free(a);
  free(b);
  free(c);
  assert_int_equal(post(e, &r1, "/v1/push", e->dev_a, body), 200);
  const cJSON *res = cJSON_GetObjectItem(r1.json, "results");
  assert_string_equal(jstr(cJSON_GetArrayItem(res, 0), "status"), "applied");
  assert_string_equal(jstr(cJSON_GetArrayItem(res, 1), "status"), "rejected");
  assert_non_null(strstr(jstr(cJSON_GetArrayItem(res, 1), "error"), "forbidden office"));
  assert_string_equal(jstr(cJSON_GetArrayItem(res, 2), "status"), "rejected");
  assert_non_null(strstr(jstr(cJSON_GetArrayItem(res, 2), "error"), "field 'u1'"));
  /* the same batch again, gzip-compressed this time: same results */
  uLongf zlen = compressBound(strlen(body)) + 32;
  unsigned char *z = malloc(zlen);
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = (unsigned char *)body;
  zs.avail_in = (uInt)strlen(body);
  zs.next_out = z;
  zs.avail_out = (uInt)zlen;
  assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
  size_t gzlen = zs.total_out;
  deflateEnd(&zs);
  assert_int_equal(req(e, &r2, "POST", "/v1/push", e->dev_a, (const char *)z, gzlen, 1), 0);
  free(z);
  assert_int_equal(r2.status, 200);
  char *x = cJSON_PrintUnformatted(cJSON_GetObjectItem(r1.json, "results"));
  char *y = cJSON_PrintUnformatted(cJSON_GetObjectItem(r2.json, "results"));
  assert_string_equal(x, y);
  free(x);
  free(y);
  hresp_release(&r1);
  hresp_release(&r2);
  /* pull: A sees the offices and its survey, B only the offices */
  assert_int_equal(get(e, &r1, "/v1/pull?since=0", e->dev_a), 200);
  const cJSON *ch = cJSON_GetObjectItem(r1.json, "changes"), *it;
  int surveys = 0, offices = 0;
  cJSON_ArrayForEach(it, ch) {
    surveys += !strcmp(jstr(it, "type"), "survey");
    offices += !strcmp(jstr(it, "type"), "office");
  }
  assert_int_equal(surveys, 1);
  assert_true(offices >= 2);
  assert_true(cJSON_IsFalse(cJSON_GetObjectItem(r1.json, "more")));
  hresp_release(&r1);
  assert_int_equal(get(e, &r1, "/v1/pull?since=0", e->dev_b), 200);
  surveys = 0;
  cJSON_ArrayForEach(it, cJSON_GetObjectItem(r1.json, "changes")) surveys +=
      !strcmp(jstr(it, "type"), "survey");
  assert_int_equal(surveys, 0);
  hresp_release(&r1);
  /* conflicts CLI works while serve runs */
  char out[8192];
  const char *cf[] = {"conflicts", "--json", NULL};
  assert_int_equal(run(e, out, sizeof out, cf), 0);
  cJSON *arr = cJSON_Parse(out);
  assert_true(cJSON_IsArray(arr));
  cJSON_Delete(arr);
}

static void test_revoke_live(void **state) {
  env *e = *state;
  hresp r;
  assert_int_equal(get(e, &r, "/v1/hello", e->dev_b), 200);
  hresp_release(&r);
  char out[1024];
  const char *rv[] = {"device", "revoke", e->dev_b_id, NULL};
  assert_int_equal(run(e, out, sizeof out, rv), 0);
  assert_int_equal(get(e, &r, "/v1/hello", e->dev_b), 401);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/pull", e->dev_b), 401);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/hello", e->dev_a), 200);
  hresp_release(&r);
  const cJSON *d;
  const char *ls[] = {"device", "list", "--json", NULL};
  assert_int_equal(run(e, out, sizeof out, ls), 0);
  cJSON *arr = cJSON_Parse(out);
  int revoked = 0;
  cJSON_ArrayForEach(d, arr) if (!strcmp(jstr(d, "id"), e->dev_b_id)) revoked =
      cJSON_IsNumber(cJSON_GetObjectItem(d, "revoked"));
  assert_true(revoked);
  cJSON_Delete(arr);
}

static void test_more_routes(void **state) {
  env *e = *state;
  hresp r;
  /* reports over TLS: the scores module's documents */
  assert_int_equal(get(e, &r, "/v1/reports/offices?period=2026-Q1&as_of=2026-03-31", e->viewer),
                   200);
  assert_string_equal(jstr(r.json, "period"), "2026-Q1");
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "offices")), 3);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/reports/employees?period=2026&office=36.73.01", e->dev_a), 200);
  assert_string_equal(jstr(r.json, "office"), "36.73.01");
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/reports/employees?period=2026&office=36.73.02", e->dev_a), 403);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/reports/employees?period=2026&office=36.73.02", e->admin), 200);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/reports/offices?period=20x6", e->admin), 400);
  hresp_release(&r);
  assert_int_equal(req(e, &r, "DELETE", "/v1/pull", e->admin, NULL, 0, 0), 0);
  assert_int_equal(r.status, 405);
  hresp_release(&r);
  /* malformed HTTP: 400 */
  assert_int_equal(req(e, &r, "BAD METHOD", "/v1/hello", e->admin, NULL, 0, 0), 0);
  assert_int_equal(r.status, 400);
  hresp_release(&r);
  /* a big answer comes gzipped to a client that accepts it */
  const size_t cap = (size_t)600 * 1024;
  char *body = malloc(cap);
  int o =
      snprintf(body, cap, "{\"device_time\":%llu,\"changes\":[", (unsigned long long)kj_wall_ms());
  for (int i = 0; i < 200; i++) {
    char *sv = survey(500 + i, 500 + i, "36.73.01", T0, 1 + i % 4);
    o += snprintf(body + o, cap - (size_t)o, "%s%s", i ? "," : "", sv);
    free(sv);
  }
  snprintf(body + o, cap - (size_t)o, "]}");
  assert_int_equal(post(e, &r, "/v1/push", e->dev_a, body), 200);
  free(body);
  hresp_release(&r);
  assert_int_equal(get(e, &r, "/v1/pull?since=0&limit=5000", e->dev_a), 200);
  assert_true(r.gzipped);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes")), 203);
  /* the last page carries the office's scores: year, quarter, month and the
   * previous quarter and month */
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "scores")), 5);
  hresp_release(&r);
  /* the server restarts on the same data and still has everything */
  assert_int_equal(serve_stop(e), 0);
  serve_start(e);
  assert_int_equal(get(e, &r, "/v1/pull?since=0&limit=5000", e->admin), 200);
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "changes")), 203);
  hresp_release(&r);
  /* /metrics counts what happened */
  assert_int_equal(get(e, &r, "/metrics", e->admin), 200);
  assert_non_null(strstr(r.body, "# TYPE"));
  hresp_release(&r);
}

/* The same changes, pushed in two orders to two servers, give the same
 * records (stamps compared with each server's device ids named alike);
 * the overwritten values are in the conflict log. */
static unsigned lcg(unsigned *x) {
  *x = *x * 1103515245u + 12345u;
  return (*x >> 8) & 0xffffffu;
}

static void add_admin(env *e, char *token, size_t tsz, char *id, size_t isz) {
  char out[1024];
  const char *ta[] = {"token", "add", "--role", "admin", NULL};
  assert_int_equal(run(e, out, sizeof out, ta), 0);
  grab(out, "token: ", token, tsz);
  grab(out, "token id: ", id, isz);
}

/* Replace every occurrence of from by to in s (in place; to not longer). */
static void replace_all(char *s, const char *from, const char *to) {
  size_t fl = strlen(from), tl = strlen(to);
  char *p;
  while ((p = strstr(s, from))) {
    memmove(p + tl, p + fl, strlen(p + fl) + 1);
    for (size_t i = 0; i < tl; i++)
      p[i] = to[i];
  }
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every record state of e, device ids renamed, sorted, one string. */
static char *all_states(env *e, const char *admin, const char *admin_id) {
  hresp r;
  assert_int_equal(get(e, &r, "/v1/pull?since=0&limit=5000", admin), 200);
  const cJSON *ch = cJSON_GetObjectItem(r.json, "changes"), *it;
  int n = cJSON_GetArraySize(ch), k = 0;
  char **v = calloc((size_t)n + 1, sizeof *v);
  size_t total = 1;
  cJSON_ArrayForEach(it, ch) {
    if (strcmp(jstr(it, "type"), "survey") != 0)
      continue; /* the offices were imported at different times */
    v[k] = cJSON_PrintUnformatted(it);
    replace_all(v[k], e->dev_a_id, "DEV-A");
    replace_all(v[k], admin_id, "ADMIN");
    total += strlen(v[k]) + 1;
    k++;
  }
  qsort(v, (size_t)k, sizeof *v, cmp_str);
  char *all = malloc(total);
  all[0] = 0;
  for (int i = 0; i < k; i++) {
    strcat(all, v[i]);
    strcat(all, "\n");
    free(v[i]);
  }
  free(v);
  hresp_release(&r);
  return all;
}

static void test_order_independence(void **state) {
  env *e1 = *state, *e2 = env_new();
  enum { NREC = 5, NEDIT = 80 };
  char *ch[NREC + NEDIT];
  int dev[NREC + NEDIT]; /* 0: device A, 1: admin */
  unsigned x = 3;
  for (int i = 0; i < NREC; i++) {
    ch[i] = survey(i + 1, 9000 + i, "36.73.01", T0 - 100000, 3);
    dev[i] = 0;
  }
  for (int i = NREC; i < NREC + NEDIT; i++) {
    ch[i] = malloc(512);
    unsigned long long h = KJ_HLC_MAKE(T0 + (unsigned long long)i * 13 % 997, 0);
    int rec = 9000 + (int)(lcg(&x) % NREC);
    if (lcg(&x) % 12 == 0)
      snprintf(ch[i], 512,
               "{\"seq\":%d,\"id\":\"01900000-0000-7000-8000-%012d\",\"type\":\"survey\","
               "\"hlc\":\"%llu\",\"del\":true}",
               i + 1, rec, h);
    else
      snprintf(ch[i], 512,
               "{\"seq\":%d,\"id\":\"01900000-0000-7000-8000-%012d\",\"type\":\"survey\","
               "\"hlc\":\"%llu\",\"f\":{\"u%u\":\"%u\",\"service\":\"S%u\"}}",
               i + 1, rec, h, lcg(&x) % 9 + 1, lcg(&x) % 4 + 1, lcg(&x) % 3);
    dev[i] = (int)(lcg(&x) % 2);
  }
  char adm1[80], adm1_id[40], adm2[80], adm2_id[40];
  add_admin(e1, adm1, sizeof adm1, adm1_id, sizeof adm1_id);
  add_admin(e2, adm2, sizeof adm2, adm2_id, sizeof adm2_id);
  /* e1: in order, batches per device; e2: creates, then edits shuffled, one by one */
  int order[NREC + NEDIT];
  for (int i = 0; i < NREC + NEDIT; i++)
    order[i] = i;
  for (int pass = 0; pass < 2; pass++) {
    env *e = pass ? e2 : e1;
    const char *adm = pass ? adm2 : adm1;
    if (pass)
      for (int i = NREC + NEDIT - 1; i > NREC; i--) {
        int j = NREC + (int)(lcg(&x) % (unsigned)(i - NREC + 1)), t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
    int step = pass ? 1 : 10;
    for (int i = 0; i < NREC + NEDIT; i += step) {
      for (int d = 0; d < 2; d++) {
        char body[65536];
        int o = snprintf(body, sizeof body, "{\"device_time\":%llu,\"changes\":[",
                         (unsigned long long)kj_wall_ms()),
            n = 0;
        for (int k = i; k < i + step && k < NREC + NEDIT; k++)
          if (dev[order[k]] == d)
            o += snprintf(body + o, sizeof body - (size_t)o, "%s%s", n++ ? "," : "", ch[order[k]]);
        if (!n)
          continue;
        snprintf(body + o, sizeof body - (size_t)o, "]}");
        hresp r;
        assert_int_equal(post(e, &r, "/v1/push", d ? adm : e->dev_a, body), 200);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "results"))
            assert_string_not_equal(jstr(it, "status"), "rejected");
        hresp_release(&r);
      }
    }
  }
  char *s1 = all_states(e1, adm1, adm1_id), *s2 = all_states(e2, adm2, adm2_id);
  assert_true(strlen(s1) > 100);
  assert_string_equal(s1, s2);
  free(s1);
  free(s2);
  for (int i = 0; i < NREC + NEDIT; i++)
    free(ch[i]);
  /* the values that lost are in the conflict log, listed while serve runs */
  char out[1 << 16];
  const char *cf[] = {"conflicts", "--json", NULL};
  assert_int_equal(run(e1, out, sizeof out, cf), 0);
  cJSON *arr = cJSON_Parse(out);
  assert_true(cJSON_GetArraySize(arr) > 0);
  const cJSON *c0 = cJSON_GetArrayItem(arr, 0);
  assert_string_equal(jstr(c0, "type"), "survey");
  assert_non_null(strstr(jstr(c0, "loser_stamp"), "/"));
  cJSON_Delete(arr);
}

/* Four devices' worth of pushes at once, and an import from the command
 * line at the same time: no error, no lost change. */
typedef struct pusher {
  env *e;
  int base; /* first id number */
  int ok;   /* batches answered 200 with every change applied */
} pusher;

enum { CONC_THREADS = 4, CONC_BATCHES = 10, CONC_SIZE = 200 };

static void *push_many(void *ud) {
  pusher *p = ud;
  env one = *p->e; /* own curl handle */
  one.curl = curl_easy_init();
  size_t cap = (size_t)CONC_SIZE * 1100 + 128;
  char *body = malloc(cap);
  for (int b = 0; b < CONC_BATCHES; b++) {
    int o = snprintf(body, cap, "{\"device_time\":%llu,\"changes\":[",
                     (unsigned long long)kj_wall_ms());
    for (int i = 0; i < CONC_SIZE; i++) {
      int n = p->base + b * CONC_SIZE + i;
      char *sv = survey(n, n, "36.73.01", T0, 1 + i % 4);
      o += snprintf(body + o, cap - (size_t)o, "%s%s", i ? "," : "", sv);
      free(sv);
    }
    snprintf(body + o, cap - (size_t)o, "]}");
    hresp r;
    if (req(&one, &r, "POST", "/v1/push", one.dev_a, body, strlen(body), 0) == 0 &&
        r.status == 200) {
      int good = 1;
      const cJSON *it;
      cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "results")) good &=
          !strcmp(jstr(it, "status"), "applied");
      p->ok += good;
    }
    hresp_release(&r);
  }
  free(body);
  curl_easy_cleanup(one.curl);
  return NULL;
}

static void test_concurrent(void **state) {
  env *e = *state;
  char csv[300];
  snprintf(csv, sizeof csv, "%s/imp.csv", e->dir);
  FILE *f = fopen(csv, "w");
  assert_non_null(f);
  fputs("id,office,date,service,u1,u2,u3,u4,u5,u6,u7,u8,u9,age,sex,education,occupation,comment\n",
        f);
  for (int i = 0; i < 3000; i++)
    fprintf(f, ",36.73.02,2026-03-%02d,KTP-el,%d,3,3,3,3,3,3,3,3,,,,,\n", 1 + i % 28, 1 + i % 4);
  fclose(f);
  pthread_t th[CONC_THREADS];
  pusher ps[CONC_THREADS];
  for (int i = 0; i < CONC_THREADS; i++) {
    ps[i] = (pusher){e, 100000 * (i + 1), 0};
    assert_int_equal(pthread_create(&th[i], NULL, push_many, &ps[i]), 0);
  }
  char out[4096];
  const char *imp[] = {"import", "survey", csv, NULL};
  assert_int_equal(run(e, out, sizeof out, imp), 0);
  assert_non_null(strstr(out, "imported 3000 rows from"));
  for (int i = 0; i < CONC_THREADS; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(ps[i].ok, CONC_BATCHES);
  }
  /* everything is there: the admin pulls it all */
  char admin_id[40], admin[80];
  add_admin(e, admin, sizeof admin, admin_id, sizeof admin_id);
  long long total = 0;
  char path[96] = "/v1/pull?since=0&limit=5000";
  for (;;) {
    hresp r;
    assert_int_equal(get(e, &r, path, admin), 200);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "changes")) total +=
        !strcmp(jstr(it, "type"), "survey");
    int more = cJSON_IsTrue(cJSON_GetObjectItem(r.json, "more"));
    snprintf(path, sizeof path, "/v1/pull?since=%s&limit=5000", jstr(r.json, "next"));
    hresp_release(&r);
    if (!more)
      break;
  }
  assert_int_equal(total, 3000 + CONC_THREADS * CONC_BATCHES * CONC_SIZE);
}

/* SIGTERM while batches are being pushed: the server exits 0 and every
 * change it acknowledged is in the database. */
typedef struct killer {
  pid_t pid;
  int ms;
} killer;

static void *kill_later(void *ud) {
  killer *k = ud;
  usleep((useconds_t)k->ms * 1000);
  kill(k->pid, SIGTERM);
  return NULL;
}

static void test_sigterm_during_push(void **state) {
  env *e = *state;
  enum { BATCH = 400, MAXB = 200 };
  static int acked[BATCH * MAXB];
  int nacked = 0, nb = 0;
  killer k = {e->pid, 700};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, kill_later, &k), 0);
  size_t cap = (size_t)BATCH * 1100 + 128;
  char *body = malloc(cap);
  for (nb = 0; nb < MAXB; nb++) {
    int o = snprintf(body, cap, "{\"device_time\":%llu,\"changes\":[",
                     (unsigned long long)kj_wall_ms());
    for (int i = 0; i < BATCH; i++) {
      int n = 1000 + nb * BATCH + i;
      char *s = survey(n, n, "36.73.01", T0, 1 + i % 4);
      o += snprintf(body + o, cap - (size_t)o, "%s%s", i ? "," : "", s);
      free(s);
    }
    snprintf(body + o, cap - (size_t)o, "]}");
    hresp r;
    int rc = req(e, &r, "POST", "/v1/push", e->dev_a, body, strlen(body), 0);
    if (rc != 0 || r.status != 200) {
      hresp_release(&r);
      break; /* the server is gone or going */
    }
    const cJSON *it;
    int i = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(r.json, "results")) {
      assert_string_equal(jstr(it, "status"), "applied");
      acked[nacked++] = 1000 + nb * BATCH + i++;
    }
    hresp_release(&r);
  }
  free(body);
  pthread_join(th, NULL);
  assert_true(nb < MAXB); /* the server did stop */
  assert_int_equal(serve_stop(e), 0);
  assert_true(nacked > 0);
  /* every acknowledged change is there */
  kjs_store *st;
  kj_err er;
  kj_err_clear(&er);
  char db[300];
  snprintf(db, sizeof db, "%s/kinerjad.db", e->dir);
  assert_int_equal(kjs_store_open(&st, e->store[0] ? e->store : db, NULL, 0, &er), KJ_OK);
  for (int i = 0; i < nacked; i++) {
    char id[40], *js = NULL;
    snprintf(id, sizeof id, "01900000-0000-7000-8000-%012d", acked[i]);
    if (kjs_store_get_state(st, KJ_T_SURVEY, id, &js, &er) != KJ_OK)
      fail_msg("acknowledged change %s is missing after SIGTERM", id);
    free(js);
  }
  kjs_store_close(st);
  fprintf(stderr, "# %d batches of %d acknowledged before SIGTERM, all present\n", nacked / BATCH,
          BATCH);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  signal(SIGPIPE, SIG_IGN);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_push_pull_replay, setup, teardown),
      cmocka_unit_test_setup_teardown(test_revoke_live, setup, teardown),
      cmocka_unit_test_setup_teardown(test_more_routes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_order_independence, setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sigterm_during_push, setup, teardown),
  };
  /* the group teardown also cleans up after a setup that failed */
  int rc = cmocka_run_group_tests(tests, NULL, teardown);
  curl_global_cleanup();
  return rc;
}
