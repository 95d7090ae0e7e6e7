/* csvio.c - the CSV files of domain.md with libcsv.
 *
 * libcsv calls back once per cell (cell_cb) and once per row end (row_cb).
 * It does not say where it is in the file, so the line numbers come from
 * counting: a row ends on a CR or LF and spans one line plus the line breaks
 * inside its quoted cells; with CSV_REPALL_NL every other CR or LF is
 * reported as an empty row, which is a blank line unless it is the LF of a
 * CRLF.  The cells of one row live in one buffer that is reset per row, so
 * memory is bounded by the longest row (and libcsv's buffer by the longest
 * cell, which kj__csv_realloc caps).
 */
#include "csvio.h"

#include <csv.h>
#include <mbedtls/sha256.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "date.h"
#include "i18n.h"
#include "suggest.h"
#include "text.h"

#define CELL_MAX (1u << 20) /* one cell */
#define ROW_MAX (4u << 20)  /* one row, all cells */
#define MAX_CELLS 256       /* cells kept per row; more is a problem */
#define MAX_PROBLEMS 40
#define CHUNK 65536

enum { COL_ID = -2, COL_NONE = -1 };

typedef struct reader {
  const kj_type_def *t;
  const char *fname;
  const char *default_office;
  kj_csv_row_fn fn;
  void *ud;
  kj_err *err;
  kj_code rc;  /* first error; parsing stops */
  int stopped; /* the callback asked to stop */

  long line;     /* physical line where the next row starts */
  long row_line; /* line where the current row started */
  long row_nl;   /* line breaks inside the current row's cells */
  int last_term; /* terminator of the previous row end, 0 = none */
  int header_done;

  kj_buf cells;          /* the current row's cells, NUL-separated */
  size_t off[MAX_CELLS]; /* offset of each cell in cells */
  int ncells;            /* cells seen (may exceed MAX_CELLS) */
  int nul_in;            /* index + 1 of a cell that held a NUL byte */
  int overflow;          /* the row was too long */

  int *cols; /* header: column -> field index, COL_ID */
  int ncols;
  int has_id;

  char sep;                   /* ',' or ';': from the header line */
  kj_csv_info *info;          /* what the file looked like */
  mbedtls_sha256_context sha; /* digest of the rows as read */
} reader;

/* libcsv's buffer grows with the longest cell: refuse past CELL_MAX. */
static void *kj__csv_realloc(void *p, size_t n) {
  if (n > CELL_MAX + 16)
    return NULL;
  return realloc(p, n);
}

static long count_breaks(const char *s, size_t len) {
  long n = 0;
  for (size_t i = 0; i < len; i++) {
    /* LF, or a CR not followed by LF (a CRLF counts once) */
    if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n')))
      n++;
  }
  return n;
}

static void cell_cb(void *s, size_t len, void *data) {
  reader *r = data;
  if (r->rc || r->stopped)
    return;
  if (r->ncells == 0)
    r->row_line = r->line;
  const char *p = s ? s : "";
  r->row_nl += count_breaks(p, len);
  int i = r->ncells++;
  if (i >= MAX_CELLS || r->overflow)
    return;
  if (memchr(p, '\0', len) && !r->nul_in)
    r->nul_in = i + 1;
  r->off[i] = r->cells.len;
  if (kj_buf_add(&r->cells, p, len) || kj_buf_addc(&r->cells, '\0')) {
    r->overflow = 1; /* kj_buf freed the contents */
  }
}

/* "FILE:1: unknown column 'x' (did you mean 'y'?); the columns of
 * activities.csv are id,office,..." */
static kj_code unknown_column(reader *r, const char *name) {
  const kj_type_def *t = r->t;
  const char *names[KJ_MAX_FIELDS + 1];
  char list[KJ_ERR_MSG_MAX];
  size_t used = 0;
  names[0] = t->id_name;
  for (int i = 0; i < t->nfields; i++)
    names[i + 1] = t->fields[i].name;
  list[0] = '\0';
  for (int i = 0; i <= t->nfields; i++) {
    int w = snprintf(list + used, sizeof list - used, "%s%s", i ? "," : "", names[i]);
    if (w < 0 || (size_t)w >= sizeof list - used)
      break;
    used += (size_t)w;
  }
  const char *meant = kj_suggest(name, names, (size_t)t->nfields + 1);
  char hint[80] = "";
  if (meant)
    snprintf(hint, sizeof hint, " (did you mean '%s'?)", meant);
  return kj_fail(r->err, KJ_EINVAL,
                 _("%s:1: unknown column '%.40s'%s; the columns of %s.csv are %s"), r->fname, name,
                 hint, t->plural, list);
}

