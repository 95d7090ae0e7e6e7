/* ui_api.c - the office app's pages and JSON API (ui_api.h).
 *
 * Routes (docs/architecture.md "The office app"):
 *   GET  /, /beranda, /survei, /kegiatan, /persetujuan, /sinkronisasi,
 *        /laporan, /pengaduan: the
 *        page shell (web/office/index.html; app.js draws the page)
 *   GET  /kiosk: the citizens' form (web/office/kiosk.html), no sign-in
 *   GET  /assets/...: scripts, styles, the icon (kjh_asset_serve); /favicon.ico:
 *        the icon too
 *   POST /api/signin {nip,pin} | {operator:true,password}; POST /api/signout
 *   GET  /api/session, /api/status, /api/meta, /api/kiosk,
 *        /api/kiosk/qr (signed in: the kiosk's address and QR code)
 *   POST /api/kiosk/survey (no sign-in; a pause between submissions)
 *   GET|POST /api/surveys (operator), GET|POST /api/activities,
 *   POST /api/activities/copy, /api/activities/submit,
 *   /api/activities/update {id, fields...} (employee: own activities),
 *   GET|POST /api/approvals (supervisor), GET /api/outbox, POST /api/sync,
 *   POST /api/outbox/discard {id} (operator), GET /api/report?period=,
 *   GET|POST /api/complaints, POST /api/complaints/resolve (operator)
 *   /penilaian, /target, /impor and their API: ui_api_data.c (ui_int.h)
 * Every change needs the session's CSRF token (X-CSRF-Token) and a JSON
 * body; a refusal answers {"error": message, "field": name} or, for a
 * form, {"errors": [{"field", "message"}...]} with the rule's messages. */
#include "ui_api.h"
#include "ui_int.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "cli.h"
#include "date.h"
#include "passhash.h"
#include "person.h"
#include "qr.h"
#include "reportdoc.h"
#include "review.h"
#include "rules.h"
#include "session.h"
#include "sync.h"
#include "ui_lang.h"
#include "unsur.h"
#include "uuid.h"

extern const kjh_assets kjc_ui_assets; /* web/office/, by kjh_embed (client/CMakeLists.txt) */

#define KIOSK_SLOTS 256
#define OPERATOR_TRIES 5

static void cpy(char *dst, size_t size, const char *src);

struct kjc_ui {
  kjc_store *s;
  pthread_mutex_t mu; /* one SQLite connection: one request at a time */
  kjh_sessions *sessions;
  int64_t kiosk_pause_ms;
  struct {
    char addr[64];
    int64_t at_ms;
  } kiosk[KIOSK_SLOTS]; /* last submission per address (hashed slots) */
  int op_failures;
  int64_t op_locked_until;
  char kiosk_url[512]; /* kjc_ui_set_kiosk_url */
};

kj_code kjc_ui_new(kjc_ui **out, kjc_store *s, int64_t kiosk_pause_ms, kj_err *err) {
  kjc_ui *ui = calloc(1, sizeof *ui);
  if (!ui)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  kjh_session_config sc = {.cookie = "kinerja_ui"};
  kj_code c = kjh_sessions_new(&ui->sessions, &sc, err);
  if (c) {
    free(ui);
    return c;
  }
  pthread_mutex_init(&ui->mu, NULL);
  ui->s = s;
  ui->kiosk_pause_ms = kiosk_pause_ms;
  *out = ui;
  return KJ_OK;
}

void kjc_ui_set_kiosk_url(kjc_ui *ui, const char *url) {
  pthread_mutex_lock(&ui->mu);
  cpy(ui->kiosk_url, sizeof ui->kiosk_url, url);
  pthread_mutex_unlock(&ui->mu);
}

void kjc_ui_free(kjc_ui *ui) {
  if (!ui)
    return;
  kjh_sessions_free(ui->sessions);
  pthread_mutex_destroy(&ui->mu);
  free(ui);
}

/* ---- answers ---------------------------------------------------------- */

static void reply(kjh_response *resp, int status, cJSON *doc) {
  resp->status = status;
  resp->content_type = "application/json";
  kjh_security_headers(resp);
  kjh_response_header(resp, "Cache-Control", "no-store");
  char *t = doc ? cJSON_PrintUnformatted(doc) : NULL;
  if (t) {
    kj_buf_addf(&resp->body, "%s\n", t);
    free(t);
  } else {
    resp->status = 500;
    kj_buf_addf(&resp->body, "{\"error\":\"out of memory\"}\n");
  }
  cJSON_Delete(doc);
}

/* The field a rule's message names ("field 'u1': ..." or "record 'X':
 * field 'u1': ..."), into out; "" when none. */
static void field_of(const char *msg, char *out, size_t size) {
  out[0] = 0;
  const char *mark = _("field '"); /* "isian '" in Indonesian (po/id.po) */
  const char *p = strstr(msg, mark);
  if (!p && (p = strstr(msg, "field '")))
    mark = "field '";
  if (!p)
    return;
  p += strlen(mark);
  size_t n = strcspn(p, "'");
  if (n < size) {
    memcpy(out, p, n);
    out[n] = 0;
  }
}

static void reply_err(kjh_response *resp, int status, const char *msg, const char *field) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "error", msg);
  char f[64];
  if (!field) {
    field_of(msg, f, sizeof f);
    field = f;
  }
  if (field[0])
    cJSON_AddStringToObject(o, "field", field);
  reply(resp, status, o);
}

static int status_of(kj_code c) {
  switch (c) {
  case KJ_EINVAL:
  case KJ_EEXIST:
    return 400;
  case KJ_ENOENT:
    return 404;
  case KJ_EAUTH:
    return 403;
  default:
    return 500;
  }
}

/* ---- small helpers ---------------------------------------------------- */

/* src into dst[size], cut to fit. */
static void cpy(char *dst, size_t size, const char *src) {
  size_t n = strlen(src);
  if (n >= size)
    n = size - 1;
  memcpy(dst, src, n);
  dst[n] = 0;
}

static const char *jstr(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A JSON value as record text: strings as they are, numbers as integers
 * or decimals; NULL when absent, null or "". */
static const char *jtext(const cJSON *o, const char *name, char *tmp, size_t size) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  if (cJSON_IsString(v))
    return v->valuestring[0] ? v->valuestring : NULL;
  if (cJSON_IsNumber(v)) {
    if (v->valuedouble == (double)(long long)v->valuedouble)
      snprintf(tmp, size, "%lld", (long long)v->valuedouble);
    else
      snprintf(tmp, size, "%.4f", v->valuedouble);
    return tmp;
  }
  return NULL;
}

/* "YYYY-MM-DD" of ms in the office's time zone. */
static void office_day(kjc_store *s, int64_t ms, char out[11]) {
  char t[64];
  kjc_office_time(s, ms, t, sizeof t);
  memcpy(out, t, 10);
  out[10] = 0;
}

/* "14.05 WIB" of ms (0: ""). */
static void office_clock(kjc_store *s, int64_t ms, char *out, size_t size) {
  if (ms <= 0) {
    out[0] = 0;
    return;
  }
  char t[64];
  kjc_office_time(s, ms, t, sizeof t); /* "2026-11-30 14:05 WIB" */
  cpy(out, size, t + 11);
  char *colon = strchr(out, ':');
  if (colon)
    *colon = '.';
}

static char *record_value_dup(kjc_store *s, kj_rtype t, const char *id, const char *field) {
  kj_rstate st;
  char *v = NULL;
  if (kjc_record_get(s, t, id, &st, NULL) == KJ_OK && !st.rec.deleted) {
    const char *x = kj_record_get(&st.rec, field);
    if (x)
      v = strdup(x);
  }
  kj_rstate_release(&st);
  return v;
}

/* ---- roster ----------------------------------------------------------- */

typedef struct roster_q {
  const char *office;
  const char *supervisor; /* only people supervised by this NIP, or NULL */
  cJSON *names;           /* {nip: name} */
  int team;               /* people found supervised by supervisor */
} roster_q;

static int roster_row(void *ud, const kj_rstate *st, const char *reason) {
  (void)reason;
  roster_q *q = ud;
  const char *of = kj_record_get(&st->rec, "office");
  if (!of || strcmp(of, q->office) != 0)
    return 0;
  const char *sup = kj_record_get(&st->rec, "supervisor");
  if (q->supervisor && !(sup && !strcmp(sup, q->supervisor)))
    return 0;
  if (q->supervisor)
    q->team++;
  const char *name = kj_record_get(&st->rec, "name");
  if (q->names)
    cJSON_AddStringToObject(q->names, st->rec.id, name ? name : "");
  return 0;
}

/* {nip: name} of the office's roster (or of supervisor's team). */
static cJSON *roster(kjc_store *s, const char *supervisor, int *team) {
  roster_q q = {kjc_store_office(s), supervisor, cJSON_CreateObject(), 0};
  kj_err err;
  kjc_store_each(s, KJ_T_EMPLOYEE, 0, roster_row, &q, &err);
  if (team)
    *team = q.team;
  return q.names;
}

/* ---- sign-in ---------------------------------------------------------- */

static void session_json(kjc_ui *ui, const kjh_session *ss, cJSON *o) {
  kjc_store *s = ui->s;
  cJSON_AddStringToObject(o, "user", ss->user);
  cJSON_AddStringToObject(o, "role", ss->role);
  cJSON_AddStringToObject(o, "csrf", ss->csrf);
  char *name =
      strcmp(ss->user, "operator") ? record_value_dup(s, KJ_T_EMPLOYEE, ss->user, "name") : NULL;
  cJSON_AddStringToObject(o, "name",
                          name                           ? name
                          : strcmp(ss->user, "operator") ? ss->user
                                                         : "Operator");
  free(name);
  cJSON_AddStringToObject(o, "office", kjc_store_office(s));
  char *oname = record_value_dup(s, KJ_T_OFFICE, kjc_store_office(s), "name");
  cJSON_AddStringToObject(o, "office_name", oname ? oname : kjc_store_office(s));
  free(oname);
  char today[11];
  office_day(s, kjc_store_now_ms(s), today);
  cJSON_AddStringToObject(o, "today", today);
}

