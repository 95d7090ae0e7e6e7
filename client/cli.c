/* cli.c - helpers shared by the kinerja commands (see cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "plat.h"
#include "suggest.h"
#include "text.h"

static const char *db_path_opt;

void kjc_set_db_path(const char *path) {
  db_path_opt = path;
}

const char *kjc_db_path(void) {
  if (db_path_opt && *db_path_opt)
    return db_path_opt;
  const char *e = getenv("KINERJA_DB");
  if (e && *e)
    return e;
  return kj_default_db(); /* ./kinerja.db; Windows: ProgramData (common/plat.h) */
}

/* prefix, then the message with control characters escaped (it may quote
 * a server's answer, a file name or a value), then a newline. */
static void vmessage(const char *prefix, const char *fmt, va_list ap) {
  char buf[1024], *text = buf;
  va_list aq;
  va_copy(aq, ap);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n >= (int)sizeof buf && (text = malloc((size_t)n + 1)) != NULL)
    vsnprintf(text, (size_t)n + 1, fmt, aq);
  else if (n >= (int)sizeof buf)
    text = buf; /* out of memory: the truncated message */
  va_end(aq);
  fputs(prefix, stderr);
  kj_term_fputs(n < 0 ? fmt : text, stderr);
  fputc('\n', stderr);
  if (text != buf)
    free(text);
}

void kjc_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage("kinerja: ", fmt, ap);
  va_end(ap);
}

void kjc_warn(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vmessage(_("kinerja: warning: "), fmt, ap);
  va_end(ap);
}

/* "unknown option", with the closest known option when there is one. */
static void unknown_option(const char *cmd, const char *a, size_t nlen, const kjc_opt *opts) {
  char typed[72];
  snprintf(typed, sizeof typed, "%.*s", (int)(nlen < 71 ? nlen : 71), a);
  const char *names[34] = {"--db", "--help"};
  size_t n = 2;
  for (const kjc_opt *o = opts; o && o->name && n < 34; o++)
    names[n++] = o->name;
  const char *meant = kj_suggest(typed, names, n);
  if (meant)
    kjc_error(_("%s: unknown option '%s' (did you mean '%s'?)"), cmd, typed, meant);
  else
    kjc_error(_("%s: unknown option '%s' (see 'kinerja %s --help')"), cmd, typed, cmd);
}

int kjc_parse(int argc, char **argv, const kjc_opt *opts, char **pos, int maxpos, int *npos,
              const char *help) {
  *npos = 0;
  int only_pos = 0;
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    if (only_pos || a[0] != '-' || a[1] != '-') {
      if (!only_pos && a[0] == '-' && a[1]) {
        kjc_error(_("%s: unknown option '%s' (see 'kinerja %s --help')"), argv[0], a, argv[0]);
        return KJC_EXIT_USAGE;
      }
      if (*npos >= maxpos) {
        kjc_error(_("%s: unexpected argument '%s' (see 'kinerja %s --help')"), argv[0], a, argv[0]);
        return KJC_EXIT_USAGE;
      }
      pos[(*npos)++] = a;
      continue;
    }
    if (!a[2]) { /* "--": the rest is positional */
      only_pos = 1;
      continue;
    }
    char *eq = strchr(a, '=');
    size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
    if (nlen == 6 && !strncmp(a, "--help", 6)) {
      fputs(_(help), stdout);
      return -1;
    }
    const char *val = eq ? eq + 1 : NULL;
    if (nlen == 4 && !strncmp(a, "--db", 4)) {
      if (!val) {
        if (i + 1 >= argc) {
          kjc_error(_("%s: option '--db' needs a value"), argv[0]);
          return KJC_EXIT_USAGE;
        }
        val = argv[++i];
      }
      kjc_set_db_path(val);
      continue;
    }
    const kjc_opt *o = opts;
    for (; o && o->name; o++)
      if (strlen(o->name) == nlen && !strncmp(a, o->name, nlen))
        break;
    if (!o || !o->name) {
      unknown_option(argv[0], a, nlen, opts);
      return KJC_EXIT_USAGE;
    }
    if (o->has_arg) {
      if (!val) {
        if (i + 1 >= argc) {
          kjc_error(_("%s: option '%s' needs a value"), argv[0], o->name);
          return KJC_EXIT_USAGE;
        }
        val = argv[++i];
      }
      *o->value = val;
    } else {
      if (val) {
        kjc_error(_("%s: option '%s' takes no value"), argv[0], o->name);
        return KJC_EXIT_USAGE;
      }
      *o->flag = 1;
    }
  }
  return 0;
}

