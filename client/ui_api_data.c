/* ui_api_data.c - the office app's pages Penilaian Perilaku, Target
 * Kinerja and Impor & Ekspor: their JSON API (ui_int.h).
 *
 * Routes (signed in; every POST with the session's CSRF token):
 *   GET  /api/ratings?period=&nip=&role=&from=&to=  the ratings the
 *        person gave (newest first, names beside NIPs; nip: the ratee, also
 *        as ratee=; from/to: the period overlaps them), whom they may rate
 *        with the role the roster gives (employee, supervisor), and
 *        `people`, everyone they rated or may rate (the person filter)
 *   POST /api/ratings {period, ratee, role?, s1..s7, comment?}  a rating by
 *        the signed-in person (the rater and author); the operator never rates
 *   GET  /api/targets?period=&nip=&from=&to=  targets: the employee their
 *        own, a supervisor their own and their team's, the operator the
 *        office's (from/to: the period overlaps them); with realisasi and
 *        capaian from the scores the server sent; newest period and date
 *        entered first, then by name, nip, indicator and id
 *   POST /api/targets {nip, indicator, period, target, weight?}  the
 *        operator for anyone of the office, a supervisor for their team
 *   POST /api/import {type, name, csv, again?}  (operator) the CSV text
 *        through kjc_import (client/import.c, as `kinerja import`): counts
 *        and every problem against its line
 *   GET  /api/export?type=&format=csv|xlsx&period=  (operator) the office's
 *        live records of a type as a file (proto/table.c, as `kinerjad export`)
 * The rules (domain.md "Who may write what") are the store's
 * (kjc_store_write -> proto/rules.c): a rater is not the ratee, atasan /
 * bawahan / rekan follow the roster, one live rating per period, rater
 * and ratee; what is refused comes back with the rule's message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "hlc.h"
#include "i18n.h"
#include "import.h"
#include "person.h"
#include "rules.h"
#include "sync.h"
#include "table.h"
#include "ui_int.h"
#include "uuid.h"

/* The seven BerAKHLAK values, s1..s7 of a rating (domain.md "Records"). */
static const char *const k_aspects[] = {"Berorientasi Pelayanan",
                                        "Akuntabel",
                                        "Kompeten",
                                        "Harmonis",
                                        "Loyal",
                                        "Adaptif",
                                        "Kolaboratif"};

static const char *jstr(const cJSON *o, const char *name) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The change's author: the signed-in person (a NIP or "operator"). */
static void set_author(kj_change *c, const char *user) {
  size_t n = strlen(user);
  if (n >= sizeof c->author)
    n = sizeof c->author - 1;
  memcpy(c->author, user, n);
  c->author[n] = 0;
}

static const char *name_of(const cJSON *names, const char *nip) {
  const cJSON *n = nip ? cJSON_GetObjectItemCaseSensitive(names, nip) : NULL;
  return cJSON_IsString(n) ? n->valuestring : "";
}

/* The office day ("YYYY-MM-DD") the record was last written: its newest
 * field stamp (HLC ms) in the office's time zone; "" when never. */
static void entered_day(kjc_store *s, const kj_rstate *st, char out[11]) {
  kj_hlc top = 0;
  for (int i = 0; i < KJ_MAX_FIELDS; i++)
    if (st->st[i].hlc > top)
      top = st->st[i].hlc;
  out[0] = 0;
  if (!top)
    return;
  char t[64];
  kjc_office_time(s, (int64_t)KJ_HLC_MS(top), t, sizeof t);
  memcpy(out, t, 10);
  out[10] = 0;
}

/* Newest first: "date" descending, then "id" descending (UUID v7: time). */
static int newest_first(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  const char *kx = jstr(x, "sort"), *ky = jstr(y, "sort");
  int c = strcmp(ky ? ky : "", kx ? kx : "");
  if (c)
    return c;
  const char *ix = jstr(x, "id"), *iy = jstr(y, "id");
  return strcmp(iy ? iy : "", ix ? ix : "");
}

/* arr sorted by cmp (over two cJSON **), each item's "sort" key removed. */
static cJSON *sort_items(cJSON *arr, int (*cmp)(const void *, const void *)) {
  int n = cJSON_GetArraySize(arr);
  cJSON **v = calloc((size_t)n + 1, sizeof(cJSON *)); /* NOLINT(bugprone-sizeof-expression) */
  if (!v)
    return arr;
  int i = 0;
  while (arr->child)
    v[i++] = cJSON_DetachItemViaPointer(arr, arr->child);
  qsort(v, (size_t)n, sizeof(cJSON *), cmp); /* NOLINT(bugprone-sizeof-expression) */
  for (i = 0; i < n; i++) {
    cJSON_DeleteItemFromObjectCaseSensitive(v[i], "sort");
    cJSON_AddItemToArray(arr, v[i]);
  }
  free(v);
  return arr;
}

