/* net.h - the client's HTTPS transport (libcurl), used by the sync engine.
 *
 * One kjc_net is one curl easy handle and, for a sync, the one connection
 * it opens with kjc_net_pipe_open (below): every request of the sync goes
 * on that TLS connection (the easy handle's own connection only if the
 * server closed that one).  TLS is always verified (peer and
 * host name); there is no way to turn verification off.  The trust anchors:
 *  - a CA pinned at init (`kinerja init --ca`, its contents stored in the
 *    database): ONLY that certificate or chain; libcurl's CA directory
 *    (built in as /etc/ssl/certs on Debian) is cleared, so no certificate
 *    of the system store is trusted for the server;
 *  - else the system store: libcurl's built-in bundle and directory, each
 *    replaced by $SSL_CERT_FILE / $SSL_CERT_DIR when set (OpenSSL's names).
 *
 * Every handle of the process shares one cache of TLS sessions (a libcurl
 * share): a connection opened again (after a drop, the next sync of
 * --watch) resumes the last session with the server, one round trip and
 * the certificate less (docs/protocol.md "Sync (client side)").
 *
 * Request bodies are sent compressed: zstd with the shared dictionary
 * (common/zst.h) once the server's hello named it (kjc_net_set_zst), else
 * gzip (common/gz.h).  Answers on the pipelining connection are accepted
 * in the dictionary's coding or gzip, those of libcurl's own requests in
 * gzip (curl decodes them).  docs/protocol.md "Compression".
 */
#ifndef KJC_NET_H
#define KJC_NET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "msg.h"

typedef struct kjc_net kjc_net;

typedef struct kjc_net_config {
  const char *server;         /* "https://host:port" (a trailing '/' is fine) */
  const char *token;          /* device token (never logged) */
  const char *ca_file;        /* PEM file of the pinned CA, or NULL */
  const char *ca_pem;         /* its contents (preferred: the copy taken at init), or NULL */
  long connect_timeout_ms;    /* 0 = 10 s */
  long low_speed_time_s;      /* a transfer slower than 1 byte/s for this long fails; 0 = 30 s */
  const volatile int *cancel; /* when *cancel becomes non-zero, a request stops (KJ_EINTR) */
} kjc_net_config;

typedef struct kjc_net_reply {
  long status;     /* HTTP status */
  kj_buf body;     /* the decoded body (bounded) */
  int64_t sent_ms; /* local wall clock when the request started */
  int64_t recv_ms; /* ... and when the answer was complete */
  int queued;      /* pipelined behind an earlier answer: sent_ms is not when the server began */
  int closed;      /* the server closed the connection after this answer */
} kjc_net_reply;

#define KJC_PIPE_MAX 8 /* requests in flight on the pipelining connection */

/* Errors of kjc_net_request:
 *   KJ_ENET  the server is unreachable: cannot resolve, connect, a timeout,
 *            the connection cut mid-request (retry later, nothing lost)
 *   KJ_ECRYPTO  TLS failed: the certificate does not verify (with a pin: the
 *               message says it is not from the pinned CA; a certificate that
 *               names another host than the URL's, which Windows' Schannel
 *               reports for an IP address, has a message of its own with
 *               curl's error code), bad CA file
 *   KJ_EINTR    cancelled through config.cancel
 *   KJ_EPROTO   anything else curl reports
 * An HTTP error status is not an error here: look at reply.status. */
kj_code kjc_net_open(kjc_net **out, const kjc_net_config *cfg, kj_err *err);
void kjc_net_close(kjc_net *n);

/* method "GET" or "POST"; path "/v1/pull?since=0"; body NULL for none.
 * reply is initialised by the call (kjc_net_reply_release it). */
kj_code kjc_net_request(kjc_net *n, const char *method, const char *path, const char *body,
                        size_t body_len, kjc_net_reply *reply, kj_err *err);
void kjc_net_reply_release(kjc_net_reply *r);

/* Pipelining (docs/protocol.md "Pipelined push"): several requests on one
 * connection before the first answer, answered in order.
 * kjc_net_pipe_open opens the connection (verified as for a request;
 * errors as kjc_net_request's); while it is open, kjc_net_request goes
 * through it too when nothing is in flight.  kjc_net_send writes one
 * request (POST bodies compressed; at most KJC_PIPE_MAX in flight) without
 * waiting for its answer; kjc_net_recv waits for the oldest answer
 * (reply initialised by the call, release it).  Any error closes the
 * connection: the requests in flight are then unanswered (KJ_ENET for a
 * cut, KJ_EINTR, KJ_EPROTO for an answer that is not HTTP, KJ_ETOOBIG).
 * An answer with reply.closed set is the last: the connection is closed
 * and what was sent after it is unanswered (kjc_net_pipe_inflight is 0). */
kj_code kjc_net_pipe_open(kjc_net *n, kj_err *err);
int kjc_net_pipe_is_open(const kjc_net *n);
/* ms from the start of the last kjc_net_pipe_open to its TLS connection
 * being up (libcurl's APPCONNECT time: the TCP connect and the TLS
 * handshake, 3 round trips, 2 when the session was resumed); 0 none yet */
