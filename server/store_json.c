/* store_json.c - the store's listings as JSON for the command line and the
 * dashboard (kjs_store_token_list, _user_list, _history, _conflicts of
 * store.h): built here from the rows store.c returns (kjs_store_tokens,
 * _users, _history_rows, _conflict_rows, device_report_rows); the store
 * itself returns data. */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "store.h"

typedef struct list_ctx {
  cJSON *arr;
  kj_err *err;
} list_ctx;

static void add_text_or_null(cJSON *o, const char *k, const char *v) {
  if (v)
    cJSON_AddStringToObject(o, k, v);
  else
    cJSON_AddNullToObject(o, k);
}

static void add_ms_or_null(cJSON *o, const char *k, int has, int64_t v) {
  if (has)
    cJSON_AddNumberToObject(o, k, (double)v);
  else
    cJSON_AddNullToObject(o, k);
}

/* A new object at the end of x->arr, or NULL (err filled). */
static cJSON *row(list_ctx *x) {
  cJSON *o = cJSON_CreateObject();
  if (!o || !cJSON_AddItemToArray(x->arr, o)) {
    cJSON_Delete(o);
    kj_fail(x->err, KJ_ENOMEM, "out of memory");
    return NULL;
  }
  return o;
}

/* Run list(s, each, &x) into a new array *out (the caller deletes it). */
static kj_code collect(cJSON **out, kj_err *err, list_ctx *x) {
  *out = NULL;
  x->arr = cJSON_CreateArray();
  x->err = err;
  return x->arr ? KJ_OK : kj_fail(err, KJ_ENOMEM, "out of memory");
}

static kj_code finish(kj_code rc, cJSON **out, list_ctx *x) {
  if (rc)
    cJSON_Delete(x->arr);
  else
    *out = x->arr;
  return rc;
}

static kj_code token_json(void *ud, const kjs_db_token *t) {
  cJSON *o = row(ud);
  if (!o)
    return KJ_ENOMEM;
  add_text_or_null(o, "id", t->id);
  add_text_or_null(o, "role", t->role);
  add_text_or_null(o, "office", t->office);
  add_text_or_null(o, "name", t->name);
  cJSON_AddNumberToObject(o, "created", (double)t->created);
  add_ms_or_null(o, "revoked", t->has_revoked, t->revoked);
  add_ms_or_null(o, "last_seen", t->has_last_seen, t->last_seen);
  add_text_or_null(o, "enrolment", t->enrolment);
  return KJ_OK;
}

kj_code kjs_store_token_list(kjs_store *s, int devices_only, cJSON **out, kj_err *err) {
  list_ctx x;
  kj_code rc = collect(out, err, &x);
  return rc ? rc : finish(kjs_store_tokens(s, devices_only, token_json, &x, err), out, &x);
}

static kj_code user_json(void *ud, const kjs_db_user *u) {
  cJSON *o = row(ud);
  if (!o)
    return KJ_ENOMEM;
  add_text_or_null(o, "name", u->name);
  add_text_or_null(o, "role", u->role);
  cJSON_AddNumberToObject(o, "created", (double)u->created);
  add_ms_or_null(o, "last_login", u->has_last_login, u->last_login);
  return KJ_OK;
}

kj_code kjs_store_user_list(kjs_store *s, cJSON **out, kj_err *err) {
  list_ctx x;
  kj_code rc = collect(out, err, &x);
  return rc ? rc : finish(kjs_store_users(s, user_json, &x, err), out, &x);
}

static kj_code history_json(void *ud, const kjs_history_view *v) {
  list_ctx *x = ud;
  cJSON *o = row(x);
  if (!o)
    return KJ_ENOMEM;
  cJSON *ch = cJSON_Parse(v->change ? v->change : "");
  if (!cJSON_AddStringToObject(o, "made", v->made) ||
      !cJSON_AddNumberToObject(o, "made_at", (double)v->made_at) ||
      !cJSON_AddStringToObject(o, "when", v->when) ||
      !cJSON_AddNumberToObject(o, "at", (double)v->at) ||
      !cJSON_AddStringToObject(o, "type", v->type) ||
      !cJSON_AddStringToObject(o, "author", v->author) ||
      !cJSON_AddStringToObject(o, "device", v->device) ||
      !cJSON_AddStringToObject(o, "hlc", v->hlc) ||
      !cJSON_AddItemToObject(o, "change", ch ? ch : cJSON_CreateNull()))
    return kj_fail(x->err, KJ_ENOMEM, "out of memory");
  return KJ_OK;
}

kj_code kjs_store_history(kjs_store *s, const char *id, cJSON **out, kj_err *err) {
  list_ctx x;
  kj_code rc = collect(out, err, &x);
  return rc ? rc : finish(kjs_store_history_rows(s, id, history_json, &x, err), out, &x);
}

static kj_code conflict_json(void *ud, const kjs_conflict_view *v) {
  cJSON *o = row(ud);
  if (!o)
    return KJ_ENOMEM;
  cJSON_AddNumberToObject(o, "n", (double)v->n);
  add_text_or_null(o, "type", v->type);
  add_text_or_null(o, "id", v->id);
  add_text_or_null(o, "field", v->field);
  add_text_or_null(o, "loser", v->loser);
  if (v->loser_note)
    cJSON_AddStringToObject(o, "loser_note", v->loser_note);
  add_text_or_null(o, "winner", v->winner);
  if (v->winner_note)
    cJSON_AddStringToObject(o, "winner_note", v->winner_note);
  add_text_or_null(o, "loser_stamp", v->loser_stamp);
  add_text_or_null(o, "winner_stamp", v->winner_stamp);
  cJSON_AddNumberToObject(o, "at", (double)v->at);
  add_text_or_null(o, "when", v->when);
  add_text_or_null(o, "loser_author", v->loser_author);
  add_text_or_null(o, "loser_time", v->loser_time[0] ? v->loser_time : NULL);
  add_text_or_null(o, "winner_author", v->winner_author);
  add_text_or_null(o, "winner_time", v->winner_time[0] ? v->winner_time : NULL);
  return KJ_OK;
}

kj_code kjs_store_conflicts(kjs_store *s, cJSON **out, kj_err *err) {
  list_ctx x;
  kj_code rc = collect(out, err, &x);
  return rc ? rc : finish(kjs_store_conflict_rows(s, conflict_json, &x, err), out, &x);
}

static kj_code report_row(void *ud, const kjs_db_report *r) {
  list_ctx *x = ud;
  cJSON *o = cJSON_AddObjectToObject(x->arr, r->device ? r->device : "");
  if (!o)
    return kj_fail(x->err, KJ_ENOMEM, "out of memory");
  add_text_or_null(o, "version", r->version);
  cJSON_AddNumberToObject(o, "pending", (double)r->pending);
  cJSON_AddNumberToObject(o, "rejected", (double)r->rejected);
  cJSON_AddNumberToObject(o, "at", (double)r->at);
  return KJ_OK;
}

kj_code kjs_store_device_reports(kjs_store *s, cJSON **out, kj_err *err) {
  list_ctx x = {cJSON_CreateObject(), err};
  *out = NULL;
  if (!x.arr)
    return kj_fail(err, KJ_ENOMEM, "out of memory");
  kj_code rc = kjs_store_device_report_rows(s, report_row, &x, err);
  if (rc)
    cJSON_Delete(x.arr);
  else
    *out = x.arr;
  return rc;
}
