/* dash.c - the BKD dashboard and the public IKM page (dash.h): pages,
 * sign-in, and the JSON the pages read.  Every figure comes from the
 * report documents of the scores module (kjs_store_report_offices /
 * _employees, the same text as `kinerjad report ... --json`); nothing is
 * computed twice.  Messages for people are Indonesian (ui.md). */
#include "dash.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "admin_bkd.h"
#include "assets.h"
#include "auth.h"
#include "dash_trend.h"
#include "date.h"
#include "hlc.h"
#include "kjs_enrol.h"
#include "log.h"
#include "plat.h"
#include "qr.h"
#include "record.h"
#include "reportdoc.h"
#include "session.h"
#include "table.h"
#include "unsur.h"

extern char **environ;
extern const kjh_assets kjs_bkd_assets; /* web/bkd/, by kjh_embed (server/CMakeLists.txt) */

/* sign-in limits: failures per user name and per address in a window */
#define FAIL_WINDOW_MS (15LL * 60 * 1000)
#define FAIL_MAX_USER 5
#define FAIL_MAX_ADDR 20
#define FAIL_SLOTS 512

typedef struct fail_slot {
  char key[96]; /* "u:NAME" or "a:ADDRESS" */
  int64_t start;
  int count;
} fail_slot;

/* Report documents kept between requests (issue 18 point 4): the offices
 * report of a period ("o PERIOD AS_OF") and the Tren page's answer ("t
 * YEAR AS_OF"), as text, keyed by what they are built from: the store's
 * change mark (kjs_store_change_mark: the highest position and the newest
 * epoch, read from the shared database before the build, so a document is
 * never older than its key) and the day they are built for (a month in
 * progress depends on today).  Least recently used out.  A document built
 * again after a change is assembled by the scores module from the rows of
 * the offices that did not change (the report memo, server/score.c): this
 * cache answers an unchanged store without a read, that one makes the build
 * after a change cost the changed offices only. */
#define DOC_SLOTS 32                    /* twelve months twice over and a few more */
#define DOC_TEXT_MAX (4u * 1024 * 1024) /* a larger document is built every time */

typedef struct doc_mark {
  int64_t pos;
  char epoch[KJ_INCARNATION_MAX + 1];
} doc_mark;

typedef struct doc_slot {
  char key[48];
  doc_mark mark;
  char *text; /* NULL: empty */
  size_t len;
  uint64_t used; /* d->tick when last used */
} doc_slot;

struct kjs_dash {
  kjs_app *app;
  int public_only;
  kjh_sessions *sessions;
  pthread_mutex_t mu; /* guards fails */
  fail_slot fails[FAIL_SLOTS];
  pthread_mutex_t dmu; /* guards docs, tick, builds */
  doc_slot docs[DOC_SLOTS];
  uint64_t tick;
  long builds;
  uint64_t (*now_ms)(void *ctx); /* NULL: the wall clock */
  void *now_ctx;
};

/* publik.exclude: every word an office code the store knows.  KJ_OK, or
 * KJ_EINVAL naming the config key, the file and the code. */
static kj_code check_exclude(kjs_app *app, kj_err *err) {
  const char *list = app->cfg->publik_exclude;
  for (const char *p = list; *p;) {
    while (*p == ' ' || *p == ',')
      p++;
    size_t k = strcspn(p, ", ");
    if (!k)
      break;
    char code[KJ_ID_MAX + 2];
    kj_err e;
    kj_err_clear(&e);
    if (k > KJ_ID_MAX) {
      return kj_fail(err, KJ_EINVAL,
                     "%s: 'publik.exclude': '%.40s...' is not an office code (at most %d "
                     "characters)",
                     app->cfg->conf_file, p, KJ_ID_MAX);
    }
    memcpy(code, p, k);
    code[k] = 0;
    if (kj_record_validate_id(KJ_T_OFFICE, code, &e))
      return kj_fail(err, KJ_EINVAL,
                     "%s: 'publik.exclude': '%s' is not an office code: %s (codes separated by "
                     "commas or spaces)",
                     app->cfg->conf_file, code, e.msg);
    char *state = NULL;
    kj_code rc = kjs_store_get_state(app->store, KJ_T_OFFICE, code, &state, &e);
    free(state);
    if (rc == KJ_ENOENT)
      return kj_fail(err, KJ_EINVAL,
                     "%s: 'publik.exclude': no office '%s' in the database (a typo? 'kinerjad "
                     "export office' lists the codes)",
                     app->cfg->conf_file, code);
    if (rc)
      return kj_fail(err, rc, "'publik.exclude': cannot look up office '%s': %s", code, e.msg);
    p += k;
  }
  return KJ_OK;
}

kj_code kjs_dash_new(kjs_dash **out, kjs_app *app, int public_only, kj_err *err) {
  kj_code xrc = check_exclude(app, err);
  if (xrc)
    return xrc;
  kjs_dash *d = calloc(1, sizeof *d);
  if (!d)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  d->app = app;
  d->public_only = public_only;
  kjh_session_config sc = {.cookie = "kj_bkd"};
  kj_code rc = kjh_sessions_new(&d->sessions, &sc, err);
  if (rc) {
    free(d);
    return rc;
  }
  pthread_mutex_init(&d->mu, NULL);
  pthread_mutex_init(&d->dmu, NULL);
  *out = d;
  return KJ_OK;
}

void kjs_dash_free(kjs_dash *d) {
  if (!d)
    return;
  kjh_sessions_free(d->sessions);
  pthread_mutex_destroy(&d->mu);
  pthread_mutex_destroy(&d->dmu);
  for (int i = 0; i < DOC_SLOTS; i++)
    free(d->docs[i].text);
  free(d);
}

int kjs_dash_sessions(kjs_dash *d) {
  return d ? kjh_sessions_count(d->sessions) : 0;
}

void kjs_dash_set_clock(kjs_dash *d, uint64_t (*now_ms)(void *ctx), void *ctx) {
  d->now_ms = now_ms;
  d->now_ctx = ctx;
}

long kjs_dash_builds(kjs_dash *d) {
  pthread_mutex_lock(&d->dmu);
  long n = d->builds;
  pthread_mutex_unlock(&d->dmu);
  return n;
}

static int same_mark(const doc_mark *a, const doc_mark *b) {
  return a->pos == b->pos && !strcmp(a->epoch, b->epoch);
}

/* The text kept for key at mark, copied into out: 1, else 0 (out
 * untouched).  KJ_ENOMEM or KJ_ETOOBIG of the copy: 0 with out reset. */
static int doc_get(kjs_dash *d, const doc_mark *mark, const char *key, kj_buf *out) {
  int hit = 0;
  pthread_mutex_lock(&d->dmu);
  for (int i = 0; i < DOC_SLOTS; i++) {
    doc_slot *s = &d->docs[i];
    if (s->text && same_mark(&s->mark, mark) && !strcmp(s->key, key)) {
      s->used = ++d->tick;
      kj_buf_reset(out);
      hit = kj_buf_add(out, s->text, s->len) == KJ_OK;
      if (!hit)
        kj_buf_reset(out);
      break;
    }
  }
  pthread_mutex_unlock(&d->dmu);
  return hit;
}

/* Keep a copy of text (len bytes), built for key at mark: in an empty
 * slot, or one of another mark (never to be asked again once the store
 * moved on), or the least recently used.  Best effort: nothing kept when
 * out of memory or over DOC_TEXT_MAX. */
static void doc_put(kjs_dash *d, const doc_mark *mark, const char *key, const char *text,
                    size_t len) {
  if (len > DOC_TEXT_MAX || strlen(key) >= sizeof d->docs[0].key)
    return;
  char *copy = malloc(len + 1);
  if (!copy)
    return;
  memcpy(copy, text, len);
  copy[len] = 0;
  pthread_mutex_lock(&d->dmu);
  doc_slot *v = NULL;
  for (int i = 0; i < DOC_SLOTS; i++) {
    doc_slot *s = &d->docs[i];
    if (s->text && same_mark(&s->mark, mark) && !strcmp(s->key, key)) {
      v = s; /* another thread built it too */
      break;
    }
    if (s->text && !same_mark(&s->mark, mark) && s->mark.pos <= mark->pos) {
      free(s->text); /* built from an older store */
      s->text = NULL;
    }
    if (!v || (v->text && (!s->text || s->used < v->used)))
      v = s;
  }
  free(v->text);
  snprintf(v->key, sizeof v->key, "%s", key);
  v->mark = *mark;
  v->text = copy;
  v->len = len;
  v->used = ++d->tick;
  pthread_mutex_unlock(&d->dmu);
}

/* The offices report of period as of as_of at mark into out (reset
 * first): the kept one, or built (and kept).  KJ_OK, or the store's code
 * with err. */
static kj_code report_text(kjs_dash *d, const doc_mark *mark, const char *period, const char *as_of,
                           kj_buf *out, kj_err *err) {
  char key[48];
  snprintf(key, sizeof key, "o %s %s", period, as_of);
  if (doc_get(d, mark, key, out))
    return KJ_OK;
  kj_buf_reset(out);
  kj_code rc = kjs_store_report_offices(d->app->store, period, as_of, out, err);
  pthread_mutex_lock(&d->dmu);
  d->builds++;
  pthread_mutex_unlock(&d->dmu);
  if (!rc)
    doc_put(d, mark, key, out->data ? out->data : "", out->len);
  return rc;
}

static int is_dash_path(const char *path) {
  return !strcmp(path, "/") || !strcmp(path, "/publik") || !strcmp(path, "/favicon.ico") ||
         !strncmp(path, "/assets/", 8) || !strncmp(path, "/api/", 5);
}

