/* ui_api.h - the office app of `kinerja ui` (client/cmd_ui.c): its pages
 * (web/office/, compiled in) and its JSON API under /api/, whose handlers
 * call the same client library functions as the commands (store.c,
 * person.c, review.c, sync.c): docs/architecture.md "The office app". */
#ifndef KJC_UI_API_H
#define KJC_UI_API_H

#include <stdint.h>

#include "err.h"
#include "http.h"
#include "store.h"

/* The meta key holding the Argon2id hash of the office's operator
 * password (`kinerja ui --operator-password-file FILE` sets it). */
#define KJC_META_OPERATOR_HASH "ui_operator_hash"

typedef struct kjc_ui kjc_ui;

/* A new app over store s (opened for writing; the app uses it under its
 * own mutex, so s must not be used by another thread meanwhile).
 * kiosk_pause_ms: the least time between two kiosk submissions from one
 * address (0: none).  KJ_OK or KJ_ENOMEM with err filled. */
kj_code kjc_ui_new(kjc_ui **out, kjc_store *s, int64_t kiosk_pause_ms, kj_err *err);
void kjc_ui_free(kjc_ui *ui);

/* The address of the citizens' form as people reach it (e.g.
 * "https://192.168.1.20:8443/kiosk"; cmd_ui.c once it listens): the QR
 * code of GET /api/kiosk/qr.  url is copied. */
void kjc_ui_set_kiosk_url(kjc_ui *ui, const char *url);

/* The kjh_handler_fn of the app (app: a kjc_ui). */
void kjc_ui_handle(void *app, const kjh_request *req, kjh_response *resp);

#endif
