/* rules.c - who may write what: see rules.h. */
#include "rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "i18n.h"
#include "merge.h"

static const char *const k_content[] = {"nip",     "date",        "indicator", "quantity",
                                        "minutes", "description", "evidence",  NULL};

static int writes(const kj_change *c, const char *field) {
  int i = kj_field_index(kj_type(c->rec.type), field);
  return i >= 0 && ((c->mask >> i) & 1u);
}

/* The value c writes to field (NULL: absent or cleared). */
static const char *cval(const kj_change *c, const char *field) {
  int i = kj_field_index(kj_type(c->rec.type), field);
  return i >= 0 && ((c->mask >> i) & 1u) ? c->rec.v[i] : NULL;
}

static const char *get(const kj_record *r, const char *field) {
  return r ? kj_record_get(r, field) : NULL;
}

static int same(const char *a, const char *b) {
  return a && b && strcmp(a, b) == 0;
}

static int decided(const char *status) {
  return status && (strcmp(status, "approved") == 0 || strcmp(status, "rejected") == 0);
}

/* An activity's status; absent means the default, submitted. */
static const char *status_of(const kj_record *r) {
  const char *s = get(r, "status");
  return s ? s : "submitted";
}

static int writes_content(const kj_change *c) {
  for (int i = 0; k_content[i]; i++)
    if (writes(c, k_content[i]))
      return 1;
  return 0;
}

/* --- the refusals ----------------------------------------------------------- */

/* Every refusal: its stable code (sent in a rejected push result, never
 * renamed: docs/protocol.md "Push") and its message, each %s one value of
 * the refusal's args.  A new rule is a new line here. */
#define KJ_REFUSALS(X)                                                                             \
  X(RF_ROSTER_NONE, "roster_none", N_("%s %s is not on the roster (no such employee)"))            \
  X(RF_ROSTER_OFFICE, "roster_office",                                                             \
    N_("%s %s is not on the roster of office '%s' (their office is '%s')"))                        \
  X(RF_DATE_FUTURE, "date_future", N_("%s %s is after the office's today (%s in %s)"))             \
  X(RF_NEW_DECIDED, "new_decided",                                                                 \
    N_("a new activity is draft or submitted: it is %s by its approver later"))                    \
  X(RF_DRAFT_DECIDED, "draft_decided",                                                             \
    N_("a draft is submitted before it is approved or rejected"))                                  \
  X(RF_OWN_APPROVAL, "own_approval", N_("nobody approves their own activity (%s)"))                \
  X(RF_NO_SUPERVISOR, "no_supervisor",                                                             \
    N_("%s has no supervisor: their activities are approved at the BKD"))                          \
  X(RF_NOT_SUPERVISOR, "not_supervisor",                                                           \
    N_("only the supervisor of %s (%s) approves their activities"))                                \
  X(RF_APPROVER_SIGNED_IN, "approver_signed_in",                                                   \
    N_("an activity is approved or rejected by its approver signed in, not by '%s'"))              \
  X(RF_REVIEWED_BY_APPROVER, "reviewed_by_approver",                                               \
    N_("an approval sets reviewed_by to its approver (%s)"))                                       \
  X(RF_NEW_STATUS, "new_status", N_("a new activity is draft or submitted"))                       \
  X(RF_REVIEWED_BY_SET, "reviewed_by_set",                                                         \
    N_("reviewed_by is set only by an approve or reject of the approver"))                         \
  X(RF_REVIEWED_BY_CLEARED, "reviewed_by_cleared",                                                 \
    N_("reviewed_by of an activity that is %s is cleared only with its status"))                   \
  X(RF_APPROVER_STATUS, "approver_status",                                                         \
    N_("only the approver (%s) changes the status of an activity that is %s"))                     \
  X(RF_RATING_AUTHOR, "rating_author", N_("a rating is written by its rater (%s), not by '%s'"))   \
  X(RF_RATING_SELF, "rating_self", N_("nobody rates themselves (%s)"))                             \
  X(RF_RATING_ATASAN, "rating_atasan",                                                             \
    N_("an atasan rating is made by the ratee's supervisor (%s), not by %s"))                      \
  X(RF_RATING_BAWAHAN, "rating_bawahan",                                                           \
    N_("a bawahan rating rates the rater's own supervisor (%s), not %s"))                          \
  X(RF_RATING_REKAN, "rating_rekan",                                                               \
    N_("a rekan rating is between colleagues: %s is the supervisor of %s"))                        \
  X(RF_RATING_TWICE, "rating_twice",                                                               \
    N_("%s already rated %s for %s in rating %s (one rating per period, rater and ratee)"))        \
  X(RF_DELETE_AT_BKD, "delete_at_bkd",                                                             \
    N_("an activity that is %s is deleted at the BKD (%s has no supervisor)"))                     \
  X(RF_DELETE_APPROVER, "delete_approver",                                                         \
    N_("an activity that is %s is deleted only by its approver (%s), not by '%s'"))                \
  X(RF_RATING_DELETE, "rating_delete", N_("a rating is deleted by its rater (%s), not by '%s'"))   \
  X(RF_SUMMARY, "summary_required",                                                                \
    N_("field 'summary': is required: say what the complaint is about"))

