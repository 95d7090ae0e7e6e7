/* test_session.c - people's sessions (http/session.c): the cookie's
 * attributes, lookup among other cookies, a new id at each sign-in, idle
 * and absolute expiry on a fake clock, the CSRF token refused when
 * missing or wrong (header and form field), sign-out, the LRU cap,
 * threads; and the same through the real connection code (kjh__net_feed)
 * with a tiny app: sign in, read, change with and without the token. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "http.h"
#include "net_int.h"
#include "session.h"

static int64_t fake_now;
static int64_t fake_clock(void) {
  return fake_now;
}

typedef struct call {
  kjh_request req;
  kjh_response resp;
  kj_buf hdrs; /* "name\0value\0" */
} call;

static void call_init(call *c, const char *method, const char *cookie) {
  memset(c, 0, sizeof *c);
  kj_buf_init(&c->hdrs, 1 << 16);
  c->req.method = method;
  c->req.path = "/";
  c->req.query = "";
  c->req.body = "";
  c->req.remote = "test";
  if (cookie) {
    kj_buf_add(&c->hdrs, "Cookie", 7);
    kj_buf_add(&c->hdrs, cookie, strlen(cookie) + 1);
  }
  c->req.headers = kj_buf_str(&c->hdrs);
  c->req.headers_len = c->hdrs.len;
  c->resp.status = 200;
  kj_buf_init(&c->resp.body, 1 << 20);
  kj_buf_init(&c->resp.headers, 8192);
}

static void call_header(call *c, const char *name, const char *value) {
  kj_buf_add(&c->hdrs, name, strlen(name) + 1);
  kj_buf_add(&c->hdrs, value, strlen(value) + 1);
  c->req.headers = kj_buf_str(&c->hdrs);
  c->req.headers_len = c->hdrs.len;
}

static void call_release(call *c) {
  kj_buf_release(&c->hdrs);
  kj_buf_release(&c->resp.body);
  kj_buf_release(&c->resp.headers);
}

/* The "name=value" of the Set-Cookie in resp (the id: 64 hex). */
static void cookie_of(const call *c, char *out, size_t size) {
  const char *h = strstr(kj_buf_str(&c->resp.headers), "Set-Cookie: ");
  assert_non_null(h);
  h += strlen("Set-Cookie: ");
  snprintf(out, size, "%.*s", (int)strcspn(h, ";\r"), h);
}

static kjh_sessions *store(int64_t idle, int64_t max_age, int max) {
  kjh_session_config cfg = {.cookie = "kj_session",
                            .idle_ms = idle,
                            .max_age_ms = max_age,
                            .max_sessions = max,
                            .now_ms = fake_clock};
  kjh_sessions *s;
  assert_int_equal(kjh_sessions_new(&s, &cfg, NULL), KJ_OK);
  return s;
}

/* Sign user in; the cookie "kj_session=ID" into cookie, the session into ss. */
static void sign_in(kjh_sessions *s, const char *user, const char *old_cookie, int tls,
                    char *cookie, size_t size, kjh_session *ss) {
  call c;
  call_init(&c, "POST", old_cookie);
  c.req.tls = tls;
  assert_int_equal(kjh_session_start(s, &c.req, &c.resp, user, "asn", ss, NULL), KJ_OK);
  cookie_of(&c, cookie, size);
  call_release(&c);
}

static kj_code get(kjh_sessions *s, const char *cookie, kjh_session *ss) {
  call c;
  call_init(&c, "GET", cookie);
  kj_code rc = kjh_session_get(s, &c.req, ss);
  call_release(&c);
  return rc;
}

