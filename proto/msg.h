/* msg.h - every message of HTTP API v1, encoded and decoded here only.
 *
 * The client (client/sync.c) and the server (server/app.c, server/store.c)
 * call these; neither builds nor parses a protocol message by hand.  The
 * JSON of each message, its limits and what each side does with a version
 * it does not know are in docs/protocol.md ("HTTP API v1", "Versions").
 *
 * Messages and who writes them:
 *   hello       server  GET /v1/hello                      kj_hello_*
 *   push        client  POST /v1/push body                 kj_push_encode / kj_push_decode
 *   results     server  POST /v1/push answer               kj_push_results_* / kj_push_answer_*
 *   probe       client  POST /v1/push/status body          kj_push_probe_*
 *               (answered with results, kj_push_results_*)
 *   pull page   server  GET /v1/pull answer                kj_pull_* / kj_pull_page_*
 * Record changes and states inside them are wire.h's; the scores inside a
 * pull page are report documents (report.h).
 */
#ifndef KJ_MSG_H
#define KJ_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "rules.h"
#include "wire.h"

/* The largest integer a JSON number carries exactly (2^53 - 1). */
#define KJ_JSON_INT_MAX 9007199254740991.0

/* ---- every route -------------------------------------------------------- */

/* An error answer, {"error":"message"} and a newline, appended to out. */
kj_code kj_error_encode(kj_buf *out, const char *msg);
/* The message of an error answer into msg (at most size-1 bytes): KJ_OK
 * when the text is one, KJ_EPROTO (msg empty, no message) when not. */
kj_code kj_error_decode(const char *text, size_t len, char *msg, size_t size);
/* GET /healthz: {"status":"ok"} and a newline. */
kj_code kj_health_encode(kj_buf *out);

/* ---- GET /v1/hello ------------------------------------------------------ */

typedef struct kj_hello {
  char server[32];                       /* "kinerjad" */
  char version[32];                      /* the server's release, "0.2.0" */
  int protocol;                          /* the version used with this caller */
  int protocol_min, protocol_max;        /* what the server speaks */
  int64_t server_time;                   /* ms since the epoch, -1 when absent */
  char role[16];                         /* "device", "admin", "viewer" */
  char office[KJ_ID_MAX + 1];            /* "" = null */
  char device[KJ_DEVICE_MAX + 1];        /* "" = null */
  int64_t max_batch, max_body, max_pull; /* 0 = not said */
  /* Pushes a device may send on one connection before the first answer
   * (HTTP/1.1 pipelining, answered in order; docs/protocol.md "Pipelined
   * push"): limits.max_pipeline, 0 = not said (an older server: one at a
   * time, stop-and-wait). */
  int64_t max_pipeline;
  /* hello's "encodings" (docs/protocol.md "Compression"): the content
   * codings the server takes in request bodies and gives in answers, best
   * first; zst is 1 when it names this program's dictionary coding
   * (kj_zst_coding, common/zst.h), 0 when not or absent (an older server:
   * gzip). */
  int zst;
  /* What the server knows, in this program's terms: bit t of types_known
   * for type t, bit i of fields_known[t] for its field i.  From "types"
   * when the server lists them, else from protocol_max and the `since` of
   * every type and field (a release of protocol 1 lists none). */
  uint32_t types_known;
  uint32_t fields_known[KJ_T__COUNT];
} kj_hello;

/* Server: the hello of this program (server, version, protocol range,
 * every type with its field names, the content codings it speaks) for a caller that speaks `peer`
 * (the `protocol` query parameter, 1 when absent), its role, office, device and limits from h
 * (types and protocol fields of h are ignored), as one JSON object appended to out.  KJ_ENOMEM /
 * KJ_ETOOBIG from the buffer. */
kj_code kj_hello_encode(const kj_hello *h, int peer, kj_buf *out, kj_err *err);

/* Client: the server's hello.  KJ_EPROTO (naming the key) when the text is
 * not an object or a key has the wrong type; unknown keys are ignored. */
kj_code kj_hello_decode(const char *text, size_t len, kj_hello *h, kj_err *err);

