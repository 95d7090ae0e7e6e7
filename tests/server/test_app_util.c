/* test_app_util.c - see test_app_util.h */
#include "test_app_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hlc.h"
#include "pgtest.h"

static void rm_rf(const char *dir) {
  const char *names[] = {"kinerjad.db",   "kinerjad.db-wal", "kinerjad.db-shm",
                         "kinerjad.conf", "key.pem",         "cert.pem"};
  char p[512];
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    unlink(p);
  }
  rmdir(dir);
}

/* Fixed ids, so that stamps (hlc/device) are the same in every data dir. */
static void add_token(tapp *t, kjs_role role, const char *id, const char *office, char *text,
                      char *idout) {
  unsigned char hash[32];
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_token_new(text, hash, &e), KJ_OK);
  assert_int_equal(kjs_store_token_add(t->store, role, id, office, NULL, hash, &e), KJ_OK);
  if (idout)
    strcpy(idout, id);
}

int tapp_on_pg(void) {
  const char *s = getenv("KJ_TEST_STORE");
  return s && !strcmp(s, "postgresql");
}

tapp *tapp_new(void) {
  tapp *t = calloc(1, sizeof *t);
  assert_non_null(t);
  snprintf(t->dir, sizeof t->dir, "/tmp/kjs-app-XXXXXX");
  assert_non_null(mkdtemp(t->dir));
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_config_init(&t->cfg, t->dir, &e), KJ_OK);
  if (tapp_on_pg()) {
    static int n;
    char name[32];
    snprintf(name, sizeof name, "kjt_app%d", n++);
    PQfinish(kjt_pg_fresh_db(name, t->pg_db, sizeof t->pg_db));
    snprintf(t->cfg.db_file, sizeof t->cfg.db_file, "%s&dbname=%s", kjt_pg_url(), t->pg_db);
  }
  assert_int_equal(kjs_store_open(&t->store, t->cfg.db_file, &t->cfg, 1, &e), KJ_OK);
  kjs_app_init(&t->app, t->store, &t->cfg);
  add_token(t, KJS_ROLE_ADMIN, "tok-admin", NULL, t->admin, NULL);
  add_token(t, KJS_ROLE_VIEWER, "tok-viewer", NULL, t->viewer, NULL);
  add_token(t, KJS_ROLE_DEVICE, "dev-a", OFFICE_A, t->dev_a, t->dev_a_id);
  add_token(t, KJS_ROLE_DEVICE, "dev-a2", OFFICE_A, t->dev_a2, t->dev_a2_id);
  add_token(t, KJS_ROLE_DEVICE, "dev-b", OFFICE_B, t->dev_b, t->dev_b_id);
  return t;
}

void tapp_free(tapp *t) {
  if (!t)
    return;
  kjs_store_close(t->store);
  if (t->pg_db[0])
    kjt_pg_drop_db(t->pg_db);
  kjs_config_release(&t->cfg);
  rm_rf(t->dir);
  free(t);
}

void tresp_release(tresp *r) {
  free(r->body);
  cJSON_Delete(r->json);
  memset(r, 0, sizeof *r);
}

void tcall(tapp *t, tresp *r, const char *method, const char *path, const char *query,
           const char *token, const char *body) {
  memset(r, 0, sizeof *r);
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
  kjs_app_handle(&t->app, &req, &resp);
  r->status = resp.status;
  r->body = kj_buf_detach(&resp.body, NULL);
  if (!r->body)
    r->body = strdup("");
  r->json = cJSON_Parse(r->body);
  snprintf(r->who, sizeof r->who, "%s", resp.who);
  r->route = resp.route;
  r->push_records = resp.count;
  kj_buf_release(&resp.body);
}

char *survey_change(long long seq, const char *id, const char *office, unsigned long long hlc_ms,
                    int u1) {
  char *s = malloc(1024);
  assert_non_null(s);
  snprintf(s, 1024,
           "{\"seq\":%lld,\"id\":\"%s\",\"type\":\"survey\",\"hlc\":\"%llu\",\"f\":{"
           "\"office\":\"%s\",\"date\":\"2026-02-03\",\"service\":\"KTP-el\",\"u1\":\"%d\","
           "\"u2\":\"3\",\"u3\":\"3\",\"u4\":\"4\",\"u5\":\"3\",\"u6\":\"3\",\"u7\":\"2\","
           "\"u8\":\"3\",\"u9\":\"4\"}}",
           seq, id, (unsigned long long)KJ_HLC_MAKE(hlc_ms, 0), office, u1);
  return s;
}