static void api_signin(kjc_ui *ui, const kjh_request *req, const cJSON *body, kjh_response *resp) {
  kjc_store *s = ui->s;
  kj_err err;
  kj_err_clear(&err);
  const char *nip = jstr(body, "nip"), *pin = jstr(body, "pin");
  const char *password = jstr(body, "password");
  char role[32] = "employee", user[64];
  if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "operator"))) {
    int64_t now = kjc_store_now_ms(s);
    char *hash = NULL;
    kjc_meta_get(s, KJC_META_OPERATOR_HASH, &hash, &err);
    if (!hash) {
      reply_err(resp, 403,
                _("no operator password is set at this PC: run 'kinerja ui "
                  "--operator-password-file FILE'"),
                "password");
      return;
    }
    if (ui->op_locked_until > now) {
      free(hash);
      char when[64];
      kjc_office_time(s, ui->op_locked_until, when, sizeof when);
      cJSON *o = cJSON_CreateObject();
      char msg[160];
      snprintf(msg, sizeof msg, _("operator is locked after %d wrong tries until %s"),
               OPERATOR_TRIES, when);
      cJSON_AddStringToObject(o, "error", msg);
      cJSON_AddStringToObject(o, "field", "password");
      cJSON_AddStringToObject(o, "locked_until", when);
      reply(resp, 403, o);
      return;
    }
    kj_code c = kj_pass_verify(hash, password ? password : "", &err);
    free(hash);
    if (c) {
      int left = OPERATOR_TRIES - ++ui->op_failures;
      cJSON *o = cJSON_CreateObject();
      /* the message says the tries left, or the lock, once (as a wrong
       * PIN's): the page shows it as it is */
      char msg[200];
      if (left <= 0) {
        ui->op_failures = 0;
        ui->op_locked_until = now + KJC_PIN_LOCK_MS;
        char when[64];
        kjc_office_time(s, ui->op_locked_until, when, sizeof when);
        cJSON_AddStringToObject(o, "locked_until", when);
        left = 0;
        snprintf(msg, sizeof msg, _("wrong operator password: %d wrong tries, locked until %s"),
                 OPERATOR_TRIES, when);
      } else {
        snprintf(msg, sizeof msg,
                 _("wrong operator password: %d %s left before a %lld-minute lock"), left,
                 left == 1 ? _("try") : _("tries"), KJC_PIN_LOCK_MS / 60000);
      }
      cJSON_AddStringToObject(o, "error", msg);
      cJSON_AddStringToObject(o, "field", "password");
      cJSON_AddNumberToObject(o, "tries_left", left);
      reply(resp, 403, o);
      return;
    }
    ui->op_failures = 0;
    snprintf(role, sizeof role, "operator");
    snprintf(user, sizeof user, "operator");
  } else {
    kjc_signin info = {0};
    kj_code c = kjc_person_signin(s, nip ? nip : "", pin ? pin : "", &info, &err);
    if (c) {
      cJSON *o = cJSON_CreateObject();
      cJSON_AddStringToObject(o, "error", err.msg);
      cJSON_AddStringToObject(o, "field", c == KJ_EAUTH ? "pin" : "nip");
      if (c == KJ_EAUTH) {
        if (info.locked_until_ms > 0) {
          char when[64];
          kjc_office_time(s, info.locked_until_ms, when, sizeof when);
          cJSON_AddStringToObject(o, "locked_until", when);
        } else
          cJSON_AddNumberToObject(o, "tries_left", info.tries_left);
      }
      reply(resp, c == KJ_EAUTH || c == KJ_ENOENT || c == KJ_EINVAL ? 403 : 500, o);
      return;
    }
    int team = 0;
    cJSON_Delete(roster(s, nip, &team));
    if (team > 0)
      snprintf(role, sizeof role, "supervisor");
    snprintf(user, sizeof user, "%s", nip);
  }
  kjh_session ss;
  if (kjh_session_start(ui->sessions, req, resp, user, role, &ss, &err)) {
    reply_err(resp, 500, err.msg, "");
    return;
  }
  cJSON *o = cJSON_CreateObject();
  session_json(ui, &ss, o);
  reply(resp, 200, o);
}

/* ---- status ----------------------------------------------------------- */

typedef struct count_q {
  const char *office;
  cJSON *team; /* {nip: name}: count their submitted activities */
  int n;
} count_q;

static int count_submitted(void *ud, const kj_rstate *st, const char *reason) {
  (void)reason;
  count_q *q = ud;
  const char *nip = kj_record_get(&st->rec, "nip"), *status = kj_record_get(&st->rec, "status");
  if (nip && (!status || !strcmp(status, "submitted")) && /* absent is submitted */
      cJSON_GetObjectItemCaseSensitive(q->team, nip))
    q->n++;
  return 0;
}

static void api_status(kjc_ui *ui, const kjh_session *ss, kjh_response *resp) {
  kjc_store *s = ui->s;
  kj_err err;
  kj_err_clear(&err);
  cJSON *o = cJSON_CreateObject();
  char *state = NULL, *lasterr = NULL;
  int64_t last = 0, attempt = 0;
  kjc_meta_get(s, KJC_META_SYNC_STATE, &state, &err);
  kjc_meta_get(s, KJC_META_LAST_ERROR, &lasterr, &err);
  kjc_meta_get_i64(s, KJC_META_LAST_SYNC, 0, &last, &err);
  kjc_meta_get_i64(s, KJC_META_LAST_ATTEMPT, 0, &attempt, &err);
  cJSON_AddStringToObject(o, "state", state ? state : "never");
  cJSON_AddBoolToObject(o, "online", state && !strcmp(state, "ok"));
  if (lasterr && state && strcmp(state, "ok") != 0)
    cJSON_AddStringToObject(o, "last_error", lasterr);
  free(state);
  free(lasterr);
  char clock[32];
  office_clock(s, last, clock, sizeof clock);
  cJSON_AddNumberToObject(o, "last_sync_ms", (double)last);
  cJSON_AddStringToObject(o, "last_sync", clock);
  char lastday[11] = "";
  if (last > 0)
    office_day(s, last, lastday);
  cJSON_AddStringToObject(o, "last_sync_day", lastday);
  kjc_outbox_stats os = {0};
  kjc_outbox_stats_get(s, &os, &err);
  cJSON_AddNumberToObject(o, "pending", (double)(os.pending + os.held));
  cJSON_AddNumberToObject(o, "rejected", (double)os.rejected);
  cJSON_AddBoolToObject(o, "syncing", kjc_sync_watch_running());
  if (!strcmp(ss->role, "supervisor")) {
    count_q q = {kjc_store_office(s), roster(s, ss->user, NULL), 0};
    kjc_store_each(s, KJ_T_ACTIVITY, 0, count_submitted, &q, &err);
    cJSON_Delete(q.team);
    cJSON_AddNumberToObject(o, "to_approve", q.n);
  }
  reply(resp, 200, o);
}

/* "Sinkronkan sekarang": the sync thread of `kinerja ui` (kjc_sync_watch)
 * syncs at once; this waits up to SYNC_WAIT_MS for it with the app's
 * mutex released, so a long sync (a slow link, thousands of changes)
 * never holds up another request, and two syncs never run side by side.
 * Answers {ok, pushed, pulled, rejected[, error]} when it ended in time,
 * else {ok: true, running: true} (the page watches /api/status). */
#define SYNC_WAIT_MS 10000

static void api_sync(kjc_ui *ui, kjh_response *resp) {
  kjc_sync_outcome out;
  pthread_mutex_unlock(&ui->mu); /* taken by kjc_ui_handle */
  kj_code c = kjc_sync_watch_now(SYNC_WAIT_MS, &out);
  pthread_mutex_lock(&ui->mu);
  cJSON *o = cJSON_CreateObject();
  if (c) {
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_AddBoolToObject(o, "running", 1);
    reply(resp, 200, o);
    return;
  }
  cJSON_AddBoolToObject(o, "ok", out.code == KJ_OK);
  if (out.code)
    cJSON_AddStringToObject(o, "error", out.msg);
  cJSON_AddNumberToObject(o, "pushed", (double)out.res.pushed);
  cJSON_AddNumberToObject(o, "pulled", (double)out.res.pulled);
  cJSON_AddNumberToObject(o, "rejected", (double)out.res.rejected);
  reply(resp, 200, o);
}

/* ---- master data: unsur, services, indicators ------------------------- */

static cJSON *unsur_json(void) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; i < KJ_UNSUR_COUNT; i++) {
    const kj_unsur_def *u = kj_unsur(i);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "field", u->field);
    cJSON_AddStringToObject(o, "name", u->name);
    cJSON_AddStringToObject(o, "name_en", u->name_en);
    cJSON_AddItemToObject(o, "answers", cJSON_CreateStringArray(u->answer, KJ_UNSUR_SCALE));
    cJSON_AddItemToArray(a, o);
  }
  return a;
}

typedef struct list_q {
  const char *office;
  cJSON *arr;
  kj_rtype type;
} list_q;

static int service_row(void *ud, const kj_rstate *st, const char *reason) {
  (void)reason;
  list_q *q = ud;
  const char *of = kj_record_get(&st->rec, "office"), *name = kj_record_get(&st->rec, "name");
  if (of && name && !strcmp(of, q->office))
    cJSON_AddItemToArray(q->arr, cJSON_CreateString(name));
  return 0;
}

static int by_valuestring(const void *a, const void *b) {
  return strcmp((*(cJSON *const *)a)->valuestring, (*(cJSON *const *)b)->valuestring);
}

