/* net.c - HTTPS transport of the sync engine (libcurl easy interface). */
#include "net.h"

#include <curl/curl.h>
#include <http_parser.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hlc.h"
#include "i18n.h"
#include "log.h"
#include "plat.h"

#include "date.h"
#include "enrol.h"
#include "gz.h"
#include "text.h"
#include "zst.h"

#define REPLY_MAX ((size_t)256 << 20) /* a pull page is far smaller */

struct kjc_net {
  CURL *curl;
  char *base;   /* server URL without the trailing '/' */
  char *auth;   /* "Authorization: Bearer ..." */
  char *ca_pem; /* owned copy for CURLOPT_CAINFO_BLOB */
  int pinned;   /* a CA was pinned: the only trust anchor */
  const volatile int *cancel;
  char errbuf[CURL_ERROR_SIZE];
  uint64_t sent, received;
  long low_speed_ms;    /* no byte either way for this long: the link is gone */
  int zst;              /* request bodies in the dictionary coding (kjc_net_set_zst) */
  int zst_refused;      /* the server answered 415 to one: it no longer takes it */
  int zst_seen;         /* an answer came in the dictionary coding: the server holds it */
  int level;            /* zstd level of request bodies (kjc_net_set_rate) */
  long connect_ms;      /* TCP + TLS of the last pipelining connection */
  long connect_wait_ms; /* ... less this process's CPU time meanwhile */
  /* the pipelining connection (kjc_net_pipe_open), NULL when none */
  CURL *pc;
  curl_socket_t sock;
  kj_buf in;                     /* received from it, not parsed yet */
  int eof;                       /* the server closed it */
  int inflight;                  /* requests sent on it and not answered yet */
  int64_t sent_at[KJC_PIPE_MAX]; /* their send times, oldest first */
  int queued[KJC_PIPE_MAX];      /* 1: an answer was due when it was sent */
};

int64_t kjc_net_now_ms(void) {
  return (int64_t)kj_wall_ms();
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud) {
  kj_buf *b = ud;
  size_t n = size * nmemb;
  if (kj_buf_add(b, ptr, n) != KJ_OK)
    return 0; /* over the bound: curl fails with CURLE_WRITE_ERROR */
  return n;
}

static int on_progress(void *ud, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln) {
  (void)dlt;
  (void)dln;
  (void)ult;
  (void)uln;
  const kjc_net *n = ud;
  return n->cancel && *n->cancel ? 1 : 0;
}

/* Bytes sent, counted as libcurl hands them to the connection: request
 * headers and body.  (CURLINFO_REQUEST_SIZE also counts a small body that
 * goes out together with the headers, so it cannot be added to
 * CURLINFO_SIZE_UPLOAD_T without counting that body twice.) */
static int on_debug(CURL *c, curl_infotype type, char *data, size_t size, void *ud) {
  (void)c;
  (void)data;
  kjc_net *n = ud;
  if (type == CURLINFO_HEADER_OUT || type == CURLINFO_DATA_OUT)
    n->sent += (uint64_t)size;
  return 0;
}

/* TLS sessions shared by every handle of the process (libcurl keeps them
 * per easy handle otherwise): a connection opened again after a drop, the
 * next sync of --watch or of `kinerja ui` resumes the last session (the
 * server's session ticket): one round trip less and no certificate on the
 * link.  libcurl keys a session by host, port and TLS settings (the pinned
 * CA included), so a session is never offered to another server. */
static CURLSH *g_share;
static pthread_mutex_t g_share_mu = PTHREAD_MUTEX_INITIALIZER;

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *ud) {
  (void)h, (void)d, (void)a, (void)ud;
  pthread_mutex_lock(&g_share_mu);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud) {
  (void)h, (void)d, (void)ud;
  pthread_mutex_unlock(&g_share_mu);
}

static void curl_init_once(void) {
  static int done;
  if (!done) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    g_share = curl_share_init();
    if (g_share) {
      curl_share_setopt(g_share, CURLSHOPT_LOCKFUNC, share_lock);
      curl_share_setopt(g_share, CURLSHOPT_UNLOCKFUNC, share_unlock);
      if (curl_share_setopt(g_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        curl_share_cleanup(g_share); /* no sharing: every handle keeps its own */
        g_share = NULL;
      }
    }
    done = 1;
  }
}