static void test_cookie_attributes(void **state) {
  (void)state;
  fake_now = 1000;
  kjh_sessions *s = store(0, 0, 0);
  call c;
  call_init(&c, "POST", NULL);
  kjh_session ss;
  assert_int_equal(kjh_session_start(s, &c.req, &c.resp, "198001012006041001", "asn", &ss, NULL),
                   KJ_OK);
  const char *h = kj_buf_str(&c.resp.headers);
  assert_non_null(strstr(h, "Set-Cookie: kj_session="));
  assert_non_null(strstr(h, "; Path=/; HttpOnly; SameSite=Strict\r\n")); /* no Secure: plain */
  char cookie[128];
  cookie_of(&c, cookie, sizeof cookie);
  assert_int_equal(strlen(cookie), strlen("kj_session=") + 64); /* 256 bits, hex */
  assert_int_equal(strlen(ss.csrf), 64);
  assert_string_not_equal(ss.csrf, cookie + strlen("kj_session="));
  call_release(&c);

  call_init(&c, "POST", NULL);
  c.req.tls = 1;
  assert_int_equal(kjh_session_start(s, &c.req, &c.resp, "u", "asn", NULL, NULL), KJ_OK);
  assert_non_null(strstr(kj_buf_str(&c.resp.headers), "SameSite=Strict; Secure\r\n"));
  call_release(&c);

  /* two sign-ins: two different ids */
  char a[128], b[128];
  sign_in(s, "x", NULL, 0, a, sizeof a, &ss);
  sign_in(s, "x", NULL, 0, b, sizeof b, &ss);
  assert_string_not_equal(a, b);
  kjh_sessions_free(s);

  kjh_session_config bad = {.cookie = "a;b"};
  assert_int_equal(kjh_sessions_new(&s, &bad, NULL), KJ_EINVAL);
}

static void test_lookup(void **state) {
  (void)state;
  fake_now = 1000;
  kjh_sessions *s = store(0, 0, 0);
  char cookie[128], hdr[512];
  kjh_session ss, got;
  sign_in(s, "camat", NULL, 0, cookie, sizeof cookie, &ss);
  assert_int_equal(get(s, cookie, &got), KJ_OK);
  assert_string_equal(got.user, "camat");
  assert_string_equal(got.role, "asn");
  assert_string_equal(got.csrf, ss.csrf);
  /* among other cookies, with spaces, quoted */
  snprintf(hdr, sizeof hdr, "theme=dark; %s ;lang=id", cookie);
  assert_int_equal(get(s, hdr, &got), KJ_OK);
  snprintf(hdr, sizeof hdr, "kj_session=\"%s\"", cookie + strlen("kj_session="));
  assert_int_equal(get(s, hdr, &got), KJ_OK);
  /* a stale cookie of the same name before the live one */
  snprintf(hdr, sizeof hdr, "kj_session=%064d; %s", 0, cookie);
  assert_int_equal(get(s, hdr, &got), KJ_OK);
  /* refused: none, unknown, malformed, other name, upper-case hex */
  assert_int_equal(get(s, NULL, &got), KJ_EAUTH);
  snprintf(hdr, sizeof hdr, "kj_session=%064d", 7);
  assert_int_equal(get(s, hdr, &got), KJ_EAUTH);
  snprintf(hdr, sizeof hdr, "%.*s", (int)strlen(cookie) - 1, cookie);
  assert_int_equal(get(s, hdr, &got), KJ_EAUTH);
  snprintf(hdr, sizeof hdr, "kj_sessionx=%s", cookie + strlen("kj_session="));
  assert_int_equal(get(s, hdr, &got), KJ_EAUTH);
  snprintf(hdr, sizeof hdr, "%s", cookie);
  for (char *p = hdr + strlen("kj_session="); *p; p++)
    if (*p >= 'a' && *p <= 'f')
      *p = (char)(*p - 'a' + 'A');
  assert_int_equal(get(s, hdr, &got), KJ_EAUTH);

  /* a new sign-in with the old cookie ends the old session */
  char again[128];
  sign_in(s, "camat", cookie, 0, again, sizeof again, &ss);
  assert_int_equal(get(s, cookie, &got), KJ_EAUTH);
  assert_int_equal(get(s, again, &got), KJ_OK);
  assert_int_equal(kjh_sessions_count(s), 1);
  kjh_sessions_free(s);
}