typedef enum {
#define X(e, code, msg) e,
  KJ_REFUSALS(X)
#undef X
      RF_COUNT
} refusal_id;

static const struct {
  const char *code, *msg;
} k_refusals[RF_COUNT] = {
#define X(e, code, msg) {code, msg},
    KJ_REFUSALS(X)
#undef X
};

/* A refusal's message when its people are named ("Name (NIP)"), where the
 * plain one's "%s (%s)" would put one name's parentheses after another's;
 * the same values in the same order. */
static const struct {
  refusal_id rf;
  const char *msg;
} k_named[] = {
    {RF_NOT_SUPERVISOR, N_("only the supervisor of %s approves their activities: %s")},
};

/* The words rules.c puts in a refusal's args instead of a NIP: kept in
 * English in the args, translated where the message is said. */
static const char *const k_words[] = {N_("a BKD administrator"), N_("the reviewer"),
                                      N_("none on the roster"), N_("the supervisor signed in"),
                                      NULL};

static const char *word(const char *s) {
  for (int i = 0; k_words[i]; i++)
    if (s && !strcmp(s, k_words[i]))
      return _(k_words[i]);
  return s;
}

/* The number of values message m names (each a %s). */
static int msg_nargs(const char *m) {
  int n = 0;
  for (const char *p = strchr(m, '%'); p; p = strchr(p + 2, '%'))
    n++;
  return n;
}

/* Refusal rf said with its nargs values into out (n bytes), in the
 * thread's language; names (NULL: none) gives a name for each value, ""
 * when it has none: a named value is said "Name (NIP)", or "Name, NIP"
 * right after an opening parenthesis of the message.  snprintf's count. */
static int render(int rf, const char *const *args, int nargs,
                  const char names[][KJ_ROSTER_NAME_MAX + 1], char *out, size_t n) {
  const char *m = k_refusals[rf].msg;
  int named = 0;
  for (int i = 0; names && i < nargs; i++)
    named |= names[i][0] != 0;
  for (size_t k = 0; named && k < sizeof k_named / sizeof k_named[0]; k++)
    if (k_named[k].rf == (refusal_id)rf)
      m = k_named[k].msg;
  m = _(m);
  char shown[KJ_REFUSAL_NARGS][KJ_ROSTER_NAME_MAX + KJ_REFUSAL_ARG_MAX + 8];
  const char *a[KJ_REFUSAL_NARGS] = {"", "", "", ""};
  const char *p = m;
  for (int i = 0; i < nargs; i++) {
    a[i] = word(args[i] ? args[i] : "");
    if ((p = strstr(p, "%s")) == NULL)
      break;
    int paren = p > m && p[-1] == '(';
    p += 2;
    if (names && names[i][0]) {
      snprintf(shown[i], sizeof shown[i], paren ? "%s, %s" : "%s (%s)", names[i], a[i]);
      a[i] = shown[i];
    }
  }
  /* the message is ours, each translation keeps its %s (msgfmt -c), and
   * a message of fewer than four takes the others as unused arguments */
  return snprintf(out, n, m, a[0], a[1], a[2], a[3]);
}