/* arr sorted by each item's "sort" key (removed), newest first. */
static cJSON *sort_newest(cJSON *arr) {
  return sort_items(arr, newest_first);
}

static int jcmp(const cJSON *x, const cJSON *y, const char *key) {
  const char *a = jstr(x, key), *b = jstr(y, key);
  return strcmp(a ? a : "", b ? b : "");
}

/* Targets: newest period, then newest date first ("sort": "PERIOD DAY",
 * descending), then a key that stays put whoever entered them when: the
 * employee's name, nip, the indicator, the id. */
static int targets_order(const void *a, const void *b) {
  const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
  int c = jcmp(y, x, "sort");
  if (!c)
    c = jcmp(x, y, "name");
  if (!c)
    c = jcmp(x, y, "nip");
  if (!c)
    c = jcmp(x, y, "indicator");
  return c ? c : jcmp(x, y, "id");
}

/* ---- the roster with supervisors ------------------------------------- */

typedef struct people_q {
  const char *office;
  cJSON *people; /* {nip: {"name", "supervisor"}} */
} people_q;

static int people_row(void *ud, const kj_rstate *st, const char *reason) {
  (void)reason;
  people_q *q = ud;
  const char *of = kj_record_get(&st->rec, "office");
  if (!of || strcmp(of, q->office) != 0)
    return 0;
  const char *name = kj_record_get(&st->rec, "name"), *sup = kj_record_get(&st->rec, "supervisor");
  cJSON *p = cJSON_AddObjectToObject(q->people, st->rec.id);
  if (p) {
    cJSON_AddStringToObject(p, "name", name ? name : "");
    cJSON_AddStringToObject(p, "supervisor", sup ? sup : "");
  }
  return 0;
}

static cJSON *people(kjc_store *s) {
  people_q q = {kjc_store_office(s), cJSON_CreateObject()};
  kj_err err;
  kjc_store_each(s, KJ_T_EMPLOYEE, 0, people_row, &q, &err);
  return q.people;
}

/* The role rater has towards ratee by the roster (domain.md "Ratings"):
 * "atasan" (rater supervises ratee), "bawahan" (ratee supervises rater),
 * "rekan" (both on the roster, neither supervises the other); NULL for
 * themselves or someone not on the roster. */
static const char *role_towards(const cJSON *ppl, const char *rater, const char *ratee) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(ppl, rater);
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(ppl, ratee);
  if (!b || !strcmp(rater, ratee))
    return NULL;
  const char *bsup = jstr(b, "supervisor"), *asup = a ? jstr(a, "supervisor") : NULL;
  if (bsup && !strcmp(bsup, rater))
    return "atasan";
  if (asup && !strcmp(asup, ratee))
    return "bawahan";
  return a ? "rekan" : NULL;
}

/* ---- Penilaian Perilaku ------------------------------------------------ */

typedef struct rating_q {
  kjc_store *s;
  const char *rater, *period, *ratee, *role;
  const kj_period *range; /* from/to: the rating's period overlaps it (NULL: any) */
  const cJSON *ppl;
  cJSON *arr;
  cJSON *rated; /* {nip: name} of everyone the rater rated (the person filter) */
} rating_q;

