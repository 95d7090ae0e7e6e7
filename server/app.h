/* app.h - kinerjad's HTTP API v1: routing, auth and the handlers.
 *
 * kjs_app_handle is the kjh_handler_fn given to the network layer; it runs
 * on a threadpool thread and may block on the store.  docs/protocol.md
 * "HTTP API v1" describes every route.
 */
#ifndef KJS_APP_H
#define KJS_APP_H

#include "config.h"
#include "http.h"
#include "store.h"

typedef struct kjs_app {
  kjs_store *store;
  const kjs_config *cfg;
  struct kjs_dash *dash; /* the BKD dashboard (server/dash.h); NULL: its paths are 404 */
} kjs_app;

void kjs_app_init(kjs_app *a, kjs_store *store, const kjs_config *cfg);
void kjs_app_handle(void *app, const kjh_request *req, kjh_response *resp);
/* The kjh_auth_fn of the network layer (http.h): the token of a request,
 * looked up in the store when its headers are complete.  kjs_app_handle
 * still checks it again (a revoke between the headers and the handler). */
kj_code kjs_app_auth(void *app, const char *authorization, kjh_auth_result *res);

/* kjh_query_get (http/query.c) under its old name.
 * Value of name in an URL query ("a=1&b=x%20y"), percent-decoded into out
 * (size bytes with the NUL): KJ_OK found, KJ_ENOENT absent (out untouched),
 * KJ_EINVAL too long or badly encoded (no message: the caller names the
 * parameter). */
kj_code kjs_query_get(const char *query, const char *name, char *out, size_t size);

#endif
