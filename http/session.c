/* session.c - people's sessions in memory (session.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mbedtls/sha256.h>

#include "session.h"
#include "uuid.h"

#define ID_BYTES 32
#define ID_HEX 64 /* 2 * ID_BYTES */

typedef struct entry {
  unsigned char hash[32]; /* SHA-256 of the id's hex text */
  kjh_session s;
  int64_t created, last;
} entry;

struct kjh_sessions {
  pthread_mutex_t lock;
  kjh_session_config cfg;
  char cookie[64];
  entry *e;
  int n, cap;
};

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now(const kjh_sessions *s) {
  return s->cfg.now_ms ? s->cfg.now_ms() : mono_ms();
}

static int is_token(const char *t) {
  if (!*t)
    return 0;
  for (; *t; t++)
    if (*t <= ' ' || *t >= 0x7f || strchr("()<>@,;:\\\"/[]?={}", *t))
      return 0;
  return 1;
}

kj_code kjh_sessions_new(kjh_sessions **out, const kjh_session_config *cfg, kj_err *err) {
  *out = NULL;
  kjh_sessions *s = calloc(1, sizeof *s);
  if (!s)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  if (cfg)
    s->cfg = *cfg;
  const char *name = s->cfg.cookie ? s->cfg.cookie : "kj_session";
  if (!is_token(name) || strlen(name) >= sizeof s->cookie) {
    free(s);
    return kj_fail(err, KJ_EINVAL, "bad session cookie name '%s'", name);
  }
  snprintf(s->cookie, sizeof s->cookie, "%s", name);
  if (s->cfg.idle_ms <= 0)
    s->cfg.idle_ms = KJH_SESSION_IDLE_MS;
  if (s->cfg.max_age_ms <= 0)
    s->cfg.max_age_ms = KJH_SESSION_MAX_AGE_MS;
  if (s->cfg.max_sessions <= 0)
    s->cfg.max_sessions = 10000;
  pthread_mutex_init(&s->lock, NULL);
  *out = s;
  return KJ_OK;
}

void kjh_sessions_free(kjh_sessions *s) {
  if (!s)
    return;
  pthread_mutex_destroy(&s->lock);
  free(s->e);
  free(s);
}

static void hex(const unsigned char *b, size_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = d[b[i] >> 4];
    out[2 * i + 1] = d[b[i] & 15];
  }
  out[2 * n] = 0;
}

static int is_id(const char *v, size_t n) {
  if (n != ID_HEX)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
      return 0;
  return 1;
}

/* The next well-formed session id among the request's cookies called
 * s->cookie, from *pos on (RFC 6265 5.4: "name=value; name=value"; a
 * value may be in double quotes); 1 with id filled, 0 when no more. */
static int next_cookie_id(const kjh_sessions *s, const char **pos, char id[ID_HEX + 1]) {
  const char *p = *pos;
  size_t nl = strlen(s->cookie);
  while (p && *p) {
    while (*p == ' ' || *p == '\t' || *p == ';')
      p++;
    const char *end = strchr(p, ';');
    if (!end)
      end = p + strlen(p);
    const char *eq = memchr(p, '=', (size_t)(end - p));
    if (eq) {
      const char *ne = eq;
      while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
        ne--;
      const char *v = eq + 1, *ve = end;
      while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
      if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
        v++;
        ve--;
      }
      if ((size_t)(ne - p) == nl && !memcmp(p, s->cookie, nl) && is_id(v, (size_t)(ve - v))) {
        memcpy(id, v, ID_HEX);
        id[ID_HEX] = 0;
        *pos = end;
        return 1;
      }
    }
    p = end;
  }
  *pos = p;
  return 0;
}

static void id_hash(const char *id, unsigned char h[32]) {
  mbedtls_sha256_ret((const unsigned char *)id, ID_HEX, h, 0);
}

/* Index of the live entry for hash h (expired ones met are dropped), or
 * -1.  Lock held. */
static int find(kjh_sessions *s, const unsigned char h[32], int64_t t) {
  for (int i = 0; i < s->n; i++) {
    if (memcmp(s->e[i].hash, h, 32) != 0)
      continue;
    if (t - s->e[i].last >= s->cfg.idle_ms || t - s->e[i].created >= s->cfg.max_age_ms) {
      s->e[i] = s->e[--s->n];
      return -1;
    }
    return i;
  }
  return -1;
}

/* Drop the session of every cookie id in req.  Lock held. */
static void drop_request(kjh_sessions *s, const kjh_request *req) {
  const char *pos = kjh_header(req, "Cookie");
  char id[ID_HEX + 1];
  while (next_cookie_id(s, &pos, id)) {
    unsigned char h[32];
    id_hash(id, h);
    for (int i = 0; i < s->n; i++)
      if (!memcmp(s->e[i].hash, h, 32)) {
        s->e[i] = s->e[--s->n];
        break;
      }
  }
}

/* Room for one more: drop the expired, then the least recently used.
 * Lock held. */
static kj_code make_room(kjh_sessions *s, int64_t t) {
  if (s->n < s->cfg.max_sessions) {
    if (s->n < s->cap)
      return KJ_OK;
    int cap = s->cap ? s->cap * 2 : 16;
    entry *ne = realloc(s->e, (size_t)cap * sizeof *ne);
    if (!ne)
      return KJ_ENOMEM;
    s->e = ne;
    s->cap = cap;
    return KJ_OK;
  }
  int lru = 0;
  for (int i = 0; i < s->n;) {
    if (t - s->e[i].last >= s->cfg.idle_ms || t - s->e[i].created >= s->cfg.max_age_ms) {
      s->e[i] = s->e[--s->n];
      continue;
    }
    if (s->e[i].last < s->e[lru].last)
      lru = i;
    i++;
  }
  if (s->n >= s->cfg.max_sessions)
    s->e[lru] = s->e[--s->n];
  return KJ_OK;
}