/* What a public-only listener serves. */
static int is_publik_path(const char *path) {
  static const char *const ok[] = {"/publik",        "/api/publik",     "/assets/publik.js",
                                   "/assets/fmt.js", "/assets/lang.js", "/assets/bkd.css",
                                   "/favicon.ico"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (!strcmp(path, ok[i]))
      return 1;
  return 0;
}

int kjs_dash_is_public(void *app, const char *method, const char *path) {
  (void)method;
  kjs_app *a = app;
  return a && a->dash && (a->dash->public_only || is_dash_path(path));
}

/* ---------------------------------------------------------------------- */
/* answers */

typedef struct dctx {
  kjs_dash *d;
  const kjh_request *req;
  kjh_response *resp;
  kjh_session ss;
  int en; /* the page asked for English (Accept-Language: en...) */
} dctx;

/* The text of a message in the page's language: the pages send
 * Accept-Language with the language chosen (Indonesian by default), so
 * the errors they show are in it too; a request without the header
 * (curl, scripts) gets Indonesian. */
#define L(c, id, en_text) ((c)->en ? (en_text) : (id))

static int wants_english(const kjh_request *req) {
  const char *al = kjh_header(req, "Accept-Language");
  return al && (al[0] == 'e' || al[0] == 'E') && (al[1] == 'n' || al[1] == 'N') &&
         (al[2] == 0 || al[2] == '-' || al[2] == ',' || al[2] == ';');
}

static void reply_err(dctx *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply_err(dctx *c, int status, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "error", msg);
  char *t = cJSON_PrintUnformatted(o);
  kj_buf_reset(&c->resp->body);
  kj_buf_addf(&c->resp->body, "%s\n", t ? t : "{\"error\":\"out of memory\"}");
  free(t);
  cJSON_Delete(o);
  c->resp->status = status;
  c->resp->content_type = "application/json";
}

/* Answer o (taken: deleted here) as JSON 200. */
static void reply_json(dctx *c, cJSON *o) {
  char *t = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!t) {
    reply_err(c, 500, L(c, "kehabisan memori", "out of memory"));
    return;
  }
  kj_buf_reset(&c->resp->body);
  if (kj_buf_add(&c->resp->body, t, strlen(t)) || kj_buf_add(&c->resp->body, "\n", 1)) {
    free(t);
    reply_err(c, 500, L(c, "jawaban terlalu besar", "answer too large"));
    return;
  }
  free(t);
  c->resp->status = 200;
  c->resp->content_type = "application/json";
  kjh_response_header(c->resp, "Cache-Control", "no-store");
}

static int store_status(kj_code rc) {
  return rc == KJ_EINVAL ? 400 : rc == KJ_ENOENT ? 404 : rc == KJ_EBUSY ? 503 : 500;
}

/* A failure of the store (rc, its message msg: the database's words, in
 * English) answered in the page's language, msg kept as the detail. */
static void reply_store(dctx *c, kj_code rc, const char *msg) {
  if (rc == KJ_EBUSY)
    reply_err(c, 503,
              L(c, "basis data sedang sibuk: coba lagi sebentar lagi (%s)",
                "the database is busy: try again in a moment (%s)"),
              msg);
  else if (rc == KJ_ENOMEM)
    reply_err(c, 500, L(c, "kehabisan memori", "out of memory"));
  else
    reply_err(c, store_status(rc), L(c, "basis data gagal (%s)", "the database failed (%s)"), msg);
}

/* A query (or form body) parameter; "" when absent.  0, or -1 after a 400. */
static int param(dctx *c, const char *src, const char *name, char *out, size_t size) {
  kj_code r = kjh_query_get(src, name, out, size);
  if (r == KJ_ENOENT)
    out[0] = 0;
  else if (r != KJ_OK) {
    reply_err(c, 400, L(c, "parameter '%s' tidak sah", "parameter '%s' is not valid"), name);
    return -1;
  }
  return 0;
}

static int get_period(dctx *c, char *period, size_t size) {
  kj_period p;
  if (param(c, c->req->query, "period", period, size))
    return -1;
  if (!period[0] || kj_period_parse(period, &p)) {
    reply_err(c, 400,
              L(c, "periode '%s' tidak sah: contoh 2026, 2026-Q1 atau 2026-01",
                "period '%s' is not valid: e.g. 2026, 2026-Q1 or 2026-01"),
              period);
    return -1;
  }
  return 0;
}

static int get_office(dctx *c, char *office, size_t size) {
  kj_err e;
  kj_err_clear(&e);
  if (param(c, c->req->query, "office", office, size))
    return -1;
  if (!office[0] || kj_record_validate_id(KJ_T_OFFICE, office, &e)) {
    reply_err(c, 400, L(c, "kode kantor '%s' tidak sah", "office code '%s' is not valid"), office);
    return -1;
  }
  return 0;
}

/* Today in the offices' zone (kjs_store_offices_zone, docs/scoring.md "The
 * day of a report"; the dashboard's clock: kjs_dash_set_clock).  zone, when
 * not NULL, gets the zone's abbreviation when the offices are in several
 * zones (the day is then named with it), else "". */
static void today(kjs_dash *d, char out[KJ_DATE_STRLEN + 1], char zone[8]) {
  int64_t t = d->now_ms ? (int64_t)(d->now_ms(d->now_ctx) / 1000) : (int64_t)time(NULL);
  int off = 0, mixed = 0;
  const char *abbr = NULL;
  kj_err e;
  kj_err_clear(&e);
  if (kjs_store_offices_zone(d->app->store, &off, &abbr, &mixed, &e))
    KJ_WARN("the offices' time zone: %s (their day taken as WIB's)", e.msg);
  kj_date_format((kj_day)((t + (int64_t)off * 60) / 86400), out);
  if (zone)
    snprintf(zone, 8, "%s", mixed && abbr ? abbr : "");
}

/* The offices report of period as of as_of (today when NULL), parsed.
 * NULL after an answer. */
static cJSON *offices_doc(dctx *c, const char *period, const char *as_of) {
  char day[KJ_DATE_STRLEN + 1], zone[8] = "";
  if (!as_of) {
    today(c->d, day, zone);
    as_of = day;
  }
  kj_buf doc;
  kj_buf_init(&doc, c->resp->body.max);
  kj_err e;
  kj_err_clear(&e);
  doc_mark mk;
  kj_code rc = kjs_store_change_mark(c->d->app->store, &mk.pos, mk.epoch, sizeof mk.epoch, &e);
  if (!rc)
    rc = report_text(c->d, &mk, period, as_of, &doc, &e);
  cJSON *j = NULL;
  if (rc)
    reply_store(c, rc, e.msg);
  else if (!(j = cJSON_ParseWithLength(doc.data ? doc.data : "", doc.len)))
    reply_err(c, 500, L(c, "laporan tidak terbaca", "the report cannot be read"));
  else {
    kjs_dash_mark_no_data(j); /* offices with nothing to judge: no data, unranked */
    if (zone[0])              /* offices in several zones: whose day it is */
      cJSON_AddStringToObject(j, "as_of_zone", zone);
  }
  kj_buf_release(&doc);
  return j;
}

static cJSON *employees_doc(dctx *c, const char *period, const char *office) {
  kj_buf doc;
  kj_buf_init(&doc, c->resp->body.max);
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_store_report_employees(c->d->app->store, period, office, &doc, &e);
  cJSON *j = NULL;
  if (rc)
    reply_store(c, rc, e.msg);
  else if (!(j = cJSON_ParseWithLength(doc.data ? doc.data : "", doc.len)))
    reply_err(c, 500, L(c, "laporan tidak terbaca", "the report cannot be read"));
  kj_buf_release(&doc);
  return j;
}

static cJSON *unsur_names(void) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < KJ_UNSUR_COUNT; i++) {
    const kj_unsur_def *u = kj_unsur(i);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "field", u->field);
    cJSON_AddStringToObject(o, "name", u->name);
    cJSON_AddStringToObject(o, "name_en", u->name_en);
    cJSON_AddItemToArray(a, o);
  }
  return a;
}

/* ---------------------------------------------------------------------- */
/* sign-in */

static void addr_of(const char *remote, char *out, size_t size) {
  snprintf(out, size, "%s", remote ? remote : "?");
  char *colon = strrchr(out, ':');
  if (colon && (strchr(out, '.') || out[0] == '[')) /* "1.2.3.4:port", "[::1]:port" */
    *colon = 0;
}

static fail_slot *fail_find(kjs_dash *d, const char *key, int64_t now, int make) {
  fail_slot *oldest = &d->fails[0];
  for (int i = 0; i < FAIL_SLOTS; i++) {
    fail_slot *f = &d->fails[i];
    if (f->key[0] && now - f->start >= FAIL_WINDOW_MS)
      f->key[0] = 0; /* window over */
    if (f->key[0] && !strcmp(f->key, key))
      return f;
    if (!f->key[0] || f->start < oldest->start)
      oldest = f;
  }
  if (!make)
    return NULL;
  snprintf(oldest->key, sizeof oldest->key, "%s", key);
  oldest->start = now;
  oldest->count = 0;
  return oldest;
}

/* Seconds to wait before user may try again from addr; 0 when allowed. */
static int fail_wait(kjs_dash *d, const char *user, const char *addr, int64_t now) {
  char ku[96], ka[96];
  snprintf(ku, sizeof ku, "u:%s", user);
  snprintf(ka, sizeof ka, "a:%s", addr);
  int wait = 0;
  pthread_mutex_lock(&d->mu);
  fail_slot *fu = fail_find(d, ku, now, 0), *fa = fail_find(d, ka, now, 0);
  if (fu && fu->count >= FAIL_MAX_USER)
    wait = (int)((fu->start + FAIL_WINDOW_MS - now) / 1000) + 1;
  if (fa && fa->count >= FAIL_MAX_ADDR) {
    int w = (int)((fa->start + FAIL_WINDOW_MS - now) / 1000) + 1;
    wait = w > wait ? w : wait;
  }
  pthread_mutex_unlock(&d->mu);
  return wait;
}

static void fail_note(kjs_dash *d, const char *user, const char *addr, int64_t now) {
  char ku[96], ka[96];
  snprintf(ku, sizeof ku, "u:%s", user);
  snprintf(ka, sizeof ka, "a:%s", addr);
  pthread_mutex_lock(&d->mu);
  fail_find(d, ku, now, 1)->count++;
  fail_find(d, ka, now, 1)->count++;
  pthread_mutex_unlock(&d->mu);
}

static cJSON *me_json(const kjh_session *ss) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "user", ss->user);
  cJSON_AddStringToObject(o, "role", ss->role);
  cJSON_AddStringToObject(o, "csrf", ss->csrf);
  return o;
}