/* --- the judge ------------------------------------------------------------- */

typedef struct judge {
  const kj_change *c;
  const kj_record *before, *after;
  const kj_rules_ctx *ctx;
  const char *type; /* "activity" */
  const char *id;
  const char *author;
  kj_err *err;
} judge;

/* Refuse with rule rf about the record's field `field`: its message's
 * values follow, each a const char * (English words of k_words as they
 * are: translated here and by kj_refusal_format).  KJ_EINVAL, with the
 * refusal's data in ctx->why too. */
static kj_code refuse(judge *j, refusal_id rf, const char *field, ...) {
  const char *a[KJ_REFUSAL_NARGS] = {"", "", "", ""};
  int n = msg_nargs(k_refusals[rf].msg);
  va_list ap;
  va_start(ap, field);
  for (int i = 0; i < n && i < KJ_REFUSAL_NARGS; i++) {
    a[i] = va_arg(ap, const char *);
    if (!a[i])
      a[i] = "";
  }
  va_end(ap);
  kj_refusal *why = j->ctx->why;
  if (why) {
    memset(why, 0, sizeof *why);
    why->code = k_refusals[rf].code;
    snprintf(why->field, sizeof why->field, "%s", field);
    why->nargs = n;
    for (int i = 0; i < n && i < KJ_REFUSAL_NARGS; i++)
      snprintf(why->args[i], sizeof why->args[i], "%s", a[i]);
  }
  /* the people named where the roster knows them (the client's); the
   * NIPs alone when the names would not fit the message */
  char names[KJ_REFUSAL_NARGS][KJ_ROSTER_NAME_MAX + 1];
  int named = 0;
  const kj_rules_ctx *ctx = j->ctx;
  for (int i = 0; i < KJ_REFUSAL_NARGS; i++) {
    names[i][0] = 0;
    kj_err scratch;
    if (i < n && ctx->name && kj_nip_valid(a[i]) &&
        ctx->name(ctx->roster->ud, a[i], names[i], &scratch))
      names[i][0] = 0;
    named |= names[i][0] != 0;
  }
  char msg[KJ_ERR_MSG_MAX];
  size_t room = sizeof msg - strlen(j->type) - strlen(j->id) - 3;
  int w =
      named ? render(rf, a, n, (const char(*)[KJ_ROSTER_NAME_MAX + 1]) names, msg, sizeof msg) : -1;
  if (w < 0 || (size_t)w >= room)
    render(rf, a, n, NULL, msg, sizeof msg);
  return kj_fail(j->err, KJ_EINVAL, "%s %s: %s", j->type, j->id, msg);
}

/* The roster's entry of nip into *e; *found 0 when it has none. */
static kj_code lookup(judge *j, const char *nip, kj_roster_entry *e, int *found) {
  memset(e, 0, sizeof *e);
  *found = 0;
  if (!nip || !j->ctx->roster->employee)
    return KJ_OK;
  return j->ctx->roster->employee(j->ctx->roster->ud, nip, e, found, j->err);
}

/* 1 when sup is the supervisor of nip on the roster (*rc set on failure). */
static int supervises(judge *j, const char *sup, const char *nip, kj_code *rc) {
  kj_roster_entry e;
  int found;
  if ((*rc = lookup(j, nip, &e, &found)))
    return 0;
  return found && sup && e.supervisor[0] && strcmp(e.supervisor, sup) == 0;
}

/* Field `field` (a nip) of the record is on the roster of its office, or
 * is allowed otherwise (*exempt, decided by the caller). */
static kj_code on_roster(judge *j, const char *field, int exempt) {
  const char *nip = get(j->after, field);
  const char *office = kj_record_office(j->after);
  if (!nip || exempt)
    return KJ_OK;
  kj_roster_entry e;
  int found;
  kj_code rc = lookup(j, nip, &e, &found);
  if (rc)
    return rc;
  if (!found)
    return refuse(j, RF_ROSTER_NONE, field, field, nip);
  if (!office || strcmp(e.office, office) != 0)
    return refuse(j, RF_ROSTER_OFFICE, field, field, nip, office ? office : "", e.office);
  return KJ_OK;
}

