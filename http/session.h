/* session.h - sessions of people signed in to a web app (the office app of
 * `kinerja ui`, the BKD dashboard of `kinerjad serve`).
 *
 * Kept in memory only (a mutex guards them): a restart signs everybody
 * out, and they sign in again.  A session id is 256 random bits
 * (kj_random_bytes), sent as 64 hex digits in a cookie that is HttpOnly,
 * SameSite=Strict, Path=/, and Secure when the request came over TLS; the
 * store keeps only the SHA-256 of each id, so neither a memory dump nor
 * the time a lookup takes gives an id away.  A session ends after
 * idle_ms without a request (default 30 minutes), after max_age_ms in all
 * (default 12 hours), or at sign-out.  Each session has a CSRF token (256
 * random bits, hex) that every POST, PUT, PATCH and DELETE must carry, in
 * the header X-CSRF-Token or as the form field `csrf` of an
 * application/x-www-form-urlencoded body (OWASP's synchronizer token).
 *
 * The Cookie header is parsed here with a small parser (RFC 6265 5.4
 * cookie-string: `name=value` pairs split by ';'); no Debian library
 * offers a server-side cookie parser (libcurl's is for its client jar).
 *
 * All functions are safe to call from the handler's threadpool threads.
 */
#ifndef KJH_SESSION_H
#define KJH_SESSION_H

#include <stdint.h>

#include "err.h"
#include "http.h"

#define KJH_SESSION_IDLE_MS (30LL * 60 * 1000)
#define KJH_SESSION_MAX_AGE_MS (12LL * 3600 * 1000)

typedef struct kjh_session_config {
  const char *cookie;      /* cookie name (an RFC 9110 token); NULL: "kj_session" */
  int64_t idle_ms;         /* 0: KJH_SESSION_IDLE_MS */
  int64_t max_age_ms;      /* 0: KJH_SESSION_MAX_AGE_MS */
  int max_sessions;        /* 0: 10000; over it the least recently used goes */
  int64_t (*now_ms)(void); /* a monotonic clock in ms; NULL: CLOCK_MONOTONIC (tests) */
} kjh_session_config;

/* What the application learns of a session (a copy). */
typedef struct kjh_session {
  char user[64]; /* who signed in, as the application named them */
  char role[32]; /* the application's word */
  char csrf[65]; /* the CSRF token, 64 hex digits: put it in pages and forms */
} kjh_session;

typedef struct kjh_sessions kjh_sessions;

/* A new, empty store.  cfg may be NULL (the defaults); it is copied.
 * KJ_OK, KJ_EINVAL (bad cookie name) or KJ_ENOMEM with err filled. */
kj_code kjh_sessions_new(kjh_sessions **out, const kjh_session_config *cfg, kj_err *err);
void kjh_sessions_free(kjh_sessions *s);

/* Sign-in succeeded: end the session the request's cookie names, if any
 * (a new id at every sign-in: no session fixation), make a new one for
 * user and role, and add its Set-Cookie to resp.  out (may be NULL)
 * receives the session.  KJ_OK, KJ_EINVAL (user or role too long),
 * KJ_EIO (no random bytes) or KJ_ENOMEM with err filled. */
kj_code kjh_session_start(kjh_sessions *s, const kjh_request *req, kjh_response *resp,
                          const char *user, const char *role, kjh_session *out, kj_err *err);

/* The session the request's cookie names: KJ_OK with out filled (and its
 * idle clock restarted), KJ_EAUTH when there is no cookie, no such
 * session or it expired (then it is dropped). */
kj_code kjh_session_get(kjh_sessions *s, const kjh_request *req, kjh_session *out);

/* KJ_OK when req may change something in session ss: its method is GET,
 * HEAD or OPTIONS, or it carries ss's CSRF token (header X-CSRF-Token, or
 * form field `csrf`); KJ_EAUTH otherwise.  Compared in constant time. */
kj_code kjh_session_csrf_ok(const kjh_session *ss, const kjh_request *req);

/* kjh_session_get then kjh_session_csrf_ok, answering for the handler: on
 * KJ_EAUTH resp is a 401 ("sign in first", the cookie cleared) or a 403
 * ("missing or wrong CSRF token"), JSON, and the handler returns. */
kj_code kjh_session_require(kjh_sessions *s, const kjh_request *req, kjh_response *resp,
                            kjh_session *out);

/* Sign out: drop the request's session (if any) and clear the cookie in
 * resp (Max-Age=0).  KJ_OK, or the code of kjh_response_header. */
kj_code kjh_session_end(kjh_sessions *s, const kjh_request *req, kjh_response *resp);

/* Sessions held now (expired ones not yet dropped included). */
int kjh_sessions_count(kjh_sessions *s);

#endif