kj_code kjc_net_open(kjc_net **out, const kjc_net_config *cfg, kj_err *err) {
  *out = NULL;
  if (!cfg->server || !*cfg->server)
    return kj_fail(err, KJ_EINVAL, _("no server set: run 'kinerja config set server URL'"));
  if (strncmp(cfg->server, "https://", 8) != 0)
    return kj_fail(err, KJ_EINVAL, _("server '%s' is not an https:// URL"), cfg->server);
  if (!cfg->token || !*cfg->token)
    return kj_fail(err, KJ_EINVAL, _("no token set: run 'kinerja config set token TOKEN'"));
  curl_init_once();
  kjc_net *n = calloc(1, sizeof *n);
  if (!n)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  size_t bl = strlen(cfg->server);
  while (bl > 8 && cfg->server[bl - 1] == '/')
    bl--;
  n->base = kj_strndup(cfg->server, bl);
  size_t al = strlen(cfg->token) + 32;
  n->auth = malloc(al);
  n->curl = curl_easy_init();
  if (!n->base || !n->auth || !n->curl) {
    kjc_net_close(n);
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  }
  snprintf(n->auth, al, "Authorization: Bearer %s", cfg->token);
  n->cancel = cfg->cancel;
  n->level = KJ_ZST_LEVEL;
  n->low_speed_ms = 1000L * (cfg->low_speed_time_s > 0 ? cfg->low_speed_time_s : 30L);
  kj_buf_init(&n->in, REPLY_MAX);
  CURL *c = n->curl;
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, n->errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (g_share)
    curl_easy_setopt(c, CURLOPT_SHARE, g_share);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  if ((cfg->ca_pem && *cfg->ca_pem) || (cfg->ca_file && *cfg->ca_file)) {
    /* A pinned CA is the ONLY trust anchor.  libcurl (7.88, OpenSSL) loads
     * CURLOPT_CAINFO_BLOB *and* CURLOPT_CAPATH, whose built-in default is
     * the system directory /etc/ssl/certs (curl-config --configure:
     * --with-ca-path): so the path is cleared, and CAINFO replaced. */
    curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
    /* Schannel (Windows) checks revocation, which a private CA without a
     * CRL fails: best effort, still refusing a certificate listed revoked
     * (docs/windows-port.md "TLS").  OpenSSL builds ignore the flag. */
    curl_easy_setopt(c, CURLOPT_SSL_OPTIONS, (long)CURLSSLOPT_REVOKE_BEST_EFFORT);
    n->pinned = 1;
    if (cfg->ca_pem && *cfg->ca_pem) {
      n->ca_pem = strdup(cfg->ca_pem);
      if (!n->ca_pem) {
        kjc_net_close(n);
        return kj_fail(err, KJ_ENOMEM, _("out of memory"));
      }
      struct curl_blob blob = {n->ca_pem, strlen(n->ca_pem), CURL_BLOB_NOCOPY};
      curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
      curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    } else {
      curl_easy_setopt(c, CURLOPT_CAINFO, cfg->ca_file);
    }
  } else {
    /* The system store: libcurl's built-in bundle and directory, or what
     * OpenSSL's SSL_CERT_FILE / SSL_CERT_DIR name (each replaces its own
     * default, as in OpenSSL and the curl tool). */
    const char *file = getenv("SSL_CERT_FILE"), *dir = getenv("SSL_CERT_DIR");
    if (file && *file)
      curl_easy_setopt(c, CURLOPT_CAINFO, file);
    if (dir && *dir)
      curl_easy_setopt(c, CURLOPT_CAPATH, dir);
  }
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 10000L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                   cfg->low_speed_time_s > 0 ? cfg->low_speed_time_s : 30L);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "kinerja/" KJ_VERSION);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, n);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L); /* only on_debug sees it */
  *out = n;
  return KJ_OK;
}

void kjc_net_close(kjc_net *n) {
  if (!n)
    return;
  kjc_net_pipe_close(n);
  kj_buf_release(&n->in);
  if (n->curl)
    curl_easy_cleanup(n->curl);
  free(n->base);
  if (n->auth) {
    /* the token: do not leave it lying in freed memory */
    memset(n->auth, 0, strlen(n->auth));
    free(n->auth);
  }
  free(n->ca_pem);
  free(n);
}

void kjc_net_reply_release(kjc_net_reply *r) {
  if (r)
    kj_buf_release(&r->body);
}

void kjc_net_set_zst(kjc_net *n, int on) {
  n->zst = on != 0;
}

int kjc_net_level_for_rate(double bytes_per_s) {
  if (bytes_per_s <= 0)
    return KJ_ZST_LEVEL;
  if (bytes_per_s < KJC_RATE_SLOW)
    return KJ_ZST_LEVEL_MAX;
  if (bytes_per_s >= KJC_RATE_FAST)
    return 1;
  return KJ_ZST_LEVEL;
}

void kjc_net_set_rate(kjc_net *n, double bytes_per_s) {
  n->level = kjc_net_level_for_rate(bytes_per_s);
}

void kjc_net_set_level(kjc_net *n, int level) {
  n->level = level < 1 ? 1 : level > KJ_ZST_LEVEL_MAX ? KJ_ZST_LEVEL_MAX : level;
}

long kjc_net_connect_ms(const kjc_net *n) {
  return n->connect_ms;
}

long kjc_net_connect_wait_ms(const kjc_net *n) {
  return n->connect_wait_ms;
}

int kjc_net_level(const kjc_net *n) {
  return n->level;
}

int kjc_net_zst_refused(const kjc_net *n) {
  return n->zst_refused;
}

int kjc_net_zst_learnt(const kjc_net *n) {
  return n->zst_seen && !n->zst && !n->zst_refused;
}

/* A request body compressed into packed: the dictionary's coding when the
 * server named it, else gzip; its Content-Encoding, or NULL when it goes
 * as it is (empty, or compression failed). */