/* The protocol version a change needs from the server: the highest `since`
 * of its type, of each field it sets and of each enum value it writes. */
int kj_change_needs(const kj_change *c);

/* ---- POST /v1/push ------------------------------------------------------ */

/* Client: {"device_time":T,"protocol":P,"changes":[change, ...]} for
 * changes ch[0..n-1] for a server of protocol `peer` (their "device" is left
 * out: the server knows it; "author" only from protocol 2 on, since a
 * server of protocol 1 refuses keys it does not know inside a change),
 * appended to out. */
kj_code kj_push_encode(kj_buf *out, int64_t device_time, const kj_change *ch, int n, int peer,
                       kj_err *err);
/* The same with the client's incarnation (docs/protocol.md "Restores"):
 * "incarnation":"ID" is added when incarnation is neither NULL nor "" (a
 * server of protocol 2 before it ignores the key). */
kj_code kj_push_encode_inc(kj_buf *out, int64_t device_time, const char *incarnation,
                           const kj_change *ch, int n, int peer, kj_err *err);

/* Client: the same body written from the outbox's stored changes, without
 * decoding them (client/store.c kjc_outbox_batch_wire): open, one
 * kj_push_wire_change per change, close.  For a server of protocol 2 or
 * later only (a stored change keeps its "author").
 * kj_push_wire_open appends {"device_time":T,"protocol":P[,"incarnation":I],
 * "changes":[ exactly as kj_push_encode_inc begins.  KJ_ENOMEM. */
kj_code kj_push_wire_open(kj_buf *out, int64_t device_time, const char *incarnation, kj_err *err);
/* One change: stored[0..len) is what the outbox keeps of it, the change's
 * JSON object less seq, id, type, hlc and device ({"author":A,"f":{...}}
 * or {"del":true}, as kj_change_to_json and cJSON_PrintUnformatted give
 * it); appended as {"seq":S,"id":ID,"type":T,"hlc":"H",...rest of stored},
 * after a ',' unless first: the text kj_push_encode_inc writes for the
 * decoded change.  KJ_EPROTO (out unchanged) when stored is not one JSON
 * object of strings, literals and numbers (a damaged row: it must not
 * break the body of the whole batch), KJ_ENOMEM. */
kj_code kj_push_wire_change(kj_buf *out, int first, int64_t seq, const char *id, const char *type,
                            kj_hlc hlc, const char *stored, size_t len, kj_err *err);
/* Appends the "]}" that ends the body.  KJ_ENOMEM. */
kj_code kj_push_wire_close(kj_buf *out, kj_err *err);

/* An incarnation id is 1 to KJ_INCARNATION_MAX characters of [0-9a-z];
 * "" is the first incarnation of every device. */
#define KJ_INCARNATION_MAX 32
/* 1 when s is a valid incarnation id ("" included). */
int kj_incarnation_valid(const char *s);

/* The digest of a change as its device sent it (before the server sets its
 * device or corrects its stamp): SHA-256 of its JSON (kj_change_to_json,
 * "device" left out), the first 16 bytes into out.  Two sends of the same
 * outbox row give the same digest; another change under the same seq does
 * not.  KJ_ENOMEM. */
#define KJ_CHANGE_DIGEST_LEN 16
kj_code kj_change_digest(const kj_change *c, unsigned char out[KJ_CHANGE_DIGEST_LEN], kj_err *err);
/* A SHA-256 function: the digest of len bytes at data into out (32 bytes). */
typedef void (*kj_sha256_fn)(const void *data, size_t len, unsigned char out[32]);
/* kj_change_digest with the SHA-256 of sha (kinerjad's libcrypto one,
 * server/hash.h) and its text kept: the text is appended to text and a
 * NUL byte after it (text->len counts it); *body is the offset in
 * text->data where c's kj_change_body_json text begins, NUL-terminated at
 * the end: the digest text ends with the body, whose ',' is made a '{'
 * once hashed, so a server writes that text once for the digest and the
 * history.  KJ_ENOMEM (text as it was). */
