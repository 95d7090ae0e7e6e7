/* cmd_record.c - one record at a time: add, update, delete, show, approve,
 * reject.  Each write is one transaction: state + outbox row. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "i18n.h"
#include "person.h"
#include "review.h"
#include "rules.h"
#include "text.h"
#include "uuid.h"

/* The master-data warnings of one record (kjc_refs_*), held until its
 * write: said when it is stored, dropped when it is refused (the refusal
 * alone says what is wrong; an unknown nip is one message, not a warning
 * and a refusal). */
typedef struct held_warnings {
  const char *id;
  int n;
  char msg[8][640];
} held_warnings;

static void warn_cb(void *ud, const char *msg) {
  held_warnings *h = ud;
  if (h->n < (int)(sizeof h->msg / sizeof h->msg[0]))
    snprintf(h->msg[h->n++], sizeof h->msg[0], "%s", msg);
}

static void say_held(const held_warnings *h) {
  for (int i = 0; i < h->n; i++)
    kjc_warn(_("record '%s': %s"), h->id, h->msg[i]);
}

static void problem_cb(void *ud, const char *msg) {
  kjc_error("%s: %s", (const char *)ud, msg);
}

static void list_fields(const kj_type_def *t, char *out, size_t size) {
  size_t n = 0;
  out[0] = 0;
  for (int i = 0; i < t->nfields && n + 1 < size; i++)
    n += (size_t)snprintf(out + n, size - n, "%s%s", i ? ", " : "", t->fields[i].name);
}

/* FIELD=VALUE arguments into c.  An empty value is absent (add) or a clear
 * (update).  Returns 0 or an exit code. */
static int parse_assignments(const kj_type_def *t, kj_change *c, char **args, int n, int is_add) {
  for (int i = 0; i < n; i++) {
    char *eq = strchr(args[i], '=');
    if (!eq || eq == args[i]) {
      kjc_error(_("expected FIELD=VALUE, not '%s'"), args[i]);
      return KJC_EXIT_USAGE;
    }
    *eq = 0;
    const char *name = args[i], *value = eq + 1;
    if (!strcmp(name, t->id_name)) {
      if (!is_add) {
        kjc_error(_("the %s of a record cannot change"), t->id_name);
        return KJC_EXIT_USAGE;
      }
      kj_err err;
      kj_err_clear(&err);
      if (kj_record_validate_id(t->type, value, &err)) {
        kjc_error("%s: %s", t->name, err.msg);
        return KJC_EXIT_FAIL;
      }
      snprintf(c->rec.id, sizeof c->rec.id, "%s", value);
      continue;
    }
    int idx = kj_field_index(t, name);
    if (idx < 0) {
      char fields[512];
      list_fields(t, fields, sizeof fields);
      kjc_error(_("unknown field '%s' for %s (fields: %s)"), name, t->name, fields);
      return KJC_EXIT_USAGE;
    }
    if (!*value && is_add)
      continue;
    if (kj_record_set(&c->rec, idx, *value ? value : NULL)) {
      kjc_error(_("out of memory"));
      return KJC_EXIT_FAIL;
    }
    c->mask |= 1u << idx;
  }
  return 0;
}

/* Store change c (flags of kjc_store_write); 0, or KJC_EXIT_FAIL with the
 * message printed.  made_id: the id is one `add` made, never shown to the
 * user, so a refusal "rating ID: ..." is said as "rating: ..." (as the
 * import names the row instead of the id it made). */
static int write_change(kjc_store *s, kj_change *c, unsigned flags, int made_id) {
  kj_err err;
  kj_err_clear(&err);
  int res;
  kj_code code =
      kjc_store_write(s, c, flags | KJC_CHANGE_DIFF | KJC_CHANGE_NAME_RECORD, &res, &err);
  if (code) {
    const char *name = kj_type(c->rec.type)->name, *msg = err.msg;
    size_t lt = strlen(name), li = strlen(c->rec.id);
    if (made_id && !strncmp(msg, name, lt) && msg[lt] == ' ' &&
        !strncmp(msg + lt + 1, c->rec.id, li) && !strncmp(msg + lt + 1 + li, ": ", 2))
      kjc_error("%s: %s", name, msg + lt + 1 + li + 2);
    else
      kjc_error("%s", msg);
    return KJC_EXIT_FAIL;
  }
  return 0;
}

