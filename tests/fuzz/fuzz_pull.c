/* fuzz_pull.c - a pull page applied on the client: each state decoded
 * (kj_rstate_from_json) and merged into the local database
 * (kjc_store_apply_remote) of a temp kinerja store, one transaction per
 * page, as the sync engine does. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "merge.h"
#include "store.h"
#include "wire.h"

static kjc_store *g_store;
static char g_dir[64];

static void cleanup(void) {
  char p[128];
  kjc_store_close(g_store);
  snprintf(p, sizeof p, "%s/kinerja.db", g_dir);
  unlink(p);
  snprintf(p, sizeof p, "%s/kinerja.db-wal", g_dir);
  unlink(p);
  snprintf(p, sizeof p, "%s/kinerja.db-shm", g_dir);
  unlink(p);
  rmdir(g_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  kj_err e;
  kj_err_clear(&e);
  if (!g_store) {
    kj_log_set_level(KJ_LOG_OFF);
    snprintf(g_dir, sizeof g_dir, "/tmp/kj-fuzz-pull-XXXXXX");
    if (!mkdtemp(g_dir))
      abort();
    char p[128];
    snprintf(p, sizeof p, "%s/kinerja.db", g_dir);
    if (kjc_store_create(p, "36.73.01", &e) != KJ_OK)
      abort();
    if (kjc_store_open(&g_store, p, KJC_OPEN_WRITE, &e) != KJ_OK)
      abort();
    atexit(cleanup);
  }
  if (size > 1 << 18)
    return 0;
  cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
  if (!doc)
    return 0;
  const cJSON *changes =
      cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "changes") : doc;
  if (cJSON_IsArray(changes) && kjc_store_begin(g_store, &e) == KJ_OK) {
    const cJSON *it;
    cJSON_ArrayForEach(it, changes) {
      kj_rstate s;
      if (kj_rstate_from_json(it, &s, &e) != KJ_OK)
        continue;
      /* merge is idempotent: a state merged into itself changes nothing */
      kj_rstate cp;
      kj_rstate_init(&cp, KJ_T_NONE);
      int merged;
      if (kj_merge_join(&cp, &s, NULL, NULL, &merged, &e) == KJ_OK &&
          (kj_merge_join(&cp, &s, NULL, NULL, &merged, &e) != KJ_OK || merged))
        abort();
      kj_rstate_release(&cp);
      int changed = 0;
      (void)kjc_store_apply_remote(g_store, &s, &changed, &e);
      kj_rstate_release(&s);
    }
    if (kjc_store_commit(g_store, &e) != KJ_OK)
      kjc_store_rollback(g_store);
  }
  cJSON_Delete(doc);
  return 0;
}