/* The office's service names, by name (byte order; one office's names are
 * distinct), for the pickers of Survei and /kiosk: a JSON array of
 * strings, the caller's. */
static cJSON *services(kjc_store *s) {
  kj_err err;
  list_q q = {kjc_store_office(s), cJSON_CreateArray(), KJ_T_SERVICE};
  kjc_store_each(s, KJ_T_SERVICE, 0, service_row, &q, &err);
  int n = cJSON_GetArraySize(q.arr);
  cJSON **v = n > 1 ? malloc((size_t)n * sizeof *v) : NULL;
  if (!v) /* none, one, or out of memory: as stored */
    return q.arr;
  for (int i = 0; i < n; i++)
    v[i] = cJSON_DetachItemFromArray(q.arr, 0);
  qsort(v, (size_t)n, sizeof *v, by_valuestring);
  for (int i = 0; i < n; i++)
    cJSON_AddItemToArray(q.arr, v[i]);
  free(v);
  return q.arr;
}

static int indicator_row(void *ud, const kj_rstate *st, const char *reason) {
  (void)reason;
  list_q *q = ud;
  cJSON *o = cJSON_CreateObject();
  const char *name = kj_record_get(&st->rec, "name"), *unit = kj_record_get(&st->rec, "unit");
  cJSON_AddStringToObject(o, "id", st->rec.id);
  cJSON_AddStringToObject(o, "name", name ? name : st->rec.id);
  cJSON_AddStringToObject(o, "unit", unit ? unit : "");
  cJSON_AddItemToArray(q->arr, o);
  return 0;
}

static void api_meta(kjc_ui *ui, kjh_response *resp) {
  kj_err err;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "unsur", unsur_json());
  cJSON_AddItemToObject(o, "services", services(ui->s));
  list_q q = {kjc_store_office(ui->s), cJSON_CreateArray(), KJ_T_INDICATOR};
  kjc_store_each(ui->s, KJ_T_INDICATOR, 0, indicator_row, &q, &err);
  cJSON_AddItemToObject(o, "indicators", q.arr);
  reply(resp, 200, o);
}

static void api_kiosk(kjc_ui *ui, kjh_response *resp) {
  kjc_store *s = ui->s;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "office", kjc_store_office(s));
  char *oname = record_value_dup(s, KJ_T_OFFICE, kjc_store_office(s), "name");
  cJSON_AddStringToObject(o, "office_name", oname ? oname : kjc_store_office(s));
  free(oname);
  cJSON_AddItemToObject(o, "services", services(s));
  cJSON_AddItemToObject(o, "unsur", unsur_json());
  int64_t pause_s = ui->kiosk_pause_ms / 1000; /* whole seconds */
  cJSON_AddNumberToObject(o, "pause_s", (double)pause_s);
  reply(resp, 200, o);
}

/* ---- writing a record from a form --------------------------------------- */

static void problem(void *ud, const char *msg) {
  cJSON *errors = ud;
  cJSON *e = cJSON_CreateObject();
  char f[64];
  field_of(msg, f, sizeof f);
  cJSON_AddStringToObject(e, "field", f);
  cJSON_AddStringToObject(e, "message", msg);
  cJSON_AddItemToArray(errors, e);
}

/* Copy the form fields `names` of body into c (a new record of its type),
 * set office and a new id, check the record with the rules of the command
 * line (kj_record_check: every problem, each against its field) and write
 * it with kjc_store_write.  Answers 200 {"id"} or 400 {"errors"}. */
static void write_form(kjc_ui *ui, kj_change *c, const cJSON *body, const char *const *names,
                       kjh_response *resp) {
  kjc_store *s = ui->s;
  const kj_type_def *t = kj_type(c->rec.type);
  char tmp[64];
  cJSON *errors = cJSON_CreateArray();
  for (int i = 0; names[i]; i++) {
    const char *v = jtext(body, names[i], tmp, sizeof tmp);
    int idx = kj_field_index(t, names[i]);
    if (v && idx >= 0) {
      kj_record_set(&c->rec, idx, v);
      c->mask |= 1u << idx;
    }
  }
  int fo = t->office_field;
  if (fo >= 0) {
    kj_record_set(&c->rec, fo, kjc_store_office(s));
    c->mask |= 1u << fo;
  }
  if (!c->rec.id[0] && kj_uuid_v7(c->rec.id)) {
    cJSON_Delete(errors);
    reply_err(resp, 500, _("cannot make an id: no randomness"), "");
    return;
  }
  kj_record_check(&c->rec, problem, errors);
  if (cJSON_GetArraySize(errors) == 0) {
    kj_err err;
    kj_err_clear(&err);
    int res;
    kj_code code = kjc_store_write(s, c, KJC_CHANGE_NEW | KJC_CHANGE_DIFF, &res, &err);
    if (code == KJ_EINVAL || code == KJ_EEXIST)
      problem(errors, err.msg);
    else if (code) {
      cJSON_Delete(errors);
      reply_err(resp, 500, err.msg, "");
      return;
    }
  }
  cJSON *o = cJSON_CreateObject();
  if (cJSON_GetArraySize(errors)) {
    cJSON_AddStringToObject(o, "error", cJSON_GetArrayItem(errors, 0)->child->next->valuestring);
    cJSON_AddItemToObject(o, "errors", errors);
    reply(resp, 400, o);
    return;
  }
  cJSON_Delete(errors);
  cJSON_AddStringToObject(o, "id", c->rec.id);
  reply(resp, 200, o);
}

static const char *const k_survey_fields[] = {
    "date", "service", "u1",  "u2",  "u3",        "u4",         "u5",      "u6", "u7",
    "u8",   "u9",      "age", "sex", "education", "occupation", "comment", NULL};

/* The service must be one of the office's (when it has a list). */
static int service_known(kjc_store *s, const cJSON *body) {
  const char *sv = jstr(body, "service");
  cJSON *list = services(s);
  int n = cJSON_GetArraySize(list), ok = n == 0 || !sv || !sv[0];
  for (cJSON *it = list->child; it && !ok; it = it->next)
    ok = !strcmp(it->valuestring, sv);
  cJSON_Delete(list);
  return ok;
}

static void survey_write(kjc_ui *ui, const cJSON *body, const char *author, kjh_response *resp) {
  if (!service_known(ui->s, body)) {
    cJSON *o = cJSON_CreateObject(), *errors = cJSON_CreateArray();
    problem(errors, _("field 'service': not a service of this office (its list of services)"));
    cJSON_AddStringToObject(o, "error", _("field 'service': not a service of this office"));
    cJSON_AddItemToObject(o, "errors", errors);
    reply(resp, 400, o);
    return;
  }
  kj_change c;
  kj_change_init(&c, KJ_T_SURVEY);
  cpy(c.author, sizeof c.author, author);
  write_form(ui, &c, body, k_survey_fields, resp);
  kj_change_release(&c);
}

/* GET /api/kiosk/qr: the kiosk's address and its QR code (an SVG data:
 * URL, kjh_qr_data_url) for Laporan's printable poster. */
/* {url, qr} of the kiosk as this PC serves it (its QR code an SVG data:
 * URL), or {error} when the app does not listen yet or the code cannot be
 * made; *status gets the HTTP status of that answer. */
static cJSON *kiosk_qr(kjc_ui *ui, int *status) {
  cJSON *o = cJSON_CreateObject();
  if (!ui->kiosk_url[0]) {
    *status = 503;
    cJSON_AddStringToObject(o, "error", _("the app is not listening yet"));
    return o;
  }
  char *qr = NULL;
  kj_err err;
  kj_err_clear(&err);
  if (kjh_qr_data_url(ui->kiosk_url, &qr, &err)) {
    *status = 500;
    cJSON_AddStringToObject(o, "error", err.msg);
    return o;
  }
  *status = 200;
  cJSON_AddStringToObject(o, "url", ui->kiosk_url);
  cJSON_AddStringToObject(o, "qr", qr);
  free(qr);
  return o;
}

static void api_kiosk_qr(kjc_ui *ui, kjh_response *resp) {
  int status = 200;
  cJSON *o = kiosk_qr(ui, &status);
  reply(resp, status, o);
}

static void api_kiosk_survey(kjc_ui *ui, const kjh_request *req, const cJSON *body,
                             kjh_response *resp) {
  kjc_store *s = ui->s;
  char addr[64];
  snprintf(addr, sizeof addr, "%s", req->remote ? req->remote : "");
  char *colon = strrchr(addr, ':');
  if (colon)
    *colon = 0;
  unsigned h = 5381;
  for (const char *p = addr; *p; p++)
    h = h * 33 + (unsigned char)*p;
  int slot = (int)(h % KIOSK_SLOTS);
  int64_t now = kjc_store_now_ms(s);
  if (ui->kiosk_pause_ms > 0 && !strcmp(ui->kiosk[slot].addr, addr) &&
      now - ui->kiosk[slot].at_ms < ui->kiosk_pause_ms) {
    cJSON *o = cJSON_CreateObject();
    long wait = (long)((ui->kiosk_pause_ms - (now - ui->kiosk[slot].at_ms) + 999) / 1000);
    char msg[128];
    snprintf(msg, sizeof msg, _("one survey per %lld s from a device: wait %ld s"),
             (long long)(ui->kiosk_pause_ms / 1000), wait);
    cJSON_AddStringToObject(o, "error", msg);
    cJSON_AddNumberToObject(o, "wait_s", (double)wait);
    reply(resp, 429, o);
    return;
  }
  cJSON *b = cJSON_Duplicate(body, 1);
  char today[11];
  office_day(s, now, today);
  cJSON_DeleteItemFromObjectCaseSensitive(b, "date");
  cJSON_AddStringToObject(b, "date", today);
  survey_write(ui, b, "kiosk", resp);
  cJSON_Delete(b);
  if (resp->status == 200) {
    snprintf(ui->kiosk[slot].addr, sizeof ui->kiosk[slot].addr, "%s", addr);
    ui->kiosk[slot].at_ms = now;
  }
}

