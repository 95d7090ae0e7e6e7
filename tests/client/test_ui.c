/* test_ui.c - `kinerja ui` (the skeleton of issue 17): the real binary on
 * 127.0.0.1:0, its "open http://... in a browser" line, the page, its
 * assets and Chart.js through kj_http (security headers, gzip, 304),
 * /healthz, 404, the sync loop running in the same process (its log
 * line), SIGTERM and SIGINT ending it with 0; a bad --listen or
 * --kiosk-pause refused; --https: the PC's own certificate made at first
 * use, the app over TLS, its session cookie Secure. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cJSON.h>
#include <curl/curl.h>
#include <cmocka.h>

#include "kjt.h"
#include "kjt_pulled.h"
#include "store.h"

typedef struct ui {
  char *dir;
  const char *db;
  pid_t pid;
  int out_fd;
  int port;
  const char *extra[6]; /* more arguments of `kinerja ui`, NULL-terminated */
  int https;
} ui;

static void ui_start(ui *u) {
  u->dir = kjt_tmpdir();
  u->db = strdup(kjt_path(u->dir, "k.db"));
  kjt_run r;
  assert_int_equal(KJT(&r, u->db, "init", "--office", "36.73.04"), 0);
  kjt_run_release(&r);
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    int fd = open(kjt_path(u->dir, "err.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0)
      dup2(fd, 2);
    const char *argv[16] = {KINERJA_BIN, "--db", u->db, "ui", "--listen", "127.0.0.1:0"};
    for (int i = 0; i < 6 && u->extra[i]; i++)
      argv[6 + i] = u->extra[i];
    execv(KINERJA_BIN, (char *const *)argv);
    _exit(127);
  }
  close(p[1]);
  u->pid = pid;
  u->out_fd = p[0];
  char line[256] = "";
  size_t len = 0;
  while (!memchr(line, '\n', len) && len < sizeof line - 1) {
    ssize_t n = read(p[0], line + len, sizeof line - 1 - len);
    if (n <= 0)
      break;
    len += (size_t)n;
  }
  line[len] = 0;
  const char *want = u->https ? "open https://127.0.0.1:" : "open http://127.0.0.1:";
  assert_int_equal(strncmp(line, want, strlen(want)), 0);
  u->port = atoi(line + strlen(want));
  assert_true(u->port > 0);
  char tail[64];
  snprintf(tail, sizeof tail, "%d/ in a browser\n", u->port);
  assert_string_equal(line + strlen(want), tail);
}

/* Send sig; the exit status (128+signal when it had to be killed). */
static int ui_stop(ui *u, int sig) {
  kill(u->pid, sig);
  int st = 0;
  for (int i = 0; i < 100; i++) { /* 5 s */
    if (waitpid(u->pid, &st, WNOHANG) == u->pid)
      goto done;
    usleep(50000);
  }
  kill(u->pid, SIGKILL);
  waitpid(u->pid, &st, 0);
  st = 128 + SIGKILL;
  close(u->out_fd);
  return st;
done:
  close(u->out_fd);
  u->pid = 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void ui_free(ui *u) {
  if (u->pid > 0) {
    kill(u->pid, SIGKILL);
    waitpid(u->pid, NULL, 0);
  }
  free((char *)u->db);
  kjt_rmdir(u->dir);
}

static size_t collect(char *p, size_t size, size_t n, void *ud) {
  size_t len = size * n, *have = ud;
  *have += len;
  (void)p;
  return len;
}

static size_t collect_headers(char *p, size_t size, size_t n, void *ud) {
  char *h = ud;
  size_t len = size * n, cur = strlen(h);
  if (cur + len < 4096) {
    memcpy(h + cur, p, len);
    h[cur + len] = 0;
  }
  return len;
}

/* GET path; status, headers into hdr (4096), body length into *blen. */
static long get(const ui *u, const char *path, const char *extra, char *hdr, size_t *blen) {
  CURL *c = curl_easy_init();
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", u->port, path);
  hdr[0] = 0;
  *blen = 0;
  struct curl_slist *h = extra ? curl_slist_append(NULL, extra) : NULL;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, blen);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_headers);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, hdr);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
  long code = 0;
  if (curl_easy_perform(c) == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return code;
}

/* Sign in to u's app as the operator (password "kata-sandi-operator"):
 * over https checked against cert, or over http when cert is NULL.
 * Returns the status; the response headers into hdr (4096). */