static const char add_help[] =
    N_("usage: kinerja add TYPE FIELD=VALUE ... [--as NIP]\n"
       "\n"
       "Validate and store a new record, print its id.  TYPE is survey, activity,\n"
       "complaint, rating or target (plural accepted); the fields are the CSV\n"
       "columns of the type.  id= may be given (a UUID), else a UUID v7 is made;\n"
       "office= defaults to this database's office.  A rating needs --as its rater.\n"
       "\n"
       "  --as NIP    the change is that person's (signs in with the PIN: asked,\n"
       "              or --pin-file FILE, or $KINERJA_PIN); else the author is\n"
       "              'operator'\n"
       "  --pin-file FILE  the PIN of --as is the first line of FILE\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja add survey date=2026-03-02 service=KTP-el u1=4 u2=3 u3=4 u4=4 \\\n"
       "           u5=3 u6=4 u7=4 u8=3 u9=4 sex=P\n");

/* --as NIP and --pin-file FILE of add, update, delete. */
#define AS_OPTS(as, pin_file)                                                                      \
  kjc_opt opts[] = {                                                                               \
      {"--as", 1, &(as), NULL}, {"--pin-file", 1, &(pin_file), NULL}, {NULL, 0, NULL, NULL}}

int kjc_cmd_add(int argc, char **argv) {
  const char *as = NULL, *pin_file = NULL;
  AS_OPTS(as, pin_file);
  char *pos[64];
  int npos, r = kjc_parse(argc, argv, opts, pos, 64, &npos, add_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos < 1) {
    kjc_error(_("add: expected TYPE FIELD=VALUE ... (see 'kinerja add --help')"));
    return KJC_EXIT_USAGE;
  }
  const kj_type_def *t = kjc_type_arg(pos[0], 1);
  if (!t)
    return KJC_EXIT_USAGE;
  if ((r = kjc_need_as(t, as, "add")))
    return r;
  kj_change c;
  kj_change_init(&c, t->type);
  kjc_store *s = NULL;
  int rc = parse_assignments(t, &c, pos + 1, npos - 1, 1);
  if (!rc)
    rc = kjc_open(&s, KJC_OPEN_WRITE);
  if (!rc && as)
    rc = kjc_sign_in(s, as, pin_file, c.author);
  if (rc)
    goto out;
  if (t->office_field >= 0 && !c.rec.v[t->office_field]) {
    kj_record_set(&c.rec, t->office_field, kjc_store_office(s));
    c.mask |= 1u << t->office_field;
  }
  int made_id = !c.rec.id[0];
  if (made_id && kj_uuid_v7(c.rec.id)) {
    kjc_error(_("cannot make an id: no randomness"));
    rc = KJC_EXIT_FAIL;
    goto out;
  }
  char what[KJ_ID_MAX + 32];
  snprintf(what, sizeof what, "%s", t->name);
  if (kj_record_check(&c.rec, problem_cb, what) > 0) {
    rc = KJC_EXIT_FAIL;
    goto out;
  }
  kjc_refs refs;
  kjc_refs_init(&refs, s);
  kj_err rerr;
  held_warnings held = {c.rec.id, 0, {{0}}};
  if (kjc_refs_service(&refs, &c.rec, warn_cb, &held, &rerr)) {
    kjc_error("%s", rerr.msg);
    kjc_refs_release(&refs);
    rc = KJC_EXIT_FAIL;
    goto out;
  }
  kjc_refs_check(&refs, &c.rec, warn_cb, &held);
  kjc_refs_release(&refs);
  rc = write_change(s, &c, KJC_CHANGE_NEW, made_id);
  if (!rc) {
    say_held(&held);
    printf("%s\n", c.rec.id);
  }
out:
  kjc_store_close(s);
  kj_change_release(&c);
  return rc;
}

/* The live office record id, or an error printed. */
static int load_live(kjc_store *s, const char *id, kj_rstate *st) {
  kj_err err;
  kj_err_clear(&err);
  kj_code c = kjc_record_get(s, KJ_T_NONE, id, st, &err);
  if (!c && st->rec.deleted)
    c = kj_fail(&err, KJ_ENOENT, _("record '%s' is deleted"), id);
  if (c) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_FAIL;
  }
  return 0;
}