/* Only the NIPs the change writes are judged, all of them when it writes
 * the office: what it leaves alone was judged when it was written. */
static int judged(judge *j, const char *field) {
  return !j->before || writes(j->c, field) || writes(j->c, "office");
}

static kj_code check_roster(judge *j) {
  kj_code rc = KJ_OK;
  switch (j->c->rec.type) {
  case KJ_T_ACTIVITY:
    if (judged(j, "nip") && (rc = on_roster(j, "nip", 0)))
      return rc;
    if (judged(j, "reviewed_by")) {
      int ex = supervises(j, get(j->after, "reviewed_by"), get(j->after, "nip"), &rc);
      if (rc || (rc = on_roster(j, "reviewed_by", ex)))
        return rc;
    }
    return KJ_OK;
  case KJ_T_TARGET:
    return judged(j, "nip") ? on_roster(j, "nip", 0) : KJ_OK;
  case KJ_T_COMPLAINT:
    return judged(j, "resolved_by") ? on_roster(j, "resolved_by", 0) : KJ_OK;
  case KJ_T_RATING:
    if ((judged(j, "ratee") || judged(j, "rater")) && (rc = on_roster(j, "ratee", 0)))
      return rc;
    if (judged(j, "rater") || judged(j, "role") || judged(j, "ratee")) {
      int ex = same(get(j->after, "role"), "atasan") &&
               supervises(j, get(j->after, "rater"), get(j->after, "ratee"), &rc);
      if (rc || (rc = on_roster(j, "rater", ex)))
        return rc;
    }
    return KJ_OK;
  default:
    return KJ_OK;
  }
}

static kj_code check_dates(judge *j) {
  static const struct {
    kj_rtype t;
    const char *field;
  } dated[] = {{KJ_T_SURVEY, "date"},
               {KJ_T_ACTIVITY, "date"},
               {KJ_T_COMPLAINT, "received"},
               {KJ_T_COMPLAINT, "resolved"}};
  if (!j->ctx->now_ms)
    return KJ_OK;
  char zone[KJ_ZONE_MAX + 1] = "";
  int zone_known = 0;
  for (size_t k = 0; k < sizeof dated / sizeof dated[0]; k++) {
    if (dated[k].t != j->c->rec.type || !writes(j->c, dated[k].field))
      continue;
    kj_day d;
    const char *v = get(j->after, dated[k].field);
    if (!v || kj_date_parse(v, &d))
      continue; /* validation's business */
    if (!zone_known) {
      const char *office = kj_record_office(j->after);
      if (office && j->ctx->roster->zone) {
        kj_code rc = j->ctx->roster->zone(j->ctx->roster->ud, office, zone, j->err);
        if (rc)
          return rc;
      }
      if (!zone[0])
        snprintf(zone, sizeof zone, "Asia/Jakarta");
      zone_known = 1;
    }
    int off;
    const char *abbr;
    (void)kj_zone(zone, &off, &abbr); /* an unknown name: Asia/Jakarta's offset */
    long long secs = (long long)(j->ctx->now_ms / 1000) + 60LL * off;
    kj_day today = (kj_day)(secs / 86400);
    if (d > today + j->ctx->slack_days) {
      char t[KJ_DATE_STRLEN + 1];
      kj_date_format(today, t);
      return refuse(j, RF_DATE_FUTURE, dated[k].field, dated[k].field, v, t, zone);
    }
  }
  return KJ_OK;
}

/* The approver of the activity's nip, per the roster: 1 with sup filled
 * (or "" when the employee has no supervisor), 0 when unknown. */
static int approver_of(judge *j, const char *nip, char sup[KJ_ID_MAX + 1], kj_code *rc) {
  kj_roster_entry e;
  int found;
  sup[0] = 0;
  *rc = KJ_OK;
  if (!j->ctx->has_roster)
    return 0;
  if ((*rc = lookup(j, nip, &e, &found)) || !found)
    return 0;
  snprintf(sup, KJ_ID_MAX + 1, "%s", e.supervisor);
  return 1;
}