static long signin(const ui *u, const char *cert, char *hdr) {
  char url[128];
  snprintf(url, sizeof url, "%s://127.0.0.1:%d/api/signin", cert ? "https" : "http", u->port);
  hdr[0] = 0;
  CURL *c = curl_easy_init();
  size_t blen = 0;
  struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  if (cert)
    curl_easy_setopt(c, CURLOPT_CAINFO, cert);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS,
                   "{\"operator\":true,\"password\":\"kata-sandi-operator\"}");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &blen);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_headers);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, hdr);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  long code = 0;
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return code;
}

static void test_serve_and_stop(void **state) {
  (void)state;
  ui u;
  memset(&u, 0, sizeof u);
  ui_start(&u);
  char h[4096];
  size_t n;
  assert_int_equal(get(&u, "/", NULL, h, &n), 200);
  assert_non_null(strstr(h, "Content-Type: text/html; charset=utf-8\r\n"));
  assert_non_null(strstr(h, "Content-Security-Policy: default-src 'self'"));
  assert_non_null(strstr(h, "X-Frame-Options: DENY\r\n"));
  assert_true(n > 200);
  char etag[128] = "", inm[160];
  const char *e = strstr(h, "ETag: ");
  assert_non_null(e);
  snprintf(etag, sizeof etag, "%.*s", (int)strcspn(e + 6, "\r"), e + 6);
  snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
  assert_int_equal(get(&u, "/", inm, h, &n), 304);
  assert_int_equal(n, 0);
  assert_int_equal(get(&u, "/assets/app.js", NULL, h, &n), 200);
  assert_non_null(strstr(h, "Content-Type: text/javascript"));
  assert_int_equal(get(&u, "/static/chart.min.js", "Accept-Encoding: gzip", h, &n), 200);
  assert_non_null(strstr(h, "Content-Encoding: gzip\r\n"));
  assert_true(n > 50000 && n < 100000); /* the gzip form of ~200 KB */
  assert_int_equal(get(&u, "/healthz", NULL, h, &n), 200);
  assert_int_equal(get(&u, "/nope", NULL, h, &n), 404);
  assert_non_null(strstr(h, "X-Content-Type-Options: nosniff\r\n"));
  /* the sync loop runs in the process (no server set: it says so) */
  char *err = NULL;
  for (int i = 0; i < 100; i++) { /* 10 s */
    free(err);
    err = kjt_read(kjt_path(u.dir, "err.txt"));
    if (err && strstr(err, "no server set"))
      break;
    usleep(100000);
  }
  assert_non_null(err);
  assert_non_null(strstr(err, "no server set"));
  free(err);
  assert_int_equal(get(&u, "/healthz", NULL, h, &n), 200); /* still serving */
  assert_int_equal(ui_stop(&u, SIGTERM), 0);
  err = kjt_read(kjt_path(u.dir, "err.txt")); /* and it stopped with the server */
  assert_non_null(err);
  assert_non_null(strstr(err, "kinerja: stopped"));
  /* the console (the operator's window) holds the state lines, not a line
   * per request: those are info, shown with KJ_LOG=info (below) */
  assert_null(strstr(err, " GET /healthz "));
  free(err);
  ui_free(&u);

  memset(&u, 0, sizeof u);
  setenv("KJ_LOG", "info", 1);
  ui_start(&u);
  unsetenv("KJ_LOG");
  assert_int_equal(get(&u, "/healthz", NULL, h, &n), 200);
  assert_int_equal(ui_stop(&u, SIGINT), 0);
  err = kjt_read(kjt_path(u.dir, "err.txt"));
  assert_non_null(err);
  assert_non_null(strstr(err, " GET /healthz 200 "));
  free(err);
  ui_free(&u);
}

static void test_bad_listen(void **state) {
  (void)state;
  char *dir = kjt_tmpdir();
  const char *db = kjt_path(dir, "k.db");
  char dbc[4096];
  snprintf(dbc, sizeof dbc, "%s", db);
  kjt_run r;
  assert_int_equal(KJT(&r, dbc, "init", "--office", "36.73.04"), 0);
  kjt_run_release(&r);
  assert_int_equal(KJT(&r, dbc, "ui", "--listen", "nonsense"), 2);
  assert_non_null(strstr(r.err, "bad listen address 'nonsense'"));
  kjt_run_release(&r);
  assert_int_equal(KJT(&r, dbc, "ui", "--kiosk-pause", "soon"), 2);
  assert_non_null(strstr(r.err, "--kiosk-pause: 'soon' is not a number of seconds"));
  kjt_run_release(&r);
  kjt_rmdir(dir);
}