static const char update_help[] =
    N_("usage: kinerja update ID FIELD=VALUE ... [--as NIP]\n"
       "\n"
       "Change fields of a record.  FIELD= with an empty value clears an optional\n"
       "field.  Updating a record the server rejected queues it again.\n"
       "\n"
       "  --as NIP    the change is that person's (signs in with the PIN: asked,\n"
       "              or --pin-file FILE, or $KINERJA_PIN); else the author is\n"
       "              'operator'\n"
       "  --pin-file FILE  the PIN of --as is the first line of FILE\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja update 0190c2a4-7d1e-7b3a-9c41-2f0e5d6a7b8c u3=2 comment=\n");

int kjc_cmd_update(int argc, char **argv) {
  const char *as = NULL, *pin_file = NULL;
  AS_OPTS(as, pin_file);
  char *pos[64];
  int npos, r = kjc_parse(argc, argv, opts, pos, 64, &npos, update_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos < 2) {
    kjc_error(_("update: expected ID FIELD=VALUE ... (see 'kinerja update --help')"));
    return KJC_EXIT_USAGE;
  }
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_WRITE)))
    return r;
  kj_rstate st;
  if ((r = load_live(s, pos[0], &st))) {
    kj_rstate_release(&st);
    kjc_store_close(s);
    return r;
  }
  const kj_type_def *t = kj_type(st.rec.type);
  kj_change c;
  kj_change_init(&c, t->type);
  snprintf(c.rec.id, sizeof c.rec.id, "%s", st.rec.id);
  kj_rstate_release(&st);
  r = parse_assignments(t, &c, pos + 1, npos - 1, 0);
  if (!r)
    r = kjc_need_as(t, as, "update");
  if (!r && as)
    r = kjc_sign_in(s, as, pin_file, c.author);
  if (!r) {
    kjc_refs refs;
    kjc_refs_init(&refs, s);
    kj_err rerr;
    held_warnings held = {c.rec.id, 0, {{0}}};
    if (kjc_refs_service(&refs, &c.rec, warn_cb, &held, &rerr)) {
      kjc_error("%s", rerr.msg);
      kjc_refs_release(&refs);
      r = KJC_EXIT_FAIL;
    } else {
      kjc_refs_check(&refs, &c.rec, warn_cb, &held);
      kjc_refs_release(&refs);
      r = write_change(s, &c, KJC_CHANGE_EXISTING, 0);
      if (!r)
        say_held(&held);
    }
  }
  kj_change_release(&c);
  kjc_store_close(s);
  return r;
}

static const char delete_help[] =
    N_("usage: kinerja delete ID [--as NIP]\n"
       "\n"
       "Delete a record.  The delete is a tombstone that syncs to the server; the\n"
       "record is gone from list, show and export.\n"
       "\n"
       "  --as NIP    the change is that person's (signs in with the PIN: asked,\n"
       "              or --pin-file FILE, or $KINERJA_PIN); else the author is\n"
       "              'operator'\n"
       "  --pin-file FILE  the PIN of --as is the first line of FILE\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja delete 0190c2a4-7d1e-7b3a-9c41-2f0e5d6a7b8c\n");

int kjc_cmd_delete(int argc, char **argv) {
  const char *as = NULL, *pin_file = NULL;
  AS_OPTS(as, pin_file);
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 1, &npos, delete_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos != 1) {
    kjc_error(_("delete: expected ID (see 'kinerja delete --help')"));
    return KJC_EXIT_USAGE;
  }
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_WRITE)))
    return r;
  kj_rstate st;
  if (!(r = load_live(s, pos[0], &st))) {
    kj_change c;
    kj_change_init(&c, st.rec.type);
    snprintf(c.rec.id, sizeof c.rec.id, "%s", st.rec.id);
    c.rec.deleted = 1;
    if (as)
      r = kjc_sign_in(s, as, pin_file, c.author);
    if (!r)
      r = write_change(s, &c, KJC_CHANGE_EXISTING, 0);
    kj_change_release(&c);
  }
  kj_rstate_release(&st);
  kjc_store_close(s);
  return r;
}

/* One value of `show`: the lines of a multi-line text one under the other
 * (indented to the value column), every control character but those line
 * breaks escaped (kj_term_fputs), so stored text never acts on the terminal. */