static int rating_row(void *ud, const kj_rstate *st, const char *reason) {
  rating_q *q = ud;
  const kj_record *r = &st->rec;
  const char *rater = kj_record_get(r, "rater"), *ratee = kj_record_get(r, "ratee");
  const char *period = kj_record_get(r, "period"), *role = kj_record_get(r, "role");
  const char *of = kj_record_get(r, "office");
  if (!rater || strcmp(rater, q->rater) != 0 || !of || strcmp(of, kjc_store_office(q->s)) != 0)
    return 0;
  if (ratee && !cJSON_GetObjectItemCaseSensitive(q->rated, ratee)) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(q->ppl, ratee);
    cJSON_AddStringToObject(q->rated, ratee, p ? jstr(p, "name") : "");
  }
  if ((q->period[0] && !(period && !strcmp(period, q->period))) ||
      (q->ratee[0] && !(ratee && !strcmp(ratee, q->ratee))) ||
      (q->role[0] && !(role && !strcmp(role, q->role))) ||
      (q->range && !kj_table_in_period(kj_type(KJ_T_RATING), r, q->range)))
    return 0;
  cJSON *o = cJSON_CreateObject();
  char day[11];
  entered_day(q->s, st, day);
  cJSON_AddStringToObject(o, "id", r->id);
  cJSON_AddStringToObject(o, "date", day);
  char sort[64];
  snprintf(sort, sizeof sort, "%s", day);
  cJSON_AddStringToObject(o, "sort", sort);
  cJSON_AddStringToObject(o, "period", period ? period : "");
  cJSON_AddStringToObject(o, "ratee", ratee ? ratee : "");
  const cJSON *p = ratee ? cJSON_GetObjectItemCaseSensitive(q->ppl, ratee) : NULL;
  cJSON_AddStringToObject(o, "ratee_name", p ? jstr(p, "name") : "");
  cJSON_AddStringToObject(o, "role", role ? role : "");
  cJSON *sc = cJSON_AddArrayToObject(o, "scores");
  double sum = 0;
  for (int i = 1; i <= 7; i++) {
    char f[4];
    snprintf(f, sizeof f, "s%d", i);
    const char *v = kj_record_get(r, f);
    int n = v ? atoi(v) : 0;
    sum += n;
    cJSON_AddItemToArray(sc, cJSON_CreateNumber(n));
  }
  cJSON_AddNumberToObject(o, "score", sum / 7.0); /* the rating's score: the mean of s1..s7 */
  const char *comment = kj_record_get(r, "comment");
  if (comment)
    cJSON_AddStringToObject(o, "comment", comment);
  char said[1024]; /* the server's reason: a rule's in the page's language */
  if (reason)
    cJSON_AddStringToObject(o, "rejected_reason",
                            kj_refusal_reason(reason, said, sizeof said, NULL));
  cJSON_AddItemToArray(q->arr, o);
  return 0;
}

static void ratings_get(kjc_ui *ui, const kjh_session *ss, const kjh_request *req,
                        kjh_response *resp) {
  kjc_store *s = kjc_ui_store(ui);
  char period[16] = "", ratee[32] = "", role[16] = "";
  kj_period range;
  int ranged = 0;
  if (kjc_ui_date_range(req, &range, &ranged, resp))
    return;
  kjh_query_get(req->query, "period", period, sizeof period);
  /* the person: nip= as the other lists name it (ratee= as before) */
  kjh_query_get(req->query, "nip", ratee, sizeof ratee);
  if (!ratee[0])
    kjh_query_get(req->query, "ratee", ratee, sizeof ratee);
  kjh_query_get(req->query, "role", role, sizeof role);
  cJSON *ppl = people(s);
  rating_q q = {s,
                ss->user,
                period,
                ratee,
                role,
                ranged ? &range : NULL,
                ppl,
                cJSON_CreateArray(),
                cJSON_CreateObject()};
  kj_err err;
  kj_err_clear(&err);
  if (kjc_store_each(s, KJ_T_RATING, 0, rating_row, &q, &err)) {
    cJSON_Delete(ppl);
    cJSON_Delete(q.arr);
    cJSON_Delete(q.rated);
    kjc_ui_reply_err(resp, 500, err.msg, "");
    return;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "ratings", sort_newest(q.arr));
  cJSON *choices = cJSON_AddArrayToObject(o, "choices");
  for (const cJSON *p = ppl->child; p; p = p->next) {
    const char *r = role_towards(ppl, ss->user, p->string);
    if (r && !cJSON_GetObjectItemCaseSensitive(q.rated, p->string))
      cJSON_AddStringToObject(q.rated, p->string, jstr(p, "name"));
    if (!r)
      continue;
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "nip", p->string);
    cJSON_AddStringToObject(c, "name", jstr(p, "name"));
    cJSON_AddStringToObject(c, "role", r);
    cJSON_AddItemToArray(choices, c);
  }
  cJSON_AddItemToObject(o, "people", q.rated); /* whom the person filter offers */
  cJSON *asp = cJSON_AddArrayToObject(o, "aspects");
  for (int i = 0; i < 7; i++)
    cJSON_AddItemToArray(asp, cJSON_CreateString(k_aspects[i]));
  cJSON_Delete(ppl);
  kjc_ui_reply(resp, 200, o);
}

static const char *const k_rating_fields[] = {"period", "ratee", "role", "s1", "s2",      "s3",
                                              "s4",     "s5",    "s6",   "s7", "comment", NULL};

typedef struct given_q {
  kjc_store *s;
  const char *rater, *ratee, *period;
  char day[11]; /* the day the rating found was written ("" none found) */
  int found;
} given_q;

static int given_row(void *ud, const kj_rstate *st, const char *reason) {
  (void)reason;
  given_q *q = ud;
  const char *rater = kj_record_get(&st->rec, "rater"), *ratee = kj_record_get(&st->rec, "ratee");
  const char *period = kj_record_get(&st->rec, "period");
  if (q->found || !rater || !ratee || !period || strcmp(rater, q->rater) != 0 ||
      strcmp(ratee, q->ratee) != 0 || strcmp(period, q->period) != 0)
    return 0;
  q->found = 1;
  entered_day(q->s, st, q->day);
  return 0;
}