/* --https on loopback (as any other address is served): the certificate
 * made next to the database at first use, the app over TLS verified
 * against it, the operator's session cookie Secure. */
static void test_https(void **state) {
  (void)state;
  ui u;
  memset(&u, 0, sizeof u);
  u.https = 1;
  char *tmp = kjt_tmpdir();
  const char *pw = kjt_path(tmp, "pw.txt");
  char pwf[4096];
  snprintf(pwf, sizeof pwf, "%s", pw);
  FILE *f = fopen(pwf, "w");
  assert_non_null(f);
  fputs("kata-sandi-operator\n", f);
  fclose(f);
  u.extra[0] = "--https";
  u.extra[1] = "--operator-password-file";
  u.extra[2] = pwf;
  ui_start(&u);
  char cert[4200];
  snprintf(cert, sizeof cert, "%s.ui-cert.pem", u.db);
  assert_int_equal(access(cert, R_OK), 0);
  char hdr[4096];
  assert_int_equal(signin(&u, cert, hdr), 200);
  const char *sc = strstr(hdr, "Set-Cookie: kinerja_ui=");
  assert_non_null(sc);
  const char *eol = strstr(sc, "\r\n");
  assert_non_null(eol);
  char line[512];
  snprintf(line, sizeof line, "%.*s", (int)(eol - sc), sc);
  assert_non_null(strstr(line, "; Secure"));
  assert_non_null(strstr(line, "HttpOnly"));
  assert_non_null(strstr(line, "SameSite=Strict"));
  assert_int_equal(ui_stop(&u, SIGTERM), 0);
  ui_free(&u);
  kjt_rmdir(tmp);
}

/* The body of a request into a growing string. */
typedef struct body {
  char *p;
  size_t n;
} body;

static size_t grow(char *p, size_t size, size_t n, void *ud) {
  body *b = ud;
  size_t len = size * n;
  char *q = realloc(b->p, b->n + len + 1);
  if (!q)
    return 0;
  memcpy(q + b->n, p, len);
  b->n += len;
  q[b->n] = 0;
  b->p = q;
  return len;
}

/* GET path of u's app (with the one extra header, e.g. a Cookie, or
 * NULL): asserts 200 and returns its body parsed (the caller deletes it). */
static cJSON *get_json(const ui *u, const char *path, const char *extra) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d%s", u->port, path);
  body b = {NULL, 0};
  CURL *c = curl_easy_init();
  struct curl_slist *h = extra ? curl_slist_append(NULL, extra) : NULL;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, grow);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  long code = 0;
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  assert_int_equal(code, 200);
  cJSON *o = cJSON_Parse(b.p);
  free(b.p);
  assert_non_null(o);
  return o;
}

/* An employee of 36.73.04 as pulled from the server. */
static void pulled_employee(kjc_store *s, const char *nip, const char *name) {
  const char *const vals[][2] = {{"name", name}, {"office", "36.73.04"}};
  kjt_pulled(s, KJ_T_EMPLOYEE, nip, vals, 2);
}

/* Target Kinerja entered the same day keep one order, whoever was entered
 * first: by name, then indicator (the trial saw them in entry order, newest
 * first); `kinerja list target` by period, nip and indicator. */
