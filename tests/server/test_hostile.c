/* test_hostile.c - hostile JSON over the real TLS socket against the real
 * kinerjad (issue 8 pt 2; test_net covers the HTTP-level cases: truncated
 * requests, header limits, Content-Length lies, chunked sizes, 413 bodies,
 * slowloris, stalled handshakes, plain HTTP on the TLS port).  Each case
 * gets its documented answer, /healthz answers after each, and the
 * server's VmRSS comes back near its baseline at the end. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "hlc.h"

#ifndef KINERJAD_BIN
#error "KINERJAD_BIN must name the kinerjad binary"
#endif

typedef struct env {
  char dir[256], cert[300], base[64];
  char dev_a[80], admin[80];
  pid_t pid;
  int out_fd;
  CURL *curl;
} env;

static env g;

static int run(char *out, size_t size, const char *const *args) {
  int p[2];
  if (pipe(p) != 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    const char *argv[32];
    int n = 0;
    argv[n++] = KINERJAD_BIN;
    argv[n++] = "--data";
    argv[n++] = g.dir;
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
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int grab(const char *text, const char *prefix, char *out, size_t size) {
  const char *p = strstr(text, prefix);
  if (!p)
    return -1;
  p += strlen(prefix);
  size_t n = strcspn(p, "\r\n");
  if (n >= size)
    return -1;
  memcpy(out, p, n);
  out[n] = 0;
  return 0;
}

static void stop(void) {
  if (g.pid > 0) {
    kill(g.pid, SIGKILL);
    waitpid(g.pid, NULL, 0);
    close(g.out_fd);
    g.pid = 0;
  }
  curl_easy_cleanup(g.curl);
  g.curl = NULL;
  if (g.dir[0]) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g.dir);
    if (system(cmd) != 0)
      fprintf(stderr, "cannot remove %s\n", g.dir);
    g.dir[0] = 0;
  }
}

static int group_teardown(void **state) {
  (void)state;
  stop();
  return 0;
}

static int group_setup(void **state) {
  (void)state;
  snprintf(g.dir, sizeof g.dir, "/tmp/kjs-hostile-XXXXXX");
  if (!mkdtemp(g.dir))
    return -1;
  rmdir(g.dir);
  snprintf(g.cert, sizeof g.cert, "%s/cert.pem", g.dir);
  char out[4096];
  const char *init[] = {"init", NULL};
  const char *adda[] = {"device", "add", "--office", "36.73.01", NULL};
  if (run(out, sizeof out, init) != 0 || grab(out, "admin token: ", g.admin, sizeof g.admin))
    return -1;
  if (run(out, sizeof out, adda) != 0 || grab(out, "device token: ", g.dev_a, sizeof g.dev_a))
    return -1;
  char f[512];
  const char *data = getenv("KJ_TEST_DATA");
  snprintf(f, sizeof f, "%s/server/offices.csv", data ? data : KJ_TEST_DATA_DIR);
  const char *imp[] = {"import", "office", f, NULL};
  if (run(out, sizeof out, imp) != 0)
    return -1;
  int p[2];
  if (pipe(p) != 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0 && !getenv("KJ_TEST_VERBOSE"))
      dup2(devnull, 2);
    execl(KINERJAD_BIN, KINERJAD_BIN, "--data", g.dir, "serve", "--listen", "127.0.0.1:0",
          (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  g.pid = pid;
  g.out_fd = p[0];
  char line[256] = {0};
  size_t len = 0;
  time_t until = time(NULL) + 20;
  while (!memchr(line, '\n', len) && time(NULL) < until && len < sizeof line - 1) {
    ssize_t r = read(p[0], line + len, sizeof line - 1 - len);
    if (r <= 0)
      break;
    len += (size_t)r;
  }
  const char *u = strstr(line, "https://");
  if (!u) {
    stop();
    return -1;
  }
  snprintf(g.base, sizeof g.base, "%.*s", (int)strcspn(u, "\r\n"), u);
  g.curl = curl_easy_init();
  return g.curl ? 0 : -1;
}

typedef struct hresp {
  long status;
  char *body;
  size_t len;
  cJSON *json;
} hresp;

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

/* A request over TLS; the status (0 when no answer came). */
static long req(hresp *r, const char *method, const char *path, const char *body, size_t len) {
  memset(r, 0, sizeof *r);
  CURL *c = g.curl;
  curl_easy_reset(c);
  char url[512], auth[128];
  snprintf(url, sizeof url, "%s%s", g.base, path);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CAINFO, g.cert);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  struct curl_slist *h = NULL;
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", g.dev_a);
  h = curl_slist_append(h, auth);
  if (body) {
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  }
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(h);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    r->json = r->body ? cJSON_Parse(r->body) : NULL;
  }
  return r->status;
}

static void healthz(void) {
  hresp r;
  assert_int_equal(req(&r, "GET", "/healthz", NULL, 0), 200);
  hresp_release(&r);
}