/* Refuse, before the store's rules do, what they would refuse naming
 * UUIDs and NIPs (proto/rules.c check_rating): a second rating of the
 * same person for the same period, or a role the roster does not give.
 * Here the people are named by name and the message says what to do.
 * 1 when resp was answered (400, the field named), 0 to go on. */
static int rating_refused(kjc_store *s, const char *rater, const cJSON *body, const cJSON *ppl,
                          kjh_response *resp) {
  const char *ratee = jstr(body, "ratee"), *period = jstr(body, "period");
  const char *role = jstr(body, "role");
  if (!ratee || !ratee[0])
    return 0;
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(ppl, ratee);
  const char *pn = p ? jstr(p, "name") : NULL;
  const char *name = pn && pn[0] ? pn : ratee;
  char msg[512];
  const char *field = NULL;
  const char *by_roster = role_towards(ppl, rater, ratee);
  if (role && role[0] && by_roster && strcmp(role, by_roster) != 0) {
    snprintf(msg, sizeof msg,
             _("field 'role': by the office's roster you rate %s as %s, not as %s: choose "
               "%s again in the list and the role follows"),
             name, by_roster, role, name);
    field = "role";
  } else if (period && period[0]) {
    given_q q = {s, rater, ratee, period, "", 0};
    kj_err err;
    kjc_store_each(s, KJ_T_RATING, 0, given_row, &q, &err);
    if (q.found) {
      snprintf(msg, sizeof msg,
               _("field 'ratee': you already rated %s for %s (on %s): one rating per person "
                 "and period. Choose another person or period; your rating is in the list "
                 "below"),
               name, period, q.day);
      field = "ratee";
    }
  }
  if (!field)
    return 0;
  cJSON *o = cJSON_CreateObject(), *errors = cJSON_AddArrayToObject(o, "errors");
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "field", field);
  cJSON_AddStringToObject(e, "message", msg);
  cJSON_AddItemToArray(errors, e);
  cJSON_AddStringToObject(o, "error", msg);
  cJSON_AddStringToObject(o, "field", field);
  kjc_ui_reply(resp, 400, o);
  return 1;
}

static void ratings_post(kjc_ui *ui, const kjh_session *ss, const cJSON *body, kjh_response *resp) {
  kjc_store *s = kjc_ui_store(ui);
  {
    cJSON *ppl = people(s);
    int refused = rating_refused(s, ss->user, body, ppl, resp);
    cJSON_Delete(ppl);
    if (refused)
      return;
  }
  kj_change c;
  kj_change_init(&c, KJ_T_RATING);
  set_author(&c, ss->user);
  const kj_type_def *t = kj_type(KJ_T_RATING);
  int fr = kj_field_index(t, "rater"), fo = kj_field_index(t, "role");
  kj_record_set(&c.rec, fr, ss->user);
  c.mask |= 1u << fr;
  /* no role given: the one the roster gives (the rules judge either way) */
  const char *ratee = jstr(body, "ratee"), *role = jstr(body, "role");
  if ((!role || !role[0]) && ratee) {
    cJSON *ppl = people(s);
    const char *r = role_towards(ppl, ss->user, ratee);
    if (r) {
      kj_record_set(&c.rec, fo, r);
      c.mask |= 1u << fo;
    }
    cJSON_Delete(ppl);
  }
  kjc_ui_write_form(ui, &c, body, k_rating_fields, resp);
  kj_change_release(&c);
}

/* ---- Target Kinerja ---------------------------------------------------- */

typedef struct target_q {
  kjc_store *s;
  const char *period, *nip;
  const kj_period *range; /* from/to: the target's period overlaps it (NULL: any) */
  const cJSON *allowed;   /* {nip: name} whose targets are shown */
  cJSON *indicators;      /* {id: {"name", "unit"}} */
  cJSON *arr;
} target_q;