char *push_body(const char *const *changes, int n) {
  size_t len = 64;
  for (int i = 0; i < n; i++)
    len += strlen(changes[i]) + 1;
  char *s = malloc(len);
  assert_non_null(s);
  int o = snprintf(s, len, "{\"device_time\":%llu,\"changes\":[", (unsigned long long)kj_wall_ms());
  for (int i = 0; i < n; i++)
    o += snprintf(s + o, len - (size_t)o, "%s%s", i ? "," : "", changes[i]);
  snprintf(s + o, len - (size_t)o, "]}");
  return s;
}

void tdigest(tapp *t, char out[65]) {
  kj_err e;
  kj_err_clear(&e);
  assert_int_equal(kjs_store_records_digest(t->store, out, NULL, &e), KJ_OK);
}

char *tuid(int n) {
  static char ids[8][40];
  static int k;
  char *s = ids[k++ % 8];
  snprintf(s, 40, "01900000-0000-7000-8000-%012d", n);
  return s;
}

static long long g_seq = 100;
static unsigned long long g_ms = 1767225600000ULL + 1000; /* 2026-01-01T00:00:01Z */

char *tchange(const char *type, const char *id, const char *author, const char *fields) {
  cJSON *o = cJSON_CreateObject();
  char hlc[32];
  snprintf(hlc, sizeof hlc, "%llu", (unsigned long long)KJ_HLC_MAKE(g_ms, 0));
  g_ms += 1000;
  cJSON_AddNumberToObject(o, "seq", (double)g_seq++);
  cJSON_AddStringToObject(o, "id", id);
  cJSON_AddStringToObject(o, "type", type);
  cJSON_AddStringToObject(o, "hlc", hlc);
  if (author[0])
    cJSON_AddStringToObject(o, "author", author);
  if (fields) {
    cJSON *f = cJSON_Parse(fields);
    assert_non_null(f);
    cJSON_AddItemToObject(o, "f", f);
  } else {
    cJSON_AddBoolToObject(o, "del", 1);
  }
  char *text = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return text;
}

const char *tjstr(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *tresult(const tresp *r, int i) {
  return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r->json, "results"), i);
}

void tpush(tapp *t, tresp *r, const char *token, const char *const *changes, int n) {
  char *body = push_body(changes, n);
  tcall(t, r, "POST", "/v1/push", NULL, token, body);
  free(body);
  if (r->status != 200)
    fail_msg("push: %d %s", r->status, r->body);
}

const char *tpush1(tapp *t, const char *token, char *change, char *error, size_t size) {
  static char status[32];
  tresp r;
  tpush(t, &r, token, (const char *const *)&change, 1);
  free(change);
  const cJSON *res = tresult(&r, 0);
  const char *st = tjstr(res, "status");
  if (!st)
    fail_msg("push: no status: %s", r.body);
  snprintf(status, sizeof status, "%s", st);
  if (error) {
    const char *e = tjstr(res, "error");
    snprintf(error, size, "%s", e ? e : "");
  }
  tresp_release(&r);
  return status;
}

void tpush1_applied(tapp *t, const char *token, char *change) {
  char error[1024];
  const char *st = tpush1(t, token, change, error, sizeof error);
  if (strcmp(st, "applied"))
    fail_msg("push: %s: %s", st, error);
}

void temployee(tapp *t, const char *nip, const char *office, const char *sup) {
  char f[256];
  snprintf(f, sizeof f, "{\"name\":\"N\",\"office\":\"%s\"%s%s%s}", office,
           sup ? ",\"supervisor\":\"" : "", sup ? sup : "", sup ? "\"" : "");
  tpush1_applied(t, t->admin, tchange("employee", nip, "", f));
}