/* ---- lists of office records ------------------------------------------ */

typedef struct rec_q {
  kjc_store *s;
  kj_rtype type;
  const char *nip; /* activities of this NIP only, or NULL */
  cJSON *team;     /* activities of these NIPs only ({nip: name}), or NULL */
  const char *status;
  const char *date;    /* this day only ("" or NULL: any) */
  const char *from;    /* from this day on ("" or NULL: any) */
  const char *to;      /* up to this day ("" or NULL: any) */
  const char *service; /* surveys of this service only ("" or NULL: any) */
  cJSON *names;        /* {nip: name} of the office: the names beside NIPs */
  cJSON *arr;
} rec_q;

/* The name beside nip ({nip: name} names), "" when none. */
static const char *name_of(const cJSON *names, const char *nip) {
  const cJSON *n = nip && names ? cJSON_GetObjectItemCaseSensitive(names, nip) : NULL;
  return n && cJSON_IsString(n) ? n->valuestring : "";
}

/* An activity's decision in words of the page's language, naming the
 * approver by name: "Ditolak oleh NAME: REASON".  The reason is the one
 * kept at this PC (kjc_review_last: "rejected by NIP at this PC: REASON",
 * store.h); a decision pulled from the server has none. */
static void review_text(const rec_q *q, const kj_rstate *st, const char *status, cJSON *o) {
  const char *who = kj_record_get(&st->rec, "reviewed_by");
  char *rv = NULL, *reason = NULL;
  if (kjc_review_last(q->s, st->rec.id, &rv, NULL) == KJ_OK && rv) {
    char *at = strstr(rv, " at this PC: ");
    if (at && !strncmp(rv, status, strlen(status)))
      reason = at + strlen(" at this PC: ");
  }
  const char *name = name_of(q->names, who);
  char by[256];
  snprintf(by, sizeof by, "%s%s%s%s", name[0] ? name : (who ? who : ""), name[0] && who ? " (" : "",
           name[0] && who ? who : "", name[0] && who ? ")" : "");
  char text[2600];
  snprintf(text, sizeof text,
           !strcmp(status, "rejected") ? _("rejected by %s%s%s") : _("approved by %s%s%s"), by,
           reason ? ": " : "", reason ? reason : "");
  cJSON_AddStringToObject(o, "review", text);
  if (who)
    cJSON_AddStringToObject(o, "reviewer_name", name);
  free(rv);
}

static int rec_row(void *ud, const kj_rstate *st, const char *reason) {
  rec_q *q = ud;
  if (st->rec.type != q->type)
    return 0;
  const char *nip = kj_record_get(&st->rec, "nip");
  if (q->nip && !(nip && !strcmp(nip, q->nip)))
    return 0;
  if (q->team && !(nip && cJSON_GetObjectItemCaseSensitive(q->team, nip)))
    return 0;
  const char *status = kj_record_get(&st->rec, "status");
  /* absent is submitted, as everywhere (docs/protocol.md, proto/rules.c) */
  if (q->status && q->status[0] && strcmp(status ? status : "submitted", q->status) != 0)
    return 0;
  const char *date = kj_record_get(&st->rec, "date");
  if (q->date && q->date[0] && !(date && !strcmp(date, q->date)))
    return 0;
  if (q->from && q->from[0] && !(date && strcmp(date, q->from) >= 0))
    return 0;
  if (q->to && q->to[0] && !(date && strcmp(date, q->to) <= 0))
    return 0;
  const char *svc = kj_record_get(&st->rec, "service");
  if (q->service && q->service[0] && !(svc && !strcmp(svc, q->service)))
    return 0;
  cJSON *o = kjc_record_json(&st->rec);
  if (nip)
    cJSON_AddStringToObject(o, "name", name_of(q->team ? q->team : q->names, nip));
  char said[1024]; /* the server's reason: a rule's in the page's language */
  if (reason)
    cJSON_AddStringToObject(o, "rejected_reason",
                            kj_refusal_reason(reason, said, sizeof said, NULL));
  if (q->type == KJ_T_ACTIVITY && status &&
      (!strcmp(status, "rejected") || !strcmp(status, "approved")))
    review_text(q, st, status, o);
  cJSON_AddItemToArray(q->arr, o);
  return 0;
}

/* Newest first: by date, then by id (UUID v7: time of entry). */
static int newest_first(const void *a, const void *b) {
  const cJSON *x = *(void *const *)a, *y = *(void *const *)b;
  const char *dx = jstr(x, "date"), *dy = jstr(y, "date");
  int c = strcmp(dy ? dy : "", dx ? dx : "");
  if (c)
    return c;
  const char *ix = jstr(x, "id"), *iy = jstr(y, "id");
  return strcmp(iy ? iy : "", ix ? ix : "");
}

/* Newest first by the date received (complaints), then by id. */
static int newest_received_first(const void *a, const void *b) {
  const cJSON *x = *(void *const *)a, *y = *(void *const *)b;
  const char *dx = jstr(x, "received"), *dy = jstr(y, "received");
  int c = strcmp(dy ? dy : "", dx ? dx : "");
  if (c)
    return c;
  const char *ix = jstr(x, "id"), *iy = jstr(y, "id");
  return strcmp(iy ? iy : "", ix ? ix : "");
}

/* The items of arr (freed) in a new array ordered by cmp (qsort's
 * comparator over cJSON item pointers), the first limit of them (all when
 * limit <= 0).  The order is made on an array of pointers: moving items
 * inside a cJSON array (detach + cJSON_InsertItemInArray) corrupts it in
 * the Debian cJSON 1.7.15 and lost complaints from Pengaduan. */
static cJSON *sorted_by(cJSON *arr, int limit, int (*cmp)(const void *, const void *)) {
  int n = cJSON_GetArraySize(arr);
  void **v = calloc((size_t)n + 1, sizeof *v); /* cJSON items */
  cJSON *out = cJSON_CreateArray();
  if (!v)
    return out;
  int i = 0;
  while (arr->child)
    v[i++] = cJSON_DetachItemViaPointer(arr, arr->child);
  qsort(v, (size_t)n, sizeof *v, cmp);
  for (i = 0; i < n; i++) {
    if (limit <= 0 || i < limit)
      cJSON_AddItemToArray(out, v[i]);
    else
      cJSON_Delete(v[i]);
  }
  free(v);
  cJSON_Delete(arr);
  return out;
}

static cJSON *sorted(cJSON *arr, int limit) {
  return sorted_by(arr, limit, newest_first);
}

/* The list filters of a request's query: from/to (YYYY-MM-DD, either may
 * be empty) into from[11], to[11]; 0, or -1 with resp answered 400 naming
 * the parameter when one is not a date. */
static int date_range(const kjh_request *req, char from[11], char to[11], kjh_response *resp) {
  const char *names[2] = {"from", "to"};
  char *out[2] = {from, to};
  for (int i = 0; i < 2; i++) {
    char v[32] = "";
    kjh_query_get(req->query, names[i], v, sizeof v);
    out[i][0] = 0;
    if (!v[0])
      continue;
    kj_err e;
    kj_err_clear(&e);
    static const kj_field_def def = {.name = "date", .ft = KJ_FT_DATE};
    if (strlen(v) != 10 || kj_field_validate(&def, v, &e)) {
      char msg[160];
      snprintf(msg, sizeof msg, _("field '%s': a date YYYY-MM-DD"), names[i]);
      reply_err(resp, 400, msg, names[i]);
      return -1;
    }
    memcpy(out[i], v, 11);
  }
  return 0;
}

int kjc_ui_date_range(const kjh_request *req, kj_period *range, int *any, kjh_response *resp) {
  char from[11], to[11];
  if (date_range(req, from, to, resp))
    return -1;
  memset(range, 0, sizeof *range);
  range->first = kj_day_from_civil(1900, 1, 1); /* the dates kj_date_parse takes */
  range->last = kj_day_from_civil(2999, 12, 31);
  if (from[0])
    kj_date_parse(from, &range->first);
  if (to[0])
    kj_date_parse(to, &range->last);
  *any = from[0] || to[0];
  return 0;
}

/* The live records of type q->type that pass q's filters, newest first,
 * the first limit of them (all when limit <= 0); q->arr is made here and
 * q->names (may be NULL) stays the caller's. */
static cJSON *records_q(rec_q *q, int limit) {
  kj_err err;
  q->arr = cJSON_CreateArray();
  kjc_store_each(q->s, q->type, 0, rec_row, q, &err);
  return sorted(q->arr, limit);
}

/* GET /api/surveys?from=&to=&service=: the newest 100 paper forms (all
 * authors: the kiosk's too) of the office that pass the filters. */
static void api_surveys_get(kjc_ui *ui, const kjh_request *req, kjh_response *resp) {
  char from[11], to[11], service[256] = "";
  if (date_range(req, from, to, resp))
    return;
  kjh_query_get(req->query, "service", service, sizeof service);
  rec_q q = {.s = ui->s, .type = KJ_T_SURVEY, .from = from, .to = to, .service = service};
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "surveys", records_q(&q, 100));
  reply(resp, 200, o);
}

/* GET /api/activities?status=&from=&to=: the person's own activities. */
static void api_activities_get(kjc_ui *ui, const kjh_session *ss, const kjh_request *req,
                               kjh_response *resp) {
  char from[11], to[11], status[16] = "";
  if (date_range(req, from, to, resp))
    return;
  kjh_query_get(req->query, "status", status, sizeof status);
  if (!strcmp(status, "all"))
    status[0] = 0;
  cJSON *names = roster(ui->s, NULL, NULL);
  rec_q q = {.s = ui->s,
             .type = KJ_T_ACTIVITY,
             .nip = ss->user,
             .status = status,
             .from = from,
             .to = to,
             .names = names};
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "activities", records_q(&q, 0));
  cJSON_Delete(names);
  reply(resp, 200, o);
}

