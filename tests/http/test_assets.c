/* test_assets.c - files compiled in by kjh_embed (http/embed.c,
 * assets.c), served through the real connection code in-process
 * (kjh__net_feed): 200 with the bytes, gzip when accepted, ETag and 304,
 * HEAD, 405, the security headers; Chart.js from libjs-chart.js embedded
 * whole; If-None-Match parsing; no header injection. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "assets.h"
#include "buf.h"
#include "gz.h"
#include "http.h"
#include "net_int.h"

extern const kjh_assets test_assets; /* tests/http/CMakeLists.txt */

static void handler(void *app, const kjh_request *req, kjh_response *resp) {
  (void)app;
  if (kjh_asset_serve(&test_assets, req, resp))
    return;
  resp->status = 404;
  kj_buf_adds(&resp->body, "{\"error\":\"no route\"}\n");
}

typedef struct answer {
  int status;
  char head[4096]; /* status line and headers */
  kj_buf body;
} answer;

/* Send one request (raw HTTP) and parse the one response. */
static void ask(const char *raw, answer *a) {
  kjh_config cfg;
  kjh_config_defaults(&cfg);
  cfg.plain_http = 1;
  kj_buf out;
  kj_buf_init(&out, KJ_BUF_UNLIMITED);
  kj_err err;
  assert_int_equal(kjh__net_feed(&cfg, handler, NULL, raw, strlen(raw), &out, &err), KJ_OK);
  const char *s = kj_buf_str(&out);
  const char *end = strstr(s, "\r\n\r\n");
  assert_non_null(end);
  size_t hl = (size_t)(end - s) + 2;
  assert_true(hl < sizeof a->head);
  memcpy(a->head, s, hl);
  a->head[hl] = 0;
  assert_int_equal(sscanf(s, "HTTP/1.1 %d", &a->status), 1);
  kj_buf_init(&a->body, KJ_BUF_UNLIMITED);
  kj_buf_add(&a->body, end + 4, out.len - (size_t)(end + 4 - s));
  kj_buf_release(&out);
}

/* The value of header name in a->head (case-insensitive), copied; "" when absent. */
static const char *hdr(const answer *a, const char *name, char *buf, size_t size) {
  buf[0] = 0;
  size_t n = strlen(name);
  for (const char *l = strstr(a->head, "\r\n"); l; l = strstr(l, "\r\n")) {
    l += 2;
    if (!strncasecmp(l, name, n) && l[n] == ':') {
      const char *v = l + n + 1;
      while (*v == ' ')
        v++;
      size_t vl = strcspn(v, "\r");
      snprintf(buf, size, "%.*s", (int)vl, v);
      return buf;
    }
  }
  return buf;
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  kj_buf b;
  kj_buf_init(&b, KJ_BUF_UNLIMITED);
  char tmp[4096];
  size_t r;
  while ((r = fread(tmp, 1, sizeof tmp, f)) > 0)
    kj_buf_add(&b, tmp, r);
  fclose(f);
  return kj_buf_detach(&b, len);
}

static void test_get_identity_and_gzip(void **state) {
  (void)state;
  size_t flen;
  char *file = slurp(KJ_TEST_ASSETS "/index.html", &flen);
  answer a;
  char v[512];
  ask("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", &a);
  assert_int_equal(a.status, 200);
  assert_string_equal(hdr(&a, "Content-Type", v, sizeof v), "text/html; charset=utf-8");
  assert_string_equal(hdr(&a, "Content-Encoding", v, sizeof v), "");
  assert_string_equal(hdr(&a, "Vary", v, sizeof v), "Accept-Encoding");
  assert_string_equal(hdr(&a, "Cache-Control", v, sizeof v), "no-cache");
  assert_int_equal(a.body.len, flen);
  assert_memory_equal(a.body.data, file, flen);
  char etag[128];
  hdr(&a, "ETag", etag, sizeof etag);
  assert_int_equal(strlen(etag), strlen("\"sha256-\"") + 32);
  assert_int_equal(strncmp(etag, "\"sha256-", 8), 0);
  kj_buf_release(&a.body);

  /* gzip accepted: the precompressed bytes, which inflate to the file */
  ask("GET /index.html HTTP/1.1\r\nAccept-Encoding: br, gzip\r\n\r\n", &a);
  assert_int_equal(a.status, 200);
  assert_string_equal(hdr(&a, "Content-Encoding", v, sizeof v), "gzip");
  assert_string_equal(hdr(&a, "ETag", v, sizeof v), etag); /* one ETag per asset */
  assert_true(a.body.len < flen / 2);
  assert_int_equal(atoi(hdr(&a, "Content-Length", v, sizeof v)), (int)a.body.len);
  kj_buf plain;
  kj_buf_init(&plain, 1 << 20);
  assert_int_equal(kj_gunzip(a.body.data, a.body.len, &plain, NULL), KJ_OK);
  assert_int_equal(plain.len, flen);
  assert_memory_equal(plain.data, file, flen);
  kj_buf_release(&plain);
  kj_buf_release(&a.body);

  /* gzip;q=0 refuses it */
  ask("GET /index.html HTTP/1.1\r\nAccept-Encoding: gzip;q=0\r\n\r\n", &a);
  assert_string_equal(hdr(&a, "Content-Encoding", v, sizeof v), "");
  assert_int_equal(a.body.len, flen);
  kj_buf_release(&a.body);

  /* a file gzip does not make smaller goes as it is */
  ask("GET /tiny.txt HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n", &a);
  assert_int_equal(a.status, 200);
  assert_string_equal(hdr(&a, "Content-Encoding", v, sizeof v), "");
  assert_string_equal(kj_buf_str(&a.body), "ok\n");
  kj_buf_release(&a.body);
  free(file);
}