/* POST /api/masuk, form user=&password=: a session, or 401/429. */
static void a_signin(dctx *c) {
  char user[80], pass[256], addr[80], role[KJS_USER_ROLE_MAX + 1];
  if (param(c, c->req->body, "user", user, sizeof user) ||
      param(c, c->req->body, "password", pass, sizeof pass))
    return;
  if (!user[0] || !pass[0]) {
    reply_err(c, 400,
              L(c, "isi nama pengguna dan kata sandi", "fill in the user name and password"));
    return;
  }
  addr_of(c->req->remote, addr, sizeof addr);
  int64_t now = (int64_t)kj_wall_ms();
  int wait = fail_wait(c->d, user, addr, now);
  if (wait > 0) {
    char ra[16];
    snprintf(ra, sizeof ra, "%d", wait);
    reply_err(c, 429,
              L(c, "terlalu banyak percobaan masuk yang gagal: coba lagi dalam %d menit",
                "too many failed sign-ins: try again in %d minutes"),
              (wait + 59) / 60);
    kjh_response_header(c->resp, "Retry-After", ra);
    return;
  }
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_store_user_verify(c->d->app->store, user, pass, role, &e);
  memset(pass, 0, sizeof pass);
  if (rc == KJ_EAUTH) {
    fail_note(c->d, user, addr, now);
    reply_err(c, 401, L(c, "nama pengguna atau kata sandi salah", "wrong user name or password"));
    return;
  }
  if (rc) {
    reply_err(c, 500, "%s", e.msg);
    return;
  }
  if (kjh_session_start(c->d->sessions, c->req, c->resp, user, role, &c->ss, &e)) {
    reply_err(c, 500, "%s", e.msg);
    return;
  }
  snprintf(c->resp->who, sizeof c->resp->who, "user:%.50s", user);
  reply_json(c, me_json(&c->ss));
}

static void a_signout(dctx *c) {
  kjh_session_end(c->d->sessions, c->req, c->resp);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "ok", 1);
  reply_json(c, o);
}

static void a_me(dctx *c) {
  reply_json(c, me_json(&c->ss));
}

/* ---------------------------------------------------------------------- */
/* Ringkasan, Kantor, Pegawai */

static void a_ringkasan(dctx *c) {
  char period[16];
  if (get_period(c, period, sizeof period))
    return;
  cJSON *j = offices_doc(c, period, NULL);
  if (j)
    reply_json(c, j);
}

static cJSON *find_office(cJSON *doc, const char *office) {
  cJSON *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "offices")) {
    const cJSON *code = cJSON_GetObjectItem(o, "office");
    if (cJSON_IsString(code) && !strcmp(code->valuestring, office))
      return o;
  }
  return NULL;
}

static kj_code comment_each(void *ctx, const char *date, const char *service, const char *comment) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddStringToObject(o, "date", date) ||
      !cJSON_AddStringToObject(o, "service", service) ||
      !cJSON_AddStringToObject(o, "comment", comment) || !cJSON_AddItemToArray(ctx, o)) {
    cJSON_Delete(o);
    return KJ_ENOMEM;
  }
  return KJ_OK;
}

/* The newest `max` comments of office's surveys in period, newest first
 * (one store query: kjs_store_comments); NULL when the store fails. */
static cJSON *comments(dctx *c, const char *office, const char *period, int max) {
  cJSON *list = cJSON_CreateArray();
  kj_err e;
  kj_err_clear(&e);
  if (!list || kjs_store_comments(c->d->app->store, office, period, max, comment_each, list, &e)) {
    cJSON_Delete(list);
    return NULL;
  }
  return list;
}

static void a_kantor(dctx *c) {
  char period[16], office[KJ_ID_MAX + 1];
  if (get_period(c, period, sizeof period) || get_office(c, office, sizeof office))
    return;
  cJSON *doc = offices_doc(c, period, NULL);
  if (!doc)
    return;
  cJSON *entry = find_office(doc, office);
  if (!entry) {
    cJSON_Delete(doc);
    reply_err(c, 404, L(c, "kantor '%s' tidak ada", "no office '%s'"), office);
    return;
  }
  cJSON *emp = employees_doc(c, period, office);
  if (!emp) {
    cJSON_Delete(doc);
    return;
  }
  cJSON *out = cJSON_CreateObject();
  cJSON_AddStringToObject(out, "period", period);
  cJSON_AddItemToObject(out, "as_of", cJSON_Duplicate(cJSON_GetObjectItem(doc, "as_of"), 1));
  if (cJSON_GetObjectItem(doc, "as_of_zone"))
    cJSON_AddItemToObject(out, "as_of_zone",
                          cJSON_Duplicate(cJSON_GetObjectItem(doc, "as_of_zone"), 1));
  cJSON_AddItemToObject(out, "office", cJSON_Duplicate(entry, 1));
  cJSON_AddItemToObject(out, "employees", cJSON_DetachItemFromObject(emp, "employees"));
  cJSON *cm = comments(c, office, period, 50);
  cJSON_AddItemToObject(out, "comments", cm ? cm : cJSON_CreateArray());
  cJSON_AddItemToObject(out, "unsur", unsur_names());
  cJSON_Delete(emp);
  cJSON_Delete(doc);
  reply_json(c, out);
}

/* ---------------------------------------------------------------------- */
/* Kantor's records: GET /api/catatan?office=C&type=T[&status=S][&from=D]
 * [&to=D][&nip=N][&period=P][&page=K] */

#define RECORDS_PAGE 50

typedef struct records_ctx {
  const kj_type_def *td;
  int date_field, period_field, status_field, resolved_field;
  int nip_fields[3];
  kj_day from, to; /* inclusive */
  const char *status, *nip;
  cJSON *list;
} records_ctx;

static int field_index(const kj_type_def *td, const char *name) {
  for (int i = 0; i < td->nfields; i++)
    if (!strcmp(td->fields[i].name, name))
      return i;
  return -1;
}

static const char *fval(const cJSON *f, const kj_type_def *td, int i) {
  if (i < 0)
    return NULL;
  const cJSON *v = cJSON_GetObjectItem(f, td->fields[i].name);
  return v && cJSON_IsString(v) ? v->valuestring : NULL;
}

static int record_each(void *ud, const char *state) {
  records_ctx *x = ud;
  cJSON *s = cJSON_Parse(state);
  const cJSON *f = cJSON_GetObjectItem(s, "f"), *id = cJSON_GetObjectItem(s, "id");
  int keep = cJSON_IsObject(f) && cJSON_IsString(id);
  /* the date range: a DATE field in it, or a PERIOD field overlapping it */
  const char *d = fval(f, x->td, x->date_field >= 0 ? x->date_field : x->period_field);
  if (keep) {
    kj_day day;
    kj_period p;
    if (!d)
      keep = 0;
    else if (x->date_field >= 0)
      keep = !kj_date_parse(d, &day) && day >= x->from && day <= x->to;
    else
      keep = !kj_period_parse(d, &p) && p.first <= x->to && p.last >= x->from;
  }
  if (keep && x->status[0]) {
    if (x->status_field >= 0) {
      const char *st = fval(f, x->td, x->status_field);
      keep = !strcmp(st ? st : "submitted", x->status); /* absent means submitted */
    } else if (x->resolved_field >= 0) {
      int resolved = fval(f, x->td, x->resolved_field) != NULL;
      keep = !strcmp(x->status, resolved ? "resolved" : "open");
    }
  }
  if (keep && x->nip[0]) {
    keep = 0;
    for (int k = 0; k < 3; k++) {
      const char *v = fval(f, x->td, x->nip_fields[k]);
      if (v && !strcmp(v, x->nip))
        keep = 1;
    }
  }
  if (keep) {
    cJSON *o = cJSON_CreateObject(), *v = cJSON_AddObjectToObject(o, "f");
    cJSON_AddStringToObject(o, "id", id->valuestring);
    cJSON_AddStringToObject(o, "sort", d ? d : "");
    for (int i = 0; i < x->td->nfields; i++) {
      const char *fv = fval(f, x->td, i);
      if (fv)
        cJSON_AddStringToObject(v, x->td->fields[i].name, fv);
    }
    cJSON_AddItemToArray(x->list, o);
  }
  cJSON_Delete(s);
  return 0;
}

static int by_sort_desc(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  int r = strcmp(cJSON_GetObjectItem(y, "sort")->valuestring,
                 cJSON_GetObjectItem(x, "sort")->valuestring);
  return r ? r
           : strcmp(cJSON_GetObjectItem(x, "id")->valuestring,
                    cJSON_GetObjectItem(y, "id")->valuestring);
}

static int get_day(dctx *c, const char *name, kj_day *out) {
  char v[16];
  if (param(c, c->req->query, name, v, sizeof v))
    return -1;
  if (v[0] && kj_date_parse(v, out)) {
    reply_err(c, 400,
              L(c, "tanggal '%s' (%s) tidak sah: contoh 2026-01-31",
                "date '%s' (%s) is not valid: e.g. 2026-01-31"),
              v, name);
    return -1;
  }
  return 0;
}

