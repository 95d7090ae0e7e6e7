/* http.h - the seam between the network layer (net.c, tls.c: libuv +
 * mbedTLS + http-parser) and the application (app.c: routes, auth, store).
 *
 * The network layer parses and bounds a request, gunzips its body, then
 * calls the handler on a libuv threadpool thread (never on the loop
 * thread): the handler may block on SQLite.  It answers /healthz itself on
 * the loop.  After the handler returns, the network layer gzips the body
 * when the client accepts it, writes the response and logs one line.
 */
#ifndef KJS_HTTP_H
#define KJS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef struct kjs_request {
  const char *method;        /* "GET", "POST", ... */
  const char *path;          /* "/v1/push", without the query */
  const char *query;         /* "since=0&limit=100" or "" */
  const char *authorization; /* the Authorization header value, NULL when absent */
  const char *body;          /* decoded (gunzipped) body, NUL-terminated; "" when none */
  size_t body_len;
  int accept_gzip;    /* the client sent Accept-Encoding: gzip */
  const char *remote; /* "127.0.0.1:53422" */
} kjs_request;

typedef struct kjs_response {
  int status;               /* 200 unless set */
  const char *content_type; /* default "application/json" */
  kj_buf body;              /* filled by the handler (limit set by net) */
  char who[64];             /* for the log line: device or token id, "-" */
  const char *route;        /* for /metrics: the route pattern, e.g. "/v1/push" */
  int push_records;         /* records applied by a push (metrics) */
} kjs_response;

typedef void (*kjs_handler_fn)(void *app, const kjs_request *req, kjs_response *resp);

/* The token check at the end of a request's headers (kjs_net_config.auth;
 * issue 15 point 2).  The network layer calls it for every request but
 * `GET|HEAD /healthz` that carries an Authorization header (none at all is
 * refused on the loop: 401, reason "missing"), on a threadpool thread (it
 * may read the database), before a byte of the body is read, gunzipped or
 * answered with 100 Continue.  authorization: the header value.
 * Returns KJ_OK to go on (res->who: the device or token id), KJ_EAUTH to
 * refuse (401 and the connection closed; res->reason a static word for the
 * metrics, "malformed", "unknown" or "revoked"; res->msg the body's error
 * text, never the token), another code when it cannot tell (503, closed;
 * res->msg says why, for the log). */
typedef struct kjs_auth_result {
  const char *reason;
  char msg[160];
  char who[64];
} kjs_auth_result;
typedef kj_code (*kjs_auth_fn)(void *app, const char *authorization, kjs_auth_result *res);

typedef struct kjs_net_config {
  char host[256];        /* "127.0.0.1" */
  int port;              /* 0 = any free port */
  const char *cert_file; /* PEM */
  const char *key_file;  /* PEM */
  int plain_http;        /* tests only, loopback only */
  size_t max_body;       /* default 16 MiB */
  int max_conns;         /* default 4096 */
  kjs_auth_fn auth;      /* NULL: no check at the headers (the handler's job) */
  int max_anon_conns;    /* with auth: connections not yet past the check; default 1024 */
  int header_timeout_ms; /* default 10000 */
  int idle_timeout_ms;   /* default 60000 */
} kjs_net_config;

typedef struct kjs_server kjs_server;

void kjs_net_config_defaults(kjs_net_config *cfg);

/* Listen, print "listening on https://HOST:PORT" on stdout (flushed) and
 * serve until SIGTERM/SIGINT: then stop accepting, finish requests in
 * flight, and return KJ_OK.  Errors (bad cert, port taken) return their
 * kj_code with a message in err. */
kj_code kjs_net_serve(const kjs_net_config *cfg, kjs_handler_fn handler, void *app, kj_err *err);

/* Prometheus text of the network counters (requests by route and status,
 * push latency histogram, open connections); the app appends its own. */
void kjs_net_metrics(kj_buf *out);

/* Create an ECDSA P-256 key (key_file, mode 0600) and a self-signed
 * certificate (cert_file) whose subjectAltNames are localhost, 127.0.0.1
 * and hosts[0..nhosts).  KJ_OK, or KJ_EINVAL (bad host list), KJ_ENOMEM,
 * KJ_ECRYPTO or KJ_EIO (a file cannot be written) with err filled. */
kj_code kjs_tls_make_cert(const char *key_file, const char *cert_file, const char *const *hosts,
                          int nhosts, kj_err *err);

#endif