static void test_etag_304(void **state) {
  (void)state;
  answer a;
  char etag[128], v[256], req[512];
  ask("GET /style.css HTTP/1.1\r\n\r\n", &a);
  hdr(&a, "ETag", etag, sizeof etag);
  assert_string_equal(hdr(&a, "Content-Type", v, sizeof v), "text/css; charset=utf-8");
  kj_buf_release(&a.body);

  snprintf(req, sizeof req, "GET /style.css HTTP/1.1\r\nIf-None-Match: %s\r\n\r\n", etag);
  ask(req, &a);
  assert_int_equal(a.status, 304);
  assert_int_equal(a.body.len, 0);
  assert_string_equal(hdr(&a, "Content-Length", v, sizeof v), ""); /* RFC 9110 8.6 */
  assert_string_equal(hdr(&a, "ETag", v, sizeof v), etag);
  assert_string_equal(hdr(&a, "Cache-Control", v, sizeof v), "no-cache");
  kj_buf_release(&a.body);

  /* weak form, in a list, with gzip accepted: still 304 */
  snprintf(req, sizeof req,
           "GET /style.css HTTP/1.1\r\nAccept-Encoding: gzip\r\n"
           "If-None-Match: \"old\", W/%s\r\n\r\n",
           etag);
  ask(req, &a);
  assert_int_equal(a.status, 304);
  kj_buf_release(&a.body);

  /* another asset's ETag: 200 */
  ask("GET /app.js HTTP/1.1\r\n\r\n", &a);
  char other[128];
  hdr(&a, "ETag", other, sizeof other);
  assert_string_not_equal(other, etag);
  assert_string_equal(hdr(&a, "Content-Type", v, sizeof v), "text/javascript; charset=utf-8");
  kj_buf_release(&a.body);
  snprintf(req, sizeof req, "GET /style.css HTTP/1.1\r\nIf-None-Match: %s\r\n\r\n", other);
  ask(req, &a);
  assert_int_equal(a.status, 200);
  assert_true(a.body.len > 0);
  kj_buf_release(&a.body);

  /* the next request on the same connection after a 304 is read right
   * (no body was sent, none expected) */
  kjh_config cfg;
  kjh_config_defaults(&cfg);
  cfg.plain_http = 1;
  kj_buf out;
  kj_buf_init(&out, KJ_BUF_UNLIMITED);
  snprintf(req, sizeof req,
           "GET /style.css HTTP/1.1\r\nIf-None-Match: %s\r\n\r\nGET /tiny.txt HTTP/1.1\r\n\r\n",
           etag);
  assert_int_equal(kjh__net_feed(&cfg, handler, NULL, req, strlen(req), &out, NULL), KJ_OK);
  const char *s = kj_buf_str(&out);
  assert_int_equal(strncmp(s, "HTTP/1.1 304 ", 13), 0);
  const char *second = strstr(s, "\r\n\r\nHTTP/1.1 200 ");
  assert_non_null(second);
  assert_non_null(strstr(second, "\r\n\r\nok\n"));
  kj_buf_release(&out);
}

