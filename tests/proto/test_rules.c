/* test_rules.c - proto/rules.c: every rule of domain.md "Who may write what"
 * (and the date rule of "Records"), each accepted and refused, against a
 * roster held in this file; the resubmit of an edited decision and its
 * order independence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge.h"
#include "rules.h"

#define OFF_A "36.73.04"
#define OFF_B "36.73.05"
#define HEAD "197001012000011001"   /* A, no supervisor */
#define SUP "198001012005011002"    /* A, under HEAD */
#define STAFF "199001012015011003"  /* A, under SUP */
#define PEER "199202022016012004"   /* A, under SUP */
#define OTHER "198503032010011005"  /* B, under B_HEAD */
#define B_HEAD "197505052001011006" /* B */
#define STAFF2 "199404042018012007" /* A, under B_HEAD (a supervisor of another unit) */
#define NOBODY "199505052019011008" /* on no roster */
#define ID1 "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a01"
#define ID2 "0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a02"

static const struct {
  const char *nip, *office, *sup;
} k_roster[] = {{HEAD, OFF_A, ""},      {SUP, OFF_A, HEAD},     {STAFF, OFF_A, SUP},
                {PEER, OFF_A, SUP},     {OTHER, OFF_B, B_HEAD}, {B_HEAD, OFF_B, ""},
                {STAFF2, OFF_A, B_HEAD}};

/* the live ratings the fake roster knows: (id, period, rater, ratee) */
static const char *g_ratings[4][4];
static int g_nratings;
static int g_fail; /* the next lookup fails like a database */

static kj_code f_employee(void *ud, const char *nip, kj_roster_entry *out, int *found,
                          kj_err *err) {
  (void)ud;
  if (g_fail)
    return kj_fail(err, KJ_EDB, "database is gone");
  for (size_t i = 0; i < sizeof k_roster / sizeof k_roster[0]; i++)
    if (!strcmp(k_roster[i].nip, nip)) {
      snprintf(out->office, sizeof out->office, "%s", k_roster[i].office);
      snprintf(out->supervisor, sizeof out->supervisor, "%s", k_roster[i].sup);
      *found = 1;
    }
  return KJ_OK;
}

static kj_code f_rating(void *ud, const char *period, const char *rater, const char *ratee,
                        const char *id, char out[KJ_ID_MAX + 1], kj_err *err) {
  (void)ud;
  (void)err;
  out[0] = 0;
  for (int i = 0; i < g_nratings; i++)
    if (!strcmp(g_ratings[i][1], period) && !strcmp(g_ratings[i][2], rater) &&
        !strcmp(g_ratings[i][3], ratee) && strcmp(g_ratings[i][0], id) != 0)
      snprintf(out, KJ_ID_MAX + 1, "%s", g_ratings[i][0]);
  return KJ_OK;
}

static kj_code f_zone(void *ud, const char *office, char out[KJ_ZONE_MAX + 1], kj_err *err) {
  (void)ud;
  (void)err;
  snprintf(out, KJ_ZONE_MAX + 1, "%s", !strcmp(office, OFF_B) ? "Asia/Makassar" : "");
  return KJ_OK;
}

static const kj_roster k_fake = {NULL, f_employee, f_rating, f_zone};

/* kj_rules_ctx.name, as the client's store: given while g_names is set;
 * g_long_names gives names too long for a message */
static int g_names, g_long_names;

static kj_code f_name(void *ud, const char *nip, char out[KJ_ROSTER_NAME_MAX + 1], kj_err *err) {
  (void)ud;
  (void)err;
  const char *name = !strcmp(nip, STAFF) ? "Siti Aminah" : !strcmp(nip, SUP) ? "Budi Santoso" : "";
  snprintf(out, KJ_ROSTER_NAME_MAX + 1, "%s", name);
  if (g_long_names && *name) {
    memset(out, 'N', KJ_ROSTER_NAME_MAX);
    out[KJ_ROSTER_NAME_MAX] = 0;
  }
  return KJ_OK;
}

/* 2026-03-10 16:30 UTC: 23:30 in Jakarta (WIB), 00:30 on the 11th in Makassar */
#define NOW_MS 1773160200000ull

static char g_msg[KJ_ERR_MSG_MAX];

/* "k=v" pairs into r (v empty = absent / cleared). */
static void fill(kj_record *r, uint32_t *mask, const char *const *kv) {
  const kj_type_def *td = kj_type(r->type);
  for (; kv && *kv; kv++) {
    const char *eq = strchr(*kv, '=');
    assert_non_null(eq);
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(eq - *kv), *kv);
    int i = kj_field_index(td, name);
    assert_true(i >= 0);
    assert_int_equal(kj_record_set(r, i, eq[1] ? eq + 1 : NULL), KJ_OK);
    if (mask)
      *mask |= 1u << i;
  }
}

