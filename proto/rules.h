/* rules.h - who may write what (domain.md "Who may write what", "Records").
 *
 * One judge for the server (every change of every device, server/store.c
 * kjs_txn_apply) and the client (before a change is stored,
 * client/store.c).  The module is pure: what it needs to know about the
 * roster, other ratings and an office's time zone it asks through the
 * callbacks of kj_roster, which each side implements over its own records.
 *
 * A refusal is KJ_EINVAL with a message that names the record and the
 * rule, in the style of proto/record.c:
 *   "activity 0190...: only the supervisor of 199001012015011001
 *    (198001012005011002) approves their activities"
 * or, when the roster names the people (kj_roster.name, the client):
 *   "activity 0190...: only the supervisor of Siti Aminah
 *    (199001012015011001) approves their activities: Budi Santoso
 *    (198001012005011002)"
 * Any other code is a failed lookup (the callback's code and message).
 */
#ifndef KJ_RULES_H
#define KJ_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "date.h"
#include "err.h"
#include "wire.h"

/* An employee as the roster knows it. */
typedef struct kj_roster_entry {
  char office[KJ_ID_MAX + 1];     /* the office whose roster has them */
  char supervisor[KJ_ID_MAX + 1]; /* the supervisor's nip; "" when none */
} kj_roster_entry;

#define KJ_ZONE_MAX 32 /* "Asia/Jayapura" */

#define KJ_ROSTER_NAME_MAX 80 /* a name is cut to this many bytes in a message */

/* What the caller knows.  Each callback returns KJ_OK, or another code
 * with err filled when the lookup itself failed (a database error). */
typedef struct kj_roster {
  void *ud;
  /* The live employee `nip`: *found = 1 and *out filled, else *found = 0. */
  kj_code (*employee)(void *ud, const char *nip, kj_roster_entry *out, int *found, kj_err *err);
  /* A live rating with this period, rater and ratee whose id is not `id`:
   * its id into out, "" when there is none. */
  kj_code (*rating)(void *ud, const char *period, const char *rater, const char *ratee,
                    const char *id, char out[KJ_ID_MAX + 1], kj_err *err);
  /* The `timezone` of office `office` into out ("" when the office or its
   * field is unknown: Asia/Jakarta is taken).  May be NULL. */
  kj_code (*zone)(void *ud, const char *office, char out[KJ_ZONE_MAX + 1], kj_err *err);
} kj_roster;

/* A refusal of the rules as data (docs/protocol.md "Push": a rejected
 * result's "code", "field" and "args"), so that the client says it in its
 * own language (kj_refusal_text) whatever the server's: code is the rule's
 * stable name (a static string of rules.c, NULL: none), field the record's
 * field the rule is about ("" for a delete), args the values its message
 * names, in order (NIPs, ids, a status, a date...; cut at
 * KJ_REFUSAL_ARG_MAX bytes). */
#define KJ_REFUSAL_NARGS 4
#define KJ_REFUSAL_ARG_MAX 64
typedef struct kj_refusal {
  const char *code;
  char field[KJ_REFUSAL_ARG_MAX + 1];
  int nargs;
  char args[KJ_REFUSAL_NARGS][KJ_REFUSAL_ARG_MAX + 1];
} kj_refusal;

typedef struct kj_rules_ctx {
  int admin;               /* the writer is a BKD administrator (author "admin") */
  int has_roster;          /* the employee master data is present: the rules that
                              need the roster (membership, supervisors) apply */
  uint64_t now_ms;         /* the clock, ms since the epoch; 0 = no date rule */
  int slack_days;          /* days a date may be past the office's today (server: 1) */
  const kj_roster *roster; /* never NULL */
  kj_refusal *why;         /* NULL, or filled with a refusal's code (server) */
  /* The `name` of employee `nip` into out ("" when unknown), given
   * roster->ud, asked only to say a refusal: its message names each
   * person of its values it knows as "Name (NIP)" (the client, whose
   * reader knows people by name; the refusal's data keeps the NIPs, and a
   * message the names would overflow says the NIPs alone).  NULL: NIPs
   * alone (the server).  A failed lookup is no name. */
  kj_code (*name)(void *ud, const char *nip, char out[KJ_ROSTER_NAME_MAX + 1], kj_err *err);
} kj_rules_ctx;