static void test_expiry(void **state) {
  (void)state;
  fake_now = 1000;
  kjh_sessions *s = store(30LL * 60 * 1000, 12LL * 3600 * 1000, 0);
  char cookie[128];
  kjh_session ss;
  sign_in(s, "op", NULL, 0, cookie, sizeof cookie, &ss);
  fake_now += 30LL * 60 * 1000 - 1; /* just inside: and the idle clock restarts */
  assert_int_equal(get(s, cookie, &ss), KJ_OK);
  fake_now += 30LL * 60 * 1000 - 1;
  assert_int_equal(get(s, cookie, &ss), KJ_OK);
  fake_now += 30LL * 60 * 1000; /* idle for 30 minutes: gone */
  assert_int_equal(get(s, cookie, &ss), KJ_EAUTH);
  assert_int_equal(kjh_sessions_count(s), 0);

  /* the absolute limit, however busy */
  sign_in(s, "op", NULL, 0, cookie, sizeof cookie, &ss);
  for (int i = 0; i < 12 * 4 - 1; i++) {
    fake_now += 15LL * 60 * 1000;
    assert_int_equal(get(s, cookie, &ss), KJ_OK);
  }
  fake_now += 15LL * 60 * 1000;
  assert_int_equal(get(s, cookie, &ss), KJ_EAUTH);
  kjh_sessions_free(s);

  /* the defaults: 30 minutes idle */
  kjh_session_config d = {.now_ms = fake_clock};
  assert_int_equal(kjh_sessions_new(&s, &d, NULL), KJ_OK);
  sign_in(s, "op", NULL, 0, cookie, sizeof cookie, &ss);
  fake_now += KJH_SESSION_IDLE_MS - 1;
  assert_int_equal(get(s, cookie, &ss), KJ_OK);
  fake_now += KJH_SESSION_IDLE_MS;
  assert_int_equal(get(s, cookie, &ss), KJ_EAUTH);
  kjh_sessions_free(s);
}

static int require(kjh_sessions *s, const char *method, const char *cookie, const char *hname,
                   const char *hval, const char *ctype, const char *body) {
  call c;
  call_init(&c, method, cookie);
  if (hname)
    call_header(&c, hname, hval);
  if (ctype)
    call_header(&c, "Content-Type", ctype);
  if (body) {
    c.req.body = body;
    c.req.body_len = strlen(body);
  }
  kjh_session ss;
  kj_code rc = kjh_session_require(s, &c.req, &c.resp, &ss);
  int status = rc == KJ_OK ? 200 : c.resp.status;
  if (rc == KJ_OK)
    assert_string_equal(c.resp.who, ss.user);
  call_release(&c);
  return status;
}