static void a_records(dctx *c) {
  char office[KJ_ID_MAX + 1], type[16], status[16], nip[24], period[16], pg[12];
  if (get_office(c, office, sizeof office) || param(c, c->req->query, "type", type, sizeof type) ||
      param(c, c->req->query, "status", status, sizeof status) ||
      param(c, c->req->query, "nip", nip, sizeof nip) ||
      param(c, c->req->query, "period", period, sizeof period) ||
      param(c, c->req->query, "page", pg, sizeof pg))
    return;
  const kj_type_def *td = kj_type_by_name(type[0] ? type : "survey");
  if (!td || td->office_field < 0 || td->type == KJ_T_SERVICE || td->type == KJ_T_ACTIVATION ||
      td->type == KJ_T_EMPLOYEE) {
    reply_err(c, 400,
              L(c,
                "jenis catatan '%s' tidak dikenal: survey, activity, complaint, rating atau target",
                "record type '%s' is not known: survey, activity, complaint, rating or target"),
              type);
    return;
  }
  records_ctx x = {.td = td, .status = status, .nip = nip, .list = NULL};
  x.date_field = x.period_field = -1;
  for (int i = 0; i < td->nfields; i++) {
    if (x.date_field < 0 && td->fields[i].ft == KJ_FT_DATE)
      x.date_field = i;
    if (x.period_field < 0 && td->fields[i].ft == KJ_FT_PERIOD)
      x.period_field = i;
  }
  x.status_field = field_index(td, "status");
  x.resolved_field = td->type == KJ_T_COMPLAINT ? field_index(td, "resolved") : -1;
  x.nip_fields[0] = field_index(td, "nip");
  x.nip_fields[1] = field_index(td, td->type == KJ_T_RATING ? "ratee" : "resolved_by");
  x.nip_fields[2] = field_index(td, td->type == KJ_T_RATING ? "rater" : "reviewed_by");
  if (status[0] &&
      (x.status_field >= 0     ? !(!strcmp(status, "draft") || !strcmp(status, "submitted") ||
                               !strcmp(status, "approved") || !strcmp(status, "rejected"))
       : x.resolved_field >= 0 ? strcmp(status, "open") != 0 && strcmp(status, "resolved") != 0
                               : 1)) {
    reply_err(c, 400,
              L(c, "status '%s' tidak berlaku untuk %s", "status '%s' does not apply to %s"),
              status, td->plural);
    return;
  }
  if (nip[0] && x.nip_fields[0] < 0 && x.nip_fields[1] < 0 && x.nip_fields[2] < 0) {
    reply_err(c, 400,
              L(c, "%s tidak memuat pegawai: saring pegawai tidak berlaku",
                "%s name no employee: the employee filter does not apply"),
              td->plural);
    return;
  }
  /* the range: from/to, each defaulting to the period's (the whole of time
   * without one) */
  kj_period pp;
  x.from = 0;
  x.to = (kj_day)1 << 30;
  if (period[0]) {
    if (kj_period_parse(period, &pp)) {
      reply_err(c, 400,
                L(c, "periode '%s' tidak sah: contoh 2026, 2026-Q1 atau 2026-01",
                  "period '%s' is not valid: e.g. 2026, 2026-Q1 or 2026-01"),
                period);
      return;
    }
    x.from = pp.first;
    x.to = pp.last;
  }
  if (get_day(c, "from", &x.from) || get_day(c, "to", &x.to))
    return;
  char *end = NULL;
  long page = pg[0] ? strtol(pg, &end, 10) : 1;
  if ((pg[0] && *end) || page < 1 || page > 1000000) {
    reply_err(c, 400, L(c, "halaman '%s' tidak sah", "page '%s' is not valid"), pg);
    return;
  }
  x.list = cJSON_CreateArray();
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_store_each_state(c->d->app->store, td->type, office, record_each, &x, &e);
  if (rc) {
    cJSON_Delete(x.list);
    reply_store(c, rc, e.msg);
    return;
  }
  int n = cJSON_GetArraySize(x.list);
  cJSON **v = malloc((size_t)(n ? n : 1) * sizeof(cJSON *));
  if (!v) {
    cJSON_Delete(x.list);
    reply_err(c, 500, L(c, "kehabisan memori", "out of memory"));
    return;
  }
  int i = 0;
  cJSON *o;
  cJSON_ArrayForEach(o, x.list) {
    if (i < n)
      v[i++] = o;
  }
  if (n)
    qsort((void *)v, (size_t)n, sizeof(cJSON *), by_sort_desc);
  long pages = (n + RECORDS_PAGE - 1) / RECORDS_PAGE;
  cJSON *out = cJSON_CreateObject(), *fields = cJSON_AddArrayToObject(out, "fields"),
        *rows = cJSON_CreateArray();
  cJSON_AddStringToObject(out, "type", td->name);
  for (int k = 0; k < td->nfields; k++)
    if (k != td->office_field)
      cJSON_AddItemToArray(fields, cJSON_CreateString(td->fields[k].name));
  cJSON_AddNumberToObject(out, "total", n);
  cJSON_AddNumberToObject(out, "page", (double)page);
  cJSON_AddNumberToObject(out, "pages", (double)pages);
  cJSON_AddNumberToObject(out, "per_page", RECORDS_PAGE);
  for (long k = (page - 1) * RECORDS_PAGE; k < n && k < page * RECORDS_PAGE; k++) {
    cJSON_DeleteItemFromObject(v[k], "sort");
    cJSON_AddItemToArray(rows, cJSON_Duplicate(v[k], 1));
  }
  cJSON_AddItemToObject(out, "records", rows);
  free(v);
  cJSON_Delete(x.list);
  reply_json(c, out);
}

/* Every office's employees report of period, joined: {"period",
 * "employees": [...]}; NULL after an answer. */
static cJSON *pegawai_doc(dctx *c, const char *period) {
  cJSON *doc = offices_doc(c, period, NULL);
  if (!doc)
    return NULL;
  cJSON *rows = cJSON_CreateArray(), *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "offices")) {
    const cJSON *code = cJSON_GetObjectItem(o, "office"), *name = cJSON_GetObjectItem(o, "name");
    if (!cJSON_IsString(code))
      continue;
    cJSON *emp = employees_doc(c, period, code->valuestring);
    if (!emp) {
      cJSON_Delete(rows);
      cJSON_Delete(doc);
      return NULL;
    }
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(emp, "employees")) {
      cJSON *r = cJSON_CreateObject();
      cJSON_AddStringToObject(r, "office", code->valuestring);
      cJSON_AddStringToObject(r, "office_name", cJSON_IsString(name) ? name->valuestring : "");
      static const char *const keys[] = {
          "nip",     "name", "capaian", "rating_hasil_kerja", "perilaku", "rating_perilaku",
          "predikat"};
      for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        cJSON_AddItemToObject(r, keys[k], cJSON_Duplicate(cJSON_GetObjectItem(e, keys[k]), 1));
      cJSON_AddItemToArray(rows, r);
    }
    cJSON_Delete(emp);
  }
  cJSON *out = cJSON_CreateObject();
  cJSON_AddStringToObject(out, "period", period);
  cJSON_AddItemToObject(out, "employees", rows);
  cJSON_Delete(doc);
  return out;
}

/* GET /api/pegawai?period=P: every office's employees report, joined. */
static void a_pegawai(dctx *c) {
  char period[16];
  if (get_period(c, period, sizeof period))
    return;
  cJSON *out = pegawai_doc(c, period);
  if (out)
    reply_json(c, out);
}

/* ---------------------------------------------------------------------- */
/* Tren */

static long long hundredths(const cJSON *v) {
  return cJSON_IsNumber(v) ? llround(v->valuedouble * 100.0) : KJ_RNULL;
}

static cJSON *num_or_null(long long h) {
  return h == KJ_RNULL ? cJSON_CreateNull() : cJSON_CreateNumber((double)h / 100.0);
}

typedef struct trend_office {
  char code[KJ_ID_MAX + 1];
  char name[160];
  kjs_trend_month m[12];
  unsigned flags[12];
  int attention; /* months flagged */
  int last;      /* the last month flagged, -1 none */
} trend_office;

static int trend_cmp(const void *a, const void *b) {
  const trend_office *x = a, *y = b;
  if ((x->attention > 0) != (y->attention > 0))
    return x->attention > 0 ? -1 : 1;
  if (x->last != y->last)
    return y->last - x->last; /* the most recent decline first */
  return strcmp(x->code, y->code);
}

/* GET /api/tren?year=Y: months 1..12 of every office, the change from the
 * month before and the declines (dash_trend.h); offices that need
 * attention first. */
static cJSON *tren_doc(dctx *c, const char *year, const doc_mark *mark, const char *day);

static int get_year(dctx *c, char *year, size_t size) {
  if (param(c, c->req->query, "year", year, size))
    return -1;
  kj_period yp;
  if (!year[0] || kj_period_parse(year, &yp) || yp.kind != KJ_PERIOD_YEAR) {
    reply_err(c, 400,
              L(c, "tahun '%s' tidak sah: contoh 2026", "year '%s' is not valid: e.g. 2026"), year);
    return -1;
  }
  return 0;
}

/* The store's change mark, NULL after an answer. */
static doc_mark *read_mark(dctx *c, doc_mark *mk) {
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_store_change_mark(c->d->app->store, &mk->pos, mk->epoch, sizeof mk->epoch, &e);
  if (rc) {
    reply_store(c, rc, e.msg);
    return NULL;
  }
  return mk;
}

static void a_tren(dctx *c) {
  char year[8], day[KJ_DATE_STRLEN + 1], key[48];
  doc_mark mk;
  if (get_year(c, year, sizeof year) || !read_mark(c, &mk))
    return;
  today(c->d, day, NULL);
  snprintf(key, sizeof key, "t %s %s", year, day);
  if (doc_get(c->d, &mk, key, &c->resp->body)) { /* the answer kept */
    c->resp->status = 200;
    c->resp->content_type = "application/json";
    kjh_response_header(c->resp, "Cache-Control", "no-store");
    return;
  }
  cJSON *out = tren_doc(c, year, &mk, day);
  if (!out)
    return;
  reply_json(c, out);
  if (c->resp->status == 200)
    doc_put(c->d, &mk, key, c->resp->body.data, c->resp->body.len);
}

/* The offices reports of up to twelve months, built by two threads (the
 * caller's and one more: the months are independent and the store serves
 * each read on its own connection), each parsed.  Filled by months_build:
 * doc[m] (owned by the caller), or rc[m] with err[m], or bad[m] 1 when the
 * document does not parse. */
typedef struct month_job {
  kjs_dash *d;
  doc_mark mark;
  size_t max; /* the largest document, bytes */
  char as_of[KJ_DATE_STRLEN + 1];
  char period[12][16];
  int months;
  cJSON *doc[12];
  kj_code rc[12];
  kj_err err[12];
  int bad[12];
  int err_m; /* 1 + the first month that failed, 0 none */
  int next;  /* the next month to build, under mu */
  pthread_mutex_t mu;
} month_job;

static void *months_work(void *arg) {
  month_job *j = arg;
  for (;;) {
    pthread_mutex_lock(&j->mu);
    int m = j->next++;
    pthread_mutex_unlock(&j->mu);
    if (m >= j->months)
      return NULL;
    kj_buf doc;
    kj_buf_init(&doc, j->max);
    kj_err_clear(&j->err[m]);
    j->rc[m] = report_text(j->d, &j->mark, j->period[m], j->as_of, &doc, &j->err[m]);
    if (!j->rc[m] && !(j->doc[m] = cJSON_ParseWithLength(doc.data ? doc.data : "", doc.len)))
      j->bad[m] = 1;
    else if (!j->rc[m])
      kjs_dash_mark_no_data(j->doc[m]); /* a month without data: no data, not 0 */
    kj_buf_release(&doc);
  }
}

static void months_build(month_job *j) {
  pthread_t t;
  pthread_mutex_init(&j->mu, NULL);
  int helper = j->months > 1 && !pthread_create(&t, NULL, months_work, j);
  months_work(j);
  if (helper)
    pthread_join(t, NULL);
  pthread_mutex_destroy(&j->mu);
}

/* The Tren page's document of year (a valid year) as of day, from the
 * offices reports at mark (report_text); NULL after an answer. */