kj_code kj_change_digest_text(const kj_change *c, kj_sha256_fn sha, kj_buf *text, size_t *body,
                              unsigned char out[KJ_CHANGE_DIGEST_LEN], kj_err *err);
/* The same digest taken the slow way (kj_change_to_json, then cJSON's
 * text): the definition kj_change_digest must keep, for the tests that
 * hold the fast writer to it.  KJ_ENOMEM. */
kj_code kj_change_digest_tree(const kj_change *c, unsigned char out[KJ_CHANGE_DIGEST_LEN],
                              kj_err *err);

/* What change c writes, as the server's history keeps it: {"del":true}
 * for a delete, else {"f":{NAME:VALUE or null, ...}} with the fields of
 * c->mask in the type's order (kj_change_to_json less seq, id, type, hlc,
 * device and author), appended to out.  KJ_EINVAL for an unknown type,
 * KJ_ENOMEM; err names the record. */
kj_code kj_change_body_json(const kj_change *c, kj_buf *out, kj_err *err);

/* State s as the JSON object kj_rstate_to_json gives (all fields, unknown
 * ones kept, the common stamp once as "s": protocol 3's form, proto/wire.h;
 * the server's stored form, read back by kj_rstate_from_json), written
 * straight into out without a cJSON tree: the same text cJSON prints.
 * KJ_EINVAL for an unknown type, KJ_ENOMEM; err names the record. */
kj_code kj_rstate_json(const kj_rstate *s, kj_buf *out, kj_err *err);

/* One change of a push as the server read it. */
typedef struct kj_push_entry {
  int ok;                          /* 1: ch holds the decoded change (release it) */
  int64_t seq;                     /* the change's seq, -1 when it could not be read */
  kj_change ch;                    /* when ok */
  char error[KJ_ERR_MSG_MAX + 64]; /* when !ok: "changes[3] (id X): msg" */
} kj_push_entry;

typedef struct kj_push_req {
  int has_device_time;
  int64_t device_time;                      /* ms since the epoch */
  int protocol;                             /* the client's protocol, 1 when absent */
  char incarnation[KJ_INCARNATION_MAX + 1]; /* "" when absent */
  int n;
  kj_push_entry *e; /* n entries, owned */
  /* with kj_json_arena_install: the arena of the parsed body, which holds
   * the changes' values (lent, kj_change_from_json_lent): freed by
   * kj_push_req_release, so a change taken out of e lives until then */
  void *arena;
} kj_push_req;

/* Server: decode a push body of len bytes.  A body that is not one JSON
 * object, holds a NUL (raw or \u0000), lacks "changes", or has a bad
 * "device_time" is KJ_EPROTO (answer 400) with the message of
 * docs/protocol.md; more than max_batch changes is KJ_ETOOBIG (413).  A
 * change that cannot be read does not fail the request: its entry has
 * ok = 0 and the error (the server answers it `rejected`); one that cannot
 * be read for want of memory is KJ_ENOMEM for the whole request (503).  req is
 * released on error.  With kj_json_arena_install, the values of the
 * changes are lent from the request (kj_push_req.arena): a change moved out
 * of req must be released before req is. */
kj_code kj_push_decode(const char *body, size_t len, int max_batch, kj_push_req *req, kj_err *err);
/* Install cJSON hooks (cJSON_InitHooks, once per process, before threads
 * use cJSON: kinerjad at start) with which kj_push_decode parses a body
 * into an arena of its own thread, freed whole at its end: about 12,000
 * fewer instructions per change.  Elsewhere the hooks are malloc and free
 * (cJSON then prints without realloc).  Without it, plain cJSON. */
void kj_json_arena_install(void);
void kj_push_req_release(kj_push_req *req);

/* KJ_PUSH_REUSED ("reused"): the server holds another change under this
 * device, incarnation and seq: the client's database was restored, copied
 * or reinstalled (docs/protocol.md "Restores"); the change was not taken. */
/* KJ_PUSH_MISSING ("missing"): the change edits or deletes a record the
 * server does not hold (a restore of the server lost it, its creation comes
 * again from the PC that holds it): nothing stored, send it again later. */