static kj_code set_cookie(kjh_sessions *s, const kjh_request *req, kjh_response *resp,
                          const char *value, int clear) {
  char c[256];
  snprintf(c, sizeof c, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", s->cookie, value,
           req->tls ? "; Secure" : "", clear ? "; Max-Age=0" : "");
  return kjh_response_header(resp, "Set-Cookie", c);
}

kj_code kjh_session_start(kjh_sessions *s, const kjh_request *req, kjh_response *resp,
                          const char *user, const char *role, kjh_session *out, kj_err *err) {
  kjh_session ss;
  memset(&ss, 0, sizeof ss);
  if (!user || !role || strlen(user) >= sizeof ss.user || strlen(role) >= sizeof ss.role)
    return kj_fail(err, KJ_EINVAL, "user or role missing or too long");
  snprintf(ss.user, sizeof ss.user, "%s", user);
  snprintf(ss.role, sizeof ss.role, "%s", role);
  unsigned char rnd[2 * ID_BYTES];
  if (kj_random_bytes(rnd, sizeof rnd) != KJ_OK)
    return kj_fail(err, KJ_EIO, "no random bytes for a session");
  char id[ID_HEX + 1];
  hex(rnd, ID_BYTES, id);
  hex(rnd + ID_BYTES, ID_BYTES, ss.csrf);
  entry e;
  memset(&e, 0, sizeof e);
  id_hash(id, e.hash);
  e.s = ss;
  pthread_mutex_lock(&s->lock);
  e.created = e.last = now(s);
  drop_request(s, req);
  kj_code rc = make_room(s, e.created);
  if (rc == KJ_OK)
    s->e[s->n++] = e;
  pthread_mutex_unlock(&s->lock);
  if (rc)
    return kj_fail(err, rc, "out of memory");
  rc = set_cookie(s, req, resp, id, 0);
  if (rc) {
    pthread_mutex_lock(&s->lock);
    int i = find(s, e.hash, e.created);
    if (i >= 0)
      s->e[i] = s->e[--s->n];
    pthread_mutex_unlock(&s->lock);
    return kj_fail(err, rc, "cannot set the session cookie");
  }
  if (out)
    *out = ss;
  return KJ_OK;
}

kj_code kjh_session_get(kjh_sessions *s, const kjh_request *req, kjh_session *out) {
  const char *pos = kjh_header(req, "Cookie");
  char id[ID_HEX + 1];
  while (next_cookie_id(s, &pos, id)) { /* the first one that is a live session */
    unsigned char h[32];
    id_hash(id, h);
    pthread_mutex_lock(&s->lock);
    int64_t t = now(s);
    int i = find(s, h, t);
    if (i >= 0) {
      s->e[i].last = t;
      if (out)
        *out = s->e[i].s;
    }
    pthread_mutex_unlock(&s->lock);
    if (i >= 0)
      return KJ_OK;
  }
  return KJ_EAUTH;
}

static int same(const char *a, const char *b, size_t n) {
  unsigned char d = 0;
  for (size_t i = 0; i < n; i++)
    d |= (unsigned char)(a[i] ^ b[i]);
  return d == 0;
}

kj_code kjh_session_csrf_ok(const kjh_session *ss, const kjh_request *req) {
  const char *m = req->method ? req->method : "";
  if (!strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS"))
    return KJ_OK;
  const char *tok = kjh_header(req, "X-CSRF-Token");
  char form[ID_HEX + 2];
  if (!tok) {
    const char *ct = kjh_header(req, "Content-Type");
    size_t fl = strlen("application/x-www-form-urlencoded");
    if (ct && !strncasecmp(ct, "application/x-www-form-urlencoded", fl) &&
        (ct[fl] == 0 || ct[fl] == ';' || ct[fl] == ' ') &&
        kjh_query_get(req->body, "csrf", form, sizeof form) == KJ_OK)
      tok = form;
  }
  if (!tok || strlen(tok) != ID_HEX || strlen(ss->csrf) != ID_HEX)
    return KJ_EAUTH;
  return same(tok, ss->csrf, ID_HEX) ? KJ_OK : KJ_EAUTH;
}

static void answer(kjh_response *resp, int status, const char *msg) {
  resp->status = status;
  resp->content_type = "application/json";
  kj_buf_reset(&resp->body);
  kj_buf_addf(&resp->body, "{\"error\":\"%s\"}\n", msg); /* msg: fixed text */
}

kj_code kjh_session_require(kjh_sessions *s, const kjh_request *req, kjh_response *resp,
                            kjh_session *out) {
  kjh_session ss;
  if (kjh_session_get(s, req, &ss) != KJ_OK) {
    if (kjh_header(req, "Cookie"))
      set_cookie(s, req, resp, "", 1); /* a stale cookie goes */
    answer(resp, 401, "sign in first");
    return KJ_EAUTH;
  }
  if (kjh_session_csrf_ok(&ss, req) != KJ_OK) {
    answer(resp, 403, "missing or wrong CSRF token");
    return KJ_EAUTH;
  }
  snprintf(resp->who, sizeof resp->who, "%s", ss.user);
  if (out)
    *out = ss;
  return KJ_OK;
}

kj_code kjh_session_end(kjh_sessions *s, const kjh_request *req, kjh_response *resp) {
  pthread_mutex_lock(&s->lock);
  drop_request(s, req);
  pthread_mutex_unlock(&s->lock);
  return set_cookie(s, req, resp, "", 1);
}

int kjh_sessions_count(kjh_sessions *s) {
  pthread_mutex_lock(&s->lock);
  int n = s->n;
  pthread_mutex_unlock(&s->lock);
  return n;
}
