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