static const char *const k_activity_fields[] = {"date",        "indicator", "quantity", "minutes",
                                                "description", "evidence",  NULL};

static void activity_add(kjc_ui *ui, const kjh_session *ss, const cJSON *body, kjh_response *resp) {
  kj_change c;
  kj_change_init(&c, KJ_T_ACTIVITY);
  cpy(c.author, sizeof c.author, ss->user);
  const kj_type_def *t = kj_type(KJ_T_ACTIVITY);
  int fn = kj_field_index(t, "nip"), fs = kj_field_index(t, "status");
  kj_record_set(&c.rec, fn, ss->user);
  kj_record_set(&c.rec, fs, "draft");
  c.mask |= (1u << fn) | (1u << fs);
  write_form(ui, &c, body, k_activity_fields, resp);
  kj_change_release(&c);
}

/* Warnings of kjc_refs_check into a JSON array of strings. */
static void warning(void *ud, const char *msg) {
  cJSON_AddItemToArray(ud, cJSON_CreateString(msg));
}

/* Edit one of the employee's own activities, as `kinerja update ID
 * FIELD=VALUE ... --as NIP` does: body {id, date, indicator, quantity,
 * minutes, description, evidence}, each given field written ("" clears
 * an optional one), through kjc_store_write with the rules of
 * proto/rules.c (an edit of an approved or rejected activity makes it
 * submitted again, reviewed_by cleared: kj_rules_resubmits).  Answers 200
 * {id, status, resubmitted, warnings} or 400 {error, errors}. */
static void activity_update(kjc_ui *ui, const kjh_session *ss, const cJSON *body,
                            kjh_response *resp) {
  kjc_store *s = ui->s;
  const char *id = jstr(body, "id");
  if (!id || !id[0]) {
    reply_err(resp, 400, _("choose the activity to change"), "id");
    return;
  }
  kj_err err;
  kj_err_clear(&err);
  kj_rstate st;
  kj_code code = kjc_record_get(s, KJ_T_ACTIVITY, id, &st, &err);
  const char *nip = code ? NULL : kj_record_get(&st.rec, "nip");
  const char *was = code ? NULL : kj_record_get(&st.rec, "status");
  char before[16];
  cpy(before, sizeof before, was ? was : "submitted");
  int mine = !code && !st.rec.deleted && nip && !strcmp(nip, ss->user);
  kj_rstate_release(&st);
  if (code && code != KJ_ENOENT) {
    reply_err(resp, 500, err.msg, "");
    return;
  }
  if (!mine) {
    char msg[160];
    snprintf(msg, sizeof msg, _("record '%s': not an activity of yours"), id);
    reply_err(resp, 404, msg, "id");
    return;
  }
  kj_change c;
  kj_change_init(&c, KJ_T_ACTIVITY);
  cpy(c.rec.id, sizeof c.rec.id, id);
  cpy(c.author, sizeof c.author, ss->user);
  const kj_type_def *t = kj_type(KJ_T_ACTIVITY);
  cJSON *errors = cJSON_CreateArray(), *warnings = cJSON_CreateArray();
  char tmp[64];
  static const char *const names[] = {"date",        "indicator", "quantity", "minutes",
                                      "description", "evidence",  NULL};
  for (int i = 0; names[i]; i++) {
    if (!cJSON_GetObjectItemCaseSensitive(body, names[i]))
      continue;
    const char *v = jtext(body, names[i], tmp, sizeof tmp); /* NULL: clear */
    int idx = kj_field_index(t, names[i]);
    kj_err e;
    kj_err_clear(&e);
    if (v && kj_field_validate(&t->fields[idx], v, &e))
      problem(errors, e.msg);
    kj_record_set(&c.rec, idx, v);
    c.mask |= 1u << idx;
  }
  int resubmit = 0;
  if (!cJSON_GetArraySize(errors)) {
    kjc_refs refs;
    kjc_refs_init(&refs, s);
    kjc_refs_check(&refs, &c.rec, warning, warnings);
    kjc_refs_release(&refs);
    int res;
    code = kjc_store_write(s, &c, KJC_CHANGE_EXISTING | KJC_CHANGE_DIFF | KJC_CHANGE_NAME_RECORD,
                           &res, &err);
    if (code == KJ_EINVAL || code == KJ_ENOENT || code == KJ_EAUTH)
      problem(errors, err.msg);
    else if (code) {
      kj_change_release(&c);
      cJSON_Delete(errors);
      cJSON_Delete(warnings);
      reply_err(resp, 500, err.msg, "");
      return;
    }
  }
  kj_change_release(&c);
  cJSON *o = cJSON_CreateObject();
  if (cJSON_GetArraySize(errors)) {
    cJSON_AddStringToObject(o, "error", cJSON_GetArrayItem(errors, 0)->child->next->valuestring);
    cJSON_AddItemToObject(o, "errors", errors);
    cJSON_Delete(warnings);
    reply(resp, 400, o);
    return;
  }
  cJSON_Delete(errors);
  char *now = record_value_dup(s, KJ_T_ACTIVITY, id, "status");
  resubmit = strcmp(before, "submitted") != 0 && (!now || !strcmp(now, "submitted"));
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddStringToObject(o, "status", now ? now : "submitted");
  cJSON_AddBoolToObject(o, "resubmitted", resubmit);
  cJSON_AddItemToObject(o, "warnings", warnings);
  free(now);
  reply(resp, 200, o);
}

/* Roll back the transaction of s and answer status with err's message
 * (field as reply_err's): a handler's way out when a store call failed. */
static void rollback_reply(kjc_store *s, kjh_response *resp, int status, const kj_err *err,
                           const char *field) {
  kjc_store_rollback(s);
  reply_err(resp, status, err->msg, field);
}

/* The outcome c (err its message) of item id of a batch of records
 * (activities submitted, approved or rejected) in one transaction of s;
 * wrote: c is the store write's code.  A refusal (any code before the
 * write; KJ_EINVAL, KJ_ENOENT or KJ_EEXIST of the write) is added to the
 * array refused as {"id", "error"}; KJ_OK adds 1 to *done; both return 0.
 * Another code of the write is a store error: the whole batch is rolled
 * back, resp answers 500 and -1 is returned (the caller frees and returns). */
static int batch_item(kjc_store *s, const char *id, kj_code c, int wrote, const kj_err *err,
                      cJSON *refused, int *done, kjh_response *resp) {
  if (wrote && c && c != KJ_EINVAL && c != KJ_ENOENT && c != KJ_EEXIST) {
    rollback_reply(s, resp, 500, err, "");
    return -1;
  }
  if (c) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", id);
    cJSON_AddStringToObject(e, "error", err->msg);
    cJSON_AddItemToArray(refused, e);
  } else
    (*done)++;
  return 0;
}

/* Set the status of each of ids (own activities, draft or rejected) to
 * submitted, in one transaction; refusals per id. */
static void activity_submit(kjc_ui *ui, const kjh_session *ss, const cJSON *body,
                            kjh_response *resp) {
  kjc_store *s = ui->s;
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "ids");
  if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) == 0) {
    reply_err(resp, 400, _("choose at least one activity"), "ids");
    return;
  }
  kj_err err;
  kj_err_clear(&err);
  if (kjc_store_begin(s, &err)) {
    reply_err(resp, 500, err.msg, "");
    return;
  }
  cJSON *o = cJSON_CreateObject(), *refused = cJSON_CreateArray();
  int done = 0;
  const kj_type_def *t = kj_type(KJ_T_ACTIVITY);
  int fs = kj_field_index(t, "status");
  for (const cJSON *it = ids->child; it; it = it->next) {
    const char *id = cJSON_IsString(it) ? it->valuestring : "";
    kj_rstate st;
    kj_err_clear(&err);
    kj_code c = kjc_record_get(s, KJ_T_ACTIVITY, id, &st, &err);
    const char *nip = c ? NULL : kj_record_get(&st.rec, "nip");
    const char *status = c ? NULL : kj_record_get(&st.rec, "status");
    if (!c && !status)
      status = "submitted"; /* absent is submitted (docs/protocol.md) */
    if (!c && (st.rec.deleted || !nip || strcmp(nip, ss->user) != 0))
      c = kj_fail(&err, KJ_ENOENT, _("record '%s': not an activity of yours"), id);
    else if (!c && strcmp(status, "draft") != 0 && strcmp(status, "rejected") != 0)
      c = kj_fail(&err, KJ_EINVAL, _("record '%s': is %s already"), id,
                  !strcmp(status, "submitted")  ? _("submitted")
                  : !strcmp(status, "approved") ? _("approved")
                  : !strcmp(status, "rejected") ? _("rejected")
                                                : status);
    kj_rstate_release(&st);
    int wrote = !c;
    if (wrote) {
      kj_change ch;
      kj_change_init(&ch, KJ_T_ACTIVITY);
      snprintf(ch.rec.id, sizeof ch.rec.id, "%s", id);
      cpy(ch.author, sizeof ch.author, ss->user);
      kj_record_set(&ch.rec, fs, "submitted");
      ch.mask = 1u << fs;
      int res;
      c = kjc_store_write(s, &ch, KJC_CHANGE_DIFF | KJC_CHANGE_EXISTING | KJC_CHANGE_NAME_RECORD,
                          &res, &err);
      kj_change_release(&ch);
    }
    if (batch_item(s, id, c, wrote, &err, refused, &done, resp)) {
      cJSON_Delete(o);
      cJSON_Delete(refused);
      return;
    }
  }
  if (kjc_store_commit(s, &err)) {
    cJSON_Delete(o);
    cJSON_Delete(refused);
    reply_err(resp, 500, err.msg, "");
    return;
  }
  cJSON_AddNumberToObject(o, "done", done);
  cJSON_AddItemToObject(o, "refused", refused);
  reply(resp, 200, o);
}