static void test_csrf(void **state) {
  (void)state;
  fake_now = 1000;
  kjh_sessions *s = store(0, 0, 0);
  char cookie[128], other_cookie[128], form[256];
  kjh_session ss, other;
  sign_in(s, "pegawai", NULL, 0, cookie, sizeof cookie, &ss);
  sign_in(s, "lain", NULL, 0, other_cookie, sizeof other_cookie, &other);
  const char *fct = "application/x-www-form-urlencoded";

  assert_int_equal(require(s, "GET", cookie, NULL, NULL, NULL, NULL), 200);
  assert_int_equal(require(s, "HEAD", cookie, NULL, NULL, NULL, NULL), 200);
  /* a change without the token, with a wrong one, with another session's */
  assert_int_equal(require(s, "POST", cookie, NULL, NULL, NULL, NULL), 403);
  assert_int_equal(require(s, "DELETE", cookie, NULL, NULL, NULL, NULL), 403);
  assert_int_equal(require(s, "PUT", cookie, "X-CSRF-Token", "abc", NULL, NULL), 403);
  assert_int_equal(require(s, "POST", cookie, "X-CSRF-Token", other.csrf, NULL, NULL), 403);
  char wrong[65];
  snprintf(wrong, sizeof wrong, "%s", ss.csrf);
  wrong[63] = wrong[63] == '0' ? '1' : '0';
  assert_int_equal(require(s, "POST", cookie, "X-CSRF-Token", wrong, NULL, NULL), 403);
  /* the right one, in the header or the form */
  assert_int_equal(require(s, "POST", cookie, "X-CSRF-Token", ss.csrf, NULL, NULL), 200);
  assert_int_equal(require(s, "DELETE", cookie, "x-csrf-token", ss.csrf, NULL, NULL), 200);
  snprintf(form, sizeof form, "nip=1980&csrf=%s&x=1", ss.csrf);
  assert_int_equal(require(s, "POST", cookie, NULL, NULL, fct, form), 200);
  assert_int_equal(require(s, "POST", cookie, NULL, NULL,
                           "application/x-www-form-urlencoded; "
                           "charset=UTF-8",
                           form),
                   200);
  /* the form field counts only in a form body */
  assert_int_equal(require(s, "POST", cookie, NULL, NULL, "text/plain", form), 403);
  snprintf(form, sizeof form, "csrf=%s", other.csrf);
  assert_int_equal(require(s, "POST", cookie, NULL, NULL, fct, form), 403);
  /* no session at all: 401 before any CSRF question */
  assert_int_equal(require(s, "POST", NULL, "X-CSRF-Token", ss.csrf, NULL, NULL), 401);

  /* the 401 clears a stale cookie */
  call c;
  call_init(&c, "GET", "kj_session=0000");
  assert_int_equal(kjh_session_require(s, &c.req, &c.resp, NULL), KJ_EAUTH);
  assert_int_equal(c.resp.status, 401);
  assert_non_null(strstr(kj_buf_str(&c.resp.headers), "kj_session=; Path=/; HttpOnly; "
                                                      "SameSite=Strict; Max-Age=0\r\n"));
  call_release(&c);
  kjh_sessions_free(s);
}

static void test_sign_out_and_cap(void **state) {
  (void)state;
  fake_now = 1000;
  kjh_sessions *s = store(0, 0, 2);
  char a[128], b[128], c3[128];
  kjh_session ss;
  sign_in(s, "a", NULL, 0, a, sizeof a, &ss);
  fake_now++;
  sign_in(s, "b", NULL, 0, b, sizeof b, &ss);
  fake_now++;
  assert_int_equal(get(s, a, &ss), KJ_OK); /* a used now: b is the least recent */
  fake_now++;
  sign_in(s, "c", NULL, 0, c3, sizeof c3, &ss);
  assert_int_equal(kjh_sessions_count(s), 2);
  assert_int_equal(get(s, b, &ss), KJ_EAUTH);
  assert_int_equal(get(s, a, &ss), KJ_OK);
  assert_int_equal(get(s, c3, &ss), KJ_OK);

  call c;
  call_init(&c, "POST", a);
  assert_int_equal(kjh_session_end(s, &c.req, &c.resp), KJ_OK);
  assert_non_null(strstr(kj_buf_str(&c.resp.headers), "Max-Age=0"));
  call_release(&c);
  assert_int_equal(get(s, a, &ss), KJ_EAUTH);
  assert_int_equal(get(s, c3, &ss), KJ_OK);
  assert_int_equal(kjh_sessions_count(s), 1);
  kjh_sessions_free(s);
}

static kjh_sessions *g_threads;
static void *hammer(void *arg) {
  (void)arg;
  for (int i = 0; i < 300; i++) {
    char cookie[128];
    kjh_session ss;
    sign_in(g_threads, "t", NULL, 0, cookie, sizeof cookie, &ss);
    if (get(g_threads, cookie, &ss) != KJ_OK)
      return (void *)1;
    call c;
    call_init(&c, "POST", cookie);
    kjh_session_end(g_threads, &c.req, &c.resp);
    call_release(&c);
  }
  return NULL;
}

static void test_threads(void **state) {
  (void)state;
  kjh_session_config cfg = {.max_sessions = 50};
  assert_int_equal(kjh_sessions_new(&g_threads, &cfg, NULL), KJ_OK);
  pthread_t t[4];
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, hammer, NULL), 0);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    assert_null(r);
  }
  assert_int_equal(kjh_sessions_count(g_threads), 0);
  kjh_sessions_free(g_threads);
}

