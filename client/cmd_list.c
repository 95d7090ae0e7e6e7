/* cmd_list.c - `kinerja list` and `kinerja export`: records out, streamed. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "csvio.h"
#include "i18n.h"
#include "rules.h"
#include "text.h"

typedef struct list_ctx {
  int json;
  long n;
  kjc_store *s;
  /* activity filters (NULL = any): status (absent means submitted), nip,
   * date from..to inclusive (YYYY-MM-DD compares as text) */
  const char *status, *nip, *from, *to;
} list_ctx;

static int filtered_out(const list_ctx *l, const kj_record *r) {
  const char *st = kj_record_get(r, "status"), *nip = kj_record_get(r, "nip");
  const char *date = kj_record_get(r, "date");
  return (l->status && strcmp(st ? st : "submitted", l->status) != 0) ||
         (l->nip && (!nip || strcmp(nip, l->nip) != 0)) ||
         (l->from && (!date || strcmp(date, l->from) < 0)) ||
         (l->to && (!date || strcmp(date, l->to) > 0));
}

/* A value on the list line: as is when it has no space or quote, else in
 * double quotes with \" for a quote; control characters (old data, master
 * data, a pull) and backslashes are escaped by kj_term_escape, so nothing
 * in a value acts on the terminal. */
static void print_value(const char *v) {
  if (strpbrk(v, " \"") == NULL && *v) {
    kj_term_fputs(v, stdout);
    return;
  }
  size_t need = kj_term_escape(v, NULL, 0);
  char *esc = malloc(need + 1);
  if (!esc) {
    fputs("\"(out of memory)\"", stdout);
    return;
  }
  kj_term_escape(v, esc, need + 1);
  putchar('"');
  for (const char *p = esc; *p; p++) {
    if (*p == '"')
      putchar('\\');
    putchar(*p);
  }
  putchar('"');
  free(esc);
}

static int list_row(void *ud, const kj_rstate *st, const char *kept) {
  list_ctx *l = ud;
  if (filtered_out(l, &st->rec))
    return 0;
  char said[1024]; /* the server's reason, a rule's in this language */
  const char *reason = kj_refusal_reason(kept, said, sizeof said, NULL);
  int pending = 0;
  kjc_record_outbox(l->s, st->rec.id, &pending, NULL, NULL, NULL);
  int held = pending ? kjc_record_held(l->s, st->rec.id) : 0;
  const char *status = reason                       ? N_("rejected")
                       : pending && held == pending ? N_("held")
                       : pending                    ? N_("pending")
                                                    : N_("synced");
  if (l->json) {
    cJSON *o = kjc_record_json(&st->rec);
    if (st->rec.deleted)
      cJSON_AddTrueToObject(o, "deleted");
    cJSON_AddStringToObject(o, "sync", status);
    if (reason)
      cJSON_AddStringToObject(o, "reason", reason);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    fputs(l->n ? ",\n  " : "\n  ", stdout);
    kjc_fputs_json(text ? text : "null", stdout);
    cJSON_free(text);
  } else {
    const kj_type_def *t = kj_type(st->rec.type);
    kj_term_fputs(st->rec.id, stdout);
    for (int i = 0; i < t->nfields; i++) {
      if (!st->rec.v[i] || (int)i == t->office_field)
        continue;
      printf(" %s=", t->fields[i].name);
      print_value(st->rec.v[i]);
    }
    if (st->rec.deleted)
      fputs(_(" [deleted]"), stdout);
    if (reason) {
      fputs(_(" [rejected: "), stdout);
      kj_term_fputs(reason, stdout);
      putchar(']');
    } else if (pending) {
      printf(" [%s]", _(status)); /* JSON keeps the English word */
    }
    putchar('\n');
  }
  l->n++;
  return 0;
}

/* Targets are listed by period, employee and indicator, then id (they
 * carry no date, and their ids' order says only who entered them first on
 * which PC), services by name, then id (their ids are a hash of office and
 * name: kj_service_id): gathered, sorted, then said by list_row. */
typedef struct gathered_row {
  kj_rstate st; /* rec copied; stamps unused by list_row */
  char *reason; /* the kept rejection, or NULL */
} gathered_row;

typedef struct gathered_rows {
  gathered_row *v;
  size_t n, cap;
  int oom;
} gathered_rows;

static int gather_row(void *ud, const kj_rstate *st, const char *kept) {
  gathered_rows *g = ud;
  if (g->n == g->cap) {
    size_t cap = g->cap ? 2 * g->cap : 64;
    gathered_row *v = realloc(g->v, cap * sizeof *v);
    if (!v)
      return g->oom = 1;
    g->v = v;
    g->cap = cap;
  }
  gathered_row *row = &g->v[g->n];
  memset(row, 0, sizeof *row);
  if (kj_record_copy(&row->st.rec, &st->rec))
    return g->oom = 1;
  if (kept && !(row->reason = strdup(kept))) {
    kj_record_release(&row->st.rec);
    return g->oom = 1;
  }
  g->n++;
  return 0;
}