static kj_refusal g_why;

/* Every refusal also comes as data (the push answer's code, field and
 * args): said again from them it is the message, less "TYPE ID: ". */
static void same_as_data(kj_rtype t, int deleting) {
  char prefix[128], again[KJ_ERR_MSG_MAX];
  snprintf(prefix, sizeof prefix, "%s %s: ", kj_type(t)->name, ID1);
  assert_non_null(g_why.code);
  const char *args[KJ_REFUSAL_NARGS];
  for (int i = 0; i < KJ_REFUSAL_NARGS; i++)
    args[i] = g_why.args[i];
  assert_int_equal(kj_refusal_format(g_why.code, args, g_why.nargs, again, sizeof again), KJ_OK);
  assert_int_equal(strncmp(g_msg, prefix, strlen(prefix)), 0);
  assert_string_equal(g_msg + strlen(prefix), again);
  assert_true(g_why.field[0] || deleting);
}

/* Judge the change `ch` (fields, by `author`) of a record whose values are
 * `before` (NULL: a new record).  The record's office is OFF_A unless a
 * field says otherwise.  The message lands in g_msg. */
static kj_code judge_as(kj_rtype t, const char *const *before, const char *author,
                        const char *const *ch, int admin, int has_roster, int slack) {
  kj_change c;
  kj_record b, a;
  kj_change_init(&c, t);
  snprintf(c.rec.id, sizeof c.rec.id, "%s", ID1);
  snprintf(c.author, sizeof c.author, "%s", author);
  kj_record_init(&b, t);
  snprintf(b.id, sizeof b.id, "%s", ID1);
  if (before) {
    static const char *const office[] = {("office=" OFF_A), NULL};
    fill(&b, NULL, office);
    fill(&b, NULL, before);
  } else {
    static const char *const office[] = {("office=" OFF_A), NULL};
    fill(&c.rec, &c.mask, office);
  }
  fill(&c.rec, &c.mask, ch);
  assert_int_equal(kj_record_copy(&a, &b), KJ_OK);
  for (int i = 0; i < KJ_MAX_FIELDS; i++)
    if ((c.mask >> i) & 1u)
      assert_int_equal(kj_record_set(&a, i, c.rec.v[i]), KJ_OK);
  kj_rules_ctx ctx = {.admin = admin,
                      .has_roster = has_roster,
                      .now_ms = NOW_MS,
                      .slack_days = slack,
                      .roster = &k_fake,
                      .why = &g_why,
                      .name = g_names ? f_name : NULL};
  kj_err e;
  kj_err_clear(&e);
  memset(&g_why, 0, sizeof g_why);
  kj_code rc = kj_rules_check(&c, before ? &b : NULL, &a, &ctx, &e);
  snprintf(g_msg, sizeof g_msg, "%s", e.msg);
  if (rc == KJ_EINVAL && !g_names)
    same_as_data(t, 0);
  if (rc == KJ_OK)
    assert_string_equal(e.msg, "");
  kj_change_release(&c);
  kj_record_release(&b);
  kj_record_release(&a);
  return rc;
}