/* Copy the employee's activities of yesterday (office time) to today, as
 * drafts. */
static void activity_copy(kjc_ui *ui, const kjh_session *ss, kjh_response *resp) {
  kjc_store *s = ui->s;
  int64_t now = kjc_store_now_ms(s);
  char today[11], yesterday[11];
  office_day(s, now, today);
  office_day(s, now - 86400000LL, yesterday);
  rec_q q = {.s = s, .type = KJ_T_ACTIVITY, .nip = ss->user, .date = yesterday};
  cJSON *prev = records_q(&q, 0);
  kj_err err;
  kj_err_clear(&err);
  int n = 0;
  kj_code c = kjc_store_begin(s, &err);
  const kj_type_def *t = kj_type(KJ_T_ACTIVITY);
  static const char *const copy[] = {"office",  "nip",         "indicator", "quantity",
                                     "minutes", "description", NULL};
  for (cJSON *it = prev->child; it && !c; it = it->next) {
    kj_change ch;
    kj_change_init(&ch, KJ_T_ACTIVITY);
    cpy(ch.author, sizeof ch.author, ss->user);
    for (int i = 0; copy[i]; i++) {
      const char *v = jstr(it, copy[i]);
      int idx = kj_field_index(t, copy[i]);
      if (v && idx >= 0) {
        kj_record_set(&ch.rec, idx, v);
        ch.mask |= 1u << idx;
      }
    }
    int fd = kj_field_index(t, "date"), fs = kj_field_index(t, "status");
    kj_record_set(&ch.rec, fd, today);
    kj_record_set(&ch.rec, fs, "draft");
    ch.mask |= (1u << fd) | (1u << fs);
    if (kj_uuid_v7(ch.rec.id))
      c = kj_fail(&err, KJ_EIO, _("cannot make an id: no randomness"));
    else
      c = kjc_store_write(s, &ch, KJC_CHANGE_NEW | KJC_CHANGE_DIFF | KJC_CHANGE_NAME_RECORD, NULL,
                          &err);
    kj_change_release(&ch);
    n++;
  }
  cJSON_Delete(prev);
  if (c || (c = kjc_store_commit(s, &err))) {
    rollback_reply(s, resp, status_of(c), &err, NULL);
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "copied", n);
  cJSON_AddStringToObject(o, "from", yesterday);
  reply(resp, 200, o);
}

/* ---- approvals ---------------------------------------------------------- */

static void api_approvals_get(kjc_ui *ui, const kjh_session *ss, const kjh_request *req,
                              kjh_response *resp) {
  char status[16] = "submitted", nip[32] = "", date[16] = "", from[11], to[11];
  if (date_range(req, from, to, resp))
    return;
  kjh_query_get(req->query, "status", status, sizeof status);
  kjh_query_get(req->query, "nip", nip, sizeof nip);
  kjh_query_get(req->query, "date", date, sizeof date);
  if (!strcmp(status, "all"))
    status[0] = 0;
  cJSON *team = roster(ui->s, ss->user, NULL);
  cJSON *names = roster(ui->s, NULL, NULL);
  rec_q q = {.s = ui->s,
             .type = KJ_T_ACTIVITY,
             .nip = nip[0] ? nip : NULL,
             .team = team,
             .status = status,
             .date = date,
             .from = from,
             .to = to,
             .names = names};
  cJSON *list = records_q(&q, 0);
  cJSON_Delete(names);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "team", team);
  cJSON_AddItemToObject(o, "activities", list);
  reply(resp, 200, o);
}

static void api_approvals_post(kjc_ui *ui, const kjh_session *ss, const cJSON *body,
                               kjh_response *resp) {
  kjc_store *s = ui->s;
  const char *action = jstr(body, "action"), *reason = jstr(body, "reason");
  const cJSON *ids = cJSON_GetObjectItemCaseSensitive(body, "ids");
  if (!action || (strcmp(action, "approve") != 0 && strcmp(action, "reject") != 0)) {
    reply_err(resp, 400, _("action: approve or reject"), "action");
    return;
  }
  int rejecting = !strcmp(action, "reject");
  if (reason && !reason[0])
    reason = NULL;
  if (rejecting && !reason) {
    reply_err(resp, 400, _("field 'reason': a rejection needs a reason"), "reason");
    return;
  }
  if (reason) {
    static const kj_field_def def = {.name = "reason", .ft = KJ_FT_MTEXT, .min = 1, .max = 2000};
    kj_err e;
    kj_err_clear(&e);
    if (kj_field_validate(&def, reason, &e)) {
      reply_err(resp, 400, e.msg, "reason");
      return;
    }
  }
  if (!cJSON_IsArray(ids) || cJSON_GetArraySize(ids) == 0) {
    reply_err(resp, 400, _("choose at least one activity"), "ids");
    return;
  }
  cJSON *team = roster(s, ss->user, NULL);
  kj_err err;
  kj_err_clear(&err);
  if (kjc_store_begin(s, &err)) {
    cJSON_Delete(team);
    reply_err(resp, 500, err.msg, "");
    return;
  }
  int64_t now = kjc_store_now_ms(s);
  const char *status = rejecting ? "rejected" : "approved";
  cJSON *refused = cJSON_CreateArray();
  int done = 0;
  for (const cJSON *it = ids->child; it; it = it->next) {
    const char *id = cJSON_IsString(it) ? it->valuestring : "";
    kj_err_clear(&err);
    /* only the people this supervisor supervises: never their own work */
    char *nip = record_value_dup(s, KJ_T_ACTIVITY, id, "nip");
    kj_code c = KJ_OK;
    if (nip && !cJSON_GetObjectItemCaseSensitive(team, nip))
      c = kj_fail(&err, KJ_EAUTH, _("record '%s': %s is not one of the people you supervise"), id,
                  nip);
    free(nip);
    int wrote = !c;
    if (wrote) {
      kj_rstate st;
      c = kjc_review_activity(s, id, status, ss->user, reason, now, &st, NULL, &err);
      kj_rstate_release(&st);
    }
    if (batch_item(s, id, c, wrote, &err, refused, &done, resp)) {
      cJSON_Delete(team);
      cJSON_Delete(refused);
      return;
    }
  }
  cJSON_Delete(team);
  if (kjc_store_commit(s, &err)) {
    cJSON_Delete(refused);
    reply_err(resp, 500, err.msg, "");
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "status", status);
  cJSON_AddNumberToObject(o, "done", done);
  cJSON_AddItemToObject(o, "refused", refused);
  reply(resp, 200, o);
}

/* ---- outbox ------------------------------------------------------------- */

typedef struct outbox_q {
  cJSON *arr;
  const char *state;
  const cJSON *names; /* {nip: name} of the office */
} outbox_q;

static int outbox_row(void *ud, const kj_rstate *st, const char *reason) {
  outbox_q *q = ud;
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", kj_type(st->rec.type)->name);
  cJSON_AddStringToObject(o, "id", st->rec.id);
  cJSON_AddStringToObject(o, "state", q->state);
  const char *d = kj_record_get(&st->rec, "date");
  if (!d)
    d = kj_record_get(&st->rec, "received");
  cJSON_AddStringToObject(o, "date", d ? d : "");
  /* whose record it is: an activity's or target's nip, a rating's ratee */
  const char *nip = kj_record_get(&st->rec, "nip");
  if (!nip)
    nip = kj_record_get(&st->rec, "ratee");
  if (nip) {
    cJSON_AddStringToObject(o, "nip", nip);
    cJSON_AddStringToObject(o, "name", name_of(q->names, nip));
  }
  if (reason) { /* a rule's refusal in the page's language, with its field */
    char said[1024], field[KJ_REFUSAL_ARG_MAX + 1];
    cJSON_AddStringToObject(o, "reason", kj_refusal_reason(reason, said, sizeof said, field));
    if (field[0])
      cJSON_AddStringToObject(o, "field", field);
  }
  cJSON_AddItemToArray(q->arr, o);
  return 0;
}

/* GET /api/outbox?type=: the records waiting to be sent and those the
 * server refused, each newest first (their date, then id), with the name
 * beside the NIP; type (survey, activity, ...) keeps one type. */
static void api_outbox(kjc_ui *ui, const kjh_request *req, kjh_response *resp) {
  kj_err err;
  char type[32] = "";
  kjh_query_get(req->query, "type", type, sizeof type);
  const kj_type_def *only = type[0] ? kj_type_by_name(type) : NULL;
  if (type[0] && (!only || only->type < KJ_T_SURVEY || only->type > KJ_T_TARGET)) {
    reply_err(resp, 400, _("type: survey, activity, complaint, rating or target"), "type");
    return;
  }
  cJSON *names = roster(ui->s, NULL, NULL);
  cJSON *o = cJSON_CreateObject(), *pend = cJSON_CreateArray(), *rej = cJSON_CreateArray();
  for (int t = KJ_T_SURVEY; t <= KJ_T_TARGET; t++) {
    if (only && only->type != (kj_rtype)t)
      continue;
    outbox_q p = {pend, "pending", names}, r = {rej, "rejected", names};
    kjc_store_each(ui->s, (kj_rtype)t, KJC_EACH_PENDING, outbox_row, &p, &err);
    kjc_store_each(ui->s, (kj_rtype)t, KJC_EACH_REJECTED, outbox_row, &r, &err);
  }
  cJSON_Delete(names);
  cJSON_AddItemToObject(o, "pending", sorted(pend, 0));
  cJSON_AddItemToObject(o, "rejected", sorted(rej, 0));
  reply(resp, 200, o);
}