static cJSON *tren_doc(dctx *c, const char *year, const doc_mark *mark, const char *day) {
  kjs_trend_limits lim;
  kjs_trend_limits_defaults(&lim);
  for (int i = 0; i < 4; i++)
    lim.drop[i] = c->d->app->cfg->trend_drop[i];
  trend_office *offs = NULL;
  size_t n = 0;
  int months = 0;
  month_job job = {.d = c->d, .mark = *mark, .max = c->resp->body.max};
  snprintf(job.as_of, sizeof job.as_of, "%s", day);
  for (int m = 0; m < 12; m++) {
    snprintf(job.period[m], sizeof job.period[m], "%s-%02d", year, m + 1);
    if (strcmp(job.period[m], day) > 0) /* a month not begun: no data yet */
      break;
    months = m + 1;
  }
  job.months = months;
  months_build(&job);
  for (int m = 0; m < months; m++) {
    if ((job.rc[m] || job.bad[m]) && !job.err_m)
      job.err_m = m + 1;
  }
  if (job.err_m) {
    int m = job.err_m - 1;
    if (job.bad[m])
      reply_err(c, 500, L(c, "laporan tidak terbaca", "the report cannot be read"));
    else
      reply_store(c, job.rc[m], job.err[m].msg);
    for (int k = 0; k < months; k++)
      cJSON_Delete(job.doc[k]);
    return NULL;
  }
  for (int m = 0; m < months; m++) {
    cJSON *doc = job.doc[m];
    job.doc[m] = NULL;
    cJSON *o;
    cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "offices")) {
      const cJSON *code = cJSON_GetObjectItem(o, "office"), *nm = cJSON_GetObjectItem(o, "name");
      size_t k = 0;
      if (!cJSON_IsString(code))
        continue;
      while (k < n && strcmp(offs[k].code, code->valuestring) != 0)
        k++;
      if (k == n) {
        trend_office *no = realloc(offs, (n + 1) * sizeof *no);
        if (!no) {
          cJSON_Delete(doc);
          for (int r = m + 1; r < months; r++)
            cJSON_Delete(job.doc[r]);
          free(offs);
          reply_err(c, 500, L(c, "kehabisan memori", "out of memory"));
          return NULL;
        }
        offs = no;
        memset(&offs[n], 0, sizeof offs[n]);
        snprintf(offs[n].code, sizeof offs[n].code, "%s", code->valuestring);
        snprintf(offs[n].name, sizeof offs[n].name, "%s",
                 cJSON_IsString(nm) ? nm->valuestring : "");
        for (int i = 0; i < 12; i++)
          for (int f = 0; f < KJS_TM__COUNT; f++)
            offs[n].m[i].v[f] = KJ_RNULL;
        n++;
      }
      kjs_trend_month *tm = &offs[k].m[m];
      tm->v[KJS_TM_IKK] = hundredths(cJSON_GetObjectItem(o, "ikk"));
      tm->v[KJS_TM_IKM] = hundredths(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "ikm"), "value"));
      tm->v[KJS_TM_ON_TIME] =
          hundredths(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "complaints"), "on_time_rate"));
      tm->v[KJS_TM_COMPLIANCE] = hundredths(cJSON_GetObjectItem(o, "compliance"));
      tm->v[KJS_TM_CAPAIAN] =
          hundredths(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "employees"), "capaian_mean"));
    }
    cJSON_Delete(doc);
  }
  for (size_t k = 0; k < n; k++) {
    offs[k].last = -1;
    for (int m = 0; m < months; m++) {
      offs[k].flags[m] = kjs_trend_flags(offs[k].m, (size_t)months, (size_t)m, &lim);
      if (offs[k].flags[m]) {
        offs[k].attention++;
        offs[k].last = m;
      }
    }
  }
  if (n)
    qsort(offs, n, sizeof *offs, trend_cmp);
  cJSON *out = cJSON_CreateObject(), *arr = cJSON_CreateArray();
  cJSON_AddStringToObject(out, "year", year);
  cJSON *lj = cJSON_AddObjectToObject(out, "limits");
  for (int f = 0; f < 4; f++)
    cJSON_AddItemToObject(lj, kjs_trend_names[f], num_or_null(lim.drop[f]));
  for (size_t k = 0; k < n; k++) {
    cJSON *o = cJSON_CreateObject(), *ma = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "office", offs[k].code);
    cJSON_AddStringToObject(o, "name", offs[k].name);
    cJSON_AddBoolToObject(o, "attention", offs[k].attention > 0);
    for (int m = 0; m < months; m++) {
      cJSON *mo = cJSON_CreateObject(), *ch = cJSON_CreateObject(), *dec = cJSON_CreateArray();
      char period[16];
      snprintf(period, sizeof period, "%s-%02d", year, m + 1);
      cJSON_AddStringToObject(mo, "period", period);
      for (int f = 0; f < KJS_TM__COUNT; f++) {
        long long dl;
        cJSON_AddItemToObject(mo, kjs_trend_names[f], num_or_null(offs[k].m[m].v[f]));
        int has = kjs_trend_delta(offs[k].m, (size_t)months, (size_t)m, f, &dl);
        cJSON_AddItemToObject(ch, kjs_trend_names[f], num_or_null(has ? dl : KJ_RNULL));
        if (offs[k].flags[m] & (1u << f))
          cJSON_AddItemToArray(dec, cJSON_CreateString(kjs_trend_names[f]));
      }
      cJSON_AddItemToObject(mo, "change", ch);
      cJSON_AddItemToObject(mo, "declined", dec);
      cJSON_AddItemToArray(ma, mo);
    }
    cJSON_AddItemToObject(o, "months", ma);
    cJSON_AddItemToArray(arr, o);
  }
  cJSON_AddItemToObject(out, "offices", arr);
  free(offs);
  return out;
}

/* ---------------------------------------------------------------------- */
/* Konflik: the conflict log with each record's office and its time zone */

/* The office of record (type, id) and that office's name and time zone,
 * looked up in the store; "" when unknown. */
static void record_office(dctx *c, const char *type, const char *id, char *office, size_t osz,
                          char *tz, size_t tsz, char *oname, size_t nsz) {
  office[0] = tz[0] = oname[0] = 0;
  const kj_type_def *td = kj_type_by_name(type);
  if (!td)
    return;
  kj_err e;
  kj_err_clear(&e);
  char *state = NULL;
  if (td->type == KJ_T_OFFICE) {
    snprintf(office, osz, "%s", id);
  } else if (!kjs_store_get_state(c->d->app->store, td->type, id, &state, &e)) {
    cJSON *s = cJSON_Parse(state);
    const cJSON *of = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "f"), "office");
    if (of && cJSON_IsString(of))
      snprintf(office, osz, "%s", of->valuestring);
    cJSON_Delete(s);
  }
  free(state);
  state = NULL;
  if (office[0] && !kjs_store_get_state(c->d->app->store, KJ_T_OFFICE, office, &state, &e)) {
    cJSON *s = cJSON_Parse(state);
    const cJSON *f = cJSON_GetObjectItem(s, "f");
    const cJSON *z = cJSON_GetObjectItem(f, "timezone"), *n = cJSON_GetObjectItem(f, "name");
    if (z && cJSON_IsString(z))
      snprintf(tz, tsz, "%s", z->valuestring);
    if (n && cJSON_IsString(n))
      snprintf(oname, nsz, "%s", n->valuestring);
    cJSON_Delete(s);
  }
  free(state);
}

/* GET /api/konflik: the newest 500 entries of the conflict log, newest
 * first, each with "office", "office_name" and "timezone" (IANA) of its
 * record. */
static void a_konflik(dctx *c) {
  kj_err e;
  kj_err_clear(&e);
  cJSON *arr = NULL;
  kj_code rc = kjs_store_conflicts(c->d->app->store, &arr, &e);
  if (rc) {
    reply_store(c, rc, e.msg);
    return;
  }
  int n = cJSON_GetArraySize(arr);
  cJSON *out = cJSON_CreateArray();
  for (int i = n - 1; i >= 0 && n - i <= 500; i--) {
    cJSON *o = cJSON_DetachItemFromArray(arr, i);
    const cJSON *t = cJSON_GetObjectItem(o, "type"), *id = cJSON_GetObjectItem(o, "id");
    char office[KJ_ID_MAX + 1] = "", tz[64] = "", oname[160] = "";
    if (t && id && cJSON_IsString(t) && cJSON_IsString(id))
      record_office(c, t->valuestring, id->valuestring, office, sizeof office, tz, sizeof tz, oname,
                    sizeof oname);
    cJSON_AddStringToObject(o, "office", office);
    cJSON_AddStringToObject(o, "office_name", oname);
    cJSON_AddStringToObject(o, "timezone", tz);
    cJSON_AddItemToArray(out, o);
  }
  cJSON *doc = cJSON_CreateObject();
  cJSON_AddNumberToObject(doc, "total", n);
  cJSON_AddItemToObject(doc, "conflicts", out);
  cJSON_Delete(arr);
  reply_json(c, doc);
}

/* ---------------------------------------------------------------------- */
/* Perangkat (admin) */

typedef struct office_names {
  cJSON *map; /* code -> name */
  cJSON *tz;  /* code -> IANA time zone ("Asia/Jakarta" when the office has none) */
} office_names;

static int office_each(void *ud, const char *state) {
  office_names *x = ud;
  cJSON *s = cJSON_Parse(state);
  const cJSON *id = cJSON_GetObjectItem(s, "id");
  const cJSON *nm = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "f"), "name");
  const cJSON *tz = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "f"), "timezone");
  if (cJSON_IsString(id) && !cJSON_GetObjectItem(x->map, id->valuestring)) {
    cJSON_AddStringToObject(x->map, id->valuestring, cJSON_IsString(nm) ? nm->valuestring : "");
    cJSON_AddStringToObject(x->tz, id->valuestring,
                            cJSON_IsString(tz) ? tz->valuestring : "Asia/Jakarta");
  }
  cJSON_Delete(s);
  return 0;
}

static const char *office_tz(const office_names *on, const char *office) {
  if (!office)
    return "Asia/Jakarta";
  const cJSON *z = cJSON_GetObjectItem(on->tz, office);
  return z && cJSON_IsString(z) ? z->valuestring : "Asia/Jakarta";
}