typedef enum {
  KJ_PUSH_APPLIED,
  KJ_PUSH_DUPLICATE,
  KJ_PUSH_REJECTED,
  KJ_PUSH_REUSED,
  KJ_PUSH_MISSING
} kj_push_status;

const char *kj_push_status_name(kj_push_status s); /* "applied", ... */

typedef struct kj_push_result {
  int64_t seq; /* -1: the change's seq could not be read (JSON null) */
  kj_push_status status;
  char *error; /* REJECTED: the reason; owned by the answer when decoded */
  /* REJECTED for now, not for good ("retry": true; docs/protocol.md
   * "Clocks"): the server took nothing of the change and stored no result;
   * the client keeps it in its outbox (stamped again) and sends it again.
   * A client of protocol 1 ignores the key and keeps it as rejected. */
  int retry;
  /* REJECTED by a rule of proto/rules.c (server, may be NULL): the answer
   * also carries its "code", "field" and "args" (docs/protocol.md "Push"),
   * which kinerja says in its own language (kj_refusal_reason) */
  const kj_refusal *why;
} kj_push_result;

/* Server: {"results":[{"seq":S,"status":"applied"},...],"server_time":T,
 * "protocol":P}, P the newest protocol this server speaks; a REJECTED
 * result carries "error" and, when r.retry, "retry": true, when r.why,
 * "code", "field" and "args" (strings). */
kj_code kj_push_results_encode(kj_buf *out, const kj_push_result *r, int n, int64_t server_time,
                               kj_err *err);
/* The same with "device_high":H, the highest seq the server holds for the
 * pushing device's incarnation (left out when device_high < 0). */
kj_code kj_push_results_encode_high(kj_buf *out, const kj_push_result *r, int n,
                                    int64_t server_time, int64_t device_high, kj_err *err);

typedef struct kj_push_answer {
  int n;
  kj_push_result *r;   /* owned, with their errors */
  int64_t server_time; /* -1 when absent */
  int protocol;        /* the server's newest protocol; 1 when absent (a release of 1) */
  int64_t device_high; /* -1 when absent (a server before restores) */
} kj_push_answer;

/* Client: the server's answer to a push.  A result with an unknown status
 * (a newer server) is kept as REJECTED with that status as its reason; a
 * REJECTED one with a rule's "code" (and "args": at most
 * KJ_REFUSAL_NARGS strings) has as its error, the reason kinerja keeps,
 * {"code","field","args","text": the server's "error"} as JSON text, said
 * by kj_refusal_reason (proto/rules.h) in the reader's language.
 * KJ_EPROTO when "results" is missing or not an array. */
kj_code kj_push_answer_decode(const char *text, size_t len, kj_push_answer *a, kj_err *err);
void kj_push_answer_release(kj_push_answer *a);

/* ---- POST /v1/push/status ---------------------------------------------- */

/* After a cut, the batches a client had sent without their answers
 * (docs/protocol.md "Batches cut in flight"): for each, its seqs and one
 * digest of its changes; the server answers (kj_push_results_encode) with
 * the stored results of every batch it applied whole with the same
 * changes, and nothing for the others (sent again as pushes).
 *
 * {"incarnation":"ID","batches":[{"seqs":[[A,B],[C,C]],"digest":"HEX64"}]}
 * seqs: inclusive runs, ascending; digest: kj_push_probe_digest. */
#define KJ_PROBE_MAX_BATCHES 16

typedef struct kj_probe_batch {
  int64_t *seq; /* n seqs, ascending, owned */
  int n;
  unsigned char digest[32];
} kj_probe_batch;

typedef struct kj_push_probe {
  char incarnation[KJ_INCARNATION_MAX + 1]; /* "" when absent */
  kj_probe_batch b[KJ_PROBE_MAX_BATCHES];
  int nb;
} kj_push_probe;

/* The SHA-256 of the kj_change_digest of ch[0..n), concatenated in that
 * order, into out: what a probe batch and the server's stored digests of
 * the same seqs must both give.  KJ_ENOMEM. */