static const char *pack(const kjc_net *n, const char *body, size_t len, kj_buf *packed) {
  if (!body || len == 0)
    return NULL;
  if (n->zst && kj_zst_compress_level(body, len, n->level, packed, NULL) == KJ_OK)
    return kj_zst_coding();
  kj_buf_reset(packed);
  return kj_gzip(body, len, packed, NULL) == KJ_OK ? "gzip" : NULL;
}

/* An answer of 415 to a body in the dictionary's coding: a server rolled
 * back to a release without it; gzip from now on (the caller forgets the
 * coding, and the next sync asks hello again). */
static void note_refusal(kjc_net *n, long status) {
  if (status == 415 && n->zst) {
    n->zst = 0;
    n->zst_refused = 1;
  }
}

void kjc_net_counters(const kjc_net *n, uint64_t *sent, uint64_t *received) {
  *sent = n->sent;
  *received = n->received;
}

/* curl's text for a certificate that verifies but names another host:
 * OpenSSL "no alternative certificate subject name matches target host
 * name", "certificate subject name ... does not match target host name";
 * Schannel (Windows, Wine) "failed to match connection hostname ...
 * against server certificate names" (it matches DNS names only,
 * docs/windows-port.md "TLS"); mbedTLS "... CN mismatch". */
static int name_mismatch(const char *why) {
  return strstr(why, "target host name") || strstr(why, "match connection hostname") ||
         strstr(why, "hostname mismatch") || strstr(why, "CN mismatch");
}

/* curl's common failures in words of our own, through _() (curl's text is
 * English: it goes to the debug log, its code into the message for
 * support); NULL for the others. */
static const char *curl_words(CURLcode rc) {
  switch (rc) {
  case CURLE_COULDNT_RESOLVE_HOST:
    return _("the server's name could not be resolved (no network, or a wrong name?)");
  case CURLE_COULDNT_RESOLVE_PROXY:
    return _("the proxy's name could not be resolved");
  case CURLE_COULDNT_CONNECT:
    return _("the connection was refused or not answered (is the server running, the address "
             "right?)");
  case CURLE_OPERATION_TIMEDOUT:
    return _("the connection timed out");
  case CURLE_SEND_ERROR:
    return _("sending to the server failed: the connection was cut");
  case CURLE_RECV_ERROR:
    return _("receiving from the server failed: the connection was cut");
  case CURLE_GOT_NOTHING:
    return _("the server closed the connection without an answer");
  case CURLE_PARTIAL_FILE:
  case CURLE_BAD_CONTENT_ENCODING: /* a gzip body cut short */
    return _("the server's answer was cut short");
  case CURLE_SSL_CONNECT_ERROR:
    return _("the secure connection (TLS handshake) failed");
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    return _("the HTTP/2 connection failed");
  case CURLE_PEER_FAILED_VERIFICATION:
    return _("the server's certificate was not accepted");
  case CURLE_SSL_CACERT_BADFILE:
    return _("the CA certificate cannot be read");
  case CURLE_SSL_CERTPROBLEM:
    return _("the client certificate cannot be used");
  case CURLE_SSL_INVALIDCERTSTATUS:
    return _("the server's certificate status is not valid");
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    return _("the server's key is not the pinned one");
  default:
    return NULL;
  }
}

/* A failed transfer as an error: rc curl's code, why its text (errbuf, or
 * "" for curl_easy_strerror's), pinned 1 when the CA was pinned at init.
 * The message is in our words (curl_words) with curl's code; curl's own
 * English text only goes to the debug log (KJ_LOG=debug), or into the
 * message for the codes curl_words does not know. */
static kj_code curl_fail(CURLcode rc, const char *why, int pinned, kj_err *err) {
  if (!why || !why[0])
    why = curl_easy_strerror(rc);
  const char *w = curl_words(rc);
  if (w)
    KJ_DEBUG("curl error %d: %s", (int)rc, why);
  switch (rc) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_SSL_CONNECT_ERROR: /* the handshake cut short */
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_BAD_CONTENT_ENCODING:
    return kj_fail(err, KJ_ENET, _("server unreachable: %s (curl error %d)"), w, (int)rc);
  case CURLE_PEER_FAILED_VERIFICATION:
    if (strstr(why, "not yet valid") || strstr(why, "expired")) {
      /* certificates are checked against this PC's clock */
      char day[KJ_DATE_STRLEN + 1];
      kj_date_format((kj_day)(kj_wall_ms() / 86400000u), day);
      return kj_fail(err, KJ_ECRYPTO, _("TLS: %s (this PC's date is %s: is its clock right?)"),
                     strstr(why, "expired") ? _("the server's certificate has expired")
                                            : _("the server's certificate is not valid yet"),
                     day);
    }
    if (name_mismatch(why))
      return kj_fail(err, KJ_ECRYPTO,
                     _("TLS: %s (curl error %d: the server's certificate does not name this host: "
                       "use a name it lists, on Windows not an IP address; nothing was sent)"),
                     w, (int)rc);
    if (pinned)
      return kj_fail(err, KJ_ECRYPTO,
                     _("TLS: %s (curl error %d: the server's certificate is not from the pinned "
                       "CA, set by 'init --ca' or 'config set ca': another server, or a proxy "
                       "reading the traffic; nothing was sent)"),
                     w, (int)rc);
    return kj_fail(err, KJ_ECRYPTO,
                   _("TLS: %s (curl error %d: this PC does not trust the server's certificate: "
                     "get the server's cert.pem from the BKD and run 'kinerja config set ca "
                     "FILE'; nothing was sent)"),
                   w, (int)rc);
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    return kj_fail(err, KJ_ECRYPTO, _("TLS: %s (curl error %d)"), w, (int)rc);
  case CURLE_ABORTED_BY_CALLBACK:
    return kj_fail(err, KJ_EINTR, _("interrupted"));
  case CURLE_WRITE_ERROR:
    return kj_fail(err, KJ_ETOOBIG, _("the server's answer is too large"));
  default:
    return kj_fail(err, KJ_EPROTO, "%s", why);
  }
}