static void test_targets_order(void **state) {
  (void)state;
  ui u;
  memset(&u, 0, sizeof u);
  char *tmp = kjt_tmpdir();
  char pwf[4096];
  snprintf(pwf, sizeof pwf, "%s", kjt_path(tmp, "pw.txt"));
  FILE *f = fopen(pwf, "w");
  assert_non_null(f);
  fputs("kata-sandi-operator\n", f);
  fclose(f);
  u.extra[0] = "--operator-password-file";
  u.extra[1] = pwf;
  ui_start(&u);
  kjc_store *s = NULL;
  kj_err err;
  assert_int_equal(kjc_store_open(&s, u.db, KJC_OPEN_WRITE, &err), KJ_OK);
  pulled_employee(s, "199001012015011003", "Maya Wulan");
  pulled_employee(s, "198001012005011002", "Ahmad Ahmad");
  kjc_store_close(s);
  /* entered Maya DOC, Ahmad DOC, Maya LYN: all today, one period */
  const char *entered[][2] = {
      {"199001012015011003", "DOC"}, {"198001012005011002", "DOC"}, {"199001012015011003", "LYN"}};
  for (int i = 0; i < 3; i++) {
    char nip[32], ind[32];
    snprintf(nip, sizeof nip, "nip=%s", entered[i][0]);
    snprintf(ind, sizeof ind, "indicator=%s", entered[i][1]);
    kjt_run r;
    assert_int_equal(KJT(&r, u.db, "add", "target", nip, ind, "period=2026", "target=10"), 0);
    kjt_run_release(&r);
  }
  /* the app's list, as the operator */
  char hdr[4096];
  signin(&u, NULL, hdr);
  const char *sc = strstr(hdr, "Set-Cookie: ");
  assert_non_null(sc);
  sc += strlen("Set-Cookie: ");
  char cookie[512];
  snprintf(cookie, sizeof cookie, "Cookie: %.*s", (int)strcspn(sc, ";\r\n"), sc);
  cJSON *o = get_json(&u, "/api/targets", cookie);
  const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "targets");
  assert_int_equal(cJSON_GetArraySize(ts), 3);
  char got[256] = "";
  const cJSON *t;
  cJSON_ArrayForEach(t, ts) {
    size_t at = strlen(got);
    snprintf(got + at, sizeof got - at, "%s %s; ",
             cJSON_GetObjectItemCaseSensitive(t, "name")->valuestring,
             cJSON_GetObjectItemCaseSensitive(t, "indicator")->valuestring);
  }
  cJSON_Delete(o);
  assert_string_equal(got, "Ahmad Ahmad DOC; Maya Wulan DOC; Maya Wulan LYN; ");
  /* the command line's list: by period, nip and indicator */
  kjt_run r;
  assert_int_equal(KJT(&r, u.db, "list", "target"), 0);
  const char *a = strstr(r.out, "nip=198001012005011002 indicator=DOC");
  const char *m1 = strstr(r.out, "nip=199001012015011003 indicator=DOC");
  const char *m2 = strstr(r.out, "nip=199001012015011003 indicator=LYN");
  assert_true(a && m1 && m2 && a < m1 && m1 < m2);
  kjt_run_release(&r);
  assert_int_equal(ui_stop(&u, SIGTERM), 0);
  ui_free(&u);
  kjt_rmdir(tmp);
}

/* A service of office as pulled from the server. */
static void pulled_service(kjc_store *s, const char *office, const char *name) {
  char id[KJ_ID_MAX + 1];
  assert_int_equal(kj_service_id(office, name, id), KJ_OK);
  const char *const vals[][2] = {{"office", office}, {"name", name}};
  kjt_pulled(s, KJ_T_SERVICE, id, vals, 2);
}

/* The pickers of Survei (/api/meta) and /kiosk list the office's services
 * by name (the trial saw them in id order: 'Kartu Keluarga', 'KTP-el',
 * 'Akta Kelahiran'), whatever order they came in. */
static void test_services_order(void **state) {
  (void)state;
  ui u;
  memset(&u, 0, sizeof u);
  ui_start(&u);
  kjc_store *s = NULL;
  kj_err err;
  assert_int_equal(kjc_store_open(&s, u.db, KJC_OPEN_WRITE, &err), KJ_OK);
  static const char *const names[] = {"Surat Pindah", "Kartu Keluarga", "KTP-el", "Akta Kelahiran",
                                      "Akta Kematian"};
  for (int i = 0; i < 5; i++)
    pulled_service(s, "36.73.04", names[i]);
  pulled_service(s, "36.73.01", "Akta Cerai"); /* another office's: not listed */
  kjc_store_close(s);
  cJSON *o = get_json(&u, "/api/kiosk", NULL);
  char got[256] = "";
  const cJSON *sv;
  cJSON_ArrayForEach(sv, cJSON_GetObjectItemCaseSensitive(o, "services")) {
    size_t at = strlen(got);
    snprintf(got + at, sizeof got - at, "%s; ", sv->valuestring);
  }
  cJSON_Delete(o);
  assert_string_equal(got, "Akta Kelahiran; Akta Kematian; KTP-el; Kartu Keluarga; Surat Pindah; ");
  assert_int_equal(ui_stop(&u, SIGTERM), 0);
  ui_free(&u);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_serve_and_stop), cmocka_unit_test(test_bad_listen),
      cmocka_unit_test(test_https),          cmocka_unit_test(test_targets_order),
      cmocka_unit_test(test_services_order),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return rc;
}
