/* kjt_pulled.h - master data as kinerja pulls it from the server, for the
 * client tests that link kj_client (test_cli, test_ui).  Header only: kjt.c
 * also serves tests built without the client library.  Include after
 * <cmocka.h>. */
#ifndef KJT_PULLED_H
#define KJT_PULLED_H

#include <stdio.h>

#include "hlc.h"
#include "store.h"

/* Apply record (type, id) to s as pulled from the server: the n (field,
 * value) pairs of vals (a pair with a NULL value is left out), each
 * stamped KJ_HLC_MAKE(1000, 0) by device "server".  The test fails unless
 * s applies it. */
static inline void kjt_pulled(kjc_store *s, kj_rtype type, const char *id,
                              const char *const (*vals)[2], int n) {
  kj_rstate e;
  kj_err err;
  kj_rstate_init(&e, type);
  snprintf(e.rec.id, sizeof e.rec.id, "%s", id);
  const kj_type_def *et = kj_type(type);
  for (int i = 0; i < n; i++) {
    if (!vals[i][1])
      continue;
    int k = kj_field_index(et, vals[i][0]);
    kj_record_set(&e.rec, k, vals[i][1]);
    e.st[k].hlc = KJ_HLC_MAKE(1000, 0);
    snprintf(e.st[k].device, sizeof e.st[k].device, "server");
  }
  assert_int_equal(kjc_store_apply_remote(s, &e, NULL, &err), KJ_OK);
  kj_rstate_release(&e);
}

#endif