kj_code kj_push_probe_digest(const kj_change *ch, int n, unsigned char out[32], kj_err *err);
/* Client: the body for p (its batches' seqs ascending); KJ_ENOMEM. */
kj_code kj_push_probe_encode(kj_buf *out, const kj_push_probe *p, kj_err *err);
/* Server: the body into p (release with kj_push_probe_release); at most
 * KJ_PROBE_MAX_BATCHES batches and max_seqs seqs in all; KJ_EPROTO naming
 * the bad field, KJ_ETOOBIG over the bounds, KJ_ENOMEM. */
kj_code kj_push_probe_decode(const char *text, size_t len, long max_seqs, kj_push_probe *p,
                             kj_err *err);
void kj_push_probe_release(kj_push_probe *p);

/* ---- GET /v1/pull ------------------------------------------------------- */

/* Server, streaming a page into out: begin, then one add per stored state
 * (the server's stored JSON of kj_rstate_to_json), then end.
 *
 * kj_pull_add_stored appends state for a client of protocol `peer`: as
 * stored when peer >= KJ_PROTOCOL_MAX, else re-encoded without what the
 * peer does not know (kj_rstate_to_json_for); a type the peer does not
 * know is left out (*added = 0) and the cursor moves past it all the same.
 * KJ_EPROTO when the stored text is not a state, KJ_ETOOBIG from out. */
kj_code kj_pull_begin(kj_buf *out);
kj_code kj_pull_add_stored(kj_buf *out, const char *state, int peer, int *added, kj_err *err);
/* scores: the JSON array of score entries (report.h), or NULL to send
 * `null` (the client holds these scores, tag unchanged); scores_tag NULL
 * leaves the tag out. */
kj_code kj_pull_end(kj_buf *out, const char *next, int more, int64_t server_time,
                    const char *scores, const char *scores_tag);
/* A moved notice (docs/protocol.md "Moved records"): record `id` of type
 * `type` (a type name) left the caller's office; the client drops its copy
 * without making a change.  Called after kj_pull_end, first = 1 for the
 * first notice of the page (it opens the top-level "moved":
 * [{"type":T,"id":I}, ...] array, which a client of protocol 1 ignores),
 * 0 for the next ones.  KJ_ETOOBIG from out, KJ_ENOMEM, KJ_EINVAL when out
 * does not end as a page finished that way. */
kj_code kj_pull_add_moved(kj_buf *out, int first, const char *type, const char *id);
/* What a page tells about restores (docs/protocol.md "Restores"): the
 * server's epoch (NULL or "" leaves it out) and the highest seq the server
 * holds for the device's incarnation (< 0 leaves it out). */
typedef struct kj_pull_restore {
  const char *epoch;
  int64_t device_high;
} kj_pull_restore;
/* kj_pull_end with the keys of x (x NULL: as kj_pull_end). */
kj_code kj_pull_end_restore(kj_buf *out, const char *next, int more, int64_t server_time,
                            const char *scores, const char *scores_tag, const kj_pull_restore *x);

/* Client: a pull page. */
typedef struct kj_pull_page {
  cJSON *doc;           /* owned: the whole page */
  const cJSON *changes; /* array of states, read with kj_pull_page_state */
  char next[64];        /* opaque cursor */
  int more;
  int64_t server_time; /* -1 when absent */
  const cJSON *scores; /* array of score entries; NULL when absent or null */
  int has_tag;
  char scores_tag[80];
  const cJSON *moved; /* array of notices, read with kj_pull_page_moved; NULL when none */
  char epoch[KJ_INCARNATION_MAX + 1]; /* the server's epoch, "" when absent */
  int64_t device_high;                /* -1 when absent */
} kj_pull_page;

kj_code kj_pull_page_decode(const char *text, size_t len, kj_pull_page *p, kj_err *err);
void kj_pull_page_release(kj_pull_page *p);

/* One state of a page (an element of p->changes) into s (uninitialised).
 * KJ_EVERSION: a type this program does not know (skip it, the cursor
 * moves on); KJ_EPROTO: a malformed state.  s is released on error. */