static int target_row(void *ud, const kj_rstate *st, const char *reason) {
  target_q *q = ud;
  const kj_record *r = &st->rec;
  const char *nip = kj_record_get(r, "nip"), *period = kj_record_get(r, "period");
  const char *of = kj_record_get(r, "office");
  if (!nip || !cJSON_GetObjectItemCaseSensitive(q->allowed, nip) || !of ||
      strcmp(of, kjc_store_office(q->s)) != 0)
    return 0;
  if ((q->period[0] && !(period && !strcmp(period, q->period))) ||
      (q->nip[0] && strcmp(nip, q->nip) != 0) ||
      (q->range && !kj_table_in_period(kj_type(KJ_T_TARGET), r, q->range)))
    return 0;
  cJSON *o = cJSON_CreateObject();
  char day[11];
  entered_day(q->s, st, day);
  cJSON_AddStringToObject(o, "id", r->id);
  cJSON_AddStringToObject(o, "date", day);
  char sort[40];
  snprintf(sort, sizeof sort, "%s %s", period ? period : "", day); /* by period, then entry */
  cJSON_AddStringToObject(o, "sort", sort);
  cJSON_AddStringToObject(o, "nip", nip);
  cJSON_AddStringToObject(o, "name", name_of(q->allowed, nip));
  const char *ind = kj_record_get(r, "indicator");
  cJSON_AddStringToObject(o, "indicator", ind ? ind : "");
  const cJSON *id = ind ? cJSON_GetObjectItemCaseSensitive(q->indicators, ind) : NULL;
  cJSON_AddStringToObject(o, "indicator_name", id ? jstr(id, "name") : "");
  cJSON_AddStringToObject(o, "unit", id ? jstr(id, "unit") : "");
  cJSON_AddStringToObject(o, "period", period ? period : "");
  const char *tv = kj_record_get(r, "target"), *wv = kj_record_get(r, "weight");
  cJSON_AddNumberToObject(o, "target", tv ? strtod(tv, NULL) : 0);
  cJSON_AddNumberToObject(o, "weight", wv ? strtod(wv, NULL) : 1);
  char said[1024]; /* the server's reason: a rule's in the page's language */
  if (reason)
    cJSON_AddStringToObject(o, "rejected_reason",
                            kj_refusal_reason(reason, said, sizeof said, NULL));
  cJSON_AddItemToArray(q->arr, o);
  return 0;
}

static int indicator_row(void *ud, const kj_rstate *st, const char *reason) {
  (void)reason;
  cJSON *p = cJSON_AddObjectToObject(ud, st->rec.id);
  const char *name = kj_record_get(&st->rec, "name"), *unit = kj_record_get(&st->rec, "unit");
  if (p) {
    cJSON_AddStringToObject(p, "name", name ? name : st->rec.id);
    cJSON_AddStringToObject(p, "unit", unit ? unit : "");
  }
  return 0;
}

/* Realisasi and capaian of each target from the scores the server sent for
 * its period (kjc_scores_get; the server computes them, docs/scoring.md):
 * the employee's entry for the indicator, else none (not yet scored). */
static void add_capaian(kjc_store *s, cJSON *targets) {
  cJSON *docs = cJSON_CreateObject(); /* {period: parsed doc or null} */
  for (cJSON *t = targets->child; t; t = t->next) {
    const char *period = jstr(t, "period"), *nip = jstr(t, "nip"), *ind = jstr(t, "indicator");
    if (!period || !period[0])
      continue;
    cJSON *doc = cJSON_GetObjectItemCaseSensitive(docs, period);
    if (!doc) {
      char *text = NULL;
      kj_err err;
      kj_err_clear(&err);
      kjc_scores_get(s, KJC_SCORES_KIND, period, kjc_store_office(s), &text, NULL, &err);
      doc = text ? cJSON_Parse(text) : NULL;
      free(text);
      if (!doc)
        doc = cJSON_CreateNull();
      cJSON_AddItemToObject(docs, period, doc);
    }
    const cJSON *emps = cJSON_GetObjectItemCaseSensitive(doc, "employees");
    for (const cJSON *e = emps ? emps->child : NULL; e; e = e->next) {
      if (!jstr(e, "nip") || strcmp(jstr(e, "nip"), nip) != 0)
        continue;
      const cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "targets");
      for (const cJSON *x = ts ? ts->child : NULL; x; x = x->next) {
        if (!jstr(x, "indicator") || strcmp(jstr(x, "indicator"), ind) != 0)
          continue;
        cJSON_AddItemToObject(t, "realisasi",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(x, "realisasi"), 1));
        cJSON_AddItemToObject(t, "capaian",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(x, "capaian"), 1));
      }
    }
  }
  cJSON_Delete(docs);
}

/* {nip: name} of the people whose targets ss sees: the operator all of the
 * office, a supervisor themself and their team, an employee themself. */
static cJSON *target_scope(kjc_store *s, const kjh_session *ss) {
  if (!strcmp(ss->role, "operator"))
    return kjc_ui_roster(s, NULL, NULL);
  cJSON *all = kjc_ui_roster(s, NULL, NULL);
  cJSON *mine =
      !strcmp(ss->role, "supervisor") ? kjc_ui_roster(s, ss->user, NULL) : cJSON_CreateObject();
  if (!cJSON_GetObjectItemCaseSensitive(mine, ss->user))
    cJSON_AddStringToObject(mine, ss->user, name_of(all, ss->user));
  cJSON_Delete(all);
  return mine;
}