static long push_raw(hresp *r, const char *body, size_t len) {
  return req(r, "POST", "/v1/push", body, len);
}

/* Push one change text; the status of its result ("applied", "rejected")
 * or, when the whole request failed, "HTTP nnn". */
static const char *push_one(const char *change, char *msg, size_t msz) {
  static char st[32];
  char *body = malloc(strlen(change) + 128);
  sprintf(body, "{\"device_time\":%llu,\"changes\":[%s]}", (unsigned long long)kj_wall_ms(),
          change);
  hresp r;
  long code = push_raw(&r, body, strlen(body));
  free(body);
  msg[0] = 0;
  snprintf(st, sizeof st, "HTTP %ld", code);
  const cJSON *res = cJSON_GetObjectItemCaseSensitive(r.json, "results");
  if (code == 200 && cJSON_GetArraySize(res) == 1) {
    const cJSON *x = cJSON_GetArrayItem(res, 0);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(x, "status");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(x, "error");
    snprintf(st, sizeof st, "%s", cJSON_IsString(s) ? s->valuestring : "?");
    if (cJSON_IsString(e))
      snprintf(msg, msz, "%s", e->valuestring);
  } else if (r.body) {
    snprintf(msg, msz, "%s", r.body);
  }
  hresp_release(&r);
  healthz();
  return st;
}

static char g_id[40];
static const char *new_id(void) {
  static int n;
  snprintf(g_id, sizeof g_id, "01900000-0000-7000-8000-%012d", ++n);
  return g_id;
}

static char *survey(long long seq, const char *id, const char *office, const char *extra) {
  char *s = malloc(2048 + strlen(extra));
  sprintf(s,
          "{\"seq\":%lld,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\","
          "\"f\":{\"office\":\"%s\",\"date\":\"2026-02-03\",\"service\":\"KTP-el\",\"u1\":\"4\","
          "\"u2\":\"3\",\"u3\":\"3\",\"u4\":\"4\",\"u5\":\"3\",\"u6\":\"3\",\"u7\":\"2\","
          "\"u8\":\"3\",\"u9\":\"4\"%s}}",
          seq, id, (unsigned long long)KJ_HLC_MAKE(kj_wall_ms(), 0), office, extra);
  return s;
}

static long long g_seq = 1;

#define EXPECT(change, want)                                                                   \
  do {                                                                                         \
    char m_[1024];                                                                             \
    const char *s_ = push_one(change, m_, sizeof m_);                                          \
    fprintf(stderr, "# %s -> %s %s\n", #want, s_, m_);                                         \
    assert_string_equal(s_, want);                                                             \
  } while (0)

static void test_deep_nesting(void **state) {
  (void)state;
  size_t n = 100000;
  char *b = malloc(2 * n + 64);
  size_t k = (size_t)sprintf(b, "{\"device_time\":1,\"changes\":");
  memset(b + k, '[', n);
  memset(b + k + n, ']', n);
  b[k + 2 * n] = '}';
  hresp r;
  assert_int_equal(push_raw(&r, b, k + 2 * n + 1), 400);
  hresp_release(&r);
  free(b);
  healthz();
}

static void test_bad_json_values(void **state) {
  (void)state;
  char *c;
  /* duplicate keys: cJSON keeps the first; the change is applied or rejected, never a 5xx */
  char dup[2048];
  c = survey(g_seq++, new_id(), "36.73.01", ",\"u1\":\"9\"");
  snprintf(dup, sizeof dup, "%s", c);
  free(c);
  char m[1024];
  const char *s = push_one(dup, m, sizeof m);
  assert_true(!strcmp(s, "applied") || !strcmp(s, "rejected"));
  /* numbers: 1e999 as device_time is 400; -0 as seq */
  hresp r;
  assert_int_equal(push_raw(&r, "{\"device_time\":1e999,\"changes\":[]}", 34), 400);
  hresp_release(&r);
  assert_int_equal(push_raw(&r, "{\"device_time\":-0,\"changes\":[]}", 31), 200);
  hresp_release(&r);
  healthz();
  /* a number where a string goes */
  c = survey(g_seq++, new_id(), "36.73.01", ",\"age\":30");
  EXPECT(c, "rejected");
  free(c);
  /* NUL byte in a string: cJSON would cut the string there, so the
   * whole request is refused */
  c = survey(g_seq++, new_id(), "36.73.01", ",\"comment\":\"a\\u0000b\"");
  EXPECT(c, "HTTP 400");
  free(c);
  /* an escaped backslash before u0000 is ordinary text */
  c = survey(g_seq++, new_id(), "36.73.01", ",\"comment\":\"a\\\\u0000b\"");
  EXPECT(c, "applied");
  free(c);
  /* unknown record type */
  char u[512];
  snprintf(u, sizeof u,
           "{\"seq\":%lld,\"id\":\"%s\",\"type\":\"salary\",\"hlc\":\"%llu\",\"f\":{}}", g_seq++,
           new_id(), (unsigned long long)KJ_HLC_MAKE(kj_wall_ms(), 0));
  EXPECT(u, "rejected");
  /* an id that is not a UUID */
  c = survey(g_seq++, "../../etc/passwd", "36.73.01", "");
  EXPECT(c, "rejected");
  free(c);
  /* a record for another office */
  c = survey(g_seq++, new_id(), "36.73.02", "");
  EXPECT(c, "rejected");
  free(c);
  /* invalid UTF-8 in a value */
  c = survey(g_seq++, new_id(), "36.73.01", ",\"comment\":\"\xc3\x28 \xff\"");
  EXPECT(c, "rejected");
  free(c);
}

static void test_sql_verbatim(void **state) {
  (void)state;
  const char *evil = "x'); DROP TABLE records;-- \\\"%_*? OR 1=1; /*";
  char extra[256], id[40];
  snprintf(extra, sizeof extra, ",\"comment\":\"%s\"", evil);
  snprintf(id, sizeof id, "%s", new_id());
  char *c = survey(g_seq++, id, "36.73.01", extra);
  EXPECT(c, "applied");
  free(c);
  /* pull it back: the same text */
  int found = 0;
  char path[128] = "/v1/pull?since=0&limit=5000";
  for (int page = 0; page < 50 && !found; page++) {
    hresp r;
    assert_int_equal(req(&r, "GET", path, NULL, 0), 200);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(r.json, "changes")) {
      const cJSON *i = cJSON_GetObjectItemCaseSensitive(it, "id");
      if (cJSON_IsString(i) && !strcmp(i->valuestring, id)) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(it, "f");
        const cJSON *cm = cJSON_GetObjectItemCaseSensitive(f, "comment");
        assert_true(cJSON_IsString(cm));
        assert_string_equal(cm->valuestring, "x'); DROP TABLE records;-- \"%_*? OR 1=1; /*");
        found = 1;
      }
    }
    const cJSON *more = cJSON_GetObjectItemCaseSensitive(r.json, "more");
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(r.json, "next");
    int again = cJSON_IsTrue(more) && cJSON_IsString(next);
    if (again)
      snprintf(path, sizeof path, "/v1/pull?since=%s&limit=5000", next->valuestring);
    hresp_release(&r);
    if (!again)
      break;
  }
  assert_true(found);
}