static kj_code check_activity(judge *j) {
  const kj_change *c = j->c;
  const char *nip = get(j->after, "nip");
  int w_status = writes(c, "status"), w_rev = writes(c, "reviewed_by");
  const char *status = cval(c, "status"), *rev = cval(c, "reviewed_by");
  const char *old = j->before ? status_of(j->before) : NULL;
  char sup[KJ_ID_MAX + 1];
  kj_code rc;

  if (w_status && decided(status)) {
    /* an approve or reject action */
    if (!j->before)
      return refuse(j, RF_NEW_DECIDED, "status", status);
    if (strcmp(old, "draft") == 0)
      return refuse(j, RF_DRAFT_DECIDED, "status");
    if (same(nip, j->author))
      return refuse(j, RF_OWN_APPROVAL, "status", nip);
    int known = approver_of(j, nip, sup, &rc);
    if (rc)
      return rc;
    if (known && !sup[0])
      return refuse(j, RF_NO_SUPERVISOR, "status", nip);
    if (known && strcmp(sup, j->author) != 0)
      return refuse(j, RF_NOT_SUPERVISOR, "status", nip, sup);
    if (!known && !kj_nip_valid(j->author))
      return refuse(j, RF_APPROVER_SIGNED_IN, "status", j->author);
    /* the decision leaves reviewed_by = the approver: written by this
     * change, or already so (a change of decision by the same approver,
     * whose unchanged reviewed_by an import or approve drops as no change) */
    if (w_rev ? !same(rev, j->author) : !same(get(j->after, "reviewed_by"), j->author))
      return refuse(j, RF_REVIEWED_BY_APPROVER, "reviewed_by", j->author);
    return KJ_OK;
  }
  if (!j->before && w_status && status && strcmp(status, "draft") != 0 &&
      strcmp(status, "submitted") != 0)
    return refuse(j, RF_NEW_STATUS, "status");
  if (w_rev && rev)
    return refuse(j, RF_REVIEWED_BY_SET, "reviewed_by");
  if (w_rev && decided(status_of(j->after)))
    return refuse(j, RF_REVIEWED_BY_CLEARED, "reviewed_by", status_of(j->after));
  if (w_status && j->before && decided(old)) {
    /* away from a decision: the approver's, or an edit sent for review again */
    if (writes_content(c) && same(status, "submitted") && w_rev && !rev)
      return KJ_OK;
    int known = approver_of(j, nip, sup, &rc);
    if (rc)
      return rc;
    int approver = known ? sup[0] && strcmp(sup, j->author) == 0
                         : same(get(j->before, "reviewed_by"), j->author);
    const char *reviewer = get(j->before, "reviewed_by");
    const char *who =
        known ? (sup[0] ? sup : "a BKD administrator") : (reviewer ? reviewer : "the reviewer");
    if (!approver)
      return refuse(j, RF_APPROVER_STATUS, "status", who, old);
  }
  return KJ_OK;
}

static kj_code check_rating(judge *j) {
  const char *rater = get(j->after, "rater"), *ratee = get(j->after, "ratee");
  const char *role = get(j->after, "role"), *period = get(j->after, "period");
  kj_code rc;
  if (!same(rater, j->author))
    return refuse(j, RF_RATING_AUTHOR, "rater", rater ? rater : "", j->author);
  if (same(rater, ratee))
    return refuse(j, RF_RATING_SELF, "ratee", rater);
  if (j->ctx->has_roster && role) {
    kj_roster_entry er, ee;
    int fr, fe;
    if ((rc = lookup(j, rater, &er, &fr)) || (rc = lookup(j, ratee, &ee, &fe)))
      return rc;
    if (strcmp(role, "atasan") == 0 && !(fe && same(ee.supervisor, rater)))
      return refuse(j, RF_RATING_ATASAN, "role",
                    fe && ee.supervisor[0] ? ee.supervisor : "none on the roster", rater);
    if (strcmp(role, "bawahan") == 0 && !(fr && same(er.supervisor, ratee)))
      return refuse(j, RF_RATING_BAWAHAN, "role",
                    fr && er.supervisor[0] ? er.supervisor : "none on the roster", ratee);
    if (strcmp(role, "rekan") == 0) {
      if (fe && same(ee.supervisor, rater))
        return refuse(j, RF_RATING_REKAN, "role", rater, ratee);
      if (fr && same(er.supervisor, ratee))
        return refuse(j, RF_RATING_REKAN, "role", ratee, rater);
    }
  }
  if (period && rater && ratee && j->ctx->roster->rating) {
    char other[KJ_ID_MAX + 1] = "";
    if ((rc = j->ctx->roster->rating(j->ctx->roster->ud, period, rater, ratee, j->id, other,
                                     j->err)))
      return rc;
    if (other[0])
      return refuse(j, RF_RATING_TWICE, "ratee", rater, ratee, period, other);
  }
  return KJ_OK;
}

