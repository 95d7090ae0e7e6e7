/* import.c - a CSV file of office records into the store (import.h). */
#include "import.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cli.h"
#include "csvio.h"
#include "i18n.h"
#include "uuid.h"

#define IMPORT_META_PREFIX "import:"

typedef struct import_ctx {
  kjc_store *s;
  const kj_type_def *t;
  const kjc_import_opts *o;
  kjc_import_result *res;
  long line;
  kjc_refs refs;
  kj_change c;
  kj_err fatal; /* a store failure that stops the import (disk full ...) */
  int nheld;    /* the row's warnings, said once it is stored */
  char held[8][640];
} import_ctx;

static void say(import_ctx *x, long line, const char *msg, int warning) {
  if (x->o->line)
    x->o->line(x->o->ud, line, msg, warning);
}

/* A row's master-data warnings (kjc_refs_*) wait for its write: said when
 * the row is stored, dropped when it is refused (the refusal alone says
 * what is wrong: an unknown nip is one message, not a warning and a
 * refusal). */
static void row_warn(void *ud, const char *msg) {
  import_ctx *x = ud;
  if (x->nheld < (int)(sizeof x->held / sizeof x->held[0]))
    snprintf(x->held[x->nheld++], sizeof x->held[0], "%s", msg);
}

/* 1 after reporting the refusal when rec belongs to another office than
 * this PC's (its office is a valid code, or the row's problems say why not). */
static int other_office(import_ctx *x, long line, const kj_record *rec) {
  const char *office = kj_record_office(rec), *mine = kjc_store_office(x->s);
  if (!office || !strcmp(office, mine) || !kj_code_valid(office))
    return 0;
  char msg[256];
  snprintf(msg, sizeof msg, _("field 'office': '%s' is another office; this PC is office '%s'"),
           office, mine);
  say(x, line, msg, 0);
  return 1;
}

static int import_row(void *ud, long line, kj_record *rec, const char *const *problems,
                      int nproblems) {
  import_ctx *x = ud;
  x->line = line;
  int refused = other_office(x, line, rec);
  if (nproblems > 0 || refused) {
    for (int i = 0; i < nproblems; i++)
      say(x, line, problems[i], 0);
    x->res->bad++;
    return 0;
  }
  /* Move the row's values into the change (no copy). */
  kj_record_release(&x->c.rec);
  x->c.rec = *rec;
  kj_record_init(rec, x->t->type);
  x->c.mask = (x->t->nfields >= 32 ? 0xffffffffu : (1u << x->t->nfields) - 1);
  x->c.seq = 0;
  x->nheld = 0;
  int made_id = !x->c.rec.id[0];
  if (made_id && kj_uuid_v7(x->c.rec.id)) {
    kj_fail(&x->fatal, KJ_EIO, _("cannot make an id: no randomness"));
    return 1;
  }
  if (kjc_refs_service(&x->refs, &x->c.rec, row_warn, x, &x->fatal))
    return 1;
  kjc_refs_check(&x->refs, &x->c.rec, row_warn, x);
  kj_err err;
  kj_err_clear(&err);
  int res = 0;
  kj_code c = kjc_store_write(x->s, &x->c, KJC_CHANGE_DIFF, &res, &err);
  if (c == KJ_EINVAL || c == KJ_ENOENT || c == KJ_EEXIST) {
    /* "activity ID: nip ... is not on the roster": an id the import made
     * means nothing to the reader, the line names the row */
    const char *msg = err.msg;
    size_t lt = strlen(x->t->name), li = strlen(x->c.rec.id);
    if (made_id && !strncmp(msg, x->t->name, lt) && msg[lt] == ' ' &&
        !strncmp(msg + lt + 1, x->c.rec.id, li) && !strncmp(msg + lt + 1 + li, ": ", 2))
      msg += lt + 1 + li + 2;
    say(x, line, msg, 0);
    x->res->bad++;
    return 0;
  }
  if (c) {
    x->fatal = err;
    return 1;
  }
  for (int i = 0; i < x->nheld; i++)
    say(x, line, x->held[i], 1);
  if (res == KJC_WRITE_CREATED)
    x->res->created++;
  else if (res == KJC_WRITE_UPDATED)
    x->res->updated++;
  else
    x->res->unchanged++;
  return 0;
}

