/* syncenv.c - see syncenv.h. */
#define _GNU_SOURCE /* unshare */
#include "syncenv.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kjt.h"
#ifdef KJT_PG /* tests/client/CMakeLists.txt: linked with pgtest.c and libpq */
#include "pgtest.h"
#endif

#ifndef KINERJA_BIN
#error "KINERJA_BIN must name the kinerja binary"
#endif
#ifndef KINERJAD_BIN
#error "KINERJAD_BIN must name the kinerjad binary"
#endif
#ifndef CUTPROXY_BIN
#error "CUTPROXY_BIN must name the cutproxy tool"
#endif

/* every child of every env, for syncenv_free */
#define MAXKIDS 64
static pid_t kids[MAXKIDS];

static void kid_add(pid_t p) {
  for (int i = 0; i < MAXKIDS; i++)
    if (kids[i] <= 0) {
      kids[i] = p;
      return;
    }
}
static void kid_del(pid_t p) {
  for (int i = 0; i < MAXKIDS; i++)
    if (kids[i] == p)
      kids[i] = 0;
}

static char *slurp_fd(int fd) {
  size_t cap = 4096, len = 0;
  char *b = malloc(cap);
  assert_non_null(b);
  ssize_t r;
  while ((r = read(fd, b + len, cap - 1 - len)) > 0) {
    len += (size_t)r;
    if (len + 1 == cap) {
      cap *= 2;
      b = realloc(b, cap);
      assert_non_null(b);
    }
  }
  b[len] = 0;
  return b;
}

static int status_of(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* In the child before exec: the KJT_* entries of syncenv.h.  1 when the
 * entry was one of them (not put into the environment). */
static int child_special(const char *kv) {
  if (!strncmp(kv, "KJT_STDIN=", 10)) {
    int in[2];
    if (pipe(in) != 0)
      _exit(126);
    const char *t = kv + 10;
    if (write(in[1], t, strlen(t)) != (ssize_t)strlen(t))
      _exit(126);
    close(in[1]);
    dup2(in[0], 0);
    close(in[0]);
    return 1;
  }
  if (!strncmp(kv, "KJT_UMASK=", 10)) {
    umask((mode_t)strtol(kv + 10, NULL, 8));
    return 1;
  }
  if (!strncmp(kv, "KJT_BIND_CERTS=", 15)) {
    /* a private mount namespace whose /etc/ssl/certs is the test's folder:
     * the system store as libcurl's built-in defaults name it */
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount(kv + 15, "/etc/ssl/certs", NULL, MS_BIND, NULL) != 0)
      _exit(SYNCENV_NO_NAMESPACE);
    return 1;
  }
  return 0;
}

/* fork+exec argv with env additions, stdout/stderr captured when asked. */
static int run(const char *const *argv, const char *const *env, char **out, char **err) {
  char ef[] = "/tmp/kjt-err-XXXXXX";
  int efd = mkstemp(ef);
  assert_true(efd >= 0);
  unlink(ef);
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(p[1], 1);
    dup2(efd, 2);
    close(p[0]);
    close(p[1]);
    for (int i = 0; env && env[i]; i++)
      if (child_special(env[i]) == 0)
        putenv((char *)env[i]);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  kid_add(pid);
  close(p[1]);
  char *o = slurp_fd(p[0]);
  close(p[0]);
  int st;
  waitpid(pid, &st, 0);
  kid_del(pid);
  lseek(efd, 0, SEEK_SET);
  char *e = slurp_fd(efd);
  close(efd);
  if (out)
    *out = o;
  else
    free(o);
  if (err)
    *err = e;
  else {
    if (getenv("KJ_TEST_VERBOSE") && e[0])
      fprintf(stderr, "[%s] %s", argv[0], e);
    free(e);
  }
  return status_of(st);
}