int kjc_open(kjc_store **s, int flags) {
  kj_err err;
  kj_err_clear(&err);
  if (kjc_store_open(s, kjc_db_path(), flags, &err)) {
    kjc_error("%s", err.msg);
    return KJC_EXIT_FAIL;
  }
  return 0;
}

const kj_type_def *kjc_type_arg(const char *name, int office_only) {
  const kj_type_def *t = kj_type_by_name(name);
  if (!t) {
    kjc_error(_("unknown record type '%s' (survey, activity, complaint, rating, target)"), name);
    return NULL;
  }
  if (office_only && t->master) {
    kjc_error(_("'%s' is master data: it is maintained at the server and comes down by sync"),
              t->name);
    return NULL;
  }
  return t;
}

void kjc_refs_init(kjc_refs *r, kjc_store *s) {
  r->s = s;
  r->employees = -1;
  r->indicators = -1;
  r->services = NULL;
  r->nservices = -1;
}

void kjc_refs_release(kjc_refs *r) {
  for (long i = 0; i < r->nservices; i++)
    free(r->services[i]);
  free(r->services);
  r->services = NULL;
  r->nservices = -1;
}

static int collect_service(void *ud, const kj_rstate *st, const char *reason) {
  kjc_refs *r = ud;
  (void)reason;
  const char *office = kj_record_get(&st->rec, "office"), *name = kj_record_get(&st->rec, "name");
  if (!office || !name || strcmp(office, kjc_store_office(r->s)) != 0)
    return 0;
  char **n = realloc(r->services, (size_t)(r->nservices + 1) * sizeof *n);
  if (!n)
    return 1;
  r->services = n;
  if (!(n[r->nservices] = strdup(name)))
    return 1;
  r->nservices++;
  return 0;
}

/* qsort: service names in byte order (a plain, stable order for people:
 * one office's names are distinct, kj_service_id) */
static int by_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

kj_code kjc_refs_service(kjc_refs *r, kj_record *rec, void (*warn)(void *ud, const char *msg),
                         void *ud, kj_err *err) {
  const kj_type_def *t = kj_type(rec->type);
  int f = rec->type == KJ_T_SURVEY ? kj_field_index(t, "service") : -1;
  if (f < 0 || !rec->v[f] || rec->deleted)
    return KJ_OK;
  if (r->nservices < 0) {
    r->nservices = 0;
    kj_code c = kjc_store_each(r->s, KJ_T_SERVICE, 0, collect_service, r, err);
    if (c == KJ_EINTR) /* collect_service stopped: out of memory */
      c = kj_fail(err, KJ_ENOMEM, _("out of memory"));
    if (c) {
      kjc_refs_release(r);
      return c;
    }
    if (r->nservices > 1) /* listed by name in the warning, not in id order */
      qsort(r->services, (size_t)r->nservices, sizeof *r->services, by_name);
  }
  if (r->nservices == 0)
    return KJ_OK;
  const char *match = NULL, *closest = NULL;
  if (kj_service_resolve(rec->v[f], (const char *const *)r->services, (size_t)r->nservices, &match,
                         &closest) != KJ_OK)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  if (match) {
    if (strcmp(match, rec->v[f]) != 0 && kj_record_set(rec, f, match))
      return kj_fail(err, KJ_ENOMEM, _("out of memory"));
    return KJ_OK;
  }
  /* the closest only when it is near enough to be what was meant
   * (kj_suggest_near on the names' keys: "Paspor" is not "KTP-el"), else
   * the office's services */
  char msg[640];
  size_t lt = strlen(rec->v[f]), lc = closest ? strlen(closest) : 0;
  char *kt = malloc(lt + 1), *kc = malloc(lc + 1);
  int near = 0;
  if (kt && kc && closest) {
    kj_service_key(rec->v[f], kt);
    kj_service_key(closest, kc);
    near = kj_suggest_near(kt, kc);
  }
  free(kt);
  free(kc);
  if (near) {
    snprintf(msg, sizeof msg,
             _("field 'service': '%.200s' is not a service of office '%s' (closest: '%.200s'); "
               "stored as typed"),
             rec->v[f], kjc_store_office(r->s), closest);
  } else {
    char list[400];
    size_t used = 0;
    list[0] = 0;
    for (long i = 0; i < r->nservices; i++) {
      int w = snprintf(list + used, sizeof list - used, "%s'%s'", i ? ", " : "", r->services[i]);
      if (w < 0 || (size_t)w >= sizeof list - used) {
        snprintf(list + used, sizeof list - used, "%s", i ? ", ..." : "...");
        break;
      }
      used += (size_t)w;
    }
    snprintf(msg, sizeof msg,
             _("field 'service': '%.200s' is not a service of office '%s' (its services: %s); "
               "stored as typed"),
             rec->v[f], kjc_store_office(r->s), list);
  }
  warn(ud, msg);
  return KJ_OK;
}