static kj_code header_row(reader *r) {
  int n = r->ncells;
  if (n > MAX_CELLS || r->overflow)
    return kj_fail(r->err, KJ_EINVAL, _("%s:1: too many columns"), r->fname);
  r->cols = calloc((size_t)(n ? n : 1), sizeof(int));
  if (!r->cols)
    return kj_fail(r->err, KJ_ENOMEM, _("out of memory"));
  r->ncols = n;
  for (int i = 0; i < n; i++) {
    char *name = r->cells.data + r->off[i];
    int col;
    if (!*name)
      return kj_fail(r->err, KJ_EINVAL, _("%s:1: column %d has no name"), r->fname, i + 1);
    /* headers in any letter case (domain.md "CSV files"): "NIP", "Tanggal" */
    for (char *p = name; *p; p++)
      if (*p >= 'A' && *p <= 'Z') {
        *p = (char)(*p + ('a' - 'A'));
        r->info->header_case = 1;
      }
    if (strcmp(name, r->t->id_name) == 0)
      col = COL_ID;
    else if ((col = kj_field_index(r->t, name)) < 0)
      return unknown_column(r, name);
    for (int j = 0; j < i; j++)
      if (r->cols[j] == col)
        return kj_fail(r->err, KJ_EINVAL, _("%s:1: duplicate column '%s'"), r->fname, name);
    r->cols[i] = col;
    if (col == COL_ID)
      r->has_id = 1;
  }
  return KJ_OK;
}

typedef struct problems {
  const char *skip[KJ_MAX_FIELDS + 1]; /* drop "field 'NAME': ..." of these names */
  int nskip;
  kj_buf text; /* NUL-separated messages */
  size_t off[MAX_PROBLEMS];
  int n;
} problems;

/* 1 when msg is "field 'NAME': ..." for a name in p->skip. */
static int skipped(const problems *p, const char *msg) {
  const char *mark = _("field '"); /* the rules' messages are translated (i18n.h) */
  size_t m = strlen(mark);
  if (strncmp(msg, mark, m) != 0)
    return 0;
  for (int i = 0; i < p->nskip; i++) {
    size_t len = strlen(p->skip[i]);
    if (strncmp(msg + m, p->skip[i], len) == 0 && msg[m + len] == '\'')
      return 1;
  }
  return 0;
}

static void skip_field(problems *p, const char *name) {
  if (p->nskip < KJ_MAX_FIELDS + 1)
    p->skip[p->nskip++] = name;
}

static void add_problem(void *ud, const char *msg) {
  problems *p = ud;
  if (p->n >= MAX_PROBLEMS || skipped(p, msg))
    return;
  size_t at = p->text.len;
  if (kj_buf_adds(&p->text, msg) || kj_buf_addc(&p->text, '\0'))
    return;
  p->off[p->n++] = at;
}

static void add_problemf(problems *p, const char *fmt, ...) KJ_PRINTF(2, 3);
static void add_problemf(problems *p, const char *fmt, ...) {
  kj_err e;
  va_list ap;
  va_start(ap, fmt);
  kj_vfail(&e, KJ_EINVAL, fmt, ap);
  va_end(ap);
  add_problem(p, e.msg);
}

/* Turn every CRLF of s into LF, in place. */
static void crlf_to_lf(char *s) {
  char *w = s;
  for (const char *p = s; *p; p++)
    if (!(p[0] == '\r' && p[1] == '\n'))
      *w++ = *p;
  *w = '\0';
}

/* A number a spreadsheet showed in scientific notation: "1.98E+17",
 * "1,98E+17" (Indonesian), "2E5". */