static void a_devices(dctx *c) {
  kj_err e;
  kj_err_clear(&e);
  cJSON *arr = NULL;
  kj_code rc = kjs_store_token_list(c->d->app->store, 1, &arr, &e);
  if (rc) {
    reply_store(c, rc, e.msg);
    return;
  }
  office_names on = {.map = cJSON_CreateObject(), .tz = cJSON_CreateObject()};
  cJSON *reports = NULL;
  rc = kjs_store_each_state(c->d->app->store, KJ_T_OFFICE, NULL, office_each, &on, &e);
  if (!rc)
    rc = kjs_store_device_reports(c->d->app->store, &reports, &e);
  if (rc) {
    cJSON_Delete(arr);
    cJSON_Delete(on.map);
    cJSON_Delete(on.tz);
    reply_store(c, rc, e.msg);
    return;
  }
  int stale_days = c->d->app->cfg->stale_days;
  double now = (double)kj_wall_ms(), limit = now - (double)stale_days * 86400000.0;
  /* offices: the newest last_seen of their live devices */
  cJSON *seen = cJSON_CreateObject(), *o;
  cJSON_ArrayForEach(o, arr) {
    const cJSON *of = cJSON_GetObjectItem(o, "office"), *ls = cJSON_GetObjectItem(o, "last_seen");
    const cJSON *nm = cJSON_IsString(of) ? cJSON_GetObjectItem(on.map, of->valuestring) : NULL;
    cJSON_AddStringToObject(o, "office_name", nm && cJSON_IsString(nm) ? nm->valuestring : "");
    cJSON_AddStringToObject(o, "timezone",
                            office_tz(&on, cJSON_IsString(of) ? of->valuestring : NULL));
    /* what its PC reported at its last pull; null for a PC that never did
     * (not synced yet, or a kinerja older than the report) */
    const cJSON *id = cJSON_GetObjectItem(o, "id");
    cJSON *rep = cJSON_IsString(id) ? cJSON_DetachItemFromObject(reports, id->valuestring) : NULL;
    cJSON_AddItemToObject(o, "report", rep ? rep : cJSON_CreateNull());
    if (!cJSON_IsString(of) || !cJSON_IsNull(cJSON_GetObjectItem(o, "revoked")))
      continue;
    cJSON *cur = cJSON_GetObjectItem(seen, of->valuestring);
    double v = cJSON_IsNumber(ls) ? ls->valuedouble : 0;
    if (!cur)
      cJSON_AddNumberToObject(seen, of->valuestring, v);
    else if (v > cur->valuedouble)
      cJSON_SetNumberValue(cur, v);
  }
  cJSON *stale = cJSON_CreateArray();
  cJSON_ArrayForEach(o, on.map) {
    const cJSON *s = cJSON_GetObjectItem(seen, o->string);
    if (s && s->valuedouble >= limit)
      continue;
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "office", o->string);
    cJSON_AddStringToObject(x, "name", o->valuestring);
    cJSON_AddStringToObject(x, "timezone", office_tz(&on, o->string));
    if (s && s->valuedouble > 0)
      cJSON_AddNumberToObject(x, "last_seen", s->valuedouble);
    else
      cJSON_AddNullToObject(x, "last_seen");
    cJSON_AddBoolToObject(x, "has_device", s != NULL);
    cJSON_AddItemToArray(stale, x);
  }
  cJSON *out = cJSON_CreateObject();
  cJSON_AddItemToObject(out, "devices", arr);
  cJSON_AddNumberToObject(out, "stale_days", stale_days);
  cJSON_AddItemToObject(out, "stale_offices", stale);
  cJSON_AddItemToObject(out, "offices", on.map);
  cJSON_AddItemToObject(out, "timezones", on.tz);
  cJSON_Delete(reports);
  cJSON_Delete(seen);
  reply_json(c, out);
}

/* POST /api/perangkat, form office=&name=: a new device of office with its
 * enrolment code (the same steps as `kinerjad device add`). */
static void a_device_add(dctx *c) {
  char office[KJ_ID_MAX + 1], name[80];
  if (param(c, c->req->body, "office", office, sizeof office) ||
      param(c, c->req->body, "name", name, sizeof name))
    return;
  kj_err e;
  kj_err_clear(&e);
  if (!office[0] || kj_record_validate_id(KJ_T_OFFICE, office, &e)) {
    reply_err(c, 400, L(c, "kode kantor '%s' tidak sah%s%s", "office code '%s' is not valid%s%s"),
              office, e.msg[0] ? ": " : "", e.msg);
    return;
  }
  for (const char *p = name; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) {
      reply_err(c, 400,
                L(c, "nama perangkat memuat karakter kendali",
                  "the device name holds control characters"));
      return;
    }
  /* an office the store knows (the page offers those; a stale page or a
   * script may not) */
  char *ostate = NULL;
  kj_code orc = kjs_store_get_state(c->d->app->store, KJ_T_OFFICE, office, &ostate, &e);
  if (orc == KJ_OK && !ostate)
    orc = KJ_ENOENT;
  free(ostate);
  if (orc) {
    if (orc == KJ_ENOENT)
      reply_err(c, 404, L(c, "kantor '%s' tidak ada", "no office '%s'"), office);
    else
      reply_store(c, orc, e.msg);
    return;
  }
  char token[KJS_TOKEN_LEN + 1], did[32], code[KJ_ENROL_CODE_SIZE];
  unsigned char hash[32];
  int64_t expires = 0;
  kj_code rc;
  if ((rc = kjs_token_new(token, hash, &e)) || (rc = kjs_token_id("dev-", did, sizeof did, &e)) ||
      (rc = kjs_store_token_add(c->d->app->store, KJS_ROLE_DEVICE, did, office,
                                name[0] ? name : NULL, hash, &e)) ||
      (rc = kjs_enrol_issue(c->d->app->store, c->d->app->cfg->cert_file, did, token, code, &expires,
                            &e))) {
    memset(token, 0, sizeof token);
    reply_err(c, rc == KJ_EBUSY ? 503 : 500,
              L(c, "perangkat tidak dapat didaftarkan (%s)", "the device cannot be enrolled (%s)"),
              e.msg);
    return;
  }
  memset(token, 0, sizeof token);
  char *qr = NULL;
  kj_err qe;
  kj_err_clear(&qe);
  if (kjh_qr_data_url(code, &qr, &qe))
    qr = NULL; /* the page shows the code alone */
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "device", did);
  cJSON_AddStringToObject(o, "office", office);
  cJSON_AddStringToObject(o, "name", name);
  cJSON_AddStringToObject(o, "code", code);
  cJSON_AddNumberToObject(o, "expires", (double)expires);
  if (qr)
    cJSON_AddStringToObject(o, "qr", qr);
  else
    cJSON_AddNullToObject(o, "qr");
  free(qr);
  snprintf(c->resp->who, sizeof c->resp->who, "user:%.50s", c->ss.user);
  reply_json(c, o);
}

/* POST /api/perangkat/cabut, form device=: revoke its token. */
static void a_device_revoke(dctx *c) {
  char dev[64];
  if (param(c, c->req->body, "device", dev, sizeof dev))
    return;
  if (strncmp(dev, "dev-", 4) != 0) {
    reply_err(c, 400, L(c, "perangkat '%s' tidak sah", "device '%s' is not valid"), dev);
    return;
  }
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = kjs_store_token_revoke(c->d->app->store, dev, &e);
  if (rc == KJ_ENOENT || rc == KJ_EEXIST) {
    reply_err(c, rc == KJ_ENOENT ? 404 : 409, "%s",
              rc == KJ_ENOENT ? L(c, "perangkat tidak ada", "no such device")
                              : L(c, "perangkat sudah dicabut", "the device is revoked already"));
    return;
  }
  if (rc) {
    reply_store(c, rc, e.msg);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "revoked", dev);
  reply_json(c, o);
}

/* ---------------------------------------------------------------------- */
/* Ekspor: runs `kinerjad export` itself (server/admin_export.c) */

static int read_file(const char *path, kj_buf *out) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  char buf[65536];
  size_t n;
  int rc = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    if (kj_buf_add(out, buf, n)) {
      rc = -1;
      break;
    }
  fclose(f);
  return rc;
}

/* ---- the reports as tables (kj_table_write_report, proto/table.c) ---- */

static cJSON *cell_num(const cJSON *v) {
  return cJSON_IsNumber(v) ? cJSON_CreateNumber(v->valuedouble) : cJSON_CreateNull();
}

static cJSON *cell_str(const cJSON *v) {
  return cJSON_IsString(v) ? cJSON_CreateString(v->valuestring) : cJSON_CreateNull();
}

static cJSON *head_of(dctx *c, const char *const *id, const char *const *en, size_t n) {
  cJSON *h = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++)
    cJSON_AddItemToArray(h, cJSON_CreateString(c->en ? en[i] : id[i]));
  return h;
}

#define OBJ(o, k) cJSON_GetObjectItem((o), (k))

/* Ringkasan's ranking of period: one row per office, the report's order. */
static int table_ranking(dctx *c, const char *period, cJSON **head, cJSON **rows) {
  static const char *const id[] = {"Peringkat",
                                   "Kode",
                                   "Kantor",
                                   "IKK",
                                   "IKM",
                                   "Mutu",
                                   "Survei",
                                   "Pengaduan diterima",
                                   "Pengaduan tepat waktu (%)",
                                   "Kepatuhan (%)",
                                   "Capaian rata-rata",
                                   "Pegawai"};
  static const char *const en[] = {"Rank",
                                   "Code",
                                   "Office",
                                   "IKK",
                                   "IKM",
                                   "Quality",
                                   "Surveys",
                                   "Complaints received",
                                   "Complaints on time (%)",
                                   "Compliance (%)",
                                   "Mean capaian",
                                   "Employees"};
  cJSON *doc = offices_doc(c, period, NULL);
  if (!doc)
    return -1;
  *head = head_of(c, id, en, sizeof id / sizeof id[0]);
  *rows = cJSON_CreateArray();
  cJSON *o;
  cJSON_ArrayForEach(o, OBJ(doc, "offices")) {
    cJSON *r = cJSON_CreateArray();
    const cJSON *ikm = OBJ(o, "ikm"), *cp = OBJ(o, "complaints"), *em = OBJ(o, "employees");
    int ranked = cJSON_IsNumber(OBJ(o, "ikk"));
    cJSON_AddItemToArray(r, ranked ? cell_num(OBJ(o, "rank")) : cJSON_CreateNull());
    cJSON_AddItemToArray(r, cell_str(OBJ(o, "office")));
    cJSON_AddItemToArray(r, cell_str(OBJ(o, "name")));
    cJSON_AddItemToArray(r, cell_num(OBJ(o, "ikk")));
    cJSON_AddItemToArray(r, cell_num(OBJ(ikm, "value")));
    cJSON_AddItemToArray(r, cell_str(OBJ(ikm, "mutu")));
    cJSON_AddItemToArray(r, cell_num(OBJ(ikm, "n")));
    cJSON_AddItemToArray(r, cell_num(OBJ(cp, "received")));
    cJSON_AddItemToArray(r, cell_num(OBJ(cp, "on_time_rate")));
    cJSON_AddItemToArray(r, cell_num(OBJ(o, "compliance")));
    cJSON_AddItemToArray(r, cell_num(OBJ(em, "capaian_mean")));
    cJSON_AddItemToArray(r, cell_num(OBJ(em, "count")));
    cJSON_AddItemToArray(*rows, r);
  }
  cJSON_Delete(doc);
  return 0;
}