/* Judge change c against the rules.  before: the record's merged values
 * before c (NULL for a new record); after: after c (and, at the server,
 * after kj_rules_settle), already valid (kj_record_validate).  c->author
 * is the author ("" is taken as "operator").  Master data is not judged
 * (the server's office scope keeps devices away from it).  A delete (it
 * takes the record out of every score) is judged only on who undoes a
 * decision: an activity that is approved or rejected is deleted by its
 * approver, a rating by its rater (not admin: anything).  KJ_OK, KJ_EINVAL
 * with the rule in err, or a callback's code.
 *
 * The rules (domain.md "Who may write what"):
 *  - every nip of an office record (activity nip and reviewed_by, target
 *    nip, rating rater and ratee, complaint resolved_by) that the change
 *    writes (every one when it writes `office`) is on the roster of the
 *    record's office, except an activity's reviewed_by that is the
 *    supervisor of its nip and an atasan rater that is the supervisor of
 *    the ratee (has_roster only; admin too);
 *  - a dated field the change writes (survey date, activity date,
 *    complaint received and resolved) is not after the office's today in
 *    its time zone plus slack_days (admin too);
 *  - activities (not admin): a new one is draft or submitted; approved or
 *    rejected is written only with reviewed_by = the author, who is not the
 *    activity's nip, is its supervisor (an employee without one: only an
 *    administrator), and the status before is not draft; a change of status
 *    away from approved/rejected is the approver's, or comes with an edit
 *    of a content field (kj_rules_resubmits) as submitted with reviewed_by
 *    cleared; reviewed_by is set only by an approval and cleared only
 *    with a status of draft or submitted;
 *  - ratings (not admin): the author is the rater; rater is not ratee;
 *    atasan: the rater is the ratee's supervisor; bawahan: the ratee is the
 *    rater's supervisor; rekan: neither is the other's supervisor; one
 *    live rating per (period, rater, ratee);
 *  - complaints (not admin): a new one has a summary, and a change never
 *    clears it. */
kj_code kj_rules_check(const kj_change *c, const kj_record *before, const kj_record *after,
                       const kj_rules_ctx *ctx, kj_err *err);

/* The message of refusal `code` with its args (nargs of them, as a
 * kj_refusal carries them) into out (n bytes), in the language of the
 * thread (_(): the catalogue of kinerja), without the record's "TYPE ID: "
 * prefix: "hanya atasan N (S) yang menyetujui kegiatannya".  The words
 * rules.c puts in args ("none on the roster") are translated too.
 * KJ_EINVAL when code is not one this program knows or nargs is not its
 * message's count (a newer server: the caller shows the server's text). */
kj_code kj_refusal_format(const char *code, const char *const *args, int nargs, char *out,
                          size_t n);

/* A rejected change's reason as kinerja keeps it in its outbox
 * (kj_push_answer_decode: the server's text, or, when the server sent the
 * refusal's code, {"code","field","args","text"} as JSON) into the text to
 * show: the refusal in the thread's language (kj_refusal_format), else the
 * server's text.  Returns buf (n bytes) or stored itself (NULL: NULL); the
 * refusal's field into field when it is not NULL ("" when none). */
const char *kj_refusal_reason(const char *stored, char *buf, size_t n,
                              char field[KJ_REFUSAL_ARG_MAX + 1]);

/* 1 when c edits a content field (nip, date, indicator, quantity, minutes,
 * description, evidence) of activity `before` whose status is approved or
 * rejected without writing status itself: the client then adds
 * kj_rules_add_resubmit to c. */
int kj_rules_resubmits(const kj_change *c, const kj_record *before);
/* Add status = submitted and a cleared reviewed_by to c.  KJ_ENOMEM. */
kj_code kj_rules_add_resubmit(kj_change *c);

/* The server's side of the same rule, order independent: an activity
 * whose status is approved or rejected while a content field carries a
 * newer stamp than its status (an edit after the decision, or a decision
 * that arrived after a newer edit) becomes submitted with reviewed_by
 * cleared, both stamped with that content field's stamp.  *changed = 1
 * when s changed.  KJ_ENOMEM. */
kj_code kj_rules_settle(kj_rstate *s, int *changed);

#endif