static int ref_kind(const char *field) {
  static const char *const emp[] = {"nip", "reviewed_by", "rater", "ratee", "supervisor", NULL};
  for (int i = 0; emp[i]; i++)
    if (!strcmp(field, emp[i]))
      return KJ_T_EMPLOYEE;
  if (!strcmp(field, "indicator"))
    return KJ_T_INDICATOR;
  return KJ_T_NONE;
}

void kjc_refs_check(kjc_refs *r, const kj_record *rec, void (*warn)(void *ud, const char *msg),
                    void *ud) {
  const kj_type_def *t = kj_type(rec->type);
  if (t->master || rec->deleted)
    return;
  for (int i = 0; i < t->nfields; i++) {
    if (!rec->v[i])
      continue;
    int k = ref_kind(t->fields[i].name);
    if (k == KJ_T_NONE)
      continue;
    long *count = k == KJ_T_EMPLOYEE ? &r->employees : &r->indicators;
    if (*count < 0)
      *count = kjc_record_count(r->s, (kj_rtype)k);
    if (*count <= 0)
      continue;
    int exists;
    if (kjc_record_exists(r->s, (kj_rtype)k, rec->v[i], &exists) || exists)
      continue;
    char msg[384];
    if (k == KJ_T_EMPLOYEE)
      snprintf(msg, sizeof msg, _("field '%s': unknown employee '%s' (not in the roster)"),
               t->fields[i].name, rec->v[i]);
    else
      snprintf(msg, sizeof msg, _("field '%s': unknown indicator '%s' (not in the indicator list)"),
               t->fields[i].name, rec->v[i]);
    warn(ud, msg);
  }
}

const char *kjc_time_text(kjc_store *s, int64_t ms, char out[KJ_TIME_ZONE_STRLEN]) {
  kj_rstate st;
  const char *tz = NULL;
  if (kjc_record_get(s, KJ_T_OFFICE, kjc_store_office(s), &st, NULL) == KJ_OK)
    tz = kj_record_get(&st.rec, "timezone");
  kj_time_format_zone(ms, tz, out);
  kj_rstate_release(&st);
  return out;
}

cJSON *kjc_record_json(const kj_record *r) {
  const kj_type_def *t = kj_type(r->type);
  cJSON *o = cJSON_CreateObject();
  if (!o)
    return NULL;
  cJSON_AddStringToObject(o, t->id_name, r->id);
  cJSON_AddStringToObject(o, "type", t->name);
  for (int i = 0; i < t->nfields; i++)
    if (r->v[i])
      cJSON_AddStringToObject(o, t->fields[i].name, r->v[i]);
  return o;
}

void kjc_fputs_json(const char *text, FILE *out) {
  const unsigned char *p = (const unsigned char *)text;
  while (*p) {
    int n = *p < 0x80                  ? 1
            : *p >= 0xc2 && *p <= 0xdf ? 2
            : *p >= 0xe0 && *p <= 0xef ? 3
            : *p >= 0xf0 && *p <= 0xf4 ? 4
                                       : 0;
    char seq[5] = {0};
    for (int k = 0; k < n; k++)
      if (!(seq[k] = (char)p[k]))
        n = 0; /* cut short by the end of the text */
    if (n == 0 || kj_utf8_len(seq) != 1) {
      fputs("\\ufffd", out); /* not UTF-8: JSON cannot carry it */
      p++;
      continue;
    }
    unsigned cp = n == 2 ? ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu) : p[0];
    if (cp == 0x7f || (n == 2 && cp >= 0x80 && cp <= 0x9f))
      fprintf(out, "\\u%04x", cp); /* DEL and C1: cJSON writes them raw */
    else
      fwrite(p, 1, (size_t)n, out);
    p += n;
  }
}

void kjc_print_json(cJSON *doc) {
  char *text = doc ? cJSON_Print(doc) : NULL;
  if (text) {
    kjc_fputs_json(text, stdout);
    fputc('\n', stdout);
    cJSON_free(text);
  }
}