/* Tren of year: one row per office and month, each figure with its change
 * from the month before, and the figures that declined. */
static int table_tren(dctx *c, const char *year, cJSON **head, cJSON **rows) {
  static const char *const id[] = {"Kode",
                                   "Kantor",
                                   "Bulan",
                                   "IKK",
                                   "Perubahan IKK",
                                   "IKM",
                                   "Perubahan IKM",
                                   "Pengaduan tepat waktu (%)",
                                   "Perubahan tepat waktu",
                                   "Kepatuhan (%)",
                                   "Perubahan kepatuhan",
                                   "Capaian",
                                   "Perubahan capaian",
                                   "Turun"};
  static const char *const en[] = {"Code",
                                   "Office",
                                   "Month",
                                   "IKK",
                                   "IKK change",
                                   "IKM",
                                   "IKM change",
                                   "Complaints on time (%)",
                                   "On-time change",
                                   "Compliance (%)",
                                   "Compliance change",
                                   "Capaian",
                                   "Capaian change",
                                   "Declined"};
  char day[KJ_DATE_STRLEN + 1];
  doc_mark mk;
  if (!read_mark(c, &mk))
    return -1;
  today(c->d, day, NULL);
  cJSON *doc = tren_doc(c, year, &mk, day);
  if (!doc)
    return -1;
  *head = head_of(c, id, en, sizeof id / sizeof id[0]);
  *rows = cJSON_CreateArray();
  cJSON *o, *m;
  cJSON_ArrayForEach(o, OBJ(doc, "offices")) {
    cJSON_ArrayForEach(m, OBJ(o, "months")) {
      cJSON *r = cJSON_CreateArray();
      cJSON_AddItemToArray(r, cell_str(OBJ(o, "office")));
      cJSON_AddItemToArray(r, cell_str(OBJ(o, "name")));
      cJSON_AddItemToArray(r, cell_str(OBJ(m, "period")));
      for (int f = 0; f < KJS_TM__COUNT; f++) {
        cJSON_AddItemToArray(r, cell_num(OBJ(m, kjs_trend_names[f])));
        cJSON_AddItemToArray(r, cell_num(OBJ(OBJ(m, "change"), kjs_trend_names[f])));
      }
      char dec[128] = "";
      const cJSON *x;
      cJSON_ArrayForEach(x, OBJ(m, "declined")) {
        if (cJSON_IsString(x))
          snprintf(dec + strlen(dec), sizeof dec - strlen(dec), "%s%s", dec[0] ? " " : "",
                   x->valuestring);
      }
      cJSON_AddItemToArray(r, cJSON_CreateString(dec));
      cJSON_AddItemToArray(*rows, r);
    }
  }
  cJSON_Delete(doc);
  return 0;
}

/* Pegawai of period: every office's employees. */
static int table_pegawai(dctx *c, const char *period, cJSON **head, cJSON **rows) {
  static const char *const id[] = {"Kode kantor", "Kantor",          "NIP",
                                   "Nama",        "Capaian",         "Rating hasil kerja",
                                   "Perilaku",    "Rating perilaku", "Predikat"};
  static const char *const en[] = {"Office code", "Office",           "NIP",
                                   "Name",        "Capaian",          "Work result rating",
                                   "Behaviour",   "Behaviour rating", "Predikat"};
  static const char *const keys[] = {"office",   "office_name",     "nip",
                                     "name",     "capaian",         "rating_hasil_kerja",
                                     "perilaku", "rating_perilaku", "predikat"};
  cJSON *doc = pegawai_doc(c, period);
  if (!doc)
    return -1;
  *head = head_of(c, id, en, sizeof id / sizeof id[0]);
  *rows = cJSON_CreateArray();
  cJSON *e;
  cJSON_ArrayForEach(e, OBJ(doc, "employees")) {
    cJSON *r = cJSON_CreateArray();
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      const cJSON *v = OBJ(e, keys[k]);
      cJSON_AddItemToArray(r, cJSON_IsNumber(v) ? cell_num(v) : cell_str(v));
    }
    cJSON_AddItemToArray(*rows, r);
  }
  cJSON_Delete(doc);
  return 0;
}

/* GET /api/ekspor?type=ranking|tren|pegawai: a report's table. */
static void export_report(dctx *c, const char *type, const char *format, const char *period) {
  int xlsx = !strcmp(format, "xlsx");
  cJSON *head = NULL, *rows = NULL;
  int r;
  char name[64];
  const char *sheet;
  kj_period pp;
  if (!strcmp(type, "tren")) {
    char year[8];
    if (get_year(c, year, sizeof year))
      return;
    sheet = L(c, "Tren", "Trends");
    snprintf(name, sizeof name, "%s_%s", c->en ? "trends" : "tren", year);
    r = table_tren(c, year, &head, &rows);
  } else {
    if (!period[0] || kj_period_parse(period, &pp)) {
      reply_err(c, 400,
                L(c, "periode '%s' tidak sah: contoh 2026, 2026-Q1 atau 2026-01",
                  "period '%s' is not valid: e.g. 2026, 2026-Q1 or 2026-01"),
                period);
      return;
    }
    int rank = !strcmp(type, "ranking");
    sheet = rank ? L(c, "Peringkat", "Ranking") : L(c, "Pegawai", "Employees");
    snprintf(name, sizeof name, "%s_%s",
             rank ? (c->en ? "ranking" : "peringkat") : (c->en ? "employees" : "pegawai"), period);
    r = rank ? table_ranking(c, period, &head, &rows) : table_pegawai(c, period, &head, &rows);
  }
  if (r)
    return;
  kj_err e;
  kj_err_clear(&e);
  kj_buf_reset(&c->resp->body);
  kj_code rc = kj_table_write_report(sheet, head, rows, xlsx, &c->resp->body, &e);
  cJSON_Delete(head);
  cJSON_Delete(rows);
  if (rc) {
    reply_err(c, rc == KJ_ETOOBIG ? 413 : 500, "%s", e.msg);
    return;
  }
  char disp[160];
  snprintf(disp, sizeof disp, "attachment; filename=\"%s.%s\"", name, format);
  c->resp->status = 200;
  c->resp->content_type = xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                               : "text/csv; charset=utf-8";
  kjh_response_header(c->resp, "Content-Disposition", disp);
  kjh_response_header(c->resp, "Cache-Control", "no-store");
}

static void a_export(dctx *c) {
  char type[32], format[8], office[KJ_ID_MAX + 1], period[16];
  if (param(c, c->req->query, "type", type, sizeof type) ||
      param(c, c->req->query, "format", format, sizeof format) ||
      param(c, c->req->query, "office", office, sizeof office) ||
      param(c, c->req->query, "period", period, sizeof period))
    return;
  if (!format[0])
    snprintf(format, sizeof format, "csv");
  int xlsx = !strcmp(format, "xlsx");
  if (!xlsx && strcmp(format, "csv") != 0) {
    reply_err(
        c, 400,
        L(c, "format '%s' tidak dikenal: csv atau xlsx", "format '%s' is not known: csv or xlsx"),
        format);
    return;
  }
  if (!strcmp(type, "ranking") || !strcmp(type, "tren") || !strcmp(type, "pegawai")) {
    export_report(c, type, format, period);
    return;
  }
  const kj_type_def *td = kj_type_by_name(type);
  if (!td || td->type == KJ_T_ACTIVATION) {
    reply_err(c, 400,
              L(c,
                "jenis data '%s' tidak dikenal: laporan ranking, tren, pegawai atau data "
                "mentah surveys, complaints, activities, ...",
                "data type '%s' is not known: the reports ranking, tren, pegawai or the raw "
                "records surveys, complaints, activities, ..."),
              type);
    return;
  }
  kj_period pp;
  if (period[0] && kj_period_parse(period, &pp)) {
    reply_err(c, 400,
              L(c, "periode '%s' tidak sah: contoh 2026, 2026-Q1 atau 2026-01",
                "period '%s' is not valid: e.g. 2026, 2026-Q1 or 2026-01"),
              period);
    return;
  }
  kj_err oe;
  kj_err_clear(&oe);
  if (office[0] && kj_record_validate_id(KJ_T_OFFICE, office, &oe)) {
    reply_err(c, 400, L(c, "kode kantor '%s' tidak sah", "office code '%s' is not valid"), office);
    return;
  }
  char dir[4096], out[4200], errf[4200];
  snprintf(dir, sizeof dir, "%s/kinerjad-dash-XXXXXX", kj_tmp_dir());
  if (!mkdtemp(dir)) {
    reply_err(c, 500,
              L(c, "tidak bisa membuat berkas sementara: %s", "cannot make a temporary file: %s"),
              strerror(errno));
    return;
  }
  snprintf(out, sizeof out, "%s/out.%s", dir, format);
  snprintf(errf, sizeof errf, "%s/err.txt", dir);
  const char *argv[16];
  int n = 0;
  argv[n++] = "kinerjad";
  argv[n++] = "--data";
  argv[n++] = c->d->app->cfg->data_dir;
  argv[n++] = "export";
  argv[n++] = td->name;
  argv[n++] = "--format";
  argv[n++] = format;
  argv[n++] = "--output";
  argv[n++] = out;
  if (office[0]) {
    argv[n++] = "--office";
    argv[n++] = office;
  }
  if (period[0]) {
    argv[n++] = "--period";
    argv[n++] = period;
  }
  argv[n] = NULL;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid;
  int sr = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, (char *const *)argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  int status = -1;
  if (sr == 0)
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
      ;
  kj_buf msg;
  kj_buf_init(&msg, 4096);
  if (sr != 0) {
    reply_err(c, 500, L(c, "tidak bisa menjalankan ekspor: %s", "cannot run the export: %s"),
              strerror(sr));
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    read_file(errf, &msg);
    while (msg.len && (msg.data[msg.len - 1] == '\n'))
      msg.len--;
    /* kinerjad export's own words (English) as the detail */
    if (msg.len && msg.data)
      reply_err(c, 400, L(c, "ekspor gagal (%.*s)", "the export failed (%.*s)"), (int)msg.len,
                msg.data);
    else
      reply_err(c, 400, L(c, "ekspor gagal", "the export failed"));
  } else {
    kj_buf_reset(&c->resp->body);
    if (read_file(out, &c->resp->body)) {
      reply_err(c, 500,
                L(c, "berkas ekspor terlalu besar untuk diunduh: gunakan kinerjad export",
                  "the file is too large to download: use kinerjad export"));
    } else {
      char disp[160];
      snprintf(disp, sizeof disp, "attachment; filename=\"%s%s%s%s%s.%s\"", td->plural,
               office[0] ? "_" : "", office, period[0] ? "_" : "", period, format);
      c->resp->status = 200;
      c->resp->content_type =
          xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
               : "text/csv; charset=utf-8";
      kjh_response_header(c->resp, "Content-Disposition", disp);
      kjh_response_header(c->resp, "Cache-Control", "no-store");
    }
  }
  kj_buf_release(&msg);
  unlink(out);
  unlink(errf);
  rmdir(dir);
}