/* A delete takes a record out of every score, so the decisions behind the
 * scores are undone only by who took them: a decided activity by its
 * approver, a rating by its rater (an administrator: anything). */
static kj_code check_delete(judge *j) {
  const kj_record *b = j->before;
  if (j->c->rec.type == KJ_T_ACTIVITY && decided(get(b, "status"))) {
    const char *nip = get(b, "nip"), *status = get(b, "status");
    char sup[KJ_ID_MAX + 1];
    kj_code rc;
    int known = approver_of(j, nip, sup, &rc);
    if (rc)
      return rc;
    if (known && !sup[0])
      return refuse(j, RF_DELETE_AT_BKD, "", status, nip ? nip : "");
    if (known ? !same(sup, j->author) : (!kj_nip_valid(j->author) || same(nip, j->author)))
      return refuse(j, RF_DELETE_APPROVER, "", status, known ? sup : "the supervisor signed in",
                    j->author);
    return KJ_OK;
  }
  if (j->c->rec.type == KJ_T_RATING) {
    const char *rater = get(b, "rater");
    if (!same(rater, j->author))
      return refuse(j, RF_RATING_DELETE, "", rater ? rater : "", j->author);
  }
  return KJ_OK;
}

/* A complaint says what it is about: a new one needs its summary, and an
 * edit never clears it (docs/protocol.md "Record types"; a complaint of
 * old data without one can still be resolved). */
static kj_code check_complaint(judge *j) {
  const char *sum = get(j->after, "summary");
  if (sum && sum[0])
    return KJ_OK;
  if (!j->before || writes(j->c, "summary"))
    return refuse(j, RF_SUMMARY, "summary");
  return KJ_OK;
}

kj_code kj_rules_check(const kj_change *c, const kj_record *before, const kj_record *after,
                       const kj_rules_ctx *ctx, kj_err *err) {
  const kj_type_def *td = kj_type(c->rec.type);
  if (!td || td->master)
    return KJ_OK;
  if (c->rec.deleted) {
    if (ctx->admin || !before || before->deleted)
      return KJ_OK;
    judge d = {c,  before, after, ctx, td->name, c->rec.id, c->author[0] ? c->author : "operator",
               err};
    return check_delete(&d);
  }
  if (!after || after->deleted)
    return KJ_OK;
  if (before && before->deleted)
    before = NULL;
  judge j = {c,  before, after, ctx, td->name, c->rec.id, c->author[0] ? c->author : "operator",
             err};
  kj_code rc;
  if (ctx->has_roster && (rc = check_roster(&j)))
    return rc;
  if ((rc = check_dates(&j)))
    return rc;
  if (ctx->admin)
    return KJ_OK;
  if (c->rec.type == KJ_T_ACTIVITY)
    return check_activity(&j);
  if (c->rec.type == KJ_T_RATING)
    return check_rating(&j);
  if (c->rec.type == KJ_T_COMPLAINT)
    return check_complaint(&j);
  return KJ_OK;
}

/* --- sent for review again ------------------------------------------------- */

int kj_rules_resubmits(const kj_change *c, const kj_record *before) {
  if (c->rec.type != KJ_T_ACTIVITY || c->rec.deleted || !before || before->deleted)
    return 0;
  return decided(get(before, "status")) && !writes(c, "status") && writes_content(c);
}