/* ---------------------------------------------------------------------- */
/* through the connection code: a tiny app */

static void app(void *arg, const kjh_request *req, kjh_response *resp) {
  kjh_sessions *s = arg;
  kjh_session ss;
  if (!strcmp(req->path, "/login") && !strcmp(req->method, "POST")) {
    char user[64];
    if (kjh_query_get(req->body, "user", user, sizeof user) != KJ_OK) {
      resp->status = 400;
      return;
    }
    kjh_session_start(s, req, resp, user, "asn", &ss, NULL);
    kj_buf_addf(&resp->body, "{\"csrf\":\"%s\"}", ss.csrf);
    return;
  }
  if (kjh_session_require(s, req, resp, &ss) != KJ_OK)
    return;
  kj_buf_addf(&resp->body, "{\"user\":\"%s\",\"method\":\"%s\"}", ss.user, req->method);
}

static void feed(kjh_sessions *s, const char *raw, kj_buf *out) {
  kjh_config cfg;
  kjh_config_defaults(&cfg);
  cfg.plain_http = 1;
  kj_buf_reset(out);
  assert_int_equal(kjh__net_feed(&cfg, app, s, raw, strlen(raw), out, NULL), KJ_OK);
}

static void test_through_net(void **state) {
  (void)state;
  kjh_sessions *s;
  assert_int_equal(kjh_sessions_new(&s, NULL, NULL), KJ_OK);
  kj_buf out;
  kj_buf_init(&out, KJ_BUF_UNLIMITED);
  feed(s,
       "POST /login HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
       "Content-Length: 23\r\n\r\nuser=198001012006041001",
       &out);
  const char *o = kj_buf_str(&out);
  assert_int_equal(strncmp(o, "HTTP/1.1 200 ", 13), 0);
  const char *sc = strstr(o, "\r\nSet-Cookie: ");
  assert_non_null(sc);
  char cookie[128], csrf[65];
  snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(sc + 14, ";"), sc + 14);
  const char *cj = strstr(o, "{\"csrf\":\"");
  assert_non_null(cj);
  snprintf(csrf, sizeof csrf, "%.64s", cj + 9);

  char req[1024];
  snprintf(req, sizeof req, "GET /me HTTP/1.1\r\nCookie: lang=id; %s\r\n\r\n", cookie);
  feed(s, req, &out);
  assert_non_null(strstr(kj_buf_str(&out), "HTTP/1.1 200 "));
  assert_non_null(strstr(kj_buf_str(&out), "\"user\":\"198001012006041001\""));

  snprintf(req, sizeof req, "POST /x HTTP/1.1\r\nCookie: %s\r\nContent-Length: 0\r\n\r\n", cookie);
  feed(s, req, &out);
  assert_non_null(strstr(kj_buf_str(&out), "HTTP/1.1 403 "));

  snprintf(req, sizeof req,
           "POST /x HTTP/1.1\r\nCookie: %s\r\nX-CSRF-Token: %s\r\nContent-Length: 0\r\n\r\n",
           cookie, csrf);
  feed(s, req, &out);
  assert_non_null(strstr(kj_buf_str(&out), "HTTP/1.1 200 "));
  assert_non_null(strstr(kj_buf_str(&out), "\"method\":\"POST\""));

  feed(s, "GET /me HTTP/1.1\r\n\r\n", &out);
  assert_non_null(strstr(kj_buf_str(&out), "HTTP/1.1 401 "));
  kj_buf_release(&out);
  kjh_sessions_free(s);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN); /* kjh__net_feed */
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cookie_attributes),
      cmocka_unit_test(test_lookup),
      cmocka_unit_test(test_expiry),
      cmocka_unit_test(test_csrf),
      cmocka_unit_test(test_sign_out_and_cap),
      cmocka_unit_test(test_threads),
      cmocka_unit_test(test_through_net),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