static kj_code classify(kjc_net *n, CURLcode rc, kj_err *err) {
  return curl_fail(rc, n->errbuf, n->pinned, err);
}

kj_code kjc_net_request(kjc_net *n, const char *method, const char *path, const char *body,
                        size_t body_len, kjc_net_reply *reply, kj_err *err) {
  if (n->pc && n->inflight == 0) { /* the pipelining connection, one at a time */
    kj_code c = kjc_net_send(n, method, path, body, body_len, err);
    if (c) {
      memset(reply, 0, sizeof *reply);
      kj_buf_init(&reply->body, REPLY_MAX);
      return c;
    }
    return kjc_net_recv(n, reply, err);
  }
  memset(reply, 0, sizeof *reply);
  kj_buf_init(&reply->body, REPLY_MAX);
  if (n->cancel && *n->cancel)
    return kj_fail(err, KJ_EINTR, _("interrupted"));
  CURL *c = n->curl;
  size_t ul = strlen(n->base) + strlen(path) + 1;
  char *url = malloc(ul);
  if (!url)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  snprintf(url, ul, "%s%s", n->base, path);
  struct curl_slist *h = curl_slist_append(NULL, n->auth);
  h = curl_slist_append(h, "Accept: application/json");
  const char *send = body;
  size_t send_len = body_len;
  kj_buf packed;
  kj_buf_init(&packed, KJ_BUF_UNLIMITED);
  int post = body != NULL || !strcmp(method, "POST");
  if (post) {
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    const char *coding = pack(n, body, body_len, &packed);
    if (coding) {
      char ce[64];
      snprintf(ce, sizeof ce, "Content-Encoding: %s", coding);
      send = packed.data;
      send_len = packed.len;
      h = curl_slist_append(h, ce);
    }
  }
  n->errbuf[0] = 0;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply->body);
  if (post) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, send ? send : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(send ? send_len : 0));
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  reply->sent_ms = kjc_net_now_ms();
  CURLcode rc = curl_easy_perform(c);
  reply->recv_ms = kjc_net_now_ms();
  curl_off_t down = 0;
  long hdr = 0;
  curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down); /* as sent: still gzipped */
  curl_easy_getinfo(c, CURLINFO_HEADER_SIZE, &hdr);
  n->received += (uint64_t)down + (uint64_t)hdr;
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
  curl_slist_free_all(h);
  free(url);
  kj_buf_release(&packed);
  if (rc != CURLE_OK) {
    kj_buf_release(&reply->body);
    kj_buf_init(&reply->body, REPLY_MAX);
    return classify(n, rc, err);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
  note_refusal(n, reply->status);
  KJ_DEBUG("%s %s -> %ld (%zu bytes, %lld ms)", method, path, reply->status, reply->body.len,
           (long long)(reply->recv_ms - reply->sent_ms));
  return KJ_OK;
}

kj_code kjc_net_probe(kjc_net *n, long timeout_ms, kj_err *err) {
  CURL *c = curl_easy_duphandle(n->curl);
  if (!c)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  char eb[CURL_ERROR_SIZE];
  eb[0] = 0;
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, eb);
  if (n->ca_pem) { /* the duplicate keeps CAPATH cleared; the blob is set again */
    struct curl_blob blob = {n->ca_pem, strlen(n->ca_pem), CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
  }
  curl_easy_setopt(c, CURLOPT_URL, n->base);
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
  if (g_share)
    curl_easy_setopt(c, CURLOPT_SHARE, g_share); /* a duplicate leaves the share out */
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
  CURLcode rc = curl_easy_perform(c);
  curl_easy_cleanup(c);
  if (rc == CURLE_OK)
    return KJ_OK;
  return curl_fail(rc, eb, 0, err);
}

/* ---- pipelined requests on one connection ---------------------------------- */

/* libcurl does not pipeline HTTP/1.1 requests, so the pipelined push
 * writes them itself on a connection libcurl opened and verified
 * (CURLOPT_CONNECT_ONLY: TCP, TLS, the pinned CA, a proxy), with
 * curl_easy_send/recv, and reads the answers with http-parser, in order. */

void kjc_net_pipe_close(kjc_net *n) {
  if (n->pc)
    curl_easy_cleanup(n->pc);
  n->pc = NULL;
  n->inflight = 0;
  n->eof = 0;
  kj_buf_reset(&n->in);
}