static void show_value(const char *v) {
  for (;;) {
    const char *nl = strchr(v, '\n');
    if (!nl) {
      kj_term_fputs(v, stdout);
      break;
    }
    char *line = kj_strndup(v, (size_t)(nl - v));
    kj_term_fputs(line ? line : "(out of memory)", stdout);
    free(line);
    printf("\n%-12s ", "");
    v = nl + 1;
  }
  putchar('\n');
}

static const char show_help[] =
    N_("usage: kinerja show ID [--json]\n"
       "\n"
       "Show one record: its fields and whether it waits for sync or was rejected.\n"
       "\n"
       "  --json      one JSON object on stdout\n"
       "  --db PATH   database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja show 0190c2a4-7d1e-7b3a-9c41-2f0e5d6a7b8c --json\n");

/* The review line of `show` in the user's language: rv is kjc_review_last's
 * "STATUS by NIP at this PC[: REASON]" (English, as --json keeps it); out
 * (n bytes) gets "ditolak oleh NIP di PC ini: REASON" in Indonesian.  A
 * line of another shape is copied as it is.  Returns out. */
static const char *review_words(const char *rv, char *out, size_t n) {
  const char *by = strstr(rv, " by "), *at = by ? strstr(by, " at this PC") : NULL;
  int rejected = !strncmp(rv, "rejected by ", 12), approved = !strncmp(rv, "approved by ", 12);
  if (!at || !(rejected || approved)) {
    snprintf(out, n, "%s", rv);
    return out;
  }
  const char *who = by + 4, *rest = at + strlen(" at this PC");
  int wn = (int)(at - who);
  snprintf(out, n,
           rejected ? _("rejected by %.*s at this PC%s") : _("approved by %.*s at this PC%s"), wn,
           who, rest);
  return out;
}

int kjc_cmd_show(int argc, char **argv) {
  int json = 0;
  kjc_opt opts[] = {{"--json", 0, NULL, &json}, {NULL, 0, NULL, NULL}};
  char *pos[1];
  int npos, r = kjc_parse(argc, argv, opts, pos, 1, &npos, show_help);
  if (r)
    return r < 0 ? 0 : r;
  if (npos != 1) {
    kjc_error(_("show: expected ID (see 'kinerja show --help')"));
    return KJC_EXIT_USAGE;
  }
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_READ)))
    return r;
  kj_rstate st;
  kj_err err;
  kj_err_clear(&err);
  kj_code c = kjc_record_get(s, KJ_T_NONE, pos[0], &st, &err);
  /* Master data can be looked at too. */
  for (int t = 0; c == KJ_ENOENT && t < KJ_T__COUNT; t++) {
    if (!kj_type((kj_rtype)t)->master)
      continue;
    kj_rstate_release(&st);
    kj_err_clear(&err);
    c = kjc_record_get(s, (kj_rtype)t, pos[0], &st, &err);
  }
  if (!c && st.rec.deleted)
    c = kj_fail(&err, KJ_ENOENT, _("no record '%s' (it was deleted)"), pos[0]);
  int pending = 0, rejected = 0;
  char *reason = NULL, *review = NULL;
  if (!c)
    c = kjc_record_outbox(s, st.rec.id, &pending, &rejected, &reason, &err);
  if (!c && st.rec.type == KJ_T_ACTIVITY)
    c = kjc_review_last(s, st.rec.id, &review, &err);
  if (c) {
    kjc_error("%s", err.msg);
    r = KJC_EXIT_FAIL;
  } else {
    int held = pending ? kjc_record_held(s, st.rec.id) : 0;
    const char *status = rejected                     ? N_("rejected")
                         : pending && held == pending ? N_("held")
                         : pending                    ? N_("pending")
                                                      : N_("synced");
    char said[1024]; /* the server's reason, a rule's in this language */
    const char *why = kj_refusal_reason(reason, said, sizeof said, NULL);
    if (json) {
      cJSON *o = kjc_record_json(&st.rec);
      cJSON_AddStringToObject(o, "sync", status);
      if (why)
        cJSON_AddStringToObject(o, "reason", why);
      if (review)
        cJSON_AddStringToObject(o, "review", review);
      kjc_print_json(o);
      cJSON_Delete(o);
    } else {
      const kj_type_def *t = kj_type(st.rec.type);
      printf("%-12s %s\n%-12s ", "type", t->name, t->id_name);
      kj_term_fputs(st.rec.id, stdout);
      putchar('\n');
      for (int i = 0; i < t->nfields; i++)
        if (st.rec.v[i]) {
          printf("%-12s ", t->fields[i].name);
          show_value(st.rec.v[i]);
        }
      if (review) {
        char words[2600];
        printf("%-12s ", "review");
        show_value(review_words(review, words, sizeof words));
      }
      printf("%-12s %s%s", "sync", _(status), why ? ": " : "");
      kj_term_fputs(why, stdout);
      putchar('\n');
    }
  }
  free(review);
  free(reason);
  kj_rstate_release(&st);
  kjc_store_close(s);
  return r;
}

