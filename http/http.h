/* http.h - kj_http, the HTTP server library both programs link
 * (docs/architecture.md "http/"): libuv + http-parser + mbedTLS, limits,
 * the threadpool hand-off, the request log and the network metrics.  It
 * knows nothing of the application; the application plugs in with:
 *
 *   - a handler (kjh_handler_fn) run on a libuv threadpool thread (never on
 *     the loop thread: it may block on SQLite) with a parsed, bounded,
 *     gunzipped kjh_request, filling a kjh_response;
 *   - optionally a check at the end of the headers (kjh_config.auth) and a
 *     test of which requests skip it (kjh_config.is_public);
 *   - limits, the address, TLS certificate and key (or plain HTTP on a
 *     loopback address), the names of its metrics, the "listening" line.
 *
 * The library answers GET|HEAD /healthz itself on the loop
 * ({"status":"ok"}), gzips a response body over 1 KiB when the client
 * accepts it, writes the response and logs one line.  Errors it answers
 * itself (400, 401, 413, ...) are JSON: {"error":"text"}.
 */
#ifndef KJH_HTTP_H
#define KJH_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

typedef struct kjh_request {
  const char *method;        /* "GET", "POST", ... */
  const char *path;          /* "/v1/push", without the query */
  const char *query;         /* "since=0&limit=100" or "" */
  const char *authorization; /* the Authorization header value, NULL when absent */
  const char *body;          /* decoded (gunzipped) body, NUL-terminated; "" when none */
  size_t body_len;
  int accept_gzip;    /* the client sent Accept-Encoding: gzip */
  const char *remote; /* "127.0.0.1:53422" */
  /* every request header as "name\0value\0" pairs, in order (names as
   * sent); NULL when none were kept (a request built by a test).  Read
   * them with kjh_header. */
  const char *headers;
  size_t headers_len;
  int tls; /* the request came over TLS (a cookie may be Secure) */
} kjh_request;

/* Value of name in an URL query or an application/x-www-form-urlencoded
 * body ("a=1&b=x%20y+z"), percent-decoded ('+' is a space) into out (size
 * bytes with the NUL): KJ_OK found, KJ_ENOENT absent (out untouched),
 * KJ_EINVAL too long, badly encoded or holding a NUL (no message: the
 * caller names the parameter).  form must be NUL-terminated. */
kj_code kjh_query_get(const char *form, const char *name, char *out, size_t size);

/* The value of the first header called name (ASCII case-insensitive), or
 * NULL when the request has none.  The pointer lives as long as req. */
const char *kjh_header(const kjh_request *req, const char *name);

typedef struct kjh_response {
  int status;               /* 200 unless set */
  const char *content_type; /* default "application/json" */
  kj_buf body;              /* filled by the handler (limit set by net) */
  char who[64];             /* for the log line: device, token or person id, "-" */
  const char *route;        /* for the metrics: the route pattern, e.g. "/v1/push" */
  int count;                /* items the handler reports (summed for the timed route) */
  /* extra header lines ("Name: value\r\n" each; add them with
   * kjh_response_header); the network layer initialises it with an 8 KiB
   * limit.  A test that builds a response itself may leave it zeroed. */
  kj_buf headers;
  int encoded; /* body is already gzip: sent with Content-Encoding: gzip as it is */
  int vary;    /* send Vary: Accept-Encoding even when the body is not gzipped */
  /* zstd level for the body (0: KJ_ZST_LEVEL, common/zst.h).  A body of
   * many alike short lines (a push answer: 1,000 {"seq":N,"status":
   * "applied"}) compresses as small at level 1 and costs far less: at 12
   * such a 32 KB answer took 10 M instructions, 8 % of a push's server
   * work (docs/performance.md "Push throughput", round 7). */
  int zst_level;
} kjh_response;

/* Append "name: value\r\n" to resp->headers.  KJ_EINVAL when name is not
 * an RFC 9110 token or value holds a control character (CR, LF: no header
 * injection), KJ_ETOOBIG over the headers' limit. */
kj_code kjh_response_header(kjh_response *resp, const char *name, const char *value);

typedef void (*kjh_handler_fn)(void *app, const kjh_request *req, kjh_response *resp);

/* The check at the end of a request's headers (kjh_config.auth).  The
 * network layer calls it for every request but `GET|HEAD /healthz` and
 * those kjh_config.is_public lets through that carries an Authorization
 * header (none at all is refused on the loop: 401, reason "missing"), on
 * a threadpool thread (it may read the database), before a byte of the
 * body is read, gunzipped or answered with 100 Continue.  authorization:
 * the header value.  Returns KJ_OK to go on (res->who: the device or
 * token id), KJ_EAUTH to refuse (401 and the connection closed;
 * res->reason a static word for the metrics, "malformed", "unknown" or
 * "revoked"; res->msg the body's error text, never the token), another
 * code when it cannot tell (503, closed; res->msg says why, for the
 * log). */