int syncenv_kinerja(const char *db, const char *const *env, char **out, char **err,
                    const char *const *args) {
  const char *argv[40];
  int n = 0;
  argv[n++] = KINERJA_BIN;
  if (db) {
    argv[n++] = "--db";
    argv[n++] = db;
  }
  for (int i = 0; args[i] && n < 39; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  return run(argv, env, out, err);
}

int syncenv_admin(syncenv *e, char *out, size_t size, const char *const *args) {
  return syncenv_admin_env(e, NULL, out, size, args);
}

int syncenv_admin_env(syncenv *e, const char *const *env, char *out, size_t size,
                      const char *const *args) {
  const char *argv[40];
  int n = 0;
  argv[n++] = KINERJAD_BIN;
  argv[n++] = "--data";
  argv[n++] = e->data;
  for (int i = 0; args[i] && n < 39; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  char *o = NULL;
  int st = run(argv, env, &o, NULL);
  if (out) {
    snprintf(out, size, "%s", o);
  }
  free(o);
  return st;
}

static void grab(const char *text, const char *prefix, char *out, size_t size) {
  const char *p = strstr(text, prefix);
  assert_non_null(p);
  p += strlen(prefix);
  size_t n = strcspn(p, "\r\n");
  assert_true(n < size);
  memcpy(out, p, n);
  out[n] = 0;
}

syncenv *syncenv_new(void) {
  syncenv *e = calloc(1, sizeof *e);
  assert_non_null(e);
  e->dir = kjt_tmpdir();
  snprintf(e->data, sizeof e->data, "%s/srv", e->dir);
  snprintf(e->cert, sizeof e->cert, "%s/cert.pem", e->data);
  char out[4096];
#ifdef KJT_PG
  const char *store = getenv("KJ_TEST_STORE");
  if (store && !strcmp(store, "postgresql")) {
    static int n;
    char name[32], url[1200];
    snprintf(name, sizeof name, "kjt_sync%d", n++);
    PQfinish(kjt_pg_fresh_db(name, e->pg_db, sizeof e->pg_db));
    snprintf(url, sizeof url, "%s&dbname=%s", kjt_pg_url(), e->pg_db);
    assert_int_equal(
        syncenv_admin(e, out, sizeof out, (const char *const[]){"init", "--store", url, NULL}), 0);
  } else
#endif
  {
    assert_int_equal(syncenv_admin(e, out, sizeof out, (const char *const[]){"init", NULL}), 0);
  }
  grab(out, "admin token: ", e->admin, sizeof e->admin);
  const char *data = getenv("KJ_TEST_DATA");
  assert_non_null(data);
  static const char *const types[][2] = {
      {"office", "offices"}, {"employee", "employees"}, {"indicator", "indicators"}};
  for (int i = 0; i < 3; i++) {
    char f[600];
    snprintf(f, sizeof f, "%s/server/%s.csv", data, types[i][1]);
    assert_int_equal(
        syncenv_admin(e, out, sizeof out, (const char *const[]){"import", types[i][0], f, NULL}),
        0);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  return e;
}

static void kill_wait(pid_t p, int sig) {
  if (p <= 0)
    return;
  kill(p, sig);
  int st;
  for (int i = 0; i < 300; i++) {
    if (waitpid(p, &st, WNOHANG) == p) {
      kid_del(p);
      return;
    }
    usleep(100000);
  }
  kill(p, SIGKILL);
  waitpid(p, &st, 0);
  kid_del(p);
}

void syncenv_free(syncenv *e) {
  for (int i = 0; i < MAXKIDS; i++)
    if (kids[i] > 0) {
      kill(kids[i], SIGKILL);
      waitpid(kids[i], NULL, 0);
      kids[i] = 0;
    }
  if (!e)
    return;
#ifdef KJT_PG
  if (e->pg_db[0])
    kjt_pg_drop_db(e->pg_db);
#endif
  kjt_rmdir(e->dir);
  free(e);
}

void syncenv_device(syncenv *e, const char *office, char tok[128], char id[64]) {
  char out[4096], name[32];
  snprintf(name, sizeof name, "pc%d", ++e->ndev);
  assert_int_equal(syncenv_admin(e, out, sizeof out,
                                 (const char *const[]){"device", "add", "--office", office,
                                                       "--name", name, NULL}),
                   0);
  grab(out, "device token: ", tok, 128);
  if (id)
    grab(out, "device id: ", id, 64);
}

void syncenv_start(syncenv *e, int port) {
  syncenv_start_env(e, port, NULL);
}

void syncenv_start_env(syncenv *e, int port, const char *const *env) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  char listen[64], errf[700];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
  snprintf(errf, sizeof errf, "%s/serve.log", e->dir);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    int fd = open(errf, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0)
      dup2(fd, 2);
    for (int i = 0; env && env[i]; i++)
      putenv((char *)env[i]);
    execl(KINERJAD_BIN, KINERJAD_BIN, "--data", e->data, "serve", "--listen", listen, (char *)NULL);
    _exit(127);
  }
  kid_add(pid);
  close(p[1]);
  e->srv = pid;
  char line[256];
  size_t len = 0;
  time_t until = time(NULL) + 20;
  while (!memchr(line, '\n', len) && time(NULL) < until && len < sizeof line - 1) {
    ssize_t r = read(p[0], line + len, sizeof line - 1 - len);
    if (r <= 0)
      break;
    len += (size_t)r;
  }
  line[len] = 0;
  close(p[0]);
  const char *u = strstr(line, "listening on https://127.0.0.1:");
  assert_non_null(u);
  e->port = atoi(u + strlen("listening on https://127.0.0.1:"));
  assert_true(e->port > 0);
  snprintf(e->url, sizeof e->url, "https://%s:%d", kjt_tls_host(), e->port);
}

void syncenv_stop(syncenv *e, int sig) {
  kill_wait(e->srv, sig);
  e->srv = 0;
}

void syncenv_proxy(syncenv *e, int cut, long max, unsigned seed) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  char to[16], c[16], m[32], s[16];
  snprintf(to, sizeof to, "%d", e->port);
  snprintf(c, sizeof c, "%d", cut);
  snprintf(m, sizeof m, "%ld", max);
  snprintf(s, sizeof s, "%u", seed);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    execl(CUTPROXY_BIN, CUTPROXY_BIN, "--to", to, "--cut", c, "--max", m, "--seed", s,
          (char *)NULL);
    _exit(127);
  }
  kid_add(pid);
  close(p[1]);
  e->proxy = pid;
  char line[128];
  ssize_t r = read(p[0], line, sizeof line - 1);
  close(p[0]);
  assert_true(r > 0);
  line[r] = 0;
  assert_non_null(strstr(line, "listening on "));
  e->proxy_port = atoi(line + strlen("listening on "));
  snprintf(e->proxy_url, sizeof e->proxy_url, "https://%s:%d", kjt_tls_host(), e->proxy_port);
}