/* Drop the outbox rows of one record and put the server's version back
 * (kjc_store_discard, as `kinerja discard ID`). */
static void api_discard(kjc_ui *ui, const cJSON *body, kjh_response *resp) {
  const char *id = jstr(body, "id");
  kj_err err;
  kj_err_clear(&err);
  kjc_discard d;
  memset(&d, 0, sizeof d);
  kj_code c = kjc_store_discard(ui->s, id ? id : "", &d, &err);
  if (c) {
    reply_err(resp, status_of(c), err.msg, "id");
    return;
  }
  static const char *const what[] = {"nothing", "restored", "removed", "refetch", "orphan"};
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddStringToObject(o, "result", d.what >= 0 && d.what <= 4 ? what[d.what] : "?");
  cJSON_AddNumberToObject(o, "pending", d.pending);
  cJSON_AddNumberToObject(o, "rejected", d.rejected);
  reply(resp, 200, o);
}

/* Adds to the report document d (its "period" names the year YYYY...):
 * "periods", the periods of that year whose scores this PC holds (the year,
 * its quarters YYYY-Qn, its months YYYY-MM: what the server sent, see
 * `kinerja report --period`), for Laporan's period picker; with office set,
 * "months", [{period, ikm, mutu, n, ikk}] of each month held (from the
 * office's figures of that month's document, ikm null when none), for the
 * chart of the months of the year.  Read through kjc_scores_get as
 * `kinerja report` does; a month that cannot be read is left out. */
static void report_periods(kjc_store *s, cJSON *d, int office) {
  const char *p = jstr(d, "period");
  if (!p || strlen(p) < 4)
    return;
  char year[5];
  memcpy(year, p, 4);
  year[4] = 0;
  cJSON *periods = cJSON_AddArrayToObject(d, "periods");
  cJSON *months = office ? cJSON_AddArrayToObject(d, "months") : NULL;
  for (int i = 0; i <= 16; i++) { /* the year, Q1..Q4, 01..12 */
    char per[16];
    if (i == 0)
      snprintf(per, sizeof per, "%s", year);
    else if (i <= 4)
      snprintf(per, sizeof per, "%s-Q%d", year, i);
    else
      snprintf(per, sizeof per, "%s-%02d", year, i - 4);
    char *doc = NULL, *got = NULL;
    kj_err err;
    kj_err_clear(&err);
    if (kjc_scores_get(s, KJC_SCORES_KIND, per, kjc_store_office(s), &doc, &got, &err) || !doc) {
      free(doc);
      free(got);
      continue;
    }
    cJSON_AddItemToArray(periods, cJSON_CreateString(per));
    cJSON *m = months && i > 4 ? cJSON_Parse(doc) : NULL;
    if (m) {
      const cJSON *o = cJSON_GetObjectItemCaseSensitive(m, "office");
      const cJSON *ikm = cJSON_GetObjectItemCaseSensitive(o, "ikm");
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(ikm, "value");
      const cJSON *n = cJSON_GetObjectItemCaseSensitive(ikm, "n");
      const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "ikk");
      const char *mutu = jstr(ikm, "mutu");
      cJSON *row = cJSON_CreateObject();
      cJSON_AddStringToObject(row, "period", per);
      if (cJSON_IsNumber(v))
        cJSON_AddNumberToObject(row, "ikm", v->valuedouble);
      else
        cJSON_AddNullToObject(row, "ikm");
      if (mutu)
        cJSON_AddStringToObject(row, "mutu", mutu);
      cJSON_AddNumberToObject(row, "n", cJSON_IsNumber(n) ? n->valuedouble : 0);
      if (cJSON_IsNumber(k))
        cJSON_AddNumberToObject(row, "ikk", k->valuedouble);
      cJSON_AddItemToArray(months, row);
      cJSON_Delete(m);
    }
    free(doc);
    free(got);
  }
}

/* The scores the server sent for this office (as `kinerja report --json`):
 * ?period=P, else the year last pulled, with "periods" and "months"
 * (report_periods).  An employee gets their own row only (no office
 * figures, no months, no colleague). */
static void api_report(kjc_ui *ui, const kjh_session *ss, const kjh_request *req,
                       kjh_response *resp) {
  kjc_store *s = ui->s;
  char period[32] = "";
  kjh_query_get(req->query, "period", period, sizeof period);
  kj_err err;
  kj_err_clear(&err);
  char *year = NULL, *doc = NULL, *got = NULL;
  kj_code c = KJ_OK;
  if (!period[0])
    c = kjc_meta_get(s, KJC_META_SCORES_PERIOD, &year, &err);
  if (!c)
    c = kjc_scores_get(s, KJC_SCORES_KIND, period[0] ? period : year, kjc_store_office(s), &doc,
                       &got, &err);
  free(year);
  free(got);
  if (c) {
    reply_err(resp, 500, err.msg, "");
    return;
  }
  if (!doc) {
    reply_err(resp, 404, _("no scores yet: they come with the next sync"), "period");
    return;
  }
  kj_report_scores sc;
  c = kj_report_scores_decode(doc, strlen(doc), &sc, &err);
  kj_report_scores_release(&sc);
  cJSON *d = c ? NULL : cJSON_Parse(doc);
  free(doc);
  if (!d) {
    reply_err(resp, 500, _("the stored scores cannot be read: sync again"), "");
    return;
  }
  report_periods(s, d, strcmp(ss->role, "employee") != 0);
  if (strcmp(ss->role, "employee") != 0) {
    /* Laporan's kiosk poster in the same answer: one request per page */
    int status;
    cJSON_AddItemToObject(d, "kiosk", kiosk_qr(ui, &status));
  }
  if (!strcmp(ss->role, "employee")) {
    cJSON_DeleteItemFromObjectCaseSensitive(d, "office");
    cJSON *emps = cJSON_GetObjectItemCaseSensitive(d, "employees");
    for (cJSON *e = emps ? emps->child : NULL, *next; e; e = next) {
      next = e->next;
      const char *nip = jstr(e, "nip");
      if (!nip || strcmp(nip, ss->user) != 0)
        cJSON_Delete(cJSON_DetachItemViaPointer(emps, e));
    }
  }
  reply(resp, 200, d);
}

/* ---- complaints (Pengaduan) -------------------------------------------- */

#define COMPLAINT_DAYS 5 /* SP4N-LAPOR!: resolved within 5 calendar days (domain.md) */

/* GET /api/complaints?state=open|resolved|all&from=&to= (received). */
static void api_complaints_get(kjc_ui *ui, const kjh_request *req, kjh_response *resp) {
  kjc_store *s = ui->s;
  char state[16] = "open", from[11], to[11];
  if (date_range(req, from, to, resp))
    return;
  kjh_query_get(req->query, "state", state, sizeof state);
  char today[11];
  office_day(s, kjc_store_now_ms(s), today);
  kj_day tday = 0;
  kj_date_parse(today, &tday);
  /* the counts are the office's; from/to narrow the list only */
  rec_q q = {.s = s, .type = KJ_T_COMPLAINT};
  cJSON *all = records_q(&q, 0);
  cJSON *out = cJSON_CreateArray();
  int open = 0, overdue = 0;
  for (cJSON *it = all->child, *next; it; it = next) {
    next = it->next;
    const char *rec = jstr(it, "received"), *res = jstr(it, "resolved");
    kj_day dr = 0, ds = 0;
    int have_r = rec && !kj_date_parse(rec, &dr), have_s = res && !kj_date_parse(res, &ds);
    int days = have_r ? (int)((have_s ? ds : tday) - dr) : 0;
    cJSON_AddNumberToObject(it, "days", days);
    cJSON_AddBoolToObject(it, "late", days > COMPLAINT_DAYS);
    if (!res) {
      open++;
      overdue += days > COMPLAINT_DAYS;
    }
    int in_range =
        (!from[0] || (rec && strcmp(rec, from) >= 0)) && (!to[0] || (rec && strcmp(rec, to) <= 0));
    if (in_range && (!strcmp(state, "all") || (!strcmp(state, "open") && !res) ||
                     (!strcmp(state, "resolved") && res)))
      cJSON_AddItemToArray(out, cJSON_DetachItemViaPointer(all, it));
  }
  cJSON_Delete(all);
  out = sorted_by(out, 0, newest_received_first);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "open", open);
  cJSON_AddNumberToObject(o, "overdue", overdue);
  cJSON_AddNumberToObject(o, "limit_days", COMPLAINT_DAYS);
  cJSON_AddItemToObject(o, "complaints", out);
  reply(resp, 200, o);
}

static const char *const k_complaint_fields[] = {"received", "channel", "category", "summary",
                                                 NULL};

/* Resolve complaint id: resolved (a date) and resolution, through
 * kjc_store_write's rules (resolved not before received). */