static kj_code judge(kj_rtype t, const char *const *before, const char *author,
                     const char *const *ch) {
  return judge_as(t, before, author, ch, !strcmp(author, "admin"), 1, 0);
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static void refused(kj_code rc, const char *want) {
  if (rc != KJ_EINVAL || !strstr(g_msg, want))
    fail_msg("expected a refusal with \"%s\", got %d \"%s\"", want, rc, g_msg);
}

#define ACT_NEW(nip) ("nip=" nip), "date=2026-03-02", "indicator=DOC", "quantity=3"

/* --- one office's records name only its own people ----------------------- */

static void t_roster(void **state) {
  (void)state;
  assert_int_equal(judge(KJ_T_ACTIVITY, NULL, "operator", L(ACT_NEW(STAFF))), KJ_OK);
  refused(judge(KJ_T_ACTIVITY, NULL, "operator", L(ACT_NEW(OTHER))),
          "activity " ID1 ": nip " OTHER " is not on the roster of office '" OFF_A
          "' (their office is '" OFF_B "')");
  refused(judge(KJ_T_ACTIVITY, NULL, "operator", L(ACT_NEW(NOBODY))),
          "nip " NOBODY " is not on the roster (no such employee)");
  /* an administrator names only roster people too */
  refused(judge(KJ_T_ACTIVITY, NULL, "admin", L(ACT_NEW(OTHER))), "not on the roster");
  /* a target, a complaint's resolver, a rating's ratee */
  refused(judge(KJ_T_TARGET, NULL, "operator",
                L(("nip=" OTHER), "indicator=DOC", "period=2026", "target=9999")),
          "target " ID1 ": nip " OTHER " is not on the roster");
  assert_int_equal(judge(KJ_T_TARGET, NULL, "operator",
                         L(("nip=" STAFF), "indicator=DOC", "period=2026", "target=9")),
                   KJ_OK);
  refused(judge(KJ_T_COMPLAINT, NULL, "operator",
                L("received=2026-03-01", "resolved=2026-03-02", ("resolved_by=" OTHER))),
          "complaint " ID1 ": resolved_by " OTHER " is not on the roster");
  assert_int_equal(judge(KJ_T_COMPLAINT, NULL, "operator",
                         L("received=2026-03-01", "resolved=2026-03-02", ("resolved_by=" PEER),
                           "summary=jalan rusak")),
                   KJ_OK);
  refused(judge(KJ_T_RATING, NULL, B_HEAD,
                L("period=2026", ("rater=" B_HEAD), ("ratee=" OTHER), "role=atasan")),
          "ratee " OTHER " is not on the roster of office '" OFF_A "'");
  /* a rater of another office is only the ratee's supervisor as atasan */
  refused(judge(KJ_T_RATING, NULL, OTHER,
                L("period=2026", ("rater=" OTHER), ("ratee=" STAFF), "role=rekan")),
          "rater " OTHER " is not on the roster of office '" OFF_A "'");
  assert_int_equal(judge(KJ_T_RATING, NULL, B_HEAD,
                         L("period=2026", ("rater=" B_HEAD), ("ratee=" STAFF2), "role=atasan")),
                   KJ_OK);
  /* an unchanged field is not judged again (the roster moved since) */
  assert_int_equal(judge(KJ_T_ACTIVITY, L(ACT_NEW(OTHER)), "operator", L("quantity=4")), KJ_OK);
  /* but a move of the record is */
  refused(judge(KJ_T_ACTIVITY, L(ACT_NEW(STAFF)), "admin", L("office=" OFF_B)),
          "nip " STAFF " is not on the roster of office '" OFF_B "'");
  /* without the master data the roster rules are not told */
  assert_int_equal(judge_as(KJ_T_ACTIVITY, NULL, "operator", L(ACT_NEW(OTHER)), 0, 0, 0), KJ_OK);
  /* a failed lookup is not a refusal */
  g_fail = 1;
  kj_code rc = judge(KJ_T_ACTIVITY, NULL, "operator", L(ACT_NEW(STAFF)));
  g_fail = 0;
  assert_int_equal(rc, KJ_EDB);
  assert_string_equal(g_msg, "database is gone");
}

/* --- approval ------------------------------------------------------------- */

#define SUBMITTED ACT_NEW(STAFF), "status=submitted"

static void t_approval(void **state) {
  (void)state;
  /* created draft or submitted only */
  refused(judge(KJ_T_ACTIVITY, NULL, "operator", L(ACT_NEW(STAFF), "status=approved")),
          "activity " ID1 ": a new activity is draft or submitted");
  refused(
      judge(KJ_T_ACTIVITY, NULL, SUP, L(ACT_NEW(STAFF), "status=approved", ("reviewed_by=" SUP))),
      "a new activity is draft or submitted");
  assert_int_equal(judge(KJ_T_ACTIVITY, NULL, "operator", L(ACT_NEW(STAFF), "status=draft")),
                   KJ_OK);
  /* the supervisor approves and rejects */
  assert_int_equal(
      judge(KJ_T_ACTIVITY, L(SUBMITTED), SUP, L("status=approved", ("reviewed_by=" SUP))), KJ_OK);
  assert_int_equal(
      judge(KJ_T_ACTIVITY, L(ACT_NEW(STAFF)), SUP, L("status=rejected", ("reviewed_by=" SUP))),
      KJ_OK);
  /* nobody else */
  refused(judge(KJ_T_ACTIVITY, L(SUBMITTED), PEER, L("status=approved", ("reviewed_by=" PEER))),
          "activity " ID1 ": only the supervisor of " STAFF " (" SUP ") approves their activities");
  refused(
      judge(KJ_T_ACTIVITY, L(SUBMITTED), "operator", L("status=approved", ("reviewed_by=" SUP))),
      "only the supervisor of " STAFF " (" SUP ")");
  /* not their own */
  refused(judge(KJ_T_ACTIVITY, L(ACT_NEW(SUP), "status=submitted"), SUP,
                L("status=approved", ("reviewed_by=" SUP))),
          "nobody approves their own activity (" SUP ")");
  /* a draft is submitted first */
  refused(judge(KJ_T_ACTIVITY, L(ACT_NEW(STAFF), "status=draft"), SUP,
                L("status=approved", ("reviewed_by=" SUP))),
          "a draft is submitted before it is approved or rejected");
  /* reviewed_by is the approver */
  refused(judge(KJ_T_ACTIVITY, L(SUBMITTED), SUP, L("status=approved", ("reviewed_by=" HEAD))),
          "an approval sets reviewed_by to its approver (" SUP ")");
  refused(judge(KJ_T_ACTIVITY, L(SUBMITTED), SUP, L("status=approved")),
          "an approval sets reviewed_by to its approver");
  /* the approver changes the decision: reviewed_by already theirs need not
   * be written again, but someone else's must be */
  assert_int_equal(judge(KJ_T_ACTIVITY, L(ACT_NEW(STAFF), "status=approved", ("reviewed_by=" SUP)),
                         SUP, L("status=rejected")),
                   KJ_OK);
  refused(judge(KJ_T_ACTIVITY, L(ACT_NEW(STAFF), "status=approved", ("reviewed_by=" HEAD)), SUP,
                L("status=rejected")),
          "an approval sets reviewed_by to its approver (" SUP ")");
  /* the head has no supervisor: approved at the BKD */
  refused(judge(KJ_T_ACTIVITY, L(ACT_NEW(HEAD)), SUP, L("status=approved", ("reviewed_by=" SUP))),
          HEAD " has no supervisor: their activities are approved at the BKD");
  assert_int_equal(
      judge(KJ_T_ACTIVITY, L(ACT_NEW(HEAD)), "admin", L("status=approved", ("reviewed_by=" SUP))),
      KJ_OK);
  /* an approver of another unit */
  assert_int_equal(judge(KJ_T_ACTIVITY, L(ACT_NEW(STAFF2)), B_HEAD,
                         L("status=approved", ("reviewed_by=" B_HEAD))),
                   KJ_OK);
  /* an administrator may set any status, also on a new record */
  assert_int_equal(judge(KJ_T_ACTIVITY, NULL, "admin", L(ACT_NEW(STAFF), "status=approved")),
                   KJ_OK);
  /* without the roster: a person signed in, never the operator or oneself */
  assert_int_equal(judge_as(KJ_T_ACTIVITY, L(SUBMITTED), SUP,
                            L("status=approved", ("reviewed_by=" SUP)), 0, 0, 0),
                   KJ_OK);
  refused(judge_as(KJ_T_ACTIVITY, L(SUBMITTED), "operator",
                   L("status=approved", ("reviewed_by=" SUP)), 0, 0, 0),
          "approved or rejected by its approver signed in, not by 'operator'");
  refused(judge_as(KJ_T_ACTIVITY, L(SUBMITTED), STAFF, L("status=approved", ("reviewed_by=" STAFF)),
                   0, 0, 0),
          "nobody approves their own activity");
  refused(judge_as(KJ_T_ACTIVITY, NULL, "operator", L(ACT_NEW(STAFF), "status=approved"), 0, 0, 0),
          "a new activity is draft or submitted");
}

#define APPROVED ACT_NEW(STAFF), "status=approved", ("reviewed_by=" SUP)

static void t_decided(void **state) {
  (void)state;
  /* away from a decision: the approver only */
  refused(judge(KJ_T_ACTIVITY, L(APPROVED), "operator", L("status=submitted", "reviewed_by=")),
          "only the approver (" SUP ") changes the status of an activity that is approved");
  refused(judge(KJ_T_ACTIVITY, L(APPROVED), "operator", L("status=draft")),
          "only the approver (" SUP ")");
  assert_int_equal(judge(KJ_T_ACTIVITY, L(APPROVED), SUP, L("status=submitted", "reviewed_by=")),
                   KJ_OK);
  /* the approver changes their mind */
  assert_int_equal(
      judge(KJ_T_ACTIVITY, L(APPROVED), SUP, L("status=rejected", ("reviewed_by=" SUP))), KJ_OK);
  /* an edit sent for review again is anybody's */
  assert_int_equal(judge(KJ_T_ACTIVITY, L(APPROVED), "operator",
                         L("quantity=30", "status=submitted", "reviewed_by=")),
                   KJ_OK);
  /* reviewed_by is the approver's */
  refused(judge(KJ_T_ACTIVITY, L(SUBMITTED), "operator", L("reviewed_by=" SUP)),
          "reviewed_by is set only by an approve or reject of the approver");
  refused(judge(KJ_T_ACTIVITY, L(APPROVED), "operator", L("reviewed_by=")),
          "reviewed_by of an activity that is approved is cleared only with its status");
  /* without the roster the approver is the one who decided */
  refused(
      judge_as(KJ_T_ACTIVITY, L(APPROVED), PEER, L("status=submitted", "reviewed_by="), 0, 0, 0),
      "only the approver (" SUP ")");
  assert_int_equal(
      judge_as(KJ_T_ACTIVITY, L(APPROVED), SUP, L("status=submitted", "reviewed_by="), 0, 0, 0),
      KJ_OK);
}

/* --- ratings ------------------------------------------------------------- */

#define SCORES "s1=4", "s2=4", "s3=4", "s4=4", "s5=4", "s6=4", "s7=4"

static void t_ratings(void **state) {
  (void)state;
  g_nratings = 0;
  assert_int_equal(judge(KJ_T_RATING, NULL, SUP,
                         L("period=2026", ("rater=" SUP), ("ratee=" STAFF), "role=atasan", SCORES)),
                   KJ_OK);
  /* the author is the rater */
  refused(judge(KJ_T_RATING, NULL, "operator",
                L("period=2026", ("rater=" SUP), ("ratee=" STAFF), "role=atasan")),
          "rating " ID1 ": a rating is written by its rater (" SUP "), not by 'operator'");
  refused(judge(KJ_T_RATING, L("period=2026", ("rater=" SUP), ("ratee=" STAFF), "role=atasan"),
                PEER, L("s1=1")),
          "a rating is written by its rater (" SUP "), not by '" PEER "'");
  /* not oneself */
  refused(judge(KJ_T_RATING, NULL, STAFF,
                L("period=2026", ("rater=" STAFF), ("ratee=" STAFF), "role=rekan")),
          "nobody rates themselves (" STAFF ")");
  /* atasan: the ratee's supervisor */
  refused(judge(KJ_T_RATING, NULL, PEER,
                L("period=2026", ("rater=" PEER), ("ratee=" STAFF), "role=atasan")),
          "an atasan rating is made by the ratee's supervisor (" SUP "), not by " PEER);
  /* bawahan: the rater's own supervisor */
  assert_int_equal(judge(KJ_T_RATING, NULL, STAFF,
                         L("period=2026", ("rater=" STAFF), ("ratee=" SUP), "role=bawahan")),
                   KJ_OK);
  refused(judge(KJ_T_RATING, NULL, STAFF,
                L("period=2026", ("rater=" STAFF), ("ratee=" HEAD), "role=bawahan")),
          "a bawahan rating rates the rater's own supervisor (" SUP "), not " HEAD);
  /* rekan: neither supervises the other */
  assert_int_equal(judge(KJ_T_RATING, NULL, STAFF,
                         L("period=2026", ("rater=" STAFF), ("ratee=" PEER), "role=rekan")),
                   KJ_OK);
  refused(judge(KJ_T_RATING, NULL, SUP,
                L("period=2026", ("rater=" SUP), ("ratee=" STAFF), "role=rekan")),
          "a rekan rating is between colleagues: " SUP " is the supervisor of " STAFF);
  refused(judge(KJ_T_RATING, NULL, STAFF,
                L("period=2026", ("rater=" STAFF), ("ratee=" SUP), "role=rekan")),
          "a rekan rating is between colleagues: " SUP " is the supervisor of " STAFF);
  /* one live rating per (period, rater, ratee) */
  g_ratings[0][0] = ID2;
  g_ratings[0][1] = "2026";
  g_ratings[0][2] = STAFF;
  g_ratings[0][3] = PEER;
  g_nratings = 1;
  refused(judge(KJ_T_RATING, NULL, STAFF,
                L("period=2026", ("rater=" STAFF), ("ratee=" PEER), "role=rekan")),
          STAFF " already rated " PEER " for 2026 in rating " ID2);
  assert_int_equal(judge(KJ_T_RATING, NULL, STAFF,
                         L("period=2026-Q1", ("rater=" STAFF), ("ratee=" PEER), "role=rekan")),
                   KJ_OK);
  g_ratings[0][0] = ID1; /* the rating itself is no other */
  assert_int_equal(judge(KJ_T_RATING,
                         L("period=2026", ("rater=" STAFF), ("ratee=" PEER), "role=rekan"), STAFF,
                         L("s1=5")),
                   KJ_OK);
  g_nratings = 0;
  /* an administrator may set any rating (people still on the roster) */
  assert_int_equal(judge(KJ_T_RATING, NULL, "admin",
                         L("period=2026", ("rater=" STAFF), ("ratee=" STAFF), "role=atasan")),
                   KJ_OK);
}

/* --- dates ---------------------------------------------------------------- */

static void t_dates(void **state) {
  (void)state;
  static const char *const u[] = {"service=KTP-el", "u1=4", "u2=4", "u3=4", "u4=4", "u5=4",
                                  "u6=4",           "u7=4", "u8=4", "u9=4", NULL};
  const char *s10[12], *s11[12];
  s10[0] = "date=2026-03-10";
  s11[0] = "date=2026-03-11";
  for (int i = 0; u[i]; i++)
    s10[i + 1] = s11[i + 1] = u[i];
  s10[11] = s11[11] = NULL;
  assert_int_equal(judge(KJ_T_SURVEY, NULL, "operator", s10), KJ_OK);
  refused(judge(KJ_T_SURVEY, NULL, "operator", s11),
          "survey " ID1 ": date 2026-03-11 is after the office's today (2026-03-10 in "
          "Asia/Jakarta)");
  /* the server's day of slack */
  assert_int_equal(judge_as(KJ_T_SURVEY, NULL, "operator", s11, 0, 1, 1), KJ_OK);
  /* today in the office's own zone: already the 11th in Makassar */
  const char *b11[13];
  b11[0] = "office=" OFF_B;
  for (int i = 0; i < 12; i++)
    b11[i + 1] = s11[i];
  assert_int_equal(judge(KJ_T_SURVEY, NULL, "operator", b11), KJ_OK);
  refused(judge(KJ_T_ACTIVITY, NULL, "operator",
                L(("nip=" STAFF), "date=2026-04-01", "indicator=DOC", "quantity=1")),
          "activity " ID1 ": date 2026-04-01 is after the office's today");
  refused(judge(KJ_T_COMPLAINT, NULL, "operator", L("received=2026-03-01", "resolved=2026-03-12")),
          "complaint " ID1 ": resolved 2026-03-12 is after the office's today");
  refused(judge(KJ_T_COMPLAINT, NULL, "admin", L("received=2026-03-12")),
          "received 2026-03-12 is after the office's today");
  /* a date the change leaves alone is not judged */
  assert_int_equal(judge(KJ_T_COMPLAINT, L("received=2026-03-12"), "operator", L("summary=x")),
                   KJ_OK);
  int off;
  const char *abbr;
  assert_int_equal(kj_zone("Asia/Jayapura", &off, &abbr), KJ_OK);
  assert_int_equal(off, 540);
  assert_int_equal(kj_zone(NULL, &off, &abbr), KJ_OK);
  assert_int_equal(off, 420);
}

/* --- sent for review again -------------------------------------------------- */

static void mkc(kj_change *c, const char *dev, kj_hlc hlc, const char *const *kv) {
  kj_change_init(c, KJ_T_ACTIVITY);
  snprintf(c->rec.id, sizeof c->rec.id, "%s", ID1);
  snprintf(c->device, sizeof c->device, "%s", dev);
  c->hlc = hlc;
  fill(&c->rec, &c->mask, kv);
}

static char *apply_all(kj_change *cs, const int *order, int n) {
  kj_rstate s;
  kj_rstate_init(&s, KJ_T_ACTIVITY);
  s.rec.type = KJ_T_NONE;
  for (int i = 0; i < n; i++) {
    int changed, settled;
    kj_err e;
    assert_int_equal(kj_merge_apply(&s, &cs[order[i]], NULL, NULL, &changed, &e), KJ_OK);
    assert_int_equal(kj_rules_settle(&s, &settled), KJ_OK);
  }
  cJSON *o = kj_rstate_to_json(&s);
  char *t = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  kj_rstate_release(&s);
  return t;
}

static void t_resubmit(void **state) {
  (void)state;
  kj_record before;
  kj_record_init(&before, KJ_T_ACTIVITY);
  fill(&before, NULL, L(("office=" OFF_A), APPROVED));
  kj_change c;
  mkc(&c, "dev-a", 1, L("quantity=9"));
  assert_int_equal(kj_rules_resubmits(&c, &before), 1);
  assert_int_equal(kj_rules_add_resubmit(&c), KJ_OK);
  assert_string_equal(kj_record_get(&c.rec, "status"), "submitted");
  int fr = kj_field_index(kj_type(KJ_T_ACTIVITY), "reviewed_by");
  assert_true((c.mask >> fr) & 1u);
  assert_null(c.rec.v[fr]);
  assert_int_equal(kj_rules_resubmits(&c, &before), 0); /* it writes status now */
  kj_change_release(&c);
  mkc(&c, "dev-a", 1, L("description=lagi"));
  assert_int_equal(kj_rules_resubmits(&c, &before), 1);
  kj_record_set(&before, kj_field_index(kj_type(KJ_T_ACTIVITY), "status"), "submitted");
  assert_int_equal(kj_rules_resubmits(&c, &before), 0);
  kj_change_release(&c);
  kj_record_release(&before);

  /* the server's settle: an approval and a newer edit, in either order */
  kj_change cs[4];
  mkc(&cs[0], "dev-a", KJ_HLC_MAKE(1000, 0), L(("office=" OFF_A), ACT_NEW(STAFF)));
  mkc(&cs[1], "dev-b", KJ_HLC_MAKE(2000, 0), L("status=approved", ("reviewed_by=" SUP)));
  mkc(&cs[2], "dev-c", KJ_HLC_MAKE(3000, 0), L("quantity=40"));
  mkc(&cs[3], "dev-b", KJ_HLC_MAKE(4000, 0), L("status=approved", ("reviewed_by=" SUP)));
  static const int o1[] = {0, 1, 2}, o2[] = {0, 2, 1}, o3[] = {2, 1, 0}, o4[] = {1, 0, 2};
  char *a = apply_all(cs, o1, 3);
  assert_non_null(strstr(a, "\"status\":\"submitted\""));
  assert_null(strstr(a, SUP)); /* reviewed_by cleared */
  assert_non_null(strstr(a, "\"quantity\":\"40\""));
  for (const int *o = o2; o; o = o == o2 ? o3 : o == o3 ? o4 : NULL) {
    char *b = apply_all(cs, o, 3);
    assert_string_equal(a, b);
    free(b);
  }
  free(a);
  /* an approval after the edit stands */
  static const int o5[] = {0, 1, 2, 3}, o6[] = {3, 2, 0, 1};
  a = apply_all(cs, o5, 4);
  assert_non_null(strstr(a, "\"status\":\"approved\""));
  char *b = apply_all(cs, o6, 4);
  assert_string_equal(a, b);
  free(a);
  free(b);
  for (int i = 0; i < 4; i++)
    kj_change_release(&cs[i]);
}

/* A delete by author of a record whose values are before. */
static kj_code judge_delete(kj_rtype t, const char *const *before, const char *author) {
  kj_change c;
  kj_record b;
  kj_change_init(&c, t);
  snprintf(c.rec.id, sizeof c.rec.id, "%s", ID1);
  snprintf(c.author, sizeof c.author, "%s", author);
  c.rec.deleted = 1;
  kj_record_init(&b, t);
  snprintf(b.id, sizeof b.id, "%s", ID1);
  static const char *const office[] = {("office=" OFF_A), NULL};
  fill(&b, NULL, office);
  fill(&b, NULL, before);
  kj_record a;
  assert_int_equal(kj_record_copy(&a, &b), KJ_OK);
  a.deleted = 1;
  kj_rules_ctx ctx = {.admin = !strcmp(author, "admin"),
                      .has_roster = 1,
                      .now_ms = NOW_MS,
                      .slack_days = 0,
                      .roster = &k_fake,
                      .why = &g_why,
                      .name = g_names ? f_name : NULL};
  kj_err e;
  kj_err_clear(&e);
  memset(&g_why, 0, sizeof g_why);
  kj_code rc = kj_rules_check(&c, &b, &a, &ctx, &e);
  snprintf(g_msg, sizeof g_msg, "%s", e.msg);
  if (rc == KJ_EINVAL)
    same_as_data(t, 1);
  kj_change_release(&c);
  kj_record_release(&b);
  kj_record_release(&a);
  return rc;
}

/* A delete undoes a decision only in the hands of who took it. */
static void t_deletes(void **state) {
  (void)state;
  /* an activity not yet decided: anyone at the office */
  assert_int_equal(judge_delete(KJ_T_ACTIVITY, L(ACT_NEW(STAFF), "status=submitted"), "operator"),
                   KJ_OK);
  /* approved: only its approver, or the BKD */
  refused(judge_delete(KJ_T_ACTIVITY, L(ACT_NEW(STAFF), "status=approved", ("reviewed_by=" SUP)),
                       "operator"),
          "activity " ID1 ": an activity that is approved is deleted only by its approver (" SUP
          "), not by 'operator'");
  refused(judge_delete(KJ_T_ACTIVITY, L(ACT_NEW(STAFF), "status=rejected", ("reviewed_by=" SUP)),
                       STAFF),
          "deleted only by its approver (" SUP "), not by '" STAFF "'");
  assert_int_equal(
      judge_delete(KJ_T_ACTIVITY, L(ACT_NEW(STAFF), "status=approved", ("reviewed_by=" SUP)), SUP),
      KJ_OK);
  assert_int_equal(judge_delete(KJ_T_ACTIVITY,
                                L(ACT_NEW(STAFF), "status=approved", ("reviewed_by=" SUP)),
                                "admin"),
                   KJ_OK);
  refused(judge_delete(KJ_T_ACTIVITY, L(ACT_NEW(HEAD), "status=approved"), SUP),
          "is deleted at the BKD (" HEAD " has no supervisor)");
  /* a rating: only its rater */
  refused(judge_delete(KJ_T_RATING,
                       L("period=2026", ("rater=" SUP), ("ratee=" STAFF), "role=atasan", SCORES),
                       "operator"),
          "rating " ID1 ": a rating is deleted by its rater (" SUP "), not by 'operator'");
  assert_int_equal(
      judge_delete(KJ_T_RATING,
                   L("period=2026", ("rater=" SUP), ("ratee=" STAFF), "role=atasan", SCORES), SUP),
      KJ_OK);
  /* surveys, complaints, targets: the office's operator */
  assert_int_equal(judge_delete(KJ_T_TARGET,
                                L(("nip=" STAFF), "indicator=DOC", "period=2026", "target=10"),
                                "operator"),
                   KJ_OK);
}

/* --- a complaint says what it is about ------------------------------------ */

static void t_complaints(void **state) {
  (void)state;
  /* a new one without a summary, by the operator (the office app, kinerja add) */
  refused(judge(KJ_T_COMPLAINT, NULL, "operator", L("received=2026-03-01", "channel=surat")),
          "complaint " ID1 ": field 'summary': is required");
  assert_int_equal(
      judge(KJ_T_COMPLAINT, NULL, "operator", L("received=2026-03-01", "summary=lampu jalan mati")),
      KJ_OK);
  /* an edit that clears it */
  refused(judge(KJ_T_COMPLAINT, L("received=2026-03-01", "summary=x"), "operator", L("summary=")),
          "field 'summary'");
  /* one stored without it (older data) can still be resolved */
  assert_int_equal(judge(KJ_T_COMPLAINT, L("received=2026-03-01"), "operator",
                         L("resolved=2026-03-02", "resolution=diperbaiki")),
                   KJ_OK);
  /* the BKD's own writes (kinerjad import, admin tokens) are not held to it */
  assert_int_equal(judge(KJ_T_COMPLAINT, NULL, "admin", L("received=2026-03-01")), KJ_OK);
}

/* At a PC the refusal names the people it knows (kj_rules_ctx.name), the
 * data keeps their NIPs, and names too long for the message leave the
 * NIPs alone. */
static void t_named(void **state) {
  (void)state;
  g_names = 1;
  refused(judge(KJ_T_ACTIVITY, L(SUBMITTED), PEER, L("status=approved", ("reviewed_by=" PEER))),
          "activity " ID1 ": only the supervisor of Siti Aminah (" STAFF
          ") approves their activities: Budi Santoso (" SUP ")");
  assert_string_equal(g_why.code, "not_supervisor");
  assert_int_equal(g_why.nargs, 2);
  assert_string_equal(g_why.args[0], STAFF);
  assert_string_equal(g_why.args[1], SUP);
  /* inside the message's parentheses: "Name, NIP" */
  refused(judge(KJ_T_ACTIVITY, L(ACT_NEW(SUP), "status=submitted"), SUP,
                L("status=approved", ("reviewed_by=" SUP))),
          "nobody approves their own activity (Budi Santoso, " SUP ")");
  /* a NIP the roster has no name for stays as it is */
  refused(judge(KJ_T_RATING, NULL, PEER,
                L("period=2026", ("rater=" PEER), ("ratee=" STAFF), "role=atasan")),
          "made by the ratee's supervisor (Budi Santoso, " SUP "), not by " PEER);
  g_long_names = 1;
  refused(judge(KJ_T_ACTIVITY, L(SUBMITTED), PEER, L("status=approved", ("reviewed_by=" PEER))),
          "activity " ID1 ": only the supervisor of " STAFF " (" SUP ") approves their activities");
  g_long_names = 0;
  g_names = 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(t_roster),  cmocka_unit_test(t_approval),   cmocka_unit_test(t_decided),
      cmocka_unit_test(t_ratings), cmocka_unit_test(t_dates),      cmocka_unit_test(t_resubmit),
      cmocka_unit_test(t_deletes), cmocka_unit_test(t_complaints), cmocka_unit_test(t_named),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