/* {nip: name} of the people ss enters targets for: the operator the office,
 * a supervisor their team (never themself), an employee nobody. */
static cJSON *target_writers_scope(kjc_store *s, const kjh_session *ss) {
  if (!strcmp(ss->role, "operator"))
    return kjc_ui_roster(s, NULL, NULL);
  if (!strcmp(ss->role, "supervisor"))
    return kjc_ui_roster(s, ss->user, NULL);
  return cJSON_CreateObject();
}

static void targets_get(kjc_ui *ui, const kjh_session *ss, const kjh_request *req,
                        kjh_response *resp) {
  kjc_store *s = kjc_ui_store(ui);
  char period[16] = "", nip[32] = "";
  kj_period range;
  int ranged = 0;
  if (kjc_ui_date_range(req, &range, &ranged, resp))
    return;
  kjh_query_get(req->query, "period", period, sizeof period);
  kjh_query_get(req->query, "nip", nip, sizeof nip);
  cJSON *scope = target_scope(s, ss);
  target_q q = {
      s, period, nip, ranged ? &range : NULL, scope, cJSON_CreateObject(), cJSON_CreateArray()};
  kj_err err;
  kj_err_clear(&err);
  kjc_store_each(s, KJ_T_INDICATOR, 0, indicator_row, q.indicators, &err);
  if (kjc_store_each(s, KJ_T_TARGET, 0, target_row, &q, &err)) {
    cJSON_Delete(scope);
    cJSON_Delete(q.indicators);
    cJSON_Delete(q.arr);
    kjc_ui_reply_err(resp, 500, err.msg, "");
    return;
  }
  cJSON_Delete(q.indicators);
  sort_items(q.arr, targets_order);
  add_capaian(s, q.arr);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "targets", q.arr);
  cJSON_AddItemToObject(o, "people", scope);
  cJSON_AddItemToObject(o, "can_enter", target_writers_scope(s, ss));
  kjc_ui_reply(resp, 200, o);
}

static const char *const k_target_fields[] = {"nip",    "indicator", "period",
                                              "target", "weight",    NULL};

static void targets_post(kjc_ui *ui, const kjh_session *ss, const cJSON *body, kjh_response *resp) {
  kjc_store *s = kjc_ui_store(ui);
  const char *nip = jstr(body, "nip");
  cJSON *may = target_writers_scope(s, ss);
  int ok = nip && cJSON_GetObjectItemCaseSensitive(may, nip);
  cJSON_Delete(may);
  if (!ok) {
    char msg[160];
    if (!strcmp(ss->role, "employee"))
      snprintf(msg, sizeof msg, "%s",
               _("field 'nip': targets are entered by the operator or your supervisor"));
    else
      snprintf(msg, sizeof msg,
               !strcmp(ss->role, "supervisor")
                   ? _("field 'nip': '%s' is not someone you supervise")
                   : _("field 'nip': '%s' is not on the office's roster"),
               nip ? nip : "");
    cJSON *o = cJSON_CreateObject(), *errors = cJSON_AddArrayToObject(o, "errors");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "field", "nip");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddItemToArray(errors, e);
    cJSON_AddStringToObject(o, "error", msg);
    kjc_ui_reply(resp, 403, o);
    return;
  }
  kj_change c;
  kj_change_init(&c, KJ_T_TARGET);
  set_author(&c, ss->user);
  kjc_ui_write_form(ui, &c, body, k_target_fields, resp);
  kj_change_release(&c);
}

/* ---- Impor & Ekspor ------------------------------------------------------ */

/* The office record types the operator imports (ratings are their rater's:
 * Penilaian Perilaku). */
static const kj_type_def *import_type(const char *name) {
  const kj_type_def *t = name ? kj_type_by_name(name) : NULL;
  if (!t || t->office_field < 0 || t->type == KJ_T_RATING)
    return NULL;
  return t;
}

typedef struct line_q {
  cJSON *lines; /* [{line, errors: [...], warnings: [...]}], in line order */
} line_q;

static void import_line(void *ud, long line, const char *msg, int warning) {
  line_q *q = ud;
  cJSON *last = cJSON_GetArrayItem(q->lines, cJSON_GetArraySize(q->lines) - 1);
  const cJSON *ln = last ? cJSON_GetObjectItemCaseSensitive(last, "line") : NULL;
  if (!ln || (long)ln->valuedouble != line) {
    last = cJSON_CreateObject();
    cJSON_AddNumberToObject(last, "line", (double)line);
    cJSON_AddArrayToObject(last, "errors");
    cJSON_AddArrayToObject(last, "warnings");
    cJSON_AddItemToArray(q->lines, last);
  }
  cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(last, warning ? "warnings" : "errors"),
                       cJSON_CreateString(msg));
}