int kjc_net_pipe_is_open(const kjc_net *n) {
  return n->pc != NULL;
}

int kjc_net_pipe_inflight(const kjc_net *n) {
  return n->inflight;
}

kj_code kjc_net_pipe_open(kjc_net *n, kj_err *err) {
  if (n->pc)
    return KJ_OK;
  CURL *c = curl_easy_duphandle(n->curl);
  if (!c)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  n->errbuf[0] = 0;
  if (n->ca_pem) { /* the duplicate keeps CAPATH cleared; the blob is set again */
    struct curl_blob blob = {n->ca_pem, strlen(n->ca_pem), CURL_BLOB_NOCOPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
  }
  curl_easy_setopt(c, CURLOPT_URL, n->base);
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
  if (g_share) /* resume the session of the last connection (one dropped) */
    curl_easy_setopt(c, CURLOPT_SHARE, g_share);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 0L); /* bytes are counted here */
  int64_t cpu0 = kj_cpu_ms();
  CURLcode rc = curl_easy_perform(c);
  int64_t cpu1 = kj_cpu_ms();
  curl_socket_t sock = CURL_SOCKET_BAD;
  if (rc == CURLE_OK)
    rc = curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &sock);
  if (rc != CURLE_OK || sock == CURL_SOCKET_BAD) {
    curl_easy_cleanup(c);
    return classify(n, rc != CURLE_OK ? rc : CURLE_COULDNT_CONNECT, err);
  }
  curl_off_t app = 0;
  if (curl_easy_getinfo(c, CURLINFO_APPCONNECT_TIME_T, &app) == CURLE_OK && app > 0)
    n->connect_ms = (long)(app / 1000);
  long cpu = cpu0 >= 0 && cpu1 >= 0 ? (long)(cpu1 - cpu0) : n->connect_ms;
  n->connect_wait_ms = n->connect_ms > cpu ? n->connect_ms - cpu : 0;
  KJ_DEBUG("connected in %ld ms, %ld ms of them this process's CPU", n->connect_ms, cpu);
  n->pc = c;
  n->sock = sock;
  n->inflight = 0;
  n->eof = 0;
  kj_buf_reset(&n->in);
  return KJ_OK;
}

/* The connection failed: it is closed, the error names the cause. */
static kj_code pipe_fail(kjc_net *n, CURLcode rc, const char *what, kj_err *err) {
  kj_code c = rc == CURLE_OK ? kj_fail(err, KJ_ENET, _("server unreachable: %s"), what)
                             : classify(n, rc, err);
  kjc_net_pipe_close(n);
  return c;
}

/* Wait until the socket can be read (or written, want_write) or 200 ms
 * passed; KJ_EINTR when cancelled, KJ_ENET when nothing moved for the
 * low-speed time since *moved (ms). */
static kj_code pipe_wait(kjc_net *n, int want_write, int64_t moved, kj_err *err) {
  if (n->cancel && *n->cancel) {
    kjc_net_pipe_close(n);
    return kj_fail(err, KJ_EINTR, _("interrupted"));
  }
  if (kjc_net_now_ms() - moved > n->low_speed_ms) {
    char why[160];
    snprintf(why, sizeof why, _("no byte moved for %ld s"), n->low_speed_ms / 1000);
    return pipe_fail(n, CURLE_OK, why, err);
  }
  fd_set rd, wr;
  FD_ZERO(&rd);
  FD_ZERO(&wr);
  FD_SET(n->sock, &rd);
  if (want_write)
    FD_SET(n->sock, &wr);
  struct timeval tv = {0, 200000};
  select((int)n->sock + 1, &rd, &wr, NULL, &tv);
  return KJ_OK;
}

/* Read what the connection holds now into n->in (*got bytes; 0 and n->eof
 * when the server closed it). */
static kj_code pipe_read(kjc_net *n, size_t *got, kj_err *err) {
  *got = 0;
  char buf[16384];
  for (;;) {
    size_t k = 0;
    CURLcode rc = curl_easy_recv(n->pc, buf, sizeof buf, &k);
    if (rc == CURLE_AGAIN)
      return KJ_OK;
    if (rc != CURLE_OK)
      return pipe_fail(n, rc, _("the connection was cut"), err);
    if (k == 0) {
      n->eof = 1;
      return KJ_OK;
    }
    if (kj_buf_add(&n->in, buf, k) != KJ_OK) {
      kjc_net_pipe_close(n);
      return kj_fail(err, KJ_ETOOBIG, _("the server's answer is too large"));
    }
    n->received += (uint64_t)k;
    *got += k;
  }
}