static void complaint_resolve(kjc_ui *ui, const cJSON *body, kjh_response *resp) {
  const char *id = jstr(body, "id");
  char tmp[64];
  kj_change c;
  kj_change_init(&c, KJ_T_COMPLAINT);
  cpy(c.rec.id, sizeof c.rec.id, id ? id : "");
  const kj_type_def *t = kj_type(KJ_T_COMPLAINT);
  cJSON *errors = cJSON_CreateArray();
  static const char *const names[] = {"resolved", "resolution", NULL};
  for (int i = 0; names[i]; i++) {
    const char *v = jtext(body, names[i], tmp, sizeof tmp);
    int idx = kj_field_index(t, names[i]);
    if (!v) {
      char msg[64];
      snprintf(msg, sizeof msg, _("field '%s': is required"), names[i]);
      problem(errors, msg);
      continue;
    }
    kj_err e;
    kj_err_clear(&e);
    if (kj_field_validate(&t->fields[idx], v, &e))
      problem(errors, e.msg);
    kj_record_set(&c.rec, idx, v);
    c.mask |= 1u << idx;
  }
  if (!cJSON_GetArraySize(errors)) {
    kj_err err;
    kj_err_clear(&err);
    kj_code code = kjc_store_write(ui->s, &c, KJC_CHANGE_EXISTING | KJC_CHANGE_DIFF, NULL, &err);
    if (code == KJ_EINVAL || code == KJ_ENOENT)
      problem(errors, err.msg);
    else if (code) {
      kj_change_release(&c);
      cJSON_Delete(errors);
      reply_err(resp, 500, err.msg, "");
      return;
    }
  }
  kj_change_release(&c);
  cJSON *o = cJSON_CreateObject();
  if (cJSON_GetArraySize(errors)) {
    cJSON_AddStringToObject(o, "error", cJSON_GetArrayItem(errors, 0)->child->next->valuestring);
    cJSON_AddItemToObject(o, "errors", errors);
    reply(resp, 400, o);
    return;
  }
  cJSON_Delete(errors);
  cJSON_AddStringToObject(o, "id", id);
  reply(resp, 200, o);
}

/* ---- dispatch ----------------------------------------------------------- */

static int is(const kjh_request *req, const char *method, const char *path) {
  return !strcmp(req->method, method) && !strcmp(req->path, path);
}

/* A role (operator, supervisor, employee) in words of the page's language. */
static const char *role_word(const char *role) {
  if (!strcmp(role, "operator"))
    return _("the operator");
  if (!strcmp(role, "supervisor"))
    return _("a supervisor");
  if (!strcmp(role, "employee"))
    return _("an employee");
  return role;
}

static int need_role(const kjh_session *ss, const char *role, kjh_response *resp) {
  if (!strcmp(ss->role, role))
    return 1;
  char msg[256];
  snprintf(msg, sizeof msg, _("this page is for %s; you are signed in as %s"), role_word(role),
           role_word(ss->role));
  reply_err(resp, 403, msg, "");
  return 0;
}

static void api(kjc_ui *ui, const kjh_request *req, kjh_response *resp) {
  resp->route = "/api";
  int post = !strcmp(req->method, "POST");
  cJSON *body = NULL;
  if (post) {
    const char *ct = kjh_header(req, "Content-Type");
    if (!ct || strncmp(ct, "application/json", 16) != 0) {
      reply_err(resp, 415, _("send JSON (Content-Type: application/json)"), "");
      return;
    }
    body = cJSON_ParseWithLength(req->body, req->body_len);
    if (!cJSON_IsObject(body)) {
      cJSON_Delete(body);
      reply_err(resp, 400, _("the body is not a JSON object"), "");
      return;
    }
  } else if (strcmp(req->method, "GET") != 0) {
    reply_err(resp, 405, _("GET or POST"), "");
    return;
  }
  if (is(req, "GET", "/api/kiosk")) {
    api_kiosk(ui, resp);
  } else if (is(req, "POST", "/api/kiosk/survey")) {
    api_kiosk_survey(ui, req, body, resp);
  } else if (is(req, "POST", "/api/signin")) {
    api_signin(ui, req, body, resp);
  } else if (is(req, "POST", "/api/signout")) {
    kjh_session_end(ui->sessions, req, resp);
    reply(resp, 200, cJSON_CreateObject());
  } else {
    kjh_session ss;
    if (kjh_session_require(ui->sessions, req, resp, &ss)) {
      /* the session library answers in English for kinerjad's dashboard
       * (its contract); the office app says it in the page's language,
       * the status and the cleared cookie kept */
      kj_buf_reset(&resp->body);
      reply_err(resp, resp->status,
                resp->status == 401
                    ? _("sign in first: your session ended or you have not signed in")
                    : _("missing or wrong CSRF token: reload the page"),
                "");
      cJSON_Delete(body);
      return;
    }
    snprintf(resp->who, sizeof resp->who, "%s", ss.user);
    if (is(req, "GET", "/api/session")) {
      cJSON *o = cJSON_CreateObject();
      session_json(ui, &ss, o);
      reply(resp, 200, o);
    } else if (is(req, "GET", "/api/status")) {
      api_status(ui, &ss, resp);
    } else if (is(req, "POST", "/api/sync")) {
      api_sync(ui, resp);
    } else if (is(req, "GET", "/api/meta")) {
      api_meta(ui, resp);
    } else if (is(req, "GET", "/api/complaints")) {
      if (need_role(&ss, "operator", resp))
        api_complaints_get(ui, req, resp);
    } else if (is(req, "POST", "/api/complaints")) {
      if (need_role(&ss, "operator", resp)) {
        kj_change c;
        kj_change_init(&c, KJ_T_COMPLAINT);
        write_form(ui, &c, body, k_complaint_fields, resp);
        kj_change_release(&c);
      }
    } else if (is(req, "POST", "/api/complaints/resolve")) {
      if (need_role(&ss, "operator", resp))
        complaint_resolve(ui, body, resp);
    } else if (is(req, "GET", "/api/kiosk/qr")) {
      api_kiosk_qr(ui, resp);
    } else if (is(req, "GET", "/api/report")) {
      api_report(ui, &ss, req, resp);
    } else if (is(req, "GET", "/api/outbox")) {
      api_outbox(ui, req, resp);
    } else if (is(req, "POST", "/api/outbox/discard")) {
      if (need_role(&ss, "operator", resp))
        api_discard(ui, body, resp);
    } else if (is(req, "GET", "/api/surveys")) {
      if (need_role(&ss, "operator", resp))
        api_surveys_get(ui, req, resp);
    } else if (is(req, "POST", "/api/surveys")) {
      if (need_role(&ss, "operator", resp))
        survey_write(ui, body, "operator", resp);
    } else if (!strncmp(req->path, "/api/activities", 15) && !strcmp(ss.role, "operator")) {
      reply_err(resp, 403, _("the operator has no activities: sign in with your NIP"), "");
    } else if (is(req, "GET", "/api/activities")) {
      api_activities_get(ui, &ss, req, resp);
    } else if (is(req, "POST", "/api/activities")) {
      activity_add(ui, &ss, body, resp);
    } else if (is(req, "POST", "/api/activities/update")) {
      activity_update(ui, &ss, body, resp);
    } else if (is(req, "POST", "/api/activities/submit")) {
      activity_submit(ui, &ss, body, resp);
    } else if (is(req, "POST", "/api/activities/copy")) {
      activity_copy(ui, &ss, resp);
    } else if (is(req, "GET", "/api/approvals")) {
      if (need_role(&ss, "supervisor", resp))
        api_approvals_get(ui, &ss, req, resp);
    } else if (is(req, "POST", "/api/approvals")) {
      if (need_role(&ss, "supervisor", resp))
        api_approvals_post(ui, &ss, body, resp);
    } else if (!kjc_ui_data_api(ui, &ss, req, body, resp)) {
      reply_err(resp, 404, _("no such API"), "");
    }
  }
  cJSON_Delete(body);
}

static const char *const k_pages[] = {
    "/",        "/beranda",   "/survei",    "/kegiatan", "/persetujuan", "/sinkronisasi",
    "/laporan", "/pengaduan", "/penilaian", "/target",   "/impor",       NULL};

void kjc_ui_handle(void *app, const kjh_request *req, kjh_response *resp) {
  kjc_ui *ui = app;
  if (!strncmp(req->path, "/api/", 5)) {
    kj_lang_set_thread(kjc_ui_request_lang(req)); /* the page's language (ui_lang.h) */
    pthread_mutex_lock(&ui->mu);
    api(ui, req, resp);
    pthread_mutex_unlock(&ui->mu);
    kj_lang_set_thread(-1);
    return;
  }
  for (int i = 0; k_pages[i]; i++) {
    if (!strcmp(req->path, k_pages[i])) {
      kjh_request r = *req;
      r.path = "/index.html";
      resp->route = "/";
      if (kjh_asset_serve(&kjc_ui_assets, &r, resp))
        return;
    }
  }
  if (!strcmp(req->path, "/kiosk")) {
    kjh_request r = *req;
    r.path = "/kiosk.html";
    resp->route = "/kiosk";
    if (kjh_asset_serve(&kjc_ui_assets, &r, resp))
      return;
  }
  /* a browser asks /favicon.ico of a page that names no icon (the pages
   * name /assets/favicon.svg): the same icon, never a 404 in the log */
  if (!strcmp(req->path, "/favicon.ico")) {
    kjh_request r = *req;
    r.path = "/assets/favicon.svg";
    resp->route = "/assets";
    if (kjh_asset_serve(&kjc_ui_assets, &r, resp))
      return;
  }
  resp->route = "/assets";
  if (strcmp(req->path, "/index.html") != 0 && strcmp(req->path, "/kiosk.html") != 0 &&
      kjh_asset_serve(&kjc_ui_assets, req, resp))
    return;
  resp->route = "other";
  resp->status = 404;
  kjh_security_headers(resp);
  kj_buf_addf(&resp->body, "{\"error\":\"no page here\"}\n");
}

/* ---- shared with ui_api_data.c (ui_int.h) ------------------------------- */

kjc_store *kjc_ui_store(kjc_ui *ui) {
  return ui->s;
}

void kjc_ui_reply(kjh_response *resp, int status, cJSON *doc) {
  reply(resp, status, doc);
}

void kjc_ui_reply_err(kjh_response *resp, int status, const char *msg, const char *field) {
  reply_err(resp, status, msg, field);
}

cJSON *kjc_ui_roster(kjc_store *s, const char *supervisor, int *team) {
  return roster(s, supervisor, team);
}

void kjc_ui_write_form(kjc_ui *ui, kj_change *c, const cJSON *body, const char *const *names,
                       kjh_response *resp) {
  write_form(ui, c, body, names, resp);
}