static int cmp_field(const gathered_row *a, const gathered_row *b, const char *field) {
  const char *x = kj_record_get(&a->st.rec, field), *y = kj_record_get(&b->st.rec, field);
  return strcmp(x ? x : "", y ? y : "");
}

static int by_target_key(const void *pa, const void *pb) {
  const gathered_row *a = pa, *b = pb;
  int c;
  if ((c = cmp_field(a, b, "period")) || (c = cmp_field(a, b, "nip")) ||
      (c = cmp_field(a, b, "indicator")))
    return c;
  return strcmp(a->st.rec.id, b->st.rec.id);
}

/* Services by name (byte order), then id. */
static int by_service_name(const void *pa, const void *pb) {
  const gathered_row *a = pa, *b = pb;
  int c = cmp_field(a, b, "name");
  return c ? c : strcmp(a->st.rec.id, b->st.rec.id);
}

/* The records of type t (flags of kjc_store_each) through list_row, in
 * the order of cmp. */
static kj_code list_sorted(list_ctx *l, kj_rtype t, int (*cmp)(const void *, const void *),
                           unsigned flags, kj_err *err) {
  gathered_rows g = {NULL, 0, 0, 0};
  kj_code c = kjc_store_each(l->s, t, flags, gather_row, &g, err);
  if (g.oom)
    c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
  if (!c) {
    if (g.n)
      qsort(g.v, g.n, sizeof *g.v, cmp);
    for (size_t i = 0; i < g.n; i++)
      list_row(l, &g.v[i].st, g.v[i].reason);
  }
  for (size_t i = 0; i < g.n; i++) {
    kj_record_release(&g.v[i].st.rec);
    free(g.v[i].reason);
  }
  free(g.v);
  return c;
}

/* A rejected record without a local state (a moved notice dropped it):
 * listed with --rejected, so that status and list count the same. */
static int list_orphan(void *ud, kj_rtype t, const char *id, const char *kept) {
  list_ctx *l = ud;
  char said[1024];
  const char *reason = kj_refusal_reason(kept, said, sizeof said, NULL);
  if (l->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "type", kj_type(t)->name);
    cJSON_AddFalseToObject(o, "here");
    cJSON_AddStringToObject(o, "sync", "rejected");
    if (reason)
      cJSON_AddStringToObject(o, "reason", reason);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    fputs(l->n ? ",\n  " : "\n  ", stdout);
    kjc_fputs_json(text ? text : "null", stdout);
    cJSON_free(text);
  } else {
    kj_term_fputs(id, stdout);
    printf(_(" (%s, no longer at this office) [rejected: "), kj_type(t)->name);
    kj_term_fputs(reason ? reason : "", stdout);
    fputs("]\n", stdout);
  }
  l->n++;
  return 0;
}

static const char list_help[] =
    N_("usage: kinerja list [TYPE] [--pending] [--rejected] [--json]\n"
       "       kinerja list activity [--status S] [--nip NIP] [--from D] [--to D]\n"
       "\n"
       "List the live records of TYPE (survey, activity, complaint, rating, target,\n"
       "or the master data: office, employee, indicator, service), oldest first;\n"
       "targets by period, employee (nip) and indicator, services by name.\n"
       "\n"
       "  --pending   only records with changes not yet pushed to the server\n"
       "  --rejected  only records the server rejected, with its reason (deleted\n"
       "              ones and ones no longer at this office too; 'kinerja update ID'\n"
       "              sends one again, 'kinerja discard ID' drops its changes)\n"
       "  --json      one JSON array on stdout\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "activities only:\n"
       "  --status S  draft, submitted, approved or rejected (what waits for an\n"
       "              approver: --status submitted)\n"
       "  --nip NIP   of this employee\n"
       "  --from D, --to D  dated from / up to D (YYYY-MM-DD, inclusive)\n"
       "\n"
       "Without TYPE, --pending and --rejected list every office record type.\n"
       "\n"
       "example: kinerja list activity --status submitted --from 2026-03-01\n");