/* approve and reject: the same text, each whole for the translators */
static const char approve_help[] =
    N_("usage: kinerja approve ID... --as NIP [--pin-file FILE]\n"
       "\n"
       "Approve activities as the approver NIP, signed in with their PIN (asked\n"
       "without echo, or the first line of --pin-file FILE, or $KINERJA_PIN): each\n"
       "gets status 'approved' and reviewed_by NIP, and the change has NIP as its\n"
       "author.  All of them are written in one transaction; one line per activity,\n"
       "then a summary.  An activity that cannot be approved is listed with the\n"
       "reason and left as it is (exit status 1); the others are stored.\n"
       "'kinerja list activity --status submitted' finds what waits.\n"
       "\n"
       "  --as NIP         the approver's 18-digit nip (required)\n"
       "  --pin-file FILE  the PIN is the first line of FILE\n"
       "  --db PATH        database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja approve 0190c2a4-7d1e-7b3a-9c41-2f0e5d6a7b8c --as 198001012005011001\n");
static const char reject_help[] =
    N_("usage: kinerja reject ID... --as NIP --reason TEXT [--pin-file FILE]\n"
       "\n"
       "Reject activities as the approver NIP, signed in with their PIN (asked\n"
       "without echo, or the first line of --pin-file FILE, or $KINERJA_PIN): each\n"
       "gets status 'rejected' and reviewed_by NIP, and the change has NIP as its\n"
       "author.  All of them are written in one transaction; one line per activity,\n"
       "then a summary.  An activity that cannot be rejected is listed with the\n"
       "reason and left as it is (exit status 1); the others are stored.\n"
       "'kinerja list activity --status submitted' finds what waits.\n"
       "\n"
       "  --as NIP         the approver's 18-digit nip (required)\n"
       "  --pin-file FILE  the PIN is the first line of FILE\n"
       "  --reason TEXT    why (required: the employee must learn it): printed, and\n"
       "                   kept on this PC with the review (shown by 'kinerja show\n"
       "                   ID'); it is not sent to the server\n"
       "  --db PATH        database file (default $KINERJA_DB, else ./kinerja.db)\n"
       "\n"
       "example: kinerja reject 0190c2a4-7d1e-7b3a-9c41-2f0e5d6a7b8c --as 198001012005011001 \\\n"
       "           --reason 'no evidence attached'\n");

/* One activity of approve/reject into the open transaction: 0 stored, 1
 * refused (line printed), -1 a store failure (message printed). */
static int review_one(kjc_store *s, const char *id, const char *status, const char *as,
                      const char *reason, int64_t now) {
  kj_rstate st;
  kj_err err;
  kj_err_clear(&err);
  int res, r = 0;
  kj_code c = kjc_review_activity(s, id, status, as, reason, now, &st, &res, &err);
  if (c == KJ_EINVAL || c == KJ_ENOENT || c == KJ_EEXIST) {
    /* the message names the record ("activity ID: ...", "no record 'ID'"):
     * the ID once on the line */
    if (strstr(err.msg, id) || (st.rec.id[0] && strstr(err.msg, st.rec.id)))
      printf(_("refused  %s\n"), err.msg);
    else
      printf(_("refused  %s: %s\n"), id, err.msg);
    r = 1;
    goto out;
  }
  if (c) {
    kjc_error("%s", err.msg);
    r = -1;
    goto out;
  }
  const char *v;
  printf("%-8s %s", _(status), st.rec.id);
  if ((v = kj_record_get(&st.rec, "nip")))
    printf("  %s", v);
  if ((v = kj_record_get(&st.rec, "date")))
    printf("  %s", v);
  if ((v = kj_record_get(&st.rec, "indicator"))) {
    putchar(' ');
    kj_term_fputs(v, stdout);
  }
  if ((v = kj_record_get(&st.rec, "quantity")))
    printf(" %s", v);
  if (res == KJC_WRITE_NOCHANGE)
    fputs(_(" (already so)"), stdout);
  putchar('\n');
out:
  kj_rstate_release(&st);
  return r;
}