static int64_t now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* When the rows of digest were imported before: 1 with res->before_* set,
 * 0 when never, <0 on a database error (message in err). */
static int imported_before(kjc_store *s, const char *digest, kjc_import_result *res, kj_err *err) {
  char key[sizeof IMPORT_META_PREFIX + 64];
  char *v = NULL;
  snprintf(key, sizeof key, IMPORT_META_PREFIX "%s", digest);
  if (kjc_meta_get(s, key, &v, err))
    return -1;
  if (!v)
    return 0;
  char *end;
  res->before_ms = strtoll(v, &end, 10);
  if (*end == ' ')
    snprintf(res->before_file, sizeof res->before_file, "%s", end + 1);
  free(v);
  return 1;
}

static kj_code note_import(kjc_store *s, const char *digest, const char *fname, kj_err *err) {
  char key[sizeof IMPORT_META_PREFIX + 64];
  snprintf(key, sizeof key, IMPORT_META_PREFIX "%s", digest);
  size_t n = strlen(fname) + 32;
  char *v = malloc(n);
  if (!v)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  snprintf(v, n, "%" PRId64 " %s", now_ms(), fname);
  kj_code c = kjc_meta_set(s, key, v, err);
  free(v);
  return c;
}

/* What kj_csv_info_describe says (proto/csvio.c, shared with kinerjad,
 * which stays English), in the user's language: the spreadsheet variants
 * the scan saw, comma-separated, into out[n] ("" for canonical CSV). */
static void read_as_words(const kj_csv_info *info, char *out, size_t n) {
  const char *parts[4];
  int k = 0;
  if (info->sep == ';')
    parts[k++] = _("';'-separated");
  if (info->dates_dmy)
    parts[k++] = _("dates DD/MM/YYYY");
  if (info->decimal_comma)
    parts[k++] = _("decimal commas");
  if (info->header_case)
    parts[k++] = _("column names in any letter case");
  size_t used = 0;
  out[0] = 0;
  for (int i = 0; i < k; i++) {
    int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "", parts[i]);
    if (w < 0 || (size_t)w >= n - used)
      break;
    used += (size_t)w;
  }
}

kj_code kjc_import(kjc_store *s, const kj_type_def *t, FILE *f, const char *fname,
                   const kjc_import_opts *opts, kjc_import_result *res, kj_err *err) {
  memset(res, 0, sizeof *res);
  import_ctx x;
  memset(&x, 0, sizeof x);
  x.s = s;
  x.t = t;
  x.o = opts;
  x.res = res;
  kjc_refs_init(&x.refs, s);
  kj_change_init(&x.c, t->type);
  if (opts->author && opts->author[0])
    snprintf(x.c.author, sizeof x.c.author, "%s", opts->author);
  kj_csv_info info;
  /* First look: the variants, the header, and whether these rows came before. */
  kj_code c = kj_csv_read_info(f, fname, t, kjc_store_office(s), NULL, NULL, &info, err);
  if (!c) {
    read_as_words(&info, res->read_as, sizeof res->read_as);
    int seen = opts->again ? 0 : imported_before(s, info.digest, res, err);
    if (seen < 0) {
      c = err->code ? err->code : KJ_EDB;
    } else if (seen) {
      res->seen_before = 1;
      kj_change_release(&x.c);
      kjc_refs_release(&x.refs);
      return KJ_OK;
    }
    if (!c && fseek(f, 0, SEEK_SET) != 0)
      c = kj_fail(err, KJ_EIO, _("cannot read '%s' again: %s"), fname, strerror(errno));
  }
  if (!c)
    c = kjc_store_begin(s, err);
  if (!c) {
    c = kj_csv_read_info(f, fname, t, kjc_store_office(s), import_row, &x, &info, err);
    if (x.fatal.code) {
      *err = x.fatal;
      c = x.fatal.code;
    }
    if (!c && !(opts->strict && res->bad) && res->created + res->updated + res->unchanged > 0)
      c = note_import(s, info.digest, fname, err);
    if (c || (opts->strict && res->bad)) {
      kjc_store_rollback(s);
    } else {
      c = kjc_store_commit(s, err);
      res->stored = !c;
    }
  }
  kj_change_release(&x.c);
  kjc_refs_release(&x.refs);
  return c;
}