kj_code kj_rules_add_resubmit(kj_change *c) {
  const kj_type_def *td = kj_type(KJ_T_ACTIVITY);
  int fs = kj_field_index(td, "status"), fr = kj_field_index(td, "reviewed_by");
  kj_code rc = kj_record_set(&c->rec, fs, "submitted");
  if (!rc)
    rc = kj_record_set(&c->rec, fr, NULL);
  if (rc)
    return rc;
  c->mask |= (1u << fs) | (1u << fr);
  return KJ_OK;
}

kj_code kj_rules_settle(kj_rstate *s, int *changed) {
  *changed = 0;
  if (s->rec.type != KJ_T_ACTIVITY || s->rec.deleted || !decided(get(&s->rec, "status")))
    return KJ_OK;
  const kj_type_def *td = kj_type(KJ_T_ACTIVITY);
  int fs = kj_field_index(td, "status"), fr = kj_field_index(td, "reviewed_by");
  const kj_stamp *newest = NULL;
  for (int i = 0; k_content[i]; i++) {
    int f = kj_field_index(td, k_content[i]);
    if (s->st[f].hlc && kj_stamp_cmp(&s->st[f], &s->st[fs]) > 0 &&
        (!newest || kj_stamp_cmp(&s->st[f], newest) > 0))
      newest = &s->st[f];
  }
  if (!newest)
    return KJ_OK;
  kj_stamp st = *newest;
  /* as if the edit had written them (a write that loses to nothing newer) */
  kj_code rc = kj_record_set(&s->rec, fs, "submitted");
  if (rc)
    return rc;
  s->st[fs] = st;
  if (kj_stamp_cmp(&st, &s->st[fr]) > 0) {
    if ((rc = kj_record_set(&s->rec, fr, NULL)))
      return rc;
    s->st[fr] = st;
  }
  *changed = 1;
  return KJ_OK;
}

/* --- refusals said in the reader's language ------------------------------- */

kj_code kj_refusal_format(const char *code, const char *const *args, int nargs, char *out,
                          size_t n) {
  int rf = -1;
  for (int i = 0; code && i < RF_COUNT && rf < 0; i++)
    if (!strcmp(code, k_refusals[i].code))
      rf = i;
  if (rf < 0 || nargs != msg_nargs(k_refusals[rf].msg) || nargs > KJ_REFUSAL_NARGS)
    return KJ_EINVAL;
  render(rf, args, nargs, NULL, out, n);
  return KJ_OK;
}

const char *kj_refusal_reason(const char *stored, char *buf, size_t n,
                              char field[KJ_REFUSAL_ARG_MAX + 1]) {
  if (field)
    field[0] = 0;
  if (!stored || stored[0] != '{')
    return stored;
  cJSON *o = cJSON_Parse(stored);
  const cJSON *code = cJSON_GetObjectItemCaseSensitive(o, "code");
  const cJSON *text = cJSON_GetObjectItemCaseSensitive(o, "text");
  const cJSON *fld = cJSON_GetObjectItemCaseSensitive(o, "field");
  const cJSON *args = cJSON_GetObjectItemCaseSensitive(o, "args");
  const char *out = stored; /* not ours: the text as it is */
  if (cJSON_IsString(text) || cJSON_IsString(code)) {
    const char *a[KJ_REFUSAL_NARGS];
    int na = 0, ok = cJSON_IsString(code) && cJSON_IsArray(args);
    const cJSON *el;
    cJSON_ArrayForEach(el, args) {
      if (!cJSON_IsString(el) || na == KJ_REFUSAL_NARGS) {
        ok = 0;
        break;
      }
      a[na++] = el->valuestring;
    }
    if (ok && kj_refusal_format(code->valuestring, a, na, buf, n) == KJ_OK) {
      out = buf;
      if (field && cJSON_IsString(fld))
        snprintf(field, KJ_REFUSAL_ARG_MAX + 1, "%s", fld->valuestring);
    } else if (cJSON_IsString(text)) {
      snprintf(buf, n, "%s", text->valuestring);
      out = buf;
    }
  }
  cJSON_Delete(o);
  return out;
}