typedef struct kjh_auth_result {
  const char *reason;
  char msg[160];
  char who[64];
} kjh_auth_result;
typedef kj_code (*kjh_auth_fn)(void *app, const char *authorization, kjh_auth_result *res);

/* Whether a request skips the check at the headers (pages a browser
 * loads, signed in by a session cookie instead).  Runs on the loop
 * thread: no I/O.  method "GET", path without the query. */
typedef int (*kjh_public_fn)(void *app, const char *method, const char *path);

/* Once the server listens: scheme "https" or "http", host as given
 * (IPv6 in brackets), port the real one (also when 0 was asked).  The
 * default prints "listening on SCHEME://HOST:PORT" and flushes stdout. */
typedef void (*kjh_listen_fn)(void *app, const char *scheme, const char *host, int port);

/* The names of the network metrics (kjh_metrics), in the application's
 * words.  Every name starts with prefix and '_'. */
typedef struct kjh_metric_names {
  const char *prefix;      /* "kinerjad": kinerjad_http_requests_total, ... */
  const char *timed_route; /* a route whose answer times are a histogram, or NULL */
  const char *timed_name;  /* "push_duration_seconds" */
  const char *timed_help;  /* "Time to answer POST /v1/push." */
  const char *count_name;  /* "push_records_applied_total": the sum of resp->count there */
  const char *count_help;  /* "Records applied by pushes." */
} kjh_metric_names;

typedef struct kjh_config {
  char host[256];          /* "127.0.0.1" */
  int port;                /* 0 = any free port */
  const char *cert_file;   /* PEM */
  const char *key_file;    /* PEM */
  int plain_http;          /* plain HTTP, loopback addresses only */
  size_t max_body;         /* default 16 MiB */
  int max_conns;           /* default 4096 */
  kjh_auth_fn auth;        /* NULL: no check at the headers (the handler's job) */
  kjh_public_fn is_public; /* with auth: requests that skip it; NULL: only /healthz */
  int max_anon_conns;      /* with auth: connections not yet past the check; default 1024 */
  /* TLS handshakes in progress at once (default 32; 0: no limit).  A
   * connection takes a slot with its first bytes; without a free one it
   * waits its turn (reading stopped, no timer), so a burst of devices
   * queues instead of sharing the loop between handshakes that all finish
   * after their timeouts (HAProxy's maxsslconn is the same idea). */
  int max_handshakes;
  /* the TLS handshake's time: from accept until the first byte, then from
   * its slot; default 10000 */
  int handshake_timeout_ms;
  /* the request headers' time: the first request's from the end of the
   * handshake (plain HTTP: from accept), a later one's from its first
   * byte; default 10000 */
  int header_timeout_ms;
  int idle_timeout_ms;             /* default 60000 */
  const kjh_metric_names *metrics; /* NULL: prefix "http", no timed route */
  kjh_listen_fn on_listen;         /* NULL: print "listening on ..." */
} kjh_config;

typedef struct kjh_server kjh_server;

void kjh_config_defaults(kjh_config *cfg);

/* Listen, call cfg->on_listen (default: print "listening on
 * https://HOST:PORT" on stdout, flushed) and serve until SIGTERM/SIGINT:
 * then stop accepting, finish requests in flight, and return KJ_OK (both
 * signals are ignored from then on, so the application can close its
 * database).  app is handed to every callback.  Errors (bad cert, port
 * taken, plain HTTP on a non-loopback address) return their kj_code with
 * a message in err. */
kj_code kjh_server_serve(const kjh_config *cfg, kjh_handler_fn handler, void *app, kj_err *err);

/* "127.0.0.1:8443", "0.0.0.0:0", "[::1]:8443" into host (hostsz bytes
 * with the NUL, brackets dropped) and port (0-65535).  KJ_OK, or KJ_EINVAL
 * with a message quoting s. */
kj_code kjh_parse_listen(const char *s, char *host, size_t hostsz, int *port, kj_err *err);

/* Prometheus text of the network counters (requests by route and status,
 * the timed route's histogram, refusals at the headers, open connections)
 * under names (NULL: prefix "http"); the app appends its own.  The
 * counters are per process. */
void kjh_metrics(kj_buf *out, const kjh_metric_names *names);

/* Create an ECDSA P-256 key (key_file, mode 0600) and a self-signed
 * certificate (cert_file) with subject "CN=name,O=kinerja" whose
 * subjectAltNames are localhost, 127.0.0.1 and hosts[0..nhosts).  KJ_OK,
 * or KJ_EINVAL (bad host list or name), KJ_ENOMEM, KJ_ECRYPTO or KJ_EIO (a
 * file cannot be written) with err filled. */
kj_code kjh_tls_make_cert(const char *key_file, const char *cert_file, const char *name,
                          const char *const *hosts, int nhosts, kj_err *err);

#endif