int kjc_cmd_list(int argc, char **argv) {
  int json = 0, pending = 0, rejected = 0;
  const char *fstatus = NULL, *fnip = NULL, *ffrom = NULL, *fto = NULL;
  kjc_opt opts[] = {{"--json", 0, NULL, &json},
                    {"--pending", 0, NULL, &pending},
                    {"--rejected", 0, NULL, &rejected},
                    {"--status", 1, &fstatus, NULL},
                    {"--nip", 1, &fnip, NULL},
                    {"--from", 1, &ffrom, NULL},
                    {"--to", 1, &fto, NULL},
                    {NULL, 0, NULL, NULL}};
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 1, &npos, list_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos != 1 && !rejected && !pending) {
    kjc_error(_("list: expected TYPE (see 'kinerja list --help')"));
    return KJC_EXIT_USAGE;
  }
  /* Without TYPE, --pending / --rejected list every office type. */
  const kj_type_def *only = NULL;
  if (npos == 1 && !(only = kjc_type_arg(pos[0], 0)))
    return KJC_EXIT_USAGE;
  if (fstatus || fnip || ffrom || fto) {
    const kj_type_def *a = kj_type(KJ_T_ACTIVITY);
    const char *names[] = {"status", "nip", "date", "date"}, *vals[] = {fstatus, fnip, ffrom, fto};
    const char *opt[] = {"--status", "--nip", "--from", "--to"};
    if (!a || only != a) {
      kjc_error(_("list: --status, --nip, --from and --to are for 'list activity'"));
      return KJC_EXIT_USAGE;
    }
    for (int i = 0; i < 4; i++) {
      kj_err e;
      kj_err_clear(&e);
      if (vals[i] && kj_field_validate(&a->fields[kj_field_index(a, names[i])], vals[i], &e)) {
        kjc_error(_("list: %s: %s"), opt[i], e.msg);
        return KJC_EXIT_USAGE;
      }
    }
  }
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_READ)))
    return r;
  list_ctx l = {json, 0, s, fstatus, fnip, ffrom, fto};
  unsigned flags =
      (pending ? KJC_EACH_PENDING : 0) | (rejected ? KJC_EACH_REJECTED | KJC_EACH_DELETED : 0);
  kj_err err;
  kj_err_clear(&err);
  kj_code c = KJ_OK;
  if (json)
    fputs("[", stdout);
  for (int t = 0; t < KJ_T__COUNT && !c; t++) {
    if (only ? only->type != (kj_rtype)t : kj_type((kj_rtype)t)->master)
      continue;
    c = t == KJ_T_TARGET    ? list_sorted(&l, KJ_T_TARGET, by_target_key, flags, &err)
        : t == KJ_T_SERVICE ? list_sorted(&l, KJ_T_SERVICE, by_service_name, flags, &err)
                            : kjc_store_each(s, (kj_rtype)t, flags, list_row, &l, &err);
    if (!c && rejected && !pending)
      c = kjc_outbox_orphans(s, (kj_rtype)t, list_orphan, &l, &err);
  }
  if (json)
    fputs(l.n ? "\n]\n" : "]\n", stdout);
  kjc_store_close(s);
  if (c) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_FAIL;
  }
  return 0;
}

typedef struct export_ctx {
  int json;
  long n;
  kj_code err;
} export_ctx;

static int export_row(void *ud, const kj_rstate *st, const char *reason) {
  export_ctx *x = ud;
  (void)reason;
  if (x->json) {
    cJSON *o = kjc_record_json(&st->rec);
    cJSON_DeleteItemFromObjectCaseSensitive(o, "type");
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    fputs(x->n ? ",\n  " : "\n  ", stdout);
    kjc_fputs_json(text ? text : "null", stdout);
    cJSON_free(text);
  } else if ((x->err = kj_csv_write_record(stdout, &st->rec))) {
    return 1;
  }
  x->n++;
  return 0;
}

static const char export_help[] =
    N_("usage: kinerja export TYPE [--format csv|json]\n"
       "\n"
       "Write the live records of TYPE to stdout in the CSV format of the import\n"
       "(header row, RFC 4180 quoting), or as a JSON array.  import -> export ->\n"
       "import changes nothing.\n"
       "\n"
       "  --format F  csv (default) or json\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja export survey > surveys.csv\n");

int kjc_cmd_export(int argc, char **argv) {
  const char *format = "csv";
  kjc_opt opts[] = {{"--format", 1, &format, NULL}, {NULL, 0, NULL, NULL}};
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 1, &npos, export_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos != 1) {
    kjc_error(_("export: expected TYPE (see 'kinerja export --help')"));
    return KJC_EXIT_USAGE;
  }
  int json = !strcmp(format, "json");
  if (!json && strcmp(format, "csv") != 0) {
    kjc_error(_("export: unknown format '%s' (csv or json)"), format);
    return KJC_EXIT_USAGE;
  }
  const kj_type_def *t = kjc_type_arg(pos[0], 0);
  if (!t)
    return KJC_EXIT_USAGE;
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_READ)))
    return r;
  export_ctx x = {json, 0, KJ_OK};
  kj_err err;
  kj_err_clear(&err);
  kj_code c = json ? KJ_OK : kj_csv_write_header(stdout, t);
  if (json)
    fputs("[", stdout);
  if (!c)
    c = kjc_store_each(s, t->type, 0, export_row, &x, &err);
  if (json)
    fputs(x.n ? "\n]\n" : "]\n", stdout);
  kjc_store_close(s);
  if (c || x.err || fflush(stdout) != 0 || ferror(stdout)) {
    kjc_error(_("export: %s"), err.msg[0] ? err.msg : "cannot write to stdout");
    return KJC_EXIT_FAIL;
  }
  return 0;
}