static kj_code pipe_write(kjc_net *n, const char *p, size_t len, kj_err *err) {
  int64_t moved = kjc_net_now_ms();
  while (len > 0) {
    size_t k = 0;
    CURLcode rc = curl_easy_send(n->pc, p, len, &k);
    if (rc == CURLE_AGAIN || (rc == CURLE_OK && k == 0)) {
      /* the server reads on after answering: take its answers meanwhile */
      size_t got = 0;
      kj_code c = pipe_read(n, &got, err);
      if (!c && n->eof)
        return pipe_fail(n, CURLE_OK, _("the server closed the connection"), err);
      if (!c)
        c = pipe_wait(n, 1, got ? (moved = kjc_net_now_ms()) : moved, err);
      if (c)
        return c;
      continue;
    }
    if (rc != CURLE_OK)
      return pipe_fail(n, rc, _("the connection was cut"), err);
    p += k;
    len -= k;
    n->sent += (uint64_t)k;
    moved = kjc_net_now_ms();
  }
  return KJ_OK;
}

kj_code kjc_net_send(kjc_net *n, const char *method, const char *path, const char *body,
                     size_t body_len, kj_err *err) {
  if (!n->pc)
    return kj_fail(err, KJ_EINVAL, "no pipelining connection is open");
  if (n->inflight >= KJC_PIPE_MAX)
    return kj_fail(err, KJ_EINVAL, "more than %d requests in flight", KJC_PIPE_MAX);
  if (n->cancel && *n->cancel)
    return kj_fail(err, KJ_EINTR, _("interrupted"));
  /* "https://host:port/prefix": Host is host:port, the path goes after the prefix */
  const char *host = n->base + 8, *slash = strchr(host, '/');
  size_t hl = slash ? (size_t)(slash - host) : strlen(host);
  kj_buf req, packed;
  kj_buf_init(&req, KJ_BUF_UNLIMITED);
  kj_buf_init(&packed, KJ_BUF_UNLIMITED);
  int post = body != NULL || !strcmp(method, "POST");
  const char *send = body ? body : "";
  size_t send_len = body ? body_len : 0;
  const char *coding = post ? pack(n, body, body_len, &packed) : NULL;
  if (coding) {
    send = packed.data;
    send_len = packed.len;
  }
  /* answers: the dictionary's coding from a server that holds it, gzip
   * from any other (an older server ignores the token it does not know) */
  kj_buf_addf(&req,
              "%s %s%s HTTP/1.1\r\nHost: %.*s\r\n%s\r\nUser-Agent: kinerja/" KJ_VERSION
              "\r\nAccept: application/json\r\nAccept-Encoding: %s, gzip\r\n",
              method, slash ? slash : "", path, (int)hl, host, n->auth, kj_zst_coding());
  if (post)
    kj_buf_addf(&req, "Content-Type: application/json\r\n%s%s%sContent-Length: %zu\r\n",
                coding ? "Content-Encoding: " : "", coding ? coding : "", coding ? "\r\n" : "",
                send_len);
  kj_buf_adds(&req, "\r\n");
  if (post)
    kj_buf_add(&req, send, send_len);
  kj_code c = req.data ? KJ_OK : kj_fail(err, KJ_ENOMEM, _("out of memory"));
  if (!c) {
    n->sent_at[n->inflight] = kjc_net_now_ms();
    n->queued[n->inflight] = n->inflight > 0;
    c = pipe_write(n, req.data, req.len, err);
  }
  if (req.data) /* the token: do not leave it lying in freed memory */
    memset(req.data, 0, req.len);
  kj_buf_release(&req);
  kj_buf_release(&packed);
  if (!c)
    n->inflight++;
  else
    KJ_DEBUG("%s %s (pipelined) -> %s", method, path, err ? err->msg : "failed");
  return c;
}

/* One answer being parsed (http-parser callbacks). */
typedef struct answer {
  kj_buf raw;         /* the body as sent */
  kj_buf name, value; /* the header being read */
  int in_value;
  int gzip, zst; /* its Content-Encoding */
  int done;
} answer;

/* s[0..len) begins with lower, ignoring ASCII case */
static int starts_nocase(const char *s, size_t len, const char *lower) {
  size_t i = 0;
  for (; lower[i]; i++)
    if (i >= len || (s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]) != lower[i])
      return 0;
  return 1;
}

static void answer_header(answer *a) {
  if (a->name.len == 16 && starts_nocase(a->name.data, a->name.len, "content-encoding")) {
    a->gzip = starts_nocase(a->value.data, a->value.len, "gzip");
    a->zst = kj_zst_is_coding(kj_buf_str(&a->value));
  }
  kj_buf_reset(&a->name);
  kj_buf_reset(&a->value);
  a->in_value = 0;
}

static int on_a_field(http_parser *p, const char *at, size_t len) {
  answer *a = p->data;
  if (a->in_value)
    answer_header(a);
  return kj_buf_add(&a->name, at, len) == KJ_OK ? 0 : -1;
}

static int on_a_value(http_parser *p, const char *at, size_t len) {
  answer *a = p->data;
  a->in_value = 1;
  return kj_buf_add(&a->value, at, len) == KJ_OK ? 0 : -1;
}

static int on_a_headers(http_parser *p) {
  answer *a = p->data;
  if (a->in_value)
    answer_header(a);
  return 0;
}

static int on_a_body(http_parser *p, const char *at, size_t len) {
  answer *a = p->data;
  return kj_buf_add(&a->raw, at, len) == KJ_OK ? 0 : -1;
}