#ifdef LINKEM_BIN /* not in test_restore */
void syncenv_linkem(syncenv *e, const char *const *args) {
  int p[2];
  assert_int_equal(pipe(p), 0);
  char to[16];
  snprintf(to, sizeof to, "%d", e->port);
  const char *argv[32] = {LINKEM_BIN, "--to", to};
  int n = 3;
  for (int i = 0; args && args[i] && n < 31; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    execv(LINKEM_BIN, (char *const *)argv);
    _exit(127);
  }
  kid_add(pid);
  close(p[1]);
  e->proxy = pid;
  char line[128];
  ssize_t r = read(p[0], line, sizeof line - 1);
  e->proxy_out = p[0]; /* kept for its counters */
  assert_true(r > 0);
  line[r] = 0;
  assert_non_null(strstr(line, "listening on "));
  e->proxy_port = atoi(line + strlen("listening on "));
  snprintf(e->proxy_url, sizeof e->proxy_url, "https://%s:%d", kjt_tls_host(), e->proxy_port);
}

void syncenv_linkem_stats(syncenv *e, syncenv_link_stats *out) {
  memset(out, 0, sizeof *out);
  assert_true(e->proxy > 0 && e->proxy_out > 0);
  assert_int_equal(kill(e->proxy, SIGUSR1), 0);
  char line[256];
  size_t n = 0;
  while (n < sizeof line - 1) { /* one line, byte by byte: nothing read ahead */
    struct pollfd pf = {e->proxy_out, POLLIN, 0};
    assert_int_equal(poll(&pf, 1, 10000), 1);
    ssize_t r = read(e->proxy_out, line + n, 1);
    assert_int_equal(r, 1);
    if (line[n] == '\n')
      break;
    n++;
  }
  line[n] = 0;
  long long lost = 0, unsent_s2c = 0;
  assert_int_equal(sscanf(line,
                          "stats c2s %lld s2c %lld conns %lld cuts %lld lost %lld unsent_c2s %lld "
                          "unsent_s2c %lld",
                          &out->c2s, &out->s2c, &out->conns, &out->cuts, &lost, &out->unsent_c2s,
                          &unsent_s2c),
                   7);
}
#endif

void syncenv_proxy_stop(syncenv *e) {
  kill_wait(e->proxy, SIGTERM);
  e->proxy = 0;
  if (e->proxy_out > 0)
    close(e->proxy_out);
  e->proxy_out = 0;
}

const char *syncenv_client(syncenv *e, const char *name, const char *office, const char *url) {
  char tok[128];
  syncenv_device(e, office, tok, NULL);
  char db[700];
  snprintf(db, sizeof db, "%s/%s.db", e->dir, name);
  const char *path = kjt_path(e->dir, name);
  (void)path;
  assert_int_equal(
      KJ(db, "init", "--office", office, "--server", url, "--token", tok, "--ca", e->cert), 0);
  static char dbs[8][700];
  static int k;
  k = (k + 1) % 8;
  snprintf(dbs[k], sizeof dbs[k], "%s", db);
  return dbs[k];
}

