/* net_int.h - what net.c and tls.c share (not for the application).
 *
 * TLS runs over buffered ciphertext (h2o's shape): net.c appends the bytes
 * libuv delivered to `in`, mbedTLS reads them through tls_recv (WANT_READ
 * when empty) and writes records through tls_send into `out`, which net.c
 * flushes with uv_write.  Upper layers see plaintext only.
 */
#ifndef KJH_NET_INT_H
#define KJH_NET_INT_H

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>
#include <stdatomic.h>

#include "buf.h"
#include "err.h"
#include "http.h"

typedef struct kjh_tls_ctx {
  mbedtls_ssl_config conf;
  mbedtls_x509_crt cert;
  mbedtls_pk_context key;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_ssl_ticket_context ticket; /* session tickets (RFC 5077): resumption */
  mbedtls_ssl_cache_context cache;   /* sessions by id: resumption for the others */
} kjh_tls_ctx;

/* How long a session resumes (seconds), by ticket or by id; the ticket key
 * turns over as often.  A restart of the server forgets them all (random
 * ticket key, the cache in memory). */
#define KJH_TICKET_LIFETIME 86400
/* Sessions the cache holds (the oldest goes first): a few hundred bytes
 * each, one per device that synced within the lifetime. */
#define KJH_SESSION_CACHE 10000

typedef struct kjh_tls_conn {
  mbedtls_ssl_context ssl;
  kj_buf in;     /* ciphertext received, not yet read by mbedTLS */
  size_t in_off; /* consumed prefix of in */
  kj_buf *out;   /* ciphertext to send (owned by the connection) */
  int handshake_done;
} kjh_tls_conn;

/* Handshakes that resumed a session, by id or ticket (the process's count;
 * PREFIX_tls_resumed_total). */
extern atomic_ulong kjh__tls_resumed;

/* Load cert and key (PEM); TLS 1.2 or newer; session tickets on (a
 * client that comes back resumes in one round trip, no certificate). */
kj_code kjh__tls_ctx_init(kjh_tls_ctx *t, const char *cert_file, const char *key_file, kj_err *err);
void kjh__tls_ctx_release(kjh_tls_ctx *t);

kj_code kjh__tls_conn_init(kjh_tls_conn *c, kjh_tls_ctx *t, kj_buf *out);
void kjh__tls_conn_release(kjh_tls_conn *c);
/* Add ciphertext from the socket. */
kj_code kjh__tls_feed(kjh_tls_conn *c, const char *data, size_t len);
/* Drive the handshake, then decrypt what is buffered and append the
 * plaintext to plain.  KJ_OK when it needs more input, *closed = 1 when the
 * peer sent close_notify; KJ_ECRYPTO (TLS error) or KJ_ETOOBIG (over the
 * buffer limit) with err filled. */
kj_code kjh__tls_read(kjh_tls_conn *c, kj_buf *plain, int *closed, kj_err *err);
/* Encrypt plaintext into c->out. */
kj_code kjh__tls_write(kjh_tls_conn *c, const char *data, size_t len, kj_err *err);
/* Queue a close_notify alert into c->out. */
void kjh__tls_close_notify(kjh_tls_conn *c);

/* For fuzz targets and tests: run raw bytes (plain HTTP, no TLS) through
 * the real connection code in-process (a socketpair, a private loop, the
 * handler on the threadpool), then EOF; append what the server answered to
 * out.  Returns KJ_OK when the connection is closed; KJ_EINVAL, KJ_ENOMEM
 * or KJ_EIO with err filled when it cannot start. */
kj_code kjh__net_feed(const kjh_config *cfg, kjh_handler_fn handler, void *app, const void *data,
                      size_t len, kj_buf *out, kj_err *err);

#endif