static void test_security_headers_head_405_404(void **state) {
  (void)state;
  answer a;
  char v[512];
  ask("HEAD /index.html HTTP/1.1\r\n\r\n", &a);
  assert_int_equal(a.status, 200);
  assert_int_equal(a.body.len, 0);
  assert_true(atoi(hdr(&a, "Content-Length", v, sizeof v)) > 1000);
  hdr(&a, "Content-Security-Policy", v, sizeof v);
  assert_non_null(strstr(v, "default-src 'self'"));
  assert_non_null(strstr(v, "script-src 'self'"));
  assert_null(strstr(v, "unsafe-inline"));
  assert_non_null(strstr(v, "frame-ancestors 'none'"));
  assert_string_equal(hdr(&a, "X-Content-Type-Options", v, sizeof v), "nosniff");
  assert_string_equal(hdr(&a, "X-Frame-Options", v, sizeof v), "DENY");
  assert_string_equal(hdr(&a, "Referrer-Policy", v, sizeof v), "same-origin");
  kj_buf_release(&a.body);

  ask("POST /index.html HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &a);
  assert_int_equal(a.status, 405);
  assert_string_equal(hdr(&a, "Allow", v, sizeof v), "GET, HEAD");
  kj_buf_release(&a.body);

  ask("GET /index.htm HTTP/1.1\r\n\r\n", &a); /* not an asset: the app's answer */
  assert_int_equal(a.status, 404);
  kj_buf_release(&a.body);
}

static void test_chartjs_embedded(void **state) {
  (void)state;
  const kjh_asset *c = kjh_asset_find(&test_assets, "/static/chart.min.js");
  assert_non_null(c);
  assert_true(c->len > 100000); /* the whole minified file, not a stub */
  assert_non_null(strstr((const char *)c->data, "Chart.js"));
  assert_non_null(c->gz);
  kj_buf plain;
  kj_buf_init(&plain, 4u << 20);
  assert_int_equal(kj_gunzip(c->gz, c->gz_len, &plain, NULL), KJ_OK);
  assert_int_equal(plain.len, c->len);
  assert_memory_equal(plain.data, c->data, c->len);
  kj_buf_release(&plain);
  fprintf(stderr, "# chart.min.js: %zu bytes, %zu gzipped\n", c->len, c->gz_len);
  assert_true(c->gz_len < (size_t)500 * 1024); /* ui.md: all assets under 500 KB compressed */
}

static void test_etag_match(void **state) {
  (void)state;
  const char *e = "\"sha256-abc\"";
  assert_true(kjh_etag_match("\"sha256-abc\"", e));
  assert_true(kjh_etag_match("W/\"sha256-abc\"", e));
  assert_true(kjh_etag_match("\"x\" , \"sha256-abc\"", e));
  assert_true(kjh_etag_match("*", e));
  assert_false(kjh_etag_match("\"sha256-ab\"", e));
  assert_false(kjh_etag_match("sha256-abc", e)); /* unquoted: malformed */
  assert_false(kjh_etag_match("\"sha256-abc", e));
  assert_false(kjh_etag_match("", e));
  assert_false(kjh_etag_match(NULL, e));
  assert_false(kjh_etag_match("\"x\" junk, \"sha256-abc\"", e)); /* malformed list */
}

static void test_response_header_injection(void **state) {
  (void)state;
  kjh_response r;
  memset(&r, 0, sizeof r);
  kj_buf_init(&r.headers, 1024);
  assert_int_equal(kjh_response_header(&r, "X-A", "1"), KJ_OK);
  assert_int_equal(kjh_response_header(&r, "X-B", "a\r\nSet-Cookie: x=1"), KJ_EINVAL);
  assert_int_equal(kjh_response_header(&r, "X-B", "a\nb"), KJ_EINVAL);
  assert_int_equal(kjh_response_header(&r, "X B", "1"), KJ_EINVAL);
  assert_int_equal(kjh_response_header(&r, "", "1"), KJ_EINVAL);
  assert_string_equal(kj_buf_str(&r.headers), "X-A: 1\r\n");
  kj_buf_release(&r.headers);

  kjh_request q;
  memset(&q, 0, sizeof q);
  static const char h[] = "Host\0x\0cookie\0a=1\0Cookie\0b=2\0";
  q.headers = h;
  q.headers_len = sizeof h - 1;
  assert_string_equal(kjh_header(&q, "COOKIE"), "a=1");
  assert_string_equal(kjh_header(&q, "host"), "x");
  assert_null(kjh_header(&q, "Accept"));
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* kjh__net_feed */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_get_identity_and_gzip),
      cmocka_unit_test(test_etag_304),
      cmocka_unit_test(test_security_headers_head_405_404),
      cmocka_unit_test(test_chartjs_embedded),
      cmocka_unit_test(test_etag_match),
      cmocka_unit_test(test_response_header_injection),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
