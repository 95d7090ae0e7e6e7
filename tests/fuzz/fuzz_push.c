/* fuzz_push.c - a push body: decoded and validated by the proto layer
 * (kj_change_from_json, kj_merge_apply, kj_record_validate), then sent to
 * the real app's POST /v1/push on a temp store as a device of office A. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "merge.h"
#include "server/test_app_util.h"
#include "wire.h"

static tapp *g_app;

static void cleanup(void) {
  tapp_free(g_app);
}

static void proto_level(const cJSON *doc) {
  const cJSON *changes =
      cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "changes") : doc;
  const cJSON *it;
  if (!cJSON_IsArray(changes))
    return;
  cJSON_ArrayForEach(it, changes) {
    kj_change c;
    kj_err e;
    kj_err_clear(&e);
    if (kj_change_from_json(it, &c, &e) != KJ_OK)
      continue;
    snprintf(c.device, sizeof c.device, "dev-fuzz");
    kj_rstate s;
    kj_rstate_init(&s, KJ_T_NONE);
    int changed;
    if (kj_merge_apply(&s, &c, NULL, NULL, &changed, &e) == KJ_OK) {
      (void)kj_record_validate(&s.rec, &e);
      /* a second, identical merge changes nothing */
      if (kj_merge_apply(&s, &c, NULL, NULL, &changed, &e) != KJ_OK || changed)
        abort();
    }
    kj_rstate_release(&s);
    kj_change_release(&c);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_app) {
    kj_log_set_level(KJ_LOG_OFF);
    g_app = tapp_new();
    atexit(cleanup);
  }
  if (size > 1 << 18)
    return 0;
  cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
  if (doc)
    proto_level(doc);
  cJSON_Delete(doc);
  char *body = malloc(size + 1);
  memcpy(body, data, size);
  body[size] = '\0';
  tresp r;
  tcall(g_app, &r, "POST", "/v1/push", "", g_app->dev_a, body);
  if (r.status != 200 && r.status != 400 && r.status != 409 && r.status != 413 && r.status != 422)
    abort();
  tresp_release(&r);
  free(body);
  return 0;
}