static void import_post(kjc_ui *ui, const cJSON *body, kjh_response *resp) {
  kjc_store *s = kjc_ui_store(ui);
  const char *type = jstr(body, "type"), *csv = jstr(body, "csv"), *name = jstr(body, "name");
  const kj_type_def *t = import_type(type);
  if (!t) {
    kjc_ui_reply_err(resp, 400,
                     _("type: survey, activity, complaint or target (ratings are entered by "
                       "their rater on Penilaian Perilaku)"),
                     "type");
    return;
  }
  if (!csv || !csv[0]) {
    kjc_ui_reply_err(resp, 400, _("choose a CSV file"), "file");
    return;
  }
  char fname[128];
  snprintf(fname, sizeof fname, "%s", name && name[0] ? name : "upload.csv");
  for (char *p = fname; *p; p++) /* the name is shown and kept: no control bytes */
    if ((unsigned char)*p < 0x20)
      *p = '_';
  FILE *f = tmpfile(); /* kjc_import reads twice: a seekable file */
  if (!f || fwrite(csv, 1, strlen(csv), f) != strlen(csv) || fseek(f, 0, SEEK_SET) != 0) {
    char msg[160];
    snprintf(msg, sizeof msg, _("cannot keep the file for the import: %s"), strerror(errno));
    if (f)
      fclose(f);
    kjc_ui_reply_err(resp, 500, msg, "");
    return;
  }
  line_q q = {cJSON_CreateArray()};
  kjc_import_opts o = {.strict = 0,
                       .again = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "again")),
                       .author = "operator",
                       .line = import_line,
                       .ud = &q};
  kjc_import_result res;
  kj_err err;
  kj_err_clear(&err);
  kj_code c = kjc_import(s, t, f, fname, &o, &res, &err);
  fclose(f);
  if (c) {
    cJSON_Delete(q.lines);
    kjc_ui_reply_err(resp, c == KJ_EINVAL || c == KJ_ETOOBIG ? 400 : 500, err.msg, "file");
    return;
  }
  cJSON *a = cJSON_CreateObject();
  cJSON_AddStringToObject(a, "type", t->name);
  cJSON_AddStringToObject(a, "name", fname);
  cJSON_AddStringToObject(a, "read_as", res.read_as);
  cJSON_AddNumberToObject(a, "created", (double)res.created);
  cJSON_AddNumberToObject(a, "updated", (double)res.updated);
  cJSON_AddNumberToObject(a, "unchanged", (double)res.unchanged);
  cJSON_AddNumberToObject(a, "bad", (double)res.bad);
  cJSON_AddBoolToObject(a, "stored", res.stored);
  if (res.seen_before) {
    char when[64];
    kjc_office_time(s, res.before_ms, when, sizeof when);
    cJSON *b = cJSON_AddObjectToObject(a, "seen_before");
    cJSON_AddStringToObject(b, "when", when);
    cJSON_AddStringToObject(b, "file", res.before_file);
  }
  cJSON_AddItemToObject(a, "lines", q.lines);
  kjc_ui_reply(resp, 200, a);
}

typedef struct export_q {
  kjc_store *s;
  const kj_type_def *t;
  int use_period;
  kj_period period;
  kj_table *tb;
  kj_err err;
  kj_code fail;
} export_q;

static int export_row(void *ud, const kj_rstate *st, const char *reason) {
  (void)reason;
  export_q *q = ud;
  const char *of = kj_record_office(&st->rec);
  if (!of || strcmp(of, kjc_store_office(q->s)) != 0)
    return 0;
  if (q->use_period && !kj_table_in_period(q->t, &st->rec, &q->period))
    return 0;
  q->fail = kj_table_add(q->tb, &st->rec, &q->err);
  return q->fail ? 1 : 0;
}

/* Read file f from its start into b. */
static kj_code slurp(FILE *f, kj_buf *b) {
  if (fseek(f, 0, SEEK_SET) != 0)
    return KJ_EIO;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (kj_buf_add(b, chunk, n))
      return KJ_ETOOBIG;
  return ferror(f) ? KJ_EIO : KJ_OK;
}