static long rss_kb(void) {
  char p[64], line[256];
  snprintf(p, sizeof p, "/proc/%d/status", (int)g.pid);
  FILE *f = fopen(p, "r");
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "VmRSS:", 6))
      kb = atol(line + 6);
  if (f)
    fclose(f);
  return kb;
}

/* a batch of 1,000,000 records: over the body limit (413) or the batch
 * limit, answered fast, and the server's memory comes back */
static void test_million_batch(void **state) {
  (void)state;
  long base = rss_kb();
  const char *one = "{\"seq\":1,\"id\":\"01900000-0000-7000-8000-000000000001\",\"type\":\"survey\","
                    "\"hlc\":\"1\",\"del\":true}";
  size_t ol = strlen(one), n = 1000000;
  char *b = malloc(n * (ol + 1) + 64);
  size_t k = (size_t)sprintf(b, "{\"device_time\":1,\"changes\":[");
  for (size_t i = 0; i < n; i++) {
    memcpy(b + k, one, ol);
    k += ol;
    b[k++] = i + 1 < n ? ',' : ']';
  }
  b[k++] = '}';
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  hresp r;
  long code = push_raw(&r, b, k);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  fprintf(stderr, "# 1,000,000-record batch (%zu bytes): %ld in %.2f s\n", k, code, secs);
  assert_true(code == 413 || code == 400);
  assert_true(secs < 20);
  hresp_release(&r);
  free(b);
  healthz();
  /* a batch just over the batch limit but under the body limit */
  char *c = survey(1, "01900000-0000-7000-8000-000000000001", "36.73.01", "");
  size_t cl = strlen(c), m = 5001;
  b = malloc(m * (cl + 1) + 64);
  k = (size_t)sprintf(b, "{\"device_time\":1,\"changes\":[");
  for (size_t i = 0; i < m; i++) {
    memcpy(b + k, c, cl);
    k += cl;
    b[k++] = i + 1 < m ? ',' : ']';
  }
  b[k++] = '}';
  free(c);
  code = push_raw(&r, b, k);
  fprintf(stderr, "# 5,001-change batch (%zu bytes): %ld\n", k, code);
  assert_int_equal(code, 413);
  hresp_release(&r);
  free(b);
  healthz();
  long after = rss_kb();
  fprintf(stderr, "# server VmRSS: %ld kB before, %ld kB after\n", base, after);
  assert_true(base > 0 && after > 0);
  assert_true(after < base + 64 * 1024); /* within 64 MiB of the baseline */
}

int main(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_deep_nesting),
      cmocka_unit_test(test_bad_json_values),
      cmocka_unit_test(test_sql_verbatim),
      cmocka_unit_test(test_million_batch),
  };
  int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
  curl_global_cleanup();
  return rc;
}