static int review(int argc, char **argv, const char *status, const char *help) {
  const char *as = NULL, *by = NULL, *pin_file = NULL, *reason = NULL;
  int rejecting = !strcmp(status, "rejected");
  kjc_opt opts[] = {{"--as", 1, &as, NULL},
                    {"--pin-file", 1, &pin_file, NULL},
                    {"--by", 1, &by, NULL},
                    {rejecting ? "--reason" : NULL, 1, &reason, NULL},
                    {NULL, 0, NULL, NULL}};
  enum { MAXIDS = 10000 };
  char **pos = calloc(MAXIDS, sizeof *pos);
  if (!pos) {
    kjc_error(_("out of memory"));
    return KJC_EXIT_FAIL;
  }
  int npos, r = kjc_parse(argc, argv, opts, pos, MAXIDS, &npos, help);
  if (r) {
    free(pos);
    return r < 0 ? 0 : r;
  }
  if (by && !as) {
    kjc_error(_("%s: --by is gone: use --as NIP, which signs the approver in with their PIN"),
              argv[0]);
    free(pos);
    return KJC_EXIT_USAGE;
  }
  if (npos < 1 || !as) {
    kjc_error(_("%s: expected ID... --as NIP (see 'kinerja %s --help')"), argv[0], argv[0]);
    free(pos);
    return KJC_EXIT_USAGE;
  }
  /* the ASN must learn why (the office app's Persetujuan asks it too) */
  if (rejecting && (!reason || !*reason)) {
    kjc_error(_("reject: --reason TEXT is required: say why, so that the employee can correct "
                "the activity"));
    free(pos);
    return KJC_EXIT_USAGE;
  }
  if (reason) {
    static const kj_field_def def = {.name = "reason", .ft = KJ_FT_MTEXT, .min = 1, .max = 2000};
    kj_err e;
    kj_err_clear(&e);
    if (kj_field_validate(&def, reason, &e)) {
      kjc_error(_("%s: --reason: %s"), argv[0], e.msg + strlen("field 'reason': "));
      free(pos);
      return KJC_EXIT_USAGE;
    }
  }
  kjc_store *s;
  if ((r = kjc_open(&s, KJC_OPEN_WRITE))) {
    free(pos);
    return r;
  }
  char author[KJ_AUTHOR_MAX + 1];
  if ((r = kjc_sign_in(s, as, pin_file, author)))
    goto out;
  kj_err err;
  kj_err_clear(&err);
  if (kjc_store_begin(s, &err)) {
    kjc_error("%s", err.msg);
    r = KJC_EXIT_FAIL;
    goto out;
  }
  int64_t now = kjc_store_now_ms(s);
  int done = 0, refused = 0;
  for (int i = 0; i < npos; i++) {
    int k = review_one(s, pos[i], status, author, reason, now);
    if (k < 0) {
      kjc_store_rollback(s);
      kjc_error(_("nothing %s"), _(status));
      r = KJC_EXIT_FAIL;
      goto out;
    }
    if (k)
      refused++;
    else
      done++;
  }
  if (kjc_store_commit(s, &err)) {
    kjc_error(_("%s: nothing %s"), err.msg, _(status));
    r = KJC_EXIT_FAIL;
    goto out;
  }
  printf(_("%s %d of %d %s as %s"), _(status), done, npos,
         npos == 1 ? _("activity") : _("activities"), as);
  if (refused)
    printf(_("; %d refused"), refused);
  if (reason) {
    fputs(_("; reason: "), stdout);
    kj_term_fputs(reason, stdout);
  }
  putchar('\n');
  r = refused ? KJC_EXIT_FAIL : 0;
out:
  free(pos);
  kjc_store_close(s);
  return r;
}

int kjc_cmd_approve(int argc, char **argv) {
  return review(argc, argv, N_("approved"), approve_help);
}
int kjc_cmd_reject(int argc, char **argv) {
  return review(argc, argv, N_("rejected"), reject_help);
}