static void export_get(kjc_ui *ui, const kjh_request *req, kjh_response *resp) {
  kjc_store *s = kjc_ui_store(ui);
  char type[32] = "", format[8] = "csv", period[16] = "";
  kjh_query_get(req->query, "type", type, sizeof type);
  kjh_query_get(req->query, "format", format, sizeof format);
  kjh_query_get(req->query, "period", period, sizeof period);
  export_q q;
  memset(&q, 0, sizeof q);
  q.s = s;
  q.t = kj_type_by_name(type);
  if (!q.t || q.t->office_field < 0) {
    kjc_ui_reply_err(resp, 400, _("type: survey, activity, complaint, rating or target"), "type");
    return;
  }
  kj_table_format fmt;
  if (kj_table_format_parse(format, &fmt)) {
    kjc_ui_reply_err(resp, 400, _("format: csv or xlsx"), "format");
    return;
  }
  if (period[0]) {
    if (kj_period_parse(period, &q.period)) {
      kjc_ui_reply_err(resp, 400,
                       _("period: a year (2026), a quarter (2026-Q3) or a month (2026-09)"),
                       "period");
      return;
    }
    q.use_period = 1;
  }
  /* the file is made aside, then read into the answer */
  char path[512] = "";
  FILE *f = NULL;
  if (fmt == KJ_TABLE_CSV) {
    f = tmpfile();
    q.fail = f ? kj_table_open_csv(&q.tb, f, q.t, &q.err)
               : kj_fail(&q.err, KJ_EIO, _("cannot make a temporary file: %s"), strerror(errno));
  } else {
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
      dir = getenv("TEMP");
    char id[KJ_UUID_STRLEN + 1] = "";
    if (kj_uuid_v7(id))
      q.fail = kj_fail(&q.err, KJ_EIO, _("cannot make a file name: no randomness"));
    else {
      snprintf(path, sizeof path, "%s/kinerja-export-%s.xlsx", dir && *dir ? dir : "/tmp", id);
      q.fail = kj_table_open_xlsx(&q.tb, path, q.t, &q.err);
    }
  }
  if (!q.fail) {
    kj_err e;
    kj_err_clear(&e);
    kj_code r = kjc_store_each(s, q.t->type, 0, export_row, &q, &e);
    if (r && !q.fail)
      q.fail = kj_fail(&q.err, r, "%s", e.msg);
  }
  kj_err ce;
  kj_err_clear(&ce);
  if (kj_table_close(q.tb, &ce) && !q.fail)
    q.fail = kj_fail(&q.err, ce.code, "%s", ce.msg);
  if (!q.fail && path[0] && !(f = fopen(path, "rb")))
    q.fail = kj_fail(&q.err, KJ_EIO, _("cannot read the xlsx file: %s"), strerror(errno));
  if (!q.fail && slurp(f, &resp->body))
    q.fail = kj_fail(&q.err, KJ_ETOOBIG, _("the export is too big to download: choose a period"));
  if (f)
    fclose(f);
  if (path[0])
    remove(path);
  if (q.fail) {
    kj_buf_reset(&resp->body);
    kjc_ui_reply_err(resp, 500, q.err.msg, "");
    return;
  }
  char disp[160];
  snprintf(disp, sizeof disp, "attachment; filename=\"%s_%s%s%s.%s\"", q.t->plural,
           kjc_store_office(s), period[0] ? "_" : "", period, format);
  resp->status = 200;
  resp->content_type = fmt == KJ_TABLE_XLSX
                           ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                           : "text/csv; charset=utf-8";
  kjh_security_headers(resp);
  kjh_response_header(resp, "Content-Disposition", disp);
  kjh_response_header(resp, "Cache-Control", "no-store");
}

/* ---- dispatch ------------------------------------------------------------ */

static int is(const kjh_request *req, const char *method, const char *path) {
  return !strcmp(req->method, method) && !strcmp(req->path, path);
}

static int refuse(kjh_response *resp, const char *msg) {
  kjc_ui_reply_err(resp, 403, msg, "");
  return 1;
}

int kjc_ui_data_api(kjc_ui *ui, const kjh_session *ss, const kjh_request *req, const cJSON *body,
                    kjh_response *resp) {
  int op = !strcmp(ss->role, "operator");
  if (!strcmp(req->path, "/api/ratings") && op)
    return refuse(resp, _("the operator does not rate anyone: each person signs in with "
                          "their NIP to rate"));
  if (is(req, "GET", "/api/ratings"))
    ratings_get(ui, ss, req, resp);
  else if (is(req, "POST", "/api/ratings"))
    ratings_post(ui, ss, body, resp);
  else if (is(req, "GET", "/api/targets"))
    targets_get(ui, ss, req, resp);
  else if (is(req, "POST", "/api/targets"))
    targets_post(ui, ss, body, resp);
  else if ((is(req, "POST", "/api/import") || is(req, "GET", "/api/export")) && !op)
    return refuse(resp, _("this page is for the operator"));
  else if (is(req, "POST", "/api/import"))
    import_post(ui, body, resp);
  else if (is(req, "GET", "/api/export"))
    export_get(ui, req, resp);
  else
    return 0;
  return 1;
}