long kjc_net_connect_ms(const kjc_net *n);
/* The same less the CPU time this process spent meanwhile (C11 clock():
 * on POSIX the process's CPU time; where clock() counts wall time, as
 * Windows' C runtime does, 0): the time the handshake waited for the
 * link and the server, not for this PC (a slow PC, or valgrind, does not
 * make a long link). */
long kjc_net_connect_wait_ms(const kjc_net *n);
int kjc_net_pipe_inflight(const kjc_net *n);
void kjc_net_pipe_close(kjc_net *n);
kj_code kjc_net_send(kjc_net *n, const char *method, const char *path, const char *body,
                     size_t body_len, kj_err *err);
kj_code kjc_net_recv(kjc_net *n, kjc_net_reply *reply, kj_err *err);

/* Open a TLS connection to the server (verified like a request) and close
 * it: a cheap reachability probe.  KJ_OK when it connected. */
kj_code kjc_net_probe(kjc_net *n, long timeout_ms, kj_err *err);

/* on: request bodies go in the dictionary's coding (common/zst.h), what
 * the server's hello named (kj_hello.zst); off (the default): gzip. */
void kjc_net_set_zst(kjc_net *n, int on);
/* The zstd level of request bodies for the speed of the link (zstd
 * --adapt's idea, in three steps; docs/protocol.md "Compression"):
 * bytes_per_s is the push's measured rate (client/sync.c: bytes of the
 * answered pushes over the time since the first was sent; <= 0 = not
 * known).  Measured on a push of 1,000 surveys (335 KB of JSON): level 1
 * 38.5 KB in 0.8 ms of CPU, 12 35.3 KB in 4.7 ms, 19 32.1 KB in 134 ms.
 *  - below KJC_RATE_SLOW: KJ_ZST_LEVEL_MAX (19): its 3.2 KB fewer take
 *    longer to carry than its 130 ms more to make (the two are equal at
 *    about 24 KB/s);
 *  - from KJC_RATE_FAST on: level 1, a sixth of level 12's CPU (about 40 %
 *    of the client's on a loopback push).  Its 3.2 KB more cost 12 ms of a
 *    256 KB/s link against 4 ms of CPU saved, but a push at that rate is
 *    paced by the server (a loopback push measures about 550 KB/s, the
 *    server's pace), whose time hides both;
 *  - else, and when not known, KJ_ZST_LEVEL (12). */
#define KJC_RATE_SLOW 24000.0  /* B/s */
#define KJC_RATE_FAST 256000.0 /* B/s */
int kjc_net_level_for_rate(double bytes_per_s);
void kjc_net_set_rate(kjc_net *n, double bytes_per_s);
int kjc_net_level(const kjc_net *n); /* the level request bodies go in now */
/* Request bodies at zstd level `level` (clamped to 1..KJ_ZST_LEVEL_MAX)
 * until the next kjc_net_set_rate: a guess made before any rate is known
 * (client/sync.c, a slow start over a connection whose handshake was long). */
void kjc_net_set_level(kjc_net *n, int level);

/* 1 when the server answered 415 to a body in the dictionary's coding (a
 * server rolled back to a release without it): this kjc_net has gone back
 * to gzip, and the caller forgets the coding so the next sync asks hello. */
int kjc_net_zst_refused(const kjc_net *n);
/* 1 when request bodies went gzip but an answer came in the dictionary's
 * coding: the server (upgraded since its hello) holds the dictionary, and
 * the caller keeps the coding for the next sync. */
int kjc_net_zst_learnt(const kjc_net *n);

/* Bytes sent and received on the wire so far (headers and bodies). */
void kjc_net_counters(const kjc_net *n, uint64_t *sent, uint64_t *received);

/* The wall clock of this process in ms since the epoch (kj_wall_ms). */
int64_t kjc_net_now_ms(void);

/* Enrolment by code (`kinerja init --enrol`, docs/protocol.md "Enrolment").
 * server: "https://host:port"; secret and pin from kj_enrol_code_parse.
 *  1. A TLS handshake with verification off, ONLY to read the server's
 *     certificate (no HTTP request is sent): the SHA-256 of its public key
 *     (SubjectPublicKeyInfo) must begin with pin, else KJ_ECRYPTO (another
 *     server, or a proxy reading the traffic) and nothing is sent.
 *  2. POST /v1/enrol with "Authorization: Enrol SECRET" over a connection
 *     verified against that certificate alone (host name included) AND
 *     pinned to the full hash of its key (CURLOPT_PINNEDPUBLICKEY): only
 *     the holder of that key can read the secret.
 *  3. The answer's certificate must carry the same key.
 * office (NULL: none) is the office the PC is set up for (`kinerja init
 * --office`), sent as ?office=: a server that knows it refuses a code of
 * another office without spending it (HTTP 409: KJ_EINVAL here, with
 * only out->office set, to the code's office); an older server ignores it
 * (the caller compares out->office of the answer).
 * On KJ_OK *out holds the device, office, token and certificate PEM
 * (kj_enrol_answer_release).  KJ_EAUTH: the server refused the code (its
 * reason in err); KJ_ENET unreachable; KJ_ECRYPTO as above; KJ_EPROTO. */
kj_code kjc_net_enrol(const char *server, const unsigned char *secret, const unsigned char *pin,
                      const char *office, long timeout_ms, kj_enrol_answer *out, kj_err *err);

#endif