kj_code kj_pull_page_state(const cJSON *el, kj_rstate *s, kj_err *err);

/* One entry of p->scores: *text gets its JSON (malloc'd, caller frees; what
 * the client stores for `kinerja report`) once reportdoc.h's decoder took
 * it, and period (at most size-1 bytes) its period.  KJ_EPROTO naming the
 * key when the entry is not a score entry. */
kj_code kj_pull_page_score(const cJSON *el, char *period, size_t size, char **text, kj_err *err);

/* One moved notice of a page (an element of p->moved): its type and id.
 * KJ_EVERSION: a type this program does not know (nothing to drop);
 * KJ_EPROTO (naming the key) when malformed. */
kj_code kj_pull_page_moved(const cJSON *el, kj_rtype *type, char id[KJ_ID_MAX + 1], kj_err *err);

/* ---- POST /v1/enrol (docs/protocol.md "Enrolment") ----------------------- */

/* What the server answers a PC that proved it holds an enrolment code. */
typedef struct kj_enrol_answer {
  char device[KJ_DEVICE_MAX + 1]; /* "dev-1a2b3c4d" */
  char office[KJ_ID_MAX + 1];     /* the device's office */
  char token[257];                /* its bearer token (64 hex digits from kinerjad) */
  char *cert;                     /* PEM of the server's certificate to pin (owned) */
} kj_enrol_answer;

/* Client: the request body, {"protocol":P} (the protocol the PC speaks). */
kj_code kj_enrol_request_encode(kj_buf *out, int protocol, kj_err *err);
/* Server: the request body into *protocol (1 when absent or the body is
 * empty).  KJ_EPROTO naming the key when it is not such an object. */
kj_code kj_enrol_request_decode(const char *text, size_t len, int *protocol, kj_err *err);
/* Server: {"device":..,"office":..,"token":..,"cert":PEM} and a newline. */
kj_code kj_enrol_answer_encode(kj_buf *out, const kj_enrol_answer *a, kj_err *err);
/* Client: the answer into *a (cert malloc'd; kj_enrol_answer_release).
 * KJ_EPROTO naming the key when a member is missing, not a string, too
 * long, or the token or device holds anything but [0-9A-Za-z._-]. */
kj_code kj_enrol_answer_decode(const char *text, size_t len, kj_enrol_answer *a, kj_err *err);
void kj_enrol_answer_release(kj_enrol_answer *a);

/* ---- the PC's report at sync (docs/protocol.md "What the PC reports") ----
 * Optional parameters of GET /v1/pull (the one request of every sync):
 * `version` (kinerja's release), `pending` and `rejected` (the counts of
 * `kinerja status`).  A server of an earlier release ignores them; a PC of
 * an earlier release sends none. */

#define KJ_APP_VERSION_MAX 31

typedef struct kj_device_report {
  char version[KJ_APP_VERSION_MAX + 1]; /* "0.2.0": 1-31 of 0-9 A-Z a-z . + - */
  int64_t pending;                      /* changes waiting to be sent, 0..2^53-1*/
  int64_t rejected;                     /* records standing rejected, 0..2^53-1*/
} kj_device_report;

/* Client: "&version=V&pending=N&rejected=N" into out (size bytes,
 * NUL-terminated), to append to the pull request's query.  KJ_EINVAL
 * naming the field when the version holds other characters or a count is
 * out of range; KJ_ETOOBIG when out is too small. */
kj_code kj_device_report_query(const kj_device_report *r, char *out, size_t size, kj_err *err);

/* Server: the report from the values of the three parameters (NULL when a
 * parameter is absent).  KJ_ENOENT when all three are absent (a PC of an
 * earlier release: nothing reported); KJ_EPROTO naming the parameter when
 * one is missing or malformed ("bad 'pending': expected a whole number
 * from 0 to 9007199254740991"). */
kj_code kj_device_report_parse(const char *version, const char *pending, const char *rejected,
                               kj_device_report *r, kj_err *err);

#endif