pid_t syncenv_spawn(syncenv *e, const char *db, const char *const *env, const char *const *args) {
  char errf[700];
  snprintf(errf, sizeof errf, "%s/spawn.log", e->dir);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(errf, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int nul = open("/dev/null", O_WRONLY);
    if (fd >= 0)
      dup2(fd, 2);
    if (nul >= 0)
      dup2(nul, 1);
    for (int i = 0; env && env[i]; i++)
      putenv((char *)env[i]);
    const char *argv[40];
    int n = 0;
    argv[n++] = KINERJA_BIN;
    argv[n++] = "--db";
    argv[n++] = db;
    for (int i = 0; args[i] && n < 39; i++)
      argv[n++] = args[i];
    argv[n] = NULL;
    execv(KINERJA_BIN, (char *const *)argv);
    _exit(127);
  }
  kid_add(pid);
  return pid;
}

int syncenv_wait(pid_t pid) {
  int st;
  waitpid(pid, &st, 0);
  kid_del(pid);
  return status_of(st);
}

char *syncenv_export(const char *db) {
  static const char *const types[] = {"survey", "activity", "complaint", "rating", "target"};
  size_t cap = 1, len = 0;
  char *all = calloc(1, 1);
  for (int i = 0; i < 5; i++) {
    char *o = NULL;
    assert_int_equal(
        syncenv_kinerja(db, NULL, &o, NULL,
                        (const char *const[]){"export", types[i], "--format", "json", NULL}),
        0);
    size_t n = strlen(o);
    cap = len + n + strlen(types[i]) + 4;
    all = realloc(all, cap);
    assert_non_null(all);
    len += (size_t)sprintf(all + len, "%s:\n%s", types[i], o);
    free(o);
  }
  return all;
}

char *syncenv_server_view(syncenv *e, const char *office) {
  char name[32];
  snprintf(name, sizeof name, "view%d", e->ndev + 1);
  const char *db = syncenv_client(e, name, office, e->url);
  assert_int_equal(KJ(db, "sync"), 0);
  return syncenv_export(db);
}

int syncenv_sync_until_ok(const char *db, int tries) {
  int st = -1;
  for (int i = 0; i < tries; i++) {
    st = KJ(db, "sync");
    if (st == 0)
      break;
  }
  return st;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
  char **b = ud;
  size_t old = *b ? strlen(*b) : 0;
  *b = realloc(*b, old + sz * n + 1);
  memcpy(*b + old, p, sz * n);
  (*b)[old + sz * n] = 0;
  return sz * n;
}

static int admin_req(syncenv *e, const char *path, const char *post, char **body) {
  CURL *c = curl_easy_init();
  assert_non_null(c);
  char url[256], auth[200];
  snprintf(url, sizeof url, "%s%s", e->url, path);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", e->admin);
  struct curl_slist *h = curl_slist_append(NULL, auth);
  h = curl_slist_append(h, "Content-Type: application/json");
  *body = NULL;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CAINFO, e->cert);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
  if (post)
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  assert_int_equal(rc, CURLE_OK);
  if (!*body)
    *body = calloc(1, 1);
  return (int)status;
}

int syncenv_admin_push(syncenv *e, const char *change_json, char **answer) {
  char *body = malloc(strlen(change_json) + 128);
  assert_non_null(body);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  sprintf(body, "{\"device_time\":%lld,\"changes\":[%s]}",
          (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, change_json);
  int st = admin_req(e, "/v1/push", body, answer);
  free(body);
  return st;
}

int syncenv_admin_get(syncenv *e, const char *path, char **body) {
  return admin_req(e, path, NULL, body);
}

long syncenv_metric(syncenv *e, const char *status) {
  char *b = NULL;
  assert_int_equal(syncenv_admin_get(e, "/metrics", &b), 200);
  char key[96];
  snprintf(key, sizeof key, "kinerjad_records_total{status=\"%s\"} ", status);
  const char *p = strstr(b, key);
  long v = p ? atol(p + strlen(key)) : 0;
  free(b);
  return v;
}

char *syncenv_field(const char *db, const char *type, const char *id, const char *field) {
  (void)type;
  char *o = NULL;
  if (syncenv_kinerja(db, NULL, &o, NULL, (const char *const[]){"show", id, "--json", NULL})) {
    free(o);
    return NULL;
  }
  cJSON *d = cJSON_Parse(o);
  free(o);
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, field);
  char *r = cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
  cJSON_Delete(d);
  return r;
}