/* ---------------------------------------------------------------------- */
/* /publik's figures: no session, nothing about any person */

static int excluded(const char *list, const char *office) {
  size_t n = strlen(office);
  for (const char *p = list; *p;) {
    while (*p == ' ' || *p == ',')
      p++;
    size_t k = strcspn(p, ", ");
    if (k == n && !strncmp(p, office, n))
      return 1;
    p += k;
  }
  return 0;
}

static void a_publik(dctx *c) {
  char period[16];
  if (get_period(c, period, sizeof period))
    return;
  cJSON *doc = offices_doc(c, period, NULL);
  if (!doc)
    return;
  cJSON *arr = cJSON_CreateArray(), *o;
  cJSON_ArrayForEach(o, cJSON_GetObjectItem(doc, "offices")) {
    const cJSON *code = cJSON_GetObjectItem(o, "office");
    if (!cJSON_IsString(code) || excluded(c->d->app->cfg->publik_exclude, code->valuestring))
      continue;
    const cJSON *ikm = cJSON_GetObjectItem(o, "ikm");
    cJSON *x = cJSON_CreateObject();
    cJSON_AddStringToObject(x, "office", code->valuestring);
    cJSON_AddItemToObject(x, "name", cJSON_Duplicate(cJSON_GetObjectItem(o, "name"), 1));
    static const char *const keys[] = {"n", "value", "mutu", "kinerja", "nrr"};
    cJSON *xi = cJSON_AddObjectToObject(x, "ikm");
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
      cJSON_AddItemToObject(xi, keys[k], cJSON_Duplicate(cJSON_GetObjectItem(ikm, keys[k]), 1));
    /* the office's listed services by name, every other name folded into
     * one row "Layanan lain" (kjs_report_services_fold: IKM from the
     * summed answers, exact); the office's IKM above counts them all */
    kjs_service_fold f;
    kj_err e;
    kj_err_clear(&e);
    kj_code rc = kjs_store_publik_services(c->d->app->store, period, code->valuestring, &f, &e);
    if (rc) {
      cJSON_Delete(x);
      cJSON_Delete(arr);
      cJSON_Delete(doc);
      reply_store(c, rc, e.msg);
      return;
    }
    cJSON *svs = cJSON_AddArrayToObject(x, "services");
    for (size_t i = 0; i <= f.n; i++) {
      const kj_report_service *sv = i < f.n ? &f.services[i] : f.has_other ? &f.other : NULL;
      if (!sv)
        break;
      cJSON *r = cJSON_CreateObject();
      if (i < f.n)
        cJSON_AddStringToObject(r, "service", sv->service);
      else
        cJSON_AddBoolToObject(r, "other", 1); /* the page names it: "Layanan lain" */
      cJSON_AddNumberToObject(r, "n", (double)sv->n);
      cJSON_AddNumberToObject(r, "ikm", (double)sv->ikm / 100.0);
      cJSON_AddStringToObject(r, "mutu", sv->mutu ? sv->mutu : "");
      cJSON_AddItemToArray(svs, r);
    }
    kjs_service_fold_release(&f);
    cJSON_AddItemToArray(arr, x);
  }
  cJSON *out = cJSON_CreateObject();
  cJSON_AddStringToObject(out, "period", period);
  cJSON_AddItemToObject(out, "as_of", cJSON_Duplicate(cJSON_GetObjectItem(doc, "as_of"), 1));
  if (cJSON_GetObjectItem(doc, "as_of_zone"))
    cJSON_AddItemToObject(out, "as_of_zone",
                          cJSON_Duplicate(cJSON_GetObjectItem(doc, "as_of_zone"), 1));
  cJSON_AddItemToObject(out, "unsur", unsur_names());
  cJSON_AddItemToObject(out, "offices", arr);
  cJSON_Delete(doc);
  reply_json(c, out);
}

/* ---------------------------------------------------------------------- */
/* routing */

enum { NEED_NONE, NEED_SESSION, NEED_ADMIN };

typedef struct dash_route {
  const char *path, *method;
  int need;
  void (*fn)(dctx *c);
} dash_route;

static const dash_route api[] = {
    {"/api/masuk", "POST", NEED_NONE, a_signin},
    {"/api/keluar", "POST", NEED_SESSION, a_signout},
    {"/api/saya", "GET", NEED_SESSION, a_me},
    {"/api/ringkasan", "GET", NEED_SESSION, a_ringkasan},
    {"/api/kantor", "GET", NEED_SESSION, a_kantor},
    {"/api/catatan", "GET", NEED_SESSION, a_records},
    {"/api/tren", "GET", NEED_SESSION, a_tren},
    {"/api/pegawai", "GET", NEED_SESSION, a_pegawai},
    {"/api/konflik", "GET", NEED_SESSION, a_konflik},
    {"/api/ekspor", "GET", NEED_SESSION, a_export},
    {"/api/perangkat", "GET", NEED_ADMIN, a_devices},
    {"/api/perangkat", "POST", NEED_ADMIN, a_device_add},
    {"/api/perangkat/cabut", "POST", NEED_ADMIN, a_device_revoke},
    {"/api/publik", "GET", NEED_NONE, a_publik},
};

/* 1 unless the request has an Origin header whose host[:port] is not the
 * Host header's (browsers send Origin with every POST; curl and scripts
 * without one are let through: they carry no cookie of a victim). */
static int same_origin(const kjh_request *req) {
  const char *origin = kjh_header(req, "Origin"), *host = kjh_header(req, "Host");
  if (!origin)
    return 1;
  const char *p = strstr(origin, "://");
  if (!p || !host)
    return 0;
  return !strcmp(p + 3, host);
}

int kjs_dash_handle(kjs_dash *d, const kjh_request *req, kjh_response *resp) {
  if (!d || (!d->public_only && !is_dash_path(req->path)))
    return 0;
  dctx c = {.d = d, .req = req, .resp = resp, .en = wants_english(req)};
  if (d->public_only && !is_publik_path(req->path)) {
    kjh_security_headers(resp);
    resp->route = "other";
    if (!strcmp(req->path, "/") && (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD"))) {
      resp->status = 302;
      kjh_response_header(resp, "Location", "/publik");
      return 1;
    }
    reply_err(&c, 404,
              L(&c, "'%s' tidak ada: server ini hanya menyajikan /publik",
                "no '%s': this server serves /publik only"),
              req->path);
    return 1;
  }
  if (strncmp(req->path, "/api/", 5) != 0) {
    resp->route = !strcmp(req->path, "/")         ? "/"
                  : !strcmp(req->path, "/publik") ? "/publik"
                                                  : "/assets/"; /* the icon too */
    /* kjh_asset_serve sets the security headers of a page itself */
    if (!kjh_asset_serve(&kjs_bkd_assets, req, resp)) {
      kjh_security_headers(resp);
      resp->route = "other";
      reply_err(&c, 404, L(&c, "halaman '%s' tidak ada", "no page '%s'"), req->path);
    }
    return 1;
  }
  kjh_security_headers(resp); /* the API's answers */
  const dash_route *r = NULL;
  int path_known = 0;
  int head = !strcmp(req->method, "HEAD");
  for (size_t i = 0; i < sizeof api / sizeof api[0]; i++)
    if (!strcmp(req->path, api[i].path)) {
      path_known = 1;
      if (!strcmp(req->method, api[i].method) || (head && !strcmp(api[i].method, "GET")))
        r = &api[i];
    }
  if (!r) {
    resp->route = path_known ? req->path : "other";
    if (path_known)
      reply_err(&c, 405, L(&c, "metode %s tidak boleh di '%s'", "method %s not allowed on '%s'"),
                req->method, req->path);
    else
      reply_err(&c, 404, L(&c, "'%s' tidak ada", "no '%s'"), req->path);
    return 1;
  }
  resp->route = r->path;
  if (strcmp(r->method, "GET") != 0 && !same_origin(req)) {
    /* a form of another site posting here (a sign-in included: no one is
     * signed in to an account of someone else's choosing) */
    reply_err(
        &c, 403,
        L(&c, "permintaan dari situs lain ditolak", "a request from another site is refused"));
    return 1;
  }
  if (r->need != NEED_NONE) {
    if (kjh_session_require(d->sessions, req, resp, &c.ss) != KJ_OK) {
      /* http/session.c answers in English (it serves the office app too):
       * the same status in the page's language */
      if (resp->status == 401)
        reply_err(&c, 401, L(&c, "silakan masuk dulu", "sign in first"));
      else
        reply_err(&c, 403,
                  L(&c, "token CSRF tidak ada atau salah: muat ulang halaman",
                    "missing or wrong CSRF token: reload the page"));
      return 1;
    }
    /* the user as the store has them now: `kinerjad user remove` (another
     * process) ends their sessions at their next request, and a changed
     * role holds at once */
    char role[KJS_USER_ROLE_MAX + 1];
    kj_err e;
    kj_err_clear(&e);
    kj_code urc = kjs_store_user_role(d->app->store, c.ss.user, role, &e);
    if (urc == KJ_ENOENT) {
      kjh_session_end(d->sessions, req, resp);
      reply_err(&c, 401,
                L(&c, "sesi berakhir: pengguna '%s' telah dihapus",
                  "session ended: user '%s' was removed"),
                c.ss.user);
      return 1;
    }
    if (urc) {
      reply_store(&c, urc, e.msg);
      return 1;
    }
    snprintf(c.ss.role, sizeof c.ss.role, "%s", role);
    snprintf(resp->who, sizeof resp->who, "user:%.50s", c.ss.user);
    if (r->need == NEED_ADMIN && strcmp(c.ss.role, "admin") != 0) {
      reply_err(&c, 403,
                L(&c, "halaman ini hanya untuk admin", "this page is for administrators only"));
      return 1;
    }
  }
  r->fn(&c);
  return 1;
}
