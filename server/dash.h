/* dash.h - the BKD dashboard and the public IKM page of `kinerjad serve`
 * (issue 18, docs/operations.md "The BKD dashboard"): the pages (`/`,
 * `/publik`, `/assets/...`, compiled in from web/bkd/) and their JSON API
 * under `/api/`, signed in by a session cookie (http/session.h) instead of
 * a bearer token.  The bearer API of app.c (/v1/...) is unchanged. */
#ifndef KJS_DASH_H
#define KJS_DASH_H
#include <stdint.h>

#include "app.h"
#include "err.h"
#include "http.h"

typedef struct kjs_dash kjs_dash;

/* A dashboard for app (its store and config are used, not owned): the
 * session store and the sign-in limits.  public_only: serve nothing but
 * the public IKM page (/publik, its assets and /api/publik; `/` redirects
 * there; every other path, the bearer API included, is 404), for a
 * read-only public listener (`kinerjad serve --public-only`).  The
 * config's publik.exclude must name offices the store knows: KJ_EINVAL
 * naming the key and the code otherwise.  KJ_OK, or KJ_ENOMEM, KJ_EDB
 * with err. */
kj_code kjs_dash_new(kjs_dash **out, kjs_app *app, int public_only, kj_err *err);
void kjs_dash_free(kjs_dash *d);

/* The kjh_public_fn of `serve`: 1 for the dashboard's paths (`/`,
 * `/publik`, `/assets/...`, `/api/...`), which skip the bearer-token check
 * at the headers (the handler asks for a session instead), else 0; 1 for
 * every path when public_only (the handler answers 404). */
int kjs_dash_is_public(void *app, const char *method, const char *path);

/* Answer req when its path is the dashboard's, or any request when
 * public_only (returns 1, resp filled), else return 0 and leave resp
 * alone.  Runs on a threadpool thread. */
int kjs_dash_handle(kjs_dash *d, const kjh_request *req, kjh_response *resp);

/* Sessions held now (for `kinerjad token list`: none across processes, so
 * this is only for the log). */
int kjs_dash_sessions(kjs_dash *d);

/* For tests: the dashboard's clock (today's date in the server's zone:
 * the month in progress of Ringkasan and Tren) read from now_ms(ctx), ms
 * since the epoch, instead of the wall clock; now_ms NULL: the wall clock
 * again.  Set it before requests are served. */
void kjs_dash_set_clock(kjs_dash *d, uint64_t (*now_ms)(void *ctx), void *ctx);

/* How many offices report documents d built since kjs_dash_new (those
 * kept between requests, server/dash.c, are not counted again): for
 * tests and the log. */
long kjs_dash_builds(kjs_dash *d);
#endif