static int scientific(const char *s) {
  const char *p = s;
  if (*p == '+' || *p == '-')
    p++;
  if (*p < '0' || *p > '9')
    return 0;
  while (*p >= '0' && *p <= '9')
    p++;
  if (*p == '.' || *p == ',') {
    p++;
    if (*p < '0' || *p > '9')
      return 0;
    while (*p >= '0' && *p <= '9')
      p++;
  }
  if (*p != 'e' && *p != 'E')
    return 0;
  p++;
  if (*p == '+' || *p == '-')
    p++;
  if (*p < '0' || *p > '9')
    return 0;
  while (*p >= '0' && *p <= '9')
    p++;
  return *p == '\0';
}

/* Digits n1..n2 long at *p, advanced past them; the value, -1 when not. */
static int digits(const char **p, int n1, int n2) {
  int v = 0, n = 0;
  while (**p >= '0' && **p <= '9' && n < n2) {
    v = v * 10 + (**p - '0');
    (*p)++;
    n++;
  }
  return n >= n1 && !(**p >= '0' && **p <= '9') ? v : -1;
}

/* A date written D/M/YYYY or DD/MM/YYYY (day first, as Indonesia writes
 * it) as YYYY-MM-DD in out; 0, or -1 when s is not such a real date. */
static int dmy_to_iso(const char *s, char out[11]) {
  const char *p = s;
  int d = digits(&p, 1, 2);
  if (d < 0 || *p++ != '/')
    return -1;
  int m = digits(&p, 1, 2);
  if (m < 0 || *p++ != '/')
    return -1;
  int y = digits(&p, 4, 4);
  if (y < 0 || *p)
    return -1;
  snprintf(out, 11, "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
  return kj_date_parse(out, NULL) == 0 ? 0 : -1;
}

/* A plain decimal with a decimal comma ("0,5", "12,25"): 1 and the comma
 * made a point in place, else 0. */
static int decimal_comma(char *s) {
  char *c = strchr(s, ',');
  if (!c || c == s || !c[1])
    return 0;
  for (char *p = s; *p; p++)
    if (p != c && (*p < '0' || *p > '9'))
      return 0;
  *c = '.';
  return 1;
}

/* Feed one row to the digest: type, id, then every field as \1 value \0
 * (present) or \0 (absent); values hold no NUL, so this is unambiguous. */
static void digest_row(reader *r, const kj_record *rec) {
  mbedtls_sha256_update_ret(&r->sha, (const unsigned char *)rec->id, strlen(rec->id) + 1);
  for (int i = 0; i < r->t->nfields; i++) {
    if (rec->v[i]) {
      mbedtls_sha256_update_ret(&r->sha, (const unsigned char *)"\1", 1);
      mbedtls_sha256_update_ret(&r->sha, (const unsigned char *)rec->v[i], strlen(rec->v[i]) + 1);
    } else {
      mbedtls_sha256_update_ret(&r->sha, (const unsigned char *)"", 1);
    }
  }
}

static kj_code data_row(reader *r) {
  kj_record rec;
  problems pr = {.n = 0};
  kj_buf_init(&pr.text, KJ_BUF_UNLIMITED);
  kj_record_init(&rec, r->t->type);
  kj_code rc = KJ_OK;
  int id_problem = 0;

  if (r->overflow) {
    add_problemf(&pr, _("row is longer than %u bytes"), ROW_MAX);
  } else {
    int kept = r->ncells < MAX_CELLS ? r->ncells : MAX_CELLS;
    for (int i = 0; i < kept; i++) {
      char *cell = r->cells.data + r->off[i];
      const char *v = cell;
      if (i >= r->ncols) {
        if (*v) {
          add_problemf(&pr, _("row has %d cells, the header %d"), r->ncells, r->ncols);
          break;
        }
        continue;
      }
      if (!*v)
        continue; /* empty cell = absent */
      v = kj_csv_unguard(v);
      int col = r->cols[i];
      /* the spreadsheet variants of domain.md "CSV files", by field type */
      const kj_field_def *fd = col >= 0 ? &r->t->fields[col] : NULL;
      const char *fname = col >= 0 ? fd->name : r->t->id_name;
      kj_ftype ft = col >= 0 ? fd->ft : r->t->type == KJ_T_EMPLOYEE ? KJ_FT_NIP : KJ_FT_CODE;
      char iso[11];
      if ((ft == KJ_FT_NIP || ft == KJ_FT_INT || ft == KJ_FT_NUM) && scientific(v)) {
        /* one message for the cell: its field's own rule is skipped */
        if (ft == KJ_FT_NIP)
          add_problemf(&pr,
                       _("field '%s': %.40s is not a NIP: the spreadsheet turned the NIP into a "
                         "number and lost its last digits; format the column as text and type "
                         "the NIPs again"),
                       fname, v);
        else
          add_problemf(&pr,
                       _("field '%s': %.40s is a number in scientific notation (a spreadsheet "
                         "rounded it): format the column as text and export again"),
                       fname, v);
        skip_field(&pr, fname);
        if (col == COL_ID)
          id_problem = 1;
      } else if (ft == KJ_FT_DATE && strchr(v, '/')) {
        if (dmy_to_iso(v, iso) == 0) {
          v = iso;
          r->info->dates_dmy++;
        } else {
          add_problemf(&pr, _("field '%s': must be a date DD/MM/YYYY (day first) or YYYY-MM-DD"),
                       fname);
          skip_field(&pr, fname);
        }
      } else if (ft == KJ_FT_NUM && decimal_comma(cell + (v - cell))) {
        r->info->decimal_comma++; /* v points into cell, our buffer */
      }
      /* a line break written CRLF inside a multi-line cell is a line break:
       * CR is a control character (domain.md "Records"), LF is not */
      if (col >= 0 && r->t->fields[col].ft == KJ_FT_MTEXT && strstr(v, "\r\n"))
        crlf_to_lf(cell + (v - cell)); /* v points into cell, our buffer */
      if (col == COL_ID) {
        if (strlen(v) > KJ_ID_MAX) {
          kj_err e;
          kj_record_validate_id(r->t->type, v, &e);
          add_problem(&pr, e.msg);
          id_problem = 1;
        } else {
          memcpy(rec.id, v, strlen(v) + 1);
        }
      } else if (kj_record_set(&rec, col, v)) {
        rc = kj_fail(r->err, KJ_ENOMEM, _("out of memory"));
        goto out;
      }
    }
    if (r->ncells > MAX_CELLS)
      add_problemf(&pr, _("row has %d cells, the header %d"), r->ncells, r->ncols);
    if (r->nul_in && r->nul_in <= r->ncols) {
      int c = r->cols[r->nul_in - 1];
      add_problemf(&pr, _("field '%s': must not contain a NUL byte"),
                   c == COL_ID ? r->t->id_name : r->t->fields[c].name);
    }
  }
  /* An all-empty row (",,,," from a spreadsheet) holds nothing: skip it. */
  int empty = !rec.id[0] && !id_problem && pr.n == 0;
  for (int i = 0; i < r->t->nfields && empty; i++)
    empty = rec.v[i] == NULL;
  if (empty)
    goto out;

  int of = r->t->office_field;
  if (of >= 0 && !rec.v[of] && r->default_office && *r->default_office &&
      kj_record_set(&rec, of, r->default_office)) {
    rc = kj_fail(r->err, KJ_ENOMEM, _("out of memory"));
    goto out;
  }
  /* a service's id comes from its office and name */
  if (!id_problem && kj_record_derive_id(&rec)) {
    rc = kj_fail(r->err, KJ_ENOMEM, _("out of memory"));
    goto out;
  }
  /* The id rule is skipped when the id was reported already, and for an
   * empty id of an office record (the caller makes one). */
  if (id_problem || (!rec.id[0] && (!r->t->master || r->t->type == KJ_T_SERVICE)))
    skip_field(&pr, r->t->id_name);
  r->info->rows++;
  digest_row(r, &rec);
  if (!r->fn)
    goto out; /* a scan: the digest and the variants only */
  kj_record_check(&rec, add_problem, &pr);
  pr.nskip = 0;

  const char *msgs[MAX_PROBLEMS];
  for (int i = 0; i < pr.n; i++)
    msgs[i] = pr.text.data + pr.off[i];
  if (r->fn(r->ud, r->row_line, &rec, msgs, pr.n))
    r->stopped = 1;
out:
  kj_record_release(&rec);
  kj_buf_release(&pr.text);
  return rc;
}

static void row_cb(int c, void *data) {
  reader *r = data;
  if (r->rc || r->stopped)
    return;
  if (r->ncells == 0) {
    /* a CR or LF outside a row: the LF of a CRLF, or a blank line */
    if (!(c == '\n' && r->last_term == '\r'))
      r->line++;
    r->last_term = c == '\n' && r->last_term == '\r' ? 0 : c;
    return;
  }
  if (!r->header_done) {
    r->header_done = 1;
    r->rc = header_row(r);
  } else {
    r->rc = data_row(r);
  }
  r->line = r->row_line + r->row_nl + 1;
  r->last_term = c;
  r->row_nl = 0;
  r->ncells = 0;
  r->nul_in = 0;
  r->overflow = 0;
  kj_buf_reset(&r->cells);
}

static kj_code parse_error(reader *r, struct csv_parser *p) {
  int e = csv_error(p);
  long at = r->ncells ? r->row_line : r->line;
  if (e == CSV_ENOMEM || e == CSV_ETOOBIG)
    return kj_fail(r->err, KJ_ETOOBIG, _("%s:%ld: a cell is longer than %u bytes"), r->fname, at,
                   CELL_MAX);
  return kj_fail(r->err, KJ_EINVAL,
                 _("%s:%ld: bad quoting: a quoted cell must end with '\"' "
                   "before the next '%c' or line end"),
                 r->fname, at, r->sep);
}

/* The separator of a file: ';' when its header line (the first line that
 * is not blank, within the first n bytes) holds more ';' than ',' outside
 * quotes, else ','. */
static char detect_sep(const char *s, size_t n) {
  long commas = 0, semis = 0;
  int quoted = 0;
  size_t i = 0;
  while (i < n && (s[i] == '\n' || s[i] == '\r'))
    i++;
  for (; i < n; i++) {
    char c = s[i];
    if (c == '"')
      quoted = !quoted;
    else if (!quoted && (c == '\n' || c == '\r'))
      break;
    else if (!quoted && c == ',')
      commas++;
    else if (!quoted && c == ';')
      semis++;
  }
  return semis > commas ? ';' : ',';
}

const char *kj_csv_info_describe(const kj_csv_info *info, char *out, size_t n) {
  const char *parts[4];
  int k = 0;
  if (!n)
    return out;
  out[0] = '\0';
  if (!info)
    return out;
  if (info->sep == ';')
    parts[k++] = "';'-separated";
  if (info->dates_dmy)
    parts[k++] = "dates DD/MM/YYYY";
  if (info->decimal_comma)
    parts[k++] = "decimal commas";
  if (info->header_case)
    parts[k++] = "column names in any letter case";
  size_t used = 0;
  for (int i = 0; i < k; i++) {
    int w = snprintf(out + used, n - used, "%s%s", i ? ", " : "", parts[i]);
    if (w < 0 || (size_t)w >= n - used)
      break;
    used += (size_t)w;
  }
  return out;
}

kj_code kj_csv_read(FILE *f, const char *fname, const kj_type_def *t, const char *default_office,
                    kj_csv_row_fn fn, void *ud, kj_err *err) {
  return kj_csv_read_info(f, fname, t, default_office, fn, ud, NULL, err);
}

kj_code kj_csv_read_info(FILE *f, const char *fname, const kj_type_def *t,
                         const char *default_office, kj_csv_row_fn fn, void *ud, kj_csv_info *info,
                         kj_err *err) {
  struct csv_parser p;
  reader r;
  kj_csv_info local;
  memset(&r, 0, sizeof(r));
  if (!info)
    info = &local;
  memset(info, 0, sizeof *info);
  info->sep = ',';
  r.t = t;
  r.fname = fname ? fname : "-";
  r.default_office = default_office;
  r.fn = fn;
  r.ud = ud;
  r.err = err;
  r.line = 1;
  r.sep = ',';
  r.info = info;
  kj_buf_init(&r.cells, ROW_MAX);
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL | CSV_APPEND_NULL) != 0)
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  csv_set_realloc_func(&p, kj__csv_realloc);
  csv_set_blk_size(&p, 4096); /* libcsv grows its cell buffer by this much */

  char *buf = malloc(CHUNK);
  if (!buf) {
    csv_free(&p);
    return kj_fail(err, KJ_ENOMEM, _("out of memory"));
  }
  mbedtls_sha256_init(&r.sha);
  mbedtls_sha256_starts_ret(&r.sha, 0);
  mbedtls_sha256_update_ret(&r.sha, (const unsigned char *)t->name, strlen(t->name) + 1);
  int first = 1;
  size_t n;
  while (!r.rc && !r.stopped && (n = fread(buf, 1, CHUNK, f)) > 0) {
    const char *s = buf;
    if (first) {
      first = 0;
      if (n >= 3 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb &&
          (unsigned char)s[2] == 0xbf) {
        s += 3;
        n -= 3;
      }
      r.sep = info->sep = detect_sep(s, n);
      csv_set_delim(&p, (unsigned char)r.sep);
    }
    if (csv_parse(&p, s, n, cell_cb, row_cb, &r) != n && !r.rc && !r.stopped)
      r.rc = parse_error(&r, &p);
  }
  if (!r.rc && !r.stopped && ferror(f))
    r.rc = kj_fail(err, KJ_EIO, _("cannot read '%s'"), r.fname);
  if (!r.rc && !r.stopped && csv_fini(&p, cell_cb, row_cb, &r) != 0 && !r.rc)
    r.rc = parse_error(&r, &p);
  if (!r.rc && !r.stopped && !r.header_done)
    r.rc = kj_fail(err, KJ_EINVAL, _("%s:1: no header row"), r.fname);
  unsigned char h[32];
  mbedtls_sha256_finish_ret(&r.sha, h);
  mbedtls_sha256_free(&r.sha);
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < 32; i++) {
    info->digest[2 * i] = hex[h[i] >> 4];
    info->digest[2 * i + 1] = hex[h[i] & 15];
  }
  info->digest[64] = '\0';
  free(buf);
  csv_free(&p);
  free(r.cols);
  kj_buf_release(&r.cells);
  if (r.rc)
    return r.rc;
  if (r.stopped)
    return kj_fail(err, KJ_EINTR, _("%s: stopped"), r.fname);
  return KJ_OK;
}