static int on_a_complete(http_parser *p) {
  answer *a = p->data;
  a->done = 1;
  http_parser_pause(p, 1); /* the next answer's bytes stay in n->in */
  return 0;
}

static const http_parser_settings answer_settings = {
    .on_header_field = on_a_field,
    .on_header_value = on_a_value,
    .on_headers_complete = on_a_headers,
    .on_body = on_a_body,
    .on_message_complete = on_a_complete,
};

kj_code kjc_net_recv(kjc_net *n, kjc_net_reply *reply, kj_err *err) {
  memset(reply, 0, sizeof *reply);
  kj_buf_init(&reply->body, REPLY_MAX);
  if (!n->pc || n->inflight == 0)
    return kj_fail(err, KJ_EINVAL, "no pipelined request waits for an answer");
  reply->sent_ms = n->sent_at[0];
  reply->queued = n->queued[0];
  answer a;
  memset(&a, 0, sizeof a);
  kj_buf_init(&a.raw, REPLY_MAX);
  kj_buf_init(&a.name, 256);
  kj_buf_init(&a.value, (size_t)64 << 10); /* a proxy may add long ones */
  http_parser p;
  http_parser_init(&p, HTTP_RESPONSE);
  p.data = &a;
  kj_code c = KJ_OK;
  int64_t moved = kjc_net_now_ms();
  while (!c && !a.done) {
    if (n->in.len > 0) {
      size_t k = http_parser_execute(&p, &answer_settings, n->in.data, n->in.len);
      enum http_errno e = HTTP_PARSER_ERRNO(&p);
      if (e != HPE_OK && e != HPE_PAUSED) {
        c = kj_fail(err, KJ_EPROTO, _("the server's answer is not HTTP: %s"),
                    http_errno_description(e));
        kjc_net_pipe_close(n);
        break;
      }
      kj_buf_consume(&n->in, k);
      if (a.done)
        break;
    }
    if (n->eof) {
      c = pipe_fail(n, CURLE_OK, _("the server closed the connection before its answer"), err);
      break;
    }
    size_t got = 0;
    c = pipe_read(n, &got, err);
    if (!c && got == 0 && !n->eof)
      c = pipe_wait(n, 0, moved, err);
    else if (got)
      moved = kjc_net_now_ms();
  }
  if (!c) {
    reply->recv_ms = kjc_net_now_ms();
    reply->status = (long)p.status_code;
    reply->closed = !http_should_keep_alive(&p);
    note_refusal(n, reply->status);
    n->zst_seen |= a.zst;
    if (a.zst)
      c = kj_zst_decompress(a.raw.data ? a.raw.data : "", a.raw.len, &reply->body, err);
    else if (a.gzip)
      c = kj_gunzip(a.raw.data ? a.raw.data : "", a.raw.len, &reply->body, err);
    else if (a.raw.len && kj_buf_add(&reply->body, a.raw.data, a.raw.len) != KJ_OK)
      c = kj_fail(err, KJ_ETOOBIG, _("the server's answer is too large"));
    n->inflight--;
    memmove(n->sent_at, n->sent_at + 1, (size_t)n->inflight * sizeof n->sent_at[0]);
    memmove(n->queued, n->queued + 1, (size_t)n->inflight * sizeof n->queued[0]);
    if (c && c != KJ_ETOOBIG)
      c = KJ_EPROTO;
    if (reply->closed) /* what was sent after it is not answered */
      kjc_net_pipe_close(n);
    KJ_DEBUG("pipelined answer -> %ld (%zu bytes, %lld ms)", reply->status, reply->body.len,
             (long long)(reply->recv_ms - reply->sent_ms));
  }
  kj_buf_release(&a.raw);
  kj_buf_release(&a.name);
  kj_buf_release(&a.value);
  return c;
}

/* ---- enrolment by code ----------------------------------------------------- */

/* The server's leaf certificate as PEM (malloc'd into *pem), read from a TLS
 * handshake with verification OFF: nothing is sent but the handshake, and
 * nothing read here is trusted until its key matches the code's pin. */
static kj_code fetch_leaf(const char *base, long timeout_ms, char **pem, kj_err *err) {
  *pem = NULL;
  CURL *c = curl_easy_init();
  if (!c)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  char eb[CURL_ERROR_SIZE];
  eb[0] = 0;
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, eb);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_URL, base);
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L); /* read, compared, never trusted */
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  CURLcode rc = curl_easy_perform(c);
  kj_code out = KJ_OK;
  struct curl_certinfo *ci = NULL;
  if (rc != CURLE_OK)
    out = curl_fail(rc, eb, 0, err);
  else if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
    out = kj_fail(err, KJ_ECRYPTO, _("the server sent no certificate"));
  else {
    for (struct curl_slist *l = ci->certinfo[0]; l && !*pem; l = l->next)
      if (!strncmp(l->data, "Cert:", 5) && !(*pem = strdup(l->data + 5)))
        out = kj_fail(err, KJ_ENOMEM, _("out of memory"));
    if (!out && !*pem)
      out = kj_fail(err, KJ_ECRYPTO, _("the server's certificate cannot be read"));
  }
  curl_easy_cleanup(c);
  return out;
}

