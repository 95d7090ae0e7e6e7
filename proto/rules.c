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

static kj_code refuse(judge *j, const char *fmt, ...) KJ_PRINTF(2, 3);
static kj_code refuse(judge *j, const char *fmt, ...) {
  char msg[KJ_ERR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
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
    return refuse(j, _("%s %s is not on the roster (no such employee)"), field, nip);
  if (!office || strcmp(e.office, office) != 0)
    return refuse(j, _("%s %s is not on the roster of office '%s' (their office is '%s')"), field,
                  nip, office ? office : "", e.office);
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
      return refuse(j, _("%s %s is after the office's today (%s in %s)"), dated[k].field, v, t,
                    zone);
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
      return refuse(j, _("a new activity is draft or submitted: it is %s by its approver later"),
                    status);
    if (strcmp(old, "draft") == 0)
      return refuse(j, _("a draft is submitted before it is approved or rejected"));
    if (same(nip, j->author))
      return refuse(j, _("nobody approves their own activity (%s)"), nip);
    int known = approver_of(j, nip, sup, &rc);
    if (rc)
      return rc;
    if (known && !sup[0])
      return refuse(j, _("%s has no supervisor: their activities are approved at the BKD"), nip);
    if (known && strcmp(sup, j->author) != 0)
      return refuse(j, _("only the supervisor of %s (%s) approves their activities"), nip, sup);
    if (!known && !kj_nip_valid(j->author))
      return refuse(j,
                    _("an activity is approved or rejected by its approver signed in, not by '%s'"),
                    j->author);
    /* the decision leaves reviewed_by = the approver: written by this
     * change, or already so (a change of decision by the same approver,
     * whose unchanged reviewed_by an import or approve drops as no change) */
    if (w_rev ? !same(rev, j->author) : !same(get(j->after, "reviewed_by"), j->author))
      return refuse(j, _("an approval sets reviewed_by to its approver (%s)"), j->author);
    return KJ_OK;
  }
  if (!j->before && w_status && status && strcmp(status, "draft") != 0 &&
      strcmp(status, "submitted") != 0)
    return refuse(j, _("a new activity is draft or submitted"));
  if (w_rev && rev)
    return refuse(j, _("reviewed_by is set only by an approve or reject of the approver"));
  if (w_rev && decided(status_of(j->after)))
    return refuse(j, _("reviewed_by of an activity that is %s is cleared only with its status"),
                  status_of(j->after));
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
      return refuse(j, _("only the approver (%s) changes the status of an activity that is %s"),
                    who, old);
  }
  return KJ_OK;
}

static kj_code check_rating(judge *j) {
  const char *rater = get(j->after, "rater"), *ratee = get(j->after, "ratee");
  const char *role = get(j->after, "role"), *period = get(j->after, "period");
  kj_code rc;
  if (!same(rater, j->author))
    return refuse(j, _("a rating is written by its rater (%s), not by '%s'"), rater ? rater : "",
                  j->author);
  if (same(rater, ratee))
    return refuse(j, _("nobody rates themselves (%s)"), rater);
  if (j->ctx->has_roster && role) {
    kj_roster_entry er, ee;
    int fr, fe;
    if ((rc = lookup(j, rater, &er, &fr)) || (rc = lookup(j, ratee, &ee, &fe)))
      return rc;
    if (strcmp(role, "atasan") == 0 && !(fe && same(ee.supervisor, rater)))
      return refuse(j, _("an atasan rating is made by the ratee's supervisor (%s), not by %s"),
                    fe && ee.supervisor[0] ? ee.supervisor : "none on the roster", rater);
    if (strcmp(role, "bawahan") == 0 && !(fr && same(er.supervisor, ratee)))
      return refuse(j, _("a bawahan rating rates the rater's own supervisor (%s), not %s"),
                    fr && er.supervisor[0] ? er.supervisor : "none on the roster", ratee);
    if (strcmp(role, "rekan") == 0) {
      if (fe && same(ee.supervisor, rater))
        return refuse(j, _("a rekan rating is between colleagues: %s is the supervisor of %s"),
                      rater, ratee);
      if (fr && same(er.supervisor, ratee))
        return refuse(j, _("a rekan rating is between colleagues: %s is the supervisor of %s"),
                      ratee, rater);
    }
  }
  if (period && rater && ratee && j->ctx->roster->rating) {
    char other[KJ_ID_MAX + 1] = "";
    if ((rc = j->ctx->roster->rating(j->ctx->roster->ud, period, rater, ratee, j->id, other,
                                     j->err)))
      return rc;
    if (other[0])
      return refuse(j,
                    _("%s already rated %s for %s in rating %s (one rating per period, rater "
                      "and ratee)"),
                    rater, ratee, period, other);
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
      return refuse(j, _("an activity that is %s is deleted at the BKD (%s has no supervisor)"),
                    status, nip ? nip : "");
    if (known ? !same(sup, j->author) : (!kj_nip_valid(j->author) || same(nip, j->author)))
      return refuse(j,
                    _("an activity that is %s is deleted only by its approver (%s), not by '%s'"),
                    status, known ? sup : "the supervisor signed in", j->author);
    return KJ_OK;
  }
  if (j->c->rec.type == KJ_T_RATING) {
    const char *rater = get(b, "rater");
    if (!same(rater, j->author))
      return refuse(j, _("a rating is deleted by its rater (%s), not by '%s'"), rater ? rater : "",
                    j->author);
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
    return refuse(j, _("field 'summary': is required: say what the complaint is about"));
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