/* ---- writing ------------------------------------------------------------ */

/* Plain when nothing in v needs quotes and libcsv would keep it as is. */
static int needs_quotes(const char *v) {
  size_t n = strlen(v);
  if (n == 0)
    return 0;
  if (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t')
    return 1;
  return strpbrk(v, ",\"\r\n") != NULL;
}

int kj_csv_guard_needed(const char *v) {
  if (!v)
    return 0;
  while (*v == '\'')
    v++;
  return kj_csv_formula_trigger(v);
}

const char *kj_csv_unguard(const char *s) {
  return s && s[0] == '\'' && kj_csv_guard_needed(s + 1) ? s + 1 : s;
}

/* 0, KJ_EIO on a write error, KJ_ENOMEM. */
static kj_code put_cell(FILE *f, const char *v, int first) {
  if (!first && fputc(',', f) == EOF)
    return KJ_EIO;
  if (!v || !*v)
    return KJ_OK;
  char *guarded = NULL;
  if (kj_csv_guard_needed(v)) {
    size_t n = strlen(v);
    if (!(guarded = malloc(n + 2)))
      return KJ_ENOMEM;
    guarded[0] = '\'';
    memcpy(guarded + 1, v, n + 1);
    v = guarded;
  }
  int bad = needs_quotes(v) ? csv_fwrite(f, v, strlen(v)) != 0 : fputs(v, f) == EOF;
  free(guarded);
  return bad ? KJ_EIO : KJ_OK;
}

kj_code kj_csv_write_header(FILE *f, const kj_type_def *t) {
  kj_code bad = put_cell(f, t->id_name, 1);
  for (int i = 0; i < t->nfields && !bad; i++)
    bad = put_cell(f, t->fields[i].name, 0);
  if (!bad && fputc('\n', f) == EOF)
    bad = KJ_EIO;
  return bad;
}

kj_code kj_csv_write_record(FILE *f, const kj_record *r) {
  const kj_type_def *t = kj_type(r->type);
  if (!t)
    return KJ_EINVAL;
  kj_code bad = put_cell(f, r->id, 1);
  for (int i = 0; i < t->nfields && !bad; i++)
    bad = put_cell(f, r->v[i], 0);
  if (!bad && fputc('\n', f) == EOF)
    bad = KJ_EIO;
  return bad;
}