kj_code kjc_net_enrol(const char *server, const unsigned char *secret, const unsigned char *pin,
                      const char *office, long timeout_ms, kj_enrol_answer *out, kj_err *err) {
  memset(out, 0, sizeof *out);
  if (!server || strncmp(server, "https://", 8) != 0)
    return kj_fail(err, KJ_EINVAL, _("server '%s' is not an https:// URL"), server ? server : "");
  curl_init_once();
  if (timeout_ms <= 0)
    timeout_ms = 30000;
  size_t bl = strlen(server);
  while (bl > 8 && server[bl - 1] == '/')
    bl--;
  char *base = kj_strndup(server, bl), *leaf = NULL;
  if (!base)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  unsigned char spki[32], got[32];
  kj_err e;
  kj_err_clear(&e);
  kj_code rc = fetch_leaf(base, timeout_ms, &leaf, err);
  if (!rc && (!leaf || kj_cert_spki_sha256(leaf, strlen(leaf), spki, &e)))
    rc = kj_fail(err, KJ_ECRYPTO, _("the server's certificate: %s"), e.msg);
  if (!rc && memcmp(spki, pin, KJ_ENROL_PIN_LEN) != 0)
    rc = kj_fail(err, KJ_ECRYPTO,
                 _("the server at %s is not the one that made this enrolment code: its "
                   "certificate's key does not match the code (another server, the wrong "
                   "address, or a proxy reading the traffic); nothing was sent"),
                 base);
  CURL *c = NULL;
  struct curl_slist *h = NULL;
  kj_buf body, reply;
  kj_buf_init(&body, 4096);
  kj_buf_init(&reply, 1 << 20);
  if (rc || !leaf)
    goto out;
  /* 2. the secret, only to the holder of that key */
  char pinned[64], url[4200], auth[64], hex[KJ_ENROL_HEX_SIZE], ebuf[CURL_ERROR_SIZE] = "";
  kj_pin_format(spki, pinned, sizeof pinned);
  kj_enrol_secret_hex(secret, hex);
  snprintf(auth, sizeof auth, "Authorization: Enrol %s", hex);
  memset(hex, 0, sizeof hex);
  /* an office code is digits and dots (validated by the caller): no escaping */
  snprintf(url, sizeof url, "%s/v1/enrol%s%s", base, office ? "?office=" : "",
           office ? office : "");
  if ((rc = kj_enrol_request_encode(&body, KJ_PROTOCOL_MAX, err)))
    goto out;
  c = curl_easy_init();
  h = curl_slist_append(NULL, auth);
  h = h ? curl_slist_append(h, "Content-Type: application/json") : NULL;
  h = h ? curl_slist_append(h, "Expect:") : NULL;
  memset(auth, 0, sizeof auth);
  if (!c || !h) {
    rc = kj_fail(err, KJ_ENOMEM, _("out of memory"));
    goto out;
  }
  struct curl_blob blob = {leaf, strlen(leaf), CURL_BLOB_NOCOPY};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  curl_easy_setopt(c, CURLOPT_CAPATH, NULL); /* that certificate alone (see kjc_net_open) */
  curl_easy_setopt(c, CURLOPT_CAINFO, NULL);
  curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
  curl_easy_setopt(c, CURLOPT_SSL_OPTIONS, (long)CURLSSLOPT_REVOKE_BEST_EFFORT); /* as above */
  curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, pinned);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "kinerja/" KJ_VERSION);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  CURLcode cr = curl_easy_perform(c);
  long status = 0;
  if (cr != CURLE_OK) {
    rc = curl_fail(cr, ebuf, 1, err);
    goto out;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    char msg[512];
    if (kj_error_decode(reply.data, reply.len, msg, sizeof msg))
      snprintf(msg, sizeof msg, "HTTP %ld", status);
    rc = kj_fail(err, status == 401 || status == 429 ? KJ_EAUTH : KJ_EPROTO,
                 _("the server refused the enrolment: %s"), msg);
    if (status == 409 && office) { /* the code is another office's: whose */
      cJSON *o = cJSON_ParseWithLength(reply.data ? reply.data : "", reply.len);
      const cJSON *of = cJSON_GetObjectItemCaseSensitive(o, "office");
      if (cJSON_IsString(of) && strlen(of->valuestring) < sizeof out->office) {
        snprintf(out->office, sizeof out->office, "%s", of->valuestring);
        rc = KJ_EINVAL;
        if (err)
          err->code = KJ_EINVAL;
      }
      cJSON_Delete(o);
    }
    goto out;
  }
  if ((rc = kj_enrol_answer_decode(reply.data, reply.len, out, err)))
    goto out;
  /* 3. the certificate to pin from now on carries the key checked above */
  if (kj_cert_spki_sha256(out->cert, strlen(out->cert), got, &e) || memcmp(got, spki, 32) != 0) {
    kj_enrol_answer_release(out);
    rc = kj_fail(err, KJ_ECRYPTO, _("the server answered a certificate of another key"));
  }
out:
  if (c)
    curl_easy_cleanup(c);
  curl_slist_free_all(h);
  kj_buf_release(&body);
  kj_buf_release(&reply);
  free(leaf);
  free(base);
  return rc;
}
